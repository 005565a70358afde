//! Pareto/NBD with time-varying covariates (issue 14): the identities with the
//! plain and the static-covariate Pareto/NBD, the analytic gradient, and
//! CLVTools 0.12.1's log-likelihood on CDNOW
//! (`../shared/reference/covariates_cdnow.md`).

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use retentionkit::models::covariates::{CovariateData, CovariateDesign, WithCovariates};
use retentionkit::models::time_varying::{TimeVaryingData, TimeVaryingParetoNBD};
use retentionkit::pnbd::ParetoNBD;
use retentionkit::{Derivatives, Model, TransactionModel};

/// A customer in whole days: birth day, repeat purchase days (> birth),
/// calibration end day; weekly periods starting on days ≡ `offset` (mod 7).
struct Panel {
    frequency: Vec<f64>,
    recency: Vec<f64>,
    age: Vec<f64>,
    sums: Vec<f64>,
    starts: Vec<f64>,
    counts: Vec<usize>,
    covariates: Vec<f64>,
}

/// `z(customer, period index from the first period)` gives each row.
fn panel(
    histories: &[(i64, Vec<i64>, i64)],
    k: usize,
    extra_periods: usize,
    z: impl Fn(usize, i64) -> Vec<f64>,
) -> Panel {
    let mut p = Panel {
        frequency: vec![],
        recency: vec![],
        age: vec![],
        sums: vec![],
        starts: vec![],
        counts: vec![],
        covariates: vec![],
    };
    for (i, (birth, purchases, end)) in histories.iter().enumerate() {
        let first = birth - birth.rem_euclid(7); // periods start on day 0 mod 7
        let count = ((end - first) / 7 + 1) as usize + extra_periods;
        let period = |day: i64| ((day - first) / 7) as usize;
        let rows: Vec<Vec<f64>> = (0..count).map(|j| z(i, first / 7 + j as i64)).collect();
        let mut sums = vec![0.0; k];
        for &d in purchases {
            for (s, v) in sums.iter_mut().zip(&rows[period(d)]) {
                *s += v;
            }
        }
        p.frequency.push(purchases.len() as f64);
        p.recency
            .push(purchases.last().map_or(0.0, |d| (d - birth) as f64 / 7.0));
        p.age.push((end - birth) as f64 / 7.0);
        p.sums.extend(sums);
        p.starts.push((first - birth) as f64 / 7.0);
        p.counts.push(count);
        p.covariates.extend(rows.into_iter().flatten());
    }
    p
}

fn random_histories(n: usize, seed: u64) -> Vec<(i64, Vec<i64>, i64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let birth: i64 = rng.random_range(0..200);
            let end = 250 + rng.random_range(0..3);
            let x = if rng.random_bool(0.3) {
                0
            } else {
                rng.random_range(1..8)
            };
            let mut days: Vec<i64> = (0..x).map(|_| rng.random_range(birth + 1..=end)).collect();
            days.sort();
            days.dedup();
            (birth, days, end)
        })
        .collect()
}

fn design(columns: &[&str], purchase: Vec<usize>, dropout: Vec<usize>) -> CovariateDesign {
    let columns: Vec<String> = columns.iter().map(|s| s.to_string()).collect();
    CovariateDesign::new::<ParetoNBD>(&columns, &[purchase, dropout], &[]).unwrap()
}

fn data(p: &Panel, design: CovariateDesign) -> TimeVaryingData {
    TimeVaryingData::new(
        &p.frequency,
        &p.recency,
        &p.age,
        &p.sums,
        &p.starts,
        &p.counts,
        &p.covariates,
        design,
    )
    .unwrap()
}

fn seasonal(i: usize, week: i64) -> Vec<f64> {
    let season = if (week / 6) % 3 == 0 { 1.0 } else { 0.0 };
    let trend = 0.3 * ((week as f64) * 0.37 + i as f64).sin();
    vec![season, trend]
}

fn model(design: CovariateDesign, coefficients: Vec<f64>) -> TimeVaryingParetoNBD {
    let base = ParetoNBD::new(0.55, 10.5, 0.6, 11.7).unwrap();
    TimeVaryingParetoNBD::new(base, design, coefficients).unwrap()
}

