//! The import log: one row per table an import wrote to, kept as the Delta table `_import_log`
//! in the data directory (so it travels with the data and another engine can read it).
//!
//! The import's provenance is also stored in the data table's own Delta commit
//! (`kpiflow.import` commit metadata), atomically with the rows. The log row is appended right
//! after; an import killed between the two leaves its data committed and its log row missing,
//! which re-running the import repairs (the rows come back unchanged and the log row is written).

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, Utc};
use datafusion::prelude::SessionContext;
use serde::Serialize;

use crate::error::StoreError;
use crate::store::Store;

pub const IMPORT_LOG_TABLE: &str = "_import_log";

/// One table written by one import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportLogEntry {
    /// Import number: 1 for the first import into the store, counting imports (not tables).
    pub number: u64,
    pub import_id: String,
    pub imported_at: DateTime<Utc>,
    pub table: String,
    pub files: Vec<String>,
    pub sha256: Vec<String>,
    pub mapping: Option<String>,
    /// The preset that read each file (in `files` order; empty where none did).
    pub presets: Vec<String>,
    pub on_error: String,
    pub rows_read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    /// The table version the import committed; `None` when nothing changed.
    pub table_version: Option<u64>,
    pub duration_ms: u64,
}

/// The whole log, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportLog {
    pub entries: Vec<ImportLogEntry>,
}

fn schema() -> SchemaRef {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    Arc::new(Schema::new(vec![
        Field::new("import_id", DataType::Utf8, false),
        Field::new("imported_at", ts, false),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("files", DataType::Utf8, false),
        Field::new("sha256", DataType::Utf8, false),
        Field::new("mapping", DataType::Utf8, true),
        Field::new("on_error", DataType::Utf8, false),
        Field::new("rows_read", DataType::Int64, false),
        Field::new("inserted", DataType::Int64, false),
        Field::new("updated", DataType::Int64, false),
        Field::new("unchanged", DataType::Int64, false),
        Field::new("rejected", DataType::Int64, false),
        Field::new("table_version", DataType::Int64, true),
        Field::new("duration_ms", DataType::Int64, false),
        // Added with presets: logs written before have no such column (read as none).
        Field::new("presets", DataType::Utf8, true),
    ]))
}

impl ImportLog {
    /// The number of distinct imports.
    pub fn imports(&self) -> u64 {
        self.entries.last().map_or(0, |e| e.number)
    }

    /// The version of `table` right after import `n`: the last version an import up to `n`
    /// committed, or `None` when none had written it yet.
    pub fn version_after_import(&self, table: &str, n: u64) -> Option<u64> {
        self.entries
            .iter()
            .filter(|e| e.number <= n && e.table == table)
            .filter_map(|e| e.table_version)
            .next_back()
    }

