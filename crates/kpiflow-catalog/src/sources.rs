//! What measures can aggregate over: the canonical tables, plus the columns and views the engine
//! derives at query time (so that a change of rules needs no re-import).
//!
//! - **Derived columns** are added to canonical tables: `sessions.channel` (GA4 default channel
//!   grouping of the session's source, medium, referrer and click id), `contacts.channel` (the
//!   contact's attributed channel: first touch, else `original_source` mapped through the same
//!   rules), and so on. `ad_spend.channel` is a canonical column the engine fills from the
//!   platform where the export left it empty.
//! - **Views** are derived tables: `stage_entries` (funnel stages with the skip rule applied),
//!   `stage_transitions`, `won_deal_cycles`, `mrr_movements`.
//!
//! The engine must provide every column listed here; this list is what formulas and filters are
//! checked against.

use kpiflow_model::{ColumnType, TABLES};

/// A column a measure can read: its name and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceColumn {
    pub name: &'static str,
    pub ty: ColumnType,
    pub doc: &'static str,
}

/// A table or view measures aggregate over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub name: &'static str,
    /// The column that places a row in a period by default.
    pub time_column: &'static str,
    pub columns: Vec<SourceColumn>,
    /// Columns a KPI over this source can be split by.
    pub dimensions: &'static [&'static str],
    /// For views: what one row is and how it is derived.
    pub view: Option<&'static str>,
}

impl Source {
    pub fn column(&self, name: &str) -> Option<&SourceColumn> {
        self.columns.iter().find(|c| c.name == name)
    }
}

const fn col(name: &'static str, ty: ColumnType, doc: &'static str) -> SourceColumn {
    SourceColumn { name, ty, doc }
}

use ColumnType::{Decimal, Month, Text, Timestamp};

/// Derived columns added to canonical tables.
fn derived_columns(table: &str) -> Vec<SourceColumn> {
    match table {
        "sessions" => vec![
            col("channel", Text, "GA4 default channel group (user rules first)"),
            col("referrer_domain", Text, "host of the referrer, without www."),
        ],
        "contacts" => vec![
            col("channel", Text, "attributed channel (first touch, else original source)"),
            col("self_reported_channel", Text, "self-reported source mapped to a channel"),
            col("response_minutes", Decimal, "minutes from creation to first response"),
        ],
        "deals" => vec![
            col("channel", Text, "the deal's contact's channel"),
            col("original_source", Text, "the deal's contact's original source"),
        ],
        _ => Vec::new(),
    }
}

fn dimensions(table: &str) -> &'static [&'static str] {
    match table {
        "ad_spend" => {
            &["channel", "platform", "campaign", "ad_group", "keyword", "region", "business_unit"]
        }
        "sessions" => &[
            "channel",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "referrer_domain",
            "landing_page",
            "device",
            "country",
            "region",
        ],
        "events" => &["event_type", "name"],
        "contacts" => CONTACT_DIMENSIONS,
        "stage_changes" => &["entity_type", "stage"],
        "deals" => &[
            "channel",
            "original_source",
            "pipeline",
            "stage",
            "owner",
            "product",
            "region",
            "segment",
            "business_unit",
            "lost_reason",
        ],
        "revenue" => &[],
        "email_campaigns" => &["campaign_id", "name", "segment"],
        "social_posts" => &["network"],
        "seo_keywords" => &["keyword", "url"],
        "backlinks" => &["referring_domain"],
        "costs" => &["category", "team", "channel"],
        "accounts" => &["industry", "segment", "region", "country", "business_unit", "owner"],
        "web_traffic" => &["source", "medium", "campaign", "channel"],
        "search_performance" => &["search_type"],
        _ => &[],
    }
}

const CONTACT_DIMENSIONS: &[&str] = &[
    "channel",
    "original_source",
    "original_campaign",
    "self_reported_source",
    "region",
    "segment",
    "industry",
    "business_unit",
    "owner",
];

fn contact_columns() -> Vec<SourceColumn> {
    vec![
        col("channel", Text, "the contact's attributed channel"),
        col("original_source", Text, "contacts.original_source"),
        col("original_campaign", Text, "contacts.original_campaign"),
        col("self_reported_source", Text, "contacts.self_reported_source"),
        col("self_reported_channel", Text, "self-reported source mapped to a channel"),
        col("region", Text, "contacts.region"),
        col("segment", Text, "contacts.segment"),
        col("industry", Text, "contacts.industry"),
        col("business_unit", Text, "contacts.business_unit"),
        col("owner", Text, "contacts.owner"),
    ]
}

