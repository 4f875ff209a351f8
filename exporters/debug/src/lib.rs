//! The `debug` exporter: writes telemetry to the collector's log.
//!
//! Mirrors the Go collector's `debugexporter`: `verbosity` `basic` logs one
//! summary line per batch, `normal` one line per item, `detailed` a full
//! dump in the Go exporter's layout. `sampling_initial`/`sampling_thereafter`
//! thin the output per second as Go's zap sampler does. With
//! `use_internal_logger: false` the text goes to stdout instead.

mod format;

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, ExporterFactory, Metadata,
    SharedStage,
};
use ferrotel_core::config::{Invalid, MetricsLevel};
use ferrotel_core::consumer::{Batch, ConsumeError, Consumer};
use ferrotel_core::pdata::Signal;
use serde::Deserialize;
use std::io::Write;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Instant;

/// `debug` exporter settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `basic` (a summary line per batch, the default), `normal` (a line
    /// per item) or `detailed` (everything). Go's type for it is the
    /// self-metrics level, read in any case; `none` decodes and `validate`
    /// refuses it.
    pub verbosity: MetricsLevel,
    /// Messages logged each second before sampling starts. Default 2.
    pub sampling_initial: u32,
    /// After that, log every Nth message. Default 1.
    pub sampling_thereafter: u32,
    /// Log through the collector's logger (default) or write to stdout.
    pub use_internal_logger: bool,
    /// Accepted for compatibility; only `stdout` is supported.
    pub output_paths: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            verbosity: MetricsLevel::Basic,
            sampling_initial: 2,
            sampling_thereafter: 1,
            use_internal_logger: true,
            output_paths: vec!["stdout".into()],
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        if self.verbosity == MetricsLevel::None {
            return Err("verbosity level \"None\" is not supported".into());
        }
        if self.output_paths.iter().any(|p| p != "stdout") {
            return Err("output_paths: only \"stdout\" is supported".into());
        }
        Ok(())
    }
}

struct DebugFactory;

/// The factory for the `debug` exporter.
pub fn factory() -> impl ExporterFactory {
    DebugFactory
}

impl ExporterFactory for DebugFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(&self, set: CreateSettings, config: Config) -> Result<SharedStage, ComponentError> {
        Ok(Arc::new(DebugExporter {
            id: set.id.to_string(),
            config,
            sampler: Mutex::new(Sampler {
                second: Instant::now(),
                count: 0,
            }),
        }))
    }
}

struct Sampler {
    second: Instant,
    count: u32,
}

struct DebugExporter {
    id: String,
    config: Config,
    sampler: Mutex<Sampler>,
}

impl DebugExporter {
    fn sampled(&self) -> bool {
        let mut s = self.sampler.lock().unwrap_or_else(|p| p.into_inner());
        if s.second.elapsed().as_secs() >= 1 {
            s.second = Instant::now();
            s.count = 0;
        }
        s.count += 1;
        let (initial, every) = (
            self.config.sampling_initial,
            self.config.sampling_thereafter.max(1),
        );
        s.count <= initial || (s.count - initial).is_multiple_of(every)
    }
}

#[async_trait]
impl Consumer for DebugExporter {
    fn persists_before_ack(&self) -> bool {
        false
    }

    async fn consume(&self, batch: Batch) -> Result<(), ConsumeError> {
        if !self.sampled() {
            return Ok(());
        }
        let data = batch.data();
        let summary = format::summary(data);
        let body = match self.config.verbosity {
            MetricsLevel::None | MetricsLevel::Basic => String::new(),
            MetricsLevel::Normal => format::normal(data),
            MetricsLevel::Detailed => format::detailed(data),
        };
        if self.config.use_internal_logger {
            let kind = match data.signal() {
                Signal::Traces => "Traces",
                Signal::Metrics => "Metrics",
                Signal::Logs => "Logs",
                Signal::Profiles => "Profiles",
            };
            if body.is_empty() {
                tracing::info!(exporter = %self.id, "{kind} {summary}");
            } else {
                tracing::info!(exporter = %self.id, "{kind} {summary}\n{body}");
            }
        } else {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(body.as_bytes());
        }
        Ok(())
    }
}

impl Component for DebugExporter {}
