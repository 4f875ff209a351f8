//! Building the pipelines from config, and starting and stopping them.
//!
//! The graph's nodes are those of Go's service graph: receivers (one per
//! id, feeding every pipeline that lists it), processors (one per pipeline
//! and id, chained back to front), exporters (one per id, shared by the
//! pipelines that list it), and connectors: one per id and pair of signals
//! the config uses it for, the exporter of the pipelines of the first
//! signal that list it and a receiver of the pipelines of the second
//! (`span_metrics` takes traces and emits metrics). A pipeline that exports
//! to a connector can only be built once every pipeline the connector feeds
//! is, so pipelines are built downstream first; when none can be built, the
//! connectors form a cycle, which is an error.
//!
//! Every processor is wrapped to count the items it takes and passes on
//! ([`crate::observed`]), as Go's processor helper does.
//!
//! Start goes extensions, exporters, connectors and processors downstream
//! first (the order they were built), then receivers, so nothing receives
//! data before what is downstream of it runs; shutdown is the reverse, so
//! a processor that holds data (batch) flushes it into stages that still
//! run.

use crate::config::{ComponentEntry, Config, Link};
use crate::observed::ProcessorItems;
use ferrotel_core::component::{
    Component, ComponentError, ComponentId, CreateSettings, Extension, Factories, Host, Kind,
    PipelineId, Routes, SharedStage, SignalConsumers,
};
use ferrotel_core::consumer::{FanOut, SharedConsumer};
use ferrotel_core::pdata::Signal;
use ferrotel_core::telemetry::Telemetry;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A component that failed to be created or started, in the Go
/// collector's words: `failed to build pipelines: failed to create "otlp"
/// receiver for data type "logs": ...`, `cannot start pipelines: failed to
/// start "otlp" receiver: ...`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct GraphError(String);

impl GraphError {
    /// A component whose factory refused its config. Go names a processor
    /// by its pipeline and the others by the signal they were made for.
    fn create(
        kind: Kind,
        id: &ComponentId,
        place: Place<'_>,
        source: ComponentError,
    ) -> GraphError {
        let place = match place {
            Place::Pipeline(pid) => format!(", in pipeline {:?}", pid.to_string()),
            Place::Signal(signal) => format!(" for data type {:?}", signal.as_str()),
            Place::Nowhere => String::new(),
            Place::Connection(from, to) => {
                format!(" from {} to {}", from.as_str(), to.as_str())
            }
        };
        let id = id.to_string();
        match kind {
            Kind::Extension => GraphError(format!("failed to create extension {id:?}: {source}")),
            _ => GraphError(format!(
                "failed to build pipelines: failed to create {id:?} {kind}{place}: {source}"
            )),
        }
    }

    /// A component that failed to start.
    fn start(kind: Kind, id: &ComponentId, source: ComponentError) -> GraphError {
        let what = format!("failed to start {:?} {kind}: {source}", id.to_string());
        match kind {
            Kind::Extension => GraphError(format!("failed to start extensions: {what}")),
            _ => GraphError(format!("cannot start pipelines: {what}")),
        }
    }
}

/// Where a component was being made when it failed.
enum Place<'a> {
    Pipeline(&'a PipelineId),
    Signal(Signal),
    /// Extensions belong to no pipeline.
    Nowhere,
    Connection(Signal, Signal),
}

/// A processor or connector node, named as logs and errors name it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    /// A processor of one pipeline.
    Processor(PipelineId, ComponentId),
    /// A connector taking one signal and emitting another.
    Connector(ComponentId, Signal, Signal),
}

impl Node {
    fn kind(&self) -> Kind {
        match self {
            Node::Processor(..) => Kind::Processor,
            Node::Connector(..) => Kind::Connector,
        }
    }

    /// The component the node runs, as Go names it in start errors.
    fn component(&self) -> &ComponentId {
        match self {
            Node::Processor(_, id) | Node::Connector(id, ..) => id,
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Processor(pipeline, id) => write!(f, "{pipeline}/{id}"),
            Node::Connector(id, from, to) => write!(f, "{id} ({from} to {to})"),
        }
    }
}

