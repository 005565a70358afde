//! The traits every model implements.
//!
//! [`Model`] is what the fitter needs: parameters, and the weighted
//! log-likelihood with its gradient and Hessian over a data set.
//! [`TransactionModel`] adds the predictions shared by the non-contractual
//! (x, t_x, T) models, which the vectorised, parallel functions in
//! [`crate::predict`] apply to whole customer bases.

use std::collections::BTreeMap;

use rand::Rng;

use crate::error::Result;
use crate::models::params::ParamSpec;

/// Which derivatives an evaluation must return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Derivatives {
    /// The log-likelihood only.
    None,
    /// The log-likelihood and its gradient.
    Gradient,
    /// The log-likelihood, gradient and Hessian.
    Hessian,
}

/// The weighted log-likelihood at one parameter point, with derivatives with
/// respect to the natural (untransformed) parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    /// Σ wᵢ ln Lᵢ.
    pub value: f64,
    /// ∂/∂θ of the value (empty when not requested).
    pub gradient: Vec<f64>,
    /// ∂²/∂θ∂θᵀ, row-major p × p (empty when not requested).
    pub hessian: Vec<f64>,
}

impl Evaluation {
    /// The sum of two evaluations of one model on disjoint customers (the
    /// evaluation of their union); an empty gradient or Hessian counts as
    /// zeros, so a part without customers may return [`Evaluation::default`].
    pub fn plus(mut self, other: &Evaluation) -> Evaluation {
        fn sum_into(into: &mut Vec<f64>, from: &[f64]) {
            if into.is_empty() {
                into.extend_from_slice(from);
            } else {
                into.iter_mut().zip(from).for_each(|(a, b)| *a += b);
            }
        }
        self.value += other.value;
        sum_into(&mut self.gradient, &other.gradient);
        sum_into(&mut self.hessian, &other.hessian);
        self
    }
}

/// Data a model can be fitted on.
pub trait FitData: Sync {
    /// Number of distinct (weighted) rows.
    fn rows(&self) -> usize;
    /// Sum of weights: the number of customers.
    fn total_weight(&self) -> f64;
    /// A stratified subsample of about `rows() / step` rows with weights scaled
    /// by `step`, for a cheap warm start.
    fn subsample(&self, step: usize) -> Self;
}

/// A parametric model fitted by maximum likelihood.
///
/// The parameters are described by the instance ([`Model::param_specs`]), not
/// by the type, so that their number may depend on the data (a coefficient per
/// covariate column, say): a fit starts from [`Model::template`] and every
/// trial point is a sibling built by [`Model::with_params`]. The models
/// without covariates also keep their fixed names as an inherent constant
/// (`BetaGeo::PARAM_NAMES`) and an inherent `from_slice`.
pub trait Model: Sized + Clone + Send + Sync + std::fmt::Debug {
    /// The data the likelihood is defined on.
    type Data: FitData + std::fmt::Debug + PartialEq;
    /// Short identifier used in saved files, e.g. `"BetaGeo"`.
    const NAME: &'static str;

