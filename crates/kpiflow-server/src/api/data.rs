//! `/api/tables` and `/api/imports`: what the store holds, its import log, and imports over
//! HTTP (multipart upload, bearer token).

use std::collections::BTreeMap;
use std::path::PathBuf;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use kpiflow_model::Mapping;
use kpiflow_store::Target;
use kpiflow_store::import::{ImportOutcome, OnError, Preview};
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
    /// The preset that read each file (in `files` order; empty where none did).
    pub presets: Vec<String>,
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
            presets: e.presets,
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

/// The upload form of `POST /api/imports` and `POST /api/imports/preview`.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // documents the multipart form; the handler reads the fields one by one
pub struct ImportForm {
    /// Canonical table (contacts, deals, sessions, ad_spend, ...). Without it (and without
    /// `preset`), each file is read through the preset detected from it.
    table: Option<String>,
    /// A preset (see `kpiflow presets`) to read every file with, instead of detecting one.
    preset: Option<String>,
    /// One or more export files (CSV, JSON lines, Parquet, Excel, a zip of them; the format
    /// from the file name unless `format`).
    #[schema(value_type = Vec<String>, format = Binary)]
    file: Vec<Vec<u8>>,
    /// A mapping (TOML) from the export's columns to the table's; names its table with
    /// `table = "…"` when the form has no `table`.
    #[schema(value_type = Option<String>, format = Binary)]
    mapping: Option<Vec<u8>>,
    /// `fail` (default: any bad row stops the import, nothing is written) or `skip` (the good
    /// rows are imported, the bad ones written to a rejects file).
    on_error: Option<String>,
    /// `csv`, `jsonl`, `parquet` or `xlsx`, overriding detection by file name.
    format: Option<String>,
}

/// What an import did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(dead_code)] // documents ImportOutcome's JSON
pub struct ImportOutcomeDoc {
    import_number: u64,
    /// Per file: `path`, `name`, `preset` (the one that read it, or null), `tables`, `sha256`,
    /// `rows_read`, `rejected`, `dropped` (totals, footers and other streams: not data).
    files: Vec<serde_json::Value>,
    tables: Vec<serde_json::Value>,
    rows_read: u64,
    rejected: u64,
    dropped: u64,
    rejects_file: Option<String>,
    errors: Vec<serde_json::Value>,
    duration_ms: u64,
}

/// What an import would store.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(dead_code)] // documents Preview's JSON
pub struct PreviewDoc {
    /// Per file: `name`, `preset` (detected or given; null when read into a table),
    /// `tables` it writes, `header` as read.
    files: Vec<serde_json::Value>,
    /// Per table: `table`, `columns` as stored, `rows` (the first rows, values as text or
    /// null).
    tables: Vec<serde_json::Value>,
    /// Problems with the rows previewed, each with `file`, `line`, `column`, `value`, `message`.
    errors: Vec<serde_json::Value>,
}

/// The form read: its files written under the upload directory, the rest checked.
struct ImportUpload {
    upload: Upload,
    resolved: kpiflow_store::Resolved,
}

