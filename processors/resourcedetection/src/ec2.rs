//! The `ec2` detector: the instance's identity from the EC2 instance
//! metadata service (IMDS), read as contrib's detector reads it through the
//! AWS SDK. A session token is asked for first (IMDSv2) and requests go
//! without one when the service refuses it (IMDSv1); then come
//! `meta-data/instance-id` (no answer: not on EC2, nothing detected unless
//! `fail_on_missing_metadata`), `dynamic/instance-identity/document` and
//! `meta-data/hostname`, and with `tags_from_imds` the instance tags under
//! `meta-data/tags/instance`. The SDK's `AWS_EC2_METADATA_SERVICE_ENDPOINT`
//! and `AWS_EC2_METADATA_DISABLED` variables are honoured. The `eks`
//! detector reads the same service through [`Imds`].

use crate::{Toggle, string_kv};
use bytes::Bytes;
use ferrotel_core::config::{GoDuration, Invalid, Validate};
use ferrotel_core::pdata::common::KeyValue;
use ferrotel_core::retry::{Backoff, RetrySettings};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
const TAG_PREFIX: &str = "ec2.tag.";

/// `ec2` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Ec2Config {
    /// Regular expressions of the tag keys to add as `ec2.tag.<key>`.
    pub tags: Vec<String>,
    /// Read tags from IMDS (needs `InstanceMetadataTags=enabled`). Reading
    /// them through the DescribeTags API, Go's default, is not supported.
    pub tags_from_imds: bool,
    /// Which attributes to emit; all are on by default.
    pub resource_attributes: BTreeMap<String, Toggle>,
    /// Tries per metadata request. Default 3.
    pub max_attempts: u32,
    /// Longest wait between tries. Default 20s.
    pub max_backoff: GoDuration,
    /// Deprecated in Go for the processor-level key; either one applies.
    pub fail_on_missing_metadata: bool,
}

impl Default for Ec2Config {
    fn default() -> Self {
        Ec2Config {
            tags: Vec::new(),
            tags_from_imds: false,
            resource_attributes: BTreeMap::new(),
            max_attempts: 3,
            max_backoff: GoDuration::secs(20),
            fail_on_missing_metadata: false,
        }
    }
}

/// The attributes the detector can emit, in the order Go emits them.
pub(crate) const ATTRIBUTES: [&str; 9] = [
    "cloud.provider",
    "cloud.platform",
    "cloud.region",
    "cloud.account.id",
    "cloud.availability_zone",
    "host.id",
    "host.image.id",
    "host.type",
    "host.name",
];

impl Validate for Ec2Config {
    fn validate(&self) -> Result<(), Invalid> {
        for key in self.resource_attributes.keys() {
            if !ATTRIBUTES.contains(&key.as_str()) {
                return Err(Invalid::at(
                    format!("resource_attributes::{key}"),
                    "unknown attribute",
                ));
            }
        }
        for tag in &self.tags {
            ferrotel_goregex::compile(tag).map_err(|e| Invalid::at("tags", e.to_string()))?;
        }
        if !self.tags.is_empty() && !self.tags_from_imds {
            return Err(Invalid::at(
                "tags",
                "reading tags through the EC2 DescribeTags API is not supported by ferrotel yet; set tags_from_imds: true to read them from the instance metadata",
            ));
        }
        if self.max_attempts == 0 {
            return Err(Invalid::at("max_attempts", "must be at least 1"));
        }
        Ok(())
    }
}

/// The fields of the instance identity document the detector uses.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IdentityDocument {
    #[serde(default)]
    pub(crate) account_id: String,
    #[serde(default)]
    pub(crate) availability_zone: String,
    #[serde(default)]
    pub(crate) image_id: String,
    #[serde(default)]
    pub(crate) instance_id: String,
    #[serde(default)]
    pub(crate) instance_type: String,
    #[serde(default)]
    pub(crate) region: String,
}

/// An IMDS request that failed: with the HTTP status when it got one.
#[derive(Debug)]
pub(crate) struct ImdsError {
    pub(crate) status: Option<u16>,
    message: String,
}

