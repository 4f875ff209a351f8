//! Go's regular expressions for Rust's `regex` crate. Collector configs
//! are written for Go's `regexp` (RE2 syntax), which Rust's crate mostly
//! shares; where the two differ a Go pattern either fails here or, worse,
//! means something else. [`translate`] rewrites a Go pattern into one that
//! Rust reads the way Go does:
//!
//! - `{` that does not start a valid repetition is a literal (`^{`,
//!   `{foo}`, `a{,3}`), as Go reads it;
//! - `\Q...\E` quotes, octal escapes (`\012`), and group names that start
//!   with a digit (`(?P<0>...)`, renamed reversibly, see [`go_name`]);
//! - `\d`, `\w`, `\s`, `\b` and their negations are ASCII, as in Go,
//!   where Rust's are Unicode;
//! - escaped punctuation is the character itself (`\<` is `<` in Go, a word
//!   boundary in Rust), and `&&`, `~~`, `--` and `[` inside a class are
//!   literals, where Rust reads set operations and nested classes.
//!
//! Everything else passes through unchanged, so Rust's own errors report
//! what neither syntax takes.

use std::fmt::Write;

/// The prefix of a group name that Rust could not take as Go wrote it.
const RENAMED: &str = "_goregex_";

/// The name a capture group has in the Go pattern, from the name Rust
/// gives it after [`translate`].
pub fn go_name(rust_name: &str) -> &str {
    rust_name.strip_prefix(RENAMED).unwrap_or(rust_name)
}

/// Compiles a Go pattern as a `regex::Regex`; capture names read back
/// with [`go_name`].
pub fn compile(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::Regex::new(&translate(pattern))
}

/// Compiles a Go pattern as a `regex::bytes::Regex`, for matching raw
/// bytes.
pub fn compile_bytes(pattern: &str) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::Regex::new(&translate(pattern))
}

/// ASCII classes for Go's Perl classes, as they read outside a bracket
/// class and inside one.
fn perl_class(c: char) -> Option<(&'static str, &'static str)> {
    Some(match c {
        'd' => ("[0-9]", "0-9"),
        'D' => ("[^0-9]", "[^0-9]"),
        'w' => ("[0-9A-Za-z_]", "0-9A-Za-z_"),
        'W' => ("[^0-9A-Za-z_]", "[^0-9A-Za-z_]"),
        's' => ("[\\t\\n\\f\\r ]", "\\t\\n\\f\\r "),
        'S' => ("[^\\t\\n\\f\\r ]", "[^\\t\\n\\f\\r ]"),
        _ => return None,
    })
}

/// Characters Rust's syntax gives a meaning, escaped when they stand for
/// themselves.
fn is_meta(c: char) -> bool {
    matches!(
        c,
        '\\' | '.'
            | '+'
            | '*'
            | '?'
            | '('
            | ')'
            | '|'
            | '['
            | ']'
            | '{'
            | '}'
            | '^'
            | '$'
            | '#'
            | '&'
            | '-'
            | '~'
    )
}

/// Writes `c` so that Rust reads it as itself.
fn literal(out: &mut String, c: char) {
    if is_meta(c) {
        out.push('\\');
    }
    out.push(c);
}

/// The length in bytes of a valid Go repetition `{n}`, `{n,}` or `{n,m}`
/// at the start of `rest`, if it is one.
fn repetition_len(rest: &str) -> Option<usize> {
    let bytes = rest.as_bytes();
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let min = digits(1);
    if min == 0 {
        return None;
    }
    let mut at = 1 + min;
    if bytes.get(at) == Some(&b',') {
        at += 1;
        at += digits(at);
    }
    (bytes.get(at) == Some(&b'}')).then_some(at + 1)
}

