//! Attribute actions, as the Go collector's `internal/coreinternal/
//! attraction` (contrib v0.165) defines them for the `attributes` and
//! `resource` processors: `insert` (only when the key is absent), `update`
//! (only when present), `upsert`, `delete` (the key and every key matching
//! `pattern`), `hash` (SHA-256 hex of the value's bytes, as Go's
//! `sha2Hasher` takes them), `extract` (named regex groups become
//! attributes) and `convert` (`int`, `double`, `string`). Values come from
//! `value`, `from_attribute`, `from_context` (`metadata.<key>`,
//! `client.address`, or a metadata key; several values joined with `;`)
//! or `default_value`. Errors are Go's, word for word.

use ferrotel_core::consumer::ClientInfo;
use ferrotel_core::pdata::common::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value};
use ferrotel_core::pdata::go;
use regex::Regex;
use serde::Deserialize;
use serde_yaml_ng::Value as Yaml;

/// One entry of `actions`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ActionConfig {
    /// The attribute acted on.
    pub key: String,
    /// A literal value.
    pub value: Option<Yaml>,
    /// The value when no other source has one.
    pub default_value: Option<Yaml>,
    /// A regex: keys to delete or hash, or named groups to extract.
    pub pattern: String,
    /// Take the value of this attribute.
    pub from_attribute: String,
    /// Take the value from the request's context.
    pub from_context: String,
    /// `int`, `double` or `string`, for `convert`.
    pub converted_type: String,
    /// What to do.
    pub action: String,
}

#[derive(Debug)]
enum Source {
    Value(AnyValue),
    Attribute(String),
    Context(String),
}

#[derive(Debug)]
enum Kind {
    Insert,
    Update,
    Upsert,
    Delete,
    Hash,
    Extract,
    Convert(Conversion),
}

#[derive(Debug, Clone, Copy)]
enum Conversion {
    Int,
    Double,
    String,
}

#[derive(Debug)]
struct Action {
    key: String,
    kind: Kind,
    source: Option<Source>,
    default: Option<AnyValue>,
    regex: Option<Regex>,
}

/// Compiled actions.
#[derive(Debug)]
pub struct AttrProc {
    actions: Vec<Action>,
}

/// A YAML value as an attribute value (`pcommon.Value.FromRaw`).
pub fn yaml_to_any(v: &Yaml) -> Result<AnyValue, String> {
    use any_value::Value as V;
    let value = match v {
        Yaml::Null => None,
        Yaml::Bool(b) => Some(V::BoolValue(*b)),
        Yaml::Number(n) => Some(match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => V::IntValue(i),
            (None, Some(f)) => V::DoubleValue(f),
            _ => return Err(format!("unsupported number {n}")),
        }),
        Yaml::String(s) => Some(V::StringValue(s.clone())),
        Yaml::Sequence(items) => Some(V::ArrayValue(ArrayValue {
            values: items.iter().map(yaml_to_any).collect::<Result<_, _>>()?,
        })),
        Yaml::Mapping(m) => Some(V::KvlistValue(KeyValueList {
            values: m
                .iter()
                .map(|(k, v)| {
                    Ok(KeyValue {
                        key: k
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| format!("{k:?}")),
                        value: Some(yaml_to_any(v)?),
                        ..KeyValue::default()
                    })
                })
                .collect::<Result<_, String>>()?,
        })),
        Yaml::Tagged(t) => return yaml_to_any(&t.value),
    };
    Ok(AnyValue { value })
}

