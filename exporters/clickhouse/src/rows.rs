//! Rows in ClickHouse's RowBinary format, column by column as the Go
//! exporter fills them (contrib v0.165): which value goes in which column,
//! and how (`AsString()` for attribute values, hex ids, `Unspecified`/`Ok`
//! names for enums, seconds for `DateTime`, nanoseconds for
//! `DateTime64(9)`). Only the columns the table has are written, in the
//! order of the insert's column list.
//!
//! Attribute maps of a resource or scope are encoded once and copied into
//! each of its rows.

use ferrotel_core::pdata::common::{InstrumentationScope, KeyValue, any_value};
use ferrotel_core::pdata::go;
use ferrotel_core::pdata::logs::ResourceLogs;
use ferrotel_core::pdata::metrics::{
    Exemplar, ExponentialHistogramDataPoint, HistogramDataPoint, NumberDataPoint, ResourceMetrics,
    SummaryDataPoint, exemplar, metric, number_data_point,
};
use ferrotel_core::pdata::resource::Resource;
use ferrotel_core::pdata::trace::ResourceSpans;

/// A column's ClickHouse type, as far as the encoding goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    DateTime64,
    DateTime,
    Str,
    U8,
    U32,
    U64,
    I32,
    F64,
    Bool,
    Map,
    ArrDateTime64,
    ArrDateTime,
    ArrStr,
    ArrMap,
    ArrU64,
    ArrF64,
}

impl Ty {
    /// Whether a type as `DESC TABLE` prints it is encoded this way.
    pub(crate) fn accepts(self, described: &str) -> bool {
        let t = described.replace("LowCardinality(String)", "String");
        let t = t.as_str();
        match self {
            Ty::DateTime64 => t.starts_with("DateTime64(9"),
            Ty::DateTime => t == "DateTime" || t.starts_with("DateTime('"),
            Ty::Str => t == "String",
            Ty::U8 => t == "UInt8",
            Ty::U32 => t == "UInt32",
            Ty::U64 => t == "UInt64",
            Ty::I32 => t == "Int32",
            Ty::F64 => t == "Float64",
            Ty::Bool => t == "Bool" || t == "UInt8",
            Ty::Map => t == "Map(String, String)",
            Ty::ArrDateTime64 => t.starts_with("Array(DateTime64(9"),
            Ty::ArrDateTime => t == "Array(DateTime)" || t.starts_with("Array(DateTime('"),
            Ty::ArrStr => t == "Array(String)",
            Ty::ArrMap => t == "Array(Map(String, String))",
            Ty::ArrU64 => t == "Array(UInt64)",
            Ty::ArrF64 => t == "Array(Float64)",
        }
    }

    /// How ferrotel names the type in errors.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Ty::DateTime64 => "DateTime64(9)",
            Ty::DateTime => "DateTime",
            Ty::Str => "String",
            Ty::U8 => "UInt8",
            Ty::U32 => "UInt32",
            Ty::U64 => "UInt64",
            Ty::I32 => "Int32",
            Ty::F64 => "Float64",
            Ty::Bool => "Bool",
            Ty::Map => "Map(String, String)",
            Ty::ArrDateTime64 => "Array(DateTime64(9))",
            Ty::ArrDateTime => "Array(DateTime)",
            Ty::ArrStr => "Array(String)",
            Ty::ArrMap => "Array(Map(String, String))",
            Ty::ArrU64 => "Array(UInt64)",
            Ty::ArrF64 => "Array(Float64)",
        }
    }
}

/// The `otel_logs` columns ferrotel writes; `EventName` is optional in Go.
pub(crate) const LOG_COLUMNS: &[(&str, Ty)] = &[
    ("Timestamp", Ty::DateTime64),
    ("TraceId", Ty::Str),
    ("SpanId", Ty::Str),
    ("TraceFlags", Ty::U8),
    ("SeverityText", Ty::Str),
    ("SeverityNumber", Ty::U8),
    ("ServiceName", Ty::Str),
    ("Body", Ty::Str),
    ("ResourceSchemaUrl", Ty::Str),
    ("ResourceAttributes", Ty::Map),
    ("ScopeSchemaUrl", Ty::Str),
    ("ScopeName", Ty::Str),
    ("ScopeVersion", Ty::Str),
    ("ScopeAttributes", Ty::Map),
    ("LogAttributes", Ty::Map),
    ("EventName", Ty::Str),
];