#[test]
#[allow(clippy::needless_range_loop)]
fn zero_coefficients_are_the_plain_model() {
    let p = panel(&random_histories(300, 1), 2, 5, seasonal);
    let d = data(&p, design(&["season", "trend"], vec![0, 1], vec![0, 1]));
    let m = model(d.design().clone(), vec![0.0; 4]);
    let plain = m.base();
    let ll = m.individual_log_likelihood(&d).unwrap();
    for i in 0..ll.len() {
        let expected = if p.age[i] > 0.0 {
            plain.individual_log_likelihood(p.frequency[i], p.recency[i], p.age[i])
        } else {
            0.0
        };
        assert!(
            (ll[i] - expected).abs() <= 1e-11 * expected.abs().max(1.0),
            "customer {i}: {} vs {expected}",
            ll[i]
        );
    }
    let alive = m.conditional_probability_alive(&d).unwrap();
    let expected = m.conditional_expected_purchases(&d, 4.0).unwrap();
    for i in 0..ll.len() {
        let pa = plain.probability_alive(p.frequency[i], p.recency[i], p.age[i]);
        assert!((alive[i] - pa).abs() < 1e-12, "{i}: {} vs {pa}", alive[i]);
        let ey = plain.conditional_expected_purchases(4.0, p.frequency[i], p.recency[i], p.age[i]);
        assert!((expected[i] - ey).abs() < 1e-11 * ey.max(1e-3), "{i}");
    }
}

#[test]
fn constant_covariates_are_the_static_model() {
    // Each customer's covariates are the same in every period.
    let histories = random_histories(300, 2);
    let traits = |i: usize| vec![((i * 7919) % 13) as f64 / 6.0 - 1.0, (i % 3) as f64];
    let p = panel(&histories, 2, 5, |i, _| traits(i));
    let names = ["spend", "channel"];
    let d = data(&p, design(&names, vec![0, 1], vec![0, 1]));
    let coefficients = vec![0.3, -0.4, 0.25, 0.5];
    let m = model(d.design().clone(), coefficients.clone());
    let stat = WithCovariates::new(
        *m.base(),
        design(&names, vec![0, 1], vec![0, 1]),
        coefficients,
    )
    .unwrap();
    let ll = m.individual_log_likelihood(&d).unwrap();
    let alive = m.conditional_probability_alive(&d).unwrap();
    let ey = m.conditional_expected_purchases(&d, 5.0).unwrap();
    let z: Vec<f64> = (0..histories.len()).flat_map(traits).collect();
    let per = stat
        .per_customer(histories.len(), &z, |c, i| {
            let (x, tx, t) = (p.frequency[i], p.recency[i], p.age[i]);
            (
                c.individual_log_likelihood(x, tx, t),
                c.probability_alive(x, tx, t),
                c.conditional_expected_purchases(5.0, x, tx, t),
            )
        })
        .unwrap();
    for (i, (l, a, e)) in per.into_iter().enumerate() {
        if p.age[i] > 0.0 {
            assert!(
                (ll[i] - l).abs() <= 1e-10 * l.abs().max(1.0),
                "{i}: {} vs {l}",
                ll[i]
            );
        }
        assert!((alive[i] - a).abs() < 1e-12, "{i}: {} vs {a}", alive[i]);
        assert!(
            (ey[i] - e).abs() < 1e-11 * e.max(1e-3),
            "{i}: {} vs {e}",
            ey[i]
        );
    }
    // The total matches the static model's fit data too.
    let static_data = CovariateData::new(
        &p.frequency,
        &p.recency,
        &p.age,
        None,
        &z,
        stat.design().clone(),
    )
    .unwrap();
    let a = m.evaluate(&d, Derivatives::None).value;
    let b = stat.evaluate(&static_data, Derivatives::None).value;
    assert!((a - b).abs() < 1e-9 * b.abs(), "{a} vs {b}");
}

#[test]
fn gradient_matches_finite_differences() {
    let p = panel(&random_histories(200, 3), 2, 0, seasonal);
    let d = data(&p, design(&["season", "trend"], vec![0, 1], vec![0]));
    let m = model(d.design().clone(), vec![-0.2, 0.4, 0.3]);
    let g = m.evaluate(&d, Derivatives::Gradient).gradient;
    let x0 = m.to_vec();
    for k in 0..x0.len() {
        let h = 1e-5 * x0[k].abs().max(1.0);
        let at = |v: f64| {
            let mut x = x0.clone();
            x[k] = v;
            m.with_params(&x)
                .unwrap()
                .evaluate(&d, Derivatives::None)
                .value
        };
        let numeric = (at(x0[k] + h) - at(x0[k] - h)) / (2.0 * h);
        assert!(
            (g[k] - numeric).abs() < 1e-5 * numeric.abs().max(1.0),
            "parameter {k}: analytic {} numeric {numeric}",
            g[k]
        );
    }
}

#[test]
fn hessian_matches_differences_of_the_gradient() {
    let p = panel(&random_histories(200, 6), 2, 0, seasonal);
    let d = data(&p, design(&["season", "trend"], vec![0, 1], vec![0, 1]));
    let m = model(d.design().clone(), vec![-0.2, 0.4, 0.3, -0.5]);
    let h = m.evaluate(&d, Derivatives::Hessian).hessian;
    let x0 = m.to_vec();
    let n = x0.len();
    assert_eq!(h.len(), n * n);
    for k in 0..n {
        let step = 1e-5 * x0[k].abs().max(1.0);
        let at = |v: f64| {
            let mut x = x0.clone();
            x[k] = v;
            m.with_params(&x)
                .unwrap()
                .evaluate(&d, Derivatives::Gradient)
                .gradient
        };
        let (up, down) = (at(x0[k] + step), at(x0[k] - step));
        for l in 0..n {
            let numeric = (up[l] - down[l]) / (2.0 * step);
            assert!(
                (h[l * n + k] - numeric).abs() < 1e-5 * numeric.abs().max(1.0),
                "entry ({l}, {k}): analytic {} numeric {numeric}",
                h[l * n + k]
            );
        }
    }
}

