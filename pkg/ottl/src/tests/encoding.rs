//! The encoding converters (`src/functions/encoding.rs`): Hex,
//! Base64Encode and Decode.

use super::{attr, logs, records, run, s};
use crate::{ErrorMode, Program};
use ferrotel_core::pdata::Signal;
use ferrotel_core::pdata::common::{AnyValue, ArrayValue, any_value::Value as V};

#[test]
fn hex_writes_the_bytes_of_the_text() {
    let mut data = logs();
    run(&mut data, &[r#"set(log.attributes["hex"], Hex("ab"))"#]);
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "hex"), Some(&s("6162")));
}

#[test]
fn base64_encode_writes_each_variant_and_decode_reads_it_back() {
    // Expected values are Go's encoding/base64, checked with `go run`.
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["b64"], [Base64Encode("hello world?>"), Base64Encode("hello world?>", "base64-raw"), Base64Encode("hello world?>", "base64-url"), Base64Encode("hello world?>", "base64-raw-url")])"#,
            r#"set(log.attributes["decoded"], Decode("aGVsbG8gd29ybGQ/Pg==", "base64"))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    let strings = |v: &[&str]| {
        V::ArrayValue(ArrayValue {
            values: v.iter().map(|x| AnyValue { value: Some(s(x)) }).collect(),
        })
    };
    assert_eq!(
        attr(a, "b64"),
        Some(&strings(&[
            "aGVsbG8gd29ybGQ/Pg==",
            "aGVsbG8gd29ybGQ/Pg",
            "aGVsbG8gd29ybGQ_Pg==",
            "aGVsbG8gd29ybGQ_Pg"
        ]))
    );
    assert_eq!(attr(a, "decoded"), Some(&s("hello world?>")));
}

#[test]
fn decode_and_base64_encode_errors_are_go_s() {
    for (statement, want) in [
        (
            r#"set(log.attributes["x"], Decode("aGVs!G8=", "base64"))"#,
            "could not decode: illegal base64 data at input byte 4",
        ),
        (
            r#"set(log.attributes["x"], Decode("aGVsbG8", "base64"))"#,
            "could not decode: illegal base64 data at input byte 4",
        ),
        (
            r#"set(log.attributes["x"], Base64Encode("a", "base32"))"#,
            "unsupported base64 variant: base32",
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
fn decode_refuses_an_encoding_ferrotel_does_not_have() {
    let (statement, want) = (
        r#"set(log.attributes["x"], Decode(log.body, "utf-16"))"#,
        "is not supported by ferrotel",
    );
    let err = Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains(want), "{statement}: {err}");
}
