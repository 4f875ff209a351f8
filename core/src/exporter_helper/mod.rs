//! What every exporter needs around its network call: a bounded sending
//! queue drained by concurrent workers, retries with backoff, a timeout per
//! attempt, and the `otelcol_exporter_*` metrics.
//!
//! An exporter implements [`Sender`] (one attempt to deliver one batch) and
//! wraps it in [`ExporterHelper`], which is the [`Stage`](crate::component::Stage)
//! the pipeline sees. With the queue on (the default), `consume` returns as
//! soon as the batch is queued; a full queue refuses with a retryable error
//! (or waits, with `block_on_overflow`), so the receiver tells its client to
//! back off instead of the collector growing.

mod config;
mod disk_queue;

pub use config::{QueueBatchSettings, QueueSettings, Sizer};

use crate::ack::{Acks, Guarantee};
use crate::component::{Component, ComponentError, ComponentId, Host, Kind};
use crate::consumer::{Batch, ClientInfo, ConsumeError, Consumer};
use crate::pdata::{Payload, Signal};
use crate::retry::{Backoff, RetrySettings};
use crate::telemetry::{Counter, ExporterMetrics, Gauge, Telemetry as SelfTelemetry};
use async_trait::async_trait;
use disk_queue::{DiskQueue, DiskQueueSettings, Position, PushError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// One attempt to deliver one batch.
#[async_trait]
pub trait Sender: Send + Sync + 'static {
    /// Sends `data`; a retryable error may carry the server's `Retry-After`.
    /// Encoded payloads can be sent as they are (`Payload::encode_request`).
    async fn send(&self, data: &Payload) -> Result<(), ConsumeError>;

    /// [`Sender::send`] for data that came from `client` (its metadata
    /// kept when the receiver has `include_metadata`), for senders whose
    /// requests depend on it (`headers_setter`'s `from_context`).
    async fn send_for(&self, data: &Payload, _client: &ClientInfo) -> Result<(), ConsumeError> {
        self.send(data).await
    }

    /// Prepares what only the running collector needs (connections, TLS
    /// files), when the exporter starts: Go's exporters load these in
    /// `Start`, so `validate`, which creates components, does not read
    /// them.
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        Ok(())
    }
}

/// Settings common to every exporter.
#[derive(Clone, Debug)]
pub struct HelperSettings {
    /// The exporter id, for metrics, logs and its persistent queue's store.
    pub id: ComponentId,
    /// Longest time for one attempt.
    pub timeout: Duration,
    /// `retry_on_failure`.
    pub retry: RetrySettings,
    /// `sending_queue`.
    pub queue: QueueSettings,
}

/// Why a send with retries ended without delivering.
struct Failure {
    error: ConsumeError,
    /// The collector is stopping: the data was not given up on.
    interrupted: bool,
}

struct Queued {
    batch: Batch,
    /// Tokens of receivers waiting for delivery, not just acceptance.
    acks: Acks,
    _permit: OwnedSemaphorePermit,
    _held: crate::memory::Held,
    done: Option<oneshot::Sender<Result<(), ConsumeError>>>,
}

struct Shared<S> {
    sender: S,
    settings: HelperSettings,
    /// `settings.id` as metrics and logs spell it.
    name: String,
    metrics: [ExporterMetrics; Signal::ALL.len()],
    queue_size: Gauge,
    in_flight: Gauge,
    shutdown: watch::Receiver<bool>,
    /// When a persistent queue last logged a write failure.
    last_write_error: Mutex<Option<Instant>>,
}

