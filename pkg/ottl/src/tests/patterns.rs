//! The pattern converters (`src/functions/patterns.rs`): IsMatch,
//! ExtractPatterns and Format.

use super::{attr, logs, records, run, s};
use crate::Program;
use ferrotel_core::pdata::Signal;

#[test]
fn extract_patterns_returns_the_named_captures() {
    let mut data = logs();
    run(
        &mut data,
        &[r#"set(log.attributes["user"], ExtractPatterns(log.body, "/user/(?P<id>\\d+)/")["id"])"#],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "user"), Some(&s("42")));
}

#[test]
fn format_writes_go_s_verbs_and_nil() {
    // Expected values are Go's fmt package, checked with `go run`.
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["line"], Format("%s has %d items, %.1f%% %v", [log.attributes["http.method"], log.attributes["count"], 99.5, log.attributes["nope"]]))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "line"), Some(&s("GET has 3 items, 99.5% <nil>")));
}

#[test]
fn extract_patterns_and_format_refuse_what_go_refuses() {
    for (statement, want) in [
        (
            r#"set(log.attributes["x"], ExtractPatterns(log.body, "(\\d+)"))"#,
            "named capture group",
        ),
        (
            r#"set(log.attributes["x"], Format("%c", [1]))"#,
            "the verb %c is not supported",
        ),
        (
            r#"set(log.attributes["x"], Format(log.body, [1]))"#,
            "format",
        ),
    ] {
        let err = Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(want), "{statement}: {err}");
    }
}
