//! The months and (fiscal) quarters of a period, clipped to it: what targets are split into.

use chrono::NaiveDate;
use kpiflow_model::time::{Calendar, Grain, Period};
use serde::Serialize;

/// A part of a period: `[from, to)`, named like a report bucket (`2026-03`, `FY2026-Q1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Slice {
    pub label: String,
    /// The bucket's first day (a month or quarter start), even when the period starts later.
    pub bucket: NaiveDate,
    pub from: NaiveDate,
    /// Exclusive.
    pub to: NaiveDate,
}

impl Slice {
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days()
    }

    /// Days of this slice before `cutoff` (exclusive).
    pub fn days_before(&self, cutoff: NaiveDate) -> i64 {
        (cutoff.min(self.to) - self.from).num_days().max(0)
    }
}

/// The buckets of `grain` covering `period`, each clipped to it.
pub fn slices(calendar: &Calendar, grain: Grain, period: &Period) -> Vec<Slice> {
    calendar
        .buckets(grain, period)
        .into_iter()
        .map(|start| {
            let end = calendar.bucket_end(grain, start);
            Slice {
                label: calendar.label(grain, start, period),
                bucket: start,
                from: start.max(period.from),
                to: end.min(period.to),
            }
        })
        .collect()
}

/// The months of a period.
pub fn months(calendar: &Calendar, period: &Period) -> Vec<Slice> {
    slices(calendar, Grain::Month, period)
}

/// The fiscal quarters of a period.
pub fn quarters(calendar: &Calendar, period: &Period) -> Vec<Slice> {
    slices(calendar, Grain::FiscalQuarter, period)
}

/// Days in the calendar month starting at `month_start`.
pub fn month_days(month_start: NaiveDate) -> i64 {
    let next = month_start.checked_add_months(chrono::Months::new(1)).unwrap_or(month_start);
    (next - month_start).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_are_clipped_to_the_period() {
        let cal = Calendar { fiscal_start_month: 4 };
        let p =
            Period::between("2026-01-15".parse().unwrap(), "2026-04-10".parse().unwrap()).unwrap();
        let m = months(&cal, &p);
        assert_eq!(m.len(), 4);
        assert_eq!((m[0].label.as_str(), m[0].days()), ("2026-01", 17));
        assert_eq!((m[3].label.as_str(), m[3].days()), ("2026-04", 10));
        let q = quarters(&cal, &p);
        let labels: Vec<&str> = q.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["FY2026-Q4", "FY2027-Q1"]);
        assert_eq!(q[0].days() + q[1].days(), p.days());
    }
}
