//! Request body decompression with a hard output limit, so that a small
//! compressed body cannot expand into gigabytes (a decompression bomb).
//!
//! The OTLP and Zipkin receivers share it, so both read the same
//! `Content-Encoding` values Go's confighttp reads.

use bytes::Bytes;
use std::io::Read;

/// Why a body could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// Larger than the limit after decompression.
    TooLarge,
    /// An encoding the receiver does not know.
    UnsupportedEncoding(String),
    /// Corrupt compressed data.
    Corrupt(String),
}

/// Decompresses `body` per `Content-Encoding`, failing once the output
/// would exceed `limit` bytes. An uncompressed body is returned as it is,
/// without a copy.
pub fn decompress(encoding: &str, body: Bytes, limit: usize) -> Result<Bytes, BodyError> {
    let corrupt = |e: std::io::Error| BodyError::Corrupt(e.to_string());
    let out = match encoding.trim().to_ascii_lowercase().as_str() {
        "" | "identity" => {
            if body.len() > limit {
                return Err(BodyError::TooLarge);
            }
            return Ok(body);
        }
        "gzip" | "x-gzip" => read_limited(flate2::read::MultiGzDecoder::new(&body[..]), limit)?,
        // Go's confighttp reads both "zlib" and "deflate" as zlib streams.
        "zlib" | "deflate" => read_limited(flate2::read::ZlibDecoder::new(&body[..]), limit)?,
        "zstd" => read_limited(
            zstd::stream::read::Decoder::new(&body[..]).map_err(corrupt)?,
            limit,
        )?,
        "snappy" => {
            let claimed =
                snap::raw::decompress_len(&body).map_err(|e| BodyError::Corrupt(e.to_string()))?;
            if claimed > limit {
                return Err(BodyError::TooLarge);
            }
            snap::raw::Decoder::new()
                .decompress_vec(&body)
                .map_err(|e| BodyError::Corrupt(e.to_string()))?
        }
        "x-snappy-framed" => read_limited(snap::read::FrameDecoder::new(&body[..]), limit)?,
        other => return Err(BodyError::UnsupportedEncoding(other.to_string())),
    };
    Ok(Bytes::from(out))
}

fn read_limited(reader: impl Read, limit: usize) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| BodyError::Corrupt(e.to_string()))?;
    if out.len() > limit {
        return Err(BodyError::TooLarge);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn every_encoding_round_trips() {
        let data = b"hello otlp".repeat(100);
        assert_eq!(
            decompress("gzip", gzip(&data).into(), 1 << 20).unwrap(),
            data
        );
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&data).unwrap();
        let z = z.finish().unwrap();
        assert_eq!(decompress("deflate", z.into(), 1 << 20).unwrap(), data);
        assert_eq!(
            decompress(
                "zstd",
                zstd::encode_all(&data[..], 1).unwrap().into(),
                1 << 20
            )
            .unwrap(),
            data
        );
        let s = snap::raw::Encoder::new().compress_vec(&data).unwrap();
        assert_eq!(decompress("snappy", s.into(), 1 << 20).unwrap(), data);
        assert_eq!(decompress("", data.clone().into(), 1 << 20).unwrap(), data);
    }

    #[test]
    fn bombs_stop_at_the_limit() {
        let bomb = gzip(&vec![0u8; 64 << 20]);
        assert!(bomb.len() < 200_000);
        assert_eq!(
            decompress("gzip", bomb.into(), 20 << 20),
            Err(BodyError::TooLarge)
        );
        let s = snap::raw::Encoder::new()
            .compress_vec(&vec![0u8; 4 << 20])
            .unwrap();
        assert_eq!(
            decompress("snappy", s.into(), 1 << 20),
            Err(BodyError::TooLarge)
        );
        assert!(matches!(
            decompress("br", Bytes::from_static(b"x"), 10),
            Err(BodyError::UnsupportedEncoding(_))
        ));
        assert!(matches!(
            decompress("gzip", Bytes::from_static(b"not gzip"), 10),
            Err(BodyError::Corrupt(_))
        ));
    }
}
