//! Detection and the code presets, through the binary: a file no preset recognises and a file
//! two presets claim give the errors `docs/presets.md` states (snapshots); zips and folders are
//! read as the files they hold; `--preset` forces a preset; `kpiflow presets show` prints a
//! mapping that imports the same rows; and the presets written in code (GA4's BigQuery events,
//! Stripe subscriptions, ChartMogul activities, Search Console's export) give the figures
//! computed by hand in the comments.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    tests_dir().join("fixtures").join("presets").join(name)
}

fn search_console() -> PathBuf {
    datasets().join("vendor-exports").join("google-search-console")
}

fn import(project: &Path, files: &[&Path]) -> Value {
    let mut args = vec!["import".to_owned()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    args.extend(["--format".into(), "json".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_json(project, &args)
}

/// A KPI's values per `grain` bucket over all dates: (period_start, value), in order, for the
/// buckets that have one.
fn series(project: &Path, kpi: &str, grain: &str) -> Vec<(String, Option<f64>)> {
    let doc = run_json(
        project,
        &[
            "report",
            "--kpi",
            kpi,
            "--grain",
            grain,
            "--from",
            "2000-01-01",
            "--to",
            "2030-12-31",
            "--format",
            "json",
        ],
    );
    doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kpi"] == kpi && !r["value"].is_null())
        .map(|r| (r["period_start"].as_str().unwrap().to_owned(), r["value"].as_f64()))
        .collect()
}

/// One value per KPI over all dates.
fn totals(project: &Path, kpis: &str, by: Option<&str>) -> Vec<Value> {
    let mut args = vec![
        "report",
        "--kpi",
        kpis,
        "--from",
        "2000-01-01",
        "--to",
        "2030-12-31",
        "--format",
        "json",
    ];
    if let Some(by) = by {
        args.extend(["--by", by]);
    }
    run_json(project, &args)["rows"].as_array().unwrap().clone()
}

fn value(rows: &[Value], kpi: &str, dim: Option<(&str, &str)>) -> f64 {
    rows.iter()
        .find(|r| r["kpi"] == kpi && dim.is_none_or(|(d, v)| r[d] == v))
        .and_then(|r| r["value"].as_f64())
        .unwrap_or_else(|| panic!("no value for {kpi} {dim:?} in {rows:?}"))
}

fn close(actual: f64, expected: f64) {
    assert!((actual - expected).abs() <= 1e-9 * expected.abs().max(1.0), "{actual} != {expected}");
}

/// A zip of `files` (by name) at `zip`, written with Python's zipfile (deflate).
fn zip(zip: &Path, dir: &Path, files: &[&str]) {
    let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED)\n\
                  for f in sys.argv[3:]:\n    z.write(sys.argv[2] + '/' + f, f)\nz.close()\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script, zip.to_str().unwrap(), dir.to_str().unwrap()])
        .args(files)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

const SEARCH_CONSOLE_FILES: &[&str] = &[
    "Chart.csv",
    "Queries.csv",
    "Pages.csv",
    "Countries.csv",
    "Devices.csv",
    "Search appearance.csv",
    "Filters.csv",
];

/// The real Search Console export, as the zip Search Console downloads: every file read by the
/// preset; the daily totals add up to what `Chart.csv`'s own columns add up to.
#[test]
fn search_console_zip_imports_with_no_mapping() {
    let p = project();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("thetool.guru-Performance-on-Search-2026-03-03.zip");
    zip(&archive, &search_console(), SEARCH_CONSOLE_FILES);
    let out = import(p.path(), &[&archive]);
    let files = out["files"].as_array().unwrap();
    assert_eq!(files.len(), 7, "{out:#}");
    for f in files {
        assert_eq!(f["preset"], "google-search-console", "{f}");
        let name = f["name"].as_str().unwrap();
        assert!(name.contains("thetool.guru-Performance-on-Search-2026-03-03.zip/"), "{name}");
    }
    // Rows (python: len(list(csv.DictReader(f))) per file): Chart 203 days + Queries 66 +
    // Pages 42 + Countries 103 + Devices 3 + Search appearance 0 = 417, plus the 2 lines of
    // Filters.csv (Search type, Date), read for the search type and dropped as not data.
    let rows_read: u64 = files.iter().map(|f| f["rows_read"].as_u64().unwrap()).sum();
    assert_eq!(rows_read, 419);
    assert_eq!(out["dropped"], 2);
    assert_eq!(out["rejected"], 0);
    assert_eq!(table_summary(&out, "search_performance")["inserted"], 417);

    // Chart.csv by its own columns (python: sum(Clicks), sum(Impressions) over 203 lines less
    // the header): 50 clicks, 2,409 impressions; CTR 50 / 2,409; the average position weighted
    // by impressions: sum(Position × Impressions) / sum(Impressions) over the days with a
    // position = 31,463.2 / 2,409 = 13.0607 (days without impressions have no position).
    let t = totals(
        p.path(),
        "organic_search_clicks,organic_search_impressions,organic_search_ctr,organic_search_position",
        None,
    );
    close(value(&t, "organic_search_clicks", None), 50.0);
    close(value(&t, "organic_search_impressions", None), 2409.0);
    close(value(&t, "organic_search_ctr", None), 50.0 / 2409.0);
    assert!((value(&t, "organic_search_position", None) - 31463.2 / 2409.0).abs() < 1e-6);

    // The same files as a folder give the same rows: the re-import changes nothing.
    let again = import(p.path(), &[&search_console()]);
    assert_eq!(table_summary(&again, "search_performance")["unchanged"], 417, "{again:#}");
}

/// A breakdown without its `Chart.csv` cannot know its period: a clear error, nothing stored.
#[test]
fn search_console_breakdown_alone_says_what_it_needs() {
    let p = project();
    let out = run(p.path(), &["import", search_console().join("Queries.csv").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Chart.csv"), "{err}");
    assert!(row_counts(p.path()).values().all(|n| *n == 0));
}

/// GA4's BigQuery export of two days: events become sessions (one across midnight, kept whole)
/// and the on-site actions become events.
#[test]
fn ga4_bigquery_events_become_sessions_and_events() {
    let p = project();
    let out = import(
        p.path(),
        &[
            &fixture("ga4-bigquery/events_20250105.json"),
            &fixture("ga4-bigquery/events_20250106.json"),
        ],
    );
    for f in out["files"].as_array().unwrap() {
        assert_eq!(f["preset"], "ga4-bigquery", "{f}");
    }
    // 3 + 5 event rows read; 3 sessions: visitor 1111.2222's session 1736121000 from 23:50 on
    // the 5th to 00:05 on the 6th (two files, one session), and 3333.4444's two sessions.
    assert_eq!(out["rows_read"], 8);
    assert_eq!(table_summary(&out, "sessions")["inserted"], 3, "{out:#}");
    // Actions: the form_submit and the file_download (page_view, session_start and
    // user_engagement describe the visit).
    assert_eq!(table_summary(&out, "events")["inserted"], 2, "{out:#}");

    // Sessions per day (UTC project): the midnight session counts on the 5th, where it
    // started; the two others on the 6th.
    let days: Vec<(String, Option<f64>)> =
        series(p.path(), "sessions", "day").into_iter().filter(|(_, v)| *v != Some(0.0)).collect();
    assert_eq!(
        days,
        [("2025-01-05".to_owned(), Some(1.0)), ("2025-01-06".to_owned(), Some(2.0))],
        "{days:?}"
    );
    // Channels from the session's own source: gclid + utm cpc → Paid Search (not the user's
    // first source, `(direct)`, in traffic_source); medium email → Email; a referrer alone →
    // Referral.
    let by = totals(p.path(), "sessions", Some("channel"));
    close(value(&by, "sessions", Some(("channel", "Paid Search"))), 1.0);
    close(value(&by, "sessions", Some(("channel", "Email"))), 1.0);
    close(value(&by, "sessions", Some(("channel", "Referral"))), 1.0);
    // Two visitors; one bounce of three sessions (3333.4444's newsletter visit: one page, never
    // engaged).
    let t = totals(p.path(), "visitors,bounce_rate", None);
    close(value(&t, "visitors", None), 2.0);
    close(value(&t, "bounce_rate", None), 1.0 / 3.0);

    // The midnight session's details, as stored.
    let dir = tempfile::tempdir().unwrap();
    let export =
        run(p.path(), &["export", "--out", dir.path().to_str().unwrap(), "--format", "csv"]);
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    let sessions = std::fs::read_to_string(dir.path().join("sessions.csv")).unwrap();
    let line = sessions.lines().find(|l| l.starts_with("1111.2222-1736121000,")).unwrap();
    for part in [
        "2025-01-05T23:50:00",
        "c-42",
        "google,cpc,\"brand, EU\"",
        "gclid,/pricing,2,900",
        "false,desktop,Germany",
    ] {
        assert!(line.contains(part), "{part} not in {line}");
    }
    let events = std::fs::read_to_string(dir.path().join("events.csv")).unwrap();
    assert!(events.contains("form_submit") && events.contains("demo-form"), "{events}");
    assert!(events.contains("download") && events.contains("guide.pdf"), "{events}");
}

/// Stripe subscriptions become months of MRR per customer.
#[test]
fn stripe_subscriptions_become_monthly_revenue() {
    let p = project();
    let out = import(p.path(), &[&fixture("stripe/subscriptions.csv")]);
    assert_eq!(out["files"][0]["preset"], "stripe-subscriptions", "{out:#}");
    // The horizon is April 2025 (sub_1's current period started 2025-04-10, the latest date
    // the file carries). cus_A: sub_1 2 × 49 = 98 a month from January to April, plus sub_2
    // 120 a year = 10 a month from February; cus_B: sub_3 49 in January and February (ended
    // 2025-03-05, so not paying at March's end); cus_C: sub_4 paying from April (its trial
    // ended 2025-04-03); sub_5 never paid (incomplete_expired). Rows: 4 + 2 + 1 = 7.
    assert_eq!(table_summary(&out, "revenue")["inserted"], 7, "{out:#}");
    assert_eq!(out["rejected"], 0);
    let months = series(p.path(), "mrr", "month");
    let expect = [
        ("2025-01-01", 98.0 + 49.0),
        ("2025-02-01", 98.0 + 10.0 + 49.0),
        ("2025-03-01", 98.0 + 10.0),
        ("2025-04-01", 98.0 + 10.0 + 49.0),
    ];
    for (month, mrr) in expect {
        let got = months.iter().find(|(m, _)| m == month).and_then(|(_, v)| *v);
        assert_eq!(got, Some(mrr), "{month}: {months:?}");
    }
}

/// ChartMogul's activities (the real Airbyte records): the one new_biz activity of 4,100 cents
/// is 41.00 of MRR in November 2015; the other streams' records are dropped.
#[test]
fn chartmogul_activities_become_monthly_revenue() {
    let p = project();
    let file = datasets().join("vendor-exports/chartmogul/airbyte_expected_records.jsonl");
    let out = import(p.path(), &[&file]);
    assert_eq!(out["files"][0]["preset"], "chartmogul-activities-airbyte", "{out:#}");
    assert_eq!(out["files"][0]["dropped"], 2);
    assert_eq!(table_summary(&out, "revenue")["inserted"], 1);
    let months = series(p.path(), "mrr", "month");
    assert_eq!(months, [("2015-11-01".to_owned(), Some(41.0))]);
}

/// Errors of detection, as a user sees them.
#[test]
fn unknown_and_ambiguous_files_are_named() {
    let p = project();
    let dir = tempfile::tempdir().unwrap();
    let unknown = dir.path().join("export.csv");
    std::fs::write(&unknown, "Campaign,Day,Clicks,Spend\nbrand,2025-01-01,4,1.50\n").unwrap();
    // Every identifying column of two presets with four each: Mailchimp's campaigns and
    // Salesforce's opportunities.
    let ambiguous = dir.path().join("both.csv");
    std::fs::write(
        &ambiguous,
        "Title,Send Date,Total Recipients,Unique Opens,Opportunity Name,Stage,Close Date,Created Date\n\
         x,Jun 09, 2025 09:30 pm,1,1,y,Won,1/1/2025,1/1/2025\n",
    )
    .unwrap();
    let mut text = String::new();
    for (what, file) in [("unknown", &unknown), ("ambiguous", &ambiguous)] {
        let out = run(p.path(), &["import", file.to_str().unwrap()]);
        text.push_str(&format!(
            "# {what}\nexit {:?}\n{}\n",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
                .replace(dir.path().to_str().unwrap(), "<dir>")
                .trim_end()
        ));
    }
    // A mistyped table is neither a table nor a file.
    let out = run(p.path(), &["import", "contact", "x.csv"]);
    text.push_str(&format!(
        "# mistyped table\nexit {:?}\n{}\n",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).trim_end()
    ));
    insta::assert_snapshot!("detection_errors", text);
    assert!(row_counts(p.path()).values().all(|n| *n == 0));
}

/// `--preset` reads a file with the preset named; a wrong name gets a suggestion; a preset with
/// a table is refused.
#[test]
fn a_preset_can_be_named() {
    let p = project();
    let file = fixture("stripe/subscriptions.csv");
    let f = file.to_str().unwrap();
    let out =
        run_json(p.path(), &["import", "--preset", "stripe-subscriptions", f, "--format", "json"]);
    assert_eq!(table_summary(&out, "revenue")["inserted"], 7);
    let typo = run(p.path(), &["import", "--preset", "stripe-subscription", f]);
    assert_eq!(typo.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("did you mean `stripe-subscriptions`"));
    let both = run(p.path(), &["import", "revenue", f, "--preset", "stripe-subscriptions"]);
    assert_eq!(both.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&both.stderr).contains("cannot be given with a table"));
}

/// `kpiflow presets` lists every preset; `presets show` prints a mapping that reads the
/// preset's file into the same rows (here a user's copy, given with --mapping and no table:
/// the mapping names it).
#[test]
fn presets_are_listed_and_shown_as_mappings() {
    let list = run_json(Path::new("."), &["presets", "--format", "json"]);
    let names: Vec<&str> =
        list.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    for name in [
        "google-ads-campaigns",
        "meta-ads",
        "hubspot-contacts",
        "ga4-bigquery",
        "google-search-console",
        "stripe-subscriptions",
    ] {
        assert!(names.contains(&name), "{name} not in {names:?}");
    }
    for p in list.as_array().unwrap() {
        assert!(!p["how to export"].as_str().unwrap().is_empty(), "{p}");
    }

    let shown = kpiflow().args(["presets", "show", "hubspot-deals"]).output().unwrap();
    assert!(shown.status.success());
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("my-hubspot-deals.toml");
    std::fs::write(&mapping, &shown.stdout).unwrap();
    let deals = std::fs::read_dir(fixture("hubspot"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().contains("deals"))
        .unwrap();
    let p1 = project();
    let detected = run_json(p1.path(), &["import", deals.to_str().unwrap(), "--format", "json"]);
    let p2 = project();
    let mapped = run_json(
        p2.path(),
        &[
            "import",
            deals.to_str().unwrap(),
            "--mapping",
            mapping.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(mapped["files"][0]["preset"], Value::Null);
    assert_eq!(
        table_summary(&mapped, "deals")["inserted"],
        table_summary(&detected, "deals")["inserted"]
    );
    let a = totals(p1.path(), "won_revenue,closed_won_deals", None);
    let b = totals(p2.path(), "won_revenue,closed_won_deals", None);
    assert_eq!(value(&a, "won_revenue", None), value(&b, "won_revenue", None));
    assert_eq!(value(&a, "closed_won_deals", None), value(&b, "closed_won_deals", None));
}
