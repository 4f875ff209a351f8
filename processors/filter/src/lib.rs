//! The `filter` processor: drops the items any of its OTTL conditions
//! match, as the Go collector's `filterprocessor` (contrib v0.165) does:
//! `traces: {resource, span, spanevent}`, `metrics: {resource, metric,
//! datapoint}`, `logs: {resource, log_record}` (conditions on that
//! context, paths without a context prefix meaning it), and
//! `trace_conditions`, `metric_conditions`, `log_conditions` (a flat list
//! whose conditions are each put on the context their paths name, or
//! groups `{context, conditions, error_mode}`). Conditions run from the
//! top of the hierarchy down (resource, scope, then the signal's items),
//! so what a higher level dropped is not evaluated again. Resources,
//! scopes and metrics left empty are removed (a span whose events are all
//! dropped stays); a batch left empty goes no further. Conditions are
//! compiled when the config loads. `error_mode` (default `ignore`, as in Go): a condition
//! that fails to evaluate counts as false (`ignore` logs it, `silent` does
//! not), or fails the batch (`propagate`). The legacy form is supported
//! too: `spans`, `logs` and `metrics` `include` (keep only what matches)
//! and `exclude` (drop what matches), with `strict` or `regexp` matching
//! (`expr` is refused); it cannot be combined with OTTL conditions for
//! the same signal, as in Go.

use ferrotel_core::async_trait;
use ferrotel_core::component::SIGNAL_NOT_SUPPORTED;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, Metadata, ProcessorFactory,
    SharedStage,
};
use ferrotel_core::config::Invalid;
use ferrotel_core::consumer::{Batch, ConsumeError, Consumer, SharedConsumer};
use ferrotel_core::pdata::Signal;
use ferrotel_core::pdata::Telemetry;
use ferrotel_core::telemetry::Counter;
use ferrotel_filterset::{
    AttributeConfig, ItemKind, MatchConfig, Matcher, SeverityNumber, Subject,
};
use ferrotel_ottl::{Conditions, ErrorMode, groups};
use serde::Deserialize;
use std::sync::Arc;

/// `filter` settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `ignore` (default, as in Go), `propagate` or `silent`.
    pub error_mode: Option<String>,
    /// Legacy span matching.
    pub spans: Option<SpanMatch>,
    /// Conditions on traces.
    pub traces: TraceFilters,
    /// Conditions on metrics.
    pub metrics: MetricFilters,
    /// Conditions on logs.
    pub logs: LogFilters,
    /// Accepted when empty: ferrotel's processor does not take profiles yet.
    pub profiles: Option<serde_yaml_ng::Value>,
    /// Conditions on traces, context inferred or given per group.
    pub trace_conditions: serde_yaml_ng::Value,
    /// Conditions on metrics, context inferred or given per group.
    pub metric_conditions: serde_yaml_ng::Value,
    /// Conditions on logs, context inferred or given per group.
    pub log_conditions: serde_yaml_ng::Value,
    /// Accepted when empty.
    pub profile_conditions: serde_yaml_ng::Value,
}

/// `traces`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TraceFilters {
    /// Drop resources (with all their spans).
    pub resource: Vec<String>,
    /// Drop spans.
    pub span: Vec<String>,
    /// Drop span events.
    pub spanevent: Vec<String>,
}

/// `metrics`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MetricFilters {
    /// Drop resources.
    pub resource: Vec<String>,
    /// Drop metrics.
    pub metric: Vec<String>,
    /// Drop data points.
    pub datapoint: Vec<String>,
    /// Legacy matching: keep only the metrics that match.
    pub include: Option<MetricMatch>,
    /// Legacy matching: drop the metrics that match.
    pub exclude: Option<MetricMatch>,
    /// Accepted: legacy regexp cache settings.
    pub regexp: Option<serde_yaml_ng::Value>,
}

/// `logs`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LogFilters {
    /// Drop resources.
    pub resource: Vec<String>,
    /// Drop log records.
    pub log_record: Vec<String>,
    /// Legacy matching: keep only the log records that match.
    pub include: Option<LogMatch>,
    /// Legacy matching: drop the log records that match.
    pub exclude: Option<LogMatch>,
}

