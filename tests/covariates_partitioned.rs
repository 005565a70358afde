//! A covariate fit through partial sums (as Dask and Spark partitions give
//! them) equals the fit on all rows together.

use std::sync::Arc;

use retentionkit::models::covariates::partitioned::{fit_partitioned, PartialSums};
use retentionkit::models::covariates::{CovariateData, CovariateDesign, WithCovariates};
use retentionkit::{fit, BetaGeo, Error, FitOptions, Model};

mod common;

#[test]
fn partial_sums_fit_equals_the_fit_on_all_rows() {
    let (x, tx, t) = common::cdnow_summary();
    let n = x.len();
    // A binary and a continuous trait, in both processes.
    let z: Vec<f64> = (0..n)
        .flat_map(|i| {
            [
                (i % 3 == 0) as u8 as f64,
                ((i * 7919) % 101) as f64 / 50.0 - 1.0,
            ]
        })
        .collect();
    let columns = ["binary".to_string(), "noise".to_string()];
    let design =
        || CovariateDesign::new::<BetaGeo>(&columns, &[vec![0, 1], vec![0], vec![1]], &[]).unwrap();
    let whole = CovariateData::new(&x, &tx, &t, None, &z, design()).unwrap();
    let direct = fit::<WithCovariates<BetaGeo>>(&whole, &FitOptions::default()).unwrap();

    let bounds = [0, 700, 1500, n];
    let parts: Vec<CovariateData> = bounds
        .windows(2)
        .map(|w| {
            let r = w[0]..w[1];
            let zr = &z[2 * w[0]..2 * w[1]];
            CovariateData::new(&x[r.clone()], &tx[r.clone()], &t[r], None, zr, design()).unwrap()
        })
        .collect();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let sums: Arc<PartialSums<BetaGeo>> = Arc::new(move |model, d| {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(parts
            .iter()
            .map(|p| model.evaluate(p, d))
            .fold(Default::default(), |a: retentionkit::Evaluation, b| {
                a.plus(&b)
            }))
    });
    let template = WithCovariates::<BetaGeo>::template(&whole);
    let start = template
        .with_params(&template.initial_params(&whole))
        .unwrap();
    let fitted = fit_partitioned(start, sums, n as f64, n, &FitOptions::default()).unwrap();
    assert!(
        (fitted.log_likelihood() - direct.log_likelihood()).abs() < 1e-7,
        "{} vs {}",
        fitted.log_likelihood(),
        direct.log_likelihood()
    );
    for (a, b) in fitted.params().iter().zip(direct.params()) {
        assert!((a - b).abs() < 1e-5 * b.abs().max(1.0), "{a} vs {b}");
    }
    for (a, b) in fitted
        .standard_errors()
        .iter()
        .zip(direct.standard_errors())
    {
        assert!((a - b).abs() < 1e-4 * b, "{a} vs {b}");
    }
    // A handful of passes over the partitions, not one per row.
    let passes = calls.load(std::sync::atomic::Ordering::Relaxed);
    assert!(passes < 60, "{passes} passes");
}

#[test]
fn an_error_in_a_partition_stops_the_fit_with_that_error() {
    let (x, tx, t) = common::cdnow_summary();
    let z: Vec<f64> = (0..x.len()).map(|i| (i % 2) as f64).collect();
    let design =
        CovariateDesign::new::<BetaGeo>(&["c".to_string()], &[vec![0], vec![], vec![]], &[])
            .unwrap();
    let whole = CovariateData::new(&x, &tx, &t, None, &z, design).unwrap();
    let template = WithCovariates::<BetaGeo>::template(&whole);
    let start = template
        .with_params(&template.initial_params(&whole))
        .unwrap();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let sums: Arc<PartialSums<BetaGeo>> = Arc::new(move |model, d| {
        if counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 1 {
            return Err(Error::InvalidCovariates("worker 3 lost".into()));
        }
        Ok(model.evaluate(&whole, d))
    });
    match fit_partitioned(start, sums, x.len() as f64, x.len(), &FitOptions::default()) {
        Err(Error::InvalidCovariates(m)) => assert_eq!(m, "worker 3 lost"),
        other => panic!("{other:?}"),
    }
    assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 2);
}
