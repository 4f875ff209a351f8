//! memory_limiter in front of a pipeline: above its soft limit every
//! request is refused with the protocols' retryable "resource exhausted"
//! answers (HTTP 429 with Retry-After, gRPC RESOURCE_EXHAUSTED), counted,
//! and nothing reaches the exporter.

use ferrotel_core::pdata::{ExportLogsServiceRequest, Signal, Telemetry};
use ferrotel_e2e::{Collector, free_port, http, metric_value, post, read_proto_file, sample};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_limit_data_is_refused_as_resource_exhausted() {
    let (grpc, http_port, metrics) = (free_port(), free_port(), free_port());
    // A 1 MiB limit: the process's own heap and stacks are already above it.
    let c = Collector::start(&format!(
        "
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: '127.0.0.1:{grpc}'}}
      http: {{endpoint: '127.0.0.1:{http_port}'}}
processors:
  memory_limiter: {{check_interval: 100ms, limit_mib: 1}}
exporters:
  file: {{path: '{{dir}}/logs.pb', format: proto}}
service:
  telemetry: {{metrics: {{readers: [{{pull: {{exporter: {{prometheus: {{host: '127.0.0.1', port: {metrics}}}}}}}}}]}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: [memory_limiter], exporters: [file]}}
"
    ));
    c.wait_for_log(
        "Memory usage is above soft limit. Refusing data.",
        std::time::Duration::from_secs(10),
    );
    let body = sample(Signal::Logs, 1).encode_request();
    let r = post(
        &format!("127.0.0.1:{http_port}"),
        "/v1/logs",
        "application/x-protobuf",
        &body,
    );
    assert_eq!(r.status, 429, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.header("retry-after").is_some());

    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{grpc}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let Telemetry::Logs(resource_logs) = sample(Signal::Logs, 2) else {
        unreachable!()
    };
    let err = LogsServiceClient::new(channel)
        .export(ExportLogsServiceRequest { resource_logs })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::ResourceExhausted, "{err}");
    assert!(
        err.message()
            .contains("data refused due to high memory usage")
    );

    let text = String::from_utf8(
        http("GET", &format!("127.0.0.1:{metrics}"), "/metrics", &[], b"")
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(
        metric_value(
            &text,
            "otelcol_processor_memory_limiter_refused_log_records",
            &[("processor", "memory_limiter")]
        ),
        Some(4.0),
        "{text}"
    );
    assert_eq!(
        metric_value(
            &text,
            "otelcol_receiver_refused_log_records",
            &[("transport", "http")]
        ),
        Some(2.0)
    );
    assert!(read_proto_file(&c.path("logs.pb"), Signal::Logs).is_empty());
}
