//! `kpiflow funnel`: stage counts, conversions and velocity of the lifecycle funnel.

use std::io::Write;
use std::path::Path;

use kpiflow_engine::funnel::{CountBy, Funnel, FunnelMode, FunnelRequest};
use serde_json::{Value, json};

use super::Project;
use super::report::{num, open_engine_on, parse_filters, resolve_period};
use crate::cli::{CountByArg, FunnelArgs, FunnelModeArg, OutputFormat};
use crate::output::Rows;

pub async fn run(project_dir: &Path, args: FunnelArgs) -> anyhow::Result<()> {
    let project = Project::open(project_dir)?;
    let as_of = super::parse_as_of(args.as_of.as_deref())?;
    let runtime = super::cluster::runtime(&args.engine).await?;
    let engine = open_engine_on(&project, as_of, &runtime).await?;
    let request = FunnelRequest {
        period: resolve_period(&args.period, &engine)?,
        mode: match args.mode {
            FunnelModeArg::Ordered => FunnelMode::Ordered,
            FunnelModeArg::Any => FunnelMode::AnyOrder,
        },
        window_days: Some(args.window),
        by: args.by.clone(),
        filters: parse_filters(&args.filters)?,
        count_by: match args.count_by {
            CountByArg::Contact => CountBy::Contact,
            CountByArg::Account => CountBy::Account,
        },
    };
    let funnel = engine.funnel(&request).await?;
    let mut out = std::io::stdout().lock();
    print(&funnel, args.format, &mut out)?;
    if args.format != OutputFormat::Json {
        for w in &funnel.warnings {
            eprintln!("note: {w}");
        }
    }
    Ok(())
}

fn pct(v: Option<f64>) -> Value {
    json!(v.map(|v| format!("{:.1} %", v * 100.0)).unwrap_or_else(|| "—".into()))
}

fn days(v: Option<f64>) -> Value {
    json!(v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into()))
}

pub fn print(funnel: &Funnel, format: OutputFormat, out: &mut dyn Write) -> anyhow::Result<()> {
    let by = funnel.by.as_deref();
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, funnel)?;
            writeln!(out)?;
            Ok(())
        }
        OutputFormat::Csv => {
            let mut columns = vec!["section", "stage"];
            columns.extend(by);
            columns.extend([
                "count",
                "conversion_from_previous",
                "conversion_from_first",
                "mean_days",
                "median_days",
                "p75_days",
                "p90_days",
            ]);
            let mut rows = Rows::new(&columns);
            for s in &funnel.stages {
                let mut row = vec![json!("stage"), json!(s.stage)];
                if by.is_some() {
                    row.push(json!(s.group));
                }
                row.extend([
                    json!(s.count),
                    num(s.conversion_from_previous),
                    num(s.conversion_from_first),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ]);
                rows.push(row);
            }
            for v in &funnel.velocity {
                let mut row = vec![json!("transition"), json!(v.transition)];
                if by.is_some() {
                    row.push(json!(v.group));
                }
                row.extend([
                    json!(v.count),
                    Value::Null,
                    Value::Null,
                    num(v.mean_days),
                    num(v.median_days),
                    num(v.p75_days),
                    num(v.p90_days),
                ]);
                rows.push(row);
            }
            rows.render(format, out)
        }
        OutputFormat::Table | OutputFormat::Markdown => {
            writeln!(
                out,
                "Funnel {} .. {} ({}, by {}{})",
                funnel.period_from,
                funnel.period_to,
                if funnel.mode == "ordered" {
                    format!("ordered, {}-day window", funnel.window_days)
                } else {
                    "any order".to_owned()
                },
                funnel.count_by,
                by.map(|b| format!(", per {b}")).unwrap_or_default()
            )?;
            let mut columns = vec!["stage"];
            columns.extend(by);
            columns.extend(["count", "from previous", "from first"]);
            let mut rows = Rows::new(&columns);
            for s in &funnel.stages {
                let mut row = vec![json!(s.stage)];
                if by.is_some() {
                    row.push(json!(s.group));
                }
                row.extend([
                    json!(s.count),
                    pct(s.conversion_from_previous),
                    pct(s.conversion_from_first),
                ]);
                rows.push(row);
            }
            rows.render(format, out)?;
            writeln!(out, "\nDays between stages (moves completed in the period)")?;
            let mut columns = vec!["transition"];
            columns.extend(by);
            columns.extend(["moves", "mean", "median", "p75", "p90"]);
            let mut rows = Rows::new(&columns);
            for v in &funnel.velocity {
                let mut row = vec![json!(v.transition)];
                if by.is_some() {
                    row.push(json!(v.group));
                }
                row.extend([
                    json!(v.count),
                    days(v.mean_days),
                    days(v.median_days),
                    days(v.p75_days),
                    days(v.p90_days),
                ]);
                rows.push(row);
            }
            rows.render(format, out)
        }
    }
}
