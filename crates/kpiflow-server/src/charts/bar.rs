//! Vertical bars, grouped by category when there are several series; negatives below zero.

use maud::{Markup, html};

use super::{
    Chart, ChartData, FONT, Frame, SVG_NS, color, data_value, empty, hover, is_empty, legend, px,
    safe_id,
};

#[derive(Debug)]
pub struct Bar;

impl Chart for Bar {
    fn name(&self) -> &'static str {
        "bar"
    }

    fn description(&self) -> &'static str {
        "vertical bars per category, grouped by series; negative values below the zero line"
    }

    fn render(&self, data: &ChartData) -> Markup {
        if is_empty(data) {
            return empty(data, 640, 300);
        }
        let all = data.series.iter().flat_map(|s| s.values.iter().flatten().copied());
        let frame = Frame::new(all, &data.categories, data.series.len() > 1);
        let id = format!("{}-svg-title", safe_id(&data.id));
        let group = frame.band() * 0.8;
        let width = group / data.series.len().max(1) as f64;
        let zero = frame.y(0.0);
        html! {
            svg xmlns=(SVG_NS) viewBox=(frame.view_box()) role="img" aria-labelledby=(id)
                font-family=(FONT) font-size="11" {
                title #(id) { (data.title) }
                (frame.axes(data, data.unit))
                (legend(data, &frame))
                @for (si, s) in data.series.iter().enumerate() {
                    @for (i, v) in s.values.iter().enumerate() {
                        @if let Some(v) = v.filter(|v| v.is_finite()) {
                            @let x = frame.x(i) - group / 2.0 + si as f64 * width;
                            @let y = frame.y(v);
                            rect x=(px(x)) y=(px(y.min(zero))) width=(px((width - 1.0).max(1.0))) height=(px((zero - y).abs().max(0.5)))
                                fill=(color(si)) data-value=(data_value(Some(v)))
                                data-category=(data.categories.get(i).map(String::as_str).unwrap_or("")) {
                                title { (hover(data, i, s, data.unit)) }
                            }
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
    fn one_bar_per_present_value_negative_below_zero() {
        let d = data(
            &[("ROI", &[Some(0.5), Some(-0.25), None])],
            &["Email", "Paid Search", "Display"],
            Unit::Percent,
        );
        let svg = Bar.render(&d).into_string();
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("<title>Paid Search · ROI: -25.0 %</title>"), "{svg}");
        assert!(svg.contains("data-category=\"Email\""));
    }
}
