//! Lines over categories (periods): one per series, a dot with its value at each point.

use maud::{Markup, html};

use super::{
    Chart, ChartData, FONT, Frame, SVG_NS, color, data_value, empty, hover, is_empty, legend, px,
    safe_id,
};

#[derive(Debug)]
pub struct Line;

impl Chart for Line {
    fn name(&self) -> &'static str {
        "line"
    }

    fn description(&self) -> &'static str {
        "one line per series over the categories (a trend over periods); gaps where a value is missing"
    }

    fn render(&self, data: &ChartData) -> Markup {
        if is_empty(data) {
            return empty(data, 640, 300);
        }
        let all = data.series.iter().flat_map(|s| s.values.iter().flatten().copied());
        let frame = Frame::new(all, &data.categories, data.series.len() > 1);
        let id = format!("{}-svg-title", safe_id(&data.id));
        html! {
            svg xmlns=(SVG_NS) viewBox=(frame.view_box()) role="img" aria-labelledby=(id)
                font-family=(FONT) font-size="11" {
                title #(id) { (data.title) }
                (frame.axes(data, data.unit))
                (legend(data, &frame))
                @for (si, s) in data.series.iter().enumerate() {
                    @for run in runs(&s.values) {
                        polyline fill="none" stroke=(color(si)) stroke-width="2" stroke-linejoin="round"
                            points=(run.iter().map(|(i, v)| format!("{},{}", px(frame.x(*i)), px(frame.y(*v)))).collect::<Vec<_>>().join(" ")) {}
                    }
                    @for (i, v) in s.values.iter().enumerate() {
                        @if let Some(v) = v.filter(|v| v.is_finite()) {
                            circle cx=(px(frame.x(i))) cy=(px(frame.y(v))) r="3" fill=(color(si))
                                data-value=(data_value(Some(v))) data-category=(data.categories.get(i).map(String::as_str).unwrap_or("")) {
                                title { (hover(data, i, s, data.unit)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Consecutive runs of present values, so a missing value breaks the line.
fn runs(values: &[Option<f64>]) -> Vec<Vec<(usize, f64)>> {
    let mut out: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut current = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v.filter(|v| v.is_finite()) {
            Some(v) => current.push((i, v)),
            None => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use kpiflow_catalog::Unit;

    use super::super::tests::data;
    use super::*;

    #[test]
    fn a_missing_value_breaks_the_line_and_every_point_has_its_value() {
        let d = data(
            &[
                ("Leads", &[Some(3.0), None, Some(5.0), Some(8.0)]),
                ("MQLs", &[Some(1.0), Some(2.0), Some(2.0), Some(4.0)]),
            ],
            &["2025-01", "2025-02", "2025-03", "2025-04"],
            Unit::Count,
        );
        let svg = Line.render(&d).into_string();
        assert_eq!(svg.matches("<polyline").count(), 3);
        assert_eq!(svg.matches("<circle").count(), 7);
        assert!(svg.contains("<title>2025-02 · MQLs: 2</title>"), "{svg}");
        insta::assert_snapshot!("line_two_series_with_gap", svg);
    }
}
