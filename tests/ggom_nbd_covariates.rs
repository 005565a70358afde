//! The GGom/NBD with time-invariant covariates (αᵢ = α e^{−γ_purchaseᵀzᵢ},
//! βᵢ = β e^{−γ_dropoutᵀzᵢ}) and its conditional P(n): the identity with the
//! plain model, the derivatives, the Pareto/NBD limit (CLVTools' covariate fit
//! on CDNOW, `../shared/reference/covariates_cdnow.md`), simulate-then-refit, a
//! CDNOW fit with a covariate, and the conditional P(n)'s sums, limit and a
//! simulation.

mod common;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use retentionkit::ggom_nbd::GGomNBD;
use retentionkit::models::covariates::{CovariateData, CovariateDesign, WithCovariates};
use retentionkit::pnbd::ParetoNBD;
use retentionkit::{fit, CustomerData, Derivatives, FitOptions, Model, TransactionModel};

/// The CDNOW summary (weeks) with `log_first_spend` = ln(1 + dollars on the
/// customer's first purchase day), from the shipped log, as the reference
/// builds it.
struct Cdnow {
    x: Vec<f64>,
    tx: Vec<f64>,
    t: Vec<f64>,
    log_first_spend: Vec<f64>,
}

fn cdnow() -> Cdnow {
    let [x, tx, t, log_first_spend] = common::cdnow_log_summary();
    Cdnow {
        x,
        tx,
        t,
        log_first_spend,
    }
}

/// `log_first_spend` and a deterministic noise column, in both processes.
fn cdnow_data(c: &Cdnow, shared: bool) -> CovariateData {
    let columns = ["log_first_spend".to_string(), "noise".to_string()];
    let design = if shared {
        CovariateDesign::new::<GGomNBD>(&columns, &[vec![1], vec![]], &[0]).unwrap()
    } else {
        CovariateDesign::new::<GGomNBD>(&columns, &[vec![0, 1], vec![0, 1]], &[]).unwrap()
    };
    let z: Vec<f64> = (0..c.x.len())
        .flat_map(|i| [c.log_first_spend[i], ((i * 7919) % 101) as f64 / 50.0 - 1.0])
        .collect();
    CovariateData::new(&c.x, &c.tx, &c.t, None, &z, design).unwrap()
}

#[test]
fn the_covariate_is_built_as_the_reference_describes() {
    let c = cdnow();
    common::assert_close(c.log_first_spend[0], 3.41213732170049, 1e-13, "customer 1");
    common::assert_close(c.log_first_spend[1], 4.16418152181088, 1e-13, "customer 2");
}

