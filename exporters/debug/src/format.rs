//! Text renderings in the Go debug exporter's layout.

use ferrotel_core::hex::encode;
use ferrotel_core::pdata::go::time_string as timestamp;
use ferrotel_core::pdata::{Telemetry, common, metrics};
use std::fmt::Write;

/// `{"resource spans": 1, "spans": 2}` and the like.
pub(crate) fn summary(t: &Telemetry) -> String {
    let (groups, group_name, item_name) = match t {
        Telemetry::Traces(r) => (r.len(), "resource spans", "spans"),
        Telemetry::Metrics(r) => (r.len(), "resource metrics", "data points"),
        Telemetry::Logs(r) => (r.len(), "resource logs", "log records"),
        Telemetry::Profiles(p) => (p.resource_count(), "resource profiles", "sample records"),
    };
    let mut s = format!("{{\"{group_name}\": {groups}");
    if let Telemetry::Metrics(r) = t {
        let metrics: usize = r
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .map(|s| s.metrics.len())
            .sum();
        let _ = write!(s, ", \"metrics\": {metrics}");
    }
    let _ = write!(s, ", \"{item_name}\": {}}}", t.item_count());
    s
}

/// One line per item: name and the most useful ids and attributes.
pub(crate) fn normal(t: &Telemetry) -> String {
    let mut out = String::new();
    match t {
        Telemetry::Traces(r) => {
            for span in r.iter().flat_map(|r| &r.scope_spans).flat_map(|s| &s.spans) {
                let _ = writeln!(
                    out,
                    "{} {} {} {}",
                    span.name,
                    encode(&span.trace_id),
                    encode(&span.span_id),
                    attrs_inline(&span.attributes)
                );
            }
        }
        Telemetry::Logs(r) => {
            for log in r
                .iter()
                .flat_map(|r| &r.scope_logs)
                .flat_map(|s| &s.log_records)
            {
                let body = log.body.as_ref().map(value_plain).unwrap_or_default();
                let _ = writeln!(out, "{body} {}", attrs_inline(&log.attributes));
            }
        }
        Telemetry::Metrics(r) => {
            for m in r
                .iter()
                .flat_map(|r| &r.scope_metrics)
                .flat_map(|s| &s.metrics)
            {
                let _ = writeln!(out, "{}{{{}}}", m.name, m.unit);
            }
        }
        // Profiles stay encoded (`pdata::Profiles`): the summary line only.
        Telemetry::Profiles(_) => {}
    }
    out
}

