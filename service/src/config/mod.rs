//! Loading the collector's YAML config, the Go collector's way.
//!
//! [`load`] resolves URIs and `--set` flags into one tree ([`resolve`]),
//! decodes the top level strictly, checks every component against its
//! factory (unknown types and keys are errors at load time), then validates
//! the service: pipelines, references, signals. Error texts follow the Go
//! collector's, and name the file a bad section came from.

mod resolve;
mod telemetry;

pub use resolve::{ResolveError, Source, expand, merge, resolve};
use telemetry::RawTelemetry;
pub use telemetry::{LogLevel, LogsConfig, MetricsConfig, TelemetryConfig};

use ferrotel_core::component::{ComponentId, Factories, Kind, PipelineId, SIGNAL_NOT_SUPPORTED};
use ferrotel_core::config::{DecodeError, decode_component, decode_tree};
use ferrotel_core::pdata::Signal;
use serde::Deserialize;
use serde_yaml_ng::{Mapping, Value};
use std::collections::BTreeSet;
use std::fmt;

/// A component as configured.
#[derive(Debug, Clone)]
pub struct ComponentEntry {
    /// The id as written (an alias type stays as written, as in Go).
    pub id: ComponentId,
    /// The registered factory type it resolved to.
    pub factory: &'static str,
    /// The raw config, decoded again by the factory at creation.
    pub raw: Value,
}

/// One pipeline's lists as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct RawPipeline {
    receivers: Vec<String>,
    processors: Vec<String>,
    exporters: Vec<String>,
}

/// Where a pipeline's data comes from or goes: a receiver (in `receivers`)
/// or an exporter (in `exporters`), or a connector in either place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// A receiver or an exporter, by the list it is in.
    Component(ComponentId),
    /// A connector.
    Connector(ComponentId),
}

impl Link {
    /// The id, whichever kind it is.
    pub fn id(&self) -> &ComponentId {
        match self {
            Link::Component(id) | Link::Connector(id) => id,
        }
    }

    /// The connector's id, when it is one.
    pub fn connector(&self) -> Option<&ComponentId> {
        match self {
            Link::Connector(id) => Some(id),
            Link::Component(_) => None,
        }
    }
}

/// One pipeline, its references checked and parsed when the config loads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pipeline {
    /// Receivers and connectors feeding it.
    pub receivers: Vec<Link>,
    /// Processors, in order.
    pub processors: Vec<ComponentId>,
    /// Exporters and connectors it feeds.
    pub exporters: Vec<Link>,
}

/// The loaded, validated config.
#[derive(Debug, Clone)]
pub struct Config {
    /// `receivers`, in file order.
    pub receivers: Vec<ComponentEntry>,
    /// `processors`.
    pub processors: Vec<ComponentEntry>,
    /// `exporters`.
    pub exporters: Vec<ComponentEntry>,
    /// `connectors`.
    pub connectors: Vec<ComponentEntry>,
    /// `extensions`.
    pub extensions: Vec<ComponentEntry>,
    /// `service::extensions`, in start order.
    pub service_extensions: Vec<ComponentId>,
    /// `service::pipelines`, in file order.
    pub pipelines: Vec<(PipelineId, Pipeline)>,
    /// `service::telemetry`.
    pub telemetry: TelemetryConfig,
    /// The merged tree, for `print-config`.
    pub merged: Value,
}

impl Config {
    /// The entry for an id in a section.
    pub fn entry(&self, kind: Kind, id: &ComponentId) -> Option<&ComponentEntry> {
        let list = match kind {
            Kind::Receiver => &self.receivers,
            Kind::Processor => &self.processors,
            Kind::Exporter => &self.exporters,
            Kind::Extension => &self.extensions,
            Kind::Connector => &self.connectors,
        };
        list.iter().find(|e| &e.id == id)
    }
}

