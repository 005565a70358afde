//! Prediction intervals over the parameter uncertainty: reproducibility, the
//! log-normal draws, containment of the point estimate, widening with less
//! data, and coverage by simulation.

mod common;

use common::cdnow_summary_with_spend as cdnow;
use common::reference::reference;
use retentionkit::clv::{ClvOptions, TimeUnit};
use retentionkit::intervals::{
    conditional_expected_purchases_interval, customer_lifetime_value_interval, dert_interval,
    draw_parameters, probability_alive_interval, Discounting, IntervalOptions,
};
use retentionkit::{
    fit, predict, BetaGeo, CustomerData, Error, FitOptions, Fitted, GammaGamma, Model,
    ModifiedBetaGeo, ParetoNBD, SpendData, TransactionModel, ZeroFrequency,
};

fn fit_on<M: Model<Data = retentionkit::CompressedData>>(
    x: &[f64],
    tx: &[f64],
    t: &[f64],
) -> Fitted<M> {
    let data = CustomerData::new(x, tx, t, None).unwrap().compress();
    fit::<M>(&data, &FitOptions::default()).unwrap()
}

fn every_nth(v: &[f64], n: usize) -> Vec<f64> {
    v.iter().step_by(n).copied().collect()
}

#[test]
fn draws_are_log_normal_with_the_delta_method_covariance() {
    let [x, tx, t, _] = cdnow();
    let fitted = fit_on::<BetaGeo>(&x, &tx, &t);
    let cov = fitted.info.as_ref().unwrap().covariance.clone().unwrap();
    let theta = fitted.params();
    let k = 40_000;
    let draws = draw_parameters(&fitted, k, 3, 0).unwrap();
    let logs: Vec<Vec<f64>> = draws
        .iter()
        .map(|m| m.to_vec().iter().map(|v| v.ln()).collect())
        .collect();
    for i in 0..4 {
        let mean = logs.iter().map(|l| l[i]).sum::<f64>() / k as f64;
        let sd = (cov[i * 4 + i]).sqrt() / theta[i];
        assert!((mean - theta[i].ln()).abs() < 4.0 * sd / (k as f64).sqrt());
        for j in 0..4 {
            let mj = logs.iter().map(|l| l[j]).sum::<f64>() / k as f64;
            let c = logs
                .iter()
                .map(|l| (l[i] - mean) * (l[j] - mj))
                .sum::<f64>()
                / k as f64;
            let expected = cov[i * 4 + j] / (theta[i] * theta[j]);
            let scale = sd * (cov[j * 4 + j]).sqrt() / theta[j];
            assert!(
                (c - expected).abs() < 0.03 * scale,
                "cov[{i}][{j}] {c} vs {expected}"
            );
        }
    }
}

#[test]
fn reproducible_with_a_seed_and_contain_the_estimate() {
    let [x, tx, t, _] = cdnow();
    let fitted = fit_on::<BetaGeo>(&x, &tx, &t);
    let horizon = vec![39.0; x.len()];
    let options = IntervalOptions {
        seed: 11,
        ..IntervalOptions::default()
    };
    let a =
        conditional_expected_purchases_interval(&fitted, &horizon, &x, &tx, &t, &options).unwrap();
    let b =
        conditional_expected_purchases_interval(&fitted, &horizon, &x, &tx, &t, &options).unwrap();
    assert_eq!(a, b);
    let other = IntervalOptions {
        seed: 12,
        ..options
    };
    let c =
        conditional_expected_purchases_interval(&fitted, &horizon, &x, &tx, &t, &other).unwrap();
    assert_ne!(a.lower, c.lower);
    let point =
        predict::conditional_expected_purchases(&fitted.model, &horizon, &x, &tx, &t).unwrap();
    assert_eq!(a.estimate, point);
    for i in 0..x.len() {
        assert!(
            a.lower[i] <= a.estimate[i] && a.estimate[i] <= a.upper[i],
            "row {i}"
        );
        assert!(a.lower[i] < a.upper[i]);
    }
    let alive = probability_alive_interval(&fitted, &x, &tx, &t, &options).unwrap();
    for (i, &xi) in x.iter().enumerate() {
        assert!(alive.lower[i] <= alive.estimate[i] && alive.estimate[i] <= alive.upper[i]);
        assert!(0.0 <= alive.lower[i] && alive.upper[i] <= 1.0);
        if xi == 0.0 {
            // BG/NBD: without repeat purchases a customer is alive for sure.
            assert_eq!((alive.lower[i], alive.upper[i]), (1.0, 1.0));
        }
    }
    // A higher level gives wider intervals.
    let wide = IntervalOptions {
        level: 0.99,
        ..options
    };
    let w = conditional_expected_purchases_interval(&fitted, &horizon, &x, &tx, &t, &wide).unwrap();
    for i in 0..x.len() {
        assert!(w.lower[i] <= a.lower[i] && a.upper[i] <= w.upper[i]);
    }
}

