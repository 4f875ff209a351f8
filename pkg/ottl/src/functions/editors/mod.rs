//! The editors (Go's `ottlfuncs` editors), one file per theme: `set`
//! ([`set`]), the editors that change a map in place ([`maps`]), the
//! replace editors ([`replace`]) and the list editors ([`lists`]). This
//! file holds the field an editor writes, [`Target`], which all of them
//! share.

mod lists;
mod maps;
mod replace;
mod set;

use crate::context::{Field, Item, get_in, put, set_in_map};
use crate::parser::Expr;
use crate::registry::Registry;
use crate::value::Value;
use crate::{Compiler, KeyGetter, eval_keys};
use ferrotel_core::pdata::common::{KeyValue, any_value};

/// Registers the editors, theme by theme.
pub(super) fn register(registry: &mut Registry) {
    set::register(registry);
    maps::register(registry);
    replace::register(registry);
    lists::register(registry);
}

/// A field an editor writes, with its keys.
struct Target {
    field: Field,
    keys: Vec<KeyGetter>,
}

impl Target {
    fn get<'s>(&'s self, item: &'s Item<'_>) -> Result<Value<'s>, String> {
        let keys = eval_keys(&self.keys, item)?;
        get_in(item.get(self.field)?, &keys)
    }

    fn set(&self, item: &mut Item<'_>, value: Value<'static>) -> Result<(), String> {
        if self.keys.is_empty() {
            return item.set(self.field, value);
        }
        // The common `attributes["k"]`: no key list to build.
        if let [KeyGetter::Lit(Value::Str(key))] = self.keys.as_slice() {
            put(item.map_mut(self.field)?, key, value.into_any());
            return Ok(());
        }
        let keys: Vec<Value<'static>> = eval_keys(&self.keys, item)?
            .into_iter()
            .map(Value::into_owned)
            .collect();
        set_in_map(item.map_mut(self.field)?, &keys, value.into_any())
    }

    /// The map the target names, to change in place.
    fn map<'i>(&self, item: &'i mut Item<'_>) -> Result<&'i mut Vec<KeyValue>, String> {
        if self.keys.is_empty() {
            return item.map_mut(self.field);
        }
        let keys: Vec<Value<'static>> = eval_keys(&self.keys, item)?
            .into_iter()
            .map(Value::into_owned)
            .collect();
        let mut map = item.map_mut(self.field)?;
        for key in &keys {
            let Value::Str(key) = key else {
                return Err(format!("map keys are strings, not {}", key.type_name()));
            };
            map = match map
                .iter_mut()
                .rev()
                .find(|kv| kv.key == key.as_ref())
                .and_then(|kv| kv.value.as_mut())
                .and_then(|v| v.value.as_mut())
            {
                Some(any_value::Value::KvlistValue(m)) => &mut m.values,
                _ => return Err(format!("expected a map at key {key:?}")),
            };
        }
        Ok(map)
    }
}

impl Compiler<'_> {
    /// The `target` argument: a path.
    fn target(&self, e: Option<&Expr>) -> Result<Target, String> {
        match e {
            Some(Expr::Path(p)) => {
                let (field, keys) = self.path(p)?;
                Ok(Target { field, keys })
            }
            _ => Err("target must be a path".into()),
        }
    }

    /// The `target` argument of an editor that changes a map.
    fn map_target(&self, e: Option<&Expr>) -> Result<Target, String> {
        let t = self.target(e)?;
        if !t.field.indexable() {
            return Err("target must be a path to a map".into());
        }
        Ok(t)
    }
}
