//! Visiting the items of one context in a batch, with their resource and
//! scope, and removing the ones a visit asks to drop (with the containers
//! they leave empty, when pruning).

use super::OttlError;
use super::context::{ContextKind, Item, Point};
use ferrotel_core::pdata::Telemetry;
use ferrotel_core::pdata::common::KeyValue;
use ferrotel_core::pdata::metrics::{Metric, metric};

/// The visit: true drops the item.
pub(super) type Visit<'f> = dyn FnMut(&mut Item<'_>) -> Result<bool, OttlError> + 'f;

/// Visits every item of `context`; with `prune`, removes the containers
/// dropping left empty. With `whole_summaries`, data points of summaries
/// see a copy of their summary (for the summary conversions).
pub(super) fn walk(
    data: &mut Telemetry,
    context: ContextKind,
    prune: bool,
    whole_summaries: bool,
    f: &mut Visit<'_>,
) -> Result<(), OttlError> {
    let mut cache: Vec<KeyValue> = Vec::new();
    let mut failure: Option<OttlError> = None;
    // A closure running the visit on an item, keeping the first error.
    let mut visit = |item: &mut Item<'_>, failure: &mut Option<OttlError>| -> bool {
        if failure.is_some() {
            return false;
        }
        match f(item) {
            Ok(drop) => drop,
            Err(e) => {
                *failure = Some(e);
                false
            }
        }
    };
    macro_rules! item {
        ($resource:expr, $scope:expr) => {
            Item {
                resource: $resource,
                scope: $scope,
                log: None,
                span: None,
                event: None,
                metric: None,
                metric_type: 0,
                metric_shape: (0, false),
                point: None,
                new_metrics: None,
                summary: None,
                cache: &mut cache,
            }
        };
    }
    match data {
        Telemetry::Logs(resources) => {
            resources.retain_mut(|rl| {
                let resource = rl.resource.get_or_insert_with(Default::default);
                if context == ContextKind::Resource {
                    cache.clear();
                    return !visit(&mut item!(resource, None), &mut failure);
                }
                rl.scope_logs.retain_mut(|sl| {
                    let scope = sl.scope.get_or_insert_with(Default::default);
                    if context == ContextKind::Scope {
                        cache.clear();
                        return !visit(&mut item!(&mut *resource, Some(scope)), &mut failure);
                    }
                    sl.log_records.retain_mut(|log| {
                        cache.clear();
                        let mut i = item!(&mut *resource, Some(&mut *scope));
                        i.log = Some(log);
                        !visit(&mut i, &mut failure)
                    });
                    !prune || !sl.log_records.is_empty()
                });
                !prune || !rl.scope_logs.is_empty()
            });
        }
        Telemetry::Traces(resources) => {
            resources.retain_mut(|rs| {
                let resource = rs.resource.get_or_insert_with(Default::default);
                if context == ContextKind::Resource {
                    cache.clear();
                    return !visit(&mut item!(resource, None), &mut failure);
                }
                rs.scope_spans.retain_mut(|ss| {
                    let scope = ss.scope.get_or_insert_with(Default::default);
                    if context == ContextKind::Scope {
                        cache.clear();
                        return !visit(&mut item!(&mut *resource, Some(scope)), &mut failure);
                    }
                    ss.spans.retain_mut(|span| {
                        if context == ContextKind::Span {
                            cache.clear();
                            let mut i = item!(&mut *resource, Some(&mut *scope));
                            i.span = Some(span);
                            return !visit(&mut i, &mut failure);
                        }
                        // The events are taken out so the span and each
                        // event can be reached together.
                        let mut events = std::mem::take(&mut span.events);
                        events.retain_mut(|event| {
                            cache.clear();
                            let mut i = item!(&mut *resource, Some(&mut *scope));
                            i.span = Some(&mut *span);
                            i.event = Some(event);
                            !visit(&mut i, &mut failure)
                        });
                        span.events = events;
                        true
                    });
                    !prune || !ss.spans.is_empty()
                });
                !prune || !rs.scope_spans.is_empty()
            });
        }
        Telemetry::Metrics(resources) => {
            resources.retain_mut(|rm| {
                let resource = rm.resource.get_or_insert_with(Default::default);
                if context == ContextKind::Resource {
                    cache.clear();
                    return !visit(&mut item!(resource, None), &mut failure);
                }
                rm.scope_metrics.retain_mut(|sm| {
                    let scope = sm.scope.get_or_insert_with(Default::default);
                    if context == ContextKind::Scope {
                        cache.clear();
                        return !visit(&mut item!(&mut *resource, Some(scope)), &mut failure);
                    }
                    if context == ContextKind::Metric {
                        visit_with_created(&mut sm.metrics, |m, created| {
                            let (kind, shape) = shape(m);
                            cache.clear();
                            let mut i = item!(&mut *resource, Some(&mut *scope));
                            i.metric_type = kind;
                            i.metric_shape = shape;
                            i.metric = Some(m);
                            i.new_metrics = Some(created);
                            !visit(&mut i, &mut failure)
                        });
                        return !prune || !sm.metrics.is_empty();
                    }
                    visit_with_created(&mut sm.metrics, |m, created| {
                        let (kind, shape) = shape(m);
                        let mut data = m.data.take();
                        // Summary conversions read all of a point's siblings.
                        let summary = match &data {
                            Some(metric::Data::Summary(s)) if whole_summaries => Some(s.clone()),
                            _ => None,
                        };
                        let mut each =
                            |point: Point<'_>, m: &mut Metric, failure: &mut Option<OttlError>| {
                                cache.clear();
                                let mut i = item!(&mut *resource, Some(&mut *scope));
                                i.metric_type = kind;
                                i.metric_shape = shape;
                                i.metric = Some(m);
                                i.point = Some(point);
                                i.summary = summary.as_ref();
                                i.new_metrics = Some(&mut *created);
                                !visit(&mut i, failure)
                            };
                        let remaining = match &mut data {
                            Some(metric::Data::Gauge(g)) => {
                                g.data_points
                                    .retain_mut(|p| each(Point::Number(p), m, &mut failure));
                                g.data_points.len()
                            }
                            Some(metric::Data::Sum(s)) => {
                                s.data_points
                                    .retain_mut(|p| each(Point::Number(p), m, &mut failure));
                                s.data_points.len()
                            }
                            Some(metric::Data::Histogram(h)) => {
                                h.data_points
                                    .retain_mut(|p| each(Point::Histogram(p), m, &mut failure));
                                h.data_points.len()
                            }
                            Some(metric::Data::ExponentialHistogram(h)) => {
                                h.data_points
                                    .retain_mut(|p| each(Point::Exponential(p), m, &mut failure));
                                h.data_points.len()
                            }
                            Some(metric::Data::Summary(s)) => {
                                s.data_points
                                    .retain_mut(|p| each(Point::Summary(p), m, &mut failure));
                                s.data_points.len()
                            }
                            None => 1,
                        };
                        m.data = data;
                        !prune || remaining > 0
                    });
                    !prune || !sm.metrics.is_empty()
                });
                !prune || !rm.scope_metrics.is_empty()
            });
        }
        // No OTTL context reaches into profiles (`contexts_of`).
        Telemetry::Profiles(_) => {}
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// How many generations of metrics created by metric functions are
/// visited in one pass.
const MAX_CREATION_ROUNDS: usize = 8;

