//! Jaeger spans to OTLP, as contrib's `pkg/translator/jaeger` v0.165.0
//! (`ThriftToTraces`, `ProtoToTraces`) with its default feature gates
//! (`EmitV1HttpConventions` and `DontEmitV0HttpConventions` on).
//!
//! Attribute order matters for equality with Go's output, so the
//! attribute lists are worked on with pcommon.Map's semantics (`go::map_*`):
//! a put replaces in place, a remove moves the last entry into the gap.

use crate::model::{Batch, Process, Span, Tag, TagValue};
use ferrotel_core::pdata::common::any_value::Value;
use ferrotel_core::pdata::common::{InstrumentationScope, KeyValue};
use ferrotel_core::pdata::go::{map_get, map_put, map_remove, str_of};
use ferrotel_core::pdata::resource::Resource;
use ferrotel_core::pdata::trace::{ResourceSpans, ScopeSpans, Span as OtlpSpan, Status, span};

/// Jaeger's reference types.
const CHILD_OF: i32 = 0;
const FOLLOWS_FROM: i32 = 1;

/// Which wire the spans came on: the two translations differ in small ways.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wire {
    Thrift,
    Proto,
}

/// A Thrift batch (HTTP `/api/traces` or an agent datagram) as OTLP.
pub fn thrift_to_traces(batch: Batch) -> Vec<ResourceSpans> {
    if batch.process.is_none() && batch.spans.is_empty() {
        return Vec::new();
    }
    let mut rs = ResourceSpans {
        resource: Some(resource(batch.process, Wire::Thrift)),
        ..Default::default()
    };
    if !batch.spans.is_empty() {
        rs.scope_spans.push(ScopeSpans {
            spans: batch
                .spans
                .into_iter()
                .filter(|s| *s != Span::default())
                .map(|s| span_to_otlp(s, Wire::Thrift))
                .collect(),
            ..Default::default()
        });
    }
    vec![rs]
}

/// A protobuf batch (`PostSpans`) as OTLP. Spans with their own process
/// are grouped by it, as Go regroups them; Go's groups come out in map
/// order, ferrotel's in order of first appearance.
pub fn proto_to_traces(batch: Batch) -> Vec<ResourceSpans> {
    let mut groups: Vec<(Option<Process>, Vec<Span>)> = vec![(batch.process, Vec::new())];
    for span in batch.spans {
        let slot = match &span.process {
            None => 0,
            Some(p) => match groups.iter().position(|(q, _)| q.as_ref() == Some(p)) {
                Some(i) => i,
                None => {
                    groups.push((Some(p.clone()), Vec::new()));
                    groups.len() - 1
                }
            },
        };
        groups[slot].1.push(span);
    }
    groups
        .into_iter()
        .filter(|(p, spans)| p.is_some() || !spans.is_empty())
        .map(|(process, spans)| {
            let mut rs = ResourceSpans {
                resource: Some(resource(process, Wire::Proto)),
                ..Default::default()
            };
            for mut span in spans {
                if span == Span::default() {
                    continue;
                }
                let scope = take_scope(&mut span.tags);
                let at = match rs.scope_spans.iter().position(|s| {
                    s.scope
                        .as_ref()
                        .is_some_and(|sc| sc.name == scope.0 && sc.version == scope.1)
                }) {
                    Some(i) => i,
                    None => {
                        rs.scope_spans.push(ScopeSpans {
                            scope: Some(InstrumentationScope {
                                name: scope.0,
                                version: scope.1,
                                ..Default::default()
                            }),
                            ..Default::default()
                        });
                        rs.scope_spans.len() - 1
                    }
                };
                rs.scope_spans[at]
                    .spans
                    .push(span_to_otlp(span, Wire::Proto));
            }
            rs
        })
        .collect()
}

/// `otel.scope.name` and (only with it) `otel.scope.version`, cut from the
/// tags keeping their order.
fn take_scope(tags: &mut Vec<Tag>) -> (String, String) {
    let mut take = |key: &str| {
        let i = tags.iter().position(|t| t.key == key)?;
        let tag = tags.remove(i);
        Some(match tag.value {
            TagValue::Str(s) => s,
            _ => String::new(),
        })
    };
    match take("otel.scope.name") {
        Some(name) => (name, take("otel.scope.version").unwrap_or_default()),
        None => (String::new(), String::new()),
    }
}

