//! The `openshift` detector: the cluster's `Infrastructure` status from the
//! API server (`GET /apis/config.openshift.io/v1/infrastructures/cluster/status`
//! with the service account's bearer token), as the OpenTelemetry Go
//! contrib detector v0.19.0 that contrib v0.165.0 runs reads it:
//! `infrastructureName` as `k8s.cluster.name`, the platform type as
//! `cloud.provider`/`cloud.platform` and its region as `cloud.region`;
//! Azure's and OpenStack's `cloudName` as `cloud.region` when the platform
//! gives none (Go's default, before its `removeCloudNameRegion` gate).
//! Not on OpenShift (no service address or token, or a 4xx other than
//! 401/403): nothing detected.

use crate::{Attributes, Toggle, check_attributes};
use bytes::Bytes;
use ferrotel_core::config::{Invalid, Opaque, Validate};
use ferrotel_core::pdata::common::KeyValue;
use ferrotel_core::tls::TlsClientSettings;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// The attributes, with Go's defaults (all on), in the order Go's SDK
/// resource sorts them.
const ATTRIBUTES: &[(&str, bool)] = &[
    ("cloud.platform", true),
    ("cloud.provider", true),
    ("cloud.region", true),
    ("k8s.cluster.name", true),
];

const TOKEN_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";
const CA_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
const STATUS_PATH: &str = "/apis/config.openshift.io/v1/infrastructures/cluster/status";

/// `openshift` settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OpenshiftConfig {
    /// The API server; default `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`.
    pub address: String,
    /// The bearer token; default the service account's token file.
    pub token: Opaque,
    /// TLS to the API server; without it, the service account's CA.
    pub tls: Option<TlsClientSettings>,
    /// Which attributes to emit.
    pub resource_attributes: BTreeMap<String, Toggle>,
}

impl Validate for OpenshiftConfig {
    fn validate(&self) -> Result<(), Invalid> {
        if let Some(tls) = &self.tls {
            tls.validate_at("tls")?;
        }
        check_attributes(&self.resource_attributes, ATTRIBUTES)
    }
}

/// Detects, or finds nothing when this is not OpenShift.
pub(crate) async fn detect(c: &OpenshiftConfig, fail: bool) -> Result<Vec<KeyValue>, String> {
    let Some((address, token)) = where_to_ask(c) else {
        return crate::missing("openshift", fail, "openshift metadata unavailable".into());
    };
    let status = match infrastructure(&address, &token, c).await {
        Ok(Some(status)) => status,
        Ok(None) => {
            return crate::missing("openshift", fail, "openshift metadata unavailable".into());
        }
        Err(e) => {
            tracing::warn!(error = %e, "OpenShift detector metadata retrieval failed");
            return if fail { Err(e) } else { Ok(Vec::new()) };
        }
    };
    Ok(attributes(&status, &c.resource_attributes))
}

/// The address and token, from the config or the pod's environment.
fn where_to_ask(c: &OpenshiftConfig) -> Option<(String, String)> {
    let address = if c.address.is_empty() {
        let host = std::env::var("KUBERNETES_SERVICE_HOST").unwrap_or_default();
        let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_default();
        if host.is_empty() || port.is_empty() {
            return None;
        }
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        format!("https://{host}:{port}")
    } else {
        c.address.trim_end_matches('/').to_string()
    };
    let token = if c.token.0.is_empty() {
        std::fs::read_to_string(TOKEN_PATH).ok()?.trim().to_string()
    } else {
        c.token.0.clone()
    };
    (!token.is_empty()).then_some((address, token))
}

