//! CSV (and TSV): delimiter detected from the header line unless the mapping sets one, UTF-8
//! byte-order mark removed, quoted fields with delimiters, quotes and newlines, LF or CRLF.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use arrow::array::StringBuilder;

use super::{BATCH_ROWS, ImportFormat, RawBatch, RawReader, ReadOptions, UnreadableRow};
use crate::error::ImportError;

#[derive(Debug)]
pub struct Csv;

const BOM: &[u8] = b"\xEF\xBB\xBF";
const CANDIDATES: &[u8] = b",;\t|";

impl ImportFormat for Csv {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["csv", "tsv", "txt"]
    }

    fn open(&self, path: &Path, options: &ReadOptions) -> Result<Box<dyn RawReader>, ImportError> {
        let io = |source| ImportError::ReadFile { path: path.to_path_buf(), source };
        let mut file = File::open(path).map_err(io)?;
        let mut head = vec![0u8; 64 * 1024];
        let n = read_up_to(&mut file, &mut head).map_err(io)?;
        head.truncate(n);
        let skip = if head.starts_with(BOM) { BOM.len() } else { 0 };
        let delimiter = options.delimiter.unwrap_or_else(|| sniff_delimiter(&head[skip..]));
        let file_len = file.metadata().map_err(io)?.len();
        file.seek(SeekFrom::End(-1)).map_err(io).ok();
        let mut last = [0u8; 1];
        let ends_with_newline =
            file_len == 0 || (file.read(&mut last).map_err(io)? == 1 && last[0] == b'\n');
        file.seek(SeekFrom::Start(skip as u64)).map_err(io)?;

        let mut reader = ::csv::ReaderBuilder::new()
            .delimiter(delimiter)
            // Records end at `\n`; the `\r` of CRLF is trimmed with the field. (With the default
            // terminator the csv crate reports CRLF records one line early.)
            .terminator(::csv::Terminator::Any(b'\n'))
            .has_headers(true)
            .flexible(true)
            .from_reader(BufReader::with_capacity(1 << 20, file));
        let file_name = path.display().to_string();
        let header_record = reader.byte_headers().map_err(|e| ImportError::File {
            file: file_name.clone(),
            message: format!("cannot read the header line: {e}"),
        })?;
        let mut header = Vec::with_capacity(header_record.len());
        for (i, field) in header_record.iter().enumerate() {
            let name = std::str::from_utf8(field).map_err(|_| ImportError::File {
                file: file_name.clone(),
                message: format!("header column {} is not valid UTF-8", i + 1),
            })?;
            header.push(name.trim().to_owned());
        }
        let next_line = reader.position().line();
        if header.iter().all(String::is_empty) {
            return Err(ImportError::File { file: file_name, message: "the file is empty".into() });
        }
        Ok(Box::new(CsvReader {
            path: path.to_path_buf(),
            reader,
            header,
            record: ::csv::ByteRecord::new(),
            bytes: skip as u64,
            done: false,
            skip: skip as u64,
            file_len,
            ends_with_newline,
            next_line,
        }))
    }
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The candidate delimiter occurring most often outside quotes in the first line (`,` on ties
/// or when none occurs).
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
    reader: ::csv::Reader<BufReader<File>>,
    header: Vec<String>,
    record: ::csv::ByteRecord,
    bytes: u64,
    done: bool,
    /// Bytes skipped at the start (the BOM), the file's length, and whether it ends with `\n`:
    /// to place records by their end (see `start_line`).
    skip: u64,
    file_len: u64,
    ends_with_newline: bool,
    /// The line after the previous record (where the next one starts, blank lines aside).
    next_line: u64,
}

impl CsvReader {
    /// The line a record starts on. The csv crate reports a record's start before the blank
    /// lines it skips, so count back from where the record ends instead: the reader's line after
    /// the record, less its terminator, less the newlines inside its quoted fields.
    /// (Usually a record is one line right after the previous one, and no byte is scanned.)
    fn start_line(&mut self) -> u64 {
        let end = self.reader.position();
        let at_eof = end.byte() + self.skip >= self.file_len;
        let terminated = u64::from(!at_eof || self.ends_with_newline);
        let previous_end = std::mem::replace(&mut self.next_line, end.line());
        if end.line() == previous_end + terminated {
            return previous_end;
        }
        let inside: u64 =
            self.record.iter().map(|f| f.iter().filter(|b| **b == b'\n').count() as u64).sum();
        end.line().saturating_sub(terminated).saturating_sub(inside)
    }
}

impl RawReader for CsvReader {
    fn header(&self) -> &[String] {
        &self.header
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
        while lines.len() < BATCH_ROWS {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => {
                    self.done = true;
                    break;
                }
                Ok(true) => {}
                Err(e) => {
                    // A malformed record: the csv crate resynchronises at the next line.
                    let line = e.position().map_or(0, |p| p.line());
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
            self.bytes = self.reader.position().byte() + self.skip;
            let line = self.start_line();
            if self.record.len() == 1 && self.record[0].trim_ascii().is_empty() && width > 1 {
                continue; // a blank line (or a lone `\r`)
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
            // The record's bytes are checked as UTF-8 in one pass; each field is then a slice
            // of that text, which must start and end on character boundaries (a field cut
            // inside a character is as invalid as one with bad bytes).
            let text = std::str::from_utf8(self.record.as_slice()).ok();
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
        if self.done {
            self.bytes = self.reader.position().byte();
        }
        if lines.is_empty() && unreadable.is_empty() {
            return Ok(None);
        }
        Ok(Some(RawBatch {
            columns: builders.iter_mut().map(StringBuilder::finish).collect(),
            lines,
            unreadable,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Array;
    use std::io::Write;

    fn read_all(bytes: &[u8]) -> (Vec<String>, Vec<RawBatch>) {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        f.write_all(bytes).unwrap();
        let mut r = Csv.open(f.path(), &ReadOptions::default()).unwrap();
        let header = r.header().to_vec();
        let mut batches = Vec::new();
        while let Some(b) = r.next_batch().unwrap() {
            batches.push(b);
        }
        (header, batches)
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
}
