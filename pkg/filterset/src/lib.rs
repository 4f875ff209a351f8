//! The legacy `include`/`exclude` match properties of the attributes and
//! filter processors (Go's `internal/filter/filterconfig` at contrib
//! v0.165): `match_type` `strict` (equality) or `regexp` (unanchored RE2,
//! as Go's `MatchString`), then per item kind: services, span names and
//! kinds, log bodies, severity texts and number, metric names, libraries
//! (any of the list matches), attributes and resources (every listed one
//! matches). Every property that is given must match.

use ferrotel_core::pdata::common::{AnyValue, InstrumentationScope, KeyValue, any_value};
use ferrotel_core::pdata::go;
use ferrotel_core::pdata::logs::LogRecord;
use ferrotel_core::pdata::metrics::Metric;
use ferrotel_core::pdata::trace::Span;
use regex::Regex;
use serde::Deserialize;
use serde_yaml_ng::Value as Yaml;

/// `include` or `exclude`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MatchConfig {
    /// `strict` or `regexp`.
    pub match_type: String,
    /// Accepted: the regexp cache settings.
    pub regexp: Option<Yaml>,
    /// Resource `service.name` values.
    pub services: Vec<String>,
    /// Span names.
    pub span_names: Vec<String>,
    /// `SPAN_KIND_*` names.
    pub span_kinds: Vec<String>,
    /// Log bodies (as strings).
    pub log_bodies: Vec<String>,
    /// Log severity texts.
    pub log_severity_texts: Vec<String>,
    /// A minimum severity number.
    pub log_severity_number: Option<SeverityNumber>,
    /// Metric names.
    pub metric_names: Vec<String>,
    /// Item attributes that must all match.
    pub attributes: Vec<AttributeConfig>,
    /// Resource attributes that must all match.
    pub resources: Vec<AttributeConfig>,
    /// Instrumentation scopes, any of which may match.
    pub libraries: Vec<Library>,
}

/// `{key, value}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AttributeConfig {
    /// The key, which must be present.
    pub key: String,
    /// The value it must have (any when absent).
    pub value: Option<Yaml>,
}

/// `{name, version}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Library {
    /// Scope name.
    pub name: String,
    /// Scope version, when given.
    pub version: Option<String>,
}

/// `log_severity_number`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SeverityNumber {
    /// The lowest matching severity number (or name, e.g. `INFO`).
    pub min: Yaml,
    /// Whether records without a severity match.
    pub match_undefined: bool,
}

/// The kind of item matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    /// Spans.
    Span,
    /// Log records.
    Log,
    /// Metric data points.
    Metric,
}

enum Strings {
    Strict(Vec<String>),
    Regexp(Vec<Regex>),
}

impl Strings {
    fn new(list: &[String], regexp: bool) -> Result<Strings, String> {
        Ok(if regexp {
            Strings::Regexp(
                list.iter()
                    .map(|p| {
                        ferrotel_goregex::compile(p)
                            .map_err(|e| format!("error parsing regexp: {e}"))
                    })
                    .collect::<Result<_, _>>()?,
            )
        } else {
            Strings::Strict(list.to_vec())
        })
    }

    fn is_empty(&self) -> bool {
        match self {
            Strings::Strict(l) => l.is_empty(),
            Strings::Regexp(l) => l.is_empty(),
        }
    }

    fn matches(&self, s: &str) -> bool {
        match self {
            Strings::Strict(l) => l.iter().any(|x| x == s),
            Strings::Regexp(l) => l.iter().any(|r| r.is_match(s)),
        }
    }
}

enum ValueMatch {
    Any,
    Equal(AnyValue),
    Pattern(Regex),
}

struct AttributeMatch {
    key: String,
    value: ValueMatch,
}

/// Compiled match properties.
pub struct Matcher {
    services: Strings,
    span_names: Strings,
    span_kinds: Strings,
    log_bodies: Strings,
    log_severity_texts: Strings,
    severity: Option<(i32, bool)>,
    metric_names: Strings,
    attributes: Vec<AttributeMatch>,
    resources: Vec<AttributeMatch>,
    libraries: Vec<(Strings, Option<Strings>)>,
}

fn severity_number(v: &Yaml) -> Result<i32, String> {
    const NAMES: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
    let text = match v {
        Yaml::Number(n) => n.to_string(),
        Yaml::String(s) => s.clone(),
        _ => return Err("log_severity_number::min must be a severity".into()),
    };
    if let Ok(n) = text.parse::<i32>()
        && (1..=24).contains(&n)
    {
        return Ok(n);
    }
    let upper = text.to_uppercase();
    let (name, n) = match upper.char_indices().last() {
        Some((i, c @ '2'..='4')) => (&upper[..i], c as i32 - '0' as i32),
        _ => (upper.as_str(), 1),
    };
    NAMES
        .iter()
        .position(|s| *s == name)
        .map(|base| base as i32 * 4 + n)
        .ok_or_else(|| format!("log_severity_number::min: unrecognized severity number {text:?}"))
}

