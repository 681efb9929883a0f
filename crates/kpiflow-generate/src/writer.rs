//! Writing rows of a canonical table to CSV or Parquet, one buffered writer per table.
//!
//! The simulation hands over each row as a slice of [`Cell`]s in the table's schema order; the
//! writer checks the row against the schema (column count, a value's kind against the column's
//! type, no empty required column), so a mistake in the generator is an error instead of a file
//! that fails to import. CSV and Parquet receive the same rounded values, so the two formats
//! hold the same data.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use chrono::{Datelike, NaiveDate};
use kpiflow_model::schema::{ColumnType, Table};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::GenerateError;

/// Rows per Parquet record batch (and row group flush unit).
const BATCH_ROWS: usize = 65_536;
/// Rows per Parquet row group: big enough for scans to skip well, small enough that the row
/// groups the writer holds in memory (one per table) stay in tens of megabytes.
const ROW_GROUP_ROWS: usize = 131_072;
/// CSV writer buffer.
const CSV_BUFFER: usize = 1 << 18;

/// One value of a row. Which variants a column accepts follows its [`ColumnType`].
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    /// No value (an empty CSV field, a Parquet null; `""` for an optional key column).
    Null,
    Str(&'a str),
    /// An id: the prefix followed by the number (`s123`), formatted by the writer.
    Id(&'static str, u64),
    Int(i64),
    /// A number rounded to at most the given decimals.
    Num(f64, u8),
    /// A date, as days since 1970-01-01.
    Date(i32),
    /// A month, as the days since 1970-01-01 of its first day.
    Month(i32),
    /// An instant, as whole seconds since the epoch (UTC).
    Ts(i64),
    Bool(bool),
}

/// The output format of the generated files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    /// Comma-separated values with a header of canonical column names.
    Csv,
    /// Apache Parquet (snappy), with the Arrow types of the canonical schema.
    Parquet,
}

impl OutputFormat {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Csv => "csv",
            OutputFormat::Parquet => "parquet",
        }
    }
}

/// Rounds to `decimals` places and turns `-0` into `0`.
pub fn round_to(v: f64, decimals: u8) -> f64 {
    if v.abs() >= 1e15 {
        // Beyond 2^53 / 100 a scaled value loses integer precision; such values have no
        // fractional part worth keeping.
        return v.round();
    }
    let f = 10f64.powi(i32::from(decimals));
    let r = (v * f).round() / f;
    if r == 0.0 { 0.0 } else { r }
}

const EPOCH_DAYS_FROM_CE: i32 = 719_163;

fn civil(days: i32) -> (i32, u32, u32) {
    match NaiveDate::from_num_days_from_ce_opt(days + EPOCH_DAYS_FROM_CE) {
        Some(d) => (d.year(), d.month(), d.day()),
        None => (1970, 1, 1),
    }
}

fn push2(buf: &mut Vec<u8>, v: u32) {
    buf.push(b'0' + (v / 10 % 10) as u8);
    buf.push(b'0' + (v % 10) as u8);
}

fn push_date(buf: &mut Vec<u8>, days: i32) {
    let (y, m, d) = civil(days);
    let y = y.clamp(0, 9999) as u32;
    push2(buf, y / 100);
    push2(buf, y % 100);
    buf.push(b'-');
    push2(buf, m);
    buf.push(b'-');
    push2(buf, d);
}

fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

fn push_i64(buf: &mut Vec<u8>, v: i64) {
    if v < 0 {
        buf.push(b'-');
    }
    push_u64(buf, v.unsigned_abs());
}

/// Formats a cell as CSV text (RFC 3339 UTC timestamps, ISO dates, `YYYY-MM` months).
fn format_cell(buf: &mut Vec<u8>, cell: Cell<'_>) {
    buf.clear();
    match cell {
        Cell::Null => {}
        Cell::Str(s) => buf.extend_from_slice(s.as_bytes()),
        Cell::Id(prefix, n) => {
            buf.extend_from_slice(prefix.as_bytes());
            push_u64(buf, n);
        }
        Cell::Int(v) => push_i64(buf, v),
        Cell::Num(v, d) => {
            let r = round_to(v, d);
            // `Display` of a value rounded to d decimals prints at most d decimals (it is the
            // shortest text that reads back as the same f64), and never an exponent.
            let _ = write!(buf, "{r}");
        }
        Cell::Date(days) => push_date(buf, days),
        Cell::Month(days) => {
            push_date(buf, days);
            buf.truncate(7);
        }
        Cell::Ts(secs) => {
            let days = secs.div_euclid(86_400);
            let sod = secs.rem_euclid(86_400) as u32;
            push_date(buf, days as i32);
            buf.push(b'T');
            push2(buf, sod / 3600);
            buf.push(b':');
            push2(buf, sod / 60 % 60);
            buf.push(b':');
            push2(buf, sod % 60);
            buf.push(b'Z');
        }
        Cell::Bool(b) => buf.extend_from_slice(if b { b"true" } else { b"false" }),
    }
}

