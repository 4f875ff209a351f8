//! Writes OTLP export requests straight from what was read.
//!
//! Tailing at a gigabyte per second leaves a few hundred nanoseconds per
//! line, which building a prost `LogRecord` per line (a `String` body, a
//! `KeyValue` per file attribute) would spend on allocation alone. So the
//! receiver writes the protobuf encoding of `ExportLogsServiceRequest`
//! itself: each line is copied once, from the read buffer into the request,
//! and the attributes every line of a file shares are encoded once per file
//! and copied as bytes. The result is handed on as an encoded
//! [`Payload`](ferrotel_core::pdata::Payload), which the batch processor
//! merges by concatenation and the OTLP and file exporters send as is.
//!
//! Field numbers are those of `opentelemetry/proto/logs/v1/logs.proto` and
//! `common/v1/common.proto`. Within a `ResourceLogs` the `scope_logs` are
//! written before the `resource`: protobuf allows fields in any order, and
//! this way a request with one resource is written in one pass.

use crate::entry::{Entry, Value};
use bytes::Bytes;

const WIRE_VARINT: u8 = 0;
const WIRE_FIXED64: u8 = 1;
const WIRE_LEN: u8 = 2;

fn tag(field: u8, wire: u8) -> u8 {
    // Every field number used here is below 16, so a tag is one byte.
    (field << 3) | wire
}

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_len_field(out: &mut Vec<u8>, field: u8, bytes: &[u8]) {
    out.push(tag(field, WIRE_LEN));
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn len_field_size(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

/// The text of a scalar YAML value, as Go's config decoding would turn it
/// into a string; `None` for maps, lists and nulls.
pub(crate) fn scalar_text(v: &serde_yaml_ng::Value) -> Option<String> {
    match v {
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        serde_yaml_ng::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

// AnyValue fields.
const ANY_STRING: u8 = 1;
const ANY_BOOL: u8 = 2;
const ANY_INT: u8 = 3;
const ANY_DOUBLE: u8 = 4;
const ANY_ARRAY: u8 = 5;
const ANY_KVLIST: u8 = 6;
const ANY_BYTES: u8 = 7;

/// The encoded length of an `AnyValue` holding `v`.
fn any_value_len(v: &Value) -> usize {
    match v {
        Value::Str(s) => len_field_size(s.len()),
        Value::Bytes(b) => len_field_size(b.len()),
        Value::Bool(_) => 2,
        Value::Int(i) => 1 + varint_len(*i as u64),
        Value::Double(_) => 9,
        Value::Array(items) => len_field_size(array_len(items)),
        Value::Map(map) => len_field_size(key_values_len(map)),
        Value::Null => 0,
    }
}

fn array_len(items: &[Value]) -> usize {
    items.iter().map(|v| len_field_size(any_value_len(v))).sum()
}

fn key_value_len(k: &str, v: &Value) -> usize {
    len_field_size(k.len()) + len_field_size(any_value_len(v))
}

fn key_values_len(map: &[(String, Value)]) -> usize {
    map.iter()
        .map(|(k, v)| len_field_size(key_value_len(k, v)))
        .sum()
}

fn put_any_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str(s) => put_len_field(out, ANY_STRING, s.as_bytes()),
        Value::Bytes(b) => put_len_field(out, ANY_BYTES, b),
        Value::Bool(b) => {
            out.push(tag(ANY_BOOL, WIRE_VARINT));
            out.push(u8::from(*b));
        }
        Value::Int(i) => {
            out.push(tag(ANY_INT, WIRE_VARINT));
            put_varint(out, *i as u64);
        }
        Value::Double(d) => {
            out.push(tag(ANY_DOUBLE, WIRE_FIXED64));
            out.extend_from_slice(&d.to_le_bytes());
        }
        Value::Array(items) => {
            out.push(tag(ANY_ARRAY, WIRE_LEN));
            put_varint(out, array_len(items) as u64);
            for item in items {
                out.push(tag(1, WIRE_LEN));
                put_varint(out, any_value_len(item) as u64);
                put_any_value(out, item);
            }
        }
        Value::Map(map) => {
            out.push(tag(ANY_KVLIST, WIRE_LEN));
            put_varint(out, key_values_len(map) as u64);
            put_key_values(out, 1, map);
        }
        Value::Null => {}
    }
}

/// Writes each pair as a `KeyValue` in repeated field `field`.
fn put_key_values(out: &mut Vec<u8>, field: u8, map: &[(String, Value)]) {
    for (k, v) in map {
        out.push(tag(field, WIRE_LEN));
        put_varint(out, key_value_len(k, v) as u64);
        put_len_field(out, 1, k.as_bytes());
        out.push(tag(2, WIRE_LEN));
        put_varint(out, any_value_len(v) as u64);
        put_any_value(out, v);
    }
}

/// Attributes encoded once and copied into every record: repeated
/// `KeyValue` in field 6 of `LogRecord`.
pub(crate) fn encode_record_attributes(map: &[(String, Value)]) -> Vec<u8> {
    let mut out = Vec::new();
    put_key_values(&mut out, LOG_ATTRIBUTES, map);
    out
}

/// A `Resource` message's content (its attributes).
pub(crate) fn encode_resource(map: &[(String, Value)]) -> Vec<u8> {
    let mut out = Vec::new();
    put_key_values(&mut out, 1, map);
    out
}

// LogRecord fields.
const LOG_TIME: u8 = 1;
const LOG_SEVERITY_NUMBER: u8 = 2;
const LOG_SEVERITY_TEXT: u8 = 3;
const LOG_BODY: u8 = 5;
const LOG_ATTRIBUTES: u8 = 6;
const LOG_FLAGS: u8 = 8;
const LOG_TRACE_ID: u8 = 9;
const LOG_SPAN_ID: u8 = 10;
const LOG_OBSERVED_TIME: u8 = 11;

/// Space kept in front of the first resource's records for the two headers
/// (`ResourceLogs` and `ScopeLogs`: a tag and a length of up to 5 bytes
/// each), so a request with one resource is never moved.
const HEADROOM: usize = 12;

/// Builds one `ExportLogsServiceRequest`.
pub(crate) struct RequestWriter {
    /// Finished resources; the first starts at `start`.
    done: Vec<u8>,
    start: usize,
    /// Records of the resource being written, after `HEADROOM` bytes when
    /// it is the first.
    records: Vec<u8>,
    records_from: usize,
    resource: Vec<u8>,
    items: usize,
}

impl Default for RequestWriter {
    fn default() -> RequestWriter {
        RequestWriter::with_capacity(0)
    }
}

impl RequestWriter {
    /// A writer whose buffer starts at `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> RequestWriter {
        let mut records = Vec::with_capacity(capacity + HEADROOM);
        records.resize(HEADROOM, 0);
        RequestWriter {
            done: Vec::new(),
            start: 0,
            records,
            records_from: HEADROOM,
            resource: Vec::new(),
            items: 0,
        }
    }

    /// Makes room for `additional` more bytes of records.
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.records.reserve(additional);
    }

    /// Records written so far.
    pub(crate) fn items(&self) -> usize {
        self.items
    }

    /// Bytes written so far, roughly the request's size.
    pub(crate) fn len(&self) -> usize {
        self.done.len() + self.records.len()
    }

    /// Starts a new resource unless `resource` (an encoded `Resource`) is
    /// the current one.
    pub(crate) fn set_resource(&mut self, resource: &[u8]) {
        if resource == self.resource.as_slice() {
            return;
        }
        if self.records.len() > self.records_from {
            self.finish_resource();
        }
        self.resource.clear();
        self.resource.extend_from_slice(resource);
    }

    /// A record whose body is one line of text (or bytes, for `nop`), with
    /// the file's attributes already encoded, and optionally its record
    /// number. The fast path: no allocation.
    pub(crate) fn push_line(
        &mut self,
        body: &[u8],
        body_is_text: bool,
        observed: u64,
        attributes: &[u8],
        record_number: Option<i64>,
    ) {
        let body_any = len_field_size(body.len());
        let record_kv = record_number.map(|n| {
            let key = len_field_size(RECORD_NUMBER_KEY.len());
            key + len_field_size(1 + varint_len(n as u64))
        });
        let record_len =
            9 + len_field_size(body_any) + attributes.len() + record_kv.map_or(0, len_field_size);
        let out = &mut self.records;
        out.reserve(record_len + 6);
        out.push(tag(2, WIRE_LEN));
        put_varint(out, record_len as u64);
        out.push(tag(LOG_OBSERVED_TIME, WIRE_FIXED64));
        out.extend_from_slice(&observed.to_le_bytes());
        out.push(tag(LOG_BODY, WIRE_LEN));
        put_varint(out, body_any as u64);
        let field = if body_is_text { ANY_STRING } else { ANY_BYTES };
        put_len_field(out, field, body);
        out.extend_from_slice(attributes);
        if let (Some(n), Some(kv_len)) = (record_number, record_kv) {
            out.push(tag(LOG_ATTRIBUTES, WIRE_LEN));
            put_varint(out, kv_len as u64);
            put_len_field(out, 1, RECORD_NUMBER_KEY.as_bytes());
            out.push(tag(2, WIRE_LEN));
            put_varint(out, (1 + varint_len(n as u64)) as u64);
            out.push(tag(ANY_INT, WIRE_VARINT));
            put_varint(out, n as u64);
        }
        self.items += 1;
    }

    /// A record from an entry the operators made.
    pub(crate) fn push_entry(&mut self, entry: &Entry) {
        let mut len = 0;
        if entry.timestamp != 0 {
            len += 9;
        }
        if entry.observed != 0 {
            len += 9;
        }
        if entry.severity != 0 {
            len += 1 + varint_len(entry.severity as u64);
        }
        if !entry.severity_text.is_empty() {
            len += len_field_size(entry.severity_text.len());
        }
        if !matches!(entry.body, Value::Null) {
            len += len_field_size(any_value_len(&entry.body));
        }
        len += entry
            .attributes
            .iter()
            .map(|(k, v)| len_field_size(key_value_len(k, v)))
            .sum::<usize>();
        if entry.flags != 0 {
            len += 5;
        }
        if !entry.trace_id.is_empty() {
            len += len_field_size(entry.trace_id.len());
        }
        if !entry.span_id.is_empty() {
            len += len_field_size(entry.span_id.len());
        }
        let out = &mut self.records;
        out.push(tag(2, WIRE_LEN));
        put_varint(out, len as u64);
        if entry.timestamp != 0 {
            out.push(tag(LOG_TIME, WIRE_FIXED64));
            out.extend_from_slice(&entry.timestamp.to_le_bytes());
        }
        if entry.severity != 0 {
            out.push(tag(LOG_SEVERITY_NUMBER, WIRE_VARINT));
            put_varint(out, entry.severity as u64);
        }
        if !entry.severity_text.is_empty() {
            put_len_field(out, LOG_SEVERITY_TEXT, entry.severity_text.as_bytes());
        }
        if !matches!(entry.body, Value::Null) {
            out.push(tag(LOG_BODY, WIRE_LEN));
            put_varint(out, any_value_len(&entry.body) as u64);
            put_any_value(out, &entry.body);
        }
        put_key_values(out, LOG_ATTRIBUTES, &entry.attributes);
        if entry.flags != 0 {
            out.push((LOG_FLAGS << 3) | 5);
            out.extend_from_slice(&entry.flags.to_le_bytes());
        }
        if !entry.trace_id.is_empty() {
            put_len_field(out, LOG_TRACE_ID, &entry.trace_id);
        }
        if !entry.span_id.is_empty() {
            put_len_field(out, LOG_SPAN_ID, &entry.span_id);
        }
        if entry.observed != 0 {
            out.push(tag(LOG_OBSERVED_TIME, WIRE_FIXED64));
            out.extend_from_slice(&entry.observed.to_le_bytes());
        }
        self.items += 1;
    }

    fn finish_resource(&mut self) {
        // scope_logs (2) holding the records, then resource (1).
        let scope_len = self.records.len() - self.records_from;
        let scope_header = 1 + varint_len(scope_len as u64);
        self.records.push(tag(1, WIRE_LEN));
        put_varint(&mut self.records, self.resource.len() as u64);
        self.records.extend_from_slice(&self.resource);
        let resource_logs_len = self.records.len() - self.records_from + scope_header;
        let mut header = Vec::with_capacity(HEADROOM);
        header.push(tag(1, WIRE_LEN));
        put_varint(&mut header, resource_logs_len as u64);
        header.push(tag(2, WIRE_LEN));
        put_varint(&mut header, scope_len as u64);
        if self.done.is_empty() && self.records_from == HEADROOM {
            // The first resource: write the headers into the headroom.
            let start = HEADROOM - header.len();
            self.records[start..HEADROOM].copy_from_slice(&header);
            self.start = start;
            self.done = std::mem::take(&mut self.records);
        } else {
            self.done.extend_from_slice(&header);
            self.done
                .extend_from_slice(&self.records[self.records_from..]);
            self.records.clear();
        }
        self.records_from = 0;
    }

    /// The request, and how many records it holds.
    pub(crate) fn finish(mut self) -> (Bytes, usize) {
        if self.records.len() > self.records_from {
            self.finish_resource();
        }
        let items = self.items;
        let bytes = Bytes::from(self.done).slice(self.start..);
        (bytes, items)
    }
}

