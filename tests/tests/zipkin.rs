//! The `zipkin` receiver and exporter against the Go collector (contrib
//! v0.165.0's zipkinreceiver, built by `tests/go-oracle/build.sh`).
//!
//! Receiver: py_zipkin (a real Zipkin client, `tests/clients/zipkin_spans.py`)
//! encodes one trace as v1 JSON, v2 JSON and v2 protobuf; each body goes to
//! the Go collector and to ferrotel, both with the zipkin receiver and a
//! file exporter. The answers must be equal, and so must the file outputs
//! (OTLP/JSON) after sorting attribute lists by key: Go builds span
//! attributes by ranging over a Go map, whose order is random, so only the
//! set of attributes is Go's. Nothing else is normalised: these spans all
//! carry timestamps, so no receiver clock is involved. Malformed bodies get
//! the same status from both.
//!
//! Exporter: the module proxy has no zipkinexporter v0.165.0 (its last
//! release is v0.148.0), so the Go collector cannot run it; ferrotel's
//! exporter sends OTLP it received to the Go zipkin receiver and to
//! ferrotel's, and what the two receivers make of it must be equal, and
//! carry the original spans.

use ferrotel_core::pdata::{Signal, encode_json};
use ferrotel_e2e::go_collector::GoCollector;
use ferrotel_e2e::{
    Collector, cache_dir, free_port, http, read_json_file, sample, wait_until, workspace_root,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn receiver_config(port: u16, dir: &str) -> String {
    format!(
        "
receivers:
  zipkin: {{endpoint: '127.0.0.1:{port}'}}
exporters:
  file: {{path: '{dir}/traces.json'}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [zipkin], exporters: [file]}}
"
    )
}

fn python() -> PathBuf {
    let p = cache_dir().join("venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: scripts/install-test-peers.sh installs py_zipkin",
        p.display()
    );
    p
}

struct Request {
    encoding: String,
    path: String,
    content_type: String,
    body: Vec<u8>,
}

/// The bodies py_zipkin writes for one trace in each encoding.
fn py_zipkin(encodings: &[&str]) -> Vec<Request> {
    let out = Command::new(python())
        .arg(workspace_root().join("tests/clients/zipkin_spans.py"))
        .args(encodings)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "zipkin_spans.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            Request {
                encoding: v["encoding"].as_str().unwrap().into(),
                path: v["path"].as_str().unwrap().into(),
                content_type: v["content_type"].as_str().unwrap().into(),
                body: ferrotel_core::hex::decode(v["body"].as_str().unwrap().as_bytes()).unwrap(),
            }
        })
        .collect()
}

/// Sorts every `attributes` list by key, the one order Go leaves to chance.
fn normalise(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if k == "attributes"
                    && let Value::Array(items) = x
                {
                    items.sort_by(|a, b| a["key"].as_str().cmp(&b["key"].as_str()));
                }
                normalise(x);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        _ => {}
    }
}

fn lines(dir: &Path) -> Vec<Value> {
    let mut v = read_json_file(&dir.join("traces.json"));
    v.iter_mut().for_each(normalise);
    v
}

fn post(port: u16, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
    let r = http("POST", &format!("127.0.0.1:{port}"), path, headers, body).unwrap();
    (r.status, r.body)
}