/// The full dump.
pub(crate) fn detailed(t: &Telemetry) -> String {
    let mut out = String::new();
    let o = &mut out;
    match t {
        Telemetry::Traces(rs) => {
            for (i, r) in rs.iter().enumerate() {
                resource_header(
                    o,
                    "ResourceSpans",
                    i,
                    &r.schema_url,
                    r.resource.as_ref().map(|r| &r.attributes[..]),
                );
                for (j, s) in r.scope_spans.iter().enumerate() {
                    scope_header(o, "ScopeSpans", j, &s.schema_url, s.scope.as_ref());
                    for (k, span) in s.spans.iter().enumerate() {
                        let _ = writeln!(o, "Span #{k}");
                        let _ = writeln!(o, "    Trace ID       : {}", encode(&span.trace_id));
                        let _ =
                            writeln!(o, "    Parent ID      : {}", encode(&span.parent_span_id));
                        let _ = writeln!(o, "    ID             : {}", encode(&span.span_id));
                        let _ = writeln!(o, "    Name           : {}", span.name);
                        let kind = [
                            "Unspecified",
                            "Internal",
                            "Server",
                            "Client",
                            "Producer",
                            "Consumer",
                        ];
                        let _ = writeln!(
                            o,
                            "    Kind           : {}",
                            kind.get(span.kind as usize).unwrap_or(&"Unspecified")
                        );
                        let _ = writeln!(
                            o,
                            "    Start time     : {}",
                            timestamp(span.start_time_unix_nano)
                        );
                        let _ = writeln!(
                            o,
                            "    End time       : {}",
                            timestamp(span.end_time_unix_nano)
                        );
                        let (code, message) = span
                            .status
                            .as_ref()
                            .map_or((0, ""), |s| (s.code, s.message.as_str()));
                        let _ = writeln!(
                            o,
                            "    Status code    : {}",
                            ["Unset", "Ok", "Error"]
                                .get(code as usize)
                                .unwrap_or(&"Unset")
                        );
                        let _ = writeln!(o, "    Status message : {message}");
                        attributes(o, "Attributes", &span.attributes);
                    }
                }
            }
        }
        Telemetry::Logs(rs) => {
            for (i, r) in rs.iter().enumerate() {
                resource_header(
                    o,
                    "ResourceLog",
                    i,
                    &r.schema_url,
                    r.resource.as_ref().map(|r| &r.attributes[..]),
                );
                for (j, s) in r.scope_logs.iter().enumerate() {
                    scope_header(o, "ScopeLogs", j, &s.schema_url, s.scope.as_ref());
                    for (k, log) in s.log_records.iter().enumerate() {
                        let _ = writeln!(o, "LogRecord #{k}");
                        let _ = writeln!(
                            o,
                            "ObservedTimestamp: {}",
                            timestamp(log.observed_time_unix_nano)
                        );
                        let _ = writeln!(o, "Timestamp: {}", timestamp(log.time_unix_nano));
                        let _ = writeln!(o, "SeverityText: {}", log.severity_text);
                        let _ = writeln!(
                            o,
                            "SeverityNumber: {}({})",
                            severity_name(log.severity_number),
                            log.severity_number
                        );
                        if !log.event_name.is_empty() {
                            let _ = writeln!(o, "EventName: {}", log.event_name);
                        }
                        let _ = writeln!(
                            o,
                            "Body: {}",
                            log.body
                                .as_ref()
                                .map(value_typed)
                                .unwrap_or_else(|| "Empty()".into())
                        );
                        attributes(o, "Attributes", &log.attributes);
                        let _ = writeln!(o, "Trace ID: {}", encode(&log.trace_id));
                        let _ = writeln!(o, "Span ID: {}", encode(&log.span_id));
                        let _ = writeln!(o, "Flags: {}", log.flags);
                    }
                }
            }
        }
        Telemetry::Metrics(rs) => {
            for (i, r) in rs.iter().enumerate() {
                resource_header(
                    o,
                    "ResourceMetrics",
                    i,
                    &r.schema_url,
                    r.resource.as_ref().map(|r| &r.attributes[..]),
                );
                for (j, s) in r.scope_metrics.iter().enumerate() {
                    scope_header(o, "ScopeMetrics", j, &s.schema_url, s.scope.as_ref());
                    for (k, m) in s.metrics.iter().enumerate() {
                        metric(o, k, m);
                    }
                }
            }
        }
        Telemetry::Profiles(_) => {}
    }
    out
}

