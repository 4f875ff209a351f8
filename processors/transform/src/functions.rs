//! The transform processor's own OTTL functions, registered beside OTTL's
//! standard ones (Go's `transformprocessor/internal/metrics` functions):
//! metric conversions, metrics made from others, aggregation, and bucket
//! merges. What they do to the data is in `metric_functions.rs` and
//! `aggregate.rs`; this file compiles their calls and runs them on items.

use super::aggregate::{Aggregation, aggregate_on_attribute_value, aggregate_on_attributes};
use super::metric_functions::{
    extract_metric, limit_buckets, max_buckets, remove_bound, scale_metric,
    summary_quantiles_to_gauge, summary_to_sum,
};
use ferrotel_core::pdata::metrics::{Gauge, Metric, Sum, metric::Data};
use ferrotel_ottl::{
    Arguments, ContextKind, Editor, Expression, Invocation, Item, Point, Registry, go,
};
use std::sync::OnceLock;

/// OTTL's standard functions and the transform processor's, built once.
pub(crate) fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut r = Registry::standard().clone();
        r.editor("convert_sum_to_gauge", convert_sum_to_gauge)
            .editor("convert_gauge_to_sum", convert_gauge_to_sum)
            .editor("extract_sum_metric", extract_sum_or_count)
            .editor("extract_count_metric", extract_sum_or_count)
            .editor("extract_avg_metric", extract_avg)
            .editor("copy_metric", copy_metric)
            .editor("scale_metric", scale)
            .editor("aggregate_on_attributes", aggregate_attributes)
            .editor("aggregate_on_attribute_value", aggregate_attribute_value)
            .editor("convert_summary_quantile_val_to_gauge", quantiles_to_gauge)
            .editor("convert_summary_count_val_to_sum", summary_value_to_sum)
            .editor("convert_summary_sum_val_to_sum", summary_value_to_sum)
            .editor("merge_histogram_buckets", merge_histogram_buckets);
        r
    })
}

/// Which field of histogram and summary points `extract_*_metric` makes
/// a sum of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Extracted {
    Sum,
    Count,
    /// `extract_avg_metric`: sum / count, as a gauge.
    Avg,
}

fn in_context(call: &Invocation<'_>, context: ContextKind, name: &str) -> Result<(), String> {
    if call.context() == context {
        Ok(())
    } else {
        Err(format!(
            "{} is only available in the {name} context",
            call.name()
        ))
    }
}

fn required_str<'a>(args: &'a Arguments<'_>, i: usize, what: &str) -> Result<&'a str, String> {
    args.str_literal(i, what)?
        .ok_or_else(|| format!("{what} must be a string literal"))
}

fn required_bool(args: &Arguments<'_>, i: usize, what: &str) -> Result<bool, String> {
    args.bool_literal(i, what)?
        .ok_or_else(|| format!("{what} must be a bool literal"))
}

/// `delta` or `cumulative`, as OTLP numbers them.
fn temporality(args: &Arguments<'_>, i: usize) -> Result<i32, String> {
    match required_str(args, i, "aggregation_temporality")? {
        "delta" => Ok(1),
        "cumulative" => Ok(2),
        other => Err(format!("unknown aggregation temporality: {other}")),
    }
}

fn suffix(args: &Arguments<'_>, i: usize, default: &str) -> Result<String, String> {
    Ok(args
        .str_literal(i, "suffix")?
        .unwrap_or(default)
        .to_string())
}

fn metric<'a>(item: &'a Item<'_>) -> Result<&'a Metric, String> {
    item.metric
        .as_deref()
        .ok_or_else(|| "no metric in this context".into())
}

fn metric_mut<'a>(item: &'a mut Item<'_>) -> Result<&'a mut Metric, String> {
    item.metric
        .as_deref_mut()
        .ok_or_else(|| "no metric in this context".into())
}

