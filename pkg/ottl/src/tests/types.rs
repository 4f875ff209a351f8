//! The type converters (`src/functions/types.rs`): Int, Double, Bool,
//! String, ParseInt, Log, the Is<Type> checks and IsEmpty.

use super::{attr, ints, list, logs, records, run, s};
use crate::{ErrorMode, Program};
use ferrotel_core::pdata::Signal;
use ferrotel_core::pdata::common::any_value::Value as V;

#[test]
fn int_double_and_string_convert_between_types() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["int"], Int("42"))"#,
            r#"set(log.attributes["double"], Double(log.attributes["count"]))"#,
            r#"set(log.attributes["string"], String(log.attributes["count"]))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "int"), Some(&V::IntValue(42)));
    assert_eq!(attr(a, "double"), Some(&V::DoubleValue(3.0)));
    assert_eq!(attr(a, "string"), Some(&s("3")));
}

#[test]
fn bool_reads_true() {
    let mut data = logs();
    run(&mut data, &[r#"set(log.attributes["bool"], Bool("true"))"#]);
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "bool"), Some(&V::BoolValue(true)));
}

#[test]
fn is_string_int_double_bool_map_and_list_recognize_their_type() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["types"], Concat([IsString(log.body), IsInt(log.attributes["count"]), IsDouble(1.5), IsBool(true), IsMap(log.attributes), IsList([1])], ","))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "types"), Some(&s("true,true,true,true,true,true")));
}

#[test]
fn parse_int_reads_bases_prefixes_and_underscores_as_go_s_strconv() {
    // Expected values are Go's strconv.ParseInt, checked with `go run`.
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["ints"], [ParseInt("0x1F", 0), ParseInt("-101", 2), ParseInt("1_000", 0), ParseInt("017", 0), ParseInt("zz", 36), ParseInt("0x_1f", 0)])"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "ints"), Some(&ints(&[31, -5, 1000, 15, 1295, 31])));
}

#[test]
fn log_is_the_natural_logarithm() {
    let mut data = logs();
    run(&mut data, &[r#"set(log.attributes["log"], Log(100))"#]);
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "log"), Some(&V::DoubleValue(4.605170185988092)));
}

#[test]
fn is_empty_holds_for_empty_text_zero_nil_and_empty_lists() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["empty"], [IsEmpty(""), IsEmpty(0), IsEmpty(log.attributes["nope"]), IsEmpty(log.body), IsEmpty([]), IsEmpty(log.attributes)])"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(
        attr(a, "empty"),
        Some(&list(vec![
            V::BoolValue(true),
            V::BoolValue(true),
            V::BoolValue(true),
            V::BoolValue(false),
            V::BoolValue(true),
            V::BoolValue(false),
        ]))
    );
}

#[test]
fn parse_int_and_log_errors_are_go_s() {
    for (statement, want) in [
        (
            r#"set(log.attributes["x"], ParseInt("9223372036854775808", 10))"#,
            r#"strconv.ParseInt: parsing "9223372036854775808": value out of range"#,
        ),
        (
            r#"set(log.attributes["x"], ParseInt("1__0", 0))"#,
            r#"strconv.ParseInt: parsing "1__0": invalid syntax"#,
        ),
        (
            r#"set(log.attributes["x"], ParseInt("12", 1))"#,
            r#"strconv.ParseInt: parsing "12": invalid base 1"#,
        ),
        (
            r#"set(log.attributes["x"], ParseInt("", 10))"#,
            "target cannot be empty",
        ),
        (
            r#"set(log.attributes["x"], ParseInt("12", -1))"#,
            "base cannot be negative",
        ),
        (
            r#"set(log.attributes["x"], Log(0))"#,
            "invalid input: expected number greater than zero but got 0",
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
