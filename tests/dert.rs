//! Discounted expected residual transactions (Fader, Hardie & Lee 2005, JMR
//! 42(4), eq. (1)–(2)): the Pareto/NBD closed form against 50-digit mpmath
//! values of eq. (2) (tests/fixtures/dert_pnbd_mpmath.csv, made by
//! scripts/make_hyperu_fixture.py), the quadrature default against the closed
//! form and against a brute-force Riemann–Stieltjes sum, and the properties
//! every DERT has.

mod common;

use common::reference::reference;
use proptest::prelude::*;
use retentionkit::dert::{dert_by_quadrature, discounted_expected_residual_transactions};
use retentionkit::{BetaGeo, Error, ModifiedBetaGeo, ParetoNBD, TransactionModel};

/// The fixture's rows: r, α, s, β, x, t_x, T, δ, ln DERT.
fn fixture() -> Vec<Vec<f64>> {
    common::mpmath_fixture(
        "dert_pnbd_mpmath.csv",
        &[
            "r", "alpha", "s", "beta", "x", "t_x", "T", "delta", "ln_dert",
        ],
    )
}

/// 15% a year, continuously compounded, per week (FHL 2005's rate).
fn weekly_rate() -> f64 {
    1.15f64.ln() / 52.0
}

#[test]
fn pareto_nbd_closed_form_matches_mpmath() {
    let rows = fixture();
    assert!(rows.len() >= 50);
    let mut worst = 0.0f64;
    for row in &rows {
        let m = ParetoNBD::new(row[0], row[1], row[2], row[3]).unwrap();
        let (x, t_x, age, delta, expected) = (row[4], row[5], row[6], row[7], row[8]);
        let got = m.discounted_expected_residual_transactions(delta, x, t_x, age);
        let err = (got.ln() - expected).abs();
        worst = worst.max(err);
        assert!(
            err <= 1e-10,
            "DERT at {row:?}: ln {} vs {expected} (err {err:.2e})",
            got.ln()
        );
    }
    eprintln!("worst relative error {worst:.2e}");
}

#[test]
fn quadrature_reproduces_the_pareto_nbd_closed_form() {
    let mut worst = 0.0f64;
    for row in fixture() {
        let m = ParetoNBD::new(row[0], row[1], row[2], row[3]).unwrap();
        let (x, t_x, age, delta) = (row[4], row[5], row[6], row[7]);
        let closed = m.discounted_expected_residual_transactions(delta, x, t_x, age);
        let numerical = dert_by_quadrature(&m, delta, x, t_x, age);
        let err = (numerical / closed - 1.0).abs();
        worst = worst.max(err);
        assert!(
            err <= 1e-10,
            "{row:?}: {numerical} vs {closed} (err {err:.2e})"
        );
    }
    eprintln!("worst relative error {worst:.2e}");
}

/// ∫₀^∞ e^{−δt} dE[Y(t)] as a midpoint Riemann–Stieltjes sum on a fine
/// geometric grid from 1e-6 to 60/δ (second order; about 4e-10 here).
fn brute_force<M: TransactionModel>(m: &M, delta: f64, x: f64, t_x: f64, age: f64) -> f64 {
    let (mut t, mut previous, mut sum) = (
        1e-6,
        m.conditional_expected_purchases(1e-6, x, t_x, age),
        0.0,
    );
    sum += previous * (-delta * 0.5e-6).exp();
    let ratio = 1.0 + 5e-5;
    while delta * t < 60.0 {
        let next = t * ratio;
        let value = m.conditional_expected_purchases(next, x, t_x, age);
        sum += (value - previous) * (-delta * 0.5 * (t + next)).exp();
        previous = value;
        t = next;
    }
    sum
}

#[test]
fn bg_family_quadrature_matches_a_brute_force_sum() {
    let bg = reference("bgnbd_cdnow_fhl2005").model::<BetaGeo>();
    let mbg = ModifiedBetaGeo::new(0.525, 6.183, 0.891, 1.614).unwrap();
    let cases = [
        (2.0, 30.43, 38.86, 0.01),
        (0.0, 0.0, 38.86, 0.05),
        (7.0, 35.0, 38.0, 0.02),
        (1.0, 2.0, 10.0, 0.3),
    ];
    for &(x, t_x, age, delta) in &cases {
        for (name, quad, brute) in [
            (
                "BG/NBD",
                bg.discounted_expected_residual_transactions(delta, x, t_x, age),
                brute_force(&bg, delta, x, t_x, age),
            ),
            (
                "MBG/NBD",
                mbg.discounted_expected_residual_transactions(delta, x, t_x, age),
                brute_force(&mbg, delta, x, t_x, age),
            ),
        ] {
            assert!(
                (quad / brute - 1.0).abs() < 1e-8,
                "{name} at x={x}, t_x={t_x}, T={age}, δ={delta}: {quad} vs {brute}"
            );
        }
    }
}

