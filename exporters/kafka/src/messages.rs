//! From a batch to Kafka messages: split by trace or resource when a
//! `partition_*` setting asks for it, encode each part, and split parts
//! that encode larger than `producer.max_message_bytes`.

use crate::config::Config;
use crate::keys;
use bytes::Bytes;
use ferrotel_core::consumer::ConsumeError;
use ferrotel_core::pdata::{Payload, Signal, Telemetry, common::any_value, encode_json};
use std::collections::HashMap;

/// One Kafka message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Message {
    /// The record key, when the data is partitioned.
    pub(crate) key: Option<Vec<u8>>,
    /// The record value.
    pub(crate) value: Bytes,
}

/// The messages for `data`, and how many single records were too large to
/// send at all.
pub(crate) fn build(
    data: &Payload,
    config: &Config,
    signal: Signal,
) -> Result<(Vec<Message>, usize), ConsumeError> {
    let encoding = config.signal(signal).encoding.as_str();
    let max = config.producer.max_message_bytes;
    let partitioned = match signal {
        Signal::Traces => config.partition_traces_by_id,
        Signal::Logs => {
            config.partition_logs_by_resource_attributes || config.partition_logs_by_trace_id
        }
        Signal::Metrics => config.partition_metrics_by_resource_attributes,
    };
    let mut out = Vec::new();
    let mut too_big = 0;
    if !partitioned && encoding == "otlp_proto" {
        // The common case: an encoded OTLP request that fits goes out as is.
        if data.encoded_len() <= max {
            out.push(Message {
                key: None,
                value: data.encode_request(),
            });
            return Ok((out, 0));
        }
        // A batch of received requests is cut between them, undecoded.
        if let Some(requests) = data.encoded_requests() {
            return Ok(pack_requests(requests, max, signal));
        }
    }
    let telemetry = data.telemetry().clone();
    let parts = if partitioned {
        partition(telemetry, config)
    } else {
        vec![(None, telemetry)]
    };
    for (key, part) in parts {
        if encoding == "raw" {
            raw_messages(&part, key, max, &mut out, &mut too_big)?;
        } else {
            encode_fitting(part, key, encoding, max, &mut out, &mut too_big);
        }
    }
    Ok((out, too_big))
}

/// Packs consecutive encoded requests into messages of at most `max`
/// bytes (concatenated requests are one valid request); a request larger
/// than `max` on its own is decoded and split by records.
fn pack_requests(requests: &[(Bytes, usize)], max: usize, signal: Signal) -> (Vec<Message>, usize) {
    let mut out = Vec::new();
    let mut too_big = 0;
    let mut run: Vec<u8> = Vec::new();
    let flush = |run: &mut Vec<u8>, out: &mut Vec<Message>| {
        if !run.is_empty() {
            out.push(Message {
                key: None,
                value: Bytes::from(std::mem::take(run)),
            });
        }
    };
    for (request, _) in requests {
        if request.len() > max {
            flush(&mut run, &mut out);
            match Telemetry::decode_request(signal, request)
                .ok()
                .filter(|t| t.item_count() > 0)
            {
                Some(t) => encode_fitting(t, None, "otlp_proto", max, &mut out, &mut too_big),
                None => too_big += 1,
            }
            continue;
        }
        if run.len() + request.len() > max {
            flush(&mut run, &mut out);
        }
        run.extend_from_slice(request);
    }
    flush(&mut run, &mut out);
    (out, too_big)
}

/// Encodes `part`, halving it by records until each half fits `max`.
fn encode_fitting(
    part: Telemetry,
    key: Option<Vec<u8>>,
    encoding: &str,
    max: usize,
    out: &mut Vec<Message>,
    too_big: &mut usize,
) {
    let mut pending = vec![part];
    while let Some(mut part) = pending.pop() {
        let value: Bytes = match encoding {
            "otlp_json" => Bytes::from(encode_json(&part)),
            _ => Bytes::from(part.encode_request()),
        };
        if value.len() <= max {
            out.push(Message {
                key: key.clone(),
                value,
            });
            continue;
        }
        let items = part.item_count();
        if items <= 1 {
            *too_big += items.max(1);
            continue;
        }
        let front = part.split_off_front(items / 2);
        // Popped last-in first: push the back half first to keep order.
        pending.push(part);
        pending.push(front);
    }
}

