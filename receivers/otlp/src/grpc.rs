//! OTLP over gRPC.

use crate::config::GrpcConfig;
use crate::{SignalSink, Sinks};
use ferrotel_core::consumer::{ClientInfo, ConsumeError};
use ferrotel_core::http_server::bind;
use ferrotel_core::pdata::{
    ExportLogsServiceRequest, ExportMetricsServiceRequest, ExportTraceServiceRequest, Telemetry,
};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::codec::CompressionEncoding;
use tonic::transport::server::{Connected, TcpConnectInfo, TcpIncoming};
use tonic::{Request, Response, Status};

pub(crate) struct GrpcServer {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

struct Handler {
    sink: SignalSink,
    include_metadata: bool,
}

impl Handler {
    fn client<T>(&self, request: &Request<T>) -> Arc<ClientInfo> {
        Arc::new(ClientInfo {
            addr: request.remote_addr(),
            metadata: if self.include_metadata {
                request
                    .metadata()
                    .iter()
                    .filter_map(|kv| match kv {
                        tonic::metadata::KeyAndValueRef::Ascii(k, v) => {
                            Some((k.as_str().to_string(), v.to_str().ok()?.to_string()))
                        }
                        tonic::metadata::KeyAndValueRef::Binary(..) => None,
                    })
                    .collect()
            } else {
                Vec::new()
            },
        })
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

#[tonic::async_trait]
impl TraceService for Handler {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let client = self.client(&request);
        let data = Telemetry::Traces(request.into_inner().resource_spans);
        self.sink.push(data, client).await.map_err(to_status)?;
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Handler {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        let client = self.client(&request);
        let data = Telemetry::Metrics(request.into_inner().resource_metrics);
        self.sink.push(data, client).await.map_err(to_status)?;
        Ok(Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl LogsService for Handler {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        let client = self.client(&request);
        let data = Telemetry::Logs(request.into_inner().resource_logs);
        self.sink.push(data, client).await.map_err(to_status)?;
        Ok(Response::new(ExportLogsServiceResponse::default()))
    }
}

impl GrpcServer {
    pub(crate) async fn start(
        cfg: &GrpcConfig,
        sinks: Sinks,
    ) -> Result<GrpcServer, std::io::Error> {
        let listener = bind(&cfg.endpoint).await?;
        let limit = (cfg.max_recv_msg_size_mib * 1024 * 1024) as usize;
        let handler = |sink: &Option<SignalSink>| {
            sink.clone().map(|sink| Handler {
                sink,
                include_metadata: cfg.include_metadata,
            })
        };
        let mut builder = tonic::transport::Server::builder();
        if cfg.max_concurrent_streams > 0 {
            builder = builder.max_concurrent_streams(cfg.max_concurrent_streams);
        }
        let router = builder
            .add_optional_service(handler(&sinks.traces).map(|h| {
                TraceServiceServer::new(h)
                    .accept_compressed(CompressionEncoding::Gzip)
                    .accept_compressed(CompressionEncoding::Zstd)
                    .send_compressed(CompressionEncoding::Gzip)
                    .max_decoding_message_size(limit)
            }))
            .add_optional_service(handler(&sinks.metrics).map(|h| {
                MetricsServiceServer::new(h)
                    .accept_compressed(CompressionEncoding::Gzip)
                    .accept_compressed(CompressionEncoding::Zstd)
                    .max_decoding_message_size(limit)
            }))
            .add_optional_service(handler(&sinks.logs).map(|h| {
                LogsServiceServer::new(h)
                    .accept_compressed(CompressionEncoding::Gzip)
                    .accept_compressed(CompressionEncoding::Zstd)
                    .max_decoding_message_size(limit)
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
