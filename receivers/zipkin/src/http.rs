//! The HTTP handler: decompress, pick the format by path and content
//! type, translate, hand on, answer as Go's receiver does.

use crate::config::Config;
use ferrotel_core::ack::{AckToken, Acks, Guarantee};
use ferrotel_core::consumer::{Batch, ClientInfo, ConsumeError, SharedConsumer};
use ferrotel_core::http_server::{Body, HttpServer, header_text, response, serve};
use ferrotel_core::pdata::{Payload, Telemetry};
use ferrotel_core::telemetry::ReceiverMetrics;
use ferrotel_decompress::{BodyError, decompress};
use ferrotel_zipkin::{json, proto, to_traces, v1};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use std::net::SocketAddr;
use std::sync::Arc;

/// Where the spans go, with a counter set per Go transport name.
pub(crate) struct Sink {
    pub(crate) consumer: SharedConsumer,
    pub(crate) v1_json: ReceiverMetrics,
    pub(crate) v1_thrift: ReceiverMetrics,
    pub(crate) v2_json: ReceiverMetrics,
    pub(crate) v2_proto: ReceiverMetrics,
    pub(crate) parse_string_tags: bool,
}

struct Routes {
    sink: Arc<Sink>,
    max_body: usize,
    include_metadata: bool,
}

pub(crate) async fn start(cfg: &Config, sink: Arc<Sink>) -> Result<HttpServer, std::io::Error> {
    let routes = Arc::new(Routes {
        sink,
        max_body: cfg.max_request_body_size.0 as usize,
        include_metadata: cfg.include_metadata,
    });
    serve(
        &cfg.endpoint,
        cfg.tls.as_ref(),
        &cfg.response_headers,
        move |req, peer| {
            let routes = routes.clone();
            async move { routes.handle(req, peer).await }
        },
    )
    .await
}

/// `http.Error`: the message and a newline, as plain text.
fn go_error(status: u16, message: &str) -> Response<Body> {
    let mut resp = response(status, "text/plain; charset=utf-8", format!("{message}\n"));
    resp.headers_mut().insert(
        "x-content-type-options",
        http::HeaderValue::from_static("nosniff"),
    );
    resp
}

/// Unix nanoseconds now, the time Go stamps on v1 spans without one.
fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

impl Routes {
    async fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        let v1 = req.uri().path().contains("api/v1/spans");
        let content_type = header_text(req.headers(), http::header::CONTENT_TYPE);
        let proto = content_type == "application/x-protobuf";
        let thrift = content_type == "application/x-thrift";
        let debug = header_text(
            req.headers(),
            http::header::HeaderName::from_static("x-b3-flags"),
        ) == "1";
        let client = Arc::new(ClientInfo::from_headers(
            Some(peer),
            req.headers(),
            self.include_metadata,
        ));
        let encoding = header_text(req.headers(), http::header::CONTENT_ENCODING);
        let supported = matches!(
            encoding.as_str(),
            "" | "identity" | "gzip" | "zstd" | "zlib" | "deflate" | "snappy" | "x-snappy-framed"
        );
        if !supported {
            return go_error(400, &format!("unsupported Content-Encoding: {encoding}"));
        }
        // Go reads what it can and ignores read errors: a body cut short
        // (or too large) then fails to decode.
        let raw = match Limited::new(req.into_body(), self.max_body).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => bytes::Bytes::new(),
        };
        let body = match decompress(&encoding, raw, self.max_body) {
            Ok(b) => b,
            Err(BodyError::TooLarge) => bytes::Bytes::new(),
            Err(BodyError::UnsupportedEncoding(e)) => {
                return go_error(400, &format!("unsupported Content-Encoding: {e}"));
            }
            Err(BodyError::Corrupt(e)) => return go_error(400, &e),
        };
        let (metrics, translated) = if v1 {
            if thrift {
                (
                    &self.sink.v1_thrift,
                    Err("zipkin v1 thrift is not supported by ferrotel yet".to_string()),
                )
            } else {
                (
                    &self.sink.v1_json,
                    v1::decode_json(&body, self.sink.parse_string_tags, now_nanos()),
                )
            }
        } else if proto {
            (
                &self.sink.v2_proto,
                proto::decode_spans(&body, debug)
                    .and_then(|s| to_traces(s, self.sink.parse_string_tags)),
            )
        } else {
            (
                &self.sink.v2_json,
                json::decode_spans(&body).and_then(|s| to_traces(s, self.sink.parse_string_tags)),
            )
        };
        let data = match translated {
            Ok(d) => Telemetry::Traces(d),
            Err(e) => return go_error(400, &e),
        };
        let items = data.item_count() as u64;
        let (token, receipt) = AckToken::new(Guarantee::Accepted);
        let batch = Batch::from_payload(Payload::from(data), client).with_acks(Acks::one(token));
        let result = match self.sink.consumer.consume(batch).await {
            Ok(()) => receipt.outcome().await,
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                metrics.accepted.add(items);
                response(202, "text/plain; charset=utf-8", bytes::Bytes::new())
            }
            Err(ConsumeError::Permanent(_)) => {
                metrics.refused.add(items);
                response(400, "text/plain; charset=utf-8", "\"Bad Request\"")
            }
            Err(_) => {
                metrics.refused.add(items);
                response(
                    500,
                    "text/plain; charset=utf-8",
                    "\"Internal Server Error\"",
                )
            }
        }
    }
}
