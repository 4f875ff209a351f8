//! Golden cases from the Go translator's test data (`testdata/`, copied
//! from contrib v0.165.0 `pkg/translator/zipkin`), with the values the Go
//! code gives them.

use crate::to_otlp::sorted;
use crate::{from_traces, json, proto, to_traces, v1};
use ferrotel_core::pdata::common::any_value::Value;

fn attr<'a>(attrs: &'a [ferrotel_core::pdata::common::KeyValue], key: &str) -> Option<&'a Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn s(v: &str) -> Value {
    Value::StringValue(v.into())
}

#[test]
fn v2_single_json() {
    // zipkinv2/json_test.go TestJSONUnmarshaler_DecodeTraces: one span.
    let body = include_bytes!("../testdata/zipkin_v2_single.json");
    let rss = to_traces(json::decode_spans(body).unwrap(), false).unwrap();
    assert_eq!(rss.len(), 1);
    let r = rss[0].resource.as_ref().unwrap();
    assert_eq!(sorted(&r.attributes).len(), 1);
    assert_eq!(attr(&r.attributes, "service.name"), Some(&s("frontend")));
    let span = &rss[0].scope_spans[0].spans[0];
    assert_eq!(
        ferrotel_core::hex::encode(&span.trace_id),
        "4d1e00c0db9010db86154a4ba6e91385"
    );
    assert_eq!(
        ferrotel_core::hex::encode(&span.span_id),
        "4d1e00c0db9010db"
    );
    assert_eq!(
        ferrotel_core::hex::encode(&span.parent_span_id),
        "86154a4ba6e91385"
    );
    assert_eq!(span.kind, 3);
    assert_eq!(span.start_time_unix_nano, 1472470996199000000);
    assert_eq!(span.end_time_unix_nano, 1472470996406000000);
    let a = &span.attributes;
    assert_eq!(attr(a, "http.response.status_code"), Some(&s("500")));
    assert_eq!(attr(a, "http.status_code"), None);
    assert_eq!(attr(a, "network.local.address"), Some(&s("7::80:807f")));
    assert_eq!(attr(a, "service.peer.name"), Some(&s("backend")));
    assert_eq!(attr(a, "network.peer.address"), Some(&s("192.168.99.101")));
    assert_eq!(attr(a, "net.peer.port"), Some(&Value::IntValue(9000)));
    assert_eq!(a.len(), 10);
    assert_eq!(span.events.len(), 2);
    assert_eq!(span.events[1].name, "bar");
    assert_eq!(span.status.as_ref().unwrap().code, 0);

    let parsed = to_traces(json::decode_spans(body).unwrap(), true).unwrap();
    let a = &parsed[0].scope_spans[0].spans[0].attributes;
    assert_eq!(attr(a, "ping_count"), Some(&Value::IntValue(25)));
    assert_eq!(attr(a, "timeout"), Some(&Value::DoubleValue(12.3)));
    assert_eq!(attr(a, "cache_hit"), Some(&Value::BoolValue(true)));
    assert_eq!(attr(a, "clnt/finagle.version"), Some(&s("6.45.0")));
}

#[test]
fn v1_local_component() {
    // zipkinv1/json_test.go TestZipkinJSONFallbackToLocalComponent.
    let body = include_bytes!("../testdata/zipkin_v1_local_component.json");
    let rss = v1::decode_json(body, false, 7).unwrap();
    assert_eq!(rss.len(), 2);
    let names: Vec<_> = rss
        .iter()
        .map(|r| attr(&r.resource.as_ref().unwrap().attributes, "service.name").cloned())
        .collect();
    assert!(names.contains(&Some(s("myLocalComponent"))));
    assert!(names.contains(&Some(s("myServiceName"))));
}

#[test]
fn v1_single_batch() {
    // zipkinv1/json_test.go TestSingleJSONV1BatchToTraces (parse_string_tags).
    let body = include_bytes!("../testdata/zipkin_v1_single_batch.json");
    let rss = v1::decode_json(body, true, 7).unwrap();
    let spans: usize = rss.iter().map(|r| r.scope_spans[0].spans.len()).sum();
    assert!(spans > 0);
    for rs in &rss {
        for span in &rs.scope_spans[0].spans {
            assert_ne!(span.start_time_unix_nano, 0);
        }
    }
}

#[test]
fn otlp_round_trip_through_json_and_proto() {
    // zipkinv2/from_translator_test.go: OTLP -> Zipkin -> OTLP keeps the span.
    let body = include_bytes!("../testdata/zipkin_v2_single.json");
    let rss = to_traces(json::decode_spans(body).unwrap(), false).unwrap();
    let spans = from_traces(&rss).unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(
        spans[0].local_endpoint.as_ref().unwrap().service_name,
        "frontend"
    );
    assert_eq!(spans[0].remote_endpoint.as_ref().unwrap().port, 9000);
    assert_eq!(
        spans[0].tags.get("http.status_code").map(String::as_str),
        Some("500")
    );
    for back in [
        json::decode_spans(&json::encode_spans(&spans).unwrap()).unwrap(),
        proto::decode_spans(&proto::encode_spans(&spans), false).unwrap(),
    ] {
        let again = to_traces(back, false).unwrap();
        let (a, b) = (
            &rss[0].scope_spans[0].spans[0],
            &again[0].scope_spans[0].spans[0],
        );
        assert_eq!(a.trace_id, b.trace_id);
        assert_eq!(a.start_time_unix_nano, b.start_time_unix_nano);
        assert_eq!(a.end_time_unix_nano, b.end_time_unix_nano);
        assert_eq!(a.events, b.events);
        let mut want = sorted(&a.attributes);
        // http.status_code comes back as http.response.status_code too.
        want.retain(|(k, _)| k != "http.status_code");
        assert_eq!(want, sorted(&b.attributes));
    }
}

#[test]
fn untranslatable_spans_are_errors() {
    // zipkinv2/json_test.go TestJSONEncoder_EncodeTracesError: an empty trace id.
    use ferrotel_core::pdata::trace::{ResourceSpans, ScopeSpans, Span};
    let rss = vec![ResourceSpans {
        scope_spans: vec![ScopeSpans {
            spans: vec![Span::default()],
            ..Default::default()
        }],
        ..Default::default()
    }];
    assert_eq!(from_traces(&rss).unwrap_err(), "TraceID is invalid");
}
