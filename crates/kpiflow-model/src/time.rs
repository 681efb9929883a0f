//! Time: grains, periods and comparisons, in the reporting calendar (DESIGN §4).
//!
//! A period is a half-open range of local dates `[from, to)`. A grain cuts it into buckets named
//! by their first day; the fiscal grains start at the configured fiscal-year start month. Fiscal
//! years are named by the calendar year they end in (with an April start, FY2026 runs from
//! 2025-04-01 to 2026-03-31), as most companies do; with a January start FY2026 is 2026.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, Months, NaiveDate};

/// How a period is cut into buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grain {
    Day,
    /// ISO week, Monday to Sunday.
    Week,
    Month,
    Quarter,
    Year,
    FiscalQuarter,
    FiscalYear,
    /// The whole period as one bucket.
    Total,
}

impl Grain {
    pub const ALL: &'static [Grain] = &[
        Grain::Day,
        Grain::Week,
        Grain::Month,
        Grain::Quarter,
        Grain::Year,
        Grain::FiscalQuarter,
        Grain::FiscalYear,
        Grain::Total,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
            Grain::Year => "year",
            Grain::FiscalQuarter => "fiscal_quarter",
            Grain::FiscalYear => "fiscal_year",
            Grain::Total => "total",
        }
    }

    /// Length in months for month-based grains.
    fn months(self) -> Option<u32> {
        match self {
            Grain::Month => Some(1),
            Grain::Quarter | Grain::FiscalQuarter => Some(3),
            Grain::Year | Grain::FiscalYear => Some(12),
            _ => None,
        }
    }
}

impl fmt::Display for Grain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Grain {
    type Err = String;
    fn from_str(s: &str) -> Result<Grain, String> {
        let s = s.trim().to_lowercase().replace('-', "_");
        Grain::ALL
            .iter()
            .copied()
            .find(|g| g.name() == s || (s == "iso_week" && *g == Grain::Week))
            .ok_or_else(|| {
                format!(
                    "`{s}` is not a grain; expected one of {}",
                    Grain::ALL.iter().map(|g| g.name()).collect::<Vec<_>>().join(", ")
                )
            })
    }
}

/// The calendar of a project: its fiscal-year start month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calendar {
    /// 1 = January.
    pub fiscal_start_month: u32,
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar { fiscal_start_month: 1 }
    }
}

fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// Adds `n` months (negative: back) to a first-of-month date.
fn add_months(d: NaiveDate, n: i32) -> NaiveDate {
    if n >= 0 {
        d.checked_add_months(Months::new(n as u32)).unwrap_or(NaiveDate::MAX)
    } else {
        d.checked_sub_months(Months::new(n.unsigned_abs())).unwrap_or(NaiveDate::MIN)
    }
}

fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    if n >= 0 {
        d.checked_add_days(Days::new(n as u64)).unwrap_or(NaiveDate::MAX)
    } else {
        d.checked_sub_days(Days::new(n.unsigned_abs())).unwrap_or(NaiveDate::MIN)
    }
}

impl Calendar {
    /// The first day of the bucket holding `d` (for `Total`, `d` itself).
    pub fn bucket_start(&self, grain: Grain, d: NaiveDate) -> NaiveDate {
        let month_start = |m: u32| ymd(d.year(), m, 1).unwrap_or(d);
        let shift = self.fiscal_start_month as i32 - 1;
        match grain {
            Grain::Day | Grain::Total => d,
            Grain::Week => add_days(d, -(d.weekday().num_days_from_monday() as i64)),
            Grain::Month => month_start(d.month()),
            Grain::Quarter => month_start((d.month() - 1) / 3 * 3 + 1),
            Grain::Year => month_start(1),
            Grain::FiscalQuarter | Grain::FiscalYear => {
                // Shift into a calendar where the fiscal year starts in January, truncate, shift back.
                let shifted = add_months(month_start(d.month()), -shift);
                let start = if grain == Grain::FiscalQuarter {
                    ymd(shifted.year(), (shifted.month() - 1) / 3 * 3 + 1, 1)
                } else {
                    ymd(shifted.year(), 1, 1)
                };
                add_months(start.unwrap_or(shifted), shift)
            }
        }
    }

    /// The first day after the bucket starting at `start`.
    pub fn bucket_end(&self, grain: Grain, start: NaiveDate) -> NaiveDate {
        match grain {
            Grain::Day | Grain::Total => add_days(start, 1),
            Grain::Week => add_days(start, 7),
            g => add_months(start, g.months().unwrap_or(1) as i32),
        }
    }

