//! Funnel stages as horizontal bars, with the conversion from the previous stage.

use kpiflow_catalog::Unit;
use maud::{Markup, html};

use super::{
    Chart, ChartData, FONT, MUTED, SVG_NS, TEXT, color, data_value, empty, format, is_empty, px,
    safe_id, shorten,
};

#[derive(Debug)]
pub struct FunnelBars;

const W: f64 = 640.0;
const ROW: f64 = 34.0;
const LABELS: f64 = 120.0;
const BAR_END: f64 = 520.0;

impl Chart for FunnelBars {
    fn name(&self) -> &'static str {
        "funnel"
    }

    fn description(&self) -> &'static str {
        "one horizontal bar per stage (first series), with the second series (conversion from \
         the previous stage, a fraction) beside it"
    }

    fn render(&self, data: &ChartData) -> Markup {
        if is_empty(data) {
            return empty(data, 640, 120);
        }
        let Some(counts) = data.series.first() else { return empty(data, 640, 120) };
        let conversion = data.series.get(1);
        let max =
            counts.values.iter().flatten().copied().filter(|v| v.is_finite()).fold(0.0, f64::max);
        let height = 8.0 + ROW * data.categories.len() as f64;
        let id = format!("{}-svg-title", safe_id(&data.id));
        html! {
            svg xmlns=(SVG_NS) viewBox=(format!("0 0 {} {}", px(W), px(height))) role="img" aria-labelledby=(id)
                font-family=(FONT) font-size="12" {
                title #(id) { (data.title) }
                @for (i, stage) in data.categories.iter().enumerate() {
                    @let y = 4.0 + i as f64 * ROW;
                    @let value = counts.values.get(i).copied().flatten().filter(|v| v.is_finite());
                    @let width = match value { Some(v) if max > 0.0 => (v.max(0.0) / max) * (BAR_END - LABELS), _ => 0.0 };
                    text x=(px(LABELS - 8.0)) y=(px(y + ROW / 2.0 + 3.0)) text-anchor="end" fill=(TEXT) { (shorten(stage, 16)) }
                    rect x=(px(LABELS)) y=(px(y + 4.0)) width=(px(width.max(1.0))) height=(px(ROW - 10.0)) fill=(color(0))
                        data-value=(data_value(value)) data-category=(stage) {
                        title {
                            (stage) ": " (format(value, data.unit, &data.currency))
                            @if let Some(c) = conversion.and_then(|c| c.values.get(i).copied().flatten()) {
                                " (" (format(Some(c), Unit::Percent, &data.currency)) " of the previous stage)"
                            }
                        }
                    }
                    text x=(px(LABELS + width + 6.0)) y=(px(y + ROW / 2.0 + 3.0)) fill=(TEXT) { (format(value, data.unit, &data.currency)) }
                    @if let Some(c) = conversion.and_then(|c| c.values.get(i).copied().flatten()).filter(|c| c.is_finite()) {
                        text x=(px(W - 4.0)) y=(px(y + ROW / 2.0 + 3.0)) text-anchor="end" fill=(MUTED) {
                            "→ " (format(Some(c), Unit::Percent, &data.currency))
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::data;
    use super::*;

    #[test]
    fn bars_scale_to_the_first_stage_and_show_conversions() {
        let d = data(
            &[
                ("contacts", &[Some(200.0), Some(50.0), Some(0.0)]),
                ("conversion", &[None, Some(0.25), Some(0.0)]),
            ],
            &["lead", "mql", "sql"],
            Unit::Count,
        );
        let svg = FunnelBars.render(&d).into_string();
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("width=\"400\""), "{svg}");
        assert!(svg.contains("width=\"100\""), "{svg}");
        assert!(svg.contains("→ 25.0 %"), "{svg}");
        assert!(svg.contains("<title>mql: 50 (25.0 % of the previous stage)</title>"), "{svg}");
    }
}
