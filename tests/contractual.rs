//! sBG and BdW against Fader & Hardie (2007, 2010) and against their own
//! properties.

mod common;

use common::assert_close;
use common::recovery::assert_recovers;
use common::reference::reference;
use proptest::prelude::*;
use retentionkit::bdw::BetaDiscreteWeibull;
use retentionkit::contractual::{
    discounted_expected_residual_lifetime_many, retention_rate_many, simulate_many, survival_many,
    RetentionData, RetentionModel,
};
use retentionkit::sbg::ShiftedBetaGeometric;
use retentionkit::{fit, Derivatives, Error, FitOptions, Fitted, Model};

/// Fader & Hardie (2007), "How to Project Customer Retention", Journal of
/// Interactive Marketing 21(1): customers still active at the start of years
/// 0..12 out of 1000 acquired (tests/fixtures/reference_values.json).
fn regular() -> Vec<f64> {
    reference("sbg_regular_fh2007").survivors()
}

fn high_end() -> Vec<f64> {
    reference("sbg_high_end_fh2007").survivors()
}

fn fit_sbg(counts: &[f64]) -> Fitted<ShiftedBetaGeometric> {
    let data = RetentionData::from_survivors(counts).unwrap();
    fit::<ShiftedBetaGeometric>(&data, &FitOptions::default()).unwrap()
}

/// FH (2007), section "Estimation": the estimates fitted to years 0..7 of
/// the regular and the high-end cohort.
#[test]
fn fader_hardie_2007_estimates() {
    for name in ["sbg_regular_fh2007", "sbg_high_end_fh2007"] {
        let reference = reference(name);
        let fitted = fit_sbg(&reference.survivors()[..8]);
        let p = fitted.params();
        let expected = reference.params::<ShiftedBetaGeometric>();
        assert_close(p[0], expected[0], 5e-4, &format!("{name} alpha"));
        assert_close(p[1], expected[1], 5e-4, &format!("{name} beta"));
        let info = fitted.info.as_ref().unwrap();
        assert!(info.converged);
        assert_eq!(info.n_customers, reference.n_customers());
        assert!(fitted
            .standard_errors()
            .iter()
            .all(|s| s.is_finite() && *s > 0.0));
    }
}

/// FH (2007), figure 4: the model fitted to years 0..7 projects the survivors
/// of years 8..12 closely, slightly below the actual counts (at most 1.7%
/// below for the regular cohort, 4.1% for the high-end one, in year 12).
#[test]
fn fader_hardie_2007_projections() {
    for (counts, name) in [(regular(), "regular"), (high_end(), "high end")] {
        let model = fit_sbg(&counts[..8]).model;
        for (t, &actual) in counts.iter().enumerate().skip(8) {
            let projected = 1000.0 * model.survival(t as f64);
            assert!(
                projected < actual && projected / actual > 0.95,
                "{name}, year {t}: projected {projected:.1}, actual {actual}"
            );
        }
    }
}

/// Eqs. (5)–(7) of FH (2007) as recursions agree with the closed forms.
#[test]
fn recursions_of_the_paper() {
    let m = reference("sbg_regular_fh2007").model::<ShiftedBetaGeometric>();
    let (a, b) = (m.to_vec()[0], m.to_vec()[1]);
    let (mut p, mut s) = (a / (a + b), 1.0 - a / (a + b));
    for t in 1..60 {
        let tf = t as f64;
        if t > 1 {
            p *= (b + tf - 2.0) / (a + b + tf - 1.0);
            s -= p;
        }
        assert_close(m.probability_of_churn_at(tf), p, 1e-14, "P(T = t)");
        assert_close(m.survival(tf), s, 1e-13, "S(t)");
        assert_close(
            m.retention_rate(tf),
            (b + tf - 1.0) / (a + b + tf - 1.0),
            1e-15,
            "r(t)",
        );
        assert_close(
            m.survival(tf) / m.survival(tf - 1.0),
            m.retention_rate(tf),
            1e-12,
            "S ratio",
        );
    }
}

