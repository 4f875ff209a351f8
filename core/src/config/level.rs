//! `service::telemetry::metrics::level`, which components read to decide
//! which self-metrics to keep (Go's `configtelemetry.Level`).

use serde::Deserialize;

/// How much the collector reports about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MetricsLevel {
    /// No self-metrics and no endpoint.
    None,
    /// Essential metrics.
    Basic,
    /// The default.
    #[default]
    Normal,
    /// Everything.
    Detailed,
}