impl std::fmt::Display for ImdsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A client of the instance metadata service, as the AWS SDK's.
pub(crate) struct Imds {
    client: Client<HttpConnector, Empty<Bytes>>,
    endpoint: String,
    token: Option<String>,
    attempts: u32,
    max_backoff: Duration,
}

impl Imds {
    /// A client of the service where the SDK finds it, making `attempts`
    /// tries per request.
    pub(crate) fn new(attempts: u32, max_backoff: Duration) -> Imds {
        let endpoint = std::env::var("AWS_EC2_METADATA_SERVICE_ENDPOINT")
            .ok()
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        Imds {
            client: Client::builder(TokioExecutor::new()).build_http(),
            endpoint: endpoint.trim_end_matches('/').to_string(),
            token: None,
            attempts: attempts.max(1),
            max_backoff,
        }
    }

    /// Takes an IMDSv2 token when the service hands them out, and goes on
    /// without one when it refuses. No answer at all: not on EC2, an error.
    pub(crate) async fn authenticate(&mut self) -> Result<(), ImdsError> {
        match self
            .request(
                http::Method::PUT,
                "/latest/api/token",
                Some(("X-aws-ec2-metadata-token-ttl-seconds", "21600")),
            )
            .await
        {
            Ok(token) => self.token = Some(token),
            Err(e) if e.status.is_none() => return Err(e),
            Err(_) => {}
        }
        Ok(())
    }

    /// The instance identity document.
    pub(crate) async fn identity(&self) -> Result<IdentityDocument, ImdsError> {
        let body = self
            .get("/latest/dynamic/instance-identity/document")
            .await?;
        serde_json::from_str(&body).map_err(|e| ImdsError {
            status: None,
            message: format!("failed to decode the identity document: {e}"),
        })
    }

    async fn request(
        &self,
        method: http::Method,
        path: &str,
        header: Option<(&str, &str)>,
    ) -> Result<String, ImdsError> {
        // The SDK's retryer doubles from 50ms up to `max_backoff`.
        let mut backoff = Backoff::new(&RetrySettings {
            enabled: true,
            initial_interval: GoDuration::millis(50),
            max_interval: GoDuration(self.max_backoff),
            max_elapsed_time: GoDuration::default(),
            multiplier: 2.0,
            randomization_factor: 0.0,
        });
        let mut last = None;
        for attempt in 1..=self.attempts {
            match self.once(&method, path, header).await {
                Ok(body) => return Ok(body),
                // A 4xx answer will not change on another try.
                Err(e) if e.status.is_some_and(|s| s < 500) => return Err(e),
                Err(e) => last = Some(e),
            }
            if let Some(wait) = backoff.next(None).filter(|_| attempt < self.attempts) {
                tokio::time::sleep(wait).await;
            }
        }
        Err(last.unwrap_or(ImdsError {
            status: None,
            message: "no attempt made".into(),
        }))
    }

    async fn once(
        &self,
        method: &http::Method,
        path: &str,
        header: Option<(&str, &str)>,
    ) -> Result<String, ImdsError> {
        let url = format!("{}{path}", self.endpoint);
        let fail = |status, message: String| ImdsError { status, message };
        let mut req = http::Request::builder().method(method.clone()).uri(&url);
        if let Some((name, value)) = header {
            req = req.header(name, value);
        }
        if let Some(token) = &self.token {
            req = req.header("X-aws-ec2-metadata-token", token);
        }
        let req = req
            .body(Empty::new())
            .map_err(|e| fail(None, format!("{url}: {e}")))?;
        // The SDK gives each metadata call about a second.
        let response = tokio::time::timeout(Duration::from_secs(1), self.client.request(req))
            .await
            .map_err(|_| fail(None, format!("{url}: no answer within 1s")))?
            .map_err(|e| fail(None, format!("{url}: {e}")))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| fail(None, format!("{url}: {e}")))?
            .to_bytes();
        if !status.is_success() {
            return Err(fail(
                Some(status.as_u16()),
                format!("{url}: HTTP {}", status.as_u16()),
            ));
        }
        String::from_utf8(body.to_vec()).map_err(|e| fail(None, format!("{url}: {e}")))
    }

    pub(crate) async fn get(&self, path: &str) -> Result<String, ImdsError> {
        self.request(http::Method::GET, path, None).await
    }
}

