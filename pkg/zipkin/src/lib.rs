//! Zipkin v1 and v2 to and from OTLP, as contrib's
//! `pkg/translator/zipkin` (v0.165.0) translates them, shared by the
//! `zipkin` receiver and the `zipkin` exporter (components never depend on
//! each other). v2 is read and written in JSON and protobuf as zipkin-go
//! (v0.4.3) does (`json`, `proto`), v1 read in JSON (`v1`). Go's map
//! iteration order is random, so where Go's output order depends on it
//! (attributes from tags) any order is Go's; everything else, including
//! the order of spans after Go's unstable sort, is reproduced.

mod attrs;
mod from_otlp;
mod gojson;
mod gosort;
pub mod json;
pub mod model;
pub mod proto;
mod to_otlp;
pub mod v1;

pub use from_otlp::from_traces;
pub use to_otlp::to_traces;

/// The service name Go uses when a span has none.
pub const NO_SERVICE_NAME: &str = "OTLPResourceNoServiceName";
/// The attribute marking a span whose Zipkin start time was absent.
pub const START_TIME_ABSENT: &str = "otel.zipkin.absentField.startTime";
/// The tag naming the resource attribute that held the service name.
pub const SERVICE_NAME_SOURCE: &str = "otlp.service.name.source";

#[cfg(test)]
mod tests;
