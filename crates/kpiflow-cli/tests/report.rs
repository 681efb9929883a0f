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

    // Repeated in one engine (as a server would), from its result cache or recomputed: the same.
    let args = ["report", "--period", "FY2026-Q1", "--compare", "previous", "--format", "csv"];
    for extra in [&["--repeat", "3"][..], &["--repeat", "2", "--no-result-cache"][..]] {
        let mut repeated = args.to_vec();
        repeated.extend_from_slice(extra);
        let out = run(p, &repeated);
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            overview.split("--- notes").next().unwrap()
        );
    }
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
    let demo = demo_project(dir.path(), "0.3");
    let doc = run_json(&demo, &["report", "--all", "--grain", "quarter", "--format", "json"]);
    let catalog = run_json(&demo, &["kpis", "--format", "json"]);
    let rows = doc["rows"].as_array().unwrap();
    let mut missing = Vec::new();
    for k in catalog.as_array().unwrap() {
        let id = k["id"].as_str().unwrap();
        let values: Vec<&serde_json::Value> =
            rows.iter().filter(|r| r["kpi"] == id).map(|r| &r["value"]).collect();
        if reads_no_demo_table(k) {
            // No data is no value, never a zero.
            assert!(
                values.iter().all(|v| v.is_null()),
                "{id} has a value without data: {values:?}"
            );
            continue;
        }
        if values.is_empty() || values.iter().all(|v| v.is_null()) {
            missing.push(id.to_owned());
        }
    }
    assert!(missing.is_empty(), "KPIs without a value on the demo: {missing:?}");
    // The one warning: the KPIs over the tables the demo does not write have no data.
    let warnings: Vec<&str> =
        doc["warnings"].as_array().unwrap().iter().filter_map(|w| w.as_str()).collect();
    assert!(
        warnings.iter().all(|w| w.starts_with("no data (tables missing)")
            && NOT_IN_THE_DEMO.iter().any(|t| w.contains(t))),
        "{warnings:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The figures of the golden snapshots, computed by hand from tests/fixtures/tiny (New York time:
// every fixture timestamp is after the 2025-03-09 DST switch, so local = UTC − 4 h). The
// snapshots hold exactly these values; a change to either must be explained here.
//
// ## 0. Normalised fixture (local New York times; every timestamp in the fixture is after the
// ## 2025-03-09 DST switch, so local = UTC − 4 h)
//
// **Sessions** (channel by GA4 default grouping)
//
// | session | UTC | local date | visitor | contact | source/medium/referrer/click | channel | pv | sec | bounced |
// |---|---|---|---|---|---|---|---|---|---|
// | s1 | 03-14 10:00 | 2025-03-14 | v1 | c1 | google/cpc, gclid | Paid Search | 3 | 120 | no |
// | s2 | 03-20 10:00 | 2025-03-20 | v2 | – | referrer www.google.com, no utm | Organic Search | 1 | 10 | yes |
// | s3 | 04-09 10:00 | 2025-04-09 | v3 | c3 | linkedin/paid_social | Paid Social | 5 | 300 | no |
// | s4 | 04-09 18:00 | 2025-04-09 | v3 | – | nothing | Direct | 1 | 0 | yes |
//
// **Contacts** (channel = first session's channel, else original_source mapped)
//
// | contact | created UTC | local date | account | original_source | first session | channel | response min |
// |---|---|---|---|---|---|---|---|
// | c1 | 03-15 15:00 | 2025-03-15 | a1 | PAID_SEARCH | s1 | Paid Search | 3 |
// | c2 | 04-01 02:00 | **2025-03-31** | a1 | ORGANIC_SEARCH | – | Organic Search | – |
// | c3 | 04-10 12:00 | 2025-04-10 | a2 | PAID_SEARCH | s3 | **Paid Social** | 10 |
// | c4 | 04-20 12:00 | 2025-04-20 | – | EMAIL_MARKETING | – | Email | 120 |
// | c5 | 06-02 12:00 | 2025-06-02 | a3 | PAID_SOCIAL | – | Paid Social | – |
//
// **Deals** (channel = contact's channel)
//
// | deal | created local | contact | channel | status | amount | closed local |
// |---|---|---|---|---|---|---|
// | d1 | 2025-04-01 (12:00Z) | c1 | Paid Search | won | 1000 | 2025-05-10 |
// | d2 | 2025-04-08 | c2 | Organic Search | lost | 500 | 2025-05-20 |
// | d3 | 2025-05-01 | c3 | Paid Social | open | 2000 | – |
// | d4 | 2025-05-25 | c5 | Paid Social | won | 3000 | 2025-06-01 |
//
// **Ad spend** (date is already a local date; channel from platform: google_ads → Paid Search,
// linkedin_ads → Paid Social): 03-10 PS imp 1000 clk 50 cost 100 conv 5; 04-15 PS 2000/80/160/0;
// 04-20 Paid Social 500/0/40/0; 06-05 PS 0/0/0/0.
//
// **Costs**: 2025-04 marketing 1000, sales 500.
//
// **stage_entries** (skip rule applied; UTC timestamps, local date in brackets)
//
// | contact | lead | mql | sql | opportunity | customer |
// |---|---|---|---|---|---|
// | c1 | 03-15T15:00 [03-15] | 03-20T12:00 [03-20] | 05-10T12:00 [05-10] (skip) | 05-10T12:00 [05-10] (skip) | 05-10T12:00 [05-10] |
// | c2 | 04-01T02:00 [**03-31**] | 04-05T12:00 [04-05] | 04-07T12:00 [04-07] | – | – |
// | c3 | 04-10T12:00 [04-10] | 04-12T12:00 [04-12] | – | – | – |
// | c4 | 04-20T12:00 [04-20] | – | – | – | – |
// | c5 | 06-02T12:00 [06-02] | 06-03T12:00 [06-03] | – | – | – |
//
// **stage_transitions** (days = difference of the two entry timestamps; period = later entry)
//
// | contact | transition | days | placed on (local) |
// |---|---|---|---|
// | c1 | lead→mql | 03-15T15:00→03-20T12:00 = 4 d 21 h = 4.875 | 2025-03-20 |
// | c1 | mql→sql | 03-20T12:00→05-10T12:00 = 11+30+10 = 51 | 2025-05-10 |
// | c1 | sql→opportunity | 0 | 2025-05-10 |
// | c1 | opportunity→customer | 0 | 2025-05-10 |
// | c2 | lead→mql | 04-01T02:00→04-05T12:00 = 4 d 10 h = 4.416667 | 2025-04-05 |
// | c2 | mql→sql | 2 | 2025-04-07 |
// | c3 | lead→mql | 2 | 2025-04-12 |
// | c5 | lead→mql | 1 | 2025-06-03 |
//
// **won_deal_cycles**: d1: first touch = s1 2025-03-14T10:00Z, close 2025-05-10T12:00Z →
// 57 d 2 h = 1370/24 = 57.083333 d (placed 2025-05-10). d4: c5 has no session → first touch = c5
// creation 2025-06-02T12:00Z, close 2025-06-01T12:00Z → −1 d (negative: excluded from the
// cycle measures; still counts in won_deals / won_revenue), placed 2025-06-01.
//
// **mrr_movements** (last revenue month in the table: 2025-06)
//
// | account | month | mrr | previous_mrr | movement | new | expansion | contraction | churned |
// |---|---|---|---|---|---|---|---|---|
// | a1 | 2025-03 | 100 | 0 | new | 100 | 0 | 0 | 0 |
// | a1 | 2025-04 | 150 | 100 | expansion | 0 | 50 | 0 | 0 |
// | a1 | 2025-05 | 150 | 150 | flat | 0 | 0 | 0 | 0 |
// | a1 | 2025-06 | 0 | 150 | churn (synthetic row) | 0 | 0 | 0 | 150 |
// | a2 | 2025-04 | 200 | 0 | new | 200 | 0 | 0 | 0 |
// | a2 | 2025-05 | 180 | 200 | contraction | 0 | 0 | 20 | 0 |
// | a2 | 2025-06 | 180 | 180 | flat | 0 | 0 | 0 | 0 |
// | a3 | 2025-06 | 300 | 0 | new | 300 | 0 | 0 | 0 |
//
// (a2/a3 churn rows would fall in 2025-07, after the table's last month: not generated.)
//
// **mrr_retention** (one row per account per period, see ambiguity 2):
// FY2026-Q1: first month with data = 2025-04, last = 2025-06. start_mrr (MRR in 2025-03): a1 100,
// a2 0, a3 0. end_mrr (2025-06): a1 0, a2 180, a3 300. Prev period (Jan–Mar): only 2025-03 has
// data; start_mrr = MRR in 2025-02 = 0 for a1 → no account with start_mrr > 0.
//
// ## A. Overview FY2026-Q1 (2025-04-01..2025-06-30) vs previous (2025-01-01..2025-03-31)
//
// KPIs included: every non-vanity KPI whose measures' sources exist (excluded for missing tables:
// signups, logins, conversion_rate, cta_conversion_rate [events]; delivery_rate … email_mql_rate,
// email_conversion_rate [email_campaigns]; engagements, engagement_rate, mentions [social_posts];
// organic_traffic_value, keywords_top5 [seo_keywords]; referring_domains [backlinks]. Excluded as
// vanity: sessions_by_referrer, impressions, likes, reach, followers_gained, inbound_links_growth).
//
// | KPI | unit | value | previous | change | change_pct |
// |---|---|---|---|---|---|
// | sessions | count | 2 | 2 | 0 | 0 |
// | visitors | count | 1 | 2 | -1 | -0.5 |
// | organic_sessions | count | 0 | 1 | -1 | -1 |
// | paid_sessions | count | 1 | 1 | 0 | 0 |
// | bounce_rate | percent | 0.5 | 0.5 | 0 | 0 |
// | pages_per_session | ratio | 3 | 2 | 1 | 0.5 |
// | avg_session_duration | minutes | 2.5 | 1.083333 | 1.416667 | 1.307692 |
// | visitor_to_lead_rate | percent | 3 | 1 | 2 | 2 |
// | clicks | count | 80 | 50 | 30 | 0.6 |
// | ad_cost | currency | 200 | 100 | 100 | 1 |
// | ctr | percent | 0.032 | 0.05 | -0.018 | -0.36 |
// | cpc | currency | 2.5 | 2 | 0.5 | 0.25 |
// | cpm | currency | 80 | 100 | -20 | -0.2 |
// | ad_conversions | count | 0 | 5 | -5 | -1 |
// | ad_conversion_rate | percent | 0 | 0.1 | -0.1 | -1 |
// | cost_per_conversion | currency | — | 20 | — | — |
// | search_impression_share | percent | — | — | — | — |
// | leads | count | 3 | 2 | 1 | 0.5 |
// | mqls | count | 3 | 1 | 2 | 2 |
// | sqls | count | 2 | 0 | 2 | — |
// | sqos | count | 1 | 0 | 1 | — |
// | customers | count | 1 | 0 | 1 | — |
// | cpl | currency | 66.666667 | 50 | 16.666667 | 0.333333 |
// | cost_per_mql | currency | 66.666667 | 100 | -33.333333 | -0.333333 |
// | cost_per_sql | currency | 100 | — | — | — |
// | cost_per_sqo | currency | 200 | — | — | — |
// | lead_to_mql_rate | percent | 1 | 0.5 | 0.5 | 1 |
// | mql_to_sql_rate | percent | 0.666667 | 0 | 0.666667 | — |
// | sql_to_sqo_rate | percent | 0.5 | — | — | — |
// | win_rate | percent | 0.666667 | — | — | — |
// | lead_to_customer_rate | percent | 0.333333 | 0 | 0.333333 | — |
// | stage_velocity (all transitions pooled) | days | 2 | 4.875 | -2.875 | -0.589744 |
// | stage_velocity_p90 (all transitions pooled) | days | 23.05 | 4.875 | 18.175 | 3.728205 |
// | speed_to_lead | minutes | 65 | 3 | 62 | 20.666667 |
// | speed_to_lead_5min_share | percent | 0 | 1 | -1 | -1 |
// | pipeline_created | currency | 6500 | 0 | 6500 | — |
// | closed_won_deals | count | 2 | 0 | 2 | — |
// | won_revenue | currency | 4000 | 0 | 4000 | — |
// | avg_deal_size | currency | 2000 | — | — | — |
// | sales_cycle_days | days | 57.083333 | — | — | — |
// | sales_cycle_days_median | days | 57.083333 | — | — | — |
// | mrr | currency | 480 | 100 | 380 | 3.8 |
// | arr | currency | 5760 | 1200 | 4560 | 3.8 |
// | new_mrr | currency | 500 | 100 | 400 | 4 |
// | expansion_mrr | currency | 50 | 0 | 50 | — |
// | contraction_mrr | currency | 20 | 0 | 20 | — |
// | churned_mrr | currency | 150 | 0 | 150 | — |
// | net_new_mrr | currency | 380 | 100 | 280 | 2.8 |
// | logo_churn_rate | percent | 1 | — | — | — |
// | gross_revenue_retention | percent | 0 | — | — | — |
// | net_revenue_retention | percent | 0 | — | — | — |
// | sales_growth | percent | — | — | — | — |
// | cac | currency | 200 | — | — | — |
// | cac_fully_loaded | currency | 1700 | — | — | — |
// | cost_per_sale | currency | 850 | — | — | — |
// | arpa | currency | 240 | 100 | 140 | 1.4 |
// | clv | currency | 576 | — | — | — |
// | clv_to_cac | ratio | 2.88 | — | — | — |
// | cac_payback_months | ratio | 1.041667 | — | — | — |
// | marketing_roi | percent | 1.666667 | -1 | 2.666667 | 2.666667 |
// | social_sourced_leads | count | 2 | 0 | 2 | — |
// | social_share_of_revenue | percent | 0.75 | — | — | — |
// | dark_social_gap | percent | — | — | — | — |
//
// stage_velocity / stage_velocity_p90 have default split `by = ["transition"]`; per transition:
//
// | transition | Q1 rows (days) | Q1 median | Q1 p90 | prev rows | prev median | prev p90 | change median | change_pct median |
// |---|---|---|---|---|---|---|---|---|
// | lead→mql | 4.416667 (c2), 2 (c3), 1 (c5) | 2 | 3.933333 | 4.875 (c1) | 4.875 | 4.875 | −2.875 (p90 −0.941667) | −0.589744 (p90 −0.193162) |
// | mql→sql | 2 (c2), 51 (c1) | 26.5 | 46.1 | none | — | — | — | — |
// | sql→opportunity | 0 (c1) | 0 | 0 | none | — | — | — | — |
// | opportunity→customer | 0 (c1) | 0 | 0 | none | — | — | — | — |
//
// ### Derivations (Q1 | previous)
//
// Traffic — Q1 sessions = s3, s4; prev = s1, s2.
// - sessions 2 | 2. visitors: {v3} = 1 | {v1, v2} = 2. organic_sessions: none = 0 | s2 = 1.
//   paid_sessions: s3 (Paid Social) = 1 | s1 (Paid Search) = 1. (s4 Direct is neither.)
// - bounce_rate: bounced s4 → 1/2 = 0.5 | s2 → 1/2 = 0.5.
// - pages_per_session: (5+1)/2 = 3 | (3+1)/2 = 2.
// - avg_session_duration: (300+0)/2/60 = 2.5 | (120+10)/2/60 = 1.083333.
// - visitor_to_lead_rate = leads/visitors: 3/1 = 3.0 | 2/2 = 1.0.
//
// Ads — Q1 rows 04-15, 04-20, 06-05; prev row 03-10.
// - clicks 80+0+0 = 80 | 50. ad_cost 160+40+0 = 200 | 100. (impressions 2500 | 1000, conversions 0 | 5.)
// - ctr 80/2500 = 0.032 | 50/1000 = 0.05. cpc 200/80 = 2.5 | 100/50 = 2. cpm 200/2500×1000 = 80 | 100.
// - ad_conversions (the platforms' own count): 0+0+0 = 0 | 5 (2025-03-10).
// - ad_conversion_rate 0/80 = 0 | 5/50 = 0.1. cost_per_conversion 200/0 = — | 100/5 = 20.
// - search_impression_share: no eligible_impressions column → search_impressions (filter
//   eligible_impressions IS NOT NULL matches nothing) = 0, eligible_impressions = 0 (or NULL) → — | —.
//
// Leads / funnel counts — leads by local created date: Q1 c3, c4, c5 = 3 | c1, c2 (c2 is 03-31 local) = 2.
// - mqls: c2 04-05, c3 04-12, c5 06-03 = 3 | c1 03-20 = 1.
// - sqls: c2 04-07, c1 05-10 (skip) = 2 | 0. sqos: c1 05-10 = 1 | 0. customers: c1 05-10 = 1 | 0.
// - cpl 200/3 = 66.666667 | 100/2 = 50. cost_per_mql 200/3 = 66.666667 | 100/1 = 100.
//   cost_per_sql 200/2 = 100 | 100/0 = —. cost_per_sqo 200/1 = 200 | —.
// - lead_to_mql_rate 3/3 = 1 | 1/2 = 0.5. mql_to_sql_rate 2/3 | 0/1 = 0. sql_to_sqo_rate 1/2 | 0/0 = —.
// - win_rate: won closed in Q1 d1 (05-10), d4 (06-01) = 2, lost d2 (05-20) = 1 → 2/3 | 0/0 = —.
// - lead_to_customer_rate 1/3 | 0/2 = 0.
// - stage_velocity pooled: Q1 transitions sorted [0, 0, 1, 2, 2, 4.416667, 51] → median 2;
//   p90 position 0.9×6 = 5.4 → 4.416667 + 0.4×(51 − 4.416667) = 23.05 | prev [4.875] → 4.875, 4.875.
//   Per transition lead→mql [1, 2, 4.416667]: p90 pos 1.8 → 2 + 0.8×2.416667 = 3.933333;
//   mql→sql [2, 51]: median 26.5, p90 2 + 0.9×49 = 46.1.
// - speed_to_lead: contacts created in period with first_response_at: c3 10 min, c4 120 min → median 65
//   | c1 3 min → 3. 5-min share: 0 of 2 = 0 | 1 of 1 = 1.
//
// Deals
// - pipeline_created (by created_at local): d1 04-01, d2 04-08, d3 05-01, d4 05-25 → 1000+500+2000+3000
//   = 6500 | 0.
// - closed_won_deals 2 | 0. won_revenue 1000 + 3000 = 4000 | 0. avg_deal_size 4000/2 = 2000 | 0/0 = —.
// - sales_cycle_days: cycle_days ≥ 0 in Q1: d1 only (d4 is −1) → 57.083333/1 | 0/0 = —.
//   sales_cycle_days_median 57.083333 | — (no rows).
//
// Revenue (Q1 months with rows 04, 05, 06; prev only 03)
// - mrr (last month 06): a1 0 + a2 180 + a3 300 = 480 | (03) a1 100 = 100. arr ×12: 5760 | 1200.
// - new_mrr 200 (a2 04) + 300 (a3 06) = 500 | 100 (a1 03). expansion 50 (a1 04) | 0.
//   contraction 20 (a2 05) | 0. churned 150 (a1 06) | 0. net_new 500+50−20−150 = 380 | 100.
// - logo_churn_rate: churned_accounts {a1} = 1 / starting_accounts (month 04, previous_mrr > 0: a1) = 1
//   → 1.0 | 0 / 0 (month 03: a1 previous_mrr 0) = —.
// - GRR: retained_mrr_capped = least(0, 100) = 0 / cohort_starting_mrr 100 → 0 | 0/0 = —.
//   NRR: retained_mrr 0 / 100 = 0 | —.
// - sales_growth: (4000 − 0)/0 = — | (0 − 0 [Oct–Dec 2024])/0 = —.
//
// Efficiency
// - cac 200/1 = 200 | 100/0 = —. cac_fully_loaded (200 + 1000 + 500)/1 = 1700 | (100+0+0)/0 = —.
// - cost_per_sale 1700/2 = 850 | 100/0 = —.
// - arpa = mrr/paying_accounts: 480 / {a2, a3} = 240 | 100/{a1} = 100.
// - clv = arpa × 0.8 / (logo_churn_rate / period_months()=3) = 240×0.8/(1/3) = 576 | logo churn — → —.
// - clv_to_cac 576/200 = 2.88 | —. cac_payback_months 200/(240×0.8) = 200/192 = 1.041667 | —.
// - marketing_roi (4000×0.8 − (200+1000)) / 1200 = 2000/1200 = 1.666667 | (0 − 100)/100 = −1.
//
// Social / dark social
// - social_sourced_leads: Q1 leads with channel Paid/Organic Social: c3, c5 = 2 | c1 PS, c2 OS → 0.
// - social_share_of_revenue: social_won_revenue d4 3000 / 4000 = 0.75 | 0/0 = —.
// - dark_social_gap: no self_reported_source column → self_reported_customers = 0 → — | —.
//
// ## B. Split by channel, months 2025-03..2025-06
//
// **leads** (contacts by created local date; channels seen: Paid Search, Organic Search, Paid Social, Email)
//
// | month | Paid Search | Organic Search | Paid Social | Email |
// |---|---|---|---|---|
// | 2025-03 | 1 (c1) | 1 (c2, 03-31 local) | 0 | 0 |
// | 2025-04 | 0 | 0 | 1 (c3) | 1 (c4) |
// | 2025-05 | 0 | 0 | 0 | 0 |
// | 2025-06 | 0 | 0 | 1 (c5) | 0 |
//
// **mqls** (mql entries; channels seen: Paid Search, Organic Search, Paid Social)
//
// | month | Paid Search | Organic Search | Paid Social |
// |---|---|---|---|
// | 2025-03 | 1 (c1) | 0 | 0 |
// | 2025-04 | 0 | 1 (c2) | 1 (c3) |
// | 2025-05 | 0 | 0 | 0 |
// | 2025-06 | 0 | 0 | 1 (c5) |
//
// **cpl** = ad_cost / leads (ad_cost by ad_spend.channel: 03 PS 100; 04 PS 160, Paid Social 40;
// 05 none; 06 PS 0). Channels seen: Paid Search, Paid Social (ad_cost and leads), Organic Search, Email (leads).
//
// | month | Paid Search | Organic Search | Paid Social | Email |
// |---|---|---|---|---|
// | 2025-03 | 100/1 = 100 | 0/1 = 0 | 0/0 = — | 0/0 = — |
// | 2025-04 | 160/0 = — | 0/0 = — | 40/1 = 40 | 0/1 = 0 |
// | 2025-05 | 0/0 = — | — | — | — |
// | 2025-06 | 0/0 = — | — | 0/1 = 0 | — |
//
// **mql_to_sql_rate** = sqls / mqls (sqls: c2 04-07 Organic Search, c1 05-10 Paid Search). Channels: Paid Search, Organic Search, Paid Social.
//
// | month | Paid Search | Organic Search | Paid Social |
// |---|---|---|---|
// | 2025-03 | 0/1 = 0 | 0/0 = — | 0/0 = — |
// | 2025-04 | 0/0 = — | 1/1 = 1 | 0/1 = 0 |
// | 2025-05 | 1/0 = — | 0/0 = — | 0/0 = — |
// | 2025-06 | 0/0 = — | 0/0 = — | 0/1 = 0 |
//
// **won_revenue** (won deals by closed local date; channels seen: Paid Search, Paid Social)
//
// | month | Paid Search | Paid Social |
// |---|---|---|
// | 2025-03 | 0 | 0 |
// | 2025-04 | 0 | 0 |
// | 2025-05 | 1000 (d1) | 0 |
// | 2025-06 | 0 | 3000 (d4) |
//
// ## C. Fiscal quarters, 2025-01-01..2025-06-30
//
// | bucket | leads | won_revenue | mrr |
// |---|---|---|---|
// | FY2025-Q4 (Jan–Mar 2025) | 2 (c1, c2) | 0 | 100 (a1 @ 2025-03, the only month with rows) |
// | FY2026-Q1 (Apr–Jun 2025) | 3 (c3, c4, c5) | 4000 (d1 + d4) | 480 (@ 2025-06: a1 0 + a2 180 + a3 300) |
//
// ## D. Cohort rates, --rate cohort --window 30, months 2025-03..2025-06
//
// Cohort = contacts entering the first stage in the month (local date); numerator = those entering
// the second stage at t with first_entry ≤ t ≤ first_entry + 30 days.
//
// | month | lead_to_mql_rate | derivation | mql_to_sql_rate | derivation |
// |---|---|---|---|---|
// | 2025-03 | 1 | c1 (4.875 d ✓), c2 (lead 03-31 local, 4.416667 d ✓) → 2/2 | 0 | c1 mql 03-20 → sql after 51 d ✗ → 0/1 |
// | 2025-04 | 0.5 | c3 (2 d ✓), c4 (never mql) → 1/2 | 0.5 | c2 (2 d ✓), c3 (no sql) → 1/2 |
// | 2025-05 | — | no leads → 0/0 | — | no mql entries → 0/0 |
// | 2025-06 | 1 | c5 (1 d ✓) → 1/1 | 0 | c5 (no sql) → 0/1 |
//
// ## E. Funnel 2025-03-01..2025-06-30
//
// **Ordered, by contact, window 90 d** — cohort: lead entry in period = c1, c2, c3, c4, c5.
// - mql: c1 (03-20 ≤ 03-15T15:00+90 d = 06-13T15:00Z), c2, c3, c5 (c4 none) → 4.
// - sql: c1 (05-10 ≥ mql, ≤ 06-13), c2 (04-07) → 2. opportunity: c1 (05-10, = sql entry) → 1. customer: c1 → 1.
//
// | stage | count | conversion_from_previous | conversion_from_first |
// |---|---|---|---|
// | lead | 5 | — | 1 |
// | mql | 4 | 4/5 = 0.8 | 0.8 |
// | sql | 2 | 2/4 = 0.5 | 0.4 |
// | opportunity | 1 | 1/2 = 0.5 | 0.2 |
// | customer | 1 | 1/1 = 1 | 0.2 |
//
// **Any order** — entries in the period per stage: lead c1–c5 = 5; mql c1 03-20, c2, c3, c5 = 4;
// sql c2, c1 = 2; opportunity c1 = 1; customer c1 = 1 → same table as above
// (5, 4, 2, 1, 1; from previous —, 0.8, 0.5, 0.5, 1; from first 1, 0.8, 0.4, 0.2, 0.2).
//
// **Ordered, split by channel**
//
// | channel | lead | mql | sql | opportunity | customer |
// |---|---|---|---|---|---|
// | Paid Search (c1) | 1 | 1 (prev 1, first 1) | 1 (1, 1) | 1 (1, 1) | 1 (1, 1) |
// | Organic Search (c2) | 1 | 1 (1, 1) | 1 (1, 1) | 0 (0, 0) | 0 (—, 0) |
// | Paid Social (c3, c5) | 2 | 2 (1, 1) | 0 (0, 0) | 0 (—, 0) | 0 (—, 0) |
// | Email (c4) | 1 | 0 (0, 0) | 0 (—, 0) | 0 (—, 0) | 0 (—, 0) |
//
// (cells: count (conversion_from_previous, conversion_from_first); lead row's from_previous is —, from_first 1.)
//
// **Velocity** — transitions whose later entry is in 2025-03-01..2025-06-30 (all 8 of the view):
//
// | transition | count | mean | median | p75 | p90 | rows |
// |---|---|---|---|---|---|---|
// | lead→mql | 4 | 3.072917 | 3.208333 | 4.53125 | 4.7375 | 1, 2, 4.416667, 4.875 |
// | mql→sql | 2 | 26.5 | 26.5 | 38.75 | 46.1 | 2, 51 |
// | sql→opportunity | 1 | 0 | 0 | 0 | 0 | 0 |
// | opportunity→customer | 1 | 0 | 0 | 0 | 0 | 0 |
//
// lead→mql: mean (1+2+4.416667+4.875)/4 = 12.291667/4 = 3.072917; median (2+4.416667)/2 = 3.208333;
// p75 pos 0.75×3 = 2.25 → 4.416667 + 0.25×0.458333 = 4.53125; p90 pos 2.7 → 4.416667 + 0.7×0.458333 = 4.7375.
// mql→sql: p75 2 + 0.75×49 = 38.75; p90 2 + 0.9×49 = 46.1.
//

/// Runs SQL files in DuckDB over Parquet files named by table; prints
/// `{"KPI": [[period_start, {dimension: value}, value or null], ...]}`.
const DUCKDB_RUNNER: &str = r#"
import duckdb, json, os, sys
parquet, sql_dir = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute("SET enable_progress_bar = false")
for f in sorted(os.listdir(parquet)):
    table = f[: -len(".parquet")]
    path = os.path.join(parquet, f).replace("'", "''")
    con.execute(f"CREATE VIEW \"{table}\" AS SELECT * FROM read_parquet('{path}')")
out = {}
for f in sorted(os.listdir(sql_dir)):
    kpi = f[: -len(".sql")]
    try:
        cur = con.execute(open(os.path.join(sql_dir, f)).read())
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    except Exception as e:
        print(f"{kpi}: {e}", file=sys.stderr)
        sys.exit(1)
    out[kpi] = [[str(r[0]), dict(zip(names[1:-1], r[1:-1])), r[-1]] for r in rows]
print(json.dumps(out))
"#;

/// `kpiflow sql --dialect duckdb` for every KPI of the catalog, run in DuckDB (Python package)
/// over `kpiflow export` Parquet files of the demo company, gives the report's numbers: each
/// KPI per month over the default period, split by channel where the KPI can be. KPIs the export
/// refuses (snapshots, retention, previous()) must say so, and are listed.
#[test]
fn sql_export_gives_the_reports_numbers_in_duckdb() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo_project(dir.path(), "0.2");
    let parquet = dir.path().join("parquet");
    let out = run(&demo, &["export", "--out", parquet.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let sql_dir = dir.path().join("sql");
    std::fs::create_dir(&sql_dir).unwrap();
    let catalog = run_json(&demo, &["kpis", "--format", "json"]);
    let (mut split, mut whole, mut refused) = (Vec::new(), Vec::new(), Vec::new());
    let mut no_data = Vec::new();
    for k in catalog.as_array().unwrap() {
        let id = k["id"].as_str().unwrap().to_owned();
        // Tables the demo does not write are not exported, so DuckDB has nothing to read.
        if reads_no_demo_table(k) {
            no_data.push(id);
            continue;
        }
        let mut out = run(&demo, &["sql", &id, "--by", "channel", "--dialect", "duckdb"]);
        let mut by_channel = true;
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() && stderr.contains("cannot be split") {
            out = run(&demo, &["sql", &id, "--dialect", "duckdb"]);
            by_channel = false;
        }
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() {
            assert_eq!(out.status.code(), Some(1), "{id}: {stderr}");
            assert!(stderr.contains("cannot export"), "{id}: {stderr}");
            refused.push(id);
            continue;
        }
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.starts_with("-- kpiflow: "), "{id}: {text}");
        std::fs::write(sql_dir.join(format!("{id}.sql")), text).unwrap();
        if by_channel { split.push(id) } else { whole.push(id) }
    }
    assert!(split.len() + whole.len() >= 40, "exported: {split:?} {whole:?}; refused: {refused:?}");

    let duck = std::process::Command::new("python3")
        .args(["-c", DUCKDB_RUNNER, parquet.to_str().unwrap(), sql_dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        duck.status.success(),
        "DuckDB (pip install duckdb) failed: {}",
        String::from_utf8_lossy(&duck.stderr)
    );
    let answers: serde_json::Value = serde_json::from_slice(&duck.stdout).unwrap();

    // The report's figures: kpi → (period_start, dimension values by name) → value.
    type Key = (String, Vec<(String, String)>);
    type Cells = std::collections::BTreeMap<Key, Option<f64>>;
    let dims_of = |o: &serde_json::Map<String, serde_json::Value>, skip: &[&str]| {
        let mut v: Vec<(String, String)> = o
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.as_str().map(Into::into).unwrap_or_else(|| v.to_string())))
            .collect();
        v.sort();
        v
    };
    let report_fields = ["kpi", "period_start", "period", "value", "unit", "direction", "rate"];
    let mut report: std::collections::BTreeMap<String, Cells> = Default::default();
    for (ids, by) in [(&split, Some("channel")), (&whole, None)] {
        if ids.is_empty() {
            continue;
        }
        let list = ids.join(",");
        let mut args = vec!["report", "--kpi", list.as_str(), "--format", "json"];
        if let Some(by) = by {
            args.extend(["--by", by]);
        }
        let doc = run_json(&demo, &args);
        for r in doc["rows"].as_array().unwrap() {
            let key = (
                r["period_start"].as_str().unwrap().to_owned(),
                dims_of(r.as_object().unwrap(), &report_fields),
            );
            report
                .entry(r["kpi"].as_str().unwrap().to_owned())
                .or_default()
                .insert(key, r["value"].as_f64());
        }
    }

    let mut wrong = Vec::new();
    let mut compared = 0;
    for id in split.iter().chain(&whole) {
        let ours = report.get(id).cloned().unwrap_or_default();
        let mut theirs: Cells = Default::default();
        for row in answers[id].as_array().unwrap() {
            let key =
                (row[0].as_str().unwrap().to_owned(), dims_of(row[1].as_object().unwrap(), &[]));
            theirs.insert(key, row[2].as_f64());
        }
        // Percentiles: DataFusion rounds the interpolation weight to 6 decimals, DuckDB not.
        let tolerance = if id.contains("p90") || id.contains("p75") { 1e-5 } else { 1e-9 };
        for (key, value) in &ours {
            let other = theirs.get(key).copied().flatten();
            let same = match (value, other) {
                (Some(a), Some(b)) => (a - b).abs() <= tolerance * a.abs().max(b.abs()).max(1.0),
                // No row in SQL's answer: a bucket in which nothing happened.
                (Some(a), None) => *a == 0.0 && !theirs.contains_key(key),
                (None, None) => true,
                (None, Some(_)) => false,
            };
            compared += 1;
            if !same {
                wrong.push(format!("{id} {key:?}: report {value:?}, DuckDB {other:?}"));
            }
        }
        for key in theirs.keys().filter(|k| !ours.contains_key(*k)) {
            wrong.push(format!("{id} {key:?}: only in DuckDB's answer"));
        }
    }
    assert!(wrong.is_empty(), "{} of {compared} cells differ:\n{}", wrong.len(), wrong.join("\n"));
    assert!(compared > 1000, "only {compared} cells compared");
    eprintln!(
        "{} KPIs exported ({} by channel), {compared} cells equal; refused: {}; not in the demo: {}",
        split.len() + whole.len(),
        split.len(),
        refused.join(", "),
        no_data.join(", ")
    );
}
