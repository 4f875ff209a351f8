//! The graph built from real configs with small test components that
//! record what happens to them: fan-in and fan-out, processor order and
//! counting, connectors within and across signals, cycles, and the order of
//! start and shutdown.

use super::Graph;
use crate::config::{self, Config, ConfigError};
use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, ConnectorFactory, CreateSettings, ExporterFactory,
    Extension, ExtensionFactory, Factories, Host, Metadata, ProcessorFactory, ReceiverFactory,
    Routes, SharedStage, SignalConsumers,
};
use ferrotel_core::consumer::{Batch, ConsumeError, Consumer, SharedConsumer};
use ferrotel_core::pdata::metrics::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric,
};
use ferrotel_core::pdata::{Signal, Telemetry as Data, synthetic_request};
use ferrotel_core::telemetry::Telemetry;
use ferrotel_core::testing::Sink;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the test components saw and did, shared with the test.
#[derive(Default)]
struct World {
    /// `start exporter out`, `shutdown processor tag/1`, in order.
    events: Mutex<Vec<String>>,
    /// Each receiver's consumers, by id, for the test to push data into.
    inputs: Mutex<BTreeMap<String, SignalConsumers>>,
    /// Each exporter's sink, by id.
    sinks: Mutex<BTreeMap<String, Arc<Sink>>>,
    /// Components as they were created.
    created: Mutex<Vec<String>>,
    /// Processor ids, in the order batches reached them.
    order: Mutex<Vec<String>>,
}

impl World {
    fn log(&self, list: &Mutex<Vec<String>>, entry: String) {
        list.lock().unwrap().push(entry);
    }

    /// The components of one kind created so far (`exporter out`).
    fn created(&self, kind: &str) -> Vec<String> {
        let created = self.created.lock().unwrap();
        created
            .iter()
            .filter(|c| c.starts_with(kind))
            .cloned()
            .collect()
    }

    fn sink(&self, id: &str) -> Arc<Sink> {
        self.sinks.lock().unwrap()[id].clone()
    }

    async fn push(&self, receiver: &str, signal: Signal, items: usize) {
        let next = self.inputs.lock().unwrap()[receiver]
            .get(signal)
            .cloned()
            .unwrap_or_else(|| panic!("{receiver} feeds no {signal} pipeline"));
        next.consume(Batch::new(synthetic_request(signal, items)))
            .await
            .expect("taken");
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PartConfig {
    /// Fail `start`, to see what the graph undoes.
    fail_start: bool,
}

impl ComponentConfig for PartConfig {}

/// Every test component: records its lifecycle, and does what its kind
/// does with the batches it gets.
struct Part {
    world: Arc<World>,
    name: String,
    fail_start: bool,
    role: Role,
}

enum Role {
    Receiver,
    Processor {
        id: String,
        next: SharedConsumer,
    },
    Exporter(Arc<Sink>),
    /// Passes batches on, or turns spans into one gauge point each.
    Connector {
        to: Signal,
        routes: Routes,
    },
    Extension,
}

#[async_trait]
impl Component for Part {
    async fn start(&self, _: &Host) -> Result<(), ComponentError> {
        self.world
            .log(&self.world.events, format!("start {}", self.name));
        if self.fail_start {
            return Err("refused to start".into());
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.world
            .log(&self.world.events, format!("shutdown {}", self.name));
        Ok(())
    }
}

#[async_trait]
impl Consumer for Part {
    async fn consume(&self, batch: Batch) -> Result<(), ConsumeError> {
        match &self.role {
            Role::Processor { id, next } => {
                self.world.log(&self.world.order, id.clone());
                next.consume(batch).await
            }
            Role::Exporter(sink) => sink.consume(batch).await,
            Role::Connector { to, routes } if *to != batch.signal() => {
                let points = vec![NumberDataPoint::default(); batch.item_count()];
                let gauge = Metric {
                    name: "spans".into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: points,
                    })),
                    ..Default::default()
                };
                let metrics = Data::Metrics(vec![ResourceMetrics {
                    scope_metrics: vec![ScopeMetrics {
                        metrics: vec![gauge],
                        ..Default::default()
                    }],
                    ..Default::default()
                }]);
                routes.all().consume(Batch::new(metrics)).await
            }
            Role::Connector { routes, .. } => routes.all().consume(batch).await,
            Role::Receiver | Role::Extension => unreachable!("not a consumer in the graph"),
        }
    }
}

