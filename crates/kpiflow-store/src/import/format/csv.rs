//! CSV (and TSV): read through the encoding layer ([`super::text`]: UTF-8, or UTF-16 and other
//! encodings decoded on the fly, byte-order mark removed); the header found by the mapping's
//! preamble rules ([`ReadOptions`]: lines skipped, the line holding given column names, comment
//! lines, values captured from the lines above the header); delimiter detected from the header
//! line unless the mapping sets one; quoted fields with delimiters, quotes and newlines; LF or
//! CRLF; footers dropped by pattern; optionally the table ends at the first blank line.
//!
//! Line numbers are the file's own (a header on line 3: the first row is line 4), so messages
//! point at what an editor shows.

use std::io::{BufRead, BufReader, Chain, Cursor, Read};
use std::path::{Path, PathBuf};

use arrow::array::StringBuilder;
use regex::Regex;

use super::text::{TextReader, thousands};
use super::{BATCH_ROWS, ImportFormat, RawBatch, RawReader, ReadOptions, UnreadableRow};
use crate::error::ImportError;

#[derive(Debug)]
pub struct Csv;

const CANDIDATES: &[u8] = b",;\t|";

/// Lines (after `skip_lines`) searched for the header named by [`ReadOptions::header_match`].
pub(super) const HEADER_SEARCH_LINES: usize = 1000;
/// Lines shown in the message when no header is found, each cut to [`SHOWN_CHARS`].
const SHOWN_LINES: usize = 12;
const SHOWN_CHARS: usize = 200;

/// The stream the csv crate parses: the header line (already read while looking for it), then
/// the rest of the file.
type Source = Chain<Cursor<Vec<u8>>, BufReader<TextReader>>;

impl ImportFormat for Csv {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["csv", "tsv", "txt"]
    }

    fn open(&self, path: &Path, options: &ReadOptions) -> Result<Box<dyn RawReader>, ImportError> {
        let io = |source| ImportError::ReadFile { path: path.to_path_buf(), source };
        let file_name = path.display().to_string();
        let text = TextReader::open(path, options)?;
        let encoding = text.encoding();
        let mut input = BufReader::with_capacity(1 << 20, text);

        // Lines ending in CR alone read as one giant line; say so rather than fail on a
        // header of thousands of columns.
        let head = input.fill_buf().map_err(io)?;
        if head.contains(&b'\r') && !head.contains(&b'\n') {
            return Err(ImportError::File {
                file: file_name,
                message: "lines end with CR only (the line ending of old Mac programs), which \
                          this reader does not take; save it with LF or CRLF line endings"
                    .into(),
            });
        }

        // The preamble: every line up to the header.
        let mut preamble = Preamble::new(options);
        let mut line = Vec::new();
        let mut line_no: u64 = 0;
        let mut text_before: u64 = 0;
        loop {
            line.clear();
            let n = input.read_until(b'\n', &mut line).map_err(io)?;
            if n == 0 {
                return Err(preamble.no_header(&file_name, "line"));
            }
            line_no += 1;
            let text = String::from_utf8_lossy(&line);
            let kind = preamble.classify(line_no, &text, || split_line(&text, options.delimiter));
            if kind == LineKind::Header {
                break;
            }
            if preamble.given_up(line_no) {
                return Err(preamble.no_header(&file_name, "line"));
            }
            text_before += n as u64;
        }
        let lines_before = line_no - 1;
        let delimiter = options.delimiter.unwrap_or_else(|| sniff_delimiter(&line));

        let mut reader = ::csv::ReaderBuilder::new()
            .delimiter(delimiter)
            // Records end at `\n`; the `\r` of CRLF is trimmed with the field. (With the default
            // terminator the csv crate reports CRLF records one line early.)
            .terminator(::csv::Terminator::Any(b'\n'))
            .has_headers(true)
            .flexible(true)
            .from_reader(Cursor::new(line).chain(input));
        let header_record = reader.byte_headers().map_err(|e| match e.into_kind() {
            ::csv::ErrorKind::Io(source) => io(source),
            e => ImportError::File {
                file: file_name.clone(),
                message: format!("cannot read the header (line {line_no}): {e:?}"),
            },
        })?;
        let mut header = Vec::with_capacity(header_record.len());
        for (i, field) in header_record.iter().enumerate() {
            let name = std::str::from_utf8(field).map_err(|_| ImportError::File {
                file: file_name.clone(),
                message: format!(
                    "header column {} (line {line_no}) is not valid UTF-8 (the file is read as \
                     {encoding}; set the mapping's `encoding` if it is another)",
                    i + 1
                ),
            })?;
            header.push(name.trim().to_owned());
        }
        if header.iter().all(String::is_empty) {
            return Err(ImportError::File { file: file_name, message: "the file is empty".into() });
        }
        let next_line = reader.position().line() + lines_before;
        Ok(Box::new(CsvReader {
            path: path.to_path_buf(),
            reader,
            header,
            header_line: lines_before + 1,
            preamble_values: preamble.into_values(),
            record: ::csv::ByteRecord::new(),
            bytes: 0,
            done: false,
            lines_before,
            text_before,
            next_line,
            comment: options.comment.clone().filter(|c| !c.is_empty()),
            drop_literals: super::required_literals(&options.drop_rows),
            drop_rows: options.drop_rows.clone(),
            end_at_blank_line: options.end_at_blank_line,
        }))
    }
}

