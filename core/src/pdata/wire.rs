//! A validating scan of encoded OTLP export requests that allocates nothing.
//!
//! [`scan`] walks the protobuf wire format with the OTLP schema, checking
//! everything prost's decoder checks (wire types of known fields, lengths,
//! varints, UTF-8 of strings, nesting depth) and counting items (spans,
//! metric data points, log records) on the way. A request that scans is one
//! prost decodes; the differential test below holds it to that. It is the
//! ground for passing requests through without decoding them: a receiver
//! can accept, count and forward the bytes, and decode only when a stage
//! needs the structure.

use super::Signal;

/// Why an encoded request is not a valid OTLP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The buffer ends inside a field.
    #[error("unexpected end of buffer")]
    Truncated,
    /// A varint longer than 10 bytes.
    #[error("invalid varint")]
    Varint,
    /// A wire type that is not allowed where it appears.
    #[error("invalid wire type {0}")]
    WireType(u8),
    /// Field number 0.
    #[error("invalid tag")]
    Tag,
    /// A string field that is not UTF-8.
    #[error("invalid string value: data is not UTF-8 encoded")]
    Utf8,
    /// Messages nested too deep.
    #[error("recursion limit reached")]
    Depth,
    /// A packed field whose length does not fit its element size.
    #[error("invalid packed length")]
    Packed,
}

