//! The CSV row reading behind OTTL's `ParseCSV`: Go's `encoding/csv`
//! reader as the collector configures it (any number of fields, no
//! comment character, `LazyQuotes` in `lazyQuotes` mode), over one log
//! body. A body with several lines is one row whose unquoted line breaks
//! belong to the field they interrupt, as contrib's `parseutils.ReadCSVRow`
//! joins them.

const BARE_QUOTE: &str = "bare \" in non-quoted-field";
const QUOTE: &str = "extraneous or missing \" in quoted-field";

/// Reads `row` into its fields.
pub(super) fn read_row(row: &str, comma: char, lazy_quotes: bool) -> Result<Vec<String>, String> {
    let mut reader = Reader { rest: row, line: 0 };
    let mut records: Vec<Vec<String>> = Vec::new();
    while let Some((fields, error)) = reader.record(comma, lazy_quotes) {
        // Go's reader hands back the fields before a parse error with it;
        // contrib keeps them and fails only when there are none.
        if let Some(error) = error
            && fields.is_empty()
        {
            return Err(format!("read csv line: {error}"));
        }
        records.push(fields);
    }
    let mut records = records.into_iter();
    let mut joined = records.next().ok_or("no csv lines found")?;
    for next in records {
        let mut next = next.into_iter();
        if let (Some(last), Some(first)) = (joined.last_mut(), next.next()) {
            last.push('\n');
            last.push_str(&first);
        }
        joined.extend(next);
    }
    Ok(joined)
}

struct Reader<'a> {
    rest: &'a str,
    line: usize,
}

impl Reader<'_> {
    /// The next line with its `\n`, `\r\n` read as `\n` and a `\r` before
    /// the end of input dropped, as Go's reader does.
    fn next_line(&mut self) -> Option<String> {
        if self.rest.is_empty() {
            return None;
        }
        let end = self.rest.find('\n').map_or(self.rest.len(), |i| i + 1);
        let (line, rest) = self.rest.split_at(end);
        self.rest = rest;
        self.line += 1;
        let mut line = line.to_string();
        if line.ends_with("\r\n") {
            line.truncate(line.len() - 2);
            line.push('\n');
        } else if !line.ends_with('\n') && line.ends_with('\r') {
            line.pop();
        }
        Some(line)
    }

    /// One record and the parse error that ended it early, if any; `None`
    /// at the end of input. Empty lines are skipped.
    fn record(&mut self, comma: char, lazy: bool) -> Option<(Vec<String>, Option<String>)> {
        let mut line = loop {
            let l = self.next_line()?;
            if l != "\n" {
                break l;
            }
        };
        let start_line = self.line;
        let mut at = 0;
        let mut fields = Vec::new();
        let error = |reader: &Self, column: usize, what: &str| {
            if reader.line == start_line {
                format!("parse error on line {start_line}, column {column}: {what}")
            } else {
                format!(
                    "record on line {start_line}; parse error on line {}, column {column}: {what}",
                    reader.line
                )
            }
        };
        'fields: loop {
            let rest = &line[at..];
            if !rest.starts_with('"') {
                let (field, next) = match rest.find(comma) {
                    Some(i) => (&rest[..i], Some(at + i + comma.len_utf8())),
                    None => (rest.strip_suffix('\n').unwrap_or(rest), None),
                };
                if !lazy && let Some(j) = field.find('"') {
                    return Some((fields, Some(error(self, at + j + 1, BARE_QUOTE))));
                }
                fields.push(field.to_string());
                match next {
                    Some(next) => at = next,
                    None => break 'fields,
                }
                continue;
            }
            at += 1;
            let mut field = String::new();
            loop {
                let rest = &line[at..];
                if let Some(i) = rest.find('"') {
                    field.push_str(&rest[..i]);
                    at += i + 1;
                    let after = &line[at..];
                    if after.starts_with('"') {
                        field.push('"');
                        at += 1;
                    } else if after.starts_with(comma) {
                        at += comma.len_utf8();
                        fields.push(field);
                        continue 'fields;
                    } else if after.is_empty() || after == "\n" {
                        fields.push(field);
                        break 'fields;
                    } else if lazy {
                        field.push('"');
                    } else {
                        // The column of the quote that should have closed.
                        return Some((fields, Some(error(self, at, QUOTE))));
                    }
                } else if !rest.is_empty() {
                    // The quoted field goes on on the next line.
                    field.push_str(rest);
                    match self.next_line() {
                        Some(next) => (line, at) = (next, 0),
                        // The end of input: errors point past the last line.
                        None => at = line.len(),
                    }
                } else {
                    if !lazy {
                        return Some((fields, Some(error(self, at + 1, QUOTE))));
                    }
                    fields.push(field);
                    break 'fields;
                }
            }
        }
        Some((fields, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(s: &str) -> Result<Vec<String>, String> {
        read_row(s, ',', false)
    }

    fn ok(fields: &[&str]) -> Result<Vec<String>, String> {
        Ok(fields.iter().map(|f| f.to_string()).collect())
    }

    #[test]
    fn reads_rows_as_go_s_csv_reader() {
        // Expected fields are what contrib's parseutils.ReadCSVRow returned
        // for the same input (encoding/csv), checked with `go run`.
        assert_eq!(row("a,b,c"), ok(&["a", "b", "c"]));
        assert_eq!(row("a,,c,"), ok(&["a", "", "c", ""]));
        assert_eq!(row(r#""a,1","b ""x""",c"#), ok(&["a,1", r#"b "x""#, "c"]));
        assert_eq!(row("\"multi\nline\",x"), ok(&["multi\nline", "x"]));
        assert_eq!(
            row("aa,b\nb,cc,d\nd,ee"),
            ok(&["aa", "b\nb", "cc", "d\nd", "ee"])
        );
        assert_eq!(row("a,b\r\n"), ok(&["a", "b"]));
        assert_eq!(row("a\n\nb"), ok(&["a\nb"]));
        assert_eq!(read_row("a|b|\"c|d\"", '|', false), ok(&["a", "b", "c|d"]));
        assert_eq!(read_row("a;é;c", ';', false), ok(&["a", "é", "c"]));
        // A bare quote ends the record with the fields read before it.
        assert_eq!(row(r#"a,b"c,d"#), ok(&["a"]));
        assert_eq!(read_row(r#"a,b"c,d"#, ',', true), ok(&["a", "b\"c", "d"]));
        assert_eq!(read_row(r#""a"b",c"#, ',', true), ok(&["a\"b", "c"]));
        assert_eq!(
            row(r#""a"b,c"#),
            Err(r#"read csv line: parse error on line 1, column 3: extraneous or missing " in quoted-field"#.into())
        );
        assert_eq!(
            row(r#"x"y"#),
            Err(
                r#"read csv line: parse error on line 1, column 2: bare " in non-quoted-field"#
                    .into()
            )
        );
        assert_eq!(
            row("\"open\nstill open"),
            Err(r#"read csv line: record on line 1; parse error on line 2, column 11: extraneous or missing " in quoted-field"#.into())
        );
        assert_eq!(row(""), Err("no csv lines found".into()));
    }
}
