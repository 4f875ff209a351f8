//! Zipkin v2 JSON, read and written as zipkin-go's `SpanModel`
//! `UnmarshalJSON`/`MarshalJSON` and `encoding/json` do: keys matched
//! without regard to case, unknown keys ignored, ids as hex strings (a
//! trace id of 16 or 32 digits), times in microseconds; names and service
//! names written in lower case, durations rounded to the microsecond.

use crate::gojson::write_string;
use crate::model::{Annotation, Endpoint, Span, ip_string, parse_hex_u64, parse_ip};
use serde_json::{Map, Value};

/// Reads a JSON list of v2 spans; `None` for a `null` element.
pub fn decode_spans(body: &[u8]) -> Result<Vec<Option<Span>>, String> {
    // encoding/json reads invalid UTF-8 inside strings as U+FFFD.
    let text = String::from_utf8_lossy(body);
    let value: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::Null => Ok(None),
                Value::Object(o) => decode_span(o).map(Some),
                other => Err(type_error(other, "model.SpanModel")),
            })
            .collect(),
        other => Err(type_error(&other, "[]*model.SpanModel")),
    }
}

fn type_error(v: &Value, go_type: &str) -> String {
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    format!("json: cannot unmarshal {kind} into Go value of type {go_type}")
}

/// The value of `key`, matched as encoding/json matches field names.
fn field<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key).or_else(|| {
        o.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
            .next_back()
    })
}

/// The bytes between the first and last of a value's JSON text, as the
/// id types' `UnmarshalJSON(b)` take `b[1:len(b)-1]`.
fn inner_text(v: &Value) -> Result<String, String> {
    let raw = match v {
        Value::String(s) => return Ok(s.clone()),
        other => other.to_string(),
    };
    if raw.len() < 2 {
        return Ok(String::new());
    }
    Ok(raw[1..raw.len() - 1].to_string())
}

fn raw_len(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len() + 2,
        other => other.to_string().len(),
    }
}

fn u64_field(o: &Map<String, Value>, key: &str, go_type: &str) -> Result<u64, String> {
    match field(o, key) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => n.as_u64().ok_or_else(|| {
            format!(
                "json: cannot unmarshal number {n} into Go struct field .{key} of type {go_type}"
            )
        }),
        Some(other) => Err(type_error(other, go_type)),
    }
}

fn string_field(o: &Map<String, Value>, key: &str) -> Result<String, String> {
    match field(o, key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(type_error(other, "string")),
    }
}

fn bool_field(o: &Map<String, Value>, key: &str) -> Result<bool, String> {
    match field(o, key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(type_error(other, "bool")),
    }
}

fn id(v: &Value) -> Result<u64, String> {
    if raw_len(v) < 3 {
        return Ok(0);
    }
    parse_hex_u64(&inner_text(v)?)
}

fn decode_span(o: &Map<String, Value>) -> Result<Span, String> {
    let mut span = Span::default();
    if let Some(v) = field(o, "traceId") {
        if raw_len(v) < 3 {
            return Err("valid traceId required".into());
        }
        let h = inner_text(v)?;
        if h.len() > 16 {
            let split = h.len() - 16;
            if !h.is_char_boundary(split) {
                return Err(format!("strconv.ParseUint: parsing {h:?}: invalid syntax"));
            }
            span.trace_id_high = parse_hex_u64(&h[..split])?;
            span.trace_id_low = parse_hex_u64(&h[split..])?;
        } else {
            span.trace_id_low = parse_hex_u64(&h)?;
        }
    }
    if let Some(v) = field(o, "id") {
        span.id = id(v)?;
    }
    match field(o, "parentId") {
        None | Some(Value::Null) => {}
        Some(v) => span.parent_id = Some(id(v)?),
    }
    span.debug = bool_field(o, "debug")?;
    span.name = string_field(o, "name")?;
    span.kind = string_field(o, "kind")?;
    span.shared = bool_field(o, "shared")?;
    span.local_endpoint = endpoint(field(o, "localEndpoint"))?;
    span.remote_endpoint = endpoint(field(o, "remoteEndpoint"))?;
    match field(o, "annotations") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                span.annotations.push(annotation(item)?);
            }
        }
        Some(other) => return Err(type_error(other, "[]model.Annotation")),
    }
    match field(o, "tags") {
        None | Some(Value::Null) => {}
        Some(Value::Object(tags)) => {
            for (k, v) in tags {
                match v {
                    Value::String(s) => {
                        span.tags.insert(k.clone(), s.clone());
                    }
                    Value::Null => {
                        span.tags.insert(k.clone(), String::new());
                    }
                    other => return Err(type_error(other, "string")),
                }
            }
        }
        Some(other) => return Err(type_error(other, "map[string]string")),
    }
    let t = u64_field(o, "timestamp", "uint64")?;
    let d = u64_field(o, "duration", "uint64")?;
    if span.id < 1 {
        return Err("valid span id required".into());
    }
    if t > 0 {
        span.timestamp = Some((t as i64).wrapping_mul(1000));
    }
    span.duration = d.wrapping_mul(1000) as i64;
    Ok(span)
}

