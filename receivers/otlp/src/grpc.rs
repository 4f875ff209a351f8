//! OTLP over gRPC.
//!
//! The export services (profiles too) are implemented on raw bytes rather than with
//! the generated prost services: a request is validated and counted by
//! `pdata::scan` and handed on encoded, so pass-through pipelines never
//! decode it.

use crate::config::GrpcConfig;
use crate::{SignalSink, Sinks, check_profiles_version};
use bytes::{Buf, BufMut, Bytes};
use ferrotel_core::auth::ServerAuth;
use ferrotel_core::consumer::{ClientInfo, ConsumeError};
use ferrotel_core::http_server::bind;
use ferrotel_core::pdata::{Payload, Signal, scan};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::codec::{
    Codec, CompressionEncoding, DecodeBuf, Decoder, EnabledCompressionEncodings, EncodeBuf, Encoder,
};
use tonic::server::{NamedService, UnaryService};
use tonic::transport::server::{Connected, TcpConnectInfo, TcpIncoming};
use tonic::{Request, Response, Status};

pub(crate) struct GrpcServer {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

struct Handler {
    signal: Signal,
    sink: SignalSink,
    include_metadata: bool,
    auth: Option<ServerAuth>,
}

impl Handler {
    fn client<T>(&self, request: &Request<T>) -> Arc<ClientInfo> {
        Arc::new(ClientInfo::from_headers(
            request.remote_addr(),
            request.metadata().as_ref(),
            self.include_metadata,
        ))
    }

    async fn export(&self, request: Request<Bytes>) -> Result<Response<Bytes>, Status> {
        if let Some(auth) = &self.auth {
            let headers = request.metadata().clone().into_headers();
            auth.authenticate(&headers)
                .await
                .map_err(Status::unauthenticated)?;
        }
        if self.signal == Signal::Profiles {
            check_profiles_version(request.metadata().as_ref())
                .map_err(Status::invalid_argument)?;
        }
        let client = self.client(&request);
        let body = request.into_inner();
        let items = scan(self.signal, &body)
            .map_err(|e| Status::invalid_argument(format!("failed to decode request: {e}")))?;
        // Go answers a profiles request without samples without passing it on.
        if self.signal == Signal::Profiles && items == 0 {
            return Ok(Response::new(Bytes::new()));
        }
        self.sink
            .push(Payload::encoded(self.signal, body, items), client)
            .await
            .map_err(to_status)?;
        // An empty Export*ServiceResponse.
        Ok(Response::new(Bytes::new()))
    }
}

/// The Go receiver's mapping: retryable errors are `Unavailable`, refusals
/// for lack of resources `ResourceExhausted`, permanent ones `Internal`.
fn to_status(e: ConsumeError) -> Status {
    match e {
        ConsumeError::Retryable { message, .. } => Status::unavailable(message),
        ConsumeError::ResourceExhausted(message) => Status::resource_exhausted(message),
        ConsumeError::Permanent(message) => Status::internal(message),
    }
}

/// One OTLP export service (`SIGNAL` is the index in `Signal::ALL`).
struct ExportService<const SIGNAL: usize> {
    handler: Arc<Handler>,
    accept: EnabledCompressionEncodings,
    max_message: usize,
}

impl<const SIGNAL: usize> Clone for ExportService<SIGNAL> {
    fn clone(&self) -> Self {
        ExportService {
            handler: self.handler.clone(),
            accept: self.accept,
            max_message: self.max_message,
        }
    }
}

impl NamedService for ExportService<0> {
    const NAME: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
}
impl NamedService for ExportService<1> {
    const NAME: &'static str = "opentelemetry.proto.collector.metrics.v1.MetricsService";
}
impl NamedService for ExportService<2> {
    const NAME: &'static str = "opentelemetry.proto.collector.logs.v1.LogsService";
}
impl NamedService for ExportService<3> {
    const NAME: &'static str =
        "opentelemetry.proto.collector.profiles.v1development.ProfilesService";
}

struct Unary(Arc<Handler>);

impl UnaryService<Bytes> for Unary {
    type Response = Bytes;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Response<Bytes>, Status>> + Send>>;
    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let handler = self.0.clone();
        Box::pin(async move { handler.export(request).await })
    }
}

impl<const SIGNAL: usize, B> tower_service::Service<http::Request<B>> for ExportService<SIGNAL>
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = request.uri().path().rsplit('/').next() == Some("Export");
        if !method {
            return Box::pin(async {
                let mut response = http::Response::new(tonic::body::Body::default());
                response.headers_mut().insert(
                    Status::GRPC_STATUS,
                    (tonic::Code::Unimplemented as i32).into(),
                );
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    tonic::metadata::GRPC_CONTENT_TYPE,
                );
                Ok(response)
            });
        }
        let mut grpc = tonic::server::Grpc::new(RawCodec)
            .apply_compression_config(self.accept, EnabledCompressionEncodings::default())
            .apply_max_message_size_config(Some(self.max_message), None);
        let unary = Unary(self.handler.clone());
        Box::pin(async move { Ok(grpc.unary(unary, request).await) })
    }
}

