//! The dashboard: server-rendered HTML pages over the same engine as the API.
//!
//! A page is built as a [`Page`] model — tiles, charts, tables, notices — then rendered as HTML.
//! The download routes build the same model and render one of its charts as SVG or one of its
//! tables as CSV, so a download holds exactly what the page shows. Filters are query parameters
//! ([`View`]), so a URL reproduces a view.

mod attribution;
mod blocks;
mod campaigns;
mod channels;
mod data;
mod definitions;
mod funnel;
mod goals;
mod import;
mod layout;
mod overview;
mod plan;
mod revenue;
mod topics;
mod view;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kpiflow_catalog::Unit;
use kpiflow_engine::Engine;
use maud::Markup;

use crate::charts::{self, ChartData};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

pub use view::View;

/// What a page shows, in order.
#[derive(Debug, Default)]
pub struct Page {
    pub title: String,
    /// One sentence under the title: what the page answers.
    pub intro: String,
    pub blocks: Vec<Block>,
    /// Notes from the engine (KPIs without data, left-out KPIs), shown at the top.
    pub notes: Vec<String>,
}

#[derive(Debug)]
pub enum Block {
    Tiles(Vec<Tile>),
    Chart(ChartBlock),
    Table(TableBlock),
    /// A plain message (data missing, nothing to show).
    Notice(String),
    /// A form of knobs that reloads the page with them (the Plan page's what-ifs).
    Form(FormBlock),
    /// A finding: a title, its evidence and what to do (the diagnosis).
    Finding {
        title: String,
        evidence: String,
        advice: String,
    },
    /// Markup the page renders itself (the Import page's upload form, which `app.js` drives).
    Html(Markup),
}

/// Inputs that reload the page with their values as query parameters; the view's other
/// parameters ride along as hidden inputs.
#[derive(Debug)]
pub struct FormBlock {
    pub id: String,
    pub title: String,
    pub fields: Vec<FormField>,
    pub caption: Option<String>,
}

#[derive(Debug)]
pub struct FormField {
    pub name: String,
    pub label: String,
    pub value: String,
    /// Shown when empty (the trailing rate a what-if replaces).
    pub placeholder: String,
    /// For a select: its options (value, text).
    pub options: Vec<(String, String)>,
}

/// A chart in a card, downloadable as SVG and PNG.
#[derive(Debug)]
pub struct ChartBlock {
    /// A registered chart kind (`charts::CHARTS`).
    pub kind: &'static str,
    pub data: ChartData,
    pub caption: Option<String>,
}

/// A table in a card, sortable, downloadable as CSV.
#[derive(Debug)]
pub struct TableBlock {
    /// DOM id and CSV file stem.
    pub id: String,
    pub title: String,
    pub columns: Vec<TableColumn>,
    pub rows: Vec<Vec<Cell>>,
    pub caption: Option<String>,
}

#[derive(Debug)]
pub struct TableColumn {
    pub name: String,
    pub numeric: bool,
}

/// A table cell: the text people read and, for numbers, the value machines get (CSV, sorting).
#[derive(Debug, Clone)]
pub struct Cell {
    pub text: String,
    pub value: Option<f64>,
    /// For a link to another view.
    pub href: Option<String>,
    /// An anchor (`#id`) other pages link to.
    pub anchor: Option<String>,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell { text: text.into(), value: None, href: None, anchor: None }
    }

    pub fn number(value: Option<f64>, unit: Unit, currency: &str) -> Cell {
        Cell {
            text: charts::format(value, unit, currency),
            value: value.filter(|v| v.is_finite()),
            href: None,
            anchor: None,
        }
    }

    pub fn anchor(mut self, id: String) -> Cell {
        self.anchor = Some(id);
        self
    }

    pub fn link(mut self, href: String) -> Cell {
        self.href = Some(href);
        self
    }
}

/// A KPI tile.
#[derive(Debug)]
pub struct Tile {
    pub kpi: String,
    pub name: String,
    pub question: String,
    pub value: Option<f64>,
    pub value_text: String,
    /// "+12.0 %" and whether that is good; `None` without a comparison or a previous value.
    pub change: Option<(String, Option<bool>)>,
    pub spark: Option<ChartData>,
    /// Why there is no value (tables missing, not filterable as asked).
    pub missing: Option<String>,
}

/// What a page builder gets.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub state: AppState,
    pub engine: Arc<Engine>,
    pub view: View,
}

impl Ctx {
    pub fn currency(&self) -> &str {
        &self.state.config().currency
    }
}

type BuildFuture = Pin<Box<dyn Future<Output = ApiResult<Page>> + Send>>;

/// A page of the dashboard.
#[derive(Debug)]
pub struct PageDef {
    /// URL path segment (`""` for the overview).
    pub slug: &'static str,
    /// Navigation label.
    pub label: &'static str,
    pub build: fn(Ctx) -> BuildFuture,
}