/// The running (or ready to run) components of one config.
pub struct Graph {
    extensions: Vec<(ComponentId, Arc<dyn Extension>)>,
    exporters: Vec<(ComponentId, SharedStage)>,
    /// Processors and connectors in the order they were built: downstream
    /// first.
    nodes: Vec<(Node, SharedStage)>,
    receivers: Vec<(ComponentId, Box<dyn Component>)>,
}

fn settings(id: &ComponentId, telemetry: &Telemetry) -> CreateSettings {
    CreateSettings {
        id: id.clone(),
        telemetry: telemetry.clone(),
    }
}

/// The pipelines of `signal` that list connector `id` among their
/// receivers (`as_receiver`) or exporters.
fn pipelines_with<'a>(
    config: &'a Config,
    id: &'a ComponentId,
    signal: Signal,
    as_receiver: bool,
) -> impl Iterator<Item = &'a PipelineId> + 'a {
    config
        .pipelines
        .iter()
        .filter(move |(pid, p)| {
            let links = if as_receiver {
                &p.receivers
            } else {
                &p.exporters
            };
            pid.signal == signal && links.iter().any(|l| l.connector() == Some(id))
        })
        .map(|(pid, _)| pid)
}

impl Graph {
    /// Creates every component the service uses; nothing is started.
    pub fn build(
        factories: &Factories,
        config: &Config,
        telemetry: &Telemetry,
    ) -> Result<Graph, GraphError> {
        let mut exporters: Vec<(ComponentId, SharedStage)> = Vec::new();
        for (pid, pipeline) in &config.pipelines {
            for link in &pipeline.exporters {
                let Link::Component(id) = link else { continue };
                if exporters.iter().any(|(e, _)| e == id) {
                    continue;
                }
                let entry = entry(config, Kind::Exporter, id);
                let stage = factories.exporters[entry.factory]
                    .create(settings(id, telemetry), &entry.raw)
                    .map_err(|e| {
                        GraphError::create(Kind::Exporter, id, Place::Signal(pid.signal), e)
                    })?;
                exporters.push((id.clone(), stage));
            }
        }

        // The signals each connector emits, for the connectors of a
        // pipeline: it feeds one connector node per signal its factory
        // connects the pipeline's signal to and some pipeline receives.
        let emitted = |id: &ComponentId, from: Signal| -> Vec<Signal> {
            let metadata =
                factories.connectors[entry(config, Kind::Connector, id).factory].metadata();
            Signal::ALL
                .into_iter()
                .filter(|&to| {
                    metadata.connection_stability(from, to).is_some()
                        && pipelines_with(config, id, to, true).next().is_some()
                })
                .collect()
        };

        let mut nodes: Vec<(Node, SharedStage)> = Vec::new();
        let mut heads: BTreeMap<&PipelineId, SharedConsumer> = BTreeMap::new();
        loop {
            let mut progress = false;
            for (pid, pipeline) in &config.pipelines {
                if heads.contains_key(pid) {
                    continue;
                }
                let connectors: Vec<(&ComponentId, Signal)> = pipeline
                    .exporters
                    .iter()
                    .filter_map(Link::connector)
                    .flat_map(|id| emitted(id, pid.signal).into_iter().map(move |to| (id, to)))
                    .collect();
                let ready = connectors.iter().all(|&(id, to)| {
                    pipelines_with(config, id, to, true).all(|fed| heads.contains_key(fed))
                });
                if !ready {
                    continue;
                }
                let mut outputs: Vec<SharedConsumer> = Vec::new();
                for link in &pipeline.exporters {
                    match link {
                        Link::Component(id) => {
                            let stage = &exporters
                                .iter()
                                .find(|(e, _)| e == id)
                                .expect("exporter created above")
                                .1;
                            outputs.push(stage.clone());
                        }
                        Link::Connector(id) => {
                            for &(_, to) in connectors.iter().filter(|(c, _)| *c == id) {
                                let node = Node::Connector(id.clone(), pid.signal, to);
                                if let Some((_, stage)) = nodes.iter().find(|(n, _)| *n == node) {
                                    outputs.push(stage.clone());
                                    continue;
                                }
                                let routes = Routes(
                                    pipelines_with(config, id, to, true)
                                        .map(|fed| (fed.clone(), heads[fed].clone()))
                                        .collect(),
                                );
                                let entry = entry(config, Kind::Connector, id);
                                let stage = factories.connectors[entry.factory]
                                    .create(
                                        settings(id, telemetry),
                                        &entry.raw,
                                        pid.signal,
                                        to,
                                        routes,
                                    )
                                    .map_err(|e| {
                                        let place = Place::Connection(pid.signal, to);
                                        GraphError::create(Kind::Connector, id, place, e)
                                    })?;
                                outputs.push(stage.clone());
                                nodes.push((node, stage));
                            }
                        }
                    }
                }
                let mut next = FanOut::of(outputs);
                for id in pipeline.processors.iter().rev() {
                    let node = Node::Processor(pid.clone(), id.clone());
                    let items = ProcessorItems::new(telemetry, id, pid.signal);
                    let entry = entry(config, Kind::Processor, id);
                    let stage = factories.processors[entry.factory]
                        .create(
                            settings(id, telemetry),
                            &entry.raw,
                            pid.signal,
                            items.outgoing(next),
                        )
                        .map_err(|e| {
                            GraphError::create(Kind::Processor, id, Place::Pipeline(pid), e)
                        })?;
                    let stage = items.incoming(stage);
                    next = stage.clone();
                    nodes.push((node, stage));
                }
                heads.insert(pid, next);
                progress = true;
            }
            if !progress {
                break;
            }
        }
        if let Some((pid, _)) = config
            .pipelines
            .iter()
            .find(|(pid, _)| !heads.contains_key(pid))
        {
            return Err(GraphError(format!(
                "failed to build pipelines: cycle detected: pipeline {pid} exports to connectors that lead back to it"
            )));
        }

        let mut fed: BTreeMap<(&ComponentId, Signal), Vec<SharedConsumer>> = BTreeMap::new();
        for (pid, pipeline) in &config.pipelines {
            for link in &pipeline.receivers {
                if let Link::Component(id) = link {
                    fed.entry((id, pid.signal))
                        .or_default()
                        .push(heads[pid].clone());
                }
            }
        }
        let mut receivers = Vec::new();
        for entry in &config.receivers {
            let mut consumers = SignalConsumers::default();
            for signal in Signal::ALL {
                if let Some(h) = fed.remove(&(&entry.id, signal)) {
                    consumers.set(signal, FanOut::of(h));
                }
            }
            if Signal::ALL.iter().all(|&s| consumers.get(s).is_none()) {
                continue;
            }
            // Go makes a receiver once per signal and names the first that
            // fails; ferrotel makes it once, named for its first signal.
            let first = Signal::ALL
                .into_iter()
                .find(|&s| consumers.get(s).is_some())
                .unwrap_or(Signal::Traces);
            let receiver = factories.receivers[entry.factory]
                .create(settings(&entry.id, telemetry), &entry.raw, consumers)
                .map_err(|e| {
                    GraphError::create(Kind::Receiver, &entry.id, Place::Signal(first), e)
                })?;
            receivers.push((entry.id.clone(), receiver));
        }

        let mut extensions = Vec::new();
        for id in &config.service_extensions {
            let entry = entry(config, Kind::Extension, id);
            let ext = factories.extensions[entry.factory]
                .create(settings(id, telemetry), &entry.raw)
                .map_err(|e| GraphError::create(Kind::Extension, id, Place::Nowhere, e))?;
            extensions.push((id.clone(), ext));
        }
        let graph = Graph {
            extensions,
            exporters,
            nodes,
            receivers,
        };
        graph.warn_unused(config);
        Ok(graph)
    }

