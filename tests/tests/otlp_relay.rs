//! ferrotel -> ferrotel: data sent over gRPC into a first collector is
//! relayed by its `otlp_grpc` and `otlp_http` (proto and JSON) exporters to
//! a second collector, whose file exporter must hold exactly what was sent.
//! Also checks the self-metrics counts of both hops.

use ferrotel_core::pdata::{
    ExportLogsServiceRequest, ExportMetricsServiceRequest, ExportTraceServiceRequest, Signal,
    Telemetry,
};
use ferrotel_e2e::{
    Collector, free_port, http, merged, metric_value, read_proto_file, sample, wait_until,
};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use std::time::Duration;
use tonic::codec::CompressionEncoding;

fn backend() -> (Collector, u16, u16) {
    let (grpc, http) = (free_port(), free_port());
    let config = format!(
        "
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: '127.0.0.1:{grpc}'}}
      http: {{endpoint: '127.0.0.1:{http}'}}
exporters:
  file/traces: {{path: '{{dir}}/traces.pb', format: proto}}
  file/metrics: {{path: '{{dir}}/metrics.pb', format: proto}}
  file/logs: {{path: '{{dir}}/logs.pb', format: proto}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [file/traces]}}
    metrics: {{receivers: [otlp], exporters: [file/metrics]}}
    logs: {{receivers: [otlp], exporters: [file/logs]}}
"
    );
    (Collector::start(&config), grpc, http)
}

fn relay(id: &str, exporter: &str) -> (Collector, u16, u16) {
    let (grpc, metrics) = (free_port(), free_port());
    let config = format!(
        "
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: '127.0.0.1:{grpc}'}}
processors:
  batch: {{timeout: 50ms}}
exporters:
  {id}: {exporter}
service:
  telemetry: {{metrics: {{readers: [{{pull: {{exporter: {{prometheus: {{host: '127.0.0.1', port: {metrics}}}}}}}}}]}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [batch], exporters: [{id}]}}
    metrics: {{receivers: [otlp], processors: [batch], exporters: [{id}]}}
    logs: {{receivers: [otlp], processors: [batch], exporters: [{id}]}}
"
    );
    (Collector::start(&config), grpc, metrics)
}

async fn send_grpc(port: u16, data: &Telemetry) {
    let endpoint = format!("http://127.0.0.1:{port}");
    let channel = tonic::transport::Endpoint::from_shared(endpoint)
        .unwrap()
        .connect()
        .await
        .unwrap();
    match data.clone() {
        Telemetry::Traces(r) => {
            let mut c = TraceServiceClient::new(channel).send_compressed(CompressionEncoding::Gzip);
            c.export(ExportTraceServiceRequest { resource_spans: r })
                .await
                .unwrap();
        }
        Telemetry::Metrics(r) => {
            let mut c =
                MetricsServiceClient::new(channel).send_compressed(CompressionEncoding::Zstd);
            c.export(ExportMetricsServiceRequest {
                resource_metrics: r,
            })
            .await
            .unwrap();
        }
        Telemetry::Logs(r) => {
            let mut c = LogsServiceClient::new(channel);
            c.export(ExportLogsServiceRequest { resource_logs: r })
                .await
                .unwrap();
        }
        Telemetry::Profiles(_) => panic!("the relay pipelines carry the stable signals only"),
    }
}

async fn round_trip(id: &str, exporter: &str) {
    let (backend, backend_grpc, backend_http) = backend();
    let exporter = exporter
        .replace("GRPC", &backend_grpc.to_string())
        .replace("HTTP", &backend_http.to_string());
    let (relay, relay_grpc, relay_metrics) = relay(id, &exporter);
    for signal in Signal::STABLE {
        let sent: Vec<Telemetry> = (0..3).map(|seed| sample(signal, seed)).collect();
        for data in &sent {
            send_grpc(relay_grpc, data).await;
        }
        let expected = merged(sent, signal);
        let file = backend.path(&format!("{signal}.pb"));
        let arrived = wait_until(Duration::from_secs(20), || {
            merged(read_proto_file(&file, signal), signal).item_count() >= expected.item_count()
        });
        assert!(
            arrived,
            "{signal} did not arrive; relay log:\n{}\nbackend log:\n{}",
            relay.log(),
            backend.log()
        );
        assert_eq!(
            merged(read_proto_file(&file, signal), signal),
            expected,
            "{signal} changed on the way"
        );
    }
    // Self-metrics of the relay: what it accepted and what it sent. The
    // exporter counts after the backend answered, so wait for the counts.
    let metrics_addr = format!("127.0.0.1:{relay_metrics}");
    let scrape = || {
        String::from_utf8(
            http("GET", &metrics_addr, "/metrics", &[], b"")
                .unwrap()
                .body,
        )
        .unwrap()
    };
    for (item, per_batch) in [("spans", 1.0), ("metric_points", 5.0), ("log_records", 2.0)] {
        let expected = Some(3.0 * per_batch);
        let sent = |text: &str| {
            metric_value(
                text,
                &format!("otelcol_exporter_sent_{item}"),
                &[("exporter", id)],
            )
        };
        wait_until(Duration::from_secs(10), || sent(&scrape()) == expected);
        let text = scrape();
        assert_eq!(sent(&text), expected, "{item} sent:\n{text}");
        let accepted = metric_value(
            &text,
            &format!("otelcol_receiver_accepted_{item}"),
            &[("receiver", "otlp"), ("transport", "grpc")],
        );
        assert_eq!(accepted, expected, "{item} accepted:\n{text}");
    }
    let text = scrape();
    assert_eq!(
        metric_value(
            &text,
            "otelcol_exporter_queue_capacity",
            &[("exporter", id)]
        ),
        Some(1000.0)
    );
    assert!(!text.contains("_total"), "no _total suffix:\n{text}");
    drop(relay);
    drop(backend);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_over_otlp_grpc() {
    round_trip(
        "otlp_grpc/relay",
        "{endpoint: '127.0.0.1:GRPC', tls: {insecure: true}}",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_over_otlp_http_proto() {
    round_trip("otlp_http/relay", "{endpoint: 'http://127.0.0.1:HTTP'}").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_over_otlp_http_json_with_zstd() {
    round_trip(
        "otlphttp",
        "{endpoint: 'http://127.0.0.1:HTTP', encoding: json, compression: zstd}",
    )
    .await;
}
