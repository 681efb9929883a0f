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

/// A number as exports write it: the value, whether it was a percentage, and the currency
/// written beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    pub value: f64,
    /// Written with `%`: the caller decides what a percentage means for its column.
    pub percent: bool,
    /// An ISO 4217 code or an unambiguous symbol (`€`, `£`) written around the amount; `$` and
    /// `¥` are stripped but name no currency (several use them).
    pub currency: Option<String>,
}

/// A number as exports write it (`1,234.50`, `"USD 12,500.00"`, `12.3%`, `€ 1.234,50`,
/// `(1,234)`, `-$5`, `1e3`), `decimal` being `b'.'` or `b','`.
///
/// Thousands separators are the other of `.` and `,`, spaces (also no-break and narrow ones)
/// and apostrophes; they must group three digits, so `1,23` with a decimal point is not a
/// number (it is likely a decimal comma, which the caller can suggest). Plain numbers take a
/// fast path.
pub fn parse_number(raw: &str, decimal: u8) -> Option<Number> {
    let s = raw.trim();
    let plain = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite());
    if (decimal == b'.' || !s.contains('.'))
        && let Some(v) = plain(s)
    {
        return Some(Number { value: v, percent: false, currency: None });
    }
    let mut rest = s;
    let mut negative = false;
    if let Some(inner) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        negative = true;
        rest = inner.trim();
    }
    let mut sign = |rest: &mut &str| {
        if let Some(r) = rest.strip_prefix('-').or_else(|| rest.strip_prefix('\u{2212}')) {
            negative = !negative;
            *rest = r.trim_start();
        } else if let Some(r) = rest.strip_prefix('+') {
            *rest = r.trim_start();
        }
    };
    sign(&mut rest);
    let mut percent = false;
    if let Some(r) = rest.strip_suffix('%') {
        percent = true;
        rest = r.trim_end();
    }
    let (currency, amount) = strip_currency(rest)?;
    rest = amount;
    sign(&mut rest);
    if !percent && let Some(r) = rest.strip_suffix('%') {
        percent = true;
        rest = r.trim_end();
    }
    let value = grouped_number(rest, decimal)?;
    Some(Number { value: if negative { -value } else { value }, percent, currency })
}

/// Currency symbols that name one currency; `$` and `¥` name several and are stripped only.
/// Longer symbols first, so `US$` is not read as `$`.
const SYMBOLS: &[(&str, Option<&str>)] = &[
    ("US$", Some("USD")),
    ("CA$", Some("CAD")),
    ("AU$", Some("AUD")),
    ("NZ$", Some("NZD")),
    ("HK$", Some("HKD")),
    ("MX$", Some("MXN")),
    ("C$", Some("CAD")),
    ("A$", Some("AUD")),
    ("S$", Some("SGD")),
    ("R$", Some("BRL")),
    ("zł", Some("PLN")),
    ("€", Some("EUR")),
    ("£", Some("GBP")),
    ("₹", Some("INR")),
    ("₩", Some("KRW")),
    ("₺", Some("TRY")),
    ("₪", Some("ILS")),
    ("₫", Some("VND")),
    ("฿", Some("THB")),
    ("₱", Some("PHP")),
    ("$", None),
    ("¥", None),
    ("￥", None),
];

/// Splits a currency code or symbol off either end of an amount: `(currency, amount)`; `None`
/// when three letters that are no ISO 4217 code stand there.
fn strip_currency(s: &str) -> Option<(Option<String>, &str)> {
    let b = s.as_bytes();
    // Most amounts start and end with a digit: nothing to strip (and no symbol to look for).
    if b.first().is_some_and(u8::is_ascii_digit) && b.last().is_some_and(u8::is_ascii_digit) {
        return Some((None, s));
    }
    let letters = |x: &[u8]| x.iter().all(u8::is_ascii_alphabetic);
    if b.len() > 3 && letters(&b[..3]) {
        return Some((Some(parse_currency(&s[..3])?), s[3..].trim_start()));
    }
    if b.len() > 3 && letters(&b[b.len() - 3..]) {
        return Some((Some(parse_currency(&s[s.len() - 3..])?), s[..s.len() - 3].trim_end()));
    }
    for (symbol, currency) in SYMBOLS {
        if let Some(r) = s.strip_prefix(symbol) {
            return Some((currency.map(str::to_owned), r.trim_start()));
        }
        if let Some(r) = s.strip_suffix(symbol) {
            return Some((currency.map(str::to_owned), r.trim_end()));
        }
    }
    Some((None, s))
}

/// Digits with thousands separators grouping three digits, and one decimal separator.
fn grouped_number(s: &str, decimal: u8) -> Option<f64> {
    let is_group = |c: char| {
        matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\'' | '\u{2019}')
            || (c == ',' && decimal == b'.')
            || (c == '.' && decimal == b',')
    };
    let (int, frac) = match s.rfind(decimal as char) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    if frac.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    // The digits without separators, on the stack (a number longer than this is no amount).
    let mut buf = [0u8; 64];
    let mut n = 0;
    let mut push = |part: &str| -> Option<()> {
        let bytes = part.as_bytes();
        buf.get_mut(n..n + bytes.len())?.copy_from_slice(bytes);
        n += bytes.len();
        Some(())
    };
    let mut groups = int.split(is_group);
    let first = groups.next()?;
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if int.contains(is_group) && first.len() > 3 {
        return None;
    }
    push(first)?;
    for g in groups {
        if g.len() != 3 || !g.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        push(g)?;
    }
    if let Some(f) = frac {
        push(".")?;
        push(f)?;
    }
    let digits = std::str::from_utf8(&buf[..n]).ok()?;
    digits.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A date in the first of `formats` that reads it; ISO 8601 when `formats` is empty.