/// Reads the multipart form and resolves it as `kpiflow import` resolves its arguments.
async fn read_import_form(
    state: &AppState,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<ImportUpload> {
    let mut multipart = multipart.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let upload = Upload::new(state)?;
    let mut table = None;
    let mut preset = None;
    let mut mapping_text = None;
    let mut on_error = OnError::Fail;
    let mut format = None;
    let mut files = Vec::new();
    let formats = || kpiflow_store::import::format::FORMATS.iter().map(|f| f.name());
    while let Some(mut field) = multipart.next_field().await? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                let file_name = field.file_name().map(sanitize).ok_or_else(|| {
                    ApiError::bad_request(
                        "field `file` needs a file name (its ending tells the format)",
                    )
                })?;
                // One directory per file, so the file keeps its own name (vendors' name
                // patterns help detection) and two files of one name do not collide.
                let dir = upload.dir.join((files.len() + 1).to_string());
                std::fs::create_dir_all(&dir).map_err(ApiError::internal)?;
                let path = dir.join(&file_name);
                let mut out = tokio::fs::File::create(&path).await.map_err(ApiError::internal)?;
                while let Some(chunk) = field.chunk().await? {
                    out.write_all(&chunk).await.map_err(ApiError::internal)?;
                }
                out.flush().await.map_err(ApiError::internal)?;
                files.push((path, file_name));
            }
            "table" => {
                table = Some(field.text().await?.trim().to_owned()).filter(|t| !t.is_empty())
            }
            "preset" => {
                preset = Some(field.text().await?.trim().to_owned()).filter(|t| !t.is_empty())
            }
            "mapping" => mapping_text = Some(field.text().await?).filter(|t| !t.trim().is_empty()),
            "on_error" => {
                on_error = match field.text().await?.trim() {
                    "fail" | "" => OnError::Fail,
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
                if f.is_empty() {
                    continue;
                }
                if !formats().any(|n| n == f) {
                    return Err(kpiflow_model::UnknownName::new("format", &f, formats()).into());
                }
                format = Some(f);
            }
            other => {
                return Err(kpiflow_model::UnknownName::new(
                    "form field",
                    other,
                    ["table", "preset", "file", "mapping", "on_error", "format"],
                )
                .into());
            }
        }
    }
    if files.is_empty() {
        return Err(ApiError::bad_request("the form has no `file` field: nothing to import"));
    }
    let table = table.map(|t| kpiflow_model::table(&t)).transpose()?;
    let target = match (preset, table, mapping_text) {
        (Some(_), Some(t), _) => {
            return Err(ApiError::bad_request(format!(
                "`preset` names how to read the files; it cannot come with `table` ({}): \
                 send one of them",
                t.name
            )));
        }
        (Some(p), None, _) => Target::Preset(kpiflow_store::presets::preset(&p)?),
        (None, table, Some(text)) => {
            let table = match table {
                Some(t) => t,
                None => match Mapping::declared_table(&text, "mapping")
                    .map_err(|e| ApiError::bad_request(e.to_string()))?
                {
                    Some(name) => kpiflow_model::table(&name)?,
                    None => {
                        return Err(ApiError::bad_request(
                            "the mapping names no table: send `table` or add `table = \"…\"` \
                             to the mapping",
                        ));
                    }
                },
            };
            let mapping = Mapping::parse(&text, "mapping", table)
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
            Target::Table { table, mapping: Some(mapping) }
        }
        (None, Some(table), None) => Target::Table { table, mapping: None },
        (None, None, None) => Target::Detect,
    };
    let what = match &target {
        Target::Table { table, .. } => table.name.to_owned(),
        Target::Preset(p) => p.info().name.clone(),
        Target::Detect => "import".to_owned(),
    };
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f");
    let rejects = state.project_dir().join("rejects").join(format!("{what}-{stamp}.csv"));
    if on_error == OnError::Skip {
        std::fs::create_dir_all(state.project_dir().join("rejects")).map_err(ApiError::internal)?;
    }
    let resolved =
        kpiflow_store::resolve_named(&files, &target, format.as_deref(), on_error, rejects)
            .map_err(|e| upload_error(e, &upload.dir))?;
    Ok(ImportUpload { upload, resolved })
}

/// Imports export files: one transaction per table, all rows or none (`kpiflow import`). Each
/// file goes through the preset detected from it, unless the form names a `table` (with or
/// without a mapping) or a `preset`. Needs `Authorization: Bearer <token>`; off when the server
/// has no token.
#[utoipa::path(post, path = "/api/imports", tag = "data",
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Imported", body = ImportOutcomeDoc),
        (status = 400, description = "Bad form, table, preset, mapping or rows (file, row, column named); a file no preset recognises, or two claim", body = ErrorBody),
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
    let form = read_import_form(&state, multipart).await?;
    let _one_writer = state.import_lock().lock().await;
    let mut outcome =
        kpiflow_store::import(state.store(), state.config(), &form.resolved.request, &mut |_| {})
            .await
            .map_err(|e| upload_error(e, &form.upload.dir))?;
    form.upload.keep();
    // Where the server keeps things is not the client's business: files by the names they were
    // sent as, the rejects file relative to the project.
    for f in &mut outcome.files {
        f.path = std::path::PathBuf::from(&f.name);
    }
    if let Some(r) = &outcome.rejects_file {
        outcome.rejects_file = r.strip_prefix(state.project_dir()).ok().map(|p| p.to_path_buf());
    }
    Ok((StatusCode::CREATED, Json(outcome)))
}

