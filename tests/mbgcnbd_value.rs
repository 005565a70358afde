//! MBG/CNBD-k as a transaction model: DERT against a direct numerical
//! integral and, at k = 1, against MBG/NBD's own DERT; CLV at k = 1 against
//! MBG/NBD's; parameter draws of the intervals that keep k; the saved format
//! restores k (and the profile of a choice of k).

mod common;

use common::assert_close;
use retentionkit::clv::{customer_lifetime_value, customer_lifetime_value_continuous};
use retentionkit::dert::discounted_expected_residual_transactions;
use retentionkit::intervals::{probability_alive_interval, IntervalOptions};
use retentionkit::mbgcnbd::{fit_k, select_k, CnbdData, KSelection, MbgCnbdK};
use retentionkit::{ClvOptions, FitOptions, Fitted, ModifiedBetaGeo, TimeUnit, TransactionModel};

const HISTORIES: [(f64, f64, f64); 5] = [
    (0.0, 0.0, 38.86),
    (1.0, 2.0, 38.0),
    (2.0, 30.43, 38.86),
    (7.0, 35.0, 39.0),
    (4.0, 8.0, 20.0),
];

/// δ ∫₀^∞ e^{−δt} E[Y(t) | x, t_x, T] dt by the composite Simpson rule in t
/// on [0, 60/δ] (e^{−60} of the rest is negligible), step 0.25: the direct
/// integral that the model's quadrature approximates.
fn dert_by_simpson(model: &MbgCnbdK, delta: f64, x: f64, t_x: f64, age: f64) -> f64 {
    let end = 60.0 / delta;
    let n = ((end / 0.25).ceil() as usize).next_multiple_of(2);
    let h = end / n as f64;
    let f = |t: f64| (-delta * t).exp() * model.conditional_expected_purchases(t, x, t_x, age);
    let mut sum = f(0.0) + f(end);
    for i in 1..n {
        sum += if i % 2 == 1 { 4.0 } else { 2.0 } * f(i as f64 * h);
    }
    delta * sum * h / 3.0
}

/// DERT of k = 2 and 4 at a few customers agrees with the direct integral;
/// it is non-negative and decreasing in δ.
#[test]
fn dert_matches_a_direct_integral() {
    for k in [2, 4] {
        let model = MbgCnbdK::new(1.2, 6.0, 0.8, 2.5, k).unwrap();
        for &(x, t_x, age) in &HISTORIES {
            let delta = 0.05;
            let ours = model.discounted_expected_residual_transactions(delta, x, t_x, age);
            let direct = dert_by_simpson(&model, delta, x, t_x, age);
            assert_close(
                ours,
                direct,
                1e-7 * direct.max(1e-3),
                &format!("k={k} x={x}"),
            );
            let slower = model.discounted_expected_residual_transactions(0.01, x, t_x, age);
            assert!(
                ours >= 0.0 && slower > ours,
                "k={k} x={x}: {slower} <= {ours}"
            );
        }
    }
}