fn endpoint(v: Option<&Value>) -> Result<Option<Endpoint>, String> {
    let o = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(other) => return Err(type_error(other, "model.Endpoint")),
    };
    let ip = |key: &str| -> Result<Vec<u8>, String> {
        match field(o, key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
            Some(Value::String(s)) => parse_ip(s).ok_or_else(|| format!("invalid IP address: {s}")),
            Some(other) => Err(type_error(other, "net.IP")),
        }
    };
    let port = match field(o, "port") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .ok_or_else(|| format!("json: cannot unmarshal number {n} into Go struct field Endpoint.port of type uint16"))?,
        Some(other) => return Err(type_error(other, "uint16")),
    };
    let e = Endpoint {
        service_name: string_field(o, "serviceName")?,
        ipv4: ip("ipv4")?,
        ipv6: ip("ipv6")?,
        port,
    };
    Ok(if e.is_empty() { None } else { Some(e) })
}

fn annotation(v: &Value) -> Result<Annotation, String> {
    let o = match v {
        Value::Null => return Err("valid annotation timestamp required".into()),
        Value::Object(o) => o,
        other => return Err(type_error(other, "model.Annotation")),
    };
    let value = string_field(o, "value")?;
    let ts = u64_field(o, "timestamp", "uint64")?;
    if ts < 1 {
        return Err("valid annotation timestamp required".into());
    }
    Ok(Annotation {
        timestamp: (ts as i64).wrapping_mul(1000),
        value,
    })
}

/// Go's `time.Time.Round(time.Microsecond).UnixNano() / 1e3` for a time
/// after the epoch: halves round up.
pub(crate) fn round_micros(ns: i64) -> i64 {
    let r = ns.rem_euclid(1000);
    let down = ns - r;
    let t = if r + r < 1000 { down } else { down + 1000 };
    t / 1000
}

/// `json.Marshal([]*SpanModel)`: the body the Zipkin exporter sends as JSON.
pub fn encode_spans(spans: &[Span]) -> Result<Vec<u8>, String> {
    if spans.is_empty() {
        return Ok(b"null".to_vec());
    }
    let mut out = String::from("[");
    for (i, s) in spans.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        encode_span(&mut out, s)?;
    }
    out.push(']');
    Ok(out.into_bytes())
}

