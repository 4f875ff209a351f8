//! The `health_check` extension: an HTTP endpoint that says whether the
//! collector's pipelines are running.
//!
//! Mirrors the contrib `healthcheckextension`: `localhost:13133`, `path`
//! `/`, 200 with `{"status":"Server available","upSince":...,"uptime":...}`
//! while every pipeline runs, 503 with `Server not available` during start,
//! reload and shutdown. `response_body` overrides the bodies.
//! `check_collector_pipeline` is accepted and ignored (documented as
//! broken upstream).

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, Extension, ExtensionFactory, Host,
    Metadata,
};
use ferrotel_core::config::Invalid;
use ferrotel_core::config::format_go_duration;
use ferrotel_core::http_server::{HttpServer, bind, response};
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

/// `response_body`: custom bodies for each state.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ResponseBody {
    /// Body when healthy.
    pub healthy: String,
    /// Body when not.
    pub unhealthy: String,
}

/// `health_check` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `host:port`. Default `localhost:13133`.
    pub endpoint: String,
    /// URL path. Default `/`.
    pub path: String,
    /// Custom bodies.
    pub response_body: Option<ResponseBody>,
    /// Accepted and ignored.
    pub check_collector_pipeline: Option<serde_yaml_ng::Value>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            endpoint: "localhost:13133".into(),
            path: "/".into(),
            response_body: None,
            check_collector_pipeline: None,
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        if !self.path.starts_with('/') {
            return Err(format!("path {:?} must start with \"/\"", self.path).into());
        }
        Ok(())
    }
}

struct HealthCheckFactory;

/// The factory for the `health_check` extension.
pub fn factory() -> impl ExtensionFactory {
    HealthCheckFactory
}

impl ExtensionFactory for HealthCheckFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        _set: CreateSettings,
        config: Config,
    ) -> Result<Arc<dyn Extension>, ComponentError> {
        Ok(Arc::new(HealthCheck {
            config,
            server: Mutex::new(None),
        }))
    }
}

struct HealthCheck {
    config: Config,
    server: Mutex<Option<HttpServer>>,
}

impl Extension for HealthCheck {}

/// RFC 3339 in UTC with nanoseconds, as Go's `time.Time` marshals.
fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let rem = secs % 86_400;
    let (year, month, day) = ferrotel_core::pdata::go::civil_from_days((secs / 86_400) as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        d.subsec_nanos()
    )
}

#[async_trait]
impl Component for HealthCheck {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let listener = bind(&self.config.endpoint).await?;
        let ready = host.ready.clone();
        let path = self.config.path.clone();
        let bodies = self.config.response_body.clone();
        let up_since = rfc3339(SystemTime::now());
        let started = Instant::now();
        let server = HttpServer::start(listener, move |req, _| {
            let healthy = ready.as_ref().is_some_and(|r| *r.borrow());
            let body = match (&bodies, healthy) {
                (Some(b), true) => b.healthy.clone(),
                (Some(b), false) => b.unhealthy.clone(),
                (None, _) => serde_json::json!({
                    "status": if healthy { "Server available" } else { "Server not available" },
                    "upSince": up_since,
                    "uptime": format_go_duration(started.elapsed()),
                })
                .to_string(),
            };
            let resp = if req.uri().path() != path {
                response(404, "text/plain; charset=utf-8", "404 page not found\n")
            } else {
                response(if healthy { 200 } else { 503 }, "application/json", body)
            };
            async move { resp }
        });
        tracing::info!(endpoint = %self.config.endpoint, "Starting health_check extension");
        *self.server.lock().unwrap_or_else(|p| p.into_inner()) = Some(server);
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        let server = self.server.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(s) = server {
            s.shutdown().await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrotel_core::component::{ComponentId, ExtensionFactory};
    use ferrotel_core::telemetry::Telemetry;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn get(addr: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn answers_503_until_ready_then_200() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let config = Config {
            endpoint: addr.clone(),
            ..Default::default()
        };
        let set = CreateSettings {
            id: ComponentId::new("health_check"),
            telemetry: Telemetry::noop(),
        };
        let ext = ExtensionFactory::create(&HealthCheckFactory, set, config).unwrap();
        let (ready, ready_rx) = tokio::sync::watch::channel(false);
        ext.start(&Host {
            ready: Some(ready_rx),
            ..Host::default()
        })
        .await
        .unwrap();
        let down = get(&addr).await;
        assert!(down.starts_with("HTTP/1.1 503"), "{down}");
        assert!(
            down.contains(r#""status":"Server not available""#),
            "{down}"
        );
        ready.send_replace(true);
        let up = get(&addr).await;
        assert!(up.starts_with("HTTP/1.1 200"), "{up}");
        assert!(up.contains(r#""status":"Server available""#), "{up}");
        ext.shutdown().await.unwrap();
    }
}
