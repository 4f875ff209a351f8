//! Cutting the bytes of a file into entries.
//!
//! One entry per line by default; with `multiline`, an entry runs from a
//! line that matches `line_start_pattern` to the next such line, or up to
//! and including a line that matches `line_end_pattern`. Lines are found
//! with `memchr`, and the patterns are tried once per line and anchored at
//! its start (the way iLogtail made multi-line reading fast), not run over
//! the whole buffer as Go's split function does. Longer entries than
//! `max_log_size` are cut at that size. Entries are trimmed of surrounding
//! whitespace unless told not to, and entries that are empty after
//! trimming are skipped.

use crate::config::{Config, Encoding};
use regex::bytes::Regex;

/// How entries end.
#[derive(Debug, Clone)]
enum Mode {
    Line,
    /// Anchored at the line start.
    LineStart(Box<StartPattern>),
    LineEnd(Regex),
}

/// A `line_start_pattern`, anchored, with the bytes a line can begin with
/// and still match: most lines of a multi-line entry (`\tat ...`) are
/// turned away by one table lookup instead of a regex search.
#[derive(Debug, Clone)]
struct StartPattern {
    re: Regex,
    first_bytes: [bool; 256],
}

impl StartPattern {
    fn starts(&self, line: &[u8]) -> bool {
        line.first().is_none_or(|b| self.first_bytes[*b as usize]) && self.re.is_match(line)
    }
}

/// For an anchored pattern, which first bytes do not rule a match out:
/// those that do not lead the pattern's DFA from its start into the dead
/// state. Anything the lazy DFA cannot decide counts as possible.
fn first_bytes(anchored: &str) -> [bool; 256] {
    use regex_automata::hybrid::dfa::DFA;
    use regex_automata::{Anchored, Input, nfa::thompson};
    let all = [true; 256];
    let Ok(dfa) = DFA::builder()
        .thompson(thompson::Config::new().utf8(false))
        .build(anchored)
    else {
        return all;
    };
    let mut cache = dfa.create_cache();
    let Ok(start) =
        dfa.start_state_forward(&mut cache, &Input::new(&[][..]).anchored(Anchored::Yes))
    else {
        return all;
    };
    let mut possible = [false; 256];
    for (b, slot) in possible.iter_mut().enumerate() {
        *slot = dfa
            .next_state(&mut cache, start, b as u8)
            .map_or(true, |next| !next.is_dead());
    }
    possible
}

/// Splits bytes into entries; holds no state between calls, so a reader
/// keeps the unsplit tail itself.
#[derive(Debug, Clone)]
pub(crate) struct Splitter {
    mode: Mode,
    omit_pattern: bool,
    max_log_size: usize,
    encoding: Encoding,
    trim_leading: bool,
    trim_trailing: bool,
}

impl Splitter {
    /// From a config [`Config::check`] has passed.
    pub(crate) fn new(config: &Config) -> Splitter {
        let mode = match &config.multiline {
            Some(m) if !m.line_start_pattern.is_empty() => {
                let anchored = format!(
                    "^(?:{})",
                    ferrotel_goregex::translate(&m.line_start_pattern)
                );
                Mode::LineStart(Box::new(StartPattern {
                    first_bytes: first_bytes(&anchored),
                    re: Regex::new(&anchored).expect("checked"),
                }))
            }
            Some(m) if !m.line_end_pattern.is_empty() => Mode::LineEnd(
                ferrotel_goregex::compile_bytes(&m.line_end_pattern).expect("checked"),
            ),
            // `multiline` with neither pattern splits at newlines, as Go's.
            _ => Mode::Line,
        };
        Splitter {
            mode,
            omit_pattern: config.multiline.as_ref().is_some_and(|m| m.omit_pattern),
            max_log_size: config.max_log_size.0 as usize,
            encoding: config.encoding(),
            trim_leading: !config.preserve_leading_whitespaces,
            trim_trailing: !config.preserve_trailing_whitespaces,
        }
    }

