//! Times the stages of a BG/NBD fit on simulated customers:
//! `cargo run --release --example fit_timing -- 1000000`.

use std::time::Instant;

use retentionkit::{fit, predict, BetaGeo, CustomerData, FitOptions};

fn main() -> Result<(), retentionkit::Error> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let truth = BetaGeo::new(0.243, 4.414, 0.793, 2.426)?;
    let ages: Vec<f64> = (0..n)
        .map(|i| 27.0 + 12.0 * ((i * 7919) % n) as f64 / n as f64)
        .collect();
    let sims = predict::simulate(&truth, &ages, 7)?;
    let x: Vec<f64> = sims.iter().map(|c| c.frequency).collect();
    let tx: Vec<f64> = sims.iter().map(|c| c.recency).collect();
    let t: Vec<f64> = sims.iter().map(|c| c.age).collect();
    let start = Instant::now();
    let data = CustomerData::new(&x, &tx, &t, None)?;
    let validated = start.elapsed();
    let compressed = data.compress();
    let compressed_at = start.elapsed();
    let fitted = fit::<BetaGeo>(&compressed, &FitOptions::default())?;
    let done = start.elapsed();
    println!(
        "n = {n}: validate {validated:?}, compress {:?} ({} rows), fit {:?} ({} iterations)",
        compressed_at - validated,
        compressed.len(),
        done - compressed_at,
        fitted.info.as_ref().map_or(0, |i| i.iterations)
    );
    Ok(())
}
