//! From a batch to Kafka messages: split by trace or resource when a
//! `partition_*` setting asks for it, encode each part, and split parts
//! that encode larger than `producer.max_message_bytes`.

use crate::config::Config;
use crate::keys;
use bytes::Bytes;
use ferrotel_core::consumer::ConsumeError;
use ferrotel_core::pdata::{Payload, Signal, Telemetry, common::any_value, encode_json, go};
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
        Signal::Profiles => false,
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
                go::json(Some(other), true, &mut json).map_err(ConsumeError::Permanent)?;
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

/// The parts of a batch with their keys, per the `partition_*` settings.
fn partition(telemetry: Telemetry, config: &Config) -> Vec<(Option<Vec<u8>>, Telemetry)> {
    match telemetry {
        profiles @ Telemetry::Profiles(_) => vec![(None, profiles)],
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
