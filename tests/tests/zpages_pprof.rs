//! The zpages and pprof extensions on Go's paths: every zpages page
//! answers and shows the running pipelines; a CPU profile taken through
//! `/debug/pprof/profile` is one `go tool pprof` reads.

use ferrotel_e2e::go_collector::GoCollector;
use ferrotel_e2e::{Collector, free_port, http, wait_until};
use std::process::Command;
use std::time::Duration;

#[test]
fn zpages_show_the_service_and_pprof_serves_a_profile_go_tool_pprof_reads() {
    let (zpages, pprof, otlp) = (free_port(), free_port(), free_port());
    let c = Collector::start(&format!(
        "
extensions:
  zpages: {{endpoint: '127.0.0.1:{zpages}'}}
  pprof: {{endpoint: '127.0.0.1:{pprof}', block_profile_fraction: 3, mutex_profile_fraction: 5}}
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:{otlp}'}}
processors:
  batch:
exporters:
  nop:
service:
  extensions: [zpages, pprof]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces/in: {{receivers: [otlp], processors: [batch], exporters: [nop]}}
"
    ));
    let zpages_addr = format!("127.0.0.1:{zpages}");
    let page = |path: &str| {
        let r = http("GET", &zpages_addr, path, &[], b"").unwrap();
        (r.status, String::from_utf8_lossy(&r.body).into_owned())
    };
    for path in [
        "/debug/servicez",
        "/debug/pipelinez",
        "/debug/extensionz",
        "/debug/featurez",
    ] {
        let (status, body) = page(path);
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body.starts_with("<!DOCTYPE html>"), "{path}: {body}");
    }
    let (_, pipelines) = page("/debug/pipelinez");
    assert!(
        pipelines.contains("<td>traces/in</td><td>otlp</td><td>batch</td><td>nop</td>"),
        "{pipelines}"
    );
    let (_, extensions) = page("/debug/extensionz");
    assert!(extensions.contains("<td>zpages</td>") && extensions.contains("<td>pprof</td>"));
    assert_eq!(page("/debug/nothing").0, 404);
    // As Go's when the collector does not trace itself.
    assert_eq!(page("/debug/tracez").0, 404);

    let pprof_addr = format!("127.0.0.1:{pprof}");
    let index = http("GET", &pprof_addr, "/debug/pprof/", &[], b"").unwrap();
    assert_eq!(index.status, 200);
    let profile = http(
        "GET",
        &pprof_addr,
        "/debug/pprof/profile?seconds=1",
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(profile.status, 200, "{}", c.log());
    let file = c.path("cpu.pprof");
    std::fs::write(&file, &profile.body).unwrap();
    let out = Command::new("go")
        .args(["tool", "pprof", "-raw"])
        .arg(&file)
        .env("GOTOOLCHAIN", "local")
        .output()
        .expect("the Go toolchain runs `go tool pprof`");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("PeriodType: cpu nanoseconds"), "{text}");
    assert!(text.contains("samples/count cpu/nanoseconds"), "{text}");
    // Go's other profiles have no counterpart here, and say so.
    assert_eq!(
        http("GET", &pprof_addr, "/debug/pprof/heap", &[], b"")
            .unwrap()
            .status,
        501
    );
}

#[test]
fn zpages_and_pprof_paths_answer_as_go_s() {
    let config = |zpages: u16, pprof: u16| {
        format!(
            "
extensions:
  zpages: {{endpoint: '127.0.0.1:{zpages}'}}
  pprof: {{endpoint: '127.0.0.1:{pprof}'}}
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:0'}}
exporters:
  nop:
service:
  extensions: [zpages, pprof]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [nop]}}
"
        )
    };
    let (go_zpages, go_pprof, our_zpages, our_pprof) =
        (free_port(), free_port(), free_port(), free_port());
    let _go = GoCollector::start(&config(go_zpages, go_pprof), go_zpages);
    assert!(wait_until(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", go_pprof)).is_ok()
    }));
    let _ours = Collector::start(&config(our_zpages, our_pprof));
    let answer = |port: u16, path: &str| {
        let r = http("GET", &format!("127.0.0.1:{port}"), path, &[], b"").unwrap();
        let content_type = r
            .headers
            .iter()
            .find(|(k, _)| k == "content-type")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        (r.status, content_type)
    };
    for path in [
        "/debug/servicez",
        "/debug/pipelinez",
        "/debug/extensionz",
        "/debug/featurez",
        "/debug/tracez",
        "/debug/nothing",
    ] {
        assert_eq!(
            answer(our_zpages, path),
            answer(go_zpages, path),
            "zpages {path}"
        );
    }
    for path in [
        "/debug/pprof/",
        "/debug/pprof/cmdline",
        "/debug/pprof/nothing",
        "/nothing",
    ] {
        assert_eq!(
            answer(our_pprof, path),
            answer(go_pprof, path),
            "pprof {path}"
        );
    }
}
