//! The `otlp_http` exporter (alias `otlphttp`): sends OTLP over HTTP.
//!
//! Mirrors the Go collector's `otlphttpexporter`: `endpoint` is a base URL
//! to which `/v1/<signal>` is appended, `traces_endpoint`,
//! `metrics_endpoint` and `logs_endpoint` override it per signal;
//! `encoding` `proto` (default) or `json`; `compression` gzip (default),
//! zstd, zlib/deflate or none; `timeout` 30s. Responses 429, 502, 503 and
//! 504 are retried, honouring `Retry-After`; other errors drop the batch.
//! `https://` endpoints use the `tls` settings. `auth: {authenticator:
//! <id>}` names an extension whose credentials every request carries.

use bytes::Bytes;
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
use ferrotel_core::pdata::{Payload, Signal, encode_json};
use ferrotel_core::retry::RetrySettings;
use ferrotel_core::tls::{ClientConnector, TlsClientSettings};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Body encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Encoding {
    /// Protobuf (the default).
    #[default]
    Proto,
    /// OTLP/JSON.
    Json,
}

impl<'de> Deserialize<'de> for Encoding {
    /// As Go's `EncodingType.UnmarshalText`: exact names, Go's error, and
    /// a key given no value read as the empty name, which it refuses.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Encoding, D::Error> {
        let name = String::deserialize(d)?;
        match name.as_str() {
            "proto" => Ok(Encoding::Proto),
            "json" => Ok(Encoding::Json),
            _ => Err(serde::de::Error::custom(format!(
                "invalid encoding type: {name}"
            ))),
        }
    }
}

/// `otlp_http` exporter settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Base URL, e.g. `http://collector:4318`.
    pub endpoint: String,
    /// Full URL for traces; overrides `endpoint`.
    pub traces_endpoint: String,
    /// Full URL for metrics; overrides `endpoint`.
    pub metrics_endpoint: String,
    /// Full URL for logs; overrides `endpoint`.
    pub logs_endpoint: String,
    /// Full URL for profiles; overrides `endpoint` (`/v1development/profiles`).
    pub profiles_endpoint: String,
    /// `proto` or `json`.
    pub encoding: Encoding,
    /// `gzip` (default), `zstd`, `zlib`, `deflate` or `none`.
    pub compression: Compression,
    /// Headers sent with every request.
    pub headers: BTreeMap<String, String>,
    /// Per-attempt timeout. Default 30s.
    pub timeout: GoDuration,
    /// Retries.
    pub retry_on_failure: RetrySettings,
    /// The sending queue.
    pub sending_queue: QueueSettings,
    /// TLS for `https://` endpoints.
    pub tls: TlsClientSettings,
    /// Accepted for compatibility.
    pub read_buffer_size: Option<ferrotel_core::config::ByteSize>,
    /// Accepted for compatibility.
    pub write_buffer_size: Option<ferrotel_core::config::ByteSize>,
    /// Accepted for compatibility.
    pub max_idle_conns: Option<u32>,
    /// Accepted for compatibility.
    pub idle_conn_timeout: Option<GoDuration>,
    /// The extension that gives each request its credentials.
    pub auth: Option<ClientAuthSettings>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            endpoint: String::new(),
            traces_endpoint: String::new(),
            metrics_endpoint: String::new(),
            logs_endpoint: String::new(),
            profiles_endpoint: String::new(),
            encoding: Encoding::Proto,
            compression: Compression::Gzip,
            headers: BTreeMap::new(),
            timeout: GoDuration::secs(30),
            retry_on_failure: RetrySettings::default(),
            sending_queue: QueueSettings::default(),
            tls: TlsClientSettings::default(),
            read_buffer_size: None,
            write_buffer_size: None,
            max_idle_conns: None,
            idle_conn_timeout: None,
            auth: None,
        }
    }
}

