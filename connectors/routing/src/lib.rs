//! The `routing` connector: sends each batch's data to the pipelines of
//! the first routes whose conditions match, as the Go collector's
//! `routingconnector` (contrib v0.149, the last release served here) does.
//! `table` entries have a `condition` (OTTL; `statement: route() where
//! <condition>` is the older form) on a `context` — `resource` (default;
//! whole resources), `span`, `metric` or `log` (single items under their
//! resource and scope), or `request` (`request["<metadata key>"] ==
//! "<value>"` or `!=`, on the client metadata; the whole batch) — an
//! `action`, `move` (default: later routes do not see the data) or `copy`,
//! and the `pipelines` to send to. What no route took goes to
//! `default_pipelines` (or nowhere). Route pipelines must be pipelines that
//! list the connector as a receiver. `error_mode` (default `propagate`):
//! a condition that fails fails the batch, or counts as not matching.

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, ConnectorFactory, CreateSettings, Metadata,
    PipelineId, Routes, SharedStage,
};
use ferrotel_core::config::Invalid;
use ferrotel_core::consumer::{Batch, ConsumeError, Consumer, FanOut, SharedConsumer};
use ferrotel_core::pdata::{Signal, Telemetry};
use ferrotel_ottl::{Conditions, ErrorMode};
use serde::Deserialize;
use std::sync::Arc;

/// `routing` settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `propagate` (default), `ignore` or `silent`.
    pub error_mode: Option<String>,
    /// Where data no route took goes.
    pub default_pipelines: Vec<String>,
    /// The routes, in order.
    pub table: Vec<Route>,
}

/// One routing table entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Route {
    /// `resource` (default), `span`, `metric`, `datapoint`, `log` or
    /// `request`.
    pub context: String,
    /// The older form: `route() where <condition>`.
    pub statement: String,
    /// An OTTL condition (or a request condition).
    pub condition: String,
    /// `move` (default) or `copy`.
    pub action: String,
    /// Pipeline ids to send matches to.
    pub pipelines: Vec<String>,
}

impl Route {
    /// The condition, from either form.
    fn condition(&self) -> Result<&str, String> {
        match (self.statement.as_str(), self.condition.as_str()) {
            ("", "") => Err("invalid route: no condition or statement provided".into()),
            (_, c) if !c.is_empty() && !self.statement.is_empty() => {
                Err("invalid route: both condition and statement provided".into())
            }
            ("", c) => Ok(c),
            (s, _) => s
                .trim()
                .strip_prefix("route()")
                .map(str::trim)
                .and_then(|rest| rest.strip_prefix("where"))
                .map(str::trim)
                .ok_or_else(|| {
                    format!("invalid route statement {s:?}: expected 'route() where <condition>'")
                }),
        }
    }
}

/// `request["key"] == "value"` (or `!=`).
#[derive(Debug)]
struct RequestCondition {
    key: String,
    value: String,
    equal: bool,
}

fn request_condition(c: &str) -> Result<RequestCondition, String> {
    let ops: Vec<_> = ["==", "!="].iter().filter(|op| c.contains(**op)).collect();
    let op = match ops.as_slice() {
        [] => return Err("condition does not contain a valid comparator".into()),
        [op] if c.matches(**op).count() == 1 => **op,
        _ => return Err("condition contains multiple comparators".into()),
    };
    let (left, right) = c.split_once(op).expect("the comparator is there");
    let key = left
        .trim()
        .strip_prefix("request[\"")
        .and_then(|k| k.strip_suffix("\"]"))
        .ok_or("condition must have format 'request[\"<name>\"] <comparator> <value>'")?;
    let value = right
        .trim()
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .ok_or("condition must have format 'request[\"<name>\"] <comparator> \"<value>\"'")?;
    Ok(RequestCondition {
        key: key.to_string(),
        value: value.to_string(),
        equal: op == "==",
    })
}

