//! `/api/tables` and `/api/imports`: what the store holds, its import log, and imports over
//! HTTP (multipart upload, bearer token).

use std::collections::BTreeMap;
use std::path::PathBuf;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use kpiflow_model::Mapping;
use kpiflow_store::import::{ImportOutcome, ImportRequest, OnError};
use kpiflow_store::inspect::{TableInfo, Warning, quality_warnings, table_infos};
use kpiflow_store::{ImportError, ImportLogEntry};
use serde::Serialize;
use tokio::io::AsyncWriteExt;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::params::Params;
use crate::state::AppState;

/// The store's tables, and the data-quality warnings when asked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TablesDoc {
    pub tables: Vec<TableDoc>,
    /// Present with `check=true`.
    pub warnings: Option<Vec<WarningDoc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TableDoc {
    pub table: String,
    /// Delta table version; null when the table was never written.
    pub version: Option<u64>,
    pub rows: u64,
    /// First and last value of the table's time column.
    pub from: Option<String>,
    pub to: Option<String>,
}

impl From<TableInfo> for TableDoc {
    fn from(t: TableInfo) -> TableDoc {
        TableDoc { table: t.table.into(), version: t.version, rows: t.rows, from: t.from, to: t.to }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WarningDoc {
    /// Stable id of the check, e.g. `clicks_above_impressions`.
    pub check: String,
    pub table: String,
    pub rows: u64,
    pub message: String,
    /// Keys of up to three rows concerned.
    pub examples: Vec<String>,
}

impl From<Warning> for WarningDoc {
    fn from(w: Warning) -> WarningDoc {
        WarningDoc {
            check: w.check,
            table: w.table.into(),
            rows: w.rows,
            message: w.message,
            examples: w.examples,
        }
    }
}

/// Row counts, date ranges and versions of every canonical table (`kpiflow tables`).
#[utoipa::path(get, path = "/api/tables", tag = "data",
    params(("check" = Option<bool>, Query, description = "also run the data-quality checks")),
    responses(
        (status = 200, description = "The tables", body = TablesDoc),
        (status = 400, description = "A bad parameter", body = ErrorBody),
    ))]
