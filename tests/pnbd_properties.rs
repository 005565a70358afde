//! Property tests: Pareto/NBD predictions stay in their domain for any valid
//! parameters and histories, and the likelihood's two evaluations agree.

use proptest::prelude::*;
use retentionkit::pnbd::ParetoNBD;
use retentionkit::{CustomerData, Derivatives, Model, TransactionModel};

fn params() -> impl Strategy<Value = ParetoNBD> {
    (1e-3f64..50.0, 1e-2f64..500.0, 1e-2f64..50.0, 1e-2f64..500.0)
        .prop_map(|(r, alpha, s, beta)| ParetoNBD::new(r, alpha, s, beta).unwrap())
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
    }

    #[test]
    fn log_likelihood_is_finite_and_both_forms_agree(m in params(), (x, tx, age) in history()) {
        let ll = m.individual_log_likelihood(x, tx, age);
        prop_assert!(ll.is_finite(), "{ll}"); // a density in t_x: ln L may be positive
        let data = CustomerData::new(&[x], &[tx], &[age], None).unwrap().compress();
        let ev = m.evaluate(&data, Derivatives::Hessian);
        prop_assert!((ev.value - ll).abs() <= 1e-9 * ll.abs().max(1.0), "{} vs {ll}", ev.value);
        prop_assert!(ev.gradient.iter().chain(&ev.hessian).all(|v| v.is_finite()));
    }

    #[test]
    fn unconditional_expectation_is_monotone(m in params(), t in 0.0f64..500.0) {
        let e1 = m.expected_purchases(t);
        let e2 = m.expected_purchases(t + 1.0);
        prop_assert!(e1.is_finite() && e1 >= 0.0 && e2 >= e1 * (1.0 - 1e-9), "{e1} {e2}");
    }
}