/// The `status` of the cluster's Infrastructure; `None` when the server
/// says this is not OpenShift.
async fn infrastructure(
    address: &str,
    token: &str,
    c: &OpenshiftConfig,
) -> Result<Option<Value>, String> {
    let https = address.starts_with("https://");
    let mut tls = c.tls.clone().unwrap_or_default();
    let own_ca = tls.insecure
        || tls.insecure_skip_verify
        || tls.include_system_ca_certs_pool
        || !tls.ca_file.is_empty()
        || !tls.ca_pem.is_empty();
    if https && !own_ca {
        tls.ca_file = CA_PATH.into();
    }
    let connector = tls.connector(false, https)?;
    let client = Client::builder(TokioExecutor::new()).build::<_, Empty<Bytes>>(connector);
    let url = format!("{address}{STATUS_PATH}");
    let request = http::Request::get(&url)
        .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Empty::new())
        .map_err(|e| format!("infrastructure request: {e}"))?;
    let exchange = async {
        let response = client
            .request(request)
            .await
            .map_err(|e| format!("infrastructure request: Get {url:?}: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("infrastructure request: {e}"))?
            .to_bytes();
        Ok::<_, String>((status, body))
    };
    let (status, body) = tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .map_err(|_| format!("infrastructure request: Get {url:?}: context deadline exceeded"))??;
    match status {
        200..=299 => {}
        401 | 403 => {
            return Err(format!(
                "infrastructure request returned status {status}: check the service account token and its RBAC for config.openshift.io infrastructures/status"
            ));
        }
        400..=499 => return Ok(None),
        _ => return Err(format!("infrastructure request returned status {status}")),
    }
    let doc: Value = serde_json::from_slice(&body)
        .map_err(|e| format!("decode infrastructure response: {e}"))?;
    Ok(Some(doc.get("status").cloned().unwrap_or(Value::Null)))
}

/// The attributes of an Infrastructure status, in Go's order.
fn attributes(status: &Value, toggles: &BTreeMap<String, Toggle>) -> Vec<KeyValue> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let platform = &status["platformStatus"];
    let kind = text(&platform["type"]).to_lowercase();
    let cloud = match kind.as_str() {
        "aws" => Some(("aws", "aws_openshift", text(&platform["aws"]["region"]))),
        "azure" => Some(("azure", "azure.openshift", String::new())),
        "gcp" => Some(("gcp", "gcp_openshift", text(&platform["gcp"]["region"]))),
        "ibmcloud" => Some((
            "ibm_cloud",
            "ibm_cloud_openshift",
            text(&platform["ibmcloud"]["location"]),
        )),
        _ => None,
    };
    let mut out = Attributes::new(toggles, ATTRIBUTES);
    if let Some((provider, platform_name, _)) = &cloud {
        out.set("cloud.platform", *platform_name);
        out.set("cloud.provider", *provider);
    }
    let region = cloud.map(|(_, _, r)| r.to_lowercase()).unwrap_or_default();
    if !region.is_empty() {
        out.set("cloud.region", region.clone());
    }
    let cluster = text(&status["infrastructureName"]);
    if !cluster.is_empty() {
        out.set("k8s.cluster.name", cluster);
    }
    if region.is_empty() {
        // Go's legacy region: the cloud name of Azure and OpenStack.
        let legacy = match kind.as_str() {
            "azure" => text(&platform["azure"]["cloudName"]),
            "openstack" => text(&platform["openstack"]["cloudName"]),
            _ => String::new(),
        };
        if !legacy.is_empty() {
            out.set("cloud.region", legacy.to_lowercase());
        }
    }
    out.emit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_and_values(status: &str) -> Vec<(String, String)> {
        let status: Value = serde_json::from_str(status).unwrap();
        attributes(&status, &BTreeMap::new())
            .into_iter()
            .map(|kv| {
                let v = match kv.value.and_then(|v| v.value) {
                    Some(ferrotel_core::pdata::common::any_value::Value::StringValue(s)) => s,
                    _ => String::new(),
                };
                (kv.key, v)
            })
            .collect()
    }

    #[test]
    fn platforms_map_as_go_s() {
        assert_eq!(
            keys_and_values(
                r#"{"infrastructureName":"ocp-x7k2","platformStatus":{"type":"AWS","aws":{"region":"US-East-1"}}}"#
            ),
            [
                ("cloud.platform".into(), "aws_openshift".into()),
                ("cloud.provider".into(), "aws".into()),
                ("cloud.region".into(), "us-east-1".into()),
                ("k8s.cluster.name".into(), "ocp-x7k2".into()),
            ]
        );
        assert_eq!(
            keys_and_values(
                r#"{"infrastructureName":"a","platformStatus":{"type":"Azure","azure":{"cloudName":"AzurePublicCloud"}}}"#
            ),
            [
                ("cloud.platform".into(), "azure.openshift".into()),
                ("cloud.provider".into(), "azure".into()),
                ("k8s.cluster.name".into(), "a".into()),
                ("cloud.region".into(), "azurepubliccloud".into()),
            ]
        );
        assert_eq!(
            keys_and_values(r#"{"infrastructureName":"b","platformStatus":{"type":"BareMetal"}}"#),
            [("k8s.cluster.name".to_string(), "b".to_string())]
        );
    }
}
