//! The compatibility suite for the transform, filter, attributes, resource
//! and resourcedetection processors: the configuration examples of the Go
//! collector's
//! documentation (contrib v0.165 `processor/transformprocessor/README.md`,
//! `processor/filterprocessor/README.md`, `processor/attributesprocessor/
//! README.md`, `processor/resourceprocessor/README.md`, re-typed as test
//! inputs), each
//! loaded by the real binary as its own pipeline, fed sample data over
//! OTLP/HTTP, and its output (file exporter, OTLP JSON) checked against
//! what the Go documentation says the example does.

use ferrotel_e2e::{Collector, free_port, post, read_json_file, wait_until};
use serde_json::Value;
use serde_yaml_ng::{Mapping, Value as Yaml};
use std::collections::BTreeMap;
use std::time::Duration;

struct Snippet {
    name: &'static str,
    signal: &'static str,
    /// The processor as the Go docs write it: `transform: {...}` or
    /// `filter: {...}`.
    processor: &'static str,
    /// An OTLP/JSON request.
    input: &'static str,
    check: fn(&Value),
}

/// The items of a request: log records, spans or metrics, flattened.
fn items<'a>(request: &'a Value, signal: &str) -> Vec<&'a Value> {
    let (resources, scopes, leaves) = match signal {
        "logs" => ("resourceLogs", "scopeLogs", "logRecords"),
        "traces" => ("resourceSpans", "scopeSpans", "spans"),
        _ => ("resourceMetrics", "scopeMetrics", "metrics"),
    };
    request[resources]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r[scopes].as_array().into_iter().flatten())
        .flat_map(|s| s[leaves].as_array().into_iter().flatten())
        .collect()
}

/// A JSON attribute list as key -> plain value.
fn attrs(list: &Value) -> BTreeMap<String, Value> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|kv| {
            let v = &kv["value"];
            let plain = v
                .get("stringValue")
                .or_else(|| v.get("intValue"))
                .or_else(|| v.get("boolValue"))
                .or_else(|| v.get("doubleValue"))
                .cloned()
                .unwrap_or_else(|| v.clone());
            (kv["key"].as_str().unwrap_or_default().to_string(), plain)
        })
        .collect()
}

fn resource_attrs(request: &Value, signal: &str) -> BTreeMap<String, Value> {
    let key = match signal {
        "logs" => "resourceLogs",
        "traces" => "resourceSpans",
        _ => "resourceMetrics",
    };
    attrs(&request[key][0]["resource"]["attributes"])
}

fn names(request: &Value, signal: &str) -> Vec<String> {
    items(request, signal)
        .iter()
        .map(|i| i["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn bodies(request: &Value) -> Vec<String> {
    items(request, "logs")
        .iter()
        .map(|l| {
            l["body"]["stringValue"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

const SPANS: &str = r#"{"resourceSpans":[{"resource":{"attributes":[
  {"key":"k8s.namespace.name","value":{"stringValue":"shop"}},
  {"key":"foo","value":{"stringValue":"hello"}},{"key":"bar","value":{"stringValue":"world"}},
  {"key":"pod_labels_app","value":{"stringValue":"cart"}},{"key":"pod_labels_tier","value":{"stringValue":"web"}},
  {"key":"host.name","value":{"stringValue":"node-1"}}]},
  "scopeSpans":[{"spans":[
  {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"app_1","kind":2,
   "startTimeUnixNano":"1000000000","endTimeUnixNano":"1500000000",
   "attributes":[{"key":"test","value":{"stringValue":"keep"}},{"key":"http.request.method","value":{"stringValue":"GET"}},
     {"key":"process.command_line","value":{"stringValue":"run --password=s3cret --verbose"}},
     {"key":"container.name","value":{"stringValue":"app_container_1"}}]},
  {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060709","name":"app_2",
   "startTimeUnixNano":"1000000000","endTimeUnixNano":"3000000000",
   "attributes":[{"key":"service.name","value":{"stringValue":"cart"}}],
   "events":[{"name":"grpc.timeout","timeUnixNano":"1100000000","attributes":[{"key":"grpc","value":{"boolValue":true}}]},
             {"name":"log","timeUnixNano":"1200000000"}]},
  {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"010203040506070a","name":"app_3",
   "startTimeUnixNano":"1000000000","endTimeUnixNano":"1100000000","status":{"code":2}}
  ]}]}]}"#;

const LOGS: &str = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},
  "scopeLogs":[{"logRecords":[
  {"severityNumber":9,"body":{"stringValue":"{\"name\":\"log\",\"attr1\":\"foo\",\"attr2\":\"bar\",\"nested\":{\"attr3\":\"example\"}}"},
   "attributes":[{"key":"k8s.namespace.name","value":{"stringValue":"shop"}}]},
  {"severityNumber":5,"body":{"stringValue":"[2023-09-22 07:38:22,570] INFO [Something]: some interesting log"}},
  {"severityNumber":13,"body":{"stringValue":"[2023-09-22 07:38:23,001] WARN [Something]: user password=hunter2"}},
  {"severityNumber":17,"body":{"stringValue":"request failed"},
   "attributes":[{"key":"http.route","value":{"stringValue":"/user/42/list/7"}},
     {"key":"path","value":{"stringValue":"/account/1234/settings"}}]}
  ]}]}]}"#;

