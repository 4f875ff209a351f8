//! The editors (Go's `ottlfuncs` editors): `set`, the map editors
//! (`delete_key`, `delete_matching_keys`, `keep_keys`,
//! `keep_matching_keys`, `truncate_all`, `limit`, `merge_maps`, `flatten`,
//! `stringify_all`), the replace editors (`replace_pattern`,
//! `replace_all_patterns`, `replace_match`, `replace_all_matches`) and the
//! list editors (`append`, `delete_index`), compiled by one table.

use super::*;

/// Registers the editors.
pub(super) fn register(registry: &mut Registry) {
    for name in EDITORS {
        registry.editor(name, |call| {
            Ok(Box::new(call.compiler.builtin_editor(call.call)?))
        });
    }
}

/// A field an editor writes, with its keys.
pub(super) struct Target {
    pub(super) field: Field,
    pub(super) keys: Vec<KeyGetter>,
}

impl Target {
    fn get<'s>(&'s self, item: &'s Item<'_>) -> Result<Value<'s>, String> {
        let keys = eval_keys(&self.keys, item)?;
        get_in(item.get(self.field)?, &keys)
    }

    fn set(&self, item: &mut Item<'_>, value: Value<'static>) -> Result<(), String> {
        if self.keys.is_empty() {
            return item.set(self.field, value);
        }
        // The common `attributes["k"]`: no key list to build.
        if let [KeyGetter::Lit(Value::Str(key))] = self.keys.as_slice() {
            put(item.map_mut(self.field)?, key, value.into_any());
            return Ok(());
        }
        let keys: Vec<Value<'static>> = eval_keys(&self.keys, item)?
            .into_iter()
            .map(Value::into_owned)
            .collect();
        set_in_map(item.map_mut(self.field)?, &keys, value.into_any())
    }

    /// The map the target names, to change in place.
    fn map<'i>(&self, item: &'i mut Item<'_>) -> Result<&'i mut Vec<KeyValue>, String> {
        if self.keys.is_empty() {
            return item.map_mut(self.field);
        }
        let keys: Vec<Value<'static>> = eval_keys(&self.keys, item)?
            .into_iter()
            .map(Value::into_owned)
            .collect();
        let mut map = item.map_mut(self.field)?;
        for key in &keys {
            let Value::Str(key) = key else {
                return Err(format!("map keys are strings, not {}", key.type_name()));
            };
            map = match map
                .iter_mut()
                .rev()
                .find(|kv| kv.key == key.as_ref())
                .and_then(|kv| kv.value.as_mut())
                .and_then(|v| v.value.as_mut())
            {
                Some(any_value::Value::KvlistValue(m)) => &mut m.values,
                _ => return Err(format!("expected a map at key {key:?}")),
            };
        }
        Ok(map)
    }
}

/// Converters that take one string and return one, usable as the
/// `function` argument of the replace editors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum StringFn {
    Sha256,
}

impl StringFn {
    fn apply(self, s: &str) -> String {
        match self {
            StringFn::Sha256 => hashes::sha256_hex(s.as_bytes()),
        }
    }
}

/// A compiled editor.
pub(super) enum BuiltinEditor {
    Set(Target, Getter),
    DeleteKey(Target, Getter),
    DeleteMatchingKeys(Target, Regex),
    KeepKeys(Target, Vec<String>),
    KeepMatchingKeys(Target, Regex),
    ReplacePattern(Target, Regex, Getter, Replace),
    ReplaceAllPatterns(Target, bool, Regex, Getter, Replace),
    ReplaceMatch(Target, Glob, Getter, Replace),
    ReplaceAllMatches(Target, Glob, Getter, Replace),
    TruncateAll(Target, usize, String),
    Limit(Target, usize, Vec<String>),
    MergeMaps(Target, Getter, Strategy),
    Append(Target, Vec<Getter>),
    Flatten(Target, String, i64, bool),
    StringifyAll(Target),
    DeleteIndex(Target, Getter, Option<Getter>),
}

/// The optional `function` and `replacementFormat` of the replace editors.
pub(super) struct Replace {
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

/// `merge_maps` strategies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Strategy {
    Insert,
    Update,
    Upsert,
}

