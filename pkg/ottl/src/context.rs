//! OTTL contexts: which telemetry item statements run on, the paths each
//! one offers (the tables of pkg/ottl/contexts, v0.161), and reading and
//! writing those paths on ferrotel's OTLP types.

use super::value::Value;
use ferrotel_core::pdata::common::{
    AnyValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use ferrotel_core::pdata::logs::LogRecord;
use ferrotel_core::pdata::metrics::{
    ExponentialHistogramDataPoint, HistogramDataPoint, Metric, NumberDataPoint, SummaryDataPoint,
    metric, number_data_point,
};
use ferrotel_core::pdata::resource::Resource;
use ferrotel_core::pdata::trace::{Span, span};
use std::borrow::Cow;

/// The item kind a group of statements or conditions runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContextKind {
    /// Once per resource.
    Resource,
    /// Once per instrumentation scope.
    Scope,
    /// Once per span.
    Span,
    /// Once per span event.
    SpanEvent,
    /// Once per metric.
    Metric,
    /// Once per data point.
    DataPoint,
    /// Once per log record.
    Log,
}

impl ContextKind {
    /// The context a name in config or in a path means.
    pub fn parse(name: &str) -> Option<ContextKind> {
        Some(match name {
            "resource" => ContextKind::Resource,
            "scope" | "instrumentation_scope" => ContextKind::Scope,
            "span" => ContextKind::Span,
            "spanevent" => ContextKind::SpanEvent,
            "metric" => ContextKind::Metric,
            "datapoint" => ContextKind::DataPoint,
            "log" => ContextKind::Log,
            _ => return None,
        })
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            ContextKind::Resource => "resource",
            ContextKind::Scope => "scope",
            ContextKind::Span => "span",
            ContextKind::SpanEvent => "spanevent",
            ContextKind::Metric => "metric",
            ContextKind::DataPoint => "datapoint",
            ContextKind::Log => "log",
        }
    }

    /// Whether statements running here can reach paths of `other`.
    pub fn sees(self, other: ContextKind) -> bool {
        use ContextKind::*;
        match self {
            Resource => other == Resource,
            Scope => matches!(other, Resource | Scope),
            Log => matches!(other, Resource | Scope | Log),
            Span => matches!(other, Resource | Scope | Span),
            SpanEvent => matches!(other, Resource | Scope | Span | SpanEvent),
            Metric => matches!(other, Resource | Scope | Metric),
            DataPoint => matches!(other, Resource | Scope | Metric | DataPoint),
        }
    }

    /// How deep in the hierarchy items of this context are: resource 0,
    /// scope 1, spans, metrics and logs 2, span events and data points 3.
    pub fn level(self) -> u8 {
        match self {
            ContextKind::Resource => 0,
            ContextKind::Scope => 1,
            ContextKind::Span | ContextKind::Metric | ContextKind::Log => 2,
            ContextKind::SpanEvent | ContextKind::DataPoint => 3,
        }
    }

    /// Go's inference priority: the most specific context wins.
    pub(super) fn priority(self) -> u8 {
        match self {
            ContextKind::Log => 0,
            ContextKind::DataPoint => 1,
            ContextKind::Metric => 2,
            ContextKind::SpanEvent => 3,
            ContextKind::Span => 4,
            ContextKind::Scope => 5,
            ContextKind::Resource => 6,
        }
    }
}

/// A telemetry field a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Field {
    Cache,
    ResourceAttributes,
    ResourceDroppedAttributesCount,
    ScopeName,
    ScopeVersion,
    ScopeAttributes,
    ScopeDroppedAttributesCount,
    LogBody,
    LogBodyString,
    LogAttributes,
    LogSeverityNumber,
    LogSeverityText,
    LogTimeUnixNano,
    LogObservedTimeUnixNano,
    LogTime,
    LogObservedTime,
    LogTraceId,
    LogTraceIdString,
    LogSpanId,
    LogSpanIdString,
    LogFlags,
    LogEventName,
    LogDroppedAttributesCount,
    SpanName,
    SpanKind,
    SpanKindString,
    SpanStatusCode,
    SpanStatusMessage,
    SpanAttributes,
    SpanStartTimeUnixNano,
    SpanEndTimeUnixNano,
    SpanStartTime,
    SpanEndTime,
    SpanTraceId,
    SpanTraceIdString,
    SpanSpanId,
    SpanSpanIdString,
    SpanParentSpanId,
    SpanParentSpanIdString,
    SpanTraceState,
    SpanFlags,
    SpanDroppedAttributesCount,
    SpanDroppedEventsCount,
    SpanDroppedLinksCount,
    EventName,
    EventAttributes,
    EventTimeUnixNano,
    EventTime,
    EventDroppedAttributesCount,
    MetricName,
    MetricDescription,
    MetricUnit,
    MetricType,
    MetricAggregationTemporality,
    MetricIsMonotonic,
    PointAttributes,
    PointStartTimeUnixNano,
    PointTimeUnixNano,
    PointStartTime,
    PointTime,
    PointValueDouble,
    PointValueInt,
    PointFlags,
    PointCount,
    PointSum,
    PointBucketCounts,
    PointExplicitBounds,
    PointScale,
    PointZeroCount,
}

