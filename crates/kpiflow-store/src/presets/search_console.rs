//! Google Search Console's "Performance on Search" export: a zip of seven CSV files. `Chart.csv`
//! holds the site's daily totals; `Queries.csv`, `Pages.csv`, `Countries.csv`, `Devices.csv` and
//! `Search appearance.csv` the totals of each query, page, ... over the export's whole period,
//! which no file names but `Filters.csv` ("Last 16 months") — so that period is read from the
//! dates of `Chart.csv` beside it. Code, not a mapping: a breakdown file's rows take their dates
//! from another file.
//!
//! Everything goes to `search_performance` (one table, the `dimension` column telling a daily
//! total from a query's period total), because Search Console's totals are not per keyword and
//! its breakdowns are not per day: neither fits `seo_keywords` without bending.

use std::path::Path;
use std::sync::LazyLock;

use kpiflow_model::schema::SEARCH_PERFORMANCE;

use super::rows::{self, RowsBuilder};
use super::{
    Claim, FileContext, Output, Preset, PresetInfo, PresetPlan, Probe, Shared, Spec, Transform,
};
use crate::error::ImportError;
use crate::import::format::{RawBatch, ReadOptions};

#[derive(Debug)]
pub struct SearchConsole;

/// The files of the export: (first header column, dimension). `Chart.csv` is the daily total.
const FILES: &[(&str, &str)] = &[
    ("Date", "total"),
    ("Top queries", "query"),
    ("Top pages", "page"),
    ("Country", "country"),
    ("Device", "device"),
    ("Search Appearance", "search_appearance"),
];
const METRICS: [&str; 4] = ["Clicks", "Impressions", "CTR", "Position"];
const OUT: &[&str] =
    &["date", "end_date", "search_type", "dimension", "value", "clicks", "impressions", "position"];

static SPEC: LazyLock<Spec> = LazyLock::new(|| Spec {
    info: PresetInfo {
        name: "google-search-console".into(),
        vendor: "Google Search Console".into(),
        title: "Performance on Search export (the zip: daily totals, queries, pages, countries, \
            devices, search appearance)"
            .into(),
        export: "In Search Console: Performance → Search results → Export → Download CSV. Import \
             the zip as it is (or the folder of its files): the breakdowns take their period \
             from Chart.csv."
            .into(),
        tables: vec![SEARCH_PERFORMANCE.name],
        files: vec!["*-Performance-on-Search-*.zip".into()],
        // The first column names the breakdown (Date, Top queries, ...); these four follow it
        // in every file but Filters.csv (see `claim`).
        detect: vec![
            vec!["Clicks".into()],
            vec!["Impressions".into()],
            vec!["CTR".into()],
            vec!["Position".into()],
        ],
        kind: "code",
    },
    read: ReadOptions::default(),
    formats: vec!["csv"],
});

impl Preset for SearchConsole {
    fn spec(&self) -> &Spec {
        &SPEC
    }

    /// Exactly a file of the export: its first column names the breakdown and the rest are
    /// the four metrics; or `Filters.csv` (`Filter,Value`).
    fn claim(&self, probe: &Probe) -> Option<Claim> {
        if probe.format.name() != "csv" {
            return None;
        }
        let header = probe.header(&SPEC.read)?;
        let is_breakdown = header.len() == 5
            && FILES.iter().any(|(first, _)| header[0] == *first)
            && header[1..] == METRICS;
        let is_filters = header == ["Filter", "Value"];
        (is_breakdown || is_filters).then_some(Claim { score: 5, stream: None })
    }

    fn plan(&self, file: &FileContext, _shared: &mut Shared) -> Result<PresetPlan, ImportError> {
        let fail = |message: String| ImportError::File { file: file.name.to_owned(), message };
        let output =
            || Output { table: &SEARCH_PERFORMANCE, header: rows::header(OUT), mapping: None };
        if file.header == ["Filter", "Value"] {
            // The filters only describe the other files: nothing of its own to store.
            return Ok(PresetPlan::Transform {
                outputs: vec![output()],
                transform: Box::new(Nothing),
            });
        }
        let Some(&(_, dimension)) =
            FILES.iter().find(|(first, _)| file.header.first().map(String::as_str) == Some(*first))
        else {
            return Err(fail(format!(
                "not a file of the Search Console export: its first column is {:?}",
                file.header.first()
            )));
        };
        let search_type = search_type(&file.siblings)?;
        let period = if dimension == "total" {
            None
        } else {
            let chart = file
                .siblings
                .iter()
                .find(|(name, _)| {
                    name.rsplit('/').next().is_some_and(|n| n.eq_ignore_ascii_case("Chart.csv"))
                })
                .ok_or_else(|| {
                    fail(
                        "this breakdown holds totals over the export's period, which only \
                         Chart.csv's dates tell: import the whole zip (or the folder with \
                         Chart.csv)"
                            .into(),
                    )
                })?;
            Some(chart_period(chart.1, chart.0)?)
        };
        let at = |name: &str| file.header.iter().position(|h| h == name);
        Ok(PresetPlan::Transform {
            outputs: vec![output()],
            transform: Box::new(Rows {
                dimension,
                search_type,
                period,
                clicks: at("Clicks"),
                impressions: at("Impressions"),
                position: at("Position"),
            }),
        })
    }

