//! `service::telemetry`: the collector's own logs and metrics.

use ferrotel_core::config::MetricsLevel;
use serde::Deserialize;
use serde_yaml_ng::Value;

/// `service::telemetry`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TelemetryConfig {
    /// `logs`.
    pub logs: LogsConfig,
    /// `metrics`.
    pub metrics: MetricsConfig,
    /// `resource`: extra attributes; accepted, reported as labels.
    pub resource: serde_yaml_ng::Mapping,
    /// `traces`: accepted for compatibility; ferrotel does not trace itself.
    pub traces: Value,
}

impl TelemetryConfig {
    pub(super) fn validate(&self) -> Result<(), String> {
        match self.logs.level.to_ascii_lowercase().as_str() {
            "debug" | "info" | "warn" | "error" | "dpanic" | "panic" | "fatal" => {}
            other => return Err(format!("logs: unrecognized level: {other:?}")),
        }
        match self.logs.encoding.as_str() {
            "console" | "json" => Ok(()),
            other => Err(format!(
                "logs: unknown encoding {other:?} (valid values: [console json])"
            )),
        }
    }
}

/// `service::telemetry::logs`. Keys the Go collector has that ferrotel does
/// not use are accepted so that its configs load.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LogsConfig {
    /// `debug`, `info` (default), `warn`, `error`.
    pub level: String,
    /// `console` (default) or `json`.
    pub encoding: String,
    /// Accepted, unused.
    pub development: bool,
    /// Accepted, unused.
    pub disable_caller: bool,
    /// Accepted, unused.
    pub disable_stacktrace: bool,
    /// Accepted; ferrotel logs to stderr.
    pub output_paths: Vec<String>,
    /// Accepted; ferrotel logs to stderr.
    pub error_output_paths: Vec<String>,
    /// Accepted, unused.
    pub initial_fields: Value,
    /// Accepted, unused.
    pub sampling: Value,
    /// Accepted, unused.
    pub processors: Value,
}

impl Default for LogsConfig {
    fn default() -> Self {
        LogsConfig {
            level: "info".into(),
            encoding: "console".into(),
            development: false,
            disable_caller: false,
            disable_stacktrace: false,
            output_paths: vec!["stderr".into()],
            error_output_paths: vec!["stderr".into()],
            initial_fields: Value::Null,
            sampling: Value::Null,
            processors: Value::Null,
        }
    }
}

/// `service::telemetry::metrics`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MetricsConfig {
    /// `none`, `basic`, `normal` (default), `detailed`.
    pub level: MetricsLevel,
    /// Deprecated in Go and ignored there; ferrotel honours it as the
    /// Prometheus endpoint when `readers` gives none.
    pub address: Option<String>,
    /// OpenTelemetry SDK readers; a `pull.exporter.prometheus` reader sets
    /// the endpoint, others are accepted and ignored.
    pub readers: Vec<Value>,
}

impl MetricsConfig {
    /// Where to serve `/metrics`: the first Prometheus pull reader, else
    /// `address`, else `localhost:8888`.
    pub fn prometheus_endpoint(&self) -> String {
        for reader in &self.readers {
            let prom = &reader["pull"]["exporter"]["prometheus"];
            if prom.is_mapping() {
                let host = prom["host"].as_str().unwrap_or("localhost");
                let port = prom["port"].as_u64().unwrap_or(8888);
                return format!("{host}:{port}");
            }
        }
        self.address
            .clone()
            .unwrap_or_else(|| "localhost:8888".into())
    }
}
