//! The parsing converters: `ParseJSON`, `ParseKeyValue` (quote-aware
//! pairs), `ToKeyValueString` and `ParseCSV` (Go's `encoding/csv` with
//! pkg/ottl's modes), with pkg/ottl's arguments and errors.

use super::{ArgUse, compile_args, literal_str};
use crate::context::{Item, put};
use crate::parser::Expr;
use crate::registry::{Converter, Registry};
use crate::value::Value;
use crate::{Getter, eval};
use ferrotel_core::pdata::common::{AnyValue, KeyValue, KeyValueList, any_value};
use std::borrow::Cow;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    ParseJson,
    ParseKeyValue,
    ToKeyValueString,
    ParseCsv,
}

/// Registers the parsing converters, by Go's names and parameter names.
pub(super) fn register(registry: &mut Registry) {
    let converters: [(&'static str, Kind, &'static [&'static str], usize); 4] = [
        ("ParseJSON", Kind::ParseJson, &["target"], 1),
        (
            "ParseKeyValue",
            Kind::ParseKeyValue,
            &["target", "delimiter", "pair_delimiter"],
            1,
        ),
        (
            "ToKeyValueString",
            Kind::ToKeyValueString,
            &["target", "delimiter", "pair_delimiter", "sort_output"],
            1,
        ),
        (
            "ParseCSV",
            Kind::ParseCsv,
            &["target", "header", "delimiter", "header_delimiter", "mode"],
            2,
        ),
    ];
    for (name, kind, params, required) in converters {
        registry.converter(name, move |call| {
            let compiler = call.compiler;
            let args = compile_args(call, params, required, |i, e, args| {
                Ok(match (kind, i) {
                    (Kind::ParseKeyValue, 1 | 2) => {
                        let default = if i == 1 { "=" } else { " " };
                        let d = match e {
                            None => default,
                            e => literal_str(
                                e,
                                if i == 1 {
                                    "delimiter"
                                } else {
                                    "pair_delimiter"
                                },
                            )?,
                        };
                        if d.is_empty() {
                            return Err("delimiter cannot be set to an empty string".into());
                        }
                        ArgUse::Own(Getter::Lit(Value::Str(Cow::Owned(d.to_string()))))
                    }
                    (Kind::ToKeyValueString, 1 | 2) => {
                        let (name, default) = if i == 1 {
                            ("delimiter", "=")
                        } else {
                            ("pair delimiter", " ")
                        };
                        let d = match e {
                            None => default,
                            e => literal_str(e, name)?,
                        };
                        if d.is_empty() {
                            return Err(format!("{name} cannot be set to an empty string"));
                        }
                        if i == 2
                            && let Some(Getter::Lit(Value::Str(delimiter))) = args.last()
                            && delimiter == d
                        {
                            return Err(format!(
                                "pair delimiter {d:?} cannot be equal to delimiter {delimiter:?}"
                            ));
                        }
                        ArgUse::Own(Getter::Lit(Value::Str(Cow::Owned(d.to_string()))))
                    }
                    (Kind::ToKeyValueString, 3) => {
                        let sort = match e {
                            None => false,
                            Some(Expr::Bool(b)) => *b,
                            _ => return Err("sort_output must be a bool literal".into()),
                        };
                        ArgUse::Own(Getter::Lit(Value::Bool(sort)))
                    }
                    (Kind::ParseCsv, 2) => {
                        let d = match e {
                            None => ",",
                            e => literal_str(e, "delimiter")?,
                        };
                        if d.chars().count() != 1 {
                            return Err(
                                "invalid arguments: delimiter must be a single character".into()
                            );
                        }
                        ArgUse::Own(Getter::Lit(Value::Str(Cow::Owned(d.to_string()))))
                    }
                    (Kind::ParseCsv, 3) => {
                        // Defaults to the delimiter, filled in at run time.
                        if let Some(d) = e {
                            let d = literal_str(Some(d), "header_delimiter")?;
                            if d.chars().count() != 1 {
                                return Err(
                                "invalid arguments: header_delimiter must be a single character"
                                    .into(),
                            );
                            }
                        }
                        ArgUse::Own(compiler.getter_opt(e)?)
                    }
                    (Kind::ParseCsv, 4) => {
                        let mode = match e {
                            None => "strict",
                            e => literal_str(e, "mode")?,
                        };
                        if !matches!(mode, "strict" | "lazyQuotes" | "ignoreQuotes") {
                            return Err(format!("unknown mode: {mode}"));
                        }
                        ArgUse::Own(Getter::Lit(Value::Str(Cow::Owned(mode.to_string()))))
                    }
                    _ => ArgUse::Default,
                })
            })?;
            Ok(Box::new(ParseCall { kind, args }))
        });
    }
}

struct ParseCall {
    kind: Kind,
    args: Vec<Getter>,
}

impl Converter for ParseCall {
    fn call<'s>(&'s self, item: &'s Item<'_>) -> Result<Value<'s>, String> {
        let arg = |i: usize| eval(&self.args[i], item);
        let owned = |s: String| Value::Str(Cow::Owned(s));
        Ok(match self.kind {
            Kind::ParseJson => {
                let target = arg(0)?;
                let s = match &target {
                    Value::Str(s) => s.as_bytes(),
                    Value::Bytes(b) => b.as_ref(),
                    other => {
                        return Err(format!("ParseJSON: unsupported type {}", other.type_name()));
                    }
                };
                let parsed: serde_json::Value =
                    serde_json::from_slice(s).map_err(|e| format!("ParseJSON: {e}"))?;
                Value::of(Some(&json_to_any(parsed))).into_owned()
            }
            Kind::ParseKeyValue => {
                let target = arg(0)?;
                let source = target
                    .as_str()
                    .ok_or("ParseKeyValue: target is not a string")?;
                if source.is_empty() {
                    return Err("cannot parse from empty target".into());
                }
                let (delimiter, pairs) = (arg(1)?, arg(2)?);
                let delimiter = delimiter.as_str().unwrap_or("=");
                let pairs = split_quoted(source, pairs.as_str().unwrap_or(" "))
                    .map_err(|e| format!("splitting source {source:?} into pairs failed: {e}"))?;
                let mut values: Vec<KeyValue> = Vec::new();
                for p in pairs {
                    let (k, v) = p.split_once(delimiter).ok_or_else(|| {
                        format!("failed to split pairs into key-values: cannot split {p:?} into 2 items, got 1 item(s)")
                    })?;
                    crate::context::put(
                        &mut values,
                        k.trim(),
                        Some(AnyValue {
                            value: Some(any_value::Value::StringValue(v.trim().to_string())),
                        }),
                    );
                }
                Value::Map(Cow::Owned(values))
            }
            Kind::ToKeyValueString => {
                let target = arg(0)?;
                let Value::Map(map) = &target else {
                    return Err(format!(
                        "expected pcommon.Map but got {}",
                        target.type_name()
                    ));
                };
                let (delimiter, pairs, sort) = (arg(1)?, arg(2)?, arg(3)?);
                let delimiter = delimiter.as_str().unwrap_or("=");
                let pairs = pairs.as_str().unwrap_or(" ");
                let mut entries: Vec<&KeyValue> = map.iter().collect();
                if sort == Value::Bool(true) {
                    entries.sort_by(|a, b| a.key.cmp(&b.key));
                }
                let quote = |s: &str| {
                    let s = s.replace('"', "\\\"");
                    if s.contains(pairs) || s.contains(delimiter) {
                        format!("\"{s}\"")
                    } else {
                        s
                    }
                };
                let mut out = String::new();
                for (i, kv) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(pairs);
                    }
                    let mut value = String::new();
                    ferrotel_core::pdata::go::as_string(
                        kv.value.as_ref().and_then(|v| v.value.as_ref()),
                        &mut value,
                    );
                    out.push_str(&quote(&kv.key));
                    out.push_str(delimiter);
                    out.push_str(&quote(&value));
                }
                owned(out)
            }
            Kind::ParseCsv => {
                let (target, header) = (arg(0)?, arg(1)?);
                let target = target.as_str().ok_or_else(|| {
                    format!(
                        "error getting value for target in ParseCSV: expected string but got {}",
                        target.type_name()
                    )
                })?;
                let header = header.as_str().ok_or_else(|| {
                    format!(
                        "error getting value for header in ParseCSV: expected string but got {}",
                        header.type_name()
                    )
                })?;
                if header.is_empty() {
                    return Err("headers must not be an empty string".into());
                }
                let (delimiter, header_delimiter, mode) = (arg(2)?, arg(3)?, arg(4)?);
                let delimiter = delimiter.as_str().unwrap_or(",");
                let comma = delimiter.chars().next().unwrap_or(',');
                let fields = match mode.as_str() {
                    Some("ignoreQuotes") => target.split(comma).map(str::to_string).collect(),
                    mode => crate::csv::read_row(target, comma, mode == Some("lazyQuotes"))?,
                };
                let headers: Vec<&str> = header
                    .split(header_delimiter.as_str().unwrap_or(delimiter))
                    .collect();
                if headers.len() != fields.len() {
                    return Err(format!(
                        "map csv headers: wrong number of fields: expected {}, found {}",
                        headers.len(),
                        fields.len()
                    ));
                }
                let mut map: Vec<KeyValue> = Vec::with_capacity(headers.len());
                for (name, field) in headers.into_iter().zip(fields) {
                    put(
                        &mut map,
                        name,
                        Some(AnyValue {
                            value: Some(any_value::Value::StringValue(field)),
                        }),
                    );
                }
                Value::Map(Cow::Owned(map))
            }
        })
    }
}

