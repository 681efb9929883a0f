//! The reverse-funnel plan (DESIGN §7): from a revenue (or customers) target, back through the
//! funnel's stages to the leads, sessions and media budget the period needs.
//!
//! won deals = revenue ÷ average deal size; new customers = won deals ÷ won deals per new customer
//! (a customer may win several deals, and the funnel counts customers); each earlier stage = the
//! next stage ÷ the conversion rate between them; sessions = leads ÷ the session-to-lead rate; media budget = leads × cost
//! per lead. Rates are trailing period ratios (entries into the later stage ÷ entries into the
//! earlier one over the trailing window: in a steady funnel, the share that converts), unless a
//! rates file or `--set` gives them; each rate carries its source. A rate of zero or without data
//! makes the stages above it unreachable: the plan says which rate and why instead of dividing
//! by zero. The period's needs are split over its quarters by each row's own share of the same
//! quarters a year earlier (evenly by days without that history).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kpiflow_model::UnknownName;
use kpiflow_model::time::{Calendar, Period};
use serde::Serialize;

use crate::ratio;
use crate::slices::Slice;

/// What the plan starts from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum PlanTarget {
    /// Won revenue in the reporting currency (`won_revenue=…`).
    WonRevenue(f64),
    /// New customers (`customers=…`).
    Customers(f64),
}

