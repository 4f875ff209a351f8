//! The OpenTelemetry Transformation Language (Go's `pkg/ottl`, v0.161 grammar and
//! functions): statements such as
//! `set(log.attributes["env"], "prod") where resource.attributes["ns"] == "prod"`
//! and conditions, parsed and checked once when config loads (an unknown
//! function, path or enum is an error naming it and the statement), then
//! evaluated on ferrotel's OTLP types without parsing again.
//!
//! A [`Program`] is a group of statements on one context (given, or
//! inferred from the paths' context prefixes as Go infers it: the most
//! specific context named wins); [`Conditions`] decide which items a
//! filter drops. Both walk a batch's items of their context, with the
//! resource and scope above each item in reach.

mod context;
mod csv;
mod format;
mod functions;
mod go_values;
pub mod groups;
mod lexer;
mod parser;
mod registry;

/// Go's renderings and readings of values that functions written outside
/// this crate must match (the transform processor's metric functions).
pub mod go {
    pub use crate::format::go_float as format_float;
    pub use crate::go_values::float_like;
}
mod value;
mod walk;

pub use context::{ContextKind, Item, Point, put as put_attribute};
pub use lexer::CmpOp;
pub use registry::{
    Arguments, Converter, ConverterFactory, Editor, EditorFactory, Expression, Invocation, Registry,
};
pub use value::{Value, compare};

use context::{Field, enum_value, field};
use parser::{BoolExpr, Expr, Key, MathOp};
use std::borrow::Cow;

use ferrotel_core::pdata::common::{AnyValue, KeyValue};
use ferrotel_core::pdata::{Signal, Telemetry};

/// What a failing statement or condition does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ErrorMode {
    /// The error fails the whole batch (Go's default).
    #[default]
    Propagate,
    /// The error is logged and the statement skipped.
    Ignore,
    /// The statement is skipped without a log.
    Silent,
}

impl ErrorMode {
    /// `propagate`, `ignore` or `silent`.
    pub fn parse(s: &str) -> Result<ErrorMode, String> {
        match s {
            "propagate" => Ok(ErrorMode::Propagate),
            "ignore" => Ok(ErrorMode::Ignore),
            "silent" => Ok(ErrorMode::Silent),
            other => Err(format!("'{other}' is not a valid error mode")),
        }
    }
}

/// Why OTTL refused a statement or condition, or failed on an item; the
/// texts are Go's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OttlError {
    /// A statement that does not parse or compile.
    #[error("unable to parse OTTL statement {text:?}: {message}")]
    Statement {
        /// The statement.
        text: String,
        /// What is wrong with it.
        message: String,
    },
    /// A condition that does not parse or compile.
    #[error("unable to parse OTTL condition {text:?}: {message}")]
    Condition {
        /// The condition.
        text: String,
        /// What is wrong with it.
        message: String,
    },
    /// No context fits the group: none given and none inferred, or one the
    /// signal does not have.
    #[error("{0}")]
    Context(String),
    /// A statement failed on an item (`error_mode: propagate`).
    #[error("failed to execute statement: {text}, {message}")]
    Execution {
        /// The statement.
        text: String,
        /// What failed.
        message: String,
    },
    /// A filter condition failed on an item (`error_mode: propagate`).
    #[error("failed to eval condition: {text}, {message}")]
    Evaluation {
        /// The condition.
        text: String,
        /// What failed.
        message: String,
    },
    /// Something the language cannot do with these items.
    #[error("{0}")]
    Unsupported(String),
}

