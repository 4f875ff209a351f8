//! The `jaeger` receiver against the Go collector (contrib v0.165.0's
//! jaegerreceiver, built by `tests/go-oracle/build.sh`), with real Jaeger
//! clients: OpenTelemetry's Jaeger exporters for Python (Thrift over the
//! agent's compact UDP port and over HTTP, protobuf over gRPC), the Jaeger
//! Python client (compact UDP) and the Jaeger Node.js client (binary UDP).
//!
//! What a Thrift client sends is captured once (the datagrams, the HTTP
//! body) and replayed to both collectors, so the file exporters' OTLP/JSON
//! must be equal as written, attribute order included. The gRPC client is
//! run once against each collector; its ids and timestamps differ between
//! runs, so they are masked before comparing (whether a parent is set
//! still counts). Malformed HTTP requests and config errors get the same
//! answers from both.

use ferrotel_e2e::go_collector::GoCollector;
use ferrotel_e2e::{
    Collector, cache_dir, error_lines, ferrotel_bin, free_port, gzip, http, oracle_bin,
    read_json_file, validate_with_env, wait_until, workspace_root,
};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

struct Ports {
    grpc: u16,
    http: u16,
    binary: u16,
    compact: u16,
}

impl Ports {
    fn new() -> Ports {
        Ports {
            grpc: free_port(),
            http: free_port(),
            binary: free_udp_port(),
            compact: free_udp_port(),
        }
    }
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The same config for both collectors: every protocol, one UDP worker
/// each so that datagrams are written in the order they were sent.
fn config(p: &Ports) -> String {
    format!(
        "
receivers:
  jaeger:
    protocols:
      grpc: {{endpoint: '127.0.0.1:{}'}}
      thrift_http: {{endpoint: '127.0.0.1:{}'}}
      thrift_binary: {{endpoint: '127.0.0.1:{}', workers: 1}}
      thrift_compact: {{endpoint: '127.0.0.1:{}', workers: 1}}
exporters:
  file: {{path: '{{dir}}/traces.json'}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [jaeger], exporters: [file]}}
",
        p.grpc, p.http, p.binary, p.compact
    )
}

fn python() -> PathBuf {
    let p = cache_dir().join("jaeger-venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: scripts/install-test-peers.sh installs the Jaeger clients",
        p.display()
    );
    p
}

/// Runs a client script to its end.
fn run(mut command: Command) {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn python_client(mode: &str, target: &str) -> Command {
    let mut c = Command::new(python());
    c.arg(workspace_root().join("tests/clients/jaeger_spans.py"))
        .args([mode, target]);
    c
}

/// The datagrams a client sends to an agent port while `client` runs.
fn capture_udp(client: impl FnOnce(u16)) -> Vec<Vec<u8>> {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let port = socket.local_addr().unwrap().port();
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = vec![0u8; 65_536];
        let mut idle = 0;
        // Until the client has been quiet for a while after its end.
        while idle < 20 {
            match socket.recv_from(&mut buf) {
                Ok((n, _)) => {
                    got.push(buf[..n].to_vec());
                    idle = 0;
                }
                Err(_) => idle += 1,
            }
        }
        got
    });
    client(port);
    let got = reader.join().unwrap();
    assert!(!got.is_empty(), "the client sent no datagram");
    got
}

/// The body (and content type) of the one POST a client makes while
/// `client` runs; answered 202 as a collector would.
fn capture_http(client: impl FnOnce(u16)) -> (String, Vec<u8>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 8192];
        let (head_end, length, content_type) = loop {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "connection closed before the request ended");
            raw.extend_from_slice(&buf[..n]);
            if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
                let field = |name: &str| {
                    head.lines()
                        .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
                        .unwrap_or_default()
                };
                break (
                    end + 4,
                    field("content-length:").parse::<usize>().unwrap(),
                    field("content-type:"),
                );
            }
        };
        while raw.len() < head_end + length {
            let n = stream.read(&mut buf).unwrap();
            raw.extend_from_slice(&buf[..n]);
        }
        stream
            .write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .unwrap();
        (content_type, raw[head_end..head_end + length].to_vec())
    });
    client(port);
    server.join().unwrap()
}

