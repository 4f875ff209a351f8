//! Consumers and settings for testing components (feature `test-util`),
//! as Go's `consumertest` and `componenttest`: a [`Sink`] that keeps what
//! it is given and can be told to refuse, a consumer that takes everything
//! and keeps nothing ([`nop`]), and [`settings`] for creating a component
//! outside a collector. Component crates take this feature in their
//! `[dev-dependencies]` only, so nothing here reaches a distribution.

use crate::component::{ComponentId, CreateSettings};
use crate::consumer::{Batch, ConsumeError, Consumer, SharedConsumer};
use crate::telemetry::Telemetry;
use async_trait::async_trait;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A consumer that keeps every batch it takes, in order, and refuses with
/// a chosen error while told to.
#[derive(Default)]
pub struct Sink {
    batches: Mutex<Vec<Batch>>,
    refusal: Mutex<Option<ConsumeError>>,
}

impl Sink {
    /// A sink that takes everything.
    pub fn new() -> Arc<Sink> {
        Arc::new(Sink::default())
    }

    /// A sink that refuses every batch with `error` until [`Sink::refuse`]
    /// says otherwise.
    pub fn refusing(error: ConsumeError) -> Arc<Sink> {
        let sink = Sink::default();
        sink.refuse(Some(error));
        Arc::new(sink)
    }

    /// From now on refuse with `error`, or take batches again with `None`.
    pub fn refuse(&self, error: Option<ConsumeError>) {
        *lock(&self.refusal) = error;
    }

    /// The batches taken so far.
    pub fn batches(&self) -> Vec<Batch> {
        lock(&self.batches).clone()
    }

    /// Takes the batches out, leaving the sink empty.
    pub fn take(&self) -> Vec<Batch> {
        std::mem::take(&mut *lock(&self.batches))
    }

    /// Items (spans, data points, log records) in each batch taken.
    pub fn item_counts(&self) -> Vec<usize> {
        lock(&self.batches).iter().map(Batch::item_count).collect()
    }

    /// Items in all the batches taken.
    pub fn item_count(&self) -> usize {
        lock(&self.batches).iter().map(Batch::item_count).sum()
    }

    /// Waits until at least `items` items have arrived, for at most
    /// `timeout`; says whether they did.
    pub async fn wait_for_items(&self, items: usize, timeout: Duration) -> bool {
        let arrived = async {
            while self.item_count() < items {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(timeout, arrived).await.is_ok()
    }
}

#[async_trait]
impl Consumer for Sink {
    async fn consume(&self, batch: Batch) -> Result<(), ConsumeError> {
        if let Some(error) = lock(&self.refusal).clone() {
            return Err(error);
        }
        lock(&self.batches).push(batch);
        Ok(())
    }
}

/// A consumer that takes every batch and drops it.
pub fn nop() -> SharedConsumer {
    struct Nop;
    #[async_trait]
    impl Consumer for Nop {
        async fn consume(&self, _: Batch) -> Result<(), ConsumeError> {
            Ok(())
        }
    }
    Arc::new(Nop)
}

/// Settings for creating a component with the id `id` (`batch`,
/// `otlp/in`) and self-metrics that go nowhere.
pub fn settings(id: &str) -> CreateSettings {
    CreateSettings {
        id: ComponentId::parse(id).unwrap_or_else(|e| panic!("test id {id:?}: {e}")),
        telemetry: Telemetry::noop(),
    }
}

// A test that panicked while holding a lock should not hide what the sink
// saw from the next assertion.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
