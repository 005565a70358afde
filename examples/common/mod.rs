//! Simulated customers shared by the timing examples.

use retentionkit::{predict, BetaGeo};

/// FHL (2005)'s CDNOW estimates (weeks).
pub fn cdnow_model() -> BetaGeo {
    BetaGeo::new(0.243, 4.414, 0.793, 2.426).expect("valid parameters")
}

/// `n` customers of `model` with ages spread over 27–39 weeks (every row
/// distinct): (frequency, recency, T), seeded.
pub fn simulated_customers(model: &BetaGeo, n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let ages: Vec<f64> = (0..n)
        .map(|i| 27.0 + 12.0 * ((i * 7919) % n) as f64 / n as f64)
        .collect();
    let sims = predict::simulate(model, &ages, 7).expect("valid ages");
    let x = sims.iter().map(|c| c.frequency).collect();
    let tx = sims.iter().map(|c| c.recency).collect();
    (x, tx, ages)
}