/// Visits a scope's metrics, keeping those `visit` keeps, then the metrics
/// the visits created, after them. As in Go, created metrics are visited
/// in turn; statements that create a metric from every metric they see
/// would never end, so the generations are bounded.
fn visit_with_created(
    metrics: &mut Vec<Metric>,
    mut visit: impl FnMut(&mut Metric, &mut Vec<Metric>) -> bool,
) {
    let mut created = Vec::new();
    metrics.retain_mut(|m| visit(m, &mut created));
    for _ in 0..MAX_CREATION_ROUNDS {
        if created.is_empty() {
            break;
        }
        let mut round = std::mem::take(&mut created);
        round.retain_mut(|m| visit(m, &mut created));
        metrics.append(&mut round);
    }
    metrics.append(&mut created);
}

/// A metric's `METRIC_DATA_TYPE_*`, temporality and monotonicity.
fn shape(m: &Metric) -> (i64, (i32, bool)) {
    match &m.data {
        None => (0, (0, false)),
        Some(metric::Data::Gauge(_)) => (1, (0, false)),
        Some(metric::Data::Sum(s)) => (2, (s.aggregation_temporality, s.is_monotonic)),
        Some(metric::Data::Histogram(h)) => (3, (h.aggregation_temporality, false)),
        Some(metric::Data::ExponentialHistogram(h)) => (4, (h.aggregation_temporality, false)),
        Some(metric::Data::Summary(_)) => (5, (0, false)),
    }
}

