//! Blocks pages share: KPI tiles, KPI-by-dimension tables, trend charts.

use kpiflow_catalog::Unit;
use kpiflow_engine::Grain;

use super::view::Values;
use super::{Block, Cell, ChartBlock, Ctx, TableBlock, TableColumn, Tile};
use crate::charts::{ChartData, Series, format};
use crate::error::ApiResult;

/// The KPIs shown, vanity ones only when the view asks for them.
pub fn visible<'a>(ctx: &Ctx, kpis: &[&'a str]) -> Vec<&'a str> {
    let catalog = ctx.state.catalog();
    kpis.iter()
        .copied()
        .filter(|id| ctx.view.vanity || catalog.kpi(id).is_some_and(|k| !k.vanity))
        .collect()
}

/// Tiles: each KPI over the view's period, its change against the comparison, and a sparkline
/// of the trailing trend. Returns the engine's notes too.
pub async fn tiles(ctx: &Ctx, kpis: &[&str]) -> ApiResult<(Block, Vec<String>)> {
    let kpis = visible(ctx, kpis);
    let totals = ctx.values(&kpis, &[], Grain::Total, None, true).await?;
    let trend =
        ctx.values(&kpis, &[], ctx.view.grain, Some(ctx.view.trend_period()), false).await?;
    let catalog = ctx.state.catalog();
    let currency = ctx.currency();
    let mut tiles = Vec::new();
    for id in kpis {
        let Some(k) = catalog.kpi(id) else { continue };
        let missing = totals.why_missing(id);
        let row = totals.row(id, None, &[]);
        let value = row.and_then(|r| r.value);
        let change = row.and_then(|r| {
            let c = r.change?;
            let text = match (k.unit, r.change_pct) {
                (Unit::Percent, _) => format!("{:+.1} pp", c * 100.0),
                (_, Some(p)) => format!("{:+.1} %", p * 100.0),
                (unit, None) => format!(
                    "{}{}",
                    if c >= 0.0 { "+" } else { "" },
                    format(Some(c), unit, currency)
                ),
            };
            Some((text, r.good))
        });
        let spark = trend.report.as_ref().map(|report| {
            let rows: Vec<_> =
                report.rows.iter().filter(|r| r.kpi == *id && r.dims.is_empty()).collect();
            ChartData {
                id: format!("spark-{id}"),
                title: format!("{} by {}", k.name, ctx.view.grain.name().replace('_', " ")),
                unit: k.unit,
                currency: currency.to_owned(),
                categories: rows.iter().map(|r| r.period.clone()).collect(),
                series: vec![Series {
                    name: k.name.clone(),
                    values: rows.iter().map(|r| r.value).collect(),
                }],
            }
        });
        tiles.push(Tile {
            kpi: id.to_owned(),
            name: k.name.clone(),
            question: k.question.clone(),
            value,
            value_text: format(value, k.unit, currency),
            change,
            spark: spark.filter(|_| missing.is_none()),
            missing,
        });
    }
    Ok((Block::Tiles(tiles), totals.warnings()))
}

/// A table with one row per combination of `dims` and one column per KPI (over the view's
/// period), sorted by the first KPI, largest first.
pub async fn by_dimension(
    ctx: &Ctx,
    id: &str,
    title: &str,
    dims: &[&str],
    kpis: &[&str],
) -> ApiResult<(TableBlock, Vec<String>)> {
    // KPIs that cannot be split this way are simply not columns of this table.
    let catalog = ctx.state.catalog();
    let kpis: Vec<&str> = visible(ctx, kpis)
        .into_iter()
        .filter(|k| catalog.kpi(k).is_some_and(|k| dims.iter().all(|d| k.dimensions.contains(d))))
        .collect();
    let values = ctx.values(&kpis, dims, Grain::Total, None, false).await?;
    let currency = ctx.currency();
    let shown: Vec<&str> = kpis.iter().copied().filter(|k| values.kpi(k).is_some()).collect();
    let mut groups: Vec<Vec<String>> = values
        .report
        .iter()
        .flat_map(|r| r.rows.iter())
        .filter_map(|r| dims.iter().map(|d| r.dims.get(*d).cloned()).collect::<Option<Vec<_>>>())
        .collect();
    groups.sort();
    groups.dedup();
    let mut rows: Vec<Vec<Cell>> = groups
        .iter()
        .map(|g| {
            let key: Vec<(&str, &str)> =
                dims.iter().copied().zip(g.iter().map(String::as_str)).collect();
            let mut row: Vec<Cell> = key
                .iter()
                .map(|(d, v)| Cell::text(*v).link(ctx.view.href(page_of(d), &[(d, Some(v))])))
                .collect();
            for k in &shown {
                let unit = catalog.kpi(k).map_or(Unit::Count, |k| k.unit);
                row.push(Cell::number(
                    values.row(k, None, &key).and_then(|r| r.value),
                    unit,
                    currency,
                ));
            }
            row
        })
        .collect();
    let first = dims.len();
    rows.sort_by(|a, b| {
        let v = |r: &Vec<Cell>| r.get(first).and_then(|c| c.value).unwrap_or(f64::NEG_INFINITY);
        v(b).total_cmp(&v(a))
    });
    let mut columns: Vec<TableColumn> =
        dims.iter().map(|d| TableColumn { name: d.replace('_', " "), numeric: false }).collect();
    columns.extend(shown.iter().map(|k| TableColumn {
        name: catalog.kpi(k).map_or_else(|| (*k).to_owned(), |k| k.name.clone()),
        numeric: true,
    }));
    let notes = values.warnings();
    Ok((
        TableBlock { id: id.to_owned(), title: title.to_owned(), columns, rows, caption: None },
        notes,
    ))
}