    /// The starts of the buckets covering `period`, in order (one for `Total`).
    pub fn buckets(&self, grain: Grain, period: &Period) -> Vec<NaiveDate> {
        if grain == Grain::Total {
            return vec![period.from];
        }
        let mut out = Vec::new();
        let mut b = self.bucket_start(grain, period.from);
        while b < period.to {
            out.push(b);
            b = self.bucket_end(grain, b);
        }
        out
    }

    /// Names a bucket for people: `2025-03`, `2025-Q1`, `FY2026-Q1`, `2025-W05`, `2025-03-14`.
    pub fn label(&self, grain: Grain, start: NaiveDate, period: &Period) -> String {
        let fy_end_year = |d: NaiveDate| {
            if self.fiscal_start_month == 1 { d.year() } else { add_months(d, 11).year() }
        };
        match grain {
            Grain::Day => start.to_string(),
            Grain::Week => {
                let w = start.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            Grain::Month => start.format("%Y-%m").to_string(),
            Grain::Quarter => format!("{}-Q{}", start.year(), (start.month() - 1) / 3 + 1),
            Grain::Year => start.year().to_string(),
            Grain::FiscalYear => format!("FY{}", fy_end_year(start)),
            Grain::FiscalQuarter => {
                let fy_start = self.bucket_start(Grain::FiscalYear, start);
                let q = (start.year() * 12 + start.month() as i32
                    - fy_start.year() * 12
                    - fy_start.month() as i32)
                    / 3
                    + 1;
                format!("FY{}-Q{q}", fy_end_year(fy_start))
            }
            Grain::Total => period.label.clone(),
        }
    }
}

/// A half-open range of local dates with a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    /// Exclusive.
    pub to: NaiveDate,
    pub label: String,
}

impl Period {
    /// From `from` to `to`, both included.
    pub fn between(from: NaiveDate, to_inclusive: NaiveDate) -> Result<Period, String> {
        if to_inclusive < from {
            return Err(format!("the period ends ({to_inclusive}) before it starts ({from})"));
        }
        Ok(Period { from, to: add_days(to_inclusive, 1), label: format!("{from}..{to_inclusive}") })
    }

    /// Parses `2025`, `2025-H1`, `2025-03`, `2025-Q1`, `2025-W05`, `2025-03-14`, `FY2026`,
    /// `FY2026-H2`, `FY2026-Q1`.
    pub fn parse(text: &str, calendar: &Calendar) -> Result<Period, String> {
        let t = text.trim().to_uppercase();
        let bad = || {
            format!(
                "`{text}` is not a period; expected a year (2025), half (2025-H1), quarter \
                 (2025-Q1), month (2025-03), ISO week (2025-W05), day (2025-03-14), fiscal year \
                 (FY2026), fiscal half (FY2026-H2) or fiscal quarter (FY2026-Q1)"
            )
        };
        let year = |s: &str| -> Result<i32, String> {
            s.parse::<i32>().ok().filter(|y| (1900..=2200).contains(y)).ok_or_else(bad)
        };
        let make = |from: Option<NaiveDate>, to: NaiveDate| -> Result<Period, String> {
            let from = from.ok_or_else(bad)?;
            Ok(Period { from, to, label: t.clone() })
        };
        let half = |s: &str| -> Result<u32, String> {
            s.parse::<u32>().ok().filter(|h| (1..=2).contains(h)).ok_or_else(bad)
        };
        if let Some(rest) = t.strip_prefix("FY") {
            if let Some((y, h)) = rest.split_once("-H") {
                let (y, h) = (year(y)?, half(h)?);
                let fy = Period::parse(&format!("FY{y}"), calendar)?;
                let s = add_months(fy.from, 6 * (h as i32 - 1));
                return make(Some(s), add_months(s, 6));
            }
            let (y, q) = match rest.split_once("-Q") {
                Some((y, q)) => (
                    year(y)?,
                    Some(q.parse::<u32>().ok().filter(|q| (1..=4).contains(q)).ok_or_else(bad)?),
                ),
                None => (year(rest)?, None),
            };
            // FY`y` ends in calendar year y: it starts 12 months before its end month + 1.
            let start_month = calendar.fiscal_start_month;
            let fy_start = if start_month == 1 { ymd(y, 1, 1) } else { ymd(y - 1, start_month, 1) }
                .ok_or_else(bad)?;
            return match q {
                None => make(Some(fy_start), add_months(fy_start, 12)),
                Some(q) => {
                    let s = add_months(fy_start, 3 * (q as i32 - 1));
                    make(Some(s), add_months(s, 3))
                }
            };
        }
        if let Some((y, h)) = t.split_once("-H") {
            let s = ymd(year(y)?, 6 * (half(h)? - 1) + 1, 1);
            return make(s, add_months(s.ok_or_else(bad)?, 6));
        }
        if let Some((y, q)) = t.split_once("-Q") {
            let q: u32 = q.parse().ok().filter(|q| (1..=4).contains(q)).ok_or_else(bad)?;
            let s = ymd(year(y)?, 3 * (q - 1) + 1, 1);
            return make(s, add_months(s.ok_or_else(bad)?, 3));
        }
        if let Some((y, w)) = t.split_once("-W") {
            let w: u32 = w.parse().map_err(|_| bad())?;
            let s = NaiveDate::from_isoywd_opt(year(y)?, w, chrono::Weekday::Mon);
            return make(s, add_days(s.ok_or_else(bad)?, 7));
        }
        let parts: Vec<&str> = t.split('-').collect();
        match parts.as_slice() {
            [y] => {
                let s = ymd(year(y)?, 1, 1);
                make(s, add_months(s.ok_or_else(bad)?, 12))
            }
            [y, m] => {
                let m: u32 = m.parse().map_err(|_| bad())?;
                let s = ymd(year(y)?, m, 1);
                make(s, add_months(s.ok_or_else(bad)?, 1))
            }
            [y, m, d] => {
                let s = ymd(year(y)?, m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
                make(s, add_days(s.ok_or_else(bad)?, 1))
            }
            _ => Err(bad()),
        }
    }

    /// Number of days in the period.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days()
    }

