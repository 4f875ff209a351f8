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
    // The common case: an encoded OTLP request that fits goes out as is.
    if !partitioned && encoding == "otlp_proto" && data.encoded_len() <= max {
        out.push(Message {
            key: None,
            value: data.encode_request(),
        });
        return Ok((out, 0));
    }
    let telemetry = data.telemetry().clone();
    let parts = if partitioned {
        partition(telemetry, config)
    } else {
        vec![(None, telemetry)]
    };
    for (key, part) in parts {
        if encoding == "raw" {
            raw_messages(&part, key, max, &mut out, &mut too_big);
        } else {
            encode_fitting(part, key, encoding, max, &mut out, &mut too_big);
        }
    }
    Ok((out, too_big))
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

/// `raw`: each log record's body as its own message (strings as UTF-8,
/// bytes as they are, anything else as JSON), as Go's raw marshaler does.
fn raw_messages(
    part: &Telemetry,
    key: Option<Vec<u8>>,
    max: usize,
    out: &mut Vec<Message>,
    too_big: &mut usize,
) {
    let Telemetry::Logs(resources) = part else {
        return;
    };
    for record in resources
        .iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
    {
        let value = match record.body.as_ref().and_then(|b| b.value.as_ref()) {
            Some(any_value::Value::StringValue(s)) => Bytes::from(s.clone()),
            Some(any_value::Value::BytesValue(b)) => Bytes::from(b.clone()),
            None => Bytes::new(),
            Some(other) => Bytes::from(body_json(other)),
        };
        if value.len() > max {
            *too_big += 1;
            continue;
        }
        out.push(Message {
            key: key.clone(),
            value,
        });
    }
}

fn body_json(value: &any_value::Value) -> String {
    use any_value::Value as V;
    let json = |v: &V| -> serde_json::Value {
        match v {
            V::StringValue(s) => s.clone().into(),
            V::StringValueStrindex(_) => serde_json::Value::Null,
            V::BoolValue(b) => (*b).into(),
            V::IntValue(i) => (*i).into(),
            V::DoubleValue(d) => (*d).into(),
            V::BytesValue(b) => {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(b).into()
            }
            V::ArrayValue(a) => serde_json::Value::Array(
                a.values
                    .iter()
                    .filter_map(|x| x.value.as_ref())
                    .map(|x| serde_json::from_str(&body_json(x)).unwrap_or_default())
                    .collect(),
            ),
            V::KvlistValue(m) => serde_json::Value::Object(
                m.values
                    .iter()
                    .map(|kv| {
                        let v = kv
                            .value
                            .as_ref()
                            .and_then(|x| x.value.as_ref())
                            .map(|x| serde_json::from_str(&body_json(x)).unwrap_or_default())
                            .unwrap_or_default();
                        (kv.key.clone(), v)
                    })
                    .collect(),
            ),
        }
    };
    json(value).to_string()
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
