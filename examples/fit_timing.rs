//! Times the stages of a BG/NBD fit on simulated customers:
//! `cargo run --release --example fit_timing -- 1000000`.

use std::time::Instant;

use retentionkit::{fit, predict, BetaGeo, CustomerData, Derivatives, FitOptions, Model};

#[path = "common/mod.rs"]
mod common;

fn main() -> Result<(), retentionkit::Error> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let (x, tx, t) = common::simulated_customers(&common::cdnow_model(), n);
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
    for derivatives in [
        Derivatives::None,
        Derivatives::Gradient,
        Derivatives::Hessian,
    ] {
        let start = Instant::now();
        for _ in 0..10 {
            std::hint::black_box(fitted.model.evaluate(&compressed, derivatives));
        }
        println!("one pass, {derivatives:?}: {:?}", start.elapsed() / 10);
    }
    let horizon = vec![39.0; n];
    for _ in 0..3 {
        let start = Instant::now();
        let e = predict::conditional_expected_purchases(&fitted.model, &horizon, &x, &tx, &t)?;
        let mid = Instant::now();
        let p = predict::probability_alive(&fitted.model, &x, &tx, &t)?;
        println!(
            "predict: conditional expectation {:?}, P(alive) {:?} ({})",
            mid - start,
            mid.elapsed(),
            e[0] + p[0]
        );
    }
    Ok(())
}
