//! Pareto/NBD against Fader & Hardie's CDNOW estimates, a 50-digit mpmath
//! likelihood, and its own properties.

mod common;

use common::properties::{assert_count_distribution, assert_predictions_in_domain};
use common::recovery::{assert_recovers, cohort_ages, simulate_customers};
use common::reference::{reference, Reference};
use common::{assert_close, cdnow_summary, mpmath_fixture};
use retentionkit::pnbd::ParetoNBD;
use retentionkit::{
    fit, predict, CustomerData, Derivatives, FitOptions, Fitted, Model, TransactionModel,
};

/// Fader & Hardie's estimates (tests/fixtures/reference_values.json).
fn published() -> Reference {
    reference("pnbd_cdnow_fh2005")
}

fn cdnow_fit() -> Fitted<ParetoNBD> {
    let (x, tx, t) = cdnow_summary();
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    fit::<ParetoNBD>(&data, &FitOptions::default()).unwrap()
}

/// Fader & Hardie, "A Note on Deriving the Pareto/NBD Model and Related
/// Expressions" (2005), and FHL (2005) table 1: CDNOW 1/10th sample, 39-week
/// calibration (reference entry `pnbd_cdnow_fh2005`).
///
/// r, α, s and LL match to the printed precision. β does not: the maximum on
/// this data is at β = 11.6679 (gradient 1e-10), and the published point has a
/// log-likelihood 8e-5 lower, so it is not the maximiser (the likelihood is very
/// flat along β, whose standard error is 6.2; the paper's optimiser stopped
/// early). We check β to 2e-3 and that our maximum beats the published point.
#[test]
fn cdnow_reference_parameters_and_log_likelihood() {
    let reference = published();
    let fitted = cdnow_fit();
    let p = fitted.params();
    for ((value, expected), (name, tol)) in p.iter().zip(reference.params::<ParetoNBD>()).zip([
        ("r", 5e-4),
        ("alpha", 5e-4),
        ("s", 5e-4),
        ("beta", 2e-3),
    ]) {
        assert_close(*value, expected, tol, name);
    }
    let (x, tx, t) = cdnow_summary();
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    let published = reference
        .model::<ParetoNBD>()
        .evaluate(&data, Derivatives::None)
        .value;
    let ll = fitted.log_likelihood();
    assert!(
        ll >= published && ll - published < 1e-3,
        "{ll} vs {published}"
    );
    assert_close(
        fitted.log_likelihood(),
        reference.log_likelihood(),
        0.05,
        "log-likelihood",
    );
    let info = fitted.info.as_ref().unwrap();
    assert!(info.converged);
    assert_eq!(info.n_customers, reference.n_customers());
    let se = fitted.standard_errors();
    assert!(se.iter().all(|s| s.is_finite() && *s > 0.0), "{se:?}");
}

/// ln L against mpmath at 50 digits (scripts/make_hyp2f1_fixture.py), including
/// customers for which `lifetimes` returns NaN or inf (x in the thousands, T in
/// the tens of thousands, α = β, extreme α/β): both the individual
/// log-likelihood and the fitter's evaluation on a one-row data set.
#[test]
fn log_likelihood_matches_mpmath() {
    let rows = mpmath_fixture(
        "pnbd_loglik_mpmath.csv",
        &["r", "alpha", "s", "beta", "x", "t_x", "T", "log_lik"],
    );
    assert!(rows.len() > 50);
    for row in rows {
        let m = ParetoNBD::new(row[0], row[1], row[2], row[3]).unwrap();
        let (x, tx, t, expected) = (row[4], row[5], row[6], row[7]);
        let tol = 1e-10 * expected.abs().max(1.0);
        let ll = m.individual_log_likelihood(x, tx, t);
        assert_close(ll, expected, tol, &format!("individual LL at {row:?}"));
        let data = CustomerData::new(&[x], &[tx], &[t], None)
            .unwrap()
            .compress();
        let ev = m.evaluate(&data, Derivatives::Hessian);
        assert_close(ev.value, expected, tol, &format!("evaluate at {row:?}"));
        assert!(ev.gradient.iter().chain(&ev.hessian).all(|v| v.is_finite()));
    }
}

/// Numerical derivatives of the summed log-likelihood agree with the analytic
/// gradient and Hessian; the compressed value equals the sum of individual ones.
#[test]
fn gradient_and_hessian_match_finite_differences() {
    let (x, tx, t) = cdnow_summary();
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    for params in [
        published().params::<ParetoNBD>(),
        vec![1.3, 0.7, 2.5, 0.4],
        vec![0.05, 40.0, 0.2, 9.0],
        vec![0.7, 12.0, 0.9, 12.0],
        vec![0.4, 3.0, 1.0, 300.0],
    ] {
        let model = ParetoNBD::from_slice(&params).unwrap();
        common::assert_derivatives::<ParetoNBD>(&params, &data);
        let ev = model.evaluate(&data, Derivatives::None);
        let total: f64 = (0..x.len())
            .map(|i| model.individual_log_likelihood(x[i], tx[i], t[i]))
            .sum();
        assert_close(
            ev.value,
            total,
            1e-9 * total.abs(),
            "compressed vs individual",
        );
    }
}

