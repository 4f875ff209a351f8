//! The transform processor's `aggregate_on_attributes`: a metric's data
//! points that are equal after their attributes were cut down to the given
//! keys are merged into one, as contrib's `aggregateutil` merges them.
//!
//! Points group by their attributes and timestamp, and also by their start
//! time when the metric is a delta, and by bounds, min/max presence and
//! flags for histograms. Groups come out in the order they were first seen
//! (Go's come out in map order, which varies from run to run).

use ferrotel_core::pdata::common::{KeyValue, KeyValueList, any_value};
use ferrotel_core::pdata::metrics::number_data_point::Value as Number;
use ferrotel_core::pdata::metrics::{HistogramDataPoint, Metric, NumberDataPoint, metric::Data};
use std::collections::HashMap;

/// How the values of merged number points combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Aggregation {
    Sum,
    Mean,
    Min,
    Max,
    Median,
    Count,
}

impl Aggregation {
    pub(super) fn parse(name: &str) -> Result<Aggregation, String> {
        Ok(match name {
            "sum" => Aggregation::Sum,
            "mean" => Aggregation::Mean,
            "min" => Aggregation::Min,
            "max" => Aggregation::Max,
            "median" => Aggregation::Median,
            "count" => Aggregation::Count,
            other => {
                return Err(format!(
                    "invalid aggregation function: 'unsupported function: '{other}'', valid options: sum, mean, min, max, median, count"
                ));
            }
        })
    }
}

/// Cuts the points' attributes down to `keep` (all of them stay when it is
/// `None`) and merges the points that are then alike.
pub(super) fn aggregate_on_attributes(
    metric: &mut Metric,
    aggregation: Aggregation,
    keep: Option<&[String]>,
) -> Result<(), String> {
    if matches!(metric.data, Some(Data::Summary(_))) {
        return Err("aggregate_on_attributes does not support aggregating Summary metrics".into());
    }
    edit_and_merge(metric, aggregation, |attributes| {
        if let Some(keep) = keep {
            attributes.retain(|kv| keep.contains(&kv.key));
        }
    })
}

/// `aggregate_on_attribute_value`: gives `attribute` the value `new_value`
/// where it has one of `values`, then merges the points that are alike.
pub(super) fn aggregate_on_attribute_value(
    metric: &mut Metric,
    aggregation: Aggregation,
    attribute: &str,
    values: &[String],
    new_value: &str,
) -> Result<(), String> {
    // Go would empty a summary here (it has no merge for them).
    if matches!(metric.data, Some(Data::Summary(_))) {
        return Err(
            "aggregate_on_attribute_value does not support aggregating Summary metrics".into(),
        );
    }
    edit_and_merge(metric, aggregation, |attributes| {
        for kv in attributes.iter_mut().filter(|kv| kv.key == attribute) {
            // Go compares the value's Str(), which is "" for other types.
            let current = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.as_str(),
                _ => "",
            };
            if values.iter().any(|v| v == current) {
                kv.value = Some(ferrotel_core::pdata::common::AnyValue {
                    value: Some(any_value::Value::StringValue(new_value.to_string())),
                });
            }
        }
    })
}

fn edit_and_merge(
    metric: &mut Metric,
    aggregation: Aggregation,
    cut: impl Fn(&mut Vec<KeyValue>),
) -> Result<(), String> {
    match &mut metric.data {
        Some(Data::Gauge(g)) => {
            g.data_points
                .iter_mut()
                .for_each(|p| cut(&mut p.attributes));
            g.data_points = merge_numbers(std::mem::take(&mut g.data_points), false, aggregation);
        }
        Some(Data::Sum(s)) => {
            let delta = s.aggregation_temporality == 1;
            s.data_points
                .iter_mut()
                .for_each(|p| cut(&mut p.attributes));
            s.data_points = merge_numbers(std::mem::take(&mut s.data_points), delta, aggregation);
        }
        Some(Data::Histogram(h)) => {
            let delta = h.aggregation_temporality == 1;
            h.data_points
                .iter_mut()
                .for_each(|p| cut(&mut p.attributes));
            h.data_points = merge_histograms(std::mem::take(&mut h.data_points), delta);
        }
        Some(Data::ExponentialHistogram(_)) => {
            return Err("exponential histograms cannot be aggregated by ferrotel yet".into());
        }
        Some(Data::Summary(_)) | None => {}
    }
    // Go rebuilds the metric from its name, unit, description and shape.
    metric.metadata.clear();
    Ok(())
}

