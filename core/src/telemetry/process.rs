//! `otelcol_process_*`: uptime, CPU and resident memory, read from /proc.

use super::Registry;
use std::time::Instant;

pub(super) fn register(registry: &Registry) {
    let started = Instant::now();
    registry.computed(
        "otelcol_process_uptime",
        "Uptime of the process",
        "counter",
        move || started.elapsed().as_secs_f64(),
    );
    registry.computed(
        "otelcol_process_cpu_seconds",
        "Total CPU user and system time in seconds",
        "counter",
        cpu_seconds,
    );
    registry.computed(
        "otelcol_process_memory_rss",
        "Total physical memory (resident set size)",
        "gauge",
        || crate::memory::rss_bytes().unwrap_or(0) as f64,
    );
}

fn cpu_seconds() -> f64 {
    // Fields 14 and 15 of /proc/self/stat are utime and stime in clock
    // ticks; the command name (field 2) may hold spaces, so split after it.
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some(after) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
        return 0.0;
    };
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
    });
    ticks / 100.0
}
