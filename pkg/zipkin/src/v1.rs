//! Zipkin v1 JSON to OTLP, as contrib's `zipkinv1` JSON unmarshaler
//! (v0.165.0): span kind and endpoint from the core annotations (`cs`,
//! `cr`, `sr`, `ss`, `ms`, `mr`), other annotations to events, binary
//! annotations to attributes (`lc` to `component`), status from
//! `census.status_code`, `otel.status_code`, `error` and
//! `http.status_code`; one resource per endpoint (`service.name`, `ipv4`,
//! `ipv6`, `port`). A span without a timestamp gets the receiver's clock
//! and `otel.zipkin.absentField.startTime`.

use crate::START_TIME_ABSENT;
use crate::attrs::{parse_string_tag, put, put_str};
use ferrotel_core::pdata::common::any_value::Value;
use ferrotel_core::pdata::resource::Resource;
use ferrotel_core::pdata::trace::{ResourceSpans, ScopeSpans, Span, Status, span};
use serde_json::{Map, Value as Json};

#[derive(Clone, Default)]
struct Endpoint {
    service_name: String,
    ipv4: String,
    ipv6: String,
    port: i32,
}

const UNKNOWN_SERVICE: &str = "unknown-service";

fn field<'a>(o: &'a Map<String, Json>, key: &str) -> Option<&'a Json> {
    o.get(key).or_else(|| {
        o.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
            .next_back()
    })
}

fn string(o: &Map<String, Json>, key: &str) -> Result<String, String> {
    match field(o, key) {
        None | Some(Json::Null) => Ok(String::new()),
        Some(Json::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!(
            "zipkinv1: json: cannot unmarshal into Go struct field .{key} of type string"
        )),
    }
}

fn int(o: &Map<String, Json>, key: &str) -> Result<i64, String> {
    match field(o, key) {
        None | Some(Json::Null) => Ok(0),
        Some(Json::Number(n)) => n
            .as_i64()
            .ok_or_else(|| format!("zipkinv1: json: cannot unmarshal number {n} into Go struct field .{key} of type int64")),
        Some(_) => Err(format!("zipkinv1: json: cannot unmarshal into Go struct field .{key} of type int64")),
    }
}

fn endpoint(v: Option<&Json>) -> Result<Option<Endpoint>, String> {
    match v {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Object(o)) => {
            let port = int(o, "port")?;
            Ok(Some(Endpoint {
                service_name: string(o, "serviceName")?,
                ipv4: string(o, "ipv4")?,
                ipv6: string(o, "ipv6")?,
                port: i32::try_from(port).map_err(|_| {
                    format!("zipkinv1: json: cannot unmarshal number {port} into Go struct field endpoint.port of type int32")
                })?,
            }))
        }
        Some(_) => {
            Err("zipkinv1: json: cannot unmarshal into Go value of type zipkinv1.endpoint".into())
        }
    }
}

fn list<'a>(
    o: &'a Map<String, Json>,
    key: &str,
) -> Result<Vec<Option<&'a Map<String, Json>>>, String> {
    match field(o, key) {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Array(items)) => items
            .iter()
            .map(|i| match i {
                Json::Null => Ok(None),
                Json::Object(o) => Ok(Some(o)),
                _ => Err(format!(
                    "zipkinv1: json: cannot unmarshal into Go struct field .{key}"
                )),
            })
            .collect(),
        Some(_) => Err(format!(
            "zipkinv1: json: cannot unmarshal into Go struct field .{key}"
        )),
    }
}

fn hex_id<const N: usize>(s: &str) -> Result<[u8; N], String> {
    let mut out = [0u8; N];
    let b = s.as_bytes();
    for (i, d) in out.iter_mut().enumerate() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (hex(b[2 * i]), hex(b[2 * i + 1])) {
            (Some(h), Some(l)) => *d = (h * 16 + l) as u8,
            _ => return Err("encoding/hex: invalid byte".into()),
        }
    }
    Ok(out)
}

fn trace_id(s: &str) -> Result<Vec<u8>, String> {
    let id: [u8; 16] = match s.len() {
        16 => {
            let low: [u8; 8] = hex_id(s)?;
            let mut id = [0u8; 16];
            id[8..].copy_from_slice(&low);
            id
        }
        32 => hex_id(s)?,
        _ => return Err("hex traceId span has wrong length (expected 16 or 32)".into()),
    };
    if id == [0; 16] {
        return Err("traceId is zero".into());
    }
    Ok(id.to_vec())
}

fn span_id(s: &str) -> Result<Vec<u8>, String> {
    if s.len() != 16 {
        return Err("hex Id has wrong length (expected 16)".into());
    }
    let id: [u8; 8] = hex_id(s)?;
    if id == [0; 8] {
        return Err("ID is zero".into());
    }
    Ok(id.to_vec())
}

