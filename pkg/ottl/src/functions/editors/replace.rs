//! The replace editors: `replace_pattern` and `replace_all_patterns` (a
//! regex, `$1` expansion) and `replace_match` and `replace_all_matches` (a
//! `filepath.Match` glob), each with Go's optional `function` applied to
//! the replacement and `replacementFormat` around it.

use super::Target;
use crate::context::Item;
use crate::functions::{bind, hashes, literal_str, regex, string_like};
use crate::parser::Expr;
use crate::registry::{Editor, Registry};
use crate::value::Value;
use crate::{Getter, eval};
use ferrotel_core::pdata::common::{AnyValue, any_value};
use regex::Regex;
use std::borrow::Cow;

/// Parameters of replace_match and replace_all_matches, in Go's order.
const REPLACE_MATCH_PARAMS: [&str; 5] = [
    "target",
    "pattern",
    "replacement",
    "function",
    "replacement_format",
];

/// Parameters of replace_pattern, in Go's order.
const REPLACE_PATTERN_PARAMS: [&str; 5] = [
    "target",
    "regex",
    "replacement",
    "function",
    "replacement_format",
];

pub(super) fn register(registry: &mut Registry) {
    registry.editor("replace_pattern", |call| {
        let b = bind(call.call, &REPLACE_PATTERN_PARAMS, 3)?;
        Ok(Box::new(ReplacePattern {
            target: call.compiler.target(b[0])?,
            regex: regex(b[1], "replace_pattern")?,
            replacement: call.compiler.getter_opt(b[2])?,
            options: replace_options(b[3], b[4])?,
        }))
    });
    registry.editor("replace_all_patterns", |call| {
        let b = bind(
            call.call,
            &[
                "target",
                "mode",
                "regex",
                "replacement",
                "function",
                "replacement_format",
            ],
            4,
        )?;
        let keys = match literal_str(b[1], "mode")? {
            "key" => true,
            "value" => false,
            other => {
                return Err(format!(
                    "invalid mode {other:?}, must be \"key\" or \"value\""
                ));
            }
        };
        Ok(Box::new(ReplaceAllPatterns {
            target: call.compiler.map_target(b[0])?,
            keys,
            regex: regex(b[2], "replace_all_patterns")?,
            replacement: call.compiler.getter_opt(b[3])?,
            options: replace_options(b[4], b[5])?,
        }))
    });
    registry.editor("replace_match", |call| {
        let b = bind(call.call, &REPLACE_MATCH_PARAMS, 3)?;
        Ok(Box::new(ReplaceMatch {
            target: call.compiler.target(b[0])?,
            glob: Glob::new(literal_str(b[1], "pattern")?)?,
            replacement: call.compiler.getter_opt(b[2])?,
            options: replace_options(b[3], b[4])?,
        }))
    });
    registry.editor("replace_all_matches", |call| {
        let b = bind(call.call, &REPLACE_MATCH_PARAMS, 3)?;
        Ok(Box::new(ReplaceAllMatches {
            target: call.compiler.map_target(b[0])?,
            glob: Glob::new(literal_str(b[1], "pattern")?)?,
            replacement: call.compiler.getter_opt(b[2])?,
            options: replace_options(b[3], b[4])?,
        }))
    });
}

/// Converters that take one string and return one, usable as the
/// `function` argument of the replace editors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StringFn {
    Sha256,
}

impl StringFn {
    fn apply(self, s: &str) -> String {
        match self {
            StringFn::Sha256 => hashes::sha256_hex(s.as_bytes()),
        }
    }
}

/// The optional `function` and `replacementFormat` of the replace editors.
struct Replace {
    function: Option<StringFn>,
    format: Option<String>,
}

impl Replace {
    fn apply(&self, replacement: &str) -> String {
        let r = match self.function {
            Some(f) => f.apply(replacement),
            None => replacement.to_string(),
        };
        match &self.format {
            Some(f) => f.replacen("%s", &r, 1),
            None => r,
        }
    }
}

fn replace_options(function: Option<&Expr>, format: Option<&Expr>) -> Result<Replace, String> {
    let function = match function {
        None => None,
        Some(Expr::Enum(name)) => match name.as_str() {
            "SHA256" => Some(StringFn::Sha256),
            other => {
                return Err(format!(
                    "function {other:?} is not supported as a replacement function by ferrotel yet (SHA256 is)"
                ));
            }
        },
        Some(_) => return Err("function must name a converter, e.g. SHA256".into()),
    };
    let format = match format {
        None => None,
        Some(f) => {
            let f = literal_str(Some(f), "replacementFormat")?;
            if f.matches("%s").count() != 1 || f.replace("%s", "").contains('%') {
                return Err(
                    "replacementFormat must contain exactly one %s format specifier".into(),
                );
            }
            Some(f.to_string())
        }
    };
    Ok(Replace { function, format })
}

