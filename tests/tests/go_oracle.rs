//! The Go OpenTelemetry Collector as the oracle. The same configs and the
//! same traffic go through the Go collector (built from the Go module proxy
//! by `tests/go-oracle/build.sh`, which the README's test command runs) and
//! through ferrotel; their file-exporter outputs, HTTP answers and
//! `validate` errors must agree.

use ferrotel_core::pdata::{Signal, encode_json};
use ferrotel_e2e::go_collector::GoCollector;
use ferrotel_e2e::{
    Collector, error_lines, ferrotel_bin, free_port, http, oracle_bin, read_json_file, sample,
    validate_with_env, wait_until,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn config(port: u16, dir: &Path) -> String {
    format!(
        "
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:{port}'}}
exporters:
  file/traces: {{path: '{d}/traces.json'}}
  file/metrics: {{path: '{d}/metrics.json'}}
  file/logs: {{path: '{d}/logs.json'}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [file/traces]}}
    metrics: {{receivers: [otlp], exporters: [file/metrics]}}
    logs: {{receivers: [otlp], exporters: [file/logs]}}
",
        d = dir.display()
    )
}

fn start_go(port: u16) -> (GoCollector, PathBuf) {
    let go = GoCollector::start(&config(port, Path::new("{dir}")), port);
    let out = go.dir().to_path_buf();
    (go, out)
}

fn start_ferrotel(port: u16) -> (Collector, PathBuf) {
    let c = Collector::start(&config(port, Path::new("{dir}")));
    let out = c.dir.path().to_path_buf();
    (c, out)
}

/// The requests both collectors get: every signal, as protobuf and JSON.
fn traffic() -> Vec<(Signal, &'static str, Vec<u8>)> {
    let mut out = Vec::new();
    for signal in Signal::STABLE {
        for seed in 0..2u8 {
            let data = sample(signal, seed);
            out.push((signal, "application/x-protobuf", data.encode_request()));
            out.push((signal, "application/json", encode_json(&data).into_bytes()));
        }
    }
    out
}

fn lines(dir: &Path, signal: Signal) -> Vec<Value> {
    read_json_file(&dir.join(format!("{signal}.json")))
}

#[test]
fn file_exporter_output_and_answers_match_go() {
    let (go_port, our_port) = (free_port(), free_port());
    let (_go, go_dir) = start_go(go_port);
    let (ours, our_dir) = start_ferrotel(our_port);
    let traffic = traffic();
    for (signal, content_type, body) in &traffic {
        let path = format!("/v1/{signal}");
        let go = http(
            "POST",
            &format!("127.0.0.1:{go_port}"),
            &path,
            &[("Content-Type", content_type)],
            body,
        )
        .unwrap();
        let us = http(
            "POST",
            &format!("127.0.0.1:{our_port}"),
            &path,
            &[("Content-Type", content_type)],
            body,
        )
        .unwrap();
        assert_eq!(
            us.status, go.status,
            "{signal} {content_type}: statuses differ"
        );
        assert_same_body(&us.body, &go.body, &format!("{signal} {content_type}"));
    }
    for signal in Signal::STABLE {
        let expected = traffic.iter().filter(|(s, _, _)| *s == signal).count();
        assert!(
            wait_until(Duration::from_secs(10), || lines(&go_dir, signal).len()
                == expected),
            "Go wrote {} lines",
            lines(&go_dir, signal).len()
        );
        assert!(
            wait_until(Duration::from_secs(10), || lines(&our_dir, signal).len()
                == expected),
            "{}",
            ours.log()
        );
        let (go, us) = (lines(&go_dir, signal), lines(&our_dir, signal));
        for (i, (g, u)) in go.iter().zip(&us).enumerate() {
            if let Some(diff) = first_difference(u, g, String::new()) {
                panic!("{signal} request {i}: ferrotel's file output differs from Go's at {diff}");
            }
        }
    }
}

/// Bodies must be equal; JSON bodies as values, since Go's protojson
/// varies its whitespace on purpose.
fn assert_same_body(ours: &[u8], go: &[u8], context: &str) {
    let parse = |b: &[u8]| serde_json::from_slice::<Value>(b).ok();
    match (parse(ours), parse(go)) {
        (Some(u), Some(g)) => assert_eq!(u, g, "{context}: bodies differ"),
        _ => assert_eq!(ours, go, "{context}: bodies differ"),
    }
}