impl Field {
    /// Whether `["key"]` indexing applies.
    pub(super) fn indexable(self) -> bool {
        matches!(
            self,
            Field::Cache
                | Field::ResourceAttributes
                | Field::ScopeAttributes
                | Field::LogAttributes
                | Field::LogBody
                | Field::SpanAttributes
                | Field::EventAttributes
                | Field::PointAttributes
        )
    }
}

/// Resolves a path's segments (after any context prefix) for `owner`.
pub(super) fn field(owner: ContextKind, segments: &[&str]) -> Option<Field> {
    use ContextKind as C;
    use Field as F;
    Some(match (owner, segments) {
        (_, ["cache"]) => F::Cache,
        (C::Resource, ["attributes"]) => F::ResourceAttributes,
        (C::Resource, ["dropped_attributes_count"]) => F::ResourceDroppedAttributesCount,
        (C::Scope, ["name"]) => F::ScopeName,
        (C::Scope, ["version"]) => F::ScopeVersion,
        (C::Scope, ["attributes"]) => F::ScopeAttributes,
        (C::Scope, ["dropped_attributes_count"]) => F::ScopeDroppedAttributesCount,
        (C::Log, ["body"]) => F::LogBody,
        (C::Log, ["body", "string"]) => F::LogBodyString,
        (C::Log, ["attributes"]) => F::LogAttributes,
        (C::Log, ["severity_number"]) => F::LogSeverityNumber,
        (C::Log, ["severity_text"]) => F::LogSeverityText,
        (C::Log, ["time_unix_nano"]) => F::LogTimeUnixNano,
        (C::Log, ["observed_time_unix_nano"]) => F::LogObservedTimeUnixNano,
        (C::Log, ["time"]) => F::LogTime,
        (C::Log, ["observed_time"]) => F::LogObservedTime,
        (C::Log, ["trace_id"]) => F::LogTraceId,
        (C::Log, ["trace_id", "string"]) => F::LogTraceIdString,
        (C::Log, ["span_id"]) => F::LogSpanId,
        (C::Log, ["span_id", "string"]) => F::LogSpanIdString,
        (C::Log, ["flags"]) => F::LogFlags,
        (C::Log, ["event_name"]) => F::LogEventName,
        (C::Log, ["dropped_attributes_count"]) => F::LogDroppedAttributesCount,
        (C::Span, ["name"]) => F::SpanName,
        (C::Span, ["kind"]) => F::SpanKind,
        (C::Span, ["kind", "string"]) => F::SpanKindString,
        (C::Span, ["status", "code"]) => F::SpanStatusCode,
        (C::Span, ["status", "message"]) => F::SpanStatusMessage,
        (C::Span, ["attributes"]) => F::SpanAttributes,
        (C::Span, ["start_time_unix_nano"]) => F::SpanStartTimeUnixNano,
        (C::Span, ["end_time_unix_nano"]) => F::SpanEndTimeUnixNano,
        (C::Span, ["start_time"]) => F::SpanStartTime,
        (C::Span, ["end_time"]) => F::SpanEndTime,
        (C::Span, ["trace_id"]) => F::SpanTraceId,
        (C::Span, ["trace_id", "string"]) => F::SpanTraceIdString,
        (C::Span, ["span_id"]) => F::SpanSpanId,
        (C::Span, ["span_id", "string"]) => F::SpanSpanIdString,
        (C::Span, ["parent_span_id"]) => F::SpanParentSpanId,
        (C::Span, ["parent_span_id", "string"]) => F::SpanParentSpanIdString,
        (C::Span, ["trace_state"]) => F::SpanTraceState,
        (C::Span, ["flags"]) => F::SpanFlags,
        (C::Span, ["dropped_attributes_count"]) => F::SpanDroppedAttributesCount,
        (C::Span, ["dropped_events_count"]) => F::SpanDroppedEventsCount,
        (C::Span, ["dropped_links_count"]) => F::SpanDroppedLinksCount,
        (C::SpanEvent, ["name"]) => F::EventName,
        (C::SpanEvent, ["attributes"]) => F::EventAttributes,
        (C::SpanEvent, ["time_unix_nano"]) => F::EventTimeUnixNano,
        (C::SpanEvent, ["time"]) => F::EventTime,
        (C::SpanEvent, ["dropped_attributes_count"]) => F::EventDroppedAttributesCount,
        (C::Metric, ["name"]) => F::MetricName,
        (C::Metric, ["description"]) => F::MetricDescription,
        (C::Metric, ["unit"]) => F::MetricUnit,
        (C::Metric, ["type"]) => F::MetricType,
        (C::Metric, ["aggregation_temporality"]) => F::MetricAggregationTemporality,
        (C::Metric, ["is_monotonic"]) => F::MetricIsMonotonic,
        (C::DataPoint, ["attributes"]) => F::PointAttributes,
        (C::DataPoint, ["start_time_unix_nano"]) => F::PointStartTimeUnixNano,
        (C::DataPoint, ["time_unix_nano"]) => F::PointTimeUnixNano,
        (C::DataPoint, ["start_time"]) => F::PointStartTime,
        (C::DataPoint, ["time"]) => F::PointTime,
        (C::DataPoint, ["value_double"]) => F::PointValueDouble,
        (C::DataPoint, ["value_int"]) => F::PointValueInt,
        (C::DataPoint, ["flags"]) => F::PointFlags,
        (C::DataPoint, ["count"]) => F::PointCount,
        (C::DataPoint, ["sum"]) => F::PointSum,
        (C::DataPoint, ["bucket_counts"]) => F::PointBucketCounts,
        (C::DataPoint, ["explicit_bounds"]) => F::PointExplicitBounds,
        (C::DataPoint, ["scale"]) => F::PointScale,
        (C::DataPoint, ["zero_count"]) => F::PointZeroCount,
        _ => return None,
    })
}

