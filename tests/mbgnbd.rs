//! MBG/NBD (Batislam, Denizel & Filiztekin 2007).
//!
//! The paper fits a different data set, so the CDNOW reference values here come
//! from `lifetimes` 0.11.3's `ModifiedBetaGeoFitter` (fitted on the same
//! CDNOW summary; its predictions evaluated at its own estimates), run once
//! with the benchmark's lifetimes virtualenv and pinned in
//! tests/fixtures/reference_values.json (entry `mbgnbd_cdnow_lifetimes`).

mod common;

use common::properties::assert_count_distribution;
use common::recovery::{assert_recovers, simulate_customers};
use common::reference::{reference, Reference};
use common::{assert_close, cdnow_summary};
use retentionkit::{
    fit, CustomerData, Derivatives, FitOptions, Fitted, Model, ModifiedBetaGeo, TransactionModel,
};

/// lifetimes' estimates on CDNOW (scipy's optimiser, default tolerance), its
/// log-likelihood and predictions there.
fn lifetimes() -> Reference {
    reference("mbgnbd_cdnow_lifetimes")
}

#[test]
fn cdnow_fit_matches_lifetimes() {
    let reference = lifetimes();
    let (x, tx, t) = cdnow_summary();
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    let fitted = fit::<ModifiedBetaGeo>(&data, &FitOptions::default()).unwrap();
    for (ours, theirs) in fitted
        .params()
        .iter()
        .zip(reference.params::<ModifiedBetaGeo>())
    {
        assert_close(*ours, theirs, 2e-3 * theirs, "parameter");
    }
    // lifetimes' optimum (computed from its estimates); ours is at least as good.
    let ll = fitted.log_likelihood();
    let theirs = reference.log_likelihood();
    assert!(ll >= theirs - 1e-6, "{ll}");
    assert_close(ll, theirs, 0.01, "log-likelihood");
}

#[test]
fn predictions_match_lifetimes_at_its_estimates() {
    let reference = lifetimes();
    let m = reference.model::<ModifiedBetaGeo>();
    let mut checked = 0;
    for (label, case) in reference.predictions() {
        let ours = match case.quantity.as_str() {
            "conditional_expected_purchases" => m.conditional_expected_purchases(
                case.arg("t"),
                case.arg("frequency"),
                case.arg("recency"),
                case.arg("T"),
            ),
            "probability_alive" => {
                m.probability_alive(case.arg("frequency"), case.arg("recency"), case.arg("T"))
            }
            "expected_purchases" => m.expected_purchases(case.arg("t")),
            "probability_of_purchases" => m.probability_of_purchases(case.arg("t"), case.arg("n")),
            other => panic!("{label}: unknown quantity {other}"),
        };
        assert_close(ours, case.value, 1e-7, label);
        checked += 1;
    }
    assert_eq!(checked, 7);
}

#[test]
fn gradient_and_hessian_match_finite_differences() {
    let (x, tx, t) = cdnow_summary();
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    for params in [
        lifetimes().params::<ModifiedBetaGeo>(),
        vec![1.3, 0.7, 2.5, 0.4],
    ] {
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
    let data = simulate_customers(&truth, &common::recovery::cohort_ages(100_000), 3);
    assert_recovers(&truth, &data);
}

#[test]
fn properties_and_round_trip() {
    let m = lifetimes().model::<ModifiedBetaGeo>();
    assert_count_distribution(&m, &[1.0, 39.0, 78.0], 2000, |_| 1e-6);
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
    let bg = Fitted::from_model(retentionkit::BetaGeo::from_slice(&m.to_vec()).unwrap());
    assert!(Fitted::<ModifiedBetaGeo>::from_json(&bg.to_json()).is_err());
}
