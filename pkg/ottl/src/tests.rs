use super::*;
use ferrotel_core::pdata::common::{
    AnyValue, InstrumentationScope, KeyValue, KeyValueList, any_value::Value as V,
};
use ferrotel_core::pdata::logs::{LogRecord, ResourceLogs, ScopeLogs};
use ferrotel_core::pdata::metrics::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric,
};
use ferrotel_core::pdata::resource::Resource;
use ferrotel_core::pdata::trace::{ResourceSpans, ScopeSpans, Span, Status, span::Event};

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

fn run(data: &mut Telemetry, statements: &[&str]) {
    let statements: Vec<String> = statements.iter().map(|s| s.to_string()).collect();
    Program::compile(data.signal(), None, &statements, &[])
        .unwrap()
        .run(data, ErrorMode::Propagate)
        .unwrap();
}

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
fn the_context_is_inferred_or_given() {
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
fn map_editors() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"delete_key(log.attributes, "count")"#,
            r#"delete_matching_keys(log.attributes, "(?i).*password.*")"#,
        ],
    );
    let keys: Vec<&str> = records(&data)[0]
        .attributes
        .iter()
        .map(|kv| kv.key.as_str())
        .collect();
    assert_eq!(keys, ["http.method", "json"]);
    let mut data = logs();
    run(
        &mut data,
        &[r#"keep_keys(log.attributes, ["count", "json"])"#],
    );
    assert_eq!(records(&data)[0].attributes.len(), 2);
    let mut data = logs();
    run(
        &mut data,
        &[r#"keep_matching_keys(log.attributes, "^http")"#],
    );
    assert_eq!(records(&data)[0].attributes.len(), 1);
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"limit(log.attributes, 2, ["json"])"#,
            r#"truncate_all(resource.attributes, 3, true, "...")"#,
        ],
    );
    let kept: Vec<&str> = records(&data)[0]
        .attributes
        .iter()
        .map(|kv| kv.key.as_str())
        .collect();
    assert_eq!(kept, ["http.method", "json"]);
    let Telemetry::Logs(r) = &data else { panic!() };
    let res = &r[0].resource.as_ref().unwrap().attributes;
    assert_eq!(attr(res, "k8s.namespace.name"), Some(&s("pro...")));
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"merge_maps(log.attributes, ParseJSON(log.attributes["json"]), "upsert") where IsMatch(log.attributes["json"], "^\\{")"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(
        attr(a, "a"),
        Some(&V::DoubleValue(1.0)),
        "JSON numbers are float64, as in Go"
    );
    assert_eq!(attr(a, "b"), Some(&s("two")));
}

#[test]
fn replacing() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"replace_pattern(log.body, "password=[^\\s]*(\\s?)", "password=***$1")"#,
            r#"replace_all_patterns(log.attributes, "key", "^http\\.(.*)", "h.$1")"#,
            r#"replace_all_patterns(log.attributes, "value", "^G(ET)$", "g$1")"#,
            r#"replace_match(resource.attributes["host.name"], "node-*", "a-node")"#,
        ],
    );
    let r = &records(&data)[0];
    assert_eq!(
        r.body.as_ref().unwrap().value,
        Some(s("GET /user/42/list/7 password=*** ok"))
    );
    assert_eq!(attr(&r.attributes, "h.method"), Some(&s("gET")));
    let Telemetry::Logs(rl) = &data else { panic!() };
    assert_eq!(
        attr(&rl[0].resource.as_ref().unwrap().attributes, "host.name"),
        Some(&s("a-node"))
    );
    let mut data = logs();
    run(
        &mut data,
        &[r#"replace_pattern(log.body, "/user/(\\d+)/", "$1", SHA256, "/user/%s/")"#],
    );
    assert_eq!(
        records(&data)[0].body.as_ref().unwrap().value,
        Some(s(
            "GET /user/73475cb40a568e8da8a045ced110137e159f890ac4da883b6b17dc651b3a8049/list/7 password=hunter2 ok"
        ))
    );
    let mut data = logs();
    run(
        &mut data,
        &[r#"replace_all_matches(log.attributes, "GE?", "verb")"#],
    );
    assert_eq!(
        attr(&records(&data)[0].attributes, "http.method"),
        Some(&s("verb"))
    );
}

#[test]
fn converters() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["c"], Concat([log.attributes["http.method"], "x", 1, nil], "-"))"#,
            r#"set(log.attributes["second"], Split(log.body, " ")[1])"#,
            r#"set(log.attributes["upper"], ConvertCase(log.attributes["http.method"], "lower"))"#,
            r#"set(log.attributes["snake"], ConvertCase("HttpMethod", "snake"))"#,
            r#"set(log.attributes["int"], Int("42"))"#,
            r#"set(log.attributes["double"], Double(log.attributes["count"]))"#,
            r#"set(log.attributes["string"], String(log.attributes["count"]))"#,
            r#"set(log.attributes["hash"], SHA256("a"))"#,
            r#"set(log.attributes["len"], Len(log.body))"#,
            r#"set(log.attributes["sub"], Substring(log.body, 0, 3))"#,
            r#"set(log.attributes["t"], UnixNano(Time("2023-11-14T22:13:20.500Z", "%Y-%m-%dT%H:%M:%S.%LZ")))"#,
            r#"set(log.attributes["since"], UnixNano(log.time) - 1700000000000000000)"#,
            r#"set(log.attributes["user"], ExtractPatterns(log.body, "/user/(?P<id>\\d+)/")["id"])"#,
            r#"set(log.attributes["math"], (2 + 3) * 4 / 2)"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "c"), Some(&s("GET-x-1-<nil>")));
    assert_eq!(attr(a, "second"), Some(&s("/user/42/list/7")));
    assert_eq!(attr(a, "upper"), Some(&s("get")));
    assert_eq!(attr(a, "snake"), Some(&s("http_method")));
    assert_eq!(attr(a, "int"), Some(&V::IntValue(42)));
    assert_eq!(attr(a, "double"), Some(&V::DoubleValue(3.0)));
    assert_eq!(attr(a, "string"), Some(&s("3")));
    assert_eq!(
        attr(a, "hash"),
        Some(&s(
            "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
        ))
    );
    assert_eq!(attr(a, "len"), Some(&V::IntValue(39)));
    assert_eq!(attr(a, "sub"), Some(&s("GET")));
    assert_eq!(attr(a, "t"), Some(&V::IntValue(1_700_000_000_500_000_000)));
    assert_eq!(attr(a, "since"), Some(&V::IntValue(123_000_000)));
    assert_eq!(attr(a, "user"), Some(&s("42")));
    assert_eq!(attr(a, "math"), Some(&V::IntValue(10)));
}

