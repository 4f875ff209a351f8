//! The `forward` connector: what pipelines export to it, every pipeline
//! that lists it as a receiver gets, for the same signal, as the Go
//! collector's `forwardconnector` does. It takes no settings.

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, ConnectorFactory, CreateSettings, Metadata, Routes,
    SharedStage,
};
use ferrotel_core::consumer::{Batch, ConsumeError, Consumer, SharedConsumer};
use ferrotel_core::pdata::Signal;
use serde::Deserialize;
use std::sync::Arc;

/// `forward` has no settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {}

impl ComponentConfig for Config {}

struct ForwardFactory;

/// The factory for the `forward` connector.
pub fn factory() -> impl ConnectorFactory {
    ForwardFactory
}

impl ConnectorFactory for ForwardFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        _set: CreateSettings,
        _config: Config,
        _from: Signal,
        _to: Signal,
        routes: Routes,
    ) -> Result<SharedStage, ComponentError> {
        Ok(Arc::new(Forward { next: routes.all() }))
    }
}

struct Forward {
    next: SharedConsumer,
}

#[async_trait]
impl Consumer for Forward {
    fn persists_before_ack(&self) -> bool {
        self.next.persists_before_ack()
    }

    async fn consume(&self, batch: Batch) -> Result<(), ConsumeError> {
        self.next.consume(batch).await
    }
}

impl Component for Forward {}
