//! The `otlp_grpc` exporter (alias `otlp`): sends OTLP over gRPC.
//!
//! Mirrors the Go collector's `otlpexporter`: `endpoint` (required),
//! `compression` (default gzip), `headers`, `timeout` (default 5s), and the
//! exporter helper's `retry_on_failure` and `sending_queue`. gRPC codes the
//! OTLP spec calls retryable are retried; others drop the batch. Not yet
//! supported: TLS (an endpoint that would need it is refused at load; set
//! `tls::insecure: true` or use `http://`), `auth`, snappy compression.

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    ComponentConfig, ComponentError, CreateSettings, ExporterFactory, Metadata, SharedStage,
    Stability,
};
use ferrotel_core::config::GoDuration;
use ferrotel_core::config::Invalid;
use ferrotel_core::consumer::ConsumeError;
use ferrotel_core::exporter_helper::{
    ExporterHelper, HelperSettings, QueueSettings, RetrySettings, Sender,
};
use ferrotel_core::pdata::{
    ExportLogsServiceRequest, ExportMetricsServiceRequest, ExportTraceServiceRequest, Signal,
    Telemetry,
};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use tonic::codec::CompressionEncoding;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};

/// `tls` settings; only `insecure` is honoured so far.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TlsConfig {
    /// Plain-text gRPC.
    pub insecure: bool,
    /// Not supported yet.
    pub insecure_skip_verify: bool,
    /// Not supported yet.
    pub ca_file: Option<String>,
    /// Not supported yet.
    pub cert_file: Option<String>,
    /// Not supported yet.
    pub key_file: Option<String>,
}

/// `otlp_grpc` exporter settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `host:port` or `http://host:port`. Required.
    pub endpoint: String,
    /// `gzip` (default), `zstd` or `none`.
    pub compression: String,
    /// Metadata sent with every request.
    pub headers: BTreeMap<String, String>,
    /// Per-attempt timeout. Default 5s.
    pub timeout: GoDuration,
    /// TLS settings.
    pub tls: TlsConfig,
    /// Retries.
    pub retry_on_failure: RetrySettings,
    /// The sending queue.
    pub sending_queue: QueueSettings,
    /// Accepted; the channel connects eagerly in the background.
    pub wait_for_ready: bool,
    /// Accepted for compatibility.
    pub balancer_name: Option<String>,
    /// Accepted for compatibility.
    pub keepalive: Option<serde_yaml_ng::Value>,
    /// Accepted for compatibility.
    pub write_buffer_size: Option<ferrotel_core::config::ByteSize>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            endpoint: String::new(),
            compression: "gzip".into(),
            headers: BTreeMap::new(),
            timeout: GoDuration::secs(5),
            tls: TlsConfig::default(),
            retry_on_failure: RetrySettings::default(),
            sending_queue: QueueSettings::default(),
            wait_for_ready: false,
            balancer_name: None,
            keepalive: None,
            write_buffer_size: None,
        }
    }
}