/// Data with cohorts of several ages and individual records with long
/// durations, to exercise every branch of the likelihoods.
fn mixed_data() -> RetentionData {
    let mut durations = Vec::new();
    let mut churned = Vec::new();
    for i in 0..400 {
        durations.push(f64::from(1 + (i * 7) % 60));
        churned.push(i % 3 == 0);
    }
    let individual = RetentionData::from_durations(&durations, &churned, None).unwrap();
    let cohorts =
        RetentionData::from_cohorts(&[&regular()[..], &high_end()[..5], &[40.0, 31.0]]).unwrap();
    // Concatenate the cells: a (duration, churned) pair may repeat, which the
    // likelihood, a weighted sum over cells, does not mind.
    let mut data = cohorts.clone();
    data.duration.extend(&individual.duration);
    data.churned.extend(&individual.churned);
    data.weight.extend(&individual.weight);
    data.total_weight += individual.total_weight;
    data
}

fn check_derivatives<M: Model<Data = RetentionData>>(params: &[f64], data: &RetentionData) {
    let p = params.len();
    let model = M::template(data).with_params(params).unwrap();
    let ev = model.evaluate(data, Derivatives::Hessian);
    assert_eq!(ev.value, model.evaluate(data, Derivatives::None).value);
    let per = 1.0 / data.total_weight;
    for k in 0..p {
        let h = 1e-5 * params[k];
        let shifted = |d: f64| {
            let mut q = params.to_vec();
            q[k] += d;
            M::template(data)
                .with_params(&q)
                .unwrap()
                .evaluate(data, Derivatives::Gradient)
        };
        let (up, down) = (shifted(h), shifted(-h));
        let fd = per * (up.value - down.value) / (2.0 * h);
        let analytic = per * ev.gradient[k];
        assert!(
            (fd - analytic).abs() < 1e-6 * analytic.abs().max(1.0),
            "{} gradient {k} at {params:?}: {fd} vs {analytic}",
            M::NAME
        );
        for l in 0..p {
            let fd = per * (up.gradient[l] - down.gradient[l]) / (2.0 * h);
            let analytic = per * ev.hessian[l * p + k];
            assert_eq!(ev.hessian[l * p + k], ev.hessian[k * p + l], "symmetric");
            assert!(
                (fd - analytic).abs() < 1e-5 * analytic.abs().max(1.0),
                "{} hessian ({l},{k}) at {params:?}: {fd} vs {analytic}",
                M::NAME
            );
        }
    }
}

#[test]
fn gradient_and_hessian_match_finite_differences() {
    let data = mixed_data();
    for params in [[0.704, 1.182], [0.05, 0.2], [8.0, 30.0], [2.0, 0.3]] {
        check_derivatives::<ShiftedBetaGeometric>(&params, &data);
    }
    for params in [
        [0.704, 1.182, 1.0],
        [0.05, 0.2, 0.4],
        [8.0, 30.0, 1.7],
        [2.0, 0.3, 0.8],
        [1.1, 4.0, 3.0],
    ] {
        check_derivatives::<BetaDiscreteWeibull>(&params, &data);
    }
}

/// The cell log-likelihood equals FH (2007)'s sum written out per cohort.
#[test]
fn log_likelihood_is_the_cohort_sum() {
    let m = reference("sbg_high_end_fh2007").model::<ShiftedBetaGeometric>();
    let survivors = high_end();
    let counts = &survivors[..8];
    let data = RetentionData::from_survivors(counts).unwrap();
    let mut expected = counts[7] * m.survival(7.0).ln();
    for t in 1..8 {
        expected += (counts[t - 1] - counts[t]) * m.probability_of_churn_at(t as f64).ln();
    }
    let ll = m.evaluate(&data, Derivatives::None).value;
    assert_close(ll, expected, 1e-9, "LL");
    // Several cohorts add up; records give the same cells as counts.
    let two = RetentionData::from_cohorts(&[&regular()[..8], &high_end()[..5]]).unwrap();
    let sum = m
        .evaluate(
            &RetentionData::from_survivors(&regular()[..8]).unwrap(),
            Derivatives::None,
        )
        .value
        + m.evaluate(
            &RetentionData::from_survivors(&high_end()[..5]).unwrap(),
            Derivatives::None,
        )
        .value;
    assert_close(
        m.evaluate(&two, Derivatives::None).value,
        sum,
        1e-9,
        "two cohorts",
    );
    let (mut durations, mut churned) = (Vec::new(), Vec::new());
    for t in 1..8 {
        for _ in 0..(counts[t - 1] - counts[t]) as usize {
            durations.push(t as f64);
            churned.push(true);
        }
    }
    for _ in 0..counts[7] as usize {
        durations.push(7.0);
        churned.push(false);
    }
    let records = RetentionData::from_durations(&durations, &churned, None).unwrap();
    assert_eq!(records, data);
}

