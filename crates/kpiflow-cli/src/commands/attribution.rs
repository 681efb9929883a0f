//! `kpiflow attribution`: credit per channel under several models side by side.

use std::io::Write;
use std::path::Path;

use kpiflow_attribution::{ModelSpec, Settings};
use kpiflow_engine::attribution::{
    AttributionReport, AttributionRequest, ConversionTarget, JourneyStats,
};
use serde_json::{Value, json};

use super::Project;
use super::report::{num, resolve_period};
use crate::UserError;
use crate::cli::{AttributionArgs, OutputFormat};
use crate::output::Rows;

/// The CSV columns, in order (the contract: model × channel rows).
pub const CSV_COLUMNS: &[&str] = &[
    "model",
    "channel",
    "conversions",
    "value",
    "share",
    "spend",
    "cost_per_conversion",
    "roas",
    "roi",
];

pub async fn run(project_dir: &Path, args: AttributionArgs) -> anyhow::Result<()> {
    let all = args.model.trim().eq_ignore_ascii_case("all");
    let specs =
        ModelSpec::parse_list(&args.model).map_err(|e| UserError(format!("--model: {e}")))?;
    let report = match &args.paths {
        Some(file) => {
            if args.period.period.is_some() || args.period.from.is_some() {
                return Err(UserError(
                    "--period/--from/--to select conversions in the store; a paths file has no dates"
                        .to_owned(),
                )
                .into());
            }
            let started = std::time::Instant::now();
            let paths = kpiflow_attribution::paths::read_paths(file)
                .map_err(|e| UserError(e.to_string()))?;
            let read_ms = started.elapsed().as_secs_f64() * 1e3;
            let j = &paths.journeys;
            let stats = JourneyStats {
                converting_journeys: j.iter().filter(|p| p.conversions > 0.0).count() as u64,
                non_converting_journeys: j.iter().filter(|p| p.nulls > 0.0).count() as u64,
                conversions: j.total_conversions(),
                non_conversions: j.total_nulls(),
                value: paths.has_value.then(|| j.total_value()),
                touches: j.total_touches() as u64,
                conversions_without_touch: 0,
            };
            let mut report = AttributionReport::compute(
                file.display().to_string(),
                j,
                stats,
                &specs,
                &Settings::default(),
                all,
            )
            .map_err(|e| UserError(e.to_string()))?;
            report.timings.insert(0, ("read".to_owned(), read_ms));
            if !paths.has_nulls {
                report.notes.push(
                    "the file has no non-conversion column: the Markov chain sees only converting paths"
                        .to_owned(),
                );
            }
            report
        }
        None => {
            let project = Project::open(project_dir)?;
            let as_of = super::parse_as_of(args.as_of.as_deref())?;
            let runtime = super::cluster::runtime(&args.engine).await?;
            let engine = super::report::open_engine_on(&project, as_of, &runtime).await?;
            let target = ConversionTarget::parse(
                args.conversion.as_deref().unwrap_or("lead"),
                &project.config.funnel.stages,
            )?;
            let request = AttributionRequest {
                target,
                period: resolve_period(&args.period, &engine)?,
                lookback_days: args.lookback,
                models: specs,
                skip_unsupported: all,
            };
            engine.attribution(&request).await?
        }
    };
    {
        let mut out = std::io::stdout().lock();
        print(&report, args.format, &mut out)?;
        out.flush()?;
    }
    if args.format != OutputFormat::Json {
        for n in &report.notes {
            eprintln!("note: {n}");
        }
    }
    if args.timings {
        for (step, ms) in &report.timings {
            eprintln!("timing {step} {ms:.1}");
        }
    }
    Ok(())
}

/// `v` with `decimals` decimals and thousands separators.
fn fixed(v: f64, decimals: usize) -> String {
    let s = format!("{:.decimals$}", v.abs());
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(i, f)| (i, f));
    let sign = if v < 0.0 && s.bytes().any(|b| b.is_ascii_digit() && b != b'0') { "-" } else { "" };
    let grouped = kpiflow_engine::report::group_thousands(int.parse().unwrap_or(0));
    if frac.is_empty() { format!("{sign}{grouped}") } else { format!("{sign}{grouped}.{frac}") }
}

