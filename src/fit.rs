//! Maximum-likelihood fitting shared by every model, and the fitted model type.
//!
//! The optimiser is a damped Newton method in log-parameter space (every
//! parameter of our models is positive). Each iteration costs one fused pass
//! over the distinct rows that returns the log-likelihood, the analytic
//! gradient and the analytic Hessian together; with four parameters, solving
//! the 4 × 4 system is free. Levenberg–Marquardt damping keeps the step a
//! descent direction where the Hessian is indefinite, and a backtracking
//! (Armijo) line search guarantees progress. On large data the fit first
//! converges on a stratified subsample, then polishes on all rows, where it
//! usually needs two or three passes.
//!
//! The objective is the `lifetimes` one, so a `penalizer_coef` means the same:
//! `−LL/N + c · Σ (sᵢ θᵢ)²`, with N the number of customers and sᵢ the model's
//! penalty scale (time parameters are measured in units where max T = 10).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::linalg::{cholesky, cholesky_solve, spd_inverse};
use crate::model::{Derivatives, Evaluation, FitData, Model};

/// Options of [`fit`].
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// L2 penalty coefficient, with the semantics of `lifetimes`.
    pub penalizer_coef: f64,
    /// Starting values (natural scale); data-driven ones when `None`.
    pub initial_params: Option<Vec<f64>>,
    /// Convergence: largest absolute gradient component of the per-customer
    /// objective in log-parameter space.
    pub tol: f64,
    /// Iteration limit (on the full data).
    pub max_iterations: usize,
    /// Print progress to stderr.
    pub verbose: bool,
    /// Warm starts: with more distinct rows than half this, first fit a
    /// subsample of about an eighth of this many rows, then subsamples 8 times
    /// larger while the data has more than 16 times their size; the full data
    /// then needs a Newton step or two. 0 disables the warm start.
    pub warm_start_rows: usize,
    /// Return an error when the tolerance is not reached (default). When false,
    /// the result is returned with `converged == false`.
    pub require_convergence: bool,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            penalizer_coef: 0.0,
            initial_params: None,
            tol: 1e-8,
            max_iterations: 200,
            verbose: false,
            warm_start_rows: 50_000,
            require_convergence: true,
        }
    }
}

/// Statistics of a maximum-likelihood fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitInfo {
    /// Total log-likelihood Σ wᵢ ln Lᵢ at the estimate, in the data's time units.
    pub log_likelihood: f64,
    /// Newton iterations on the full data.
    pub iterations: usize,
    /// Whether the gradient tolerance was reached.
    pub converged: bool,
    /// Asymptotic covariance of the estimates (inverse observed information of
    /// the penalised objective), row-major; `None` when the Hessian is not
    /// negative definite.
    pub covariance: Option<Vec<f64>>,
    /// Number of customers (sum of weights).
    pub n_customers: f64,
    /// Number of distinct (x, t_x, T) rows.
    pub n_unique: usize,
    /// The penalty the fit used.
    pub penalizer_coef: f64,
}

/// Summary row of one parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSummary {
    /// Parameter name.
    pub name: &'static str,
    /// Estimate.
    pub coef: f64,
    /// Standard error (NaN when the covariance is unavailable).
    pub se: f64,
    /// Lower bound of the Wald 95% interval.
    pub lower_95: f64,
    /// Upper bound of the Wald 95% interval.
    pub upper_95: f64,
}

/// A model with its parameters and, if it was fitted, the fit statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted<M: Model> {
    /// The model (parameters).
    pub model: M,
    /// Fit statistics; `None` for a model built from known parameters.
    pub info: Option<FitInfo>,
}

const FORMAT: &str = "retentionkit-model";
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct SavedModel {
    format: String,
    version: u32,
    model: String,
    params: serde_json::Map<String, serde_json::Value>,
    fit: Option<FitInfo>,
}

impl<M: Model> Fitted<M> {
    /// Wraps known parameters (no fit statistics).
    pub fn from_model(model: M) -> Self {
        Self { model, info: None }
    }

    /// Parameter values in the order of `M::PARAM_NAMES`.
    pub fn params(&self) -> Vec<f64> {
        self.model.to_vec()
    }

