//! End-to-end checks of the generator: determinism, volumes, and the invariants the demo data
//! must satisfy to pass import and `kpiflow tables --check`, read back from the files.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::Path;

use chrono::{DateTime, NaiveDate};
use kpiflow_generate::{
    GenerateError, GenerateOptions, GenerateSummary, OutputFormat, Progress, generate,
};
use kpiflow_model::schema::{ColumnType, Rule, TABLES, Table};

/// An entity's stage entries: (entered_at, stage, exited_at).
type History<'a> = Vec<(i64, &'a str, &'a str)>;

fn end_month() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
}

fn run(dir: &Path, scale: f64, seed: u64, format: OutputFormat) -> GenerateSummary {
    let opts = GenerateOptions::new(dir, scale, seed, format, end_month());
    generate(&opts, &mut |_| {}).unwrap()
}

/// A CSV file as its header and rows.
struct Csv {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    fn read(dir: &Path, table: &str) -> Csv {
        let mut r = csv::Reader::from_path(dir.join(format!("{table}.csv"))).unwrap();
        let header = r.headers().unwrap().iter().map(str::to_owned).collect();
        let rows =
            r.records().map(|rec| rec.unwrap().iter().map(str::to_owned).collect()).collect();
        Csv { header, rows }
    }

    fn col(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"))
    }

    /// Rows as maps column → value (for readable checks).
    fn maps(&self) -> Vec<HashMap<&str, &str>> {
        self.rows
            .iter()
            .map(|r| {
                self.header.iter().map(String::as_str).zip(r.iter().map(String::as_str)).collect()
            })
            .collect()
    }
}

fn ts(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}")).timestamp()
}

fn num(s: &str) -> f64 {
    s.parse::<f64>().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn files_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn same_seed_same_bytes_other_seed_other_data() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    run(a.path(), 0.02, 7, OutputFormat::Csv);
    run(b.path(), 0.02, 7, OutputFormat::Csv);
    run(c.path(), 0.02, 8, OutputFormat::Csv);
    let (fa, fb, fc) = (files_bytes(a.path()), files_bytes(b.path()), files_bytes(c.path()));
    assert_eq!(fa.len(), 13);
    for ((na, ba), (nb, bb)) in fa.iter().zip(&fb) {
        assert_eq!(na, nb);
        assert!(ba == bb, "{na} differs between two runs with the same seed");
    }
    for name in ["sessions.csv", "contacts.csv", "deals.csv", "ad_spend.csv", "social_posts.csv"] {
        let x = fa.iter().find(|(n, _)| n == name).unwrap();
        let y = fc.iter().find(|(n, _)| n == name).unwrap();
        assert_ne!(x.1, y.1, "{name} is the same for another seed");
    }
}

#[test]
fn parquet_is_deterministic_and_readable_with_the_schema() {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    let sa = run(a.path(), 0.05, 3, OutputFormat::Parquet);
    run(b.path(), 0.05, 3, OutputFormat::Parquet);
    let sc = run(c.path(), 0.05, 3, OutputFormat::Csv);
    assert_eq!(files_bytes(a.path()), files_bytes(b.path()));
    // The demo company exports the thirteen tables of its tools; the tables vendors' exports
    // added (accounts, web_traffic, search_performance) it does not write.
    let written: Vec<&Table> = TABLES.iter().filter(|t| sa.rows(t.name).is_some()).collect();
    assert_eq!(written.len(), 13, "{:?}", written.iter().map(|t| t.name).collect::<Vec<_>>());
    for table in written {
        let path = a.path().join(format!("{}.parquet", table.name));
        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
        let schema = builder.schema().clone();
        let expected = table.arrow_schema();
        assert_eq!(schema.fields().len(), expected.fields().len(), "{}", table.name);
        for (got, want) in schema.fields().iter().zip(expected.fields()) {
            assert_eq!(got.name(), want.name(), "{}", table.name);
            assert_eq!(got.data_type(), want.data_type(), "{}.{}", table.name, want.name());
            assert_eq!(got.is_nullable(), want.is_nullable(), "{}.{}", table.name, want.name());
        }
        let mut rows = 0u64;
        for batch in builder.with_batch_size(8192).build().unwrap() {
            rows += batch.unwrap().num_rows() as u64;
        }
        assert_eq!(Some(rows), sa.rows(table.name), "{}", table.name);
        // The same seed in CSV holds the same rows.
        assert_eq!(sa.rows(table.name), sc.rows(table.name), "{}", table.name);
    }
}