    /// Whether the local date `d` lies in the period.
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from <= d && d < self.to
    }

    /// Whether both ends are first days of months.
    pub fn month_aligned(&self) -> bool {
        self.from.day() == 1 && self.to.day() == 1
    }

    /// Length in months (fractional for ranges that are not whole months: days ÷ 30.4375).
    pub fn months(&self) -> f64 {
        if self.month_aligned() {
            ((self.to.year() - self.from.year()) * 12 + self.to.month() as i32
                - self.from.month() as i32) as f64
        } else {
            (self.to - self.from).num_days() as f64 / 30.4375
        }
    }

    /// The period of the same length just before (whole months when month-aligned).
    pub fn previous(&self) -> Period {
        let (from, to) = if self.month_aligned() {
            let n = self.months() as i32;
            (add_months(self.from, -n), self.from)
        } else {
            (add_days(self.from, -(self.to - self.from).num_days()), self.from)
        };
        Period { label: format!("{from}..{}", add_days(to, -1)), from, to }
    }

    /// The same period a year earlier.
    pub fn year_earlier(&self) -> Period {
        let (from, to) = (add_months(self.from, -12), add_months(self.to, -12));
        Period { label: format!("{from}..{}", add_days(to, -1)), from, to }
    }
}

/// What a figure is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// The previous bucket of the same grain (for `total`, the previous period of the same length).
    Previous,
    /// The same bucket a year earlier (52 weeks for weeks and days, so weekdays line up).
    YearOverYear,
}

impl Calendar {
    /// The bucket `start` is compared with: its start and end.
    pub fn shifted(
        &self,
        grain: Grain,
        start: NaiveDate,
        period: &Period,
        compare: Compare,
    ) -> (NaiveDate, NaiveDate) {
        // For `total`, the bucket is a window as long as the period, starting at `start` (the
        // period itself, or an already shifted window).
        let window = || {
            let to = if period.month_aligned() {
                add_months(start, period.months() as i32)
            } else {
                add_days(start, (period.to - period.from).num_days())
            };
            Period { from: start, to, label: String::new() }
        };
        match (grain, compare) {
            (Grain::Total, Compare::Previous) => {
                let p = window().previous();
                (p.from, p.to)
            }
            (Grain::Total, Compare::YearOverYear) => {
                let p = window().year_earlier();
                (p.from, p.to)
            }
            (g, Compare::Previous) => {
                let s = self.bucket_start(g, add_days(start, -1));
                (s, self.bucket_end(g, s))
            }
            (Grain::Day | Grain::Week, Compare::YearOverYear) => {
                let s = add_days(start, -364);
                (s, self.bucket_end(grain, s))
            }
            (g, Compare::YearOverYear) => {
                let s = add_months(start, -12);
                (s, self.bucket_end(g, s))
            }
        }
    }
}

