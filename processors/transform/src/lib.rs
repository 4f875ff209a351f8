//! The `transform` processor: OTTL statements (see `ferrotel_ottl`)
//! run on each batch, as the Go collector's `transformprocessor` (contrib
//! v0.165) runs them. `trace_statements`, `metric_statements` and
//! `log_statements` each take a flat list of statements (one group, its
//! context inferred from the paths) or a list of groups `{context,
//! conditions, statements, error_mode}`; groups run in order. Statements
//! are compiled when the config loads: an unknown function, path or enum
//! is a config error naming the statement. `error_mode` (default
//! `ignore`, as in Go) decides whether a failing statement is skipped,
//! logged (`ignore`) or not (`silent`), or fails the batch (`propagate`: a
//! permanent error, since the same data fails again).

mod aggregate;
mod functions;
mod metric_functions;

#[cfg(test)]
mod function_tests;

use ferrotel_core::async_trait;
use ferrotel_core::component::SIGNAL_NOT_SUPPORTED;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, Metadata, ProcessorFactory,
    SharedStage,
};
use ferrotel_core::config::Invalid;
use ferrotel_core::consumer::{Batch, ConsumeError, Consumer, SharedConsumer};
use ferrotel_core::pdata::Signal;
use ferrotel_ottl::{ErrorMode, Program, groups};
use serde::Deserialize;
use std::sync::Arc;

/// `transform` settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `ignore` (default, as in Go), `propagate` or `silent`.
    pub error_mode: Option<String>,
    /// Statements on spans and span events.
    pub trace_statements: serde_yaml_ng::Value,
    /// Statements on metrics and data points.
    pub metric_statements: serde_yaml_ng::Value,
    /// Statements on log records.
    pub log_statements: serde_yaml_ng::Value,
    /// Accepted when empty: ferrotel's processor does not take profiles yet.
    pub profile_statements: serde_yaml_ng::Value,
    /// `flatten.log`: behind a Go feature gate; not supported.
    pub flatten: Option<Flatten>,
}

/// `flatten`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Flatten {
    /// Flatten log records before the statements run.
    pub log: bool,
}

impl Config {
    fn error_mode(&self) -> Result<ErrorMode, String> {
        self.error_mode
            .as_deref()
            .map_or(Ok(ErrorMode::Ignore), ErrorMode::parse)
            .map_err(|e| format!("error_mode: {e}"))
    }

    /// The compiled groups of a signal, with their error modes.
    fn programs(&self, signal: Signal) -> Result<Vec<(Program, ErrorMode)>, String> {
        let (key, value) = match signal {
            Signal::Traces => ("trace_statements", &self.trace_statements),
            Signal::Metrics => ("metric_statements", &self.metric_statements),
            Signal::Logs => ("log_statements", &self.log_statements),
            Signal::Profiles => return Err(SIGNAL_NOT_SUPPORTED.into()),
        };
        let default_mode = self.error_mode()?;
        groups::parse(value, key, "statements")?
            .into_iter()
            .enumerate()
            .map(|(i, g)| {
                Program::compile_with(
                    functions::registry(),
                    signal,
                    g.context.as_deref(),
                    &g.statements,
                    &g.conditions,
                )
                .map(|p| (p, g.error_mode.unwrap_or(default_mode)))
                .map_err(|e| format!("{key}[{i}]: {e}"))
            })
            .collect()
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        self.error_mode()?;
        if self.flatten.as_ref().is_some_and(|f| f.log) {
            return Err("'flatten.log' requires the 'transform.flatten.logs' feature gate, which ferrotel does not have".into());
        }
        if !matches!(&self.profile_statements, serde_yaml_ng::Value::Null)
            && !matches!(&self.profile_statements, serde_yaml_ng::Value::Sequence(s) if s.is_empty())
        {
            return Err("profile_statements: profiles are not supported by ferrotel's transform processor yet".into());
        }
        for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            self.programs(signal)?;
        }
        Ok(())
    }
}

struct TransformFactory;

/// The factory for the `transform` processor.
pub fn factory() -> impl ProcessorFactory {
    TransformFactory
}

impl ProcessorFactory for TransformFactory {
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
        Ok(Arc::new(Transform {
            programs: config.programs(signal)?,
            next,
        }))
    }
}

/// The processor of one pipeline.
pub struct Transform {
    programs: Vec<(Program, ErrorMode)>,
    next: SharedConsumer,
}

impl Transform {
    /// Runs every group on a batch.
    pub fn apply(&self, batch: &mut Batch) -> Result<(), ConsumeError> {
        if self.programs.is_empty() {
            return Ok(());
        }
        let data = batch.data_mut();
        for (program, mode) in &self.programs {
            program
                .run(data, *mode)
                .map_err(|e| ConsumeError::Permanent(e.to_string()))?;
        }
        Ok(())
    }
}

#[async_trait]
impl Consumer for Transform {
    fn persists_before_ack(&self) -> bool {
        self.next.persists_before_ack()
    }

    async fn consume(&self, mut batch: Batch) -> Result<(), ConsumeError> {
        self.apply(&mut batch)?;
        self.next.consume(batch).await
    }
}

impl Component for Transform {}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> Result<Config, String> {
        let c: Config = serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())?;
        c.validate().map_err(|e| e.to_string())?;
        Ok(c)
    }

    #[test]
    fn config_errors_name_the_key_and_statement() {
        assert_eq!(
            load("log_statements: ['set(log.attributes[\"a\"], Nope())']").unwrap_err(),
            "log_statements[0]: unable to parse OTTL statement \"set(log.attributes[\\\"a\\\"], Nope())\": undefined function \"Nope\""
        );
        assert_eq!(
            load("error_mode: loud").unwrap_err(),
            "error_mode: 'loud' is not a valid error mode"
        );
        assert_eq!(
            load(
                "trace_statements:\n  - context: log\n    statements: ['set(attributes[\"a\"], 1)']"
            )
            .unwrap_err(),
            "trace_statements[0]: context \"log\" is not valid for traces (valid: resource, scope, span, spanevent)"
        );
        load("metric_statements:\n  - context: datapoint\n    statements: ['set(attributes[\"a\"], 1)']").unwrap();
    }
}
