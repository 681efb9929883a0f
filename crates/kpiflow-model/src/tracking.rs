//! Goals and alerts of `kpiflow.toml` (DESIGN §7): `[[goals]]`, `[goal_status]`, `[[alerts]]`
//! and `[alerting]`, parsed and checked here; KPI and dimension names are checked against the
//! catalog by the commands that use them, before any work starts.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

use crate::time::{Calendar, Grain, Period};
use crate::toml_span::TomlError;

/// What a goal asks of its KPI over the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalTest {
    /// Reach the target by the period's end: a total for a KPI that adds up over time (leads,
    /// won revenue), the end value for a level (a rate, a cost per lead).
    Reach,
    /// Stay at or above the target throughout the period.
    StayAbove,
    /// Stay at or below the target throughout the period.
    StayBelow,
}

impl GoalTest {
    pub fn name(self) -> &'static str {
        match self {
            GoalTest::Reach => "reach",
            GoalTest::StayAbove => "stay_above",
            GoalTest::StayBelow => "stay_below",
        }
    }
}

/// How a goal's target is spread over the months of its period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitRule {
    /// In proportion to the days of each month.
    Even,
    /// In proportion to the KPI's value in the same months a year earlier (even when that year
    /// has no data; the output says which was used).
    Seasonal,
}

impl SplitRule {
    pub fn name(self) -> &'static str {
        match self {
            SplitRule::Even => "even",
            SplitRule::Seasonal => "seasonal",
        }
    }
}

/// The progress thresholds of the statuses: progress (pace for totals) at or above `on_track`
/// is on track, at or above `at_risk` at risk, below it off track.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct StatusThresholds {
    pub on_track: f64,
    pub at_risk: f64,
}

impl Default for StatusThresholds {
    fn default() -> Self {
        StatusThresholds { on_track: 0.95, at_risk: 0.85 }
    }
}

/// One goal, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct GoalConfig {
    pub id: String,
    /// Shown instead of the id.
    pub name: Option<String>,
    /// `None` for an objective: a goal whose progress is its children's.
    pub kpi: Option<String>,
    pub target: Option<f64>,
    pub period: Period,
    pub test: GoalTest,
    /// `dimension = value` filters (a segment: region = EMEA); several values of one dimension
    /// are alternatives.
    pub filters: Vec<(String, String)>,
    pub parent: Option<String>,
    pub split: SplitRule,
    pub thresholds: StatusThresholds,
}

/// Which way an anomaly must go to fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyDirection {
    Both,
    /// Spikes only.
    Up,
    /// Dips only.
    Down,
}

/// What makes an alert fire.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AlertRule {
    /// The KPI's value in the bucket is above `above` or below `below`.
    Threshold { above: Option<f64>, below: Option<f64> },
    /// The bucket's robust z-score against the trailing window passes `z`.
    Anomaly {
        z: f64,
        /// Trailing buckets compared with (for days: the same weekday of that many weeks).
        window: usize,
        /// The bucket is judged only when the volume KPI's trailing median reaches this.
        min_volume: f64,
        /// The KPI whose volume is checked (default: the alert's KPI).
        volume_kpi: Option<String>,
        direction: AnomalyDirection,
    },
}

/// One alert rule, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertConfig {
    pub id: String,
    pub kpi: String,
    pub filters: Vec<(String, String)>,
    /// Day, week or month.
    pub grain: Grain,
    pub rule: AlertRule,
}