/// Legacy `spans: {include, exclude}` (the attributes processor's match
/// properties).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SpanMatch {
    /// Keep only the spans that match.
    pub include: Option<MatchConfig>,
    /// Drop the spans that match.
    pub exclude: Option<MatchConfig>,
}

/// Legacy `logs.include`/`logs.exclude`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LogMatch {
    /// `strict` or `regexp`.
    pub match_type: String,
    /// Resource attributes that must all match.
    pub resource_attributes: Vec<AttributeConfig>,
    /// Record attributes that must all match.
    pub record_attributes: Vec<AttributeConfig>,
    /// Severity texts, any of which matches.
    pub severity_texts: Vec<String>,
    /// A minimum severity number.
    pub severity_number: Option<SeverityNumber>,
    /// Bodies, any of which matches.
    pub bodies: Vec<String>,
}

/// Legacy `metrics.include`/`metrics.exclude`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MetricMatch {
    /// `strict` or `regexp` (`expr` is not supported).
    pub match_type: String,
    /// Accepted: regexp cache settings.
    pub regexp: Option<serde_yaml_ng::Value>,
    /// Metric names, any of which matches.
    pub metric_names: Vec<String>,
    /// `expr` expressions; not supported.
    pub expressions: Vec<String>,
    /// Resource attributes that must all match.
    pub resource_attributes: Vec<AttributeConfig>,
}

impl LogMatch {
    fn properties(&self) -> MatchConfig {
        MatchConfig {
            match_type: self.match_type.clone(),
            resources: self.resource_attributes.clone(),
            attributes: self.record_attributes.clone(),
            log_severity_texts: self.severity_texts.clone(),
            log_severity_number: self.severity_number.clone(),
            log_bodies: self.bodies.clone(),
            ..MatchConfig::default()
        }
    }
}

impl MetricMatch {
    fn properties(&self) -> Result<MatchConfig, String> {
        if self.match_type == "expr" || !self.expressions.is_empty() {
            return Err(
                "match_type expr is not supported by ferrotel yet; use OTTL conditions".into(),
            );
        }
        Ok(MatchConfig {
            match_type: self.match_type.clone(),
            metric_names: self.metric_names.clone(),
            resources: self.resource_attributes.clone(),
            ..MatchConfig::default()
        })
    }
}

/// The compiled legacy include/exclude of one signal.
struct Legacy {
    include: Option<Matcher>,
    exclude: Option<Matcher>,
}

impl Legacy {
    fn keeps(&self, s: &Subject<'_>) -> bool {
        self.include.as_ref().is_none_or(|m| m.matches(s))
            && !self.exclude.as_ref().is_some_and(|m| m.matches(s))
    }

    /// Drops what does not pass; returns how many items were dropped.
    fn apply(&self, data: &mut Telemetry) -> usize {
        let before = data.item_count();
        match data {
            // Never created for profiles (`SIGNAL_NOT_SUPPORTED`).
            Telemetry::Profiles(_) => {}
            Telemetry::Traces(rs) => {
                for r in rs.iter_mut() {
                    let resource = r.resource.as_ref().map_or(&[][..], |r| &r.attributes);
                    for s in &mut r.scope_spans {
                        let scope = s.scope.as_ref();
                        s.spans
                            .retain(|span| self.keeps(&Subject::span(resource, scope, span)));
                    }
                    r.scope_spans.retain(|s| !s.spans.is_empty());
                }
                rs.retain(|r| !r.scope_spans.is_empty());
            }
            Telemetry::Logs(rs) => {
                for r in rs.iter_mut() {
                    let resource = r.resource.as_ref().map_or(&[][..], |r| &r.attributes);
                    for s in &mut r.scope_logs {
                        let scope = s.scope.as_ref();
                        s.log_records
                            .retain(|l| self.keeps(&Subject::log(resource, scope, l)));
                    }
                    r.scope_logs.retain(|s| !s.log_records.is_empty());
                }
                rs.retain(|r| !r.scope_logs.is_empty());
            }
            Telemetry::Metrics(rs) => {
                for r in rs.iter_mut() {
                    let resource = r.resource.as_ref().map_or(&[][..], |r| &r.attributes);
                    for s in &mut r.scope_metrics {
                        let scope = s.scope.as_ref();
                        s.metrics
                            .retain(|m| self.keeps(&Subject::metric(resource, scope, m)));
                    }
                    r.scope_metrics.retain(|s| !s.metrics.is_empty());
                }
                rs.retain(|r| !r.scope_metrics.is_empty());
            }
        }
        before - data.item_count()
    }
}

