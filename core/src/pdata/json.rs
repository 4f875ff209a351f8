//! OTLP/JSON, written for this project rather than derived.
//!
//! The encoding follows the OTLP specification's JSON mapping: lowerCamelCase
//! field names, trace and span ids as lowercase hex, 64-bit integers as
//! strings, enums as integers, default values left out. The decoder is
//! lenient where protobuf JSON allows it: it accepts the original
//! snake_case field names, 64-bit integers as strings or numbers, enum names
//! as well as numbers, and `"NaN"`/`"Infinity"` doubles. Unknown fields are
//! ignored, as the Go collector does.

use super::{Telemetry, common, logs, metrics, resource, trace};
use serde_json::{Map, Value};
use std::fmt::Write;

/// Input that is not valid OTLP/JSON.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(String);

fn err<T>(msg: impl Into<String>) -> Result<T, JsonError> {
    Err(JsonError(msg.into()))
}

// ---------------------------------------------------------------- encoding

/// Encodes a batch as an OTLP/JSON export request.
pub fn encode_json(t: &Telemetry) -> String {
    let mut out = String::with_capacity(t.encoded_len() * 2 + 32);
    let mut o = Obj::open(&mut out);
    match t {
        Telemetry::Traces(r) => o.arr("resourceSpans", r, resource_spans),
        Telemetry::Metrics(r) => o.arr("resourceMetrics", r, resource_metrics),
        Telemetry::Logs(r) => o.arr("resourceLogs", r, resource_logs),
        // Profiles are never decoded (see `Profiles`), so there is nothing
        // to write them from: components that could encode them as JSON
        // refuse the profiles signal, or the JSON encoding, when created.
        Telemetry::Profiles(_) => {}
    }
    o.close();
    out
}

/// Writes one JSON object, keeping track of the commas.
struct Obj<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Obj<'a> {
    fn open(out: &'a mut String) -> Obj<'a> {
        out.push('{');
        Obj { out, first: true }
    }

    fn close(self) {
        self.out.push('}');
    }

    fn key(&mut self, name: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push('"');
        self.out.push_str(name);
        self.out.push_str("\":");
    }

    fn str(&mut self, name: &str, v: &str) {
        if !v.is_empty() {
            self.key(name);
            write_str(self.out, v);
        }
    }

    fn hex(&mut self, name: &str, v: &[u8]) {
        if !v.is_empty() {
            self.key(name);
            self.out.push('"');
            crate::hex::push_str(self.out, v);
            self.out.push('"');
        }
    }

    fn u64(&mut self, name: &str, v: u64) {
        if v != 0 {
            self.key(name);
            let _ = write!(self.out, "\"{v}\"");
        }
    }

    fn int(&mut self, name: &str, v: i64) {
        if v != 0 {
            self.key(name);
            let _ = write!(self.out, "{v}");
        }
    }

    fn f64(&mut self, name: &str, v: f64) {
        if v != 0.0 {
            self.f64_always(name, v);
        }
    }

    fn f64_always(&mut self, name: &str, v: f64) {
        self.key(name);
        write_f64(self.out, v);
    }

    fn bool(&mut self, name: &str, v: bool) {
        if v {
            self.key(name);
            self.out.push_str("true");
        }
    }

    fn arr<T>(&mut self, name: &str, items: &[T], mut each: impl FnMut(&mut String, &T)) {
        if items.is_empty() {
            return;
        }
        self.key(name);
        self.out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            each(self.out, item);
        }
        self.out.push(']');
    }

    fn obj<T>(&mut self, name: &str, item: Option<&T>, each: impl FnOnce(&mut String, &T)) {
        if let Some(item) = item {
            self.key(name);
            each(self.out, item);
        }
    }

    /// Resource, scope and span status are always written, `{}` when
    /// absent, as the Go collector writes them.
    fn always_obj<T: Default>(
        &mut self,
        name: &str,
        item: Option<&T>,
        each: impl FnOnce(&mut String, &T),
    ) {
        self.key(name);
        match item {
            Some(item) => each(self.out, item),
            None => each(self.out, &T::default()),
        }
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push_str(esc);
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
}

fn write_f64(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("\"NaN\"");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 {
            "\"Infinity\""
        } else {
            "\"-Infinity\""
        });
    } else {
        let _ = write!(out, "{v}");
    }
}

fn any_value(out: &mut String, v: &common::AnyValue) {
    use common::any_value::Value as V;
    let mut o = Obj::open(out);
    match &v.value {
        Some(V::StringValue(s)) => {
            o.key("stringValue");
            write_str(o.out, s);
        }
        Some(V::BoolValue(b)) => {
            o.key("boolValue");
            o.out.push_str(if *b { "true" } else { "false" });
        }
        Some(V::IntValue(i)) => {
            o.key("intValue");
            let _ = write!(o.out, "\"{i}\"");
        }
        Some(V::DoubleValue(d)) => o.f64_always("doubleValue", *d),
        Some(V::ArrayValue(a)) => {
            o.key("arrayValue");
            let mut inner = Obj::open(o.out);
            inner.arr("values", &a.values, any_value);
            inner.close();
        }
        Some(V::KvlistValue(kv)) => {
            o.key("kvlistValue");
            let mut inner = Obj::open(o.out);
            inner.arr("values", &kv.values, key_value);
            inner.close();
        }
        Some(V::BytesValue(b)) => {
            use base64::Engine;
            o.key("bytesValue");
            write_str(o.out, &base64::engine::general_purpose::STANDARD.encode(b));
        }
        Some(V::StringValueStrindex(i)) => o.int("stringValueStrindex", i64::from(*i)),
        None => {}
    }
    o.close();
}

