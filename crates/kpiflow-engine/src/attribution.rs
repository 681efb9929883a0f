//! Journeys from the store, and attribution over them (DESIGN §6).
//!
//! A journey ends at a conversion: a contact entering a funnel stage in the period (`lead` is the
//! contact's creation), or a won deal closed in the period (`revenue`: one conversion per deal,
//! weighted by its amount). Its touches are the contact's sessions — including the anonymous ones
//! of the visitor it was before it filled a form, joined through the `visitor_id` of any session
//! or event that names both (the first such contact when a visitor names several) — and, when
//! `[attribution] offline_events` lists them, its events, inside the lookback window before the
//! conversion. A conversion without a touch in the window gets one touch on the channel of the
//! contact's `original_source` (Unassigned when empty), so no conversion is lost.
//!
//! Journeys that did not convert (for the data-driven models): visitors and contacts with a touch in
//! the period that had not reached the target by its end, with their touches in the lookback window
//! before their last touch in the period. For the `lead` target these are the visitors never
//! identified as a contact.
//!
//! Clicks on short links (`kpiflow links add`, `/l/{code}`) are touches too, on the channel of
//! the link's UTM tags, for the contact or visitor the link named.
//!
//! The tables are joined, filtered and sorted by DataFusion; the sorted rows are then streamed and
//! cut into journeys, a batch at a time.

use std::collections::BTreeMap;
use std::time::Instant;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use chrono::NaiveDate;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::{coalesce, concat, lower, nullif, trim};
use datafusion::functions_aggregate::expr_fn::{first_value, max, min};
use datafusion::logical_expr::{JoinType, case};
use datafusion::prelude::*;
use futures::StreamExt;
use kpiflow_attribution::{
    AttributionError, ChannelId, CostFigures, Journeys, Milestones, ModelResult, ModelSpec,
    Settings,
};

use crate::{Engine, EngineError, Period, ReportRequest, Result};

/// What the journeys end at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConversionTarget {
    /// A contact entering this configured funnel stage (index in the funnel).
    Stage { name: String, index: usize },
    /// A won deal, weighted by its amount in the reporting currency.
    Revenue,
}

impl ConversionTarget {
    /// `lead`, `mql`, ... (any configured stage) or `revenue`, with a "did you mean".
    pub fn parse(text: &str, stages: &[String]) -> Result<ConversionTarget> {
        let wanted = text.trim().to_ascii_lowercase();
        if wanted == "revenue" {
            return Ok(ConversionTarget::Revenue);
        }
        if let Some(index) = stages.iter().position(|s| s.eq_ignore_ascii_case(&wanted)) {
            return Ok(ConversionTarget::Stage { name: stages[index].clone(), index });
        }
        let known: Vec<&str> = stages.iter().map(String::as_str).chain(["revenue"]).collect();
        let hint = kpiflow_model::suggest::did_you_mean(text, known.iter().copied())
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        Err(EngineError::Request(format!(
            "unknown conversion target `{text}`{hint}; expected one of the funnel's stages or revenue: {}",
            known.join(", ")
        )))
    }

    pub fn name(&self) -> &str {
        match self {
            ConversionTarget::Stage { name, .. } => name,
            ConversionTarget::Revenue => "revenue",
        }
    }
}

/// An attribution request over the store.
#[derive(Debug, Clone)]
pub struct AttributionRequest {
    pub target: ConversionTarget,
    /// Conversions inside this period (default: the 12 months up to the last month with data).
    pub period: Option<Period>,
    /// Default: `[attribution] lookback_days`.
    pub lookback_days: Option<u32>,
    pub models: Vec<ModelSpec>,
    /// `--model all`: models this input cannot run are left out with a note instead of failing.
    pub skip_unsupported: bool,
}

/// Counts describing the journeys an attribution ran on.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct JourneyStats {
    /// Journeys (or distinct paths, for a paths file) that converted.
    pub converting_journeys: u64,
    /// Journeys (or paths) with non-conversions.
    pub non_converting_journeys: u64,
    pub conversions: f64,
    pub non_conversions: f64,
    /// Value of the conversions (`None` when the input carries none).
    pub value: Option<f64>,
    pub touches: u64,
    /// Conversions with no touch in the lookback window (credited to their original source).
    pub conversions_without_touch: u64,
}

