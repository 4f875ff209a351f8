//! OTTL text to syntax trees: statements (`editor(args) where cond`),
//! conditions (boolean expressions) and the values inside them.

use super::lexer::{CmpOp, Token, tokenize};

/// A value expression.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Expr {
    Str(String),
    Int(i64),
    Float(f64),
    Bytes(Vec<u8>),
    Bool(bool),
    Nil,
    Enum(String),
    List(Vec<Expr>),
    Map(Vec<(String, Expr)>),
    Path(Path),
    Call(Call),
    Math(Box<Expr>, MathOp, Box<Expr>),
    Neg(Box<Expr>),
}

/// `+ - * /`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MathOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// `a.b.c["k"][0]`.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Path {
    pub(super) fields: Vec<String>,
    pub(super) keys: Vec<Key>,
}

/// An index: a string or int literal, or an expression.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Key {
    Str(String),
    Int(i64),
    Expr(Expr),
}

/// An editor or converter invocation, with keys indexing its result.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Call {
    pub(super) name: String,
    pub(super) args: Vec<Arg>,
    pub(super) keys: Vec<Key>,
}

/// A possibly named argument.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Arg {
    pub(super) name: Option<String>,
    pub(super) value: Expr,
}

/// A boolean expression.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum BoolExpr {
    Or(Vec<BoolExpr>),
    And(Vec<BoolExpr>),
    Not(Box<BoolExpr>),
    Cmp(Expr, CmpOp, Expr),
    /// A boolean literal or a converter returning a boolean.
    Term(Expr),
}

/// `editor(args) [where condition]`.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct StatementAst {
    pub(super) editor: Call,
    pub(super) condition: Option<BoolExpr>,
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    pos: usize,
    len: usize,
}

/// Parses a statement.
pub(super) fn statement(text: &str) -> Result<StatementAst, String> {
    let mut p = Parser::new(text)?;
    let editor = match p.next() {
        Some(Token::Ident(name)) if name.starts_with(|c: char| c.is_ascii_lowercase()) => {
            p.expect(&Token::LParen)?;
            let args = p.args()?;
            Call {
                name,
                args,
                keys: Vec::new(),
            }
        }
        _ => return Err(p.error_at(0, "a statement starts with an editor, e.g. set(...)")),
    };
    let condition = if p.keyword("where") {
        Some(p.bool_expr()?)
    } else {
        None
    };
    p.end()?;
    Ok(StatementAst { editor, condition })
}

/// Parses a condition (a boolean expression on its own).
pub(super) fn condition(text: &str) -> Result<BoolExpr, String> {
    let mut p = Parser::new(text)?;
    let c = p.bool_expr()?;
    p.end()?;
    Ok(c)
}

impl Parser {
    fn new(text: &str) -> Result<Parser, String> {
        Ok(Parser {
            tokens: tokenize(text)?,
            pos: 0,
            len: text.len(),
        })
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }

