//! A small HTTP/1 and HTTP/2 server on hyper, shared by every component
//! that listens on HTTP (the OTLP receiver, health_check, `/metrics`).

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A response body held in memory.
pub type Body = Full<Bytes>;

/// Starts a receiver's server as Go's `confighttp.ServerConfig` does: binds
/// `endpoint`, speaks TLS (h2 and http/1.1) when `tls` is set, and adds the
/// configured `response_headers` to every answer.
pub async fn serve<F, Fut>(
    endpoint: &str,
    tls: Option<&crate::tls::TlsServerSettings>,
    response_headers: &std::collections::BTreeMap<String, String>,
    handler: F,
) -> Result<HttpServer, std::io::Error>
where
    F: Fn(Request<Incoming>, SocketAddr) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let listener = bind(endpoint).await?;
    let tls = match tls {
        Some(tls) => Some(
            tls.build(&[b"h2", b"http/1.1"])
                .map_err(std::io::Error::other)?,
        ),
        None => None,
    };
    let headers: Arc<Vec<(http::HeaderName, http::HeaderValue)>> = Arc::new(
        response_headers
            .iter()
            .filter_map(|(k, v)| Some((k.parse().ok()?, v.parse().ok()?)))
            .collect(),
    );
    tracing::info!(endpoint = %endpoint, tls = tls.is_some(), "Starting HTTP server");
    let handler = Arc::new(handler);
    Ok(HttpServer::start_with_tls(
        listener,
        tls,
        move |req, peer| {
            let (handler, headers) = (handler.clone(), headers.clone());
            async move {
                let mut resp = handler(req, peer).await;
                for (k, v) in headers.iter() {
                    resp.headers_mut().insert(k.clone(), v.clone());
                }
                resp
            }
        },
    ))
}

/// Binds a TCP listener on `host:port` (`localhost:4318`, `0.0.0.0:8888`,
/// `[::1]:13133`); the error reads as Go's `net.Listen` writes it, with the
/// resolved address: `listen tcp 127.0.0.1:4318: bind: address already in
/// use`.
pub async fn bind(endpoint: &str) -> Result<TcpListener, std::io::Error> {
    let addrs: Vec<SocketAddr> = match tokio::net::lookup_host(endpoint).await {
        Ok(found) => found.collect(),
        Err(e) => {
            return Err(std::io::Error::new(
                e.kind(),
                format!("listen tcp {endpoint}: {}", go_errno(&e)),
            ));
        }
    };
    // Go listens on the first IPv4 address a name resolves to.
    let addr = addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::AddrNotAvailable,
                format!("listen tcp {endpoint}: no address found"),
            )
        })?;
    TcpListener::bind(addr).await.map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("listen tcp {addr}: bind: {}", go_errno(&e)),
        )
    })
}

/// A request header's text: "" when it is absent or not text, as Go's
/// `Header.Get` reads it.
pub fn header_text(headers: &http::HeaderMap, name: http::header::HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// An OS error as Go's errno text: lower case, without the number.
fn go_errno(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = text.split(" (os error").next().unwrap_or_default();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A running server; dropping it does not stop it, [`HttpServer::shutdown`] does.
pub struct HttpServer {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    local_addr: SocketAddr,
}

impl HttpServer {
    /// Serves `handler` on `listener` until shut down.
    pub fn start<F, Fut>(listener: TcpListener, handler: F) -> HttpServer
    where
        F: Fn(Request<Incoming>, SocketAddr) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<Body>> + Send + 'static,
    {
        HttpServer::start_with_tls(listener, None, handler)
    }

    /// Serves `handler` on `listener`, over TLS when `tls` is given (ALPN
    /// should offer `h2` and `http/1.1`).
    pub fn start_with_tls<F, Fut>(
        listener: TcpListener,
        tls: Option<Arc<rustls::ServerConfig>>,
        handler: F,
    ) -> HttpServer
    where
        F: Fn(Request<Incoming>, SocketAddr) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<Body>> + Send + 'static,
    {
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        let local_addr = listener
            .local_addr()
            .unwrap_or_else(|_| ([0, 0, 0, 0], 0).into());
        let (stop, mut stopped) = watch::channel(false);
        let handler = Arc::new(handler);
        let task = tokio::spawn(async move {
            let graceful = GracefulShutdown::new();
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            loop {
                let (stream, peer) = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok(conn) => conn,
                        Err(e) => {
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                    _ = stopped.changed() => break,
                };
                let handler = handler.clone();
                let service = hyper::service::service_fn(move |req| {
                    let response = handler(req, peer);
                    async move { Ok::<_, Infallible>(response.await) }
                });
                match &acceptor {
                    None => {
                        let conn =
                            builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                        let conn = graceful.watch(conn.into_owned());
                        tokio::spawn(async move {
                            if let Err(e) = conn.await {
                                tracing::debug!(error = %e, "http connection ended with an error");
                            }
                        });
                    }
                    Some(acceptor) => {
                        // The handshake runs in the connection's task so a
                        // slow client cannot stall the accept loop.
                        let accepting = acceptor.accept(stream);
                        let builder = builder.clone();
                        let watcher = graceful.watcher();
                        tokio::spawn(async move {
                            let stream = match tokio::time::timeout(
                                Duration::from_secs(10),
                                accepting,
                            )
                            .await
                            {
                                Ok(Ok(s)) => s,
                                Ok(Err(e)) => {
                                    return tracing::debug!(error = %e, peer = %peer, "TLS handshake failed");
                                }
                                Err(_) => {
                                    return tracing::debug!(peer = %peer, "TLS handshake timed out");
                                }
                            };
                            let conn = builder
                                .serve_connection_with_upgrades(TokioIo::new(stream), service);
                            if let Err(e) = watcher.watch(conn.into_owned()).await {
                                tracing::debug!(error = %e, "https connection ended with an error");
                            }
                        });
                    }
                }
            }
            drop(listener);
            // In-flight requests get a bounded time to finish.
            let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
        });
        HttpServer {
            stop,
            task,
            local_addr,
        }
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// A response with a status, content type and body.
pub fn response(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = http::HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    resp
}