impl PlanTarget {
    /// Parses `won_revenue=2000000` or `customers=120`.
    pub fn parse(text: &str) -> Result<PlanTarget, String> {
        let (name, value) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}`: expected won_revenue=AMOUNT or customers=COUNT"))?;
        let value: f64 = value
            .trim()
            .replace('_', "")
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v > 0.0)
            .ok_or_else(|| format!("`{text}`: the target must be a number above 0"))?;
        match name.trim() {
            "won_revenue" | "revenue" => Ok(PlanTarget::WonRevenue(value)),
            "customers" | "closed_won_deals" => Ok(PlanTarget::Customers(value)),
            other => {
                let hint =
                    kpiflow_model::suggest::did_you_mean(other, ["won_revenue", "customers"])
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                Err(format!(
                    "`{other}` cannot be planned from{hint}; expected won_revenue or customers"
                ))
            }
        }
    }

    pub fn value(self) -> f64 {
        match self {
            PlanTarget::WonRevenue(v) | PlanTarget::Customers(v) => v,
        }
    }
}

/// The trailing figures a plan is built from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlanInputs {
    /// The funnel's stages, first to last.
    pub stages: Vec<String>,
    /// The trailing window (`2025-11..2026-10`) and its length in days.
    pub window: String,
    pub window_days: i64,
    /// Entries into each stage over the window.
    pub stage_counts: Vec<Option<f64>>,
    pub sessions: Option<f64>,
    pub won_revenue: Option<f64>,
    pub won_deals: Option<f64>,
    pub ad_cost: Option<f64>,
    /// Per row id (`sessions`, a stage, `won_revenue`, `ad_cost`): its value in each quarter of
    /// the plan a year earlier, for the seasonal split.
    pub seasonal: BTreeMap<String, Vec<Option<f64>>>,
    /// What the seasonal history covers (`FY2025`).
    pub seasonal_label: String,
}

/// A rate given instead of the trailing one.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub name: String,
    pub value: f64,
    /// Where it came from (`--set`, `rates.toml`).
    pub source: String,
}

/// A rate of the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanRate {
    pub id: String,
    pub label: String,
    pub value: Option<f64>,
    /// The trailing value, also when overridden.
    pub trailing: Option<f64>,
    /// `trailing 2025-11..2026-10: 812 SQLs ÷ 2,031 MQLs`, `--set`, `rates.toml`.
    pub source: String,
    pub overridden: bool,
}

/// A row of the plan: what the period needs at one step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanRow {
    /// `sessions`, a stage name, `won_revenue` or `ad_cost`.
    pub id: String,
    pub label: String,
    /// The catalog KPI that counts it (for goals), when there is one.
    pub kpi: Option<String>,
    pub needed: Option<f64>,
    /// Over the trailing window.
    pub trailing: Option<f64>,
    /// The trailing figure scaled to the plan period's length.
    pub trailing_same_length: Option<f64>,
    /// needed ÷ trailing_same_length − 1.
    pub change: Option<f64>,
    /// Per quarter of the plan.
    pub quarters: Vec<Option<f64>>,
    /// Whether the quarters follow last year's seasonality (else even by days).
    pub seasonal: bool,
}

/// A reverse-funnel plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub target: PlanTarget,
    pub period: String,
    pub period_from: NaiveDate,
    /// Last day included.
    pub period_to: NaiveDate,
    pub window: String,
    pub quarters: Vec<String>,
    pub rows: Vec<PlanRow>,
    pub rates: Vec<PlanRate>,
    /// False when a rate on the way is zero or unknown: the rows above it are empty.
    pub reachable: bool,
    pub problems: Vec<String>,
    pub notes: Vec<String>,
}

/// A needed count as a whole number: rounded up, after dropping floating-point dust (876.0000001
/// leads is 876, not 877).
pub fn whole(v: f64) -> f64 {
    ((v * 1e6).round() / 1e6).ceil()
}

/// The KPI of the built-in catalog that counts entries into a default stage.
pub fn stage_kpi(stage: &str) -> Option<&'static str> {
    match stage {
        "lead" => Some("leads"),
        "mql" => Some("mqls"),
        "sql" => Some("sqls"),
        "opportunity" => Some("sqos"),
        "customer" => Some("customers"),
        _ => None,
    }
}

fn plural(stage: &str) -> String {
    match stage {
        "lead" => "leads".into(),
        "mql" => "MQLs".into(),
        "sql" => "SQLs".into(),
        "opportunity" => "opportunities (SQOs)".into(),
        "customer" => "new customers".into(),
        other => format!("{other} entries"),
    }
}

/// A rate the plan uses: its id, what it converts, and the rows it links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateDef {
    pub id: String,
    pub label: String,
    /// Aliases also accepted by `--set` (the catalog's names).
    pub aliases: Vec<String>,
}

/// The rates of a plan over `stages`, in the order they are shown.
pub fn rate_defs(stages: &[String]) -> Vec<RateDef> {
    let mut out = Vec::new();
    if let Some(first) = stages.first() {
        out.push(RateDef {
            id: format!("session_to_{first}_rate"),
            label: format!("sessions → {}", plural(first)),
            aliases: vec![],
        });
    }
    for pair in stages.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let mut aliases = vec![];
        if a == "sql" && b == "opportunity" {
            aliases.push("sql_to_sqo_rate".to_owned());
        }
        if b == "customer" || Some(b) == stages.last() {
            aliases.push("win_rate".to_owned());
        }
        out.push(RateDef {
            id: format!("{a}_to_{b}_rate"),
            label: format!("{} → {}", plural(a), plural(b)),
            aliases,
        });
    }
    out.push(RateDef {
        id: "deals_per_customer".into(),
        label: "won deals per new customer".into(),
        aliases: vec![],
    });
    out.push(RateDef {
        id: "avg_deal_size".into(),
        label: "average deal size".into(),
        aliases: vec![],
    });
    out.push(RateDef { id: "cpl".into(), label: "media cost per lead".into(), aliases: vec![] });
    out
}

/// Checks an override's name (aliases resolve to the plan's own name) and value.
pub fn resolve_override(stages: &[String], name: &str, value: f64) -> Result<String, String> {
    let defs = rate_defs(stages);
    let name = name.trim();
    let def =
        defs.iter().find(|d| d.id == name || d.aliases.iter().any(|a| a == name)).ok_or_else(
            || UnknownName::new("plan rate", name, defs.iter().map(|d| d.id.as_str())).to_string(),
        )?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("`{name}` = {value}: expected a number >= 0"));
    }
    if def.id == "deals_per_customer" && value == 0.0 {
        return Err(format!("`{name}` = 0: a new customer wins at least a part of a deal"));
    }
    if def.id.ends_with("_rate") && value > 1.0 {
        return Err(format!(
            "`{name}` = {value}: a conversion rate is a fraction (0.25 for 25 %), at most 1"
        ));
    }
    Ok(def.id.clone())
}

fn count(v: f64) -> String {
    let rounded = (v * 100.0).round() / 100.0;
    let whole = rounded.trunc();
    let digits = (whole.abs() as u64).to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if rounded < 0.0 {
        out.insert(0, '-');
    }
    let cents = ((rounded - whole).abs() * 100.0).round() as u64;
    if cents > 0 { format!("{out}.{cents:02}") } else { out }
}

/// Splits `total` over `quarters` by `history` (the same quarters a year earlier), or evenly by
/// days; returns the parts and whether they are seasonal.
fn split(
    total: Option<f64>,
    quarters: &[Slice],
    history: Option<&Vec<Option<f64>>>,
) -> (Vec<Option<f64>>, bool) {
    let Some(total) = total else { return (vec![None; quarters.len()], false) };
    let seasonal: Option<Vec<f64>> = history
        .filter(|h| h.len() == quarters.len())
        .and_then(|h| h.iter().map(|v| v.filter(|x| x.is_finite() && *x >= 0.0)).collect());
    match seasonal {
        Some(w) if w.iter().sum::<f64>() > 0.0 => {
            let sum: f64 = w.iter().sum();
            (w.iter().map(|x| Some(total * x / sum)).collect(), true)
        }
        _ => {
            let days: i64 = quarters.iter().map(Slice::days).sum::<i64>().max(1);
            (quarters.iter().map(|q| Some(total * q.days() as f64 / days as f64)).collect(), false)
        }
    }
}

/// Builds the plan for `target` over `period`, cut into `quarters`.
pub fn plan(
    target: PlanTarget,
    period: &Period,
    quarters: &[Slice],
    inputs: &PlanInputs,
    overrides: &[Override],
) -> Plan {
    let stages = &inputs.stages;
    let defs = rate_defs(stages);
    let window = &inputs.window;
    let count_of = |i: usize| inputs.stage_counts.get(i).copied().flatten();
    let fmt = |v: Option<f64>| v.map(count).unwrap_or_else(|| "no data".into());

    // Trailing rates with their evidence.
    let mut rates: Vec<PlanRate> = Vec::new();
    for def in &defs {
        let last = stages.len() - 1;
        let (trailing, evidence) = if def.id == "deals_per_customer" {
            (
                ratio(inputs.won_deals, count_of(last)),
                format!(
                    "{} won deals ÷ {} {}",
                    fmt(inputs.won_deals),
                    fmt(count_of(last)),
                    plural(&stages[last])
                ),
            )
        } else if def.id == "avg_deal_size" {
            (
                ratio(inputs.won_revenue, inputs.won_deals),
                format!(
                    "{} won revenue ÷ {} won deals",
                    fmt(inputs.won_revenue),
                    fmt(inputs.won_deals)
                ),
            )
        } else if def.id == "cpl" {
            (
                ratio(inputs.ad_cost, count_of(0)),
                format!(
                    "{} media cost ÷ {} {}",
                    fmt(inputs.ad_cost),
                    fmt(count_of(0)),
                    plural(&stages[0])
                ),
            )
        } else if def.id.starts_with("session_to_") {
            (
                ratio(count_of(0), inputs.sessions),
                format!(
                    "{} {} ÷ {} sessions",
                    fmt(count_of(0)),
                    plural(&stages[0]),
                    fmt(inputs.sessions)
                ),
            )
        } else {
            let i = stages
                .windows(2)
                .position(|p| def.id == format!("{}_to_{}_rate", p[0], p[1]))
                .unwrap_or(0);
            (
                ratio(count_of(i + 1), count_of(i)),
                format!(
                    "{} {} ÷ {} {}",
                    fmt(count_of(i + 1)),
                    plural(&stages[i + 1]),
                    fmt(count_of(i)),
                    plural(&stages[i])
                ),
            )
        };
        let over = overrides.iter().rev().find(|o| o.name == def.id);
        rates.push(PlanRate {
            id: def.id.clone(),
            label: def.label.clone(),
            value: over.map(|o| o.value).or(trailing),
            trailing,
            source: match over {
                Some(o) => o.source.clone(),
                None => format!("trailing {window}: {evidence}"),
            },
            overridden: over.is_some(),
        });
    }
    let rate = |id: &str| rates.iter().find(|r| r.id == id).and_then(|r| r.value);
    let mut problems = Vec::new();
    let why = |id: &str, what: &str, problems: &mut Vec<String>| {
        let r = rates.iter().find(|r| r.id == id);
        let value = r.and_then(|r| r.value);
        let source = r.map(|r| r.source.clone()).unwrap_or_default();
        problems.push(match value {
            Some(_) => format!(
                "{what} cannot be planned: `{id}` is 0 ({source}); set it with --set {id}=VALUE"
            ),
            None => format!(
                "{what} cannot be planned: `{id}` has no value ({source}); set it with --set {id}=VALUE"
            ),
        });
    };
    let usable = |v: Option<f64>| v.filter(|x| *x > 0.0 && x.is_finite());

    // Backwards from the target.
    let n = stages.len();
    let mut needed: Vec<Option<f64>> = vec![None; n];
    let mut won_deals = None;
    let revenue = match target {
        PlanTarget::WonRevenue(r) => {
            match usable(rate("avg_deal_size")) {
                Some(size) => won_deals = Some(r / size),
                None => why("avg_deal_size", "won deals", &mut problems),
            }
            if won_deals.is_some() {
                match usable(rate("deals_per_customer")) {
                    Some(per) => needed[n - 1] = won_deals.map(|d| d / per),
                    None => why("deals_per_customer", &plural(&stages[n - 1]), &mut problems),
                }
            }
            Some(r)
        }
        PlanTarget::Customers(c) => {
            needed[n - 1] = Some(c);
            won_deals = usable(rate("deals_per_customer")).map(|per| c * per);
            won_deals.and_then(|d| usable(rate("avg_deal_size")).map(|s| d * s))
        }
    };
    for i in (0..n - 1).rev() {
        let id = format!("{}_to_{}_rate", stages[i], stages[i + 1]);
        needed[i] = match (needed[i + 1], usable(rate(&id))) {
            (Some(next), Some(r)) => Some(next / r),
            (Some(_), None) => {
                why(&id, &plural(&stages[i]), &mut problems);
                None
            }
            (None, _) => None,
        };
    }
    let session_rate = format!("session_to_{}_rate", stages[0]);
    let sessions = match (needed[0], usable(rate(&session_rate))) {
        (Some(l), Some(r)) => Some(l / r),
        (Some(_), None) => {
            why(&session_rate, "sessions", &mut problems);
            None
        }
        _ => None,
    };
    let budget = match (needed[0], rate("cpl")) {
        (Some(l), Some(c)) => Some(l * c),
        (Some(_), None) => {
            why("cpl", "the media budget", &mut problems);
            None
        }
        _ => None,
    };

    // Rows, top of the funnel first.
    let scale = period.days() as f64 / inputs.window_days.max(1) as f64;
    let mut rows = Vec::new();
    let mut any_seasonal = false;
    let mut all_seasonal = true;
    let mut push = |id: String,
                    label: String,
                    kpi: Option<String>,
                    need: Option<f64>,
                    trailing: Option<f64>| {
        let (parts, seasonal) = split(need, quarters, inputs.seasonal.get(&id));
        if need.is_some() {
            any_seasonal |= seasonal;
            all_seasonal &= seasonal;
        }
        let same = trailing.map(|t| t * scale);
        rows.push(PlanRow {
            id,
            label,
            kpi,
            needed: need,
            trailing,
            trailing_same_length: same,
            change: ratio(need, same).map(|r| r - 1.0),
            quarters: parts,
            seasonal,
        });
    };
    push("sessions".into(), "Sessions".into(), Some("sessions".into()), sessions, inputs.sessions);
    for (i, s) in stages.iter().enumerate() {
        let mut label = plural(s);
        if let Some(c) = label.get(..1) {
            label = c.to_uppercase() + &label[1..];
        }
        push(s.clone(), label, stage_kpi(s).map(str::to_owned), needed[i], count_of(i));
    }
    push(
        "won_deals".into(),
        "Won deals".into(),
        Some("closed_won_deals".into()),
        won_deals,
        inputs.won_deals,
    );
    push(
        "won_revenue".into(),
        "Won revenue".into(),
        Some("won_revenue".into()),
        revenue,
        inputs.won_revenue,
    );
    push(
        "ad_cost".into(),
        "Media budget (at the plan's CPL)".into(),
        Some("ad_cost".into()),
        budget,
        inputs.ad_cost,
    );

    let mut notes = Vec::new();
    if any_seasonal && all_seasonal {
        notes.push(format!(
            "quarters follow each row's own seasonality in the same quarters of the latest year \
             with data ({})",
            inputs.seasonal_label
        ));
    } else if any_seasonal {
        notes.push(format!(
            "quarters follow each row's seasonality in {} where it has data, else are even by days",
            inputs.seasonal_label
        ));
    } else {
        notes.push(format!(
            "quarters are split evenly by days: {} has no complete history for them",
            inputs.seasonal_label
        ));
    }
    notes.push(
        "rates are period ratios over the trailing window (later-stage entries ÷ earlier-stage \
         entries); counts are fractional here, round them up when you staff for them"
            .into(),
    );
    Plan {
        target,
        period: period.label.clone(),
        period_from: period.from,
        period_to: period.to.pred_opt().unwrap_or(period.to),
        window: window.clone(),
        quarters: quarters.iter().map(|q| q.label.clone()).collect(),
        rows,
        rates,
        reachable: problems.is_empty(),
        problems,
        notes,
    }
}

impl Plan {
    /// The plan as `[[goals]]` for `kpiflow.toml`: an objective named `prefix` and one goal per
    /// row that has a KPI and a figure (seasonal split; the budget as a ceiling).
    pub fn goals_toml(&self, prefix: &str, calendar: &Calendar) -> String {
        let period = match Period::parse(&self.period, calendar) {
            Ok(p) if p.from == self.period_from && p.to.pred_opt() == Some(self.period_to) => {
                format!("period = \"{}\"", self.period)
            }
            _ => format!("from = \"{}\"\nto = \"{}\"", self.period_from, self.period_to),
        };
        let mut out = format!(
            "\n# Saved by `kpiflow plan` for {} ({}).\n[[goals]]\nid = \"{prefix}\"\nname = \"Plan {}\"\n{period}\n",
            self.period,
            match self.target {
                PlanTarget::WonRevenue(v) => format!("won_revenue = {v}"),
                PlanTarget::Customers(v) => format!("customers = {v}"),
            },
            self.period
        );
        for row in &self.rows {
            let (Some(kpi), Some(needed)) = (&row.kpi, row.needed) else { continue };
            let target = if row.id == "won_revenue" || row.id == "ad_cost" {
                (needed * 100.0).round() / 100.0
            } else {
                whole(needed)
            };
            let test = if row.id == "ad_cost" { "stay_below" } else { "reach" };
            out.push_str(&format!(
                "\n[[goals]]\nid = \"{prefix}-{}\"\nname = \"{}\"\nparent = \"{prefix}\"\nkpi = \"{kpi}\"\ntarget = {target}\ntest = \"{test}\"\n{period}\nsplit = \"seasonal\"\n",
                row.id.replace('_', "-"),
                row.label
            ));
        }
        out
    }

    /// Ids of the goals [`Plan::goals_toml`] writes.
    pub fn goal_ids(&self, prefix: &str) -> Vec<String> {
        let mut ids = vec![prefix.to_owned()];
        ids.extend(
            self.rows
                .iter()
                .filter(|r| r.kpi.is_some() && r.needed.is_some())
                .map(|r| format!("{prefix}-{}", r.id.replace('_', "-"))),
        );
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages() -> Vec<String> {
        kpiflow_model::config::DEFAULT_STAGES.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn overrides_resolve_aliases_and_refuse_nonsense() {
        let s = stages();
        assert_eq!(resolve_override(&s, "mql_to_sql_rate", 0.5).unwrap(), "mql_to_sql_rate");
        assert_eq!(
            resolve_override(&s, "sql_to_sqo_rate", 0.5).unwrap(),
            "sql_to_opportunity_rate"
        );
        assert_eq!(resolve_override(&s, "win_rate", 0.3).unwrap(), "opportunity_to_customer_rate");
        let e = resolve_override(&s, "mql_to_sq_rate", 0.5).unwrap_err();
        assert!(e.contains("did you mean `mql_to_sql_rate`"), "{e}");
        assert!(resolve_override(&s, "mql_to_sql_rate", 50.0).unwrap_err().contains("fraction"));
        assert!(resolve_override(&s, "cpl", -1.0).is_err());
        assert_eq!(
            PlanTarget::parse("won_revenue=2_000_000").unwrap(),
            PlanTarget::WonRevenue(2e6)
        );
        assert!(PlanTarget::parse("won_revenu=1").unwrap_err().contains("did you mean"));
    }
}