/// The `otel_traces` columns.
pub(crate) const SPAN_COLUMNS: &[(&str, Ty)] = &[
    ("Timestamp", Ty::DateTime64),
    ("TraceId", Ty::Str),
    ("SpanId", Ty::Str),
    ("ParentSpanId", Ty::Str),
    ("TraceState", Ty::Str),
    ("SpanName", Ty::Str),
    ("SpanKind", Ty::Str),
    ("ServiceName", Ty::Str),
    ("ResourceAttributes", Ty::Map),
    ("ScopeName", Ty::Str),
    ("ScopeVersion", Ty::Str),
    ("SpanAttributes", Ty::Map),
    ("Duration", Ty::U64),
    ("StatusCode", Ty::Str),
    ("StatusMessage", Ty::Str),
    ("Events.Timestamp", Ty::ArrDateTime64),
    ("Events.Name", Ty::ArrStr),
    ("Events.Attributes", Ty::ArrMap),
    ("Links.TraceId", Ty::ArrStr),
    ("Links.SpanId", Ty::ArrStr),
    ("Links.TraceState", Ty::ArrStr),
    ("Links.Attributes", Ty::ArrMap),
];

const METRIC_COMMON: [(&str, Ty); 14] = [
    ("ResourceAttributes", Ty::Map),
    ("ResourceSchemaUrl", Ty::Str),
    ("ScopeName", Ty::Str),
    ("ScopeVersion", Ty::Str),
    ("ScopeAttributes", Ty::Map),
    ("ScopeDroppedAttrCount", Ty::U32),
    ("ScopeSchemaUrl", Ty::Str),
    ("ServiceName", Ty::Str),
    ("MetricName", Ty::Str),
    ("MetricDescription", Ty::Str),
    ("MetricUnit", Ty::Str),
    ("Attributes", Ty::Map),
    ("StartTimeUnix", Ty::DateTime),
    ("TimeUnix", Ty::DateTime),
];

const EXEMPLARS: [(&str, Ty); 5] = [
    ("Exemplars.FilteredAttributes", Ty::ArrMap),
    ("Exemplars.TimeUnix", Ty::ArrDateTime),
    ("Exemplars.Value", Ty::ArrF64),
    ("Exemplars.SpanId", Ty::ArrStr),
    ("Exemplars.TraceId", Ty::ArrStr),
];