/// For the BG/NBD family, a customer alive at T with rate λ and drop-out
/// probability p makes purchases at the arrival times of a Poisson process,
/// surviving each with probability 1 − p, so the discounted count has mean
/// Σ_k (1−p)^{k−1} (λ/(λ+δ))^k = λ/(δ + pλ). As δ → 0 that is 1/p, and
/// E[1/p] = (a+b+x−1)/(a−1) under the posterior Beta(a, b+x): the undiscounted
/// limit E[Y(∞) | ·] = P(alive) (a+b+x−1)/(a−1) bounds DERT for a > 1.
#[test]
fn bg_dert_is_bounded_by_the_undiscounted_limit() {
    let m = BetaGeo::new(0.243, 4.414, 2.793, 2.426).unwrap();
    for &(x, t_x, age) in &[(0.0, 0.0, 30.0), (3.0, 20.0, 30.0), (12.0, 29.0, 30.0)] {
        let limit = m.probability_alive(x, t_x, age) * (m.a() + m.b() + x - 1.0) / (m.a() - 1.0);
        let mut previous = 0.0;
        for &delta in &[1.0, 0.1, 0.01, 0.001, 1e-4] {
            let d = m.discounted_expected_residual_transactions(delta, x, t_x, age);
            assert!(
                previous < d && d < limit,
                "δ = {delta}: {previous}, {d}, {limit}"
            );
            previous = d;
        }
    }
}

#[test]
fn cdnow_pareto_nbd_values() {
    // A customer with x = 2, t_x = 30.43, T = 38.86 at FHL's 15% rate:
    // 6.5017 discounted transactions (mpmath, eq. (2)); one with no repeat
    // purchases, 0.4785.
    let reference = reference("pnbd_cdnow_fh2005");
    let m = reference.model::<ParetoNBD>();
    let d = weekly_rate();
    for (label, tol) in [
        ("DERT(15% a year | 2, 30.43, 38.86)", 1e-9),
        ("DERT(15% a year | 0, 0, 38.86)", 1e-10),
    ] {
        let case = reference.prediction(label);
        assert_eq!(case.quantity, "discounted_expected_residual_transactions");
        assert_eq!(case.arg("annual_rate"), 0.15, "weekly_rate() is 15% a year");
        let got = m.discounted_expected_residual_transactions(
            d,
            case.arg("frequency"),
            case.arg("recency"),
            case.arg("T"),
        );
        assert!((got - case.value).abs() < tol, "{label}: {got}");
    }
}

#[test]
fn batch_validates_and_matches_the_scalar_method() {
    let m = reference("pnbd_cdnow_fh2005").model::<ParetoNBD>();
    let (x, tx, age) = ([0.0, 2.0, 5.0], [0.0, 30.43, 12.0], [38.86, 38.86, 20.0]);
    let rates = [0.01, 0.002, 0.1];
    let batch = discounted_expected_residual_transactions(&m, &rates, &x, &tx, &age).unwrap();
    for i in 0..3 {
        assert_eq!(
            batch[i],
            m.discounted_expected_residual_transactions(rates[i], x[i], tx[i], age[i])
        );
    }
    let err = discounted_expected_residual_transactions(&m, &[0.01, 0.0, 0.1], &x, &tx, &age);
    assert!(
        matches!(err, Err(Error::InvalidData { row: 1, .. })),
        "{err:?}"
    );
    let err = discounted_expected_residual_transactions(&m, &[0.01], &x, &tx, &age);
    assert!(matches!(err, Err(Error::LengthMismatch { .. })), "{err:?}");
    let err = discounted_expected_residual_transactions(&m, &rates, &x, &[0.0, 40.0, 1.0], &age);
    assert!(
        matches!(err, Err(Error::InvalidData { row: 1, .. })),
        "{err:?}"
    );
    assert!(m
        .discounted_expected_residual_transactions(-1.0, 1.0, 1.0, 2.0)
        .is_nan());
}

fn customer() -> impl Strategy<Value = (f64, f64, f64)> {
    (0u32..60, 0.0f64..1.0, 0.5f64..200.0).prop_map(|(x, frac, age)| {
        let x = f64::from(x);
        (x, if x == 0.0 { 0.0 } else { frac * age }, age)
    })
}

