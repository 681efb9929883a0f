//! Stripe's subscriptions export (Dashboard → Billing → Subscriptions → Export): no export of
//! Stripe has an MRR column, so MRR is computed here, per customer and month, from each
//! subscription's plan amount × quantity normalised to a month by its interval. Code, not a
//! mapping: one subscription is many months, and a customer's subscriptions add up.
//!
//! The rule (stated in `kpiflow presets show stripe-subscriptions`): a subscription counts in a
//! month when it is paying at the month's end — started before it, not ended by it, its trial
//! over by it; never for `incomplete` ones. Months run to the file's horizon, the month of the
//! latest date any subscription in the import carries (the export was taken then): an ended
//! subscription's last month is the one before it ended, a live one runs to the horizon.
//! Discounts and coupons are not taken off (the export does not say what is left of them).

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, Mutex};

use chrono::NaiveDate;
use kpiflow_model::schema::REVENUE;

use super::rows::{self, RowsBuilder};
use super::{FileContext, Output, Preset, PresetInfo, PresetPlan, Shared, Spec, Transform};
use crate::error::ImportError;
use crate::import::format::{RawBatch, ReadOptions};

#[derive(Debug)]
pub struct StripeSubscriptions;

static SPEC: LazyLock<Spec> = LazyLock::new(|| Spec {
    info: PresetInfo {
        name: "stripe-subscriptions".into(),
        vendor: "Stripe".into(),
        title: "Subscriptions export → monthly recurring revenue per customer".into(),
        export: "In the Stripe Dashboard: Billing → Subscriptions → Export, with the columns \
             Customer ID, Status, Amount, Currency, Interval, Quantity and the (UTC) dates \
             (Start, Current Period Start and End, Trial End, Ended At); all statuses."
            .into(),
        tables: vec![REVENUE.name],
        files: vec!["subscriptions*.csv".into()],
        detect: vec![
            vec!["Customer ID".into()],
            vec!["Status".into()],
            vec!["Amount".into(), "Plan Amount".into()],
            vec!["Interval".into(), "Plan Interval".into()],
            vec![
                "Current Period Start (UTC)".into(),
                "Start Date (UTC)".into(),
                "Start (UTC)".into(),
            ],
        ],
        kind: "code",
    },
    read: ReadOptions::default(),
    formats: vec!["csv", "xlsx"],
});

const OUT: &[&str] = &["account_id", "month", "mrr", "currency"];

impl Preset for StripeSubscriptions {
    fn spec(&self) -> &Spec {
        &SPEC
    }

    fn plan(&self, file: &FileContext, shared: &mut Shared) -> Result<PresetPlan, ImportError> {
        let h = rows::Columns { file: file.name, header: file.header };
        let need = |names: &[&str], what: &str| h.need(names, what);
        let at = |names: &[&str]| h.find(names);
        let columns = Columns {
            customer: need(&["Customer ID", "Customer", "customer"], "customer")?,
            amount: need(&["Amount", "Plan Amount", "plan.amount"], "plan amount")?,
            interval: need(&["Interval", "Plan Interval", "plan.interval"], "billing interval")?,
            status: need(&["Status", "status"], "status")?,
            start: need(
                &["Start Date (UTC)", "Start (UTC)", "Started At (UTC)", "Created (UTC)"],
                "start date",
            )?,
            currency: at(&["Currency", "Plan Currency", "plan.currency"]),
            count: at(&["Interval Count", "Plan Interval Count", "plan.interval_count"]),
            quantity: at(&["Quantity", "quantity"]),
            ended: at(&["Ended At (UTC)"]),
            trial_end: at(&["Trial End (UTC)"]),
            period_start: at(&["Current Period Start (UTC)"]),
            period_end: at(&["Current Period End (UTC)"]),
        };
        let state: &mut Arc<Mutex<Months>> = shared.get_or_insert_with(Arc::default);
        Ok(PresetPlan::Transform {
            outputs: vec![Output { table: &REVENUE, header: rows::header(OUT), mapping: None }],
            transform: Box::new(Subscriptions { columns, months: state.clone() }),
        })
    }

