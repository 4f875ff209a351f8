//! The `gcp` detector: the platform and its identity from the GCE metadata
//! server (`http://<host>/computeMetadata/v1/<path>` with
//! `Metadata-Flavor: Google`), read as Google's
//! `opentelemetry-operations-go/detectors/gcp` reads it through
//! `cloud.google.com/go/compute/metadata`:
//!
//! - on GCP or not: Bare Metal Solution by its variables (`BMS_PROJECT_ID`,
//!   `BMS_REGION`, `BMS_INSTANCE_ID`); else `GCE_METADATA_HOST` set means
//!   yes (and names the server, default `169.254.169.254`), otherwise the
//!   first answer of a `GET http://169.254.169.254` answering
//!   `Metadata-Flavor: Google` and a lookup of `metadata.google.internal`
//!   (both, when the DMI product name says Google), once per process;
//! - the platform by the environment: GKE (`KUBERNETES_SERVICE_HOST` and the
//!   `cluster-location` instance attribute), Cloud Functions
//!   (`FUNCTION_TARGET`), Cloud Run (`K_CONFIGURATION`, `CLOUD_RUN_JOB`,
//!   `CLOUD_RUN_WORKER_POOL`), App Engine (`GAE_ENV`, `GAE_SERVICE`), else
//!   GCE when `instance/machine-type` answers;
//! - each attribute from its metadata path; one that fails is left out
//!   (reported with `fail_on_missing_metadata`), as in Go.
//!
//! Two things Go reads through the Compute API with the instance's
//! credentials are not: `host.type` on GKE (logged, as Go logs it when it
//! lacks the permission) and the instance labels of `labels` (refused at
//! load).

use crate::{Attributes, Toggle, check_attributes};
use ferrotel_core::config::{Invalid, Validate};
use ferrotel_core::pdata::common::KeyValue;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

const METADATA_IP: &str = "169.254.169.254";
const HOST_VARIABLE: &str = "GCE_METADATA_HOST";
const USER_AGENT: &str = "gcloud-golang/0.1";

/// The attributes, with Go's defaults.
const ATTRIBUTES: &[(&str, bool)] = &[
    ("cloud.account.id", true),
    ("cloud.availability_zone", true),
    ("cloud.platform", true),
    ("cloud.provider", true),
    ("cloud.region", true),
    ("faas.instance", true),
    ("faas.name", true),
    ("faas.version", true),
    ("gcp.cloud_run.job.execution", true),
    ("gcp.cloud_run.job.task_index", true),
    ("gcp.gce.instance.hostname", false),
    ("gcp.gce.instance.name", false),
    ("gcp.gce.instance_group_manager.name", true),
    ("gcp.gce.instance_group_manager.region", true),
    ("gcp.gce.instance_group_manager.zone", true),
    ("host.id", true),
    ("host.name", true),
    ("host.type", true),
    ("k8s.cluster.name", true),
];

/// `gcp` settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GcpConfig {
    /// Regular expressions of GCE instance label keys to add as
    /// `gcp.gce.instance.labels.<key>`. Go reads them through the Compute
    /// API; not supported yet.
    pub labels: Vec<String>,
    /// Which attributes to emit.
    pub resource_attributes: BTreeMap<String, Toggle>,
}

impl Validate for GcpConfig {
    fn validate(&self) -> Result<(), Invalid> {
        check_attributes(&self.resource_attributes, ATTRIBUTES)?;
        for label in &self.labels {
            ferrotel_goregex::compile(label).map_err(|e| Invalid::at("labels", e.to_string()))?;
        }
        if !self.labels.is_empty() {
            return Err(Invalid::at(
                "labels",
                "reading GCE instance labels through the Compute API is not supported by ferrotel yet",
            ));
        }
        Ok(())
    }
}

/// A metadata request that failed, as the Go client tells them apart.
#[derive(Debug)]
enum MetadataError {
    /// 404: the path does not exist here.
    NotDefined(String),
    Other(String),
}

impl std::fmt::Display for MetadataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetadataError::NotDefined(path) => {
                write!(f, "metadata: GCE metadata {path:?} not defined")
            }
            MetadataError::Other(message) => f.write_str(message),
        }
    }
}