/// The result of `kpiflow attribution`: every requested model side by side.
#[derive(Debug, Clone)]
pub struct AttributionReport {
    /// `store` or the paths file.
    pub input: String,
    pub target: Option<String>,
    /// First and last day of the period (store input).
    pub period: Option<(NaiveDate, NaiveDate)>,
    pub lookback_days: Option<u32>,
    pub stats: JourneyStats,
    pub models: Vec<ModelResult>,
    /// Media spend per channel over the period (`None` without ad spend data).
    pub spend: Option<BTreeMap<String, f64>>,
    /// What the reader should know (models left out, method notes, excluded records).
    pub notes: Vec<String>,
    /// Time per step, in milliseconds (`--timings`).
    pub timings: Vec<(String, f64)>,
}

/// One output row: a channel under a model.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AttributionRow {
    pub model: String,
    pub channel: String,
    pub conversions: f64,
    /// `None` when the input carries no value.
    pub value: Option<f64>,
    pub share: f64,
    pub spend: Option<f64>,
    pub cost_per_conversion: Option<f64>,
    pub roas: Option<f64>,
    pub roi: Option<f64>,
}

impl AttributionReport {
    /// Runs `specs` over journeys already built (a paths file, or the store's).
    pub fn compute(
        input: String,
        journeys: &Journeys,
        stats: JourneyStats,
        specs: &[ModelSpec],
        settings: &Settings,
        skip_unsupported: bool,
    ) -> Result<AttributionReport, AttributionError> {
        let (models, skipped) =
            kpiflow_attribution::attribute(journeys, specs, settings, skip_unsupported)?;
        let mut notes = skipped;
        let mut timings = Vec::new();
        for m in &models {
            notes.extend(m.notes.iter().map(|n| format!("{}: {n}", m.label)));
            timings.push((format!("model:{}", m.label), m.elapsed.as_secs_f64() * 1e3));
        }
        Ok(AttributionReport {
            input,
            target: None,
            period: None,
            lookback_days: None,
            stats,
            models,
            spend: None,
            notes,
            timings,
        })
    }

    /// Channels in output order: by conversions under the first model (most first), then channels
    /// with spend but no credit, then by name.
    pub fn channel_order(&self) -> Vec<String> {
        let mut credit: BTreeMap<String, f64> = BTreeMap::new();
        if let Some(first) = self.models.first() {
            for c in &first.channels {
                credit.insert(c.channel.clone(), c.conversions);
            }
        }
        for channel in self.spend.iter().flat_map(|s| s.keys()) {
            credit.entry(channel.clone()).or_insert(0.0);
        }
        let mut order: Vec<(String, f64)> = credit.into_iter().collect();
        order.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        order.into_iter().map(|(c, _)| c).collect()
    }

    /// One row per model × channel, models in request order, channels in [`Self::channel_order`].
    pub fn rows(&self) -> Vec<AttributionRow> {
        let order = self.channel_order();
        let has_value = self.stats.value.is_some();
        let mut rows = Vec::with_capacity(order.len() * self.models.len());
        for m in &self.models {
            let by_name: BTreeMap<&str, &kpiflow_attribution::ChannelCredit> =
                m.channels.iter().map(|c| (c.channel.as_str(), c)).collect();
            for channel in &order {
                let zero = kpiflow_attribution::ChannelCredit {
                    channel: channel.clone(),
                    conversions: 0.0,
                    value: 0.0,
                    share: 0.0,
                };
                let credit = by_name.get(channel.as_str()).copied().unwrap_or(&zero);
                let spend = self.spend.as_ref().map(|s| s.get(channel).copied().unwrap_or(0.0));
                let costs = spend.map(|s| CostFigures::new(s, credit));
                rows.push(AttributionRow {
                    model: m.label.clone(),
                    channel: channel.clone(),
                    conversions: credit.conversions,
                    value: has_value.then_some(credit.value),
                    share: credit.share,
                    spend,
                    cost_per_conversion: costs.and_then(|c| c.cost_per_conversion),
                    roas: costs.and_then(|c| if has_value { c.roas } else { None }),
                    roi: costs.and_then(|c| if has_value { c.roi } else { None }),
                });
            }
        }
        rows
    }

