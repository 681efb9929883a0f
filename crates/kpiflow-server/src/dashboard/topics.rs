//! Email, Social and SEO: their KPIs, a trend, and splits by segment, network or keyword.

use super::blocks::{self, merge_notes};
use super::{Block, Ctx, Page};
use crate::error::ApiResult;

struct Topic {
    title: &'static str,
    intro: &'static str,
    group: &'static str,
    trend: &'static [&'static str],
    trend_title: &'static str,
    splits: &'static [(&'static str, &'static str, &'static str)],
}

async fn build(ctx: Ctx, topic: Topic) -> ApiResult<Page> {
    let catalog = ctx.state.catalog();
    let kpis: Vec<&str> =
        catalog.kpis.iter().filter(|k| k.group == topic.group).map(|k| k.id.as_str()).collect();
    let (tiles, tile_notes) = blocks::tiles(&ctx, &kpis).await?;
    let mut out = vec![tiles];
    let mut notes = vec![tile_notes];
    if let Some(chart) =
        blocks::trend(&ctx, &format!("{}-trend", topic.group), topic.trend_title, topic.trend)
            .await?
    {
        out.push(Block::Chart(chart));
    }
    for (id, title, dim) in topic.splits {
        let (table, n) = blocks::by_dimension(&ctx, id, title, &[dim], &kpis).await?;
        notes.push(n);
        if table.columns.len() > 1 {
            out.push(Block::Table(table));
        }
    }
    Ok(Page {
        title: topic.title.into(),
        intro: topic.intro.into(),
        blocks: out,
        notes: merge_notes(notes),
    })
}

pub async fn email(ctx: Ctx) -> ApiResult<Page> {
    build(
        ctx,
        Topic {
            title: "Email",
            intro: "Whether email reaches people, gets read, and brings leads.",
            group: "email",
            trend: &["open_rate", "click_rate", "click_to_open_rate"],
            trend_title: "Opens and clicks",
            splits: &[
                ("email-by-segment", "By segment", "segment"),
                ("email-by-campaign", "By campaign", "name"),
            ],
        },
    )
    .await
}

pub async fn social(ctx: Ctx) -> ApiResult<Page> {
    build(
        ctx,
        Topic {
            title: "Social",
            intro: "Engagement on social networks, and the leads and revenue they bring.",
            group: "social",
            trend: &["engagement_rate"],
            trend_title: "Engagement rate",
            splits: &[("social-by-network", "By network", "network")],
        },
    )
    .await
}

pub async fn seo(ctx: Ctx) -> ApiResult<Page> {
    build(
        ctx,
        Topic {
            title: "SEO",
            intro: "Organic search: rankings, the traffic's worth, and links.",
            group: "seo",
            trend: &["organic_traffic_value"],
            trend_title: "Organic traffic value",
            splits: &[("seo-by-keyword", "By keyword", "keyword")],
        },
    )
    .await
}
