//! The one error type of the crate.

use thiserror::Error;

/// Everything that can go wrong in retentionkit.
///
/// Invalid input is reported with the rule it breaks, the first offending row
/// and the column the rule concerns, so a user can find it in their own data;
/// the Python layer turns these fields into the attributes of
/// `retentionkit.InvalidDataError` (never by reading the message).
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum Error {
    /// A data row breaks a validity rule.
    #[error("invalid data: {rule} (first offending row: {row}; {detail})")]
    InvalidData {
        /// The rule that is broken, in words.
        rule: &'static str,
        /// Zero-based index of the first offending row.
        row: usize,
        /// The offending values.
        detail: String,
        /// The input column the rule concerns ("frequency", "recency", "T",
        /// "weights", "monetary_value", ...), for a rule on several columns
        /// the first of them whose value is out of bounds; `None` when no
        /// single column is to blame (an empty cohort).
        column: Option<&'static str>,
        /// For survivor counts given by cohort, the cohort (zero-based).
        cohort: Option<usize>,
        /// For survivor counts given by cohort, the period (zero-based) within
        /// the cohort, also reported as `row`; `None` for an empty cohort.
        period: Option<usize>,
    },
    /// Input arrays do not have the same length.
    #[error("invalid data: {name} has length {found}, expected {expected} (all inputs must have the same length)")]
    LengthMismatch {
        /// Name of the offending input.
        name: &'static str,
        /// Its length.
        found: usize,
        /// The length of the first input.
        expected: usize,
    },
    /// No data at all.
    #[error("invalid data: no customers (the input is empty or all weights are zero)")]
    Empty,
    /// Covariates that do not fit the model: a process the model does not
    /// have, an unknown column, a column listed twice.
    #[error("invalid covariates: {0}")]
    InvalidCovariates(String),
    /// A parameter is out of its domain.
    #[error("invalid parameter: {name} = {value} ({rule})")]
    InvalidParameter {
        /// Parameter name.
        name: String,
        /// Its value.
        value: f64,
        /// What it must satisfy.
        rule: &'static str,
    },
    /// Wrong number of parameters.
    #[error("invalid parameters: expected {expected} values ({names}), got {found}")]
    ParameterCount {
        /// Expected count.
        expected: usize,
        /// Given count.
        found: usize,
        /// Parameter names.
        names: String,
    },
    /// The optimiser did not reach the tolerance.
    #[error("the fit did not converge after {iterations} iterations (gradient norm {gradient_norm:.3e}); try initial_params, a penalizer_coef > 0, or more iterations")]
    NotConverged {
        /// Iterations done.
        iterations: usize,
        /// Infinity norm of the gradient at the last point.
        gradient_norm: f64,
    },
    /// The optimum lies on the boundary of the parameter space (a parameter
    /// runs off to 0 or infinity), so the data do not identify the model.
    #[error("the data do not identify the model: the likelihood is maximised on the boundary of the parameter space ({params}); the observed information is singular or a standard error is over a hundred times its estimate. Use more data or a penalizer_coef > 0")]
    Unidentified {
        /// The parameters where the optimiser stopped.
        params: String,
    },
    /// The log-likelihood is not finite at the starting point or during the fit.
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// The computation was stopped by [`crate::interrupt::request`] (Ctrl-C
    /// in Python, where it becomes `KeyboardInterrupt`).
    #[error("interrupted")]
    Interrupted,
    /// A saved model could not be read.
    #[error("cannot read model: {0}")]
    Serialization(String),
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;