#[test]
fn volumes_scale_linearly() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let small = run(a.path(), 0.1, 11, OutputFormat::Csv);
    let big = run(b.path(), 0.4, 11, OutputFormat::Csv);
    let ratio = |t: &str| big.rows(t).unwrap() as f64 / small.rows(t).unwrap().max(1) as f64;
    for t in ["sessions", "events", "contacts", "stage_changes"] {
        let r = ratio(t);
        assert!((3.4..=4.6).contains(&r), "{t}: ×{r:.2} for ×4 scale");
    }
    let r = ratio("deals");
    assert!((3.0..=5.0).contains(&r), "deals: ×{r:.2} for ×4 scale");
    // At scale 0.1: ≈ 10 k sessions, 1 k contacts, 100 deals.
    let s = small.sessions as f64;
    assert!((8_500.0..=11_500.0).contains(&s), "sessions {s}");
    let c = small.contacts as f64;
    assert!((850.0..=1_150.0).contains(&c), "contacts {c}");
    let d = small.deals as f64;
    assert!((75.0..=135.0).contains(&d), "deals {d}");
    // Marketing tables grow more slowly than traffic.
    assert!(ratio("seo_keywords") < 2.0);
    assert!(ratio("costs") == 1.0);
}

#[test]
fn bad_options_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for scale in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let opts = GenerateOptions::new(dir.path(), scale, 1, OutputFormat::Csv, end_month());
        let err = generate(&opts, &mut |_| {}).unwrap_err();
        assert!(matches!(err, GenerateError::InvalidOption { option: "scale", .. }), "{err}");
    }
    let opts = GenerateOptions::new(dir.path(), 0.01, 1, OutputFormat::Csv, end_month())
        .with_currency("USDX");
    let err = generate(&opts, &mut |_| {}).unwrap_err();
    assert!(matches!(err, GenerateError::InvalidOption { option: "currency", .. }), "{err}");
    assert!(err.to_string().contains("USDX"), "{err}");
    let opts = GenerateOptions::new(dir.path(), 0.01, 1, OutputFormat::Csv, end_month())
        .with_currency("eur");
    let s = generate(&opts, &mut |_| {}).unwrap();
    assert_eq!((s.currency.as_str(), s.second_currency.as_str()), ("EUR", "GBP"));
    // Nothing is written for refused options.
    let file = dir.path().join("missing").join("x");
    let opts = GenerateOptions::new(&file, 0.0, 1, OutputFormat::Csv, end_month());
    assert!(generate(&opts, &mut |_| {}).is_err());
    assert!(!file.exists());
}

#[test]
fn unwritable_directory_is_an_io_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let opts = GenerateOptions::new(blocker.join("out"), 0.01, 1, OutputFormat::Csv, end_month());
    let err = generate(&opts, &mut |_| {}).unwrap_err();
    assert!(matches!(err, GenerateError::Io { .. }), "{err}");
    assert!(err.to_string().contains("file"), "{err}");
}

#[test]
fn progress_reports_every_day() {
    let dir = tempfile::tempdir().unwrap();
    let opts = GenerateOptions::new(dir.path(), 0.01, 1, OutputFormat::Csv, end_month());
    let mut seen: Vec<Progress> = Vec::new();
    let s = generate(&opts, &mut |p| seen.push(p)).unwrap();
    let days = (s.end - s.start).num_days() as u32 + 1;
    assert_eq!(seen.len() as u32, days);
    assert!(seen.iter().enumerate().all(|(i, p)| p.day == i as u32 + 1 && p.days == days));
    assert!(seen.windows(2).all(|w| w[0].rows <= w[1].rows));
    assert_eq!(seen.last().unwrap().rows, s.total_rows());
    assert_eq!(s.start, NaiveDate::from_ymd_opt(2023, 7, 1).unwrap());
    assert_eq!(s.end, NaiveDate::from_ymd_opt(2025, 6, 30).unwrap());
}