#[test]
fn widen_with_fewer_customers() {
    let [x, tx, t, _] = cdnow();
    let full = fit_on::<ParetoNBD>(&x, &tx, &t);
    let (xs, txs, ts) = (every_nth(&x, 5), every_nth(&tx, 5), every_nth(&t, 5));
    let small = fit_on::<ParetoNBD>(&xs, &txs, &ts);
    let profiles = ([0.0, 2.0, 7.0], [0.0, 30.43, 35.0], [38.86, 38.86, 38.86]);
    let horizon = [52.0; 3];
    let options = IntervalOptions::default();
    let wide = conditional_expected_purchases_interval(
        &small,
        &horizon,
        &profiles.0,
        &profiles.1,
        &profiles.2,
        &options,
    )
    .unwrap();
    let narrow = conditional_expected_purchases_interval(
        &full,
        &horizon,
        &profiles.0,
        &profiles.1,
        &profiles.2,
        &options,
    )
    .unwrap();
    for i in 0..3 {
        let ratio = (wide.upper[i] - wide.lower[i]) / (narrow.upper[i] - narrow.lower[i]);
        // About √5 ≈ 2.2 in theory.
        assert!(ratio > 1.5, "customer {i}: width ratio {ratio}");
    }
}

#[test]
fn customer_lifetime_value_intervals_combine_both_models() {
    let [x, tx, t, m] = cdnow();
    let transactions = fit_on::<ModifiedBetaGeo>(&x, &tx, &t);
    let data = SpendData::new(&x, &m, None, ZeroFrequency::Exclude)
        .unwrap()
        .compress();
    let spend = fit::<GammaGamma>(&data, &FitOptions::default()).unwrap();
    let monthly = Discounting::Monthly(ClvOptions {
        time: 12.0,
        discount_rate: 0.01,
        unit: TimeUnit::Week,
    });
    let options = IntervalOptions::default();
    let clv = customer_lifetime_value_interval(
        &transactions,
        &spend,
        &x,
        &tx,
        &t,
        &m,
        &monthly,
        &options,
    )
    .unwrap();
    let profit =
        retentionkit::gamma_gamma::conditional_expected_average_profit(&spend.model, &x, &m)
            .unwrap();
    let point = retentionkit::customer_lifetime_value(
        &transactions.model,
        &x,
        &tx,
        &t,
        &profit,
        &ClvOptions {
            time: 12.0,
            discount_rate: 0.01,
            unit: TimeUnit::Week,
        },
    )
    .unwrap();
    for (i, &value) in point.iter().enumerate() {
        assert!((clv.estimate[i] - value).abs() <= 1e-9 * value.abs());
        assert!(
            clv.lower[i] <= clv.estimate[i] && clv.estimate[i] <= clv.upper[i],
            "row {i}"
        );
    }
    // With the spend model known exactly, the intervals are narrower.
    let exact_spend = Fitted {
        info: spend.info.clone().map(|mut info| {
            info.covariance = Some(info.covariance.unwrap().iter().map(|c| c * 1e-12).collect());
            info
        }),
        ..spend.clone()
    };
    let narrower = customer_lifetime_value_interval(
        &transactions,
        &exact_spend,
        &x,
        &tx,
        &t,
        &m,
        &monthly,
        &options,
    )
    .unwrap();
    let width = |v: &retentionkit::intervals::Intervals| -> f64 {
        v.upper.iter().zip(&v.lower).map(|(u, l)| u - l).sum()
    };
    assert!(width(&narrower) < width(&clv));
    // Continuous discounting: DERT × E[M].
    let delta = 1.15f64.ln() / 52.0;
    let cont = customer_lifetime_value_interval(
        &fit_on::<ParetoNBD>(&x, &tx, &t),
        &spend,
        &x[..50],
        &tx[..50],
        &t[..50],
        &m[..50],
        &Discounting::Continuous(delta),
        &options,
    )
    .unwrap();
    for i in 0..50 {
        assert!(cont.lower[i] <= cont.estimate[i] && cont.estimate[i] <= cont.upper[i]);
    }
}

