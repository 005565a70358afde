//! MBG/CNBD-k (Platzer & Reutterer 2016): the k = 1 identity with MBG/NBD,
//! the likelihood against direct numerical integration for k = 2, 3, the
//! analytic gradient against differences, k recovery by simulate-then-refit,
//! and the predictions against simulation.

mod common;

use common::{assert_close, cdnow_summary};
use rand::SeedableRng;
use rand_distr::{Beta, Distribution, Gamma};
use retentionkit::mbgcnbd::{fit_k, select_k, CnbdData, MbgCnbdK};
use retentionkit::{fit, CustomerData, FitOptions, ModifiedBetaGeo, TransactionModel};

/// ln Γ by the crate's special functions.
fn ln_gamma(x: f64) -> f64 {
    retentionkit::special::ln_gamma(x)
}

/// k = 1 is MBG/NBD: the same log-likelihood (whatever litt), P(alive),
/// conditional and unconditional expectations, and the same CDNOW fit.
#[test]
fn k_equal_one_is_mbgnbd() {
    let (r, alpha, a, b) = (0.243, 4.414, 0.793, 2.426);
    let ours = MbgCnbdK::new(r, alpha, a, b, 1).unwrap();
    let mbg = ModifiedBetaGeo::new(r, alpha, a, b).unwrap();
    let cases: [(f64, f64, f64); 5] = [
        (0.0, 0.0, 38.0),
        (1.0, 2.0, 38.0),
        (2.0, 30.43, 38.86),
        (7.0, 35.0, 39.0),
        (40.0, 38.0, 39.0),
    ];
    for &(x, t_x, t) in &cases {
        let litt = if x > 0.0 {
            x * (t_x / x).ln() - 0.3
        } else {
            0.0
        };
        assert_close(
            ours.individual_log_likelihood(x, t_x, t, litt),
            mbg.individual_log_likelihood(x, t_x, t),
            1e-12,
            "log-likelihood",
        );
        assert_close(
            ours.probability_alive(x, t_x, t),
            mbg.probability_alive(x, t_x, t),
            1e-13,
            "P(alive)",
        );
        for horizon in [1.0, 10.0, 52.0] {
            let want = mbg.conditional_expected_purchases(horizon, x, t_x, t);
            assert_close(
                ours.conditional_expected_purchases(horizon, x, t_x, t),
                want,
                1e-10 * want.max(1e-3),
                "conditional expected purchases",
            );
        }
    }
    for horizon in [0.5, 10.0, 100.0] {
        let want = mbg.expected_purchases(horizon);
        assert_close(
            ours.expected_purchases(horizon),
            want,
            1e-10 * want,
            "E[X(t)]",
        );
    }

    let (x, tx, t) = cdnow_summary();
    let litt: Vec<f64> = x
        .iter()
        .zip(&tx)
        .map(|(&x, &tx)| if x > 0.0 { x * (tx / x).ln() } else { 0.0 })
        .collect();
    let options = FitOptions::default();
    let mbg_fit = fit::<ModifiedBetaGeo>(
        &CustomerData::new(&x, &tx, &t, None).unwrap().compress(),
        &options,
    )
    .unwrap();
    let data = CnbdData::new(1, &x, &tx, &t, &litt, None).unwrap();
    let ours = fit_k(&data, 1, &options).unwrap();
    assert_eq!(ours.model.k, 1);
    assert_close(
        ours.log_likelihood(),
        mbg_fit.log_likelihood(),
        1e-6,
        "CDNOW log-likelihood",
    );
    for (p, q) in ours.params().iter().zip(mbg_fit.params()) {
        assert_close(*p, q, 1e-5 * q, "CDNOW parameter");
    }
}

/// ∫₀^∞ f(λ) dλ by the trapezoid rule in u = ln λ (spectrally accurate for
/// the smooth, doubly exponentially decaying integrands here).
fn integrate_log_scale(f: impl Fn(f64) -> f64) -> f64 {
    let (lo, hi, n) = (-40.0f64, 8.0f64, 40_000);
    let h = (hi - lo) / n as f64;
    (0..=n)
        .map(|j| {
            let u = lo + j as f64 * h;
            let w = if j == 0 || j == n { 0.5 } else { 1.0 };
            w * f(u.exp()) * u.exp()
        })
        .sum::<f64>()
        * h
}

