//! The collector's own metrics, served in Prometheus text format.
//!
//! Names and labels are the Go collector's (`otelcol_receiver_accepted_spans`
//! with `receiver` and `transport`), without `_total` or unit suffixes, so
//! existing dashboards keep working. Counters are plain atomics handed to
//! components at creation, so counting on a hot path is one atomic add.

mod process;
mod registry;

pub use registry::{Counter, Gauge, Histogram, Registry};

use crate::config::MetricsLevel;
use crate::pdata::Signal;
use std::sync::Arc;

/// Handle to the registry, given to every component.
#[derive(Clone)]
pub struct Telemetry {
    /// Where metrics are registered.
    pub registry: Arc<Registry>,
    /// `service::telemetry::metrics::level`.
    pub level: MetricsLevel,
}

impl Telemetry {
    /// A registry with the service's identifying labels.
    pub fn new(service_name: &str, service_version: &str, level: MetricsLevel) -> Telemetry {
        let instance = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let registry = Arc::new(Registry::new(vec![
            ("service_instance_id".into(), instance),
            ("service_name".into(), service_name.into()),
            ("service_version".into(), service_version.into()),
        ]));
        process::register(&registry);
        Telemetry { registry, level }
    }

    /// A registry that nothing reads, for tests.
    pub fn noop() -> Telemetry {
        Telemetry {
            registry: Arc::new(Registry::new(Vec::new())),
            level: MetricsLevel::None,
        }
    }
}

/// The counters a receiver keeps for one signal and transport.
#[derive(Clone)]
pub struct ReceiverMetrics {
    /// Items handed to the pipeline and taken.
    pub accepted: Counter,
    /// Items the pipeline refused.
    pub refused: Counter,
}

impl ReceiverMetrics {
    /// Registers `otelcol_receiver_{accepted,refused}_<items>`.
    pub fn new(t: &Telemetry, receiver: &str, transport: &str, signal: Signal) -> ReceiverMetrics {
        let labels = [("receiver", receiver), ("transport", transport)];
        let item = signal.item_name();
        ReceiverMetrics {
            accepted: t.registry.counter(
                &format!("otelcol_receiver_accepted_{item}"),
                &format!("Number of {item} successfully pushed into the pipeline."),
                &labels,
            ),
            refused: t.registry.counter(
                &format!("otelcol_receiver_refused_{item}"),
                &format!("Number of {item} that could not be pushed into the pipeline."),
                &labels,
            ),
        }
    }
}

/// The counters an exporter keeps for one signal.
#[derive(Clone)]
pub struct ExporterMetrics {
    /// Items delivered.
    pub sent: Counter,
    /// Items that failed delivery for good.
    pub send_failed: Counter,
    /// Items dropped because the queue was full.
    pub enqueue_failed: Counter,
}

impl ExporterMetrics {
    /// Registers `otelcol_exporter_{sent,send_failed,enqueue_failed}_<items>`.
    pub fn new(t: &Telemetry, exporter: &str, signal: Signal) -> ExporterMetrics {
        let labels = [("exporter", exporter)];
        let item = signal.item_name();
        let counter = |what: &str, help: &str| {
            t.registry.counter(
                &format!("otelcol_exporter_{what}_{item}"),
                &format!("Number of {item} {help}"),
                &labels,
            )
        };
        ExporterMetrics {
            sent: counter("sent", "successfully sent to destination."),
            send_failed: counter("send_failed", "in failed attempts to send to destination."),
            enqueue_failed: counter("enqueue_failed", "failed to be added to the sending queue."),
        }
    }
}
