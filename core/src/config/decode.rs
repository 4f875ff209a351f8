//! Strict decoding of config values into typed structs.
//!
//! Unknown keys are an error, as with the Go collector's mapstructure
//! `ErrorUnused`. Rather than serde's `deny_unknown_fields`, which stops at
//! the first key and words it its own way, decoding collects every ignored
//! key with `serde_ignored` and reports them grouped by their parent path in
//! Go's words: `'protocols.grpc' has invalid keys: foo`. Type errors carry
//! their path through `serde_path_to_error`.

use serde::de::DeserializeOwned;
use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::fmt;

/// A config value that does not fit its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Keys the type does not know, grouped by parent path.
    InvalidKeys(BTreeMap<String, Vec<String>>),
    /// A value of the wrong type or form, with its path.
    Type {
        /// Dotted path of the value (`protocols.grpc.endpoint`).
        path: String,
        /// What was wrong.
        message: String,
    },
    /// The value decoded, but its `validate` refused it.
    Invalid(Invalid),
}

impl DecodeError {
    /// The error in Go's words, with keys at the root of the decoded value
    /// reported under `root`: Go names the root by its Go type
    /// (`'migration.LogsConfigV030' has invalid keys: foo`), ferrotel's
    /// components by `''`.
    pub fn describe(&self, root: &str) -> String {
        const HEAD: &str = "decoding failed due to the following error(s):\n\n";
        match self {
            DecodeError::InvalidKeys(groups) => {
                let lines: Vec<String> = groups
                    .iter()
                    .map(|(parent, keys)| {
                        let parent = if parent.is_empty() { root } else { parent };
                        // mapstructure lists them sorted.
                        let mut keys = keys.clone();
                        keys.sort();
                        format!("'{parent}' has invalid keys: {}", keys.join(", "))
                    })
                    .collect();
                format!("{HEAD}{}", lines.join("\n"))
            }
            DecodeError::Type { path, message } => format!("{HEAD}'{path}' {message}"),
            DecodeError::Invalid(invalid) => invalid.to_string(),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(""))
    }
}

impl std::error::Error for DecodeError {}

