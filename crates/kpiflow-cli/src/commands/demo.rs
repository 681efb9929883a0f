//! `kpiflow demo`: generate the demo company into a fresh project, import it and serve the
//! dashboard.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use chrono::Datelike;
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
        let request = ImportRequest::into_table(
            kpiflow_model::table(name)?,
            vec![path.clone()],
            None,
            None,
            OnError::Fail,
            dir.join("rejects").join(format!("{name}.csv")),
        );
        let outcome = super::import::import_with_progress(&project, &request, quiet)
            .await
            .with_context(|| format!("importing the demo's {name}"))?;
        if !quiet {
            super::import::print_summary(&outcome, quiet);
        }
    }

    // Goals and alerts a team would set, with targets from the company's own history.
    let goals = demo_goals(&project).await.context("setting the demo's goals")?;
    let mut config_text = std::fs::read_to_string(&config_path)
        .with_context(|| format!("reading {}", config_path.display()))?;
    config_text.push_str(&goals);
    std::fs::write(&config_path, config_text)
        .with_context(|| format!("writing {}", config_path.display()))?;

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
    super::serve::serve(dir, project, addr, kpiflow_engine::Runtime::Embedded).await
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

/// The demo's `[[goals]]` and `[[alerts]]`: this fiscal year's won revenue at 115 % of last
/// year's (seasonal split), this quarter's leads at 110 % of the same quarter last year, CPL
/// below and MQL → SQL above their last-year values for the half, under one objective; a daily
/// anomaly rule on leads and a weekly CPL ceiling.
async fn demo_goals(project: &Project) -> anyhow::Result<String> {
    use kpiflow_engine::{Grain, Period, ReportRequest};
    let engine = super::report::open_engine(project, None).await?;
    let Some(end) = engine.data_end().await? else { return Ok(String::new()) };
    let calendar = engine.calendar();
    let total = |kpi: &'static str, from: chrono::NaiveDate, to: chrono::NaiveDate| {
        let engine = &engine;
        async move {
            let report = engine
                .report(&ReportRequest {
                    kpis: vec![kpi.to_owned()],
                    grain: Some(Grain::Total),
                    period: Some(Period { from, to, label: String::new() }),
                    ..ReportRequest::default()
                })
                .await?;
            anyhow::Ok(report.rows.first().and_then(|r| r.value))
        }
    };
    let year_back =
        |d: chrono::NaiveDate| d.checked_sub_months(chrono::Months::new(12)).unwrap_or(d);
    let fy = calendar.bucket_start(Grain::FiscalYear, end);
    let fy_end = calendar.bucket_end(Grain::FiscalYear, fy);
    let fy_label = calendar.label(
        Grain::FiscalYear,
        fy,
        &Period { from: fy, to: fy_end, label: String::new() },
    );
    let q = calendar.bucket_start(Grain::FiscalQuarter, end);
    let q_end = calendar.bucket_end(Grain::FiscalQuarter, q);
    let q_label = calendar.label(
        Grain::FiscalQuarter,
        q,
        &Period { from: q, to: q_end, label: String::new() },
    );
    let h_start = if (q.year() * 12 + q.month() as i32 - fy.year() * 12 - fy.month() as i32) >= 6 {
        fy.checked_add_months(chrono::Months::new(6)).unwrap_or(fy)
    } else {
        fy
    };
    let h_label = format!("{fy_label}-H{}", if h_start == fy { 1 } else { 2 });
    let h_end = h_start.checked_add_months(chrono::Months::new(6)).unwrap_or(h_start);
    let revenue = total("won_revenue", year_back(fy), year_back(fy_end)).await?.unwrap_or(0.0);
    let leads = total("leads", year_back(q), year_back(q_end)).await?.unwrap_or(0.0);
    let cpl = total("cpl", year_back(h_start), year_back(h_end)).await?;
    let mql_sql = total("mql_to_sql_rate", year_back(h_start), year_back(h_end)).await?;
    let round = |v: f64, to: f64| ((v / to).round() * to).max(to);
    let mut out = format!(
        "\n# The demo company's goals and alerts (targets from its own history).\n\
         [[goals]]\nid = \"marketing-{fy_id}\"\nname = \"Marketing {fy_label}\"\n\n\
         [[goals]]\nid = \"revenue-{fy_id}\"\nname = \"Won revenue {fy_label} (+15 %)\"\nkpi = \"won_revenue\"\n\
         target = {revenue}\nperiod = \"{fy_label}\"\nsplit = \"seasonal\"\nparent = \"marketing-{fy_id}\"\n\n\
         [[goals]]\nid = \"leads-{q_id}\"\nname = \"Leads {q_label} (+10 %)\"\nkpi = \"leads\"\ntarget = {leads}\n\
         period = \"{q_label}\"\nsplit = \"seasonal\"\nparent = \"marketing-{fy_id}\"\n",
        fy_id = fy_label.to_lowercase(),
        q_id = q_label.to_lowercase(),
        revenue = round(revenue * 1.15, 1000.0),
        leads = round(leads * 1.1, 10.0),
    );
    if let Some(cpl) = cpl {
        out.push_str(&format!(
            "\n[[goals]]\nid = \"cpl-{h}\"\nname = \"CPL below last year's {h_label}\"\nkpi = \"cpl\"\n\
             target = {t}\ntest = \"stay_below\"\nperiod = \"{h_label}\"\nparent = \"marketing-{fy_id}\"\n",
            h = h_label.to_lowercase(),
            t = round(cpl, 1.0),
            fy_id = fy_label.to_lowercase(),
        ));
        out.push_str(&format!(
            "\n[[alerts]]\nid = \"cpl-weekly\"\nkpi = \"cpl\"\ngrain = \"week\"\nabove = {}\n",
            round(cpl * 1.5, 1.0)
        ));
    }
    if let Some(rate) = mql_sql {
        out.push_str(&format!(
            "\n[[goals]]\nid = \"mql-to-sql-{h}\"\nname = \"MQL → SQL at least last year's {h_label}\"\n\
             kpi = \"mql_to_sql_rate\"\ntarget = {t}\ntest = \"stay_above\"\nperiod = \"{h_label}\"\n\
             parent = \"marketing-{fy_id}\"\n",
            h = h_label.to_lowercase(),
            t = (rate * 1000.0).round() / 1000.0,
            fy_id = fy_label.to_lowercase(),
        ));
    }
    out.push_str(
        "\n[[alerts]]\nid = \"leads-daily\"\nkpi = \"leads\"\nkind = \"anomaly\"\ngrain = \"day\"\nmin_volume = 5\n",
    );
    Ok(out)
}