impl AttrProc {
    /// Compiles `actions`, refusing what Go refuses.
    pub fn new(actions: &[ActionConfig]) -> Result<AttrProc, String> {
        let mut out = Vec::with_capacity(actions.len());
        for (i, a) in actions.iter().enumerate() {
            let name = a.action.to_lowercase();
            let key = &a.key;
            let at = |what: &str| format!("error with key {key:?} ({i}-th action): {what}");
            match name.as_str() {
                "delete" | "hash" => {
                    if a.key.is_empty() && a.pattern.is_empty() {
                        return Err(format!(
                            "error creating AttrProc due to missing required field (at least one of \"key\" and \"pattern\" have to be used) at the {i}-th action"
                        ));
                    }
                }
                _ => {
                    if a.key.is_empty() {
                        return Err(format!(
                            "error creating AttrProc due to missing required field \"key\" at the {i}-th action"
                        ));
                    }
                }
            }
            let sources = usize::from(a.value.is_some())
                + usize::from(!a.from_attribute.is_empty())
                + usize::from(!a.from_context.is_empty());
            let regex = |pattern: &str| {
                ferrotel_goregex::compile(pattern).map_err(|_| {
                    at(&format!("error creating AttrProc. Field \"pattern\" has invalid pattern: \"{pattern}\""))
                })
            };
            let mut action = Action {
                key: a.key.clone(),
                kind: Kind::Insert,
                source: None,
                default: None,
                regex: None,
            };
            match name.as_str() {
                "insert" | "update" | "upsert" => {
                    action.kind = match name.as_str() {
                        "insert" => Kind::Insert,
                        "update" => Kind::Update,
                        _ => Kind::Upsert,
                    };
                    if sources == 0 && a.default_value.is_none() {
                        return Err(at(
                            "error creating AttrProc. Either field \"value\", \"from_attribute\", \"from_context\", or \"default_value\" must be specified",
                        ));
                    }
                    if sources > 1 {
                        return Err(at(
                            "error creating AttrProc due to multiple value sources being set",
                        ));
                    }
                    if !a.pattern.is_empty() {
                        return Err(at(&format!(
                            "error creating AttrProc. Action \"{name}\" does not use the \"pattern\" field. This must not be specified"
                        )));
                    }
                    if !a.converted_type.is_empty() {
                        return Err(at(&format!(
                            "error creating AttrProc. Action \"{name}\" does not use the \"converted_type\" field. This must not be specified"
                        )));
                    }
                    action.source = if let Some(v) = &a.value {
                        Some(Source::Value(yaml_to_any(v)?))
                    } else if !a.from_context.is_empty() {
                        Some(Source::Context(a.from_context.clone()))
                    } else if !a.from_attribute.is_empty() {
                        Some(Source::Attribute(a.from_attribute.clone()))
                    } else {
                        None
                    };
                    if let Some(d) = &a.default_value {
                        action.default = Some(yaml_to_any(d).map_err(|e| {
                            at(&format!(
                                "error creating AttrProc due to invalid default value: {e}"
                            ))
                        })?);
                    }
                }
                "delete" | "hash" => {
                    action.kind = if name == "delete" {
                        Kind::Delete
                    } else {
                        Kind::Hash
                    };
                    if a.value.is_some() || !a.from_attribute.is_empty() {
                        return Err(at(&format!(
                            "error creating AttrProc. Action \"{name}\" does not use \"value\" or \"from_attribute\" field. These must not be specified"
                        )));
                    }
                    if !a.pattern.is_empty() {
                        action.regex = Some(regex(&a.pattern)?);
                    }
                    if !a.converted_type.is_empty() {
                        return Err(at(&format!(
                            "error creating AttrProc. Action \"{name}\" does not use the \"converted_type\" field. This must not be specified"
                        )));
                    }
                }
                "extract" => {
                    action.kind = Kind::Extract;
                    if sources > 0 {
                        return Err(at(&format!(
                            "error creating AttrProc. Action \"{name}\" does not use a value source field. These must not be specified"
                        )));
                    }
                    if a.pattern.is_empty() {
                        return Err(at(&format!(
                            "error creating AttrProc due to missing required field \"pattern\" for action \"{name}\""
                        )));
                    }
                    if !a.converted_type.is_empty() {
                        return Err(at(&format!(
                            "error creating AttrProc. Action \"{name}\" does not use the \"converted_type\" field. This must not be specified"
                        )));
                    }
                    let r = regex(&a.pattern)?;
                    let names: Vec<Option<&str>> = r.capture_names().skip(1).collect();
                    if names.is_empty() {
                        return Err(at(
                            "error creating AttrProc. Field \"pattern\" contains no named matcher groups",
                        ));
                    }
                    if names.iter().any(Option::is_none) {
                        return Err(at(
                            "error creating AttrProc. Field \"pattern\" contains at least one unnamed matcher group",
                        ));
                    }
                    action.regex = Some(r);
                }
                "convert" => {
                    if sources > 0 || !a.pattern.is_empty() {
                        return Err(at(&format!(
                            "error creating AttrProc. Action \"{name}\" does not use value sources or \"pattern\" field. These must not be specified"
                        )));
                    }
                    action.kind = Kind::Convert(match a.converted_type.as_str() {
                        "int" => Conversion::Int,
                        "double" => Conversion::Double,
                        "string" => Conversion::String,
                        "" => {
                            return Err(at(&format!(
                                "error creating AttrProc due to missing required field \"converted_type\" for action \"{name}\""
                            )));
                        }
                        other => {
                            return Err(at(&format!(
                                "error creating AttrProc due to invalid value \"{other}\" in field \"converted_type\" for action \"{name}\""
                            )));
                        }
                    });
                }
                other => {
                    return Err(at(&format!(
                        "error creating AttrProc due to unsupported action \"{other}\""
                    )));
                }
            }
            out.push(action);
        }
        Ok(AttrProc { actions: out })
    }

