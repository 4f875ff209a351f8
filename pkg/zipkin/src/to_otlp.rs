//! Zipkin v2 spans to OTLP, as contrib's `zipkinv2.ToTranslator.ToTraces`
//! (v0.165.0) does with its default feature gates: spans sorted (Go's
//! unstable sort, ported) by local service name and instrumentation
//! library, a resource per run of one service name and a scope per run of
//! one library; resource attributes taken from the first span's tags of
//! each resource; endpoints to `network.local.address`, `net.host.port`,
//! `service.peer.name`, `network.peer.address`, `net.peer.port`;
//! `http.status_code` to `http.response.status_code`, `faas.id` to
//! `cloud.resource_id`; status from `otel.status_code` and `error`; links
//! and event attributes from the `otlp.link.N` tags and `name|json|dropped`
//! annotations the exporter writes.

use crate::attrs::{json_map_attrs, parse_string_tag, put, put_str};
use crate::model::{Span, ip_string};
use crate::{NO_SERVICE_NAME, START_TIME_ABSENT, gosort};
use ferrotel_core::pdata::common::{InstrumentationScope, any_value::Value};
use ferrotel_core::pdata::resource::Resource;
use ferrotel_core::pdata::trace::{ResourceSpans, ScopeSpans, Span as OtlpSpan, Status, span};
use std::collections::BTreeMap;

/// Keys that never become span attributes (`nonSpanAttributes`).
pub(crate) const RESOURCE_KEYS: &[&str] = &[
    "cloud.provider",
    "cloud.account.id",
    "cloud.region",
    "cloud.availability_zone",
    "cloud.platform",
    "aws.ecs.container.arn",
    "aws.ecs.cluster.arn",
    "aws.ecs.launchtype",
    "aws.ecs.task.arn",
    "aws.ecs.task.family",
    "aws.ecs.task.revision",
    "aws.eks.cluster.arn",
    "aws.log.group.names",
    "aws.log.group.arns",
    "aws.log.stream.names",
    "aws.log.stream.arns",
    "container.name",
    "container.id",
    "container.runtime",
    "container.image.name",
    "container.image.tag",
    "deployment.environment",
    "device.id",
    "device.model.identifier",
    "device.model.name",
    "device.manufacturer",
    "faas.name",
    "faas.id",
    "cloud.resource_id",
    "faas.version",
    "faas.instance",
    "faas.max_memory",
    "host.id",
    "host.name",
    "host.type",
    "host.arch",
    "host.image.name",
    "host.image.id",
    "host.image.version",
    "k8s.cluster.name",
    "k8s.node.name",
    "k8s.node.uid",
    "k8s.namespace.name",
    "k8s.pod.uid",
    "k8s.pod.name",
    "k8s.container.name",
    "k8s.container.restart_count",
    "k8s.replicaset.uid",
    "k8s.replicaset.name",
    "k8s.deployment.uid",
    "k8s.deployment.name",
    "k8s.statefulset.uid",
    "k8s.statefulset.name",
    "k8s.daemonset.uid",
    "k8s.daemonset.name",
    "k8s.job.uid",
    "k8s.job.name",
    "k8s.cronjob.uid",
    "k8s.cronjob.name",
    "os.type",
    "os.description",
    "os.name",
    "os.version",
    "process.pid",
    "process.executable.name",
    "process.executable.path",
    "process.command",
    "process.command_line",
    "process.command_args",
    "process.owner",
    "process.runtime.name",
    "process.runtime.version",
    "process.runtime.description",
    "service.name",
    "service.namespace",
    "service.instance.id",
    "service.version",
    "telemetry.sdk.name",
    "telemetry.sdk.language",
    "telemetry.sdk.version",
    "telemetry.auto.version",
    "webengine.name",
    "webengine.version",
    "webengine.description",
];

const SCOPE_KEYS: &[&str] = &[
    "otel.library.name",
    "otel.library.version",
    "otel.scope.name",
    "otel.scope.version",
];

const OTHER_NON_SPAN_KEYS: &[&str] = &[
    crate::SERVICE_NAME_SOURCE,
    "opencensus.starttime",
    "opencensus.exporterversion",
    "opencensus.resourcetype",
];

fn is_non_span_attribute(key: &str) -> bool {
    RESOURCE_KEYS.contains(&key) || SCOPE_KEYS.contains(&key) || OTHER_NON_SPAN_KEYS.contains(&key)
}

fn local_service_name(s: Option<&Span>) -> &str {
    match s.and_then(|s| s.local_endpoint.as_ref()) {
        Some(e) if !e.service_name.is_empty() => &e.service_name,
        _ => NO_SERVICE_NAME,
    }
}

fn instrumentation_library(s: Option<&Span>) -> &str {
    let Some(s) = s else { return "" };
    if let Some(v) = s.tags.get("otel.scope.name") {
        return v;
    }
    s.tags.get("otel.library.name").map_or("", String::as_str)
}