macro_rules! columns {
    ($($part:expr),* $(,)?) => {{
        const N: usize = 0 $(+ $part.len())*;
        const fn build() -> [(&'static str, Ty); N] {
            let mut out = [("", Ty::Str); N];
            let mut i = 0;
            $(
                let part = $part;
                let mut j = 0;
                while j < part.len() {
                    out[i] = part[j];
                    i += 1;
                    j += 1;
                }
            )*
            out
        }
        &build()
    }};
}

/// The columns of each metrics table, in Go's insert order.
pub(crate) const GAUGE_COLUMNS: &[(&str, Ty)] = columns!(
    METRIC_COMMON,
    [("Value", Ty::F64), ("Flags", Ty::U32)],
    EXEMPLARS
);
pub(crate) const SUM_COLUMNS: &[(&str, Ty)] = columns!(
    METRIC_COMMON,
    [("Value", Ty::F64), ("Flags", Ty::U32)],
    EXEMPLARS,
    [
        ("AggregationTemporality", Ty::I32),
        ("IsMonotonic", Ty::Bool)
    ],
);
/// What histograms and exponential histograms end with.
const HISTOGRAM_TAIL: [(&str, Ty); 4] = [
    ("Flags", Ty::U32),
    ("Min", Ty::F64),
    ("Max", Ty::F64),
    ("AggregationTemporality", Ty::I32),
];
pub(crate) const HISTOGRAM_COLUMNS: &[(&str, Ty)] = columns!(
    METRIC_COMMON,
    [
        ("Count", Ty::U64),
        ("Sum", Ty::F64),
        ("BucketCounts", Ty::ArrU64),
        ("ExplicitBounds", Ty::ArrF64),
    ],
    EXEMPLARS,
    HISTOGRAM_TAIL,
);
pub(crate) const EXP_HISTOGRAM_COLUMNS: &[(&str, Ty)] = columns!(
    METRIC_COMMON,
    [
        ("Count", Ty::U64),
        ("Sum", Ty::F64),
        ("Scale", Ty::I32),
        ("ZeroCount", Ty::U64),
        ("PositiveOffset", Ty::I32),
        ("PositiveBucketCounts", Ty::ArrU64),
        ("NegativeOffset", Ty::I32),
        ("NegativeBucketCounts", Ty::ArrU64),
    ],
    EXEMPLARS,
    HISTOGRAM_TAIL,
);
pub(crate) const SUMMARY_COLUMNS: &[(&str, Ty)] = columns!(
    METRIC_COMMON,
    [
        ("Count", Ty::U64),
        ("Sum", Ty::F64),
        ("ValueAtQuantiles.Quantile", Ty::ArrF64),
        ("ValueAtQuantiles.Value", Ty::ArrF64),
        ("Flags", Ty::U32),
    ],
);

/// Reusable buffers for encoding.
#[derive(Default)]
pub(crate) struct Encoder {
    text: String,
    resource_map: Vec<u8>,
    scope_map: Vec<u8>,
}

fn varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn string(out: &mut Vec<u8>, s: &[u8]) {
    varint(out, s.len() as u64);
    out.extend_from_slice(s);
}

fn hex_id(out: &mut Vec<u8>, id: &[u8]) {
    // Go writes "" for an empty (all-zero) id.
    if id.iter().all(|b| *b == 0) {
        out.push(0);
        return;
    }
    hex_always(out, id);
}

fn hex_always(out: &mut Vec<u8>, id: &[u8]) {
    varint(out, id.len() as u64 * 2);
    ferrotel_core::hex::encode_to(out, id);
}

/// An exemplar's id as Go writes it: hex of the fixed-size array, so an
/// absent id is all zeros.
fn exemplar_id(out: &mut Vec<u8>, id: &[u8], size: usize) {
    if id.len() == size {
        hex_always(out, id);
    } else {
        hex_always(out, &[0u8; 16][..size]);
    }
}

fn value_text(text: &mut String, value: Option<&any_value::Value>) {
    text.clear();
    go::as_string(value, text);
}

fn map(out: &mut Vec<u8>, attributes: &[KeyValue], text: &mut String) {
    varint(out, attributes.len() as u64);
    for kv in attributes {
        string(out, kv.key.as_bytes());
        value_text(text, kv.value.as_ref().and_then(|v| v.value.as_ref()));
        string(out, text.as_bytes());
    }
}

fn service_name(resource: Option<&Resource>, text: &mut String) {
    text.clear();
    if let Some(kv) = resource
        .into_iter()
        .flat_map(|r| &r.attributes)
        .find(|kv| kv.key == "service.name")
    {
        go::as_string(kv.value.as_ref().and_then(|v| v.value.as_ref()), text);
    }
}

/// An `Array(T)`: the count, then each element.
fn array<T>(out: &mut Vec<u8>, items: &[T], mut each: impl FnMut(&mut Vec<u8>, &T)) {
    varint(out, items.len() as u64);
    for item in items {
        each(out, item);
    }
}

fn datetime(out: &mut Vec<u8>, nanos: u64) {
    out.extend_from_slice(&((nanos / 1_000_000_000) as u32).to_le_bytes());
}

fn scope_parts(scope: Option<&InstrumentationScope>) -> (&str, &str, &[KeyValue], u32) {
    scope.map_or(("", "", &[], 0), |s| {
        (
            s.name.as_str(),
            s.version.as_str(),
            s.attributes.as_slice(),
            s.dropped_attributes_count,
        )
    })
}

impl Encoder {
    /// Appends a row per log record; returns how many.
    pub(crate) fn logs(
        &mut self,
        resources: &[ResourceLogs],
        columns: &[usize],
        out: &mut Vec<u8>,
    ) -> usize {
        let mut rows = 0;
        let mut service = String::new();
        for r in resources {
            let resource = r.resource.as_ref();
            self.resource_map.clear();
            map(
                &mut self.resource_map,
                resource.map_or(&[], |r| &r.attributes),
                &mut self.text,
            );
            service_name(resource, &mut service);
            for s in &r.scope_logs {
                let (scope_name, scope_version, scope_attrs, _) = scope_parts(s.scope.as_ref());
                self.scope_map.clear();
                map(&mut self.scope_map, scope_attrs, &mut self.text);
                for l in &s.log_records {
                    for &c in columns {
                        match c {
                            0 => {
                                let ts = if l.time_unix_nano == 0 {
                                    l.observed_time_unix_nano
                                } else {
                                    l.time_unix_nano
                                };
                                out.extend_from_slice(&ts.to_le_bytes());
                            }
                            1 => hex_id(out, &l.trace_id),
                            2 => hex_id(out, &l.span_id),
                            3 => out.push(l.flags as u8),
                            4 => string(out, l.severity_text.as_bytes()),
                            5 => out.push(l.severity_number as u8),
                            6 => string(out, service.as_bytes()),
                            7 => {
                                value_text(
                                    &mut self.text,
                                    l.body.as_ref().and_then(|b| b.value.as_ref()),
                                );
                                string(out, self.text.as_bytes());
                            }
                            8 => string(out, r.schema_url.as_bytes()),
                            9 => out.extend_from_slice(&self.resource_map),
                            10 => string(out, s.schema_url.as_bytes()),
                            11 => string(out, scope_name.as_bytes()),
                            12 => string(out, scope_version.as_bytes()),
                            13 => out.extend_from_slice(&self.scope_map),
                            14 => map(out, &l.attributes, &mut self.text),
                            _ => string(out, l.event_name.as_bytes()),
                        }
                    }
                    rows += 1;
                }
            }
        }
        rows
    }

    /// Appends a row per span; returns how many.
    pub(crate) fn spans(
        &mut self,
        resources: &[ResourceSpans],
        columns: &[usize],
        out: &mut Vec<u8>,
    ) -> usize {
        let mut rows = 0;
        let mut service = String::new();
        for r in resources {
            let resource = r.resource.as_ref();
            self.resource_map.clear();
            map(
                &mut self.resource_map,
                resource.map_or(&[], |r| &r.attributes),
                &mut self.text,
            );
            service_name(resource, &mut service);
            for s in &r.scope_spans {
                let (scope_name, scope_version, _, _) = scope_parts(s.scope.as_ref());
                for span in &s.spans {
                    let status = span.status.as_ref();
                    for &c in columns {
                        match c {
                            0 => out.extend_from_slice(&span.start_time_unix_nano.to_le_bytes()),
                            1 => hex_id(out, &span.trace_id),
                            2 => hex_id(out, &span.span_id),
                            3 => hex_id(out, &span.parent_span_id),
                            4 => string(out, span.trace_state.as_bytes()),
                            5 => string(out, span.name.as_bytes()),
                            6 => string(out, span_kind(span.kind).as_bytes()),
                            7 => string(out, service.as_bytes()),
                            8 => out.extend_from_slice(&self.resource_map),
                            9 => string(out, scope_name.as_bytes()),
                            10 => string(out, scope_version.as_bytes()),
                            11 => map(out, &span.attributes, &mut self.text),
                            12 => out.extend_from_slice(
                                &span
                                    .end_time_unix_nano
                                    .wrapping_sub(span.start_time_unix_nano)
                                    .to_le_bytes(),
                            ),
                            13 => string(out, status_code(status.map_or(0, |s| s.code)).as_bytes()),
                            14 => string(out, status.map_or("", |s| &s.message).as_bytes()),
                            15 => array(out, &span.events, |out, e| {
                                out.extend_from_slice(&e.time_unix_nano.to_le_bytes())
                            }),
                            16 => array(out, &span.events, |out, e| string(out, e.name.as_bytes())),
                            17 => array(out, &span.events, |out, e| {
                                map(out, &e.attributes, &mut self.text)
                            }),
                            18 => array(out, &span.links, |out, l| hex_id(out, &l.trace_id)),
                            19 => array(out, &span.links, |out, l| hex_id(out, &l.span_id)),
                            20 => array(out, &span.links, |out, l| {
                                string(out, l.trace_state.as_bytes())
                            }),
                            _ => array(out, &span.links, |out, l| {
                                map(out, &l.attributes, &mut self.text)
                            }),
                        }
                    }
                    rows += 1;
                }
            }
        }
        rows
    }

    /// Appends a row per data point of each metric kind to its buffer
    /// (gauge, sum, histogram, exponential histogram, summary); returns
    /// the counts.
    pub(crate) fn metrics(
        &mut self,
        resources: &[ResourceMetrics],
        columns: &[&[(&str, Ty)]; 5],
        selected: &[Vec<usize>; 5],
        out: &mut [Vec<u8>; 5],
    ) -> [usize; 5] {
        // Column names are resolved once per batch, not per point.
        let cols: [Vec<Col>; 5] = std::array::from_fn(|k| {
            selected[k]
                .iter()
                .map(|&c| Col::of(columns[k][c].0))
                .collect()
        });
        let mut rows = [0; 5];
        let mut service = String::new();
        for r in resources {
            let resource = r.resource.as_ref();
            self.resource_map.clear();
            map(
                &mut self.resource_map,
                resource.map_or(&[], |r| &r.attributes),
                &mut self.text,
            );
            service_name(resource, &mut service);
            for s in &r.scope_metrics {
                let scope = scope_parts(s.scope.as_ref());
                self.scope_map.clear();
                map(&mut self.scope_map, scope.2, &mut self.text);
                for m in &s.metrics {
                    let context = MetricContext {
                        resource_url: &r.schema_url,
                        scope_url: &s.schema_url,
                        scope,
                        service: &service,
                        name: &m.name,
                        description: &m.description,
                        unit: &m.unit,
                    };
                    let mut write = |kind: usize, p: Point<'_>| {
                        for &c in &cols[kind] {
                            self.metric_column(c, &context, &p, &mut out[kind]);
                        }
                        rows[kind] += 1;
                    };
                    match &m.data {
                        Some(metric::Data::Gauge(g)) => {
                            g.data_points.iter().for_each(|p| write(0, Point::Gauge(p)))
                        }
                        Some(metric::Data::Sum(sum)) => sum.data_points.iter().for_each(|p| {
                            write(
                                1,
                                Point::Sum(p, sum.aggregation_temporality, sum.is_monotonic),
                            )
                        }),
                        Some(metric::Data::Histogram(h)) => h
                            .data_points
                            .iter()
                            .for_each(|p| write(2, Point::Histogram(p, h.aggregation_temporality))),
                        Some(metric::Data::ExponentialHistogram(h)) => {
                            h.data_points.iter().for_each(|p| {
                                write(3, Point::Exponential(p, h.aggregation_temporality))
                            })
                        }
                        Some(metric::Data::Summary(sm)) => sm
                            .data_points
                            .iter()
                            .for_each(|p| write(4, Point::Summary(p))),
                        None => {}
                    }
                }
            }
        }
        rows
    }

    fn metric_column(
        &mut self,
        column: Col,
        m: &MetricContext<'_>,
        p: &Point<'_>,
        out: &mut Vec<u8>,
    ) {
        let f64_le = |out: &mut Vec<u8>, v: f64| out.extend_from_slice(&v.to_le_bytes());
        let exponential = match p {
            Point::Exponential(h, _) => Some(*h),
            _ => None,
        };
        let buckets = |positive: bool| {
            exponential.and_then(|h| {
                if positive {
                    h.positive.as_ref()
                } else {
                    h.negative.as_ref()
                }
            })
        };
        match column {
            Col::ResourceAttributes => out.extend_from_slice(&self.resource_map),
            Col::ResourceSchemaUrl => string(out, m.resource_url.as_bytes()),
            Col::ScopeName => string(out, m.scope.0.as_bytes()),
            Col::ScopeVersion => string(out, m.scope.1.as_bytes()),
            Col::ScopeAttributes => out.extend_from_slice(&self.scope_map),
            Col::ScopeDroppedAttrCount => out.extend_from_slice(&m.scope.3.to_le_bytes()),
            Col::ScopeSchemaUrl => string(out, m.scope_url.as_bytes()),
            Col::ServiceName => string(out, m.service.as_bytes()),
            Col::MetricName => string(out, m.name.as_bytes()),
            Col::MetricDescription => string(out, m.description.as_bytes()),
            Col::MetricUnit => string(out, m.unit.as_bytes()),
            Col::Attributes => map(out, p.attributes(), &mut self.text),
            Col::StartTimeUnix => datetime(out, p.times().0),
            Col::TimeUnix => datetime(out, p.times().1),
            Col::Value => f64_le(
                out,
                match p {
                    Point::Gauge(n) | Point::Sum(n, ..) => number_value(n),
                    _ => 0.0,
                },
            ),
            Col::Flags => out.extend_from_slice(&p.flags().to_le_bytes()),
            Col::ExemplarAttributes => array(out, p.exemplars(), |out, e| {
                map(out, &e.filtered_attributes, &mut self.text)
            }),
            Col::ExemplarTime => {
                array(out, p.exemplars(), |out, e| datetime(out, e.time_unix_nano))
            }
            Col::ExemplarValue => array(out, p.exemplars(), |out, e| {
                f64_le(
                    out,
                    match e.value {
                        Some(exemplar::Value::AsDouble(d)) => d,
                        Some(exemplar::Value::AsInt(i)) => i as f64,
                        None => 0.0,
                    },
                )
            }),
            Col::ExemplarSpanId => {
                array(out, p.exemplars(), |out, e| exemplar_id(out, &e.span_id, 8))
            }
            Col::ExemplarTraceId => array(out, p.exemplars(), |out, e| {
                exemplar_id(out, &e.trace_id, 16)
            }),
            Col::AggregationTemporality => {
                let t = match p {
                    Point::Sum(_, t, _) | Point::Histogram(_, t) | Point::Exponential(_, t) => *t,
                    _ => 0,
                };
                out.extend_from_slice(&t.to_le_bytes());
            }
            Col::IsMonotonic => out.push(u8::from(matches!(p, Point::Sum(_, _, true)))),
            Col::Count => {
                let n = match p {
                    Point::Histogram(h, _) => h.count,
                    Point::Exponential(h, _) => h.count,
                    Point::Summary(s) => s.count,
                    _ => 0,
                };
                out.extend_from_slice(&n.to_le_bytes());
            }
            Col::Sum => f64_le(
                out,
                match p {
                    Point::Histogram(h, _) => h.sum.unwrap_or(0.0),
                    Point::Exponential(h, _) => h.sum.unwrap_or(0.0),
                    Point::Summary(s) => s.sum,
                    _ => 0.0,
                },
            ),
            Col::Min | Col::Max => {
                let (min, max) = match p {
                    Point::Histogram(h, _) => (h.min, h.max),
                    Point::Exponential(h, _) => (h.min, h.max),
                    _ => (None, None),
                };
                f64_le(
                    out,
                    if column == Col::Min { min } else { max }.unwrap_or(0.0),
                );
            }
            Col::BucketCounts => {
                let counts = match p {
                    Point::Histogram(h, _) => &h.bucket_counts[..],
                    _ => &[],
                };
                array(out, counts, |out, n| {
                    out.extend_from_slice(&n.to_le_bytes())
                });
            }
            Col::ExplicitBounds => {
                let bounds = match p {
                    Point::Histogram(h, _) => &h.explicit_bounds[..],
                    _ => &[],
                };
                array(out, bounds, |out, b| f64_le(out, *b));
            }
            Col::Scale => out.extend_from_slice(&exponential.map_or(0, |h| h.scale).to_le_bytes()),
            Col::ZeroCount => {
                out.extend_from_slice(&exponential.map_or(0, |h| h.zero_count).to_le_bytes())
            }
            Col::PositiveOffset | Col::NegativeOffset => {
                let b = buckets(column == Col::PositiveOffset);
                out.extend_from_slice(&b.map_or(0, |b| b.offset).to_le_bytes());
            }
            Col::PositiveBucketCounts | Col::NegativeBucketCounts => {
                let b = buckets(column == Col::PositiveBucketCounts);
                let counts = b.map_or(&[][..], |b| &b.bucket_counts);
                array(out, counts, |out, n| {
                    out.extend_from_slice(&n.to_le_bytes())
                });
            }
            Col::Quantile | Col::QuantileValue => {
                let values = match p {
                    Point::Summary(s) => &s.quantile_values[..],
                    _ => &[],
                };
                let quantile = column == Col::Quantile;
                array(out, values, |out, q| {
                    f64_le(out, if quantile { q.quantile } else { q.value })
                });
            }
        }
    }
}