/// Points in groups of equal keys, in first-seen order.
fn group<P>(points: Vec<P>, key: impl Fn(&P) -> String) -> Vec<Vec<P>> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<Vec<P>> = Vec::new();
    for p in points {
        let k = key(&p);
        match index.get(&k) {
            Some(&i) => groups[i].push(p),
            None => {
                index.insert(k, groups.len());
                groups.push(vec![p]);
            }
        }
    }
    groups
}

/// Attributes (as Go's JSON of the map, so key order does not matter),
/// timestamp and the caller's extra parts.
fn key(attributes: &[KeyValue], time: u64, extra: std::fmt::Arguments<'_>) -> String {
    let map = any_value::Value::KvlistValue(KeyValueList {
        values: attributes.to_vec(),
    });
    let mut out = String::new();
    // Attribute values that Go cannot encode (NaN) still group together.
    let _ = ferrotel_core::pdata::go::json(Some(&map), false, &mut out);
    use std::fmt::Write;
    let _ = write!(out, "|{time}|{extra}");
    out
}

fn merge_numbers(
    points: Vec<NumberDataPoint>,
    by_start: bool,
    aggregation: Aggregation,
) -> Vec<NumberDataPoint> {
    let groups = group(points, |p| {
        let start = if by_start { p.start_time_unix_nano } else { 0 };
        key(&p.attributes, p.time_unix_nano, format_args!("{start}"))
    });
    groups
        .into_iter()
        .map(|group| merge_number_group(group, aggregation))
        .collect()
}

fn merge_number_group(group: Vec<NumberDataPoint>, aggregation: Aggregation) -> NumberDataPoint {
    let len = group.len();
    let mut rest = group.into_iter();
    let Some(mut first) = rest.next() else {
        return NumberDataPoint::default();
    };
    let rest: Vec<NumberDataPoint> = rest.collect();
    for p in &rest {
        first.start_time_unix_nano = first.start_time_unix_nano.min(p.start_time_unix_nano);
    }
    let as_double = |p: &NumberDataPoint| match p.value {
        Some(Number::AsDouble(d)) => d,
        Some(Number::AsInt(i)) => i as f64,
        None => 0.0,
    };
    let as_int = |p: &NumberDataPoint| match p.value {
        Some(Number::AsDouble(d)) => d as i64,
        Some(Number::AsInt(i)) => i,
        None => 0,
    };
    // As Go: the first point's value type decides, and a lone point keeps
    // its value whatever the aggregation (even `count`).
    first.value = match first.value {
        Some(Number::AsDouble(v)) if !rest.is_empty() => {
            let values = std::iter::once(v).chain(rest.iter().map(as_double));
            Some(Number::AsDouble(match aggregation {
                Aggregation::Sum => values.sum(),
                Aggregation::Mean => values.sum::<f64>() / len as f64,
                Aggregation::Max => values.fold(f64::NAN, f64::max),
                Aggregation::Min => values.fold(f64::NAN, f64::min),
                Aggregation::Count => len as f64,
                Aggregation::Median => {
                    let mut sorted: Vec<f64> = values.collect();
                    sorted.sort_by(f64::total_cmp);
                    let mid = sorted.len() / 2;
                    if sorted.len() % 2 == 1 {
                        sorted[mid]
                    } else {
                        (sorted[mid - 1] + sorted[mid]) / 2.0
                    }
                }
            }))
        }
        Some(Number::AsInt(v)) if !rest.is_empty() => {
            let values = std::iter::once(v).chain(rest.iter().map(as_int));
            // Go adds the others' int values, which are 0 for double points.
            let total = || {
                rest.iter().fold(v, |t, p| match p.value {
                    Some(Number::AsInt(i)) => t.wrapping_add(i),
                    _ => t,
                })
            };
            Some(Number::AsInt(match aggregation {
                Aggregation::Sum => total(),
                Aggregation::Mean => total() / len as i64,
                Aggregation::Max => values.max().unwrap_or(v),
                Aggregation::Min => values.min().unwrap_or(v),
                Aggregation::Count => len as i64,
                Aggregation::Median => {
                    let mut sorted: Vec<i64> = values.collect();
                    sorted.sort_unstable();
                    let mid = sorted.len() / 2;
                    if sorted.len() % 2 == 1 {
                        sorted[mid]
                    } else {
                        (sorted[mid - 1] + sorted[mid]) / 2
                    }
                }
            }))
        }
        other => other,
    };
    first
}