/// Where a click on a dimension value goes: the same page filtered by it.
fn page_of(dim: &str) -> &'static str {
    match dim {
        "channel" => "channels",
        "campaign" | "platform" => "campaigns",
        _ => "",
    }
}

/// A line chart of KPIs over the trend window, one series per KPI.
pub async fn trend(
    ctx: &Ctx,
    id: &str,
    title: &str,
    kpis: &[&str],
) -> ApiResult<Option<ChartBlock>> {
    let kpis = visible(ctx, kpis);
    let values =
        ctx.values(&kpis, &[], ctx.view.grain, Some(ctx.view.trend_period()), false).await?;
    let Some(report) = &values.report else { return Ok(None) };
    let catalog = ctx.state.catalog();
    let shown: Vec<&str> =
        kpis.iter().copied().filter(|k| values.kpi(k).is_some_and(|k| k.has_data)).collect();
    let Some(first) = shown.first().and_then(|k| catalog.kpi(k)) else { return Ok(None) };
    let mut buckets: Vec<(chrono::NaiveDate, String)> =
        report.rows.iter().map(|r| (r.period_start, r.period.clone())).collect();
    buckets.sort();
    buckets.dedup();
    let series = shown
        .iter()
        .filter_map(|k| catalog.kpi(k))
        .filter(|k| k.unit == first.unit)
        .map(|k| Series {
            name: k.name.clone(),
            values: buckets
                .iter()
                .map(|(start, _)| values.row(&k.id, Some(*start), &[]).and_then(|r| r.value))
                .collect(),
        })
        .collect();
    Ok(Some(ChartBlock {
        kind: "line",
        data: ChartData {
            id: id.to_owned(),
            title: title.to_owned(),
            unit: first.unit,
            currency: ctx.currency().to_owned(),
            categories: buckets.into_iter().map(|(_, label)| label).collect(),
            series,
        },
        caption: None,
    }))
}

/// A bar chart of one KPI column of a table (the first `limit` rows).
pub fn bars_of(
    table: &TableBlock,
    column: usize,
    id: &str,
    title: &str,
    unit: Unit,
    currency: &str,
    limit: usize,
) -> ChartBlock {
    let rows: Vec<&Vec<Cell>> = table.rows.iter().take(limit).collect();
    ChartBlock {
        kind: "bar",
        data: ChartData {
            id: id.to_owned(),
            title: title.to_owned(),
            unit,
            currency: currency.to_owned(),
            categories: rows
                .iter()
                .map(|r| r.first().map(|c| c.text.clone()).unwrap_or_default())
                .collect(),
            series: vec![Series {
                name: table.columns.get(column).map(|c| c.name.clone()).unwrap_or_default(),
                values: rows.iter().map(|r| r.get(column).and_then(|c| c.value)).collect(),
            }],
        },
        caption: None,
    }
}

/// Notes without repeats, in first-seen order.
pub fn merge_notes(all: impl IntoIterator<Item = Vec<String>>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in all.into_iter().flatten() {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// The values of `Values` as a map for quick lookups (KPI → value) over the whole period.
pub fn total(values: &Values, kpi: &str) -> Option<f64> {
    values.row(kpi, None, &[]).and_then(|r| r.value)
}