/// Requests and responses as bytes; tonic has already framed and
/// decompressed them.
#[derive(Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }
    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        let len = src.remaining();
        Ok(Some(src.copy_to_bytes(len)))
    }
}

impl GrpcServer {
    pub(crate) async fn start(
        cfg: &GrpcConfig,
        sinks: Sinks,
    ) -> Result<GrpcServer, std::io::Error> {
        let listener = bind(&cfg.endpoint).await?;
        let limit = (cfg.max_recv_msg_size_mib * 1024 * 1024) as usize;
        let mut accept = EnabledCompressionEncodings::default();
        accept.enable(CompressionEncoding::Gzip);
        accept.enable(CompressionEncoding::Zstd);
        let handler = |signal: Signal, sink: &Option<SignalSink>| {
            sink.clone().map(|sink| {
                Arc::new(Handler {
                    signal,
                    sink,
                    include_metadata: cfg.include_metadata,
                    auth: sinks.auth.clone(),
                })
            })
        };
        let mut builder = tonic::transport::Server::builder();
        if cfg.max_concurrent_streams > 0 {
            builder = builder.max_concurrent_streams(cfg.max_concurrent_streams);
        }
        let router = builder
            .add_optional_service(handler(Signal::Traces, &sinks.traces).map(|handler| {
                ExportService::<0> {
                    handler,
                    accept,
                    max_message: limit,
                }
            }))
            .add_optional_service(handler(Signal::Metrics, &sinks.metrics).map(|handler| {
                ExportService::<1> {
                    handler,
                    accept,
                    max_message: limit,
                }
            }))
            .add_optional_service(handler(Signal::Logs, &sinks.logs).map(
                |handler| ExportService::<2> {
                    handler,
                    accept,
                    max_message: limit,
                },
            ))
            .add_optional_service(handler(Signal::Profiles, &sinks.profiles).map(|handler| {
                ExportService::<3> {
                    handler,
                    accept,
                    max_message: limit,
                }
            }));
        let (stop, stopped) = oneshot::channel::<()>();
        let endpoint = cfg.endpoint.clone();
        let shutdown = async {
            let _ = stopped.await;
        };
        let tls = match &cfg.tls {
            Some(tls) => Some(tls.build(&[b"h2"]).map_err(std::io::Error::other)?),
            None => None,
        };
        tracing::info!(endpoint = %cfg.endpoint, tls = tls.is_some(), "Starting GRPC server");
        let task = match tls {
            None => {
                let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
                tokio::spawn(async move {
                    if let Err(e) = router
                        .serve_with_incoming_shutdown(incoming, shutdown)
                        .await
                    {
                        tracing::error!(endpoint = %endpoint, error = %e, "gRPC server failed");
                    }
                })
            }
            Some(tls) => {
                let incoming = tls_incoming(listener, tls);
                tokio::spawn(async move {
                    if let Err(e) = router
                        .serve_with_incoming_shutdown(incoming, shutdown)
                        .await
                    {
                        tracing::error!(endpoint = %endpoint, error = %e, "gRPC server failed");
                    }
                })
            }
        };
        Ok(GrpcServer { stop, task })
    }

    pub(crate) async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Accepts TCP connections and completes TLS handshakes in their own tasks,
/// yielding the finished streams to tonic.
fn tls_incoming(
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
) -> tokio_stream::wrappers::ReceiverStream<Result<TlsConn, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::spawn(async move {
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = tx.closed() => return,
            };
            let _ = stream.set_nodelay(true);
            let info = TcpConnectInfo {
                local_addr: stream.local_addr().ok(),
                remote_addr: Some(peer),
            };
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(
                    std::time::Duration::from_secs(10),
                    acceptor.accept(stream),
                )
                .await
                {
                    Ok(Ok(inner)) => {
                        let _ = tx.send(Ok(TlsConn { inner, info })).await;
                    }
                    Ok(Err(e)) => tracing::debug!(error = %e, peer = %peer, "TLS handshake failed"),
                    Err(_) => tracing::debug!(peer = %peer, "TLS handshake timed out"),
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// A server-side TLS stream that tells tonic its peer address.
struct TlsConn {
    inner: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    info: TcpConnectInfo,
}

impl Connected for TlsConn {
    type ConnectInfo = TcpConnectInfo;
    fn connect_info(&self) -> TcpConnectInfo {
        self.info.clone()
    }
}

impl AsyncRead for TlsConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
