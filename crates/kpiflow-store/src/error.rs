//! Typed errors of the store and the importer.
//!
//! User errors (bad input, unknown names, an import that found bad rows) are kept apart from
//! failures of the machinery (a Delta or DataFusion error), so the binary can exit 1 or 2 and the
//! server can answer 4xx or 5xx.

use std::path::PathBuf;

use datafusion::error::DataFusionError;

use crate::import::report::RowError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", .path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{} cannot be used as a table location", .path.display())]
    BadPath { path: PathBuf },
    #[error("Delta table `{table}`: {source}")]
    Delta { table: String, source: Box<deltalake::DeltaTableError> },
    #[error("query on `{table}`: {source}")]
    Query { table: String, source: Box<DataFusionError> },
    #[error("there is no import number {number}: the store has {last} import(s)")]
    NoSuchImport { number: u64, last: u64 },
    #[error("internal error: {0}")]
    Internal(String),
}

impl StoreError {
    pub(crate) fn delta(table: &str, source: deltalake::DeltaTableError) -> StoreError {
        StoreError::Delta { table: table.to_owned(), source: Box::new(source) }
    }

    pub(crate) fn query(table: &str, source: DataFusionError) -> StoreError {
        StoreError::Query { table: table.to_owned(), source: Box::new(source) }
    }

    /// Whether the user can fix this by changing the input (exit 1), rather than a bug or an
    /// environment failure (exit 2).
    pub fn is_user_error(&self) -> bool {
        matches!(self, StoreError::NoSuchImport { .. } | StoreError::BadPath { .. })
    }
}

/// Why an import did not happen (or, with `--on-error skip`, what it could not read at all).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}: {source}", .path.display())]
    ReadFile { path: PathBuf, source: std::io::Error },
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("{}", render_rows(.errors, *.more))]
    Rows { errors: Vec<RowError>, more: bool },
    #[error(transparent)]
    Mapping(#[from] kpiflow_model::TomlError),
    #[error(transparent)]
    UnknownName(#[from] kpiflow_model::UnknownName),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ImportError {
    pub fn is_user_error(&self) -> bool {
        match self {
            ImportError::Store(e) => e.is_user_error(),
            _ => true,
        }
    }
}

fn render_rows(errors: &[RowError], more: bool) -> String {
    let mut out = format!(
        "{}{} error(s) in the rows; nothing was imported (use --on-error skip to import the good \
         rows and write the bad ones to a rejects file):",
        errors.len(),
        if more { "+" } else { "" }
    );
    for e in errors {
        out.push_str("\n  ");
        out.push_str(&e.to_string());
    }
    if more {
        out.push_str("\n  ... (stopped after the error limit, import.max_errors)");
    }
    out
}
