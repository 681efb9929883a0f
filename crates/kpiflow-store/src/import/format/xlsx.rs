//! Workbooks (Excel `.xlsx`, `.xlsm`, `.xlsb`, `.xls`; OpenDocument `.ods`), read with calamine.
//!
//! One sheet is read: the mapping's [`ReadOptions::sheet`], else the first. Its rows go through
//! the same preamble rules as CSV lines (rows skipped, the header found by its column names,
//! comment rows, values captured from the rows above the header, footer rows dropped, the table
//! ending at a blank row); for the rules that look at a row's text (comments, captures) the
//! text is the row's non-empty cells joined by a space, so a title typed in A1 and one split
//! over A1:B1 read alike.
//!
//! Cells become the text a CSV export of the sheet would hold, so typing and validation are the
//! same for every format: strings trimmed (empty: no value); numbers in Rust's shortest
//! round-trip form (`4100`, not `4100.0`; `0.1`); booleans `true`/`false`; dates and times
//! (cells with a date format) as ISO 8601: `YYYY-MM-DD` for a whole day, else
//! `YYYY-MM-DDTHH:MM:SS` (to the second), `HH:MM:SS` for a time of day alone, `H:MM:SS` for a
//! duration (`[h]:mm:ss` formats); error cells as Excel shows them (`#DIV/0!`).
//!
//! Row numbers are the sheet's as Excel shows them (1-based, empty rows above the data
//! counted).

use std::borrow::Cow;
use std::path::Path;

use arrow::array::StringBuilder;
use calamine::{Data, ExcelDateTime, ExcelDateTimeType, Range, Reader};
use regex::Regex;

use super::csv::{LineKind, Preamble, is_comment};
use super::{BATCH_ROWS, ImportFormat, RawBatch, RawReader, ReadOptions, UnreadableRow};
use crate::error::ImportError;

#[derive(Debug)]
pub struct Xlsx;

impl ImportFormat for Xlsx {
    fn name(&self) -> &'static str {
        "xlsx"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["xlsx", "xlsm", "xlsb", "xls", "ods"]
    }

    fn open(&self, path: &Path, options: &ReadOptions) -> Result<Box<dyn RawReader>, ImportError> {
        let file = path.display().to_string();
        let bad = |message: String| ImportError::File { file: file.clone(), message };
        if let Err(source) = std::fs::metadata(path) {
            return Err(ImportError::ReadFile { path: path.to_path_buf(), source });
        }
        let mut workbook = calamine::open_workbook_auto(path)
            .map_err(|e| bad(format!("cannot be read as a workbook: {e}")))?;
        let names = workbook.sheet_names();
        let sheet = match &options.sheet {
            Some(wanted) => names.iter().find(|n| *n == wanted).cloned().ok_or_else(|| {
                let suggestion =
                    kpiflow_model::suggest::did_you_mean(wanted, names.iter().map(String::as_str))
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                bad(format!(
                    "the workbook has no sheet `{wanted}`{suggestion}; its sheets: {}",
                    list.join(", ")
                ))
            })?,
            None => {
                names.first().cloned().ok_or_else(|| bad("the workbook has no sheet".into()))?
            }
        };
        let range = workbook
            .worksheet_range(&sheet)
            .map_err(|e| bad(format!("cannot read sheet `{sheet}`: {e}")))?;
        let (first_row, first_col) = range.start().unwrap_or((0, 0));

        let mut preamble = Preamble::new(options);
        let mut header_at = None;
        for i in 0..range.height() {
            let number = u64::from(first_row) + 1 + i as u64;
            let cells: Vec<Option<Cow<'_, str>>> = range[i].iter().map(cell_text).collect();
            let text = row_text(&cells);
            let fields = || -> Vec<String> {
                cells.iter().map(|c| c.as_deref().unwrap_or("").to_owned()).collect()
            };
            if preamble.classify(number, &text, fields) == LineKind::Header {
                header_at = Some(i);
                break;
            }
            if preamble.given_up(number) {
                break;
            }
        }
        let Some(header_at) = header_at else {
            return Err(preamble.no_header(&format!("{file} (sheet `{sheet}`)"), "row"));
        };
        let mut header: Vec<String> = range[header_at]
            .iter()
            .map(|c| cell_text(c).map(Cow::into_owned).unwrap_or_default())
            .collect();
        // Columns end with the header's last named one: cells further right are notes, or data
        // the header does not name (such a row is unreadable).
        let width = header.iter().rposition(|h| !h.is_empty()).map_or(0, |i| i + 1);
        header.truncate(width);
        Ok(Box::new(SheetReader {
            header_line: u64::from(first_row) + 1 + header_at as u64,
            preamble_values: preamble.into_values(),
            header,
            range,
            first_row: u64::from(first_row),
            first_col,
            next: header_at + 1,
            done: false,
            comment: options.comment.clone().filter(|c| !c.is_empty()),
            drop_rows: options.drop_rows.clone(),
            end_at_blank_line: options.end_at_blank_line,
            size: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        }))
    }
}

