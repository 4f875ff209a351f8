//! Stanza operators: the chain that turns read lines into structured
//! entries.
//!
//! Supported types: `json_parser`, `regex_parser`, `container`,
//! `recombine`, `move`, `copy`, `add`, `remove`, `flatten`, `router` and
//! `noop`, with the common keys `id`, `output` (one id or a list),
//! `on_error` (`send`, `send_quiet`, `drop`, `drop_quiet`) and `if` (the
//! expression subset in [`expr`]); parsers take `parse_from`, `parse_to`
//! and embedded `timestamp` and `severity` blocks. Unknown types and keys,
//! bad regexes, bad layouts and unsupported expressions are config errors.

mod container;
mod expr;
mod time;

use crate::entry::{Entry, Field, Value};
use container::{Container, ContainerConfig};
use expr::Expr;
use regex::Regex;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use time::{SeverityConfig, SeverityParser, TimeParser, TimestampConfig};
use tracing::debug;

/// Why an operator config was refused.
#[derive(Debug, Clone)]
pub(crate) struct OperatorError {
    /// Which operator (its index in the list).
    path: String,
    message: String,
}

impl std::fmt::Display for OperatorError {
    /// `operators[2]: ...`; errors about the chain as a whole name no
    /// operator, as pkg/stanza's do.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "operators[{}]: {}", self.path, self.message)
        }
    }
}

/// The operator types ferrotel has. Others are refused when the config is
/// decoded, as pkg/stanza refuses a type it has not registered.
pub(crate) const TYPES: &[&str] = &[
    "json_parser",
    "regex_parser",
    "container",
    "move",
    "copy",
    "add",
    "remove",
    "flatten",
    "recombine",
    "router",
    "filter",
    "retain",
    "noop",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnError {
    Send,
    SendQuiet,
    Drop,
    DropQuiet,
}

/// What parsers share.
#[derive(Debug, Clone)]
struct ParserCommon {
    from: Field,
    to: Field,
    timestamp: Option<TimeParser>,
    severity: Option<SeverityParser>,
}

impl ParserCommon {
    /// Stores what the parser produced and runs the embedded blocks.
    fn finish(&self, e: &mut Entry, parsed: Value) -> Result<(), String> {
        self.to.set(e, parsed);
        if let Some(t) = &self.timestamp {
            t.apply(e)?;
        }
        if let Some(s) = &self.severity {
            s.apply(e)?;
        }
        Ok(())
    }

    fn text<'a>(&self, e: &'a Entry) -> Result<std::borrow::Cow<'a, str>, String> {
        let v = self.from.get(e).ok_or_else(|| {
            format!(
                "entry is missing the expected parse_from field {}",
                self.from
            )
        })?;
        v.to_text()
            .ok_or_else(|| format!("{} is not text", self.from))
    }
}

/// A compiled `regex_parser`: the group indexes of its named groups, and
/// match positions reused from line to line.
#[derive(Debug)]
struct RegexParser {
    re: Regex,
    names: Vec<(usize, String)>,
    locations: regex::CaptureLocations,
}

#[derive(Debug)]
enum Op {
    Json(ParserCommon),
    Regex(ParserCommon, Box<RegexParser>),
    Container(Box<Container>),
    Move {
        from: Field,
        to: Field,
    },
    Copy {
        from: Field,
        to: Field,
    },
    Add {
        field: Field,
        value: Value,
    },
    Remove {
        field: Field,
    },
    Flatten {
        field: Field,
    },
    Recombine(Box<Recombine>),
    Router(Vec<Route>, Vec<usize>),
    /// Drops entries matching `when`, each with probability `drop_per_mille`/1000.
    Filter {
        when: Expr,
        drop_per_mille: u32,
    },
    Retain(Box<Retain>),
    Noop,
}

/// `retain`: keeps only `fields` of the roots they name; roots no field
/// names are kept whole, as pkg/stanza's retain does.
#[derive(Debug)]
struct Retain {
    fields: Vec<Field>,
    body: bool,
    attributes: bool,
    resource: bool,
}

