//! Campaigns: the ad platforms' figures per platform and campaign.

use super::blocks::{self, merge_notes};
use super::{Block, Ctx, Page};
use crate::error::ApiResult;

pub const COLUMNS: &[&str] = &[
    "ad_cost",
    "impressions",
    "clicks",
    "ctr",
    "cpc",
    "cpm",
    "ad_conversions",
    "cost_per_conversion",
    "search_impression_share",
];

pub async fn build(ctx: Ctx) -> ApiResult<Page> {
    // Impressions are a vanity KPI on the overview, but a campaign table without them cannot
    // be read (CTR, CPM): shown here always.
    let mut ctx_all = ctx.clone();
    ctx_all.view.vanity = true;
    let (tiles, tile_notes) = blocks::tiles(
        &ctx_all,
        &["ad_cost", "clicks", "ctr", "cpc", "ad_conversions", "cost_per_conversion"],
    )
    .await?;
    let (platforms, platform_notes) =
        blocks::by_dimension(&ctx_all, "platforms", "By platform", &["platform"], COLUMNS).await?;
    let (campaigns, campaign_notes) = blocks::by_dimension(
        &ctx_all,
        "campaigns",
        "By campaign",
        &["platform", "campaign"],
        COLUMNS,
    )
    .await?;
    let mut out = vec![tiles];
    if let Some(chart) = blocks::trend(&ctx, "ad-cost-trend", "Ad spend", &["ad_cost"]).await? {
        out.push(Block::Chart(chart));
    }
    out.push(Block::Table(platforms));
    out.push(Block::Table(campaigns));
    Ok(Page {
        title: "Campaigns".into(),
        intro: "What the ad platforms report, per platform and campaign.".into(),
        blocks: out,
        notes: merge_notes([tile_notes, platform_notes, campaign_notes]),
    })
}