fn merge_histograms(points: Vec<HistogramDataPoint>, by_start: bool) -> Vec<HistogramDataPoint> {
    let groups = group(points, |p| {
        let start = if by_start { p.start_time_unix_nano } else { 0 };
        key(
            &p.attributes,
            p.time_unix_nano,
            format_args!(
                "{:?}|{start}|{}|{}|{}",
                p.explicit_bounds,
                p.min.is_some(),
                p.max.is_some(),
                p.flags
            ),
        )
    });
    groups
        .into_iter()
        .filter_map(|group| {
            let mut rest = group.into_iter();
            let mut first = rest.next()?;
            for mut p in rest {
                // Go skips empty points entirely, start time included.
                if p.count == 0 {
                    continue;
                }
                first.count += p.count;
                // A sum survives only while every merged point has one.
                first.sum = match (first.sum, p.sum) {
                    (Some(a), Some(b)) => Some(a + b),
                    _ => None,
                };
                // Go compares with a missing min or max read as zero.
                if let Some(min) = first.min {
                    first.min = Some(min.min(p.min.unwrap_or(0.0)));
                }
                if let Some(max) = first.max {
                    first.max = Some(max.max(p.max.unwrap_or(0.0)));
                }
                if first.bucket_counts.len() < p.bucket_counts.len() {
                    first.bucket_counts.resize(p.bucket_counts.len(), 0);
                }
                for (total, n) in first.bucket_counts.iter_mut().zip(&p.bucket_counts) {
                    *total += n;
                }
                first.exemplars.append(&mut p.exemplars);
                first.start_time_unix_nano = first.start_time_unix_nano.min(p.start_time_unix_nano);
            }
            Some(first)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrotel_core::pdata::common::AnyValue;
    use ferrotel_core::pdata::metrics::{Gauge, Histogram, Sum};

    fn attrs(pairs: &[(&str, &str)]) -> Vec<KeyValue> {
        pairs
            .iter()
            .map(|(k, v)| KeyValue {
                key: k.to_string(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue(v.to_string())),
                }),
                ..KeyValue::default()
            })
            .collect()
    }

    fn number(a: &[(&str, &str)], value: Number, start: u64) -> NumberDataPoint {
        NumberDataPoint {
            attributes: attrs(a),
            value: Some(value),
            start_time_unix_nano: start,
            time_unix_nano: 100,
            ..NumberDataPoint::default()
        }
    }

    fn values(m: &Metric) -> Vec<(Vec<KeyValue>, Option<Number>, u64)> {
        let points = match &m.data {
            Some(Data::Gauge(g)) => &g.data_points,
            Some(Data::Sum(s)) => &s.data_points,
            other => panic!("{other:?}"),
        };
        points
            .iter()
            .map(|p| (p.attributes.clone(), p.value, p.start_time_unix_nano))
            .collect()
    }

    fn gauge(points: Vec<NumberDataPoint>) -> Metric {
        Metric {
            name: "g".into(),
            data: Some(Data::Gauge(Gauge {
                data_points: points,
            })),
            ..Metric::default()
        }
    }

    #[test]
    fn number_points_merge_as_aggregateutil_merges_them() {
        let points = || {
            vec![
                number(&[("a", "1"), ("b", "x")], Number::AsDouble(1.0), 5),
                number(&[("b", "y"), ("a", "1")], Number::AsInt(4), 3),
                number(&[("a", "2")], Number::AsDouble(7.0), 1),
                number(&[("a", "1")], Number::AsDouble(2.5), 9),
            ]
        };
        for (aggregation, want) in [
            (Aggregation::Sum, 7.5),
            (Aggregation::Mean, 2.5),
            (Aggregation::Min, 1.0),
            (Aggregation::Max, 4.0),
            (Aggregation::Median, 2.5),
            (Aggregation::Count, 3.0),
        ] {
            let mut m = gauge(points());
            aggregate_on_attributes(&mut m, aggregation, Some(&["a".to_string()])).unwrap();
            assert_eq!(
                values(&m),
                [
                    (attrs(&[("a", "1")]), Some(Number::AsDouble(want)), 3),
                    (attrs(&[("a", "2")]), Some(Number::AsDouble(7.0)), 1),
                ],
                "{aggregation:?}"
            );
        }
        // No attribute list: points merge only when all attributes agree,
        // in any order. An empty list merges everything.
        let mut m = gauge(vec![
            number(&[("a", "1"), ("b", "x")], Number::AsInt(1), 0),
            number(&[("b", "x"), ("a", "1")], Number::AsInt(2), 0),
            number(&[("a", "1")], Number::AsInt(4), 0),
        ]);
        aggregate_on_attributes(&mut m, Aggregation::Sum, None).unwrap();
        assert_eq!(values(&m).len(), 2);
        aggregate_on_attributes(&mut m, Aggregation::Median, Some(&[])).unwrap();
        assert_eq!(values(&m), [(vec![], Some(Number::AsInt(3)), 0)]);
    }

    #[test]
    fn delta_sums_group_by_start_time_too() {
        let mut m = Metric {
            data: Some(Data::Sum(Sum {
                data_points: vec![
                    number(&[("a", "1")], Number::AsInt(1), 10),
                    number(&[("a", "1")], Number::AsInt(2), 20),
                ],
                aggregation_temporality: 1,
                is_monotonic: true,
            })),
            ..Metric::default()
        };
        aggregate_on_attributes(&mut m, Aggregation::Sum, Some(&[])).unwrap();
        assert_eq!(values(&m).len(), 2);
        if let Some(Data::Sum(s)) = &mut m.data {
            s.aggregation_temporality = 2;
        }
        aggregate_on_attributes(&mut m, Aggregation::Sum, Some(&[])).unwrap();
        assert_eq!(values(&m), [(vec![], Some(Number::AsInt(3)), 10)]);
    }

    #[test]
    fn histograms_add_counts_sums_and_buckets() {
        let point =
            |a: &[(&str, &str)], count, sum: Option<f64>, buckets: Vec<u64>| HistogramDataPoint {
                attributes: attrs(a),
                count,
                sum,
                bucket_counts: buckets,
                explicit_bounds: vec![10.0],
                min: Some(1.0),
                max: Some(9.0),
                time_unix_nano: 100,
                ..HistogramDataPoint::default()
            };
        let mut m = Metric {
            data: Some(Data::Histogram(Histogram {
                data_points: vec![
                    point(&[("a", "1")], 3, Some(6.0), vec![2, 1]),
                    point(&[("a", "2")], 2, Some(30.0), vec![0, 2]),
                    point(&[("a", "3")], 0, None, vec![0, 0]),
                ],
                aggregation_temporality: 2,
            })),
            ..Metric::default()
        };
        aggregate_on_attributes(&mut m, Aggregation::Sum, Some(&[])).unwrap();
        let Some(Data::Histogram(h)) = &m.data else {
            panic!()
        };
        assert_eq!(h.data_points.len(), 1);
        let p = &h.data_points[0];
        assert_eq!(
            (p.count, p.sum, p.bucket_counts.clone(), p.min, p.max),
            (5, Some(36.0), vec![2, 3], Some(1.0), Some(9.0))
        );
    }

    #[test]
    fn values_of_an_attribute_are_renamed_then_merged() {
        let mut m = gauge(vec![
            number(&[("state", "idle")], Number::AsInt(1), 0),
            number(&[("state", "wait")], Number::AsInt(2), 0),
            number(&[("state", "user")], Number::AsInt(4), 0),
        ]);
        aggregate_on_attribute_value(
            &mut m,
            Aggregation::Sum,
            "state",
            &["idle".to_string(), "wait".to_string()],
            "other",
        )
        .unwrap();
        assert_eq!(
            values(&m),
            [
                (attrs(&[("state", "other")]), Some(Number::AsInt(3)), 0),
                (attrs(&[("state", "user")]), Some(Number::AsInt(4)), 0),
            ]
        );
    }

    #[test]
    fn summaries_and_unknown_functions_are_refused_as_go_refuses_them() {
        let mut m = Metric {
            data: Some(Data::Summary(Default::default())),
            ..Metric::default()
        };
        assert_eq!(
            aggregate_on_attributes(&mut m, Aggregation::Sum, None).unwrap_err(),
            "aggregate_on_attributes does not support aggregating Summary metrics"
        );
        assert!(
            Aggregation::parse("avg")
                .unwrap_err()
                .contains("valid options: sum, mean")
        );
    }
}
