//! Log records per second through the filter processor on one core: two
//! conditions on batches of 1000 decoded records, half of them dropped
//! (the copy each iteration needs is made, and the previous one freed, just
//! before it and outside the measurement, so the records are in cache as
//! freshly decoded ones are).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ferrotel_core::component::{
    ComponentConfig, ComponentId, CreateSettings, ProcessorFactory, SharedStage,
};
use ferrotel_core::consumer::{Batch, ConsumeError, Consumer};
use ferrotel_core::pdata::{Signal, Telemetry as Data, synthetic_request};
use ferrotel_core::telemetry::Telemetry;
use std::sync::Arc;

/// Keeps the last batch, so that freeing it (the next stage's cost, the
/// same with or without the processor) happens outside the measurement.
#[derive(Default)]
struct Discard(std::sync::Mutex<Option<Batch>>);

/// The processor a factory makes of a YAML config, feeding a discarding
/// consumer.
fn build<F: ProcessorFactory>(factory: F, yaml: &str, next: Arc<Discard>) -> SharedStage {
    let config: F::Config = serde_yaml_ng::from_str(yaml).expect("config");
    config.validate().expect("valid");
    let set = CreateSettings {
        id: ComponentId::new("processor"),
        telemetry: Telemetry::noop(),
    };
    factory
        .create(set, config, Signal::Logs, next)
        .expect("processor")
}

#[ferrotel_core::async_trait]
impl Consumer for Discard {
    async fn consume(&self, batch: Batch) -> Result<(), ConsumeError> {
        *self.0.lock().expect("not poisoned") = Some(batch);
        Ok(())
    }
}

const CONFIG: &str = r#"
logs:
  log_record:
    - 'attributes["drop"] == true'
    - 'severity_number < SEVERITY_NUMBER_INFO and IsMatch(body, "^debug")'
"#;

fn filter(c: &mut Criterion) {
    let discard = Arc::new(Discard::default());
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
                drop(discard.0.lock().expect("not poisoned").take());
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
