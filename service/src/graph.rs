//! Building the pipelines from config, and starting and stopping them.
//!
//! Each exporter is created once and shared by the pipelines that name it.
//! Each pipeline's processors are created for that pipeline and chained
//! back to front, the last one feeding a fan-out to the pipeline's
//! exporters. Each receiver is created once and given, per signal, a
//! fan-out to the heads of every pipeline that lists it. A connector is
//! created once per signal, as an exporter of the pipelines that list it
//! there and fed the heads of the pipelines that list it as a receiver;
//! pipelines are therefore built downstream first. Start order is
//! extensions, exporters, processors, receivers, so nothing receives data
//! before what is downstream of it runs; shutdown is the reverse.

use crate::config::{ComponentEntry, Config};
use ferrotel_core::component::{
    Component, ComponentError, ComponentId, CreateSettings, Extension, Factories, Host, Kind,
    PipelineId, Routes, SharedStage, SignalConsumers,
};
use ferrotel_core::consumer::{FanOut, SharedConsumer};
use ferrotel_core::pdata::Signal;
use ferrotel_core::telemetry::Telemetry;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// A component that failed to be created or started.
#[derive(Debug, thiserror::Error)]
#[error("failed to {action} {kind} {id:?}: {source}")]
pub struct GraphError {
    action: &'static str,
    kind: Kind,
    id: String,
    source: ComponentError,
}

/// The running (or ready to run) components of one config.
pub struct Graph {
    extensions: Vec<(ComponentId, Arc<dyn Extension>)>,
    exporters: Vec<(ComponentId, SharedStage)>,
    processors: Vec<(String, SharedStage)>,
    receivers: Vec<(ComponentId, Box<dyn Component>)>,
}

fn settings(id: &ComponentId, telemetry: &Telemetry) -> CreateSettings {
    CreateSettings {
        id: id.clone(),
        telemetry: telemetry.clone(),
    }
}