/// Adds a metric after the scope's current one; later statements visit it.
fn add_metric(item: &mut Item<'_>, created: Metric) -> Result<(), String> {
    item.new_metrics
        .as_deref_mut()
        .ok_or("no metric list in this context")?
        .push(created);
    Ok(())
}

/// A string argument evaluated per item.
fn text(expression: &Expression, item: &Item<'_>, context: &str) -> Result<String, String> {
    let v = expression.eval(item)?;
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{context}expected string but got {}", v.type_name()))
}

/// `convert_sum_to_gauge()` and `convert_gauge_to_sum(temporality,
/// monotonic)`: other metric types are left as they are.
struct ConvertNumbers {
    /// `None` to a gauge; else to a sum of this temporality and
    /// monotonicity.
    to_sum: Option<(i32, bool)>,
}

fn convert_sum_to_gauge(call: &Invocation<'_>) -> Result<Box<dyn Editor>, String> {
    in_context(call, ContextKind::Metric, "metric")?;
    call.bind(&[], 0)?;
    Ok(Box::new(ConvertNumbers { to_sum: None }))
}

fn convert_gauge_to_sum(call: &Invocation<'_>) -> Result<Box<dyn Editor>, String> {
    in_context(call, ContextKind::Metric, "metric")?;
    let args = call.bind(&["aggregation_temporality", "is_monotonic"], 2)?;
    let temporality = temporality(&args, 0)?;
    let monotonic = required_bool(&args, 1, "is_monotonic")?;
    Ok(Box::new(ConvertNumbers {
        to_sum: Some((temporality, monotonic)),
    }))
}

impl Editor for ConvertNumbers {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        let m = metric_mut(item)?;
        match (self.to_sum, m.data.take()) {
            (None, Some(Data::Sum(s))) => {
                m.data = Some(Data::Gauge(Gauge {
                    data_points: s.data_points,
                }));
                item.metric_type = 1;
                item.metric_shape = (0, false);
            }
            (Some((temporality, monotonic)), Some(Data::Gauge(g))) => {
                m.data = Some(Data::Sum(Sum {
                    data_points: g.data_points,
                    aggregation_temporality: temporality,
                    is_monotonic: monotonic,
                }));
                item.metric_type = 2;
                item.metric_shape = (temporality, monotonic);
            }
            (_, other) => m.data = other,
        }
        Ok(())
    }
}

/// `extract_sum_metric`, `extract_count_metric`, `extract_avg_metric`.
struct ExtractMetric {
    extracted: Extracted,
    monotonic: bool,
    suffix: String,
}

fn extract_sum_or_count(call: &Invocation<'_>) -> Result<Box<dyn Editor>, String> {
    in_context(call, ContextKind::Metric, "metric")?;
    let args = call.bind(&["monotonic", "suffix"], 1)?;
    let monotonic = required_bool(&args, 0, "monotonic")?;
    let (extracted, default_suffix) = if call.name() == "extract_sum_metric" {
        (Extracted::Sum, "_sum")
    } else {
        (Extracted::Count, "_count")
    };
    Ok(Box::new(ExtractMetric {
        extracted,
        monotonic,
        suffix: suffix(&args, 1, default_suffix)?,
    }))
}

fn extract_avg(call: &Invocation<'_>) -> Result<Box<dyn Editor>, String> {
    in_context(call, ContextKind::Metric, "metric")?;
    let args = call.bind(&["suffix"], 0)?;
    Ok(Box::new(ExtractMetric {
        extracted: Extracted::Avg,
        monotonic: false,
        suffix: suffix(&args, 0, "_avg")?,
    }))
}

impl Editor for ExtractMetric {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        let created = extract_metric(metric(item)?, self.extracted, self.monotonic, &self.suffix)?;
        match created {
            Some(created) => add_metric(item, created),
            None => Ok(()),
        }
    }
}

/// `copy_metric(name, description, unit)`.
struct CopyMetric {
    fields: [Option<Expression>; 3],
}

