//! Churn per subscriber (issue 15): the sBG and BdW fitted to individual
//! subscribers, with covariates, and their per-subscriber predictions.

mod common;

use common::reference::reference;
use common::{assert_close, assert_derivatives};
use retentionkit::bdw::BetaDiscreteWeibull;
use retentionkit::contractual::subscriber::{
    predict, predict_many, predict_many_with_covariates, simulate_with_covariates, Prediction,
    SubscriberModel,
};
use retentionkit::contractual::{simulate_many, RetentionData, RetentionModel};
use retentionkit::models::covariates::{CovariateData, CovariateDesign, WithCovariates};
use retentionkit::sbg::ShiftedBetaGeometric;
use retentionkit::{fit, Derivatives, FitOptions, Model};

/// A cohort's survivor counts n₀..n_k as subscribers: n_{t−1} − n_t churned
/// after t periods, n_k active after k.
fn expand(counts: &[f64]) -> (Vec<f64>, Vec<bool>) {
    let (mut periods, mut churned) = (Vec::new(), Vec::new());
    for t in 1..counts.len() {
        for _ in 0..(counts[t - 1] - counts[t]) as usize {
            periods.push(t as f64);
            churned.push(true);
        }
    }
    let k = counts.len() - 1;
    for _ in 0..counts[k] as usize {
        periods.push(k as f64);
        churned.push(false);
    }
    (periods, churned)
}

/// Fader & Hardie (2007): the regular and high-end cohorts (years 0..7)
/// expanded to 1000 subscribers each give the published α, β and the cohort
/// fit to rounding.
#[test]
fn fader_hardie_2007_cohorts_expanded_to_subscribers() {
    for name in ["sbg_regular_fh2007", "sbg_high_end_fh2007"] {
        let reference = reference(name);
        let counts = &reference.survivors()[..8];
        let (periods, churned) = expand(counts);
        assert_eq!(periods.len(), 1000);
        let subscribers = RetentionData::from_subscribers(&periods, &churned, None).unwrap();
        let cohort = RetentionData::from_survivors(counts).unwrap();
        let by_subscriber = fit::<ShiftedBetaGeometric>(&subscribers, &FitOptions::default())
            .unwrap()
            .params();
        let by_cohort = fit::<ShiftedBetaGeometric>(&cohort, &FitOptions::default())
            .unwrap()
            .params();
        let published = reference.params::<ShiftedBetaGeometric>();
        for k in 0..2 {
            assert_close(by_subscriber[k], published[k], 5e-4, name);
            assert_close(by_subscriber[k], by_cohort[k], 1e-9, name);
        }
        let bdw_s = fit::<BetaDiscreteWeibull>(&subscribers, &FitOptions::default()).unwrap();
        let bdw_c = fit::<BetaDiscreteWeibull>(&cohort, &FitOptions::default()).unwrap();
        for (a, b) in bdw_s.params().iter().zip(bdw_c.params()) {
            assert_close(*a, b, 1e-7, name);
        }
    }
}

#[test]
fn active_subscribers_younger_than_a_period_are_counted_but_add_nothing() {
    let data =
        RetentionData::from_subscribers(&[0.0, 2.0, 1.0], &[false, false, true], None).unwrap();
    assert_eq!(data.total_weight, 3.0);
    let without = RetentionData::from_subscribers(&[2.0, 1.0], &[false, true], None).unwrap();
    let m = ShiftedBetaGeometric::new(0.7, 1.2).unwrap();
    assert_eq!(
        m.evaluate(&data, Derivatives::None).value,
        m.evaluate(&without, Derivatives::None).value
    );
    let err = RetentionData::from_subscribers(&[1.0, 0.0], &[true, true], None).unwrap_err();
    assert!(err.to_string().contains("at least one period"), "{err}");
    assert!(err.to_string().contains("first offending row: 1"), "{err}");
    let err = RetentionData::from_subscribers(&[1.5], &[false], None).unwrap_err();
    assert!(err.to_string().contains("non-negative integers"), "{err}");
}

/// Subscribers with a binary and a continuous covariate (deterministic).
fn covariate_rows(n: usize) -> (Vec<f64>, Vec<bool>, Vec<f64>) {
    let mut periods = Vec::with_capacity(n);
    let mut churned = Vec::with_capacity(n);
    let mut z = Vec::with_capacity(2 * n);
    for i in 0..n {
        periods.push(((i * 7) % 13) as f64 + if i % 5 == 0 { 0.0 } else { 1.0 });
        churned.push(i % 3 == 0 && periods[i] >= 1.0);
        z.push((i % 2) as f64);
        z.push(((i * 37) % 101) as f64 / 50.0 - 1.0);
    }
    (periods, churned, z)
}

fn design<M: retentionkit::models::covariates::CovariateModel>() -> CovariateDesign {
    let columns = vec!["plan".to_string(), "price".to_string()];
    CovariateDesign::new::<M>(&columns, &[vec![0, 1], vec![0, 1]], &[]).unwrap()
}

