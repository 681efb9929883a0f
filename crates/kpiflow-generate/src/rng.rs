//! The generator's random numbers: a portable PCG stream and the few distributions it needs.
//!
//! Every value the generator writes comes from [`Rng`], so the output is a pure function of the
//! seed and the options. The sampling code is written here on top of `next_u64` (rather than
//! taken from `rand`/`rand_distr`) so that a patch release of a sampling crate cannot change the
//! files a seed produces: only `rand_pcg`'s `Mcg128Xsl64` (a fixed, documented algorithm) is
//! trusted for the bits.

use rand_pcg::Pcg64Mcg;
use rand_pcg::rand_core::Rng as _;

/// SplitMix64: spreads a seed (and a stream name) into well-mixed 64-bit words.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A seeded random stream with the distributions the simulation uses.
#[derive(Debug, Clone)]
pub struct Rng {
    inner: Pcg64Mcg,
    /// A second normal deviate left over from the last Box–Muller draw.
    spare_normal: Option<f64>,
}

impl Rng {
    /// The stream named `stream` for `seed`. Independent parts of the data (sessions, social
    /// posts, SEO, ...) use their own streams, so adding draws to one leaves the others unchanged.
    pub fn new(seed: u64, stream: &str) -> Rng {
        // FNV-1a of the stream name, mixed with the seed.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in stream.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        let hi = splitmix64(seed ^ h);
        let lo = splitmix64(hi ^ seed.rotate_left(17) ^ 0x5851_F42D_4C95_7F2D);
        let state = (u128::from(hi) << 64) | u128::from(lo);
        Rng { inner: Pcg64Mcg::new(state), spare_normal: None }
    }

    /// A child stream derived from this one (consumes one draw).
    pub fn fork(&mut self, stream: &str) -> Rng {
        let s = self.u64();
        Rng::new(s, stream)
    }

    #[inline]
    pub fn u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in [0, 1).
    #[inline]
    pub fn f64(&mut self) -> f64 {
        (self.u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    #[inline]
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    /// Uniform integer in [0, n); 0 when n is 0.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Lemire's multiply-shift; the tiny bias is irrelevant here and it is portable.
        ((u128::from(self.u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform integer in [lo, hi] (inclusive).
    #[inline]
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    /// True with probability `p`.
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// One element of a slice. Panics on an empty slice; callers pass constant, non-empty
    /// tables.
    #[inline]
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        let i = self.below(items.len() as u64) as usize;
        items[i.min(items.len().saturating_sub(1))]
    }

    /// An index drawn with the given (non-negative) weights; 0 when they sum to zero.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return 0;
        }
        let mut x = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        let u1 = 1.0 - self.f64(); // (0, 1]
        let u2 = self.f64();
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = std::f64::consts::TAU * u2;
        self.spare_normal = Some(r * theta.sin());
        r * theta.cos()
    }

    /// Log-normal with the given median and log-space standard deviation.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Exponential with the given mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.f64()).ln()
    }

    /// Poisson with mean `lambda` (exact below 30, normal approximation above).
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 || !lambda.is_finite() {
            return 0;
        }
        if lambda < 30.0 {
            let limit = (-lambda).exp();
            let mut k = 0u64;
            let mut p = self.f64();
            while p > limit {
                k += 1;
                p *= self.f64();
            }
            k
        } else {
            (lambda + lambda.sqrt() * self.normal()).round().max(0.0) as u64
        }
    }

    /// Binomial(n, p): exact for small n, normal approximation for large n; always in [0, n].
    pub fn binomial(&mut self, n: u64, p: f64) -> u64 {
        let p = p.clamp(0.0, 1.0);
        if n == 0 || p == 0.0 {
            return 0;
        }
        if n <= 40 {
            return (0..n).filter(|_| self.chance(p)).count() as u64;
        }
        let mean = n as f64 * p;
        let sd = (mean * (1.0 - p)).sqrt();
        (mean + sd * self.normal()).round().clamp(0.0, n as f64) as u64
    }

    /// Geometric number of failures before a success with probability `p` (0, 1, 2, ...).
    pub fn geometric(&mut self, p: f64) -> u64 {
        let p = p.clamp(1e-9, 1.0);
        if p >= 1.0 {
            return 0;
        }
        ((1.0 - self.f64()).ln() / (1.0 - p).ln()).floor().max(0.0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = {
            let mut r = Rng::new(7, "x");
            (0..4).map(|_| r.u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(7, "x");
            (0..4).map(|_| r.u64()).collect()
        };
        let c: Vec<u64> = {
            let mut r = Rng::new(7, "y");
            (0..4).map(|_| r.u64()).collect()
        };
        let d: Vec<u64> = {
            let mut r = Rng::new(8, "x");
            (0..4).map(|_| r.u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn distributions_have_the_right_means() {
        let mut r = Rng::new(1, "t");
        let n = 200_000;
        let mean = |f: &mut dyn FnMut() -> f64| (0..n).map(|_| f()).sum::<f64>() / n as f64;
        let m = mean(&mut || r.poisson(3.5) as f64);
        assert!((m - 3.5).abs() < 0.05, "{m}");
        let m = mean(&mut || r.poisson(80.0) as f64);
        assert!((m - 80.0).abs() < 0.3, "{m}");
        let m = mean(&mut || r.normal());
        assert!(m.abs() < 0.01, "{m}");
        let m = mean(&mut || r.exp(2.0));
        assert!((m - 2.0).abs() < 0.03, "{m}");
        let m = mean(&mut || r.binomial(1000, 0.3) as f64);
        assert!((m - 300.0).abs() < 1.0, "{m}");
        let m = mean(&mut || r.below(10) as f64);
        assert!((m - 4.5).abs() < 0.03, "{m}");
    }
}