fn metric(o: &mut String, k: usize, m: &metrics::Metric) {
    use metrics::metric::Data;
    let _ = writeln!(o, "Metric #{k}");
    let _ = writeln!(o, "Descriptor:");
    let _ = writeln!(o, "     -> Name: {}", m.name);
    let _ = writeln!(o, "     -> Description: {}", m.description);
    let _ = writeln!(o, "     -> Unit: {}", m.unit);
    let temporality = |t: i32| {
        ["Unspecified", "Delta", "Cumulative"]
            .get(t as usize)
            .copied()
            .unwrap_or("Unspecified")
    };
    let number = |o: &mut String, points: &[metrics::NumberDataPoint]| {
        for (n, p) in points.iter().enumerate() {
            let _ = writeln!(o, "NumberDataPoints #{n}");
            attributes(o, "Data point attributes", &p.attributes);
            let _ = writeln!(o, "StartTimestamp: {}", timestamp(p.start_time_unix_nano));
            let _ = writeln!(o, "Timestamp: {}", timestamp(p.time_unix_nano));
            match p.value {
                Some(metrics::number_data_point::Value::AsInt(v)) => {
                    let _ = writeln!(o, "Value: {v}");
                }
                Some(metrics::number_data_point::Value::AsDouble(v)) => {
                    let _ = writeln!(o, "Value: {v:.6}");
                }
                None => {}
            }
        }
    };
    match &m.data {
        Some(Data::Gauge(g)) => {
            let _ = writeln!(o, "     -> DataType: Gauge");
            number(o, &g.data_points);
        }
        Some(Data::Sum(s)) => {
            let _ = writeln!(o, "     -> DataType: Sum");
            let _ = writeln!(o, "     -> IsMonotonic: {}", s.is_monotonic);
            let _ = writeln!(
                o,
                "     -> AggregationTemporality: {}",
                temporality(s.aggregation_temporality)
            );
            number(o, &s.data_points);
        }
        Some(Data::Histogram(h)) => {
            let _ = writeln!(o, "     -> DataType: Histogram");
            let _ = writeln!(
                o,
                "     -> AggregationTemporality: {}",
                temporality(h.aggregation_temporality)
            );
            for (n, p) in h.data_points.iter().enumerate() {
                let _ = writeln!(o, "HistogramDataPoints #{n}");
                attributes(o, "Data point attributes", &p.attributes);
                let _ = writeln!(o, "StartTimestamp: {}", timestamp(p.start_time_unix_nano));
                let _ = writeln!(o, "Timestamp: {}", timestamp(p.time_unix_nano));
                let _ = writeln!(o, "Count: {}", p.count);
                if let Some(sum) = p.sum {
                    let _ = writeln!(o, "Sum: {sum:.6}");
                }
                for (b, bound) in p.explicit_bounds.iter().enumerate() {
                    let _ = writeln!(o, "ExplicitBounds #{b}: {bound:.6}");
                }
                for (b, count) in p.bucket_counts.iter().enumerate() {
                    let _ = writeln!(o, "Buckets #{b}, Count: {count}");
                }
            }
        }
        Some(Data::ExponentialHistogram(h)) => {
            let _ = writeln!(o, "     -> DataType: ExponentialHistogram");
            let _ = writeln!(
                o,
                "     -> AggregationTemporality: {}",
                temporality(h.aggregation_temporality)
            );
            for (n, p) in h.data_points.iter().enumerate() {
                let _ = writeln!(o, "ExponentialHistogramDataPoints #{n}");
                attributes(o, "Data point attributes", &p.attributes);
                let _ = writeln!(o, "Timestamp: {}", timestamp(p.time_unix_nano));
                let _ = writeln!(o, "Count: {}", p.count);
                let _ = writeln!(o, "Scale: {}", p.scale);
            }
        }
        Some(Data::Summary(s)) => {
            let _ = writeln!(o, "     -> DataType: Summary");
            for (n, p) in s.data_points.iter().enumerate() {
                let _ = writeln!(o, "SummaryDataPoints #{n}");
                attributes(o, "Data point attributes", &p.attributes);
                let _ = writeln!(o, "Timestamp: {}", timestamp(p.time_unix_nano));
                let _ = writeln!(o, "Count: {}", p.count);
                let _ = writeln!(o, "Sum: {:.6}", p.sum);
                for (q, v) in p.quantile_values.iter().enumerate() {
                    let _ = writeln!(
                        o,
                        "QuantileValue #{q}: Quantile {:.6}, Value {:.6}",
                        v.quantile, v.value
                    );
                }
            }
        }
        None => {
            let _ = writeln!(o, "     -> DataType: Empty");
        }
    }
}

