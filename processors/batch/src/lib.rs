//! The `batch` processor: merges small batches into larger ones and splits
//! oversized ones.
//!
//! Mirrors the Go collector's `batchprocessor` settings (`send_batch_size`
//! 8192, `timeout` 200ms, `send_batch_max_size`, `metadata_keys`,
//! `metadata_cardinality_limit`) and metrics. It differs in one way that
//! matters: Go's processor answers its caller as soon as data is buffered
//! and drops it if the export later fails (core issue #12443). Here
//! `consume` returns once the caller's data has been handed downstream, with
//! the downstream result, so a full exporter queue reaches the client as a
//! retryable error instead of a silent loss. Callers that fill a batch send
//! it themselves; a timer task sends batches that wait longer than
//! `timeout`.

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, Host, Metadata, ProcessorFactory,
    SharedStage, Stability,
};
use ferrotel_core::config::GoDuration;
use ferrotel_core::config::Invalid;
use ferrotel_core::consumer::{Batch, ClientInfo, ConsumeError, Consumer, SharedConsumer};
use ferrotel_core::pdata::{Signal, Telemetry};
use ferrotel_core::telemetry::{Counter, Gauge, Histogram};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

/// `batch` processor settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Items that trigger a send. Default 8192.
    pub send_batch_size: usize,
    /// Longest a non-empty batch waits. Default 200ms; 0 sends at once.
    pub timeout: GoDuration,
    /// Largest batch sent; bigger ones are split. 0 (default) means no cap.
    pub send_batch_max_size: usize,
    /// Client metadata keys to keep separate batches for.
    pub metadata_keys: Vec<String>,
    /// Most distinct metadata value combinations. Default 1000.
    pub metadata_cardinality_limit: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            send_batch_size: 8192,
            timeout: GoDuration::millis(200),
            send_batch_max_size: 0,
            metadata_keys: Vec::new(),
            metadata_cardinality_limit: 1000,
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        if self.send_batch_max_size > 0 && self.send_batch_max_size < self.send_batch_size {
            return Err("send_batch_max_size must be greater or equal to send_batch_size".into());
        }
        let mut seen = std::collections::HashSet::new();
        for key in &self.metadata_keys {
            if !seen.insert(key.to_ascii_lowercase()) {
                return Err(format!(
                    "duplicate entry in metadata_keys: {key:?} (case-insensitive)"
                )
                .into());
            }
        }
        Ok(())
    }
}

struct BatchFactory;

/// The factory for the `batch` processor.
pub fn factory() -> impl ProcessorFactory {
    BatchFactory
}

impl ProcessorFactory for BatchFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        Metadata {
            type_name: "batch",
            module: ferrotel_core::module!(),
            deprecated_aliases: &[],
            signals: &[
                (Signal::Traces, Stability::Beta),
                (Signal::Metrics, Stability::Beta),
                (Signal::Logs, Stability::Beta),
            ],
            stability: Stability::Beta,
        }
    }

    fn create(
        &self,
        set: CreateSettings,
        config: Config,
        signal: Signal,
        next: SharedConsumer,
    ) -> Result<SharedStage, ComponentError> {
        let id = set.id.to_string();
        let labels = [("processor", id.as_str())];
        let signal_labels = [("processor", id.as_str()), ("otel_signal", signal.as_str())];
        let registry = &set.telemetry.registry;
        let metrics = Metrics {
            incoming: registry.counter(
                "otelcol_processor_incoming_items",
                "Number of items passed to the processor.",
                &signal_labels,
            ),
            outgoing: registry.counter(
                "otelcol_processor_outgoing_items",
                "Number of items emitted from the processor.",
                &signal_labels,
            ),
            send_size: registry.histogram(
                "otelcol_processor_batch_batch_send_size",
                "Number of units in the batch",
                &labels,
                &[
                    10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2000.0, 3000.0,
                    4000.0, 5000.0, 6000.0, 7000.0, 8000.0, 9000.0, 10000.0, 20000.0, 30000.0,
                    50000.0, 100000.0,
                ],
            ),
            size_trigger: registry.counter(
                "otelcol_processor_batch_batch_size_trigger_send",
                "Number of times the batch was sent due to a size trigger",
                &labels,
            ),
            timeout_trigger: registry.counter(
                "otelcol_processor_batch_timeout_trigger_send",
                "Number of times the batch was sent due to a timeout trigger",
                &labels,
            ),
            cardinality: registry.gauge(
                "otelcol_processor_batch_metadata_cardinality",
                "Number of distinct metadata value combinations being processed",
                &labels,
            ),
        };
        Ok(Arc::new(BatchProcessor {
            shared: Arc::new(Shared {
                config,
                signal,
                next,
                metrics,
                partitions: Mutex::new(HashMap::new()),
                wake: Notify::new(),
                draining: AtomicBool::new(false),
            }),
            timer: Mutex::new(None),
        }))
    }
}