/// A compiled value expression.
enum Getter {
    Lit(Value<'static>),
    List(Vec<Getter>),
    Map(Vec<(String, Getter)>),
    Path {
        field: Field,
        keys: Vec<KeyGetter>,
    },
    /// A converter call, then indexes into its result (`Split(...)[0]`).
    Call(Box<dyn Converter>, Vec<KeyGetter>),
    Math(Box<Getter>, MathOp, Box<Getter>),
    Neg(Box<Getter>),
    /// The elements of a list, for `append(values=...)`.
    Spread(Box<Getter>),
}

/// A compiled index.
enum KeyGetter {
    Lit(Value<'static>),
    Expr(Getter),
}

/// A compiled boolean expression.
enum Cond {
    Or(Vec<Cond>),
    And(Vec<Cond>),
    Not(Box<Cond>),
    Cmp(Getter, CmpOp, Getter),
    Term(Getter),
}

struct Statement {
    editor: Box<dyn Editor>,
    condition: Option<Cond>,
    text: String,
}

/// Compiles expressions for one context.
struct Compiler<'c> {
    context: ContextKind,
    /// Whether paths without a context prefix mean the group's context.
    unqualified: bool,
    /// The functions calls may name.
    registry: &'c Registry,
}

fn borrow<'s>(v: &'s Value<'static>) -> Value<'s> {
    match v {
        Value::Str(s) => Value::Str(Cow::Borrowed(s)),
        Value::Bytes(b) => Value::Bytes(Cow::Borrowed(b)),
        Value::Map(m) => Value::Map(Cow::Borrowed(m)),
        Value::List(l) => Value::List(Cow::Borrowed(l)),
        other => other.clone(),
    }
}

/// Evaluates a getter.
fn eval<'s>(g: &'s Getter, item: &'s Item<'_>) -> Result<Value<'s>, String> {
    Ok(match g {
        Getter::Lit(v) => borrow(v),
        Getter::List(items) => Value::List(Cow::Owned(
            items
                .iter()
                .map(|i| eval(i, item).map(|v| v.into_any().unwrap_or_default()))
                .collect::<Result<Vec<AnyValue>, String>>()?,
        )),
        Getter::Map(entries) => Value::Map(Cow::Owned(
            entries
                .iter()
                .map(|(k, g)| {
                    Ok(KeyValue {
                        key: k.clone(),
                        value: eval(g, item)?.into_any(),
                        ..KeyValue::default()
                    })
                })
                .collect::<Result<Vec<KeyValue>, String>>()?,
        )),
        // The common `attributes["k"]`: straight to the attribute.
        Getter::Path { field, keys } => match (keys.as_slice(), item.attributes(*field)) {
            ([KeyGetter::Lit(Value::Str(key))], Some(map)) => Value::of(value::find(map, key)),
            _ => index(item.get(*field)?, keys, item)?,
        },
        Getter::Call(c, keys) => index(c.call(item)?, keys, item)?,
        Getter::Math(a, op, b) => math(eval(a, item)?, *op, eval(b, item)?)?,
        Getter::Neg(a) => match eval(a, item)? {
            Value::Int(i) => Value::Int(-i),
            Value::Float(f) => Value::Float(-f),
            Value::Duration(d) => Value::Duration(-d),
            other => return Err(format!("cannot negate {}", other.type_name())),
        },
        Getter::Spread(_) => return Err("a spread list is only an append argument".into()),
    })
}

fn index<'s>(
    mut v: Value<'s>,
    keys: &'s [KeyGetter],
    item: &'s Item<'_>,
) -> Result<Value<'s>, String> {
    for k in keys {
        v = match k {
            KeyGetter::Lit(key) => v.index(key)?,
            KeyGetter::Expr(g) => v.index(&eval(g, item)?)?,
        };
    }
    Ok(v)
}

/// Evaluates keys (for writes).
fn eval_keys<'s>(keys: &'s [KeyGetter], item: &'s Item<'_>) -> Result<Vec<Value<'s>>, String> {
    keys.iter()
        .map(|k| match k {
            KeyGetter::Lit(v) => Ok(borrow(v)),
            KeyGetter::Expr(g) => eval(g, item),
        })
        .collect()
}

