//! The collection converters (`src/functions/collections.rs`): Len, Keys,
//! Values, ContainsValue, Index, Coalesce, Sort and SliceToMap.

use super::{attr, kv, list, logs, records, run, s};
use crate::{ErrorMode, Program};
use ferrotel_core::pdata::Signal;
use ferrotel_core::pdata::common::{KeyValueList, any_value::Value as V};

#[test]
fn len_of_a_string_is_its_byte_count() {
    let mut data = logs();
    run(&mut data, &[r#"set(log.attributes["len"], Len(log.body))"#]);
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "len"), Some(&V::IntValue(39)));
}

#[test]
fn len_of_an_int_fails_the_statement_unless_silenced() {
    let statement = r#"set(log.attributes["x"], Len(log.severity_number))"#;
    let p = Program::compile(Signal::Logs, None, &[statement.to_string()], &[]).unwrap();
    let mut data = logs();
    assert!(
        p.run(&mut data, ErrorMode::Propagate).is_err(),
        "{statement}"
    );
    p.run(&mut data, ErrorMode::Silent).unwrap();
}

#[test]
fn keys_lists_the_keys_of_a_map() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["kv2"], ParseKeyValue("k1!v1_k2!v2", "!", "_"))"#,
            r#"set(log.attributes["keys"], Keys(log.attributes["kv2"]))"#,
            // The list is read as its JSON text.
            r#"stringify_all(log.attributes)"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "keys"), Some(&s(r#"["k1","k2"]"#)));
}

#[test]
fn values_lists_the_values_of_a_map_in_order() {
    let mut data = logs();
    run(
        &mut data,
        &[r#"set(log.attributes["values"], Values(resource.attributes))"#],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "values"), Some(&list(vec![s("prod"), s("node-1")])));
}

#[test]
fn coalesce_returns_the_first_value_that_is_not_nil() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["first"], Coalesce([log.attributes["nope"], nil, "fallback", "later"]))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "first"), Some(&s("fallback")));
}

#[test]
fn contains_value_finds_an_item_of_a_list() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["has"], ContainsValue(["a", "b"], "b"))"#,
            r#"stringify_all(log.attributes)"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "has"), Some(&s("true")), "stringify_all ran last");
}

#[test]
fn index_finds_where_the_text_starts() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["at"], Index("hello", "ll"))"#,
            r#"stringify_all(log.attributes)"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "at"), Some(&s("2")));
}

#[test]
fn sort_orders_ints_strings_and_mixed_lists_as_go_does() {
    // Expected values follow the pkg/ottl README's examples.
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["ints"], Sort([3, 1, 2]))"#,
            r#"set(log.attributes["desc"], Sort(["b", "c", "a"], "desc"))"#,
            r#"set(log.attributes["mixed"], Sort([2.5, 1, 3]))"#,
            r#"set(log.attributes["as_strings"], Sort([true, "a", 10]))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(
        attr(a, "ints"),
        Some(&list(vec![V::IntValue(1), V::IntValue(2), V::IntValue(3)]))
    );
    assert_eq!(attr(a, "desc"), Some(&list(vec![s("c"), s("b"), s("a")])));
    assert_eq!(
        attr(a, "mixed"),
        Some(&list(vec![
            V::IntValue(1),
            V::DoubleValue(2.5),
            V::IntValue(3)
        ]))
    );
    // "10" < "a" < "true" as strings; the elements keep their types.
    assert_eq!(
        attr(a, "as_strings"),
        Some(&list(vec![V::IntValue(10), s("a"), V::BoolValue(true)]))
    );
}

#[test]
fn slice_to_map_keys_the_elements_by_index_or_by_a_path() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["by_index"], SliceToMap(["x", "y"]))"#,
            r#"set(log.attributes["by_name"], SliceToMap([{"name": "a", "v": {"n": 1}}, {"name": "b", "v": {"n": 2}}], ["name"], ["v", "n"]))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(
        attr(a, "by_index"),
        Some(&V::KvlistValue(KeyValueList {
            values: vec![kv("0", s("x")), kv("1", s("y"))]
        }))
    );
    assert_eq!(
        attr(a, "by_name"),
        Some(&V::KvlistValue(KeyValueList {
            values: vec![kv("a", V::IntValue(1)), kv("b", V::IntValue(2))]
        }))
    );
}

#[test]
fn slice_to_map_sort_and_values_errors_are_go_s() {
    for (statement, want) in [
        (
            r#"set(log.attributes["x"], SliceToMap([1, 2], ["name"]))"#,
            "slice elements must be maps when using `key_path` or `value_path`, but could not cast element of type `Int` to a map",
        ),
        (
            r#"set(log.attributes["x"], SliceToMap([{"id": 1}], ["name"]))"#,
            "could not extract key from element 0: provided object does not contain the path [name]",
        ),
        (
            r#"set(log.attributes["x"], Sort(log.body))"#,
            "sort with unsupported type",
        ),
        (
            r#"set(log.attributes["x"], Values(log.body))"#,
            "expected pcommon.Map but got",
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
fn sort_refuses_an_order_other_than_asc_or_desc() {
    let (statement, want) = (
        r#"set(log.attributes["x"], Sort([1], "up"))"#,
        r#"invalid arguments: up. Order should be either "asc" or "desc""#,
    );
    let err = Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains(want), "{statement}: {err}");
}
