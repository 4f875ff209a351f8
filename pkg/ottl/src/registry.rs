//! Which functions statements and conditions may call, as Go's
//! `ottl.Factory` maps do: a [`Registry`] maps each editor and converter
//! name to a factory that compiles a call once, when the config loads, into
//! an [`Editor`] or a [`Converter`] that runs per item. [`Registry::standard`]
//! holds OTTL's own functions (Go's `ottlfuncs.StandardFuncs`); a component
//! with functions of its own (the transform processor's metric functions)
//! adds them to a copy and compiles with it (`Program::compile_with`).

use crate::context::{ContextKind, Item};
use crate::parser::{Call, Expr};
use crate::value::Value;
use crate::{Compiler, Getter, eval};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// A compiled editor call: changes the item it runs on.
pub trait Editor: Send + Sync {
    /// Runs on one item of its context.
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String>;

    /// Whether, in the data point context, it needs every point of a
    /// summary while one of them is visited ([`Item::summary`]).
    fn reads_whole_summary(&self) -> bool {
        false
    }
}

/// A compiled converter call: computes a value from the item.
pub trait Converter: Send + Sync {
    /// The value for one item; it may borrow from the converter and the
    /// item.
    fn call<'s>(&'s self, item: &'s Item<'_>) -> Result<Value<'s>, String>;
}

/// Compiles a call of an editor.
pub type EditorFactory =
    Arc<dyn Fn(&Invocation<'_>) -> Result<Box<dyn Editor>, String> + Send + Sync>;

/// Compiles a call of a converter.
pub type ConverterFactory =
    Arc<dyn Fn(&Invocation<'_>) -> Result<Box<dyn Converter>, String> + Send + Sync>;

/// The functions statements may call, by name.
#[derive(Clone, Default)]
pub struct Registry {
    editors: HashMap<&'static str, EditorFactory>,
    converters: HashMap<&'static str, ConverterFactory>,
}

impl Registry {
    /// OTTL's own editors and converters, built once.
    pub fn standard() -> &'static Registry {
        static STANDARD: OnceLock<Registry> = OnceLock::new();
        STANDARD.get_or_init(|| {
            let mut r = Registry::default();
            crate::functions::register(&mut r);
            r
        })
    }

    /// Adds (or replaces) an editor; its name starts lowercase, as Go's.
    pub fn editor(
        &mut self,
        name: &'static str,
        factory: impl Fn(&Invocation<'_>) -> Result<Box<dyn Editor>, String> + Send + Sync + 'static,
    ) -> &mut Registry {
        self.editors.insert(name, Arc::new(factory));
        self
    }

    /// Adds (or replaces) a converter; its name starts uppercase, as Go's.
    pub fn converter(
        &mut self,
        name: &'static str,
        factory: impl Fn(&Invocation<'_>) -> Result<Box<dyn Converter>, String> + Send + Sync + 'static,
    ) -> &mut Registry {
        self.converters.insert(name, Arc::new(factory));
        self
    }

    pub(crate) fn find_editor(&self, name: &str) -> Option<&EditorFactory> {
        self.editors.get(name)
    }

    pub(crate) fn find_converter(&self, name: &str) -> Option<&ConverterFactory> {
        self.converters.get(name)
    }
}

/// A call being compiled: its name, its arguments, the context it runs in.
pub struct Invocation<'c> {
    pub(crate) compiler: &'c Compiler<'c>,
    pub(crate) call: &'c Call,
}

impl<'c> Invocation<'c> {
    /// The function's name.
    pub fn name(&self) -> &'c str {
        &self.call.name
    }

    /// The context the statement runs in.
    pub fn context(&self) -> ContextKind {
        self.compiler.context
    }

    /// Binds the arguments to `params` as Go does (positional first, then
    /// named); the first `required` must be given.
    pub fn bind(&self, params: &[&str], required: usize) -> Result<Arguments<'c>, String> {
        Ok(Arguments {
            compiler: self.compiler,
            values: crate::functions::bind(self.call, params, required)?,
            params: params.iter().map(|p| p.to_string()).collect(),
        })
    }
}

/// A call's arguments, by parameter position.
pub struct Arguments<'c> {
    compiler: &'c Compiler<'c>,
    values: Vec<Option<&'c Expr>>,
    /// The parameter names, for errors.
    params: Vec<String>,
}

impl Arguments<'_> {
    fn at(&self, i: usize) -> Option<&Expr> {
        self.values.get(i).copied().flatten()
    }

    /// Whether the argument was given.
    pub fn given(&self, i: usize) -> bool {
        self.at(i).is_some()
    }

    /// The argument compiled to an expression evaluated per item, when
    /// given.
    pub fn expression(&self, i: usize) -> Result<Option<Expression>, String> {
        self.at(i)
            .map(|e| self.compiler.getter(e).map(Expression))
            .transpose()
    }

    /// A required argument compiled to an expression; `bind` has made sure
    /// it is there, and Go's error names it otherwise.
    pub fn required(&self, i: usize) -> Result<Expression, String> {
        self.expression(i)?.ok_or_else(|| {
            format!(
                "missing required parameter {:?}",
                self.params.get(i).map_or("", String::as_str)
            )
        })
    }

    /// A string literal, when given; `what` names it in the error.
    pub fn str_literal(&self, i: usize, what: &str) -> Result<Option<&str>, String> {
        match self.at(i) {
            None => Ok(None),
            Some(Expr::Str(s)) => Ok(Some(s)),
            Some(_) => Err(format!("{what} must be a string literal")),
        }
    }

    /// A bool literal, when given.
    pub fn bool_literal(&self, i: usize, what: &str) -> Result<Option<bool>, String> {
        match self.at(i) {
            None => Ok(None),
            Some(Expr::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(format!("{what} must be a bool literal")),
        }
    }

    /// A number literal (int or float, maybe negated), when given.
    pub fn number_literal(&self, i: usize, what: &str) -> Result<Option<f64>, String> {
        let number = |e: &Expr| match e {
            Expr::Float(f) => Some(*f),
            Expr::Int(n) => Some(*n as f64),
            _ => None,
        };
        let not_a_number = || format!("{what} must be a number literal");
        match self.at(i) {
            None => Ok(None),
            Some(Expr::Neg(e)) => number(e.as_ref())
                .map(|n| Some(-n))
                .ok_or_else(not_a_number),
            Some(e) => number(e).map(Some).ok_or_else(not_a_number),
        }
    }

    /// A list of string literals, when given.
    pub fn string_list(&self, i: usize, what: &str) -> Result<Option<Vec<String>>, String> {
        self.at(i)
            .map(|e| crate::functions::string_list(Some(e), what))
            .transpose()
    }
}

/// An argument compiled once and evaluated per item.
pub struct Expression(Getter);

impl Expression {
    /// Its value for one item.
    pub fn eval<'s>(&'s self, item: &'s Item<'_>) -> Result<Value<'s>, String> {
        eval(&self.0, item)
    }

    /// Its value, when it is a literal known at compile time.
    pub fn literal(&self) -> Option<&Value<'static>> {
        match &self.0 {
            Getter::Lit(v) => Some(v),
            _ => None,
        }
    }
}