fn attribute_matches(
    list: &[AttributeConfig],
    regexp: bool,
) -> Result<Vec<AttributeMatch>, String> {
    list.iter()
        .map(|a| {
            if a.key.is_empty() {
                return Err("can't have empty key in the list of attributes".into());
            }
            let value = match &a.value {
                None => ValueMatch::Any,
                Some(v) => {
                    let v = ferrotel_attraction::yaml_to_any(v)?;
                    if regexp {
                        match &v.value {
                            Some(any_value::Value::StringValue(p)) => ValueMatch::Pattern(
                                ferrotel_goregex::compile(p)
                                    .map_err(|e| format!("error parsing regexp: {e}"))?,
                            ),
                            _ => {
                                return Err(format!(
                                    "match_type=regexp for {:?} only supports Str",
                                    a.key
                                ));
                            }
                        }
                    } else {
                        ValueMatch::Equal(v)
                    }
                }
            };
            Ok(AttributeMatch {
                key: a.key.clone(),
                value,
            })
        })
        .collect()
}

fn attributes_match(wanted: &[AttributeMatch], attrs: &[KeyValue]) -> bool {
    wanted.iter().all(|w| {
        let Some(kv) = attrs.iter().find(|kv| kv.key == w.key) else {
            return false;
        };
        let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
        match &w.value {
            ValueMatch::Any => true,
            ValueMatch::Equal(v) => v.value.as_ref() == value,
            ValueMatch::Pattern(r) => match value {
                Some(
                    any_value::Value::StringValue(_)
                    | any_value::Value::BoolValue(_)
                    | any_value::Value::IntValue(_)
                    | any_value::Value::DoubleValue(_),
                ) => {
                    let mut s = String::new();
                    go::as_string(value, &mut s);
                    r.is_match(&s)
                }
                _ => false,
            },
        }
    })
}

/// What an item offers to match against.
pub struct Subject<'a> {
    /// Resource attributes.
    pub resource: &'a [KeyValue],
    /// The scope.
    pub scope: Option<&'a InstrumentationScope>,
    /// The item's attributes.
    pub attributes: &'a [KeyValue],
    /// Span name, or metric name.
    pub name: &'a str,
    /// Span kind.
    pub span_kind: i32,
    /// Log body.
    pub body: Option<&'a AnyValue>,
    /// Log severity text and number.
    pub severity: (&'a str, i32),
}

impl<'a> Subject<'a> {
    /// A span under its resource and scope.
    pub fn span(
        resource: &'a [KeyValue],
        scope: Option<&'a InstrumentationScope>,
        span: &'a Span,
    ) -> Self {
        Subject {
            attributes: &span.attributes,
            name: &span.name,
            span_kind: span.kind,
            ..Self::bare(resource, scope)
        }
    }

    /// A log record under its resource and scope.
    pub fn log(
        resource: &'a [KeyValue],
        scope: Option<&'a InstrumentationScope>,
        log: &'a LogRecord,
    ) -> Self {
        Subject {
            attributes: &log.attributes,
            body: log.body.as_ref(),
            severity: (&log.severity_text, log.severity_number),
            ..Self::bare(resource, scope)
        }
    }

    /// A metric under its resource and scope; its points' attributes are
    /// not part of the subject (Go matches metrics by name only).
    pub fn metric(
        resource: &'a [KeyValue],
        scope: Option<&'a InstrumentationScope>,
        metric: &'a Metric,
    ) -> Self {
        Subject {
            name: &metric.name,
            ..Self::bare(resource, scope)
        }
    }

    fn bare(resource: &'a [KeyValue], scope: Option<&'a InstrumentationScope>) -> Self {
        Subject {
            resource,
            scope,
            attributes: &[],
            name: "",
            span_kind: 0,
            body: None,
            severity: ("", 0),
        }
    }
}

const SPAN_KINDS: [&str; 6] = [
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];

