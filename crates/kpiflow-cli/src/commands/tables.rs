//! `kpiflow tables [--schema | --log | --check [--strict]] [--as-of X]`.

use std::io::Write;
use std::path::Path;

use kpiflow_model::TABLES;
use kpiflow_store::inspect::{quality_warnings, table_infos};
use serde_json::{Value, json};

use super::Project;
use crate::Unsuccessful;
use crate::cli::{OutputFormat, TablesArgs};
use crate::output::Rows;

pub async fn run(project_dir: &Path, args: TablesArgs) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if args.schema {
        return print_schema(args.format, &mut out);
    }
    let as_of = super::parse_as_of(args.as_of.as_deref())?;
    let project = Project::open(project_dir)?;
    if args.log {
        let log = project.store.import_log().await?;
        // People get a short hash; machines the whole one.
        let short = matches!(args.format, OutputFormat::Table | OutputFormat::Markdown);
        let mut rows = Rows::new(&[
            "import",
            "imported_at",
            "table",
            "files",
            "sha256",
            "read",
            "inserted",
            "updated",
            "unchanged",
            "rejected",
            "version",
        ]);
        for e in &log.entries {
            rows.push(vec![
                json!(e.number),
                json!(e.imported_at.to_rfc3339()),
                json!(e.table),
                json!(e.files.join(", ")),
                json!(
                    e.sha256
                        .iter()
                        .map(|s| if short { &s[..s.len().min(12)] } else { s.as_str() })
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                json!(e.rows_read),
                json!(e.inserted),
                json!(e.updated),
                json!(e.unchanged),
                json!(e.rejected),
                e.table_version.map_or(Value::Null, |v| json!(v)),
            ]);
        }
        return rows.render(args.format, &mut out);
    }

    let infos = table_infos(&project.store, as_of).await?;
    let mut rows = Rows::new(&["table", "rows", "from", "to", "version"]);
    for i in &infos {
        rows.push(vec![
            json!(i.table),
            json!(i.rows),
            i.from.as_ref().map_or(Value::Null, |v| json!(v)),
            i.to.as_ref().map_or(Value::Null, |v| json!(v)),
            i.version.map_or(Value::Null, |v| json!(v)),
        ]);
    }
    if !args.check {
        return rows.render(args.format, &mut out);
    }
    let warnings = quality_warnings(&project.store, as_of).await?;
    let mut w = Rows::new(&["check", "table", "rows", "warning", "examples"]);
    for warning in &warnings {
        w.push(vec![
            json!(warning.check),
            json!(warning.table),
            json!(warning.rows),
            json!(warning.message),
            json!(warning.examples.join("; ")),
        ]);
    }
    match args.format {
        OutputFormat::Json => {
            let tables: Vec<Value> = infos.iter().map(|i| json!(i)).collect();
            serde_json::to_writer_pretty(
                &mut out,
                &json!({ "tables": tables, "warnings": warnings }),
            )?;
            writeln!(out)?;
        }
        OutputFormat::Csv => w.render(args.format, &mut out)?,
        _ => {
            rows.render(args.format, &mut out)?;
            if warnings.is_empty() {
                writeln!(out, "no data-quality warnings")?;
            } else {
                writeln!(out, "{} data-quality warning(s):", warnings.len())?;
                w.render(args.format, &mut out)?;
            }
        }
    }
    if args.strict && !warnings.is_empty() {
        return Err(Unsuccessful(format!("{} data-quality warning(s)", warnings.len())).into());
    }
    Ok(())
}

fn print_schema(format: OutputFormat, out: &mut dyn Write) -> anyhow::Result<()> {
    if format == OutputFormat::Markdown {
        write!(out, "{}", kpiflow_model::schema::schema_markdown())?;
        return Ok(());
    }
    let mut rows = Rows::new(&["table", "column", "type", "required", "key", "rule", "meaning"]);
    for t in TABLES {
        for c in t.columns {
            rows.push(vec![
                json!(t.name),
                json!(c.name),
                json!(c.ty.name()),
                json!(c.required),
                json!(t.is_key(c.name)),
                c.rule.map_or(Value::Null, |r| json!(r.to_string())),
                json!(c.doc),
            ]);
        }
    }
    rows.render(format, out)
}
