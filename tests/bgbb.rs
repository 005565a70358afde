//! BG/BB against Fader, Hardie & Shang (2010) and against its own properties.

mod common;

use std::path::PathBuf;

use common::assert_close;
use common::recovery::assert_recovers;
use common::reference::{reference, Reference};
use retentionkit::bgbb::{
    bgbb_data, conditional_expected_transactions_many, individual_log_likelihood_many,
    probability_alive_many, simulate_many, BetaGeoBetaBinom,
};
use retentionkit::special::ln_gamma;
use retentionkit::{fit, Derivatives, Error, FitOptions, Fitted, Model};

/// The donations data of FHS (2010) shipped with the Python package:
/// (frequency, recency, n_periods, weights), 22 rows, 11,104 donors, n = 6.
fn donations() -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("python/retentionkit/datasets/data/donations.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let (mut x, mut tx, mut n, mut w) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for line in text.lines().skip(1) {
        let cols: Vec<f64> = line.split(',').map(|c| c.trim().parse().unwrap()).collect();
        x.push(cols[0]);
        tx.push(cols[1]);
        n.push(cols[2]);
        w.push(cols[3]);
    }
    (x, tx, n, w)
}

fn donations_fit() -> Fitted<BetaGeoBetaBinom> {
    let (x, tx, n, w) = donations();
    let data = bgbb_data(&x, &tx, &n, Some(&w)).unwrap();
    fit::<BetaGeoBetaBinom>(&data, &FitOptions::default()).unwrap()
}

/// FHS (2010)'s estimates (tests/fixtures/reference_values.json).
fn fhs2010() -> Reference {
    reference("bgbb_donations_fhs2010")
}

fn paper_model() -> BetaGeoBetaBinom {
    fhs2010().model()
}

fn ln_choose(n: u32, k: u32) -> f64 {
    (1..=k)
        .map(|i| f64::from(n - k + i).ln() - f64::from(i).ln())
        .sum()
}

/// FHS (2010), section 4: the estimates and log-likelihood on the donations
/// data (1995 cohort, 6 annual opportunities 1996–2001; reference entry
/// `bgbb_donations_fhs2010`).
#[test]
fn donations_reference_parameters_and_log_likelihood() {
    let reference = fhs2010();
    let fitted = donations_fit();
    let p = fitted.params();
    for ((value, expected), name) in p
        .iter()
        .zip(reference.params::<BetaGeoBetaBinom>())
        .zip(BetaGeoBetaBinom::PARAM_NAMES)
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
    assert_eq!(info.n_unique, 22);
    let se = fitted.standard_errors();
    assert!(se.iter().all(|s| s.is_finite() && *s > 0.0), "{se:?}");
}

/// Data with longer and mixed histories than the donations, to exercise every
/// branch of the likelihood.
fn mixed_data() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let truth = BetaGeoBetaBinom::new(0.8, 2.5, 1.3, 4.0).unwrap();
    let n: Vec<f64> = (0..3000).map(|i| f64::from(1 + i % 30)).collect();
    let sim = simulate_many(&truth, &n, 7).unwrap();
    (
        sim.iter().map(|c| c.frequency).collect(),
        sim.iter().map(|c| c.recency).collect(),
        n,
    )
}

/// Numerical derivatives of the summed log-likelihood agree with the analytic
/// gradient and Hessian; the compressed value is the sum of individual ones.
#[test]
fn gradient_and_hessian_match_finite_differences() {
    let (dx, dtx, dn, dw) = donations();
    let (mx, mtx, mn) = mixed_data();
    let sets = [(dx, dtx, dn, Some(dw)), (mx, mtx, mn, None)];
    for (x, tx, n, w) in &sets {
        let data = bgbb_data(x, tx, n, w.as_deref()).unwrap();
        for params in [
            fhs2010().params::<BetaGeoBetaBinom>(),
            vec![0.3, 4.0, 1.0, 0.2],
            vec![9.0, 0.05, 20.0, 60.0],
            vec![0.02, 0.03, 0.04, 0.05],
        ] {
            let model = BetaGeoBetaBinom::from_slice(&params).unwrap();
            common::assert_derivatives::<BetaGeoBetaBinom>(&params, &data);
            let ev = model.evaluate(&data, Derivatives::Hessian);
            let value_only = model.evaluate(&data, Derivatives::None);
            assert_eq!(ev.value, value_only.value);
            let total: f64 = (0..x.len())
                .map(|i| {
                    w.as_ref().map_or(1.0, |w| w[i])
                        * model.individual_log_likelihood(x[i], tx[i], n[i])
                })
                .sum();
            assert_close(
                ev.value,
                total,
                1e-9 * total.abs(),
                "compressed vs individual",
            );
        }
    }
}

