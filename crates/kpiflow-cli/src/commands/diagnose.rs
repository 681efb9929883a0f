//! `kpiflow diagnose`: the funnel's bottleneck in a period, with advice and evidence.

use std::io::Write;
use std::path::Path;

use kpiflow_engine::tracking::{Against, DiagnosisReport};
use serde_json::json;

use super::Project;
use super::report::{num, open_engine, resolve_period};
use crate::cli::{DiagnoseArgs, OutputFormat};
use crate::output::Rows;

pub async fn run(project_dir: &Path, args: DiagnoseArgs) -> anyhow::Result<()> {
    let project = Project::open(project_dir)?;
    let as_of = super::parse_as_of(args.as_of.as_deref())?;
    let engine = open_engine(&project, as_of).await?;
    let period = match resolve_period(&args.period, &engine)? {
        Some(p) => p,
        None => engine.default_diagnosis_period().await?,
    };
    let against = match (&args.target, &args.plan_period) {
        (Some(t), Some(p)) => {
            Against::Plan(super::plan::resolve_request(&engine, t, p, &args.rates, &args.set)?)
        }
        _ => Against::History,
    };
    let report = engine.diagnose(&period, &against).await?;
    let mut out = std::io::stdout().lock();
    print(&report, args.format, &mut out)
}

fn shown(v: Option<f64>, kind: &str) -> serde_json::Value {
    json!(match (v, kind) {
        (None, _) => "—".to_owned(),
        (Some(v), "rate") => format!("{:.1} %", v * 100.0),
        (Some(v), "minutes") => format!("{v:.1} min"),
        (Some(v), _) => kpiflow_engine::report::group_thousands(v.round() as i64),
    })
}

pub fn print(
    report: &DiagnosisReport,
    format: OutputFormat,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let d = &report.diagnosis;
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)?;
            Ok(())
        }
        OutputFormat::Csv => {
            let mut rows = Rows::new(&["check", "kind", "actual", "expected", "gap", "bottleneck"]);
            for c in &d.checks {
                rows.push(vec![
                    json!(c.id),
                    json!(c.kind),
                    num(c.actual),
                    num(c.expected),
                    num(c.gap),
                    json!(d.bottleneck.as_ref().is_some_and(|b| b.check == c.id)),
                ]);
            }
            rows.render(format, out)
        }
        OutputFormat::Table | OutputFormat::Markdown => {
            writeln!(
                out,
                "Diagnosis of {} ({} .. {}) against {}",
                report.period, report.period_from, report.period_to, d.against
            )?;
            for n in &report.notes {
                writeln!(out, "note: {n}")?;
            }
            let mut rows = Rows::new(&["check", "actual", "expected", "gap"]);
            for c in &d.checks {
                rows.push(vec![
                    json!(c.label),
                    shown(c.actual, c.kind),
                    shown(c.expected, c.kind),
                    json!(c.gap.map(|g| format!("{:+.0} %", g * 100.0)).unwrap_or("—".into())),
                ]);
            }
            rows.render(format, out)?;
            match &d.bottleneck {
                None => writeln!(
                    out,
                    "\nNo bottleneck: every stage and conversion is within {:.0} % of what was \
                     expected, and leads are answered within five minutes.",
                    d.tolerance * 100.0
                )?,
                Some(b) => {
                    writeln!(out, "\nBottleneck: {}", b.title)?;
                    writeln!(out, "  evidence: {}", b.evidence)?;
                    writeln!(out, "  advice:   {}", b.advice)?;
                    for f in d.findings.iter().filter(|f| f.check != b.check) {
                        writeln!(out, "\nAlso: {}", f.title)?;
                        writeln!(out, "  evidence: {}", f.evidence)?;
                        writeln!(out, "  advice:   {}", f.advice)?;
                    }
                }
            }
            Ok(())
        }
    }
}