/// The enum symbols OTTL contexts define, as ints.
pub(super) fn enum_value(name: &str) -> Option<i64> {
    const SEVERITIES: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
    if let Some(rest) = name.strip_prefix("SEVERITY_NUMBER_") {
        if rest == "UNSPECIFIED" {
            return Some(0);
        }
        let (level, n) = match rest.char_indices().last() {
            Some((i, c @ '2'..='4')) => (&rest[..i], c as i64 - '0' as i64),
            _ => (rest, 1),
        };
        let base = SEVERITIES.iter().position(|s| *s == level)? as i64;
        return Some(base * 4 + n);
    }
    Some(match name {
        "SPAN_KIND_UNSPECIFIED" => 0,
        "SPAN_KIND_INTERNAL" => 1,
        "SPAN_KIND_SERVER" => 2,
        "SPAN_KIND_CLIENT" => 3,
        "SPAN_KIND_PRODUCER" => 4,
        "SPAN_KIND_CONSUMER" => 5,
        "STATUS_CODE_UNSET" => 0,
        "STATUS_CODE_OK" => 1,
        "STATUS_CODE_ERROR" => 2,
        "AGGREGATION_TEMPORALITY_UNSPECIFIED" => 0,
        "AGGREGATION_TEMPORALITY_DELTA" => 1,
        "AGGREGATION_TEMPORALITY_CUMULATIVE" => 2,
        "METRIC_DATA_TYPE_NONE" => 0,
        "METRIC_DATA_TYPE_GAUGE" => 1,
        "METRIC_DATA_TYPE_SUM" => 2,
        "METRIC_DATA_TYPE_HISTOGRAM" => 3,
        "METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM" => 4,
        "METRIC_DATA_TYPE_SUMMARY" => 5,
        "FLAG_NONE" => 0,
        "FLAG_NO_RECORDED_VALUE" => 1,
        _ => return None,
    })
}

/// A data point of any kind.
pub enum Point<'a> {
    /// Gauge or sum.
    Number(&'a mut NumberDataPoint),
    /// Histogram.
    Histogram(&'a mut HistogramDataPoint),
    /// Exponential histogram.
    Exponential(&'a mut ExponentialHistogramDataPoint),
    /// Summary.
    Summary(&'a mut SummaryDataPoint),
}

/// The item being evaluated and everything above it.
pub struct Item<'a> {
    /// Its resource.
    pub resource: &'a mut Resource,
    /// Its scope (absent in the resource context).
    pub scope: Option<&'a mut InstrumentationScope>,
    /// The log record.
    pub log: Option<&'a mut LogRecord>,
    /// The span (also the parent of a span event).
    pub span: Option<&'a mut Span>,
    /// The span event.
    pub event: Option<&'a mut span::Event>,
    /// The metric (its data taken out while its points are evaluated).
    pub metric: Option<&'a mut Metric>,
    /// The metric's type, `METRIC_DATA_TYPE_*`.
    pub metric_type: i64,
    /// The metric's aggregation temporality and monotonicity.
    pub metric_shape: (i32, bool),
    /// The data point.
    pub point: Option<Point<'a>>,
    /// Where metric functions put the metrics they create; they join the
    /// scope's metrics after the current one and are visited in turn.
    pub new_metrics: Option<&'a mut Vec<Metric>>,
    /// In the data point context, with programs that convert summaries:
    /// a copy of the summary the point belongs to.
    pub summary: Option<&'a ferrotel_core::pdata::metrics::Summary>,
    /// The context's scratch map.
    pub cache: &'a mut Vec<KeyValue>,
}

fn missing(what: &str) -> String {
    format!("no {what} in this context")
}

fn str_value(s: &str) -> Value<'_> {
    Value::Str(Cow::Borrowed(s))
}

/// An id as pdata's `String()` writes it: empty when all zeros.
fn hex(bytes: &[u8]) -> Value<'static> {
    if bytes.iter().all(|b| *b == 0) {
        return Value::Str(Cow::Borrowed(""));
    }
    Value::Str(Cow::Owned(ferrotel_core::hex::encode(bytes)))
}

