//! The `attributes` processor: the attribute actions of
//! `ferrotel_attraction` applied to span attributes, log record attributes
//! and metric data point attributes, as the Go collector's
//! `attributesprocessor` (contrib v0.165) applies them, on the items that
//! match `include` (when given) and do not match `exclude` (see
//! `ferrotel_filterset`). `from_context` reads the batch's client metadata.

use ferrotel_attraction::{ActionConfig, AttrProc};
use ferrotel_core::async_trait;
use ferrotel_core::component::SIGNAL_NOT_SUPPORTED;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, Metadata, ProcessorFactory,
    SharedStage,
};
use ferrotel_core::config::Invalid;
use ferrotel_core::consumer::{Batch, ClientInfo, ConsumeError, Consumer, SharedConsumer};
use ferrotel_core::pdata::common::KeyValue;
use ferrotel_core::pdata::metrics::{Metric, metric};
use ferrotel_core::pdata::{Signal, Telemetry};
use ferrotel_filterset::{ItemKind, MatchConfig, Matcher, Subject};
use serde::Deserialize;
use std::sync::Arc;

/// `attributes` settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The actions, in order.
    pub actions: Vec<ActionConfig>,
    /// Only items matching these.
    pub include: Option<MatchConfig>,
    /// Not items matching these.
    pub exclude: Option<MatchConfig>,
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        if self.actions.is_empty() {
            return Err("missing required field \"actions\"".into());
        }
        AttrProc::new(&self.actions)?;
        Ok(())
    }
}

struct AttributesFactory;

/// The factory for the `attributes` processor.
pub fn factory() -> impl ProcessorFactory {
    AttributesFactory
}

impl ProcessorFactory for AttributesFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        _set: CreateSettings,
        config: Config,
        signal: Signal,
        next: SharedConsumer,
    ) -> Result<SharedStage, ComponentError> {
        let kind = match signal {
            Signal::Traces => ItemKind::Span,
            Signal::Logs => ItemKind::Log,
            Signal::Metrics => ItemKind::Metric,
            Signal::Profiles => return Err(SIGNAL_NOT_SUPPORTED.into()),
        };
        let compile = |c: &Option<MatchConfig>, which: &str| {
            c.as_ref()
                .map(|c| Matcher::new(c, kind).map_err(|e| format!("{which}: {e}")))
                .transpose()
        };
        Ok(Arc::new(AttributesProcessor {
            actions: AttrProc::new(&config.actions)?,
            include: compile(&config.include, "include")?,
            exclude: compile(&config.exclude, "exclude")?,
            next,
        }))
    }
}

struct AttributesProcessor {
    actions: AttrProc,
    include: Option<Matcher>,
    exclude: Option<Matcher>,
    next: SharedConsumer,
}

impl AttributesProcessor {
    fn wanted(&self, s: &Subject<'_>) -> bool {
        self.include.as_ref().is_none_or(|m| m.matches(s))
            && !self.exclude.as_ref().is_some_and(|m| m.matches(s))
    }

    fn point_attributes(m: &mut Metric) -> Vec<&mut Vec<KeyValue>> {
        match &mut m.data {
            Some(metric::Data::Gauge(g)) => g
                .data_points
                .iter_mut()
                .map(|p| &mut p.attributes)
                .collect(),
            Some(metric::Data::Sum(s)) => s
                .data_points
                .iter_mut()
                .map(|p| &mut p.attributes)
                .collect(),
            Some(metric::Data::Histogram(h)) => h
                .data_points
                .iter_mut()
                .map(|p| &mut p.attributes)
                .collect(),
            Some(metric::Data::ExponentialHistogram(h)) => h
                .data_points
                .iter_mut()
                .map(|p| &mut p.attributes)
                .collect(),
            Some(metric::Data::Summary(s)) => s
                .data_points
                .iter_mut()
                .map(|p| &mut p.attributes)
                .collect(),
            None => Vec::new(),
        }
    }

    fn apply(&self, data: &mut Telemetry, client: &ClientInfo) {
        let filtered = self.include.is_some() || self.exclude.is_some();
        match data {
            // Never created for profiles (`SIGNAL_NOT_SUPPORTED`).
            Telemetry::Profiles(_) => {}
            Telemetry::Traces(rs) => {
                for r in rs {
                    let resource = r.resource.as_ref().map_or(&[][..], |r| &r.attributes);
                    for s in &mut r.scope_spans {
                        for span in &mut s.spans {
                            if filtered {
                                let subject = Subject::span(resource, s.scope.as_ref(), span);
                                if !self.wanted(&subject) {
                                    continue;
                                }
                            }
                            self.actions.process(&mut span.attributes, client);
                        }
                    }
                }
            }
            Telemetry::Logs(rs) => {
                for r in rs {
                    let resource = r.resource.as_ref().map_or(&[][..], |r| &r.attributes);
                    for s in &mut r.scope_logs {
                        for log in &mut s.log_records {
                            if filtered {
                                let subject = Subject::log(resource, s.scope.as_ref(), log);
                                if !self.wanted(&subject) {
                                    continue;
                                }
                            }
                            self.actions.process(&mut log.attributes, client);
                        }
                    }
                }
            }
            Telemetry::Metrics(rs) => {
                for r in rs {
                    let resource = r.resource.as_ref().map_or(&[][..], |r| &r.attributes);
                    for s in &mut r.scope_metrics {
                        for m in &mut s.metrics {
                            if filtered {
                                let subject = Subject::metric(resource, s.scope.as_ref(), m);
                                if !self.wanted(&subject) {
                                    continue;
                                }
                            }
                            for attrs in Self::point_attributes(m) {
                                self.actions.process(attrs, client);
                            }
                        }
                    }
                }
            }
        }
    }
}

