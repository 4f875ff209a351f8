//! The crate rules CONTRIBUTING.md and ARCHITECTURE.md state, read from
//! `cargo metadata`: a component depends on `ferrotel-core` and `pkg/`
//! libraries, never on another component and never on `ferrotel-service`
//! (the runtime only distributions need); `pkg/` libraries never depend on
//! components or the service; among components, only OTTL's users build
//! OTTL.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

struct Package {
    name: String,
    folder: String,
    normal_deps: Vec<String>,
}

fn workspace() -> Vec<Package> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(&root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let root = std::fs::canonicalize(root).expect("workspace root");
    meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            let manifest = Path::new(p["manifest_path"].as_str().expect("manifest path"));
            let folder = manifest
                .parent()
                .and_then(|d| d.strip_prefix(&root).ok())
                .map(|d| d.to_string_lossy().into_owned())
                .unwrap_or_default();
            let normal_deps = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str().map(str::to_string))
                .collect();
            Package {
                name: p["name"].as_str().expect("name").to_string(),
                folder,
                normal_deps,
            }
        })
        .collect()
}

const COMPONENT_FOLDERS: [&str; 5] = [
    "receivers/",
    "processors/",
    "exporters/",
    "connectors/",
    "extensions/",
];

fn is_component(p: &Package) -> bool {
    COMPONENT_FOLDERS.iter().any(|f| p.folder.starts_with(f))
}

#[test]
fn components_build_against_core_and_pkg_only() {
    let packages = workspace();
    let components: Vec<&Package> = packages.iter().filter(|p| is_component(p)).collect();
    let component_names: Vec<&str> = components.iter().map(|p| p.name.as_str()).collect();
    assert!(
        components.len() >= 20,
        "found only {} component crates: {component_names:?}",
        components.len()
    );
    println!("{} component crates checked", components.len());
    let mut broken = Vec::new();
    for p in packages
        .iter()
        .filter(|p| is_component(p) || p.folder.starts_with("pkg/"))
    {
        for dep in &p.normal_deps {
            if dep == "ferrotel-service" || component_names.contains(&dep.as_str()) {
                broken.push(format!("{} ({}) depends on {dep}", p.name, p.folder));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn only_the_components_that_run_ottl_build_it() {
    let mut users: Vec<String> = workspace()
        .into_iter()
        .filter(|p| p.normal_deps.iter().any(|d| d == "ferrotel-ottl"))
        .map(|p| p.name)
        .collect();
    users.sort();
    assert_eq!(
        users,
        [
            "ferrotel-connector-routing",
            "ferrotel-processor-filter",
            "ferrotel-processor-transform",
        ],
        "a new OTTL user belongs in this list and in docs/ARCHITECTURE.md"
    );
}

#[test]
fn core_does_not_build_the_runtime() {
    let packages = workspace();
    let core = packages
        .iter()
        .find(|p| p.name == "ferrotel-core")
        .expect("ferrotel-core");
    for crate_name in [
        "clap",
        "tracing-subscriber",
        "ferrotel-ottl",
        "ferrotel-service",
    ] {
        assert!(
            !core.normal_deps.iter().any(|d| d == crate_name),
            "ferrotel-core depends on {crate_name}, which only the service or OTTL needs"
        );
    }
}