fn kind_string(kind: i32) -> &'static str {
    match kind {
        1 => "Internal",
        2 => "Server",
        3 => "Client",
        4 => "Producer",
        5 => "Consumer",
        _ => "Unspecified",
    }
}

impl<'a> Item<'a> {
    fn scope_ref(&self) -> Result<&InstrumentationScope, String> {
        self.scope
            .as_deref()
            .ok_or_else(|| missing("instrumentation scope"))
    }
    fn log_ref(&self) -> Result<&LogRecord, String> {
        self.log.as_deref().ok_or_else(|| missing("log record"))
    }
    fn span_ref(&self) -> Result<&Span, String> {
        self.span.as_deref().ok_or_else(|| missing("span"))
    }
    fn event_ref(&self) -> Result<&span::Event, String> {
        self.event.as_deref().ok_or_else(|| missing("span event"))
    }
    fn metric_ref(&self) -> Result<&Metric, String> {
        self.metric.as_deref().ok_or_else(|| missing("metric"))
    }

    /// The attribute list of a map field, when the item has it.
    pub(super) fn attributes(&self, field: Field) -> Option<&[KeyValue]> {
        Some(match field {
            Field::ResourceAttributes => &self.resource.attributes,
            Field::LogAttributes => &self.log.as_deref()?.attributes,
            Field::SpanAttributes => &self.span.as_deref()?.attributes,
            Field::ScopeAttributes => &self.scope.as_deref()?.attributes,
            Field::EventAttributes => &self.event.as_deref()?.attributes,
            Field::Cache => self.cache.as_slice(),
            _ => return None,
        })
    }

