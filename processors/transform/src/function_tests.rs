//! The transform processor's metric functions run as statements, with
//! the examples and errors of Go's documentation and code.

use super::functions::registry;
use ferrotel_core::pdata::Signal;
use ferrotel_core::pdata::Telemetry;
use ferrotel_core::pdata::common::{AnyValue, KeyValue, any_value::Value as V};
use ferrotel_core::pdata::metrics::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric,
};
use ferrotel_ottl::{ErrorMode, Program};

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

fn run(data: &mut Telemetry, statements: &[&str]) {
    let statements: Vec<String> = statements.iter().map(|s| s.to_string()).collect();
    Program::compile_with(registry(), data.signal(), None, &statements, &[])
        .unwrap()
        .run(data, ErrorMode::Propagate)
        .unwrap();
}

#[test]
fn metric_conversions() {
    let mut metrics = Telemetry::Metrics(vec![ResourceMetrics {
        scope_metrics: vec![ScopeMetrics {
            metrics: vec![
                Metric {
                    name: "system.processes.count".into(),
                    data: Some(metric::Data::Sum(ferrotel_core::pdata::metrics::Sum {
                        data_points: vec![NumberDataPoint::default()],
                        aggregation_temporality: 2,
                        is_monotonic: false,
                    })),
                    ..Metric::default()
                },
                Metric {
                    name: "prometheus_metric".into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: vec![NumberDataPoint::default(); 2],
                    })),
                    ..Metric::default()
                },
            ],
            ..ScopeMetrics::default()
        }],
        ..ResourceMetrics::default()
    }]);
    run(
        &mut metrics,
        &[
            r#"convert_sum_to_gauge() where metric.name == "system.processes.count""#,
            r#"convert_gauge_to_sum("cumulative", false) where metric.name == "prometheus_metric""#,
            r#"set(metric.description, "now a sum") where metric.type == METRIC_DATA_TYPE_SUM"#,
        ],
    );
    let Telemetry::Metrics(r) = &metrics else {
        panic!()
    };
    let m = &r[0].scope_metrics[0].metrics;
    assert!(matches!(&m[0].data, Some(metric::Data::Gauge(g)) if g.data_points.len() == 1));
    assert!(matches!(&m[1].data, Some(metric::Data::Sum(s))
        if s.data_points.len() == 2 && s.aggregation_temporality == 2 && !s.is_monotonic));
    assert_eq!(
        (m[0].description.as_str(), m[1].description.as_str()),
        ("", "now a sum")
    );
    let err = Program::compile_with(
        registry(),
        Signal::Metrics,
        None,
        &[r#"convert_gauge_to_sum("sometimes", true) where metric.name == "x""#.into()],
        &[],
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("unknown aggregation temporality: sometimes"),
        "{err}"
    );
    let err = Program::compile_with(
        registry(),
        Signal::Metrics,
        Some("datapoint"),
        &["convert_sum_to_gauge()".into()],
        &[],
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("only available in the metric context"),
        "{err}"
    );
}

