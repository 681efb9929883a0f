//! Parsing of raw text values into typed values, shared by every import format.
//!
//! Each function returns `None` when the text is not a valid value; the caller turns that into an
//! error naming the file, row, column, raw value and [`crate::ColumnType::expected`]. Empty text is
//! handled by the caller (it means "no value"), never here.
//!
//! The common ISO forms take a fast path (a 10 M-row import parses tens of millions of dates);
//! everything else goes through chrono with the mapping's format.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Microseconds since the Unix epoch, UTC: the store's timestamp unit.
pub type Micros = i64;

/// Days since the Unix epoch: the store's date unit (Arrow `Date32`).
pub fn days_since_epoch(date: NaiveDate) -> i32 {
    const EPOCH_DAYS_FROM_CE: i32 = 719_163;
    date.num_days_from_ce() - EPOCH_DAYS_FROM_CE
}

/// The date of a `Date32` value.
pub fn date_from_days(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(719_163)?)
}

/// A whole number: optional sign and digits; `12.0` (a float-typed export of a count) is accepted,
/// `12.5` is not.
pub fn parse_integer(raw: &str) -> Option<i64> {
    let s = raw.trim();
    if let Ok(v) = s.parse::<i64>() {
        return Some(v);
    }
    let (int, frac) = s.split_once('.')?;
    if !frac.is_empty() && frac.bytes().all(|b| b == b'0') { int.parse().ok() } else { None }
}

/// A finite decimal number (`1.5`, `-3`, `1e3`); NaN and infinities are not numbers here.
pub fn parse_decimal(raw: &str) -> Option<f64> {
    let s = raw.trim();
    // Rust accepts "inf"/"nan"; exports that write them hold no value we can use.
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

pub fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "1" | "yes" | "y" => Some(true),
        "false" | "f" | "0" | "no" | "n" => Some(false),
        _ => None,
    }
}

/// An ISO 4217 code, upper-cased.
pub fn parse_currency(raw: &str) -> Option<String> {
    let code = raw.trim().to_ascii_uppercase();
    iso_currency::Currency::from_code(&code).map(|_| code)
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// `YYYY-MM-DD` at the start of `b`.
fn iso_date_prefix(b: &[u8]) -> Option<NaiveDate> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(digits(&b[0..4])? as i32, digits(&b[5..7])?, digits(&b[8..10])?)
}

/// A date. Without a format: `YYYY-MM-DD`, or the date part of an ISO date-time. With a format
/// (chrono `strftime` syntax such as `%d/%m/%Y`), exactly that format, or a date-time in it.
pub fn parse_date(raw: &str, format: Option<&str>) -> Option<NaiveDate> {
    let s = raw.trim();
    match format {
        None => {
            let b = s.as_bytes();
            let date = iso_date_prefix(b)?;
            match b.get(10) {
                None => Some(date),
                Some(b'T' | b' ') => parse_timestamp(s, None, Tz::UTC).map(|_| date),
                Some(_) => None,
            }
        }
        Some(f) => NaiveDate::parse_from_str(s, f)
            .ok()
            .or_else(|| NaiveDateTime::parse_from_str(s, f).ok().map(|dt| dt.date())),
    }
}

/// A month, as the date of its first day: `YYYY-MM`, or any date (truncated to its month).
/// With a format that has no day (`%m/%Y`, `%b %Y`), the first of the month is assumed.
pub fn parse_month(raw: &str, format: Option<&str>) -> Option<NaiveDate> {
    let s = raw.trim();
    let b = s.as_bytes();
    if b.len() == 7
        && b[4] == b'-'
        && let Some(d) = digits(&b[0..4])
            .zip(digits(&b[5..7]))
            .and_then(|(y, m)| NaiveDate::from_ymd_opt(y as i32, m, 1))
    {
        return Some(d);
    }
    if let Some(f) = format
        && !["%d", "%e", "%j", "%F", "%D", "%x", "%c"].iter().any(|day| f.contains(day))
    {
        return NaiveDate::parse_from_str(&format!("{s} 1"), &format!("{f} %d")).ok();
    }
    parse_date(s, format).and_then(|d| d.with_day(1))
}

/// An instant, in microseconds since the epoch (UTC).
///
/// Without a format: RFC 3339 / ISO 8601 (`2024-03-01T09:30:00Z`, `2024-03-01 09:30:00+01:00`,
/// fractional seconds allowed), a naive `YYYY-MM-DD[ T]HH:MM[:SS[.f]]`, or a bare date (midnight).
/// With a format: that chrono format, with or without an offset (`%z`), or a date-only format.
/// Values without an offset are local times in `tz`; a local time that does not exist (the gap of
/// a daylight-saving change) is an error, an ambiguous one takes the earlier instant.
pub fn parse_timestamp(raw: &str, format: Option<&str>, tz: Tz) -> Option<Micros> {
    let s = raw.trim();
    let naive = match format {
        None => match parse_iso_timestamp(s)? {
            IsoTimestamp::Utc(micros) => return Some(micros),
            IsoTimestamp::Naive(ndt) => ndt,
        },
        Some(f) => {
            if let Ok(dt) = DateTime::parse_from_str(s, f) {
                return Some(dt.timestamp_micros());
            }
            NaiveDateTime::parse_from_str(s, f).ok().or_else(|| {
                NaiveDate::parse_from_str(s, f).ok().map(|d| d.and_time(NaiveTime::MIN))
            })?
        }
    };
    local_to_utc_micros(naive, tz)
}

