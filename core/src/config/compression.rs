//! `compression` of the OTLP exporters and other HTTP and gRPC clients:
//! Go's `configcompression.Type`, whose names are a closed set decoded with
//! Go's error text; which of them a component can send is its own check.

use serde::{Deserialize, Deserializer};
use std::fmt;

/// A body compression, by Go's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// `none` or empty.
    #[default]
    None,
    /// `gzip`.
    Gzip,
    /// `zlib`.
    Zlib,
    /// `deflate`.
    Deflate,
    /// `snappy`.
    Snappy,
    /// `x-snappy-framed`.
    SnappyFramed,
    /// `zstd`.
    Zstd,
    /// `lz4`.
    Lz4,
}

impl Compression {
    const ALL: [Compression; 8] = [
        Compression::None,
        Compression::Gzip,
        Compression::Zlib,
        Compression::Deflate,
        Compression::Snappy,
        Compression::SnappyFramed,
        Compression::Zstd,
        Compression::Lz4,
    ];

    /// Go's name (`none` for no compression).
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zlib => "zlib",
            Compression::Deflate => "deflate",
            Compression::Snappy => "snappy",
            Compression::SnappyFramed => "x-snappy-framed",
            Compression::Zstd => "zstd",
            Compression::Lz4 => "lz4",
        }
    }

    /// The compression Go's `UnmarshalText` takes `name` for.
    pub fn parse(name: &str) -> Result<Compression, String> {
        if name.is_empty() {
            return Ok(Compression::None);
        }
        Compression::ALL
            .into_iter()
            .find(|c| c.as_str() == name)
            .ok_or_else(|| format!("unsupported compression type {name:?}"))
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Compression {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Compression, D::Error> {
        // `null` keeps the default, as Go does for a nil value.
        let name: Option<String> = Option::deserialize(d)?;
        name.map_or(Ok(Compression::None), |n| {
            Compression::parse(&n).map_err(serde::de::Error::custom)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_go_s_and_others_are_refused_in_go_s_words() {
        for c in Compression::ALL {
            assert_eq!(Compression::parse(c.as_str()), Ok(c));
        }
        assert_eq!(Compression::parse(""), Ok(Compression::None));
        assert_eq!(
            Compression::parse("brotli"),
            Err("unsupported compression type \"brotli\"".into())
        );
        let decoded: Compression = serde_yaml_ng::from_str("~").unwrap();
        assert_eq!(decoded, Compression::None);
        let err = serde_yaml_ng::from_str::<Compression>("GZIP").unwrap_err();
        assert!(
            err.to_string()
                .contains("unsupported compression type \"GZIP\""),
            "{err}"
        );
    }
}
