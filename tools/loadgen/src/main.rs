//! `ferrotel-loadgen`: sends OTLP traces or logs over gRPC or HTTP to a
//! collector, at a fixed rate or flat out, and reports how many items per
//! second the collector acknowledged.
//!
//! Each request body is encoded once up front and re-sent as raw bytes
//! (through a pass-through gRPC codec), so the generator spends its CPU on
//! the network, not on protobuf encoding, and can drive a collector pinned
//! to another core.

use bytes::{Buf, BufMut, Bytes};
use clap::{Parser, ValueEnum};
use ferrotel_core::pdata::{Signal, synthetic_request};
use http_body_util::Full;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Endpoint;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq)]
enum Protocol {
    Grpc,
    Http,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq)]
enum SignalArg {
    Traces,
    Logs,
}

#[derive(Parser, Debug)]
#[command(about = "Send OTLP load to a collector and report acknowledged items per second")]
struct Args {
    /// host:port of the collector's OTLP receiver.
    #[arg(long, default_value = "127.0.0.1:4317")]
    endpoint: String,
    /// Transport.
    #[arg(long, value_enum, default_value_t = Protocol::Grpc)]
    protocol: Protocol,
    /// What to send.
    #[arg(long, value_enum, default_value_t = SignalArg::Traces)]
    signal: SignalArg,
    /// Items (spans or log records) per request.
    #[arg(long, default_value_t = 1000)]
    items_per_request: usize,
    /// Target items per second; 0 sends as fast as the collector answers.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Concurrent senders.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// How long to send, in seconds.
    #[arg(long, default_value_t = 10)]
    duration: u64,
}

/// Sends pre-encoded request bytes and ignores the response body.
#[derive(Clone, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = ();
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }
    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = ();
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<()>, tonic::Status> {
        let n = src.remaining();
        src.advance(n);
        Ok(Some(()))
    }
}

struct Counts {
    ok_items: AtomicU64,
    failed_requests: AtomicU64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let signal = match args.signal {
        SignalArg::Traces => Signal::Traces,
        SignalArg::Logs => Signal::Logs,
    };
    let body = Bytes::from(synthetic_request(signal, args.items_per_request).encode_request());
    let counts = Arc::new(Counts {
        ok_items: AtomicU64::new(0),
        failed_requests: AtomicU64::new(0),
    });
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.duration);
    // Each sender paces itself to its share of the rate.
    let per_sender_interval = (args.rate > 0).then(|| {
        let requests_per_sec =
            args.rate as f64 / args.items_per_request as f64 / args.concurrency as f64;
        Duration::from_secs_f64(1.0 / requests_per_sec)
    });
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let counts = counts.clone();
        let body = body.clone();
        let args_endpoint = args.endpoint.clone();
        let (protocol, signal, items) = (args.protocol, args.signal, args.items_per_request as u64);
        tasks.push(tokio::spawn(async move {
            let mut ticker = per_sender_interval.map(|i| {
                let mut t = tokio::time::interval(i);
                t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                t
            });
            let send = Sender::connect(protocol, signal, &args_endpoint).await;
            while Instant::now() < deadline {
                if let Some(t) = ticker.as_mut() {
                    t.tick().await;
                }
                if send.send(body.clone()).await {
                    counts.ok_items.fetch_add(items, Ordering::Relaxed);
                } else {
                    counts.failed_requests.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let ok = counts.ok_items.load(Ordering::Relaxed);
    println!(
        "protocol={:?} signal={:?} items_per_request={} concurrency={} seconds={secs:.1} acknowledged_items={ok} items_per_sec={:.0} failed_requests={}",
        args.protocol,
        args.signal,
        args.items_per_request,
        args.concurrency,
        ok as f64 / secs,
        counts.failed_requests.load(Ordering::Relaxed)
    );
    Ok(())
}

enum Sender {
    Grpc(
        tonic::client::Grpc<tonic::transport::Channel>,
        http::uri::PathAndQuery,
    ),
    Http(
        hyper_util::client::legacy::Client<
            hyper_util::client::legacy::connect::HttpConnector,
            Full<Bytes>,
        >,
        String,
    ),
}

impl Sender {
    async fn connect(protocol: Protocol, signal: SignalArg, endpoint: &str) -> Sender {
        match protocol {
            Protocol::Grpc => {
                let channel = Endpoint::from_shared(format!("http://{endpoint}"))
                    .expect("endpoint")
                    .connect_lazy();
                let path = match signal {
                    SignalArg::Traces => {
                        "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
                    }
                    SignalArg::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
                };
                Sender::Grpc(
                    tonic::client::Grpc::new(channel),
                    http::uri::PathAndQuery::from_static(path),
                )
            }
            Protocol::Http => {
                let client = hyper_util::client::legacy::Client::builder(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .build(hyper_util::client::legacy::connect::HttpConnector::new());
                let path = match signal {
                    SignalArg::Traces => "traces",
                    SignalArg::Logs => "logs",
                };
                Sender::Http(client, format!("http://{endpoint}/v1/{path}"))
            }
        }
    }

    async fn send(&self, body: Bytes) -> bool {
        match self {
            Sender::Grpc(grpc, path) => {
                let mut grpc = grpc.clone();
                if grpc.ready().await.is_err() {
                    return false;
                }
                grpc.unary(tonic::Request::new(body), path.clone(), RawCodec)
                    .await
                    .is_ok()
            }
            Sender::Http(client, url) => {
                let req = http::Request::post(url.as_str())
                    .header(http::header::CONTENT_TYPE, "application/x-protobuf")
                    .body(Full::new(body))
                    .expect("request");
                matches!(client.request(req).await, Ok(resp) if resp.status().is_success())
            }
        }
    }
}