    fn show(&self) -> String {
        format!(
            "# {} ({}): code, not a mapping.\n\
             # Each file of the zip → search_performance:\n\
             #   Chart.csv: Date → date and end_date, dimension = \"total\"\n\
             #   Queries.csv / Pages.csv / Countries.csv / Devices.csv / Search appearance.csv:\n\
             #     the first column → value, dimension = query / page / country / device /\n\
             #     search_appearance, date and end_date = Chart.csv's first and last date\n\
             #   Clicks → clicks, Impressions → impressions, Position → position; CTR is not\n\
             #   stored (organic_search_ctr is clicks / impressions); Filters.csv's search type →\n\
             #   search_type (web unless it says otherwise).\n\
             # Chart.csv alone, as a mapping:\n\
             table = \"search_performance\"\n\
             ignore = [\"CTR\"]\n\
             [columns]\n\
             date = \"Date\"\n\
             end_date = \"Date\"\n\
             clicks = \"Clicks\"\n\
             impressions = \"Impressions\"\n\
             position = \"Position\"\n\
             [constants]\n\
             dimension = \"total\"\n\
             search_type = \"web\"\n",
            SPEC.info.name, SPEC.info.vendor
        )
    }
}

/// The search type `Filters.csv` names (`Search type,Web`), lower-cased; `web` without one.
fn search_type(siblings: &[(&str, &Path)]) -> Result<String, ImportError> {
    let Some((name, path)) = siblings
        .iter()
        .find(|(n, _)| n.rsplit('/').next().is_some_and(|n| n.eq_ignore_ascii_case("Filters.csv")))
    else {
        return Ok("web".into());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|source| ImportError::ReadFile { path: path.to_path_buf(), source })?;
    let mut reader = ::csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    for record in reader.records() {
        let record = record.map_err(|e| ImportError::File {
            file: (*name).to_owned(),
            message: format!("cannot read the filters: {e}"),
        })?;
        if record.get(0).map(str::trim) == Some("Search type")
            && let Some(v) = record.get(1)
        {
            let v = v.trim().to_lowercase();
            return Ok(match v.as_str() {
                "google news" => "googleNews".into(),
                _ => v,
            });
        }
    }
    Ok("web".into())
}

/// The first and last date of `Chart.csv` (ISO dates in its `Date` column).
fn chart_period(path: &Path, name: &str) -> Result<(String, String), ImportError> {
    let fail = |message: String| ImportError::File { file: name.to_owned(), message };
    let text = std::fs::read_to_string(path)
        .map_err(|source| ImportError::ReadFile { path: path.to_path_buf(), source })?;
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = ::csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let mut dates: Vec<chrono::NaiveDate> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| fail(format!("cannot read the dates: {e}")))?;
        let Some(raw) = record.get(0).map(str::trim).filter(|d| !d.is_empty()) else { continue };
        let d = kpiflow_model::parse::parse_date(raw, None)
            .ok_or_else(|| fail(format!("line {}: `{raw}` is not a date (YYYY-MM-DD)", i + 2)))?;
        dates.push(d);
    }
    match (dates.iter().min(), dates.iter().max()) {
        (Some(a), Some(b)) => Ok((a.to_string(), b.to_string())),
        _ => Err(fail("has no dates: the breakdowns' period is unknown".into())),
    }
}

/// One file's rows into `search_performance`.
struct Rows {
    dimension: &'static str,
    search_type: String,
    /// The breakdowns' period; `None` for `Chart.csv`, whose rows are days.
    period: Option<(String, String)>,
    clicks: Option<usize>,
    impressions: Option<usize>,
    position: Option<usize>,
}

impl Transform for Rows {
    fn push(&mut self, raw: &RawBatch) -> Result<Vec<(usize, RawBatch)>, ImportError> {
        let mut out = RowsBuilder::new(OUT.len());
        for row in 0..raw.lines.len() {
            let first = rows::field(raw, Some(0), row);
            let (date, end, value) = match &self.period {
                None => (first, first, None),
                Some((from, to)) => (Some(from.as_str()), Some(to.as_str()), first),
            };
            out.push(
                raw.lines[row],
                &[
                    date,
                    end,
                    Some(self.search_type.as_str()),
                    Some(self.dimension),
                    value,
                    rows::field(raw, self.clicks, row),
                    rows::field(raw, self.impressions, row),
                    rows::field(raw, self.position, row),
                ],
            );
        }
        Ok(if out.is_empty() { Vec::new() } else { vec![(0, out.finish())] })
    }

    fn finish(&mut self) -> Result<Vec<(usize, RawBatch)>, ImportError> {
        Ok(Vec::new())
    }
}

/// A file read for what it says of the others (`Filters.csv`).
struct Nothing;

impl Transform for Nothing {
    fn keeps_no_rows(&self) -> bool {
        true
    }

    fn push(&mut self, _raw: &RawBatch) -> Result<Vec<(usize, RawBatch)>, ImportError> {
        Ok(Vec::new())
    }

    fn finish(&mut self) -> Result<Vec<(usize, RawBatch)>, ImportError> {
        Ok(Vec::new())
    }
}
