//! Gamma-Gamma against Fader & Hardie (2013) and against its own properties.

mod common;

use common::recovery::assert_recovers;
use common::reference::{reference, Reference};
use common::{assert_close, cdnow_summary_with_spend};
use retentionkit::gamma_gamma::{
    conditional_expected_average_profit, individual_log_likelihood, simulate_spend,
    spend_frequency_correlation,
};
use retentionkit::{
    fit, Derivatives, Error, FitOptions, Fitted, GammaGamma, Model, SpendData, ZeroFrequency,
};

/// (x, m_x) of the CDNOW 1/10th-sample summary with mean repeat-transaction
/// value: 2357 customers, 946 of them with x > 0.
fn cdnow_spend() -> (Vec<f64>, Vec<f64>) {
    let [x, _, _, m] = cdnow_summary_with_spend();
    (x, m)
}

/// The note's estimates (tests/fixtures/reference_values.json).
fn fh2013() -> Reference {
    reference("gamma_gamma_cdnow_fh2013")
}

/// lifetimes 0.11.3's fit and predictions on the same data.
fn lifetimes() -> Reference {
    reference("gamma_gamma_cdnow_lifetimes")
}

fn cdnow_fit() -> Fitted<GammaGamma> {
    let (x, m) = cdnow_spend();
    let data = SpendData::new(&x, &m, None, ZeroFrequency::Exclude)
        .unwrap()
        .compress();
    fit::<GammaGamma>(&data, &FitOptions::default()).unwrap()
}

/// Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value": the
/// estimates on the CDNOW 1/10th sample (946 repeat customers; reference entry
/// `gamma_gamma_cdnow_fh2013`): p = 6.25, q = 3.74, γ = 15.44. The maximum
/// of the likelihood is at γ = 15.4477 (lifetimes 0.11.3 agrees,
/// with LL = −4.287445289 per customer): the note's spreadsheet solver stopped
/// 0.008 short in γ, along the likelihood's flat ridge, so γ is checked to 0.01.
#[test]
fn cdnow_reference_parameters() {
    let (published, lifetimes) = (fh2013(), lifetimes());
    let fitted = cdnow_fit();
    let p = fitted.params();
    for ((value, expected), (name, tol)) in
        p.iter()
            .zip(published.params::<GammaGamma>())
            .zip([("p", 5e-3), ("q", 5e-3), ("v", 1e-2)])
    {
        assert_close(*value, expected, tol, name);
    }
    // lifetimes' optimum, to its optimiser's precision.
    for (value, expected) in p.iter().zip(lifetimes.params::<GammaGamma>()) {
        assert_close(*value, expected, 1e-5 * expected, "vs lifetimes");
    }
    let info = fitted.info.as_ref().unwrap();
    let n = published.n_customers();
    assert_eq!(info.n_customers, n);
    assert!(info.converged && info.n_unique < n as usize);
    assert_close(
        fitted.log_likelihood() / n,
        lifetimes.log_likelihood_per_customer(),
        1e-9,
        "LL per customer",
    );
    assert!(fitted
        .standard_errors()
        .iter()
        .all(|s| s.is_finite() && *s > 0.0));
}

/// Eq. (5) and (4) with the note's estimates.
#[test]
fn expected_average_profit_reference_values() {
    let m = fh2013().model::<GammaGamma>();
    let theta = m.to_vec();
    let (p, q, v) = (theta[0], theta[1], theta[2]);
    let population = p * v / (q - 1.0);
    assert_close(
        m.expected_average_profit().unwrap(),
        population,
        1e-12,
        "E[M]",
    );
    let e = m.conditional_expected_average_profit(2.0, 22.35).unwrap();
    let w = (p * 2.0) / (p * 2.0 + q - 1.0);
    assert_close(
        e,
        (1.0 - w) * population + w * 22.35,
        1e-12,
        "E[M | 2, 22.35]",
    );
    // Values of lifetimes' conditional_expected_average_profit at its own fit.
    let reference = lifetimes();
    let lt = reference.model::<GammaGamma>();
    let cases: Vec<_> = reference.predictions().collect();
    assert_eq!(cases.len(), 6);
    let x: Vec<f64> = cases.iter().map(|(_, c)| c.arg("frequency")).collect();
    let spend: Vec<f64> = cases.iter().map(|(_, c)| c.arg("monetary_value")).collect();
    let out = conditional_expected_average_profit(&lt, &x, &spend).unwrap();
    for (a, (label, case)) in out.iter().zip(&cases) {
        assert_eq!(case.quantity, "conditional_expected_average_profit");
        assert_close(*a, case.value, 1e-12 * case.value, label);
    }
}

