//! Go's `fmt.Sprintf` as OTTL's `Format` converter uses it, for the verbs
//! that make sense on OTTL values (`%v %s %d %f %e %g %t %x %X %q %%` with
//! the `+ - 0 space` flags, a width and a precision), and Go's renderings
//! of floats, times and durations that `%v` needs.
//!
//! The format string is parsed once, when the statement is compiled; an
//! unsupported verb or an argument index (`%[1]d`, `*`) is a compile error
//! rather than output that differs from Go's. Operands of the wrong type
//! render as Go renders them (`%!d(string=abc)`), as do missing and extra
//! operands. Maps and lists, which Go prints as pointer addresses, are
//! rendered as JSON.

use super::value::Value;
use std::fmt::Write;

/// A compiled format string.
#[derive(Debug)]
pub(super) struct GoFormat {
    pieces: Vec<Piece>,
}

#[derive(Debug)]
enum Piece {
    Text(String),
    Verb(Spec),
}

#[derive(Debug, Default, Clone, Copy)]
struct Spec {
    verb: char,
    plus: bool,
    minus: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

impl GoFormat {
    pub(super) fn parse(format: &str) -> Result<GoFormat, String> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = format.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                text.push(c);
                continue;
            }
            let mut spec = Spec::default();
            while let Some(&f) = chars.peek() {
                match f {
                    '+' => spec.plus = true,
                    '-' => spec.minus = true,
                    '0' => spec.zero = true,
                    ' ' => spec.space = true,
                    _ => break,
                }
                chars.next();
            }
            spec.width = digits(&mut chars);
            if chars.peek() == Some(&'.') {
                chars.next();
                spec.precision = Some(digits(&mut chars).unwrap_or(0));
            }
            let verb = chars
                .next()
                .ok_or("Format: the format string ends with an incomplete verb")?;
            match verb {
                '%' => text.push('%'),
                'v' | 's' | 'd' | 'f' | 'F' | 'e' | 'E' | 'g' | 'G' | 't' | 'x' | 'X' | 'q' => {
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    spec.verb = verb;
                    pieces.push(Piece::Verb(spec));
                }
                other => {
                    return Err(format!(
                        "Format: the verb %{other} is not supported by ferrotel (supported: %v %s %d %f %e %g %t %x %X %q %%; no argument indexes or * widths)"
                    ));
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(GoFormat { pieces })
    }

    /// Formats `args` as `fmt.Sprintf` would.
    pub(super) fn render(&self, args: &[Value<'_>]) -> String {
        let mut out = String::new();
        let mut next = 0;
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Verb(spec) => {
                    match args.get(next) {
                        Some(arg) => spec.write(arg, &mut out),
                        None => {
                            let _ = write!(out, "%!{}(MISSING)", spec.verb);
                        }
                    }
                    next += 1;
                }
            }
        }
        if next < args.len() {
            out.push_str("%!(EXTRA ");
            for (i, arg) in args[next..].iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_typed(arg, &mut out);
            }
            out.push(')');
        }
        out
    }
}

fn digits(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d as usize));
        chars.next();
    }
    n
}

