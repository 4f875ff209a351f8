//! The `batch` processor: merges small batches into larger ones and splits
//! oversized ones.
//!
//! Mirrors the Go collector's `batchprocessor` settings (`send_batch_size`
//! 8192, `timeout` 200ms, `send_batch_max_size`, `metadata_keys`,
//! `metadata_cardinality_limit`) and metrics. Like Go's, `consume` returns
//! as soon as the data is buffered, so clients are not held up for the
//! batch to fill. Unlike Go's, which drops a batch the next stage refuses
//! (core issue #12443), it keeps retrying a refused batch with backoff and
//! holds at most [`BUFFER_BATCHES`] batches' worth of items; once that is
//! full, `consume` waits, so backpressure reaches the receiver instead of
//! data being lost. Only permanent errors drop data (logged and counted).
//! Acknowledgement tokens of merged batches travel with the merged batch,
//! so a receiver that waits for them hears back only once the exporters
//! took the data. When every exporter after it queues in memory, the
//! buffer is as safe as those queues (bounded, retried, drained at
//! shutdown), so receivers that need only acceptance are let go at once
//! and their clients are not held up for the batch to fill; when one
//! writes to disk first, they wait for that.
//!
//! One flusher task sends full batches, batches older than `timeout`, and
//! everything at shutdown or when the service stops being ready (reload).

use ferrotel_core::ack::{Acks, Guarantee};
use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, Host, Metadata, ProcessorFactory,
    SharedStage,
};
use ferrotel_core::config::Invalid;
use ferrotel_core::config::{GoDuration, MetricsLevel};
use ferrotel_core::consumer::{Batch, ClientInfo, ConsumeError, Consumer, SharedConsumer};
use ferrotel_core::memory::Held;
use ferrotel_core::pdata::{Payload, Signal};
use ferrotel_core::retry::{Backoff, RetrySettings};
use ferrotel_core::telemetry::{Counter, Gauge, Histogram};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc, watch};
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
        ferrotel_core::metadata!()
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
            // Go records sizes in bytes only at the `detailed` level.
            send_size_bytes: (set.telemetry.level >= MetricsLevel::Detailed).then(|| {
                let mut bounds = vec![10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0];
                bounds.extend((1..=9).map(|k| f64::from(k) * 1e3));
                bounds.extend([1e4, 2e4, 3e4, 5e4]);
                bounds.extend((1..=9).map(|k| f64::from(k) * 1e5));
                bounds.extend((1..=9).map(|k| f64::from(k) * 1e6));
                registry.histogram(
                    "otelcol_processor_batch_batch_send_size_bytes",
                    "Number of bytes in batch that was sent",
                    &labels,
                    &bounds,
                )
            }),
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
            dropped: registry.counter(
                "otelcol_processor_batch_dropped_items",
                "Number of items dropped because the next stage refused them permanently",
                &signal_labels,
            ),
            cardinality: registry.gauge(
                "otelcol_processor_batch_metadata_cardinality",
                "Number of distinct metadata value combinations being processed",
                &labels,
            ),
        };
        let capacity = BUFFER_BATCHES
            * config
                .send_batch_size
                .max(config.send_batch_max_size)
                .max(1);
        let carry_accepted = next.persists_before_ack();
        let (full, full_rx) = mpsc::unbounded_channel();
        let (stop, _) = watch::channel(false);
        Ok(Arc::new(BatchProcessor {
            shared: Arc::new(Shared {
                config,
                signal,
                next,
                metrics,
                partitions: Mutex::new(HashMap::new()),
                space: Arc::new(Semaphore::new(capacity)),
                capacity,
                full,
                full_rx: Mutex::new(Some(full_rx)),
                wake: Notify::new(),
                carry_accepted,
                draining: AtomicBool::new(false),
            }),
            flusher: Mutex::new(None),
            stop,
        }))
    }
}

/// How many batches of `max(send_batch_size, send_batch_max_size)` items the
/// processor holds (buffered plus being sent) before `consume` waits.
pub const BUFFER_BATCHES: usize = 4;

struct Metrics {
    send_size: Histogram,
    send_size_bytes: Option<Histogram>,
    size_trigger: Counter,
    timeout_trigger: Counter,
    cardinality: Gauge,
    dropped: Counter,
}