/// With all coefficients 0 the model is the plain GGom/NBD: the
/// log-likelihood, its gradient and Hessian (the sum of the same terms in
/// another order) and every prediction.
#[test]
fn zero_coefficients_are_the_plain_model() {
    let c = cdnow();
    let data = cdnow_data(&c, false);
    let plain = GGomNBD::new(0.55, 10.6, 0.05, 0.6, 0.5).unwrap();
    let with = WithCovariates::new(plain, data.design().clone(), vec![0.0; 4]).unwrap();
    let compressed = CustomerData::new(&c.x, &c.tx, &c.t, None)
        .unwrap()
        .compress();
    let ours = with.evaluate(&data, Derivatives::Hessian);
    let theirs = plain.evaluate(&compressed, Derivatives::Hessian);
    let n = c.x.len() as f64;
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= 1e-13 * n * b.abs().max(10.0),
            "{what}: {a} vs {b}"
        );
    };
    close(ours.value, theirs.value, "log-likelihood");
    let p = 5 + 4;
    for k in 0..5 {
        close(ours.gradient[k], theirs.gradient[k], "gradient");
        for l in 0..5 {
            close(
                ours.hessian[k * p + l],
                theirs.hessian[k * 5 + l],
                "hessian",
            );
        }
    }
    // Predictions: each customer's model is the plain one, so every
    // prediction is the same number.
    let rows = 300;
    let z: Vec<f64> = (0..rows)
        .flat_map(|i| [c.log_first_spend[i], 0.3 * i as f64])
        .collect();
    let models = with.per_customer(rows, &z, |m, _| *m).unwrap();
    for (i, m) in models.iter().enumerate() {
        let (x, tx, t) = (c.x[i], c.tx[i], c.t[i]);
        assert_eq!(m.to_vec(), plain.to_vec());
        assert_eq!(
            m.probability_alive(x, tx, t),
            plain.probability_alive(x, tx, t)
        );
        assert_eq!(
            m.conditional_expected_purchases(39.0, x, tx, t),
            plain.conditional_expected_purchases(39.0, x, tx, t)
        );
        assert_eq!(
            m.conditional_probability_of_purchases(1.0, 39.0, x, tx, t),
            plain.conditional_probability_of_purchases(1.0, 39.0, x, tx, t)
        );
    }
    let rate = vec![0.01; rows];
    let money: Vec<f64> = (0..rows).map(|i| 10.0 + i as f64).collect();
    let options = retentionkit::clv::ClvOptions {
        time: 24.0,
        unit: retentionkit::clv::TimeUnit::Week,
        ..Default::default()
    };
    let (x, tx, t) = (&c.x[..rows], &c.tx[..rows], &c.t[..rows]);
    assert_eq!(
        with.discounted_expected_residual_transactions(&rate, x, tx, t, &z)
            .unwrap(),
        retentionkit::dert::discounted_expected_residual_transactions(&plain, &rate, x, tx, t)
            .unwrap()
    );
    assert_eq!(
        with.customer_lifetime_value(x, tx, t, &money, &z, &options)
            .unwrap(),
        retentionkit::clv::customer_lifetime_value(&plain, x, tx, t, &money, &options).unwrap()
    );
}

/// The analytic gradient and Hessian in (r, α, b, s, β, coefficients) agree
/// with central differences, with separate and with shared coefficients.
#[test]
fn analytic_derivatives_match_differences() {
    let c = cdnow();
    let p = [0.6, 30.0, 0.04, 0.7, 0.8, 0.3, -0.1, 0.2, 0.15];
    common::assert_derivatives::<WithCovariates<GGomNBD>>(&p, &cdnow_data(&c, false));
    let p = [0.6, 30.0, 0.04, 0.7, 0.8, 0.2, 0.3];
    common::assert_derivatives::<WithCovariates<GGomNBD>>(&p, &cdnow_data(&c, true));
}

/// On its Pareto/NBD limit (b → 0 with β/b fixed) the GGom/NBD with
/// covariates is the Pareto/NBD with covariates: at CLVTools 0.12.1's
/// estimates its log-likelihood is CLVTools' −9571.98206262848, customer by
/// customer the Pareto/NBD's.
#[test]
fn the_pareto_nbd_limit_is_clvtools_covariate_fit() {
    let c = cdnow();
    let columns = ["log_first_spend".to_string()];
    let gammas = vec![0.364454361636481, 0.00869821437825145];
    let (r, alpha, s, beta) = (
        0.572935325339591,
        36.8716471200374,
        0.612989709595729,
        12.3445499661293,
    );
    let b = 1e-9;
    let ggom = WithCovariates::new(
        GGomNBD::new(r, alpha, b, s, beta * b).unwrap(),
        CovariateDesign::new::<GGomNBD>(&columns, &[vec![0], vec![0]], &[]).unwrap(),
        gammas.clone(),
    )
    .unwrap();
    let pnbd = WithCovariates::new(
        ParetoNBD::new(r, alpha, s, beta).unwrap(),
        CovariateDesign::new::<ParetoNBD>(&columns, &[vec![0], vec![0]], &[]).unwrap(),
        gammas,
    )
    .unwrap();
    let data = CovariateData::new(
        &c.x,
        &c.tx,
        &c.t,
        None,
        &c.log_first_spend,
        ggom.design().clone(),
    )
    .unwrap();
    let ll = ggom.evaluate(&data, Derivatives::None).value;
    assert!((ll - -9571.98206262848).abs() < 1e-4, "LL {ll}");
    let n = c.x.len();
    let pairs = ggom
        .per_customer(n, &c.log_first_spend, |m, i| {
            (
                m.individual_log_likelihood(c.x[i], c.tx[i], c.t[i]),
                m.probability_alive(c.x[i], c.tx[i], c.t[i]),
            )
        })
        .unwrap();
    let theirs = pnbd
        .per_customer(n, &c.log_first_spend, |m, i| {
            (
                m.individual_log_likelihood(c.x[i], c.tx[i], c.t[i]),
                m.probability_alive(c.x[i], c.tx[i], c.t[i]),
            )
        })
        .unwrap();
    for (i, ((ll_g, alive_g), (ll_p, alive_p))) in pairs.iter().zip(&theirs).enumerate() {
        assert!((ll_g - ll_p).abs() < 1e-6, "customer {i}: {ll_g} vs {ll_p}");
        assert!(
            (alive_g - alive_p).abs() < 1e-6,
            "customer {i}: {alive_g} vs {alive_p}"
        );
    }
}

