//! A YAML value read with the Go collector's rule for empty values.
//!
//! Go decodes configs with mapstructure's `DecodeNil`: a key given with no
//! value (`start_at:`, `timeout: ~`) or an unset `${env:X}` sets the field
//! to its type's zero value (`""`, `0`, `false`, a zero duration) instead of
//! failing, while a section given empty (`tls:`) keeps its defaults and a
//! pointer (ferrotel's `Option`) stays unset. A list or a map given no
//! value keeps its default too (Go's `zeroSliceAndMapHookFunc`): serde
//! cannot tell a field's type from a null, so [`DefaultedNulls`] notes the
//! nulls read as lists or maps and the value is decoded again without
//! them. serde refuses a null where it
//! wants a string or a number, so configs Go takes (`endpoint:` left for a
//! Helm value to fill) would not load. [`GoValue`] is a deserializer over a
//! borrowed [`Value`] that answers a null with the zero value of whatever
//! the target asks for and otherwise defers to serde_yaml_ng, all the way
//! down nested maps and lists.
//!
//! Go also keeps the text of a whole-value `${env:X}` reference beside what
//! it parses to, and a string field gets the text: `X=0123` gives a header
//! `"0123"` but a port `123`. The resolver marks such values with
//! [`expanded`]; [`GoValue`] hands string targets the text and everything
//! else the parsed value.

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde_yaml_ng::value::{Tag, TaggedValue};
use serde_yaml_ng::{Error, Value};

/// The tag of an expansion whose text and parsed value differ; users do
/// not write it.
const EXPANDED: &str = "!ferrotel/expanded";

/// The value a whole-value reference expanded to `text` takes in the
/// config tree: `parsed` (the text read as YAML) where that is all a field
/// can see of it, else both, marked for [`GoValue`].
pub fn expanded(text: String, parsed: Value) -> Value {
    let same = match &parsed {
        Value::String(s) => *s == text,
        Value::Null => text.trim().is_empty(),
        Value::Mapping(_) | Value::Sequence(_) | Value::Tagged(_) => true,
        Value::Bool(_) | Value::Number(_) => false,
    };
    if same {
        return parsed;
    }
    Value::Tagged(Box::new(TaggedValue {
        tag: Tag::new(EXPANDED),
        value: Value::Sequence(vec![Value::String(text), parsed]),
    }))
}

/// The text and the parsed value of a marked expansion.
fn expansion(value: &Value) -> Option<(&str, &Value)> {
    let Value::Tagged(tagged) = value else {
        return None;
    };
    if tagged.tag != Tag::new(EXPANDED) {
        return None;
    }
    match &tagged.value {
        Value::Sequence(parts) => match parts.as_slice() {
            [Value::String(text), parsed] => Some((text, parsed)),
            _ => None,
        },
        _ => None,
    }
}

/// The tree with each marked expansion replaced by its parsed value, for
/// printing the effective config.
pub fn without_expansions(value: Value) -> Value {
    match value {
        Value::Mapping(map) => Value::Mapping(
            map.into_iter()
                .map(|(k, v)| (k, without_expansions(v)))
                .collect(),
        ),
        Value::Sequence(items) => {
            Value::Sequence(items.into_iter().map(without_expansions).collect())
        }
        Value::Tagged(tagged) if tagged.tag == Tag::new(EXPANDED) => match tagged.value {
            Value::Sequence(mut parts) if parts.len() == 2 => parts.pop().unwrap_or(Value::Null),
            other => other,
        },
        other => other,
    }
}

/// A config value to deserialize with Go's handling of nulls.
#[derive(Clone, Copy)]
pub struct GoValue<'a> {
    value: &'a Value,
    /// Whether a [`Value`] target keeps an expansion's mark, for trees
    /// whose parts are decoded again later.
    keep_marks: bool,
    /// Where to note the nulls read as a list or a map, when asked.
    defaults: Option<&'a DefaultedNulls>,
}

/// The nulls a decoding read as a list or a map, by address in the tree:
/// Go keeps the default of such a field, so [`crate::config::decode_strict`]
/// decodes again without them.
#[derive(Default)]
pub struct DefaultedNulls(std::cell::RefCell<Vec<usize>>);

impl DefaultedNulls {
    fn note(&self, value: &Value) {
        self.0.borrow_mut().push(value as *const Value as usize);
    }

    /// Whether any was noted.
    pub fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }

    /// `tree` without the noted map entries.
    pub fn prune(&self, tree: &Value) -> Value {
        let noted = self.0.borrow();
        fn walk(value: &Value, noted: &[usize]) -> Value {
            match value {
                Value::Mapping(map) => Value::Mapping(
                    map.iter()
                        .filter(|(_, v)| !noted.contains(&(*v as *const Value as usize)))
                        .map(|(k, v)| (k.clone(), walk(v, noted)))
                        .collect(),
                ),
                Value::Sequence(items) => {
                    Value::Sequence(items.iter().map(|v| walk(v, noted)).collect())
                }
                other => other.clone(),
            }
        }
        walk(tree, &noted)
    }
}

