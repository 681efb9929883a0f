//! The sources of the catalog as DataFusion frames: the canonical tables with their derived
//! columns, and the derived views (`kpiflow_catalog::sources` lists what each must provide).
//!
//! - `sessions` + `channel` (GA4 grouping, at query time) and `referrer_domain`.
//! - `contacts` + `channel` (the channel of the contact's first session — first-touch
//!   attribution — else its `original_source` label mapped through the same rules),
//!   `first_session_at`, `self_reported_channel`, `response_minutes`. Built once per engine.
//! - `deals` + the contact's `channel`, `original_source`, first session and creation.
//! - `ad_spend` with `channel` filled from the platform where the export left it empty.
//! - `stage_entries`: each contact's entry into each configured funnel stage. Creating a contact
//!   enters the first stage. Unless the funnel is strict, reaching a stage means having passed
//!   every earlier one, at the earliest time any later stage was reached (HubSpot's rule: stages
//!   only move forward). Built once per engine.
//! - `stage_transitions`: consecutive configured stages of one contact, with the days between.
//! - `won_deal_cycles`: won deals with the days from first touch (first session, else lead
//!   creation, else the deal's creation) to close.
//! - `mrr_movements`: each account's month against its previous month, including the month
//!   after its last revenue (a churn) while that month is inside the data.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::execution::FunctionRegistry;
use datafusion::functions::expr_fn::{coalesce, concat, lower, nullif, trim};
use datafusion::functions_aggregate::expr_fn::{first_value, max, min};
use datafusion::logical_expr::{JoinType, case};
use datafusion::prelude::*;

use crate::{Engine, EngineError, Result};

fn null_text() -> Expr {
    lit(ScalarValue::Utf8(None))
}

fn null_time() -> Expr {
    lit(ScalarValue::TimestampMicrosecond(None, Some("UTC".into())))
}

/// The value, or null when it is empty text.
fn non_empty(e: Expr) -> Expr {
    nullif(trim(vec![cast(e, DataType::Utf8)]), lit(""))
}

/// Contact columns every contact-based source carries.
const CONTACT_DIMS: &[&str] = &[
    "original_source",
    "original_campaign",
    "self_reported_source",
    "region",
    "segment",
    "industry",
    "business_unit",
    "owner",
];

impl Engine {
    /// The rows of `df` in `order`, streamed. A cluster sends its final stage's partitions one
    /// after another, without one order across them, so on a cluster (portable plans) the rows
    /// are collected unsorted and sorted here: the client then holds them all in memory (the
    /// journeys of an attribution, the velocity of a funnel). In this process DataFusion's sort
    /// streams them.
    pub(crate) async fn sorted_stream(
        &self,
        df: DataFrame,
        order: Vec<datafusion::logical_expr::SortExpr>,
    ) -> Result<datafusion::physical_plan::SendableRecordBatchStream> {
        if !self.is_portable() {
            return Ok(df.sort(order)?.execute_stream().await?);
        }
        let df_schema = df.schema().inner().clone();
        let batches = df.collect().await?;
        // The batches' own schema (a plan's nullability can differ from what the rows say).
        let schema = batches.first().map(|b| b.schema()).unwrap_or_else(|| df_schema.clone());
        let rows = datafusion::datasource::MemTable::try_new(schema, vec![batches])?;
        let local = SessionContext::new();
        Ok(local.read_table(Arc::new(rows))?.sort(order)?.execute_stream().await?)
    }

    /// [`Engine::sorted_stream`], collected.
    pub(crate) async fn sorted_collect(
        &self,
        df: DataFrame,
        order: Vec<datafusion::logical_expr::SortExpr>,
    ) -> Result<Vec<arrow::array::RecordBatch>> {
        use futures::TryStreamExt;
        Ok(self.sorted_stream(df, order).await?.try_collect().await?)
    }

    /// `df` computed once and kept in memory for the plans built on it — in this process. A
    /// portable plan (SQL export, cluster) keeps it a subquery instead: an in-memory table
    /// cannot leave the process.
    pub(crate) async fn keep(&self, df: DataFrame) -> Result<DataFrame> {
        if self.is_portable() { Ok(df) } else { Ok(df.cache().await?) }
    }

    /// Microseconds since the epoch of a timestamp, as a float. Portable plans take the epoch
    /// in seconds (`date_part`), which warehouses have; a cast of a timestamp to an integer
    /// is DataFusion's own.
    fn micros(&self, e: Expr) -> Expr {
        if self.is_portable() {
            datafusion::functions::expr_fn::date_part(lit("epoch"), e) * lit(1_000_000.0)
        } else {
            cast(cast(e, DataType::Int64), DataType::Float64)
        }
    }

