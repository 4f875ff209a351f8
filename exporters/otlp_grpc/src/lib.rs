//! The `otlp_grpc` exporter (alias `otlp`): sends OTLP over gRPC.
//!
//! Mirrors the Go collector's `otlpexporter`: `endpoint` (required),
//! `compression` (default gzip), `headers`, `timeout` (default 5s), and the
//! exporter helper's `retry_on_failure` and `sending_queue`. gRPC codes the
//! OTLP spec calls retryable are retried; others drop the batch. TLS is on
//! unless `tls::insecure: true` or the endpoint is `http://`, as in Go. Not
//! yet supported: snappy compression. `auth: {authenticator: <id>}` names
//! an extension whose credentials every call carries (`bearertokenauth`,
//! `basicauth`, `oauth2client`).

use bytes::{BufMut, Bytes};
use ferrotel_core::async_trait;
use ferrotel_core::auth::{ClientAuth, ClientAuthSettings};
use ferrotel_core::component::Host;
use ferrotel_core::component::{
    ComponentConfig, ComponentError, CreateSettings, ExporterFactory, Metadata, SharedStage,
};
use ferrotel_core::config::GoDuration;
use ferrotel_core::config::{Compression, Invalid, Validate};
use ferrotel_core::consumer::{ClientInfo, ConsumeError};
use ferrotel_core::exporter_helper::{ExporterHelper, HelperSettings, QueueSettings, Sender};
use ferrotel_core::pdata::{Payload, Signal};
use ferrotel_core::retry::RetrySettings;
use ferrotel_core::tls::TlsClientSettings;
use http::uri::PathAndQuery;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};

/// `otlp_grpc` exporter settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `host:port` or `http://host:port`. Required.
    pub endpoint: String,
    /// `gzip` (default), `zstd` or `none`.
    pub compression: Compression,
    /// Metadata sent with every request.
    pub headers: BTreeMap<String, String>,
    /// Per-attempt timeout. Default 5s.
    pub timeout: GoDuration,
    /// TLS settings; TLS is on unless `insecure` or an `http://` endpoint.
    pub tls: TlsClientSettings,
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
    /// The extension that gives each call its credentials.
    pub auth: Option<ClientAuthSettings>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            endpoint: String::new(),
            compression: Compression::Gzip,
            headers: BTreeMap::new(),
            timeout: GoDuration::secs(5),
            tls: TlsClientSettings::default(),
            retry_on_failure: RetrySettings::default(),
            sending_queue: QueueSettings::default(),
            wait_for_ready: false,
            balancer_name: None,
            keepalive: None,
            auth: None,
            write_buffer_size: None,
        }
    }
}

impl Config {
    /// Plain text when `tls::insecure` or an `http://` endpoint, as in Go.
    fn plain_text(&self) -> bool {
        self.endpoint.starts_with("http://")
            || (self.tls.insecure && !self.endpoint.starts_with("https://"))
    }

    fn uri(&self) -> String {
        let host = self
            .endpoint
            .split_once("://")
            .map_or(self.endpoint.as_str(), |(_, rest)| rest);
        let scheme = if self.plain_text() { "http" } else { "https" };
        format!("{scheme}://{host}")
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        if self.endpoint.is_empty() {
            return Err("requires a non-empty \"endpoint\"".into());
        }
        self.tls.validate_at("tls")?;
        match self.compression {
            Compression::Gzip | Compression::Zstd | Compression::None => {}
            other => {
                return Err(Invalid::at(
                    "compression",
                    format!("{other} is not supported by ferrotel yet (gzip, zstd and none are)"),
                ));
            }
        }
        for key in self.headers.keys() {
            if MetadataKey::<tonic::metadata::Ascii>::from_bytes(key.as_bytes()).is_err() {
                return Err(format!("headers: invalid header name {key:?}").into());
            }
        }
        self.retry_on_failure.validate_at("retry_on_failure")?;
        self.sending_queue.validate_at("sending_queue")
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
        ferrotel_core::metadata!()
    }

