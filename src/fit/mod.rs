//! Maximum-likelihood fitting shared by every model, and the fitted model type.
//!
//! The optimiser is a damped Newton method on the unconstrained parameters:
//! each parameter is mapped onto the real line by the [`Transform`] its model
//! instance declares (log for positive parameters, logit for probabilities,
//! none for regression coefficients), and the model's natural-scale gradient
//! and Hessian are carried over by the chain rule. Each iteration costs one fused pass
//! over the distinct rows that returns the log-likelihood, the analytic
//! gradient and the analytic Hessian together; with four parameters, solving
//! the 4 × 4 system is free. Levenberg–Marquardt damping keeps the step a
//! descent direction where the Hessian is indefinite, and a backtracking
//! (Armijo) line search guarantees progress. On large data the fit first
//! converges on a stratified subsample, then polishes on all rows, where it
//! usually needs two or three passes: the last Newton step, once it is short
//! enough for the quadratic model to predict its end point to rounding, is
//! taken without another pass (see `newton`).
//!
//! The objective is the `lifetimes` one, so a `penalizer_coef` means the same:
//! `−LL/N + c · Σ (sᵢ θᵢ)²`, with N the number of customers and sᵢ the model's
//! penalty scale (time parameters are measured in units where max T = 10). The
//! penalty is on the natural scale, whatever the transform.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::{Derivatives, Evaluation, FitData, Model, ParamSpec, Transform};
use crate::special::linalg::{cholesky, cholesky_solve, spd_inverse};

/// Options of [`fit`].
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// L2 penalty coefficient, with the semantics of `lifetimes`.
    pub penalizer_coef: f64,
    /// Starting values (natural scale); data-driven ones when `None`.
    pub initial_params: Option<Vec<f64>>,
    /// Convergence: largest absolute gradient component of the per-customer
    /// objective in unconstrained parameters (log-parameters for positive
    /// ones).
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
    pub name: String,
    /// Estimate.
    pub coef: f64,
    /// Standard error (NaN when the covariance is unavailable).
    pub se: f64,
    /// Lower bound of the Wald 95% interval.
    pub lower_95: f64,
    /// Upper bound of the Wald 95% interval.
    pub upper_95: f64,
}

