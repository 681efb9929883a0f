//! Import presets: every fixture in `tests/fixtures/presets/` (made to its vendor's rules by
//! `make_fixtures.py` there) and every real export in `shared/datasets/vendor-exports/` is
//! imported with no table, preset or mapping named, so detection picks the preset; the tests
//! check which preset read the file, the rows written, the rows dropped as not data (totals,
//! footers, other streams) and KPI figures computed by hand in the comments.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    let path = tests_dir().join("fixtures").join("presets").join(name);
    assert!(path.is_file(), "missing fixture {}", path.display());
    path
}

fn vendor_export(name: &str) -> PathBuf {
    datasets().join("vendor-exports").join(name)
}

/// `kpiflow import FILE --format json`: no table, no preset, no mapping.
fn import(project: &Path, file: &Path) -> Value {
    run_json(project, &["import", file.to_str().unwrap(), "--format", "json"])
}

/// The file was read by `preset` into `tables` (table, rows inserted), `dropped` rows were not
/// data, and nothing was rejected.
fn assert_read(out: &Value, preset: &str, tables: &[(&str, u64)], dropped: u64) {
    let file = &out["files"][0];
    assert_eq!(file["preset"], preset, "{out:#}");
    let written: Vec<&str> =
        file["tables"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    for (table, rows) in tables {
        assert!(written.contains(table), "{table} not written: {out:#}");
        assert_eq!(table_summary(out, table)["inserted"], *rows, "{table}: {out:#}");
    }
    assert_eq!(file["dropped"], dropped, "{out:#}");
    assert_eq!(file["rejected"], 0, "{out:#}");
    assert_eq!(out["rejected"], 0, "{out:#}");
}

/// Imports fx rates (date, currency, rate into USD).
fn fx(project: &Path, rates: &[(&str, &str, f64)]) {
    let file = project.join("rates.csv");
    let mut text = String::from("date,currency,rate\n");
    for (date, currency, rate) in rates {
        text.push_str(&format!("{date},{currency},{rate}\n"));
    }
    std::fs::write(&file, text).unwrap();
    let out =
        run_json(project, &["import", "fx_rates", file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out["rejected"], 0, "{out}");
}

/// EUR and GBP at the rates the fixtures' tests compute with (USD per unit), valid for the
/// week from each date.
fn fx_eur_gbp(project: &Path) {
    fx(
        project,
        &[("2025-07-01", "EUR", 1.10), ("2025-07-08", "EUR", 1.10), ("2025-07-08", "GBP", 1.25)],
    );
}

/// KPI values over all dates (one value per KPI).
fn kpis(project: &Path, ids: &str) -> Vec<Value> {
    let doc = run_json(
        project,
        &["report", "--kpi", ids, "--from", "2000-01-01", "--to", "2030-12-31", "--format", "json"],
    );
    doc["rows"].as_array().unwrap().clone()
}

/// Adds a project KPI (`kpiflow.toml`), as a user would, for a measure the catalog has no KPI
/// of (emails sent).
fn add_kpi(project: &Path, id: &str, formula: &str) {
    let config = project.join("kpiflow.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[[kpis]]\nid = \"{id}\"\nname = \"{id}\"\ngroup = \"email\"\n\
         description = \"{formula}\"\nquestion = \"How many?\"\nformula = \"{formula}\"\n\
         unit = \"count\"\ndirection = \"higher\"\n"
    ));
    std::fs::write(&config, text).unwrap();
}

fn value(rows: &[Value], kpi: &str) -> f64 {
    rows.iter()
        .find(|r| r["kpi"] == kpi)
        .and_then(|r| r["value"].as_f64())
        .unwrap_or_else(|| panic!("no value for {kpi} in {rows:?}"))
}

fn close(actual: f64, expected: f64) {
    assert!((actual - expected).abs() <= 1e-6, "{actual} is not {expected}");
}

// ---------------------------------------------------------------------------------------------
// Ad platforms
// ---------------------------------------------------------------------------------------------

#[test]
fn google_ads_campaigns_csv() {
    let p = project();
    let out = import(p.path(), &fixture("google-ads/Campaign report.csv"));
    // Two title lines skipped; 4 day rows; the 3 `Total:` rows dropped.
    assert_read(&out, "google-ads-campaigns", &[("ad_spend", 4)], 3);
    let k = kpis(p.path(), "ad_cost,clicks,impressions,ctr,ad_conversions");
    // cost "1,023.40" + 868.56 + 27.90 + 0.00 = 1,919.86 (USD, the Currency code column)
    close(value(&k, "ad_cost"), 1919.86);
    // clicks "1,204" + 987 + 45 + 0 = 2,236
    close(value(&k, "clicks"), 2236.0);
    // impressions "9,380" + "8,115" + "12,500" + "1,020" = 31,015
    close(value(&k, "impressions"), 31015.0);
    // ctr 2,236 / 31,015 = 0.072094…
    close(value(&k, "ctr"), 2236.0 / 31015.0);
    // conversions 35 + 31 + 0 + ` --` (no value) = 66
    close(value(&k, "ad_conversions"), 66.0);
}

#[test]
fn google_ads_campaigns_excel_csv_utf16_tabs() {
    let p = project();
    fx_eur_gbp(p.path());
    let out = import(p.path(), &fixture("google-ads/Campaign report (Excel).csv"));
    // UTF-16LE with a BOM, tab-separated: the same preset; 3 rows, 1 `Total: Account` dropped.
    assert_read(&out, "google-ads-campaigns", &[("ad_spend", 3)], 1);
    let k = kpis(p.path(), "ad_cost,clicks,impressions,ctr");
    // cost 412.35 + 398.10 + 18.00 = 828.45 GBP × 1.25 = 1,035.5625 USD
    close(value(&k, "ad_cost"), 1035.5625);
    // clicks 310 + 295 + 12 = 617
    close(value(&k, "clicks"), 617.0);
    // impressions "4,200" + "3,980" + "2,050" = 10,230
    close(value(&k, "impressions"), 10230.0);
    // ctr 617 / 10,230
    close(value(&k, "ctr"), 617.0 / 10230.0);
}

#[test]
fn google_ads_keywords() {
    let p = project();
    let out = import(p.path(), &fixture("google-ads/Search keyword report.csv"));
    // 4 keyword-day rows; the 2 total rows (`Total: …` in the second column) dropped.
    assert_read(&out, "google-ads-keywords", &[("ad_spend", 4)], 2);
    let k = kpis(p.path(), "ad_cost,clicks,impressions,ctr,cpc");
    // cost 252.00 + 215.60 + 24.50 + 0.00 = 492.10
    close(value(&k, "ad_cost"), 492.10);
    // clicks 120 + 98 + 14 + 0 = 232
    close(value(&k, "clicks"), 232.0);
    // impressions "2,400" + "2,150" + 610 + 35 = 5,195
    close(value(&k, "impressions"), 5195.0);
    // ctr 232 / 5,195; cpc 492.10 / 232 = 2.1211…
    close(value(&k, "ctr"), 232.0 / 5195.0);
    close(value(&k, "cpc"), 492.10 / 232.0);
}

#[test]
fn google_ads_api_field_names() {
    let p = project();
    let out = import(p.path(), &fixture("google-ads/gaql_campaign_by_day.csv"));
    assert_read(&out, "google-ads-api", &[("ad_spend", 3)], 0);
    let k = kpis(p.path(), "ad_cost,clicks,impressions,ctr");
    // cost_micros (1,023,400,000 + 150,250,000 + 868,560,000) / 1,000,000 = 2,042.21
    close(value(&k, "ad_cost"), 2042.21);
    // clicks 1,204 + 80 + 987 = 2,271; impressions 9,380 + 5,000 + 8,115 = 22,495
    close(value(&k, "clicks"), 2271.0);
    close(value(&k, "impressions"), 22495.0);
    close(value(&k, "ctr"), 2271.0 / 22495.0);
}

#[test]
fn google_ads_bigquery_transfer_columns() {
    let p = project();
    let out = import(p.path(), &fixture("google-ads/bq_campaign_stats.csv"));
    assert_read(&out, "google-ads-bigquery", &[("ad_spend", 3)], 0);
    let k = kpis(p.path(), "ad_cost,clicks,impressions,ctr");
    // metrics_cost_micros (50,000,000 + 55,500,000 + 12,340,000) / 1,000,000 = 117.84 (no
    // currency column: the reporting currency)
    close(value(&k, "ad_cost"), 117.84);
    // clicks 100 + 110 + 40 = 250; impressions 1,000 + 1,200 + 20,000 = 22,200
    close(value(&k, "clicks"), 250.0);
    close(value(&k, "impressions"), 22200.0);
    close(value(&k, "ctr"), 250.0 / 22200.0);
}

#[test]
fn google_ads_airbyte_campaign_by_date() {
    let p = project();
    let out = import(p.path(), &fixture("google-ads/airbyte_campaign_by_date.jsonl"));
    // 3 campaign_by_date records; the account_performance_report record is another stream.
    assert_read(&out, "google-ads-airbyte", &[("ad_spend", 3)], 1);
    let k = kpis(p.path(), "ad_cost,clicks,impressions");
    // cost_micros (50,000,000 + 15,500,000 + 45,250,000) / 1,000,000 = 110.75
    close(value(&k, "ad_cost"), 110.75);
    // clicks 100 + 30 + 90 = 220; impressions 1,000 + 3,000 + 1,100 = 5,100
    close(value(&k, "clicks"), 220.0);
    close(value(&k, "impressions"), 5100.0);
}

#[test]
fn meta_ads_manager_export_in_eur() {
    let p = project();
    fx_eur_gbp(p.path());
    let out = import(p.path(), &fixture("meta/Acme-Campaigns-Jul-8-2025-Jul-9-2025.csv"));
    assert_read(&out, "meta-ads", &[("ad_spend", 3)], 0);
    let k = kpis(p.path(), "ad_cost,clicks,impressions,ctr");
    // Amount spent (EUR) 75.00 + 72.00 + 24.50 = 171.50 EUR × 1.10 = 188.65 USD
    close(value(&k, "ad_cost"), 188.65);
    // Link clicks 58 + 51 + 40 = 149; impressions 4,100 + 3,800 + 2,600 = 10,500
    close(value(&k, "clicks"), 149.0);
    close(value(&k, "impressions"), 10500.0);
    close(value(&k, "ctr"), 149.0 / 10500.0);

    // An export with nothing in it: its one row "No data available." is dropped.
    let empty = import(p.path(), &fixture("meta/Acme-Campaigns-Aug-1-2025-Aug-7-2025.csv"));
    assert_eq!(empty["files"][0]["preset"], "meta-ads", "{empty:#}");
    assert_eq!(empty["files"][0]["dropped"], 1, "{empty:#}");
    assert_eq!(empty["rejected"], 0, "{empty:#}");
    close(value(&kpis(p.path(), "ad_cost"), "ad_cost"), 188.65);
}

#[test]
fn facebook_marketing_airbyte_ads_insights() {
    let p = project();
    fx_eur_gbp(p.path());
    let out = import(p.path(), &fixture("meta/airbyte_ads_insights.jsonl"));
    // 3 ads_insights records (one per ad and day); the ad_account record is dropped.
    assert_read(&out, "facebook-marketing-airbyte", &[("ad_spend", 3)], 1);
    let k = kpis(p.path(), "ad_cost,clicks,impressions");
    // spend 75.0 + 30.25 + 24.5 = 129.75 EUR (account_currency) × 1.10 = 142.725 USD
    close(value(&k, "ad_cost"), 142.725);
    // clicks 70 + 22 + 41 = 133; impressions 4,100 + 1,900 + 2,600 = 8,600
    close(value(&k, "clicks"), 133.0);
    close(value(&k, "impressions"), 8600.0);
}

#[test]
fn linkedin_campaign_manager_export() {
    let p = project();
    let out = import(p.path(), &fixture("linkedin/campaign_performance_report.csv"));
    // Six metadata lines before the header; 3 campaign-day rows.
    assert_read(&out, "linkedin-ads", &[("ad_spend", 3)], 0);
    let k = kpis(p.path(), "ad_cost,clicks,impressions,ctr,ad_conversions");
    // Total Spent 412.50 + 398.00 + 35.20 = 845.70 USD
    close(value(&k, "ad_cost"), 845.70);
    // clicks 96 + 88 + 11 = 195; impressions "18,400" + "17,950" + "4,300" = 40,650
    close(value(&k, "clicks"), 195.0);
    close(value(&k, "impressions"), 40650.0);
    close(value(&k, "ctr"), 195.0 / 40650.0);
    // Leads 7 + 5 + 0 = 12 (taken as conversions)
    close(value(&k, "ad_conversions"), 12.0);
}

#[test]
fn linkedin_airbyte_ad_campaign_analytics() {
    let p = project();
    let out = import(p.path(), &fixture("linkedin/airbyte_ad_campaign_analytics.jsonl"));
    // 3 analytics records; the accounts record is another stream.
    assert_read(&out, "linkedin-ads-airbyte", &[("ad_spend", 3)], 1);
    let k = kpis(p.path(), "ad_cost,clicks,impressions,ad_conversions");
    // costInUsd 412.5 + 398.0 + 35.2 = 845.70
    close(value(&k, "ad_cost"), 845.70);
    // clicks 96.0 + 88.0 + 11.0 = 195; impressions 18,400.0 + 17,950.0 + 4,300.0 = 40,650
    close(value(&k, "clicks"), 195.0);
    close(value(&k, "impressions"), 40650.0);
    // externalWebsiteConversions 2.0 + 1.0 + 0.0 = 3
    close(value(&k, "ad_conversions"), 3.0);
}

#[test]
fn microsoft_advertising_report() {
    let p = project();
    let out = import(p.path(), &fixture("microsoft/Campaign_Performance_Report.csv"));
    // Nine metadata lines and a blank line before the header; the copyright footer dropped.
    assert_read(&out, "microsoft-ads", &[("ad_spend", 3)], 1);
    let k = kpis(p.path(), "ad_cost,clicks,impressions,ctr");
    // Spend 223.20 + 206.50 + 16.20 = 445.90 USD
    close(value(&k, "ad_cost"), 445.90);
    // clicks 310 + 295 + 36 = 641; impressions "5,210" + "4,980" + "12,000" = 22,190
    close(value(&k, "clicks"), 641.0);
    close(value(&k, "impressions"), 22190.0);
    close(value(&k, "ctr"), 641.0 / 22190.0);
}

// ---------------------------------------------------------------------------------------------
// Web analytics
// ---------------------------------------------------------------------------------------------

#[test]
fn ga4_traffic_by_source_medium() {
    let p = project();
    let out = import(p.path(), &fixture("ga4/Traffic_acquisition_Session_source_medium.csv"));
    // The table under the comment block ends at the blank line: the second table is not read.
    assert_read(&out, "ga4-traffic", &[("web_traffic", 4)], 0);
    let k = kpis(p.path(), "analytics_sessions");
    // Sessions 1,520 + 980 + 310 + 45 = 2,855 (not the 99,999 of the table after the blank line)
    close(value(&k, "analytics_sessions"), 2855.0);
}

#[test]
fn ga4_traffic_by_day() {
    let p = project();
    let out = import(p.path(), &fixture("ga4/Traffic_acquisition_daily.csv"));
    assert_read(&out, "ga4-traffic-daily", &[("web_traffic", 4)], 0);
    let k = kpis(p.path(), "analytics_sessions");
    // Sessions 500 + 300 + 520 + 310 = 1,630
    close(value(&k, "analytics_sessions"), 1630.0);
}

// ---------------------------------------------------------------------------------------------
// CRM
// ---------------------------------------------------------------------------------------------

#[test]
fn hubspot_contacts_with_became_a_dates() {
    let p = project();
    let out = import(p.path(), &fixture("hubspot/hubspot-crm-exports-all-contacts-2025-07-31.csv"));
    // Stage dates: 101 lead+mql (2), 102 lead+mql+sql+opportunity+customer (5), 103 lead (1),
    // 104 subscriber (1), 105 lead+sql (2) = 11 stage_changes rows.
    assert_read(&out, "hubspot-contacts", &[("contacts", 5), ("stage_changes", 11)], 0);
    let k = kpis(p.path(), "leads,mqls,sqls,customers");
    // 5 contacts created
    close(value(&k, "leads"), 5.0);
    // mql reached by 101, 102 and 105 (its sql date implies the skipped mql) = 3
    close(value(&k, "mqls"), 3.0);
    // sql reached by 102 and 105 = 2; customer by 102 = 1
    close(value(&k, "sqls"), 2.0);
    close(value(&k, "customers"), 1.0);
}

#[test]
fn hubspot_contacts_with_date_entered_headers() {
    let p = project();
    let out =
        import(p.path(), &fixture("hubspot/hubspot-crm-exports-lifecycle-view-2025-07-31.csv"));
    // Stage dates: 201 lead+mql+sql+customer (4), 202 lead+mql (2), 203 lead (1) = 7.
    assert_read(&out, "hubspot-contacts", &[("contacts", 3), ("stage_changes", 7)], 0);
    let k = kpis(p.path(), "leads,mqls,sqls,customers");
    // 3 contacts; mql: 201, 202 = 2; sql: 201 = 1; customer: 201 = 1
    close(value(&k, "leads"), 3.0);
    close(value(&k, "mqls"), 2.0);
    close(value(&k, "sqls"), 1.0);
    close(value(&k, "customers"), 1.0);
}

#[test]
fn hubspot_companies() {
    let p = project();
    let out =
        import(p.path(), &fixture("hubspot/hubspot-crm-exports-all-companies-2025-07-31.csv"));
    // Stage dates: 5001 lead+customer (2), 5002 lead (1), 5003 lead (1) = 4.
    assert_read(&out, "hubspot-companies", &[("accounts", 3), ("stage_changes", 4)], 0);
    let counts = row_counts(p.path());
    assert_eq!(counts["accounts"], 3);
    assert_eq!(counts["stage_changes"], 4);
}

#[test]
fn hubspot_deals() {
    let p = project();
    let out = import(p.path(), &fixture("hubspot/hubspot-crm-exports-all-deals-2025-07-31.csv"));
    assert_read(&out, "hubspot-deals", &[("deals", 4)], 0);
    let k = kpis(p.path(), "won_revenue,closed_won_deals,win_rate,pipeline_created");
    // Closed Won: 9001 "12,500.00" + 9004 3,250.50 = 15,750.50
    close(value(&k, "won_revenue"), 15750.50);
    close(value(&k, "closed_won_deals"), 2.0);
    // won 2 / (won 2 + lost 1: 9002) = 0.6667 (9003 "Contract Sent" is open)
    close(value(&k, "win_rate"), 2.0 / 3.0);
    // created: 12,500 + 4,800 + 2,000 + 3,250.50 = 22,550.50
    close(value(&k, "pipeline_created"), 22550.50);
}

#[test]
fn hubspot_contacts_airbyte() {
    let p = project();
    let out = import(p.path(), &fixture("hubspot/airbyte_contacts.jsonl"));
    // Stage dates: 301 lead+mql (2), 302 lead+mql+sql+customer (4), 303 lead (1) = 7; the
    // companies record is another stream.
    assert_read(&out, "hubspot-contacts-airbyte", &[("contacts", 3), ("stage_changes", 7)], 1);
    let k = kpis(p.path(), "leads,mqls,customers");
    // 3 contacts; mql: 301, 302 = 2; customer: 302 = 1
    close(value(&k, "leads"), 3.0);
    close(value(&k, "mqls"), 2.0);
    close(value(&k, "customers"), 1.0);
}

#[test]
fn hubspot_deals_airbyte() {
    let p = project();
    let out = import(p.path(), &fixture("hubspot/airbyte_deals.jsonl"));
    assert_read(&out, "hubspot-deals-airbyte", &[("deals", 3)], 0);
    let k = kpis(p.path(), "won_revenue,win_rate,pipeline_created");
    // closedwon: 7001 "12500" = 12,500
    close(value(&k, "won_revenue"), 12500.0);
    // won 1 / (won 1 + closedlost 1) = 0.5
    close(value(&k, "win_rate"), 0.5);
    // created: 12,500 + 4,800 + 2,000 = 19,300
    close(value(&k, "pipeline_created"), 19300.0);
}

#[test]
fn salesforce_leads_report() {
    let p = project();
    let out = import(p.path(), &fixture("salesforce/report1752345678901.csv"));
    // 3 leads; "Grand Totals (3 records)", the confidentiality line and the copyright dropped.
    assert_read(&out, "salesforce-leads", &[("contacts", 3)], 3);
    // 3 leads created on 7/1, 7/3 and 7/15/2025
    close(value(&kpis(p.path(), "leads"), "leads"), 3.0);
}

#[test]
fn salesforce_opportunities_report() {
    let p = project();
    fx_eur_gbp(p.path());
    let out = import(p.path(), &fixture("salesforce/report1752345679012.csv"));
    assert_read(&out, "salesforce-opportunities", &[("deals", 4)], 3);
    let k = kpis(p.path(), "won_revenue,closed_won_deals,win_rate,pipeline_created");
    // Closed Won: "USD 12,500.00" + "USD 3,250.50" = 15,750.50
    close(value(&k, "won_revenue"), 15750.50);
    close(value(&k, "closed_won_deals"), 2.0);
    // won 2 / (won 2 + Closed Lost 1) = 0.6667
    close(value(&k, "win_rate"), 2.0 / 3.0);
    // created: 12,500 + "EUR 4,800.00" × 1.10 (= 5,280) + 2,000 + 3,250.50 = 23,030.50
    close(value(&k, "pipeline_created"), 23030.50);
}

#[test]
fn salesforce_opportunities_airbyte() {
    let p = project();
    let out = import(p.path(), &fixture("salesforce/airbyte_opportunity.jsonl"));
    // 3 Opportunity records; the Account record is another stream.
    assert_read(&out, "salesforce-opportunities-airbyte", &[("deals", 3)], 1);
    let k = kpis(p.path(), "won_revenue,win_rate,pipeline_created");
    // Closed Won 12,500.0; won 1 / (1 + Closed Lost 1) = 0.5; created 12,500 + 4,800 + 2,000
    close(value(&k, "won_revenue"), 12500.0);
    close(value(&k, "win_rate"), 0.5);
    close(value(&k, "pipeline_created"), 19300.0);
}

#[test]
fn pipedrive_deals_export_in_eur() {
    let p = project();
    fx_eur_gbp(p.path());
    let out = import(p.path(), &fixture("pipedrive/deals-export.csv"));
    assert_read(&out, "pipedrive-deals", &[("deals", 3)], 0);
    let k = kpis(p.path(), "won_revenue,win_rate,pipeline_created");
    // Won: 12,500 EUR × 1.10 = 13,750 USD
    close(value(&k, "won_revenue"), 13750.0);
    // won 1 / (won 1 + lost 1) = 0.5
    close(value(&k, "win_rate"), 0.5);
    // created: (12,500 + 4,800 + 2,000) EUR × 1.10 = 21,230 USD
    close(value(&k, "pipeline_created"), 21230.0);
}

#[test]
fn pipedrive_deals_airbyte() {
    let p = project();
    let out = import(p.path(), &fixture("pipedrive/airbyte_deals.jsonl"));
    // 3 deals records; the persons record is another stream.
    assert_read(&out, "pipedrive-deals-airbyte", &[("deals", 3)], 1);
    let k = kpis(p.path(), "won_revenue,win_rate,pipeline_created");
    // won 12,500; won 1 / (1 + lost 1) = 0.5; created 12,500 + 4,800 + 2,000 = 19,300
    close(value(&k, "won_revenue"), 12500.0);
    close(value(&k, "win_rate"), 0.5);
    close(value(&k, "pipeline_created"), 19300.0);
}

// ---------------------------------------------------------------------------------------------
// Email
// ---------------------------------------------------------------------------------------------

#[test]
fn mailchimp_campaign_export() {
    let p = project();
    add_kpi(p.path(), "sent_emails", "emails_sent");
    let out = import(p.path(), &fixture("mailchimp/campaigns.csv"));
    assert_read(&out, "mailchimp-campaigns", &[("email_campaigns", 3)], 0);
    let k = kpis(p.path(), "sent_emails,delivery_rate,open_rate,click_rate,bounce_rate_email");
    // Total Recipients "2,000" + 500 + "1,500" = 4,000
    close(value(&k, "sent_emails"), 4000.0);
    // Successful Deliveries "1,960" + 490 + "1,470" = 3,920 / 4,000 = 0.98
    close(value(&k, "delivery_rate"), 3920.0 / 4000.0);
    // Unique Opens 784 + 245 + 588 = 1,617 / 3,920 delivered = 0.4125
    close(value(&k, "open_rate"), 1617.0 / 3920.0);
    // Unique Clicks 196 + 49 + 147 = 392 / 3,920 = 0.1
    close(value(&k, "click_rate"), 392.0 / 3920.0);
    // Total Bounces 40 + 10 + 30 = 80 / 4,000 sent = 0.02
    close(value(&k, "bounce_rate_email"), 80.0 / 4000.0);
}

#[test]
fn mailchimp_reports_airbyte() {
    let p = project();
    add_kpi(p.path(), "sent_emails", "emails_sent");
    let out = import(p.path(), &fixture("mailchimp/airbyte_reports.jsonl"));
    // 2 reports records; the campaigns record is another stream.
    assert_read(&out, "mailchimp-reports-airbyte", &[("email_campaigns", 2)], 1);
    let k = kpis(p.path(), "sent_emails,bounce_rate_email");
    // emails_sent 2,000 + 500 = 2,500
    close(value(&k, "sent_emails"), 2500.0);
    // bounced (hard 15 + soft 25) + (4 + 6) = 50 / 2,500 = 0.02
    close(value(&k, "bounce_rate_email"), 0.02);
}

// ---------------------------------------------------------------------------------------------
// SEO
// ---------------------------------------------------------------------------------------------

#[test]
fn ahrefs_referring_domains_for_excel() {
    let p = project();
    let out = import(
        p.path(),
        &fixture("ahrefs/acme.example-refdomains-subdomains_2025-07-31_10-15-00.csv"),
    );
    // UTF-16LE, tabs, trailing spaces in the header; dated 2025-07-31 by the file name.
    assert_read(&out, "ahrefs-backlinks", &[("backlinks", 4)], 0);
    // 4 domains on the one date
    close(value(&kpis(p.path(), "referring_domains"), "referring_domains"), 4.0);
}

#[test]
fn ahrefs_organic_keywords() {
    let p = project();
    let out = import(
        p.path(),
        &fixture("ahrefs/acme.example-organic-keywords-subdomains-us_2025-07-31_10-20-00.csv"),
    );
    assert_read(&out, "ahrefs-keywords", &[("seo_keywords", 5)], 0);
    let k = kpis(p.path(), "keywords_top5,organic_traffic_value");
    // positions 2, 4, 7, -- (not ranking), 5: three in the top five
    close(value(&k, "keywords_top5"), 3.0);
    // Traffic × CPC: 310 × 4.50 + 150 × 6.20 + 40 × 2.10 + 0 × 1.20 + 55 × 3.00
    // = 1,395 + 930 + 84 + 0 + 165 = 2,574
    close(value(&k, "organic_traffic_value"), 2574.0);
}

#[test]
fn semrush_organic_positions() {
    let p = project();
    let out = import(
        p.path(),
        &fixture("semrush/acme.example-organic.Positions-uk-20250730-2025-07-31T08_00_00Z.csv"),
    );
    assert_read(&out, "semrush-positions", &[("seo_keywords", 4)], 0);
    // positions 3, 12, 1, 5 on 2025-07-30: three in the top five
    close(value(&kpis(p.path(), "keywords_top5"), "keywords_top5"), 3.0);
}

#[test]
fn semrush_referring_domains() {
    let p = project();
    let out = import(p.path(), &fixture("semrush/acme.example-backlinks_refdomains.csv"));
    assert_read(&out, "semrush-backlinks", &[("backlinks", 3)], 0);
    // Booked on Last seen: the period's last date is 2025-07-30, when 2 of the 3 domains were
    // seen (spam-directory.example was last seen on 2025-07-29).
    close(value(&kpis(p.path(), "referring_domains"), "referring_domains"), 2.0);
}

// ---------------------------------------------------------------------------------------------
// The real exports in shared/datasets/vendor-exports, with no mapping
// ---------------------------------------------------------------------------------------------

#[test]
fn real_ga4_reports_snapshot() {
    let p = project();
    let out = import(p.path(), &vendor_export("ga4/Reports_snapshot.csv"));
    // Of the file's eight tables the preset reads the "Session source / medium,Sessions" one:
    // 38 rows, the period 2025-12-03 – 2026-03-02 from its comment block.
    assert_read(&out, "ga4-traffic", &[("web_traffic", 38)], 0);
    // Sessions (python over the block): 656 + 501 + 56 + 27 + 12 + 6 + 5 + 4 + 3 + 2 + 2
    // = 1,274, plus 27 rows of 1 = 1,301
    close(value(&kpis(p.path(), "analytics_sessions"), "analytics_sessions"), 1301.0);
}

#[test]
fn real_linkedin_ads_airbyte_excerpt() {
    let p = project();
    let out =
        import(p.path(), &vendor_export("linkedin-ads/airbyte_expected_records_excerpt.jsonl"));
    // 2 ad_campaign_analytics records; the accounts record is another stream.
    assert_read(&out, "linkedin-ads-airbyte", &[("ad_spend", 2)], 1);
    let k = kpis(p.path(), "ad_cost,clicks,impressions");
    // costInUsd -2e-18 + 99.99999999999996 = 100.00 (float noise)
    close(value(&k, "ad_cost"), 100.0);
    // clicks 0.0 + 106.0 = 106; impressions 1.0 + 19,464.0 = 19,465
    close(value(&k, "clicks"), 106.0);
    close(value(&k, "impressions"), 19465.0);
}

#[test]
fn real_mailchimp_airbyte_excerpt() {
    let p = project();
    add_kpi(p.path(), "sent_emails", "emails_sent");
    let out = import(p.path(), &vendor_export("mailchimp/airbyte_expected_records_excerpt.jsonl"));
    // 1 reports record; the campaigns record is another stream.
    assert_read(&out, "mailchimp-reports-airbyte", &[("email_campaigns", 1)], 1);
    let k = kpis(p.path(), "sent_emails,bounce_rate_email");
    // emails_sent 50; bounced hard 0 + soft 0 = 0 → 0 / 50 = 0
    close(value(&k, "sent_emails"), 50.0);
    close(value(&k, "bounce_rate_email"), 0.0);
}

#[test]
fn real_pipedrive_airbyte_excerpt() {
    let p = project();
    let out =
        import(p.path(), &vendor_export("pipedrive/airbyte_expected_records_deals_excerpt.jsonl"));
    assert_read(&out, "pipedrive-deals-airbyte", &[("deals", 3)], 0);
    // 3 open deals created 2023-02-22: value 1,500 + 1,200 + 1,500 = 4,200 USD
    close(value(&kpis(p.path(), "pipeline_created"), "pipeline_created"), 4200.0);
}
