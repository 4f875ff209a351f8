//! Jaeger spans to OTLP, as contrib's `pkg/translator/jaeger` v0.165.0.
//!
//! Jaeger clients send Thrift (`jaeger.thrift`: an agent's UDP datagrams in
//! the compact or binary protocol, a collector's HTTP `/api/traces` body in
//! the binary protocol) or protobuf (`jaeger.api_v2`, gRPC `PostSpans`).
//! Both decode into one [`model`], which [`thrift_to_traces`] and
//! [`proto_to_traces`] translate with Go's rules: service and process tags
//! to resource attributes (`hostname` to `host.name`, `jaeger.version` to
//! `opencensus.exporterversion`), `span.kind`, status from `error`,
//! `otel.status_code` or the HTTP status, logs to events, references to
//! links, and, for protobuf, the instrumentation scope and trace state
//! from their tags.

pub mod model;
mod proto;
mod thrift;
mod to_otlp;

pub use model::{agent_datagram, thrift_batch};
pub use proto::{PostSpansRequest, post_spans_batch, post_spans_request};
pub use thrift::Protocol;
pub use to_otlp::{proto_to_traces, thrift_to_traces};

#[cfg(test)]
mod tests;
