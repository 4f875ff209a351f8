//! `service::telemetry::metrics::level`, which components read to decide
//! which self-metrics to keep (Go's `configtelemetry.Level`, decoded as its
//! `UnmarshalText` does: any case, Go's error text).

use serde::{Deserialize, Deserializer};

/// How much the collector reports about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum MetricsLevel {
    /// No self-metrics and no endpoint.
    None,
    /// Essential metrics.
    Basic,
    /// The default.
    #[default]
    Normal,
    /// Everything.
    Detailed,
}

impl MetricsLevel {
    /// The level Go's `UnmarshalText` takes `name` for.
    pub fn parse(name: &str) -> Result<MetricsLevel, String> {
        let lower = name.to_ascii_lowercase();
        Ok(match lower.as_str() {
            "none" => MetricsLevel::None,
            "basic" => MetricsLevel::Basic,
            "normal" => MetricsLevel::Normal,
            "detailed" => MetricsLevel::Detailed,
            _ => return Err(format!("unknown metrics level {lower:?}")),
        })
    }
}

impl<'de> Deserialize<'de> for MetricsLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<MetricsLevel, D::Error> {
        // `null` is Go's zero level, `basic`: mapstructure sets a key
        // given no value to its type's zero value.
        let name: Option<String> = Option::deserialize(d)?;
        name.map_or(Ok(MetricsLevel::Basic), |n| {
            MetricsLevel::parse(&n).map_err(serde::de::Error::custom)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::MetricsLevel;

    #[test]
    fn levels_decode_in_any_case_and_refuse_others_in_go_s_words() {
        let decode = |yaml: &str| serde_yaml_ng::from_str::<MetricsLevel>(yaml);
        assert_eq!(decode("Detailed").unwrap(), MetricsLevel::Detailed);
        assert_eq!(decode("none").unwrap(), MetricsLevel::None);
        assert_eq!(decode("null").unwrap(), MetricsLevel::Basic);
        let err = decode("Loud").unwrap_err().to_string();
        assert!(err.starts_with("unknown metrics level \"loud\""), "{err}");
    }
}
