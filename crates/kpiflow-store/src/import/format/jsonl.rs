//! JSON lines: one JSON object per line. The header is every key seen anywhere in the file (a
//! first pass reads the keys; columns are matched by name, so their order does not matter). Strings are taken as they are, numbers and
//! booleans as their JSON text, `null` as no value, nested arrays and objects as JSON text.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use arrow::array::StringBuilder;
use serde_json::Value;

use super::{BATCH_ROWS, ImportFormat, RawBatch, RawReader, ReadOptions, UnreadableRow};
use crate::error::ImportError;

#[derive(Debug)]
pub struct JsonLines;

impl ImportFormat for JsonLines {
    fn name(&self) -> &'static str {
        "jsonl"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["jsonl", "ndjson", "json"]
    }

    fn open(&self, path: &Path, _options: &ReadOptions) -> Result<Box<dyn RawReader>, ImportError> {
        let io = |source| ImportError::ReadFile { path: path.to_path_buf(), source };
        // First pass: every key of every object.
        let mut header: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for line in BufReader::new(File::open(path).map_err(io)?).split(b'\n') {
            let line = line.map_err(io)?;
            let Ok(line) = std::str::from_utf8(&line) else { continue };
            if let Ok(Value::Object(obj)) =
                serde_json::from_str::<Value>(line.trim().trim_start_matches('\u{feff}'))
            {
                for k in obj.keys() {
                    if seen.insert(k.clone()) {
                        header.push(k.clone());
                    }
                }
            }
        }
        if header.is_empty() {
            return Err(ImportError::File {
                file: path.display().to_string(),
                message: "no JSON object found (expected one object per line)".into(),
            });
        }
        Ok(Box::new(JsonReader {
            path: path.to_path_buf(),
            lines: BufReader::with_capacity(1 << 20, File::open(path).map_err(io)?),
            header,
            line_no: 0,
            bytes: 0,
            buf: Vec::new(),
        }))
    }
}

struct JsonReader {
    path: PathBuf,
    lines: BufReader<File>,
    header: Vec<String>,
    line_no: u64,
    bytes: u64,
    buf: Vec<u8>,
}

impl RawReader for JsonReader {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn bytes_read(&self) -> u64 {
        self.bytes
    }

    fn next_batch(&mut self) -> Result<Option<RawBatch>, ImportError> {
        let width = self.header.len();
        let mut builders: Vec<StringBuilder> = (0..width).map(|_| StringBuilder::new()).collect();
        let mut lines = Vec::new();
        let mut unreadable = Vec::new();
        while lines.len() < BATCH_ROWS {
            self.buf.clear();
            let n = self
                .lines
                .read_until(b'\n', &mut self.buf)
                .map_err(|source| ImportError::ReadFile { path: self.path.clone(), source })?;
            if n == 0 {
                break;
            }
            self.bytes += n as u64;
            self.line_no += 1;
            let Ok(text) = std::str::from_utf8(&self.buf) else {
                unreadable.push(UnreadableRow {
                    line: self.line_no,
                    raw: vec![String::from_utf8_lossy(&self.buf).trim().to_owned()],
                    reason: "is not valid UTF-8".into(),
                });
                continue;
            };
            let text = text.trim().trim_start_matches('\u{feff}');
            if text.is_empty() {
                continue;
            }
            let obj = match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(obj)) => obj,
                Ok(_) => {
                    unreadable.push(UnreadableRow {
                        line: self.line_no,
                        raw: vec![text.to_owned()],
                        reason: "is not a JSON object".into(),
                    });
                    continue;
                }
                Err(e) => {
                    unreadable.push(UnreadableRow {
                        line: self.line_no,
                        raw: vec![text.to_owned()],
                        reason: format!("is not valid JSON: {e}"),
                    });
                    continue;
                }
            };
            for (name, b) in self.header.iter().zip(builders.iter_mut()) {
                match obj.get(name) {
                    None | Some(Value::Null) => b.append_null(),
                    Some(Value::String(s)) if s.trim().is_empty() => b.append_null(),
                    Some(Value::String(s)) => b.append_value(s.trim()),
                    Some(other) => b.append_value(other.to_string()),
                }
            }
            lines.push(self.line_no);
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

    #[test]
    fn keys_values_and_bad_lines() {
        let mut f = tempfile::Builder::new().suffix(".jsonl").tempfile().unwrap();
        f.write_all(b"{\"a\": 1, \"b\": \"x\"}\n\n[1]\n{\"c\": true, \"a\": null}\nnot json\n")
            .unwrap();
        let mut r = JsonLines.open(f.path(), &ReadOptions::default()).unwrap();
        assert_eq!(r.header(), ["a", "b", "c"]);
        let b = r.next_batch().unwrap().unwrap();
        assert_eq!(b.lines, [1, 4]);
        assert_eq!(b.columns[0].value(0), "1");
        assert!(b.columns[0].is_null(1));
        assert_eq!(b.columns[2].value(1), "true");
        assert_eq!(b.unreadable.iter().map(|u| u.line).collect::<Vec<_>>(), [3, 5]);
        assert!(r.next_batch().unwrap().is_none());
    }

    #[test]
    fn invalid_utf8_is_an_unreadable_row() {
        let mut f = tempfile::Builder::new().suffix(".jsonl").tempfile().unwrap();
        f.write_all(b"{\"a\": 1}\n{\"a\": \"\xff\"}\n{\"a\": 3}\n").unwrap();
        let mut r = JsonLines.open(f.path(), &ReadOptions::default()).unwrap();
        let b = r.next_batch().unwrap().unwrap();
        assert_eq!(b.lines, [1, 3]);
        assert_eq!(b.unreadable[0].line, 2);
        assert!(b.unreadable[0].reason.contains("UTF-8"));
    }
}