/// Days from `a` to `b`.
pub fn days_between(a: NaiveDate, b: NaiveDate) -> i64 {
    (b - a).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn periods_parse_in_every_form() {
        let cal = Calendar { fiscal_start_month: 4 };
        let p = |s| Period::parse(s, &cal).unwrap();
        assert_eq!((p("2025").from, p("2025").to), (d("2025-01-01"), d("2026-01-01")));
        assert_eq!((p("2025-q2").from, p("2025-Q2").to), (d("2025-04-01"), d("2025-07-01")));
        assert_eq!((p("2025-03").from, p("2025-03").to), (d("2025-03-01"), d("2025-04-01")));
        assert_eq!((p("2025-W01").from, p("2025-W01").to), (d("2024-12-30"), d("2025-01-06")));
        assert_eq!((p("2025-03-14").from, p("2025-03-14").to), (d("2025-03-14"), d("2025-03-15")));
        // Fiscal years are named by the year they end in.
        assert_eq!((p("FY2026").from, p("FY2026").to), (d("2025-04-01"), d("2026-04-01")));
        assert_eq!((p("FY2026-Q4").from, p("FY2026-Q4").to), (d("2026-01-01"), d("2026-04-01")));
        assert_eq!((p("FY2026-H2").from, p("FY2026-H2").to), (d("2025-10-01"), d("2026-04-01")));
        assert_eq!((p("2025-H2").from, p("2025-h2").to), (d("2025-07-01"), d("2026-01-01")));
        let jan = Calendar::default();
        assert_eq!(Period::parse("FY2026", &jan).unwrap().from, d("2026-01-01"));
        for bad in
            ["2025-13", "2025-Q5", "2025-H3", "FY2026-H0", "FY", "last year", "2025-02-30", "99999"]
        {
            assert!(Period::parse(bad, &cal).is_err(), "{bad}");
        }
    }

    #[test]
    fn buckets_and_labels_follow_the_fiscal_calendar() {
        let cal = Calendar { fiscal_start_month: 4 };
        let fy = Period::parse("FY2026", &cal).unwrap();
        let qs = cal.buckets(Grain::FiscalQuarter, &fy);
        assert_eq!(qs, [d("2025-04-01"), d("2025-07-01"), d("2025-10-01"), d("2026-01-01")]);
        let labels: Vec<String> =
            qs.iter().map(|q| cal.label(Grain::FiscalQuarter, *q, &fy)).collect();
        assert_eq!(labels, ["FY2026-Q1", "FY2026-Q2", "FY2026-Q3", "FY2026-Q4"]);
        assert_eq!(cal.bucket_start(Grain::FiscalYear, d("2026-03-31")), d("2025-04-01"));
        assert_eq!(cal.bucket_start(Grain::FiscalYear, d("2026-04-01")), d("2026-04-01"));
        assert_eq!(cal.bucket_start(Grain::FiscalQuarter, d("2026-02-15")), d("2026-01-01"));
        assert_eq!(cal.bucket_start(Grain::Week, d("2025-01-01")), d("2024-12-30"));
        assert_eq!(cal.bucket_start(Grain::Quarter, d("2025-05-31")), d("2025-04-01"));
        assert_eq!(cal.label(Grain::Week, d("2024-12-30"), &fy), "2025-W01");
    }

    #[test]
    fn comparisons_shift_by_grain() {
        let cal = Calendar::default();
        let q1 = Period::parse("2025-Q1", &cal).unwrap();
        assert_eq!(
            cal.shifted(Grain::Total, q1.from, &q1, Compare::Previous),
            (d("2024-10-01"), d("2025-01-01"))
        );
        assert_eq!(
            cal.shifted(Grain::Total, q1.from, &q1, Compare::YearOverYear),
            (d("2024-01-01"), d("2024-04-01"))
        );
        assert_eq!(
            cal.shifted(Grain::Month, d("2025-03-01"), &q1, Compare::Previous),
            (d("2025-02-01"), d("2025-03-01"))
        );
        assert_eq!(
            cal.shifted(Grain::Week, d("2025-03-03"), &q1, Compare::YearOverYear),
            (d("2024-03-04"), d("2024-03-11"))
        );
        let range = Period::between(d("2025-03-10"), d("2025-03-16")).unwrap();
        assert_eq!(range.previous().from, d("2025-03-03"));
        assert!((q1.months() - 3.0).abs() < 1e-9);
        // Shifting a shifted window goes further back.
        let (prev, _) = cal.shifted(Grain::Total, q1.from, &q1, Compare::Previous);
        assert_eq!(cal.shifted(Grain::Total, prev, &q1, Compare::Previous).0, d("2024-07-01"));
    }
}
