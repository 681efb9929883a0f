//! The demo and the generator's files, end to end through the binary.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

#[test]
fn demo_builds_a_clean_project() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo_project(dir.path(), "0.05");
    let counts = row_counts(&demo);
    for (table, rows) in &counts {
        // The demo company exports from its own tools; the tables that came with vendors'
        // aggregate exports (GA4 UI reports, Search Console) and the CRM's companies it has no
        // file for.
        if NOT_IN_THE_DEMO.contains(&table.as_str()) {
            assert_eq!(*rows, 0, "{table}");
        } else {
            assert!(*rows > 0, "the demo left {table} empty: {counts:?}");
        }
    }
    // The generated company passes every data-quality check.
    let strict = run(&demo, &["tables", "--check", "--strict"]);
    assert!(strict.status.success(), "{}", String::from_utf8_lossy(&strict.stdout));

    // A second demo replaces the first; a directory that is not a demo is refused.
    let again = kpiflow()
        .args(["demo", "--no-serve", "--scale", "0.02", "--dir", demo.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(again.status.success());
    let other = dir.path().join("mine");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "keep me").unwrap();
    let refused =
        kpiflow().args(["demo", "--no-serve", "--dir", other.to_str().unwrap()]).output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(other.join("notes.txt").exists());
}

#[test]
fn parquet_and_csv_exports_import_to_the_same_tables() {
    let dir = tempfile::tempdir().unwrap();
    let mut counts = Vec::new();
    for format in ["csv", "parquet"] {
        let out_dir = dir.path().join(format);
        let generated = kpiflow()
            .args(["generate", "--scale", "0.03", "--seed", "9", "--end-month", "2025-06"])
            .args(["--format", format, "--out", out_dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
        let p = project();
        let tables = ["fx_rates", "ad_spend", "sessions", "contacts", "deals", "revenue", "costs"];
        for table in tables {
            let file = out_dir.join(format!("{table}.{format}"));
            let out = run(p.path(), &["import", table, file.to_str().unwrap()]);
            assert!(
                out.status.success(),
                "{table}.{format}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let info = run_json(p.path(), &["tables", "--format", "json"]);
        counts.push(info);
    }
    assert_eq!(counts[0], counts[1]);
}

#[test]
fn bad_generate_options_are_user_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = kpiflow()
        .args(["generate", "--scale", "0", "--out", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = kpiflow()
        .args(["generate", "--end-month", "June", "--out", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
