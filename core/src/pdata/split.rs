//! Counting and splitting nested OTLP data at item granularity.
//!
//! A batch is `resource -> scope -> item`. Splitting takes whole groups
//! while they fit and cuts the first group that does not, copying only its
//! envelope (resource or scope, schema URL). Metrics count data points, so a
//! metric whose points straddle the cut is itself split.

use super::{logs, metrics, trace};

/// Something holding a number of pipeline items.
pub(super) trait Weighted {
    fn weight(&self) -> usize;
}

/// A group that can give up its first `n` items as a new group.
pub(super) trait Divisible: Weighted + Sized {
    /// Takes the first `n` items, `0 < n < self.weight()`.
    fn take_front_items(&mut self, n: usize) -> Self;
}

/// Moves the first `n` items of `groups` into a new vector.
pub(super) fn take_front<T: Divisible>(groups: &mut Vec<T>, mut n: usize) -> Vec<T> {
    let mut whole = 0;
    for group in groups.iter() {
        let w = group.weight();
        if w > n {
            break;
        }
        n -= w;
        whole += 1;
    }
    let mut out: Vec<T> = groups.drain(..whole).collect();
    if n > 0
        && let Some(first) = groups.first_mut()
    {
        out.push(first.take_front_items(n));
    }
    out
}

macro_rules! nested_group {
    ($outer:ty, $field:ident, $($envelope:ident),*) => {
        impl Weighted for $outer {
            fn weight(&self) -> usize {
                self.$field.iter().map(Weighted::weight).sum()
            }
        }
        impl Divisible for $outer {
            fn take_front_items(&mut self, n: usize) -> Self {
                Self {
                    $field: take_front(&mut self.$field, n),
                    $($envelope: self.$envelope.clone(),)*
                }
            }
        }
    };
}

macro_rules! leaf_items {
    ($outer:ty, $field:ident, $($envelope:ident),*) => {
        impl Weighted for $outer {
            fn weight(&self) -> usize {
                self.$field.len()
            }
        }
        impl Divisible for $outer {
            fn take_front_items(&mut self, n: usize) -> Self {
                Self {
                    $field: self.$field.drain(..n).collect(),
                    $($envelope: self.$envelope.clone(),)*
                }
            }
        }
    };
}

nested_group!(trace::ResourceSpans, scope_spans, resource, schema_url);
leaf_items!(trace::ScopeSpans, spans, scope, schema_url);
nested_group!(logs::ResourceLogs, scope_logs, resource, schema_url);
leaf_items!(logs::ScopeLogs, log_records, scope, schema_url);
nested_group!(
    metrics::ResourceMetrics,
    scope_metrics,
    resource,
    schema_url
);
nested_group!(metrics::ScopeMetrics, metrics, scope, schema_url);

impl Weighted for metrics::Metric {
    fn weight(&self) -> usize {
        use metrics::metric::Data;
        match &self.data {
            Some(Data::Gauge(d)) => d.data_points.len(),
            Some(Data::Sum(d)) => d.data_points.len(),
            Some(Data::Histogram(d)) => d.data_points.len(),
            Some(Data::ExponentialHistogram(d)) => d.data_points.len(),
            Some(Data::Summary(d)) => d.data_points.len(),
            None => 0,
        }
    }
}

