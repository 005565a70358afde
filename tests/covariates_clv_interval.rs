//! Customer lifetime value with intervals when either model has covariates
//! (issue 13): `customer_lifetime_value_interval_by_customer`, each customer's
//! value under a pair of draws at their own parameters.
//!
//! The identity: models with covariates whose coefficients are 0 with (next to)
//! no uncertainty, and whose base block of the covariance is the plain model's,
//! draw the plain models' base parameters for the same seed
//! (`draw_parameters_split`), so the interval is the plain one to rounding.

mod common;

use common::cdnow_summary_with_spend as cdnow;
use retentionkit::clv::{ClvOptions, TimeUnit};
use retentionkit::intervals::{
    customer_lifetime_value_interval, customer_lifetime_value_interval_by_customer,
    draw_parameters, draw_parameters_split, Discounting, IntervalOptions, PerCustomer,
};
use retentionkit::models::covariates::{CovariateDesign, CovariateModel, WithCovariates};
use retentionkit::{
    fit, CustomerData, FitOptions, Fitted, GammaGamma, Model, ParetoNBD, SpendData, ZeroFrequency,
};

fn every_nth(v: &[f64], n: usize) -> Vec<f64> {
    v.iter().step_by(n).copied().collect()
}

/// `plain` with one covariate `z` in every process, coefficients 0 with variance
/// `variance`, uncorrelated with the base parameters (whose covariance is the
/// plain fit's).
fn with_zero_coefficients<M: CovariateModel>(
    plain: &Fitted<M>,
    variance: f64,
) -> Fitted<WithCovariates<M>> {
    let processes = M::PROCESSES.len();
    let design =
        CovariateDesign::new::<M>(&["z".to_string()], &vec![vec![0]; processes], &[]).unwrap();
    let model = WithCovariates::new(plain.model.clone(), design, vec![0.0; processes]).unwrap();
    let mut info = plain.info.clone().unwrap();
    let base = info.covariance.clone().unwrap();
    let p = plain.model.param_specs().len();
    let k = p + processes;
    let mut cov = vec![0.0; k * k];
    for i in 0..p {
        cov[i * k..i * k + p].copy_from_slice(&base[i * p..(i + 1) * p]);
    }
    for i in p..k {
        cov[i * k + i] = variance;
    }
    info.covariance = Some(cov);
    let mut fitted = Fitted::from_model(model);
    fitted.info = Some(info);
    fitted
}

fn assert_close(a: &[f64], b: &[f64], rtol: f64) {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= rtol * y.abs().max(1e-300),
            "row {i}: {x} vs {y}"
        );
    }
}

#[test]
fn zero_coefficients_give_the_plain_interval_for_the_same_seed() {
    let [x, tx, t, m] = cdnow();
    let (x, tx, t, m) = (
        every_nth(&x, 5),
        every_nth(&tx, 5),
        every_nth(&t, 5),
        every_nth(&m, 5),
    );
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    let plain = fit::<ParetoNBD>(&data, &FitOptions::default()).unwrap();
    let spend_data = SpendData::new(&x, &m, None, ZeroFrequency::Exclude)
        .unwrap()
        .compress();
    let spend = fit::<GammaGamma>(&spend_data, &FitOptions::default()).unwrap();
    let z: Vec<f64> = (0..x.len()).map(|i| (i % 7) as f64 - 3.0).collect();
    let options = IntervalOptions {
        level: 0.9,
        n_draws: 80,
        seed: 11,
    };
    let monthly = Discounting::Monthly(ClvOptions {
        time: 12.0,
        discount_rate: 0.01,
        unit: TimeUnit::Week,
    });
    let expected =
        customer_lifetime_value_interval(&plain, &spend, &x, &tx, &t, &m, &monthly, &options)
            .unwrap();

    let transactions = with_zero_coefficients(&plain, 1e-30);
    let spends = with_zero_coefficients(&spend, 1e-30);
    let got = customer_lifetime_value_interval_by_customer(
        PerCustomer {
            fitted: &transactions,
            base_params: 4,
            customer: |model: &WithCovariates<ParetoNBD>, i: usize| model.for_customer(&z[i..=i]),
        },
        PerCustomer {
            fitted: &spends,
            base_params: 3,
            customer: |model: &WithCovariates<GammaGamma>, i: usize| model.for_customer(&z[i..=i]),
        },
        &x,
        &tx,
        &t,
        &m,
        &monthly,
        &options,
    )
    .unwrap();
    assert_close(&got.estimate, &expected.estimate, 1e-12);
    assert_close(&got.lower, &expected.lower, 1e-10);
    assert_close(&got.upper, &expected.upper, 1e-10);
    assert!(expected
        .lower
        .iter()
        .zip(&expected.upper)
        .all(|(l, u)| l < u));

    // Drawn all from one stream, the base parameters would not be the plain
    // model's: the split is what makes the identity hold.
    let split = draw_parameters_split(&transactions, 5, 11, 0, 4).unwrap();
    let joint = draw_parameters(&transactions, 5, 11, 0).unwrap();
    let alone = draw_parameters(&plain, 5, 11, 0).unwrap();
    for d in 1..5 {
        assert_close(&split[d].to_vec()[..4], &alone[d].to_vec(), 1e-12);
        assert!((joint[d].to_vec()[0] - alone[d].to_vec()[0]).abs() > 1e-9);
    }
}