impl Spec {
    fn write(&self, arg: &Value<'_>, out: &mut String) {
        let body = match (self.verb, arg) {
            ('v', Value::Nil) => "<nil>".to_string(),
            ('v' | 'd', Value::Int(i)) => self.signed(i.unsigned_abs().to_string(), *i < 0),
            ('v' | 'd', Value::Duration(d)) if self.verb == 'd' => {
                self.signed(d.unsigned_abs().to_string(), *d < 0)
            }
            ('v', Value::Float(f)) => self.float(*f, 'g', None),
            ('f' | 'F' | 'e' | 'E' | 'g' | 'G', Value::Float(f)) => {
                self.float(*f, self.verb, self.precision)
            }
            ('v' | 't', Value::Bool(b)) => b.to_string(),
            ('v' | 's', Value::Str(s)) => self.truncated(s),
            ('s', Value::Bytes(b)) => self.truncated(&String::from_utf8_lossy(b)),
            ('v' | 's', Value::Time(t)) => go_time_string(*t),
            ('v' | 's', Value::Duration(d)) => go_duration_string(*d),
            ('v', Value::Bytes(b)) => go_byte_list(b),
            ('v' | 's', Value::Map(_) | Value::List(_)) => {
                super::functions::string_like(arg).unwrap_or_default()
            }
            ('x' | 'X', Value::Int(i)) => {
                let hex = format!("{:x}", i.unsigned_abs());
                self.signed(self.cased(hex), *i < 0)
            }
            ('x' | 'X', Value::Str(s)) => self.cased(ferrotel_core::hex::encode(s.as_bytes())),
            ('x' | 'X', Value::Bytes(b)) => self.cased(ferrotel_core::hex::encode(b)),
            ('q', Value::Str(s)) => go_quote(s),
            _ => {
                out.push_str("%!");
                out.push(self.verb);
                out.push('(');
                write_typed(arg, out);
                out.push(')');
                return;
            }
        };
        self.pad(body, arg, out);
    }

    /// A number's digits with its sign, as the `+` and space flags ask.
    fn signed(&self, digits: String, negative: bool) -> String {
        let digits = match self.precision {
            Some(p) if self.verb == 'd' && digits.len() < p => {
                format!("{}{digits}", "0".repeat(p - digits.len()))
            }
            _ => digits,
        };
        let sign = if negative {
            "-"
        } else if self.plus {
            "+"
        } else if self.space {
            " "
        } else {
            ""
        };
        format!("{sign}{digits}")
    }

    fn cased(&self, hex: String) -> String {
        if self.verb == 'X' {
            hex.to_uppercase()
        } else {
            hex
        }
    }

    fn truncated(&self, s: &str) -> String {
        match self.precision {
            Some(p) => s.chars().take(p).collect(),
            None => s.to_string(),
        }
    }

    fn float(&self, f: f64, verb: char, precision: Option<usize>) -> String {
        let body = if f.is_nan() {
            "NaN".to_string()
        } else if f.is_infinite() {
            "Inf".to_string()
        } else {
            go_float(f.abs(), verb, precision)
        };
        let negative = f.is_sign_negative() && !f.is_nan();
        // Go always signs infinities.
        if f.is_infinite() && !negative {
            return format!("+{body}");
        }
        self.signed(body, negative)
    }

    /// Pads to the width: spaces on the left, on the right with `-`, or
    /// zeros after the sign with `0` (Go zero-pads strings too, but never
    /// NaN or infinities).
    fn pad(&self, body: String, arg: &Value<'_>, out: &mut String) {
        let len = body.chars().count();
        let Some(width) = self.width.filter(|w| *w > len) else {
            out.push_str(&body);
            return;
        };
        let fill = width - len;
        let numeric_special = matches!(arg, Value::Float(f) if !f.is_finite());
        if self.minus {
            out.push_str(&body);
            out.extend(std::iter::repeat_n(' ', fill));
        } else if self.zero && !numeric_special {
            let sign_len = usize::from(body.starts_with(['-', '+', ' ']) && is_number(arg));
            out.push_str(&body[..sign_len]);
            out.extend(std::iter::repeat_n('0', fill));
            out.push_str(&body[sign_len..]);
        } else {
            out.extend(std::iter::repeat_n(' ', fill));
            out.push_str(&body);
        }
    }
}

fn is_number(v: &Value<'_>) -> bool {
    matches!(v, Value::Int(_) | Value::Float(_) | Value::Duration(_))
}

/// `type=value` as Go writes a bad or extra operand.
fn write_typed(arg: &Value<'_>, out: &mut String) {
    let type_name = match arg {
        Value::Nil => {
            out.push_str("<nil>");
            return;
        }
        Value::Bool(_) => "bool",
        Value::Int(_) => "int64",
        Value::Float(_) => "float64",
        Value::Str(_) => "string",
        Value::Bytes(_) => "[]uint8",
        Value::Map(_) => "pcommon.Map",
        Value::List(_) => "pcommon.Slice",
        Value::Time(_) => "time.Time",
        Value::Duration(_) => "time.Duration",
    };
    out.push_str(type_name);
    out.push('=');
    Spec {
        verb: 'v',
        ..Spec::default()
    }
    .write(arg, out);
}

