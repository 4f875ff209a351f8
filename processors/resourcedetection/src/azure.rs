//! The `azure` and `aks` detectors: the VM's compute metadata from the
//! Azure instance metadata service, read as contrib's
//! `metadataproviders/azure` does: `GET
//! http://169.254.169.254/metadata/instance/compute?api-version=2020-09-01&format=json`
//! with `Metadata: true`, decoded with Go's case-insensitive field names.
//! No answer, an error status or a body that does not decode: not on Azure,
//! nothing detected (unless `fail_on_missing_metadata`). Go waits for the
//! service until the detection's deadline, so ferrotel does too.
//!
//! Go hardcodes the address; `FERROTEL_AZURE_IMDS_ENDPOINT` (a base URL,
//! `http://host:port`) replaces it, a ferrotel-only hook for tests.
//!
//! `aks` runs only in a pod (`KUBERNETES_SERVICE_HOST` set) and names the
//! cluster from the infrastructure resource group
//! (`MC_<group>_<cluster>_<location>`).

use crate::{Attributes, Toggle, check_attributes, put};
use ferrotel_core::config::{Invalid, Validate};
use ferrotel_core::pdata::common::KeyValue;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
const ENDPOINT_VARIABLE: &str = "FERROTEL_AZURE_IMDS_ENDPOINT";
const TAG_PREFIX: &str = "azure.tag.";

/// The `azure` attributes, with Go's defaults. `azure.resource_group.name`
/// is emitted instead of `azure.resourcegroup.name` only with Go's alpha
/// `processor.azuredetector.RenameResourceGroupAttribute` gate, which
/// ferrotel does not have: the key is accepted, the old name emitted.
const VM_ATTRIBUTES: &[(&str, bool)] = &[
    ("azure.resource_group.name", true),
    ("azure.resourcegroup.name", true),
    ("azure.vm.name", true),
    ("azure.vm.scaleset.name", true),
    ("azure.vm.size", true),
    ("cloud.account.id", true),
    ("cloud.availability_zone", false),
    ("cloud.platform", true),
    ("cloud.provider", true),
    ("cloud.region", true),
    ("host.id", true),
    ("host.name", true),
];

/// The `aks` attributes, with Go's defaults.
const AKS_ATTRIBUTES: &[(&str, bool)] = &[
    ("cloud.platform", true),
    ("cloud.provider", true),
    ("k8s.cluster.name", false),
];

/// `azure` settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AzureConfig {
    /// Regular expressions of the VM tag names to add as
    /// `azure.tag.<name>`.
    pub tags: Vec<String>,
    /// Which attributes to emit.
    pub resource_attributes: BTreeMap<String, Toggle>,
}

impl Validate for AzureConfig {
    fn validate(&self) -> Result<(), Invalid> {
        check_attributes(&self.resource_attributes, VM_ATTRIBUTES)?;
        for tag in &self.tags {
            ferrotel_goregex::compile(tag).map_err(|e| Invalid::at("tags", e.to_string()))?;
        }
        Ok(())
    }
}

/// `aks` settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AksConfig {
    /// Which attributes to emit.
    pub resource_attributes: BTreeMap<String, Toggle>,
}

impl Validate for AksConfig {
    fn validate(&self) -> Result<(), Invalid> {
        check_attributes(&self.resource_attributes, AKS_ATTRIBUTES)
    }
}

/// The fields of the compute metadata the detectors use (Go's
/// `ComputeMetadata`).
#[derive(Debug, Default, PartialEq)]
struct Compute {
    location: String,
    name: String,
    vm_id: String,
    vm_size: String,
    subscription_id: String,
    resource_group_name: String,
    vm_scale_set_name: String,
    zone: String,
    computer_name: String,
    tags: Vec<(String, String)>,
}

/// The member of `object` named `name`, as Go's `encoding/json` finds it:
/// the exact name first, else one that differs only in case.
fn field<'a>(object: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// A string field; absent or null is empty, another type an error (Go's
/// `cannot unmarshal`).
fn string(object: &serde_json::Map<String, Value>, name: &str) -> Result<String, String> {
    match field(object, name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!(
            "json: cannot unmarshal {} into Go struct field ComputeMetadata.{name} of type string",
            json_kind(other)
        )),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        _ => "string",
    }
}