    /// Days between two timestamps (fractional).
    fn days_between(&self, from: Expr, to: Expr) -> Expr {
        (self.micros(to) - self.micros(from)) / lit(86_400_000_000.0)
    }

    pub(crate) fn call(&self, name: &str, args: Vec<Expr>) -> Result<Expr> {
        if self.is_portable()
            && let [arg] = args.as_slice()
        {
            let arg = arg.clone();
            match name {
                "kpiflow_channel_of_label" => return crate::portable::label(&self.rules, arg),
                "kpiflow_self_reported_channel" => {
                    return crate::portable::self_reported(&self.rules, arg);
                }
                "kpiflow_platform_channel" => return Ok(crate::portable::platform(arg)),
                "kpiflow_host" => return Ok(crate::portable::host(arg)),
                _ => {}
            }
        }
        let f = self.ctx.udf(name)?;
        Ok(f.call(args))
    }

    /// `df` (with the session columns) with the session's channel as column `name`.
    pub(crate) fn with_session_channel(&self, df: DataFrame, name: &str) -> Result<DataFrame> {
        if self.is_portable() {
            return crate::portable::with_session_channel(&self.rules, df, name);
        }
        Ok(df.with_column(name, self.session_channel()?)?)
    }

    async fn table(&self, name: &str) -> Result<DataFrame> {
        Ok(self.ctx.table(name).await?)
    }

    /// Whether the tables a source needs exist (a KPI over a missing source has no data).
    pub fn source_available(&self, source: &str) -> bool {
        match source {
            "stage_entries" | "stage_transitions" => self.has_table("stage_changes"),
            "won_deal_cycles" => self.has_table("deals"),
            "mrr_movements" | "mrr_retention" => self.has_table("revenue"),
            table => self.has_table(table),
        }
    }

    /// The frame of a source; `None` when its tables are missing.
    pub async fn source_frame(&self, source: &str) -> Result<Option<DataFrame>> {
        if !self.source_available(source) {
            return Ok(None);
        }
        let df = match source {
            "sessions" => self.sessions().await?,
            "contacts" => self.contacts().await?,
            "deals" => self.deals().await?,
            "ad_spend" => {
                let channel = coalesce(vec![
                    non_empty(col("channel")),
                    self.call("kpiflow_platform_channel", vec![col("platform")])?,
                ]);
                replace_column(self.table("ad_spend").await?, "channel", channel)?
            }
            "stage_entries" => self.stage_entries().await?,
            "stage_transitions" => self.stage_transitions().await?,
            "won_deal_cycles" => self.won_deal_cycles().await?,
            // Per account and period: built from the movements by the report, which knows the
            // periods.
            "mrr_movements" | "mrr_retention" => self.mrr_movements().await?,
            table => self.table(table).await?,
        };
        Ok(Some(df))
    }

    async fn sessions(&self) -> Result<DataFrame> {
        let host = self.call("kpiflow_host", vec![col("referrer")])?;
        let sessions = self.table("sessions").await?;
        Ok(self.with_session_channel(sessions, "channel")?.with_column("referrer_domain", host)?)
    }

    pub(crate) fn session_channel(&self) -> Result<Expr> {
        self.call(
            "kpiflow_channel",
            ["utm_source", "utm_medium", "utm_campaign", "referrer", "click_id_type"]
                .into_iter()
                .map(col)
                .collect(),
        )
    }

