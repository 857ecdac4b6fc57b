//! The fake upstream as a server: the listener, one task per connection (HTTP/1.1 and HTTP/2,
//! TCP_NODELAY set), the current script with its per-plan call counters, the call records and
//! the shutdown path. Every task it spawns — including hyper's HTTP/2 stream tasks — is tracked
//! and ends on shutdown. It must not decide answers; `handler` does.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::record::{Call, Recorder};
use crate::script::{Reply, Script};

/// A scripted fake upstream on a real socket, speaking all four dialects.
///
/// Shut it down with [`FakeUpstream::shutdown`] to wait until every task has ended; dropping
/// it starts the same shutdown without waiting.
#[derive(Debug)]
pub struct FakeUpstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tracker: TaskTracker,
}

/// What the connection tasks share with the handle.
#[derive(Debug)]
pub(crate) struct Shared {
    script: Mutex<Current>,
    pub(crate) recorder: Arc<Recorder>,
    /// Cancelled once, on shutdown; every task and body listens to it.
    pub(crate) shutdown: CancellationToken,
    /// Calls being answered per credential, for [`Reply::capacity`].
    occupancy: Mutex<HashMap<String, usize>>,
    /// Calls refused for being over capacity.
    over_capacity: AtomicU64,
}

/// A call's place under its credential's capacity; freed when the response body is dropped.
#[derive(Debug)]
pub(crate) struct Seat {
    shared: Arc<Shared>,
    key: String,
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut occupancy = self
            .shared
            .occupancy
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = occupancy.get_mut(&self.key) {
            *n = n.saturating_sub(1);
        }
    }
}

/// The script in force and how many calls each of its plans has answered.
#[derive(Debug)]
struct Current {
    script: Arc<Script>,
    /// Keyed by the credential whose plan answered, `None` for the default plan.
    answered: HashMap<Option<String>, u64>,
}

impl Shared {
    /// A seat for a call presenting `credential` when fewer than `capacity` calls with it are
    /// being answered; `None` (and one more refusal counted) when it is full.
    pub(crate) fn take_seat(
        self: &Arc<Self>,
        credential: Option<&str>,
        capacity: usize,
    ) -> Option<Seat> {
        let key = credential.unwrap_or_default().to_owned();
        let mut occupancy = self
            .occupancy
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let n = occupancy.entry(key.clone()).or_insert(0);
        if *n >= capacity {
            self.over_capacity.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *n += 1;
        Some(Seat {
            shared: Arc::clone(self),
            key,
        })
    }

    /// The reply for the next call presenting `credential`, and the script it came from.
    pub(crate) fn select(&self, credential: Option<&str>) -> (Reply, Arc<Script>) {
        let mut guard = self.script.lock().unwrap_or_else(PoisonError::into_inner);
        let current = &mut *guard;
        let key = credential
            .filter(|c| current.script.credentials.contains_key(*c))
            .map(str::to_owned);
        let plan = match &key {
            Some(credential) => current.script.credentials.get(credential),
            None => None,
        }
        .unwrap_or(&current.script.default);
        let answered = current.answered.entry(key).or_insert(0);
        let reply = plan.reply_for(*answered).clone();
        *answered += 1;
        (reply, current.script.clone())
    }
}

impl FakeUpstream {
    /// Starts a fake upstream on `127.0.0.1:0`.
    ///
    /// # Panics
    /// When no loopback port can be bound, which leaves a test nothing to do.
    pub async fn start(script: Script) -> FakeUpstream {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        FakeUpstream::bind(loopback, script)
            .await
            .expect("the fake upstream binds an ephemeral loopback port")
    }

    /// Starts a fake upstream on `addr`.
    pub async fn bind(addr: SocketAddr, script: Script) -> io::Result<FakeUpstream> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            script: Mutex::new(Current {
                script: Arc::new(script),
                answered: HashMap::new(),
            }),
            recorder: Arc::new(Recorder::new()),
            shutdown: CancellationToken::new(),
            occupancy: Mutex::new(HashMap::new()),
            over_capacity: AtomicU64::new(0),
        });
        let tracker = TaskTracker::new();
        tracker.spawn(accept(listener, shared.clone(), tracker.clone()));
        Ok(FakeUpstream {
            addr,
            shared,
            tracker,
        })
    }

    /// `http://127.0.0.1:PORT`, the base URL to configure (append `/v1` where a client's base
    /// URL includes it; every path suffix is accepted under any prefix).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces the script; every plan starts counting its calls again.
    pub fn set_script(&self, script: Script) {
        let mut current = self
            .shared
            .script
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        current.script = Arc::new(script);
        current.answered.clear();
    }

    /// Every recorded call, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.recorder.calls()
    }

    /// How many recorded calls have `path_substring` in their path.
    pub fn count(&self, path_substring: &str) -> usize {
        self.shared
            .recorder
            .count(|call| call.path.contains(path_substring))
    }

    /// How many recorded calls presented `credential`.
    pub fn count_for(&self, credential: &str) -> usize {
        self.shared.recorder.count(|call| {
            call.credential
                .as_ref()
                .is_some_and(|c| c.value == credential)
        })
    }

    /// How many calls were refused with a 429 for arriving over [`Reply::capacity`].
    pub fn over_capacity(&self) -> u64 {
        self.shared.over_capacity.load(Ordering::Relaxed)
    }

    /// Waits until at least `calls` calls have arrived (their heads and bodies read), so a test
    /// can act on a call in flight without sleeping.
    pub async fn wait_for_calls(&self, calls: usize) {
        self.shared.recorder.wait_for(calls as u64).await;
    }

    /// Stops accepting, ends hung calls, lets responses in flight finish without their scripted
    /// waits, closes idle connections, and returns once every task has ended. The call records
    /// stay readable afterwards.
    pub async fn shutdown(&self) {
        self.shared.shutdown.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        // The tasks notice the token and end on their own; nobody is left to wait for them.
        self.shared.shutdown.cancel();
        self.tracker.close();
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>, tracker: TaskTracker) {
    loop {
        let accepted = tokio::select! {
            () = shared.shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(_) => {
                // Out of descriptors or a connection reset before accept: back off briefly
                // rather than spin, and keep serving.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        // Without it Nagle's algorithm holds small SSE frames back behind delayed ACKs.
        // Failing to set it changes timing only, never answers, so it is not fatal.
        let _ = stream.set_nodelay(true);
        tracker.spawn(serve(stream, shared.clone(), tracker.clone()));
    }
}

/// Serves one connection until the client closes it or the fake shuts down.
async fn serve(stream: TcpStream, shared: Arc<Shared>, tracker: TaskTracker) {
    let shutdown = shared.shutdown.clone();
    let service = service_fn(move |request| crate::handler::handle(shared.clone(), request));
    let builder = auto::Builder::new(Tracked(tracker));
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        // A connection error is the client's business (it hung up); nothing to report.
        _ = connection.as_mut() => return,
        () = shutdown.cancelled() => {}
    }
    connection.as_mut().graceful_shutdown();
    let _ = connection.await;
}

/// Runs hyper's background futures (HTTP/2 streams) on the fake's task tracker, so they too
/// have an owner that waits for them on shutdown.
#[derive(Clone, Debug)]
struct Tracked(TaskTracker);

impl<F> hyper::rt::Executor<F> for Tracked
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        self.0.spawn(future);
    }
}