fn encode_span(out: &mut String, s: &Span) -> Result<(), String> {
    out.push('{');
    let mut first = true;
    let mut key = |out: &mut String, k: &str| {
        if !first {
            out.push(',');
        }
        first = false;
        out.push('"');
        out.push_str(k);
        out.push_str("\":");
    };
    if let Some(ts) = s.timestamp {
        if ts.div_euclid(1_000_000_000) < 1 {
            return Err("valid annotation timestamp required".into());
        }
        let micros = round_micros(ts);
        if micros != 0 {
            key(out, "timestamp");
            out.push_str(&micros.to_string());
        }
    }
    let mut d = s.duration;
    if d < 1000 {
        if d < 0 {
            return Err("valid duration required".into());
        } else if d > 0 {
            d = 1000;
        }
    } else {
        d += 500;
    }
    if d / 1000 != 0 {
        key(out, "duration");
        out.push_str(&(d / 1000).to_string());
    }
    key(out, "traceId");
    if s.trace_id_high == 0 {
        out.push_str(&format!("\"{:016x}\"", s.trace_id_low));
    } else {
        out.push_str(&format!(
            "\"{:016x}{:016x}\"",
            s.trace_id_high, s.trace_id_low
        ));
    }
    key(out, "id");
    out.push_str(&format!("\"{:016x}\"", s.id));
    if let Some(p) = s.parent_id {
        key(out, "parentId");
        out.push_str(&format!("\"{p:016x}\""));
    }
    if s.debug {
        key(out, "debug");
        out.push_str("true");
    }
    let name = s.name.to_lowercase();
    if !name.is_empty() {
        key(out, "name");
        write_string(out, &name, true);
    }
    if !s.kind.is_empty() {
        key(out, "kind");
        write_string(out, &s.kind, true);
    }
    if s.shared {
        key(out, "shared");
        out.push_str("true");
    }
    for (k, e) in [
        ("localEndpoint", &s.local_endpoint),
        ("remoteEndpoint", &s.remote_endpoint),
    ] {
        if let Some(e) = e.as_ref().filter(|e| !e.is_empty()) {
            key(out, k);
            encode_endpoint(out, e);
        }
    }
    if !s.annotations.is_empty() {
        key(out, "annotations");
        out.push('[');
        for (i, a) in s.annotations.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"timestamp\":");
            out.push_str(&round_micros(a.timestamp).to_string());
            out.push_str(",\"value\":");
            write_string(out, &a.value, true);
            out.push('}');
        }
        out.push(']');
    }
    if !s.tags.is_empty() {
        key(out, "tags");
        out.push('{');
        for (i, (k, v)) in s.tags.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_string(out, k, true);
            out.push(':');
            write_string(out, v, true);
        }
        out.push('}');
    }
    out.push('}');
    Ok(())
}

fn encode_endpoint(out: &mut String, e: &Endpoint) {
    let mut parts = Vec::new();
    let name = e.service_name.to_lowercase();
    if !name.is_empty() {
        let mut s = String::from("\"serviceName\":");
        write_string(&mut s, &name, true);
        parts.push(s);
    }
    for (k, ip) in [("ipv4", &e.ipv4), ("ipv6", &e.ipv6)] {
        if !ip.is_empty() {
            let mut s = format!("\"{k}\":");
            write_string(&mut s, &ip_string(ip), true);
            parts.push(s);
        }
    }
    if e.port != 0 {
        parts.push(format!("\"port\":{}", e.port));
    }
    out.push('{');
    out.push_str(&parts.join(","));
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_zipkin_go_span() {
        let spans = decode_spans(
            br#"[{"traceId":"4d1e00c0db9010db86154a4ba6e91385","ID":"86154a4ba6e91385","parentId":null,
                 "kind":"SERVER","timestamp":1472470996199000,"duration":207000,
                 "localEndpoint":{"serviceName":"frontend","ipv4":"192.168.99.1","port":0},
                 "remoteEndpoint":{"serviceName":""},"tags":{"a":"b"},
                 "annotations":[{"timestamp":1472470996238000,"value":"foo"}]}, null]"#,
        )
        .unwrap();
        let s = spans[0].as_ref().unwrap();
        assert_eq!(s.trace_id_high, 0x4d1e00c0db9010db);
        assert_eq!(s.id, 0x86154a4ba6e91385);
        assert_eq!(s.timestamp, Some(1472470996199000000));
        assert_eq!(s.duration, 207000000);
        assert!(s.remote_endpoint.is_none());
        assert_eq!(s.local_endpoint.as_ref().unwrap().ipv4.len(), 16);
        assert!(spans[1].is_none());
    }

    #[test]
    fn refuses_what_go_refuses() {
        assert!(decode_spans(b"[{\"traceId\":\"01\"}]").is_err()); // no id
        assert!(decode_spans(b"[{\"id\":\"01\",\"timestamp\":-1}]").is_err());
        assert!(decode_spans(b"[{\"id\":\"01\",\"annotations\":[{\"value\":\"x\"}]}]").is_err());
        assert!(decode_spans(b"{}").is_err());
        assert!(decode_spans(b"").is_err());
        assert!(decode_spans(b"null").unwrap().is_empty());
    }

    #[test]
    fn rounds_like_go() {
        assert_eq!(round_micros(1_499), 1);
        assert_eq!(round_micros(1_500), 2);
    }
}