    /// Calls `emit` with each complete entry in `data` and returns how many
    /// bytes were used up. With `flush`, what is left at the end is an entry
    /// too (the file has been quiet for `force_flush_period`, or it is
    /// complete).
    pub(crate) fn split(&self, data: &[u8], flush: bool, mut emit: impl FnMut(&[u8])) -> usize {
        let mut emit_trimmed = |token: &[u8]| {
            let token = self.trim(token);
            if !token.is_empty() {
                emit(token);
            }
        };
        match &self.mode {
            Mode::Line => self.split_lines(data, flush, &mut emit_trimmed),
            Mode::LineStart(p) => self.split_line_start(p, data, flush, &mut emit_trimmed),
            Mode::LineEnd(re) => self.split_line_end(re, data, flush, &mut emit_trimmed),
        }
    }

    /// The length of the next line in `data` including its newline, or
    /// `None` when no newline is there yet.
    fn next_line(&self, data: &[u8]) -> Option<usize> {
        match self.encoding {
            Encoding::Utf16Le | Encoding::Utf16Be => {
                let (first, second) = if self.encoding == Encoding::Utf16Le {
                    (b'\n', 0)
                } else {
                    (0, b'\n')
                };
                data.chunks_exact(2)
                    .position(|c| c[0] == first && c[1] == second)
                    .map(|i| 2 * i + 2)
            }
            _ => memchr::memchr(b'\n', data).map(|i| i + 1),
        }
    }

    /// The largest cut of at most `max` bytes that keeps UTF-16 units whole.
    fn cut(&self, max: usize) -> usize {
        match self.encoding {
            Encoding::Utf16Le | Encoding::Utf16Be => max & !1,
            _ => max,
        }
    }

    fn split_lines(&self, data: &[u8], flush: bool, emit: &mut impl FnMut(&[u8])) -> usize {
        let mut pos = 0;
        if matches!(self.encoding, Encoding::Utf16Le | Encoding::Utf16Be) {
            while let Some(len) = self.next_line(&data[pos..]) {
                let len = len.min(self.cut(self.max_log_size).max(2));
                emit(self.strip_newline(&data[pos..pos + len]));
                pos += len;
            }
        } else {
            // The hot loop: one memchr pass over the block.
            for nl in memchr::memchr_iter(b'\n', data) {
                if nl < pos {
                    continue;
                }
                while nl - pos > self.max_log_size {
                    emit(&data[pos..pos + self.max_log_size]);
                    pos += self.max_log_size;
                }
                emit(self.strip_newline(&data[pos..=nl]));
                pos = nl + 1;
            }
        }
        while data.len() - pos >= self.max_log_size.max(1) {
            let n = self.cut(self.max_log_size).max(1);
            emit(&data[pos..pos + n]);
            pos += n;
        }
        if flush && pos < data.len() {
            emit(&data[pos..]);
            pos = data.len();
        }
        pos
    }

    fn split_line_start(
        &self,
        pattern: &StartPattern,
        data: &[u8],
        flush: bool,
        emit: &mut impl FnMut(&[u8]),
    ) -> usize {
        let re = &pattern.re;
        // `entry` is where the entry being gathered starts; lines before the
        // first match form an entry of their own, as in Go.
        let mut entry = 0;
        let mut line = 0;
        while let Some(len) = self.next_line(&data[line..]) {
            if line > entry && pattern.starts(&data[line..line + len]) {
                self.emit_entry(re, &data[entry..line], true, emit);
                entry = line;
            }
            line += len;
            if line - entry >= self.max_log_size {
                self.emit_entry(re, &data[entry..entry + self.max_log_size], true, emit);
                entry += self.max_log_size;
                line = line.max(entry);
            }
        }
        self.finish_multiline(re, data, entry, flush, true, emit)
    }