/// `ToTraces`: an error leaves what was translated before it.
pub fn to_traces(
    mut spans: Vec<Option<Span>>,
    parse_string_tags: bool,
) -> Result<Vec<ResourceSpans>, String> {
    let mut out: Vec<ResourceSpans> = Vec::new();
    if spans.is_empty() {
        return Ok(out);
    }
    gosort::sort(&mut spans, |a, b| {
        let diff = local_service_name(a.as_ref()).cmp(local_service_name(b.as_ref()));
        if diff.is_ne() {
            return diff.is_le();
        }
        instrumentation_library(a.as_ref())
            .cmp(instrumentation_library(b.as_ref()))
            .is_le()
    });
    let mut prev_service = String::new();
    let mut prev_lib = String::new();
    let mut scope_is_new = true;
    for zspan in spans.iter().flatten() {
        let mut tags = zspan.tags.clone();
        let service = local_service_name(Some(zspan)).to_string();
        if service != prev_service {
            prev_service = service.clone();
            out.push(ResourceSpans {
                resource: Some(resource_from_span(&mut tags, &service)),
                ..Default::default()
            });
            prev_lib.clear();
            scope_is_new = true;
        }
        let rs = out.last_mut().expect("a resource was pushed");
        let lib = instrumentation_library(Some(zspan)).to_string();
        if lib != prev_lib || scope_is_new {
            prev_lib = lib.clone();
            scope_is_new = false;
            rs.scope_spans.push(ScopeSpans {
                scope: Some(scope_from_span(&mut tags, &lib)),
                ..Default::default()
            });
        }
        let ss = rs.scope_spans.last_mut().expect("a scope was pushed");
        ss.spans.push(OtlpSpan::default());
        let dest = ss.spans.last_mut().expect("just pushed");
        convert_span(zspan, tags, dest, parse_string_tags)?;
    }
    Ok(out)
}

fn resource_from_span(tags: &mut BTreeMap<String, String>, service: &str) -> Resource {
    let mut r = Resource::default();
    if service == NO_SERVICE_NAME {
        return r;
    }
    let attrs = &mut r.attributes;
    if tags.is_empty() {
        put_str(attrs, "service.name", service);
        return r;
    }
    match tags
        .get(crate::SERVICE_NAME_SOURCE)
        .filter(|s| !s.is_empty())
    {
        Some(source) => put_str(attrs, &source.clone(), service),
        None => put_str(attrs, "service.name", service),
    }
    tags.remove(crate::SERVICE_NAME_SOURCE);
    for key in RESOURCE_KEYS.iter().chain(OTHER_NON_SPAN_KEYS) {
        if let Some(value) = tags.remove(*key) {
            // faas.id is written as cloud.resource_id (EmitV1 and
            // DontEmitV0CloudResourceConventions are on by default).
            let key = if *key == "faas.id" {
                "cloud.resource_id"
            } else {
                key
            };
            put_str(attrs, key, &value);
        }
    }
    r
}

fn scope_from_span(tags: &mut BTreeMap<String, String>, lib: &str) -> InstrumentationScope {
    let mut scope = InstrumentationScope::default();
    if lib.is_empty() {
        return scope;
    }
    for key in ["otel.library.name", "otel.scope.name"] {
        if let Some(v) = tags.remove(key) {
            scope.name = v;
        }
    }
    for key in ["otel.library.version", "otel.scope.version"] {
        if let Some(v) = tags.remove(key) {
            scope.version = v;
        }
    }
    scope
}

fn status_code(value: &str) -> i32 {
    match value {
        "STATUS_CODE_OK" | "Ok" => 1,
        "STATUS_CODE_ERROR" | "Error" => 2,
        _ => 0,
    }
}

