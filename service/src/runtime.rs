//! The service: load config, build and start the graph, serve self-metrics,
//! and react to signals.
//!
//! SIGINT and SIGTERM drain and stop. SIGHUP reloads: the new config is
//! loaded and its graph created before the old one is touched; if either
//! fails, the running pipelines keep running and the error is logged (the
//! Go collector exits instead). If the new graph then fails to start, the
//! old config is built and started again.

use crate::config::{self, Config, ConfigError};
use crate::graph::{Graph, GraphError};
use crate::logging;
use ferrotel_core::component::{ComponentId, Factories, Host, PipelineSummary, ServiceSummary};
use ferrotel_core::config::MetricsLevel;
use ferrotel_core::http_server::{self, HttpServer};
use ferrotel_core::telemetry::Telemetry;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// Who this binary is, for `components`, logs and self-metrics.
#[derive(Clone, Copy, Debug)]
pub struct BuildInfo {
    /// The command name (`ferrotel`).
    pub command: &'static str,
    /// One line about the distribution.
    pub description: &'static str,
    /// Its version.
    pub version: &'static str,
}

/// How long shutdown may take before components are abandoned.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the service could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The config did not load.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A component failed to be created or started; the error says which
    /// step, in Go's words.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// The self-metrics endpoint could not listen.
    #[error("failed to create meter provider: {0}")]
    Telemetry(String),
    /// `service::telemetry::logs` names a logger ferrotel cannot make.
    #[error("failed to create logger: {0}")]
    Logger(String),
    /// Signals could not be installed.
    #[error("failed to install signal handlers: {0}")]
    Signals(std::io::Error),
}

/// Everything `run` needs.
pub struct RunSettings {
    /// Build identity.
    pub build: BuildInfo,
    /// The components compiled in.
    pub factories: Factories,
    /// `--config` URIs.
    pub uris: Vec<String>,
    /// `--set` flags.
    pub sets: Vec<String>,
}

/// What `zpages` shows of a config.
fn summary(build: &BuildInfo, started: std::time::SystemTime, config: &Config) -> ServiceSummary {
    let ids =
        |links: &mut dyn Iterator<Item = &ComponentId>| links.map(|id| id.to_string()).collect();
    ServiceSummary {
        command: build.command.to_string(),
        version: build.version.to_string(),
        started: Some(started),
        pipelines: config
            .pipelines
            .iter()
            .map(|(pid, p)| PipelineSummary {
                id: pid.to_string(),
                receivers: ids(&mut p.receivers.iter().map(|l| l.id())),
                processors: ids(&mut p.processors.iter()),
                exporters: ids(&mut p.exporters.iter().map(|l| l.id())),
            })
            .collect(),
        extensions: config
            .service_extensions
            .iter()
            .map(|id| id.to_string())
            .collect(),
        feature_gates: crate::featuregate::all(),
    }
}