#[derive(Clone, Copy)]
enum Kind {
    Varint,
    Fixed32,
    Fixed64,
    Str,
    Bytes,
    Message(&'static Schema),
    /// Repeated fixed64 or double: packed or one per field.
    RepeatedFixed64,
    /// Repeated varint: packed or one per field.
    RepeatedVarint,
}

/// Highest field number in the OTLP messages scanned here.
const MAX_FIELD: usize = 16;

struct Schema {
    /// The kind of each known field, indexed by field number.
    fields: [Option<Kind>; MAX_FIELD + 1],
    /// The field whose occurrences are the pipeline's items, if any.
    items: Option<u32>,
}

impl Schema {
    const fn new(fields: &[(u32, Kind)], items: Option<u32>) -> Schema {
        let mut table = [None; MAX_FIELD + 1];
        let mut i = 0;
        while i < fields.len() {
            table[fields[i].0 as usize] = Some(fields[i].1);
            i += 1;
        }
        Schema {
            fields: table,
            items,
        }
    }
}

use Kind::*;

static ANY_VALUE: Schema = Schema::new(
    &[
        (1, Str),
        (2, Varint),
        (3, Varint),
        (4, Fixed64),
        (5, Message(&ARRAY_VALUE)),
        (6, Message(&KEY_VALUE_LIST)),
        (7, Bytes),
        (8, Varint),
    ],
    None,
);
static ARRAY_VALUE: Schema = Schema::new(&[(1, Message(&ANY_VALUE))], None);
static KEY_VALUE_LIST: Schema = Schema::new(&[(1, Message(&KEY_VALUE))], None);
static KEY_VALUE: Schema = Schema::new(&[(1, Str), (2, Message(&ANY_VALUE)), (3, Varint)], None);
static SCOPE: Schema = Schema::new(
    &[(1, Str), (2, Str), (3, Message(&KEY_VALUE)), (4, Varint)],
    None,
);
static ENTITY_REF: Schema = Schema::new(&[(1, Str), (2, Str), (3, Str), (4, Str)], None);
static RESOURCE: Schema = Schema::new(
    &[
        (1, Message(&KEY_VALUE)),
        (2, Varint),
        (3, Message(&ENTITY_REF)),
    ],
    None,
);

static TRACE_REQUEST: Schema = Schema::new(&[(1, Message(&RESOURCE_SPANS))], None);
static RESOURCE_SPANS: Schema = Schema::new(
    &[
        (1, Message(&RESOURCE)),
        (2, Message(&SCOPE_SPANS)),
        (3, Str),
    ],
    None,
);
static SCOPE_SPANS: Schema = Schema::new(
    &[(1, Message(&SCOPE)), (2, Message(&SPAN)), (3, Str)],
    Some(2),
);
static SPAN: Schema = Schema::new(
    &[
        (1, Bytes),
        (2, Bytes),
        (3, Str),
        (4, Bytes),
        (16, Fixed32),
        (5, Str),
        (6, Varint),
        (7, Fixed64),
        (8, Fixed64),
        (9, Message(&KEY_VALUE)),
        (10, Varint),
        (11, Message(&EVENT)),
        (12, Varint),
        (13, Message(&LINK)),
        (14, Varint),
        (15, Message(&STATUS)),
    ],
    None,
);
static EVENT: Schema = Schema::new(
    &[
        (1, Fixed64),
        (2, Str),
        (3, Message(&KEY_VALUE)),
        (4, Varint),
    ],
    None,
);
static LINK: Schema = Schema::new(
    &[
        (1, Bytes),
        (2, Bytes),
        (3, Str),
        (4, Message(&KEY_VALUE)),
        (5, Varint),
        (6, Fixed32),
    ],
    None,
);
static STATUS: Schema = Schema::new(&[(2, Str), (3, Varint)], None);

static LOGS_REQUEST: Schema = Schema::new(&[(1, Message(&RESOURCE_LOGS))], None);
static RESOURCE_LOGS: Schema = Schema::new(
    &[(1, Message(&RESOURCE)), (2, Message(&SCOPE_LOGS)), (3, Str)],
    None,
);
static SCOPE_LOGS: Schema = Schema::new(
    &[(1, Message(&SCOPE)), (2, Message(&LOG_RECORD)), (3, Str)],
    Some(2),
);
static LOG_RECORD: Schema = Schema::new(
    &[
        (1, Fixed64),
        (11, Fixed64),
        (2, Varint),
        (3, Str),
        (5, Message(&ANY_VALUE)),
        (6, Message(&KEY_VALUE)),
        (7, Varint),
        (8, Fixed32),
        (9, Bytes),
        (10, Bytes),
        (12, Str),
    ],
    None,
);

static METRICS_REQUEST: Schema = Schema::new(&[(1, Message(&RESOURCE_METRICS))], None);
static RESOURCE_METRICS: Schema = Schema::new(
    &[
        (1, Message(&RESOURCE)),
        (2, Message(&SCOPE_METRICS)),
        (3, Str),
    ],
    None,
);
static SCOPE_METRICS: Schema = Schema::new(
    &[(1, Message(&SCOPE)), (2, Message(&METRIC)), (3, Str)],
    None,
);
static METRIC: Schema = Schema::new(
    &[
        (1, Str),
        (2, Str),
        (3, Str),
        (12, Message(&KEY_VALUE)),
        (5, Message(&GAUGE)),
        (7, Message(&SUM)),
        (9, Message(&HISTOGRAM)),
        (10, Message(&EXP_HISTOGRAM)),
        (11, Message(&SUMMARY)),
    ],
    None,
);
static GAUGE: Schema = Schema::new(&[(1, Message(&NUMBER_POINT))], Some(1));
static SUM: Schema = Schema::new(
    &[(1, Message(&NUMBER_POINT)), (2, Varint), (3, Varint)],
    Some(1),
);
static HISTOGRAM: Schema = Schema::new(&[(1, Message(&HISTOGRAM_POINT)), (2, Varint)], Some(1));
static EXP_HISTOGRAM: Schema =
    Schema::new(&[(1, Message(&EXP_HISTOGRAM_POINT)), (2, Varint)], Some(1));
static SUMMARY: Schema = Schema::new(&[(1, Message(&SUMMARY_POINT))], Some(1));
static NUMBER_POINT: Schema = Schema::new(
    &[
        (7, Message(&KEY_VALUE)),
        (2, Fixed64),
        (3, Fixed64),
        (4, Fixed64),
        (6, Fixed64),
        (5, Message(&EXEMPLAR)),
        (8, Varint),
    ],
    None,
);
static HISTOGRAM_POINT: Schema = Schema::new(
    &[
        (9, Message(&KEY_VALUE)),
        (2, Fixed64),
        (3, Fixed64),
        (4, Fixed64),
        (5, Fixed64),
        (6, RepeatedFixed64),
        (7, RepeatedFixed64),
        (8, Message(&EXEMPLAR)),
        (10, Varint),
        (11, Fixed64),
        (12, Fixed64),
    ],
    None,
);
static EXP_HISTOGRAM_POINT: Schema = Schema::new(
    &[
        (1, Message(&KEY_VALUE)),
        (2, Fixed64),
        (3, Fixed64),
        (4, Fixed64),
        (5, Fixed64),
        (6, Varint),
        (7, Fixed64),
        (8, Message(&BUCKETS)),
        (9, Message(&BUCKETS)),
        (10, Varint),
        (11, Message(&EXEMPLAR)),
        (12, Fixed64),
        (13, Fixed64),
        (14, Fixed64),
    ],
    None,
);
static BUCKETS: Schema = Schema::new(&[(1, Varint), (2, RepeatedVarint)], None);
static SUMMARY_POINT: Schema = Schema::new(
    &[
        (7, Message(&KEY_VALUE)),
        (2, Fixed64),
        (3, Fixed64),
        (4, Fixed64),
        (5, Fixed64),
        (6, Message(&QUANTILE)),
        (8, Varint),
    ],
    None,
);
static QUANTILE: Schema = Schema::new(&[(1, Fixed64), (2, Fixed64)], None);
static EXEMPLAR: Schema = Schema::new(
    &[
        (7, Message(&KEY_VALUE)),
        (2, Fixed64),
        (3, Fixed64),
        (6, Fixed64),
        (4, Bytes),
        (5, Bytes),
    ],
    None,
);

// Profiles, `v1development` as Go v0.165 speaks it (pdata v1.71,
// go.opentelemetry.io/proto/slim/otlp v0.4.1); samples are the items.
static PROFILES_REQUEST: Schema = Schema::new(
    &[
        (1, Message(&RESOURCE_PROFILES)),
        (2, Message(&PROFILES_DICTIONARY)),
    ],
    None,
);
static RESOURCE_PROFILES: Schema = Schema::new(
    &[
        (1, Message(&RESOURCE)),
        (2, Message(&SCOPE_PROFILES)),
        (3, Str),
    ],
    None,
);
static SCOPE_PROFILES: Schema = Schema::new(
    &[(1, Message(&SCOPE)), (2, Message(&PROFILE)), (3, Str)],
    None,
);
static PROFILE: Schema = Schema::new(
    &[
        (1, Message(&VALUE_TYPE)),
        (2, Message(&SAMPLE)),
        (3, Fixed64),
        (4, Varint),
        (5, Message(&VALUE_TYPE)),
        (6, Varint),
        (7, Bytes),
        (8, Varint),
        (9, Str),
        (10, Bytes),
        (11, RepeatedVarint),
    ],
    Some(2),
);
static SAMPLE: Schema = Schema::new(
    &[
        (1, Varint),
        (2, RepeatedVarint),
        (3, Varint),
        (4, RepeatedVarint),
        (5, RepeatedFixed64),
    ],
    None,
);
static VALUE_TYPE: Schema = Schema::new(&[(1, Varint), (2, Varint)], None);
static PROFILES_DICTIONARY: Schema = Schema::new(
    &[
        (1, Message(&MAPPING)),
        (2, Message(&LOCATION)),
        (3, Message(&FUNCTION)),
        (4, Message(&PROFILE_LINK)),
        (5, Str),
        (6, Message(&KEY_VALUE_AND_UNIT)),
        (7, Message(&STACK)),
    ],
    None,
);
static MAPPING: Schema = Schema::new(
    &[
        (1, Varint),
        (2, Varint),
        (3, Varint),
        (4, Varint),
        (5, RepeatedVarint),
    ],
    None,
);
static LOCATION: Schema = Schema::new(
    &[
        (1, Varint),
        (2, Varint),
        (3, Message(&LINE)),
        (4, RepeatedVarint),
    ],
    None,
);
static LINE: Schema = Schema::new(&[(1, Varint), (2, Varint), (3, Varint)], None);
static FUNCTION: Schema = Schema::new(&[(1, Varint), (2, Varint), (3, Varint), (4, Varint)], None);
static PROFILE_LINK: Schema = Schema::new(&[(1, Bytes), (2, Bytes)], None);
static KEY_VALUE_AND_UNIT: Schema =
    Schema::new(&[(1, Varint), (2, Message(&ANY_VALUE)), (3, Varint)], None);
static STACK: Schema = Schema::new(&[(1, RepeatedVarint)], None);

/// prost's default recursion limit.
const MAX_DEPTH: u32 = 100;

/// Validates an encoded export request of `signal` and counts its items.
pub fn scan(signal: Signal, buf: &[u8]) -> Result<usize, WireError> {
    let schema = match signal {
        Signal::Traces => &TRACE_REQUEST,
        Signal::Metrics => &METRICS_REQUEST,
        Signal::Logs => &LOGS_REQUEST,
        Signal::Profiles => &PROFILES_REQUEST,
    };
    let mut items = 0;
    scan_message(buf, schema, 0, &mut items)?;
    Ok(items)
}

/// How many times a length-delimited `field` occurs at the top level of a
/// scanned message (e.g. the resource groups of a request).
pub(crate) fn count_top_level(buf: &[u8], field: u32) -> usize {
    let mut pos = 0;
    let mut count = 0;
    while pos < buf.len() {
        let Ok(key) = varint(buf, &mut pos) else {
            break;
        };
        let skipped = match key & 7 {
            0 => varint(buf, &mut pos).map(|_| ()),
            1 => take(buf, &mut pos, 8).map(|_| ()),
            5 => take(buf, &mut pos, 4).map(|_| ()),
            2 => {
                if key >> 3 == u64::from(field) {
                    count += 1;
                }
                varint(buf, &mut pos).and_then(|len| take(buf, &mut pos, len as usize).map(|_| ()))
            }
            other => Err(WireError::WireType(other as u8)),
        };
        if skipped.is_err() {
            break;
        }
    }
    count
}

#[inline]
fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    // Tags and most lengths fit in one byte.
    if let Some(&byte) = buf.get(*pos)
        && byte < 0x80
    {
        *pos += 1;
        return Ok(u64::from(byte));
    }
    varint_slow(buf, pos)
}

