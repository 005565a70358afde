//! Gamma-Gamma spend with time-invariant covariates (`spend:<column>`):
//! νᵢ = ν·exp(−γᵀzᵢ), i.e. the note's γ (`v`) scaled by exp(γᵀzᵢ).

mod common;

use common::recovery::assert_recovers;

use retentionkit::gamma_gamma::{GammaGamma, SpendData, ZeroFrequency};
use retentionkit::models::covariates::{CovariateData, CovariateDesign, WithCovariates};
use retentionkit::{fit, Derivatives, FitOptions, Model};

fn design(columns: &[&str]) -> CovariateDesign {
    let names: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    CovariateDesign::new::<GammaGamma>(&names, &[(0..names.len()).collect()], &[]).unwrap()
}

/// CDNOW's repeat customers with one covariate: the customer's T (weeks),
/// centred, a stand-in trait that is not constant.
fn cdnow() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let [x, _, t, m] = common::cdnow_summary_with_spend();
    let mean_t = t.iter().sum::<f64>() / t.len() as f64;
    let z = t.iter().map(|v| (v - mean_t) / 10.0).collect();
    (x, m, z)
}

#[test]
fn zero_coefficients_are_the_plain_model() {
    let (x, m, z) = cdnow();
    let data =
        CovariateData::for_spend(&x, &m, None, ZeroFrequency::Exclude, &z, design(&["t"])).unwrap();
    let plain = GammaGamma::new(6.25, 3.74, 15.44).unwrap();
    let with = WithCovariates::new(plain, design(&["t"]), vec![0.0]).unwrap();
    let compressed = SpendData::new(&x, &m, None, ZeroFrequency::Exclude)
        .unwrap()
        .compress();
    let ours = with.evaluate(&data, Derivatives::Hessian);
    let theirs = plain.evaluate(&compressed, Derivatives::Hessian);
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= 1e-10 * b.abs().max(1.0),
            "{what}: {a} vs {b}"
        );
    };
    close(ours.value, theirs.value, "log-likelihood");
    for k in 0..3 {
        close(ours.gradient[k], theirs.gradient[k], "gradient");
        for l in 0..3 {
            close(
                ours.hessian[k * 4 + l],
                theirs.hessian[k * 3 + l],
                "hessian",
            );
        }
    }
    // The plain data inside are the base model's own compressed data.
    assert_eq!(data.without_covariates(), &compressed);
}

#[test]
fn analytic_derivatives_match_differences() {
    let (x, m, z) = cdnow();
    let data =
        CovariateData::for_spend(&x, &m, None, ZeroFrequency::Exclude, &z, design(&["t"])).unwrap();
    common::assert_derivatives::<WithCovariates<GammaGamma>>(&[5.0, 3.5, 14.0, 0.2], &data);
}

#[test]
fn a_positive_coefficient_raises_the_expected_spend() {
    let model = WithCovariates::new(
        GammaGamma::new(6.25, 3.74, 15.44).unwrap(),
        design(&["vip"]),
        vec![0.5],
    )
    .unwrap();
    let regular = model.for_customer(&[0.0]).unwrap();
    let vip = model.for_customer(&[1.0]).unwrap();
    let ratio = vip.expected_average_profit().unwrap() / regular.expected_average_profit().unwrap();
    assert!((ratio - 0.5f64.exp()).abs() < 1e-12, "{ratio}");
}

#[test]
fn simulated_coefficients_are_recovered() {
    let n = 100_000;
    let truth = WithCovariates::new(
        GammaGamma::new(6.0, 4.0, 15.0).unwrap(),
        design(&["binary", "normal"]),
        vec![0.4, -0.25],
    )
    .unwrap();
    let mut state = 7u64;
    let mut uniform = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut z = Vec::with_capacity(2 * n);
    let mut x = Vec::with_capacity(n);
    for i in 0..n {
        let (u1, u2) = (uniform(), uniform());
        let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        z.extend([(i % 2) as f64, normal]);
        x.push(1.0 + (uniform() * 8.0).floor());
    }
    let m: Vec<f64> = truth
        .per_customer(n, &z, |customer, i| {
            retentionkit::gamma_gamma::simulate_spend(customer, &x[i..=i], 100 + i as u64).unwrap()
                [0]
        })
        .unwrap();
    let data = CovariateData::for_spend(
        &x,
        &m,
        None,
        ZeroFrequency::Reject,
        &z,
        truth.design().clone(),
    )
    .unwrap();
    assert_recovers(&truth, &data);
    // Without the covariates the fit is worse by far more than chance.
    let plain = fit::<GammaGamma>(data.without_covariates(), &FitOptions::default()).unwrap();
    let with = fit::<WithCovariates<GammaGamma>>(&data, &FitOptions::default()).unwrap();
    assert!(with.log_likelihood() > plain.log_likelihood() + 100.0);
}
