//! `kpiflow export --out DIR [--table T,...] [--format parquet|csv] [--as-of X]`.

use std::path::Path;

use kpiflow_store::export::{ExportFormat, export};

use super::Project;
use crate::UserError;
use crate::cli::{ExportArgs, ExportFormatArg};

pub async fn run(project_dir: &Path, args: ExportArgs) -> anyhow::Result<()> {
    // Resolved before any work: table names (with a "did you mean"), the snapshot.
    let mut tables = Vec::new();
    for name in &args.tables {
        tables.push(kpiflow_model::table(name.trim())?.name);
    }
    let as_of = super::parse_as_of(args.as_of.as_deref())?;
    let format = match args.format {
        ExportFormatArg::Parquet => ExportFormat::Parquet,
        ExportFormatArg::Csv => ExportFormat::Csv,
    };
    let project = Project::open(project_dir)?;
    let written = export(&project.store, &args.out, &tables, format, as_of).await?;
    if written.is_empty() {
        return Err(UserError(if tables.is_empty() {
            "nothing to export: the store has no data yet (see `kpiflow import --help`)".into()
        } else {
            format!("nothing to export: {} has no data in this snapshot", tables.join(", "))
        })
        .into());
    }
    // The files written are the result: printed even with --quiet.
    for t in &written {
        println!("{:<16} {:>12} rows  {}", t.table, t.rows, t.path.display());
    }
    Ok(())
}
