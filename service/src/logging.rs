//! The collector's own logs, through `tracing`, to stderr.
//!
//! Logging starts at `info` before the config is read, so config warnings
//! (deprecated aliases, unset variables) are seen; the configured level is
//! applied once the config loads, and again on every reload.

use crate::config::{LogLevel, LogsConfig};
use std::sync::OnceLock;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::reload;
use tracing_subscriber::util::SubscriberInitExt;

static LEVEL: OnceLock<reload::Handle<LevelFilter, tracing_subscriber::Registry>> = OnceLock::new();

/// Installs the global subscriber at `info`; later calls do nothing.
pub(crate) fn init_logging() {
    LEVEL.get_or_init(|| {
        let (filter, handle) = reload::Layer::new(LevelFilter::INFO);
        let fmt = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_target(false);
        let _ = tracing_subscriber::registry()
            .with(filter)
            .with(fmt)
            .try_init();
        handle
    });
}

/// Applies `service::telemetry::logs::level`.
pub(crate) fn apply_log_level(config: &LogsConfig) {
    let level = match config.level {
        LogLevel::Debug => LevelFilter::DEBUG,
        LogLevel::Info => LevelFilter::INFO,
        LogLevel::Warn => LevelFilter::WARN,
        LogLevel::Error | LogLevel::DPanic | LogLevel::Panic | LogLevel::Fatal => {
            LevelFilter::ERROR
        }
    };
    if let Some(handle) = LEVEL.get() {
        let _ = handle.modify(|f| *f = level);
    }
}
