//! The ID converters (`src/functions/ids.rs`): TraceID, SpanID and UUID.

use super::{attr, logs, records, run};
use crate::{ErrorMode, Program};
use ferrotel_core::pdata::Signal;
use ferrotel_core::pdata::common::any_value::Value as V;

#[test]
fn trace_id_and_span_id_read_hex_text_and_ints() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.trace_id, TraceID("0102030405060708090a0b0c0d0e0f10"))"#,
            r#"set(log.span_id, SpanID(0x0102030405060708))"#,
        ],
    );
    let r = &records(&data)[0];
    assert_eq!(r.trace_id, (1..=16).collect::<Vec<u8>>());
    assert_eq!(r.span_id, (1..=8).collect::<Vec<u8>>());
}

#[test]
fn trace_id_and_span_id_refuse_a_wrong_length_and_bad_hex() {
    for (statement, want) in [
        (
            r#"set(log.trace_id, TraceID("0102"))"#,
            "TraceID: could not decode ID: invalid length: expected 16 or 32 bytes, got 4",
        ),
        (
            r#"set(log.span_id, SpanID("zz02030405060708"))"#,
            "SpanID: could not decode ID: invalid hex",
        ),
    ] {
        let p = Program::compile(Signal::Logs, None, &[statement.to_string()], &[]).unwrap();
        let err = p
            .run(&mut logs(), ErrorMode::Propagate)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(want), "{statement}: {err}");
    }
}

#[test]
fn uuid_writes_a_version_4_uuid() {
    let mut data = logs();
    run(&mut data, &[r#"set(log.attributes["uuid"], UUID())"#]);
    let a = &records(&data)[0].attributes;
    let Some(V::StringValue(uuid)) = attr(a, "uuid") else {
        panic!("{a:?}")
    };
    let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "{uuid}");
    assert_eq!(&uuid[14..15], "4", "version 4: {uuid}");
}
