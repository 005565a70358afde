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
    /// Number of customers in the likelihood (sum of weights), the N of the
    /// per-customer penalty and of BIC. Customers first seen at the end of
    /// observation (T = 0) are not counted: their likelihood is 1 whatever
    /// the parameters (see [`crate::CompressedData`]).
    pub n_customers: f64,
    /// Number of distinct (x, t_x, T) rows.
    pub n_unique: usize,
    /// The penalty the fit used.
    pub penalizer_coef: f64,
    /// What the caller should know about the estimate although the fit
    /// succeeded ([`crate::Model::fit_warnings`]), e.g. that the BG/NBD's
    /// drop-out heterogeneity is not identified. Empty in files saved before
    /// warnings were recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The estimate of one parameter: a row of [`ParamSummary`].
#[derive(Debug, Clone, PartialEq)]
pub struct ParamEstimate {
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

/// The parameter table of a fit ([`Fitted::summary`]): estimates, standard
/// errors and Wald 95% intervals, one [`ParamEstimate`] per parameter. It
/// derefs to the rows, and its `Display` prints the table the Python
/// `summary` shows:
///
/// ```
/// use retentionkit::{BetaGeo, Fitted};
/// let fitted = Fitted::from_model(BetaGeo::new(0.243, 4.414, 0.793, 2.426)?);
/// let table = fitted.summary();
/// assert_eq!(table[1].name, "alpha");
/// let text = table.to_string();
/// assert!(text.starts_with("           coef  se(coef)  lower 95% bound  upper 95% bound\n"));
/// assert!(text.contains("\nalpha  4.414000       NaN              NaN              NaN\n"));
/// # Ok::<(), retentionkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSummary {
    /// One row per parameter, in the model's order.
    pub rows: Vec<ParamEstimate>,
}

impl std::ops::Deref for ParamSummary {
    type Target = [ParamEstimate];
    fn deref(&self) -> &[ParamEstimate] {
        &self.rows
    }
}

impl IntoIterator for ParamSummary {
    type Item = ParamEstimate;
    type IntoIter = std::vec::IntoIter<ParamEstimate>;
    fn into_iter(self) -> Self::IntoIter {
        self.rows.into_iter()
    }
}

impl<'a> IntoIterator for &'a ParamSummary {
    type Item = &'a ParamEstimate;
    type IntoIter = std::slice::Iter<'a, ParamEstimate>;
    fn into_iter(self) -> Self::IntoIter {
        self.rows.iter()
    }
}

impl std::fmt::Display for ParamSummary {
    /// A header and one line per parameter, numbers with six decimals (as
    /// pandas prints the Python summary), columns right-aligned.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const HEADERS: [&str; 4] = ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"];
        let cell = |v: f64| {
            if v.is_nan() {
                "NaN".to_string()
            } else {
                format!("{v:.6}")
            }
        };
        let cells: Vec<[String; 4]> = self
            .rows
            .iter()
            .map(|r| [cell(r.coef), cell(r.se), cell(r.lower_95), cell(r.upper_95)])
            .collect();
        let name_width = self.rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
        let widths: Vec<usize> = (0..4)
            .map(|j| {
                cells
                    .iter()
                    .map(|c| c[j].len())
                    .chain([HEADERS[j].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        write!(f, "{:name_width$}", "")?;
        for (h, w) in HEADERS.iter().zip(&widths) {
            write!(f, "  {h:>w$}")?;
        }
        for (row, c) in self.rows.iter().zip(&cells) {
            write!(f, "\n{:<name_width$}", row.name)?;
            for (v, w) in c.iter().zip(&widths) {
                write!(f, "  {v:>w$}")?;
            }
        }
        Ok(())
    }
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

    /// Total log-likelihood of the fit; NaN for a model built from known
    /// parameters ([`Self::from_model`], `info` is `None`).
    pub fn log_likelihood(&self) -> f64 {
        self.info.as_ref().map_or(f64::NAN, |i| i.log_likelihood)
    }

    /// Standard errors, NaN where unavailable.
    pub fn standard_errors(&self) -> Vec<f64> {
        let p = self.model.param_specs().len();
        match self.info.as_ref().and_then(|i| i.covariance.as_ref()) {
            Some(cov) if cov.len() == p * p => (0..p).map(|i| cov[i * p + i].sqrt()).collect(),
            _ => vec![f64::NAN; p],
        }
    }

    /// Akaike information criterion 2k − 2 LL, k the number of parameters;
    /// NaN without a fit.
    pub fn aic(&self) -> f64 {
        let k = self.model.param_specs().len() as f64;
        2.0 * k - 2.0 * self.log_likelihood()
    }

    /// Bayesian information criterion k ln N − 2 LL, N the number of
    /// customers in the likelihood ([`FitInfo::n_customers`]: those first
    /// seen at the end of observation carry no information and are not
    /// counted); NaN without a fit.
    pub fn bic(&self) -> f64 {
        let k = self.model.param_specs().len() as f64;
        self.info.as_ref().map_or(f64::NAN, |info| {
            k * info.n_customers.ln() - 2.0 * info.log_likelihood
        })
    }

    /// Estimates with standard errors and Wald 95% intervals; print it for
    /// the table (see [`ParamSummary`]).
    pub fn summary(&self) -> ParamSummary {
        let z = 1.959_963_984_540_054;
        let rows = self
            .model
            .param_names()
            .into_iter()
            .zip(self.params())
            .zip(self.standard_errors())
            .map(|((name, coef), se)| ParamEstimate {
                name,
                coef,
                se,
                lower_95: coef - z * se,
                upper_95: coef + z * se,
            })
            .collect();
        ParamSummary { rows }
    }
}
