//! Attribution: every model side by side, where they disagree first; spend and cost per
//! conversion under each; the dark-social cross-table of self-reported source against channel.

use kpiflow_attribution::ModelSpec;
use kpiflow_catalog::Unit;
use kpiflow_engine::Grain;
use kpiflow_engine::attribution::{AttributionReport, AttributionRequest, AttributionRow};

use super::{Block, Cell, ChartBlock, Ctx, Page, TableBlock, TableColumn};
use crate::charts::{ChartData, Series};
use crate::error::{ApiError, ApiResult};

/// Models drawn in the comparison chart: one of each kind, so the bars stay readable (the
/// tables hold every model).
const CHARTED: &[&str] =
    &["first", "last", "linear", "time_decay", "w_shaped", "markov", "shapley"];

/// Channels drawn in the chart, the largest first.
const CHARTED_CHANNELS: usize = 8;

/// Every model of the registry over the view's period, for `conversion`.
pub async fn all_models(ctx: &Ctx) -> ApiResult<AttributionReport> {
    let specs = ModelSpec::parse_list("all").map_err(ApiError::internal)?;
    let request = AttributionRequest {
        target: ctx.view.conversion.clone(),
        period: Some(ctx.view.period.clone()),
        lookback_days: None,
        models: specs,
        skip_unsupported: true,
    };
    Ok(ctx.engine.attribution(&request).await?)
}

fn column(name: &str, numeric: bool) -> TableColumn {
    TableColumn { name: name.to_owned(), numeric }
}

/// A table with one row per channel and one column per model of `cell`.
fn per_model(
    report: &AttributionReport,
    rows: &[AttributionRow],
    id: &str,
    title: &str,
    caption: &str,
    cell: impl Fn(&AttributionRow) -> Cell,
    ctx: &Ctx,
) -> TableBlock {
    let currency = ctx.currency();
    let with_spend = report.spend.is_some();
    let mut columns = vec![column("Channel", false)];
    if with_spend {
        columns.push(column("Spend", true));
    }
    columns.extend(report.models.iter().map(|m| column(&m.label, true)));
    let body = report
        .channel_order()
        .into_iter()
        .map(|channel| {
            let of: Vec<&AttributionRow> = rows.iter().filter(|r| r.channel == channel).collect();
            let mut row = vec![
                Cell::text(&channel)
                    .link(ctx.view.href("channels", &[("channel", Some(&channel))])),
            ];
            if with_spend {
                row.push(Cell::number(of.first().and_then(|r| r.spend), Unit::Currency, currency));
            }
            row.extend(of.iter().map(|r| cell(r)));
            row
        })
        .collect();
    TableBlock {
        id: id.to_owned(),
        title: title.to_owned(),
        columns,
        rows: body,
        caption: Some(caption.to_owned()),
    }
}

