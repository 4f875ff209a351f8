//! The time and duration converters, as pkg/ottl's: `Now`, `Time` (a
//! string read with an strptime format, UTC only), the `Unix*` readings and
//! `Unix` itself, `FormatTime`, `TruncateTime` (from Go's zero time), the
//! calendar parts (`Year` .. `Weekday`, UTC), `Duration` (Go's
//! `ParseDuration`, sign included) and a duration in a unit (`Hours` ..
//! `Nanoseconds`, fractions as Go computes them).

use crate::context::Item;
use crate::go_values::{duration_arg, time_arg, truncate_time};
use crate::registry::{Converter, Expression, Invocation, Registry};
use crate::value::Value;
use std::borrow::Cow;

#[derive(Clone, Copy)]
enum Part {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Nanosecond,
    Weekday,
}

#[derive(Clone, Copy)]
enum Unit {
    Hours,
    Minutes,
    Seconds,
    Milliseconds,
    Microseconds,
    Nanoseconds,
}

#[derive(Clone, Copy)]
enum Kind {
    Now,
    /// Parses its target with the compiled format.
    Time,
    UnixNano,
    UnixMilli,
    UnixSeconds,
    UnixMicro,
    Unix,
    /// Renders its time with the compiled format.
    FormatTime,
    TruncateTime,
    Part(Part),
    Duration,
    In(Unit),
}

/// Registers the time converters, by Go's names and parameter names.
pub(super) fn register(registry: &mut Registry) {
    let converters: [(&'static str, Kind, &'static [&'static str], usize); 24] = [
        ("Now", Kind::Now, &[], 0),
        (
            "Time",
            Kind::Time,
            &["time", "format", "location", "locale"],
            2,
        ),
        ("UnixNano", Kind::UnixNano, &["time"], 1),
        ("UnixMilli", Kind::UnixMilli, &["time"], 1),
        ("UnixSeconds", Kind::UnixSeconds, &["time"], 1),
        ("UnixMicro", Kind::UnixMicro, &["time"], 1),
        ("Unix", Kind::Unix, &["seconds", "nanoseconds"], 1),
        ("FormatTime", Kind::FormatTime, &["time", "format"], 2),
        ("TruncateTime", Kind::TruncateTime, &["time", "duration"], 2),
        ("Year", Kind::Part(Part::Year), &["time"], 1),
        ("Month", Kind::Part(Part::Month), &["time"], 1),
        ("Day", Kind::Part(Part::Day), &["time"], 1),
        ("Hour", Kind::Part(Part::Hour), &["time"], 1),
        ("Minute", Kind::Part(Part::Minute), &["time"], 1),
        ("Second", Kind::Part(Part::Second), &["time"], 1),
        ("Nanosecond", Kind::Part(Part::Nanosecond), &["time"], 1),
        ("Weekday", Kind::Part(Part::Weekday), &["time"], 1),
        ("Duration", Kind::Duration, &["duration"], 1),
        ("Hours", Kind::In(Unit::Hours), &["duration"], 1),
        ("Minutes", Kind::In(Unit::Minutes), &["duration"], 1),
        ("Seconds", Kind::In(Unit::Seconds), &["duration"], 1),
        (
            "Milliseconds",
            Kind::In(Unit::Milliseconds),
            &["duration"],
            1,
        ),
        (
            "Microseconds",
            Kind::In(Unit::Microseconds),
            &["duration"],
            1,
        ),
        ("Nanoseconds", Kind::In(Unit::Nanoseconds), &["duration"], 1),
    ];
    for (name, kind, params, required) in converters {
        registry.converter(name, move |call| compile(call, kind, params, required));
    }
}

fn compile(
    call: &Invocation<'_>,
    kind: Kind,
    params: &[&str],
    required: usize,
) -> Result<Box<dyn Converter>, String> {
    let args = call.bind(params, required)?;
    // Arguments are checked in order, as the builtin tables check them.
    let first = match kind {
        Kind::Now => None,
        _ => args.expression(0)?,
    };
    let format = match kind {
        Kind::Time | Kind::FormatTime => {
            let f = args
                .str_literal(1, "format")?
                .ok_or("format must be a string literal")?;
            if f.is_empty() {
                return Err("format cannot be nil".into());
            }
            time_format(f)?
        }
        _ => String::new(),
    };
    if let Kind::Time = kind {
        if let Some(location) = args.str_literal(2, "location")?
            && !matches!(location, "UTC" | "Etc/UTC" | "")
        {
            return Err("Time: locations other than UTC are not supported by ferrotel yet".into());
        }
        if args.given(3) {
            return Err("Time: locale is not supported by ferrotel yet".into());
        }
    }
    let operands = match kind {
        Kind::Now => Vec::new(),
        Kind::Unix | Kind::TruncateTime => vec![first, args.expression(1)?],
        _ => vec![first],
    };
    Ok(Box::new(TimeCall {
        kind,
        operands,
        format,
    }))
}

struct TimeCall {
    kind: Kind,
    /// The arguments that are evaluated per item, by position.
    operands: Vec<Option<Expression>>,
    /// chrono's spelling of the `format` literal, for `Time` and
    /// `FormatTime`.
    format: String,
}

impl TimeCall {
    fn arg<'s>(&'s self, i: usize, item: &'s Item<'_>) -> Result<Value<'s>, String> {
        match self.operands.get(i).and_then(Option::as_ref) {
            Some(e) => e.eval(item),
            None => Ok(Value::Nil),
        }
    }
}

