//! `jaeger.api_v2.CollectorService/PostSpans` over gRPC (tonic, with
//! prost decoding the request), answered with an empty
//! `PostSpansResponse` once the pipeline took the spans.

use crate::Sink;
use crate::config::GrpcConfig;
use ferrotel_core::consumer::{ClientInfo, ConsumeError};
use ferrotel_core::http_server::bind;
use ferrotel_jaeger::{PostSpansRequest, post_spans_batch, proto_to_traces};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::codec::{CompressionEncoding, EnabledCompressionEncodings};
use tonic::server::{NamedService, UnaryService};
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

pub(crate) struct GrpcServer {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

#[derive(Clone)]
struct Collector {
    sink: Sink,
    include_metadata: bool,
    max_message: usize,
}

impl NamedService for Collector {
    const NAME: &'static str = "jaeger.api_v2.CollectorService";
}

impl UnaryService<PostSpansRequest> for Collector {
    type Response = ();
    type Future = Pin<Box<dyn std::future::Future<Output = Result<Response<()>, Status>> + Send>>;

    fn call(&mut self, request: Request<PostSpansRequest>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let client = Arc::new(ClientInfo::from_headers(
                request.remote_addr(),
                request.metadata().as_ref(),
                this.include_metadata,
            ));
            let batch = post_spans_batch(request.into_inner()).map_err(|e| {
                Status::internal(format!(
                    "grpc: failed to unmarshal the received message: {e}"
                ))
            })?;
            this.sink
                .push(proto_to_traces(batch), client)
                .await
                .map_err(to_status)?;
            Ok(Response::new(()))
        })
    }
}

/// Go returns the pipeline's error as it is, which gRPC sends as
/// `Unknown` (the pipeline's errors carry no status).
fn to_status(e: ConsumeError) -> Status {
    Status::unknown(e.to_string())
}

impl<B> tower_service::Service<http::Request<B>> for Collector
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
        if request.uri().path() != "/jaeger.api_v2.CollectorService/PostSpans" {
            return Box::pin(async { Ok(Status::unimplemented("unknown method").into_http()) });
        }
        let mut accept = EnabledCompressionEncodings::default();
        accept.enable(CompressionEncoding::Gzip);
        accept.enable(CompressionEncoding::Zstd);
        let mut grpc = tonic::server::Grpc::new(tonic_prost::ProstCodec::default())
            .apply_compression_config(accept, EnabledCompressionEncodings::default())
            .apply_max_message_size_config(Some(self.max_message), None);
        let service = self.clone();
        Box::pin(async move { Ok(grpc.unary(service, request).await) })
    }
}

impl GrpcServer {
    pub(crate) async fn start(cfg: &GrpcConfig, sink: Sink) -> Result<GrpcServer, std::io::Error> {
        let listener = bind(&cfg.endpoint).await?;
        let collector = Collector {
            sink,
            include_metadata: cfg.include_metadata,
            // 0 is gRPC's default, 4 MiB, as in Go.
            max_message: match cfg.max_recv_msg_size_mib {
                0 => 4 << 20,
                mib => (mib.min(u64::from(u32::MAX)) << 20) as usize,
            },
        };
        let mut builder = tonic::transport::Server::builder();
        if cfg.max_concurrent_streams > 0 {
            builder = builder.max_concurrent_streams(cfg.max_concurrent_streams);
        }
        if let Some(tls) = &cfg.tls {
            // tonic's own TLS would need its rustls feature; the OTLP
            // receiver's stream wrapper is not shared yet.
            let _ = tls;
            return Err(std::io::Error::other(
                "protocols::grpc::tls is not supported by ferrotel's jaeger receiver yet",
            ));
        }
        let router = builder.add_service(collector);
        let (stop, stopped) = oneshot::channel::<()>();
        let endpoint = cfg.endpoint.clone();
        tracing::info!(endpoint = %cfg.endpoint, "Starting GRPC server");
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = router
                .serve_with_incoming_shutdown(incoming, shutdown)
                .await
            {
                tracing::error!(endpoint = %endpoint, error = %e, "gRPC server failed");
            }
        });
        Ok(GrpcServer { stop, task })
    }

    pub(crate) async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