/// Whether `cell` is an acceptable value for a column of type `ty`.
fn kind_matches(ty: ColumnType, cell: &Cell<'_>) -> bool {
    match cell {
        Cell::Null => true,
        Cell::Str(_) | Cell::Id(..) => matches!(ty, ColumnType::Text | ColumnType::Currency),
        Cell::Int(_) => matches!(ty, ColumnType::Integer),
        Cell::Num(..) => matches!(ty, ColumnType::Decimal | ColumnType::Money),
        Cell::Date(_) => matches!(ty, ColumnType::Date),
        Cell::Month(_) => matches!(ty, ColumnType::Month),
        Cell::Ts(_) => matches!(ty, ColumnType::Timestamp),
        Cell::Bool(_) => matches!(ty, ColumnType::Boolean),
    }
}

enum ColBuilder {
    Str(StringBuilder),
    Int(Int64Builder),
    F64(Float64Builder),
    Date(Date32Builder),
    Ts(TimestampMicrosecondBuilder),
    Bool(BooleanBuilder),
}

impl ColBuilder {
    fn new(ty: ColumnType) -> ColBuilder {
        match ty {
            ColumnType::Text | ColumnType::Currency => ColBuilder::Str(StringBuilder::new()),
            ColumnType::Integer => ColBuilder::Int(Int64Builder::new()),
            ColumnType::Decimal | ColumnType::Money => ColBuilder::F64(Float64Builder::new()),
            ColumnType::Date | ColumnType::Month => ColBuilder::Date(Date32Builder::new()),
            ColumnType::Timestamp => {
                ColBuilder::Ts(TimestampMicrosecondBuilder::new().with_timezone("UTC"))
            }
            ColumnType::Boolean => ColBuilder::Bool(BooleanBuilder::new()),
        }
    }

    /// Appends a cell whose kind was checked against the column type; `empty_text` makes a
    /// missing text value `""` (optional key columns are never null).
    fn append(&mut self, cell: Cell<'_>, empty_text: bool, scratch: &mut Vec<u8>) {
        match self {
            ColBuilder::Str(b) => match cell {
                Cell::Str(s) => b.append_value(s),
                Cell::Id(..) => {
                    format_cell(scratch, cell);
                    b.append_value(String::from_utf8_lossy(scratch));
                }
                _ if empty_text => b.append_value(""),
                _ => b.append_null(),
            },
            ColBuilder::Int(b) => match cell {
                Cell::Int(v) => b.append_value(v),
                _ => b.append_null(),
            },
            ColBuilder::F64(b) => match cell {
                Cell::Num(v, d) => b.append_value(round_to(v, d)),
                _ => b.append_null(),
            },
            ColBuilder::Date(b) => match cell {
                Cell::Date(d) | Cell::Month(d) => b.append_value(d),
                _ => b.append_null(),
            },
            ColBuilder::Ts(b) => match cell {
                Cell::Ts(s) => b.append_value(s * 1_000_000),
                _ => b.append_null(),
            },
            ColBuilder::Bool(b) => match cell {
                Cell::Bool(v) => b.append_value(v),
                _ => b.append_null(),
            },
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColBuilder::Str(b) => Arc::new(b.finish()),
            ColBuilder::Int(b) => Arc::new(b.finish()),
            ColBuilder::F64(b) => Arc::new(b.finish()),
            ColBuilder::Date(b) => Arc::new(b.finish()),
            ColBuilder::Ts(b) => Arc::new(b.finish()),
            ColBuilder::Bool(b) => Arc::new(b.finish()),
        }
    }
}

struct ParquetSink {
    writer: ArrowWriter<File>,
    schema: SchemaRef,
    builders: Vec<ColBuilder>,
    pending: usize,
}

enum Sink {
    Csv(Box<csv::Writer<File>>),
    Parquet(Box<ParquetSink>),
}

/// The writer of one table's file.
pub struct TableWriter {
    table: &'static Table,
    path: PathBuf,
    rows: u64,
    /// Per column: a missing value is written as `""` (an optional key column).
    empty_text: Vec<bool>,
    scratch: Vec<u8>,
    sink: Sink,
}

impl std::fmt::Debug for TableWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableWriter")
            .field("table", &self.table.name)
            .field("path", &self.path)
            .field("rows", &self.rows)
            .finish()
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> GenerateError + '_ {
    move |source| GenerateError::Io { path: path.to_path_buf(), source }
}

impl TableWriter {
    /// Creates (or truncates) `<dir>/<table>.<ext>` and writes the CSV header.
    pub fn create(
        dir: &Path,
        table: &'static Table,
        format: OutputFormat,
    ) -> Result<TableWriter, GenerateError> {
        let path = dir.join(format!("{}.{}", table.name, format.extension()));
        let file = File::create(&path).map_err(io_err(&path))?;
        let empty_text = table
            .columns
            .iter()
            .map(|c| table.is_key(c.name) && !c.required && c.ty == ColumnType::Text)
            .collect();
        let sink = match format {
            OutputFormat::Csv => {
                let mut w = csv::WriterBuilder::new().buffer_capacity(CSV_BUFFER).from_writer(file);
                w.write_record(table.column_names())
                    .map_err(|source| GenerateError::Csv { path: path.clone(), source })?;
                Sink::Csv(Box::new(w))
            }
            OutputFormat::Parquet => {
                let schema: SchemaRef = Arc::new(table.arrow_schema());
                let props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
                    .build();
                let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
                    .map_err(|source| GenerateError::Parquet { path: path.clone(), source })?;
                let builders = table.columns.iter().map(|c| ColBuilder::new(c.ty)).collect();
                Sink::Parquet(Box::new(ParquetSink { writer, schema, builders, pending: 0 }))
            }
        };
        Ok(TableWriter { table, path, rows: 0, empty_text, scratch: Vec::with_capacity(64), sink })
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn table(&self) -> &'static Table {
        self.table
    }

