//! The `k8s_api` detector (Go's `k8sapi`; `k8snode` is its deprecated
//! name): reads `k8s.node.name` from the environment variable named by
//! `node_from_env_var` (default `K8S_NODE_NAME`, set from the downward
//! API). Go also asks the API server for the node's uid and machine id and
//! the cluster's uid (kube-system's namespace uid); ferrotel does not read
//! the API yet, so those attributes are refused when enabled. Without the
//! variable nothing is detected and it is not an error, as in Go, unless
//! `fail_on_missing_metadata`. Go also finds nothing outside a pod
//! (`KUBERNETES_SERVICE_HOST` unset), because it builds the API client
//! first; ferrotel, reading no API, takes the variable wherever it is set.

use crate::{Attributes, Toggle, check_attributes};
use ferrotel_core::config::{Invalid, Validate};
use ferrotel_core::pdata::common::KeyValue;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Go's `auth_type` values for the Kubernetes API.
pub(crate) const AUTH_TYPES: [&str; 4] = ["none", "serviceAccount", "kubeConfig", "tls"];

/// The attributes, with Go's defaults.
const ATTRIBUTES: &[(&str, bool)] = &[
    ("host.id", false),
    ("k8s.cluster.uid", true),
    ("k8s.node.name", true),
    ("k8s.node.uid", true),
];

/// `k8s_api` (and `k8snode`) settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct K8sApiConfig {
    /// How to authenticate to the API server: `none`, `serviceAccount`
    /// (default), `kubeConfig` or `tls`. Checked, not used yet.
    pub auth_type: String,
    /// With `kubeConfig`, the context to use. Not used yet.
    pub context: String,
    /// Client-side burst of API requests. Not used yet.
    pub kube_api_burst: Option<i64>,
    /// Client-side API requests per second. Not used yet.
    pub kube_api_qps: Option<f32>,
    /// The variable holding the node name. Default (and when empty)
    /// `K8S_NODE_NAME`.
    pub node_from_env_var: String,
    /// Which attributes to emit.
    pub resource_attributes: BTreeMap<String, Toggle>,
}

impl Default for K8sApiConfig {
    fn default() -> Self {
        K8sApiConfig {
            auth_type: "serviceAccount".into(),
            context: String::new(),
            kube_api_burst: None,
            kube_api_qps: None,
            node_from_env_var: "K8S_NODE_NAME".into(),
            resource_attributes: BTreeMap::new(),
        }
    }
}

/// Go's `APIConfig.Validate`.
pub(crate) fn check_auth_type(auth_type: &str) -> Result<(), Invalid> {
    if AUTH_TYPES.contains(&auth_type) {
        Ok(())
    } else {
        Err(Invalid::at(
            "auth_type",
            format!("invalid authType for kubernetes: {auth_type}"),
        ))
    }
}

impl Validate for K8sApiConfig {
    fn validate(&self) -> Result<(), Invalid> {
        check_auth_type(&self.auth_type)?;
        check_attributes(&self.resource_attributes, ATTRIBUTES)?;
        for key in ["host.id", "k8s.node.uid", "k8s.cluster.uid"] {
            // Go's defaults enable the uids; only an explicit `enabled:
            // true` asks for what ferrotel cannot read.
            if self.resource_attributes.get(key).is_some_and(|t| t.enabled) {
                return Err(Invalid::at(
                    format!("resource_attributes::{key}"),
                    "needs the Kubernetes API, which ferrotel does not read yet",
                ));
            }
        }
        Ok(())
    }
}

impl K8sApiConfig {
    /// The variable holding the node name (Go's `UpdateDefaults`).
    fn node_variable(&self) -> &str {
        if self.node_from_env_var.is_empty() {
            "K8S_NODE_NAME"
        } else {
            &self.node_from_env_var
        }
    }
}

/// Runs the detector.
pub(crate) fn detect(
    config: &K8sApiConfig,
    fail_on_missing_metadata: bool,
) -> Result<Vec<KeyValue>, String> {
    let name = std::env::var(config.node_variable()).unwrap_or_default();
    if name.is_empty() {
        return crate::missing(
            "k8s_api",
            fail_on_missing_metadata,
            "k8s node metadata unavailable: node name can't be found. Check the readme on how to set the required env variable".into(),
        );
    }
    let mut attributes = Attributes::new(&config.resource_attributes, ATTRIBUTES);
    attributes.set("k8s.node.name", name);
    Ok(attributes.emit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_defaults_are_gos() {
        let c: K8sApiConfig = serde_yaml_ng::from_str(
            "auth_type: kubeConfig\ncontext: dev\nkube_api_qps: 5\nkube_api_burst: 10\nnode_from_env_var: MY_NODE\nresource_attributes: {k8s.node.uid: {enabled: false}}",
        )
        .unwrap();
        assert!(c.validate().is_ok());
        assert_eq!(c.node_variable(), "MY_NODE");
        let d = K8sApiConfig::default();
        assert_eq!(
            (d.auth_type.as_str(), d.node_variable()),
            ("serviceAccount", "K8S_NODE_NAME")
        );
        let empty = K8sApiConfig {
            node_from_env_var: String::new(),
            ..K8sApiConfig::default()
        };
        assert_eq!(empty.node_variable(), "K8S_NODE_NAME");
    }

    #[test]
    fn refuses_what_go_refuses_and_what_needs_the_api() {
        let c: K8sApiConfig = serde_yaml_ng::from_str("auth_type: token").unwrap();
        assert_eq!(
            c.validate_at("k8s_api").unwrap_err().to_string(),
            "k8s_api::auth_type: invalid authType for kubernetes: token"
        );
        let c: K8sApiConfig =
            serde_yaml_ng::from_str("resource_attributes: {k8s.node.uid: {enabled: true}}")
                .unwrap();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("Kubernetes API")
        );
        let c: K8sApiConfig =
            serde_yaml_ng::from_str("resource_attributes: {k8s.pod.name: {enabled: true}}")
                .unwrap();
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "resource_attributes::k8s.pod.name: unknown attribute"
        );
    }

    #[test]
    fn without_the_variable_nothing_is_detected() {
        let c = K8sApiConfig {
            node_from_env_var: "FERROTEL_TEST_UNSET_NODE_VARIABLE".into(),
            ..K8sApiConfig::default()
        };
        assert!(detect(&c, false).unwrap().is_empty());
        assert!(
            detect(&c, true)
                .unwrap_err()
                .starts_with("k8s node metadata unavailable: node name can't be found")
        );
    }
}
