//! Times DERT for BG/NBD at 100k customers, the model's own method against the
//! generic quadrature: `cargo run --release --example dert_timing`.

use std::time::Instant;

use rayon::prelude::*;
use retentionkit::dert::{dert_by_quadrature, discounted_expected_residual_transactions};

#[path = "common/mod.rs"]
mod common;

fn main() -> Result<(), retentionkit::Error> {
    let n = 100_000;
    let model = common::cdnow_model();
    let (x, tx, ages) = common::simulated_customers(&model, n);
    let delta = vec![1.15f64.ln() / 52.0; n];
    let start = Instant::now();
    let own = discounted_expected_residual_transactions(&model, &delta, &x, &tx, &ages)?;
    let own_time = start.elapsed();
    let start = Instant::now();
    let generic: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| dert_by_quadrature(&model, delta[i], x[i], tx[i], ages[i]))
        .collect();
    let generic_time = start.elapsed();
    let worst = own
        .iter()
        .zip(&generic)
        .map(|(a, b)| (a / b - 1.0).abs())
        .fold(0.0, f64::max);
    println!(
        "DERT of {n} customers: {own_time:?} (integral over p) vs {generic_time:?} \
         (generic quadrature); largest relative difference {worst:.1e}"
    );
    Ok(())
}