#[test]
fn bdw_with_c_equal_to_one_is_the_sbg() {
    let data = mixed_data();
    for (a, b) in [
        (0.704, 1.182),
        (0.3, 5.0),
        (4.0, 0.5),
        (1.02, 2.0),
        (1.3, 0.4),
    ] {
        let sbg = ShiftedBetaGeometric::new(a, b).unwrap();
        let bdw = BetaDiscreteWeibull::new(a, b, 1.0).unwrap();
        let (es, eb) = (
            sbg.evaluate(&data, Derivatives::Hessian),
            bdw.evaluate(&data, Derivatives::Hessian),
        );
        assert_close(eb.value, es.value, 1e-9 * es.value.abs(), "LL");
        for k in 0..2 {
            assert_close(
                eb.gradient[k],
                es.gradient[k],
                1e-8 * es.gradient[k].abs().max(1.0),
                "gradient",
            );
            for l in 0..2 {
                let (x, y) = (eb.hessian[k * 3 + l], es.hessian[k * 2 + l]);
                assert_close(x, y, 1e-8 * y.abs().max(1.0), "hessian");
            }
        }
        for t in 0..40 {
            let t = t as f64;
            assert_close(bdw.survival(t), sbg.survival(t), 1e-12, "S");
            if t >= 1.0 {
                assert_close(bdw.retention_rate(t), sbg.retention_rate(t), 1e-12, "r");
                assert_close(
                    bdw.probability_of_churn_at(t),
                    sbg.probability_of_churn_at(t),
                    1e-13,
                    "P(T = t)",
                );
            }
        }
        for d in [0.1, 0.02] {
            assert_close(
                bdw.discounted_expected_lifetime(d).unwrap(),
                sbg.discounted_expected_lifetime(d).unwrap(),
                1e-10,
                "DEL",
            );
            for n in [0.0, 3.0, 25.0] {
                assert_close(
                    bdw.discounted_expected_residual_lifetime(d, n).unwrap(),
                    sbg.discounted_expected_residual_lifetime(d, n).unwrap(),
                    1e-10,
                    "DERL",
                );
            }
        }
        let (eb, es) = (bdw.expected_lifetime(), sbg.expected_lifetime());
        if es.is_finite() {
            assert_close(eb, es, 1e-8 * es, "E[T]");
        } else {
            assert!(eb.is_infinite());
        }
    }
}

/// Direct discounted sums, term by term, to 20,000 periods.
fn direct_derl<M: RetentionModel>(m: &M, d: f64, n: f64) -> f64 {
    let mut sum = 0.0;
    for j in 1..20_000 {
        let j = j as f64;
        sum += m.survival(n + j) / m.survival(n) / (1.0 + d).powf(j - 1.0);
    }
    sum
}

#[test]
fn discounted_lifetimes_equal_direct_sums() {
    let sbg = reference("sbg_high_end_fh2007").model::<ShiftedBetaGeometric>();
    let bdw = BetaDiscreteWeibull::new(0.9, 2.5, 0.6).unwrap();
    for d in [0.1f64, 0.25, 0.01] {
        let del_direct: f64 = (0..20_000)
            .map(|t| sbg.survival(t as f64) / (1.0 + d).powi(t))
            .sum();
        assert_close(
            sbg.discounted_expected_lifetime(d).unwrap(),
            del_direct,
            1e-9,
            "sBG DEL",
        );
        let del_bdw: f64 = (0..20_000)
            .map(|t| bdw.survival(t as f64) / (1.0 + d).powi(t))
            .sum();
        assert_close(
            bdw.discounted_expected_lifetime(d).unwrap(),
            del_bdw,
            1e-9,
            "BdW DEL",
        );
        for n in [0.0, 1.0, 4.0, 30.0] {
            assert_close(
                sbg.discounted_expected_residual_lifetime(d, n).unwrap(),
                direct_derl(&sbg, d, n),
                1e-9,
                "sBG DERL",
            );
            assert_close(
                bdw.discounted_expected_residual_lifetime(d, n).unwrap(),
                direct_derl(&bdw, d, n),
                1e-9,
                "BdW DERL",
            );
        }
        // DEL = 1 + DERL(d, 0)/(1+d).
        assert_close(
            sbg.discounted_expected_lifetime(d).unwrap(),
            1.0 + sbg.discounted_expected_residual_lifetime(d, 0.0).unwrap() / (1.0 + d),
            1e-12,
            "DEL vs DERL",
        );
    }
    // DERL grows with the renewals made: the sorting effect of FH (2010).
    let derl = discounted_expected_residual_lifetime_many(&sbg, &[0.0, 1.0, 5.0, 20.0], &[0.1; 4])
        .unwrap();
    assert!(derl.windows(2).all(|w| w[1] > w[0]), "{derl:?}");
}