fn copy_metric(call: &Invocation<'_>) -> Result<Box<dyn Editor>, String> {
    in_context(call, ContextKind::Metric, "metric")?;
    let args = call.bind(&["name", "description", "unit"], 0)?;
    Ok(Box::new(CopyMetric {
        fields: [
            args.expression(0)?,
            args.expression(1)?,
            args.expression(2)?,
        ],
    }))
}

impl Editor for CopyMetric {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        let mut copy = metric(item)?.clone();
        let mut texts = [None, None, None];
        for (t, field) in texts.iter_mut().zip(&self.fields) {
            if let Some(expression) = field {
                *t = Some(text(expression, item, "")?);
            }
        }
        let [name, description, unit] = texts;
        copy.name = name.unwrap_or(copy.name);
        copy.description = description.unwrap_or(copy.description);
        copy.unit = unit.unwrap_or(copy.unit);
        add_metric(item, copy)
    }
}

/// `scale_metric(multiplier, unit)`.
struct ScaleMetric {
    multiplier: f64,
    unit: Option<Expression>,
}

fn scale(call: &Invocation<'_>) -> Result<Box<dyn Editor>, String> {
    in_context(call, ContextKind::Metric, "metric")?;
    let args = call.bind(&["multiplier", "unit"], 1)?;
    let multiplier = args
        .number_literal(0, "multiplier")?
        .ok_or("multiplier must be a number literal")?;
    Ok(Box::new(ScaleMetric {
        multiplier,
        unit: args.expression(1)?,
    }))
}

impl Editor for ScaleMetric {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        let unit = self
            .unit
            .as_ref()
            .map(|u| text(u, item, "could not get unit from ScaleArguments: "))
            .transpose()?;
        let m = metric_mut(item)?;
        scale_metric(m, self.multiplier)?;
        if let Some(unit) = unit {
            m.unit = unit;
        }
        Ok(())
    }
}

/// `aggregate_on_attributes(function, attributes)`.
struct AggregateAttributes {
    aggregation: Aggregation,
    keep: Option<Vec<String>>,
}

fn aggregate_attributes(call: &Invocation<'_>) -> Result<Box<dyn Editor>, String> {
    in_context(call, ContextKind::Metric, "metric")?;
    let args = call.bind(&["aggregation_function", "attributes"], 1)?;
    Ok(Box::new(AggregateAttributes {
        aggregation: Aggregation::parse(required_str(&args, 0, "aggregation_function")?)?,
        keep: args.string_list(1, "attributes")?,
    }))
}

impl Editor for AggregateAttributes {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        aggregate_on_attributes(metric_mut(item)?, self.aggregation, self.keep.as_deref())
    }
}

/// `aggregate_on_attribute_value(function, attribute, values, new_value)`.
struct AggregateAttributeValue {
    aggregation: Aggregation,
    attribute: String,
    values: Vec<String>,
    new_value: String,
}

fn aggregate_attribute_value(call: &Invocation<'_>) -> Result<Box<dyn Editor>, String> {
    in_context(call, ContextKind::Metric, "metric")?;
    let args = call.bind(
        &["aggregation_function", "attribute", "values", "new_value"],
        4,
    )?;
    Ok(Box::new(AggregateAttributeValue {
        aggregation: Aggregation::parse(required_str(&args, 0, "aggregation_function")?)?,
        attribute: required_str(&args, 1, "attribute")?.to_string(),
        values: args
            .string_list(2, "values")?
            .ok_or("values must be a list of string literals")?,
        new_value: required_str(&args, 3, "new_value")?.to_string(),
    }))
}

impl Editor for AggregateAttributeValue {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        aggregate_on_attribute_value(
            metric_mut(item)?,
            self.aggregation,
            &self.attribute,
            &self.values,
            &self.new_value,
        )
    }
}

/// `convert_summary_quantile_val_to_gauge(attribute_key, suffix)`.
struct QuantilesToGauge {
    key: String,
    suffix: String,
}