    fn show(&self) -> String {
        "# stripe-subscriptions (Stripe): code, not a mapping: MRR is computed.\n\
         # revenue, one row per Customer ID and month:\n\
         #   mrr = the sum over the customer's subscriptions paying at the month's end of\n\
         #         Amount × Quantity (default 1) per month of its Interval (month 1, year 1/12,\n\
         #         week 52/12, day 365/12), divided by Interval Count (default 1);\n\
         #   paying at the month's end: Start Date (UTC) before it, Ended At (UTC) not before\n\
         #   it, Trial End (UTC) before it, Status not incomplete or incomplete_expired;\n\
         #   months from the start to the one before Ended At, or, for a live subscription,\n\
         #   to the horizon: the month of the latest date in the import's subscriptions;\n\
         #   currency = Currency (upper-cased); discounts and coupons are not taken off.\n"
            .to_owned()
    }
}

#[derive(Debug, Clone, Copy)]
struct Columns {
    customer: usize,
    amount: usize,
    interval: usize,
    status: usize,
    start: usize,
    currency: Option<usize>,
    count: Option<usize>,
    quantity: Option<usize>,
    ended: Option<usize>,
    trial_end: Option<usize>,
    period_start: Option<usize>,
    period_end: Option<usize>,
}

/// One paying subscription as read: its customer, MRR, currency, dates and source line.
#[derive(Debug)]
struct Subscription {
    customer: String,
    mrr: f64,
    currency: Option<String>,
    start: NaiveDate,
    ended: Option<NaiveDate>,
    trial_end: Option<NaiveDate>,
    line: u64,
}

/// The subscriptions of every file of one import, and the latest date they carry.
#[derive(Debug, Default)]
struct Months {
    subscriptions: Vec<Subscription>,
    horizon: Option<NaiveDate>,
    emitted: bool,
}

struct Subscriptions {
    columns: Columns,
    months: Arc<Mutex<Months>>,
}

/// A subscription's amount per month, for Stripe's intervals.
fn per_month(interval: &str) -> Option<f64> {
    match interval.trim().to_lowercase().as_str() {
        "month" | "monthly" => Some(1.0),
        "year" | "yearly" | "annual" => Some(1.0 / 12.0),
        "week" | "weekly" => Some(52.0 / 12.0),
        "day" | "daily" => Some(365.0 / 12.0),
        _ => None,
    }
}

/// The most months one subscription spans (a guard against a date in the wrong century).
const MAX_MONTHS: usize = 1_200;