/// The candidate delimiter occurring most often outside quotes in the first line of `head`
/// (`,` on ties or when none occurs).
fn sniff_delimiter(head: &[u8]) -> u8 {
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for &b in head {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                if let Some(i) = CANDIDATES.iter().position(|&c| c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let mut best = 0;
    for i in 1..CANDIDATES.len() {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    CANDIDATES[best]
}

/// One line's CSV fields, trimmed: the delimiter is the mapping's or the line's own.
fn split_line(line: &str, delimiter: Option<u8>) -> Vec<String> {
    let delimiter = delimiter.unwrap_or_else(|| sniff_delimiter(line.as_bytes()));
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    let mut record = ::csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => record.iter().map(|f| f.trim().to_owned()).collect(),
        _ => Vec::new(),
    }
}

/// What a line before the data is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LineKind {
    Preamble,
    Header,
}

/// The rules that find the header among the first lines of a file (or rows of a sheet), and
/// the values captured from the lines above it. Shared by the CSV and workbook readers.
#[derive(Debug)]
pub(super) struct Preamble<'a> {
    options: &'a ReadOptions,
    /// One slot per [`ReadOptions::captures`]: the value of the last line that matched.
    values: Vec<Option<String>>,
    /// The first lines, cut short, for the message when no header is found.
    shown: Vec<(u64, String)>,
}

