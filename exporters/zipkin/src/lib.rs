//! The `zipkin` exporter: sends spans to a Zipkin v2 endpoint.
//!
//! Mirrors contrib's `zipkinexporter` (whose last release on the module
//! proxy is v0.148.0; its translator is `pkg/translator/zipkin` v0.165.0,
//! which `ferrotel-zipkin` reproduces): `endpoint` (required) is the full
//! URL, e.g. `http://zipkin:9411/api/v2/spans`; `format` `json` (default)
//! or `proto`; `timeout` 5s; `default_service_name` is accepted and, as in
//! Go, unused. A batch whose spans cannot be written (an empty trace or
//! span id, a negative duration) is dropped as a permanent error; any
//! answer outside 2xx is retried, as Go's exporter does. Compression is off
//! unless `compression` is set (gzip, zstd, zlib, deflate). Not supported:
//! `auth`.

use bytes::Bytes;
use ferrotel_core::async_trait;
use ferrotel_core::component::{
    ComponentConfig, ComponentError, CreateSettings, ExporterFactory, Host, Metadata, SharedStage,
};
use ferrotel_core::config::{ByteSize, Compression, GoDuration, Invalid, Validate};
use ferrotel_core::consumer::ConsumeError;
use ferrotel_core::exporter_helper::{ExporterHelper, HelperSettings, QueueSettings, Sender};
use ferrotel_core::pdata::{Payload, Telemetry};
use ferrotel_core::retry::RetrySettings;
use ferrotel_core::tls::{ClientConnector, TlsClientSettings};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// `zipkin` exporter settings, with Go's defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The full URL spans are POSTed to.
    pub endpoint: String,
    /// `json` or `proto`.
    pub format: String,
    /// Accepted; unused, as in Go.
    pub default_service_name: String,
    /// Per-request timeout. Default 5s.
    pub timeout: GoDuration,
    /// Headers sent with every request.
    pub headers: BTreeMap<String, String>,
    /// Body compression; none by default.
    pub compression: Compression,
    /// TLS for `https://` endpoints.
    pub tls: TlsClientSettings,
    /// Retries.
    pub retry_on_failure: RetrySettings,
    /// The sending queue.
    pub sending_queue: QueueSettings,
    /// Accepted for compatibility.
    pub read_buffer_size: Option<ByteSize>,
    /// Accepted for compatibility. Default 512 KiB.
    pub write_buffer_size: Option<ByteSize>,
    /// Accepted for compatibility.
    pub max_idle_conns: Option<u32>,
    /// Accepted for compatibility.
    pub max_idle_conns_per_host: Option<u32>,
    /// Accepted for compatibility.
    pub max_conns_per_host: Option<u32>,
    /// Accepted for compatibility.
    pub idle_conn_timeout: Option<GoDuration>,
    /// Accepted for compatibility.
    pub proxy_url: Option<String>,
    /// Not supported: refused at load.
    pub auth: Option<serde::de::IgnoredAny>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            endpoint: String::new(),
            format: "json".into(),
            default_service_name: "<missing service name>".into(),
            timeout: GoDuration::secs(5),
            headers: BTreeMap::new(),
            compression: Compression::None,
            tls: TlsClientSettings::default(),
            retry_on_failure: RetrySettings::default(),
            sending_queue: QueueSettings::default(),
            read_buffer_size: None,
            write_buffer_size: None,
            max_idle_conns: None,
            max_idle_conns_per_host: None,
            max_conns_per_host: None,
            idle_conn_timeout: None,
            proxy_url: None,
            auth: None,
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        if self.endpoint.is_empty() {
            return Err("endpoint required".into());
        }
        if self.auth.is_some() {
            return Err(Invalid::at("auth", "auth is not supported by ferrotel yet"));
        }
        match self.compression {
            Compression::Gzip
            | Compression::Zstd
            | Compression::Zlib
            | Compression::Deflate
            | Compression::None => {}
            other => {
                return Err(Invalid::at(
                    "compression",
                    format!("{other} is not supported by ferrotel yet"),
                ));
            }
        }
        for (k, v) in &self.headers {
            if http::HeaderName::try_from(k.as_str()).is_err()
                || http::HeaderValue::try_from(v.as_str()).is_err()
            {
                return Err(format!("headers: invalid header {k:?}").into());
            }
        }
        self.tls.validate_at("tls")?;
        self.retry_on_failure.validate_at("retry_on_failure")?;
        self.sending_queue.validate_at("sending_queue")
    }
}

