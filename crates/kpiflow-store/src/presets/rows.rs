//! Small tools the code presets share: finding a column among a vendor's names for it, and
//! building the canonical text rows a transform hands on.

use arrow::array::{Array, StringArray, StringBuilder};

use crate::error::ImportError;
use crate::import::format::{RawBatch, UnreadableRow};

/// A file's header as a code preset looks its columns up in it.
#[derive(Debug, Clone, Copy)]
pub struct Columns<'a> {
    pub file: &'a str,
    pub header: &'a [String],
}

impl Columns<'_> {
    /// The first of `names` the file has, if any.
    pub fn find(&self, names: &[&str]) -> Option<usize> {
        position(self.header, names)
    }

    /// The first of `names` the file has, else a file error naming `what` was looked for.
    pub fn need(&self, names: &[&str], what: &str) -> Result<usize, ImportError> {
        require(self.file, self.header, names, what)
    }
}

/// The position of the first of `names` in `header`.
pub fn position(header: &[String], names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| header.iter().position(|h| h == n))
}

/// Like [`position`], but a missing column is a file error naming what was looked for.
pub fn require(
    file: &str,
    header: &[String],
    names: &[&str],
    what: &str,
) -> Result<usize, ImportError> {
    position(header, names).ok_or_else(|| ImportError::File {
        file: file.to_owned(),
        message: format!(
            "no {what} column: expected {}; the file's columns are: {}",
            names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" or "),
            header.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", ")
        ),
    })
}

/// The text of `column` on `row`, `None` when empty.
pub fn text(column: &StringArray, row: usize) -> Option<&str> {
    (!column.is_null(row)).then(|| column.value(row)).filter(|v| !v.is_empty())
}

/// The text of column `at` (when the file has it) on `row`.
pub fn field(raw: &RawBatch, at: Option<usize>, row: usize) -> Option<&str> {
    at.and_then(|i| raw.columns.get(i)).and_then(|c| text(c, row))
}

/// Canonical text rows under construction, one array per column of `header`.
#[derive(Debug)]
pub struct RowsBuilder {
    width: usize,
    builders: Vec<StringBuilder>,
    lines: Vec<u64>,
    unreadable: Vec<UnreadableRow>,
}

impl RowsBuilder {
    pub fn new(width: usize) -> RowsBuilder {
        RowsBuilder {
            width,
            builders: (0..width).map(|_| StringBuilder::new()).collect(),
            lines: Vec::new(),
            unreadable: Vec::new(),
        }
    }

    /// One row from source line `line`; `values` in header order.
    pub fn push(&mut self, line: u64, values: &[Option<&str>]) {
        debug_assert_eq!(values.len(), self.width);
        for (b, v) in self.builders.iter_mut().zip(values) {
            match v.map(str::trim).filter(|v| !v.is_empty()) {
                Some(v) => b.append_value(v),
                None => b.append_null(),
            }
        }
        self.lines.push(line);
    }

    /// A source row that gives no canonical row, with why (it is rejected like a bad row).
    pub fn reject(&mut self, line: u64, raw: Vec<String>, reason: String) {
        self.unreadable.push(UnreadableRow { line, raw, reason });
    }

    /// Row `row` of `raw` rejected with why, its values kept for the rejects file.
    pub fn reject_source(&mut self, raw: &RawBatch, row: usize, reason: String) {
        let values = raw.columns.iter().map(|a| text(a, row).unwrap_or("").to_owned()).collect();
        self.reject(raw.lines[row], values, reason);
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.unreadable.is_empty()
    }

    pub fn finish(mut self) -> RawBatch {
        RawBatch {
            columns: self.builders.iter_mut().map(StringBuilder::finish).collect(),
            lines: self.lines,
            unreadable: self.unreadable,
            dropped: 0,
        }
    }
}

/// The header of a transform's output, as owned names.
pub fn header(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// The first day of the month of `d`.
pub fn month_of(d: chrono::NaiveDate) -> chrono::NaiveDate {
    use chrono::Datelike;
    d.with_day(1).unwrap_or(d)
}

/// The first day of the month after `month`.
pub fn next_month(month: chrono::NaiveDate) -> chrono::NaiveDate {
    month.checked_add_months(chrono::Months::new(1)).unwrap_or(month)
}

/// An instant as exports write it: ISO 8601 / RFC 3339, `YYYY-MM-DD HH:MM[:SS]` (UTC), or
/// `… +0000`; microseconds since the epoch.
pub fn instant(raw: &str) -> Option<i64> {
    use chrono_tz::Tz;
    kpiflow_model::parse::parse_timestamp(raw, None, Tz::UTC)
        .or_else(|| {
            kpiflow_model::parse::parse_timestamp(raw, Some("%Y-%m-%d %H:%M:%S %z"), Tz::UTC)
        })
        .or_else(|| kpiflow_model::parse::parse_timestamp(raw, Some("%Y-%m-%d %H:%M %z"), Tz::UTC))
}

/// The UTC date of an instant.
pub fn utc_date(micros: i64) -> Option<chrono::NaiveDate> {
    chrono::DateTime::from_timestamp_micros(micros).map(|t| t.date_naive())
}