impl Config {
    fn uri(&self) -> String {
        if self.endpoint.contains("://") {
            self.endpoint.clone()
        } else {
            format!("http://{}", self.endpoint)
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        if self.endpoint.is_empty() {
            return Err("requires a non-empty \"endpoint\"".into());
        }
        let plain = self.endpoint.starts_with("http://")
            || (self.tls.insecure && !self.endpoint.starts_with("https://"));
        if !plain {
            return Err("TLS is not supported by ferrotel yet: set tls::insecure: true or use an http:// endpoint".into());
        }
        match self.compression.as_str() {
            "gzip" | "zstd" | "none" | "" => {}
            other => {
                return Err(format!(
                    "compression: unsupported value {other:?} (supported: gzip, zstd, none)"
                )
                .into());
            }
        }
        for key in self.headers.keys() {
            if MetadataKey::<tonic::metadata::Ascii>::from_bytes(key.as_bytes()).is_err() {
                return Err(format!("headers: invalid header name {key:?}").into());
            }
        }
        self.retry_on_failure.validate()?;
        Ok(self.sending_queue.validate()?)
    }
}

struct GrpcFactory;

/// The factory for the `otlp_grpc` exporter.
pub fn factory() -> impl ExporterFactory {
    GrpcFactory
}

impl ExporterFactory for GrpcFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        Metadata {
            type_name: "otlp_grpc",
            module: ferrotel_core::module!(),
            deprecated_aliases: &["otlp"],
            signals: &[
                (Signal::Traces, Stability::Stable),
                (Signal::Metrics, Stability::Stable),
                (Signal::Logs, Stability::Stable),
            ],
            stability: Stability::Stable,
        }
    }

    fn create(&self, set: CreateSettings, config: Config) -> Result<SharedStage, ComponentError> {
        let channel = Endpoint::from_shared(config.uri())
            .map_err(|e| format!("invalid endpoint {:?}: {e}", config.endpoint))?
            .tcp_nodelay(true)
            .connect_lazy();
        let mut headers = MetadataMap::new();
        for (k, v) in &config.headers {
            let key =
                MetadataKey::from_bytes(k.as_bytes()).map_err(|e| format!("header {k:?}: {e}"))?;
            let value: MetadataValue<_> = v.parse().map_err(|e| format!("header {k:?}: {e}"))?;
            headers.insert(key, value);
        }
        let compression = match config.compression.as_str() {
            "gzip" => Some(CompressionEncoding::Gzip),
            "zstd" => Some(CompressionEncoding::Zstd),
            _ => None,
        };
        let sender = GrpcSender {
            channel,
            headers,
            compression,
        };
        let settings = HelperSettings {
            id: set.id.to_string(),
            timeout: config.timeout.0,
            retry: config.retry_on_failure,
            queue: config.sending_queue,
        };
        Ok(Arc::new(ExporterHelper::new(
            sender,
            settings,
            &set.telemetry,
        )))
    }
}

struct GrpcSender {
    channel: Channel,
    headers: MetadataMap,
    compression: Option<CompressionEncoding>,
}

impl GrpcSender {
    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut req = tonic::Request::new(message);
        *req.metadata_mut() = self.headers.clone();
        req
    }
}

macro_rules! compressed {
    ($client:expr, $compression:expr) => {{
        let client = $client.max_decoding_message_size(usize::MAX);
        match $compression {
            Some(c) => client.send_compressed(c),
            None => client,
        }
    }};
}

#[async_trait]
impl Sender for GrpcSender {
    async fn send(&self, data: &Telemetry) -> Result<(), ConsumeError> {
        // The client owns its request message, so the batch is copied
        // once here; the exporter helper keeps the original for retries.
        let result = match data {
            Telemetry::Traces(r) => {
                let mut client = compressed!(
                    TraceServiceClient::new(self.channel.clone()),
                    self.compression
                );
                client
                    .export(self.request(ExportTraceServiceRequest {
                        resource_spans: r.clone(),
                    }))
                    .await
                    .map(|resp| {
                        resp.into_inner()
                            .partial_success
                            .map(|p| (p.rejected_spans, p.error_message))
                    })
            }
            Telemetry::Metrics(r) => {
                let mut client = compressed!(
                    MetricsServiceClient::new(self.channel.clone()),
                    self.compression
                );
                client
                    .export(self.request(ExportMetricsServiceRequest {
                        resource_metrics: r.clone(),
                    }))
                    .await
                    .map(|resp| {
                        resp.into_inner()
                            .partial_success
                            .map(|p| (p.rejected_data_points, p.error_message))
                    })
            }
            Telemetry::Logs(r) => {
                let mut client = compressed!(
                    LogsServiceClient::new(self.channel.clone()),
                    self.compression
                );
                client
                    .export(self.request(ExportLogsServiceRequest {
                        resource_logs: r.clone(),
                    }))
                    .await
                    .map(|resp| {
                        resp.into_inner()
                            .partial_success
                            .map(|p| (p.rejected_log_records, p.error_message))
                    })
            }
        };
        match result {
            Ok(Some((rejected, message))) if rejected > 0 || !message.is_empty() => {
                tracing::warn!(rejected, message = %message, "Partial success response");
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(status) => Err(classify(&status)),
        }
    }
}

/// The OTLP/gRPC spec's retryable codes.
fn classify(status: &tonic::Status) -> ConsumeError {
    use tonic::Code;
    let message = format!(
        "rpc error: code = {:?} desc = {}",
        status.code(),
        status.message()
    );
    match status.code() {
        Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unavailable
        | Code::DataLoss
        | Code::ResourceExhausted => ConsumeError::retryable(message),
        _ => ConsumeError::Permanent(message),
    }
}
