//! Tests of the language itself (where clauses, context inference, paths,
//! nested keys and the cache, arithmetic, conditions and splits, error
//! modes, compile and runtime error reporting, the span, span event and
//! metric contexts, the registry) and the fixtures every group's tests
//! share; each function group's tests are in their own file, named as the
//! group's file in `src/functions/`.

mod checks;
mod collections;
mod editors_lists;
mod editors_maps;
mod editors_replace;
mod encoding;
mod hashes;
mod ids;
mod parsing;
mod patterns;
mod strings;
mod time;
mod types;

use crate::{
    Conditions, ContextKind, Converter, Editor, ErrorMode, Expression, Item, OttlError, Program,
    Registry, Value,
};
use ferrotel_core::pdata::common::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value::Value as V,
};
use ferrotel_core::pdata::logs::{LogRecord, ResourceLogs, ScopeLogs};
use ferrotel_core::pdata::metrics::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric,
};
use ferrotel_core::pdata::resource::Resource;
use ferrotel_core::pdata::trace::{ResourceSpans, ScopeSpans, Span, Status, span::Event};
use ferrotel_core::pdata::{Signal, Telemetry};

fn kv(k: &str, v: V) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(v) }),
        ..KeyValue::default()
    }
}

fn s(x: &str) -> V {
    V::StringValue(x.into())
}

/// A list of these values.
fn list(v: Vec<V>) -> V {
    V::ArrayValue(ArrayValue {
        values: v.into_iter().map(|v| AnyValue { value: Some(v) }).collect(),
    })
}

/// A list of these ints.
fn ints(v: &[i64]) -> V {
    list(v.iter().map(|i| V::IntValue(*i)).collect())
}

/// A list of these bools.
fn bools(b: &[bool]) -> V {
    list(b.iter().map(|b| V::BoolValue(*b)).collect())
}

/// One resource (`k8s.namespace.name` prod, `host.name` node-1) with one
/// scope (`lib`) of two records: a GET with a password, a count and a JSON
/// text in its attributes, and a POST whose body is "debug line"; both of
/// severity 9 at 2023-11-14 22:13:20.123 UTC.
fn logs() -> Telemetry {
    let record = |body: &str, attrs: Vec<KeyValue>| LogRecord {
        body: Some(AnyValue {
            value: Some(s(body)),
        }),
        attributes: attrs,
        severity_number: 9,
        time_unix_nano: 1_700_000_000_123_000_000,
        ..LogRecord::default()
    };
    Telemetry::Logs(vec![ResourceLogs {
        resource: Some(Resource {
            attributes: vec![
                kv("k8s.namespace.name", s("prod")),
                kv("host.name", s("node-1")),
            ],
            ..Resource::default()
        }),
        scope_logs: vec![ScopeLogs {
            scope: Some(InstrumentationScope {
                name: "lib".into(),
                ..InstrumentationScope::default()
            }),
            log_records: vec![
                record(
                    "GET /user/42/list/7 password=hunter2 ok",
                    vec![
                        kv("http.method", s("GET")),
                        kv("user.password", s("x")),
                        kv("count", V::IntValue(3)),
                        kv("json", s(r#"{"a": 1, "b": "two"}"#)),
                    ],
                ),
                record("debug line", vec![kv("http.method", s("POST"))]),
            ],
            ..ScopeLogs::default()
        }],
        ..ResourceLogs::default()
    }])
}

/// Compiles the statements with an inferred context and runs them,
/// propagating any error.
fn run(data: &mut Telemetry, statements: &[&str]) {
    let statements: Vec<String> = statements.iter().map(|s| s.to_string()).collect();
    Program::compile(data.signal(), None, &statements, &[])
        .unwrap()
        .run(data, ErrorMode::Propagate)
        .unwrap();
}

/// The log records of [`logs`]'s one scope.
fn records(data: &Telemetry) -> &[LogRecord] {
    let Telemetry::Logs(r) = data else { panic!() };
    &r[0].scope_logs[0].log_records
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a V> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

#[test]
fn set_with_a_where_clause_runs_per_record() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["env"], "prod") where resource.attributes["k8s.namespace.name"] == "prod" and log.attributes["http.method"] == "GET""#,
            r#"set(log.attributes["ns"], resource.attributes["k8s.namespace.name"])"#,
            r#"set(log.severity_text, "INFO") where log.severity_number == SEVERITY_NUMBER_INFO"#,
        ],
    );
    let r = records(&data);
    assert_eq!(attr(&r[0].attributes, "env"), Some(&s("prod")));
    assert_eq!(attr(&r[1].attributes, "env"), None);
    assert_eq!(attr(&r[1].attributes, "ns"), Some(&s("prod")));
    assert_eq!(r[1].severity_text, "INFO");
}

