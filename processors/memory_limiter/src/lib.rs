//! The `memory_limiter` processor: refuses data while the collector uses
//! more memory than configured, so senders back off instead of the process
//! growing until it is killed.
//!
//! Mirrors the Go collector's `memorylimiterprocessor` settings
//! (`check_interval`, `limit_mib` or `limit_percentage`, `spike_limit_mib`
//! or `spike_limit_percentage` with a 20% default) and its soft/hard limit
//! semantics: above the soft limit (limit − spike) data is refused with a
//! retryable error, which receivers answer with gRPC `RESOURCE_EXHAUSTED`
//! or HTTP 429 and `Retry-After`. What differs: Go samples the Go heap and
//! forces a GC above the limits; ferrotel has no GC, so it samples the
//! process's resident anonymous memory (RSS without the mapped executable
//! and libraries, which are not data and which the kernel can drop) every
//! `check_interval` and adds the bytes that buffering stages
//! registered since the sample (`ferrotel_core::memory`), so a burst is
//! refused as it arrives rather than at the next sample. Where Go would
//! force a GC (above the hard limit, or above the soft limit at most every
//! `min_gc_interval_when_soft_limited`), ferrotel hands the allocator's
//! free pages back to the OS and samples again: memory that only the
//! allocator's cache holds must not keep data refused once the buffers
//! drained. Place it first in the pipeline, as in Go.

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, Host, Metadata, ProcessorFactory,
    SharedStage,
};
use ferrotel_core::config::{GoDuration, Invalid};
use ferrotel_core::consumer::{Batch, ConsumeError, Consumer, SharedConsumer};
use ferrotel_core::memory;
use ferrotel_core::pdata::Signal;
use ferrotel_core::telemetry::Counter;
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `memory_limiter` settings.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Config {
    /// How often memory is sampled. Required; Go recommends 1s.
    pub check_interval: GoDuration,
    /// Hard limit in MiB.
    pub limit_mib: u64,
    /// Headroom below the hard limit, in MiB; default 20% of the limit.
    pub spike_limit_mib: u64,
    /// Hard limit as a percentage of total (or cgroup) memory.
    pub limit_percentage: u64,
    /// Headroom as a percentage of total memory.
    pub spike_limit_percentage: u64,
    /// Least time between two releases of free heap memory while above the
    /// soft limit (Go: between forced GCs); default 10s.
    pub min_gc_interval_when_soft_limited: Option<GoDuration>,
    /// The same above the hard limit; default 0, every check.
    pub min_gc_interval_when_hard_limited: Option<GoDuration>,
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        if self.check_interval.0.is_zero() {
            return Err("'check_interval' must be greater than zero".into());
        }
        if self.limit_mib == 0 && self.limit_percentage == 0 {
            return Err("'limit_mib' or 'limit_percentage' must be greater than zero".into());
        }
        if self.limit_mib > 0 && self.spike_limit_mib >= self.limit_mib {
            return Err("'spike_limit_mib' must be smaller than 'limit_mib'".into());
        }
        if self.limit_mib == 0 {
            if self.limit_percentage > 100 || self.spike_limit_percentage > 100 {
                return Err("'limit_percentage' and 'spike_limit_percentage' must be greater than zero and less than or equal to hundred".into());
            }
            if self.spike_limit_percentage >= self.limit_percentage {
                return Err(
                    "'spike_limit_percentage' must be smaller than 'limit_percentage'".into(),
                );
            }
        }
        Ok(())
    }
}

impl Config {
    /// (hard, soft) limits in bytes, given the memory available.
    fn limits(&self, total: u64) -> (u64, u64) {
        const MIB: u64 = 1 << 20;
        let (hard, spike) = if self.limit_mib > 0 {
            let spike = if self.spike_limit_mib > 0 {
                self.spike_limit_mib
            } else {
                self.limit_mib / 5
            };
            (self.limit_mib * MIB, spike * MIB)
        } else {
            let hard = total / 100 * self.limit_percentage;
            let spike = if self.spike_limit_percentage > 0 {
                total / 100 * self.spike_limit_percentage
            } else {
                hard / 5
            };
            (hard, spike)
        };
        (hard, hard.saturating_sub(spike))
    }
}

struct LimiterFactory;

/// The factory for the `memory_limiter` processor.
pub fn factory() -> impl ProcessorFactory {
    LimiterFactory
}

