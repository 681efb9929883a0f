//! Charts drawn on the server as SVG: one file per kind, listed in [`CHARTS`].
//!
//! Every chart takes the same [`ChartData`] (categories on one axis, one or more series) and
//! returns one complete `<svg>` element: styled with presentation attributes only, so the same
//! markup works inline in a page, as a downloaded file, and as the source of a PNG drawn by the
//! browser. Every point, bar or step carries a `<title>` (its value on hover) and `data-value` /
//! `data-category` attributes (for tests and tools). A missing value is a gap, never a zero.

mod bar;
mod funnel;
mod line;
mod sparkline;
mod waterfall;

use kpiflow_catalog::Unit;
use maud::{Markup, html};

pub use bar::Bar;
pub use funnel::FunnelBars;
pub use line::Line;
pub use sparkline::Sparkline;
pub use waterfall::Waterfall;

/// What a chart draws.
#[derive(Debug, Clone)]
pub struct ChartData {
    /// DOM id and download file stem: `[a-z0-9_-]` (see [`ChartData::new`]).
    pub id: String,
    pub title: String,
    pub unit: Unit,
    /// Reporting currency, for money values.
    pub currency: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
}

impl ChartData {
    /// A chart's data, its id made safe for a DOM id and a file name (`[a-z0-9_-]`, other
    /// characters become `-`; an empty id becomes `chart`).
    pub fn new(
        id: &str,
        title: impl Into<String>,
        unit: Unit,
        currency: impl Into<String>,
        categories: Vec<String>,
        series: Vec<Series>,
    ) -> ChartData {
        let id = safe_id(id);
        ChartData {
            id: if id.is_empty() { "chart".to_owned() } else { id },
            title: title.into(),
            unit,
            currency: currency.into(),
            categories,
            series,
        }
    }
}

/// One series: a value (or none) per category.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// A kind of chart.
pub trait Chart: Send + Sync + std::fmt::Debug {
    /// Registry name, e.g. `line`.
    fn name(&self) -> &'static str;
    /// One line for the docs.
    fn description(&self) -> &'static str;
    fn render(&self, data: &ChartData) -> Markup;
}

/// Every chart kind.
pub static CHARTS: &[&dyn Chart] = &[&Line, &Bar, &Sparkline, &Waterfall, &FunnelBars];

pub fn chart(name: &str) -> Option<&'static dyn Chart> {
    CHARTS.iter().copied().find(|c| c.name() == name)
}

/// A value as people read it (`1,234`, `12.5 %`, `1,234.50 USD`; `—` for none).
pub fn format(v: Option<f64>, unit: Unit, currency: &str) -> String {
    kpiflow_engine::report::format_value(v, unit, currency)
}

/// A standalone SVG file of a chart.
pub fn render_svg_document(data: &ChartData, chart: &dyn Chart) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n", chart.render(data).into_string())
}

pub(crate) const SVG_NS: &str = "http://www.w3.org/2000/svg";
pub(crate) const FONT: &str = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif";
/// Okabe–Ito: distinguishable with the common colour-vision deficiencies.
pub(crate) const PALETTE: [&str; 8] =
    ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#999999", "#000000"];
pub(crate) const TEXT: &str = "#1d2430";
pub(crate) const MUTED: &str = "#5b6575";
pub(crate) const GRID: &str = "#e3e7ee";

