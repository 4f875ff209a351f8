//! Jaeger's protobuf (`jaeger.api_v2`, jaeger-idl v0.14.0): the messages of
//! `CollectorService/PostSpans`, decoded with prost, and their mapping to
//! the shared model.

use crate::model::{Batch, Log, Process, Span, SpanRef, Tag, TagValue};
use prost::Message;

/// Decodes a `PostSpansRequest` from bytes.
pub fn post_spans_request(buf: &[u8]) -> Result<Batch, String> {
    post_spans_batch(PostSpansRequest::decode(buf).map_err(|e| e.to_string())?)
}

/// `jaeger.api_v2.PostSpansRequest`, for a gRPC server's codec; its batch
/// is read with [`post_spans_batch`].
#[derive(Clone, PartialEq, Message)]
pub struct PostSpansRequest {
    #[prost(message, optional, tag = "1")]
    batch: Option<PbBatch>,
}

#[derive(Clone, PartialEq, Message)]
struct PbBatch {
    #[prost(message, repeated, tag = "1")]
    spans: Vec<PbSpan>,
    #[prost(message, optional, tag = "2")]
    process: Option<PbProcess>,
}

#[derive(Clone, PartialEq, Message)]
struct PbProcess {
    #[prost(string, tag = "1")]
    service_name: String,
    #[prost(message, repeated, tag = "2")]
    tags: Vec<PbKeyValue>,
}

#[derive(Clone, PartialEq, Message)]
struct PbSpan {
    #[prost(bytes = "vec", tag = "1")]
    trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    span_id: Vec<u8>,
    #[prost(string, tag = "3")]
    operation_name: String,
    #[prost(message, repeated, tag = "4")]
    references: Vec<PbSpanRef>,
    #[prost(uint32, tag = "5")]
    flags: u32,
    #[prost(message, optional, tag = "6")]
    start_time: Option<PbTime>,
    #[prost(message, optional, tag = "7")]
    duration: Option<PbTime>,
    #[prost(message, repeated, tag = "8")]
    tags: Vec<PbKeyValue>,
    #[prost(message, repeated, tag = "9")]
    logs: Vec<PbLog>,
    #[prost(message, optional, tag = "10")]
    process: Option<PbProcess>,
}

/// `google.protobuf.Timestamp` and `Duration` share this shape.
#[derive(Clone, Copy, PartialEq, Message)]
struct PbTime {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

#[derive(Clone, PartialEq, Message)]
struct PbSpanRef {
    #[prost(bytes = "vec", tag = "1")]
    trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    span_id: Vec<u8>,
    #[prost(int32, tag = "3")]
    ref_type: i32,
}

#[derive(Clone, PartialEq, Message)]
struct PbLog {
    #[prost(message, optional, tag = "1")]
    timestamp: Option<PbTime>,
    #[prost(message, repeated, tag = "2")]
    fields: Vec<PbKeyValue>,
}

#[derive(Clone, PartialEq, Message)]
struct PbKeyValue {
    #[prost(string, tag = "1")]
    key: String,
    #[prost(int32, tag = "2")]
    v_type: i32,
    #[prost(string, tag = "3")]
    v_str: String,
    #[prost(bool, tag = "4")]
    v_bool: bool,
    #[prost(int64, tag = "5")]
    v_int64: i64,
    #[prost(double, tag = "6")]
    v_float64: f64,
    #[prost(bytes = "vec", tag = "7")]
    v_binary: Vec<u8>,
}

/// The batch of a `PostSpansRequest`; ids of the wrong length are refused
/// in jaeger-idl's words.
pub fn post_spans_batch(request: PostSpansRequest) -> Result<Batch, String> {
    let batch = request.batch.unwrap_or_default();
    Ok(Batch {
        process: batch.process.map(process),
        spans: batch
            .spans
            .into_iter()
            .map(span)
            .collect::<Result<_, _>>()?,
    })
}

fn process(p: PbProcess) -> Process {
    Process {
        service_name: p.service_name,
        // gogoproto leaves a repeated field nil when nothing was sent.
        tags: (!p.tags.is_empty()).then(|| p.tags.into_iter().map(tag).collect()),
    }
}

/// jaeger-idl's `TraceIDFromBytes`: 16 bytes, or 8 for the low half.
fn trace_id(b: &[u8]) -> Result<(u64, u64), String> {
    match b.len() {
        0 => Ok((0, 0)),
        8 => Ok((0, be_u64(b))),
        16 => Ok((be_u64(&b[..8]), be_u64(&b[8..]))),
        n => Err(format!("invalid length for TraceID: {n}")),
    }
}

/// `SpanIDFromBytes`: exactly 8 bytes.
fn span_id(b: &[u8]) -> Result<u64, String> {
    match b.len() {
        0 => Ok(0),
        8 => Ok(be_u64(b)),
        n => Err(format!("invalid length for SpanID: {n}")),
    }
}

fn be_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

fn nanos(t: Option<PbTime>) -> i64 {
    t.map_or(0, |t| {
        t.seconds
            .wrapping_mul(1_000_000_000)
            .wrapping_add(i64::from(t.nanos))
    })
}

fn span(s: PbSpan) -> Result<Span, String> {
    let start = nanos(s.start_time);
    Ok(Span {
        trace_id: trace_id(&s.trace_id)?,
        span_id: span_id(&s.span_id)?,
        parent_span_id: 0,
        operation_name: s.operation_name,
        references: s
            .references
            .into_iter()
            .map(|r| {
                Ok(SpanRef {
                    ref_type: r.ref_type,
                    trace_id: trace_id(&r.trace_id)?,
                    span_id: span_id(&r.span_id)?,
                })
            })
            .collect::<Result<_, String>>()?,
        flags: s.flags,
        start_unix_nano: start as u64,
        end_unix_nano: start.wrapping_add(nanos(s.duration)) as u64,
        tags: s.tags.into_iter().map(tag).collect(),
        logs: s
            .logs
            .into_iter()
            .map(|l| Log {
                unix_nano: nanos(l.timestamp) as u64,
                fields: l.fields.into_iter().map(tag).collect(),
            })
            .collect(),
        process: s.process.map(process),
    })
}

fn tag(kv: PbKeyValue) -> Tag {
    let value = match kv.v_type {
        0 => TagValue::Str(kv.v_str),
        1 => TagValue::Bool(kv.v_bool),
        2 => TagValue::Long(kv.v_int64),
        3 => TagValue::Double(kv.v_float64),
        4 => TagValue::Binary(kv.v_binary),
        // A protobuf enum's String() of a number it does not name.
        other => TagValue::Unknown(format!("\"{other}\"")),
    };
    Tag { key: kv.key, value }
}