#[test]
fn the_context_is_inferred_as_the_most_specific_one_named() {
    let p = Program::compile(
        Signal::Logs,
        None,
        &[r#"set(resource.attributes["x"], "y")"#.into()],
        &[],
    )
    .unwrap();
    assert_eq!(p.context(), ContextKind::Resource);
    let p = Program::compile(
        Signal::Logs,
        None,
        &[
            r#"set(resource.attributes["x"], "y")"#.into(),
            r#"set(log.body, "z")"#.into(),
        ],
        &[],
    )
    .unwrap();
    assert_eq!(p.context(), ContextKind::Log);
}

#[test]
fn a_given_context_reads_unqualified_paths_as_its_own() {
    // The structured form: unqualified paths are the context's.
    let mut data = logs();
    Program::compile(
        Signal::Logs,
        Some("log"),
        &[r#"set(attributes["seen"], true) where body == "debug line""#.into()],
        &[],
    )
    .unwrap()
    .run(&mut data, ErrorMode::Propagate)
    .unwrap();
    assert_eq!(
        attr(&records(&data)[1].attributes, "seen"),
        Some(&V::BoolValue(true))
    );
}

#[test]
fn group_conditions_choose_the_items_the_statements_run_on() {
    // Group conditions: statements run only where one holds.
    let mut data = logs();
    Program::compile(
        Signal::Logs,
        Some("log"),
        &[r#"set(attributes["matched"], 1)"#.into()],
        &[r#"attributes["http.method"] == "POST""#.into()],
    )
    .unwrap()
    .run(&mut data, ErrorMode::Propagate)
    .unwrap();
    let r = records(&data);
    assert_eq!(attr(&r[0].attributes, "matched"), None);
    assert_eq!(attr(&r[1].attributes, "matched"), Some(&V::IntValue(1)));
}

#[test]
fn set_writes_nested_keys_the_cache_and_map_literals() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["a"]["b"]["c"], "deep")"#,
            r#"set(log.cache["k"], log.attributes["http.method"])"#,
            r#"set(log.attributes["from_cache"], log.cache["k"])"#,
            r#"set(log.attributes["m"], {"x": 1, "y": [true, "z"]})"#,
            r#"set(log.cache["attrs"], log.attributes)"#,
            r#"keep_matching_keys(log.cache["attrs"], "^http")"#,
            r#"set(log.attributes["http_only"], log.cache["attrs"])"#,
        ],
    );
    let Some(V::KvlistValue(http)) = attr(&records(&data)[0].attributes, "http_only") else {
        panic!()
    };
    assert_eq!(http.values.len(), 1);
    let a = &records(&data)[0].attributes;
    let Some(V::KvlistValue(m)) = attr(a, "a") else {
        panic!("{a:?}")
    };
    let Some(V::KvlistValue(inner)) = attr(&m.values, "b") else {
        panic!()
    };
    assert_eq!(attr(&inner.values, "c"), Some(&s("deep")));
    assert_eq!(attr(a, "from_cache"), Some(&s("GET")));
    let Some(V::KvlistValue(KeyValueList { values })) = attr(a, "m") else {
        panic!()
    };
    assert_eq!(values.len(), 2);
}

