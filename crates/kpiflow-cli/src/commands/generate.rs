//! `kpiflow generate --out DIR [--scale N] [--seed S] [--format csv|parquet]`.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

use chrono::{Datelike, Months, NaiveDate};
use indicatif::{ProgressBar, ProgressStyle};
use kpiflow_generate::{GenerateOptions, GenerateSummary, OutputFormat};

use crate::UserError;
use crate::cli::{FileFormat, GenerateArgs};

pub fn run(quiet: bool, args: GenerateArgs) -> anyhow::Result<()> {
    let end_month = match &args.end_month {
        None => last_month(chrono::Utc::now().date_naive()),
        Some(raw) => kpiflow_model::parse::parse_month(raw, None).ok_or_else(|| {
            UserError(format!("--end-month `{raw}`: expected a month such as 2025-06"))
        })?,
    };
    let format = match args.format {
        FileFormat::Csv => OutputFormat::Csv,
        FileFormat::Parquet => OutputFormat::Parquet,
    };
    let mut options =
        GenerateOptions::new(args.out.clone(), args.scale, args.seed, format, end_month);
    options.currency = args.currency.to_ascii_uppercase();
    let started = Instant::now();
    let summary = generate(&options, quiet)?;
    if !quiet {
        print_summary(&summary, &args.out);
    }
    println!(
        "generated {} sessions at scale {} (seed {}, 24 months to {}) in {:.1} s",
        summary.sessions,
        args.scale,
        args.seed,
        end_month.format("%Y-%m"),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs the generator with a progress bar on a terminal.
pub fn generate(options: &GenerateOptions, quiet: bool) -> anyhow::Result<GenerateSummary> {
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("generating [{bar:30}] day {pos}/{len} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar
    });
    let result = kpiflow_generate::generate(options, &mut |p| {
        if let Some(bar) = &bar {
            bar.set_length(u64::from(p.days));
            bar.set_position(u64::from(p.day));
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(result?)
}

pub fn print_summary(summary: &GenerateSummary, out: &Path) {
    println!("wrote {}:", out.display());
    for (table, path, rows) in &summary.files {
        println!(
            "  {table:<16} {rows:>10} rows  {}",
            path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
        );
    }
}

/// The first day of the month before `today`'s month.
pub fn last_month(today: NaiveDate) -> NaiveDate {
    let first = today.with_day(1).unwrap_or(today);
    first.checked_sub_months(Months::new(1)).unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_month_crosses_years() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
        assert_eq!(last_month(d(2026, 11, 23)), d(2026, 10, 1));
        assert_eq!(last_month(d(2026, 1, 1)), d(2025, 12, 1));
    }
}