impl Transform for Subscriptions {
    fn push(&mut self, raw: &RawBatch) -> Result<Vec<(usize, RawBatch)>, ImportError> {
        let c = self.columns;
        let mut bad = RowsBuilder::new(OUT.len());
        let mut months = self.months.lock().map_err(|_| poisoned())?;
        for row in 0..raw.lines.len() {
            let line = raw.lines[row];
            let get = |at: Option<usize>| rows::field(raw, at, row);
            let mut reject = |why: String| bad.reject_source(raw, row, why);
            let status = get(Some(c.status)).unwrap_or("").to_lowercase();
            if status.starts_with("incomplete") {
                continue;
            }
            let Some(customer) = get(Some(c.customer)) else {
                reject("has no Customer ID".into());
                continue;
            };
            let number = |at: Option<usize>, default: f64| -> Result<f64, String> {
                match get(at) {
                    None => Ok(default),
                    Some(v) => kpiflow_model::parse::parse_number(v, b'.')
                        .filter(|n| !n.percent)
                        .map(|n| n.value)
                        .ok_or_else(|| format!("`{v}` is not a number")),
                }
            };
            let (amount, quantity, count) = match (
                number(Some(c.amount), 0.0),
                number(c.quantity, 1.0),
                number(c.count, 1.0),
            ) {
                (Ok(a), Ok(q), Ok(n)) if a >= 0.0 && q >= 0.0 && n > 0.0 => (a, q, n),
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                    reject(format!("column Amount, Quantity or Interval Count: {e}"));
                    continue;
                }
                _ => {
                    reject("has a negative amount or quantity, or an interval count of 0".into());
                    continue;
                }
            };
            let interval = get(Some(c.interval)).unwrap_or("");
            let Some(factor) = per_month(interval) else {
                reject(format!("interval `{interval}` is not day, week, month or year"));
                continue;
            };
            let date = |at: Option<usize>| -> Result<Option<NaiveDate>, String> {
                match get(at) {
                    None => Ok(None),
                    Some(v) => {
                        rows::instant(v).and_then(rows::utc_date).map(Some).ok_or_else(|| {
                            format!("`{v}` is not a date-time such as 2025-03-01 09:30")
                        })
                    }
                }
            };
            let dates = (
                date(Some(c.start)),
                date(c.ended),
                date(c.trial_end),
                date(c.period_start),
                date(c.period_end),
            );
            let (start, ended, trial_end, period_start, _period_end) = match dates {
                (Ok(Some(s)), Ok(e), Ok(t), Ok(ps), Ok(pe)) => (s, e, t, ps, pe),
                (Ok(None), ..) => {
                    reject("has no start date".into());
                    continue;
                }
                (Err(e), ..)
                | (_, Err(e), ..)
                | (_, _, Err(e), ..)
                | (.., Err(e), _)
                | (.., Err(e)) => {
                    reject(e);
                    continue;
                }
            };
            // What happened by the export: a start, an end, a billing period begun (a period's
            // end and a trial's end may lie ahead).
            let latest = [Some(start), ended, period_start].into_iter().flatten().max();
            months.horizon = months.horizon.max(latest);
            let mrr = amount * quantity * factor / count;
            if mrr > 0.0 {
                months.subscriptions.push(Subscription {
                    customer: customer.to_owned(),
                    mrr,
                    currency: get(c.currency).map(str::to_uppercase),
                    start,
                    ended,
                    trial_end,
                    line,
                });
            }
        }
        Ok(if bad.is_empty() { Vec::new() } else { vec![(0, bad.finish())] })
    }

    fn finish(&mut self) -> Result<Vec<(usize, RawBatch)>, ImportError> {
        let mut months = self.months.lock().map_err(|_| poisoned())?;
        if months.emitted {
            return Ok(Vec::new());
        }
        months.emitted = true;
        let Some(horizon) = months.horizon.map(rows::month_of) else { return Ok(Vec::new()) };
        // MRR per (customer, month), with its currency and the line of its first subscription.
        let mut mrr: BTreeMap<(String, NaiveDate), (f64, Option<String>, u64)> = BTreeMap::new();
        let mut bad = RowsBuilder::new(OUT.len());
        for s in &months.subscriptions {
            let last = match s.ended {
                Some(end) => rows::month_of(end).pred_opt().map(rows::month_of),
                None => Some(horizon),
            };
            let Some(last) = last else { continue };
            let mut month = rows::month_of(s.start);
            for _ in 0..MAX_MONTHS {
                if month > last {
                    break;
                }
                let month_end = rows::next_month(month);
                let paying = s.start < month_end
                    && s.ended.is_none_or(|e| e >= month_end)
                    && s.trial_end.is_none_or(|t| t < month_end);
                if paying {
                    let entry = mrr.entry((s.customer.clone(), month)).or_insert((
                        0.0,
                        s.currency.clone(),
                        s.line,
                    ));
                    if entry.1 != s.currency {
                        bad.reject(
                            s.line,
                            Vec::new(),
                            format!(
                                "customer {} pays in {} and {} in {}: one currency per customer \
                                 and month",
                                s.customer,
                                entry.1.as_deref().unwrap_or("the reporting currency"),
                                s.currency.as_deref().unwrap_or("the reporting currency"),
                                month.format("%Y-%m")
                            ),
                        );
                        break;
                    }
                    entry.0 += s.mrr;
                }
                month = month_end;
            }
        }
        let mut out = RowsBuilder::new(OUT.len());
        for ((customer, month), (value, currency, line)) in &mrr {
            let m = month.format("%Y-%m").to_string();
            // Cents are the unit a price has; sums of interval shares are rounded to them.
            let v = format!("{:.2}", (value * 100.0).round() / 100.0);
            out.push(
                *line,
                &[Some(customer.as_str()), Some(m.as_str()), Some(v.as_str()), currency.as_deref()],
            );
        }
        let mut batches = Vec::new();
        if !out.is_empty() {
            batches.push((0, out.finish()));
        }
        if !bad.is_empty() {
            batches.push((0, bad.finish()));
        }
        Ok(batches)
    }
}

fn poisoned() -> ImportError {
    ImportError::Store(crate::StoreError::Internal("Stripe state poisoned".into()))
}
