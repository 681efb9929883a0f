//! Import: export files dropped in the browser, previewed through `POST /api/imports/preview`
//! (each file's detected preset and tables, the first rows as they will be stored, the errors
//! with their place), then imported through `POST /api/imports`, with the same bearer token.
//!
//! The page renders the form; `app.js` sends it (the token goes in the `Authorization` header,
//! which a plain form cannot set, and stays in `sessionStorage`, never in a URL). A server
//! without a token has imports off: the page then says how to turn them on instead of showing a
//! form that cannot work.

use std::collections::BTreeMap;

use maud::{Markup, html};

use super::{Block, Cell, Ctx, PAGES, Page, TableBlock, TableColumn};
use crate::error::ApiResult;

/// The page's slug; the layout shows it without the filter bar (it reads no figures).
pub const SLUG: &str = "import";

/// The file endings the file chooser offers (the import formats, and a zip of them).
const ACCEPT: &str = ".csv,.tsv,.txt,.json,.jsonl,.ndjson,.parquet,.xlsx,.xls,.ods,.zip";

/// Rows per table the preview shows.
const PREVIEW_ROWS: usize = 10;

/// Which dashboard page shows a table's data once imported (the outcome links to it).
const TABLE_PAGES: &[(&str, &str)] = &[
    ("ad_spend", "campaigns"),
    ("sessions", "channels"),
    ("events", "channels"),
    ("web_traffic", "channels"),
    ("contacts", "funnel"),
    ("stage_changes", "funnel"),
    ("accounts", "funnel"),
    ("deals", "revenue"),
    ("revenue", "revenue"),
    ("email_campaigns", "email"),
    ("social_posts", "social"),
    ("search_performance", "seo"),
    ("seo_keywords", "seo"),
    ("backlinks", "seo"),
];

pub async fn build(ctx: Ctx) -> ApiResult<Page> {
    let writes = ctx.state.options().token.is_some();
    let mut blocks = Vec::new();
    if writes {
        blocks.push(Block::Html(form(&ctx)));
    } else {
        blocks.push(Block::Notice(
            "Imports over HTTP are off: this server has no token, so it accepts no uploads.".into(),
        ));
        blocks.push(Block::Html(turn_on()));
    }
    blocks.push(Block::Table(presets_table()));
    Ok(Page {
        title: "Import".into(),
        intro: "Drop the exports of your tools: each file is read through the preset detected \
                from it, previewed as it will be stored, then imported."
            .into(),
        blocks,
        notes: Vec::new(),
    })
}

/// Per table, the page that shows it (JSON for the script: `{table: {href, label}}`), keeping
/// the view's parameters.
fn table_pages(ctx: &Ctx) -> String {
    let mut out = serde_json::Map::new();
    for (table, slug) in TABLE_PAGES {
        if let Some(page) = PAGES.iter().find(|p| p.slug == *slug) {
            out.insert(
                (*table).to_owned(),
                serde_json::json!({ "href": ctx.view.href(slug, &[]), "label": page.label }),
            );
        }
    }
    serde_json::Value::Object(out).to_string()
}

/// The presets by vendor (vendors A to Z, each vendor's presets in registry order).
fn presets_by_vendor() -> BTreeMap<&'static str, Vec<&'static kpiflow_store::presets::PresetInfo>> {
    let mut by_vendor: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for p in kpiflow_store::presets::presets() {
        let info = p.info();
        by_vendor.entry(info.vendor.as_str()).or_default().push(info);
    }
    by_vendor
}