    /// Applies the actions in order to one attribute list.
    pub fn process(&self, attrs: &mut Vec<KeyValue>, client: &ClientInfo) {
        for a in &self.actions {
            match &a.kind {
                Kind::Delete => {
                    attrs.retain(|kv| {
                        kv.key != a.key && !a.regex.as_ref().is_some_and(|r| r.is_match(&kv.key))
                    });
                }
                Kind::Insert | Kind::Update | Kind::Upsert => {
                    let Some(value) = source_value(a, attrs, client) else {
                        continue;
                    };
                    let present = attrs.iter().position(|kv| kv.key == a.key);
                    match (&a.kind, present) {
                        (Kind::Insert, None) | (Kind::Upsert, None) => attrs.push(KeyValue {
                            key: a.key.clone(),
                            value: Some(value),
                            ..KeyValue::default()
                        }),
                        (Kind::Update | Kind::Upsert, Some(i)) => attrs[i].value = Some(value),
                        _ => {}
                    }
                }
                Kind::Hash => {
                    for kv in attrs.iter_mut() {
                        if kv.key == a.key || a.regex.as_ref().is_some_and(|r| r.is_match(&kv.key))
                        {
                            hash(kv);
                        }
                    }
                }
                Kind::Extract => {
                    let Some(text) =
                        attrs.iter().find(|kv| kv.key == a.key).and_then(|kv| {
                            match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                                Some(any_value::Value::StringValue(s)) => Some(s.clone()),
                                _ => None,
                            }
                        })
                    else {
                        continue;
                    };
                    let r = a.regex.as_ref().expect("extract has a pattern");
                    if let Some(caps) = r.captures(&text) {
                        for rust_name in r.capture_names().flatten() {
                            let value = caps.name(rust_name).map_or("", |m| m.as_str()).to_string();
                            let name = ferrotel_goregex::go_name(rust_name);
                            let value = Some(AnyValue {
                                value: Some(any_value::Value::StringValue(value)),
                            });
                            match attrs.iter_mut().find(|kv| kv.key == name) {
                                Some(kv) => kv.value = value,
                                None => attrs.push(KeyValue {
                                    key: name.to_string(),
                                    value,
                                    ..KeyValue::default()
                                }),
                            }
                        }
                    }
                }
                Kind::Convert(to) => {
                    if let Some(kv) = attrs.iter_mut().find(|kv| kv.key == a.key) {
                        convert(kv, *to);
                    }
                }
            }
        }
    }
}

