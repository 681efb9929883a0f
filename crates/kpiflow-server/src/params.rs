//! Query parameters, parsed then resolved: the same rules for the API and the dashboard, so a
//! dashboard URL and an API call with the same parameters ask the engine the same question.
//!
//! Every parameter is text on the wire and parsed here (not by serde), so an error names the
//! parameter, the value and what was expected. Empty values (an untouched form field) count as
//! absent. Any parameter that is not a setting is a filter `dimension=value`; a name that is
//! neither gets a "did you mean".

use std::collections::BTreeMap;

use kpiflow_attribution::ModelSpec;
use kpiflow_catalog::Catalog;
use kpiflow_engine::attribution::{AttributionRequest, ConversionTarget};
use kpiflow_engine::funnel::{CountBy, FunnelMode, FunnelRequest};
use kpiflow_engine::{Calendar, Compare, Grain, Period, RateKind, ReportRequest};
use kpiflow_model::UnknownName;

use crate::error::{ApiError, ApiResult};

/// Raw parameters, non-empty values only.
#[derive(Debug, Clone, Default)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    pub fn new(raw: BTreeMap<String, String>) -> Params {
        Params(
            raw.into_iter()
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .filter(|(_, v)| !v.is_empty())
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn take(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }

    /// A parameter nothing has taken yet (to refuse it by name).
    pub fn leftover(&self) -> Option<&str> {
        self.0.keys().next().map(String::as_str)
    }

    /// A comma-separated list.
    pub fn list(&mut self, key: &str) -> Vec<String> {
        self.take(key)
            .map(|v| {
                v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
            })
            .unwrap_or_default()
    }

    /// `true`/`false`, also `1`/`0`, `yes`/`no`, `on` (an HTML checkbox).
    pub fn flag(&mut self, key: &str) -> ApiResult<bool> {
        match self.take(key).as_deref() {
            None => Ok(false),
            Some("true" | "1" | "yes" | "on") => Ok(true),
            Some("false" | "0" | "no" | "off") => Ok(false),
            Some(v) => Err(ApiError::bad_request(format!(
                "parameter `{key}`: `{v}` is not a yes/no value; expected true or false"
            ))),
        }
    }

    pub fn number(
        &mut self,
        key: &str,
        range: std::ops::RangeInclusive<u32>,
    ) -> ApiResult<Option<u32>> {
        let Some(v) = self.take(key) else { return Ok(None) };
        v.parse::<u32>().ok().filter(|n| range.contains(n)).map(Some).ok_or_else(|| {
            ApiError::bad_request(format!(
                "parameter `{key}`: `{v}` is not a whole number from {} to {}",
                range.start(),
                range.end()
            ))
        })
    }

    /// `period` (2025, 2025-Q1, 2025-03, 2025-W05, 2025-03-14, FY2026, FY2026-Q1), or `from` and
    /// `to` (dates, both inclusive).
    pub fn period(&mut self, calendar: &Calendar) -> ApiResult<Option<Period>> {
        let (period, from, to) = (self.take("period"), self.take("from"), self.take("to"));
        match (period, from, to) {
            (Some(p), None, None) => Period::parse(&p, calendar)
                .map(Some)
                .map_err(|e| ApiError::bad_request(format!("parameter `period`: {e}"))),
            (Some(_), _, _) => {
                Err(ApiError::bad_request("give either `period` or `from` and `to`, not both"))
            }
            (None, Some(from), Some(to)) => {
                let date = |key: &str, v: &str| {
                    v.parse::<chrono::NaiveDate>().map_err(|_| {
                        ApiError::bad_request(format!(
                            "parameter `{key}`: `{v}` is not a date; expected YYYY-MM-DD"
                        ))
                    })
                };
                Period::between(date("from", &from)?, date("to", &to)?)
                    .map(Some)
                    .map_err(|e| ApiError::bad_request(format!("parameters `from`/`to`: {e}")))
            }
            (None, Some(_), None) | (None, None, Some(_)) => {
                Err(ApiError::bad_request("`from` and `to` go together: give both"))
            }
            (None, None, None) => Ok(None),
        }
    }

    pub fn grain(&mut self) -> ApiResult<Option<Grain>> {
        let Some(v) = self.take("grain") else { return Ok(None) };
        let wanted = v.replace('-', "_");
        Grain::ALL.iter().copied().find(|g| g.name() == wanted).map(Some).ok_or_else(|| {
            UnknownName::new("grain", &v, Grain::ALL.iter().map(|g| g.name())).into()
        })
    }

    pub fn compare(&mut self) -> ApiResult<Option<Compare>> {
        match self.take("compare").as_deref() {
            None | Some("none") => Ok(None),
            Some("previous") => Ok(Some(Compare::Previous)),
            Some("yoy") => Ok(Some(Compare::YearOverYear)),
            Some(v) => Err(UnknownName::new("comparison", v, ["previous", "yoy", "none"]).into()),
        }
    }

    pub fn rate(&mut self) -> ApiResult<RateKind> {
        match self.take("rate").as_deref() {
            None | Some("period") => Ok(RateKind::Period),
            Some("cohort") => Ok(RateKind::Cohort),
            Some(v) => Err(UnknownName::new("rate kind", v, ["period", "cohort"]).into()),
        }
    }

    /// What is left: filters on dimensions the catalog knows. `allowed` names the settings the
    /// caller took, for the "did you mean" of a misspelt one.
    pub fn filters(self, catalog: &Catalog, allowed: &[&str]) -> ApiResult<Vec<(String, String)>> {
        let dims = dimensions(catalog);
        let mut out = Vec::new();
        for (key, value) in self.0 {
            if !dims.contains(&key.as_str()) {
                let names: Vec<&str> =
                    allowed.iter().copied().chain(dims.iter().copied()).collect();
                return Err(UnknownName::new("parameter or dimension", &key, names).into());
            }
            out.push((key, value));
        }
        Ok(out)
    }
}