/// The metadata server.
struct Metadata {
    host: String,
}

impl Metadata {
    fn from_env() -> Metadata {
        let host = std::env::var(HOST_VARIABLE).unwrap_or_default();
        Metadata {
            host: if host.is_empty() {
                METADATA_IP.to_string()
            } else {
                host
            },
        }
    }

    /// `GET computeMetadata/v1/<path>`, retried as the Go client retries:
    /// up to five times on a refused connection, 5xx or 429, after a random
    /// pause below a bound that doubles from 100ms.
    async fn get(&self, path: &str) -> Result<String, MetadataError> {
        let url = format!("http://{}/computeMetadata/v1/{path}", self.host);
        let headers = [("Metadata-Flavor", "Google"), ("User-Agent", USER_AGENT)];
        let mut bound = Duration::from_millis(100);
        let mut retries = 0;
        loop {
            let answer = crate::http_get::get(&url, &headers, Duration::from_secs(5)).await;
            let retry = match &answer {
                Ok(a) => a.status == 429 || (500..=599).contains(&a.status),
                Err(e) => e.connect,
            };
            if retry && retries < 5 {
                retries += 1;
                let pause = 1 + fastrand::u64(0..bound.as_millis().max(1) as u64);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                bound = (bound * 2).min(Duration::from_secs(30));
                continue;
            }
            return match answer {
                Err(e) => Err(MetadataError::Other(e.to_string())),
                Ok(a) if a.status == 404 => Err(MetadataError::NotDefined(path.to_string())),
                Ok(a) if a.status != 200 => Err(MetadataError::Other(format!(
                    "compute: Received {} `{}`",
                    a.status, a.body
                ))),
                Ok(a) => Ok(a.body),
            };
        }
    }

    async fn trimmed(&self, path: &str) -> Result<String, MetadataError> {
        self.get(path).await.map(|s| s.trim().to_string())
    }

    /// `instance/zone` and `instance/region` are paths; the last segment.
    async fn last_segment(&self, path: &str) -> Result<String, MetadataError> {
        let value = self.trimmed(path).await?;
        Ok(match value.rsplit_once('/') {
            Some((_, last)) => last.to_string(),
            None => value,
        })
    }
}

/// Whether the environment variable is set (even empty), as Go's
/// `LookupEnv` finds it.
fn is_set(name: &str) -> bool {
    std::env::var_os(name).is_some()
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Go's platforms, in the order it checks them.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Platform {
    Gke,
    CloudFunctions,
    CloudRun,
    CloudRunJob,
    CloudRunWorkerPool,
    AppEngineStandard,
    AppEngineFlex,
    Gce,
    Unknown,
}

async fn platform(md: &Metadata) -> Platform {
    if is_set("KUBERNETES_SERVICE_HOST")
        && md.get("instance/attributes/cluster-location").await.is_ok()
    {
        return Platform::Gke;
    }
    if is_set("FUNCTION_TARGET") {
        return Platform::CloudFunctions;
    }
    if is_set("K_CONFIGURATION") {
        return Platform::CloudRun;
    }
    if is_set("CLOUD_RUN_JOB") {
        return Platform::CloudRunJob;
    }
    if is_set("CLOUD_RUN_WORKER_POOL") {
        return Platform::CloudRunWorkerPool;
    }
    if env("GAE_ENV").as_deref() == Some("standard") {
        return Platform::AppEngineStandard;
    }
    if is_set("GAE_SERVICE") {
        return Platform::AppEngineFlex;
    }
    if md.get("instance/machine-type").await.is_ok() {
        return Platform::Gce;
    }
    Platform::Unknown
}

/// Bare Metal Solution: its three variables, all set and not empty.
fn bare_metal_solution() -> Option<(String, String, String)> {
    let project = env("BMS_PROJECT_ID").filter(|v| !v.is_empty())?;
    let region = env("BMS_REGION").filter(|v| !v.is_empty())?;
    let instance = env("BMS_INSTANCE_ID").filter(|v| !v.is_empty())?;
    Some((project, region, instance))
}