fn resource_header(
    o: &mut String,
    what: &str,
    i: usize,
    schema: &str,
    attrs: Option<&[common::KeyValue]>,
) {
    let _ = writeln!(o, "{what} #{i}");
    let _ = writeln!(o, "Resource SchemaURL: {schema}");
    attributes(o, "Resource attributes", attrs.unwrap_or_default());
}

fn scope_header(
    o: &mut String,
    what: &str,
    j: usize,
    schema: &str,
    scope: Option<&common::InstrumentationScope>,
) {
    let _ = writeln!(o, "{what} #{j}");
    let _ = writeln!(o, "{what} SchemaURL: {schema}");
    let (name, version) = scope.map_or(("", ""), |s| (s.name.as_str(), s.version.as_str()));
    let _ = writeln!(o, "InstrumentationScope {name} {version}");
}

fn attributes(o: &mut String, title: &str, attrs: &[common::KeyValue]) {
    if attrs.is_empty() {
        return;
    }
    let _ = writeln!(o, "{title}:");
    for kv in attrs {
        let v = kv
            .value
            .as_ref()
            .map(value_typed)
            .unwrap_or_else(|| "Empty()".into());
        let _ = writeln!(o, "     -> {}: {v}", kv.key);
    }
}

fn attrs_inline(attrs: &[common::KeyValue]) -> String {
    attrs
        .iter()
        .map(|kv| {
            format!(
                "{}={}",
                kv.key,
                kv.value.as_ref().map(value_plain).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `Str(x)`, `Int(5)`, as Go's `pcommon.Value` prints in detailed output.
fn value_typed(v: &common::AnyValue) -> String {
    use common::any_value::Value as V;
    match &v.value {
        Some(V::StringValue(s)) => format!("Str({s})"),
        Some(V::BoolValue(b)) => format!("Bool({b})"),
        Some(V::IntValue(i)) => format!("Int({i})"),
        Some(V::DoubleValue(d)) => format!("Double({d})"),
        Some(V::BytesValue(b)) => format!("Bytes({})", encode(b)),
        Some(V::ArrayValue(_)) => format!("Slice({})", value_plain(v)),
        Some(V::KvlistValue(_)) => format!("Map({})", value_plain(v)),
        Some(V::StringValueStrindex(i)) => format!("StrIndex({i})"),
        None => "Empty()".into(),
    }
}

fn value_plain(v: &common::AnyValue) -> String {
    use common::any_value::Value as V;
    match &v.value {
        Some(V::StringValue(s)) => s.clone(),
        Some(V::BoolValue(b)) => b.to_string(),
        Some(V::IntValue(i)) => i.to_string(),
        Some(V::DoubleValue(d)) => d.to_string(),
        Some(V::BytesValue(b)) => encode(b),
        Some(V::ArrayValue(a)) => format!(
            "[{}]",
            a.values
                .iter()
                .map(value_plain)
                .collect::<Vec<_>>()
                .join(",")
        ),
        Some(V::KvlistValue(kv)) => format!(
            "{{{}}}",
            kv.values
                .iter()
                .map(|kv| format!(
                    "{}:{}",
                    kv.key,
                    kv.value.as_ref().map(value_plain).unwrap_or_default()
                ))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Some(V::StringValueStrindex(i)) => i.to_string(),
        None => String::new(),
    }
}

fn severity_name(n: i32) -> &'static str {
    const NAMES: [&str; 25] = [
        "Unspecified",
        "Trace",
        "Trace2",
        "Trace3",
        "Trace4",
        "Debug",
        "Debug2",
        "Debug3",
        "Debug4",
        "Info",
        "Info2",
        "Info3",
        "Info4",
        "Warn",
        "Warn2",
        "Warn3",
        "Warn4",
        "Error",
        "Error2",
        "Error3",
        "Error4",
        "Fatal",
        "Fatal2",
        "Fatal3",
        "Fatal4",
    ];
    NAMES.get(n as usize).copied().unwrap_or("Unspecified")
}