/// A route compiled for one signal: its matcher, whether it copies, and
/// its pipelines.
type Compiled<'c> = (Option<Matcher>, bool, &'c [String]);

enum Matcher {
    Ottl(Conditions),
    Request(RequestCondition),
}

impl Config {
    fn error_mode(&self) -> Result<ErrorMode, String> {
        self.error_mode
            .as_deref()
            .map_or(Ok(ErrorMode::Propagate), ErrorMode::parse)
            .map_err(|e| format!("error_mode: {e}"))
    }

    /// Each route's matcher for `signal`, `None` for a route on another
    /// signal's context (it never matches this signal's data).
    fn matchers(&self, signal: Signal) -> Result<Vec<Compiled<'_>>, String> {
        if self.table.is_empty() {
            return Err("invalid routing table: the routing table is empty".into());
        }
        self.table
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let at = |e: String| format!("table[{i}]: {e}");
                let condition = r.condition().map_err(at)?;
                if r.pipelines.is_empty() {
                    return Err(at("invalid route: no pipelines defined".into()));
                }
                let copy = match r.action.as_str() {
                    "" | "move" => false,
                    "copy" => true,
                    _ => {
                        return Err(at(
                            "invalid routing action: if provided should be one of move/copy".into(),
                        ));
                    }
                };
                let matcher = match r.context.as_str() {
                    "request" => {
                        if !r.statement.is_empty() {
                            return Err(at("\"request\" context requires a 'condition'".into()));
                        }
                        Some(Matcher::Request(request_condition(condition).map_err(at)?))
                    }
                    "" | "resource" | "span" | "metric" | "datapoint" | "log" => {
                        let context = if r.context.is_empty() {
                            "resource"
                        } else {
                            r.context.as_str()
                        };
                        let own = matches!(
                            (context, signal),
                            ("resource", _)
                                | ("span", Signal::Traces)
                                | ("metric" | "datapoint", Signal::Metrics)
                                | ("log", Signal::Logs)
                        );
                        if own {
                            Some(Matcher::Ottl(
                                Conditions::compile(
                                    signal,
                                    Some(context),
                                    &[condition.to_string()],
                                )
                                .map_err(|e| at(e.to_string()))?,
                            ))
                        } else {
                            None
                        }
                    }
                    other => return Err(at(format!("invalid context: {other}"))),
                };
                Ok((matcher, copy, r.pipelines.as_slice()))
            })
            .collect()
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        self.error_mode()?;
        for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            self.matchers(signal)?;
        }
        for p in self
            .table
            .iter()
            .flat_map(|r| &r.pipelines)
            .chain(&self.default_pipelines)
        {
            PipelineId::parse(p).map_err(|e| format!("pipelines: {e}"))?;
        }
        Ok(())
    }
}

struct RoutingFactory;

/// The factory for the `routing` connector.
pub fn factory() -> impl ConnectorFactory {
    RoutingFactory
}

impl ConnectorFactory for RoutingFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        _set: CreateSettings,
        config: Config,
        signal: Signal,
        _to: Signal,
        routes: Routes,
    ) -> Result<SharedStage, ComponentError> {
        let consumer_of = |names: &[String]| -> Result<Option<SharedConsumer>, String> {
            if names.is_empty() {
                return Ok(None);
            }
            let mut consumers = Vec::new();
            for name in names {
                let id = PipelineId::parse(name).map_err(|e| e.to_string())?;
                if id.signal != signal {
                    continue;
                }
                let c = routes.get(&id).ok_or_else(|| {
                    format!("pipeline {name:?} does not list this routing connector as a receiver")
                })?;
                consumers.push(c.clone());
            }
            Ok((!consumers.is_empty()).then(|| FanOut::of(consumers)))
        };
        let mut table = Vec::new();
        for (matcher, copy, pipelines) in config.matchers(signal)? {
            table.push(RouteStage {
                matcher,
                copy,
                next: consumer_of(pipelines)?,
            });
        }
        Ok(Arc::new(Routing {
            table,
            default: consumer_of(&config.default_pipelines)?,
            mode: config.error_mode()?,
        }))
    }
}

