//! Warm starts: on large data the fit first converges on stratified
//! subsamples growing eightfold, each converged tightly, so that the full data
//! needs only a Newton step or two.

use crate::fit::newton::{newton, Objective};
use crate::fit::FitOptions;
use crate::models::{FitData, Model, Transform};

/// The subsample sizes (in rows) of the warm start on `rows` distinct rows:
/// first about `warm_start_rows / 8` rows when the data has more than four
/// times that, then subsamples eight times larger while the data has more
/// than sixteen times their size. Empty when `warm_start_rows` is below 8.
pub(super) fn schedule(rows: usize, warm_start_rows: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut size = warm_start_rows / 8;
    while size > 0 && rows > if sizes.is_empty() { 4 } else { 16 } * size {
        sizes.push(size);
        size *= 8;
    }
    sizes
}

/// The unconstrained starting point `theta`, improved by fits on the
/// subsamples of [`schedule`]; a subsample fit that fails is skipped.
pub(super) fn warm_start<M: Model>(
    template: &M,
    transforms: &[Transform],
    data: &M::Data,
    mut theta: Vec<f64>,
    scale: &[f64],
    options: &FitOptions,
) -> Vec<f64> {
    for size in schedule(data.rows(), options.warm_start_rows) {
        let sample = data.subsample(data.rows() / size);
        let obj = Objective::<M> {
            template,
            transforms: transforms.to_vec(),
            data: &sample,
            penalizer: options.penalizer_coef,
            scale: scale.to_vec(),
            n: sample.total_weight(),
        };
        if let Ok(result) = newton(&obj, theta.clone(), 1e-9, 100, options.verbose) {
            if options.verbose {
                eprintln!(
                    "warm start on {} rows: {} iterations",
                    sample.rows(),
                    result.iterations
                );
            }
            theta = result.point.theta;
        }
    }
    theta
}

#[cfg(test)]
mod tests {
    use super::schedule;

    #[test]
    fn schedule_grows_eightfold() {
        assert_eq!(schedule(10_000, 50_000), Vec::<usize>::new());
        assert_eq!(schedule(25_001, 50_000), vec![6_250]);
        assert_eq!(schedule(800_001, 50_000), vec![6_250, 50_000]);
        assert_eq!(schedule(1_000_000, 0), Vec::<usize>::new());
    }
}
