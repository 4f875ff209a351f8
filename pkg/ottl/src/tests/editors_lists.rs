//! The list editors (`src/functions/editors/lists.rs`): append and
//! delete_index.

use super::{attr, logs, records, run, s};
use ferrotel_core::pdata::common::any_value::Value as V;

#[test]
fn append_adds_one_value_or_a_list_of_values() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"append(log.attributes["list"], "one")"#,
            r#"append(log.attributes["list"], values=["two", "three"])"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    let Some(V::ArrayValue(list)) = attr(a, "list") else {
        panic!()
    };
    assert_eq!(list.values.len(), 3);
}

#[test]
fn delete_index_removes_the_range_from_a_list() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["list"], ["a", "b", "c", "d"])"#,
            r#"delete_index(log.attributes["list"], 1, 3)"#,
            // The list is read as its JSON text.
            r#"stringify_all(log.attributes)"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "list"), Some(&s(r#"["a","d"]"#)));
}
