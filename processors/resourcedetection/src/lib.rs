//! The `resource_detection` processor (deprecated alias `resourcedetection`):
//! detects resource attributes once at start and adds them to every
//! resource, as the Go collector's `resourcedetectionprocessor` (contrib
//! v0.165) does, with these detectors, one module each:
//!
//! - `env`: `OTEL_RESOURCE_ATTRIBUTES` (`k=v,k2=v2`, values
//!   percent-decoded; `OTEL_RESOURCE` as Go's deprecated fallback);
//! - `system`: `host.name` from `hostname_sources` (default `dns` then
//!   `os`), `os.type`; `host.id` (the machine id), `host.arch` and the
//!   `host.cpu.*` attributes (`cpuinfo.rs`) when enabled under
//!   `resource_attributes`;
//! - `k8s_api` (`k8s_api.rs`; `k8snode` is Go's deprecated name for it):
//!   `k8s.node.name` from the variable named by `node_from_env_var`; the
//!   attributes that need the API server are not read;
//! - `ec2` (`ec2.rs`) and `eks` (`eks.rs`): the EC2 instance metadata
//!   service, and for EKS the Kubernetes environment;
//! - `gcp` (`gcp.rs`): the GCE metadata server (GCE, GKE, Cloud Run,
//!   Cloud Functions, App Engine) and Bare Metal Solution's variables;
//! - `azure` and `aks` (`azure.rs`): the Azure instance metadata service;
//! - `docker` (`docker.rs`): the Docker Engine API;
//! - `openshift` (`openshift.rs`): the cluster's `Infrastructure` status
//!   from the Kubernetes API server.
//!
//! Off their platform the network detectors find nothing and are not
//! errors, as in Go, unless `fail_on_missing_metadata`. The services are
//! found where Go's clients find them: `AWS_EC2_METADATA_SERVICE_ENDPOINT`,
//! `GCE_METADATA_HOST`, `DOCKER_HOST`. Go hardcodes Azure's address
//! (`169.254.169.254`); `FERROTEL_AZURE_IMDS_ENDPOINT` (a base URL such as
//! `http://127.0.0.1:8080`) replaces it, a ferrotel-only hook for tests.
//!
//! Detectors earlier in `detectors` win over later ones. With `override`
//! (default true) detected values replace existing ones; otherwise they
//! only fill in. Detectors run at once, each within `timeout`; one that
//! fails is retried with backoff (`retry`) within its budget, then logged
//! and skipped. `refresh_interval` detects again
//! periodically, keeping the last good attributes when a refresh fails. Other
//! detectors (other cloud providers, ...) are refused at load.

mod azure;
mod cpuinfo;
mod docker;
mod ec2;
mod eks;
mod gcp;
mod http_get;
mod k8s_api;
mod openshift;

pub use azure::{AksConfig, AzureConfig};
pub use docker::DockerConfig;
pub use ec2::Ec2Config;
pub use eks::EksConfig;
pub use gcp::GcpConfig;
pub use k8s_api::K8sApiConfig;

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, Host, Metadata, ProcessorFactory,
    SharedStage,
};
use ferrotel_core::config::Validate;
use ferrotel_core::config::{GoDuration, Invalid};
use ferrotel_core::consumer::{Batch, ConsumeError, Consumer, SharedConsumer};
use ferrotel_core::pdata::common::{AnyValue, KeyValue, any_value};
use ferrotel_core::pdata::resource::Resource;
use ferrotel_core::pdata::{Signal, Telemetry};
use ferrotel_core::retry::{Backoff, RetrySettings};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

