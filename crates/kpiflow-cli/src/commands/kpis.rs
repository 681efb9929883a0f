//! `kpiflow kpis`: the KPI catalog (built-in, plus the project's own entries when there is a
//! project).

use std::io::Write;
use std::path::Path;

use kpiflow_catalog::{Catalog, Direction};
use kpiflow_model::ProjectConfig;
use kpiflow_model::config::CONFIG_FILE;
use serde_json::{Value, json};

use crate::cli::{KpisArgs, OutputFormat};
use crate::output::Rows;

pub fn run(project_dir: &Path, args: KpisArgs) -> anyhow::Result<()> {
    // The catalog needs no data: without a project, the built-in catalog is shown.
    let config = if project_dir.join(CONFIG_FILE).is_file() {
        Some(ProjectConfig::load(project_dir)?)
    } else {
        None
    };
    let catalog = load_catalog(config.as_ref())?;
    let mut out = std::io::stdout().lock();
    if args.format == OutputFormat::Markdown && args.group.is_none() {
        write!(out, "{}", catalog.reference_markdown())?;
        return Ok(());
    }
    let mut rows =
        Rows::new(&["id", "name", "group", "formula", "unit", "direction", "vanity", "source"]);
    for k in &catalog.kpis {
        if args.group.as_ref().is_some_and(|g| *g != k.group) {
            continue;
        }
        rows.push(vec![
            json!(k.id),
            json!(k.name),
            json!(k.group),
            json!(k.formula.text),
            json!(k.unit.name()),
            json!(match k.direction {
                Direction::Higher => "higher",
                Direction::Lower => "lower",
            }),
            Value::Bool(k.vanity),
            json!(k.sources.join(", ")),
        ]);
    }
    rows.render(args.format, &mut out)
}

/// The built-in catalog with the project's own entries added (and checked).
pub fn load_catalog(config: Option<&ProjectConfig>) -> anyhow::Result<Catalog> {
    let mut catalog = Catalog::builtin()?;
    if let Some(text) = config.and_then(|c| c.catalog.as_deref()) {
        catalog.add(text, CONFIG_FILE, true)?;
    }
    Ok(catalog)
}
