//! Times customer lifetime value for BG/NBD at 1M customers:
//! `cargo run --release --example clv_timing`.

use std::time::Instant;

use retentionkit::{customer_lifetime_value, ClvOptions};

#[path = "common/mod.rs"]
mod common;

fn main() -> Result<(), retentionkit::Error> {
    let n = 1_000_000;
    let model = common::cdnow_model();
    let (x, tx, ages) = common::simulated_customers(&model, n);
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