/// A row's text for comments and captures: its non-empty cells joined by a space.
fn row_text(cells: &[Option<Cow<'_, str>>]) -> String {
    cells.iter().flatten().map(|c| c.as_ref()).collect::<Vec<&str>>().join(" ")
}

/// A cell as text (see the module's rules); `None` for no value.
pub(crate) fn cell_text(cell: &Data) -> Option<Cow<'_, str>> {
    match cell {
        Data::Empty => None,
        Data::String(s) => Some(s.trim()).filter(|s| !s.is_empty()).map(Cow::Borrowed),
        Data::Int(i) => Some(Cow::Owned(i.to_string())),
        Data::Float(f) => Some(Cow::Owned(f.to_string())),
        Data::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Data::DateTime(dt) => Some(Cow::Owned(excel_datetime(dt))),
        Data::DateTimeIso(s) | Data::DurationIso(s) => {
            Some(s.trim()).filter(|s| !s.is_empty()).map(Cow::Borrowed)
        }
        Data::Error(e) => Some(Cow::Owned(e.to_string())),
    }
}

/// An Excel date, time or duration as ISO 8601 text. The serial number counts days from
/// 1899-12-30 (the 1900 date system; a 1904 workbook's serials are shifted by 1,462 days), the
/// fraction is the time of day; serials before 60 are one more, as Excel counts a 29 February
/// 1900 that never was. Rounded to the second. A value outside chrono's dates stays a number.
fn excel_datetime(dt: &ExcelDateTime) -> String {
    let serial = dt.as_f64();
    let seconds = (serial * 86_400.0).round();
    if dt.is_duration() {
        let s = seconds.abs() as u64;
        let sign = if seconds < 0.0 { "-" } else { "" };
        return format!("{sign}{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    }
    // `ExcelDateTime` does not say which date system it is in, but compares equal only to one
    // built with the same.
    let is_1904 = *dt == ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, true);
    let mut seconds = seconds as i64;
    if is_1904 {
        seconds += 1462 * 86_400;
    } else if serial < 60.0 {
        seconds += 86_400;
    }
    let (days, time) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30);
    let date = epoch.and_then(|e| e.checked_add_signed(chrono::TimeDelta::try_days(days)?));
    let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(time as u32, 0);
    match (date, time) {
        // A time of day alone (a serial without days).
        (Some(_), Some(time)) if (0.0..1.0).contains(&serial) => {
            time.format("%H:%M:%S").to_string()
        }
        (Some(date), Some(time)) if time == chrono::NaiveTime::MIN => {
            date.format("%Y-%m-%d").to_string()
        }
        (Some(date), Some(time)) => date.and_time(time).format("%Y-%m-%dT%H:%M:%S").to_string(),
        _ => serial.to_string(),
    }
}

/// The spreadsheet name of the 0-based column `i` (`A`, `Z`, `AA`).
fn column_name(mut i: u32) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

struct SheetReader {
    header: Vec<String>,
    header_line: u64,
    preamble_values: Vec<(String, String)>,
    range: Range<Data>,
    /// Where the range starts in the sheet (0-based), for row numbers and column names.
    first_row: u64,
    first_col: u32,
    /// The next row of the range to read.
    next: usize,
    done: bool,
    comment: Option<String>,
    drop_rows: Vec<Regex>,
    end_at_blank_line: bool,
    size: u64,
}

impl RawReader for SheetReader {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn header_line(&self) -> u64 {
        self.header_line
    }

