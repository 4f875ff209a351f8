//! The entry operators work on, and the field paths that name its parts.
//!
//! An entry is a log record in the making: a body, attributes and resource
//! attributes, a timestamp and a severity. Fields are written as in stanza:
//! `body`, `body.message`, `attributes.time`, `attributes["log.file.name"]`,
//! `resource["k8s.pod.name"]`; a dotted path walks into nested maps.

use std::fmt;

/// A value in a body or an attribute.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) enum Value {
    /// Text.
    Str(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A whole number.
    Int(i64),
    /// A floating-point number.
    Double(f64),
    /// A boolean.
    Bool(bool),
    /// An ordered map.
    Map(Map),
    /// A list.
    Array(Vec<Value>),
    /// Nothing.
    #[default]
    Null,
}

/// A map that keeps insertion order; maps in log records are small, and a
/// vector beats hashing for them.
pub(crate) type Map = Vec<(String, Value)>;

impl Value {
    /// The value as text, as stanza renders a value it must parse.
    pub(crate) fn to_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        use std::borrow::Cow;
        match self {
            Value::Str(s) => Some(Cow::Borrowed(s)),
            Value::Bytes(b) => Some(String::from_utf8_lossy(b)),
            Value::Int(i) => Some(Cow::Owned(i.to_string())),
            Value::Double(d) => Some(Cow::Owned(d.to_string())),
            Value::Bool(b) => Some(Cow::Owned(b.to_string())),
            Value::Map(_) | Value::Array(_) | Value::Null => None,
        }
    }

    /// A value from YAML config (`add`'s `value`).
    pub(crate) fn from_yaml(v: &serde_yaml_ng::Value) -> Value {
        use serde_yaml_ng::Value as Y;
        match v {
            Y::Null => Value::Null,
            Y::Bool(b) => Value::Bool(*b),
            Y::Number(n) => n
                .as_i64()
                .map(Value::Int)
                .unwrap_or_else(|| Value::Double(n.as_f64().unwrap_or(0.0))),
            Y::String(s) => Value::Str(s.clone()),
            Y::Sequence(items) => Value::Array(items.iter().map(Value::from_yaml).collect()),
            Y::Mapping(m) => Value::Map(
                m.iter()
                    .map(|(k, v)| {
                        let key = crate::encode::scalar_text(k).unwrap_or_default();
                        (key, Value::from_yaml(v))
                    })
                    .collect(),
            ),
            Y::Tagged(t) => Value::from_yaml(&t.value),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    /// Parses JSON (or YAML) straight into a value, without an
    /// intermediate tree.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
                Ok(Value::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
                Ok(Value::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
                Ok(i64::try_from(v).map_or(Value::Double(v as f64), Value::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
                Ok(Value::Double(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Value, E> {
                Ok(Value::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Value, E> {
                Ok(Value::Str(v))
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(v) = seq.next_element()? {
                    items.push(v);
                }
                Ok(Value::Array(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Value, A::Error> {
                let mut out = Map::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(Value::Map(out))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// One log record being built.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Entry {
    /// When the event happened (ns since the epoch), 0 when unknown.
    pub(crate) timestamp: u64,
    /// When it was read.
    pub(crate) observed: u64,
    /// OTLP severity number, 0 when unset.
    pub(crate) severity: i32,
    /// The severity as the source wrote it.
    pub(crate) severity_text: String,
    /// The body.
    pub(crate) body: Value,
    /// Record attributes.
    pub(crate) attributes: Map,
    /// Resource attributes.
    pub(crate) resource: Map,
    /// Trace id, 16 bytes or empty.
    pub(crate) trace_id: Vec<u8>,
    /// Span id, 8 bytes or empty.
    pub(crate) span_id: Vec<u8>,
    /// Trace flags.
    pub(crate) flags: u32,
    /// Where in which file the entry began, while operators may hold it:
    /// a file's checkpoint must not pass an entry not yet sent.
    pub(crate) origin: Option<Origin>,
}

/// A file (device, inode) and the offset of an entry's first byte in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Origin {
    /// The file's device and inode.
    pub(crate) file: (u64, u64),
    /// Where the entry starts.
    pub(crate) offset: u64,
}

/// Which part of an entry a field starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    /// `body`
    Body,
    /// `attributes`
    Attributes,
    /// `resource`
    Resource,
}

/// A field path: a root and the keys below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    /// Where the path starts.
    pub(crate) root: Root,
    /// Keys, outermost first.
    pub(crate) keys: Vec<String>,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.root {
            Root::Body => "body",
            Root::Attributes => "attributes",
            Root::Resource => "resource",
        })?;
        for k in &self.keys {
            if k.contains('.') {
                write!(f, "[\"{k}\"]")?;
            } else {
                write!(f, ".{k}")?;
            }
        }
        Ok(())
    }
}

impl Field {
    /// Parses `attributes.a.b`, `attributes["a.b"]`, `body`, `resource.x`.
    pub(crate) fn parse(s: &str) -> Result<Field, String> {
        let s = s.trim();
        let (root, mut rest) = [
            ("body", Root::Body),
            ("attributes", Root::Attributes),
            ("resource", Root::Resource),
        ]
        .into_iter()
        .find_map(|(name, root)| s.strip_prefix(name).map(|rest| (root, rest)))
        .ok_or_else(|| {
            format!(
                "unrecognized prefix in field {s:?}: fields start with body, attributes or resource"
            )
        })?;
        let mut keys = Vec::new();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                let end = r.find(['.', '[']).unwrap_or(r.len());
                if end == 0 {
                    return Err(format!("empty key in field {s:?}"));
                }
                keys.push(r[..end].to_owned());
                rest = &r[end..];
            } else if let Some(r) = rest.strip_prefix('[') {
                let quote = r.chars().next().filter(|c| *c == '"' || *c == '\'');
                let Some(q) = quote else {
                    return Err(format!("keys in brackets must be quoted in field {s:?}"));
                };
                let r = &r[1..];
                let close = r
                    .find(q)
                    .ok_or_else(|| format!("unterminated quote in field {s:?}"))?;
                keys.push(r[..close].to_owned());
                rest = r[close + 1..]
                    .strip_prefix(']')
                    .ok_or_else(|| format!("missing ] in field {s:?}"))?;
            } else {
                return Err(format!("unexpected {rest:?} in field {s:?}"));
            }
        }
        Ok(Field { root, keys })
    }

    /// True for a top-level `attributes` or `resource` (the whole map).
    fn is_whole_map(&self) -> bool {
        self.root != Root::Body && self.keys.is_empty()
    }

    /// The value at this field.
    pub(crate) fn get<'a>(&self, e: &'a Entry) -> Option<&'a Value> {
        let (map, keys) = match self.root {
            Root::Body => {
                let mut v = &e.body;
                for k in &self.keys {
                    v = map_get(as_map(v)?, k)?;
                }
                return Some(v);
            }
            Root::Attributes => (&e.attributes, &self.keys[..]),
            Root::Resource => (&e.resource, &self.keys[..]),
        };
        let (first, rest) = keys.split_first()?;
        let mut v = map_get(map, first)?;
        for k in rest {
            v = map_get(as_map(v)?, k)?;
        }
        Some(v)
    }

    /// Sets the field, creating maps on the way.
    pub(crate) fn set(&self, e: &mut Entry, value: Value) {
        let map = match self.root {
            Root::Body => {
                if self.keys.is_empty() {
                    e.body = value;
                    return;
                }
                if !matches!(e.body, Value::Map(_)) {
                    e.body = Value::Map(Vec::new());
                }
                let Value::Map(m) = &mut e.body else {
                    return;
                };
                m
            }
            Root::Attributes => &mut e.attributes,
            Root::Resource => &mut e.resource,
        };
        if self.is_whole_map() {
            // As in stanza, a map set on `attributes` or `resource` is
            // merged into what is there.
            if let Value::Map(m) = value {
                for (k, v) in m {
                    match map.iter_mut().find(|(key, _)| *key == k) {
                        Some(slot) => slot.1 = v,
                        None => map.push((k, v)),
                    }
                }
            }
            return;
        }
        let mut map = map;
        let (last, path) = self.keys.split_last().expect("not a whole map");
        for k in path {
            let idx = match map.iter().position(|(key, _)| key == k) {
                Some(i) => {
                    if !matches!(map[i].1, Value::Map(_)) {
                        map[i].1 = Value::Map(Vec::new());
                    }
                    i
                }
                None => {
                    map.push((k.clone(), Value::Map(Vec::new())));
                    map.len() - 1
                }
            };
            let Value::Map(next) = &mut map[idx].1 else {
                return;
            };
            map = next;
        }
        match map.iter_mut().find(|(k, _)| k == last) {
            Some(slot) => slot.1 = value,
            None => map.push((last.clone(), value)),
        }
    }

    /// Removes the field and returns what it held.
    pub(crate) fn delete(&self, e: &mut Entry) -> Option<Value> {
        let map = match self.root {
            Root::Body => {
                if self.keys.is_empty() {
                    return Some(std::mem::take(&mut e.body));
                }
                match &mut e.body {
                    Value::Map(m) => m,
                    _ => return None,
                }
            }
            Root::Attributes => &mut e.attributes,
            Root::Resource => &mut e.resource,
        };
        if self.is_whole_map() {
            return Some(Value::Map(std::mem::take(map)));
        }
        let (last, path) = self.keys.split_last()?;
        let mut map = map;
        for k in path {
            map = match map.iter_mut().find(|(key, _)| key == k) {
                Some((_, Value::Map(m))) => m,
                _ => return None,
            };
        }
        let idx = map.iter().position(|(k, _)| k == last)?;
        Some(map.remove(idx).1)
    }
}

fn as_map(v: &Value) -> Option<&Map> {
    match v {
        Value::Map(m) => Some(m),
        _ => None,
    }
}

fn map_get<'a>(m: &'a Map, key: &str) -> Option<&'a Value> {
    m.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_parse_in_both_syntaxes() {
        let f = Field::parse("attributes[\"k8s.pod.name\"]").unwrap();
        assert_eq!(f.root, Root::Attributes);
        assert_eq!(f.keys, ["k8s.pod.name"]);
        let f = Field::parse("body.a.b").unwrap();
        assert_eq!((f.root, f.keys.len()), (Root::Body, 2));
        assert_eq!(
            Field::parse("resource['x.y'].z").unwrap().keys,
            ["x.y", "z"]
        );
        assert!(Field::parse("record.x").is_err());
        assert!(Field::parse("attributes[x]").is_err());
        assert_eq!(
            Field::parse("attributes[\"a.b\"].c").unwrap().to_string(),
            "attributes[\"a.b\"].c"
        );
    }

    #[test]
    fn set_get_delete_walk_nested_maps() {
        let mut e = Entry::default();
        let f = Field::parse("attributes.a.b").unwrap();
        f.set(&mut e, Value::Int(1));
        assert_eq!(f.get(&e), Some(&Value::Int(1)));
        let body = Field::parse("body.msg").unwrap();
        body.set(&mut e, Value::Str("hi".into()));
        assert!(matches!(
            Field::parse("body").unwrap().get(&e),
            Some(Value::Map(_))
        ));
        assert_eq!(f.delete(&mut e), Some(Value::Int(1)));
        assert_eq!(f.get(&e), None);
        assert_eq!(body.delete(&mut e), Some(Value::Str("hi".into())));
    }
}