/// `raw`: each log record's body as its own message, as Go's raw
/// marshaler makes it: bytes as they are, anything else as Go's
/// `json.Marshal` writes it (a string becomes a quoted JSON string), and
/// records with an empty body skipped.
fn raw_messages(
    part: &Telemetry,
    key: Option<Vec<u8>>,
    max: usize,
    out: &mut Vec<Message>,
    too_big: &mut usize,
) -> Result<(), ConsumeError> {
    let Telemetry::Logs(resources) = part else {
        return Ok(());
    };
    for record in resources
        .iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
    {
        let value = match record.body.as_ref().and_then(|b| b.value.as_ref()) {
            Some(any_value::Value::BytesValue(b)) => Bytes::from(b.clone()),
            None => continue,
            Some(other) => {
                let mut json = String::new();
                go_json(Some(other), &mut json).map_err(ConsumeError::Permanent)?;
                Bytes::from(json)
            }
        };
        if value.is_empty() {
            continue;
        }
        if value.len() > max {
            *too_big += 1;
            continue;
        }
        out.push(Message {
            key: key.clone(),
            value,
        });
    }
    Ok(())
}

/// A value as Go's `encoding/json` writes the value's `AsRaw()`: map keys
/// sorted (the last of a repeated key wins), bytes as base64, `<`, `>`,
/// `&`, U+2028 and U+2029 escaped, floats in Go's shortest form.
fn go_json(value: Option<&any_value::Value>, out: &mut String) -> Result<(), String> {
    use any_value::Value as V;
    use std::fmt::Write;
    match value {
        None | Some(V::StringValueStrindex(_)) => out.push_str("null"),
        Some(V::StringValue(s)) => go_json_string(s, out),
        Some(V::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(V::IntValue(i)) => {
            let _ = write!(out, "{i}");
        }
        Some(V::DoubleValue(d)) => go_json_float(*d, out)?,
        Some(V::BytesValue(b)) => {
            use base64::Engine;
            out.push('"');
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(b));
            out.push('"');
        }
        Some(V::ArrayValue(a)) => {
            out.push('[');
            for (i, v) in a.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(v.value.as_ref(), out)?;
            }
            out.push(']');
        }
        Some(V::KvlistValue(m)) => {
            let mut entries: Vec<(&str, Option<&V>)> = Vec::new();
            for kv in &m.values {
                let v = kv.value.as_ref().and_then(|x| x.value.as_ref());
                match entries.iter_mut().find(|(k, _)| *k == kv.key) {
                    Some(slot) => slot.1 = v,
                    None => entries.push((&kv.key, v)),
                }
            }
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json_string(k, out);
                out.push(':');
                go_json(v, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn go_json_string(s: &str, out: &mut String) {
    use std::fmt::Write;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Go 1.22 and later.
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's float64 JSON form: the shortest decimal that reads back the same,
/// in exponent form (`1e+21`, `1e-7`) outside [1e-6, 1e21).
fn go_json_float(d: f64, out: &mut String) -> Result<(), String> {
    use std::fmt::Write;
    if !d.is_finite() {
        return Err(format!("json: unsupported value: {d}"));
    }
    let abs = d.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let e = format!("{d:e}");
        match e.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => {
                let _ = write!(out, "{mantissa}e+{exp}");
            }
            _ => out.push_str(&e),
        }
    } else {
        let _ = write!(out, "{d}");
    }
    Ok(())
}

/// The parts of a batch with their keys, per the `partition_*` settings.
fn partition(telemetry: Telemetry, config: &Config) -> Vec<(Option<Vec<u8>>, Telemetry)> {
    match telemetry {
        Telemetry::Traces(resources) => by_trace_id_spans(resources),
        Telemetry::Logs(resources) if config.partition_logs_by_trace_id => {
            by_trace_id_logs(resources)
        }
        Telemetry::Logs(resources) => resources
            .into_iter()
            .map(|r| {
                let attrs = r.resource.as_ref().map_or(&[][..], |x| &x.attributes[..]);
                let key = keys::attributes_hash(attrs).to_vec();
                (Some(key), Telemetry::Logs(vec![r]))
            })
            .collect(),
        Telemetry::Metrics(resources) => resources
            .into_iter()
            .map(|r| {
                let attrs = r.resource.as_ref().map_or(&[][..], |x| &x.attributes[..]);
                let key = keys::attributes_hash(attrs).to_vec();
                (Some(key), Telemetry::Metrics(vec![r]))
            })
            .collect(),
    }
}

/// Groups items by a key while keeping their resource and scope: each
/// group gets its own copies of the resource and scope containers.
macro_rules! group_by_trace {
    ($resources:expr, $scopes:ident, $items:ident, $wrap:path) => {{
        let mut order: Vec<Vec<u8>> = Vec::new();
        let mut groups: HashMap<Vec<u8>, Vec<_>> = HashMap::new();
        for (ri, r) in $resources.iter().enumerate() {
            let mut shell = r.clone();
            shell.$scopes.clear();
            for s in &r.$scopes {
                let mut scope_shell = s.clone();
                scope_shell.$items.clear();
                for item in &s.$items {
                    let key = keys::trace_id_key(&item.trace_id);
                    let group = groups.entry(key.clone()).or_insert_with(|| {
                        order.push(key);
                        Vec::new()
                    });
                    // A new resource or scope starts a new container.
                    let same_resource = group.last().is_some_and(|last: &(usize, _)| last.0 == ri);
                    if !same_resource {
                        group.push((ri, shell.clone()));
                    }
                    let (_, res) = group.last_mut().expect("pushed");
                    let same_scope = res
                        .$scopes
                        .last()
                        .is_some_and(|l| l.scope == s.scope && l.schema_url == s.schema_url);
                    if !same_scope {
                        res.$scopes.push(scope_shell.clone());
                    }
                    res.$scopes
                        .last_mut()
                        .expect("pushed")
                        .$items
                        .push(item.clone());
                }
            }
        }
        order
            .into_iter()
            .map(|key| {
                let parts = groups.remove(&key).unwrap_or_default();
                let resources = parts.into_iter().map(|(_, r)| r).collect();
                ((!key.is_empty()).then_some(key), $wrap(resources))
            })
            .collect()
    }};
}

fn by_trace_id_spans(
    resources: Vec<ferrotel_core::pdata::trace::ResourceSpans>,
) -> Vec<(Option<Vec<u8>>, Telemetry)> {
    group_by_trace!(resources, scope_spans, spans, Telemetry::Traces)
}

fn by_trace_id_logs(
    resources: Vec<ferrotel_core::pdata::logs::ResourceLogs>,
) -> Vec<(Option<Vec<u8>>, Telemetry)> {
    group_by_trace!(resources, scope_logs, log_records, Telemetry::Logs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrotel_core::pdata::common::{AnyValue, ArrayValue, KeyValue, KeyValueList};

    fn json(v: any_value::Value) -> String {
        let mut out = String::new();
        go_json(Some(&v), &mut out).unwrap();
        out
    }

    #[test]
    fn raw_bodies_are_what_go_json_marshal_writes() {
        use any_value::Value as V;
        assert_eq!(
            json(V::StringValue("a \"b\" <c> & d\n".into())),
            r#""a \"b\" \u003cc\u003e \u0026 d\n""#
        );
        assert_eq!(
            json(V::StringValue("\u{8}\u{c}\u{1}".into())),
            r#""\b\f\u0001""#
        );
        assert_eq!(json(V::DoubleValue(3.0)), "3");
        assert_eq!(json(V::DoubleValue(0.1)), "0.1");
        assert_eq!(json(V::DoubleValue(1e21)), "1e+21");
        assert_eq!(json(V::DoubleValue(1e-7)), "1e-7");
        assert_eq!(json(V::DoubleValue(-2.5e-7)), "-2.5e-7");
        assert_eq!(json(V::IntValue(-7)), "-7");
        let kv = |k: &str, v: V| KeyValue {
            key: k.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..KeyValue::default()
        };
        let map = V::KvlistValue(KeyValueList {
            values: vec![
                kv("z", V::BoolValue(true)),
                kv("a", V::BytesValue(vec![1, 2])),
                kv(
                    "m",
                    V::ArrayValue(ArrayValue {
                        values: vec![
                            AnyValue {
                                value: Some(V::IntValue(1)),
                            },
                            AnyValue { value: None },
                        ],
                    }),
                ),
                kv("z", V::BoolValue(false)),
            ],
        });
        assert_eq!(json(map), r#"{"a":"AQI=","m":[1,null],"z":false}"#);
        let mut out = String::new();
        assert!(go_json(Some(&V::DoubleValue(f64::NAN)), &mut out).is_err());
    }

    #[test]
    fn received_requests_are_packed_undecoded_within_the_limit() {
        let request = |n: usize| {
            let t = ferrotel_core::pdata::synthetic_request(Signal::Logs, n);
            Payload::encoded(Signal::Logs, Bytes::from(t.encode_request()), n)
        };
        let mut batch = request(10);
        let one = batch.encoded_len();
        for _ in 0..4 {
            assert!(batch.merge(request(10)).is_ok());
        }
        let config = Config::default();
        let mut small = config.clone();
        // Two requests fit, three do not.
        small.producer.max_message_bytes = 2 * one + one / 2;
        let (messages, too_big) = build(&batch, &small, Signal::Logs).unwrap();
        assert_eq!(too_big, 0);
        assert_eq!(messages.len(), 3);
        let mut items = 0;
        for m in &messages {
            assert!(m.value.len() <= small.producer.max_message_bytes);
            items += Telemetry::decode_request(Signal::Logs, &m.value)
                .unwrap()
                .item_count();
        }
        assert_eq!(items, 50);
        // Under the default limit: the batch as one message.
        assert_eq!(build(&batch, &config, Signal::Logs).unwrap().0.len(), 1);
    }
}
