//! The `eks` detector, as contrib's `internal/aws/eks` decides and reads:
//!
//! - outside Kubernetes (`KUBERNETES_SERVICE_HOST` unset, or
//!   `KUBERNETES_SERVICE_PORT` unset with an `auth_type` other than
//!   `kubeConfig`) nothing is detected; with `auth_type: serviceAccount`
//!   the pod's token (`/var/run/secrets/kubernetes.io/serviceaccount/token`)
//!   must be readable, as Go's in-cluster client requires, or detection
//!   fails;
//! - on EKS when the pod's web identity token (`AWS_WEB_IDENTITY_TOKEN_FILE`,
//!   IRSA) or Pod Identity token (`AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`)
//!   is EKS's. Go then also asks the API server for its OIDC issuer and
//!   version (`-eks-`); ferrotel does not read the API yet, so a pod
//!   without either token is taken for another Kubernetes, which is what
//!   Go concludes when it cannot reach the API;
//! - `cloud.provider` and `cloud.platform`, then, when the EC2 instance
//!   metadata service answers `instance-id` at the first try, the instance
//!   identity from it (`ec2.rs`'s client). `k8s.cluster.name` comes from the
//!   EC2 DescribeInstances API, which ferrotel does not call: a config that
//!   enables it runs, with a warning, without the attribute. Without IMDS Go reads the node's `providerID` from the
//!   API and DescribeInstances; ferrotel, reading neither, emits the two
//!   cloud attributes only, as Go does when those calls fail.

use crate::ec2::Imds;
use crate::k8s_api::check_auth_type;
use crate::{Attributes, Toggle, check_attributes};
use ferrotel_core::config::{Invalid, Validate};
use ferrotel_core::pdata::common::KeyValue;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

const TOKEN_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/// The attributes, with Go's defaults.
const ATTRIBUTES: &[(&str, bool)] = &[
    ("cloud.account.id", false),
    ("cloud.availability_zone", false),
    ("cloud.platform", true),
    ("cloud.provider", true),
    ("cloud.region", false),
    ("host.id", false),
    ("host.image.id", false),
    ("host.name", false),
    ("host.type", false),
    ("k8s.cluster.name", false),
];

/// `eks` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct EksConfig {
    /// How to authenticate to the API server: `none`, `serviceAccount`
    /// (default), `kubeConfig` or `tls`.
    pub auth_type: String,
    /// With `kubeConfig`, the context to use. Not used yet.
    pub context: String,
    /// Client-side burst of API requests. Not used yet.
    pub kube_api_burst: Option<i64>,
    /// Client-side API requests per second. Not used yet.
    pub kube_api_qps: Option<f32>,
    /// The variable holding the node name (Go reads the node from the API
    /// when IMDS does not answer). Not used yet.
    pub node_from_env_var: String,
    /// Which attributes to emit.
    pub resource_attributes: BTreeMap<String, Toggle>,
}

impl Default for EksConfig {
    fn default() -> Self {
        EksConfig {
            auth_type: "serviceAccount".into(),
            context: String::new(),
            kube_api_burst: None,
            kube_api_qps: None,
            node_from_env_var: String::new(),
            resource_attributes: BTreeMap::new(),
        }
    }
}

impl Validate for EksConfig {
    fn validate(&self) -> Result<(), Invalid> {
        check_auth_type(&self.auth_type)?;
        check_attributes(&self.resource_attributes, ATTRIBUTES)?;
        Ok(())
    }
}

fn set(name: &str) -> bool {
    !std::env::var(name).unwrap_or_default().is_empty()
}

/// On EKS, by what the pod's environment says without the API server.
fn is_eks() -> bool {
    let irsa = std::env::var("AWS_WEB_IDENTITY_TOKEN_FILE").unwrap_or_default();
    let pod_identity = std::env::var("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").unwrap_or_default();
    irsa.contains("eks.amazonaws.com") || pod_identity.contains("eks-pod-identity")
}

