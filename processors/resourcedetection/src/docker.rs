//! The `docker` detector: the Docker daemon's `GET /info` (`Name` as
//! `host.name`, `OSType` as `os.type`) and, when `container.name` or
//! `container.image.name` is enabled, `GET /containers/<hostname>/json`
//! for the container this collector runs in (`Name`, `Image`), as contrib's
//! `metadataproviders/docker` reads them through the Docker client. The
//! daemon is where the client's `DOCKER_HOST` says (`unix:///path`,
//! `tcp://host:port`; default `unix:///var/run/docker.sock`), with
//! `DOCKER_API_VERSION` when set. Any request that fails: nothing detected,
//! as in Go (unless `fail_on_missing_metadata`). TLS to the daemon
//! (`DOCKER_CERT_PATH`, `DOCKER_TLS_VERIFY`) is not supported.

use crate::{Attributes, Toggle, check_attributes};
use bytes::Bytes;
use ferrotel_core::config::{Invalid, Validate};
use ferrotel_core::pdata::common::KeyValue;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// The attributes, with Go's defaults.
const ATTRIBUTES: &[(&str, bool)] = &[
    ("container.image.name", false),
    ("container.name", false),
    ("host.name", true),
    ("os.type", true),
];

/// `docker` settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DockerConfig {
    /// Which attributes to emit.
    pub resource_attributes: BTreeMap<String, Toggle>,
}

impl Validate for DockerConfig {
    fn validate(&self) -> Result<(), Invalid> {
        check_attributes(&self.resource_attributes, ATTRIBUTES)
    }
}

/// Where the daemon listens.
#[derive(Debug, PartialEq)]
pub(crate) enum Endpoint {
    Unix(PathBuf),
    Tcp(String),
}

impl Endpoint {
    /// `DOCKER_HOST`, as the Docker client's `FromEnv` reads it.
    pub(crate) fn from_env() -> Result<Endpoint, String> {
        let host = std::env::var("DOCKER_HOST").unwrap_or_default();
        let tls = ["DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY"]
            .iter()
            .any(|v| std::env::var(v).is_ok_and(|v| !v.is_empty()));
        Endpoint::parse(if host.is_empty() { DEFAULT_HOST } else { &host }, tls)
    }

    fn parse(host: &str, tls: bool) -> Result<Endpoint, String> {
        let (proto, addr) = host
            .split_once("://")
            .ok_or_else(|| format!("unable to parse docker host `{host}`"))?;
        match proto {
            "unix" if !addr.is_empty() => Ok(Endpoint::Unix(PathBuf::from(addr))),
            "tcp" | "http" if tls => Err(format!(
                "DOCKER_HOST {host}: TLS to the Docker daemon (DOCKER_CERT_PATH, DOCKER_TLS_VERIFY) is not supported by ferrotel yet"
            )),
            "tcp" | "http" if !addr.is_empty() => {
                Ok(Endpoint::Tcp(addr.trim_end_matches('/').to_string()))
            }
            _ => Err(format!(
                "unable to parse docker host `{host}` (ferrotel supports unix:// and tcp://)"
            )),
        }
    }

    fn describe(&self) -> String {
        match self {
            Endpoint::Unix(p) => format!("unix://{}", p.display()),
            Endpoint::Tcp(a) => format!("tcp://{a}"),
        }
    }
}

/// One request to the daemon: its status and JSON body.
async fn request(endpoint: &Endpoint, path: &str) -> Result<(u16, Value), String> {
    let version = std::env::var("DOCKER_API_VERSION").unwrap_or_default();
    let path = if version.is_empty() {
        path.to_string()
    } else {
        format!("/v{}{path}", version.trim_start_matches('v'))
    };
    let cannot_connect = |e: std::io::Error| {
        format!(
            "Cannot connect to the Docker daemon at {}. Is the docker daemon running?: {e}",
            endpoint.describe()
        )
    };
    match endpoint {
        Endpoint::Unix(socket) => {
            let stream = tokio::net::UnixStream::connect(socket)
                .await
                .map_err(cannot_connect)?;
            exchange(stream, &path).await
        }
        Endpoint::Tcp(addr) => {
            let stream = tokio::net::TcpStream::connect(addr.as_str())
                .await
                .map_err(cannot_connect)?;
            exchange(stream, &path).await
        }
    }
}

