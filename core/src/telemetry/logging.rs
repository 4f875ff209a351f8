//! The collector's own logs, through `tracing`, to stderr.

use crate::config::LogsConfig;
use tracing_subscriber::filter::LevelFilter;

/// Installs the global subscriber once; later calls (after a reload) keep
/// the first, since the level rarely changes and `tracing` has one global.
pub fn init_logging(config: &LogsConfig) {
    let level = match config.level.to_ascii_lowercase().as_str() {
        "debug" => LevelFilter::DEBUG,
        "warn" => LevelFilter::WARN,
        "error" | "dpanic" | "panic" | "fatal" => LevelFilter::ERROR,
        _ => LevelFilter::INFO,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .try_init();
}
