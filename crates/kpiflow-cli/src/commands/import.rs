//! `kpiflow import [TABLE] FILE...`: into a table (canonical names or a mapping), through a
//! named preset, or through the preset detected from each file.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use kpiflow_model::Mapping;
use kpiflow_store::import::{ImportOutcome, ImportProgress, ImportRequest, OnError};
use kpiflow_store::{Resolved, Target};

use super::Project;
use crate::cli::{ImportArgs, OnErrorArg, SummaryFormat};

/// Files above this size get a progress bar.
const PROGRESS_BYTES: u64 = 4 << 20;

pub async fn run(project_dir: &Path, quiet: bool, args: ImportArgs) -> anyhow::Result<()> {
    let project = Project::open(project_dir)?;
    let resolved = resolve(project_dir, &args)?;
    let outcome = import_with_progress(&project, &resolved.request, quiet).await?;
    match args.format {
        SummaryFormat::Json => println!("{}", serde_json::to_string_pretty(&outcome)?),
        SummaryFormat::Text => print_summary(&outcome, quiet),
    }
    Ok(())
}

/// Turns the arguments into a validated request: the table (when the first argument names
/// one) and mapping resolved, or the preset named, or each file's preset detected; zips and
/// folders opened; every file present.
pub fn resolve(project_dir: &Path, args: &ImportArgs) -> anyhow::Result<Resolved> {
    let user = |m: String| anyhow::Error::from(crate::UserError(m));
    let (table_arg, files): (Option<&'static kpiflow_model::Table>, &[PathBuf]) =
        match args.targets.split_first() {
            Some((first, rest)) => {
                let name = first.to_string_lossy();
                match kpiflow_model::table(&name) {
                    Ok(t) => (Some(t), rest),
                    // Not a table: a file, or a mistyped table name.
                    Err(e) if !first.exists() && !name.contains(['.', '/', '\\']) => {
                        return Err(user(format!("`{name}` is neither a file nor a table: {e}")));
                    }
                    Err(_) => (None, &args.targets[..]),
                }
            }
            None => (None, &[][..]),
        };
    if files.is_empty() {
        return Err(user("name the files to import after the table".into()));
    }
    for f in files {
        if !f.exists() {
            return Err(user(format!("{}: no such file or folder", f.display())));
        }
    }
    let mapping_text = match &args.mapping {
        None => None,
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading the mapping {}", path.display()))
                .map_err(|e| crate::UserError(format!("{e:#}")))?,
        ),
    };
    let target = match (&args.preset, table_arg, &mapping_text) {
        (Some(_), Some(t), _) => {
            return Err(user(format!(
                "--preset names how to read the files; it cannot be given with a table \
                 (`{}`): drop one of them",
                t.name
            )));
        }
        (Some(name), None, _) => Target::Preset(kpiflow_store::presets::preset(name)?),
        (None, table, Some(text)) => {
            let file = args.mapping.as_deref().map(|p| p.display().to_string()).unwrap_or_default();
            let table = match table {
                Some(t) => t,
                None => match Mapping::declared_table(text, &file)? {
                    Some(name) => kpiflow_model::table(&name)?,
                    None => {
                        return Err(user(format!(
                            "the mapping {file} names no table: give the table first \
                             (`kpiflow import TABLE FILE... --mapping {file}`) or add \
                             `table = \"…\"` to the mapping"
                        )));
                    }
                },
            };
            Target::Table { table, mapping: Some(Mapping::parse(text, &file, table)?) }
        }
        (None, Some(table), None) => Target::Table { table, mapping: None },
        (None, None, None) => Target::Detect,
    };
    let on_error = match args.on_error {
        OnErrorArg::Fail => OnError::Fail,
        OnErrorArg::Skip => OnError::Skip,
    };
    let rejects_name = match &target {
        Target::Table { table, .. } => table.name.to_owned(),
        Target::Preset(p) => p.info().name.clone(),
        Target::Detect => "import".to_owned(),
    };
    let rejects =
        args.rejects.clone().unwrap_or_else(|| default_rejects(project_dir, &rejects_name));
    if on_error == OnError::Skip
        && let Some(parent) = rejects.parent().filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    Ok(kpiflow_store::resolve(files, &target, args.input_format.as_deref(), on_error, rejects)?)
}

/// `rejects/<what>-<time>.csv` in the project; the time has microseconds, so two imports in the
/// same second do not write one file.
pub fn default_rejects(project_dir: &Path, what: &str) -> PathBuf {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f");
    project_dir.join("rejects").join(format!("{what}-{stamp}.csv"))
}

/// Runs the import with a progress bar on large inputs (on a terminal).
pub async fn import_with_progress(
    project: &Project,
    request: &ImportRequest,
    quiet: bool,
) -> anyhow::Result<ImportOutcome> {
    let total: u64 =
        request.files.iter().filter_map(|f| f.path.metadata().ok()).map(|m| m.len()).sum();
    let bar = (!quiet && total > PROGRESS_BYTES && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message("importing".to_owned());
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
    // Which preset read which file (a plain table import's lines stay as they were).
    let presets = outcome.files.iter().any(|f| f.preset.is_some());
    for f in outcome.files.iter().filter(|_| presets) {
        let how = match &f.preset {
            Some(p) => format!("preset {p}"),
            None => "by column names or the mapping".to_owned(),
        };
        let dropped = if f.dropped > 0 {
            format!(", {} not data (totals, footers, other streams) dropped", f.dropped)
        } else {
            String::new()
        };
        println!(
            "{}: read by {how} into {}: {} rows read, {} rejected{dropped}",
            f.name,
            if f.tables.is_empty() { "no table".to_owned() } else { f.tables.join(", ") },
            f.rows_read,
            f.rejected
        );
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