#[test]
fn py_zipkin_spans_translate_as_go() {
    let (go_port, our_port) = (free_port(), free_port());
    let go = GoCollector::start(&receiver_config(go_port, "{dir}"), go_port);
    let ours = Collector::start(&receiver_config(our_port, "{dir}"));
    let requests = py_zipkin(&[
        "V2_JSON",
        "V2_JSON_128",
        "V2_PROTO3",
        "V2_PROTO3_128",
        "V1_JSON",
        "V1_JSON_SA",
    ]);
    let mut accepted = 0;
    for r in &requests {
        let headers = [("Content-Type", r.content_type.as_str())];
        let (gs, _) = post(go_port, &r.path, &headers, &r.body);
        let (us, _) = post(our_port, &r.path, &headers, &r.body);
        assert_eq!(us, gs, "{}: ferrotel answered {us}, Go {gs}", r.encoding);
        if gs == 202 {
            accepted += 1;
        }
        // Go refuses v1 JSON with `sa` (a boolean binary annotation) and
        // protobuf spans with 64-bit trace ids (8 bytes, not 16).
        let expected = if r.encoding == "V1_JSON_SA" || r.encoding == "V2_PROTO3" {
            400
        } else {
            202
        };
        assert_eq!(gs, expected, "{}", r.encoding);
    }
    assert_eq!(accepted, 4);
    assert!(
        wait_until(Duration::from_secs(10), || lines(go.dir()).len()
            == accepted),
        "Go wrote {:?}",
        lines(go.dir())
    );
    assert!(
        wait_until(Duration::from_secs(10), || lines(ours.dir.path()).len()
            == accepted),
        "{}",
        ours.log()
    );
    let (g, u) = (lines(go.dir()), lines(ours.dir.path()));
    let accepted: Vec<&Request> = requests
        .iter()
        .filter(|r| r.encoding != "V1_JSON_SA" && r.encoding != "V2_PROTO3")
        .collect();
    for (i, (g, u)) in g.iter().zip(&u).enumerate() {
        assert_eq!(
            u, g,
            "request {i} ({}): ferrotel's output differs from Go's",
            accepted[i].encoding
        );
    }
}

#[test]
fn malformed_bodies_get_go_statuses() {
    let (go_port, our_port) = (free_port(), free_port());
    let _go = GoCollector::start(&receiver_config(go_port, "{dir}"), go_port);
    let _ours = Collector::start(&receiver_config(our_port, "{dir}"));
    let json = ("Content-Type", "application/json");
    let proto = ("Content-Type", "application/x-protobuf");
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<u8>);
    let cases: Vec<Case<'_>> = vec![
        ("/api/v2/spans", vec![json], b"{".to_vec()),
        ("/api/v2/spans", vec![json], b"".to_vec()),
        ("/api/v2/spans", vec![json], b"{}".to_vec()),
        (
            "/api/v2/spans",
            vec![json],
            br#"[{"traceId":"01"}]"#.to_vec(),
        ),
        ("/api/v2/spans", vec![json], br#"[{"id":"zz"}]"#.to_vec()),
        (
            "/api/v2/spans",
            vec![json],
            br#"[{"id":"01","timestamp":-5}]"#.to_vec(),
        ),
        (
            "/api/v2/spans",
            vec![json],
            br#"[{"id":"01","annotations":[{"value":"x"}]}]"#.to_vec(),
        ),
        (
            "/api/v2/spans",
            vec![json],
            br#"[{"id":"01","tags":{"a":1}}]"#.to_vec(),
        ),
        (
            "/api/v2/spans",
            vec![json],
            br#"[{"id":"01","localEndpoint":{"ipv4":"nope"}}]"#.to_vec(),
        ),
        (
            "/api/v2/spans",
            vec![json],
            br#"[{"id":"01","annotations":[{"timestamp":1,"value":"e|{bad|1"}]}]"#.to_vec(),
        ),
        ("/api/v2/spans", vec![proto], b"\xff\xff\xff".to_vec()),
        ("/api/v2/spans", vec![proto], b"\x0a\x02\x0a\x00".to_vec()),
        (
            "/api/v1/spans",
            vec![json],
            b"[{\"traceId\":\"1\",\"id\":\"1\"}]".to_vec(),
        ),
        (
            "/api/v1/spans",
            vec![json],
            b"[{\"traceId\":\"0000000000000000\",\"id\":\"0000000000000001\"}]".to_vec(),
        ),
        (
            "/api/v2/spans",
            vec![json, ("Content-Encoding", "br")],
            b"[]".to_vec(),
        ),
        (
            "/api/v2/spans",
            vec![json, ("Content-Encoding", "gzip")],
            b"not gzip".to_vec(),
        ),
        ("/anything", vec![json], b"[".to_vec()),
    ];
    for (path, headers, body) in &cases {
        let (gs, gb) = post(go_port, path, headers, body);
        let (us, ub) = post(our_port, path, headers, body);
        assert_eq!(
            us,
            gs,
            "{path} {headers:?} {:?}: ferrotel {us} {:?}, Go {gs} {:?}",
            String::from_utf8_lossy(body),
            String::from_utf8_lossy(&ub),
            String::from_utf8_lossy(&gb)
        );
    }
}

