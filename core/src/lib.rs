//! The core of ferrotel, an OpenTelemetry Collector distribution in Rust.
//!
//! It holds what every component and distribution shares: signal data
//! ([`pdata`]), the component API and factory registry ([`component`]),
//! the links between components ([`consumer`]) and the acknowledgements
//! that travel with batches ([`ack`]), the storage API ([`storage`]),
//! config loading with the Go
//! collector's semantics and error wording ([`config`]), the pipeline graph
//! ([`graph`]), the exporter helper with queue and retry
//! ([`exporter_helper`]), self-metrics ([`telemetry`]), the service runtime
//! ([`service`]) and the otelcol-compatible command line ([`cli`]). It
//! mirrors the Go collector's `component`, `consumer`, `confmap`, `otelcol`,
//! `service` and `exporterhelper` packages; where it differs (concurrent
//! fan-out, reload that keeps running on a bad config, warnings for unused
//! components), the module docs say so.

pub mod ack;
pub mod cli;
pub mod component;
pub mod config;
pub mod consumer;
pub mod exporter_helper;
pub mod graph;
pub mod http_server;
pub mod memory;
pub mod ottl;
pub mod pdata;
pub mod service;
pub mod storage;
pub mod telemetry;
pub mod tls;

pub use async_trait::async_trait;
