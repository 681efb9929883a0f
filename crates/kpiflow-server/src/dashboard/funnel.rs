//! Funnel: stage counts and conversions, time between stages, breakdown by channel.

use kpiflow_catalog::Unit;
use kpiflow_engine::funnel::{Funnel, FunnelRequest};

use super::{Block, Cell, ChartBlock, Ctx, Page, TableBlock, TableColumn};
use crate::charts::{ChartData, Series};
use crate::error::ApiResult;

/// Contact dimensions the funnel can take as filters.
fn funnel_request(ctx: &Ctx, by: Option<&str>) -> (FunnelRequest, Vec<String>) {
    let dims = ctx.state.catalog().source("stage_entries").map(|s| s.dimensions).unwrap_or(&[]);
    let mut ignored = Vec::new();
    let filters = ctx
        .view
        .filters
        .iter()
        .filter(|(d, _)| {
            let ok = dims.contains(&d.as_str());
            if !ok {
                ignored.push(format!("the funnel follows contacts' stages, which have no `{d}`: that filter is not applied to it"));
            }
            ok
        })
        .cloned()
        .collect();
    let request = FunnelRequest {
        period: Some(ctx.view.period.clone()),
        by: by.map(str::to_owned),
        filters,
        ..FunnelRequest::default()
    };
    (request, ignored)
}

async fn run(ctx: &Ctx, by: Option<&str>) -> ApiResult<(Funnel, Vec<String>)> {
    let (request, mut notes) = funnel_request(ctx, by);
    let funnel = ctx.engine.funnel(&request).await?;
    notes.extend(funnel.warnings.iter().cloned());
    Ok((funnel, notes))
}

/// The funnel as horizontal bars with the conversion from the previous stage.
pub async fn chart(ctx: &Ctx, id: &str) -> ApiResult<(Block, Vec<String>)> {
    let (funnel, notes) = run(ctx, None).await?;
    Ok((Block::Chart(bars(&funnel, id, ctx.currency())), notes))
}

fn bars(funnel: &Funnel, id: &str, currency: &str) -> ChartBlock {
    ChartBlock {
        kind: "funnel",
        data: ChartData {
            id: id.to_owned(),
            title: "Funnel".into(),
            unit: Unit::Count,
            currency: currency.to_owned(),
            categories: funnel.stages.iter().map(|s| s.stage.clone()).collect(),
            series: vec![
                Series {
                    name: "contacts".into(),
                    values: funnel.stages.iter().map(|s| Some(s.count as f64)).collect(),
                },
                Series {
                    name: "conversion".into(),
                    values: funnel.stages.iter().map(|s| s.conversion_from_previous).collect(),
                },
            ],
        },
        caption: Some(format!(
            "Contacts reaching each stage in order within {} days of entering the first, for contacts that entered it in the period.",
            funnel.window_days
        )),
    }
}

pub async fn build(ctx: Ctx) -> ApiResult<Page> {
    let currency = ctx.currency().to_owned();
    let (funnel, mut notes) = run(&ctx, None).await?;
    let mut blocks = vec![Block::Chart(bars(&funnel, "funnel", &currency))];
    let pct = |v| Cell::number(v, Unit::Percent, &currency);
    blocks.push(Block::Table(TableBlock {
        id: "stages".into(),
        title: "Stages".into(),
        columns: vec![
            col("stage", false),
            col("count", true),
            col("from previous", true),
            col("from first", true),
        ],
        rows: funnel
            .stages
            .iter()
            .map(|s| {
                vec![
                    Cell::text(s.stage.clone()),
                    Cell::number(Some(s.count as f64), Unit::Count, &currency),
                    pct(s.conversion_from_previous),
                    pct(s.conversion_from_first),
                ]
            })
            .collect(),
        caption: None,
    }));
    let days = |v| Cell::number(v, Unit::Days, &currency);
    blocks.push(Block::Table(TableBlock {
        id: "velocity".into(),
        title: "Time between stages".into(),
        columns: vec![
            col("transition", false),
            col("moves", true),
            col("mean days", true),
            col("median days", true),
            col("p75 days", true),
            col("p90 days", true),
        ],
        rows: funnel
            .velocity
            .iter()
            .map(|v| {
                vec![
                    Cell::text(v.transition.clone()),
                    Cell::number(Some(v.count as f64), Unit::Count, &currency),
                    days(v.mean_days),
                    days(v.median_days),
                    days(v.p75_days),
                    days(v.p90_days),
                ]
            })
            .collect(),
        caption: None,
    }));
    let (by_channel, channel_notes) = run(&ctx, Some("channel")).await?;
    notes.extend(channel_notes);
    let stages: Vec<String> = funnel.stages.iter().map(|s| s.stage.clone()).collect();
    let mut groups: Vec<String> =
        by_channel.stages.iter().filter_map(|s| s.group.clone()).collect();
    groups.sort();
    groups.dedup();
    let mut columns = vec![col("channel", false)];
    for s in &stages {
        columns.push(col(s, true));
    }
    columns.push(col("first to last", true));
    let mut rows: Vec<Vec<Cell>> = groups
        .iter()
        .map(|g| {
            let mut row =
                vec![Cell::text(g.clone()).link(ctx.view.href("funnel", &[("channel", Some(g))]))];
            let mut last = None;
            for s in &stages {
                let stage = by_channel
                    .stages
                    .iter()
                    .find(|x| x.group.as_deref() == Some(g.as_str()) && &x.stage == s);
                row.push(Cell::number(stage.map(|x| x.count as f64), Unit::Count, &currency));
                last = stage.and_then(|x| x.conversion_from_first);
            }
            row.push(pct(last));
            row
        })
        .collect();
    rows.sort_by(|a, b| {
        let v = |r: &Vec<Cell>| r.get(1).and_then(|c| c.value).unwrap_or(0.0);
        v(b).total_cmp(&v(a))
    });
    blocks.push(Block::Table(TableBlock {
        id: "funnel-by-channel".into(),
        title: "By channel".into(),
        columns,
        rows,
        caption: Some("The channel is the contact's first touch.".into()),
    }));
    notes.dedup();
    Ok(Page {
        title: "Funnel".into(),
        intro: "Where the funnel leaks, and how long each step takes.".into(),
        blocks,
        notes,
    })
}

fn col(name: &str, numeric: bool) -> TableColumn {
    TableColumn { name: name.to_owned(), numeric }
}
