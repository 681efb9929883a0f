//! Crash safety (DESIGN §11): an import killed at any moment leaves the table at its previous
//! version, readable, with none of the killed import's rows; the next import works.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use common::*;

fn write_sessions(path: &Path, prefix: &str, rows: usize) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "session_id,started_at,visitor_id,utm_source,utm_medium,landing_page,pageviews")
        .unwrap();
    for i in 0..rows {
        writeln!(
            w,
            "{prefix}{i},2025-{:02}-{:02}T{:02}:{:02}:00Z,v{},google,cpc,/pricing,{}",
            i % 12 + 1,
            i % 28 + 1,
            i % 24,
            i % 60,
            i % 5000,
            i % 9
        )
        .unwrap();
    }
}

fn sessions_state(project: &Path) -> (u64, Option<u64>) {
    let v = run_json(project, &["tables", "--format", "json"]);
    let t = v.as_array().unwrap().iter().find(|t| t["table"] == "sessions").unwrap();
    (t["rows"].as_u64().unwrap(), t["version"].as_u64())
}

#[test]
fn a_killed_import_leaves_the_previous_version() {
    let p = project();
    let base = p.path().join("base.csv");
    write_sessions(&base, "base-", 1_000);
    let out = run(p.path(), &["import", "sessions", base.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(sessions_state(p.path()), (1_000, Some(0)));

    let big = p.path().join("big.csv");
    write_sessions(&big, "big-", 600_000);

    // How long an uninterrupted import takes, in a separate project.
    let timing = project();
    let started = Instant::now();
    let out = run(timing.path(), &["import", "sessions", big.to_str().unwrap()]);
    assert!(out.status.success());
    let full = started.elapsed();

    // Kill at points spread over the whole import, deterministic for the test.
    let mut killed = 0;
    for k in 1..=6u32 {
        let at = full.mul_f64(f64::from(k) / 7.0);
        let mut child = kpiflow()
            .arg("--project")
            .arg(p.path())
            .args(["import", "sessions", big.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(at);
        let running = child.try_wait().unwrap().is_none();
        if running {
            child.kill().unwrap();
            killed += 1;
        }
        eprintln!(
            "import {k}: {} at {at:?} of {full:?}",
            if running { "killed" } else { "finished" }
        );
        child.wait().unwrap();
        let (rows, version) = sessions_state(p.path());
        if rows == 1_000 {
            assert_eq!(version, Some(0), "killed at {at:?}: rows of the previous version only");
        } else {
            // The import committed before the kill landed: it must be whole.
            assert_eq!((rows, version), (601_000, Some(1)), "killed at {at:?}");
            break;
        }
    }
    assert!(killed >= 3, "only {killed} imports were killed mid-way; the test proves little");

    // The store is not wedged: the import completes afterwards.
    let out = run(p.path(), &["import", "sessions", big.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(sessions_state(p.path()).0, 601_000);
}