fn json_to_any(v: serde_json::Value) -> AnyValue {
    use any_value::Value as V;
    let value = match v {
        serde_json::Value::Null => None,
        serde_json::Value::Bool(b) => Some(V::BoolValue(b)),
        // Go decodes JSON numbers as float64.
        serde_json::Value::Number(n) => Some(V::DoubleValue(n.as_f64().unwrap_or(0.0))),
        serde_json::Value::String(s) => Some(V::StringValue(s)),
        serde_json::Value::Array(a) => {
            Some(V::ArrayValue(ferrotel_core::pdata::common::ArrayValue {
                values: a.into_iter().map(json_to_any).collect(),
            }))
        }
        serde_json::Value::Object(o) => Some(V::KvlistValue(KeyValueList {
            values: o
                .into_iter()
                .map(|(k, v)| KeyValue {
                    key: k,
                    value: Some(json_to_any(v)),
                    ..KeyValue::default()
                })
                .collect(),
        })),
    };
    AnyValue { value }
}

/// Splits on `delimiter` outside single or double quotes, dropping the
/// quotes and empty pieces (Go's `parseutils.SplitString`).
fn split_quoted(input: &str, delimiter: &str) -> Result<Vec<String>, String> {
    let bytes = input.as_bytes();
    let mut out = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    let mut quote: u8 = 0;
    let mut escaped = false;
    let mut i = 0;
    while i < bytes.len() {
        if quote == 0 && input[i..].starts_with(delimiter) {
            if !current.is_empty() {
                out.push(String::from_utf8_lossy(&current).into_owned());
                current.clear();
            }
            i += delimiter.len();
            continue;
        }
        let c = bytes[i];
        if !escaped {
            if quote == 0 && (c == b'"' || c == b'\'') {
                quote = c;
                i += 1;
                continue;
            }
            if c == quote {
                quote = 0;
                i += 1;
                continue;
            }
            escaped = c == b'\\';
        } else {
            escaped = false;
        }
        current.push(c);
        i += 1;
    }
    if quote != 0 {
        return Err("never reached the end of a quoted value".into());
    }
    if !current.is_empty() {
        out.push(String::from_utf8_lossy(&current).into_owned());
    }
    Ok(out)
}