/// Queue, retry and metrics around a [`Sender`].
pub struct ExporterHelper<S: Sender> {
    shared: Arc<Shared<S>>,
    queue: Queue,
    stop: watch::Sender<bool>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

enum Queue {
    /// `sending_queue.enabled: false`: `consume` sends inline.
    Off,
    Memory(MemoryQueue),
    /// Opened at start, once the storage extension runs.
    Persistent {
        disk: OnceLock<Arc<DiskQueue>>,
        damaged: Counter,
    },
}

struct MemoryQueue {
    space: Arc<Semaphore>,
    capacity: usize,
    tx: Mutex<Option<mpsc::UnboundedSender<Queued>>>,
    rx: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>>,
}

/// Segment size of a persistent queue; smaller for small byte-sized
/// queues so that finished segments free their space soon.
const SEGMENT_BYTES: u64 = 8 << 20;

impl<S: Sender> ExporterHelper<S> {
    /// Wraps `sender` with the given settings and registers its metrics.
    pub fn new(
        sender: S,
        settings: HelperSettings,
        telemetry: &SelfTelemetry,
    ) -> ExporterHelper<S> {
        let name = settings.id.to_string();
        let metrics = Signal::ALL.map(|s| ExporterMetrics::new(telemetry, &name, s));
        let (stop, shutdown) = watch::channel(false);
        let labels = [("exporter", name.as_str())];
        let registry = &telemetry.registry;
        let queue = if !settings.queue.enabled {
            Queue::Off
        } else {
            registry
                .gauge(
                    "otelcol_exporter_queue_capacity",
                    "Fixed capacity of the retry queue (in batches).",
                    &labels,
                )
                .set(settings.queue.queue_size as i64);
            if settings.queue.storage.is_some() {
                Queue::Persistent {
                    disk: OnceLock::new(),
                    damaged: registry.counter(
                        "otelcol_exporter_queue_damaged_records",
                        "Number of damaged or truncated records the persistent queue skipped.",
                        &labels,
                    ),
                }
            } else {
                let (tx, rx) = mpsc::unbounded_channel();
                Queue::Memory(MemoryQueue {
                    space: Arc::new(Semaphore::new(settings.queue.queue_size)),
                    capacity: settings.queue.queue_size,
                    tx: Mutex::new(Some(tx)),
                    rx: Arc::new(tokio::sync::Mutex::new(rx)),
                })
            }
        };
        let queue_size = registry.gauge(
            "otelcol_exporter_queue_size",
            "Current size of the retry queue (in batches).",
            &labels,
        );
        let in_flight = registry.gauge(
            "otelcol_exporter_in_flight_requests",
            "Number of requests being sent.",
            &labels,
        );
        ExporterHelper {
            shared: Arc::new(Shared {
                sender,
                settings,
                name,
                metrics,
                queue_size,
                in_flight,
                shutdown,
                last_write_error: Mutex::new(None),
            }),
            queue,
            stop,
            workers: Mutex::new(Vec::new()),
        }
    }

    fn units(&self, batch: &Batch, bytes: usize) -> usize {
        match self.shared.settings.queue.sizer {
            Sizer::Requests => 1,
            Sizer::Items => batch.item_count(),
            Sizer::Bytes => bytes,
        }
    }

    async fn enqueue_in_memory(
        &self,
        queue: &MemoryQueue,
        mut batch: Batch,
    ) -> Result<(), ConsumeError> {
        // Measured once: it sizes the queue entry and is registered with
        // `core::memory` while queued.
        let bytes = batch.payload().encoded_len();
        let units = self.units(&batch, bytes).clamp(1, queue.capacity) as u32;
        let permit = if self.shared.settings.queue.block_on_overflow {
            queue.space.clone().acquire_many_owned(units).await.ok()
        } else {
            queue.space.clone().try_acquire_many_owned(units).ok()
        };
        let Some(permit) = permit else {
            return Err(self.shared.queue_full(&batch));
        };
        let (done, result) = if self.shared.settings.queue.wait_for_result {
            let (tx, rx) = oneshot::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        // Receivers that only need acceptance are answered once queued;
        // the others wait for the send.
        let mut acks = batch.take_acks();
        let accepted = acks.split_off(Guarantee::Accepted);
        let sent = queue
            .tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|tx| {
                tx.send(Queued {
                    _held: crate::memory::Held::new(bytes),
                    batch,
                    acks,
                    _permit: permit,
                    done,
                })
            });
        match sent {
            Some(Ok(())) => {
                drop(accepted);
                self.shared
                    .queue_size
                    .set((queue.capacity - queue.space.available_permits()) as i64);
            }
            _ => return Err(ConsumeError::retryable("exporter is shutting down")),
        }
        match result {
            Some(rx) => rx
                .await
                .unwrap_or_else(|_| Err(ConsumeError::retryable("exporter stopped"))),
            None => Ok(()),
        }
    }

