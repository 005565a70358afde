//! Customers first seen at the end of observation (x = t_x = T = 0) and the
//! inputs predictions accept (x = 0 with t_x > 0), for every (x, t_x, T)
//! model and the BG/BB (n = 0).
//!
//! A T = 0 customer has likelihood exactly 1 and carries no information, so
//! adding any number of them changes neither the log-likelihood nor the
//! estimates (property test); their predictions follow each model's formula.

mod common;

use common::{assert_close, cdnow_summary};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Gamma, Poisson};
use retentionkit::bgbb::{self, BetaGeoBetaBinom};
use retentionkit::hyp2f1::hyp2f1;
use retentionkit::intervals::{probability_alive_interval, IntervalOptions};
use retentionkit::{
    customer_lifetime_value, fit, predict, BetaGeo, ClvOptions, CustomerData, Derivatives, Error,
    FitOptions, Fitted, Model, ModifiedBetaGeo, ParetoNBD, TransactionModel,
};

fn bgnbd() -> BetaGeo {
    BetaGeo::new(0.243, 4.414, 0.793, 2.426).unwrap()
}

fn mbgnbd() -> ModifiedBetaGeo {
    ModifiedBetaGeo::new(0.525, 6.183, 0.891, 1.614).unwrap()
}

fn pnbd() -> ParetoNBD {
    ParetoNBD::new(0.553, 10.578, 0.606, 11.669).unwrap()
}

fn bgbb_model() -> BetaGeoBetaBinom {
    BetaGeoBetaBinom::new(1.204, 0.750, 0.657, 2.783).unwrap()
}

/// The CDNOW summary with `k` customers of T = 0 inserted at spread positions.
fn with_new_customers(k: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (mut x, mut tx, mut t) = cdnow_summary();
    for j in 0..k {
        let at = (j * 7919) % (x.len() + 1);
        x.insert(at, 0.0);
        tx.insert(at, 0.0);
        t.insert(at, 0.0);
    }
    (x, tx, t)
}

/// ln L(0, 0, 0) is exactly 0 for every model.
#[test]
fn new_customer_log_likelihood_is_exactly_zero() {
    assert_eq!(bgnbd().individual_log_likelihood(0.0, 0.0, 0.0), 0.0);
    assert_eq!(mbgnbd().individual_log_likelihood(0.0, 0.0, 0.0), 0.0);
    assert_eq!(pnbd().individual_log_likelihood(0.0, 0.0, 0.0), 0.0);
    assert_eq!(bgbb_model().individual_log_likelihood(0.0, 0.0, 0.0), 0.0);
    let ll = predict::individual_log_likelihood(&mbgnbd(), &[0.0, 1.0], &[0.0, 2.0], &[0.0, 3.0])
        .unwrap();
    assert_eq!(ll[0], 0.0);
    // The general formula tends to 0 as T → 0 (no jump at the short cut).
    for ll in [
        bgnbd().individual_log_likelihood(0.0, 0.0, 1e-12),
        mbgnbd().individual_log_likelihood(0.0, 0.0, 1e-12),
        pnbd().individual_log_likelihood(0.0, 0.0, 1e-12),
    ] {
        assert!(ll.abs() < 1e-11, "{ll}");
    }
}

/// The weighted log-likelihood, its gradient and Hessian over data with
/// T = 0 customers are those over the data without them, bit for bit.
fn assert_same_evaluation<M: Model<Data = retentionkit::CompressedData>>(model: &M) {
    let (x, tx, t) = cdnow_summary();
    let plain = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    let (x, tx, t) = with_new_customers(68);
    let extended = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    assert_eq!(extended.new_customers, 68.0);
    assert_eq!(extended.total_weight, plain.total_weight);
    assert_eq!(
        model.evaluate(&plain, Derivatives::Hessian),
        model.evaluate(&extended, Derivatives::Hessian)
    );
}

#[test]
fn new_customers_leave_the_likelihood_unchanged() {
    assert_same_evaluation(&bgnbd());
    assert_same_evaluation(&mbgnbd());
    assert_same_evaluation(&pnbd());
}