impl Extension for Part {}

/// One factory type for every kind, told apart by its metadata.
struct PartFactory {
    world: Arc<World>,
    metadata: Metadata,
}

impl PartFactory {
    fn part(&self, kind: &str, set: &CreateSettings, config: &PartConfig, role: Role) -> Part {
        let name = format!("{kind} {}", set.id);
        self.world.log(&self.world.created, name.clone());
        Part {
            world: self.world.clone(),
            name,
            fail_start: config.fail_start,
            role,
        }
    }
}

impl ReceiverFactory for PartFactory {
    type Config = PartConfig;
    fn metadata(&self) -> Metadata {
        self.metadata
    }
    fn create(
        &self,
        set: CreateSettings,
        config: PartConfig,
        next: SignalConsumers,
    ) -> Result<Box<dyn Component>, ComponentError> {
        self.world
            .inputs
            .lock()
            .unwrap()
            .insert(set.id.to_string(), next);
        Ok(Box::new(self.part(
            "receiver",
            &set,
            &config,
            Role::Receiver,
        )))
    }
}

impl ProcessorFactory for PartFactory {
    type Config = PartConfig;
    fn metadata(&self) -> Metadata {
        self.metadata
    }
    fn create(
        &self,
        set: CreateSettings,
        config: PartConfig,
        _: Signal,
        next: SharedConsumer,
    ) -> Result<SharedStage, ComponentError> {
        let id = set.id.to_string();
        let role = Role::Processor { id, next };
        Ok(Arc::new(self.part("processor", &set, &config, role)))
    }
}

impl ExporterFactory for PartFactory {
    type Config = PartConfig;
    fn metadata(&self) -> Metadata {
        self.metadata
    }
    fn create(
        &self,
        set: CreateSettings,
        config: PartConfig,
    ) -> Result<SharedStage, ComponentError> {
        let sink = Sink::new();
        self.world
            .sinks
            .lock()
            .unwrap()
            .insert(set.id.to_string(), sink.clone());
        Ok(Arc::new(self.part(
            "exporter",
            &set,
            &config,
            Role::Exporter(sink),
        )))
    }
}

impl ConnectorFactory for PartFactory {
    type Config = PartConfig;
    fn metadata(&self) -> Metadata {
        self.metadata
    }
    fn create(
        &self,
        set: CreateSettings,
        config: PartConfig,
        from: Signal,
        to: Signal,
        routes: Routes,
    ) -> Result<SharedStage, ComponentError> {
        let kind = format!("connector {from}->{to}");
        let role = Role::Connector { to, routes };
        Ok(Arc::new(self.part(&kind, &set, &config, role)))
    }
}

impl ExtensionFactory for PartFactory {
    type Config = PartConfig;
    fn metadata(&self) -> Metadata {
        self.metadata
    }
    fn create(
        &self,
        set: CreateSettings,
        config: PartConfig,
    ) -> Result<Arc<dyn Extension>, ComponentError> {
        Ok(Arc::new(self.part(
            "extension",
            &set,
            &config,
            Role::Extension,
        )))
    }
}

/// Receivers `in`, processors `tag`, exporters `out`, connectors `spans`
/// (traces to traces or metrics), extensions `ext`.
fn factories(world: &Arc<World>) -> Factories {
    let factory = |type_name: &str, class: &str, stability: &str| PartFactory {
        world: world.clone(),
        metadata: Metadata::from_yaml(
            &format!("type: {type_name}\nstatus: {{class: {class}, stability: {stability}}}"),
            "test",
        )
        .expect("test metadata"),
    };
    let every_signal = "{beta: [traces, metrics, logs]}";
    Factories::new()
        .receiver(factory("in", "receiver", every_signal))
        .processor(factory("tag", "processor", every_signal))
        .exporter(factory("out", "exporter", every_signal))
        .connector(factory(
            "spans",
            "connector",
            "{beta: [traces_to_traces], alpha: [traces_to_metrics]}",
        ))
        .extension(factory("ext", "extension", "{beta: [extension]}"))
}

fn load(factories: &Factories, yaml: &str) -> Result<Config, ConfigError> {
    let tree = serde_yaml_ng::from_str(yaml).expect("test YAML");
    config::from_value(factories, tree, &[])
}

