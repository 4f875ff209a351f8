//! OTLP to Zipkin v2 spans, as contrib's `zipkinv2.FromTranslator`
//! (v0.165.0) does with its default feature gates: resource attributes
//! and scope attributes become tags of every span (scope tags accumulate
//! across the scopes of a resource, as Go's shared map does), the service
//! name comes from `service.name`, `faas.name`, `k8s.deployment.name` or
//! `process.executable.name`; endpoints from the network attributes;
//! status to `otel.status_code`/`error`; events to annotations and links to
//! `otlp.link.N` tags.

use crate::NO_SERVICE_NAME;
use crate::gojson::{as_string, map_json};
use crate::model::{Annotation, Endpoint, Span, parse_ip};
use ferrotel_core::pdata::common::InstrumentationScope;
use ferrotel_core::pdata::trace::{ResourceSpans, Span as OtlpSpan};
use std::collections::BTreeMap;

type Tags = BTreeMap<String, String>;

/// `FromTraces`.
pub fn from_traces(rss: &[ResourceSpans]) -> Result<Vec<Span>, String> {
    let mut out = Vec::new();
    for rs in rss {
        let attrs = rs.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
        if attrs.is_empty() && rs.scope_spans.is_empty() {
            continue;
        }
        let (service, mut ztags) = resource_tags(attrs);
        for ss in &rs.scope_spans {
            if let Some(scope) = &ss.scope {
                scope_tags(scope, &mut ztags);
            }
            for span in &ss.spans {
                out.push(span_to_zipkin(span, &service, &ztags)?);
            }
        }
    }
    Ok(out)
}

fn resource_tags(attrs: &[ferrotel_core::pdata::common::KeyValue]) -> (String, Tags) {
    let mut tags = Tags::new();
    if attrs.is_empty() {
        return (NO_SERVICE_NAME.into(), tags);
    }
    for kv in attrs {
        tags.insert(kv.key.clone(), as_string(kv.value.as_ref()));
    }
    // EmitV1 and DontEmitV0CloudResourceConventions are on by default.
    if !tags.contains_key("cloud.resource_id")
        && let Some(v) = tags.remove("faas.id")
    {
        tags.insert("cloud.resource_id".into(), v);
    }
    let service = if let Some(sn) = tags.remove("service.name") {
        sn
    } else {
        let mut found = None;
        for key in [
            "faas.name",
            "k8s.deployment.name",
            "process.executable.name",
        ] {
            if let Some(v) = tags.remove(key) {
                tags.insert(crate::SERVICE_NAME_SOURCE.into(), key.into());
                found = Some(v);
                break;
            }
        }
        found.unwrap_or_else(|| NO_SERVICE_NAME.into())
    };
    (service, tags)
}

fn scope_tags(scope: &InstrumentationScope, tags: &mut Tags) {
    for kv in &scope.attributes {
        tags.insert(kv.key.clone(), as_string(kv.value.as_ref()));
    }
    // DontEmitV0 and EmitV1ScopeConventions are on by default.
    if !scope.name.is_empty() {
        tags.insert("otel.scope.name".into(), scope.name.clone());
    }
    if !scope.version.is_empty() {
        tags.insert("otel.scope.version".into(), scope.version.clone());
    }
}

fn id_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    let n = b.len().min(8);
    a[..n].copy_from_slice(&b[..n]);
    u64::from_be_bytes(a)
}

