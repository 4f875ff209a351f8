//! The text Go writes for attribute values: `pcommon.Value.AsString` and
//! `encoding/json` over `Map.AsRaw()` (sorted keys, ES6 float text, HTML
//! escaping unless turned off), which the Zipkin exporter puts into tags
//! and annotation values.

use base64::Engine;
use ferrotel_core::pdata::common::{AnyValue, KeyValue, any_value::Value};

/// `pcommon.Value.AsString`.
pub(crate) fn as_string(v: Option<&AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => float_as_string(*d),
        Some(Value::BytesValue(b)) => base64::engine::general_purpose::STANDARD.encode(b),
        Some(Value::KvlistValue(m)) => {
            let mut out = String::new();
            write_map(&mut out, &m.values, false);
            out
        }
        Some(Value::ArrayValue(a)) => {
            let mut out = String::new();
            write_array(&mut out, &a.values, false);
            out
        }
        // Dictionary references exist only in the profiles signal.
        Some(Value::StringValueStrindex(_)) => String::new(),
    }
}

/// `float64AsString` of pdata: NaN and infinities by name, else as JSON.
fn float_as_string(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f == f64::INFINITY {
        return "Infinity".into();
    }
    if f == f64::NEG_INFINITY {
        return "-Infinity".into();
    }
    es6_float(f)
}

/// `encoding/json`'s float text: shortest digits, `e` notation below 1e-6
/// and from 1e21, exponents without padding.
pub(crate) fn es6_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        // Rust writes 1e21 and 1e-7; Go writes 1e+21 and 1e-07 cleaned to 1e-7.
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        }
    } else if f == 0.0 && f.is_sign_negative() {
        "-0".into()
    } else {
        format!("{f}")
    }
}

/// `json.Marshal(map.AsRaw())` (`escape_html`) or pdata's no-HTML-escape
/// encoder: keys sorted, values by their raw Go types.
pub(crate) fn map_json(kvs: &[KeyValue], escape_html: bool) -> String {
    let mut out = String::new();
    write_map(&mut out, kvs, escape_html);
    out
}

fn write_map(out: &mut String, kvs: &[KeyValue], html: bool) {
    // AsRaw builds a Go map: a repeated key keeps its last value.
    let mut sorted: std::collections::BTreeMap<&str, Option<&AnyValue>> = Default::default();
    for kv in kvs {
        sorted.insert(&kv.key, kv.value.as_ref());
    }
    out.push('{');
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, k, html);
        out.push(':');
        write_value(out, v, html);
    }
    out.push('}');
}

fn write_array(out: &mut String, values: &[AnyValue], html: bool) {
    out.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_value(out, Some(v), html);
    }
    out.push(']');
}

fn write_value(out: &mut String, v: Option<&AnyValue>, html: bool) {
    match v.and_then(|v| v.value.as_ref()) {
        None => out.push_str("null"),
        Some(Value::StringValue(s)) => write_string(out, s, html),
        Some(Value::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(Value::IntValue(i)) => out.push_str(&i.to_string()),
        // json.Marshal fails on NaN and infinities; pdata's AsRaw keeps them
        // and Go's encoder then errors: the exporter reports the error. Here
        // they are written as null, which is what a reader can take.
        Some(Value::DoubleValue(d)) if !d.is_finite() => out.push_str("null"),
        Some(Value::DoubleValue(d)) => out.push_str(&es6_float(*d)),
        Some(Value::BytesValue(b)) => {
            out.push('"');
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(b));
            out.push('"');
        }
        Some(Value::KvlistValue(m)) => write_map(out, &m.values, html),
        Some(Value::ArrayValue(a)) => write_array(out, &a.values, html),
        Some(Value::StringValueStrindex(_)) => out.push_str("null"),
    }
}

/// A JSON string as `encoding/json` writes it.
pub(crate) fn write_string(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_go_writes_them() {
        assert_eq!(es6_float(1.5), "1.5");
        assert_eq!(es6_float(100.0), "100");
        assert_eq!(es6_float(1e21), "1e+21");
        assert_eq!(es6_float(1.5e-7), "1.5e-7");
        assert_eq!(es6_float(123456789.0), "123456789");
        assert_eq!(float_as_string(f64::NAN), "NaN");
    }

    #[test]
    fn html_escaping() {
        let mut s = String::new();
        write_string(&mut s, "<a&b>\u{1}", true);
        assert_eq!(s, "\"\\u003ca\\u0026b\\u003e\\u0001\"");
    }
}