#[async_trait]
impl Consumer for AttributesProcessor {
    fn persists_before_ack(&self) -> bool {
        self.next.persists_before_ack()
    }

    async fn consume(&self, mut batch: Batch) -> Result<(), ConsumeError> {
        let client = batch.client().clone();
        self.apply(batch.data_mut(), &client);
        self.next.consume(batch).await
    }
}

impl Component for AttributesProcessor {}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrotel_core::pdata::common::{AnyValue, any_value};
    use ferrotel_core::pdata::logs::{LogRecord, ResourceLogs, ScopeLogs};

    fn processor(yaml: &str, signal: Signal) -> Result<AttributesProcessor, String> {
        let config: Config = serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())?;
        config.validate().map_err(|e| e.to_string())?;
        let kind = match signal {
            Signal::Traces => ItemKind::Span,
            Signal::Logs => ItemKind::Log,
            Signal::Metrics => ItemKind::Metric,
            Signal::Profiles => return Err(SIGNAL_NOT_SUPPORTED.into()),
        };
        Ok(AttributesProcessor {
            actions: AttrProc::new(&config.actions)?,
            include: config
                .include
                .as_ref()
                .map(|c| Matcher::new(c, kind))
                .transpose()?,
            exclude: config
                .exclude
                .as_ref()
                .map(|c| Matcher::new(c, kind))
                .transpose()?,
            next: ferrotel_core::testing::nop(),
        })
    }

    fn log(body: &str, severity: i32, attrs: Vec<KeyValue>) -> LogRecord {
        LogRecord {
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue(body.into())),
            }),
            severity_number: severity,
            attributes: attrs,
            ..LogRecord::default()
        }
    }

    fn kv(k: &str, v: &str) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(v.into())),
            }),
            ..KeyValue::default()
        }
    }

    #[test]
    fn include_and_exclude_pick_the_records() {
        let p = processor(
            r#"
actions: [{key: touched, value: true, action: insert}]
include:
  match_type: regexp
  log_bodies: ["^GET "]
  attributes: [{key: env, value: "^prod"}]
exclude:
  match_type: strict
  log_severity_number: {min: WARN, match_undefined: false}
"#,
            Signal::Logs,
        )
        .unwrap();
        let mut data = Telemetry::Logs(vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![
                    log("GET /a", 9, vec![kv("env", "production")]),
                    log("GET /b", 13, vec![kv("env", "production")]),
                    log("POST /c", 9, vec![kv("env", "production")]),
                    log("GET /d", 9, vec![kv("env", "staging")]),
                ],
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }]);
        p.apply(&mut data, &ClientInfo::default());
        let Telemetry::Logs(r) = &data else { panic!() };
        let touched: Vec<bool> = r[0].scope_logs[0]
            .log_records
            .iter()
            .map(|l| l.attributes.iter().any(|kv| kv.key == "touched"))
            .collect();
        assert_eq!(touched, [true, false, false, false]);
    }

    #[test]
    fn errors_are_go_s() {
        assert_eq!(
            processor("{}", Signal::Logs).err().unwrap(),
            "missing required field \"actions\""
        );
        assert_eq!(
            processor(
                "actions: [{key: a, value: 1, action: insert}]\ninclude: {match_type: strict, span_names: [x]}",
                Signal::Logs
            )
            .err()
            .unwrap(),
            "services, span_names, span_kinds and metric_names are not valid for log records"
        );
        assert_eq!(
            processor(
                "actions: [{key: a, value: 1, action: insert}]\ninclude: {match_type: strict, log_bodies: [x]}",
                Signal::Traces
            )
            .err()
            .unwrap(),
            "log_bodies should not be specified for trace spans"
        );
        assert_eq!(
            processor(
                "actions: [{key: a, value: 1, action: insert}]\ninclude: {match_type: fuzzy, services: [x]}",
                Signal::Traces
            )
            .err()
            .unwrap(),
            "unrecognized match_type: 'fuzzy', valid types are: [regexp strict]"
        );
    }
}