#[test]
fn nested_keys_and_maps() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["a"]["b"]["c"], "deep")"#,
            r#"set(log.cache["k"], log.attributes["http.method"])"#,
            r#"set(log.attributes["from_cache"], log.cache["k"])"#,
            r#"set(log.attributes["m"], {"x": 1, "y": [true, "z"]})"#,
            r#"append(log.attributes["list"], "one")"#,
            r#"append(log.attributes["list"], values=["two", "three"])"#,
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
    let Some(V::ArrayValue(list)) = attr(a, "list") else {
        panic!()
    };
    assert_eq!(list.values.len(), 3);
    let Some(V::KvlistValue(KeyValueList { values })) = attr(a, "m") else {
        panic!()
    };
    assert_eq!(values.len(), 2);
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
fn error_modes() {
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
fn spans_events_and_metrics() {
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
    assert!(err(r#"delete_matching_keys(log.attributes, "(")"#).contains("not a valid pattern"));
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
fn split_moves_or_copies_matching_items_with_their_resource() {
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

    let mut data = logs();
    let copied = c
        .split_matching(&mut data, true, ErrorMode::Propagate)
        .unwrap();
    assert_eq!((records(&data).len(), records(&copied).len()), (2, 1));

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
fn the_other_converters() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["bool"], Bool("true"))"#,
            r#"set(log.attributes["hex"], Hex("ab"))"#,
            r#"set(log.attributes["types"], Concat([IsString(log.body), IsInt(log.attributes["count"]), IsDouble(1.5), IsBool(true), IsMap(log.attributes), IsList([1])], ","))"#,
            r#"set(log.attributes["ms"], UnixMilli(log.time))"#,
            r#"set(log.attributes["s"], UnixSeconds(log.time))"#,
            r#"set(log.attributes["unix"], UnixNano(Unix(1700000000, 5)))"#,
            r#"set(log.attributes["prefix"], HasPrefix(log.body, "GET"))"#,
            r#"set(log.attributes["suffix"], HasSuffix(log.body, "nope"))"#,
            r#"set(log.attributes["up"], ToUpperCase("abc"))"#,
            r#"set(log.attributes["low"], ToLowerCase("ABC"))"#,
            r#"set(log.attributes["camel"], ConvertCase("http_request_method", "camel"))"#,
            r#"set(log.attributes["later"], true) where Now() > log.time"#,
            r#"set(log.attributes["dur"], UnixNano(Unix(0) + Duration("1m30s")))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "bool"), Some(&V::BoolValue(true)));
    assert_eq!(attr(a, "hex"), Some(&s("6162")));
    assert_eq!(attr(a, "types"), Some(&s("true,true,true,true,true,true")));
    assert_eq!(attr(a, "ms"), Some(&V::IntValue(1_700_000_000_123)));
    assert_eq!(attr(a, "s"), Some(&V::IntValue(1_700_000_000)));
    assert_eq!(
        attr(a, "unix"),
        Some(&V::IntValue(1_700_000_000_000_000_005))
    );
    assert_eq!(attr(a, "prefix"), Some(&V::BoolValue(true)));
    assert_eq!(attr(a, "suffix"), Some(&V::BoolValue(false)));
    assert_eq!(attr(a, "up"), Some(&s("ABC")));
    assert_eq!(attr(a, "low"), Some(&s("abc")));
    assert_eq!(attr(a, "camel"), Some(&s("HttpRequestMethod")));
    assert_eq!(attr(a, "dur"), Some(&V::IntValue(90_000_000_000)));
    assert_eq!(attr(a, "later"), Some(&V::BoolValue(true)));
}

#[test]
fn runtime_errors_of_converters() {
    for statement in [
        r#"set(log.attributes["x"], Len(log.severity_number))"#,
        r#"set(log.attributes["x"], Substring(log.body, 0, 1000))"#,
        r#"set(log.attributes["x"], ParseJSON(log.body))"#,
        r#"set(log.attributes["x"], Time(log.body, "%Y"))"#,
        r#"set(log.attributes["x"], UnixNano(log.body))"#,
        r#"set(log.attributes["x"], 1 / 0)"#,
        r#"set(log.attributes["x"], 1 + 1.5)"#,
        r#"set(log.attributes["x"], Duration("soon"))"#,
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
fn compile_errors_of_arguments() {
    for (statement, want) in [
        (
            r#"set(log.attributes["x"], ConvertCase(log.body, "kebab"))"#,
            "invalid case: kebab",
        ),
        (r#"truncate_all(log.attributes, -1)"#, "cannot be negative"),
        (
            r#"limit(log.attributes, 1, ["a", "b"])"#,
            "cannot be less than number of priority attributes",
        ),
        (
            r#"merge_maps(log.attributes, log.attributes, "replace")"#,
            "invalid value for strategy",
        ),
        (
            r#"replace_all_patterns(log.attributes, "both", "a", "b")"#,
            "invalid mode",
        ),
        (
            r#"replace_pattern(log.body, "a", "b", FNV)"#,
            "not supported as a replacement function",
        ),
        (
            r#"replace_pattern(log.body, "a", "b", SHA256, "no-format")"#,
            "exactly one %s",
        ),
        (
            r#"set(log.attributes["x"], ExtractPatterns(log.body, "(\\d+)"))"#,
            "named capture group",
        ),
        (
            r#"set(log.attributes["x"], Time(log.body, "%Q"))"#,
            "%Q is not supported",
        ),
        (
            r#"set(log.attributes["x"], IsRootSpan())"#,
            "only available in the span context",
        ),
        (r#"keep_keys(log.body, "a")"#, "list of string literals"),
        (
            r#"set(log.attributes["x"], set(log.body, 1))"#,
            "cannot be used as a value",
        ),
    ] {
        let err = Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(want), "{statement}: {err}");
    }
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
fn flatten_as_go_documents_it() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.cache["m"], ParseJSON("{\"name\":\"test\",\"address\":{\"street\":\"first\",\"house\":1234},\"occupants\":[\"user 1\",\"user 2\"]}"))"#,
            r#"flatten(log.cache["m"])"#,
            r#"set(log.attributes["flat"], log.cache["m"])"#,
            r#"set(log.cache["p"], ParseJSON("{\"a\":{\"b\":1}}"))"#,
            r#"flatten(log.cache["p"], "app")"#,
            r#"set(log.attributes["prefixed"], log.cache["p"])"#,
            r#"set(log.cache["d"], ParseJSON("{\"0\":{\"1\":{\"2\":{\"3\":\"v\"}}}}"))"#,
            r#"flatten(log.cache["d"], depth=2)"#,
            r#"set(log.attributes["deep"], log.cache["d"])"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    let keys = |k: &str| match attr(a, k) {
        Some(V::KvlistValue(m)) => {
            // ParseJSON's key order is unspecified, as in Go.
            let mut k: Vec<_> = m.values.iter().map(|kv| kv.key.clone()).collect();
            k.sort();
            k
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(
        keys("flat"),
        [
            "address.house",
            "address.street",
            "name",
            "occupants.0",
            "occupants.1"
        ]
    );
    assert_eq!(keys("prefixed"), ["app.a.b"]);
    assert_eq!(keys("deep"), ["0.1.2"], "as the Go docs show for depth 2");
}

#[test]
fn more_editors_and_converters() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["kv"], ParseKeyValue("k1=v1 k2=\"v 2\" k3=v3"))"#,
            r#"set(log.attributes["kv2"], ParseKeyValue("k1!v1_k2!v2", "!", "_"))"#,
            r#"set(log.attributes["keys"], Keys(log.attributes["kv2"]))"#,
            r#"set(log.attributes["trimmed"], TrimPrefix(TrimSuffix("[x]", "]"), "["))"#,
            r#"set(log.attributes["first"], Coalesce([log.attributes["nope"], nil, "fallback", "later"]))"#,
            r#"set(log.attributes["has"], ContainsValue(["a", "b"], "b"))"#,
            r#"set(log.attributes["at"], Index("hello", "ll"))"#,
            r#"set(log.attributes["fnv"], FNV("hello"))"#,
            r#"set(log.attributes["list"], ["a", "b", "c", "d"])"#,
            r#"delete_index(log.attributes["list"], 1, 3)"#,
            r#"stringify_all(log.attributes)"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "trimmed"), Some(&s("x")));
    assert_eq!(attr(a, "first"), Some(&s("fallback")));
    assert_eq!(attr(a, "has"), Some(&s("true")), "stringify_all ran last");
    assert_eq!(attr(a, "at"), Some(&s("2")));
    // FNV-1a 64 of "hello" as a signed int64, then stringified.
    assert_eq!(
        attr(a, "fnv"),
        Some(&s(&(0xa430d84680aabd0b_u64 as i64).to_string()))
    );
    assert_eq!(attr(a, "count"), Some(&s("3")));
    assert_eq!(attr(a, "list"), Some(&s(r#"["a","d"]"#)));
    assert_eq!(attr(a, "keys"), Some(&s(r#"["k1","k2"]"#)));
    assert_eq!(
        attr(a, "kv"),
        Some(&s(r#"{"k1":"v1","k2":"v 2","k3":"v3"}"#))
    );
    let err = Program::compile(
        Signal::Logs,
        None,
        &[r#"flatten(log.attributes, depth=0)"#.into()],
        &[],
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("must be greater than 0"), "{err}");
    let p = Program::compile(
        Signal::Logs,
        None,
        &[r#"set(log.attributes["x"], ParseKeyValue("k=\"open"))"#.into()],
        &[],
    )
    .unwrap();
    let err = p
        .run(&mut logs(), ErrorMode::Propagate)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("never reached the end of a quoted value"),
        "{err}"
    );
}

#[test]
fn time_duration_hash_and_format_converters() {
    // Expected values are Go's (time, strconv, crypto, fmt packages) for
    // the same inputs, checked with `go run`; log.time is
    // 2023-11-14 22:13:20.123 UTC, a Tuesday.
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["parts"], [Year(log.time), Month(log.time), Day(log.time), Hour(log.time), Minute(log.time), Second(log.time), Nanosecond(log.time), Weekday(log.time)])"#,
            r#"set(log.attributes["micro"], UnixMicro(log.time))"#,
            r#"set(log.attributes["hour"], UnixNano(TruncateTime(log.time, Duration("1h"))))"#,
            r#"set(log.attributes["7h"], UnixNano(TruncateTime(log.time, Duration("7h"))))"#,
            r#"set(log.attributes["week"], UnixNano(TruncateTime(log.time, Duration("168h"))))"#,
            r#"set(log.attributes["formatted"], FormatTime(log.time, "%Y-%m-%dT%H:%M:%S.%L"))"#,
            r#"set(log.attributes["durations"], [Hours(Duration("1h30m")), Minutes(Duration("90s")), Seconds(Duration("1500ms")), Milliseconds(Duration("1.5s")), Microseconds(Duration("2ms")), Nanoseconds(Duration("1us")), Milliseconds(Duration("-1500us"))])"#,
            r#"set(log.attributes["sha1"], SHA1("abc"))"#,
            r#"set(log.attributes["sha512"], SHA512("abc"))"#,
            r#"set(log.attributes["md5"], MD5("abc"))"#,
            r#"set(log.attributes["ints"], [ParseInt("0x1F", 0), ParseInt("-101", 2), ParseInt("1_000", 0), ParseInt("017", 0), ParseInt("zz", 36), ParseInt("0x_1f", 0)])"#,
            r#"set(log.attributes["log"], Log(100))"#,
            r#"set(log.attributes["empty"], [IsEmpty(""), IsEmpty(0), IsEmpty(log.attributes["nope"]), IsEmpty(log.body), IsEmpty([]), IsEmpty(log.attributes)])"#,
            r#"set(log.attributes["snake"], ToSnakeCase("httpRequestMethod"))"#,
            r#"set(log.attributes["camel"], ToCamelCase("http_request_method"))"#,
            r#"set(log.attributes["line"], Format("%s has %d items, %.1f%% %v", [log.attributes["http.method"], log.attributes["count"], 99.5, log.attributes["nope"]]))"#,
            r#"set(log.attributes["values"], Values(resource.attributes))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    let ints = |v: &[i64]| {
        V::ArrayValue(ferrotel_core::pdata::common::ArrayValue {
            values: v
                .iter()
                .map(|i| AnyValue {
                    value: Some(V::IntValue(*i)),
                })
                .collect(),
        })
    };
    let list = |v: Vec<V>| {
        V::ArrayValue(ferrotel_core::pdata::common::ArrayValue {
            values: v.into_iter().map(|v| AnyValue { value: Some(v) }).collect(),
        })
    };
    assert_eq!(
        attr(a, "parts"),
        Some(&ints(&[2023, 11, 14, 22, 13, 20, 123_000_000, 2]))
    );
    assert_eq!(attr(a, "micro"), Some(&V::IntValue(1_700_000_000_123_000)));
    assert_eq!(
        attr(a, "hour"),
        Some(&V::IntValue(1_699_999_200_000_000_000))
    );
    assert_eq!(attr(a, "7h"), Some(&V::IntValue(1_699_984_800_000_000_000)));
    assert_eq!(
        attr(a, "week"),
        Some(&V::IntValue(1_699_833_600_000_000_000))
    );
    assert_eq!(attr(a, "formatted"), Some(&s("2023-11-14T22:13:20.123")));
    assert_eq!(
        attr(a, "durations"),
        Some(&list(vec![
            V::DoubleValue(1.5),
            V::DoubleValue(1.5),
            V::DoubleValue(1.5),
            V::IntValue(1500),
            V::IntValue(2000),
            V::IntValue(1000),
            V::IntValue(-1),
        ]))
    );
    assert_eq!(
        attr(a, "sha1"),
        Some(&s("a9993e364706816aba3e25717850c26c9cd0d89d"))
    );
    assert_eq!(
        attr(a, "sha512"),
        Some(&s(
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        ))
    );
    assert_eq!(attr(a, "md5"), Some(&s("900150983cd24fb0d6963f7d28e17f72")));
    assert_eq!(attr(a, "ints"), Some(&ints(&[31, -5, 1000, 15, 1295, 31])));
    assert_eq!(attr(a, "log"), Some(&V::DoubleValue(4.605170185988092)));
    assert_eq!(
        attr(a, "empty"),
        Some(&list(vec![
            V::BoolValue(true),
            V::BoolValue(true),
            V::BoolValue(true),
            V::BoolValue(false),
            V::BoolValue(true),
            V::BoolValue(false),
        ]))
    );
    assert_eq!(attr(a, "snake"), Some(&s("http_request_method")));
    assert_eq!(attr(a, "camel"), Some(&s("HttpRequestMethod")));
    assert_eq!(attr(a, "line"), Some(&s("GET has 3 items, 99.5% <nil>")));
    assert_eq!(attr(a, "values"), Some(&list(vec![s("prod"), s("node-1")])));
}

#[test]
fn runtime_errors_of_the_newer_converters_are_go_s() {
    for (statement, want) in [
        (
            r#"set(log.attributes["x"], ParseInt("9223372036854775808", 10))"#,
            r#"strconv.ParseInt: parsing "9223372036854775808": value out of range"#,
        ),
        (
            r#"set(log.attributes["x"], ParseInt("1__0", 0))"#,
            r#"strconv.ParseInt: parsing "1__0": invalid syntax"#,
        ),
        (
            r#"set(log.attributes["x"], ParseInt("12", 1))"#,
            r#"strconv.ParseInt: parsing "12": invalid base 1"#,
        ),
        (
            r#"set(log.attributes["x"], ParseInt("", 10))"#,
            "target cannot be empty",
        ),
        (
            r#"set(log.attributes["x"], ParseInt("12", -1))"#,
            "base cannot be negative",
        ),
        (
            r#"set(log.attributes["x"], Log(0))"#,
            "invalid input: expected number greater than zero but got 0",
        ),
        (
            r#"set(log.attributes["x"], Hour(log.body))"#,
            "expected time but got",
        ),
        (
            r#"set(log.attributes["x"], Hours(log.time))"#,
            "expected duration but got",
        ),
        (
            r#"set(log.attributes["x"], Values(log.body))"#,
            "expected pcommon.Map but got",
        ),
    ] {
        let p = Program::compile(Signal::Logs, None, &[statement.to_string()], &[]).unwrap();
        let err = p
            .run(&mut logs(), ErrorMode::Propagate)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(want), "{statement}: {err}");
    }
    for (statement, want) in [
        (
            r#"set(log.attributes["x"], Format("%c", [1]))"#,
            "the verb %c is not supported",
        ),
        (
            r#"set(log.attributes["x"], Format(log.body, [1]))"#,
            "format",
        ),
        (
            r#"set(log.attributes["x"], FormatTime(log.time, ""))"#,
            "format cannot be nil",
        ),
    ] {
        let err = Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(want), "{statement}: {err}");
    }
}

#[test]
fn parse_csv_as_go_documents_it() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.body, "2023-01-01,INFO,\"hello, world\"")"#,
            r#"merge_maps(log.attributes, ParseCSV(log.body, "Time,Severity,Message"), "upsert")"#,
            r#"set(log.attributes["pipes"], ParseCSV("1;2;3", "a|b|c", ";", "|"))"#,
            r#"set(log.attributes["raw"], ParseCSV("a,\"b,c", "x,y,z", mode="ignoreQuotes"))"#,
            r#"set(log.attributes["lazy"], ParseCSV("a,b\"c", "x,y", ",", ",", "lazyQuotes"))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "Time"), Some(&s("2023-01-01")));
    assert_eq!(attr(a, "Severity"), Some(&s("INFO")));
    assert_eq!(attr(a, "Message"), Some(&s("hello, world")));
    let map = |pairs: &[(&str, &str)]| {
        V::KvlistValue(KeyValueList {
            values: pairs.iter().map(|(k, v)| kv(k, s(v))).collect(),
        })
    };
    assert_eq!(
        attr(a, "pipes"),
        Some(&map(&[("a", "1"), ("b", "2"), ("c", "3")]))
    );
    assert_eq!(
        attr(a, "raw"),
        Some(&map(&[("x", "a"), ("y", "\"b"), ("z", "c")]))
    );
    assert_eq!(attr(a, "lazy"), Some(&map(&[("x", "a"), ("y", "b\"c")])));

    let failing = |statement: &str| {
        Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
            .map_err(|e| e.to_string())
            .and_then(|p| {
                p.run(&mut logs(), ErrorMode::Propagate)
                    .map_err(|e| e.to_string())
            })
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    for (statement, want) in [
        (
            r#"set(log.attributes["x"], ParseCSV("a,b", "x,y,z"))"#,
            "map csv headers: wrong number of fields: expected 3, found 2",
        ),
        (
            r#"set(log.attributes["x"], ParseCSV("a", ""))"#,
            "headers must not be an empty string",
        ),
        (
            r#"set(log.attributes["x"], ParseCSV("a", "x", ";;"))"#,
            "delimiter must be a single character",
        ),
        (
            r#"set(log.attributes["x"], ParseCSV("a", "x", mode="loose"))"#,
            "unknown mode: loose",
        ),
        (
            r#"set(log.attributes["x"], ParseCSV(log.attributes["nope"], "x"))"#,
            "error getting value for target in ParseCSV",
        ),
    ] {
        let err = failing(statement);
        assert!(err.contains(want), "{statement}: {err}");
    }
}

#[test]
fn ids_base64_trim_and_key_value_strings() {
    // Expected values are Go's (encoding/base64, strings.Trim), checked
    // with `go run`, and the pkg/ottl README's examples.
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.trace_id, TraceID("0102030405060708090a0b0c0d0e0f10"))"#,
            r#"set(log.span_id, SpanID(0x0102030405060708))"#,
            r#"set(log.attributes["b64"], [Base64Encode("hello world?>"), Base64Encode("hello world?>", "base64-raw"), Base64Encode("hello world?>", "base64-url"), Base64Encode("hello world?>", "base64-raw-url")])"#,
            r#"set(log.attributes["decoded"], Decode("aGVsbG8gd29ybGQ/Pg==", "base64"))"#,
            r#"set(log.attributes["trimmed"], [Trim("  hi  "), Trim("  **hi* ", " *")])"#,
            r#"set(log.attributes["kv"], ToKeyValueString(log.attributes, "=", " ", true)) where log.attributes["http.method"] == "GET""#,
            r#"set(log.attributes["quoted"], ToKeyValueString({"k 1": "v=\"x\"", "n": 2}))"#,
        ],
    );
    let r = &records(&data)[0];
    assert_eq!(r.trace_id, (1..=16).collect::<Vec<u8>>());
    assert_eq!(r.span_id, (1..=8).collect::<Vec<u8>>());
    let a = &r.attributes;
    let strings = |v: &[&str]| {
        V::ArrayValue(ferrotel_core::pdata::common::ArrayValue {
            values: v.iter().map(|x| AnyValue { value: Some(s(x)) }).collect(),
        })
    };
    assert_eq!(
        attr(a, "b64"),
        Some(&strings(&[
            "aGVsbG8gd29ybGQ/Pg==",
            "aGVsbG8gd29ybGQ/Pg",
            "aGVsbG8gd29ybGQ_Pg==",
            "aGVsbG8gd29ybGQ_Pg"
        ]))
    );
    assert_eq!(attr(a, "decoded"), Some(&s("hello world?>")));
    assert_eq!(attr(a, "trimmed"), Some(&strings(&["hi", "hi"])));
    assert_eq!(
        attr(a, "kv"),
        Some(&s(
            r#"b64="[\"aGVsbG8gd29ybGQ/Pg==\",\"aGVsbG8gd29ybGQ/Pg\",\"aGVsbG8gd29ybGQ_Pg==\",\"aGVsbG8gd29ybGQ_Pg\"]" count=3 decoded="hello world?>" http.method=GET json="{\"a\": 1, \"b\": \"two\"}" trimmed=[\"hi\",\"hi\"] user.password=x"#
        ))
    );
    assert_eq!(attr(a, "quoted"), Some(&s(r#""k 1"="v=\"x\"" n=2"#)));

    for (statement, want) in [
        (
            r#"set(log.trace_id, TraceID("0102"))"#,
            "TraceID: could not decode ID: invalid length: expected 16 or 32 bytes, got 4",
        ),
        (
            r#"set(log.span_id, SpanID("zz02030405060708"))"#,
            "SpanID: could not decode ID: invalid hex",
        ),
        (
            r#"set(log.attributes["x"], Decode("aGVs!G8=", "base64"))"#,
            "could not decode: illegal base64 data at input byte 4",
        ),
        (
            r#"set(log.attributes["x"], Decode("aGVsbG8", "base64"))"#,
            "could not decode: illegal base64 data at input byte 4",
        ),
        (
            r#"set(log.attributes["x"], Base64Encode("a", "base32"))"#,
            "unsupported base64 variant: base32",
        ),
    ] {
        let p = Program::compile(Signal::Logs, None, &[statement.to_string()], &[]).unwrap();
        let err = p
            .run(&mut logs(), ErrorMode::Propagate)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(want), "{statement}: {err}");
    }
    for (statement, want) in [
        (
            r#"set(log.attributes["x"], ToKeyValueString(log.attributes, ":", ":"))"#,
            r#"pair delimiter ":" cannot be equal to delimiter ":""#,
        ),
        (
            r#"set(log.attributes["x"], ToKeyValueString(log.attributes, ""))"#,
            "delimiter cannot be set to an empty string",
        ),
        (
            r#"set(log.attributes["x"], Decode(log.body, "utf-16"))"#,
            "is not supported by ferrotel",
        ),
    ] {
        let err = Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(want), "{statement}: {err}");
    }
}

#[test]
fn cidr_luhn_sort_slice_to_map_and_uuid() {
    // Expected values follow Go's net.ParseCIDR/Contains, the Luhn check
    // and the pkg/ottl README's examples.
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["cidr"], [IsInCIDR("192.168.1.10", ["10.0.0.0/8", "192.168.0.0/16"]), IsInCIDR("172.16.0.1", ["10.0.0.0/8"]), IsInCIDR("::ffff:10.1.2.3", ["10.0.0.0/8"]), IsInCIDR("2001:db8::1", ["2001:db8::/32"]), IsInCIDR("not an ip", ["10.0.0.0/8"]), IsInCIDR("10.0.0.1", ["0.0.0.0/0"])])"#,
            r#"set(log.attributes["luhn"], [IsValidLuhn("4111 1111 1111 1111"), IsValidLuhn("4111111111111112"), IsValidLuhn(79927398713), IsValidLuhn("")])"#,
            r#"set(log.attributes["ints"], Sort([3, 1, 2]))"#,
            r#"set(log.attributes["desc"], Sort(["b", "c", "a"], "desc"))"#,
            r#"set(log.attributes["mixed"], Sort([2.5, 1, 3]))"#,
            r#"set(log.attributes["as_strings"], Sort([true, "a", 10]))"#,
            r#"set(log.attributes["by_index"], SliceToMap(["x", "y"]))"#,
            r#"set(log.attributes["by_name"], SliceToMap([{"name": "a", "v": {"n": 1}}, {"name": "b", "v": {"n": 2}}], ["name"], ["v", "n"]))"#,
            r#"set(log.attributes["uuid"], UUID())"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    let list = |v: Vec<V>| {
        V::ArrayValue(ferrotel_core::pdata::common::ArrayValue {
            values: v.into_iter().map(|v| AnyValue { value: Some(v) }).collect(),
        })
    };
    let bools = |b: &[bool]| list(b.iter().map(|b| V::BoolValue(*b)).collect());
    assert_eq!(
        attr(a, "cidr"),
        Some(&bools(&[true, false, true, true, false, true]))
    );
    assert_eq!(attr(a, "luhn"), Some(&bools(&[true, false, true, false])));
    assert_eq!(
        attr(a, "ints"),
        Some(&list(vec![V::IntValue(1), V::IntValue(2), V::IntValue(3)]))
    );
    assert_eq!(attr(a, "desc"), Some(&list(vec![s("c"), s("b"), s("a")])));
    assert_eq!(
        attr(a, "mixed"),
        Some(&list(vec![
            V::IntValue(1),
            V::DoubleValue(2.5),
            V::IntValue(3)
        ]))
    );
    // "10" < "a" < "true" as strings; the elements keep their types.
    assert_eq!(
        attr(a, "as_strings"),
        Some(&list(vec![V::IntValue(10), s("a"), V::BoolValue(true)]))
    );
    assert_eq!(
        attr(a, "by_index"),
        Some(&V::KvlistValue(KeyValueList {
            values: vec![kv("0", s("x")), kv("1", s("y"))]
        }))
    );
    assert_eq!(
        attr(a, "by_name"),
        Some(&V::KvlistValue(KeyValueList {
            values: vec![kv("a", V::IntValue(1)), kv("b", V::IntValue(2))]
        }))
    );
    let Some(V::StringValue(uuid)) = attr(a, "uuid") else {
        panic!("{a:?}")
    };
    let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "{uuid}");
    assert_eq!(&uuid[14..15], "4", "version 4: {uuid}");

    for (statement, want) in [
        (
            r#"set(log.attributes["x"], IsValidLuhn("12a4"))"#,
            r#"strconv.Atoi: parsing "a": invalid syntax"#,
        ),
        (
            r#"set(log.attributes["x"], SliceToMap([1, 2], ["name"]))"#,
            "slice elements must be maps when using `key_path` or `value_path`, but could not cast element of type `Int` to a map",
        ),
        (
            r#"set(log.attributes["x"], SliceToMap([{"id": 1}], ["name"]))"#,
            "could not extract key from element 0: provided object does not contain the path [name]",
        ),
        (
            r#"set(log.attributes["x"], Sort(log.body))"#,
            "sort with unsupported type",
        ),
    ] {
        let p = Program::compile(Signal::Logs, None, &[statement.to_string()], &[]).unwrap();
        let err = p
            .run(&mut logs(), ErrorMode::Propagate)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(want), "{statement}: {err}");
    }
    for (statement, want) in [
        (
            r#"set(log.attributes["x"], IsInCIDR(log.body, ["10.0.0.0/33"]))"#,
            "invalid CIDR address: 10.0.0.0/33",
        ),
        (
            r#"set(log.attributes["x"], Sort([1], "up"))"#,
            r#"invalid arguments: up. Order should be either "asc" or "desc""#,
        ),
    ] {
        let err = Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(want), "{statement}: {err}");
    }
}

#[test]
fn murmur3_and_xxh3_converters_write_go_s_hex() {
    // Expected values from Go (twmb/murmur3, zeebo/xxh3 as pkg/ottl calls
    // them), checked with `go run`.
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["m32"], Murmur3Hash("hello world"))"#,
            r#"set(log.attributes["m128"], Murmur3Hash128("hello world"))"#,
            r#"set(log.attributes["x64"], XXH3("hello world"))"#,
            r#"set(log.attributes["x128"], XXH128("hello world"))"#,
            r#"set(log.attributes["x128_long"], XXH128("The quick brown fox jumps over the lazy dog"))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "m32"), Some(&s("0f8f925e")));
    assert_eq!(
        attr(a, "m128"),
        Some(&s("0e617feb46603f53b163eb607d4697ab"))
    );
    assert_eq!(attr(a, "x64"), Some(&s("d447b1ea40e6988b")));
    assert_eq!(
        attr(a, "x128"),
        Some(&s("df8d09e93f874900a99b8775cc15b6c7"))
    );
    assert_eq!(
        attr(a, "x128_long"),
        Some(&s("ddd650205ca3e7fa24a1cc2e3a8a7651"))
    );
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

#[test]
fn time_converters_refuse_locations_and_locales_they_cannot_read() {
    let compile = |statement: &str| {
        Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert!(
        compile(r#"set(log.attributes["t"], Time(log.body, "%Y", "America/New_York"))"#)
            .contains("Time: locations other than UTC are not supported by ferrotel yet")
    );
    assert!(
        compile(r#"set(log.attributes["t"], Time(log.body, "%Y", "UTC", "de"))"#)
            .contains("Time: locale is not supported by ferrotel yet")
    );
    assert_eq!(
        compile(r#"set(log.attributes["t"], Time(log.body, "%Y", "UTC"))"#),
        "",
        "UTC is read"
    );
    let p = Program::compile(
        Signal::Logs,
        None,
        &[r#"set(log.attributes["t"], Unix(1, "x"))"#.to_string()],
        &[],
    )
    .unwrap();
    let err = p.run(&mut logs(), ErrorMode::Propagate).unwrap_err();
    assert!(
        err.to_string()
            .contains("Unix: nanoseconds must be an int64"),
        "{err}"
    );
}
