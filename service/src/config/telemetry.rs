//! `service::telemetry`: the collector's own logs and metrics. Go decodes
//! `logs` and `metrics` with their own `Unmarshal`, so their errors nest
//! one level deeper and name the root by its Go type; [`RawTelemetry`]
//! decodes them the same way.

use ferrotel_core::config::{DecodeError, MetricsLevel, decode_component};
use serde::{Deserialize, Deserializer};
use serde_yaml_ng::{Mapping, Value};

/// `service::telemetry`.
#[derive(Debug, Clone, Default)]
pub struct TelemetryConfig {
    /// `logs`.
    pub logs: LogsConfig,
    /// `metrics`.
    pub metrics: MetricsConfig,
    /// `resource`: extra attributes; accepted, reported as labels.
    pub resource: Mapping,
    /// `traces`: accepted for compatibility; ferrotel does not trace itself.
    pub traces: Value,
}

/// `service::telemetry` as written, before its sections are decoded.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawTelemetry {
    logs: Value,
    metrics: Value,
    resource: Mapping,
    traces: Value,
}

/// A section of `service::telemetry` that did not decode.
pub(super) struct TelemetryDecodeError {
    /// `logs` or `metrics`.
    pub(super) section: &'static str,
    /// The error, in Go's words, below the section.
    pub(super) message: String,
}

impl RawTelemetry {
    /// Decodes `logs` and `metrics` as Go's `LogsConfigV030` and
    /// `MetricsConfigV030`.
    pub(super) fn decode(self) -> Result<TelemetryConfig, TelemetryDecodeError> {
        let nested = |section: &'static str, go_type: &'static str| {
            move |e: DecodeError| TelemetryDecodeError {
                section,
                message: e.describe(go_type),
            }
        };
        Ok(TelemetryConfig {
            logs: decode_component(&self.logs)
                .map_err(nested("logs", "migration.LogsConfigV030"))?,
            metrics: decode_component(&self.metrics)
                .map_err(nested("metrics", "migration.MetricsConfigV030"))
                .map_err(hint_at_readers)?,
            resource: self.resource,
            traces: self.traces,
        })
    }
}

/// Go refuses `metrics::address` (its replacement is a reader); say how
/// to write it, on a line of its own after Go's.
fn hint_at_readers(mut e: TelemetryDecodeError) -> TelemetryDecodeError {
    if e.message.ends_with("has invalid keys: address")
        || e.message.contains("has invalid keys: address,")
    {
        e.message.push_str(
            "\nhint: `address` is gone; serve the self-metrics with `readers: [{pull: {exporter: {prometheus: {host: localhost, port: 8888}}}}]`",
        );
    }
    e
}

/// `service::telemetry::logs::level`: zap's levels, decoded as zap's
/// `UnmarshalText` does (as written, else lowercased; empty is `info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogLevel {
    /// `debug`.
    Debug,
    /// `info`, the default.
    #[default]
    Info,
    /// `warn` or `warning`.
    Warn,
    /// `error`.
    Error,
    /// `dpanic`: logged as an error.
    DPanic,
    /// `panic`: logged as an error.
    Panic,
    /// `fatal`: logged as an error.
    Fatal,
}

impl LogLevel {
    /// The level zap takes `name` for.
    pub fn parse(name: &str) -> Result<LogLevel, String> {
        let exact = |name: &str| {
            Some(match name {
                "debug" => LogLevel::Debug,
                "info" | "" => LogLevel::Info,
                "warn" | "warning" => LogLevel::Warn,
                "error" => LogLevel::Error,
                "dpanic" => LogLevel::DPanic,
                "panic" => LogLevel::Panic,
                "fatal" => LogLevel::Fatal,
                _ => return None,
            })
        };
        exact(name)
            .or_else(|| exact(&name.to_lowercase()))
            .ok_or_else(|| format!("unrecognized level: {name:?}"))
    }
}

impl<'de> Deserialize<'de> for LogLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LogLevel, D::Error> {
        // `null` keeps the default, as Go does for a nil value.
        let name: Option<String> = Option::deserialize(d)?;
        name.map_or(Ok(LogLevel::default()), |n| {
            LogLevel::parse(&n).map_err(serde::de::Error::custom)
        })
    }
}

/// `service::telemetry::logs`. Keys the Go collector has that ferrotel does
/// not use are accepted so that its configs load.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LogsConfig {
    /// `debug`, `info` (default), `warn`, `error`, ...
    pub level: LogLevel,
    /// `console` (default) or `json`; checked when the logger is made, as
    /// Go does.
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
            level: LogLevel::Info,
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

impl LogsConfig {
    /// Go checks `encoding` only when it builds the logger, at start (so
    /// `validate` accepts any), with zap's error.
    pub fn check_encoding(&self) -> Result<(), String> {
        match self.encoding.as_str() {
            "console" | "json" => Ok(()),
            other => Err(format!("no encoder registered for name {other:?}")),
        }
    }
}

/// `service::telemetry::metrics`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MetricsConfig {
    /// `none`, `basic`, `normal` (default), `detailed`.
    pub level: MetricsLevel,
    /// OpenTelemetry SDK readers; a `pull.exporter.prometheus` reader sets
    /// the endpoint, others are accepted and ignored.
    pub readers: Vec<Value>,
}

impl MetricsConfig {
    /// Where to serve `/metrics`: the first Prometheus pull reader, else
    /// `localhost:8888`.
    pub fn prometheus_endpoint(&self) -> String {
        for reader in &self.readers {
            let prom = &reader["pull"]["exporter"]["prometheus"];
            if prom.is_mapping() {
                let host = prom["host"].as_str().unwrap_or("localhost");
                let port = prom["port"].as_u64().unwrap_or(8888);
                return format!("{host}:{port}");
            }
        }
        "localhost:8888".into()
    }
}
