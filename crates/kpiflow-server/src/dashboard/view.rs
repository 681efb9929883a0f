//! The filters of a dashboard view, from the URL, and the queries pages make with them.

use std::collections::BTreeMap;

use chrono::Months;
use kpiflow_attribution::ModelSpec;
use kpiflow_catalog::Catalog;
use kpiflow_engine::attribution::ConversionTarget;
use kpiflow_engine::{Compare, Engine, Grain, Period, RateKind, Report, ReportRequest};

use super::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::params::{self, Params};

/// Dimensions the filter bar offers (any other dimension works in the URL too).
pub const FILTER_DIMS: &[&str] = &["channel", "campaign", "region", "segment", "business_unit"];

/// Settings of a view besides filters.
const VIEW_PARAMS: &[&str] =
    &["period", "from", "to", "compare", "grain", "vanity", "model", "conversion"];

/// One view: period, comparison, trend grain, filters, vanity toggle.
#[derive(Debug, Clone)]
pub struct View {
    pub period: Period,
    /// The comparison of tiles and tables (`previous` unless `compare=none`).
    pub compare: Option<Compare>,
    /// The grain of trend charts (month unless asked).
    pub grain: Grain,
    pub filters: Vec<(String, String)>,
    pub vanity: bool,
    /// The attribution model the Channels page credits leads, customers and revenue by
    /// (`None`: each contact's own channel, first touch).
    pub model: Option<ModelSpec>,
    /// What the Attribution page's journeys end at (`lead` unless asked).
    pub conversion: ConversionTarget,
    /// The Plan page's knobs (`won_revenue`, `customers`, `plan_period`, rates by id), as given.
    pub plan: BTreeMap<String, String>,
    /// The parameters as given (non-empty), to fill the form and build links.
    pub params: BTreeMap<String, String>,
}

impl View {
    pub async fn parse(
        raw: BTreeMap<String, String>,
        engine: &Engine,
        catalog: &Catalog,
    ) -> ApiResult<View> {
        let mut p = Params::new(raw);
        // The Plan page's knobs are settings, not filters.
        let mut plan = BTreeMap::new();
        for k in crate::api::tracking::plan_params(&engine.config().funnel.stages) {
            if let Some(v) = p.take(&k) {
                plan.insert(k, v);
            }
        }
        let mut given: BTreeMap<String, String> = VIEW_PARAMS
            .iter()
            .chain(params::dimensions(catalog).iter())
            .filter_map(|k| p.get(k).map(|v| ((*k).to_owned(), v.to_owned())))
            .collect();
        given.extend(plan.clone());
        let period = p.period(&engine.calendar())?;
        let compare = match p.get("compare") {
            None => {
                p.take("compare");
                Some(Compare::Previous)
            }
            Some(_) => p.compare()?,
        };
        let grain = p.grain()?.unwrap_or(Grain::Month);
        if grain == Grain::Total {
            return Err(ApiError::bad_request(
                "parameter `grain`: trends need a grain such as month or week, not total",
            ));
        }
        let vanity = p.flag("vanity")?;
        let model = match p.take("model") {
            None => None,
            Some(m) => Some(
                ModelSpec::parse(&m)
                    .map_err(|e| ApiError::bad_request(format!("parameter `model`: {e}")))?,
            ),
        };
        let conversion = ConversionTarget::parse(
            p.take("conversion").as_deref().unwrap_or("lead"),
            &engine.config().funnel.stages,
        )?;
        let filters = p.filters(catalog, VIEW_PARAMS)?;
        let period = match period {
            Some(period) => period,
            None => engine.default_period().await?,
        };
        Ok(View { period, compare, grain, filters, vanity, model, conversion, plan, params: given })
    }

    /// This view's URL for a page, with some parameters changed (`None` removes one).
    pub fn href(&self, slug: &str, changes: &[(&str, Option<&str>)]) -> String {
        let mut params = self.params.clone();
        for (k, v) in changes {
            match v {
                Some(v) => params.insert((*k).to_owned(), (*v).to_owned()),
                None => params.remove(*k),
            };
        }
        let query =
            url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
        let path = format!("/{slug}");
        if query.is_empty() { path } else { format!("{path}?{query}") }
    }

