//! Zipkin v2 protobuf (`zipkin.proto3.ListOfSpans`, from
//! openzipkin/zipkin-api `zipkin.proto`, as vendored by zipkin-go v0.4.3
//! in `proto/zipkin_proto3/zipkin.proto`), read and written as zipkin-go's
//! `zipkin_proto3.ParseSpans` and `SpanSerializer` do. The messages are
//! written by hand with prost's derive.

use crate::model::{Annotation, Endpoint, Span};
use prost::Message;
use std::collections::HashMap;

/// `zipkin.proto3.Span`.
#[derive(Clone, PartialEq, Message)]
struct ProtoSpan {
    #[prost(bytes = "vec", tag = "1")]
    trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    parent_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    id: Vec<u8>,
    #[prost(int32, tag = "4")]
    kind: i32,
    #[prost(string, tag = "5")]
    name: String,
    #[prost(fixed64, tag = "6")]
    timestamp: u64,
    #[prost(uint64, tag = "7")]
    duration: u64,
    #[prost(message, optional, tag = "8")]
    local_endpoint: Option<ProtoEndpoint>,
    #[prost(message, optional, tag = "9")]
    remote_endpoint: Option<ProtoEndpoint>,
    #[prost(message, repeated, tag = "10")]
    annotations: Vec<ProtoAnnotation>,
    #[prost(map = "string, string", tag = "11")]
    tags: HashMap<String, String>,
    #[prost(bool, tag = "12")]
    debug: bool,
    #[prost(bool, tag = "13")]
    shared: bool,
}

/// `zipkin.proto3.Endpoint`.
#[derive(Clone, PartialEq, Message)]
struct ProtoEndpoint {
    #[prost(string, tag = "1")]
    service_name: String,
    #[prost(bytes = "vec", tag = "2")]
    ipv4: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    ipv6: Vec<u8>,
    #[prost(int32, tag = "4")]
    port: i32,
}

/// `zipkin.proto3.Annotation`.
#[derive(Clone, PartialEq, Message)]
struct ProtoAnnotation {
    #[prost(fixed64, tag = "1")]
    timestamp: u64,
    #[prost(string, tag = "2")]
    value: String,
}

/// `zipkin.proto3.ListOfSpans`.
#[derive(Clone, PartialEq, Message)]
struct ListOfSpans {
    #[prost(message, repeated, tag = "1")]
    spans: Vec<ProtoSpan>,
}

const KINDS: [&str; 5] = [
    "SPAN_KIND_UNSPECIFIED",
    "CLIENT",
    "SERVER",
    "PRODUCER",
    "CONSUMER",
];

/// `zipkin_proto3.ParseSpans(body, debug)`.
pub fn decode_spans(body: &[u8], debug: bool) -> Result<Vec<Option<Span>>, String> {
    let list = ListOfSpans::decode(body).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(list.spans.len());
    for s in list.spans {
        if s.trace_id.len() != 16 {
            return Err(format!(
                "invalid TraceID: has length {} yet wanted length 16",
                s.trace_id.len()
            ));
        }
        let span_id = |b: &[u8], what: &str| -> Result<Option<u64>, String> {
            match b.len() {
                0 => Ok(None),
                8 => Ok(Some(u64::from_be_bytes(b.try_into().unwrap_or_default()))),
                n => Err(format!(
                    "invalid {what}: has length {n} yet wanted length 8"
                )),
            }
        };
        let parent_id = span_id(&s.parent_id, "ParentID")?;
        let id = span_id(&s.id, "SpanID")?.ok_or("expected a non-nil SpanID")?;
        let kind = match usize::try_from(s.kind).ok().and_then(|k| KINDS.get(k)) {
            Some(k) => (*k).to_string(),
            None => s.kind.to_string(),
        };
        let endpoint = |e: Option<ProtoEndpoint>| {
            e.map(|e| Endpoint {
                service_name: e.service_name,
                ipv4: e.ipv4,
                ipv6: e.ipv6,
                port: e.port as u16,
            })
        };
        out.push(Some(Span {
            trace_id_high: u64::from_be_bytes(s.trace_id[..8].try_into().unwrap_or_default()),
            trace_id_low: u64::from_be_bytes(s.trace_id[8..].try_into().unwrap_or_default()),
            id,
            parent_id,
            debug,
            name: s.name,
            kind,
            // time.Unix(0, us*1e3): never Go's zero time, even for 0.
            timestamp: Some(s.timestamp.wrapping_mul(1000) as i64),
            duration: s.duration.wrapping_mul(1000) as i64,
            shared: s.shared,
            local_endpoint: endpoint(s.local_endpoint),
            remote_endpoint: endpoint(s.remote_endpoint),
            annotations: s
                .annotations
                .into_iter()
                .map(|a| Annotation {
                    timestamp: a.timestamp.wrapping_mul(1000) as i64,
                    value: a.value,
                })
                .collect(),
            tags: s.tags.into_iter().collect(),
        }));
    }
    Ok(out)
}

