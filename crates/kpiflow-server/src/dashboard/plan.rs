//! Plan: the reverse funnel from a revenue target with its what-if knobs, and the diagnosis of
//! the last complete quarter.

use kpiflow_catalog::Unit;
use kpiflow_engine::Grain;
use kpiflow_engine::tracking::{Against, PlanRequest};
use kpiflow_goals::plan::{Plan, PlanTarget};

use super::{Block, Cell, Ctx, FormBlock, FormField, Page, TableBlock, TableColumn};
use crate::api::tracking::plan_request;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;

fn column(name: &str, numeric: bool) -> TableColumn {
    TableColumn { name: name.to_owned(), numeric }
}

fn row_unit(id: &str) -> Unit {
    match id {
        "won_revenue" | "ad_cost" => Unit::Currency,
        _ => Unit::Count,
    }
}

fn rate_unit(id: &str) -> Unit {
    match id {
        "avg_deal_size" | "cpl" => Unit::Currency,
        "deals_per_customer" => Unit::Ratio,
        _ => Unit::Percent,
    }
}

/// The plan the page shows without knobs: next fiscal year, won revenue at 120 % of the
/// trailing 12 months.
async fn default_request(ctx: &Ctx) -> ApiResult<(PlanRequest, String)> {
    let engine = &ctx.engine;
    let end = engine.default_as_of().await?;
    let calendar = engine.calendar();
    let this_year = calendar.bucket_start(Grain::FiscalYear, end);
    let next = calendar.bucket_end(Grain::FiscalYear, this_year);
    let to = calendar.bucket_end(Grain::FiscalYear, next);
    let label = calendar.label(
        Grain::FiscalYear,
        next,
        &kpiflow_engine::Period { from: next, to, label: String::new() },
    );
    let period = kpiflow_engine::Period { from: next, to, label };
    // The trailing revenue, from a plan for one customer (its rows carry the trailing figures).
    let probe = engine
        .plan(&PlanRequest {
            target: PlanTarget::Customers(1.0),
            period: period.clone(),
            overrides: vec![],
        })
        .await?;
    let trailing = probe.rows.iter().find(|r| r.id == "won_revenue").and_then(|r| r.trailing);
    let (target, why) = match trailing.filter(|t| *t > 0.0) {
        Some(t) => (
            PlanTarget::WonRevenue(((t * 1.2) / 1000.0).round().max(1.0) * 1000.0),
            "120 % of the trailing 12 months' won revenue".to_owned(),
        ),
        None => (PlanTarget::Customers(100.0), "100 new customers (no won revenue yet)".to_owned()),
    };
    Ok((PlanRequest { target, period, overrides: vec![] }, why))
}

fn plain(v: Option<f64>) -> String {
    v.map(|v| {
        let r = (v * 10_000.0).round() / 10_000.0;
        if r.fract() == 0.0 { format!("{r:.0}") } else { format!("{r}") }
    })
    .unwrap_or_default()
}

fn form(ctx: &Ctx, plan: &Plan) -> FormBlock {
    let knob = |k: &str| ctx.view.plan.get(k).cloned().unwrap_or_default();
    let mut fields = vec![
        FormField {
            name: "won_revenue".into(),
            label: "Won revenue target".into(),
            value: knob("won_revenue"),
            placeholder: match plan.target {
                PlanTarget::WonRevenue(v) => plain(Some(v)),
                PlanTarget::Customers(_) => String::new(),
            },
            options: vec![],
        },
        FormField {
            name: "customers".into(),
            label: "or new customers".into(),
            value: knob("customers"),
            placeholder: match plan.target {
                PlanTarget::Customers(v) => plain(Some(v)),
                PlanTarget::WonRevenue(_) => String::new(),
            },
            options: vec![],
        },
        FormField {
            name: "plan_period".into(),
            label: "Period".into(),
            value: knob("plan_period"),
            placeholder: plan.period.clone(),
            options: vec![],
        },
    ];
    for r in &plan.rates {
        fields.push(FormField {
            name: r.id.clone(),
            label: r.label.clone(),
            value: knob(&r.id),
            placeholder: plain(r.trailing),
            options: vec![],
        });
    }
    FormBlock {
        id: "plan-knobs".into(),
        title: "Target and what-ifs".into(),
        fields,
        caption: Some(
            "Leave a rate empty to keep its trailing value (shown greyed); rates are fractions \
             (0.25 for 25 %)."
                .into(),
        ),
    }
}