    fn peek_at(&self, n: usize) -> Option<&Token> {
        self.tokens.get(self.pos + n).map(|(t, _)| t)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).map(|(t, _)| t.clone());
        self.pos += 1;
        t
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.len, |(_, o)| *o)
    }

    fn error_at(&self, pos: usize, what: &str) -> String {
        let at = self.tokens.get(pos).map_or(self.len, |(_, o)| *o);
        format!("{what} (at offset {at})")
    }

    fn error(&self, what: &str) -> String {
        match self.peek() {
            Some(t) => format!("{what}, found {t:?} at offset {}", self.offset()),
            None => format!("{what}, found the end of the statement"),
        }
    }

    fn expect(&mut self, t: &Token) -> Result<(), String> {
        if self.peek() == Some(t) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected {t:?}")))
        }
    }

    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Ident(w)) if w == word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn end(&self) -> Result<(), String> {
        if self.pos < self.tokens.len() {
            Err(self.error("unexpected input"))
        } else {
            Ok(())
        }
    }

    /// Arguments after `(`, through `)`.
    fn args(&mut self) -> Result<Vec<Arg>, String> {
        let mut args = Vec::new();
        if self.peek() == Some(&Token::RParen) {
            self.pos += 1;
            return Ok(args);
        }
        loop {
            let name = match (self.peek(), self.peek_at(1)) {
                (Some(Token::Ident(n)), Some(Token::Assign)) => {
                    let n = n.clone();
                    self.pos += 2;
                    Some(n)
                }
                _ => None,
            };
            if name.is_none() && args.iter().any(|a: &Arg| a.name.is_some()) {
                return Err(self.error("unnamed arguments must come before named ones"));
            }
            args.push(Arg {
                name,
                value: self.value()?,
            });
            match self.next() {
                Some(Token::Comma) => continue,
                Some(Token::RParen) => return Ok(args),
                _ => {
                    self.pos -= 1;
                    return Err(self.error("expected ',' or ')'"));
                }
            }
        }
    }

    fn bool_expr(&mut self) -> Result<BoolExpr, String> {
        let mut terms = vec![self.and_expr()?];
        while self.keyword("or") {
            terms.push(self.and_expr()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().expect("one term")
        } else {
            BoolExpr::Or(terms)
        })
    }

    fn and_expr(&mut self) -> Result<BoolExpr, String> {
        let mut terms = vec![self.not_expr()?];
        while self.keyword("and") {
            terms.push(self.not_expr()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().expect("one term")
        } else {
            BoolExpr::And(terms)
        })
    }

    fn not_expr(&mut self) -> Result<BoolExpr, String> {
        if self.keyword("not") {
            return Ok(BoolExpr::Not(Box::new(self.not_expr()?)));
        }
        if self.peek() == Some(&Token::LParen) {
            // A parenthesized boolean expression, unless it turns out to
            // be the start of a math expression in a comparison.
            let saved = self.pos;
            self.pos += 1;
            if let Ok(inner) = self.bool_expr()
                && self.peek() == Some(&Token::RParen)
            {
                self.pos += 1;
                let followed_by_operator = matches!(
                    self.peek(),
                    Some(Token::Cmp(_) | Token::Plus | Token::Minus | Token::Star | Token::Slash)
                );
                if !followed_by_operator {
                    return Ok(inner);
                }
            }
            self.pos = saved;
        }
        let left = self.value()?;
        if let Some(Token::Cmp(op)) = self.peek() {
            let op = *op;
            self.pos += 1;
            let right = self.value()?;
            return Ok(BoolExpr::Cmp(left, op, right));
        }
        Ok(BoolExpr::Term(left))
    }

    fn value(&mut self) -> Result<Expr, String> {
        let mut left = self.term()?;
        loop {
            let op = match self.peek() {
                Some(Token::Plus) => MathOp::Add,
                Some(Token::Minus) => MathOp::Sub,
                _ => return Ok(left),
            };
            self.pos += 1;
            let right = self.term()?;
            left = Expr::Math(Box::new(left), op, Box::new(right));
        }
    }

    fn term(&mut self) -> Result<Expr, String> {
        let mut left = self.factor()?;
        loop {
            let op = match self.peek() {
                Some(Token::Star) => MathOp::Mul,
                Some(Token::Slash) => MathOp::Div,
                _ => return Ok(left),
            };
            self.pos += 1;
            let right = self.factor()?;
            left = Expr::Math(Box::new(left), op, Box::new(right));
        }
    }

    fn factor(&mut self) -> Result<Expr, String> {
        match self.peek() {
            Some(Token::Minus) => {
                self.pos += 1;
                Ok(match self.factor()? {
                    Expr::Int(i) => Expr::Int(-i),
                    Expr::Float(f) => Expr::Float(-f),
                    other => Expr::Neg(Box::new(other)),
                })
            }
            Some(Token::Plus) => {
                self.pos += 1;
                self.factor()
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let Some(token) = self.next() else {
            return Err(self.error("expected a value"));
        };
        Ok(match token {
            Token::Str(s) => Expr::Str(s),
            Token::Int(i) => Expr::Int(i),
            Token::Float(f) => Expr::Float(f),
            Token::Bytes(b) => Expr::Bytes(b),
            Token::LParen => {
                let inner = self.value()?;
                self.expect(&Token::RParen)?;
                inner
            }
            Token::LBracket => {
                let mut items = Vec::new();
                if self.peek() != Some(&Token::RBracket) {
                    loop {
                        items.push(self.value()?);
                        if self.peek() == Some(&Token::Comma) {
                            self.pos += 1;
                        } else {
                            break;
                        }
                    }
                }
                self.expect(&Token::RBracket)?;
                Expr::List(items)
            }
            Token::LBrace => {
                let mut entries = Vec::new();
                if self.peek() != Some(&Token::RBrace) {
                    loop {
                        let Some(Token::Str(key)) = self.next() else {
                            self.pos -= 1;
                            return Err(self.error("expected a string map key"));
                        };
                        self.expect(&Token::Colon)?;
                        entries.push((key, self.value()?));
                        if self.peek() == Some(&Token::Comma) {
                            self.pos += 1;
                        } else {
                            break;
                        }
                    }
                }
                self.expect(&Token::RBrace)?;
                Expr::Map(entries)
            }
            Token::Ident(name) => match name.as_str() {
                "true" => Expr::Bool(true),
                "false" => Expr::Bool(false),
                "nil" => Expr::Nil,
                _ if name.starts_with(|c: char| c.is_ascii_uppercase()) => {
                    if self.peek() == Some(&Token::LParen) {
                        self.pos += 1;
                        let args = self.args()?;
                        let keys = self.keys()?;
                        Expr::Call(Call { name, args, keys })
                    } else {
                        Expr::Enum(name)
                    }
                }
                _ => {
                    if self.peek() == Some(&Token::LParen) {
                        return Err(self.error_at(
                            self.pos - 1,
                            &format!("editor {name:?} cannot be used as a value; converters start with an uppercase letter"),
                        ));
                    }
                    let mut fields = vec![name];
                    while self.peek() == Some(&Token::Dot) {
                        self.pos += 1;
                        match self.next() {
                            Some(Token::Ident(f)) => fields.push(f),
                            _ => {
                                self.pos -= 1;
                                return Err(self.error("expected a path segment after '.'"));
                            }
                        }
                    }
                    let keys = self.keys()?;
                    Expr::Path(Path { fields, keys })
                }
            },
            _ => {
                self.pos -= 1;
                return Err(self.error("expected a value"));
            }
        })
    }

    fn keys(&mut self) -> Result<Vec<Key>, String> {
        let mut keys = Vec::new();
        while self.peek() == Some(&Token::LBracket) {
            self.pos += 1;
            let key = match (self.peek(), self.peek_at(1)) {
                (Some(Token::Str(s)), Some(Token::RBracket)) => {
                    let k = Key::Str(s.clone());
                    self.pos += 1;
                    k
                }
                (Some(Token::Int(i)), Some(Token::RBracket)) => {
                    let k = Key::Int(*i);
                    self.pos += 1;
                    k
                }
                _ => Key::Expr(self.value()?),
            };
            self.expect(&Token::RBracket)?;
            keys.push(key);
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(fields: &[&str], keys: Vec<Key>) -> Expr {
        Expr::Path(Path {
            fields: fields.iter().map(|s| s.to_string()).collect(),
            keys,
        })
    }

    #[test]
    fn a_statement_with_a_where_clause() {
        let s = statement(
            r#"set(attributes["env"], "prod") where resource.attributes["ns"] == "prod" and not IsMatch(name, "^h.*")"#,
        )
        .unwrap();
        assert_eq!(s.editor.name, "set");
        assert_eq!(
            s.editor.args[0].value,
            path(&["attributes"], vec![Key::Str("env".into())])
        );
        let Some(BoolExpr::And(terms)) = s.condition else {
            panic!("and")
        };
        assert!(matches!(&terms[0], BoolExpr::Cmp(_, CmpOp::Eq, Expr::Str(s)) if s == "prod"));
        assert!(
            matches!(&terms[1], BoolExpr::Not(inner) if matches!(**inner, BoolExpr::Term(Expr::Call(_))))
        );
    }

    #[test]
    fn precedence_and_grouping() {
        let c = condition("a == 1 or b == 2 and c == 3").unwrap();
        let BoolExpr::Or(t) = c else { panic!() };
        assert!(matches!(t[1], BoolExpr::And(_)));
        let c = condition("(a == 1 or b == 2) and c == 3").unwrap();
        assert!(matches!(c, BoolExpr::And(_)));
        let c = condition("(end - start) / 1000 > 5").unwrap();
        let BoolExpr::Cmp(Expr::Math(left, MathOp::Div, _), CmpOp::Gt, Expr::Int(5)) = c else {
            panic!("{c:?}")
        };
        assert!(matches!(*left, Expr::Math(_, MathOp::Sub, _)));
        assert_eq!(
            condition("x == -1").unwrap(),
            BoolExpr::Cmp(path(&["x"], vec![]), CmpOp::Eq, Expr::Int(-1))
        );
    }

    #[test]
    fn values_of_every_kind() {
        let s = statement(
            r#"f(a=[1, 2.5, "s", nil, true], b={"k": {"n": 0x00}}, c=Split(body, ",")[0], d=SPAN_KIND_SERVER, e=attributes[cache["k"]])"#,
        )
        .unwrap();
        let names: Vec<_> = s
            .editor
            .args
            .iter()
            .map(|a| a.name.clone().unwrap())
            .collect();
        assert_eq!(names, ["a", "b", "c", "d", "e"]);
        assert!(matches!(&s.editor.args[2].value, Expr::Call(c) if c.keys == vec![Key::Int(0)]));
        assert_eq!(
            s.editor.args[3].value,
            Expr::Enum("SPAN_KIND_SERVER".into())
        );
        assert!(
            matches!(&s.editor.args[4].value, Expr::Path(p) if matches!(p.keys[0], Key::Expr(_)))
        );
    }

    #[test]
    fn errors_say_where() {
        for bad in [
            "Set(x, 1)",
            "set(x, 1",
            "set(x 1)",
            "set(x, 1) where",
            "set(a=1, 2)",
            "set(x, y(1))",
            "set(x, 1) trailing",
        ] {
            assert!(statement(bad).is_err(), "{bad}");
        }
        assert!(condition("a ==").is_err());
    }
}