#[derive(Clone, Copy)]
enum Format {
    Json,
    Proto,
}

struct ZipkinFactory;

/// The factory for the `zipkin` exporter.
pub fn factory() -> impl ExporterFactory {
    ZipkinFactory
}

impl ExporterFactory for ZipkinFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(&self, set: CreateSettings, config: Config) -> Result<SharedStage, ComponentError> {
        // Go checks the format when it creates the exporter.
        let format = match config.format.as_str() {
            "json" => Format::Json,
            "proto" => Format::Proto,
            other => return Err(format!("{other} is not one of json or proto").into()),
        };
        let sender = ZipkinSender {
            url: config.endpoint.clone(),
            tls: config.tls.clone(),
            tls_used: config.endpoint.starts_with("https://"),
            client: OnceLock::new(),
            format,
            compression: config.compression,
            headers: config
                .headers
                .iter()
                .filter_map(|(k, v)| {
                    Some((
                        http::HeaderName::try_from(k.as_str()).ok()?,
                        http::HeaderValue::try_from(v.as_str()).ok()?,
                    ))
                })
                .collect(),
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

struct ZipkinSender {
    url: String,
    tls: TlsClientSettings,
    tls_used: bool,
    client: OnceLock<Client<ClientConnector, Full<Bytes>>>,
    format: Format,
    compression: Compression,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
}

fn compress(algorithm: Compression, body: Vec<u8>) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    Ok(match algorithm {
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&body)?;
            e.finish()?
        }
        Compression::Zlib | Compression::Deflate => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&body)?;
            e.finish()?
        }
        Compression::Zstd => zstd::bulk::compress(&body, 1)?,
        _ => body,
    })
}

#[async_trait]
impl Sender for ZipkinSender {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let connector = self.tls.connector(false, self.tls_used)?;
        let _ = self
            .client
            .set(Client::builder(TokioExecutor::new()).build(connector));
        Ok(())
    }

    async fn send(&self, data: &Payload) -> Result<(), ConsumeError> {
        let client = self
            .client
            .get()
            .ok_or_else(|| ConsumeError::retryable("exporter is not running"))?;
        let Telemetry::Traces(rss) = data.telemetry() else {
            return Ok(());
        };
        let failed = |e: String| {
            ConsumeError::Permanent(format!(
                "failed to push trace data via Zipkin exporter: {e}"
            ))
        };
        let spans = ferrotel_zipkin::from_traces(rss).map_err(failed)?;
        let (body, content_type) = match self.format {
            Format::Json => (
                ferrotel_zipkin::json::encode_spans(&spans).map_err(failed)?,
                "application/json",
            ),
            Format::Proto => (
                ferrotel_zipkin::proto::encode_spans(&spans),
                "application/x-protobuf",
            ),
        };
        let body = compress(self.compression, body)
            .map_err(|e| ConsumeError::Permanent(format!("compress: {e}")))?;
        let mut req = http::Request::post(&self.url)
            .header(http::header::CONTENT_TYPE, content_type)
            .header(
                http::header::USER_AGENT,
                concat!("ferrotel/", env!("CARGO_PKG_VERSION")),
            );
        if self.compression != Compression::None {
            req = req.header(http::header::CONTENT_ENCODING, self.compression.as_str());
        }
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| ConsumeError::Permanent(format!("build request: {e}")))?;
        let resp = client.request(req).await.map_err(|e| {
            ConsumeError::retryable(format!(
                "failed to push trace data via Zipkin exporter: {e}"
            ))
        })?;
        let status = resp.status().as_u16();
        if !(200..=299).contains(&status) {
            return Err(ConsumeError::retryable(format!(
                "failed the request with status code {status}"
            )));
        }
        Ok(())
    }
}
