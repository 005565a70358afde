//! Times customer lifetime value for BG/NBD at 1M customers:
//! `cargo run --release --example clv_timing`.

use std::time::Instant;

use retentionkit::{customer_lifetime_value, predict, BetaGeo, ClvOptions};

fn main() -> Result<(), retentionkit::Error> {
    let n = 1_000_000;
    let model = BetaGeo::new(0.243, 4.414, 0.793, 2.426)?;
    let ages: Vec<f64> = (0..n)
        .map(|i| 27.0 + 12.0 * ((i * 7919) % n) as f64 / n as f64)
        .collect();
    let sims = predict::simulate(&model, &ages, 7)?;
    let x: Vec<f64> = sims.iter().map(|c| c.frequency).collect();
    let tx: Vec<f64> = sims.iter().map(|c| c.recency).collect();
    let spend = vec![25.0; n];
    let options = ClvOptions {
        unit: retentionkit::TimeUnit::Week,
        ..ClvOptions::default()
    };
    for _ in 0..3 {
        let start = Instant::now();
        let clv = customer_lifetime_value(&model, &x, &tx, &ages, &spend, &options)?;
        println!(
            "CLV of {n} customers: {:?} (sum {:.6e})",
            start.elapsed(),
            clv.iter().sum::<f64>()
        );
    }
    Ok(())
}