/// A local wall-clock time in `tz` as UTC microseconds (see [`parse_timestamp`] for gaps/folds).
pub fn local_to_utc_micros(naive: NaiveDateTime, tz: Tz) -> Option<Micros> {
    if tz == Tz::UTC {
        return Some(naive.and_utc().timestamp_micros());
    }
    tz.from_local_datetime(&naive).earliest().map(|dt| dt.with_timezone(&Utc).timestamp_micros())
}

enum IsoTimestamp {
    Utc(Micros),
    Naive(NaiveDateTime),
}

fn parse_iso_timestamp(s: &str) -> Option<IsoTimestamp> {
    let b = s.as_bytes();
    let date = iso_date_prefix(b)?;
    if b.len() == 10 {
        return Some(IsoTimestamp::Naive(date.and_time(NaiveTime::MIN)));
    }
    if !matches!(b[10], b'T' | b' ') || b.len() < 16 || b[13] != b':' {
        return None;
    }
    let (hour, minute) = (digits(&b[11..13])?, digits(&b[14..16])?);
    let mut i = 16;
    let mut second = 0;
    let mut micros = 0u32;
    if b.get(i) == Some(&b':') {
        second = digits(b.get(i + 1..i + 3)?)?;
        i += 3;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let frac = &b[start..i];
            if frac.is_empty() {
                return None;
            }
            // Keep microseconds; finer digits are truncated.
            let mut v = 0u32;
            for k in 0..6 {
                v = v * 10 + frac.get(k).map_or(0, |c| u32::from(c - b'0'));
            }
            micros = v;
        }
    }
    let naive = date.and_hms_micro_opt(hour, minute, second, micros)?;
    let rest = &s[i..];
    let offset_seconds = match rest {
        "" => return Some(IsoTimestamp::Naive(naive)),
        "Z" | "z" => 0,
        _ => {
            let rb = rest.as_bytes();
            let sign = match rb[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let body = &rb[1..];
            let (h, m) = match body.len() {
                2 => (digits(body)?, 0),
                4 => (digits(&body[0..2])?, digits(&body[2..4])?),
                5 if body[2] == b':' => (digits(&body[0..2])?, digits(&body[3..5])?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h as i64 * 3600 + m as i64 * 60)
        }
    };
    Some(IsoTimestamp::Utc(naive.and_utc().timestamp_micros() - offset_seconds * 1_000_000))
}

/// Whether `format` is a chrono format string that formats a date without error.
pub fn is_valid_format(format: &str) -> bool {
    use chrono::format::{Item, StrftimeItems};
    !format.is_empty() && StrftimeItems::new(format).all(|item| !matches!(item, Item::Error))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_integer(" 42 "), Some(42));
        assert_eq!(parse_integer("100.0"), Some(100));
        assert_eq!(parse_integer("1.5"), None);
        assert_eq!(parse_integer("abc"), None);
        assert_eq!(parse_decimal("1.429999948"), Some(1.429999948));
        assert_eq!(parse_decimal("NaN"), None);
        assert_eq!(parse_decimal("inf"), None);
    }

    #[test]
    fn dates_and_months() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        assert_eq!(parse_date("2024-03-01", None), Some(d));
        assert_eq!(parse_date("2024-03-01 10:00:00", None), Some(d));
        assert_eq!(parse_date("2024-02-30", None), None);
        assert_eq!(parse_date("01/03/2024", Some("%d/%m/%Y")), Some(d));
        assert_eq!(parse_date("01/03/2024", None), None);
        assert_eq!(parse_month("2024-03", None), Some(d));
        assert_eq!(parse_month("2024-03-17", None), Some(d));
        assert_eq!(parse_month("03/2024", Some("%m/%Y")), Some(d));
        assert_eq!(parse_month("Mar 2024", Some("%b %Y")), Some(d));
        assert_eq!(parse_month("2024-03", Some("%d.%m.%Y")), Some(d));
        assert_eq!(parse_month("17.03.2024", Some("%d.%m.%Y")), Some(d));
        assert_eq!(days_since_epoch(NaiveDate::from_ymd_opt(1970, 1, 2).unwrap()), 1);
        assert_eq!(date_from_days(days_since_epoch(d)), Some(d));
    }

    #[test]
    fn timestamps() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(
            parse_timestamp("2024-03-01T09:30:00Z", None, berlin),
            Some(ts("2024-03-01T09:30:00Z"))
        );
        assert_eq!(
            parse_timestamp("2024-03-01 09:30:00.5+01:00", None, Tz::UTC),
            Some(ts("2024-03-01T08:30:00.5Z"))
        );
        assert_eq!(
            parse_timestamp("2024-03-01 09:30", None, berlin),
            Some(ts("2024-03-01T08:30:00Z"))
        );
        assert_eq!(parse_timestamp("2024-03-01", None, Tz::UTC), Some(ts("2024-03-01T00:00:00Z")));
        assert_eq!(
            parse_timestamp("03/01/2024 9:30 AM", Some("%m/%d/%Y %I:%M %p"), Tz::UTC),
            Some(ts("2024-03-01T09:30:00Z"))
        );
        // 02:30 on the spring-forward night does not exist in Berlin.
        assert_eq!(parse_timestamp("2024-03-31 02:30:00", None, berlin), None);
        assert_eq!(parse_timestamp("2024-03-01T25:00:00Z", None, Tz::UTC), None);
        assert_eq!(parse_timestamp("yesterday", None, Tz::UTC), None);
    }

    #[test]
    fn booleans_and_currencies() {
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("n"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
        assert_eq!(parse_currency("eur").as_deref(), Some("EUR"));
        assert_eq!(parse_currency("EURO"), None);
        assert!(is_valid_format("%Y-%m-%d"));
        assert!(!is_valid_format("%Q"));
    }
}