/// k = 1 is MBG/NBD: the same DERT (MBG/NBD's by its closed form in λ and an
/// integral over p, ours by quadrature of the series of E[Y(t)]) and the same
/// CLV, discrete and continuous.
#[test]
fn k_equal_one_values_as_mbgnbd() {
    let (r, alpha, a, b) = (0.243, 4.414, 0.793, 2.426);
    let ours = MbgCnbdK::new(r, alpha, a, b, 1).unwrap();
    let mbg = ModifiedBetaGeo::new(r, alpha, a, b).unwrap();
    let x: Vec<f64> = HISTORIES.iter().map(|h| h.0).collect();
    let t_x: Vec<f64> = HISTORIES.iter().map(|h| h.1).collect();
    let age: Vec<f64> = HISTORIES.iter().map(|h| h.2).collect();
    let delta = vec![1.15f64.ln() / 52.0; x.len()];
    let d_ours = discounted_expected_residual_transactions(&ours, &delta, &x, &t_x, &age).unwrap();
    let d_mbg = discounted_expected_residual_transactions(&mbg, &delta, &x, &t_x, &age).unwrap();
    for i in 0..x.len() {
        assert_close(d_ours[i], d_mbg[i], 1e-9 * d_mbg[i], &format!("DERT {i}"));
    }
    let spend = vec![35.0; x.len()];
    let options = ClvOptions {
        time: 12.0,
        discount_rate: 0.01,
        unit: TimeUnit::Week,
    };
    let c_ours = customer_lifetime_value(&ours, &x, &t_x, &age, &spend, &options).unwrap();
    let c_mbg = customer_lifetime_value(&mbg, &x, &t_x, &age, &spend, &options).unwrap();
    let rate = delta[0];
    let k_ours = customer_lifetime_value_continuous(&ours, &x, &t_x, &age, &spend, rate).unwrap();
    let k_mbg = customer_lifetime_value_continuous(&mbg, &x, &t_x, &age, &spend, rate).unwrap();
    for i in 0..x.len() {
        assert_close(c_ours[i], c_mbg[i], 1e-9 * c_mbg[i], &format!("CLV {i}"));
        assert_close(
            k_ours[i],
            k_mbg[i],
            1e-9 * k_mbg[i],
            &format!("continuous CLV {i}"),
        );
    }
    // The trait's likelihood without litt is MBG/NBD's at k = 1.
    for &(x, t_x, age) in &HISTORIES {
        assert_close(
            TransactionModel::individual_log_likelihood(&ours, x, t_x, age),
            mbg.individual_log_likelihood(x, t_x, age),
            1e-10,
            "ln L without litt",
        );
    }
}

/// Simulated regular buyers (k = 3), fitted with k = 3.
fn fitted_k3() -> Fitted<MbgCnbdK> {
    let truth = MbgCnbdK::new(2.0, 3.0, 0.8, 4.0, 3).unwrap();
    let ages: Vec<f64> = (0..3000).map(|i| 30.0 + f64::from(i % 10)).collect();
    let sims = truth.simulate(&ages, 11);
    let column = |f: &dyn Fn(&(retentionkit::SimulatedCustomer, f64)) -> f64| {
        sims.iter().map(f).collect::<Vec<f64>>()
    };
    let data = CnbdData::new(
        3,
        &column(&|c| c.0.frequency),
        &column(&|c| c.0.recency),
        &column(&|c| c.0.age),
        &column(&|c| c.1),
        None,
    )
    .unwrap();
    fit_k(&data, 3, &FitOptions::default()).unwrap()
}

/// The parameter draws of the intervals keep the fitted k: the interval of
/// P(alive) surrounds the k = 3 estimate and leaves out the k = 1 value at
/// the same parameters (where draws that fell back to k = 1 would put it).
#[test]
fn interval_draws_keep_k() {
    let fitted = fitted_k3();
    assert_eq!(fitted.model.k, 3);
    let (x, t_x, age) = ([4.0, 6.0], [12.0, 20.0], [20.0, 24.0]);
    let options = IntervalOptions {
        level: 0.9,
        n_draws: 100,
        seed: 5,
    };
    let bands = probability_alive_interval(&fitted, &x, &t_x, &age, &options).unwrap();
    for i in 0..2 {
        let (lo, est, hi) = (bands.lower[i], bands.estimate[i], bands.upper[i]);
        assert!(lo <= est && est <= hi, "customer {i}: {lo} {est} {hi}");
        let poisson = fitted.model.with_k(1).unwrap();
        let wrong = poisson.probability_alive(x[i], t_x[i], age[i]);
        assert!(
            wrong < lo || wrong > hi,
            "customer {i}: k = 1 gives {wrong}, within {lo}..{hi}"
        );
    }
}

