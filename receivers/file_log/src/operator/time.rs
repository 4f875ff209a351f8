//! The `timestamp` and `severity` blocks parsers embed.

use crate::entry::{Entry, Field, Value};
use chrono::{DateTime, NaiveDateTime, TimeZone};
use serde::Deserialize;

/// `timestamp:` as configured.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct TimestampConfig {
    #[serde(default = "default_time_field")]
    parse_from: String,
    #[serde(default)]
    layout_type: Option<String>,
    #[serde(default)]
    layout: Option<String>,
    #[serde(default)]
    location: Option<String>,
}

fn default_time_field() -> String {
    "attributes.time".into()
}

#[derive(Debug, Clone)]
enum Layout {
    /// A chrono format, and whether it carries its own offset.
    Format(String, bool),
    Epoch(EpochUnit),
}

#[derive(Debug, Clone, Copy)]
enum EpochUnit {
    S,
    Ms,
    Us,
    Ns,
    /// Seconds with a fraction (`s.ms`, `s.us`, `s.ns`).
    Fraction,
}

/// A compiled `timestamp` block.
#[derive(Debug, Clone)]
pub(crate) struct TimeParser {
    from: Field,
    layout: Layout,
}

/// Turns a strptime layout (stanza's directives) into chrono's.
fn strptime_to_chrono(layout: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = layout.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let d = chars.next().ok_or("layout ends with %")?;
        out.push_str(match d {
            'Y' => "%Y",
            'y' => "%y",
            'm' => "%m",
            'q' | 'o' => "%-m",
            'b' | 'h' => "%b",
            'B' => "%B",
            'd' => "%d",
            'g' | 'e' => "%e",
            'a' => "%a",
            'A' => "%A",
            'H' => "%H",
            'l' | 'I' => "%I",
            'p' => "%p",
            'M' => "%M",
            'S' => "%S",
            'L' => "%3f",
            'f' => "%6f",
            's' => "%9f",
            'z' => "%z",
            'Z' => "%Z",
            'j' => "%j",
            'D' => "%m/%d/%y",
            'F' => "%Y-%m-%d",
            'T' => "%H:%M:%S",
            'c' => "%a %b %e %H:%M:%S %Y",
            '%' => "%%",
            other => return Err(format!("unsupported strptime directive %{other}")),
        });
    }
    Ok(out)
}

