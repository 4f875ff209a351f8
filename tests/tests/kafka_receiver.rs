//! The kafka receiver against a real Apache Kafka broker (started by
//! `scripts/test-services.sh`; its address is in `FERROTEL_KAFKA_BROKERS`):
//! what the kafka exporter wrote comes out of the receiver unchanged, in
//! each encoding; offsets are committed only after the pipeline delivered,
//! so a SIGKILL while an exporter is failing loses nothing; headers become
//! attributes; a malformed message is skipped and counted, not a crash.

use ferrotel_core::pdata::common::any_value::Value;
use ferrotel_core::pdata::{Signal, Telemetry};
use ferrotel_e2e::{
    Collector, free_port, merged, metric_value, post, read_proto_file, sample, wait_until,
};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::time::Duration;

fn brokers() -> String {
    std::env::var("FERROTEL_KAFKA_BROKERS").expect(
        "FERROTEL_KAFKA_BROKERS is not set: run ./scripts/test.sh, or eval \"$(scripts/test-services.sh start)\" first",
    )
}

fn run_id() -> String {
    format!("{:x}", fastrand::u64(..))
}

/// A message to write: its value and headers.
type Produced<'a> = (Vec<u8>, Vec<(&'a str, &'a str)>);

/// Writes messages to `topic`, waiting for the broker.
fn produce(topic: &str, messages: &[Produced<'_>]) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .create()
        .expect("producer");
    for (value, headers) in messages {
        let mut h = OwnedHeaders::new();
        for (key, v) in headers {
            h = h.insert(Header {
                key,
                value: Some(*v),
            });
        }
        producer
            .send(BaseRecord::<(), _>::to(topic).payload(value).headers(h))
            .map_err(|(e, _)| e)
            .expect("send");
    }
    producer.flush(Duration::from_secs(20)).expect("flush");
}

/// Whether the broker knows `topic` and its partitions.
fn topic_exists(topic: &str) -> bool {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .create()
        .expect("consumer");
    consumer
        .fetch_metadata(None, Duration::from_secs(5))
        .is_ok_and(|md| {
            md.topics()
                .iter()
                .any(|t| t.name() == topic && !t.partitions().is_empty())
        })
}

/// The offsets `group` committed on `topic`'s partitions.
fn committed(group: &str, topic: &str) -> Vec<Offset> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", group)
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..3 {
        tpl.add_partition(topic, p);
    }
    let got = consumer
        .committed_offsets(tpl, Duration::from_secs(10))
        .expect("committed offsets");
    got.elements().iter().map(|e| e.offset()).collect()
}

fn metrics_text(port: u16) -> String {
    ferrotel_e2e::http("GET", &format!("127.0.0.1:{port}"), "/metrics", &[], b"")
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .expect("metrics endpoint")
}

fn receiver_config(group: &str, signals: &str, exporter: &str) -> String {
    format!(
        r#"
receivers:
  kafka:
    brokers: ['{brokers}']
    group_id: '{group}'
    initial_offset: earliest
{signals}
exporters:
{exporter}
service:
  telemetry: {{metrics: {{level: none}}}}
"#,
        brokers = brokers()
    )
}

