//! Log records per second through the transform processor on one core: a
//! typical three-statement group with where clauses, on batches of 1000
//! decoded records (the copy each iteration needs is made outside the
//! measurement).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ferrotel_core::component::{
    ComponentConfig, ComponentId, CreateSettings, ProcessorFactory, SharedStage,
};
use ferrotel_core::consumer::{Batch, ConsumeError, Consumer};
use ferrotel_core::pdata::{Signal, synthetic_request};
use ferrotel_core::telemetry::Telemetry;
use std::sync::Arc;

struct Discard;

/// The processor a factory makes of a YAML config, feeding a discarding
/// consumer.
fn build<F: ProcessorFactory>(factory: F, yaml: &str) -> SharedStage {
    let config: F::Config = serde_yaml_ng::from_str(yaml).expect("config");
    config.validate().expect("valid");
    let set = CreateSettings {
        id: ComponentId::new("processor"),
        telemetry: Telemetry::noop(),
    };
    factory
        .create(set, config, Signal::Logs, Arc::new(Discard))
        .expect("processor")
}

#[ferrotel_core::async_trait]
impl Consumer for Discard {
    async fn consume(&self, _batch: Batch) -> Result<(), ConsumeError> {
        Ok(())
    }
}

const CONFIG: &str = r#"
log_statements:
  - 'set(log.attributes["env"], "prod") where resource.attributes["service.name"] == "loadgen"'
  - 'set(log.severity_text, "info") where log.severity_number == SEVERITY_NUMBER_INFO'
  - 'delete_key(log.attributes, "component") where log.attributes["http.method"] == "GET"'
"#;

fn transform(c: &mut Criterion) {
    let stage = build(ferrotel_processor_transform::factory(), CONFIG);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let batch = Batch::new(synthetic_request(Signal::Logs, 1000));
    let mut group = c.benchmark_group("transform");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("3 statements with where, 1000 logs", |b| {
        b.iter_batched(
            || {
                let mut copy = Batch::new(batch.data().clone());
                copy.data_mut();
                copy
            },
            |copy| runtime.block_on(stage.consume(copy)).expect("consumed"),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, transform);
criterion_main!(benches);
