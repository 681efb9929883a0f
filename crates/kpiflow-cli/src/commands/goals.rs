//! `kpiflow goals`: every goal of kpiflow.toml against its target.

use std::io::Write;
use std::path::Path;

use kpiflow_catalog::Unit;
use kpiflow_engine::report::format_value;
use kpiflow_engine::tracking::GoalsReport;
use kpiflow_goals::goals::{GoalResult, SubGoal};
use serde_json::{Value, json};

use super::Project;
use super::report::{num, open_engine};
use crate::UserError;
use crate::cli::{GoalsArgs, OutputFormat};
use crate::output::Rows;

/// `--date YYYY-MM-DD`, checked.
pub fn parse_date(flag: &str, raw: Option<&str>) -> anyhow::Result<Option<chrono::NaiveDate>> {
    raw.map(|v| {
        v.trim().parse().map_err(|_| {
            UserError(format!("--{flag} `{v}` is not a date; expected YYYY-MM-DD")).into()
        })
    })
    .transpose()
}

pub async fn run(project_dir: &Path, args: GoalsArgs) -> anyhow::Result<()> {
    let project = Project::open(project_dir)?;
    if project.config.goals.is_empty() {
        return Err(UserError(format!(
            "{} has no [[goals]]; add one such as\n\n[[goals]]\nid = \"leads-q1\"\nkpi = \
             \"leads\"\ntarget = 1200\nperiod = \"2026-Q1\"\n\n(see README.md, Goals), or save a \
             plan with `kpiflow plan ... --save-goals`",
            project_dir.join(kpiflow_model::config::CONFIG_FILE).display()
        ))
        .into());
    }
    let date = parse_date("date", args.date.as_deref())?;
    let as_of = super::parse_as_of(args.as_of.as_deref())?;
    let engine = open_engine(&project, as_of).await?;
    engine.check_tracking()?;
    let mut report = engine.goals(date).await?;
    if !args.goal.is_empty() {
        let ids: Vec<&str> = report.goals.iter().map(|g| g.id.as_str()).collect();
        for id in &args.goal {
            if !ids.contains(&id.as_str()) {
                return Err(kpiflow_model::UnknownName::new("goal", id, ids.iter().copied()).into());
            }
        }
        let keep = |g: &GoalResult| {
            // A goal asked for, or a descendant of one.
            let mut next = Some(g.id.clone());
            while let Some(id) = next {
                if args.goal.contains(&id) {
                    return true;
                }
                next = report.goals.iter().find(|x| x.id == id).and_then(|x| x.parent.clone());
            }
            false
        };
        let kept: Vec<GoalResult> = report.goals.iter().filter(|g| keep(g)).cloned().collect();
        report.goals = kept;
    }
    let currency = project.config.currency.clone();
    let mut out = std::io::stdout().lock();
    print(&report, &currency, args.format, &mut out)
}

fn value(v: Option<f64>, unit: Option<Unit>, currency: &str) -> Value {
    json!(format_value(v, unit.unwrap_or(Unit::Count), currency))
}

fn pct(v: Option<f64>) -> Value {
    json!(v.map(|v| format!("{:.0} %", v * 100.0)).unwrap_or_else(|| "—".into()))
}

fn scope(g: &GoalResult) -> String {
    if g.filters.is_empty() {
        String::new()
    } else {
        let f: Vec<String> = g.filters.iter().map(|(d, v)| format!("{d} = {v}")).collect();
        format!(" ({})", f.join(", "))
    }
}

/// The goal's name, indented under its parents.
fn indented(g: &GoalResult, all: &[GoalResult]) -> String {
    let mut depth = 0;
    let mut next = g.parent.clone();
    while let Some(p) = next {
        depth += 1;
        next = all.iter().find(|x| x.id == p).and_then(|x| x.parent.clone());
        if depth > all.len() {
            break;
        }
    }
    format!("{}{}", "  ".repeat(depth), g.name)
}

fn projected(g: &GoalResult, currency: &str) -> String {
    let p = &g.projection;
    let run = format_value(p.run_rate, g.unit.unwrap_or(Unit::Count), currency);
    match (p.trend, p.trend_low, p.trend_high) {
        (Some(t), Some(lo), Some(hi)) => {
            let f = |v| format_value(Some(v), g.unit.unwrap_or(Unit::Count), currency);
            format!("{run} (trend {} [{} – {}])", f(t), f(lo), f(hi))
        }
        _ => run,
    }
}