#[test]
fn infinite_mean_is_an_error() {
    let m = GammaGamma::new(2.0, 1.0, 3.0).unwrap();
    let err = m.expected_average_profit().unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { ref name, .. } if name == "q"));
    assert!(m.conditional_expected_average_profit(1.0, 5.0).is_err());
    assert!(conditional_expected_average_profit(&m, &[1.0], &[5.0]).is_err());
}

#[test]
fn gradient_and_hessian_match_finite_differences() {
    let (x, m) = cdnow_spend();
    let data = SpendData::new(&x, &m, None, ZeroFrequency::Exclude)
        .unwrap()
        .compress();
    for params in [
        fh2013().params::<GammaGamma>(),
        vec![0.4, 0.8, 2.0],
        vec![30.0, 12.0, 400.0],
    ] {
        let model = GammaGamma::from_slice(&params).unwrap();
        common::assert_derivatives::<GammaGamma>(&params, &data);
        let ev = model.evaluate(&data, Derivatives::None);
        // The compressed value equals the sum of individual log-likelihoods.
        let (rx, rm): (Vec<f64>, Vec<f64>) = x
            .iter()
            .zip(&m)
            .filter(|(x, _)| **x > 0.0)
            .map(|(x, m)| (*x, *m))
            .unzip();
        let total: f64 = individual_log_likelihood(&model, &rx, &rm)
            .unwrap()
            .iter()
            .sum();
        assert_close(
            ev.value,
            total,
            1e-9 * total.abs(),
            "compressed vs individual",
        );
    }
}

/// The density of eq. (1a) integrates to one over m.
#[test]
fn density_integrates_to_one() {
    let model = fh2013().model::<GammaGamma>();
    for x in [1.0, 3.0, 10.0] {
        // Trapezoid rule on m = e^u.
        let (lo, hi, steps) = (-12.0f64, 12.0f64, 200_000);
        let du = (hi - lo) / steps as f64;
        let total: f64 = (0..=steps)
            .map(|k| {
                let u = lo + k as f64 * du;
                let weight = if k == 0 || k == steps { 0.5 } else { 1.0 };
                weight * (model.individual_log_likelihood(x, u.exp()) + u).exp() * du
            })
            .sum();
        assert_close(total, 1.0, 1e-6, "∫ f(m | x) dm");
    }
}

#[test]
fn simulate_then_refit_recovers_parameters() {
    let truth = fh2013().model::<GammaGamma>();
    let x: Vec<f64> = (0..50_000).map(|i| (1 + i % 7) as f64).collect();
    let m = simulate_spend(&truth, &x, 7).unwrap();
    assert_eq!(m, simulate_spend(&truth, &x, 7).unwrap(), "reproducible");
    let data = SpendData::new(&x, &m, None, ZeroFrequency::Reject)
        .unwrap()
        .compress();
    assert_recovers(&truth, &data);
    // Spend is simulated independently of x.
    let c = spend_frequency_correlation(&x, &m, None).unwrap();
    assert!(c.abs() < 0.03, "{c}");
}

#[test]
fn json_round_trip() {
    let fitted = cdnow_fit();
    let text = fitted.to_json();
    assert!(text.contains("\"model\": \"GammaGamma\""));
    let back = Fitted::<GammaGamma>::from_json(&text).unwrap();
    assert_eq!(back, fitted);
    assert!(Fitted::<retentionkit::BetaGeo>::from_json(&text).is_err());
}