/// OTLP in -> kafka exporter -> broker -> kafka receiver -> file: every
/// signal arrives unchanged, through `otlp_proto` and `otlp_json`.
#[test]
fn what_the_exporter_wrote_the_receiver_reads_unchanged() {
    let run = run_id();
    let port = free_port();
    let producer = Collector::start(&format!(
        r#"
receivers: {{otlp: {{protocols: {{http: {{endpoint: '127.0.0.1:{port}'}}}}}}}}
exporters:
  kafka:
    brokers: ['{brokers}']
    logs: {{topic: 'rt-{run}-logs'}}
    metrics: {{topic: 'rt-{run}-metrics', encoding: otlp_json}}
    traces: {{topic: 'rt-{run}-spans'}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [otlp], exporters: [kafka]}}
    metrics: {{receivers: [otlp], exporters: [kafka]}}
    traces: {{receivers: [otlp], exporters: [kafka]}}
"#,
        brokers = brokers()
    ));
    let addr = format!("127.0.0.1:{port}");
    let signals = [Signal::Logs, Signal::Metrics, Signal::Traces];
    let mut sent: Vec<(Signal, Vec<Telemetry>)> = Vec::new();
    for signal in signals {
        let batches: Vec<Telemetry> = (0..5).map(|seed| sample(signal, seed)).collect();
        for b in &batches {
            let path = format!("/v1/{}", signal.as_str());
            let r = post(&addr, &path, "application/x-protobuf", &b.encode_request());
            assert_eq!(r.status, 200, "{}", producer.log());
        }
        sent.push((signal, batches));
    }
    // The exporter answers once the data is queued; the topics exist once
    // it produced. A regex subscription only sees topics that exist when
    // it starts (later ones at librdkafka's metadata refresh, minutes
    // away, as with franz-go in Go), so wait for them.
    for topic in ["logs", "metrics", "spans"] {
        let topic = format!("rt-{run}-{topic}");
        assert!(
            wait_until(Duration::from_secs(30), || topic_exists(&topic)),
            "{topic} never appeared\n{}",
            producer.log()
        );
    }
    let consumer = Collector::start(&format!(
        r#"
receivers:
  kafka:
    brokers: ['{brokers}']
    group_id: 'rt-{run}'
    initial_offset: earliest
    logs: {{topics: ['rt-{run}-logs']}}
    metrics: {{topics: ['^rt-{run}-metr.*'], encoding: otlp_json}}
    traces: {{topics: ['rt-{run}-spans']}}
exporters:
  file/logs: {{path: '{{dir}}/logs.bin', format: proto}}
  file/metrics: {{path: '{{dir}}/metrics.bin', format: proto}}
  file/traces: {{path: '{{dir}}/traces.bin', format: proto}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [kafka], exporters: [file/logs]}}
    metrics: {{receivers: [kafka], exporters: [file/metrics]}}
    traces: {{receivers: [kafka], exporters: [file/traces]}}
"#,
        brokers = brokers()
    ));
    for (signal, batches) in sent {
        let path = consumer.path(&format!("{}.bin", signal.as_str()));
        let want = merged(batches.clone(), signal).item_count();
        let arrived = wait_until(Duration::from_secs(60), || {
            merged(read_proto_file(&path, signal), signal).item_count() >= want
        });
        assert!(
            arrived,
            "{signal}: not everything arrived\n{}",
            consumer.log()
        );
        // Partitions may reorder messages; each message is one request.
        let key = |t: &Telemetry| t.encode_request();
        let mut got: Vec<Vec<u8>> = read_proto_file(&path, signal).iter().map(key).collect();
        let mut want: Vec<Vec<u8>> = batches.iter().map(key).collect();
        got.sort();
        want.sort();
        assert!(got == want, "{signal}: data changed on the way");
    }
}

/// The pipeline cannot deliver (its exporter's endpoint is down) while
/// 2500 messages wait in the topic: the receiver takes no more than its
/// window (1000, up to 2000 while the pause takes effect), and commits
/// nothing. It is SIGKILLed; a second collector in the same group reads
/// every message; once it has delivered, the group's offsets reach the end
/// of the topic.
#[test]
fn offsets_are_committed_only_after_delivery() {
    let run = run_id();
    let topic = format!("ack-{run}");
    let group = format!("ack-{run}");
    let messages: Vec<Produced> = (0..2500u32)
        .map(|i| {
            (
                sample(Signal::Logs, (i % 200) as u8).encode_request(),
                Vec::new(),
            )
        })
        .collect();
    let want: usize = messages.len() * sample(Signal::Logs, 0).item_count();
    produce(&topic, &messages);
    let down = free_port();
    let metrics_port = free_port();
    let signals = format!("    logs: {{topics: ['{topic}']}}\n");
    let mut failing = Collector::start(
        &(receiver_config(
            &group,
            &signals,
            &format!(
                "  otlp_http:\n    endpoint: 'http://127.0.0.1:{down}'\n    retry_on_failure: {{initial_interval: 100ms, max_interval: 200ms}}\n"
            ),
        )
        .replace(
            "telemetry: {metrics: {level: none}}",
            &format!("telemetry: {{metrics: {{readers: [{{pull: {{exporter: {{prometheus: {{host: '127.0.0.1', port: {metrics_port}}}}}}}}}]}}}}"),
        ) + "  pipelines: {logs: {receivers: [kafka], exporters: [otlp_http]}}\n"),
    );
    assert!(
        wait_until(Duration::from_secs(30), || failing
            .log()
            .contains("Will retry")),
        "the exporter never tried\n{}",
        failing.log()
    );
    // Past an autocommit interval: nothing may have been committed.
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        committed(&group, &topic)
            .iter()
            .all(|o| !matches!(o, Offset::Offset(_))),
        "offsets committed before delivery: {:?}",
        committed(&group, &topic)
    );
    let taken = metric_value(
        &metrics_text(metrics_port),
        "otelcol_kafka_receiver_messages",
        &[("receiver", "kafka")],
    )
    .unwrap_or_default();
    assert!(
        (1000.0..=2000.0).contains(&taken),
        "{taken} messages taken while the pipeline delivered none"
    );
    failing.signal("KILL");
    failing.wait_exit();

    let delivering = Collector::start(
        &(receiver_config(
            &group,
            &signals,
            "  file: {path: '{dir}/logs.bin', format: proto}\n",
        ) + "  pipelines: {logs: {receivers: [kafka], exporters: [file]}}\n"),
    );
    let path = delivering.path("logs.bin");
    assert!(
        wait_until(Duration::from_secs(60), || merged(
            read_proto_file(&path, Signal::Logs),
            Signal::Logs
        )
        .item_count()
            >= want),
        "records lost\n{}",
        delivering.log()
    );
    let ends = |offsets: &[Offset]| {
        offsets
            .iter()
            .map(|o| match o {
                Offset::Offset(n) => *n,
                _ => 0,
            })
            .sum::<i64>()
    };
    assert!(
        wait_until(Duration::from_secs(10), || ends(&committed(&group, &topic))
            == messages.len() as i64),
        "offsets not committed after delivery: {:?}",
        committed(&group, &topic)
    );
    assert_eq!(
        merged(read_proto_file(&path, Signal::Logs), Signal::Logs).item_count(),
        want,
        "duplicates after the restart"
    );
}