impl Config {
    /// The legacy include/exclude of a signal, if any.
    fn legacy(&self, signal: Signal) -> Result<Option<Legacy>, String> {
        let (kind, key, include, exclude) = match signal {
            Signal::Profiles => return Err(SIGNAL_NOT_SUPPORTED.into()),
            Signal::Traces => {
                let spans = self.spans.clone().unwrap_or_default();
                (ItemKind::Span, "spans", spans.include, spans.exclude)
            }
            Signal::Logs => (
                ItemKind::Log,
                "logs",
                self.logs.include.as_ref().map(LogMatch::properties),
                self.logs.exclude.as_ref().map(LogMatch::properties),
            ),
            Signal::Metrics => (
                ItemKind::Metric,
                "metrics",
                self.metrics
                    .include
                    .as_ref()
                    .map(MetricMatch::properties)
                    .transpose()?,
                self.metrics
                    .exclude
                    .as_ref()
                    .map(MetricMatch::properties)
                    .transpose()?,
            ),
        };
        if include.is_none() && exclude.is_none() {
            return Ok(None);
        }
        let compile = |c: Option<MatchConfig>, which: &str| {
            c.map(|c| Matcher::new(&c, kind).map_err(|e| format!("{key}::{which}: {e}")))
                .transpose()
        };
        Ok(Some(Legacy {
            include: compile(include, "include")?,
            exclude: compile(exclude, "exclude")?,
        }))
    }

    fn error_mode(&self) -> Result<ErrorMode, String> {
        self.error_mode
            .as_deref()
            .map_or(Ok(ErrorMode::Ignore), ErrorMode::parse)
            .map_err(|e| format!("error_mode: {e}"))
    }

    /// The compiled condition sets of a signal, in the order they run.
    fn conditions(&self, signal: Signal) -> Result<Vec<(Conditions, ErrorMode)>, String> {
        let mode = self.error_mode()?;
        // (config key, context, conditions) of the per-context lists.
        type Fixed<'c> = Vec<(&'static str, &'static str, &'c Vec<String>)>;
        let (fixed, key, groups_value): (Fixed<'_>, &str, _) = match signal {
            Signal::Traces => (
                vec![
                    ("traces::resource", "resource", &self.traces.resource),
                    ("traces::span", "span", &self.traces.span),
                    ("traces::spanevent", "spanevent", &self.traces.spanevent),
                ],
                "trace_conditions",
                &self.trace_conditions,
            ),
            Signal::Metrics => (
                vec![
                    ("metrics::resource", "resource", &self.metrics.resource),
                    ("metrics::metric", "metric", &self.metrics.metric),
                    ("metrics::datapoint", "datapoint", &self.metrics.datapoint),
                ],
                "metric_conditions",
                &self.metric_conditions,
            ),
            Signal::Logs => (
                vec![
                    ("logs::resource", "resource", &self.logs.resource),
                    ("logs::log_record", "log", &self.logs.log_record),
                ],
                "log_conditions",
                &self.log_conditions,
            ),
            Signal::Profiles => return Err(SIGNAL_NOT_SUPPORTED.into()),
        };
        let mut out = Vec::new();
        for (key, context, conditions) in fixed {
            if conditions.is_empty() {
                continue;
            }
            let c = Conditions::compile(signal, Some(context), conditions)
                .map_err(|e| format!("{key}: {e}"))?;
            out.push((c, mode));
        }
        for (i, g) in groups::parse(groups_value, key, "conditions")?
            .into_iter()
            .enumerate()
        {
            if g.conditions.is_empty() {
                continue;
            }
            let group_mode = g.error_mode.unwrap_or(mode);
            let compiled = match g.context.as_deref() {
                Some(context) => vec![Conditions::compile(signal, Some(context), &g.conditions)],
                // Each condition on the context its paths name, as Go does.
                None => match Conditions::compile_inferred(signal, &g.conditions) {
                    Ok(groups) => groups.into_iter().map(Ok).collect(),
                    Err(e) => vec![Err(e)],
                },
            };
            for c in compiled {
                out.push((c.map_err(|e| format!("{key}[{i}]: {e}"))?, group_mode));
            }
        }
        // Higher levels first: a dropped resource is not looked into.
        out.sort_by_key(|(c, _)| c.context().level());
        Ok(out)
    }
}