const METRICS: &str = r#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"my_label","value":{"stringValue":"abc123"}},
  {"key":"host.name","value":{"stringValue":"node-1"}},{"key":"os.type","value":{"stringValue":"linux"}}]},
  "scopeMetrics":[{"metrics":[
  {"name":"my.metric","gauge":{"dataPoints":[{"asDouble":1.5,"timeUnixNano":"1"}]}},
  {"name":"latency","histogram":{"aggregationTemporality":2,"dataPoints":[{"count":"1","sum":2,"bucketCounts":["1"],"timeUnixNano":"1"}]}},
  {"name":"k8s.pod.phase","gauge":{"dataPoints":[{"asInt":"4","timeUnixNano":"1"},{"asInt":"2","timeUnixNano":"1"}]}},
  {"name":"empty"},
  {"name":"kube_pod_info","sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[{"asInt":"1","timeUnixNano":"1"}]}}
  ]}]}]}"#;

fn snippets() -> Vec<Snippet> {
    vec![
        Snippet {
            name: "transform: set an attribute where it does not exist",
            signal: "traces",
            processor: r#"
transform:
  error_mode: ignore
  trace_statements:
    - set(span.attributes["test"], "pass") where span.attributes["test"] == nil
"#,
            input: SPANS,
            check: |out| {
                let spans = items(out, "traces");
                assert_eq!(attrs(&spans[0]["attributes"])["test"], "keep");
                assert_eq!(attrs(&spans[1]["attributes"])["test"], "pass");
            },
        },
        Snippet {
            name: "transform: rename an attribute with set and delete_key",
            signal: "traces",
            processor: r#"
transform:
  error_mode: ignore
  trace_statements:
    - set(resource.attributes["namespace"], resource.attributes["k8s.namespace.name"])
    - delete_key(resource.attributes, "k8s.namespace.name")
"#,
            input: SPANS,
            check: |out| {
                let r = resource_attrs(out, "traces");
                assert_eq!(r["namespace"], "shop");
                assert!(!r.contains_key("k8s.namespace.name"));
            },
        },
        Snippet {
            name: "transform: rename an attribute key with replace_all_patterns",
            signal: "traces",
            processor: r#"
transform:
  error_mode: ignore
  trace_statements:
    - replace_all_patterns(resource.attributes, "key", "k8s\\.namespace\\.name", "namespace")
"#,
            input: SPANS,
            check: |out| {
                let r = resource_attrs(out, "traces");
                assert_eq!(r["namespace"], "shop");
                assert!(!r.contains_key("k8s.namespace.name"));
            },
        },
        Snippet {
            name: "transform: move the log body to an attribute",
            signal: "logs",
            processor: r#"
transform:
  error_mode: ignore
  log_statements:
    - set(log.attributes["body"], log.body)
"#,
            input: LOGS,
            check: |out| {
                let logs = items(out, "logs");
                assert_eq!(attrs(&logs[3]["attributes"])["body"], "request failed");
            },
        },
        Snippet {
            name: "transform: combine two attributes with Concat",
            signal: "traces",
            processor: r#"
transform:
  error_mode: ignore
  trace_statements:
    - set(resource.attributes["test"], Concat([resource.attributes["foo"], resource.attributes["bar"]], " "))
"#,
            input: SPANS,
            check: |out| assert_eq!(resource_attrs(out, "traces")["test"], "hello world"),
        },
        Snippet {
            name: "transform: parse JSON logs through the cache",
            signal: "logs",
            processor: r#"
transform:
  log_statements:
    - statements:
        - merge_maps(log.cache, ParseJSON(log.body), "upsert") where IsMatch(log.body, "^\\{")
        - set(log.attributes["attr1"], log.cache["attr1"])
        - set(log.attributes["attr2"], log.cache["attr2"])
        - set(log.attributes["nested.attr3"], log.cache["nested"]["attr3"])
"#,
            input: LOGS,
            check: |out| {
                let logs = items(out, "logs");
                let a = attrs(&logs[0]["attributes"]);
                assert_eq!(
                    (&a["attr1"], &a["attr2"], &a["nested.attr3"]),
                    (
                        &Value::from("foo"),
                        &Value::from("bar"),
                        &Value::from("example")
                    )
                );
                assert_eq!(
                    attrs(&logs[1]["attributes"]).get("attr1"),
                    None,
                    "non-JSON bodies are left alone"
                );
            },
        },
        Snippet {
            name: "transform: a group's error_mode overrides the top-level one",
            signal: "logs",
            processor: r#"
transform:
  error_mode: propagate
  log_statements:
    - error_mode: ignore
      statements:
        - merge_maps(log.cache, ParseJSON(log.body), "upsert") where IsMatch(log.body, "^\\{")
        - set(log.attributes["attr1"], log.cache["attr1"])
    - statements:
        - set(log.attributes["namespace"], log.attributes["k8s.namespace.name"])
"#,
            input: LOGS,
            check: |out| {
                let a = attrs(&items(out, "logs")[0]["attributes"]);
                assert_eq!(
                    (&a["attr1"], &a["namespace"]),
                    (&Value::from("foo"), &Value::from("shop"))
                );
            },
        },
        Snippet {
            name: "transform: severity of an unstructured log body",
            signal: "logs",
            processor: r#"
transform:
  error_mode: ignore
  log_statements:
    - set(log.severity_number, SEVERITY_NUMBER_INFO) where IsString(log.body) and IsMatch(log.body, "\\sINFO\\s")
    - set(log.severity_number, SEVERITY_NUMBER_WARN) where IsString(log.body) and IsMatch(log.body, "\\sWARN\\s")
    - set(log.severity_number, SEVERITY_NUMBER_ERROR) where IsString(log.body) and IsMatch(log.body, "\\sERROR\\s")
"#,
            input: LOGS,
            check: |out| {
                let logs = items(out, "logs");
                assert_eq!(logs[1]["severityNumber"], 9);
                assert_eq!(logs[2]["severityNumber"], 13);
            },
        },
        Snippet {
            name: "transform: copy attributes matching a regex to another key",
            signal: "traces",
            processor: r#"
transform:
  error_mode: ignore
  trace_statements:
    - statements:
        - set(resource.cache["attrs"], resource.attributes)
        - keep_matching_keys(resource.cache["attrs"], "pod_labels_.*")
        - set(resource.attributes["kubernetes.labels"], resource.cache["attrs"])
"#,
            input: SPANS,
            check: |out| {
                let labels = &resource_attrs(out, "traces")["kubernetes.labels"];
                let inner = attrs(&labels["kvlistValue"]["values"]);
                assert_eq!(
                    inner.keys().collect::<Vec<_>>(),
                    ["pod_labels_app", "pod_labels_tier"]
                );
            },
        },
        Snippet {
            name: "transform: basic config, log statements",
            signal: "logs",
            processor: r#"
transform:
  error_mode: ignore
  log_statements:
    - set(log.severity_text, "FAIL") where log.body == "request failed"
    - replace_all_matches(log.attributes, "/user/*/list/*", "/user/{userId}/list/{listId}")
    - replace_all_patterns(log.attributes, "value", "/account/\\d{4}", "/account/{accountId}")
    - set(log.body, log.attributes["http.route"])
"#,
            input: LOGS,
            check: |out| {
                let l = &items(out, "logs")[3];
                assert_eq!(l["severityText"], "FAIL");
                let a = attrs(&l["attributes"]);
                assert_eq!(a["http.route"], "/user/{userId}/list/{listId}");
                assert_eq!(a["path"], "/account/{accountId}/settings");
                assert_eq!(l["body"]["stringValue"], "/user/{userId}/list/{listId}");
            },
        },
        Snippet {
            name: "transform: basic config, trace statements",
            signal: "traces",
            processor: r#"
transform:
  error_mode: ignore
  trace_statements:
    - keep_keys(span.attributes, ["service.name", "service.namespace", "cloud.region", "process.command_line"])
    - replace_pattern(span.attributes["process.command_line"], "password\\=[^\\s]*(\\s?)", "password=***")
    - limit(span.attributes, 100, [])
    - truncate_all(span.attributes, 4096)
"#,
            input: SPANS,
            check: |out| {
                let spans = items(out, "traces");
                let a = attrs(&spans[0]["attributes"]);
                assert_eq!(a.keys().collect::<Vec<_>>(), ["process.command_line"]);
                assert_eq!(a["process.command_line"], "run --password=***--verbose");
                assert_eq!(attrs(&spans[1]["attributes"])["service.name"], "cart");
            },
        },
        Snippet {
            name: "transform: basic config, metric statements",
            signal: "metrics",
            processor: r#"
transform:
  error_mode: ignore
  metric_statements:
    - keep_keys(resource.attributes, ["host.name"])
    - truncate_all(resource.attributes, 4096)
    - set(metric.description, "Sum") where metric.type == "Sum"
    - convert_sum_to_gauge() where metric.name == "system.processes.count"
    - convert_gauge_to_sum("cumulative", false) where metric.name == "prometheus_metric"
"#,
            input: r#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"node-1"}},
              {"key":"os.type","value":{"stringValue":"linux"}}]},"scopeMetrics":[{"metrics":[
              {"name":"system.processes.count","sum":{"aggregationTemporality":2,"dataPoints":[{"asInt":"7","timeUnixNano":"1"}]}},
              {"name":"prometheus_metric","gauge":{"dataPoints":[{"asDouble":1.5,"timeUnixNano":"1"}]}}]}]}]}"#,
            check: |out| {
                let m = items(out, "metrics");
                assert!(m[0].get("gauge").is_some(), "{}", m[0]);
                assert_eq!(m[1]["sum"]["aggregationTemporality"], 2);
                assert_eq!(m[1]["sum"].get("isMonotonic"), None, "false is not written");
                assert_eq!(
                    m[0]["description"],
                    Value::Null,
                    "an int type never equals \"Sum\""
                );
                assert_eq!(
                    resource_attrs(out, "metrics").keys().collect::<Vec<_>>(),
                    ["host.name"]
                );
            },
        },
        Snippet {
            name: "transform: the README's extract_count_metric, extract_sum_metric, copy_metric and scale_metric examples",
            signal: "metrics",
            processor: r#"
transform:
  error_mode: ignore
  metric_statements:
    - extract_count_metric(true, ".count") where metric.name == "http.server.duration"
    - extract_sum_metric(true, ".sum") where metric.name == "http.server.duration"
    - copy_metric(name="http.request.status_code", unit="s") where metric.name == "http.status_code"
    - scale_metric(10.0, "kWh") where metric.name == "energy"
"#,
            input: r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
              {"name":"http.server.duration","unit":"ms","histogram":{"aggregationTemporality":1,"dataPoints":[
                {"count":"4","sum":10,"bucketCounts":["1","3"],"explicitBounds":[5],"timeUnixNano":"2","startTimeUnixNano":"1"}]}},
              {"name":"http.status_code","gauge":{"dataPoints":[{"asInt":"200","timeUnixNano":"1"}]}},
              {"name":"energy","unit":"Wh","gauge":{"dataPoints":[{"asDouble":1.5,"timeUnixNano":"1"}]}}]}]}]}"#,
            check: |out| {
                let m = items(out, "metrics");
                let names: Vec<_> = m.iter().map(|m| m["name"].as_str().unwrap_or("")).collect();
                assert_eq!(
                    names,
                    [
                        "http.server.duration",
                        "http.status_code",
                        "energy",
                        "http.server.duration.count",
                        "http.server.duration.sum",
                        "http.request.status_code"
                    ]
                );
                let count = &m[3]["sum"];
                assert_eq!(count["aggregationTemporality"], 1);
                assert_eq!(count["isMonotonic"], true);
                assert_eq!(count["dataPoints"][0]["asInt"], "4");
                assert_eq!(count["dataPoints"][0]["startTimeUnixNano"], "1");
                assert_eq!(m[3]["unit"], "1");
                assert_eq!(m[4]["sum"]["dataPoints"][0]["asDouble"], 10.0);
                assert_eq!(m[4]["unit"], "ms");
                assert_eq!(m[5]["unit"], "s");
                assert_eq!(m[5]["gauge"]["dataPoints"][0]["asInt"], "200");
                assert_eq!(m[2]["gauge"]["dataPoints"][0]["asDouble"], 15.0);
                assert_eq!(m[2]["unit"], "kWh");
            },
        },
        Snippet {
            name: "transform: the README's aggregate_on_attributes examples",
            signal: "metrics",
            processor: r#"
transform:
  metric_statements:
    - aggregate_on_attributes("sum", ["attr1", "attr2"]) where metric.name == "system.memory.usage"
    - aggregate_on_attributes("max", []) where metric.name == "system.cpu.load"
"#,
            input: r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
              {"name":"system.memory.usage","sum":{"aggregationTemporality":2,"dataPoints":[
                {"asInt":"10","timeUnixNano":"5","attributes":[{"key":"attr1","value":{"stringValue":"a"}},{"key":"attr2","value":{"stringValue":"b"}},{"key":"state","value":{"stringValue":"used"}}]},
                {"asInt":"5","timeUnixNano":"5","attributes":[{"key":"attr2","value":{"stringValue":"b"}},{"key":"state","value":{"stringValue":"free"}},{"key":"attr1","value":{"stringValue":"a"}}]},
                {"asInt":"1","timeUnixNano":"5","attributes":[{"key":"attr1","value":{"stringValue":"c"}},{"key":"attr2","value":{"stringValue":"b"}},{"key":"state","value":{"stringValue":"used"}}]}]}},
              {"name":"system.cpu.load","gauge":{"dataPoints":[
                {"asDouble":0.5,"timeUnixNano":"5","attributes":[{"key":"cpu","value":{"stringValue":"0"}}]},
                {"asDouble":2.5,"timeUnixNano":"5","attributes":[{"key":"cpu","value":{"stringValue":"1"}}]}]}}]}]}]}"#,
            check: |out| {
                let m = items(out, "metrics");
                let memory = m[0]["sum"]["dataPoints"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                assert_eq!(memory.len(), 2, "{}", m[0]);
                assert_eq!(memory[0]["asInt"], "15");
                assert_eq!(attrs(&memory[0]["attributes"]).len(), 2);
                assert_eq!(attrs(&memory[0]["attributes"])["attr1"], "a");
                assert_eq!(memory[1]["asInt"], "1");
                let load = m[1]["gauge"]["dataPoints"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                assert_eq!(load.len(), 1, "{}", m[1]);
                assert_eq!(load[0]["asDouble"], 2.5);
                assert_eq!(load[0].get("attributes"), None);
            },
        },
        Snippet {
            name: "transform: rename metrics with replace_pattern",
            signal: "metrics",
            processor: r#"
transform:
  metric_statements:
    - replace_pattern(metric.name, "^kube_([0-9A-Za-z]+_)", "k8s.$$1.")
    - keep_keys(resource.attributes, ["host.name"])
"#,
            input: METRICS,
            check: |out| {
                assert!(
                    names(out, "metrics").contains(&"k8s.pod_.info".to_string()),
                    "{:?}",
                    names(out, "metrics")
                );
                assert_eq!(
                    resource_attrs(out, "metrics").keys().collect::<Vec<_>>(),
                    ["host.name"]
                );
            },
        },
        Snippet {
            name: "attributes: the README example",
            signal: "traces",
            processor: r#"
attributes:
  actions:
    - key: db.table
      action: delete
    - key: redacted_span
      value: true
      action: upsert
    - key: copy_key
      from_attribute: key_original
      action: update
    - key: account_id
      value: 2245
      action: insert
    - key: account_password
      action: delete
    - key: account_email
      action: hash
    - key: http.status_code
      action: convert
      converted_type: int
    - key: region
      from_attribute: cloud.region
      default_value: "us-east-1"
      action: insert
    - key: tenant_id
      from_context: "metadata.tenant"
      default_value: "default-tenant"
      action: upsert
"#,
            input: r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10",
              "spanId":"0102030405060708","name":"q","attributes":[
              {"key":"db.table","value":{"stringValue":"users"}},{"key":"copy_key","value":{"stringValue":"old"}},
              {"key":"key_original","value":{"stringValue":"new"}},{"key":"account_password","value":{"stringValue":"pw"}},
              {"key":"account_email","value":{"stringValue":"a@b.c"}},{"key":"http.status_code","value":{"stringValue":"200"}}]}]}]}]}"#,
            check: |out| {
                let a = attrs(&items(out, "traces")[0]["attributes"]);
                assert!(!a.contains_key("db.table") && !a.contains_key("account_password"));
                assert_eq!(a["redacted_span"], true);
                assert_eq!(a["copy_key"], "new");
                assert_eq!(
                    a["account_id"], "2245",
                    "OTLP/JSON writes int64 as a string"
                );
                // SHA-256 of "a@b.c".
                assert_eq!(
                    a["account_email"],
                    "d648b243a3e817eaa3309e00e183483f2867baadf522099f0c2121770536b25a"
                );
                assert_eq!(a["http.status_code"], "200");
                assert!(
                    items(out, "traces")[0]["attributes"]
                        .to_string()
                        .contains(r#""intValue":"200""#)
                );
                assert_eq!(a["region"], "us-east-1");
                assert_eq!(a["tenant_id"], "default-tenant");
            },
        },
        Snippet {
            name: "attributes: include by log body (regexp)",
            signal: "logs",
            processor: r#"
attributes:
  include:
    match_type: regexp
    log_bodies: ['\sWARN\s']
  actions:
    - key: flagged
      value: true
      action: insert
"#,
            input: LOGS,
            check: |out| {
                let flagged: Vec<bool> = items(out, "logs")
                    .iter()
                    .map(|l| attrs(&l["attributes"]).contains_key("flagged"))
                    .collect();
                assert_eq!(flagged, [false, false, true, false]);
            },
        },
        Snippet {
            name: "resource: the README example",
            signal: "metrics",
            processor: r#"
resource:
  attributes:
  - key: cloud.availability_zone
    value: "zone-1"
    action: upsert
  - key: k8s.cluster.name
    from_attribute: host.name
    action: insert
  - key: os.type
    action: delete
  - key: region
    from_attribute: cloud.region
    default_value: "us-east-1"
    action: insert
  - key: tenant_id
    from_context: "metadata.tenant"
    default_value: "default-tenant"
    action: upsert
"#,
            input: METRICS,
            check: |out| {
                let r = resource_attrs(out, "metrics");
                assert_eq!(r["cloud.availability_zone"], "zone-1");
                assert_eq!(r["k8s.cluster.name"], "node-1");
                assert!(!r.contains_key("os.type"));
                assert_eq!(r["region"], "us-east-1");
                assert_eq!(r["tenant_id"], "default-tenant");
            },
        },
        Snippet {
            name: "resourcedetection: env, system and k8snode without override",
            signal: "metrics",
            processor: r#"
resourcedetection:
  detectors: [env, system, k8snode]
  timeout: 2s
  override: false
"#,
            input: METRICS,
            check: |out| {
                let r = resource_attrs(out, "metrics");
                assert_eq!(r["deployment.environment"], "prod eu");
                assert_eq!(
                    r["host.name"], "node-1",
                    "override: false keeps what the data has"
                );
                assert_eq!(r["os.type"], "linux");
                assert_eq!(r["k8s.node.name"], "node-7");
            },
        },
        Snippet {
            name: "resourcedetection: the earlier detector wins, override on",
            signal: "logs",
            processor: r#"
resourcedetection:
  detectors: [env, system]
"#,
            input: LOGS,
            check: |out| {
                let r = resource_attrs(out, "logs");
                assert_eq!(r["host.name"], "from-env");
                assert_eq!(r["service.name"], "api");
            },
        },
        Snippet {
            name: "filter (legacy): metrics include by regexp and resource, exclude by name",
            signal: "metrics",
            processor: r#"
filter:
  metrics:
    include:
      match_type: regexp
      metric_names:
        - ^k8s\.
        - ^kube_
      resource_attributes:
        - key: host.name
          value: node-1
    exclude:
      match_type: strict
      metric_names:
        - kube_pod_info
"#,
            input: METRICS,
            check: |out| assert_eq!(names(out, "metrics"), ["k8s.pod.phase"]),
        },
        Snippet {
            name: "filter (legacy): logs exclude by record attribute (regexp)",
            signal: "logs",
            processor: r#"
filter:
  logs:
    exclude:
      match_type: regexp
      record_attributes:
        - key: http.route
          value: ^/user
"#,
            input: LOGS,
            check: |out| assert_eq!(bodies(out).len(), 3),
        },
        Snippet {
            name: "filter: basic trace conditions",
            signal: "traces",
            processor: r#"
filter:
  error_mode: propagate
  trace_conditions:
    - span.attributes["container.name"] == "app_container_1"
    - resource.attributes["host.name"] == "localhost"
    - span.name == "app_3"
"#,
            input: SPANS,
            check: |out| assert_eq!(names(out, "traces"), ["app_2"]),
        },
        Snippet {
            name: "filter: basic metric conditions",
            signal: "metrics",
            processor: r#"
filter:
  error_mode: propagate
  metric_conditions:
    - metric.name == "my.metric" and resource.attributes["my_label"] == "abc123"
    - metric.type == METRIC_DATA_TYPE_HISTOGRAM
    - resource.attributes["service.name"] == "my_service_name"
"#,
            input: METRICS,
            check: |out| {
                assert_eq!(
                    names(out, "metrics"),
                    ["k8s.pod.phase", "empty", "kube_pod_info"]
                )
            },
        },
        Snippet {
            name: "filter: basic log conditions",
            signal: "logs",
            processor: r#"
filter:
  error_mode: propagate
  log_conditions:
    - IsMatch(log.body, ".*password.*")
    - log.severity_number < SEVERITY_NUMBER_WARN
"#,
            input: LOGS,
            check: |out| assert_eq!(bodies(out), ["request failed"]),
        },
        Snippet {
            name: "filter: advanced config with groups and span events",
            signal: "traces",
            processor: r#"
filter:
  error_mode: propagate
  trace_conditions:
    - conditions:
        - resource.attributes["host.name"] == "localhost"
    - error_mode: ignore
      conditions:
        - span.attributes["container.name"] == "container_1"
        - span.name == "app_3"
    - conditions:
        - spanevent.attributes["grpc"] == true
        - IsMatch(spanevent.name, ".*grpc.*")
"#,
            input: SPANS,
            check: |out| {
                assert_eq!(names(out, "traces"), ["app_1", "app_2"]);
                let events: Vec<&str> = items(out, "traces")[1]["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["name"].as_str().unwrap())
                    .collect();
                assert_eq!(events, ["log"]);
            },
        },
        Snippet {
            name: "filter: drop by resource attribute",
            signal: "traces",
            processor: r#"
filter:
  error_mode: ignore
  trace_conditions:
    - resource.attributes["k8s.pod.name"] == "my-pod-name"
"#,
            input: SPANS,
            check: |out| assert_eq!(names(out, "traces").len(), 3),
        },
        Snippet {
            name: "filter: drop metrics with no type",
            signal: "metrics",
            processor: r#"
filter:
  error_mode: ignore
  metric_conditions:
    - metric.type == METRIC_DATA_TYPE_NONE
"#,
            input: METRICS,
            check: |out| assert!(!names(out, "metrics").contains(&"empty".to_string())),
        },
        Snippet {
            name: "filter: drop a metric's data points by value",
            signal: "metrics",
            processor: r#"
filter:
  error_mode: ignore
  metric_conditions:
    - metric.name == "k8s.pod.phase" and datapoint.value_int == 4
"#,
            input: METRICS,
            check: |out| {
                let phase = items(out, "metrics")
                    .into_iter()
                    .find(|m| m["name"] == "k8s.pod.phase")
                    .expect("the metric keeps its other point");
                assert_eq!(phase["gauge"]["dataPoints"].as_array().unwrap().len(), 1);
            },
        },
        Snippet {
            name: "filter: drop non-HTTP spans",
            signal: "traces",
            processor: r#"
filter:
  error_mode: ignore
  trace_conditions:
    - span.attributes["http.request.method"] == nil
"#,
            input: SPANS,
            check: |out| assert_eq!(names(out, "traces"), ["app_1"]),
        },
        Snippet {
            name: "filter: drop HTTP spans",
            signal: "traces",
            processor: r#"
filter:
  error_mode: ignore
  trace_conditions:
    - span.attributes["http.request.method"] != nil
"#,
            input: SPANS,
            check: |out| assert_eq!(names(out, "traces"), ["app_2", "app_3"]),
        },
        Snippet {
            name: "filter: drop short non-error spans",
            signal: "traces",
            processor: r#"
filter:
  error_mode: ignore
  trace_conditions:
    - (span.end_time - span.start_time) < Duration("1s") and span.status.code != STATUS_CODE_ERROR
"#,
            input: SPANS,
            check: |out| assert_eq!(names(out, "traces"), ["app_2", "app_3"]),
        },
        Snippet {
            name: "filter: conditions per context (log_record)",
            signal: "logs",
            processor: r#"
filter:
  logs:
    log_record:
      - 'IsMatch(body, "^\\[") and severity_number < SEVERITY_NUMBER_WARN'
"#,
            input: LOGS,
            check: |out| assert_eq!(bodies(out).len(), 3),
        },
    ]
}