    /// Reads a cached derived frame, building it on first use.
    async fn cached<F>(&self, name: &'static str, build: F) -> Result<DataFrame>
    where
        F: AsyncFnOnce() -> Result<DataFrame>,
    {
        // One cell per source: concurrent measure groups wait for a single build; the map's
        // lock is not held while building (one derived source is built from another).
        let cell = self.cache.lock().await.entry(name).or_default().clone();
        let df = cell
            .get_or_try_init(|| async {
                let started = std::time::Instant::now();
                let built = build().await?;
                // Outside the process the derived source is a subquery, not an in-memory table.
                let df = self.keep(built).await?;
                tracing::debug!(
                    source = name,
                    ms = started.elapsed().as_millis() as u64,
                    "derived source built"
                );
                Ok::<_, EngineError>(df)
            })
            .await?;
        Ok(df.clone())
    }

    /// Contacts with their derived columns (see the module doc). Empty when there is no
    /// contacts table.
    async fn contacts(&self) -> Result<DataFrame> {
        self.cached("contacts", async || self.build_contacts().await).await
    }

    async fn build_contacts(&self) -> Result<DataFrame> {
        let contacts = self.table("contacts").await?;
        let with_touch = if self.has_table("sessions") {
            let identified =
                self.table("sessions").await?.filter(non_empty(col("contact_id")).is_not_null())?;
            let touches =
                self.with_session_channel(identified, "session_channel")?.select(vec![
                    col("contact_id").alias("t_contact_id"),
                    col("started_at"),
                    col("session_id"),
                    col("session_channel"),
                ])?;
            // The first session: earliest start, ties broken by session id.
            let first =
                vec![col("started_at").sort(true, false), col("session_id").sort(true, false)];
            let touch = if self.is_portable() {
                // With joins, which every warehouse has (an ordered first_value aggregate is
                // DuckDB's and BigQuery's only): the earliest start, the least session id
                // among the sessions starting then, that session's channel.
                let firsts = touches
                    .clone()
                    .aggregate(
                        vec![col("t_contact_id")],
                        vec![min(col("started_at")).alias("first_session_at")],
                    )?
                    .select(vec![
                        col("t_contact_id").alias("f_contact_id"),
                        col("first_session_at"),
                    ])?;
                let tied = touches
                    .clone()
                    .join_on(
                        firsts,
                        JoinType::Inner,
                        [
                            col("t_contact_id").eq(col("f_contact_id")),
                            col("started_at").eq(col("first_session_at")),
                        ],
                    )?
                    .aggregate(
                        vec![col("f_contact_id"), col("first_session_at")],
                        vec![min(col("session_id")).alias("first_session_id")],
                    )?;
                let channels = touches.select(vec![
                    col("session_id").alias("s_session_id"),
                    col("session_channel").alias("first_channel"),
                ])?;
                tied.join(
                    channels,
                    JoinType::Inner,
                    &["first_session_id"],
                    &["s_session_id"],
                    None,
                )?
                .select(vec![
                    col("f_contact_id").alias("t_contact_id"),
                    col("first_session_at"),
                    col("first_channel"),
                ])?
            } else {
                touches.aggregate(
                    vec![col("t_contact_id")],
                    vec![
                        min(col("started_at")).alias("first_session_at"),
                        first_value(col("session_channel"), first).alias("first_channel"),
                    ],
                )?
            };
            contacts.join(touch, JoinType::Left, &["contact_id"], &["t_contact_id"], None)?
        } else {
            contacts
                .with_column("first_session_at", null_time())?
                .with_column("first_channel", null_text())?
        };
        let label =
            self.call("kpiflow_channel_of_label", vec![non_empty(col("original_source"))])?;
        let reported =
            self.call("kpiflow_self_reported_channel", vec![col("self_reported_source")])?;
        let minutes = (self.micros(col("first_response_at")) - self.micros(col("created_at")))
            / lit(60_000_000.0);
        let mut columns = vec![
            col("contact_id"),
            col("created_at"),
            col("account_id"),
            col("first_response_at"),
            col("lead_score"),
            col("first_session_at"),
            coalesce(vec![col("first_channel"), label, lit("Unassigned")]).alias("channel"),
            reported.alias("self_reported_channel"),
            minutes.alias("response_minutes"),
        ];
        columns.extend(CONTACT_DIMS.iter().map(|d| col(*d)));
        Ok(with_touch.select(columns)?)
    }

    /// The contact columns a contact-based source joins, renamed `c_*`; typed nulls when there is
    /// no contacts table.
    async fn contact_dims(&self) -> Result<Option<DataFrame>> {
        if !self.has_table("contacts") {
            return Ok(None);
        }
        let mut columns = vec![
            col("contact_id").alias("c_id"),
            col("channel").alias("c_channel"),
            col("self_reported_channel").alias("c_self_reported_channel"),
            col("first_session_at").alias("c_first_session_at"),
            col("created_at").alias("c_created_at"),
        ];
        columns.extend(CONTACT_DIMS.iter().map(|d| col(*d).alias(format!("c_{d}"))));
        Ok(Some(self.contacts().await?.select(columns)?))
    }

    /// Joins the contact's columns to `df` on `key` (left join): adds `c_*` columns.
    async fn with_contact(&self, df: DataFrame, key: &str) -> Result<DataFrame> {
        match self.contact_dims().await? {
            Some(c) => Ok(df.join(c, JoinType::Left, &[key], &["c_id"], None)?),
            None => {
                let mut df = df
                    .with_column("c_id", null_text())?
                    .with_column("c_channel", null_text())?
                    .with_column("c_self_reported_channel", null_text())?
                    .with_column("c_first_session_at", null_time())?
                    .with_column("c_created_at", null_time())?;
                for d in CONTACT_DIMS {
                    df = df.with_column(&format!("c_{d}"), null_text())?;
                }
                Ok(df)
            }
        }
    }

    async fn deals(&self) -> Result<DataFrame> {
        let deals = self.table("deals").await?;
        let names: Vec<String> = deals.schema().fields().iter().map(|f| f.name().clone()).collect();
        let joined = self.with_contact(deals, "contact_id").await?;
        let mut columns: Vec<Expr> = names.iter().map(|n| col(n.as_str())).collect();
        columns.push(coalesce(vec![col("c_channel"), lit("Unassigned")]).alias("channel"));
        columns.push(col("c_original_source").alias("original_source"));
        columns.push(col("c_first_session_at").alias("first_session_at"));
        columns.push(col("c_created_at").alias("lead_created_at"));
        Ok(joined.select(columns)?)
    }

    async fn won_deal_cycles(&self) -> Result<DataFrame> {
        let deals = self.deals().await?;
        let first_touch =
            coalesce(vec![col("first_session_at"), col("lead_created_at"), col("created_at")]);
        Ok(deals
            .filter(lower(col("status")).eq(lit("won")).and(col("closed_at").is_not_null()))?
            .with_column("first_touch_at", first_touch)?
            .with_column(
                "cycle_days",
                self.days_between(col("first_touch_at"), col("closed_at")),
            )?)
    }

    /// The stages of the funnel with their positions.
    fn stages(&self) -> &[String] {
        &self.config.funnel.stages
    }

    async fn stage_entries(&self) -> Result<DataFrame> {
        self.cached("stage_entries", async || self.build_stage_entries().await).await
    }

    async fn build_stage_entries(&self) -> Result<DataFrame> {
        let stages = self.stages().to_vec();
        let mut index = case(lower(trim(vec![col("stage")])));
        for (i, s) in stages.iter().enumerate() {
            index = index.when(lit(s.as_str()), lit(i as i64));
        }
        let index = index.otherwise(lit(ScalarValue::Int64(None)))?;
        let mut entries = self
            .table("stage_changes")
            .await?
            .filter(lower(trim(vec![col("entity_type")])).eq(lit("contact")))?
            .select(vec![col("entity_id"), index.alias("reached_index"), col("entered_at")])?
            .filter(col("reached_index").is_not_null())?;
        if self.has_table("contacts") {
            // Creating a contact enters the first stage.
            let created = self.table("contacts").await?.select(vec![
                col("contact_id").alias("entity_id"),
                lit(0i64).alias("reached_index"),
                col("created_at").alias("entered_at"),
            ])?;
            entries = entries.union(created)?;
        }
        // The stage positions as `SELECT 0 AS stage_index UNION ALL ...`, which SQL export can
        // print (unlike a batch or, in DataFusion's unparser, VALUES).
        let mut list: Option<datafusion::logical_expr::LogicalPlanBuilder> = None;
        for i in 0..stages.len() as i64 {
            let one = datafusion::logical_expr::LogicalPlanBuilder::empty(true)
                .project(vec![lit(i).alias("stage_index")])?
                .build()?;
            list = Some(match list {
                None => datafusion::logical_expr::LogicalPlanBuilder::from(one),
                Some(b) => b.union(one)?,
            });
        }
        let list = list.ok_or_else(|| EngineError::Internal("no funnel stages".into()))?;
        let list = DataFrame::new(self.ctx.state(), list.build()?);
        let passed = if self.config.funnel.strict {
            col("stage_index").eq(col("reached_index"))
        } else {
            col("stage_index").lt_eq(col("reached_index"))
        };
        let per_stage = entries.join_on(list, JoinType::Inner, [passed])?.aggregate(
            vec![col("entity_id"), col("stage_index")],
            vec![min(col("entered_at")).alias("entered_at")],
        )?;
        let mut name = case(col("stage_index"));
        for (i, s) in stages.iter().enumerate() {
            name = name.when(lit(i as i64), lit(s.as_str()));
        }
        let name = name.otherwise(null_text())?;
        let joined = self.with_contact(per_stage, "entity_id").await?;
        let mut columns = vec![
            col("entity_id"),
            col("stage_index"),
            name.alias("stage"),
            col("entered_at"),
            coalesce(vec![col("c_channel"), lit("Unassigned")]).alias("channel"),
            col("c_self_reported_channel").alias("self_reported_channel"),
        ];
        columns.extend(CONTACT_DIMS.iter().map(|d| col(format!("c_{d}")).alias(*d)));
        Ok(joined.select(columns)?)
    }

    async fn stage_transitions(&self) -> Result<DataFrame> {
        let entries = self.stage_entries().await?;
        let mut from_columns = vec![
            col("entity_id"),
            (col("stage_index") + lit(1i64)).alias("next_index"),
            col("stage").alias("from_stage"),
            col("entered_at").alias("from_at"),
            col("channel"),
            col("self_reported_channel"),
        ];
        from_columns.extend(CONTACT_DIMS.iter().map(|d| col(*d)));
        let from = entries.clone().select(from_columns)?;
        let to = entries.select(vec![
            col("entity_id").alias("to_id"),
            col("stage_index").alias("to_index"),
            col("stage").alias("to_stage"),
            col("entered_at"),
        ])?;
        Ok(from
            .join(to, JoinType::Inner, &["entity_id", "next_index"], &["to_id", "to_index"], None)?
            .with_column("transition", concat(vec![col("from_stage"), lit("→"), col("to_stage")]))?
            .with_column("days", self.days_between(col("from_at"), col("entered_at")))?)
    }

    async fn mrr_movements(&self) -> Result<DataFrame> {
        let revenue = self.table("revenue").await?;
        let last = revenue
            .clone()
            .aggregate(vec![], vec![max(col("month")).alias("last")])?
            .collect()
            .await?;
        let last_month = last
            .first()
            .filter(|b| b.num_rows() > 0)
            .map(|b| ScalarValue::try_from_array(b.column(0), 0))
            .transpose()?
            .unwrap_or(ScalarValue::Date32(None));
        let one_month = lit(ScalarValue::IntervalYearMonth(Some(1)));
        let current = revenue.clone().select(vec![
            col("account_id"),
            col("month"),
            col("mrr_reporting").alias("cur_mrr"),
        ])?;
        let previous = revenue.select(vec![
            col("account_id").alias("p_account_id"),
            (col("month") + one_month).alias("p_month"),
            col("mrr_reporting").alias("p_mrr"),
        ])?;
        let zero = lit(0.0);
        let mrr = col("mrr");
        let prev = col("previous_mrr");
        let paying_before = prev.clone().gt(zero.clone());
        let paying = mrr.clone().gt(zero.clone());
        let movement = when(paying_before.clone().not().and(paying.clone()), lit("new"))
            .when(paying_before.clone().and(paying.clone().not()), lit("churn"))
            .when(paying_before.clone().and(mrr.clone().gt(prev.clone())), lit("expansion"))
            .when(paying_before.clone().and(mrr.clone().lt(prev.clone())), lit("contraction"))
            .otherwise(lit("flat"))?;
        let amount = |cond: Expr, value: Expr| when(cond, value).otherwise(zero.clone());
        Ok(current
            .join(
                previous,
                JoinType::Full,
                &["account_id", "month"],
                &["p_account_id", "p_month"],
                None,
            )?
            .select(vec![
                coalesce(vec![col("account_id"), col("p_account_id")]).alias("account_id"),
                coalesce(vec![col("month"), col("p_month")]).alias("month"),
                coalesce(vec![col("cur_mrr"), zero.clone()]).alias("mrr"),
                coalesce(vec![col("p_mrr"), zero.clone()]).alias("previous_mrr"),
            ])?
            .filter(col("month").lt_eq(lit(last_month)))?
            .select(vec![
                col("account_id"),
                col("month"),
                mrr.clone(),
                prev.clone(),
                amount(paying_before.clone().not().and(paying.clone()), mrr.clone())?
                    .alias("new_mrr"),
                amount(
                    paying_before.clone().and(mrr.clone().gt(prev.clone())),
                    mrr.clone() - prev.clone(),
                )?
                .alias("expansion_mrr"),
                amount(
                    paying_before.clone().and(paying.clone()).and(mrr.clone().lt(prev.clone())),
                    prev.clone() - mrr.clone(),
                )?
                .alias("contraction_mrr"),
                amount(paying_before.and(paying.not()), prev.clone())?.alias("churned_mrr"),
                movement.alias("movement"),
            ])?)
    }
}

/// `df` with `name` replaced by `value` (same position).
fn replace_column(df: DataFrame, name: &str, value: Expr) -> Result<DataFrame> {
    let columns: Vec<Expr> = df
        .schema()
        .fields()
        .iter()
        .map(|f| if f.name() == name { value.clone().alias(name) } else { col(f.name().as_str()) })
        .collect();
    Ok(df.select(columns)?)
}