fn go_byte_list(bytes: &[u8]) -> String {
    let items: Vec<String> = bytes.iter().map(u8::to_string).collect();
    format!("[{}]", items.join(" "))
}

/// Go's `strconv.Quote` for the characters logs carry.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A non-negative finite float as Go's `%f`, `%e` or `%g` prints it; no
/// precision means the shortest digits that read back the same.
pub fn go_float(f: f64, verb: char, precision: Option<usize>) -> String {
    match verb {
        'f' | 'F' => format!("{f:.*}", precision.unwrap_or(6)),
        'e' | 'E' => {
            let s = format!("{f:.*e}", precision.unwrap_or(6));
            let s = go_exponent(&s);
            if verb == 'E' { s.to_uppercase() } else { s }
        }
        _ => {
            // Significant digits and the decimal exponent, shortest or
            // rounded to the precision, with trailing zeros dropped.
            let sci = match precision {
                None => format!("{f:e}"),
                Some(p) => format!("{f:.*e}", p.max(1) - 1),
            };
            let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
            let exp: i32 = exp.parse().unwrap_or(0);
            let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
            let digits = match digits.trim_end_matches('0') {
                "" => "0",
                d => d,
            };
            let nd = digits.len() as i32;
            let eprec = match precision {
                None => 6,
                Some(p) => {
                    let p = p.max(1) as i32;
                    if p > nd && nd > exp { nd } else { p }
                }
            };
            let s = if exp < -4 || exp >= eprec {
                let (first, rest) = digits.split_at(1);
                let dot = if rest.is_empty() { "" } else { "." };
                format!(
                    "{first}{dot}{rest}e{}{:02}",
                    if exp < 0 { '-' } else { '+' },
                    exp.abs()
                )
            } else if exp < 0 {
                format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
            } else if nd > exp + 1 {
                let (int, frac) = digits.split_at(exp as usize + 1);
                format!("{int}.{frac}")
            } else {
                format!("{digits}{}", "0".repeat((exp + 1 - nd) as usize))
            };
            if verb == 'G' { s.to_uppercase() } else { s }
        }
    }
}

