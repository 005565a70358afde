//! Maximum-likelihood fitting shared by every model, and the fitted model type.
//!
//! The optimiser is a damped Newton method on the unconstrained parameters:
//! each parameter is mapped onto the real line by the [`Transform`] its model
//! instance declares (log for positive parameters, logit for probabilities,
//! none for regression coefficients), and the model's natural-scale gradient
//! and Hessian are carried over by the chain rule. Each iteration costs one
//! fused pass over the distinct rows that returns the log-likelihood, the
//! analytic gradient and the analytic Hessian together (a model that supplies
//! no Hessian gets one from differences of its gradient, see [`numerical`]);
//! with four parameters, solving the 4 × 4 system is free.
//! Levenberg–Marquardt damping keeps the step a descent direction where the
//! Hessian is indefinite, and a backtracking (Armijo) line search guarantees
//! progress. On large data the fit first converges on a stratified subsample
//! (`warm_start`), then polishes on all rows, where it usually needs two or
//! three passes: the last Newton step, once it is short enough for the
//! quadratic model to predict its end point to rounding, is taken without
//! another pass (see `newton`).
//!
//! The objective is the `lifetimes` one, so a `penalizer_coef` means the same:
//! `−LL/N + c · Σ (sᵢ φᵢ)²`, with N the number of customers, φᵢ the
//! parameters on their natural scale (whatever the transform) and sᵢ the
//! model's penalty scale (time parameters are measured in units where
//! max T = 10).
//!
//! - `options`: [`FitOptions`];
//! - `newton`: the objective, its quadratic prediction and the Newton loop,
//!   which reports a [`Termination`];
//! - `warm_start`: the subsample schedule;
//! - `fitted`: [`Fitted`], [`FitInfo`], [`ParamSummary`] (a table of [`ParamEstimate`]s);
//! - `json`: the saved format ([`Fitted::to_json`], [`Fitted::from_json`]);
//! - [`numerical`]: five-point differences, for models without a Hessian and
//!   for tests.

mod fitted;
mod json;
mod newton;
pub mod numerical;
mod options;
mod warm_start;

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::models::{FitData, Model, ParamSpec, Transform};
use crate::special::linalg::spd_inverse;

pub use fitted::{FitInfo, Fitted, ParamEstimate, ParamSummary};
pub(crate) use json::covariance_problem;
pub use newton::Termination;
pub use options::FitOptions;

use newton::{max_abs, natural, newton, NewtonResult, Objective};
use warm_start::warm_start;

/// Largest standard error of an identified parameter on the unconstrained
/// scale (by the delta method: the natural-scale standard error over dφ/dθ,
/// so for a positive parameter its standard error relative to the estimate).
const MAX_RELATIVE_SE: f64 = 100.0;

/// Fits `M` to `data` by (penalised) maximum likelihood.
///
/// Errors: invalid options; [`Error::Unidentified`] when the optimum lies on the
/// boundary of the parameter space (the observed information is not positive
/// definite, or a standard error exceeds 100 times its estimate, for a
/// positive parameter; 100 on the unconstrained scale in general);
/// [`Error::NotConverged`] when the tolerance is not reached. With
/// `require_convergence = false` both are returned as a fit instead.
pub fn fit<M: Model>(data: &M::Data, options: &FitOptions) -> Result<Fitted<M>> {
    fit_from(&M::template(data), data, options)
}