/// A metrics table column, resolved from its name once per batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Col {
    ResourceAttributes,
    ResourceSchemaUrl,
    ScopeName,
    ScopeVersion,
    ScopeAttributes,
    ScopeDroppedAttrCount,
    ScopeSchemaUrl,
    ServiceName,
    MetricName,
    MetricDescription,
    MetricUnit,
    Attributes,
    StartTimeUnix,
    TimeUnix,
    Value,
    Flags,
    ExemplarAttributes,
    ExemplarTime,
    ExemplarValue,
    ExemplarSpanId,
    ExemplarTraceId,
    AggregationTemporality,
    IsMonotonic,
    Count,
    Sum,
    Min,
    Max,
    BucketCounts,
    ExplicitBounds,
    Scale,
    ZeroCount,
    PositiveOffset,
    PositiveBucketCounts,
    NegativeOffset,
    NegativeBucketCounts,
    Quantile,
    QuantileValue,
}

impl Col {
    /// The column of a name in the tables above.
    fn of(name: &str) -> Col {
        match name {
            "ResourceAttributes" => Col::ResourceAttributes,
            "ResourceSchemaUrl" => Col::ResourceSchemaUrl,
            "ScopeName" => Col::ScopeName,
            "ScopeVersion" => Col::ScopeVersion,
            "ScopeAttributes" => Col::ScopeAttributes,
            "ScopeDroppedAttrCount" => Col::ScopeDroppedAttrCount,
            "ScopeSchemaUrl" => Col::ScopeSchemaUrl,
            "ServiceName" => Col::ServiceName,
            "MetricName" => Col::MetricName,
            "MetricDescription" => Col::MetricDescription,
            "MetricUnit" => Col::MetricUnit,
            "Attributes" => Col::Attributes,
            "StartTimeUnix" => Col::StartTimeUnix,
            "TimeUnix" => Col::TimeUnix,
            "Value" => Col::Value,
            "Flags" => Col::Flags,
            "Exemplars.FilteredAttributes" => Col::ExemplarAttributes,
            "Exemplars.TimeUnix" => Col::ExemplarTime,
            "Exemplars.Value" => Col::ExemplarValue,
            "Exemplars.SpanId" => Col::ExemplarSpanId,
            "Exemplars.TraceId" => Col::ExemplarTraceId,
            "AggregationTemporality" => Col::AggregationTemporality,
            "IsMonotonic" => Col::IsMonotonic,
            "Count" => Col::Count,
            "Sum" => Col::Sum,
            "Min" => Col::Min,
            "Max" => Col::Max,
            "BucketCounts" => Col::BucketCounts,
            "ExplicitBounds" => Col::ExplicitBounds,
            "Scale" => Col::Scale,
            "ZeroCount" => Col::ZeroCount,
            "PositiveOffset" => Col::PositiveOffset,
            "PositiveBucketCounts" => Col::PositiveBucketCounts,
            "NegativeOffset" => Col::NegativeOffset,
            "NegativeBucketCounts" => Col::NegativeBucketCounts,
            "ValueAtQuantiles.Quantile" => Col::Quantile,
            "ValueAtQuantiles.Value" => Col::QuantileValue,
            other => unreachable!("no metrics column {other}"),
        }
    }
}