    fn preamble_values(&self) -> &[(String, String)] {
        &self.preamble_values
    }

    fn bytes_read(&self) -> u64 {
        // The sheet is read whole when opened; progress in proportion to rows.
        let rows = self.range.height().max(1) as u64;
        if self.done { self.size } else { self.size * self.next as u64 / rows }
    }

    fn next_batch(&mut self) -> Result<Option<RawBatch>, ImportError> {
        if self.done {
            return Ok(None);
        }
        let width = self.header.len();
        let mut builders: Vec<StringBuilder> = (0..width).map(|_| StringBuilder::new()).collect();
        let mut lines = Vec::new();
        let mut unreadable = Vec::new();
        let mut dropped = 0;
        while lines.len() < BATCH_ROWS {
            if self.next >= self.range.height() {
                self.done = true;
                break;
            }
            let i = self.next;
            self.next += 1;
            let line = self.first_row + 1 + i as u64;
            let cells: Vec<Option<Cow<'_, str>>> = self.range[i].iter().map(cell_text).collect();
            if cells.iter().all(Option::is_none) {
                if self.end_at_blank_line {
                    self.done = true;
                    break;
                }
                continue;
            }
            if let Some(c) = &self.comment
                && cells.iter().flatten().next().is_some_and(|first| is_comment(first, c))
            {
                continue;
            }
            if !self.drop_rows.is_empty()
                && cells.iter().flatten().any(|c| self.drop_rows.iter().any(|p| p.is_match(c)))
            {
                dropped += 1;
                continue;
            }
            if let Some(beyond) = cells.iter().skip(width).position(Option::is_some) {
                let col = self.first_col + (width + beyond) as u32;
                unreadable.push(UnreadableRow {
                    line,
                    raw: cells.iter().map(|c| c.as_deref().unwrap_or("").to_owned()).collect(),
                    reason: format!(
                        "has a value in column {} (cell {}{line}), right of the header's last \
                         column {}",
                        column_name(col),
                        column_name(col),
                        column_name(self.first_col + width.saturating_sub(1) as u32)
                    ),
                });
                continue;
            }
            for (b, c) in builders.iter_mut().zip(cells.iter().chain(std::iter::repeat(&None))) {
                match c {
                    Some(s) => b.append_value(s),
                    None => b.append_null(),
                }
            }
            lines.push(line);
        }
        if lines.is_empty() && unreadable.is_empty() && dropped == 0 {
            return Ok(None);
        }
        Ok(Some(RawBatch {
            columns: builders.iter_mut().map(StringBuilder::finish).collect(),
            lines,
            unreadable,
            dropped,
        }))
    }
}

/// Writing workbooks for tests: calamine only reads, so tests build the few XML parts of an
/// `.xlsx` themselves.
#[cfg(test)]
pub(crate) mod testing {
    use std::io::Write;
    use std::path::Path;