/// The likelihood from the model's assumptions, integrated numerically over
/// λ and p (no closed form used): L = C [E_p(p(1−p)ˣ) ∫ λ^{kx} e^{−λt_x} g(λ)
/// + E_p((1−p)^{x+1}) ∫ λ^{kx} e^{−λt_x} Sₖ(T−t_x) g(λ)].
fn likelihood_by_quadrature(m: &MbgCnbdK, x: f64, t_x: f64, t: f64, litt: f64) -> f64 {
    let k = m.k;
    let kf = f64::from(k);
    let ln_norm_gamma = m.r * m.alpha.ln() - ln_gamma(m.r);
    let gamma_density = |l: f64| (ln_norm_gamma + (m.r - 1.0) * l.ln() - m.alpha * l).exp();
    let survival = |l: f64, u: f64| {
        (0..k)
            .map(|i| (-l * u + f64::from(i) * (l * u).ln() - ln_gamma(f64::from(i) + 1.0)).exp())
            .sum::<f64>()
    };
    let purchases = |l: f64| (kf * x * l.ln() - l * t_x).exp();
    let dropped = integrate_log_scale(|l| purchases(l) * gamma_density(l));
    let alive = integrate_log_scale(|l| purchases(l) * survival(l, t - t_x) * gamma_density(l));
    // Beta expectations by the trapezoid rule in the logit of p.
    let ln_beta = ln_gamma(m.a) + ln_gamma(m.b) - ln_gamma(m.a + m.b);
    let beta_mean = |f: &dyn Fn(f64) -> f64| {
        let (lo, hi, n) = (-60.0f64, 60.0f64, 40_000);
        let h = (hi - lo) / n as f64;
        (0..=n)
            .map(|j| {
                let v = lo + j as f64 * h;
                let p = 1.0 / (1.0 + (-v).exp());
                // dp = p(1−p) dv.
                let dens = (m.a * p.ln() + m.b * (1.0 - p).ln() - ln_beta).exp();
                let w = if j == 0 || j == n { 0.5 } else { 1.0 };
                w * f(p) * dens
            })
            .sum::<f64>()
            * h
    };
    let e_drop = beta_mean(&|p| p * (1.0 - p).powf(x));
    let e_stay = beta_mean(&|p| (1.0 - p).powf(x + 1.0));
    let c = ((kf - 1.0) * litt - x * ln_gamma(kf)).exp();
    c * (e_drop * dropped + e_stay * alive)
}

#[test]
fn likelihood_matches_quadrature_for_k_2_and_3() {
    for k in [2u32, 3, 5] {
        let m = MbgCnbdK::new(1.3, 2.5, 0.9, 3.1, k).unwrap();
        for &(x, t_x, t, litt) in &[
            (0.0, 0.0, 10.0, 0.0),
            (0.0, 0.0, 0.5, 0.0),
            (1.0, 4.0, 20.0, 4f64.ln()),
            (3.0, 9.0, 12.0, 3.0 * 3f64.ln() - 0.2),
            (6.0, 30.0, 31.0, 6.0 * 5f64.ln() - 1.0),
        ] {
            let want = likelihood_by_quadrature(&m, x, t_x, t, litt).ln();
            let got = m.individual_log_likelihood(x, t_x, t, litt);
            assert!(
                (got - want).abs() < 1e-8 * want.abs().max(1.0),
                "k = {k}, ({x}, {t_x}, {t}): {got} vs quadrature {want}"
            );
        }
    }
}

/// Simulated histories (x, t_x, T, litt) with ages spread over [20, 40].
fn simulated(truth: &MbgCnbdK, n: usize, seed: u64) -> CnbdData {
    let ages: Vec<f64> = (0..n).map(|i| 20.0 + 20.0 * i as f64 / n as f64).collect();
    let sims = truth.simulate(&ages, seed);
    let col = |f: &dyn Fn(&(retentionkit::SimulatedCustomer, f64)) -> f64| -> Vec<f64> {
        sims.iter().map(f).collect()
    };
    CnbdData::new(
        truth.k,
        &col(&|c| c.0.frequency),
        &col(&|c| c.0.recency),
        &col(&|c| c.0.age),
        &col(&|c| c.1),
        None,
    )
    .unwrap()
}