impl<'a> Preamble<'a> {
    pub(super) fn new(options: &'a ReadOptions) -> Preamble<'a> {
        Preamble { options, values: vec![None; options.captures.len()], shown: Vec::new() }
    }

    /// Whether line (or row) `number` (1-based), whose text is `text`, is the header or still
    /// preamble. `fields` gives its fields, trimmed; it is called only when the header is looked
    /// for by name. A blank line is never the header; a comment line neither.
    pub(super) fn classify(
        &mut self,
        number: u64,
        text: &str,
        fields: impl FnOnce() -> Vec<String>,
    ) -> LineKind {
        let trimmed = text.trim();
        if self.shown.len() < SHOWN_LINES {
            let cut: String = trimmed.chars().take(SHOWN_CHARS).collect();
            let more = if cut.len() < trimmed.len() { " …" } else { "" };
            self.shown.push((number, format!("{cut}{more}")));
        }
        let skipped = number <= self.options.skip_lines as u64;
        let comment = self.options.comment.as_deref().is_some_and(|c| is_comment(trimmed, c));
        let header = !skipped
            && !trimmed.is_empty()
            && !comment
            && (self.options.header_match.is_empty() || {
                let fields = fields();
                self.options.header_match.iter().all(|name| fields.iter().any(|f| f == name))
            });
        if header {
            return LineKind::Header;
        }
        if !trimmed.is_empty() {
            self.capture(trimmed);
        }
        LineKind::Preamble
    }

    fn capture(&mut self, line: &str) {
        for ((_, pattern), slot) in self.options.captures.iter().zip(&mut self.values) {
            if let Some(c) = pattern.captures(line)
                && let Some(m) = c.get(1).or_else(|| c.get(0))
            {
                *slot = Some(m.as_str().trim().to_owned());
            }
        }
    }

    /// Whether the search has gone far enough: [`HEADER_SEARCH_LINES`] lines after the skipped
    /// ones without the named columns.
    pub(super) fn given_up(&self, number: u64) -> bool {
        !self.options.header_match.is_empty()
            && number >= (self.options.skip_lines + HEADER_SEARCH_LINES) as u64
    }

    /// The error when no header was found; `unit` is "line" or "row".
    pub(super) fn no_header(&self, file: &str, unit: &str) -> ImportError {
        let message = if self.options.header_match.is_empty() {
            if self.shown.iter().all(|(_, s)| s.is_empty()) {
                "the file is empty".to_owned()
            } else {
                format!(
                    "no header {unit} found (every {unit} is skipped, blank or a comment); it \
                     starts with:{}",
                    self.shown_text(unit)
                )
            }
        } else {
            let names: Vec<String> =
                self.options.header_match.iter().map(|n| format!("`{n}`")).collect();
            format!(
                "no {unit} holds all of the columns {} (looked at the first {} {unit}s{}); is it \
                 the export the mapping was written for? It starts with:{}",
                names.join(", "),
                thousands((self.options.skip_lines + HEADER_SEARCH_LINES) as u64),
                if self.options.skip_lines > 0 {
                    format!(", the first {} skipped", self.options.skip_lines)
                } else {
                    String::new()
                },
                self.shown_text(unit)
            )
        };
        ImportError::File { file: file.to_owned(), message }
    }

    fn shown_text(&self, unit: &str) -> String {
        if self.shown.is_empty() {
            return " (nothing)".to_owned();
        }
        self.shown.iter().map(|(n, s)| format!("\n  {unit} {n}: {s}")).collect()
    }

    /// The captured values, name → text, in the order of [`ReadOptions::captures`] (names that
    /// matched no line are left out).
    pub(super) fn into_values(self) -> Vec<(String, String)> {
        self.options
            .captures
            .iter()
            .zip(self.values)
            .filter_map(|((name, _), value)| Some((name.clone(), value?)))
            .collect()
    }
}

/// Whether `line` (trimmed at its start) is a comment.
pub(super) fn is_comment(line: &str, comment: &str) -> bool {
    !comment.is_empty() && line.trim_start().starts_with(comment)
}

/// Whether a field of `record` (trimmed, not empty) matches one of `patterns`. `text` is the
/// record's bytes as UTF-8 when they are; fields that are not UTF-8 are not matched.
fn dropped(record: &::csv::ByteRecord, text: Option<&str>, patterns: &[Regex]) -> bool {
    (0..record.len()).any(|i| {
        let field = match text {
            Some(t) => record.range(i).and_then(|r| t.get(r)),
            None => record.get(i).and_then(|f| std::str::from_utf8(f).ok()),
        };
        field.map(trim).is_some_and(|f| !f.is_empty() && patterns.iter().any(|p| p.is_match(f)))
    })
}

/// `s` without surrounding whitespace (Unicode's, as `str::trim`), checking the ends first:
/// most fields start and end with a visible ASCII character and need no scan.
fn trim(s: &str) -> &str {
    let visible = |b: u8| b > b' ' && b < 0x7f;
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&first), Some(&last)) if visible(first) && visible(last) => s,
        _ => s.trim(),
    }
}

struct CsvReader {
    path: PathBuf,
    reader: ::csv::Reader<Source>,
    header: Vec<String>,
    header_line: u64,
    preamble_values: Vec<(String, String)>,
    record: ::csv::ByteRecord,
    bytes: u64,
    done: bool,
    /// Lines before the header, and their length in UTF-8: the csv crate counts from the
    /// header line on.
    lines_before: u64,
    text_before: u64,
    /// The line after the previous record (where the next one starts, blank lines aside).
    next_line: u64,
    comment: Option<String>,
    drop_rows: Vec<Regex>,
    /// Texts one of which every match of `drop_rows` contains (`None`: no such set).
    drop_literals: Option<Vec<String>>,
    end_at_blank_line: bool,
}

impl CsvReader {
    fn text(&self) -> &TextReader {
        self.reader.get_ref().get_ref().1.get_ref()
    }

    /// The line a record starts on, and the line it would start on right after the previous
    /// record (more when blank lines came between). The csv crate reports a record's start
    /// before the blank lines it skips, so count back from where the record ends instead: the
    /// reader's line after the record, less its terminator, less the newlines inside its quoted
    /// fields. (Usually a record is one line right after the previous one, and no byte is
    /// scanned.)
    fn start_line(&mut self) -> (u64, u64) {
        let end = self.reader.position();
        let end_line = end.line() + self.lines_before;
        let text = self.text();
        let at_end = text.text_len_at_end().is_some_and(|len| end.byte() + self.text_before >= len);
        let terminated = u64::from(!at_end || text.ends_with_newline());
        let previous_end = std::mem::replace(&mut self.next_line, end_line);
        if end_line == previous_end + terminated {
            return (previous_end, previous_end);
        }
        let inside: u64 =
            self.record.iter().map(|f| f.iter().filter(|b| **b == b'\n').count() as u64).sum();
        (end_line.saturating_sub(terminated).saturating_sub(inside), previous_end)
    }
}

