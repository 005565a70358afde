//! The GGom/NBD with time-invariant covariates, and its conditional P(n).
//!
//! A child module of [`crate::models::ggom_nbd`] (it reads the model's
//! per-customer terms), kept in its own file.
//!
//! **Covariates** (issue 16: "α and β scaled as for the Pareto/NBD"). Customer
//! i's purchase-rate scale and Gompertz-frailty rate are
//!
//! αᵢ = α·exp(−γ_purchaseᵀ zᵢ),  βᵢ = β·exp(−γ_dropoutᵀ zᵢ),
//!
//! with r, b and s shared. Since λ ~ Gamma(r, αᵢ) has mean r/αᵢ, a positive
//! purchase coefficient raises the purchase rate; since η ~ Gamma(s, βᵢ) has
//! mean s/βᵢ and the Gompertz hazard is bη e^{bτ}, a positive drop-out
//! coefficient raises the drop-out hazard (as the Pareto/NBD's, and on its
//! limit b → 0 with β/b fixed exactly the Pareto/NBD's βᵢ = β exp(−γᵀz)).
//! The per-customer term is the plain model's ln L (the same routine the plain
//! fit sums) with its analytic gradient and Hessian in (r, α, b, s, β); the
//! covariate machinery ([`crate::models::covariates`]) does the rest.
//!
//! **Conditional P(n).** Given alive at T, the likelihood of the history is
//! λˣe^{−λT}·exp(−η(e^{bT} − 1)), so the posterior is λ ~ Gamma(r+x, α+T) and
//! η ~ Gamma(s, β + e^{bT} − 1), independent. The remaining lifetime u after
//! T has S(u | η, alive at T) = exp(−η e^{bT}(e^{bu} − 1)): a Gompertz of the
//! same b with frailty η′ = η e^{bT} ~ Gamma(s, β′),
//!
//! β′ = (β + e^{bT} − 1) e^{−bT} = 1 / q_T,
//!
//! and the Poisson process is memoryless, so from T on the customer is a new
//! GGom/NBD customer with parameters (r+x, α+T, b, s, β′). Hence
//!
//! P(Y(t) = n | x, t_x, T) = 1{n = 0}(1 − P(alive)) + P(alive)·P′(X(t) = n),
//!
//! with P′ the unconditional P(X(t) = n) at those parameters (its lifetime
//! part one adaptive Gauss–Kronrod integral). Σₙ n·P = P(alive)·E′[X(t)]
//! = P(alive)·(r+x)/(α+T)·G(t; q_T), the conditional expectation; as b → 0
//! with β/b fixed, β′/b → β/b + T, the Pareto/NBD's updated β.

use crate::data::validate_prediction_inputs;
use crate::data::validation::check_length;
use crate::error::Result;
use crate::models::covariates::{CovariateModel, CustomerTerm, Process};
use crate::models::ggom_nbd::GGomNBD;
use crate::models::TransactionModel;
use crate::predict::{check_counts, check_horizon, finite_or_error, par_map};

impl CovariateModel for GGomNBD {
    /// α scaled by the purchase covariates and β by the drop-out ones, both as
    /// exp(−γᵀz), as the Pareto/NBD's (module documentation).
    const COVARIATE_NAME: &'static str = "GGomNBDCovariates";
    const PROCESSES: &'static [Process] = &[
        Process {
            name: "purchase",
            scales: &[(1, -1.0)],
        },
        Process {
            name: "dropout",
            scales: &[(4, -1.0)],
        },
    ];
    const HISTORY: usize = 3;

    fn carries_information(history: &[f64]) -> bool {
        history[2] > 0.0
    }

    /// ln L = ln C + ln(E₁ + bsI) of one customer, with C = Γ(r+x)αʳβˢ/Γ(r),
    /// and its analytic gradient and Hessian in (r, α, b, s, β): those of the
    /// bracket from the plain model's routine, those of ln C in closed form.
    fn customer_term(&self, history: &[f64], order: u8) -> CustomerTerm {
        let (x, t_x, age) = (history[0], history[1], history[2]);
        if age == 0.0 && x == 0.0 {
            return CustomerTerm::ZERO;
        }
        let (r, alpha, s, beta) = (self.r(), self.alpha(), self.s(), self.beta());
        let (bracket, _) = self.ln_bracket(x, t_x, age, order);
        let shift = crate::models::covariates::ln_gamma_shift(r, x, order);
        let mut out = CustomerTerm::ZERO;
        out.value = bracket.value + shift[0] + r * alpha.ln() + s * beta.ln();
        if order >= 1 {
            out.grad = bracket.grad;
            out.grad[0] += shift[1] + alpha.ln();
            out.grad[1] += r / alpha;
            out.grad[3] += beta.ln();
            out.grad[4] += s / beta;
        }
        if order >= 2 {
            out.hess = bracket.hess;
            out.hess[0][0] += shift[2];
            out.hess[0][1] += 1.0 / alpha;
            out.hess[1][0] += 1.0 / alpha;
            out.hess[1][1] -= r / (alpha * alpha);
            out.hess[3][4] += 1.0 / beta;
            out.hess[4][3] += 1.0 / beta;
            out.hess[4][4] -= s / (beta * beta);
        }
        out
    }

    fn from_base_unchecked(values: &[f64]) -> Self {
        Self::from_slice(values).expect("the caller checked that the parameters are positive")
    }

    /// The plain model's: on the Pareto/NBD limit (b → 0 with β/b fixed) b
    /// and β are not separately identified, but βᵢ/b = (β/b)e^{−γᵀzᵢ} is, and
    /// so are the coefficients: the fit is the Pareto/NBD's with covariates.
    fn covariate_fit_warnings(&self) -> Vec<String> {
        crate::models::Model::fit_warnings(self)
    }
}