/// The analytic gradient and Hessian against differences, per customer.
#[test]
fn derivatives_match_differences() {
    for k in [1u32, 2, 4] {
        let truth = MbgCnbdK::new(1.5, 6.0, 0.8, 4.0, k).unwrap();
        let data = simulated(&truth, 400, 7);
        common::assert_derivatives::<MbgCnbdK>(&[1.1, 4.0, 1.2, 3.0], &data);
        common::assert_derivatives::<MbgCnbdK>(&[0.3, 0.5, 0.4, 0.9], &data);
    }
}

/// Simulate-then-refit: the k chosen is the k simulated, and the fit at that
/// k recovers (r, α, a, b) roughly (small samples: CI's sizes; the issue's
/// 50k customers are in bench/).
#[test]
fn refit_recovers_k() {
    let options = FitOptions::default();
    for k in [1u32, 2, 3] {
        // Mean inter-purchase time k E[1/λ] = 3 time units for k = 1, 2, 3 alike.
        let truth = MbgCnbdK::new(3.0, 6.0 / f64::from(k), 0.7, 8.0, k).unwrap();
        let data = simulated(&truth, 4000, 40 + u64::from(k));
        let selection = select_k(&data, 8, &options).unwrap();
        assert_eq!(
            selection.best.model.k, k,
            "simulated k = {k}, profile {:?}",
            selection.profile
        );
        // Stopped once the LL fell twice in a row.
        let n = selection.profile.len();
        assert!(
            n <= k as usize + 2 + 1 && n >= k as usize + 2,
            "{:?}",
            selection.profile
        );
        let p = selection.best.params();
        assert_close(
            p[0] / p[1],
            truth.r / truth.alpha,
            0.15 * truth.r / truth.alpha,
            "E[λ]",
        );
        assert_close(
            p[2] / (p[2] + p[3]),
            truth.a / (truth.a + truth.b),
            0.3 * truth.a / (truth.a + truth.b),
            "E[p]",
        );
    }
}

/// A simulated cohort with its purchases after T: (x, t_x, T, holdout
/// purchases in (T, T + t], alive at T).
fn simulate_with_holdout(
    m: &MbgCnbdK,
    n: usize,
    age: f64,
    horizon: f64,
    seed: u64,
) -> Vec<(f64, f64, f64, bool)> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let rate: f64 = Gamma::new(m.r, 1.0 / m.alpha).unwrap().sample(&mut rng);
            let p: f64 = Beta::new(m.a, m.b).unwrap().sample(&mut rng);
            let gap = Gamma::new(f64::from(m.k), 1.0 / rate).unwrap();
            let (mut t, mut x, mut t_x, mut later) = (0.0, 0.0, 0.0, 0.0);
            let mut alive = rand::Rng::random::<f64>(&mut rng) >= p;
            let mut alive_at_t = alive;
            while alive {
                t += gap.sample(&mut rng);
                if t > age + horizon {
                    break;
                }
                if t <= age {
                    x += 1.0;
                    t_x = t;
                } else {
                    later += 1.0;
                }
                if rand::Rng::random::<f64>(&mut rng) < p {
                    alive = false;
                    if t <= age {
                        alive_at_t = false;
                    }
                }
            }
            (x, t_x, later, alive_at_t)
        })
        .collect()
}