/// The path of the first place two JSON values differ, with both sides.
fn first_difference(ours: &Value, go: &Value, path: String) -> Option<String> {
    match (ours, go) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let (x, y) = (
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                );
                first_difference(x, y, format!("{path}.{k}"))
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, format!("{path}[{i}]"))),
        (a, b) if a == b => None,
        (a, b) => Some(format!("{path}: ferrotel {a} vs Go {b}")),
    }
}

#[test]
fn http_errors_match_go() {
    let (go_port, our_port) = (free_port(), free_port());
    let (_go, _) = start_go(go_port);
    let (_ours, _) = start_ferrotel(our_port);
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a [u8]);
    let cases: [Case<'_>; 5] = [
        (
            "POST",
            "/v1/traces",
            &[("Content-Type", "text/plain")],
            b"x",
        ),
        ("GET", "/v1/traces", &[], b""),
        (
            "POST",
            "/v1/nothing",
            &[("Content-Type", "application/json")],
            b"{}",
        ),
        (
            "POST",
            "/v1/logs",
            &[
                ("Content-Type", "application/json"),
                ("Content-Encoding", "br"),
            ],
            b"{}",
        ),
        (
            "POST",
            "/v1/logs",
            &[("Content-Type", "application/json")],
            b"{bad",
        ),
    ];
    for (method, path, headers, body) in cases {
        // Go's server may reset a connection when it answers an error
        // before reading the whole body; asking again gets the answer.
        let go_addr = format!("127.0.0.1:{go_port}");
        let go = http(method, &go_addr, path, headers, body)
            .or_else(|_| http(method, &go_addr, path, headers, body))
            .unwrap();
        let us = http(
            method,
            &format!("127.0.0.1:{our_port}"),
            path,
            headers,
            body,
        )
        .unwrap();
        assert_eq!(us.status, go.status, "{method} {path} {headers:?}");
        assert_eq!(
            us.header("content-type"),
            go.header("content-type"),
            "{method} {path} {headers:?}"
        );
        if go.status != 400 || headers.iter().any(|(k, _)| *k == "Content-Encoding") {
            // Decoder messages differ by JSON library; everything else must match.
            assert_same_body(&us.body, &go.body, &format!("{method} {path} {headers:?}"));
        }
    }
}

/// Runs `bin validate --config=path`: (success, stderr).
fn validate(bin: &Path, path: &Path) -> (bool, String) {
    validate_with_env(bin, path, &[])
}

/// The first line and the most specific (last) line of a `validate` error.
fn summary(stderr: &str) -> (String, String) {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("20") && !l.starts_with("(in "))
        .collect();
    let first = lines.first().copied().unwrap_or_default().to_string();
    let last = lines.last().copied().unwrap_or_default().to_string();
    (first, last)
}

