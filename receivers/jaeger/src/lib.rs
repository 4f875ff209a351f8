//! The `jaeger` receiver: Jaeger spans over gRPC, Thrift over HTTP and
//! Thrift agent datagrams over UDP, translated to OTLP.
//!
//! Mirrors contrib's `jaegerreceiver` v0.165.0: `protocols` `grpc`
//! (`jaeger.api_v2.CollectorService/PostSpans`, default `localhost:14250`),
//! `thrift_http` (`POST /api/traces` with `application/x-thrift` or
//! `application/vnd.apache.thrift.binary` bodies, default
//! `localhost:14268`, 202 when the pipeline took the spans), and the
//! agent's `thrift_compact` (6831) and `thrift_binary` (6832) UDP ports,
//! whose datagrams are queued (`queue_size`, dropped when full as Go does)
//! for `workers` decoders and never answered. The translation is
//! `ferrotel-jaeger`'s, contrib's `pkg/translator/jaeger`. Self-metrics use
//! Go's transport names (`grpc`, `collector_http`, `udp_thrift_binary`,
//! `udp_thrift_compact`). Not supported: `auth`, `remote_sampling` (Go
//! refuses it too).

mod config;
mod grpc;
mod http;
mod udp;

pub use config::{Config, GrpcConfig, HttpConfig, Protocols, UdpConfig};

use ferrotel_core::ack::{AckToken, Acks, Guarantee};
use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentError, CreateSettings, Host, Metadata, ReceiverFactory, SignalConsumers,
};
use ferrotel_core::consumer::{Batch, ClientInfo, ConsumeError, SharedConsumer};
use ferrotel_core::pdata::trace::ResourceSpans;
use ferrotel_core::pdata::{Payload, Signal, Telemetry};
use ferrotel_core::telemetry::{ReceiverMetrics, Telemetry as SelfTelemetry};
use std::sync::{Arc, Mutex};

struct JaegerFactory;

/// The factory for the `jaeger` receiver.
pub fn factory() -> impl ReceiverFactory {
    JaegerFactory
}

impl ReceiverFactory for JaegerFactory {
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
        let consumer = next
            .get(Signal::Traces)
            .cloned()
            .ok_or(ferrotel_core::component::SIGNAL_NOT_SUPPORTED)?;
        Ok(Box::new(JaegerReceiver {
            id: set.id.to_string(),
            telemetry: set.telemetry,
            config,
            consumer,
            running: Mutex::new(Vec::new()),
        }))
    }
}

/// Where spans from one transport go, and its counters.
#[derive(Clone)]
struct Sink {
    consumer: SharedConsumer,
    metrics: ReceiverMetrics,
}

impl Sink {
    fn new(r: &JaegerReceiver, transport: &str) -> Sink {
        Sink {
            consumer: r.consumer.clone(),
            metrics: ReceiverMetrics::new(&r.telemetry, &r.id, transport, Signal::Traces),
        }
    }

    /// Hands the spans on and waits until every exporter has them.
    async fn push(
        &self,
        spans: Vec<ResourceSpans>,
        client: Arc<ClientInfo>,
    ) -> Result<(), ConsumeError> {
        let data = Telemetry::Traces(spans);
        let items = data.item_count() as u64;
        let (token, receipt) = AckToken::new(Guarantee::Accepted);
        let batch = Batch::from_payload(Payload::from(data), client).with_acks(Acks::one(token));
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

/// A started server, stopped at shutdown.
enum Server {
    Grpc(grpc::GrpcServer),
    Http(ferrotel_core::http_server::HttpServer),
    Udp(udp::UdpServer),
}

struct JaegerReceiver {
    id: String,
    telemetry: SelfTelemetry,
    config: Config,
    consumer: SharedConsumer,
    running: Mutex<Vec<Server>>,
}

impl JaegerReceiver {
    async fn start_all(&self, started: &mut Vec<Server>) -> Result<(), ComponentError> {
        let p = &self.config.protocols;
        if let Some(cfg) = &p.grpc {
            started.push(Server::Grpc(
                grpc::GrpcServer::start(cfg, Sink::new(self, "grpc")).await?,
            ));
        }
        if let Some(cfg) = &p.thrift_http {
            started.push(Server::Http(
                http::start(cfg, Sink::new(self, "collector_http")).await?,
            ));
        }
        for (cfg, protocol, transport) in [
            (
                &p.thrift_binary,
                ferrotel_jaeger::Protocol::Binary,
                "udp_thrift_binary",
            ),
            (
                &p.thrift_compact,
                ferrotel_jaeger::Protocol::Compact,
                "udp_thrift_compact",
            ),
        ] {
            if let Some(cfg) = cfg {
                started.push(Server::Udp(
                    udp::UdpServer::start(cfg, protocol, Sink::new(self, transport)).await?,
                ));
            }
        }
        Ok(())
    }
}

async fn stop(servers: Vec<Server>) {
    for s in servers {
        match s {
            Server::Grpc(g) => g.shutdown().await,
            Server::Http(h) => h.shutdown().await,
            Server::Udp(u) => u.shutdown().await,
        }
    }
}

#[async_trait]
impl Component for JaegerReceiver {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let mut started = Vec::new();
        if let Err(e) = self.start_all(&mut started).await {
            // What did start is stopped again, so its ports are free.
            stop(started).await;
            return Err(e);
        }
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = started;
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        let servers = std::mem::take(&mut *self.running.lock().unwrap_or_else(|p| p.into_inner()));
        stop(servers).await;
        Ok(())
    }
}