    async fn enqueue_on_disk(
        &self,
        disk: &Arc<DiskQueue>,
        mut batch: Batch,
    ) -> Result<(), ConsumeError> {
        // Every receiver is answered once the record is written: it then
        // survives a crash, which is what both guarantees ask for.
        let acks = batch.take_acks();
        let signal = batch.signal();
        let items = batch.item_count();
        let request = batch.payload().encode_request();
        loop {
            let room = disk.room();
            tokio::pin!(room);
            room.as_mut().enable();
            let pushed = if disk.fsync_every_write() {
                let (disk, request) = (disk.clone(), request.clone());
                tokio::task::spawn_blocking(move || disk.push(signal, items, &request))
                    .await
                    .unwrap_or(Err(PushError::Closed))
            } else {
                disk.push(signal, items, &request)
            };
            match pushed {
                Ok(()) => {
                    drop(acks);
                    self.shared.queue_size.set(disk.size() as i64);
                    return Ok(());
                }
                Err(PushError::Full) if self.shared.settings.queue.block_on_overflow => {
                    room.await;
                }
                Err(PushError::Full) => return Err(self.shared.queue_full(&batch)),
                Err(PushError::Closed) => {
                    return Err(ConsumeError::retryable("exporter is shutting down"));
                }
                Err(e) => {
                    self.shared.log_write_error(&e);
                    return Err(ConsumeError::retryable(e.to_string()));
                }
            }
        }
    }

    fn spawn_memory_workers(&self, queue: &MemoryQueue, workers: &mut Vec<JoinHandle<()>>) {
        for _ in 0..self.shared.settings.queue.num_consumers {
            let rx = queue.rx.clone();
            let shared = self.shared.clone();
            let space = queue.space.clone();
            let capacity = queue.capacity;
            workers.push(tokio::spawn(async move {
                let mut carry = None;
                loop {
                    let group = {
                        let mut rx = rx.lock().await;
                        let first = match carry.take() {
                            Some(item) => item,
                            None => match rx.recv().await {
                                Some(item) => item,
                                None => break,
                            },
                        };
                        shared.gather(first, &mut carry, &mut *rx).await
                    };
                    let payloads = group.iter().map(|q| q.batch.payload().clone()).collect();
                    // A merged request goes out with its first batch's client.
                    let client = group[0].batch.client().clone();
                    let result = shared
                        .send_merged(payloads, &client)
                        .await
                        .map_err(|f| f.error);
                    for item in group {
                        item.acks.settle(&result);
                        if let Some(done) = item.done {
                            let _ = done.send(result.clone());
                        }
                    }
                    shared
                        .queue_size
                        .set((capacity - space.available_permits()) as i64);
                }
            }));
        }
    }