fn lines(dir: &Path) -> Vec<Value> {
    read_json_file(&dir.join("traces.json"))
}

/// Waits until both collectors wrote `n` lines; they must be equal.
fn assert_same_output(go: &GoCollector, ours: &Collector, n: usize, what: &str) {
    assert!(
        wait_until(Duration::from_secs(15), || lines(go.dir()).len() >= n),
        "{what}: Go wrote {} lines:\n{}",
        lines(go.dir()).len(),
        go.log()
    );
    assert!(
        wait_until(Duration::from_secs(15), || lines(ours.dir.path()).len()
            >= n),
        "{what}: ferrotel wrote {} lines:\n{}",
        lines(ours.dir.path()).len(),
        ours.log()
    );
    let (g, o) = (lines(go.dir()), lines(ours.dir.path()));
    assert_eq!(o.len(), g.len(), "{what}");
    for (i, (g, o)) in g.iter().zip(&o).enumerate() {
        assert_eq!(o, g, "{what}: line {i} differs\nGo: {g}\nferrotel: {o}");
    }
}

#[test]
fn thrift_clients_translate_as_go_s() {
    let (gp, op) = (Ports::new(), Ports::new());
    let go = GoCollector::start(&config(&gp), gp.http);
    let ours = Collector::start(&config(&op));
    let mut written = 0;
    let node = cache_dir().join("node");
    let sends: [(&str, bool, Vec<Vec<u8>>); 3] = [
        (
            "OpenTelemetry's exporter, compact UDP",
            true,
            capture_udp(|port| run(python_client("otel-compact", &format!("127.0.0.1:{port}")))),
        ),
        (
            "jaeger-client (Python), compact UDP",
            true,
            capture_udp(|port| run(python_client("jaeger-client", &format!("127.0.0.1:{port}")))),
        ),
        (
            "jaeger-client (Node.js), binary UDP",
            false,
            capture_udp(|port| {
                let mut c = Command::new("node");
                c.env("NODE_PATH", node.join("node_modules"))
                    .arg(workspace_root().join("tests/clients/jaeger_binary.js"))
                    .args(["127.0.0.1", &port.to_string()]);
                run(c)
            }),
        ),
    ];
    for (what, compact, datagrams) in sends {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        for d in &datagrams {
            for port in if compact {
                [gp.compact, op.compact]
            } else {
                [gp.binary, op.binary]
            } {
                socket.send_to(d, ("127.0.0.1", port)).unwrap();
            }
            written += 1;
            assert_same_output(&go, &ours, written, what);
        }
    }
    let (content_type, body) = capture_http(|port| {
        run(python_client(
            "otel-http",
            &format!("http://127.0.0.1:{port}/api/traces"),
        ))
    });
    for port in [gp.http, op.http] {
        let r = http(
            "POST",
            &format!("127.0.0.1:{port}"),
            "/api/traces",
            &[("Content-Type", &content_type)],
            &body,
        )
        .unwrap();
        assert_eq!(r.status, 202);
    }
    written += 1;
    assert_same_output(&go, &ours, written, "OpenTelemetry's exporter, HTTP");
    // Go's HTTP servers take compressed bodies too.
    let compressed = gzip(&body);
    for port in [gp.http, op.http] {
        let r = http(
            "POST",
            &format!("127.0.0.1:{port}"),
            "/api/traces",
            &[
                ("Content-Type", &content_type),
                ("Content-Encoding", "gzip"),
            ],
            &compressed,
        )
        .unwrap();
        assert_eq!(r.status, 202);
    }
    written += 1;
    assert_same_output(&go, &ours, written, "the same body, gzip-compressed");
    // The translation did something: Go's rules, spot-checked.
    let all = lines(ours.dir.path());
    let text = serde_json::to_string(&all).unwrap();
    for needle in [
        "\"opencensus.exporterversion\"",
        "\"host.name\"",
        "\"http.response.status_code\"",
        "\"opentracing.ref_type\"",
        "\"it failed\"",
    ] {
        assert!(text.contains(needle), "{needle} missing from {text}");
    }
}