/// `zipkin_proto3.SpanSerializer.Serialize`: the body the Zipkin exporter
/// sends as protobuf.
pub fn encode_spans(spans: &[Span]) -> Vec<u8> {
    let list = ListOfSpans {
        spans: spans
            .iter()
            .map(|s| {
                let mut trace_id = s.trace_id_high.to_be_bytes().to_vec();
                trace_id.extend_from_slice(&s.trace_id_low.to_be_bytes());
                ProtoSpan {
                    trace_id,
                    parent_id: s.parent_id.unwrap_or(0).to_be_bytes().to_vec(),
                    id: s.id.to_be_bytes().to_vec(),
                    kind: KINDS
                        .iter()
                        .position(|k| *k == s.kind)
                        .map_or(0, |p| p as i32),
                    name: s.name.clone(),
                    timestamp: s
                        .timestamp
                        .map_or(0, |t| crate::json::round_micros(t) as u64),
                    duration: (s.duration / 1000) as u64,
                    local_endpoint: s.local_endpoint.as_ref().map(endpoint),
                    remote_endpoint: s.remote_endpoint.as_ref().map(endpoint),
                    annotations: s
                        .annotations
                        .iter()
                        .map(|a| ProtoAnnotation {
                            timestamp: (a.timestamp as u64) / 1000,
                            value: a.value.clone(),
                        })
                        .collect(),
                    tags: s.tags.clone().into_iter().collect(),
                    debug: s.debug,
                    shared: s.shared,
                }
            })
            .collect(),
    };
    list.encode_to_vec()
}

fn endpoint(e: &Endpoint) -> ProtoEndpoint {
    ProtoEndpoint {
        service_name: e.service_name.clone(),
        ipv4: e.ipv4.clone(),
        ipv6: e.ipv6.clone(),
        port: i32::from(e.port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let span = Span {
            trace_id_high: 1,
            trace_id_low: 2,
            id: 3,
            parent_id: Some(4),
            name: "n".into(),
            kind: "SERVER".into(),
            timestamp: Some(1_000_000_000_000),
            duration: 5_000,
            local_endpoint: Some(Endpoint {
                service_name: "svc".into(),
                ipv4: vec![10, 0, 0, 1],
                ..Default::default()
            }),
            ..Default::default()
        };
        let back = decode_spans(&encode_spans(std::slice::from_ref(&span)), false).unwrap();
        assert_eq!(back[0].as_ref().unwrap(), &span);
    }

    #[test]
    fn wrong_id_lengths() {
        let list = ListOfSpans {
            spans: vec![ProtoSpan {
                trace_id: vec![1; 8],
                ..Default::default()
            }],
        };
        assert!(decode_spans(&list.encode_to_vec(), false).is_err());
    }
}