/// Rewrites a Go pattern into one Rust's `regex` reads the same way.
pub fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut rest = pattern;
    // Inside `[...]`, and whether the next character is the first of it
    // (where `]` is a literal).
    let mut in_class = false;
    let mut class_first = false;
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        let first = std::mem::take(&mut class_first);
        match c {
            '\\' => {
                let Some(e) = after.chars().next() else {
                    // A trailing backslash: Rust reports it.
                    out.push('\\');
                    break;
                };
                let tail = &after[e.len_utf8()..];
                rest = tail;
                match e {
                    'Q' => {
                        let (quoted, remaining) = match tail.find("\\E") {
                            Some(end) => (&tail[..end], &tail[end + 2..]),
                            None => (tail, ""),
                        };
                        quoted.chars().for_each(|q| literal(&mut out, q));
                        rest = remaining;
                    }
                    'd' | 'D' | 'w' | 'W' | 's' | 'S' => {
                        if let Some((outside, inside)) = perl_class(e) {
                            out.push_str(if in_class { inside } else { outside });
                        }
                    }
                    'b' | 'B' if !in_class => {
                        let _ = write!(out, "(?-u:\\{e})");
                    }
                    '0'..='7' => {
                        let more = tail.bytes().take_while(|b| (b'0'..=b'7').contains(b));
                        let count = more.take(2).count();
                        if e != '0' && count == 0 {
                            // `\1`: a back-reference, which neither takes.
                            out.push('\\');
                            out.push(e);
                        } else {
                            let digits = &after[..1 + count];
                            let code = u32::from_str_radix(digits, 8).unwrap_or(0);
                            let _ = write!(out, "\\x{{{code:x}}}");
                            rest = &tail[count..];
                        }
                    }
                    'x' | 'p' | 'P' => {
                        // `\x7f`, `\x{10ffff}`, `\pL`, `\p{Greek}`: copied
                        // whole, so their braces are not read as repetitions.
                        out.push('\\');
                        out.push(e);
                        let len = if tail.starts_with('{') {
                            tail.find('}').map_or(tail.len(), |end| end + 1)
                        } else if e == 'x' {
                            tail.chars().take(2).map(char::len_utf8).sum()
                        } else {
                            tail.chars().next().map_or(0, char::len_utf8)
                        };
                        out.push_str(&tail[..len]);
                        rest = &tail[len..];
                    }
                    e if e.is_ascii_punctuation() => literal(&mut out, e),
                    e => {
                        out.push('\\');
                        out.push(e);
                    }
                }
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                rest = after;
                if let Some(r) = rest.strip_prefix('^') {
                    out.push('^');
                    rest = r;
                }
                class_first = true;
                continue;
            }
            '[' if after.starts_with(':') => {
                // `[:alpha:]` inside a class, copied whole.
                let len = after.find(":]").map_or(0, |end| end + 2);
                out.push('[');
                out.push_str(&after[..len]);
                rest = &after[len..];
                continue;
            }
            ']' if in_class && !first => {
                in_class = false;
                out.push(']');
            }
            '[' | ']' | '&' | '~' if in_class => literal(&mut out, c),
            '-' if in_class && after.starts_with('-') => literal(&mut out, c),
            '{' if !in_class => match repetition_len(rest) {
                Some(len) => {
                    out.push_str(&rest[..len]);
                    rest = &rest[len..];
                    continue;
                }
                None => out.push_str("\\{"),
            },
            '}' if !in_class => out.push_str("\\}"),
            '(' if !in_class => {
                // A named group whose name Rust refuses: Go takes any word
                // characters, Rust wants a letter or `_` first.
                let named = ["(?P<", "(?<"]
                    .into_iter()
                    .find(|open| rest.starts_with(open));
                if let Some(open) = named {
                    let name_start = open.len();
                    if let Some(end) = rest[name_start..].find('>') {
                        let name = &rest[name_start..name_start + end];
                        out.push_str("(?P<");
                        if name.starts_with(|c: char| c.is_ascii_digit()) {
                            out.push_str(RENAMED);
                        }
                        out.push_str(name);
                        out.push('>');
                        rest = &rest[name_start + end + 1..];
                        continue;
                    }
                }
                out.push('(');
            }
            c => out.push(c),
        }
        rest = after;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{compile, compile_bytes, go_name, translate};

    fn matches(pattern: &str, text: &str) -> bool {
        compile(pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .is_match(text)
    }

    #[test]
    fn braces_that_are_not_repetitions_are_literals_as_in_go() {
        assert!(matches("^{", "{\"a\": 1}"));
        assert!(!matches("^{", " {"));
        assert!(matches("{foo}", "x{foo}"));
        assert!(matches("a{,3}", "a{,3}"));
        assert!(matches("a{x}", "a{x}"));
        assert!(matches("^a{2}$", "aa"));
        assert!(matches("^a{2,}$", "aaa"));
        assert!(matches("^a{1,2}$", "aa"));
        assert!(matches("}", "}"));
    }

    #[test]
    fn quoting_octal_and_digit_group_names_are_go_s() {
        assert!(matches(r"^\Qa.b*\E$", "a.b*"));
        assert!(!matches(r"^\Qa.b\E$", "axb"));
        assert!(matches(r"^\Qa.b", "a.b"));
        assert!(matches(r"^\101\0$", "A\0"));
        assert!(matches(r"^\12$", "\n"));
        assert!(
            compile(r"\1").is_err(),
            "back-references are refused by both"
        );
        let re = compile(r"(?P<0>\d+)-(?<name>\w+)").unwrap();
        let names: Vec<&str> = re.capture_names().flatten().map(go_name).collect();
        assert_eq!(names, ["0", "name"]);
        let caps = re.captures("12-ab").unwrap();
        assert_eq!(&caps[1], "12");
    }

    #[test]
    fn perl_classes_and_word_boundaries_are_ascii_as_in_go() {
        assert!(
            !matches(r"^\d$", "٣"),
            "an Arabic-Indic digit is not \\d in Go"
        );
        assert!(matches(r"^\D$", "٣"));
        assert!(!matches(r"^\w$", "é"));
        assert!(matches(r"^[\w-]+$", "a_b-9"));
        assert!(!matches(r"^[\w]$", "é"));
        assert!(matches(r"^[^\d]$", "x"));
        assert!(!matches(r"^\s$", "\u{a0}"));
        assert!(
            !matches(r"\bé", "é"),
            "é is not a word character for Go's \\b"
        );
        assert!(matches(r"\ba\b", "é a é"));
        assert!(matches(r"^[\D]$", "x"));
    }

    #[test]
    fn escaped_punctuation_and_class_operators_are_literals_as_in_go() {
        assert!(matches(r"^\<a\>$", "<a>"));
        assert!(matches(r"^\/\_\'\%$", "/_'%"));
        assert!(matches("^[a&&b]+$", "a&&b"));
        assert!(matches("^[a~~b]+$", "a~b"));
        assert!(matches("^[a--]+$", "a-"));
        assert!(matches("^[a[b]+$", "[ab"));
        assert!(matches("^[]a]+$", "]a"));
        assert!(matches("^[^]a]$", "b"));
        assert!(matches("^[[:alpha:]]+$", "abc"));
        assert!(matches(r"^\x41\x{42}\pL\p{Greek}$", "ABcα"));
    }

    #[test]
    fn the_rest_passes_through_and_rust_reports_what_neither_takes() {
        assert_eq!(translate(r"(?i)^a.b|c+?$"), r"(?i)^a.b|c+?$");
        assert!(compile("(?P<a>").is_err());
        assert!(compile(r"\").is_err());
        assert!(compile_bytes(r"^\d{3}").unwrap().is_match(b"123"));
    }
}
