//! The kafka exporter against a real Apache Kafka broker (started by
//! `scripts/test-services.sh`, which the README's test command runs; its
//! address is in `FERROTEL_KAFKA_BROKERS`). OTLP goes in over HTTP, and a
//! librdkafka consumer reads back what the broker stored: each encoding,
//! keys and partitions of partitioned traces, and splitting at
//! `max_message_bytes`.

use ferrotel_core::pdata::{
    ExportLogsServiceRequest, ExportTraceServiceRequest, common::any_value,
};
use ferrotel_e2e::{Collector, free_port, oracle_bin, post, wait_until};
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

/// Reads `topic` from the beginning until `want` records arrived or 20 s
/// passed; with `want` 0 (a count not known in advance), until the topic
/// has been quiet for 3 s after its first record.
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
    while (want == 0 || out.len() < want) && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                last = Instant::now();
                out.push((
                    m.partition(),
                    m.key().map(<[u8]>::to_vec),
                    m.payload().unwrap_or_default().to_vec(),
                ));
            }
            _ if want == 0 && !out.is_empty() && last.elapsed() > Duration::from_secs(3) => break,
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
    let got = read_topic(&topic("small"), 0);
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

/// A traces request with the empty messages Go's pdata always writes (a
/// span's `status`, a scope) taken out: in OTLP, empty and absent are the
/// same, and prost leaves them absent.
fn normal_traces(bytes: &[u8]) -> ExportTraceServiceRequest {
    let mut req = ExportTraceServiceRequest::decode(bytes).unwrap();
    for rs in &mut req.resource_spans {
        for ss in &mut rs.scope_spans {
            if ss.scope.as_ref().is_some_and(|s| *s == Default::default()) {
                ss.scope = None;
            }
            for span in &mut ss.spans {
                if span
                    .status
                    .as_ref()
                    .is_some_and(|s| *s == Default::default())
                {
                    span.status = None;
                }
            }
        }
    }
    req
}

/// A logs request normalized like [`normal_traces`].
fn normal_logs(bytes: &[u8]) -> ExportLogsServiceRequest {
    let mut req = ExportLogsServiceRequest::decode(bytes).unwrap();
    for rl in &mut req.resource_logs {
        for sl in &mut rl.scope_logs {
            if sl.scope.as_ref().is_some_and(|s| *s == Default::default()) {
                sl.scope = None;
            }
        }
    }
    req
}