/// The attribute `include_file_record_number` adds.
pub(crate) const RECORD_NUMBER_KEY: &str = "log.file.record_number";

#[cfg(test)]
mod tests {
    use super::*;
    use ferrotel_core::pdata::common::any_value;
    use ferrotel_core::pdata::{Signal, Telemetry};

    fn decode(bytes: &[u8]) -> ferrotel_core::pdata::ExportLogsServiceRequest {
        match Telemetry::decode_request(Signal::Logs, bytes).unwrap() {
            Telemetry::Logs(r) => {
                ferrotel_core::pdata::ExportLogsServiceRequest { resource_logs: r }
            }
            _ => unreachable!(),
        }
    }

    #[test]
    fn lines_decode_with_their_attributes_and_resource() {
        let attrs =
            encode_record_attributes(&[("log.file.name".into(), Value::Str("app.log".into()))]);
        let resource = encode_resource(&[("host.name".into(), Value::Str("n1".into()))]);
        let mut w = RequestWriter::with_capacity(64);
        w.set_resource(&resource);
        w.push_line(b"first line", true, 7, &attrs, None);
        w.push_line(&[0xff, 0x00], false, 8, &attrs, Some(300));
        let (bytes, items) = w.finish();
        assert_eq!(items, 2);
        assert_eq!(ferrotel_core::pdata::scan(Signal::Logs, &bytes).unwrap(), 2);
        let req = decode(&bytes);
        assert_eq!(req.resource_logs.len(), 1);
        let rl = &req.resource_logs[0];
        assert_eq!(rl.resource.as_ref().unwrap().attributes[0].key, "host.name");
        let records = &rl.scope_logs[0].log_records;
        assert_eq!(records[0].observed_time_unix_nano, 7);
        assert_eq!(
            records[0].body.as_ref().unwrap().value,
            Some(any_value::Value::StringValue("first line".into()))
        );
        assert_eq!(records[0].attributes.len(), 1);
        assert_eq!(
            records[1].body.as_ref().unwrap().value,
            Some(any_value::Value::BytesValue(vec![0xff, 0]))
        );
        assert_eq!(records[1].attributes[1].key, RECORD_NUMBER_KEY);
        assert_eq!(
            records[1].attributes[1].value.as_ref().unwrap().value,
            Some(any_value::Value::IntValue(300))
        );
    }

