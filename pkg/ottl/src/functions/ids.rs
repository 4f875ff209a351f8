//! The id converters: `TraceID` and `SpanID` (the id's bytes, or their hex,
//! as pkg/ottl takes them) and `UUID` (a random version 4 UUID).

use crate::context::Item;
use crate::go_values::uuid_v4;
use crate::registry::{Converter, Expression, Registry};
use crate::value::Value;
use std::borrow::Cow;

/// Registers the id converters, by Go's names and parameter names.
pub(super) fn register(registry: &mut Registry) {
    for (name, len) in [("TraceID", 16), ("SpanID", 8)] {
        registry.converter(name, move |call| {
            let args = call.bind(&["target"], 1)?;
            let target = args.required(0)?;
            Ok(Box::new(Id { name, len, target }))
        });
    }
    registry.converter("UUID", |call| {
        call.bind(&[], 0)?;
        Ok(Box::new(Uuid))
    });
}

/// `TraceID(target)` or `SpanID(target)`.
struct Id {
    name: &'static str,
    /// The id's length in bytes.
    len: usize,
    target: Expression,
}

impl Converter for Id {
    fn call<'s>(&'s self, item: &'s Item<'_>) -> Result<Value<'s>, String> {
        let (name, len) = (self.name, self.len);
        let target = self.target.eval(item)?;
        let bytes: &[u8] = match &target {
            Value::Bytes(b) => b,
            Value::Str(s) => s.as_bytes(),
            other => {
                return Err(format!(
                    "{name}: expected a byte slice or a string but got {}",
                    other.type_name()
                ));
            }
        };
        let id = if bytes.len() == len {
            bytes.to_vec()
        } else if bytes.len() == 2 * len {
            ferrotel_core::hex::decode(bytes).ok_or_else(|| {
                format!("{name}: could not decode ID: invalid hex: encoding/hex: invalid byte")
            })?
        } else {
            return Err(format!(
                "{name}: could not decode ID: invalid length: expected {len} or {} bytes, got {}",
                2 * len,
                bytes.len()
            ));
        };
        Ok(Value::Bytes(Cow::Owned(id)))
    }
}

/// `UUID()`.
struct Uuid;

impl Converter for Uuid {
    fn call<'s>(&'s self, _: &'s Item<'_>) -> Result<Value<'s>, String> {
        Ok(Value::Str(Cow::Owned(uuid_v4())))
    }
}
