//! A component's facts, kept in one file beside its `Cargo.toml`, as Go
//! keeps them in `metadata.yaml`: its type, the older names it still
//! answers to, the Go module it stands in for, its stability per signal,
//! and how the generic lifecycle test should create it. The factory reads
//! the file at compile time ([`crate::metadata!`]); the builder reads the
//! same files to map an ocb manifest's Go modules to crates; `components`
//! prints them.
//!
//! ```yaml
//! type: otlp_grpc
//! deprecated_aliases: [otlp]
//! go_module: go.opentelemetry.io/collector/exporter/otlpexporter
//! status:
//!   class: exporter
//!   stability:
//!     stable: [traces, metrics, logs]
//! tests:
//!   config: {endpoint: "localhost:4317"}
//! ```
//!
//! Connectors list pairs of signals (`traces_to_metrics`), extensions the
//! word `extension`, as Go's files do.

use super::Kind;
use crate::pdata::Signal;
use serde::Deserialize;
use serde_yaml_ng::Value;
use std::collections::BTreeMap;

/// How mature a component is, with the Go collector's levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stability {
    /// Not ready for use.
    Development,
    /// Usable, config may change.
    Alpha,
    /// Config is settling.
    Beta,
    /// Covered by compatibility guarantees.
    Stable,
    /// Will be removed.
    Deprecated,
}

impl Stability {
    /// The Go collector's spelling, as `components` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Stability::Development => "Development",
            Stability::Alpha => "Alpha",
            Stability::Beta => "Beta",
            Stability::Stable => "Stable",
            Stability::Deprecated => "Deprecated",
        }
    }

    fn parse(level: &str) -> Result<Stability, String> {
        Ok(match level {
            "development" => Stability::Development,
            "alpha" => Stability::Alpha,
            "beta" => Stability::Beta,
            "stable" => Stability::Stable,
            "deprecated" => Stability::Deprecated,
            other => {
                return Err(format!(
                    "status::stability: unknown level {other:?} (valid values: [development alpha beta stable deprecated])"
                ));
            }
        })
    }
}

/// What a factory says about itself.
#[derive(Clone, Copy, Debug)]
pub struct Metadata {
    /// The type in config (`otlp_grpc`).
    pub type_name: &'static str,
    /// Which kind of component it is (`status::class`).
    pub class: Kind,
    /// The crate and version that provide it, as `components` lists it.
    pub module: &'static str,
    /// The Go module of the same component, by which ocb manifests name it.
    pub go_module: Option<&'static str>,
    /// The Go type of its config (`otlpreceiver.Config`), by which Go's
    /// decode errors name the root of the section; `None` names it `''`.
    pub go_config_type: Option<&'static str>,
    /// Older names still accepted, with a deprecation warning (`otlp`).
    pub deprecated_aliases: &'static [&'static str],
    /// The signals supported and how stable each is. Extensions and
    /// connectors list none.
    pub signals: &'static [(Signal, Stability)],
    /// For connectors, the signals they take (as an exporter) and the
    /// signals they emit (as a receiver), with the stability of each pair
    /// (Go's `traces_to_metrics` and so on); empty for other kinds.
    pub connections: &'static [(Signal, Signal, Stability)],
    /// For extensions, their stability; not read for other kinds.
    pub stability: Stability,
    /// The config the generic lifecycle test creates it with, when its
    /// defaults cannot start (Go's `tests::config`); `None` for the
    /// defaults.
    pub test_config: Option<&'static Value>,
    /// The generic lifecycle test only creates it (Go's
    /// `tests::skip_lifecycle`): its start needs a peer the test cannot
    /// offer.
    pub skip_lifecycle: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(rename = "type")]
    type_name: String,
    #[serde(default)]
    deprecated_aliases: Vec<String>,
    #[serde(default)]
    go_module: Option<String>,
    #[serde(default)]
    go_config_type: Option<String>,
    status: Status,
    #[serde(default)]
    tests: Tests,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Status {
    class: String,
    stability: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Tests {
    config: Option<Value>,
    #[serde(default)]
    skip_lifecycle: bool,
}

fn leak<T>(items: Vec<T>) -> &'static [T] {
    Box::leak(items.into_boxed_slice())
}