/// Every value follows its column's type and rule; required values are present; keys are unique.
fn check_schema(dir: &Path, table: &Table, start: i64, end: i64) {
    let csv = Csv::read(dir, table.name);
    let names: Vec<&str> = table.column_names().collect();
    assert_eq!(csv.header, names, "{}: header", table.name);
    let key_idx: Vec<usize> = table.key.iter().map(|k| csv.col(k)).collect();
    let mut keys = HashSet::new();
    let time_idx = csv.col(table.time_column);
    let fx_slack = if table.name == "fx_rates" { 7 * 86_400 } else { 0 };
    for (i, row) in csv.rows.iter().enumerate() {
        let at = || format!("{} row {}", table.name, i + 2);
        for (c, col) in table.columns.iter().enumerate() {
            let v = row[c].as_str();
            if v.is_empty() {
                assert!(!col.required, "{}: required {} is empty", at(), col.name);
                continue;
            }
            match col.ty {
                ColumnType::Integer => {
                    v.parse::<i64>().unwrap_or_else(|_| panic!("{}: {} = {v}", at(), col.name));
                }
                ColumnType::Decimal | ColumnType::Money => {
                    let x = num(v);
                    let decimals = v.split_once('.').map_or(0, |(_, f)| f.len());
                    let max = if table.name == "fx_rates" { 6 } else { 2 };
                    assert!(decimals <= max, "{}: {} = {v}", at(), col.name);
                    assert!(x.is_finite());
                }
                ColumnType::Timestamp => {
                    assert!(v.ends_with('Z') && v.len() == 20, "{}: {} = {v}", at(), col.name);
                    ts(v);
                }
                ColumnType::Date => {
                    NaiveDate::parse_from_str(v, "%Y-%m-%d")
                        .unwrap_or_else(|_| panic!("{}: {} = {v}", at(), col.name));
                }
                ColumnType::Month => {
                    assert_eq!(v.len(), 7, "{}: {} = {v}", at(), col.name);
                    NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d").unwrap();
                }
                ColumnType::Boolean => assert!(v == "true" || v == "false", "{}", at()),
                ColumnType::Currency => assert!(v == "USD" || v == "EUR", "{}: {v}", at()),
                ColumnType::Text => {}
            }
            match col.rule {
                Some(Rule::NonNegative) => assert!(num(v) >= 0.0, "{}: {} = {v}", at(), col.name),
                Some(Rule::Positive) => assert!(num(v) > 0.0, "{}: {} = {v}", at(), col.name),
                Some(Rule::OneOf(values)) => assert!(values.contains(&v), "{}: {v}", at()),
                None => {}
            }
        }
        let key: Vec<&str> = key_idx.iter().map(|&k| row[k].as_str()).collect();
        assert!(keys.insert(key.join("\u{1f}")), "{}: duplicate key {key:?}", at());
        // The time column lies in the 24 months.
        let t = &row[time_idx];
        let secs = match table.column(table.time_column).unwrap().ty {
            ColumnType::Timestamp => ts(t),
            ColumnType::Date => NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp(),
            _ => NaiveDate::parse_from_str(&format!("{t}-01"), "%Y-%m-%d")
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp(),
        };
        assert!(
            secs >= start - fx_slack && secs < end,
            "{}: {} = {t} out of range",
            at(),
            table.time_column
        );
    }
}

/// GA4's default channel grouping, reduced to the signals the generator writes.
fn ga4_channel(source: &str, medium: &str, referrer: &str, click_id: &str) -> &'static str {
    // GA4's source categories (an excerpt): exact source names and referrer domains.
    const SEARCH: &[&str] =
        &["google", "bing", "google.com", "bing.com", "duckduckgo.com", "search.yahoo.com"];
    const SOCIAL: &[&str] = &[
        "linkedin",
        "facebook",
        "instagram",
        "linkedin.com",
        "lnkd.in",
        "t.co",
        "facebook.com",
        "l.facebook.com",
        "l.instagram.com",
        "reddit.com",
    ];
    let source = if source.is_empty() {
        referrer
            .trim_start_matches("https://")
            .split('/')
            .next()
            .unwrap_or("")
            .trim_start_matches("www.")
    } else {
        source
    };
    let paid = medium == "cpc" || medium == "ppc" || medium.starts_with("paid");
    let is = |list: &[&str]| list.contains(&source);
    if source.is_empty() && medium.is_empty() {
        "Direct"
    } else if (is(SEARCH) && paid) || click_id == "gclid" || click_id == "msclkid" {
        "Paid Search"
    } else if is(SOCIAL) && paid {
        "Paid Social"
    } else if medium.is_empty() && is(SOCIAL) {
        "Organic Social"
    } else if medium.is_empty() && is(SEARCH) {
        "Organic Search"
    } else if medium == "email" {
        "Email"
    } else if medium == "affiliate" {
        "Affiliates"
    } else if medium.is_empty() {
        "Referral"
    } else {
        "Unassigned"
    }
}

