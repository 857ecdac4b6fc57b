//! The batching usage writer: request tasks hand records to a bounded channel; one task
//! gathers them into batches and writes each batch to a sink (the store) off the request path.
//!
//! Records are sent when a request has finished answering its client, so waiting for channel
//! space (backpressure when storage falls behind) never delays a byte to a client, and no
//! record is ever dropped for lack of room. A failed write is retried with backoff, keeping
//! the batch. When every sender is gone (shutdown), the writer drains what is queued, writes
//! it and ends; the owner awaits its handle before exiting.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::usage::UsageRecord;

/// Where batches go (the store, or a test's vector).
pub trait UsageSink: Send + Sync + 'static {
    fn write(&self, batch: &[UsageRecord]) -> impl Future<Output = Result<(), String>> + Send;
}

#[derive(Debug, Clone, Copy)]
pub struct WriterConfig {
    /// Records queued before senders wait.
    pub capacity: usize,
    /// Largest batch written at once.
    pub max_batch: usize,
    /// How long a partial batch may wait for company.
    pub flush_interval: Duration,
    /// Attempts per batch during shutdown before giving up on it (retries are unlimited while
    /// running).
    pub shutdown_attempts: u32,
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            capacity: 16_384,
            max_batch: 512,
            flush_interval: Duration::from_millis(200),
            shutdown_attempts: 5,
        }
    }
}

/// Counters for metrics and tests.
#[derive(Debug, Default)]
pub struct WriterStats {
    pub written: AtomicU64,
    pub batches: AtomicU64,
    pub failed_writes: AtomicU64,
    /// Records given up on at shutdown because storage stayed down.
    pub lost: AtomicU64,
}

/// The sending side, cloned into every request task.
#[derive(Debug, Clone)]
pub struct UsageHandle {
    tx: mpsc::Sender<UsageRecord>,
    stats: Arc<WriterStats>,
}

impl UsageHandle {
    /// Queues a record: a queue with room takes it at once, before this returns; a full one
    /// (storage behind) makes the returned future wait for room. Fails only once the writer
    /// has stopped, which happens after every handle is dropped.
    pub fn record(&self, record: UsageRecord) -> impl Future<Output = ()> + '_ {
        // Every request awaits this: a `send` future kept inline made each request's own
        // future about a kilobyte larger, so the wait for room is boxed and built only when
        // there is one.
        let wait = match self.tx.try_send(record) {
            Ok(()) => None,
            Err(mpsc::error::TrySendError::Full(record)) => Some(Box::pin(self.tx.send(record))),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.stats.lost.fetch_add(1, Ordering::Relaxed);
                None
            }
        };
        async move {
            if let Some(wait) = wait {
                if wait.await.is_err() {
                    self.stats.lost.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    pub fn stats(&self) -> &Arc<WriterStats> {
        &self.stats
    }

    /// Records waiting to be written.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }
}

/// Starts the writer task. It ends after every `UsageHandle` is dropped and the queue is
/// written.
pub fn spawn<S: UsageSink>(sink: S, config: WriterConfig) -> (UsageHandle, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(config.capacity.max(1));
    let stats = Arc::new(WriterStats::default());
    let handle = UsageHandle {
        tx,
        stats: stats.clone(),
    };
    let task = tokio::spawn(run(sink, rx, config, stats));
    (handle, task)
}

async fn run<S: UsageSink>(
    sink: S,
    mut rx: mpsc::Receiver<UsageRecord>,
    config: WriterConfig,
    stats: Arc<WriterStats>,
) {
    let mut batch = Vec::with_capacity(config.max_batch);
    loop {
        let Some(first) = rx.recv().await else {
            return;
        };
        batch.push(first);
        let deadline = tokio::time::Instant::now() + config.flush_interval;
        let mut closed = false;
        while batch.len() < config.max_batch {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(r)) => batch.push(r),
                Ok(None) => {
                    closed = true;
                    break;
                }
                Err(_) => break,
            }
        }
        write_with_retry(
            &sink,
            &batch,
            &stats,
            closed.then_some(config.shutdown_attempts),
        )
        .await;
        batch.clear();
        if closed {
            return;
        }
    }
}

