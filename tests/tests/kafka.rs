//! The kafka exporter against a real Apache Kafka broker (started by
//! `scripts/test-services.sh`, which the README's test command runs; its
//! address is in `FERROTEL_KAFKA_BROKERS`). OTLP goes in over HTTP, and a
//! librdkafka consumer reads back what the broker stored: each encoding,
//! keys and partitions of partitioned traces, and splitting at
//! `max_message_bytes`.

use ferrotel_core::pdata::{
    ExportLogsServiceRequest, ExportTraceServiceRequest, common::any_value,
};
use ferrotel_e2e::{Collector, free_port, post};
use prost::Message as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn brokers() -> String {
    std::env::var("FERROTEL_KAFKA_BROKERS").expect(
        "FERROTEL_KAFKA_BROKERS is not set: run ./scripts/test.sh, or eval \"$(scripts/test-services.sh start)\" first",
    )
}

/// A record as read back: partition, key, value.
type Record = (i32, Option<Vec<u8>>, Vec<u8>);

/// Reads `topic` from the beginning until `want` records arrived, the
/// topic went quiet after some, or 20 s passed.
fn read_topic(topic: &str, want: usize) -> Vec<Record> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", "ferrotel-e2e")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let deadline = Instant::now() + Duration::from_secs(20);
    let partitions = loop {
        let md = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(5))
            .expect("metadata");
        let n = md
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .map_or(0, |t| t.partitions().len());
        if n > 0 {
            break n as i32;
        }
        assert!(Instant::now() < deadline, "topic {topic} never appeared");
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&tpl).expect("assign");
    let mut out = Vec::new();
    let mut last = Instant::now();
    while out.len() < want && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                last = Instant::now();
                out.push((
                    m.partition(),
                    m.key().map(<[u8]>::to_vec),
                    m.payload().unwrap_or_default().to_vec(),
                ));
            }
            // Once records came, a quiet second means the topic is read.
            _ if !out.is_empty() && last.elapsed() > Duration::from_secs(1) => break,
            _ => {}
        }
    }
    out
}

/// Sarama's hash partitioner, written out from its definition: FNV-1a-32,
/// as int32, remainder, absolute value.
fn sarama_partition(key: &[u8], n: i32) -> i32 {
    let mut h: u32 = 0x811c9dc5;
    for b in key {
        h ^= u32::from(*b);
        h = h.wrapping_mul(16777619);
    }
    ((h as i32) % n).abs()
}

fn span(trace: u8, span: u8) -> String {
    format!(
        r#"{{"traceId":"{:032x}","spanId":"{:016x}","name":"s{trace}-{span}","startTimeUnixNano":"1","endTimeUnixNano":"2"}}"#,
        trace as u128 + 0xabc0,
        (trace as u64) << 8 | span as u64
    )
}