    fn create(&self, set: CreateSettings, config: Config) -> Result<SharedStage, ComponentError> {
        let endpoint = Endpoint::from_shared(config.uri())
            .map_err(|e| format!("invalid endpoint {:?}: {e}", config.endpoint))?
            .tcp_nodelay(true);
        let tls = (!config.plain_text()).then(|| config.tls.clone());
        let mut headers = MetadataMap::new();
        for (k, v) in &config.headers {
            let key =
                MetadataKey::from_bytes(k.as_bytes()).map_err(|e| format!("header {k:?}: {e}"))?;
            let value: MetadataValue<_> = v.parse().map_err(|e| format!("header {k:?}: {e}"))?;
            headers.insert(key, value);
        }
        let compression = match config.compression {
            Compression::Gzip => Some(CompressionEncoding::Gzip),
            Compression::Zstd => Some(CompressionEncoding::Zstd),
            // `validate` refused the others.
            _ => None,
        };
        let sender = GrpcSender {
            auth_settings: config.auth.clone(),
            auth: OnceLock::new(),
            endpoint,
            tls,
            channel: OnceLock::new(),
            headers,
            compression,
        };
        let settings = HelperSettings {
            id: set.id.clone(),
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
    auth_settings: Option<ClientAuthSettings>,
    /// The authenticator `auth` names, found when the exporter starts.
    auth: OnceLock<Option<ClientAuth>>,
    endpoint: Endpoint,
    /// `None` for plain text.
    tls: Option<TlsClientSettings>,
    /// Made at start, when the TLS files are read, as Go's exporter does.
    channel: OnceLock<Channel>,
    headers: MetadataMap,
    compression: Option<CompressionEncoding>,
}

/// Export method paths of the OTLP services.
fn method(signal: Signal) -> PathAndQuery {
    PathAndQuery::from_static(match signal {
        Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        Signal::Profiles => {
            "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export"
        }
    })
}

#[async_trait]
impl Sender for GrpcSender {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let _ = self
            .auth
            .set(host.client_auth(self.auth_settings.as_ref(), true)?);
        let channel = match &self.tls {
            None => self.endpoint.connect_lazy(),
            Some(tls) => self
                .endpoint
                .connect_with_connector_lazy(tls.connector(true, true)?),
        };
        let _ = self.channel.set(channel);
        Ok(())
    }

    async fn send(&self, data: &Payload) -> Result<(), ConsumeError> {
        self.send_for(data, &ClientInfo::default()).await
    }

    async fn send_for(&self, data: &Payload, client: &ClientInfo) -> Result<(), ConsumeError> {
        let channel = self
            .channel
            .get()
            .ok_or_else(|| ConsumeError::retryable("exporter is not running"))?;
        // Requests that arrived encoded go out as they came; others are
        // encoded straight from the batch, without the copy the generated
        // clients would need to own their message.
        let body = data.encode_request();
        let mut grpc =
            tonic::client::Grpc::new(channel.clone()).max_decoding_message_size(usize::MAX);
        if let Some(c) = self.compression {
            grpc = grpc.send_compressed(c);
        }
        grpc.ready()
            .await
            .map_err(|e| ConsumeError::retryable(format!("connection not ready: {e}")))?;
        let mut request = tonic::Request::new(body);
        *request.metadata_mut() = self.headers.clone();
        if let Some(Some(auth)) = self.auth.get() {
            let mut headers = std::mem::take(request.metadata_mut()).into_headers();
            auth.apply(client, &mut headers)
                .await
                .map_err(|e| ConsumeError::retryable(format!("failed to get credentials: {e}")))?;
            *request.metadata_mut() = MetadataMap::from_headers(headers);
        }
        if data.signal() == Signal::Profiles {
            // The wire version Go's client always states (and its receiver
            // checks); set over whatever the user's headers said.
            request.metadata_mut().insert(
                "otlp-profiles-development-version",
                tonic::metadata::MetadataValue::from_static("1"),
            );
        }
        let response = grpc
            .unary(request, method(data.signal()), ExportCodec)
            .await;
        match response.map(|r| r.into_inner()) {
            Ok(PartialSuccess { rejected, message }) if rejected > 0 || !message.is_empty() => {
                tracing::warn!(rejected, message = %message, "Partial success response");
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(status) => Err(classify(&status)),
        }
    }
}

/// The `partial_success` of any `Export*ServiceResponse`: all three put it
/// at field 1 with the rejected count at field 1 and the message at field 2.
#[derive(Clone, PartialEq, prost::Message)]
struct ExportResponse {
    #[prost(message, optional, tag = "1")]
    partial_success: Option<PartialSuccess>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PartialSuccess {
    #[prost(int64, tag = "1")]
    rejected: i64,
    #[prost(string, tag = "2")]
    message: String,
}

/// Sends an already encoded request; decodes the response's partial success.
#[derive(Clone, Copy, Default)]
struct ExportCodec;

impl Codec for ExportCodec {
    type Encode = Bytes;
    type Decode = PartialSuccess;
    type Encoder = ExportCodec;
    type Decoder = ExportCodec;
    fn encoder(&mut self) -> ExportCodec {
        ExportCodec
    }
    fn decoder(&mut self) -> ExportCodec {
        ExportCodec
    }
}

impl Encoder for ExportCodec {
    type Item = Bytes;
    type Error = tonic::Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for ExportCodec {
    type Item = PartialSuccess;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<PartialSuccess>, tonic::Status> {
        let response = <ExportResponse as prost::Message>::decode(src)
            .map_err(|e| tonic::Status::internal(format!("invalid export response: {e}")))?;
        Ok(Some(response.partial_success.unwrap_or_default()))
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
