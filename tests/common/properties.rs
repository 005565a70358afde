//! Properties every transaction model's predictions have, whatever its
//! parameters: P(alive) is a probability that falls as the customer stays
//! silent; expected purchases are non-negative and grow with the horizon; the
//! count distribution sums to one and has the expectation as its mean.

use retentionkit::TransactionModel;

use super::assert_close;

/// P(alive | 5, 29, T) lies in [0, 1] and does not increase with T (a longer
/// silence); E[X(t)] and E[Y(t) | 3, 20, 38] are non-negative and do not
/// decrease in t (to 1e-12).
pub fn assert_predictions_in_domain<M: TransactionModel>(m: &M) {
    let mut last = 1.0;
    for age in [30.0, 40.0, 80.0, 400.0, 40_000.0] {
        let p = m.probability_alive(5.0, 29.0, age);
        assert!(
            (0.0..=1.0).contains(&p) && p <= last,
            "{}: P(alive | 5, 29, {age}) = {p} after {last}",
            M::NAME
        );
        last = p;
    }
    let mut last = (0.0, 0.0);
    for t in [0.0, 0.5, 1.0, 5.0, 39.0, 100.0, 1000.0] {
        let e = (
            m.expected_purchases(t),
            m.conditional_expected_purchases(t, 3.0, 20.0, 38.0),
        );
        assert!(
            e.0 >= last.0 - 1e-12 && e.1 >= last.1 - 1e-12,
            "{}: t = {t}: {e:?} after {last:?}",
            M::NAME
        );
        last = e;
    }
}

/// For each horizon t, P(X(t) = n) summed over n < `terms` is 1 to 1e-9 and
/// its mean is E[X(t)] to `mean_tol(E[X(t)])`.
pub fn assert_count_distribution<M: TransactionModel>(
    m: &M,
    horizons: &[f64],
    terms: usize,
    mean_tol: impl Fn(f64) -> f64,
) {
    for &t in horizons {
        let probs: Vec<f64> = (0..terms)
            .map(|n| m.probability_of_purchases(t, n as f64))
            .collect();
        let total: f64 = probs.iter().sum();
        let mean: f64 = probs.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        assert_close(
            total,
            1.0,
            1e-9,
            &format!("{}: sum of P(X({t}) = n)", M::NAME),
        );
        let e = m.expected_purchases(t);
        assert_close(
            mean,
            e,
            mean_tol(e),
            &format!("{}: mean of P(X({t}) = n)", M::NAME),
        );
    }
}
