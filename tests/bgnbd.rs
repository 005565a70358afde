//! BG/NBD against Fader, Hardie & Lee (2005) and against its own properties.

mod common;

use common::properties::{assert_count_distribution, assert_predictions_in_domain};
use common::recovery::{assert_recovers, cohort_ages, simulate_customers};
use common::reference::{reference, Reference};
use common::{assert_close, cdnow_summary};
use retentionkit::{
    fit, fit_keeping_data, BetaGeo, CustomerData, Derivatives, Error, FitOptions, Fitted, Model,
    TransactionModel,
};

/// FHL (2005)'s estimates and predictions (tests/fixtures/reference_values.json).
fn fhl2005() -> Reference {
    reference("bgnbd_cdnow_fhl2005")
}

fn cdnow_fit() -> Fitted<BetaGeo> {
    let (x, tx, t) = cdnow_summary();
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    fit::<BetaGeo>(&data, &FitOptions::default()).unwrap()
}

/// FHL (2005), section 5: the estimates and log-likelihood on the CDNOW 1/10th
/// sample, 39-week calibration period (reference entry `bgnbd_cdnow_fhl2005`).
#[test]
fn cdnow_reference_parameters_and_log_likelihood() {
    let reference = fhl2005();
    let fitted = cdnow_fit();
    let p = fitted.params();
    for ((value, expected), name) in p
        .iter()
        .zip(reference.params::<BetaGeo>())
        .zip(BetaGeo::PARAM_NAMES)
    {
        assert_close(*value, expected, 5e-4, name);
    }
    assert_close(
        fitted.log_likelihood(),
        reference.log_likelihood(),
        0.05,
        "log-likelihood",
    );
    let info = fitted.info.as_ref().unwrap();
    assert!(info.converged);
    assert_eq!(info.n_customers, reference.n_customers());
    assert!(info.n_unique < 2357);
    let se = fitted.standard_errors();
    assert!(se.iter().all(|s| s.is_finite() && *s > 0.0), "{se:?}");
}

/// FHL (2005), section 5: the purchases a customer with x = 2, t_x = 30.43,
/// T = 38.86 is expected to make in the next 39 weeks.
#[test]
fn cdnow_reference_conditional_expectation() {
    let reference = fhl2005();
    let label = "E[Y(39) | 2, 30.43, 38.86]";
    let case = reference.prediction(label);
    assert_eq!(case.quantity, "conditional_expected_purchases");
    let at = |m: &BetaGeo| {
        m.conditional_expected_purchases(
            case.arg("t"),
            case.arg("frequency"),
            case.arg("recency"),
            case.arg("T"),
        )
    };
    assert_close(at(&cdnow_fit().model), case.value, 5e-4, label);
    // With the parameters as printed in the paper, too.
    let printed = reference.model::<BetaGeo>();
    assert_close(at(&printed), case.value, 2e-3, "with printed parameters");
}

