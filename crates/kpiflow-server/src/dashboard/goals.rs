//! Goals: every goal of kpiflow.toml with its status, and per goal the cumulative actual against
//! the pacing line (what a Metabase goal line cannot show: where the total should be by today,
//! month by month, under an even or seasonal split).

use kpiflow_catalog::Unit;
use kpiflow_goals::goals::{Accrual, GoalResult};

use super::{Block, Cell, ChartBlock, Ctx, Page, TableBlock, TableColumn};
use crate::charts::{ChartData, Series};
use crate::error::ApiResult;

/// Points of a pacing line drawn at most (a year of days is cut to weeks).
const MAX_POINTS: usize = 60;

fn column(name: &str, numeric: bool) -> TableColumn {
    TableColumn { name: name.to_owned(), numeric }
}

fn pct(v: Option<f64>, currency: &str) -> Cell {
    Cell::number(v, Unit::Percent, currency)
}

/// The cumulative pacing chart of a total, or the level per bucket against its target.
fn chart(g: &GoalResult, currency: &str) -> Option<ChartData> {
    let unit = g.unit.unwrap_or(Unit::Count);
    let id = format!("goal-{}", g.id);
    if g.accrual == Some(Accrual::Total) && !g.pacing.is_empty() {
        let step = g.pacing.len().div_ceil(MAX_POINTS).max(1);
        let last = g.pacing.len() - 1;
        let points: Vec<_> = g
            .pacing
            .iter()
            .enumerate()
            .filter(|(i, _)| i % step == step - 1 || *i == last)
            .map(|(_, p)| p)
            .collect();
        let categories = points.iter().map(|p| p.date.to_string()).collect();
        return Some(ChartData::new(
            &id,
            format!("{}: cumulative actual against the pacing line", g.name),
            unit,
            currency,
            categories,
            vec![
                Series {
                    name: format!("expected ({} split)", g.split_used.name()),
                    values: points.iter().map(|p| Some(p.expected)).collect(),
                },
                Series { name: "actual".into(), values: points.iter().map(|p| p.actual).collect() },
            ],
        ));
    }
    if g.accrual == Some(Accrual::Level) && !g.buckets.is_empty() {
        return Some(ChartData::new(
            &id,
            format!("{}: {} against the target", g.name, g.kpi_name.clone().unwrap_or_default()),
            unit,
            currency,
            g.buckets.iter().map(|b| b.label.clone()).collect(),
            vec![
                Series {
                    name: "target".into(),
                    values: g.buckets.iter().map(|_| g.target).collect(),
                },
                Series {
                    name: "actual".into(),
                    values: g.buckets.iter().map(|b| b.value).collect(),
                },
            ],
        ));
    }
    None
}

pub async fn build(ctx: Ctx) -> ApiResult<Page> {
    let currency = ctx.currency().to_owned();
    let intro = "Each goal of kpiflow.toml: where it stands today against where its split says it \
                 should be, and where it is heading."
        .to_owned();
    if ctx.state.config().goals.is_empty() {
        return Ok(Page {
            title: "Goals".into(),
            intro,
            blocks: vec![Block::Notice(
                "No goals yet: add [[goals]] to kpiflow.toml (README.md, Goals) or save a plan \
                 from the Plan page with `kpiflow plan ... --save-goals`."
                    .into(),
            )],
            notes: vec![],
        });
    }
    ctx.engine.check_tracking()?;
    let report = ctx.engine.goals(None).await?;
    let mut notes = vec![format!(
        "Counted up to {} (the last day with data); goals carry their own periods and segments, so \
         the filter bar does not apply here.",
        report.as_of
    )];
    notes.extend(report.goals.iter().flat_map(|g| {
        g.notes.iter().filter(|n| n.contains("no data")).map(move |n| format!("{}: {n}", g.name))
    }));
    let number =
        |v: Option<f64>, g: &GoalResult| Cell::number(v, g.unit.unwrap_or(Unit::Count), &currency);
    let rows = report
        .goals
        .iter()
        .map(|g| {
            let depth = {
                let mut d = 0;
                let mut next = g.parent.clone();
                while let Some(p) = next {
                    d += 1;
                    next = report.goals.iter().find(|x| x.id == p).and_then(|x| x.parent.clone());
                    if d > report.goals.len() {
                        break;
                    }
                }
                d
            };
            let scope: Vec<String> = g.filters.iter().map(|(d, v)| format!("{d} = {v}")).collect();
            vec![
                Cell::text(format!("{}{}", "· ".repeat(depth), g.name))
                    .anchor(format!("goal-row-{}", g.id)),
                Cell::text(match (&g.kpi_name, scope.is_empty()) {
                    (Some(k), true) => k.clone(),
                    (Some(k), false) => format!("{k} ({})", scope.join(", ")),
                    (None, _) => "objective".into(),
                }),
                Cell::text(&g.period),
                number(g.target, g),
                number(g.actual, g),
                number(g.expected, g),
                pct(g.pace, &currency),
                pct(g.progress, &currency),
                number(g.projection.run_rate, g),
                number(g.projection.trend, g),
                Cell::text(g.status.label()),
            ]
        })
        .collect();
    let mut blocks = vec![Block::Table(TableBlock {
        id: "goals".into(),
        title: "Goals".into(),
        columns: vec![
            column("Goal", false),
            column("KPI", false),
            column("Period", false),
            column("Target", true),
            column("Actual", true),
            column("Expected by now", true),
            column("Pace", true),
            column("Progress", true),
            column("Projected (run rate)", true),
            column("Projected (trend)", true),
            column("Status", false),
        ],
        rows,
        caption: Some(
            "Pace is actual ÷ expected by now (inverted where lower is better); on track from \
             the goal's on_track threshold (95 % by default), at risk from at_risk (85 %)."
                .into(),
        ),
    })];
    for g in &report.goals {
        if let Some(data) = chart(g, &currency) {
            let caption = match (g.accrual, g.projection.trend_low, g.projection.trend_high) {
                (Some(Accrual::Total), Some(lo), Some(hi)) => Some(format!(
                    "Split {}; trend projection {} (range {} – {}).",
                    g.split_used.name(),
                    crate::charts::format(g.projection.trend, data.unit, &currency),
                    crate::charts::format(Some(lo), data.unit, &currency),
                    crate::charts::format(Some(hi), data.unit, &currency)
                )),
                _ => None,
            };
            blocks.push(Block::Chart(ChartBlock { kind: "line", data, caption }));
        }
        let slices: Vec<_> = g.quarters.iter().chain(&g.months).collect();
        if g.kpi.is_some() && g.months.len() > 1 {
            blocks.push(Block::Table(TableBlock {
                id: format!("goal-{}-split", g.id),
                title: format!("{}: quarters and months ({} split)", g.name, g.split_used.name()),
                columns: vec![
                    column("Slice", false),
                    column("Target", true),
                    column("Actual", true),
                    column("Status", false),
                ],
                rows: slices
                    .iter()
                    .map(|s| {
                        vec![
                            Cell::text(&s.label),
                            number(s.target, g),
                            number(s.actual, g),
                            Cell::text(s.status.label()),
                        ]
                    })
                    .collect(),
                caption: None,
            }));
        }
    }
    Ok(Page { title: "Goals".into(), intro, blocks, notes })
}