/// A model with its parameters and, if it was fitted, the fit statistics and
/// (with [`fit_keeping_data`]) the data.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted<M: Model> {
    /// The model (parameters).
    pub model: M,
    /// Fit statistics; `None` for a model built from known parameters.
    pub info: Option<FitInfo>,
    /// The data the model was fitted on, when [`fit_keeping_data`] kept it
    /// (shared, so cloning a fit does not copy it); `None` after [`fit`],
    /// which borrows the data, and for models built from parameters or read
    /// from JSON (the file holds no data).
    pub data: Option<Arc<M::Data>>,
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
        Self {
            model,
            info: None,
            data: None,
        }
    }

    /// The data of the fit, if it was kept (see [`fit_keeping_data`]).
    pub fn data(&self) -> Option<&M::Data> {
        self.data.as_deref()
    }

    /// Parameter values in the order of the model's [`Model::param_specs`].
    pub fn params(&self) -> Vec<f64> {
        self.model.to_vec()
    }

    /// Total log-likelihood of the fit.
    pub fn log_likelihood(&self) -> Option<f64> {
        self.info.as_ref().map(|i| i.log_likelihood)
    }

    /// Standard errors, NaN where unavailable.
    pub fn standard_errors(&self) -> Vec<f64> {
        let p = self.model.param_specs().len();
        match self.info.as_ref().and_then(|i| i.covariance.as_ref()) {
            Some(cov) => (0..p).map(|i| cov[i * p + i].sqrt()).collect(),
            None => vec![f64::NAN; p],
        }
    }

    /// Akaike information criterion 2k − 2 LL.
    pub fn aic(&self) -> Option<f64> {
        let k = self.model.param_specs().len() as f64;
        self.log_likelihood().map(|ll| 2.0 * k - 2.0 * ll)
    }

    /// Bayesian information criterion k ln N − 2 LL, N the number of customers.
    pub fn bic(&self) -> Option<f64> {
        let k = self.model.param_specs().len() as f64;
        let info = self.info.as_ref()?;
        Some(k * info.n_customers.ln() - 2.0 * info.log_likelihood)
    }

    /// Estimates with standard errors and Wald 95% intervals.
    pub fn summary(&self) -> Vec<ParamSummary> {
        let z = 1.959_963_984_540_054;
        self.model
            .param_names()
            .into_iter()
            .zip(self.params())
            .zip(self.standard_errors())
            .map(|((name, coef), se)| ParamSummary {
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
        let params = self
            .model
            .param_names()
            .into_iter()
            .zip(self.params())
            .map(|(n, v)| (n, serde_json::Value::from(v)))
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
        // Values that are not numbers are left out, so that the model reports
        // them as missing if it needs them.
        let params = saved
            .params
            .iter()
            .filter_map(|(n, v)| Some((n.clone(), v.as_f64()?)))
            .collect();
        Ok(Self {
            model: M::from_named_params(&params)?,
            info: saved.fit,
            data: None,
        })
    }
}

/// Penalised per-customer objective in unconstrained parameters, with
/// derivatives.
struct Objective<'a, M: Model> {
    /// The model whose siblings are evaluated.
    template: &'a M,
    /// The transforms of the template's parameters.
    transforms: Vec<Transform>,
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
    /// The natural-scale values of unconstrained ones.
    fn natural(&self, theta: &[f64]) -> Vec<f64> {
        natural(&self.transforms, theta)
    }

    fn eval(&self, theta: &[f64]) -> Result<Option<Point>> {
        let p = theta.len();
        let phi = self.natural(theta);
        // dφ/dθ and d²φ/dθ² (both φ for log-parameters).
        let d1: Vec<f64> = (0..p)
            .map(|i| self.transforms[i].derivative(theta[i]))
            .collect();
        let d2: Vec<f64> = (0..p)
            .map(|i| self.transforms[i].second_derivative(theta[i]))
            .collect();
        let model = match self.template.with_params(&phi) {
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
        // The chain rule: ∂f/∂θᵢ = φ'ᵢ ∂f/∂φᵢ and ∂²f/∂θᵢ∂θⱼ = φ'ᵢ φ'ⱼ ∂²f/∂φᵢ∂φⱼ
        // + δᵢⱼ φ''ᵢ ∂f/∂φᵢ; the penalty c sᵢ² φᵢ² adds 2c sᵢ² φᵢ φ'ᵢ and
        // 2c sᵢ² (φ'ᵢ² + φᵢ φ''ᵢ). (Written so that log-parameters round as
        // φᵢ(θ) = e^θ always did.)
        for i in 0..p {
            gradient[i] = -d1[i] * ev.gradient[i] / self.n + 2.0 * c * s2[i] * phi[i] * d1[i];
            for j in 0..p {
                let mut h = -d1[i] * d1[j] * ev.hessian[i * p + j] / self.n;
                if i == j {
                    h += -d2[i] * ev.gradient[i] / self.n
                        + (2.0 * c * s2[i] * d1[i] * d1[i] + 2.0 * c * s2[i] * phi[i] * d2[i]);
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

/// The natural-scale values of unconstrained ones.
fn natural(transforms: &[Transform], theta: &[f64]) -> Vec<f64> {
    transforms
        .iter()
        .zip(theta)
        .map(|(t, &x)| t.from_unconstrained(x))
        .collect()
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Largest Newton step (in unconstrained parameters) that may be taken without
/// evaluating the objective at its end; see [`newton`].
const MAX_UNCHECKED_STEP: f64 = 1e-4;

impl<M: Model> Objective<'_, M> {
    /// The point `current + step` as the quadratic model at `current` predicts
    /// it: value and log-likelihood to second order, gradient `g + H s`, and
    /// the Hessian of `current`. Used only for a last Newton step so short that
    /// the prediction is exact to rounding (its error is of order |s|³ in the
    /// value and |s|² in the gradient, and the Hessian moves by O(|s|)).
    fn predict(&self, current: &Point, step: &[f64]) -> Point {
        let p = step.len();
        let hs: Vec<f64> = (0..p)
            .map(|i| (0..p).map(|j| current.hessian[i * p + j] * step[j]).sum())
            .collect();
        let change: f64 = (0..p)
            .map(|i| step[i] * (current.gradient[i] + 0.5 * hs[i]))
            .sum();
        let theta: Vec<f64> = current.theta.iter().zip(step).map(|(t, s)| t + s).collect();
        let penalty = |theta: &[f64]| -> f64 {
            theta
                .iter()
                .zip(&self.scale)
                .zip(&self.transforms)
                .map(|((t, s), f)| s * s * f.natural_squared(*t))
                .sum::<f64>()
                * self.penalizer
        };
        let penalty_change = penalty(&theta) - penalty(&current.theta);
        let log_likelihood = current.log_likelihood - self.n * (change - penalty_change);
        Point {
            gradient: (0..p).map(|i| current.gradient[i] + hs[i]).collect(),
            hessian: current.hessian.clone(),
            value: current.value + change,
            log_likelihood,
            raw: Evaluation {
                value: log_likelihood,
                ..current.raw.clone()
            },
            theta,
        }
    }
}

/// Damped Newton iterations from `theta`; returns the last point, the number
/// of iterations and whether the tolerance was met.
///
/// Newton's method converges quadratically: after a full, undamped step s the
/// gradient is about K |s|², and K can be read off the previous step (taken as
/// at least 1). When the next step is so short that K |s|² is a hundred times
/// below `tol` (and |s| ≤ 1e-4), that step is taken without a further pass over the data: the
/// quadratic model predicts the end point to rounding (see
/// [`Objective::predict`]). On large data this saves one of the three or four
/// passes a fit from a warm start needs.
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
            objective.natural(&theta)
        ))
    })?;
    // Length of the previous step when it was a full, undamped Newton step.
    let mut previous_newton_step: Option<f64> = None;
    for iteration in 0..max_iterations {
        let gnorm = max_abs(&current.gradient);
        if verbose {
            eprintln!(
                "iteration {iteration:3}: objective {:.12e}, |gradient| {gnorm:.3e}, params {:?}",
                current.value,
                objective.natural(&current.theta)
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
            if damping == 0.0 && longest <= MAX_UNCHECKED_STEP && slope < 0.0 {
                if let Some(previous) = previous_newton_step.filter(|&s| s > 0.0) {
                    // Read off the previous step, but at least 1 (the scale of
                    // the third derivatives of a per-customer objective in
                    // log-parameters): a previous step taken far from the
                    // quadratic regime would underestimate it.
                    let contraction = (gnorm / (previous * previous)).max(1.0);
                    if contraction * longest * longest < 0.01 * tol {
                        let point = objective.predict(&current, &step);
                        if verbose {
                            eprintln!(
                                "iteration {:3}: objective {:.12e} (predicted), |gradient| about {:.1e}",
                                iteration + 1,
                                point.value,
                                contraction * longest * longest
                            );
                        }
                        return Ok((point, iteration + 1, true));
                    }
                }
            }
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
                        let full =
                            (damping == 0.0 && length == 1.0 && longest <= 3.0).then_some(longest);
                        accepted = Some((point, full));
                        break;
                    }
                    // At the optimum's floating-point floor no step can decrease
                    // the objective: accept a tiny step that does not increase it.
                    if length * max_abs(&step) < 1e-12 && point.value <= current.value {
                        accepted = Some((point, None));
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
            Some((point, full_newton)) => {
                previous_newton_step = full_newton;
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
    if options.tol.is_nan() || options.tol <= 0.0 {
        return Err(Error::InvalidParameter {
            name: "tol".into(),
            value: options.tol,
            rule: "must be positive",
        });
    }
    let start = match &options.initial_params {
        Some(v) => {
            template.with_params(v)?;
            v.clone()
        }
        None => template.initial_params(data),
    };
    let mut theta: Vec<f64> = transforms
        .iter()
        .zip(&start)
        .map(|(t, &v)| t.to_unconstrained(v))
        .collect();
    let n = data.total_weight();
    let scale = template.penalty_scale(data);
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
            template,
            transforms: transforms.clone(),
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
        template,
        transforms: transforms.clone(),
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
    if !identified && options.require_convergence {
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
/// assert!((ll - fitted.log_likelihood().unwrap()).abs() < 1e-9);
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
    use crate::{BetaGeo, CustomerData};

    fn simulated(n: usize) -> crate::CompressedData {
        let truth = BetaGeo::new(0.243, 4.414, 0.793, 2.426).unwrap();
        let ages: Vec<f64> = (0..n).map(|i| 27.0 + 12.0 * i as f64 / n as f64).collect();
        let sim = crate::predict::simulate(&truth, &ages, 3).unwrap();
        let x: Vec<f64> = sim.iter().map(|c| c.frequency).collect();
        let tx: Vec<f64> = sim.iter().map(|c| c.recency).collect();
        let t: Vec<f64> = sim.iter().map(|c| c.age).collect();
        CustomerData::new(&x, &tx, &t, None).unwrap().compress()
    }

    /// The quadratic prediction of a short step agrees with evaluating there.
    #[test]
    fn predicted_point_matches_evaluation() {
        let data = simulated(20_000);
        for penalizer in [0.0, 0.1] {
            let template = BetaGeo::template(&data);
            let objective = Objective::<BetaGeo> {
                template: &template,
                transforms: vec![Transform::Log; 4],
                data: &data,
                penalizer,
                scale: template.penalty_scale(&data),
                n: data.total_weight(),
            };
            let theta = [0.25f64, 4.5, 0.8, 2.4].map(f64::ln);
            let current = objective.eval(&theta).unwrap().unwrap();
            let step = [3e-5, -2e-5, 5e-5, -4e-5];
            let predicted = objective.predict(&current, &step);
            let end: Vec<f64> = theta.iter().zip(&step).map(|(t, s)| t + s).collect();
            let actual = objective.eval(&end).unwrap().unwrap();
            assert_eq!(predicted.theta, actual.theta);
            let scale = actual.log_likelihood.abs();
            assert!(
                (predicted.log_likelihood - actual.log_likelihood).abs() < 1e-12 * scale,
                "log-likelihood {} vs {}",
                predicted.log_likelihood,
                actual.log_likelihood
            );
            assert_eq!(predicted.raw.value, predicted.log_likelihood);
            assert!((predicted.value - actual.value).abs() < 1e-13 * actual.value.abs());
            for (p, a) in predicted.gradient.iter().zip(&actual.gradient) {
                assert!((p - a).abs() < 1e-8, "gradient {p} vs {a}");
            }
        }
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
