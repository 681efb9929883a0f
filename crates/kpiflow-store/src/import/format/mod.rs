//! Import formats: each reads one file into [`RawBatch`]es of text values with their source
//! positions. One file per format, listed once in [`FORMATS`].
//!
//! Formats only read; mapping, typing and validation happen once, for every format alike, in
//! `convert`. A row a format cannot read at all (a CSV row with the wrong number of fields,
//! invalid UTF-8, a JSON line that is not an object) is handed on as an unreadable row, which the
//! import rejects like any other bad row.

mod csv;
pub mod jsonl;
mod parquet;
pub mod text;
mod xlsx;

use std::path::Path;

use arrow::array::StringArray;

use crate::error::ImportError;

pub use self::csv::Csv;
pub use self::jsonl::{JsonLines, JsonProbe, JsonStream, probe as probe_json_lines};
pub use self::parquet::Parquet;
pub use self::text::{TextReader, head_text};
pub use self::xlsx::Xlsx;

/// Test helpers other modules' tests use: writing a workbook (calamine only reads).
#[cfg(test)]
#[allow(unused_imports)]
pub(crate) use self::xlsx::testing;

/// Rows per batch handed from a reader to the converter.
pub const BATCH_ROWS: usize = 65_536;

/// Every import format, in the order `--format` help lists them.
pub static FORMATS: &[&dyn ImportFormat] = &[&Csv, &JsonLines, &Parquet, &Xlsx];

/// A file format the importer reads.
pub trait ImportFormat: Sync + std::fmt::Debug {
    /// The name used by `--format`.
    fn name(&self) -> &'static str;
    /// File name endings (lower-case, without the dot) that select this format.
    fn extensions(&self) -> &'static [&'static str];
    /// Opens `path` for reading. `delimiter` is the mapping's CSV delimiter, if any.
    fn open(&self, path: &Path, options: &ReadOptions) -> Result<Box<dyn RawReader>, ImportError>;
}

/// Reader settings that come from the mapping (or a preset): how to find the header and the rows
/// in what a vendor's tool writes. The default reads a plain file: UTF-8 (or the encoding its
/// byte-order mark names), header on the first line, every later line a row.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// CSV delimiter; `None`: detected from the header line.
    pub delimiter: Option<u8>,
    /// Text encoding when the file has no byte-order mark (a BOM of UTF-8, UTF-16LE or UTF-16BE
    /// always wins); `None`: UTF-8, or UTF-16 when the bytes plainly are (every other byte NUL).
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// Lines (text formats) or rows (workbooks) before the header, skipped.
    pub skip_lines: usize,
    /// When not empty, the header is the first line (after `skip_lines`) that has all these
    /// column names (trimmed, compared exactly); the lines before it are preamble.
    pub header_match: Vec<String>,
    /// Lines starting with this text are comments: skipped before the header and among rows.
    pub comment: Option<String>,
    /// Values read from the preamble: each pattern is matched against every preamble line
    /// (trimmed); the first capture group of the last matching line is the value, handed on
    /// as [`RawReader::preamble_values`] under the name given here.
    pub captures: Vec<(String, regex::Regex)>,
    /// A row any of whose fields (trimmed) matches one of these is dropped: totals, footers,
    /// copyright lines. Matched before the field count is checked, so a one-field footer
    /// under a wide header is dropped too. Counted in [`RawBatch::dropped`].
    pub drop_rows: Vec<regex::Regex>,
    /// The table ends at the first blank line after the header (files holding several tables
    /// one after another, such as GA4's); the rest of the file is not read.
    pub end_at_blank_line: bool,
    /// Workbooks: the sheet to read; `None`: the first.
    pub sheet: Option<String>,
    /// JSON lines in a loader's envelope (`{"stream": …, "data": {…}, "emitted_at": …}`, as
    /// Airbyte writes them): read the `data` object of the records of this stream; records of
    /// other streams are skipped (counted in [`RawBatch::dropped`]).
    pub stream: Option<String>,
}