    #[test]
    fn entries_with_every_kind_of_value_and_several_resources() {
        let mut w = RequestWriter::default();
        let entry = Entry {
            timestamp: 1_700_000_000_000_000_000,
            observed: 5,
            severity: 9,
            severity_text: "INFO".into(),
            body: Value::Map(vec![
                ("s".into(), Value::Str("x".into())),
                ("i".into(), Value::Int(-3)),
                ("d".into(), Value::Double(1.5)),
                ("b".into(), Value::Bool(true)),
                (
                    "a".into(),
                    Value::Array(vec![Value::Int(1), Value::Str("y".into())]),
                ),
            ]),
            attributes: vec![("k".into(), Value::Str("v".into()))],
            resource: Vec::new(),
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            flags: 1,
            origin: None,
        };
        w.set_resource(&encode_resource(&[("r".into(), Value::Int(1))]));
        w.push_entry(&entry);
        w.set_resource(&encode_resource(&[("r".into(), Value::Int(2))]));
        w.push_entry(&entry);
        w.push_entry(&entry);
        let (bytes, items) = w.finish();
        assert_eq!(items, 3);
        let req = decode(&bytes);
        assert_eq!(req.resource_logs.len(), 2);
        assert_eq!(req.resource_logs[1].scope_logs[0].log_records.len(), 2);
        let r = &req.resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(r.time_unix_nano, entry.timestamp);
        assert_eq!(r.severity_number, 9);
        assert_eq!(r.severity_text, "INFO");
        assert_eq!(r.trace_id, vec![1; 16]);
        assert_eq!(r.flags, 1);
        let Some(any_value::Value::KvlistValue(kv)) = &r.body.as_ref().unwrap().value else {
            panic!("body is not a map")
        };
        assert_eq!(kv.values.len(), 5);
        assert_eq!(
            kv.values[1].value.as_ref().unwrap().value,
            Some(any_value::Value::IntValue(-3))
        );
    }

    #[test]
    fn an_empty_writer_is_an_empty_request() {
        let (bytes, items) = RequestWriter::default().finish();
        assert_eq!(items, 0);
        assert!(bytes.is_empty());
    }
}