pub(crate) fn color(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// An id safe in a DOM and a file name.
pub(crate) fn safe_id(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// A coordinate, rounded so the SVG stays small; never NaN.
pub(crate) fn px(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 { format!("{}", r as i64) } else { format!("{r:.1}") }
}

/// Hover text of one value.
pub(crate) fn hover(data: &ChartData, category: usize, series: &Series, unit: Unit) -> String {
    let cat = data.categories.get(category).map(String::as_str).unwrap_or("");
    let value = format(series.values.get(category).copied().flatten(), unit, &data.currency);
    if data.series.len() > 1 || series.name != data.title {
        format!("{cat} · {}: {value}", series.name)
    } else {
        format!("{cat}: {value}")
    }
}

pub(crate) fn data_value(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite()).map(|v| v.to_string()).unwrap_or_default()
}

/// Whether there is nothing to draw.
pub(crate) fn is_empty(data: &ChartData) -> bool {
    data.categories.is_empty()
        || data.series.iter().all(|s| s.values.iter().all(|v| v.is_none_or(|v| !v.is_finite())))
}

/// The chart of no data: says so, in the same frame.
pub(crate) fn empty(data: &ChartData, width: u32, height: u32) -> Markup {
    let id = format!("{}-svg-title", safe_id(&data.id));
    html! {
        svg xmlns=(SVG_NS) viewBox=(format!("0 0 {width} {height}")) role="img" aria-labelledby=(id)
            font-family=(FONT) font-size="12" {
            title #(id) { (data.title) ": no data" }
            text x=(width / 2) y=(height / 2) text-anchor="middle" fill=(MUTED) { "No data for this period" }
        }
    }
}

/// "Nice" axis ticks (steps of 1, 2 or 5 × 10^k) covering `min..max`, with 0 included when the
/// values do not cross it.
pub fn nice_ticks(min: f64, max: f64, n: usize) -> Vec<f64> {
    let (mut lo, mut hi) = (min.min(0.0), max.max(0.0));
    if !lo.is_finite() || !hi.is_finite() {
        return vec![0.0, 1.0];
    }
    if (hi - lo).abs() < f64::EPSILON {
        hi = lo + 1.0;
    }
    let n = n.max(2);
    let raw = (hi - lo) / (n - 1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let norm = raw / magnitude;
    let step = magnitude
        * if norm <= 1.0 {
            1.0
        } else if norm <= 2.0 {
            2.0
        } else if norm <= 2.5 {
            2.5
        } else if norm <= 5.0 {
            5.0
        } else {
            10.0
        };
    lo = (lo / step).floor() * step;
    hi = (hi / step).ceil() * step;
    let count = ((hi - lo) / step).round() as usize;
    // Rounded to the step's decimals: no float noise such as 0.30000000000000004.
    let scale = 10f64.powi((1 - step.log10().floor() as i32).max(0));
    (0..=count)
        .map(|i| ((lo + i as f64 * step) * scale).round() / scale)
        .map(|v| if v == 0.0 { 0.0 } else { v })
        .collect()
}

/// A short axis label: `1.2k`, `2.5M`, `25%`.
pub fn compact(v: f64, unit: Unit) -> String {
    fn trim(s: String) -> String {
        if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_owned() } else { s }
    }
    if unit == Unit::Percent {
        return format!("{}%", trim(format!("{:.1}", v * 100.0)));
    }
    let a = v.abs();
    if a >= 1e9 {
        format!("{}B", trim(format!("{:.1}", v / 1e9)))
    } else if a >= 1e6 {
        format!("{}M", trim(format!("{:.1}", v / 1e6)))
    } else if a >= 1e3 {
        format!("{}k", trim(format!("{:.1}", v / 1e3)))
    } else if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        trim(format!("{v:.2}"))
    }
}

/// The plotting frame shared by the cartesian charts: a vertical value axis with nice ticks and
/// one band per category.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    pub ticks: Vec<f64>,
    pub bands: usize,
    /// Category labels drawn slanted (too long for their band).
    pub slant: bool,
}

/// Category labels are cut to this many characters.
const LABEL_CHARS: usize = 18;
/// Average width of a character at font size 11.
const CHAR_WIDTH: f64 = 6.2;
/// The angle of slanted labels.
const SLANT: f64 = std::f64::consts::PI / 5.0;

impl Frame {
    /// A frame for `categories`; labels too long for their band are drawn slanted, and the
    /// frame grows downwards to hold them.
    pub fn new(values: impl Iterator<Item = f64>, categories: &[String], legend: bool) -> Frame {
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.filter(|v| v.is_finite()) {
            min = min.min(v);
            max = max.max(v);
        }
        if !min.is_finite() {
            (min, max) = (0.0, 1.0);
        }
        let bands = categories.len().max(1);
        let (left, right, bottom) = (58.0, 624.0, 262.0);
        let longest =
            categories.iter().map(|c| c.chars().count().min(LABEL_CHARS)).max().unwrap_or(0);
        let slant = longest as f64 * CHAR_WIDTH > (right - left) / bands as f64 - 4.0;
        let height =
            if slant { bottom + 16.0 + longest as f64 * CHAR_WIDTH * SLANT.sin() } else { 300.0 };
        Frame {
            width: 640.0,
            height,
            left,
            right,
            top: if legend { 34.0 } else { 14.0 },
            bottom,
            ticks: nice_ticks(min, max, 5),
            bands,
            slant,
        }
    }