/// Why a config was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A URI could not be read or parsed.
    Resolve(ResolveError),
    /// A section does not decode (unknown key or type, wrong value type).
    Unmarshal {
        /// The top-level section, when the error is inside one.
        section: Option<&'static str>,
        /// The decode error text.
        message: String,
        /// The source the offending section came from.
        source: Option<String>,
    },
    /// Decoded, but not a runnable config.
    Invalid {
        /// The validation error text.
        message: String,
        /// The source the offending section came from.
        source: Option<String>,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match self {
            ConfigError::Resolve(e) => {
                return write!(
                    f,
                    "failed to get config: cannot resolve the configuration: {e}"
                );
            }
            ConfigError::Unmarshal {
                section,
                message,
                source,
            } => {
                f.write_str("failed to get config: cannot unmarshal the configuration: ")?;
                match section {
                    Some(s) => write!(
                        f,
                        "decoding failed due to the following error(s):\n\n'{s}' {message}"
                    )?,
                    None => f.write_str(message)?,
                }
                source
            }
            ConfigError::Invalid { message, source } => {
                f.write_str(message)?;
                source
            }
        };
        match source {
            Some(src) => write!(f, "\n(in {src})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawConfig {
    receivers: Option<Mapping>,
    processors: Option<Mapping>,
    exporters: Option<Mapping>,
    connectors: Option<Mapping>,
    extensions: Option<Mapping>,
    service: RawService,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawService {
    extensions: Vec<String>,
    pipelines: Option<Mapping>,
    telemetry: RawTelemetry,
}

/// Resolves, decodes and validates a config from `--config` URIs and
/// `--set` flags.
pub fn load(
    factories: &Factories,
    uris: &[String],
    sets: &[String],
) -> Result<Config, ConfigError> {
    let (merged, sources) = resolve(uris, sets).map_err(ConfigError::Resolve)?;
    from_value(factories, merged, &sources)
}

/// Decodes and validates an already merged tree.
pub fn from_value(
    factories: &Factories,
    merged: Value,
    sources: &[Source],
) -> Result<Config, ConfigError> {
    let raw: RawConfig = decode_tree(&merged).map_err(|e| {
        // Name the file that holds the first offending key.
        let path: Vec<String> = match &e {
            DecodeError::InvalidKeys(groups) => groups
                .iter()
                .next()
                .map(|(parent, keys)| {
                    parent
                        .split('.')
                        .filter(|p| !p.is_empty())
                        .map(str::to_string)
                        .chain(keys.first().cloned())
                        .collect()
                })
                .unwrap_or_default(),
            DecodeError::Type { path, .. } => path.split('.').map(str::to_string).collect(),
            DecodeError::Invalid(_) => Vec::new(),
        };
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        ConfigError::Unmarshal {
            section: None,
            message: e.to_string(),
            source: origin_of(sources, &path),
        }
    })?;
    let origin = |path: &[&str]| origin_of(sources, path);

    let mut pending_invalid = None;
    let mut section =
        |kind: Kind, map: &Option<Mapping>| -> Result<Vec<ComponentEntry>, ConfigError> {
            let mut out = Vec::new();
            for (key, value) in map.iter().flatten() {
                let key_str = key.as_str().map(str::to_string).unwrap_or_else(|| {
                    serde_yaml_ng::to_string(key)
                        .unwrap_or_default()
                        .trim()
                        .to_string()
                });
                let unmarshal = |message: String| ConfigError::Unmarshal {
                    section: Some(kind.section()),
                    message,
                    source: origin(&[kind.section(), &key_str]),
                };
                let id = ComponentId::parse(&key_str).map_err(|e| unmarshal(e.to_string()))?;
                let Some((factory, aliased)) = factories.resolve(kind, id.kind()) else {
                    if kind == Kind::Exporter && id.kind() == "logging" {
                        return Err(unmarshal(
                        "the logging exporter has been deprecated, use the debug exporter instead"
                            .into(),
                    ));
                    }
                    return Err(unmarshal(format!(
                        "unknown type: {:?} for id: {:?} (valid values: [{}])",
                        id.kind(),
                        id.to_string(),
                        factories.valid_types(kind).join(" ")
                    )));
                };
                if aliased {
                    tracing::warn!(
                        "{:?} alias is deprecated; use {:?} instead",
                        id.kind(),
                        factory
                    );
                }
                let checked = match kind {
                    Kind::Receiver => factories.receivers[factory].validate(value),
                    Kind::Processor => factories.processors[factory].validate(value),
                    Kind::Exporter => factories.exporters[factory].validate(value),
                    Kind::Extension => factories.extensions[factory].validate(value),
                    Kind::Connector => factories.connectors[factory].validate(value),
                };
                match checked {
                    Err(DecodeError::Invalid(invalid)) => {
                        pending_invalid.get_or_insert(ConfigError::Invalid {
                            message: invalid.under(&format!("{}::{id}", kind.section())),
                            source: origin(&[kind.section(), &key_str]),
                        });
                    }
                    Err(e) => {
                        let metadata = match kind {
                            Kind::Receiver => factories.receivers[factory].metadata(),
                            Kind::Processor => factories.processors[factory].metadata(),
                            Kind::Exporter => factories.exporters[factory].metadata(),
                            Kind::Extension => factories.extensions[factory].metadata(),
                            Kind::Connector => factories.connectors[factory].metadata(),
                        };
                        return Err(unmarshal(format!(
                            "error reading configuration for {:?}: {}",
                            id.to_string(),
                            e.describe(metadata.go_config_type.unwrap_or_default())
                        )));
                    }
                    Ok(()) => {}
                }
                out.push(ComponentEntry {
                    id,
                    factory,
                    raw: value.clone(),
                });
            }
            Ok(out)
        };

    // Go decodes every section and reports the first error of each, in
    // its field order, as one list.
    let receivers = section(Kind::Receiver, &raw.receivers);
    let processors = section(Kind::Processor, &raw.processors);
    let exporters = section(Kind::Exporter, &raw.exporters);
    let connectors = section(Kind::Connector, &raw.connectors);
    let extensions = section(Kind::Extension, &raw.extensions);
    let failed: Vec<&ConfigError> = [
        &receivers,
        &processors,
        &exporters,
        &connectors,
        &extensions,
    ]
    .into_iter()
    .filter_map(|r| r.as_ref().err())
    .collect();
    if failed.len() > 1 {
        let lines: Vec<String> = failed
            .iter()
            .map(|e| match e {
                ConfigError::Unmarshal {
                    section: Some(s),
                    message,
                    ..
                } => format!("'{s}' {message}"),
                other => other.to_string(),
            })
            .collect();
        let source = match failed[0] {
            ConfigError::Unmarshal { source, .. } => source.clone(),
            _ => None,
        };
        return Err(ConfigError::Unmarshal {
            section: None,
            message: format!(
                "decoding failed due to the following error(s):\n\n{}",
                lines.join("\n")
            ),
            source,
        });
    }
    let (receivers, processors, exporters, connectors, extensions) = (
        receivers?,
        processors?,
        exporters?,
        connectors?,
        extensions?,
    );

    let telemetry = raw.service.telemetry.decode().map_err(|e| {
        let section = match e.section {
            "logs" => "service.telemetry.logs",
            _ => "service.telemetry.metrics",
        };
        ConfigError::Unmarshal {
            section: Some(section),
            message: e.message,
            source: origin(&["service", "telemetry", e.section]),
        }
    })?;

    let mut raw_pipelines = Vec::new();
    for (key, value) in raw.service.pipelines.iter().flatten() {
        let key = key.as_str().unwrap_or_default();
        let unmarshal = |message: String| ConfigError::Unmarshal {
            section: Some("service"),
            message,
            source: origin(&["service", "pipelines", key]),
        };
        let id = PipelineId::parse(key)
            .map_err(|e| unmarshal(format!("error decoding 'pipelines': {e}")))?;
        let pipeline: RawPipeline = decode_component(value)
            .map_err(|e| unmarshal(format!("error decoding 'pipelines[{key}]': {e}")))?;
        raw_pipelines.push((id, pipeline));
    }

    let config = Config {
        receivers,
        processors,
        exporters,
        connectors,
        extensions,
        service_extensions: Vec::new(),
        pipelines: Vec::new(),
        telemetry,
        merged,
    };
    if let Some(e) = pending_invalid {
        return Err(e);
    }
    validate(
        factories,
        config,
        raw_pipelines,
        &raw.service.extensions,
        sources,
    )
}

fn validate(
    factories: &Factories,
    mut config: Config,
    raw_pipelines: Vec<(PipelineId, RawPipeline)>,
    service_extensions: &[String],
    sources: &[Source],
) -> Result<Config, ConfigError> {
    let invalid = |message: String, path: &[&str]| ConfigError::Invalid {
        message,
        source: origin_of(sources, path),
    };
    if config.receivers.is_empty() {
        return Err(invalid(
            "no receiver configuration specified in config".into(),
            &[],
        ));
    }
    if config.exporters.is_empty() {
        return Err(invalid(
            "no exporter configuration specified in config".into(),
            &[],
        ));
    }
    for c in &config.connectors {
        let id = c.id.to_string();
        for (kind, other) in [(Kind::Exporter, "exporter"), (Kind::Receiver, "receiver")] {
            if config.entry(kind, &c.id).is_some() {
                return Err(invalid(
                    format!(
                        "connectors::{id}: ambiguous ID: Found both {id:?} {other} and {id:?} connector. Change one of the components' IDs to eliminate ambiguity (e.g. rename {id:?} connector to \"{id}/connector\")"
                    ),
                    &["connectors", &id],
                ));
            }
        }
    }
    for name in service_extensions {
        let id = ComponentId::parse(name)
            .ok()
            .filter(|id| config.entry(Kind::Extension, id).is_some());
        match id {
            Some(id) => config.service_extensions.push(id),
            None => {
                return Err(invalid(
                    format!(
                        "service::extensions: references extension {name:?} which is not configured"
                    ),
                    &["service", "extensions"],
                ));
            }
        }
    }
    if raw_pipelines.is_empty() {
        return Err(invalid(
            "service::pipelines: service must have at least one pipeline".into(),
            &["service"],
        ));
    }
    if !crate::featuregate::is_enabled(crate::featuregate::PROFILES_SUPPORT)
        && let Some((pid, _)) = raw_pipelines
            .iter()
            .find(|(pid, _)| pid.signal == Signal::Profiles)
    {
        return Err(invalid(
            format!(
                "service::pipelines: pipeline \"{pid}\": profiling signal support is at alpha level, gated under the \"{}\" feature gate",
                crate::featuregate::PROFILES_SUPPORT
            ),
            &["service", "pipelines", &pid.to_string()],
        ));
    }
    for (pid, pipeline) in &raw_pipelines {
        let pid_str = pid.to_string();
        let path = ["service", "pipelines", pid_str.as_str()];
        let at = |message: String| invalid(format!("service::pipelines::{pid}: {message}"), &path);
        if pipeline.receivers.is_empty() {
            return Err(at("must have at least one receiver".into()));
        }
        if pipeline.exporters.is_empty() {
            return Err(at("must have at least one exporter".into()));
        }
        let [mut receivers, mut processors, mut exporters] = [Vec::new(), Vec::new(), Vec::new()];
        for (kind, names, links) in [
            (Kind::Receiver, &pipeline.receivers, &mut receivers),
            (Kind::Processor, &pipeline.processors, &mut processors),
            (Kind::Exporter, &pipeline.exporters, &mut exporters),
        ] {
            let mut seen = BTreeSet::new();
            for name in names {
                let id = ComponentId::parse(name).ok();
                let entry = id.as_ref().and_then(|id| config.entry(kind, id));
                // Receivers and exporters may also be connectors.
                let connector = id
                    .as_ref()
                    .filter(|_| kind != Kind::Processor && entry.is_none())
                    .and_then(|id| config.entry(Kind::Connector, id));
                let Some(entry) = entry.or(connector) else {
                    return Err(at(format!(
                        "references {kind} {name:?} which is not configured"
                    )));
                };
                if !seen.insert(name) {
                    return Err(at(format!("references {kind} {name:?} multiple times")));
                }
                if connector.is_some() {
                    // Which signals a connector takes and emits is checked
                    // over all pipelines at once (`check_connectors`).
                    links.push(Link::Connector(entry.id.clone()));
                    continue;
                }
                let metadata = match kind {
                    Kind::Receiver => factories.receivers[entry.factory].metadata(),
                    Kind::Processor => factories.processors[entry.factory].metadata(),
                    _ => factories.exporters[entry.factory].metadata(),
                };
                if metadata.signal_stability(pid.signal).is_none() {
                    // Go finds this when it builds the graph.
                    let what = match kind {
                        Kind::Processor => format!("processor, in pipeline \"{pid}\""),
                        _ => format!("{kind} for data type {:?}", pid.signal.as_str()),
                    };
                    return Err(invalid(
                        format!(
                            "failed to build pipelines: failed to create {name:?} {what}: {SIGNAL_NOT_SUPPORTED}"
                        ),
                        &path,
                    ));
                }
                links.push(Link::Component(entry.id.clone()));
            }
        }
        config.pipelines.push((
            pid.clone(),
            Pipeline {
                receivers,
                processors: processors.iter().map(|l| l.id().clone()).collect(),
                exporters,
            },
        ));
    }
    check_connectors(factories, &config)
        .map_err(|message| invalid(message, &["service", "pipelines"]))?;
    Ok(config)
}

/// Each connector must take, as the exporter of some pipeline, a signal it
/// can emit into a pipeline that lists it as a receiver, and the other way
/// round, in Go's words (its graph's `createNodes`).
fn check_connectors(factories: &Factories, config: &Config) -> Result<(), String> {
    for c in &config.connectors {
        let name = c.id.to_string();
        let metadata = factories.connectors[c.factory].metadata();
        let uses = |exporter: bool| -> Vec<&PipelineId> {
            config
                .pipelines
                .iter()
                .filter(|(_, p)| {
                    let list = if exporter { &p.exporters } else { &p.receivers };
                    list.iter().any(|l| l.connector() == Some(&c.id))
                })
                .map(|(id, _)| id)
                .collect()
        };
        let (as_exporter, as_receiver) = (uses(true), uses(false));
        let signals = |list: &[&PipelineId]| {
            let mut s: Vec<Signal> = list.iter().map(|p| p.signal).collect();
            s.sort_unstable();
            s.dedup();
            s
        };
        let (from, to) = (signals(&as_exporter), signals(&as_receiver));
        let connects = |f: Signal, t: Signal| metadata.connection_stability(f, t).is_some();
        for &f in &from {
            if !to.iter().any(|&t| connects(f, t)) {
                return Err(format!(
                    "connector {name:?} used as exporter in [{}] pipeline but not used in any supported receiver pipeline",
                    names_of(&as_exporter, f)
                ));
            }
        }
        for &t in &to {
            if !from.iter().any(|&f| connects(f, t)) {
                return Err(format!(
                    "connector {name:?} used as receiver in [{}] pipeline but not used in any supported exporter pipeline",
                    names_of(&as_receiver, t)
                ));
            }
        }
    }
    Ok(())
}

fn names_of(pipelines: &[&PipelineId], signal: Signal) -> String {
    pipelines
        .iter()
        .filter(|p| p.signal == signal)
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The last source that sets the given path: the one whose value won the
/// merge, so the one to name in an error. When no source sets it (a
/// missing section), every config source is named.
fn origin_of(sources: &[Source], path: &[&str]) -> Option<String> {
    let setting = sources
        .iter()
        .rev()
        .find(|s| {
            let mut v = &s.value;
            for key in path {
                match v.get(*key) {
                    Some(next) => v = next,
                    None => return false,
                }
            }
            true
        })
        .map(|s| s.uri.clone());
    setting.or_else(|| {
        let files: Vec<&str> = sources
            .iter()
            .filter(|s| !s.uri.starts_with("--set"))
            .map(|s| s.uri.as_str())
            .collect();
        (!files.is_empty()).then(|| files.join(", "))
    })
}
