//! One HTTP/1 `GET` to a metadata service (the GCE metadata server, Azure
//! IMDS): the status, the headers and the body, within a time limit, on
//! the same hyper client as `ec2.rs`. Errors say whether the connection
//! could not be made, which the GCE client retries.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// A service's answer.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: String,
}

/// Why there is no answer.
#[derive(Debug)]
pub(crate) struct GetError {
    /// The connection could not be made (refused, reset, unreachable).
    pub(crate) connect: bool,
    pub(crate) message: String,
}

impl std::fmt::Display for GetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// `GET url` with `headers`, answered within `timeout`.
pub(crate) async fn get(
    url: &str,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> Result<Answer, GetError> {
    let fail = |connect, message: String| GetError {
        connect,
        message: format!("Get {url:?}: {message}"),
    };
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut req = http::Request::builder().method(http::Method::GET).uri(url);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let req = req
        .body(Empty::new())
        .map_err(|e| fail(false, e.to_string()))?;
    let exchange = async {
        let response = client
            .request(req)
            .await
            .map_err(|e| fail(e.is_connect(), e.to_string()))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| fail(false, e.to_string()))?
            .to_bytes();
        Ok(Answer {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| fail(false, "context deadline exceeded".into()))?
}
