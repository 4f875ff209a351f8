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
//! dropped stays); a batch left empty goes no further. Conditions are compiled when the
//! config loads. `error_mode` (default `ignore`, as in Go): a condition
//! that fails to evaluate counts as false (`ignore` logs it, `silent` does
//! not), or fails the batch (`propagate`). Not supported yet, and refused at load: the legacy
//! `include`/`exclude` match properties and `spans:`.

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, Metadata, ProcessorFactory,
    SharedStage, Stability,
};
use ferrotel_core::config::Invalid;
use ferrotel_core::consumer::{Batch, ConsumeError, Consumer, SharedConsumer};
use ferrotel_core::ottl::{Conditions, ErrorMode, groups};
use ferrotel_core::pdata::Signal;
use ferrotel_core::telemetry::Counter;
use serde::Deserialize;
use std::sync::Arc;

/// `filter` settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `ignore` (default, as in Go), `propagate` or `silent`.
    pub error_mode: Option<String>,
    /// Legacy span matching; not supported yet.
    pub spans: Option<serde_yaml_ng::Value>,
    /// Conditions on traces.
    pub traces: TraceFilters,
    /// Conditions on metrics.
    pub metrics: MetricFilters,
    /// Conditions on logs.
    pub logs: LogFilters,
    /// Accepted when empty; ferrotel has no profiles signal.
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
    /// Legacy matching; not supported yet.
    pub include: Option<serde_yaml_ng::Value>,
    /// Legacy matching; not supported yet.
    pub exclude: Option<serde_yaml_ng::Value>,
    /// Legacy regexp cache settings; not supported yet.
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
    /// Legacy matching; not supported yet.
    pub include: Option<serde_yaml_ng::Value>,
    /// Legacy matching; not supported yet.
    pub exclude: Option<serde_yaml_ng::Value>,
}

impl Config {
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
            ("spans", set(&self.spans)),
            ("metrics::include", set(&self.metrics.include)),
            ("metrics::exclude", set(&self.metrics.exclude)),
            ("metrics::regexp", set(&self.metrics.regexp)),
            ("logs::include", set(&self.logs.include)),
            ("logs::exclude", set(&self.logs.exclude)),
            ("profiles", set(&self.profiles)),
            ("profile_conditions", !self.profile_conditions.is_null()),
        ] {
            if given {
                return Err(format!(
                    "{key}: the legacy match properties (and profiles) are not supported by ferrotel yet; use OTTL conditions"
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
        Metadata::every_signal("filter", ferrotel_core::module!(), Stability::Beta)
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
        };
        Ok(Arc::new(Filter {
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
        if !self.conditions.is_empty() {
            let data = batch.data_mut();
            let mut dropped = 0;
            for (c, mode) in &self.conditions {
                dropped += c
                    .drop_matching(data, *mode)
                    .map_err(ConsumeError::Permanent)?;
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