/// `resource_detection` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Detector names, in order of precedence.
    pub detectors: Vec<String>,
    /// Replace existing attributes with detected ones. Default true.
    #[serde(rename = "override")]
    pub override_: bool,
    /// Longest time detection may take. Default 5s.
    pub timeout: GoDuration,
    /// Detect again this often (0, the default: once, at start). A refresh
    /// in which a detector fails keeps the previous attributes.
    pub refresh_interval: GoDuration,
    /// Deprecated Go key: only these detected attributes are kept.
    pub attributes: Vec<String>,
    /// `system` detector settings.
    pub system: SystemConfig,
    /// `k8s_api` detector settings.
    pub k8s_api: K8sApiConfig,
    /// Settings of `k8snode`, Go's deprecated name for `k8s_api` (the
    /// section the detector reads when listed by that name).
    pub k8snode: K8sApiConfig,
    /// `ec2` detector settings.
    pub ec2: Ec2Config,
    /// `eks` detector settings.
    pub eks: EksConfig,
    /// `gcp` detector settings.
    pub gcp: GcpConfig,
    /// `azure` detector settings.
    pub azure: AzureConfig,
    /// `aks` detector settings.
    pub aks: AksConfig,
    /// `docker` detector settings.
    pub docker: DockerConfig,
    /// `openshift` detector settings.
    pub openshift: openshift::OpenshiftConfig,
    /// Network detectors fail when their metadata service does not answer,
    /// instead of detecting nothing. Default false.
    pub fail_on_missing_metadata: bool,
    /// Retries of a failing detector within `timeout` (or
    /// `max_elapsed_time` when set). Go's `configretry` keys; defaults 1s
    /// doubling to 30s.
    pub retry: RetrySettings,
    /// `env` detector settings (none but accepted).
    pub env: Option<serde_yaml_ng::Value>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            detectors: vec!["env".into()],
            override_: true,
            timeout: GoDuration::secs(5),
            refresh_interval: GoDuration::default(),
            attributes: Vec::new(),
            system: SystemConfig::default(),
            k8s_api: K8sApiConfig::default(),
            k8snode: K8sApiConfig::default(),
            ec2: Ec2Config::default(),
            eks: EksConfig::default(),
            gcp: GcpConfig::default(),
            azure: AzureConfig::default(),
            aks: AksConfig::default(),
            docker: DockerConfig::default(),
            openshift: Default::default(),
            fail_on_missing_metadata: false,
            retry: RetrySettings {
                initial_interval: GoDuration::secs(1),
                multiplier: 2.0,
                max_elapsed_time: GoDuration::default(),
                ..RetrySettings::default()
            },
            env: None,
        }
    }
}

/// `system`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SystemConfig {
    /// `dns`, `os` (and Go's `cname`, `lookup`, treated as `dns`).
    pub hostname_sources: Vec<String>,
    /// Which attributes to emit.
    pub resource_attributes: BTreeMap<String, Toggle>,
}

impl Default for SystemConfig {
    fn default() -> Self {
        SystemConfig {
            hostname_sources: vec!["dns".into(), "os".into()],
            resource_attributes: BTreeMap::new(),
        }
    }
}

/// `{enabled: bool}`.
#[derive(Debug, Clone, Copy, Deserialize, Default)]
#[serde(default)]
pub struct Toggle {
    /// Emit the attribute.
    pub enabled: bool,
}

const SYSTEM_ATTRIBUTES: [(&str, bool); 4] = [
    ("host.name", true),
    ("os.type", true),
    ("host.id", false),
    ("host.arch", false),
];

