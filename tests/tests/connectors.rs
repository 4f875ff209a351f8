//! The forward and routing connectors through the real binary: pipelines
//! joined by connectors, the routing connector's examples from the Go
//! collector's documentation (contrib `connector/routingconnector/README.md`
//! at v0.149, re-typed), and the connector config errors in Go's words.

use ferrotel_e2e::{Collector, free_port, http, read_json_file, wait_until};
use serde_json::Value;
use std::time::Duration;

fn logs(records: &[(&str, &str)]) -> String {
    let records: Vec<String> = records
        .iter()
        .map(|(body, region)| {
            format!(
                r#"{{"body":{{"stringValue":"{body}"}},"attributes":[{{"key":"region","value":{{"stringValue":"{region}"}}}}]}}"#
            )
        })
        .collect();
    format!(
        r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"api"}}}}]}},"scopeLogs":[{{"logRecords":[{}]}}]}}]}}"#,
        records.join(",")
    )
}

fn send(port: u16, body: &str, headers: &[(&str, &str)]) {
    let mut h = vec![("Content-Type", "application/json")];
    h.extend_from_slice(headers);
    let r = http(
        "POST",
        &format!("127.0.0.1:{port}"),
        "/v1/logs",
        &h,
        body.as_bytes(),
    )
    .expect("post");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

fn bodies(path: &std::path::Path) -> Vec<String> {
    let mut out: Vec<String> = read_json_file(path)
        .iter()
        .flat_map(|req| {
            req["resourceLogs"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .flat_map(|r| r["scopeLogs"].as_array().cloned().unwrap_or_default())
                .flat_map(|s| s["logRecords"].as_array().cloned().unwrap_or_default())
                .map(|l: Value| {
                    l["body"]["stringValue"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out
}

#[test]
fn forward_joins_pipelines() {
    let port = free_port();
    let c = Collector::start(&format!(
        r#"
receivers: {{otlp: {{protocols: {{http: {{endpoint: '127.0.0.1:{port}'}}}}}}}}
processors:
  attributes/in: {{actions: [{{key: stage, value: in, action: insert}}]}}
  batch: {{timeout: 100ms}}
exporters:
  file/a: {{path: '{{dir}}/a.json'}}
  file/b: {{path: '{{dir}}/b.json'}}
connectors:
  forward:
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs/in: {{receivers: [otlp], processors: [attributes/in], exporters: [forward]}}
    logs/a: {{receivers: [forward], processors: [batch], exporters: [file/a]}}
    logs/b: {{receivers: [forward], exporters: [file/b]}}
"#
    ));
    send(port, &logs(&[("one", "east"), ("two", "west")]), &[]);
    for file in ["a.json", "b.json"] {
        let path = c.path(file);
        assert!(
            wait_until(Duration::from_secs(20), || bodies(&path).len() == 2),
            "{file}\n{}",
            c.log()
        );
        assert!(
            read_json_file(&path)[0]
                .to_string()
                .contains(r#""key":"stage""#)
        );
    }
}

#[test]
fn routing_by_request_metadata_as_documented() {
    let port = free_port();
    let c = Collector::start(&format!(
        r#"
receivers:
  otlp: {{protocols: {{http: {{endpoint: '127.0.0.1:{port}', include_metadata: true}}}}}}
exporters:
  file/other: {{path: '{{dir}}/other.json'}}
  file/acme: {{path: '{{dir}}/acme.json'}}
  file/ecorp: {{path: '{{dir}}/ecorp.json'}}
connectors:
  routing:
    default_pipelines: [logs/other]
    table:
      - context: request
        condition: request["X-Tenant"] == "acme"
        pipelines: [logs/acme]
      - context: request
        condition: request["X-Tenant"] == "ecorp"
        pipelines: [logs/ecorp]
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs/in: {{receivers: [otlp], exporters: [routing]}}
    logs/acme: {{receivers: [routing], exporters: [file/acme]}}
    logs/ecorp: {{receivers: [routing], exporters: [file/ecorp]}}
    logs/other: {{receivers: [routing], exporters: [file/other]}}
"#
    ));
    send(port, &logs(&[("a1", "x")]), &[("X-Tenant", "acme")]);
    send(port, &logs(&[("e1", "x")]), &[("X-Tenant", "ecorp")]);
    send(port, &logs(&[("o1", "x")]), &[]);
    for (file, want) in [
        ("acme.json", "a1"),
        ("ecorp.json", "e1"),
        ("other.json", "o1"),
    ] {
        let path = c.path(file);
        assert!(
            wait_until(Duration::from_secs(20), || bodies(&path) == [want]),
            "{file}: {:?}\n{}",
            bodies(&path),
            c.log()
        );
    }
}

#[test]
fn routing_by_log_attribute_as_documented() {
    let port = free_port();
    let c = Collector::start(&format!(
        r#"
receivers: {{otlp: {{protocols: {{http: {{endpoint: '127.0.0.1:{port}'}}}}}}}}
exporters:
  file/other: {{path: '{{dir}}/other.json'}}
  file/east: {{path: '{{dir}}/east.json'}}
  file/west: {{path: '{{dir}}/west.json'}}
connectors:
  routing:
    default_pipelines: [logs/other]
    table:
      - context: log
        condition: attributes["region"] == "east"
        pipelines: [logs/east]
      - context: log
        condition: attributes["region"] == "west"
        pipelines: [logs/west]
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs/in: {{receivers: [otlp], exporters: [routing]}}
    logs/east: {{receivers: [routing], exporters: [file/east]}}
    logs/west: {{receivers: [routing], exporters: [file/west]}}
    logs/other: {{receivers: [routing], exporters: [file/other]}}
"#
    ));
    send(
        port,
        &logs(&[
            ("e1", "east"),
            ("w1", "west"),
            ("e2", "east"),
            ("n1", "north"),
        ]),
        &[],
    );
    for (file, want) in [
        ("east.json", vec!["e1", "e2"]),
        ("west.json", vec!["w1"]),
        ("other.json", vec!["n1"]),
    ] {
        let path = c.path(file);
        assert!(
            wait_until(Duration::from_secs(20), || bodies(&path) == want),
            "{file}: {:?}\n{}",
            bodies(&path),
            c.log()
        );
    }
}

fn config_error(yaml: &str) -> String {
    let mut c = Collector::spawn(yaml, &[]);
    let status = c.wait_exit();
    assert!(!status.success());
    c.log()
}

#[test]
fn connector_config_errors_are_go_s() {
    let base = |connectors: &str, pipelines: &str| {
        format!(
            "receivers: {{otlp: {{protocols: {{http: {{endpoint: '127.0.0.1:{}'}}}}}}}}\nexporters: {{debug: }}\nconnectors: {connectors}\nservice:\n  pipelines: {pipelines}\n",
            free_port()
        )
    };
    let log = config_error(&base(
        "{forward: }",
        "{traces/in: {receivers: [otlp], exporters: [forward]}}",
    ));
    assert!(
        log.contains(r#"connector "forward" used as exporter in [traces/in] pipeline but not used in any supported receiver pipeline"#),
        "{log}"
    );
    let log = config_error(&base(
        "{forward: }",
        "{traces/in: {receivers: [otlp], exporters: [forward]}, logs/out: {receivers: [forward], exporters: [debug]}}",
    ));
    assert!(
        log.contains(r#"connector "forward" used as exporter in [traces/in] pipeline but not used in any supported receiver pipeline"#),
        "{log}"
    );
    let log = config_error(&base(
        "{otlp: }",
        "{traces: {receivers: [otlp], exporters: [debug]}}",
    ));
    assert!(
        log.contains(
            r#"'connectors' unknown type: "otlp" for id: "otlp" (valid values: [forward routing])"#
        ),
        "{log}"
    );
    let log = config_error(&base(
        "{forward: , forward/2: }",
        "{traces/a: {receivers: [otlp, forward/2], exporters: [forward]}, traces/b: {receivers: [forward], exporters: [forward/2]}}",
    ));
    assert!(log.contains("cycle detected"), "{log}");
}
