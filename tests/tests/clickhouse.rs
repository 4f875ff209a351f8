//! The clickhouse exporter against a real ClickHouse engine (chdb 4.4,
//! ClickHouse 26.9, behind `tests/clickhouse/chdb_http.py`; started by
//! `scripts/test-services.sh`, its endpoint in `FERROTEL_CLICKHOUSE`, user
//! `default`, password `ferrotel`). OTLP goes in; SELECTs read back every
//! log, span and metric point with the values the Go exporter writes in
//! each column; `create_schema` makes Go's tables in an empty database; a
//! bad password or a missing table is an error that is retried, not a crash.

use ferrotel_core::pdata::Signal;
use ferrotel_e2e::{Collector, free_port, http, post, sample, wait_until};
use serde_json::{Value, json};
use std::time::Duration;

fn endpoint() -> String {
    std::env::var("FERROTEL_CLICKHOUSE").expect(
        "FERROTEL_CLICKHOUSE is not set: run ./scripts/test.sh, or eval \"$(scripts/test-services.sh start)\" first",
    )
}

/// Runs a query; the rows of a `FORMAT JSONEachRow` answer.
fn query(sql: &str) -> Result<Vec<Value>, String> {
    let addr = endpoint().trim_start_matches("http://").to_string();
    let r = http(
        "POST",
        &addr,
        // 64-bit integers as JSON numbers whatever the server's default.
        "/?output_format_json_quote_64bit_integers=0",
        &[("X-ClickHouse-Key", "ferrotel")],
        sql.as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&r.body).into_owned();
    if r.status != 200 {
        return Err(text);
    }
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("JSONEachRow"))
        .collect())
}

fn rows(sql: &str) -> Vec<Value> {
    query(&format!("{sql} FORMAT JSONEachRow")).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn count(table: &str) -> u64 {
    query(&format!(
        "SELECT count() AS n FROM {table} FORMAT JSONEachRow"
    ))
    .ok()
    .and_then(|r| r.first().and_then(|v| v["n"].as_u64()))
    .unwrap_or(0)
}

fn collector(database: &str, extra: &str, port: u16) -> Collector {
    Collector::start(&format!(
        r#"
receivers: {{otlp: {{protocols: {{http: {{endpoint: '127.0.0.1:{port}'}}}}}}}}
exporters:
  clickhouse:
    endpoint: {endpoint}
    password: ferrotel
    database: {database}
    retry_on_failure: {{initial_interval: 100ms, max_interval: 500ms}}
{extra}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [otlp], exporters: [clickhouse]}}
    traces: {{receivers: [otlp], exporters: [clickhouse]}}
    metrics: {{receivers: [otlp], exporters: [clickhouse]}}
"#,
        endpoint = endpoint()
    ))
}

fn send(port: u16, signal: Signal, seed: u8) {
    let r = post(
        &format!("127.0.0.1:{port}"),
        &format!("/v1/{}", signal.as_str()),
        "application/x-protobuf",
        &sample(signal, seed).encode_request(),
    );
    assert_eq!(r.status, 200);
}

/// The attributes of `sample(_, 3)` as Go's `AsString` writes them.
fn sample_attributes() -> Value {
    json!({
        "str": "v3 \"quoted\" ü",
        "int": "-3000000021",
        "double": "3.25",
        "bool": "false",
        "bytes": "AAP/",
        "array": "[1,\"two\"]",
        "map": "{\"inner\":true}",
    })
}