/// Every history (x, t_x) of n opportunities, with the number of transaction
/// sequences it summarises: C(t_x − 1, x − 1) for x ≥ 1, one for x = 0.
fn histories(n: u32) -> Vec<(f64, f64, f64)> {
    let mut out = vec![(0.0, 0.0, 1.0)];
    for tx in 1..=n {
        for x in 1..=tx {
            out.push((f64::from(x), f64::from(tx), ln_choose(tx - 1, x - 1).exp()));
        }
    }
    out
}

/// Exact identities over all histories of n opportunities: the likelihood of
/// eq. (5) is a distribution over sequences; it reproduces P(X(n) = x) of
/// eq. (7); averaging eq. (11) and eq. (13) over histories gives the
/// unconditional P(alive at n+1) = B(γ, δ+n+1)/B(γ, δ) and E[X(n+n*)] − E[X(n)]
/// of eq. (8).
#[test]
fn identities_over_all_histories() {
    for m in [
        paper_model(),
        BetaGeoBetaBinom::new(0.3, 4.0, 1.0, 0.2).unwrap(),
        BetaGeoBetaBinom::new(5.0, 1.5, 3.0, 40.0).unwrap(),
    ] {
        for n in [1u32, 2, 6, 15] {
            let nf = f64::from(n);
            let mut total = 0.0;
            let mut by_x = vec![0.0; n as usize + 1];
            let (mut alive, mut future) = (0.0, 0.0);
            for (x, tx, count) in histories(n) {
                let l = count * m.individual_log_likelihood(x, tx, nf).exp();
                total += l;
                by_x[x as usize] += l;
                alive += l * m.probability_alive(x, tx, nf);
                future += l * m.conditional_expected_number_of_transactions(7.0, x, tx, nf);
            }
            assert_close(total, 1.0, 1e-12, "histories sum to one");
            for (x, p) in by_x.iter().enumerate() {
                assert_close(
                    m.probability_of_transactions(x as f64, nf),
                    *p,
                    1e-12,
                    "P(X(n) = x)",
                );
            }
            let (g, d) = (m.gamma(), m.delta());
            let ln_beta = |a: f64, b: f64| ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
            let survive = (ln_beta(g, d + nf + 1.0) - ln_beta(g, d)).exp();
            assert_close(alive, survive, 1e-12, "mean P(alive at n+1)");
            let increment =
                m.expected_number_of_transactions(nf + 7.0) - m.expected_number_of_transactions(nf);
            assert_close(future, increment, 1e-10, "mean E[X(n, n+7) | history]");
        }
    }
}

