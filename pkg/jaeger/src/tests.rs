//! Decoding hand-encoded Thrift in both protocols, and Go's translation
//! rules on the result. The end-to-end tests compare with Go itself.

use crate::model::TagValue;
use crate::{Protocol, agent_datagram, thrift_batch, thrift_to_traces};
use ferrotel_core::pdata::common::any_value::Value;

/// A Thrift writer for the tests, both protocols.
struct Writer {
    out: Vec<u8>,
    compact: bool,
    last: Vec<i16>,
}

const STRUCT: u8 = 12;
const LIST: u8 = 15;
const I64: u8 = 10;
const I32: u8 = 8;
const STRING: u8 = 11;

impl Writer {
    fn new(compact: bool) -> Writer {
        Writer {
            out: Vec::new(),
            compact,
            last: vec![0],
        }
    }
    fn compact_type(t: u8) -> u8 {
        match t {
            STRUCT => 12,
            LIST => 9,
            I64 => 6,
            I32 => 5,
            STRING => 8,
            _ => unreachable!(),
        }
    }
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.out.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }
    fn field(&mut self, id: i16, t: u8) {
        if self.compact {
            let last = self.last.last_mut().unwrap();
            let delta = id - *last;
            *last = id;
            assert!((1..=15).contains(&delta));
            self.out
                .push(((delta as u8) << 4) | Writer::compact_type(t));
        } else {
            self.out.push(t);
            self.out.extend_from_slice(&id.to_be_bytes());
        }
    }
    fn begin(&mut self) {
        self.last.push(0);
    }
    fn stop(&mut self) {
        self.out.push(0);
        self.last.pop();
    }
    fn i64(&mut self, id: i16, v: i64) {
        self.field(id, I64);
        if self.compact {
            self.varint(((v << 1) ^ (v >> 63)) as u64);
        } else {
            self.out.extend_from_slice(&v.to_be_bytes());
        }
    }
    fn i32(&mut self, id: i16, v: i32) {
        self.field(id, I32);
        if self.compact {
            self.varint(((v << 1) ^ (v >> 31)) as u32 as u64);
        } else {
            self.out.extend_from_slice(&v.to_be_bytes());
        }
    }
    fn string(&mut self, id: i16, s: &str) {
        self.field(id, STRING);
        if self.compact {
            self.varint(s.len() as u64);
        } else {
            self.out.extend_from_slice(&(s.len() as i32).to_be_bytes());
        }
        self.out.extend_from_slice(s.as_bytes());
    }
    fn list(&mut self, id: i16, n: usize) {
        self.field(id, LIST);
        if self.compact {
            self.out.push(((n as u8) << 4) | 12);
        } else {
            self.out.push(STRUCT);
            self.out.extend_from_slice(&(n as i32).to_be_bytes());
        }
    }
    fn tag(&mut self, key: &str, value: &str) {
        self.begin();
        self.string(1, key);
        self.i32(2, 0);
        self.string(3, value);
        self.stop();
    }
    /// A batch: process `svc` with tags, one span with `span.kind`, an
    /// `error` string tag (kept: not a bool) and a parent.
    fn batch(&mut self) {
        self.begin();
        self.field(1, STRUCT);
        self.begin();
        self.string(1, "svc");
        self.list(2, 2);
        self.tag("hostname", "h1");
        self.tag("jaeger.version", "Python-4.8.0");
        self.stop();
        self.list(2, 1);
        self.begin();
        self.i64(1, 2);
        self.i64(2, 1);
        self.i64(3, 3);
        self.i64(4, 4);
        self.string(5, "op");
        self.i32(7, 1);
        self.i64(8, 1_700_000_000_000_000);
        self.i64(9, 1500);
        self.list(10, 3);
        self.tag("a", "1");
        self.tag("span.kind", "server");
        self.tag("z", "2");
        self.stop();
        self.stop();
    }
}