/// Runs until SIGINT or SIGTERM.
pub async fn run(settings: RunSettings) -> Result<(), ServiceError> {
    let config = config::load(&settings.factories, &settings.uris, &settings.sets)?;
    config
        .telemetry
        .logs
        .check_encoding()
        .map_err(ServiceError::Logger)?;
    logging::apply_log_level(&config.telemetry.logs);
    let telemetry = Telemetry::new(
        settings.build.command,
        settings.build.version,
        config.telemetry.metrics.level,
    );
    let metrics_server = start_metrics_server(&config, &telemetry).await?;

    let (ready_tx, ready_rx) = watch::channel(false);
    let started = std::time::SystemTime::now();
    let host_for = |config: &Config| Host {
        ready: Some(ready_rx.clone()),
        extensions: Vec::new(),
        service: Some(Arc::new(summary(&settings.build, started, config))),
    };
    let mut host = host_for(&config);
    let mut running = start(&settings.factories, &config, &telemetry, &host).await?;
    let mut current = config;
    ready_tx.send_replace(true);
    tracing::info!("Everything is ready. Begin running and processing data.");

    let mut hangup = signal(SignalKind::hangup()).map_err(ServiceError::Signals)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(ServiceError::Signals)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(ServiceError::Signals)?;
    loop {
        tokio::select! {
            _ = terminate.recv() => { tracing::info!("Received signal from OS, shutting down"); break }
            _ = interrupt.recv() => { tracing::info!("Received signal from OS, shutting down"); break }
            _ = hangup.recv() => {
                tracing::info!("Received SIGHUP, reloading the configuration");
                let next = match config::load(&settings.factories, &settings.uris, &settings.sets) {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::error!(error = %e, "reload failed: the new configuration is invalid; keeping the running pipelines");
                        continue;
                    }
                };
                if let Err(e) = next.telemetry.logs.check_encoding() {
                    tracing::error!(error = %e, "reload failed: cannot create the logger; keeping the running pipelines");
                    continue;
                }
                let graph = match Graph::build(&settings.factories, &next, &telemetry) {
                    Ok(g) => g,
                    Err(e) => {
                        tracing::error!(error = %e, "reload failed; keeping the running pipelines");
                        continue;
                    }
                };
                ready_tx.send_replace(false);
                logging::apply_log_level(&next.telemetry.logs);
                running.shutdown(SHUTDOWN_TIMEOUT).await;
                host = host_for(&next);
                match graph.start(&host).await {
                    Ok(()) => {
                        running = graph;
                        current = next;
                        tracing::info!("Configuration reloaded. Everything is ready.");
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "reload failed while starting; restoring the previous configuration");
                        running = start(&settings.factories, &current, &telemetry, &host).await?;
                    }
                }
                ready_tx.send_replace(true);
            }
        }
    }
    ready_tx.send_replace(false);
    tracing::info!("Starting shutdown...");
    running.shutdown(SHUTDOWN_TIMEOUT).await;
    if let Some(server) = metrics_server {
        server.shutdown().await;
    }
    tracing::info!("Shutdown complete.");
    Ok(())
}

async fn start(
    factories: &Factories,
    config: &Config,
    telemetry: &Telemetry,
    host: &Host,
) -> Result<Graph, ServiceError> {
    let graph = Graph::build(factories, config, telemetry)?;
    graph.start(host).await?;
    Ok(graph)
}

async fn start_metrics_server(
    config: &Config,
    telemetry: &Telemetry,
) -> Result<Option<HttpServer>, ServiceError> {
    if config.telemetry.metrics.level == MetricsLevel::None {
        return Ok(None);
    }
    let endpoint = config.telemetry.metrics.prometheus_endpoint();
    let listener = http_server::bind(&endpoint).await.map_err(|e| {
        ServiceError::Telemetry(format!(
            "binding address {endpoint} for Prometheus exporter: {e}"
        ))
    })?;
    let registry = telemetry.registry.clone();
    let server = HttpServer::start(listener, move |req, _| {
        let registry = registry.clone();
        async move {
            if req.uri().path() == "/metrics" {
                http_server::response(
                    200,
                    "text/plain; version=0.0.4; charset=utf-8",
                    registry.render(),
                )
            } else {
                http_server::response(404, "text/plain", "404 page not found\n")
            }
        }
    });
    tracing::info!(endpoint = %endpoint, "Serving self-metrics at /metrics");
    Ok(Some(server))
}

/// Loads the config and creates (but does not start) every component, so
/// `validate` also catches errors the Go collector finds only at start-up.
pub fn validate(
    factories: &Factories,
    uris: &[String],
    sets: &[String],
) -> Result<(), ServiceError> {
    let config = config::load(factories, uris, sets)?;
    // Creating components may spawn nothing, but some constructors expect a
    // runtime handle; the CLI calls this inside one.
    Graph::build(factories, &config, &Telemetry::noop())?;
    Ok(())
}
