//! The manifest: what a distribution is called and which component crates
//! it is made of, each with where Cargo should get it.
//!
//! In the spirit of ocb's manifest: `dist` describes the binary, and the
//! `receivers`, `processors`, `exporters`, `extensions` and `connectors`
//! lists name crates. Each entry takes its crate from exactly one of
//! `path` (relative to the manifest), `version` (crates.io) or `git` (with
//! at most one of `rev`, `tag`, `branch`). `patches` become Cargo's
//! `[patch.crates-io]`, like ocb's `replaces`.

use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// A parsed and checked manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The distribution itself.
    pub dist: Dist,
    /// Where `ferrotel-core` comes from; `ferrotel-service` comes from the
    /// same place ([`Source::service`]).
    pub core: Source,
    /// Components by kind, in manifest order.
    pub components: Vec<(Kind, Component)>,
    /// `[patch.crates-io]` entries.
    pub patches: Vec<Patch>,
    /// The directory relative paths in the manifest start from.
    pub base: PathBuf,
}

/// The `dist` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dist {
    /// Package and binary name; the `command` in build info.
    pub name: String,
    /// One line for `--help`.
    #[serde(default)]
    pub description: String,
    /// The distribution's version.
    #[serde(default = "default_version")]
    pub version: String,
    /// Where the package is written, relative to the manifest.
    #[serde(default = "default_output_path")]
    pub output_path: PathBuf,
    /// `ferrotel-core`'s version on crates.io; the builder's own when
    /// neither this nor `core` is given.
    #[serde(default)]
    pub ferrotel_version: Option<String>,
    /// Build without `--release`, as ocb's `debug_compilation`.
    #[serde(default)]
    pub debug_compilation: bool,
    // ocb keys about the Go build: accepted so ocb manifests load.
    #[serde(default, rename = "module")]
    _module: serde::de::IgnoredAny,
    #[serde(default, rename = "go")]
    _go: serde::de::IgnoredAny,
    #[serde(default, rename = "build_tags")]
    _build_tags: serde::de::IgnoredAny,
    #[serde(default, rename = "cgo_enabled")]
    _cgo_enabled: serde::de::IgnoredAny,
}

fn default_version() -> String {
    "0.1.0".into()
}

fn default_output_path() -> PathBuf {
    PathBuf::from("_build")
}

/// The kinds of component a manifest lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `receivers`
    Receiver,
    /// `processors`
    Processor,
    /// `exporters`
    Exporter,
    /// `connectors`
    Connector,
    /// `extensions`
    Extension,
}

impl Kind {
    /// The method of `Factories` that registers this kind.
    pub fn register_method(self) -> &'static str {
        match self {
            Kind::Receiver => "receiver",
            Kind::Processor => "processor",
            Kind::Exporter => "exporter",
            Kind::Connector => "connector",
            Kind::Extension => "extension",
        }
    }
}

/// Where Cargo gets a crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A local directory, relative to the manifest.
    Path(PathBuf),
    /// A version requirement on crates.io.
    Version(String),
    /// A git repository, optionally pinned.
    Git {
        /// The repository URL.
        url: String,
        /// `rev`, `tag` or `branch` and its value.
        pin: Option<(&'static str, String)>,
    },
}

impl Source {
    /// Where `ferrotel-service` is, given this source of `ferrotel-core`:
    /// the `service` folder beside a core path (the two are folders of one
    /// checkout), the same version on crates.io, the same repository.
    pub fn service(&self) -> Source {
        match self {
            Source::Path(core) => Source::Path(
                core.parent()
                    .map(|checkout| checkout.join("service"))
                    .unwrap_or_else(|| PathBuf::from("service")),
            ),
            other => other.clone(),
        }
    }
}

/// One component crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// The crate's package name (`ferrotel-receiver-otlp`).
    pub crate_name: String,
    /// Where it comes from.
    pub source: Source,
    /// The function that returns its factory
    /// (`ferrotel_receiver_otlp::factory` unless given).
    pub factory: String,
    /// Cargo features to enable.
    pub features: Vec<String>,
}

/// One `[patch.crates-io]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// The crate replaced.
    pub crate_name: String,
    /// What replaces it.
    pub source: Source,
}

/// A component entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    #[serde(rename = "crate")]
    crate_name: String,
    path: Option<PathBuf>,
    version: Option<String>,
    git: Option<String>,
    rev: Option<String>,
    tag: Option<String>,
    branch: Option<String>,
    factory: Option<String>,
    #[serde(default)]
    features: Vec<String>,
}

/// A component entry of an ocb manifest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OcbEntry {
    /// `"<Go module> <version>"`, mapped to the ferrotel crate.
    gomod: String,
    // The Go import path, package name and local module directory have no
    // meaning for a Rust build.
    #[serde(default, rename = "import")]
    _import: serde::de::IgnoredAny,
    #[serde(default, rename = "name")]
    _name: serde::de::IgnoredAny,
    #[serde(default, rename = "path")]
    _path: serde::de::IgnoredAny,
}