impl Matcher {
    /// Compiles and checks match properties for an item kind; errors are
    /// Go's.
    pub fn new(c: &MatchConfig, kind: ItemKind) -> Result<Matcher, String> {
        let regexp = match c.match_type.as_str() {
            "strict" => false,
            "regexp" => true,
            "" => return Err("error creating processor: match_type must be set".into()),
            other => {
                return Err(format!(
                    "unrecognized match_type: '{other}', valid types are: [regexp strict]"
                ));
            }
        };
        match kind {
            ItemKind::Span => {
                for (given, name) in [
                    (!c.log_bodies.is_empty(), "log_bodies"),
                    (!c.log_severity_texts.is_empty(), "log_severity_texts"),
                    (c.log_severity_number.is_some(), "log_severity_number"),
                    (!c.metric_names.is_empty(), "metric_names"),
                ] {
                    if given {
                        return Err(format!("{name} should not be specified for trace spans"));
                    }
                }
                if c.services.is_empty()
                    && c.span_names.is_empty()
                    && c.attributes.is_empty()
                    && c.libraries.is_empty()
                    && c.resources.is_empty()
                    && c.span_kinds.is_empty()
                {
                    return Err("at least one of \"attributes\", \"libraries\",  or \"resources\" field must be specified".into());
                }
                if !regexp
                    && let Some(k) = c
                        .span_kinds
                        .iter()
                        .find(|k| !SPAN_KINDS.contains(&k.as_str()))
                {
                    return Err(format!(
                        "span_kinds string must match one of the standard span kinds when match_type=strict: {k:?} is not one of {SPAN_KINDS:?}"
                    ));
                }
            }
            ItemKind::Log => {
                if !c.span_names.is_empty()
                    || !c.services.is_empty()
                    || !c.span_kinds.is_empty()
                    || !c.metric_names.is_empty()
                {
                    return Err("services, span_names, span_kinds and metric_names are not valid for log records".into());
                }
                if c.attributes.is_empty()
                    && c.libraries.is_empty()
                    && c.resources.is_empty()
                    && c.log_bodies.is_empty()
                    && c.log_severity_texts.is_empty()
                    && c.log_severity_number.is_none()
                {
                    return Err("at least one of \"attributes\", \"libraries\", \"span_kinds\", \"resources\", \"log_bodies\", \"log_severity_texts\" or \"log_severity_number\" field must be specified".into());
                }
            }
            ItemKind::Metric => {
                if !c.log_bodies.is_empty()
                    || !c.log_severity_texts.is_empty()
                    || !c.span_names.is_empty()
                    || !c.services.is_empty()
                    || !c.span_kinds.is_empty()
                    || !c.attributes.is_empty()
                    || !c.libraries.is_empty()
                    || c.log_severity_number.is_some()
                {
                    return Err("\"span_names\", \"span_kinds\", \"log_bodies\", \"log_severity_texts\", \"log_severity_number\", \"services\", \"attributes\" and \"libraries\" are not valid for metrics".into());
                }
                if c.metric_names.is_empty() && c.resources.is_empty() {
                    return Err(
                        "at least one of \"metric_names\" or \"resources\" field must be specified"
                            .into(),
                    );
                }
            }
        }
        Ok(Matcher {
            services: Strings::new(&c.services, regexp)?,
            span_names: Strings::new(&c.span_names, regexp)?,
            span_kinds: Strings::new(&c.span_kinds, regexp)?,
            log_bodies: Strings::new(&c.log_bodies, regexp)?,
            log_severity_texts: Strings::new(&c.log_severity_texts, regexp)?,
            severity: c
                .log_severity_number
                .as_ref()
                .map(|s| severity_number(&s.min).map(|n| (n, s.match_undefined)))
                .transpose()?,
            metric_names: Strings::new(&c.metric_names, regexp)?,
            attributes: attribute_matches(&c.attributes, regexp)?,
            resources: attribute_matches(&c.resources, regexp)?,
            libraries: c
                .libraries
                .iter()
                .map(|l| {
                    Ok((
                        Strings::new(std::slice::from_ref(&l.name), regexp)?,
                        l.version
                            .as_ref()
                            .map(|v| Strings::new(std::slice::from_ref(v), regexp))
                            .transpose()?,
                    ))
                })
                .collect::<Result<_, String>>()?,
        })
    }

    /// Whether every given property matches.
    pub fn matches(&self, s: &Subject<'_>) -> bool {
        if !self.services.is_empty() {
            let mut service = String::new();
            if let Some(kv) = s.resource.iter().find(|kv| kv.key == "service.name") {
                go::as_string(
                    kv.value.as_ref().and_then(|v| v.value.as_ref()),
                    &mut service,
                );
            }
            if !self.services.matches(&service) {
                return false;
            }
        }
        if !self.span_names.is_empty() && !self.span_names.matches(s.name) {
            return false;
        }
        if !self.metric_names.is_empty() && !self.metric_names.matches(s.name) {
            return false;
        }
        if !self.span_kinds.is_empty() {
            let kind = SPAN_KINDS.get(s.span_kind as usize).copied().unwrap_or("");
            if !self.span_kinds.matches(kind) {
                return false;
            }
        }
        if !self.log_bodies.is_empty() {
            let mut body = String::new();
            go::as_string(s.body.and_then(|b| b.value.as_ref()), &mut body);
            if !self.log_bodies.matches(&body) {
                return false;
            }
        }
        if !self.log_severity_texts.is_empty() && !self.log_severity_texts.matches(s.severity.0) {
            return false;
        }
        if let Some((min, undefined)) = self.severity {
            let n = s.severity.1;
            if !(n >= min || (n == 0 && undefined)) {
                return false;
            }
        }
        if !self.libraries.is_empty() {
            let (name, version) = s
                .scope
                .map_or(("", ""), |sc| (sc.name.as_str(), sc.version.as_str()));
            let any = self
                .libraries
                .iter()
                .any(|(n, v)| n.matches(name) && v.as_ref().is_none_or(|v| v.matches(version)));
            if !any {
                return false;
            }
        }
        attributes_match(&self.attributes, s.attributes)
            && attributes_match(&self.resources, s.resource)
    }
}
