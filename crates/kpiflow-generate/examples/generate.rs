//! Runs the generator from the command line, for measuring and eyeballing the data:
//! `cargo run --release -p kpiflow-generate --example generate -- OUT_DIR [SCALE] [SEED] [csv|parquet]`.

use std::time::Instant;

use chrono::NaiveDate;
use kpiflow_generate::{GenerateOptions, OutputFormat, generate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = args.first().cloned().unwrap_or_else(|| "/tmp/kpiflow-demo".to_owned());
    let scale: f64 = args.get(1).map_or(Ok(1.0), |s| s.parse())?;
    let seed: u64 = args.get(2).map_or(Ok(42), |s| s.parse())?;
    let format = match args.get(3).map(String::as_str) {
        Some("parquet") => OutputFormat::Parquet,
        _ => OutputFormat::Csv,
    };
    let end = NaiveDate::from_ymd_opt(2025, 12, 1).ok_or("bad date")?;
    let opts = GenerateOptions::new(out, scale, seed, format, end);
    let started = Instant::now();
    let mut last_pct = 0;
    let summary = generate(&opts, &mut |p| {
        let pct = p.day * 10 / p.days;
        if pct != last_pct {
            last_pct = pct;
            eprintln!("{:>3}% day {}/{} rows {}", pct * 10, p.day, p.days, p.rows);
        }
    })?;
    println!(
        "{} .. {} ({} / {})",
        summary.start, summary.end, summary.currency, summary.second_currency
    );
    for (table, path, rows) in &summary.files {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        println!("{table:<16} {rows:>12} rows {:>10.1} MB", size as f64 / 1e6);
    }
    println!("total {} rows in {:.2?}", summary.total_rows(), started.elapsed());
    Ok(())
}