/// A fit with `log_first_spend` in both processes converges, and its
/// log-likelihood is at least the plain fit's and the Pareto/NBD's with the
/// same covariate (CLVTools: −9571.98), which it nests.
#[test]
fn cdnow_fit_with_first_spend_converges_above_the_plain_fit() {
    let c = cdnow();
    let design =
        CovariateDesign::new::<GGomNBD>(&["log_first_spend".to_string()], &[vec![0], vec![0]], &[])
            .unwrap();
    let data = CovariateData::new(&c.x, &c.tx, &c.t, None, &c.log_first_spend, design).unwrap();
    let plain = fit::<GGomNBD>(data.without_covariates(), &FitOptions::default()).unwrap();
    let with = fit::<WithCovariates<GGomNBD>>(&data, &FitOptions::default()).unwrap();
    let (ll, ll_plain) = (with.log_likelihood(), plain.log_likelihood());
    assert!(ll >= ll_plain, "{ll} < {ll_plain}");
    assert!(ll >= -9571.98206262848 - 1e-3, "{ll}");
    // The purchase coefficient is CLVTools' Pareto/NBD one (the fit is on the
    // Pareto/NBD limit here), well away from 0.
    let gamma = with.model.coefficients()[0];
    assert!(
        (gamma - 0.3645).abs() < 0.02,
        "purchase coefficient {gamma}"
    );
}

/// `n` customers of `truth` with one binary and one standard normal covariate
/// in each process, simulated customer by customer.
fn simulate(truth: &WithCovariates<GGomNBD>, n: usize, seed: u64) -> CovariateData {
    let ages = common::recovery::cohort_ages(n);
    let mut state = seed;
    let mut uniform = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let z: Vec<f64> = (0..n)
        .flat_map(|i| {
            let (u1, u2) = (uniform(), uniform());
            let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            [(i % 2) as f64, normal]
        })
        .collect();
    let sims = truth.simulate(&ages, &z, seed).unwrap();
    let x: Vec<f64> = sims.iter().map(|c| c.frequency).collect();
    let tx: Vec<f64> = sims.iter().map(|c| c.recency).collect();
    let t: Vec<f64> = sims.iter().map(|c| c.age).collect();
    CovariateData::new(&x, &tx, &t, None, &z, truth.design().clone()).unwrap()
}