/// Ids and times differ between two runs of a client: masked, keeping
/// whether they were set.
fn mask(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if matches!(
                    k.as_str(),
                    "traceId"
                        | "spanId"
                        | "parentSpanId"
                        | "startTimeUnixNano"
                        | "endTimeUnixNano"
                        | "timeUnixNano"
                ) {
                    *x = Value::String(if x.as_str().is_some_and(str::is_empty) {
                        String::new()
                    } else {
                        "set".into()
                    });
                } else {
                    mask(x);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask),
        _ => {}
    }
}

#[test]
fn the_grpc_client_s_spans_translate_as_go_s() {
    let (gp, op) = (Ports::new(), Ports::new());
    let go = GoCollector::start(&config(&gp), gp.http);
    let ours = Collector::start(&config(&op));
    run(python_client(
        "otel-grpc",
        &format!("127.0.0.1:{}", gp.grpc),
    ));
    run(python_client(
        "otel-grpc",
        &format!("127.0.0.1:{}", op.grpc),
    ));
    assert!(wait_until(Duration::from_secs(15), || {
        lines(go.dir()).len() >= 3 && lines(ours.dir.path()).len() >= 3
    }));
    let masked = |dir: &Path| {
        let mut v = lines(dir);
        v.iter_mut().for_each(mask);
        v
    };
    let (g, o) = (masked(go.dir()), masked(ours.dir.path()));
    assert_eq!(o, g, "\nGo: {g:?}\nferrotel: {o:?}");
    // The protobuf path takes the scope from the span's tags.
    assert!(
        serde_json::to_string(&o)
            .unwrap()
            .contains("\"ferrotel.e2e\"")
    );
}

/// A method, headers and a body.
type Request<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [u8]);

#[test]
fn malformed_requests_and_configs_get_go_s_answers() {
    let (gp, op) = (Ports::new(), Ports::new());
    let _go = GoCollector::start(&config(&gp), gp.http);
    let _ours = Collector::start(&config(&op));
    let cases: [Request<'_>; 5] = [
        ("POST", &[("Content-Type", "application/json")], b"{}"),
        ("POST", &[], b"x"),
        (
            "POST",
            &[("Content-Type", "application/x-thrift")],
            b"garbage",
        ),
        (
            "POST",
            &[("Content-Type", "application/x-thrift; charset=utf-8")],
            b"",
        ),
        ("GET", &[], b""),
    ];
    for (method, headers, body) in cases {
        let answer = |port: u16| {
            let r = http(
                method,
                &format!("127.0.0.1:{port}"),
                "/api/traces",
                headers,
                body,
            )
            .unwrap();
            (r.status, String::from_utf8_lossy(&r.body).into_owned())
        };
        let (g, o) = (answer(gp.http), answer(op.http));
        assert_eq!(o.0, g.0, "{method} {headers:?}: Go {g:?}, ferrotel {o:?}");
        // Thrift's own decoding errors are worded by each library; the
        // rest is Go's text.
        if !g.1.starts_with("Unable to process request body") {
            assert_eq!(o.1, g.1, "{method} {headers:?}");
        }
    }

    let dir = tempfile::tempdir().unwrap();
    for (name, protocols) in [
        ("none", "{}"),
        ("no port", "{grpc: {endpoint: localhost}}"),
        (
            "port not a number",
            "{thrift_http: {endpoint: 'localhost:abc'}}",
        ),
        ("port 0", "{thrift_binary: {endpoint: 'localhost:0'}}"),
        (
            "compact out of range",
            "{thrift_compact: {endpoint: 'localhost:70000'}}",
        ),
        ("unknown key", "{thrift_compact: {foo: 1}}"),
        (
            "defaults",
            "{grpc: , thrift_http: , thrift_binary: , thrift_compact: }",
        ),
    ] {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(
            &path,
            format!(
                "receivers: {{jaeger: {{protocols: {protocols}}}}}\nexporters: {{nop: }}\nservice: {{pipelines: {{traces: {{receivers: [jaeger], exporters: [nop]}}}}}}\n"
            ),
        )
        .unwrap();
        let (go_ok, go_err) = validate_with_env(&oracle_bin(), &path, &[]);
        let (our_ok, our_err) = validate_with_env(&ferrotel_bin(), &path, &[]);
        assert_eq!(
            (our_ok, error_lines(&our_err)),
            (go_ok, error_lines(&go_err)),
            "{name}"
        );
    }
}