pub fn print(
    report: &GoalsReport,
    currency: &str,
    format: OutputFormat,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)?;
            Ok(())
        }
        OutputFormat::Csv => {
            let mut rows = Rows::new(&[
                "section",
                "goal",
                "slice",
                "kpi",
                "period_from",
                "period_to",
                "target",
                "actual",
                "expected",
                "progress",
                "pace",
                "projected_run_rate",
                "projected_trend",
                "projected_trend_low",
                "projected_trend_high",
                "split",
                "status",
            ]);
            for g in &report.goals {
                rows.push(vec![
                    json!("goal"),
                    json!(g.id),
                    Value::Null,
                    json!(g.kpi),
                    json!(g.period_from),
                    json!(g.period_to),
                    num(g.target),
                    num(g.actual),
                    num(g.expected),
                    num(g.progress),
                    num(g.pace),
                    num(g.projection.run_rate),
                    num(g.projection.trend),
                    num(g.projection.trend_low),
                    num(g.projection.trend_high),
                    json!(g.split_used.name()),
                    json!(g.status.label()),
                ]);
            }
            for g in &report.goals {
                for (section, subs) in [("quarter", &g.quarters), ("month", &g.months)] {
                    for s in subs.iter() {
                        rows.push(vec![
                            json!(section),
                            json!(g.id),
                            json!(s.label),
                            json!(g.kpi),
                            json!(s.from),
                            json!(s.to),
                            num(s.target),
                            num(s.actual),
                            Value::Null,
                            Value::Null,
                            Value::Null,
                            Value::Null,
                            Value::Null,
                            Value::Null,
                            Value::Null,
                            json!(g.split_used.name()),
                            json!(s.status.label()),
                        ]);
                    }
                }
            }
            rows.render(format, out)
        }
        OutputFormat::Table | OutputFormat::Markdown => {
            writeln!(out, "Goals as of {} (the last day counted)", report.as_of)?;
            let mut rows = Rows::new(&[
                "goal",
                "kpi",
                "period",
                "target",
                "actual",
                "expected",
                "pace",
                "progress",
                "projected",
                "status",
            ]);
            for g in &report.goals {
                let kpi = match (&g.kpi_name, &g.kpi) {
                    (Some(name), _) => format!("{name}{}", scope(g)),
                    (None, Some(k)) => k.clone(),
                    (None, None) => "(objective)".into(),
                };
                let test = match g.test {
                    kpiflow_model::GoalTest::Reach => "",
                    kpiflow_model::GoalTest::StayAbove => "≥ ",
                    kpiflow_model::GoalTest::StayBelow => "≤ ",
                };
                rows.push(vec![
                    json!(indented(g, &report.goals)),
                    json!(kpi),
                    json!(g.period),
                    json!(format!(
                        "{test}{}",
                        format_value(g.target, g.unit.unwrap_or(Unit::Count), currency)
                    )),
                    value(g.actual, g.unit, currency),
                    value(g.expected, g.unit, currency),
                    pct(g.pace),
                    pct(g.progress),
                    json!(if g.kpi.is_some() { projected(g, currency) } else { "—".into() }),
                    json!(g.status.label()),
                ]);
            }
            rows.render(format, out)?;
            for g in &report.goals {
                let mut notes: Vec<String> = g.notes.clone();
                if let Some(r) = &g.rollup {
                    let statuses: Vec<String> =
                        r.statuses.iter().map(|(s, n)| format!("{n} {s}")).collect();
                    notes.push(format!(
                        "children: {} ({}); rolled-up pace {}",
                        r.children.join(", "),
                        statuses.join(", "),
                        r.pace.map(|p| format!("{:.0} %", p * 100.0)).unwrap_or("—".into())
                    ));
                }
                if !g.breaches.is_empty() {
                    notes.push(format!(
                        "on the wrong side of the target in {}",
                        g.breaches.join(", ")
                    ));
                }
                let has_slices = g.months.len() > 1 && g.kpi.is_some();
                if notes.is_empty() && !has_slices {
                    continue;
                }
                writeln!(out, "\n{} — {}", g.name, g.period)?;
                for n in &notes {
                    writeln!(out, "  {n}")?;
                }
                if has_slices {
                    let mut rows = Rows::new(&["slice", "target", "actual", "status"]);
                    let mut push = |s: &SubGoal| {
                        rows.push(vec![
                            json!(s.label),
                            value(s.target, g.unit, currency),
                            value(s.actual, g.unit, currency),
                            json!(s.status.label()),
                        ])
                    };
                    g.quarters.iter().for_each(&mut push);
                    g.months.iter().for_each(&mut push);
                    rows.render(format, out)?;
                }
            }
            Ok(())
        }
    }
}