struct RouteStage {
    matcher: Option<Matcher>,
    copy: bool,
    next: Option<SharedConsumer>,
}

struct Routing {
    table: Vec<RouteStage>,
    default: Option<SharedConsumer>,
    mode: ErrorMode,
}

#[async_trait]
impl Consumer for Routing {
    async fn consume(&self, mut batch: Batch) -> Result<(), ConsumeError> {
        let client = batch.client().clone();
        let acks = batch.take_acks();
        let mut data = batch.into_data();
        // Each pipeline's share, merged per consumer.
        let mut sends: Vec<(SharedConsumer, Telemetry)> = Vec::new();
        let mut add = |to: &SharedConsumer, part: Telemetry| {
            if part.is_empty() {
                return;
            }
            match sends.iter_mut().find(|(c, _)| Arc::ptr_eq(c, to)) {
                Some((_, t)) => {
                    let _ = t.merge(part);
                }
                None => sends.push((to.clone(), part)),
            }
        };
        for route in &self.table {
            if data.is_empty() {
                break;
            }
            let part = match &route.matcher {
                None => continue,
                Some(Matcher::Request(r)) => {
                    let found = client.get(&r.key).any(|v| v == r.value);
                    if found != r.equal {
                        continue;
                    }
                    if route.copy {
                        data.clone()
                    } else {
                        let signal = data.signal();
                        std::mem::replace(&mut data, Telemetry::empty(signal))
                    }
                }
                Some(Matcher::Ottl(c)) => c
                    .split_matching(&mut data, route.copy, self.mode)
                    .map_err(|e| ConsumeError::Permanent(e.to_string()))?,
            };
            if let Some(next) = &route.next {
                add(next, part);
            }
        }
        if let Some(default) = &self.default {
            add(default, data);
        }
        let mut worst: Result<(), ConsumeError> = Ok(());
        for (next, part) in sends {
            let batch = Batch::with_client(part, client.clone()).with_acks(acks.clone());
            if let Err(e) = next.consume(batch).await
                && worst.is_ok()
            {
                worst = Err(e);
            }
        }
        worst
    }
}

impl Component for Routing {}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> Result<Config, String> {
        let c: Config = serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())?;
        c.validate().map_err(|e| e.to_string())?;
        Ok(c)
    }

    #[test]
    fn errors_are_go_s() {
        for (yaml, want) in [
            ("{}", "invalid routing table: the routing table is empty"),
            (
                "table: [{pipelines: [traces/a]}]",
                "table[0]: invalid route: no condition or statement provided",
            ),
            (
                "table: [{condition: 'true', pipelines: []}]",
                "table[0]: invalid route: no pipelines defined",
            ),
            (
                "table: [{condition: 'x == 1', statement: 'route()', pipelines: [logs/a]}]",
                "table[0]: invalid route: both condition and statement provided",
            ),
            (
                "table: [{condition: 'true', action: swap, pipelines: [logs/a]}]",
                "table[0]: invalid routing action: if provided should be one of move/copy",
            ),
            (
                "table: [{context: request, condition: 'request[\"t\"] = \"a\"', pipelines: [logs/a]}]",
                "table[0]: condition does not contain a valid comparator",
            ),
            (
                "table: [{context: metricz, condition: 'true', pipelines: [logs/a]}]",
                "table[0]: invalid context: metricz",
            ),
        ] {
            assert_eq!(load(yaml).unwrap_err(), want, "{yaml}");
        }
        load("table: [{statement: 'route() where resource.attributes[\"x\"] == \"y\"', pipelines: [logs/a]}]").unwrap();
        load("table: [{context: request, condition: 'request[\"X-Tenant\"] == \"acme\"', pipelines: [logs/a]}]").unwrap();
    }
}
