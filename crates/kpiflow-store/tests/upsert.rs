//! Property tests of the store's upsert: importing the same rows again, or in any split into
//! several files or imports, gives the same table; an update changes exactly the changed rows.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::Env;
use kpiflow_store::import::OnError;
use proptest::prelude::*;

fn env() -> Env {
    common::env("UTC")
}

#[derive(Debug, Clone)]
struct Contact {
    id: u32,
    day: u32,
    segment: &'static str,
    score: Option<u32>,
}

fn contacts() -> impl Strategy<Value = Vec<Contact>> {
    prop::collection::btree_map(
        0u32..10_000,
        (1u32..28, 0usize..3, prop::option::of(0u32..100)),
        1..60,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(id, (day, s, score))| Contact {
                id,
                day,
                segment: ["SMB", "Mid-Market", "Enterprise"][s],
                score,
            })
            .collect()
    })
}

fn write_csv(path: &Path, rows: &[Contact]) {
    let mut text = String::from("contact_id,created_at,segment,lead_score\n");
    for c in rows {
        let score = c.score.map(|s| s.to_string()).unwrap_or_default();
        text.push_str(&format!("c{},2024-03-{:02}T09:00:00Z,{},{score}\n", c.id, c.day, c.segment));
    }
    std::fs::write(path, text).unwrap();
}

async fn import_files(env: &Env, files: Vec<PathBuf>) -> kpiflow_store::ImportOutcome {
    env.import("contacts", files, None, OnError::Fail).await.unwrap()
}

/// The table's rows, sorted, as a text table.
async fn content(env: &Env) -> String {
    env.query("SELECT * FROM contacts ORDER BY contact_id").await
}

fn split(rows: &[Contact], cuts: &[usize]) -> Vec<Vec<Contact>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (rows.len() + 1)).collect();
    points.push(0);
    points.push(rows.len());
    points.sort_unstable();
    points.dedup();
    points.windows(2).map(|w| rows[w[0]..w[1]].to_vec()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn any_split_and_any_repeat_give_the_same_table(
        rows in contacts(),
        cuts in prop::collection::vec(0usize..100, 0..4),
    ) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            // Reference: one file, one import.
            let one = env();
            let all = one.root.join("all.csv");
            write_csv(&all, &rows);
            let first = import_files(&one, vec![all.clone()]).await;
            assert_eq!(first.tables[0].counts.inserted, rows.len() as u64);
            let reference = content(&one).await;

            // The same file again: nothing changes, no commit.
            let again = import_files(&one, vec![all]).await;
            assert_eq!(again.tables[0].counts.unchanged, rows.len() as u64);
            assert!(!again.tables[0].counts.committed);
            assert_eq!(again.tables[0].counts.version, first.tables[0].counts.version);
            assert_eq!(content(&one).await, reference);

            // The rows split into several files of one import.
            let parts = split(&rows, &cuts);
            let many = env();
            let files: Vec<PathBuf> = parts
                .iter()
                .enumerate()
                .map(|(i, part)| {
                    let f = many.root.join(format!("part{i}.csv"));
                    write_csv(&f, part);
                    f
                })
                .collect();
            import_files(&many, files.clone()).await;
            assert_eq!(content(&many).await, reference);

            // The same parts as separate imports, in reverse order.
            let seq = env();
            for f in files.iter().rev() {
                import_files(&seq, vec![f.clone()]).await;
            }
            assert_eq!(content(&seq).await, reference);
        });
    }

    #[test]
    fn an_update_changes_only_the_changed_rows(
        rows in contacts(),
        changes in prop::collection::vec(any::<bool>(), 60),
        extra in 0usize..5,
    ) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let e = env();
            let v1 = e.root.join("v1.csv");
            write_csv(&v1, &rows);
            import_files(&e, vec![v1]).await;

            let mut updated = rows.clone();
            let mut changed = 0u64;
            for (c, flip) in updated.iter_mut().zip(&changes) {
                if *flip {
                    c.score = Some(c.score.map_or(1, |s| s + 1));
                    changed += 1;
                }
            }
            for i in 0..extra {
                updated.push(Contact { id: 20_000 + i as u32, day: 1, segment: "SMB", score: None });
            }
            let v2 = e.root.join("v2.csv");
            write_csv(&v2, &updated);
            let outcome = import_files(&e, vec![v2.clone()]).await;
            let counts = outcome.tables[0].counts;
            assert_eq!(counts.updated, changed);
            assert_eq!(counts.inserted, extra as u64);
            assert_eq!(counts.unchanged, rows.len() as u64 - changed);

            // The table now equals a fresh import of the new export.
            let fresh = env();
            import_files(&fresh, vec![v2]).await;
            assert_eq!(content(&e).await, content(&fresh).await);
        });
    }
}

/// The rows of `sql` over the store as of `as_of`, read through `scan`.
async fn query_with(
    env: &Env,
    scan: kpiflow_store::Scan,
    as_of: Option<kpiflow_store::AsOf>,
    sql: &str,
) -> String {
    let ctx = datafusion::prelude::SessionContext::new();
    env.store.register_all_with(&ctx, as_of, scan).await.unwrap();
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    arrow::util::pretty::pretty_format_batches(&batches).unwrap().to_string()
}

/// The Parquet listing a cluster reads (`Scan::Files`) is the Delta table at every version: the
/// files of that version only, not those an update replaced or a later import added; in a
/// directory whose path has a space and a non-ASCII letter (file URLs are encoded).
#[test]
fn the_file_listing_of_a_version_is_that_version() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let env = common::env_in("UTC", "kpi flow é ");
        let first: Vec<Contact> = (0..40)
            .map(|id| Contact { id, day: 1 + id % 27, segment: "SMB", score: Some(id) })
            .collect();
        let path = env.root.join("a.csv");
        write_csv(&path, &first);
        import_files(&env, vec![path.clone()]).await;
        // Import 2 changes a third of the rows (a MERGE rewrites files) and adds ten.
        let mut second = first.clone();
        for c in second.iter_mut().filter(|c| c.id % 3 == 0) {
            c.segment = "Enterprise";
            c.score = None;
        }
        second.extend((100..110).map(|id| Contact {
            id,
            day: 5,
            segment: "Mid-Market",
            score: None,
        }));
        write_csv(&path, &second);
        import_files(&env, vec![path]).await;

        let sql = "SELECT contact_id, segment, lead_score FROM contacts ORDER BY contact_id";
        for as_of in
            [Some(kpiflow_store::AsOf::Import(1)), Some(kpiflow_store::AsOf::Import(2)), None]
        {
            let delta = query_with(&env, kpiflow_store::Scan::Delta, as_of, sql).await;
            let files = query_with(&env, kpiflow_store::Scan::Files, as_of, sql).await;
            assert_eq!(files, delta, "as of {as_of:?}");
        }
        let count = "SELECT count(*) AS n FROM contacts";
        let at = |n| {
            query_with(
                &env,
                kpiflow_store::Scan::Files,
                Some(kpiflow_store::AsOf::Import(n)),
                count,
            )
        };
        assert!(at(1).await.contains("| 40 |"), "{}", at(1).await);
        assert!(at(2).await.contains("| 50 |"), "{}", at(2).await);
    });
}