struct Metrics {
    incoming: Counter,
    outgoing: Counter,
    send_size: Histogram,
    size_trigger: Counter,
    timeout_trigger: Counter,
    cardinality: Gauge,
}

type Waiter = oneshot::Sender<Result<(), ConsumeError>>;

/// Data waiting to be sent for one combination of metadata values.
struct Pending {
    data: Telemetry,
    items: usize,
    since: Instant,
    waiters: Vec<Waiter>,
    client: Arc<ClientInfo>,
}

struct Shared {
    config: Config,
    signal: Signal,
    next: SharedConsumer,
    metrics: Metrics,
    partitions: Mutex<HashMap<Vec<String>, Pending>>,
    wake: Notify,
    /// Set once the service starts shutting down: nothing waits any more.
    draining: AtomicBool,
}

struct BatchProcessor {
    shared: Arc<Shared>,
    timer: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Shared {
    fn partition_key(&self, client: &ClientInfo) -> Vec<String> {
        self.config
            .metadata_keys
            .iter()
            .map(|k| client.get(k).collect::<Vec<_>>().join(";"))
            .collect()
    }

    /// Sends `data` downstream in pieces of at most `send_batch_max_size`
    /// and tells every waiter the worst result.
    async fn send(&self, mut data: Telemetry, waiters: Vec<Waiter>, client: Arc<ClientInfo>) {
        let max = match self.config.send_batch_max_size {
            0 => usize::MAX,
            n => n,
        };
        let mut result = Ok(());
        while data.item_count() > 0 {
            let piece = if data.item_count() > max {
                data.split_off_front(max)
            } else {
                std::mem::replace(&mut data, Telemetry::empty(self.signal))
            };
            self.metrics.send_size.observe(piece.item_count() as f64);
            self.metrics.outgoing.add(piece.item_count() as u64);
            if let Err(e) = self
                .next
                .consume(Batch::with_client(piece, client.clone()))
                .await
                && (result.as_ref().is_ok() || e.is_permanent())
            {
                result = Err(e);
            }
        }
        for w in waiters {
            let _ = w.send(result.clone());
        }
    }

    /// Sends every partition now.
    async fn flush_all(&self) {
        let pending: Vec<Pending> = self
            .partitions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .map(|(_, p)| p)
            .collect();
        for p in pending {
            self.send(p.data, p.waiters, p.client).await;
        }
    }

    /// Takes every partition older than `timeout`, and reports when the
    /// next one falls due.
    fn take_expired(&self, now: Instant) -> (Vec<Pending>, Option<Instant>) {
        let mut partitions = self.partitions.lock().unwrap_or_else(|p| p.into_inner());
        let timeout = self.config.timeout.0;
        let expired_keys: Vec<Vec<String>> = partitions
            .iter()
            .filter(|(_, p)| p.since + timeout <= now)
            .map(|(k, _)| k.clone())
            .collect();
        let expired = expired_keys
            .iter()
            .filter_map(|k| partitions.remove(k))
            .collect();
        let next = partitions.values().map(|p| p.since + timeout).min();
        self.metrics.cardinality.set(partitions.len() as i64);
        (expired, next)
    }
}

#[async_trait]
impl Consumer for BatchProcessor {
    async fn consume(&self, batch: Batch) -> Result<(), ConsumeError> {
        let shared = &self.shared;
        let key = shared.partition_key(batch.client());
        let (tx, rx) = oneshot::channel();
        let full = {
            let mut partitions = shared.partitions.lock().unwrap_or_else(|p| p.into_inner());
            if !partitions.contains_key(&key)
                && partitions.len() >= shared.config.metadata_cardinality_limit
            {
                return Err(ConsumeError::Permanent(
                    "too many batcher metadata-value combinations".into(),
                ));
            }
            let client = if shared.config.metadata_keys.is_empty() {
                Arc::default()
            } else {
                Arc::new(ClientInfo {
                    addr: None,
                    metadata: shared
                        .config
                        .metadata_keys
                        .iter()
                        .flat_map(|k| {
                            batch
                                .client()
                                .get(k)
                                .map(move |v| (k.to_ascii_lowercase(), v.to_string()))
                        })
                        .collect(),
                })
            };
            let items = batch.data().item_count();
            shared.metrics.incoming.add(items as u64);
            let pending = partitions.entry(key.clone()).or_insert_with(|| Pending {
                data: Telemetry::empty(shared.signal),
                items: 0,
                since: Instant::now(),
                waiters: Vec::new(),
                client,
            });
            if pending.items == 0 {
                pending.since = Instant::now();
            }
            let _ = pending.data.merge(batch.into_data());
            pending.items += items;
            pending.waiters.push(tx);
            if pending.items >= shared.config.send_batch_size
                || shared.config.timeout.0.is_zero()
                || shared.draining.load(Ordering::Relaxed)
            {
                partitions.remove(&key)
            } else {
                None
            }
        };
        match full {
            Some(p) => {
                shared.metrics.size_trigger.add(1);
                shared.send(p.data, p.waiters, p.client).await;
            }
            None => shared.wake.notify_one(),
        }
        rx.await
            .unwrap_or_else(|_| Err(ConsumeError::retryable("batch processor stopped")))
    }
}

#[async_trait]
impl Component for BatchProcessor {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let shared = self.shared.clone();
        // When the service stops being ready (shutdown or reload), callers
        // waiting on a slow batch would hold up the receivers' shutdown:
        // send everything now and stop buffering.
        let mut ready = host.ready.clone();
        let timer = tokio::spawn(async move {
            loop {
                let (expired, next) = shared.take_expired(Instant::now());
                for p in expired {
                    shared.metrics.timeout_trigger.add(1);
                    shared.send(p.data, p.waiters, p.client).await;
                }
                let stopping = async {
                    match ready.as_mut() {
                        Some(r) => {
                            let _ = r.wait_for(|ready| *ready).await;
                            let _ = r.wait_for(|ready| !*ready).await;
                        }
                        None => std::future::pending().await,
                    }
                };
                let sleep = async {
                    match next {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = sleep => {}
                    _ = shared.wake.notified() => {}
                    _ = stopping => {
                        shared.draining.store(true, Ordering::Relaxed);
                        shared.flush_all().await;
                        return;
                    }
                }
            }
        });
        *self.timer.lock().unwrap_or_else(|p| p.into_inner()) = Some(timer);
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        if let Some(t) = self.timer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            t.abort();
        }
        // Whatever is still buffered goes downstream now; receivers are
        // already stopped, so nothing new arrives.
        let pending: Vec<Pending> = self
            .shared
            .partitions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .map(|(_, p)| p)
            .collect();
        for p in pending {
            self.shared.send(p.data, p.waiters, p.client).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrotel_core::component::{ComponentId, ProcessorFactory};
    use ferrotel_core::pdata::logs;
    use ferrotel_core::telemetry::Telemetry as SelfTelemetry;
    use std::time::Duration;

    #[derive(Default)]
    struct Sink {
        batches: Mutex<Vec<usize>>,
    }

    #[async_trait]
    impl Consumer for Sink {
        async fn consume(&self, batch: Batch) -> Result<(), ConsumeError> {
            self.batches.lock().unwrap().push(batch.data().item_count());
            Ok(())
        }
    }

    fn logs(n: usize) -> Batch {
        Batch::new(Telemetry::Logs(vec![logs::ResourceLogs {
            scope_logs: vec![logs::ScopeLogs {
                log_records: vec![logs::LogRecord::default(); n],
                ..Default::default()
            }],
            ..Default::default()
        }]))
    }

    fn processor(config: Config, sink: Arc<Sink>) -> SharedStage {
        let set = CreateSettings {
            id: ComponentId::new("batch"),
            telemetry: SelfTelemetry::noop(),
        };
        ProcessorFactory::create(&BatchFactory, set, config, Signal::Logs, sink).unwrap()
    }

    #[tokio::test]
    async fn size_trigger_splits_at_max_size() {
        let sink = Arc::new(Sink::default());
        let p = processor(
            Config {
                send_batch_size: 10,
                send_batch_max_size: 10,
                ..Default::default()
            },
            sink.clone(),
        );
        p.start(&Host::default()).await.unwrap();
        p.consume(logs(25)).await.unwrap();
        assert_eq!(*sink.batches.lock().unwrap(), vec![10, 10, 5]);
    }

    #[tokio::test]
    async fn timeout_trigger_merges_small_batches() {
        let sink = Arc::new(Sink::default());
        let p = processor(
            Config {
                timeout: GoDuration(Duration::from_millis(20)),
                ..Default::default()
            },
            sink.clone(),
        );
        p.start(&Host::default()).await.unwrap();
        let (a, b, c) = tokio::join!(p.consume(logs(1)), p.consume(logs(2)), p.consume(logs(3)));
        a.unwrap();
        b.unwrap();
        c.unwrap();
        assert_eq!(*sink.batches.lock().unwrap(), vec![6]);
    }

    #[test]
    fn max_below_size_is_invalid() {
        let c = Config {
            send_batch_size: 100,
            send_batch_max_size: 10,
            ..Default::default()
        };
        assert!(c.validate().is_err());
    }
}