fn math(a: Value<'_>, op: MathOp, b: Value<'_>) -> Result<Value<'static>, String> {
    use MathOp::*;
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => Value::Int(match op {
            Add => x.wrapping_add(y),
            Sub => x.wrapping_sub(y),
            Mul => x.wrapping_mul(y),
            Div => x.checked_div(y).ok_or("attempted to divide by 0")?,
        }),
        (Value::Float(x), Value::Float(y)) => Value::Float(match op {
            Add => x + y,
            Sub => x - y,
            Mul => x * y,
            Div if y == 0.0 => return Err("attempted to divide by 0".into()),
            Div => x / y,
        }),
        (Value::Time(t), Value::Time(u)) if op == Sub => Value::Duration(t - u),
        (Value::Time(t), Value::Duration(d)) if op == Add => Value::Time(t + d),
        (Value::Duration(d), Value::Time(t)) if op == Add => Value::Time(t + d),
        (Value::Time(t), Value::Duration(d)) if op == Sub => Value::Time(t - d),
        (Value::Duration(x), Value::Duration(y)) if matches!(op, Add | Sub) => {
            Value::Duration(if op == Add { x + y } else { x - y })
        }
        (a, b) => {
            return Err(format!(
                "unsupported math between {} and {}",
                a.type_name(),
                b.type_name()
            ));
        }
    })
}

fn test(c: &Cond, item: &Item<'_>) -> Result<bool, String> {
    Ok(match c {
        Cond::Or(terms) => {
            for t in terms {
                if test(t, item)? {
                    return Ok(true);
                }
            }
            false
        }
        Cond::And(terms) => {
            for t in terms {
                if !test(t, item)? {
                    return Ok(false);
                }
            }
            true
        }
        Cond::Not(inner) => !test(inner, item)?,
        Cond::Cmp(a, op, b) => compare(&eval(a, item)?, *op, &eval(b, item)?),
        Cond::Term(g) => match eval(g, item)? {
            Value::Bool(b) => b,
            other => return Err(format!("expected a bool, got {}", other.type_name())),
        },
    })
}