#[test]
fn coefficient_names_and_gradient_against_finite_differences() {
    let (periods, churned, z) = covariate_rows(300);
    let data = CovariateData::for_subscribers(
        &periods,
        &churned,
        None,
        &z,
        design::<ShiftedBetaGeometric>(),
    )
    .unwrap();
    assert_eq!(
        data.design().coefficient_names(),
        ["alpha:plan", "alpha:price", "beta:plan", "beta:price"]
    );
    for params in [
        [0.7, 1.2, 0.3, -0.4, -0.2, 0.5],
        [2.0, 0.3, -1.0, 0.2, 0.8, -0.3],
    ] {
        assert_derivatives::<WithCovariates<ShiftedBetaGeometric>>(&params, &data);
    }
    let data = CovariateData::for_subscribers(
        &periods,
        &churned,
        None,
        &z,
        design::<BetaDiscreteWeibull>(),
    )
    .unwrap();
    for params in [
        [0.7, 1.2, 0.8, 0.3, -0.4, -0.2, 0.5],
        [2.0, 0.3, 1.4, -1.0, 0.2, 0.8, -0.3],
    ] {
        assert_derivatives::<WithCovariates<BetaDiscreteWeibull>>(&params, &data);
    }
}

#[test]
fn zero_coefficients_are_the_plain_model() {
    let (periods, churned, z) = covariate_rows(500);
    let plain = RetentionData::from_subscribers(&periods, &churned, None).unwrap();
    let sbg = ShiftedBetaGeometric::new(0.9, 2.5).unwrap();
    let data = CovariateData::for_subscribers(
        &periods,
        &churned,
        None,
        &z,
        design::<ShiftedBetaGeometric>(),
    )
    .unwrap();
    let with = WithCovariates::new(sbg, design::<ShiftedBetaGeometric>(), vec![0.0; 4]).unwrap();
    let a = with.evaluate(&data, Derivatives::Gradient);
    let b = sbg.evaluate(&plain, Derivatives::Gradient);
    // The same terms summed in another order: equal to rounding.
    assert_close(a.value, b.value, 1e-13 * b.value.abs(), "sBG LL");
    assert_close(
        a.gradient[0],
        b.gradient[0],
        1e-12 * b.gradient[0].abs().max(1.0),
        "sBG d alpha",
    );
    let bdw = BetaDiscreteWeibull::new(0.9, 2.5, 0.7).unwrap();
    let with = WithCovariates::new(bdw, design::<BetaDiscreteWeibull>(), vec![0.0; 4]).unwrap();
    let data = CovariateData::for_subscribers(
        &periods,
        &churned,
        None,
        &z,
        design::<BetaDiscreteWeibull>(),
    )
    .unwrap();
    assert_close(
        with.evaluate(&data, Derivatives::None).value,
        bdw.evaluate(&plain, Derivatives::None).value,
        1e-13 * bdw.evaluate(&plain, Derivatives::None).value.abs(),
        "BdW LL",
    );
    // Predictions too.
    let n = [0.0, 3.0, 10.0];
    let zeros = vec![0.0; 6];
    for what in [
        Prediction::Renewal,
        Prediction::ResidualLifetime,
        Prediction::Survival,
    ] {
        let extra = [2.0; 3];
        let a = predict_many_with_covariates(&with, what, &n, &extra, &zeros).unwrap();
        let b = predict_many(&bdw, what, &n, &extra).unwrap();
        assert_eq!(a, b);
    }
}

/// Identical subscribers share one weighted row.
#[test]
fn identical_subscribers_compress() {
    let periods: Vec<f64> = (0..10_000).map(|i| (i % 12) as f64 + 1.0).collect();
    let churned: Vec<bool> = (0..10_000).map(|i| i % 4 == 0).collect();
    let z: Vec<f64> = (0..10_000)
        .flat_map(|i| [(i % 2) as f64, ((i / 2) % 3) as f64])
        .collect();
    let data = CovariateData::for_subscribers(
        &periods,
        &churned,
        None,
        &z,
        design::<ShiftedBetaGeometric>(),
    )
    .unwrap();
    assert!(data.len() <= 12 * 2 * 6, "{} rows", data.len());
}