    /// Total log-likelihood of the fit.
    pub fn log_likelihood(&self) -> Option<f64> {
        self.info.as_ref().map(|i| i.log_likelihood)
    }

    /// Standard errors, NaN where unavailable.
    pub fn standard_errors(&self) -> Vec<f64> {
        let p = M::PARAM_NAMES.len();
        match self.info.as_ref().and_then(|i| i.covariance.as_ref()) {
            Some(cov) => (0..p).map(|i| cov[i * p + i].sqrt()).collect(),
            None => vec![f64::NAN; p],
        }
    }

    /// Akaike information criterion 2k − 2 LL.
    pub fn aic(&self) -> Option<f64> {
        let k = M::PARAM_NAMES.len() as f64;
        self.log_likelihood().map(|ll| 2.0 * k - 2.0 * ll)
    }

    /// Bayesian information criterion k ln N − 2 LL, N the number of customers.
    pub fn bic(&self) -> Option<f64> {
        let k = M::PARAM_NAMES.len() as f64;
        let info = self.info.as_ref()?;
        Some(k * info.n_customers.ln() - 2.0 * info.log_likelihood)
    }

    /// Estimates with standard errors and Wald 95% intervals.
    pub fn summary(&self) -> Vec<ParamSummary> {
        let z = 1.959_963_984_540_054;
        M::PARAM_NAMES
            .iter()
            .zip(self.params())
            .zip(self.standard_errors())
            .map(|((&name, coef), se)| ParamSummary {
                name,
                coef,
                se,
                lower_95: coef - z * se,
                upper_95: coef + z * se,
            })
            .collect()
    }

    /// The JSON format shared by the Rust crate and the Python package.
    pub fn to_json(&self) -> String {
        let params = M::PARAM_NAMES
            .iter()
            .zip(self.params())
            .map(|(&n, v)| (n.to_string(), serde_json::Value::from(v)))
            .collect();
        let saved = SavedModel {
            format: FORMAT.to_string(),
            version: FORMAT_VERSION,
            model: M::NAME.to_string(),
            params,
            fit: self.info.clone(),
        };
        serde_json::to_string_pretty(&saved).expect("a model always serialises")
    }

    /// Reads what [`Fitted::to_json`] wrote.
    pub fn from_json(text: &str) -> Result<Self> {
        let saved: SavedModel =
            serde_json::from_str(text).map_err(|e| Error::Serialization(e.to_string()))?;
        if saved.format != FORMAT || saved.version > FORMAT_VERSION {
            return Err(Error::Serialization(format!(
                "not a {FORMAT} file of version <= {FORMAT_VERSION}"
            )));
        }
        if saved.model != M::NAME {
            return Err(Error::Serialization(format!(
                "the file holds a {} model, not {}",
                saved.model,
                M::NAME
            )));
        }
        let values = M::PARAM_NAMES
            .iter()
            .map(|&n| {
                saved.params.get(n).and_then(|v| v.as_f64()).ok_or_else(|| {
                    Error::Serialization(format!("parameter {n} is missing or not a number"))
                })
            })
            .collect::<Result<Vec<f64>>>()?;
        Ok(Self {
            model: M::from_slice(&values)?,
            info: saved.fit,
        })
    }
}

/// Penalised per-customer objective in log-parameter space, with derivatives.
struct Objective<'a, M: Model> {
    data: &'a M::Data,
    penalizer: f64,
    scale: Vec<f64>,
    n: f64,
}

struct Point {
    theta: Vec<f64>,
    /// The model's own evaluation (natural scale, total log-likelihood).
    raw: Evaluation,
    value: f64,
    gradient: Vec<f64>,
    hessian: Vec<f64>,
    log_likelihood: f64,
}

