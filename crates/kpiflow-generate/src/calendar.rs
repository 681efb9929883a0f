//! The 24 months the data covers, and how busy each day is (seasonality, weekdays, growth, the
//! yearly trade show).

use chrono::{Datelike, Months, NaiveDate, Weekday};
use kpiflow_model::parse::days_since_epoch;

/// Months the data covers.
pub const MONTHS: u32 = 24;

/// The covered period and its calendar facts.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// First day covered (the first day of the first month).
    pub start: NaiveDate,
    /// Last day covered (the last day of the end month).
    pub end: NaiveDate,
    /// Number of days covered.
    pub days: u32,
    /// `start` as days since the epoch.
    pub start_epoch_day: i32,
    /// The month (1–12) of the yearly trade show; its days are 14–16 of that month.
    pub trade_show_month: u32,
}

pub const SECS_PER_DAY: i64 = 86_400;

impl Timeline {
    /// The 24 months ending with the month of `end_month`; `None` if out of chrono's range.
    pub fn new(end_month: NaiveDate, trade_show_month: u32) -> Option<Timeline> {
        let last_month = end_month.with_day(1)?;
        let start = last_month.checked_sub_months(Months::new(MONTHS - 1))?;
        let end = last_month.checked_add_months(Months::new(1))?.pred_opt()?;
        let days = u32::try_from((end - start).num_days() + 1).ok()?;
        Some(Timeline {
            start,
            end,
            days,
            start_epoch_day: days_since_epoch(start),
            trade_show_month,
        })
    }

    /// The date of day `d` (0 = `start`).
    pub fn date(&self, d: u32) -> NaiveDate {
        self.start + chrono::Duration::days(i64::from(d))
    }

    /// Days since the epoch of day `d`.
    pub fn epoch_day(&self, d: u32) -> i32 {
        self.start_epoch_day + d as i32
    }

    /// Seconds since the epoch at midnight UTC of day `d`.
    pub fn day_start(&self, d: u32) -> i64 {
        i64::from(self.epoch_day(d)) * SECS_PER_DAY
    }

    /// The first second after the covered period.
    pub fn end_secs(&self) -> i64 {
        self.day_start(self.days)
    }

    /// The day index of an instant (may be out of range).
    pub fn day_of(&self, secs: i64) -> i64 {
        secs.div_euclid(SECS_PER_DAY) - i64::from(self.start_epoch_day)
    }

    /// The index (0–23) of the month of day `d`.
    pub fn month_index(&self, d: u32) -> u32 {
        let date = self.date(d);
        ((date.year() - self.start.year()) * 12 + date.month() as i32 - self.start.month() as i32)
            .max(0) as u32
    }

    /// The first day of month `m` (0–23).
    pub fn month_start(&self, m: u32) -> NaiveDate {
        self.start.checked_add_months(Months::new(m)).unwrap_or(self.start)
    }

    pub fn is_last_day_of_month(&self, d: u32) -> bool {
        let date = self.date(d);
        (date + chrono::Duration::days(1)).day() == 1
    }

    /// Whether day `d` is one of the trade show's days (14–16 of the show month).
    pub fn is_trade_show(&self, d: u32) -> bool {
        let date = self.date(d);
        date.month() == self.trade_show_month && (14..=16).contains(&date.day())
    }

    /// Days from the nearest trade show day (0 on a show day), capped at 60.
    fn days_to_trade_show(&self, d: u32) -> u32 {
        let date = self.date(d);
        let mut best = 60;
        for dy in [-1, 0, 1] {
            if let Some(show) = NaiveDate::from_ymd_opt(date.year() + dy, self.trade_show_month, 15)
            {
                let dist = (date - show).num_days().unsigned_abs().saturating_sub(1);
                best = best.min(dist.min(60) as u32);
            }
        }
        best
    }

    /// How busy a day is for web traffic, before normalisation: month seasonality (summer and
    /// December dips), the holidays, weekdays against weekends, a mild growth over the two years,
    /// and the buzz around the trade show.
    pub fn traffic_weight(&self, d: u32) -> f64 {
        let date = self.date(d);
        const MONTH: [f64; 12] =
            [1.0, 1.05, 1.1, 1.05, 1.05, 0.95, 0.75, 0.7, 1.05, 1.15, 1.1, 0.8];
        let mut w = MONTH[date.month0() as usize];
        let (m, day) = (date.month(), date.day());
        if (m == 12 && day >= 22) || (m == 1 && day <= 2) {
            w *= 0.6;
        }
        w *= weekday_weight(date.weekday());
        w *= 1.0 + 0.4 * f64::from(d) / f64::from(self.days.max(1));
        match self.days_to_trade_show(d) {
            0 => w *= 1.3,
            1..=7 => w *= 1.1,
            _ => {}
        }
        w
    }

    /// Whether the events channel is boosted on day `d` (the show and the week after).
    pub fn events_boost(&self, d: u32) -> f64 {
        match self.days_to_trade_show(d) {
            0 => 12.0,
            1..=7 => 4.0,
            _ => 1.0,
        }
    }
}

/// Traffic weight of a weekday (B2B: busy midweek, quiet weekends).
pub fn weekday_weight(w: Weekday) -> f64 {
    match w {
        Weekday::Mon => 1.15,
        Weekday::Tue | Weekday::Wed => 1.2,
        Weekday::Thu => 1.1,
        Weekday::Fri => 0.9,
        Weekday::Sat => 0.45,
        Weekday::Sun => 0.5,
    }
}

/// Weights of the local hours of the day for business activity.
pub const HOUR_WEIGHTS: [f64; 24] = [
    0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.8, 1.3, 1.7, 1.8, 1.8, 1.5, 1.6, 1.7, 1.6, 1.4, 1.1,
    0.8, 0.7, 0.6, 0.5, 0.35, 0.25,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_24_months_ending_with_the_end_month() {
        let end = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap_or_default();
        let Some(t) = Timeline::new(end, 10) else { panic!("timeline") };
        assert_eq!(t.start, NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default());
        assert_eq!(t.end, NaiveDate::from_ymd_opt(2025, 12, 31).unwrap_or_default());
        assert_eq!(t.days, 731);
        assert_eq!(t.month_index(t.days - 1), 23);
        assert!(t.is_last_day_of_month(30));
        assert!(t.is_trade_show(t.days - 31 - 30 - 31 + 13));
    }
}