    fn lo(&self) -> f64 {
        self.ticks.first().copied().unwrap_or(0.0)
    }

    fn hi(&self) -> f64 {
        self.ticks.last().copied().unwrap_or(1.0)
    }

    /// The y coordinate of a value.
    pub fn y(&self, v: f64) -> f64 {
        let span = (self.hi() - self.lo()).max(f64::EPSILON);
        self.bottom - (v - self.lo()) / span * (self.bottom - self.top)
    }

    pub fn band(&self) -> f64 {
        (self.right - self.left) / self.bands as f64
    }

    /// The centre of a category's band.
    pub fn x(&self, i: usize) -> f64 {
        self.left + (i as f64 + 0.5) * self.band()
    }

    pub fn view_box(&self) -> String {
        format!("0 0 {} {}", px(self.width), px(self.height))
    }

    /// Grid lines with their labels, and the category labels (at most about 12 shown).
    pub fn axes(&self, data: &ChartData, unit: Unit) -> Markup {
        let every = data.categories.len().div_ceil(if self.slant { 24 } else { 12 }).max(1);
        let degrees = -SLANT.to_degrees();
        html! {
            g {
                @for t in &self.ticks {
                    line x1=(px(self.left)) x2=(px(self.right)) y1=(px(self.y(*t))) y2=(px(self.y(*t)))
                        stroke=(if *t == 0.0 { MUTED } else { GRID }) stroke-width="1" {}
                    text x=(px(self.left - 6.0)) y=(px(self.y(*t) + 4.0)) text-anchor="end" fill=(MUTED) { (compact(*t, unit)) }
                }
                @for (i, c) in data.categories.iter().enumerate() {
                    @if i % every == 0 {
                        @if self.slant {
                            @let (x, y) = (self.x(i), self.bottom + 12.0);
                            text x=(px(x)) y=(px(y)) text-anchor="end" fill=(MUTED)
                                transform=(format!("rotate({} {} {})", px(degrees), px(x), px(y))) { (shorten(c, LABEL_CHARS)) }
                        } @else {
                            text x=(px(self.x(i))) y=(px(self.bottom + 18.0)) text-anchor="middle" fill=(MUTED) { (shorten(c, LABEL_CHARS)) }
                        }
                    }
                }
            }
        }
    }
}