    fn invalid(&self, what: String) -> GenerateError {
        GenerateError::Internal(format!("{} row {}: {what}", self.table.name, self.rows + 1))
    }

    /// Writes one row; `cells` follow the table's columns in schema order.
    pub fn write(&mut self, cells: &[Cell<'_>]) -> Result<(), GenerateError> {
        let columns = self.table.columns;
        if cells.len() != columns.len() {
            return Err(self.invalid(format!(
                "{} values for {} columns",
                cells.len(),
                columns.len()
            )));
        }
        for (col, cell) in columns.iter().zip(cells) {
            if !kind_matches(col.ty, cell) {
                return Err(self.invalid(format!("{cell:?} for {} column `{}`", col.ty, col.name)));
            }
            if col.required && matches!(cell, Cell::Null | Cell::Str("")) {
                return Err(self.invalid(format!("required column `{}` is empty", col.name)));
            }
        }
        match &mut self.sink {
            Sink::Csv(w) => {
                for cell in cells {
                    format_cell(&mut self.scratch, *cell);
                    w.write_field(&self.scratch)
                        .map_err(|source| GenerateError::Csv { path: self.path.clone(), source })?;
                }
                w.write_record(None::<&[u8]>)
                    .map_err(|source| GenerateError::Csv { path: self.path.clone(), source })?;
            }
            Sink::Parquet(p) => {
                for ((b, cell), empty) in p.builders.iter_mut().zip(cells).zip(&self.empty_text) {
                    b.append(*cell, *empty, &mut self.scratch);
                }
                p.pending += 1;
                if p.pending >= BATCH_ROWS {
                    flush_batch(p, &self.path)?;
                }
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Flushes and closes the file; returns its path and row count.
    pub fn finish(self) -> Result<(PathBuf, u64), GenerateError> {
        let TableWriter { path, rows, sink, .. } = self;
        match sink {
            Sink::Csv(mut w) => {
                w.flush().map_err(io_err(&path))?;
                // Flushed, not fsynced: demo data needs no durability, and syncing gigabytes
                // would double the run time.
                drop(w.into_inner().map_err(|e| GenerateError::Io {
                    path: path.clone(),
                    source: std::io::Error::other(e.to_string()),
                })?);
            }
            Sink::Parquet(mut p) => {
                if p.pending > 0 {
                    flush_batch(&mut p, &path)?;
                }
                p.writer
                    .close()
                    .map_err(|source| GenerateError::Parquet { path: path.clone(), source })?;
            }
        }
        Ok((path, rows))
    }
}

fn flush_batch(p: &mut ParquetSink, path: &Path) -> Result<(), GenerateError> {
    let arrays: Vec<ArrayRef> = p.builders.iter_mut().map(ColBuilder::finish).collect();
    let batch = RecordBatch::try_new(p.schema.clone(), arrays)
        .map_err(|source| GenerateError::Arrow { path: path.to_path_buf(), source })?;
    p.writer
        .write(&batch)
        .map_err(|source| GenerateError::Parquet { path: path.to_path_buf(), source })?;
    p.pending = 0;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(cell: Cell<'_>) -> String {
        let mut b = Vec::new();
        format_cell(&mut b, cell);
        String::from_utf8_lossy(&b).into_owned()
    }

    #[test]
    fn cells_format_as_the_importer_expects() {
        let d = kpiflow_model::parse::days_since_epoch(
            NaiveDate::from_ymd_opt(2025, 3, 1).unwrap_or_default(),
        );
        assert_eq!(text(Cell::Date(d)), "2025-03-01");
        assert_eq!(text(Cell::Month(d)), "2025-03");
        assert_eq!(
            text(Cell::Ts(i64::from(d) * 86_400 + 9 * 3600 + 30 * 60)),
            "2025-03-01T09:30:00Z"
        );
        assert_eq!(text(Cell::Num(12.345_678, 2)), "12.35");
        assert_eq!(text(Cell::Num(-0.001, 2)), "0");
        assert_eq!(text(Cell::Num(1.1 + 2.2, 2)), "3.3");
        assert_eq!(text(Cell::Num(1.0e21, 2)), "1000000000000000000000");
        assert_eq!(text(Cell::Num(1.0842317, 6)), "1.084232");
        assert_eq!(text(Cell::Int(-42)), "-42");
        assert_eq!(text(Cell::Id("s", 907)), "s907");
        assert_eq!(text(Cell::Bool(true)), "true");
    }
}