/// P(alive) and E[Y(t) | x, t_x, T] averaged over a simulated cohort equal
/// the simulated share alive and mean holdout purchases (within 4 standard
/// errors), and E[X(t)] the mean frequency.
#[test]
fn predictions_match_simulation() {
    for k in [2u32, 4] {
        let m = MbgCnbdK::new(2.0, 6.0 * f64::from(k), 0.8, 5.0, k).unwrap();
        let (age, horizon, n) = (20.0, 15.0, 40_000);
        let sims = simulate_with_holdout(&m, n, age, horizon, 99 + u64::from(k));
        let nf = n as f64;
        let alive_sim = sims.iter().filter(|c| c.3).count() as f64 / nf;
        let alive_pred = sims
            .iter()
            .map(|c| m.probability_alive(c.0, c.1, age))
            .sum::<f64>()
            / nf;
        assert_close(alive_pred, alive_sim, 4.0 * (0.25 / nf).sqrt(), "P(alive)");
        let later: Vec<f64> = sims.iter().map(|c| c.2).collect();
        let mean_later = later.iter().sum::<f64>() / nf;
        let sd = (later.iter().map(|v| (v - mean_later).powi(2)).sum::<f64>() / nf).sqrt();
        let pred = sims
            .iter()
            .map(|c| m.conditional_expected_purchases(horizon, c.0, c.1, age))
            .sum::<f64>()
            / nf;
        assert_close(pred, mean_later, 4.0 * sd / nf.sqrt(), "E[Y(t) | history]");
        let freq: Vec<f64> = sims.iter().map(|c| c.0).collect();
        let mean_x = freq.iter().sum::<f64>() / nf;
        let sd_x = (freq.iter().map(|v| (v - mean_x).powi(2)).sum::<f64>() / nf).sqrt();
        assert_close(
            m.expected_purchases(age),
            mean_x,
            4.0 * sd_x / nf.sqrt(),
            "E[X(t)]",
        );
    }
}

#[test]
fn bad_litt_is_refused_naming_the_row() {
    let err = CnbdData::new(2, &[0.0, 2.0], &[0.0, 4.0], &[5.0, 5.0], &[0.0, 3.0], None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("litt") && err.contains("row"), "{err}");
    let err = CnbdData::new(2, &[1.0], &[1.0], &[5.0], &[f64::NAN], None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("finite"), "{err}");
    assert!(CnbdData::new(0, &[1.0], &[1.0], &[5.0], &[0.0], None).is_err());
    let err = CnbdData::new(2, &[0.0, 1.0], &[0.0, 0.0], &[5.0, 5.0], &[0.0, 0.0], None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("recency must be positive") && err.contains("row: 1"),
        "{err}"
    );
    assert!(CnbdData::new(2, &[1.0], &[1.0], &[5.0], &[0.0, 0.0], None).is_err());
}

/// Extreme histories give finite answers in [0, 1] and ≥ 0.
#[test]
fn extremes_are_finite() {
    let m = MbgCnbdK::new(0.5, 2.0, 0.5, 1.5, 12).unwrap();
    let cases: [(f64, f64, f64); 4] = [
        (0.0, 0.0, 1e6),
        (500.0, 99.0, 100.0),
        (1.0, 1e-6, 1e4),
        (2000.0, 1e4, 1e4),
    ];
    for &(x, t_x, t) in &cases {
        let litt = if x > 0.0 { x * (t_x / x).ln() } else { 0.0 };
        let ll = m.individual_log_likelihood(x, t_x, t, litt);
        let pa = m.probability_alive(x, t_x, t);
        let ey = m.conditional_expected_purchases(10.0, x, t_x, t);
        assert!(
            ll.is_finite() && (0.0..=1.0).contains(&pa) && ey.is_finite() && ey >= 0.0,
            "({x}, {t_x}, {t}): ll {ll}, P(alive) {pa}, E[Y] {ey}"
        );
    }
}

/// The summary's litt: logs of the gaps between distinct periods, in the
/// summary's time unit (periods / freq_multiplier), same-period purchases
/// merged; 0 with one purchase period.
#[test]
fn summary_litt_in_the_summary_time_unit() {
    use retentionkit::summary::{summarize_with_litt, SummaryOptions};
    // Customer 0: periods 0, 3, 3, 10 (gaps 3 and 7); customer 1: period 4 only.
    let customers = [0u32, 0, 1, 0, 0];
    let times = [0i64, 3, 4, 3, 10];
    let options = SummaryOptions {
        freq_multiplier: 7.0,
        ..SummaryOptions::new(14)
    };
    let s = summarize_with_litt(&customers, &times, None, &options).unwrap();
    let litt = s.litt.unwrap();
    assert_close(
        litt[0],
        (3.0f64 / 7.0).ln() + (7.0f64 / 7.0).ln(),
        1e-14,
        "litt",
    );
    assert_eq!(litt[1], 0.0);
    assert_eq!(s.frequency, vec![2.0, 0.0]);
}