/// Numerical extremes: large x and T, tiny and large δ, parameters near the
/// bounds give finite, non-negative values that agree with the generic
/// quadrature where that is affordable.
#[test]
fn bg_family_dert_extremes_are_finite() {
    let cases = [
        (
            reference("bgnbd_cdnow_fhl2005").model::<BetaGeo>(),
            3000.0,
            20_000.0,
            25_000.0,
        ),
        (
            BetaGeo::new(1e-3, 1e3, 1e-3, 1e-3).unwrap(),
            5.0,
            10.0,
            40.0,
        ),
        (
            BetaGeo::new(50.0, 0.01, 40.0, 80.0).unwrap(),
            0.0,
            0.0,
            1e-3,
        ),
        (
            BetaGeo::new(0.3, 5.0, 0.05, 200.0).unwrap(),
            1200.0,
            30.0,
            39.0,
        ),
    ];
    for (m, x, t_x, age) in cases {
        for delta in [1e-7, 1e-3, 0.5, 50.0] {
            let d = m.discounted_expected_residual_transactions(delta, x, t_x, age);
            assert!(d.is_finite() && d >= 0.0, "{m:?} x={x} δ={delta}: {d}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// BG/NBD and MBG/NBD: the one-dimensional integral over the drop-out
    /// probability (the models' own DERT) equals the generic quadrature of
    /// δ ∫ e^{−δt} E[Y(t)] dt, two independent routes.
    #[test]
    fn bg_family_dert_matches_the_generic_quadrature(
        r in 0.05f64..3.0, alpha in 0.5f64..50.0, a in 0.1f64..5.0, b in 0.1f64..6.0,
        (x, t_x, age) in customer(), ln_delta in -5.0f64..0.0, modified in any::<bool>(),
    ) {
        let delta = ln_delta.exp();
        let (own, generic) = if modified {
            let m = ModifiedBetaGeo::new(r, alpha, a, b).unwrap();
            (
                m.discounted_expected_residual_transactions(delta, x, t_x, age),
                dert_by_quadrature(&m, delta, x, t_x, age),
            )
        } else {
            let m = BetaGeo::new(r, alpha, a, b).unwrap();
            (
                m.discounted_expected_residual_transactions(delta, x, t_x, age),
                dert_by_quadrature(&m, delta, x, t_x, age),
            )
        };
        prop_assert!(
            (own - generic).abs() <= 1e-9 * generic.abs() + 1e-300,
            "{own} vs {generic} (relative {:.1e})", (own / generic - 1.0).abs()
        );
    }
}

proptest! {
    /// Pareto/NBD: non-negative, decreasing in δ, and below the undiscounted
    /// E[Y(∞)] = P(alive) (r+x)(β+T)/((α+T)(s−1)) when s > 1.
    #[test]
    fn pareto_nbd_properties(
        r in 0.05f64..5.0, alpha in 0.5f64..100.0, s in 0.05f64..5.0, beta in 0.5f64..100.0,
        (x, t_x, age) in customer(), ln_delta in -9.0f64..0.0, factor in 1.01f64..10.0,
    ) {
        let m = ParetoNBD::new(r, alpha, s, beta).unwrap();
        let delta = ln_delta.exp();
        let d1 = m.discounted_expected_residual_transactions(delta, x, t_x, age);
        let d2 = m.discounted_expected_residual_transactions(delta * factor, x, t_x, age);
        prop_assert!(d1.is_finite() && d2 >= 0.0);
        prop_assert!(d2 <= d1 * (1.0 + 1e-12), "{d2} > {d1}");
        if s > 1.0 {
            let limit = m.probability_alive(x, t_x, age) * (r + x) * (beta + age)
                / ((alpha + age) * (s - 1.0));
            prop_assert!(d1 <= limit * (1.0 + 1e-12), "{d1} > {limit}");
        }
    }

    /// BG/NBD: the same for its DERT, on fewer cases.
    #[test]
    fn bg_properties(
        r in 0.1f64..3.0, alpha in 1.0f64..50.0, a in 0.2f64..4.0, b in 0.2f64..6.0,
        (x, t_x, age) in customer(), ln_delta in -6.0f64..0.0, factor in 1.5f64..10.0,
    ) {
        let m = BetaGeo::new(r, alpha, a, b).unwrap();
        let delta = ln_delta.exp();
        let d1 = m.discounted_expected_residual_transactions(delta, x, t_x, age);
        let d2 = m.discounted_expected_residual_transactions(delta * factor, x, t_x, age);
        prop_assert!(d1.is_finite() && d2 >= 0.0);
        prop_assert!(d2 <= d1 * (1.0 + 1e-10), "{d2} > {d1}");
        if a > 1.0 {
            let limit = m.probability_alive(x, t_x, age) * (a + b + x - 1.0) / (a - 1.0);
            prop_assert!(d1 <= limit * (1.0 + 1e-10), "{d1} > {limit}");
        }
    }
}