#[test]
fn every_signal_lands_in_go_s_tables() {
    let db = format!("otel_{:x}", fastrand::u32(..));
    let port = free_port();
    let c = collector(&db, "", port);
    for signal in [Signal::Logs, Signal::Traces, Signal::Metrics] {
        send(port, signal, 3);
    }
    let tables = [
        "otel_logs",
        "otel_traces",
        "otel_metrics_gauge",
        "otel_metrics_sum",
        "otel_metrics_histogram",
        "otel_metrics_exponential_histogram",
        "otel_metrics_summary",
    ];
    let want = [2, 1, 1, 1, 1, 1, 1];
    assert!(
        wait_until(Duration::from_secs(60), || tables
            .iter()
            .zip(want)
            .all(|(t, n)| count(&format!("{db}.{t}")) == n)),
        "not every row arrived; {:?}\n{}",
        tables.map(|t| count(&format!("{db}.{t}"))),
        c.log()
    );
    let names: Vec<Value> = rows(&format!(
        "SELECT name FROM system.tables WHERE database = '{db}' ORDER BY name"
    ))
    .into_iter()
    .map(|r| r["name"].clone())
    .collect();
    assert_eq!(
        names,
        [
            "otel_logs",
            "otel_metrics_exponential_histogram",
            "otel_metrics_gauge",
            "otel_metrics_histogram",
            "otel_metrics_sum",
            "otel_metrics_summary",
            "otel_traces",
            "otel_traces_trace_id_ts",
            "otel_traces_trace_id_ts_mv",
        ]
    );

    let logs = rows(&format!(
        "SELECT toUnixTimestamp64Nano(Timestamp) AS ts, TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber,
                ServiceName, Body, ResourceSchemaUrl, ResourceAttributes, ScopeName, ScopeVersion, ScopeAttributes,
                LogAttributes, EventName
         FROM {db}.otel_logs ORDER BY Timestamp"
    ));
    let t0: u64 = 1_700_000_000_000_000_003;
    assert_eq!(
        logs[0],
        json!({
            "ts": t0, "TraceId": "03020100070605040b0a09080f0e0d0c", "SpanId": "030405060708090a",
            "TraceFlags": 1, "SeverityText": "ERROR", "SeverityNumber": 17, "ServiceName": "svc-3",
            "Body": "line 3\nwith newline", "ResourceSchemaUrl": "",
            "ResourceAttributes": {"service.name": "svc-3"}, "ScopeName": "ferrotel.e2e", "ScopeVersion": "1.2.3",
            "ScopeAttributes": {"scope.attr": "x"}, "LogAttributes": sample_attributes(), "EventName": "e2e.event",
        })
    );
    assert_eq!(logs[1]["ts"], t0 + 2);
    assert_eq!(logs[1]["TraceId"], "");
    assert_eq!(
        logs[1]["Body"],
        r#"{"array":[1,"two"],"bool":false,"bytes":"AAP/","double":3.25,"int":-3000000021,"map":{"inner":true},"str":"v3 \"quoted\" ü"}"#
    );

    let spans = rows(&format!(
        "SELECT toUnixTimestamp64Nano(Timestamp) AS ts, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind,
                ServiceName, ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode,
                StatusMessage, arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp) AS event_ts, Events.Name,
                Events.Attributes, Links.TraceId, Links.SpanId, Links.TraceState, Links.Attributes
         FROM {db}.otel_traces"
    ));
    assert_eq!(
        spans[0],
        json!({
            "ts": t0, "TraceId": "03020100070605040b0a09080f0e0d0c", "SpanId": "030405060708090a",
            "ParentSpanId": "0909090909090909", "TraceState": "k=v", "SpanName": "span-3", "SpanKind": "Client",
            "ServiceName": "svc-3", "ResourceAttributes": {"service.name": "svc-3"}, "ScopeName": "ferrotel.e2e",
            "ScopeVersion": "1.2.3", "SpanAttributes": sample_attributes(), "Duration": 1000, "StatusCode": "Error",
            "StatusMessage": "oops", "event_ts": [t0 + 5], "Events.Name": ["event"],
            "Events.Attributes": [sample_attributes()], "Links.TraceId": ["03020100070605040b0a09080f0e0d0c"],
            "Links.SpanId": ["0707070707070707"], "Links.TraceState": [""], "Links.Attributes": [{"link": "1"}],
        })
    );
    // The materialized view filled the trace-id lookup table.
    assert_eq!(
        rows(&format!("SELECT TraceId FROM {db}.otel_traces_trace_id_ts")),
        [json!({"TraceId": "03020100070605040b0a09080f0e0d0c"})]
    );

    let common = "ResourceAttributes, ScopeName, ScopeVersion, ScopeAttributes, ServiceName, MetricName,
                  MetricDescription, MetricUnit, Attributes, toUnixTimestamp(StartTimeUnix) AS start,
                  toUnixTimestamp(TimeUnix) AS time";
    let gauge = &rows(&format!(
        "SELECT {common}, Value, Flags, Exemplars.FilteredAttributes, toUnixTimestamp(Exemplars.TimeUnix[1]) AS ex_time,
                Exemplars.Value, Exemplars.SpanId, Exemplars.TraceId FROM {db}.otel_metrics_gauge"
    ))[0];
    assert_eq!(
        *gauge,
        json!({
            "ResourceAttributes": {"service.name": "svc-3"}, "ScopeName": "ferrotel.e2e", "ScopeVersion": "1.2.3",
            "ScopeAttributes": {"scope.attr": "x"}, "ServiceName": "svc-3", "MetricName": "gauge",
            "MetricDescription": "desc", "MetricUnit": "ms", "Attributes": sample_attributes(),
            "start": 1_700_000_000, "time": 1_700_000_000, "Value": -2.5, "Flags": 0,
            "Exemplars.FilteredAttributes": [{"f": "1"}], "ex_time": 1_700_000_000, "Exemplars.Value": [1.5],
            "Exemplars.SpanId": ["030405060708090a"], "Exemplars.TraceId": ["03020100070605040b0a09080f0e0d0c"],
        })
    );
    let sum = &rows(&format!(
        "SELECT MetricName, Value, AggregationTemporality, IsMonotonic FROM {db}.otel_metrics_sum"
    ))[0];
    // An int point becomes its float64, as Go's getValue makes it.
    assert_eq!(sum["Value"].as_f64(), Some((i64::MAX - 3) as f64));
    assert_eq!(
        (
            &sum["MetricName"],
            &sum["AggregationTemporality"],
            &sum["IsMonotonic"]
        ),
        (&json!("sum"), &json!(2), &json!(true))
    );
    let histogram = &rows(&format!(
        "SELECT Count, Sum, BucketCounts, ExplicitBounds, Min, Max, AggregationTemporality, length(Exemplars.Value) AS ex
         FROM {db}.otel_metrics_histogram"
    ))[0];
    assert_eq!(
        *histogram,
        json!({"Count": 6, "Sum": 21, "BucketCounts": [1, 2, 3], "ExplicitBounds": [1, 5], "Min": 0.5,
               "Max": 9, "AggregationTemporality": 1, "ex": 0})
    );
    let exponential = &rows(&format!(
        "SELECT Count, Sum, Scale, ZeroCount, PositiveOffset, PositiveBucketCounts, NegativeOffset,
                NegativeBucketCounts, Min, Max FROM {db}.otel_metrics_exponential_histogram"
    ))[0];
    assert_eq!(
        *exponential,
        json!({"Count": 5, "Sum": 12.5, "Scale": 2, "ZeroCount": 1, "PositiveOffset": -1,
               "PositiveBucketCounts": [1, 3], "NegativeOffset": 0, "NegativeBucketCounts": [], "Min": 0,
               "Max": 4})
    );
    let summary = &rows(&format!(
        "SELECT Count, Sum, ValueAtQuantiles.Quantile, ValueAtQuantiles.Value FROM {db}.otel_metrics_summary"
    ))[0];
    assert_eq!(
        *summary,
        json!({"Count": 10, "Sum": 99.5, "ValueAtQuantiles.Quantile": [0.5, 0.99], "ValueAtQuantiles.Value": [7, 20]})
    );
}

