//! Import formats: each reads one file into [`RawBatch`]es of text values with their source
//! positions. One file per format, listed once in [`FORMATS`].
//!
//! Formats only read; mapping, typing and validation happen once, for every format alike, in
//! `convert`. A row a format cannot read at all (a CSV row with the wrong number of fields,
//! invalid UTF-8, a JSON line that is not an object) is handed on as an unreadable row, which the
//! import rejects like any other bad row.

mod csv;
mod jsonl;
mod parquet;

use std::path::Path;

use arrow::array::StringArray;

use crate::error::ImportError;

pub use self::csv::Csv;
pub use self::jsonl::JsonLines;
pub use self::parquet::Parquet;

/// Rows per batch handed from a reader to the converter.
pub const BATCH_ROWS: usize = 65_536;

/// Every import format, in the order `--format` help lists them.
pub static FORMATS: &[&dyn ImportFormat] = &[&Csv, &JsonLines, &Parquet];

/// A file format the importer reads.
pub trait ImportFormat: Sync + std::fmt::Debug {
    /// The name used by `--format`.
    fn name(&self) -> &'static str;
    /// File name endings (lower-case, without the dot) that select this format.
    fn extensions(&self) -> &'static [&'static str];
    /// Opens `path` for reading. `delimiter` is the mapping's CSV delimiter, if any.
    fn open(&self, path: &Path, options: &ReadOptions) -> Result<Box<dyn RawReader>, ImportError>;
}

/// Reader settings that come from the mapping.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub delimiter: Option<u8>,
}

/// A reader of one file.
pub trait RawReader: Send {
    /// The file's column names, in file order (trimmed, BOM removed).
    fn header(&self) -> &[String];
    /// The next batch of up to [`BATCH_ROWS`] rows, `None` at the end.
    fn next_batch(&mut self) -> Result<Option<RawBatch>, ImportError>;
    /// Bytes consumed so far (for progress).
    fn bytes_read(&self) -> u64;
}

/// Rows of one file as text: one array per header column (null = empty or absent).
#[derive(Debug, Clone)]
pub struct RawBatch {
    pub columns: Vec<StringArray>,
    /// Where each row starts in the file: the line number for text formats, the 1-based row
    /// number for Parquet.
    pub lines: Vec<u64>,
    /// Rows that could not be read at all, with their position, raw text and why.
    pub unreadable: Vec<UnreadableRow>,
}

#[derive(Debug, Clone)]
pub struct UnreadableRow {
    pub line: u64,
    pub raw: Vec<String>,
    pub reason: String,
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
        assert!(format_for(Path::new("a.xlsx"), None).is_err());
    }
}
