//! The checking converters: `IsInCIDR` (Go's `net.ParseCIDR` and
//! `Contains`, IPv4-mapped addresses as IPv4; literal networks checked
//! when the config loads), `IsValidLuhn` and `IsRootSpan`.

use super::{ArgUse, compile_args, string_like};
use crate::ContextKind;
use crate::context::Item;
use crate::go_values::{Cidr, luhn, parse_ip};
use crate::parser::Expr;
use crate::registry::{Converter, Registry};
use crate::value::Value;
use crate::{Getter, eval};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    IsInCidr,
    IsValidLuhn,
}

/// Registers the checks converters, by Go's names and parameter names.
pub(super) fn register(registry: &mut Registry) {
    let converters: [(&'static str, Kind, &'static [&'static str], usize); 2] = [
        ("IsInCIDR", Kind::IsInCidr, &["target", "networks"], 2),
        ("IsValidLuhn", Kind::IsValidLuhn, &["target"], 1),
    ];
    registry.converter("IsRootSpan", |call| {
        if call.context() != ContextKind::Span {
            return Err(format!(
                "IsRootSpan() is only available in the span context, not {}",
                call.context().name()
            ));
        }
        call.bind(&[], 0)?;
        Ok(Box::new(IsRootSpan))
    });
    for (name, kind, params, required) in converters {
        registry.converter(name, move |call| {
            let compiler = call.compiler;
            let args = compile_args(call, params, required, |i, e, _| {
                Ok(match (kind, i) {
                    (Kind::IsInCidr, 1) => {
                        if let Some(Expr::List(items)) = e {
                            for item in items {
                                if let Expr::Str(network) = item {
                                    Cidr::parse(network)?;
                                }
                            }
                        }
                        ArgUse::Own(compiler.list_getter(e, "IsInCIDR: networks")?)
                    }
                    _ => ArgUse::Default,
                })
            })?;
            Ok(Box::new(CheckCall { kind, args }))
        });
    }
}

struct CheckCall {
    kind: Kind,
    args: Vec<Getter>,
}

impl Converter for CheckCall {
    fn call<'s>(&'s self, item: &'s Item<'_>) -> Result<Value<'s>, String> {
        let arg = |i: usize| eval(&self.args[i], item);
        Ok(match self.kind {
            Kind::IsInCidr => {
                let target = arg(0)?;
                let Value::List(networks) = arg(1)? else {
                    return Err("IsInCIDR: networks is not a list".into());
                };
                let Some(ip) = target.as_str().and_then(parse_ip) else {
                    return Ok(Value::Bool(false));
                };
                let mut inside = false;
                for network in networks.iter() {
                    let Value::Str(network) = Value::of(Some(network)) else {
                        return Err("IsInCIDR: a network is not a string".into());
                    };
                    if Cidr::parse(&network)?.contains(ip) {
                        inside = true;
                        break;
                    }
                }
                Value::Bool(inside)
            }
            Kind::IsValidLuhn => {
                let target = arg(0)?;
                let digits = string_like(&target).ok_or("invalid input: <nil>")?;
                Value::Bool(luhn(&digits.replace(' ', ""))?)
            }
        })
    }
}

/// `IsRootSpan()` (span context): whether the span has no parent.
struct IsRootSpan;

impl Converter for IsRootSpan {
    fn call<'s>(&'s self, item: &'s Item<'_>) -> Result<Value<'s>, String> {
        let span = item
            .span
            .as_deref()
            .ok_or("IsRootSpan: no span in this context")?;
        Ok(Value::Bool(span.parent_span_id.iter().all(|b| *b == 0)))
    }
}