fn resource(process: Option<Process>, wire: Wire) -> Resource {
    let mut out = Resource::default();
    let Some(p) = process else {
        return out;
    };
    if wire == Wire::Proto && p.service_name == "OTLPResourceNoServiceName" {
        return out;
    }
    if p.service_name.is_empty() && p.tags.is_none() {
        return out;
    }
    let attrs = &mut out.attributes;
    if !p.service_name.is_empty() {
        map_put(attrs, "service.name", Value::StringValue(p.service_name));
    }
    put_tags(p.tags.unwrap_or_default(), attrs);
    if let Some(host) = map_get(attrs, "hostname").cloned()
        && map_get(attrs, "host.name").is_none()
    {
        map_put(attrs, "host.name", host);
        map_remove(attrs, "hostname");
    }
    if let Some(version) = map_get(attrs, "jaeger.version").map(|v| str_of(Some(v)).to_string())
        && map_get(attrs, "opencensus.exporterversion").is_none()
    {
        map_put(
            attrs,
            "opencensus.exporterversion",
            Value::StringValue(format!("Jaeger-{version}")),
        );
        map_remove(attrs, "jaeger.version");
    }
    out
}

/// Tags as attributes; both HTTP status keys become
/// `http.response.status_code` only (the default gates).
fn put_tags(tags: Vec<Tag>, attrs: &mut Vec<KeyValue>) {
    for tag in tags {
        let key = match tag.key.as_str() {
            "http.status_code" | "http.response.status_code" => "http.response.status_code",
            key => key,
        };
        let value = match tag.value {
            TagValue::Str(s) => Value::StringValue(s),
            TagValue::Bool(b) => Value::BoolValue(b),
            TagValue::Long(l) => Value::IntValue(l),
            TagValue::Double(d) => Value::DoubleValue(d),
            TagValue::Binary(b) => Value::BytesValue(b),
            TagValue::Unknown(t) => Value::StringValue(format!("<Unknown Jaeger TagType {t}>")),
        };
        map_put(attrs, key, value);
    }
}

fn trace_id((high, low): (u64, u64)) -> Vec<u8> {
    let mut id = high.to_be_bytes().to_vec();
    id.extend_from_slice(&low.to_be_bytes());
    id
}

/// The parent: Thrift's `parentSpanId`, else the first `CHILD_OF`
/// reference in the same trace, else the first `FOLLOWS_FROM` one.
fn parent_of(span: &Span) -> u64 {
    if span.parent_span_id != 0 {
        return span.parent_span_id;
    }
    let same_trace = || {
        span.references
            .iter()
            .filter(|r| r.trace_id == span.trace_id)
    };
    same_trace()
        .find(|r| r.ref_type == CHILD_OF)
        .or_else(|| same_trace().find(|r| r.ref_type == FOLLOWS_FROM))
        .map_or(0, |r| r.span_id)
}