    /// Every component in start order, with its kind and name.
    /// Each component with its kind, its name in logs (a processor's with
    /// its pipeline) and its component id.
    fn start_order(&self) -> Vec<(Kind, String, &ComponentId, &dyn Component)> {
        let extensions = self.extensions.iter().map(|(id, c)| {
            (
                Kind::Extension,
                id.to_string(),
                id,
                c.as_ref() as &dyn Component,
            )
        });
        let exporters = self.exporters.iter().map(|(id, c)| {
            (
                Kind::Exporter,
                id.to_string(),
                id,
                c.as_ref() as &dyn Component,
            )
        });
        let nodes = self.nodes.iter().map(|(n, c)| {
            (
                n.kind(),
                n.to_string(),
                n.component(),
                c.as_ref() as &dyn Component,
            )
        });
        let receivers = self
            .receivers
            .iter()
            .map(|(id, c)| (Kind::Receiver, id.to_string(), id, c.as_ref()));
        extensions
            .chain(exporters)
            .chain(nodes)
            .chain(receivers)
            .collect()
    }

    /// Starts extensions, exporters, connectors and processors (downstream
    /// first), then receivers. On failure what was started is shut down
    /// again, in reverse.
    pub async fn start(&self, host: &Host) -> Result<(), GraphError> {
        let host = &Host {
            ready: host.ready.clone(),
            extensions: self.extensions.clone(),
            service: host.service.clone(),
        };
        let mut started: Vec<&dyn Component> = Vec::new();
        for (kind, _, id, component) in self.start_order() {
            if let Err(source) = component.start(host).await {
                for c in started.into_iter().rev() {
                    let _ = c.shutdown().await;
                }
                return Err(GraphError::start(kind, id, source));
            }
            started.push(component);
        }
        Ok(())
    }

