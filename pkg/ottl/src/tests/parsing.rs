//! The parsing converters (`src/functions/parsing.rs`): ParseJSON,
//! ParseKeyValue, ToKeyValueString and ParseCSV.

use super::{attr, kv, logs, records, run, s};
use crate::{ErrorMode, Program};
use ferrotel_core::pdata::Signal;
use ferrotel_core::pdata::common::{KeyValueList, any_value::Value as V};

#[test]
fn parse_json_of_text_that_is_not_json_fails_the_statement_unless_silenced() {
    let statement = r#"set(log.attributes["x"], ParseJSON(log.body))"#;
    let p = Program::compile(Signal::Logs, None, &[statement.to_string()], &[]).unwrap();
    let mut data = logs();
    assert!(
        p.run(&mut data, ErrorMode::Propagate).is_err(),
        "{statement}"
    );
    p.run(&mut data, ErrorMode::Silent).unwrap();
}

#[test]
fn parse_key_value_splits_pairs_and_keeps_quoted_spaces() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["kv"], ParseKeyValue("k1=v1 k2=\"v 2\" k3=v3"))"#,
            // The map is read as its JSON text.
            r#"stringify_all(log.attributes)"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(
        attr(a, "kv"),
        Some(&s(r#"{"k1":"v1","k2":"v 2","k3":"v3"}"#))
    );
}

#[test]
fn parse_key_value_refuses_an_unterminated_quote() {
    let p = Program::compile(
        Signal::Logs,
        None,
        &[r#"set(log.attributes["x"], ParseKeyValue("k=\"open"))"#.into()],
        &[],
    )
    .unwrap();
    let err = p
        .run(&mut logs(), ErrorMode::Propagate)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("never reached the end of a quoted value"),
        "{err}"
    );
}

#[test]
fn to_key_value_string_sorts_and_quotes_as_go_does() {
    // The first three statements only give the record the list and text
    // attributes the expected string holds.
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["b64"], [Base64Encode("hello world?>"), Base64Encode("hello world?>", "base64-raw"), Base64Encode("hello world?>", "base64-url"), Base64Encode("hello world?>", "base64-raw-url")])"#,
            r#"set(log.attributes["decoded"], Decode("aGVsbG8gd29ybGQ/Pg==", "base64"))"#,
            r#"set(log.attributes["trimmed"], [Trim("  hi  "), Trim("  **hi* ", " *")])"#,
            r#"set(log.attributes["kv"], ToKeyValueString(log.attributes, "=", " ", true)) where log.attributes["http.method"] == "GET""#,
            r#"set(log.attributes["quoted"], ToKeyValueString({"k 1": "v=\"x\"", "n": 2}))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(
        attr(a, "kv"),
        Some(&s(
            r#"b64="[\"aGVsbG8gd29ybGQ/Pg==\",\"aGVsbG8gd29ybGQ/Pg\",\"aGVsbG8gd29ybGQ_Pg==\",\"aGVsbG8gd29ybGQ_Pg\"]" count=3 decoded="hello world?>" http.method=GET json="{\"a\": 1, \"b\": \"two\"}" trimmed=[\"hi\",\"hi\"] user.password=x"#
        ))
    );
    assert_eq!(attr(a, "quoted"), Some(&s(r#""k 1"="v=\"x\"" n=2"#)));
}

#[test]
fn to_key_value_string_refuses_equal_or_empty_delimiters() {
    for (statement, want) in [
        (
            r#"set(log.attributes["x"], ToKeyValueString(log.attributes, ":", ":"))"#,
            r#"pair delimiter ":" cannot be equal to delimiter ":""#,
        ),
        (
            r#"set(log.attributes["x"], ToKeyValueString(log.attributes, ""))"#,
            "delimiter cannot be set to an empty string",
        ),
    ] {
        let err = Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(want), "{statement}: {err}");
    }
}

#[test]
fn parse_csv_as_go_documents_it() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.body, "2023-01-01,INFO,\"hello, world\"")"#,
            r#"merge_maps(log.attributes, ParseCSV(log.body, "Time,Severity,Message"), "upsert")"#,
            r#"set(log.attributes["pipes"], ParseCSV("1;2;3", "a|b|c", ";", "|"))"#,
            r#"set(log.attributes["raw"], ParseCSV("a,\"b,c", "x,y,z", mode="ignoreQuotes"))"#,
            r#"set(log.attributes["lazy"], ParseCSV("a,b\"c", "x,y", ",", ",", "lazyQuotes"))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "Time"), Some(&s("2023-01-01")));
    assert_eq!(attr(a, "Severity"), Some(&s("INFO")));
    assert_eq!(attr(a, "Message"), Some(&s("hello, world")));
    let map = |pairs: &[(&str, &str)]| {
        V::KvlistValue(KeyValueList {
            values: pairs.iter().map(|(k, v)| kv(k, s(v))).collect(),
        })
    };
    assert_eq!(
        attr(a, "pipes"),
        Some(&map(&[("a", "1"), ("b", "2"), ("c", "3")]))
    );
    assert_eq!(
        attr(a, "raw"),
        Some(&map(&[("x", "a"), ("y", "\"b"), ("z", "c")]))
    );
    assert_eq!(attr(a, "lazy"), Some(&map(&[("x", "a"), ("y", "b\"c")])));
}

#[test]
fn parse_csv_errors_are_go_s() {
    let failing = |statement: &str| {
        Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
            .map_err(|e| e.to_string())
            .and_then(|p| {
                p.run(&mut logs(), ErrorMode::Propagate)
                    .map_err(|e| e.to_string())
            })
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    for (statement, want) in [
        (
            r#"set(log.attributes["x"], ParseCSV("a,b", "x,y,z"))"#,
            "map csv headers: wrong number of fields: expected 3, found 2",
        ),
        (
            r#"set(log.attributes["x"], ParseCSV("a", ""))"#,
            "headers must not be an empty string",
        ),
        (
            r#"set(log.attributes["x"], ParseCSV("a", "x", ";;"))"#,
            "delimiter must be a single character",
        ),
        (
            r#"set(log.attributes["x"], ParseCSV("a", "x", mode="loose"))"#,
            "unknown mode: loose",
        ),
        (
            r#"set(log.attributes["x"], ParseCSV(log.attributes["nope"], "x"))"#,
            "error getting value for target in ParseCSV",
        ),
    ] {
        let err = failing(statement);
        assert!(err.contains(want), "{statement}: {err}");
    }
}
