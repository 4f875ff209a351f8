//! The `zpages` extension, as the Go collector's `zpagesextension`
//! (v0.165): HTML pages about the running collector on `endpoint`
//! (default `localhost:55679`) under Go's paths: `/debug/servicez` (build
//! and uptime), `/debug/pipelinez` (each pipeline's receivers, processors
//! and exporters), `/debug/extensionz`, `/debug/featurez` (feature gates)
//! `/debug/expvarz` (with `expvar: {enabled: true}`), where ferrotel
//! shows the process as JSON and Go its runtime's variables. Go serves
//! `/debug/tracez` only when the collector traces itself through an SDK
//! tracer provider; ferrotel does not trace itself yet, so, as Go without
//! one, it answers 404 there and warns at start.

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, Extension, ExtensionFactory, Host,
    Metadata, ServiceSummary,
};
use ferrotel_core::config::{Invalid, format_go_duration};
use ferrotel_core::http_server::{HttpServer, bind, response};
use ferrotel_core::tls::TlsServerSettings;
use serde::Deserialize;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// `expvar`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ExpvarConfig {
    /// Serve `/debug/expvarz`.
    pub enabled: bool,
}

/// `zpages` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `host:port`. Default `localhost:55679`.
    pub endpoint: String,
    /// TLS; plain text when absent.
    pub tls: Option<TlsServerSettings>,
    /// `/debug/expvarz`.
    pub expvar: ExpvarConfig,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            endpoint: "localhost:55679".into(),
            tls: None,
            expvar: ExpvarConfig::default(),
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        if self.endpoint.is_empty() {
            return Err("\"endpoint\" is required when using the \"zpages\" extension".into());
        }
        Ok(())
    }
}

struct ZpagesFactory;

/// The factory for the `zpages` extension.
pub fn factory() -> impl ExtensionFactory {
    ZpagesFactory
}

impl ExtensionFactory for ZpagesFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        _set: CreateSettings,
        config: Config,
    ) -> Result<Arc<dyn Extension>, ComponentError> {
        Ok(Arc::new(Zpages {
            config,
            server: Mutex::new(None),
        }))
    }
}

struct Zpages {
    config: Config,
    server: Mutex<Option<HttpServer>>,
}

impl Extension for Zpages {}

/// Escapes text for HTML.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A page with a title and a body.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title></head>\n<body>\n<h1>{t}</h1>\n{body}</body></html>\n",
        t = html(title)
    )
}

/// An HTML table.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table border=\"1\">\n<tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", html(h));
    }
    out.push_str("</tr>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", html(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

/// The page at `path`, if there is one.
fn render(path: &str, service: &ServiceSummary, expvar: bool) -> Option<(&'static str, String)> {
    const HTML: &str = "text/html; charset=utf-8";
    Some(match path {
        "/debug/servicez" => {
            let started = service.started.unwrap_or_else(SystemTime::now);
            let uptime = SystemTime::now()
                .duration_since(started)
                .unwrap_or_default();
            let rows = vec![
                vec!["Command".into(), service.command.clone()],
                vec!["Version".into(), service.version.clone()],
                vec!["Uptime".into(), format_go_duration(uptime)],
                vec!["Process ID".into(), std::process::id().to_string()],
            ];
            let links = "<p><a href=\"/debug/pipelinez\">Pipelines</a> | <a href=\"/debug/extensionz\">Extensions</a> | <a href=\"/debug/featurez\">Feature gates</a></p>\n";
            (
                HTML,
                page(
                    "Service",
                    &format!("{}{links}", table(&["Property", "Value"], &rows)),
                ),
            )
        }
        "/debug/pipelinez" => {
            let rows: Vec<Vec<String>> = service
                .pipelines
                .iter()
                .map(|p| {
                    vec![
                        p.id.clone(),
                        p.receivers.join(", "),
                        p.processors.join(" → "),
                        p.exporters.join(", "),
                    ]
                })
                .collect();
            (
                HTML,
                page(
                    "Pipelines",
                    &table(&["Pipeline", "Receivers", "Processors", "Exporters"], &rows),
                ),
            )
        }
        "/debug/extensionz" => {
            let rows: Vec<Vec<String>> =
                service.extensions.iter().map(|e| vec![e.clone()]).collect();
            (HTML, page("Extensions", &table(&["Extension"], &rows)))
        }
        "/debug/featurez" => {
            let rows: Vec<Vec<String>> = service
                .feature_gates
                .iter()
                .map(|(id, enabled, stage, description)| {
                    vec![
                        id.clone(),
                        enabled.to_string(),
                        stage.clone(),
                        description.clone(),
                    ]
                })
                .collect();
            (
                HTML,
                page(
                    "Feature Gates",
                    &table(&["ID", "Enabled", "Stage", "Description"], &rows),
                ),
            )
        }
        "/debug/expvarz" if expvar => {
            let cmdline: Vec<String> = std::env::args().collect();
            let body = serde_json::json!({
                "cmdline": cmdline,
                "pid": std::process::id(),
                "version": service.version,
            });
            ("application/json; charset=utf-8", body.to_string())
        }
        _ => return None,
    })
}

#[async_trait]
impl Component for Zpages {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let listener = bind(&self.config.endpoint).await?;
        let tls = match &self.config.tls {
            Some(t) => Some(
                t.build(&[b"h2", b"http/1.1"])
                    .map_err(|e| format!("failed to load TLS config: {e}"))?,
            ),
            None => None,
        };
        let service = Arc::new(host.service.as_deref().cloned().unwrap_or_default());
        let expvar = self.config.expvar.enabled;
        let server = HttpServer::start_with_tls(listener, tls, move |req, _| {
            let resp = match render(req.uri().path(), &service, expvar) {
                Some((content_type, body)) => response(200, content_type, body),
                None => response(404, "text/plain; charset=utf-8", "404 page not found\n"),
            };
            async move { resp }
        });
        tracing::warn!("zPages span processor registration is not available");
        tracing::info!(endpoint = %self.config.endpoint, "Starting zPages extension");
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
    use ferrotel_core::component::PipelineSummary;

    #[test]
    fn pages_show_the_service_and_escape_what_they_show() {
        let service = ServiceSummary {
            command: "ferrotel".into(),
            version: "1.2.3".into(),
            started: Some(SystemTime::now()),
            pipelines: vec![PipelineSummary {
                id: "traces/<in>".into(),
                receivers: vec!["otlp".into()],
                processors: vec!["batch".into(), "memory_limiter".into()],
                exporters: vec!["debug".into()],
            }],
            extensions: vec!["zpages".into()],
            feature_gates: Vec::new(),
        };
        let (_, pipelines) = render("/debug/pipelinez", &service, false).unwrap();
        assert!(pipelines.contains("<td>traces/&lt;in&gt;</td><td>otlp</td><td>batch → memory_limiter</td><td>debug</td>"), "{pipelines}");
        let (_, servicez) = render("/debug/servicez", &service, false).unwrap();
        assert!(servicez.contains("<td>Version</td><td>1.2.3</td>"));
        assert!(render("/debug/expvarz", &service, false).is_none());
        assert!(
            render("/debug/expvarz", &service, true)
                .unwrap()
                .1
                .contains("\"pid\"")
        );
        assert!(render("/nope", &service, true).is_none());
    }
}