fn check(traces: Vec<ferrotel_core::pdata::trace::ResourceSpans>) {
    let keys = |kvs: &[ferrotel_core::pdata::common::KeyValue]| -> Vec<String> {
        kvs.iter().map(|kv| kv.key.clone()).collect()
    };
    let r = traces[0].resource.as_ref().unwrap();
    assert_eq!(
        keys(&r.attributes),
        ["service.name", "host.name", "opencensus.exporterversion"]
    );
    assert_eq!(
        r.attributes[2].value.as_ref().unwrap().value,
        Some(Value::StringValue("Jaeger-Python-4.8.0".into()))
    );
    let span = &traces[0].scope_spans[0].spans[0];
    assert_eq!(
        span.trace_id,
        [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    );
    assert_eq!(span.parent_span_id, 4u64.to_be_bytes());
    assert_eq!(span.kind, 2);
    assert_eq!(span.flags, 1);
    assert_eq!(
        span.end_time_unix_nano - span.start_time_unix_nano,
        1_500_000
    );
    // `span.kind` was removed: the last attribute took its place, as Go's.
    assert_eq!(keys(&span.attributes), ["a", "z"]);
}

#[test]
fn thrift_batches_decode_in_both_protocols_and_translate_as_go_s() {
    for compact in [false, true] {
        let mut w = Writer::new(compact);
        w.batch();
        let protocol = if compact {
            Protocol::Compact
        } else {
            Protocol::Binary
        };
        let batch = thrift_batch(&w.out, protocol).unwrap();
        assert_eq!(batch.spans[0].tags[1].value, TagValue::Str("server".into()));
        check(thrift_to_traces(batch));
    }
}

#[test]
fn agent_datagrams_carry_an_emit_batch_call() {
    // Compact: protocol id, version 1 with type ONEWAY (4), seq id, name.
    let mut w = Writer::new(true);
    w.out.extend_from_slice(&[0x82, (4 << 5) | 1, 0x01, 9]);
    w.out.extend_from_slice(b"emitBatch");
    w.begin();
    w.field(1, STRUCT);
    w.batch();
    w.stop();
    check(thrift_to_traces(
        agent_datagram(&w.out, Protocol::Compact).unwrap(),
    ));
    // Binary, strict: version and type CALL (1), name, seq id.
    let mut w = Writer::new(false);
    w.out.extend_from_slice(&0x8001_0001u32.to_be_bytes());
    w.out.extend_from_slice(&9i32.to_be_bytes());
    w.out.extend_from_slice(b"emitBatch");
    w.out.extend_from_slice(&1i32.to_be_bytes());
    w.begin();
    w.field(1, STRUCT);
    w.batch();
    w.stop();
    check(thrift_to_traces(
        agent_datagram(&w.out, Protocol::Binary).unwrap(),
    ));
}

#[test]
fn broken_datagrams_are_errors_not_panics() {
    let mut w = Writer::new(true);
    w.batch();
    for len in 0..w.out.len() {
        assert!(
            thrift_batch(&w.out[..len], Protocol::Compact).is_err(),
            "{len}"
        );
    }
    let mut rng = fastrand::Rng::with_seed(3);
    for _ in 0..20_000 {
        let mut bytes = w.out.clone();
        let i = rng.usize(0..bytes.len());
        bytes[i] = rng.u8(..);
        let _ = thrift_batch(&bytes, Protocol::Compact);
        let _ = thrift_batch(&bytes, Protocol::Binary);
        let _ = agent_datagram(&bytes, Protocol::Compact);
    }
}

#[test]
fn protobuf_trace_ids_may_be_the_low_half_only_and_other_lengths_are_refused() {
    let request = |trace_id: &[u8]| {
        let mut span = vec![0x0a, trace_id.len() as u8];
        span.extend_from_slice(trace_id);
        span.extend_from_slice(&[0x12, 8, 0, 0, 0, 0, 0, 0, 0, 9, 0x1a, 2, b'o', b'p']);
        let mut batch = vec![0x0a, span.len() as u8];
        batch.extend(span);
        let mut out = vec![0x0a, batch.len() as u8];
        out.extend(batch);
        out
    };
    let batch = crate::post_spans_request(&request(&[0, 0, 0, 0, 0, 0, 0, 7])).unwrap();
    assert_eq!(batch.spans[0].trace_id, (0, 7));
    let spans = crate::proto_to_traces(batch);
    assert_eq!(spans[0].scope_spans[0].spans[0].trace_id[15], 7);
    assert_eq!(
        crate::post_spans_request(&request(&[1; 12])).unwrap_err(),
        "invalid length for TraceID: 12"
    );
}