///
/// An ISO 8601 date (`2025-03-01`) is read whatever the formats: it cannot mean anything else,
/// and its fast path spares chrono's format parser on exports that write ISO dates.
pub fn parse_date_in(raw: &str, formats: &[String]) -> Option<NaiveDate> {
    if formats.is_empty() {
        return parse_date(raw, None);
    }
    if let Some(d) = iso_date_only(raw) {
        return Some(d);
    }
    formats.iter().find_map(|f| parse_date(raw, Some(f)))
}

/// `YYYY-MM-DD` and nothing else (surrounding spaces aside).
fn iso_date_only(raw: &str) -> Option<NaiveDate> {
    let s = raw.trim();
    (s.len() == 10).then(|| iso_date_prefix(s.as_bytes())).flatten()
}

/// A month in the first of `formats` that reads it (see [`parse_month`]).
pub fn parse_month_in(raw: &str, formats: &[String]) -> Option<NaiveDate> {
    if formats.is_empty() {
        return parse_month(raw, None);
    }
    formats.iter().find_map(|f| parse_month(raw, Some(f)))
}

/// An instant in the first of `formats` that reads it (see [`parse_timestamp`]).
///
/// An ISO 8601 / RFC 3339 date-time is read whatever the formats (see [`parse_date_in`]).
pub fn parse_timestamp_in(raw: &str, formats: &[String], tz: Tz) -> Option<Micros> {
    if formats.is_empty() {
        return parse_timestamp(raw, None, tz);
    }
    let s = raw.trim();
    if s.len() >= 10
        && iso_date_prefix(s.as_bytes()).is_some()
        && let Some(t) = parse_timestamp(s, None, tz)
    {
        return Some(t);
    }
    formats.iter().find_map(|f| parse_timestamp(raw, Some(f), tz))
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
    fn numbers_as_exports_write_them() {
        let n = |s: &str| parse_number(s, b'.').map(|n| (n.value, n.percent, n.currency));
        let c = |s: &str| parse_number(s, b',').map(|n| (n.value, n.percent, n.currency));
        assert_eq!(n("9,380"), Some((9380.0, false, None)));
        assert_eq!(n(" 1,234,567.5 "), Some((1_234_567.5, false, None)));
        assert_eq!(n("USD 12,500.00"), Some((12500.0, false, Some("USD".into()))));
        assert_eq!(n("12.50 eur"), Some((12.5, false, Some("EUR".into()))));
        assert_eq!(n("$1,234"), Some((1234.0, false, None)));
        assert_eq!(n("US$7"), Some((7.0, false, Some("USD".into()))));
        assert_eq!(n("-$5.25"), Some((-5.25, false, None)));
        assert_eq!(n("(1,234.00)"), Some((-1234.0, false, None)));
        assert_eq!(n("£3"), Some((3.0, false, Some("GBP".into()))));
        assert_eq!(n("12.3%"), Some((12.3, true, None)));
        assert_eq!(n("1e3"), Some((1000.0, false, None)));
        assert_eq!(n("1 234.5"), Some((1234.5, false, None)));
        assert_eq!(c("1.234,50 €"), Some((1234.5, false, Some("EUR".into()))));
        assert_eq!(c("12,5%"), Some((12.5, true, None)));
        assert_eq!(c("1.234"), Some((1234.0, false, None)));
        assert_eq!(c("7"), Some((7.0, false, None)));
        for bad in ["1,23", "12,5", "1,2345", "abc", "XYZ 12", "--", "< 10%", "1.2.3", "", "1,,000"]
        {
            assert_eq!(n(bad), None, "{bad}");
        }
        assert_eq!(c("1.23,4.5"), None);
    }

    #[test]
    fn dates_in_locale_formats() {
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let d = NaiveDate::from_ymd_opt(2026, 1, 27).unwrap();
        assert_eq!(parse_date_in("27 January 2026", &f(&["%d %B %Y"])), Some(d));
        assert_eq!(parse_date_in("1/27/2026", &f(&["%d.%m.%Y", "%m/%d/%Y"])), Some(d));
        assert_eq!(parse_date_in("2026-01-27", &[]), Some(d));
        assert_eq!(
            parse_timestamp_in("Jun 09, 2025 09:30 pm", &f(&["%b %d, %Y %I:%M %p"]), Tz::UTC),
            Some(ts("2025-06-09T21:30:00Z"))
        );
        assert_eq!(parse_month_in("Mar 2024", &f(&["%b %Y"])), NaiveDate::from_ymd_opt(2024, 3, 1));
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
