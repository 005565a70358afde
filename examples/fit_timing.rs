//! Times the stages of a BG/NBD fit on simulated customers:
//! `cargo run --release --example fit_timing -- 1000000`.

use std::time::Instant;

use retentionkit::{fit, predict, BetaGeo, CustomerData, Derivatives, FitOptions, Model};

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
