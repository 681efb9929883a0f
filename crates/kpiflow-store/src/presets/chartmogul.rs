//! ChartMogul's activities (MRR movements), as a loader such as Airbyte writes them: JSON lines
//! `{"stream": "activities", "data": {...}}`. Each activity says a customer's MRR after it
//! (`activity-mrr`, in cents); a customer's MRR in a month is the one its last activity before
//! the month's end left, carried forward month by month until it churns to zero, up to the
//! month of the latest activity in the import (the data's horizon). Code, not a mapping: one
//! activity is many months.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, Mutex};

use chrono::NaiveDate;
use kpiflow_model::schema::REVENUE;

use super::rows::{self, RowsBuilder};
use super::{FileContext, Output, Preset, PresetInfo, PresetPlan, Shared, Spec, Transform};
use crate::error::ImportError;
use crate::import::format::{RawBatch, ReadOptions};

#[derive(Debug)]
pub struct ChartMogul;

static SPEC: LazyLock<Spec> = LazyLock::new(|| Spec {
    info: PresetInfo {
        name: "chartmogul-activities-airbyte".into(),
        vendor: "ChartMogul".into(),
        title: "Activities (MRR movements) as Airbyte JSON lines → monthly recurring revenue"
            .into(),
        export: "Sync ChartMogul's `activities` stream with Airbyte (or another loader writing \
             {\"stream\", \"data\", \"emitted_at\"} JSON lines) to a local JSON-lines file."
            .into(),
        tables: vec![REVENUE.name],
        files: Vec::new(),
        detect: vec![
            vec!["activity-mrr".into()],
            vec!["date".into()],
            vec!["customer-uuid".into()],
            vec!["type".into()],
        ],
        kind: "code",
    },
    read: ReadOptions { stream: Some("activities".into()), ..ReadOptions::default() },
    formats: vec!["jsonl"],
});

const OUT: &[&str] = &["account_id", "month", "mrr", "currency"];

impl Preset for ChartMogul {
    fn spec(&self) -> &Spec {
        &SPEC
    }

    fn plan(&self, file: &FileContext, shared: &mut Shared) -> Result<PresetPlan, ImportError> {
        let h = rows::Columns { file: file.name, header: file.header };
        let need = |names: &[&str], what: &str| h.need(names, what);
        let columns = Columns {
            date: need(&["date"], "activity date")?,
            mrr: need(&["activity-mrr"], "MRR after the activity")?,
            uuid: need(&["customer-uuid"], "customer")?,
            external: h.find(&["customer-external-id"]),
            currency: h.find(&["currency"]),
        };
        let state: &mut Arc<Mutex<History>> = shared.get_or_insert_with(Arc::default);
        Ok(PresetPlan::Transform {
            outputs: vec![Output { table: &REVENUE, header: rows::header(OUT), mapping: None }],
            transform: Box::new(Activities { columns, history: state.clone() }),
        })
    }

    fn show(&self) -> String {
        "# chartmogul-activities-airbyte (ChartMogul): code, not a mapping: MRR is carried forward.\n\
         # stream = \"activities\"; revenue, one row per customer and month:\n\
         #   account_id = customer-external-id (else customer-uuid), currency = currency,\n\
         #   mrr = activity-mrr / 100 of the customer's last activity before the month's end,\n\
         #   from the month of its first activity to the month of the latest activity in the\n\
         #   import; months at zero MRR (churned) have no row.\n"
            .to_owned()
    }
}

#[derive(Debug, Clone, Copy)]
struct Columns {
    date: usize,
    mrr: usize,
    uuid: usize,
    external: Option<usize>,
    currency: Option<usize>,
}

/// One customer's activities: (instant, MRR after, line), and its currency.
type Customer = (Vec<(i64, f64, u64)>, Option<String>);

/// Each customer's activities.
#[derive(Debug, Default)]
struct History {
    customers: BTreeMap<String, Customer>,
    latest: Option<i64>,
    emitted: bool,
}

struct Activities {
    columns: Columns,
    history: Arc<Mutex<History>>,
}

impl Transform for Activities {
    fn push(&mut self, raw: &RawBatch) -> Result<Vec<(usize, RawBatch)>, ImportError> {
        let c = self.columns;
        let mut bad = RowsBuilder::new(OUT.len());
        let mut history = self.history.lock().map_err(|_| poisoned())?;
        for row in 0..raw.lines.len() {
            let line = raw.lines[row];
            let get = |at: Option<usize>| rows::field(raw, at, row);
            let mut reject = |why: String| bad.reject_source(raw, row, why);
            let Some(customer) = get(c.external).or(get(Some(c.uuid))) else {
                reject("has no customer-external-id or customer-uuid".into());
                continue;
            };
            let Some(at) = get(Some(c.date)).and_then(rows::instant) else {
                reject("`date` is not a date-time (RFC 3339)".into());
                continue;
            };
            let Some(mrr) = get(Some(c.mrr))
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
            else {
                reject("`activity-mrr` is not an amount in cents >= 0".into());
                continue;
            };
            let currency = get(c.currency).map(str::to_uppercase);
            let entry = history.customers.entry(customer.to_owned()).or_default();
            if entry.1.is_some() && currency.is_some() && entry.1 != currency {
                reject(format!("customer {customer} has activities in two currencies"));
                continue;
            }
            if entry.1.is_none() {
                entry.1 = currency;
            }
            entry.0.push((at, mrr / 100.0, line));
            history.latest = Some(history.latest.map_or(at, |l| l.max(at)));
        }
        Ok(if bad.is_empty() { Vec::new() } else { vec![(0, bad.finish())] })
    }

    fn finish(&mut self) -> Result<Vec<(usize, RawBatch)>, ImportError> {
        let mut history = self.history.lock().map_err(|_| poisoned())?;
        if history.emitted {
            return Ok(Vec::new());
        }
        history.emitted = true;
        let Some(horizon) = history.latest.and_then(rows::utc_date).map(rows::month_of) else {
            return Ok(Vec::new());
        };
        let mut out = RowsBuilder::new(OUT.len());
        for (customer, (activities, currency)) in history.customers.iter_mut() {
            activities.sort_by_key(|(at, _, line)| (*at, *line));
            let Some(first) = activities.first().and_then(|(at, _, _)| rows::utc_date(*at)) else {
                continue;
            };
            let mut month: NaiveDate = rows::month_of(first);
            let mut next = 0;
            let mut mrr = 0.0;
            let mut line = activities[0].2;
            while month <= horizon {
                let end = rows::next_month(month);
                let end_micros = end.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_micros());
                while next < activities.len() && end_micros.is_some_and(|e| activities[next].0 < e)
                {
                    mrr = activities[next].1;
                    line = activities[next].2;
                    next += 1;
                }
                if mrr > 0.0 {
                    let m = month.format("%Y-%m").to_string();
                    let v = mrr.to_string();
                    out.push(
                        line,
                        &[
                            Some(customer.as_str()),
                            Some(m.as_str()),
                            Some(v.as_str()),
                            currency.as_deref(),
                        ],
                    );
                }
                month = end;
            }
        }
        Ok(if out.is_empty() { Vec::new() } else { vec![(0, out.finish())] })
    }
}

fn poisoned() -> ImportError {
    ImportError::Store(crate::StoreError::Internal("ChartMogul state poisoned".into()))
}
