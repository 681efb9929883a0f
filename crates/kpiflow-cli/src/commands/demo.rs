//! `kpiflow demo`: generate the demo company into a fresh project, import it and serve the
//! dashboard.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use kpiflow_generate::{GenerateOptions, OutputFormat};
use kpiflow_model::TABLES;
use kpiflow_store::import::{ImportRequest, OnError};
use kpiflow_store::inspect::table_infos;

use super::Project;
use crate::UserError;
use crate::cli::DemoArgs;

const DEMO_CHANNEL_RULES: &str = r#"
# The demo company's channel rules (tried before GA4's defaults).
[channels]
[[channels.rules]]
channel = "Offline"
medium = "event"

[[channels.rules]]
channel = "Affiliates"
medium = "partner"
"#;

/// Marks a directory as a demo project that `demo` may replace.
const MARKER: &str = ".kpiflow-demo";

pub async fn run(quiet: bool, args: DemoArgs) -> anyhow::Result<()> {
    let dir = &args.dir;
    let addr = super::serve::parse_addr(&args.addr, "--addr")?;
    prepare_dir(dir)?;
    let started = Instant::now();
    super::init::init(dir, Some("Demo SaaS company (generated)"), "USD", "UTC", true)?;
    // The demo company tags trade-show and webinar links `utm_medium=event` and partner links
    // `utm_medium=partner`: its own channel rules, as a real team would write them.
    let config_path = dir.join(kpiflow_model::config::CONFIG_FILE);
    let mut config_text = std::fs::read_to_string(&config_path)
        .with_context(|| format!("reading {}", config_path.display()))?;
    config_text.push_str(DEMO_CHANNEL_RULES);
    std::fs::write(&config_path, config_text)
        .with_context(|| format!("writing {}", config_path.display()))?;
    std::fs::write(
        dir.join(MARKER),
        "created by `kpiflow demo`; the next demo replaces this directory\n",
    )
    .with_context(|| format!("writing {}", dir.join(MARKER).display()))?;

    let exports = dir.join("exports");
    let end_month = super::generate::last_month(chrono::Utc::now().date_naive());
    let options =
        GenerateOptions::new(exports.clone(), args.scale, args.seed, OutputFormat::Csv, end_month);
    let summary = super::generate::generate(&options, quiet)?;
    if !quiet {
        println!(
            "generated the demo company (scale {}, seed {}): {} sessions over the 24 months to {}",
            args.scale,
            args.seed,
            summary.sessions,
            end_month.format("%Y-%m")
        );
    }

    let project = Project::open(dir)?;
    // Rates first: money in other currencies converts with them.
    let mut order: Vec<&str> = vec!["fx_rates"];
    order.extend(TABLES.iter().map(|t| t.name).filter(|n| *n != "fx_rates"));
    for name in order {
        let Some((_, path, _)) = summary.files.iter().find(|(t, _, _)| t == name) else {
            continue;
        };
        let request = ImportRequest {
            table: kpiflow_model::table(name)?,
            files: vec![path.clone()],
            mapping: None,
            format: None,
            on_error: OnError::Fail,
            rejects: dir.join("rejects").join(format!("{name}.csv")),
        };
        let outcome = super::import::import_with_progress(&project, &request, quiet)
            .await
            .with_context(|| format!("importing the demo's {name}"))?;
        if !quiet {
            super::import::print_summary(&outcome, quiet);
        }
    }

    println!();
    for info in table_infos(&project.store, None).await? {
        println!(
            "  {:<16} {:>10} rows  {} .. {}",
            info.table,
            info.rows,
            info.from.as_deref().unwrap_or("—"),
            info.to.as_deref().unwrap_or("—")
        );
    }
    println!(
        "\ndemo project ready in {} ({:.1} s). Try:\n  kpiflow --project {d} report\n  \
         kpiflow --project {d} report --kpi cpl,cac,mql_to_sql_rate --by channel --compare previous\n  \
         kpiflow --project {d} funnel --by channel\n  kpiflow --project {d} tables --check",
        dir.display(),
        started.elapsed().as_secs_f64(),
        d = dir.display()
    );
    if args.no_serve {
        return Ok(());
    }
    println!();
    let project = Project::open(dir)?;
    super::serve::serve(dir, project, addr).await
}

/// A fresh directory: created, or emptied when it holds an earlier demo; anything else is left
/// alone and refused.
fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    if dir.join(MARKER).is_file() {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("removing the old demo {}", dir.display()))?;
        return Ok(());
    }
    let empty = std::fs::read_dir(dir).map(|mut d| d.next().is_none()).unwrap_or(false);
    if empty {
        return Ok(());
    }
    Err(UserError(format!(
        "{} exists and is not an earlier demo; choose another --dir",
        dir.display()
    ))
    .into())
}