    /// The channels whose share differs most between models, most first: (channel, lowest share,
    /// its model, highest share, its model). Where the models disagree is what a reader should see
    /// first.
    pub fn disagreements(&self) -> Vec<Disagreement> {
        if self.models.len() < 2 {
            return Vec::new();
        }
        let rows = self.rows();
        let mut out: Vec<Disagreement> = self
            .channel_order()
            .into_iter()
            .map(|channel| {
                let of: Vec<&AttributionRow> =
                    rows.iter().filter(|r| r.channel == channel).collect();
                let low = of.iter().min_by(|a, b| a.share.total_cmp(&b.share)).copied();
                let high = of.iter().max_by(|a, b| a.share.total_cmp(&b.share)).copied();
                let (low, high) = (
                    low.map(|r| (r.share, r.model.clone())),
                    high.map(|r| (r.share, r.model.clone())),
                );
                let (low, high) = (low.unwrap_or_default(), high.unwrap_or_default());
                Disagreement { channel, spread: high.0 - low.0, lowest: low, highest: high }
            })
            .collect();
        out.sort_by(|a, b| b.spread.total_cmp(&a.spread).then_with(|| a.channel.cmp(&b.channel)));
        out
    }

    /// The JSON document of `--format json` and `GET /api/attribution`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "input": self.input,
            "target": self.target,
            "period_from": self.period.map(|p| p.0.to_string()),
            "period_to": self.period.map(|p| p.1.to_string()),
            "lookback_days": self.lookback_days,
            "journeys": self.stats,
            "models": self.models.iter().map(|m| serde_json::json!({
                "model": m.label,
                "id": m.model_id,
                "notes": m.notes,
            })).collect::<Vec<_>>(),
            "rows": self.rows().iter().map(|r| serde_json::json!({
                "model": r.model,
                "channel": r.channel,
                "conversions": crate::json::number(Some(r.conversions)),
                "value": crate::json::number(r.value),
                "share": crate::json::number(Some(r.share)),
                "spend": crate::json::number(r.spend),
                "cost_per_conversion": crate::json::number(r.cost_per_conversion),
                "roas": crate::json::number(r.roas),
                "roi": crate::json::number(r.roi),
            })).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }
}

/// How far apart the models are on one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Disagreement {
    pub channel: String,
    /// Highest share − lowest share.
    pub spread: f64,
    /// (share, model label).
    pub lowest: (f64, String),
    pub highest: (f64, String),
}

fn non_empty(e: Expr) -> Expr {
    nullif(trim(vec![cast(e, DataType::Utf8)]), lit(""))
}

fn micros(e: Expr) -> Expr {
    cast(e, DataType::Int64)
}

const MICROS_PER_DAY: f64 = 86_400_000_000.0;