/// The detectors ferrotel has, by the names Go gives them.
const DETECTORS: [&str; 11] = [
    "env",
    "system",
    "k8s_api",
    "k8snode",
    "ec2",
    "eks",
    "gcp",
    "azure",
    "aks",
    "docker",
    "openshift",
];

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        for d in &self.detectors {
            if !DETECTORS.contains(&d.trim()) {
                return Err(format!(
                    "detectors: {d:?} is not supported by ferrotel yet ({} are)",
                    DETECTORS.join(", ")
                )
                .into());
            }
        }
        self.ec2.validate_at("ec2")?;
        self.retry.validate_at("retry")?;
        for s in &self.system.hostname_sources {
            if !matches!(s.as_str(), "dns" | "os" | "cname" | "lookup") {
                return Err(
                    format!("system::hostname_sources: invalid hostname source {s:?}").into(),
                );
            }
        }
        for (key, t) in &self.system.resource_attributes {
            if t.enabled
                && !SYSTEM_ATTRIBUTES.iter().any(|(k, _)| k == key)
                && !cpuinfo::ATTRIBUTES.contains(&key.as_str())
                && key != "os.description"
            {
                return Err(format!(
                    "system::resource_attributes::{key}: not supported by ferrotel yet (host.name, os.type, host.id, host.arch, host.cpu.*, os.description are)"
                )
                .into());
            }
        }
        // As Go's detectors check their sections when they are created:
        // only those of the detectors listed.
        // Unknown attribute keys are refused whatever is listed (Go refuses
        // them when it decodes the section).
        let listed = |name: &str| self.detectors.iter().any(|d| d.trim() == name);
        let sections: [(&str, &dyn Validate); 8] = [
            ("k8s_api", &self.k8s_api),
            ("k8snode", &self.k8snode),
            ("eks", &self.eks),
            ("gcp", &self.gcp),
            ("azure", &self.azure),
            ("aks", &self.aks),
            ("docker", &self.docker),
            ("openshift", &self.openshift),
        ];
        for (name, section) in sections {
            match section.validate_at(name) {
                Err(e) if listed(name) || e.message == UNKNOWN_ATTRIBUTE => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}

const UNKNOWN_ATTRIBUTE: &str = "unknown attribute";

/// Checks a detector's `resource_attributes` against the attributes it
/// has (Go refuses other keys when it decodes the section).
pub(crate) fn check_attributes(
    toggles: &BTreeMap<String, Toggle>,
    known: &[(&str, bool)],
) -> Result<(), Invalid> {
    match toggles.keys().find(|k| !known.iter().any(|(n, _)| n == k)) {
        Some(key) => Err(Invalid::at(
            format!("resource_attributes::{key}"),
            UNKNOWN_ATTRIBUTE,
        )),
        None => Ok(()),
    }
}

/// A detector's attributes as Go's generated `ResourceBuilder` collects
/// them: each set only when enabled (its `resource_attributes`, else Go's
/// default), in the order set, a second set replacing the first.
pub(crate) struct Attributes<'a> {
    toggles: &'a BTreeMap<String, Toggle>,
    known: &'static [(&'static str, bool)],
    out: Vec<KeyValue>,
}

impl<'a> Attributes<'a> {
    pub(crate) fn new(
        toggles: &'a BTreeMap<String, Toggle>,
        known: &'static [(&'static str, bool)],
    ) -> Self {
        Attributes {
            toggles,
            known,
            out: Vec::new(),
        }
    }

    /// Whether `key` is emitted.
    pub(crate) fn enabled(&self, key: &str) -> bool {
        match self.toggles.get(key) {
            Some(t) => t.enabled,
            None => self.known.iter().any(|(k, on)| *k == key && *on),
        }
    }

    /// Sets `key` when it is enabled.
    pub(crate) fn set(&mut self, key: &str, value: impl Into<String>) {
        if self.enabled(key) {
            put(&mut self.out, key, value.into());
        }
    }

    /// The attributes set.
    pub(crate) fn emit(self) -> Vec<KeyValue> {
        self.out
    }
}

/// Puts `key` into `attrs`, replacing its value when it is there (pcommon's
/// `PutStr`).
pub(crate) fn put(attrs: &mut Vec<KeyValue>, key: &str, value: String) {
    ferrotel_core::pdata::go::map_put(attrs, key, any_value::Value::StringValue(value));
}

/// A network detector's answer when its service cannot be reached: nothing,
/// or with `fail_on_missing_metadata` the error, as Go's detectors do.
pub(crate) fn missing(
    detector: &str,
    fail_on_missing_metadata: bool,
    error: String,
) -> Result<Vec<KeyValue>, String> {
    if fail_on_missing_metadata {
        return Err(error);
    }
    tracing::debug!(detector = %detector, error = %error, "metadata unavailable; nothing detected");
    Ok(Vec::new())
}

