//! Real OpenTelemetry SDKs as clients: the Python SDK over gRPC and over
//! HTTP/protobuf, the Node SDK over HTTP/JSON. What they send must appear
//! in the file exporter's OTLP/JSON output with ids, attributes,
//! timestamps and resource intact.
//!
//! The SDKs are installed by the README's test command into the cache
//! directory (`ferrotel_e2e::cache_dir`).

use ferrotel_e2e::{Collector, cache_dir, free_port, read_json_file, wait_until, workspace_root};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn collector() -> (Collector, u16, u16) {
    let (grpc, http) = (free_port(), free_port());
    let config = format!(
        "
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: '127.0.0.1:{grpc}'}}
      http: {{endpoint: '127.0.0.1:{http}'}}
processors:
  batch: {{timeout: 20ms}}
exporters:
  file/traces: {{path: '{{dir}}/traces.json'}}
  file/metrics: {{path: '{{dir}}/metrics.json'}}
  file/logs: {{path: '{{dir}}/logs.json'}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [batch], exporters: [file/traces]}}
    metrics: {{receivers: [otlp], processors: [batch], exporters: [file/metrics]}}
    logs: {{receivers: [otlp], processors: [batch], exporters: [file/logs]}}
"
    );
    (Collector::start(&config), grpc, http)
}

fn run_client(mut cmd: Command) -> Value {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start SDK client");
    let out = child.wait_with_output().expect("SDK client output");
    assert!(
        out.status.success(),
        "SDK client failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "client printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn python() -> PathBuf {
    let p = cache_dir().join("venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: the README's test command installs the Python SDK",
        p.display()
    );
    p
}

fn node_modules() -> PathBuf {
    let p = cache_dir().join("node/node_modules");
    assert!(
        p.join("@opentelemetry/sdk-trace-base").exists(),
        "{} lacks the Node SDK: the README's test command installs it",
        p.display()
    );
    p
}

/// Every item under `groups`/`scopes`/`items` in the file's lines, each
/// paired with its resource's attributes.
fn items(path: &Path, groups: &str, scopes: &str, list: &str) -> Vec<(Value, Value)> {
    let mut out = Vec::new();
    for line in read_json_file(path) {
        for rg in line[groups].as_array().into_iter().flatten() {
            for sg in rg[scopes].as_array().into_iter().flatten() {
                for item in sg[list].as_array().into_iter().flatten() {
                    out.push((item.clone(), rg["resource"]["attributes"].clone()));
                }
            }
        }
    }
    out
}

fn attr<'a>(attrs: &'a Value, key: &str) -> &'a Value {
    attrs
        .as_array()
        .and_then(|a| a.iter().find(|kv| kv["key"] == key))
        .map(|kv| &kv["value"])
        .unwrap_or(&Value::Null)
}

fn wait_for(
    path: &Path,
    groups: &str,
    scopes: &str,
    list: &str,
    check: impl Fn(&[(Value, Value)]) -> bool,
) -> Vec<(Value, Value)> {
    wait_until(Duration::from_secs(20), || {
        check(&items(path, groups, scopes, list))
    });
    items(path, groups, scopes, list)
}

