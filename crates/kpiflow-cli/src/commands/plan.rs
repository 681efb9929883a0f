//! `kpiflow plan`: the reverse-funnel plan from a revenue or customers target.

use std::io::Write;
use std::path::Path;

use kpiflow_catalog::Unit;
use kpiflow_engine::report::format_value;
use kpiflow_engine::tracking::PlanRequest;
use kpiflow_engine::{Engine, Period};
use kpiflow_goals::plan::{self, Override, Plan, PlanTarget};
use kpiflow_model::ProjectConfig;
use serde_json::{Value, json};

use super::Project;
use super::report::{num, open_engine};
use crate::UserError;
use crate::cli::{OutputFormat, PlanArgs};
use crate::output::Rows;

/// `--target`, `--period`, `--rates` and `--set`, resolved into a plan request.
pub fn resolve_request(
    engine: &Engine,
    target: &str,
    period: &str,
    rates: &str,
    set: &[String],
) -> anyhow::Result<PlanRequest> {
    let target = PlanTarget::parse(target).map_err(|e| UserError(format!("--target {e}")))?;
    let period = Period::parse(period, &engine.calendar())
        .map_err(|e| UserError(format!("--period: {e}")))?;
    let stages = &engine.config().funnel.stages;
    let mut overrides = Vec::new();
    if rates != "trailing" {
        let path = Path::new(rates);
        let text = std::fs::read_to_string(path).map_err(|e| {
            UserError(format!(
                "--rates {rates}: cannot read it ({e}); expected `trailing` or a TOML file"
            ))
        })?;
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| UserError(format!("{rates}: {}", e.message().trim())))?;
        for (name, value) in table {
            let v = match value {
                toml::Value::Float(f) => f,
                toml::Value::Integer(i) => i as f64,
                other => {
                    return Err(UserError(format!(
                        "{rates}: `{name}` = {other}: expected a number such as {name} = 0.25"
                    ))
                    .into());
                }
            };
            let id = plan::resolve_override(stages, &name, v)
                .map_err(|e| UserError(format!("{rates}: {e}")))?;
            overrides.push(Override { name: id, value: v, source: format!("file {rates}") });
        }
    }
    for s in set {
        let (name, value) = s.split_once('=').ok_or_else(|| {
            UserError(format!("--set `{s}`: expected RATE=VALUE, such as mql_to_sql_rate=0.5"))
        })?;
        let v: f64 = value
            .trim()
            .replace('_', "")
            .parse()
            .map_err(|_| UserError(format!("--set `{s}`: `{value}` is not a number")))?;
        let id = plan::resolve_override(stages, name, v)
            .map_err(|e| UserError(format!("--set: {e}")))?;
        overrides.push(Override { name: id, value: v, source: "--set".into() });
    }
    Ok(PlanRequest { target, period, overrides })
}

pub async fn run(project_dir: &Path, args: PlanArgs) -> anyhow::Result<()> {
    let project = Project::open(project_dir)?;
    let as_of = super::parse_as_of(args.as_of.as_deref())?;
    let engine = open_engine(&project, as_of).await?;
    let request = resolve_request(&engine, &args.target, &args.period, &args.rates, &args.set)?;
    let plan = engine.plan(&request).await?;
    let mut out = std::io::stdout().lock();
    print(&plan, &project.config.currency, args.format, &mut out)?;
    if let Some(prefix) = &args.save_goals {
        let prefix = if prefix.trim().is_empty() {
            format!("plan-{}", plan.period.to_lowercase())
        } else {
            prefix.trim().to_owned()
        };
        let path = save_goals(project_dir, &project.config, &plan, &prefix, &engine)?;
        eprintln!("saved the plan as goals `{prefix}` and its children in {}", path.display());
    }
    Ok(())
}

/// Appends the plan's goals to kpiflow.toml, after checking that the result is a valid
/// configuration whose goal ids are new.
fn save_goals(
    project_dir: &Path,
    config: &ProjectConfig,
    plan: &Plan,
    prefix: &str,
    engine: &Engine,
) -> anyhow::Result<std::path::PathBuf> {
    if !plan.reachable {
        return Err(UserError(
            "the plan cannot reach its target (see above); fix the rates before saving it as goals"
                .into(),
        )
        .into());
    }
    for id in plan.goal_ids(prefix) {
        if config.goals.iter().any(|g| g.id == id) {
            return Err(UserError(format!(
                "kpiflow.toml already has a goal `{id}`; remove the earlier plan's goals or pass \
                 another prefix (--save-goals PREFIX)"
            ))
            .into());
        }
    }
    let path = project_dir.join(kpiflow_model::config::CONFIG_FILE);
    let current = std::fs::read_to_string(&path)?;
    let mut next = current.clone();
    if !next.ends_with('\n') {
        next.push('\n');
    }
    next.push_str(&plan.goals_toml(prefix, &engine.calendar()));
    ProjectConfig::parse(&next, &path.display().to_string(), project_dir)
        .map_err(|e| anyhow::anyhow!("the saved goals would not be valid (a bug): {e}"))?;
    // Write beside, then rename: a crash leaves the old file whole.
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, &next)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