/// Turns a Go reference layout into chrono's.
fn gotime_to_chrono(layout: &str) -> String {
    const TOKENS: [(&str, &str); 24] = [
        ("2006", "%Y"),
        (".000000000", "%.9f"),
        (".999999999", "%.f"),
        (".000000", "%.6f"),
        (".999999", "%.f"),
        (".000", "%.3f"),
        (".999", "%.f"),
        ("Z07:00", "%:z"),
        ("-07:00", "%:z"),
        ("Z0700", "%z"),
        ("-0700", "%z"),
        ("January", "%B"),
        ("Jan", "%b"),
        ("Monday", "%A"),
        ("Mon", "%a"),
        ("MST", "%Z"),
        ("01", "%m"),
        ("02", "%d"),
        ("_2", "%e"),
        ("15", "%H"),
        ("03", "%I"),
        ("04", "%M"),
        ("05", "%S"),
        ("PM", "%p"),
    ];
    let mut out = String::new();
    let mut rest = layout;
    'outer: while !rest.is_empty() {
        for (go, ch) in TOKENS {
            if let Some(r) = rest.strip_prefix(go) {
                out.push_str(ch);
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        if c == '%' {
            out.push_str("%%");
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

impl TimeParser {
    pub(crate) fn build(c: &TimestampConfig) -> Result<TimeParser, String> {
        if let Some(loc) = &c.location
            && !matches!(loc.as_str(), "UTC" | "Etc/UTC" | "Local")
        {
            return Err(format!(
                "timestamp: location {loc:?} is not supported (only UTC); times without an offset are read as UTC"
            ));
        }
        let layout_type = c.layout_type.as_deref().unwrap_or("strptime");
        let layout = c.layout.clone().unwrap_or_default();
        let layout = match layout_type {
            "strptime" | "gotime" => {
                if layout.is_empty() {
                    return Err(
                        "timestamp: missing required configuration parameter `layout`".into(),
                    );
                }
                let format = if layout_type == "strptime" {
                    strptime_to_chrono(&layout)?
                } else {
                    gotime_to_chrono(&layout)
                };
                let zoned = format.contains("%z") || format.contains("%:z");
                Layout::Format(format, zoned)
            }
            "epoch" => Layout::Epoch(match layout.as_str() {
                "s" => EpochUnit::S,
                "ms" => EpochUnit::Ms,
                "us" => EpochUnit::Us,
                "ns" => EpochUnit::Ns,
                "s.ms" | "s.us" | "s.ns" => EpochUnit::Fraction,
                other => return Err(format!("timestamp: invalid epoch layout {other:?}")),
            }),
            other => return Err(format!("timestamp: unsupported layout_type {other:?}")),
        };
        Ok(TimeParser {
            from: Field::parse(&c.parse_from)?,
            layout,
        })
    }

    /// Sets the entry's timestamp from its field.
    pub(crate) fn apply(&self, e: &mut Entry) -> Result<(), String> {
        let value = self
            .from
            .get(e)
            .ok_or_else(|| format!("timestamp: {} is missing", self.from))?;
        let nanos = match &self.layout {
            Layout::Epoch(unit) if let Value::Int(n) = value => {
                let scale: i64 = match unit {
                    EpochUnit::S | EpochUnit::Fraction => 1_000_000_000,
                    EpochUnit::Ms => 1_000_000,
                    EpochUnit::Us => 1_000,
                    EpochUnit::Ns => 1,
                };
                n.saturating_mul(scale)
            }
            Layout::Epoch(unit) => {
                let n: f64 = match value {
                    Value::Int(i) => *i as f64,
                    Value::Double(d) => *d,
                    other => other
                        .to_text()
                        .and_then(|t| t.trim().parse().ok())
                        .ok_or("timestamp: not a number")?,
                };
                match unit {
                    EpochUnit::S | EpochUnit::Fraction => (n * 1e9) as i64,
                    EpochUnit::Ms => (n * 1e6) as i64,
                    EpochUnit::Us => (n * 1e3) as i64,
                    EpochUnit::Ns => n as i64,
                }
            }
            Layout::Format(format, zoned) => {
                let text = value.to_text().ok_or("timestamp: not text")?;
                let parsed = if *zoned {
                    DateTime::parse_from_str(&text, format).map(|t| t.timestamp_nanos_opt())
                } else {
                    NaiveDateTime::parse_from_str(&text, format)
                        .map(|t| chrono::Utc.from_utc_datetime(&t).timestamp_nanos_opt())
                };
                parsed
                    .map_err(|err| format!("timestamp: parse {text:?} with {format:?}: {err}"))?
                    .ok_or("timestamp: out of range")?
            }
        };
        e.timestamp = nanos.max(0) as u64;
        Ok(())
    }
}

/// `severity:` as configured.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SeverityConfig {
    #[serde(default = "default_severity_field")]
    parse_from: String,
    #[serde(default)]
    preset: Option<String>,
    #[serde(default)]
    mapping: std::collections::BTreeMap<String, serde_yaml_ng::Value>,
    #[serde(default)]
    overwrite_text: bool,
}

fn default_severity_field() -> String {
    "attributes.severity".into()
}

/// A compiled `severity` block: lower-cased text to OTLP severity number.
#[derive(Debug, Clone)]
pub(crate) struct SeverityParser {
    from: Field,
    map: Vec<(String, i32)>,
    overwrite_text: bool,
}

const LEVELS: [(&str, i32); 24] = [
    ("trace", 1),
    ("trace2", 2),
    ("trace3", 3),
    ("trace4", 4),
    ("debug", 5),
    ("debug2", 6),
    ("debug3", 7),
    ("debug4", 8),
    ("info", 9),
    ("info2", 10),
    ("info3", 11),
    ("info4", 12),
    ("warn", 13),
    ("warn2", 14),
    ("warn3", 15),
    ("warn4", 16),
    ("error", 17),
    ("error2", 18),
    ("error3", 19),
    ("error4", 20),
    ("fatal", 21),
    ("fatal2", 22),
    ("fatal3", 23),
    ("fatal4", 24),
];

fn level_name(n: i32) -> &'static str {
    match n {
        1..=4 => "TRACE",
        5..=8 => "DEBUG",
        9..=12 => "INFO",
        13..=16 => "WARN",
        17..=20 => "ERROR",
        21..=24 => "FATAL",
        _ => "",
    }
}

impl SeverityParser {
    pub(crate) fn build(c: &SeverityConfig) -> Result<SeverityParser, String> {
        let mut map: Vec<(String, i32)> = Vec::new();
        match c.preset.as_deref().unwrap_or("default") {
            "default" => {
                map.extend(LEVELS.iter().map(|(k, v)| ((*k).to_owned(), *v)));
                map.extend(
                    [
                        ("warning", 13),
                        ("err", 17),
                        ("critical", 21),
                        ("crit", 21),
                        ("panic", 21),
                        ("emerg", 21),
                    ]
                    .map(|(k, v)| (k.to_owned(), v)),
                );
            }
            "none" => {}
            other => return Err(format!("severity: unknown preset {other:?}")),
        }
        for (level, values) in &c.mapping {
            let number = LEVELS
                .iter()
                .find(|(k, _)| k == &level.to_ascii_lowercase())
                .map(|(_, v)| *v)
                .ok_or_else(|| format!("severity: unknown level {level:?} in mapping"))?;
            let values = match values {
                serde_yaml_ng::Value::Sequence(items) => items.clone(),
                one => vec![one.clone()],
            };
            for v in values {
                if let serde_yaml_ng::Value::Mapping(range) = &v {
                    let bound = |k: &str| range.get(k).and_then(serde_yaml_ng::Value::as_i64);
                    let (Some(min), Some(max)) = (bound("min"), bound("max")) else {
                        return Err("severity: a range needs min and max".into());
                    };
                    for n in min..=max.min(min + 1000) {
                        map.insert(0, (n.to_string(), number));
                    }
                } else if let Some(text) = crate::encode::scalar_text(&v) {
                    map.insert(0, (text.to_ascii_lowercase(), number));
                }
            }
        }
        Ok(SeverityParser {
            from: Field::parse(&c.parse_from)?,
            map,
            overwrite_text: c.overwrite_text,
        })
    }

    pub(crate) fn apply(&self, e: &mut Entry) -> Result<(), String> {
        let value = self
            .from
            .get(e)
            .ok_or_else(|| format!("severity: {} is missing", self.from))?;
        let text = value.to_text().ok_or("severity: not text")?.into_owned();
        let key = text.to_ascii_lowercase();
        let number = self
            .map
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, n)| *n)
            .unwrap_or(0);
        e.severity = number;
        e.severity_text = if self.overwrite_text && number != 0 {
            level_name(number).to_owned()
        } else {
            text
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml<T: serde::de::DeserializeOwned>(s: &str) -> T {
        serde_yaml_ng::from_str(s).unwrap()
    }

    fn with_attr(k: &str, v: Value) -> Entry {
        Entry {
            attributes: vec![(k.into(), v)],
            ..Entry::default()
        }
    }

    #[test]
    fn strptime_gotime_and_epoch() {
        let p = TimeParser::build(&yaml("layout: '%Y-%m-%d %H:%M:%S.%L'")).unwrap();
        let mut e = with_attr("time", Value::Str("2024-01-02 03:04:05.678".into()));
        p.apply(&mut e).unwrap();
        assert_eq!(e.timestamp, 1_704_164_645_678_000_000);
        let p = TimeParser::build(&yaml(
            "{layout_type: gotime, layout: '2006-01-02T15:04:05.999999999Z07:00'}",
        ))
        .unwrap();
        let mut e = with_attr("time", Value::Str("2024-01-02T03:04:05.5+01:00".into()));
        p.apply(&mut e).unwrap();
        assert_eq!(e.timestamp, 1_704_161_045_500_000_000);
        let p =
            TimeParser::build(&yaml("{layout_type: epoch, layout: ms, parse_from: body}")).unwrap();
        let mut e = Entry {
            body: Value::Int(1_700_000_000_123),
            ..Entry::default()
        };
        p.apply(&mut e).unwrap();
        assert_eq!(e.timestamp, 1_700_000_000_123_000_000);
        assert!(TimeParser::build(&yaml("layout: '%Q'")).is_err());
        assert!(TimeParser::build(&yaml("{layout: '%Y', location: Asia/Tokyo}")).is_err());
    }

    #[test]
    fn severity_default_and_mapping() {
        let p = SeverityParser::build(&yaml("parse_from: attributes.sev")).unwrap();
        let mut e = with_attr("sev", Value::Str("Warning".into()));
        p.apply(&mut e).unwrap();
        assert_eq!((e.severity, e.severity_text.as_str()), (13, "Warning"));
        let p = SeverityParser::build(&yaml(
            "{parse_from: attributes.sev, overwrite_text: true, mapping: {error: [oops, {min: 500, max: 599}]}}",
        ))
        .unwrap();
        let mut e = with_attr("sev", Value::Int(503));
        p.apply(&mut e).unwrap();
        assert_eq!((e.severity, e.severity_text.as_str()), (17, "ERROR"));
    }
}