/// The same traffic through the Go collector's kafka exporter and
/// ferrotel's: the same keys on the same partitions (traces by trace id,
/// logs by resource attributes, which checks the attribute hash), the same
/// data in each message, and byte-identical raw messages.
#[test]
fn go_and_ferrotel_write_the_same_keys_partitions_and_data() {
    let run = format!("{:x}", fastrand::u64(..));
    let config = |who: &str, port: u16| {
        format!(
            r#"
receivers: {{otlp: {{protocols: {{http: {{endpoint: '127.0.0.1:{port}'}}}}}}}}
exporters:
  kafka/keyed:
    brokers: ['{brokers}']
    traces: {{topic: 'parity-{run}-{who}-traces'}}
    logs: {{topic: 'parity-{run}-{who}-logs'}}
    partition_traces_by_id: true
    partition_logs_by_resource_attributes: true
  kafka/raw:
    brokers: ['{brokers}']
    logs: {{topic: 'parity-{run}-{who}-raw', encoding: raw}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [kafka/keyed]}}
    logs: {{receivers: [otlp], exporters: [kafka/keyed, kafka/raw]}}
"#,
            brokers = brokers()
        )
    };
    let spans: Vec<String> = (1..=6).flat_map(|t| [span(t, 1), span(t, 2)]).collect();
    let traces = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"parity"}}}}]}},"scopeSpans":[{{"scope":{{"name":"s"}},"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    );
    let resource = |i: usize| {
        format!(
            r#"{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"svc-{i}"}}}},{{"key":"k8s.pod.uid","value":{{"stringValue":"uid-{i}"}}}},{{"key":"n","value":{{"intValue":"{i}"}}}},{{"key":"ratio","value":{{"doubleValue":{i}.5}}}},{{"key":"on","value":{{"boolValue":true}}}}]}},"scopeLogs":[{{"logRecords":[{{"body":{{"stringValue":"line <{i}> & \"quoted\""}}}},{{"body":{{"kvlistValue":{{"values":[{{"key":"z","value":{{"doubleValue":3.0}}}},{{"key":"a","value":{{"intValue":"{i}"}}}}]}}}}}}]}}]}}"#
        )
    };
    let logs = format!(
        r#"{{"resourceLogs":[{}]}}"#,
        (0..5).map(resource).collect::<Vec<_>>().join(",")
    );
    let send = |port: u16| {
        let addr = format!("127.0.0.1:{port}");
        assert!(wait_until(Duration::from_secs(20), || {
            std::net::TcpStream::connect(&addr).is_ok()
        }));
        assert_eq!(
            post(&addr, "/v1/traces", "application/json", traces.as_bytes()).status,
            200
        );
        assert_eq!(
            post(&addr, "/v1/logs", "application/json", logs.as_bytes()).status,
            200
        );
    };

    let go_port = free_port();
    let go_dir = tempfile::tempdir().unwrap();
    let go_config = go_dir.path().join("go.yaml");
    std::fs::write(&go_config, config("go", go_port)).unwrap();
    let mut go = std::process::Command::new(oracle_bin())
        .arg(format!("--config={}", go_config.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    send(go_port);
    let ours_port = free_port();
    let _ours = Collector::start(&config("ferrotel", ours_port));
    send(ours_port);

    let read = |who: &str, topic: &str, want: usize| {
        let mut records = read_topic(&format!("parity-{run}-{who}-{topic}"), want);
        records.sort();
        records
    };
    // Keyed topics: same (partition, key) pairs, and per key the same data.
    for (topic, want) in [("traces", 6), ("logs", 5)] {
        let go_records = read("go", topic, want);
        let ours = read("ferrotel", topic, want);
        let pairs = |r: &[Record]| {
            r.iter()
                .map(|(p, k, _)| (*p, k.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            pairs(&ours),
            pairs(&go_records),
            "{topic}: partitions and keys"
        );
        for ((_, key, go_value), (_, _, our_value)) in go_records.iter().zip(&ours) {
            let same = if topic == "traces" {
                normal_traces(go_value) == normal_traces(our_value)
            } else {
                normal_logs(go_value) == normal_logs(our_value)
            };
            assert!(same, "{topic}: the data under key {key:?} differs");
        }
    }
    // raw: byte for byte (order across partitions aside).
    let values = |who: &str| {
        let mut v: Vec<Vec<u8>> = read(who, "raw", 10)
            .into_iter()
            .map(|(_, _, v)| v)
            .collect();
        v.sort();
        v
    };
    let go_raw = values("go");
    assert_eq!(go_raw.len(), 10);
    assert_eq!(values("ferrotel"), go_raw);
    let _ = go.kill();
    let _ = go.wait();
}

/// A broker of this test's own, for outages, stopped when dropped.
struct OwnBroker {
    brokers: String,
    dir: String,
}

impl OwnBroker {
    fn start() -> OwnBroker {
        let out = services(&["start"], None);
        let field = |name: &str| {
            out.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("no {name} in {out:?}"))
                .to_string()
        };
        OwnBroker {
            brokers: field("FERROTEL_KAFKA_BROKERS"),
            dir: field("FERROTEL_SERVICES_DIR"),
        }
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        services(&["stop"], Some(&self.dir));
    }
}

fn services(args: &[&str], dir: Option<&str>) -> String {
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(ferrotel_e2e::workspace_root().join("scripts/test-services.sh"))
        .args(args);
    if let Some(dir) = dir {
        cmd.env("FERROTEL_SERVICES_DIR", dir);
    }
    let out = cmd.output().expect("scripts/test-services.sh");
    assert!(
        out.status.success(),
        "test-services.sh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The broker goes away mid-stream and comes back: the exporter's queue
/// and retries carry the data over the outage, and every record arrives.
#[test]
fn a_broker_outage_loses_nothing() {
    let broker = OwnBroker::start();
    let port = free_port();
    let topic = format!("outage-{:x}", fastrand::u64(..));
    let c = Collector::start(&format!(
        r#"
receivers: {{otlp: {{protocols: {{http: {{endpoint: '127.0.0.1:{port}'}}}}}}}}
exporters:
  kafka:
    brokers: ['{brokers}']
    logs: {{topic: '{topic}'}}
    timeout: 2s
    retry_on_failure: {{initial_interval: 200ms, max_interval: 1s, max_elapsed_time: 120s}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines: {{logs: {{receivers: [otlp], exporters: [kafka]}}}}
"#,
        brokers = broker.brokers
    ));
    let addr = format!("127.0.0.1:{port}");
    let send = |batch: u32| {
        let records: Vec<String> = (0..10)
            .map(|i| format!(r#"{{"body":{{"stringValue":"outage-{batch}-{i}"}}}}"#))
            .collect();
        let body = format!(
            r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{}]}}]}}]}}"#,
            records.join(",")
        );
        assert_eq!(
            post(&addr, "/v1/logs", "application/json", body.as_bytes()).status,
            200
        );
    };
    for batch in 0..5 {
        send(batch);
    }
    services(&["kafka-stop"], Some(&broker.dir));
    for batch in 5..15 {
        send(batch);
        std::thread::sleep(Duration::from_millis(200));
    }
    services(&["kafka-start"], Some(&broker.dir));
    for batch in 15..20 {
        send(batch);
    }
    // Read back from the restarted broker.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &broker.brokers)
        .set("group.id", "ferrotel-e2e-outage")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..3 {
        tpl.add_partition_offset(&topic, p, Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&tpl).expect("assign");
    let mut seen = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while seen.len() < 200 && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            let req = ExportLogsServiceRequest::decode(m.payload().unwrap_or_default()).unwrap();
            for r in req
                .resource_logs
                .iter()
                .flat_map(|r| &r.scope_logs)
                .flat_map(|s| &s.log_records)
            {
                if let Some(any_value::Value::StringValue(s)) =
                    r.body.as_ref().and_then(|b| b.value.as_ref())
                {
                    seen.insert(s.clone());
                }
            }
        }
    }
    assert_eq!(
        seen.len(),
        200,
        "records lost over the outage; log:\n{}",
        c.log()
    );
}