/// A saved fit with k = 3 reloads with k = 3 and the same predictions; a file
/// without k, or with an invalid one, is refused, naming "k".
#[test]
fn saved_k_is_restored() {
    let fitted = fitted_k3();
    let text = fitted.to_json();
    let loaded = Fitted::<MbgCnbdK>::from_json(&text).unwrap();
    assert_eq!(loaded.model.k, 3);
    assert_eq!(loaded.model, fitted.model);
    assert_eq!(
        loaded
            .model
            .conditional_expected_purchases(10.0, 4.0, 12.0, 20.0),
        fitted
            .model
            .conditional_expected_purchases(10.0, 4.0, 12.0, 20.0)
    );
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["k"], serde_json::json!(3));
    value.as_object_mut().unwrap().remove("k");
    let err = Fitted::<MbgCnbdK>::from_json(&value.to_string()).unwrap_err();
    assert!(err.to_string().contains("\"k\" is missing"), "{err}");
    for bad in [
        serde_json::json!(0),
        serde_json::json!(2.5),
        serde_json::json!("3"),
    ] {
        value["k"] = bad.clone();
        let err = Fitted::<MbgCnbdK>::from_json(&value.to_string()).unwrap_err();
        assert!(err.to_string().contains("\"k\" is"), "{bad}: {err}");
    }
}

/// The choice of k saves and reloads with its profile.
#[test]
fn selection_round_trip() {
    let truth = MbgCnbdK::new(2.0, 3.0, 0.8, 4.0, 2).unwrap();
    let ages = vec![30.0; 1500];
    let sims = truth.simulate(&ages, 3);
    let get = |f: fn(&(retentionkit::SimulatedCustomer, f64)) -> f64| {
        sims.iter().map(f).collect::<Vec<f64>>()
    };
    let data = CnbdData::new(
        1,
        &get(|c| c.0.frequency),
        &get(|c| c.0.recency),
        &get(|c| c.0.age),
        &get(|c| c.1),
        None,
    )
    .unwrap();
    let selection = select_k(&data, 4, &FitOptions::default()).unwrap();
    let loaded = KSelection::from_json(&selection.to_json()).unwrap();
    assert_eq!(loaded.best.model, selection.best.model);
    assert_eq!(loaded.profile.len(), selection.profile.len());
    for (a, b) in loaded.profile.iter().zip(&selection.profile) {
        assert_eq!(a.0, b.0);
        assert!(a.1 == b.1 || (a.1.is_nan() && b.1.is_nan()));
    }
    let plain = KSelection::from_json(&selection.best.to_json()).unwrap();
    assert!(plain.profile.is_empty());
}

/// E[Y(t)] where P(no tick in t) underflows (many purchases, long horizons:
/// the series starts at the mode) is still MBG/NBD's at k = 1, and finite
/// and increasing in t for k = 5.
#[test]
fn expectation_from_the_mode_matches_mbgnbd() {
    let (r, alpha, a, b) = (0.5, 2.0, 0.8, 2.5);
    let ours = MbgCnbdK::new(r, alpha, a, b, 1).unwrap();
    let mbg = ModifiedBetaGeo::new(r, alpha, a, b).unwrap();
    for &(x, t_x, age) in &[(300.0, 95.0, 100.0), (2000.0, 99.0, 100.0)] {
        for t in [1000.0, 5000.0] {
            let want = mbg.conditional_expected_purchases(t, x, t_x, age);
            let got = ours.conditional_expected_purchases(t, x, t_x, age);
            assert_close(got, want, 1e-9 * want, &format!("x={x} t={t}"));
        }
    }
    let regular = ours.with_k(5).unwrap();
    let mut previous = 0.0;
    for t in [10.0, 100.0, 1000.0, 5000.0] {
        let now = regular.conditional_expected_purchases(t, 300.0, 95.0, 100.0);
        assert!(
            now.is_finite() && now > previous,
            "t={t}: {now} after {previous}"
        );
        previous = now;
    }
}
