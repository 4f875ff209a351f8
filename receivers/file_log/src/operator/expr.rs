//! The expression subset that `if` and `router` routes accept.
//!
//! Stanza uses the expr language; the forms that log configs use are
//! supported: field references (`body`, `body.level`, `attributes.x`,
//! `attributes["log.iostream"]`, `resource["k8s.pod.name"]`), string,
//! number and boolean literals, `==`, `!=`, `<`, `<=`, `>`, `>=`,
//! `matches`, `contains`, `startsWith`, `endsWith`, `and`/`&&`,
//! `or`/`||`, `not`/`!` and parentheses. Anything else is refused when the
//! config loads, naming what was not understood. Regexes after `matches`
//! are compiled then, once.

use crate::entry::{Entry, Field, Value};
use regex::Regex;
use std::cmp::Ordering;

/// A compiled expression.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Field(Field),
    Literal(Value),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Box<Expr>, CompareOp, Box<Expr>),
    Matches(Box<Expr>, Regex),
    Text(Box<Expr>, TextOp, Box<Expr>),
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Num(f64),
    Op(&'static str),
    LParen,
    RParen,
}

fn tokenize(src: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' || c == '\'' || c == '`' {
            let mut s = String::new();
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' && c != '`' && i + 1 < chars.len() {
                    i += 1;
                    s.push(match chars[i] {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                } else {
                    s.push(chars[i]);
                }
                i += 1;
            }
            if i >= chars.len() {
                return Err("unterminated string".into());
            }
            i += 1;
            out.push(Token::Str(s));
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            out.push(Token::Num(
                text.parse().map_err(|_| format!("bad number {text}"))?,
            ));
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            // A field path may hold dots and quoted brackets; `?.` (expr's
            // nil-safe access) reads as `.`, since a missing key is nil here.
            let mut path = String::new();
            while i < chars.len() {
                match chars[i] {
                    '?' if chars.get(i + 1) == Some(&'.') => i += 1,
                    ch if ch.is_alphanumeric() || ch == '_' || ch == '.' || ch == '$' => {
                        path.push(ch);
                        i += 1;
                    }
                    '[' => {
                        let quote = chars.get(i + 1).copied();
                        let close = chars[i..].iter().position(|&ch| ch == ']');
                        match (quote, close) {
                            (Some('"' | '\''), Some(off)) => {
                                path.extend(&chars[i..i + off + 1]);
                                i += off + 1;
                            }
                            _ => return Err("bad [ in field".into()),
                        }
                    }
                    _ => break,
                }
            }
            out.push(Token::Ident(path));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let op = ["==", "!=", "<=", ">=", "&&", "||"]
                .into_iter()
                .find(|op| two == *op);
            if let Some(op) = op {
                out.push(Token::Op(op));
                i += 2;
                continue;
            }
            out.push(match c {
                '(' => Token::LParen,
                ')' => Token::RParen,
                '<' => Token::Op("<"),
                '>' => Token::Op(">"),
                '!' => Token::Op("!"),
                other => return Err(format!("unexpected {other:?}")),
            });
            i += 1;
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Token::Ident(s)) if s == w)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.is_word("or") || self.peek() == Some(&Token::Op("||")) {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.is_word("and") || self.peek() == Some(&Token::Op("&&")) {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.is_word("not") || self.peek() == Some(&Token::Op("!")) {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.comparison()
    }

    /// Comparisons and the text operators, all of one precedence and
    /// left-associative as in expr-lang (`body matches "x" == true` is
    /// `(body matches "x") == true`); `not matches` and the other `not`
    /// forms negate the operator.
    fn comparison(&mut self) -> Result<Expr, String> {
        let mut left = self.primary()?;
        loop {
            let negated = matches!(self.peek(), Some(Token::Ident(w)) if w == "not")
                && matches!(
                    self.tokens.get(self.pos + 1),
                    Some(Token::Ident(w)) if matches!(w.as_str(), "matches" | "contains" | "startsWith" | "endsWith")
                );
            if negated {
                self.pos += 1;
            }
            let next = match self.peek() {
                Some(Token::Op(op)) if !matches!(*op, "&&" | "||" | "!") => {
                    let op = match *op {
                        "==" => CompareOp::Eq,
                        "!=" => CompareOp::Ne,
                        "<" => CompareOp::Lt,
                        "<=" => CompareOp::Le,
                        ">" => CompareOp::Gt,
                        _ => CompareOp::Ge,
                    };
                    self.pos += 1;
                    Expr::Compare(Box::new(left), op, Box::new(self.primary()?))
                }
                Some(Token::Ident(w)) if w == "matches" => {
                    self.pos += 1;
                    let Some(Token::Str(pattern)) = self.next() else {
                        return Err("matches needs a string literal pattern".into());
                    };
                    let re = ferrotel_goregex::compile(&pattern)
                        .map_err(|e| format!("bad regex {pattern:?}: {e}"))?;
                    Expr::Matches(Box::new(left), re)
                }
                Some(Token::Ident(w))
                    if matches!(w.as_str(), "contains" | "startsWith" | "endsWith") =>
                {
                    let op = match w.as_str() {
                        "contains" => TextOp::Contains,
                        "startsWith" => TextOp::StartsWith,
                        _ => TextOp::EndsWith,
                    };
                    self.pos += 1;
                    Expr::Text(Box::new(left), op, Box::new(self.primary()?))
                }
                _ => return Ok(left),
            };
            left = if negated {
                Expr::Not(Box::new(next))
            } else {
                next
            };
        }
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::LParen) => {
                let e = self.or()?;
                match self.next() {
                    Some(Token::RParen) => Ok(e),
                    _ => Err("missing )".into()),
                }
            }
            Some(Token::Str(s)) => Ok(Expr::Literal(Value::Str(s))),
            Some(Token::Num(n)) => Ok(Expr::Literal(if n.fract() == 0.0 {
                Value::Int(n as i64)
            } else {
                Value::Double(n)
            })),
            Some(Token::Ident(w)) => match w.as_str() {
                "true" => Ok(Expr::Literal(Value::Bool(true))),
                "false" => Ok(Expr::Literal(Value::Bool(false))),
                "nil" => Ok(Expr::Literal(Value::Null)),
                _ => Field::parse(w.trim_start_matches('$')).map(Expr::Field),
            },
            Some(other) => Err(format!("unexpected {other:?}")),
            None => Err("unexpected end".into()),
        }
    }
}

impl Expr {
    /// Compiles an expression; the error says what was not understood.
    pub(crate) fn parse(src: &str) -> Result<Expr, String> {
        let mut p = Parser {
            tokens: tokenize(src)?,
            pos: 0,
        };
        let e = p.or()?;
        if p.pos < p.tokens.len() {
            return Err(format!(
                "unsupported expression {src:?}: cannot read past {:?}",
                p.tokens[p.pos]
            ));
        }
        Ok(e)
    }

    fn value<'a>(&'a self, e: &'a Entry) -> Option<std::borrow::Cow<'a, Value>> {
        use std::borrow::Cow;
        match self {
            Expr::Field(f) => f.get(e).map(Cow::Borrowed),
            Expr::Literal(v) => Some(Cow::Borrowed(v)),
            other => Some(Cow::Owned(Value::Bool(other.eval(e)))),
        }
    }

    /// True when the entry satisfies the expression; a missing field
    /// compares as nil.
    pub(crate) fn eval(&self, e: &Entry) -> bool {
        match self {
            Expr::Field(_) | Expr::Literal(_) => {
                matches!(self.value(e).as_deref(), Some(Value::Bool(true)))
            }
            Expr::Not(x) => !x.eval(e),
            Expr::And(a, b) => a.eval(e) && b.eval(e),
            Expr::Or(a, b) => a.eval(e) || b.eval(e),
            Expr::Matches(x, re) => x
                .value(e)
                .and_then(|v| v.to_text().map(|t| re.is_match(&t)))
                .unwrap_or(false),
            Expr::Text(a, op, b) => {
                let (Some(a), Some(b)) = (a.value(e), b.value(e)) else {
                    return false;
                };
                let (Some(a), Some(b)) = (a.to_text(), b.to_text()) else {
                    return false;
                };
                match op {
                    TextOp::Contains => a.contains(b.as_ref()),
                    TextOp::StartsWith => a.starts_with(b.as_ref()),
                    TextOp::EndsWith => a.ends_with(b.as_ref()),
                }
            }
            Expr::Compare(a, op, b) => {
                let a = a.value(e);
                let b = b.value(e);
                let null = Value::Null;
                let a = a.as_deref().unwrap_or(&null);
                let b = b.as_deref().unwrap_or(&null);
                let ord = compare(a, b);
                match op {
                    CompareOp::Eq => ord == Some(Ordering::Equal),
                    CompareOp::Ne => ord != Some(Ordering::Equal),
                    CompareOp::Lt => ord == Some(Ordering::Less),
                    CompareOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                    CompareOp::Gt => ord == Some(Ordering::Greater),
                    CompareOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                }
            }
        }
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Double(d) => Some(*d),
        _ => None,
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        return x.partial_cmp(&y);
    }
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        _ if a == b => Some(Ordering::Equal),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            body: Value::Str("2024-01-01 ERROR boom".into()),
            attributes: vec![
                ("log.iostream".into(), Value::Str("stderr".into())),
                ("code".into(), Value::Int(500)),
            ],
            ..Entry::default()
        }
    }

    #[test]
    fn the_forms_configs_use() {
        let e = entry();
        for (src, want) in [
            (r#"body matches "^\\d{4}-""#, true),
            (r#"attributes["log.iostream"] == "stderr""#, true),
            (r#"attributes["log.iostream"] != 'stderr'"#, false),
            ("attributes.code >= 500 and attributes.code < 600", true),
            ("attributes.missing == nil", true),
            (
                r#"not (body contains "ERROR") || attributes.code == 404"#,
                false,
            ),
            (r#"body startsWith "2024" && body endsWith "boom""#, true),
            // Forms of contrib's examples and Grafana's LGTM config.
            (r#"body not matches "^WARN:""#, true),
            ("attributes.missing?.inner != nil", false),
            (r#"attributes?.code == 500"#, true),
            (r#"body not contains "ERROR""#, false),
            (r#"body matches "\\d{4}" == true"#, true),
            (
                r#"body matches "^x" == false && attributes.code == 500"#,
                true,
            ),
        ] {
            assert_eq!(Expr::parse(src).unwrap().eval(&e), want, "{src}");
        }
    }

    #[test]
    fn unsupported_forms_are_refused() {
        assert!(Expr::parse("len(body) > 3").is_err());
        assert!(Expr::parse(r#"body matches "(""#).is_err());
        assert!(Expr::parse("body ==").is_err());
    }
}