fn key_value(out: &mut String, kv: &common::KeyValue) {
    let mut o = Obj::open(out);
    o.str("key", &kv.key);
    o.obj("value", kv.value.as_ref(), any_value);
    o.close();
}

fn resource_obj(out: &mut String, r: &resource::Resource) {
    let mut o = Obj::open(out);
    o.arr("attributes", &r.attributes, key_value);
    o.int(
        "droppedAttributesCount",
        i64::from(r.dropped_attributes_count),
    );
    o.close();
}

fn scope_obj(out: &mut String, s: &common::InstrumentationScope) {
    let mut o = Obj::open(out);
    o.str("name", &s.name);
    o.str("version", &s.version);
    o.arr("attributes", &s.attributes, key_value);
    o.int(
        "droppedAttributesCount",
        i64::from(s.dropped_attributes_count),
    );
    o.close();
}

fn resource_spans(out: &mut String, r: &trace::ResourceSpans) {
    let mut o = Obj::open(out);
    o.always_obj("resource", r.resource.as_ref(), resource_obj);
    o.arr("scopeSpans", &r.scope_spans, |out, s| {
        let mut o = Obj::open(out);
        o.always_obj("scope", s.scope.as_ref(), scope_obj);
        o.arr("spans", &s.spans, span);
        o.str("schemaUrl", &s.schema_url);
        o.close();
    });
    o.str("schemaUrl", &r.schema_url);
    o.close();
}

fn span(out: &mut String, s: &trace::Span) {
    let mut o = Obj::open(out);
    o.hex("traceId", &s.trace_id);
    o.hex("spanId", &s.span_id);
    o.str("traceState", &s.trace_state);
    o.hex("parentSpanId", &s.parent_span_id);
    o.int("flags", i64::from(s.flags));
    o.str("name", &s.name);
    o.int("kind", i64::from(s.kind));
    o.u64("startTimeUnixNano", s.start_time_unix_nano);
    o.u64("endTimeUnixNano", s.end_time_unix_nano);
    o.arr("attributes", &s.attributes, key_value);
    o.int(
        "droppedAttributesCount",
        i64::from(s.dropped_attributes_count),
    );
    o.arr("events", &s.events, |out, e| {
        let mut o = Obj::open(out);
        o.u64("timeUnixNano", e.time_unix_nano);
        o.str("name", &e.name);
        o.arr("attributes", &e.attributes, key_value);
        o.int(
            "droppedAttributesCount",
            i64::from(e.dropped_attributes_count),
        );
        o.close();
    });
    o.int("droppedEventsCount", i64::from(s.dropped_events_count));
    o.arr("links", &s.links, |out, l| {
        let mut o = Obj::open(out);
        o.hex("traceId", &l.trace_id);
        o.hex("spanId", &l.span_id);
        o.str("traceState", &l.trace_state);
        o.arr("attributes", &l.attributes, key_value);
        o.int(
            "droppedAttributesCount",
            i64::from(l.dropped_attributes_count),
        );
        o.int("flags", i64::from(l.flags));
        o.close();
    });
    o.int("droppedLinksCount", i64::from(s.dropped_links_count));
    o.always_obj("status", s.status.as_ref(), |out, st: &trace::Status| {
        let mut o = Obj::open(out);
        o.str("message", &st.message);
        o.int("code", i64::from(st.code));
        o.close();
    });
    o.close();
}

fn resource_logs(out: &mut String, r: &logs::ResourceLogs) {
    let mut o = Obj::open(out);
    o.always_obj("resource", r.resource.as_ref(), resource_obj);
    o.arr("scopeLogs", &r.scope_logs, |out, s| {
        let mut o = Obj::open(out);
        o.always_obj("scope", s.scope.as_ref(), scope_obj);
        o.arr("logRecords", &s.log_records, log_record);
        o.str("schemaUrl", &s.schema_url);
        o.close();
    });
    o.str("schemaUrl", &r.schema_url);
    o.close();
}

fn log_record(out: &mut String, l: &logs::LogRecord) {
    let mut o = Obj::open(out);
    o.u64("timeUnixNano", l.time_unix_nano);
    o.u64("observedTimeUnixNano", l.observed_time_unix_nano);
    o.int("severityNumber", i64::from(l.severity_number));
    o.str("severityText", &l.severity_text);
    o.obj("body", l.body.as_ref(), any_value);
    o.arr("attributes", &l.attributes, key_value);
    o.int(
        "droppedAttributesCount",
        i64::from(l.dropped_attributes_count),
    );
    o.int("flags", i64::from(l.flags));
    o.hex("traceId", &l.trace_id);
    o.hex("spanId", &l.span_id);
    o.str("eventName", &l.event_name);
    o.close();
}

fn resource_metrics(out: &mut String, r: &metrics::ResourceMetrics) {
    let mut o = Obj::open(out);
    o.always_obj("resource", r.resource.as_ref(), resource_obj);
    o.arr("scopeMetrics", &r.scope_metrics, |out, s| {
        let mut o = Obj::open(out);
        o.always_obj("scope", s.scope.as_ref(), scope_obj);
        o.arr("metrics", &s.metrics, metric);
        o.str("schemaUrl", &s.schema_url);
        o.close();
    });
    o.str("schemaUrl", &r.schema_url);
    o.close();
}

