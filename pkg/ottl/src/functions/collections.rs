//! The converters on maps and lists: `Len`, `Keys`, `Values`,
//! `ContainsValue`, `Index`, `Coalesce`, `Sort` (Go's common-type rules)
//! and `SliceToMap`, with pkg/ottl's arguments and errors.

use super::{ArgUse, compile_args, literal_str, string_list};
use crate::context::Item;
use crate::go_values::{slice_to_map, sort_list};
use crate::lexer::CmpOp;
use crate::registry::{Converter, Registry};
use crate::value::{Value, compare};
use crate::{Getter, eval};
use ferrotel_core::pdata::common::{AnyValue, any_value};
use std::borrow::Cow;

#[derive(Clone, Copy)]
enum Kind {
    Len,
    Keys,
    Values,
    ContainsValue,
    Index,
    Coalesce,
    Sort,
    SliceToMap,
}

/// Registers the map and list converters, by Go's names and parameter
/// names.
pub(super) fn register(registry: &mut Registry) {
    let converters: [(&'static str, Kind, &'static [&'static str], usize); 8] = [
        ("Len", Kind::Len, &["target"], 1),
        ("Keys", Kind::Keys, &["target"], 1),
        ("Values", Kind::Values, &["target"], 1),
        ("ContainsValue", Kind::ContainsValue, &["target", "item"], 2),
        ("Index", Kind::Index, &["target", "value"], 2),
        ("Coalesce", Kind::Coalesce, &["values"], 1),
        ("Sort", Kind::Sort, &["target", "order"], 1),
        (
            "SliceToMap",
            Kind::SliceToMap,
            &["target", "key_path", "value_path"],
            1,
        ),
    ];
    for (name, kind, params, required) in converters {
        registry.converter(name, move |call| {
            let compiler = call.compiler;
            let args = compile_args(call, params, required, |i, e, _| {
                Ok(match (kind, i) {
                    (Kind::Coalesce, 0) => {
                        ArgUse::Own(compiler.list_getter(e, "Coalesce: values")?)
                    }
                    (Kind::Sort, 1) => {
                        let order = match e {
                            None => "asc",
                            e => literal_str(e, "order")?,
                        };
                        if !matches!(order, "asc" | "desc") {
                            return Err(format!(
                                "invalid arguments: {order}. Order should be either \"asc\" or \"desc\""
                            ));
                        }
                        ArgUse::Own(Getter::Lit(Value::Str(Cow::Owned(order.to_string()))))
                    }
                    (Kind::SliceToMap, 1 | 2) => {
                        let path = match e {
                            None => Value::Nil,
                            e => {
                                let what = if i == 1 { "key_path" } else { "value_path" };
                                let path = string_list(e, what)?;
                                if path.is_empty() {
                                    return Err("must provide at least one path item".into());
                                }
                                Value::List(Cow::Owned(
                                    path.into_iter()
                                        .map(|p| AnyValue {
                                            value: Some(any_value::Value::StringValue(p)),
                                        })
                                        .collect(),
                                ))
                            }
                        };
                        ArgUse::Own(Getter::Lit(path))
                    }
                    _ => ArgUse::Default,
                })
            })?;
            Ok(Box::new(CollectionCall { kind, args }))
        });
    }
}

struct CollectionCall {
    kind: Kind,
    args: Vec<Getter>,
}

impl Converter for CollectionCall {
    fn call<'s>(&'s self, item: &'s Item<'_>) -> Result<Value<'s>, String> {
        let arg = |i: usize| eval(&self.args[i], item);
        Ok(match self.kind {
            Kind::Len => match arg(0)? {
                Value::Str(s) => Value::Int(s.len() as i64),
                Value::Map(m) => Value::Int(m.len() as i64),
                Value::List(l) => Value::Int(l.len() as i64),
                other => {
                    return Err(format!(
                        "Len: unsupported target type {}",
                        other.type_name()
                    ));
                }
            },
            Kind::Keys => match arg(0)? {
                Value::Map(m) => Value::List(Cow::Owned(
                    m.iter()
                        .map(|kv| AnyValue {
                            value: Some(any_value::Value::StringValue(kv.key.clone())),
                        })
                        .collect(),
                )),
                other => return Err(format!("Keys: expected a map, got {}", other.type_name())),
            },
            Kind::Values => match arg(0)? {
                Value::Map(m) => Value::List(Cow::Owned(
                    m.iter()
                        .map(|kv| kv.value.clone().unwrap_or_default())
                        .collect(),
                )),
                other => {
                    return Err(format!(
                        "expected pcommon.Map but got {}",
                        other.type_name()
                    ));
                }
            },
            Kind::ContainsValue => {
                let (target, wanted) = (arg(0)?, arg(1)?);
                let Value::List(items) = target else {
                    return Err("ContainsValue: target is not a list".into());
                };
                Value::Bool(
                    items
                        .iter()
                        .any(|v| compare(&Value::of(Some(v)), CmpOp::Eq, &wanted)),
                )
            }
            Kind::Index => {
                let (target, wanted) = (arg(0)?, arg(1)?);
                match (&target, &wanted) {
                    (Value::Str(s), Value::Str(w)) => {
                        Value::Int(s.find(w.as_ref()).map_or(-1, |i| i as i64))
                    }
                    (Value::List(items), w) => Value::Int(
                        items
                            .iter()
                            .position(|v| compare(&Value::of(Some(v)), CmpOp::Eq, w))
                            .map_or(-1, |i| i as i64),
                    ),
                    _ => return Err("Index: target must be a string or a list".into()),
                }
            }
            Kind::Coalesce => {
                let Value::List(items) = arg(0)? else {
                    return Err("Coalesce: values is not a list".into());
                };
                items
                    .iter()
                    .map(|v| Value::of(Some(v)))
                    .find(|v| *v != Value::Nil)
                    .map(Value::into_owned)
                    .unwrap_or(Value::Nil)
            }
            Kind::Sort => {
                let (target, order) = (arg(0)?, arg(1)?);
                let Value::List(items) = &target else {
                    return Err(format!(
                        "sort with unsupported type: '{}'. Target is not a list",
                        target.type_name()
                    ));
                };
                Value::List(Cow::Owned(sort_list(items, order.as_str() == Some("desc"))))
            }
            Kind::SliceToMap => {
                let (target, key_path, value_path) = (arg(0)?, arg(1)?, arg(2)?);
                let Value::List(items) = &target else {
                    return Err(format!(
                        "expected pcommon.Slice but got {}",
                        target.type_name()
                    ));
                };
                Value::Map(Cow::Owned(slice_to_map(items, &key_path, &value_path)?))
            }
        })
    }
}