    fn split_line_end(
        &self,
        re: &Regex,
        data: &[u8],
        flush: bool,
        emit: &mut impl FnMut(&[u8]),
    ) -> usize {
        let mut entry = 0;
        let mut line = 0;
        while let Some(len) = self.next_line(&data[line..]) {
            let text = self.strip_newline(&data[line..line + len]);
            line += len;
            if re.is_match(text) {
                self.emit_entry(re, &data[entry..line], false, emit);
                entry = line;
            } else if line - entry >= self.max_log_size {
                self.emit_entry(re, &data[entry..entry + self.max_log_size], false, emit);
                entry += self.max_log_size;
                line = line.max(entry);
            }
        }
        self.finish_multiline(re, data, entry, flush, false, emit)
    }

    /// The end of a multi-line pass: an unfinished entry is cut at
    /// `max_log_size`, and sent whole when flushing; returns the bytes used.
    fn finish_multiline(
        &self,
        re: &Regex,
        data: &[u8],
        mut entry: usize,
        flush: bool,
        at_start: bool,
        emit: &mut impl FnMut(&[u8]),
    ) -> usize {
        if data.len() - entry >= self.max_log_size {
            self.emit_entry(re, &data[entry..entry + self.max_log_size], at_start, emit);
            entry += self.max_log_size;
        }
        if flush && entry < data.len() {
            self.emit_entry(re, &data[entry..], at_start, emit);
            entry = data.len();
        }
        entry
    }

    fn emit_entry(&self, re: &Regex, token: &[u8], at_start: bool, emit: &mut impl FnMut(&[u8])) {
        let token = self.strip_newline(token);
        if !self.omit_pattern {
            return emit(token);
        }
        if at_start {
            match re.find(token) {
                Some(m) if m.start() == 0 => emit(&token[m.end()..]),
                _ => emit(token),
            }
        } else {
            // The pattern matched in the entry's last line.
            let last = memchr::memrchr(b'\n', token).map_or(0, |i| i + 1);
            match re.find(&token[last..]) {
                Some(m) => emit(&token[..last + m.start()]),
                None => emit(token),
            }
        }
    }

