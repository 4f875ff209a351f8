//! The encoding converters: `Hex` (of a value read as a string),
//! `Base64Encode` (with Go's four variants) and `Decode` (the base64
//! variants; Go's IANA text encodings are refused when the config loads).

use super::string_like;
use crate::context::Item;
use crate::go_values::base64_engine;
use crate::registry::{Converter, Expression, Registry};
use crate::value::Value;
use base64::Engine;
use std::borrow::Cow;

/// Registers the encoding converters, by Go's names and parameter names.
pub(super) fn register(registry: &mut Registry) {
    registry.converter("Hex", |call| {
        let args = call.bind(&["value"], 1)?;
        let value = args.required(0)?;
        Ok(Box::new(Hex(value)))
    });
    registry.converter("Base64Encode", |call| {
        let args = call.bind(&["target", "variant"], 1)?;
        let target = args.required(0)?;
        Ok(Box::new(Base64Encode {
            target,
            variant: args.expression(1)?,
        }))
    });
    registry.converter("Decode", |call| {
        let args = call.bind(&["target", "encoding"], 2)?;
        let target = args.required(0)?;
        let encoding = args.required(1)?;
        // A literal encoding is checked once, when the config loads.
        if let Some(Value::Str(name)) = encoding.literal() {
            base64_engine(name).ok_or_else(|| {
                format!("Decode: the encoding {name:?} is not supported by ferrotel (base64, base64-raw, base64-url and base64-raw-url are)")
            })?;
        }
        Ok(Box::new(Decode { target, encoding }))
    });
}

/// `Hex(value)`.
struct Hex(Expression);

impl Converter for Hex {
    fn call<'s>(&'s self, item: &'s Item<'_>) -> Result<Value<'s>, String> {
        Ok(match self.0.eval(item)? {
            Value::Nil => Value::Nil,
            Value::Str(s) => Value::Str(Cow::Owned(ferrotel_core::hex::encode(s.as_bytes()))),
            other => Value::Str(Cow::Owned(string_like(&other).unwrap_or_default())),
        })
    }
}

/// `Base64Encode(target, variant)`.
struct Base64Encode {
    target: Expression,
    variant: Option<Expression>,
}

impl Converter for Base64Encode {
    fn call<'s>(&'s self, item: &'s Item<'_>) -> Result<Value<'s>, String> {
        let target = self.target.eval(item)?;
        let s = target
            .as_str()
            .ok_or_else(|| format!("expected string but got {}", target.type_name()))?;
        let variant = match self.variant.as_ref().map(|v| v.eval(item)).transpose()? {
            None | Some(Value::Nil) => Cow::Borrowed("base64"),
            Some(Value::Str(v)) => v,
            Some(other) => {
                return Err(format!(
                    "failed to get base64 variant: expected string but got {}",
                    other.type_name()
                ));
            }
        };
        let engine = base64_engine(&variant)
            .ok_or_else(|| format!("unsupported base64 variant: {variant}"))?;
        Ok(Value::Str(Cow::Owned(engine.encode(s.as_bytes()))))
    }
}

/// `Decode(target, encoding)`.
struct Decode {
    target: Expression,
    encoding: Expression,
}

impl Converter for Decode {
    fn call<'s>(&'s self, item: &'s Item<'_>) -> Result<Value<'s>, String> {
        let (target, encoding) = (self.target.eval(item)?, self.encoding.eval(item)?);
        let encoding = encoding
            .as_str()
            .ok_or("Decode: encoding is not a string")?;
        let engine = base64_engine(encoding).ok_or_else(|| {
            format!("Decode: the encoding {encoding:?} is not supported by ferrotel")
        })?;
        let input: Cow<'_, [u8]> = match &target {
            Value::Bytes(b) => Cow::Borrowed(b.as_ref()),
            Value::Str(s) => Cow::Borrowed(s.as_bytes()),
            Value::Nil => {
                return Err("unsupported type provided to Decode function: <nil>".into());
            }
            other => Cow::Owned(string_like(other).unwrap_or_default().into_bytes()),
        };
        // Go's decoder skips line breaks.
        let input: Cow<'_, [u8]> = if input.contains(&b'\n') || input.contains(&b'\r') {
            Cow::Owned(
                input
                    .iter()
                    .copied()
                    .filter(|b| !matches!(b, b'\n' | b'\r'))
                    .collect(),
            )
        } else {
            input
        };
        let decoded = engine.decode(&input).map_err(|e| {
            let at = match e {
                base64::DecodeError::InvalidByte(at, _)
                | base64::DecodeError::InvalidLastSymbol(at, _) => at,
                // Go names the start of the incomplete quantum.
                _ => input.len() / 4 * 4,
            };
            format!("could not decode: illegal base64 data at input byte {at}")
        })?;
        Ok(Value::Str(Cow::Owned(
            String::from_utf8_lossy(&decoded).into_owned(),
        )))
    }
}
