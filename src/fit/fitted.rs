//! The fitted model type and its statistics.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::fit::newton::Termination;
use crate::models::Model;

/// Statistics of a maximum-likelihood fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitInfo {
    /// Total log-likelihood Σ wᵢ ln Lᵢ at the estimate, in the data's time units.
    pub log_likelihood: f64,
    /// Newton iterations on the full data.
    pub iterations: usize,
    /// Whether the gradient tolerance was reached.
    pub converged: bool,
    /// Why the optimiser stopped; `None` in files saved before it was
    /// recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination: Option<Termination>,
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
/// (with [`crate::fit::fit_keeping_data`]) the data.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted<M: Model> {
    /// The model (parameters).
    pub model: M,
    /// Fit statistics; `None` for a model built from known parameters.
    pub info: Option<FitInfo>,
    /// The data the model was fitted on, when [`crate::fit::fit_keeping_data`] kept it
    /// (shared, so cloning a fit does not copy it); `None` after [`crate::fit::fit`],
    /// which borrows the data, and for models built from parameters or read
    /// from JSON (the file holds no data).
    pub data: Option<Arc<M::Data>>,
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

    /// The data of the fit, if it was kept (see [`crate::fit::fit_keeping_data`]).
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
}
