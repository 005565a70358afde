//! Simulate from known parameters, refit, and check the estimates recover
//! them: the one check every model's test file makes.

use retentionkit::{fit, predict, CompressedData, CustomerData, FitOptions, Fitted, Model};

/// Fits `M` to `data`, simulated from `truth`, with the default options and
/// checks that every estimate lies within 4 standard errors of the truth.
/// Returns the fit for further checks.
pub fn assert_recovers<M: Model>(truth: &M, data: &M::Data) -> Fitted<M> {
    let fitted = fit::<M>(data, &FitOptions::default()).unwrap();
    let se = fitted.standard_errors();
    let names = truth.param_names();
    assert_eq!(se.len(), names.len());
    for ((name, (estimate, true_value)), se) in names
        .iter()
        .zip(fitted.params().into_iter().zip(truth.to_vec()))
        .zip(se)
    {
        assert!(
            (estimate - true_value).abs() < 4.0 * se,
            "{} {name}: estimate {estimate} vs truth {true_value} (se {se})",
            M::NAME
        );
    }
    fitted
}

/// Customers of ages `ages` simulated from the transaction model `truth` with
/// `seed`, as compressed data; checks that the simulation is reproducible.
pub fn simulate_customers<M>(truth: &M, ages: &[f64], seed: u64) -> CompressedData
where
    M: retentionkit::TransactionModel,
{
    let sim = predict::simulate(truth, ages, seed).unwrap();
    assert_eq!(
        sim,
        predict::simulate(truth, ages, seed).unwrap(),
        "simulation is reproducible"
    );
    let x: Vec<f64> = sim.iter().map(|c| c.frequency).collect();
    let tx: Vec<f64> = sim.iter().map(|c| c.recency).collect();
    let t: Vec<f64> = sim.iter().map(|c| c.age).collect();
    CustomerData::new(&x, &tx, &t, None).unwrap().compress()
}

/// `n` ages spread evenly over [27, 39) weeks, as in a 39-week calibration
/// period with a year of acquisitions.
pub fn cohort_ages(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 27.0 + 12.0 * (i as f64 / n as f64))
        .collect()
}