/// Numerical derivatives of the summed log-likelihood agree with the analytic
/// gradient and Hessian.
#[test]
fn gradient_and_hessian_match_finite_differences() {
    let reference = fhl2005();
    let (x, tx, t) = cdnow_summary();
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    for params in [
        reference.params::<BetaGeo>(),
        vec![1.3, 0.7, 2.5, 0.4],
        vec![0.05, 40.0, 0.2, 9.0],
    ] {
        let model = BetaGeo::from_slice(&params).unwrap();
        common::assert_derivatives::<BetaGeo>(&params, &data);
        let ev = model.evaluate(&data, Derivatives::None);
        // The value equals the sum of individual log-likelihoods.
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
    let truth = fhl2005().model::<BetaGeo>();
    let data = simulate_customers(&truth, &cohort_ages(100_000), 42);
    assert_recovers(&truth, &data);
}

#[test]
fn predictions_have_the_right_shape() {
    let m = fhl2005().model::<BetaGeo>();
    assert_predictions_in_domain(&m);
    assert_count_distribution(&m, &[1.0, 39.0, 78.0], 2000, |_| 1e-6);
}

/// E[X(t)] agrees with the series of eq. (7) evaluated directly where that
/// converges well, including a = 1 where the paper's form is 0/0.
#[test]
fn expected_purchases_match_direct_hypergeometric_series() {
    fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
        let (mut term, mut sum) = (1.0, 1.0);
        for k in 0..100_000 {
            let k = k as f64;
            term *= (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
            sum += term;
            if term.abs() < 1e-17 * sum.abs() {
                break;
            }
        }
        sum
    }
    let fhl = fhl2005().params::<BetaGeo>();
    for (r, alpha, a, b, t) in [
        (fhl[0], fhl[1], fhl[2], fhl[3], 3.0),
        (2.0, 10.0, 3.5, 1.5, 4.0),
        (0.5, 2.0, 1.7, 6.0, 1.0),
    ] {
        let m = BetaGeo::new(r, alpha, a, b).unwrap();
        let z = t / (alpha + t);
        let direct = (a + b - 1.0) / (a - 1.0)
            * (1.0 - (alpha / (alpha + t)).powf(r) * hyp2f1(r, b, a + b - 1.0, z));
        assert_close(m.expected_purchases(t), direct, 1e-10 * direct, "E[X(t)]");
    }
    let near = BetaGeo::new(0.5, 3.0, 1.0 + 1e-7, 2.0)
        .unwrap()
        .expected_purchases(10.0);
    let at = BetaGeo::new(0.5, 3.0, 1.0, 2.0)
        .unwrap()
        .expected_purchases(10.0);
    assert_close(at, near, 1e-6, "a = 1 is continuous");
}

#[test]
fn numerical_extremes_stay_finite() {
    let m = fhl2005().model::<BetaGeo>();
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
    for params in [[1e-4, 1e-4, 1e-4, 1e-4], [1e4, 1e4, 1e4, 1e4]] {
        let m = BetaGeo::from_slice(&params).unwrap();
        assert!(m
            .conditional_expected_purchases(39.0, 2.0, 30.0, 39.0)
            .is_finite());
        assert!(m.expected_purchases(39.0).is_finite());
    }
}

#[test]
fn bad_input_names_rule_and_row() {
    let err =
        CustomerData::new(&[1.0, 2.0, 0.0], &[1.0, 5.0, 0.0], &[3.0, 4.0, 1.0], None).unwrap_err();
    match err {
        Error::InvalidData { row, rule, .. } => {
            assert_eq!(row, 1);
            assert!(rule.contains("recency must not exceed T"));
        }
        other => panic!("unexpected {other:?}"),
    }
    type Case<'a> = (&'a [f64], &'a [f64], &'a [f64], &'a str);
    let cases: [Case; 7] = [
        (&[-1.0], &[0.0], &[1.0], "non-negative integer"),
        (&[1.5], &[0.5], &[1.0], "non-negative integer"),
        (&[f64::NAN], &[0.0], &[1.0], "finite"),
        (&[0.0], &[0.5], &[1.0], "recency must be 0"),
        (&[0.0], &[0.0], &[-1.0], "T must be non-negative"),
        (&[1.0], &[0.0], &[0.0], "frequency must be 0 when T is 0"),
        (&[1.0], &[-0.5], &[1.0], "recency must be non-negative"),
    ];
    for (x, tx, t, message) in cases {
        let err = CustomerData::new(x, tx, t, None).unwrap_err().to_string();
        assert!(err.contains(message) && err.contains("row: 0"), "{err}");
    }
    assert!(matches!(
        CustomerData::new(&[1.0, 2.0], &[1.0], &[3.0, 4.0], None),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        CustomerData::new(&[], &[], &[], None),
        Err(Error::Empty)
    ));
    assert!(BetaGeo::new(0.2, 0.0, 1.0, 1.0).is_err());
    assert!(BetaGeo::from_slice(&[1.0, 2.0]).is_err());
}

#[test]
fn weights_equal_repeated_rows() {
    let (x, tx, t) = cdnow_summary();
    let w: Vec<f64> = (0..x.len()).map(|i| (i % 3 + 1) as f64).collect();
    let weighted = CustomerData::new(&x, &tx, &t, Some(&w)).unwrap().compress();
    let (mut x2, mut tx2, mut t2) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..x.len() {
        for _ in 0..(i % 3 + 1) {
            x2.push(x[i]);
            tx2.push(tx[i]);
            t2.push(t[i]);
        }
    }
    let repeated = CustomerData::new(&x2, &tx2, &t2, None).unwrap().compress();
    let a = fit::<BetaGeo>(&weighted, &FitOptions::default()).unwrap();
    let b = fit::<BetaGeo>(&repeated, &FitOptions::default()).unwrap();
    for (p, q) in a.params().iter().zip(b.params()) {
        assert_close(*p, q, 1e-7 * q, "weighted vs repeated");
    }
    assert_close(a.log_likelihood(), b.log_likelihood(), 1e-6, "LL");
}

#[test]
fn penalizer_shrinks_parameters() {
    let (x, tx, t) = cdnow_summary();
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    let plain = fit::<BetaGeo>(&data, &FitOptions::default()).unwrap();
    let options = FitOptions {
        penalizer_coef: 0.1,
        ..FitOptions::default()
    };
    let penalized = fit::<BetaGeo>(&data, &options).unwrap();
    let norm =
        |p: Vec<f64>| p[0].powi(2) + (p[1] * 10.0 / 38.86).powi(2) + p[2].powi(2) + p[3].powi(2);
    assert!(norm(penalized.params()) < norm(plain.params()));
    assert!(penalized.log_likelihood() < plain.log_likelihood());
}

#[test]
fn json_round_trip() {
    let fitted = cdnow_fit();
    let text = fitted.to_json();
    let back = Fitted::<BetaGeo>::from_json(&text).unwrap();
    assert_eq!(back, fitted);
    assert!(text.contains("\"format\": \"retentionkit-model\""));
    assert!(Fitted::<BetaGeo>::from_json("{}").is_err());
    let known = Fitted::from_model(BetaGeo::new(1.0, 2.0, 3.0, 4.0).unwrap());
    assert_eq!(
        Fitted::<BetaGeo>::from_json(&known.to_json()).unwrap(),
        known
    );
}

/// `fit_keeping_data` gives the same fit as `fit` and carries the data; the
/// JSON file does not (so a model read back compares equal once the data is
/// dropped).
#[test]
fn fit_keeping_data_carries_the_data() {
    let (x, tx, t) = cdnow_summary();
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    let kept = fit_keeping_data::<BetaGeo>(data.clone(), &FitOptions::default()).unwrap();
    let borrowed = fit::<BetaGeo>(&data, &FitOptions::default()).unwrap();
    assert!(borrowed.data().is_none());
    assert_eq!(kept.data(), Some(&data));
    assert_eq!(kept.model, borrowed.model);
    assert_eq!(kept.info, borrowed.info);
    assert_eq!(kept.data().unwrap().total_weight, 2357.0);
    let clone = kept.clone();
    assert!(std::ptr::eq(clone.data().unwrap(), kept.data().unwrap()));
    let back = Fitted::<BetaGeo>::from_json(&kept.to_json()).unwrap();
    assert!(back.data().is_none());
    assert_eq!(back, Fitted { data: None, ..kept });
}

#[test]
fn aic_bic_and_summary() {
    let fitted = cdnow_fit();
    let ll = fitted.log_likelihood();
    assert_close(fitted.aic(), 8.0 - 2.0 * ll, 1e-9, "AIC");
    assert_close(fitted.bic(), 4.0 * 2357f64.ln() - 2.0 * ll, 1e-9, "BIC");
    for row in fitted.summary() {
        assert!(row.lower_95 < row.coef && row.coef < row.upper_95);
    }
}

/// Data that cannot identify the model are an error, not nonsense estimates.
#[test]
fn degenerate_data_is_reported() {
    let cases: [(&[f64], &[f64], &[f64]); 2] = [
        (&[0.0, 0.0, 0.0], &[0.0, 0.0, 0.0], &[3.0, 3.0, 3.0]),
        (&[1.0], &[2.0], &[3.0]),
    ];
    for (x, tx, t) in cases {
        let data = CustomerData::new(x, tx, t, None).unwrap().compress();
        let err = fit::<BetaGeo>(&data, &FitOptions::default()).unwrap_err();
        assert!(
            matches!(err, Error::Unidentified { .. } | Error::NotConverged { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("penalizer_coef"), "{err}");
    }
}