/// `ttl`, `table_engine` and text indexes reach the DDL.
#[test]
fn create_schema_renders_ttl_and_engine() {
    let db = format!("otel_{:x}", fastrand::u32(..));
    let port = free_port();
    let c = collector(
        &db,
        "    ttl: 72h\n    table_engine: {name: MergeTree}\n",
        port,
    );
    // Rows inside the TTL: older ones are dropped at insert.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let body = format!(
        r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"timeUnixNano":"{now}","body":{{"stringValue":"fresh"}}}}]}}]}}]}}"#
    );
    assert_eq!(
        post(
            &format!("127.0.0.1:{port}"),
            "/v1/logs",
            "application/json",
            body.as_bytes()
        )
        .status,
        200
    );
    assert!(
        wait_until(Duration::from_secs(30), || count(&format!(
            "{db}.otel_logs"
        )) == 1),
        "{}",
        c.log()
    );
    let ddl = rows(&format!(
        "SELECT create_table_query FROM system.tables WHERE database = '{db}' AND name = 'otel_logs'"
    ));
    let ddl = ddl[0]["create_table_query"].as_str().unwrap();
    assert!(
        ddl.contains("TTL toDateTime(Timestamp) + toIntervalDay(3)"),
        "{ddl}"
    );
    assert!(ddl.contains("ENGINE = MergeTree"), "{ddl}");
    assert!(
        ddl.contains("INDEX idx_trace_id TraceId TYPE text(tokenizer = 'array')"),
        "{ddl}"
    );
    assert!(
        ddl.contains("ORDER BY (toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp)"),
        "{ddl}"
    );
}

