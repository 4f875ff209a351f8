//! pcommon.Map operations on OTLP attribute lists: `Put*` replaces a key in
//! place, as a pdata map does.

use ferrotel_core::pdata::common::{KeyValue, any_value::Value};

pub(crate) fn put(attrs: &mut Vec<KeyValue>, key: &str, value: Value) {
    ferrotel_core::pdata::go::map_put(attrs, key, value);
}

pub(crate) fn put_str(attrs: &mut Vec<KeyValue>, key: &str, value: &str) {
    put(attrs, key, Value::StringValue(value.to_string()));
}

/// What `zipkin.DetermineValueType` reads a tag value as, when
/// `parse_string_tags` is on (Go's `\d` is ASCII digits).
pub(crate) fn parse_string_tag(v: &str) -> Value {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = v.strip_prefix('-').unwrap_or(v);
    if digits(unsigned) {
        // strconv.ParseInt saturates on overflow, and the error is ignored.
        let i = v.parse::<i64>().unwrap_or(if v.starts_with('-') {
            i64::MIN
        } else {
            i64::MAX
        });
        return Value::IntValue(i);
    }
    if let Some((a, b)) = unsigned.split_once('.')
        && digits(a)
        && digits(b)
    {
        return Value::DoubleValue(v.parse::<f64>().unwrap_or(0.0));
    }
    match v {
        "true" => Value::BoolValue(true),
        "false" => Value::BoolValue(false),
        _ => Value::StringValue(v.to_string()),
    }
}

/// `jsonMapToAttributeMap` over `json.Unmarshal(text, &map[string]any)`:
/// strings, booleans and numbers (integral ones as ints); nested values
/// and nulls are left out. `null` is an empty map.
pub(crate) fn json_map_attrs(text: &str) -> Result<Vec<KeyValue>, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let map = match value {
        serde_json::Value::Null => return Ok(Vec::new()),
        serde_json::Value::Object(m) => m,
        _ => {
            return Err(
                "json: cannot unmarshal into Go value of type map[string]interface {}".into(),
            );
        }
    };
    let mut out = Vec::new();
    for (k, v) in map {
        match v {
            serde_json::Value::String(s) => put(&mut out, &k, Value::StringValue(s)),
            serde_json::Value::Bool(b) => put(&mut out, &k, Value::BoolValue(b)),
            serde_json::Value::Number(n) => {
                let f = n.as_f64().unwrap_or(0.0);
                if f % 1.0 == 0.0 {
                    put(&mut out, &k, Value::IntValue(f as i64));
                } else {
                    put(&mut out, &k, Value::DoubleValue(f));
                }
            }
            _ => {}
        }
    }
    Ok(out)
}
