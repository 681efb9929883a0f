//! `kpiflow report`: KPIs split by dimensions, per grain, over a period, with comparisons.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use kpiflow_catalog::channels::ChannelRules;
use kpiflow_engine::report::format_value;
use kpiflow_engine::{Compare, Engine, Grain, Period, RateKind, Report, ReportRequest, Runtime};
use serde_json::{Value, json};

use super::Project;
use crate::UserError;
use crate::cli::{CompareArg, GrainArg, OutputFormat, PeriodArgs, RateArg, ReportArgs};
use crate::output::Rows;

pub async fn run(project_dir: &Path, args: ReportArgs) -> anyhow::Result<()> {
    let project = Project::open(project_dir)?;
    let as_of = super::parse_as_of(args.as_of.as_deref())?;
    let runtime = super::cluster::runtime(&args.engine).await?;
    let engine = open_engine_on(&project, as_of, &runtime).await?;
    let request = resolve(&args, &engine)?;
    engine.set_result_cache(!args.no_result_cache);
    let mut report = engine.report(&request).await?;
    for run in 2..=args.repeat {
        let started = std::time::Instant::now();
        report = engine.report(&request).await?;
        eprintln!("warm run {run}: {:.1} ms", started.elapsed().as_secs_f64() * 1000.0);
    }
    let mut out = std::io::stdout().lock();
    print(&report, args.format, &project.config.currency, &mut out)?;
    if args.format != OutputFormat::Json {
        for w in &report.warnings {
            eprintln!("note: {w}");
        }
    }
    Ok(())
}

/// The engine over the project's store, with its catalog and channel rules, in this process.
pub async fn open_engine(
    project: &Project,
    as_of: Option<kpiflow_store::AsOf>,
) -> anyhow::Result<Engine> {
    open_engine_on(project, as_of, &Runtime::Embedded).await
}

/// [`open_engine`] with its queries run by `runtime`.
pub async fn open_engine_on(
    project: &Project,
    as_of: Option<kpiflow_store::AsOf>,
    runtime: &Runtime,
) -> anyhow::Result<Engine> {
    let catalog = super::kpis::load_catalog(Some(&project.config))?;
    let rules = ChannelRules::from_config(&project.config.channels)?;
    Engine::open_on(runtime, &project.store, &project.config, catalog, rules, as_of)
        .await
        .context("opening the store")
}

/// Resolves the command line into a request: dates and periods parsed, filters split.
fn resolve(args: &ReportArgs, engine: &Engine) -> anyhow::Result<ReportRequest> {
    let period = resolve_period(&args.period, engine)?;
    let filters = parse_filters(&args.filters)?;
    Ok(ReportRequest {
        kpis: args.kpi.iter().map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()).collect(),
        all: args.all,
        by: args.by.iter().map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()).collect(),
        grain: args.grain.map(grain),
        period,
        filters,
        compare: args.compare.map(|c| match c {
            CompareArg::Previous => Compare::Previous,
            CompareArg::Yoy => Compare::YearOverYear,
        }),
        rate: match args.rate {
            RateArg::Period => RateKind::Period,
            RateArg::Cohort => RateKind::Cohort,
        },
        window_days: Some(args.window),
    })
}

/// `--grain`.
pub fn grain(arg: GrainArg) -> Grain {
    match arg {
        GrainArg::Day => Grain::Day,
        GrainArg::Week => Grain::Week,
        GrainArg::Month => Grain::Month,
        GrainArg::Quarter => Grain::Quarter,
        GrainArg::Year => Grain::Year,
        GrainArg::FiscalQuarter => Grain::FiscalQuarter,
        GrainArg::FiscalYear => Grain::FiscalYear,
        GrainArg::Total => Grain::Total,
    }
}

