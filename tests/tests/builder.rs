//! ferrotel-builder end to end: a manifest outside the workspace naming
//! only the otlp receiver and the debug exporter (by `path:`) becomes a
//! binary that lists exactly those components, carries OTLP through, and
//! refuses a config naming a component it left out.

use ferrotel_e2e::{Collector, ferrotel_bin, free_port, post, workspace_root};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn builder_bin() -> std::path::PathBuf {
    ferrotel_bin().with_file_name("ferrotel-builder")
}

#[test]
fn a_custom_distribution_from_a_manifest_outside_the_workspace() {
    let root = workspace_root();
    let work = tempfile::tempdir().unwrap();
    let r = root.display();
    let manifest = work.path().join("manifest.yaml");
    std::fs::write(
        &manifest,
        format!(
            "
dist:
  name: my-gateway
  description: OTLP in, debug out
  version: 2.0.0
  output_path: ./dist
  debug_compilation: true
core: {{path: {r}/core}}
receivers:
  - {{crate: ferrotel-receiver-otlp, path: {r}/receivers/otlp}}
exporters:
  - {{crate: ferrotel-exporter-debug, path: {r}/exporters/debug}}
"
        ),
    )
    .unwrap();
    let builder = |args: &[&str]| {
        Command::new(builder_bin())
            .arg(format!("--config={}", manifest.display()))
            .args(args)
            .current_dir(work.path())
            // The workspace's compiled dependencies are reused.
            .env("CARGO_TARGET_DIR", root.join("target"))
            .output()
            .expect("run ferrotel-builder (cargo build -p ferrotel-builder)")
    };
    let generated = builder(&["--skip-compilation"]);
    assert!(generated.status.success(), "{generated:?}");
    // The workspace's lock file, so the same dependency versions are used.
    std::fs::copy(root.join("Cargo.lock"), work.path().join("dist/Cargo.lock")).unwrap();
    let built = builder(&["--skip-generate"]);
    let stdout = String::from_utf8_lossy(&built.stdout);
    assert!(
        built.status.success(),
        "build failed: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    let bin = Path::new(stdout.trim());
    assert!(bin.ends_with("debug/my-gateway"), "{stdout}");

    // `components` lists exactly what the manifest names.
    let components = Command::new(bin).arg("components").output().unwrap();
    let text = String::from_utf8_lossy(&components.stdout);
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- name: "))
        .collect();
    assert_eq!(names, ["otlp", "debug"], "{text}");
    assert!(
        text.contains("command: my-gateway") && text.contains("version: 2.0.0"),
        "{text}"
    );

    // OTLP in, debug out.
    let port = free_port();
    let c = Collector::spawn_bin(
        bin,
        &format!(
            "
receivers: {{otlp: {{protocols: {{http: {{endpoint: '127.0.0.1:{port}'}}}}}}}}
exporters: {{debug: {{verbosity: detailed}}}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines: {{logs: {{receivers: [otlp], exporters: [debug]}}}}
"
        ),
        &[],
    );
    c.wait_for_log("Everything is ready", Duration::from_secs(20));
    let body = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"through-my-gateway"}}]}]}]}"#;
    let answer = post(
        &format!("127.0.0.1:{port}"),
        "/v1/logs",
        "application/json",
        body.as_bytes(),
    );
    assert_eq!(answer.status, 200);
    c.wait_for_log("through-my-gateway", Duration::from_secs(10));

    // A component left out of the manifest is an unknown type.
    let missing = Collector::spawn_bin(
        bin,
        "
receivers: {otlp: {protocols: {http: {endpoint: '127.0.0.1:0'}}}}
exporters: {file: {path: /tmp/never}}
service: {pipelines: {logs: {receivers: [otlp], exporters: [file]}}}
",
        &[],
    );
    missing.wait_for_log(
        r#"unknown type: "file" for id: "file" (valid values: [debug])"#,
        Duration::from_secs(10),
    );
}

#[test]
fn a_factory_that_does_not_exist_is_named() {
    let root = workspace_root();
    let work = tempfile::tempdir().unwrap();
    let r = root.display();
    let manifest = work.path().join("manifest.yaml");
    std::fs::write(
        &manifest,
        format!(
            "
dist: {{name: broken-dist, output_path: ./dist, debug_compilation: true}}
core: {{path: {r}/core}}
receivers:
  - {{crate: ferrotel-receiver-otlp, path: {r}/receivers/otlp, factory: ferrotel_receiver_otlp::no_such_factory}}
exporters:
  - {{crate: ferrotel-exporter-nope, path: {r}/exporters/nope}}
"
        ),
    )
    .unwrap();
    let out = Command::new(builder_bin())
        .arg(format!("--config={}", manifest.display()))
        .current_dir(work.path())
        .env("CARGO_TARGET_DIR", root.join("target"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Error: component crate ferrotel-exporter-nope cannot be found"),
        "{stderr}"
    );

    // With the crate fixed, the wrong factory path is what is reported.
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace(
            "ferrotel-exporter-nope, path: ",
            "ferrotel-exporter-nop, path: ",
        )
        .replace("exporters/nope", "exporters/nop");
    std::fs::write(&manifest, text).unwrap();
    std::fs::copy(root.join("Cargo.lock"), work.path().join("dist/Cargo.lock")).unwrap();
    let out = Command::new(builder_bin())
        .arg(format!("--config={}", manifest.display()))
        .current_dir(work.path())
        .env("CARGO_TARGET_DIR", root.join("target"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "Error: component crate ferrotel-receiver-otlp does not export `ferrotel_receiver_otlp::no_such_factory`"
        ),
        "{stderr}"
    );
}

/// Each official distribution's `components` lists the crates of its
/// manifest, no more and no fewer.
#[test]
fn official_distributions_list_exactly_their_manifest_components() {
    let root = workspace_root();
    for name in ["ferrotel", "ferrotel-otlp", "ferrotel-k8s"] {
        let manifest =
            std::fs::read_to_string(root.join("distributions").join(name).join("manifest.yaml"))
                .unwrap();
        let mut wanted: Vec<String> = manifest
            .lines()
            .filter_map(|l| l.split("crate: ").nth(1))
            .map(|rest| {
                rest.split([',', '}'])
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
            .collect();
        wanted.sort();
        let bin = ferrotel_bin().with_file_name(name);
        let out = Command::new(&bin)
            .arg("components")
            .output()
            .unwrap_or_else(|e| panic!("{}: {e} (scripts/test.sh builds it)", bin.display()));
        let text = String::from_utf8_lossy(&out.stdout);
        // Components, not the confmap providers listed after them.
        let mut listed: Vec<String> = text
            .lines()
            .take_while(|l| !l.starts_with("providers:"))
            .filter_map(|l| l.trim().strip_prefix("module: "))
            .map(|m| m.split(' ').next().unwrap_or("").to_string())
            .collect();
        listed.sort();
        assert_eq!(listed, wanted, "{name}: {text}");
        assert!(text.contains(&format!("command: {name}")), "{text}");
    }
}