#[test]
fn simulate_then_refit_recovers_parameters() {
    let truth = published().model::<ParetoNBD>();
    let data = simulate_customers(&truth, &cohort_ages(100_000), 7);
    assert_recovers(&truth, &data);
}

#[test]
fn predictions_have_the_right_shape() {
    let m = published().model::<ParetoNBD>();
    assert_predictions_in_domain(&m);
    for model in [
        m,
        ParetoNBD::new(1.5, 3.0, 2.0, 1.0).unwrap(),
        ParetoNBD::new(0.8, 5.0, 1.0, 5.0).unwrap(),
    ] {
        assert_count_distribution(&model, &[0.3, 39.0, 78.0], 3000, |e| 1e-7 * e.max(1.0));
    }
}

/// E[X(t)] and E[Y(t) | …] are regular at s = 1 (the 0/0 of eq. (17)).
#[test]
fn s_equal_one_is_continuous() {
    let at = ParetoNBD::new(0.5, 3.0, 1.0, 2.0).unwrap();
    let near = ParetoNBD::new(0.5, 3.0, 1.0 + 1e-9, 2.0).unwrap();
    assert_close(
        at.expected_purchases(10.0),
        near.expected_purchases(10.0),
        1e-8,
        "E[X(t)]",
    );
    assert_close(
        at.expected_purchases(10.0),
        0.5 / 3.0 * 2.0 * (1.0f64 + 10.0 / 2.0).ln(),
        1e-14,
        "(rβ/α) ln(1 + t/β)",
    );
}

#[test]
fn numerical_extremes_stay_finite() {
    let m = published().model::<ParetoNBD>();
    for (x, tx, age) in [
        (5000.0, 29_000.0, 30_000.0),
        (3000.0, 1.0, 40_000.0),
        (1.0, 0.0, 1e-6),
    ] {
        let p = m.probability_alive(x, tx, age);
        let e = m.conditional_expected_purchases(52.0, x, tx, age);
        let ll = m.individual_log_likelihood(x, tx, age);
        assert!(
            p.is_finite() && e.is_finite() && ll.is_finite(),
            "{x} {tx} {age}"
        );
        assert!((0.0..=1.0).contains(&p) && e >= 0.0);
    }
    for params in [
        [1e-4, 1e-4, 1e-4, 1e-4],
        [1e4, 1e4, 1e4, 1e4],
        [0.5, 1e6, 0.5, 1.0],
    ] {
        let m = ParetoNBD::from_slice(&params).unwrap();
        assert!(m
            .conditional_expected_purchases(39.0, 2.0, 30.0, 39.0)
            .is_finite());
        assert!(m.individual_log_likelihood(2.0, 30.0, 39.0).is_finite());
        assert!(m.expected_purchases(39.0).is_finite());
    }
}

#[test]
fn json_round_trip() {
    let fitted = cdnow_fit();
    let text = fitted.to_json();
    assert!(text.contains("\"model\": \"ParetoNBD\""));
    let back = Fitted::<ParetoNBD>::from_json(&text).unwrap();
    assert_eq!(back, fitted);
    let known = Fitted::from_model(ParetoNBD::new(1.0, 2.0, 3.0, 4.0).unwrap());
    assert_eq!(
        Fitted::<ParetoNBD>::from_json(&known.to_json()).unwrap(),
        known
    );
    assert!(Fitted::<retentionkit::BetaGeo>::from_json(&text).is_err());
    assert!(ParetoNBD::from_slice(&[1.0, 2.0]).is_err());
    assert!(ParetoNBD::new(0.2, 1.0, 0.0, 1.0).is_err());
}

/// Timing of a fit on one million simulated customers (the benchmark proper
/// lives in bench/): `cargo test --release --test pnbd -- --ignored --nocapture`.
#[test]
#[ignore]
fn fit_one_million_timing() {
    let truth = published().model::<ParetoNBD>();
    let ages: Vec<f64> = (0..1_000_000)
        .map(|i| 27.0 + 12.0 * (i as f64 / 1e6))
        .collect();
    let sim = predict::simulate(&truth, &ages, 11).unwrap();
    let x: Vec<f64> = sim.iter().map(|c| c.frequency).collect();
    let tx: Vec<f64> = sim.iter().map(|c| c.recency).collect();
    let t: Vec<f64> = sim.iter().map(|c| c.age).collect();
    let start = std::time::Instant::now();
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    let fitted = fit::<ParetoNBD>(&data, &FitOptions::default()).unwrap();
    let elapsed = start.elapsed();
    eprintln!(
        "1M customers ({} distinct rows): {elapsed:?}, {:?}, {} iterations",
        data.len(),
        fitted.params(),
        fitted.info.as_ref().unwrap().iterations
    );
}