/// Runs the detector.
pub(crate) async fn detect(
    config: &EksConfig,
    fail_on_missing_metadata: bool,
) -> Result<Vec<KeyValue>, String> {
    if !set("KUBERNETES_SERVICE_HOST") {
        return not_eks(fail_on_missing_metadata, "not running on EKS");
    }
    if config.auth_type != "kubeConfig" && !set("KUBERNETES_SERVICE_PORT") {
        return not_eks(
            fail_on_missing_metadata,
            "not running in Kubernetes: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set",
        );
    }
    if config.auth_type == "serviceAccount"
        && let Err(e) = std::fs::metadata(TOKEN_FILE)
    {
        return Err(format!(
            "failed initializing eks detector: failed to initialize provider. Could not load cluster config: open {TOKEN_FILE}: {e}"
        ));
    }
    if !is_eks() {
        tracing::debug!(
            "Unable to identify EKS environment: no EKS web identity or pod identity token, and ferrotel does not ask the API server"
        );
        return not_eks(fail_on_missing_metadata, "not running on EKS");
    }
    let mut a = Attributes::new(&config.resource_attributes, ATTRIBUTES);
    a.set("cloud.provider", "aws");
    a.set("cloud.platform", "aws_eks");
    if a.enabled("k8s.cluster.name") {
        // Go asks DescribeInstances with the node's credentials; a config
        // that enables it still runs here, without the attribute.
        tracing::warn!(
            "eks: k8s.cluster.name needs the EC2 DescribeInstances API, which ferrotel does not call; it is left out"
        );
    }

    // Go checks IMDS with a single attempt, then reads it with the SDK's
    // default of three.
    let mut check = Imds::new(1, Duration::from_secs(20));
    let accessible = !crate::ec2::disabled()
        && check.authenticate().await.is_ok()
        && check.get("/latest/meta-data/instance-id").await.is_ok();
    if !accessible {
        // Go reads the node's providerID and DescribeInstances here.
        if fail_on_missing_metadata {
            return Err("EKS k8s instance metadata unavailable: the EC2 metadata service does not answer and ferrotel does not read the Kubernetes API".into());
        }
        tracing::debug!("EC2 Metadata service is not accessible");
        return Ok(a.emit());
    }
    let mut imds = Imds::new(3, Duration::from_secs(20));
    let document = match imds.authenticate().await {
        Ok(()) => imds.identity().await,
        Err(e) => Err(e),
    };
    let document = match document {
        Ok(d) => d,
        Err(e) if fail_on_missing_metadata => return Err(e.to_string()),
        Err(e) => {
            tracing::debug!(error = %e, "EKS IMDS metadata unavailable");
            return Ok(a.emit());
        }
    };
    a.set("host.id", document.instance_id);
    a.set("cloud.availability_zone", document.availability_zone);
    a.set("cloud.region", document.region);
    a.set("cloud.account.id", document.account_id);
    a.set("host.image.id", document.image_id);
    a.set("host.type", document.instance_type);
    match imds.get("/latest/meta-data/hostname").await {
        Ok(hostname) => a.set("host.name", hostname.trim()),
        Err(e) if fail_on_missing_metadata => return Err(e.to_string()),
        Err(e) => tracing::debug!(error = %e, "EKS IMDS hostname unavailable"),
    }
    Ok(a.emit())
}

fn not_eks(fail_on_missing_metadata: bool, why: &str) -> Result<Vec<KeyValue>, String> {
    crate::missing(
        "eks",
        fail_on_missing_metadata,
        format!("eks metadata unavailable: {why}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_defaults_and_refusals() {
        let c: EksConfig = serde_yaml_ng::from_str(
            "auth_type: none\nnode_from_env_var: K8S_NODE_NAME\nresource_attributes: {host.id: {enabled: true}, cloud.region: {enabled: true}}",
        )
        .unwrap();
        assert!(c.validate().is_ok());
        let a = Attributes::new(&c.resource_attributes, ATTRIBUTES);
        assert!(a.enabled("host.id") && a.enabled("cloud.provider"));
        assert!(!a.enabled("host.name"), "off by default in Go");
        // Go takes it (and calls DescribeInstances at start).
        let c: EksConfig =
            serde_yaml_ng::from_str("resource_attributes: {k8s.cluster.name: {enabled: true}}")
                .unwrap();
        assert!(c.validate_at("eks").is_ok());
        let c: EksConfig = serde_yaml_ng::from_str("auth_type: bearer").unwrap();
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "auth_type: invalid authType for kubernetes: bearer"
        );
    }
}