fn string_kv(key: &str, value: String) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value)),
        }),
        ..KeyValue::default()
    }
}

/// Percent-decoding as Go's `url.QueryUnescape` (`+` is a space).
fn unescape(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .ok_or_else(|| format!("invalid URL escape {:?}", &s[i..]))?;
                out.push(
                    u8::from_str_radix(hex, 16)
                        .map_err(|_| format!("invalid URL escape \"%{hex}\""))?,
                );
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// `OTEL_RESOURCE_ATTRIBUTES`, as Go's env detector parses it.
fn env_detector(value: &str) -> Result<Vec<KeyValue>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for pair in value.split(',') {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("invalid resource format: {value:?}"))?;
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() || k.contains(char::is_whitespace) {
            return Err(format!("invalid resource format: {value:?}"));
        }
        let v = unescape(v)
            .map_err(|e| format!("invalid resource format in attribute: {pair:?}, err: {e}"))?;
        out.retain(|kv: &KeyValue| kv.key != k);
        out.push(string_kv(k, v));
    }
    Ok(out)
}

fn os_hostname() -> Result<String, String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .map_err(|e| format!("failed getting OS hostname: {e}"))
}

/// The fully qualified name: the first name with a dot on the `/etc/hosts`
/// line that names this host (what Go's go-fqdn finds before asking DNS).
fn fqdn() -> Result<String, String> {
    let short = os_hostname()?;
    let hosts = std::fs::read_to_string("/etc/hosts").map_err(|e| e.to_string())?;
    for line in hosts.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let names: Vec<&str> = line.split_whitespace().skip(1).collect();
        if names
            .iter()
            .any(|n| *n == short || n.split('.').next() == Some(short.as_str()))
        {
            if let Some(full) = names.iter().find(|n| n.contains('.')) {
                return Ok(full.to_string());
            }
            return Ok(names[0].to_string());
        }
    }
    Err(format!(
        "could not find the fully qualified name of {short:?}"
    ))
}

fn system_detector(c: &SystemConfig) -> Result<Vec<KeyValue>, String> {
    let enabled = |key: &str, default: bool| {
        c.resource_attributes
            .get(key)
            .map_or(default, |t| t.enabled)
    };
    let mut hostname = Err("no hostname source".to_string());
    for source in &c.hostname_sources {
        hostname = match source.as_str() {
            "os" => os_hostname(),
            _ => fqdn(),
        };
        if hostname.is_ok() {
            break;
        }
    }
    let hostname = hostname.map_err(|e| format!("all hostname sources failed: {e}"))?;
    let mut out = Vec::new();
    if enabled("host.name", true) {
        out.push(string_kv("host.name", hostname));
    }
    if enabled("os.type", true) {
        out.push(string_kv("os.type", std::env::consts::OS.to_string()));
    }
    if enabled("host.id", false) {
        match ["/etc/machine-id", "/var/lib/dbus/machine-id"]
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok())
        {
            Some(id) => out.push(string_kv("host.id", id.trim().to_string())),
            None => tracing::warn!("failed to get host ID"),
        }
    }
    if enabled("host.arch", false) {
        // Go's GOARCH, then its GOARCHtoHostArch.
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "x86",
            "arm" => "arm32",
            "powerpc64" => "ppc64",
            other => other,
        };
        out.push(string_kv("host.arch", arch.to_string()));
    }
    if enabled("os.description", false) {
        out.push(string_kv("os.description", os_description()?));
    }
    if cpuinfo::ATTRIBUTES.iter().any(|k| enabled(k, false)) {
        let text = std::fs::read_to_string("/proc/cpuinfo").map_err(|e| {
            format!("failed getting host cpuinfo: could not read /proc/cpuinfo: {e}")
        })?;
        out.extend(cpuinfo::attributes(&text, |k| enabled(k, false))?);
    }
    Ok(out)
}

