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

pub use config::{QueueSettings, RetrySettings, Sizer};

use crate::component::{Component, ComponentError, Host};
use crate::consumer::{Batch, ConsumeError, Consumer};
use crate::pdata::{Payload, Signal};
use crate::telemetry::{ExporterMetrics, Gauge, Telemetry as SelfTelemetry};
use async_trait::async_trait;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// One attempt to deliver one batch.
#[async_trait]
pub trait Sender: Send + Sync + 'static {
    /// Sends `data`; a retryable error may carry the server's `Retry-After`.
    /// Encoded payloads can be sent as they are (`Payload::encode_request`).
    async fn send(&self, data: &Payload) -> Result<(), ConsumeError>;
}

/// Settings common to every exporter.
#[derive(Clone, Debug)]
pub struct HelperSettings {
    /// The exporter id, for metrics and logs.
    pub id: String,
    /// Longest time for one attempt.
    pub timeout: Duration,
    /// `retry_on_failure`.
    pub retry: RetrySettings,
    /// `sending_queue`.
    pub queue: QueueSettings,
}

struct Queued {
    batch: Batch,
    _permit: OwnedSemaphorePermit,
    _held: crate::memory::Held,
    done: Option<oneshot::Sender<Result<(), ConsumeError>>>,
}

struct Shared<S> {
    sender: S,
    settings: HelperSettings,
    metrics: [ExporterMetrics; 3],
    shutdown: watch::Receiver<bool>,
}

/// Queue, retry and metrics around a [`Sender`].
pub struct ExporterHelper<S: Sender> {
    shared: Arc<Shared<S>>,
    queue: Option<QueueParts>,
    stop: watch::Sender<bool>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

struct QueueParts {
    space: Arc<Semaphore>,
    capacity: usize,
    tx: Mutex<Option<mpsc::UnboundedSender<Queued>>>,
    rx: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>>,
    size: Gauge,
}

impl<S: Sender> ExporterHelper<S> {
    /// Wraps `sender` with the given settings and registers its metrics.
    pub fn new(
        sender: S,
        settings: HelperSettings,
        telemetry: &SelfTelemetry,
    ) -> ExporterHelper<S> {
        let metrics = Signal::ALL.map(|s| ExporterMetrics::new(telemetry, &settings.id, s));
        let (stop, shutdown) = watch::channel(false);
        let queue = settings.queue.enabled.then(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let capacity = settings.queue.queue_size;
            let labels = [("exporter", settings.id.as_str())];
            telemetry
                .registry
                .gauge(
                    "otelcol_exporter_queue_capacity",
                    "Fixed capacity of the retry queue (in batches).",
                    &labels,
                )
                .set(capacity as i64);
            QueueParts {
                space: Arc::new(Semaphore::new(capacity)),
                capacity,
                tx: Mutex::new(Some(tx)),
                rx: Arc::new(tokio::sync::Mutex::new(rx)),
                size: telemetry.registry.gauge(
                    "otelcol_exporter_queue_size",
                    "Current size of the retry queue (in batches).",
                    &labels,
                ),
            }
        });
        ExporterHelper {
            shared: Arc::new(Shared {
                sender,
                settings,
                metrics,
                shutdown,
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
}

fn metrics_for<S>(shared: &Shared<S>, signal: Signal) -> &ExporterMetrics {
    &shared.metrics[signal as usize]
}

impl<S: Sender> Shared<S> {
    /// Sends with retries until delivered, refused for good, out of time,
    /// or the collector shuts down.
    async fn send_with_retry(&self, data: &Payload) -> Result<(), ConsumeError> {
        let items = data.item_count() as u64;
        let metrics = metrics_for(self, data.signal());
        let retry = &self.settings.retry;
        let started = Instant::now();
        let mut interval = retry.initial_interval.0;
        let mut shutdown = self.shutdown.clone();
        loop {
            let attempt = tokio::time::timeout(self.settings.timeout, self.sender.send(data)).await;
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
                tracing::error!(exporter = %self.settings.id, error = %error, dropped_items = items, "Exporting failed. {why}");
                Err(error)
            };
            if error.is_permanent() || !retry.enabled {
                return give_up(error, "Dropping data.");
            }
            let hint = match &error {
                ConsumeError::Retryable { retry_after, .. } => *retry_after,
                _ => None,
            };
            let wait = hint.unwrap_or_else(|| jitter(interval, retry.randomization_factor));
            let max_elapsed = retry.max_elapsed_time.0;
            if !max_elapsed.is_zero() && started.elapsed() + wait > max_elapsed {
                return give_up(error, "No more retries left. Dropping data.");
            }
            tracing::info!(exporter = %self.settings.id, error = %error, interval = ?wait, "Exporting failed. Will retry the request after interval.");
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.wait_for(|stopped| *stopped) => {
                    return give_up(error, "Collector is shutting down; dropping data.");
                }
            }
            interval = (interval.mul_f64(retry.multiplier)).min(retry.max_interval.0);
        }
    }
}

fn jitter(interval: Duration, factor: f64) -> Duration {
    let delta = interval.as_secs_f64() * factor;
    let low = interval.as_secs_f64() - delta;
    Duration::from_secs_f64((low + fastrand::f64() * 2.0 * delta).max(0.0))
}

#[async_trait]
impl<S: Sender> Consumer for ExporterHelper<S> {
    async fn consume(&self, batch: Batch) -> Result<(), ConsumeError> {
        let Some(queue) = &self.queue else {
            return self.shared.send_with_retry(batch.payload()).await;
        };
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
            metrics_for(&self.shared, batch.signal())
                .enqueue_failed
                .add(batch.item_count() as u64);
            return Err(ConsumeError::retryable("sending queue is full"));
        };
        let (done, result) = if self.shared.settings.queue.wait_for_result {
            let (tx, rx) = oneshot::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let sent = queue
            .tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|tx| {
                tx.send(Queued {
                    _held: crate::memory::Held::new(bytes),
                    batch,
                    _permit: permit,
                    done,
                })
            });
        match sent {
            Some(Ok(())) => {
                queue
                    .size
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
}

#[async_trait]
impl<S: Sender> Component for ExporterHelper<S> {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let Some(queue) = &self.queue else {
            return Ok(());
        };
        let mut workers = self.workers.lock().unwrap_or_else(|p| p.into_inner());
        for _ in 0..self.shared.settings.queue.num_consumers {
            let rx = queue.rx.clone();
            let shared = self.shared.clone();
            let space = queue.space.clone();
            let size = queue.size.clone();
            let capacity = queue.capacity;
            workers.push(tokio::spawn(async move {
                loop {
                    let next = rx.lock().await.recv().await;
                    let Some(item) = next else { break };
                    let result = shared.send_with_retry(item.batch.payload()).await;
                    if let Some(done) = item.done {
                        let _ = done.send(result);
                    }
                    drop(item._permit);
                    size.set((capacity - space.available_permits()) as i64);
                }
            }));
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        // Close the queue so workers finish what is in it and then exit;
        // retries in progress get one more attempt each and stop.
        if let Some(queue) = &self.queue {
            queue.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
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
            id: "test".into(),
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
}