fn source_value(a: &Action, attrs: &[KeyValue], client: &ClientInfo) -> Option<AnyValue> {
    let found = match &a.source {
        Some(Source::Value(v)) => return Some(v.clone()),
        Some(Source::Context(key)) => from_context(key, client),
        Some(Source::Attribute(key)) => attrs
            .iter()
            .find(|kv| &kv.key == key)
            .map(|kv| kv.value.clone().unwrap_or_default()),
        None => None,
    };
    found.or_else(|| a.default.clone())
}

fn from_context(key: &str, client: &ClientInfo) -> Option<AnyValue> {
    let values: Vec<String> = if key == "client.address" {
        client
            .addr
            .map(|a| a.ip().to_string())
            .into_iter()
            .collect()
    } else if key.starts_with("auth.") {
        // ferrotel has no authenticators: no auth data to read.
        Vec::new()
    } else {
        let key = key.strip_prefix("metadata.").unwrap_or(key);
        client.get(key).map(str::to_string).collect()
    };
    if values.is_empty() {
        return None;
    }
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(values.join(";"))),
    })
}

fn hash(kv: &mut KeyValue) {
    use any_value::Value as V;
    use sha2::Digest;
    let digest = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(V::StringValue(s)) => Some(sha2::Sha256::digest(s.as_bytes())),
        Some(V::BoolValue(b)) => Some(sha2::Sha256::digest([u8::from(*b)])),
        Some(V::IntValue(i)) => Some(sha2::Sha256::digest(i.to_le_bytes())),
        Some(V::DoubleValue(d)) => Some(sha2::Sha256::digest(d.to_bits().to_le_bytes())),
        _ => None,
    };
    let text = digest.map_or_else(String::new, |d| ferrotel_core::hex::encode(&d));
    kv.value = Some(AnyValue {
        value: Some(V::StringValue(text)),
    });
}