fn build(yaml: &str) -> (Arc<World>, Graph, Telemetry) {
    let world = Arc::new(World::default());
    let factories = factories(&world);
    let config = load(&factories, yaml).unwrap_or_else(|e| panic!("{e}"));
    let telemetry = Telemetry::noop();
    let graph = Graph::build(&factories, &config, &telemetry).unwrap_or_else(|e| panic!("{e}"));
    (world, graph, telemetry)
}

fn counter(telemetry: &Telemetry, name: &str, processor: &str, signal: Signal) -> u64 {
    let labels = [("processor", processor), ("otel_signal", signal.as_str())];
    telemetry.registry.counter(name, "", &labels).get()
}

#[tokio::test]
async fn a_receiver_feeds_every_pipeline_that_lists_it_and_an_exporter_is_shared() {
    let (world, graph, _) = build(
        "
receivers: {in: , in/2: }
processors: {tag/a: , tag/b: }
exporters: {out: , out/b: }
service:
  pipelines:
    traces/a: {receivers: [in], processors: [tag/a], exporters: [out]}
    traces/b: {receivers: [in, in/2], processors: [tag/b], exporters: [out, out/b]}
",
    );
    graph.start(&Host::default()).await.unwrap();
    world.push("in", Signal::Traces, 3).await;
    world.push("in/2", Signal::Traces, 2).await;

    // `in` fans out to both pipelines, which fan in to the one `out`.
    assert_eq!(world.sink("out").item_counts(), [3, 3, 2]);
    assert_eq!(world.sink("out/b").item_counts(), [3, 2]);
    assert_eq!(
        world.created("exporter"),
        ["exporter out", "exporter out/b"],
        "each created once"
    );
    graph.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn processors_run_in_config_order_and_are_counted_around() {
    let (world, graph, telemetry) = build(
        "
receivers: {in: }
processors: {tag/1: , tag/2: , tag/3: }
exporters: {out: }
service:
  pipelines:
    logs: {receivers: [in], processors: [tag/2, tag/1, tag/3], exporters: [out]}
",
    );
    graph.start(&Host::default()).await.unwrap();
    world.push("in", Signal::Logs, 4).await;
    world.push("in", Signal::Logs, 1).await;
    assert_eq!(
        *world.order.lock().unwrap(),
        ["tag/2", "tag/1", "tag/3", "tag/2", "tag/1", "tag/3"]
    );
    for id in ["tag/1", "tag/2", "tag/3"] {
        let incoming = counter(
            &telemetry,
            "otelcol_processor_incoming_items",
            id,
            Signal::Logs,
        );
        let outgoing = counter(
            &telemetry,
            "otelcol_processor_outgoing_items",
            id,
            Signal::Logs,
        );
        assert_eq!((incoming, outgoing), (5, 5), "{id}");
    }
    graph.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn outgoing_counts_only_what_the_next_stage_took() {
    let (world, graph, telemetry) = build(
        "
receivers: {in: }
processors: {tag: }
exporters: {out: }
service:
  pipelines:
    metrics: {receivers: [in], processors: [tag], exporters: [out]}
",
    );
    graph.start(&Host::default()).await.unwrap();
    world
        .sink("out")
        .refuse(Some(ConsumeError::retryable("down")));
    let next = world.inputs.lock().unwrap()["in"].metrics.clone().unwrap();
    let refused = next
        .consume(Batch::new(synthetic_request(Signal::Metrics, 6)))
        .await;
    assert!(refused.is_err());
    let count = |name| counter(&telemetry, name, "tag", Signal::Metrics);
    assert_eq!(count("otelcol_processor_incoming_items"), 6);
    assert_eq!(count("otelcol_processor_outgoing_items"), 0);
    graph.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_connector_turns_traces_into_metrics_and_passes_traces_on() {
    let (world, graph, _) = build(
        "
receivers: {in: }
exporters: {out/traces: , out/metrics: , out/more: }
connectors: {spans: }
service:
  pipelines:
    traces/in: {receivers: [in], exporters: [spans]}
    traces/out: {receivers: [spans], exporters: [out/traces]}
    metrics: {receivers: [spans], exporters: [out/metrics]}
    metrics/2: {receivers: [spans], exporters: [out/more]}
",
    );
    graph.start(&Host::default()).await.unwrap();
    world.push("in", Signal::Traces, 4).await;
    assert_eq!(world.sink("out/traces").item_counts(), [4]);
    let metrics = world.sink("out/metrics").batches();
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0].signal(), Signal::Metrics);
    assert_eq!(metrics[0].item_count(), 4, "one point per span");
    assert_eq!(world.sink("out/more").item_counts(), [4]);
    assert_eq!(
        world.created("connector"),
        [
            "connector traces->traces spans",
            "connector traces->metrics spans"
        ],
        "one connector per pair of signals, feeding every pipeline of the second"
    );
    graph.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn start_goes_downstream_first_and_shutdown_is_its_reverse() {
    let (world, graph, _) = build(
        "
receivers: {in: }
processors: {tag/up: , tag/down: }
exporters: {out: }
connectors: {spans: }
extensions: {ext: }
service:
  extensions: [ext]
  pipelines:
    traces/up: {receivers: [in], processors: [tag/up], exporters: [spans]}
    metrics/down: {receivers: [spans], processors: [tag/down], exporters: [out]}
",
    );
    graph.start(&Host::default()).await.unwrap();
    graph.shutdown(Duration::from_secs(5)).await;
    let events = world.events.lock().unwrap().clone();
    let start = [
        "start extension ext",
        "start exporter out",
        "start processor tag/down",
        "start connector traces->metrics spans",
        "start processor tag/up",
        "start receiver in",
    ];
    assert_eq!(events[..6], start);
    let shutdown: Vec<String> = start
        .iter()
        .rev()
        .map(|e| e.replacen("start", "shutdown", 1))
        .collect();
    assert_eq!(events[6..], shutdown);
}

#[tokio::test]
async fn a_failed_start_shuts_down_what_had_started() {
    let world = Arc::new(World::default());
    let factories = factories(&world);
    let config = load(
        &factories,
        "
receivers: {in: }
processors: {tag: {fail_start: true}}
exporters: {out: }
service:
  pipelines:
    logs: {receivers: [in], processors: [tag], exporters: [out]}
",
    )
    .unwrap();
    let graph = Graph::build(&factories, &config, &Telemetry::noop()).unwrap();
    let err = graph.start(&Host::default()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot start pipelines: failed to start \"tag\" processor: refused to start"
    );
    assert_eq!(
        *world.events.lock().unwrap(),
        [
            "start exporter out",
            "start processor tag",
            "shutdown exporter out"
        ],
        "the receiver never started"
    );
}

#[test]
fn connectors_in_a_cycle_are_refused() {
    let world = Arc::new(World::default());
    let factories = factories(&world);
    let config = load(
        &factories,
        "
receivers: {in: }
exporters: {out: }
connectors: {spans: , spans/back: }
service:
  pipelines:
    traces/a: {receivers: [in, spans/back], exporters: [spans]}
    traces/b: {receivers: [spans], exporters: [spans/back, out]}
",
    )
    .unwrap();
    let err = Graph::build(&factories, &config, &Telemetry::noop())
        .err()
        .expect("a cycle");
    assert!(err.to_string().contains("cycle detected"), "{err}");
}

#[test]
fn a_connector_must_join_signals_its_factory_connects() {
    let world = Arc::new(World::default());
    let factories = factories(&world);
    let pipelines = |from: &str, to: &str| {
        format!(
            "
receivers: {{in: }}
exporters: {{out: }}
connectors: {{spans: }}
service:
  pipelines:
    {from}: {{receivers: [in], exporters: [spans]}}
    {to}: {{receivers: [spans], exporters: [out]}}
"
        )
    };
    // Logs are nothing the connector takes.
    let err = load(&factories, &pipelines("logs", "metrics")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "connector \"spans\" used as exporter in [logs] pipeline but not used in any supported receiver pipeline"
    );
    // It takes traces, but emits no logs.
    let err = load(&factories, &pipelines("traces", "logs")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "connector \"spans\" used as exporter in [traces] pipeline but not used in any supported receiver pipeline"
    );
    // Metrics in, traces out: the reverse of what it connects.
    let err = load(&factories, &pipelines("metrics", "traces")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("connector \"spans\" used as exporter in [metrics] pipeline"),
        "{err}"
    );
    load(&factories, &pipelines("traces", "metrics")).expect("traces to metrics is connected");
}
