//! The replace editors (`src/functions/editors/replace.rs`):
//! replace_pattern, replace_all_patterns, replace_match and
//! replace_all_matches.

use super::{attr, logs, records, run, s};
use crate::Program;
use ferrotel_core::pdata::{Signal, Telemetry};

#[test]
fn replace_pattern_rewrites_the_match_with_its_capture_groups() {
    let mut data = logs();
    run(
        &mut data,
        &[r#"replace_pattern(log.body, "password=[^\\s]*(\\s?)", "password=***$1")"#],
    );
    let r = &records(&data)[0];
    assert_eq!(
        r.body.as_ref().unwrap().value,
        Some(s("GET /user/42/list/7 password=*** ok"))
    );
}

#[test]
fn replace_all_patterns_rewrites_keys_or_values() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"replace_all_patterns(log.attributes, "key", "^http\\.(.*)", "h.$1")"#,
            r#"replace_all_patterns(log.attributes, "value", "^G(ET)$", "g$1")"#,
        ],
    );
    let r = &records(&data)[0];
    assert_eq!(attr(&r.attributes, "h.method"), Some(&s("gET")));
}

#[test]
fn replace_match_replaces_a_value_matching_the_glob() {
    let mut data = logs();
    run(
        &mut data,
        &[r#"replace_match(resource.attributes["host.name"], "node-*", "a-node")"#],
    );
    let Telemetry::Logs(rl) = &data else { panic!() };
    assert_eq!(
        attr(&rl[0].resource.as_ref().unwrap().attributes, "host.name"),
        Some(&s("a-node"))
    );
}

#[test]
fn replace_pattern_hashes_the_capture_with_a_function_and_a_format() {
    let mut data = logs();
    run(
        &mut data,
        &[r#"replace_pattern(log.body, "/user/(\\d+)/", "$1", SHA256, "/user/%s/")"#],
    );
    assert_eq!(
        records(&data)[0].body.as_ref().unwrap().value,
        Some(s(
            "GET /user/73475cb40a568e8da8a045ced110137e159f890ac4da883b6b17dc651b3a8049/list/7 password=hunter2 ok"
        ))
    );
}

#[test]
fn replace_all_matches_replaces_every_value_matching_the_glob() {
    let mut data = logs();
    run(
        &mut data,
        &[r#"replace_all_matches(log.attributes, "GE?", "verb")"#],
    );
    assert_eq!(
        attr(&records(&data)[0].attributes, "http.method"),
        Some(&s("verb"))
    );
}

#[test]
fn replace_editors_refuse_unknown_modes_functions_and_formats() {
    for (statement, want) in [
        (
            r#"replace_all_patterns(log.attributes, "both", "a", "b")"#,
            "invalid mode",
        ),
        (
            r#"replace_pattern(log.body, "a", "b", FNV)"#,
            "not supported as a replacement function",
        ),
        (
            r#"replace_pattern(log.body, "a", "b", SHA256, "no-format")"#,
            "exactly one %s",
        ),
    ] {
        let err = Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(want), "{statement}: {err}");
    }
}