fn metric(out: &mut String, m: &metrics::Metric) {
    use metrics::metric::Data;
    let mut o = Obj::open(out);
    o.str("name", &m.name);
    o.str("description", &m.description);
    o.str("unit", &m.unit);
    o.arr("metadata", &m.metadata, key_value);
    match &m.data {
        Some(Data::Gauge(g)) => o.obj("gauge", Some(g), |out, g| {
            let mut o = Obj::open(out);
            o.arr("dataPoints", &g.data_points, number_point);
            o.close();
        }),
        Some(Data::Sum(s)) => o.obj("sum", Some(s), |out, s| {
            let mut o = Obj::open(out);
            o.arr("dataPoints", &s.data_points, number_point);
            o.int(
                "aggregationTemporality",
                i64::from(s.aggregation_temporality),
            );
            o.bool("isMonotonic", s.is_monotonic);
            o.close();
        }),
        Some(Data::Histogram(h)) => o.obj("histogram", Some(h), |out, h| {
            let mut o = Obj::open(out);
            o.arr("dataPoints", &h.data_points, histogram_point);
            o.int(
                "aggregationTemporality",
                i64::from(h.aggregation_temporality),
            );
            o.close();
        }),
        Some(Data::ExponentialHistogram(h)) => o.obj("exponentialHistogram", Some(h), |out, h| {
            let mut o = Obj::open(out);
            o.arr("dataPoints", &h.data_points, exp_histogram_point);
            o.int(
                "aggregationTemporality",
                i64::from(h.aggregation_temporality),
            );
            o.close();
        }),
        Some(Data::Summary(s)) => o.obj("summary", Some(s), |out, s| {
            let mut o = Obj::open(out);
            o.arr("dataPoints", &s.data_points, summary_point);
            o.close();
        }),
        None => {}
    }
    o.close();
}

fn point_times(o: &mut Obj<'_>, attributes: &[common::KeyValue], start: u64, time: u64) {
    o.arr("attributes", attributes, key_value);
    o.u64("startTimeUnixNano", start);
    o.u64("timeUnixNano", time);
}

fn optional_f64(o: &mut Obj<'_>, name: &str, v: Option<f64>) {
    if let Some(v) = v {
        o.f64_always(name, v);
    }
}

fn u64_list(out: &mut String, v: &u64) {
    let _ = write!(out, "\"{v}\"");
}

fn number_point(out: &mut String, p: &metrics::NumberDataPoint) {
    use metrics::number_data_point::Value;
    let mut o = Obj::open(out);
    point_times(
        &mut o,
        &p.attributes,
        p.start_time_unix_nano,
        p.time_unix_nano,
    );
    match p.value {
        Some(Value::AsDouble(d)) => o.f64_always("asDouble", d),
        Some(Value::AsInt(i)) => {
            o.key("asInt");
            let _ = write!(o.out, "\"{i}\"");
        }
        None => {}
    }
    o.arr("exemplars", &p.exemplars, exemplar);
    o.int("flags", i64::from(p.flags));
    o.close();
}

fn histogram_point(out: &mut String, p: &metrics::HistogramDataPoint) {
    let mut o = Obj::open(out);
    point_times(
        &mut o,
        &p.attributes,
        p.start_time_unix_nano,
        p.time_unix_nano,
    );
    o.u64("count", p.count);
    optional_f64(&mut o, "sum", p.sum);
    o.arr("bucketCounts", &p.bucket_counts, u64_list);
    o.arr("explicitBounds", &p.explicit_bounds, |out, v| {
        write_f64(out, *v)
    });
    o.arr("exemplars", &p.exemplars, exemplar);
    o.int("flags", i64::from(p.flags));
    optional_f64(&mut o, "min", p.min);
    optional_f64(&mut o, "max", p.max);
    o.close();
}

fn exp_histogram_point(out: &mut String, p: &metrics::ExponentialHistogramDataPoint) {
    let buckets = |out: &mut String, b: &metrics::exponential_histogram_data_point::Buckets| {
        let mut o = Obj::open(out);
        o.int("offset", i64::from(b.offset));
        o.arr("bucketCounts", &b.bucket_counts, u64_list);
        o.close();
    };
    let mut o = Obj::open(out);
    point_times(
        &mut o,
        &p.attributes,
        p.start_time_unix_nano,
        p.time_unix_nano,
    );
    o.u64("count", p.count);
    optional_f64(&mut o, "sum", p.sum);
    o.int("scale", i64::from(p.scale));
    o.u64("zeroCount", p.zero_count);
    o.always_obj("positive", p.positive.as_ref(), buckets);
    o.always_obj("negative", p.negative.as_ref(), buckets);
    o.int("flags", i64::from(p.flags));
    o.arr("exemplars", &p.exemplars, exemplar);
    optional_f64(&mut o, "min", p.min);
    optional_f64(&mut o, "max", p.max);
    o.f64("zeroThreshold", p.zero_threshold);
    o.close();
}

fn summary_point(out: &mut String, p: &metrics::SummaryDataPoint) {
    let mut o = Obj::open(out);
    point_times(
        &mut o,
        &p.attributes,
        p.start_time_unix_nano,
        p.time_unix_nano,
    );
    o.u64("count", p.count);
    o.f64("sum", p.sum);
    o.arr("quantileValues", &p.quantile_values, |out, q| {
        let mut o = Obj::open(out);
        o.f64("quantile", q.quantile);
        o.f64("value", q.value);
        o.close();
    });
    o.int("flags", i64::from(p.flags));
    o.close();
}

fn exemplar(out: &mut String, e: &metrics::Exemplar) {
    use metrics::exemplar::Value;
    let mut o = Obj::open(out);
    o.arr("filteredAttributes", &e.filtered_attributes, key_value);
    o.u64("timeUnixNano", e.time_unix_nano);
    match e.value {
        Some(Value::AsDouble(d)) => o.f64_always("asDouble", d),
        Some(Value::AsInt(i)) => {
            o.key("asInt");
            let _ = write!(o.out, "\"{i}\"");
        }
        None => {}
    }
    o.hex("spanId", &e.span_id);
    o.hex("traceId", &e.trace_id);
    o.close();
}