impl Engine {
    /// Builds the journeys of `request` from the store and runs its models; the result is kept
    /// for this snapshot (the dashboard asks the same question on every page view).
    pub async fn attribution(&self, request: &AttributionRequest) -> Result<AttributionReport> {
        let key = format!(
            "{:?}|{:?}|{:?}|{}|{}",
            request.target,
            request.period.as_ref().map(|p| (p.from, p.to)),
            request.lookback_days,
            request.models.iter().map(|m| m.label.as_str()).collect::<Vec<_>>().join(","),
            request.skip_unsupported
        );
        if !self.result_cache_enabled() {
            return self.on_cluster(self.compute_attribution(request).await);
        }
        if let Some(hit) = self.attributions.lock().await.get(&key) {
            return Ok(hit.clone());
        }
        let report = self.on_cluster(self.compute_attribution(request).await)?;
        let mut cache = self.attributions.lock().await;
        if cache.len() >= crate::report::RESULT_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, report.clone());
        Ok(report)
    }

    async fn compute_attribution(&self, request: &AttributionRequest) -> Result<AttributionReport> {
        if !self.has_table("sessions") && self.config.attribution.offline_events.is_empty() {
            return Err(EngineError::Request(
                "attribution needs touches: import the sessions table (or configure \
                 [attribution] offline_events over the events table)"
                    .to_owned(),
            ));
        }
        let period = match &request.period {
            Some(p) => p.clone(),
            None => self.default_period().await?,
        };
        let lookback = request.lookback_days.unwrap_or(self.config.attribution.lookback_days);
        let mut timings = Vec::new();
        let started = Instant::now();
        let (journeys, stats, mut notes) =
            self.journeys(&request.target, &period, lookback).await?;
        timings.push(("journeys".to_owned(), started.elapsed().as_secs_f64() * 1e3));
        let settings =
            Settings { direct_channels: self.config.attribution.direct_channels.clone() };
        let mut report = AttributionReport::compute(
            "store".to_owned(),
            &journeys,
            stats,
            &request.models,
            &settings,
            request.skip_unsupported,
        )
        .map_err(|e| EngineError::Request(e.to_string()))?;
        let started = Instant::now();
        report.spend = self.spend_by_channel(&period).await?;
        timings.push(("spend".to_owned(), started.elapsed().as_secs_f64() * 1e3));
        timings.append(&mut report.timings);
        notes.append(&mut report.notes);
        report.notes = notes;
        report.timings = timings;
        report.target = Some(request.target.name().to_owned());
        report.period = Some((period.from, period.to.pred_opt().unwrap_or(period.to)));
        report.lookback_days = Some(lookback);
        Ok(report)
    }

    /// Media spend per channel over `period`, from the catalog's `ad_cost` (so it is the figure
    /// the reports show); `None` without ad spend data.
    async fn spend_by_channel(&self, period: &Period) -> Result<Option<BTreeMap<String, f64>>> {
        if !self.has_table("ad_spend") {
            return Ok(None);
        }
        let report = self
            .report(&ReportRequest {
                kpis: vec!["ad_cost".to_owned()],
                by: vec!["channel".to_owned()],
                grain: Some(crate::Grain::Total),
                period: Some(period.clone()),
                ..ReportRequest::default()
            })
            .await?;
        Ok(Some(
            report
                .rows
                .iter()
                .filter_map(|r| Some((r.dims.get("channel")?.clone(), r.value?)))
                .collect(),
        ))
    }

    /// The touches: `entity, is_contact, touch_at (µs), channel`. Sessions are the contact's when
    /// they carry its id or their visitor was identified as it on any session; else the visitor's.
    async fn touches(&self) -> Result<Option<DataFrame>> {
        let mut parts: Vec<DataFrame> = Vec::new();
        // Visitor → contact: the first contact any session or event of the visitor carries (a
        // form submit names both), so the visitor's anonymous sessions join the contact's journey.
        let mut pairs: Vec<DataFrame> = Vec::new();
        for (table, time) in [("sessions", "started_at"), ("events", "occurred_at")] {
            if self.has_table(table) {
                pairs.push(
                    self.ctx
                        .table(table)
                        .await?
                        .filter(
                            non_empty(col("contact_id"))
                                .is_not_null()
                                .and(non_empty(col("visitor_id")).is_not_null()),
                        )?
                        .select(vec![
                            non_empty(col("visitor_id")).alias("p_visitor"),
                            non_empty(col("contact_id")).alias("p_contact"),
                            col(time).alias("p_at"),
                        ])?,
                );
            }
        }
        let mut pairs = pairs.into_iter();
        let visitor_contact = match pairs.next() {
            Some(mut all) => {
                for p in pairs {
                    all = all.union(p)?;
                }
                // Ties (one visitor naming two contacts at the same instant) go to the least
                // contact id, wherever the rows are.
                let first_contact = first_value(
                    col("p_contact"),
                    vec![col("p_at").sort(true, false), col("p_contact").sort(true, false)],
                );
                Some(all.aggregate(
                    vec![col("p_visitor").alias("vc_visitor")],
                    vec![first_contact.alias("vc_contact")],
                )?)
            }
            None => None,
        };
        let identified = |df: DataFrame, time: &str, channel: Expr| -> Result<DataFrame> {
            let df = match &visitor_contact {
                Some(vc) => df.join_on(
                    vc.clone(),
                    JoinType::Left,
                    [non_empty(col("visitor_id")).eq(col("vc_visitor"))],
                )?,
                None => df.with_column("vc_contact", lit(ScalarValue::Utf8(None)))?,
            };
            let contact = coalesce(vec![non_empty(col("contact_id")), col("vc_contact")]);
            Ok(df
                .filter(
                    contact.clone().is_not_null().or(non_empty(col("visitor_id")).is_not_null()),
                )?
                .select(vec![
                    coalesce(vec![
                        contact.clone(),
                        concat(vec![lit("visitor:"), non_empty(col("visitor_id"))]),
                    ])
                    .alias("entity"),
                    contact.is_not_null().alias("is_contact"),
                    micros(col(time)).alias("touch_at"),
                    channel.alias("channel"),
                ])?)
        };
        if self.has_table("sessions") {
            let sessions =
                self.with_session_channel(self.ctx.table("sessions").await?, "__channel")?;
            parts.push(identified(sessions, "started_at", col("__channel"))?);
        }
        if self.has_table("_link_clicks") && self.has_table("_links") {
            // A click with no visitor or contact named is an anonymous visitor of its own.
            let links = self.ctx.table("_links").await?.select(vec![
                col("code").alias("l_code"),
                col("utm_source"),
                col("utm_medium"),
                col("utm_campaign"),
            ])?;
            let clicks = self
                .ctx
                .table("_link_clicks")
                .await?
                .join(links, JoinType::Inner, &["code"], &["l_code"], None)?
                .with_column(
                    "visitor_id",
                    coalesce(vec![
                        non_empty(col("visitor_id")),
                        concat(vec![lit("click:"), col("click_id")]),
                    ]),
                )?;
            // A click is grouped as a session is, from its link's UTM tags and its referrer
            // (a short link carries no ad click id).
            let clicks = self.with_session_channel(
                clicks.with_column("click_id_type", lit(ScalarValue::Utf8(None)))?,
                "__channel",
            )?;
            parts.push(identified(clicks, "clicked_at", col("__channel"))?);
        }
        let offline = &self.config.attribution.offline_events;
        if !offline.is_empty() && self.has_table("events") {
            let mut channel = case(lower(trim(vec![col("event_type")])));
            for (event_type, name) in offline {
                channel = channel.when(lit(event_type.to_ascii_lowercase()), lit(name.as_str()));
            }
            let channel = channel.otherwise(lit(ScalarValue::Utf8(None)))?;
            let events = self.ctx.table("events").await?.filter(channel.clone().is_not_null())?;
            parts.push(identified(events, "occurred_at", channel)?);
        }
        let mut parts = parts.into_iter();
        let Some(mut all) = parts.next() else { return Ok(None) };
        for part in parts {
            all = all.union(part)?;
        }
        Ok(Some(all))
    }

    /// The conversions of `target` in `period`: `c_key` (one per conversion), `c_entity`,
    /// `converted_at` (µs), `c_value`.
    async fn conversions(
        &self,
        target: &ConversionTarget,
        period: &Period,
    ) -> Result<Option<DataFrame>> {
        Ok(match target {
            ConversionTarget::Stage { name, .. } => {
                let Some(entries) = self.stage_entries_frame().await? else { return Ok(None) };
                Some(
                    entries
                        .filter(col("stage").eq(lit(name.as_str())))?
                        .filter(self.in_ranges("entered_at", true, &[(period.from, period.to)]))?
                        .select(vec![
                            col("entity_id").alias("c_key"),
                            col("entity_id").alias("c_entity"),
                            micros(col("entered_at")).alias("converted_at"),
                            lit(0.0).alias("c_value"),
                            lit(ScalarValue::Int64(None)).alias("c_opportunity_at"),
                        ])?,
                )
            }
            ConversionTarget::Revenue => {
                if !self.has_table("deals") {
                    return Ok(None);
                }
                Some(
                    self.ctx
                        .table("deals")
                        .await?
                        .filter(
                            lower(col("status")).eq(lit("won")).and(col("closed_at").is_not_null()),
                        )?
                        .filter(self.in_ranges("closed_at", true, &[(period.from, period.to)]))?
                        .select(vec![
                            cast(col("deal_id"), DataType::Utf8).alias("c_key"),
                            non_empty(col("contact_id")).alias("c_entity"),
                            micros(col("closed_at")).alias("converted_at"),
                            coalesce(vec![
                                cast(col("amount_reporting"), DataType::Float64),
                                lit(0.0),
                            ])
                            .alias("c_value"),
                            // The opportunity of a won deal is that deal's creation.
                            micros(col("created_at")).alias("c_opportunity_at"),
                        ])?,
                )
            }
        })
    }

    /// Entities that reached `target` before `end` (any time): `r_entity`.
    async fn reached(
        &self,
        target: &ConversionTarget,
        end: NaiveDate,
    ) -> Result<Option<DataFrame>> {
        let before = |column: &str| col(column).lt(lit(self.utc_midnight(end)));
        Ok(match target {
            ConversionTarget::Stage { name, .. } => match self.stage_entries_frame().await? {
                Some(entries) => Some(
                    entries
                        .filter(col("stage").eq(lit(name.as_str())).and(before("entered_at")))?
                        .aggregate(vec![col("entity_id").alias("r_entity")], vec![])?,
                ),
                None => None,
            },
            ConversionTarget::Revenue if self.has_table("deals") => Some(
                self.ctx
                    .table("deals")
                    .await?
                    .filter(lower(col("status")).eq(lit("won")).and(before("closed_at")))?
                    .filter(non_empty(col("contact_id")).is_not_null())?
                    .aggregate(vec![non_empty(col("contact_id")).alias("r_entity")], vec![])?,
            ),
            ConversionTarget::Revenue => None,
        })
    }

    async fn stage_entries_frame(&self) -> Result<Option<DataFrame>> {
        self.source_frame("stage_entries").await
    }

    /// Per contact: lead creation, opportunity creation (the funnel's `opportunity` stage when it
    /// has one, else the first deal) and the fallback channel of its `original_source`.
    async fn contact_milestones(&self) -> Result<Option<DataFrame>> {
        if !self.has_table("contacts") {
            return Ok(None);
        }
        let label =
            self.call("kpiflow_channel_of_label", vec![non_empty(col("original_source"))])?;
        let mut contacts = self.ctx.table("contacts").await?.select(vec![
            col("contact_id").alias("m_contact"),
            micros(col("created_at")).alias("lead_at"),
            coalesce(vec![label, lit("Unassigned")]).alias("fallback_channel"),
        ])?;
        let opportunity_stage = self.config.funnel.stages.iter().any(|s| s == "opportunity");
        let opportunities = if opportunity_stage {
            self.stage_entries_frame().await?.map(|e| {
                e.filter(col("stage").eq(lit("opportunity"))).and_then(|e| {
                    e.aggregate(
                        vec![col("entity_id").alias("o_contact")],
                        vec![min(micros(col("entered_at"))).alias("opportunity_at")],
                    )
                })
            })
        } else if self.has_table("deals") {
            Some(
                self.ctx
                    .table("deals")
                    .await?
                    .filter(non_empty(col("contact_id")).is_not_null())
                    .and_then(|d| {
                        d.aggregate(
                            vec![non_empty(col("contact_id")).alias("o_contact")],
                            vec![min(micros(col("created_at"))).alias("opportunity_at")],
                        )
                    }),
            )
        } else {
            None
        };
        contacts = match opportunities {
            Some(o) => contacts.join(o?, JoinType::Left, &["m_contact"], &["o_contact"], None)?,
            None => contacts.with_column("opportunity_at", lit(ScalarValue::Int64(None)))?,
        };
        Ok(Some(contacts))
    }

    async fn journeys(
        &self,
        target: &ConversionTarget,
        period: &Period,
        lookback_days: u32,
    ) -> Result<(Journeys, JourneyStats, Vec<String>)> {
        let mut notes = Vec::new();
        let mut journeys = Journeys::new(true);
        let mut stats = JourneyStats::default();
        let lookback = lookback_days as f64 * MICROS_PER_DAY;
        let (Some(touches), Some(conversions)) =
            (self.touches().await?, self.conversions(target, period).await?)
        else {
            notes.push(format!("no {} data: nothing to attribute", target.name()));
            return Ok((journeys, stats, notes));
        };
        let touches = self.keep(touches).await?;

        // Won deals without a contact cannot be tied to touches: say how many.
        let conversions = if *target == ConversionTarget::Revenue {
            let all = self.keep(conversions).await?;
            let orphan = all.clone().filter(col("c_entity").is_null())?.aggregate(
                vec![],
                vec![
                    datafusion::functions_aggregate::expr_fn::count(lit(1)).alias("n"),
                    datafusion::functions_aggregate::expr_fn::sum(col("c_value")).alias("v"),
                ],
            )?;
            // One row, in whichever batch holds it (a cluster returns one per partition).
            for batch in orphan.collect().await?.iter().filter(|b| b.num_rows() > 0) {
                let n = batch.column(0).as_primitive::<Int64Type>().value(0);
                if n > 0 {
                    let v = batch.column(1).as_primitive::<Float64Type>();
                    let v = if v.is_null(0) { 0.0 } else { v.value(0) };
                    notes.push(format!(
                        "{n} won deals (amount {v:.2}) have no contact_id, so no journey: left out"
                    ));
                }
            }
            all.filter(col("c_entity").is_not_null())?
        } else {
            conversions
        };

        // Converting journeys: every conversion, with its touches inside the window.
        let milestones = self.contact_milestones().await?;
        let conversions = match milestones {
            Some(m) => conversions.join(m, JoinType::Left, &["c_entity"], &["m_contact"], None)?,
            None => conversions
                .with_column("lead_at", lit(ScalarValue::Int64(None)))?
                .with_column("opportunity_at", lit(ScalarValue::Int64(None)))?
                .with_column("fallback_channel", lit("Unassigned"))?,
        };
        let window = col("touch_at").lt_eq(col("converted_at")).and(
            cast(col("touch_at"), DataType::Float64)
                .gt_eq(cast(col("converted_at"), DataType::Float64) - lit(lookback)),
        );
        let converting = conversions
            .join_on(touches.clone(), JoinType::Left, [col("c_entity").eq(col("entity")), window])?
            .select(vec![
                col("c_key").alias("key"),
                col("converted_at"),
                col("c_value").alias("value"),
                col("lead_at"),
                coalesce(vec![col("c_opportunity_at"), col("opportunity_at")])
                    .alias("opportunity_at"),
                col("touch_at"),
                coalesce(vec![col("channel"), col("fallback_channel")]).alias("channel"),
            ])?;
        let order = vec![
            col("key").sort(true, true),
            col("touch_at").sort(true, true),
            col("channel").sort(true, true),
        ];
        let is_revenue = *target == ConversionTarget::Revenue;
        let mut builder = JourneyBuilder::new(
            is_revenue,
            matches!(target, ConversionTarget::Stage { index: 0, .. }),
        );
        let mut stream = self.sorted_stream(converting, order).await?;
        while let Some(batch) = stream.next().await {
            builder.converting_batch(&batch?, &mut journeys, &mut stats)?;
        }
        builder.finish_converting(&mut journeys, &mut stats)?;

        // Journeys that did not convert: touches in the period, target not reached by its end.
        let in_period = col("touch_at")
            .gt_eq(lit(self.utc_midnight(period.from).cast_to(&DataType::Int64)?))
            .and(col("touch_at").lt(lit(self.utc_midnight(period.to).cast_to(&DataType::Int64)?)));
        let last = touches.clone().filter(in_period)?.aggregate(
            vec![col("entity").alias("l_entity")],
            vec![max(col("touch_at")).alias("last_at")],
        )?;
        let last = match self.reached(target, period.to).await? {
            Some(r) => last.join(r, JoinType::LeftAnti, &["l_entity"], &["r_entity"], None)?,
            None => last,
        };
        let window = col("touch_at").lt_eq(col("last_at")).and(
            cast(col("touch_at"), DataType::Float64)
                .gt_eq(cast(col("last_at"), DataType::Float64) - lit(lookback)),
        );
        let non_converting = last
            .join_on(touches, JoinType::Inner, [col("l_entity").eq(col("entity")), window])?
            .select(vec![col("entity"), col("touch_at"), col("last_at"), col("channel")])?;
        let order = vec![
            col("entity").sort(true, true),
            col("touch_at").sort(true, true),
            col("channel").sort(true, true),
        ];
        let mut stream = self.sorted_stream(non_converting, order).await?;
        let mut nulls = NullBuilder::default();
        while let Some(batch) = stream.next().await {
            nulls.batch(&batch?, &mut journeys, &mut stats)?;
        }
        nulls.finish(&mut journeys, &mut stats)?;
        if stats.conversions_without_touch > 0 {
            notes.push(format!(
                "{} conversions had no touch in the {lookback_days}-day window: credited to their original source's channel (Unassigned when empty)",
                stats.conversions_without_touch
            ));
        }
        if is_revenue {
            stats.value = Some(journeys.total_value());
        }
        Ok((journeys, stats, notes))
    }
}