/// A glob of `filepath.Match` syntax: `*`, `?`, `[...]`, `\` escapes.
pub(super) struct Glob(Regex);

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
                            '\\' | '[' | '&' | '~' | '-' if c != '-' => {
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

/// OTTL's own editors (Go's `ottlfuncs` editors).
const EDITORS: &[&str] = &[
    "set",
    "delete_key",
    "delete_matching_keys",
    "keep_keys",
    "keep_matching_keys",
    "replace_pattern",
    "replace_all_patterns",
    "replace_match",
    "replace_all_matches",
    "truncate_all",
    "limit",
    "merge_maps",
    "append",
    "flatten",
    "stringify_all",
    "delete_index",
];

impl registry::Editor for BuiltinEditor {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        self.run(item)
    }
}

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

impl Compiler<'_> {
    fn target(&self, e: Option<&Expr>) -> Result<Target, String> {
        match e {
            Some(Expr::Path(p)) => {
                let (field, keys) = self.path(p)?;
                Ok(Target { field, keys })
            }
            _ => Err("target must be a path".into()),
        }
    }

    fn map_target(&self, e: Option<&Expr>) -> Result<Target, String> {
        let t = self.target(e)?;
        if !t.field.indexable() {
            return Err("target must be a path to a map".into());
        }
        Ok(t)
    }

    /// Compiles a call of one of OTTL's own editors.
    fn builtin_editor(&self, call: &Call) -> Result<BuiltinEditor, String> {
        let a = |params: &[&str], required| bind(call, params, required);
        Ok(match call.name.as_str() {
            "set" => {
                let b = a(&["target", "value"], 2)?;
                BuiltinEditor::Set(self.target(b[0])?, self.getter_opt(b[1])?)
            }
            "delete_key" => {
                let b = a(&["target", "key"], 2)?;
                BuiltinEditor::DeleteKey(self.map_target(b[0])?, self.getter_opt(b[1])?)
            }
            "delete_matching_keys" => {
                let b = a(&["target", "pattern"], 2)?;
                BuiltinEditor::DeleteMatchingKeys(
                    self.map_target(b[0])?,
                    regex(b[1], "delete_matching_keys")?,
                )
            }
            "keep_keys" => {
                let b = a(&["target", "keys"], 2)?;
                BuiltinEditor::KeepKeys(self.map_target(b[0])?, string_list(b[1], "keys")?)
            }
            "keep_matching_keys" => {
                let b = a(&["target", "pattern"], 2)?;
                BuiltinEditor::KeepMatchingKeys(
                    self.map_target(b[0])?,
                    regex(b[1], "keep_matching_keys")?,
                )
            }
            "replace_pattern" => {
                let b = a(&REPLACE_PATTERN_PARAMS, 3)?;
                BuiltinEditor::ReplacePattern(
                    self.target(b[0])?,
                    regex(b[1], "replace_pattern")?,
                    self.getter_opt(b[2])?,
                    replace_options(b[3], b[4])?,
                )
            }
            "replace_all_patterns" => {
                let b = a(
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
                BuiltinEditor::ReplaceAllPatterns(
                    self.map_target(b[0])?,
                    keys,
                    regex(b[2], "replace_all_patterns")?,
                    self.getter_opt(b[3])?,
                    replace_options(b[4], b[5])?,
                )
            }
            "replace_match" => {
                let b = a(&REPLACE_MATCH_PARAMS, 3)?;
                BuiltinEditor::ReplaceMatch(
                    self.target(b[0])?,
                    Glob::new(literal_str(b[1], "pattern")?)?,
                    self.getter_opt(b[2])?,
                    replace_options(b[3], b[4])?,
                )
            }
            "replace_all_matches" => {
                let b = a(&REPLACE_MATCH_PARAMS, 3)?;
                BuiltinEditor::ReplaceAllMatches(
                    self.map_target(b[0])?,
                    Glob::new(literal_str(b[1], "pattern")?)?,
                    self.getter_opt(b[2])?,
                    replace_options(b[3], b[4])?,
                )
            }
            "truncate_all" => {
                let b = a(&["target", "limit", "utf8_safe", "truncation_marker"], 2)?;
                let limit = literal_int(b[1], "limit")?;
                if limit < 0 {
                    return Err(format!(
                        "invalid limit for truncate_all function, {limit} cannot be negative"
                    ));
                }
                // A Rust string cannot hold half a character, so both modes
                // cut at the character boundary at or before the limit.
                if !matches!(b[2], None | Some(Expr::Bool(_))) {
                    return Err("utf8_safe must be a bool literal".into());
                }
                let marker = match b[3] {
                    None => String::new(),
                    e => literal_str(e, "truncation_marker")?.to_string(),
                };
                BuiltinEditor::TruncateAll(self.map_target(b[0])?, limit as usize, marker)
            }
            "limit" => {
                let b = a(&["target", "limit", "priority_keys"], 2)?;
                let limit = literal_int(b[1], "limit")?;
                if limit < 0 {
                    return Err(format!(
                        "invalid limit for limit function, {limit} cannot be negative"
                    ));
                }
                let keys = match b[2] {
                    None => Vec::new(),
                    e => string_list(e, "priority_keys")?,
                };
                if keys.len() as i64 > limit {
                    return Err(format!(
                        "invalid limit for limit function, {limit} cannot be less than number of priority attributes {}",
                        keys.len()
                    ));
                }
                BuiltinEditor::Limit(self.map_target(b[0])?, limit as usize, keys)
            }
            "merge_maps" => {
                let b = a(&["target", "source", "strategy"], 3)?;
                let strategy = match literal_str(b[2], "strategy")? {
                    "insert" => Strategy::Insert,
                    "update" => Strategy::Update,
                    "upsert" => Strategy::Upsert,
                    other => {
                        return Err(format!(
                            "invalid value for strategy, {other:?}, must be 'insert', 'update' or 'upsert'"
                        ));
                    }
                };
                BuiltinEditor::MergeMaps(self.map_target(b[0])?, self.getter_opt(b[1])?, strategy)
            }
            "append" => {
                let b = a(&["target", "value", "values"], 1)?;
                let mut values = Vec::new();
                if let Some(v) = b[1] {
                    values.push(self.getter(v)?);
                }
                if let Some(v) = b[2] {
                    values.push(Getter::Spread(Box::new(self.getter(v)?)));
                }
                BuiltinEditor::Append(self.target(b[0])?, values)
            }
            "flatten" => {
                let b = a(&["target", "prefix", "depth", "resolve_conflicts"], 1)?;
                let prefix = match b[1] {
                    None => String::new(),
                    e => literal_str(e, "prefix")?.to_string(),
                };
                let depth = match b[2] {
                    None => i64::MAX,
                    e => literal_int(e, "depth")?,
                };
                if depth < 1 {
                    return Err(format!(
                        "invalid depth '{depth}' for flatten function, must be greater than 0"
                    ));
                }
                let resolve = match b[3] {
                    None => false,
                    Some(Expr::Bool(v)) => *v,
                    _ => return Err("resolve_conflicts must be a bool literal".into()),
                };
                BuiltinEditor::Flatten(self.map_target(b[0])?, prefix, depth, resolve)
            }
            "stringify_all" => {
                let b = a(&["target"], 1)?;
                BuiltinEditor::StringifyAll(self.map_target(b[0])?)
            }
            "delete_index" => {
                let b = a(&["target", "start_index", "end_index"], 2)?;
                BuiltinEditor::DeleteIndex(
                    self.target(b[0])?,
                    self.getter_opt(b[1])?,
                    b[2].map(|e| self.getter(e)).transpose()?,
                )
            }
            other if other.starts_with(|c: char| c.is_ascii_uppercase()) => {
                return Err(format!(
                    "converter names, such as {other:?}, are not allowed as editors"
                ));
            }
            other => return Err(format!("undefined function {other:?}")),
        })
    }
}

