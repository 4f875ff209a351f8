//! The time and duration converters (`src/functions/time.rs`): Time,
//! Now, Unix, UnixNano, UnixMicro, UnixMilli, UnixSeconds, FormatTime,
//! TruncateTime, the time parts (Year … Weekday), Duration and the
//! duration units (Hours … Nanoseconds).

use super::{attr, ints, list, logs, records, run, s};
use crate::{ErrorMode, Program};
use ferrotel_core::pdata::Signal;
use ferrotel_core::pdata::common::any_value::Value as V;

#[test]
fn time_parses_a_strftime_layout_with_milliseconds() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["t"], UnixNano(Time("2023-11-14T22:13:20.500Z", "%Y-%m-%dT%H:%M:%S.%LZ")))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "t"), Some(&V::IntValue(1_700_000_000_500_000_000)));
}

#[test]
fn unix_nano_of_the_record_time_is_its_nanoseconds() {
    let mut data = logs();
    run(
        &mut data,
        &[r#"set(log.attributes["since"], UnixNano(log.time) - 1700000000000000000)"#],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "since"), Some(&V::IntValue(123_000_000)));
}

#[test]
fn unix_milli_unix_seconds_and_unix_convert_between_times_and_ints() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["ms"], UnixMilli(log.time))"#,
            r#"set(log.attributes["s"], UnixSeconds(log.time))"#,
            r#"set(log.attributes["unix"], UnixNano(Unix(1700000000, 5)))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "ms"), Some(&V::IntValue(1_700_000_000_123)));
    assert_eq!(attr(a, "s"), Some(&V::IntValue(1_700_000_000)));
    assert_eq!(
        attr(a, "unix"),
        Some(&V::IntValue(1_700_000_000_000_000_005))
    );
}

#[test]
fn now_is_later_than_the_record_time() {
    let mut data = logs();
    run(
        &mut data,
        &[r#"set(log.attributes["later"], true) where Now() > log.time"#],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "later"), Some(&V::BoolValue(true)));
}

#[test]
fn a_duration_added_to_a_time_moves_it() {
    let mut data = logs();
    run(
        &mut data,
        &[r#"set(log.attributes["dur"], UnixNano(Unix(0) + Duration("1m30s")))"#],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "dur"), Some(&V::IntValue(90_000_000_000)));
}

#[test]
fn time_parts_and_unix_micro_are_go_s() {
    // Expected values are Go's time package for the same inputs, checked
    // with `go run`; log.time is 2023-11-14 22:13:20.123 UTC, a Tuesday.
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["parts"], [Year(log.time), Month(log.time), Day(log.time), Hour(log.time), Minute(log.time), Second(log.time), Nanosecond(log.time), Weekday(log.time)])"#,
            r#"set(log.attributes["micro"], UnixMicro(log.time))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(
        attr(a, "parts"),
        Some(&ints(&[2023, 11, 14, 22, 13, 20, 123_000_000, 2]))
    );
    assert_eq!(attr(a, "micro"), Some(&V::IntValue(1_700_000_000_123_000)));
}

#[test]
fn truncate_time_rounds_down_to_a_multiple_of_the_duration_as_go_does() {
    // Expected values are Go's time.Truncate, checked with `go run`.
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["hour"], UnixNano(TruncateTime(log.time, Duration("1h"))))"#,
            r#"set(log.attributes["7h"], UnixNano(TruncateTime(log.time, Duration("7h"))))"#,
            r#"set(log.attributes["week"], UnixNano(TruncateTime(log.time, Duration("168h"))))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(
        attr(a, "hour"),
        Some(&V::IntValue(1_699_999_200_000_000_000))
    );
    assert_eq!(attr(a, "7h"), Some(&V::IntValue(1_699_984_800_000_000_000)));
    assert_eq!(
        attr(a, "week"),
        Some(&V::IntValue(1_699_833_600_000_000_000))
    );
}

#[test]
fn format_time_writes_a_strftime_layout() {
    let mut data = logs();
    run(
        &mut data,
        &[r#"set(log.attributes["formatted"], FormatTime(log.time, "%Y-%m-%dT%H:%M:%S.%L"))"#],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "formatted"), Some(&s("2023-11-14T22:13:20.123")));
}

#[test]
fn duration_units_are_go_s_float_hours_minutes_seconds_and_int_fractions() {
    // Expected values are Go's time.Duration methods, checked with `go run`.
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["durations"], [Hours(Duration("1h30m")), Minutes(Duration("90s")), Seconds(Duration("1500ms")), Milliseconds(Duration("1.5s")), Microseconds(Duration("2ms")), Nanoseconds(Duration("1us")), Milliseconds(Duration("-1500us"))])"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(
        attr(a, "durations"),
        Some(&list(vec![
            V::DoubleValue(1.5),
            V::DoubleValue(1.5),
            V::DoubleValue(1.5),
            V::IntValue(1500),
            V::IntValue(2000),
            V::IntValue(1000),
            V::IntValue(-1),
        ]))
    );
}

#[test]
fn time_converters_fail_on_text_that_is_not_a_time_or_duration() {
    for statement in [
        r#"set(log.attributes["x"], Time(log.body, "%Y"))"#,
        r#"set(log.attributes["x"], UnixNano(log.body))"#,
        r#"set(log.attributes["x"], Duration("soon"))"#,
    ] {
        let p = Program::compile(Signal::Logs, None, &[statement.to_string()], &[]).unwrap();
        let mut data = logs();
        assert!(
            p.run(&mut data, ErrorMode::Propagate).is_err(),
            "{statement}"
        );
        p.run(&mut data, ErrorMode::Silent).unwrap();
    }
}

#[test]
fn time_parts_and_duration_units_name_the_type_they_expected() {
    for (statement, want) in [
        (
            r#"set(log.attributes["x"], Hour(log.body))"#,
            "expected time but got",
        ),
        (
            r#"set(log.attributes["x"], Hours(log.time))"#,
            "expected duration but got",
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
fn time_and_format_time_refuse_unsupported_and_empty_layouts() {
    for (statement, want) in [
        (
            r#"set(log.attributes["x"], Time(log.body, "%Q"))"#,
            "%Q is not supported",
        ),
        (
            r#"set(log.attributes["x"], FormatTime(log.time, ""))"#,
            "format cannot be nil",
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
fn time_converters_refuse_locations_and_locales_they_cannot_read() {
    let compile = |statement: &str| {
        Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert!(
        compile(r#"set(log.attributes["t"], Time(log.body, "%Y", "America/New_York"))"#)
            .contains("Time: locations other than UTC are not supported by ferrotel yet")
    );
    assert!(
        compile(r#"set(log.attributes["t"], Time(log.body, "%Y", "UTC", "de"))"#)
            .contains("Time: locale is not supported by ferrotel yet")
    );
    assert_eq!(
        compile(r#"set(log.attributes["t"], Time(log.body, "%Y", "UTC"))"#),
        "",
        "UTC is read"
    );
    let p = Program::compile(
        Signal::Logs,
        None,
        &[r#"set(log.attributes["t"], Unix(1, "x"))"#.to_string()],
        &[],
    )
    .unwrap();
    let err = p.run(&mut logs(), ErrorMode::Propagate).unwrap_err();
    assert!(
        err.to_string()
            .contains("Unix: nanoseconds must be an int64"),
        "{err}"
    );
}
