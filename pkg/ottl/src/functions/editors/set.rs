//! `set(target, value)`.

use super::Target;
use crate::context::Item;
use crate::functions::bind;
use crate::registry::{Editor, Registry};
use crate::value::Value;
use crate::{Getter, eval};

pub(super) fn register(registry: &mut Registry) {
    registry.editor("set", |call| {
        let b = bind(call.call, &["target", "value"], 2)?;
        Ok(Box::new(Set {
            target: call.compiler.target(b[0])?,
            value: call.compiler.getter_opt(b[1])?,
        }))
    });
}

struct Set {
    target: Target,
    value: Getter,
}

impl Editor for Set {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        let v = eval(&self.value, item)?.into_owned();
        // set with nil does nothing (without the ottl.set.allowNil gate).
        if v != Value::Nil {
            self.target.set(item, v)?;
        }
        Ok(())
    }
}
