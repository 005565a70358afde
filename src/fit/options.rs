//! The options of a fit.

/// Options of [`crate::fit::fit`].
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
