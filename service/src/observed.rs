//! The items every processor takes and passes on, counted around it by the
//! graph rather than by each processor, as Go's `processorhelper` counts
//! them for the processors built on it: `otelcol_processor_incoming_items`
//! and `otelcol_processor_outgoing_items`, labelled `processor` and
//! `otel_signal`.
//!
//! Go counts as outgoing what the processor hands on, whether or not the
//! next stage takes it; here an item is outgoing once the next stage has
//! taken it, so a batch the batch processor retries is counted once.

use ferrotel_core::async_trait;
use ferrotel_core::component::{Component, ComponentError, ComponentId, Host, SharedStage};
use ferrotel_core::consumer::{Batch, ConsumeError, Consumer, SharedConsumer};
use ferrotel_core::pdata::Signal;
use ferrotel_core::telemetry::{Counter, Telemetry};
use std::sync::Arc;

/// The two counters of one processor in one pipeline signal.
pub(crate) struct ProcessorItems {
    incoming: Counter,
    outgoing: Counter,
}

impl ProcessorItems {
    pub(crate) fn new(telemetry: &Telemetry, id: &ComponentId, signal: Signal) -> ProcessorItems {
        let id = id.to_string();
        let labels = [("processor", id.as_str()), ("otel_signal", signal.as_str())];
        let registry = &telemetry.registry;
        ProcessorItems {
            incoming: registry.counter(
                "otelcol_processor_incoming_items",
                "Number of items passed to the processor. [Alpha]",
                &labels,
            ),
            outgoing: registry.counter(
                "otelcol_processor_outgoing_items",
                "Number of items emitted from the processor. [Alpha]",
                &labels,
            ),
        }
    }

    /// `next`, counting what it takes as the processor's outgoing items.
    pub(crate) fn outgoing(&self, next: SharedConsumer) -> SharedConsumer {
        Arc::new(Outgoing {
            next,
            items: self.outgoing.clone(),
        })
    }

    /// The processor, counting what it is given as its incoming items.
    pub(crate) fn incoming(&self, processor: SharedStage) -> SharedStage {
        Arc::new(Incoming {
            processor,
            items: self.incoming.clone(),
        })
    }
}

struct Outgoing {
    next: SharedConsumer,
    items: Counter,
}

#[async_trait]
impl Consumer for Outgoing {
    async fn consume(&self, batch: Batch) -> Result<(), ConsumeError> {
        let items = batch.item_count() as u64;
        let taken = self.next.consume(batch).await;
        if taken.is_ok() {
            self.items.add(items);
        }
        taken
    }

    fn persists_before_ack(&self) -> bool {
        self.next.persists_before_ack()
    }
}

struct Incoming {
    processor: SharedStage,
    items: Counter,
}

#[async_trait]
impl Consumer for Incoming {
    async fn consume(&self, batch: Batch) -> Result<(), ConsumeError> {
        self.items.add(batch.item_count() as u64);
        self.processor.consume(batch).await
    }

    fn persists_before_ack(&self) -> bool {
        self.processor.persists_before_ack()
    }
}

#[async_trait]
impl Component for Incoming {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.processor.start(host).await
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.processor.shutdown().await
    }
}
