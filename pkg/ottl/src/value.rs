//! OTTL's runtime values, borrowed from the telemetry where they can be,
//! and the comparison rules of OTTL's LANGUAGE.md.

use super::lexer::CmpOp;
use ferrotel_core::pdata::common::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value};
use std::borrow::Cow;

/// A value being evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    /// Absent.
    Nil,
    /// A boolean.
    Bool(bool),
    /// An int64.
    Int(i64),
    /// A float64.
    Float(f64),
    /// A string.
    Str(Cow<'a, str>),
    /// Bytes.
    Bytes(Cow<'a, [u8]>),
    /// A map (attribute list).
    Map(Cow<'a, [KeyValue]>),
    /// A list.
    List(Cow<'a, [AnyValue]>),
    /// A time, nanoseconds since the Unix epoch.
    Time(i64),
    /// A duration in nanoseconds.
    Duration(i64),
}

impl<'a> Value<'a> {
    /// Borrows an attribute value.
    pub fn of(v: Option<&'a AnyValue>) -> Value<'a> {
        use any_value::Value as V;
        match v.and_then(|v| v.value.as_ref()) {
            None | Some(V::StringValueStrindex(_)) => Value::Nil,
            Some(V::StringValue(s)) => Value::Str(Cow::Borrowed(s)),
            Some(V::BoolValue(b)) => Value::Bool(*b),
            Some(V::IntValue(i)) => Value::Int(*i),
            Some(V::DoubleValue(d)) => Value::Float(*d),
            Some(V::BytesValue(b)) => Value::Bytes(Cow::Borrowed(b)),
            Some(V::ArrayValue(a)) => Value::List(Cow::Borrowed(&a.values)),
            Some(V::KvlistValue(m)) => Value::Map(Cow::Borrowed(&m.values)),
        }
    }

    /// An owned copy.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Nil => Value::Nil,
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Int(i),
            Value::Float(f) => Value::Float(f),
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Value::Bytes(b) => Value::Bytes(Cow::Owned(b.into_owned())),
            Value::Map(m) => Value::Map(Cow::Owned(m.into_owned())),
            Value::List(l) => Value::List(Cow::Owned(l.into_owned())),
            Value::Time(t) => Value::Time(t),
            Value::Duration(d) => Value::Duration(d),
        }
    }

    /// As an attribute value; `None` for nil. Times become their
    /// nanoseconds, durations too.
    pub fn into_any(self) -> Option<AnyValue> {
        use any_value::Value as V;
        let v = match self {
            Value::Nil => return None,
            Value::Bool(b) => V::BoolValue(b),
            Value::Int(i) | Value::Time(i) | Value::Duration(i) => V::IntValue(i),
            Value::Float(f) => V::DoubleValue(f),
            Value::Str(s) => V::StringValue(s.into_owned()),
            Value::Bytes(b) => V::BytesValue(b.into_owned()),
            Value::Map(m) => V::KvlistValue(KeyValueList {
                values: m.into_owned(),
            }),
            Value::List(l) => V::ArrayValue(ArrayValue {
                values: l.into_owned(),
            }),
        };
        Some(AnyValue { value: Some(v) })
    }

    /// The type's name, for errors.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int64",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::Map(_) => "map",
            Value::List(_) => "slice",
            Value::Time(_) => "time",
            Value::Duration(_) => "duration",
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Indexes a map by key or a list by position; nil when absent.
    pub fn index(self, key: &Value<'_>) -> Result<Value<'a>, String> {
        match (self, key) {
            (Value::Map(m), Value::Str(k)) => Ok(match m {
                Cow::Borrowed(m) => Value::of(find(m, k)),
                Cow::Owned(m) => Value::of(find(&m, k)).into_owned(),
            }),
            (Value::List(l), Value::Int(i)) => {
                let i = usize::try_from(*i).map_err(|_| format!("index {i} out of bounds"))?;
                match l {
                    Cow::Borrowed(l) => l
                        .get(i)
                        .map(|v| Value::of(Some(v)))
                        .ok_or_else(|| format!("index {i} out of bounds")),
                    Cow::Owned(l) => l
                        .get(i)
                        .map(|v| Value::of(Some(v)).into_owned())
                        .ok_or_else(|| format!("index {i} out of bounds")),
                }
            }
            (Value::Nil, _) => Ok(Value::Nil),
            (v, k) => Err(format!(
                "type {} does not support {} indexing",
                v.type_name(),
                k.type_name()
            )),
        }
    }
}

/// The last value of `key` in an attribute list (pcommon keeps one).
pub(super) fn find<'m>(map: &'m [KeyValue], key: &str) -> Option<&'m AnyValue> {
    map.iter()
        .rev()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}

/// Compares two values as OTTL does: numbers across int and float, strings,
/// bytes and bools by value; other types only for (in)equality; values of
/// different types are only "not equal".
pub fn compare(left: &Value<'_>, op: CmpOp, right: &Value<'_>) -> bool {
    use std::cmp::Ordering;
    let ordering: Option<Ordering> = match (left, right) {
        (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
        (Value::Float(a), Value::Float(b)) => a.partial_cmp(b),
        (Value::Int(a), Value::Float(b)) => (*a as f64).partial_cmp(b),
        (Value::Float(a), Value::Int(b)) => a.partial_cmp(&(*b as f64)),
        (Value::Str(a), Value::Str(b)) => Some(a.as_ref().cmp(b.as_ref())),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Bytes(a), Value::Bytes(b)) => Some(a.as_ref().cmp(b.as_ref())),
        (Value::Time(a), Value::Time(b)) | (Value::Duration(a), Value::Duration(b)) => {
            Some(a.cmp(b))
        }
        (Value::Nil, Value::Nil) => return op == CmpOp::Eq,
        (Value::Map(a), Value::Map(b)) => {
            let eq = maps_equal(a, b);
            return match op {
                CmpOp::Eq => eq,
                CmpOp::Ne => !eq,
                _ => false,
            };
        }
        (Value::List(a), Value::List(b)) => {
            let eq = a == b;
            return match op {
                CmpOp::Eq => eq,
                CmpOp::Ne => !eq,
                _ => false,
            };
        }
        _ => None,
    };
    match ordering {
        Some(o) => match op {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
        },
        // Different types (or NaN): only "not equal" holds.
        None => op == CmpOp::Ne,
    }
}

fn maps_equal(a: &[KeyValue], b: &[KeyValue]) -> bool {
    a.len() == b.len() && a.iter().all(|kv| find(b, &kv.key) == kv.value.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value<'static> {
        Value::Str(Cow::Owned(x.into()))
    }

    #[test]
    fn comparisons_follow_the_language_rules() {
        assert!(compare(&Value::Int(1), CmpOp::Lt, &Value::Float(1.5)));
        assert!(compare(&Value::Float(2.0), CmpOp::Eq, &Value::Int(2)));
        assert!(compare(&s("a"), CmpOp::Lt, &s("b")));
        assert!(compare(&Value::Bool(false), CmpOp::Lt, &Value::Bool(true)));
        assert!(compare(&Value::Nil, CmpOp::Eq, &Value::Nil));
        assert!(!compare(&Value::Nil, CmpOp::Ne, &Value::Nil));
        assert!(compare(&s("1"), CmpOp::Ne, &Value::Int(1)));
        assert!(!compare(&s("1"), CmpOp::Eq, &Value::Int(1)));
        assert!(!compare(&s("1"), CmpOp::Lt, &Value::Int(2)));
        assert!(compare(&Value::Nil, CmpOp::Ne, &s("x")));
        assert!(!compare(
            &Value::Float(f64::NAN),
            CmpOp::Eq,
            &Value::Float(f64::NAN)
        ));
    }
}
