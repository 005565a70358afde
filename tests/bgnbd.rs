//! BG/NBD against Fader, Hardie & Lee (2005) and against its own properties.

mod common;

use common::{assert_close, cdnow_summary};
use retentionkit::{
    fit, fit_keeping_data, predict, BetaGeo, CustomerData, Derivatives, Error, FitOptions, Fitted,
    Model, TransactionModel,
};

fn cdnow_fit() -> Fitted<BetaGeo> {
    let (x, tx, t) = cdnow_summary();
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    fit::<BetaGeo>(&data, &FitOptions::default()).unwrap()
}

/// FHL (2005), section 5: CDNOW 1/10th sample, 39-week calibration period:
/// r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4.
#[test]
fn cdnow_reference_parameters_and_log_likelihood() {
    let fitted = cdnow_fit();
    let p = fitted.params();
    for (value, (expected, name)) in
        p.iter()
            .zip([(0.243, "r"), (4.414, "alpha"), (0.793, "a"), (2.426, "b")])
    {
        assert_close(*value, expected, 5e-4, name);
    }
    assert_close(
        fitted.log_likelihood().unwrap(),
        -9582.4,
        0.05,
        "log-likelihood",
    );
    let info = fitted.info.as_ref().unwrap();
    assert!(info.converged);
    assert_eq!(info.n_customers, 2357.0);
    assert!(info.n_unique < 2357);
    let se = fitted.standard_errors();
    assert!(se.iter().all(|s| s.is_finite() && *s > 0.0), "{se:?}");
}

/// FHL (2005), section 5: customer with x = 2, t_x = 30.43, T = 38.86 is
/// expected to make 1.226 purchases in the next 39 weeks.
#[test]
fn cdnow_reference_conditional_expectation() {
    let fitted = cdnow_fit();
    let e = fitted
        .model
        .conditional_expected_purchases(39.0, 2.0, 30.43, 38.86);
    assert_close(e, 1.226, 5e-4, "E[Y(39) | 2, 30.43, 38.86]");
    // With the parameters as printed in the paper, too.
    let printed = BetaGeo::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let e = printed.conditional_expected_purchases(39.0, 2.0, 30.43, 38.86);
    assert_close(e, 1.226, 2e-3, "with printed parameters");
}

/// Numerical derivatives of the summed log-likelihood agree with the analytic
/// gradient and Hessian.
#[test]
fn gradient_and_hessian_match_finite_differences() {
    let (x, tx, t) = cdnow_summary();
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    for params in [
        [0.243, 4.414, 0.793, 2.426],
        [1.3, 0.7, 2.5, 0.4],
        [0.05, 40.0, 0.2, 9.0],
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
    let truth = BetaGeo::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let ages: Vec<f64> = (0..100_000)
        .map(|i| 27.0 + 12.0 * (i as f64 / 100_000.0))
        .collect();
    let sim = predict::simulate(&truth, &ages, 42).unwrap();
    let again = predict::simulate(&truth, &ages, 42).unwrap();
    assert_eq!(sim, again, "simulation is reproducible");
    let x: Vec<f64> = sim.iter().map(|c| c.frequency).collect();
    let tx: Vec<f64> = sim.iter().map(|c| c.recency).collect();
    let t: Vec<f64> = sim.iter().map(|c| c.age).collect();
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    let fitted = fit::<BetaGeo>(&data, &FitOptions::default()).unwrap();
    let se = fitted.standard_errors();
    for ((est, true_value), se) in fitted.params().iter().zip(truth.to_vec()).zip(se) {
        assert!(
            (est - true_value).abs() < 4.0 * se,
            "estimate {est} vs truth {true_value} (se {se})"
        );
    }
}

#[test]
fn predictions_have_the_right_shape() {
    let m = BetaGeo::new(0.243, 4.414, 0.793, 2.426).unwrap();
    // P(alive) in [0, 1], decreasing in T for a fixed history.
    let mut last = 1.0;
    for age in [30.0, 40.0, 80.0, 400.0, 40_000.0] {
        let p = m.probability_alive(5.0, 29.0, age);
        assert!((0.0..=1.0).contains(&p) && p <= last);
        last = p;
    }
    // Expectations are non-negative and non-decreasing in t.
    let mut last = (0.0, 0.0);
    for t in [0.0, 0.5, 1.0, 5.0, 39.0, 100.0, 1000.0] {
        let e = (
            m.expected_purchases(t),
            m.conditional_expected_purchases(t, 3.0, 20.0, 38.0),
        );
        assert!(
            e.0 >= last.0 - 1e-12 && e.1 >= last.1 - 1e-12,
            "t = {t}: {e:?}"
        );
        last = e;
    }
    // P(X(t) = n) sums to 1 and its mean is E[X(t)].
    for t in [1.0, 39.0, 78.0] {
        let probs: Vec<f64> = (0..2000)
            .map(|n| m.probability_of_purchases(t, n as f64))
            .collect();
        let total: f64 = probs.iter().sum();
        let mean: f64 = probs.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        assert_close(total, 1.0, 1e-9, "sum of P(X(t) = n)");
        assert_close(mean, m.expected_purchases(t), 1e-6, "mean of P(X(t) = n)");
    }
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
    for (r, alpha, a, b, t) in [
        (0.243, 4.414, 0.793, 2.426, 3.0),
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
    let m = BetaGeo::new(0.243, 4.414, 0.793, 2.426).unwrap();
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
    let cases: [Case; 6] = [
        (&[-1.0], &[0.0], &[1.0], "non-negative integer"),
        (&[1.5], &[0.5], &[1.0], "non-negative integer"),
        (&[f64::NAN], &[0.0], &[1.0], "finite"),
        (&[0.0], &[0.5], &[1.0], "recency must be 0"),
        (&[0.0], &[0.0], &[0.0], "T must be positive"),
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
    assert_close(
        a.log_likelihood().unwrap(),
        b.log_likelihood().unwrap(),
        1e-6,
        "LL",
    );
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
    assert!(penalized.log_likelihood().unwrap() < plain.log_likelihood().unwrap());
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
    let ll = fitted.log_likelihood().unwrap();
    assert_close(fitted.aic().unwrap(), 8.0 - 2.0 * ll, 1e-9, "AIC");
    assert_close(
        fitted.bic().unwrap(),
        4.0 * 2357f64.ln() - 2.0 * ll,
        1e-9,
        "BIC",
    );
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