fn span_to_otlp(span: Span, wire: Wire) -> OtlpSpan {
    let parent = parent_of(&span);
    let mut out = OtlpSpan {
        trace_id: trace_id(span.trace_id),
        span_id: span.span_id.to_be_bytes().to_vec(),
        name: span.operation_name,
        start_time_unix_nano: span.start_unix_nano,
        end_time_unix_nano: span.end_unix_nano,
        flags: span.flags & 1,
        ..Default::default()
    };
    if parent != 0 {
        out.parent_span_id = parent.to_be_bytes().to_vec();
    }
    let attrs = &mut out.attributes;
    put_tags(span.tags, attrs);
    if let Some(kind) = map_get(attrs, "span.kind") {
        out.kind = match str_of(Some(kind)) {
            "client" => span::SpanKind::Client,
            "server" => span::SpanKind::Server,
            "producer" => span::SpanKind::Producer,
            "consumer" => span::SpanKind::Consumer,
            "internal" => span::SpanKind::Internal,
            _ => span::SpanKind::Unspecified,
        } as i32;
        map_remove(attrs, "span.kind");
    }
    out.status = status(attrs, out.kind);
    if wire == Wire::Proto
        && let Some(state) = map_get(attrs, "w3c.tracestate").map(|v| str_of(Some(v)).to_string())
    {
        out.trace_state = state;
        map_remove(attrs, "w3c.tracestate");
    }
    out.events = span
        .logs
        .into_iter()
        .map(|log| {
            let mut event = span::Event {
                time_unix_nano: log.unix_nano,
                ..Default::default()
            };
            put_tags(log.fields, &mut event.attributes);
            if let Some(name) = map_get(&event.attributes, "event") {
                event.name = str_of(Some(name)).to_string();
                map_remove(&mut event.attributes, "event");
            }
            event
        })
        .collect();
    out.links = span
        .references
        .into_iter()
        // The parent itself is not a link.
        .filter(|r| r.span_id != parent || r.ref_type != CHILD_OF)
        .map(|r| span::Link {
            trace_id: trace_id(r.trace_id),
            span_id: r.span_id.to_be_bytes().to_vec(),
            attributes: vec![KeyValue {
                key: "opentracing.ref_type".into(),
                value: Some(ferrotel_core::pdata::common::AnyValue {
                    value: Some(Value::StringValue(
                        if r.ref_type == CHILD_OF {
                            "child_of"
                        } else {
                            "follows_from"
                        }
                        .into(),
                    )),
                }),
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    out
}

/// Go's `setInternalSpanStatus`: a boolean `error` tag, then
/// `otel.status_code`, then the HTTP status code.
fn status(attrs: &mut Vec<KeyValue>, kind: i32) -> Option<Status> {
    use ferrotel_core::pdata::trace::status::StatusCode;
    let mut code = StatusCode::Unset;
    let mut message = String::new();
    let mut exists = false;
    if let Some(Value::BoolValue(true)) = map_get(attrs, "error") {
        code = StatusCode::Error;
        map_remove(attrs, "error");
        exists = true;
        if let Some(desc) = take_description(attrs) {
            message = desc;
        } else if let Some(m) = map_get(attrs, "http.status_message") {
            message = str_of(Some(m)).to_string();
        }
    }
    if let Some(c) = map_get(attrs, "otel.status_code") {
        if !exists {
            exists = true;
            match str_of(Some(c)).to_uppercase().as_str() {
                "OK" => code = StatusCode::Ok,
                "ERROR" => code = StatusCode::Error,
                _ => {}
            }
            if let Some(desc) = take_description(attrs) {
                message = desc;
            }
        }
        map_remove(attrs, "otel.status_code");
    } else if !exists
        && let Some(http) = map_get(attrs, "http.status_code")
            .or_else(|| map_get(attrs, "http.response.status_code"))
        && let Some(http) = http_code(http)
    {
        // A 4xx is the client's fault: an error for a client span, not
        // for the server that answered it.
        let client_error = (400..500).contains(&http);
        let from_http = if client_error && kind == span::SpanKind::Client as i32 {
            StatusCode::Error
        } else if (client_error && kind == span::SpanKind::Server as i32)
            || (100..399).contains(&http)
        {
            StatusCode::Unset
        } else {
            StatusCode::Error
        };
        if from_http != StatusCode::Unset {
            exists = true;
            code = from_http;
        }
        if let Some(m) = map_get(attrs, "http.status_message") {
            message = str_of(Some(m)).to_string();
        }
    }
    exists.then_some(Status {
        code: code as i32,
        message,
    })
}

fn take_description(attrs: &mut Vec<KeyValue>) -> Option<String> {
    let desc = str_of(Some(map_get(attrs, "otel.status_description")?)).to_string();
    map_remove(attrs, "otel.status_description");
    Some(desc)
}

/// An HTTP status attribute as Go's `codeFromAttr` reads it.
fn http_code(v: &Value) -> Option<i64> {
    match v {
        Value::IntValue(i) => Some(*i),
        Value::StringValue(s) => s.parse().ok(),
        _ => None,
    }
}
