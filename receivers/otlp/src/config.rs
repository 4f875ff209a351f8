//! `otlp` receiver settings, with the Go collector's defaults.

use ferrotel_core::auth::ServerAuthSettings;
use ferrotel_core::component::ComponentConfig;
use ferrotel_core::config::ByteSize;
use ferrotel_core::config::Invalid;
use ferrotel_core::tls::TlsServerSettings;
use serde::Deserialize;

/// `receivers::otlp`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Which protocols to serve.
    pub protocols: Protocols,
}

/// `protocols`: at least one of `grpc` and `http`. A key with no value
/// (`grpc:`) enables the protocol with its defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Protocols {
    /// OTLP over gRPC.
    #[serde(deserialize_with = "ferrotel_core::config::present_means_enabled")]
    pub grpc: Option<GrpcConfig>,
    /// OTLP over HTTP.
    #[serde(deserialize_with = "ferrotel_core::config::present_means_enabled")]
    pub http: Option<HttpConfig>,
}

/// `protocols::grpc`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct GrpcConfig {
    /// `host:port`. Default `localhost:4317`.
    pub endpoint: String,
    /// Only `tcp`.
    pub transport: String,
    /// Largest message, in MiB. Default 4.
    pub max_recv_msg_size_mib: u64,
    /// Streams per connection; 0 leaves it to the HTTP/2 default.
    pub max_concurrent_streams: u32,
    /// Accepted for compatibility.
    pub read_buffer_size: ByteSize,
    /// Accepted for compatibility.
    pub write_buffer_size: ByteSize,
    /// Accepted; HTTP/2 keepalive uses tonic's defaults.
    pub keepalive: Option<serde_yaml_ng::Value>,
    /// Pass gRPC metadata downstream (for `batch::metadata_keys`).
    pub include_metadata: bool,
    /// TLS; plain text when absent.
    pub tls: Option<TlsServerSettings>,
    /// The extension that authenticates each call (`authenticator`).
    pub auth: Option<ServerAuthSettings>,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        GrpcConfig {
            endpoint: "localhost:4317".into(),
            transport: "tcp".into(),
            max_recv_msg_size_mib: 4,
            max_concurrent_streams: 0,
            read_buffer_size: ByteSize(512 * 1024),
            write_buffer_size: ByteSize(0),
            keepalive: None,
            include_metadata: false,
            tls: None,
            auth: None,
        }
    }
}

/// `protocols::http`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct HttpConfig {
    /// `host:port`. Default `localhost:4318`.
    pub endpoint: String,
    /// Largest body after decompression. Default 20 MiB.
    pub max_request_body_size: ByteSize,
    /// Pass request headers downstream (for `batch::metadata_keys`).
    pub include_metadata: bool,
    /// Path for traces. Default `/v1/traces`.
    pub traces_url_path: String,
    /// Path for metrics. Default `/v1/metrics`.
    pub metrics_url_path: String,
    /// Path for logs. Default `/v1/logs`.
    pub logs_url_path: String,
    /// Accepted; CORS headers are not sent yet.
    pub cors: Option<serde_yaml_ng::Value>,
    /// Accepted; every supported encoding is always allowed.
    pub compression_algorithms: Option<Vec<String>>,
    /// Extra headers on every response.
    pub response_headers: std::collections::BTreeMap<String, String>,
    /// TLS; plain text when absent.
    pub tls: Option<TlsServerSettings>,
    /// The extension that authenticates each request (`authenticator`,
    /// `request_params`).
    pub auth: Option<ServerAuthSettings>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            endpoint: "localhost:4318".into(),
            max_request_body_size: ByteSize(20 * 1024 * 1024),
            include_metadata: false,
            traces_url_path: "/v1/traces".into(),
            metrics_url_path: "/v1/metrics".into(),
            logs_url_path: "/v1/logs".into(),
            cors: None,
            compression_algorithms: None,
            response_headers: Default::default(),
            tls: None,
            auth: None,
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        let p = &self.protocols;
        if p.grpc.is_none() && p.http.is_none() {
            return Err(Invalid::at(
                "protocols",
                "must specify at least one protocol when using the OTLP receiver",
            ));
        }
        if let Some(g) = &p.grpc {
            if g.transport != "tcp" {
                return Err(format!(
                    "protocols::grpc::transport: only \"tcp\" is supported, got {:?}",
                    g.transport
                )
                .into());
            }
            if let Some(tls) = &g.tls {
                tls.validate_in("protocols::grpc", "tls")?;
            }
        }
        if let Some(h) = &p.http {
            if let Some(tls) = &h.tls {
                tls.validate_in("protocols::http", "serverconfig::tls")?;
            }
            for path in [&h.traces_url_path, &h.metrics_url_path, &h.logs_url_path] {
                if !path.starts_with('/') {
                    return Err(format!(
                        "protocols::http: url path {path:?} must start with \"/\""
                    )
                    .into());
                }
            }
        }
        Ok(())
    }
}