fn fit_both<M: Model<Data = retentionkit::CompressedData>>(
    k: usize,
    weight: f64,
    options: &FitOptions,
) -> (Fitted<M>, Fitted<M>) {
    let (x, tx, t) = cdnow_summary();
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    let plain = fit::<M>(&data, options).unwrap();
    let (x, tx, t) = with_new_customers(k);
    let w: Vec<f64> = t
        .iter()
        .map(|&t| if t == 0.0 { weight } else { 1.0 })
        .collect();
    let data = CustomerData::new(&x, &tx, &t, Some(&w)).unwrap().compress();
    (plain, fit::<M>(&data, options).unwrap())
}

fn assert_same_fit<M: Model>(plain: &Fitted<M>, extended: &Fitted<M>) {
    for (a, b) in plain.params().iter().zip(extended.params()) {
        assert_close(b, *a, 1e-13, "estimate");
    }
    assert_close(
        extended.log_likelihood(),
        plain.log_likelihood(),
        1e-13,
        "LL",
    );
    assert_close(extended.bic(), plain.bic(), 1e-13, "BIC");
    let (a, b) = (
        plain.info.as_ref().unwrap(),
        extended.info.as_ref().unwrap(),
    );
    assert_eq!(a.n_customers, b.n_customers);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Appending any number of T = 0 customers, with any weights and with or
    /// without a penalty, never changes a fit.
    #[test]
    fn appending_new_customers_never_changes_a_fit(
        k in 1usize..400,
        weight in 0.5f64..50.0,
        penalized in any::<bool>(),
    ) {
        let options = FitOptions {
            penalizer_coef: if penalized { 0.01 } else { 0.0 },
            ..FitOptions::default()
        };
        let (a, b) = fit_both::<BetaGeo>(k, weight, &options);
        assert_same_fit(&a, &b);
        let (a, b) = fit_both::<ModifiedBetaGeo>(k, weight, &options);
        assert_same_fit(&a, &b);
        let (a, b) = fit_both::<ParetoNBD>(k, weight, &options);
        assert_same_fit(&a, &b);
    }
}

/// BG/BB: n = 0 customers are valid and carry no information either.
#[test]
fn bgbb_customers_without_opportunities_change_nothing() {
    let (x, tx, n) = (
        vec![0.0, 1.0, 3.0, 2.0, 5.0, 0.0, 4.0],
        vec![0.0, 3.0, 6.0, 4.0, 6.0, 0.0, 5.0],
        vec![6.0, 6.0, 6.0, 5.0, 6.0, 3.0, 6.0],
    );
    let w = vec![300.0, 120.0, 80.0, 60.0, 50.0, 200.0, 90.0];
    let plain = bgbb::bgbb_data(&x, &tx, &n, Some(&w)).unwrap();
    let (mut x2, mut tx2, mut n2, mut w2) = (x.clone(), tx.clone(), n.clone(), w.clone());
    x2.push(0.0);
    tx2.push(0.0);
    n2.push(0.0);
    w2.push(40.0);
    let extended = bgbb::bgbb_data(&x2, &tx2, &n2, Some(&w2)).unwrap();
    assert_eq!(extended.new_customers, 40.0);
    let model = bgbb_model();
    assert_eq!(
        model.evaluate(&plain, Derivatives::Hessian),
        model.evaluate(&extended, Derivatives::Hessian)
    );
    let options = FitOptions {
        require_convergence: false,
        ..FitOptions::default()
    };
    let a = fit::<BetaGeoBetaBinom>(&plain, &options).unwrap();
    let b = fit::<BetaGeoBetaBinom>(&extended, &options).unwrap();
    assert_same_fit(&a, &b);
    // Predictions at n = 0: alive at opportunity 0, so P(alive at 1) = δ/(γ+δ),
    // and the expected transactions are a new customer's.
    let (g, d) = (model.gamma(), model.delta());
    let alive = bgbb::probability_alive_many(&model, &[0.0], &[0.0], &[0.0]).unwrap();
    assert_close(alive[0], d / (g + d), 1e-14, "BG/BB P(alive) at n = 0");
    let e = bgbb::conditional_expected_transactions_many(&model, &[5.0], &[0.0], &[0.0], &[0.0])
        .unwrap();
    assert_close(
        e[0],
        model.expected_number_of_transactions(5.0),
        1e-13,
        "BG/BB E at n = 0",
    );
    let sims = bgbb::simulate_many(&model, &[0.0; 3], 1).unwrap();
    assert!(sims.iter().all(|c| c.frequency == 0.0 && c.alive));
}