impl RawReader for CsvReader {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn header_line(&self) -> u64 {
        self.header_line
    }

    fn preamble_values(&self) -> &[(String, String)] {
        &self.preamble_values
    }

    fn bytes_read(&self) -> u64 {
        self.bytes
    }

    fn next_batch(&mut self) -> Result<Option<RawBatch>, ImportError> {
        if self.done {
            return Ok(None);
        }
        let width = self.header.len();
        let mut builders: Vec<StringBuilder> =
            (0..width).map(|_| StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 8)).collect();
        let mut lines = Vec::with_capacity(BATCH_ROWS);
        let mut unreadable = Vec::new();
        let mut dropped_rows = 0;
        while lines.len() < BATCH_ROWS {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => {
                    self.done = true;
                    break;
                }
                Ok(true) => {}
                Err(e) => {
                    // A malformed record: the csv crate resynchronises at the next line.
                    let line = e.position().map_or(0, |p| p.line() + self.lines_before);
                    if let ::csv::ErrorKind::Io(source) = e.into_kind() {
                        return Err(ImportError::ReadFile { path: self.path.clone(), source });
                    }
                    unreadable.push(UnreadableRow {
                        line,
                        raw: Vec::new(),
                        reason: "malformed CSV record".into(),
                    });
                    continue;
                }
            }
            let (line, expected) = self.start_line();
            let blank = self.record.len() == 1 && self.record[0].trim_ascii().is_empty();
            if self.end_at_blank_line && (blank || line > expected) {
                // A blank line (the csv crate skips empty ones: a gap in the line numbers)
                // ends the table; this record belongs to whatever follows.
                self.done = true;
                break;
            }
            if blank && width > 1 {
                continue; // a blank line (or a lone `\r`)
            }
            if let Some(c) = &self.comment
                && self
                    .record
                    .get(0)
                    .is_some_and(|f| f.trim_ascii_start().starts_with(c.as_bytes()))
            {
                continue;
            }
            // The record's bytes are checked as UTF-8 in one pass; each field is then a slice
            // of that text, which must start and end on character boundaries (a field cut
            // inside a character is as invalid as one with bad bytes).
            let text = std::str::from_utf8(self.record.as_slice()).ok();
            // A record holding none of the texts every match needs cannot be dropped: one
            // search over the record instead of every pattern on every field.
            let may_drop = !self.drop_rows.is_empty()
                && match (&self.drop_literals, text) {
                    (Some(lits), Some(t)) => lits.iter().any(|l| t.contains(l.as_str())),
                    _ => true,
                };
            if may_drop && dropped(&self.record, text, &self.drop_rows) {
                dropped_rows += 1;
                continue;
            }
            let lossy = |record: &::csv::ByteRecord| -> Vec<String> {
                record.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect()
            };
            if self.record.len() != width {
                unreadable.push(UnreadableRow {
                    line,
                    raw: lossy(&self.record),
                    reason: format!("has {} fields, the header has {width}", self.record.len()),
                });
                continue;
            }
            let field = |i: usize| -> Option<&str> {
                text.and_then(|t| self.record.range(i).and_then(|r| t.get(r)))
            };
            let bad_column = match text {
                Some(_) => (0..width).find(|&i| field(i).is_none()),
                // Bad bytes: the first field holding some (concatenated valid fields are
                // valid, so one field is bad).
                None => Some(
                    self.record.iter().position(|f| std::str::from_utf8(f).is_err()).unwrap_or(0),
                ),
            };
            if let Some(i) = bad_column {
                unreadable.push(UnreadableRow {
                    line,
                    raw: lossy(&self.record),
                    reason: format!("column `{}` is not valid UTF-8", self.header[i]),
                });
                continue;
            }
            for (i, b) in builders.iter_mut().enumerate() {
                let s = field(i).map(trim).unwrap_or_default();
                if s.is_empty() { b.append_null() } else { b.append_value(s) }
            }
            lines.push(line);
        }
        // Progress: the file consumed so far; all of it at the end (a table that ends at a
        // blank line leaves the rest unread, but done).
        let bytes = if self.done { self.text().file_len() } else { self.text().source_bytes() };
        self.bytes = bytes;
        if lines.is_empty() && unreadable.is_empty() && dropped_rows == 0 {
            return Ok(None);
        }
        Ok(Some(RawBatch {
            columns: builders.iter_mut().map(StringBuilder::finish).collect(),
            lines,
            unreadable,
            dropped: dropped_rows,
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use arrow::array::Array;
    use std::io::Write;

    fn write(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    struct Got {
        header: Vec<String>,
        header_line: u64,
        values: Vec<(String, String)>,
        batches: Vec<RawBatch>,
    }

    impl Got {
        fn lines(&self) -> Vec<u64> {
            self.batches.iter().flat_map(|b| b.lines.iter().copied()).collect()
        }
        fn dropped(&self) -> u64 {
            self.batches.iter().map(|b| b.dropped).sum()
        }
        fn unreadable(&self) -> Vec<u64> {
            self.batches.iter().flat_map(|b| b.unreadable.iter().map(|u| u.line)).collect()
        }
        /// Column `i` of every row, null as `None`.
        fn column(&self, i: usize) -> Vec<Option<String>> {
            self.batches
                .iter()
                .flat_map(|b| {
                    let c = &b.columns[i];
                    (0..c.len()).map(|r| (!c.is_null(r)).then(|| c.value(r).to_owned()))
                })
                .collect()
        }
    }

    fn read_with(bytes: &[u8], options: &ReadOptions) -> Result<Got, ImportError> {
        let f = write(bytes);
        let mut r = Csv.open(f.path(), options)?;
        let mut batches = Vec::new();
        while let Some(b) = r.next_batch()? {
            batches.push(b);
        }
        assert_eq!(r.bytes_read(), bytes.len() as u64);
        Ok(Got {
            header: r.header().to_vec(),
            header_line: r.header_line(),
            values: r.preamble_values().to_vec(),
            batches,
        })
    }

    fn read_all(bytes: &[u8]) -> (Vec<String>, Vec<RawBatch>) {
        let r = read_with(bytes, &ReadOptions::default()).unwrap();
        (r.header, r.batches)
    }

    fn utf16le(s: &str) -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    fn re(p: &str) -> Regex {
        Regex::new(p).unwrap()
    }

    #[test]
    fn bom_crlf_quotes_and_newlines() {
        let (header, batches) =
            read_all(b"\xEF\xBB\xBFad_id,name\r\n1,\"a, \"\"b\"\"\r\nc\"\r\n2,\r\n\r\n");
        assert_eq!(header, ["ad_id", "name"]);
        let b = &batches[0];
        assert_eq!(b.columns[1].value(0), "a, \"b\"\r\nc");
        assert_eq!(b.columns[0].value(1), "2");
        assert!(b.columns[1].is_null(1));
        assert_eq!(b.lines, [2, 4]);
    }

    #[test]
    fn semicolons_and_tabs_are_detected() {
        assert_eq!(sniff_delimiter(b"path;total_conversions;value\n"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\tc\n"), b'\t');
        assert_eq!(sniff_delimiter(b"\"a;b\",c,d\n"), b',');
        assert_eq!(sniff_delimiter(b"single\n"), b',');
    }

    #[test]
    fn lines_count_blank_lines() {
        let (_, batches) = read_all(b"a,b\n1,2\n\n3,4\n\n\n5,\"x\ny\"\n6,7");
        assert_eq!(batches[0].lines, [2, 4, 7, 9]);
        let (_, batches) = read_all(b"a,b\n1,2\n\n3,4");
        assert_eq!(batches[0].lines, [2, 4]);
    }

    #[test]
    fn bad_utf8_names_its_column_and_whitespace_is_trimmed() {
        // A no-break space and a tab around `é x`; `\xFF` is no UTF-8; line 4 holds `é`
        // (`\xC3\xA9`) split across two fields.
        let (_, batches) =
            read_all(b"a,b,c\n1,\xC2\xA0\xC3\xA9 x\t, z\n2,ok,\xFF\n3,\xC3,\xA9\n4,y,\xC3\xA9\n");
        let b = &batches[0];
        let col = |i: usize| -> Vec<Option<&str>> {
            (0..b.columns[i].len())
                .map(|r| (!b.columns[i].is_null(r)).then(|| b.columns[i].value(r)))
                .collect()
        };
        assert_eq!(b.lines, [2, 5]);
        assert_eq!(col(1), [Some("é x"), Some("y")]);
        assert_eq!(col(2), [Some("z"), Some("é")]);
        let reasons: Vec<(u64, &str)> =
            b.unreadable.iter().map(|u| (u.line, u.reason.as_str())).collect();
        assert_eq!(
            reasons,
            [(3, "column `c` is not valid UTF-8"), (4, "column `b` is not valid UTF-8")]
        );
    }

    #[test]
    fn ragged_rows_are_unreadable_not_fatal() {
        let (_, batches) = read_all(b"a,b\n1,2\n3\n4,5\n");
        let b = &batches[0];
        assert_eq!(b.lines, [2, 4]);
        assert_eq!(b.unreadable.len(), 1);
        assert_eq!(b.unreadable[0].line, 3);
    }

    #[test]
    fn an_empty_file_is_an_error() {
        for bytes in [&b""[..], b"\n\n", b"\xEF\xBB\xBF", b" , \n"] {
            let e = read_with(bytes, &ReadOptions::default()).err().unwrap();
            assert!(e.to_string().contains("the file is empty"), "{e}");
        }
    }

    #[test]
    fn google_ads_excel_csv_utf16_tabs_title_lines_and_totals() {
        let text = "Campaign performance report\r\n\
                    July 8, 2025 - July 31, 2025\r\n\
                    Campaign\tCampaign type\tClicks\tImpr.\tCurrency code\tCost\r\n\
                    Brand – EU\tSearch\t\"9,380\"\t120000\tEUR\t1234.50\r\n\
                    Généric\tDisplay\t --\t5\tEUR\t0.00\r\n\
                    Total: Account\t\t\"9,380\"\t120005\tEUR\t1234.50\r\n\
                    Total: Search\t\t\"9,380\"\t120000\tEUR\t1234.50\r\n";
        let options = ReadOptions {
            header_match: vec!["Campaign".into(), "Clicks".into()],
            captures: vec![(
                "date_range".into(),
                re(r"^(\w+ \d{1,2}, \d{4} - \w+ \d{1,2}, \d{4})$"),
            )],
            drop_rows: vec![re(r"^Total: ")],
            ..Default::default()
        };
        let r = read_with(&utf16le(text), &options).unwrap();
        assert_eq!(
            r.header,
            ["Campaign", "Campaign type", "Clicks", "Impr.", "Currency code", "Cost"]
        );
        assert_eq!(r.header_line, 3);
        assert_eq!(
            r.values,
            [("date_range".to_owned(), "July 8, 2025 - July 31, 2025".to_owned())]
        );
        assert_eq!(r.lines(), [4, 5]);
        assert_eq!(r.dropped(), 2);
        assert!(r.unreadable().is_empty());
        assert_eq!(r.column(0), [Some("Brand – EU".to_owned()), Some("Généric".to_owned())]);
        assert_eq!(r.column(2), [Some("9,380".to_owned()), Some("--".to_owned())]);
        // The same with the title lines skipped by count.
        let options =
            ReadOptions { skip_lines: 2, drop_rows: vec![re(r"^Total: ")], ..Default::default() };
        let r = read_with(&utf16le(text), &options).unwrap();
        assert_eq!((r.header_line, r.lines()), (3, vec![4, 5]));
    }

    #[test]
    fn salesforce_report_every_field_quoted_and_a_footer() {
        let text = "\"Opportunity Name\",\"Stage\",\"Amount\",\"Close Date\"\n\
                    \"Acme - 200 seats\",\"Closed Won\",\"USD 12,000.00\",\"3/31/2026\"\n\
                    \"Globex\",\"Prospecting\",\"USD 800.00\",\"4/15/2026\"\n\
                    \n\
                    \"Grand Totals (2 records)\"\n\
                    \"Confidential Information - Do Not Distribute\"\n\
                    \"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved.\"\n";
        let options = ReadOptions {
            drop_rows: vec![
                re(r"^Grand Totals \(\d+ records?\)$"),
                re(r"^Confidential Information"),
                re(r"^Copyright \(c\) \d{4}-\d{4} salesforce\.com"),
            ],
            ..Default::default()
        };
        let r = read_with(text.as_bytes(), &options).unwrap();
        assert_eq!(r.header, ["Opportunity Name", "Stage", "Amount", "Close Date"]);
        assert_eq!(r.lines(), [2, 3]);
        assert_eq!(r.dropped(), 3);
        assert!(r.unreadable().is_empty());
        assert_eq!(r.column(2), [Some("USD 12,000.00".to_owned()), Some("USD 800.00".to_owned())]);
        // Without the patterns the one-field footers are unreadable rows (as before).
        let r = read_with(text.as_bytes(), &ReadOptions::default()).unwrap();
        assert_eq!(r.unreadable(), [5, 6, 7]);
    }

    #[test]
    fn microsoft_advertising_metadata_lines_and_copyright() {
        let text = "\u{feff}\"Report Name: Campaign performance\"\r\n\
                    \"Report Time: 1/1/2026 - 1/31/2026\"\r\n\
                    \"Time Zone: (GMT-08:00) Pacific Time (US & Canada); Tijuana\"\r\n\
                    \"Last Completed Available Day: 2/1/2026 10:15:00 AM (GMT)\"\r\n\
                    \"Last Completed Available Hour: 2/1/2026 10:00:00 AM (GMT)\"\r\n\
                    \"Report Aggregation: Daily\"\r\n\
                    \"Report Filter: \"\r\n\
                    \"Potential Incomplete Data: false\"\r\n\
                    \"Rows: 2\"\r\n\
                    \r\n\
                    \"TimePeriod\",\"CampaignName\",\"Impressions\",\"Clicks\",\"Spend\"\r\n\
                    \"2026-01-01\",\"Brand\",\"1000\",\"40\",\"12.34\"\r\n\
                    \"2026-01-02\",\"Brand\",\"900\",\"35\",\"11.00\"\r\n\
                    \r\n\
                    \"©2026 Microsoft Corporation. All rights reserved. \"\r\n";
        let options = ReadOptions {
            header_match: vec!["TimePeriod".into(), "Impressions".into()],
            captures: vec![
                ("period".into(), re(r#"^"Report Time: ([^"]*)"$"#)),
                ("rows".into(), re(r#"^"Rows: (\d+)"$"#)),
                ("missing".into(), re(r"^Nothing: (.*)$")),
            ],
            drop_rows: vec![re(r"^©\d{4} Microsoft Corporation")],
            ..Default::default()
        };
        let r = read_with(text.as_bytes(), &options).unwrap();
        assert_eq!(r.header, ["TimePeriod", "CampaignName", "Impressions", "Clicks", "Spend"]);
        assert_eq!(r.header_line, 11);
        assert_eq!(
            r.values,
            [
                ("period".to_owned(), "1/1/2026 - 1/31/2026".to_owned()),
                ("rows".to_owned(), "2".to_owned())
            ]
        );
        assert_eq!(r.lines(), [12, 13]);
        assert_eq!(r.dropped(), 1);
        assert!(r.unreadable().is_empty());
    }

    #[test]
    fn ga4_comment_blocks_and_tables_ending_at_a_blank_line() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/datasets/vendor-exports/ga4/Reports_snapshot.csv"
        );
        let bytes = std::fs::read(path).unwrap();
        let options = ReadOptions {
            comment: Some("#".into()),
            captures: vec![
                ("start".into(), re(r"^# Start date: (\d{8})$")),
                ("end".into(), re(r"^# End date: (\d{8})$")),
            ],
            end_at_blank_line: true,
            ..Default::default()
        };
        let r = read_with(&bytes, &options).unwrap();
        assert_eq!(
            r.header,
            ["Active users", "New users", "Average engagement time per active user", "Event count"]
        );
        assert_eq!(r.header_line, 9);
        assert_eq!(
            r.values,
            [
                ("start".to_owned(), "20251203".to_owned()),
                ("end".to_owned(), "20260302".to_owned())
            ]
        );
        assert_eq!(r.lines(), [10]);
        assert_eq!(r.column(0), [Some("1291".to_owned())]);
        // The second table, found by its columns: the first block's lines are preamble.
        let options = ReadOptions {
            header_match: vec!["Page title and screen class".into(), "Views".into()],
            ..options
        };
        let r = read_with(&bytes, &options).unwrap();
        assert_eq!(r.header_line, 15);
        assert_eq!(r.header[1], "Views");
        let lines = r.lines();
        assert_eq!(lines.first(), Some(&16));
        assert!(lines.len() > 10 && lines.windows(2).all(|w| w[1] == w[0] + 1), "{lines:?}");
        assert!(r.unreadable().is_empty());
        // Comment lines among rows are skipped too.
        let r = read_with(
            b"# title\na,b\n1,2\n# note, with a comma\n3,4\n",
            &ReadOptions { comment: Some("#".into()), ..Default::default() },
        )
        .unwrap();
        assert_eq!((r.header_line, r.lines()), (2, vec![3, 5]));
    }

    #[test]
    fn a_missing_header_names_the_columns_and_shows_the_start() {
        let options = ReadOptions {
            header_match: vec!["Campaign".into(), "Clicks".into()],
            ..Default::default()
        };
        let long = "x".repeat(500);
        let text = format!("Report\n{long}\nCampaign,Impressions\n1,2\n");
        let e = read_with(text.as_bytes(), &options).err().unwrap().to_string();
        assert!(e.contains("no line holds all of the columns `Campaign`, `Clicks`"), "{e}");
        assert!(e.contains("line 1: Report"), "{e}");
        assert!(e.contains("line 3: Campaign,Impressions"), "{e}");
        assert!(e.contains(&format!("line 2: {} …", "x".repeat(200))), "{e}");
        // Given up after 1,000 lines.
        let text = "a,b\n".repeat(5000);
        let e = read_with(text.as_bytes(), &options).err().unwrap().to_string();
        assert!(e.contains("looked at the first 1,000 lines"), "{e}");
    }

    #[test]
    fn a_header_with_a_quoted_newline_and_a_header_on_a_later_line() {
        let r = read_with(b"\"a\nb\",c\n1,2\n", &ReadOptions::default()).unwrap();
        assert_eq!(
            (r.header.clone(), r.lines()),
            (vec!["a\nb".to_owned(), "c".to_owned()], vec![3])
        );
        // The delimiter comes from the header line, not line 1.
        let options = ReadOptions { skip_lines: 1, ..Default::default() };
        let r = read_with(b"Exported, on 2026-01-01, by me\na;b\n1,5;2\n", &options).unwrap();
        assert_eq!(r.header, ["a", "b"]);
        assert_eq!(r.column(0), [Some("1,5".to_owned())]);
    }

    #[test]
    fn cr_only_line_endings_are_a_clear_error() {
        let e = read_with(b"a,b\r1,2\r3,4\r", &ReadOptions::default()).err().unwrap().to_string();
        assert!(e.contains("lines end with CR only"), "{e}");
        assert!(e.contains("save it with LF or CRLF line endings"), "{e}");
    }

    #[test]
    fn windows_1252_by_the_mapping_and_malformed_utf16_is_an_error() {
        let options =
            ReadOptions { encoding: Some(encoding_rs::WINDOWS_1252), ..Default::default() };
        let r = read_with(b"name,city\nJos\xE9,K\xF6ln\n", &options).unwrap();
        assert_eq!(r.column(1), [Some("Köln".to_owned())]);
        let mut bytes = utf16le("a\tb\n1\t2\n");
        bytes.extend([0x00, 0xDC, b'\n', 0]);
        let f = write(&bytes);
        // Found when the text is decoded: at the open for a small file, else while reading.
        let e = Csv
            .open(f.path(), &ReadOptions::default())
            .and_then(|mut r| {
                while r.next_batch()?.is_some() {}
                Ok(())
            })
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("byte 18 is not valid UTF-16LE"), "{e}");
        assert!(e.contains(&f.path().display().to_string()), "{e}");
    }

    #[test]
    fn utf16_reads_at_a_good_fraction_of_the_utf8_speed() {
        // 200,000 rows of a Google Ads-like report (the 1 M-row case is the same per row).
        let mut text = String::from(
            "Report\nJuly 8, 2025 - July 31, 2025\nDay\tCampaign\tClicks\tImpr.\tCost\n",
        );
        for i in 0..200_000 {
            text.push_str(&format!(
                "2025-07-{:02}\tCampaign {i}\t{}\t{}\t{}.{:02}\n",
                i % 28 + 1,
                i % 97,
                i % 1013,
                i % 500,
                i % 100
            ));
        }
        let options =
            ReadOptions { skip_lines: 2, drop_rows: vec![re(r"^Total: ")], ..Default::default() };
        let time = |bytes: &[u8]| {
            let f = write(bytes);
            let mut best = f64::MAX;
            for _ in 0..3 {
                let start = std::time::Instant::now();
                let mut r = Csv.open(f.path(), &options).unwrap();
                let mut rows = 0;
                while let Some(b) = r.next_batch().unwrap() {
                    rows += b.lines.len();
                }
                assert_eq!(rows, 200_000);
                best = best.min(start.elapsed().as_secs_f64());
            }
            best
        };
        let utf8 = time(text.as_bytes());
        let utf16 = time(&utf16le(&text));
        eprintln!("UTF-8 {utf8:.3}s, UTF-16LE {utf16:.3}s ({:.0} %)", 100.0 * utf8 / utf16);
        assert!(utf8 / utf16 >= 0.6, "UTF-8 {utf8:.3}s, UTF-16LE {utf16:.3}s");
    }
}
