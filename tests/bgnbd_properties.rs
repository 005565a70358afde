//! Property tests: BG/NBD predictions stay in their domain for any valid
//! parameters and histories.

use proptest::prelude::*;
use retentionkit::{BetaGeo, ModifiedBetaGeo, TransactionModel};

fn params() -> impl Strategy<Value = BetaGeo> {
    (1e-3f64..50.0, 1e-2f64..500.0, 1e-2f64..50.0, 1e-2f64..50.0)
        .prop_map(|(r, alpha, a, b)| BetaGeo::new(r, alpha, a, b).unwrap())
}

/// (x, t_x, T) with 0 ≤ t_x ≤ T, t_x = 0 when x = 0.
fn history() -> impl Strategy<Value = (f64, f64, f64)> {
    (0u32..3000, 0.0f64..1.0, 1e-3f64..20_000.0).prop_map(|(x, share, age)| {
        let x = f64::from(x);
        (x, if x == 0.0 { 0.0 } else { share * age }, age)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn probability_alive_is_a_probability(m in params(), (x, tx, age) in history()) {
        let p = m.probability_alive(x, tx, age);
        prop_assert!((0.0..=1.0).contains(&p), "{p}");
    }

    #[test]
    fn conditional_expectation_is_finite_and_monotone(
        m in params(), (x, tx, age) in history(), t in 0.0f64..200.0
    ) {
        let e1 = m.conditional_expected_purchases(t, x, tx, age);
        let e2 = m.conditional_expected_purchases(t * 1.5 + 1.0, x, tx, age);
        prop_assert!(e1.is_finite() && e1 >= 0.0, "{e1}");
        prop_assert!(e2 >= e1 * (1.0 - 1e-9), "{e1} then {e2}");
        prop_assert!(m.individual_log_likelihood(x, tx, age).is_finite());
    }

    #[test]
    fn unconditional_expectation_is_monotone(m in params(), t in 0.0f64..500.0) {
        let e1 = m.expected_purchases(t);
        let e2 = m.expected_purchases(t + 1.0);
        prop_assert!(e1.is_finite() && e1 >= 0.0 && e2 >= e1 * (1.0 - 1e-9), "{e1} {e2}");
    }
}

/// Histories with small x (the prediction table then covers every x up to the
/// largest) or large x (only the x present are tabulated).
fn histories() -> impl Strategy<Value = Vec<(f64, f64, f64)>> {
    let small = (0u32..6, 0.0f64..1.0, 1e-3f64..100.0).prop_map(|(x, share, age)| {
        let x = f64::from(x);
        (x, if x == 0.0 { 0.0 } else { share * age }, age)
    });
    prop_oneof![
        prop::collection::vec(history(), 1..200),
        prop::collection::vec(small, 1..200),
    ]
}

/// Checks the batch predictions of `m` against its one-customer formulas on
/// the histories `rows`, at horizon `t` (CLV: several horizons, out of order).
fn assert_batch_equals_scalar<M: TransactionModel>(m: &M, rows: &[(f64, f64, f64)], t: f64) {
    let x: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let tx: Vec<f64> = rows.iter().map(|r| r.1).collect();
    let age: Vec<f64> = rows.iter().map(|r| r.2).collect();
    let horizons = [t * 0.25, t * 0.5, t, 0.0, t * 2.0];
    // Not in arithmetic progression: the sum would not see the order then.
    let weights = [1.0, 0.5, 0.93, 0.2, 0.71];
    let expected = m.conditional_expected_purchases_batch(&vec![t; x.len()], &x, &tx, &age);
    let alive = m.probability_alive_batch(&x, &tx, &age);
    let clv = m.discounted_purchases_batch(&horizons, &weights, &x, &tx, &age);
    // The two routes round differently: P(alive) is e^{-(r+x) ln(...)} with x
    // in the thousands, so a few ulps of the exponent show.
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-10 * b.abs().max(1e-300);
    for i in 0..x.len() {
        let e = m.conditional_expected_purchases(t, x[i], tx[i], age[i]);
        let p = m.probability_alive(x[i], tx[i], age[i]);
        let (mut previous, mut d) = (0.0, 0.0);
        for (&h, &w) in horizons.iter().zip(&weights) {
            let now = m.conditional_expected_purchases(h, x[i], tx[i], age[i]);
            d += w * (now - previous);
            previous = now;
        }
        assert!(close(expected[i], e), "row {i}: E {} vs {e}", expected[i]);
        assert!(close(alive[i], p), "row {i}: P {} vs {p}", alive[i]);
        assert!(close(clv[i], d), "row {i}: CLV {} vs {d}", clv[i]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// The batch predictions (per-x tables, four customers in lockstep, one
    /// series pass for every CLV horizon) equal the one-customer formulas.
    #[test]
    fn batch_predictions_equal_the_scalar_ones(
        m in params(), rows in histories(), t in 0.0f64..200.0, modified in any::<bool>(),
    ) {
        if modified {
            let m = ModifiedBetaGeo::new(m.r(), m.alpha(), m.a(), m.b()).unwrap();
            assert_batch_equals_scalar(&m, &rows, t);
        } else {
            assert_batch_equals_scalar(&m, &rows, t);
        }
    }
}
