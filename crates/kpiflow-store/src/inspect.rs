//! What is in the store: per-table row counts, date ranges and versions, and the data-quality
//! checks of `kpiflow tables --check` (DESIGN §11): values that are legal one by one but wrong
//! together, reported as warnings rather than silently used.

use arrow::array::{Array, Int64Array, RecordBatch};
use arrow::util::display::array_value_to_string;
use datafusion::prelude::SessionContext;
use kpiflow_model::{ColumnType, TABLES, Table};
use serde::Serialize;

use crate::error::StoreError;
use crate::store::{AsOf, Store};

/// One table's state.
#[derive(Debug, Clone, Serialize)]
pub struct TableInfo {
    pub table: &'static str,
    /// `None` when the table has never been written (or did not exist at `--as-of`).
    pub version: Option<u64>,
    pub rows: u64,
    /// First and last value of the table's time column.
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Row counts, date ranges and versions of every canonical table.
pub async fn table_infos(store: &Store, as_of: Option<AsOf>) -> Result<Vec<TableInfo>, StoreError> {
    let ctx = SessionContext::new();
    let present = store.register_all(&ctx, as_of).await?;
    let mut out = Vec::new();
    for t in TABLES {
        if !present.contains(&t.name) {
            out.push(TableInfo { table: t.name, version: None, rows: 0, from: None, to: None });
            continue;
        }
        let version = store.load(t.name, as_of).await?.and_then(|d| d.version());
        let sql = format!(
            "SELECT count(*) AS n, min({c}) AS lo, max({c}) AS hi FROM {t}",
            c = t.time_column,
            t = t.name
        );
        let batches = query(&ctx, t.name, &sql).await?;
        let (rows, from, to) = match batches.first().filter(|b| b.num_rows() > 0) {
            Some(b) => (int(b, 0), text(b, 1), text(b, 2)),
            None => (0, None, None),
        };
        out.push(TableInfo { table: t.name, version, rows, from, to });
    }
    Ok(out)
}

/// A data-quality warning.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Warning {
    /// Stable id of the check, e.g. `clicks_above_impressions`.
    pub check: String,
    pub table: &'static str,
    /// Rows concerned.
    pub rows: u64,
    pub message: String,
    /// Up to three examples (keys of the rows concerned).
    pub examples: Vec<String>,
}

struct Check {
    id: String,
    table: &'static str,
    /// Other tables the check joins.
    needs: &'static [&'static str],
    /// Selects one text column `example` from the rows concerned.
    sql: String,
    message: String,
}

/// Every check that applies to the tables present, run and reported when it finds rows.
pub async fn quality_warnings(
    store: &Store,
    as_of: Option<AsOf>,
) -> Result<Vec<Warning>, StoreError> {
    let ctx = SessionContext::new();
    let present = store.register_all(&ctx, as_of).await?;
    let mut warnings = Vec::new();
    for check in checks() {
        if !present.contains(&check.table) || !check.needs.iter().all(|n| present.contains(n)) {
            continue;
        }
        let counted = format!("SELECT count(*) AS n FROM ({}) AS q", check.sql);
        let n = query(&ctx, check.table, &counted).await?.first().map_or(0, |b| int(b, 0));
        if n == 0 {
            continue;
        }
        let sample = format!("SELECT example FROM ({}) AS q ORDER BY example LIMIT 3", check.sql);
        let examples = query(&ctx, check.table, &sample)
            .await?
            .iter()
            .flat_map(|b| (0..b.num_rows()).filter_map(|i| text_at(b, 0, i)))
            .collect();
        warnings.push(Warning {
            check: check.id,
            table: check.table,
            rows: n,
            message: check.message,
            examples,
        });
    }
    Ok(warnings)
}

/// The key of a row as one text value, for examples.
fn key_sql(table: &Table, alias: &str) -> String {
    let parts: Vec<String> = table
        .key
        .iter()
        .map(|k| format!("'{k}=' || coalesce(CAST({alias}.{k} AS VARCHAR), '')"))
        .collect();
    parts.join(" || ', ' || ")
}

