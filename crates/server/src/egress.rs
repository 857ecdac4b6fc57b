//! The HTTP client upstream requests leave through: one pool of kept-alive connections per
//! upstream host, TLS with the Mozilla roots (HTTP/2 where the upstream offers it), and the
//! proxy the environment names (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, upper
//! or lower case), as other HTTP tools read them: HTTPS upstreams through a `CONNECT` tunnel,
//! plain HTTP ones as absolute-form requests to the proxy.
//!
//! It is hyper's client with nothing on top: a request costs one parse of its URL into a
//! `Uri` and no redirect handling (an upstream's redirect is never followed: it would carry
//! the credential elsewhere). It must not decide anything about an answer; the pipeline does.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::header::PROXY_AUTHORIZATION;
use axum::http::uri::Scheme;
use axum::http::{HeaderMap, Method, Request, Uri};
use bytes::Bytes;
use http_body_util::{BodyDataStream, BodyExt, Full};
use hyper::body::Incoming;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tower_service::Service;

/// An upstream's answer: its head, and a body read as it arrives.
pub type Response = axum::http::Response<Incoming>;

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the upstream URL {0:?} is not a valid URL")]
    Url(String),
    #[error(transparent)]
    Http(#[from] hyper_util::client::legacy::Error),
}

impl SendError {
    /// No connection could be made (refused, unreachable, TLS or proxy failure), as opposed to
    /// a connection that failed or timed out later.
    pub fn is_connect(&self) -> bool {
        match self {
            SendError::Url(_) => false,
            SendError::Http(e) => e.is_connect(),
        }
    }
}

/// Cheap to clone: the pool is shared.
#[derive(Clone, Debug)]
pub struct Egress {
    client: Client<HttpsConnector<Connect>, Full<Bytes>>,
    proxies: Arc<Matcher>,
}

impl Egress {
    /// A client with the environment's proxies.
    pub fn new() -> Self {
        Self::with_proxies(Matcher::from_env())
    }

    fn with_proxies(proxies: Matcher) -> Self {
        let proxies = Arc::new(proxies);
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(Duration::from_secs(10)));
        let connect = Connect {
            tcp,
            proxies: proxies.clone(),
        };
        let tls = HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .expect("the ring provider supports the default TLS versions")
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(connect);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(256)
            .build(tls);
        Self { client, proxies }
    }

    /// Sends a request and resolves at the answer's head. A proxy's credentials for a plain
    /// HTTP upstream go in the request itself; for HTTPS they went in the tunnel's `CONNECT`.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        mut headers: HeaderMap,
        body: Bytes,
    ) -> Result<Response, SendError> {
        let uri: Uri = url.parse().map_err(|_| SendError::Url(url.to_string()))?;
        if uri.scheme() == Some(&Scheme::HTTP) {
            if let Some(auth) = self
                .proxies
                .intercept(&uri)
                .and_then(|p| p.basic_auth().cloned())
            {
                headers.insert(PROXY_AUTHORIZATION, auth);
            }
        }
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = method;
        *req.uri_mut() = uri;
        *req.headers_mut() = headers;
        Ok(self.client.request(req).await?)
    }
}

impl Default for Egress {
    fn default() -> Self {
        Self::new()
    }
}

/// A whole answer body.
pub async fn read_all(body: Incoming) -> Result<Bytes, hyper::Error> {
    Ok(body.collect().await?.to_bytes())
}

/// An answer body's data as it arrives (trailers, which no upstream API sends, are skipped).
pub fn data(body: Incoming) -> BodyDataStream<Incoming> {
    BodyDataStream::new(body)
}

/// Opens the TCP connection for an upstream: to the upstream itself, or to the proxy the
/// environment names for it (tunnelled for HTTPS). TLS, where due, goes on top.
#[derive(Clone, Debug)]
struct Connect {
    tcp: HttpConnector,
    proxies: Arc<Matcher>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Service<Uri> for Connect {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // The TCP connector is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let mut tcp = self.tcp.clone();
        let Some(proxy) = self.proxies.intercept(&dst) else {
            return Box::pin(async move {
                let io = tcp.call(dst).await?;
                Ok(Conn { io, proxied: false })
            });
        };
        if dst.scheme() == Some(&Scheme::HTTPS) {
            let mut tunnel = Tunnel::new(proxy.uri().clone(), tcp);
            if let Some(auth) = proxy.basic_auth() {
                tunnel = tunnel.with_auth(auth.clone());
            }
            Box::pin(async move {
                let io = tunnel.call(dst).await?;
                // Through the tunnel the upstream is spoken to as if directly.
                Ok(Conn { io, proxied: false })
            })
        } else {
            let to = proxy.uri().clone();
            Box::pin(async move {
                let io = tcp.call(to).await?;
                Ok(Conn { io, proxied: true })
            })
        }
    }
}