#[test]
fn expectations_grow_with_the_horizon_and_discounting_lowers_them() {
    let p = panel(&random_histories(100, 4), 2, 20, seasonal);
    let d = data(&p, design(&["season", "trend"], vec![0, 1], vec![0, 1]));
    let m = model(d.design().clone(), vec![0.5, -0.3, -0.4, 0.2]);
    let mut previous = vec![0.0; d.len()];
    for t in [0.5, 1.0, 3.3, 10.0, 19.0] {
        let now = m.conditional_expected_purchases(&d, t).unwrap();
        let undiscounted = m
            .discounted_expected_conditional_transactions(&d, t, 0.0)
            .unwrap();
        let dect = m
            .discounted_expected_conditional_transactions(&d, t, 0.1)
            .unwrap();
        for i in 0..d.len() {
            assert!(now[i] >= previous[i] && now[i].is_finite());
            assert!((undiscounted[i] - now[i]).abs() < 1e-12 * now[i].max(1e-300));
            assert!(dect[i] <= now[i] && dect[i] >= now[i] * (-0.1 * t).exp() * (1.0 - 1e-12));
        }
        previous = now;
    }
    let err = m.conditional_expected_purchases(&d, 30.0).unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn periods_that_stop_before_t_are_refused() {
    let mut p = panel(&random_histories(10, 5), 2, 0, seasonal);
    p.counts[3] -= 1;
    p.covariates.truncate(p.covariates.len() - 2);
    let err = TimeVaryingData::new(
        &p.frequency,
        &p.recency,
        &p.age,
        &p.sums,
        &p.starts,
        &p.counts,
        &p.covariates,
        design(&["season", "trend"], vec![0], vec![1]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("reach the end"), "{err}");
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days(ymd: u32) -> i64 {
    let (y, m, d) = (
        (ymd / 10000) as i64,
        ((ymd / 100) % 100) as i64,
        (ymd % 100) as i64,
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Month (1–12) of a day count since 1970-01-01.
fn month(day: i64) -> u32 {
    let z = day + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    (if mp < 10 { mp + 3 } else { mp - 9 }) as u32
}

#[test]
fn cdnow_log_likelihood_at_clvtools_estimates() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/python/retentionkit/datasets/data/CDNOW_sample.txt"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut log: BTreeMap<u32, BTreeMap<i64, f64>> = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        *log.entry(f[1].parse().unwrap())
            .or_default()
            .entry(days(f[2].parse().unwrap()))
            .or_default() += f[4].parse::<f64>().unwrap();
    }
    let end = days(19970930);
    let first_week = days(19961229); // a Sunday
    let histories: Vec<(i64, Vec<i64>, i64)> = log
        .values()
        .map(|d| {
            let birth = *d.keys().next().unwrap();
            let repeat = d
                .keys()
                .filter(|&&t| t > birth && t <= end)
                .map(|t| t - first_week)
                .collect();
            (birth - first_week, repeat, end - first_week)
        })
        .collect();
    let spend: Vec<f64> = log
        .values()
        .map(|d| d.values().next().unwrap().ln_1p())
        .collect();
    let p = panel(&histories, 2, 0, |i, week| {
        let m = month(first_week + 7 * week);
        vec![if (6..=8).contains(&m) { 1.0 } else { 0.0 }, spend[i]]
    });
    let d = data(
        &p,
        design(&["Summer", "log_first_spend"], vec![0, 1], vec![0, 1]),
    );
    let base = ParetoNBD::new(
        0.565388681628504,
        35.2908655085994,
        0.57438784872579,
        11.2807994795626,
    )
    .unwrap();
    // Order of the design: purchase by column name, then dropout.
    let m = TimeVaryingParetoNBD::new(
        base,
        d.design().clone(),
        vec![
            -0.116982860260964,
            0.361065885530562,
            -0.177121349609582,
            0.00110433508746019,
        ],
    )
    .unwrap();
    assert_eq!(
        m.param_names()[4..],
        [
            "purchase:Summer",
            "purchase:log_first_spend",
            "dropout:Summer",
            "dropout:log_first_spend"
        ]
    );
    let ll = m.evaluate(&d, Derivatives::None).value;
    assert!((ll - -9569.04774203118).abs() < 1e-6, "{ll}");
}
