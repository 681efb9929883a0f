//! Projects, configuration errors, the import log and reading earlier versions (`--as-of`).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

#[test]
fn init_refuses_to_overwrite_and_bad_config_names_the_line() {
    let p = project();
    let again = kpiflow().arg("init").arg(p.path()).output().unwrap();
    assert_eq!(again.status.code(), Some(1));

    let config = p.path().join("kpiflow.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("currency = \"USD\"", "currency = \"Dollar\"");
    std::fs::write(&config, text).unwrap();
    let out = run(p.path(), &["tables"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "kpiflow.toml:7:12: `project.currency`: `Dollar` is not an ISO 4217 currency code"
        ),
        "{err}"
    );

    // No project at all: a clear user error, also through KPIFLOW_PROJECT.
    let empty = tempfile::tempdir().unwrap();
    let out = kpiflow().env("KPIFLOW_PROJECT", empty.path()).arg("tables").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `kpiflow init"));
}

#[test]
fn the_import_log_and_as_of() {
    let p = project();
    let v1 = p.path().join("v1.csv");
    std::fs::write(&v1, "contact_id,created_at,segment\nc1,2024-03-01,SMB\nc2,2024-03-02,SMB\n")
        .unwrap();
    let v2 = p.path().join("v2.csv");
    std::fs::write(&v2, "contact_id,created_at,segment\nc1,2024-03-01,SMB\nc2,2024-03-02,Enterprise\nc3,2024-03-03,SMB\n").unwrap();
    let before = chrono::Utc::now();
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert!(run(p.path(), &["import", "contacts", v1.to_str().unwrap()]).status.success());
    let second =
        run_json(p.path(), &["import", "contacts", v2.to_str().unwrap(), "--format", "json"]);
    let t = table_summary(&second, "contacts");
    assert_eq!(
        (t["inserted"].as_u64(), t["updated"].as_u64(), t["unchanged"].as_u64()),
        (Some(1), Some(1), Some(1))
    );

    let log = run_json(p.path(), &["tables", "--log", "--format", "json"]);
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1]["import"], 2);
    assert_eq!(log[1]["version"], 1);
    assert_eq!(log[0]["sha256"].as_str().unwrap().len(), 64);

    let contacts = |args: &[&str]| {
        let v = run_json(p.path(), args);
        v.as_array().unwrap().iter().find(|t| t["table"] == "contacts").unwrap().clone()
    };
    let now = contacts(&["tables", "--format", "json"]);
    assert_eq!((now["rows"].as_u64(), now["version"].as_u64()), (Some(3), Some(1)));
    let first = contacts(&["tables", "--format", "json", "--as-of", "1"]);
    assert_eq!((first["rows"].as_u64(), first["version"].as_u64()), (Some(2), Some(0)));
    let earlier = before.to_rfc3339();
    let none = contacts(&["tables", "--format", "json", "--as-of", &earlier]);
    assert_eq!((none["rows"].as_u64(), none["version"].as_u64()), (Some(0), None));

    let out = run(p.path(), &["tables", "--as-of", "3"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("there is no import number 3: the store has 2 import(s)")
    );
    let out = run(p.path(), &["tables", "--as-of", "last tuesday"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn user_kpis_join_the_catalog_and_are_checked() {
    let p = project();
    let config = p.path().join("kpiflow.toml");
    let base = std::fs::read_to_string(&config).unwrap();
    let entry = "\n[[measures]]\nid = \"demo_requests\"\nsource = \"events\"\nagg = \"count\"\n\
                 filter = \"event_type = 'demo_request'\"\n\n[[kpis]]\nid = \"cost_per_demo\"\n\
                 name = \"Cost per demo request\"\ngroup = \"leads\"\ndescription = \"d\"\n\
                 question = \"q\"\nformula = \"ad_cost / demo_requests\"\nunit = \"currency\"\n\
                 direction = \"lower\"\n";
    std::fs::write(&config, format!("{base}{entry}")).unwrap();
    let kpis = run_json(p.path(), &["kpis", "--format", "json"]);
    let mine = kpis.as_array().unwrap().iter().find(|k| k["id"] == "cost_per_demo").unwrap();
    assert_eq!(mine["source"], "ad_spend, events");

    std::fs::write(
        &config,
        format!("{base}{}", entry.replace("ad_cost / demo_requests", "ad_cots / demo_requests")),
    )
    .unwrap();
    let out = run(p.path(), &["kpis"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("KPI `cost_per_demo`: formula `ad_cots / demo_requests`: unknown measure, KPI or parameter `ad_cots` (did you mean `ad_cost`?)"), "{err}");

    // Without a project, the built-in catalog.
    let nowhere = tempfile::tempdir().unwrap();
    let builtin = run_json(nowhere.path(), &["kpis", "--format", "json"]);
    assert!(builtin.as_array().unwrap().len() > 80);
}