struct MetricContext<'a> {
    resource_url: &'a str,
    scope_url: &'a str,
    scope: (&'a str, &'a str, &'a [KeyValue], u32),
    service: &'a str,
    name: &'a str,
    description: &'a str,
    unit: &'a str,
}

/// A data point of any kind, with what its metric adds.
enum Point<'a> {
    Gauge(&'a NumberDataPoint),
    Sum(&'a NumberDataPoint, i32, bool),
    Histogram(&'a HistogramDataPoint, i32),
    Exponential(&'a ExponentialHistogramDataPoint, i32),
    Summary(&'a SummaryDataPoint),
}

impl Point<'_> {
    fn attributes(&self) -> &[KeyValue] {
        match self {
            Point::Gauge(p) | Point::Sum(p, ..) => &p.attributes,
            Point::Histogram(p, _) => &p.attributes,
            Point::Exponential(p, _) => &p.attributes,
            Point::Summary(p) => &p.attributes,
        }
    }

    fn times(&self) -> (u64, u64) {
        match self {
            Point::Gauge(p) | Point::Sum(p, ..) => (p.start_time_unix_nano, p.time_unix_nano),
            Point::Histogram(p, _) => (p.start_time_unix_nano, p.time_unix_nano),
            Point::Exponential(p, _) => (p.start_time_unix_nano, p.time_unix_nano),
            Point::Summary(p) => (p.start_time_unix_nano, p.time_unix_nano),
        }
    }

    fn flags(&self) -> u32 {
        match self {
            Point::Gauge(p) | Point::Sum(p, ..) => p.flags,
            Point::Histogram(p, _) => p.flags,
            Point::Exponential(p, _) => p.flags,
            Point::Summary(p) => p.flags,
        }
    }

    fn exemplars(&self) -> &[Exemplar] {
        match self {
            Point::Gauge(p) | Point::Sum(p, ..) => &p.exemplars,
            Point::Histogram(p, _) => &p.exemplars,
            Point::Exponential(p, _) => &p.exemplars,
            Point::Summary(_) => &[],
        }
    }
}

fn number_value(p: &NumberDataPoint) -> f64 {
    match p.value {
        Some(number_data_point::Value::AsDouble(d)) => d,
        Some(number_data_point::Value::AsInt(i)) => i as f64,
        None => 0.0,
    }
}

/// `ptrace.SpanKind.String()`.
fn span_kind(kind: i32) -> &'static str {
    match kind {
        0 => "Unspecified",
        1 => "Internal",
        2 => "Server",
        3 => "Client",
        4 => "Producer",
        5 => "Consumer",
        _ => "",
    }
}

/// `ptrace.StatusCode.String()`.
fn status_code(code: i32) -> &'static str {
    match code {
        0 => "Unset",
        1 => "Ok",
        2 => "Error",
        _ => "",
    }
}