/// Cuts `s` to at most `limit` bytes on a character boundary, and marks
/// the cut.
fn truncate(s: &mut String, limit: usize, marker: &str) {
    if s.len() <= limit {
        return;
    }
    let mut cut = limit;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s.push_str(marker);
}

impl BuiltinEditor {
    /// Runs the editor on an item.
    fn run(&self, item: &mut Item<'_>) -> Result<(), String> {
        match self {
            BuiltinEditor::Set(target, value) => {
                let v = eval(value, item)?.into_owned();
                // set with nil does nothing (without the ottl.set.allowNil gate).
                if v != Value::Nil {
                    target.set(item, v)?;
                }
            }
            BuiltinEditor::DeleteKey(target, Getter::Lit(Value::Str(key))) => {
                target.map(item)?.retain(|kv| kv.key != key.as_ref());
            }
            BuiltinEditor::DeleteKey(target, key) => {
                let key = eval(key, item)?.into_owned();
                let key = key.as_str().ok_or("delete_key: key is not a string")?;
                target.map(item)?.retain(|kv| kv.key != key);
            }
            BuiltinEditor::DeleteMatchingKeys(target, r) => {
                target.map(item)?.retain(|kv| !r.is_match(&kv.key));
            }
            BuiltinEditor::KeepKeys(target, keys) => {
                target.map(item)?.retain(|kv| keys.contains(&kv.key));
            }
            BuiltinEditor::KeepMatchingKeys(target, r) => {
                target.map(item)?.retain(|kv| r.is_match(&kv.key));
            }
            BuiltinEditor::ReplacePattern(target, r, replacement, options) => {
                let current = target.get(item)?;
                let Some(s) = current.as_str() else {
                    return Ok(());
                };
                if !r.is_match(s) {
                    return Ok(());
                }
                let replacement = string_like(&eval(replacement, item)?).unwrap_or_default();
                let replaced = replace_regex(r, s, &replacement, options);
                target.set(item, Value::Str(Cow::Owned(replaced)))?;
            }
            BuiltinEditor::ReplaceAllPatterns(target, keys, r, replacement, options) => {
                let replacement = string_like(&eval(replacement, item)?).unwrap_or_default();
                let map = target.map(item)?;
                for kv in map.iter_mut() {
                    if *keys {
                        if r.is_match(&kv.key) {
                            kv.key = replace_regex(r, &kv.key, &replacement, options);
                        }
                    } else if let Some(AnyValue {
                        value: Some(any_value::Value::StringValue(s)),
                    }) = &mut kv.value
                        && r.is_match(s)
                    {
                        *s = replace_regex(r, s, &replacement, options);
                    }
                }
            }
            BuiltinEditor::ReplaceMatch(target, glob, replacement, options) => {
                let current = target.get(item)?;
                let Some(s) = current.as_str() else {
                    return Ok(());
                };
                if glob.matches(s) {
                    let replacement = string_like(&eval(replacement, item)?).unwrap_or_default();
                    target.set(item, Value::Str(Cow::Owned(options.apply(&replacement))))?;
                }
            }
            BuiltinEditor::ReplaceAllMatches(target, glob, replacement, options) => {
                let replacement =
                    options.apply(&string_like(&eval(replacement, item)?).unwrap_or_default());
                for kv in target.map(item)?.iter_mut() {
                    if let Some(AnyValue {
                        value: Some(any_value::Value::StringValue(s)),
                    }) = &mut kv.value
                        && glob.matches(s)
                    {
                        *s = replacement.clone();
                    }
                }
            }
            BuiltinEditor::TruncateAll(target, limit, marker) => {
                for kv in target.map(item)?.iter_mut() {
                    if let Some(AnyValue {
                        value: Some(any_value::Value::StringValue(s)),
                    }) = &mut kv.value
                    {
                        truncate(s, *limit, marker);
                    }
                }
            }
            BuiltinEditor::Limit(target, limit, priority) => {
                let map = target.map(item)?;
                if map.len() > *limit {
                    // Priority keys first, then the others in order.
                    let mut kept = 0;
                    let mut keep = vec![false; map.len()];
                    for (i, kv) in map.iter().enumerate() {
                        if priority.contains(&kv.key) && kept < *limit {
                            keep[i] = true;
                            kept += 1;
                        }
                    }
                    for k in keep.iter_mut() {
                        if !*k && kept < *limit {
                            *k = true;
                            kept += 1;
                        }
                    }
                    let mut i = 0;
                    map.retain(|_| {
                        i += 1;
                        keep[i - 1]
                    });
                }
            }
            BuiltinEditor::MergeMaps(target, source, strategy) => {
                let source = match eval(source, item)?.into_owned() {
                    Value::Map(m) => m.into_owned(),
                    Value::Nil => return Ok(()),
                    other => {
                        return Err(format!(
                            "merge_maps: source is a {}, not a map",
                            other.type_name()
                        ));
                    }
                };
                let map = target.map(item)?;
                for kv in source {
                    let present = map.iter().position(|t| t.key == kv.key);
                    match (present, strategy) {
                        (Some(i), Strategy::Update | Strategy::Upsert) => map[i].value = kv.value,
                        (None, Strategy::Insert | Strategy::Upsert) => map.push(kv),
                        _ => {}
                    }
                }
            }
            BuiltinEditor::Flatten(target, prefix, depth, resolve) => {
                let map = target.map(item)?;
                let mut out = Flattened {
                    result: Vec::with_capacity(map.len()),
                    seen: Vec::new(),
                    depth: *depth,
                    resolve: *resolve,
                };
                out.map(std::mem::take(map), prefix, 0);
                *map = out.result;
            }
            BuiltinEditor::StringifyAll(target) => {
                for kv in target.map(item)?.iter_mut() {
                    let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
                    if !matches!(value, Some(any_value::Value::StringValue(_))) {
                        let mut s = String::new();
                        ferrotel_core::pdata::go::as_string(value, &mut s);
                        kv.value = Some(AnyValue {
                            value: Some(any_value::Value::StringValue(s)),
                        });
                    }
                }
            }
            BuiltinEditor::DeleteIndex(target, start, end) => {
                let index = |g: &Getter, item: &Item<'_>| match eval(g, item)? {
                    Value::Int(i) => usize::try_from(i).map_err(|_| format!("invalid index {i}")),
                    other => Err(format!(
                        "expected an int64 index, got {}",
                        other.type_name()
                    )),
                };
                let start = index(start, item)?;
                let end = end
                    .as_ref()
                    .map(|e| index(e, item))
                    .transpose()?
                    .unwrap_or(start + 1);
                let Value::List(list) = target.get(item)?.into_owned() else {
                    return Err("delete_index: target is not a list".into());
                };
                let mut list = list.into_owned();
                if start >= list.len() || end > list.len() || start >= end {
                    return Err(format!(
                        "invalid range [{start}, {end}) for a list of {}",
                        list.len()
                    ));
                }
                list.drain(start..end);
                target.set(item, Value::List(Cow::Owned(list)))?;
            }
            BuiltinEditor::Append(target, values) => {
                let mut add: Vec<AnyValue> = Vec::new();
                for v in values {
                    match v {
                        Getter::Spread(list) => match eval(list, item)?.into_owned() {
                            Value::List(l) => add.extend(l.into_owned()),
                            other => add.extend(other.into_any()),
                        },
                        g => add.extend(eval(g, item)?.into_owned().into_any()),
                    }
                }
                let mut list: Vec<AnyValue> = match target.get(item)?.into_owned() {
                    Value::List(l) => l.into_owned(),
                    Value::Nil => Vec::new(),
                    other => other.into_any().into_iter().collect(),
                };
                list.extend(add);
                target.set(item, Value::List(Cow::Owned(list)))?;
            }
        }
        Ok(())
    }
}

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

