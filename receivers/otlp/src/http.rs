//! OTLP over HTTP: `POST /v1/{traces,metrics,logs}` with protobuf or JSON,
//! and `POST /v1development/profiles` (a fixed path, as in Go) with protobuf.

use crate::config::HttpConfig;
use crate::{Sinks, check_profiles_version};
use bytes::Bytes;
use ferrotel_core::auth::ServerAuth;
use ferrotel_core::consumer::{ClientInfo, ConsumeError};
use ferrotel_core::http_server::{Body, HttpServer, response, serve};
use ferrotel_core::pdata::{Payload, Signal, decode_json, scan};
use ferrotel_decompress::{BodyError, decompress};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use prost::Message;
use std::net::SocketAddr;
use std::sync::Arc;

/// `google.rpc.Status`, the body of every OTLP/HTTP error response.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Proto,
    Json,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Proto => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

struct Routes {
    sinks: Sinks,
    /// Query parameters the authenticator also reads (`auth::request_params`).
    request_params: Vec<String>,
    paths: [(String, Signal); 4],
    max_body: usize,
    include_metadata: bool,
}

pub(crate) async fn start(cfg: &HttpConfig, sinks: Sinks) -> Result<HttpServer, std::io::Error> {
    let routes = Arc::new(Routes {
        sinks,
        request_params: cfg
            .auth
            .as_ref()
            .map(|a| a.request_params.clone())
            .unwrap_or_default(),
        paths: [
            (cfg.traces_url_path.clone(), Signal::Traces),
            (cfg.metrics_url_path.clone(), Signal::Metrics),
            (cfg.logs_url_path.clone(), Signal::Logs),
            ("/v1development/profiles".into(), Signal::Profiles),
        ],
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

impl Routes {
    /// Checks the request's headers, with the configured query parameters
    /// added as headers, as Go's confighttp hands them over.
    async fn authenticate(&self, auth: &ServerAuth, req: &Request<Incoming>) -> Result<(), String> {
        if self.request_params.is_empty() {
            return auth.authenticate(req.headers()).await;
        }
        let mut headers = req.headers().clone();
        let query = req.uri().query().unwrap_or_default();
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if !self.request_params.iter().any(|p| p == key) {
                continue;
            }
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(key.as_bytes()),
                http::HeaderValue::from_str(value),
            ) {
                headers.append(name, value);
            }
        }
        auth.authenticate(&headers).await
    }

    async fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        // Go's interceptor runs before routing: every path needs credentials.
        if let Some(auth) = &self.sinks.auth
            && let Err(message) = self.authenticate(auth, &req).await
        {
            let protobuf =
                header(&req, http::header::CONTENT_TYPE).starts_with("application/x-protobuf");
            let encoding = if protobuf {
                Encoding::Proto
            } else {
                Encoding::Json
            };
            return error(encoding, 401, 16, message, None);
        }
        let path = req.uri().path();
        let Some(signal) = self.paths.iter().find(|(p, _)| p == path).map(|(_, s)| *s) else {
            return response(404, "text/plain; charset=utf-8", "404 page not found\n");
        };
        let Some(sink) = self.sinks.get(signal) else {
            return response(404, "text/plain; charset=utf-8", "404 page not found\n");
        };
        if req.method() != Method::POST {
            let mut resp = response(
                405,
                "text/plain",
                "405 method not allowed, supported: [POST]",
            );
            resp.headers_mut()
                .insert(http::header::ALLOW, http::HeaderValue::from_static("POST"));
            return resp;
        }
        let content_type = header(&req, http::header::CONTENT_TYPE);
        let encoding = match content_type.split(';').next().unwrap_or_default().trim() {
            "application/x-protobuf" => Encoding::Proto,
            "application/json" => Encoding::Json,
            _ => {
                return response(
                    415,
                    "text/plain",
                    "415 unsupported media type, supported: [application/json, application/x-protobuf]",
                );
            }
        };
        if signal == Signal::Profiles
            && let Err(message) = check_profiles_version(req.headers())
        {
            return error(encoding, 400, 3, message.into(), None);
        }
        let client = Arc::new(ClientInfo::from_headers(
            Some(peer),
            req.headers(),
            self.include_metadata,
        ));
        let content_encoding = header(&req, http::header::CONTENT_ENCODING);
        // The wire body may not exceed the limit either; compressed data
        // larger than its own expansion limit is not worth reading.
        let raw = match Limited::new(req.into_body(), self.max_body).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return error(
                    encoding,
                    400,
                    3,
                    "http: request body too large".into(),
                    None,
                );
            }
            Err(e) => {
                return error(
                    encoding,
                    400,
                    3,
                    format!("failed to read request body: {e}"),
                    None,
                );
            }
        };
        let body = match decompress(&content_encoding, raw, self.max_body) {
            Ok(b) => b,
            Err(BodyError::TooLarge) => {
                return error(
                    encoding,
                    400,
                    3,
                    "http: request body too large".into(),
                    None,
                );
            }
            Err(BodyError::UnsupportedEncoding(e)) => {
                return error(
                    encoding,
                    400,
                    3,
                    format!("unsupported Content-Encoding: {e}"),
                    None,
                );
            }
            Err(BodyError::Corrupt(e)) => {
                return error(
                    encoding,
                    400,
                    3,
                    format!("failed to decompress request body: {e}"),
                    None,
                );
            }
        };
        // Protobuf is validated and counted, then passed on as received.
        let data = match encoding {
            Encoding::Proto => scan(signal, &body)
                .map(|items| Payload::encoded(signal, body, items))
                .map_err(|e| e.to_string()),
            Encoding::Json => decode_json(signal, &body)
                .map(Payload::from)
                .map_err(|e| e.to_string()),
        };
        let data = match data {
            Ok(d) => d,
            Err(e) => {
                return error(
                    encoding,
                    400,
                    3,
                    format!("failed to unmarshal request body: {e}"),
                    None,
                );
            }
        };
        // Go answers a profiles request without samples without passing it on.
        if signal == Signal::Profiles && data.item_count() == 0 {
            return success(encoding);
        }
        match sink.push(data, client).await {
            Ok(()) => success(encoding),
            Err(ConsumeError::Retryable {
                message,
                retry_after,
            }) => error(
                encoding,
                503,
                14,
                message,
                Some(retry_after.map_or(1, |d| d.as_secs().max(1))),
            ),
            Err(ConsumeError::ResourceExhausted(message)) => {
                error(encoding, 429, 8, message, Some(1))
            }
            Err(ConsumeError::Permanent(message)) => error(encoding, 500, 13, message, None),
        }
    }
}

fn header(req: &Request<Incoming>, name: http::header::HeaderName) -> String {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// An `Export*ServiceResponse` with an empty `partial_success`, byte for
/// byte what the Go receiver answers.
fn success(encoding: Encoding) -> Response<Body> {
    let body = match encoding {
        Encoding::Proto => Bytes::from_static(&[0x0a, 0x00]),
        Encoding::Json => Bytes::from_static(b"{\"partialSuccess\":{}}"),
    };
    response(200, encoding.content_type(), body)
}

fn error(
    encoding: Encoding,
    http_status: u16,
    grpc_code: i32,
    message: String,
    retry_after: Option<u64>,
) -> Response<Body> {
    let body = match encoding {
        Encoding::Proto => RpcStatus {
            code: grpc_code,
            message,
        }
        .encode_to_vec(),
        Encoding::Json => serde_json::json!({ "code": grpc_code, "message": message })
            .to_string()
            .into_bytes(),
    };
    let mut resp = response(http_status, encoding.content_type(), body);
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
    }
    resp
}
