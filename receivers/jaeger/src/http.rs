//! `POST /api/traces`: a Thrift `Batch` in the binary protocol, answered
//! as Go's receiver answers (202 empty; `http.Error` texts otherwise).

use crate::Sink;
use crate::config::HttpConfig;
use ferrotel_core::consumer::ClientInfo;
use ferrotel_core::http_server::{Body, HttpServer, header_text, response, serve};
use ferrotel_decompress::{BodyError, decompress};
use ferrotel_jaeger::{Protocol, thrift_batch, thrift_to_traces};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use std::net::SocketAddr;
use std::sync::Arc;

struct Routes {
    sink: Sink,
    max_body: usize,
    include_metadata: bool,
}

pub(crate) async fn start(cfg: &HttpConfig, sink: Sink) -> Result<HttpServer, std::io::Error> {
    let routes = Arc::new(Routes {
        sink,
        // 0 is no limit, as in Go.
        max_body: match cfg.max_request_body_size.0 {
            0 => usize::MAX,
            n => n as usize,
        },
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

/// An empty answer without a `Content-Type`, as Go's.
fn without_content_type(status: u16) -> Response<Body> {
    let mut resp = response(status, "", bytes::Bytes::new());
    resp.headers_mut().remove(http::header::CONTENT_TYPE);
    resp
}

/// Go's `http.Error`: the (HTML-escaped) message and a newline.
fn go_error(status: u16, message: &str) -> Response<Body> {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;");
    let mut resp = response(status, "text/plain; charset=utf-8", format!("{escaped}\n"));
    resp.headers_mut().insert(
        "x-content-type-options",
        http::HeaderValue::from_static("nosniff"),
    );
    resp
}

impl Routes {
    async fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        if req.uri().path() != "/api/traces" {
            return response(404, "text/plain; charset=utf-8", "404 page not found\n");
        }
        if req.method() != Method::POST {
            return without_content_type(405);
        }
        let content_type = header_text(req.headers(), http::header::CONTENT_TYPE);
        // Go's mime.ParseMediaType: the type before any parameters.
        let media = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if media.is_empty() {
            return go_error(400, "Cannot parse content type: mime: no media type");
        }
        if media != "application/x-thrift" && media != "application/vnd.apache.thrift.binary" {
            return go_error(400, &format!("Unsupported content type: {media}"));
        }
        let client = Arc::new(ClientInfo::from_headers(
            Some(peer),
            req.headers(),
            self.include_metadata,
        ));
        let content_encoding =
            header_text(req.headers(), http::header::CONTENT_ENCODING).to_ascii_lowercase();
        let raw = match Limited::new(req.into_body(), self.max_body).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return go_error(
                    400,
                    "Unable to process request body: http: request body too large",
                );
            }
            Err(e) => return go_error(500, &format!("Unable to process request body: {e}")),
        };
        // Go's confighttp decompresses every server's bodies.
        let body = match decompress(&content_encoding, raw, self.max_body) {
            Ok(b) => b,
            Err(BodyError::TooLarge) => {
                return go_error(
                    400,
                    "Unable to process request body: http: request body too large",
                );
            }
            Err(BodyError::UnsupportedEncoding(e)) => {
                return go_error(400, &format!("unsupported Content-Encoding: {e}"));
            }
            Err(BodyError::Corrupt(e)) => return go_error(400, &e),
        };
        let batch = match thrift_batch(&body, Protocol::Binary) {
            Ok(b) => b,
            Err(e) => return go_error(400, &format!("Unable to process request body: {e}")),
        };
        match self.sink.push(thrift_to_traces(batch), client).await {
            Ok(()) => without_content_type(202),
            Err(e) => {
                // Go writes this one unescaped.
                let mut resp = response(
                    500,
                    "text/plain; charset=utf-8",
                    format!("Cannot submit Jaeger batch: {e}\n"),
                );
                resp.headers_mut().insert(
                    "x-content-type-options",
                    http::HeaderValue::from_static("nosniff"),
                );
                resp
            }
        }
    }
}