pub async fn list_tables(
    State(state): State<AppState>,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> ApiResult<Json<TablesDoc>> {
    let Query(raw) = query?;
    let mut p = Params::new(raw);
    let check = p.flag("check")?;
    p.filters(state.catalog(), &["check"]).and_then(|f| match f.first() {
        Some((d, _)) => {
            Err(ApiError::bad_request(format!("parameter `{d}` does not apply to /api/tables")))
        }
        None => Ok(()),
    })?;
    let store = state.store();
    let tables =
        state.bounded(async { table_infos(store, None).await.map_err(ApiError::internal) }).await?;
    let warnings = if check {
        let w = state
            .bounded(async { quality_warnings(store, None).await.map_err(ApiError::internal) })
            .await?;
        Some(w.into_iter().map(WarningDoc::from).collect())
    } else {
        None
    };
    Ok(Json(TablesDoc { tables: tables.into_iter().map(TableDoc::from).collect(), warnings }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportLogDoc {
    /// Import number: 1 for the first import, counting imports (not tables).
    pub number: u64,
    pub import_id: String,
    /// RFC 3339, UTC.
    pub imported_at: String,
    pub table: String,
    pub files: Vec<String>,
    pub sha256: Vec<String>,
    pub mapping: Option<String>,
    pub on_error: String,
    pub rows_read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    /// The table version the import committed; null when nothing changed.
    pub table_version: Option<u64>,
    pub duration_ms: u64,
}

impl From<ImportLogEntry> for ImportLogDoc {
    fn from(e: ImportLogEntry) -> ImportLogDoc {
        ImportLogDoc {
            number: e.number,
            import_id: e.import_id,
            imported_at: e.imported_at.to_rfc3339(),
            table: e.table,
            files: e.files,
            sha256: e.sha256,
            mapping: e.mapping,
            on_error: e.on_error,
            rows_read: e.rows_read,
            inserted: e.inserted,
            updated: e.updated,
            unchanged: e.unchanged,
            rejected: e.rejected,
            table_version: e.table_version,
            duration_ms: e.duration_ms,
        }
    }
}

/// The import log, oldest first (`kpiflow tables --log`).
#[utoipa::path(get, path = "/api/imports", tag = "data",
    responses((status = 200, description = "The import log", body = Vec<ImportLogDoc>)))]
pub async fn list_imports(State(state): State<AppState>) -> ApiResult<Json<Vec<ImportLogDoc>>> {
    let log = state.store().import_log().await.map_err(ApiError::internal)?;
    Ok(Json(log.entries.into_iter().map(ImportLogDoc::from).collect()))
}

/// The upload form of `POST /api/imports`.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // documents the multipart form; the handler reads the fields one by one
pub struct ImportForm {
    /// Canonical table: contacts, deals, sessions, ad_spend, ...
    table: String,
    /// One or more export files (CSV, JSON Lines or Parquet, detected by name unless `format`).
    #[schema(value_type = Vec<String>, format = Binary)]
    file: Vec<Vec<u8>>,
    /// A mapping (TOML) from the export's columns to the table's.
    #[schema(value_type = Option<String>, format = Binary)]
    mapping: Option<Vec<u8>>,
    /// `fail` (default: any bad row stops the import, nothing is written) or `skip` (the good
    /// rows are imported, the bad ones written to a rejects file).
    on_error: Option<String>,
    /// `csv`, `jsonl` or `parquet`, overriding detection by file name.
    format: Option<String>,
}

/// What an import did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(dead_code)] // documents ImportOutcome's JSON
pub struct ImportOutcomeDoc {
    import_number: u64,
    files: Vec<serde_json::Value>,
    tables: Vec<serde_json::Value>,
    rows_read: u64,
    rejected: u64,
    rejects_file: Option<String>,
    errors: Vec<serde_json::Value>,
    duration_ms: u64,
}

/// Imports export files into a table: one transaction, all rows or none (`kpiflow import`).
/// Needs `Authorization: Bearer <token>`; off when the server has no token.
#[utoipa::path(post, path = "/api/imports", tag = "data",
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Imported", body = ImportOutcomeDoc),
        (status = 400, description = "Bad form, table, mapping or rows (file, row, column named)", body = ErrorBody),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 403, description = "Writes are off: the server has no token", body = ErrorBody),
        (status = 413, description = "The upload is larger than [server] max_body_mib", body = ErrorBody),
    ))]