/// Rust's `1.5e-7` exponent as Go's `1.5e-07`.
fn go_exponent(s: &str) -> String {
    let Some((mantissa, exp)) = s.split_once('e') else {
        return s.to_string();
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    format!(
        "{mantissa}e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.abs()
    )
}

/// Go's `time.Time.String` of a UTC time.
pub(super) fn go_time_string(nanos: i64) -> String {
    let t = chrono::DateTime::from_timestamp_nanos(nanos);
    let mut out = t.format("%Y-%m-%d %H:%M:%S").to_string();
    let frac = t.timestamp_subsec_nanos();
    if frac > 0 {
        let digits = format!("{frac:09}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push_str(" +0000 UTC");
    out
}

/// Go's `time.Duration.String`, negative durations included.
pub(super) fn go_duration_string(nanos: i64) -> String {
    let s = ferrotel_core::config::format_go_duration(std::time::Duration::from_nanos(
        nanos.unsigned_abs(),
    ));
    if nanos < 0 { format!("-{s}") } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn sprintf(format: &str, args: &[Value<'_>]) -> String {
        GoFormat::parse(format).unwrap().render(args)
    }

    fn s(v: &str) -> Value<'static> {
        Value::Str(Cow::Owned(v.to_string()))
    }

    #[test]
    fn renders_as_go_sprintf() {
        // Expected strings are what Go's fmt.Sprintf printed for the same
        // operands (int64, float64, string, time.Time in UTC,
        // time.Duration, []byte), checked with `go run`.
        let cases: &[(&str, Vec<Value<'_>>, &str)] = &[
            ("%s-%s", vec![s("a"), s("b")], "a-b"),
            (
                "%v|%v|%v|%v",
                vec![Value::Int(-3), Value::Bool(true), Value::Nil, s("x")],
                "-3|true|<nil>|x",
            ),
            ("%d", vec![Value::Int(42)], "42"),
            (
                "%05d|%-4d|%+d|% d",
                vec![Value::Int(-42), Value::Int(7), Value::Int(7), Value::Int(7)],
                "-0042|7   |+7| 7",
            ),
            ("%.3d", vec![Value::Int(7)], "007"),
            (
                "%6.2f|%f|%.0f",
                vec![Value::Float(3.14259), Value::Float(2.5), Value::Float(2.5)],
                "  3.14|2.500000|2",
            ),
            (
                "%e|%.2E",
                vec![Value::Float(1234.5678), Value::Float(0.000123)],
                "1.234568e+03|1.23E-04",
            ),
            (
                "%v|%v|%v|%v",
                vec![
                    Value::Float(1e6),
                    Value::Float(123456.0),
                    Value::Float(0.0001),
                    Value::Float(0.00001),
                ],
                "1e+06|123456|0.0001|1e-05",
            ),
            (
                "%v|%v|%v",
                vec![
                    Value::Float(1.5),
                    Value::Float(-2.0),
                    Value::Float(123456789.0),
                ],
                "1.5|-2|1.23456789e+08",
            ),
            (
                "%g|%.3g|%.3g",
                vec![
                    Value::Float(100.0),
                    Value::Float(3.14259),
                    Value::Float(1234.0),
                ],
                "100|3.14|1.23e+03",
            ),
            (
                "%v|%f",
                vec![Value::Float(f64::INFINITY), Value::Float(f64::NEG_INFINITY)],
                "+Inf|-Inf",
            ),
            (
                "%x|%X|%x",
                vec![Value::Int(255), s("hi"), Value::Int(-255)],
                "ff|6869|-ff",
            ),
            ("%q", vec![s("a\"b\n")], "\"a\\\"b\\n\""),
            (
                "%8s|%-8s|%.2s|%05s",
                vec![s("abc"), s("abc"), s("abc"), s("ab")],
                "     abc|abc     |ab|000ab",
            ),
            ("100%%", vec![], "100%"),
            ("%d", vec![s("abc")], "%!d(string=abc)"),
            ("%s", vec![Value::Int(5)], "%!s(int64=5)"),
            ("%d", vec![Value::Nil], "%!d(<nil>)"),
            ("%t", vec![Value::Float(1.5)], "%!t(float64=1.5)"),
            ("%s %s", vec![s("a")], "a %!s(MISSING)"),
            (
                "%s",
                vec![s("a"), Value::Int(1), s("b")],
                "a%!(EXTRA int64=1, string=b)",
            ),
            (
                "%v",
                vec![Value::Time(1_700_000_000_123_000_000)],
                "2023-11-14 22:13:20.123 +0000 UTC",
            ),
            (
                "%v|%d",
                vec![Value::Duration(90_500_000_000), Value::Duration(1_500)],
                "1m30.5s|1500",
            ),
            (
                "%v",
                vec![Value::Bytes(Cow::Borrowed(&[1, 2, 255]))],
                "[1 2 255]",
            ),
            (
                "%v|%v|%v",
                vec![Value::Float(0.0), Value::Float(-0.0), Value::Float(1e21)],
                "0|-0|1e+21",
            ),
            (
                "%08.3f|%+.1e|%10v",
                vec![
                    Value::Float(-3.14259),
                    Value::Float(12345.0),
                    Value::Float(2.5),
                ],
                "-003.143|+1.2e+04|       2.5",
            ),
        ];
        for (format, args, want) in cases {
            assert_eq!(&sprintf(format, args), want, "{format}");
        }
    }

    #[test]
    fn unsupported_verbs_are_compile_errors() {
        for bad in ["%[1]d", "%*d", "%c", "%b", "abc %"] {
            let err = GoFormat::parse(bad).unwrap_err();
            assert!(err.starts_with("Format: "), "{bad}: {err}");
        }
    }
}