#[test]
fn validate_errors_match_go() {
    // The otlp exporter with one setting Go refuses in its nested sections.
    let otlp_exporter = |setting: &str| {
        format!(
            "receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters:\n  otlp:\n    endpoint: localhost:4317\n    {setting}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [otlp]\n"
        )
    };
    const PIPELINE: &str =
        "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n";
    let cases = [
        format!("receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters: {{debug: {{verBosity: detailed}}}}\n{PIPELINE}"),
        format!("receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters: {{debug: }}\n{PIPELINE}  telemetry:\n    unknown: 1\n"),
        format!("receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters: {{logging: }}\n{PIPELINE}"),
        "receivers: {otlp: {protocols: {grpc: }}}\nexporters: {debug: }\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      processors: [nop]\n      exporters: [debug]\n".to_string(),
        format!("receivers: {{otlp: {{protocols: }}}}\nexporters: {{debug: }}\n{PIPELINE}"),
        "receivers: {otlp: {protocols: {grpc: }}}\nexporters: {debug: }\nservice:\n  pipelines:\n    traces:\n      exporters: [debug]\n".to_string(),
        format!("receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters: {{debug: , otlp_grpc: }}\n{PIPELINE}"),
        format!("receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters: {{debug: }}\n{PIPELINE}  extensions: [health_check]\n"),
        "receivers: {otlp: {protocols: {grpc: }}}\nexporters: {debug: }\n".to_string(),
        format!("extensions: {{file_storage: {{directory: /nonexistent/ferrotel}}}}\nreceivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters: {{debug: }}\n{PIPELINE}  extensions: [file_storage]\n"),
        format!("extensions: {{file_storage: {{directory: /etc/passwd}}}}\nreceivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters: {{debug: }}\n{PIPELINE}  extensions: [file_storage]\n"),
        otlp_exporter("compression: brotli"),
        otlp_exporter("retry_on_failure: {randomization_factor: 2}"),
        otlp_exporter("sending_queue: {queue_size: 0}"),
        otlp_exporter("sending_queue: {batch: {min_size: 10, max_size: 5}}"),
        "receivers: {otlp: {protocols: {grpc: }}}\nexporters: {kafka: {producer: {compression: brotli}}}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [kafka]\n".to_string(),
    ];
    let limiter = |settings: &str| {
        format!(
            "receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nprocessors: {{memory_limiter: {settings}}}\nexporters: {{debug: }}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      processors: [memory_limiter]\n      exporters: [debug]\n"
        )
    };
    let cases: Vec<String> = cases
        .into_iter()
        .chain([
            limiter("{limit_mib: 100}"),
            limiter("{check_interval: 1s}"),
            limiter("{check_interval: 1s, limit_mib: 100, spike_limit_mib: 200}"),
            limiter("{check_interval: 1s, limit_percentage: 50, spike_limit_percentage: 60}"),
            limiter("{check_interval: 1s, limit_mib: 100, foo: 1}"),
        ])
        .collect();
    let dir = tempfile::tempdir().unwrap();
    for (i, yaml) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case{i}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        let (go_ok, go_err) = validate(&oracle_bin(), &path);
        let (our_ok, our_err) = validate(&ferrotel_bin(), &path);
        assert!(
            !go_ok && !our_ok,
            "case {i} should fail in both:\nGo: {go_err}\nferrotel: {our_err}"
        );
        let (go_first, go_last) = summary(&go_err);
        let (our_first, our_last) = summary(&our_err);
        assert_eq!(our_first, go_first, "case {i}: first line");
        assert_eq!(our_last, go_last, "case {i}: most specific line");
    }
}

#[test]
fn telemetry_settings_decode_as_go_does() {
    // Go decodes `logs` and `metrics` with their own Unmarshal (errors one
    // level deeper, the root named by its Go type), reads levels in any
    // case, reads `null` as Go's zero level, and checks the log encoding only
    // when it builds the logger.
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        "logs: {foo: 1}",
        "logs: {level: foo}",
        "logs: {level: Debug}",
        "logs: {level: WARNING}",
        "logs: {level: }",
        "logs: {encoding: foo}",
        "logs: {encoding: json}",
        "metrics: {level: foo}",
        "metrics: {level: Basic}",
        "metrics: {level: }",
        "metrics: {foo: 1}",
        "metrics: {address: ':8888'}",
        "metrics: {readers: [{pull: {exporter: {prometheus: {host: localhost, port: 8888}}}}]}",
    ];
    for (i, setting) in cases.iter().enumerate() {
        let path = dir.path().join(format!("telemetry{i}.yaml"));
        std::fs::write(
            &path,
            format!("receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters: {{debug: }}\nservice:\n  pipelines:\n    traces: {{receivers: [otlp], exporters: [debug]}}\n  telemetry: {{{setting}}}\n"),
        )
        .unwrap();
        let (go_ok, go_err) = validate(&oracle_bin(), &path);
        let (our_ok, our_err) = validate(&ferrotel_bin(), &path);
        assert_eq!(
            our_ok, go_ok,
            "{setting}: Go: {go_err}\nferrotel: {our_err}"
        );
        assert_eq!(error_lines(&our_err), error_lines(&go_err), "{setting}");
        if setting.contains("address") {
            assert!(our_err.contains("\nhint: `address` is gone; serve the self-metrics with `readers: [{pull: {exporter: {prometheus:"), "{our_err}");
        }
    }
    // Accepted by `validate`, refused when the collector starts.
    let path = dir.path().join("telemetry5.yaml");
    let start = |bin: &Path| {
        let out = Command::new(bin)
            .arg(format!("--config={}", path.display()))
            .output()
            .unwrap();
        assert!(!out.status.success());
        error_lines(&String::from_utf8_lossy(&out.stderr))
    };
    let go = start(&oracle_bin());
    assert_eq!(
        go,
        ["Error: failed to create logger: no encoder registered for name \"foo\""]
    );
    assert_eq!(start(&ferrotel_bin()), go);
}

