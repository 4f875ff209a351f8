//! The OTTL editors and converters ferrotel has (named as in
//! pkg/ottl/ottlfuncs), one file per group of functions, each registering
//! its own into the [`Registry`]; this file holds what they share: binding
//! arguments to parameters, reading literals, and compiling a call by the
//! registry's factory for its name (a name no group registers is a compile
//! error).

mod checks;
mod collections;
mod editors;
mod encoding;
mod hashes;
mod ids;
mod parsing;
mod patterns;
mod strings;
mod time;
mod types;

use super::parser::{Arg, Call, Expr};
use super::registry::{self, Invocation, Registry};
use super::value::Value;
use super::{Compiler, Getter};
use regex::Regex;

/// Registers OTTL's own functions, each group from its own file.
pub(super) fn register(registry: &mut Registry) {
    hashes::register(registry);
    time::register(registry);
    ids::register(registry);
    encoding::register(registry);
    types::register(registry);
    strings::register(registry);
    collections::register(registry);
    checks::register(registry);
    patterns::register(registry);
    parsing::register(registry);
    editors::register(registry);
}

impl Compiler<'_> {
    /// Compiles an editor call with the registry's factory for its name.
    pub(super) fn editor(&self, call: &Call) -> Result<Box<dyn registry::Editor>, String> {
        match self.registry.find_editor(&call.name) {
            Some(factory) => factory(&Invocation {
                compiler: self,
                call,
            }),
            None if call.name.starts_with(|c: char| c.is_ascii_uppercase()) => Err(format!(
                "converter names, such as {:?}, are not allowed as editors",
                call.name
            )),
            None => Err(format!("undefined function {:?}", call.name)),
        }
    }

    /// Compiles a converter call with the registry's factory for its name.
    pub(super) fn converter(&self, call: &Call) -> Result<Box<dyn registry::Converter>, String> {
        match self.registry.find_converter(&call.name) {
            Some(factory) => factory(&Invocation {
                compiler: self,
                call,
            }),
            None if call.name.starts_with(|c: char| c.is_ascii_lowercase()) => Err(format!(
                "editor names, such as {:?}, are not allowed as converters",
                call.name
            )),
            None => Err(format!("undefined function {:?}", call.name)),
        }
    }
}

/// Binds arguments to parameter names: positional first, then named.
pub(super) fn bind<'c>(
    call: &'c Call,
    params: &[&str],
    required: usize,
) -> Result<Vec<Option<&'c Expr>>, String> {
    let mut out: Vec<Option<&Expr>> = vec![None; params.len()];
    let positional = call.args.iter().take_while(|a| a.name.is_none()).count();
    if positional > params.len() || call.args.len() > params.len() {
        return Err(format!(
            "incorrect number of arguments. Expected: {} Received: {}",
            params.len(),
            call.args.len()
        ));
    }
    for (i, a) in call.args.iter().enumerate() {
        let Arg { name, value } = a;
        let slot = match name {
            None => i,
            Some(n) => params
                .iter()
                .position(|p| p == n)
                .ok_or_else(|| format!("no such parameter {n:?}"))?,
        };
        if out[slot].is_some() {
            return Err(format!("parameter {:?} given twice", params[slot]));
        }
        out[slot] = Some(value);
    }
    if let Some(missing) = (0..required).find(|&i| out[i].is_none()) {
        return Err(if call.args.iter().all(|a| a.name.is_none()) {
            format!(
                "incorrect number of arguments. Expected: {} Received: {}",
                required,
                call.args.len()
            )
        } else {
            format!("missing required parameter {:?}", params[missing])
        });
    }
    Ok(out)
}

/// What a group makes of one bound argument.
pub(super) enum ArgUse {
    /// This getter, compiled the group's way (a list literal, a literal
    /// checked once).
    Own(Getter),
    /// Nothing per item: the group took what it needs when compiling.
    Skip,
    /// An expression evaluated per item.
    Default,
}

/// Binds a call's arguments to `params` and compiles each, asking
/// `special` first (with the arguments compiled so far); what it leaves
/// becomes an expression evaluated per item.
pub(super) fn compile_args(
    call: &Invocation<'_>,
    params: &[&str],
    required: usize,
    mut special: impl FnMut(usize, Option<&Expr>, &[Getter]) -> Result<ArgUse, String>,
) -> Result<Vec<Getter>, String> {
    let mut args = Vec::new();
    for (i, e) in bind(call.call, params, required)?.into_iter().enumerate() {
        match special(i, e, &args)? {
            ArgUse::Own(getter) => args.push(getter),
            ArgUse::Skip => {}
            ArgUse::Default => args.push(call.compiler.getter_opt(e)?),
        }
    }
    Ok(args)
}

fn literal_str<'e>(e: Option<&'e Expr>, what: &str) -> Result<&'e str, String> {
    match e {
        Some(Expr::Str(s)) => Ok(s),
        _ => Err(format!("{what} must be a string literal")),
    }
}

fn literal_int(e: Option<&Expr>, what: &str) -> Result<i64, String> {
    match e {
        Some(Expr::Int(i)) => Ok(*i),
        _ => Err(format!("{what} must be an int literal")),
    }
}

fn regex(e: Option<&Expr>, what: &str) -> Result<Regex, String> {
    let p = literal_str(e, what)?;
    ferrotel_goregex::compile(p).map_err(|err| {
        format!("the regex pattern supplied to {what} is not a valid pattern: {err}")
    })
}

pub(super) fn string_list(e: Option<&Expr>, what: &str) -> Result<Vec<String>, String> {
    match e {
        Some(Expr::List(items)) => items
            .iter()
            .map(|i| match i {
                Expr::Str(s) => Ok(s.clone()),
                _ => Err(format!("{what} must be a list of string literals")),
            })
            .collect(),
        _ => Err(format!("{what} must be a list of string literals")),
    }
}

impl Compiler<'_> {
    /// A list literal's items compiled one by one, as the converters that
    /// take a list of values (`Concat`, `Format`, ...) need.
    fn list_getter(&self, e: Option<&Expr>, what: &str) -> Result<Getter, String> {
        match e {
            Some(Expr::List(items)) => Ok(Getter::List(
                items
                    .iter()
                    .map(|i| self.getter(i))
                    .collect::<Result<_, _>>()?,
            )),
            _ => Err(format!("{what} must be a list")),
        }
    }

    fn getter_opt(&self, e: Option<&Expr>) -> Result<Getter, String> {
        match e {
            Some(e) => self.getter(e),
            None => Ok(Getter::Lit(Value::Nil)),
        }
    }
}

pub(super) fn string_like(v: &Value<'_>) -> Option<String> {
    Some(match v {
        Value::Nil => return None,
        Value::Str(s) => s.to_string(),
        Value::Bytes(b) => ferrotel_core::hex::encode(b),
        other => {
            let any = other.clone().into_any();
            let mut out = String::new();
            ferrotel_core::pdata::go::as_string(
                any.as_ref().and_then(|a| a.value.as_ref()),
                &mut out,
            );
            out
        }
    })
}