    async fn open_disk_queue(
        &self,
        host: &Host,
        damaged: &Counter,
    ) -> Result<Arc<DiskQueue>, ComponentError> {
        let queue = &self.shared.settings.queue;
        let storage_id = queue.storage.as_deref().unwrap_or_default();
        let storage_id =
            ComponentId::parse(storage_id).map_err(|e| format!("sending_queue::storage: {e}"))?;
        let directory = host.storage(&storage_id)?.directory(
            Kind::Exporter,
            &self.shared.settings.id,
            "queue",
        )?;
        let segment_bytes = match queue.sizer {
            Sizer::Bytes => (queue.queue_size as u64 / 8).clamp(64 << 10, SEGMENT_BYTES),
            _ => SEGMENT_BYTES,
        };
        let settings = DiskQueueSettings {
            capacity: queue.queue_size as u64,
            sizer: queue.sizer,
            segment_bytes,
            fsync_every_write: directory.fsync_every_write,
            damaged: damaged.clone(),
        };
        let path = directory.path.clone();
        let (disk, recovered) =
            tokio::task::spawn_blocking(move || DiskQueue::open(&path, settings))
                .await?
                .map_err(|e| {
                    format!(
                        "cannot open the persistent queue in {}: {e}",
                        directory.path.display()
                    )
                })?;
        if recovered.records > 0 {
            tracing::info!(exporter = %self.shared.name, records = recovered.records, "persistent queue: resuming what an earlier run had not delivered");
        }
        if recovered.damaged > 0 {
            tracing::warn!(exporter = %self.shared.name, damaged = recovered.damaged, "persistent queue: found damaged records; they will be skipped");
        }
        let disk = Arc::new(disk);
        self.shared.queue_size.set(disk.size() as i64);
        let mut workers = self.workers.lock().unwrap_or_else(|p| p.into_inner());
        for _ in 0..queue.num_consumers {
            let shared = self.shared.clone();
            let disk = disk.clone();
            workers.push(tokio::spawn(async move {
                let mut carry = None;
                loop {
                    let first = match carry.take() {
                        Some(record) => record,
                        None => match DiskEntries(&disk).next().await {
                            Some(entry) => entry,
                            None => break,
                        },
                    };
                    let group = shared.gather(first, &mut carry, DiskEntries(&disk)).await;
                    let (positions, payloads): (Vec<_>, Vec<_>) = group.into_iter().unzip();
                    // What clients sent is not stored on disk.
                    match shared.send_merged(payloads, &ClientInfo::default()).await {
                        // Left on disk, to be sent after the restart.
                        Err(Failure {
                            interrupted: true, ..
                        }) => break,
                        // Delivered, or given up on for good.
                        _ => positions.into_iter().for_each(|p| disk.ack(p)),
                    }
                    shared.queue_size.set(disk.size() as i64);
                }
            }));
        }
        if !directory.fsync_every_write {
            let disk = disk.clone();
            let mut stop = self.stop.subscribe();
            let interval = directory.fsync_interval;
            let name = self.shared.name.clone();
            workers.push(tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(interval) => {}
                        _ = stop.wait_for(|s| *s) => break,
                    }
                    let disk = disk.clone();
                    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || disk.sync()).await {
                        tracing::warn!(exporter = %name, error = %e, "persistent queue: fsync failed");
                    }
                }
            }));
        }
        Ok(disk)
    }
}

fn metrics_for<S>(shared: &Shared<S>, signal: Signal) -> &ExporterMetrics {
    &shared.metrics[signal as usize]
}

/// Where batching senders take queued entries from.
trait QueueEntries: Send {
    type Entry: Send;
    fn payload(entry: &Self::Entry) -> &Payload;
    fn next(&mut self) -> impl Future<Output = Option<Self::Entry>> + Send;
}

impl QueueEntries for &mut mpsc::UnboundedReceiver<Queued> {
    type Entry = Queued;
    fn payload(entry: &Queued) -> &Payload {
        entry.batch.payload()
    }
    fn next(&mut self) -> impl Future<Output = Option<Queued>> + Send {
        self.recv()
    }
}

struct DiskEntries<'a>(&'a DiskQueue);

impl QueueEntries for DiskEntries<'_> {
    type Entry = (Position, Payload);
    fn payload(entry: &(Position, Payload)) -> &Payload {
        &entry.1
    }
    async fn next(&mut self) -> Option<(Position, Payload)> {
        let r = self.0.pop().await?;
        Some((r.position, Payload::encoded(r.signal, r.request, r.items)))
    }
}

/// How often a persistent queue that cannot write logs it.
const WRITE_ERROR_LOG_INTERVAL: Duration = Duration::from_secs(10);

