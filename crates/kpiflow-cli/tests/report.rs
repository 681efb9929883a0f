//! `kpiflow report` and `kpiflow funnel` end to end: golden outputs on a small fixed dataset
//! whose figures were computed by hand, and every KPI of the catalog on the demo company.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

/// A project over `tests/fixtures/tiny`: timezone America/New_York (a contact created at
/// 2025-04-01T02:00Z is a March lead), fiscal year starting in April.
fn tiny() -> tempfile::TempDir {
    let p = project();
    let config = p.path().join("kpiflow.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("timezone = \"UTC\"", "timezone = \"America/New_York\"")
        .replace("fiscal_year_start_month = 1", "fiscal_year_start_month = 4");
    std::fs::write(&config, text).unwrap();
    let fixtures = tests_dir().join("fixtures/tiny");
    for table in ["ad_spend", "sessions", "contacts", "stage_changes", "deals", "revenue", "costs"]
    {
        let file = fixtures.join(format!("{table}.csv"));
        let out = run(p.path(), &["import", table, file.to_str().unwrap()]);
        assert!(out.status.success(), "{table}: {}", String::from_utf8_lossy(&out.stderr));
    }
    p
}

/// stdout of a command that must succeed, with its notes (stderr) after a marker.
fn output(project: &std::path::Path, args: &[&str]) -> String {
    let out = run(project, args);
    assert!(out.status.success(), "kpiflow {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let mut text = String::from_utf8(out.stdout).unwrap();
    let notes = String::from_utf8(out.stderr).unwrap();
    if !notes.is_empty() {
        text.push_str("--- notes\n");
        text.push_str(&notes);
    }
    text
}

#[test]
fn golden_reports_on_the_tiny_dataset() {
    let p = tiny();
    let p = p.path();
    let overview =
        output(p, &["report", "--period", "FY2026-Q1", "--compare", "previous", "--format", "csv"]);
    insta::assert_snapshot!("overview_fy2026_q1", overview);
    let split = output(
        p,
        &[
            "report",
            "--kpi",
            "leads,mqls,cpl,mql_to_sql_rate,won_revenue",
            "--by",
            "channel",
            "--from",
            "2025-03-01",
            "--to",
            "2025-06-30",
            "--grain",
            "month",
            "--format",
            "csv",
        ],
    );
    insta::assert_snapshot!("split_by_channel_per_month", split);
    let fiscal = output(
        p,
        &[
            "report",
            "--kpi",
            "leads,won_revenue,mrr",
            "--grain",
            "fiscal_quarter",
            "--from",
            "2025-01-01",
            "--to",
            "2025-06-30",
            "--format",
            "csv",
        ],
    );
    insta::assert_snapshot!("fiscal_quarters", fiscal);
    let cohort = output(
        p,
        &[
            "report",
            "--kpi",
            "lead_to_mql_rate,mql_to_sql_rate",
            "--rate",
            "cohort",
            "--window",
            "30",
            "--grain",
            "month",
            "--from",
            "2025-03-01",
            "--to",
            "2025-06-30",
            "--format",
            "csv",
        ],
    );
    insta::assert_snapshot!("cohort_rates", cohort);
    let table = output(
        p,
        &[
            "report",
            "--kpi",
            "cpl,ctr,mql_to_sql_rate",
            "--period",
            "FY2026-Q1",
            "--compare",
            "previous",
        ],
    );
    insta::assert_snapshot!("table_format", table);
}

#[test]
fn golden_funnel_on_the_tiny_dataset() {
    let p = tiny();
    let p = p.path();
    let range = ["--from", "2025-03-01", "--to", "2025-06-30"];
    let mut args = vec!["funnel", "--format", "csv"];
    args.extend(range);
    insta::assert_snapshot!("funnel_ordered", output(p, &args));
    args.extend(["--mode", "any"]);
    insta::assert_snapshot!("funnel_any_order", output(p, &args));
    let mut args = vec!["funnel", "--format", "csv", "--by", "channel"];
    args.extend(range);
    insta::assert_snapshot!("funnel_by_channel", output(p, &args));
    let mut args = vec!["funnel", "--count", "account"];
    args.extend(range);
    insta::assert_snapshot!("funnel_by_account_table", output(p, &args));
}

#[test]
fn report_errors_name_what_is_wrong() {
    let p = tiny();
    let p = p.path();
    let cases: &[&[&str]] = &[
        &["report", "--kpi", "cpll"],
        &["report", "--kpi", "leads", "--by", "chanel"],
        &["report", "--kpi", "open_rate", "--by", "channel"],
        &["report", "--kpi", "cpl", "--where", "region"],
        &["report", "--period", "2025-13"],
        &["report", "--from", "2025-03-01", "--to", "2025-02-01"],
        &["report", "--kpi", "leads", "--as-of", "99"],
        &["funnel", "--by", "utm_source"],
    ];
    let mut text = String::new();
    for args in cases {
        let out = run(p, args);
        text.push_str(&format!(
            "$ kpiflow {}\nexit {:?}\n{}\n",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        ));
    }
    insta::assert_snapshot!("report_errors", text);
}

#[test]
fn every_kpi_of_the_catalog_has_a_value_on_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let out = kpiflow()
        .args(["demo", "--scale", "0.3", "--dir", demo.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc = run_json(&demo, &["report", "--all", "--grain", "quarter", "--format", "json"]);
    let catalog = run_json(&demo, &["kpis", "--format", "json"]);
    let rows = doc["rows"].as_array().unwrap();
    let mut missing = Vec::new();
    for k in catalog.as_array().unwrap() {
        let id = k["id"].as_str().unwrap();
        let values: Vec<&serde_json::Value> =
            rows.iter().filter(|r| r["kpi"] == id).map(|r| &r["value"]).collect();
        if values.is_empty() || values.iter().all(|v| v.is_null()) {
            missing.push(id.to_owned());
        }
    }
    assert!(missing.is_empty(), "KPIs without a value on the demo: {missing:?}");
    assert_eq!(doc["warnings"].as_array().unwrap().len(), 0, "{}", doc["warnings"]);
}