impl GGomNBD {
    /// P(Y(t) = n | x, t_x, T): the probability of exactly n purchases in
    /// (T, T+t] given the history (module documentation): dead at T (then
    /// n = 0), or alive and, from T on, a new customer with parameters
    /// (r+x, α+T, b, s, β′), β′ = 1 + (β − 1)e^{−bT}.
    ///
    /// ```
    /// use retentionkit::ggom_nbd::GGomNBD;
    /// let m = GGomNBD::new(0.553, 10.578, 0.05, 0.603, 0.5)?;
    /// let total: f64 = (0..400)
    ///     .map(|n| m.conditional_probability_of_purchases(n as f64, 39.0, 2.0, 30.43, 38.86))
    ///     .sum();
    /// assert!((total - 1.0).abs() < 1e-9);
    /// # Ok::<(), retentionkit::Error>(())
    /// ```
    pub fn conditional_probability_of_purchases(
        &self,
        n: f64,
        t: f64,
        x: f64,
        t_x: f64,
        age: f64,
    ) -> f64 {
        let (p_alive, p_dead) = self.alive_and_dead(x, t_x, age);
        // β′ = 1/q_T, computed without overflow for bT in the hundreds.
        let beta_now = 1.0 / self.gompertz(age).q;
        let if_alive = match GGomNBD::new(
            self.r() + x,
            self.alpha() + age,
            self.b(),
            self.s(),
            beta_now,
        ) {
            Ok(now) => p_alive * now.probability_of_purchases(t, n),
            Err(_) => f64::NAN, // reported by the batch function with the row
        };
        if n == 0.0 {
            (p_dead + if_alive).min(1.0)
        } else {
            if_alive
        }
    }

    /// (P(alive | x, t_x, T), 1 − P(alive)), each from its own terms (the
    /// second not by subtraction, which would lose its relative accuracy when
    /// P(alive) is within a few ulps of 1).
    fn alive_and_dead(&self, x: f64, t_x: f64, age: f64) -> (f64, f64) {
        if t_x >= age {
            return (1.0, 0.0);
        }
        let alive = self.alive_term(x, age, 0).value;
        let dead = (self.b() * self.s()).ln() + self.ln_death_integral(x, t_x, age);
        (
            crate::special::logistic(alive - dead).clamp(0.0, 1.0),
            crate::special::logistic(dead - alive).clamp(0.0, 1.0),
        )
    }
}

/// The checks of the inputs of a conditional P(n) (`n`, `t` and the
/// histories, one value each per customer), without computing it.
///
/// Errors: [`crate::Error::InvalidData`] naming the rule, the column and the
/// first offending row; [`crate::Error::LengthMismatch`].
pub fn check_conditional_probability_inputs(
    n: &[f64],
    t: &[f64],
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
) -> Result<()> {
    validate_prediction_inputs(frequency, recency, age)?;
    check_horizon("t", t, frequency.len())?;
    check_length("n", n.len(), frequency.len())?;
    check_counts(n)
}

/// P(Y(tᵢ) = nᵢ | xᵢ, t_xᵢ, Tᵢ) of the GGom/NBD for every customer, in
/// parallel ([`GGomNBD::conditional_probability_of_purchases`]).
///
/// Errors: as [`check_conditional_probability_inputs`], and a row whose value
/// cannot be evaluated (named with its inputs).
pub fn conditional_probability_of_purchases(
    model: &GGomNBD,
    n: &[f64],
    t: &[f64],
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
) -> Result<Vec<f64>> {
    check_conditional_probability_inputs(n, t, frequency, recency, age)?;
    let values = par_map(n.len(), |i| {
        model.conditional_probability_of_purchases(n[i], t[i], frequency[i], recency[i], age[i])
    });
    crate::interrupt::check()?;
    finite_or_error(
        "P(Y(t) = n | history)",
        values,
        &[
            ("n", n),
            ("t", t),
            ("frequency", frequency),
            ("recency", recency),
            ("T", age),
        ],
    )
}
