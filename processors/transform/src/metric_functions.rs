//! What the transform processor's metric functions do to metrics and
//! points: the metrics `extract_*_metric` and the summary conversions
//! make, `scale_metric`, and the bucket merges of `merge_histogram_buckets`.

use super::functions::Extracted;
use ferrotel_core::pdata::common::{AnyValue, KeyValue, any_value};
use ferrotel_core::pdata::metrics::number_data_point::Value as Number;
use ferrotel_core::pdata::metrics::{
    Gauge, HistogramDataPoint, Metric, NumberDataPoint, Sum, Summary, exemplar, metric::Data,
};

/// The metric `extract_sum_metric`, `extract_count_metric` or
/// `extract_avg_metric` makes of a histogram, exponential histogram or
/// summary; `None` when it would have no points (histograms without sums).
pub(super) fn extract_metric(
    m: &Metric,
    extracted: Extracted,
    monotonic: bool,
    suffix: &str,
) -> Result<Option<Metric>, String> {
    let name = match extracted {
        Extracted::Sum => "extract_sum_metric",
        Extracted::Count => "extract_count_metric",
        Extracted::Avg => "extract_avg_metric",
    };
    let wrong_type = || {
        format!(
            "{name} requires an input metric of type Histogram, ExponentialHistogram or Summary, got {}",
            metric_type_name(m.data.as_ref())
        )
    };
    // Attributes, start, time, sum and count of each point. Summaries have
    // no temporality; Go takes them as cumulative.
    type Stats<'m> = (&'m [KeyValue], u64, u64, Option<f64>, u64);
    let (temporality, stats): (i32, Vec<Stats<'_>>) = match &m.data {
        Some(Data::Histogram(h)) => (
            h.aggregation_temporality,
            h.data_points
                .iter()
                .map(|p| {
                    (
                        &p.attributes[..],
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        p.sum,
                        p.count,
                    )
                })
                .collect(),
        ),
        Some(Data::ExponentialHistogram(h)) => (
            h.aggregation_temporality,
            h.data_points
                .iter()
                .map(|p| {
                    (
                        &p.attributes[..],
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        p.sum,
                        p.count,
                    )
                })
                .collect(),
        ),
        Some(Data::Summary(s)) => (
            2,
            s.data_points
                .iter()
                .map(|p| {
                    (
                        &p.attributes[..],
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        Some(p.sum),
                        p.count,
                    )
                })
                .collect(),
        ),
        _ => return Err(wrong_type()),
    };
    if temporality == 0 && extracted != Extracted::Avg {
        return Err(wrong_type());
    }
    let points: Vec<NumberDataPoint> = stats
        .into_iter()
        .filter_map(|(attributes, start, time, sum, count)| {
            let value = match extracted {
                Extracted::Sum => Number::AsDouble(sum?),
                Extracted::Count => Number::AsInt(count as i64),
                Extracted::Avg if count == 0 => return None,
                Extracted::Avg => Number::AsDouble(sum? / count as f64),
            };
            Some(NumberDataPoint {
                attributes: attributes.to_vec(),
                start_time_unix_nano: start,
                time_unix_nano: time,
                value: Some(value),
                ..NumberDataPoint::default()
            })
        })
        .collect();
    if points.is_empty() {
        return Ok(None);
    }
    Ok(Some(Metric {
        name: format!("{}{suffix}", m.name),
        description: m.description.clone(),
        // A count has no unit of the measured values.
        unit: match extracted {
            Extracted::Count => "1".into(),
            _ => m.unit.clone(),
        },
        data: Some(match extracted {
            Extracted::Avg => Data::Gauge(Gauge {
                data_points: points,
            }),
            _ => Data::Sum(Sum {
                data_points: points,
                aggregation_temporality: temporality,
                is_monotonic: monotonic,
            }),
        }),
        ..Metric::default()
    }))
}

/// pmetric's name of a metric type.
fn metric_type_name(data: Option<&Data>) -> &'static str {
    match data {
        None => "Empty",
        Some(Data::Gauge(_)) => "Gauge",
        Some(Data::Sum(_)) => "Sum",
        Some(Data::Histogram(_)) => "Histogram",
        Some(Data::ExponentialHistogram(_)) => "ExponentialHistogram",
        Some(Data::Summary(_)) => "Summary",
    }
}

