//! The statistics the interleaved harnesses report: the median of a sample
//! and a distribution-free 95 % confidence interval for it.
//!
//! The interval is the pair of order statistics `(x_k, x_{n+1-k})` with the
//! largest `k` whose coverage `1 - 2 P(B <= k - 1)`, `B ~ Binomial(n, 1/2)`,
//! is at least 95 %. It assumes nothing about the distribution (the
//! per-round ratios of a noisy VM are skewed and heavy-tailed), only that
//! the rounds are independent. With fewer than 6 samples no such pair
//! exists. Owns these formulas only.

/// The median of `v` (the mean of the two middle values for an even
/// count). `NaN` for an empty sample.
pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The 0-based index `k - 1` of the lower order statistic of the 95 %
/// interval for the median of `n` samples, if one exists.
fn lower_index(n: usize) -> Option<usize> {
    // P(B <= j) for B ~ Binomial(n, 1/2), accumulated term by term:
    // pmf(0) = 2^-n, pmf(j + 1) = pmf(j) (n - j) / (j + 1).
    let mut pmf = 0.5f64.powi(n as i32);
    let mut cdf = 0.0;
    let mut best = None;
    for j in 0..n / 2 {
        cdf += pmf;
        if 2.0 * cdf > 0.05 {
            break;
        }
        // Coverage of (x_{j+1}, x_{n-j}) is 1 - 2 P(B <= j) >= 95 %.
        best = Some(j);
        pmf *= (n - j) as f64 / (j + 1) as f64;
    }
    best
}

/// The median of `v` and its distribution-free 95 % interval `(lo, hi)`;
/// the interval is `None` below 6 samples.
pub fn median_with_ci(v: &[f64]) -> (f64, Option<(f64, f64)>) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let ci = if n > 1000 {
        // The binomial's normal approximation (2^-n underflows here).
        let k = ((n as f64) / 2.0 - 0.98 * (n as f64).sqrt()).floor() as usize;
        Some((s[k], s[n - 1 - k]))
    } else {
        lower_index(n).map(|k| (s[k], s[n - 1 - k]))
    };
    (median(&s), ci)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_samples() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn interval_order_statistics_match_binomial_tables() {
        // n = 5: even (min, max) covers only 93.75 %.
        assert_eq!(lower_index(5), None);
        // n = 6: (x1, x6) covers 96.9 %.
        assert_eq!(lower_index(6), Some(0));
        // n = 10: (x2, x9) covers 97.9 %, (x3, x8) only 89 %.
        assert_eq!(lower_index(10), Some(1));
        // n = 20: (x6, x15) covers 95.9 %.
        assert_eq!(lower_index(20), Some(5));
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(median_with_ci(&v), (10.5, Some((6.0, 15.0))));
    }
}