/// A config that decoded but does not make sense, as a component's
/// `validate` reports it: the key path it concerns (empty for the component
/// as a whole) and what is wrong. Service errors print it as Go does:
/// `receivers::otlp::protocols: must specify at least one protocol`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Key path below the component, `::`-separated; may be empty.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl Invalid {
    /// An error about the key at `path`.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Invalid {
        Invalid {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The same error seen from the section that holds `key`: the key path
    /// grows at the front, as Go's `xconfmap.Validate` builds it.
    pub fn within(self, key: &str) -> Invalid {
        let path = if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{key}::{}", self.path)
        };
        Invalid { path, ..self }
    }

    /// The message prefixed with `prefix::path:`, Go's form.
    pub fn under(&self, prefix: &str) -> String {
        if self.path.is_empty() {
            format!("{prefix}: {}", self.message)
        } else {
            format!("{prefix}::{}: {}", self.path, self.message)
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// A nested config section that checks itself, as Go's `Validate()` on a
/// config struct: errors name keys below the section, and the section's
/// owner places them with [`Validate::validate_at`].
pub trait Validate {
    /// Checks what the types alone cannot.
    fn validate(&self) -> Result<(), Invalid>;

    /// [`Validate::validate`], with errors placed under `key`.
    fn validate_at(&self, key: &str) -> Result<(), Invalid> {
        self.validate().map_err(|e| e.within(key))
    }
}

impl From<String> for Invalid {
    fn from(message: String) -> Invalid {
        Invalid::at("", message)
    }
}

impl From<&str> for Invalid {
    fn from(message: &str) -> Invalid {
        Invalid::at("", message)
    }
}

/// Decodes a component's raw config. A missing or empty section (`debug:`)
/// decodes to the type's defaults.
pub fn decode_component<T: DeserializeOwned + Default>(raw: &Value) -> Result<T, DecodeError> {
    if raw.is_null() {
        return Ok(T::default());
    }
    decode_strict(raw)
}

/// Decodes a value, refusing unknown keys.
pub fn decode_strict<T: DeserializeOwned>(raw: &Value) -> Result<T, DecodeError> {
    decode_with(raw, false)
}

/// [`decode_strict`] for a tree whose [`Value`] parts are decoded again
/// later (the collector config, whose sections go to components): they
/// keep the marks of `${...}` expansions for that second decoding.
pub fn decode_tree<T: DeserializeOwned>(raw: &Value) -> Result<T, DecodeError> {
    decode_with(raw, true)
}

fn decode_with<T: DeserializeOwned>(raw: &Value, keep_marks: bool) -> Result<T, DecodeError> {
    let rule = |v| {
        if keep_marks {
            super::GoValue::keeping_marks(v)
        } else {
            super::GoValue::new(v)
        }
    };
    let defaults = super::go_value::DefaultedNulls::default();
    let first = decode_once(rule(raw).noting(&defaults));
    if defaults.is_empty() {
        return first;
    }
    // Lists and maps given no value keep their defaults, as in Go.
    let pruned = defaults.prune(raw);
    decode_once(rule(&pruned))
}

fn decode_once<T: DeserializeOwned>(raw: super::GoValue<'_>) -> Result<T, DecodeError> {
    let mut unknown: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let result = {
        let mut record = |path: serde_ignored::Path<'_>| {
            let (parent, key) = split_path(&path);
            unknown.entry(parent).or_default().push(key);
        };
        let ignored = serde_ignored::Deserializer::new(raw, &mut record);
        serde_path_to_error::deserialize::<_, T>(ignored)
    };
    match result {
        Err(e) => Err(DecodeError::Type {
            path: dotted(&e.path().to_string()),
            message: go_type_error(&e.into_inner().to_string()),
        }),
        Ok(_) if !unknown.is_empty() => Err(DecodeError::InvalidKeys(unknown)),
        Ok(v) => Ok(v),
    }
}

/// serde's `invalid type: integer `5`, expected a string` in mapstructure's
/// words: `expected type 'string', got unconvertible type 'int'`. The Go
/// type is serde's expectation translated, or, for a type that names its Go
/// type as its expectation ([`super::Opaque`]), that name. Other messages
/// are kept.
fn go_type_error(message: &str) -> String {
    let Some(rest) = message.strip_prefix("invalid type: ") else {
        return message.to_string();
    };
    let Some((got, expected)) = rest.rsplit_once(", expected ") else {
        return message.to_string();
    };
    let got = match got.split([' ', '`']).next().unwrap_or_default() {
        "integer" => "int",
        "floating" => "float64",
        "string" => "string",
        "boolean" => "bool",
        "sequence" => "[]interface {}",
        "map" => "map[string]interface {}",
        _ => return message.to_string(),
    };
    let expected = match expected {
        "a string" => "string",
        "a boolean" => "bool",
        "i8" | "i16" | "i32" | "i64" => "int",
        "u8" => "uint8",
        "u16" => "uint16",
        "u32" => "uint32",
        "u64" => "uint64",
        "f32" | "f64" => "float64",
        go if go.contains('.') && !go.contains(' ') => go,
        _ => return message.to_string(),
    };
    format!("expected type '{expected}', got unconvertible type '{got}'")
}

/// Splits an ignored key's path into its parent (dotted) and the key.
fn split_path(path: &serde_ignored::Path<'_>) -> (String, String) {
    use serde_ignored::Path;
    fn segments(path: &Path<'_>, out: &mut Vec<String>) {
        match path {
            Path::Root => {}
            Path::Seq { parent, index } => {
                segments(parent, out);
                out.push(index.to_string());
            }
            Path::Map { parent, key } => {
                segments(parent, out);
                out.push(key.clone());
            }
            Path::Some { parent }
            | Path::NewtypeStruct { parent }
            | Path::NewtypeVariant { parent } => segments(parent, out),
        }
    }
    let mut all = Vec::new();
    segments(path, &mut all);
    let key = all.pop().unwrap_or_default();
    (all.join("."), key)
}

/// `serde_path_to_error` writes `.` for the root and `?` for options.
fn dotted(path: &str) -> String {
    path.split('.')
        .filter(|s| !s.is_empty() && *s != "?")
        .collect::<Vec<_>>()
        .join(".")
}