fn span_to_zipkin(span: &OtlpSpan, service: &str, ztags: &Tags) -> Result<Span, String> {
    let mut tags = ztags.clone();
    for kv in &span.attributes {
        tags.insert(kv.key.clone(), as_string(kv.value.as_ref()));
    }
    if let Some(v) = tags.get("http.response.status_code").cloned() {
        tags.entry("http.status_code".into()).or_insert(v);
    }
    let mut zs = Span::default();
    if span.trace_id.iter().all(|b| *b == 0) {
        return Err("TraceID is invalid".into());
    }
    zs.trace_id_high = id_u64(&span.trace_id[..span.trace_id.len().min(8)]);
    zs.trace_id_low = id_u64(span.trace_id.get(8..).unwrap_or_default());
    if span.span_id.iter().all(|b| *b == 0) {
        return Err("SpanID is invalid".into());
    }
    zs.id = id_u64(&span.span_id);
    if !span.trace_state.is_empty() {
        tags.insert("w3c.tracestate".into(), span.trace_state.clone());
    }
    if span.parent_span_id.iter().any(|b| *b != 0) {
        zs.parent_id = Some(id_u64(&span.parent_span_id));
    }
    zs.name = span.name.clone();
    let start = span.start_time_unix_nano as i64;
    // Go: `startTime.Unix() != 0` (whole seconds).
    if start.div_euclid(1_000_000_000) != 0 {
        zs.timestamp = Some(start);
    }
    if span.end_time_unix_nano != 0 {
        zs.duration = span
            .end_time_unix_nano
            .wrapping_sub(span.start_time_unix_nano) as i64;
    }
    zs.kind = match span.kind {
        3 => "CLIENT",
        2 => "SERVER",
        4 => "PRODUCER",
        5 => "CONSUMER",
        _ => "",
    }
    .into();
    if span.kind == 1 {
        tags.insert("span.kind".into(), "internal".into());
    }
    let mut redundant = Vec::new();
    zs.local_endpoint = endpoint_from_tags(&tags, service, false, &mut redundant);
    zs.remote_endpoint = endpoint_from_tags(&tags, "", true, &mut redundant);
    for k in redundant {
        tags.remove(k);
    }
    let (code, message) = span
        .status
        .as_ref()
        .map_or((0, ""), |s| (s.code, s.message.as_str()));
    if code == 2 {
        tags.insert("error".into(), "true".into());
    } else {
        tags.remove("error");
    }
    if code != 0 {
        let text = match code {
            1 => "STATUS_CODE_OK",
            2 => "STATUS_CODE_ERROR",
            _ => "",
        };
        tags.insert("otel.status_code".into(), text.into());
        if !message.is_empty() {
            tags.insert("otel.status_description".into(), message.into());
        }
    }
    for e in &span.events {
        let value = if e.attributes.is_empty() && e.dropped_attributes_count == 0 {
            e.name.clone()
        } else {
            format!(
                "{}|{}|{}",
                e.name,
                map_json(&e.attributes, true),
                e.dropped_attributes_count
            )
        };
        zs.annotations.push(Annotation {
            timestamp: e.time_unix_nano as i64,
            value,
        });
    }
    for (i, l) in span.links.iter().enumerate() {
        let hex = |b: &[u8]| {
            if b.iter().all(|x| *x == 0) {
                String::new()
            } else {
                ferrotel_core::hex::encode(b)
            }
        };
        tags.insert(
            format!("otlp.link.{i}"),
            format!(
                "{}|{}|{}|{}|{}",
                hex(&l.trace_id),
                hex(&l.span_id),
                l.trace_state,
                map_json(&l.attributes, true),
                l.dropped_attributes_count
            ),
        );
    }
    zs.tags = tags;
    Ok(zs)
}

/// Go's `strconv.ParseUint(s, 10, 16)` as the translator uses it: the
/// maximum on overflow, 0 on a syntax error.
fn parse_port(s: &str) -> u16 {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    s.parse::<u64>()
        .map_or(u16::MAX, |v| u16::try_from(v).unwrap_or(u16::MAX))
}

fn endpoint_from_tags(
    tags: &Tags,
    local_service: &str,
    remote: bool,
    redundant: &mut Vec<&'static str>,
) -> Option<Endpoint> {
    let mut service = local_service.to_string();
    if remote {
        if let Some(p) = tags.get("service.peer.name") {
            service = p.clone();
            redundant.push("service.peer.name");
        } else if let Some(p) = tags.get("peer.service") {
            service = p.clone();
            redundant.push("peer.service");
        }
    }
    let (ip_key, port_key) = if remote {
        ("network.peer.address", "net.peer.port")
    } else {
        ("network.local.address", "net.host.port")
    };
    let mut ip = None;
    let mut v6 = false;
    if let Some(s) = tags.get(ip_key) {
        v6 = s.contains(':');
        ip = parse_ip(s);
        redundant.push(ip_key);
    }
    let mut port = 0;
    if let Some(s) = tags.get(port_key) {
        port = parse_port(s);
        redundant.push(port_key);
    }
    if service.is_empty() && ip.is_none() {
        return None;
    }
    let ip = ip.unwrap_or_default();
    Some(Endpoint {
        service_name: service,
        ipv4: if v6 { Vec::new() } else { ip.clone() },
        ipv6: if v6 { ip } else { Vec::new() },
        port,
    })
}