static ON_GCE: tokio::sync::OnceCell<bool> = tokio::sync::OnceCell::const_new();

/// Go's `metadata.OnGCE`, decided once per process as Go caches it.
async fn on_gce() -> bool {
    if !std::env::var(HOST_VARIABLE).unwrap_or_default().is_empty() {
        return true;
    }
    *ON_GCE.get_or_init(probe).await
}

async fn probe() -> bool {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<bool>(2);
    let http_tx = tx.clone();
    let http = tokio::spawn(async move {
        let answer = crate::http_get::get(
            &format!("http://{METADATA_IP}"),
            &[("User-Agent", USER_AGENT)],
            Duration::from_secs(5),
        )
        .await;
        let google = answer.is_ok_and(|a| {
            a.headers
                .get("Metadata-Flavor")
                .is_some_and(|v| v.as_bytes() == b"Google")
        });
        let _ = http_tx.send(google).await;
    });
    let dns = tokio::spawn(async move {
        let found = match tokio::net::lookup_host(("metadata.google.internal.", 80)).await {
            Ok(addrs) => addrs.into_iter().any(|a| a.ip().to_string() == METADATA_IP),
            Err(_) => false,
        };
        let _ = tx.send(found).await;
    });
    let product = std::fs::read_to_string("/sys/class/dmi/id/product_name").unwrap_or_default();
    let try_harder = matches!(product.trim(), "Google" | "Google Compute Engine");
    let first = rx.recv().await.unwrap_or(false);
    let result = if first || !try_harder {
        first
    } else {
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .ok()
            .flatten()
            .unwrap_or(false)
    };
    http.abort();
    dns.abort();
    result
}

/// Collects what is detected and the errors of what is not.
struct Found<'a> {
    attributes: Attributes<'a>,
    errors: Vec<String>,
}

impl Found<'_> {
    fn set(&mut self, key: &str, value: Result<String, MetadataError>) {
        match value {
            Ok(v) => self.attributes.set(key, v),
            Err(e) => self.errors.push(e.to_string()),
        }
    }

    fn set_env(&mut self, key: &str, value: Option<String>) {
        match value {
            Some(v) => self.attributes.set(key, v),
            None => self.errors.push("environment variable not found".into()),
        }
    }

    /// GCE's zone and the region it is in (`us-central1-a` → `us-central1`).
    async fn zone_and_region(&mut self, md: &Metadata) {
        match md.last_segment("instance/zone").await {
            Ok(zone) if zone.is_empty() => self
                .errors
                .push("no zone detected from GCE metadata server".into()),
            Ok(zone) => {
                let parts: Vec<&str> = zone.splitn(3, '-').collect();
                if parts.len() != 3 {
                    self.errors.push(format!(
                        "zone was not in the expected format: country-region-zone.  Got {zone}"
                    ));
                    return;
                }
                let region = parts[..2].join("-");
                self.attributes.set("cloud.availability_zone", zone);
                self.attributes.set("cloud.region", region);
            }
            Err(e) => self.errors.push(e.to_string()),
        }
    }
}

/// A GKE cluster's location: a zone (two dashes) or a region (one).
fn cluster_location(location: &str) -> Result<(Option<String>, String), String> {
    match location.matches('-').count() {
        1 => Ok((None, location.to_string())),
        2 => {
            let region = location
                .rsplit_once('-')
                .map_or(location, |(region, _)| region);
            Ok((Some(location.to_string()), region.to_string()))
        }
        _ => Err(format!(
            "unrecognized format for cluster location: {location}"
        )),
    }
}

/// The managed instance group from the `created-by` attribute:
/// `(name, zone or region, is_zone)`.
fn instance_group(created_by: &str) -> Option<(String, String, bool)> {
    let re = regex::Regex::new(
        r"^projects/[^/]+/(zones|regions)/([^/]+)/instanceGroupManagers/([^/]+)$",
    )
    .ok()?;
    let m = re.captures(created_by)?;
    Some((m[3].to_string(), m[2].to_string(), &m[1] == "zones"))
}

