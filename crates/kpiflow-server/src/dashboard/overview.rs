//! Overview: the few KPIs a CMO reads, the funnel in small, the top channels.

use super::blocks::{self, merge_notes};
use super::{Block, Ctx, Page};
use crate::error::ApiResult;

/// The tiles, in reading order: volume, pipeline, revenue, efficiency; vanity ones last.
pub const TILES: &[&str] = &[
    "sessions",
    "leads",
    "mqls",
    "sqos",
    "pipeline_created",
    "won_revenue",
    "cpl",
    "cac",
    "win_rate",
    "mrr",
    "clv_to_cac",
    "sales_cycle_days",
    "impressions",
    "reach",
];

pub async fn build(ctx: Ctx) -> ApiResult<Page> {
    let (tiles, tile_notes) = blocks::tiles(&ctx, TILES).await?;
    let mut blocks_out = vec![tiles];
    let funnel = super::funnel::chart(&ctx, "overview-funnel").await?;
    let funnel_notes = funnel.1.clone();
    blocks_out.push(funnel.0);
    let (table, table_notes) = blocks::by_dimension(
        &ctx,
        "top-channels",
        "Top channels",
        &["channel"],
        &["won_revenue", "leads", "customers", "cpl", "cac"],
    )
    .await?;
    let mut top = table;
    top.rows.truncate(8);
    top.caption = Some(
        "The eight channels with the most won revenue; all of them on the Channels page.".into(),
    );
    blocks_out.push(Block::Table(top));
    Ok(Page {
        title: "Overview".into(),
        intro: "The KPIs that matter, against the comparison period.".into(),
        blocks: blocks_out,
        notes: merge_notes([tile_notes, funnel_notes, table_notes]),
    })
}