/// Decodes the compute metadata as Go does.
fn decode(body: &str) -> Result<Compute, String> {
    let decode_error = |e: String| format!("failed to decode Azure IMDS reply: {e}");
    let value: Value = serde_json::from_str(body).map_err(|e| decode_error(e.to_string()))?;
    let empty = serde_json::Map::new();
    let object = match &value {
        Value::Object(o) => o,
        // Go decodes `null` into a nil pointer; fields then read empty.
        Value::Null => &empty,
        other => {
            return Err(decode_error(format!(
                "json: cannot unmarshal {} into Go value of type azure.ComputeMetadata",
                json_kind(other)
            )));
        }
    };
    let s = |name| string(object, name).map_err(decode_error);
    let computer_name = match field(object, "osProfile") {
        Some(Value::Object(profile)) => string(profile, "computerName").map_err(decode_error)?,
        _ => String::new(),
    };
    let mut tags = Vec::new();
    if let Some(Value::Array(list)) = field(object, "tagsList") {
        for tag in list {
            if let Value::Object(tag) = tag {
                tags.push((
                    string(tag, "name").map_err(decode_error)?,
                    string(tag, "value").map_err(decode_error)?,
                ));
            }
        }
    }
    Ok(Compute {
        location: s("location")?,
        name: s("name")?,
        vm_id: s("vmID")?,
        vm_size: s("vmSize")?,
        subscription_id: s("subscriptionID")?,
        resource_group_name: s("resourceGroupName")?,
        vm_scale_set_name: s("vmScaleSetName")?,
        zone: s("zone")?,
        computer_name,
        tags,
    })
}