/// What `POST /api/imports` would store for the same form, writing nothing: each file's preset
/// and tables, the first rows of each table as they would be stored, and the errors in them.
#[utoipa::path(post, path = "/api/imports/preview", tag = "data",
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    params(("rows" = Option<usize>, Query, description = "rows per table (default 10, at most 200)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The preview", body = PreviewDoc),
        (status = 400, description = "Bad form, table, preset or mapping; a file no preset recognises, or two claim", body = ErrorBody),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 403, description = "Writes are off: the server has no token", body = ErrorBody),
        (status = 413, description = "The upload is larger than [server] max_body_mib", body = ErrorBody),
    ))]
pub async fn post_import_preview(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<Json<Preview>> {
    authorize(&state, &headers)?;
    let Query(raw) = query?;
    let rows = match raw.get("rows") {
        None => 10,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=200).contains(n))
            .ok_or_else(|| ApiError::bad_request(format!("rows `{v}`: expected 1 to 200")))?,
    };
    let form = read_import_form(&state, multipart).await?;
    let preview = state
        .bounded(async {
            kpiflow_store::import::preview(
                state.store(),
                state.config(),
                &form.resolved.request,
                rows,
            )
            .await
            .map_err(|e| upload_error(e, &form.upload.dir))
        })
        .await?;
    Ok(Json(preview))
}

/// [`import_error`] for an error that may name where the server keeps the uploads (a zip that
/// cannot be read): `<upload dir>/<n>/name` becomes `name`.
fn upload_error(e: ImportError, dir: &std::path::Path) -> ApiError {
    let mut err = import_error(e);
    let dir = format!("{}/", dir.display());
    let mut text = err.body.message.as_str();
    let mut out = String::with_capacity(text.len());
    while let Some(at) = text.find(&dir) {
        out.push_str(&text[..at]);
        let rest = &text[at + dir.len()..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        text = rest[digits..].strip_prefix('/').unwrap_or(&rest[digits..]);
    }
    out.push_str(text);
    err.body.message = out;
    err
}

fn import_error(e: ImportError) -> ApiError {
    if !e.is_user_error() {
        return ApiError::internal(e);
    }
    let rows = matches!(e, ImportError::Rows { .. });
    // The library speaks the command line's language; say it in the form's.
    let message = e
        .to_string()
        .replace("--on-error skip", "on_error=skip")
        .replace(
            "Name a preset with --preset (`kpiflow presets` lists them), or import the file into \
             a table: `kpiflow import TABLE FILE --mapping MAPPING.toml`",
            "Send the form field `preset` (GET /import lists the presets), or `table` with a \
             `mapping`",
        )
        .replace("--preset ", "preset=");
    let err = ApiError::bad_request(message);
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

/// A file name safe to write: its last path part, without control characters or path
/// separators, not starting with a dot. Spaces, parentheses and the like are kept: vendors'
/// file names (`Campaign report (1).csv`) help detection, and each file has a directory of its
/// own, so names cannot collide.
fn sanitize(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = base
        .chars()
        .map(|c| if c.is_alphanumeric() || " .-_()[]+,@&'".contains(c) { c } else { '_' })
        .collect();
    let clean = clean.trim().trim_start_matches('.').trim().to_owned();
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
        assert_eq!(sanitize("C:\\x\\deals 2025.csv"), "deals 2025.csv");
        assert_eq!(sanitize("Campaign report (1).csv"), "Campaign report (1).csv");
        assert_eq!(sanitize("a\u{0}b:c.csv"), "a_b_c.csv");
        assert_eq!(sanitize(".."), "upload");
        assert_eq!(sanitize(".hidden.csv"), "hidden.csv");
    }
}