impl Retain {
    fn apply(&self, e: &mut Entry) {
        let mut kept = Entry::default();
        if !self.resource {
            kept.resource = std::mem::take(&mut e.resource);
        }
        if !self.attributes {
            kept.attributes = std::mem::take(&mut e.attributes);
        }
        if !self.body {
            kept.body = std::mem::take(&mut e.body);
        }
        for field in &self.fields {
            if let Some(v) = field.get(e) {
                field.set(&mut kept, v.clone());
            }
        }
        e.resource = kept.resource;
        e.attributes = kept.attributes;
        e.body = kept.body;
    }
}

#[derive(Debug)]
struct Route {
    when: Expr,
    outputs: Vec<usize>,
    attributes: Vec<(String, Value)>,
}

#[derive(Debug)]
struct Node {
    id: String,
    op: Op,
    when: Option<Expr>,
    on_error: OnError,
    /// Where entries go next; empty means out of the receiver.
    next: Vec<usize>,
}

/// The operators, in order.
#[derive(Debug, Default)]
pub(crate) struct Chain {
    nodes: Vec<Node>,
    /// Entries waiting for their next operator; kept between calls so a
    /// line costs no allocation here.
    work: Vec<(usize, Entry)>,
}

/// `recombine`.
#[derive(Debug)]
struct Recombine {
    field: Field,
    first: Option<Expr>,
    last: Option<Expr>,
    combine_with: String,
    source: Field,
    max_batch_size: usize,
    max_log_size: usize,
    flush_after: Duration,
    keep_newest: bool,
    batches: HashMap<String, (Instant, Vec<Entry>)>,
}

#[derive(Deserialize)]
struct RecombineConfig {
    #[serde(default = "default_body")]
    combine_field: String,
    #[serde(default)]
    is_first_entry: Option<String>,
    #[serde(default)]
    is_last_entry: Option<String>,
    #[serde(default = "default_combine_with")]
    combine_with: String,
    #[serde(default = "default_source")]
    source_identifier: String,
    #[serde(default = "default_batch")]
    max_batch_size: usize,
    #[serde(default)]
    max_unmatched_batch_size: Option<usize>,
    #[serde(default)]
    max_log_size: Option<ferrotel_core::config::ByteSize>,
    #[serde(default)]
    force_flush_period: Option<ferrotel_core::config::GoDuration>,
    #[serde(default)]
    overwrite_with: Option<String>,
    #[serde(default)]
    max_sources: Option<usize>,
}

fn default_body() -> String {
    "body".into()
}
fn default_combine_with() -> String {
    "\n".into()
}
fn default_source() -> String {
    "attributes[\"log.file.path\"]".into()
}
fn default_batch() -> usize {
    1000
}

impl Recombine {
    fn build(c: RecombineConfig) -> Result<Recombine, String> {
        let parse = |s: &Option<String>| s.as_deref().map(Expr::parse).transpose();
        let (first, last) = (parse(&c.is_first_entry)?, parse(&c.is_last_entry)?);
        if first.is_some() == last.is_some() {
            return Err("exactly one of is_first_entry and is_last_entry must be set".into());
        }
        let keep_newest = match c.overwrite_with.as_deref().unwrap_or("newest") {
            "newest" => true,
            "oldest" => false,
            other => {
                return Err(format!(
                    "overwrite_with must be oldest or newest, not {other:?}"
                ));
            }
        };
        let _ = (c.max_unmatched_batch_size, c.max_sources);
        Ok(Recombine {
            field: Field::parse(&c.combine_field)?,
            first,
            last,
            combine_with: c.combine_with,
            source: Field::parse(&c.source_identifier)?,
            max_batch_size: c.max_batch_size.max(1),
            max_log_size: c.max_log_size.map_or(0, |s| s.0 as usize),
            flush_after: c.force_flush_period.map_or(Duration::from_secs(5), |d| d.0),
            keep_newest,
            batches: HashMap::new(),
        })
    }