impl Divisible for metrics::Metric {
    fn take_front_items(&mut self, n: usize) -> Self {
        use metrics::metric::Data;
        let data = self.data.as_mut().map(|data| match data {
            Data::Gauge(d) => Data::Gauge(metrics::Gauge {
                data_points: d.data_points.drain(..n).collect(),
            }),
            Data::Sum(d) => Data::Sum(metrics::Sum {
                data_points: d.data_points.drain(..n).collect(),
                ..*d
            }),
            Data::Histogram(d) => Data::Histogram(metrics::Histogram {
                data_points: d.data_points.drain(..n).collect(),
                aggregation_temporality: d.aggregation_temporality,
            }),
            Data::ExponentialHistogram(d) => {
                Data::ExponentialHistogram(metrics::ExponentialHistogram {
                    data_points: d.data_points.drain(..n).collect(),
                    aggregation_temporality: d.aggregation_temporality,
                })
            }
            Data::Summary(d) => Data::Summary(metrics::Summary {
                data_points: d.data_points.drain(..n).collect(),
            }),
        });
        metrics::Metric {
            name: self.name.clone(),
            description: self.description.clone(),
            unit: self.unit.clone(),
            metadata: self.metadata.clone(),
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Telemetry, common, logs, metrics, resource};

    fn log_batch(resources: usize, scopes: usize, records: usize) -> Telemetry {
        let mut id = 0u64;
        Telemetry::Logs(
            (0..resources)
                .map(|r| logs::ResourceLogs {
                    resource: Some(resource::Resource {
                        attributes: vec![common::KeyValue {
                            key: "r".into(),
                            value: Some(common::AnyValue {
                                value: Some(common::any_value::Value::IntValue(r as i64)),
                            }),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                    scope_logs: (0..scopes)
                        .map(|_| logs::ScopeLogs {
                            log_records: (0..records)
                                .map(|_| {
                                    id += 1;
                                    logs::LogRecord {
                                        time_unix_nano: id,
                                        ..Default::default()
                                    }
                                })
                                .collect(),
                            ..Default::default()
                        })
                        .collect(),
                    schema_url: String::new(),
                })
                .collect(),
        )
    }

    fn record_ids(t: &Telemetry) -> Vec<u64> {
        let Telemetry::Logs(r) = t else {
            panic!("not logs")
        };
        r.iter()
            .flat_map(|r| &r.scope_logs)
            .flat_map(|s| &s.log_records)
            .map(|l| l.time_unix_nano)
            .collect()
    }

    #[test]
    fn splitting_keeps_every_item_once_and_in_order() {
        for max in 1..=13 {
            let mut batch = log_batch(3, 2, 2);
            let all = record_ids(&batch);
            let mut seen = Vec::new();
            while batch.item_count() > 0 {
                let part = batch.split_off_front(max);
                assert!(part.item_count() <= max && part.item_count() > 0);
                seen.extend(record_ids(&part));
            }
            assert_eq!(seen, all, "max {max}");
        }
    }

    #[test]
    fn split_parts_keep_their_resource() {
        let mut batch = log_batch(2, 1, 3);
        let first = batch.split_off_front(4);
        let Telemetry::Logs(first) = first else {
            unreachable!()
        };
        assert_eq!(first.len(), 2);
        assert_eq!(first[1].resource, batch_resource(&batch));
    }

    fn batch_resource(t: &Telemetry) -> Option<resource::Resource> {
        let Telemetry::Logs(r) = t else {
            unreachable!()
        };
        r[0].resource.clone()
    }

    #[test]
    fn metrics_split_inside_a_metric() {
        let points = (0..5)
            .map(|i| metrics::NumberDataPoint {
                time_unix_nano: i,
                ..Default::default()
            })
            .collect();
        let mut batch = Telemetry::Metrics(vec![metrics::ResourceMetrics {
            scope_metrics: vec![metrics::ScopeMetrics {
                metrics: vec![metrics::Metric {
                    name: "m".into(),
                    data: Some(metrics::metric::Data::Sum(metrics::Sum {
                        data_points: points,
                        aggregation_temporality: 2,
                        is_monotonic: true,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }]);
        assert_eq!(batch.item_count(), 5);
        let front = batch.split_off_front(2);
        assert_eq!(front.item_count(), 2);
        assert_eq!(batch.item_count(), 3);
        let Telemetry::Metrics(front) = front else {
            unreachable!()
        };
        let metric = &front[0].scope_metrics[0].metrics[0];
        assert_eq!(metric.name, "m");
        let Some(metrics::metric::Data::Sum(sum)) = &metric.data else {
            unreachable!()
        };
        assert!(sum.is_monotonic);
    }
}
