//! Helpers shared by the integration tests.

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

/// Asserts |actual − expected| ≤ tol with a useful message.
pub fn assert_close(actual: f64, expected: f64, tol: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tol,
        "{what}: got {actual}, expected {expected} ± {tol}"
    );
}