/// E[X(n)] and E[X(n, n+n*) | ·] in closed form agree with their finite sums
/// Σₖ E[p] E[(1−θ)^k] also at and near γ = 1, where the paper's form is 0/0.
#[test]
fn expectations_match_direct_sums_including_gamma_one() {
    for gamma in [
        0.657,
        1.0,
        1.0 + 1e-9,
        1.0 - 3e-5,
        1.0 + 1e-4,
        1.0 - 2e-4,
        2.5,
    ] {
        let paper = fhs2010().params::<BetaGeoBetaBinom>();
        let m = BetaGeoBetaBinom::new(paper[0], paper[1], gamma, paper[3]).unwrap();
        for n in [1.0, 6.0, 30.0, 400.0] {
            // E[(1−θ)^k] = Π_{j<k} (δ+j)/(γ+δ+j).
            let (mut surv, mut sum) = (1.0, 0.0);
            for j in 0..n as usize {
                surv *= (m.delta() + j as f64) / (m.gamma() + m.delta() + j as f64);
                sum += surv;
            }
            let direct = m.alpha() / (m.alpha() + m.beta()) * sum;
            let e = m.expected_number_of_transactions(n);
            assert_close(e, direct, 1e-9 * direct, &format!("E[X({n})], γ = {gamma}"));
        }
        // Conditional: P(alive at n) (α+x)/(α+β+n) Σₖ E[(1−θ)^k | θ ~ Beta(γ, δ+n)].
        let (x, tx, n) = (3.0, 4.0, 6.0);
        let alive_n = m.probability_alive_at(0.0, x, tx, n);
        let (mut surv, mut sum) = (1.0, 0.0);
        for j in 0..50 {
            let a = m.delta() + n + f64::from(j);
            surv *= a / (m.gamma() + a);
            sum += surv;
        }
        let direct = alive_n * (m.alpha() + x) / (m.alpha() + m.beta() + n) * sum;
        let e = m.conditional_expected_number_of_transactions(50.0, x, tx, n);
        assert_close(
            e,
            direct,
            1e-9 * direct,
            &format!("E[X(6, 56)], γ = {gamma}"),
        );
    }
}

#[test]
fn predictions_have_the_right_shape() {
    let m = paper_model();
    // P(alive) in [0, 1]; for a fixed history it decreases with the horizon.
    for n in 1..=8u32 {
        for (x, tx, _) in histories(n) {
            let nf = f64::from(n);
            let mut last = 1.0;
            for h in [0.0, 1.0, 2.0, 10.0, 1000.0] {
                let p = m.probability_alive_at(h, x, tx, nf);
                assert!((0.0..=1.0).contains(&p) && p <= last, "{x} {tx} {n} {h}");
                last = p;
            }
            assert_eq!(
                m.probability_alive_at(1.0, x, tx, nf),
                m.probability_alive(x, tx, nf)
            );
            // Expected transactions are non-negative and non-decreasing in n*.
            let mut last = 0.0;
            for n_star in [0.0, 1.0, 2.0, 5.0, 10.0, 100.0, 10_000.0] {
                let e = m.conditional_expected_number_of_transactions(n_star, x, tx, nf);
                assert!(e >= last && e.is_finite(), "{x} {tx} {n}: {e} < {last}");
                last = e;
            }
        }
    }
    // A later last transaction means more likely alive, for the same x.
    assert!(m.probability_alive(2.0, 6.0, 6.0) > m.probability_alive(2.0, 3.0, 6.0));
    // P(X(n) = x) sums to 1 over x = 0..n and its mean is E[X(n)].
    for n in [1.0, 6.0, 11.0, 50.0, 300.0] {
        let probs: Vec<f64> = (0..=n as usize)
            .map(|x| m.probability_of_transactions(x as f64, n))
            .collect();
        let total: f64 = probs.iter().sum();
        let mean: f64 = probs.iter().enumerate().map(|(x, p)| x as f64 * p).sum();
        assert_close(total, 1.0, 1e-10, "sum of P(X(n) = x)");
        assert_close(
            mean,
            m.expected_number_of_transactions(n),
            1e-9 * n,
            "mean of P(X(n) = x)",
        );
    }
    assert_eq!(m.probability_of_transactions(7.0, 6.0), 0.0);
    assert_eq!(m.expected_number_of_transactions(0.0), 0.0);
}

