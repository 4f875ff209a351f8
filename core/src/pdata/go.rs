//! Values as the Go collector's pdata renders them as text, for exporters
//! whose output must match Go's byte for byte: `json` is Go's
//! `encoding/json` of a value's `AsRaw()` (the kafka exporter's `raw`
//! encoding), `as_string` is `pcommon.Value.AsString()` (attribute maps
//! and bodies in ClickHouse columns), `time_string` is `time.Time.String()`
//! in UTC (the debug exporter, go-oidc's expiry error).

use super::common::any_value;

/// A value as Go's `encoding/json` writes the value's `AsRaw()`: map keys
/// sorted (the last of a repeated key wins), bytes as base64, U+2028 and
/// U+2029 escaped (and `<`, `>`, `&` with `escape_html`, as `json.Marshal`
/// does), floats in Go's shortest form; NaN and infinities are errors.
pub fn json(
    value: Option<&any_value::Value>,
    escape_html: bool,
    out: &mut String,
) -> Result<(), String> {
    use any_value::Value as V;
    use std::fmt::Write;
    match value {
        None | Some(V::StringValueStrindex(_)) => out.push_str("null"),
        Some(V::StringValue(s)) => json_string(s, escape_html, out),
        Some(V::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(V::IntValue(i)) => {
            let _ = write!(out, "{i}");
        }
        Some(V::DoubleValue(d)) => json_float(*d, out)?,
        Some(V::BytesValue(b)) => {
            use base64::Engine;
            out.push('"');
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(b));
            out.push('"');
        }
        Some(V::ArrayValue(a)) => {
            out.push('[');
            for (i, v) in a.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json(v.value.as_ref(), escape_html, out)?;
            }
            out.push(']');
        }
        Some(V::KvlistValue(m)) => {
            let mut entries: Vec<(&str, Option<&V>)> = Vec::new();
            for kv in &m.values {
                let v = kv.value.as_ref().and_then(|x| x.value.as_ref());
                match entries.iter_mut().find(|(k, _)| *k == kv.key) {
                    Some(slot) => slot.1 = v,
                    None => entries.push((&kv.key, v)),
                }
            }
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(k, escape_html, out);
                out.push(':');
                json(v, escape_html, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn json_string(s: &str, escape_html: bool, out: &mut String) {
    use std::fmt::Write;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Go 1.22 and later.
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if escape_html => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's float64 JSON form: the shortest decimal that reads back the same,
/// in exponent form (`1e+21`, `1e-7`) outside [1e-6, 1e21).
fn json_float(d: f64, out: &mut String) -> Result<(), String> {
    use std::fmt::Write;
    if !d.is_finite() {
        return Err(format!("json: unsupported value: {d}"));
    }
    let abs = d.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let e = format!("{d:e}");
        match e.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => {
                let _ = write!(out, "{mantissa}e+{exp}");
            }
            _ => out.push_str(&e),
        }
    } else {
        let _ = write!(out, "{d}");
    }
    Ok(())
}

/// `pcommon.Value.AsString()`: strings as they are, bools and ints in
/// decimal, floats in Go's shortest form (`NaN`, `Infinity`, `-Infinity`),
/// bytes as standard base64, maps and arrays as JSON without HTML escapes
/// (empty when they hold a NaN or an infinity, as Go's ignored encoding
/// error leaves it), an empty value as "".
pub fn as_string(value: Option<&any_value::Value>, out: &mut String) {
    use any_value::Value as V;
    use std::fmt::Write;
    match value {
        None | Some(V::StringValueStrindex(_)) => {}
        Some(V::StringValue(s)) => out.push_str(s),
        Some(V::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(V::IntValue(i)) => {
            let _ = write!(out, "{i}");
        }
        Some(V::DoubleValue(d)) if d.is_nan() => out.push_str("NaN"),
        Some(V::DoubleValue(d)) if d.is_infinite() => {
            out.push_str(if *d > 0.0 { "Infinity" } else { "-Infinity" })
        }
        Some(V::DoubleValue(d)) => {
            let _ = json_float(*d, out);
        }
        Some(V::BytesValue(b)) => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode_string(b, out);
        }
        Some(v @ (V::ArrayValue(_) | V::KvlistValue(_))) => {
            let start = out.len();
            if json(Some(v), false, out).is_err() {
                out.truncate(start);
            }
        }
    }
}

/// `pcommon.Map.Put*`: the first entry with the key takes the value in
/// place; a new key is appended.
pub fn map_put(attrs: &mut Vec<super::common::KeyValue>, key: &str, value: any_value::Value) {
    let value = Some(super::common::AnyValue { value: Some(value) });
    match attrs.iter_mut().find(|kv| kv.key == key) {
        Some(kv) => kv.value = value,
        None => attrs.push(super::common::KeyValue {
            key: key.to_string(),
            value,
            ..Default::default()
        }),
    }
}

/// `pcommon.Map.Get`: the value of the first entry with the key.
pub fn map_get<'a>(
    attrs: &'a [super::common::KeyValue],
    key: &str,
) -> Option<&'a any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| kv.value.as_ref().and_then(|v| v.value.as_ref()))
        .map(|v| v.unwrap_or(&EMPTY))
}

