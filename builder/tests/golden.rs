//! The builder's output for a small manifest, its errors for bad ones, and
//! the check that every official distribution is exactly what the builder
//! makes of its manifest.

use ferrotel_builder::generate::{GeneratedFile, package};
use ferrotel_builder::manifest::Manifest;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

const SMALL: &str = r#"
dist:
  name: my-gateway
  description: "An OTLP gateway with a \"debug\" exporter"
  version: 1.2.3
  output_path: ../out/my-gateway
core:
  git: https://example.com/ferrotel.git
  tag: v0.1.0
receivers:
  - crate: ferrotel-receiver-otlp
    path: ../ferrotel/receivers/otlp
exporters:
  - crate: ferrotel-exporter-debug
    version: "0.1"
    features: [pretty]
  - crate: acme-exporter-blob
    git: https://example.com/acme.git
    rev: 0123abc
    factory: acme_exporter_blob::blob::factory
processors:
  - crate: ferrotel-processor-batch
    path: ../ferrotel/processors/batch
patches:
  - crate: tonic
    git: https://github.com/hyperium/tonic
    branch: master
"#;

fn render(files: &[GeneratedFile]) -> String {
    files
        .iter()
        .map(|f| format!("=== {}\n{}", f.path.display(), f.contents))
        .collect()
}

#[test]
fn generated_package_for_a_small_manifest() {
    let m = Manifest::parse(
        SMALL,
        PathBuf::from("manifests"),
        Path::new("/src/ferrotel"),
    )
    .unwrap();
    insta::assert_snapshot!(render(&package(&m, Path::new("/work"))));
}

/// A real ocb manifest (the one that builds the Go oracle) builds a ferrotel
/// with the same components, from the builder's checkout.
#[test]
fn an_ocb_manifest_maps_go_modules_to_ferrotel_crates() {
    let text =
        std::fs::read_to_string(workspace().join("tests/go-oracle/builder-config.yaml")).unwrap();
    let m = Manifest::parse(&text, PathBuf::from("oracle"), Path::new("/src/ferrotel")).unwrap();
    insta::assert_snapshot!(render(&package(&m, Path::new("/work"))));
}

fn error(text: &str) -> String {
    Manifest::parse(text, PathBuf::from("."), Path::new("/src/ferrotel")).unwrap_err()
}

#[test]
fn manifest_errors() {
    let cases = [
        (
            "unknown key",
            "dist: {name: x}\nreceivers:\n  - crate: a\n    path: a\n    fatcory: a::f\n",
        ),
        ("missing dist", "receivers: []\n"),
        (
            "missing crate",
            "dist: {name: x}\nreceivers:\n  - path: a\n",
        ),
        ("no source", "dist: {name: x}\nreceivers:\n  - crate: a\n"),
        (
            "two sources",
            "dist: {name: x}\nexporters:\n  - {crate: a, path: a, version: '1'}\n",
        ),
        (
            "pin without git",
            "dist: {name: x}\nexporters:\n  - {crate: a, path: a, rev: abc}\n",
        ),
        (
            "two pins",
            "dist: {name: x}\nexporters:\n  - {crate: a, git: u, rev: abc, tag: v1}\n",
        ),
        (
            "listed twice",
            "dist: {name: x}\nexporters:\n  - {crate: a, path: a}\n  - {crate: a, path: b}\n",
        ),
        ("no components", "dist: {name: x}\n"),
        (
            "bad name",
            "dist: {name: 'my dist'}\nreceivers: [{crate: a, path: a}]\n",
        ),
        (
            "core twice",
            "dist: {name: x, ferrotel_version: '0.1'}\ncore: {path: c}\nreceivers: [{crate: a, path: a}]\n",
        ),
        ("wrong type", "dist: {name: x}\nreceivers: {crate: a}\n"),
        (
            "go module ferrotel lacks",
            "dist: {name: x}\nreceivers:\n  - gomod: github.com/open-telemetry/opentelemetry-collector-contrib/receiver/hostmetricsreceiver v0.165.0\n",
        ),
        (
            "crate in an ocb manifest",
            "dist: {name: x}\nreceivers:\n  - gomod: go.opentelemetry.io/collector/receiver/otlpreceiver v0.165.0\nexporters:\n  - {crate: a, path: a}\n",
        ),
        (
            "removed otelcol_version",
            "dist: {name: x, otelcol_version: 0.100.0}\nreceivers: [{crate: a, path: a}]\n",
        ),
    ];
    let rendered: String = cases
        .iter()
        .map(|(what, text)| format!("{what}: {}\n", error(text)))
        .collect();
    insta::assert_snapshot!(rendered);
}

#[test]
fn load_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("manifest.yaml");
    std::fs::write(&file, "dist: {name: x, bogus: 1}\n").unwrap();
    let e = Manifest::load(&file).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}: dist: unknown field `bogus`", file.display())),
        "{e}"
    );
    assert!(e.contains("line 1"), "{e}");
}

/// The checked-in distributions are the builder's output: regenerate each
/// from its manifest and compare. On a difference, run
/// `cargo run -p ferrotel-builder -- --config distributions/<name>/manifest.yaml --skip-compilation`.
#[test]
fn distributions_are_what_the_builder_generates() {
    let root = workspace();
    let mut checked = 0;
    for entry in std::fs::read_dir(root.join("distributions")).unwrap() {
        let dir = entry.unwrap().path();
        let manifest_file = dir.join("manifest.yaml");
        if !manifest_file.exists() {
            continue;
        }
        let m = Manifest::load(&manifest_file).unwrap();
        for file in package(&m, Path::new("/")) {
            let on_disk = std::fs::read_to_string(dir.join(&file.path)).unwrap_or_default();
            assert_eq!(
                on_disk,
                file.contents,
                "{} differs from what the builder generates from {}",
                dir.join(&file.path).display(),
                manifest_file.display()
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 3, "ferrotel, ferrotel-otlp and ferrotel-k8s");
}