/// The simulation follows the likelihood's story: summaries of simulated
/// customers match P(X(n) = x), E[X(n)] and P(alive at n).
#[test]
fn simulation_matches_the_formulas() {
    let m = paper_model();
    let n = 6.0;
    let count = 200_000;
    let sim = simulate_many(&m, &vec![n; count], 11).unwrap();
    let c = count as f64;
    let mut hist = [0.0; 7];
    for s in &sim {
        hist[s.frequency as usize] += 1.0 / c;
        assert!(s.frequency <= s.recency && s.recency <= n);
        assert_eq!(s.frequency == 0.0, s.recency == 0.0);
    }
    for (x, share) in hist.iter().enumerate() {
        let p = m.probability_of_transactions(x as f64, n);
        let se = (p * (1.0 - p) / c).sqrt();
        assert!((share - p).abs() < 5.0 * se, "x = {x}: {share} vs {p}");
    }
    let mean = sim.iter().map(|s| s.frequency).sum::<f64>() / c;
    assert_close(mean, m.expected_number_of_transactions(n), 0.02, "E[X(6)]");
    // Among simulated customers, the share alive at n equals the average
    // posterior probability of being alive at n.
    let alive = sim.iter().filter(|s| s.alive).count() as f64 / c;
    let predicted = sim
        .iter()
        .map(|s| m.probability_alive_at(0.0, s.frequency, s.recency, n))
        .sum::<f64>()
        / c;
    assert_close(alive, predicted, 0.005, "share alive at n");
}

#[test]
fn simulate_then_refit_recovers_parameters() {
    let truth = paper_model();
    let n: Vec<f64> = (0..100_000).map(|i| f64::from(4 + i % 9)).collect();
    let sim = simulate_many(&truth, &n, 42).unwrap();
    let again = simulate_many(&truth, &n, 42).unwrap();
    assert_eq!(sim, again, "simulation is reproducible");
    let x: Vec<f64> = sim.iter().map(|c| c.frequency).collect();
    let tx: Vec<f64> = sim.iter().map(|c| c.recency).collect();
    let data = bgbb_data(&x, &tx, &n, None).unwrap();
    assert_recovers(&truth, &data);
}