#[test]
fn arithmetic_follows_parentheses_and_precedence() {
    let mut data = logs();
    run(
        &mut data,
        &[r#"set(log.attributes["math"], (2 + 3) * 4 / 2)"#],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "math"), Some(&V::IntValue(10)));
}

#[test]
fn arithmetic_errors_fail_the_statement_unless_silenced() {
    for statement in [
        r#"set(log.attributes["x"], 1 / 0)"#,
        r#"set(log.attributes["x"], 1 + 1.5)"#,
    ] {
        let p = Program::compile(Signal::Logs, None, &[statement.to_string()], &[]).unwrap();
        let mut data = logs();
        assert!(
            p.run(&mut data, ErrorMode::Propagate).is_err(),
            "{statement}"
        );
        p.run(&mut data, ErrorMode::Silent).unwrap();
    }
}

#[test]
fn conditions_drop_items_and_empty_containers() {
    let mut data = logs();
    let c = Conditions::compile(
        Signal::Logs,
        None,
        &[
            r#"log.attributes["http.method"] == "POST""#.into(),
            "IsMatch(log.body, \"^never\")".into(),
        ],
    )
    .unwrap();
    assert_eq!(c.drop_matching(&mut data, ErrorMode::Propagate).unwrap(), 1);
    assert_eq!(records(&data).len(), 1);
    let all =
        Conditions::compile(Signal::Logs, None, &["log.severity_number >= 9".into()]).unwrap();
    assert_eq!(
        all.drop_matching(&mut data, ErrorMode::Propagate).unwrap(),
        1
    );
    let Telemetry::Logs(r) = &data else { panic!() };
    assert!(r.is_empty(), "the emptied resource is gone");
}

#[test]
fn split_moves_matching_items_with_their_resource_and_scope() {
    let c = Conditions::compile(
        Signal::Logs,
        Some("log"),
        &[r#"attributes["http.method"] == "POST""#.into()],
    )
    .unwrap();
    let mut data = logs();
    let moved = c
        .split_matching(&mut data, false, ErrorMode::Propagate)
        .unwrap();
    assert_eq!(records(&data).len(), 1);
    assert_eq!(records(&moved).len(), 1);
    assert_eq!(
        records(&moved)[0].body.as_ref().unwrap().value,
        Some(s("debug line"))
    );
    let Telemetry::Logs(r) = &moved else { panic!() };
    assert_eq!(
        attr(&r[0].resource.as_ref().unwrap().attributes, "host.name"),
        Some(&s("node-1"))
    );
    assert_eq!(r[0].scope_logs[0].scope.as_ref().unwrap().name, "lib");
}

#[test]
fn split_copies_matching_items_when_asked_and_keeps_them() {
    let c = Conditions::compile(
        Signal::Logs,
        Some("log"),
        &[r#"attributes["http.method"] == "POST""#.into()],
    )
    .unwrap();
    let mut data = logs();
    let copied = c
        .split_matching(&mut data, true, ErrorMode::Propagate)
        .unwrap();
    assert_eq!((records(&data).len(), records(&copied).len()), (2, 1));
}

#[test]
fn split_on_a_resource_condition_moves_the_whole_resource() {
    let by_resource = Conditions::compile(
        Signal::Logs,
        None,
        &[r#"resource.attributes["k8s.namespace.name"] == "prod""#.into()],
    )
    .unwrap();
    let mut data = logs();
    let moved = by_resource
        .split_matching(&mut data, false, ErrorMode::Propagate)
        .unwrap();
    assert_eq!(records(&moved).len(), 2);
    let Telemetry::Logs(rest) = &data else {
        panic!()
    };
    assert!(rest.is_empty());
}

#[test]
fn split_moves_data_points_under_a_copy_of_their_metric() {
    let mut data = Telemetry::Metrics(vec![ResourceMetrics {
        scope_metrics: vec![ScopeMetrics {
            metrics: vec![Metric {
                name: "m".into(),
                data: Some(metric::Data::Gauge(Gauge {
                    data_points: (0..4)
                        .map(|i| NumberDataPoint {
                            value: Some(
                                ferrotel_core::pdata::metrics::number_data_point::Value::AsInt(i),
                            ),
                            ..NumberDataPoint::default()
                        })
                        .collect(),
                })),
                ..Metric::default()
            }],
            ..ScopeMetrics::default()
        }],
        ..ResourceMetrics::default()
    }]);
    let c = Conditions::compile(
        Signal::Metrics,
        Some("datapoint"),
        &["value_int >= 2".into()],
    )
    .unwrap();
    let moved = c
        .split_matching(&mut data, false, ErrorMode::Propagate)
        .unwrap();
    assert_eq!((data.item_count(), moved.item_count()), (2, 2));
    let Telemetry::Metrics(m) = &moved else {
        panic!()
    };
    assert_eq!(m[0].scope_metrics[0].metrics[0].name, "m");
    let all = Conditions::compile(
        Signal::Metrics,
        Some("datapoint"),
        &["value_int >= 0".into()],
    )
    .unwrap();
    let rest = all
        .split_matching(&mut data, false, ErrorMode::Propagate)
        .unwrap();
    assert_eq!((data.item_count(), rest.item_count()), (0, 2));
    let Telemetry::Metrics(left) = &data else {
        panic!()
    };
    assert!(
        left.is_empty(),
        "the emptied metric, scope and resource are gone"
    );
}

#[test]
fn propagate_fails_the_batch_and_ignore_goes_on_to_the_next_statement() {
    let statements = vec![
        r#"set(log.attributes["n"], Int(log.body))"#.to_string(),
        r#"set(log.attributes["after"], true)"#.to_string(),
    ];
    let p = Program::compile(Signal::Logs, None, &statements, &[]).unwrap();
    let mut data = logs();
    let err = p
        .run(&mut data, ErrorMode::Propagate)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "failed to execute statement: set(log.attributes[\"n\"], Int(log.body)), Int:"
        ),
        "{err}"
    );
    let mut data = logs();
    p.run(&mut data, ErrorMode::Ignore).unwrap();
    assert_eq!(
        attr(&records(&data)[1].attributes, "after"),
        Some(&V::BoolValue(true))
    );
}

#[test]
fn span_and_span_event_contexts_read_and_write_their_fields() {
    let mut traces = Telemetry::Traces(vec![ResourceSpans {
        resource: None,
        scope_spans: vec![ScopeSpans {
            spans: vec![Span {
                name: "GET /a".into(),
                kind: 2,
                start_time_unix_nano: 1_000,
                end_time_unix_nano: 5_000,
                events: vec![Event {
                    name: "exception".into(),
                    ..Event::default()
                }],
                status: Some(Status::default()),
                ..Span::default()
            }],
            ..ScopeSpans::default()
        }],
        ..ResourceSpans::default()
    }]);
    run(
        &mut traces,
        &[
            r#"set(span.status.code, STATUS_CODE_ERROR) where span.kind == SPAN_KIND_SERVER"#,
            r#"set(span.attributes["duration"], span.end_time_unix_nano - span.start_time_unix_nano)"#,
        ],
    );
    run(
        &mut traces,
        &[r#"set(spanevent.attributes["span"], span.name) where spanevent.name == "exception""#],
    );
    let Telemetry::Traces(r) = &traces else {
        panic!()
    };
    let span = &r[0].scope_spans[0].spans[0];
    assert_eq!(span.status.as_ref().unwrap().code, 2);
    assert_eq!(
        attr(&span.attributes, "duration"),
        Some(&V::IntValue(4_000))
    );
    assert_eq!(attr(&span.events[0].attributes, "span"), Some(&s("GET /a")));
}

#[test]
fn metric_and_datapoint_contexts_read_and_write_their_fields() {
    let mut metrics = Telemetry::Metrics(vec![ResourceMetrics {
        scope_metrics: vec![ScopeMetrics {
            metrics: vec![Metric {
                name: "kube_pod_status".into(),
                data: Some(metric::Data::Gauge(Gauge {
                    data_points: vec![NumberDataPoint::default(), NumberDataPoint::default()],
                })),
                ..Metric::default()
            }],
            ..ScopeMetrics::default()
        }],
        ..ResourceMetrics::default()
    }]);
    run(
        &mut metrics,
        &[r#"replace_pattern(metric.name, "^kube_([0-9A-Za-z]+_)", "k8s.$$1.")"#],
    );
    run(
        &mut metrics,
        &[
            r#"set(datapoint.attributes["kind"], "gauge") where metric.type == METRIC_DATA_TYPE_GAUGE"#,
        ],
    );
    let Telemetry::Metrics(r) = &metrics else {
        panic!()
    };
    let m = &r[0].scope_metrics[0].metrics[0];
    assert_eq!(
        m.name, "k8s.$1.status",
        "$$ is a literal $ once config expansion is done"
    );
    let Some(metric::Data::Gauge(g)) = &m.data else {
        panic!()
    };
    assert!(
        g.data_points
            .iter()
            .all(|p| attr(&p.attributes, "kind") == Some(&s("gauge")))
    );
}

#[test]
fn errors_say_what_failed_and_where() {
    let compile = |statement: &str| {
        Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
            .err()
            .unwrap()
    };
    assert!(matches!(
        compile(r#"set(log.body, Nope())"#),
        OttlError::Statement { text, message }
            if text == "set(log.body, Nope())" && message == "undefined function \"Nope\""
    ));
    assert!(matches!(
        compile(r#"set(attributes["a"], 1)"#),
        OttlError::Context(_)
    ));
    let p = Program::compile(
        Signal::Logs,
        None,
        &[r#"set(log.attributes["n"], Int(log.body))"#.to_string()],
        &[],
    )
    .unwrap();
    assert!(matches!(
        p.run(&mut logs(), ErrorMode::Propagate),
        Err(OttlError::Execution { .. })
    ));
    let c = Conditions::compile(Signal::Logs, None, &[r#"Int(log.body) > 1"#.to_string()]).unwrap();
    assert!(matches!(
        c.drop_matching(&mut logs(), ErrorMode::Propagate),
        Err(OttlError::Evaluation { .. })
    ));
}

#[test]
fn compile_errors_name_the_function_and_the_statement() {
    let err = |statement: &str| {
        Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
            .err()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        err(r#"set(log.attributes["a"], Nope(log.body))"#),
        r#"unable to parse OTTL statement "set(log.attributes[\"a\"], Nope(log.body))": undefined function "Nope""#
    );
    assert_eq!(
        err(r#"frobnicate(log.body)"#),
        r#"unable to parse OTTL statement "frobnicate(log.body)": undefined function "frobnicate""#
    );
    assert_eq!(
        err(r#"set(log.nope, 1)"#),
        r#"unable to parse OTTL statement "set(log.nope, 1)": path "log.nope" is not a valid path for the log context"#
    );
    assert_eq!(
        err(r#"set(log.body)"#),
        r#"unable to parse OTTL statement "set(log.body)": incorrect number of arguments. Expected: 2 Received: 1"#
    );
    assert_eq!(
        err(r#"set(log.severity_number, SEVERITY_NUMBER_LOUD)"#),
        r#"unable to parse OTTL statement "set(log.severity_number, SEVERITY_NUMBER_LOUD)": enum symbol, SEVERITY_NUMBER_LOUD, not found"#
    );
    assert!(err(r#"set(span.name, "x")"#).contains("is not valid for logs"));
    assert!(err(r#"set(attributes["a"], 1)"#).contains("unable to infer a context"));
    let structured = Program::compile(
        Signal::Logs,
        Some("log"),
        &[r#"set(span.name, "x")"#.into()],
        &[],
    )
    .err()
    .unwrap()
    .to_string();
    assert!(structured.contains("cannot reach"), "{structured}");
}

#[test]
fn an_editor_cannot_be_used_as_a_value() {
    let (statement, want) = (
        r#"set(log.attributes["x"], set(log.body, 1))"#,
        "cannot be used as a value",
    );
    let err = Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains(want), "{statement}: {err}");
}

#[test]
fn a_registry_takes_functions_of_a_component_and_keeps_the_standard_ones() {
    /// `Greeting(name)`: "hello, <name>".
    struct Greeting(Expression);
    impl Converter for Greeting {
        fn call<'s>(&'s self, item: &'s Item<'_>) -> Result<Value<'s>, String> {
            let name = self.0.eval(item)?;
            let name = name.as_str().ok_or("Greeting: name is not a string")?;
            Ok(Value::Str(std::borrow::Cow::Owned(format!(
                "hello, {name}"
            ))))
        }
    }
    /// `clear_body()`: empties the log body.
    struct ClearBody;
    impl Editor for ClearBody {
        fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
            item.log.as_deref_mut().ok_or("no log record")?.body = None;
            Ok(())
        }
    }
    let mut registry = Registry::standard().clone();
    registry
        .converter("Greeting", |call| {
            let args = call.bind(&["name"], 1)?;
            Ok(Box::new(Greeting(args.expression(0)?.expect("required"))))
        })
        .editor("clear_body", |call| {
            call.bind(&[], 0)?;
            Ok(Box::new(ClearBody))
        });
    let statements = [
        r#"set(log.attributes["greeting"], Greeting(log.attributes["http.method"]))"#.to_string(),
        "clear_body()".to_string(),
        r#"set(log.attributes["loud"], ToUpperCase(log.attributes["greeting"]))"#.to_string(),
    ];
    let mut data = logs();
    let program = Program::compile_with(&registry, Signal::Logs, None, &statements, &[]).unwrap();
    program.run(&mut data, ErrorMode::Propagate).unwrap();
    let first = &records(&data)[0];
    assert_eq!(attr(&first.attributes, "greeting"), Some(&s("hello, GET")));
    assert_eq!(attr(&first.attributes, "loud"), Some(&s("HELLO, GET")));
    assert!(first.body.is_none());
    // The standard registry does not have them.
    let err = Program::compile(Signal::Logs, Some("log"), &statements[1..2], &[])
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("undefined function \"clear_body\""), "{err}");
}
