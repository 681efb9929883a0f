//! Channels: per channel, traffic, spend, the funnel's volumes, revenue and what they cost.

use kpiflow_catalog::Unit;

use super::blocks::{self, merge_notes};
use super::{Block, Ctx, Page};
use crate::error::ApiResult;

pub const COLUMNS: &[&str] = &[
    "won_revenue",
    "sessions",
    "ad_cost",
    "leads",
    "mqls",
    "sqls",
    "customers",
    "cpl",
    "cac",
    "marketing_roi",
];

pub async fn build(ctx: Ctx) -> ApiResult<Page> {
    let (table, notes) =
        blocks::by_dimension(&ctx, "channels", "Channels", &["channel"], COLUMNS).await?;
    let won = table.columns.iter().position(|c| c.name == "Won revenue").unwrap_or(1);
    let leads = table.columns.iter().position(|c| c.name == "Leads");
    let mut out = vec![Block::Chart(blocks::bars_of(
        &table,
        won,
        "won-revenue-by-channel",
        "Won revenue by channel",
        Unit::Currency,
        ctx.currency(),
        12,
    ))];
    if let Some(leads) = leads {
        out.push(Block::Chart(blocks::bars_of(
            &table,
            leads,
            "leads-by-channel",
            "Leads by channel",
            Unit::Count,
            ctx.currency(),
            12,
        )));
    }
    out.push(Block::Table(table));
    Ok(Page {
        title: "Channels".into(),
        intro: "Which channel brings customers, at what cost. Click a header to sort, a channel to filter every page by it.".into(),
        blocks: out,
        notes: merge_notes([notes]),
    })
}
