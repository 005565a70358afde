//! Customer lifetime value intervals of a transaction model without covariates
//! with a Gamma-Gamma spend model with covariates (issue 13), for the model
//! the Python binding used to refuse there with a TypeError: the MBG/CNBD-k
//! (the binding now takes every plain transaction model the point CLV takes).
//! The core path is `customer_lifetime_value_interval_by_customer` with the
//! transaction model the same for every customer.
//!
//! At k = 1 the MBG/CNBD-k is the MBG/NBD: with the MBG/NBD's estimates and
//! covariance it draws the MBG/NBD's parameters for the same seed, so the two
//! intervals agree to rounding. The estimate is the point CLV at each
//! customer's own spend parameters.

mod common;

use retentionkit::clv::{customer_lifetime_value, ClvOptions, TimeUnit};
use retentionkit::intervals::{
    customer_lifetime_value_interval_by_customer, Discounting, IntervalOptions, Intervals,
    PerCustomer,
};
use retentionkit::mbgcnbd::MbgCnbdK;
use retentionkit::models::covariates::{CovariateData, CovariateDesign, WithCovariates};
use retentionkit::{
    fit, CustomerData, FitOptions, Fitted, GammaGamma, Model, ModifiedBetaGeo, TransactionModel,
    ZeroFrequency,
};

/// Every 10th CDNOW customer: (x, t_x, T, m_x) and one spend covariate, the
/// customer's T centred and scaled (a stand-in trait that is not constant).
fn customers() -> ([Vec<f64>; 4], Vec<f64>) {
    let columns: [Vec<f64>; 4] =
        common::cdnow_summary_with_spend().map(|c| c.into_iter().step_by(10).collect());
    let t = &columns[2];
    let mean = t.iter().sum::<f64>() / t.len() as f64;
    let z = t.iter().map(|v| (v - mean) / 10.0).collect();
    (columns, z)
}

fn spend_with_covariates(x: &[f64], m: &[f64], z: &[f64]) -> Fitted<WithCovariates<GammaGamma>> {
    let design = CovariateDesign::new::<GammaGamma>(&["t".to_string()], &[vec![0]], &[]).unwrap();
    let data = CovariateData::for_spend(x, m, None, ZeroFrequency::Exclude, z, design).unwrap();
    fit::<WithCovariates<GammaGamma>>(&data, &FitOptions::default()).unwrap()
}

/// The interval of `transactions` (every customer's model) with the spend
/// model with covariates.
fn interval<M>(
    transactions: &Fitted<M>,
    spend: &Fitted<WithCovariates<GammaGamma>>,
    columns: &[Vec<f64>; 4],
    z: &[f64],
    options: &IntervalOptions,
) -> Intervals
where
    M: TransactionModel + Clone + Sync,
{
    let [x, tx, t, m] = columns;
    customer_lifetime_value_interval_by_customer(
        PerCustomer {
            fitted: transactions,
            base_params: usize::MAX,
            customer: |model: &M, _| Ok(model.clone()),
        },
        PerCustomer {
            fitted: spend,
            base_params: 3,
            customer: |model: &WithCovariates<GammaGamma>, i: usize| model.for_customer(&z[i..=i]),
        },
        x,
        tx,
        t,
        m,
        &Discounting::Monthly(monthly()),
        options,
    )
    .unwrap()
}

fn monthly() -> ClvOptions {
    ClvOptions {
        time: 12.0,
        discount_rate: 0.01,
        unit: TimeUnit::Week,
    }
}

fn close(a: &[f64], b: &[f64], rtol: f64, what: &str) {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= rtol * y.abs().max(1e-300),
            "{what}, row {i}: {x} vs {y}"
        );
    }
}

#[test]
fn mbgcnbd_k1_with_spend_covariates_gives_the_mbgnbd_interval() {
    let (columns, z) = customers();
    let [x, tx, t, m] = &columns;
    let data = CustomerData::new(x, tx, t, None).unwrap().compress();
    let mbg = fit::<ModifiedBetaGeo>(&data, &FitOptions::default()).unwrap();
    let p = mbg.model.to_vec();
    let mut k1 = Fitted::from_model(MbgCnbdK::new(p[0], p[1], p[2], p[3], 1).unwrap());
    k1.info = mbg.info.clone();
    let spend = spend_with_covariates(x, m, &z);
    let options = IntervalOptions {
        level: 0.9,
        n_draws: 60,
        seed: 13,
    };
    let ours = interval(&k1, &spend, &columns, &z, &options);
    let theirs = interval(&mbg, &spend, &columns, &z, &options);
    close(&ours.estimate, &theirs.estimate, 1e-10, "estimate");
    close(&ours.lower, &theirs.lower, 1e-10, "lower");
    close(&ours.upper, &theirs.upper, 1e-10, "upper");
}

#[test]
fn mbgcnbd_interval_estimate_is_the_point_clv_and_bracketed() {
    let (columns, z) = customers();
    let [x, tx, t, m] = &columns;
    let data = CustomerData::new(x, tx, t, None).unwrap().compress();
    let mbg = fit::<ModifiedBetaGeo>(&data, &FitOptions::default()).unwrap();
    let p = mbg.model.to_vec();
    // k = 2 (a regular buyer), with the MBG/NBD's covariance as the uncertainty.
    let mut k2 = Fitted::from_model(MbgCnbdK::new(p[0], p[1] / 2.0, p[2], p[3], 2).unwrap());
    k2.info = mbg.info.clone();
    let spend = spend_with_covariates(x, m, &z);
    let options = IntervalOptions {
        level: 0.9,
        n_draws: 40,
        seed: 3,
    };
    let bands = interval(&k2, &spend, &columns, &z, &options);
    let profit: Vec<f64> = (0..x.len())
        .map(|i| {
            let own = spend.model.for_customer(&z[i..=i]).unwrap();
            own.conditional_expected_average_profit(x[i], m[i]).unwrap()
        })
        .collect();
    let point = customer_lifetime_value(&k2.model, x, tx, t, &profit, &monthly()).unwrap();
    close(&bands.estimate, &point, 1e-12, "estimate vs point CLV");
    for i in 0..x.len() {
        let (lo, est, hi) = (bands.lower[i], bands.estimate[i], bands.upper[i]);
        assert!(
            lo.is_finite() && hi.is_finite() && lo <= est && est <= hi,
            "row {i}: {lo} {est} {hi}"
        );
    }
    assert!(bands.lower.iter().zip(&bands.upper).any(|(l, u)| l < u));
    // The same seed, the same interval.
    let again = interval(&k2, &spend, &columns, &z, &options);
    assert_eq!(again.lower, bands.lower);
    assert_eq!(again.upper, bands.upper);
}
