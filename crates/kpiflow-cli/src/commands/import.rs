//! `kpiflow import TABLE FILE...`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use kpiflow_model::Mapping;
use kpiflow_store::import::{ImportOutcome, ImportProgress, ImportRequest, OnError};

use super::Project;
use crate::cli::{ImportArgs, InputFormat, OnErrorArg, SummaryFormat};

/// Files above this size get a progress bar.
const PROGRESS_BYTES: u64 = 4 << 20;

pub async fn run(project_dir: &Path, quiet: bool, args: ImportArgs) -> anyhow::Result<()> {
    let project = Project::open(project_dir)?;
    let request = resolve(project_dir, &args)?;
    let outcome = import_with_progress(&project, &request, quiet).await?;
    match args.format {
        SummaryFormat::Json => println!("{}", serde_json::to_string_pretty(&outcome)?),
        SummaryFormat::Text => print_summary(&outcome, quiet),
    }
    Ok(())
}

/// Turns the arguments into a validated request (table and mapping resolved, files present).
pub fn resolve(project_dir: &Path, args: &ImportArgs) -> anyhow::Result<ImportRequest> {
    let table = kpiflow_model::table(&args.table)?;
    let mapping = match &args.mapping {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the mapping {}", path.display()))
                .map_err(|e| crate::UserError(format!("{e:#}")))?;
            Some(Mapping::parse(&text, &path.display().to_string(), table)?)
        }
    };
    for f in &args.files {
        if !f.is_file() {
            return Err(crate::UserError(format!("{}: no such file", f.display())).into());
        }
    }
    let on_error = match args.on_error {
        OnErrorArg::Fail => OnError::Fail,
        OnErrorArg::Skip => OnError::Skip,
    };
    let rejects = args.rejects.clone().unwrap_or_else(|| default_rejects(project_dir, table.name));
    if on_error == OnError::Skip
        && let Some(parent) = rejects.parent().filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    Ok(ImportRequest {
        table,
        files: args.files.clone(),
        mapping,
        format: args.input_format.map(|f| match f {
            InputFormat::Csv => "csv".to_owned(),
            InputFormat::Jsonl => "jsonl".to_owned(),
            InputFormat::Parquet => "parquet".to_owned(),
        }),
        on_error,
        rejects,
    })
}

fn default_rejects(project_dir: &Path, table: &str) -> PathBuf {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    project_dir.join("rejects").join(format!("{table}-{stamp}.csv"))
}

/// Runs the import with a progress bar on large inputs (on a terminal).
pub async fn import_with_progress(
    project: &Project,
    request: &ImportRequest,
    quiet: bool,
) -> anyhow::Result<ImportOutcome> {
    let total: u64 = request.files.iter().filter_map(|f| f.metadata().ok()).map(|m| m.len()).sum();
    let bar = (!quiet && total > PROGRESS_BYTES && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(format!("importing {}", request.table.name));
        bar
    });
    let mut on_progress = |p: ImportProgress| {
        if let Some(bar) = &bar {
            bar.set_position(p.bytes_done);
        }
    };
    let outcome =
        kpiflow_store::import(&project.store, &project.config, request, &mut on_progress).await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(outcome?)
}

pub fn print_summary(outcome: &ImportOutcome, quiet: bool) {
    if !quiet {
        for e in &outcome.errors {
            eprintln!("rejected: {e}");
        }
        if outcome.rejected as usize > outcome.errors.len() {
            eprintln!("... and more; every rejected row is in the rejects file");
        }
    }
    for t in &outcome.tables {
        println!(
            "{}: {} rows read, {} inserted, {} updated, {} unchanged, {} rejected{} (import {}, {:.1} s)",
            t.table,
            outcome.rows_read,
            t.counts.inserted,
            t.counts.updated,
            t.counts.unchanged,
            outcome.rejected,
            match (t.counts.committed, t.counts.version) {
                (true, Some(v)) => format!(", table version {v}"),
                (false, Some(v)) => format!(", no change (table version {v})"),
                (_, None) => ", no change".into(),
            },
            outcome.import_number,
            outcome.duration_ms as f64 / 1000.0
        );
    }
    if let Some(path) = &outcome.rejects_file {
        println!("rejected rows with their reasons: {}", path.display());
    }
}