fn views() -> Vec<Source> {
    let mut stage_entries = vec![
        col("entity_id", Text, "the contact"),
        col("stage", Text, "funnel stage entered"),
        col(
            "entered_at",
            Timestamp,
            "when it was entered (a skipped stage: the next stage's time)",
        ),
    ];
    stage_entries.extend(contact_columns());
    let mut transitions = vec![
        col("entity_id", Text, "the contact"),
        col("from_stage", Text, "stage left"),
        col("to_stage", Text, "next funnel stage entered"),
        col("transition", Text, "`from_stage→to_stage`"),
        col("entered_at", Timestamp, "when the next stage was entered"),
        col("days", Decimal, "days between the two entries"),
    ];
    transitions.extend(contact_columns());
    vec![
        Source {
            name: "stage_entries",
            time_column: "entered_at",
            columns: stage_entries,
            dimensions: CONTACT_DIMENSIONS,
            view: Some(
                "one contact's entry into one configured funnel stage; unless the funnel is \
                 strict, a skipped stage is entered at the next recorded stage's time",
            ),
        },
        Source {
            name: "stage_transitions",
            time_column: "entered_at",
            columns: transitions,
            dimensions: &[
                "transition",
                "channel",
                "original_source",
                "region",
                "segment",
                "industry",
                "business_unit",
                "owner",
            ],
            view: Some(
                "one contact's move from one funnel stage to the next, with the days it took",
            ),
        },
        Source {
            name: "won_deal_cycles",
            time_column: "closed_at",
            columns: vec![
                col("deal_id", Text, "the won deal"),
                col("closed_at", Timestamp, "when it was won"),
                col(
                    "first_touch_at",
                    Timestamp,
                    "first session, else lead creation, else deal creation",
                ),
                col(
                    "cycle_days",
                    Decimal,
                    "days from first touch to close (negative: closed before it)",
                ),
                col("channel", Text, "the deal's channel"),
                col("original_source", Text, "the deal's contact's original source"),
                col("pipeline", Text, "deals.pipeline"),
                col("owner", Text, "deals.owner"),
                col("product", Text, "deals.product"),
                col("region", Text, "deals.region"),
                col("segment", Text, "deals.segment"),
                col("business_unit", Text, "deals.business_unit"),
            ],
            dimensions: &[
                "channel",
                "original_source",
                "pipeline",
                "owner",
                "product",
                "region",
                "segment",
                "business_unit",
            ],
            view: Some("one won deal with its sales cycle"),
        },
        Source {
            name: "mrr_movements",
            time_column: "month",
            columns: vec![
                col("account_id", Text, "the account"),
                col("month", Month, "the month"),
                col("mrr", Decimal, "MRR this month, reporting currency (0 after churn)"),
                col("previous_mrr", Decimal, "MRR the month before"),
                col("new_mrr", Decimal, "MRR of an account paying for the first time"),
                col("expansion_mrr", Decimal, "MRR increase of a paying account"),
                col("contraction_mrr", Decimal, "MRR decrease of an account still paying"),
                col("churned_mrr", Decimal, "MRR lost by an account that stopped paying"),
                col("movement", Text, "new, expansion, contraction, churn or flat"),
            ],
            dimensions: &["movement"],
            view: Some(
                "one account's month, compared with its previous month (a month after its last \
                 revenue row is a churn)",
            ),
        },
        Source {
            name: "mrr_retention",
            time_column: "month",
            columns: vec![
                col("account_id", Text, "the account"),
                col("month", Month, "the period's first month with revenue data"),
                col("start_mrr", Decimal, "the account's MRR just before the period's first month"),
                col("end_mrr", Decimal, "the account's MRR at the period's last month (0 if gone)"),
            ],
            dimensions: &[],
            view: Some(
                "one account in one period: its MRR just before the period and at its last month \
                 (the months are the first and last with revenue data in the period)",
            ),
        },
    ]
}

/// Every source: the canonical tables with their derived columns, then the views.
pub fn sources() -> Vec<Source> {
    let mut out: Vec<Source> = TABLES
        .iter()
        .map(|t| {
            let mut columns: Vec<SourceColumn> =
                t.columns.iter().map(|c| col(c.name, c.ty, c.doc)).collect();
            for name in t.columns.iter().filter_map(|c| c.reporting_name()) {
                columns.push(col(name, Decimal, "the amount in the reporting currency"));
            }
            columns.extend(derived_columns(t.name));
            Source {
                name: t.name,
                time_column: t.time_column,
                columns,
                dimensions: dimensions(t.name),
                view: None,
            }
        })
        .collect();
    out.extend(views());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn sources_are_unique_and_consistent() {
        let all = sources();
        let mut names = HashSet::new();
        for s in &all {
            assert!(names.insert(s.name), "duplicate source {}", s.name);
            assert!(s.column(s.time_column).is_some(), "{}: time column", s.name);
            for d in s.dimensions {
                assert!(s.column(d).is_some(), "{}: dimension {d} is not a column", s.name);
            }
            let mut cols = HashSet::new();
            for c in &s.columns {
                assert!(cols.insert(c.name), "{}: duplicate column {}", s.name, c.name);
            }
        }
    }
}
