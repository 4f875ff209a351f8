//! health_check against the real binary (Go's JSON body, 200 while
//! running), `components` as a golden file, gRPC garbage input, and
//! `include_metadata` feeding the batch processor's `metadata_keys`.

use ferrotel_core::pdata::{Signal, Telemetry};
use ferrotel_e2e::{
    Collector, ferrotel_bin, free_port, http, merged, read_proto_file, sample, wait_until,
};
use std::process::Command;
use std::time::Duration;

#[test]
fn health_check_answers_like_go() {
    let (grpc, health) = (free_port(), free_port());
    let c = Collector::start(&format!(
        "
receivers: {{otlp: {{protocols: {{grpc: {{endpoint: '127.0.0.1:{grpc}'}}}}}}}}
exporters: {{nop: }}
extensions:
  health_check: {{endpoint: '127.0.0.1:{health}', path: /health}}
service:
  extensions: [health_check]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [nop]}}
"
    ));
    let addr = format!("127.0.0.1:{health}");
    let r = http("GET", &addr, "/health", &[], b"").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["status"], "Server available");
    let up_since = body["upSince"].as_str().unwrap();
    assert!(
        up_since.len() >= 20 && up_since.ends_with('Z') && up_since.contains('T'),
        "RFC 3339: {up_since}"
    );
    assert!(
        body["uptime"].as_str().unwrap().ends_with('s'),
        "Go duration: {}",
        body["uptime"]
    );
    assert_eq!(http("GET", &addr, "/other", &[], b"").unwrap().status, 404);
    drop(c);
}

#[test]
fn components_listing_is_stable() {
    let out = Command::new(ferrotel_bin())
        .arg("components")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    insta::assert_snapshot!(text.replace(version, "<version>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_garbage_gets_an_error_status_and_the_server_keeps_serving() {
    use bytes::{Buf, BufMut, Bytes};
    use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

    #[derive(Clone, Copy, Default)]
    struct Raw;
    impl Codec for Raw {
        type Encode = Bytes;
        type Decode = ();
        type Encoder = Raw;
        type Decoder = Raw;
        fn encoder(&mut self) -> Raw {
            Raw
        }
        fn decoder(&mut self) -> Raw {
            Raw
        }
    }
    impl Encoder for Raw {
        type Item = Bytes;
        type Error = tonic::Status;
        fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
            dst.put(item);
            Ok(())
        }
    }
    impl Decoder for Raw {
        type Item = ();
        type Error = tonic::Status;
        fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<()>, tonic::Status> {
            let n = src.remaining();
            src.advance(n);
            Ok(Some(()))
        }
    }

    let port = free_port();
    let mut c = Collector::start(&format!(
        "
receivers: {{otlp: {{protocols: {{grpc: {{endpoint: '127.0.0.1:{port}', max_recv_msg_size_mib: 1}}}}}}}}
exporters: {{file: {{path: '{{dir}}/logs.pb', format: proto}}}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [otlp], exporters: [file]}}
"
    ));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let path = http::uri::PathAndQuery::from_static(
        "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    );
    let call = |body: Bytes| {
        let mut grpc = tonic::client::Grpc::new(channel.clone());
        let path = path.clone();
        async move {
            grpc.ready().await.unwrap();
            grpc.unary(tonic::Request::new(body), path, Raw).await
        }
    };
    // Malformed protobuf: an error status, not a crash.
    let err = call(Bytes::from_static(&[0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]))
        .await
        .unwrap_err();
    assert_ne!(err.code(), tonic::Code::Ok);
    // Over max_recv_msg_size_mib.
    let err = call(Bytes::from(vec![0u8; 2 << 20])).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::OutOfRange, "{err}");
    // Still serving.
    assert!(c.is_running());
    call(Bytes::from(sample(Signal::Logs, 1).encode_request()))
        .await
        .unwrap();
    assert_eq!(read_proto_file(&c.path("logs.pb"), Signal::Logs).len(), 1);
}

#[test]
fn include_metadata_feeds_batch_metadata_keys() {
    let port = free_port();
    let c = Collector::start(&format!(
        "
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:{port}', include_metadata: true}}
processors:
  batch: {{timeout: 1s, metadata_keys: [x-tenant]}}
exporters:
  file: {{path: '{{dir}}/logs.pb', format: proto}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: [batch], exporters: [file]}}
"
    ));
    let addr = format!("127.0.0.1:{port}");
    // Each request is answered once its batch is sent, so the four are sent
    // at once to land in the same batching window.
    std::thread::scope(|s| {
        for (tenant, seed) in [("a", 1u8), ("b", 2), ("a", 3), ("b", 4)] {
            let addr = &addr;
            s.spawn(move || {
                let body = sample(Signal::Logs, seed).encode_request();
                let r = http(
                    "POST",
                    addr,
                    "/v1/logs",
                    &[
                        ("Content-Type", "application/x-protobuf"),
                        ("X-Tenant", tenant),
                    ],
                    &body,
                )
                .unwrap();
                assert_eq!(r.status, 200);
            });
        }
    });
    let written = || read_proto_file(&c.path("logs.pb"), Signal::Logs);
    assert!(
        wait_until(Duration::from_secs(10), || merged(written(), Signal::Logs)
            .item_count()
            == 8),
        "{}",
        c.log()
    );
    // One batch per tenant: a's requests (seeds 1 and 3) together, b's apart.
    let batches = written();
    assert_eq!(batches.len(), 2, "one batch per metadata value");
    let services = |t: &Telemetry| -> Vec<String> {
        let Telemetry::Logs(r) = t else {
            unreachable!()
        };
        r.iter()
            .filter_map(|r| r.resource.as_ref())
            .flat_map(|r| &r.attributes)
            .filter(|kv| kv.key == "service.name")
            .map(|kv| format!("{:?}", kv.value))
            .collect()
    };
    let mut groups: Vec<Vec<String>> = batches.iter().map(services).collect();
    groups.iter_mut().for_each(|g| g.sort());
    groups.sort();
    assert!(
        groups[0][0].contains("svc-1") && groups[0][1].contains("svc-3"),
        "{groups:?}"
    );
    assert!(
        groups[1][0].contains("svc-2") && groups[1][1].contains("svc-4"),
        "{groups:?}"
    );
}
