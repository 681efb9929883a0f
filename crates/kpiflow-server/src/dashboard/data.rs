//! Data: the store's tables, the import log, data-quality warnings.

use kpiflow_catalog::Unit;
use kpiflow_store::inspect::{quality_warnings, table_infos};

use super::{Block, Cell, Ctx, Page, TableBlock, TableColumn};
use crate::error::{ApiError, ApiResult};

fn cols(names: &[(&str, bool)]) -> Vec<TableColumn> {
    names
        .iter()
        .map(|(n, numeric)| TableColumn { name: (*n).to_owned(), numeric: *numeric })
        .collect()
}

pub async fn build(ctx: Ctx) -> ApiResult<Page> {
    let store = ctx.state.store();
    let currency = ctx.currency().to_owned();
    let count = |v: u64| Cell::number(Some(v as f64), Unit::Count, &currency);
    let infos = table_infos(store, None).await.map_err(ApiError::internal)?;
    let mut blocks = vec![Block::Table(TableBlock {
        id: "tables".into(),
        title: "Tables".into(),
        columns: cols(&[
            ("table", false),
            ("rows", true),
            ("version", true),
            ("from", false),
            ("to", false),
        ]),
        rows: infos
            .iter()
            .map(|t| {
                vec![
                    Cell::text(t.table),
                    count(t.rows),
                    Cell::number(t.version.map(|v| v as f64), Unit::Count, &currency),
                    Cell::text(t.from.clone().unwrap_or_default()),
                    Cell::text(t.to.clone().unwrap_or_default()),
                ]
            })
            .collect(),
        caption: Some("A table without a version has never been imported.".into()),
    })];
    let warnings = quality_warnings(store, None).await.map_err(ApiError::internal)?;
    if warnings.is_empty() {
        blocks.push(Block::Notice("No data-quality warnings.".into()));
    } else {
        blocks.push(Block::Table(TableBlock {
            id: "quality".into(),
            title: "Data-quality warnings".into(),
            columns: cols(&[
                ("check", false),
                ("table", false),
                ("rows", true),
                ("message", false),
                ("examples", false),
            ]),
            rows: warnings
                .iter()
                .map(|w| {
                    vec![
                        Cell::text(w.check.clone()),
                        Cell::text(w.table),
                        count(w.rows),
                        Cell::text(w.message.clone()),
                        Cell::text(w.examples.join(", ")),
                    ]
                })
                .collect(),
            caption: None,
        }));
    }
    let log = store.import_log().await.map_err(ApiError::internal)?;
    blocks.push(Block::Table(TableBlock {
        id: "imports".into(),
        title: "Import log".into(),
        columns: cols(&[
            ("import", true),
            ("imported at", false),
            ("table", false),
            ("files", false),
            ("read by", false),
            ("read", true),
            ("inserted", true),
            ("updated", true),
            ("unchanged", true),
            ("rejected", true),
            ("version", true),
        ]),
        rows: log
            .entries
            .iter()
            .rev()
            .map(|e| {
                vec![
                    count(e.number),
                    Cell::text(e.imported_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
                    Cell::text(e.table.clone()),
                    Cell::text(
                        e.files
                            .iter()
                            .map(|f| f.rsplit(['/', '\\']).next().unwrap_or(f))
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    Cell::text(read_by(e)),
                    count(e.rows_read),
                    count(e.inserted),
                    count(e.updated),
                    count(e.unchanged),
                    count(e.rejected),
                    Cell::number(e.table_version.map(|v| v as f64), Unit::Count, &currency),
                ]
            })
            .collect(),
        caption: Some("Newest first.".into()),
    }));
    Ok(Page {
        title: "Data".into(),
        intro: "What the store holds and where it came from.".into(),
        blocks,
        notes: Vec::new(),
    })
}

/// How an import read its files: the presets (each once), else its mapping, else the canonical
/// column names.
fn read_by(e: &kpiflow_store::ImportLogEntry) -> String {
    let mut presets: Vec<&str> = Vec::new();
    for p in e.presets.iter().filter(|p| !p.is_empty()) {
        if !presets.contains(&p.as_str()) {
            presets.push(p);
        }
    }
    if !presets.is_empty() {
        return presets.iter().map(|p| format!("preset {p}")).collect::<Vec<_>>().join(", ");
    }
    match &e.mapping {
        Some(m) => format!("mapping {}", m.rsplit(['/', '\\']).next().unwrap_or(m)),
        None => "column names".into(),
    }
}