/// A label cut to `max` characters with an ellipsis.
pub(crate) fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Series names with their colours, across the top; with many series each name is cut to fit
/// its share of the width.
pub(crate) fn legend(data: &ChartData, frame: &Frame) -> Markup {
    let n = data.series.len().max(1);
    let step = ((frame.width - frame.left - 8.0) / n as f64).min(150.0);
    let chars = (((step - 22.0) / CHAR_WIDTH).floor().max(3.0) as usize).min(20);
    html! {
        @if data.series.len() > 1 {
            g {
                @for (i, s) in data.series.iter().enumerate() {
                    @let x = frame.left + (i as f64) * step;
                    rect x=(px(x)) y="10" width="12" height="12" fill=(color(i)) {}
                    text x=(px(x + 17.0)) y="20" fill=(TEXT) { (shorten(&s.name, chars)) }
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    pub fn data(series: &[(&str, &[Option<f64>])], categories: &[&str], unit: Unit) -> ChartData {
        ChartData {
            id: "test-chart".into(),
            title: "Test".into(),
            unit,
            currency: "USD".into(),
            categories: categories.iter().map(|c| (*c).to_owned()).collect(),
            series: series
                .iter()
                .map(|(n, v)| Series { name: (*n).to_owned(), values: v.to_vec() })
                .collect(),
        }
    }

    #[test]
    fn names_are_unique_and_found() {
        let mut names: Vec<&str> = CHARTS.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before);
        for c in CHARTS {
            assert_eq!(chart(c.name()).unwrap().name(), c.name());
            assert!(!c.description().is_empty());
        }
        assert!(chart("pie").is_none());
    }

    #[test]
    fn nice_ticks_cover_the_values_in_round_steps() {
        assert_eq!(nice_ticks(0.0, 1234.0, 5), vec![0.0, 500.0, 1000.0, 1500.0]);
        assert_eq!(nice_ticks(10.0, 90.0, 5), vec![0.0, 25.0, 50.0, 75.0, 100.0]);
        assert_eq!(nice_ticks(-30.0, 70.0, 5), vec![-50.0, -25.0, 0.0, 25.0, 50.0, 75.0]);
        assert_eq!(nice_ticks(0.0, 0.0, 5), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(nice_ticks(0.0, 0.3, 4), vec![0.0, 0.1, 0.2, 0.3]);
        assert_eq!(nice_ticks(f64::NAN, 1.0, 5), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    }

    #[test]
    fn compact_labels() {
        assert_eq!(compact(1234.0, Unit::Count), "1.2k");
        assert_eq!(compact(2_500_000.0, Unit::Currency), "2.5M");
        assert_eq!(compact(1000.0, Unit::Count), "1k");
        assert_eq!(compact(0.25, Unit::Percent), "25%");
        assert_eq!(compact(0.125, Unit::Percent), "12.5%");
        assert_eq!(compact(3.5, Unit::Days), "3.5");
        assert_eq!(compact(-2000.0, Unit::Currency), "-2k");
    }

    #[test]
    fn every_chart_renders_values_gaps_and_emptiness() {
        let d = data(
            &[("Leads", &[Some(10.0), None, Some(-5.0)]), ("MQLs", &[Some(4.0), Some(0.0), None])],
            &["2025-01", "2025-02", "2025-03"],
            Unit::Count,
        );
        for c in CHARTS {
            let svg = c.render(&d).into_string();
            assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{}", c.name());
            assert!(!svg.contains("NaN") && !svg.contains("inf"), "{}: {svg}", c.name());
            assert!(svg.contains("data-value=\"10\""), "{}: {svg}", c.name());
            let empty = data(&[("Leads", &[None, None])], &["a", "b"], Unit::Count);
            assert!(
                c.render(&empty).into_string().contains("No data for this period"),
                "{}",
                c.name()
            );
            let nothing = data(&[], &[], Unit::Count);
            assert!(c.render(&nothing).into_string().contains("No data"), "{}", c.name());
        }
    }

    #[test]
    fn text_is_escaped() {
        let d = data(&[("<b>&", &[Some(1.0)])], &["<script>"], Unit::Count);
        for c in CHARTS {
            let svg = c.render(&d).into_string();
            assert!(!svg.contains("<script>") && !svg.contains("<b>"), "{}: {svg}", c.name());
        }
    }

    #[test]
    fn new_makes_the_id_safe() {
        let d =
            ChartData::new("Won Revenue / Channel", "Won", Unit::Currency, "EUR", vec![], vec![]);
        assert_eq!(d.id, "won-revenue---channel");
        assert_eq!(d.currency, "EUR");
        assert_eq!(ChartData::new("", "x", Unit::Count, "USD", vec![], vec![]).id, "chart");
    }

    #[test]
    fn a_long_legend_stays_inside_the_frame() {
        const VALUES: &[Option<f64>] = &[Some(1.0), Some(2.0)];
        let names: Vec<String> =
            (0..8).map(|i| format!("A rather long channel name {i}")).collect();
        let series: Vec<(&str, &[Option<f64>])> =
            names.iter().map(|n| (n.as_str(), VALUES)).collect();
        let d = data(&series, &["a", "b"], Unit::Count);
        let svg = Line.render(&d).into_string();
        assert_eq!(svg.matches("<rect").count(), 8);
        // The last swatch starts well inside the 640-wide frame.
        assert!(
            svg.contains(&format!("<rect x=\"{}\"", px(58.0 + 7.0 * (640.0 - 58.0 - 8.0) / 8.0))),
            "{svg}"
        );
    }

    #[test]
    fn a_document_is_a_standalone_svg_file() {
        let d = data(&[("Leads", &[Some(1.0), Some(2.0)])], &["a", "b"], Unit::Count);
        let doc = render_svg_document(&d, &Line);
        assert!(doc.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns="));
    }
}
