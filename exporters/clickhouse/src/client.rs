//! ClickHouse's HTTP interface: a query in the URL, data (or the query)
//! in the body, credentials in `X-ClickHouse-User`/`X-ClickHouse-Key`,
//! and errors as `Code: N. DB::Exception: ...` with the code also in the
//! `X-ClickHouse-Exception-Code` header.

use bytes::Bytes;
use ferrotel_core::consumer::ConsumeError;
use ferrotel_core::tls::ClientConnector;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use std::io::Write;
use std::sync::OnceLock;

/// Exception codes that another try with the same rows cannot fix.
const PERMANENT: &[u32] = &[
    6,   // CANNOT_PARSE_TEXT
    27,  // CANNOT_PARSE_INPUT_ASSERTION_FAILED
    33,  // CANNOT_READ_ALL_DATA
    38,  // CANNOT_PARSE_DATE
    41,  // CANNOT_PARSE_DATETIME
    62,  // SYNTAX_ERROR
    69,  // ARGUMENT_OUT_OF_BOUND
    70,  // CANNOT_CONVERT_TYPE
    72,  // CANNOT_PARSE_NUMBER
    117, // INCORRECT_DATA
];

/// Exception codes that mean the table is not what ferrotel described:
/// it is described again before the next try.
pub(crate) const SCHEMA_CHANGED: &[u32] = &[
    16, // NO_SUCH_COLUMN_IN_TABLE
    44, // ILLEGAL_COLUMN
    47, // UNKNOWN_IDENTIFIER
    53, // TYPE_MISMATCH
    60, // UNKNOWN_TABLE
    81, // UNKNOWN_DATABASE
];

/// A failed query.
#[derive(Debug)]
pub(crate) struct QueryError {
    /// The ClickHouse exception code, when the server sent one.
    pub(crate) code: Option<u32>,
    pub(crate) message: String,
}

impl QueryError {
    pub(crate) fn into_consume_error(self, what: &str) -> ConsumeError {
        let message = format!("{what}: {}", self.message);
        match self.code {
            Some(code) if PERMANENT.contains(&code) => ConsumeError::Permanent(message),
            _ => ConsumeError::retryable(message),
        }
    }
}

/// A connection pool to one server with its credentials and settings.
pub(crate) struct ClickHouse {
    /// Made when the exporter starts, when the TLS files are read, as Go's
    /// exporter connects in `Start`.
    pub(crate) client: OnceLock<Client<ClientConnector, Full<Bytes>>>,
    /// `scheme://host:port/?settings...&` (ready for `query=`).
    pub(crate) url_prefix: String,
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) compression: Option<&'static str>,
}

/// Percent-encodes a URL query value.
pub(crate) fn url_encode(s: &str, out: &mut String) {
    use std::fmt::Write;
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

fn compress(algorithm: &str, body: &[u8]) -> std::io::Result<Vec<u8>> {
    Ok(match algorithm {
        "lz4" => {
            let mut e = lz4_flex::frame::FrameEncoder::new(Vec::with_capacity(body.len() / 3));
            e.write_all(body)?;
            e.finish().map_err(std::io::Error::other)?
        }
        "zstd" => zstd::bulk::compress(body, 1)?,
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(
                Vec::with_capacity(body.len() / 4),
                flate2::Compression::fast(),
            );
            e.write_all(body)?;
            e.finish()?
        }
        _ => {
            let mut e = flate2::write::ZlibEncoder::new(
                Vec::with_capacity(body.len() / 4),
                flate2::Compression::fast(),
            );
            e.write_all(body)?;
            e.finish()?
        }
    })
}

impl ClickHouse {
    /// Runs `query`, with `data` (compressed as configured) in the body
    /// when given, and returns the response body.
    pub(crate) async fn query(
        &self,
        query: &str,
        data: Option<Vec<u8>>,
    ) -> Result<Bytes, QueryError> {
        let mut url = self.url_prefix.clone();
        let (body, encoding) = match data {
            Some(rows) => {
                url.push_str("query=");
                url_encode(query, &mut url);
                match self.compression {
                    Some(algorithm) => (
                        compress(algorithm, &rows).map_err(|e| QueryError {
                            code: None,
                            message: format!("compressing the rows: {e}"),
                        })?,
                        Some(algorithm),
                    ),
                    None => (rows, None),
                }
            }
            None => (query.as_bytes().to_vec(), None),
        };
        let mut request = http::Request::post(url.as_str()).header(
            http::header::USER_AGENT,
            concat!("ferrotel/", env!("CARGO_PKG_VERSION")),
        );
        if !self.user.is_empty() {
            request = request.header("X-ClickHouse-User", self.user.as_str());
        }
        if !self.password.is_empty() {
            request = request.header("X-ClickHouse-Key", self.password.as_str());
        }
        if let Some(encoding) = encoding {
            request = request.header(http::header::CONTENT_ENCODING, encoding);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| QueryError {
                code: None,
                message: format!("building the request: {e}"),
            })?;
        let client = self.client.get().ok_or_else(|| QueryError {
            code: None,
            message: "exporter is not running".into(),
        })?;
        let response = client.request(request).await.map_err(|e| QueryError {
            code: None,
            message: format!("request to {} failed: {e}", self.server()),
        })?;
        let status = response.status();
        let header_code = response
            .headers()
            .get("X-ClickHouse-Exception-Code")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let body = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .map_err(|e| QueryError {
                code: None,
                message: format!("reading the answer of {}: {e}", self.server()),
            })?;
        if status.is_success() {
            return Ok(body);
        }
        let text = String::from_utf8_lossy(&body[..body.len().min(1024)]);
        let text = text.trim();
        let code = header_code.or_else(|| {
            text.strip_prefix("Code: ")
                .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse().ok())
        });
        Err(QueryError {
            code,
            message: format!("HTTP {}: {text}", status.as_u16()),
        })
    }

    fn server(&self) -> &str {
        self.url_prefix
            .split_once("/?")
            .map_or(self.url_prefix.as_str(), |(server, _)| server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        let mut out = String::new();
        url_encode("INSERT INTO `a b`.t (x) FORMAT RowBinary&x=é", &mut out);
        assert_eq!(
            out,
            "INSERT%20INTO%20%60a%20b%60.t%20%28x%29%20FORMAT%20RowBinary%26x%3D%C3%A9"
        );
    }

    #[test]
    fn errors_are_permanent_only_for_bad_rows() {
        let e = |code| QueryError {
            code,
            message: "m".into(),
        };
        assert!(e(Some(27)).into_consume_error("insert").is_permanent());
        assert!(!e(Some(516)).into_consume_error("insert").is_permanent());
        assert!(!e(Some(60)).into_consume_error("insert").is_permanent());
        assert!(!e(None).into_consume_error("insert").is_permanent());
    }

    #[test]
    fn lz4_bodies_are_frames() {
        let body = b"rows rows rows rows rows".repeat(100);
        let framed = compress("lz4", &body).unwrap();
        let mut back = Vec::new();
        std::io::Read::read_to_end(
            &mut lz4_flex::frame::FrameDecoder::new(&framed[..]),
            &mut back,
        )
        .unwrap();
        assert_eq!(back, body);
    }
}