fn convert_span(
    z: &Span,
    mut tags: BTreeMap<String, String>,
    dest: &mut OtlpSpan,
    parse_string_tags: bool,
) -> Result<(), String> {
    let mut trace_id = z.trace_id_high.to_be_bytes().to_vec();
    trace_id.extend_from_slice(&z.trace_id_low.to_be_bytes());
    // pdata's zero ids are written as absent.
    if z.trace_id_high != 0 || z.trace_id_low != 0 {
        dest.trace_id = trace_id;
    }
    if z.id != 0 {
        dest.span_id = z.id.to_be_bytes().to_vec();
    }
    if let Some(ts) = tags.remove("w3c.tracestate") {
        dest.trace_state = ts;
    }
    if let Some(p) = z.parent_id
        && p != z.id
        && p != 0
    {
        dest.parent_span_id = p.to_be_bytes().to_vec();
    }
    dest.name = z.name.clone();
    dest.kind = match z.kind.as_str() {
        "CLIENT" => 3,
        "SERVER" => 2,
        "PRODUCER" => 4,
        "CONSUMER" => 5,
        _ => match tags.remove("span.kind") {
            Some(v) if v == "internal" => 1,
            _ => 0,
        },
    };
    let mut status = Status::default();
    if let Some(v) = tags.remove("otel.status_code") {
        status.code = status_code(&v);
        if let Some(m) = tags.remove("otel.status_description") {
            status.message = m;
        }
    }
    if let Some(v) = tags.get("error") {
        status.code = 2;
        if v == "true" {
            tags.remove("error");
        }
    }
    dest.status = Some(status);
    links_from_tags(&mut tags, &mut dest.links)?;

    let attrs = &mut dest.attributes;
    for (key, val) in &tags {
        if is_non_span_attribute(key) {
            continue;
        }
        // DontEmitV0HttpConventions and EmitV1HttpConventions are on.
        let key = if key == "http.status_code" {
            "http.response.status_code"
        } else {
            key.as_str()
        };
        let value = if parse_string_tags {
            parse_string_tag(val)
        } else {
            Value::StringValue(val.clone())
        };
        put(attrs, key, value);
    }
    if let Some(e) = &z.local_endpoint {
        if !e.ipv4.is_empty() {
            put_str(attrs, "network.local.address", &ip_string(&e.ipv4));
        }
        if !e.ipv6.is_empty() {
            put_str(attrs, "network.local.address", &ip_string(&e.ipv6));
        }
        if e.port > 0 {
            put(attrs, "net.host.port", Value::IntValue(i64::from(e.port)));
        }
    }
    if let Some(e) = &z.remote_endpoint {
        if !e.service_name.is_empty() {
            put_str(attrs, "service.peer.name", &e.service_name);
        }
        if !e.ipv4.is_empty() {
            put_str(attrs, "network.peer.address", &ip_string(&e.ipv4));
        }
        if !e.ipv6.is_empty() {
            put_str(attrs, "network.peer.address", &ip_string(&e.ipv6));
        }
        if e.port > 0 {
            put(attrs, "net.peer.port", Value::IntValue(i64::from(e.port)));
        }
    }
    match z.timestamp {
        None => {
            dest.start_time_unix_nano = 0;
            dest.end_time_unix_nano = z.duration as u64;
            put(attrs, START_TIME_ABSENT, Value::BoolValue(true));
        }
        Some(ts) => {
            dest.start_time_unix_nano = ts as u64;
            dest.end_time_unix_nano = ts.wrapping_add(z.duration) as u64;
        }
    }
    for a in &z.annotations {
        let mut event = span::Event {
            time_unix_nano: a.timestamp as u64,
            ..Default::default()
        };
        let parts: Vec<&str> = a.value.split('|').collect();
        event.name = parts[0].to_string();
        if parts.len() >= 3 {
            let json = parts[1..parts.len() - 1].join("|");
            event.attributes = json_map_attrs(&json)?;
            event.dropped_attributes_count = parse_u32(parts[parts.len() - 1])?;
        }
        dest.events.push(event);
    }
    Ok(())
}

fn parse_u32(s: &str) -> Result<u32, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.ParseUint: parsing {s:?}: invalid syntax"));
    }
    s.parse::<u32>()
        .map_err(|_| format!("strconv.ParseUint: parsing {s:?}: value out of range"))
}

/// `unmarshalJSON` of the translator: hex, maybe quoted; empty is zero.
fn id_from_hex(dst: &mut [u8], src: &str) -> Result<(), String> {
    let src = match src.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) if src.len() >= 2 => inner,
        _ => src,
    };
    if src.is_empty() {
        return Ok(());
    }
    if src.len() != dst.len() * 2 {
        return Err("invalid length for ID".into());
    }
    let bytes = src.as_bytes();
    for (i, d) in dst.iter_mut().enumerate() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (hex(bytes[2 * i]), hex(bytes[2 * i + 1])) {
            (Some(h), Some(l)) => *d = (h * 16 + l) as u8,
            _ => return Err(format!("cannot unmarshal ID from string '{src}'")),
        }
    }
    Ok(())
}

fn links_from_tags(
    tags: &mut BTreeMap<String, String>,
    links: &mut Vec<span::Link>,
) -> Result<(), String> {
    for i in 0..128 {
        let key = format!("otlp.link.{i}");
        let Some(val) = tags.remove(&key) else {
            return Ok(());
        };
        let parts: Vec<&str> = val.split('|').collect();
        if parts.len() < 5 {
            continue;
        }
        let mut link = span::Link::default();
        let mut trace_id = [0u8; 16];
        id_from_hex(&mut trace_id, parts[0])?;
        link.trace_id = trace_id.to_vec();
        let mut span_id = [0u8; 8];
        id_from_hex(&mut span_id, parts[1])?;
        link.span_id = span_id.to_vec();
        // pdata writes empty ids as empty bytes.
        if trace_id == [0; 16] {
            link.trace_id.clear();
        }
        if span_id == [0; 8] {
            link.span_id.clear();
        }
        link.trace_state = parts[2].to_string();
        let json = parts[3..parts.len() - 1].join("|");
        link.attributes = json_map_attrs(&json)?;
        link.dropped_attributes_count = parse_u32(parts[parts.len() - 1])?;
        links.push(link);
    }
    Ok(())
}

/// Attributes as a sorted list, for tests.
#[cfg(test)]
pub(crate) fn sorted(attrs: &[ferrotel_core::pdata::common::KeyValue]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = attrs
        .iter()
        .map(|kv| {
            (
                kv.key.clone(),
                format!("{:?}", kv.value.as_ref().and_then(|v| v.value.as_ref())),
            )
        })
        .collect();
    v.sort();
    v
}
