//! The core of ferrotel, an OpenTelemetry Collector distribution in Rust:
//! what every component needs, and nothing only the binary needs.
//!
//! It holds signal data ([`pdata`]), the component API and the factory
//! registry a distribution fills ([`component`]), the links between
//! components ([`consumer`]) and the acknowledgements that travel with
//! batches ([`ack`]), the storage API ([`storage`]), the helpers every
//! component's config uses ([`config`]: strict decoding with the Go
//! collector's error wording, Go's units), the exporter helper with queue
//! and retry ([`exporter_helper`]), self-metrics handles ([`telemetry`]),
//! and shared HTTP and TLS plumbing ([`http_server`], [`tls`]). It mirrors
//! the Go collector's `component`, `consumer`, `pdata` and `exporterhelper`
//! packages. Config loading, the pipeline graph, the service runtime and the
//! command line are `ferrotel-service`; OTTL is `ferrotel-ottl`.

pub mod ack;
pub mod auth;
pub mod component;
pub mod config;
pub mod consumer;
pub mod exporter_helper;
pub mod hex;
pub mod http_server;
pub mod memory;
pub mod pdata;
pub mod retry;
pub mod storage;
pub mod telemetry;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
pub mod tls;

pub use async_trait::async_trait;