impl<'a> GoValue<'a> {
    /// A value whose targets are a component's settings: a [`Value`]
    /// target (a setting of any type) gets an expansion's parsed value.
    pub fn new(value: &'a Value) -> GoValue<'a> {
        GoValue {
            value,
            keep_marks: false,
            defaults: None,
        }
    }

    /// A value whose [`Value`] targets are decoded again later (the
    /// service's top level, which hands each section to a component), so
    /// they keep expansions marked.
    pub fn keeping_marks(value: &'a Value) -> GoValue<'a> {
        GoValue {
            value,
            keep_marks: true,
            defaults: None,
        }
    }

    /// The same value, noting in `defaults` the nulls read as a list or
    /// a map.
    pub fn noting(self, defaults: &'a DefaultedNulls) -> GoValue<'a> {
        GoValue {
            defaults: Some(defaults),
            ..self
        }
    }

    /// The same rule for a value inside this one.
    fn inner(self, value: &'a Value) -> GoValue<'a> {
        GoValue { value, ..self }
    }

    /// The value as a target other than a string sees it.
    fn plain(self) -> &'a Value {
        expansion(self.value).map_or(self.value, |(_, parsed)| parsed)
    }
}

/// Decodes `value` into `T` with Go's null rule, without the unknown-key
/// check of [`crate::config::decode_strict`]; for parts a component decodes
/// itself, such as each entry of file_log's `operators`.
pub fn from_go_value<'a, T: serde::Deserialize<'a>>(value: &'a Value) -> Result<T, Error> {
    T::deserialize(GoValue::new(value))
}

/// Forwards a scalar request: a null gives `$zero` to `$visit`, anything
/// else goes to serde_yaml_ng's own deserializer of the value.
macro_rules! zero_when_null {
    ($($method:ident => $visit:ident($zero:expr)),* $(,)?) => {
        $(
            fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
                match self.plain() {
                    Value::Null => visitor.$visit($zero),
                    other => other.$method(visitor),
                }
            }
        )*
    };
}

impl<'a> Deserializer<'a> for GoValue<'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.keep_marks && expansion(self.value).is_some() {
            // serde_yaml_ng hands a tagged value to a `Value` as itself.
            return self.value.deserialize_any(visitor);
        }
        match self.plain() {
            Value::Mapping(map) => visitor.visit_map(Entries::of(self, map)),
            Value::Sequence(items) => visitor.visit_seq(Items::of(self, items)),
            other => other.deserialize_any(visitor),
        }
    }

    zero_when_null! {
        deserialize_bool => visit_bool(false),
        deserialize_i8 => visit_i64(0),
        deserialize_i16 => visit_i64(0),
        deserialize_i32 => visit_i64(0),
        deserialize_i64 => visit_i64(0),
        deserialize_i128 => visit_i64(0),
        deserialize_u8 => visit_u64(0),
        deserialize_u16 => visit_u64(0),
        deserialize_u32 => visit_u64(0),
        deserialize_u64 => visit_u64(0),
        deserialize_u128 => visit_u64(0),
        deserialize_f32 => visit_f64(0.0),
        deserialize_f64 => visit_f64(0.0),
        deserialize_bytes => visit_bytes(&[]),
        deserialize_byte_buf => visit_bytes(&[]),
    }

    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match (expansion(self.value), self.value) {
            (Some((text, _)), _) => visitor.visit_str(text),
            (None, Value::Null) => visitor.visit_str(""),
            (None, other) => other.deserialize_str(visitor),
        }
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_char<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        self.plain().deserialize_char(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        // An expansion that parses to null leaves a pointer unset in Go.
        match self.plain() {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        self.plain().deserialize_unit(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.plain().deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.plain() {
            Value::Null => {
                if let Some(d) = self.defaults {
                    d.note(self.value);
                }
                visitor.visit_seq(Items::of(self, &[]))
            }
            Value::Sequence(items) => visitor.visit_seq(Items::of(self, items)),
            other => other.deserialize_seq(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.plain() {
            // An empty section keeps the defaults of what it holds.
            Value::Null => {
                if let Some(d) = self.defaults {
                    d.note(self.value);
                }
                visitor.visit_map(Entries {
                    rule: self,
                    iter: None,
                    value: None,
                })
            }
            Value::Mapping(map) => visitor.visit_map(Entries::of(self, map)),
            other => other.deserialize_map(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.plain().deserialize_enum(name, variants, visitor)
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        self.plain().deserialize_identifier(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

impl<'a> IntoDeserializer<'a, Error> for GoValue<'a> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

/// The entries of a mapping, each key and value read as a [`GoValue`].
struct Entries<'a> {
    /// The value holding them, whose rule they follow.
    rule: GoValue<'a>,
    /// None for a null read as an empty map.
    iter: Option<serde_yaml_ng::mapping::Iter<'a>>,
    value: Option<&'a Value>,
}

impl<'a> Entries<'a> {
    fn of(rule: GoValue<'a>, map: &'a serde_yaml_ng::Mapping) -> Entries<'a> {
        Entries {
            rule,
            iter: Some(map.iter()),
            value: None,
        }
    }
}

impl<'a> MapAccess<'a> for Entries<'a> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.iter.as_mut().and_then(Iterator::next) {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(self.rule.inner(key)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'a>>(&mut self, seed: S) -> Result<S::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(self.rule.inner(value)),
            None => Err(de::Error::custom(
                "a map value was asked for before its key",
            )),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.as_ref().map_or(0, ExactSizeIterator::len))
    }
}

/// The items of a sequence, each read as a [`GoValue`].
struct Items<'a> {
    rule: GoValue<'a>,
    iter: std::slice::Iter<'a, Value>,
}

impl<'a> Items<'a> {
    fn of(rule: GoValue<'a>, items: &'a [Value]) -> Items<'a> {
        Items {
            rule,
            iter: items.iter(),
        }
    }
}

impl<'a> SeqAccess<'a> for Items<'a> {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'a>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        self.iter
            .next()
            .map(|v| seed.deserialize(self.rule.inner(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

#[cfg(test)]
mod tests {
    use super::{GoValue, expanded, from_go_value, without_expansions};
    use crate::config::GoDuration;
    use serde::Deserialize;
    use serde_yaml_ng::Value;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(default)]
    struct Section {
        name: String,
        size: u32,
        ratio: f64,
        on: bool,
        wait: GoDuration,
        tags: Vec<String>,
        headers: BTreeMap<String, String>,
        inner: Inner,
        maybe: Option<String>,
    }

    impl Default for Section {
        fn default() -> Section {
            Section {
                name: "default".into(),
                size: 7,
                ratio: 0.5,
                on: true,
                wait: GoDuration::secs(5),
                tags: vec!["a".into()],
                headers: BTreeMap::new(),
                inner: Inner::default(),
                maybe: Some("set".into()),
            }
        }
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(default)]
    struct Inner {
        depth: u32,
    }

    impl Default for Inner {
        fn default() -> Inner {
            Inner { depth: 3 }
        }
    }

    fn decode(yaml: &str) -> Section {
        let value: Value = serde_yaml_ng::from_str(yaml).unwrap();
        from_go_value(&value).unwrap()
    }

    #[test]
    fn a_key_without_a_value_is_the_zero_of_its_type_and_a_section_keeps_its_defaults() {
        let s = decode("{name: , size: , ratio: , on: , wait: , headers: , inner: , maybe: }");
        assert_eq!(s.name, "");
        assert_eq!(s.size, 0);
        assert_eq!(s.ratio, 0.0);
        assert!(!s.on);
        assert_eq!(s.wait, GoDuration::secs(0));
        assert!(s.headers.is_empty());
        assert_eq!(s.inner, Inner { depth: 3 });
        assert_eq!(s.maybe, None);
        let s = decode("{headers: {a: }, inner: {depth: }}");
        assert_eq!(s.headers["a"], "");
        assert_eq!(s.inner.depth, 0);
        // Absent keys keep their defaults.
        assert_eq!(decode("{}"), Section::default());
    }

    #[test]
    fn a_list_or_map_given_no_value_keeps_its_default_as_in_go() {
        let value: Value = serde_yaml_ng::from_str("{tags: , inner: , size: }").unwrap();
        let s: Section = crate::config::decode_strict(&value).unwrap();
        assert_eq!(s.tags, ["a"]);
        assert_eq!(s.inner, Inner { depth: 3 });
        assert_eq!(s.size, 0, "a scalar still takes its zero");
        let value: Value = serde_yaml_ng::from_str("{tags: [], size: 2}").unwrap();
        let s: Section = crate::config::decode_strict(&value).unwrap();
        assert!(s.tags.is_empty(), "an empty list is kept as given");
    }

    #[test]
    fn an_expansion_gives_strings_its_text_and_other_types_its_value() {
        let value = Value::Mapping(
            [
                ("name", expanded("0123".into(), Value::Number(123.into()))),
                ("size", expanded("0123".into(), Value::Number(123.into()))),
                ("on", expanded("true".into(), Value::Bool(true))),
                ("maybe", expanded("~".into(), Value::Null)),
            ]
            .into_iter()
            .map(|(k, v)| (Value::String(k.into()), v))
            .collect(),
        );
        let s: Section = from_go_value(&value).unwrap();
        assert_eq!(s.name, "0123");
        assert_eq!(s.size, 123);
        assert!(s.on);
        assert_eq!(s.maybe, None);
        // A field of any type sees the parsed value, and so does print-config.
        let any = Value::deserialize(GoValue::new(&value["on"])).unwrap();
        assert_eq!(any, Value::Bool(true));
        // Unless the tree is decoded again later.
        let kept = Value::deserialize(GoValue::keeping_marks(&value)).unwrap();
        assert_eq!(kept, value);
        assert_eq!(without_expansions(value)["name"], Value::Number(123.into()));
        // Text that reads back as itself needs no mark.
        assert_eq!(
            expanded("abc".into(), Value::String("abc".into())),
            Value::String("abc".into())
        );
        assert_eq!(expanded(String::new(), Value::Null), Value::Null);
    }
}