#[test]
fn expected_lifetime() {
    let sbg = ShiftedBetaGeometric::new(2.5, 3.0).unwrap();
    assert_close(sbg.expected_lifetime(), 4.5 / 1.5, 1e-15, "sBG E[T]");
    // BdW: against the closed form at c = 1 (above) and against a long
    // partial sum plus the tail integral here.
    let bdw = BetaDiscreteWeibull::new(2.0, 3.0, 1.5).unwrap();
    let partial: f64 = (0..200_000).map(|t| bdw.survival(t as f64)).sum();
    let value = bdw.expected_lifetime();
    // The tail beyond 200,000 is ~ K t^{1−cα}/(cα − 1), below 1e-9 here.
    assert_close(value, partial, 1e-8, "BdW E[T]");
    assert!(BetaDiscreteWeibull::new(2.0, 3.0, 0.5)
        .unwrap()
        .expected_lifetime()
        .is_infinite());
    assert!(ShiftedBetaGeometric::new(1.0, 3.0)
        .unwrap()
        .expected_lifetime()
        .is_infinite());
}

fn refit_within_4_se<M: RetentionModel>(truth: &M, horizon: f64, n: usize, seed: u64) {
    let sims = simulate_many(truth, &vec![horizon; n], seed).unwrap();
    let durations: Vec<f64> = sims.iter().map(|s| s.duration).collect();
    let churned: Vec<bool> = sims.iter().map(|s| s.churned).collect();
    let data = RetentionData::from_durations(&durations, &churned, None).unwrap();
    assert_recovers(truth, &data);
}

#[test]
fn simulate_then_refit() {
    refit_within_4_se(
        &reference("sbg_regular_fh2007").model::<ShiftedBetaGeometric>(),
        12.0,
        20_000,
        1,
    );
    refit_within_4_se(
        &ShiftedBetaGeometric::new(2.0, 6.0).unwrap(),
        8.0,
        20_000,
        2,
    );
    refit_within_4_se(
        &BetaDiscreteWeibull::new(0.8, 2.0, 0.7).unwrap(),
        24.0,
        20_000,
        3,
    );
    refit_within_4_se(
        &BetaDiscreteWeibull::new(1.5, 4.0, 1.4).unwrap(),
        12.0,
        20_000,
        4,
    );
}

#[test]
fn simulation_is_reproducible_and_matches_survival() {
    let m = BetaDiscreteWeibull::new(0.8, 2.0, 0.7).unwrap();
    let a = simulate_many(&m, &vec![10.0; 50_000], 9).unwrap();
    assert_eq!(a, simulate_many(&m, &vec![10.0; 50_000], 9).unwrap());
    assert_ne!(a, simulate_many(&m, &vec![10.0; 50_000], 10).unwrap());
    for t in [1.0, 3.0, 9.0] {
        let share = a.iter().filter(|s| !s.churned || s.duration > t).count() as f64 / 50_000.0;
        assert_close(share, m.survival(t), 0.01, "simulated survival");
    }
}

fn invalid_data(result: Result<RetentionData, Error>) -> (String, usize, String) {
    match result {
        Err(Error::InvalidData {
            rule, row, detail, ..
        }) => (rule.to_string(), row, detail),
        other => panic!("expected InvalidData, got {other:?}"),
    }
}

