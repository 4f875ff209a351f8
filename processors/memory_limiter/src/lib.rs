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
//! forces a GC above the hard limit; ferrotel has no GC, so it samples RSS
//! every `check_interval` and adds the bytes that buffering stages
//! registered since the sample (`ferrotel_core::memory`), so a burst is
//! refused as it arrives rather than at the next sample. Place it first in
//! the pipeline, as in Go.

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, Host, Metadata, ProcessorFactory,
    SharedStage, Stability,
};
use ferrotel_core::config::{GoDuration, Invalid};
use ferrotel_core::consumer::{Batch, ConsumeError, Consumer, SharedConsumer};
use ferrotel_core::memory;
use ferrotel_core::pdata::Signal;
use ferrotel_core::telemetry::Counter;
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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
    /// Accepted for compatibility; there is no garbage collector to tune.
    pub min_gc_interval_when_soft_limited: Option<GoDuration>,
    /// Accepted for compatibility.
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
        Metadata::every_signal("memory_limiter", ferrotel_core::module!(), Stability::Beta)
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
        let state = Arc::new(State {
            soft,
            hard,
            refusing: AtomicBool::new(false),
            sampled_usage: AtomicU64::new(0),
            held_at_sample: AtomicI64::new(0),
        });
        state.sample(|| memory::rss_bytes().unwrap_or(0), &id);
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

/// Limits and the last measurement.
struct State {
    soft: u64,
    hard: u64,
    refusing: AtomicBool,
    sampled_usage: AtomicU64,
    held_at_sample: AtomicI64,
}

impl State {
    /// Takes a measurement and decides whether to refuse.
    fn sample(&self, rss: impl Fn() -> u64, id: &str) {
        let usage = rss();
        self.sampled_usage.store(usage, Ordering::Relaxed);
        self.held_at_sample
            .store(memory::held_bytes(), Ordering::Relaxed);
        self.update(usage, id);
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
                state.sample(|| memory::rss_bytes().unwrap_or(0), &id);
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

    #[test]
    fn refuses_above_the_soft_limit_and_recovers() {
        let state = State {
            soft: 1000,
            hard: 2000,
            refusing: AtomicBool::new(false),
            sampled_usage: AtomicU64::new(0),
            held_at_sample: AtomicI64::new(0),
        };
        state.sample(|| 500, "m");
        assert!(!state.refusing.load(Ordering::Relaxed));
        state.sample(|| 1500, "m");
        assert!(state.refusing.load(Ordering::Relaxed));
        state.sample(|| 900, "m");
        assert!(!state.refusing.load(Ordering::Relaxed));
        // Bytes registered after the sample count before the next one.
        let held = memory::Held::new(200);
        assert!(state.estimate() >= 1100);
        drop(held);
    }
}