fn micros_to_nanos(us: i64) -> u64 {
    if us <= 0 {
        0
    } else {
        (us as u64).wrapping_mul(1000)
    }
}

/// Reads a v1 JSON body; `now` is the receiver's clock in Unix nanoseconds.
pub fn decode_json(
    body: &[u8],
    parse_string_tags: bool,
    now: u64,
) -> Result<Vec<ResourceSpans>, String> {
    let text = String::from_utf8_lossy(body);
    let value: Json = serde_json::from_str(&text).map_err(|e| format!("zipkinv1: {e}"))?;
    let items = match value {
        Json::Null => Vec::new(),
        Json::Array(items) => items,
        _ => return Err(
            "zipkinv1: json: cannot unmarshal object into Go value of type []*zipkinv1.jsonSpan"
                .into(),
        ),
    };
    let mut converted = Vec::new();
    for item in &items {
        let o = match item {
            // A null span decodes to a nil pointer, which Go then reads
            // and panics on; here it is an error.
            Json::Null => return Err("zipkinv1: null span".into()),
            Json::Object(o) => o,
            _ => {
                return Err(
                    "zipkinv1: json: cannot unmarshal into Go value of type zipkinv1.jsonSpan"
                        .into(),
                );
            }
        };
        converted.push(convert(o, parse_string_tags, now)?);
    }
    let mut out: Vec<ResourceSpans> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    for (span, ep) in converted {
        let key = format!("{}-{}-{}-{}", ep.service_name, ep.ipv4, ep.ipv6, ep.port);
        let idx = match keys.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                let mut r = Resource::default();
                put_str(&mut r.attributes, "service.name", &ep.service_name);
                if !(ep.ipv4.is_empty() && ep.ipv6.is_empty() && ep.port == 0) {
                    if !ep.ipv4.is_empty() {
                        put_str(&mut r.attributes, "ipv4", &ep.ipv4);
                    }
                    if !ep.ipv6.is_empty() {
                        put_str(&mut r.attributes, "ipv6", &ep.ipv6);
                    }
                    if ep.port != 0 {
                        put_str(&mut r.attributes, "port", &ep.port.to_string());
                    }
                }
                out.push(ResourceSpans {
                    resource: Some(r),
                    scope_spans: vec![ScopeSpans {
                        scope: Some(Default::default()),
                        ..Default::default()
                    }],
                    ..Default::default()
                });
                keys.push(key);
                out.len() - 1
            }
        };
        out[idx].scope_spans[0].spans.push(span);
    }
    Ok(out)
}

