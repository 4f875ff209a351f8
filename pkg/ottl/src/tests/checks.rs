//! The check converters (`src/functions/checks.rs`): IsInCIDR,
//! IsValidLuhn and IsRootSpan.

use super::{attr, bools, logs, records, run};
use crate::{ErrorMode, Program};
use ferrotel_core::pdata::Signal;

#[test]
fn is_in_cidr_matches_v4_v6_and_v4_mapped_addresses_as_go_s_net() {
    // Expected values follow Go's net.ParseCIDR/Contains.
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["cidr"], [IsInCIDR("192.168.1.10", ["10.0.0.0/8", "192.168.0.0/16"]), IsInCIDR("172.16.0.1", ["10.0.0.0/8"]), IsInCIDR("::ffff:10.1.2.3", ["10.0.0.0/8"]), IsInCIDR("2001:db8::1", ["2001:db8::/32"]), IsInCIDR("not an ip", ["10.0.0.0/8"]), IsInCIDR("10.0.0.1", ["0.0.0.0/0"])])"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(
        attr(a, "cidr"),
        Some(&bools(&[true, false, true, true, false, true]))
    );
}

#[test]
fn is_valid_luhn_checks_digits_in_text_and_ints() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["luhn"], [IsValidLuhn("4111 1111 1111 1111"), IsValidLuhn("4111111111111112"), IsValidLuhn(79927398713), IsValidLuhn("")])"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "luhn"), Some(&bools(&[true, false, true, false])));
}

#[test]
fn is_valid_luhn_of_a_letter_fails_as_go_s_atoi() {
    let (statement, want) = (
        r#"set(log.attributes["x"], IsValidLuhn("12a4"))"#,
        r#"strconv.Atoi: parsing "a": invalid syntax"#,
    );
    let p = Program::compile(Signal::Logs, None, &[statement.to_string()], &[]).unwrap();
    let err = p
        .run(&mut logs(), ErrorMode::Propagate)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains(want), "{statement}: {err}");
}

#[test]
fn is_in_cidr_refuses_a_bad_network_and_is_root_span_a_context_without_spans() {
    for (statement, want) in [
        (
            r#"set(log.attributes["x"], IsInCIDR(log.body, ["10.0.0.0/33"]))"#,
            "invalid CIDR address: 10.0.0.0/33",
        ),
        (
            r#"set(log.attributes["x"], IsRootSpan())"#,
            "only available in the span context",
        ),
    ] {
        let err = Program::compile(Signal::Logs, None, &[statement.to_string()], &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(want), "{statement}: {err}");
    }
}
