//! The project configuration, `kpiflow.toml`: parsed, then resolved and validated before any work
//! starts. Every error names the file, line, key and what is allowed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use crate::suggest::did_you_mean;
use crate::toml_span::TomlError;
use crate::tracking::{
    AlertConfig, AlertingConfig, GoalConfig, RawAlert, RawAlerting, RawGoal, RawThresholds,
    StatusThresholds,
};

/// The file name of the configuration inside a project directory.
pub const CONFIG_FILE: &str = "kpiflow.toml";

/// The default lifecycle funnel (HubSpot's default lifecycle without subscriber and evangelist).
pub const DEFAULT_STAGES: &[&str] = &["lead", "mql", "sql", "opportunity", "customer"];

/// A resolved, valid project configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectConfig {
    pub name: String,
    /// ISO 4217 code of the reporting currency.
    pub currency: String,
    /// The reporting timezone: reports bucket timestamps by it, and imports read timestamps
    /// without an offset in it unless the mapping says otherwise.
    pub timezone: Tz,
    /// 1 = January. Fiscal quarters and years start at this month.
    pub fiscal_year_start_month: u32,
    /// Absolute path of the data directory (the Delta tables).
    pub data_dir: PathBuf,
    pub funnel: FunnelConfig,
    pub import: ImportConfig,
    pub channels: ChannelsConfig,
    pub server: ServerConfig,
    pub attribution: AttributionConfig,
    /// `[[goals]]`, in the file's order.
    pub goals: Vec<GoalConfig>,
    /// `[goal_status]`: the default status thresholds of goals.
    pub goal_status: StatusThresholds,
    /// `[[alerts]]`, in the file's order.
    pub alerts: Vec<AlertConfig>,
    pub alerting: AlertingConfig,
    /// The user's `[params]`, `[[measures]]` and `[[kpis]]`, as TOML text for the catalog, which
    /// checks them (`None` when there are none).
    pub catalog: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelConfig {
    /// Lifecycle stages in order.
    pub stages: Vec<String>,
    /// When true, a contact that skips a stage does not count as having passed it.
    pub strict: bool,
}

/// Channel grouping settings (`[channels]`): user rules evaluated before GA4's, and an optional
/// replacement of the built-in source category list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelsConfig {
    /// A CSV file (`source,category`) replacing the built-in list of search, social, video and
    /// shopping sites; absolute path.
    pub categories: Option<PathBuf>,
    /// User rules in order; the first whose patterns all match wins.
    pub rules: Vec<ChannelRuleConfig>,
}

/// One user channel rule: each pattern given is a regular expression matched against the whole
/// (lower-cased) source, medium or campaign, ignoring case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRuleConfig {
    pub channel: String,
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportConfig {
    /// How many row errors an import collects before it stops reading.
    pub max_errors: usize,
    /// How many days back an fx rate may be used for a date without its own rate (weekends,
    /// holidays). 0 means the exact date only.
    pub fx_max_age_days: u32,
}

impl Default for ImportConfig {
    fn default() -> Self {
        ImportConfig { max_errors: 100, fx_max_age_days: 7 }
    }
}

/// `[server]`: how `kpiflow serve` listens and what it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Address to bind; loopback unless the user says otherwise.
    pub addr: std::net::SocketAddr,
    /// Bearer token for write endpoints (imports). Without one (here or in `KPIFLOW_TOKEN`),
    /// write endpoints are off.
    pub token: Option<String>,
    /// Largest request body accepted (an uploaded export), in MiB.
    pub max_body_mib: u64,
    /// Longest a query may run before the request answers 503.
    pub query_timeout_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
            token: None,
            max_body_mib: 256,
            query_timeout_secs: 60,
        }
    }
}

/// `[attribution]`: how journeys are built for multi-touch attribution (DESIGN §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributionConfig {
    /// Touches older than this many days before a conversion are not part of its journey.
    pub lookback_days: u32,
    /// Channels the last-non-direct model skips (case-insensitive).
    pub direct_channels: Vec<String>,
    /// Offline touches: `events.event_type` → the channel its events count as (a webinar
    /// registration as "Webinars"). Event types not listed are not touches.
    pub offline_events: BTreeMap<String, String>,
}