/// `os.description` as the OpenTelemetry Go SDK writes it on Linux: the
/// os-release `NAME VERSION` (or `PRETTY_NAME`), then `uname -snrvm` in
/// brackets (read from `/proc/sys/kernel`, which is what uname reports).
fn os_description() -> Result<String, String> {
    let kernel = |name: &str| {
        std::fs::read_to_string(format!("/proc/sys/kernel/{name}"))
            .map(|s| s.trim().to_string())
            .map_err(|e| format!("failed getting OS description: {e}"))
    };
    let uname = format!(
        "{} {} {} {} {}",
        kernel("ostype")?,
        kernel("hostname")?,
        kernel("osrelease")?,
        kernel("version")?,
        std::env::consts::ARCH
    );
    let release = ["/etc/os-release", "/usr/lib/os-release"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|text| os_release_name(&text))
        .unwrap_or_default();
    Ok(if release.is_empty() {
        uname
    } else {
        format!("{release} ({uname})")
    })
}

/// `NAME VERSION` (VERSION falling back to VERSION_ID), or `PRETTY_NAME`
/// when either is missing, as the Go SDK's `osRelease` builds it.
fn os_release_name(text: &str) -> String {
    let field = |key: &str| {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().trim_matches(['"', '\'']).to_string())
            .filter(|v| !v.is_empty())
    };
    let version = field("VERSION").or_else(|| field("VERSION_ID"));
    match (field("NAME"), version) {
        (Some(name), Some(version)) => format!("{name} {version}"),
        _ => field("PRETTY_NAME").unwrap_or_default(),
    }
}

/// Runs one detector once.
/// `budget` is what is left of the detection's time, for the services that
/// Go waits on until its deadline.
async fn detect_once(
    name: &str,
    config: &Config,
    budget: std::time::Duration,
) -> Result<Vec<KeyValue>, String> {
    let fail = config.fail_on_missing_metadata;
    match name.trim() {
        "env" => env_detector(
            &std::env::var("OTEL_RESOURCE_ATTRIBUTES")
                .or_else(|_| std::env::var("OTEL_RESOURCE"))
                .unwrap_or_default(),
        ),
        "system" => {
            // It reads files and may wait on name lookups: off the runtime.
            let system = config.system.clone();
            tokio::task::spawn_blocking(move || system_detector(&system))
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
        }
        "ec2" => ec2::detect(&config.ec2, fail).await,
        "eks" => eks::detect(&config.eks, fail).await,
        "gcp" => gcp::detect(&config.gcp, fail).await,
        "azure" => azure::detect_vm(&config.azure, fail, budget).await,
        "aks" => azure::detect_aks(&config.aks, fail, budget).await,
        "docker" => docker::detect(&config.docker, fail, budget).await,
        "openshift" => openshift::detect(&config.openshift, fail).await,
        "k8s_api" => k8s_api::detect(&config.k8s_api, fail),
        "k8snode" => k8s_api::detect(&config.k8snode, fail),
        other => Err(format!(
            "detector {other:?} is not compiled into this binary"
        )),
    }
}

/// Runs one detector, retrying it with backoff while `retry` allows and
/// the budget lasts: `retry.max_elapsed_time` when set, else `timeout`
/// (Go bounds a detection the same way).
async fn detect_with_retry(name: &str, config: &Config) -> Result<Vec<KeyValue>, String> {
    let retry = &config.retry;
    let budget = if retry.max_elapsed_time.0.is_zero() {
        config.timeout.0
    } else {
        retry.max_elapsed_time.0
    };
    let deadline = tokio::time::Instant::now() + budget;
    let mut backoff = Backoff::new(&RetrySettings {
        max_elapsed_time: GoDuration(budget),
        ..retry.clone()
    });
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let attempt = tokio::time::timeout_at(deadline, detect_once(name, config, left)).await;
        let error = match attempt {
            Ok(Ok(found)) => return Ok(found),
            Ok(Err(e)) => e,
            Err(_) => {
                return Err(format!(
                    "no result within {}",
                    ferrotel_core::config::format_go_duration(budget)
                ));
            }
        };
        let wait = match backoff.next(None) {
            Some(wait) if retry.enabled => wait,
            _ => return Err(error),
        };
        tracing::debug!(detector = %name, error = %error, "resource detection failed; retrying");
        tokio::time::sleep(wait).await;
    }
}

