//! Definitions: the catalog, with formulas and the question each KPI answers.

use super::{Block, Cell, Ctx, Page, TableBlock, TableColumn};
use crate::error::ApiResult;

pub async fn build(ctx: Ctx) -> ApiResult<Page> {
    let catalog = ctx.state.catalog();
    let mut groups: Vec<&str> = Vec::new();
    for k in &catalog.kpis {
        if !groups.contains(&k.group.as_str()) {
            groups.push(&k.group);
        }
    }
    let columns = || {
        ["KPI", "id", "question", "formula", "unit", "better", "vanity", "split by"]
            .map(|c| TableColumn { name: c.to_owned(), numeric: false })
            .into()
    };
    let mut blocks = Vec::new();
    for group in groups {
        let rows = catalog
            .kpis
            .iter()
            .filter(|k| k.group == group)
            .map(|k| {
                vec![
                    Cell::text(k.name.clone()).anchor(k.id.clone()),
                    Cell::text(k.id.clone()),
                    Cell::text(format!("{} {}", k.question, k.description)),
                    Cell::text(k.formula.text.clone()),
                    Cell::text(k.unit.name()),
                    Cell::text(kpiflow_engine::json::direction_name(k.direction)),
                    Cell::text(if k.vanity { "yes" } else { "" }),
                    Cell::text(k.dimensions.join(", ")),
                ]
            })
            .collect();
        blocks.push(Block::Table(TableBlock {
            id: format!("kpis-{}", group.replace(' ', "-")),
            title: capitalize(group),
            columns: columns(),
            rows,
            caption: None,
        }));
    }
    Ok(Page {
        title: "Definitions".into(),
        intro: format!(
            "Every KPI kpiflow computes ({}), defined once and used by the dashboard, the CLI and the API.",
            catalog.kpis.len()
        ),
        blocks,
        notes: Vec::new(),
    })
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
