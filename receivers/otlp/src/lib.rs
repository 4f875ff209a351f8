//! The `otlp` receiver: OTLP over gRPC (tonic) and HTTP (hyper).
//!
//! Mirrors the Go collector's `otlpreceiver`: gRPC on `localhost:4317`,
//! HTTP on `localhost:4318` with `/v1/traces`, `/v1/metrics`, `/v1/logs`
//! (and `/v1development/profiles`, protobuf only, with the profiles gate),
//! protobuf and OTLP/JSON bodies compressed with gzip, zstd, zlib/deflate
//! or snappy, the same status codes and `google.rpc.Status` error bodies.
//! A client's request is answered only after every exporter took the data
//! (its sending queue accepted it, or wrote it to disk), through the
//! acknowledgement token the request carries past the batch processor; an
//! error reaches the client as a retryable status, so the client's retry
//! covers everything that was not yet safe. TLS (and mutual
//! TLS with `client_ca_file`) uses rustls. Not yet supported (refused at
//! load): `auth`.

mod config;
mod grpc;
mod http;

pub use config::{Config, GrpcConfig, HttpConfig, Protocols};

use ferrotel_core::ack::{AckToken, Acks, Guarantee};
use ferrotel_core::async_trait;
use ferrotel_core::auth::ServerAuth;
use ferrotel_core::component::{
    Component, ComponentError, CreateSettings, Host, Metadata, ReceiverFactory, SignalConsumers,
};
use ferrotel_core::consumer::{Batch, ClientInfo, ConsumeError, SharedConsumer};
use ferrotel_core::http_server::HttpServer;
use ferrotel_core::pdata::{Payload, Signal};
use ferrotel_core::telemetry::{ReceiverMetrics, Telemetry as SelfTelemetry};
use std::sync::{Arc, Mutex};

struct OtlpFactory;

/// The factory for the `otlp` receiver.
pub fn factory() -> impl ReceiverFactory {
    OtlpFactory
}

impl ReceiverFactory for OtlpFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        set: CreateSettings,
        config: Config,
        next: SignalConsumers,
    ) -> Result<Box<dyn Component>, ComponentError> {
        Ok(Box::new(OtlpReceiver {
            id: set.id.to_string(),
            telemetry: set.telemetry,
            config,
            next,
            running: Mutex::new(Running::default()),
        }))
    }
}

/// Where one signal's data goes, and the counters for it.
#[derive(Clone)]
struct SignalSink {
    consumer: SharedConsumer,
    metrics: ReceiverMetrics,
}

impl SignalSink {
    /// Hands the data on and waits until every exporter has taken it, so
    /// the client is told "done" only when its data is safe from then on.
    async fn push(&self, data: Payload, client: Arc<ClientInfo>) -> Result<(), ConsumeError> {
        let items = data.item_count() as u64;
        let (token, receipt) = AckToken::new(Guarantee::Accepted);
        let batch = Batch::from_payload(data, client).with_acks(Acks::one(token));
        let result = match self.consumer.consume(batch).await {
            Ok(()) => receipt.outcome().await,
            Err(e) => Err(e),
        };
        match &result {
            Ok(()) => self.metrics.accepted.add(items),
            Err(_) => self.metrics.refused.add(items),
        }
        result
    }
}

/// Checks Go's header for the profiles wire version: absent means 1, the
/// only version Go v0.165 speaks; the errors are Go's.
fn check_profiles_version(headers: &::http::HeaderMap) -> Result<(), &'static str> {
    let mut values = headers
        .get_all("otlp-profiles-development-version")
        .iter()
        .map(|v| v.as_bytes());
    match (values.next(), values.next()) {
        (None, _) | (Some(b"1"), None) => Ok(()),
        (Some(_), Some(_)) => {
            Err("otlp-profiles-development-version must contain exactly one value")
        }
        (Some(_), None) => {
            Err("invalid or unsupported otlp-profiles-development-version: supported version is 1")
        }
    }
}

/// The sinks for every signal the receiver is used for, on one transport.
#[derive(Clone, Default)]
struct Sinks {
    traces: Option<SignalSink>,
    metrics: Option<SignalSink>,
    logs: Option<SignalSink>,
    profiles: Option<SignalSink>,
    /// The transport's authenticator, checked before a request is read.
    auth: Option<ServerAuth>,
}

impl Sinks {
    fn new(next: &SignalConsumers, telemetry: &SelfTelemetry, id: &str, transport: &str) -> Sinks {
        let sink = |signal| {
            next.get(signal).map(|consumer| SignalSink {
                consumer: consumer.clone(),
                metrics: ReceiverMetrics::new(telemetry, id, transport, signal),
            })
        };
        Sinks {
            traces: sink(Signal::Traces),
            metrics: sink(Signal::Metrics),
            logs: sink(Signal::Logs),
            profiles: sink(Signal::Profiles),
            auth: None,
        }
    }

    fn get(&self, signal: Signal) -> Option<&SignalSink> {
        match signal {
            Signal::Traces => self.traces.as_ref(),
            Signal::Metrics => self.metrics.as_ref(),
            Signal::Logs => self.logs.as_ref(),
            Signal::Profiles => self.profiles.as_ref(),
        }
    }
}

#[derive(Default)]
struct Running {
    grpc: Option<grpc::GrpcServer>,
    http: Option<HttpServer>,
}

struct OtlpReceiver {
    id: String,
    telemetry: SelfTelemetry,
    config: Config,
    next: SignalConsumers,
    running: Mutex<Running>,
}

#[async_trait]
impl Component for OtlpReceiver {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let grpc = match &self.config.protocols.grpc {
            Some(cfg) => {
                let mut sinks = Sinks::new(&self.next, &self.telemetry, &self.id, "grpc");
                sinks.auth = host.server_auth(cfg.auth.as_ref())?;
                Some(grpc::GrpcServer::start(cfg, sinks).await?)
            }
            None => None,
        };
        let http = match &self.config.protocols.http {
            Some(cfg) => {
                let mut sinks = Sinks::new(&self.next, &self.telemetry, &self.id, "http");
                sinks.auth = match host.server_auth(cfg.auth.as_ref()) {
                    Ok(auth) => auth,
                    Err(e) => {
                        if let Some(g) = grpc {
                            g.shutdown().await;
                        }
                        return Err(e);
                    }
                };
                match http::start(cfg, sinks).await {
                    Ok(server) => Some(server),
                    Err(e) => {
                        if let Some(g) = grpc {
                            g.shutdown().await;
                        }
                        return Err(e.into());
                    }
                }
            }
            None => None,
        };
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        *running = Running { grpc, http };
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        let running = std::mem::take(&mut *self.running.lock().unwrap_or_else(|p| p.into_inner()));
        if let Some(g) = running.grpc {
            g.shutdown().await;
        }
        if let Some(h) = running.http {
            h.shutdown().await;
        }
        Ok(())
    }
}