/// A TCP connection, marked when it goes to a proxy that forwards plain HTTP requests (so
/// they are written in absolute form).
#[derive(Debug)]
struct Conn {
    io: TokioIo<TcpStream>,
    proxied: bool,
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.proxied)
    }
}

impl hyper::rt::Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A one-connection server on loopback: it reads one request head, hands it over
    /// (lower-cased) and answers `reply`.
    async fn one_shot(reply: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let task = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = sock.read(&mut buf).await.unwrap();
                assert!(n > 0, "the client closed before its request head ended");
                head.extend_from_slice(&buf[..n]);
            }
            sock.write_all(reply.as_bytes()).await.unwrap();
            String::from_utf8(head).unwrap().to_ascii_lowercase()
        });
        (addr, task)
    }

    /// An address on loopback that nothing listens on.
    async fn dead_addr() -> std::net::SocketAddr {
        let unused = TcpListener::bind("127.0.0.1:0").await.unwrap();
        unused.local_addr().unwrap()
    }

    const OK: &str = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

    #[tokio::test]
    async fn a_plain_http_upstream_is_asked_through_the_proxy_in_absolute_form_with_its_credentials(
    ) {
        let (proxy, seen) = one_shot(OK).await;
        let egress = Egress::with_proxies(
            Matcher::builder()
                .http(format!("http://user:secret@{proxy}"))
                .build(),
        );
        let resp = egress
            .send(
                Method::POST,
                "http://upstream.invalid:8080/v1/chat/completions",
                HeaderMap::new(),
                Bytes::from_static(b"{}"),
            )
            .await
            .unwrap();
        assert_eq!(read_all(resp.into_body()).await.unwrap(), "ok");
        let head = seen.await.unwrap();
        assert!(
            head.starts_with("post http://upstream.invalid:8080/v1/chat/completions http/1.1\r\n"),
            "{head}"
        );
        // base64("user:secret")
        assert!(
            head.contains("proxy-authorization: basic dxnlcjpzzwnyzxq=\r\n"),
            "{head}"
        );
    }

    #[tokio::test]
    async fn an_https_upstream_is_reached_through_a_connect_tunnel() {
        let (proxy, seen) = one_shot("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n").await;
        let egress = Egress::with_proxies(
            Matcher::builder()
                .https(format!("http://user:secret@{proxy}"))
                .build(),
        );
        let err = egress
            .send(
                Method::POST,
                "https://api.example.com/v1/messages",
                HeaderMap::new(),
                Bytes::new(),
            )
            .await
            .unwrap_err();
        // The proxy refused the tunnel: nothing was sent, as with a refused connection.
        assert!(err.is_connect(), "{err:?}");
        let head = seen.await.unwrap();
        assert!(
            head.starts_with("connect api.example.com:443 http/1.1\r\n"),
            "{head}"
        );
        assert!(
            head.contains("proxy-authorization: basic dxnlcjpzzwnyzxq=\r\n"),
            "{head}"
        );
        // The request itself, with its credential, never reached the proxy in the clear.
        assert!(!head.contains("/v1/messages"), "{head}");
    }

    #[tokio::test]
    async fn hosts_named_in_no_proxy_are_reached_directly() {
        let (upstream, seen) = one_shot(OK).await;
        // A proxy address nothing listens on: using it would fail.
        let dead = dead_addr().await;
        let egress = Egress::with_proxies(
            Matcher::builder()
                .all(format!("http://{dead}"))
                .no("127.0.0.1")
                .build(),
        );
        let url = format!("http://{upstream}/v1/models");
        let resp = egress
            .send(Method::GET, &url, HeaderMap::new(), Bytes::new())
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert!(seen
            .await
            .unwrap()
            .starts_with("get /v1/models http/1.1\r\n"));
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_connect_error_and_a_bad_url_is_not() {
        let dead = dead_addr().await;
        let egress = Egress::with_proxies(Matcher::builder().build());
        let url = format!("http://{dead}/v1/chat/completions");
        let err = egress
            .send(Method::POST, &url, HeaderMap::new(), Bytes::new())
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        let err = egress
            .send(
                Method::POST,
                "http://127.0.0.1/v1beta/models/a model:generateContent",
                HeaderMap::new(),
                Bytes::new(),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, SendError::Url(_)) && !err.is_connect());
    }
}
