//! The converters that read a value as another type or test its type:
//! `Int`, `Double`, `Bool`, `String` (nil when the value has no such
//! reading), `ParseInt` (Go's `strconv.ParseInt` with a base), `Log` (the
//! natural logarithm, with Go's errors), `IsString` .. `IsList` and
//! `IsEmpty`.

use super::string_like;
use crate::context::Item;
use crate::go_values::parse_int;
use crate::registry::{Converter, Expression, Registry};
use crate::value::Value;
use std::borrow::Cow;

#[derive(Clone, Copy)]
enum Kind {
    Int,
    Double,
    Bool,
    String,
    ParseInt,
    Log,
    IsString,
    IsInt,
    IsDouble,
    IsBool,
    IsMap,
    IsList,
    IsEmpty,
}

/// Registers the type converters, by Go's names and parameter names.
pub(super) fn register(registry: &mut Registry) {
    let converters: [(&'static str, Kind, &'static [&'static str]); 13] = [
        ("Int", Kind::Int, &["value"]),
        ("Double", Kind::Double, &["value"]),
        ("Bool", Kind::Bool, &["value"]),
        ("String", Kind::String, &["value"]),
        ("ParseInt", Kind::ParseInt, &["target", "base"]),
        ("Log", Kind::Log, &["value"]),
        ("IsString", Kind::IsString, &["value"]),
        ("IsInt", Kind::IsInt, &["value"]),
        ("IsDouble", Kind::IsDouble, &["value"]),
        ("IsBool", Kind::IsBool, &["value"]),
        ("IsMap", Kind::IsMap, &["value"]),
        ("IsList", Kind::IsList, &["value"]),
        ("IsEmpty", Kind::IsEmpty, &["target"]),
    ];
    for (name, kind, params) in converters {
        registry.converter(name, move |call| {
            let args = call.bind(params, params.len())?;
            let operands = (0..params.len())
                .map(|i| args.required(i))
                .collect::<Result<_, String>>()?;
            Ok(Box::new(TypeCall { kind, operands }))
        });
    }
}

struct TypeCall {
    kind: Kind,
    operands: Vec<Expression>,
}

impl Converter for TypeCall {
    fn call<'s>(&'s self, item: &'s Item<'_>) -> Result<Value<'s>, String> {
        let arg = |i: usize| self.operands[i].eval(item);
        Ok(match self.kind {
            Kind::Int => match arg(0)? {
                Value::Int(i) => Value::Int(i),
                Value::Float(f) => Value::Int(f as i64),
                Value::Bool(b) => Value::Int(b.into()),
                Value::Str(s) => Value::Int(s.parse().map_err(|e| format!("Int: {e}"))?),
                _ => Value::Nil,
            },
            Kind::Double => match arg(0)? {
                Value::Int(i) => Value::Float(i as f64),
                Value::Float(f) => Value::Float(f),
                Value::Bool(b) => Value::Float(if b { 1.0 } else { 0.0 }),
                Value::Str(s) => Value::Float(s.parse().map_err(|e| format!("Double: {e}"))?),
                _ => Value::Nil,
            },
            Kind::Bool => match arg(0)? {
                Value::Bool(b) => Value::Bool(b),
                Value::Int(i) => Value::Bool(i != 0),
                Value::Float(f) => Value::Bool(f != 0.0),
                Value::Str(s) => Value::Bool(s.parse().map_err(|e| format!("Bool: {e}"))?),
                _ => Value::Nil,
            },
            Kind::String => match string_like(&arg(0)?) {
                Some(s) => Value::Str(Cow::Owned(s)),
                None => Value::Nil,
            },
            Kind::ParseInt => {
                let target = arg(0)?;
                let s = target
                    .as_str()
                    .ok_or_else(|| format!("expected string but got {}", target.type_name()))?;
                if s.is_empty() {
                    return Err(
                        "invalid target value for ParseInt function, target cannot be empty".into(),
                    );
                }
                let Value::Int(base) = arg(1)? else {
                    return Err("ParseInt: base must be an int64".into());
                };
                if base < 0 {
                    return Err(format!(
                        "invalid base value: {base} for ParseInt function, base cannot be negative"
                    ));
                }
                Value::Int(parse_int(s, base)?)
            }
            Kind::Log => {
                let v = match arg(0)? {
                    Value::Float(f) => f,
                    Value::Int(i) => i as f64,
                    Value::Bool(b) => f64::from(u8::from(b)),
                    Value::Str(s) => s.parse().map_err(|_| {
                        format!("strconv.ParseFloat: parsing {s:?}: invalid syntax")
                    })?,
                    Value::Nil => return Err("invalid input: <nil>".into()),
                    other => {
                        return Err(format!("unsupported type: {}", other.type_name()));
                    }
                };
                if v <= 0.0 {
                    return Err(format!(
                        "invalid input: expected number greater than zero but got {}",
                        crate::format::go_float(v.abs(), 'g', None)
                    ));
                }
                Value::Float(v.ln())
            }
            Kind::IsEmpty => Value::Bool(match arg(0)? {
                Value::Nil => true,
                Value::Bool(b) => !b,
                Value::Int(i) | Value::Duration(i) => i == 0,
                Value::Float(f) => f == 0.0,
                Value::Str(s) => s.is_empty(),
                Value::Bytes(b) => b.is_empty(),
                Value::Map(m) => m.is_empty(),
                Value::List(l) => l.is_empty(),
                Value::Time(_) => false,
            }),
            Kind::IsString => Value::Bool(matches!(arg(0)?, Value::Str(_))),
            Kind::IsInt => Value::Bool(matches!(arg(0)?, Value::Int(_))),
            Kind::IsDouble => Value::Bool(matches!(arg(0)?, Value::Float(_))),
            Kind::IsBool => Value::Bool(matches!(arg(0)?, Value::Bool(_))),
            Kind::IsMap => Value::Bool(matches!(arg(0)?, Value::Map(_))),
            Kind::IsList => Value::Bool(matches!(arg(0)?, Value::List(_))),
        })
    }
}