fn leak_str(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn signal(name: &str) -> Result<Signal, String> {
    Signal::ALL
        .into_iter()
        .find(|s| s.as_str() == name)
        .ok_or_else(|| format!("status::stability: unknown signal {name:?}"))
}

impl Metadata {
    /// Reads a component's `metadata.yaml`. The strings are kept for the
    /// life of the process, so call it once per component
    /// ([`crate::metadata!`] does).
    pub fn from_yaml(text: &str, module: &'static str) -> Result<Metadata, String> {
        let file: File = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
        let class = match file.status.class.as_str() {
            "receiver" => Kind::Receiver,
            "processor" => Kind::Processor,
            "exporter" => Kind::Exporter,
            "connector" => Kind::Connector,
            "extension" => Kind::Extension,
            other => return Err(format!("status::class: unknown class {other:?}")),
        };
        let mut signals = Vec::new();
        let mut connections = Vec::new();
        let mut extension = None;
        for (level, names) in &file.status.stability {
            let level = Stability::parse(level)?;
            for name in names {
                match (class, name.split_once("_to_")) {
                    (Kind::Extension, _) if name == "extension" => extension = Some(level),
                    (Kind::Connector, Some((from, to))) => {
                        connections.push((signal(from)?, signal(to)?, level));
                    }
                    (Kind::Receiver | Kind::Processor | Kind::Exporter, None) => {
                        signals.push((signal(name)?, level));
                    }
                    _ => {
                        return Err(format!(
                            "status::stability: {name:?} does not apply to class {class}"
                        ));
                    }
                }
            }
        }
        let stability = match class {
            Kind::Extension => extension
                .ok_or("status::stability: an extension lists `extension` under its level")?,
            _ if signals.is_empty() && connections.is_empty() => {
                return Err("status::stability: no signal is listed".into());
            }
            // Not read for other kinds.
            _ => Stability::Development,
        };
        Ok(Metadata {
            type_name: leak_str(file.type_name),
            class,
            module,
            go_module: file.go_module.map(leak_str),
            go_config_type: file.go_config_type.map(leak_str),
            deprecated_aliases: leak(file.deprecated_aliases.into_iter().map(leak_str).collect()),
            signals: leak(signals),
            connections: leak(connections),
            stability,
            test_config: file.tests.config.map(|c| &*Box::leak(Box::new(c))),
            skip_lifecycle: file.tests.skip_lifecycle,
        })
    }

    /// The stability for a signal, or `None` when it is not supported.
    pub fn signal_stability(&self, signal: Signal) -> Option<Stability> {
        self.signals
            .iter()
            .find(|(s, _)| *s == signal)
            .map(|(_, st)| *st)
    }

    /// For a connector, the stability of taking `from` and emitting `to`,
    /// or `None` when it does not connect them.
    pub fn connection_stability(&self, from: Signal, to: Signal) -> Option<Stability> {
        self.connections
            .iter()
            .find(|(f, t, _)| *f == from && *t == to)
            .map(|(_, _, st)| *st)
    }
}

/// `"<crate> <version>"` of the crate that calls it, for [`Metadata::module`].
#[macro_export]
macro_rules! module {
    () => {
        concat!(env!("CARGO_PKG_NAME"), " ", env!("CARGO_PKG_VERSION"))
    };
}

/// The [`Metadata`] of the calling crate's `metadata.yaml`, read once per
/// process. A malformed file is a bug in the component, which the generic
/// lifecycle test (`tests/tests/component_lifecycle.rs`) finds, so it
/// panics with the file's name and the error.
#[macro_export]
macro_rules! metadata {
    () => {{
        static METADATA: ::std::sync::OnceLock<$crate::component::Metadata> =
            ::std::sync::OnceLock::new();
        *METADATA.get_or_init(|| {
            $crate::component::Metadata::from_yaml(
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/metadata.yaml")),
                $crate::module!(),
            )
            .unwrap_or_else(|e| panic!("{}/metadata.yaml: {e}", env!("CARGO_MANIFEST_DIR")))
        })
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_of_each_kind_read_as_go_writes_them() {
        let exporter = Metadata::from_yaml(
            "type: otlp_grpc\ndeprecated_aliases: [otlp]\ngo_module: go.opentelemetry.io/collector/exporter/otlpexporter\nstatus:\n  class: exporter\n  stability:\n    stable: [traces, metrics]\n    beta: [logs]\ntests:\n  config: {endpoint: 'localhost:1'}\n",
            "m 1",
        )
        .unwrap();
        assert_eq!(exporter.class, Kind::Exporter);
        assert_eq!(exporter.deprecated_aliases, ["otlp"]);
        assert_eq!(
            exporter.signal_stability(Signal::Logs),
            Some(Stability::Beta)
        );
        assert_eq!(
            exporter.test_config.unwrap()["endpoint"].as_str(),
            Some("localhost:1")
        );

        let connector = Metadata::from_yaml(
            "type: span_metrics\nstatus:\n  class: connector\n  stability:\n    alpha: [traces_to_metrics]\n",
            "m 1",
        )
        .unwrap();
        assert_eq!(
            connector.connection_stability(Signal::Traces, Signal::Metrics),
            Some(Stability::Alpha)
        );
        assert!(connector.signals.is_empty());

        let extension = Metadata::from_yaml(
            "type: health_check\nstatus:\n  class: extension\n  stability:\n    alpha: [extension]\n",
            "m 1",
        )
        .unwrap();
        assert_eq!(extension.stability, Stability::Alpha);
    }

    #[test]
    fn mistakes_are_named() {
        let err = |text: &str| Metadata::from_yaml(text, "m 1").unwrap_err();
        let head = "type: x\nstatus:\n  class: ";
        assert_eq!(
            err(&format!(
                "{head}receiver\n  stability:\n    beta: [spans]\n"
            )),
            "status::stability: unknown signal \"spans\""
        );
        assert_eq!(
            err(&format!("{head}receiver\n  stability:\n    gold: [logs]\n")),
            "status::stability: unknown level \"gold\" (valid values: [development alpha beta stable deprecated])"
        );
        assert_eq!(
            err(&format!(
                "{head}exporter\n  stability:\n    beta: [logs_to_logs]\n"
            )),
            "status::stability: \"logs_to_logs\" does not apply to class exporter"
        );
        assert_eq!(
            err(&format!("{head}sink\n  stability:\n    beta: [logs]\n")),
            "status::class: unknown class \"sink\""
        );
        assert!(
            err("type: x\nstatus: {class: receiver, stability: {}}\ncolour: red\n")
                .contains("colour")
        );
    }
}