/// How a refused send is retried: Go's batch processor hands the refusal
/// back and loses the batch, ferrotel keeps it and tries again, doubling
/// from 50ms to 5s, until shutdown's grace runs out.
const REFUSED_SEND_BACKOFF: RetrySettings = RetrySettings {
    enabled: true,
    initial_interval: GoDuration::millis(50),
    max_interval: GoDuration::secs(5),
    max_elapsed_time: GoDuration::millis(0),
    multiplier: 2.0,
    randomization_factor: 0.0,
};

/// Data waiting to be sent for one combination of metadata values.
struct Pending {
    data: Payload,
    items: usize,
    since: Instant,
    client: Arc<ClientInfo>,
    /// Room in the buffer this data holds until it has been sent.
    space: Option<OwnedSemaphorePermit>,
    /// Its bytes, registered for the memory_limiter.
    held: Held,
    /// The acknowledgement tokens of every batch merged into it.
    acks: Acks,
}

struct Shared {
    config: Config,
    signal: Signal,
    next: SharedConsumer,
    metrics: Metrics,
    partitions: Mutex<HashMap<Vec<String>, Pending>>,
    /// Items that may be buffered or in flight.
    space: Arc<Semaphore>,
    capacity: usize,
    /// Full batches, handed from `consume` to the flusher.
    full: mpsc::UnboundedSender<Pending>,
    full_rx: Mutex<Option<mpsc::UnboundedReceiver<Pending>>>,
    wake: Notify,
    /// Whether receivers that need only acceptance wait for the exporters:
    /// only when one of them writes to disk first.
    carry_accepted: bool,
    /// Set once the service stops: nothing waits for a timeout any more.
    draining: AtomicBool,
}

struct BatchProcessor {
    shared: Arc<Shared>,
    flusher: Mutex<Option<tokio::task::JoinHandle<()>>>,
    stop: watch::Sender<bool>,
}

impl Shared {
    fn partition_key(&self, client: &ClientInfo) -> Vec<String> {
        self.config
            .metadata_keys
            .iter()
            .map(|k| client.get(k).collect::<Vec<_>>().join(";"))
            .collect()
    }

    fn client_for(&self, client: &ClientInfo) -> Arc<ClientInfo> {
        if self.config.metadata_keys.is_empty() {
            return Arc::default();
        }
        Arc::new(ClientInfo {
            addr: None,
            metadata: self
                .config
                .metadata_keys
                .iter()
                .flat_map(|k| {
                    client
                        .get(k)
                        .map(move |v| (k.to_ascii_lowercase(), v.to_string()))
                })
                .collect(),
        })
    }