    /// Reads a field.
    pub(super) fn get(&self, field: Field) -> Result<Value<'_>, String> {
        use Field as F;
        Ok(match field {
            F::Cache => Value::Map(Cow::Borrowed(self.cache.as_slice())),
            F::ResourceAttributes => Value::Map(Cow::Borrowed(&self.resource.attributes)),
            F::ResourceDroppedAttributesCount => {
                Value::Int(self.resource.dropped_attributes_count.into())
            }
            F::ScopeName => str_value(&self.scope_ref()?.name),
            F::ScopeVersion => str_value(&self.scope_ref()?.version),
            F::ScopeAttributes => Value::Map(Cow::Borrowed(&self.scope_ref()?.attributes)),
            F::ScopeDroppedAttributesCount => {
                Value::Int(self.scope_ref()?.dropped_attributes_count.into())
            }
            F::LogBody => Value::of(self.log_ref()?.body.as_ref()),
            F::LogBodyString => {
                let mut s = String::new();
                ferrotel_core::pdata::go::as_string(
                    self.log_ref()?.body.as_ref().and_then(|b| b.value.as_ref()),
                    &mut s,
                );
                Value::Str(Cow::Owned(s))
            }
            F::LogAttributes => Value::Map(Cow::Borrowed(&self.log_ref()?.attributes)),
            F::LogSeverityNumber => Value::Int(self.log_ref()?.severity_number.into()),
            F::LogSeverityText => str_value(&self.log_ref()?.severity_text),
            F::LogTimeUnixNano => Value::Int(self.log_ref()?.time_unix_nano as i64),
            F::LogObservedTimeUnixNano => {
                Value::Int(self.log_ref()?.observed_time_unix_nano as i64)
            }
            F::LogTime => Value::Time(self.log_ref()?.time_unix_nano as i64),
            F::LogObservedTime => Value::Time(self.log_ref()?.observed_time_unix_nano as i64),
            F::LogTraceId => Value::Bytes(Cow::Borrowed(&self.log_ref()?.trace_id)),
            F::LogTraceIdString => hex(&self.log_ref()?.trace_id),
            F::LogSpanId => Value::Bytes(Cow::Borrowed(&self.log_ref()?.span_id)),
            F::LogSpanIdString => hex(&self.log_ref()?.span_id),
            F::LogFlags => Value::Int(self.log_ref()?.flags.into()),
            F::LogEventName => str_value(&self.log_ref()?.event_name),
            F::LogDroppedAttributesCount => {
                Value::Int(self.log_ref()?.dropped_attributes_count.into())
            }
            F::SpanName => str_value(&self.span_ref()?.name),
            F::SpanKind => Value::Int(self.span_ref()?.kind.into()),
            F::SpanKindString => str_value(kind_string(self.span_ref()?.kind)),
            F::SpanStatusCode => Value::Int(
                self.span_ref()?
                    .status
                    .as_ref()
                    .map_or(0, |s| s.code)
                    .into(),
            ),
            F::SpanStatusMessage => {
                str_value(self.span_ref()?.status.as_ref().map_or("", |s| &s.message))
            }
            F::SpanAttributes => Value::Map(Cow::Borrowed(&self.span_ref()?.attributes)),
            F::SpanStartTimeUnixNano => Value::Int(self.span_ref()?.start_time_unix_nano as i64),
            F::SpanEndTimeUnixNano => Value::Int(self.span_ref()?.end_time_unix_nano as i64),
            F::SpanStartTime => Value::Time(self.span_ref()?.start_time_unix_nano as i64),
            F::SpanEndTime => Value::Time(self.span_ref()?.end_time_unix_nano as i64),
            F::SpanTraceId => Value::Bytes(Cow::Borrowed(&self.span_ref()?.trace_id)),
            F::SpanTraceIdString => hex(&self.span_ref()?.trace_id),
            F::SpanSpanId => Value::Bytes(Cow::Borrowed(&self.span_ref()?.span_id)),
            F::SpanSpanIdString => hex(&self.span_ref()?.span_id),
            F::SpanParentSpanId => Value::Bytes(Cow::Borrowed(&self.span_ref()?.parent_span_id)),
            F::SpanParentSpanIdString => hex(&self.span_ref()?.parent_span_id),
            F::SpanTraceState => str_value(&self.span_ref()?.trace_state),
            F::SpanFlags => Value::Int(self.span_ref()?.flags.into()),
            F::SpanDroppedAttributesCount => {
                Value::Int(self.span_ref()?.dropped_attributes_count.into())
            }
            F::SpanDroppedEventsCount => Value::Int(self.span_ref()?.dropped_events_count.into()),
            F::SpanDroppedLinksCount => Value::Int(self.span_ref()?.dropped_links_count.into()),
            F::EventName => str_value(&self.event_ref()?.name),
            F::EventAttributes => Value::Map(Cow::Borrowed(&self.event_ref()?.attributes)),
            F::EventTimeUnixNano => Value::Int(self.event_ref()?.time_unix_nano as i64),
            F::EventTime => Value::Time(self.event_ref()?.time_unix_nano as i64),
            F::EventDroppedAttributesCount => {
                Value::Int(self.event_ref()?.dropped_attributes_count.into())
            }
            F::MetricName => str_value(&self.metric_ref()?.name),
            F::MetricDescription => str_value(&self.metric_ref()?.description),
            F::MetricUnit => str_value(&self.metric_ref()?.unit),
            F::MetricType => {
                self.metric_ref()?;
                Value::Int(self.metric_type)
            }
            F::MetricAggregationTemporality => {
                self.metric_ref()?;
                Value::Int(self.metric_shape.0.into())
            }
            F::MetricIsMonotonic => {
                self.metric_ref()?;
                Value::Bool(self.metric_shape.1)
            }
            _ => self.point_get(field)?,
        })
    }

    fn point_get(&self, field: Field) -> Result<Value<'_>, String> {
        use Field as F;
        let p = self.point.as_ref().ok_or_else(|| missing("data point"))?;
        let (attributes, start, time, flags) = match p {
            Point::Number(p) => (
                &p.attributes,
                p.start_time_unix_nano,
                p.time_unix_nano,
                p.flags,
            ),
            Point::Histogram(p) => (
                &p.attributes,
                p.start_time_unix_nano,
                p.time_unix_nano,
                p.flags,
            ),
            Point::Exponential(p) => (
                &p.attributes,
                p.start_time_unix_nano,
                p.time_unix_nano,
                p.flags,
            ),
            Point::Summary(p) => (
                &p.attributes,
                p.start_time_unix_nano,
                p.time_unix_nano,
                p.flags,
            ),
        };
        let list_u64 = |v: &[u64]| {
            Value::List(Cow::Owned(
                v.iter()
                    .map(|n| AnyValue {
                        value: Some(any_value::Value::IntValue(*n as i64)),
                    })
                    .collect(),
            ))
        };
        Ok(match (field, p) {
            (F::PointAttributes, _) => Value::Map(Cow::Borrowed(attributes)),
            (F::PointStartTimeUnixNano, _) => Value::Int(start as i64),
            (F::PointTimeUnixNano, _) => Value::Int(time as i64),
            (F::PointStartTime, _) => Value::Time(start as i64),
            (F::PointTime, _) => Value::Time(time as i64),
            (F::PointFlags, _) => Value::Int(flags.into()),
            (F::PointValueDouble, Point::Number(p)) => match p.value {
                Some(number_data_point::Value::AsDouble(d)) => Value::Float(d),
                _ => Value::Float(0.0),
            },
            (F::PointValueInt, Point::Number(p)) => match p.value {
                Some(number_data_point::Value::AsInt(i)) => Value::Int(i),
                _ => Value::Int(0),
            },
            (F::PointCount, Point::Histogram(p)) => Value::Int(p.count as i64),
            (F::PointCount, Point::Exponential(p)) => Value::Int(p.count as i64),
            (F::PointCount, Point::Summary(p)) => Value::Int(p.count as i64),
            (F::PointSum, Point::Histogram(p)) => Value::Float(p.sum.unwrap_or(0.0)),
            (F::PointSum, Point::Exponential(p)) => Value::Float(p.sum.unwrap_or(0.0)),
            (F::PointSum, Point::Summary(p)) => Value::Float(p.sum),
            (F::PointBucketCounts, Point::Histogram(p)) => list_u64(&p.bucket_counts),
            (F::PointExplicitBounds, Point::Histogram(p)) => Value::List(Cow::Owned(
                p.explicit_bounds
                    .iter()
                    .map(|b| AnyValue {
                        value: Some(any_value::Value::DoubleValue(*b)),
                    })
                    .collect(),
            )),
            (F::PointScale, Point::Exponential(p)) => Value::Int(p.scale.into()),
            (F::PointZeroCount, Point::Exponential(p)) => Value::Int(p.zero_count as i64),
            // Go returns nil for fields another point kind lacks.
            _ => Value::Nil,
        })
    }

    /// The attribute list a map field names, to change it in place.
    pub(super) fn map_mut(&mut self, field: Field) -> Result<&mut Vec<KeyValue>, String> {
        use Field as F;
        Ok(match field {
            F::Cache => self.cache,
            F::ResourceAttributes => &mut self.resource.attributes,
            F::ScopeAttributes => {
                &mut self
                    .scope
                    .as_deref_mut()
                    .ok_or_else(|| missing("instrumentation scope"))?
                    .attributes
            }
            F::LogAttributes => {
                &mut self
                    .log
                    .as_deref_mut()
                    .ok_or_else(|| missing("log record"))?
                    .attributes
            }
            F::SpanAttributes => {
                &mut self
                    .span
                    .as_deref_mut()
                    .ok_or_else(|| missing("span"))?
                    .attributes
            }
            F::EventAttributes => {
                &mut self
                    .event
                    .as_deref_mut()
                    .ok_or_else(|| missing("span event"))?
                    .attributes
            }
            F::PointAttributes => match self.point.as_mut().ok_or_else(|| missing("data point"))? {
                Point::Number(p) => &mut p.attributes,
                Point::Histogram(p) => &mut p.attributes,
                Point::Exponential(p) => &mut p.attributes,
                Point::Summary(p) => &mut p.attributes,
            },
            F::LogBody => {
                let log = self
                    .log
                    .as_deref_mut()
                    .ok_or_else(|| missing("log record"))?;
                let body = log.body.get_or_insert_with(AnyValue::default);
                if !matches!(body.value, Some(any_value::Value::KvlistValue(_))) {
                    if body.value.is_some() {
                        return Err("log body is not a map".into());
                    }
                    body.value = Some(any_value::Value::KvlistValue(KeyValueList::default()));
                }
                match &mut body.value {
                    Some(any_value::Value::KvlistValue(m)) => &mut m.values,
                    _ => unreachable!("made a map above"),
                }
            }
            other => return Err(format!("{other:?} is not a map")),
        })
    }

    /// Writes a field (without keys).
    pub(super) fn set(&mut self, field: Field, value: Value<'static>) -> Result<(), String> {
        use Field as F;
        if field.indexable() && field != Field::LogBody {
            let Value::Map(m) = value else {
                return Err(format!("expected a map, got {}", value.type_name()));
            };
            *self.map_mut(field)? = m.into_owned();
            return Ok(());
        }
        let int = |v: &Value<'_>| match v {
            Value::Int(i) => Ok(*i),
            other => Err(format!("expected an int64, got {}", other.type_name())),
        };
        let time = |v: &Value<'_>| match v {
            Value::Time(t) | Value::Int(t) => Ok(*t as u64),
            other => Err(format!("expected a time, got {}", other.type_name())),
        };
        let string = |v: Value<'static>| match v {
            Value::Str(s) => Ok(s.into_owned()),
            other => Err(format!("expected a string, got {}", other.type_name())),
        };
        let id = |v: Value<'static>, len: usize| -> Result<Vec<u8>, String> {
            match v {
                Value::Bytes(b) if b.len() == len => Ok(b.into_owned()),
                Value::Str(s) if s.len() == len * 2 => (0..len)
                    .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16))
                    .collect::<Result<Vec<u8>, _>>()
                    .map_err(|e| e.to_string()),
                other => Err(format!(
                    "expected a {len}-byte id, got {}",
                    other.type_name()
                )),
            }
        };
        match field {
            F::ResourceDroppedAttributesCount => {
                self.resource.dropped_attributes_count = int(&value)? as u32
            }
            F::ScopeName | F::ScopeVersion | F::ScopeDroppedAttributesCount => {
                let scope = self
                    .scope
                    .as_deref_mut()
                    .ok_or_else(|| missing("instrumentation scope"))?;
                match field {
                    F::ScopeName => scope.name = string(value)?,
                    F::ScopeVersion => scope.version = string(value)?,
                    _ => scope.dropped_attributes_count = int(&value)? as u32,
                }
            }
            F::LogBody
            | F::LogBodyString
            | F::LogSeverityNumber
            | F::LogSeverityText
            | F::LogTimeUnixNano
            | F::LogObservedTimeUnixNano
            | F::LogTime
            | F::LogObservedTime
            | F::LogTraceId
            | F::LogTraceIdString
            | F::LogSpanId
            | F::LogSpanIdString
            | F::LogFlags
            | F::LogEventName
            | F::LogDroppedAttributesCount => {
                let log = self
                    .log
                    .as_deref_mut()
                    .ok_or_else(|| missing("log record"))?;
                match field {
                    F::LogBody => log.body = value.into_any(),
                    F::LogBodyString => {
                        log.body = Some(AnyValue {
                            value: Some(any_value::Value::StringValue(string(value)?)),
                        })
                    }
                    F::LogSeverityNumber => log.severity_number = int(&value)? as i32,
                    F::LogSeverityText => log.severity_text = string(value)?,
                    F::LogTimeUnixNano | F::LogTime => log.time_unix_nano = time(&value)?,
                    F::LogObservedTimeUnixNano | F::LogObservedTime => {
                        log.observed_time_unix_nano = time(&value)?
                    }
                    F::LogTraceId | F::LogTraceIdString => log.trace_id = id(value, 16)?,
                    F::LogSpanId | F::LogSpanIdString => log.span_id = id(value, 8)?,
                    F::LogFlags => log.flags = int(&value)? as u32,
                    F::LogEventName => log.event_name = string(value)?,
                    _ => log.dropped_attributes_count = int(&value)? as u32,
                }
            }
            F::SpanName
            | F::SpanKind
            | F::SpanStatusCode
            | F::SpanStatusMessage
            | F::SpanStartTimeUnixNano
            | F::SpanEndTimeUnixNano
            | F::SpanStartTime
            | F::SpanEndTime
            | F::SpanTraceId
            | F::SpanTraceIdString
            | F::SpanSpanId
            | F::SpanSpanIdString
            | F::SpanParentSpanId
            | F::SpanParentSpanIdString
            | F::SpanTraceState
            | F::SpanFlags
            | F::SpanDroppedAttributesCount
            | F::SpanDroppedEventsCount
            | F::SpanDroppedLinksCount => {
                let span = self.span.as_deref_mut().ok_or_else(|| missing("span"))?;
                match field {
                    F::SpanName => span.name = string(value)?,
                    F::SpanKind => span.kind = int(&value)? as i32,
                    F::SpanStatusCode => {
                        span.status.get_or_insert_with(Default::default).code = int(&value)? as i32
                    }
                    F::SpanStatusMessage => {
                        span.status.get_or_insert_with(Default::default).message = string(value)?
                    }
                    F::SpanStartTimeUnixNano | F::SpanStartTime => {
                        span.start_time_unix_nano = time(&value)?
                    }
                    F::SpanEndTimeUnixNano | F::SpanEndTime => {
                        span.end_time_unix_nano = time(&value)?
                    }
                    F::SpanTraceId | F::SpanTraceIdString => span.trace_id = id(value, 16)?,
                    F::SpanSpanId | F::SpanSpanIdString => span.span_id = id(value, 8)?,
                    F::SpanParentSpanId | F::SpanParentSpanIdString => {
                        span.parent_span_id = id(value, 8)?
                    }
                    F::SpanTraceState => span.trace_state = string(value)?,
                    F::SpanFlags => span.flags = int(&value)? as u32,
                    F::SpanDroppedAttributesCount => {
                        span.dropped_attributes_count = int(&value)? as u32
                    }
                    F::SpanDroppedEventsCount => span.dropped_events_count = int(&value)? as u32,
                    _ => span.dropped_links_count = int(&value)? as u32,
                }
            }
            F::EventName | F::EventTimeUnixNano | F::EventTime | F::EventDroppedAttributesCount => {
                let event = self
                    .event
                    .as_deref_mut()
                    .ok_or_else(|| missing("span event"))?;
                match field {
                    F::EventName => event.name = string(value)?,
                    F::EventDroppedAttributesCount => {
                        event.dropped_attributes_count = int(&value)? as u32
                    }
                    _ => event.time_unix_nano = time(&value)?,
                }
            }
            F::MetricName | F::MetricDescription | F::MetricUnit => {
                let m = self
                    .metric
                    .as_deref_mut()
                    .ok_or_else(|| missing("metric"))?;
                match field {
                    F::MetricName => m.name = string(value)?,
                    F::MetricDescription => m.description = string(value)?,
                    _ => m.unit = string(value)?,
                }
            }
            F::MetricAggregationTemporality | F::MetricIsMonotonic => {
                let m = self
                    .metric
                    .as_deref_mut()
                    .ok_or_else(|| missing("metric"))?;
                match (&mut m.data, field, &value) {
                    (Some(metric::Data::Sum(s)), F::MetricIsMonotonic, Value::Bool(b)) => {
                        s.is_monotonic = *b
                    }
                    (Some(metric::Data::Sum(s)), F::MetricAggregationTemporality, _) => {
                        s.aggregation_temporality = int(&value)? as i32
                    }
                    (Some(metric::Data::Histogram(h)), F::MetricAggregationTemporality, _) => {
                        h.aggregation_temporality = int(&value)? as i32
                    }
                    (
                        Some(metric::Data::ExponentialHistogram(h)),
                        F::MetricAggregationTemporality,
                        _,
                    ) => h.aggregation_temporality = int(&value)? as i32,
                    // Other metric types have no such field: Go ignores it.
                    _ => {}
                }
            }
            F::PointStartTimeUnixNano
            | F::PointTimeUnixNano
            | F::PointStartTime
            | F::PointTime
            | F::PointFlags
            | F::PointValueDouble
            | F::PointValueInt => {
                let p = self.point.as_mut().ok_or_else(|| missing("data point"))?;
                let (start, t, flags) = match p {
                    Point::Number(p) => {
                        match (field, &value) {
                            (F::PointValueDouble, Value::Float(f)) => {
                                p.value = Some(number_data_point::Value::AsDouble(*f));
                                return Ok(());
                            }
                            (F::PointValueInt, Value::Int(i)) => {
                                p.value = Some(number_data_point::Value::AsInt(*i));
                                return Ok(());
                            }
                            _ => {}
                        }
                        (
                            &mut p.start_time_unix_nano,
                            &mut p.time_unix_nano,
                            &mut p.flags,
                        )
                    }
                    Point::Histogram(p) => (
                        &mut p.start_time_unix_nano,
                        &mut p.time_unix_nano,
                        &mut p.flags,
                    ),
                    Point::Exponential(p) => (
                        &mut p.start_time_unix_nano,
                        &mut p.time_unix_nano,
                        &mut p.flags,
                    ),
                    Point::Summary(p) => (
                        &mut p.start_time_unix_nano,
                        &mut p.time_unix_nano,
                        &mut p.flags,
                    ),
                };
                match field {
                    F::PointStartTimeUnixNano | F::PointStartTime => *start = time(&value)?,
                    F::PointTimeUnixNano | F::PointTime => *t = time(&value)?,
                    F::PointFlags => *flags = int(&value)? as u32,
                    _ => return Err(format!("cannot set {field:?} from {}", value.type_name())),
                }
            }
            other => return Err(format!("{other:?} cannot be set")),
        }
        Ok(())
    }
}

