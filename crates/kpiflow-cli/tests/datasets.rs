//! Imports of the real public datasets in `shared/datasets/` through the mapping files in
//! `tests/mappings/`, checked against the facts their READMEs state.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

fn mapping(name: &str) -> String {
    tests_dir().join("mappings").join(name).display().to_string()
}

/// Imports `file` into `table` through `tests/mappings/<mapping>`; the JSON summary.
fn import_mapped(
    project: &std::path::Path,
    table: &str,
    file: &std::path::Path,
    mapping_file: &str,
) -> serde_json::Value {
    run_json(
        project,
        &[
            "import",
            table,
            file.to_str().unwrap(),
            "--mapping",
            &mapping(mapping_file),
            "--format",
            "json",
        ],
    )
}

#[test]
fn olist_mqls_and_deals() {
    let p = project();
    let d = datasets().join("olist");
    let mqls = d.join("olist_marketing_qualified_leads_dataset.csv");
    let out = import_mapped(p.path(), "contacts", &mqls, "olist_mqls.toml");
    // README fact 1: 8,000 MQLs, all ids unique.
    assert_eq!(out["rows_read"], 8000);
    assert_eq!(out["rejected"], 0);
    assert_eq!(table_summary(&out, "contacts")["inserted"], 8000);
    // The wide stage column gives each contact its `mql` entry.
    assert_eq!(table_summary(&out, "stage_changes")["inserted"], 8000);

    let deals = d.join("olist_closed_deals_dataset.csv");
    let out = import_mapped(p.path(), "deals", &deals, "olist_deals.toml");
    assert_eq!(out["rows_read"], 842);
    assert_eq!(table_summary(&out, "deals")["inserted"], 842);

    let counts = row_counts(p.path());
    assert_eq!(counts["contacts"], 8000);
    assert_eq!(counts["stage_changes"], 8000);
    assert_eq!(counts["deals"], 842);

    // README fact 3: one deal is won before its first contact date; every deal's MQL exists.
    let w = warnings(p.path());
    assert_eq!(w.get("deal_won_before_contact_created"), Some(&1), "{w:?}");
    assert_eq!(w.get("orphan_deals_contact_id"), None, "{w:?}");
    let strict = run(p.path(), &["tables", "--check", "--strict"]);
    assert_eq!(strict.status.code(), Some(1));
    let text = String::from_utf8_lossy(&strict.stdout);
    assert!(text.contains("b91cf8812365f50ff4bda4bcd6206b05"), "{text}");
}

#[test]
fn facebook_ads_with_bom_and_crlf() {
    let p = project();
    let file = datasets().join("fb-ads-kag/KAG_conversion_data.csv");
    let out = import_mapped(p.path(), "ad_spend", &file, "fb_ads.toml");
    // README: 1,143 ads, one row each (the BOM must not turn `ad_id` into `\u{feff}ad_id`).
    assert_eq!(out["rows_read"], 1143);
    assert_eq!(out["rejected"], 0);
    assert_eq!(table_summary(&out, "ad_spend")["inserted"], 1143);
    // README fact 4: 218 ads have more conversions than clicks; no ad has more clicks than
    // impressions.
    let w = warnings(p.path());
    assert_eq!(w.get("conversions_above_clicks"), Some(&218), "{w:?}");
    assert_eq!(w.get("clicks_above_impressions"), None, "{w:?}");

    // Re-importing the same export changes nothing.
    let again = import_mapped(p.path(), "ad_spend", &file, "fb_ads.toml");
    let t = table_summary(&again, "ad_spend");
    assert_eq!(
        (t["inserted"].as_u64(), t["updated"].as_u64(), t["unchanged"].as_u64()),
        (Some(0), Some(0), Some(1143))
    );
    assert_eq!(t["committed"], false, "an import that changes nothing makes no commit: {t}");
    assert_eq!(t["version"], 0);
}

