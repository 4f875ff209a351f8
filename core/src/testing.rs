//! Consumers and settings for testing components (feature `test-util`),
//! as Go's `consumertest` and `componenttest`: a [`Sink`] that keeps what
//! it is given and can be told to refuse, a consumer that takes everything
//! and keeps nothing ([`nop`]), [`settings`] for creating a component
//! outside a collector, and [`check_lifecycles`], the generic test every
//! factory of a distribution passes. Component crates take this feature in their
//! `[dev-dependencies]` only, so nothing here reaches a distribution.

use crate::component::{
    Component, ComponentId, CreateSettings, Factories, Host, Kind, Metadata, PipelineId, Routes,
    SignalConsumers,
};
use crate::config::DecodeError;
use crate::consumer::{Batch, ConsumeError, Consumer, SharedConsumer};
use crate::telemetry::Telemetry;
use async_trait::async_trait;
use serde_yaml_ng::Value;
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

/// Go's generated component test, without generating it: every factory of
/// a registry is created from its default config (or its metadata's test
/// config), started and shut down, and its metadata is checked against how
/// it was registered. Returns one line per factory that failed, naming it.
pub async fn check_lifecycles(factories: &Factories) -> Vec<String> {
    let mut failures = Vec::new();
    for kind in Kind::ALL {
        for metadata in factories.metadata(kind) {
            let name = format!("{kind} {:?}", metadata.type_name);
            if let Err(e) = check_one(factories, kind, metadata).await {
                failures.push(format!("{name}: {e}"));
            }
        }
    }
    failures
}

/// How long one component may take to start or shut down here.
const LIFECYCLE_STEP: Duration = Duration::from_secs(10);

async fn check_one(factories: &Factories, kind: Kind, metadata: Metadata) -> Result<(), String> {
    if metadata.class != kind {
        return Err(format!(
            "registered as a {kind} but its metadata says {}",
            metadata.class
        ));
    }
    for alias in metadata.deprecated_aliases {
        if factories.resolve(kind, alias) != Some((metadata.type_name, true)) {
            return Err(format!("alias {alias:?} does not resolve to it"));
        }
    }
    let raw = metadata.test_config.cloned().unwrap_or(Value::Null);
    let set = || settings(metadata.type_name);
    let invalid = |e: DecodeError| format!("its test config does not validate: {e}");
    let mut created: Vec<Arc<dyn Component>> = Vec::new();
    match kind {
        Kind::Receiver => {
            let f = &factories.receivers[metadata.type_name];
            f.validate(&raw).map_err(invalid)?;
            let mut next = SignalConsumers::default();
            for (signal, _) in metadata.signals {
                next.set(*signal, nop());
            }
            created.push(
                f.create(set(), &raw, next)
                    .map_err(|e| e.to_string())?
                    .into(),
            );
        }
        Kind::Processor => {
            let f = &factories.processors[metadata.type_name];
            f.validate(&raw).map_err(invalid)?;
            for (signal, _) in metadata.signals {
                let p = f.create(set(), &raw, *signal, nop());
                created.push(p.map_err(|e| format!("{signal}: {e}"))?);
            }
        }
        Kind::Exporter => {
            let f = &factories.exporters[metadata.type_name];
            f.validate(&raw).map_err(invalid)?;
            created.push(f.create(set(), &raw).map_err(|e| e.to_string())?);
        }
        Kind::Connector => {
            let f = &factories.connectors[metadata.type_name];
            f.validate(&raw).map_err(invalid)?;
            for (from, to, _) in metadata.connections {
                let pipeline = PipelineId::parse(to.as_str()).expect("a signal is a pipeline id");
                let routes = Routes(vec![(pipeline, nop())]);
                let c = f.create(set(), &raw, *from, *to, routes);
                created.push(c.map_err(|e| format!("{from} to {to}: {e}"))?);
            }
        }
        Kind::Extension => {
            let f = &factories.extensions[metadata.type_name];
            f.validate(&raw).map_err(invalid)?;
            created.push(f.create(set(), &raw).map_err(|e| e.to_string())?);
        }
    }
    if metadata.skip_lifecycle {
        return Ok(());
    }
    let host = Host::default();
    for component in &created {
        match tokio::time::timeout(LIFECYCLE_STEP, component.start(&host)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(format!("start failed: {e}")),
            Err(_) => return Err(format!("start took over {LIFECYCLE_STEP:?}")),
        }
    }
    for component in created.iter().rev() {
        match tokio::time::timeout(LIFECYCLE_STEP, component.shutdown()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(format!("shutdown failed: {e}")),
            Err(_) => return Err(format!("shutdown took over {LIFECYCLE_STEP:?}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::{ComponentConfig, ComponentError, ProcessorFactory, SharedStage};
    use crate::config::Invalid;
    use crate::pdata::Signal;
    use serde::Deserialize;

    /// A processor whose defaults are refused: the lifecycle check must say
    /// so, naming it.
    struct NeedsALimit;

    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct LimitConfig {
        limit: u32,
    }

    impl ComponentConfig for LimitConfig {
        fn validate(&self) -> Result<(), Invalid> {
            if self.limit == 0 {
                return Err(Invalid::at("limit", "must be positive"));
            }
            Ok(())
        }
    }

    struct Pass(SharedConsumer);

    #[async_trait]
    impl Consumer for Pass {
        async fn consume(&self, batch: Batch) -> Result<(), ConsumeError> {
            self.0.consume(batch).await
        }
    }

    impl Component for Pass {}

    impl ProcessorFactory for NeedsALimit {
        type Config = LimitConfig;
        fn metadata(&self) -> Metadata {
            Metadata::from_yaml(
                "type: limited\nstatus: {class: processor, stability: {beta: [logs]}}",
                "test",
            )
            .expect("test metadata")
        }
        fn create(
            &self,
            _: CreateSettings,
            _: LimitConfig,
            _: Signal,
            next: SharedConsumer,
        ) -> Result<SharedStage, ComponentError> {
            Ok(Arc::new(Pass(next)))
        }
    }

    #[tokio::test]
    async fn a_factory_whose_defaults_do_not_validate_is_reported() {
        let failures = check_lifecycles(&Factories::new().processor(NeedsALimit)).await;
        assert_eq!(
            failures,
            ["processor \"limited\": its test config does not validate: limit: must be positive"]
        );
    }
}