/// An entry with its crate and source worked out.
struct Resolved {
    crate_name: String,
    source: Source,
    factory: Option<String>,
    features: Vec<String>,
}

/// The two ways a component can be written.
trait Entry {
    fn resolve(self, at: &str, checkout: &Path) -> Result<Resolved, String>;
}

impl Entry for RawEntry {
    fn resolve(self, at: &str, _checkout: &Path) -> Result<Resolved, String> {
        if self.crate_name.trim().is_empty() {
            return Err(format!("{at}.crate must not be empty"));
        }
        let pin = pin(&self.rev, &self.tag, &self.branch).map_err(|m| format!("{at}: {m}"))?;
        Ok(Resolved {
            source: source(at, self.path, &self.version, &self.git, pin)?,
            crate_name: self.crate_name,
            factory: self.factory,
            features: self.features,
        })
    }
}

impl Entry for OcbEntry {
    fn resolve(self, at: &str, checkout: &Path) -> Result<Resolved, String> {
        let (krate, dir) = crate::ocb::crate_for(&self.gomod).map_err(|m| format!("{at}: {m}"))?;
        Ok(Resolved {
            crate_name: krate,
            source: Source::Path(checkout.join(dir)),
            factory: None,
            features: Vec::new(),
        })
    }
}

/// A `core` or `patches` entry as written: a source, no factory.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    #[serde(rename = "crate", default)]
    crate_name: Option<String>,
    path: Option<PathBuf>,
    version: Option<String>,
    git: Option<String>,
    rev: Option<String>,
    tag: Option<String>,
    branch: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound = "E: Deserialize<'de>")]
struct RawManifest<E> {
    dist: Dist,
    core: Option<RawSource>,
    #[serde(default = "Vec::new")]
    receivers: Vec<E>,
    #[serde(default = "Vec::new")]
    processors: Vec<E>,
    #[serde(default = "Vec::new")]
    exporters: Vec<E>,
    #[serde(default = "Vec::new")]
    extensions: Vec<E>,
    #[serde(default = "Vec::new")]
    connectors: Vec<E>,
    #[serde(default)]
    patches: Vec<RawSource>,
    // ocb keys about Go builds, taken and not used: ferrotel always has
    // the env, file and yaml providers, and Go's replaces do not apply.
    #[serde(default, rename = "providers")]
    _providers: serde::de::IgnoredAny,
    #[serde(default, rename = "converters")]
    _converters: serde::de::IgnoredAny,
    #[serde(default, rename = "replaces")]
    _replaces: serde::de::IgnoredAny,
    #[serde(default, rename = "excludes")]
    _excludes: serde::de::IgnoredAny,
    #[serde(default, rename = "telemetry")]
    _telemetry: serde::de::IgnoredAny,
    #[serde(default, rename = "conf_resolver")]
    _conf_resolver: serde::de::IgnoredAny,
}

/// Why a manifest was refused: the file, where in it, and what is wrong.
#[derive(Debug)]
pub struct ManifestError {
    file: PathBuf,
    message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.message)
    }
}

impl std::error::Error for ManifestError {}

impl Manifest {
    /// Reads and checks the manifest at `file`.
    pub fn load(file: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(file).map_err(|e| ManifestError {
            file: file.to_path_buf(),
            message: format!("cannot read: {e}"),
        })?;
        let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
        Manifest::parse(&text, base, &builder_checkout()).map_err(|message| ManifestError {
            file: file.to_path_buf(),
            message,
        })
    }

    /// Parses manifest text; relative paths start at `base`, and ocb
    /// (`gomod`) entries mean crates in the ferrotel `checkout`.
    pub fn parse(text: &str, base: PathBuf, checkout: &Path) -> Result<Manifest, String> {
        // serde_yaml_ng's messages name the key path and the line.
        if is_ocb(text) {
            let raw: RawManifest<OcbEntry> =
                serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
            return Manifest::check(raw, base, checkout, true);
        }
        let raw: RawManifest<RawEntry> =
            serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
        Manifest::check(raw, base, checkout, false)
    }