/// P(X(t) = n) at parameters in the thousands and millions, against the
/// 50-digit values of `tests/fixtures/mpmath_grid_other.json` (points 0, 2, 11,
/// 22, 23 and 35 of its Pareto/NBD grid): the former series for the death term
/// returned values above 1 (clamped to 1.0) or no value (NaN) there.
#[test]
fn probability_of_purchases_at_large_parameters_matches_mpmath() {
    for (params, t, n, expected) in [
        (
            [217.561, 0.00966427, 35272.9, 1.58282],
            0.566358,
            2.0,
            0.1253424125706959,
        ),
        (
            [6588970.0, 179360.0, 7.74669, 0.0250406],
            1.57418,
            0.0,
            0.8820449633723458,
        ),
        (
            [37983.8, 19833.6, 25755.1, 1390.84],
            1145.83,
            2.0,
            0.007962329176496944,
        ),
        (
            [772.648, 503.171, 40421.4, 39407.5],
            248.489,
            7.0,
            0.011154834899008818,
        ),
        (
            [2979560.0, 0.00944096, 288531.0, 0.0077169],
            3604.14,
            1.0,
            0.094702983545684,
        ),
        (
            [289.249, 9425190.0, 2122.47, 25124.8],
            557.076,
            0.0,
            0.9996366802268346,
        ),
    ] {
        let m = ParetoNBD::from_slice(&params).unwrap();
        let got = m.probability_of_purchases(t, n);
        assert!(
            (got - expected).abs() <= 1e-10 * expected,
            "{params:?} t={t} n={n}: got {got}, expected {expected}"
        );
    }
}

/// The distribution of X(t) sums to one and has mean E[X(t)] across the box a
/// fit can return, including where the death term's integrand is a narrow peak.
#[test]
fn count_distribution_sums_to_one_at_extreme_parameters() {
    for params in [
        [1e4, 1e4, 1e4, 1e4],
        [5e6, 2e6, 3e3, 1e2],
        [2.0, 1e6, 1e6, 5.0],
        [0.7, 3.0, 1e7, 1e7],
    ] {
        let m = ParetoNBD::from_slice(&params).unwrap();
        for t in [0.5, 10.0, 300.0] {
            let mean = m.expected_purchases(t);
            if mean > 50.0 {
                continue;
            }
            let terms = (mean * 20.0 + 60.0) as usize;
            let probs: Vec<f64> = (0..terms)
                .map(|n| m.probability_of_purchases(t, n as f64))
                .collect();
            let total: f64 = probs.iter().sum();
            assert!(
                (total - 1.0).abs() < 1e-9,
                "{params:?} t={t}: total {total}"
            );
            let first: f64 = probs.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
            assert!(
                (first - mean).abs() <= 1e-7 * mean.max(1e-3),
                "{params:?} t={t}: mean {first} vs {mean}"
            );
        }
    }
}

/// The conditional P(Y(t) = 0) where P(alive) is 1 − 1.2e-9 and the posterior
/// P(X(t) = 0) only 1.9e-8: 1 − P(alive) formed by subtraction was off by 1e-5
/// relative (point 20 of the Pareto/NBD grid in
/// `tests/fixtures/mpmath_grid_other.json`, 50-digit reference).
#[test]
fn conditional_probability_of_no_purchase_keeps_the_small_death_probability() {
    let m = ParetoNBD::from_slice(&[134359.0, 60115.0, 0.129858, 3121520.0]).unwrap();
    let got = m.conditional_probability_of_purchases(0.0, 110.127, 0.0, 0.0, 0.0271472);
    let expected = 1.9777554952832554e-08;
    assert!(
        (got - expected).abs() <= 1e-10 * expected,
        "got {got}, expected {expected}"
    );
}

/// DERT at s in the millions (point 57 of the Pareto/NBD grid in
/// `tests/fixtures/mpmath_grid_other.json`), divided by P(alive) (which loses
/// 7e-9 of its own there): (r+x)/(α+T) · b e^{bδ} E_s(bδ) with b = β+T, at 50
/// digits, also by a direct quadrature. The terms ±(s−1) ln z of size 6e7 that
/// the former formula added and cancelled cost 4e-9 relative.
#[test]
fn dert_at_s_in_the_millions_matches_mpmath() {
    let m = ParetoNBD::from_slice(&[38.2222, 5314.56, 7789760.0, 4103110.0]).unwrap();
    let (x, tx, age) = (0.0, 0.0, 0.202063);
    let got = m.discounted_expected_residual_transactions(0.000391932, x, tx, age)
        / m.probability_alive(x, tx, age);
    let expected = 0.003_787_314_463_229_059;
    assert!(
        (got - expected).abs() <= 1e-11 * expected,
        "got {got}, expected {expected}"
    );
}