#[test]
fn metric_functions_create_and_scale_metrics_as_go_documents() {
    use ferrotel_core::pdata::metrics::{
        Histogram, HistogramDataPoint, Summary, SummaryDataPoint, number_data_point::Value as N,
        summary_data_point::ValueAtQuantile,
    };
    let histogram = Metric {
        name: "http.server.duration".into(),
        description: "latency".into(),
        unit: "ms".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![
                HistogramDataPoint {
                    attributes: vec![kv("route", s("/a"))],
                    start_time_unix_nano: 1,
                    time_unix_nano: 2,
                    count: 4,
                    sum: Some(10.0),
                    bucket_counts: vec![1, 3],
                    explicit_bounds: vec![5.0],
                    max: Some(8.0),
                    ..HistogramDataPoint::default()
                },
                // No sum: no point in the _sum metric, one in _count.
                HistogramDataPoint {
                    count: 2,
                    ..HistogramDataPoint::default()
                },
            ],
            aggregation_temporality: 1,
        })),
        ..Metric::default()
    };
    let summary = Metric {
        name: "rpc.latency".into(),
        unit: "s".into(),
        data: Some(metric::Data::Summary(Summary {
            data_points: vec![SummaryDataPoint {
                count: 3,
                sum: 1.5,
                quantile_values: vec![ValueAtQuantile {
                    quantile: 0.5,
                    value: 0.4,
                }],
                ..SummaryDataPoint::default()
            }],
        })),
        ..Metric::default()
    };
    let gauge = Metric {
        name: "memory".into(),
        unit: "By".into(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint {
                value: Some(N::AsInt(3 << 20)),
                ..NumberDataPoint::default()
            }],
        })),
        ..Metric::default()
    };
    let mut data = Telemetry::Metrics(vec![ResourceMetrics {
        scope_metrics: vec![ScopeMetrics {
            metrics: vec![histogram, summary, gauge],
            ..ScopeMetrics::default()
        }],
        ..ResourceMetrics::default()
    }]);
    run(
        &mut data,
        &[
            r#"extract_sum_metric(true) where metric.name == "http.server.duration""#,
            r#"extract_count_metric(true, "_total") where metric.type == METRIC_DATA_TYPE_HISTOGRAM or metric.type == METRIC_DATA_TYPE_SUMMARY"#,
            r#"copy_metric(name="memory.mib", unit="MiBy") where metric.name == "memory""#,
            r#"scale_metric(0.00000095367431640625) where metric.name == "memory.mib""#,
            r#"scale_metric(1000.0, "ms") where metric.name == "rpc.latency""#,
            r#"extract_avg_metric() where metric.name == "http.server.duration""#,
            r#"extract_avg_metric(".mean") where metric.name == "rpc.latency""#,
            r#"convert_summary_quantile_val_to_gauge("q") where metric.name == "rpc.latency""#,
        ],
    );
    let Telemetry::Metrics(r) = &data else {
        panic!()
    };
    let metrics = &r[0].scope_metrics[0].metrics;
    let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
    // Created metrics follow the others, in the order they were made: all
    // statements run on one metric before the next.
    assert_eq!(
        names,
        [
            "http.server.duration",
            "rpc.latency",
            "memory",
            "http.server.duration_sum",
            "http.server.duration_total",
            "http.server.duration_avg",
            "rpc.latency_total",
            "rpc.latency.mean",
            "rpc.latency.quantiles",
            "memory.mib"
        ]
    );
    // One gauge point per quantile, the quantile as an attribute.
    let Some(metric::Data::Gauge(q)) = &metrics[8].data else {
        panic!("{:?}", metrics[8])
    };
    assert_eq!(
        (&q.data_points[0].attributes, q.data_points[0].value),
        (
            &vec![kv("q", V::DoubleValue(0.5))],
            Some(N::AsDouble(400.0))
        )
    );
    // Averages are gauges of sum / count, for points with a sum and a
    // count (the summary was scaled by 1000 before).
    let avg = |m: &Metric| match &m.data {
        Some(metric::Data::Gauge(g)) => g
            .data_points
            .iter()
            .map(|p| (p.value, p.start_time_unix_nano))
            .collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(avg(&metrics[5]), [(Some(N::AsDouble(2.5)), 1)]);
    assert_eq!(avg(&metrics[7]), [(Some(N::AsDouble(500.0)), 0)]);
    assert_eq!(
        (metrics[5].unit.as_str(), metrics[7].unit.as_str()),
        ("ms", "ms")
    );
    let sum = |m: &Metric| match &m.data {
        Some(metric::Data::Sum(s)) => s.clone(),
        other => panic!("{other:?}"),
    };
    let extracted_sum = sum(&metrics[3]);
    assert_eq!(
        (
            extracted_sum.aggregation_temporality,
            extracted_sum.is_monotonic
        ),
        (1, true)
    );
    assert_eq!(extracted_sum.data_points.len(), 1);
    let p = &extracted_sum.data_points[0];
    assert_eq!(
        (
            &p.value,
            p.start_time_unix_nano,
            p.time_unix_nano,
            &p.attributes
        ),
        (&Some(N::AsDouble(10.0)), 1, 2, &vec![kv("route", s("/a"))])
    );
    assert_eq!(
        (metrics[3].unit.as_str(), metrics[3].description.as_str()),
        ("ms", "latency")
    );
    let counts: Vec<_> = sum(&metrics[4])
        .data_points
        .iter()
        .map(|p| p.value)
        .collect();
    assert_eq!(counts, [Some(N::AsInt(4)), Some(N::AsInt(2))]);
    assert_eq!(metrics[4].unit, "1");
    // Summaries count as cumulative.
    assert_eq!(sum(&metrics[6]).aggregation_temporality, 2);
    // The copy keeps the original, renamed and rescaled.
    let Some(metric::Data::Gauge(g)) = &metrics[9].data else {
        panic!()
    };
    assert_eq!(g.data_points[0].value, Some(N::AsInt(3)));
    assert_eq!(metrics[9].unit, "MiBy");
    let Some(metric::Data::Gauge(g)) = &metrics[2].data else {
        panic!()
    };
    assert_eq!(g.data_points[0].value, Some(N::AsInt(3 << 20)));
    let Some(metric::Data::Summary(sm)) = &metrics[1].data else {
        panic!()
    };
    assert_eq!(
        (
            sm.data_points[0].sum,
            sm.data_points[0].quantile_values[0].value
        ),
        (1500.0, 400.0)
    );
    assert_eq!(metrics[1].unit, "ms");

    // Errors are Go's.
    for (statement, want) in [
        (
            r#"extract_sum_metric(true) where metric.name == "memory""#,
            "extract_sum_metric requires an input metric of type Histogram, ExponentialHistogram or Summary, got Gauge",
        ),
        (
            r#"scale_metric(2.0, 5) where metric.name == "memory""#,
            "could not get unit from ScaleArguments",
        ),
    ] {
        let p = Program::compile_with(
            registry(),
            Signal::Metrics,
            None,
            &[statement.to_string()],
            &[],
        )
        .unwrap();
        let err = p
            .run(&mut data.clone(), ErrorMode::Propagate)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(want), "{statement}: {err}");
    }
    let err = Program::compile_with(
        registry(),
        Signal::Metrics,
        Some("datapoint"),
        &["copy_metric()".into()],
        &[],
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        err.contains("only available in the metric context"),
        "{err}"
    );
    // A copy of every metric would never end; a pass stops after eight
    // generations.
    let mut one = Telemetry::Metrics(vec![ResourceMetrics {
        scope_metrics: vec![ScopeMetrics {
            metrics: vec![Metric {
                name: "m".into(),
                ..Metric::default()
            }],
            ..ScopeMetrics::default()
        }],
        ..ResourceMetrics::default()
    }]);
    Program::compile_with(
        registry(),
        Signal::Metrics,
        Some("metric"),
        &["copy_metric()".into()],
        &[],
    )
    .unwrap()
    .run(&mut one, ErrorMode::Propagate)
    .unwrap();
    let Telemetry::Metrics(r) = &one else {
        panic!()
    };
    assert_eq!(r[0].scope_metrics[0].metrics.len(), 1 + 9);
}