impl Graph {
    /// Creates every component the service uses; nothing is started.
    pub fn build(
        factories: &Factories,
        config: &Config,
        telemetry: &Telemetry,
    ) -> Result<Graph, GraphError> {
        let failed = |kind, id: &ComponentId| {
            let id = id.to_string();
            move |source| GraphError {
                action: "create",
                kind,
                id,
                source,
            }
        };
        let is_connector = |name: &str| {
            ComponentId::parse(name).is_ok_and(|id| config.entry(Kind::Connector, &id).is_some())
        };
        let mut exporters: Vec<(ComponentId, SharedStage)> = Vec::new();
        for (_, pipeline) in &config.pipelines {
            for name in pipeline.exporters.iter().filter(|n| !is_connector(n)) {
                let entry = lookup(config, Kind::Exporter, name);
                if exporters.iter().any(|(id, _)| *id == entry.id) {
                    continue;
                }
                let stage = factories.exporters[entry.factory]
                    .create(settings(&entry.id, telemetry), &entry.raw)
                    .map_err(failed(Kind::Exporter, &entry.id))?;
                exporters.push((entry.id.clone(), stage));
            }
        }

        // Pipelines are built downstream first: one that exports to a
        // connector waits until every pipeline the connector feeds is built.
        let mut processors = Vec::new();
        let mut pipeline_heads: BTreeMap<PipelineId, SharedConsumer> = BTreeMap::new();
        let mut connectors: BTreeMap<(ComponentId, Signal), SharedStage> = BTreeMap::new();
        let fed_by = |id: &ComponentId, signal: Signal| -> Vec<&PipelineId> {
            config
                .pipelines
                .iter()
                .filter(|(pid, p)| {
                    pid.signal == signal
                        && p.receivers
                            .iter()
                            .any(|n| ComponentId::parse(n).ok().as_ref() == Some(id))
                })
                .map(|(pid, _)| pid)
                .collect()
        };
        loop {
            let mut progress = false;
            for (pid, pipeline) in &config.pipelines {
                if pipeline_heads.contains_key(pid) {
                    continue;
                }
                let ready = pipeline
                    .exporters
                    .iter()
                    .filter(|n| is_connector(n))
                    .all(|name| {
                        let id = &lookup(config, Kind::Connector, name).id;
                        fed_by(id, pid.signal)
                            .iter()
                            .all(|fed| pipeline_heads.contains_key(*fed))
                    });
                if !ready {
                    continue;
                }
                let mut outputs: Vec<SharedConsumer> = Vec::new();
                for name in &pipeline.exporters {
                    if is_connector(name) {
                        let entry = lookup(config, Kind::Connector, name);
                        let key = (entry.id.clone(), pid.signal);
                        if !connectors.contains_key(&key) {
                            let routes = Routes(
                                fed_by(&entry.id, pid.signal)
                                    .into_iter()
                                    .map(|fed| (fed.clone(), pipeline_heads[fed].clone()))
                                    .collect(),
                            );
                            let stage = factories.connectors[entry.factory]
                                .create(
                                    settings(&entry.id, telemetry),
                                    &entry.raw,
                                    pid.signal,
                                    routes,
                                )
                                .map_err(failed(Kind::Connector, &entry.id))?;
                            processors.push((
                                format!("connector/{}/{}", entry.id, pid.signal),
                                stage.clone(),
                            ));
                            connectors.insert(key.clone(), stage);
                        }
                        outputs.push(connectors[&key].clone() as SharedConsumer);
                    } else {
                        let id = &lookup(config, Kind::Exporter, name).id;
                        let stage = &exporters
                            .iter()
                            .find(|(e, _)| e == id)
                            .expect("exporter created above")
                            .1;
                        outputs.push(stage.clone() as SharedConsumer);
                    }
                }
                let mut next = FanOut::of(outputs);
                for name in pipeline.processors.iter().rev() {
                    let entry = lookup(config, Kind::Processor, name);
                    let stage = factories.processors[entry.factory]
                        .create(settings(&entry.id, telemetry), &entry.raw, pid.signal, next)
                        .map_err(failed(Kind::Processor, &entry.id))?;
                    next = stage.clone();
                    processors.push((format!("{pid}/{}", entry.id), stage));
                }
                pipeline_heads.insert(pid.clone(), next);
                progress = true;
            }
            if !progress {
                break;
            }
        }
        if let Some((pid, _)) = config
            .pipelines
            .iter()
            .find(|(pid, _)| !pipeline_heads.contains_key(pid))
        {
            return Err(GraphError {
                action: "build",
                kind: Kind::Connector,
                id: pid.to_string(),
                source: format!(
                    "cycle detected: pipeline {pid} exports to connectors that lead back to it"
                )
                .into(),
            });
        }
        let mut heads: BTreeMap<(ComponentId, Signal), Vec<SharedConsumer>> = BTreeMap::new();
        for (pid, pipeline) in &config.pipelines {
            for name in pipeline.receivers.iter().filter(|n| !is_connector(n)) {
                let id = lookup(config, Kind::Receiver, name).id.clone();
                heads
                    .entry((id, pid.signal))
                    .or_default()
                    .push(pipeline_heads[pid].clone());
            }
        }

        let mut receivers = Vec::new();
        for entry in &config.receivers {
            let mut consumers = SignalConsumers::default();
            for signal in Signal::ALL {
                if let Some(h) = heads.remove(&(entry.id.clone(), signal)) {
                    consumers.set(signal, FanOut::of(h));
                }
            }
            if consumers.traces.is_none() && consumers.metrics.is_none() && consumers.logs.is_none()
            {
                continue;
            }
            let receiver = factories.receivers[entry.factory]
                .create(settings(&entry.id, telemetry), &entry.raw, consumers)
                .map_err(failed(Kind::Receiver, &entry.id))?;
            receivers.push((entry.id.clone(), receiver));
        }

        let mut extensions = Vec::new();
        for id in &config.service_extensions {
            let entry = config
                .entry(Kind::Extension, id)
                .expect("validated reference");
            let ext = factories.extensions[entry.factory]
                .create(settings(id, telemetry), &entry.raw)
                .map_err(failed(Kind::Extension, id))?;
            extensions.push((id.clone(), ext));
        }
        warn_unused(config, &exporters, &processors, &receivers, &extensions);
        Ok(Graph {
            extensions,
            exporters,
            processors,
            receivers,
        })
    }

