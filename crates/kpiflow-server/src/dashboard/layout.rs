//! The page shell (navigation, filter bar) and the rendering of blocks.

use axum::http::StatusCode;
use maud::{DOCTYPE, Markup, html};

use super::view::FILTER_DIMS;
use super::{Block, ChartBlock, Ctx, PAGES, Page, TableBlock, Tile};
use crate::charts;
use crate::error::ErrorBody;

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) }
            link rel="stylesheet" href="/assets/style.css";
            link rel="icon" href="data:,";
            script defer src="/assets/app.js" {}
        }
    }
}

/// A whole page.
pub fn render(page: &Page, slug: &'static str, ctx: &Ctx) -> Markup {
    let config = ctx.state.config();
    let view = &ctx.view;
    let download_slug = if slug.is_empty() { "overview" } else { slug };
    // The Import page reads no figures: no filter bar, no period.
    let figures = slug != super::import::SLUG;
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(&format!("{} · kpiflow · {}", page.title, config.name)))
            body {
                a.skip href="#main" { "Skip to content" }
                header.topbar {
                    a.brand href=(view.href("", &[])) { "kpiflow" }
                    span.project { (config.name) }
                    nav aria-label="Pages" {
                        @for p in PAGES {
                            @if p.slug == slug {
                                a href=(view.href(p.slug, &[])) aria-current="page" { (p.label) }
                            } @else {
                                a href=(view.href(p.slug, &[])) { (p.label) }
                            }
                        }
                    }
                }
                @if figures { (filter_form(slug, ctx)) }
                main #main {
                    h1 { (page.title) }
                    p.intro {
                        (page.intro) " "
                        @if figures { span.period {
                            "Period " strong { (view.period.label) }
                            " (" (view.period.from) " to " (view.period.to.pred_opt().unwrap_or(view.period.to)) ")"
                            @match view.compare {
                                Some(kpiflow_engine::Compare::Previous) => ", compared with the previous period",
                                Some(kpiflow_engine::Compare::YearOverYear) => ", compared with a year earlier",
                                None => "",
                            }
                            @for (d, v) in &view.filters { ", " (d) " = " strong { (v) } }
                            "."
                        } }
                    }
                    @for note in &page.notes {
                        p.notice role="note" { (note) }
                    }
                    @for block in &page.blocks {
                        (render_block(block, download_slug, ctx))
                    }
                }
                footer {
                    "Amounts in " (config.currency) ", dates in " (config.timezone.name())
                    @if config.fiscal_year_start_month != 1 {
                        ", fiscal year from month " (config.fiscal_year_start_month)
                    }
                    ". Data " a href="/api/openapi.json" { "API" } "."
                }
            }
        }
    }
}

fn filter_form(slug: &str, ctx: &Ctx) -> Markup {
    let p = &ctx.view.params;
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    let compare = p.get("compare").map(String::as_str).unwrap_or("previous");
    let grain = p.get("grain").map(String::as_str).unwrap_or("month");
    let active: Vec<String> = ctx.view.filters.iter().map(|(d, v)| format!("{d} = {v}")).collect();
    html! {
        details.filter-panel open data-active=(active.len()) {
            summary {
                "Filters"
                @if !active.is_empty() { ": " (active.join(", ")) }
            }
        form.filters method="get" action=(format!("/{slug}")) aria-label="Filters" {
            label { "Period "
                input type="text" name="period" value=(get("period")) placeholder=(ctx.view.period.label)
                    size="12" list="period-suggestions" title="2025, 2025-Q1, 2025-03, 2025-W05, FY2026, FY2026-Q1";
            }
            datalist #period-suggestions {
                @for s in period_suggestions(ctx) { option value=(s) {} }
            }
            label { "From " input type="date" name="from" value=(get("from")); }
            label { "To " input type="date" name="to" value=(get("to")); }
            label { "Compare "
                select name="compare" {
                    @for (v, text) in [("previous", "previous period"), ("yoy", "a year earlier"), ("none", "nothing")] {
                        option value=(v) selected[compare == v] { (text) }
                    }
                }
            }
            label { "Trend by "
                select name="grain" {
                    @for g in ["day", "week", "month", "quarter", "fiscal_quarter", "year", "fiscal_year"] {
                        option value=(g) selected[grain == g] { (g.replace('_', " ")) }
                    }
                }
            }
            @for d in FILTER_DIMS {
                label { (d.replace('_', " ")) " "
                    input type="text" name=(d) value=(get(d)) size="10" placeholder="all";
                }
            }
            label title="Credit leads, customers and won revenue on the Channels page by this attribution model instead of each contact's first-touch channel" { "Credit by "
                select name="model" {
                    option value="" selected[ctx.view.model.is_none()] { "contact's channel" }
                    @for m in kpiflow_attribution::MODELS {
                        option value=(m.id()) selected[ctx.view.model.as_ref().is_some_and(|s| s.label == m.id())] { (m.title()) }
                    }
                    // A spec with a parameter (markov:3) from the URL stays selected.
                    @if let Some(spec) = ctx.view.model.as_ref().filter(|s| s.parameter.is_some()) {
                        option value=(spec.label) selected { (spec.model.title()) " (" (spec.label) ")" }
                    }
                }
            }
            @if slug == "attribution" {
                label { "Conversion "
                    select name="conversion" {
                        @for t in conversion_targets(ctx) {
                            option value=(t) selected[ctx.view.conversion.name() == t] { (t) }
                        }
                    }
                }
            }
            label.check {
                input type="checkbox" name="vanity" value="true" checked[ctx.view.vanity];
                " vanity KPIs"
            }
            button type="submit" { "Apply" }
            a.reset href=(format!("/{slug}")) { "Reset" }
        }
        }
    }
}