/// DERL against the direct sum of the discounted survival series, and the
/// residual lifetime's closed form (sBG) against the BdW's sum at c = 1.
#[test]
fn derl_and_residual_lifetime_against_direct_summation() {
    for (a, b, c) in [
        (0.704, 1.182, 1.0),
        (3.8, 1.2, 1.0),
        (1.5, 4.0, 0.6),
        (2.5, 1.3, 1.5),
    ] {
        let bdw = BetaDiscreteWeibull::new(a, b, c).unwrap();
        for n in [0.0, 1.0, 6.0, 20.0] {
            for d in [0.1, 0.02] {
                let mut direct = 0.0;
                let ln_sn = bdw.ln_survival(n);
                for t in (n as usize + 1)..400_000 {
                    let t = t as f64;
                    direct += (bdw.ln_survival(t) - ln_sn - (t - n - 1.0) * f64::ln_1p(d)).exp();
                }
                let derl = predict(&bdw, Prediction::DiscountedResidualLifetime, n, d).unwrap();
                assert_close(derl, direct, 1e-7, &format!("DERL {a} {b} {c} n={n} d={d}"));
                if c == 1.0 {
                    let sbg = ShiftedBetaGeometric::new(a, b).unwrap();
                    let closed =
                        predict(&sbg, Prediction::DiscountedResidualLifetime, n, d).unwrap();
                    assert_close(closed, direct, 1e-9, "sBG DERL");
                }
            }
            let erl = bdw.expected_residual_lifetime(n);
            if c * a > 1.0 {
                assert!(erl.is_finite());
                if c == 1.0 {
                    let sbg = ShiftedBetaGeometric::new(a, b).unwrap();
                    assert_close(sbg.expected_residual_lifetime(n), erl, 1e-8, "ERL");
                    assert_close(erl, (b + n) / (a - 1.0), 1e-8, "ERL closed form");
                }
            } else {
                assert!(erl.is_infinite());
            }
            let renew = predict(&bdw, Prediction::Renewal, n, 0.0).unwrap();
            assert_close(
                renew,
                (bdw.ln_survival(n + 1.0) - bdw.ln_survival(n)).exp(),
                1e-12,
                "renewal",
            );
            assert!((0.0..=1.0).contains(&renew));
            let survive = predict(&bdw, Prediction::Survival, n, 5.0).unwrap();
            assert!(survive <= renew && survive >= 0.0);
        }
    }
}

/// Simulate subscribers with a binary and a continuous covariate, refit:
/// every estimate within 3 standard errors (BdW's c included).
#[test]
fn simulate_then_refit_with_two_covariates() {
    let n = 40_000;
    let z: Vec<f64> = (0..n)
        .flat_map(|i| {
            let u = ((i * 7919) % 1000) as f64 / 1000.0;
            [(i % 2) as f64, 2.0 * u - 1.0]
        })
        .collect();
    let horizons: Vec<f64> = (0..n).map(|i| 4.0 + (i % 9) as f64).collect();
    let sbg = WithCovariates::new(
        ShiftedBetaGeometric::new(1.2, 2.5).unwrap(),
        design::<ShiftedBetaGeometric>(),
        vec![0.5, -0.3, -0.4, 0.2],
    )
    .unwrap();
    let bdw = WithCovariates::new(
        BetaDiscreteWeibull::new(1.2, 2.5, 0.6).unwrap(),
        design::<BetaDiscreteWeibull>(),
        vec![0.5, -0.3, -0.4, 0.2],
    )
    .unwrap();
    let sims = simulate_with_covariates(&sbg, &horizons, &z, 11).unwrap();
    assert_eq!(
        sims,
        simulate_with_covariates(&sbg, &horizons, &z, 11).unwrap()
    );
    check_recovery(&sbg, &sims, &z);
    let sims = simulate_with_covariates(&bdw, &horizons, &z, 12).unwrap();
    check_recovery(&bdw, &sims, &z);
}

fn check_recovery<M>(
    truth: &WithCovariates<M>,
    sims: &[retentionkit::SimulatedSubscriber],
    z: &[f64],
) where
    M: SubscriberModel + retentionkit::models::covariates::CovariateModel<Data = RetentionData>,
{
    let periods: Vec<f64> = sims.iter().map(|s| s.duration).collect();
    let churned: Vec<bool> = sims.iter().map(|s| s.churned).collect();
    let data = CovariateData::for_subscribers(&periods, &churned, None, z, truth.design().clone())
        .unwrap();
    let fitted = fit::<WithCovariates<M>>(&data, &FitOptions::default()).unwrap();
    let se = fitted.standard_errors();
    for ((name, (estimate, true_value)), se) in truth
        .param_names()
        .iter()
        .zip(fitted.params().into_iter().zip(truth.to_vec()))
        .zip(se)
    {
        assert!(
            (estimate - true_value).abs() < 3.0 * se,
            "{name}: estimate {estimate} vs truth {true_value} (se {se})"
        );
    }
}

#[test]
fn plain_simulation_refits_at_the_subscriber_level() {
    let truth = BetaDiscreteWeibull::new(0.9, 2.0, 0.7).unwrap();
    let sims = simulate_many(&truth, &[10.0; 20_000], 5).unwrap();
    let periods: Vec<f64> = sims.iter().map(|s| s.duration).collect();
    let churned: Vec<bool> = sims.iter().map(|s| s.churned).collect();
    let data = RetentionData::from_subscribers(&periods, &churned, None).unwrap();
    common::recovery::assert_recovers(&truth, &data);
}