    /// The query string of this view (for download links).
    pub fn query(&self) -> String {
        let href = self.href("", &[]);
        href.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default()
    }

    /// The trailing trend window: 12 buckets of the grain ending with the period (12 months,
    /// 12 weeks, ...), so a sparkline has history even for a one-month view.
    pub fn trend_period(&self) -> Period {
        let to = self.period.to;
        let from = match self.grain {
            Grain::Day => to - chrono::Duration::days(30),
            Grain::Week => to - chrono::Duration::weeks(12),
            Grain::Month => to.checked_sub_months(Months::new(12)).unwrap_or(self.period.from),
            Grain::Quarter | Grain::FiscalQuarter => {
                to.checked_sub_months(Months::new(36)).unwrap_or(self.period.from)
            }
            Grain::Year | Grain::FiscalYear | Grain::Total => {
                to.checked_sub_months(Months::new(60)).unwrap_or(self.period.from)
            }
        };
        let from = from.min(self.period.from);
        Period { from, to, label: format!("{from}..{}", to.pred_opt().unwrap_or(to)) }
    }
}

/// A report with the view's filters, over the KPIs that can take them.
#[derive(Debug)]
pub struct Values {
    pub report: Option<Report>,
    /// KPIs left out, with why.
    pub unavailable: Vec<(String, String)>,
}

impl Values {
    /// A KPI's value in a bucket and split (`dims` as (dimension, value) pairs).
    pub fn row(
        &self,
        kpi: &str,
        period_start: Option<chrono::NaiveDate>,
        dims: &[(&str, &str)],
    ) -> Option<&kpiflow_engine::ReportRow> {
        self.report.as_ref()?.rows.iter().find(|r| {
            r.kpi == kpi
                && period_start.is_none_or(|p| r.period_start == p)
                && dims.iter().all(|(d, v)| r.dims.get(*d).map(String::as_str) == Some(*v))
        })
    }

    pub fn kpi(&self, id: &str) -> Option<&kpiflow_engine::report::ReportKpi> {
        self.report.as_ref()?.kpis.iter().find(|k| k.id == id)
    }

    pub fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> =
            self.report.iter().flat_map(|r| r.warnings.iter().cloned()).collect();
        for (kpi, why) in &self.unavailable {
            out.push(format!("{kpi}: {why}"));
        }
        out
    }

    pub fn why_missing(&self, kpi: &str) -> Option<String> {
        if let Some((_, why)) = self.unavailable.iter().find(|(k, _)| k == kpi) {
            return Some(why.clone());
        }
        let k = self.kpi(kpi)?;
        (!k.has_data).then(|| "no data: its tables are not imported".to_owned())
    }
}

impl Ctx {
    /// `kpis` split `by`, per `grain` over `period` (the view's when `None`), compared as the
    /// view says when `compare`. KPIs that lack a filtered or split dimension are left out and
    /// listed, rather than failing the page.
    pub async fn values(
        &self,
        kpis: &[&str],
        by: &[&str],
        grain: Grain,
        period: Option<Period>,
        compare: bool,
    ) -> ApiResult<Values> {
        let catalog = self.state.catalog();
        let mut chosen = Vec::new();
        let mut unavailable = Vec::new();
        for id in kpis {
            let k = catalog.resolve_kpi(id)?;
            let lacking = by
                .iter()
                .copied()
                .chain(self.view.filters.iter().map(|(d, _)| d.as_str()))
                .find(|d| !k.dimensions.contains(d));
            match lacking {
                Some(d) => {
                    unavailable.push((k.id.clone(), format!("cannot be split or filtered by {d}")))
                }
                None => chosen.push(k.id.clone()),
            }
        }
        if chosen.is_empty() {
            return Ok(Values { report: None, unavailable });
        }
        let request = ReportRequest {
            kpis: chosen,
            all: false,
            by: by.iter().map(|d| (*d).to_owned()).collect(),
            grain: Some(grain),
            period: Some(period.unwrap_or_else(|| self.view.period.clone())),
            filters: self.view.filters.clone(),
            compare: if compare { self.view.compare } else { None },
            rate: RateKind::Period,
            window_days: None,
        };
        let report = self.engine.report(&request).await?;
        Ok(Values { report: Some(report), unavailable })
    }
}