impl<S: Sender> Shared<S> {
    /// With `sending_queue::batch`, takes more entries after `first` until
    /// the batch is big enough or `flush_timeout` passes; an entry of
    /// another signal ends the batch and is left in `carry` for the next.
    async fn gather<Q: QueueEntries>(
        &self,
        first: Q::Entry,
        carry: &mut Option<Q::Entry>,
        mut queue: Q,
    ) -> Vec<Q::Entry> {
        let payload = Q::payload;
        let Some(batch) = &self.settings.queue.batch else {
            return vec![first];
        };
        let signal = payload(&first).signal();
        // Profiles requests each carry their own dictionary and are sent
        // one by one (`pdata::Profiles`).
        if signal == Signal::Profiles {
            return vec![first];
        }
        let mut size = batch.size_of(payload(&first));
        let mut group = vec![first];
        let deadline = tokio::time::Instant::now() + batch.flush_timeout.0;
        while size < batch.min_size {
            match tokio::time::timeout_at(deadline, queue.next()).await {
                Ok(Some(entry)) if payload(&entry).signal() == signal => {
                    size += batch.size_of(payload(&entry));
                    group.push(entry);
                }
                Ok(Some(entry)) => {
                    *carry = Some(entry);
                    break;
                }
                // Out of time, or the queue is closing.
                _ => break,
            }
        }
        group
    }

    /// Sends payloads of one signal as one request, or in pieces of at
    /// most `batch::max_size` items; the worst outcome of the pieces.
    async fn send_merged(
        &self,
        payloads: Vec<Payload>,
        client: &ClientInfo,
    ) -> Result<(), Failure> {
        let mut payloads = payloads.into_iter();
        let Some(mut merged) = payloads.next() else {
            return Ok(());
        };
        for p in payloads {
            // The same signal by construction (`gather`).
            let _ = merged.merge(p);
        }
        let max = match &self.settings.queue.batch {
            Some(b) if b.max_size > 0 => b.max_size,
            _ => return self.send_with_retry(&merged, client).await,
        };
        let signal = merged.signal();
        let mut worst: Result<(), Failure> = Ok(());
        while merged.item_count() > 0 {
            let piece = if merged.item_count() > max {
                merged.split_off_front(max)
            } else {
                std::mem::replace(&mut merged, Payload::empty(signal))
            };
            if let Err(f) = self.send_with_retry(&piece, client).await {
                let interrupted = f.interrupted;
                let replace = match &worst {
                    Ok(()) => true,
                    Err(w) => {
                        !w.interrupted && (interrupted || f.error.severity() > w.error.severity())
                    }
                };
                if replace {
                    worst = Err(f);
                }
                if interrupted {
                    break;
                }
            }
        }
        worst
    }

    fn queue_full(&self, batch: &Batch) -> ConsumeError {
        metrics_for(self, batch.signal())
            .enqueue_failed
            .add(batch.item_count() as u64);
        ConsumeError::retryable("sending queue is full")
    }

    fn log_write_error(&self, error: &PushError) {
        let mut last = self
            .last_write_error
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|at| at.elapsed() >= WRITE_ERROR_LOG_INTERVAL) {
            *last = Some(Instant::now());
            tracing::error!(exporter = %self.name, error = %error, "refusing data: the persistent queue cannot store it (logged at most every 10s)");
        }
    }

    /// Sends with retries until delivered, refused for good, out of time,
    /// or the collector shuts down.
    async fn send_with_retry(&self, data: &Payload, client: &ClientInfo) -> Result<(), Failure> {
        let items = data.item_count() as u64;
        let metrics = metrics_for(self, data.signal());
        let retry = &self.settings.retry;
        let mut backoff = Backoff::new(retry);
        let mut shutdown = self.shutdown.clone();
        loop {
            self.in_flight.add(1);
            let attempt =
                tokio::time::timeout(self.settings.timeout, self.sender.send_for(data, client))
                    .await;
            self.in_flight.add(-1);
            let error = match attempt {
                Ok(Ok(())) => {
                    metrics.sent.add(items);
                    return Ok(());
                }
                Ok(Err(e)) => e,
                Err(_) => ConsumeError::retryable(format!(
                    "request timed out after {}",
                    crate::config::format_go_duration(self.settings.timeout)
                )),
            };
            let give_up = |error: ConsumeError, why: &str| {
                metrics.send_failed.add(items);
                tracing::error!(exporter = %self.name, error = %error, dropped_items = items, "Exporting failed. {why}");
                Err(Failure {
                    error,
                    interrupted: false,
                })
            };
            if error.is_permanent() || !retry.enabled {
                return give_up(error, "Dropping data.");
            }
            let hint = match &error {
                ConsumeError::Retryable { retry_after, .. } => *retry_after,
                _ => None,
            };
            let Some(wait) = backoff.next(hint) else {
                return give_up(error, "No more retries left. Dropping data.");
            };
            tracing::info!(exporter = %self.name, error = %error, interval = ?wait, "Exporting failed. Will retry the request after interval.");
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.wait_for(|stopped| *stopped) => {
                    return Err(Failure { error, interrupted: true });
                }
            }
        }
    }
}

