//! ocb manifests: a component entry with `gomod:` names a Go module; when
//! ferrotel has the same component, the entry means that crate, taken from
//! the ferrotel checkout the builder was built from. So a manifest written
//! for the Go collector's builder builds a ferrotel with the same
//! components, or says which of them ferrotel lacks.
//!
//! Which crate stands in for which Go module is each component's own fact,
//! the `go_module` of its `metadata.yaml`; this module reads those files
//! from the builder's checkout, so there is no table to keep in step.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The folders component crates live in, one level below the checkout.
const KIND_FOLDERS: [&str; 5] = [
    "receivers",
    "processors",
    "exporters",
    "connectors",
    "extensions",
];

/// The only keys of `metadata.yaml` the builder needs.
#[derive(Deserialize)]
struct Facts {
    go_module: Option<String>,
}

/// A component crate of the checkout that stands in for a Go module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Known {
    /// The Go module path.
    pub go_module: String,
    /// The crate's package name (`ferrotel-receiver-otlp`).
    pub crate_name: String,
    /// Its folder, relative to the checkout (`receivers/otlp`).
    pub dir: PathBuf,
}

/// The package name in a `Cargo.toml`: the first `name = "..."` of its
/// `[package]` table, which is where Cargo requires it.
fn package_name(cargo_toml: &str) -> Option<String> {
    let package = cargo_toml.split("[package]").nth(1)?;
    package
        .lines()
        .take_while(|l| !l.trim_start().starts_with('['))
        .find_map(|l| {
            let (key, value) = l.split_once('=')?;
            (key.trim() == "name").then(|| value.trim().trim_matches('"').to_string())
        })
}

/// Every component crate under `checkout` whose `metadata.yaml` names a Go
/// module, sorted by module.
pub(crate) fn components(checkout: &Path) -> Result<Vec<Known>, String> {
    let mut known = Vec::new();
    for kind in KIND_FOLDERS {
        let Ok(entries) = std::fs::read_dir(checkout.join(kind)) else {
            continue;
        };
        for entry in entries.flatten() {
            let dir = entry.path();
            let Ok(text) = std::fs::read_to_string(dir.join("metadata.yaml")) else {
                continue;
            };
            let facts: Facts = serde_yaml_ng::from_str(&text)
                .map_err(|e| format!("{}: {e}", dir.join("metadata.yaml").display()))?;
            let Some(go_module) = facts.go_module else {
                continue;
            };
            let cargo = std::fs::read_to_string(dir.join("Cargo.toml"))
                .map_err(|e| format!("{}: {e}", dir.join("Cargo.toml").display()))?;
            let crate_name = package_name(&cargo)
                .ok_or_else(|| format!("{}: no package name", dir.join("Cargo.toml").display()))?;
            known.push(Known {
                go_module,
                crate_name,
                dir: PathBuf::from(kind).join(entry.file_name()),
            });
        }
    }
    known.sort_by(|a, b| a.go_module.cmp(&b.go_module));
    Ok(known)
}

/// The components of the builder's own checkout, read once.
fn checkout_components() -> Result<&'static [Known], String> {
    static KNOWN: OnceLock<Result<Vec<Known>, String>> = OnceLock::new();
    KNOWN
        .get_or_init(|| components(&crate::manifest::builder_checkout()))
        .as_deref()
        .map_err(Clone::clone)
}

/// The ferrotel crate and workspace folder for a `gomod` value
/// (`"<module> <version>"`), or why there is none.
pub(crate) fn crate_for(gomod: &str) -> Result<(String, PathBuf), String> {
    let module = gomod.split_whitespace().next().unwrap_or("");
    let known = checkout_components()?;
    known
        .iter()
        .find(|k| k.go_module == module)
        .map(|k| (k.crate_name.clone(), k.dir.clone()))
        .ok_or_else(|| {
            let names: Vec<&str> = known.iter().map(|k| k.go_module.as_str()).collect();
            format!(
                "ferrotel has no component for Go module {module:?}; it has: {}",
                names.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_come_from_the_package_table() {
        let toml = "[package]\nname = \"ferrotel-receiver-otlp\"\nversion = \"1\"\n\n[dependencies]\nname = \"x\"\n";
        assert_eq!(
            package_name(toml).as_deref(),
            Some("ferrotel-receiver-otlp")
        );
        assert_eq!(package_name("[dependencies]\nname = \"x\"\n"), None);
    }

    #[test]
    fn every_component_of_the_checkout_names_its_go_module() {
        let known = components(&crate::manifest::builder_checkout()).unwrap();
        let otlp = known
            .iter()
            .find(|k| k.go_module == "go.opentelemetry.io/collector/receiver/otlpreceiver")
            .expect("the otlp receiver");
        assert_eq!(otlp.crate_name, "ferrotel-receiver-otlp");
        assert_eq!(otlp.dir, Path::new("receivers/otlp"));
        assert!(known.len() >= 21, "{known:#?}");
    }
}
