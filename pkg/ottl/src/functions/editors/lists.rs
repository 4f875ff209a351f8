//! The list editors: `append` (one value, a list of values, or both) and
//! `delete_index` (one index or a range).

use super::Target;
use crate::context::Item;
use crate::functions::bind;
use crate::registry::{Editor, Registry};
use crate::value::Value;
use crate::{Getter, eval};
use ferrotel_core::pdata::common::AnyValue;
use std::borrow::Cow;

pub(super) fn register(registry: &mut Registry) {
    registry.editor("append", |call| {
        let b = bind(call.call, &["target", "value", "values"], 1)?;
        let mut values = Vec::new();
        if let Some(v) = b[1] {
            values.push(call.compiler.getter(v)?);
        }
        if let Some(v) = b[2] {
            values.push(Getter::Spread(Box::new(call.compiler.getter(v)?)));
        }
        Ok(Box::new(Append {
            target: call.compiler.target(b[0])?,
            values,
        }))
    });
    registry.editor("delete_index", |call| {
        let b = bind(call.call, &["target", "start_index", "end_index"], 2)?;
        Ok(Box::new(DeleteIndex {
            target: call.compiler.target(b[0])?,
            start: call.compiler.getter_opt(b[1])?,
            end: b[2].map(|e| call.compiler.getter(e)).transpose()?,
        }))
    });
}

/// `append(target, value, values)`.
struct Append {
    target: Target,
    values: Vec<Getter>,
}

impl Editor for Append {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        let mut add: Vec<AnyValue> = Vec::new();
        for v in &self.values {
            match v {
                Getter::Spread(list) => match eval(list, item)?.into_owned() {
                    Value::List(l) => add.extend(l.into_owned()),
                    other => add.extend(other.into_any()),
                },
                g => add.extend(eval(g, item)?.into_owned().into_any()),
            }
        }
        let mut list: Vec<AnyValue> = match self.target.get(item)?.into_owned() {
            Value::List(l) => l.into_owned(),
            Value::Nil => Vec::new(),
            other => other.into_any().into_iter().collect(),
        };
        list.extend(add);
        self.target.set(item, Value::List(Cow::Owned(list)))
    }
}

/// `delete_index(target, start_index, end_index)`: `[start, end)`, or the
/// one item at `start`.
struct DeleteIndex {
    target: Target,
    start: Getter,
    end: Option<Getter>,
}

impl Editor for DeleteIndex {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        let index = |g: &Getter, item: &Item<'_>| match eval(g, item)? {
            Value::Int(i) => usize::try_from(i).map_err(|_| format!("invalid index {i}")),
            other => Err(format!(
                "expected an int64 index, got {}",
                other.type_name()
            )),
        };
        let start = index(&self.start, item)?;
        let end = self
            .end
            .as_ref()
            .map(|e| index(e, item))
            .transpose()?
            .unwrap_or(start + 1);
        let Value::List(list) = self.target.get(item)?.into_owned() else {
            return Err("delete_index: target is not a list".into());
        };
        let mut list = list.into_owned();
        if start >= list.len() || end > list.len() || start >= end {
            return Err(format!(
                "invalid range [{start}, {end}) for a list of {}",
                list.len()
            ));
        }
        list.drain(start..end);
        self.target.set(item, Value::List(Cow::Owned(list)))
    }
}