fn check_python(transport: &str) {
    let (c, grpc, http) = collector();
    let run_id = format!("py-{transport}-{}", std::process::id());
    let endpoint = if transport == "grpc" {
        format!("http://127.0.0.1:{grpc}")
    } else {
        format!("http://127.0.0.1:{http}")
    };
    let mut cmd = Command::new(python());
    cmd.arg(workspace_root().join("tests/clients/python_sdk.py"))
        .args([transport, &endpoint, &run_id]);
    let sent = run_client(cmd);

    let spans = wait_for(
        &c.path("traces.json"),
        "resourceSpans",
        "scopeSpans",
        "spans",
        |s| s.len() >= 3,
    );
    let (parent, resource) = spans
        .iter()
        .find(|(s, _)| s["name"] == "py-parent")
        .unwrap_or_else(|| panic!("no py-parent span in {spans:?}"));
    assert_eq!(parent["traceId"], sent["trace_id"]);
    assert_eq!(parent["spanId"], sent["parent_span_id"]);
    assert_eq!(attr(resource, "service.name")["stringValue"], "python-e2e");
    assert_eq!(attr(resource, "run.id")["stringValue"], run_id.as_str());
    let a = &parent["attributes"];
    assert_eq!(attr(a, "run.id")["stringValue"], run_id.as_str());
    assert_eq!(attr(a, "n")["intValue"], "42");
    assert_eq!(attr(a, "ok")["boolValue"], true);
    assert_eq!(attr(a, "ratio")["doubleValue"], 0.5);
    assert_eq!(
        attr(a, "tags")["arrayValue"]["values"][1]["stringValue"],
        "b"
    );
    assert_eq!(parent["events"][0]["name"], "py-event");
    let start: u64 = parent["startTimeUnixNano"]
        .as_str()
        .expect("int64 as string")
        .parse()
        .unwrap();
    let end: u64 = parent["endTimeUnixNano"].as_str().unwrap().parse().unwrap();
    assert!(start > 1_600_000_000_000_000_000 && end >= start);
    let (child, _) = spans
        .iter()
        .find(|(s, _)| s["name"] == "py-child")
        .expect("child span");
    assert_eq!(child["parentSpanId"], sent["parent_span_id"]);
    assert_eq!(child["spanId"], sent["child_span_id"]);

    let metrics = wait_for(
        &c.path("metrics.json"),
        "resourceMetrics",
        "scopeMetrics",
        "metrics",
        |m| m.len() >= 2,
    );
    let (counter, resource) = metrics
        .iter()
        .find(|(m, _)| m["name"] == "py.requests")
        .expect("py.requests");
    assert_eq!(attr(resource, "run.id")["stringValue"], run_id.as_str());
    assert_eq!(counter["sum"]["dataPoints"][0]["asInt"], "7");
    assert_eq!(counter["sum"]["isMonotonic"], true);
    assert_eq!(
        attr(&counter["sum"]["dataPoints"][0]["attributes"], "route")["stringValue"],
        "/x"
    );
    let (hist, _) = metrics
        .iter()
        .find(|(m, _)| m["name"] == "py.latency")
        .expect("py.latency");
    assert_eq!(hist["unit"], "ms");
    assert_eq!(hist["histogram"]["dataPoints"][0]["count"], "1");
    assert_eq!(hist["histogram"]["dataPoints"][0]["sum"], 12.5);

    let logs = wait_for(
        &c.path("logs.json"),
        "resourceLogs",
        "scopeLogs",
        "logRecords",
        |l| !l.is_empty(),
    );
    let (log, resource) = &logs[0];
    assert_eq!(
        log["body"]["stringValue"],
        format!("hello from python {run_id}")
    );
    assert_eq!(log["severityNumber"], 13);
    assert_eq!(log["traceId"], sent["log_trace_id"]);
    assert_eq!(attr(resource, "service.name")["stringValue"], "python-e2e");
}

#[test]
fn python_sdk_over_grpc() {
    check_python("grpc");
}

#[test]
fn python_sdk_over_http_protobuf() {
    check_python("http");
}

#[test]
fn node_sdk_over_http_json() {
    let (c, _, http) = collector();
    let run_id = format!("node-{}", std::process::id());
    let mut cmd = Command::new("node");
    cmd.env("FERROTEL_NODE_MODULES", node_modules())
        .arg(workspace_root().join("tests/clients/node_sdk.mjs"))
        .args([format!("http://127.0.0.1:{http}"), run_id.clone()]);
    let sent = run_client(cmd);

    let spans = wait_for(
        &c.path("traces.json"),
        "resourceSpans",
        "scopeSpans",
        "spans",
        |s| !s.is_empty(),
    );
    let (span, resource) = &spans[0];
    assert_eq!(span["name"], "node-span");
    assert_eq!(span["traceId"], sent["trace_id"]);
    assert_eq!(span["spanId"], sent["span_id"]);
    assert_eq!(
        attr(&span["attributes"], "n")["intValue"],
        "42",
        "JS integers arrive as intValue"
    );
    assert_eq!(
        attr(&span["attributes"], "tags")["arrayValue"]["values"][0]["stringValue"],
        "a"
    );
    assert_eq!(span["events"][0]["name"], "node-event");
    assert_eq!(attr(resource, "service.name")["stringValue"], "node-e2e");

    let metrics = wait_for(
        &c.path("metrics.json"),
        "resourceMetrics",
        "scopeMetrics",
        "metrics",
        |m| !m.is_empty(),
    );
    let (counter, _) = metrics
        .iter()
        .find(|(m, _)| m["name"] == "node.requests")
        .expect("node.requests");
    let point = &counter["sum"]["dataPoints"][0];
    assert!(point["asDouble"] == 9.0 || point["asInt"] == "9", "{point}");

    let logs = wait_for(
        &c.path("logs.json"),
        "resourceLogs",
        "scopeLogs",
        "logRecords",
        |l| !l.is_empty(),
    );
    let (log, _) = &logs[0];
    assert_eq!(
        log["body"]["stringValue"],
        format!("hello from node {run_id}")
    );
    assert_eq!(log["severityText"], "WARN");
    assert_eq!(attr(&log["attributes"], "k")["stringValue"], "v");
}
