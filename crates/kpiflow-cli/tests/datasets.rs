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