    /// Stops everything in the reverse of start order: receivers first, so
    /// what they hold drains into processors, connectors and exporters that
    /// still run, upstream before downstream; each step is bounded by what
    /// is left of `timeout`.
    pub async fn shutdown(self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        for (_, id, _, component) in self.start_order().into_iter().rev() {
            match tokio::time::timeout_at(deadline, component.shutdown()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(component = %id, error = %e, "component shutdown failed")
                }
                Err(_) => tracing::warn!(component = %id, "component did not shut down in time"),
            }
        }
    }

    /// The Go collector silently ignores configured but unused components
    /// (core issue #9195 asks for a warning); ferrotel warns.
    fn warn_unused(&self, config: &Config) {
        let used = |kind: Kind, id: &ComponentId| match kind {
            Kind::Receiver => self.receivers.iter().any(|(r, _)| r == id),
            Kind::Exporter => self.exporters.iter().any(|(e, _)| e == id),
            Kind::Extension => self.extensions.iter().any(|(e, _)| e == id),
            Kind::Processor => self
                .nodes
                .iter()
                .any(|(n, _)| matches!(n, Node::Processor(_, p) if p == id)),
            Kind::Connector => self
                .nodes
                .iter()
                .any(|(n, _)| matches!(n, Node::Connector(c, ..) if c == id)),
        };
        let sections = [
            (Kind::Receiver, &config.receivers),
            (Kind::Processor, &config.processors),
            (Kind::Exporter, &config.exporters),
            (Kind::Connector, &config.connectors),
            (Kind::Extension, &config.extensions),
        ];
        for (kind, entries) in sections {
            for e in entries.iter().filter(|e| !used(kind, &e.id)) {
                tracing::warn!(kind = %kind, id = %e.id, "component is configured but not used by the service; it will not start");
            }
        }
    }
}

fn entry<'a>(config: &'a Config, kind: Kind, id: &ComponentId) -> &'a ComponentEntry {
    config
        .entry(kind, id)
        .expect("references are checked when the config is loaded")
}

#[cfg(test)]
mod tests;
