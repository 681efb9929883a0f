//! Exporting the store's canonical tables to plain files, one per table.
//!
//! A team that runs the catalog's SQL on its warehouse (`kpiflow sql`), or a benchmark peer
//! (DuckDB in `bench/`), needs the same rows kpiflow computes over: the latest snapshot (or one
//! as of an import or a time) with the types of the canonical schema. Parquet keeps those types
//! (timestamps in UTC, dates, numbers); CSV is for people and tools without a Parquet reader.

use std::path::{Path, PathBuf};

use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::prelude::SessionContext;

use crate::StoreError;
use crate::store::{AsOf, Store};

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Parquet,
    Csv,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Parquet => "parquet",
            ExportFormat::Csv => "csv",
        }
    }
}

/// One table written.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedTable {
    pub table: &'static str,
    pub rows: u64,
    pub path: PathBuf,
}

/// Writes `tables` (every canonical table with data when empty) of the snapshot `as_of` into
/// `dir` as `TABLE.parquet` or `TABLE.csv`, replacing files of the same name. Tables the
/// snapshot does not have are skipped (not written as empty files, which would read as "no
/// rows" rather than "never imported"). Unknown table names are the caller's to check.
pub async fn export(
    store: &Store,
    dir: &Path,
    tables: &[&'static str],
    format: ExportFormat,
    as_of: Option<AsOf>,
) -> Result<Vec<ExportedTable>, StoreError> {
    std::fs::create_dir_all(dir)
        .map_err(|source| StoreError::Io { path: dir.to_owned(), source })?;
    let ctx = SessionContext::new();
    let registered = store.register_all(&ctx, as_of).await?;
    let mut written = Vec::new();
    for name in registered {
        if !tables.is_empty() && !tables.contains(&name) {
            continue;
        }
        let path = dir.join(format!("{name}.{}", format.extension()));
        if path.is_dir() {
            return Err(StoreError::BadPath { path });
        }
        let df = ctx.table(name).await.map_err(|e| StoreError::query(name, e))?;
        let options = DataFrameWriteOptions::new().with_single_file_output(true);
        let target = path.to_string_lossy().into_owned();
        let counts = match format {
            ExportFormat::Parquet => df.write_parquet(&target, options, None).await,
            ExportFormat::Csv => df.write_csv(&target, options, None).await,
        }
        .map_err(|e| StoreError::query(name, e))?;
        let rows = counts
            .first()
            .and_then(|b| {
                b.column(0).as_any().downcast_ref::<arrow::array::UInt64Array>().map(|a| a.value(0))
            })
            .unwrap_or(0);
        written.push(ExportedTable { table: name, rows, path });
    }
    Ok(written)
}