#[test]
fn bad_inputs_are_reported_with_period_and_cohort() {
    let (rule, row, detail) = invalid_data(RetentionData::from_cohorts(&[
        &regular()[..],
        &[100.0, 80.0, 85.0, 60.0][..],
    ]));
    assert!(rule.contains("must not increase"), "{rule}");
    assert_eq!(row, 2);
    assert!(
        detail.contains("cohort 1") && detail.contains("period 2"),
        "{detail}"
    );
    let message = RetentionData::from_survivors(&[100.0, 80.0, 85.0])
        .unwrap_err()
        .to_string();
    assert!(message.contains("period 2"), "{message}");

    let (rule, row, detail) = invalid_data(RetentionData::from_survivors(&[100.0, -3.0]));
    assert!(rule.contains("non-negative integers"), "{rule}");
    assert_eq!(row, 1);
    assert!(detail.contains("period 1"), "{detail}");
    let (rule, ..) = invalid_data(RetentionData::from_survivors(&[100.0, 50.5]));
    assert!(rule.contains("integers"));
    let (rule, ..) = invalid_data(RetentionData::from_survivors(&[100.0, f64::NAN]));
    assert!(rule.contains("integers"));

    let (rule, row, detail) = invalid_data(RetentionData::from_cohorts(&[
        &[10.0, 5.0][..],
        &[0.0, 0.0][..],
    ]));
    assert!(rule.contains("positive number of customers"), "{rule}");
    assert_eq!(row, 0);
    assert!(
        detail.contains("cohort 1") && detail.contains("period 0"),
        "{detail}"
    );
    let empty: [&[f64]; 0] = [];
    assert_eq!(RetentionData::from_cohorts(&empty), Err(Error::Empty));

    let (rule, row, _) = invalid_data(RetentionData::from_durations(
        &[3.0, 0.0],
        &[true, false],
        None,
    ));
    assert!(rule.contains("positive integers"));
    assert_eq!(row, 1);
    let (_, row, _) = invalid_data(RetentionData::from_durations(
        &[3.0, 2.5],
        &[true, false],
        None,
    ));
    assert_eq!(row, 1);
    let (rule, ..) = invalid_data(RetentionData::from_durations(
        &[3.0],
        &[true],
        Some(&[-1.0]),
    ));
    assert!(rule.contains("weights"));
    assert!(matches!(
        RetentionData::from_durations(&[3.0, 2.0], &[true], None),
        Err(Error::LengthMismatch { .. })
    ));
    assert_eq!(
        RetentionData::from_durations(&[3.0], &[true], Some(&[0.0])),
        Err(Error::Empty)
    );

    let m = ShiftedBetaGeometric::new(1.0, 1.0).unwrap();
    assert!(survival_many(&m, &[1.0, -1.0]).is_err());
    assert!(retention_rate_many(&m, &[0.0]).is_err());
    assert!(discounted_expected_residual_lifetime_many(&m, &[1.0], &[0.0]).is_err());
}

#[test]
fn json_round_trip() {
    let fitted = fit_sbg(&regular()[..8]);
    let back = Fitted::<ShiftedBetaGeometric>::from_json(&fitted.to_json()).unwrap();
    assert_eq!(back, fitted);
    let data = RetentionData::from_survivors(&high_end()).unwrap();
    let bdw = fit::<BetaDiscreteWeibull>(&data, &FitOptions::default()).unwrap();
    let text = bdw.to_json();
    assert!(text.contains("\"BetaDiscreteWeibull\"") && text.contains("\"c\""));
    assert_eq!(
        Fitted::<BetaDiscreteWeibull>::from_json(&text).unwrap(),
        bdw
    );
    assert!(Fitted::<ShiftedBetaGeometric>::from_json(&text).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn survival_and_retention_shapes(a in 0.01f64..50.0, b in 0.01f64..50.0, c in 0.1f64..3.0) {
        let sbg = ShiftedBetaGeometric::new(a, b).unwrap();
        let bdw = BetaDiscreteWeibull::new(a, b, c).unwrap();
        prop_assert_eq!(sbg.survival(0.0), 1.0);
        prop_assert_eq!(bdw.survival(0.0), 1.0);
        let (mut s_prev, mut r_prev, mut b_prev) = (1.0, 0.0, 1.0);
        for t in 1..80 {
            let t = t as f64;
            let (s, r, sb) = (sbg.survival(t), sbg.retention_rate(t), bdw.survival(t));
            prop_assert!(s <= s_prev && s >= 0.0, "S not non-increasing at {}", t);
            prop_assert!(sb <= b_prev + 1e-15 && sb >= 0.0, "BdW S not non-increasing at {}", t);
            prop_assert!(r > 0.0 && r < 1.0);
            prop_assert!(r > r_prev, "sBG retention not increasing at {}", t);
            let rb = bdw.retention_rate(t);
            prop_assert!(rb > 0.0 && rb <= 1.0);
            let p = sbg.probability_of_churn_at(t);
            prop_assert!((p - (s_prev - s)).abs() <= 1e-12);
            (s_prev, r_prev, b_prev) = (s, r, sb);
        }
    }
}
