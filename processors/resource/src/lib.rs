//! The `resource` processor: the attribute actions of `ferrotel_attraction`
//! (`insert`, `update`, `upsert`, `delete`, `hash`, `extract`, `convert`)
//! under `attributes:`, applied to the resource attributes of every
//! resource in a batch, as the Go collector's `resourceprocessor` (contrib
//! v0.165) does. `from_context` reads the batch's client metadata.

use ferrotel_attraction::{ActionConfig, AttrProc};
use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, Metadata, ProcessorFactory,
    SharedStage,
};
use ferrotel_core::config::Invalid;
use ferrotel_core::consumer::{Batch, ConsumeError, Consumer, SharedConsumer};
use ferrotel_core::pdata::resource::Resource;
use ferrotel_core::pdata::{Signal, Telemetry};
use serde::Deserialize;
use std::sync::Arc;

/// `resource` settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The actions, in order.
    pub attributes: Vec<ActionConfig>,
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        if self.attributes.is_empty() {
            return Err("missing required field \"attributes\"".into());
        }
        AttrProc::new(&self.attributes)?;
        Ok(())
    }
}

struct ResourceFactory;

/// The factory for the `resource` processor.
pub fn factory() -> impl ProcessorFactory {
    ResourceFactory
}

impl ProcessorFactory for ResourceFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        _set: CreateSettings,
        config: Config,
        _signal: Signal,
        next: SharedConsumer,
    ) -> Result<SharedStage, ComponentError> {
        Ok(Arc::new(ResourceProcessor {
            actions: AttrProc::new(&config.attributes)?,
            next,
        }))
    }
}

struct ResourceProcessor {
    actions: AttrProc,
    next: SharedConsumer,
}

#[async_trait]
impl Consumer for ResourceProcessor {
    fn persists_before_ack(&self) -> bool {
        self.next.persists_before_ack()
    }

    async fn consume(&self, mut batch: Batch) -> Result<(), ConsumeError> {
        let client = batch.client().clone();
        let apply = |r: &mut Option<Resource>| {
            self.actions.process(
                &mut r.get_or_insert_with(Resource::default).attributes,
                &client,
            )
        };
        match batch.data_mut() {
            Telemetry::Logs(rs) => rs.iter_mut().for_each(|r| apply(&mut r.resource)),
            Telemetry::Traces(rs) => rs.iter_mut().for_each(|r| apply(&mut r.resource)),
            Telemetry::Metrics(rs) => rs.iter_mut().for_each(|r| apply(&mut r.resource)),
            // Not a signal this processor declares (metadata.yaml).
            Telemetry::Profiles(_) => {}
        }
        self.next.consume(batch).await
    }
}

impl Component for ResourceProcessor {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_config_is_refused_as_in_go() {
        let c: Config = serde_yaml_ng::from_str("{}").unwrap();
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "missing required field \"attributes\""
        );
        let c: Config = serde_yaml_ng::from_str("attributes: [{key: a, action: frob}]").unwrap();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("unsupported action")
        );
    }
}
