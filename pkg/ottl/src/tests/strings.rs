//! The string converters (`src/functions/strings.rs`): Concat, Split,
//! ConvertCase, ToUpperCase, ToLowerCase, ToSnakeCase, ToCamelCase,
//! Substring, HasPrefix, HasSuffix, TrimPrefix, TrimSuffix and Trim.

use super::{attr, logs, records, run, s};
use crate::{ErrorMode, Program};
use ferrotel_core::pdata::Signal;
use ferrotel_core::pdata::common::{AnyValue, ArrayValue, any_value::Value as V};

#[test]
fn concat_joins_values_and_writes_nil_as_go_does() {
    let mut data = logs();
    run(
        &mut data,
        &[r#"set(log.attributes["c"], Concat([log.attributes["http.method"], "x", 1, nil], "-"))"#],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "c"), Some(&s("GET-x-1-<nil>")));
}

#[test]
fn split_cuts_the_text_at_each_delimiter() {
    let mut data = logs();
    run(
        &mut data,
        &[r#"set(log.attributes["second"], Split(log.body, " ")[1])"#],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "second"), Some(&s("/user/42/list/7")));
}

#[test]
fn convert_case_writes_lower_snake_and_camel_case() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["upper"], ConvertCase(log.attributes["http.method"], "lower"))"#,
            r#"set(log.attributes["snake"], ConvertCase("HttpMethod", "snake"))"#,
            r#"set(log.attributes["camel"], ConvertCase("http_request_method", "camel"))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "upper"), Some(&s("get")));
    assert_eq!(attr(a, "snake"), Some(&s("http_method")));
    assert_eq!(attr(a, "camel"), Some(&s("HttpRequestMethod")));
}

#[test]
fn convert_case_refuses_an_unknown_case() {
    let (statement, want) = (
        r#"set(log.attributes["x"], ConvertCase(log.body, "kebab"))"#,
        "invalid case: kebab",
    );
    let err = Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains(want), "{statement}: {err}");
}

#[test]
fn to_upper_lower_snake_and_camel_case_convert_the_case() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["up"], ToUpperCase("abc"))"#,
            r#"set(log.attributes["low"], ToLowerCase("ABC"))"#,
            r#"set(log.attributes["snake"], ToSnakeCase("httpRequestMethod"))"#,
            r#"set(log.attributes["camel"], ToCamelCase("http_request_method"))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "up"), Some(&s("ABC")));
    assert_eq!(attr(a, "low"), Some(&s("abc")));
    assert_eq!(attr(a, "snake"), Some(&s("http_request_method")));
    assert_eq!(attr(a, "camel"), Some(&s("HttpRequestMethod")));
}

#[test]
fn substring_takes_the_given_start_and_length() {
    let mut data = logs();
    run(
        &mut data,
        &[r#"set(log.attributes["sub"], Substring(log.body, 0, 3))"#],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "sub"), Some(&s("GET")));
}

#[test]
fn substring_past_the_end_fails_the_statement_unless_silenced() {
    let statement = r#"set(log.attributes["x"], Substring(log.body, 0, 1000))"#;
    let p = Program::compile(Signal::Logs, None, &[statement.to_string()], &[]).unwrap();
    let mut data = logs();
    assert!(
        p.run(&mut data, ErrorMode::Propagate).is_err(),
        "{statement}"
    );
    p.run(&mut data, ErrorMode::Silent).unwrap();
}

#[test]
fn has_prefix_and_has_suffix_test_the_ends_of_the_text() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["prefix"], HasPrefix(log.body, "GET"))"#,
            r#"set(log.attributes["suffix"], HasSuffix(log.body, "nope"))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "prefix"), Some(&V::BoolValue(true)));
    assert_eq!(attr(a, "suffix"), Some(&V::BoolValue(false)));
}

#[test]
fn trim_prefix_and_trim_suffix_strip_the_given_ends() {
    let mut data = logs();
    run(
        &mut data,
        &[r#"set(log.attributes["trimmed"], TrimPrefix(TrimSuffix("[x]", "]"), "["))"#],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "trimmed"), Some(&s("x")));
}

#[test]
fn trim_strips_spaces_or_the_given_characters_as_go_s_strings_trim() {
    // Expected values are Go's strings.Trim, checked with `go run`.
    let mut data = logs();
    run(
        &mut data,
        &[r#"set(log.attributes["trimmed"], [Trim("  hi  "), Trim("  **hi* ", " *")])"#],
    );
    let a = &records(&data)[0].attributes;
    let strings = |v: &[&str]| {
        V::ArrayValue(ArrayValue {
            values: v.iter().map(|x| AnyValue { value: Some(s(x)) }).collect(),
        })
    };
    assert_eq!(attr(a, "trimmed"), Some(&strings(&["hi", "hi"])));
}