fn quantiles_to_gauge(call: &Invocation<'_>) -> Result<Box<dyn Editor>, String> {
    in_context(call, ContextKind::Metric, "metric")?;
    let args = call.bind(&["attribute_key", "suffix"], 0)?;
    Ok(Box::new(QuantilesToGauge {
        key: args
            .str_literal(0, "attribute_key")?
            .unwrap_or("quantile")
            .to_string(),
        suffix: suffix(&args, 1, ".quantiles")?,
    }))
}

impl Editor for QuantilesToGauge {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        match summary_quantiles_to_gauge(metric(item)?, &self.key, &self.suffix) {
            Some(gauge) => add_metric(item, gauge),
            None => Ok(()),
        }
    }
}

/// `convert_summary_count_val_to_sum` and `convert_summary_sum_val_to_sum`
/// (data point context).
struct SummaryValueToSum {
    extracted: Extracted,
    temporality: i32,
    monotonic: bool,
    suffix: String,
}

fn summary_value_to_sum(call: &Invocation<'_>) -> Result<Box<dyn Editor>, String> {
    in_context(call, ContextKind::DataPoint, "datapoint")?;
    let args = call.bind(&["aggregation_temporality", "is_monotonic", "suffix"], 2)?;
    let temporality = temporality(&args, 0)?;
    let monotonic = required_bool(&args, 1, "is_monotonic")?;
    let (extracted, default_suffix) = if call.name() == "convert_summary_count_val_to_sum" {
        (Extracted::Count, "_count")
    } else {
        (Extracted::Sum, "_sum")
    };
    Ok(Box::new(SummaryValueToSum {
        extracted,
        temporality,
        monotonic,
        suffix: suffix(&args, 2, default_suffix)?,
    }))
}

impl Editor for SummaryValueToSum {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        // Not a summary: nothing to convert. As in Go, every point of a
        // summary that the statement runs on adds a metric of all the
        // summary's points.
        let Some(summary) = item.summary else {
            return Ok(());
        };
        let sum = summary_to_sum(
            metric(item)?,
            summary,
            self.extracted,
            self.temporality,
            self.monotonic,
            &self.suffix,
        );
        add_metric(item, sum)
    }

    fn reads_whole_summary(&self) -> bool {
        true
    }
}

/// `merge_histogram_buckets(target_value, method)` (data point context).
struct MergeHistogramBuckets {
    target: Expression,
    /// `limit_buckets`; else `remove_explicit_bound`.
    limit: bool,
}

fn merge_histogram_buckets(call: &Invocation<'_>) -> Result<Box<dyn Editor>, String> {
    in_context(call, ContextKind::DataPoint, "datapoint")?;
    let args = call.bind(&["target_value", "method"], 1)?;
    let limit = match args.str_literal(1, "method")? {
        None | Some("remove_explicit_bound") => false,
        Some("limit_buckets") => true,
        Some(other) => {
            return Err(format!(
                "unsupported method {other:?}, expected \"remove_explicit_bound\" or \"limit_buckets\""
            ));
        }
    };
    let target = args.expression(0)?.ok_or("target_value must not be nil")?;
    if let Some(v) = target.literal() {
        let value = go::float_like(v)?.ok_or("target_value must not be nil")?;
        if limit {
            max_buckets(value)?;
        }
    }
    Ok(Box::new(MergeHistogramBuckets { target, limit }))
}

impl Editor for MergeHistogramBuckets {
    fn apply(&self, item: &mut Item<'_>) -> Result<(), String> {
        // Other points are left as they are.
        if !matches!(item.point, Some(Point::Histogram(_))) {
            return Ok(());
        }
        let target =
            go::float_like(&self.target.eval(item)?)?.ok_or("target_value must not be nil")?;
        let Some(Point::Histogram(p)) = item.point.as_mut() else {
            return Ok(());
        };
        if self.limit {
            limit_buckets(p, max_buckets(target)?);
        } else {
            remove_bound(p, target);
        }
        Ok(())
    }
}