impl<M: Model> Objective<'_, M> {
    fn eval(&self, theta: &[f64]) -> Result<Option<Point>> {
        let p = theta.len();
        let phi: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
        let model = match M::from_slice(&phi) {
            Ok(m) => m,
            Err(_) => return Ok(None), // outside the domain (e.g. overflow): reject the step
        };
        let ev = model.evaluate(self.data, Derivatives::Hessian);
        if !ev.value.is_finite() {
            return Ok(None);
        }
        let c = self.penalizer;
        let s2: Vec<f64> = self.scale.iter().map(|s| s * s).collect();
        let penalty: f64 = (0..p).map(|i| s2[i] * phi[i] * phi[i]).sum::<f64>() * c;
        let value = -ev.value / self.n + penalty;
        let mut gradient = vec![0.0; p];
        let mut hessian = vec![0.0; p * p];
        for i in 0..p {
            gradient[i] = -phi[i] * ev.gradient[i] / self.n + 2.0 * c * s2[i] * phi[i] * phi[i];
            for j in 0..p {
                let mut h = -phi[i] * phi[j] * ev.hessian[i * p + j] / self.n;
                if i == j {
                    h += -phi[i] * ev.gradient[i] / self.n + 4.0 * c * s2[i] * phi[i] * phi[i];
                }
                hessian[i * p + j] = h;
            }
        }
        if !(gradient.iter().all(|g| g.is_finite()) && hessian.iter().all(|h| h.is_finite())) {
            return Ok(None);
        }
        Ok(Some(Point {
            theta: theta.to_vec(),
            value,
            gradient,
            hessian,
            log_likelihood: ev.value,
            raw: ev,
        }))
    }
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Damped Newton iterations from `theta`; returns the last point, the number
/// of iterations and whether the tolerance was met.
fn newton<M: Model>(
    objective: &Objective<'_, M>,
    theta: Vec<f64>,
    tol: f64,
    max_iterations: usize,
    verbose: bool,
) -> Result<(Point, usize, bool)> {
    let p = theta.len();
    let mut current = objective.eval(&theta)?.ok_or_else(|| {
        Error::Numerical(format!(
            "the log-likelihood is not finite at the starting values {:?}",
            theta.iter().map(|t| t.exp()).collect::<Vec<_>>()
        ))
    })?;
    for iteration in 0..max_iterations {
        let gnorm = max_abs(&current.gradient);
        if verbose {
            eprintln!(
                "iteration {iteration:3}: objective {:.12e}, |gradient| {gnorm:.3e}, params {:?}",
                current.value,
                current.theta.iter().map(|t| t.exp()).collect::<Vec<_>>()
            );
        }
        if gnorm < tol {
            return Ok((current, iteration, true));
        }
        let diag_max = (0..p).fold(0.0f64, |m, i| m.max(current.hessian[i * p + i].abs()));
        let mut damping = 0.0;
        let mut accepted = None;
        for _attempt in 0..40 {
            let mut h = current.hessian.clone();
            for i in 0..p {
                h[i * p + i] += damping;
            }
            let Some(l) = cholesky(&h, p) else {
                damping = if damping == 0.0 {
                    1e-10 * diag_max.max(1e-10)
                } else {
                    damping * 10.0
                };
                continue;
            };
            let neg_g: Vec<f64> = current.gradient.iter().map(|g| -g).collect();
            let mut step = cholesky_solve(&l, p, &neg_g);
            let longest = max_abs(&step);
            if longest > 3.0 {
                step.iter_mut().for_each(|s| *s *= 3.0 / longest);
            }
            let slope: f64 = step.iter().zip(&current.gradient).map(|(s, g)| s * g).sum();
            let mut length = 1.0;
            for _ in 0..30 {
                let trial: Vec<f64> = current
                    .theta
                    .iter()
                    .zip(&step)
                    .map(|(t, s)| t + length * s)
                    .collect();
                if let Some(point) = objective.eval(&trial)? {
                    if point.value <= current.value + 1e-4 * length * slope {
                        accepted = Some(point);
                        break;
                    }
                    // At the optimum's floating-point floor no step can decrease
                    // the objective: accept a tiny step that does not increase it.
                    if length * max_abs(&step) < 1e-12 && point.value <= current.value {
                        accepted = Some(point);
                        break;
                    }
                }
                length *= 0.25;
            }
            if accepted.is_some() {
                break;
            }
            damping = if damping == 0.0 {
                1e-6 * diag_max.max(1e-10)
            } else {
                damping * 10.0
            };
        }
        match accepted {
            Some(point) => {
                let stalled = (point.value - current.value).abs() <= 1e-15 * current.value.abs()
                    && point
                        .theta
                        .iter()
                        .zip(&current.theta)
                        .all(|(a, b)| (a - b).abs() < 1e-12);
                current = point;
                if stalled {
                    let ok = max_abs(&current.gradient) < tol.max(1e-6);
                    return Ok((current, iteration + 1, ok));
                }
            }
            None => {
                // No descent step exists numerically: we are at the optimum as
                // far as floating point can tell, or stuck.
                let ok = max_abs(&current.gradient) < tol.max(1e-6);
                return Ok((current, iteration, ok));
            }
        }
    }
    let ok = max_abs(&current.gradient) < tol;
    Ok((current, max_iterations, ok))
}