#[test]
fn dert_intervals_contain_the_estimate() {
    let [x, tx, t, _] = cdnow();
    let fitted = fit_on::<ParetoNBD>(&x, &tx, &t);
    let rates = vec![0.003; x.len()];
    let d = dert_interval(&fitted, &rates, &x, &tx, &t, &IntervalOptions::default()).unwrap();
    for i in 0..x.len() {
        assert!(d.lower[i] <= d.estimate[i] && d.estimate[i] <= d.upper[i]);
    }
}

#[test]
fn errors() {
    let model = reference("bgnbd_cdnow_fhl2005").model::<BetaGeo>();
    let by_hand = Fitted::from_model(model);
    let options = IntervalOptions::default();
    let err = probability_alive_interval(&by_hand, &[1.0], &[1.0], &[2.0], &options);
    assert!(matches!(err, Err(Error::Numerical(_))), "{err:?}");
    let [x, tx, t, _] = cdnow();
    let fitted = fit_on::<BetaGeo>(&x, &tx, &t);
    for bad in [
        IntervalOptions {
            level: 1.0,
            ..options
        },
        IntervalOptions {
            level: 0.0,
            ..options
        },
        IntervalOptions {
            n_draws: 1,
            ..options
        },
    ] {
        let err = probability_alive_interval(&fitted, &[1.0], &[1.0], &[2.0], &bad);
        assert!(
            matches!(err, Err(Error::InvalidParameter { .. })),
            "{err:?}"
        );
    }
    let err = probability_alive_interval(&fitted, &[1.0, 0.0], &[1.0, 3.0], &[2.0, 2.0], &options);
    assert!(
        matches!(err, Err(Error::InvalidData { row: 1, .. })),
        "{err:?}"
    );
}

/// Coverage sanity: data sets simulated from a known BG/NBD, each fitted and
/// given 90% intervals for E[Y(52) | x, t_x, T] of a fixed customer; the
/// interval should contain the true value in about 90% of the replications.
#[test]
fn coverage_by_simulation() {
    let truth = reference("bgnbd_cdnow_fhl2005").model::<BetaGeo>();
    let (x, tx, age) = (3.0, 30.0, 39.0);
    let target = truth.conditional_expected_purchases(52.0, x, tx, age);
    let ages = vec![39.0; 2000];
    let replications = 80;
    let mut covered = 0;
    for rep in 0..replications {
        let sims = predict::simulate(&truth, &ages, 1000 + rep).unwrap();
        let sx: Vec<f64> = sims.iter().map(|c| c.frequency).collect();
        let stx: Vec<f64> = sims.iter().map(|c| c.recency).collect();
        let data = CustomerData::new(&sx, &stx, &ages, None)
            .unwrap()
            .compress();
        let Ok(fitted) = fit::<BetaGeo>(&data, &FitOptions::default()) else {
            continue;
        };
        let options = IntervalOptions {
            level: 0.9,
            n_draws: 400,
            seed: rep,
        };
        let band = conditional_expected_purchases_interval(
            &fitted,
            &[52.0],
            &[x],
            &[tx],
            &[age],
            &options,
        )
        .unwrap();
        if band.lower[0] <= target && target <= band.upper[0] {
            covered += 1;
        }
    }
    let rate = f64::from(covered) / replications as f64;
    // Binomial(80, 0.9) lies within [0.78, 0.98] with probability above 99.9%.
    assert!((0.78..=0.99).contains(&rate), "coverage {rate}");
    eprintln!("coverage of 90% intervals: {rate}");
}

/// An estimate on a limit of the model has a covariance so wide that draws
/// overflow or underflow: the interval is refused as a covariance problem
/// naming the widest parameter, not as an infinite or zero parameter.
#[test]
fn draws_from_a_covariance_too_wide_are_refused_naming_the_parameter() {
    let [x, tx, t, _] = cdnow();
    let mut fitted = fit_on::<BetaGeo>(&x, &tx, &t);
    let theta = fitted.params();
    if let Some(info) = fitted.info.as_mut() {
        let mut cov = info.covariance.clone().unwrap();
        // ln b with a standard deviation of 1e4: draws of b leave [1e-308, 1e308].
        cov[3 * 4 + 3] = (1e4 * theta[3]).powi(2);
        info.covariance = Some(cov);
    }
    let err = draw_parameters(&fitted, 50, 1, 0).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::Numerical(_)), "{err:?}");
    assert!(message.contains("too wide"), "{message}");
    assert!(message.contains("the widest is b's"), "{message}");
}