/// Sets `key` in an attribute list: the last entry of that key, or a new
/// one at the end.
pub fn put(map: &mut Vec<KeyValue>, key: &str, value: Option<AnyValue>) {
    match map.iter_mut().rev().find(|kv| kv.key == key) {
        Some(kv) => kv.value = value,
        None => map.push(KeyValue {
            key: key.to_string(),
            value,
            ..KeyValue::default()
        }),
    }
}

/// Sets `keys` inside `map` (the first key a string), creating maps on the
/// way; a list index must exist.
pub(super) fn set_in_map(
    map: &mut Vec<KeyValue>,
    keys: &[Value<'_>],
    value: Option<AnyValue>,
) -> Result<(), String> {
    let Some((first, rest)) = keys.split_first() else {
        return Err("no key".into());
    };
    let Value::Str(key) = first else {
        return Err(format!("map keys are strings, not {}", first.type_name()));
    };
    let slot = match map.iter().rposition(|kv| kv.key == key.as_ref()) {
        Some(i) => &mut map[i],
        None => {
            map.push(KeyValue {
                key: key.to_string(),
                value: None,
                ..KeyValue::default()
            });
            map.last_mut().expect("pushed")
        }
    };
    if rest.is_empty() {
        slot.value = value;
        return Ok(());
    }
    set_in_value(
        slot.value.get_or_insert_with(AnyValue::default),
        rest,
        value,
    )
}

fn set_in_value(
    v: &mut AnyValue,
    keys: &[Value<'_>],
    value: Option<AnyValue>,
) -> Result<(), String> {
    match (&mut v.value, &keys[0]) {
        (Some(any_value::Value::KvlistValue(m)), Value::Str(_)) => {
            set_in_map(&mut m.values, keys, value)
        }
        (None, Value::Str(_)) => {
            v.value = Some(any_value::Value::KvlistValue(KeyValueList::default()));
            set_in_value(v, keys, value)
        }
        (Some(any_value::Value::ArrayValue(a)), Value::Int(i)) => {
            let slot = usize::try_from(*i)
                .ok()
                .and_then(|i| a.values.get_mut(i))
                .ok_or_else(|| format!("index {i} out of bounds"))?;
            if keys.len() == 1 {
                *slot = value.unwrap_or_default();
                Ok(())
            } else {
                set_in_value(slot, &keys[1..], value)
            }
        }
        (_, k) => Err(format!("cannot index with {}", k.type_name())),
    }
}

/// Reads `keys` below a map value, nil when absent.
pub(super) fn get_in<'v>(value: Value<'v>, keys: &[Value<'_>]) -> Result<Value<'v>, String> {
    let mut v = value;
    for k in keys {
        v = v.index(k)?;
    }
    Ok(v)
}