    /// The checks both forms share. ocb entries come from the checkout, and
    /// so must core (`from_checkout`).
    fn check<E: Entry>(
        raw: RawManifest<E>,
        base: PathBuf,
        checkout: &Path,
        from_checkout: bool,
    ) -> Result<Manifest, String> {
        if raw.dist.name.trim().is_empty() {
            return Err("dist.name must not be empty".into());
        }
        if !raw
            .dist
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "dist.name {:?} is not a valid package name (letters, digits, '-' and '_')",
                raw.dist.name
            ));
        }
        let mut components = Vec::new();
        for (kind, list, key) in [
            (Kind::Receiver, raw.receivers, "receivers"),
            (Kind::Processor, raw.processors, "processors"),
            (Kind::Exporter, raw.exporters, "exporters"),
            (Kind::Connector, raw.connectors, "connectors"),
            (Kind::Extension, raw.extensions, "extensions"),
        ] {
            for (i, e) in list.into_iter().enumerate() {
                let at = format!("{key}[{i}]");
                let e = e.resolve(&at, checkout)?;
                let crate_name = e.crate_name;
                let source = e.source;
                let factory = e
                    .factory
                    .unwrap_or_else(|| format!("{}::factory", crate_name.replace('-', "_")));
                if components
                    .iter()
                    .any(|(_, c): &(Kind, Component)| c.crate_name == crate_name)
                {
                    return Err(format!("{at}: {crate_name} is listed twice"));
                }
                components.push((
                    kind,
                    Component {
                        crate_name,
                        source,
                        factory,
                        features: e.features,
                    },
                ));
            }
        }
        let core = match (&raw.core, &raw.dist.ferrotel_version) {
            (Some(_), Some(_)) => {
                return Err("give either dist.ferrotel_version or core, not both".into());
            }
            (Some(c), None) => {
                if c.crate_name.is_some() {
                    return Err("core: `crate` is implied (ferrotel-core)".into());
                }
                source(
                    "core",
                    c.path.clone(),
                    &c.version,
                    &c.git,
                    pin(&c.rev, &c.tag, &c.branch)?,
                )?
            }
            (None, Some(v)) => Source::Version(v.clone()),
            // ocb entries come from the checkout, and so must core.
            (None, None) if from_checkout => Source::Path(checkout.join("core")),
            (None, None) => Source::Version(env!("CARGO_PKG_VERSION").into()),
        };
        if components.is_empty() {
            return Err(
                "the manifest lists no components: add at least one receiver or extension".into(),
            );
        }
        let mut patches = Vec::new();
        for (i, p) in raw.patches.into_iter().enumerate() {
            let at = format!("patches[{i}]");
            let crate_name = p
                .crate_name
                .clone()
                .ok_or_else(|| format!("{at}: missing field `crate`"))?;
            let pin = pin(&p.rev, &p.tag, &p.branch).map_err(|m| format!("{at}: {m}"))?;
            let source = source(&at, p.path, &p.version, &p.git, pin)?;
            if matches!(source, Source::Version(_)) {
                return Err(format!(
                    "{at}: a patch takes `path` or `git`, not `version`"
                ));
            }
            patches.push(Patch { crate_name, source });
        }
        Ok(Manifest {
            dist: raw.dist,
            core,
            components,
            patches,
            base,
        })
    }

    /// The output directory, resolved against the manifest's directory.
    pub fn output_dir(&self) -> PathBuf {
        self.base.join(&self.dist.output_path)
    }
}

/// Whether a manifest is written for ocb: its component entries name Go
/// modules (`gomod:`) rather than crates.
fn is_ocb(text: &str) -> bool {
    let Ok(serde_yaml_ng::Value::Mapping(top)) = serde_yaml_ng::from_str(text) else {
        return false;
    };
    [
        "receivers",
        "processors",
        "exporters",
        "extensions",
        "connectors",
    ]
    .iter()
    .filter_map(|k| top.get(*k)?.as_sequence())
    .flatten()
    .any(|e| e.get("gomod").is_some())
}

/// The ferrotel workspace this builder was built from.
pub fn builder_checkout() -> PathBuf {
    crate::generate::normalize(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}

fn pin(
    rev: &Option<String>,
    tag: &Option<String>,
    branch: &Option<String>,
) -> Result<Option<(&'static str, String)>, String> {
    let given: Vec<(&'static str, String)> = [("rev", rev), ("tag", tag), ("branch", branch)]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
        .collect();
    match given.len() {
        0 => Ok(None),
        1 => Ok(given.into_iter().next()),
        _ => Err("give at most one of `rev`, `tag` and `branch`".into()),
    }
}

fn source(
    at: &str,
    path: Option<PathBuf>,
    version: &Option<String>,
    git: &Option<String>,
    pin: Option<(&'static str, String)>,
) -> Result<Source, String> {
    let source = match (path, version, git) {
        (Some(p), None, None) => Source::Path(p),
        (None, Some(v), None) => Source::Version(v.clone()),
        (None, None, Some(url)) => Source::Git {
            url: url.clone(),
            pin: pin.clone(),
        },
        (None, None, None) => {
            return Err(format!(
                "{at}: say where the crate comes from with `path`, `version` or `git`"
            ));
        }
        _ => {
            return Err(format!(
                "{at}: give only one of `path`, `version` and `git`"
            ));
        }
    };
    if pin.is_some() && !matches!(source, Source::Git { .. }) {
        return Err(format!("{at}: `rev`, `tag` and `branch` go with `git`"));
    }
    Ok(source)
}