impl ProcessorFactory for LimiterFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        set: CreateSettings,
        config: Config,
        signal: Signal,
        next: SharedConsumer,
    ) -> Result<SharedStage, ComponentError> {
        let total = memory::total_memory_bytes().unwrap_or(0);
        let (hard, soft) = config.limits(total);
        if hard == 0 {
            return Err(
                "memory_limiter: cannot determine total memory for limit_percentage".into(),
            );
        }
        let id = set.id.to_string();
        let labels = [("processor", id.as_str())];
        let item = signal.item_name();
        let registry = &set.telemetry.registry;
        let state = Arc::new(State::new(soft, hard, &config));
        state.sample(&ProcessMemory, &id);
        Ok(Arc::new(MemoryLimiter {
            id: id.clone(),
            interval: config.check_interval.0,
            next,
            accepted: registry.counter(
                &format!("otelcol_processor_memory_limiter_accepted_{item}"),
                &format!(
                    "Number of {item} successfully pushed into the next component in the pipeline."
                ),
                &labels,
            ),
            refused: registry.counter(
                &format!("otelcol_processor_memory_limiter_refused_{item}"),
                &format!(
                    "Number of {item} that were rejected by the next component in the pipeline."
                ),
                &labels,
            ),
            state,
            sampler: Mutex::new(None),
        }))
    }
}

/// How memory is measured and freed; the process's own in production.
trait MemoryProbe {
    fn usage(&self) -> u64;
    fn release_free(&self);
}

struct ProcessMemory;

impl MemoryProbe for ProcessMemory {
    fn usage(&self) -> u64 {
        memory::anonymous_resident_bytes().unwrap_or(0)
    }

    fn release_free(&self) {
        memory::release_free_memory();
    }
}

/// Limits and the last measurement.
struct State {
    soft: u64,
    hard: u64,
    release_interval_soft: Duration,
    release_interval_hard: Duration,
    last_release: Mutex<Option<Instant>>,
    refusing: AtomicBool,
    sampled_usage: AtomicU64,
    held_at_sample: AtomicI64,
}

impl State {
    fn new(soft: u64, hard: u64, config: &Config) -> State {
        State {
            soft,
            hard,
            release_interval_soft: config
                .min_gc_interval_when_soft_limited
                .map_or(Duration::from_secs(10), |d| d.0),
            release_interval_hard: config
                .min_gc_interval_when_hard_limited
                .map_or(Duration::ZERO, |d| d.0),
            last_release: Mutex::new(None),
            refusing: AtomicBool::new(false),
            sampled_usage: AtomicU64::new(0),
            held_at_sample: AtomicI64::new(0),
        }
    }

    /// Takes a measurement and decides whether to refuse.
    fn sample(&self, probe: &impl MemoryProbe, id: &str) {
        let mut usage = probe.usage();
        if usage > self.soft && self.release_due(usage) {
            const MIB: u64 = 1 << 20;
            probe.release_free();
            let before = usage;
            usage = probe.usage();
            tracing::debug!(
                processor = %id, before_mib = before / MIB, cur_mem_mib = usage / MIB,
                "Memory usage after returning free heap memory to the OS."
            );
        }
        self.sampled_usage.store(usage, Ordering::Relaxed);
        self.held_at_sample
            .store(memory::held_bytes(), Ordering::Relaxed);
        self.update(usage, id);
    }

    /// Whether enough time passed since the last release for the limit
    /// that `usage` is over; records the release when it is due.
    fn release_due(&self, usage: u64) -> bool {
        let interval = if usage > self.hard {
            self.release_interval_hard
        } else {
            self.release_interval_soft
        };
        let mut last = self.last_release.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if last.is_some_and(|at| now.duration_since(at) < interval) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// The last sample plus what buffers took since.
    fn estimate(&self) -> u64 {
        let grown = memory::held_bytes() - self.held_at_sample.load(Ordering::Relaxed);
        self.sampled_usage
            .load(Ordering::Relaxed)
            .saturating_add(grown.max(0) as u64)
    }

    fn update(&self, usage: u64, id: &str) {
        let over = usage > self.soft;
        let was = self.refusing.swap(over, Ordering::Relaxed);
        const MIB: u64 = 1 << 20;
        match (was, over) {
            (false, true) => tracing::warn!(
                processor = %id, cur_mem_mib = usage / MIB, soft_limit_mib = self.soft / MIB, hard_limit_mib = self.hard / MIB,
                "Memory usage is above soft limit. Refusing data."
            ),
            (true, false) => {
                tracing::info!(processor = %id, cur_mem_mib = usage / MIB, "Memory usage back within limits. Resuming normal operation.")
            }
            _ => {}
        }
    }
}

struct MemoryLimiter {
    id: String,
    interval: std::time::Duration,
    next: SharedConsumer,
    accepted: Counter,
    refused: Counter,
    state: Arc<State>,
    sampler: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

#[async_trait]
impl Consumer for MemoryLimiter {
    fn persists_before_ack(&self) -> bool {
        self.next.persists_before_ack()
    }

    async fn consume(&self, batch: Batch) -> Result<(), ConsumeError> {
        let items = batch.item_count() as u64;
        let estimate = self.state.estimate();
        if self.state.refusing.load(Ordering::Relaxed) || estimate > self.state.soft {
            if estimate > self.state.soft {
                self.state.update(estimate, &self.id);
            }
            self.refused.add(items);
            return Err(ConsumeError::ResourceExhausted(
                "data refused due to high memory usage".into(),
            ));
        }
        self.accepted.add(items);
        self.next.consume(batch).await
    }
}

#[async_trait]
impl Component for MemoryLimiter {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let state = self.state.clone();
        let (interval, id) = (self.interval, self.id.clone());
        let sampler = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            loop {
                ticker.tick().await;
                state.sample(&ProcessMemory, &id);
            }
        });
        *self.sampler.lock().unwrap_or_else(|p| p.into_inner()) = Some(sampler);
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        if let Some(s) = self
            .sampler
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            s.abort();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(limit_mib: u64, spike_limit_mib: u64) -> Config {
        Config {
            check_interval: GoDuration::secs(1),
            limit_mib,
            spike_limit_mib,
            ..Default::default()
        }
    }

