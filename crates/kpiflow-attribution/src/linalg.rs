//! Absorption probabilities of absorbing Markov chains, solved deterministically.
//!
//! For transient states with transition matrix `Q` (rows sum to at most 1; the missing mass goes to
//! absorbing states) and a right-hand side `b` (the one-step probability, or expected value, of the
//! absorbing outcome of interest), the expected outcome from every state is the unique solution of
//! `x = Q x + b`, i.e. `(I − Q) x = b`. States listed as *removed* are held at 0 (the removal
//! effect: a journey reaching them is lost).
//!
//! Small chains (up to [`DENSE_LIMIT`] live states) are solved directly by LU decomposition with
//! partial pivoting: exact up to floating-point rounding. Larger ones (high-order chains) by
//! Gauss–Seidel sweeps until no entry moves by more than 1e-15 of the largest, which on an absorbing
//! chain converges to the same solution; the residual `max |x − Qx − b|` is reported so the user
//! can see how exact it is. No step is random.

use std::fmt;

/// Live states up to which the dense LU solver is used.
pub const DENSE_LIMIT: usize = 600;

/// Gauss–Seidel sweeps before giving up.
const MAX_SWEEPS: usize = 200_000;

/// A square sparse matrix in compressed-row form.
#[derive(Debug, Clone, Default)]
pub struct SparseRows {
    /// `starts[i]..starts[i + 1]` indexes row `i`'s entries in `cols`/`vals`.
    pub starts: Vec<usize>,
    pub cols: Vec<u32>,
    pub vals: Vec<f64>,
}