fn internal(e: AttributionError) -> EngineError {
    EngineError::Internal(format!("journey: {e}"))
}

/// Cuts the sorted converting rows into journeys (one per entity and conversion time).
struct JourneyBuilder {
    is_revenue: bool,
    /// The target is the first stage (lead): the conversion is the lead's creation.
    target_is_lead: bool,
    /// The conversion being cut, and its time.
    current: Option<(String, i64)>,
    value: f64,
    lead_at: Option<i64>,
    opportunity_at: Option<i64>,
    touch_at: Vec<Option<i64>>,
    channels: Vec<ChannelId>,
}

impl JourneyBuilder {
    fn new(is_revenue: bool, target_is_lead: bool) -> JourneyBuilder {
        JourneyBuilder {
            is_revenue,
            target_is_lead,
            current: None,
            value: 0.0,
            lead_at: None,
            opportunity_at: None,
            touch_at: Vec::new(),
            channels: Vec::new(),
        }
    }

    fn converting_batch(
        &mut self,
        batch: &RecordBatch,
        journeys: &mut Journeys,
        stats: &mut JourneyStats,
    ) -> Result<()> {
        let strings = |i: usize| {
            kpiflow_store::store::as_strings(batch.column(i))
                .ok_or_else(|| EngineError::Internal(format!("journey column {i} is not text")))
        };
        let key = strings(0)?;
        let converted = batch.column(1).as_primitive::<Int64Type>();
        let value = batch.column(2).as_primitive::<Float64Type>();
        let lead = batch.column(3).as_primitive::<Int64Type>();
        let opportunity = batch.column(4).as_primitive::<Int64Type>();
        let touch = batch.column(5).as_primitive::<Int64Type>();
        let channel = strings(6)?;
        let opt = |a: &arrow::array::PrimitiveArray<Int64Type>, i: usize| {
            (!a.is_null(i)).then(|| a.value(i))
        };
        for i in 0..batch.num_rows() {
            if self.current.as_ref().is_none_or(|(k, _)| k != key.value(i)) {
                self.flush(journeys, stats)?;
                self.current = Some((key.value(i).to_owned(), converted.value(i)));
                self.value = if value.is_null(i) { 0.0 } else { value.value(i) };
                self.lead_at = opt(lead, i);
                self.opportunity_at = opt(opportunity, i);
            }
            self.touch_at.push(opt(touch, i));
            self.channels.push(journeys.channel_id(if channel.is_null(i) {
                "Unassigned"
            } else {
                channel.value(i)
            }));
        }
        Ok(())
    }