pub async fn post_import(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<(StatusCode, Json<ImportOutcome>)> {
    authorize(&state, &headers)?;
    let mut multipart = multipart.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let upload = Upload::new(&state)?;
    let mut table = None;
    let mut mapping_text = None;
    let mut on_error = OnError::Fail;
    let mut format = None;
    let mut files = Vec::new();
    while let Some(mut field) = multipart.next_field().await? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                let file_name = field.file_name().map(sanitize).ok_or_else(|| {
                    ApiError::bad_request(
                        "field `file` needs a file name (its ending tells the format)",
                    )
                })?;
                let path = upload.dir.join(format!("{}-{file_name}", files.len() + 1));
                let mut out = tokio::fs::File::create(&path).await.map_err(ApiError::internal)?;
                while let Some(chunk) = field.chunk().await? {
                    out.write_all(&chunk).await.map_err(ApiError::internal)?;
                }
                out.flush().await.map_err(ApiError::internal)?;
                files.push(path);
            }
            "table" => table = Some(field.text().await?.trim().to_owned()),
            "mapping" => mapping_text = Some(field.text().await?),
            "on_error" => {
                on_error = match field.text().await?.trim() {
                    "fail" => OnError::Fail,
                    "skip" => OnError::Skip,
                    v => {
                        return Err(kpiflow_model::UnknownName::new(
                            "on_error value",
                            v,
                            ["fail", "skip"],
                        )
                        .into());
                    }
                }
            }
            "format" => {
                let f = field.text().await?.trim().to_lowercase();
                if !["csv", "jsonl", "parquet"].contains(&f.as_str()) {
                    return Err(kpiflow_model::UnknownName::new(
                        "format",
                        &f,
                        ["csv", "jsonl", "parquet"],
                    )
                    .into());
                }
                format = Some(f);
            }
            other => {
                return Err(kpiflow_model::UnknownName::new(
                    "form field",
                    other,
                    ["table", "file", "mapping", "on_error", "format"],
                )
                .into());
            }
        }
    }
    let table = table.ok_or_else(|| {
        ApiError::bad_request("the form has no `table` field")
            .hint("add table=contacts (or another canonical table)")
    })?;
    let table = kpiflow_model::table(&table)?;
    if files.is_empty() {
        return Err(ApiError::bad_request("the form has no `file` field: nothing to import"));
    }
    let mapping = match mapping_text {
        None => None,
        Some(text) => Some(
            Mapping::parse(&text, "mapping", table)
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
        ),
    };
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    let rejects = state.project_dir().join("rejects").join(format!("{}-{stamp}.csv", table.name));
    if on_error == OnError::Skip {
        std::fs::create_dir_all(state.project_dir().join("rejects")).map_err(ApiError::internal)?;
    }
    let request = ImportRequest { table, files, mapping, format, on_error, rejects };
    let _one_writer = state.import_lock().lock().await;
    let outcome = kpiflow_store::import(state.store(), state.config(), &request, &mut |_| {})
        .await
        .map_err(import_error)?;
    upload.keep();
    Ok((StatusCode::CREATED, Json(outcome)))
}

fn import_error(e: ImportError) -> ApiError {
    if !e.is_user_error() {
        return ApiError::internal(e);
    }
    let rows = matches!(e, ImportError::Rows { .. });
    let err = ApiError::bad_request(e.to_string().replace("--on-error skip", "on_error=skip"));
    if rows {
        err.hint("send on_error=skip to import the good rows; the bad ones go to a rejects file")
    } else {
        err
    }
}

/// Checks `Authorization: Bearer <token>` in constant time.
fn authorize(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let Some(expected) = state.options().token.as_deref() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "writes_disabled",
            "imports over HTTP are off: the server has no token",
        )
        .hint("set [server] token in kpiflow.toml or the KPIFLOW_TOKEN environment variable, then restart `kpiflow serve`"));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(given) = given else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this endpoint needs a bearer token",
        )
        .hint("send the header `Authorization: Bearer <token>`"));
    };
    let same = given.len() == expected.len()
        && given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if same {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the bearer token is not the server's",
        ))
    }
}

/// A file name safe to write: its last path part, with only letters, digits, `.`, `-`, `_`.
fn sanitize(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = base
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .collect();
    let clean = clean.trim_start_matches('.').to_owned();
    if clean.is_empty() { "upload".into() } else { clean }
}

/// The uploaded files of one import, under `<project>/uploads/<time>`: kept after a committed
/// import (the import log names them, and they can be imported again), removed otherwise.
struct Upload {
    dir: PathBuf,
    keep: bool,
}

impl Upload {
    fn new(state: &AppState) -> ApiResult<Upload> {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f");
        let dir = state.project_dir().join("uploads").join(stamp.to_string());
        std::fs::create_dir_all(&dir).map_err(ApiError::internal)?;
        Ok(Upload { dir, keep: false })
    }

    fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn upload_names_cannot_leave_the_upload_dir() {
        assert_eq!(sanitize("../../etc/passwd"), "passwd");
        assert_eq!(sanitize("C:\\x\\deals 2025.csv"), "deals_2025.csv");
        assert_eq!(sanitize(".."), "upload");
        assert_eq!(sanitize(".hidden.csv"), "hidden.csv");
    }
}