/// Runs the detectors at once, each within its budget, as Go does, so one
/// whose service never answers costs only its own attributes; earlier ones
/// win.
async fn detect(config: &Config) -> Detected {
    let runs = config
        .detectors
        .iter()
        .map(|name| async move { (name, detect_with_retry(name, config).await) });
    let mut out: Vec<KeyValue> = Vec::new();
    let mut failed = false;
    for (name, found) in futures_util::future::join_all(runs).await {
        match found {
            Ok(attrs) => {
                for kv in attrs {
                    if !out.iter().any(|o| o.key == kv.key) {
                        out.push(kv);
                    }
                }
            }
            Err(e) => {
                failed = true;
                tracing::warn!(detector = %name, error = %e, "failed to detect resource");
            }
        }
    }
    if !config.attributes.is_empty() {
        out.retain(|kv| config.attributes.contains(&kv.key));
    }
    Detected {
        attributes: out,
        failed,
    }
}

/// What one detection found, and whether a detector failed in it.
struct Detected {
    attributes: Vec<KeyValue>,
    failed: bool,
}

struct DetectionFactory;

/// The factory for the `resource_detection` processor (alias
/// `resourcedetection`).
pub fn factory() -> impl ProcessorFactory {
    DetectionFactory
}

impl ProcessorFactory for DetectionFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        _set: CreateSettings,
        config: Config,
        _signal: Signal,
        next: SharedConsumer,
    ) -> Result<SharedStage, ComponentError> {
        // What Go's detectors check when the processor creates them.
        for name in config.detectors.iter().map(|d| d.trim()) {
            match name {
                "k8snode" => {
                    tracing::warn!("the k8snode detector name is deprecated, use k8s_api instead")
                }
                "docker" => {
                    docker::Endpoint::from_env().map_err(|e| {
                        format!("failed creating detector type \"docker\": failed creating detector: could not initialize Docker client: {e}")
                    })?;
                }
                _ => {}
            }
        }
        Ok(Arc::new(Detection {
            config,
            detected: Arc::new(RwLock::new(Arc::new(Vec::new()))),
            refresher: Mutex::new(None),
            next,
        }))
    }
}

struct Detection {
    config: Config,
    /// Swapped whole by a refresh; batches take the current one.
    detected: Arc<RwLock<Arc<Vec<KeyValue>>>>,
    refresher: Mutex<Option<tokio::task::JoinHandle<()>>>,
    next: SharedConsumer,
}

impl Detection {
    fn apply(&self, resource: &mut Option<Resource>) {
        // The first detection ends in `start`, before any data arrives.
        let detected = self
            .detected
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if detected.is_empty() {
            return;
        }
        let attrs = &mut resource.get_or_insert_with(Resource::default).attributes;
        for kv in detected.iter() {
            match attrs.iter_mut().find(|a| a.key == kv.key) {
                Some(existing) if self.config.override_ => existing.value = kv.value.clone(),
                Some(_) => {}
                None => attrs.push(kv.clone()),
            }
        }
    }
}

#[async_trait]
impl Component for Detection {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let first = detect(&self.config).await;
        *self.detected.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(first.attributes);
        let interval = self.config.refresh_interval.0;
        if !interval.is_zero() {
            let (config, detected) = (self.config.clone(), self.detected.clone());
            let task = tokio::spawn(async move {
                loop {
                    tokio::time::sleep(interval).await;
                    let again = detect(&config).await;
                    let mut current = detected.write().unwrap_or_else(|p| p.into_inner());
                    // As Go: a failed refresh keeps the last good snapshot.
                    if again.failed && !current.is_empty() {
                        tracing::warn!("resource refresh failed; keeping previous snapshot");
                        continue;
                    }
                    *current = Arc::new(again.attributes);
                }
            });
            *self.refresher.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        if let Some(task) = self
            .refresher
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            task.abort();
        }
        Ok(())
    }
}