/// What attribution journeys can end at: the funnel's stages, then revenue.
fn conversion_targets(ctx: &Ctx) -> Vec<String> {
    let mut out = ctx.state.config().funnel.stages.clone();
    out.push("revenue".to_owned());
    out
}

/// Periods to offer: the last months, quarters and years before the data's end.
fn period_suggestions(ctx: &Ctx) -> Vec<String> {
    let end = ctx.view.period.to.pred_opt().unwrap_or(ctx.view.period.to);
    let mut out = Vec::new();
    let mut d = end;
    for _ in 0..6 {
        out.push(d.format("%Y-%m").to_string());
        d = d.checked_sub_months(chrono::Months::new(1)).unwrap_or(d);
    }
    use chrono::Datelike;
    let q = (end.month0() / 3) + 1;
    let (mut y, mut q) = (end.year(), q);
    for _ in 0..4 {
        out.push(format!("{y}-Q{q}"));
        if q == 1 {
            y -= 1;
            q = 4;
        } else {
            q -= 1;
        }
    }
    out.push(end.year().to_string());
    out.push((end.year() - 1).to_string());
    out
}

fn render_block(block: &Block, slug: &str, ctx: &Ctx) -> Markup {
    match block {
        Block::Tiles(tiles) => html! {
            section.tiles aria-label="Key figures" {
                @for t in tiles { (tile(t, ctx)) }
            }
        },
        Block::Chart(c) => chart_card(c, slug, ctx),
        Block::Table(t) => table_card(t, slug, ctx),
        Block::Notice(text) => html! { p.notice role="note" { (text) } },
        Block::Form(f) => form_card(f, slug, ctx),
        Block::Html(markup) => markup.clone(),
        Block::Finding { title, evidence, advice } => html! {
            section.card.finding aria-label=(title) {
                h2 { (title) }
                p { strong { "Evidence: " } (evidence) }
                p { strong { "What to do: " } (advice) }
            }
        },
    }
}

fn form_card(f: &super::FormBlock, slug: &str, ctx: &Ctx) -> Markup {
    let own: Vec<&str> = f.fields.iter().map(|x| x.name.as_str()).collect();
    html! {
        section.card aria-labelledby=(format!("{}-title", f.id)) {
            h2 #(format!("{}-title", f.id)) { (f.title) }
            form.knobs #(f.id) method="get" action=(format!("/{slug}")) {
                @for (k, v) in ctx.view.params.iter().filter(|(k, _)| !own.contains(&k.as_str())) {
                    input type="hidden" name=(k) value=(v);
                }
                @for field in &f.fields {
                    label {
                        (field.label) " "
                        @if field.options.is_empty() {
                            input type="text" name=(field.name) value=(field.value) placeholder=(field.placeholder) size="12";
                        } @else {
                            select name=(field.name) {
                                @for (v, text) in &field.options {
                                    option value=(v) selected[*v == field.value] { (text) }
                                }
                            }
                        }
                    }
                }
                button type="submit" { "Recompute" }
            }
            @if let Some(c) = &f.caption { p.caption { (c) } }
        }
    }
}

