//! confmap: turning `--config` URIs and `--set` flags into one YAML tree.
//!
//! Each URI is retrieved by its scheme (`file:` when none is given, `env:`,
//! `yaml:`), parsed as YAML, then `${...}` references in string values are
//! expanded. The trees are deep-merged in order: maps merge key by key,
//! anything else (lists included) is replaced, and an explicit null
//! replaces too. `--set` flags are applied last.

use serde_yaml_ng::{Mapping, Value};
use std::path::PathBuf;

/// One retrieved config source.
#[derive(Debug, Clone)]
pub struct Source {
    /// The URI as given (`/etc/otel.yaml`, `env:CFG`, `yaml:a::b: c`).
    pub uri: String,
    /// Its parsed, expanded content.
    pub value: Value,
}

/// A source that could not be read or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ResolveError(pub String);

/// Retrieves, expands and merges every URI, then applies `--set` flags.
/// Returns the merged tree and the sources, for naming files in errors.
pub fn resolve(uris: &[String], sets: &[String]) -> Result<(Value, Vec<Source>), ResolveError> {
    let mut sources = Vec::new();
    for uri in uris {
        sources.push(Source {
            uri: uri.clone(),
            value: expand(retrieve(uri)?)?,
        });
    }
    for set in sets {
        let (key, value) = set
            .split_once('=')
            .ok_or_else(|| ResolveError(format!("missing equal sign for set value {set:?}")))?;
        // Go turns `--set a.b=c` into the YAML `a::b: c`.
        let yaml = format!("{}: {value}", key.replace('.', "::"));
        sources.push(Source {
            uri: format!("--set={set}"),
            value: expand(retrieve(&format!("yaml:{yaml}"))?)?,
        });
    }
    let mut merged = Value::Mapping(Mapping::new());
    for source in &sources {
        merge(&mut merged, source.value.clone());
    }
    Ok((merged, sources))
}

fn retrieve(uri: &str) -> Result<Value, ResolveError> {
    let (scheme, rest) = match uri.split_once(':') {
        // A one-letter "scheme" is a Windows drive; a path has no scheme.
        Some((s, r)) if s.len() > 1 && s.chars().all(|c| c.is_ascii_alphanumeric()) => (s, r),
        _ => ("file", uri),
    };
    let text = match scheme {
        "file" => {
            let path = PathBuf::from(rest);
            std::fs::read_to_string(&path).map_err(|e| {
                ResolveError(format!(
                    "cannot retrieve the configuration: unable to read the file {uri}: {e}"
                ))
            })?
        }
        "env" => std::env::var(rest).map_err(|_| {
            ResolveError(format!(
                "cannot retrieve the configuration: environment variable {rest:?} is not set"
            ))
        })?,
        "yaml" => rest.to_string(),
        other => {
            return Err(ResolveError(format!(
                "cannot retrieve the configuration: scheme {other:?} is not supported for uri {uri:?}"
            )));
        }
    };
    let value: Value = serde_yaml_ng::from_str(&text)
        .map_err(|e| ResolveError(format!("cannot parse the configuration {uri}: {e}")))?;
    Ok(if value.is_null() {
        Value::Mapping(Mapping::new())
    } else {
        split_delimited_keys(value)
    })
}

/// Splits keys on confmap's `::` delimiter, so `a::b: c` means `a: {b: c}`.
fn split_delimited_keys(value: Value) -> Value {
    match value {
        Value::Mapping(m) => {
            let mut out = Value::Mapping(Mapping::new());
            for (k, v) in m {
                let v = split_delimited_keys(v);
                let nested = match k.as_str() {
                    Some(key) if key.contains("::") => key.rsplit("::").fold(v, |inner, part| {
                        let mut m = Mapping::new();
                        m.insert(Value::String(part.to_string()), inner);
                        Value::Mapping(m)
                    }),
                    _ => {
                        let mut m = Mapping::new();
                        m.insert(k, v);
                        Value::Mapping(m)
                    }
                };
                merge(&mut out, nested);
            }
            out
        }
        Value::Sequence(items) => {
            Value::Sequence(items.into_iter().map(split_delimited_keys).collect())
        }
        other => other,
    }
}

/// Merges `overlay` into `base`: maps key by key, everything else replaced.
pub fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

/// Expands `${env:VAR}`, `${VAR}` and `${env:VAR:-default}` in every string
/// value (not keys). A value that is one whole reference takes the YAML type
/// of what it expands to; `$$` is a literal `$`.
pub fn expand(value: Value) -> Result<Value, ResolveError> {
    Ok(match value {
        Value::String(s) => expand_string(&s)?,
        Value::Sequence(items) => {
            Value::Sequence(items.into_iter().map(expand).collect::<Result<_, _>>()?)
        }
        Value::Mapping(m) => Value::Mapping(
            m.into_iter()
                .map(|(k, v)| Ok((k, expand(v)?)))
                .collect::<Result<_, ResolveError>>()?,
        ),
        Value::Tagged(t) => Value::Tagged(Box::new(serde_yaml_ng::value::TaggedValue {
            tag: t.tag,
            value: expand(t.value)?,
        })),
        other => other,
    })
}