/// Runs the detector.
pub(crate) async fn detect(
    config: &GcpConfig,
    fail_on_missing_metadata: bool,
) -> Result<Vec<KeyValue>, String> {
    let mut found = Found {
        attributes: Attributes::new(&config.resource_attributes, ATTRIBUTES),
        errors: Vec::new(),
    };
    // No metadata server on Bare Metal Solution: before the probe.
    if let Some((project, region, instance)) = bare_metal_solution() {
        let a = &mut found.attributes;
        a.set("cloud.provider", "gcp");
        a.set("cloud.account.id", project);
        a.set("cloud.platform", "gcp_bare_metal_solution");
        a.set("host.name", instance);
        a.set("cloud.region", region);
        return Ok(found.attributes.emit());
    }
    if !on_gce().await {
        return Ok(Vec::new());
    }
    let md = Metadata::from_env();
    found.attributes.set("cloud.provider", "gcp");
    found.set("cloud.account.id", md.trimmed("project/project-id").await);
    match platform(&md).await {
        Platform::Gke => {
            found
                .attributes
                .set("cloud.platform", "gcp_kubernetes_engine");
            match md.get("instance/attributes/cluster-location").await {
                Ok(location) => match cluster_location(&location) {
                    Ok((zone, region)) => {
                        if let Some(zone) = zone {
                            found.attributes.set("cloud.availability_zone", zone);
                        }
                        found.attributes.set("cloud.region", region);
                    }
                    Err(e) => found.errors.push(e),
                },
                Err(e) => found.errors.push(e.to_string()),
            }
            found.set(
                "k8s.cluster.name",
                md.get("instance/attributes/cluster-name").await,
            );
            found.set("host.id", md.trimmed("instance/id").await);
            // Not available with workload identity: Go logs and goes on.
            match md.trimmed("instance/name").await {
                Ok(name) => found.attributes.set("host.name", name),
                Err(e) => {
                    tracing::info!(key = "host.name", error = %e, "Fallible detector failed. This attribute will not be available.")
                }
            }
            if found.attributes.enabled("host.type") {
                tracing::info!(
                    key = "host.type",
                    error = "the machine type on GKE needs the Compute API, which ferrotel does not call",
                    "Fallible detector failed. This attribute will not be available."
                );
            }
        }
        p @ (Platform::CloudRun | Platform::CloudRunWorkerPool | Platform::CloudFunctions) => {
            let platform = if p == Platform::CloudFunctions {
                "gcp_cloud_functions"
            } else {
                "gcp_cloud_run"
            };
            found.attributes.set("cloud.platform", platform);
            found.set_env("faas.name", faas_name());
            found.set_env(
                "faas.version",
                env("CLOUD_RUN_REVISION").or_else(|| env("K_REVISION")),
            );
            found.set("faas.instance", md.trimmed("instance/id").await);
            found.set("cloud.region", md.last_segment("instance/region").await);
        }
        Platform::CloudRunJob => {
            found.attributes.set("cloud.platform", "gcp_cloud_run");
            found.set_env("faas.name", faas_name());
            found.set("cloud.region", md.last_segment("instance/region").await);
            found.set("faas.instance", md.trimmed("instance/id").await);
            found.set_env("gcp.cloud_run.job.execution", env("CLOUD_RUN_EXECUTION"));
            found.set_env("gcp.cloud_run.job.task_index", env("CLOUD_RUN_TASK_INDEX"));
        }
        Platform::AppEngineFlex => {
            found.attributes.set("cloud.platform", "gcp_app_engine");
            found.zone_and_region(&md).await;
            found.set_env("faas.name", env("GAE_SERVICE"));
            found.set_env("faas.version", env("GAE_VERSION"));
            found.set_env("faas.instance", env("GAE_INSTANCE"));
        }
        Platform::AppEngineStandard => {
            found.attributes.set("cloud.platform", "gcp_app_engine");
            found.set_env("faas.name", env("GAE_SERVICE"));
            found.set_env("faas.version", env("GAE_VERSION"));
            found.set_env("faas.instance", env("GAE_INSTANCE"));
            found.set(
                "cloud.availability_zone",
                md.last_segment("instance/zone").await,
            );
            found.set("cloud.region", md.last_segment("instance/region").await);
        }
        Platform::Gce => {
            found.attributes.set("cloud.platform", "gcp_compute_engine");
            found.zone_and_region(&md).await;
            found.set("host.type", md.get("instance/machine-type").await);
            found.set("host.id", md.trimmed("instance/id").await);
            found.set("host.name", md.trimmed("instance/name").await);
            found.set(
                "gcp.gce.instance.hostname",
                md.trimmed("instance/hostname").await,
            );
            found.set("gcp.gce.instance.name", md.trimmed("instance/name").await);
            match md.get("instance/attributes/created-by").await {
                Ok(created_by) => {
                    if let Some((name, location, zonal)) = instance_group(&created_by) {
                        let a = &mut found.attributes;
                        a.set("gcp.gce.instance_group_manager.name", name);
                        if zonal {
                            a.set("gcp.gce.instance_group_manager.zone", location);
                        } else {
                            a.set("gcp.gce.instance_group_manager.region", location);
                        }
                    }
                }
                // Not created by an instance group.
                Err(MetadataError::NotDefined(_)) => {}
                Err(e) => found.errors.push(e.to_string()),
            }
        }
        Platform::Unknown => {}
    }
    if fail_on_missing_metadata && !found.errors.is_empty() {
        return Err(found.errors.join("; "));
    }
    if !found.errors.is_empty() {
        tracing::debug!(errors = %found.errors.join("; "), "some GCP attributes are not available");
    }
    Ok(found.attributes.emit())
}

