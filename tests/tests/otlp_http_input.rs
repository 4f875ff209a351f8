//! OTLP/HTTP input handling against the real binary: every encoding and
//! compression is accepted and written out unchanged, and bad input gets
//! the Go collector's status codes without disturbing the process.

use ferrotel_core::pdata::{Signal, encode_json};
use ferrotel_e2e::{Collector, free_port, gzip, http, merged, post, read_proto_file, sample};

fn collector() -> (Collector, String) {
    let port = free_port();
    let config = format!(
        "
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{port}
        max_request_body_size: 1MiB
exporters:
  file/traces: {{path: '{{dir}}/traces.pb', format: proto}}
  file/metrics: {{path: '{{dir}}/metrics.pb', format: proto}}
  file/logs: {{path: '{{dir}}/logs.pb', format: proto}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [file/traces]}}
    metrics: {{receivers: [otlp], exporters: [file/metrics]}}
    logs: {{receivers: [otlp], exporters: [file/logs]}}
"
    );
    (Collector::start(&config), format!("127.0.0.1:{port}"))
}

#[test]
fn every_signal_encoding_and_compression_arrives_unchanged() {
    let (c, addr) = collector();
    for signal in Signal::STABLE {
        let path = format!("/v1/{signal}");
        let mut sent = Vec::new();
        for (seed, (content_type, encoding)) in [
            ("application/x-protobuf", ""),
            ("application/json", ""),
            ("application/x-protobuf", "gzip"),
            ("application/json", "zstd"),
            ("application/x-protobuf", "snappy"),
            ("application/x-protobuf", "deflate"),
        ]
        .into_iter()
        .enumerate()
        {
            let data = sample(signal, seed as u8);
            let body = if content_type == "application/json" {
                encode_json(&data).into_bytes()
            } else {
                data.encode_request()
            };
            let body = match encoding {
                "gzip" => gzip(&body),
                "zstd" => zstd_compress(&body),
                "snappy" => snappy_compress(&body),
                "deflate" => zlib_compress(&body),
                _ => body,
            };
            let mut headers = vec![("Content-Type", content_type)];
            if !encoding.is_empty() {
                headers.push(("Content-Encoding", encoding));
            }
            let resp = http("POST", &addr, &path, &headers, &body).unwrap();
            assert_eq!(
                resp.status,
                200,
                "{signal} {content_type} {encoding}: {}",
                String::from_utf8_lossy(&resp.body)
            );
            assert_eq!(
                resp.header("content-type"),
                Some(content_type),
                "the response uses the request's encoding"
            );
            sent.push(data);
        }
        let got = read_proto_file(&c.path(&format!("{signal}.pb")), signal);
        assert_eq!(merged(got, signal), merged(sent, signal), "{signal}");
    }
}

#[test]
fn bad_input_gets_protocol_errors_and_the_process_keeps_serving() {
    let (mut c, addr) = collector();
    // Wrong content type: 415 with the Go text.
    let r = post(&addr, "/v1/traces", "text/plain", b"hello");
    assert_eq!(r.status, 415);
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        "415 unsupported media type, supported: [application/json, application/x-protobuf]"
    );
    // Wrong method: 405.
    assert_eq!(
        http("GET", &addr, "/v1/traces", &[], b"").unwrap().status,
        405
    );
    // Unknown path: 404.
    assert_eq!(
        post(&addr, "/v1/other", "application/json", b"{}").status,
        404
    );
    // Malformed protobuf and JSON: 400 with a google.rpc.Status body in the request's encoding.
    let r = post(
        &addr,
        "/v1/logs",
        "application/x-protobuf",
        &[0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01],
    );
    assert_eq!(r.status, 400);
    let status = decode_status(&r.body);
    assert_eq!(status.0, 3, "InvalidArgument");
    let r = post(
        &addr,
        "/v1/logs",
        "application/json",
        b"{\"resourceLogs\": [ {",
    );
    assert_eq!(r.status, 400);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["code"], 3);
    let r = post(
        &addr,
        "/v1/logs",
        "application/json",
        br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"not-hex"}]}]}]}"#,
    );
    assert_eq!(r.status, 400);
    // Oversized: a body over max_request_body_size.
    let big = vec![b' '; 2 << 20];
    assert_eq!(
        post(&addr, "/v1/logs", "application/json", &big).status,
        400
    );
    // A gzip bomb: 64 MiB of zeros in ~64 KiB; refused after 1 MiB of output.
    let bomb = gzip(&vec![0u8; 64 << 20]);
    let r = http(
        "POST",
        &addr,
        "/v1/logs",
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Content-Encoding", "gzip"),
        ],
        &bomb,
    )
    .unwrap();
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).contains("request body too large"));
    // Unknown and corrupt compression.
    let r = http(
        "POST",
        &addr,
        "/v1/logs",
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "br"),
        ],
        b"{}",
    )
    .unwrap();
    assert_eq!(r.status, 400);
    let r = http(
        "POST",
        &addr,
        "/v1/logs",
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        b"not gzip",
    )
    .unwrap();
    assert_eq!(r.status, 400);
    // Still alive and serving.
    assert!(c.is_running());
    let ok = post(
        &addr,
        "/v1/logs",
        "application/x-protobuf",
        &sample(Signal::Logs, 1).encode_request(),
    );
    assert_eq!(ok.status, 200);
    assert_eq!(read_proto_file(&c.path("logs.pb"), Signal::Logs).len(), 1);
}

/// (code, message) of a protobuf `google.rpc.Status`.
fn decode_status(body: &[u8]) -> (i32, String) {
    #[derive(Clone, PartialEq, prost::Message)]
    struct RpcStatus {
        #[prost(int32, tag = "1")]
        code: i32,
        #[prost(string, tag = "2")]
        message: String,
    }
    let s = <RpcStatus as prost::Message>::decode(body).expect("google.rpc.Status");
    (s.code, s.message)
}

fn zstd_compress(data: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(data, 3).unwrap()
}

fn snappy_compress(data: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new().compress_vec(data).unwrap()
}

fn zlib_compress(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn a_full_exporter_queue_answers_503_with_retry_after() {
    let (port, dead) = (free_port(), free_port());
    // The exporter's one worker holds the first request while it retries
    // against a port nobody listens on; the queue of one is then full.
    let _c = Collector::start(&format!(
        "
receivers: {{otlp: {{protocols: {{http: {{endpoint: '127.0.0.1:{port}'}}}}}}}}
exporters:
  otlp_http:
    endpoint: 'http://127.0.0.1:{dead}'
    sending_queue: {{queue_size: 1, num_consumers: 1}}
    retry_on_failure: {{initial_interval: 10s, max_interval: 10s}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [otlp], exporters: [otlp_http]}}
"
    ));
    let addr = format!("127.0.0.1:{port}");
    let body = sample(Signal::Logs, 1).encode_request();
    assert_eq!(
        post(&addr, "/v1/logs", "application/x-protobuf", &body).status,
        200
    );
    let r = post(&addr, "/v1/logs", "application/x-protobuf", &body);
    assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));
    assert!(
        r.header("retry-after")
            .is_some_and(|v| v.parse::<u64>().is_ok()),
        "{:?}",
        r.headers
    );
    let (code, message) = decode_status(&r.body);
    assert_eq!(code, 14, "Unavailable");
    assert!(message.contains("sending queue is full"), "{message}");
    // JSON clients get the same status as JSON.
    let r = post(
        &addr,
        "/v1/logs",
        "application/json",
        encode_json(&sample(Signal::Logs, 2)).as_bytes(),
    );
    assert_eq!(r.status, 503);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["code"], 14);
}
