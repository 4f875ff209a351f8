//! The `zipkin` receiver: Zipkin spans over HTTP, translated to OTLP.
//!
//! Mirrors contrib's `zipkinreceiver` (v0.165.0): one HTTP server on
//! `localhost:9411` that takes every path and method; a path containing
//! `api/v1/spans` is Zipkin v1 (JSON), any other is v2, JSON unless
//! `Content-Type: application/x-protobuf` (with `X-B3-Flags: 1` marking
//! the spans debug). Bodies may be gzip, zstd, zlib/deflate or snappy
//! encoded. The translation is `ferrotel-zipkin`'s, which is contrib's
//! `pkg/translator/zipkin`. Answers are Go's: 202 once every exporter took
//! the spans, 400 with the decoding error, 400 `"Bad Request"` when the
//! pipeline refused them for good and 500 `"Internal Server Error"` when
//! it may take them later. Not supported: v1 Thrift
//! (`Content-Type: application/x-thrift`, answered 400), `auth`.

mod config;
mod http;

pub use config::Config;

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentError, CreateSettings, Host, Metadata, ReceiverFactory, SignalConsumers,
};
use ferrotel_core::http_server::HttpServer;
use ferrotel_core::pdata::Signal;
use ferrotel_core::telemetry::ReceiverMetrics;
use std::sync::Mutex;

struct ZipkinFactory;

/// The factory for the `zipkin` receiver.
pub fn factory() -> impl ReceiverFactory {
    ZipkinFactory
}

impl ReceiverFactory for ZipkinFactory {
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
            .ok_or("the zipkin receiver only supports traces")?;
        let id = set.id.to_string();
        let metrics =
            |transport| ReceiverMetrics::new(&set.telemetry, &id, transport, Signal::Traces);
        let sink = http::Sink {
            consumer,
            v1_json: metrics("http_v1_json"),
            v1_thrift: metrics("http_v1_thrift"),
            v2_json: metrics("http_v2_json"),
            v2_proto: metrics("http_v2_proto"),
            parse_string_tags: config.parse_string_tags,
        };
        Ok(Box::new(ZipkinReceiver {
            config,
            sink: std::sync::Arc::new(sink),
            server: Mutex::new(None),
        }))
    }
}

struct ZipkinReceiver {
    config: Config,
    sink: std::sync::Arc<http::Sink>,
    server: Mutex<Option<HttpServer>>,
}

#[async_trait]
impl Component for ZipkinReceiver {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let server = http::start(&self.config, self.sink.clone()).await?;
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