/// `[alerting]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AlertingConfig {
    /// Where `kpiflow alerts` POSTs a Slack-compatible JSON body when rules fire.
    pub webhook: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGoal {
    id: Spanned<String>,
    name: Option<String>,
    kpi: Option<Spanned<String>>,
    target: Option<Spanned<f64>>,
    period: Option<Spanned<String>>,
    from: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
    test: Option<Spanned<String>>,
    #[serde(rename = "where")]
    filters: Option<Spanned<BTreeMap<String, toml::Value>>>,
    parent: Option<Spanned<String>>,
    split: Option<Spanned<String>>,
    on_track: Option<Spanned<f64>>,
    at_risk: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawThresholds {
    on_track: Option<Spanned<f64>>,
    at_risk: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAlert {
    id: Spanned<String>,
    kpi: Spanned<String>,
    kind: Option<Spanned<String>>,
    grain: Option<Spanned<String>>,
    #[serde(rename = "where")]
    filters: Option<Spanned<BTreeMap<String, toml::Value>>>,
    above: Option<Spanned<f64>>,
    below: Option<Spanned<f64>>,
    z: Option<Spanned<f64>>,
    window: Option<Spanned<i64>>,
    min_volume: Option<Spanned<f64>>,
    volume_kpi: Option<Spanned<String>>,
    direction: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAlerting {
    webhook: Option<Spanned<String>>,
}

/// Reports an error at a span.
pub(crate) type At<'a> = dyn Fn(Range<usize>, &str, String) -> TomlError + 'a;

fn check_id(id: &Spanned<String>, key: &str, at: &At) -> Result<String, TomlError> {
    let v = id.get_ref().trim();
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err(at(
            id.span(),
            key,
            format!("`{}` is not a valid id; expected letters, digits, `-` and `_`", id.get_ref()),
        ));
    }
    Ok(v.to_owned())
}

fn filters(
    raw: Option<Spanned<BTreeMap<String, toml::Value>>>,
    key: &str,
    at: &At,
) -> Result<Vec<(String, String)>, TomlError> {
    let Some(raw) = raw else { return Ok(Vec::new()) };
    let span = raw.span();
    let mut out = Vec::new();
    for (dim, value) in raw.into_inner() {
        let bad = || {
            at(
                span.clone(),
                key,
                format!("`{dim}`: expected a value or a list of values, such as {dim} = \"EMEA\""),
            )
        };
        match value {
            toml::Value::String(s) if !s.trim().is_empty() => {
                out.push((dim.trim().to_owned(), s.trim().to_owned()))
            }
            toml::Value::Array(values) if !values.is_empty() => {
                for v in values {
                    match v {
                        toml::Value::String(s) if !s.trim().is_empty() => {
                            out.push((dim.trim().to_owned(), s.trim().to_owned()))
                        }
                        _ => return Err(bad()),
                    }
                }
            }
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

fn fraction(v: &Spanned<f64>, key: &str, at: &At) -> Result<f64, TomlError> {
    let x = *v.get_ref();
    if !(x.is_finite() && x > 0.0 && x <= 10.0) {
        return Err(at(v.span(), key, format!("{x} is not a share; expected such as 0.95 (95 %)")));
    }
    Ok(x)
}

fn thresholds(
    base: StatusThresholds,
    on_track: Option<Spanned<f64>>,
    at_risk: Option<Spanned<f64>>,
    prefix: &str,
    at: &At,
) -> Result<StatusThresholds, TomlError> {
    let mut t = base;
    let mut span = None;
    if let Some(v) = &on_track {
        t.on_track = fraction(v, &format!("{prefix}on_track"), at)?;
        span = Some(v.span());
    }
    if let Some(v) = &at_risk {
        t.at_risk = fraction(v, &format!("{prefix}at_risk"), at)?;
        span = Some(v.span());
    }
    if t.at_risk > t.on_track {
        return Err(at(
            span.unwrap_or(0..0),
            &format!("{prefix}at_risk"),
            format!(
                "at_risk ({}) is above on_track ({}); expected at_risk <= on_track",
                t.at_risk, t.on_track
            ),
        ));
    }
    Ok(t)
}

pub(crate) fn resolve_thresholds(
    raw: Option<RawThresholds>,
    at: &At,
) -> Result<StatusThresholds, TomlError> {
    match raw {
        None => Ok(StatusThresholds::default()),
        Some(r) => {
            thresholds(StatusThresholds::default(), r.on_track, r.at_risk, "goal_status.", at)
        }
    }
}

fn date(v: &Spanned<String>, key: &str, at: &At) -> Result<NaiveDate, TomlError> {
    v.get_ref().trim().parse().map_err(|_| {
        at(v.span(), key, format!("`{}` is not a date; expected YYYY-MM-DD", v.get_ref()))
    })
}

pub(crate) fn resolve_goals(
    raw: Vec<Spanned<RawGoal>>,
    defaults: StatusThresholds,
    calendar: &Calendar,
    at: &At,
) -> Result<Vec<GoalConfig>, TomlError> {
    let mut goals = Vec::new();
    let mut spans = BTreeMap::new();
    let mut parent_spans = BTreeMap::new();
    // Objectives without a period of their own: they span their children's.
    let mut open_periods: Vec<String> = Vec::new();
    for g in raw {
        let span = g.span();
        let g = g.into_inner();
        let id = check_id(&g.id, "goals.id", at)?;
        if spans.insert(id.clone(), g.id.span()).is_some() {
            return Err(at(g.id.span(), "goals.id", format!("goal `{id}` is defined twice")));
        }
        let period = match (&g.period, &g.from, &g.to) {
            (Some(p), None, None) => Some(
                Period::parse(p.get_ref(), calendar)
                    .map_err(|e| at(p.span(), "goals.period", e))?,
            ),
            (None, Some(f), Some(t)) => {
                let (f, t_) = (date(f, "goals.from", at)?, date(t, "goals.to", at)?);
                Some(Period::between(f, t_).map_err(|e| at(t.span(), "goals.to", e))?)
            }
            // An objective may leave its period to its children.
            (None, None, None) if g.kpi.is_none() => None,
            _ => {
                return Err(at(
                    span,
                    "goals.period",
                    format!(
                        "goal `{id}` needs a period: `period` (2026-03, 2026-Q2, 2026-H1, \
                         FY2026...) or `from` and `to` (YYYY-MM-DD, both included)"
                    ),
                ));
            }
        };
        let test = match &g.test {
            None => GoalTest::Reach,
            Some(t) => match t.get_ref().trim() {
                "reach" => GoalTest::Reach,
                "stay_above" => GoalTest::StayAbove,
                "stay_below" => GoalTest::StayBelow,
                other => {
                    return Err(at(
                        t.span(),
                        "goals.test",
                        format!(
                            "`{other}` is not a test; expected reach, stay_above or stay_below"
                        ),
                    ));
                }
            },
        };
        let split = match &g.split {
            None => SplitRule::Even,
            Some(s) => match s.get_ref().trim() {
                "even" => SplitRule::Even,
                "seasonal" => SplitRule::Seasonal,
                other => {
                    return Err(at(
                        s.span(),
                        "goals.split",
                        format!("`{other}` is not a split; expected even or seasonal"),
                    ));
                }
            },
        };
        let kpi = g.kpi.as_ref().map(|k| k.get_ref().trim().to_owned());
        let target = match &g.target {
            Some(t) if !t.get_ref().is_finite() => {
                return Err(at(t.span(), "goals.target", "expected a finite number".into()));
            }
            Some(t) => Some(*t.get_ref()),
            None => None,
        };
        if kpi.is_some() != target.is_some() {
            return Err(at(
                span,
                "goals.target",
                format!(
                    "goal `{id}`: `kpi` and `target` go together (a goal without both is an \
                     objective whose progress is its children's)"
                ),
            ));
        }
        let thresholds = thresholds(defaults, g.on_track, g.at_risk, "goals.", at)?;
        if period.is_none() {
            open_periods.push(id.clone());
        }
        goals.push(GoalConfig {
            id,
            name: g.name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
            kpi,
            target,
            period: period.unwrap_or(Period {
                from: NaiveDate::MIN,
                to: NaiveDate::MIN,
                label: String::new(),
            }),
            test,
            filters: filters(g.filters, "goals.where", at)?,
            parent: g.parent.as_ref().map(|p| p.get_ref().trim().to_owned()),
            split,
            thresholds,
        });
        // Parents are checked once every goal is known.
        if let (Some(p), Some(last)) = (g.parent, goals.last()) {
            parent_spans.insert(last.id.clone(), p.span());
        }
    }
    let ids: BTreeSet<&str> = goals.iter().map(|g| g.id.as_str()).collect();
    for g in &goals {
        let parent_span = || parent_spans.get(&g.id).cloned().unwrap_or(0..0);
        if let Some(p) = &g.parent {
            if !ids.contains(p.as_str()) {
                let hint = crate::suggest::did_you_mean(p, ids.iter().copied())
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(at(
                    parent_span(),
                    "goals.parent",
                    format!("goal `{}`: no goal `{p}`{hint}", g.id),
                ));
            }
            // Follow the parents: a cycle comes back to this goal.
            let mut seen = BTreeSet::from([g.id.as_str()]);
            let mut next = Some(p.as_str());
            while let Some(n) = next {
                if !seen.insert(n) {
                    return Err(at(
                        parent_span(),
                        "goals.parent",
                        format!("goal `{}`: its parents form a cycle through `{n}`", g.id),
                    ));
                }
                next = goals.iter().find(|x| x.id == n).and_then(|x| x.parent.as_deref());
            }
        }
        if g.kpi.is_none() && !goals.iter().any(|c| c.parent.as_deref() == Some(g.id.as_str())) {
            return Err(at(
                spans.get(&g.id).cloned().unwrap_or(0..0),
                "goals.kpi",
                format!(
                    "goal `{}` has no kpi and no child goals; give it `kpi` and `target`, or \
                     name it as `parent` of other goals",
                    g.id
                ),
            ));
        }
    }
    // Deepest first: an objective's period is its children's span once theirs are known.
    for _ in 0..goals.len() {
        if open_periods.is_empty() {
            break;
        }
        for id in open_periods.clone() {
            let children: Vec<&Period> = goals
                .iter()
                .filter(|c| c.parent.as_deref() == Some(id.as_str()))
                .map(|c| &c.period)
                .collect();
            if children.iter().any(|p| p.from == NaiveDate::MIN) {
                continue;
            }
            let (Some(from), Some(to)) =
                (children.iter().map(|p| p.from).min(), children.iter().map(|p| p.to).max())
            else {
                continue;
            };
            let labels: BTreeSet<&str> = children.iter().map(|p| p.label.as_str()).collect();
            let label = match labels.iter().next() {
                Some(l) if labels.len() == 1 => (*l).to_owned(),
                _ => format!("{from}..{}", to.pred_opt().unwrap_or(to)),
            };
            if let Some(g) = goals.iter_mut().find(|g| g.id == id) {
                g.period = Period { from, to, label };
            }
            open_periods.retain(|x| *x != id);
        }
    }
    if let Some(id) = open_periods.first() {
        return Err(at(
            spans.get(id).cloned().unwrap_or(0..0),
            "goals.period",
            format!("goal `{id}` needs a period, or children that have one"),
        ));
    }
    Ok(goals)
}

pub(crate) fn resolve_alerts(
    raw: Vec<Spanned<RawAlert>>,
    at: &At,
) -> Result<Vec<AlertConfig>, TomlError> {
    let mut alerts: Vec<AlertConfig> = Vec::new();
    for a in raw {
        let span = a.span();
        let a = a.into_inner();
        let id = check_id(&a.id, "alerts.id", at)?;
        if alerts.iter().any(|x| x.id == id) {
            return Err(at(a.id.span(), "alerts.id", format!("alert `{id}` is defined twice")));
        }
        let grain = match &a.grain {
            None => Grain::Day,
            Some(g) => match g.get_ref().parse::<Grain>() {
                Ok(g @ (Grain::Day | Grain::Week | Grain::Month)) => g,
                _ => {
                    return Err(at(
                        g.span(),
                        "alerts.grain",
                        format!(
                            "`{}` is not an alert grain; expected day, week or month",
                            g.get_ref()
                        ),
                    ));
                }
            },
        };
        let kind = a.kind.as_ref().map(|k| k.get_ref().trim().to_owned());
        let anomaly_keys = [
            a.z.as_ref().map(|v| v.span()),
            a.window.as_ref().map(|v| v.span()),
            a.min_volume.as_ref().map(|v| v.span()),
            a.volume_kpi.as_ref().map(|v| v.span()),
            a.direction.as_ref().map(|v| v.span()),
        ];
        let rule = match kind.as_deref() {
            None | Some("threshold") => {
                if let Some(s) = anomaly_keys.iter().flatten().next() {
                    return Err(at(
                        s.clone(),
                        "alerts.kind",
                        format!(
                            "alert `{id}`: z, window, min_volume, volume_kpi and direction belong \
                             to anomaly rules; add kind = \"anomaly\""
                        ),
                    ));
                }
                let (above, below) = (a.above.map(|v| *v.get_ref()), a.below.map(|v| *v.get_ref()));
                if above.is_none() && below.is_none() {
                    return Err(at(
                        span,
                        "alerts.above",
                        format!(
                            "alert `{id}`: a threshold rule needs `above`, `below` or both \
                             (or kind = \"anomaly\")"
                        ),
                    ));
                }
                if let (Some(hi), Some(lo)) = (above, below)
                    && lo > hi
                {
                    return Err(at(
                        span,
                        "alerts.below",
                        format!(
                            "alert `{id}`: below ({lo}) is above above ({hi}): nothing is normal"
                        ),
                    ));
                }
                AlertRule::Threshold { above, below }
            }
            Some("anomaly") => {
                if let Some(v) = a.above.as_ref().or(a.below.as_ref()) {
                    return Err(at(
                        v.span(),
                        "alerts.above",
                        format!("alert `{id}`: above and below belong to threshold rules"),
                    ));
                }
                let z = match &a.z {
                    None => 5.0,
                    Some(z) if z.get_ref().is_finite() && *z.get_ref() > 0.0 => *z.get_ref(),
                    Some(z) => {
                        return Err(at(
                            z.span(),
                            "alerts.z",
                            "expected a number > 0, such as 3.5".into(),
                        ));
                    }
                };
                let window = match &a.window {
                    None => 12,
                    Some(w) => usize::try_from(*w.get_ref())
                        .ok()
                        .filter(|w| (4..=366).contains(w))
                        .ok_or_else(|| {
                            at(w.span(), "alerts.window", "expected 4 to 366 buckets".into())
                        })?,
                };
                let min_volume = match &a.min_volume {
                    None => 0.0,
                    Some(v) if v.get_ref().is_finite() && *v.get_ref() >= 0.0 => *v.get_ref(),
                    Some(v) => {
                        return Err(at(
                            v.span(),
                            "alerts.min_volume",
                            "expected a number >= 0".into(),
                        ));
                    }
                };
                let direction = match &a.direction {
                    None => AnomalyDirection::Both,
                    Some(d) => match d.get_ref().trim() {
                        "both" => AnomalyDirection::Both,
                        "up" => AnomalyDirection::Up,
                        "down" => AnomalyDirection::Down,
                        other => {
                            return Err(at(
                                d.span(),
                                "alerts.direction",
                                format!("`{other}` is not a direction; expected both, up or down"),
                            ));
                        }
                    },
                };
                AlertRule::Anomaly {
                    z,
                    window,
                    min_volume,
                    volume_kpi: a.volume_kpi.map(|v| v.get_ref().trim().to_owned()),
                    direction,
                }
            }
            Some(other) => {
                return Err(at(
                    a.kind.map(|k| k.span()).unwrap_or(span),
                    "alerts.kind",
                    format!("`{other}` is not a kind of alert; expected threshold or anomaly"),
                ));
            }
        };
        alerts.push(AlertConfig {
            id,
            kpi: a.kpi.get_ref().trim().to_owned(),
            filters: filters(a.filters, "alerts.where", at)?,
            grain,
            rule,
        });
    }
    Ok(alerts)
}

pub(crate) fn resolve_alerting(
    raw: Option<RawAlerting>,
    at: &At,
) -> Result<AlertingConfig, TomlError> {
    let Some(raw) = raw else { return Ok(AlertingConfig::default()) };
    let webhook = match raw.webhook {
        None => None,
        Some(w) => {
            let v = w.get_ref().trim();
            if !(v.starts_with("http://") || v.starts_with("https://")) {
                return Err(at(
                    w.span(),
                    "alerting.webhook",
                    format!("`{v}` is not a webhook URL; expected http:// or https://"),
                ));
            }
            Some(v.to_owned())
        }
    };
    Ok(AlertingConfig { webhook })
}