// ---------------------------------------------------------------- decoding

/// Decodes an OTLP/JSON export request of the given signal.
pub fn decode_json(signal: super::Signal, input: &[u8]) -> Result<Telemetry, JsonError> {
    use super::Signal;
    let root: Value = serde_json::from_slice(input).map_err(|e| JsonError(e.to_string()))?;
    let root = Fields::of(&root, "request")?;
    Ok(match signal {
        Signal::Traces => Telemetry::Traces(root.list(
            "resourceSpans",
            "resource_spans",
            decode_resource_spans,
        )?),
        Signal::Metrics => Telemetry::Metrics(root.list(
            "resourceMetrics",
            "resource_metrics",
            decode_resource_metrics,
        )?),
        Signal::Logs => {
            Telemetry::Logs(root.list("resourceLogs", "resource_logs", decode_resource_logs)?)
        }
        Signal::Profiles => {
            return err("profiles are taken in OTLP protobuf only, not OTLP/JSON");
        }
    })
}

/// The fields of one JSON object, looked up by either spelling.
#[derive(Clone, Copy)]
struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    fn of(v: &'a Value, what: &str) -> Result<Fields<'a>, JsonError> {
        match v {
            Value::Object(m) => Ok(Fields(m)),
            _ => err(format!("{what}: expected an object")),
        }
    }

    fn get(self, camel: &str, snake: &str) -> Option<&'a Value> {
        self.0
            .get(camel)
            .or_else(|| self.0.get(snake))
            .filter(|v| !v.is_null())
    }

    fn string(self, camel: &str, snake: &str) -> Result<String, JsonError> {
        match self.get(camel, snake) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => err(format!("{camel}: expected a string")),
        }
    }

    fn u64(self, camel: &str, snake: &str) -> Result<u64, JsonError> {
        self.get(camel, snake).map_or(Ok(0), |v| to_u64(v, camel))
    }

    fn u32(self, camel: &str, snake: &str) -> Result<u32, JsonError> {
        let v = self.u64(camel, snake)?;
        u32::try_from(v).or_else(|_| err(format!("{camel}: out of range")))
    }

    fn i32(self, camel: &str, snake: &str) -> Result<i32, JsonError> {
        self.get(camel, snake).map_or(Ok(0), |v| to_i32(v, camel))
    }

    fn enum_value(self, camel: &str, snake: &str, names: &[&str]) -> Result<i32, JsonError> {
        match self.get(camel, snake) {
            Some(Value::String(s)) if s.parse::<i32>().is_err() => names
                .iter()
                .position(|n| n == s)
                .map(|i| i as i32)
                .map_or_else(|| err(format!("{camel}: unknown enum value {s:?}")), Ok),
            _ => self.i32(camel, snake),
        }
    }

    fn f64(self, camel: &str, snake: &str) -> Result<f64, JsonError> {
        self.get(camel, snake).map_or(Ok(0.0), |v| to_f64(v, camel))
    }

    fn opt_f64(self, camel: &str, snake: &str) -> Result<Option<f64>, JsonError> {
        self.get(camel, snake).map(|v| to_f64(v, camel)).transpose()
    }

    fn bool(self, camel: &str, snake: &str) -> Result<bool, JsonError> {
        match self.get(camel, snake) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => err(format!("{camel}: expected a boolean")),
        }
    }

    fn hex(self, camel: &str, snake: &str) -> Result<Vec<u8>, JsonError> {
        let s = self.string(camel, snake)?;
        if s.len() % 2 != 0 {
            return err(format!("{camel}: odd-length hex id"));
        }
        crate::hex::decode(s.as_bytes()).map_or_else(|| err(format!("{camel}: invalid hex id")), Ok)
    }

    fn list<T>(
        self,
        camel: &str,
        snake: &str,
        each: impl Fn(Fields<'a>) -> Result<T, JsonError>,
    ) -> Result<Vec<T>, JsonError> {
        self.values(camel, snake, |v| each(Fields::of(v, camel)?))
    }

    fn values<T>(
        self,
        camel: &str,
        snake: &str,
        each: impl Fn(&'a Value) -> Result<T, JsonError>,
    ) -> Result<Vec<T>, JsonError> {
        match self.get(camel, snake) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => a.iter().map(each).collect(),
            Some(_) => err(format!("{camel}: expected an array")),
        }
    }

    /// Like [`Fields::object`], but an empty object is `None`: Go writes
    /// `{}` for an absent resource, scope or status.
    fn optional_object<T>(
        self,
        camel: &str,
        snake: &str,
        each: impl FnOnce(Fields<'a>) -> Result<T, JsonError>,
    ) -> Result<Option<T>, JsonError> {
        match self.get(camel, snake) {
            Some(Value::Object(m)) if m.is_empty() => Ok(None),
            _ => self.object(camel, snake, each),
        }
    }

    fn object<T>(
        self,
        camel: &str,
        snake: &str,
        each: impl FnOnce(Fields<'a>) -> Result<T, JsonError>,
    ) -> Result<Option<T>, JsonError> {
        self.get(camel, snake)
            .map(|v| each(Fields::of(v, camel)?))
            .transpose()
    }
}

fn to_u64(v: &Value, what: &str) -> Result<u64, JsonError> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .map_or_else(|| err(format!("{what}: expected an unsigned integer")), Ok),
        Value::String(s) => s
            .parse()
            .or_else(|_| err(format!("{what}: expected an unsigned integer"))),
        _ => err(format!("{what}: expected an unsigned integer")),
    }
}

