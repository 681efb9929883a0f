//! Goals, reverse-funnel plans, bottleneck diagnosis and alert rules (DESIGN §7): the
//! arithmetic, over figures the engine has computed. Nothing here reads the store, so every rule
//! is tested on numbers a person can check by hand.
//!
//! - [`goals`]: actual, expected to date (pro-rated by an even or seasonal split), projection
//!   (run rate and trend with a range), progress and status of each goal; roll-up to parents.
//! - [`plan`]: from a revenue or customer target back through the funnel to the sessions and
//!   media budget needed, per quarter, with every rate's source and what-if overrides.
//! - [`diagnosis`]: each stage's volume and conversion against plan or history; the bottleneck
//!   with the advice for it and the figures behind it.
//! - [`anomaly`]: threshold rules and the robust z-score of a series against a trailing window.

pub mod anomaly;
pub mod diagnosis;
pub mod goals;
pub mod plan;
pub mod slices;

pub use goals::{Accrual, GoalInputs, GoalResult, Status};
pub use plan::{Plan, PlanInputs, PlanTarget};
pub use slices::Slice;

/// Least-squares line through `(x, y)` points: `(intercept, slope, residual standard
/// deviation)`; `None` with fewer than three points or no spread in `x`.
pub(crate) fn linear_fit(points: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
    let n = points.len();
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / nf;
    let my = points.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let sse: f64 = points.iter().map(|p| (p.1 - intercept - slope * p.0).powi(2)).sum();
    Some((intercept, slope, (sse / (nf - 2.0)).sqrt()))
}

/// The median of finite values (`None` when there are none).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

/// `a ÷ b`, no value when `b` is zero or either is missing (DESIGN §4).
pub(crate) fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 && a.is_finite() && b.is_finite() => Some(a / b),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_through_exact_points_has_no_residual() {
        let (a, b, s) = linear_fit(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0), (3.0, 7.0)]).unwrap();
        assert!((a - 1.0).abs() < 1e-12 && (b - 2.0).abs() < 1e-12 && s.abs() < 1e-12);
        assert_eq!(linear_fit(&[(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), Some(2.5));
        assert_eq!(ratio(Some(1.0), Some(0.0)), None);
    }
}