/// E[X(t)] of MBG/NBD, Batislam et al. (2007):
/// b/(a−1) [1 − (α/(α+t))^r ₂F₁(r, b+1; a+b; t/(α+t))].
fn mbgnbd_expected(m: &ModifiedBetaGeo, t: f64) -> f64 {
    let (r, alpha, a, b) = (m.r(), m.alpha(), m.a(), m.b());
    b / (a - 1.0)
        * (1.0 - (alpha / (alpha + t)).powf(r) * hyp2f1(r, b + 1.0, a + b, t / (alpha + t)))
}

/// Predictions at T = 0 against each model's formula.
#[test]
fn predictions_for_new_customers_follow_the_formulas() {
    let (bg, mbg, pn) = (bgnbd(), mbgnbd(), pnbd());
    let zero = [0.0];
    // P(alive | 0, 0, 0): 1 for BG/NBD and Pareto/NBD, b/(a+b) for MBG/NBD.
    assert_eq!(
        predict::probability_alive(&bg, &zero, &zero, &zero).unwrap()[0],
        1.0
    );
    assert_eq!(
        predict::probability_alive(&pn, &zero, &zero, &zero).unwrap()[0],
        1.0
    );
    let p = predict::probability_alive(&mbg, &zero, &zero, &zero).unwrap()[0];
    assert_close(
        p,
        mbg.b() / (mbg.a() + mbg.b()),
        1e-15,
        "MBG/NBD P(alive | 0, 0, 0)",
    );
    for t in [0.5, 13.0, 39.0, 200.0] {
        // E[Y(t) | 0, 0, 0] is the expectation of a customer who has just made a
        // first purchase: E[X(t)], whose MBG/NBD form is b/(a+b) (alive after the
        // first purchase) times the BG/NBD form at (a, b+1).
        let h = [t];
        let e_bg =
            predict::conditional_expected_purchases(&bg, &h, &zero, &zero, &zero).unwrap()[0];
        assert_close(e_bg, bg.expected_purchases(t), 1e-13, "BG/NBD E[Y | 0,0,0]");
        let e_m =
            predict::conditional_expected_purchases(&mbg, &h, &zero, &zero, &zero).unwrap()[0];
        assert_close(e_m, mbgnbd_expected(&mbg, t), 1e-11, "MBG/NBD E[Y | 0,0,0]");
        let (a, b) = (mbg.a(), mbg.b());
        let alive_after_first = (a + b) / (a - 1.0)
            * (1.0
                - (mbg.alpha() / (mbg.alpha() + t)).powf(mbg.r())
                    * hyp2f1(mbg.r(), b + 1.0, a + b, t / (mbg.alpha() + t)));
        assert_close(
            e_m,
            b / (a + b) * alive_after_first,
            1e-11,
            "MBG/NBD factor b/(a+b)",
        );
        let e_p = predict::conditional_expected_purchases(&pn, &h, &zero, &zero, &zero).unwrap()[0];
        let (r, al, s, be) = (pn.r(), pn.alpha(), pn.s(), pn.beta());
        let expected = r * be / (al * (s - 1.0)) * (1.0 - (be / (be + t)).powf(s - 1.0));
        assert_close(e_p, expected, 1e-12, "Pareto/NBD E[Y | 0,0,0], eq. (17)");
    }
    // DERT: each model's fast route against the quadrature of E[Y(t) | 0, 0, 0].
    let delta = 0.003;
    for (fast, slow) in [
        (
            bg.discounted_expected_residual_transactions(delta, 0.0, 0.0, 0.0),
            retentionkit::dert::dert_by_quadrature(&bg, delta, 0.0, 0.0, 0.0),
        ),
        (
            mbg.discounted_expected_residual_transactions(delta, 0.0, 0.0, 0.0),
            retentionkit::dert::dert_by_quadrature(&mbg, delta, 0.0, 0.0, 0.0),
        ),
        (
            pn.discounted_expected_residual_transactions(delta, 0.0, 0.0, 0.0),
            retentionkit::dert::dert_by_quadrature(&pn, delta, 0.0, 0.0, 0.0),
        ),
    ] {
        assert_close(fast, slow, 1e-8 * slow, "DERT at T = 0");
    }
    let rates = [delta, delta];
    let dert = retentionkit::dert::discounted_expected_residual_transactions(
        &pn,
        &rates,
        &[0.0, 0.0],
        &[0.0, 0.0],
        &[0.0, 0.0],
    )
    .unwrap();
    assert!(dert[0] > 0.0 && dert[0].is_finite());
    // CLV: a T = 0 customer is valued as a new customer, between the values of
    // customers of other ages with the same (empty) history.
    let clv = customer_lifetime_value(
        &bg,
        &[0.0, 0.0],
        &[0.0, 0.0],
        &[0.0, 30.0],
        &[10.0, 10.0],
        &ClvOptions::default(),
    )
    .unwrap();
    assert!(clv[0] > clv[1] && clv[1] > 0.0);
    // Simulation at age 0: no purchase; MBG/NBD customers alive with
    // probability b/(a+b).
    let sims = predict::simulate(&mbg, &vec![0.0; 40_000], 5).unwrap();
    assert!(sims.iter().all(|c| c.frequency == 0.0 && c.recency == 0.0));
    let alive = sims.iter().filter(|c| c.alive).count() as f64 / 40_000.0;
    let p = mbg.b() / (mbg.a() + mbg.b());
    assert!(
        (alive - p).abs() < 5.0 * (p * (1.0 - p) / 40_000.0f64).sqrt(),
        "{alive} vs {p}"
    );
}