#[test]
fn go_documentation_examples_run_as_documented() {
    let snippets = snippets();
    assert!(snippets.len() >= 20);
    let mut receivers = Mapping::new();
    let mut processors = Mapping::new();
    let mut exporters = Mapping::new();
    let mut pipelines = Mapping::new();
    let mut ports = Vec::new();
    for (i, s) in snippets.iter().enumerate() {
        let port = free_port();
        ports.push(port);
        let processor: Mapping = serde_yaml_ng::from_str(s.processor).expect("snippet YAML");
        let (kind, body) = processor.into_iter().next().expect("one processor");
        let kind = kind.as_str().expect("type").to_string();
        let id = |k: &str| Yaml::from(format!("{k}/s{i}"));
        receivers.insert(
            id("otlp"),
            serde_yaml_ng::from_str(&format!(
                "{{protocols: {{http: {{endpoint: '127.0.0.1:{port}'}}}}}}"
            ))
            .unwrap(),
        );
        processors.insert(id(&kind), body);
        exporters.insert(
            id("file"),
            serde_yaml_ng::from_str(&format!("{{path: '{{dir}}/s{i}.json'}}")).unwrap(),
        );
        pipelines.insert(
            id(s.signal),
            serde_yaml_ng::from_str(&format!(
                "{{receivers: [otlp/s{i}], processors: [{kind}/s{i}], exporters: [file/s{i}]}}"
            ))
            .unwrap(),
        );
    }
    let mut config = Mapping::new();
    config.insert("receivers".into(), Yaml::Mapping(receivers));
    config.insert("processors".into(), Yaml::Mapping(processors));
    config.insert("exporters".into(), Yaml::Mapping(exporters));
    config.insert(
        "service".into(),
        serde_yaml_ng::from_str::<Yaml>("{telemetry: {metrics: {level: none}}}").unwrap(),
    );
    config["service"]
        .as_mapping_mut()
        .unwrap()
        .insert("pipelines".into(), Yaml::Mapping(pipelines));
    let c = Collector::start_with_env(
        &serde_yaml_ng::to_string(&config).unwrap(),
        &[
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=prod%20eu,host.name=from-env",
            ),
            ("K8S_NODE_NAME", "node-7"),
        ],
    );
    for (s, port) in snippets.iter().zip(&ports) {
        let r = post(
            &format!("127.0.0.1:{port}"),
            &format!("/v1/{}", s.signal),
            "application/json",
            s.input.as_bytes(),
        );
        assert_eq!(
            r.status,
            200,
            "{}: {}",
            s.name,
            String::from_utf8_lossy(&r.body)
        );
    }
    for (i, s) in snippets.iter().enumerate() {
        let path = c.path(&format!("s{i}.json"));
        assert!(
            wait_until(Duration::from_secs(20), || !read_json_file(&path)
                .is_empty()),
            "{}: no output\n{}",
            s.name,
            c.log()
        );
        let out = &read_json_file(&path)[0];
        let result = std::panic::catch_unwind(|| (s.check)(out));
        assert!(result.is_ok(), "{}: unexpected output {out}", s.name);
    }
}
