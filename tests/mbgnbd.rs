//! MBG/NBD (Batislam, Denizel & Filiztekin 2007).
//!
//! The paper fits a different data set, so the CDNOW reference values here come
//! from `lifetimes` 0.11.3's `ModifiedBetaGeoFitter` (fitted on the same
//! CDNOW summary; its predictions evaluated at its own estimates), run once
//! with the benchmark's lifetimes virtualenv and pinned below.

mod common;

use common::{assert_close, cdnow_summary};
use retentionkit::{
    fit, predict, CustomerData, Derivatives, FitOptions, Fitted, Model, ModifiedBetaGeo,
    TransactionModel,
};

/// lifetimes' estimates on CDNOW (scipy's optimiser, default tolerance).
const LIFETIMES_PARAMS: [f64; 4] = [
    0.5248377255676637,
    6.1829884791339715,
    0.8913562809311422,
    1.6140000256721438,
];

#[test]
fn cdnow_fit_matches_lifetimes() {
    let (x, tx, t) = cdnow_summary();
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    let fitted = fit::<ModifiedBetaGeo>(&data, &FitOptions::default()).unwrap();
    for (ours, theirs) in fitted.params().iter().zip(LIFETIMES_PARAMS) {
        assert_close(*ours, theirs, 2e-3 * theirs, "parameter");
    }
    // lifetimes' optimum: total LL −9582.1327 (computed from its estimates); ours
    // is at least as good.
    let ll = fitted.log_likelihood().unwrap();
    assert!(ll >= -9582.1327 - 1e-6, "{ll}");
    assert_close(ll, -9582.1327, 0.01, "log-likelihood");
}

#[test]
fn predictions_match_lifetimes_at_its_estimates() {
    let m = ModifiedBetaGeo::from_slice(&LIFETIMES_PARAMS).unwrap();
    let cases = [
        (
            m.conditional_expected_purchases(39.0, 2.0, 30.43, 38.86),
            1.2626707787139533,
        ),
        (m.probability_alive(2.0, 30.43, 38.86), 0.70612626),
        (m.probability_alive(0.0, 0.0, 38.86), 0.38971644),
        (m.expected_purchases(39.0), 1.1822837952882739),
        (m.probability_of_purchases(39.0, 0.0), 0.5826055674071031),
        (m.probability_of_purchases(39.0, 1.0), 0.1827633739806654),
        (m.probability_of_purchases(39.0, 2.0), 0.08687059147523463),
    ];
    for (ours, theirs) in cases {
        assert_close(ours, theirs, 1e-7, "prediction");
    }
}

#[test]
fn gradient_and_hessian_match_finite_differences() {
    let (x, tx, t) = cdnow_summary();
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    for params in [LIFETIMES_PARAMS, [1.3, 0.7, 2.5, 0.4]] {
        let model = ModifiedBetaGeo::from_slice(&params).unwrap();
        common::assert_derivatives::<ModifiedBetaGeo>(&params, &data);
        let ev = model.evaluate(&data, Derivatives::None);
        let total: f64 = (0..x.len())
            .map(|i| model.individual_log_likelihood(x[i], tx[i], t[i]))
            .sum();
        assert_close(
            ev.value,
            total,
            1e-8 * total.abs(),
            "compressed vs individual",
        );
    }
}

#[test]
fn simulate_then_refit_recovers_parameters() {
    let truth = ModifiedBetaGeo::new(0.525, 6.18, 0.891, 1.614).unwrap();
    let ages: Vec<f64> = (0..100_000)
        .map(|i| 27.0 + 12.0 * (i as f64 / 100_000.0))
        .collect();
    let sim = predict::simulate(&truth, &ages, 3).unwrap();
    let x: Vec<f64> = sim.iter().map(|c| c.frequency).collect();
    let tx: Vec<f64> = sim.iter().map(|c| c.recency).collect();
    let data = CustomerData::new(&x, &tx, &ages, None).unwrap().compress();
    let fitted = fit::<ModifiedBetaGeo>(&data, &FitOptions::default()).unwrap();
    for ((est, truth), se) in fitted
        .params()
        .iter()
        .zip(truth.to_vec())
        .zip(fitted.standard_errors())
    {
        assert!((est - truth).abs() < 4.0 * se, "{est} vs {truth} (se {se})");
    }
}

#[test]
fn properties_and_round_trip() {
    let m = ModifiedBetaGeo::from_slice(&LIFETIMES_PARAMS).unwrap();
    for t in [1.0, 39.0, 78.0] {
        let probs: Vec<f64> = (0..2000)
            .map(|n| m.probability_of_purchases(t, n as f64))
            .collect();
        let mean: f64 = probs.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        assert_close(probs.iter().sum(), 1.0, 1e-9, "sum of P(X(t) = n)");
        assert_close(mean, m.expected_purchases(t), 1e-6, "mean of P(X(t) = n)");
    }
    let mut last = 0.0;
    for t in [0.0, 1.0, 10.0, 39.0, 500.0] {
        let e = m.conditional_expected_purchases(t, 4.0, 20.0, 39.0);
        assert!(e >= last && e.is_finite());
        last = e;
    }
    for (x, tx, age) in [
        (0.0, 0.0, 1e-3),
        (4000.0, 100.0, 30_000.0),
        (7.0, 38.0, 39.0),
    ] {
        let p = m.probability_alive(x, tx, age);
        assert!((0.0..=1.0).contains(&p));
    }
    let known = Fitted::from_model(m);
    assert_eq!(
        Fitted::<ModifiedBetaGeo>::from_json(&known.to_json()).unwrap(),
        known
    );
    // A BG/NBD file is not an MBG/NBD model.
    let bg = Fitted::from_model(retentionkit::BetaGeo::from_slice(&LIFETIMES_PARAMS).unwrap());
    assert!(Fitted::<ModifiedBetaGeo>::from_json(&bg.to_json()).is_err());
}