/// Every dimension some KPI can be split or filtered by.
pub fn dimensions(catalog: &Catalog) -> Vec<&'static str> {
    let mut dims: Vec<&'static str> =
        catalog.kpis.iter().flat_map(|k| k.dimensions.iter().copied()).collect();
    dims.sort_unstable();
    dims.dedup();
    dims
}

/// Settings of a report query (the rest are filters).
pub const REPORT_PARAMS: &[&str] =
    &["kpi", "all", "by", "grain", "period", "from", "to", "compare", "rate", "window"];

/// A report request from query parameters: `kpi` and `by` are comma-separated lists.
pub fn report_request(
    mut p: Params,
    catalog: &Catalog,
    calendar: &Calendar,
) -> ApiResult<ReportRequest> {
    Ok(ReportRequest {
        kpis: p.list("kpi"),
        all: p.flag("all")?,
        by: p.list("by"),
        grain: p.grain()?,
        period: p.period(calendar)?,
        compare: p.compare()?,
        rate: p.rate()?,
        window_days: Some(p.number("window", 1..=3650)?.unwrap_or(90)),
        filters: p.filters(catalog, REPORT_PARAMS)?,
    })
}

/// Settings of a funnel query (the rest are filters).
pub const FUNNEL_PARAMS: &[&str] = &["period", "from", "to", "mode", "window", "by", "count"];

pub fn funnel_request(
    mut p: Params,
    catalog: &Catalog,
    calendar: &Calendar,
) -> ApiResult<FunnelRequest> {
    let mode = match p.take("mode").as_deref() {
        None | Some("ordered") => FunnelMode::Ordered,
        Some("any") => FunnelMode::AnyOrder,
        Some(v) => return Err(UnknownName::new("funnel mode", v, ["ordered", "any"]).into()),
    };
    let count_by = match p.take("count").as_deref() {
        None | Some("contact") => CountBy::Contact,
        Some("account") => CountBy::Account,
        Some(v) => return Err(UnknownName::new("funnel unit", v, ["contact", "account"]).into()),
    };
    Ok(FunnelRequest {
        period: p.period(calendar)?,
        mode,
        window_days: Some(p.number("window", 1..=3650)?.unwrap_or(90)),
        by: p.take("by"),
        count_by,
        filters: p.filters(catalog, FUNNEL_PARAMS)?,
    })
}

/// Settings of an attribution query (it takes no filters).
pub const ATTRIBUTION_PARAMS: &[&str] =
    &["conversion", "model", "period", "from", "to", "lookback"];

/// An attribution request: `conversion` (a funnel stage or `revenue`, default `lead`), `model`
/// (comma-separated specs or `all`, default `default_models`), the period, `lookback` days.
pub fn attribution_request(
    mut p: Params,
    stages: &[String],
    calendar: &Calendar,
    default_models: &str,
) -> ApiResult<AttributionRequest> {
    let target =
        ConversionTarget::parse(p.take("conversion").as_deref().unwrap_or("lead"), stages)?;
    let models = p.take("model").unwrap_or_else(|| default_models.to_owned());
    let specs = ModelSpec::parse_list(&models)
        .map_err(|e| ApiError::bad_request(format!("parameter `model`: {e}")))?;
    let request = AttributionRequest {
        target,
        period: p.period(calendar)?,
        lookback_days: p.number("lookback", 1..=3650)?,
        models: specs,
        skip_unsupported: models.trim().eq_ignore_ascii_case("all"),
    };
    if let Some(key) = p.0.keys().next() {
        return Err(UnknownName::new("parameter", key, ATTRIBUTION_PARAMS.iter().copied()).into());
    }
    Ok(request)
}
