//! A Kafka message's value as telemetry, in the signal's encoding, and
//! the headers `header_extraction` copies onto resource attributes.

use crate::config::Encoding;
use bytes::Bytes;
use ferrotel_core::pdata::common::{AnyValue, KeyValue, any_value};
use ferrotel_core::pdata::logs::{LogRecord, ResourceLogs, ScopeLogs};
use ferrotel_core::pdata::resource::Resource;
use ferrotel_core::pdata::{Payload, Signal, Telemetry, decode_json, scan};
use std::time::{SystemTime, UNIX_EPOCH};

/// Decodes one message. `otlp_proto` stays encoded (validated and
/// counted), so a forwarding pipeline never decodes it.
pub(crate) fn decode(signal: Signal, encoding: Encoding, value: &[u8]) -> Result<Payload, String> {
    match encoding {
        Encoding::OtlpProto => {
            let items = scan(signal, value).map_err(|e| e.to_string())?;
            Ok(Payload::encoded(
                signal,
                Bytes::copy_from_slice(value),
                items,
            ))
        }
        Encoding::OtlpJson => decode_json(signal, value)
            .map(Payload::from)
            .map_err(|e| e.to_string()),
        Encoding::Raw => Ok(one_record(
            AnyValue {
                value: Some(any_value::Value::BytesValue(value.to_vec())),
            },
            0,
        )),
        Encoding::Text => {
            let observed = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            let text = String::from_utf8_lossy(value).into_owned();
            Ok(one_record(
                AnyValue {
                    value: Some(any_value::Value::StringValue(text)),
                },
                observed,
            ))
        }
    }
}

fn one_record(body: AnyValue, observed_time_unix_nano: u64) -> Payload {
    let record = LogRecord {
        body: Some(body),
        observed_time_unix_nano,
        ..LogRecord::default()
    };
    Payload::from(Telemetry::Logs(vec![ResourceLogs {
        resource: Some(Resource::default()),
        scope_logs: vec![ScopeLogs {
            log_records: vec![record],
            ..ScopeLogs::default()
        }],
        ..ResourceLogs::default()
    }]))
}

/// Sets `kafka.header.<name>` on every resource to the first value of each
/// listed header the message carries, replacing an attribute of that key.
pub(crate) fn add_header_attributes(payload: &mut Payload, found: &[(String, String)]) {
    if found.is_empty() {
        return;
    }
    let set = |resource: &mut Option<Resource>| {
        let attributes = &mut resource.get_or_insert_with(Resource::default).attributes;
        for (key, value) in found {
            let value = Some(AnyValue {
                value: Some(any_value::Value::StringValue(value.clone())),
            });
            match attributes.iter_mut().find(|kv| &kv.key == key) {
                Some(kv) => kv.value = value,
                None => attributes.push(KeyValue {
                    key: key.clone(),
                    value,
                    ..KeyValue::default()
                }),
            }
        }
    };
    match payload.telemetry_mut() {
        Telemetry::Logs(r) => r.iter_mut().for_each(|r| set(&mut r.resource)),
        Telemetry::Metrics(r) => r.iter_mut().for_each(|r| set(&mut r.resource)),
        Telemetry::Traces(r) => r.iter_mut().for_each(|r| set(&mut r.resource)),
        // Not a signal this receiver declares (metadata.yaml).
        Telemetry::Profiles(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_text_make_one_record() {
        let p = decode(Signal::Logs, Encoding::Raw, b"\xffab").unwrap();
        let Telemetry::Logs(r) = p.telemetry() else {
            panic!()
        };
        let body = r[0].scope_logs[0].log_records[0].body.clone().unwrap();
        assert_eq!(
            body.value,
            Some(any_value::Value::BytesValue(b"\xffab".to_vec()))
        );
        let p = decode(Signal::Logs, Encoding::Text, b"h\xffi").unwrap();
        let Telemetry::Logs(r) = p.telemetry() else {
            panic!()
        };
        let record = &r[0].scope_logs[0].log_records[0];
        assert_eq!(
            record.body.clone().unwrap().value,
            Some(any_value::Value::StringValue("h\u{fffd}i".into()))
        );
        assert!(record.observed_time_unix_nano > 0);
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        for signal in [Signal::Logs, Signal::Metrics, Signal::Traces] {
            assert!(decode(signal, Encoding::OtlpProto, b"\x0a\xff\xff\xff").is_err());
            assert!(decode(signal, Encoding::OtlpJson, b"{\"resourceLogs\": 3").is_err());
        }
    }

    #[test]
    fn headers_become_resource_attributes() {
        let request = Telemetry::Logs(vec![
            ResourceLogs {
                resource: Some(Resource {
                    attributes: vec![KeyValue {
                        key: "kafka.header.tenant".into(),
                        ..KeyValue::default()
                    }],
                    ..Resource::default()
                }),
                ..ResourceLogs::default()
            },
            ResourceLogs::default(),
        ]);
        let bytes = request.encode_request();
        let mut p = decode(Signal::Logs, Encoding::OtlpProto, &bytes).unwrap();
        add_header_attributes(&mut p, &[("kafka.header.tenant".into(), "a".into())]);
        let Telemetry::Logs(r) = p.telemetry() else {
            panic!()
        };
        for resource in r {
            let attributes = &resource.resource.as_ref().unwrap().attributes;
            assert_eq!(attributes.len(), 1);
            assert_eq!(
                attributes[0].value.clone().unwrap().value,
                Some(any_value::Value::StringValue("a".into()))
            );
        }
    }
}
