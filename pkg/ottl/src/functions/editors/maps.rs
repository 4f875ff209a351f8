//! The editors that change a map in place: `delete_key`,
//! `delete_matching_keys`, `keep_keys`, `keep_matching_keys`,
//! `truncate_all`, `limit`, `merge_maps`, `flatten` (Go's quirks included)
//! and `stringify_all`.

use super::Target;
use crate::context::Item;
use crate::functions::{bind, literal_int, literal_str, regex, string_list};
use crate::parser::Expr;
use crate::registry::{Editor, Registry};
use crate::value::Value;
use crate::{Getter, eval};
use ferrotel_core::pdata::common::{AnyValue, KeyValue, any_value};
use regex::Regex;

pub(super) fn register(registry: &mut Registry) {
    registry.editor("delete_key", |call| {
        let b = bind(call.call, &["target", "key"], 2)?;
        Ok(Box::new(DeleteKey {
            target: call.compiler.map_target(b[0])?,
            key: call.compiler.getter_opt(b[1])?,
        }))
    });
    registry.editor("delete_matching_keys", |call| {
        let b = bind(call.call, &["target", "pattern"], 2)?;
        Ok(Box::new(RetainKeys {
            target: call.compiler.map_target(b[0])?,
            keys: KeySet::Matching(regex(b[1], "delete_matching_keys")?),
            keep: false,
        }))
    });
    registry.editor("keep_keys", |call| {
        let b = bind(call.call, &["target", "keys"], 2)?;
        Ok(Box::new(RetainKeys {
            target: call.compiler.map_target(b[0])?,
            keys: KeySet::Listed(string_list(b[1], "keys")?),
            keep: true,
        }))
    });
    registry.editor("keep_matching_keys", |call| {
        let b = bind(call.call, &["target", "pattern"], 2)?;
        Ok(Box::new(RetainKeys {
            target: call.compiler.map_target(b[0])?,
            keys: KeySet::Matching(regex(b[1], "keep_matching_keys")?),
            keep: true,
        }))
    });
    registry.editor("truncate_all", |call| {
        let b = bind(
            call.call,
            &["target", "limit", "utf8_safe", "truncation_marker"],
            2,
        )?;
        let limit = literal_int(b[1], "limit")?;
        if limit < 0 {
            return Err(format!(
                "invalid limit for truncate_all function, {limit} cannot be negative"
            ));
        }
        // A Rust string cannot hold half a character, so both modes cut at
        // the character boundary at or before the limit.
        if !matches!(b[2], None | Some(Expr::Bool(_))) {
            return Err("utf8_safe must be a bool literal".into());
        }
        let marker = match b[3] {
            None => String::new(),
            e => literal_str(e, "truncation_marker")?.to_string(),
        };
        Ok(Box::new(TruncateAll {
            target: call.compiler.map_target(b[0])?,
            limit: limit as usize,
            marker,
        }))
    });
    registry.editor("limit", |call| {
        let b = bind(call.call, &["target", "limit", "priority_keys"], 2)?;
        let limit = literal_int(b[1], "limit")?;
        if limit < 0 {
            return Err(format!(
                "invalid limit for limit function, {limit} cannot be negative"
            ));
        }
        let priority = match b[2] {
            None => Vec::new(),
            e => string_list(e, "priority_keys")?,
        };
        if priority.len() as i64 > limit {
            return Err(format!(
                "invalid limit for limit function, {limit} cannot be less than number of priority attributes {}",
                priority.len()
            ));
        }
        Ok(Box::new(Limit {
            target: call.compiler.map_target(b[0])?,
            limit: limit as usize,
            priority,
        }))
    });
    registry.editor("merge_maps", |call| {
        let b = bind(call.call, &["target", "source", "strategy"], 3)?;
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
        Ok(Box::new(MergeMaps {
            target: call.compiler.map_target(b[0])?,
            source: call.compiler.getter_opt(b[1])?,
            strategy,
        }))
    });
    registry.editor("flatten", |call| {
        let b = bind(
            call.call,
            &["target", "prefix", "depth", "resolve_conflicts"],
            1,
        )?;
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
        Ok(Box::new(Flatten {
            target: call.compiler.map_target(b[0])?,
            prefix,
            depth,
            resolve,
        }))
    });
    registry.editor("stringify_all", |call| {
        let b = bind(call.call, &["target"], 1)?;
        Ok(Box::new(StringifyAll {
            target: call.compiler.map_target(b[0])?,
        }))
    });
}

