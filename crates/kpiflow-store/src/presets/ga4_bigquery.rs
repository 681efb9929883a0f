//! GA4's BigQuery export (`events_YYYYMMDD` tables, extracted as JSON lines): one row per
//! event, which becomes `sessions` (cut by GA4's own session id) and `events` (the on-site
//! actions among them). Code, not a mapping: a session is many rows.
//!
//! A session is `user_pseudo_id` + the `ga_session_id` event parameter, so it stays whole across
//! midnight and across the daily files of one import. Its source, medium and campaign are the
//! session's own (the landing URL's UTM tags, else `collected_traffic_source`), never
//! `traffic_source`, which is the user's first source. The visitor is `user_pseudo_id`; the
//! contact is `user_id` when the site sets it.
//!
//! Limit: a session whose events are imported in two separate imports is rebuilt from each
//! import's events alone (the second import's row replaces the first): import the files of
//! consecutive days together, or re-import both.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};

use chrono::DateTime;
use kpiflow_model::schema::{EVENTS, SESSIONS};
use serde_json::Value;

use super::rows::{self, RowsBuilder};
use super::{FileContext, Output, Preset, PresetInfo, PresetPlan, Shared, Spec, Transform};
use crate::error::ImportError;
use crate::import::format::{RawBatch, ReadOptions};

#[derive(Debug)]
pub struct Ga4BigQuery;

static SPEC: LazyLock<Spec> = LazyLock::new(|| Spec {
    info: PresetInfo {
        name: "ga4-bigquery".into(),
        vendor: "Google Analytics 4".into(),
        title:
            "BigQuery export events (events_YYYYMMDD tables as JSON lines) → sessions and events"
                .into(),
        export: "Link GA4 to BigQuery (Admin → BigQuery links), then export a day's table as JSON \
             lines: `bq extract --destination_format NEWLINE_DELIMITED_JSON \
             'project:analytics_123.events_20250101' gs://bucket/events_20250101.json` (or \
             EXPORT DATA … OPTIONS(format='JSON')). Import consecutive days together so \
             sessions across midnight stay whole."
            .into(),
        tables: vec![SESSIONS.name, EVENTS.name],
        files: vec!["events_*.json".into(), "events_*.jsonl".into(), "events_*.ndjson".into()],
        detect: vec![
            vec!["event_name".into()],
            vec!["event_timestamp".into()],
            vec!["user_pseudo_id".into()],
            vec!["event_params".into()],
        ],
        kind: "code",
    },
    read: ReadOptions::default(),
    formats: vec!["jsonl"],
});

const SESSION_COLUMNS: &[&str] = &[
    "session_id",
    "started_at",
    "visitor_id",
    "contact_id",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "referrer",
    "click_id_type",
    "landing_page",
    "pageviews",
    "duration_seconds",
    "bounced",
    "device",
    "country",
    "region",
];
const EVENT_COLUMNS: &[&str] = &[
    "event_id",
    "occurred_at",
    "event_type",
    "visitor_id",
    "contact_id",
    "session_id",
    "name",
    "value",
];

/// Ad click ids GA4 leaves on landing URLs, in the order they are looked for.
const CLICK_IDS: &[&str] =
    &["gclid", "gbraid", "wbraid", "dclid", "msclkid", "li_fat_id", "fbclid", "ttclid", "twclid"];

/// GA4's automatically collected events that describe the visit rather than an action: they
/// shape the session and are not `events` rows.
const NOT_ACTIONS: &[&str] = &[
    "page_view",
    "session_start",
    "first_visit",
    "user_engagement",
    "scroll",
    "form_start",
    "view_search_results",
    "video_progress",
    "video_complete",
];

/// A GA4 event name as a canonical event type (others keep their own name).
fn event_type(name: &str) -> &str {
    match name {
        "form_submit" | "generate_lead" => "form_submit",
        "file_download" => "download",
        "sign_up" => "signup",
        "login" => "login",
        "video_start" => "video_view",
        "click" | "select_promotion" => "cta_click",
        "view_promotion" => "cta_view",
        other => other,
    }
}

impl Preset for Ga4BigQuery {
    fn spec(&self) -> &Spec {
        &SPEC
    }

    fn plan(&self, file: &FileContext, shared: &mut Shared) -> Result<PresetPlan, ImportError> {
        let h = rows::Columns { file: file.name, header: file.header };
        let need = |names: &[&str], what: &str| h.need(names, what);
        let at = |names: &[&str]| h.find(names);
        let columns = Columns {
            timestamp: need(&["event_timestamp"], "event time")?,
            name: need(&["event_name"], "event name")?,
            visitor: need(&["user_pseudo_id"], "visitor (user_pseudo_id)")?,
            params: need(&["event_params"], "event parameters")?,
            user_id: at(&["user_id"]),
            source: at(&["collected_traffic_source.manual_source"]),
            medium: at(&["collected_traffic_source.manual_medium"]),
            campaign: at(&["collected_traffic_source.manual_campaign_name"]),
            content: at(&["collected_traffic_source.manual_content"]),
            term: at(&["collected_traffic_source.manual_term"]),
            gclid: at(&["collected_traffic_source.gclid"]),
            dclid: at(&["collected_traffic_source.dclid"]),
            device: at(&["device.category"]),
            country: at(&["geo.country"]),
            region: at(&["geo.region"]),
            bundle: at(&["event_bundle_sequence_id"]),
        };
        let state: &mut Arc<Mutex<State>> = shared.get_or_insert_with(Arc::default);
        let outputs = vec![
            Output { table: &SESSIONS, header: rows::header(SESSION_COLUMNS), mapping: None },
            Output { table: &EVENTS, header: rows::header(EVENT_COLUMNS), mapping: None },
        ];
        Ok(PresetPlan::Transform {
            outputs,
            transform: Box::new(Events { columns, state: state.clone() }),
        })
    }

