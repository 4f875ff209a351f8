//! The string converters: `Concat`, `Split`, the case conversions
//! (`ConvertCase`, `ToLowerCase`, `ToUpperCase`, `ToSnakeCase`,
//! `ToCamelCase`), `Substring`, `HasPrefix`, `HasSuffix`, `TrimPrefix`,
//! `TrimSuffix` and `Trim`, with pkg/ottl's arguments and errors.

use super::{ArgUse, compile_args, literal_str, string_like};
use crate::context::Item;
use crate::registry::{Converter, Registry};
use crate::value::Value;
use crate::{Getter, eval};
use ferrotel_core::pdata::common::{AnyValue, any_value};
use std::borrow::Cow;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Concat,
    Split,
    ConvertCase,
    ToLowerCase,
    ToUpperCase,
    ToSnakeCase,
    ToCamelCase,
    Substring,
    HasPrefix,
    HasSuffix,
    TrimPrefix,
    TrimSuffix,
    Trim,
}

/// Registers the string converters, by Go's names and parameter names.
pub(super) fn register(registry: &mut Registry) {
    let converters: [(&'static str, Kind, &'static [&'static str], usize); 13] = [
        ("Concat", Kind::Concat, &["vals", "delimiter"], 2),
        ("Split", Kind::Split, &["target", "delimiter"], 2),
        ("ConvertCase", Kind::ConvertCase, &["target", "to_case"], 2),
        ("ToLowerCase", Kind::ToLowerCase, &["target"], 1),
        ("ToUpperCase", Kind::ToUpperCase, &["target"], 1),
        ("ToSnakeCase", Kind::ToSnakeCase, &["target"], 1),
        ("ToCamelCase", Kind::ToCamelCase, &["target"], 1),
        (
            "Substring",
            Kind::Substring,
            &["target", "start", "length"],
            3,
        ),
        ("HasPrefix", Kind::HasPrefix, &["target", "prefix"], 2),
        ("HasSuffix", Kind::HasSuffix, &["target", "suffix"], 2),
        ("TrimPrefix", Kind::TrimPrefix, &["value", "prefix"], 2),
        ("TrimSuffix", Kind::TrimSuffix, &["value", "suffix"], 2),
        ("Trim", Kind::Trim, &["target", "replacement"], 1),
    ];
    for (name, kind, params, required) in converters {
        registry.converter(name, move |call| {
            let compiler = call.compiler;
            let mut case = None;
            let args = compile_args(call, params, required, |i, e, _| {
                Ok(match (kind, i) {
                    (Kind::Concat, 0) => ArgUse::Own(compiler.list_getter(e, "Concat: vals")?),
                    (Kind::ConvertCase, 1) => {
                        let c = literal_str(e, "toCase")?;
                        if !matches!(c, "lower" | "upper" | "snake" | "camel") {
                            return Err(format!(
                                "invalid case: {c}, allowed cases are: lower, upper, snake, camel"
                            ));
                        }
                        case = Some(c.to_string());
                        ArgUse::Skip
                    }
                    (Kind::Trim, 1) => {
                        let cutset = match e {
                            None => " ",
                            e => literal_str(e, "replacement")?,
                        };
                        ArgUse::Own(Getter::Lit(Value::Str(Cow::Owned(cutset.to_string()))))
                    }
                    _ => ArgUse::Default,
                })
            })?;
            Ok(Box::new(StringCall { kind, args, case }))
        });
    }
}

struct StringCall {
    kind: Kind,
    args: Vec<Getter>,
    /// `ConvertCase`'s case, checked when the config loads.
    case: Option<String>,
}

impl Converter for StringCall {
    fn call<'s>(&'s self, item: &'s Item<'_>) -> Result<Value<'s>, String> {
        let arg = |i: usize| eval(&self.args[i], item);
        let owned = |s: String| Value::Str(Cow::Owned(s));
        Ok(match self.kind {
            Kind::Concat => {
                let Value::List(items) = arg(0)? else {
                    return Err("Concat: vals is not a list".into());
                };
                let delimiter = arg(1)?;
                let delimiter = delimiter
                    .as_str()
                    .ok_or("Concat: delimiter is not a string")?;
                let mut out = String::new();
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(delimiter);
                    }
                    out.push_str(
                        &string_like(&Value::of(Some(v))).unwrap_or_else(|| "<nil>".into()),
                    );
                }
                owned(out)
            }
            Kind::Split => {
                let target = arg(0)?;
                let Some(s) = string_like(&target) else {
                    return Ok(Value::Nil);
                };
                let d = arg(1)?;
                let d = d.as_str().ok_or("Split: delimiter is not a string")?;
                Value::List(Cow::Owned(
                    s.split(d)
                        .map(|p| AnyValue {
                            value: Some(any_value::Value::StringValue(p.to_string())),
                        })
                        .collect(),
                ))
            }
            Kind::ConvertCase | Kind::ToLowerCase | Kind::ToUpperCase => {
                let target = arg(0)?;
                let Some(s) = target.as_str() else {
                    return Ok(Value::Nil);
                };
                let case = match self.kind {
                    Kind::ToLowerCase => "lower",
                    Kind::ToUpperCase => "upper",
                    _ => self.case.as_deref().unwrap_or("lower"),
                };
                owned(match case {
                    "upper" => s.to_uppercase(),
                    "snake" => snake_case(s),
                    "camel" => camel_case(s),
                    _ => s.to_lowercase(),
                })
            }
            Kind::ToSnakeCase | Kind::ToCamelCase => {
                let target = arg(0)?;
                let s = target
                    .as_str()
                    .ok_or_else(|| format!("expected string but got {}", target.type_name()))?;
                owned(if s.is_empty() {
                    String::new()
                } else if self.kind == Kind::ToSnakeCase {
                    snake_case(s)
                } else {
                    camel_case(s)
                })
            }
            Kind::Substring => {
                let target = arg(0)?;
                let s = target.as_str().ok_or("Substring: target is not a string")?;
                let (Value::Int(start), Value::Int(len)) = (arg(1)?, arg(2)?) else {
                    return Err("Substring: start and length must be int64".into());
                };
                if start < 0 || len < 0 || (start + len) as usize > s.len() {
                    return Err(format!(
                        "invalid range for substring function, {start} cannot be greater than the length of target string({})",
                        s.len()
                    ));
                }
                owned(
                    s.get(start as usize..(start + len) as usize)
                        .ok_or("Substring: range splits a character")?
                        .to_string(),
                )
            }
            Kind::HasPrefix | Kind::HasSuffix => {
                let (t, p) = (arg(0)?, arg(1)?);
                match (t.as_str(), p.as_str()) {
                    (Some(t), Some(p)) => Value::Bool(if self.kind == Kind::HasPrefix {
                        t.starts_with(p)
                    } else {
                        t.ends_with(p)
                    }),
                    _ => return Err("expected strings".into()),
                }
            }
            Kind::TrimPrefix | Kind::TrimSuffix => {
                let (v, affix) = (arg(0)?, arg(1)?);
                match (v.as_str(), affix.as_str()) {
                    (Some(s), Some(a)) => owned(
                        if self.kind == Kind::TrimPrefix {
                            s.strip_prefix(a)
                        } else {
                            s.strip_suffix(a)
                        }
                        .unwrap_or(s)
                        .to_string(),
                    ),
                    _ => return Err("expected strings".into()),
                }
            }
            Kind::Trim => {
                let (target, cutset) = (arg(0)?, arg(1)?);
                let s = target
                    .as_str()
                    .ok_or_else(|| format!("expected string but got {}", target.type_name()))?;
                let cutset = cutset.as_str().unwrap_or(" ");
                owned(s.trim_matches(|c| cutset.contains(c)).to_string())
            }
        })
    }
}

fn snake_case(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn camel_case(s: &str) -> String {
    s.split(['_', '-', ' '])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}