    /// A cell of a test sheet.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub(crate) enum Cell<'a> {
        /// Not written (an empty cell).
        Empty,
        Str(&'a str),
        Num(f64),
        Bool(bool),
        /// A serial date with the built-in date format `mm-dd-yy`.
        Date(f64),
        /// A serial date-time with the format `yyyy-mm-dd hh:mm:ss`.
        DateTime(f64),
        /// A serial duration with the format `[h]:mm:ss`.
        Duration(f64),
        /// An error value (`#DIV/0!`).
        Error(&'a str),
        /// An ISO 8601 date cell (`t="d"`).
        Iso(&'a str),
    }

    fn escape(s: &str) -> String {
        s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
    }

    fn column(mut i: usize) -> String {
        let mut name = Vec::new();
        loop {
            name.push(b'A' + (i % 26) as u8);
            if i < 26 {
                break;
            }
            i = i / 26 - 1;
        }
        name.reverse();
        String::from_utf8(name).unwrap_or_default()
    }

    /// Writes an `.xlsx` to `path` holding `sheets` (name, rows of cells; rows and cells from
    /// A1). An empty row (or one of `Empty` cells) is left out, as Excel leaves it.
    pub(crate) fn write_test_xlsx(
        path: &Path,
        sheets: &[(&str, &[&[Cell<'_>]])],
    ) -> std::io::Result<()> {
        const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
        const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        const PKG: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
        const CT: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml";
        let mut strings: Vec<String> = Vec::new();
        let mut parts: Vec<(String, String)> = Vec::new();
        for (n, (_, rows)) in sheets.iter().enumerate() {
            let mut xml = format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{MAIN}"><sheetData>"#
            );
            for (r, row) in rows.iter().enumerate() {
                if row.iter().all(|c| *c == Cell::Empty) {
                    continue;
                }
                xml.push_str(&format!(r#"<row r="{}">"#, r + 1));
                for (c, cell) in row.iter().enumerate() {
                    let at = format!("{}{}", column(c), r + 1);
                    let (attrs, value) = match cell {
                        Cell::Empty => continue,
                        Cell::Str(s) => {
                            strings.push(escape(s));
                            (r#" t="s""#.to_owned(), (strings.len() - 1).to_string())
                        }
                        Cell::Num(f) => (String::new(), f.to_string()),
                        Cell::Bool(b) => (r#" t="b""#.to_owned(), u8::from(*b).to_string()),
                        Cell::Date(f) => (r#" s="1""#.to_owned(), f.to_string()),
                        Cell::DateTime(f) => (r#" s="2""#.to_owned(), f.to_string()),
                        Cell::Duration(f) => (r#" s="3""#.to_owned(), f.to_string()),
                        Cell::Error(e) => (r#" t="e""#.to_owned(), escape(e)),
                        Cell::Iso(s) => (r#" t="d""#.to_owned(), escape(s)),
                    };
                    xml.push_str(&format!(r#"<c r="{at}"{attrs}><v>{value}</v></c>"#));
                }
                xml.push_str("</row>");
            }
            xml.push_str("</sheetData></worksheet>");
            parts.push((format!("xl/worksheets/sheet{}.xml", n + 1), xml));
        }
        let overrides: String = (1..=sheets.len())
            .map(|n| format!(r#"<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{CT}.worksheet+xml"/>"#))
            .collect();
        let sheet_list: String = sheets
            .iter()
            .enumerate()
            .map(|(n, (name, _))| {
                format!(
                    r#"<sheet name="{}" sheetId="{}" r:id="rId{}"/>"#,
                    escape(name),
                    n + 1,
                    n + 1
                )
            })
            .collect();
        let sheet_rels: String = (1..=sheets.len())
            .map(|n| format!(r#"<Relationship Id="rId{n}" Type="{REL}/worksheet" Target="worksheets/sheet{n}.xml"/>"#))
            .collect();
        let shared: String = strings
            .iter()
            .map(|s| format!(r#"<si><t xml:space="preserve">{s}</t></si>"#))
            .collect();
        let fixed = [
            (
                "[Content_Types].xml".to_owned(),
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="{CT}.sharedStrings+xml"/><Override PartName="/xl/styles.xml" ContentType="{CT}.styles+xml"/>{overrides}</Types>"#
                ),
            ),
            (
                "_rels/.rels".to_owned(),
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
                ),
            ),
            (
                "xl/workbook.xml".to_owned(),
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{sheet_list}</sheets></workbook>"#
                ),
            ),
            (
                "xl/_rels/workbook.xml.rels".to_owned(),
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PKG}">{sheet_rels}<Relationship Id="rIdS" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rIdT" Type="{REL}/styles" Target="styles.xml"/></Relationships>"#
                ),
            ),
            (
                "xl/sharedStrings.xml".to_owned(),
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{MAIN}" count="{n}" uniqueCount="{n}">{shared}</sst>"#,
                    n = strings.len()
                ),
            ),
            (
                "xl/styles.xml".to_owned(),
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\-mm\-dd\ hh:mm:ss"/></numFmts><fonts count="1"><font/></fonts><fills count="1"><fill/></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0" xfId="0"/><xf numFmtId="14" xfId="0" applyNumberFormat="1"/><xf numFmtId="164" xfId="0" applyNumberFormat="1"/><xf numFmtId="46" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>"#
                ),
            ),
        ];
        let mut zip = zip::ZipWriter::new(std::fs::File::create(path)?);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, xml) in fixed.iter().chain(&parts) {
            zip.start_file(name.as_str(), options).map_err(std::io::Error::other)?;
            zip.write_all(xml.as_bytes())?;
        }
        zip.finish().map_err(std::io::Error::other)?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::testing::{Cell, write_test_xlsx};
    use super::*;
    use arrow::array::Array;

    struct Got {
        header: Vec<String>,
        header_line: u64,
        values: Vec<(String, String)>,
        lines: Vec<u64>,
        rows: Vec<Vec<Option<String>>>,
        unreadable: Vec<(u64, String)>,
        dropped: u64,
    }

    fn read(path: &Path, options: &ReadOptions) -> Result<Got, ImportError> {
        let mut r = Xlsx.open(path, options)?;
        let mut got = Got {
            header: r.header().to_vec(),
            header_line: r.header_line(),
            values: r.preamble_values().to_vec(),
            lines: Vec::new(),
            rows: Vec::new(),
            unreadable: Vec::new(),
            dropped: 0,
        };
        while let Some(b) = r.next_batch()? {
            got.dropped += b.dropped;
            got.lines.extend(&b.lines);
            got.unreadable.extend(b.unreadable.iter().map(|u| (u.line, u.reason.clone())));
            for row in 0..b.lines.len() {
                got.rows.push(
                    b.columns
                        .iter()
                        .map(|c| (!c.is_null(row)).then(|| c.value(row).to_owned()))
                        .collect(),
                );
            }
        }
        assert_eq!(r.bytes_read(), std::fs::metadata(path).unwrap().len());
        Ok(got)
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn cells_become_text_as_a_csv_export_would_hold() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("book.xlsx");
        use Cell::*;
        write_test_xlsx(
            &path,
            &[(
                "Data",
                &[
                    &[
                        Str("Day"),
                        Str(" Campaign "),
                        Str("Clicks"),
                        Str("CTR"),
                        Str("Won"),
                        Str("At"),
                        Str("Avg"),
                        Str("Err"),
                        Str("Iso"),
                    ],
                    &[
                        Date(46023.0),
                        Str(" Brand "),
                        Num(4100.0),
                        Num(0.1),
                        Bool(true),
                        DateTime(46023.5),
                        Duration(0.0434027777777778),
                        Error("#DIV/0!"),
                        Iso("2026-01-01T10:00:00"),
                    ],
                    &[
                        Date(45000.0),
                        Str("  "),
                        Num(99.99999999999996),
                        Num(-2e-18),
                        Bool(false),
                        DateTime(46023.541666666664),
                        Duration(1.5),
                        Empty,
                        Empty,
                    ],
                ],
            )],
        )
        .unwrap();
        let got = read(&path, &ReadOptions::default()).unwrap();
        assert_eq!(
            got.header,
            ["Day", "Campaign", "Clicks", "CTR", "Won", "At", "Avg", "Err", "Iso"]
        );
        assert_eq!(got.header_line, 1);
        assert_eq!(got.lines, [2, 3]);
        assert_eq!(
            got.rows[0],
            [
                s("2026-01-01"),
                s("Brand"),
                s("4100"),
                s("0.1"),
                s("true"),
                s("2026-01-01T12:00:00"),
                s("1:02:30"),
                s("#DIV/0!"),
                s("2026-01-01T10:00:00")
            ]
        );
        assert_eq!(
            got.rows[1],
            [
                s("2023-03-15"),
                None,
                s("99.99999999999996"),
                s("-0.000000000000000002"),
                s("false"),
                s("2026-01-01T13:00:00"),
                s("36:00:00"),
                None,
                None
            ]
        );
    }

    #[test]
    fn excel_serials_convert_by_the_1900_and_1904_systems() {
        let dt =
            |v: f64| excel_datetime(&ExcelDateTime::new(v, ExcelDateTimeType::DateTime, false));
        assert_eq!(dt(1.0), "1900-01-01");
        assert_eq!(dt(59.0), "1900-02-28");
        assert_eq!(dt(61.0), "1900-03-01");
        assert_eq!(dt(45943.5), "2025-10-13T12:00:00");
        assert_eq!(dt(0.75), "18:00:00");
        let d1904 = excel_datetime(&ExcelDateTime::new(44561.0, ExcelDateTimeType::DateTime, true));
        assert_eq!(d1904, "2026-01-01");
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(27), "AB");
    }

    #[test]
    fn preamble_rows_sheets_footers_and_row_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ads.xlsx");
        use Cell::*;
        // The data starts at B2 (row 1 and column A empty), as many exports do.
        let report: &[&[Cell]] = &[
            &[],
            &[Empty, Str("Campaign performance report")],
            &[Empty, Str("Date range:"), Str("July 8, 2025 - July 31, 2025")],
            &[Empty, Str("# exported by a macro")],
            &[Empty, Str("Campaign"), Str("Clicks"), Str("Cost")],
            &[Empty, Str("Brand"), Num(10.0), Num(1.5)],
            &[Empty, Str("# a note")],
            &[Empty, Str("Generic"), Num(3.0), Num(0.25)],
            &[Empty, Str("Odd"), Num(1.0), Num(1.0), Str("stray")],
            &[Empty, Str("Total: Account"), Num(14.0), Num(2.75)],
            &[],
            &[Empty, Str("Other table"), Num(1.0)],
        ];
        write_test_xlsx(&path, &[("Notes", &[&[Str("nothing here")]]), ("Report", report)])
            .unwrap();
        let options = ReadOptions {
            sheet: Some("Report".into()),
            header_match: vec!["Campaign".into(), "Cost".into()],
            comment: Some("#".into()),
            captures: vec![("range".into(), Regex::new(r"^Date range: (.+)$").unwrap())],
            drop_rows: vec![Regex::new(r"^Total: ").unwrap()],
            end_at_blank_line: true,
            ..Default::default()
        };
        let got = read(&path, &options).unwrap();
        assert_eq!(got.header, ["Campaign", "Clicks", "Cost"]);
        assert_eq!(got.header_line, 5);
        assert_eq!(got.values, [("range".to_owned(), "July 8, 2025 - July 31, 2025".to_owned())]);
        assert_eq!(got.lines, [6, 8]);
        assert_eq!(got.dropped, 1);
        assert_eq!(got.unreadable.len(), 1);
        assert_eq!(got.unreadable[0].0, 9);
        assert!(got.unreadable[0].1.contains("column E (cell E9)"), "{}", got.unreadable[0].1);
        assert_eq!(got.rows[1], [s("Generic"), s("3"), s("0.25")]);
        // Rows skipped by count; without the other rules every non-blank row is data.
        let options =
            ReadOptions { sheet: Some("Report".into()), skip_lines: 4, ..Default::default() };
        let got = read(&path, &options).unwrap();
        assert_eq!((got.header_line, got.lines.clone()), (5, vec![6, 7, 8, 10, 12]));
        assert_eq!(got.unreadable.iter().map(|u| u.0).collect::<Vec<_>>(), [9]);
        assert_eq!(got.rows[1], [s("# a note"), None, None]);
        assert_eq!(got.rows[4], [s("Other table"), s("1"), None]);
        // The first sheet by default.
        let got = read(&path, &ReadOptions::default()).unwrap();
        assert_eq!((got.header, got.lines.len()), (vec!["nothing here".to_owned()], 0));
    }

    #[test]
    fn unknown_sheets_and_missing_headers_are_file_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.xlsx");
        write_test_xlsx(&path, &[("Campaigns", &[&[Cell::Str("a")]]), ("Keywords", &[])]).unwrap();
        let options = ReadOptions { sheet: Some("campaign".into()), ..Default::default() };
        let e = read(&path, &options).err().unwrap().to_string();
        assert!(e.contains("no sheet `campaign` (did you mean `Campaigns`?)"), "{e}");
        assert!(e.contains("its sheets: `Campaigns`, `Keywords`"), "{e}");
        let options = ReadOptions { header_match: vec!["Clicks".into()], ..Default::default() };
        let e = read(&path, &options).err().unwrap().to_string();
        assert!(e.contains("no row holds all of the columns `Clicks`"), "{e}");
        assert!(e.contains("row 1: a"), "{e}");
        let options = ReadOptions { sheet: Some("Keywords".into()), ..Default::default() };
        let e = read(&path, &options).err().unwrap().to_string();
        assert!(e.contains("the file is empty"), "{e}");
        std::fs::write(dir.path().join("x.xlsx"), b"not a zip").unwrap();
        let e = read(&dir.path().join("x.xlsx"), &ReadOptions::default()).err().unwrap();
        assert!(e.to_string().contains("cannot be read as a workbook"), "{e}");
    }
}
