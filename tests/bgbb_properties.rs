//! Property tests: BG/BB (Fader, Hardie & Shang 2010) predictions stay in
//! their domain for any valid parameters and histories, and the analytic
//! derivatives match central differences.

use proptest::prelude::*;
use retentionkit::bgbb::{bgbb_data, BetaGeoBetaBinom};
use retentionkit::{Derivatives, Model};

fn params() -> impl Strategy<Value = BetaGeoBetaBinom> {
    (
        1e-2f64..100.0,
        1e-2f64..100.0,
        1e-2f64..100.0,
        1e-2f64..100.0,
    )
        .prop_map(|(a, b, g, d)| BetaGeoBetaBinom::new(a, b, g, d).unwrap())
}

/// (x, t_x, n) with 0 ≤ x ≤ t_x ≤ n, n ≥ 1, t_x = 0 when x = 0.
fn history() -> impl Strategy<Value = (f64, f64, f64)> {
    (1u32..200, 0.0f64..=1.0, 0.0f64..=1.0).prop_map(|(n, r, f)| {
        let tx = (r * f64::from(n)).round();
        let x = if tx == 0.0 {
            0.0
        } else {
            (f * tx).round().max(1.0)
        };
        (x, tx, f64::from(n))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn probability_alive_is_a_decreasing_probability(m in params(), (x, tx, n) in history()) {
        let mut last = 1.0;
        for h in [0.0, 1.0, 3.0, 50.0] {
            let p = m.probability_alive_at(h, x, tx, n);
            prop_assert!((0.0..=1.0).contains(&p) && p <= last * (1.0 + 1e-12), "{h}: {p} > {last}");
            last = p;
        }
        prop_assert!(m.individual_log_likelihood(x, tx, n).is_finite());
        prop_assert!(m.individual_log_likelihood(x, tx, n) <= 1e-12);
    }

    #[test]
    fn conditional_expectation_is_bounded_and_monotone(
        m in params(), (x, tx, n) in history(), n_star in 0u32..500
    ) {
        let s = f64::from(n_star);
        let e1 = m.conditional_expected_number_of_transactions(s, x, tx, n);
        let e2 = m.conditional_expected_number_of_transactions(s + 1.0, x, tx, n);
        prop_assert!(e1.is_finite() && e1 >= 0.0 && e1 <= s * (1.0 + 1e-9), "{e1}");
        prop_assert!(e2 >= e1 * (1.0 - 1e-9), "{e1} then {e2}");
    }

    #[test]
    fn unconditional_expectation_is_bounded_and_monotone(m in params(), n in 0u32..1000) {
        let n = f64::from(n);
        let e1 = m.expected_number_of_transactions(n);
        let e2 = m.expected_number_of_transactions(n + 1.0);
        prop_assert!(e1.is_finite() && e1 >= 0.0 && e1 <= n * (1.0 + 1e-9), "{e1}");
        prop_assert!(e2 >= e1 * (1.0 - 1e-9), "{e1} {e2}");
    }

    #[test]
    fn pmf_sums_to_one_with_the_right_mean(m in params(), n in 1u32..60) {
        let n = f64::from(n);
        let probs: Vec<f64> = (0..=n as usize)
            .map(|x| m.probability_of_transactions(x as f64, n))
            .collect();
        let total: f64 = probs.iter().sum();
        let mean: f64 = probs.iter().enumerate().map(|(x, p)| x as f64 * p).sum();
        prop_assert!((total - 1.0).abs() < 1e-9, "{total}");
        let e = m.expected_number_of_transactions(n);
        prop_assert!((mean - e).abs() < 1e-8 * n, "{mean} vs {e}");
    }

    #[test]
    fn gradient_matches_central_differences(
        p in (5e-2f64..20.0, 5e-2f64..20.0, 5e-2f64..20.0, 5e-2f64..20.0),
        (x, tx, n) in history()
    ) {
        let params = [p.0, p.1, p.2, p.3];
        let data = bgbb_data(&[x], &[tx], &[n], None).unwrap();
        let model = BetaGeoBetaBinom::from_slice(&params).unwrap();
        let ev = model.evaluate(&data, Derivatives::Hessian);
        for k in 0..4 {
            let h = 1e-5 * params[k];
            let shifted = |d: f64| {
                let mut q = params;
                q[k] += d;
                BetaGeoBetaBinom::from_slice(&q).unwrap().evaluate(&data, Derivatives::Gradient)
            };
            let (up, down) = (shifted(h), shifted(-h));
            let fd = (up.value - down.value) / (2.0 * h);
            prop_assert!(
                (fd - ev.gradient[k]).abs() < 1e-5 * ev.gradient[k].abs().max(1.0),
                "gradient {}: {} vs {}", k, fd, ev.gradient[k]
            );
            for l in 0..4 {
                let fd = (up.gradient[l] - down.gradient[l]) / (2.0 * h);
                let analytic = ev.hessian[l * 4 + k];
                prop_assert!(
                    (fd - analytic).abs() < 1e-4 * analytic.abs().max(1.0),
                    "hessian ({}, {}): {} vs {}", l, k, fd, analytic
                );
            }
        }
    }
}