#[test]
fn weights_equal_repeated_rows() {
    let (x, m) = cdnow_spend();
    let (rx, rm): (Vec<f64>, Vec<f64>) = x
        .iter()
        .zip(&m)
        .filter(|(x, _)| **x > 0.0)
        .map(|(x, m)| (*x, *m))
        .unzip();
    let w: Vec<f64> = (0..rx.len()).map(|i| (i % 3 + 1) as f64).collect();
    let (mut x2, mut m2) = (Vec::new(), Vec::new());
    for i in 0..rx.len() {
        for _ in 0..(i % 3 + 1) {
            x2.push(rx[i]);
            m2.push(rm[i]);
        }
    }
    let weighted = SpendData::new(&rx, &rm, Some(&w), ZeroFrequency::Reject)
        .unwrap()
        .compress();
    let repeated = SpendData::new(&x2, &m2, None, ZeroFrequency::Reject)
        .unwrap()
        .compress();
    let a = fit::<GammaGamma>(&weighted, &FitOptions::default()).unwrap();
    let b = fit::<GammaGamma>(&repeated, &FitOptions::default()).unwrap();
    for (p, q) in a.params().iter().zip(b.params()) {
        assert_close(*p, q, 1e-7 * q, "weighted vs repeated");
    }
}

#[test]
fn bad_input_names_rule_and_row() {
    type Case<'a> = (&'a [f64], &'a [f64], &'a str, usize);
    let cases: [Case; 6] = [
        (&[1.0, 0.0], &[5.0, 0.0], "repeat customers only", 1),
        (
            &[1.0, 2.0],
            &[5.0, 0.0],
            "monetary_value must be positive",
            1,
        ),
        (
            &[1.0, 2.0, 3.0],
            &[5.0, 1.0, -4.0],
            "monetary_value must be positive",
            2,
        ),
        (&[1.5], &[5.0], "non-negative integer", 0),
        (&[1.0], &[f64::NAN], "finite", 0),
        (&[-1.0], &[5.0], "non-negative integer", 0),
    ];
    for (x, m, message, row) in cases {
        let err = SpendData::new(x, m, None, ZeroFrequency::Reject).unwrap_err();
        match &err {
            Error::InvalidData { row: r, .. } => assert_eq!(*r, row, "{err}"),
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains(message), "{err}");
    }
    // Excluding x = 0 is explicit, and spend must still be positive for x > 0.
    assert!(SpendData::new(&[1.0, 0.0], &[5.0, 0.0], None, ZeroFrequency::Exclude).is_ok());
    assert!(matches!(
        SpendData::new(&[0.0, 0.0], &[0.0, 0.0], None, ZeroFrequency::Exclude),
        Err(Error::Empty)
    ));
    assert!(matches!(
        SpendData::new(&[1.0], &[1.0, 2.0], None, ZeroFrequency::Reject),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(SpendData::new(&[1.0], &[1.0], Some(&[-1.0]), ZeroFrequency::Reject).is_err());
    assert!(GammaGamma::from_slice(&[1.0, 2.0]).is_err());
}

#[test]
fn correlation_matches_pearson_on_cdnow() {
    let (x, m) = cdnow_spend();
    // pandas' DataFrame.corr() on the 946 repeat customers.
    let c = spend_frequency_correlation(&x, &m, None).unwrap();
    let expected = lifetimes().spend_frequency_correlation();
    assert_close(c, expected, 1e-12, "corr(x, m)");
    // Weights act as repetitions; constant x has no correlation.
    let c = spend_frequency_correlation(&[1.0, 2.0], &[3.0, 5.0], Some(&[2.0, 1.0])).unwrap();
    let r = spend_frequency_correlation(&[1.0, 1.0, 2.0], &[3.0, 3.0, 5.0], None).unwrap();
    assert_close(c, r, 1e-12, "weighted vs repeated");
    assert!(spend_frequency_correlation(&[1.0, 1.0], &[3.0, 5.0], None)
        .unwrap()
        .is_nan());
}