    /// Names and domains of this instance's parameters, in the order of
    /// [`Model::to_vec`].
    fn param_specs(&self) -> Vec<ParamSpec>;
    /// Parameter values (natural scale) in the order of [`Model::param_specs`].
    fn to_vec(&self) -> Vec<f64>;
    /// A model with the same parameter list and these values, checking their
    /// domain.
    fn with_params(&self, values: &[f64]) -> Result<Self>;
    /// A model with the parameter list that `data` calls for, for a fit to
    /// start from; its values are placeholders (see [`Model::initial_params`]).
    fn template(data: &Self::Data) -> Self;
    /// The model a saved file describes, from its (name, value) pairs, for
    /// [`crate::Fitted::from_json`]. Names the model does not use are ignored.
    fn from_named_params(params: &BTreeMap<String, f64>) -> Result<Self>;
    /// The weighted log-likelihood and requested derivatives. A model may
    /// leave the Hessian empty when it is asked for: the fitter then builds it
    /// from differences of the gradient ([`crate::fit::numerical`]).
    fn evaluate(&self, data: &Self::Data, derivatives: Derivatives) -> Evaluation;
    /// Starting values (natural scale) for the optimiser, derived from the
    /// data, in the order of [`Model::param_specs`].
    fn initial_params(&self, data: &Self::Data) -> Vec<f64>;
    /// Per-parameter multipliers applied before the L2 penalty, so that a
    /// `penalizer_coef` means what it means in the `lifetimes` package (which
    /// rescales time so that max T = 10). Defaults to ones.
    fn penalty_scale(&self, _data: &Self::Data) -> Vec<f64> {
        vec![1.0; self.param_specs().len()]
    }
    /// The parameter names, in the order of [`Model::to_vec`].
    fn param_names(&self) -> Vec<String> {
        self.param_specs()
            .into_iter()
            .map(|s| s.name.into_owned())
            .collect()
    }
    /// Warnings about a fitted estimate that are not errors (the estimate
    /// is usable, but something about it needs saying), recorded in
    /// [`crate::FitInfo::warnings`]; none by default. A non-empty list says
    /// the estimate lies on a boundary the model knows as one of its limit
    /// models, where predictions stay right (BG/NBD with a, b → ∞: one common
    /// drop-out probability): [`crate::fit()`] then returns such an optimum,
    /// with these warnings, instead of refusing it as not identified.
    fn fit_warnings(&self) -> Vec<String> {
        Vec::new()
    }
    /// What a saved file records of the model besides its parameters, as
    /// top-level keys beside `"params"` ([`crate::Fitted::to_json`]); none by
    /// default. MBG/CNBD-k saves its `"k"`, which is part of the model but
    /// not a parameter of the fit.
    fn saved_structure(&self) -> Vec<(&'static str, serde_json::Value)> {
        Vec::new()
    }
    /// The model with what [`Model::saved_structure`] wrote restored from the
    /// saved file's top-level keys (`saved`), for [`crate::Fitted::from_json`];
    /// the model itself by default.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Serialization`] naming the key when it is missing or
    /// invalid.
    fn with_saved_structure(
        self,
        _saved: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self> {
        Ok(self)
    }
}

/// A simulated customer of a (x, t_x, T) model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimulatedCustomer {
    /// Repeat purchases in (0, T].
    pub frequency: f64,
    /// Age at the last repeat purchase (0 if none).
    pub recency: f64,
    /// Age at the end of observation.
    pub age: f64,
    /// The customer's purchase rate λ.
    pub rate: f64,
    /// The customer's drop-out probability (or rate, for Pareto/NBD).
    pub dropout: f64,
    /// Whether the customer is still alive at T.
    pub alive: bool,
}