fn checks() -> Vec<Check> {
    use kpiflow_model::schema::{
        AD_SPEND, DEALS, EMAIL_CAMPAIGNS, EVENTS, SESSIONS, STAGE_CHANGES,
    };
    let mut out = Vec::new();
    let rows_where = |table: &'static Table, id: &str, condition: &str, message: &str| Check {
        id: id.to_owned(),
        table: table.name,
        needs: &[],
        sql: format!(
            "SELECT {} AS example FROM {} t WHERE {condition}",
            key_sql(table, "t"),
            table.name
        ),
        message: message.to_owned(),
    };
    out.push(rows_where(
        &AD_SPEND,
        "clicks_above_impressions",
        "t.clicks > t.impressions",
        "more clicks than impressions",
    ));
    out.push(rows_where(&AD_SPEND, "conversions_above_clicks", "t.conversions > t.clicks",
        "more conversions than clicks (view-through or offline conversions counted as clicks' outcome)"));
    out.push(rows_where(
        &AD_SPEND,
        "impressions_above_eligible",
        "t.impressions > t.eligible_impressions",
        "more impressions than eligible impressions (impression share above 100 %)",
    ));
    out.push(rows_where(
        &EMAIL_CAMPAIGNS,
        "delivered_above_sent",
        "t.delivered > t.sent",
        "more emails delivered than sent",
    ));
    out.push(rows_where(
        &EMAIL_CAMPAIGNS,
        "opened_above_delivered",
        "t.opened > t.delivered",
        "more opens than deliveries",
    ));
    out.push(rows_where(
        &EMAIL_CAMPAIGNS,
        "clicked_above_opened",
        "t.clicked > t.opened",
        "more clicks than opens",
    ));
    out.push(rows_where(
        &DEALS,
        "deal_closed_before_created",
        "t.closed_at < t.created_at",
        "deal closed before it was created",
    ));
    out.push(rows_where(
        &DEALS,
        "won_deal_without_close_date",
        "t.status = 'won' AND t.closed_at IS NULL",
        "won deal without a close date (it counts in no period)",
    ));

    for table in TABLES {
        for c in table.columns {
            if c.ty.is_numeric() {
                out.push(rows_where(
                    table,
                    &format!("negative_{}_{}", table.name, c.name),
                    &format!("t.{} < 0", c.name),
                    &format!("negative `{}`", c.name),
                ));
            }
            if c.ty.is_temporal() {
                let (lo, hi) = if c.ty == ColumnType::Timestamp {
                    ("TIMESTAMP '1990-01-01T00:00:00Z'", "TIMESTAMP '2101-01-01T00:00:00Z'")
                } else {
                    ("DATE '1990-01-01'", "DATE '2101-01-01'")
                };
                out.push(rows_where(
                    table,
                    &format!("date_out_of_range_{}_{}", table.name, c.name),
                    &format!("t.{c} < {lo} OR t.{c} >= {hi}", c = c.name),
                    &format!("`{}` before 1990 or after 2100", c.name),
                ));
            }
        }
    }

    let won_before_contact = Check {
        id: "deal_won_before_contact_created".into(),
        table: "deals",
        needs: &["contacts"],
        sql: format!(
            "SELECT {} AS example FROM deals d JOIN contacts c ON d.contact_id = c.contact_id \
             WHERE d.status = 'won' AND d.closed_at < c.created_at",
            key_sql(&DEALS, "d")
        ),
        message: "deal won before its contact (lead) was created".into(),
    };
    out.push(won_before_contact);
    let orphans: [(&'static Table, &str, &'static str, &'static str, &str); 5] = [
        (&DEALS, "contact_id", "contacts", "contact_id", "deal whose contact does not exist"),
        (&SESSIONS, "contact_id", "contacts", "contact_id", "session whose contact does not exist"),
        (&EVENTS, "contact_id", "contacts", "contact_id", "event whose contact does not exist"),
        (&EVENTS, "session_id", "sessions", "session_id", "event whose session does not exist"),
        (
            &STAGE_CHANGES,
            "entity_id",
            "contacts",
            "contact_id",
            "stage change of a contact that does not exist",
        ),
    ];
    for (table, column, other, other_key, message) in orphans {
        let entity =
            if table.name == "stage_changes" { " AND t.entity_type = 'contact'" } else { "" };
        out.push(Check {
            id: format!("orphan_{}_{}", table.name, column),
            table: table.name,
            needs: match other {
                "contacts" => &["contacts"],
                _ => &["sessions"],
            },
            sql: format!(
                "SELECT {} AS example FROM {} t LEFT JOIN {other} o ON t.{column} = o.{other_key} \
                 WHERE t.{column} IS NOT NULL AND t.{column} <> '' AND o.{other_key} IS NULL{entity}",
                key_sql(table, "t"),
                table.name
            ),
            message: message.into(),
        });
    }
    out.push(Check {
        id: "deal_stage_orphan".into(),
        table: "stage_changes",
        needs: &["deals"],
        sql: format!(
            "SELECT {} AS example FROM stage_changes t LEFT JOIN deals o ON t.entity_id = o.deal_id \
             WHERE t.entity_type = 'deal' AND o.deal_id IS NULL",
            key_sql(&STAGE_CHANGES, "t")
        ),
        message: "stage change of a deal that does not exist".into(),
    });
    out.push(Check {
        id: "stage_before_contact_created".into(),
        table: "stage_changes",
        needs: &["contacts"],
        sql: format!(
            "SELECT {} AS example FROM stage_changes t JOIN contacts c ON t.entity_id = c.contact_id \
             WHERE t.entity_type = 'contact' AND t.entered_at < c.created_at",
            key_sql(&STAGE_CHANGES, "t")
        ),
        message: "contact entered a stage before it was created".into(),
    });
    out
}

async fn query(
    ctx: &SessionContext,
    table: &str,
    sql: &str,
) -> Result<Vec<RecordBatch>, StoreError> {
    let q = |e| StoreError::query(table, e);
    ctx.sql(sql).await.map_err(q)?.collect().await.map_err(q)
}

fn int(b: &RecordBatch, col: usize) -> u64 {
    b.column(col).as_any().downcast_ref::<Int64Array>().map_or(0, |a| a.value(0).max(0) as u64)
}

fn text(b: &RecordBatch, col: usize) -> Option<String> {
    text_at(b, col, 0)
}

fn text_at(b: &RecordBatch, col: usize, row: usize) -> Option<String> {
    let a = b.column(col);
    if a.is_null(row) {
        return None;
    }
    array_value_to_string(a, row).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn check_ids_are_unique() {
        let mut seen = HashSet::new();
        for c in checks() {
            assert!(seen.insert(c.id.clone()), "duplicate check {}", c.id);
        }
    }
}