#[test]
fn data_obeys_the_schema_and_the_business_rules() {
    let dir = tempfile::tempdir().unwrap();
    let summary = run(dir.path(), 0.3, 5, OutputFormat::Csv);
    let d = dir.path();
    let start = summary.start.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
    let end = summary.end.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() + 86_400;
    for table in TABLES.iter().filter(|t| summary.rows(t.name).is_some()) {
        check_schema(d, table, start, end);
    }

    // Contacts.
    let contacts = Csv::read(d, "contacts");
    let contacts = contacts.maps();
    let created: HashMap<&str, i64> =
        contacts.iter().map(|c| (c["contact_id"], ts(c["created_at"]))).collect();
    let mut sources = HashMap::new();
    for c in &contacts {
        if !c["first_response_at"].is_empty() {
            assert!(ts(c["first_response_at"]) >= ts(c["created_at"]), "{c:?}");
        }
        *sources.entry(c["original_source"]).or_insert(0usize) += 1;
    }
    for s in [
        "ORGANIC_SEARCH",
        "PAID_SEARCH",
        "PAID_SOCIAL",
        "EMAIL_MARKETING",
        "REFERRALS",
        "DIRECT_TRAFFIC",
        "SOCIAL_MEDIA",
        "OFFLINE",
        "OTHER_CAMPAIGNS",
    ] {
        assert!(sources.get(s).copied().unwrap_or(0) > 0, "no contact from {s}: {sources:?}");
    }
    let answered = contacts.iter().filter(|c| !c["self_reported_source"].is_empty()).count();
    let share = answered as f64 / contacts.len() as f64;
    assert!((0.5..0.7).contains(&share), "self-reported share {share}");
    let accounts: HashSet<&str> = contacts.iter().map(|c| c["account_id"]).collect();
    assert!(accounts.len() < contacts.len() * 95 / 100, "contacts should share accounts");

    // Lifecycle stages: funnel order, from the contact's creation, exits at the next entry.
    let stages = Csv::read(d, "stage_changes");
    let stages = stages.maps();
    let order = ["lead", "mql", "sql", "opportunity", "customer"];
    let deal_order = ["discovery", "proposal", "negotiation", "closed_won", "closed_lost"];
    let mut by_entity: HashMap<(&str, &str), History<'_>> = HashMap::new();
    for s in &stages {
        by_entity.entry((s["entity_type"], s["entity_id"])).or_default().push((
            ts(s["entered_at"]),
            s["stage"],
            s["exited_at"],
        ));
    }
    let mut skipped = 0;
    let mut customer_at: HashMap<&str, i64> = HashMap::new();
    for ((ty, id), list) in &mut by_entity {
        list.sort();
        let ranks: Vec<usize> = list
            .iter()
            .map(|(_, st, _)| {
                let o: &[&str] = if *ty == "contact" { &order } else { &deal_order };
                o.iter().position(|x| x == st).unwrap_or_else(|| panic!("stage {st}"))
            })
            .collect();
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{ty} {id}: stages out of order {list:?}");
        skipped += ranks.windows(2).filter(|w| w[1] > w[0] + 1 && *ty == "contact").count();
        for (k, (entered, _, exited)) in list.iter().enumerate() {
            match list.get(k + 1) {
                Some((next, _, _)) => assert_eq!(ts(exited), *next, "{ty} {id}: exit ≠ next entry"),
                None => assert!(exited.is_empty(), "{ty} {id}: last stage has an exit"),
            }
            assert!(*entered < end);
        }
        if *ty == "contact" {
            assert_eq!(list[0].1, "lead", "{id}: first stage");
            assert_eq!(list[0].0, created[id], "{id}: lead stage at creation");
            if let Some((at, ..)) = list.iter().find(|(_, st, _)| *st == "customer") {
                customer_at.insert(id, *at);
            }
        }
    }
    assert!(skipped > 0, "no contact ever skips a stage");
    assert!(contacts.iter().all(|c| by_entity.contains_key(&("contact", c["contact_id"]))));

    // Deals: existing contacts, closed after creation, won at the contact's customer time.
    let deals = Csv::read(d, "deals");
    let deals = deals.maps();
    let mut won_at: HashSet<(&str, i64)> = HashSet::new();
    let mut statuses = HashMap::new();
    for deal in &deals {
        let c = deal["contact_id"];
        let c_created = *created.get(c).unwrap_or_else(|| panic!("deal contact {c} missing"));
        let made = ts(deal["created_at"]);
        assert!(made >= c_created, "{deal:?}");
        *statuses.entry(deal["status"]).or_insert(0usize) += 1;
        match deal["status"] {
            "open" => assert!(deal["closed_at"].is_empty() && deal["lost_reason"].is_empty()),
            st => {
                let closed = ts(deal["closed_at"]);
                assert!(closed >= made && closed >= c_created, "{deal:?}");
                assert_eq!(st == "lost", !deal["lost_reason"].is_empty(), "{deal:?}");
                if st == "won" {
                    won_at.insert((c, closed));
                }
            }
        }
        assert!(num(deal["amount"]) > 0.0);
        assert!(["SMB", "Mid-Market", "Enterprise"].contains(&deal["segment"]));
        assert!(["NA", "EMEA", "APAC", "LATAM"].contains(&deal["region"]));
        let history = &by_entity[&("deal", deal["deal_id"])];
        assert_eq!(history.last().unwrap().1, deal["stage"], "{deal:?}");
    }
    for st in ["open", "won", "lost"] {
        assert!(statuses.get(st).copied().unwrap_or(0) > 0, "no {st} deal");
    }
    for (c, at) in &customer_at {
        assert!(won_at.contains(&(*c, *at)), "contact {c} became a customer with no deal won then");
    }

    // Sessions: contacts exist and were created by the end of the visit; paid signals.
    let sessions = Csv::read(d, "sessions");
    let sessions = sessions.maps();
    let mut channels: HashMap<&str, usize> = HashMap::new();
    let mut first_by_visitor: HashMap<&str, (i64, &str)> = HashMap::new();
    let mut visitor_contact: HashMap<&str, &str> = HashMap::new();
    for s in &sessions {
        let at = ts(s["started_at"]);
        if !s["contact_id"].is_empty() {
            let c = created.get(s["contact_id"]).unwrap_or_else(|| panic!("{s:?}"));
            assert!(at + num(s["duration_seconds"]) as i64 >= *c, "{s:?}");
            visitor_contact.entry(s["visitor_id"]).or_insert(s["contact_id"]);
        }
        let ch = ga4_channel(s["utm_source"], s["utm_medium"], s["referrer"], s["click_id_type"]);
        *channels.entry(ch).or_default() += 1;
        if ch == "Unassigned" {
            assert!(["event", "partner"].contains(&s["utm_medium"]), "{s:?}");
        }
        let e = first_by_visitor.entry(s["visitor_id"]).or_insert((at, ch));
        if at < e.0 {
            *e = (at, ch);
        }
        if s["bounced"] == "true" {
            assert_eq!(s["pageviews"], "1");
        }
    }
    for ch in [
        "Direct",
        "Paid Search",
        "Paid Social",
        "Organic Social",
        "Organic Search",
        "Email",
        "Affiliates",
        "Referral",
    ] {
        let share = channels.get(ch).copied().unwrap_or(0) as f64 / sessions.len() as f64;
        assert!(share > 0.005, "{ch}: {share} of sessions; {channels:?}");
    }
    // A web contact's original source is the channel of its visitor's first visit.
    let source_of = |ch: &str| match ch {
        "Organic Search" => "ORGANIC_SEARCH",
        "Paid Search" => "PAID_SEARCH",
        "Paid Social" => "PAID_SOCIAL",
        "Email" => "EMAIL_MARKETING",
        "Referral" => "REFERRALS",
        "Direct" => "DIRECT_TRAFFIC",
        "Organic Social" => "SOCIAL_MEDIA",
        _ => "",
    };
    let by_id: HashMap<&str, &HashMap<&str, &str>> =
        contacts.iter().map(|c| (c["contact_id"], c)).collect();
    let mut checked = 0;
    let mut multi_touch = 0;
    for (v, c) in &visitor_contact {
        let contact = by_id[c];
        let (first_at, ch) = first_by_visitor[v];
        if first_at > created[c] {
            continue; // an offline contact visiting later
        }
        let expected = source_of(ch);
        if !expected.is_empty() {
            assert_eq!(contact["original_source"], expected, "contact {c}, visitor {v}");
            checked += 1;
        }
        if first_at < created[c] - 3600 {
            multi_touch += 1;
        }
    }
    assert!(checked > 500 && multi_touch > 100, "{checked} checked, {multi_touch} multi-touch");

    // Events: contacts exist; views ≫ clicks.
    let events = Csv::read(d, "events");
    let mut counts: HashMap<String, usize> = HashMap::new();
    let (ci, ti) = (events.col("contact_id"), events.col("event_type"));
    for e in &events.rows {
        if !e[ci].is_empty() {
            assert!(created.contains_key(e[ci].as_str()), "event contact {}", e[ci]);
        }
        *counts.entry(e[ti].clone()).or_default() += 1;
    }
    for ty in [
        "form_submit",
        "cta_view",
        "cta_click",
        "download",
        "webinar_registration",
        "demo_request",
        "signup",
        "login",
        "video_view",
    ] {
        assert!(counts.get(ty).copied().unwrap_or(0) > 0, "no {ty} event");
    }
    assert!(counts["cta_view"] > 5 * counts["cta_click"]);

    // Ad spend: clicks ≥ the paid sessions they bought (≈ 85–95 %), impressions ≥ clicks.
    let ads = Csv::read(d, "ad_spend");
    let ads = ads.maps();
    let mut paid: HashMap<(String, &str, &str, &str), u64> = HashMap::new();
    for s in &sessions {
        if !s["click_id_type"].is_empty() {
            let day = s["started_at"][..10].to_owned();
            *paid.entry((day, s["utm_campaign"], s["utm_content"], s["region"])).or_default() += 1;
        }
    }
    let (mut clicks_total, mut sessions_total) = (0u64, 0u64);
    let mut currencies = HashSet::new();
    for a in &ads {
        let (imp, clicks) = (num(a["impressions"]), num(a["clicks"]));
        assert!(clicks <= imp, "{a:?}");
        assert!(num(a["conversions"]) <= clicks, "{a:?}");
        if !a["eligible_impressions"].is_empty() {
            assert!(num(a["eligible_impressions"]) >= imp, "{a:?}");
        }
        let n = paid
            .remove(&(a["date"].to_owned(), a["campaign"], a["ad_group"], a["region"]))
            .unwrap_or(0);
        assert!(n as f64 <= clicks, "{a:?}: {n} sessions");
        clicks_total += clicks as u64;
        sessions_total += n;
        currencies.insert((a["platform"], a["currency"]));
    }
    assert!(paid.is_empty(), "paid sessions without an ad_spend row: {:?}", paid.keys().next());
    let ratio = sessions_total as f64 / clicks_total as f64;
    assert!((0.85..=0.96).contains(&ratio), "sessions / clicks = {ratio}");
    assert!(
        currencies.contains(&("meta_ads", "EUR")) && currencies.contains(&("google_ads", "USD"))
    );

    // Revenue: accounts of won deals (or customers from before), months in order.
    let revenue = Csv::read(d, "revenue");
    let revenue = revenue.maps();
    let deal_accounts: HashSet<&str> =
        deals.iter().filter(|x| x["status"] == "won").map(|x| x["account_id"]).collect();
    let mut months_by_account: HashMap<&str, Vec<&str>> = HashMap::new();
    for r in &revenue {
        months_by_account.entry(r["account_id"]).or_default().push(r["month"]);
    }
    let first_month = &summary.start.format("%Y-%m").to_string();
    for (acc, months) in &months_by_account {
        assert!(deal_accounts.contains(acc) || months[0] == first_month, "{acc}: {months:?}");
    }
    assert!(deal_accounts.iter().all(|a| months_by_account.contains_key(a)));

    // Email funnel counts, social counts.
    for e in Csv::read(d, "email_campaigns").maps() {
        let n = |k: &str| num(e[k]);
        assert!(
            n("sent") >= n("delivered")
                && n("delivered") >= n("opened")
                && n("opened") >= n("clicked"),
            "{e:?}"
        );
        assert_eq!(n("sent"), n("delivered") + n("bounced"));
    }
    for p in Csv::read(d, "social_posts").maps() {
        assert!(
            num(p["clicks"]) <= num(p["impressions"]) && num(p["reach"]) <= num(p["impressions"])
        );
    }
    // fx covers every day of the data and a few before.
    let fx = Csv::read(d, "fx_rates");
    let days = (summary.end - summary.start).num_days() as usize + 1;
    assert_eq!(fx.rows.len(), days + 7);
}