/// Intervals accept T = 0 customers.
#[test]
fn intervals_accept_new_customers() {
    let (x, tx, t) = with_new_customers(5);
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    let fitted = fit::<BetaGeo>(&data, &FitOptions::default()).unwrap();
    let options = IntervalOptions {
        n_draws: 50,
        ..IntervalOptions::default()
    };
    let out = probability_alive_interval(&fitted, &[0.0], &[0.0], &[0.0], &options).unwrap();
    assert_eq!(out.estimate[0], 1.0);
}

/// Predictions accept x = 0 with t_x > 0 (as `lifetimes` does): the BG
/// family ignores t_x, the Pareto/NBD uses it. Fits refuse such rows, and
/// x > 0 at T = 0.
#[test]
fn prediction_and_fit_rules() {
    let (x, tx, t) = ([0.0, 0.0], [0.0, 12.0], [30.0, 30.0]);
    let bg = predict::probability_alive(&bgnbd(), &x, &tx, &t).unwrap();
    assert_eq!(bg, vec![1.0, 1.0]);
    let m = predict::probability_alive(&mbgnbd(), &x, &tx, &t).unwrap();
    assert_eq!(m[0], m[1]);
    let e = predict::conditional_expected_purchases(&mbgnbd(), &[10.0; 2], &x, &tx, &t).unwrap();
    assert_eq!(e[0], e[1]);
    let p = predict::probability_alive(&pnbd(), &x, &tx, &t).unwrap();
    assert!(p[0] < p[1] && p[1] < 1.0, "{p:?}");
    let fit_rule = |x: &[f64], tx: &[f64], t: &[f64]| match CustomerData::new(x, tx, t, None) {
        Err(Error::InvalidData {
            rule, row, column, ..
        }) => (rule, row, column),
        other => panic!("expected an error, got {other:?}"),
    };
    let (rule, row, column) = fit_rule(&[1.0, 0.0], &[2.0, 12.0], &[30.0, 30.0]);
    assert_eq!(
        (rule, row, column),
        ("recency must be 0 when frequency is 0", 1, Some("recency"))
    );
    let (rule, row, column) = fit_rule(&[1.0, 0.0, 2.0], &[2.0, 0.0, 0.0], &[30.0, 0.0, 0.0]);
    assert!(
        rule.starts_with("frequency must be 0 when T is 0"),
        "{rule}"
    );
    assert_eq!((row, column), (2, Some("frequency")));
    let (rule, _, column) = fit_rule(&[0.0, 0.0], &[0.0, 0.0], &[0.0, 0.0]);
    assert!(rule.contains("T > 0"), "{rule}");
    assert_eq!(column, Some("T"));
    // Predictions still refuse what no formula is defined on.
    assert!(predict::probability_alive(&pnbd(), &[0.0], &[0.0], &[-1.0]).is_err());
    assert!(predict::probability_alive(&pnbd(), &[1.0], &[3.0], &[2.0]).is_err());
    assert!(predict::simulate(&pnbd(), &[-1.0], 1).is_err());
}