    fn flush(&mut self, journeys: &mut Journeys, stats: &mut JourneyStats) -> Result<()> {
        let Some((_, converted_at)) = self.current.take() else { return Ok(()) };
        let touchless = self.touch_at.iter().all(Option::is_none);
        if touchless {
            stats.conversions_without_touch += 1;
            self.channels.truncate(1);
            self.touch_at = vec![Some(converted_at)];
        }
        let ages: Vec<f64> = self
            .touch_at
            .iter()
            .map(|t| (converted_at - t.unwrap_or(converted_at)).max(0) as f64 / MICROS_PER_DAY)
            .collect();
        // The milestone touch: the last touch at or before the milestone, when the milestone is
        // part of this journey (at or before the conversion).
        let last_before = |at: Option<i64>| -> Option<u32> {
            let at = at.filter(|&a| a <= converted_at)?;
            self.touch_at.iter().rposition(|t| t.is_some_and(|t| t <= at)).map(|i| i as u32)
        };
        let lead_at = if self.target_is_lead { Some(converted_at) } else { self.lead_at };
        let milestones = Milestones {
            lead: last_before(lead_at),
            opportunity: last_before(self.opportunity_at),
            known: true,
        };
        let value = if self.is_revenue { self.value } else { 0.0 };
        journeys
            .push(&self.channels, Some(&ages), milestones, 1.0, value, 0.0)
            .map_err(internal)?;
        stats.converting_journeys += 1;
        stats.conversions += 1.0;
        stats.touches += self.channels.len() as u64;
        self.touch_at.clear();
        self.channels.clear();
        Ok(())
    }