async fn exchange<S>(stream: S, path: &str) -> Result<(u16, Value), String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let fail = |e: &dyn std::fmt::Display| format!("GET {path}: {e}");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| fail(&e))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "docker connection ended with an error");
        }
    });
    let req = http::Request::get(path)
        .header(http::header::HOST, "api.moby.localhost")
        .body(Empty::<Bytes>::new())
        .map_err(|e| fail(&e))?;
    let response = sender.send_request(req).await.map_err(|e| fail(&e))?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| fail(&e))?
        .to_bytes();
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        let message = field(&value, "message");
        return Err(if message.is_empty() {
            fail(&format!("HTTP {status}"))
        } else {
            fail(&format!("Error response from daemon: {message}"))
        });
    }
    Ok((status, value))
}

/// A string member of a JSON object, matched as Go's `encoding/json` does
/// (exact name, else ignoring case); empty when absent or not a string.
fn field(value: &Value, name: &str) -> String {
    let Value::Object(object) = value else {
        return String::new();
    };
    object
        .get(name)
        .or_else(|| {
            object
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Go's `GOOSToOSType`.
fn os_type(goos: &str) -> String {
    match goos {
        "dragonfly" => "dragonflybsd".into(),
        "zos" => "z_os".into(),
        other => other.into(),
    }
}

/// What the daemon says, before the attribute toggles.
async fn query(
    endpoint: &Endpoint,
    containers: bool,
) -> Result<Vec<(&'static str, String)>, String> {
    let (_, info) = request(endpoint, "/info")
        .await
        .map_err(|e| format!("failed to fetch Docker information: {e}"))?;
    let mut out = vec![
        ("os.type", os_type(&field(&info, "OSType"))),
        ("host.name", field(&info, "Name")),
    ];
    if containers {
        let hostname = crate::os_hostname()?;
        let (_, container) = request(endpoint, &format!("/containers/{hostname}/json"))
            .await
            .map_err(|e| format!("failed to fetch container information: {e}"))?;
        out.push(("container.name", field(&container, "Name")));
        out.push(("container.image.name", field(&container, "Image")));
    }
    Ok(out)
}

/// Runs the detector within `budget`.
pub(crate) async fn detect(
    config: &DockerConfig,
    fail_on_missing_metadata: bool,
    budget: Duration,
) -> Result<Vec<KeyValue>, String> {
    let endpoint = Endpoint::from_env()?;
    let mut attributes = Attributes::new(&config.resource_attributes, ATTRIBUTES);
    let containers =
        attributes.enabled("container.name") || attributes.enabled("container.image.name");
    // The Docker client waits until the detection's deadline.
    let wait = budget.saturating_sub(Duration::from_millis(100));
    let found = match tokio::time::timeout(wait, query(&endpoint, containers)).await {
        Ok(found) => found,
        Err(_) => Err("context deadline exceeded".into()),
    };
    match found {
        Ok(values) => {
            for (key, value) in values {
                attributes.set(key, value);
            }
            Ok(attributes.emit())
        }
        Err(e) => crate::missing(
            "docker",
            fail_on_missing_metadata,
            format!("docker metadata unavailable: {e}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_host_as_the_client_reads_it() {
        assert_eq!(
            Endpoint::parse(DEFAULT_HOST, false).unwrap(),
            Endpoint::Unix("/var/run/docker.sock".into())
        );
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:2375", false).unwrap(),
            Endpoint::Tcp("127.0.0.1:2375".into())
        );
        assert_eq!(
            Endpoint::parse("/var/run/docker.sock", false).unwrap_err(),
            "unable to parse docker host `/var/run/docker.sock`"
        );
        assert!(
            Endpoint::parse("tcp://10.0.0.1:2376", true)
                .unwrap_err()
                .contains("TLS")
        );
        assert!(Endpoint::parse("ssh://me@host", false).is_err());
    }

    #[test]
    fn fields_and_os_type() {
        let info: Value =
            serde_json::from_str(r#"{"Name":"node5","OSType":"linux","ostype":"x"}"#).unwrap();
        assert_eq!(field(&info, "Name"), "node5");
        assert_eq!(field(&info, "OSType"), "linux");
        assert_eq!(field(&info, "name"), "node5");
        assert_eq!(field(&info, "Missing"), "");
        assert_eq!(os_type("dragonfly"), "dragonflybsd");
        assert_eq!(os_type("windows"), "windows");
    }

    #[test]
    fn attributes_and_their_defaults() {
        let c: DockerConfig =
            serde_yaml_ng::from_str("resource_attributes: {container.name: {enabled: true}}")
                .unwrap();
        assert!(c.validate().is_ok());
        let a = Attributes::new(&c.resource_attributes, ATTRIBUTES);
        assert!(a.enabled("container.name") && a.enabled("host.name"));
        assert!(!a.enabled("container.image.name"));
        let c: DockerConfig =
            serde_yaml_ng::from_str("resource_attributes: {container.id: {enabled: true}}")
                .unwrap();
        assert!(c.validate().is_err());
    }
}