/// Predictions shared by the non-contractual (x, t_x, T) models.
///
/// Arguments are in the time unit of the data the model was fitted on.
/// Callers are expected to have validated the customer histories (the
/// vectorised wrappers in [`crate::predict`] do).
pub trait TransactionModel: Model {
    /// E[X(t)]: expected repeat purchases in (0, t] for a new customer.
    fn expected_purchases(&self, t: f64) -> f64;
    /// P(X(t) = n) for a new customer.
    fn probability_of_purchases(&self, t: f64, n: f64) -> f64;
    /// P(alive at T | x, t_x, T).
    fn probability_alive(&self, frequency: f64, recency: f64, age: f64) -> f64;
    /// E[Y(t) | x, t_x, T]: expected purchases in (T, T + t].
    fn conditional_expected_purchases(&self, t: f64, frequency: f64, recency: f64, age: f64)
        -> f64;
    /// ln L of one customer history.
    fn individual_log_likelihood(&self, frequency: f64, recency: f64, age: f64) -> f64;
    /// [`TransactionModel::conditional_expected_purchases`] for many validated
    /// customers at once, in parallel; models override it to share work.
    fn conditional_expected_purchases_batch(
        &self,
        t: &[f64],
        frequency: &[f64],
        recency: &[f64],
        age: &[f64],
    ) -> Vec<f64> {
        crate::predict::par_map(frequency.len(), |i| {
            self.conditional_expected_purchases(t[i], frequency[i], recency[i], age[i])
        })
    }
    /// Σₖ wₖ (E[Y(tₖ) | x, t_x, T] − E[Y(tₖ₋₁) | x, t_x, T]) for increasing
    /// horizons t₁ < t₂ < … (t₀ = 0) and weights wₖ, for many validated
    /// customers: the discounted expected purchases that customer lifetime
    /// value multiplies by spend. Models override it to share work across
    /// horizons.
    fn discounted_purchases_batch(
        &self,
        horizons: &[f64],
        weights: &[f64],
        frequency: &[f64],
        recency: &[f64],
        age: &[f64],
    ) -> Vec<f64> {
        crate::predict::par_map(frequency.len(), |i| {
            let mut previous = 0.0;
            let mut total = 0.0;
            for (&t, &w) in horizons.iter().zip(weights) {
                let now = self.conditional_expected_purchases(t, frequency[i], recency[i], age[i]);
                total += w * (now - previous);
                previous = now;
            }
            total
        })
    }
    /// [`TransactionModel::probability_alive`] for many validated customers.
    fn probability_alive_batch(&self, frequency: &[f64], recency: &[f64], age: &[f64]) -> Vec<f64> {
        crate::predict::par_map(frequency.len(), |i| {
            self.probability_alive(frequency[i], recency[i], age[i])
        })
    }
    /// DERT(δ | x, t_x, T): the expected number of residual transactions after
    /// T, each discounted continuously at rate δ per time unit,
    /// ∫_T^∞ E[purchase rate at τ | x, t_x, T] e^{−δ(τ−T)} dτ
    /// (Fader, Hardie & Lee 2005, "RFM and CLV", JMR 42(4), eq. (1)).
    ///
    /// The default is [`crate::value::dert::dert_by_quadrature`], the integral
    /// δ ∫₀^∞ e^{−δt} E[Y(t) | x, t_x, T] dt of
    /// [`TransactionModel::conditional_expected_purchases`], accurate to about
    /// 1e-12; the Pareto/NBD (closed form, the paper's eq. (2)) and the BG/NBD
    /// family (an integral over the drop-out probability) override it with
    /// faster routes. NaN unless δ > 0.
    fn discounted_expected_residual_transactions(
        &self,
        discount_rate: f64,
        frequency: f64,
        recency: f64,
        age: f64,
    ) -> f64 {
        crate::value::dert::dert_by_quadrature(self, discount_rate, frequency, recency, age)
    }
    /// Draws one customer observed for `age` time units.
    fn simulate_customer<R: Rng + ?Sized>(&self, age: f64, rng: &mut R) -> SimulatedCustomer;
}

/// Running sums of a log-likelihood, its gradient and Hessian over P
/// parameters, for the per-chunk reductions in the models' `evaluate`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Accumulator<const P: usize> {
    pub value: f64,
    pub grad: [f64; P],
    pub hess: [[f64; P]; P],
}

impl<const P: usize> Accumulator<P> {
    pub const ZERO: Self = Self {
        value: 0.0,
        grad: [0.0; P],
        hess: [[0.0; P]; P],
    };

    /// Element-wise sum, for `reduce`.
    pub fn add(mut self, other: Self) -> Self {
        self.value += other.value;
        for i in 0..P {
            self.grad[i] += other.grad[i];
            for j in 0..P {
                self.hess[i][j] += other.hess[i][j];
            }
        }
        self
    }

    /// The evaluation, with the derivatives that were asked for.
    pub fn into_evaluation(self, derivatives: Derivatives) -> Evaluation {
        Evaluation {
            value: self.value,
            gradient: if derivatives >= Derivatives::Gradient {
                self.grad.to_vec()
            } else {
                Vec::new()
            },
            hessian: if derivatives == Derivatives::Hessian {
                self.hess.iter().flatten().copied().collect()
            } else {
                Vec::new()
            },
        }
    }
}