/// `AWS_EC2_METADATA_DISABLED=true`: the SDK does not call the service.
pub(crate) fn disabled() -> bool {
    std::env::var("AWS_EC2_METADATA_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Runs the detector. `fail_on_missing_metadata` is the processor-level
/// setting.
pub(crate) async fn detect(
    config: &Ec2Config,
    fail_on_missing_metadata: bool,
) -> Result<Vec<KeyValue>, String> {
    let fail_on_missing = fail_on_missing_metadata || config.fail_on_missing_metadata;
    if disabled() {
        if fail_on_missing {
            return Err("EC2 metadata is disabled (AWS_EC2_METADATA_DISABLED)".into());
        }
        return Ok(Vec::new());
    }
    let mut imds = Imds::new(config.max_attempts, config.max_backoff.0);
    // No answer at all: not on EC2, and no point in asking more (off EC2
    // the address is often black-holed, each try a timeout).
    if let Err(e) = imds.authenticate().await {
        tracing::debug!(error = %e, "EC2 metadata unavailable");
        if fail_on_missing {
            return Err(e.to_string());
        }
        return Ok(Vec::new());
    }

    if let Err(e) = imds.get("/latest/meta-data/instance-id").await {
        tracing::debug!(error = %e, "EC2 metadata unavailable");
        if fail_on_missing {
            return Err(e.to_string());
        }
        return Ok(Vec::new());
    }
    let document = match imds.identity().await {
        Ok(document) => document,
        // A 404: a partial metadata service (OpenStack's), not EC2.
        Err(e) if !fail_on_missing && e.status == Some(404) => {
            tracing::debug!(error = %e, "EC2 instance identity document unavailable");
            return Ok(Vec::new());
        }
        Err(e) => return Err(format!("failed getting identity document: {e}")),
    };
    let hostname = match imds.get("/latest/meta-data/hostname").await {
        Ok(name) => Some(name.trim().to_string()),
        Err(e) if fail_on_missing => return Err(format!("failed getting hostname: {e}")),
        Err(e) => {
            tracing::debug!(error = %e, "EC2 hostname unavailable");
            None
        }
    };

    let values = [
        Some("aws".to_string()),
        Some("aws_ec2".to_string()),
        Some(document.region),
        Some(document.account_id),
        Some(document.availability_zone),
        Some(document.instance_id),
        Some(document.image_id),
        Some(document.instance_type),
        hostname,
    ];
    let mut out: Vec<KeyValue> = ATTRIBUTES
        .iter()
        .zip(values)
        .filter(|(key, _)| {
            config
                .resource_attributes
                .get(**key)
                .is_none_or(|t| t.enabled)
        })
        .filter_map(|(key, value)| Some(string_kv(key, value?)))
        .collect();

    if !config.tags.is_empty() {
        match imds_tags(&imds, &config.tags).await {
            Ok(tags) => out.extend(tags),
            Err(e) => tracing::debug!(error = %e, "failed to fetch tags from IMDS"),
        }
    }
    Ok(out)
}

/// Tags whose keys match one of `patterns`, from IMDS.
async fn imds_tags(imds: &Imds, patterns: &[String]) -> Result<Vec<KeyValue>, ImdsError> {
    let patterns: Vec<regex::Regex> = patterns
        .iter()
        .filter_map(|p| ferrotel_goregex::compile(p).ok())
        .collect();
    let keys = imds.get("/latest/meta-data/tags/instance").await?;
    let mut out = Vec::new();
    for key in keys.lines().map(str::trim).filter(|k| !k.is_empty()) {
        if patterns.iter().any(|p| p.is_match(key)) {
            let value = imds
                .get(&format!("/latest/meta-data/tags/instance/{key}"))
                .await?;
            out.push(string_kv(&format!("{TAG_PREFIX}{key}"), value));
        }
    }
    Ok(out)
}