    /// Starts extensions, exporters, processors, then receivers. On failure
    /// what was started is shut down again.
    pub async fn start(&self, host: &Host) -> Result<(), GraphError> {
        let host = &Host {
            ready: host.ready.clone(),
            extensions: self.extensions.clone(),
        };
        let mut started: Vec<&dyn Component> = Vec::new();
        let steps = self
            .extensions
            .iter()
            .map(|(id, c)| {
                (
                    Kind::Extension,
                    id.to_string(),
                    c.as_ref() as &dyn Component,
                )
            })
            .chain(
                self.exporters
                    .iter()
                    .map(|(id, c)| (Kind::Exporter, id.to_string(), c.as_ref() as &dyn Component)),
            )
            .chain(
                self.processors
                    .iter()
                    .rev()
                    .map(|(id, c)| (Kind::Processor, id.clone(), c.as_ref() as &dyn Component)),
            )
            .chain(
                self.receivers
                    .iter()
                    .map(|(id, c)| (Kind::Receiver, id.to_string(), c.as_ref() as &dyn Component)),
            );
        for (kind, id, component) in steps {
            if let Err(source) = component.start(host).await {
                for c in started.into_iter().rev() {
                    let _ = c.shutdown().await;
                }
                return Err(GraphError {
                    action: "start",
                    kind,
                    id,
                    source,
                });
            }
            started.push(component);
        }
        Ok(())
    }

    /// Stops receivers first, so queues drain into exporters that still
    /// run, then processors, exporters and extensions; each step is bounded
    /// by what is left of `timeout`.
    pub async fn shutdown(self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        let steps = self
            .receivers
            .into_iter()
            .map(|(id, c)| (id.to_string(), Arc::<dyn Component>::from(c)))
            .chain(
                self.processors
                    .into_iter()
                    .map(|(id, c)| (id, c as Arc<dyn Component>)),
            )
            .chain(
                self.exporters
                    .into_iter()
                    .map(|(id, c)| (id.to_string(), c as Arc<dyn Component>)),
            )
            .chain(
                self.extensions
                    .into_iter()
                    .rev()
                    .map(|(id, c)| (id.to_string(), c as Arc<dyn Component>)),
            );
        for (id, component) in steps {
            match tokio::time::timeout_at(deadline, component.shutdown()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(component = %id, error = %e, "component shutdown failed")
                }
                Err(_) => tracing::warn!(component = %id, "component did not shut down in time"),
            }
        }
    }
}

fn lookup<'a>(config: &'a Config, kind: Kind, name: &str) -> &'a ComponentEntry {
    ComponentId::parse(name)
        .ok()
        .and_then(|id| config.entry(kind, &id))
        .expect("references are checked when the config is loaded")
}

/// The Go collector silently ignores configured but unused components
/// (core issue #9195 asks for a warning); ferrotel warns.
fn warn_unused(
    config: &Config,
    exporters: &[(ComponentId, SharedStage)],
    processors: &[(String, SharedStage)],
    receivers: &[(ComponentId, Box<dyn Component>)],
    extensions: &[(ComponentId, Arc<dyn Extension>)],
) {
    let used_processors: Vec<&ComponentId> = config
        .processors
        .iter()
        .map(|e| &e.id)
        .filter(|id| {
            processors
                .iter()
                .any(|(p, _)| p.ends_with(&format!("/{id}")))
        })
        .collect();
    let unused = config
        .receivers
        .iter()
        .filter(|e| !receivers.iter().any(|(id, _)| *id == e.id))
        .map(|e| (Kind::Receiver, &e.id))
        .chain(
            config
                .processors
                .iter()
                .filter(|e| !used_processors.contains(&&e.id))
                .map(|e| (Kind::Processor, &e.id)),
        )
        .chain(
            config
                .exporters
                .iter()
                .filter(|e| !exporters.iter().any(|(id, _)| *id == e.id))
                .map(|e| (Kind::Exporter, &e.id)),
        )
        .chain(
            config
                .extensions
                .iter()
                .filter(|e| !extensions.iter().any(|(id, _)| *id == e.id))
                .map(|e| (Kind::Extension, &e.id)),
        );
    for (kind, id) in unused {
        tracing::warn!(kind = %kind, id = %id, "component is configured but not used by the service; it will not start");
    }
}
