//! TLS with certificates made by `openssl` for each run: the OTLP receiver
//! serves gRPC (requiring client certificates) and HTTP over TLS, and the
//! `otlp_grpc` and `otlp_http` exporters of a second collector reach it
//! with a private CA.

use ferrotel_core::pdata::Signal;
use ferrotel_e2e::{Collector, free_port, http, merged, read_proto_file, sample, wait_until};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// ca.crt, server.{crt,key} for 127.0.0.1/localhost, client.{crt,key}.
fn make_certs(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=ferrotel test CA",
    ]);
    openssl(dir, &ca);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    for name in ["server", "client"] {
        let (key, csr, crt, ext) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.crt"),
            format!("{name}.ext"),
        );
        let mut req = vec!["req"];
        req.extend(ec);
        req.extend(["-keyout", &key, "-out", &csr, "-subj", "/CN=ferrotel-test"]);
        openssl(dir, &req);
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &crt,
                "-days",
                "2",
                "-extfile",
                &ext,
            ],
        );
    }
}

#[test]
fn otlp_over_tls_and_mutual_tls() {
    let certs = tempfile::tempdir().unwrap();
    make_certs(certs.path());
    let c = certs.path().display().to_string();
    let (grpc, https) = (free_port(), free_port());
    let backend = Collector::start(&format!(
        "
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: '127.0.0.1:{grpc}'
        tls: {{cert_file: '{c}/server.crt', key_file: '{c}/server.key', client_ca_file: '{c}/ca.crt'}}
      http:
        endpoint: '127.0.0.1:{https}'
        tls: {{cert_file: '{c}/server.crt', key_file: '{c}/server.key', min_version: '1.3'}}
exporters:
  file: {{path: '{{dir}}/logs.pb', format: proto}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [otlp], exporters: [file]}}
"
    ));

    // Plain HTTP to the TLS port is not served.
    let plain = http(
        "POST",
        &format!("127.0.0.1:{https}"),
        "/v1/logs",
        &[("Content-Type", "application/json")],
        b"{}",
    );
    assert!(plain.map(|r| r.status).unwrap_or(0) != 200);

    let relay_port = free_port();
    let relay = Collector::start(&format!(
        "
receivers: {{otlp: {{protocols: {{http: {{endpoint: '127.0.0.1:{relay_port}'}}}}}}}}
exporters:
  otlp_grpc/mtls:
    endpoint: '127.0.0.1:{grpc}'
    tls: {{ca_file: '{c}/ca.crt', cert_file: '{c}/client.crt', key_file: '{c}/client.key'}}
  otlp_http/tls:
    endpoint: 'https://localhost:{https}'
    tls: {{ca_file: '{c}/ca.crt'}}
  otlp_grpc/nocert:
    endpoint: '127.0.0.1:{grpc}'
    tls: {{ca_file: '{c}/ca.crt'}}
    retry_on_failure: {{enabled: false}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs/mtls: {{receivers: [otlp], exporters: [otlp_grpc/mtls, otlp_http/tls]}}
    logs/nocert: {{receivers: [otlp], exporters: [otlp_grpc/nocert]}}
"
    ));
    let body = sample(Signal::Logs, 5).encode_request();
    let r = http(
        "POST",
        &format!("127.0.0.1:{relay_port}"),
        "/v1/logs",
        &[("Content-Type", "application/x-protobuf")],
        &body,
    )
    .unwrap();
    assert_eq!(r.status, 200);
    // Two copies arrive: over mutual-TLS gRPC and over TLS HTTP. The
    // exporter without a client certificate is refused by the server.
    let out = backend.path("logs.pb");
    let arrived = wait_until(Duration::from_secs(20), || {
        merged(read_proto_file(&out, Signal::Logs), Signal::Logs).item_count() >= 4
    });
    assert!(
        arrived,
        "relay log:\n{}\nbackend log:\n{}",
        relay.log(),
        backend.log()
    );
    relay.wait_for_log("Exporting failed", Duration::from_secs(20));
    assert!(relay.log().contains("otlp_grpc/nocert"), "{}", relay.log());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        merged(read_proto_file(&out, Signal::Logs), Signal::Logs).item_count(),
        4,
        "exactly two copies"
    );
}

#[test]
fn bad_tls_files_are_config_errors() {
    let port = free_port();
    let mut c = Collector::spawn(
        &format!(
            "
receivers: {{otlp: {{protocols: {{grpc: {{endpoint: '127.0.0.1:{port}', tls: {{cert_file: /nonexistent.crt, key_file: /nonexistent.key}}}}}}}}}}
exporters: {{nop: }}
service:
  pipelines:
    logs: {{receivers: [otlp], exporters: [nop]}}
"
        ),
        &[],
    );
    assert!(!c.wait_exit().success());
    let log = c.log();
    // Go's words, naming the file.
    assert!(
        log.contains("failed to load TLS config: failed to load TLS cert and key: open /nonexistent.crt: no such file or directory"),
        "{log}"
    );
}
