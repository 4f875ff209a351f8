//! Go's `configopaque.String`: a setting that is a secret (a token, a
//! password), kept out of `Debug` output and named by its Go type when it
//! has the wrong type, as mapstructure names it.

use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::fmt;

/// A secret string setting.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Opaque(pub String);

impl fmt::Debug for Opaque {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl<'de> Deserialize<'de> for Opaque {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Opaque, D::Error> {
        struct Text;
        impl Visitor<'_> for Text {
            type Value = String;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Read back by `decode` as the Go type of the field.
                f.write_str("configopaque.String")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
                Ok(v.to_string())
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
                Ok(v)
            }
        }
        d.deserialize_string(Text).map(Opaque)
    }
}
