//! Property tests: BG/NBD predictions stay in their domain for any valid
//! parameters and histories.

use proptest::prelude::*;
use retentionkit::{BetaGeo, TransactionModel};

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