/// An entry without a value reads as Go's empty value (a `Str` of "").
static EMPTY: any_value::Value = any_value::Value::StringValue(String::new());

/// `pcommon.Map.Remove`: the last entry moves into the removed one's place,
/// which is how Go's maps reorder.
pub fn map_remove(attrs: &mut Vec<super::common::KeyValue>, key: &str) -> bool {
    match attrs.iter().position(|kv| kv.key == key) {
        Some(i) => {
            attrs.swap_remove(i);
            true
        }
        None => false,
    }
}

/// `pcommon.Value.Str()`: the string of a `Str` value, "" for any other.
pub fn str_of(value: Option<&any_value::Value>) -> &str {
    match value {
        Some(any_value::Value::StringValue(s)) => s,
        _ => "",
    }
}

/// `2018-12-13 14:51:00 +0000 UTC`, Go's `time.Time.String()` in UTC.
pub fn time_string(nanos: u64) -> String {
    let secs = nanos / 1_000_000_000;
    let frac = nanos % 1_000_000_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    );
    if frac != 0 {
        let f = format!("{frac:09}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s.push_str(" +0000 UTC");
    s
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// algorithm): (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdata::common::{AnyValue, ArrayValue, KeyValue, KeyValueList};
    use any_value::Value as V;

    fn marshal(v: V) -> String {
        let mut out = String::new();
        json(Some(&v), true, &mut out).unwrap();
        out
    }

    fn string(v: V) -> String {
        let mut out = String::new();
        as_string(Some(&v), &mut out);
        out
    }

    fn kv(k: &str, v: V) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..KeyValue::default()
        }
    }

    #[test]
    fn json_is_what_go_json_marshal_writes() {
        assert_eq!(
            marshal(V::StringValue("a \"b\" <c> & d\n".into())),
            r#""a \"b\" \u003cc\u003e \u0026 d\n""#
        );
        assert_eq!(
            marshal(V::StringValue("\u{8}\u{c}\u{1}".into())),
            r#""\b\f\u0001""#
        );
        assert_eq!(marshal(V::DoubleValue(3.0)), "3");
        assert_eq!(marshal(V::DoubleValue(0.1)), "0.1");
        assert_eq!(marshal(V::DoubleValue(1e21)), "1e+21");
        assert_eq!(marshal(V::DoubleValue(1e-7)), "1e-7");
        assert_eq!(marshal(V::DoubleValue(-2.5e-7)), "-2.5e-7");
        assert_eq!(marshal(V::IntValue(-7)), "-7");
        let map = V::KvlistValue(KeyValueList {
            values: vec![
                kv("z", V::BoolValue(true)),
                kv("a", V::BytesValue(vec![1, 2])),
                kv(
                    "m",
                    V::ArrayValue(ArrayValue {
                        values: vec![
                            AnyValue {
                                value: Some(V::IntValue(1)),
                            },
                            AnyValue { value: None },
                        ],
                    }),
                ),
                kv("z", V::BoolValue(false)),
            ],
        });
        assert_eq!(marshal(map), r#"{"a":"AQI=","m":[1,null],"z":false}"#);
        let mut out = String::new();
        assert!(json(Some(&V::DoubleValue(f64::NAN)), true, &mut out).is_err());
    }

    #[test]
    fn as_string_is_pcommon_as_string() {
        assert_eq!(string(V::StringValue("<a&b>".into())), "<a&b>");
        assert_eq!(string(V::BoolValue(false)), "false");
        assert_eq!(string(V::IntValue(-3)), "-3");
        assert_eq!(string(V::DoubleValue(2.5)), "2.5");
        assert_eq!(string(V::DoubleValue(1e-9)), "1e-9");
        assert_eq!(string(V::DoubleValue(f64::NAN)), "NaN");
        assert_eq!(string(V::DoubleValue(f64::NEG_INFINITY)), "-Infinity");
        assert_eq!(string(V::BytesValue(vec![0xff, 0])), "/wA=");
        let map = V::KvlistValue(KeyValueList {
            values: vec![
                kv("k", V::StringValue("<v>".into())),
                kv("a", V::IntValue(1)),
            ],
        });
        assert_eq!(string(map), r#"{"a":1,"k":"<v>"}"#);
        let bad = V::ArrayValue(ArrayValue {
            values: vec![AnyValue {
                value: Some(V::DoubleValue(f64::INFINITY)),
            }],
        });
        assert_eq!(string(bad), "");
    }

    #[test]
    fn times_print_like_go() {
        assert_eq!(
            time_string(1_544_712_660_000_000_000),
            "2018-12-13 14:51:00 +0000 UTC"
        );
        assert_eq!(
            time_string(1_544_712_660_500_000_000),
            "2018-12-13 14:51:00.5 +0000 UTC"
        );
        assert_eq!(time_string(0), "1970-01-01 00:00:00 +0000 UTC");
    }
}