fn form(ctx: &Ctx) -> Markup {
    html! {
        section.card.import aria-labelledby="import-form-title" {
            h2 #import-form-title { "Files" }
            form #import-form .import-form method="post" action="/api/imports"
                enctype="multipart/form-data"
                data-preview=(format!("/api/imports/preview?rows={PREVIEW_ROWS}"))
                data-import="/api/imports"
                data-pages=(table_pages(ctx))
                data-data-page=(ctx.view.href("data", &[])) {
                div #import-drop .dropzone {
                    label for="import-file" {
                        strong { "Drop export files here" } " or choose them"
                    }
                    input #import-file type="file" name="file" multiple required accept=(ACCEPT);
                    p.caption {
                        "CSV or TSV (UTF-8, UTF-16, Windows-1252), JSON lines, Parquet, Excel, \
                         or a zip of them; several files at once."
                    }
                    ul #import-file-list .import-file-list aria-label="Files chosen" {}
                }
                div.import-options {
                    label {
                        "Token "
                        // No `name`: the token is sent as a bearer header, never as a field.
                        input #import-token type="password" autocomplete="off" spellcheck="false"
                            required size="24" placeholder="the server's token";
                    }
                    label title="Read every file into this table (by its canonical column names) instead of detecting a preset" {
                        "Table "
                        select #import-table name="table" {
                            option value="" { "detect from each file" }
                            @for t in kpiflow_model::TABLES {
                                option value=(t.name) { (t.name) }
                            }
                        }
                    }
                    label title="Read every file with this preset instead of detecting one" {
                        "Preset "
                        select #import-preset name="preset" {
                            option value="" { "detect from each file" }
                            @for (vendor, infos) in presets_by_vendor() {
                                optgroup label=(vendor) {
                                    @for info in infos {
                                        option value=(info.name) title=(info.title) {
                                            (info.name) " (" (info.tables.join(", ")) ")"
                                        }
                                    }
                                }
                            }
                        }
                    }
                    label title="What a row that cannot be read does to the import" {
                        "Bad rows "
                        select #import-on-error name="on_error" {
                            option value="fail" { "stop the import (nothing written)" }
                            option value="skip" { "skip them (to a rejects file)" }
                        }
                    }
                }
                div.import-actions {
                    // Enabled by the script: without it the token cannot be sent.
                    button #import-preview type="submit" disabled { "Preview" }
                    button #import-run type="button" disabled
                        title="Preview the files first" { "Import" }
                    span #import-status role="status" aria-live="polite" {}
                }
                noscript {
                    p.notice {
                        "This page needs JavaScript to send the token. Without it, use the API \
                         (below) or `kpiflow import FILE…`."
                    }
                }
            }
        }
        div #import-result aria-live="polite" {}
        details.card.import-api {
            summary { "The same over the API" }
            p {
                "Preview (writes nothing), then import; without " code { "table" } " or "
                code { "preset" } " each file is read through the preset detected from it. "
                "Add " code { "-F table=ad_spend" } ", " code { "-F preset=NAME" } " or "
                code { "-F on_error=skip" } " as on this form."
            }
            pre.import-curl {
                "curl -H \"Authorization: Bearer $KPIFLOW_TOKEN\" -F \"file=@Campaign report.csv\" \\\n  "
                span.origin { (origin(ctx)) } "/api/imports/preview\n"
                "curl -H \"Authorization: Bearer $KPIFLOW_TOKEN\" -F \"file=@Campaign report.csv\" \\\n  "
                span.origin { (origin(ctx)) } "/api/imports"
            }
        }
    }
}

/// The server's address as configured (the script puts the page's own origin in its place).
fn origin(ctx: &Ctx) -> String {
    format!("http://{}", ctx.state.config().server.addr)
}

/// How to turn imports on, for a server without a token.
fn turn_on() -> Markup {
    html! {
        section.card.import-off aria-labelledby="import-off-title" {
            h2 #import-off-title { "Turn imports on" }
            p {
                "Give the server a token of at least 16 characters, either in "
                code { "kpiflow.toml" } ":"
            }
            pre { "[server]\ntoken = \"a-long-random-secret\"" }
            p {
                "or in the " code { "KPIFLOW_TOKEN" } " environment variable, then restart "
                code { "kpiflow serve" } ":"
            }
            pre { "KPIFLOW_TOKEN=a-long-random-secret kpiflow serve" }
            p {
                "This page then offers an upload form; the API takes the same token as "
                code { "Authorization: Bearer <token>" } " on " code { "POST /api/imports" } ". "
                "Without a server, " code { "kpiflow import FILE…" } " imports from the command \
                line."
            }
        }
    }
}

/// The exports read without a mapping.
fn presets_table() -> TableBlock {
    let col = |name: &str| TableColumn { name: name.to_owned(), numeric: false };
    let mut rows = Vec::new();
    for (vendor, infos) in presets_by_vendor() {
        for info in infos {
            rows.push(vec![
                Cell::text(vendor),
                Cell::text(info.name.clone()).anchor(format!("preset-{}", info.name)),
                Cell::text(info.title.clone()),
                Cell::text(info.tables.join(", ")),
                Cell::text(info.export.clone()),
            ]);
        }
    }
    TableBlock {
        id: "presets".into(),
        title: "Exports read without a mapping".into(),
        columns: vec![
            col("vendor"),
            col("preset"),
            col("export"),
            col("tables"),
            col("how to get it"),
        ],
        rows,
        caption: Some(
            "A file is read through the preset whose identifying columns are all in its header \
             (`kpiflow presets` lists them; `kpiflow presets show NAME` prints one as a mapping \
             to adapt)."
                .into(),
        ),
    }
}
