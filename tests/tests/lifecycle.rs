//! Process lifecycle with the real binary: SIGHUP reloads (a broken config
//! keeps the old pipelines serving; a good one replaces them), SIGTERM
//! drains what is buffered before exiting, and the embedded default config
//! runs when no --config is given.

use ferrotel_core::pdata::Signal;
use ferrotel_e2e::{
    Collector, ferrotel_bin, free_port, http, metric_value, post, read_proto_file, sample,
    wait_until,
};
use std::process::{Command, Stdio};
use std::time::Duration;

fn config(port: u16, out: &str, batch_timeout: &str) -> String {
    format!(
        "
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:{port}'}}
processors:
  batch: {{timeout: {batch_timeout}}}
exporters:
  file: {{path: '{{dir}}/{out}', format: proto}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: [batch], exporters: [file]}}
"
    )
}

fn send_log(addr: &str, seed: u8) -> u16 {
    post(
        addr,
        "/v1/logs",
        "application/x-protobuf",
        &sample(Signal::Logs, seed).encode_request(),
    )
    .status
}

#[test]
fn sighup_with_a_broken_config_keeps_serving_and_a_good_one_applies() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let c = Collector::start(&config(port, "first.pb", "10ms"));
    assert_eq!(send_log(&addr, 1), 200);

    // Broken: an unknown key. The running pipeline must survive.
    let dir = c.dir.path().display().to_string();
    std::fs::write(
        c.config_path(),
        config(port, "second.pb", "10ms")
            .replace("{dir}", &dir)
            .replace("format: proto", "format: proto, bogus: 1"),
    )
    .unwrap();
    c.signal("HUP");
    c.wait_for_log("reload failed", Duration::from_secs(10));
    assert!(
        c.log()
            .contains("'fileexporter.Config' has invalid keys: bogus"),
        "{}",
        c.log()
    );
    assert_eq!(send_log(&addr, 2), 200);
    let count = |name: &str| read_proto_file(&c.path(name), Signal::Logs).len();
    assert!(wait_until(Duration::from_secs(5), || count("first.pb") == 2));

    // Good: a new output file. The new graph takes over on the same port.
    std::fs::write(
        c.config_path(),
        config(port, "second.pb", "10ms").replace("{dir}", &dir),
    )
    .unwrap();
    c.signal("HUP");
    c.wait_for_log("Configuration reloaded", Duration::from_secs(10));
    assert_eq!(send_log(&addr, 3), 200);
    assert!(wait_until(Duration::from_secs(5), || count("second.pb") == 1));
    assert_eq!(count("first.pb"), 2);
    assert!(c.stop().success());
}

#[test]
fn sigterm_drains_buffered_batches_before_exit() {
    let (port, metrics) = (free_port(), free_port());
    let addr = format!("127.0.0.1:{port}");
    // A batch timeout far longer than the test: only shutdown can flush it.
    let cfg = config(port, "out.pb", "1m").replace(
        "metrics: {level: none}",
        &format!("metrics: {{readers: [{{pull: {{exporter: {{prometheus: {{host: '127.0.0.1', port: {metrics}}}}}}}}}]}}"),
    );
    let mut c = Collector::start(&cfg);
    let client = std::thread::spawn(move || send_log(&addr, 7));
    // Wait until the batch processor holds the two records; with a one
    // minute timeout, only shutdown can send them.
    let metrics_addr = format!("127.0.0.1:{metrics}");
    let buffered = wait_until(Duration::from_secs(10), || {
        let text = http("GET", &metrics_addr, "/metrics", &[], b"")
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .unwrap_or_default();
        metric_value(
            &text,
            "otelcol_processor_incoming_items",
            &[("processor", "batch"), ("otel_signal", "logs")],
        ) == Some(2.0)
    });
    assert!(buffered, "{}", c.log());
    // The file exporter writes before it lets go, so the client is still
    // waiting for its answer: it gets it once shutdown flushed the batch.
    c.signal("TERM");
    assert_eq!(client.join().unwrap(), 200, "{}", c.log());
    assert!(c.wait_exit().success());
    let written = read_proto_file(&c.path("out.pb"), Signal::Logs);
    assert_eq!(
        written.len(),
        1,
        "the buffered batch was written before exit:\n{}",
        c.log()
    );
}

#[test]
fn no_config_runs_the_embedded_default() {
    // The default binds the well-known ports.
    if std::net::TcpListener::bind("127.0.0.1:4318").is_err()
        || std::net::TcpListener::bind("127.0.0.1:4317").is_err()
    {
        panic!("ports 4317/4318 are in use; the embedded default config needs them");
    }
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(ferrotel_bin())
        .arg("--set=service.telemetry.metrics.level=none")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let read = || std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        wait_until(Duration::from_secs(20), || read()
            .contains("Everything is ready")),
        "{}",
        read()
    );
    assert!(read().contains("running the embedded default config"));
    let r = http(
        "POST",
        "127.0.0.1:4318",
        "/v1/logs",
        &[("Content-Type", "application/json")],
        br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"hi"}}]}]}]}"#,
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert!(
        wait_until(Duration::from_secs(5), || read()
            .contains("\"log records\": 1")),
        "{}",
        read()
    );
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    assert!(child.wait().unwrap().success());
}