#[test]
fn maven_pipeline_rejects_deals_without_engage_date() {
    let p = project();
    let file = datasets().join("maven-crm/sales_pipeline.csv");
    let file = file.to_str().unwrap();
    let m = mapping("maven_deals.toml");

    // Default --on-error fail: the 500 Prospecting deals have no engage date, so nothing is written.
    let failed = run(p.path(), &["import", "deals", file, "--mapping", &m]);
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr
            .contains("column `created_at` (from `engage_date`): no value; the column is required"),
        "{stderr}"
    );
    assert_eq!(row_counts(p.path())["deals"], 0);

    // --on-error skip: 8,300 deals imported, the 500 rejected rows written with their reason.
    let rejects = p.path().join("maven-rejects.csv");
    let out = run_json(
        p.path(),
        &[
            "import",
            "deals",
            file,
            "--mapping",
            &m,
            "--on-error",
            "skip",
            "--rejects",
            rejects.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(out["rows_read"], 8800);
    assert_eq!(out["rejected"], 500);
    assert_eq!(table_summary(&out, "deals")["inserted"], 8300);
    let mut reader = csv::Reader::from_path(&rejects).unwrap();
    let headers = reader.headers().unwrap().clone();
    let first: Vec<&str> = headers.iter().take(4).collect();
    assert_eq!(first, ["_file", "_line", "_reason", "opportunity_id"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 500);
    let stage = headers.iter().position(|h| h == "deal_stage").unwrap();
    assert!(rows.iter().all(|r| &r[stage] == "Prospecting"));
    assert!(rows[0][2].contains("created_at"), "{:?}", &rows[0]);

    let counts = row_counts(p.path());
    assert_eq!(counts["deals"], 8300);
    let w = warnings(p.path());
    assert_eq!(w.get("won_deal_without_close_date"), None, "{w:?}");
}

/// A report over all of a dataset's dates, as JSON rows.
fn report_rows(project: &std::path::Path, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["report", "--from", "2000-01-01", "--to", "2030-12-31", "--format", "json"];
    all.extend_from_slice(args);
    let doc = run_json(project, &all);
    doc["rows"].as_array().unwrap().clone()
}

/// The value of `kpi` in the row whose `dim` is `value` (or the only row without `dim`).
fn value_of(rows: &[serde_json::Value], kpi: &str, dim: Option<(&str, &str)>) -> f64 {
    rows.iter()
        .find(|r| r["kpi"] == kpi && dim.is_none_or(|(d, v)| r[d] == v))
        .and_then(|r| r["value"].as_f64())
        .unwrap_or_else(|| panic!("no value for {kpi} {dim:?} in {rows:?}"))
}

fn close(actual: f64, expected: f64, tolerance: f64) {
    assert!((actual - expected).abs() <= tolerance, "{actual} is not {expected} ± {tolerance}");
}

#[test]
fn olist_conversion_by_origin_and_cycle_match_the_readme() {
    let p = project();
    // MQL → won is not a built-in KPI: the project defines it, as a user would.
    let config = p.path().join("kpiflow.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "\n[[kpis]]\nid = \"mql_to_won_rate\"\nname = \"MQL to won deal\"\ngroup = \"funnel\"\n\
         description = \"Won deals per MQL.\"\nquestion = \"How many MQLs become customers?\"\n\
         formula = \"won_deals / mqls\"\nunit = \"percent\"\ndirection = \"higher\"\n",
    );
    std::fs::write(&config, text).unwrap();
    let d = datasets().join("olist");
    import_mapped(
        p.path(),
        "contacts",
        &d.join("olist_marketing_qualified_leads_dataset.csv"),
        "olist_mqls.toml",
    );
    import_mapped(p.path(), "deals", &d.join("olist_closed_deals_dataset.csv"), "olist_deals.toml");

    // README fact 1: 842 / 8000 = 10.525 %.
    let overall = report_rows(p.path(), &["--kpi", "mql_to_won_rate,mqls,closed_won_deals"]);
    assert_eq!(value_of(&overall, "mqls", None), 8000.0);
    assert_eq!(value_of(&overall, "closed_won_deals", None), 842.0);
    close(value_of(&overall, "mql_to_won_rate", None), 0.10525, 1e-9);

    // README fact 2: by origin (won / MQLs); a blank origin is `(not set)`.
    let by = report_rows(p.path(), &["--kpi", "mql_to_won_rate", "--by", "original_source"]);
    for (origin, won, mqls) in [
        ("organic_search", 271.0, 2296.0),
        ("paid_search", 195.0, 1586.0),
        ("social", 75.0, 1350.0),
        ("unknown", 179.0, 1099.0),
        ("direct_traffic", 56.0, 499.0),
        ("email", 15.0, 493.0),
        ("referral", 24.0, 284.0),
        ("other", 4.0, 150.0),
        ("display", 6.0, 118.0),
        ("other_publicities", 3.0, 65.0),
        ("(not set)", 14.0, 60.0),
    ] {
        let v = value_of(&by, "mql_to_won_rate", Some(("original_source", origin)));
        close(v, won / mqls, 1e-9);
    }

    // README fact 3: the median cycle over all 842 deals is 14.65 days; kpiflow leaves out (and
    // warns about) the deal won before its first contact, which gives 14.7222 days over 841.
    let doc = run_json(
        p.path(),
        &[
            "report",
            "--kpi",
            "sales_cycle_days_median,sales_cycle_days",
            "--from",
            "2000-01-01",
            "--to",
            "2030-12-31",
            "--format",
            "json",
        ],
    );
    let rows = doc["rows"].as_array().unwrap();
    close(value_of(rows, "sales_cycle_days_median", None), 14.722164351851852, 1e-6);
    close(value_of(rows, "sales_cycle_days", None), 49.16055753732325, 1e-6);
    let warnings = doc["warnings"].to_string();
    assert!(warnings.contains("1 won deal(s) closed before their first touch"), "{warnings}");
}

#[test]
fn facebook_ads_ctr_cpc_and_cost_per_approved_conversion_match_the_readme() {
    let p = project();
    let file = datasets().join("fb-ads-kag/KAG_conversion_data.csv");
    import_mapped(p.path(), "ad_spend", &file, "fb_ads_approved.toml");
    let kpis = ["--kpi", "ctr,cpc,cost_per_conversion,ad_cost"];
    // README fact 1: CTR 0.0179 %, CPC 1.5382, cost per approved conversion 54.4071.
    let all = report_rows(p.path(), &kpis);
    close(value_of(&all, "ad_cost", None), 58705.23, 0.005);
    close(value_of(&all, "ctr", None), 0.000179, 0.0000005);
    close(value_of(&all, "cpc", None), 1.5382, 0.00005);
    close(value_of(&all, "cost_per_conversion", None), 54.4071, 0.00005);
    // README fact 2: by campaign.
    let mut args = kpis.to_vec();
    args.extend(["--by", "campaign"]);
    let by = report_rows(p.path(), &args);
    for (campaign, ctr, cpc, cpa) in [
        ("916", 0.000234, 1.3249, 6.2379),
        ("936", 0.000244, 1.4584, 15.8108),
        ("1178", 0.000176, 1.5433, 63.8327),
    ] {
        let at = Some(("campaign", campaign));
        close(value_of(&by, "ctr", at), ctr, 0.0000005);
        close(value_of(&by, "cpc", at), cpc, 0.00005);
        close(value_of(&by, "cost_per_conversion", at), cpa, 0.00005);
    }
}

#[test]
fn maven_win_rate_deal_size_and_cycle_match_the_readme() {
    let p = project();
    let file = datasets().join("maven-crm/sales_pipeline.csv");
    let m = mapping("maven_deals.toml");
    let out = run(
        p.path(),
        &[
            "import",
            "deals",
            file.to_str().unwrap(),
            "--mapping",
            &m,
            "--on-error",
            "skip",
            "--rejects",
            p.path().join("rejects.csv").to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = report_rows(
        p.path(),
        &["--kpi", "win_rate,avg_deal_size,won_revenue,sales_cycle_days_median,sales_cycle_days"],
    );
    // README facts 1-3: 4,238 / 6,711 = 63.15 %; 10,005,534 won, 2,360.91 on average; a median
    // of 57 days and a mean of 51.78 from engagement (the deal's creation: it has no contact) to
    // close.
    close(value_of(&rows, "win_rate", None), 4238.0 / 6711.0, 1e-9);
    assert_eq!(value_of(&rows, "won_revenue", None), 10_005_534.0);
    close(value_of(&rows, "avg_deal_size", None), 2360.91, 0.005);
    assert_eq!(value_of(&rows, "sales_cycle_days_median", None), 57.0);
    close(value_of(&rows, "sales_cycle_days", None), 51.78, 0.005);
    // Won deals by close quarter (README fact 3).
    let q = run_json(
        p.path(),
        &[
            "report",
            "--kpi",
            "closed_won_deals",
            "--period",
            "2017",
            "--grain",
            "quarter",
            "--format",
            "json",
        ],
    );
    let per_quarter: Vec<f64> =
        q["rows"].as_array().unwrap().iter().map(|r| r["value"].as_f64().unwrap()).collect();
    assert_eq!(per_quarter, [531.0, 1254.0, 1257.0, 1196.0]);
}