    #[test]
    fn validation_follows_go() {
        assert!(config(100, 20).validate().is_ok());
        assert_eq!(
            Config::default().validate().unwrap_err().message,
            "'check_interval' must be greater than zero"
        );
        assert_eq!(
            config(0, 0).validate().unwrap_err().message,
            "'limit_mib' or 'limit_percentage' must be greater than zero"
        );
        assert_eq!(
            config(100, 100).validate().unwrap_err().message,
            "'spike_limit_mib' must be smaller than 'limit_mib'"
        );
        let pct = Config {
            check_interval: GoDuration::secs(1),
            limit_percentage: 50,
            spike_limit_percentage: 60,
            ..Default::default()
        };
        assert!(pct.validate().is_err());
    }

    #[test]
    fn soft_limit_is_hard_minus_spike_with_a_20_percent_default() {
        const MIB: u64 = 1 << 20;
        assert_eq!(config(100, 0).limits(0), (100 * MIB, 80 * MIB));
        assert_eq!(config(100, 30).limits(0), (100 * MIB, 70 * MIB));
        let pct = Config {
            limit_percentage: 50,
            spike_limit_percentage: 10,
            ..Default::default()
        };
        assert_eq!(pct.limits(1000 * MIB), (500 * MIB, 400 * MIB));
    }

    /// Usage set by the test; a release drops it to `after_release`.
    struct FakeMemory {
        usage: AtomicU64,
        after_release: u64,
        releases: AtomicU64,
    }

    impl FakeMemory {
        fn new(usage: u64, after_release: u64) -> FakeMemory {
            FakeMemory {
                usage: AtomicU64::new(usage),
                after_release,
                releases: AtomicU64::new(0),
            }
        }

        fn set(&self, usage: u64) {
            self.usage.store(usage, Ordering::Relaxed);
        }

        fn releases(&self) -> u64 {
            self.releases.load(Ordering::Relaxed)
        }
    }

    impl MemoryProbe for FakeMemory {
        fn usage(&self) -> u64 {
            self.usage.load(Ordering::Relaxed)
        }

        fn release_free(&self) {
            self.releases.fetch_add(1, Ordering::Relaxed);
            let after = self.usage().min(self.after_release);
            self.set(after);
        }
    }

    #[test]
    fn refuses_above_the_soft_limit_and_recovers() {
        let state = State::new(1000, 2000, &config(1, 0));
        let memory = FakeMemory::new(500, u64::MAX);
        state.sample(&memory, "m");
        assert!(!state.refusing.load(Ordering::Relaxed));
        memory.set(1500);
        state.sample(&memory, "m");
        assert!(state.refusing.load(Ordering::Relaxed));
        memory.set(900);
        state.sample(&memory, "m");
        assert!(!state.refusing.load(Ordering::Relaxed));
        // Bytes registered after the sample count before the next one.
        let held = memory::Held::new(200);
        assert!(state.estimate() >= 1100);
        drop(held);
    }

    #[test]
    fn free_heap_is_released_like_go_forces_a_gc() {
        // Above the soft limit at most every 10s by default: the first
        // sample over it releases, and memory only the allocator held no
        // longer counts.
        let state = State::new(1000, 2000, &config(1, 0));
        let memory = FakeMemory::new(1500, 800);
        state.sample(&memory, "m");
        assert_eq!(memory.releases(), 1);
        assert!(!state.refusing.load(Ordering::Relaxed));
        memory.set(1500);
        state.sample(&memory, "m");
        assert_eq!(memory.releases(), 1, "not again within the soft interval");
        assert!(state.refusing.load(Ordering::Relaxed));
        // Above the hard limit every check (interval 0 by default).
        memory.set(2500);
        state.sample(&memory, "m");
        memory.set(2500);
        state.sample(&memory, "m");
        assert_eq!(memory.releases(), 3);
        // Below the soft limit nothing is released.
        memory.set(700);
        state.sample(&memory, "m");
        assert_eq!(memory.releases(), 3);

        let tuned = Config {
            min_gc_interval_when_soft_limited: Some(GoDuration(Duration::ZERO)),
            ..config(1, 0)
        };
        let state = State::new(1000, 2000, &tuned);
        let memory = FakeMemory::new(1500, u64::MAX);
        state.sample(&memory, "m");
        state.sample(&memory, "m");
        assert_eq!(memory.releases(), 2);
        assert!(state.refusing.load(Ordering::Relaxed));
    }
}