impl Config {
    /// The URL for one signal.
    fn url(&self, signal: Signal) -> String {
        let specific = match signal {
            Signal::Traces => &self.traces_endpoint,
            Signal::Metrics => &self.metrics_endpoint,
            Signal::Logs => &self.logs_endpoint,
            Signal::Profiles => &self.profiles_endpoint,
        };
        if !specific.is_empty() {
            return specific.clone();
        }
        let version = match signal {
            Signal::Profiles => "v1development",
            _ => "v1",
        };
        format!(
            "{}/{version}/{}",
            self.endpoint.trim_end_matches('/'),
            signal.as_str()
        )
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        if [
            &self.endpoint,
            &self.traces_endpoint,
            &self.metrics_endpoint,
            &self.logs_endpoint,
            &self.profiles_endpoint,
        ]
        .iter()
        .all(|e| e.is_empty())
        {
            return Err("at least one endpoint must be specified".into());
        }
        for signal in Signal::ALL {
            let url = self.url(signal);
            if url.starts_with("/v1/") || url.starts_with("/v1development/") {
                continue;
            }
            let uri: http::Uri = url
                .parse()
                .map_err(|e| format!("invalid endpoint {url:?}: {e}"))?;
            if !matches!(uri.scheme_str(), Some("http" | "https")) {
                return Err(format!("endpoint {url:?} must be an http:// or https:// URL").into());
            }
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
                    format!(
                        "{other} is not supported by ferrotel yet (gzip, zlib, deflate, zstd and none are)"
                    ),
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

struct HttpFactory;

/// The factory for the `otlp_http` exporter.
pub fn factory() -> impl ExporterFactory {
    HttpFactory
}

impl ExporterFactory for HttpFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(&self, set: CreateSettings, config: Config) -> Result<SharedStage, ComponentError> {
        let tls_used = Signal::ALL
            .iter()
            .any(|s| config.url(*s).starts_with("https://"));
        let sender = HttpSender {
            auth_settings: config.auth.clone(),
            auth: OnceLock::new(),
            tls: config.tls.clone(),
            tls_used,
            client: OnceLock::new(),
            urls: Signal::ALL.map(|s| config.url(s)),
            encoding: config.encoding,
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

struct HttpSender {
    auth_settings: Option<ClientAuthSettings>,
    /// The authenticator `auth` names, found when the exporter starts.
    auth: OnceLock<Option<ClientAuth>>,
    tls: TlsClientSettings,
    /// Whether any URL is `https://`, so that TLS files are read.
    tls_used: bool,
    /// Made at start, when the TLS files are read, as Go's exporter does.
    client: OnceLock<Client<ClientConnector, Full<Bytes>>>,
    urls: [String; Signal::ALL.len()],
    encoding: Encoding,
    compression: Compression,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
}

fn compress(algorithm: Compression, body: Bytes) -> std::io::Result<Bytes> {
    let out = match algorithm {
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(
                Vec::with_capacity(body.len() / 4),
                flate2::Compression::fast(),
            );
            e.write_all(&body)?;
            e.finish()?
        }
        Compression::Zlib | Compression::Deflate => {
            let mut e = flate2::write::ZlibEncoder::new(
                Vec::with_capacity(body.len() / 4),
                flate2::Compression::fast(),
            );
            e.write_all(&body)?;
            e.finish()?
        }
        Compression::Zstd => zstd::bulk::compress(&body, 1)?,
        // `validate` refused the others.
        _ => return Ok(body),
    };
    Ok(Bytes::from(out))
}

#[async_trait]
impl Sender for HttpSender {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let _ = self
            .auth
            .set(host.client_auth(self.auth_settings.as_ref(), false)?);
        let connector = self.tls.connector(false, self.tls_used)?;
        let _ = self
            .client
            .set(Client::builder(TokioExecutor::new()).build(connector));
        Ok(())
    }

    async fn send(&self, data: &Payload) -> Result<(), ConsumeError> {
        self.send_for(data, &ClientInfo::default()).await
    }

    async fn send_for(&self, data: &Payload, from: &ClientInfo) -> Result<(), ConsumeError> {
        let client = self
            .client
            .get()
            .ok_or_else(|| ConsumeError::retryable("exporter is not running"))?;
        let url = &self.urls[data.signal() as usize];
        let (body, content_type) = match self.encoding {
            // Profiles are kept as protobuf (`pdata::Profiles`).
            _ if data.signal() == Signal::Profiles => {
                (data.encode_request(), "application/x-protobuf")
            }
            Encoding::Proto => (data.encode_request(), "application/x-protobuf"),
            Encoding::Json => (
                Bytes::from(encode_json(data.telemetry())),
                "application/json",
            ),
        };
        let body = compress(self.compression, body)
            .map_err(|e| ConsumeError::Permanent(format!("compress: {e}")))?;
        let mut req = http::Request::post(url)
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
        if data.signal() == Signal::Profiles
            && let Some(headers) = req.headers_mut()
        {
            // Go's exporter states the wire version over any user value.
            headers.insert(
                "otlp-profiles-development-version",
                http::HeaderValue::from_static("1"),
            );
        }
        if let Some(Some(auth)) = self.auth.get()
            && let Some(headers) = req.headers_mut()
        {
            auth.apply(from, headers)
                .await
                .map_err(|e| ConsumeError::retryable(format!("failed to get credentials: {e}")))?;
        }
        let req = req
            .body(Full::new(body))
            .map_err(|e| ConsumeError::Permanent(format!("build request: {e}")))?;
        let resp = client
            .request(req)
            .await
            .map_err(|e| ConsumeError::retryable(format!("failed to make an HTTP request: {e}")))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = resp
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = resp
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let detail = String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned();
        let message = format!(
            "error exporting items, request to {url} responded with HTTP Status Code {}, Message={detail}",
            status.as_u16()
        );
        match status.as_u16() {
            429 | 502 | 503 | 504 => Err(ConsumeError::Retryable {
                message,
                retry_after,
            }),
            _ => Err(ConsumeError::Permanent(message)),
        }
    }
}