/// Largest standard error, relative to the estimate, of an identified parameter.
const MAX_RELATIVE_SE: f64 = 100.0;

/// Fits `M` to `data` by (penalised) maximum likelihood.
///
/// Errors: invalid options; [`Error::Unidentified`] when the optimum lies on the
/// boundary of the parameter space (the observed information is not positive
/// definite, or a standard error exceeds 100 times its estimate);
/// [`Error::NotConverged`] when the tolerance is not reached. With
/// `require_convergence = false` both are returned as a fit instead.
pub fn fit<M: Model>(data: &M::Data, options: &FitOptions) -> Result<Fitted<M>> {
    let p = M::PARAM_NAMES.len();
    if !(options.penalizer_coef >= 0.0 && options.penalizer_coef.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "penalizer_coef".into(),
            value: options.penalizer_coef,
            rule: "must be finite and non-negative",
        });
    }
    if options.tol.is_nan() || options.tol <= 0.0 {
        return Err(Error::InvalidParameter {
            name: "tol".into(),
            value: options.tol,
            rule: "must be positive",
        });
    }
    let start = match &options.initial_params {
        Some(v) => {
            M::from_slice(v)?;
            v.clone()
        }
        None => M::initial_params(data),
    };
    let mut theta: Vec<f64> = start.iter().map(|v| v.ln()).collect();
    let n = data.total_weight();
    let scale = M::penalty_scale(data);
    // Warm starts on subsamples growing eightfold, each converged tightly, so
    // the full data needs only a Newton step or two.
    let mut sizes = Vec::new();
    let mut size = options.warm_start_rows / 8;
    while size > 0 && data.rows() > if sizes.is_empty() { 4 } else { 16 } * size {
        sizes.push(size);
        size *= 8;
    }
    for size in sizes {
        let sample = data.subsample(data.rows() / size);
        let obj = Objective::<M> {
            data: &sample,
            penalizer: options.penalizer_coef,
            scale: scale.clone(),
            n: sample.total_weight(),
        };
        if let Ok((point, iterations, _)) = newton(&obj, theta.clone(), 1e-9, 100, options.verbose)
        {
            if options.verbose {
                eprintln!(
                    "warm start on {} rows: {iterations} iterations",
                    sample.rows()
                );
            }
            theta = point.theta;
        }
    }
    let objective = Objective::<M> {
        data,
        penalizer: options.penalizer_coef,
        scale: scale.clone(),
        n,
    };
    let (point, iterations, converged) = newton(
        &objective,
        theta,
        options.tol,
        options.max_iterations,
        options.verbose,
    )?;
    let phi: Vec<f64> = point.theta.iter().map(|t| t.exp()).collect();
    let model = M::from_slice(&phi)?;
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
    let identified = covariance
        .as_ref()
        .is_some_and(|cov| (0..p).all(|i| cov[i * p + i].sqrt() <= MAX_RELATIVE_SE * phi[i]));
    if !identified && options.require_convergence {
        return Err(Error::Unidentified {
            params: M::PARAM_NAMES
                .iter()
                .zip(&phi)
                .map(|(n, v)| format!("{n}={v:.6e}"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    if !converged && options.require_convergence {
        return Err(Error::NotConverged {
            iterations,
            gradient_norm: max_abs(&point.gradient),
        });
    }
    Ok(Fitted {
        model,
        info: Some(FitInfo {
            log_likelihood: point.log_likelihood,
            iterations,
            converged,
            covariance,
            n_customers: n,
            n_unique: data.rows(),
            penalizer_coef: options.penalizer_coef,
        }),
    })
}