/// Moves (or, with `copy`, clones) the items `chosen` marks, in the order
/// [`walk`] visits them, into a new batch of the same signal: whole
/// resources or scopes for those contexts, single records, spans or
/// metrics under copies of their resource and scope otherwise. Empty
/// containers are removed from `data` after a move.
pub(super) fn split(
    data: &mut Telemetry,
    context: ContextKind,
    chosen: &[bool],
    copy: bool,
) -> Telemetry {
    let mut next = chosen.iter().copied();
    let mut take = move || next.next().unwrap_or(false);
    macro_rules! split_signal {
        ($resources:expr, $variant:ident, $scopes:ident, $items:ident) => {{
            let mut out = Vec::new();
            for r in $resources.iter_mut() {
                if context == ContextKind::Resource {
                    if take() {
                        out.push(if copy { r.clone() } else { std::mem::take(r) });
                    }
                    continue;
                }
                let mut scopes_out = Vec::new();
                for s in r.$scopes.iter_mut() {
                    if context == ContextKind::Scope {
                        if take() {
                            scopes_out.push(if copy { s.clone() } else { std::mem::take(s) });
                        }
                        continue;
                    }
                    let items_out = take_chosen(&mut s.$items, &mut take, copy);
                    if !items_out.is_empty() {
                        // The scope is copied while it holds no items.
                        let kept = std::mem::take(&mut s.$items);
                        let mut part = s.clone();
                        part.$items = items_out;
                        scopes_out.push(part);
                        s.$items = kept;
                    }
                }
                if !scopes_out.is_empty() {
                    let scopes = std::mem::take(&mut r.$scopes);
                    let mut part = r.clone();
                    part.$scopes = scopes_out;
                    r.$scopes = scopes;
                    out.push(part);
                }
            }
            if !copy {
                for r in $resources.iter_mut() {
                    r.$scopes.retain(|s| {
                        context == ContextKind::Scope && s.scope.is_some() || !s.$items.is_empty()
                    });
                }
                $resources.retain(|r| !r.$scopes.is_empty());
            }
            Telemetry::$variant(out)
        }};
    }
    match data {
        Telemetry::Logs(rs) => split_signal!(rs, Logs, scope_logs, log_records),
        Telemetry::Traces(rs) => split_signal!(rs, Traces, scope_spans, spans),
        Telemetry::Metrics(rs) if context == ContextKind::DataPoint => {
            Telemetry::Metrics(split_points(rs, &mut take, copy))
        }
        Telemetry::Metrics(rs) => split_signal!(rs, Metrics, scope_metrics, metrics),
        Telemetry::Profiles(_) => Telemetry::Profiles(Default::default()),
    }
}