pub async fn build(ctx: Ctx) -> ApiResult<Page> {
    let currency = ctx.currency().to_owned();
    let engine = ctx.engine.clone();
    // Knobs left empty take the default plan's: next fiscal year, 120 % of the trailing
    // 12 months' won revenue.
    let mut raw = ctx.view.plan.clone();
    let mut notes = Vec::new();
    let has_target = raw.contains_key("won_revenue") || raw.contains_key("customers");
    if !has_target || !raw.contains_key("plan_period") {
        let (default, why) = default_request(&ctx).await?;
        if !has_target {
            match default.target {
                PlanTarget::WonRevenue(v) => raw.insert("won_revenue".into(), plain(Some(v))),
                PlanTarget::Customers(v) => raw.insert("customers".into(), plain(Some(v))),
            };
        }
        raw.entry("plan_period".into()).or_insert(default.period.label.clone());
        if ctx.view.plan.is_empty() {
            notes.push(format!("Showing {why} for {}: set a target below.", default.period.label));
        }
    }
    let request = plan_request(&mut Params::new(raw), &engine)?
        .ok_or_else(|| ApiError::bad_request("give a target and a plan period"))?;
    let plan = engine.plan(&request).await?;
    let mut blocks = vec![Block::Form(form(&ctx, &plan))];
    for p in &plan.problems {
        blocks.push(Block::Notice(format!("Cannot reach the target: {p}")));
    }
    let mut columns = vec![column("Needed", false), column("For the period", true)];
    columns.extend(plan.quarters.iter().map(|q| column(q, true)));
    columns.extend([column("Trailing 12 months", true), column("vs trailing", true)]);
    blocks.push(Block::Table(TableBlock {
        id: "plan".into(),
        title: format!("Plan for {} ({} to {})", plan.period, plan.period_from, plan.period_to),
        columns,
        rows: plan
            .rows
            .iter()
            .map(|r| {
                let unit = row_unit(&r.id);
                let up = |v: Option<f64>| {
                    if unit == Unit::Count { v.map(kpiflow_goals::plan::whole) } else { v }
                };
                let mut row =
                    vec![Cell::text(&r.label), Cell::number(up(r.needed), unit, &currency)];
                row.extend(r.quarters.iter().map(|q| Cell::number(up(*q), unit, &currency)));
                row.push(Cell::number(r.trailing, unit, &currency));
                row.push(Cell::number(r.change, Unit::Percent, &currency));
                row
            })
            .collect(),
        caption: Some(format!(
            "From the target back through the funnel; counts rounded up. {}",
            plan.notes.join("; ")
        )),
    }));
    blocks.push(Block::Table(TableBlock {
        id: "plan-rates".into(),
        title: "Rates and where they come from".into(),
        columns: vec![
            column("Rate", false),
            column("Value", true),
            column("Trailing", true),
            column("Source", false),
        ],
        rows: plan
            .rates
            .iter()
            .map(|r| {
                vec![
                    Cell::text(&r.label),
                    Cell::number(r.value, rate_unit(&r.id), &currency),
                    Cell::number(r.trailing, rate_unit(&r.id), &currency),
                    Cell::text(&r.source),
                ]
            })
            .collect(),
        caption: None,
    }));

    // The diagnosis of the last complete quarter against the year before it.
    let period = engine.default_diagnosis_period().await?;
    match engine.diagnose(&period, &Against::History).await {
        Ok(report) => {
            let d = &report.diagnosis;
            match &d.bottleneck {
                Some(b) => blocks.push(Block::Finding {
                    title: format!("Bottleneck in {}: {}", report.period, b.title),
                    evidence: b.evidence.clone(),
                    advice: b.advice.clone(),
                }),
                None => blocks.push(Block::Notice(format!(
                    "No bottleneck in {}: every stage is within {:.0} % of the year before.",
                    report.period,
                    d.tolerance * 100.0
                ))),
            }
            for f in d
                .findings
                .iter()
                .filter(|f| d.bottleneck.as_ref().is_none_or(|b| b.check != f.check))
            {
                blocks.push(Block::Finding {
                    title: format!("Also: {}", f.title),
                    evidence: f.evidence.clone(),
                    advice: f.advice.clone(),
                });
            }
            blocks.push(Block::Table(TableBlock {
                id: "diagnosis".into(),
                title: format!("{} against {}", report.period, d.against),
                columns: vec![
                    column("Check", false),
                    column("Actual", true),
                    column("Expected", true),
                    column("Gap", true),
                ],
                rows: d
                    .checks
                    .iter()
                    .map(|c| {
                        let unit = match c.kind {
                            "rate" => Unit::Percent,
                            "minutes" => Unit::Minutes,
                            _ => Unit::Count,
                        };
                        vec![
                            Cell::text(&c.label),
                            Cell::number(c.actual, unit, &currency),
                            Cell::number(c.expected, unit, &currency),
                            Cell::number(c.gap, Unit::Percent, &currency),
                        ]
                    })
                    .collect(),
                caption: None,
            }));
        }
        Err(e) if e.is_user_error() => blocks.push(Block::Notice(format!("No diagnosis: {e}"))),
        Err(e) => return Err(e.into()),
    }
    Ok(Page {
        title: "Plan".into(),
        intro: "What the funnel must bring to reach a revenue target, quarter by quarter, with \
                each rate's source; and which stage holds it back today."
            .into(),
        blocks,
        notes,
    })
}