/// `faas.name`: the service, job or worker pool.
fn faas_name() -> Option<String> {
    env("K_SERVICE")
        .or_else(|| env("CLOUD_RUN_JOB"))
        .or_else(|| env("CLOUD_RUN_WORKER_POOL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_locations_and_instance_groups() {
        assert_eq!(
            cluster_location("us-central1-c").unwrap(),
            (Some("us-central1-c".into()), "us-central1".into())
        );
        assert_eq!(
            cluster_location("europe-west1").unwrap(),
            (None, "europe-west1".into())
        );
        assert!(cluster_location("local").is_err());
        assert_eq!(
            instance_group("projects/123/zones/us-central1-a/instanceGroupManagers/web"),
            Some(("web".into(), "us-central1-a".into(), true))
        );
        assert_eq!(
            instance_group("projects/123/regions/us-central1/instanceGroupManagers/web"),
            Some(("web".into(), "us-central1".into(), false))
        );
        assert_eq!(instance_group("projects/123/instances/x"), None);
    }

    #[test]
    fn config_keys_and_refusals() {
        let c: GcpConfig = serde_yaml_ng::from_str(
            "resource_attributes: {gcp.gce.instance.name: {enabled: true}, host.type: {enabled: false}}",
        )
        .unwrap();
        assert!(c.validate().is_ok());
        let a = Attributes::new(&c.resource_attributes, ATTRIBUTES);
        assert!(a.enabled("gcp.gce.instance.name") && !a.enabled("host.type"));
        assert!(!a.enabled("gcp.gce.instance.hostname") && a.enabled("k8s.cluster.name"));
        let c: GcpConfig = serde_yaml_ng::from_str("labels: ['^team$']").unwrap();
        assert!(
            c.validate_at("gcp")
                .unwrap_err()
                .to_string()
                .starts_with("gcp::labels: reading GCE instance labels")
        );
        let c: GcpConfig = serde_yaml_ng::from_str("labels: ['(']").unwrap();
        assert!(c.validate().is_err());
        let c: GcpConfig =
            serde_yaml_ng::from_str("resource_attributes: {cloud.zone: {enabled: true}}").unwrap();
        assert!(c.validate().is_err());
    }

    #[test]
    fn metadata_errors_read_as_gos() {
        assert_eq!(
            MetadataError::NotDefined("instance/zone".into()).to_string(),
            "metadata: GCE metadata \"instance/zone\" not defined"
        );
    }
}