impl Converter for TimeCall {
    fn call<'s>(&'s self, item: &'s Item<'_>) -> Result<Value<'s>, String> {
        let arg = |i| self.arg(i, item);
        Ok(match self.kind {
            Kind::Now => Value::Time(now_nanos()),
            Kind::Time => {
                let target = arg(0)?;
                let Some(s) = target.as_str() else {
                    return Err("Time: target is not a string".into());
                };
                Value::Time(parse_time(s, &self.format)?)
            }
            Kind::UnixNano | Kind::UnixMilli | Kind::UnixSeconds => match arg(0)? {
                Value::Time(t) => Value::Int(match self.kind {
                    Kind::UnixNano => t,
                    Kind::UnixMilli => t.div_euclid(1_000_000),
                    _ => t.div_euclid(1_000_000_000),
                }),
                other => return Err(format!("expected a time, got {}", other.type_name())),
            },
            Kind::UnixMicro => Value::Int(time_arg(arg(0)?)?.div_euclid(1_000)),
            Kind::Unix => {
                let Value::Int(s) = arg(0)? else {
                    return Err("Unix: seconds must be an int64".into());
                };
                let ns = match arg(1)? {
                    Value::Nil => 0,
                    Value::Int(n) => n,
                    _ => return Err("Unix: nanoseconds must be an int64".into()),
                };
                Value::Time(s.saturating_mul(1_000_000_000).saturating_add(ns))
            }
            Kind::FormatTime => {
                let t = time_arg(arg(0)?)?;
                Value::Str(Cow::Owned(
                    chrono::DateTime::from_timestamp_nanos(t)
                        .format(&self.format)
                        .to_string(),
                ))
            }
            Kind::TruncateTime => {
                let (t, d) = (time_arg(arg(0)?)?, duration_arg(arg(1)?)?);
                Value::Time(truncate_time(t, d))
            }
            Kind::Part(part) => Value::Int(calendar_part(time_arg(arg(0)?)?, part)),
            Kind::Duration => {
                let d = arg(0)?;
                Value::Duration(parse_duration(
                    d.as_str().ok_or("Duration: expected a string")?,
                )?)
            }
            Kind::In(unit) => in_unit(duration_arg(arg(0)?)?, unit),
        })
    }
}

/// A time read with a chrono format, with or without an offset or a time
/// of day (UTC when they are absent).
fn parse_time(s: &str, format: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_str(s, format)
        .map(|t| t.timestamp_nanos_opt().unwrap_or(0))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(s, format)
                .map(|t| t.and_utc().timestamp_nanos_opt().unwrap_or(0))
        })
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(s, format).map(|d| {
                d.and_hms_opt(0, 0, 0)
                    .map_or(0, |t| t.and_utc().timestamp_nanos_opt().unwrap_or(0))
            })
        })
        .map_err(|e| format!("Time: cannot parse {s:?}: {e}"))
}

fn calendar_part(nanos: i64, part: Part) -> i64 {
    use chrono::{Datelike, Timelike};
    let t = chrono::DateTime::from_timestamp_nanos(nanos);
    i64::from(match part {
        Part::Year => t.year(),
        Part::Month => t.month() as i32,
        Part::Day => t.day() as i32,
        Part::Hour => t.hour() as i32,
        Part::Minute => t.minute() as i32,
        Part::Second => t.second() as i32,
        Part::Nanosecond => t.nanosecond().min(999_999_999) as i32,
        Part::Weekday => t.weekday().num_days_from_sunday() as i32,
    })
}

/// Go's `ParseDuration`, which takes a sign where config durations do not.
fn parse_duration(s: &str) -> Result<i64, String> {
    let (negative, unsigned) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let d = ferrotel_core::config::parse_go_duration(unsigned)
        .map_err(|e| e.replace(&format!("{unsigned:?}"), &format!("{s:?}")))?;
    let nanos = i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
    Ok(if negative { -nanos } else { nanos })
}

fn in_unit(d: i64, unit: Unit) -> Value<'static> {
    // Go splits off whole units before dividing, for precision.
    let float_in = |unit: i64| (d / unit) as f64 + (d % unit) as f64 / unit as f64;
    match unit {
        Unit::Hours => Value::Float(float_in(3_600_000_000_000)),
        Unit::Minutes => Value::Float(float_in(60_000_000_000)),
        Unit::Seconds => Value::Float(float_in(1_000_000_000)),
        Unit::Milliseconds => Value::Int(d / 1_000_000),
        Unit::Microseconds => Value::Int(d / 1_000),
        Unit::Nanoseconds => Value::Int(d),
    }
}

fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// Translates OTTL's strptime directives to chrono's.
fn time_format(format: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let d = chars.next().ok_or("Time: format ends with %")?;
        match d {
            'Y' | 'y' | 'm' | 'd' | 'H' | 'I' | 'M' | 'S' | 'p' | 'b' | 'B' | 'a' | 'A' | 'j'
            | 'z' | '%' => {
                out.push('%');
                out.push(d);
            }
            'h' => out.push_str("%b"),
            'e' => out.push_str("%e"),
            'L' => out.push_str("%3f"),
            'f' => out.push_str("%6f"),
            's' => out.push_str("%9f"),
            'c' => out.push_str("%a %b %e %H:%M:%S %Y"),
            'D' | 'x' => out.push_str("%m/%d/%y"),
            'F' => out.push_str("%Y-%m-%d"),
            'T' | 'X' => out.push_str("%H:%M:%S"),
            other => {
                return Err(format!(
                    "Time: format directive %{other} is not supported by ferrotel yet"
                ));
            }
        }
    }
    Ok(out)
}