/// Replaces every match of `r` in `s`, expanding `$1`-style references.
fn replace_regex(r: &Regex, s: &str, replacement: &str, options: &Replace) -> String {
    if options.function.is_none() && options.format.is_none() {
        return r.replace_all(s, replacement).into_owned();
    }
    r.replace_all(s, |caps: &regex::Captures<'_>| {
        let mut expanded = String::new();
        caps.expand(replacement, &mut expanded);
        options.apply(&expanded)
    })
    .into_owned()
}

/// `replace_pattern(target, regex, replacement, function, replacementFormat)`.
struct ReplacePattern {
    target: Target,
    regex: Regex,
    replacement: Getter,
    options: Replace,
}

impl Editor for ReplacePattern {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        let current = self.target.get(item)?;
        let Some(s) = current.as_str() else {
            return Ok(());
        };
        if !self.regex.is_match(s) {
            return Ok(());
        }
        let replacement = string_like(&eval(&self.replacement, item)?).unwrap_or_default();
        let replaced = replace_regex(&self.regex, s, &replacement, &self.options);
        self.target.set(item, Value::Str(Cow::Owned(replaced)))
    }
}

/// `replace_all_patterns(target, mode, regex, replacement, ...)`: over a
/// map's keys (`mode` "key") or string values ("value").
struct ReplaceAllPatterns {
    target: Target,
    keys: bool,
    regex: Regex,
    replacement: Getter,
    options: Replace,
}

impl Editor for ReplaceAllPatterns {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        let replacement = string_like(&eval(&self.replacement, item)?).unwrap_or_default();
        let r = &self.regex;
        for kv in self.target.map(item)?.iter_mut() {
            if self.keys {
                if r.is_match(&kv.key) {
                    kv.key = replace_regex(r, &kv.key, &replacement, &self.options);
                }
            } else if let Some(AnyValue {
                value: Some(any_value::Value::StringValue(s)),
            }) = &mut kv.value
                && r.is_match(s)
            {
                *s = replace_regex(r, s, &replacement, &self.options);
            }
        }
        Ok(())
    }
}

/// `replace_match(target, pattern, replacement, ...)`: the whole value when
/// it matches the glob.
struct ReplaceMatch {
    target: Target,
    glob: Glob,
    replacement: Getter,
    options: Replace,
}

impl Editor for ReplaceMatch {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        let current = self.target.get(item)?;
        let Some(s) = current.as_str() else {
            return Ok(());
        };
        if !self.glob.matches(s) {
            return Ok(());
        }
        let replacement = string_like(&eval(&self.replacement, item)?).unwrap_or_default();
        let replaced = self.options.apply(&replacement);
        self.target.set(item, Value::Str(Cow::Owned(replaced)))
    }
}

/// `replace_all_matches(target, pattern, replacement, ...)`: every string
/// value of a map that matches the glob.
struct ReplaceAllMatches {
    target: Target,
    glob: Glob,
    replacement: Getter,
    options: Replace,
}

impl Editor for ReplaceAllMatches {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        let replacement = self
            .options
            .apply(&string_like(&eval(&self.replacement, item)?).unwrap_or_default());
        for kv in self.target.map(item)?.iter_mut() {
            if let Some(AnyValue {
                value: Some(any_value::Value::StringValue(s)),
            }) = &mut kv.value
                && self.glob.matches(s)
            {
                *s = replacement.clone();
            }
        }
        Ok(())
    }
}

/// A glob of `filepath.Match` syntax: `*`, `?`, `[...]`, `\` escapes.
struct Glob(Regex);

impl Glob {
    fn new(pattern: &str) -> Result<Glob, String> {
        let mut re = String::from("^");
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '*' => re.push_str("[^/]*"),
                '?' => re.push_str("[^/]"),
                '\\' => match chars.next() {
                    Some(e) => re.push_str(&regex::escape(&e.to_string())),
                    None => return Err(format!("syntax error in pattern {pattern:?}")),
                },
                '[' => {
                    re.push('[');
                    let mut closed = false;
                    let mut first = true;
                    for c in chars.by_ref() {
                        match c {
                            ']' if !first => {
                                closed = true;
                                break;
                            }
                            '^' if first => re.push('^'),
                            '\\' | '[' | '&' | '~' => {
                                re.push('\\');
                                re.push(c)
                            }
                            c => re.push(c),
                        }
                        first = false;
                    }
                    if !closed {
                        return Err(format!("syntax error in pattern {pattern:?}"));
                    }
                    re.push(']');
                }
                c => re.push_str(&regex::escape(&c.to_string())),
            }
        }
        re.push('$');
        Regex::new(&re)
            .map(Glob)
            .map_err(|_| format!("syntax error in pattern {pattern:?}"))
    }

    fn matches(&self, s: &str) -> bool {
        self.0.is_match(s)
    }
}