async fn write_with_retry<S: UsageSink>(
    sink: &S,
    batch: &[UsageRecord],
    stats: &WriterStats,
    attempts: Option<u32>,
) {
    let mut backoff = Duration::from_millis(50);
    let mut tried = 0u32;
    loop {
        tried += 1;
        match sink.write(batch).await {
            Ok(()) => {
                stats
                    .written
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                stats.batches.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(e) => {
                stats.failed_writes.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, records = batch.len(), "usage write failed; retrying");
                if attempts.is_some_and(|max| tried >= max) {
                    stats.lost.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    tracing::error!(records = batch.len(), "usage records lost at shutdown");
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Clone, Default)]
    struct VecSink {
        batches: Arc<Mutex<Vec<usize>>>,
        ids: Arc<Mutex<Vec<String>>>,
        fail_first: Arc<AtomicU64>,
    }

    impl UsageSink for VecSink {
        async fn write(&self, batch: &[UsageRecord]) -> Result<(), String> {
            if self.fail_first.load(Ordering::SeqCst) > 0 {
                self.fail_first.fetch_sub(1, Ordering::SeqCst);
                return Err("database is locked".into());
            }
            self.batches.lock().unwrap().push(batch.len());
            self.ids
                .lock()
                .unwrap()
                .extend(batch.iter().map(|r| r.request_id.clone()));
            Ok(())
        }
    }

    fn rec(i: usize) -> UsageRecord {
        UsageRecord {
            request_id: format!("r{i}"),
            ..UsageRecord::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn batches_fill_up_and_flush_on_shutdown() {
        let sink = VecSink::default();
        let config = WriterConfig {
            max_batch: 10,
            ..WriterConfig::default()
        };
        let (handle, task) = spawn(sink.clone(), config);
        for i in 0..25 {
            handle.record(rec(i)).await;
        }
        drop(handle);
        task.await.unwrap();
        assert_eq!(sink.ids.lock().unwrap().len(), 25);
        assert_eq!(*sink.batches.lock().unwrap(), vec![10, 10, 5]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_partial_batch_is_written_after_the_flush_interval() {
        let sink = VecSink::default();
        let (handle, _task) = spawn(sink.clone(), WriterConfig::default());
        handle.record(rec(1)).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(*sink.batches.lock().unwrap(), vec![1]);
        assert_eq!(handle.stats().written.load(Ordering::Relaxed), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn failed_writes_are_retried_and_nothing_is_lost() {
        let sink = VecSink::default();
        sink.fail_first.store(3, Ordering::SeqCst);
        let (handle, task) = spawn(sink.clone(), WriterConfig::default());
        let stats = handle.stats().clone();
        for i in 0..7 {
            handle.record(rec(i)).await;
        }
        drop(handle);
        task.await.unwrap();
        assert_eq!(sink.ids.lock().unwrap().len(), 7);
        assert_eq!(stats.failed_writes.load(Ordering::Relaxed), 3);
        assert_eq!(stats.lost.load(Ordering::Relaxed), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn senders_wait_for_room_instead_of_dropping() {
        let sink = VecSink::default();
        let config = WriterConfig {
            capacity: 2,
            max_batch: 2,
            ..WriterConfig::default()
        };
        let (handle, task) = spawn(sink.clone(), config);
        for i in 0..50 {
            handle.record(rec(i)).await;
        }
        drop(handle);
        task.await.unwrap();
        let ids = sink.ids.lock().unwrap();
        assert_eq!(ids.len(), 50);
        assert_eq!(ids[49], "r49", "order kept");
    }

    #[tokio::test(start_paused = true)]
    async fn a_record_after_the_writer_stopped_is_counted_lost() {
        let (handle, task) = spawn(VecSink::default(), WriterConfig::default());
        task.abort();
        let _ = task.await;
        handle.record(rec(1)).await;
        assert_eq!(handle.stats().lost.load(Ordering::Relaxed), 1);
    }
}
