//! A waterfall: a starting total, steps up and down, an ending total (MRR movements).

use maud::{Markup, html};

use super::{
    Chart, ChartData, FONT, Frame, MUTED, SVG_NS, data_value, empty, format, is_empty, px, safe_id,
};

#[derive(Debug)]
pub struct Waterfall;

const TOTAL: &str = "#0072B2";
const UP: &str = "#009E73";
const DOWN: &str = "#D55E00";

impl Chart for Waterfall {
    fn name(&self) -> &'static str {
        "waterfall"
    }

    fn description(&self) -> &'static str {
        "first and last categories are totals from zero, the ones between float as steps up \
         (positive) or down (negative) from the running total"
    }

    fn render(&self, data: &ChartData) -> Markup {
        if is_empty(data) {
            return empty(data, 640, 300);
        }
        let Some(series) = data.series.first() else { return empty(data, 640, 300) };
        let n = data.categories.len();
        // (from, to, value) per category; a missing step leaves the running total as it is.
        let mut bars: Vec<Option<(f64, f64, f64)>> = Vec::with_capacity(n);
        let mut running = 0.0;
        for (i, v) in series.values.iter().enumerate() {
            let v = v.filter(|v| v.is_finite());
            if i == 0 || i + 1 == n {
                bars.push(v.map(|v| (0.0, v, v)));
                if let Some(v) = v {
                    running = v;
                }
            } else {
                bars.push(v.map(|v| (running, running + v, v)));
                if let Some(v) = v {
                    running += v;
                }
            }
        }
        let ends = bars.iter().flatten().flat_map(|(a, b, _)| [*a, *b]);
        let frame = Frame::new(ends, &data.categories, false);
        let id = format!("{}-svg-title", safe_id(&data.id));
        let width = frame.band() * 0.6;
        html! {
            svg xmlns=(SVG_NS) viewBox=(frame.view_box()) role="img" aria-labelledby=(id)
                font-family=(FONT) font-size="11" {
                title #(id) { (data.title) }
                (frame.axes(data, data.unit))
                @for (i, bar) in bars.iter().enumerate() {
                    @if let Some((from, to, value)) = bar {
                        @let total = i == 0 || i + 1 == n;
                        @let fill = if total { TOTAL } else if *value >= 0.0 { UP } else { DOWN };
                        @let top = frame.y(from.max(*to));
                        rect x=(px(frame.x(i) - width / 2.0)) y=(px(top))
                            width=(px(width)) height=(px((frame.y(from.min(*to)) - top).max(0.5)))
                            fill=(fill) data-value=(data_value(Some(*value)))
                            data-category=(data.categories.get(i).map(String::as_str).unwrap_or("")) {
                            title {
                                (data.categories.get(i).map(String::as_str).unwrap_or("")) ": "
                                @if !total && *value > 0.0 { "+" }
                                (format(Some(*value), data.unit, &data.currency))
                            }
                        }
                        @if matches!(bars.get(i + 1), Some(Some(_))) {
                            // The next bar starts (or, for the end total, peaks) at this level.
                            line x1=(px(frame.x(i) + width / 2.0)) x2=(px(frame.x(i + 1) - width / 2.0))
                                y1=(px(frame.y(*to))) y2=(px(frame.y(*to)))
                                stroke=(MUTED) stroke-dasharray="3 3" {}
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use kpiflow_catalog::Unit;

    use super::super::tests::data;
    use super::*;

    #[test]
    fn steps_float_from_the_running_total() {
        let d = data(
            &[(
                "MRR",
                &[Some(100.0), Some(30.0), Some(10.0), Some(-5.0), Some(-15.0), Some(120.0)],
            )],
            &["Start", "New", "Expansion", "Contraction", "Churn", "End"],
            Unit::Currency,
        );
        let svg = Waterfall.render(&d).into_string();
        assert_eq!(svg.matches("<rect").count(), 6);
        assert!(svg.contains("<title>New: +30.00 USD</title>"), "{svg}");
        assert!(svg.contains("<title>Churn: -15.00 USD</title>"), "{svg}");
        assert_eq!(svg.matches(&format!("fill=\"{DOWN}\"")).count(), 2);
        assert_eq!(svg.matches(&format!("fill=\"{TOTAL}\"")).count(), 2);
    }
}