#[test]
fn documented_configs_validate_the_same_way() {
    let dir = ferrotel_e2e::workspace_root().join("tests/testdata/go-configs");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let (go_ok, go_err) = validate(&oracle_bin(), &path);
        let (our_ok, our_err) = validate(&ferrotel_bin(), &path);
        assert_eq!(
            our_ok,
            go_ok,
            "{}: Go says {go_ok}, ferrotel {our_ok}\nGo: {go_err}\nferrotel: {our_err}",
            path.display()
        );
        if !go_ok {
            // Go reports the first unknown type, and lists the valid ones,
            // in map order, which varies between runs; ferrotel sorts them.
            // The rest of the line must match.
            let normalize = |(first, last): (String, String)| {
                let last = match (last.find("unknown type: "), last.find(" (valid values: [")) {
                    (Some(a), Some(b)) => {
                        let list = &last[b + " (valid values: [".len()..];
                        let list = list.strip_suffix("])").unwrap_or(list);
                        let mut valid: Vec<&str> = list.split(' ').collect();
                        valid.sort_unstable();
                        format!(
                            "{}unknown type: <type> (valid values: [{}])",
                            &last[..a],
                            valid.join(" ")
                        )
                    }
                    _ => last,
                };
                (first, last)
            };
            assert_eq!(
                normalize(summary(&our_err)),
                normalize(summary(&go_err)),
                "{}",
                path.display()
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 4, "every documented config was checked");
}

/// Log bodies in a file exporter's JSON output.
fn log_bodies(path: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for line in read_json_file(path) {
        for rl in line["resourceLogs"].as_array().into_iter().flatten() {
            for sl in rl["scopeLogs"].as_array().into_iter().flatten() {
                for r in sl["logRecords"].as_array().into_iter().flatten() {
                    if let Some(body) = r["body"]["stringValue"].as_str() {
                        out.push(body.to_string());
                    }
                }
            }
        }
    }
    out
}

/// Switching from the Go collector keeps filelog's read positions:
/// ferrotel takes over the Go file_storage's bbolt file (keeping a copy),
/// reads what was written after Go stopped and nothing Go had sent.
#[test]
fn filelog_resumes_from_go_checkpoints() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path().display();
    std::fs::create_dir_all(work.path().join("state")).unwrap();
    let app = work.path().join("app.log");
    let write = |prefix: &str, n: u32| {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&app)
            .unwrap();
        for i in 0..n {
            writeln!(f, "{prefix}-{i} some text to make the line longer").unwrap();
        }
    };
    let config = |who: &str| {
        format!(
            "
extensions:
  file_storage: {{directory: '{w}/state'}}
receivers:
  filelog: {{include: ['{w}/app.log'], start_at: beginning, poll_interval: 50ms, storage: file_storage}}
exporters:
  file: {{path: '{w}/out-{who}.json'}}
service:
  extensions: [file_storage]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [filelog], exporters: [file]}}
"
        )
    };
    write("go", 100);
    let go_config = work.path().join("go.yaml");
    std::fs::write(&go_config, config("go")).unwrap();
    let mut go = Command::new(oracle_bin())
        .arg(format!("--config={}", go_config.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let go_out = work.path().join("out-go.json");
    assert!(
        wait_until(Duration::from_secs(20), || log_bodies(&go_out).len() >= 100),
        "the Go collector did not read the file"
    );
    // A graceful stop, after which Go's checkpoint is on disk.
    let _ = Command::new("kill")
        .args(["-TERM", &go.id().to_string()])
        .status();
    assert!(
        go.wait().unwrap().success(),
        "the Go collector did not stop cleanly"
    );
    let go_store = work.path().join("state/receiver_filelog_");
    assert!(go_store.exists(), "Go wrote no storage file where expected");

    write("after", 50);
    let c = Collector::start(&config("ferrotel"));
    let ours = work.path().join("out-ferrotel.json");
    let want: Vec<String> = (0..50)
        .map(|i| format!("after-{i} some text to make the line longer"))
        .collect();
    assert!(
        wait_until(Duration::from_secs(20), || log_bodies(&ours).len() >= 50),
        "ferrotel did not read the new lines: {:?}",
        c.log()
    );
    // Time for anything read twice to show.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(log_bodies(&ours), want, "exactly the lines Go had not read");
    assert!(
        c.log()
            .contains("took over a Go collector's bbolt storage file")
    );
    assert!(work.path().join("state/receiver_filelog_.bbolt").exists());
}