/// A bad password: a clear error, retried, the collector keeps running.
/// A missing table with `create_schema: false`: the same, until the table
/// is created (with only some of Go's columns), then the waiting batch
/// lands in the columns the table has.
#[test]
fn bad_password_and_missing_table_are_retried() {
    let port = free_port();
    let mut wrong = Collector::start(&format!(
        r#"
receivers: {{otlp: {{protocols: {{http: {{endpoint: '127.0.0.1:{port}'}}}}}}}}
exporters:
  clickhouse:
    endpoint: {endpoint}
    password: wrong
    retry_on_failure: {{initial_interval: 100ms, max_interval: 500ms}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines: {{logs: {{receivers: [otlp], exporters: [clickhouse]}}}}
"#,
        endpoint = endpoint()
    ));
    send(port, Signal::Logs, 1);
    assert!(
        wait_until(Duration::from_secs(20), || wrong
            .log_count("Authentication failed")
            >= 3),
        "{}",
        wrong.log()
    );
    assert!(wrong.log().contains("Will retry"));
    assert!(wrong.is_running());
    drop(wrong);

    let db = format!("otel_{:x}", fastrand::u32(..));
    query(&format!("CREATE DATABASE {db}")).unwrap();
    let port = free_port();
    let c = collector(&db, "    create_schema: false\n", port);
    send(port, Signal::Logs, 2);
    assert!(
        wait_until(Duration::from_secs(20), || c.log_count("otel_logs") >= 3),
        "{}",
        c.log()
    );
    assert!(
        c.log().contains("UNKNOWN_TABLE") || c.log().contains("doesn't exist"),
        "{}",
        c.log()
    );
    query(&format!(
        "CREATE TABLE {db}.otel_logs (Timestamp DateTime64(9), ServiceName LowCardinality(String), Body String,
         Extra String DEFAULT 'x') ENGINE = MergeTree ORDER BY Timestamp"
    ))
    .unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || count(&format!(
            "{db}.otel_logs"
        )) == 2),
        "{}",
        c.log()
    );
    assert_eq!(
        rows(&format!(
            "SELECT ServiceName, Body, Extra FROM {db}.otel_logs ORDER BY Timestamp LIMIT 1"
        )),
        [json!({"ServiceName": "svc-2", "Body": "line 2\nwith newline", "Extra": "x"})]
    );
}
