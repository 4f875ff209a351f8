//! The profiles signal behind `--feature-gates=service.profilesSupport`,
//! end to end with the Go collector on both sides: a profiles request goes
//! from a gRPC client (the `opentelemetry-proto` generated client) into the
//! Go oracle, which exports it over OTLP/gRPC to ferrotel, which passes it
//! through memory_limiter and exports it over OTLP/HTTP back to the Go
//! oracle, whose file exporter writes what arrived. Go must read the same
//! profile (id, samples, values, functions) ferrotel forwarded, ferrotel's
//! self-metrics count samples under Go's names, and both receivers answer a
//! bad wire version with the same error.

use ferrotel_e2e::go_collector::GoCollector;
use ferrotel_e2e::{Collector, free_port, http, metric_value, profiles_request, wait_until};
use opentelemetry_proto::tonic::collector::profiles::v1development::ExportProfilesServiceRequest;
use opentelemetry_proto::tonic::collector::profiles::v1development::profiles_service_client::ProfilesServiceClient;
use prost::Message;
use serde_json::Value;
use std::time::Duration;

const GATE: &str = "--feature-gates=service.profilesSupport";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_pass_through_ferrotel_between_two_go_collectors() {
    let (go_in, go_back, ours_grpc, ours_http, ours_metrics) = (
        free_port(),
        free_port(),
        free_port(),
        free_port(),
        free_port(),
    );
    let go = GoCollector::start_with_args(
        &format!(
            "
receivers:
  otlp:
    protocols: {{grpc: {{endpoint: '127.0.0.1:{go_in}'}}}}
  otlp/back:
    protocols: {{http: {{endpoint: '127.0.0.1:{go_back}'}}}}
exporters:
  otlp: {{endpoint: '127.0.0.1:{ours_grpc}', tls: {{insecure: true}}}}
  file: {{path: '{{dir}}/profiles.json'}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    profiles/out: {{receivers: [otlp], exporters: [otlp]}}
    profiles/back: {{receivers: [otlp/back], exporters: [file]}}
"
        ),
        go_back,
        &[GATE],
    );
    let ours = Collector::spawn(
        &format!(
            "
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: '127.0.0.1:{ours_grpc}'}}
      http: {{endpoint: '127.0.0.1:{ours_http}'}}
processors:
  memory_limiter: {{check_interval: 1s, limit_mib: 1000}}
exporters:
  otlp_http: {{endpoint: 'http://127.0.0.1:{go_back}'}}
  debug: {{verbosity: basic}}
service:
  telemetry: {{metrics: {{readers: [{{pull: {{exporter: {{prometheus: {{host: '127.0.0.1', port: {ours_metrics}}}}}}}}}]}}}}
  pipelines:
    profiles: {{receivers: [otlp], processors: [memory_limiter], exporters: [otlp_http, debug]}}
"
        ),
        &[GATE],
    );
    ours.wait_for_log("Everything is ready", Duration::from_secs(20));

    let request = ExportProfilesServiceRequest::decode(&profiles_request(7, 5)[..]).unwrap();
    let mut client = ProfilesServiceClient::connect(format!("http://127.0.0.1:{go_in}"))
        .await
        .unwrap();
    client.export(request).await.unwrap();

    let file = go.dir().join("profiles.json");
    let arrived = wait_until(Duration::from_secs(20), || {
        std::fs::read_to_string(&file).is_ok_and(|s| !s.is_empty())
    });
    assert!(
        arrived,
        "nothing came back to Go.\nferrotel:\n{}\nGo:\n{}",
        ours.log(),
        go.log()
    );
    let line = std::fs::read_to_string(&file).unwrap();
    let back: Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    let profile = &back["resourceProfiles"][0]["scopeProfiles"][0]["profiles"][0];
    assert_eq!(
        profile["profileId"], "07070707070707070707070707070707",
        "{back}"
    );
    let samples = profile["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 5, "{back}");
    // Values survive as sent: 10ms × (i + seed + 1).
    let values: Vec<&str> = samples
        .iter()
        .map(|s| s["values"][0].as_str().unwrap())
        .collect();
    assert_eq!(
        values,
        [
            "80000000",
            "90000000",
            "100000000",
            "110000000",
            "120000000"
        ]
    );
    let strings = back["dictionary"]["stringTable"].as_array().unwrap();
    for name in ["main", "work", "main.go", "svc-7"] {
        assert!(strings.iter().any(|s| s == name), "{name} lost: {back}");
    }

    ours.wait_for_log(
        r#"Profiles {"resource profiles": 1, "sample records": 5}"#,
        Duration::from_secs(5),
    );
    let scrape = || {
        http(
            "GET",
            &format!("127.0.0.1:{ours_metrics}"),
            "/metrics",
            &[],
            b"",
        )
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .unwrap_or_default()
    };
    let counted = wait_until(Duration::from_secs(10), || {
        metric_value(
            &scrape(),
            "otelcol_exporter_sent_profile_samples",
            &[("exporter", "otlp_http")],
        ) == Some(5.0)
    });
    let text = scrape();
    assert!(counted, "{text}");
    assert_eq!(
        metric_value(
            &text,
            "otelcol_receiver_accepted_profile_samples",
            &[("receiver", "otlp"), ("transport", "grpc")]
        ),
        Some(5.0),
        "{text}"
    );

    // A wire version neither speaks: the same refusal from both receivers.
    let body = profiles_request(8, 1);
    let refusal = |port: u16| {
        let r = http(
            "POST",
            &format!("127.0.0.1:{port}"),
            "/v1development/profiles",
            &[
                ("Content-Type", "application/x-protobuf"),
                ("otlp-profiles-development-version", "2"),
            ],
            &body,
        )
        .unwrap();
        (r.status, r.body)
    };
    let (go_status, go_body) = refusal(go_back);
    let (our_status, our_body) = refusal(ours_http);
    assert_eq!((our_status, &our_body), (go_status, &go_body));
    assert_eq!(go_status, 400);
}
