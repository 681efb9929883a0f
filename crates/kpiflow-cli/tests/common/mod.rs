//! Helpers shared by the CLI's integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

/// Tables the demo company does not write (they hold vendors' aggregate exports and CRM
/// companies): KPIs over them have no value on the demo.
pub const NOT_IN_THE_DEMO: &[&str] = &["accounts", "web_traffic", "search_performance"];

/// Whether a KPI (an entry of `kpiflow kpis --format json`) reads a table the demo does not
/// write.
pub fn reads_no_demo_table(kpi: &Value) -> bool {
    kpi["source"].as_str().unwrap_or_default().split(", ").any(|s| NOT_IN_THE_DEMO.contains(&s))
}

/// The `kpiflow` binary built for these tests.
pub fn kpiflow() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_kpiflow"))
}

/// The public test datasets (`shared/datasets` beside the repository). They must be there: a
/// missing dataset fails the test rather than skipping it.
pub fn datasets() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets");
    assert!(dir.is_dir(), "the test datasets are missing: expected {}", dir.display());
    dir
}

pub fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// A fresh project (reporting currency USD, timezone UTC) in a temporary directory.
pub fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = kpiflow().arg("init").arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "init failed: {}", String::from_utf8_lossy(&out.stderr));
    dir
}

/// The demo company at `scale` in `dir/demo`, generated and imported (`kpiflow demo --no-serve`).
pub fn demo_project(dir: &Path, scale: &str) -> PathBuf {
    let demo = dir.join("demo");
    let out = kpiflow()
        .args(["demo", "--no-serve", "--scale", scale, "--dir", demo.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    demo
}

pub fn run(project: &Path, args: &[&str]) -> Output {
    kpiflow().arg("--project").arg(project).args(args).output().unwrap()
}

/// Runs a command that must succeed and returns its stdout parsed as JSON.
pub fn run_json(project: &Path, args: &[&str]) -> Value {
    let out = run(project, args);
    assert!(
        out.status.success(),
        "kpiflow {args:?} failed ({:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// `tables --format json`: rows of each table by name.
pub fn row_counts(project: &Path) -> std::collections::BTreeMap<String, u64> {
    let v = run_json(project, &["tables", "--format", "json"]);
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| (t["table"].as_str().unwrap().to_owned(), t["rows"].as_u64().unwrap()))
        .collect()
}

/// `tables --check --format json`: rows per warning check id.
pub fn warnings(project: &Path) -> std::collections::BTreeMap<String, u64> {
    let v = run_json(project, &["tables", "--check", "--format", "json"]);
    v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["check"].as_str().unwrap().to_owned(), w["rows"].as_u64().unwrap()))
        .collect()
}

/// The summary of one table in an import's JSON output.
pub fn table_summary<'a>(outcome: &'a Value, table: &str) -> &'a Value {
    outcome["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == table)
        .unwrap_or_else(|| panic!("no {table} in {outcome}"))
}