#[test]
fn every_encoding_reaches_the_broker_with_go_keys_and_partitions() {
    let run = format!("{:x}", fastrand::u64(..));
    let topic = |name: &str| format!("ferrotel-e2e-{run}-{name}");
    let port = free_port();
    let c = Collector::start(&format!(
        r#"
receivers: {{otlp: {{protocols: {{http: {{endpoint: '127.0.0.1:{port}'}}}}}}}}
exporters:
  kafka/proto:
    brokers: ['{brokers}']
    logs: {{topic: '{logs}'}}
    metrics: {{topic: '{metrics}', encoding: otlp_json}}
    traces: {{topic: '{traces}'}}
    partition_traces_by_id: true
  kafka/raw:
    brokers: ['{brokers}']
    logs: {{topic: '{raw}', encoding: raw}}
  kafka/small:
    brokers: ['{brokers}']
    logs: {{topic: '{small}'}}
    producer: {{max_message_bytes: 2000}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [otlp], exporters: [kafka/proto, kafka/raw, kafka/small]}}
    traces: {{receivers: [otlp], exporters: [kafka/proto]}}
    metrics: {{receivers: [otlp], exporters: [kafka/proto]}}
"#,
        brokers = brokers(),
        logs = topic("logs"),
        metrics = topic("metrics"),
        traces = topic("traces"),
        raw = topic("raw"),
        small = topic("small"),
    ));
    let addr = format!("127.0.0.1:{port}");
    let mut records = vec![
        r#"{"body":{"stringValue":"plain text"}}"#.to_string(),
        r#"{"body":{"kvlistValue":{"values":[{"key":"k","value":{"intValue":"7"}}]}}}"#.to_string(),
    ];
    for i in 0..40 {
        records.push(format!(
            r#"{{"body":{{"stringValue":"filler-{i}-{}"}}}}"#,
            "x".repeat(150)
        ));
    }
    let logs = format!(
        r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"e2e"}}}}]}},"scopeLogs":[{{"logRecords":[{}]}}]}}]}}"#,
        records.join(",")
    );
    assert_eq!(
        post(&addr, "/v1/logs", "application/json", logs.as_bytes()).status,
        200
    );
    let spans: Vec<String> = (1..=4).flat_map(|t| [span(t, 1), span(t, 2)]).collect();
    let traces = format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    );
    assert_eq!(
        post(&addr, "/v1/traces", "application/json", traces.as_bytes()).status,
        200
    );
    let metrics = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","gauge":{"dataPoints":[{"asInt":"5","timeUnixNano":"1"}]}}]}]}]}"#;
    assert_eq!(
        post(&addr, "/v1/metrics", "application/json", metrics.as_bytes()).status,
        200
    );

    // otlp_proto: the request, whole, unkeyed.
    let got = read_topic(&topic("logs"), 1);
    assert_eq!(got.len(), 1, "{}", c.log());
    let req = ExportLogsServiceRequest::decode(&got[0].2[..]).unwrap();
    let bodies = req.resource_logs[0].scope_logs[0].log_records.len();
    assert_eq!(bodies, 42);
    assert_eq!(got[0].1, None);

    // raw: one message per record, its body as Go's json.Marshal writes it.
    // Unkeyed messages spread over partitions, so order is not kept.
    let got = read_topic(&topic("raw"), 42);
    assert_eq!(got.len(), 42);
    let values: Vec<String> = got
        .iter()
        .map(|(_, _, v)| String::from_utf8_lossy(v).into_owned())
        .collect();
    // Go's raw marshaler JSON-encodes strings too.
    assert!(values.contains(&r#""plain text""#.to_string()));
    assert!(values.contains(&r#"{"k":7}"#.to_string()));

    // partition_traces_by_id: one message per trace, keyed by its hex id,
    // on Sarama's partition for that key.
    let got = read_topic(&topic("traces"), 4);
    assert_eq!(got.len(), 4);
    let mut by_key = BTreeMap::new();
    for (partition, key, value) in &got {
        let key = key.clone().expect("keyed");
        assert_eq!(
            *partition,
            sarama_partition(&key, 3),
            "partition of {key:?}"
        );
        let req = ExportTraceServiceRequest::decode(&value[..]).unwrap();
        let spans = &req.resource_spans[0].scope_spans[0].spans;
        assert_eq!(spans.len(), 2);
        let hex: String = spans[0]
            .trace_id
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(String::from_utf8(key.clone()).unwrap(), hex);
        assert!(spans.iter().all(|s| s.trace_id == spans[0].trace_id));
        by_key.insert(key, spans.len());
    }
    assert_eq!(by_key.len(), 4);

    // otlp_json.
    let got = read_topic(&topic("metrics"), 1);
    let json: serde_json::Value = serde_json::from_slice(&got[0].2).unwrap();
    assert_eq!(
        json["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["name"],
        "m"
    );

    // max_message_bytes 2000: the 42 records in several messages, each
    // within the limit, none lost.
    let mut seen = 0;
    let got = read_topic(&topic("small"), 1000);
    assert!(got.len() > 1);
    for (_, _, value) in &got {
        assert!(value.len() <= 2000, "{} bytes", value.len());
        let req = ExportLogsServiceRequest::decode(&value[..]).unwrap();
        for r in req
            .resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .flat_map(|s| &s.log_records)
        {
            assert!(matches!(
                r.body.as_ref().and_then(|b| b.value.as_ref()),
                Some(any_value::Value::StringValue(_)) | Some(any_value::Value::KvlistValue(_))
            ));
            seen += 1;
        }
    }
    assert_eq!(seen, 42);
}