/// Simulate-then-refit: a GGom/NBD with a rising hazard (b = 0.05 per week)
/// and one binary and one normal covariate per process; every estimate,
/// coefficients included, within 3 standard errors of the truth.
#[test]
fn simulated_coefficients_are_recovered() {
    let columns = ["binary".to_string(), "normal".to_string()];
    let design = CovariateDesign::new::<GGomNBD>(&columns, &[vec![0, 1], vec![0, 1]], &[]).unwrap();
    let truth = WithCovariates::new(
        GGomNBD::new(0.8, 8.0, 0.05, 1.0, 2.0).unwrap(),
        design,
        vec![0.5, -0.3, 0.4, 0.25],
    )
    .unwrap();
    let data = simulate(&truth, 20_000, 5);
    let fitted = fit::<WithCovariates<GGomNBD>>(&data, &FitOptions::default()).unwrap();
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

/// A saved fit loads by its name (`GGomNBDCovariates`) with its coefficients,
/// and never as the plain model.
#[test]
fn a_saved_covariate_model_loads_with_its_coefficients() {
    let c = cdnow();
    let data = cdnow_data(&c, true);
    let model = WithCovariates::new(
        GGomNBD::new(0.6, 30.0, 0.04, 0.7, 0.8).unwrap(),
        data.design().clone(),
        vec![0.2, 0.3],
    )
    .unwrap();
    assert_eq!(
        model.param_names(),
        [
            "r",
            "alpha",
            "b",
            "s",
            "beta",
            "purchase:noise",
            "shared:log_first_spend"
        ]
    );
    let fitted = retentionkit::Fitted::<WithCovariates<GGomNBD>>::from_model(model.clone());
    let json = fitted.to_json();
    assert!(json.contains("\"GGomNBDCovariates\""), "{json}");
    let loaded = retentionkit::Fitted::<WithCovariates<GGomNBD>>::from_json(&json).unwrap();
    assert_eq!(loaded.model.to_vec(), model.to_vec());
    assert_eq!(loaded.model.param_names(), model.param_names());
    assert!(retentionkit::Fitted::<GGomNBD>::from_json(&json).is_err());
}

// -- the conditional P(Y(t) = n | x, t_x, T) ----------------------------------

const HISTORIES: [(f64, f64, f64); 5] = [
    (0.0, 0.0, 38.86),
    (2.0, 30.43, 38.86),
    (7.0, 10.0, 52.0),
    (30.0, 60.0, 60.0),
    (1.0, 1.71, 38.86),
];

/// Σₙ P(n) = 1 to 1e-9 and Σₙ n P(n) = E[Y(t) | x, t_x, T], in the regimes of
/// the model (hazard rising and falling, strongly or hardly curved).
#[test]
fn conditional_probabilities_sum_to_one_with_the_conditional_mean() {
    let models = [
        GGomNBD::new(0.55, 10.6, 0.05, 0.6, 0.5).unwrap(),
        GGomNBD::new(0.55, 10.6, 0.2, 0.6, 5.0).unwrap(),
        GGomNBD::new(1.3, 4.0, 0.002, 1.7, 0.02).unwrap(),
        GGomNBD::new(0.8, 8.0, 0.05, 1.0, 2.0).unwrap(),
    ];
    for m in models {
        for (x, tx, t) in HISTORIES {
            for horizon in [5.0, 39.0, 104.0] {
                let (mut total, mut mean) = (0.0, 0.0);
                let mut n = 0.0;
                // Up to where the tail is negligible (P(n) < 1e-18 and falling).
                loop {
                    let p = m.conditional_probability_of_purchases(n, horizon, x, tx, t);
                    assert!((0.0..=1.0).contains(&p), "{m:?} n={n}: {p}");
                    total += p;
                    mean += n * p;
                    n += 1.0;
                    if (p < 1e-18 && n > 10.0) || n > 5000.0 {
                        break;
                    }
                }
                let expected = m.conditional_expected_purchases(horizon, x, tx, t);
                assert!(
                    (total - 1.0).abs() < 1e-9,
                    "{m:?} ({x}, {tx}, {t}) t={horizon}: sum {total}"
                );
                assert!(
                    (mean - expected).abs() < 1e-8 * expected.max(1.0),
                    "{m:?} ({x}, {tx}, {t}) t={horizon}: mean {mean} vs {expected}"
                );
            }
        }
    }
}

/// As b → 0 with β/b fixed the conditional P(n) is the Pareto/NBD's.
#[test]
fn conditional_probabilities_approach_the_pareto_nbd() {
    let (r, alpha, s, beta) = (0.553, 10.578, 0.606, 11.669);
    let pnbd = ParetoNBD::new(r, alpha, s, beta).unwrap();
    let b = 1e-9;
    let ggom = GGomNBD::new(r, alpha, b, s, beta * b).unwrap();
    for (x, tx, t) in HISTORIES {
        for n in [0.0, 1.0, 2.0, 5.0] {
            let ours = ggom.conditional_probability_of_purchases(n, 39.0, x, tx, t);
            let theirs = pnbd.conditional_probability_of_purchases(n, 39.0, x, tx, t);
            assert!(
                (ours - theirs).abs() < 1e-6 * theirs.max(1e-3),
                "({x}, {tx}, {t}) n={n}: {ours} vs {theirs}"
            );
        }
    }
}

/// Simulation: customers simulated to T and, with the same random numbers, to
/// T + t (so the same customers: the same rate, lifetime and purchase times);
/// of those without repeat purchases by T (x = t_x = 0), the share with n
/// purchases in (T, T+t] is P(Y(t) = n | 0, 0, T) within 4 binomial standard
/// errors.
#[test]
fn conditional_probabilities_match_a_simulation() {
    let m = GGomNBD::new(0.8, 8.0, 0.05, 1.0, 2.0).unwrap();
    let (age, horizon) = (30.0, 26.0);
    let customers = 200_000;
    let mut counts = [0.0f64; 8];
    let mut kept = 0.0;
    for i in 0..customers {
        let mut rng = ChaCha8Rng::seed_from_u64(i);
        let before = m.simulate_customer(age, &mut rng);
        if before.frequency > 0.0 {
            continue;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(i);
        let after = m.simulate_customer(age + horizon, &mut rng);
        let n = (after.frequency - before.frequency) as usize;
        kept += 1.0;
        if n < counts.len() {
            counts[n] += 1.0;
        }
    }
    assert!(kept > 50_000.0, "{kept} customers without repeat purchases");
    for (n, count) in counts.iter().enumerate() {
        let p = m.conditional_probability_of_purchases(n as f64, horizon, 0.0, 0.0, age);
        let share = count / kept;
        let se = (p * (1.0 - p) / kept).sqrt();
        assert!(
            (share - p).abs() < 4.0 * se + 1e-4,
            "n={n}: simulated {share} vs {p} (se {se})"
        );
    }
}

/// The batch function checks its inputs (naming the row) and agrees with
/// the per-customer value.
#[test]
fn the_batch_conditional_probability_checks_its_inputs() {
    let m = GGomNBD::new(0.55, 10.6, 0.05, 0.6, 0.5).unwrap();
    let out = retentionkit::ggom_nbd::conditional_probability_of_purchases(
        &m,
        &[0.0, 1.0],
        &[39.0, 39.0],
        &[2.0, 0.0],
        &[30.43, 0.0],
        &[38.86, 20.0],
    )
    .unwrap();
    assert_eq!(
        out[0],
        m.conditional_probability_of_purchases(0.0, 39.0, 2.0, 30.43, 38.86)
    );
    let bad = retentionkit::ggom_nbd::conditional_probability_of_purchases(
        &m,
        &[0.0, 1.5],
        &[39.0, 39.0],
        &[2.0, 0.0],
        &[30.43, 0.0],
        &[38.86, 20.0],
    );
    match bad {
        Err(retentionkit::Error::InvalidData { row, rule, .. }) => {
            assert_eq!(row, 1);
            assert!(rule.contains("n must be"), "{rule}");
        }
        other => panic!("{other:?}"),
    }
}

/// Numerical extremes (thousands of purchases, bT in the thousands, b near 0,
/// horizons of a million) give probabilities in [0, 1], never NaN.
#[test]
fn conditional_probabilities_are_finite_at_extremes() {
    for params in [
        [0.55, 10.6, 0.5, 0.6, 0.5],
        [0.55, 10.6, 1e-8, 0.6, 1e-9],
        [50.0, 0.01, 2.0, 30.0, 100.0],
    ] {
        let m = GGomNBD::from_slice(&params).unwrap();
        for (n, t, x, tx, age) in [
            (0.0, 1e4, 2000.0, 999.0, 1000.0),
            (3.0, 1e4, 2000.0, 999.0, 1000.0),
            (5000.0, 10.0, 5000.0, 50.0, 50.0),
            (0.0, 0.0, 0.0, 0.0, 0.0),
            (1.0, 39.0, 0.0, 0.0, 0.0),
            (0.0, 1e6, 1.0, 1.0, 500.0),
        ] {
            let p = m.conditional_probability_of_purchases(n, t, x, tx, age);
            assert!(
                (0.0..=1.0).contains(&p),
                "{params:?} ({n}, {t}, {x}, {tx}, {age}): {p}"
            );
        }
    }
}