fn varint_slow(buf: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    let mut value = 0u64;
    for shift in 0..10 {
        let byte = *buf.get(*pos).ok_or(WireError::Truncated)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << (shift * 7);
        if byte < 0x80 {
            // The tenth byte may only carry the top bit of a u64.
            if shift == 9 && byte > 1 {
                return Err(WireError::Varint);
            }
            return Ok(value);
        }
    }
    Err(WireError::Varint)
}

#[inline]
fn take<'a>(buf: &'a [u8], pos: &mut usize, len: usize) -> Result<&'a [u8], WireError> {
    let end = pos
        .checked_add(len)
        .filter(|end| *end <= buf.len())
        .ok_or(WireError::Truncated)?;
    let slice = &buf[*pos..end];
    *pos = end;
    Ok(slice)
}

fn scan_message(
    buf: &[u8],
    schema: &Schema,
    depth: u32,
    items: &mut usize,
) -> Result<(), WireError> {
    if depth > MAX_DEPTH {
        return Err(WireError::Depth);
    }
    let mut pos = 0;
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        if key > u64::from(u32::MAX) {
            return Err(WireError::Varint);
        }
        let wire_type = (key & 7) as u8;
        let field = (key >> 3) as u32;
        if field == 0 {
            return Err(WireError::Tag);
        }
        let kind = schema.fields.get(field as usize).copied().flatten();
        if schema.items == Some(field) {
            *items += 1;
        }
        match (kind, wire_type) {
            (Some(Varint | RepeatedVarint) | None, 0) => {
                varint(buf, &mut pos)?;
            }
            (Some(Fixed64 | RepeatedFixed64) | None, 1) => {
                take(buf, &mut pos, 8)?;
            }
            (Some(Fixed32) | None, 5) => {
                take(buf, &mut pos, 4)?;
            }
            (_, 2) => {
                let len =
                    usize::try_from(varint(buf, &mut pos)?).map_err(|_| WireError::Truncated)?;
                let body = take(buf, &mut pos, len)?;
                match kind {
                    // ASCII is checked a word at a time; the full UTF-8
                    // check runs only on strings with other bytes.
                    Some(Str) if !body.is_ascii() => {
                        std::str::from_utf8(body).map_err(|_| WireError::Utf8)?;
                    }
                    Some(Str) => {}
                    Some(Message(inner)) => scan_message(body, inner, depth + 1, items)?,
                    Some(RepeatedFixed64) if body.len() % 8 != 0 => return Err(WireError::Packed),
                    Some(RepeatedVarint) => {
                        let mut p = 0;
                        while p < body.len() {
                            varint(body, &mut p)?;
                        }
                    }
                    Some(Bytes | RepeatedFixed64) | None => {}
                    Some(Varint | Fixed32 | Fixed64) => return Err(WireError::WireType(2)),
                }
            }
            (None, 3 | 4) | (_, 6 | 7) => return Err(WireError::WireType(wire_type)),
            (_, other) => return Err(WireError::WireType(other)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdata::{Telemetry, common, logs, metrics, trace};

    fn kv(k: &str, v: common::any_value::Value) -> common::KeyValue {
        common::KeyValue {
            key: k.into(),
            value: Some(common::AnyValue { value: Some(v) }),
            ..Default::default()
        }
    }

    fn attrs() -> Vec<common::KeyValue> {
        use common::any_value::Value as V;
        vec![
            kv("s", V::StringValue("ü".into())),
            kv("i", V::IntValue(-5)),
            kv("d", V::DoubleValue(0.5)),
            kv("b", V::BytesValue(vec![1, 2])),
            kv(
                "a",
                V::ArrayValue(common::ArrayValue {
                    values: vec![common::AnyValue {
                        value: Some(V::BoolValue(true)),
                    }],
                }),
            ),
            kv(
                "m",
                V::KvlistValue(common::KeyValueList {
                    values: vec![kv("x", V::IntValue(1))],
                }),
            ),
        ]
    }

    fn samples() -> Vec<Telemetry> {
        use metrics::metric::Data;
        let span = trace::Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            name: "op".into(),
            flags: 1,
            kind: 2,
            start_time_unix_nano: 5,
            attributes: attrs(),
            events: vec![trace::span::Event {
                name: "e".into(),
                attributes: attrs(),
                ..Default::default()
            }],
            links: vec![trace::span::Link {
                trace_id: vec![3; 16],
                flags: 1,
                ..Default::default()
            }],
            status: Some(trace::Status {
                message: "m".into(),
                code: 2,
            }),
            ..Default::default()
        };
        let point = metrics::NumberDataPoint {
            attributes: attrs(),
            value: Some(metrics::number_data_point::Value::AsInt(-3)),
            exemplars: vec![metrics::Exemplar {
                trace_id: vec![1; 16],
                value: Some(metrics::exemplar::Value::AsDouble(1.0)),
                ..Default::default()
            }],
            ..Default::default()
        };
        let metric = |data| metrics::Metric {
            name: "m".into(),
            data: Some(data),
            ..Default::default()
        };
        vec![
            Telemetry::Traces(vec![trace::ResourceSpans {
                scope_spans: vec![trace::ScopeSpans {
                    spans: vec![span.clone(), span.clone(), span],
                    ..Default::default()
                }],
                ..Default::default()
            }]),
            Telemetry::Logs(vec![logs::ResourceLogs {
                scope_logs: vec![logs::ScopeLogs {
                    log_records: vec![
                        logs::LogRecord {
                            body: Some(common::AnyValue {
                                value: Some(common::any_value::Value::StringValue("x".into()))
                            }),
                            attributes: attrs(),
                            flags: 1,
                            ..Default::default()
                        };
                        4
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }]),
            Telemetry::Metrics(vec![metrics::ResourceMetrics {
                scope_metrics: vec![metrics::ScopeMetrics {
                    metrics: vec![
                        metric(Data::Gauge(metrics::Gauge {
                            data_points: vec![point.clone(), point.clone()],
                        })),
                        metric(Data::Sum(metrics::Sum {
                            data_points: vec![point],
                            aggregation_temporality: 2,
                            is_monotonic: true,
                        })),
                        metric(Data::Histogram(metrics::Histogram {
                            data_points: vec![metrics::HistogramDataPoint {
                                bucket_counts: vec![1, 2],
                                explicit_bounds: vec![0.5],
                                sum: Some(1.0),
                                ..Default::default()
                            }],
                            aggregation_temporality: 1,
                        })),
                        metric(Data::ExponentialHistogram(metrics::ExponentialHistogram {
                            data_points: vec![metrics::ExponentialHistogramDataPoint {
                                scale: -2,
                                positive: Some(
                                    metrics::exponential_histogram_data_point::Buckets {
                                        offset: -1,
                                        bucket_counts: vec![300, 1],
                                    },
                                ),
                                ..Default::default()
                            }],
                            aggregation_temporality: 2,
                        })),
                        metric(Data::Summary(metrics::Summary {
                            data_points: vec![metrics::SummaryDataPoint {
                                quantile_values: vec![
                                    metrics::summary_data_point::ValueAtQuantile {
                                        quantile: 0.5,
                                        value: 1.0,
                                    },
                                ],
                                ..Default::default()
                            }],
                        })),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }]),
        ]
    }

    #[test]
    fn counts_match_decoded_counts() {
        for t in samples() {
            let bytes = t.encode_request();
            assert_eq!(
                scan(t.signal(), &bytes),
                Ok(t.item_count()),
                "{:?}",
                t.signal()
            );
        }
    }

    /// Differential test against prost: random byte flips, truncations and
    /// insertions must be accepted by the scan exactly when prost decodes
    /// them, and counted the same.
    #[test]
    fn scan_agrees_with_prost_on_mutated_input() {
        let mut rng = fastrand::Rng::with_seed(7);
        for t in samples() {
            let signal = t.signal();
            let original = t.encode_request();
            let (mut valid, mut invalid) = (0, 0);
            for _ in 0..20_000 {
                let mut bytes = original.clone();
                for _ in 0..rng.usize(1..4) {
                    match rng.u8(0..3) {
                        0 if !bytes.is_empty() => {
                            let i = rng.usize(0..bytes.len());
                            bytes[i] = rng.u8(..);
                        }
                        1 if !bytes.is_empty() => {
                            let len = rng.usize(0..bytes.len());
                            bytes.truncate(len);
                        }
                        _ => {
                            let i = rng.usize(0..=bytes.len());
                            bytes.insert(i, rng.u8(..));
                        }
                    }
                }
                let decoded = Telemetry::decode_request(signal, &bytes);
                let scanned = scan(signal, &bytes);
                match (&decoded, &scanned) {
                    (Ok(d), Ok(n)) => {
                        valid += 1;
                        assert_eq!(d.item_count(), *n, "{signal} count on {bytes:02x?}");
                    }
                    (Err(_), Err(_)) => invalid += 1,
                    _ => panic!(
                        "{signal}: prost {:?} vs scan {scanned:?} on {bytes:02x?}",
                        decoded.as_ref().map(|d| d.item_count())
                    ),
                }
            }
            // Both outcomes must be well represented for the test to mean anything.
            assert!(
                valid > 500 && invalid > 500,
                "{signal}: {valid} valid, {invalid} invalid"
            );
        }
    }

    /// A profiles request shaped like a profiler's, with the dictionary.
    fn profiles_request() -> Vec<u8> {
        use opentelemetry_proto::tonic::collector::profiles::v1development::ExportProfilesServiceRequest;
        use opentelemetry_proto::tonic::profiles::v1development as p;
        use prost::Message;
        let sample = |stack: i32| p::Sample {
            stack_index: stack,
            values: vec![10, 20],
            timestamps_unix_nano: vec![5],
            attribute_indices: vec![1],
            ..Default::default()
        };
        ExportProfilesServiceRequest {
            resource_profiles: vec![p::ResourceProfiles {
                resource: Some(crate::pdata::resource::Resource {
                    attributes: attrs(),
                    ..Default::default()
                }),
                scope_profiles: vec![p::ScopeProfiles {
                    profiles: vec![p::Profile {
                        sample_type: Some(p::ValueType {
                            type_strindex: 1,
                            unit_strindex: 2,
                        }),
                        samples: vec![sample(1), sample(2), sample(1)],
                        profile_id: vec![1; 16],
                        attribute_indices: vec![1, 2],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            dictionary: Some(p::ProfilesDictionary {
                string_table: vec!["".into(), "cpu".into(), "ns".into(), "ü".into()],
                function_table: vec![p::Function {
                    name_strindex: 3,
                    ..Default::default()
                }],
                location_table: vec![p::Location {
                    address: 4096,
                    lines: vec![p::Line {
                        function_index: 0,
                        line: 7,
                        column: 1,
                    }],
                    ..Default::default()
                }],
                stack_table: vec![p::Stack {
                    location_indices: vec![0, 0],
                }],
                mapping_table: vec![p::Mapping {
                    memory_start: 1,
                    memory_limit: 2,
                    ..Default::default()
                }],
                link_table: vec![p::Link {
                    trace_id: vec![1; 16],
                    span_id: vec![2; 8],
                }],
                attribute_table: vec![p::KeyValueAndUnit {
                    key_strindex: 1,
                    value: Some(common::AnyValue {
                        value: Some(common::any_value::Value::StringValueStrindex(3)),
                    }),
                    unit_strindex: 2,
                }],
            }),
        }
        .encode_to_vec()
    }

    /// The profiles scan accepts what prost decodes and counts samples, on
    /// mutated input as above.
    #[test]
    fn profiles_scan_agrees_with_prost() {
        use opentelemetry_proto::tonic::collector::profiles::v1development::ExportProfilesServiceRequest;
        use prost::Message;
        let samples = |r: &ExportProfilesServiceRequest| -> usize {
            r.resource_profiles
                .iter()
                .flat_map(|r| &r.scope_profiles)
                .flat_map(|s| &s.profiles)
                .map(|p| p.samples.len())
                .sum()
        };
        let original = profiles_request();
        assert_eq!(scan(Signal::Profiles, &original), Ok(3));
        let mut rng = fastrand::Rng::with_seed(11);
        let (mut valid, mut invalid) = (0, 0);
        for _ in 0..20_000 {
            let mut bytes = original.clone();
            let i = rng.usize(0..bytes.len());
            match rng.u8(0..3) {
                0 => bytes[i] = rng.u8(..),
                1 => bytes.truncate(i),
                _ => bytes.insert(i, rng.u8(..)),
            }
            match (
                ExportProfilesServiceRequest::decode(&bytes[..]),
                scan(Signal::Profiles, &bytes),
            ) {
                (Ok(d), Ok(n)) => {
                    valid += 1;
                    assert_eq!(samples(&d), n, "count on {bytes:02x?}");
                }
                (Err(_), Err(_)) => invalid += 1,
                (d, s) => panic!(
                    "prost {:?} vs scan {s:?} on {bytes:02x?}",
                    d.map(|d| samples(&d))
                ),
            }
        }
        assert!(
            valid > 500 && invalid > 500,
            "{valid} valid, {invalid} invalid"
        );
    }
}
