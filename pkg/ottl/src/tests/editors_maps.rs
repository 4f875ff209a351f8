//! The map editors (`src/functions/editors/maps.rs`): delete_key,
//! delete_matching_keys, keep_keys, keep_matching_keys, limit,
//! truncate_all, merge_maps, flatten and stringify_all.

use super::{attr, logs, records, run, s};
use crate::Program;
use ferrotel_core::pdata::common::any_value::Value as V;
use ferrotel_core::pdata::{Signal, Telemetry};

#[test]
fn delete_key_and_delete_matching_keys_remove_the_named_and_matching_keys() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"delete_key(log.attributes, "count")"#,
            r#"delete_matching_keys(log.attributes, "(?i).*password.*")"#,
        ],
    );
    let keys: Vec<&str> = records(&data)[0]
        .attributes
        .iter()
        .map(|kv| kv.key.as_str())
        .collect();
    assert_eq!(keys, ["http.method", "json"]);
}

#[test]
fn keep_keys_drops_every_other_attribute() {
    let mut data = logs();
    run(
        &mut data,
        &[r#"keep_keys(log.attributes, ["count", "json"])"#],
    );
    assert_eq!(records(&data)[0].attributes.len(), 2);
}

#[test]
fn keep_matching_keys_drops_the_keys_that_do_not_match() {
    let mut data = logs();
    run(
        &mut data,
        &[r#"keep_matching_keys(log.attributes, "^http")"#],
    );
    assert_eq!(records(&data)[0].attributes.len(), 1);
}

#[test]
fn limit_keeps_the_priority_keys_and_truncate_all_shortens_values() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"limit(log.attributes, 2, ["json"])"#,
            r#"truncate_all(resource.attributes, 3, true, "...")"#,
        ],
    );
    let kept: Vec<&str> = records(&data)[0]
        .attributes
        .iter()
        .map(|kv| kv.key.as_str())
        .collect();
    assert_eq!(kept, ["http.method", "json"]);
    let Telemetry::Logs(r) = &data else { panic!() };
    let res = &r[0].resource.as_ref().unwrap().attributes;
    assert_eq!(attr(res, "k8s.namespace.name"), Some(&s("pro...")));
}

#[test]
fn merge_maps_upserts_a_parsed_json_map() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"merge_maps(log.attributes, ParseJSON(log.attributes["json"]), "upsert") where IsMatch(log.attributes["json"], "^\\{")"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(
        attr(a, "a"),
        Some(&V::DoubleValue(1.0)),
        "JSON numbers are float64, as in Go"
    );
    assert_eq!(attr(a, "b"), Some(&s("two")));
}

#[test]
fn flatten_joins_nested_keys_and_list_indexes_with_dots() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.cache["m"], ParseJSON("{\"name\":\"test\",\"address\":{\"street\":\"first\",\"house\":1234},\"occupants\":[\"user 1\",\"user 2\"]}"))"#,
            r#"flatten(log.cache["m"])"#,
            r#"set(log.attributes["flat"], log.cache["m"])"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    let keys = |k: &str| match attr(a, k) {
        Some(V::KvlistValue(m)) => {
            // ParseJSON's key order is unspecified, as in Go.
            let mut k: Vec<_> = m.values.iter().map(|kv| kv.key.clone()).collect();
            k.sort();
            k
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(
        keys("flat"),
        [
            "address.house",
            "address.street",
            "name",
            "occupants.0",
            "occupants.1"
        ]
    );
}

#[test]
fn flatten_puts_the_prefix_before_every_key() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.cache["p"], ParseJSON("{\"a\":{\"b\":1}}"))"#,
            r#"flatten(log.cache["p"], "app")"#,
            r#"set(log.attributes["prefixed"], log.cache["p"])"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    let keys = |k: &str| match attr(a, k) {
        Some(V::KvlistValue(m)) => {
            let mut k: Vec<_> = m.values.iter().map(|kv| kv.key.clone()).collect();
            k.sort();
            k
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(keys("prefixed"), ["app.a.b"]);
}

#[test]
fn flatten_stops_at_the_given_depth() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.cache["d"], ParseJSON("{\"0\":{\"1\":{\"2\":{\"3\":\"v\"}}}}"))"#,
            r#"flatten(log.cache["d"], depth=2)"#,
            r#"set(log.attributes["deep"], log.cache["d"])"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    let keys = |k: &str| match attr(a, k) {
        Some(V::KvlistValue(m)) => {
            let mut k: Vec<_> = m.values.iter().map(|kv| kv.key.clone()).collect();
            k.sort();
            k
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(keys("deep"), ["0.1.2"], "as the Go docs show for depth 2");
}

#[test]
fn flatten_refuses_a_depth_below_one() {
    let err = Program::compile(
        Signal::Logs,
        None,
        &[r#"flatten(log.attributes, depth=0)"#.into()],
        &[],
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("must be greater than 0"), "{err}");
}

#[test]
fn stringify_all_turns_every_attribute_into_a_string() {
    let mut data = logs();
    run(&mut data, &[r#"stringify_all(log.attributes)"#]);
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "count"), Some(&s("3")));
}

#[test]
fn map_editors_refuse_arguments_go_refuses() {
    for (statement, want) in [
        (r#"truncate_all(log.attributes, -1)"#, "cannot be negative"),
        (
            r#"limit(log.attributes, 1, ["a", "b"])"#,
            "cannot be less than number of priority attributes",
        ),
        (
            r#"merge_maps(log.attributes, log.attributes, "replace")"#,
            "invalid value for strategy",
        ),
        (r#"keep_keys(log.body, "a")"#, "list of string literals"),
    ] {
        let err = Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(want), "{statement}: {err}");
    }
}

#[test]
fn delete_matching_keys_refuses_an_invalid_pattern() {
    let err = |statement: &str| {
        Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
            .err()
            .unwrap()
            .to_string()
    };
    assert!(err(r#"delete_matching_keys(log.attributes, "(")"#).contains("not a valid pattern"));
}