#[async_trait]
impl Consumer for Detection {
    fn persists_before_ack(&self) -> bool {
        self.next.persists_before_ack()
    }

    async fn consume(&self, mut batch: Batch) -> Result<(), ConsumeError> {
        match batch.data_mut() {
            Telemetry::Logs(rs) => rs.iter_mut().for_each(|r| self.apply(&mut r.resource)),
            Telemetry::Traces(rs) => rs.iter_mut().for_each(|r| self.apply(&mut r.resource)),
            Telemetry::Metrics(rs) => rs.iter_mut().for_each(|r| self.apply(&mut r.resource)),
            // Not a signal this processor declares (metadata.yaml).
            Telemetry::Profiles(_) => {}
        }
        self.next.consume(batch).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_names_read_as_the_go_sdk_reads_them() {
        let debian = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\n";
        assert_eq!(os_release_name(debian), "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(
            os_release_name("NAME=Alpine\nVERSION_ID=3.20\n"),
            "Alpine 3.20"
        );
        assert_eq!(
            os_release_name("PRETTY_NAME='Arch Linux'\nNAME=Arch\n"),
            "Arch Linux"
        );
    }

    fn get<'a>(attrs: &'a [KeyValue], k: &str) -> Option<&'a str> {
        match attrs
            .iter()
            .find(|kv| kv.key == k)?
            .value
            .as_ref()?
            .value
            .as_ref()?
        {
            any_value::Value::StringValue(s) => Some(s),
            _ => None,
        }
    }

    #[test]
    fn env_values_as_go_parses_them() {
        let a =
            env_detector("service.name=cart, deployment.environment=prod%20eu,team=a%2Cb").unwrap();
        assert_eq!(get(&a, "service.name"), Some("cart"));
        assert_eq!(get(&a, "deployment.environment"), Some("prod eu"));
        assert_eq!(get(&a, "team"), Some("a,b"));
        assert!(
            env_detector("novalue")
                .unwrap_err()
                .starts_with("invalid resource format")
        );
        assert!(
            env_detector("k=%zz")
                .unwrap_err()
                .starts_with("invalid resource format in attribute")
        );
        assert!(env_detector("").unwrap().is_empty());
    }

    #[test]
    fn system_attributes() {
        let c = SystemConfig {
            hostname_sources: vec!["os".into()],
            resource_attributes: [("host.arch".to_string(), Toggle { enabled: true })].into(),
        };
        let a = system_detector(&c).unwrap();
        assert_eq!(get(&a, "host.name"), Some(os_hostname().unwrap().as_str()));
        assert_eq!(get(&a, "os.type"), Some("linux"));
        assert!(get(&a, "host.arch").is_some());
        assert_eq!(get(&a, "host.id"), None, "off by default, as in Go");
    }

    #[test]
    fn config_refuses_what_it_cannot_detect() {
        let c: Config = serde_yaml_ng::from_str("detectors: [env, heroku]").unwrap();
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "detectors: \"heroku\" is not supported by ferrotel yet (env, system, k8s_api, k8snode, ec2, eks, gcp, azure, aks, docker, openshift are)"
        );
        let c: Config = serde_yaml_ng::from_str(
            "detectors: [system]\nsystem: {resource_attributes: {host.ip: {enabled: true}}}",
        )
        .unwrap();
        assert!(c.validate().is_err());
        let c: Config =
            serde_yaml_ng::from_str("detectors: [ec2]\nec2: {tags: [\"^team$\"]}").unwrap();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("set tags_from_imds: true")
        );
        let c: Config = serde_yaml_ng::from_str(
            "detectors: [ec2]\nfail_on_missing_metadata: true\nec2: {tags: [\"^team$\"], tags_from_imds: true, max_attempts: 2, max_backoff: 1s}",
        )
        .unwrap();
        assert!(c.validate().is_ok());
        let c: Config = serde_yaml_ng::from_str(
            "detectors: [ec2]\nec2: {resource_attributes: {cloud.zone: {enabled: true}}}",
        )
        .unwrap();
        assert!(c.validate().is_err());
        // Go's configretry keys, with the processor's defaults.
        let c: Config =
            serde_yaml_ng::from_str("detectors: [env]\nretry: {enabled: false}").unwrap();
        assert!(c.validate().is_ok() && !c.retry.enabled);
        let d = Config::default().retry;
        assert_eq!(
            (
                d.initial_interval.0,
                d.multiplier,
                d.max_interval.0,
                d.max_elapsed_time.0
            ),
            (
                std::time::Duration::from_secs(1),
                2.0,
                std::time::Duration::from_secs(30),
                std::time::Duration::ZERO
            )
        );
        // Go takes a multiplier below 1 and refuses a negative one.
        let c: Config = serde_yaml_ng::from_str("retry: {multiplier: 0.5}").unwrap();
        assert!(c.validate().is_ok());
        let c: Config = serde_yaml_ng::from_str("retry: {multiplier: -1}").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("multiplier"));
    }

    #[test]
    fn every_detector_section_decodes_with_gos_keys() {
        let c: Config = serde_yaml_ng::from_str(
            "
detectors: [env, system, k8s_api, k8snode, ec2, eks, gcp, azure, aks, docker]
k8s_api: {auth_type: serviceAccount, node_from_env_var: NODE, resource_attributes: {host.id: {enabled: false}}}
k8snode: {auth_type: none}
eks: {auth_type: none, node_from_env_var: NODE, resource_attributes: {host.name: {enabled: true}}}
gcp: {resource_attributes: {gcp.gce.instance.name: {enabled: true}}}
azure: {tags: ['^env$'], resource_attributes: {azure.resource_group.name: {enabled: true}}}
aks: {resource_attributes: {k8s.cluster.name: {enabled: true}}}
docker: {resource_attributes: {container.name: {enabled: true}}}
",
        )
        .unwrap();
        assert!(c.validate().is_ok(), "{:?}", c.validate());
        assert_eq!(c.k8s_api.node_from_env_var, "NODE");
        assert_eq!(c.k8snode.auth_type, "none");
        assert_eq!(c.azure.tags, ["^env$"]);
    }

    #[test]
    fn sections_are_checked_as_go_creates_detectors() {
        // A bad regexp or auth type matters only for a listed detector, as
        // Go checks them when it creates the detector ...
        let c: Config = serde_yaml_ng::from_str(
            "detectors: [env]
azure: {tags: ['(']}
eks: {auth_type: x}",
        )
        .unwrap();
        assert!(c.validate().is_ok());
        let c: Config = serde_yaml_ng::from_str(
            "detectors: [azure]
azure: {tags: ['(']}",
        )
        .unwrap();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .starts_with("azure::tags:")
        );
        // ... while an unknown attribute is refused when decoding.
        let c: Config = serde_yaml_ng::from_str(
            "detectors: [env]
docker: {resource_attributes: {container.id: {enabled: true}}}",
        )
        .unwrap();
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "docker::resource_attributes::container.id: unknown attribute"
        );
    }

    #[test]
    fn attributes_follow_toggles_and_replace() {
        let toggles: BTreeMap<String, Toggle> =
            [("b".to_string(), Toggle { enabled: true })].into();
        let mut a = Attributes::new(&toggles, &[("a", true), ("b", false), ("c", false)]);
        a.set("a", "1");
        a.set("b", "2");
        a.set("c", "3");
        a.set("a", "4");
        let out = a.emit();
        assert_eq!(out.len(), 2);
        assert_eq!((get(&out, "a"), get(&out, "b")), (Some("4"), Some("2")));
    }
}