fn convert(
    o: &Map<String, Json>,
    parse_string_tags: bool,
    now: u64,
) -> Result<(Span, Endpoint), String> {
    let tid = string(o, "traceId")?;
    let sid = string(o, "id")?;
    let pid = string(o, "parentId")?;
    let name = string(o, "name")?;
    let timestamp = int(o, "timestamp")?;
    let duration = int(o, "duration")?;
    let annotations = list(o, "annotations")?;
    let binary = list(o, "binaryAnnotations")?;
    let trace_id = trace_id(&tid).map_err(|e| format!("zipkinV1 span traceId: {e}"))?;
    let id = span_id(&sid).map_err(|e| format!("zipkinV1 span id: {e}"))?;
    let parent = if pid.is_empty() {
        Vec::new()
    } else {
        span_id(&pid).map_err(|e| format!("zipkinV1 span parentId: {e}"))?
    };

    let mut span = Span::default();
    let mut edpt: Option<Endpoint> = None;
    let mut kind_set = false;
    let (mut early, mut late) = (i64::MAX, i64::MIN);
    for a in annotations.into_iter().flatten() {
        let value = string(a, "value")?;
        let ts = int(a, "timestamp")?;
        let ep = endpoint(field(a, "endpoint"))?;
        if value.is_empty() {
            continue;
        }
        let ep_name = ep
            .as_ref()
            .map(|e| e.service_name.as_str())
            .filter(|n| !n.is_empty())
            .unwrap_or(UNKNOWN_SERVICE);
        let core = matches!(value.as_str(), "cs" | "cr" | "ms" | "mr" | "ss" | "sr");
        if edpt.is_none() && ep_name != UNKNOWN_SERVICE && core {
            edpt = ep.clone();
        }
        if !kind_set && core {
            span.kind = match value.as_str() {
                "cs" | "cr" => 3,
                "ms" => 4,
                "mr" => 5,
                _ => 2,
            };
            kind_set = true;
        }
        let t = micros_to_nanos(ts);
        if ts < early {
            early = ts;
            span.start_time_unix_nano = t;
        }
        if ts > late {
            late = ts;
            span.end_time_unix_nano = t;
        }
        if core {
            continue;
        }
        span.events.push(span::Event {
            time_unix_nano: t,
            name: value,
            ..Default::default()
        });
    }
    let mut edpt = edpt.unwrap_or(Endpoint {
        service_name: UNKNOWN_SERVICE.into(),
        ..Default::default()
    });

    // Binary annotations.
    let mut fallback = String::new();
    if !binary.is_empty() {
        let mut mapper = StatusMapper::default();
        let mut local_component = String::new();
        for b in binary.into_iter().flatten() {
            let mut key = string(b, "key")?;
            let raw = string(b, "value")?;
            if let Some(ep) = endpoint(field(b, "endpoint"))?
                && !ep.service_name.is_empty()
            {
                fallback = ep.service_name;
            }
            if key == "lc" {
                key = "component".into();
                local_component = raw.clone();
            }
            let val = if parse_string_tags {
                parse_string_tag(&raw)
            } else {
                Value::StringValue(raw)
            };
            if mapper.take_attribute(&key, &val) {
                continue;
            }
            let key = if key == "http.status_code" {
                "http.response.status_code".to_string()
            } else {
                key
            };
            put(&mut span.attributes, &key, val);
        }
        if fallback.is_empty() {
            fallback = local_component;
        }
        mapper.apply(&mut span);
    }
    if edpt.service_name == UNKNOWN_SERVICE && !fallback.is_empty() {
        edpt.service_name = fallback;
    }
    if timestamp != 0 {
        span.start_time_unix_nano = micros_to_nanos(timestamp);
        span.end_time_unix_nano = micros_to_nanos(timestamp.wrapping_add(duration));
    }
    span.name = name;
    span.trace_id = trace_id;
    span.span_id = id;
    span.parent_span_id = parent;
    if span.start_time_unix_nano == 0 {
        span.start_time_unix_nano = now;
        span.end_time_unix_nano = now;
        put(
            &mut span.attributes,
            START_TIME_ABSENT,
            Value::BoolValue(true),
        );
    }
    if span.status.is_none() {
        span.status = Some(Status::default());
    }
    Ok((span, edpt))
}

#[derive(Default, Clone)]
struct St {
    code: Option<i32>,
    message: String,
}

#[derive(Default)]
struct StatusMapper {
    from_status: St,
    from_census: St,
    from_http: St,
    from_error_tag: St,
}

fn str_of(v: &Value) -> String {
    match v {
        Value::StringValue(s) => s.clone(),
        _ => String::new(),
    }
}

fn to_status_int(v: &Value) -> Option<i32> {
    let i = match v {
        Value::IntValue(i) => *i,
        Value::StringValue(s) => {
            let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse::<i64>().ok()?
        }
        _ => return None,
    };
    i32::try_from(i).ok()
}

impl StatusMapper {
    /// True when the attribute is consumed (dropped from the span).
    fn take_attribute(&mut self, key: &str, v: &Value) -> bool {
        match key {
            "census.status_code" => {
                if let Some(c) = to_status_int(v) {
                    self.from_census.code = Some(if c != 0 { 2 } else { 1 });
                }
                true
            }
            "census.status_description" | "opencensus.status_description" => {
                self.from_census.message = str_of(v);
                true
            }
            "otel.status_code" => {
                if let Some(c) = to_status_int(v) {
                    self.from_status.code = Some(c);
                }
                true
            }
            "otel.status_description" => {
                self.from_status.message = str_of(v);
                true
            }
            "http.status_code" | "http.response.status_code" => {
                if let Some(c) = to_status_int(v) {
                    self.from_http.code = Some(if (100..400).contains(&c) { 0 } else { 2 });
                }
                false
            }
            "http.status_message" => {
                self.from_http.message = str_of(v);
                false
            }
            "error" => {
                self.from_error_tag.code = Some(2);
                true
            }
            _ => false,
        }
    }

    fn apply(&self, span: &mut Span) {
        let s = if self.from_census.code.is_some() {
            self.from_census.clone()
        } else if self.from_status.code.is_some() {
            self.from_status.clone()
        } else if self.from_error_tag.code.is_some() {
            let mut s = self.from_error_tag.clone();
            if !self.from_census.message.is_empty() {
                s.message = self.from_census.message.clone();
            } else if !self.from_status.message.is_empty() {
                s.message = self.from_status.message.clone();
            }
            s
        } else if self.from_http.code.is_some() {
            self.from_http.clone()
        } else {
            St::default()
        };
        if let Some(code) = s.code {
            span.status = Some(Status {
                code,
                message: s.message,
            });
        }
    }
}