/// `delete_key(target, key)`.
struct DeleteKey {
    target: Target,
    key: Getter,
}

impl Editor for DeleteKey {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        // A literal key (the usual case) is compared without evaluating.
        if let Getter::Lit(Value::Str(key)) = &self.key {
            self.target.map(item)?.retain(|kv| kv.key != key.as_ref());
            return Ok(());
        }
        let key = eval(&self.key, item)?.into_owned();
        let key = key.as_str().ok_or("delete_key: key is not a string")?;
        self.target.map(item)?.retain(|kv| kv.key != key);
        Ok(())
    }
}

/// The keys `keep_keys`, `keep_matching_keys` and `delete_matching_keys`
/// name.
enum KeySet {
    Listed(Vec<String>),
    Matching(Regex),
}

impl KeySet {
    fn contains(&self, key: &str) -> bool {
        match self {
            KeySet::Listed(keys) => keys.iter().any(|k| k == key),
            KeySet::Matching(r) => r.is_match(key),
        }
    }
}

/// Keeps the keys of a set (`keep`) or those outside it.
struct RetainKeys {
    target: Target,
    keys: KeySet,
    keep: bool,
}

impl Editor for RetainKeys {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        self.target
            .map(item)?
            .retain(|kv| self.keys.contains(&kv.key) == self.keep);
        Ok(())
    }
}

/// `truncate_all(target, limit, utf8_safe, truncation_marker)`.
struct TruncateAll {
    target: Target,
    limit: usize,
    marker: String,
}

impl Editor for TruncateAll {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        for kv in self.target.map(item)?.iter_mut() {
            if let Some(AnyValue {
                value: Some(any_value::Value::StringValue(s)),
            }) = &mut kv.value
            {
                truncate(s, self.limit, &self.marker);
            }
        }
        Ok(())
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

/// `limit(target, limit, priority_keys)`.
struct Limit {
    target: Target,
    limit: usize,
    priority: Vec<String>,
}

impl Editor for Limit {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        let map = self.target.map(item)?;
        if map.len() <= self.limit {
            return Ok(());
        }
        // Priority keys first, then the others in order.
        let mut kept = 0;
        let mut keep = vec![false; map.len()];
        for (i, kv) in map.iter().enumerate() {
            if self.priority.contains(&kv.key) && kept < self.limit {
                keep[i] = true;
                kept += 1;
            }
        }
        for k in keep.iter_mut() {
            if !*k && kept < self.limit {
                *k = true;
                kept += 1;
            }
        }
        let mut i = 0;
        map.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        Ok(())
    }
}

/// `merge_maps` strategies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Strategy {
    Insert,
    Update,
    Upsert,
}

/// `merge_maps(target, source, strategy)`.
struct MergeMaps {
    target: Target,
    source: Getter,
    strategy: Strategy,
}

impl Editor for MergeMaps {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        let source = match eval(&self.source, item)?.into_owned() {
            Value::Map(m) => m.into_owned(),
            Value::Nil => return Ok(()),
            other => {
                return Err(format!(
                    "merge_maps: source is a {}, not a map",
                    other.type_name()
                ));
            }
        };
        let map = self.target.map(item)?;
        for kv in source {
            let present = map.iter().position(|t| t.key == kv.key);
            match (present, self.strategy) {
                (Some(i), Strategy::Update | Strategy::Upsert) => map[i].value = kv.value,
                (None, Strategy::Insert | Strategy::Upsert) => map.push(kv),
                _ => {}
            }
        }
        Ok(())
    }
}

/// `flatten(target, prefix, depth, resolve_conflicts)`.
struct Flatten {
    target: Target,
    prefix: String,
    depth: i64,
    resolve: bool,
}

impl Editor for Flatten {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        let map = self.target.map(item)?;
        let mut out = Flattened {
            result: Vec::with_capacity(map.len()),
            seen: Vec::new(),
            depth: self.depth,
            resolve: self.resolve,
        };
        out.map(std::mem::take(map), &self.prefix, 0);
        *map = out.result;
        Ok(())
    }
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

/// `stringify_all(target)`: every value of the map as its Go string.
struct StringifyAll {
    target: Target,
}

impl Editor for StringifyAll {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        for kv in self.target.map(item)?.iter_mut() {
            let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
            if !matches!(value, Some(any_value::Value::StringValue(_))) {
                let mut s = String::new();
                ferrotel_core::pdata::go::as_string(value, &mut s);
                kv.value = Some(AnyValue {
                    value: Some(any_value::Value::StringValue(s)),
                });
            }
        }
        Ok(())
    }
}