/// The conditional PMF of the Pareto/NBD sums to 1 over n.
#[test]
fn pareto_conditional_pmf_sums_to_one() {
    let m = pnbd();
    for (x, tx, age) in [
        (2.0, 30.43, 38.86),
        (0.0, 0.0, 38.86),
        (0.0, 0.0, 0.0),
        (0.0, 10.0, 38.86),
        (25.0, 38.0, 38.5),
    ] {
        for t in [0.5, 39.0, 150.0] {
            let total: f64 = (0..3000)
                .map(|n| m.conditional_probability_of_purchases(n as f64, t, x, tx, age))
                .sum();
            assert!(
                (total - 1.0).abs() < 1e-10,
                "({x}, {tx}, {age}), t={t}: {total}"
            );
        }
    }
    // At T = 0 it is the PMF of a new customer.
    for n in 0..6 {
        let n = n as f64;
        assert_close(
            m.conditional_probability_of_purchases(n, 39.0, 0.0, 0.0, 0.0),
            m.probability_of_purchases(39.0, n),
            1e-14,
            "P(Y = n | 0, 0, 0)",
        );
    }
    let batch = predict::pareto_nbd_conditional_probability_of_purchases(
        &m,
        &[0.0, 1.0],
        &[39.0, 39.0],
        &[2.0, 2.0],
        &[30.43, 30.43],
        &[38.86, 38.86],
    )
    .unwrap();
    assert_eq!(
        batch[1],
        m.conditional_probability_of_purchases(1.0, 39.0, 2.0, 30.43, 38.86)
    );
    assert!(predict::pareto_nbd_conditional_probability_of_purchases(
        &m,
        &[0.5],
        &[39.0],
        &[2.0],
        &[30.43],
        &[38.86]
    )
    .is_err());
}

/// The conditional PMF against a simulation that does not use its
/// derivation: (λ, μ) drawn from the prior and weighted by the individual
/// likelihood of the history, λˣ [e^{−(λ+μ)T} + μ/(λ+μ) (e^{−(λ+μ)t_x} − e^{−(λ+μ)T})];
/// given (λ, μ) the customer is alive at T with probability
/// λˣ e^{−(λ+μ)T} / L, then buys as a Poisson process until an exponential
/// death. The weighted frequencies of Y(t) = n match within 5 standard errors.
#[test]
fn pareto_conditional_pmf_matches_a_simulation() {
    let m = pnbd();
    let (x, tx, age, t) = (2.0, 30.43, 38.86, 39.0);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let lambda_prior = Gamma::new(m.r(), 1.0 / m.alpha()).unwrap();
    let mu_prior = Gamma::new(m.s(), 1.0 / m.beta()).unwrap();
    let draws = 400_000;
    let mut weights = [0.0; 6];
    let (mut total, mut total_sq) = (0.0, 0.0);
    for _ in 0..draws {
        let (lambda, mu): (f64, f64) = (lambda_prior.sample(&mut rng), mu_prior.sample(&mut rng));
        let k = lambda + mu;
        let alive_part = lambda.powf(x) * (-k * age).exp();
        let dead_part = lambda.powf(x) * mu / k * ((-k * tx).exp() - (-k * age).exp());
        let w = alive_part + dead_part;
        if w == 0.0 {
            continue;
        }
        let alive = rand::Rng::random::<f64>(&mut rng) < alive_part / w;
        let n = if alive {
            let life = Exp::new(mu).unwrap().sample(&mut rng).min(t);
            if lambda * life > 0.0 {
                Poisson::new(lambda * life).unwrap().sample(&mut rng) as usize
            } else {
                0
            }
        } else {
            0
        };
        total += w;
        total_sq += w * w;
        if n < weights.len() {
            weights[n] += w;
        }
    }
    let ess = total * total / total_sq;
    for (n, &wn) in weights.iter().enumerate() {
        let simulated = wn / total;
        let exact = m.conditional_probability_of_purchases(n as f64, t, x, tx, age);
        let se = (exact * (1.0 - exact) / ess).sqrt();
        assert!(
            (simulated - exact).abs() < 5.0 * se + 1e-4,
            "n={n}: simulated {simulated}, formula {exact}, se {se} (ess {ess:.0})"
        );
    }
}