fn exporter_config(otlp_port: u16, go_port: u16, our_port: u16) -> String {
    format!(
        "
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:{otlp_port}'}}
exporters:
  zipkin/go_json: {{endpoint: 'http://127.0.0.1:{go_port}/api/v2/spans'}}
  zipkin/go_proto: {{endpoint: 'http://127.0.0.1:{go_port}/api/v2/spans', format: proto}}
  zipkin/ours_json: {{endpoint: 'http://127.0.0.1:{our_port}/api/v2/spans'}}
  zipkin/ours_proto: {{endpoint: 'http://127.0.0.1:{our_port}/api/v2/spans', format: proto}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces/json: {{receivers: [otlp], exporters: [zipkin/go_json, zipkin/ours_json]}}
    traces/proto: {{receivers: [otlp], exporters: [zipkin/go_proto, zipkin/ours_proto]}}
"
    )
}

#[test]
fn exported_zipkin_reads_the_same_in_go_and_ferrotel() {
    let (otlp_port, go_port, our_port) = (free_port(), free_port(), free_port());
    let go = GoCollector::start(&receiver_config(go_port, "{dir}"), go_port);
    let ours = Collector::start(&receiver_config(our_port, "{dir}"));
    let exporter = Collector::start(&exporter_config(otlp_port, go_port, our_port));
    let data = sample(Signal::Traces, 3);
    let r = http(
        "POST",
        &format!("127.0.0.1:{otlp_port}"),
        "/v1/traces",
        &[("Content-Type", "application/json")],
        encode_json(&data).as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, 200);
    // Each receiver gets the batch twice, as JSON and as protobuf.
    assert!(
        wait_until(Duration::from_secs(15), || lines(go.dir()).len() == 2),
        "Go got {:?}; exporter log:\n{}",
        lines(go.dir()),
        exporter.log()
    );
    assert!(
        wait_until(Duration::from_secs(15), || lines(ours.dir.path()).len()
            == 2),
        "{}",
        exporter.log()
    );
    let (g, u) = (lines(go.dir()), lines(ours.dir.path()));
    // The two pipelines deliver in either order: compare as sets.
    let key = |v: &Value| v.to_string();
    let mut gs: Vec<String> = g.iter().map(key).collect();
    let mut us: Vec<String> = u.iter().map(key).collect();
    gs.sort();
    us.sort();
    assert_eq!(
        us, gs,
        "ferrotel read the exported spans differently from Go"
    );

    // And the spans are the ones sent.
    let ferrotel_core::pdata::Telemetry::Traces(sent) = &data else {
        unreachable!()
    };
    let sent = &sent[0].scope_spans[0].spans[0];
    for line in &g {
        let rs = &line["resourceSpans"][0];
        let span = &rs["scopeSpans"][0]["spans"][0];
        assert_eq!(span["traceId"], ferrotel_core::hex::encode(&sent.trace_id));
        assert_eq!(span["spanId"], ferrotel_core::hex::encode(&sent.span_id));
        assert_eq!(
            span["parentSpanId"],
            ferrotel_core::hex::encode(&sent.parent_span_id)
        );
        assert_eq!(span["name"], sent.name);
        assert_eq!(span["kind"], sent.kind);
        assert_eq!(span["events"].as_array().map(Vec::len), Some(1));
        assert_eq!(span["links"].as_array().map(Vec::len), Some(1));
        assert_eq!(span["status"]["code"], 2);
        assert_eq!(
            rs["resource"]["attributes"]
                .as_array()
                .and_then(|a| a.iter().find(|kv| kv["key"] == "service.name"))
                .map(|kv| kv["value"]["stringValue"].clone()),
            Some(Value::from("svc-3"))
        );
    }
}