fn tile(t: &Tile, ctx: &Ctx) -> Markup {
    html! {
        article.tile data-kpi=(t.kpi) title=(t.question) {
            a.tile-name href=(ctx.view.href("definitions", &[]) + "#" + &t.kpi) { (t.name) }
            @if let Some(why) = &t.missing {
                p.tile-value.tile-missing data-value="" { "—" }
                p.tile-missing { (why) }
            } @else {
                p.tile-value data-value=(t.value.map(|v| v.to_string()).unwrap_or_default()) { (t.value_text) }
                @if let Some((text, good)) = &t.change {
                    @let class = match good { Some(true) => "tile-change good", Some(false) => "tile-change bad", None => "tile-change neutral" };
                    p class=(class) {
                        (text)
                        @match good {
                            Some(true) => span.sr { " (good)" },
                            Some(false) => span.sr { " (bad)" },
                            None => "",
                        }
                    }
                }
                @if let Some(spark) = &t.spark {
                    @if let Some(kind) = charts::chart("sparkline") {
                        div.tile-spark { (kind.render(spark)) }
                    }
                }
            }
        }
    }
}

fn chart_card(c: &ChartBlock, slug: &str, ctx: &Ctx) -> Markup {
    let query = ctx.view.query();
    html! {
        section.card aria-labelledby=(format!("{}-title", c.data.id)) {
            h2 #(format!("{}-title", c.data.id)) { (c.data.title) }
            div.card-actions {
                a href=(format!("/{slug}/chart/{}.svg{query}", c.data.id)) download=(format!("{}.svg", c.data.id)) { "SVG" }
                " "
                a href=(format!("/{slug}/chart/{}.svg{query}", c.data.id)) data-png-for=(c.data.id) { "PNG" }
            }
            figure.chart #(c.data.id) {
                @match charts::chart(c.kind) {
                    Some(kind) => (kind.render(&c.data)),
                    None => p.notice { "unknown chart kind " (c.kind) },
                }
                @if let Some(caption) = &c.caption { figcaption { (caption) } }
            }
        }
    }
}

fn table_card(t: &TableBlock, slug: &str, ctx: &Ctx) -> Markup {
    let query = ctx.view.query();
    html! {
        section.card aria-labelledby=(format!("{}-title", t.id)) {
            h2 #(format!("{}-title", t.id)) { (t.title) }
            div.card-actions {
                a href=(format!("/{slug}/table/{}.csv{query}", t.id)) download=(format!("{}.csv", t.id)) data-csv-for=(t.id) { "CSV" }
            }
            @if t.rows.is_empty() {
                p.notice { "No rows for this view." }
            } @else {
                div.table-wrap {
                    table.data #(t.id) {
                        @if let Some(caption) = &t.caption { caption { (caption) } }
                        thead { tr {
                            @for c in &t.columns {
                                th scope="col" data-sort=(if c.numeric { "number" } else { "text" }) tabindex="0" class=[c.numeric.then_some("num")] { (c.name) }
                            }
                        } }
                        tbody {
                            @for row in &t.rows {
                                tr {
                                    @for (cell, c) in row.iter().zip(&t.columns) {
                                        @if c.numeric {
                                            td.num data-value=(cell.value.map(|v| v.to_string()).unwrap_or_default()) { (cell.text) }
                                        } @else {
                                            td id=[cell.anchor.as_deref()] {
                                                @if let Some(href) = &cell.href { a href=(href) { (cell.text) } } @else { (cell.text) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// An error as a page: what went wrong and what to do, with a way back.
pub fn error(status: StatusCode, body: &ErrorBody) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(&format!("{} · kpiflow", status.canonical_reason().unwrap_or("Error"))))
            body {
                header.topbar { a.brand href="/" { "kpiflow" } }
                main #main {
                    h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
                    p.notice role="alert" data-code=(body.code) { (body.message) }
                    @for h in &body.hints { p { (h) } }
                    p { a href="/" { "Back to the overview" } }
                }
            }
        }
    }
}