fn to_i64(v: &Value, what: &str) -> Result<i64, JsonError> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .map_or_else(|| err(format!("{what}: expected an integer")), Ok),
        Value::String(s) => s
            .parse()
            .or_else(|_| err(format!("{what}: expected an integer"))),
        _ => err(format!("{what}: expected an integer")),
    }
}

fn to_i32(v: &Value, what: &str) -> Result<i32, JsonError> {
    i32::try_from(to_i64(v, what)?).or_else(|_| err(format!("{what}: out of range")))
}

fn to_f64(v: &Value, what: &str) -> Result<f64, JsonError> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .map_or_else(|| err(format!("{what}: expected a number")), Ok),
        Value::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            s => s
                .parse()
                .or_else(|_| err(format!("{what}: expected a number"))),
        },
        _ => err(format!("{what}: expected a number")),
    }
}

fn decode_any_value(v: &Value) -> Result<common::AnyValue, JsonError> {
    use common::any_value::Value as V;
    let f = Fields::of(v, "value")?;
    let value = if let Some(s) = f.get("stringValue", "string_value") {
        match s {
            Value::String(s) => Some(V::StringValue(s.clone())),
            _ => return err("stringValue: expected a string"),
        }
    } else if f.get("boolValue", "bool_value").is_some() {
        Some(V::BoolValue(f.bool("boolValue", "bool_value")?))
    } else if let Some(i) = f.get("intValue", "int_value") {
        Some(V::IntValue(to_i64(i, "intValue")?))
    } else if let Some(d) = f.get("doubleValue", "double_value") {
        Some(V::DoubleValue(to_f64(d, "doubleValue")?))
    } else if let Some(a) = f.get("arrayValue", "array_value") {
        let values = Fields::of(a, "arrayValue")?.values("values", "values", decode_any_value)?;
        Some(V::ArrayValue(common::ArrayValue { values }))
    } else if let Some(kv) = f.get("kvlistValue", "kvlist_value") {
        let values = Fields::of(kv, "kvlistValue")?.list("values", "values", decode_key_value)?;
        Some(V::KvlistValue(common::KeyValueList { values }))
    } else if let Some(b) = f.get("bytesValue", "bytes_value") {
        use base64::Engine;
        let Value::String(s) = b else {
            return err("bytesValue: expected a base64 string");
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s)
            .or_else(|_| err("bytesValue: invalid base64"))?;
        Some(V::BytesValue(bytes))
    } else {
        None
    };
    Ok(common::AnyValue { value })
}

fn decode_key_value(f: Fields<'_>) -> Result<common::KeyValue, JsonError> {
    Ok(common::KeyValue {
        key: f.string("key", "key")?,
        value: f.get("value", "value").map(decode_any_value).transpose()?,
        ..Default::default()
    })
}

fn attributes(f: Fields<'_>) -> Result<Vec<common::KeyValue>, JsonError> {
    f.list("attributes", "attributes", decode_key_value)
}

fn decode_resource(f: Fields<'_>) -> Result<resource::Resource, JsonError> {
    Ok(resource::Resource {
        attributes: attributes(f)?,
        dropped_attributes_count: f.u32("droppedAttributesCount", "dropped_attributes_count")?,
        ..Default::default()
    })
}

fn decode_scope(f: Fields<'_>) -> Result<common::InstrumentationScope, JsonError> {
    Ok(common::InstrumentationScope {
        name: f.string("name", "name")?,
        version: f.string("version", "version")?,
        attributes: attributes(f)?,
        dropped_attributes_count: f.u32("droppedAttributesCount", "dropped_attributes_count")?,
    })
}

fn decode_resource_spans(f: Fields<'_>) -> Result<trace::ResourceSpans, JsonError> {
    Ok(trace::ResourceSpans {
        resource: f.optional_object("resource", "resource", decode_resource)?,
        scope_spans: f.list("scopeSpans", "scope_spans", |f| {
            Ok(trace::ScopeSpans {
                scope: f.optional_object("scope", "scope", decode_scope)?,
                spans: f.list("spans", "spans", decode_span)?,
                schema_url: f.string("schemaUrl", "schema_url")?,
            })
        })?,
        schema_url: f.string("schemaUrl", "schema_url")?,
    })
}

const SPAN_KINDS: [&str; 6] = [
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];
const STATUS_CODES: [&str; 3] = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];
const TEMPORALITIES: [&str; 3] = [
    "AGGREGATION_TEMPORALITY_UNSPECIFIED",
    "AGGREGATION_TEMPORALITY_DELTA",
    "AGGREGATION_TEMPORALITY_CUMULATIVE",
];

