//! Times the stages of a BG/NBD fit with covariates on simulated customers
//! (one binary and one standard normal covariate in each process, ages of
//! one to 365 days, every customer a distinct row) against the plain fit:
//! `cargo run --release --example covariate_fit_timing -- 1000000`.
//! Add `verbose` after the size to see the Newton iterations.

use std::time::Instant;

use retentionkit::models::covariates::{CovariateData, CovariateDesign, WithCovariates};
use retentionkit::{fit, BetaGeo, CustomerData, Derivatives, FitOptions, Model};

fn main() -> Result<(), retentionkit::Error> {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let verbose = args.next().is_some_and(|a| a == "verbose");
    // A small deterministic generator: uniforms, and normals by Box–Muller.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut z = Vec::with_capacity(2 * n);
    let mut ages = Vec::with_capacity(n);
    for _ in 0..n {
        let binary = if uniform() < 0.5 { 1.0 } else { 0.0 };
        let normal =
            (-2.0 * (1.0 - uniform()).ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
        z.extend([binary, normal]);
        ages.push((1.0 + (365.0 * uniform()).floor()).min(365.0));
    }
    let columns = ["binary".to_string(), "normal".to_string()];
    let design =
        || CovariateDesign::new::<BetaGeo>(&columns, &[vec![0, 1], vec![0, 1], vec![0, 1]], &[]);
    let truth = WithCovariates::new(
        BetaGeo::new(0.4, 50.0, 0.5, 5.0)?,
        design()?,
        vec![0.5, -0.3, -0.1, 0.2, -0.1, -0.1],
    )?;
    let customers = truth.simulate(&ages, &z, 7)?;
    let x: Vec<f64> = customers.iter().map(|c| c.frequency).collect();
    let tx: Vec<f64> = customers.iter().map(|c| c.recency).collect();
    for _ in 0..3 {
        let start = Instant::now();
        let data = CovariateData::new(&x, &tx, &ages, None, &z, design()?)?;
        let built = start.elapsed();
        let options = FitOptions {
            verbose,
            ..FitOptions::default()
        };
        let fitted = fit::<WithCovariates<BetaGeo>>(&data, &options)?;
        let done = start.elapsed();
        let start = Instant::now();
        let plain = CustomerData::new(&x, &tx, &ages, None)?.compress();
        fit::<BetaGeo>(&plain, &FitOptions::default())?;
        let plain_time = start.elapsed();
        println!(
            "n = {n}: build {built:?} ({} rows), fit {:?} ({} iterations); plain fit with \
             its compression {plain_time:?}; ratio {:.2}",
            data.len(),
            done - built,
            fitted.info.as_ref().map_or(0, |i| i.iterations),
            done.as_secs_f64() / plain_time.as_secs_f64()
        );
        for derivatives in [Derivatives::None, Derivatives::Hessian] {
            let start = Instant::now();
            for _ in 0..5 {
                std::hint::black_box(fitted.model.evaluate(&data, derivatives));
            }
            println!("  one pass, {derivatives:?}: {:?}", start.elapsed() / 5);
        }
    }
    Ok(())
}