fn convert(kv: &mut KeyValue, to: Conversion) {
    use any_value::Value as V;
    let Some(v) = kv.value.as_mut() else { return };
    let new = match (to, v.value.as_ref()) {
        (Conversion::String, Some(V::StringValue(_))) => return,
        (Conversion::String, other) => {
            let mut s = String::new();
            go::as_string(other, &mut s);
            V::StringValue(s)
        }
        (Conversion::Int, Some(V::DoubleValue(d))) => V::IntValue(*d as i64),
        (Conversion::Int, Some(V::BoolValue(b))) => V::IntValue((*b).into()),
        (Conversion::Int, Some(V::StringValue(s))) => match s.parse() {
            Ok(i) => V::IntValue(i),
            Err(_) => return,
        },
        (Conversion::Double, Some(V::IntValue(i))) => V::DoubleValue(*i as f64),
        (Conversion::Double, Some(V::BoolValue(b))) => V::DoubleValue(if *b { 1.0 } else { 0.0 }),
        (Conversion::Double, Some(V::StringValue(s))) => match s.parse() {
            Ok(f) => V::DoubleValue(f),
            Err(_) => return,
        },
        _ => return,
    };
    v.value = Some(new);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(yaml: &str) -> Result<AttrProc, String> {
        let a: Vec<ActionConfig> = serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())?;
        AttrProc::new(&a)
    }

    fn kv(k: &str, v: any_value::Value) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..KeyValue::default()
        }
    }

    fn get<'a>(attrs: &'a [KeyValue], k: &str) -> Option<&'a any_value::Value> {
        attrs
            .iter()
            .find(|kv| kv.key == k)?
            .value
            .as_ref()?
            .value
            .as_ref()
    }

    fn s(x: &str) -> any_value::Value {
        any_value::Value::StringValue(x.into())
    }

    #[test]
    fn every_action() {
        use any_value::Value as V;
        let p = actions(
            r#"
- {key: env, value: prod, action: insert}
- {key: region, value: eu, action: insert}
- {key: region, value: us, action: update}
- {key: missing, value: x, action: update}
- {key: copy, from_attribute: user, action: upsert}
- {key: tenant, from_context: metadata.x-tenant, action: insert}
- {key: peer, from_context: client.address, action: insert}
- {key: fallback, from_attribute: nope, default_value: 7, action: upsert}
- {key: secret, action: delete}
- {pattern: ^tmp\., action: delete}
- {key: user, action: hash}
- {key: n, action: hash}
- {key: path, pattern: '^/users/(?P<user_id>\d+)/(?P<page>\w+)$', action: extract}
- {key: count, converted_type: int, action: convert}
- {key: ratio, converted_type: string, action: convert}
"#,
        )
        .unwrap();
        let mut attrs = vec![
            kv("region", s("ap")),
            kv("user", s("alice")),
            kv("secret", s("x")),
            kv("tmp.a", s("1")),
            kv("n", V::IntValue(1)),
            kv("path", s("/users/42/settings")),
            kv("count", s("12")),
            kv("ratio", V::DoubleValue(0.5)),
        ];
        let client = ClientInfo {
            addr: Some("10.0.0.7:5555".parse().unwrap()),
            metadata: vec![
                ("x-tenant".into(), "a".into()),
                ("x-tenant".into(), "b".into()),
            ],
        };
        p.process(&mut attrs, &client);
        assert_eq!(get(&attrs, "env"), Some(&s("prod")));
        assert_eq!(get(&attrs, "region"), Some(&s("us")));
        assert_eq!(get(&attrs, "missing"), None);
        assert_eq!(get(&attrs, "copy"), Some(&s("alice")));
        assert_eq!(get(&attrs, "tenant"), Some(&s("a;b")));
        assert_eq!(get(&attrs, "peer"), Some(&s("10.0.0.7")));
        assert_eq!(get(&attrs, "fallback"), Some(&V::IntValue(7)));
        assert_eq!(get(&attrs, "secret"), None);
        assert_eq!(get(&attrs, "tmp.a"), None);
        // sha256("alice"), and of 1 as 8 little-endian bytes.
        assert_eq!(
            get(&attrs, "user"),
            Some(&s(
                "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90"
            ))
        );
        assert_eq!(
            get(&attrs, "n"),
            Some(&s(
                "7c9fa136d4413fa6173637e883b6998d32e1d675f88cddff9dcbcf331820f4b8"
            ))
        );
        assert_eq!(get(&attrs, "user_id"), Some(&s("42")));
        assert_eq!(get(&attrs, "page"), Some(&s("settings")));
        assert_eq!(get(&attrs, "count"), Some(&V::IntValue(12)));
        assert_eq!(get(&attrs, "ratio"), Some(&s("0.5")));
    }

    #[test]
    fn errors_are_go_s() {
        for (yaml, want) in [
            (
                "- {action: insert, value: 1}",
                "error creating AttrProc due to missing required field \"key\" at the 0-th action",
            ),
            (
                "- {key: a, action: insert}",
                "error with key \"a\" (0-th action): error creating AttrProc. Either field \"value\", \"from_attribute\", \"from_context\", or \"default_value\" must be specified",
            ),
            (
                "- {key: a, action: upsert, value: 1, from_attribute: b}",
                "error with key \"a\" (0-th action): error creating AttrProc due to multiple value sources being set",
            ),
            (
                "- {key: a, action: extract, pattern: '\\d+'}",
                "error with key \"a\" (0-th action): error creating AttrProc. Field \"pattern\" contains no named matcher groups",
            ),
            (
                "- {key: a, action: extract, pattern: '(\\d+)'}",
                "error with key \"a\" (0-th action): error creating AttrProc. Field \"pattern\" contains at least one unnamed matcher group",
            ),
            (
                "- {key: a, action: convert, converted_type: bool}",
                "error with key \"a\" (0-th action): error creating AttrProc due to invalid value \"bool\" in field \"converted_type\" for action \"convert\"",
            ),
            (
                "- {key: a, action: rename}",
                "error with key \"a\" (0-th action): error creating AttrProc due to unsupported action \"rename\"",
            ),
            (
                "- {action: delete}",
                "error creating AttrProc due to missing required field (at least one of \"key\" and \"pattern\" have to be used) at the 0-th action",
            ),
        ] {
            assert_eq!(actions(yaml).unwrap_err(), want, "{yaml}");
        }
    }
}