fn decode_span(f: Fields<'_>) -> Result<trace::Span, JsonError> {
    Ok(trace::Span {
        trace_id: f.hex("traceId", "trace_id")?,
        span_id: f.hex("spanId", "span_id")?,
        trace_state: f.string("traceState", "trace_state")?,
        parent_span_id: f.hex("parentSpanId", "parent_span_id")?,
        flags: f.u32("flags", "flags")?,
        name: f.string("name", "name")?,
        kind: f.enum_value("kind", "kind", &SPAN_KINDS)?,
        start_time_unix_nano: f.u64("startTimeUnixNano", "start_time_unix_nano")?,
        end_time_unix_nano: f.u64("endTimeUnixNano", "end_time_unix_nano")?,
        attributes: attributes(f)?,
        dropped_attributes_count: f.u32("droppedAttributesCount", "dropped_attributes_count")?,
        events: f.list("events", "events", |f| {
            Ok(trace::span::Event {
                time_unix_nano: f.u64("timeUnixNano", "time_unix_nano")?,
                name: f.string("name", "name")?,
                attributes: attributes(f)?,
                dropped_attributes_count: f
                    .u32("droppedAttributesCount", "dropped_attributes_count")?,
            })
        })?,
        dropped_events_count: f.u32("droppedEventsCount", "dropped_events_count")?,
        links: f.list("links", "links", |f| {
            Ok(trace::span::Link {
                trace_id: f.hex("traceId", "trace_id")?,
                span_id: f.hex("spanId", "span_id")?,
                trace_state: f.string("traceState", "trace_state")?,
                attributes: attributes(f)?,
                dropped_attributes_count: f
                    .u32("droppedAttributesCount", "dropped_attributes_count")?,
                flags: f.u32("flags", "flags")?,
            })
        })?,
        dropped_links_count: f.u32("droppedLinksCount", "dropped_links_count")?,
        status: f.optional_object("status", "status", |f| {
            Ok(trace::Status {
                message: f.string("message", "message")?,
                code: f.enum_value("code", "code", &STATUS_CODES)?,
            })
        })?,
    })
}

fn decode_resource_logs(f: Fields<'_>) -> Result<logs::ResourceLogs, JsonError> {
    Ok(logs::ResourceLogs {
        resource: f.optional_object("resource", "resource", decode_resource)?,
        scope_logs: f.list("scopeLogs", "scope_logs", |f| {
            Ok(logs::ScopeLogs {
                scope: f.optional_object("scope", "scope", decode_scope)?,
                log_records: f.list("logRecords", "log_records", decode_log_record)?,
                schema_url: f.string("schemaUrl", "schema_url")?,
            })
        })?,
        schema_url: f.string("schemaUrl", "schema_url")?,
    })
}

fn decode_log_record(f: Fields<'_>) -> Result<logs::LogRecord, JsonError> {
    let severity = match f.get("severityNumber", "severity_number") {
        Some(Value::String(s)) if s.parse::<i32>().is_err() => {
            logs::SeverityNumber::from_str_name(s)
                .map(|n| n as i32)
                .map_or_else(
                    || err(format!("severityNumber: unknown enum value {s:?}")),
                    Ok,
                )?
        }
        _ => f.i32("severityNumber", "severity_number")?,
    };
    Ok(logs::LogRecord {
        time_unix_nano: f.u64("timeUnixNano", "time_unix_nano")?,
        observed_time_unix_nano: f.u64("observedTimeUnixNano", "observed_time_unix_nano")?,
        severity_number: severity,
        severity_text: f.string("severityText", "severity_text")?,
        body: f.get("body", "body").map(decode_any_value).transpose()?,
        attributes: attributes(f)?,
        dropped_attributes_count: f.u32("droppedAttributesCount", "dropped_attributes_count")?,
        flags: f.u32("flags", "flags")?,
        trace_id: f.hex("traceId", "trace_id")?,
        span_id: f.hex("spanId", "span_id")?,
        event_name: f.string("eventName", "event_name")?,
    })
}

fn decode_resource_metrics(f: Fields<'_>) -> Result<metrics::ResourceMetrics, JsonError> {
    Ok(metrics::ResourceMetrics {
        resource: f.optional_object("resource", "resource", decode_resource)?,
        scope_metrics: f.list("scopeMetrics", "scope_metrics", |f| {
            Ok(metrics::ScopeMetrics {
                scope: f.optional_object("scope", "scope", decode_scope)?,
                metrics: f.list("metrics", "metrics", decode_metric)?,
                schema_url: f.string("schemaUrl", "schema_url")?,
            })
        })?,
        schema_url: f.string("schemaUrl", "schema_url")?,
    })
}

fn temporality(f: Fields<'_>) -> Result<i32, JsonError> {
    f.enum_value(
        "aggregationTemporality",
        "aggregation_temporality",
        &TEMPORALITIES,
    )
}

fn decode_metric(f: Fields<'_>) -> Result<metrics::Metric, JsonError> {
    use metrics::metric::Data;
    let data = if let Some(g) = f.object("gauge", "gauge", |f| {
        Ok(metrics::Gauge {
            data_points: f.list("dataPoints", "data_points", decode_number_point)?,
        })
    })? {
        Some(Data::Gauge(g))
    } else if let Some(s) = f.object("sum", "sum", |f| {
        Ok(metrics::Sum {
            data_points: f.list("dataPoints", "data_points", decode_number_point)?,
            aggregation_temporality: temporality(f)?,
            is_monotonic: f.bool("isMonotonic", "is_monotonic")?,
        })
    })? {
        Some(Data::Sum(s))
    } else if let Some(h) = f.object("histogram", "histogram", |f| {
        Ok(metrics::Histogram {
            data_points: f.list("dataPoints", "data_points", decode_histogram_point)?,
            aggregation_temporality: temporality(f)?,
        })
    })? {
        Some(Data::Histogram(h))
    } else if let Some(h) = f.object("exponentialHistogram", "exponential_histogram", |f| {
        Ok(metrics::ExponentialHistogram {
            data_points: f.list("dataPoints", "data_points", decode_exp_histogram_point)?,
            aggregation_temporality: temporality(f)?,
        })
    })? {
        Some(Data::ExponentialHistogram(h))
    } else {
        f.object("summary", "summary", |f| {
            Ok(metrics::Summary {
                data_points: f.list("dataPoints", "data_points", decode_summary_point)?,
            })
        })?
        .map(Data::Summary)
    };
    Ok(metrics::Metric {
        name: f.string("name", "name")?,
        description: f.string("description", "description")?,
        unit: f.string("unit", "unit")?,
        metadata: f.list("metadata", "metadata", decode_key_value)?,
        data,
    })
}