/// A reader of one file.
pub trait RawReader: Send {
    /// The file's column names, in file order (trimmed, BOM removed). For JSON, the paths of
    /// the leaves of nested objects joined by `.` (`opens.unique_opens`).
    fn header(&self) -> &[String];
    /// The line (1-based) the header was found on, for messages.
    fn header_line(&self) -> u64 {
        1
    }
    /// Values captured from the preamble ([`ReadOptions::captures`]), name → text.
    fn preamble_values(&self) -> &[(String, String)] {
        &[]
    }
    /// The next batch of up to [`BATCH_ROWS`] rows, `None` at the end.
    fn next_batch(&mut self) -> Result<Option<RawBatch>, ImportError>;
    /// Bytes consumed so far (for progress).
    fn bytes_read(&self) -> u64;
}

/// Rows of one file as text: one array per header column (null = empty or absent).
#[derive(Debug, Clone, Default)]
pub struct RawBatch {
    pub columns: Vec<StringArray>,
    /// Where each row starts in the file: the line number for text formats, the 1-based row
    /// number for Parquet and workbooks.
    pub lines: Vec<u64>,
    /// Rows that could not be read at all, with their position, raw text and why.
    pub unreadable: Vec<UnreadableRow>,
    /// Rows dropped on purpose ([`ReadOptions::drop_rows`], other streams): not data.
    pub dropped: u64,
}

impl RawBatch {
    /// No rows, `width` columns.
    pub fn empty(width: usize) -> RawBatch {
        RawBatch {
            columns: vec![StringArray::from(Vec::<&str>::new()); width],
            ..RawBatch::default()
        }
    }
}

#[derive(Debug, Clone)]
pub struct UnreadableRow {
    pub line: u64,
    pub raw: Vec<String>,
    pub reason: String,
}

/// Texts one of which every match of any of `patterns` contains (each pattern's possible
/// prefixes), so that a line without any of them needs no pattern run; `None` when some
/// pattern has no such finite set (one starting with a class or `.*`).
pub(crate) fn required_literals(patterns: &[regex::Regex]) -> Option<Vec<String>> {
    use regex_syntax::hir::literal::Extractor;
    let mut out = Vec::new();
    for p in patterns {
        let hir = regex_syntax::Parser::new().parse(p.as_str()).ok()?;
        let seq = Extractor::new().extract(&hir);
        let literals = seq.literals()?;
        for l in literals {
            // An empty literal is in every text: no filter.
            let text = std::str::from_utf8(l.as_bytes()).ok()?;
            if text.is_empty() {
                return None;
            }
            out.push(text.to_owned());
        }
    }
    Some(out)
}

/// The format for a file: the one named, else by its ending.
pub fn format_for(
    path: &Path,
    named: Option<&str>,
) -> Result<&'static dyn ImportFormat, ImportError> {
    if let Some(name) = named {
        return FORMATS.iter().copied().find(|f| f.name() == name).ok_or_else(|| {
            kpiflow_model::UnknownName::new("format", name, FORMATS.iter().map(|f| f.name())).into()
        });
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    FORMATS.iter().copied().find(|f| f.extensions().contains(&ext.as_str())).ok_or_else(|| {
        ImportError::File {
            file: path.display().to_string(),
            message: format!(
                "cannot tell the format from the ending `.{ext}`; expected one of: {}",
                FORMATS
                    .iter()
                    .flat_map(|f| f.extensions())
                    .map(|e| format!(".{e}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn format_names_and_extensions_are_unique() {
        let mut names = HashSet::new();
        let mut exts = HashSet::new();
        for f in FORMATS {
            assert!(names.insert(f.name()), "duplicate format {}", f.name());
            for e in f.extensions() {
                assert!(exts.insert(*e), "extension {e} claimed twice");
            }
        }
    }

    #[test]
    fn formats_are_chosen_by_ending() {
        assert_eq!(format_for(Path::new("a.CSV"), None).map(|f| f.name()).ok(), Some("csv"));
        assert_eq!(format_for(Path::new("a.ndjson"), None).map(|f| f.name()).ok(), Some("jsonl"));
        assert_eq!(
            format_for(Path::new("a.parquet"), None).map(|f| f.name()).ok(),
            Some("parquet")
        );
        assert_eq!(format_for(Path::new("a.xlsx"), None).map(|f| f.name()).ok(), Some("xlsx"));
        assert_eq!(format_for(Path::new("a.XLS"), None).map(|f| f.name()).ok(), Some("xlsx"));
        assert_eq!(format_for(Path::new("a.ods"), None).map(|f| f.name()).ok(), Some("xlsx"));
        assert!(format_for(Path::new("a.zip"), None).is_err());
    }
}
