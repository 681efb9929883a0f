//! What an import says about bad rows: located errors, and the rejects file.

use std::fmt;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::error::ImportError;

/// One problem with one row, located precisely: file, line, column (canonical and as named in
/// the file), the raw value, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub file: String,
    /// Line of the row in a text file (1 = header), row number in a Parquet file.
    pub line: u64,
    /// The canonical column, when the problem is one value.
    pub column: Option<String>,
    /// The file's column the value came from, when it differs from the canonical name.
    pub source_column: Option<String>,
    /// The raw value as read.
    pub value: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(c) = &self.column {
            write!(f, "column `{c}`")?;
            if let Some(s) = self.source_column.as_ref().filter(|s| *s != c) {
                write!(f, " (from `{s}`)")?;
            }
            f.write_str(": ")?;
        }
        if let Some(v) = &self.value {
            write!(f, "`{v}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Writes rejected rows as CSV: `_file,_line,_reason`, then the source columns (the union of the
/// imported files' headers), so a user can fix the rows and import the file again with the same
/// mapping.
#[derive(Debug)]
pub struct RejectsWriter {
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
    columns: Vec<String>,
    pub rows: u64,
}

impl RejectsWriter {
    pub fn create(path: &Path, columns: Vec<String>) -> Result<RejectsWriter, ImportError> {
        let io = |source| ImportError::ReadFile { path: path.to_path_buf(), source };
        let file = File::create(path).map_err(io)?;
        let mut writer = csv::Writer::from_writer(BufWriter::new(file));
        let mut header = vec!["_file".to_owned(), "_line".to_owned(), "_reason".to_owned()];
        header.extend(columns.iter().cloned());
        writer.write_record(&header).map_err(|e| csv_error(path, e))?;
        Ok(RejectsWriter { path: path.to_path_buf(), writer, columns, rows: 0 })
    }

    /// Writes one rejected row; `values` pairs the file's column names with raw values.
    pub fn write(
        &mut self,
        file: &str,
        line: u64,
        reasons: &[&RowError],
        values: &[(&str, Option<&str>)],
    ) -> Result<(), ImportError> {
        let reason = reasons
            .iter()
            .map(|e| {
                let mut s = String::new();
                if let Some(c) = &e.column {
                    s.push_str(&format!("{c}: "));
                }
                if let Some(v) = &e.value {
                    s.push_str(&format!("`{v}`: "));
                }
                s.push_str(&e.message);
                s
            })
            .collect::<Vec<_>>()
            .join("; ");
        let mut record = vec![file.to_owned(), line.to_string(), reason];
        for c in &self.columns {
            let v = values.iter().find(|(n, _)| n == c).and_then(|(_, v)| *v).unwrap_or("");
            record.push(v.to_owned());
        }
        self.writer.write_record(&record).map_err(|e| csv_error(&self.path, e))?;
        self.rows += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<PathBuf, ImportError> {
        self.writer
            .flush()
            .map_err(|source| ImportError::ReadFile { path: self.path.clone(), source })?;
        Ok(self.path)
    }
}

fn csv_error(path: &Path, e: csv::Error) -> ImportError {
    ImportError::File { file: path.display().to_string(), message: format!("cannot write: {e}") }
}