fn unit_of(id: &str) -> Unit {
    match id {
        "won_revenue" | "ad_cost" => Unit::Currency,
        _ => Unit::Count,
    }
}

fn rate_unit(id: &str) -> Unit {
    match id {
        "avg_deal_size" | "cpl" => Unit::Currency,
        "deals_per_customer" => Unit::Ratio,
        _ => Unit::Percent,
    }
}

pub fn print(
    plan: &Plan,
    currency: &str,
    format: OutputFormat,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, plan)?;
            writeln!(out)?;
            Ok(())
        }
        OutputFormat::Csv => {
            let mut columns = vec!["section", "id", "label", "value", "trailing", "change"];
            columns.extend(plan.quarters.iter().map(String::as_str));
            columns.push("source");
            let mut rows = Rows::new(&columns);
            for r in &plan.rows {
                let mut row = vec![
                    json!("row"),
                    json!(r.id),
                    json!(r.label),
                    num(r.needed),
                    num(r.trailing),
                    num(r.change),
                ];
                row.extend(r.quarters.iter().map(|q| num(*q)));
                row.push(Value::Null);
                rows.push(row);
            }
            for r in &plan.rates {
                let mut row = vec![
                    json!("rate"),
                    json!(r.id),
                    json!(r.label),
                    num(r.value),
                    num(r.trailing),
                    Value::Null,
                ];
                row.extend(plan.quarters.iter().map(|_| Value::Null));
                row.push(json!(r.source));
                rows.push(row);
            }
            rows.render(format, out)
        }
        OutputFormat::Table | OutputFormat::Markdown => {
            let target = match plan.target {
                PlanTarget::WonRevenue(v) => {
                    format!("won revenue {}", format_value(Some(v), Unit::Currency, currency))
                }
                PlanTarget::Customers(v) => format!("{v} new customers"),
            };
            writeln!(
                out,
                "Plan for {} ({} .. {}): {target}, from the trailing 12 months {}",
                plan.period, plan.period_from, plan.period_to, plan.window
            )?;
            for p in &plan.problems {
                writeln!(out, "CANNOT REACH THE TARGET: {p}")?;
            }
            let mut columns = vec!["needed", "for the period"];
            columns.extend(plan.quarters.iter().map(String::as_str));
            columns.extend(["trailing 12 months", "vs trailing (same length)"]);
            let mut rows = Rows::new(&columns);
            for r in &plan.rows {
                let unit = unit_of(&r.id);
                // Counts are needed whole: round up.
                let shown = |v: Option<f64>| {
                    let v = if unit == Unit::Count { v.map(plan::whole) } else { v };
                    json!(format_value(v, unit, currency))
                };
                let mut row = vec![json!(r.label), shown(r.needed)];
                row.extend(r.quarters.iter().map(|q| shown(*q)));
                row.push(json!(format_value(r.trailing, unit, currency)));
                row.push(json!(
                    r.change.map(|c| format!("{:+.0} %", c * 100.0)).unwrap_or_else(|| "—".into())
                ));
                rows.push(row);
            }
            rows.render(format, out)?;
            writeln!(out, "\nRates")?;
            let mut rows = Rows::new(&["rate", "id", "value", "source"]);
            for r in &plan.rates {
                rows.push(vec![
                    json!(r.label),
                    json!(r.id),
                    json!(format_value(r.value, rate_unit(&r.id), currency)),
                    json!(if r.overridden {
                        format!(
                            "{} (trailing: {})",
                            r.source,
                            format_value(r.trailing, rate_unit(&r.id), currency)
                        )
                    } else {
                        r.source.clone()
                    }),
                ]);
            }
            rows.render(format, out)?;
            for n in &plan.notes {
                writeln!(out, "note: {n}")?;
            }
            Ok(())
        }
    }
}