#[test]
fn summary_values_become_sums_per_point_as_in_go() {
    use ferrotel_core::pdata::metrics::{Summary, SummaryDataPoint, number_data_point::Value as N};
    let point = |route: &str, count: u64, sum: f64| SummaryDataPoint {
        attributes: vec![kv("route", s(route))],
        count,
        sum,
        time_unix_nano: 7,
        ..SummaryDataPoint::default()
    };
    let summary = |points: Vec<SummaryDataPoint>| Metric {
        name: "rpc.latency".into(),
        unit: "s".into(),
        data: Some(metric::Data::Summary(Summary {
            data_points: points,
        })),
        ..Metric::default()
    };
    let run_on = |points: Vec<SummaryDataPoint>, statements: &[&str]| {
        let mut data = Telemetry::Metrics(vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![summary(points)],
                ..ScopeMetrics::default()
            }],
            ..ResourceMetrics::default()
        }]);
        let statements: Vec<String> = statements.iter().map(|s| s.to_string()).collect();
        Program::compile_with(
            registry(),
            Signal::Metrics,
            Some("datapoint"),
            &statements,
            &[],
        )
        .unwrap()
        .run(&mut data, ErrorMode::Propagate)
        .unwrap();
        let Telemetry::Metrics(r) = data else {
            panic!()
        };
        r[0].scope_metrics[0].metrics.clone()
    };
    let metrics = run_on(
        vec![point("/a", 3, 1.5)],
        &[
            r#"convert_summary_count_val_to_sum("delta", true) where metric.name == "rpc.latency""#,
            r#"convert_summary_sum_val_to_sum("cumulative", false, ".total") where metric.name == "rpc.latency""#,
        ],
    );
    let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["rpc.latency", "rpc.latency_count", "rpc.latency.total"]
    );
    let Some(metric::Data::Sum(count)) = &metrics[1].data else {
        panic!()
    };
    assert_eq!(
        (
            count.aggregation_temporality,
            count.is_monotonic,
            count.data_points[0].value,
            &count.data_points[0].attributes,
            count.data_points[0].time_unix_nano
        ),
        (1, true, Some(N::AsInt(3)), &vec![kv("route", s("/a"))], 7)
    );
    let Some(metric::Data::Sum(total)) = &metrics[2].data else {
        panic!()
    };
    assert_eq!(
        (total.aggregation_temporality, total.data_points[0].value),
        (2, Some(N::AsDouble(1.5)))
    );
    assert_eq!(metrics[2].unit, "s");
    // Go's function runs per data point: a summary of two points gives two
    // sums, each with both points.
    let metrics = run_on(
        vec![point("/a", 3, 1.5), point("/b", 1, 0.5)],
        &[r#"convert_summary_count_val_to_sum("delta", true)"#],
    );
    assert_eq!(metrics.len(), 3);
    for m in &metrics[1..] {
        let Some(metric::Data::Sum(s)) = &m.data else {
            panic!()
        };
        assert_eq!(s.data_points.len(), 2);
    }
    let err = Program::compile_with(
        registry(),
        Signal::Metrics,
        Some("metric"),
        &[r#"convert_summary_count_val_to_sum("delta", true)"#.into()],
        &[],
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        err.contains("only available in the datapoint context"),
        "{err}"
    );
}

#[test]
fn merge_histogram_buckets_as_the_readme_shows() {
    use ferrotel_core::pdata::metrics::{Histogram, HistogramDataPoint};
    let histogram = |name: &str, bounds: &[f64], counts: &[u64]| Metric {
        name: name.into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                explicit_bounds: bounds.to_vec(),
                bucket_counts: counts.to_vec(),
                count: counts.iter().sum(),
                ..HistogramDataPoint::default()
            }],
            aggregation_temporality: 2,
        })),
        ..Metric::default()
    };
    let mut data = Telemetry::Metrics(vec![ResourceMetrics {
        scope_metrics: vec![ScopeMetrics {
            metrics: vec![
                histogram("http_request_duration", &[0.1, 0.5, 1.0], &[5, 8, 3, 1]),
                histogram(
                    "rpc_duration",
                    &[0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0],
                    &[80, 4, 6, 120, 3, 2, 40, 10, 1],
                ),
            ],
            ..ScopeMetrics::default()
        }],
        ..ResourceMetrics::default()
    }]);
    let statements = [
        r#"merge_histogram_buckets(0.5) where metric.name == "http_request_duration""#.to_string(),
        r#"merge_histogram_buckets(5, method="limit_buckets") where metric.name == "rpc_duration""#
            .to_string(),
    ];
    Program::compile_with(
        registry(),
        Signal::Metrics,
        Some("datapoint"),
        &statements,
        &[],
    )
    .unwrap()
    .run(&mut data, ErrorMode::Propagate)
    .unwrap();
    let Telemetry::Metrics(r) = &data else {
        panic!()
    };
    let buckets = |m: &Metric| match &m.data {
        Some(metric::Data::Histogram(h)) => (
            h.data_points[0].explicit_bounds.clone(),
            h.data_points[0].bucket_counts.clone(),
        ),
        other => panic!("{other:?}"),
    };
    let metrics = &r[0].scope_metrics[0].metrics;
    assert_eq!(buckets(&metrics[0]), (vec![0.1, 1.0], vec![5, 11, 1]));
    assert_eq!(
        buckets(&metrics[1]),
        (vec![0.2, 1.0, 5.0, 30.0], vec![84, 126, 5, 50, 1])
    );
    for (statement, want) in [
        (
            r#"merge_histogram_buckets(2.5, "limit_buckets")"#,
            r#"target_value must be a positive integer when method is "limit_buckets", got 2.5"#,
        ),
        (
            r#"merge_histogram_buckets(1, "average")"#,
            r#"unsupported method "average""#,
        ),
    ] {
        let err = Program::compile_with(
            registry(),
            Signal::Metrics,
            Some("datapoint"),
            &[statement.into()],
            &[],
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains(want), "{statement}: {err}");
    }
}