/// Every page, in navigation order.
pub static PAGES: &[PageDef] = &[
    PageDef { slug: "", label: "Overview", build: |c| Box::pin(overview::build(c)) },
    PageDef { slug: "funnel", label: "Funnel", build: |c| Box::pin(funnel::build(c)) },
    PageDef { slug: "channels", label: "Channels", build: |c| Box::pin(channels::build(c)) },
    PageDef { slug: "campaigns", label: "Campaigns", build: |c| Box::pin(campaigns::build(c)) },
    PageDef { slug: "revenue", label: "Revenue", build: |c| Box::pin(revenue::build(c)) },
    PageDef { slug: "email", label: "Email", build: |c| Box::pin(topics::email(c)) },
    PageDef { slug: "social", label: "Social", build: |c| Box::pin(topics::social(c)) },
    PageDef { slug: "seo", label: "SEO", build: |c| Box::pin(topics::seo(c)) },
    PageDef {
        slug: "attribution",
        label: "Attribution",
        build: |c| Box::pin(attribution::build(c)),
    },
    PageDef { slug: "goals", label: "Goals", build: |c| Box::pin(goals::build(c)) },
    PageDef { slug: "plan", label: "Plan", build: |c| Box::pin(plan::build(c)) },
    PageDef {
        slug: "definitions",
        label: "Definitions",
        build: |c| Box::pin(definitions::build(c)),
    },
    PageDef { slug: "data", label: "Data", build: |c| Box::pin(data::build(c)) },
    PageDef { slug: import::SLUG, label: "Import", build: |c| Box::pin(import::build(c)) },
];

fn page_def(slug: &str) -> ApiResult<&'static PageDef> {
    PAGES.iter().find(|p| p.slug == slug).ok_or_else(|| {
        ApiError::from(kpiflow_model::UnknownName::new(
            "page",
            slug,
            PAGES.iter().map(|p| if p.slug.is_empty() { "/" } else { p.slug }),
        ))
        .into_not_found()
        .html()
    })
}

/// The dashboard's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|s, q| page(s, Path(String::new()), q)))
        .route(
            "/assets/style.css",
            get(|| async { asset("text/css; charset=utf-8", include_str!("../assets/style.css")) }),
        )
        .route(
            "/assets/app.js",
            get(|| async {
                asset("text/javascript; charset=utf-8", include_str!("../assets/app.js"))
            }),
        )
        .route("/{page}", get(page))
        .route("/{page}/chart/{file}", get(chart_download))
        .route("/{page}/table/{file}", get(table_download))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body)
        .into_response()
}

async fn build(
    state: AppState,
    slug: &str,
    query: Result<Query<std::collections::BTreeMap<String, String>>, QueryRejection>,
) -> ApiResult<(Page, Ctx)> {
    let def = page_def(slug)?;
    let Query(raw) = query.map_err(|e| ApiError::from(e).html())?;
    let engine = state.engine().await.map_err(ApiError::html)?;
    let view = View::parse(raw, &engine, state.catalog()).await.map_err(ApiError::html)?;
    let ctx = Ctx { state: state.clone(), engine, view };
    let page = state.bounded((def.build)(ctx.clone())).await.map_err(ApiError::html)?;
    Ok((page, ctx))
}

async fn page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    query: Result<Query<std::collections::BTreeMap<String, String>>, QueryRejection>,
) -> ApiResult<Markup> {
    let (page, ctx) = build(state, &slug, query).await?;
    Ok(layout::render(&page, slug_of(&slug), &ctx))
}

fn slug_of(slug: &str) -> &'static str {
    PAGES.iter().find(|p| p.slug == slug).map_or("", |p| p.slug)
}

async fn chart_download(
    State(state): State<AppState>,
    Path((slug, file)): Path<(String, String)>,
    query: Result<Query<std::collections::BTreeMap<String, String>>, QueryRejection>,
) -> ApiResult<Response> {
    let slug = if slug == "overview" { String::new() } else { slug };
    let id = file.strip_suffix(".svg").ok_or_else(|| {
        ApiError::not_found(format!(
            "`{file}`: charts download as .svg (PNG is made by the browser)"
        ))
    })?;
    let (page, _) = build(state, &slug, query).await?;
    let chart = page
        .blocks
        .iter()
        .find_map(|b| match b {
            Block::Chart(c) if c.data.id == id => Some(c),
            _ => None,
        })
        .ok_or_else(|| ApiError::not_found(format!("this page has no chart `{id}`")))?;
    let kind = charts::chart(chart.kind)
        .ok_or_else(|| ApiError::internal(format!("unknown chart kind {}", chart.kind)))?;
    let svg = charts::render_svg_document(&chart.data, kind);
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{id}.svg\"")),
        ],
        svg,
    )
        .into_response())
}

async fn table_download(
    State(state): State<AppState>,
    Path((slug, file)): Path<(String, String)>,
    query: Result<Query<std::collections::BTreeMap<String, String>>, QueryRejection>,
) -> ApiResult<Response> {
    let slug = if slug == "overview" { String::new() } else { slug };
    let id = file
        .strip_suffix(".csv")
        .ok_or_else(|| ApiError::not_found(format!("`{file}`: tables download as .csv")))?;
    let (page, _) = build(state, &slug, query).await?;
    let table = page
        .blocks
        .iter()
        .find_map(|b| match b {
            Block::Table(t) if t.id == id => Some(t),
            _ => None,
        })
        .ok_or_else(|| ApiError::not_found(format!("this page has no table `{id}`")))?;
    let csv = table_csv(table).map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{id}.csv\"")),
        ],
        csv,
    )
        .into_response())
}

/// A table as CSV: numbers as plain numbers (rates as fractions, money without symbols), text
/// as shown, missing values empty — the conventions of `kpiflow report --format csv`.
pub fn table_csv(table: &TableBlock) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(table.columns.iter().map(|c| c.name.as_str()))?;
    for row in &table.rows {
        w.write_record(row.iter().zip(&table.columns).map(|(cell, col)| {
            if col.numeric {
                match kpiflow_engine::json::number(cell.value) {
                    serde_json::Value::Null => String::new(),
                    v => v.to_string(),
                }
            } else {
                cell.text.clone()
            }
        }))?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The dashboard's rendering of an error.
pub fn error_page(status: StatusCode, body: &ErrorBody) -> Markup {
    layout::error(status, body)
}
