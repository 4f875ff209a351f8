//! Log records per second through the transform processor on one core: a
//! typical three-statement group with where clauses, on batches of 1000
//! decoded records (the copy each iteration needs is made, and the previous one freed,
//! outside the measurement, just before it, so the records are in cache as
//! freshly decoded ones are).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ferrotel_core::component::{ComponentConfig, ProcessorFactory, SharedStage};
use ferrotel_core::consumer::Batch;
use ferrotel_core::pdata::{Signal, synthetic_request};
use ferrotel_core::testing::{Sink, settings};
use std::sync::Arc;

/// The processor a factory makes of a YAML config, feeding a sink.
fn build<F: ProcessorFactory>(factory: F, yaml: &str, next: Arc<Sink>) -> SharedStage {
    let config: F::Config = serde_yaml_ng::from_str(yaml).expect("config");
    config.validate().expect("valid");
    factory
        .create(settings("processor"), config, Signal::Logs, next)
        .expect("processor")
}

/// The same statements with where clauses that never hold: the cost of
/// walking the records and evaluating the conditions alone.
const CONDITIONS_ONLY: &str = r#"
log_statements:
  - 'set(log.attributes["env"], "prod") where resource.attributes["service.name"] == "nobody"'
  - 'set(log.severity_text, "info") where log.severity_number == SEVERITY_NUMBER_WARN'
  - 'delete_key(log.attributes, "component") where log.attributes["http.method"] == "PUT"'
"#;

const CONFIG: &str = r#"
log_statements:
  - 'set(log.attributes["env"], "prod") where resource.attributes["service.name"] == "loadgen"'
  - 'set(log.severity_text, "info") where log.severity_number == SEVERITY_NUMBER_INFO'
  - 'delete_key(log.attributes, "component") where log.attributes["http.method"] == "GET"'
"#;

fn transform(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let batch = Batch::new(synthetic_request(Signal::Logs, 1000));
    let mut group = c.benchmark_group("transform");
    group.throughput(Throughput::Elements(1000));
    for (name, config) in [
        ("3 statements with where, 1000 logs", CONFIG),
        (
            "3 where clauses that never hold, 1000 logs",
            CONDITIONS_ONLY,
        ),
    ] {
        // Keeps the batches, so that freeing them (the next stage's cost, the
        // same with or without the processor) happens outside the measurement.
        let discard = Sink::new();
        let stage = build(
            ferrotel_processor_transform::factory(),
            config,
            discard.clone(),
        );
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    drop(discard.take());
                    let mut copy = Batch::new(batch.data().clone());
                    copy.data_mut();
                    copy
                },
                |copy| runtime.block_on(stage.consume(copy)).expect("consumed"),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, transform);
criterion_main!(benches);