/// `flatten`'s state: Go's `flattenData`, quirks included (a list nested in
/// a list continues its parent's key without a dot).
struct Flattened {
    result: Vec<KeyValue>,
    seen: Vec<(String, usize)>,
    depth: i64,
    resolve: bool,
}

impl Flattened {
    fn map(&mut self, map: Vec<KeyValue>, prefix: &str, depth: i64) {
        let prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}.")
        };
        for kv in map {
            self.value(&kv.key, kv.value.unwrap_or_default(), depth, &prefix);
        }
    }

    fn list(&mut self, items: Vec<AnyValue>, prefix: &str, depth: i64) {
        for (i, v) in items.into_iter().enumerate() {
            self.value(&i.to_string(), v, depth + 1, prefix);
        }
    }

    fn value(&mut self, key: &str, v: AnyValue, depth: i64, prefix: &str) {
        use any_value::Value as V;
        match v.value {
            Some(V::KvlistValue(m)) if depth < self.depth => {
                self.map(m.values, &format!("{prefix}{key}"), depth + 1)
            }
            Some(V::ArrayValue(a)) if depth < self.depth => {
                for (i, item) in a.values.into_iter().enumerate() {
                    let nested = format!("{prefix}{key}.{i}");
                    match item.value {
                        Some(V::KvlistValue(m)) if depth + 1 < self.depth => {
                            self.map(m.values, &nested, depth + 2)
                        }
                        Some(V::ArrayValue(inner)) if depth + 1 < self.depth => {
                            self.list(inner.values, &nested, depth + 2)
                        }
                        value => {
                            let full = format!("{prefix}{key}");
                            if self.resolve {
                                self.put_resolving(full, AnyValue { value });
                            } else {
                                crate::context::put(
                                    &mut self.result,
                                    &nested,
                                    Some(AnyValue { value }),
                                );
                            }
                        }
                    }
                }
            }
            value => {
                let full = format!("{prefix}{key}");
                if self.resolve {
                    self.put_resolving(full, AnyValue { value });
                } else {
                    crate::context::put(&mut self.result, &full, Some(AnyValue { value }));
                }
            }
        }
    }

    fn put_resolving(&mut self, key: String, v: AnyValue) {
        if self.result.iter().any(|kv| kv.key == key) {
            let n = match self.seen.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => {
                    let current = *n;
                    *n += 1;
                    current
                }
                None => {
                    self.seen.push((key.clone(), 1));
                    0
                }
            };
            let new_key = format!("{key}.{n}");
            crate::context::put(&mut self.result, &new_key, Some(v));
        } else {
            self.seen.retain(|(k, _)| *k != key);
            self.seen.push((key.clone(), 0));
            crate::context::put(&mut self.result, &key, Some(v));
        }
    }
}
