//! Revenue: MRR and its movements, retention, customer value and payback.

use chrono::Months;
use kpiflow_catalog::Unit;
use kpiflow_engine::{Grain, Period};

use super::blocks::{self, merge_notes, total};
use super::{Block, Cell, ChartBlock, Ctx, Page, TableBlock, TableColumn};
use crate::charts::{ChartData, Series};
use crate::error::ApiResult;

pub const TILES: &[&str] = &[
    "mrr",
    "arr",
    "net_new_mrr",
    "gross_revenue_retention",
    "net_revenue_retention",
    "logo_churn_rate",
    "arpa",
    "clv",
    "clv_to_cac",
    "cac_payback_months",
];

const MOVEMENTS: &[&str] =
    &["new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "net_new_mrr", "mrr"];

pub async fn build(ctx: Ctx) -> ApiResult<Page> {
    let (tiles, tile_notes) = blocks::tiles(&ctx, TILES).await?;
    let mut out = vec![tiles];
    let mut notes = vec![tile_notes];

    // The waterfall: MRR at the end of the month before the period, the period's movements,
    // MRR at its end. When start + movements differs from the end, the chart shows it.
    let period = &ctx.view.period;
    let before_from = period.from.checked_sub_months(Months::new(1)).unwrap_or(period.from);
    let before = Period {
        from: before_from,
        to: period.from,
        label: before_from.format("%Y-%m").to_string(),
    };
    let start = ctx.values(&["mrr"], &[], Grain::Total, Some(before), false).await?;
    let moves = ctx.values(MOVEMENTS, &[], Grain::Total, None, false).await?;
    notes.push(moves.warnings());
    if moves.kpi("mrr").is_some_and(|k| k.has_data) {
        let neg = |v: Option<f64>| v.map(|v| -v);
        let steps: Vec<(&str, Option<f64>)> = vec![
            ("MRR at start", total(&start, "mrr")),
            ("New", total(&moves, "new_mrr")),
            ("Expansion", total(&moves, "expansion_mrr")),
            ("Contraction", neg(total(&moves, "contraction_mrr"))),
            ("Churn", neg(total(&moves, "churned_mrr"))),
            ("MRR at end", total(&moves, "mrr")),
        ];
        out.push(Block::Chart(ChartBlock {
            kind: "waterfall",
            data: ChartData {
                id: "mrr-waterfall".into(),
                title: "MRR movements".into(),
                unit: Unit::Currency,
                currency: ctx.currency().to_owned(),
                categories: steps.iter().map(|(s, _)| (*s).to_owned()).collect(),
                series: vec![Series {
                    name: "MRR".into(),
                    values: steps.iter().map(|(_, v)| *v).collect(),
                }],
            },
            caption: Some(
                "From the MRR of the month before the period to the MRR of its last month.".into(),
            ),
        }));
    }
    if let Some(chart) = blocks::trend(&ctx, "mrr-trend", "MRR", &["mrr"]).await? {
        out.push(Block::Chart(chart));
    }

    // Movements per bucket of the trend window, as a table to download.
    let trend =
        ctx.values(MOVEMENTS, &[], ctx.view.grain, Some(ctx.view.trend_period()), false).await?;
    if let Some(report) = &trend.report {
        let mut buckets: Vec<(chrono::NaiveDate, String)> =
            report.rows.iter().map(|r| (r.period_start, r.period.clone())).collect();
        buckets.sort();
        buckets.dedup();
        let catalog = ctx.state.catalog();
        let mut columns = vec![TableColumn { name: "period".into(), numeric: false }];
        columns.extend(MOVEMENTS.iter().map(|k| TableColumn {
            name: catalog.kpi(k).map_or_else(|| (*k).to_owned(), |k| k.name.clone()),
            numeric: true,
        }));
        let rows = buckets
            .iter()
            .map(|(start, label)| {
                let mut row = vec![Cell::text(label.clone())];
                row.extend(MOVEMENTS.iter().map(|k| {
                    Cell::number(
                        trend.row(k, Some(*start), &[]).and_then(|r| r.value),
                        Unit::Currency,
                        ctx.currency(),
                    )
                }));
                row
            })
            .collect();
        out.push(Block::Table(TableBlock {
            id: "mrr-movements".into(),
            title: "MRR movements by period".into(),
            columns,
            rows,
            caption: None,
        }));
    }
    Ok(Page {
        title: "Revenue".into(),
        intro: "Recurring revenue, how it moves, and what a customer is worth.".into(),
        blocks: out,
        notes: merge_notes(notes),
    })
}