#[test]
fn bad_input_names_rule_and_row() {
    type Case<'a> = (&'a [f64], &'a [f64], &'a [f64], &'a str);
    let cases: [Case; 9] = [
        (
            &[1.0, 7.0],
            &[1.0, 6.0],
            &[6.0, 6.0],
            "frequency must not exceed",
        ),
        (
            &[1.0, 3.0],
            &[1.0, 2.0],
            &[6.0, 6.0],
            "frequency must not exceed",
        ),
        (
            &[1.0, 2.0],
            &[1.0, 7.0],
            &[6.0, 6.0],
            "recency must not exceed",
        ),
        (&[1.0, 1.5], &[1.0, 2.0], &[6.0, 6.0], "integers"),
        (&[1.0, 1.0], &[1.0, 2.5], &[6.0, 6.0], "integers"),
        (&[1.0, 1.0], &[1.0, 2.0], &[6.0, 6.5], "integers"),
        (&[1.0, 0.0], &[1.0, 2.0], &[6.0, 6.0], "recency must be 0"),
        (
            &[1.0, 0.0],
            &[1.0, 0.0],
            &[6.0, -1.0],
            "n_periods must be non-negative",
        ),
        (&[1.0, f64::NAN], &[1.0, 0.0], &[6.0, 6.0], "finite"),
    ];
    for (x, tx, n, rule_part) in cases {
        match bgbb_data(x, tx, n, None).unwrap_err() {
            Error::InvalidData { row, rule, .. } => {
                assert_eq!(row, 1, "{rule}");
                assert!(rule.contains(rule_part), "{rule} vs {rule_part}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(probability_alive_many(&paper_model(), x, tx, n).is_err());
    }
    let err = bgbb_data(&[0.0, 1.0], &[0.0, 1.0], &[6.0, 6.0], Some(&[1.0, -1.0])).unwrap_err();
    assert!(matches!(err, Error::InvalidData { row: 1, .. }), "{err:?}");
    let err = bgbb_data(&[0.0, 1.0], &[0.0], &[6.0, 6.0], None).unwrap_err();
    assert!(matches!(
        err,
        Error::LengthMismatch {
            name: "recency",
            ..
        }
    ));
    let err = bgbb_data(&[0.0], &[0.0], &[6.0], Some(&[0.0])).unwrap_err();
    assert_eq!(err, Error::Empty);
    assert!(simulate_many(&paper_model(), &[3.0, 2.5], 1).is_err());
    let err = conditional_expected_transactions_many(
        &paper_model(),
        &[1.0, -1.0],
        &[0.0, 1.0],
        &[0.0, 1.0],
        &[6.0, 6.0],
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidData { row: 1, .. }), "{err:?}");
    assert!(BetaGeoBetaBinom::new(1.0, 1.0, f64::INFINITY, 1.0).is_err());
    assert!(BetaGeoBetaBinom::from_slice(&[1.0, 1.0, 1.0]).is_err());
}

#[test]
fn vectorised_wrappers_match_scalar_methods() {
    let m = paper_model();
    let (x, tx, n, _) = donations();
    let p = probability_alive_many(&m, &x, &tx, &n).unwrap();
    let horizon = vec![5.0; x.len()];
    let e = conditional_expected_transactions_many(&m, &horizon, &x, &tx, &n).unwrap();
    let ll = individual_log_likelihood_many(&m, &x, &tx, &n).unwrap();
    for i in 0..x.len() {
        assert_eq!(p[i], m.probability_alive(x[i], tx[i], n[i]));
        assert_eq!(
            e[i],
            m.conditional_expected_number_of_transactions(5.0, x[i], tx[i], n[i])
        );
        assert_eq!(ll[i], m.individual_log_likelihood(x[i], tx[i], n[i]));
    }
}

#[test]
fn json_round_trip() {
    let fitted = donations_fit();
    let text = fitted.to_json();
    assert!(text.contains("\"BetaGeoBetaBinom\""));
    let back = Fitted::<BetaGeoBetaBinom>::from_json(&text).unwrap();
    assert_eq!(back, fitted);
    assert!(Fitted::<retentionkit::BetaGeo>::from_json(&text).is_err());
}

#[test]
fn numerical_extremes_stay_finite() {
    for params in [
        [1e-3, 1e-3, 1e-3, 1e-3],
        [1e4, 1e4, 1e4, 1e4],
        [0.05, 50.0, 0.02, 0.01],
    ] {
        let m = BetaGeoBetaBinom::from_slice(&params).unwrap();
        for (x, tx, n) in [
            (0.0, 0.0, 5000.0),
            (5000.0, 5000.0, 5000.0),
            (3.0, 10.0, 5000.0),
        ] {
            let p = m.probability_alive(x, tx, n);
            let e = m.conditional_expected_number_of_transactions(1e6, x, tx, n);
            let ll = m.individual_log_likelihood(x, tx, n);
            assert!(
                (0.0..=1.0).contains(&p) && e.is_finite() && e >= 0.0,
                "{params:?} {x} {tx} {n}"
            );
            assert!(ll.is_finite() && ll <= 0.0, "{params:?} {x} {tx} {n}: {ll}");
        }
        let data = bgbb_data(
            &[0.0, 5000.0, 3.0],
            &[0.0, 5000.0, 10.0],
            &[5000.0; 3],
            None,
        )
        .unwrap();
        let ev = m.evaluate(&data, Derivatives::Hessian);
        assert!(
            ev.value.is_finite() && ev.hessian.iter().all(|h| h.is_finite()),
            "{params:?}"
        );
    }
}

/// Data without heterogeneity push the parameters to infinity: reported as
/// unidentified, not as a fit with absurd estimates.
#[test]
fn unidentified_data_is_reported() {
    let x: Vec<f64> = [0.0, 1.0, 2.0, 1.0, 3.0, 0.0].repeat(50);
    let tx: Vec<f64> = [0.0, 1.0, 3.0, 4.0, 8.0, 0.0].repeat(50);
    let n: Vec<f64> = [4.0, 4.0, 4.0, 10.0, 10.0, 10.0].repeat(50);
    let data = retentionkit::bgbb_data(&x, &tx, &n, None).unwrap();
    for tol in [1e-8, 1e-6] {
        let options = retentionkit::FitOptions {
            tol,
            ..Default::default()
        };
        let err = retentionkit::fit::<retentionkit::BetaGeoBetaBinom>(&data, &options).unwrap_err();
        assert!(
            matches!(err, retentionkit::Error::Unidentified { .. }),
            "tol {tol}: {err:?}"
        );
    }
}
