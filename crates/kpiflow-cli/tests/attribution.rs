//! `kpiflow attribution` end to end: journeys built from a small store whose every journey is
//! written out below (visitor stitching, the lookback window, offline events, milestones, a
//! conversion without touches, a deal without a contact, non-converting visitors), aggregated
//! paths from a file, and the errors.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::Value;

/// A project over `tests/fixtures/journeys` (UTC), with webinar registrations as offline touches.
///
/// The journeys, from the fixture's rows:
/// - c1 (lead 2025-03-10 09:30): s1 Paid Search (03-01), s2 Organic Search (03-05), s3 Email
///   (03-10 09:00, the session that names c1, so visitor v1's earlier sessions are c1's);
///   later e2 Webinars (03-25, offline event), s7 Direct (04-02); MQL 04-03, opportunity 04-10,
///   deal d1 won 05-01 for 1,000.
/// - c2 (lead 03-20 10:05): visitor v2 named by the form submit e1; s4 (2024-10-01) is outside the
///   90-day window, s5 Direct (03-19) is inside.
/// - c3 (lead 03-22): no session; original source OFFLINE → channel Offline.
/// - visitor v3: s6 Paid Search (03-15), never a contact: a journey that did not convert.
/// - d2: won 05-02 for 500 without a contact: left out, with a note.
fn journeys_project() -> tempfile::TempDir {
    let p = project();
    let config = p.path().join("kpiflow.toml");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "# [attribution.offline_events]\n# webinar_registration = \"Webinars\"",
        "[attribution.offline_events]\nwebinar_registration = \"Webinars\"",
    );
    assert!(
        text.contains("\n[attribution.offline_events]\nwebinar_registration"),
        "template changed"
    );
    std::fs::write(&config, text).unwrap();
    let fixtures = tests_dir().join("fixtures/journeys");
    for table in ["ad_spend", "sessions", "events", "contacts", "stage_changes", "deals"] {
        let file = fixtures.join(format!("{table}.csv"));
        let out = run(p.path(), &["import", table, file.to_str().unwrap()]);
        assert!(out.status.success(), "{table}: {}", String::from_utf8_lossy(&out.stderr));
    }
    p
}

const PERIOD: [&str; 4] = ["--from", "2025-03-01", "--to", "2025-05-31"];