fn set(v: &Option<serde_yaml_ng::Value>) -> bool {
    v.as_ref().is_some_and(|v| !v.is_null())
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        self.error_mode()?;
        for (key, given) in [
            ("profiles", set(&self.profiles)),
            ("profile_conditions", !self.profile_conditions.is_null()),
        ] {
            if given {
                return Err(format!(
                    "{key}: profiles are not supported by ferrotel's filter processor yet"
                )
                .into());
            }
        }
        for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            if self.legacy(signal)?.is_some() && !self.conditions(signal)?.is_empty() {
                return Err(format!(
                    "{signal}: cannot use OTTL conditions and include/exclude at the same time"
                )
                .into());
            }
        }
        for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            self.conditions(signal)?;
        }
        Ok(())
    }
}

struct FilterFactory;

/// The factory for the `filter` processor.
pub fn factory() -> impl ProcessorFactory {
    FilterFactory
}

impl ProcessorFactory for FilterFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        set: CreateSettings,
        config: Config,
        signal: Signal,
        next: SharedConsumer,
    ) -> Result<SharedStage, ComponentError> {
        let id = set.id.to_string();
        let (name, help) = match signal {
            Signal::Traces => (
                "otelcol_processor_filter_spans_filtered",
                "Number of spans dropped by the filter processor",
            ),
            Signal::Metrics => (
                "otelcol_processor_filter_datapoints_filtered",
                "Number of metric data points dropped by the filter processor",
            ),
            Signal::Logs => (
                "otelcol_processor_filter_logs_filtered",
                "Number of logs dropped by the filter processor",
            ),
            Signal::Profiles => return Err(SIGNAL_NOT_SUPPORTED.into()),
        };
        Ok(Arc::new(Filter {
            legacy: config.legacy(signal)?,
            conditions: config.conditions(signal)?,
            filtered: set
                .telemetry
                .registry
                .counter(name, help, &[("filter", id.as_str())]),
            next,
        }))
    }
}

/// The processor of one pipeline.
pub struct Filter {
    legacy: Option<Legacy>,
    conditions: Vec<(Conditions, ErrorMode)>,
    filtered: Counter,
    next: SharedConsumer,
}

#[async_trait]
impl Consumer for Filter {
    fn persists_before_ack(&self) -> bool {
        self.next.persists_before_ack()
    }

    async fn consume(&self, mut batch: Batch) -> Result<(), ConsumeError> {
        if !self.conditions.is_empty() || self.legacy.is_some() {
            let data = batch.data_mut();
            let mut dropped = self.legacy.as_ref().map_or(0, |l| l.apply(data));
            for (c, mode) in &self.conditions {
                dropped += c
                    .drop_matching(data, *mode)
                    .map_err(|e| ConsumeError::Permanent(e.to_string()))?;
            }
            self.filtered.add(dropped as u64);
            if data.is_empty() {
                // Nothing left to send: the batch's job is done.
                return Ok(());
            }
        }
        self.next.consume(batch).await
    }
}

impl Component for Filter {}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> Result<Config, String> {
        let c: Config = serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())?;
        c.validate().map_err(|e| e.to_string())?;
        Ok(c)
    }

    #[test]
    fn config_errors_name_the_key() {
        assert_eq!(
            load("logs: {log_record: ['Nope(body)']}").unwrap_err(),
            "logs::log_record: unable to parse OTTL condition \"Nope(body)\": undefined function \"Nope\""
        );
        assert_eq!(
            load("metric_conditions: ['log.body == \"x\"']").unwrap_err(),
            "metric_conditions[0]: inferred context \"log\" is not valid for metrics (valid: resource, scope, metric, datapoint)"
        );
        assert!(
            load("logs: {include: {match_type: strict}}")
                .unwrap_err()
                .starts_with("logs::include:")
        );
        load("traces: {span: ['attributes[\"a\"] == 1'], spanevent: ['name == \"x\"']}").unwrap();
    }
}