pub async fn build(ctx: Ctx) -> ApiResult<Page> {
    let currency = ctx.currency().to_owned();
    let report = all_models(&ctx).await?;
    // Method notes (states, residuals) go under the tables; what changes the reading stays on top.
    let (method, mut notes): (Vec<String>, Vec<String>) = report
        .notes
        .iter()
        .cloned()
        .partition(|n| report.models.iter().any(|m| n.starts_with(&format!("{}: ", m.label))));
    if !ctx.view.filters.is_empty() {
        notes.push(
            "attribution covers every journey: the view's filters are not applied on this page"
                .to_owned(),
        );
    }
    let target = ctx.view.conversion.name().to_owned();
    let mut blocks = Vec::new();
    if report.stats.conversions == 0.0 {
        blocks.push(Block::Notice(format!(
            "No {target} conversions in this period: nothing to attribute."
        )));
        return Ok(Page { title: "Attribution".into(), intro: intro(&target), blocks, notes });
    }
    let rows = report.rows();
    let disagreements = report.disagreements();

    // Where the models disagree most comes first.
    if let Some(d) = disagreements.first().filter(|d| d.spread > 0.0) {
        notes.insert(0, format!(
            "The models disagree most on {}: {:.1} % of {target} conversions under {} but {:.1} % under {}.",
            d.channel,
            d.lowest.0 * 100.0,
            d.lowest.1,
            d.highest.0 * 100.0,
            d.highest.1
        ));
    }
    let pct = |v: f64| Cell::number(Some(v), Unit::Percent, &currency);
    blocks.push(Block::Table(TableBlock {
        id: "disagreement".into(),
        title: "Where the models disagree".into(),
        columns: vec![
            column("Channel", false),
            column("Lowest share", true),
            column("Model (lowest)", false),
            column("Highest share", true),
            column("Model (highest)", false),
            column("Spread (pp)", true),
        ],
        rows: disagreements
            .iter()
            .map(|d| {
                vec![
                    Cell::text(&d.channel),
                    pct(d.lowest.0),
                    Cell::text(&d.lowest.1),
                    pct(d.highest.0),
                    Cell::text(&d.highest.1),
                    Cell::number(Some(d.spread * 100.0), Unit::Ratio, &currency),
                ]
            })
            .collect(),
        caption: Some("Each channel's share of conversions under the model that credits it least and the one that credits it most; the widest spreads first.".into()),
    }));

    let channels: Vec<String> = report.channel_order().into_iter().take(CHARTED_CHANNELS).collect();
    let series = report
        .models
        .iter()
        .filter(|m| CHARTED.contains(&m.model_id))
        .map(|m| Series {
            name: m.label.clone(),
            values: channels
                .iter()
                .map(|c| {
                    rows.iter().find(|r| r.model == m.label && &r.channel == c).map(|r| r.share)
                })
                .collect(),
        })
        .collect();
    blocks.push(Block::Chart(ChartBlock {
        kind: "bar",
        data: ChartData {
            id: "share-by-model".into(),
            title: format!("Share of {target} conversions by channel and model"),
            unit: Unit::Percent,
            currency: currency.clone(),
            categories: channels,
            series,
        },
        caption: Some("One model of each kind; the tables below hold all of them.".into()),
    }));

    blocks.push(Block::Table(per_model(
        &report,
        &rows,
        "credited-conversions",
        "Credited conversions by model",
        "Conversions each model credits to each channel (a journey's conversion is split over its touches).",
        |r| Cell::number(Some(r.conversions), Unit::Ratio, &currency),
        &ctx,
    )));
    blocks.push(Block::Table(per_model(
        &report,
        &rows,
        "share",
        "Share of conversions by model",
        "Each channel's fraction of all conversions under each model.",
        |r| pct(r.share),
        &ctx,
    )));
    if report.spend.is_some() {
        blocks.push(Block::Table(per_model(
            &report,
            &rows,
            "cost-per-conversion",
            "Cost per attributed conversion",
            "Media spend in the period divided by the conversions each model credits.",
            |r| Cell::number(r.cost_per_conversion, Unit::Currency, &currency),
            &ctx,
        )));
    }
    if report.stats.value.is_some() {
        blocks.push(Block::Table(per_model(
            &report,
            &rows,
            "credited-value",
            "Credited revenue by model",
            "Won amounts split over the journeys' touches.",
            |r| Cell::number(r.value, Unit::Currency, &currency),
            &ctx,
        )));
        if report.spend.is_some() {
            blocks.push(Block::Table(per_model(
                &report,
                &rows,
                "roas",
                "ROAS by model",
                "Credited revenue per unit of media spend.",
                |r| Cell::number(r.roas, Unit::Ratio, &currency),
                &ctx,
            )));
        }
    }
    let (dark, dark_notes) = dark_social(&ctx).await?;
    blocks.extend(dark);
    notes.extend(dark_notes);

    let s = &report.stats;
    blocks.push(Block::Notice(format!(
        "{} converting and {} non-converting journeys, {} touches, {}-day lookback.",
        s.converting_journeys,
        s.non_converting_journeys,
        s.touches,
        report.lookback_days.unwrap_or_default()
    )));
    blocks.extend(method.into_iter().map(Block::Notice));
    Ok(Page {
        title: "Attribution".into(),
        intro: intro(&target),
        blocks,
        notes: super::blocks::merge_notes([notes]),
    })
}

fn intro(target: &str) -> String {
    format!(
        "How much of each {target} every channel earned, under each attribution model (docs/attribution.md says how each splits the credit). Choose the conversion in the filters."
    )
}

/// Customers by the channel their journey is credited to (first touch) and the source they named
/// themselves ("how did you hear about us"), with the dark-social gap per channel.
async fn dark_social(ctx: &Ctx) -> ApiResult<(Vec<Block>, Vec<String>)> {
    if !ctx.engine.has_table("contacts") {
        return Ok((Vec::new(), Vec::new()));
    }
    let currency = ctx.currency();
    let values = ctx
        .values(&["customers"], &["channel", "self_reported_source"], Grain::Total, None, false)
        .await?;
    let Some(report) = values.report.as_ref() else { return Ok((Vec::new(), values.warnings())) };
    let mut channels: Vec<String> = Vec::new();
    let mut answers: Vec<String> = Vec::new();
    for r in &report.rows {
        let (Some(c), Some(a)) = (r.dims.get("channel"), r.dims.get("self_reported_source")) else {
            continue;
        };
        if !channels.contains(c) {
            channels.push(c.clone());
        }
        if !answers.contains(a) {
            answers.push(a.clone());
        }
    }
    if answers.is_empty() {
        return Ok((Vec::new(), values.warnings()));
    }
    channels.sort();
    answers.sort();
    let gap = ctx.values(&["dark_social_gap"], &["channel"], Grain::Total, None, false).await?;
    let mut columns = vec![column("Channel (first touch)", false)];
    columns.extend(answers.iter().map(|a| column(&format!("Said: {a}"), true)));
    columns.push(column("Dark social gap", true));
    let rows = channels
        .iter()
        .map(|c| {
            let mut row = vec![Cell::text(c)];
            for a in &answers {
                let v = values
                    .row("customers", None, &[("channel", c), ("self_reported_source", a)])
                    .and_then(|r| r.value);
                row.push(Cell::number(v, Unit::Count, currency));
            }
            row.push(Cell::number(
                gap.row("dark_social_gap", None, &[("channel", c)]).and_then(|r| r.value),
                Unit::Percent,
                currency,
            ));
            row
        })
        .collect();
    let mut notes = values.warnings();
    notes.extend(gap.warnings());
    Ok((
        vec![Block::Table(TableBlock {
            id: "dark-social".into(),
            title: "Dark social: what customers said against their channel".into(),
            columns,
            rows,
            caption: Some("Customers in the period by attributed channel and their answer to \"how did you hear about us\"; the gap is the share whose answer maps to another channel (KPI dark_social_gap). Answers with no channel (word of mouth, podcasts) are where dark social hides.".into()),
        })],
        notes,
    ))
}
