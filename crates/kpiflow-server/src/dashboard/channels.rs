//! Channels: per channel, traffic, spend, the funnel's volumes, revenue and what they cost.

use kpiflow_catalog::Unit;

use std::collections::HashMap;

use kpiflow_attribution::ModelSpec;
use kpiflow_engine::attribution::{AttributionRequest, ConversionTarget};
use kpiflow_engine::eval::{Scope, eval};
use kpiflow_engine::{Grain, Period};

use super::blocks::{self, merge_notes};
use super::{Block, Cell, Ctx, Page, TableBlock};
use crate::error::ApiResult;

/// Measures an attribution model credits, with the conversion their journeys end at.
const CREDITED: &[(&str, Credited)] = &[
    ("leads", Credited::FirstStage),
    ("customers", Credited::Stage("customer")),
    ("won_revenue", Credited::Revenue),
];

#[derive(Debug, Clone, Copy)]
enum Credited {
    FirstStage,
    Stage(&'static str),
    Revenue,
}

/// KPIs recomputed from their catalog formulas with the credited measures.
const RECOMPUTED: &[&str] = &["cpl", "cac", "marketing_roi"];

/// Measure values of one channel for a catalog formula.
struct ChannelScope<'a> {
    values: &'a HashMap<&'a str, Option<f64>>,
    catalog: &'a kpiflow_catalog::Catalog,
    period: &'a Period,
}

impl Scope for ChannelScope<'_> {
    fn value(&self, name: &str, _previous: bool) -> Option<f64> {
        match self.values.get(name) {
            Some(v) => *v,
            None => self.catalog.param(name).map(|p| p.value),
        }
    }
    fn period_months(&self) -> f64 {
        self.period.months()
    }
}

/// Replaces the table's leads, customers and won revenue by what `spec` credits each channel,
/// and its CPL, CAC and ROI by the catalog's formulas over those credited figures.
async fn credit_by_model(
    ctx: &Ctx,
    spec: &ModelSpec,
    table: &mut TableBlock,
) -> ApiResult<Vec<String>> {
    let catalog = ctx.state.catalog();
    let stages = &ctx.state.config().funnel.stages;
    let mut notes = Vec::new();
    let mut credited: HashMap<&str, HashMap<String, f64>> = HashMap::new();
    for (measure, target) in CREDITED {
        let target = match target {
            Credited::FirstStage => {
                stages.first().map(|s| ConversionTarget::Stage { name: s.clone(), index: 0 })
            }
            Credited::Stage(name) => stages
                .iter()
                .position(|s| s == name)
                .map(|index| ConversionTarget::Stage { name: (*name).to_owned(), index }),
            Credited::Revenue => Some(ConversionTarget::Revenue),
        };
        let Some(target) = target else { continue };
        let request = AttributionRequest {
            target,
            period: Some(ctx.view.period.clone()),
            lookback_days: None,
            models: vec![spec.clone()],
            skip_unsupported: false,
        };
        let report = ctx.engine.attribution(&request).await?;
        let value = *measure == "won_revenue";
        let by_channel = report
            .rows()
            .into_iter()
            .map(|r| (r.channel, if value { r.value.unwrap_or(0.0) } else { r.conversions }))
            .collect();
        credited.insert(measure, by_channel);
    }
    // Other inputs of the recomputed formulas, per channel, from the catalog's own KPIs.
    let inputs: Vec<&str> = RECOMPUTED
        .iter()
        .filter_map(|k| catalog.kpi(k))
        .flat_map(|k| k.measures.iter().map(String::as_str))
        .filter(|m| !CREDITED.iter().any(|(c, _)| c == m) && catalog.kpi(m).is_some())
        .collect();
    let others = ctx.values(&inputs, &["channel"], Grain::Total, None, false).await?;
    let position = |kpi: &str| {
        let name = catalog.kpi(kpi).map(|k| k.name.as_str())?;
        table.columns.iter().position(|c| c.name == name)
    };
    let currency = ctx.currency().to_owned();
    for row in &mut table.rows {
        let Some(channel) = row.first().map(|c| c.text.clone()) else { continue };
        let mut values: HashMap<&str, Option<f64>> = HashMap::new();
        for m in &inputs {
            values.insert(m, others.row(m, None, &[("channel", &channel)]).and_then(|r| r.value));
        }
        for (measure, by_channel) in &credited {
            let v = by_channel.get(&channel).copied().unwrap_or(0.0);
            values.insert(measure, Some(v));
            if let Some(i) = position(measure) {
                let unit = catalog.kpi(measure).map_or(kpiflow_catalog::Unit::Count, |k| k.unit);
                row[i] = Cell::number(Some(v), unit, &currency);
            }
        }
        for kpi in RECOMPUTED {
            let (Some(k), Some(i)) = (catalog.kpi(kpi), position(kpi)) else { continue };
            let scope = ChannelScope { values: &values, catalog, period: &ctx.view.period };
            row[i] = Cell::number(eval(&k.formula.expr, &scope, false), k.unit, &currency);
        }
    }
    table.rows.sort_by(|a, b| {
        let v = |r: &Vec<Cell>| r.get(1).and_then(|c| c.value).unwrap_or(f64::NEG_INFINITY);
        v(b).total_cmp(&v(a))
    });
    table.caption = Some(format!(
        "Leads, customers and won revenue credited by the {} model (`{}`: each journey split over its touches); CPL, CAC and ROI follow from them with the catalog's formulas. Sessions, spend, MQLs and SQLs are as recorded (by each contact's own channel).",
        spec.model.title(),
        spec.label
    ));
    notes.push(format!("Channels credited by the {} attribution model.", spec.label));
    Ok(notes)
}

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
    let (mut table, mut notes) =
        blocks::by_dimension(&ctx, "channels", "Channels", &["channel"], COLUMNS).await?;
    if let Some(spec) = ctx.view.model.clone() {
        if ctx.view.filters.is_empty() {
            notes.extend(credit_by_model(&ctx, &spec, &mut table).await?);
        } else {
            // Attribution covers every journey; crediting a filtered table would mix the two.
            notes.push(format!(
                "credit by {}: attribution has no filters yet, so with filters the table counts by each contact's own channel",
                spec.label
            ));
        }
    }
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