impl Compiler<'_> {
    fn getter(&self, e: &Expr) -> Result<Getter, String> {
        Ok(match e {
            Expr::Str(s) => Getter::Lit(Value::Str(Cow::Owned(s.clone()))),
            Expr::Int(i) => Getter::Lit(Value::Int(*i)),
            Expr::Float(f) => Getter::Lit(Value::Float(*f)),
            Expr::Bytes(b) => Getter::Lit(Value::Bytes(Cow::Owned(b.clone()))),
            Expr::Bool(b) => Getter::Lit(Value::Bool(*b)),
            Expr::Nil => Getter::Lit(Value::Nil),
            Expr::Enum(name) => Getter::Lit(Value::Int(
                enum_value(name).ok_or_else(|| format!("enum symbol, {name}, not found"))?,
            )),
            Expr::List(items) => Getter::List(
                items
                    .iter()
                    .map(|i| self.getter(i))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Map(entries) => Getter::Map(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.getter(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            Expr::Path(p) => {
                let (field, keys) = self.path(p)?;
                Getter::Path { field, keys }
            }
            Expr::Call(c) => Getter::Call(
                self.converter(c)?,
                c.keys
                    .iter()
                    .map(|k| self.key(k))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Math(a, op, b) => {
                Getter::Math(Box::new(self.getter(a)?), *op, Box::new(self.getter(b)?))
            }
            Expr::Neg(a) => Getter::Neg(Box::new(self.getter(a)?)),
        })
    }

    fn key(&self, k: &Key) -> Result<KeyGetter, String> {
        Ok(match k {
            Key::Str(s) => KeyGetter::Lit(Value::Str(Cow::Owned(s.clone()))),
            Key::Int(i) => KeyGetter::Lit(Value::Int(*i)),
            Key::Expr(e) => KeyGetter::Expr(self.getter(e)?),
        })
    }

    fn path(&self, p: &parser::Path) -> Result<(Field, Vec<KeyGetter>), String> {
        let segments: Vec<&str> = p.fields.iter().map(String::as_str).collect();
        let full = segments.join(".");
        let (owner, rest) = match ContextKind::parse(segments[0]) {
            Some(ctx) if segments.len() > 1 => (ctx, &segments[1..]),
            _ if self.unqualified => (self.context, &segments[..]),
            _ => {
                return Err(format!(
                    "missing context name for path \"{full}\", valid options are: {}.{full}",
                    self.context.name()
                ));
            }
        };
        if !self.context.sees(owner) {
            return Err(format!(
                "path \"{full}\" belongs to the {} context, which the {} context cannot reach",
                owner.name(),
                self.context.name()
            ));
        }
        let field = field(owner, rest).ok_or_else(|| {
            format!(
                "path \"{full}\" is not a valid path for the {} context",
                owner.name()
            )
        })?;
        if !p.keys.is_empty() && !field.indexable() {
            return Err(format!("path \"{full}\" does not support keys"));
        }
        let keys = p
            .keys
            .iter()
            .map(|k| self.key(k))
            .collect::<Result<_, _>>()?;
        Ok((field, keys))
    }

    fn cond(&self, b: &BoolExpr) -> Result<Cond, String> {
        Ok(match b {
            BoolExpr::Or(t) => Cond::Or(t.iter().map(|c| self.cond(c)).collect::<Result<_, _>>()?),
            BoolExpr::And(t) => {
                Cond::And(t.iter().map(|c| self.cond(c)).collect::<Result<_, _>>()?)
            }
            BoolExpr::Not(c) => Cond::Not(Box::new(self.cond(c)?)),
            BoolExpr::Cmp(a, op, b) => Cond::Cmp(self.getter(a)?, *op, self.getter(b)?),
            BoolExpr::Term(e) => {
                if !matches!(e, Expr::Bool(_) | Expr::Call(_)) {
                    return Err(
                        "a boolean expression must be a comparison, a converter or true/false"
                            .into(),
                    );
                }
                Cond::Term(self.getter(e)?)
            }
        })
    }
}

/// The contexts a signal's statements may run on.
fn contexts_of(signal: Signal) -> &'static [ContextKind] {
    use ContextKind::*;
    match signal {
        Signal::Logs => &[Resource, Scope, Log],
        Signal::Traces => &[Resource, Scope, Span, SpanEvent],
        Signal::Metrics => &[Resource, Scope, Metric, DataPoint],
        Signal::Profiles => &[],
    }
}

/// Every context prefix the paths of a condition name.
fn cond_contexts(b: &BoolExpr, out: &mut Vec<ContextKind>) {
    match b {
        BoolExpr::Or(t) | BoolExpr::And(t) => t.iter().for_each(|c| cond_contexts(c, out)),
        BoolExpr::Not(c) => cond_contexts(c, out),
        BoolExpr::Cmp(a, _, b) => {
            expr_contexts(a, out);
            expr_contexts(b, out);
        }
        BoolExpr::Term(e) => expr_contexts(e, out),
    }
}

fn expr_contexts(e: &Expr, out: &mut Vec<ContextKind>) {
    let keys = |keys: &[Key], out: &mut Vec<ContextKind>| {
        for k in keys {
            if let Key::Expr(e) = k {
                expr_contexts(e, out);
            }
        }
    };
    match e {
        Expr::Path(p) => {
            if p.fields.len() > 1
                && let Some(c) = ContextKind::parse(&p.fields[0])
            {
                out.push(c);
            }
            keys(&p.keys, out);
        }
        Expr::Call(c) => {
            c.args.iter().for_each(|a| expr_contexts(&a.value, out));
            keys(&c.keys, out);
        }
        Expr::List(items) => items.iter().for_each(|i| expr_contexts(i, out)),
        Expr::Map(entries) => entries.iter().for_each(|(_, v)| expr_contexts(v, out)),
        Expr::Math(a, _, b) => {
            expr_contexts(a, out);
            expr_contexts(b, out);
        }
        Expr::Neg(a) => expr_contexts(a, out),
        _ => {}
    }
}

/// Picks the context: the configured one, or the most specific one the
/// paths name.
fn choose_context(
    signal: Signal,
    context: Option<&str>,
    named: &[ContextKind],
) -> Result<(ContextKind, bool), String> {
    let allowed = contexts_of(signal);
    let names = || {
        allowed
            .iter()
            .map(|c| c.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ctx = match context {
        Some(name) => {
            let ctx = ContextKind::parse(name)
                .ok_or_else(|| format!("unknown context {name:?} (valid: {})", names()))?;
            return if allowed.contains(&ctx) {
                Ok((ctx, true))
            } else {
                Err(format!(
                    "context {name:?} is not valid for {signal} (valid: {})",
                    names()
                ))
            };
        }
        None => named
            .iter()
            .min_by_key(|c| c.priority())
            .copied()
            .ok_or("unable to infer a context from the statements: their paths must start with a context name, e.g. log.attributes")?,
    };
    if !allowed.contains(&ctx) {
        return Err(format!(
            "inferred context \"{}\" is not valid for {signal} (valid: {})",
            ctx.name(),
            names()
        ));
    }
    Ok((ctx, false))
}

/// A group of statements on one context, with the group's conditions.
pub struct Program {
    context: ContextKind,
    conditions: Vec<(Cond, String)>,
    statements: Vec<Statement>,
}

impl Program {
    /// Compiles statements (and optional group conditions, any of which
    /// must hold for the statements to run) for `signal`, on `context` or
    /// the one the paths name.
    pub fn compile(
        signal: Signal,
        context: Option<&str>,
        statements: &[String],
        conditions: &[String],
    ) -> Result<Program, OttlError> {
        Program::compile_with(
            Registry::standard(),
            signal,
            context,
            statements,
            conditions,
        )
    }

    /// [`Program::compile`], calls naming the functions of `registry`.
    pub fn compile_with(
        registry: &Registry,
        signal: Signal,
        context: Option<&str>,
        statements: &[String],
        conditions: &[String],
    ) -> Result<Program, OttlError> {
        let parsed: Vec<(parser::StatementAst, &String)> = statements
            .iter()
            .map(|s| {
                parser::statement(s)
                    .map(|p| (p, s))
                    .map_err(|message| OttlError::Statement {
                        text: s.clone(),
                        message,
                    })
            })
            .collect::<Result<_, _>>()?;
        let parsed_conditions: Vec<(BoolExpr, &String)> = conditions
            .iter()
            .map(|c| {
                parser::condition(c)
                    .map(|p| (p, c))
                    .map_err(|message| OttlError::Condition {
                        text: c.clone(),
                        message,
                    })
            })
            .collect::<Result<_, _>>()?;
        let mut named = Vec::new();
        for (s, _) in &parsed {
            s.editor
                .args
                .iter()
                .for_each(|a| expr_contexts(&a.value, &mut named));
            if let Some(c) = &s.condition {
                cond_contexts(c, &mut named);
            }
        }
        for (c, _) in &parsed_conditions {
            cond_contexts(c, &mut named);
        }
        let (context, unqualified) =
            choose_context(signal, context, &named).map_err(OttlError::Context)?;
        let c = Compiler {
            context,
            unqualified,
            registry,
        };
        let statements = parsed
            .into_iter()
            .map(|(s, text)| {
                let compiled = || -> Result<Statement, String> {
                    Ok(Statement {
                        editor: c.editor(&s.editor)?,
                        condition: s.condition.as_ref().map(|b| c.cond(b)).transpose()?,
                        text: text.clone(),
                    })
                };
                compiled().map_err(|message| OttlError::Statement {
                    text: text.clone(),
                    message,
                })
            })
            .collect::<Result<_, _>>()?;
        let conditions = parsed_conditions
            .into_iter()
            .map(|(b, text)| {
                c.cond(&b)
                    .map(|c| (c, text.clone()))
                    .map_err(|message| OttlError::Condition {
                        text: text.clone(),
                        message,
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Program {
            context,
            conditions,
            statements,
        })
    }

    /// The context the statements run on.
    pub fn context(&self) -> ContextKind {
        self.context
    }

    /// Runs the statements on every item of the batch.
    pub fn run(&self, data: &mut Telemetry, mode: ErrorMode) -> Result<(), OttlError> {
        let whole_summaries = self
            .statements
            .iter()
            .any(|s| s.editor.reads_whole_summary());
        walk::walk(data, self.context, false, whole_summaries, &mut |item| {
            if !self.conditions.is_empty() {
                let mut any = false;
                for (c, text) in &self.conditions {
                    match test(c, item) {
                        Ok(true) => {
                            any = true;
                            break;
                        }
                        Ok(false) => {}
                        Err(e) => handle(mode, text, e)?,
                    }
                }
                if !any {
                    return Ok(false);
                }
            }
            for s in &self.statements {
                let run = match &s.condition {
                    None => Ok(true),
                    Some(c) => test(c, item),
                };
                let result = run.and_then(|run| if run { s.editor.apply(item) } else { Ok(()) });
                if let Err(e) = result {
                    handle(mode, &s.text, e)?;
                }
            }
            Ok(false)
        })
        .map(|_| ())
    }
}

fn handle(mode: ErrorMode, text: &str, message: String) -> Result<(), OttlError> {
    let error = OttlError::Execution {
        text: text.to_string(),
        message,
    };
    match mode {
        ErrorMode::Propagate => Err(error),
        ErrorMode::Ignore => {
            tracing::warn!(%error, "failed to execute OTTL; skipping it");
            Ok(())
        }
        ErrorMode::Silent => Ok(()),
    }
}

/// Conditions that decide which items a filter drops.
pub struct Conditions {
    context: ContextKind,
    conditions: Vec<(Cond, String)>,
}

impl Conditions {
    /// Compiles conditions for `signal` on `context`, or the one the paths
    /// name.
    pub fn compile(
        signal: Signal,
        context: Option<&str>,
        conditions: &[String],
    ) -> Result<Conditions, OttlError> {
        let program = Program::compile(signal, context, &[], conditions)?;
        Ok(Conditions {
            context: program.context,
            conditions: program.conditions,
        })
    }

    /// Compiles each condition on the context its paths name, and groups
    /// them by context, in the order contexts first appear.
    pub fn compile_inferred(
        signal: Signal,
        conditions: &[String],
    ) -> Result<Vec<Conditions>, OttlError> {
        let mut groups: Vec<Conditions> = Vec::new();
        for text in conditions {
            let one = Conditions::compile(signal, None, std::slice::from_ref(text))?;
            match groups.iter_mut().find(|g| g.context == one.context) {
                Some(g) => g.conditions.extend(one.conditions),
                None => groups.push(one),
            }
        }
        Ok(groups)
    }

    /// The context the conditions test.
    pub fn context(&self) -> ContextKind {
        self.context
    }

    /// Takes the items for which any condition holds out of `data` (or
    /// copies them, with `copy`) into a batch of their own, with their
    /// resource and scope (and metric, for data points). Span events cannot
    /// be split out of their span.
    pub fn split_matching(
        &self,
        data: &mut Telemetry,
        copy: bool,
        mode: ErrorMode,
    ) -> Result<Telemetry, OttlError> {
        if self.context == ContextKind::SpanEvent {
            return Err(OttlError::Unsupported(format!(
                "cannot split out items of the {} context",
                self.context.name()
            )));
        }
        let mut chosen = Vec::new();
        walk::walk(data, self.context, false, false, &mut |item| {
            let mut hit = false;
            for (c, text) in &self.conditions {
                match test(c, item) {
                    Ok(true) => {
                        hit = true;
                        break;
                    }
                    Ok(false) => {}
                    Err(e) => handle(mode, text, e)?,
                }
            }
            chosen.push(hit);
            Ok(false)
        })?;
        Ok(walk::split(data, self.context, &chosen, copy))
    }

    /// Removes the items for which any condition holds, and the
    /// resources, scopes and metrics left empty; returns how many items
    /// of the batch's signal were removed.
    pub fn drop_matching(&self, data: &mut Telemetry, mode: ErrorMode) -> Result<usize, OttlError> {
        let before = data.item_count();
        walk::walk(data, self.context, true, false, &mut |item| {
            for (c, text) in &self.conditions {
                match test(c, item) {
                    Ok(true) => return Ok(true),
                    Ok(false) => {}
                    Err(message) => {
                        let error = OttlError::Evaluation {
                            text: text.clone(),
                            message,
                        };
                        match mode {
                            ErrorMode::Propagate => return Err(error),
                            ErrorMode::Ignore => {
                                tracing::warn!(%error, "failed processing condition; it counts as false");
                            }
                            ErrorMode::Silent => {}
                        }
                    }
                }
            }
            Ok(false)
        })?;
        Ok(before - data.item_count())
    }
}

#[cfg(test)]
mod tests;