    fn show(&self) -> String {
        "# ga4-bigquery (Google Analytics 4): code, not a mapping: sessions are cut from events.\n\
         # sessions, one per user_pseudo_id + ga_session_id (event parameter):\n\
         #   session_id = user_pseudo_id-ga_session_id, started_at = the first event_timestamp,\n\
         #   visitor_id = user_pseudo_id, contact_id = user_id, utm_* = the landing URL's tags\n\
         #   (page_location of the first event), else collected_traffic_source.manual_*,\n\
         #   click_id_type = the click id on the landing URL (gclid, msclkid, li_fat_id, fbclid, ...)\n\
         #   or collected_traffic_source.gclid, referrer = page_referrer, landing_page = the\n\
         #   landing URL's path, pageviews = page_view events, duration_seconds = last - first\n\
         #   event, bounced = no session_engaged = 1 and at most one page view, device =\n\
         #   device.category, country = geo.country, region = geo.region.\n\
         # events, one per action (not page_view, session_start, first_visit, user_engagement,\n\
         #   scroll, form_start, view_search_results, video_progress, video_complete):\n\
         #   event_type: form_submit / generate_lead → form_submit, file_download → download,\n\
         #   sign_up → signup, video_start → video_view, click → cta_click, others as named;\n\
         #   name = form_id, form_name, file_name, link_url or video_title; value = value.\n"
            .to_owned()
    }
}

#[derive(Debug, Clone, Copy)]
struct Columns {
    timestamp: usize,
    name: usize,
    visitor: usize,
    params: usize,
    user_id: Option<usize>,
    source: Option<usize>,
    medium: Option<usize>,
    campaign: Option<usize>,
    content: Option<usize>,
    term: Option<usize>,
    gclid: Option<usize>,
    dclid: Option<usize>,
    device: Option<usize>,
    country: Option<usize>,
    region: Option<usize>,
    bundle: Option<usize>,
}

/// One session as its events are read.
#[derive(Debug, Default)]
struct Session {
    visitor: String,
    first: i64,
    last: i64,
    line: u64,
    /// What the earliest event says of how the visit came: landing URL, referrer, source.
    landing: Option<String>,
    referrer: Option<String>,
    source: [Option<String>; 5],
    click_id: Option<String>,
    contact: Option<String>,
    pageviews: u64,
    engaged: bool,
    device: Option<String>,
    country: Option<String>,
    region: Option<String>,
}

/// The sessions of every file of one import, kept until the end.
#[derive(Debug, Default)]
struct State {
    sessions: HashMap<String, Session>,
    events_seen: HashSet<String>,
    emitted: bool,
}

struct Events {
    columns: Columns,
    state: Arc<Mutex<State>>,
}

/// An event parameter's value as text (`string_value`, else the number).
fn params(text: Option<&str>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let Some(Ok(Value::Array(items))) = text.map(serde_json::from_str::<Value>) else {
        return out;
    };
    for item in items {
        let Some(key) = item.get("key").and_then(Value::as_str) else { continue };
        let Some(value) = item.get("value") else { continue };
        let v = ["string_value", "int_value", "double_value", "float_value"].iter().find_map(|k| {
            match value.get(*k) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            }
        });
        if let Some(v) = v {
            out.insert(key.to_owned(), v);
        }
    }
    out
}

