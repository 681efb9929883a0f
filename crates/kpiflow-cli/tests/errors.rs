//! Golden tests of what `kpiflow import` says about bad files: the message must name the file,
//! line, column, raw value and what was expected, and nothing may be written.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

/// Imports `bad/<file>` into `table` and returns exit code and stderr, with the project path
/// replaced so the snapshot is stable.
fn import_bad(table: &str, file: &str) -> String {
    let p = project();
    let out = kpiflow()
        .current_dir(tests_dir())
        .arg("--project")
        .arg(p.path())
        .args(["import", table, &format!("bad/{file}")])
        .output()
        .unwrap();
    let stderr =
        String::from_utf8_lossy(&out.stderr).replace(&p.path().display().to_string(), "<project>");
    let counts = row_counts(p.path());
    assert_eq!(counts[table], 0, "a failed import wrote rows into {table}");
    format!("exit code: {:?}\n{stderr}", out.status.code())
}

#[test]
fn wrong_type() {
    insta::assert_snapshot!(import_bad("ad_spend", "wrong_type.csv"));
}

#[test]
fn missing_required_column() {
    insta::assert_snapshot!(import_bad("deals", "missing_required.csv"));
}

#[test]
fn unknown_column_without_mapping() {
    insta::assert_snapshot!(import_bad("contacts", "unknown_column.csv"));
}

#[test]
fn bad_date() {
    insta::assert_snapshot!(import_bad("contacts", "bad_date.csv"));
}

#[test]
fn negative_cost() {
    insta::assert_snapshot!(import_bad("ad_spend", "negative_cost.csv"));
}

#[test]
fn duplicate_key_inside_one_file() {
    insta::assert_snapshot!(import_bad("sessions", "duplicate_key.csv"));
}

#[test]
fn unknown_currency() {
    insta::assert_snapshot!(import_bad("deals", "unknown_currency.csv"));
}

#[test]
fn amount_without_fx_rate() {
    insta::assert_snapshot!(import_bad("deals", "missing_fx_rate.csv"));
}

#[test]
fn value_outside_the_allowed_set() {
    // `Won` is accepted case-insensitively as `won`; `closed` is not a status.
    insta::assert_snapshot!(import_bad("deals", "bad_status.csv"));
}

#[test]
fn ragged_row() {
    insta::assert_snapshot!(import_bad("sessions", "ragged_row.csv"));
}

#[test]
fn unknown_table_and_bad_mapping() {
    let p = project();
    let out = run(p.path(), &["import", "deal", "x.csv"]);
    assert_eq!(out.status.code(), Some(1));
    let unknown_table = String::from_utf8_lossy(&out.stderr).into_owned();
    let mapping = p.path().join("m.toml");
    std::fs::write(&mapping, "[columns]\ncreatd_at = \"Create Date\"\n").unwrap();
    let file = tests_dir().join("bad/bad_date.csv");
    let out = run(
        p.path(),
        &["import", "contacts", file.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let bad_mapping =
        String::from_utf8_lossy(&out.stderr).replace(&p.path().display().to_string(), "<project>");
    insta::assert_snapshot!(format!("{unknown_table}{bad_mapping}"));
}