fn expand_string(s: &str) -> Result<Value, ResolveError> {
    if !s.contains('$') {
        return Ok(Value::String(s.to_string()));
    }
    // A whole-value reference keeps the type of what it expands to.
    if let Some(inner) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}'))
        && !inner.contains('}')
        && !inner.contains("${")
    {
        let text = lookup(inner)?;
        let parsed = serde_yaml_ng::from_str::<Value>(&text).unwrap_or(Value::String(text.clone()));
        return Ok(ferrotel_core::config::expanded(text, parsed));
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(r) = after.strip_prefix('{') {
            let end = r
                .find('}')
                .ok_or_else(|| ResolveError(format!("unterminated reference in {s:?}")))?;
            out.push_str(&lookup(&r[..end])?);
            rest = &r[end + 1..];
        } else {
            // A bare `$VAR` is not expanded.
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(Value::String(out))
}

/// Resolves the inside of `${...}`.
fn lookup(reference: &str) -> Result<String, ResolveError> {
    let (scheme, rest) = match reference.split_once(':') {
        // `${VAR:-default}`: the colon starts the default, not a scheme.
        Some((_, rest)) if rest.starts_with('-') => ("env", reference),
        Some((scheme, rest)) => (scheme, rest),
        None => ("env", reference),
    };
    match scheme {
        "env" => {}
        // `${file:path}`: the file's text, read from the working directory
        // as Go's file provider reads it; a whole value is then its YAML.
        "file" => {
            return std::fs::read_to_string(rest).map_err(|e| {
                // Go's words: `open x.yaml: no such file or directory`.
                let text = e.to_string();
                let text = text.split(" (os error").next().unwrap_or_default();
                let mut chars = text.chars();
                let text: String = match chars.next() {
                    Some(first) => first.to_lowercase().chain(chars).collect(),
                    None => String::new(),
                };
                ResolveError(format!(
                    "unable to read the file file:{rest}: open {rest}: {text}"
                ))
            });
        }
        _ => {
            return Err(ResolveError(format!(
                "scheme {scheme:?} is not supported in reference ${{{reference}}}"
            )));
        }
    }
    let (name, default) = match rest.split_once(":-") {
        Some((n, d)) => (n, Some(d)),
        None => (rest, None),
    };
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(ResolveError(format!(
            "environment variable {name:?} has invalid name: must match regex ^[a-zA-Z_][a-zA-Z0-9_]*$"
        )));
    }
    match (std::env::var(name), default) {
        (Ok(v), _) => Ok(v),
        (Err(_), Some(d)) => Ok(d.to_string()),
        (Err(_), None) => {
            tracing::warn!(name, "Configuration references unset environment variable");
            Ok(String::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    fn yaml(s: &str) -> Value {
        serde_yaml_ng::from_str(s).unwrap()
    }

    #[test]
    fn file_references_read_the_file_as_yaml_or_text() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("exporters.yaml");
        std::fs::write(&part, "otlp: {endpoint: 'x:4317'}\n").unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "s3cret").unwrap();
        let v = expand(yaml(&format!(
            "exporters: ${{file:{}}}\nheader: 'Bearer ${{file:{}}}'",
            part.display(),
            token.display()
        )))
        .unwrap();
        assert_eq!(
            v["exporters"]["otlp"]["endpoint"],
            Value::String("x:4317".into())
        );
        assert_eq!(v["header"], Value::String("Bearer s3cret".into()));
        let missing = expand(yaml("a: ${file:/nonexistent/x.yaml}")).unwrap_err();
        assert!(
            missing
                .0
                .contains("unable to read the file file:/nonexistent/x.yaml"),
            "{}",
            missing.0
        );
    }

    #[test]
    fn expansion_keeps_types_and_escapes() {
        // set_var is unsafe in edition 2024, so the test uses PATH, which is
        // always set, and names nobody sets.
        let home = std::env::var("PATH").unwrap();
        let v = expand(yaml(
            r#"
a: ${env:FERROTEL_TEST_UNSET_1:-42}
b: "x-${FERROTEL_TEST_UNSET_2:-y}-z"
c: "$$HOME and $PATH"
d: ${PATH}
e: ${env:FERROTEL_TEST_UNSET_3}
"#,
        ))
        .unwrap();
        // A number for a number field, its text for a string field.
        let a = ferrotel_core::config::GoValue::new(&v["a"]);
        assert_eq!(u32::deserialize(a).unwrap(), 42);
        assert_eq!(String::deserialize(a).unwrap(), "42");
        assert_eq!(v["b"], Value::String("x-y-z".into()));
        assert_eq!(v["c"], Value::String("$HOME and $PATH".into()));
        assert_eq!(v["d"], Value::String(home));
        assert_eq!(v["e"], Value::Null);
        assert!(expand(yaml("a: ${env:1BAD}")).is_err());
    }

    #[test]
    fn merge_replaces_lists_and_null_deletes() {
        let mut base = yaml("a: {b: 1, c: [1, 2]}\nprocessors: {batch: {}}");
        merge(&mut base, yaml("a: {c: [3], d: 4}\nprocessors:"));
        assert_eq!(base, yaml("a: {b: 1, c: [3], d: 4}\nprocessors:"));
    }

    #[test]
    fn set_flags_and_yaml_uris() {
        let (v, _) = resolve(
            &["yaml:processors::batch::timeout: 1s".into()],
            &[
                "exporters.otlp/2.endpoint=localhost:4317".into(),
                "processors.batch.send_batch_size=5".into(),
            ],
        )
        .unwrap();
        assert_eq!(
            v["exporters"]["otlp/2"]["endpoint"],
            Value::String("localhost:4317".into())
        );
        assert_eq!(
            v["processors"]["batch"]["timeout"],
            Value::String("1s".into())
        );
        assert_eq!(
            v["processors"]["batch"]["send_batch_size"],
            Value::Number(5.into())
        );
    }

    #[test]
    fn missing_file_is_a_clear_error() {
        let err = resolve(&["/nonexistent/otel.yaml".into()], &[]).unwrap_err();
        assert!(
            err.0
                .contains("unable to read the file /nonexistent/otel.yaml"),
            "{err}"
        );
    }
}