#[async_trait]
impl<S: Sender> Consumer for ExporterHelper<S> {
    fn persists_before_ack(&self) -> bool {
        matches!(self.queue, Queue::Persistent { .. })
    }

    async fn consume(&self, batch: Batch) -> Result<(), ConsumeError> {
        match &self.queue {
            Queue::Off => self
                .shared
                .send_with_retry(batch.payload(), batch.client())
                .await
                .map_err(|f| f.error),
            Queue::Memory(queue) => self.enqueue_in_memory(queue, batch).await,
            Queue::Persistent { disk, .. } => match disk.get() {
                Some(disk) => self.enqueue_on_disk(disk, batch).await,
                None => Err(ConsumeError::retryable("exporter is not running")),
            },
        }
    }
}

#[async_trait]
impl<S: Sender> Component for ExporterHelper<S> {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.shared.sender.start(host).await?;
        match &self.queue {
            Queue::Off => {}
            Queue::Memory(queue) => {
                let mut workers = self.workers.lock().unwrap_or_else(|p| p.into_inner());
                self.spawn_memory_workers(queue, &mut workers);
            }
            Queue::Persistent { disk, damaged } => {
                if self.shared.settings.queue.wait_for_result {
                    tracing::warn!(exporter = %self.shared.name, "sending_queue::wait_for_result has no effect with a persistent queue: clients are answered once their data is written to disk");
                }
                let opened = self.open_disk_queue(host, damaged).await?;
                let _ = disk.set(opened);
            }
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        // A memory queue is closed so workers finish what is in it and
        // exit; retries in progress get one more attempt each and stop. A
        // persistent queue stops handing out records: what is left stays on
        // disk for the next run.
        match &self.queue {
            Queue::Off => {}
            Queue::Memory(queue) => {
                queue.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
            }
            Queue::Persistent { disk, .. } => {
                if let Some(disk) = disk.get() {
                    disk.close();
                }
            }
        }
        let _ = self.stop.send(true);
        let workers: Vec<_> = self
            .workers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        for w in workers {
            let _ = w.await;
        }
        if let Queue::Persistent { disk, .. } = &self.queue
            && let Some(disk) = disk.get().cloned()
        {
            tokio::task::spawn_blocking(move || disk.sync()).await??;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdata::{Telemetry, logs};
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Flaky {
        calls: AtomicUsize,
        fail_first: usize,
        permanent: bool,
    }

    #[async_trait]
    impl Sender for Flaky {
        async fn send(&self, _data: &Payload) -> Result<(), ConsumeError> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if n < self.fail_first {
                if self.permanent {
                    return Err(ConsumeError::Permanent("bad data".into()));
                }
                return Err(ConsumeError::Retryable {
                    message: "busy".into(),
                    retry_after: Some(Duration::from_millis(1)),
                });
            }
            Ok(())
        }
    }

    fn one_log() -> Batch {
        Batch::new(Telemetry::Logs(vec![logs::ResourceLogs {
            scope_logs: vec![logs::ScopeLogs {
                log_records: vec![logs::LogRecord::default()],
                ..Default::default()
            }],
            ..Default::default()
        }]))
    }

    fn settings(queue: bool) -> HelperSettings {
        HelperSettings {
            id: ComponentId::new("test"),
            timeout: Duration::from_secs(1),
            retry: RetrySettings::default(),
            queue: QueueSettings {
                enabled: queue,
                queue_size: 2,
                num_consumers: 1,
                ..Default::default()
            },
        }
    }

    #[tokio::test]
    async fn retries_honour_retry_after_then_succeed() {
        let t = SelfTelemetry::noop();
        let helper = ExporterHelper::new(
            Flaky {
                calls: AtomicUsize::new(0),
                fail_first: 3,
                permanent: false,
            },
            settings(false),
            &t,
        );
        helper.consume(one_log()).await.unwrap();
        assert_eq!(helper.shared.sender.calls.load(Ordering::SeqCst), 4);
        assert_eq!(helper.shared.metrics[Signal::Logs as usize].sent.get(), 1);
    }

    #[tokio::test]
    async fn permanent_errors_are_not_retried() {
        let t = SelfTelemetry::noop();
        let helper = ExporterHelper::new(
            Flaky {
                calls: AtomicUsize::new(0),
                fail_first: 1,
                permanent: true,
            },
            settings(false),
            &t,
        );
        assert!(helper.consume(one_log()).await.unwrap_err().is_permanent());
        assert_eq!(helper.shared.sender.calls.load(Ordering::SeqCst), 1);
        assert_eq!(
            helper.shared.metrics[Signal::Logs as usize]
                .send_failed
                .get(),
            1
        );
    }

    #[tokio::test]
    async fn a_full_queue_refuses_and_counts() {
        let t = SelfTelemetry::noop();
        let helper = ExporterHelper::new(
            Flaky {
                calls: AtomicUsize::new(0),
                fail_first: 0,
                permanent: false,
            },
            settings(true),
            &t,
        );
        // Not started: nothing drains, so the third batch finds it full.
        helper.consume(one_log()).await.unwrap();
        helper.consume(one_log()).await.unwrap();
        let err = helper.consume(one_log()).await.unwrap_err();
        assert_eq!(err, ConsumeError::retryable("sending queue is full"));
        assert_eq!(
            helper.shared.metrics[Signal::Logs as usize]
                .enqueue_failed
                .get(),
            1
        );
        helper.start(&Host::default()).await.unwrap();
        helper.shutdown().await.unwrap();
        assert_eq!(helper.shared.metrics[Signal::Logs as usize].sent.get(), 2);
    }

    struct Recording(Mutex<Vec<usize>>);

    #[async_trait]
    impl Sender for Recording {
        async fn send(&self, data: &Payload) -> Result<(), ConsumeError> {
            self.0.lock().unwrap().push(data.item_count());
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

    #[tokio::test]
    async fn queue_batching_merges_up_to_min_size_and_splits_at_max_size() {
        let t = SelfTelemetry::noop();
        let mut s = settings(true);
        s.queue.queue_size = 100;
        s.queue.batch = Some(QueueBatchSettings {
            flush_timeout: crate::config::GoDuration(Duration::from_millis(50)),
            min_size: 10,
            max_size: 8,
            sizer: Sizer::Items,
        });
        let helper = ExporterHelper::new(Recording(Mutex::new(Vec::new())), s, &t);
        for _ in 0..5 {
            helper.consume(logs(3)).await.unwrap();
        }
        helper.start(&Host::default()).await.unwrap();
        let sent = |h: &ExporterHelper<Recording>| h.shared.sender.0.lock().unwrap().clone();
        let deadline = Instant::now() + Duration::from_secs(5);
        while sent(&helper).iter().sum::<usize>() < 15 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // 3+3+3+3 = 12 reaches min_size and goes out as 8 + 4; the last 3
        // waits for flush_timeout.
        assert_eq!(sent(&helper), vec![8, 4, 3]);
        helper.shutdown().await.unwrap();
    }
}
