//! Log records per second through the filter processor on one core: two
//! conditions on batches of 1000 decoded records, half of them dropped
//! (the copy each iteration needs is made, and the previous one freed, just
//! before it and outside the measurement, so the records are in cache as
//! freshly decoded ones are).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ferrotel_core::component::{ComponentConfig, ProcessorFactory, SharedStage};
use ferrotel_core::consumer::Batch;
use ferrotel_core::pdata::{Signal, Telemetry as Data, synthetic_request};
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

const CONFIG: &str = r#"
logs:
  log_record:
    - 'attributes["drop"] == true'
    - 'severity_number < SEVERITY_NUMBER_INFO and IsMatch(body, "^debug")'
"#;

fn filter(c: &mut Criterion) {
    // Keeps the batches, so that freeing them (the next stage's cost, the
    // same with or without the processor) happens outside the measurement.
    let discard = Sink::new();
    let stage = build(
        ferrotel_processor_filter::factory(),
        CONFIG,
        discard.clone(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut data = synthetic_request(Signal::Logs, 1000);
    if let Data::Logs(resources) = &mut data {
        for (i, r) in resources[0].scope_logs[0]
            .log_records
            .iter_mut()
            .enumerate()
        {
            r.attributes.push(ferrotel_core::pdata::common::KeyValue {
                key: "drop".into(),
                value: Some(ferrotel_core::pdata::common::AnyValue {
                    value: Some(ferrotel_core::pdata::common::any_value::Value::BoolValue(
                        i % 2 == 0,
                    )),
                }),
                ..Default::default()
            });
        }
    }
    let batch = Batch::new(data);
    let mut group = c.benchmark_group("filter");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("2 conditions, half dropped, 1000 logs", |b| {
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
    group.finish();
}

criterion_group!(benches, filter);
criterion_main!(benches);