/// `--period` or `--from/--to`, checked against the project's calendar.
pub fn resolve_period(args: &PeriodArgs, engine: &Engine) -> anyhow::Result<Option<Period>> {
    let calendar = engine.calendar();
    Ok(match (&args.period, &args.from, &args.to) {
        (Some(p), _, _) => {
            Some(Period::parse(p, &calendar).map_err(|e| UserError(format!("--period: {e}")))?)
        }
        (None, Some(from), Some(to)) => {
            let date = |flag: &str, v: &str| {
                v.parse::<chrono::NaiveDate>().map_err(|_| {
                    UserError(format!("--{flag} `{v}` is not a date; expected YYYY-MM-DD"))
                })
            };
            Some(
                Period::between(date("from", from)?, date("to", to)?)
                    .map_err(|e| UserError(format!("--from/--to: {e}")))?,
            )
        }
        _ => None,
    })
}

/// `--where DIM=VALUE` flags.
pub fn parse_filters(raw: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    raw.iter()
        .map(|f| {
            let (dim, value) = f.split_once('=').ok_or_else(|| {
                UserError(format!("--where `{f}`: expected DIM=VALUE, such as channel=Email"))
            })?;
            Ok((dim.trim().to_owned(), value.trim().to_owned()))
        })
        .collect()
}

pub use kpiflow_engine::json::number as num;

/// Prints a report. CSV: `kpi,period_start,<dims>,value[,previous_value,change,change_pct]`;
/// JSON: the same per row plus period label, unit and direction, with the report's settings and
/// warnings around them; table and Markdown: values formatted for people.
pub fn print(
    report: &Report,
    format: OutputFormat,
    currency: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let compare = report.compare.is_some();
    let unit_of = |id: &str| report.kpis.iter().find(|k| k.id == id);
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report.to_json())?;
            writeln!(out)?;
            Ok(())
        }
        OutputFormat::Csv => {
            let mut columns: Vec<&str> = vec!["kpi", "period_start"];
            columns.extend(report.dimensions.iter().map(String::as_str));
            columns.push("value");
            if compare {
                columns.extend(["previous_value", "change", "change_pct"]);
            }
            let mut rows = Rows::new(&columns);
            for r in &report.rows {
                let mut row = vec![json!(r.kpi), json!(r.period_start.to_string())];
                for d in &report.dimensions {
                    row.push(r.dims.get(d).map(|v| json!(v)).unwrap_or(Value::Null));
                }
                row.push(num(r.value));
                if compare {
                    row.extend([num(r.previous_value), num(r.change), num(r.change_pct)]);
                }
                rows.push(row);
            }
            rows.render(format, out)
        }
        OutputFormat::Table | OutputFormat::Markdown => {
            let mut columns: Vec<&str> = vec!["kpi", "period"];
            columns.extend(report.dimensions.iter().map(String::as_str));
            columns.push("value");
            if compare {
                columns.extend(["previous", "change", "change %"]);
            }
            let mut rows = Rows::new(&columns);
            for r in &report.rows {
                let Some(k) = unit_of(&r.kpi) else { continue };
                let mut row = vec![json!(r.kpi), json!(r.period)];
                for d in &report.dimensions {
                    row.push(json!(r.dims.get(d).map(String::as_str).unwrap_or("")));
                }
                row.push(json!(format_value(r.value, k.unit, currency)));
                if compare {
                    row.push(json!(format_value(r.previous_value, k.unit, currency)));
                    let change = match r.change {
                        None => "—".to_owned(),
                        Some(c) => {
                            let arrow = match r.good {
                                Some(true) => " ▲ good",
                                Some(false) => " ▼ bad",
                                None => "",
                            };
                            // A change of a rate is in percentage points.
                            let formatted = match k.unit {
                                kpiflow_catalog::Unit::Percent => {
                                    format!("{:.1} pp", c.abs() * 100.0)
                                }
                                unit => format_value(Some(c.abs()), unit, currency),
                            };
                            let sign = if c < 0.0 {
                                "-"
                            } else if c > 0.0 {
                                "+"
                            } else {
                                ""
                            };
                            format!("{sign}{formatted}{arrow}")
                        }
                    };
                    row.push(json!(change));
                    row.push(json!(
                        r.change_pct
                            .map(|p| format!("{:+.1} %", p * 100.0))
                            .unwrap_or_else(|| "—".into())
                    ));
                }
                rows.push(row);
            }
            rows.render(format, out)
        }
    }
}