pub fn print(
    report: &AttributionReport,
    format: OutputFormat,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report.to_json())?;
            writeln!(out)?;
            Ok(())
        }
        OutputFormat::Csv => {
            let mut rows = Rows::new(CSV_COLUMNS);
            for r in report.rows() {
                rows.push(vec![
                    json!(r.model),
                    json!(r.channel),
                    num(Some(r.conversions)),
                    num(r.value),
                    num(Some(r.share)),
                    num(r.spend),
                    num(r.cost_per_conversion),
                    num(r.roas),
                    num(r.roi),
                ]);
            }
            rows.render(format, out)
        }
        OutputFormat::Table | OutputFormat::Markdown => print_side_by_side(report, format, out),
    }
}

/// Channels down, models across: conversions (share), then spend and cost per conversion.
fn print_side_by_side(
    report: &AttributionReport,
    format: OutputFormat,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let s = &report.stats;
    let mut title = format!("Attribution of {} conversions", fixed(s.conversions, 0));
    if let Some(target) = &report.target {
        title.push_str(&format!(" ({target})"));
    }
    if let Some((from, to)) = report.period {
        title.push_str(&format!(", {from} .. {to}"));
    }
    if let Some(days) = report.lookback_days {
        title.push_str(&format!(", {days}-day lookback"));
    }
    writeln!(out, "{title}")?;
    writeln!(
        out,
        "{} converting and {} non-converting journeys{}, {} touches; input: {}",
        fixed(s.converting_journeys as f64, 0),
        fixed(s.non_converting_journeys as f64, 0),
        if report.input == "store" { String::new() } else { " (distinct paths)".to_owned() },
        fixed(s.touches as f64, 0),
        report.input
    )?;
    let disagreements = report.disagreements();
    if let Some(d) = disagreements.first().filter(|d| d.spread > 0.0) {
        writeln!(
            out,
            "Models disagree most on {}: {:.1} % under {} vs {:.1} % under {}.",
            d.channel,
            d.lowest.0 * 100.0,
            d.lowest.1,
            d.highest.0 * 100.0,
            d.highest.1
        )?;
    }
    writeln!(out)?;
    let rows = report.rows();
    let has_spend = report.spend.is_some();
    let has_value = s.value.is_some();
    let mut columns: Vec<String> = vec!["channel".to_owned()];
    if has_spend {
        columns.push("spend".to_owned());
    }
    for m in &report.models {
        columns.push(m.label.clone());
    }
    let column_refs: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut table = Rows::new(&column_refs);
    for channel in report.channel_order() {
        let of: Vec<_> = rows.iter().filter(|r| r.channel == channel).collect();
        let mut row = vec![json!(channel)];
        if has_spend {
            row.push(json!(fixed(of.first().and_then(|r| r.spend).unwrap_or(0.0), 0)));
        }
        for r in &of {
            row.push(json!(format!("{} ({:.1} %)", fixed(r.conversions, 1), r.share * 100.0)));
        }
        table.push(row);
    }
    table.render(format, out)?;
    if has_spend || has_value {
        writeln!(out)?;
        let mut extra = Rows::new(&column_refs);
        writeln!(
            out,
            "{}",
            if has_spend {
                "Cost per attributed conversion (ROAS when value is known)"
            } else {
                "Attributed value"
            }
        )?;
        for channel in report.channel_order() {
            let of: Vec<_> = rows.iter().filter(|r| r.channel == channel).collect();
            let mut row = vec![json!(channel)];
            if has_spend {
                row.push(json!(fixed(of.first().and_then(|r| r.spend).unwrap_or(0.0), 0)));
            }
            for r in &of {
                let cell = if has_spend {
                    let cpa = r.cost_per_conversion.map_or("—".to_owned(), |c| fixed(c, 2));
                    match r.roas {
                        Some(roas) => format!("{cpa} (ROAS {roas:.2})"),
                        None => cpa,
                    }
                } else {
                    r.value.map_or("—".to_owned(), |v| fixed(v, 2))
                };
                row.push(Value::String(cell));
            }
            extra.push(row);
        }
        extra.render(format, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::fixed;

    #[test]
    fn groups_thousands() {
        assert_eq!(fixed(1234567.891, 1), "1,234,567.9");
        assert_eq!(fixed(-1234.0, 0), "-1,234");
        assert_eq!(fixed(12.0, 2), "12.00");
    }
}
