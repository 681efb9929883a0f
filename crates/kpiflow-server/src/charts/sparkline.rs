//! A tile's sparkline: the first series' shape over the categories, no axes.

use maud::{Markup, html};

use super::{Chart, ChartData, SVG_NS, color, data_value, empty, hover, is_empty, px, safe_id};

#[derive(Debug)]
pub struct Sparkline;

const W: f64 = 120.0;
const H: f64 = 32.0;

impl Chart for Sparkline {
    fn name(&self) -> &'static str {
        "sparkline"
    }

    fn description(&self) -> &'static str {
        "a small line of the first series without axes (KPI tiles); the last value marked"
    }

    fn render(&self, data: &ChartData) -> Markup {
        if is_empty(data) {
            return empty(data, 120, 32);
        }
        let Some(series) = data.series.first() else { return empty(data, 120, 32) };
        let present: Vec<(usize, f64)> = series
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.filter(|v| v.is_finite()).map(|v| (i, v)))
            .collect();
        let (lo, hi) = present
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, v)| (lo.min(*v), hi.max(*v)));
        let n = data.categories.len().max(2);
        let x = |i: usize| 3.0 + i as f64 * (W - 6.0) / (n - 1) as f64;
        let y = |v: f64| {
            if (hi - lo).abs() < f64::EPSILON {
                H / 2.0
            } else {
                H - 3.0 - (v - lo) / (hi - lo) * (H - 6.0)
            }
        };
        let id = format!("{}-svg-title", safe_id(&data.id));
        let last = present.last().copied();
        let mut runs: Vec<Vec<(usize, f64)>> = Vec::new();
        for (i, v) in &present {
            match runs.last_mut() {
                Some(run) if run.last().is_some_and(|(j, _)| j + 1 == *i) => run.push((*i, *v)),
                _ => runs.push(vec![(*i, *v)]),
            }
        }
        html! {
            svg xmlns=(SVG_NS) viewBox=(format!("0 0 {W} {H}")) role="img" aria-labelledby=(id)
                preserveAspectRatio="none" {
                title #(id) { (data.title) }
                @for run in &runs {
                    polyline fill="none" stroke=(color(0)) stroke-width="1.5" stroke-linejoin="round"
                        vector-effect="non-scaling-stroke"
                        points=(run.iter().map(|(i, v)| format!("{},{}", px(x(*i)), px(y(*v)))).collect::<Vec<_>>().join(" ")) {}
                }
                @for (i, v) in &present {
                    circle cx=(px(x(*i))) cy=(px(y(*v))) r=(if Some((*i, *v)) == last { "2.5" } else { "2" })
                        fill=(color(0)) fill-opacity=(if Some((*i, *v)) == last { "1" } else { "0" })
                        data-value=(data_value(Some(*v)))
                        data-category=(data.categories.get(*i).map(String::as_str).unwrap_or("")) {
                        title { (hover(data, *i, series, data.unit)) }
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
    fn every_point_has_a_title_and_the_last_is_marked() {
        let d = data(
            &[("MRR", &[Some(1.0), Some(3.0), None, Some(2.0)])],
            &["a", "b", "c", "d"],
            Unit::Currency,
        );
        let svg = Sparkline.render(&d).into_string();
        assert_eq!(svg.matches("<circle").count(), 3);
        assert_eq!(svg.matches("fill-opacity=\"1\"").count(), 1);
        assert_eq!(svg.matches("<polyline").count(), 2);
        // A flat series sits in the middle.
        let flat = data(&[("x", &[Some(5.0), Some(5.0)])], &["a", "b"], Unit::Count);
        assert!(Sparkline.render(&flat).into_string().contains("cy=\"16\""));
    }
}
