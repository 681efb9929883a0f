//! End-to-end imports through the library: every format, money conversion with fx rates, wide
//! stage columns, and `--on-error skip` with its rejects file.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use common::env;
use kpiflow_store::import::OnError;

#[tokio::test]
async fn money_converts_with_the_latest_rate_up_to_the_age_limit() {
    let e = env("Europe/Berlin");
    let rates = e.file("fx.csv", "date,currency,rate\n2024-03-01,EUR,1.10\n2024-03-04,EUR,1.20\n");
    e.import("fx_rates", vec![rates], None, OnError::Fail).await.unwrap();
    // Saturday 2024-03-02 uses Friday's rate; 2024-03-04 its own; USD stays as it is; a deal with
    // no currency column value takes the mapping's default (EUR).
    let deals = e.file(
        "deals.csv",
        "deal_id,created_at,status,amount,currency\n\
         d1,2024-03-02T10:00:00Z,won,100,EUR\n\
         d2,2024-03-04T10:00:00Z,won,100,EUR\n\
         d3,2024-03-04T10:00:00Z,won,100,USD\n\
         d4,2024-03-04T10:00:00Z,open,100,\n",
    );
    e.import("deals", vec![deals], Some("currency = \"EUR\""), OnError::Fail).await.unwrap();
    let out = e
        .query("SELECT deal_id, currency, amount, amount_reporting FROM deals ORDER BY deal_id")
        .await;
    insta::assert_snapshot!(out, @r"
    +---------+----------+--------+--------------------+
    | deal_id | currency | amount | amount_reporting   |
    +---------+----------+--------+--------------------+
    | d1      | EUR      | 100.0  | 110.00000000000001 |
    | d2      | EUR      | 100.0  | 120.0              |
    | d3      | USD      | 100.0  | 100.0              |
    | d4      | EUR      | 100.0  | 120.0              |
    +---------+----------+--------+--------------------+
    ");

    // A rate more than fx_max_age_days (7) old is refused, naming the nearest earlier rate.
    let late = e.file(
        "late.csv",
        "deal_id,created_at,status,amount,currency\nd5,2024-03-20T10:00:00Z,won,5,EUR\n",
    );
    let err = e.import("deals", vec![late], None, OnError::Fail).await.unwrap_err().to_string();
    assert!(
        err.contains(
            "no fx rate for EUR on 2024-03-20; the latest earlier rate is from 2024-03-04"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn json_lines_and_parquet_read_like_csv() {
    let e = env("Europe/Berlin");
    let jsonl = e.file(
        "s.jsonl",
        "{\"session_id\": \"a\", \"started_at\": \"2024-03-01 10:00:00\", \"visitor_id\": \"v\", \"pageviews\": 3, \"bounced\": false}\n\
         {\"session_id\": \"b\", \"started_at\": \"2024-03-01T10:00:00+02:00\", \"visitor_id\": \"w\", \"pageviews\": null}\n",
    );
    let out = e.import("sessions", vec![jsonl], None, OnError::Fail).await.unwrap();
    assert_eq!(out.tables[0].counts.inserted, 2);

    let parquet = e.root.join("s.parquet");
    let schema = Arc::new(Schema::new(vec![
        Field::new("session_id", DataType::Utf8, false),
        Field::new("started_at", DataType::Utf8, false),
        Field::new("visitor_id", DataType::Utf8, false),
        Field::new("pageviews", DataType::Int64, true),
        Field::new("duration_seconds", DataType::Float64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec!["c", "b"])),
            Arc::new(StringArray::from(vec!["2024-03-02T08:00:00Z", "2024-03-01T08:00:00Z"])),
            Arc::new(StringArray::from(vec!["x", "w"])),
            Arc::new(Int64Array::from(vec![Some(5), Some(2)])),
            Arc::new(Float64Array::from(vec![Some(12.5), None])),
        ],
    )
    .unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&parquet).unwrap(),
        schema,
        None,
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    // `b` changes (pageviews 2), `c` is new.
    let out = e.import("sessions", vec![parquet], None, OnError::Fail).await.unwrap();
    assert_eq!((out.tables[0].counts.inserted, out.tables[0].counts.updated), (1, 1));

    // Naive times are read in the project's timezone (Europe/Berlin, UTC+1 in March).
    let out = e
        .query(
            "SELECT session_id, started_at, pageviews, bounced FROM sessions ORDER BY session_id",
        )
        .await;
    insta::assert_snapshot!(out, @r"
    +------------+----------------------+-----------+---------+
    | session_id | started_at           | pageviews | bounced |
    +------------+----------------------+-----------+---------+
    | a          | 2024-03-01T09:00:00Z | 3         | false   |
    | b          | 2024-03-01T08:00:00Z | 2         |         |
    | c          | 2024-03-02T08:00:00Z | 5         |         |
    +------------+----------------------+-----------+---------+
    ");
}

const HUBSPOT: &str = r#"
table = "contacts"
timestamp_format = "%m/%d/%Y %H:%M"
[columns]
contact_id = "Record ID"
created_at = "Create Date"
original_source = "Original Source"
[values.original_source]
"Organic Search" = "ORGANIC_SEARCH"
[stages]
entity_type = "contact"
mql = "Became a Marketing Qualified Lead Date"
sql = "Became a Sales Qualified Lead Date"
"#;

#[tokio::test]
async fn wide_exports_become_stage_changes_and_skip_writes_rejects() {
    let e = env("Europe/Berlin");
    let file = e.file(
        "hubspot.csv",
        "Record ID,Create Date,Original Source,Became a Marketing Qualified Lead Date,Became a Sales Qualified Lead Date\n\
         1,03/01/2024 09:00,Organic Search,03/02/2024 10:00,\n\
         2,03/01/2024 10:00,Direct Traffic,03/03/2024 10:00,03/05/2024 12:00\n\
         3,yesterday,Direct Traffic,,\n\
         4,03/04/2024 11:00,Referrals,03/04/2024 12:00,not a date\n",
    );
    let out = e.import("contacts", vec![file], Some(HUBSPOT), OnError::Skip).await.unwrap();
    assert_eq!(out.rows_read, 4);
    assert_eq!(out.rejected, 2);
    let contacts = out.tables.iter().find(|t| t.table == "contacts").unwrap();
    let stages = out.tables.iter().find(|t| t.table == "stage_changes").unwrap();
    assert_eq!(contacts.counts.inserted, 2);
    assert_eq!(stages.counts.inserted, 3);

    let rejects =
        std::fs::read_to_string(out.rejects_file.as_deref().unwrap_or(Path::new(""))).unwrap();
    insta::assert_snapshot!(rejects.replace(&e.root.display().to_string(), "<dir>"), @r#"
    _file,_line,_reason,Record ID,Create Date,Original Source,Became a Marketing Qualified Lead Date,Became a Sales Qualified Lead Date
    <dir>/hubspot.csv,4,"created_at: `yesterday`: expected a date-time (ISO 8601 such as 2024-03-01T09:30:00Z, or the mapping's format)",3,yesterday,Direct Traffic,,
    <dir>/hubspot.csv,5,"stage sql: `not a date`: expected a date-time (ISO 8601 such as 2024-03-01T09:30:00Z, or the mapping's format)",4,03/04/2024 11:00,Referrals,03/04/2024 12:00,not a date
    "#);

    let out = e
        .query(
            "SELECT entity_id, stage, entered_at FROM stage_changes ORDER BY entity_id, entered_at",
        )
        .await;
    insta::assert_snapshot!(out, @r"
    +-----------+-------+----------------------+
    | entity_id | stage | entered_at           |
    +-----------+-------+----------------------+
    | 1         | mql   | 2024-03-02T09:00:00Z |
    | 2         | mql   | 2024-03-03T09:00:00Z |
    | 2         | sql   | 2024-03-05T11:00:00Z |
    +-----------+-------+----------------------+
    ");
    let out = e.query("SELECT contact_id, original_source FROM contacts ORDER BY contact_id").await;
    assert!(out.contains("| 1          | ORGANIC_SEARCH  |"), "{out}");
}

#[tokio::test]
async fn a_duplicate_row_rejected_in_skip_mode_takes_its_stage_entries_with_it() {
    let e = env("UTC");
    let file = e.file(
        "dup.csv",
        "Record ID,Create Date,Original Source,Became a Marketing Qualified Lead Date,Became a Sales Qualified Lead Date\n\
         1,03/01/2024 09:00,Direct Traffic,03/02/2024 10:00,\n\
         1,03/01/2024 09:00,Direct Traffic,03/09/2024 10:00,03/10/2024 10:00\n",
    );
    let out = e.import("contacts", vec![file], Some(HUBSPOT), OnError::Skip).await.unwrap();
    assert_eq!(out.rejected, 1);
    assert!(out.errors[0].message.contains("duplicate key (contact_id=`1`)"), "{:?}", out.errors);
    let stages = out.tables.iter().find(|t| t.table == "stage_changes").unwrap();
    assert_eq!(stages.counts.inserted, 1, "only the kept row's mql entry");
    let q = e.query("SELECT stage, entered_at FROM stage_changes").await;
    assert!(q.contains("2024-03-02T10:00:00Z") && !q.contains("2024-03-09"), "{q}");
}

#[tokio::test]
async fn a_local_time_skipped_by_daylight_saving_is_named() {
    let e = env("Europe/Berlin");
    let file = e.file("dst.csv", "session_id,started_at,visitor_id\ns1,2024-03-31 02:30:00,v\n");
    let err = e.import("sessions", vec![file], None, OnError::Fail).await.unwrap_err().to_string();
    assert!(
        err.contains("dst.csv:2: column `started_at`: `2024-03-31 02:30:00`: this local time does not exist in Europe/Berlin"),
        "{err}"
    );
}

#[tokio::test]
async fn export_writes_the_snapshot_with_its_types() {
    use datafusion::prelude::{ParquetReadOptions, SessionContext};
    use kpiflow_store::export::{ExportFormat, export};

    let e = env("UTC");
    let spend = e.file(
        "ad_spend.csv",
        "date,platform,campaign,impressions,clicks,cost,currency\n\
         2025-01-01,google_ads,Brand,100,10,5.5,USD\n\
         2025-01-02,google_ads,Brand,200,20,7.25,USD\n",
    );
    e.import("ad_spend", vec![spend], None, OnError::Fail).await.unwrap();

    let out = e.root.join("export");
    let written = export(&e.store, &out, &[], ExportFormat::Parquet, None).await.unwrap();
    assert_eq!(written.len(), 1);
    assert_eq!((written[0].table, written[0].rows), ("ad_spend", 2));
    assert_eq!(written[0].path, out.join("ad_spend.parquet"));

    let ctx = SessionContext::new();
    let path = written[0].path.to_string_lossy().into_owned();
    let df = ctx.read_parquet(path, ParquetReadOptions::default()).await.unwrap();
    let date = df.schema().field_with_unqualified_name("date").unwrap().data_type().clone();
    assert_eq!(date, DataType::Date32);
    let batches = df.collect().await.unwrap();
    let text = arrow::util::pretty::pretty_format_batches(&batches).unwrap().to_string();
    assert!(text.contains("2025-01-02") && text.contains("7.25"), "{text}");

    // The same rows as CSV; a second export replaces the file rather than appending.
    for _ in 0..2 {
        export(&e.store, &out, &["ad_spend"], ExportFormat::Csv, None).await.unwrap();
    }
    let csv = std::fs::read_to_string(out.join("ad_spend.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");

    // Only the tables asked for; a table never imported is not written at all.
    let written = export(&e.store, &out, &["sessions"], ExportFormat::Parquet, None).await.unwrap();
    assert!(written.is_empty());
    assert!(!out.join("sessions.parquet").exists());
}

/// A table's first import streams its rows to Parquet while it reads ([`Store::first_write`]):
/// a bad row after the first batches were encoded still leaves no table and no data file, and
/// the import that succeeds creates the table (version 0) with every row and its provenance.
#[tokio::test]
async fn a_first_import_streams_and_a_failed_one_leaves_nothing() {
    use futures::TryStreamExt;

    let e = env("UTC");
    let rows = 3 * kpiflow_store::import::format::BATCH_ROWS;
    let mut good = String::from("session_id,started_at,visitor_id\n");
    for i in 0..rows {
        good.push_str(&format!("s{i},2024-01-01T00:00:00Z,v{i}\n"));
    }
    let bad = format!("{good}s-bad,yesterday,v0\n");
    let bad = e.file("bad.csv", &bad);
    let err = e.import("sessions", vec![bad], None, OnError::Fail).await.unwrap_err().to_string();
    assert!(err.contains("yesterday"), "{err}");
    assert!(!e.store.exists("sessions"));
    let dir = e.store.table_dir("sessions");
    let data_files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|f| f.file_name()).collect())
        .unwrap_or_default();
    assert!(
        data_files.iter().all(|f| !f.to_string_lossy().ends_with(".parquet")),
        "{data_files:?}"
    );

    let good = e.file("good.csv", &good);
    let outcome = e.import("sessions", vec![good.clone()], None, OnError::Fail).await.unwrap();
    let counts = outcome.tables[0].counts;
    assert_eq!((counts.inserted, counts.version, counts.committed), (rows as u64, Some(0), true));
    assert_eq!(
        e.query("SELECT count(*) AS n, count(DISTINCT session_id) AS ids FROM sessions").await,
        format!(
            "+--------+--------+\n| n      | ids    |\n+--------+--------+\n| {rows} | {rows} |\n\
             +--------+--------+"
        )
    );
    let table = e.store.latest("sessions").await.unwrap().unwrap();
    let history: Vec<_> = table.history(None).try_collect().await.unwrap();
    assert_eq!(history.len(), 1);
    let provenance = &history[0].info["kpiflow.import"];
    assert_eq!(provenance["rows_read"], rows as u64, "{provenance}");

    // The same file again goes through the upsert: nothing new, no commit.
    let again = e.import("sessions", vec![good], None, OnError::Fail).await.unwrap();
    let counts = again.tables[0].counts;
    assert_eq!((counts.unchanged, counts.version, counts.committed), (rows as u64, Some(0), false));
}
