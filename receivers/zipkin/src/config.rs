//! `zipkin` receiver settings, with the Go receiver's defaults
//! (`confighttp.ServerConfig` squashed, and `parse_string_tags`).

use ferrotel_core::component::ComponentConfig;
use ferrotel_core::config::{ByteSize, GoDuration, Invalid, Validate};
use ferrotel_core::tls::TlsServerSettings;
use serde::Deserialize;
use std::collections::BTreeMap;

/// `receivers::zipkin`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `host:port`. Default `localhost:9411`.
    pub endpoint: String,
    /// Only `tcp`.
    pub transport: String,
    /// Read tag values that look like numbers or booleans as such.
    pub parse_string_tags: bool,
    /// Largest body after decompression. Default 20 MiB.
    pub max_request_body_size: ByteSize,
    /// Pass request headers downstream.
    pub include_metadata: bool,
    /// Extra headers on every response.
    pub response_headers: BTreeMap<String, String>,
    /// TLS; plain text when absent.
    pub tls: Option<TlsServerSettings>,
    /// Accepted; every supported encoding is always allowed.
    pub compression_algorithms: Option<Vec<String>>,
    /// Accepted; CORS headers are not sent.
    pub cors: Option<serde_yaml_ng::Value>,
    /// Not supported: refused at load.
    pub auth: Option<serde_yaml_ng::Value>,
    /// Accepted for compatibility.
    pub dialer: Option<serde_yaml_ng::Value>,
    /// Accepted for compatibility.
    pub read_timeout: Option<GoDuration>,
    /// Accepted for compatibility.
    pub read_header_timeout: Option<GoDuration>,
    /// Accepted for compatibility.
    pub write_timeout: Option<GoDuration>,
    /// Accepted for compatibility.
    pub idle_timeout: Option<GoDuration>,
    /// Accepted for compatibility.
    pub keepalive: Option<serde_yaml_ng::Value>,
    /// Not supported: refused at load when not empty.
    pub middlewares: Option<Vec<serde_yaml_ng::Value>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            endpoint: "localhost:9411".into(),
            transport: "tcp".into(),
            parse_string_tags: false,
            max_request_body_size: ByteSize(20 * 1024 * 1024),
            include_metadata: false,
            response_headers: BTreeMap::new(),
            tls: None,
            compression_algorithms: None,
            cors: None,
            auth: None,
            dialer: None,
            read_timeout: None,
            read_header_timeout: None,
            write_timeout: None,
            idle_timeout: None,
            keepalive: None,
            middlewares: None,
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        if self.transport != "tcp" {
            return Err(format!(
                "transport: only \"tcp\" is supported, got {:?}",
                self.transport
            )
            .into());
        }
        if self.auth.is_some() {
            return Err(Invalid::at("auth", "auth is not supported by ferrotel yet"));
        }
        if self.middlewares.as_ref().is_some_and(|m| !m.is_empty()) {
            return Err(Invalid::at(
                "middlewares",
                "middlewares are not supported by ferrotel yet",
            ));
        }
        if let Some(tls) = &self.tls {
            tls.validate_at("tls")?;
        }
        Ok(())
    }
}