fn rfc3339(micros: i64) -> Option<String> {
    DateTime::from_timestamp_micros(micros)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

impl Transform for Events {
    fn push(&mut self, raw: &RawBatch) -> Result<Vec<(usize, RawBatch)>, ImportError> {
        let c = self.columns;
        let mut events = RowsBuilder::new(EVENT_COLUMNS.len());
        let mut state = self.state.lock().map_err(|_| poisoned())?;
        for row in 0..raw.lines.len() {
            let line = raw.lines[row];
            let get = |at: Option<usize>| rows::field(raw, at, row);
            let Some(ts) = get(Some(c.timestamp)).and_then(|t| t.parse::<i64>().ok()) else {
                events.reject_source(
                    raw,
                    row,
                    "has no event_timestamp (microseconds since 1970)".into(),
                );
                continue;
            };
            let (Some(name), Some(visitor)) = (get(Some(c.name)), get(Some(c.visitor))) else {
                events.reject_source(raw, row, "has no event_name or user_pseudo_id".into());
                continue;
            };
            let p = params(get(Some(c.params)));
            let session_id = p.get("ga_session_id").map(|s| format!("{visitor}-{s}"));
            let contact = get(c.user_id).map(str::to_owned);
            if let Some(id) = &session_id {
                let s = state.sessions.entry(id.clone()).or_insert_with(|| Session {
                    visitor: visitor.to_owned(),
                    first: i64::MAX,
                    last: i64::MIN,
                    ..Session::default()
                });
                if ts < s.first {
                    s.first = ts;
                    s.line = line;
                    s.landing = p.get("page_location").cloned();
                    s.referrer = p.get("page_referrer").cloned();
                    s.source = [
                        get(c.source).map(str::to_owned),
                        get(c.medium).map(str::to_owned),
                        get(c.campaign).map(str::to_owned),
                        get(c.content).map(str::to_owned),
                        get(c.term).map(str::to_owned),
                    ];
                    s.click_id = get(c.gclid)
                        .map(|_| "gclid".to_owned())
                        .or_else(|| get(c.dclid).map(|_| "dclid".to_owned()));
                    s.device = get(c.device).map(str::to_owned);
                    s.country = get(c.country).map(str::to_owned);
                    s.region = get(c.region).map(str::to_owned);
                }
                s.last = s.last.max(ts);
                if name == "page_view" {
                    s.pageviews += 1;
                }
                if p.get("session_engaged").is_some_and(|v| v == "1") {
                    s.engaged = true;
                }
                if contact.is_some() {
                    s.contact = contact.clone();
                }
            }
            if NOT_ACTIONS.contains(&name) {
                continue;
            }
            let bundle = get(c.bundle).unwrap_or("");
            let event_id = format!("{visitor}-{ts}-{name}-{bundle}");
            // The same event twice (a re-extracted day) is the same fact: kept once.
            if !state.events_seen.insert(event_id.clone()) {
                continue;
            }
            let label =
                ["form_id", "form_name", "file_name", "link_url", "video_title", "link_text"]
                    .iter()
                    .find_map(|k| p.get(*k))
                    .cloned();
            let occurred = rfc3339(ts);
            events.push(
                line,
                &[
                    Some(event_id.as_str()),
                    occurred.as_deref(),
                    Some(event_type(name)),
                    Some(visitor),
                    contact.as_deref(),
                    session_id.as_deref(),
                    label.as_deref(),
                    p.get("value").map(String::as_str),
                ],
            );
        }
        Ok(if events.is_empty() { Vec::new() } else { vec![(1, events.finish())] })
    }

    fn finish(&mut self) -> Result<Vec<(usize, RawBatch)>, ImportError> {
        let mut state = self.state.lock().map_err(|_| poisoned())?;
        // Every file of the import shares the sessions: the first file to finish hands them on.
        if state.emitted {
            return Ok(Vec::new());
        }
        state.emitted = true;
        let mut sessions: Vec<(&String, &Session)> = state.sessions.iter().collect();
        sessions.sort_by_key(|(_, s)| (s.line, s.first));
        let mut out = RowsBuilder::new(SESSION_COLUMNS.len());
        for (id, s) in sessions {
            let landing = s.landing.as_deref().and_then(|u| url::Url::parse(u).ok());
            let query: HashMap<String, String> = landing
                .as_ref()
                .map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
                .unwrap_or_default();
            let tag = |key: &str, i: usize| {
                query.get(key).cloned().filter(|v| !v.is_empty()).or_else(|| s.source[i].clone())
            };
            let click = CLICK_IDS
                .iter()
                .find(|k| query.contains_key(**k))
                .map(|k| (*k).to_owned())
                .or_else(|| s.click_id.clone());
            let path = landing.as_ref().map(|u| u.path().to_owned());
            let started = rfc3339(s.first);
            let pageviews = s.pageviews.to_string();
            let duration = ((s.last - s.first) as f64 / 1e6).to_string();
            let bounced = (!s.engaged && s.pageviews <= 1).to_string();
            let tags: Vec<Option<String>> =
                ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"]
                    .iter()
                    .enumerate()
                    .map(|(i, k)| tag(k, i))
                    .collect();
            let values = [
                Some(id.as_str()),
                started.as_deref(),
                Some(s.visitor.as_str()),
                s.contact.as_deref(),
                tags[0].as_deref(),
                tags[1].as_deref(),
                tags[2].as_deref(),
                tags[3].as_deref(),
                tags[4].as_deref(),
                s.referrer.as_deref(),
                click.as_deref(),
                path.as_deref(),
                Some(pageviews.as_str()),
                Some(duration.as_str()),
                Some(bounced.as_str()),
                s.device.as_deref(),
                s.country.as_deref(),
                s.region.as_deref(),
            ];
            out.push(s.line, &values);
        }
        state.sessions.clear();
        Ok(if out.is_empty() { Vec::new() } else { vec![(0, out.finish())] })
    }
}

fn poisoned() -> ImportError {
    ImportError::Store(crate::StoreError::Internal("GA4 session state poisoned".into()))
}