fn u64_values(f: Fields<'_>, camel: &str, snake: &str) -> Result<Vec<u64>, JsonError> {
    f.values(camel, snake, |v| to_u64(v, camel))
}

fn decode_number_point(f: Fields<'_>) -> Result<metrics::NumberDataPoint, JsonError> {
    use metrics::number_data_point::Value as V;
    let value = if let Some(d) = f.get("asDouble", "as_double") {
        Some(V::AsDouble(to_f64(d, "asDouble")?))
    } else {
        f.get("asInt", "as_int")
            .map(|i| to_i64(i, "asInt").map(V::AsInt))
            .transpose()?
    };
    Ok(metrics::NumberDataPoint {
        attributes: attributes(f)?,
        start_time_unix_nano: f.u64("startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: f.u64("timeUnixNano", "time_unix_nano")?,
        exemplars: f.list("exemplars", "exemplars", decode_exemplar)?,
        flags: f.u32("flags", "flags")?,
        value,
    })
}

fn decode_histogram_point(f: Fields<'_>) -> Result<metrics::HistogramDataPoint, JsonError> {
    Ok(metrics::HistogramDataPoint {
        attributes: attributes(f)?,
        start_time_unix_nano: f.u64("startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: f.u64("timeUnixNano", "time_unix_nano")?,
        count: f.u64("count", "count")?,
        sum: f.opt_f64("sum", "sum")?,
        bucket_counts: u64_values(f, "bucketCounts", "bucket_counts")?,
        explicit_bounds: f.values("explicitBounds", "explicit_bounds", |v| {
            to_f64(v, "explicitBounds")
        })?,
        exemplars: f.list("exemplars", "exemplars", decode_exemplar)?,
        flags: f.u32("flags", "flags")?,
        min: f.opt_f64("min", "min")?,
        max: f.opt_f64("max", "max")?,
    })
}

fn decode_exp_histogram_point(
    f: Fields<'_>,
) -> Result<metrics::ExponentialHistogramDataPoint, JsonError> {
    use metrics::exponential_histogram_data_point::Buckets;
    let buckets = |f: Fields<'_>| {
        Ok(Buckets {
            offset: f.i32("offset", "offset")?,
            bucket_counts: u64_values(f, "bucketCounts", "bucket_counts")?,
        })
    };
    Ok(metrics::ExponentialHistogramDataPoint {
        attributes: attributes(f)?,
        start_time_unix_nano: f.u64("startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: f.u64("timeUnixNano", "time_unix_nano")?,
        count: f.u64("count", "count")?,
        sum: f.opt_f64("sum", "sum")?,
        scale: f.i32("scale", "scale")?,
        zero_count: f.u64("zeroCount", "zero_count")?,
        positive: f.optional_object("positive", "positive", buckets)?,
        negative: f.optional_object("negative", "negative", buckets)?,
        flags: f.u32("flags", "flags")?,
        exemplars: f.list("exemplars", "exemplars", decode_exemplar)?,
        min: f.opt_f64("min", "min")?,
        max: f.opt_f64("max", "max")?,
        zero_threshold: f.f64("zeroThreshold", "zero_threshold")?,
    })
}

fn decode_summary_point(f: Fields<'_>) -> Result<metrics::SummaryDataPoint, JsonError> {
    Ok(metrics::SummaryDataPoint {
        attributes: attributes(f)?,
        start_time_unix_nano: f.u64("startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: f.u64("timeUnixNano", "time_unix_nano")?,
        count: f.u64("count", "count")?,
        sum: f.f64("sum", "sum")?,
        quantile_values: f.list("quantileValues", "quantile_values", |f| {
            Ok(metrics::summary_data_point::ValueAtQuantile {
                quantile: f.f64("quantile", "quantile")?,
                value: f.f64("value", "value")?,
            })
        })?,
        flags: f.u32("flags", "flags")?,
    })
}

fn decode_exemplar(f: Fields<'_>) -> Result<metrics::Exemplar, JsonError> {
    use metrics::exemplar::Value as V;
    let value = if let Some(d) = f.get("asDouble", "as_double") {
        Some(V::AsDouble(to_f64(d, "asDouble")?))
    } else {
        f.get("asInt", "as_int")
            .map(|i| to_i64(i, "asInt").map(V::AsInt))
            .transpose()?
    };
    Ok(metrics::Exemplar {
        filtered_attributes: f.list(
            "filteredAttributes",
            "filtered_attributes",
            decode_key_value,
        )?,
        time_unix_nano: f.u64("timeUnixNano", "time_unix_nano")?,
        span_id: f.hex("spanId", "span_id")?,
        trace_id: f.hex("traceId", "trace_id")?,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdata::Signal;

    #[test]
    fn spec_example_trace_decodes_with_uppercase_hex_and_reencodes_lowercase() {
        // The OTLP spec's examples use uppercase hex ids; the Go collector
        // lowercases them when it writes JSON back out.
        let input = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"my.service"}}]},
          "scopeSpans":[{"scope":{"name":"my.library","version":"1.0.0"},
          "spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","parentSpanId":"EEE19B7EC3C1B173",
          "name":"I'm a server span","startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000000,
          "kind":2,"attributes":[{"key":"my.span.attr","value":{"stringValue":"some value"}}],
          "status":{"code":"STATUS_CODE_ERROR"}}]}]}]}"#;
        let t = decode_json(Signal::Traces, input).unwrap();
        let Telemetry::Traces(r) = &t else {
            unreachable!()
        };
        let span = &r[0].scope_spans[0].spans[0];
        assert_eq!(span.trace_id[0], 0x5b);
        assert_eq!(span.end_time_unix_nano, 1544712661000000000);
        assert_eq!(span.status.as_ref().unwrap().code, 2);
        let out = encode_json(&t);
        assert!(
            out.contains(r#""traceId":"5b8efff798038103d269b633813fc60c""#),
            "{out}"
        );
        assert!(out.contains(r#""startTimeUnixNano":"1544712660000000000""#));
        assert!(out.contains(r#""kind":2"#));
        assert_eq!(decode_json(Signal::Traces, out.as_bytes()).unwrap(), t);
    }

    #[test]
    fn metrics_of_every_kind_round_trip() {
        use metrics::metric::Data;
        let attrs = vec![common::KeyValue {
            key: "k".into(),
            value: Some(common::AnyValue {
                value: Some(common::any_value::Value::ArrayValue(common::ArrayValue {
                    values: vec![
                        common::AnyValue {
                            value: Some(common::any_value::Value::BytesValue(vec![0, 1, 255])),
                        },
                        common::AnyValue {
                            value: Some(common::any_value::Value::DoubleValue(f64::NAN)),
                        },
                    ],
                })),
            }),
            ..Default::default()
        }];
        let metric = |data| metrics::Metric {
            name: "m".into(),
            unit: "s".into(),
            data: Some(data),
            ..Default::default()
        };
        let batch = Telemetry::Metrics(vec![metrics::ResourceMetrics {
            scope_metrics: vec![metrics::ScopeMetrics {
                metrics: vec![
                    metric(Data::Sum(metrics::Sum {
                        data_points: vec![metrics::NumberDataPoint {
                            attributes: attrs.clone(),
                            time_unix_nano: u64::MAX,
                            value: Some(metrics::number_data_point::Value::AsInt(i64::MIN)),
                            exemplars: vec![metrics::Exemplar {
                                trace_id: vec![1; 16],
                                span_id: vec![2; 8],
                                value: Some(metrics::exemplar::Value::AsDouble(0.5)),
                                ..Default::default()
                            }],
                            ..Default::default()
                        }],
                        aggregation_temporality: 2,
                        is_monotonic: true,
                    })),
                    metric(Data::Histogram(metrics::Histogram {
                        data_points: vec![metrics::HistogramDataPoint {
                            count: 3,
                            sum: Some(0.0),
                            bucket_counts: vec![1, 2],
                            explicit_bounds: vec![1.5],
                            min: Some(-1.0),
                            ..Default::default()
                        }],
                        aggregation_temporality: 1,
                    })),
                    metric(Data::ExponentialHistogram(metrics::ExponentialHistogram {
                        data_points: vec![metrics::ExponentialHistogramDataPoint {
                            scale: -3,
                            zero_count: 7,
                            positive: Some(metrics::exponential_histogram_data_point::Buckets {
                                offset: -2,
                                bucket_counts: vec![4, 5],
                            }),
                            zero_threshold: 1e-9,
                            ..Default::default()
                        }],
                        aggregation_temporality: 2,
                    })),
                    metric(Data::Summary(metrics::Summary {
                        data_points: vec![metrics::SummaryDataPoint {
                            count: 9,
                            sum: f64::INFINITY,
                            quantile_values: vec![metrics::summary_data_point::ValueAtQuantile {
                                quantile: 0.99,
                                value: 12.0,
                            }],
                            ..Default::default()
                        }],
                    })),
                    metric(Data::Gauge(metrics::Gauge {
                        data_points: vec![metrics::NumberDataPoint {
                            value: Some(metrics::number_data_point::Value::AsDouble(-0.25)),
                            ..Default::default()
                        }],
                    })),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }]);
        let json = encode_json(&batch);
        let back = decode_json(Signal::Metrics, json.as_bytes()).unwrap();
        // NaN != NaN, so compare the re-encodings.
        assert_eq!(encode_json(&back), json);
        assert_eq!(back.item_count(), 5);
        assert!(json.contains(r#""asInt":"-9223372036854775808""#), "{json}");
        assert!(
            json.contains(r#""sum":0"#),
            "explicit zero sum is kept: {json}"
        );
        assert!(json.contains(r#""bytesValue":"AAH/""#));
    }

    #[test]
    fn logs_accept_snake_case_and_numbers_and_escape_strings() {
        let input = br#"{"resource_logs":[{"scope_logs":[{"log_records":[
            {"time_unix_nano":17,"severity_number":"SEVERITY_NUMBER_WARN","body":{"string_value":"a \"quoted\"\nline\u0001"},
             "attributes":[{"key":"n","value":{"intValue":5}}],"trace_id":"","eventName":"e"}]}]}]}"#;
        let t = decode_json(Signal::Logs, input).unwrap();
        let Telemetry::Logs(r) = &t else {
            unreachable!()
        };
        let rec = &r[0].scope_logs[0].log_records[0];
        assert_eq!(rec.time_unix_nano, 17);
        assert_eq!(rec.severity_number, 13);
        let out = encode_json(&t);
        assert!(
            out.contains(r#""stringValue":"a \"quoted\"\nline\u0001""#),
            "{out}"
        );
        assert_eq!(decode_json(Signal::Logs, out.as_bytes()).unwrap(), t);
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        for bad in [
            &b"{"[..],
            b"[]",
            br#"{"resourceLogs":{}}"#,
            br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"abc"}]}]}]}"#,
            br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"-1"}]}]}]}"#,
            br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"zz"}]}]}]}"#,
        ] {
            assert!(
                decode_json(Signal::Logs, bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