/// `scale_metric`: multiplies values, sums, bounds and quantiles as Go
/// does (number points' exemplars stay, histograms' are scaled).
pub(super) fn scale_metric(m: &mut Metric, by: f64) -> Result<(), String> {
    let scale_number = |v: &mut Option<Number>| match v {
        Some(Number::AsInt(i)) => *i = (*i as f64 * by) as i64,
        Some(Number::AsDouble(d)) => *d *= by,
        None => {}
    };
    match &mut m.data {
        Some(Data::Gauge(g)) => g
            .data_points
            .iter_mut()
            .for_each(|p| scale_number(&mut p.value)),
        Some(Data::Sum(s)) => s
            .data_points
            .iter_mut()
            .for_each(|p| scale_number(&mut p.value)),
        Some(Data::Histogram(h)) => {
            for p in &mut h.data_points {
                for v in [&mut p.sum, &mut p.min, &mut p.max].into_iter().flatten() {
                    *v *= by;
                }
                p.explicit_bounds.iter_mut().for_each(|b| *b *= by);
                for e in &mut p.exemplars {
                    match &mut e.value {
                        Some(exemplar::Value::AsInt(i)) => *i = (*i as f64 * by) as i64,
                        Some(exemplar::Value::AsDouble(d)) => *d *= by,
                        None => {}
                    }
                }
            }
        }
        Some(Data::Summary(s)) => {
            for p in &mut s.data_points {
                p.sum *= by;
                p.quantile_values.iter_mut().for_each(|q| q.value *= by);
            }
        }
        Some(Data::ExponentialHistogram(_)) => {
            return Err(
                "exponential histograms are not supported by the 'scale_metric' function".into(),
            );
        }
        None => return Err("unsupported metric type: 'Empty'".into()),
    }
    Ok(())
}

/// `limit_buckets`' target value as a bucket count.
pub(super) fn max_buckets(target: f64) -> Result<usize, String> {
    if target < 1.0 || target.trunc() != target || target > i64::MAX as f64 {
        return Err(format!(
            "target_value must be a positive integer when method is \"limit_buckets\", got {}",
            ferrotel_ottl::go::format_float(target.abs(), 'g', None)
        ));
    }
    Ok(target as usize)
}

/// `remove_explicit_bound`: the bucket ending at `bound` (within 1e-12)
/// joins the next one.
pub(super) fn remove_bound(p: &mut HistogramDataPoint, bound: f64) {
    if p.explicit_bounds.len() + 1 != p.bucket_counts.len() || p.bucket_counts.len() == 1 {
        return;
    }
    let Some(i) = p
        .explicit_bounds
        .iter()
        .position(|b| (b - bound).abs() < 1e-12)
    else {
        return;
    };
    p.bucket_counts[i + 1] += p.bucket_counts[i];
    p.bucket_counts.remove(i);
    p.explicit_bounds.remove(i);
}

/// `limit_buckets`: adjacent buckets merged in groups of the smallest size
/// that leaves at most `max` buckets.
pub(super) fn limit_buckets(p: &mut HistogramDataPoint, max: usize) {
    let counts = &p.bucket_counts;
    if p.explicit_bounds.len() + 1 != counts.len() || counts.len() <= max || counts.len() <= 1 {
        return;
    }
    if !p.explicit_bounds.windows(2).all(|w| w[1] > w[0]) {
        return;
    }
    let divisor = (counts.len() - 1) / max + 1;
    p.bucket_counts = counts.chunks(divisor).map(|c| c.iter().sum()).collect();
    p.explicit_bounds = p
        .explicit_bounds
        .iter()
        .skip(divisor - 1)
        .step_by(divisor)
        .copied()
        .collect();
}

/// The sum `convert_summary_count_val_to_sum` or
/// `convert_summary_sum_val_to_sum` makes of summary `m`'s points.
pub(super) fn summary_to_sum(
    m: &Metric,
    summary: &Summary,
    extracted: Extracted,
    temporality: i32,
    monotonic: bool,
    suffix: &str,
) -> Metric {
    let points = summary
        .data_points
        .iter()
        .map(|p| NumberDataPoint {
            attributes: p.attributes.clone(),
            start_time_unix_nano: p.start_time_unix_nano,
            time_unix_nano: p.time_unix_nano,
            value: Some(match extracted {
                Extracted::Count => Number::AsInt(p.count as i64),
                _ => Number::AsDouble(p.sum),
            }),
            ..NumberDataPoint::default()
        })
        .collect();
    Metric {
        name: format!("{}{suffix}", m.name),
        description: m.description.clone(),
        unit: m.unit.clone(),
        data: Some(Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: temporality,
            is_monotonic: monotonic,
        })),
        ..Metric::default()
    }
}

/// The gauge `convert_summary_quantile_val_to_gauge` makes of `m`: a point
/// per quantile, the quantile in attribute `key`. `None` when `m` is not a
/// summary; Go makes the gauge even when it has no points.
pub(super) fn summary_quantiles_to_gauge(m: &Metric, key: &str, suffix: &str) -> Option<Metric> {
    let Some(Data::Summary(summary)) = &m.data else {
        return None;
    };
    let mut points = Vec::new();
    for p in &summary.data_points {
        for q in &p.quantile_values {
            let mut attributes = p.attributes.clone();
            ferrotel_ottl::put_attribute(
                &mut attributes,
                key,
                Some(AnyValue {
                    value: Some(any_value::Value::DoubleValue(q.quantile)),
                }),
            );
            points.push(NumberDataPoint {
                attributes,
                start_time_unix_nano: p.start_time_unix_nano,
                time_unix_nano: p.time_unix_nano,
                value: Some(Number::AsDouble(q.value)),
                ..NumberDataPoint::default()
            });
        }
    }
    Some(Metric {
        name: format!("{}{suffix}", m.name),
        description: m.description.clone(),
        unit: m.unit.clone(),
        data: Some(Data::Gauge(Gauge {
            data_points: points,
        })),
        ..Metric::default()
    })
}