impl SparseRows {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i` as (column, value) pairs.
    pub fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let r = self.starts[i]..self.starts[i + 1];
        self.cols[r.clone()].iter().map(|&c| c as usize).zip(self.vals[r].iter().copied())
    }

    /// Number of stored entries.
    pub fn entries(&self) -> usize {
        self.vals.len()
    }
}

/// How a system was solved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// Dense LU with partial pivoting.
    Lu,
    /// Gauss–Seidel with this many sweeps.
    GaussSeidel { sweeps: usize },
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::Lu => f.write_str("LU decomposition"),
            Method::GaussSeidel { sweeps } => write!(f, "Gauss–Seidel ({sweeps} sweeps)"),
        }
    }
}

/// Solutions of `x = Q x + b` for each right-hand side, with how they were found.
#[derive(Debug, Clone)]
pub struct Solution {
    /// One vector per right-hand side; removed states are 0.
    pub x: Vec<Vec<f64>>,
    pub method: Method,
    /// Largest `|x − Q x − b|` over live states and right-hand sides.
    pub residual: f64,
}

/// The iteration did not settle (a chain that is not absorbing from every live state).
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "no solution after {sweeps} sweeps (last change {change:e}); some states never reach an absorbing state"
)]
pub struct NotConverged {
    pub sweeps: usize,
    pub change: f64,
}

/// Solves `x = Q x + b` for every `b` in `rhs`, with `removed` states fixed at 0.
pub fn solve_absorbing(
    q: &SparseRows,
    rhs: &[&[f64]],
    removed: &[bool],
) -> Result<Solution, NotConverged> {
    let n = q.len();
    let live: Vec<usize> = (0..n).filter(|&i| !removed[i]).collect();
    let (x, method) = if live.len() <= DENSE_LIMIT {
        (solve_lu(q, rhs, removed, &live)?, Method::Lu)
    } else {
        solve_gauss_seidel(q, rhs, removed, &live)?
    };
    let residual = rhs
        .iter()
        .zip(&x)
        .flat_map(|(b, x)| {
            live.iter()
                .map(move |&i| (x[i] - b[i] - q.row(i).map(|(j, v)| v * x[j]).sum::<f64>()).abs())
        })
        .fold(0.0, f64::max);
    Ok(Solution { x, method, residual })
}

fn solve_lu(
    q: &SparseRows,
    rhs: &[&[f64]],
    removed: &[bool],
    live: &[usize],
) -> Result<Vec<Vec<f64>>, NotConverged> {
    let n = q.len();
    let m = live.len();
    let mut position = vec![usize::MAX; n];
    for (k, &i) in live.iter().enumerate() {
        position[i] = k;
    }
    // A = I − Q over live states, row-major.
    let mut a = vec![0.0; m * m];
    for (r, &i) in live.iter().enumerate() {
        a[r * m + r] += 1.0;
        for (j, v) in q.row(i) {
            if !removed[j] {
                a[r * m + position[j]] -= v;
            }
        }
    }
    let mut perm: Vec<usize> = (0..m).collect();
    for k in 0..m {
        let pivot =
            (k..m).max_by(|&r, &s| a[r * m + k].abs().total_cmp(&a[s * m + k].abs())).unwrap_or(k);
        if a[pivot * m + k].abs() < 1e-300 {
            // I − Q is singular only when some live states never leave their own closed set.
            return Err(NotConverged { sweeps: 0, change: f64::INFINITY });
        }
        if pivot != k {
            for c in 0..m {
                a.swap(k * m + c, pivot * m + c);
            }
            perm.swap(k, pivot);
        }
        let d = a[k * m + k];
        for r in k + 1..m {
            let f = a[r * m + k] / d;
            if f != 0.0 {
                a[r * m + k] = f;
                for c in k + 1..m {
                    a[r * m + c] -= f * a[k * m + c];
                }
            } else {
                a[r * m + k] = 0.0;
            }
        }
    }
    let solve_one = |b: &[f64]| {
        let mut y: Vec<f64> = perm.iter().map(|&r| b[live[r]]).collect();
        for r in 0..m {
            let s: f64 = (0..r).map(|c| a[r * m + c] * y[c]).sum();
            y[r] -= s;
        }
        for r in (0..m).rev() {
            let s: f64 = (r + 1..m).map(|c| a[r * m + c] * y[c]).sum();
            y[r] = (y[r] - s) / a[r * m + r];
        }
        let mut x = vec![0.0; n];
        for (k, &i) in live.iter().enumerate() {
            x[i] = y[k];
        }
        x
    };
    Ok(rhs.iter().map(|b| solve_one(b)).collect())
}

fn solve_gauss_seidel(
    q: &SparseRows,
    rhs: &[&[f64]],
    removed: &[bool],
    live: &[usize],
) -> Result<(Vec<Vec<f64>>, Method), NotConverged> {
    let n = q.len();
    let mut max_sweeps = 0;
    let mut out = Vec::with_capacity(rhs.len());
    for b in rhs {
        let mut x = vec![0.0; n];
        let mut sweeps = 0;
        loop {
            sweeps += 1;
            let mut change: f64 = 0.0;
            let mut scale: f64 = 0.0;
            for &i in live {
                let mut self_loop = 0.0;
                let mut sum = b[i];
                for (j, v) in q.row(i) {
                    if j == i {
                        self_loop += v;
                    } else if !removed[j] {
                        sum += v * x[j];
                    }
                }
                let next = sum / (1.0 - self_loop);
                change = change.max((next - x[i]).abs());
                scale = scale.max(next.abs());
                x[i] = next;
            }
            if change <= 1e-15 * scale.max(f64::MIN_POSITIVE) {
                break;
            }
            if sweeps >= MAX_SWEEPS || !change.is_finite() {
                return Err(NotConverged { sweeps, change });
            }
        }
        max_sweeps = max_sweeps.max(sweeps);
        out.push(x);
    }
    Ok((out, Method::GaussSeidel { sweeps: max_sweeps }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(dense: &[&[f64]]) -> SparseRows {
        let mut m = SparseRows { starts: vec![0], ..SparseRows::default() };
        for row in dense {
            for (j, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    m.cols.push(j as u32);
                    m.vals.push(v);
                }
            }
            m.starts.push(m.cols.len());
        }
        m
    }

    /// Gambler's ruin on 0..=4 with p = 1/2: from state i the chance to reach 4 is i/4.
    #[test]
    fn lu_and_gauss_seidel_agree_with_the_closed_form() {
        // Transient states 1, 2, 3 (indices 0, 1, 2); absorbing at 0 and 4.
        let q = rows(&[&[0.0, 0.5, 0.0], &[0.5, 0.0, 0.5], &[0.0, 0.5, 0.0]]);
        let b = [0.0, 0.0, 0.5];
        let lu = solve_absorbing(&q, &[&b], &[false; 3]).unwrap();
        assert_eq!(lu.method, Method::Lu);
        let live = [0, 1, 2];
        let (gs, _) = solve_gauss_seidel(&q, &[&b], &[false; 3], &live).unwrap();
        for (i, want) in [0.25, 0.5, 0.75].into_iter().enumerate() {
            assert!((lu.x[0][i] - want).abs() < 1e-15);
            assert!((gs[0][i] - want).abs() < 1e-14);
        }
        assert!(lu.residual < 1e-15);
        // Removing state 2 (index 1) cuts 1 off: state 3 (index 2) then reaches 4 with 1/2.
        let cut = solve_absorbing(&q, &[&b], &[false, true, false]).unwrap();
        assert_eq!(cut.x[0], [0.0, 0.0, 0.5]);
    }

    #[test]
    fn self_loops_are_solved_exactly() {
        // One state staying with 0.9, converting with 0.05: x = 0.05 / 0.1 = 0.5.
        let q = rows(&[&[0.9]]);
        let s = solve_absorbing(&q, &[&[0.05]], &[false]).unwrap();
        assert!((s.x[0][0] - 0.5).abs() < 1e-15);
        let (gs, _) = solve_gauss_seidel(&q, &[&[0.05]], &[false], &[0]).unwrap();
        assert!((gs[0][0] - 0.5).abs() < 1e-15);
    }

    #[test]
    fn a_closed_loop_is_an_error_not_a_wrong_answer() {
        let q = rows(&[&[0.0, 1.0], &[1.0, 0.0]]);
        assert!(solve_absorbing(&q, &[&[0.0, 0.0]], &[false, false]).is_err());
    }
}