impl Default for AttributionConfig {
    fn default() -> Self {
        AttributionConfig {
            lookback_days: 90,
            direct_channels: vec!["Direct".to_owned()],
            offline_events: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttribution {
    lookback_days: Option<Spanned<i64>>,
    direct_channels: Option<Spanned<Vec<String>>>,
    offline_events: Option<Spanned<BTreeMap<String, String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    project: Spanned<RawProject>,
    #[serde(default)]
    funnel: Option<Spanned<RawFunnel>>,
    #[serde(default)]
    import: Option<RawImport>,
    #[serde(default)]
    channels: Option<RawChannels>,
    #[serde(default)]
    server: Option<RawServer>,
    #[serde(default)]
    attribution: Option<RawAttribution>,
    #[serde(default)]
    goals: Option<Vec<Spanned<RawGoal>>>,
    #[serde(default)]
    goal_status: Option<RawThresholds>,
    #[serde(default)]
    alerts: Option<Vec<Spanned<RawAlert>>>,
    #[serde(default)]
    alerting: Option<RawAlerting>,
    /// The user's catalog entries, checked by the catalog crate.
    #[serde(default)]
    params: Option<toml::Table>,
    #[serde(default)]
    measures: Option<Vec<toml::Table>>,
    #[serde(default)]
    kpis: Option<Vec<toml::Table>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    name: Option<String>,
    currency: Spanned<String>,
    timezone: Spanned<String>,
    #[serde(default)]
    fiscal_year_start_month: Option<Spanned<i64>>,
    #[serde(default)]
    data_dir: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFunnel {
    stages: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    strict: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannels {
    categories: Option<Spanned<String>>,
    #[serde(default)]
    rules: Vec<Spanned<RawChannelRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannelRule {
    channel: Spanned<String>,
    source: Option<Spanned<String>>,
    medium: Option<Spanned<String>>,
    campaign: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    addr: Option<Spanned<String>>,
    token: Option<Spanned<String>>,
    max_body_mib: Option<Spanned<i64>>,
    query_timeout_secs: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImport {
    max_errors: Option<Spanned<i64>>,
    fx_max_age_days: Option<Spanned<i64>>,
}

impl ProjectConfig {
    /// Reads `kpiflow.toml` from the project directory.
    pub fn load(project_dir: &Path) -> Result<ProjectConfig, ConfigError> {
        let path = project_dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                ConfigError::Missing { dir: project_dir.to_path_buf() }
            } else {
                ConfigError::Read { path: path.clone(), source }
            }
        })?;
        Self::parse(&text, &path.display().to_string(), project_dir).map_err(ConfigError::Invalid)
    }

    /// Parses and validates configuration text; relative paths resolve against `project_dir`.
    pub fn parse(text: &str, file: &str, project_dir: &Path) -> Result<ProjectConfig, TomlError> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| TomlError::from_de(file, text, &e))?;
        let at = |span: std::ops::Range<usize>, key: &str, msg: String| {
            TomlError::at(file, text, span, key, msg)
        };
        let project = raw.project.into_inner();

        let currency =
            crate::parse::parse_currency(project.currency.get_ref()).ok_or_else(|| {
                at(
                    project.currency.span(),
                    "project.currency",
                    format!(
                        "`{}` is not an ISO 4217 currency code; expected one such as USD, EUR, GBP",
                        project.currency.get_ref()
                    ),
                )
            })?;

        let timezone: Tz = project.timezone.get_ref().parse().map_err(|_| {
            let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
            let hint = did_you_mean(project.timezone.get_ref(), names)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            at(
                project.timezone.span(),
                "project.timezone",
                format!(
                    "`{}` is not an IANA timezone{hint}; expected a name such as UTC, \
                     Europe/Berlin, America/New_York",
                    project.timezone.get_ref()
                ),
            )
        })?;

        let fiscal_year_start_month = match project.fiscal_year_start_month {
            None => 1,
            Some(m) => match u32::try_from(*m.get_ref()) {
                Ok(v @ 1..=12) => v,
                _ => {
                    return Err(at(
                        m.span(),
                        "project.fiscal_year_start_month",
                        format!("{} is not a month; expected 1 (January) to 12", m.get_ref()),
                    ));
                }
            },
        };

        let data_dir = match project.data_dir {
            None => project_dir.join("data"),
            Some(d) if d.get_ref().trim().is_empty() => {
                return Err(at(d.span(), "project.data_dir", "must not be empty".into()));
            }
            Some(d) => project_dir.join(d.get_ref()),
        };

        let funnel = match raw.funnel {
            None => FunnelConfig {
                stages: DEFAULT_STAGES.iter().map(|s| s.to_string()).collect(),
                strict: false,
            },
            Some(f) => {
                let f = f.into_inner();
                if f.stages.get_ref().len() < 2 {
                    return Err(at(
                        f.stages.span(),
                        "funnel.stages",
                        "a funnel needs at least two stages".into(),
                    ));
                }
                let mut seen = BTreeMap::new();
                let mut stages = Vec::new();
                for s in f.stages.get_ref() {
                    let name = s.get_ref().trim().to_lowercase();
                    let valid = !name.is_empty()
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !valid {
                        return Err(at(
                            s.span(),
                            "funnel.stages",
                            format!(
                                "stage `{}` is not a valid name; expected letters, digits and _",
                                s.get_ref()
                            ),
                        ));
                    }
                    if seen.insert(name.clone(), ()).is_some() {
                        return Err(at(
                            s.span(),
                            "funnel.stages",
                            format!("stage `{name}` is listed twice"),
                        ));
                    }
                    stages.push(name);
                }
                FunnelConfig { stages, strict: f.strict }
            }
        };

        let mut import = ImportConfig::default();
        if let Some(i) = raw.import {
            if let Some(m) = i.max_errors {
                import.max_errors =
                    usize::try_from(*m.get_ref()).ok().filter(|v| *v >= 1).ok_or_else(|| {
                        at(m.span(), "import.max_errors", "expected a whole number >= 1".into())
                    })?;
            }
            if let Some(d) = i.fx_max_age_days {
                import.fx_max_age_days = u32::try_from(*d.get_ref()).map_err(|_| {
                    at(d.span(), "import.fx_max_age_days", "expected a whole number >= 0".into())
                })?;
            }
        }

        let mut server = ServerConfig::default();
        if let Some(sv) = raw.server {
            if let Some(a) = sv.addr {
                server.addr = a.get_ref().trim().parse().map_err(|_| {
                    at(
                        a.span(),
                        "server.addr",
                        format!(
                            "`{}` is not an address; expected IP:PORT such as 127.0.0.1:8080",
                            a.get_ref()
                        ),
                    )
                })?;
            }
            if let Some(t) = sv.token {
                if t.get_ref().trim().len() < 16 {
                    return Err(at(
                        t.span(),
                        "server.token",
                        "a token needs at least 16 characters".into(),
                    ));
                }
                server.token = Some(t.get_ref().trim().to_owned());
            }
            if let Some(m) = sv.max_body_mib {
                server.max_body_mib = u64::try_from(*m.get_ref())
                    .ok()
                    .filter(|v| (1..=65536).contains(v))
                    .ok_or_else(|| {
                        at(m.span(), "server.max_body_mib", "expected 1 to 65536 (MiB)".into())
                    })?;
            }
            if let Some(q) = sv.query_timeout_secs {
                server.query_timeout_secs = u64::try_from(*q.get_ref())
                    .ok()
                    .filter(|v| (1..=3600).contains(v))
                    .ok_or_else(|| {
                        at(q.span(), "server.query_timeout_secs", "expected 1 to 3600".into())
                    })?;
            }
        }

        let mut attribution = AttributionConfig::default();
        if let Some(a) = raw.attribution {
            if let Some(d) = a.lookback_days {
                attribution.lookback_days = u32::try_from(*d.get_ref())
                    .ok()
                    .filter(|v| (1..=3650).contains(v))
                    .ok_or_else(|| {
                        at(
                            d.span(),
                            "attribution.lookback_days",
                            "expected 1 to 3650 (days)".into(),
                        )
                    })?;
            }
            if let Some(d) = a.direct_channels {
                let span = d.span();
                let names: Vec<String> =
                    d.into_inner().into_iter().map(|c| c.trim().to_owned()).collect();
                if names.iter().any(String::is_empty) {
                    return Err(at(
                        span,
                        "attribution.direct_channels",
                        "channel names must not be empty".into(),
                    ));
                }
                attribution.direct_channels = names;
            }
            if let Some(e) = a.offline_events {
                let span = e.span();
                let map = e.into_inner();
                if let Some((t, _)) =
                    map.iter().find(|(t, c)| t.trim().is_empty() || c.trim().is_empty())
                {
                    return Err(at(
                        span,
                        "attribution.offline_events",
                        format!("`{t}`: expected event_type = \"Channel name\", both non-empty"),
                    ));
                }
                attribution.offline_events = map
                    .into_iter()
                    .map(|(t, c)| (t.trim().to_owned(), c.trim().to_owned()))
                    .collect();
            }
        }

        let mut channels = ChannelsConfig::default();
        if let Some(c) = raw.channels {
            if let Some(path) = c.categories {
                if path.get_ref().trim().is_empty() {
                    return Err(at(path.span(), "channels.categories", "must not be empty".into()));
                }
                channels.categories = Some(project_dir.join(path.get_ref()));
            }
            for rule in c.rules {
                let span = rule.span();
                let rule = rule.into_inner();
                if rule.channel.get_ref().trim().is_empty() {
                    return Err(at(
                        rule.channel.span(),
                        "channels.rules.channel",
                        "a rule needs a channel name".into(),
                    ));
                }
                let mut patterns = Vec::new();
                for (key, p) in [
                    ("source", &rule.source),
                    ("medium", &rule.medium),
                    ("campaign", &rule.campaign),
                ] {
                    let Some(p) = p else {
                        patterns.push(None);
                        continue;
                    };
                    if let Err(e) = regex_syntax::Parser::new().parse(p.get_ref()) {
                        return Err(at(
                            p.span(),
                            &format!("channels.rules.{key}"),
                            format!("`{}` is not a regular expression: {e}", p.get_ref()),
                        ));
                    }
                    patterns.push(Some(p.get_ref().clone()));
                }
                if patterns.iter().all(Option::is_none) {
                    return Err(at(
                        span,
                        "channels.rules",
                        "a rule needs at least one of source, medium, campaign".into(),
                    ));
                }
                let mut patterns = patterns.into_iter();
                channels.rules.push(ChannelRuleConfig {
                    channel: rule.channel.get_ref().trim().to_owned(),
                    source: patterns.next().flatten(),
                    medium: patterns.next().flatten(),
                    campaign: patterns.next().flatten(),
                });
            }
        }

        let calendar = crate::time::Calendar { fiscal_start_month: fiscal_year_start_month };
        let goal_status = crate::tracking::resolve_thresholds(raw.goal_status, &at)?;
        let goals = crate::tracking::resolve_goals(
            raw.goals.unwrap_or_default(),
            goal_status,
            &calendar,
            &at,
        )?;
        let alerts = crate::tracking::resolve_alerts(raw.alerts.unwrap_or_default(), &at)?;
        let alerting = crate::tracking::resolve_alerting(raw.alerting, &at)?;

        let mut catalog = toml::Table::new();
        if let Some(p) = raw.params {
            catalog.insert("params".into(), toml::Value::Table(p));
        }
        if let Some(m) = raw.measures {
            catalog.insert(
                "measures".into(),
                toml::Value::Array(m.into_iter().map(toml::Value::Table).collect()),
            );
        }
        if let Some(k) = raw.kpis {
            catalog.insert(
                "kpis".into(),
                toml::Value::Array(k.into_iter().map(toml::Value::Table).collect()),
            );
        }
        let catalog = (!catalog.is_empty()).then(|| catalog.to_string());

        Ok(ProjectConfig {
            catalog,
            name: project.name.unwrap_or_else(|| "kpiflow project".into()),
            currency,
            timezone,
            fiscal_year_start_month,
            data_dir,
            funnel,
            import,
            channels,
            server,
            attribution,
            goals,
            goal_status,
            alerts,
            alerting,
        })
    }
}

/// The commented `kpiflow.toml` that `kpiflow init` writes.
pub fn config_template(name: &str, currency: &str, timezone: &str) -> String {
    format!(
        r#"# kpiflow project configuration. Every key is documented here; see README.md for more.

[project]
# Shown on the dashboard.
name = "{name}"
# Reporting currency (ISO 4217). Money in other currencies is converted with the fx_rates table.
currency = "{currency}"
# Reporting timezone (IANA name). Reports bucket timestamps by it; imported timestamps without an
# offset are read in it unless a mapping file sets its own `timezone`.
timezone = "{timezone}"
# First month of the fiscal year, 1 = January. Fiscal quarters (FQ1..FQ4) and years start here.
fiscal_year_start_month = 1
# Where the Delta Lake tables live, relative to this file (or an absolute path).
data_dir = "data"

[funnel]
# Lifecycle stages in order (HubSpot's default lifecycle).
stages = ["lead", "mql", "sql", "opportunity", "customer"]
# false: a contact that skips a stage counts as having passed it at the next stage's time
# (stages only move forward). true: only recorded stages count.
strict = false

# Channel grouping: GA4's default rules decide a session's channel from its source, medium,
# campaign, referrer and click id. Rules here are tried first, in order; each pattern is a regular
# expression matched against the whole value, ignoring case. Changing them needs no re-import.
# [channels]
# categories = "source_categories.csv"   # replaces the built-in `source,category` list
# [[channels.rules]]
# channel = "Events"
# medium = "event|trade_?show"

# Your own KPIs, in the form of the built-in catalog (`kpiflow kpis`, docs/kpis.md):
# [params]
# gross_margin = 0.75
#
# [[kpis]]
# id = "cost_per_demo"
# name = "Cost per demo request"
# group = "leads"
# description = "Media cost per demo request."
# question = "What does a demo request cost?"
# formula = "ad_cost / demo_requests"
# unit = "currency"
# direction = "lower"
#
# [[measures]]
# id = "demo_requests"
# source = "events"
# agg = "count"
# filter = "event_type = 'demo_request'"

[import]
# Row errors collected per import before reading stops.
max_errors = 100
# Days back an exchange rate may be reused for a date without its own rate (weekends, holidays).
fx_max_age_days = 7

# `kpiflow serve`: the dashboard and the JSON API.
[server]
# Loopback by default; 0.0.0.0:8080 makes it reachable from other machines (reads need no token).
addr = "127.0.0.1:8080"
# Imports over HTTP need `Authorization: Bearer <token>`; without a token (here or in the
# KPIFLOW_TOKEN environment variable) they are off.
# token = "at-least-16-characters"
# Largest upload accepted, in MiB; longest a query may run, in seconds.
max_body_mib = 256
query_timeout_secs = 60

# Multi-touch attribution (`kpiflow attribution`, the Attribution page).
[attribution]
# Sessions (and offline events) up to this many days before a conversion form its journey.
lookback_days = 90
# Channels the last-non-direct model passes over.
direct_channels = ["Direct"]
# Offline touches: event types of the events table that count as touches, with their channel.
# [attribution.offline_events]
# webinar_registration = "Webinars"
# demo_request = "Sales outreach"

# Goals (`kpiflow goals`, the Goals page). A goal is a KPI, a target and a period (2026-03,
# 2026-Q2, 2026-H1, FY2027, or from/to dates); test = reach (default: a total to reach, or a
# level to get to), stay_above or stay_below; `where` narrows it to a segment; `parent` rolls its
# progress up; split = even (by days) or seasonal (by the same months a year earlier).
# [[goals]]
# id = "leads-fy2027"
# kpi = "leads"
# target = 12000
# period = "FY2027"
# split = "seasonal"
#
# [[goals]]
# id = "cpl-emea"
# kpi = "cpl"
# target = 150
# test = "stay_below"
# period = "2026-Q3"
# where = {{ region = "EMEA" }}
#
# Status: pace (actual ÷ expected by now) at or above on_track is on track, at or above at_risk
# is at risk, below is off track. Each goal may set its own.
[goal_status]
on_track = 0.95
at_risk = 0.85

# Alerts (`kpiflow alerts`: exit 3 when any fires). Thresholds: above and/or below, on the last
# complete day, week or month. Anomalies: robust z-score against the same weekday of the last
# `window` weeks (days; 12 by default) or the last `window` weeks or months, judged when the
# history's median volume reaches min_volume. z = 5 by default (see README.md, Alerts).
# [[alerts]]
# id = "cpl-paid-search"
# kpi = "cpl"
# grain = "week"
# above = 250
# where = {{ channel = "Paid Search" }}
#
# [[alerts]]
# id = "leads-anomaly"
# kpi = "leads"
# kind = "anomaly"
# grain = "day"
# z = 5
# window = 12
# min_volume = 20
#
# [alerting]
# webhook = "https://hooks.slack.com/services/..."   # Slack-compatible JSON body
"#
    )
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no {CONFIG_FILE} in {dir}: run `kpiflow init {dir}` first, or pass --project DIR \
         (or set KPIFLOW_PROJECT)"
    )]
    Missing { dir: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Invalid(TomlError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracking::{AlertRule, GoalTest, SplitRule};

    fn parse(text: &str) -> Result<ProjectConfig, TomlError> {
        ProjectConfig::parse(text, "kpiflow.toml", Path::new("/p"))
    }

    #[test]
    fn the_template_is_valid() {
        let c = parse(&config_template("Acme", "EUR", "Europe/Berlin")).unwrap();
        assert_eq!(c.currency, "EUR");
        assert_eq!(c.timezone, chrono_tz::Europe::Berlin);
        assert_eq!(c.data_dir, Path::new("/p/data"));
        assert_eq!(c.funnel.stages, DEFAULT_STAGES);
        assert_eq!(c.import, ImportConfig::default());
    }

    #[test]
    fn channel_rules_are_read_in_order() {
        let base = config_template("Acme", "USD", "UTC");
        let text = format!(
            "{base}\n[channels]\ncategories = \"cats.csv\"\n[[channels.rules]]\nchannel = \"Events\"\n\
             medium = \"event|trade_?show\"\n[[channels.rules]]\nchannel = \"Partners\"\nsource = \"partner-.*\"\n"
        );
        let c = parse(&text).unwrap();
        assert_eq!(c.channels.categories, Some(Path::new("/p").join("cats.csv")));
        let names: Vec<&str> = c.channels.rules.iter().map(|r| r.channel.as_str()).collect();
        assert_eq!(names, ["Events", "Partners"]);
        assert_eq!(c.channels.rules[0].medium.as_deref(), Some("event|trade_?show"));
        assert_eq!(c.channels.rules[1].source.as_deref(), Some("partner-.*"));
    }

    #[test]
    fn goals_and_alerts_are_resolved() {
        let base = config_template("Acme", "USD", "UTC")
            .replace("fiscal_year_start_month = 1", "fiscal_year_start_month = 4");
        let text = format!(
            "{base}\n[[goals]]\nid = \"h2\"\nkpi = \"leads\"\ntarget = 10\nperiod = \"FY2026-H2\"\n\
             where = {{ region = [\"EMEA\", \"NA\"] }}\nsplit = \"seasonal\"\nparent = \"obj\"\n\
             [[goals]]\nid = \"obj\"\n[[goals]]\nid = \"cpl\"\nkpi = \"cpl\"\ntarget = 5\n\
             from = \"2026-01-15\"\nto = \"2026-02-14\"\ntest = \"stay_below\"\non_track = 0.9\n\
             [[alerts]]\nid = \"a\"\nkpi = \"leads\"\nkind = \"anomaly\"\ngrain = \"week\"\n\
             [[alerts]]\nid = \"b\"\nkpi = \"cpl\"\nabove = 250\n"
        );
        let c = parse(&text).unwrap();
        assert_eq!(c.goals.len(), 3);
        let h2 = &c.goals[0];
        assert_eq!(h2.period.from, "2025-10-01".parse::<chrono::NaiveDate>().unwrap());
        assert_eq!(h2.filters, [("region".into(), "EMEA".into()), ("region".into(), "NA".into())]);
        assert_eq!((h2.split, h2.parent.as_deref()), (SplitRule::Seasonal, Some("obj")));
        assert_eq!(c.goals[1].kpi, None);
        let cpl = &c.goals[2];
        assert_eq!((cpl.test, cpl.period.days()), (GoalTest::StayBelow, 31));
        assert_eq!(cpl.thresholds, StatusThresholds { on_track: 0.9, at_risk: 0.85 });
        assert!(matches!(c.alerts[0].rule, AlertRule::Anomaly { window: 12, .. }));
        assert_eq!(c.alerts[1].rule, AlertRule::Threshold { above: Some(250.0), below: None });

        let goal = "[[goals]]\nid = \"g\"\nkpi = \"leads\"\ntarget = 10\nperiod = \"2026-Q1\"\n";
        let cases = [
            (goal.replace("2026-Q1", "2026-Q5"), "is not a period"),
            (goal.replace("target = 10\n", ""), "`kpi` and `target` go together"),
            (format!("{goal}parent = \"G\"\n"), "no goal `G` (did you mean `g`?)"),
            (format!("{goal}{goal}"), "goal `g` is defined twice"),
            (goal.replace("period = \"2026-Q1\"\n", ""), "needs a period"),
            (format!("{goal}parent = \"g\"\n"), "cycle"),
            ("[[goals]]\nid = \"o\"\n".to_owned(), "no kpi and no child goals"),
            (format!("{goal}on_track = 0.8\nat_risk = 0.9\n"), "at_risk (0.9) is above on_track"),
            ("[[alerts]]\nid = \"a\"\nkpi = \"leads\"\n".to_owned(), "needs `above`, `below`"),
            ("[[alerts]]\nid = \"a\"\nkpi = \"leads\"\nabove = 1\nz = 3\n".to_owned(), "add kind = \"anomaly\""),
            ("[[alerts]]\nid = \"a\"\nkpi = \"leads\"\nkind = \"anomaly\"\ngrain = \"quarter\"\n".to_owned(), "expected day, week or month"),
            ("[alerting]\nwebhook = \"hooks.slack.com\"\n".to_owned(), "not a webhook URL"),
        ];
        for (extra, expected) in cases {
            let e = parse(&format!("{base}\n{extra}")).unwrap_err().to_string();
            assert!(e.contains(expected), "{extra}: {e}");
            assert!(e.starts_with("kpiflow.toml:"), "{e}");
        }
    }

    #[test]
    fn errors_name_the_line_key_and_what_is_allowed() {
        let base = config_template("Acme", "USD", "UTC");
        let cases = [
            base.replace("currency = \"USD\"", "currency = \"USDX\""),
            base.replace("timezone = \"UTC\"", "timezone = \"Europe/Berlinn\""),
            base.replace("fiscal_year_start_month = 1", "fiscal_year_start_month = 13"),
            base.replace("strict = false", "strict = false\nstrikt = true"),
            base.replace("\"lead\", \"mql\"", "\"lead\", \"lead\""),
            base.replace("max_errors = 100", "max_errors = \"many\""),
            format!(
                "{base}\n[channels]\n[[channels.rules]]\nchannel = \"Events\"\nmedium = \"event(\"\n"
            ),
            format!("{base}\n[channels]\n[[channels.rules]]\nchannel = \"Events\"\n"),
            format!(
                "{base}\n[channels]\n[[channels.rules]]\nchannel = \"Events\"\nmedum = \"event\"\n"
            ),
        ];
        let messages: Vec<String> =
            cases.iter().map(|c| parse(c).unwrap_err().to_string()).collect();
        insta::assert_snapshot!(messages.join("\n"));
    }
}
