//! The per-request costs on the OTLP pass-through path: protobuf decode,
//! the allocation-free validating scan, encode, JSON encode and batch
//! splitting, on the load generator's 1000-item requests.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferrotel_core::pdata::{Signal, Telemetry, encode_json, scan, synthetic_request};
use std::hint::black_box;

fn pass_through(c: &mut Criterion) {
    for signal in [Signal::Traces, Signal::Logs] {
        let request = synthetic_request(signal, 1000);
        let bytes = request.encode_request();
        let mut group = c.benchmark_group(format!("{signal}_1000_items"));
        group.throughput(Throughput::Elements(1000));
        group.bench_function("prost_decode", |b| {
            b.iter(|| Telemetry::decode_request(signal, black_box(&bytes)).unwrap())
        });
        group.bench_function("scan", |b| {
            b.iter(|| scan(signal, black_box(&bytes)).unwrap())
        });
        group.bench_function("encode", |b| {
            b.iter(|| black_box(&request).encode_request())
        });
        group.bench_function("encode_json", |b| {
            b.iter(|| encode_json(black_box(&request)))
        });
        group.bench_function("split_in_4", |b| {
            b.iter(|| {
                let mut t = request.clone();
                while t.item_count() > 0 {
                    black_box(t.split_off_front(250));
                }
            })
        });
        group.finish();
    }
}

criterion_group!(benches, pass_through);
criterion_main!(benches);