    pub(crate) async fn read(store: &Store) -> Result<ImportLog, StoreError> {
        let Some(table) = store.latest(IMPORT_LOG_TABLE).await? else {
            return Ok(ImportLog::default());
        };
        let ctx = SessionContext::new();
        let q = |e| StoreError::query(IMPORT_LOG_TABLE, e);
        let provider = crate::store::provider(&ctx, IMPORT_LOG_TABLE, &table).await?;
        let batches = ctx
            .read_table(provider)
            .map_err(q)?
            .sort_by(vec![
                datafusion::prelude::col("imported_at"),
                datafusion::prelude::col("import_id"),
                datafusion::prelude::col("table_name"),
            ])
            .map_err(q)?
            .collect()
            .await
            .map_err(q)?;
        let mut entries: Vec<ImportLogEntry> = Vec::new();
        let mut number = 0;
        let mut last_id = String::new();
        for batch in &batches {
            let presets_column = batch.schema().index_of("presets").ok();
            let texts: Vec<StringArray> = (0..batch.num_columns())
                .map(|i| {
                    crate::store::as_strings(batch.column(i))
                        .unwrap_or_else(|| StringArray::new_null(0))
                })
                .collect();
            let text = |i: usize| -> Result<&StringArray, StoreError> {
                texts.get(i).filter(|a| a.len() == batch.num_rows()).ok_or_else(bad_log)
            };
            let int = |i: usize| -> Result<&Int64Array, StoreError> {
                batch.column(i).as_any().downcast_ref::<Int64Array>().ok_or_else(bad_log)
            };
            let at = batch
                .column(1)
                .as_any()
                .downcast_ref::<TimestampMicrosecondArray>()
                .ok_or_else(bad_log)?;
            let split =
                |s: &str| s.split('\n').filter(|x| !x.is_empty()).map(str::to_owned).collect();
            for r in 0..batch.num_rows() {
                let id = text(0)?.value(r).to_owned();
                if id != last_id {
                    number += 1;
                    last_id = id.clone();
                }
                let mapping = text(5)?;
                let version = int(12)?;
                let presets = presets_column.map(&text).transpose()?;
                entries.push(ImportLogEntry {
                    number,
                    import_id: id,
                    imported_at: DateTime::from_timestamp_micros(at.value(r)).unwrap_or_default(),
                    table: text(2)?.value(r).to_owned(),
                    files: split(text(3)?.value(r)),
                    sha256: split(text(4)?.value(r)),
                    mapping: (!mapping.is_null(r)).then(|| mapping.value(r).to_owned()),
                    presets: presets
                        .filter(|p| !p.is_null(r))
                        .map(|p| p.value(r).split('\n').map(str::to_owned).collect())
                        .unwrap_or_default(),
                    on_error: text(6)?.value(r).to_owned(),
                    rows_read: int(7)?.value(r) as u64,
                    inserted: int(8)?.value(r) as u64,
                    updated: int(9)?.value(r) as u64,
                    unchanged: int(10)?.value(r) as u64,
                    rejected: int(11)?.value(r) as u64,
                    table_version: (!version.is_null(r)).then(|| version.value(r) as u64),
                    duration_ms: int(13)?.value(r) as u64,
                });
            }
        }
        Ok(ImportLog { entries })
    }

    /// Appends the rows of one import (one per table it wrote) in one commit.
    pub(crate) async fn append(store: &Store, rows: &[ImportLogEntry]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let texts = |f: &dyn Fn(&ImportLogEntry) -> String| -> ArrayRef {
            Arc::new(StringArray::from_iter_values(rows.iter().map(f)))
        };
        let ints = |f: &dyn Fn(&ImportLogEntry) -> u64| -> ArrayRef {
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| f(r) as i64)))
        };
        let columns: Vec<ArrayRef> = vec![
            texts(&|r| r.import_id.clone()),
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(
                    rows.iter().map(|r| r.imported_at.timestamp_micros()),
                )
                .with_timezone("UTC"),
            ),
            texts(&|r| r.table.clone()),
            texts(&|r| r.files.join("\n")),
            texts(&|r| r.sha256.join("\n")),
            Arc::new(StringArray::from(rows.iter().map(|r| r.mapping.clone()).collect::<Vec<_>>())),
            texts(&|r| r.on_error.clone()),
            ints(&|r| r.rows_read),
            ints(&|r| r.inserted),
            ints(&|r| r.updated),
            ints(&|r| r.unchanged),
            ints(&|r| r.rejected),
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.table_version.map(|v| v as i64)).collect::<Vec<_>>(),
            )),
            ints(&|r| r.duration_ms),
            Arc::new(StringArray::from(
                rows.iter()
                    .map(|r| r.presets.iter().any(|p| !p.is_empty()).then(|| r.presets.join("\n")))
                    .collect::<Vec<_>>(),
            )),
        ];
        let batch = RecordBatch::try_new(schema(), columns)
            .map_err(|e| StoreError::Internal(format!("import log batch: {e}")))?;
        store.append_internal(IMPORT_LOG_TABLE, batch).await
    }
}

fn bad_log() -> StoreError {
    StoreError::Internal(format!("{IMPORT_LOG_TABLE} has an unexpected schema"))
}