    fn strip_newline<'a>(&self, token: &'a [u8]) -> &'a [u8] {
        match self.encoding {
            Encoding::Utf16Le => token
                .strip_suffix(b"\n\0")
                .map(|t| t.strip_suffix(b"\r\0").unwrap_or(t))
                .unwrap_or(token),
            Encoding::Utf16Be => token
                .strip_suffix(b"\0\n")
                .map(|t| t.strip_suffix(b"\0\r").unwrap_or(t))
                .unwrap_or(token),
            _ => {
                let t = token.strip_suffix(b"\n").unwrap_or(token);
                t.strip_suffix(b"\r").unwrap_or(t)
            }
        }
    }

    fn trim<'a>(&self, mut token: &'a [u8]) -> &'a [u8] {
        // UTF-16 is trimmed after decoding, where spaces are one byte.
        if matches!(self.encoding, Encoding::Utf16Le | Encoding::Utf16Be) {
            return token;
        }
        if self.trim_leading {
            while let [first, rest @ ..] = token {
                if !first.is_ascii_whitespace() {
                    break;
                }
                token = rest;
            }
        }
        if self.trim_trailing {
            while let [rest @ .., last] = token {
                if !last.is_ascii_whitespace() {
                    break;
                }
                token = rest;
            }
        }
        token
    }

    /// Trims decoded UTF-16 text as the byte trimming does for the others.
    pub(crate) fn trim_text<'a>(&self, text: &'a str) -> &'a str {
        let ws = |c: char| c.is_ascii_whitespace();
        match (self.trim_leading, self.trim_trailing) {
            (true, true) => text.trim_matches(ws),
            (true, false) => text.trim_start_matches(ws),
            (false, true) => text.trim_end_matches(ws),
            (false, false) => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MultilineConfig;

    fn allowed(pattern: &str) -> Vec<u8> {
        let table = first_bytes(&format!("^(?:{pattern})"));
        (0..=255u8).filter(|b| table[*b as usize]).collect()
    }

    #[test]
    fn first_bytes_rule_out_only_impossible_starts() {
        assert_eq!(
            allowed(r"[0-9]{4}-[0-9]{2}"),
            (b'0'..=b'9').collect::<Vec<_>>()
        );
        // Unicode digits begin with more than ASCII ones, never with letters.
        let digits = allowed(r"\d{4}");
        assert!(digits.starts_with(b"0123456789") && !digits.contains(&b'a'));
        assert_eq!(allowed(r"\[|ERROR"), vec![b'E', b'[']);
        // Multi-byte UTF-8: only its lead byte.
        assert_eq!(allowed("é"), vec![0xC3]);
        // A pattern that matches the empty string matches every line.
        assert_eq!(allowed("a*").len(), 256);
        let spaced = allowed(r"\s*x");
        for b in [b' ', b'\t', b'x', 0xC2] {
            assert!(spaced.contains(&b), "{b:#x}");
        }
        assert!(!spaced.contains(&b'y'));
    }

    fn split_all(config: &Config, data: &[u8], flush: bool) -> (Vec<String>, usize) {
        let s = Splitter::new(config);
        let mut out = Vec::new();
        let used = s.split(data, flush, |t| {
            out.push(String::from_utf8_lossy(t).into_owned())
        });
        (out, used)
    }

    #[test]
    fn lines_keep_the_partial_tail_until_flushed() {
        let c = Config::default();
        let (tokens, used) = split_all(&c, b"a\r\n  b  \n\n   \nparti", false);
        assert_eq!(tokens, ["a", "b"]);
        assert_eq!(used, 14);
        let (tokens, used) = split_all(&c, b"parti", true);
        assert_eq!((tokens, used), (vec!["parti".to_string()], 5));
    }

    #[test]
    fn long_lines_are_cut_at_max_log_size() {
        let mut c = Config::default();
        c.max_log_size.0 = 4;
        let (tokens, used) = split_all(&c, b"abcdefghij\nxy\nabcdefg", false);
        assert_eq!(tokens, ["abcd", "efgh", "ij", "xy", "abcd"]);
        assert_eq!(used, 18);
    }

    #[test]
    fn line_start_pattern_gathers_stack_traces() {
        let c = Config {
            multiline: Some(MultilineConfig {
                line_start_pattern: r"\d{4}-".into(),
                ..Default::default()
            }),
            ..Config::default()
        };
        let data = b"junk\n2024-01 start\n  at a\n  at b\n2024-02 next\n  at c\n";
        let (tokens, used) = split_all(&c, data, false);
        assert_eq!(tokens, ["junk", "2024-01 start\n  at a\n  at b"]);
        assert_eq!(&data[used..], b"2024-02 next\n  at c\n");
        let (tokens, _) = split_all(&c, &data[used..], true);
        assert_eq!(tokens, ["2024-02 next\n  at c"]);
    }

    #[test]
    fn line_end_pattern_and_omit() {
        let c = Config {
            multiline: Some(MultilineConfig {
                line_end_pattern: "END$".into(),
                omit_pattern: true,
                ..Default::default()
            }),
            ..Config::default()
        };
        let (tokens, used) = split_all(&c, b"a\nb END\nc\n", false);
        assert_eq!(tokens, ["a\nb"]);
        assert_eq!(used, 8);
    }

    #[test]
    fn utf16_lines_split_on_whole_code_units() {
        let c = Config {
            encoding: "utf-16le".into(),
            ..Config::default()
        };
        let text: Vec<u8> = "hé\nwörld\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let s = Splitter::new(&c);
        let mut out = Vec::new();
        let used = s.split(&text, false, |t| out.push(t.to_vec()));
        assert_eq!(used, text.len());
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[0],
            "hé"
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes())
                .collect::<Vec<_>>()
        );
    }
}
