//! The pattern converters: `IsMatch` and `ExtractPatterns` (a literal
//! pattern is compiled once, when the config loads) and `Format` (Go's
//! `fmt.Sprintf` verbs, parsed once).

use super::{ArgUse, compile_args, literal_str, regex, string_like};
use crate::context::Item;
use crate::format::GoFormat;
use crate::parser::Expr;
use crate::registry::{Converter, Registry};
use crate::value::Value;
use crate::{Getter, eval};
use ferrotel_core::pdata::common::{AnyValue, KeyValue, any_value};
use regex::Regex;
use std::borrow::Cow;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    IsMatch,
    ExtractPatterns,
    Format,
}

/// Registers the patterns converters, by Go's names and parameter names.
pub(super) fn register(registry: &mut Registry) {
    let converters: [(&'static str, Kind, &'static [&'static str], usize); 3] = [
        ("IsMatch", Kind::IsMatch, &["target", "pattern"], 2),
        (
            "ExtractPatterns",
            Kind::ExtractPatterns,
            &["target", "pattern"],
            2,
        ),
        ("Format", Kind::Format, &["format", "vals"], 2),
    ];
    for (name, kind, params, required) in converters {
        registry.converter(name, move |call| {
            let compiler = call.compiler;
            let mut regex_arg = None;
            let mut format = None;
            let args = compile_args(call, params, required, |i, e, _| {
                Ok(match (kind, i) {
                (Kind::IsMatch, 1) => {
                    // A literal pattern compiles once; a computed one per call.
                    if let Some(Expr::Str(p)) = e {
                        regex_arg = Some(ferrotel_goregex::compile(p).map_err(|err| {
                            format!("the pattern supplied to IsMatch is not a valid regexp pattern: {err}")
                        })?);
                    }
                    ArgUse::Own(compiler.getter_opt(e)?)
                }
                (Kind::ExtractPatterns, 1) => {
                    let r = regex(e, "ExtractPatterns")?;
                    if r.capture_names().flatten().next().is_none() {
                        return Err(
                            "at least 1 named capture group must be supplied in the given regex"
                                .into(),
                        );
                    }
                    regex_arg = Some(r);
                    ArgUse::Skip
                }
                (Kind::Format, 0) => {
                    format = Some(GoFormat::parse(literal_str(e, "format")?)?);
                    ArgUse::Skip
                }
                (Kind::Format, 1) => ArgUse::Own(compiler.list_getter(e, "Format: vals")?),
                    _ => ArgUse::Default,
                })
            })?;
            Ok(Box::new(PatternCall { kind, args, regex: regex_arg, format }))
        });
    }
}

struct PatternCall {
    kind: Kind,
    args: Vec<Getter>,
    regex: Option<Regex>,
    format: Option<GoFormat>,
}

impl Converter for PatternCall {
    fn call<'s>(&'s self, item: &'s Item<'_>) -> Result<Value<'s>, String> {
        let arg = |i: usize| eval(&self.args[i], item);
        let owned = |s: String| Value::Str(Cow::Owned(s));
        Ok(match self.kind {
            Kind::IsMatch => {
                let Some(target) = string_like(&arg(0)?) else {
                    return Ok(Value::Bool(false));
                };
                let matched = match &self.regex {
                    Some(r) => r.is_match(&target),
                    None => {
                        let p = arg(1)?;
                        let p = p.as_str().ok_or("IsMatch: pattern is not a string")?;
                        ferrotel_goregex::compile(p)
                            .map_err(|e| e.to_string())?
                            .is_match(&target)
                    }
                };
                Value::Bool(matched)
            }
            Kind::ExtractPatterns => {
                let target = arg(0)?;
                let s = target
                    .as_str()
                    .ok_or("ExtractPatterns: target is not a string")?;
                let r = self.regex.as_ref().expect("compiled with the converter");
                let mut values = Vec::new();
                if let Some(caps) = r.captures(s) {
                    for name in r.capture_names().flatten() {
                        if let Some(m) = caps.name(name) {
                            values.push(KeyValue {
                                key: ferrotel_goregex::go_name(name).to_string(),
                                value: Some(AnyValue {
                                    value: Some(any_value::Value::StringValue(
                                        m.as_str().to_string(),
                                    )),
                                }),
                                ..KeyValue::default()
                            });
                        }
                    }
                }
                Value::Map(Cow::Owned(values))
            }
            Kind::Format => {
                let Value::List(items) = arg(0)? else {
                    return Err("Format: vals is not a list".into());
                };
                let values: Vec<Value<'_>> = items.iter().map(|v| Value::of(Some(v))).collect();
                let format = self.format.as_ref().expect("compiled with the converter");
                owned(format.render(&values))
            }
        })
    }
}