/// Asks IMDS for the compute metadata, waiting at most `budget`.
async fn metadata(budget: Duration) -> Result<Compute, String> {
    let endpoint = std::env::var(ENDPOINT_VARIABLE)
        .ok()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
    let url = format!(
        "{}/metadata/instance/compute?api-version=2020-09-01&format=json",
        endpoint.trim_end_matches('/')
    );
    // Go's client has no timeout of its own: the detection's deadline ends
    // it, which ferrotel reaches just before its own.
    let wait = budget.saturating_sub(Duration::from_millis(100));
    let answer = crate::http_get::get(&url, &[("Metadata", "true")], wait)
        .await
        .map_err(|e| format!("failed to query Azure IMDS: {e}"))?;
    if answer.status != 200 {
        let reason = http::StatusCode::from_u16(answer.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or_default();
        return Err(format!(
            "Azure IMDS replied with status code: {} {reason}",
            answer.status
        ));
    }
    decode(&answer.body)
}

/// The `azure` attributes of `compute`, in Go's order.
fn vm_attributes(config: &AzureConfig, patterns: &[regex::Regex], c: Compute) -> Vec<KeyValue> {
    let mut a = Attributes::new(&config.resource_attributes, VM_ATTRIBUTES);
    a.set("cloud.provider", "azure");
    a.set("cloud.platform", "azure_vm");
    // osProfile.computerName, else the VM's name (VMs from specialized
    // disks have no computer name).
    if !c.computer_name.is_empty() {
        a.set("host.name", c.computer_name);
    } else if !c.name.is_empty() {
        a.set("host.name", c.name.clone());
    }
    a.set("cloud.region", c.location);
    a.set("host.id", c.vm_id);
    a.set("cloud.account.id", c.subscription_id);
    if !c.zone.is_empty() {
        a.set("cloud.availability_zone", c.zone);
    }
    a.set("azure.vm.name", c.name);
    a.set("azure.vm.size", c.vm_size);
    if !c.vm_scale_set_name.is_empty() {
        a.set("azure.vm.scaleset.name", c.vm_scale_set_name);
    }
    a.set("azure.resourcegroup.name", c.resource_group_name);
    let mut out = a.emit();
    for (name, value) in c.tags {
        if patterns.iter().any(|p| p.is_match(&name)) {
            put(&mut out, &format!("{TAG_PREFIX}{name}"), value);
        }
    }
    out
}

/// Runs the `azure` detector within `budget`.
pub(crate) async fn detect_vm(
    config: &AzureConfig,
    fail_on_missing_metadata: bool,
    budget: Duration,
) -> Result<Vec<KeyValue>, String> {
    let patterns: Vec<regex::Regex> = config
        .tags
        .iter()
        .filter_map(|t| ferrotel_goregex::compile(t).ok())
        .collect();
    match metadata(budget).await {
        Ok(compute) => Ok(vm_attributes(config, &patterns, compute)),
        Err(e) => crate::missing(
            "azure",
            fail_on_missing_metadata,
            format!("azure metadata unavailable: {e}"),
        ),
    }
}

/// The cluster's name from the infrastructure resource group: the
/// `<cluster>` of `MC_<group>_<cluster>_<location>`, else the group's name
/// (a custom infrastructure group, or names with underscores).
fn cluster_name(resource_group: &str) -> String {
    let parts: Vec<&str> = resource_group.split('_').collect();
    if parts.len() == 4 && parts[0].eq_ignore_ascii_case("mc") {
        return parts[2].to_string();
    }
    resource_group.to_string()
}

/// Runs the `aks` detector within `budget`.
pub(crate) async fn detect_aks(
    config: &AksConfig,
    fail_on_missing_metadata: bool,
    budget: Duration,
) -> Result<Vec<KeyValue>, String> {
    if std::env::var("KUBERNETES_SERVICE_HOST")
        .unwrap_or_default()
        .is_empty()
    {
        return Ok(Vec::new());
    }
    let compute = match metadata(budget).await {
        Ok(compute) => compute,
        // Go: no answer means not on Azure.
        Err(e) if fail_on_missing_metadata => return Err(format!("aks metadata unavailable: {e}")),
        Err(_) => return Ok(Vec::new()),
    };
    let mut a = Attributes::new(&config.resource_attributes, AKS_ATTRIBUTES);
    a.set("cloud.provider", "azure");
    a.set("cloud.platform", "azure_aks");
    a.set(
        "k8s.cluster.name",
        cluster_name(&compute.resource_group_name),
    );
    Ok(a.emit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(attrs: &[KeyValue]) -> Vec<String> {
        attrs
            .iter()
            .map(
                |kv| match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                    Some(ferrotel_core::pdata::common::any_value::Value::StringValue(s)) => {
                        format!("{}={s}", kv.key)
                    }
                    _ => format!("{}=?", kv.key),
                },
            )
            .collect()
    }

    #[test]
    fn decodes_with_gos_case_insensitive_names() {
        // IMDS writes vmId and subscriptionId; Go's struct says vmID and
        // subscriptionID, and encoding/json matches them regardless of case.
        let c = decode(
            r#"{"location":"westus","name":"vm1","vmId":"02aab8a4","vmSize":"Standard_A3",
                "subscriptionId":"sub","resourceGroupName":"rg","vmScaleSetName":"",
                "zone":"1","osProfile":{"computerName":"host1"},
                "tagsList":[{"name":"team","value":"a"},{"name":"env","value":"prod"}],
                "extra":{"nested":1}}"#,
        )
        .unwrap();
        assert_eq!(c.vm_id, "02aab8a4");
        assert_eq!(c.subscription_id, "sub");
        assert_eq!(c.computer_name, "host1");
        assert_eq!(c.tags.len(), 2);
        assert!(
            decode(r#"{"location": 3}"#)
                .unwrap_err()
                .contains("cannot unmarshal number")
        );
        assert!(decode("not json").is_err());
        assert_eq!(decode("null").unwrap(), Compute::default());
    }

    #[test]
    fn vm_attributes_follow_gos_defaults_and_fallbacks() {
        let compute = || Compute {
            location: "westus".into(),
            name: "vm1".into(),
            vm_id: "id".into(),
            vm_size: "Standard_A3".into(),
            subscription_id: "sub".into(),
            resource_group_name: "rg".into(),
            zone: "2".into(),
            tags: vec![("team".into(), "a".into()), ("secret".into(), "b".into())],
            ..Compute::default()
        };
        let config = AzureConfig::default();
        let patterns = [regex::Regex::new("^team$").unwrap()];
        assert_eq!(
            pairs(&vm_attributes(&config, &patterns, compute())),
            [
                "cloud.provider=azure",
                "cloud.platform=azure_vm",
                "host.name=vm1",
                "cloud.region=westus",
                "host.id=id",
                "cloud.account.id=sub",
                "azure.vm.name=vm1",
                "azure.vm.size=Standard_A3",
                "azure.resourcegroup.name=rg",
                "azure.tag.team=a",
            ],
            "no computer name: the VM name; the zone off by default; no scale set"
        );
        let config: AzureConfig = serde_yaml_ng::from_str(
            "resource_attributes: {cloud.availability_zone: {enabled: true}, azure.vm.size: {enabled: false}}",
        )
        .unwrap();
        let got = pairs(&vm_attributes(&config, &[], compute()));
        assert!(got.contains(&"cloud.availability_zone=2".to_string()));
        assert!(!got.iter().any(|a| a.starts_with("azure.vm.size")));
    }

    #[test]
    fn aks_cluster_name_as_go_parses_it() {
        assert_eq!(
            cluster_name("MC_my-resource-group_my-cluster_eastus"),
            "my-cluster"
        );
        assert_eq!(cluster_name("mc_rg_cluster_westus"), "cluster");
        assert_eq!(
            cluster_name("MC_my_group_cluster_eastus"),
            "MC_my_group_cluster_eastus"
        );
        assert_eq!(cluster_name("custom-infra"), "custom-infra");
    }

    #[test]
    fn config_keys_are_checked() {
        let c: AzureConfig = serde_yaml_ng::from_str("tags: ['(']").unwrap();
        assert!(
            c.validate_at("azure")
                .unwrap_err()
                .to_string()
                .starts_with("azure::tags:")
        );
        let c: AksConfig =
            serde_yaml_ng::from_str("resource_attributes: {host.name: {enabled: true}}").unwrap();
        assert!(c.validate().is_err());
        let c: AksConfig =
            serde_yaml_ng::from_str("resource_attributes: {k8s.cluster.name: {enabled: true}}")
                .unwrap();
        assert!(c.validate().is_ok());
    }
}
