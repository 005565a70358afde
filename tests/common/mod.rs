//! Helpers shared by the integration tests: the data sets, the reference
//! values (`reference`), the mpmath fixtures, the derivative check, the
//! simulate-then-refit check (`recovery`) and the domain properties of the
//! transaction models (`properties`).
// Every test binary compiles this module and uses only part of it.
#![allow(dead_code)]

pub mod properties;
pub mod recovery;
pub mod reference;

use std::path::PathBuf;

/// The CDNOW 1/10th-sample calibration summary shipped with the Python
/// package: (frequency, recency, T) in weeks, 2357 customers.
pub fn cdnow_summary() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("python/retentionkit/datasets/data/cdnow_customers_summary.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let (mut x, mut tx, mut t) = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines().skip(1) {
        let cols: Vec<f64> = line.split(',').map(|c| c.trim().parse().unwrap()).collect();
        x.push(cols[1]);
        tx.push(cols[2]);
        t.push(cols[3]);
    }
    (x, tx, t)
}

/// (x, t_x, T, m_x) of the 2357 customers of the CDNOW 1/10th sample (weeks),
/// m_x the mean value of the repeat transactions (0 without any).
pub fn cdnow_summary_with_spend() -> [Vec<f64>; 4] {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("python/retentionkit/datasets/data/cdnow_customers_summary_with_transactions.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut out: [Vec<f64>; 4] = Default::default();
    for line in text.lines().skip(1) {
        let cols: Vec<f64> = line.split(',').map(|c| c.trim().parse().unwrap()).collect();
        for (column, value) in out.iter_mut().zip(&cols[1..]) {
            column.push(*value);
        }
    }
    out
}

/// Asserts |actual − expected| ≤ tol with a useful message.
pub fn assert_close(actual: f64, expected: f64, tol: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tol,
        "{what}: got {actual}, expected {expected} ± {tol}"
    );
}

/// The rows of the mpmath fixture `tests/fixtures/<name>` (made by the scripts
/// in `scripts/`), after checking that its header is `columns`: one vector per
/// row, in the order of `columns`.
pub fn mpmath_fixture(name: &str, columns: &[&str]) -> Vec<Vec<f64>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    assert_eq!(header, columns, "{name}: columns");
    lines
        .enumerate()
        .map(|(i, line)| {
            let row: Vec<f64> = line
                .split(',')
                .map(|c| {
                    c.parse()
                        .unwrap_or_else(|e| panic!("{name}, row {i}: {c:?}: {e}"))
                })
                .collect();
            assert_eq!(row.len(), columns.len(), "{name}, row {i}");
            row
        })
        .collect()
}

/// Checks `M::evaluate`'s analytic gradient and Hessian at `params` against
/// five-point finite differences of the value and of the gradient, per
/// customer (so that tolerances do not grow with the data's size).
pub fn assert_derivatives<M: retentionkit::Model>(params: &[f64], data: &M::Data) {
    use retentionkit::fit::numerical::partial_derivatives;
    use retentionkit::{Derivatives, FitData};
    let p = params.len();
    let per = 1.0 / data.total_weight();
    let model = M::template(data).with_params(params).unwrap();
    let ev = model.evaluate(data, Derivatives::Hessian);
    for k in 0..p {
        let (value_fd, gradient_fd) = partial_derivatives(&model, data, k)
            .unwrap_or_else(|| panic!("{}: parameter {k} cannot move at {params:?}", M::NAME));
        let fd = per * value_fd;
        let analytic = per * ev.gradient[k];
        assert!(
            (fd - analytic).abs() < 1e-6 * analytic.abs().max(1.0),
            "{}: gradient {k} at {params:?}: {fd} by differences vs {analytic}",
            M::NAME
        );
        for (l, fd) in gradient_fd.into_iter().enumerate() {
            let fd = per * fd;
            let analytic = per * ev.hessian[l * p + k];
            let (h_lk, h_kl) = (ev.hessian[l * p + k], ev.hessian[k * p + l]);
            assert!(
                (h_lk - h_kl).abs() <= 1e-12 * h_lk.abs().max(1.0),
                "{}: hessian not symmetric at ({l},{k}): {h_lk} vs {h_kl}",
                M::NAME
            );
            assert!(
                (fd - analytic).abs() < 1e-5 * analytic.abs().max(1.0),
                "{}: hessian ({l},{k}) at {params:?}: {fd} by differences vs {analytic}",
                M::NAME
            );
        }
    }
}

/// The CDNOW sample log summarised as `../shared/reference/covariates_cdnow.md`
/// does (the reference of CLVTools' covariate fits): customers by sample id,
/// weeks, calibration to 1997-09-30 inclusive, same-day purchases one
/// transaction; with `log_first_spend` = ln(1 + dollars on the first purchase
/// day). Unlike [`cdnow_summary`], recency and T are not rounded.
pub fn cdnow_log_summary() -> [Vec<f64>; 4] {
    use std::collections::BTreeMap;
    // Days since 1970-01-01 of a YYYYMMDD date (the days-from-civil algorithm).
    let days = |ymd: i64| {
        let (y, m, d) = (ymd / 10000, (ymd / 100) % 100, ymd % 100);
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
        era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468
    };
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("python/retentionkit/datasets/data/CDNOW_sample.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    // customer -> day -> dollars
    let mut log: BTreeMap<u32, BTreeMap<i64, f64>> = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let day = days(f[2].parse().unwrap());
        *log.entry(f[1].parse().unwrap())
            .or_default()
            .entry(day)
            .or_default() += f[4].parse::<f64>().unwrap();
    }
    let end = days(19970930);
    let mut out: [Vec<f64>; 4] = Default::default();
    for by_day in log.values() {
        let (&first, &first_spend) = by_day.iter().next().unwrap();
        let calibration: Vec<i64> = by_day.keys().copied().filter(|&d| d <= end).collect();
        out[0].push((calibration.len() - 1) as f64);
        out[1].push((calibration.last().unwrap() - first) as f64 / 7.0);
        out[2].push((end - first) as f64 / 7.0);
        out[3].push(first_spend.ln_1p());
    }
    out
}