/// `raw` and `text` logs with `header_extraction`; a malformed OTLP message
/// among good ones is counted and skipped.
#[test]
fn raw_text_headers_and_malformed_messages() {
    let run = run_id();
    let metrics_port = free_port();
    produce(
        &format!("raw-{run}"),
        &[
            (
                b"\xffbinary".to_vec(),
                vec![("tenant", "a"), ("other", "x")],
            ),
            (b"second".to_vec(), vec![("tenant", "b"), ("tenant", "c")]),
        ],
    );
    produce(
        &format!("otlp-{run}"),
        &[
            (sample(Signal::Traces, 1).encode_request(), vec![]),
            (b"\x0a\xff\xff\xff\xff not protobuf".to_vec(), vec![]),
            (sample(Signal::Traces, 2).encode_request(), vec![]),
        ],
    );
    let c = Collector::start(&format!(
        r#"
receivers:
  kafka:
    brokers: ['{brokers}']
    group_id: 'raw-{run}'
    initial_offset: earliest
    logs: {{topics: ['raw-{run}'], encoding: raw}}
    traces: {{topics: ['otlp-{run}']}}
    header_extraction: {{extract_headers: true, headers: [tenant, missing]}}
  kafka/text:
    brokers: ['{brokers}']
    group_id: 'text-{run}'
    initial_offset: earliest
    logs: {{topics: ['raw-{run}'], encoding: text}}
exporters:
  file/raw: {{path: '{{dir}}/raw.bin', format: proto}}
  file/text: {{path: '{{dir}}/text.bin', format: proto}}
  file/traces: {{path: '{{dir}}/traces.bin', format: proto}}
service:
  telemetry: {{metrics: {{readers: [{{pull: {{exporter: {{prometheus: {{host: '127.0.0.1', port: {metrics_port}}}}}}}}}]}}}}
  pipelines:
    logs: {{receivers: [kafka], exporters: [file/raw]}}
    logs/text: {{receivers: [kafka/text], exporters: [file/text]}}
    traces: {{receivers: [kafka], exporters: [file/traces]}}
"#,
        brokers = brokers()
    ));
    let read_logs = |name: &str| {
        let mut records = Vec::new();
        for t in read_proto_file(&c.path(name), Signal::Logs) {
            let Telemetry::Logs(resources) = t else {
                unreachable!()
            };
            for r in resources {
                let attrs: Vec<(String, String)> = r
                    .resource
                    .iter()
                    .flat_map(|r| &r.attributes)
                    .map(|kv| {
                        let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                            Some(Value::StringValue(s)) => s.clone(),
                            other => format!("{other:?}"),
                        };
                        (kv.key.clone(), v)
                    })
                    .collect();
                for s in r.scope_logs {
                    for l in s.log_records {
                        records.push((l.body.and_then(|b| b.value), attrs.clone()));
                    }
                }
            }
        }
        records.sort_by_key(|(_, a)| a.clone());
        records
    };
    assert!(
        wait_until(Duration::from_secs(60), || read_logs("raw.bin").len() == 2
            && read_logs("text.bin").len() == 2),
        "{}",
        c.log()
    );
    let tenant = |v: &str| vec![("kafka.header.tenant".to_string(), v.to_string())];
    assert_eq!(
        read_logs("raw.bin"),
        vec![
            (Some(Value::BytesValue(b"\xffbinary".to_vec())), tenant("a")),
            (Some(Value::BytesValue(b"second".to_vec())), tenant("b")),
        ]
    );
    let mut text: Vec<_> = read_logs("text.bin").into_iter().map(|(b, _)| b).collect();
    text.sort_by_key(|b| format!("{b:?}"));
    assert_eq!(
        text,
        vec![
            Some(Value::StringValue("second".into())),
            Some(Value::StringValue("\u{fffd}binary".into())),
        ]
    );
    let want = sample(Signal::Traces, 1).item_count() + sample(Signal::Traces, 2).item_count();
    assert!(
        wait_until(Duration::from_secs(30), || merged(
            read_proto_file(&c.path("traces.bin"), Signal::Traces),
            Signal::Traces
        )
        .item_count()
            == want),
        "{}",
        c.log()
    );
    let text = metrics_text(metrics_port);
    assert_eq!(
        metric_value(
            &text,
            "otelcol_kafka_receiver_unmarshal_failed_spans",
            &[("receiver", "kafka")]
        ),
        Some(1.0),
        "{text}"
    );
    assert!(c.log().contains("failed to unmarshal message"));
}
