//! Parquet: each column is cast to text (dates as `YYYY-MM-DD`, timestamps as ISO 8601 with
//! their offset, numbers as written by Arrow), then typed and validated like every other format,
//! so a Parquet file gets the same rules and error messages as a CSV file.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::array::{Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use super::{BATCH_ROWS, ImportFormat, RawBatch, RawReader, ReadOptions};
use crate::error::ImportError;

#[derive(Debug)]
pub struct Parquet;

impl ImportFormat for Parquet {
    fn name(&self) -> &'static str {
        "parquet"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["parquet", "pq"]
    }

    fn open(&self, path: &Path, _options: &ReadOptions) -> Result<Box<dyn RawReader>, ImportError> {
        let file = File::open(path)
            .map_err(|source| ImportError::ReadFile { path: path.to_path_buf(), source })?;
        let bad = |e: parquet::errors::ParquetError| ImportError::File {
            file: path.display().to_string(),
            message: format!("not a readable Parquet file: {e}"),
        };
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(bad)?;
        let header = builder.schema().fields().iter().map(|f| f.name().trim().to_owned()).collect();
        let total = builder.metadata().file_metadata().num_rows() as u64;
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let reader = builder.with_batch_size(BATCH_ROWS).build().map_err(bad)?;
        Ok(Box::new(ParquetReader {
            path: path.to_path_buf(),
            reader,
            header,
            rows: 0,
            total,
            size,
        }))
    }
}

struct ParquetReader {
    path: PathBuf,
    reader: ParquetRecordBatchReader,
    header: Vec<String>,
    rows: u64,
    total: u64,
    size: u64,
}

impl RawReader for ParquetReader {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn bytes_read(&self) -> u64 {
        // Parquet is read by row groups; report progress in proportion to rows.
        (self.size * self.rows).checked_div(self.total).unwrap_or(self.size)
    }

    fn next_batch(&mut self) -> Result<Option<RawBatch>, ImportError> {
        let Some(batch) = self.reader.next() else {
            return Ok(None);
        };
        let batch = batch.map_err(|e| ImportError::File {
            file: self.path.display().to_string(),
            message: format!("cannot read rows {}..: {e}", self.rows + 1),
        })?;
        let mut columns = Vec::with_capacity(batch.num_columns());
        for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
            let text = cast(array, &DataType::Utf8).map_err(|e| ImportError::File {
                file: self.path.display().to_string(),
                message: format!(
                    "column `{}` of type {} cannot be read as text: {e}",
                    field.name(),
                    field.data_type()
                ),
            })?;
            let strings = text
                .as_any()
                .downcast_ref::<StringArray>()
                .cloned()
                .unwrap_or_else(|| StringArray::new_null(text.len()));
            columns.push(blank_to_null(strings));
        }
        let first = self.rows + 1;
        self.rows += batch.num_rows() as u64;
        Ok(Some(RawBatch {
            columns,
            lines: (first..first + batch.num_rows() as u64).collect(),
            unreadable: Vec::new(),
            dropped: 0,
        }))
    }
}

/// Values trimmed and empty strings taken as "no value", as in CSV and JSON lines.
fn blank_to_null(a: StringArray) -> StringArray {
    if a.iter().any(|v| v.is_some_and(|s| s.trim().len() != s.len() || s.is_empty())) {
        a.iter().map(|v| v.map(str::trim).filter(|s| !s.is_empty())).collect()
    } else {
        a
    }
}