/// (model, channel) → (conversions, value) from the JSON output.
fn credit(doc: &Value) -> BTreeMap<(String, String), (f64, Option<f64>)> {
    doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                (
                    r["model"].as_str().unwrap().to_owned(),
                    r["channel"].as_str().unwrap().to_owned(),
                ),
                (r["conversions"].as_f64().unwrap(), r["value"].as_f64()),
            )
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn lead_journeys_are_built_and_credited_as_computed_by_hand() {
    let p = journeys_project();
    let mut args = vec![
        "attribution",
        "--model",
        "first,last,last_non_direct,linear,markov",
        "--format",
        "json",
    ];
    args.extend(PERIOD);
    let doc = run_json(p.path(), &args);
    let j = &doc["journeys"];
    assert_eq!(j["converting_journeys"], 3);
    // Visitor v3 is the only journey that did not convert (every contact is a lead).
    assert_eq!(j["non_converting_journeys"], 1);
    assert_eq!(j["conversions_without_touch"], 1);
    // c1: 3 touches, c2: 1, c3: 1 (its original source), v3: 1.
    assert_eq!(j["touches"], 6);
    let c = credit(&doc);
    let get = |m: &str, ch: &str| c.get(&(m.to_owned(), ch.to_owned())).map_or(0.0, |x| x.0);
    assert_eq!(get("first", "Paid Search"), 1.0);
    assert_eq!(get("first", "Direct"), 1.0);
    assert_eq!(get("first", "Offline"), 1.0);
    assert_eq!(get("last", "Email"), 1.0);
    assert_eq!(get("last", "Paid Search"), 0.0);
    // c2's journey is all direct: last non-direct keeps it on Direct.
    assert_eq!(get("last_non_direct", "Direct"), 1.0);
    assert!(close(get("linear", "Organic Search"), 1.0 / 3.0));
    // Order-1 chain: start → Paid Search 2/4, Direct 1/4, Offline 1/4; Paid Search → Organic
    // Search 1/2, → null 1/2; Organic Search → Email → conversion; Direct, Offline → conversion.
    // P = 3/4; removing any one channel leaves 1/2, so every removal effect is 1/3 and the three
    // conversions split evenly over the five channels: 0.6 each.
    for ch in ["Paid Search", "Organic Search", "Email", "Direct", "Offline"] {
        assert!(close(get("markov", ch), 0.6), "{ch}: {}", get("markov", ch));
    }
    // Spend: the Paid Search campaign's 300 in the period; cost per conversion under first touch
    // 300, under linear 300 / (1/3) = 900. Lead targets carry no value: value and ROAS are empty.
    let row = |m: &str, ch: &str| {
        doc["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["model"] == m && r["channel"] == ch)
            .unwrap()
            .clone()
    };
    assert_eq!(row("first", "Paid Search")["spend"], 300.0);
    assert_eq!(row("first", "Paid Search")["cost_per_conversion"], 300.0);
    assert!(close(row("linear", "Paid Search")["cost_per_conversion"].as_f64().unwrap(), 900.0));
    assert!(row("first", "Paid Search")["value"].is_null());
    assert!(row("first", "Paid Search")["roas"].is_null());
    assert_eq!(doc["target"], "lead");
    assert_eq!(doc["lookback_days"], 90);
}

#[test]
fn mql_and_revenue_journeys_use_offline_touches_and_milestones() {
    let p = journeys_project();
    // MQL (c1, 04-03): Paid Search, Organic Search, Email, Webinars, Direct; the lead was created
    // at Email (index 2). W-shaped: 30 % first, 30 % lead creation, 30 % last, 10 % over the two
    // others.
    let mut args =
        vec!["attribution", "--conversion", "mql", "--model", "w_shaped", "--format", "json"];
    args.extend(PERIOD);
    let doc = run_json(p.path(), &args);
    let c = credit(&doc);
    let get = |ch: &str| c.get(&("w_shaped".to_owned(), ch.to_owned())).map_or(0.0, |x| x.0);
    for (ch, want) in [
        ("Paid Search", 0.3),
        ("Email", 0.3),
        ("Direct", 0.3),
        ("Organic Search", 0.05),
        ("Webinars", 0.05),
    ] {
        assert!(close(get(ch), want), "{ch}: {}", get(ch));
    }
    // Did not reach MQL: c2 (Direct) and visitor v3 (Paid Search).
    assert_eq!(doc["journeys"]["non_converting_journeys"], 2);

    // Revenue (d1, 1,000, won 05-01): the same five touches; the opportunity (04-10) was created
    // after the last touch (Direct), which also closes: full path gives Direct 22.5 % twice.
    let mut args =
        vec!["attribution", "--conversion", "revenue", "--model", "full_path", "--format", "json"];
    args.extend(PERIOD);
    let out = run(p.path(), &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = credit(&doc);
    let get =
        |ch: &str| c.get(&("full_path".to_owned(), ch.to_owned())).copied().unwrap_or((0.0, None));
    for (ch, share) in [
        ("Paid Search", 0.225),
        ("Email", 0.225),
        ("Direct", 0.45),
        ("Organic Search", 0.05),
        ("Webinars", 0.05),
    ] {
        let (conversions, value) = get(ch);
        assert!(close(conversions, share), "{ch}: {conversions}");
        assert!(close(value.unwrap(), 1000.0 * share), "{ch}: {value:?}");
    }
    assert_eq!(doc["journeys"]["value"], 1000.0);
    let notes: Vec<&str> =
        doc["notes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    assert!(
        notes.iter().any(|n| n.contains("1 won deals (amount 500.00) have no contact_id")),
        "{notes:?}"
    );
    // ROAS of Paid Search under full path: 225 / 300.
    let ps =
        doc["rows"].as_array().unwrap().iter().find(|r| r["channel"] == "Paid Search").unwrap();
    assert!(close(ps["roas"].as_f64().unwrap(), 0.75));
    assert!(close(ps["roi"].as_f64().unwrap(), -0.25));
}

#[test]
fn csv_has_one_row_per_model_and_channel_in_the_documented_columns() {
    let p = journeys_project();
    let mut args = vec!["attribution", "--model", "all", "--format", "csv"];
    args.extend(PERIOD);
    let out = run(p.path(), &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    insta::assert_snapshot!("journeys_all_models_csv", String::from_utf8(out.stdout).unwrap());
}

#[test]
fn paths_files_give_the_readme_figures_through_the_cli() {
    let data = datasets().join("channelattribution/Data.csv");
    let out = kpiflow()
        .args([
            "attribution",
            "--paths",
            data.to_str().unwrap(),
            "--model",
            "first,last,markov:2",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("model,channel,conversions,value,share,spend,cost_per_conversion,roas,roi")
    );
    // README fact 4: first touch alpha 6,308 of 19,785.
    let alpha = lines.clone().find(|l| l.starts_with("first,alpha,")).unwrap();
    assert!(alpha.starts_with("first,alpha,6308,"), "{alpha}");
    // 12 channels × 3 models; spend and cost columns empty.
    assert_eq!(lines.clone().count(), 36);
    assert!(lines.all(|l| l.ends_with(",,,,")));
}

#[test]
fn errors_are_user_errors_that_say_what_is_wrong() {
    let p = journeys_project();
    let fail = |args: &[&str]| {
        let out = run(p.path(), args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).unwrap()
    };
    insta::assert_snapshot!("errors_model", fail(&["attribution", "--model", "markow"]));
    insta::assert_snapshot!("errors_order", fail(&["attribution", "--model", "markov:7"]));
    insta::assert_snapshot!("errors_target", fail(&["attribution", "--conversion", "mqls"]));
    // Time decay needs touch times, which aggregated paths do not have.
    let dir = tempfile::tempdir().unwrap();
    let paths = dir.path().join("paths.csv");
    std::fs::write(&paths, "path;total_conversions;total_null\na > b;1;2\n").unwrap();
    insta::assert_snapshot!(
        "errors_time_decay_on_paths",
        fail(&["attribution", "--paths", paths.to_str().unwrap(), "--model", "time_decay"])
            .replace(paths.to_str().unwrap(), "paths.csv")
    );
    std::fs::write(&paths, "path;total_conversions\na > ;1\n").unwrap();
    insta::assert_snapshot!(
        "errors_bad_path",
        fail(&["attribution", "--paths", paths.to_str().unwrap()])
            .replace(paths.to_str().unwrap(), "paths.csv")
    );
}

/// Short-link clicks are touches: a personal link's click joins its contact's journey on the
/// channel of the link's tags; an anonymous click is a journey of its own.
#[tokio::test]
async fn short_link_clicks_are_touches() {
    let p = journeys_project();
    let out = run(
        p.path(),
        &[
            "links",
            "add",
            "https://example.com/launch",
            "--source",
            "linkedin",
            "--medium",
            "social",
            "--code",
            "launch",
            "--format",
            "csv",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("launch,http://127.0.0.1:8080/l/launch,https://example.com/launch?utm_source=linkedin&utm_medium=social"), "{text}");
    let taken = run(
        p.path(),
        &[
            "links",
            "add",
            "https://example.com/",
            "--source",
            "x",
            "--medium",
            "y",
            "--code",
            "launch",
        ],
    );
    assert_eq!(taken.status.code(), Some(1));

    // Clicks as the server records them, at times inside the fixture's journeys.
    let config = kpiflow_model::ProjectConfig::load(p.path()).unwrap();
    let store = kpiflow_store::Store::open(&config.data_dir).unwrap();
    let at = |t: &str| t.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    for (id, when, contact) in
        [("k1", "2025-03-08T12:00:00Z", Some("c1")), ("k2", "2025-03-16T12:00:00Z", None)]
    {
        let click = kpiflow_store::Click {
            click_id: id.into(),
            code: "launch".into(),
            clicked_at: at(when),
            visitor_id: None,
            contact_id: contact.map(str::to_owned),
            referrer: None,
        };
        store.record_click(&click).await.unwrap();
    }
    let list = run(p.path(), &["links", "list", "--format", "json"]);
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list[0]["clicks"], 2);

    // c1's lead journey: Paid Search, Organic Search, the click (linkedin / social → Organic
    // Social), Email: linear gives each a quarter. The anonymous click did not convert.
    let mut args = vec!["attribution", "--model", "linear", "--format", "json"];
    args.extend(PERIOD);
    let doc = run_json(p.path(), &args);
    let c = credit(&doc);
    let get = |ch: &str| c.get(&("linear".to_owned(), ch.to_owned())).map_or(0.0, |x| x.0);
    assert!(close(get("Organic Social"), 0.25), "{c:?}");
    assert!(close(get("Paid Search"), 0.25), "{c:?}");
    assert_eq!(doc["journeys"]["non_converting_journeys"], 2);
}
