//! OTTL tokens: identifiers, literals (Go-quoted strings, ints, floats,
//! `0x` bytes), operators and punctuation.

/// One token and where it starts (a byte offset, for error messages).
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Token {
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    Bytes(Vec<u8>),
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Dot,
    Colon,
    Assign,
    Arrow,
    Cmp(CmpOp),
    Plus,
    Minus,
    Star,
    Slash,
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
}

/// Splits a statement into tokens with their offsets.
pub(super) fn tokenize(input: &str) -> Result<Vec<(Token, usize)>, String> {
    let bytes = input.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let simple = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => Some(Token::LParen),
            b')' => Some(Token::RParen),
            b'[' => Some(Token::LBracket),
            b']' => Some(Token::RBracket),
            b'{' => Some(Token::LBrace),
            b'}' => Some(Token::RBrace),
            b',' => Some(Token::Comma),
            b':' => Some(Token::Colon),
            b'+' => Some(Token::Plus),
            b'-' => Some(Token::Minus),
            b'*' => Some(Token::Star),
            b'/' => Some(Token::Slash),
            _ => None,
        };
        if let Some(t) = simple {
            out.push((t, start));
            i += 1;
            continue;
        }
        let two = bytes.get(i + 1).copied();
        match (c, two) {
            (b'=', Some(b'=')) => {
                out.push((Token::Cmp(CmpOp::Eq), start));
                i += 2;
            }
            (b'=', Some(b'>')) => {
                out.push((Token::Arrow, start));
                i += 2;
            }
            (b'=', _) => {
                out.push((Token::Assign, start));
                i += 1;
            }
            (b'!', Some(b'=')) => {
                out.push((Token::Cmp(CmpOp::Ne), start));
                i += 2;
            }
            (b'<', Some(b'=')) => {
                out.push((Token::Cmp(CmpOp::Le), start));
                i += 2;
            }
            (b'>', Some(b'=')) => {
                out.push((Token::Cmp(CmpOp::Ge), start));
                i += 2;
            }
            (b'<', _) => {
                out.push((Token::Cmp(CmpOp::Lt), start));
                i += 1;
            }
            (b'>', _) => {
                out.push((Token::Cmp(CmpOp::Gt), start));
                i += 1;
            }
            (b'"', _) => {
                let (s, end) = string(input, i)?;
                out.push((Token::Str(s), start));
                i = end;
            }
            (b'0', Some(b'x' | b'X')) => {
                let mut j = i + 2;
                while j < bytes.len() && bytes[j].is_ascii_hexdigit() {
                    j += 1;
                }
                let hex = &input[i + 2..j];
                if hex.is_empty() || !hex.len().is_multiple_of(2) {
                    return Err(format!("invalid byte slice literal at {start}"));
                }
                let data = (0..hex.len())
                    .step_by(2)
                    .map(|k| u8::from_str_radix(&hex[k..k + 2], 16))
                    .collect::<Result<Vec<u8>, _>>()
                    .map_err(|e| e.to_string())?;
                out.push((Token::Bytes(data), start));
                i = j;
            }
            (b'0'..=b'9', _) | (b'.', Some(b'0'..=b'9')) => {
                let mut j = i;
                let mut float = false;
                while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b'.') {
                    float |= bytes[j] == b'.';
                    j += 1;
                }
                let text = &input[i..j];
                let token = if float {
                    Token::Float(
                        text.parse()
                            .map_err(|_| format!("invalid number {text:?} at {start}"))?,
                    )
                } else {
                    Token::Int(
                        text.parse()
                            .map_err(|_| format!("invalid number {text:?} at {start}"))?,
                    )
                };
                out.push((token, start));
                i = j;
            }
            (b'.', _) => {
                out.push((Token::Dot, start));
                i += 1;
            }
            (c, _) if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i;
                while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                    j += 1;
                }
                out.push((Token::Ident(input[i..j].to_string()), start));
                i = j;
            }
            _ => {
                let ch = input[i..].chars().next().unwrap_or('?');
                return Err(format!("unexpected character {ch:?} at {start}"));
            }
        }
    }
    Ok(out)
}

/// A double-quoted string with Go's escapes (`strconv.Unquote`); returns
/// it and the offset after the closing quote.
fn string(input: &str, open: usize) -> Result<(String, usize), String> {
    let mut out = String::new();
    let mut chars = input[open + 1..].char_indices();
    while let Some((k, c)) = chars.next() {
        match c {
            '"' => return Ok((out, open + 1 + k + 1)),
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                match e {
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'v' => out.push('\u{b}'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    '\'' => out.push('\''),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut code = 0u32;
                        for _ in 0..n {
                            let d = chars
                                .next()
                                .and_then(|(_, h)| h.to_digit(16))
                                .ok_or_else(|| format!("invalid escape in string at {open}"))?;
                            code = code * 16 + d;
                        }
                        out.push(
                            char::from_u32(code)
                                .ok_or_else(|| format!("invalid escape in string at {open}"))?,
                        );
                    }
                    '0'..='7' => {
                        let mut code = e.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            let d = chars
                                .next()
                                .and_then(|(_, h)| h.to_digit(8))
                                .ok_or_else(|| format!("invalid escape in string at {open}"))?;
                            code = code * 8 + d;
                        }
                        out.push(
                            char::from_u32(code)
                                .ok_or_else(|| format!("invalid escape in string at {open}"))?,
                        );
                    }
                    other => return Err(format!("invalid escape \\{other} in string at {open}")),
                }
            }
            c => out.push(c),
        }
    }
    Err(format!("unterminated string starting at {open}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Token> {
        tokenize(s).unwrap().into_iter().map(|(t, _)| t).collect()
    }

    #[test]
    fn tokens_of_a_statement() {
        assert_eq!(
            kinds(r#"set(attributes["a\"b"], 0x01ff) where x >= -1.5"#),
            vec![
                Token::Ident("set".into()),
                Token::LParen,
                Token::Ident("attributes".into()),
                Token::LBracket,
                Token::Str("a\"b".into()),
                Token::RBracket,
                Token::Comma,
                Token::Bytes(vec![1, 255]),
                Token::RParen,
                Token::Ident("where".into()),
                Token::Ident("x".into()),
                Token::Cmp(CmpOp::Ge),
                Token::Minus,
                Token::Float(1.5),
            ]
        );
        assert_eq!(kinds(r#""\u00fc\t\\d""#), vec![Token::Str("ü\t\\d".into())]);
        assert!(tokenize(r#""\d""#).is_err(), "Go rejects unknown escapes");
        assert!(tokenize(r#""open"#).is_err());
        assert!(tokenize("a # b").is_err());
    }
}