/// [`fit`] from a given model, whose parameter list the fit keeps and whose
/// [`Model::initial_params`] give the starting values (unless the options
/// set them).
fn fit_from<M: Model>(template: &M, data: &M::Data, options: &FitOptions) -> Result<Fitted<M>> {
    let specs: Vec<ParamSpec> = template.param_specs();
    let transforms: Vec<Transform> = specs.iter().map(|s| s.transform).collect();
    let p = specs.len();
    if !(options.penalizer_coef >= 0.0 && options.penalizer_coef.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "penalizer_coef".into(),
            value: options.penalizer_coef,
            rule: "must be finite and non-negative",
        });
    }
    if !(options.tol > 0.0 && options.tol.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "tol".into(),
            value: options.tol,
            rule: "must be positive and finite",
        });
    }
    let start = match &options.initial_params {
        Some(v) => {
            template.with_params(v)?;
            v.clone()
        }
        None => template.initial_params(data),
    };
    let theta: Vec<f64> = transforms
        .iter()
        .zip(&start)
        .map(|(t, &v)| t.to_unconstrained(v))
        .collect();
    let n = data.total_weight();
    let scale = template.penalty_scale(data);
    let theta = warm_start(template, &transforms, data, theta, &scale, options);
    let objective = Objective::<M> {
        template,
        transforms: transforms.clone(),
        data,
        penalizer: options.penalizer_coef,
        scale: scale.clone(),
        n,
    };
    let NewtonResult {
        point,
        iterations,
        termination,
        converged,
    } = newton(
        &objective,
        theta,
        options.tol,
        options.max_iterations,
        options.verbose,
    )?;
    let phi = natural(&transforms, &point.theta);
    let model = template.with_params(&phi)?;
    // Observed information of the penalised total objective, natural scale,
    // from the Hessian already computed at the final point.
    let ev = &point.raw;
    let mut information = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..p {
            information[i * p + j] = -ev.hessian[i * p + j];
        }
        information[i * p + i] += 2.0 * n * options.penalizer_coef * scale[i] * scale[i];
    }
    let covariance = spd_inverse(&information, p);
    // A parameter whose standard error exceeds a hundred times its value is
    // not determined by the data: the likelihood is flat towards a boundary.
    let identified = covariance.as_ref().is_some_and(|cov| {
        (0..p).all(|i| {
            cov[i * p + i].sqrt()
                <= MAX_RELATIVE_SE * transforms[i].derivative_at_natural(phi[i]).abs()
        })
    });
    // A model that recognises the boundary as one of its limit models (its
    // fit warnings say which) predicts correctly there: the fit is returned
    // with the warnings instead of refused.
    let warnings = model.fit_warnings();
    if !identified && options.require_convergence && warnings.is_empty() {
        return Err(Error::Unidentified {
            params: specs
                .iter()
                .map(|s| &s.name)
                .zip(&phi)
                .map(|(n, v)| format!("{n}={v:.6e}"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    // On such a limit's flat ridge the likelihood's rounding (ln Γ of a, b in
    // the millions) can stop the search just short of the gradient
    // tolerance: accepted there when no step could improve the value and the
    // gradient is small anyway. The gradient is a sum over customers whose
    // rounding grows with their number (and its summation order, which rayon
    // chooses at run time), so "small" is 1e-4 or 1e-8 per customer, whichever
    // is larger: a 50,000-customer fit stopped at 1.7e-4 in one run and below
    // 1e-4 in another.
    let ridge_tolerance = 1e-4_f64.max(1e-8 * n);
    let stopped_on_ridge = !warnings.is_empty()
        && matches!(termination, Termination::Stalled | Termination::NoDescent)
        && max_abs(&point.gradient) < ridge_tolerance;
    if !converged && options.require_convergence && !stopped_on_ridge {
        return Err(Error::NotConverged {
            iterations,
            gradient_norm: max_abs(&point.gradient),
        });
    }
    Ok(Fitted {
        model: model.clone(),
        info: Some(FitInfo {
            log_likelihood: point.log_likelihood,
            iterations,
            converged,
            termination: Some(if identified {
                termination
            } else {
                Termination::NotIdentified
            }),
            covariance,
            n_customers: n,
            n_unique: data.rows(),
            penalizer_coef: options.penalizer_coef,
            warnings,
        }),
        data: None,
    })
}

/// [`fit`], keeping the data in the result (moved, not copied), so that the
/// fitted model carries what it was fitted on, like the Python fitters' `data`.
///
/// ```
/// use retentionkit::{fit_keeping_data, BetaGeo, CustomerData, FitOptions, Model};
/// let (x, t_x, t) = (vec![0.0, 1.0, 3.0, 2.0], vec![0.0, 5.0, 30.0, 20.0], vec![40.0; 4]);
/// let data = CustomerData::new(&x, &t_x, &t, None)?.compress();
/// let options = FitOptions { require_convergence: false, ..FitOptions::default() };
/// let fitted = fit_keeping_data::<BetaGeo>(data, &options)?;
/// let kept = fitted.data().expect("kept");
/// assert_eq!(kept.total_weight, 4.0);
/// let ll = fitted.model.evaluate(kept, retentionkit::Derivatives::None).value;
/// assert!((ll - fitted.log_likelihood()).abs() < 1e-9);
/// # Ok::<(), retentionkit::Error>(())
/// ```
pub fn fit_keeping_data<M: Model>(data: M::Data, options: &FitOptions) -> Result<Fitted<M>> {
    let mut fitted = fit::<M>(&data, options)?;
    fitted.data = Some(Arc::new(data));
    Ok(fitted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BetaGeo, CustomerData, Derivatives};

    /// `n` customers simulated from the CDNOW BG/NBD estimates.
    pub(crate) fn simulated(n: usize) -> crate::CompressedData {
        let truth = BetaGeo::new(0.243, 4.414, 0.793, 2.426).unwrap();
        let ages: Vec<f64> = (0..n).map(|i| 27.0 + 12.0 * i as f64 / n as f64).collect();
        let sim = crate::predict::simulate(&truth, &ages, 3).unwrap();
        let x: Vec<f64> = sim.iter().map(|c| c.frequency).collect();
        let tx: Vec<f64> = sim.iter().map(|c| c.recency).collect();
        let t: Vec<f64> = sim.iter().map(|c| c.age).collect();
        CustomerData::new(&x, &tx, &t, None).unwrap().compress()
    }
    /// However the last step was taken, the reported log-likelihood is the
    /// log-likelihood at the reported parameters, where the gradient is below
    /// the tolerance.
    #[test]
    fn reported_fit_is_consistent_at_the_estimate() {
        let data = simulated(400_000);
        let fitted = fit::<BetaGeo>(&data, &FitOptions::default()).unwrap();
        let info = fitted.info.as_ref().unwrap();
        let ev = fitted.model.evaluate(&data, Derivatives::Gradient);
        assert!(
            (ev.value - info.log_likelihood).abs() < 1e-12 * ev.value.abs(),
            "reported {} vs evaluated {}",
            info.log_likelihood,
            ev.value
        );
        let params = fitted.params();
        for (g, phi) in ev.gradient.iter().zip(&params) {
            assert!((g * phi / info.n_customers).abs() < 1e-8, "gradient {g}");
        }
    }
}