    /// Sends one pending batch in pieces of at most `send_batch_max_size`,
    /// retrying refusals until delivered or until `stopping` has lasted
    /// longer than the shutdown grace period.
    async fn send(&self, mut pending: Pending, stopping: &watch::Receiver<bool>) {
        let max = match self.config.send_batch_max_size {
            0 => usize::MAX,
            n => n,
        };
        while pending.data.item_count() > 0 {
            let piece = if pending.data.item_count() > max {
                pending.data.split_off_front(max)
            } else {
                std::mem::replace(&mut pending.data, Payload::empty(self.signal))
            };
            let items = piece.item_count();
            self.metrics.send_size.observe(items as f64);
            if let Some(bytes) = &self.metrics.send_size_bytes {
                bytes.observe(piece.encoded_len() as f64);
            }
            // Each piece carries every token: a receiver is answered once
            // all pieces its data may be in are taken.
            let batch =
                Batch::from_payload(piece, pending.client.clone()).with_acks(pending.acks.clone());
            let mut backoff = Backoff::new(&REFUSED_SEND_BACKOFF);
            let mut stop_deadline = None;
            loop {
                match self.next.consume(batch.clone()).await {
                    Ok(()) => break,
                    Err(e) if e.is_permanent() => {
                        self.metrics.dropped.add(items as u64);
                        pending.acks.clone().settle(&Err(e.clone()));
                        tracing::error!(error = %e, dropped_items = items, "batch refused permanently; dropping it");
                        break;
                    }
                    Err(e) => {
                        if *stopping.borrow() {
                            let deadline = *stop_deadline
                                .get_or_insert_with(|| Instant::now() + SHUTDOWN_GRACE);
                            if Instant::now() >= deadline {
                                self.metrics.dropped.add(items as u64);
                                pending.acks.clone().settle(&Err(e.clone()));
                                tracing::error!(error = %e, dropped_items = items, "shutting down and the next stage still refuses; dropping the batch");
                                break;
                            }
                        }
                        let wait = backoff.next(None).unwrap_or(backoff.max_interval());
                        tracing::debug!(error = %e, retry_in = ?wait, "next stage refused the batch; retrying");
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        }
        // Dropping `pending` releases its room in the buffer.
    }

    fn take_all(&self) -> Vec<Pending> {
        let mut partitions = self.partitions.lock().unwrap_or_else(|p| p.into_inner());
        let all = partitions.drain().map(|(_, p)| p).collect();
        self.metrics.cardinality.set(0);
        all
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

/// How long shutdown keeps retrying a refused batch before dropping it.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

#[async_trait]
impl Consumer for BatchProcessor {
    fn persists_before_ack(&self) -> bool {
        self.shared.next.persists_before_ack()
    }

    async fn consume(&self, mut batch: Batch) -> Result<(), ConsumeError> {
        let shared = &self.shared;
        let items = batch.item_count();
        if items == 0 {
            return Ok(());
        }
        // Backpressure: wait for room before taking the data.
        let units = items.min(shared.capacity) as u32;
        let space = shared
            .space
            .clone()
            .acquire_many_owned(units)
            .await
            .map_err(|_| ConsumeError::retryable("batch processor is shut down"))?;
        let key = shared.partition_key(batch.client());
        let full = {
            let mut partitions = shared.partitions.lock().unwrap_or_else(|p| p.into_inner());
            if !partitions.contains_key(&key)
                && partitions.len() >= shared.config.metadata_cardinality_limit
            {
                return Err(ConsumeError::Permanent(
                    "too many batcher metadata-value combinations".into(),
                ));
            }
            let pending = partitions.entry(key.clone()).or_insert_with(|| Pending {
                data: Payload::empty(shared.signal),
                items: 0,
                since: Instant::now(),
                client: shared.client_for(batch.client()),
                space: None,
                held: Held::default(),
                acks: Acks::none(),
            });
            if pending.items == 0 {
                pending.since = Instant::now();
            }
            pending
                .held
                .absorb(Held::new(batch.payload().encoded_len()));
            let mut acks = batch.take_acks();
            if !shared.carry_accepted {
                // The buffer is as safe as the memory queues after it.
                drop(acks.split_off(Guarantee::Accepted));
            }
            pending.acks.absorb(acks);
            let _ = pending.data.merge(batch.into_payload());
            pending.items += items;
            match &mut pending.space {
                Some(held) => held.merge(space),
                None => pending.space = Some(space),
            }
            let due = pending.items >= shared.config.send_batch_size
                || shared.config.timeout.0.is_zero()
                || shared.draining.load(Ordering::Relaxed);
            if due { partitions.remove(&key) } else { None }
        };
        match full {
            Some(p) => {
                shared.metrics.size_trigger.add(1);
                if shared.full.send(p).is_err() {
                    return Err(ConsumeError::retryable("batch processor is shut down"));
                }
            }
            None => shared.wake.notify_one(),
        }
        Ok(())
    }
}

#[async_trait]
impl Component for BatchProcessor {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let shared = self.shared.clone();
        let Some(mut full) = shared
            .full_rx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        else {
            return Err("batch processor started twice".into());
        };
        let mut ready = host.ready.clone();
        let mut stopping = self.stop.subscribe();
        let flusher = tokio::spawn(async move {
            let stop_signal = stopping.clone();
            loop {
                let (expired, next) = shared.take_expired(Instant::now());
                for p in expired {
                    shared.metrics.timeout_trigger.add(1);
                    shared.send(p, &stop_signal).await;
                }
                // When the service stops being ready (shutdown or reload),
                // send what is buffered instead of waiting for timeouts.
                let not_ready = async {
                    match ready.as_mut() {
                        Some(r) if !shared.draining.load(Ordering::Relaxed) => {
                            let _ = r.wait_for(|ready| *ready).await;
                            let _ = r.wait_for(|ready| !*ready).await;
                        }
                        _ => std::future::pending().await,
                    }
                };
                let sleep = async {
                    match next {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    Some(p) = full.recv() => shared.send(p, &stop_signal).await,
                    _ = sleep => {}
                    _ = shared.wake.notified() => {}
                    _ = not_ready => {
                        shared.draining.store(true, Ordering::Relaxed);
                        for p in shared.take_all() {
                            shared.send(p, &stop_signal).await;
                        }
                    }
                    _ = async { let _ = stopping.wait_for(|s| *s).await; } => {
                        shared.draining.store(true, Ordering::Relaxed);
                        while let Ok(p) = full.try_recv() {
                            shared.send(p, &stop_signal).await;
                        }
                        for p in shared.take_all() {
                            shared.send(p, &stop_signal).await;
                        }
                        return;
                    }
                }
            }
        });
        *self.flusher.lock().unwrap_or_else(|p| p.into_inner()) = Some(flusher);
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        // Receivers are already stopped, so nothing new arrives: the flusher
        // sends what it holds and exits.
        let _ = self.stop.send(true);
        let flusher = self
            .flusher
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(f) = flusher {
            f.await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrotel_core::component::ProcessorFactory;
    use ferrotel_core::pdata::{Telemetry, logs};
    use ferrotel_core::testing::{Sink, settings};
    use std::time::Duration;

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
        ProcessorFactory::create(&BatchFactory, settings("batch"), config, Signal::Logs, sink)
            .unwrap()
    }

    async fn wait_for(sink: &Sink, expected: Vec<usize>) {
        let waited = tokio::time::timeout(Duration::from_secs(5), async {
            while sink.item_counts() != expected {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert!(
            waited.is_ok(),
            "got {:?}, want {expected:?}",
            sink.item_counts()
        );
    }

    #[tokio::test]
    async fn size_trigger_splits_at_max_size() {
        let sink = Sink::new();
        let p = processor(
            Config {
                send_batch_size: 10,
                send_batch_max_size: 10,
                timeout: GoDuration(Duration::from_secs(60)),
                ..Default::default()
            },
            sink.clone(),
        );
        p.start(&Host::default()).await.unwrap();
        p.consume(logs(25)).await.unwrap();
        wait_for(&sink, vec![10, 10, 5]).await;
    }

    #[tokio::test]
    async fn refusals_are_retried_and_full_buffers_push_back() {
        let sink = Sink::refusing(ConsumeError::retryable("queue full"));
        let p = processor(
            Config {
                send_batch_size: 10,
                timeout: GoDuration(Duration::from_secs(60)),
                ..Default::default()
            },
            sink.clone(),
        );
        p.start(&Host::default()).await.unwrap();
        // The buffer holds BUFFER_BATCHES batches of 10 items.
        for _ in 0..BUFFER_BATCHES {
            p.consume(logs(10)).await.unwrap();
        }
        let blocked = tokio::time::timeout(Duration::from_millis(300), p.consume(logs(10))).await;
        assert!(blocked.is_err(), "a full buffer makes consume wait");
        sink.refuse(None);
        p.consume(logs(10)).await.unwrap();
        p.shutdown().await.unwrap();
        let delivered = sink.item_count();
        assert_eq!(
            delivered,
            10 * (BUFFER_BATCHES + 1),
            "every accepted item delivered once"
        );
    }

    #[tokio::test]
    async fn timeout_trigger_merges_small_batches() {
        let sink = Sink::new();
        let p = processor(
            Config {
                timeout: GoDuration(Duration::from_millis(20)),
                ..Default::default()
            },
            sink.clone(),
        );
        p.start(&Host::default()).await.unwrap();
        p.consume(logs(1)).await.unwrap();
        p.consume(logs(2)).await.unwrap();
        p.consume(logs(3)).await.unwrap();
        wait_for(&sink, vec![6]).await;
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