    fn finish_converting(
        &mut self,
        journeys: &mut Journeys,
        stats: &mut JourneyStats,
    ) -> Result<()> {
        self.flush(journeys, stats)
    }
}

/// Cuts the sorted non-converting rows into one journey per entity.
#[derive(Default)]
struct NullBuilder {
    current: Option<String>,
    last_at: i64,
    touch_at: Vec<i64>,
    channels: Vec<ChannelId>,
}

impl NullBuilder {
    fn batch(
        &mut self,
        batch: &RecordBatch,
        journeys: &mut Journeys,
        stats: &mut JourneyStats,
    ) -> Result<()> {
        let strings = |i: usize| {
            kpiflow_store::store::as_strings(batch.column(i))
                .ok_or_else(|| EngineError::Internal(format!("journey column {i} is not text")))
        };
        let entity = strings(0)?;
        let touch = batch.column(1).as_primitive::<Int64Type>();
        let last = batch.column(2).as_primitive::<Int64Type>();
        let channel = strings(3)?;
        for i in 0..batch.num_rows() {
            if self.current.as_deref() != Some(entity.value(i)) {
                self.finish(journeys, stats)?;
                self.current = Some(entity.value(i).to_owned());
                self.last_at = last.value(i);
            }
            self.touch_at.push(touch.value(i));
            self.channels.push(journeys.channel_id(if channel.is_null(i) {
                "Unassigned"
            } else {
                channel.value(i)
            }));
        }
        Ok(())
    }

    fn finish(&mut self, journeys: &mut Journeys, stats: &mut JourneyStats) -> Result<()> {
        if self.current.take().is_none() {
            return Ok(());
        }
        let ages: Vec<f64> = self
            .touch_at
            .iter()
            .map(|t| (self.last_at - t).max(0) as f64 / MICROS_PER_DAY)
            .collect();
        journeys
            .push(&self.channels, Some(&ages), Milestones::default(), 0.0, 0.0, 1.0)
            .map_err(internal)?;
        stats.non_converting_journeys += 1;
        stats.non_conversions += 1.0;
        stats.touches += self.channels.len() as u64;
        self.touch_at.clear();
        self.channels.clear();
        Ok(())
    }
}