/// Moves (or copies) the chosen elements of a list (items or points).
fn take_chosen<T: Clone>(
    points: &mut Vec<T>,
    take: &mut dyn FnMut() -> bool,
    copy: bool,
) -> Vec<T> {
    let mut out = Vec::new();
    let mut kept = Vec::with_capacity(points.len());
    for p in std::mem::take(points) {
        if take() {
            if copy {
                out.push(p.clone());
                kept.push(p);
            } else {
                out.push(p);
            }
        } else {
            kept.push(p);
        }
    }
    *points = kept;
    out
}

/// [`split`] for data points: chosen points move (or are copied) into
/// copies of their metric, scope and resource.
fn split_points(
    resources: &mut Vec<ferrotel_core::pdata::metrics::ResourceMetrics>,
    take: &mut dyn FnMut() -> bool,
    copy: bool,
) -> Vec<ferrotel_core::pdata::metrics::ResourceMetrics> {
    use metric::Data;
    let mut out = Vec::new();
    for r in resources.iter_mut() {
        let mut scopes_out = Vec::new();
        for s in r.scope_metrics.iter_mut() {
            let mut metrics_out = Vec::new();
            for m in s.metrics.iter_mut() {
                // The metric is copied while its data is out of it.
                let mut data = m.data.take();
                use ferrotel_core::pdata::metrics::{
                    ExponentialHistogram, Gauge, Histogram, Sum, Summary,
                };
                let moved = match &mut data {
                    Some(Data::Gauge(g)) => {
                        let p = take_chosen(&mut g.data_points, take, copy);
                        (!p.is_empty()).then_some(Data::Gauge(Gauge { data_points: p }))
                    }
                    Some(Data::Sum(x)) => {
                        let p = take_chosen(&mut x.data_points, take, copy);
                        (!p.is_empty()).then_some(Data::Sum(Sum {
                            data_points: p,
                            aggregation_temporality: x.aggregation_temporality,
                            is_monotonic: x.is_monotonic,
                        }))
                    }
                    Some(Data::Histogram(x)) => {
                        let p = take_chosen(&mut x.data_points, take, copy);
                        (!p.is_empty()).then_some(Data::Histogram(Histogram {
                            data_points: p,
                            aggregation_temporality: x.aggregation_temporality,
                        }))
                    }
                    Some(Data::ExponentialHistogram(x)) => {
                        let p = take_chosen(&mut x.data_points, take, copy);
                        (!p.is_empty()).then_some(Data::ExponentialHistogram(
                            ExponentialHistogram {
                                data_points: p,
                                aggregation_temporality: x.aggregation_temporality,
                            },
                        ))
                    }
                    Some(Data::Summary(x)) => {
                        let p = take_chosen(&mut x.data_points, take, copy);
                        (!p.is_empty()).then_some(Data::Summary(Summary { data_points: p }))
                    }
                    None => None,
                };
                if let Some(moved) = moved {
                    let mut part = m.clone();
                    part.data = Some(moved);
                    metrics_out.push(part);
                }
                m.data = data;
            }
            if !copy {
                s.metrics.retain(|m| point_count(m) > 0);
            }
            if !metrics_out.is_empty() {
                let metrics = std::mem::take(&mut s.metrics);
                let mut part = s.clone();
                part.metrics = metrics_out;
                s.metrics = metrics;
                scopes_out.push(part);
            }
        }
        if !copy {
            r.scope_metrics.retain(|s| !s.metrics.is_empty());
        }
        if !scopes_out.is_empty() {
            let scopes = std::mem::take(&mut r.scope_metrics);
            let mut part = r.clone();
            part.scope_metrics = scopes_out;
            r.scope_metrics = scopes;
            out.push(part);
        }
    }
    if !copy {
        resources.retain(|r| !r.scope_metrics.is_empty());
    }
    out
}

fn point_count(m: &Metric) -> usize {
    match &m.data {
        Some(metric::Data::Gauge(g)) => g.data_points.len(),
        Some(metric::Data::Sum(s)) => s.data_points.len(),
        Some(metric::Data::Histogram(h)) => h.data_points.len(),
        Some(metric::Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(metric::Data::Summary(s)) => s.data_points.len(),
        None => 1,
    }
}