    fn combine(&self, batch: Vec<Entry>) -> Entry {
        let mut text = String::new();
        for (i, e) in batch.iter().enumerate() {
            if i > 0 {
                text.push_str(&self.combine_with);
            }
            if let Some(t) = self.field.get(e).and_then(Value::to_text) {
                text.push_str(&t);
            }
        }
        if self.max_log_size > 0 && text.len() > self.max_log_size {
            let mut cut = self.max_log_size;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        let origin = batch.first().and_then(|e| e.origin);
        let mut base = if self.keep_newest {
            batch.into_iter().last()
        } else {
            batch.into_iter().next()
        }
        .unwrap_or_default();
        self.field.set(&mut base, Value::Str(text));
        base.origin = origin;
        base
    }

    /// Takes an entry; returns the combined entries it completes.
    fn push(&mut self, e: Entry) -> Vec<Entry> {
        let source = self
            .source
            .get(&e)
            .and_then(Value::to_text)
            .map(|s| s.into_owned())
            .unwrap_or_default();
        let mut out = Vec::new();
        let is_first = self.first.as_ref().is_some_and(|x| x.eval(&e));
        let is_last = self.last.as_ref().is_some_and(|x| x.eval(&e));
        let batch = self
            .batches
            .entry(source.clone())
            .or_insert_with(|| (Instant::now(), Vec::new()));
        if is_first && !batch.1.is_empty() {
            let done = std::mem::take(&mut batch.1);
            out.push(done);
        }
        if batch.1.is_empty() {
            batch.0 = Instant::now();
        }
        batch.1.push(e);
        if is_last || batch.1.len() >= self.max_batch_size {
            out.push(std::mem::take(&mut batch.1));
        }
        if batch.1.is_empty() {
            self.batches.remove(&source);
        }
        out.into_iter().map(|b| self.combine(b)).collect()
    }

    fn flush(&mut self, older_than: Option<Instant>) -> Vec<Entry> {
        let due: Vec<String> = self
            .batches
            .iter()
            .filter(|(_, (since, _))| older_than.is_none_or(|t| *since + self.flush_after <= t))
            .map(|(k, _)| k.clone())
            .collect();
        let batches: Vec<_> = due
            .into_iter()
            .filter_map(|k| self.batches.remove(&k))
            .collect();
        batches.into_iter().map(|(_, b)| self.combine(b)).collect()
    }
}

#[derive(Deserialize)]
struct FromTo {
    from: String,
    to: String,
}

#[derive(Deserialize)]
struct FieldOnly {
    field: String,
}

#[derive(Deserialize)]
struct AddConfig {
    field: String,
    value: serde_yaml_ng::Value,
}

#[derive(Deserialize)]
struct RouteConfig {
    expr: String,
    output: OneOrMany,
    #[serde(default)]
    attributes: std::collections::BTreeMap<String, serde_yaml_ng::Value>,
}

#[derive(Deserialize)]
struct RouterConfig {
    routes: Vec<RouteConfig>,
    #[serde(default)]
    default: Option<OneOrMany>,
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn ids(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

#[derive(Deserialize)]
struct RegexConfig {
    regex: String,
    #[serde(default)]
    cache: Option<serde_yaml_ng::Value>,
}

#[derive(Deserialize)]
struct Empty {}

#[derive(Deserialize)]
#[serde(default)]
struct FilterConfig {
    expr: String,
    drop_ratio: f64,
}

impl Default for FilterConfig {
    fn default() -> FilterConfig {
        FilterConfig {
            expr: String::new(),
            drop_ratio: 1.0,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RetainConfig {
    fields: Vec<String>,
}

/// Decodes an operator's settings. Unknown keys are ignored with a
/// warning: pkg/stanza decodes operators with `WithIgnoreUnused`, so
/// configs Go runs may carry keys no operator reads.
fn decode<T: DeserializeOwned>(m: serde_yaml_ng::Mapping) -> Result<T, String> {
    let value = serde_yaml_ng::Value::Mapping(m);
    let mut ignored = Vec::new();
    let decoded = serde_ignored::deserialize(ferrotel_core::config::GoValue::new(&value), |path| {
        ignored.push(path.to_string())
    })
    .map_err(|e| e.to_string())?;
    if !ignored.is_empty() {
        tracing::warn!(keys = ?ignored, "operator settings ignored: no operator reads them");
    }
    Ok(decoded)
}

fn take_str(m: &mut serde_yaml_ng::Mapping, key: &str) -> Result<Option<String>, String> {
    match m.remove(key) {
        None | Some(serde_yaml_ng::Value::Null) => Ok(None),
        Some(v) => crate::encode::scalar_text(&v)
            .map(Some)
            .ok_or_else(|| format!("`{key}` must be a string")),
    }
}

/// A route before its outputs are resolved.
struct PendingRoute {
    when: Expr,
    output: OneOrMany,
    attributes: Vec<(String, Value)>,
}

/// A parsed operator entry before outputs are resolved.
struct Pending {
    id: String,
    /// The operator's `type`, which is also its id when none is given.
    kind: String,
    op: Op,
    when: Option<Expr>,
    on_error: OnError,
    output: Option<OneOrMany>,
    routes: Vec<PendingRoute>,
    default: Option<OneOrMany>,
}

fn build_parser(m: &mut serde_yaml_ng::Mapping, default_to: &str) -> Result<ParserCommon, String> {
    let from = take_str(m, "parse_from")?.unwrap_or_else(|| "body".into());
    let to = take_str(m, "parse_to")?.unwrap_or_else(|| default_to.into());
    let timestamp = match m.remove("timestamp") {
        Some(v) if !v.is_null() => Some(TimeParser::build(
            &ferrotel_core::config::from_go_value::<TimestampConfig>(&v)
                .map_err(|e| format!("timestamp: {e}"))?,
        )?),
        _ => None,
    };
    let severity = match m.remove("severity") {
        Some(v) if !v.is_null() => Some(SeverityParser::build(
            &ferrotel_core::config::from_go_value::<SeverityConfig>(&v)
                .map_err(|e| format!("severity: {e}"))?,
        )?),
        _ => None,
    };
    Ok(ParserCommon {
        from: Field::parse(&from)?,
        to: Field::parse(&to)?,
        timestamp,
        severity,
    })
}

fn build_one(raw: &serde_yaml_ng::Value) -> Result<Pending, String> {
    let serde_yaml_ng::Value::Mapping(m) = raw else {
        return Err("an operator must be a map with a `type`".into());
    };
    let mut m = m.clone();
    let kind = take_str(&mut m, "type")?.ok_or("missing required `type`")?;
    let id = take_str(&mut m, "id")?.unwrap_or_else(|| kind.clone());
    let output = match m.remove("output") {
        None | Some(serde_yaml_ng::Value::Null) => None,
        Some(v) => {
            Some(serde_yaml_ng::from_value::<OneOrMany>(v).map_err(|e| format!("output: {e}"))?)
        }
    };
    let on_error = match take_str(&mut m, "on_error")?.as_deref() {
        None | Some("send") => OnError::Send,
        Some("send_quiet") => OnError::SendQuiet,
        Some("drop") => OnError::Drop,
        Some("drop_quiet") => OnError::DropQuiet,
        Some(other) => {
            return Err(format!(
                "invalid `on_error` {other:?}: use send, send_quiet, drop or drop_quiet"
            ));
        }
    };
    let when = take_str(&mut m, "if")?
        .map(|s| Expr::parse(&s))
        .transpose()?;
    let mut routes = Vec::new();
    let mut default = None;
    let op = match kind.as_str() {
        "json_parser" => {
            let p = build_parser(&mut m, "attributes")?;
            decode::<Empty>(m)?;
            Op::Json(p)
        }
        "regex_parser" => {
            let p = build_parser(&mut m, "attributes")?;
            let c: RegexConfig = decode(m)?;
            let _ = c.cache;
            let re =
                ferrotel_goregex::compile(&c.regex).map_err(|e| format!("compiling regex: {e}"))?;
            let names: Vec<(usize, String)> = re
                .capture_names()
                .enumerate()
                .filter_map(|(i, name)| name.map(|n| (i, ferrotel_goregex::go_name(n).to_owned())))
                .collect();
            if names.is_empty() {
                return Err("no named capture groups in regex pattern".into());
            }
            let locations = re.capture_locations();
            Op::Regex(
                p,
                Box::new(RegexParser {
                    re,
                    names,
                    locations,
                }),
            )
        }
        "container" => Op::Container(Box::new(Container::build(decode::<ContainerConfig>(m)?)?)),
        "move" => {
            let c: FromTo = decode(m)?;
            Op::Move {
                from: Field::parse(&c.from)?,
                to: Field::parse(&c.to)?,
            }
        }
        "copy" => {
            let c: FromTo = decode(m)?;
            Op::Copy {
                from: Field::parse(&c.from)?,
                to: Field::parse(&c.to)?,
            }
        }
        "add" => {
            let c: AddConfig = decode(m)?;
            if crate::encode::scalar_text(&c.value).is_some_and(|s| s.starts_with("EXPR(")) {
                return Err("EXPR() values are not supported; give a literal value".into());
            }
            Op::Add {
                field: Field::parse(&c.field)?,
                value: Value::from_yaml(&c.value),
            }
        }
        "remove" => Op::Remove {
            field: Field::parse(&decode::<FieldOnly>(m)?.field)?,
        },
        "flatten" => {
            let field = Field::parse(&decode::<FieldOnly>(m)?.field)?;
            if field.root != crate::entry::Root::Body || field.keys.is_empty() {
                return Err("flatten: field must be a key under body".into());
            }
            Op::Flatten { field }
        }
        "recombine" => Op::Recombine(Box::new(Recombine::build(decode(m)?)?)),
        "router" => {
            let c: RouterConfig = decode(m)?;
            for r in c.routes {
                let attrs = r
                    .attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from_yaml(v)))
                    .collect();
                routes.push(PendingRoute {
                    when: Expr::parse(&r.expr)?,
                    output: r.output,
                    attributes: attrs,
                });
            }
            default = c.default;
            Op::Router(Vec::new(), Vec::new())
        }
        "filter" => {
            let c: FilterConfig = decode(m)?;
            let when = Expr::parse(&c.expr)
                .map_err(|e| format!("failed to compile expression '{}': {e}", c.expr))?;
            if !(0.0..=1.0).contains(&c.drop_ratio) {
                return Err("drop_ratio must be a number between 0 and 1".into());
            }
            Op::Filter {
                when,
                drop_per_mille: (c.drop_ratio * 1000.0) as u32,
            }
        }
        "retain" => {
            let c: RetainConfig = decode(m)?;
            if c.fields.is_empty() {
                return Err("retain: 'fields' is empty".into());
            }
            let fields = c
                .fields
                .iter()
                .map(|f| Field::parse(f))
                .collect::<Result<Vec<_>, _>>()?;
            let has = |root: crate::entry::Root| fields.iter().any(|f| f.root == root);
            Op::Retain(Box::new(Retain {
                body: has(crate::entry::Root::Body),
                attributes: has(crate::entry::Root::Attributes),
                resource: has(crate::entry::Root::Resource),
                fields,
            }))
        }
        "noop" => {
            decode::<Empty>(m)?;
            Op::Noop
        }
        other => return Err(format!("unsupported type '{other}'")),
    };
    Ok(Pending {
        id,
        kind,
        op,
        when,
        on_error,
        output,
        routes,
        default,
    })
}

/// Gives repeated default ids distinct names, as `pkg/stanza` does before
/// it builds a pipeline: the first `move` without an `id` keeps `move`, the
/// next become `move1`, `move2`, ... skipping ids already taken. An operator
/// whose `id` is its type counts as a default one, given or not. The scan
/// for a taken id restarts at the second operator after a clash, as Go's
/// loop does; matching it keeps the names Go's users see in its logs.
fn deduplicate_ids(pending: &mut [Pending]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for i in 0..pending.len() {
        if pending[i].id != pending[i].kind {
            continue;
        }
        let kind = pending[i].kind.clone();
        let count = seen.entry(kind.clone()).or_insert(0);
        if *count == 0 {
            *count = 1;
            continue;
        }
        let mut id = format!("{kind}{count}");
        let mut j = 0;
        while j < pending.len() {
            if pending[j].id == id {
                j = 0;
                *count += 1;
                id = format!("{kind}{count}");
            }
            j += 1;
        }
        *count += 1;
        pending[i].id = id;
    }
}

impl Chain {
    /// Builds the chain from the `operators` list.
    pub(crate) fn build(raw: &[serde_yaml_ng::Value]) -> Result<Chain, OperatorError> {
        let err = |i: usize, message: String| OperatorError {
            path: i.to_string(),
            message,
        };
        let mut pending = Vec::with_capacity(raw.len());
        for (i, r) in raw.iter().enumerate() {
            pending.push(build_one(r).map_err(|e| err(i, e))?);
        }
        deduplicate_ids(&mut pending);
        let mut index = HashMap::new();
        for (i, p) in pending.iter().enumerate() {
            if index.insert(p.id.clone(), i).is_some() {
                return Err(OperatorError {
                    path: String::new(),
                    message: format!("operator with id '{}' already exists in pipeline", p.id),
                });
            }
        }
        let ids: Vec<String> = pending.iter().map(|p| p.id.clone()).collect();
        // pkg/stanza's words, with the operator in its JSON detail.
        let resolve = |i: usize, outputs: &OneOrMany| {
            outputs
                .ids()
                .iter()
                .map(|id| {
                    index.get(id).copied().ok_or_else(|| OperatorError {
                        path: String::new(),
                        message: format!(
                            "operator '{id}' does not exist: {{\"operator_id\":{}}}",
                            serde_json::Value::String(ids[i].clone())
                        ),
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let count = pending.len();
        let mut nodes = Vec::with_capacity(count);
        for (i, p) in pending.into_iter().enumerate() {
            let next = match &p.output {
                Some(ids) => resolve(i, ids)?,
                None if i + 1 < count => vec![i + 1],
                None => Vec::new(),
            };
            let op = match p.op {
                Op::Router(..) => {
                    let mut routes = Vec::new();
                    for r in p.routes {
                        routes.push(Route {
                            outputs: resolve(i, &r.output)?,
                            when: r.when,
                            attributes: r.attributes,
                        });
                    }
                    let default = match &p.default {
                        Some(ids) => resolve(i, ids)?,
                        None => Vec::new(),
                    };
                    Op::Router(routes, default)
                }
                op => op,
            };
            nodes.push(Node {
                id: p.id,
                op,
                when: p.when,
                on_error: p.on_error,
                next,
            });
        }
        Ok(Chain {
            nodes,
            work: Vec::new(),
        })
    }

    /// The offset of the earliest entry of `file` that an operator holds
    /// (a recombine batch, a partial container line), if any.
    pub(crate) fn held_from(&self, file: (u64, u64)) -> Option<u64> {
        let mut earliest: Option<u64> = None;
        for node in &self.nodes {
            let held: Box<dyn Iterator<Item = &Entry>> = match &node.op {
                Op::Recombine(r) => Box::new(r.batches.values().flat_map(|(_, b)| b.first())),
                Op::Container(c) => Box::new(c.held()),
                _ => continue,
            };
            for origin in held.filter_map(|e| e.origin) {
                if origin.file == file {
                    earliest = Some(earliest.map_or(origin.offset, |o| o.min(origin.offset)));
                }
            }
        }
        earliest
    }

    /// True when entries pass through unchanged.
    pub(crate) fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Runs one entry through the chain; what comes out is pushed to `out`.
    pub(crate) fn process(&mut self, entry: Entry, out: &mut Vec<Entry>) {
        let mut work = std::mem::take(&mut self.work);
        work.push((0, entry));
        self.run(&mut work, out);
        self.work = work;
    }

    /// Emits what `recombine` and `container` hold for longer than their
    /// flush period, or everything with `all`.
    pub(crate) fn flush(&mut self, all: bool, out: &mut Vec<Entry>) {
        let now = Instant::now();
        let mut work = Vec::new();
        for (i, node) in self.nodes.iter_mut().enumerate() {
            let released = match &mut node.op {
                Op::Recombine(r) => r.flush((!all).then_some(now)),
                Op::Container(c) => c.flush((!all).then_some(now)),
                _ => continue,
            };
            for e in released {
                push_next(&node.next, e, &mut work, out);
            }
            let _ = i;
        }
        self.run(&mut work, out);
    }

    fn run(&mut self, work: &mut Vec<(usize, Entry)>, out: &mut Vec<Entry>) {
        while let Some((i, mut e)) = work.pop() {
            let Some(node) = self.nodes.get_mut(i) else {
                out.push(e);
                continue;
            };
            if node.when.as_ref().is_some_and(|w| !w.eval(&e)) {
                push_next(&node.next, e, work, out);
                continue;
            }
            let result = match &mut node.op {
                Op::Json(p) => json(p, &mut e),
                Op::Regex(p, re) => regex(p, re, &mut e),
                Op::Container(c) => match c.apply(e) {
                    Ok(released) => {
                        for r in released {
                            push_next(&node.next, r, work, out);
                        }
                        continue;
                    }
                    Err(failed) => {
                        let (entry, message) = *failed;
                        e = entry;
                        Err(message)
                    }
                },
                Op::Move { from, to } => match from.delete(&mut e) {
                    Some(v) => {
                        to.set(&mut e, v);
                        Ok(())
                    }
                    None => Err(format!("move: {from} does not exist")),
                },
                Op::Copy { from, to } => match from.get(&e).cloned() {
                    Some(v) => {
                        to.set(&mut e, v);
                        Ok(())
                    }
                    None => Err(format!("copy: {from} does not exist")),
                },
                Op::Add { field, value } => {
                    field.set(&mut e, value.clone());
                    Ok(())
                }
                Op::Remove { field } => match field.delete(&mut e) {
                    Some(_) => Ok(()),
                    None => Err(format!("remove: {field} does not exist")),
                },
                Op::Flatten { field } => flatten(field, &mut e),
                Op::Recombine(r) => {
                    for combined in r.push(e) {
                        push_next(&node.next, combined, work, out);
                    }
                    continue;
                }
                Op::Router(routes, default) => {
                    let route = routes.iter().find(|r| r.when.eval(&e));
                    let (targets, attrs) = match route {
                        Some(r) => (&r.outputs, r.attributes.as_slice()),
                        None => (&*default, &[][..]),
                    };
                    for (k, v) in attrs {
                        e.attributes.push((k.clone(), v.clone()));
                    }
                    // An entry no route takes and no default names is dropped.
                    if !targets.is_empty() {
                        push_next(targets, e, work, out);
                    }
                    continue;
                }
                Op::Filter {
                    when,
                    drop_per_mille,
                } => {
                    // A match is dropped with the configured probability.
                    if when.eval(&e) && fastrand::u32(0..1000) < *drop_per_mille {
                        continue;
                    }
                    Ok(())
                }
                Op::Retain(r) => {
                    r.apply(&mut e);
                    Ok(())
                }
                Op::Noop => Ok(()),
            };
            match result {
                Ok(()) => push_next(&node.next, e, work, out),
                Err(message) => {
                    if matches!(node.on_error, OnError::Send | OnError::Drop) {
                        debug!(operator = %node.id, error = %message, "operator failed");
                    }
                    if matches!(node.on_error, OnError::Send | OnError::SendQuiet) {
                        push_next(&node.next, e, work, out);
                    }
                }
            }
        }
    }
}

fn push_next(next: &[usize], e: Entry, work: &mut Vec<(usize, Entry)>, out: &mut Vec<Entry>) {
    match next {
        [] => out.push(e),
        [one] => work.push((*one, e)),
        many => {
            for n in many {
                work.push((*n, e.clone()));
            }
        }
    }
}

fn json(p: &ParserCommon, e: &mut Entry) -> Result<(), String> {
    let parsed: Value = {
        let text = p.text(e)?;
        serde_json::from_str(&text).map_err(|err| format!("json_parser: {err}"))?
    };
    if !matches!(parsed, Value::Map(_)) {
        return Err("json_parser: the value is not a JSON object".into());
    }
    p.finish(e, parsed)
}

fn regex(p: &ParserCommon, parser: &mut RegexParser, e: &mut Entry) -> Result<(), String> {
    let parsed = {
        let text = p.text(e)?;
        let locations = &mut parser.locations;
        parser
            .re
            .captures_read(locations, &text)
            .ok_or("regex pattern does not match")?;
        let mut map = Vec::with_capacity(parser.names.len());
        for (i, name) in &parser.names {
            if let Some((start, end)) = locations.get(*i) {
                map.push((name.clone(), Value::Str(text[start..end].to_owned())));
            }
        }
        Value::Map(map)
    };
    p.finish(e, parsed)
}

fn flatten(field: &Field, e: &mut Entry) -> Result<(), String> {
    let Some(Value::Map(children)) = field.delete(e) else {
        return Err(format!("flatten: {field} is not a map"));
    };
    let parent = Field {
        root: field.root,
        keys: field.keys[..field.keys.len() - 1].to_vec(),
    };
    for (k, v) in children {
        let mut target = parent.clone();
        target.keys.push(k);
        target.set(e, v);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
