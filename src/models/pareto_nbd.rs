//! Pareto/NBD: Poisson purchases, exponential lifetimes, gamma heterogeneity.
//!
//! Sources: Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987),
//! "Counting Your Customers: Who Are They and What Will They Do Next?",
//! Management Science 33(1), 1–24; Fader, P. S. & Hardie, B. G. S. (2005),
//! "A Note on Deriving the Pareto/NBD Model and Related Expressions"
//! (equation numbers below refer to this note); Fader, P. S., Hardie, B. G. S.
//! & Lee, K. L. (2006), "Deriving an Expression for P(X(t) = x) Under the
//! Pareto/NBD Model".
//!
//! While alive, a customer buys as a Poisson process with rate λ ~ Gamma(r, α);
//! the lifetime is exponential with rate μ ~ Gamma(s, β).
//!
//! **Likelihood**, eq. (19)–(22): with C = Γ(r+x) αʳ βˢ / Γ(r),
//! L = C [E₁ + s J(t_x) − s J(T)], E₁ = (α+T)^{−(r+x)} (β+T)^{−s} (alive at T),
//! and J(u) = ∫_u^∞ (α+τ)^{−(r+x)} (β+τ)^{−(s+1)} dτ (died after the last
//! purchase). The note writes J with ₂F₁(r+s+x, s+1; r+s+x+1; (α−β)/(α+u))
//! when α ≥ β and ₂F₁(r+s+x, r+x; r+s+x+1; (β−α)/(β+u)) otherwise (eq. (22)
//! and its mirror image). Euler's transformation (A&S 15.3.3) turns both into
//! a series of positive terms bounded by 1/(1−z),
//!
//! s J(u) = s/(r+s+x) (α+u)^{−(r+x)} (β+u)^{−s} S(r+x, r+s+x+1, z),  α ≥ β,
//! s J(u) = s/(r+s+x) (α+u)^{1−r−x} (β+u)^{−s−1} S(s+1, r+s+x+1, z),  α < β,
//!
//! with S(e, c, z) = ₂F₁(1, e; c; z) = Σ (e)_k/(c)_k zᵏ, so nothing overflows for
//! x in the thousands and ln L is a log-sum-exp of three terms. The difference
//! s J(t_x) − s J(T) cannot lose more than a few ulps relative to L, because
//! s J(T) ≤ E₁. The gradient and Hessian are analytic: the derivatives of S with
//! respect to its parameters are series of the same terms (see
//! `hyp2f1::ln_s`). Only where z is within 2e-4 of 1 (|α−β| ratios beyond
//! 5000) are the derivatives of ln S taken by central differences.
//!
//! **Predictions**: E[X(t)], eq. (17); P(alive | x, t_x, T) = C E₁ / L, eq. (18);
//! E[Y(t) | x, t_x, T], eq. (24); P(X(t) = n) from Fader, Hardie & Lee (2006),
//! eq. (9), whose death term s βˢ αʳ Γ(r+n)/(Γ(r) n!) ∫₀ᵗ τⁿ (α+τ)^{−(r+n)}
//! (β+τ)^{−(s+1)} dτ is integrated numerically in ln τ, where the integrand is
//! log-concave (`death_term`), instead of the paper's difference of ₂F₁ terms,
//! which cancels for small t, or a series, which fails for large parameters.

use rand::Rng;
use rand_distr::{Distribution, Gamma, Poisson};
use rayon::prelude::*;

use crate::data::CompressedData;
use crate::error::Result;
use crate::models::params::check_positive;
use crate::models::{Derivatives, Evaluation, Model, SimulatedCustomer, TransactionModel};
use crate::special::hyp2f1::{hyp2f1_ln, ln_s};
use crate::special::hyperu::ln_hyperu_aa_scaled;
use crate::special::{expm1_over, ln_gamma, ln_gamma_ratio};

/// Pareto/NBD parameters (r, α, s, β), all positive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParetoNBD {
    /// Shape of the gamma distribution of purchase rates λ.
    r: f64,
    /// Rate (in 1/time units) of the gamma distribution of purchase rates.
    alpha: f64,
    /// Shape of the gamma distribution of drop-out rates μ.
    s: f64,
    /// Rate (in 1/time units) of the gamma distribution of drop-out rates.
    beta: f64,
}

/// A log-term with its gradient and Hessian in (r, α, s, β).
#[derive(Clone, Copy)]
pub(crate) struct Term {
    pub(crate) value: f64,
    pub(crate) grad: [f64; 4],
    pub(crate) hess: [[f64; 4]; 4],
}

impl Term {
    const ZERO: Term = Term {
        value: 0.0,
        grad: [0.0; 4],
        hess: [[0.0; 4]; 4],
    };
}

/// ln(e^{a} + e^{b} − e^{c}) and its derivatives, given c ≤ max(a, b) in value
/// (true for ln E₁, ln sJ(t_x), ln sJ(T)).
fn combine(a: &Term, b: &Term, c: &Term, order: u8) -> Term {
    let m = a.value.max(b.value);
    let (wa, wb, wc) = (
        (a.value - m).exp(),
        (b.value - m).exp(),
        (c.value - m).exp(),
    );
    // e^b − e^c ≥ 0 first: exactly 0 when t_x = T (e.g. x = t_x = T = 0,
    // where L = 1 and P(alive) = 1 exactly).
    let sum = (wa + (wb - wc)).max(f64::MIN_POSITIVE);
    let mut out = Term::ZERO;
    out.value = m + sum.ln();
    if order == 0 {
        return out;
    }
    let w = [wa / sum, wb / sum, -wc / sum];
    let terms = [a, b, c];
    for (wi, t) in w.iter().zip(terms) {
        for k in 0..4 {
            out.grad[k] += wi * t.grad[k];
        }
    }
    if order >= 2 {
        for (wi, t) in w.iter().zip(terms) {
            for k in 0..4 {
                for l in 0..4 {
                    out.hess[k][l] += wi * (t.hess[k][l] + t.grad[k] * t.grad[l]);
                }
            }
        }
        for k in 0..4 {
            for l in 0..4 {
                out.hess[k][l] -= out.grad[k] * out.grad[l];
            }
        }
    }
    out
}

impl ParetoNBD {
    /// Builds the model, checking that every parameter is positive and finite.
    ///
    /// ```
    /// use retentionkit::pnbd::ParetoNBD;
    /// use retentionkit::TransactionModel;
    /// // Fader & Hardie's CDNOW estimates (weeks).
    /// let m = ParetoNBD::new(0.553, 10.578, 0.606, 11.669)?;
    /// let p = m.probability_alive(2.0, 30.43, 38.86);
    /// assert!(0.0 < p && p < 1.0);
    /// assert!(ParetoNBD::new(0.553, -1.0, 0.606, 11.669).is_err());
    /// # Ok::<(), retentionkit::Error>(())
    /// ```
    pub fn new(r: f64, alpha: f64, s: f64, beta: f64) -> Result<Self> {
        check_positive(Self::PARAM_NAMES, &[r, alpha, s, beta])?;
        Ok(Self { r, alpha, s, beta })
    }

    /// ln E₁ = −(r+x) ln(α+T) − s ln(β+T) with derivatives.
    fn ln_alive_term(&self, x: f64, age: f64, order: u8) -> Term {
        let (ia, ib) = (1.0 / (self.alpha + age), 1.0 / (self.beta + age));
        let (la, lb) = ((self.alpha + age).ln(), (self.beta + age).ln());
        let rx = self.r + x;
        let mut t = Term::ZERO;
        t.value = -rx * la - self.s * lb;
        if order >= 1 {
            t.grad = [-la, -rx * ia, -lb, -self.s * ib];
        }
        if order >= 2 {
            t.hess[0][1] = -ia;
            t.hess[1][0] = -ia;
            t.hess[1][1] = rx * ia * ia;
            t.hess[2][3] = -ib;
            t.hess[3][2] = -ib;
            t.hess[3][3] = self.s * ib * ib;
        }
        t
    }

    /// ln(s J(u)) (see the module documentation) with derivatives.
    pub(crate) fn ln_dead_term(&self, x: f64, u: f64, order: u8) -> Term {
        self.ln_dead_term_with(x, u, order, ln_s)
    }

    /// [`Self::ln_dead_term`] with ln S(e, c, z) and its derivatives from
    /// `ln_s_of(e, c, z, y, order)` (y = 1 − z), e.g. an interpolation.
    fn ln_dead_term_with(
        &self,
        x: f64,
        u: f64,
        order: u8,
        ln_s_of: impl FnOnce(f64, f64, f64, f64, u8) -> crate::special::hyp2f1::LnS,
    ) -> Term {
        let ParetoNBD { r, alpha, s, beta } = *self;
        let (au, bu) = (alpha + u, beta + u);
        let (ia, ib) = (1.0 / au, 1.0 / bu);
        let (la, lb) = (au.ln(), bu.ln());
        let rx = r + x;
        let c = r + s + x + 1.0;
        let k = 1.0 / (c - 1.0);
        let alpha_branch = alpha >= beta;
        // Explicit part P and the arguments of S with their θ-derivatives.
        let (p_a, p_b, e, de, z, y, dz, d2z);
        if alpha_branch {
            (p_a, p_b) = (rx, s);
            e = rx;
            de = [1.0, 0.0, 0.0, 0.0];
            z = (alpha - beta) * ia;
            y = bu * ia;
            dz = [0.0, bu * ia * ia, 0.0, -ia];
            d2z = [-2.0 * bu * ia * ia * ia, ia * ia, 0.0]; // αα, αβ, ββ
        } else {
            (p_a, p_b) = (rx - 1.0, s + 1.0);
            e = s + 1.0;
            de = [0.0, 0.0, 1.0, 0.0];
            z = (beta - alpha) * ib;
            y = au * ib;
            dz = [0.0, -ib, 0.0, au * ib * ib];
            d2z = [0.0, ib * ib, -2.0 * au * ib * ib * ib];
        }
        let dc = [1.0, 0.0, 1.0, 0.0];
        let sv = ln_s_of(e, c, z, y, order);
        let mut t = Term::ZERO;
        t.value = s.ln() + k.ln() - p_a * la - p_b * lb + sv.value;
        if order == 0 {
            return t;
        }
        let jac = [de, dc, dz];
        t.grad = [-k - la, -p_a * ia, 1.0 / s - k - lb, -p_b * ib];
        for i in 0..4 {
            for (m, row) in jac.iter().enumerate() {
                t.grad[i] += sv.grad[m] * row[i];
            }
        }
        if order >= 2 {
            let k2 = k * k;
            t.hess[0][0] = k2;
            t.hess[0][2] = k2;
            t.hess[2][0] = k2;
            t.hess[2][2] = k2 - 1.0 / (s * s);
            t.hess[0][1] = -ia;
            t.hess[1][0] = -ia;
            t.hess[1][1] = p_a * ia * ia;
            t.hess[2][3] = -ib;
            t.hess[3][2] = -ib;
            t.hess[3][3] = p_b * ib * ib;
            for i in 0..4 {
                for j in 0..4 {
                    let mut h = 0.0;
                    for (m, rm) in jac.iter().enumerate() {
                        for (n, rn) in jac.iter().enumerate() {
                            h += rm[i] * sv.hess[m][n] * rn[j];
                        }
                    }
                    t.hess[i][j] += h;
                }
            }
            let gz = sv.grad[2];
            t.hess[1][1] += gz * d2z[0];
            t.hess[1][3] += gz * d2z[1];
            t.hess[3][1] += gz * d2z[1];
            t.hess[3][3] += gz * d2z[2];
        }
        t
    }

    /// ln(L / C) = ln(E₁ + sJ(t_x) − sJ(T)), and ln E₁.
    fn ln_bracket(&self, x: f64, t_x: f64, age: f64, order: u8) -> (Term, f64) {
        let alive = self.ln_alive_term(x, age, order);
        let at_tx = self.ln_dead_term(x, t_x, order);
        let at_t = self.ln_dead_term(x, age, order);
        (combine(&alive, &at_tx, &at_t, order), alive.value)
    }

    /// P(Y(t) = n | x, t_x, T): the probability of n purchases in (T, T+t]
    /// for a customer with history (x, t_x, T).
    ///
    /// Derivation. Given the history, the customer is either dead at T (then
    /// Y(t) = 0) or alive, with probability P(alive | x, t_x, T) (eq. (18)).
    /// The likelihood of the history and of being alive at T is
    /// λˣ e^{−λT} · e^{−μT}, which factorises, so given alive at T the
    /// posterior is λ ~ Gamma(r+x, α+T) and μ ~ Gamma(s, β+T), independent;
    /// by the memorylessness of the exponential lifetime and of the Poisson
    /// process, from T on the customer is a new Pareto/NBD customer with
    /// parameters (r+x, α+T, s, β+T). Hence
    ///
    /// P(Y(t) = n | x, t_x, T) = 1{n = 0} (1 − P(alive)) + P(alive) P'(X(t) = n),
    ///
    /// with P'(X(t) = n) the unconditional P(X(t) = n) (Fader, Hardie & Lee
    /// 2006, eq. (9); [`TransactionModel::probability_of_purchases`]) at the
    /// updated parameters. Fader and Hardie's note on the conditional PMF of
    /// the Pareto/NBD (brucehardie.com, note 028), which `lifetimes`
    /// implements, writes the same quantity in closed form; the tests compare
    /// the two, and the sum over n and a simulation.
    ///
    /// ```
    /// use retentionkit::pnbd::ParetoNBD;
    /// let m = ParetoNBD::new(0.553, 10.578, 0.606, 11.669)?;
    /// let total: f64 = (0..400)
    ///     .map(|n| m.conditional_probability_of_purchases(n as f64, 39.0, 2.0, 30.43, 38.86))
    ///     .sum();
    /// assert!((total - 1.0).abs() < 1e-10);
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
        let alive = self.probability_alive(x, t_x, age);
        let posterior = ParetoNBD {
            r: self.r + x,
            alpha: self.alpha + age,
            s: self.s,
            beta: self.beta + age,
        };
        let if_alive = alive * posterior.probability_of_purchases(t, n);
        if n == 0.0 {
            self.probability_dead(x, t_x, age) + if_alive
        } else {
            if_alive
        }
    }

    /// 1 − P(alive | x, t_x, T) = (sJ(t_x) − sJ(T)) / (E₁ + sJ(t_x) − sJ(T)),
    /// from its own terms rather than by subtraction, which loses the relative
    /// accuracy when P(alive) is within a few ulps of 1 (the conditional
    /// P(Y(t) = 0) adds it to values far below 1).
    fn probability_dead(&self, x: f64, t_x: f64, age: f64) -> f64 {
        let (bracket, _) = self.ln_bracket(x, t_x, age, 0);
        let at_tx = self.ln_dead_term(x, t_x, 0).value;
        let at_t = self.ln_dead_term(x, age, 0).value;
        // ln(sJ(t_x) − sJ(T)) = ln sJ(t_x) + ln(1 − e^{ln sJ(T) − ln sJ(t_x)}).
        let ln_dead = at_tx + (-(at_t - at_tx).exp_m1()).ln();
        (ln_dead - bracket.value).exp().clamp(0.0, 1.0)
    }

    /// (β+T) ln(1 + t/(β+T)) · (1 − e^{−(s−1)L})/((s−1)L): the factor
    /// (β+T)/(s−1) [1 − ((β+T)/(β+T+t))^{s−1}] of eqs. (17) and (24), regular at
    /// s = 1.
    fn lifetime_factor(&self, t: f64, age: f64) -> f64 {
        let bt = self.beta + age;
        let l = (t / bt).ln_1p();
        bt * l * expm1_over(-(self.s - 1.0) * l)
    }
}

#[derive(Clone, Copy)]
struct Acc {
    value: f64,
    grad: [f64; 4],
    hess: [[f64; 4]; 4],
}

impl Acc {
    const ZERO: Acc = Acc {
        value: 0.0,
        grad: [0.0; 4],
        hess: [[0.0; 4]; 4],
    };
    fn add(mut self, o: Acc) -> Acc {
        self.value += o.value;
        for i in 0..4 {
            self.grad[i] += o.grad[i];
            for j in 0..4 {
                self.hess[i][j] += o.hess[i][j];
            }
        }
        self
    }
    fn add_weighted(&mut self, w: f64, t: &Term, order: u8) {
        self.value += w * t.value;
        if order >= 1 {
            for i in 0..4 {
                self.grad[i] += w * t.grad[i];
            }
        }
        if order >= 2 {
            for i in 0..4 {
                for j in 0..4 {
                    self.hess[i][j] += w * t.hess[i][j];
                }
            }
        }
    }
}

const CHUNK: usize = 2048;

impl ParetoNBD {
    /// The parameter names, in the order of [`Self::from_slice`].
    pub const PARAM_NAMES: &'static [&'static str] = &["r", "alpha", "s", "beta"];

    /// Builds the model from values in the order of [`Self::PARAM_NAMES`],
    /// checking their domain.
    pub fn from_slice(values: &[f64]) -> Result<Self> {
        check_positive(Self::PARAM_NAMES, values)?;
        Ok(Self {
            r: values[0],
            alpha: values[1],
            s: values[2],
            beta: values[3],
        })
    }

    /// Shape of the gamma distribution of purchase rates λ.
    pub fn r(&self) -> f64 {
        self.r
    }

    /// Rate (in 1/time units) of the gamma distribution of purchase rates.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Shape of the gamma distribution of drop-out rates μ.
    pub fn s(&self) -> f64 {
        self.s
    }

    /// Rate (in 1/time units) of the gamma distribution of drop-out rates.
    pub fn beta(&self) -> f64 {
        self.beta
    }
}

impl Model for ParetoNBD {
    type Data = CompressedData;
    const NAME: &'static str = "ParetoNBD";

    crate::models::params::fixed_positive_params!();

    fn to_vec(&self) -> Vec<f64> {
        vec![self.r, self.alpha, self.s, self.beta]
    }

    fn initial_params(&self, data: &CompressedData) -> Vec<f64> {
        let w = data.total_weight;
        let mean = |v: &[f64]| v.iter().zip(&data.weight).map(|(a, b)| a * b).sum::<f64>() / w;
        let (mean_x, mean_t) = (mean(&data.frequency), mean(&data.age));
        let alpha = (mean_t / mean_x.max(0.1)).clamp(1e-6, 1e12);
        vec![1.0, alpha, 1.0, mean_t.clamp(1e-6, 1e12)]
    }

    fn penalty_scale(&self, data: &CompressedData) -> Vec<f64> {
        vec![1.0, 10.0 / data.max_age, 1.0, 10.0 / data.max_age]
    }

    /// Σ wᵢ ln Lᵢ with its analytic gradient and Hessian (see the module
    /// documentation for the form of ln L).
    fn evaluate(&self, data: &CompressedData, derivatives: Derivatives) -> Evaluation {
        let ParetoNBD { r, alpha, s, beta } = *self;
        let order: u8 = match derivatives {
            Derivatives::None => 0,
            Derivatives::Gradient => 1,
            Derivatives::Hessian => 2,
        };
        // ln C = ln Γ(r+x) − ln Γ(r) + r ln α + s ln β, per distinct x.
        let mut total = Acc::ZERO;
        let [rise, d_rise, d2_rise] = data.ln_gamma_rise_sum(r, order);
        total.value += rise;
        total.grad[0] += d_rise;
        total.hess[0][0] += d2_rise;
        let n = data.total_weight;
        total.value += n * (r * alpha.ln() + s * beta.ln());
        if order >= 1 {
            total.grad[0] += n * alpha.ln();
            total.grad[1] += n * r / alpha;
            total.grad[2] += n * beta.ln();
            total.grad[3] += n * s / beta;
        }
        if order >= 2 {
            total.hess[0][1] += n / alpha;
            total.hess[1][0] += n / alpha;
            total.hess[1][1] -= n * r / (alpha * alpha);
            total.hess[2][3] += n / beta;
            total.hess[3][2] += n / beta;
            total.hess[3][3] -= n * s / (beta * beta);
        }
        // s J(0) for x = 0 (t_x = 0) is shared by every x = 0 row.
        let dead_at_zero =
            (data.distinct_x().first() == Some(&0.0)).then(|| self.ln_dead_term(0.0, 0.0, order));
        let rows = data.len();
        let per_row = (0..rows.div_ceil(CHUNK))
            .into_par_iter()
            .map(|chunk| {
                let mut acc = Acc::ZERO;
                let end = ((chunk + 1) * CHUNK).min(rows);
                for i in chunk * CHUNK..end {
                    let (x, t_x, age) = (data.frequency[i], data.recency[i], data.age[i]);
                    let alive = self.ln_alive_term(x, age, order);
                    let at_tx = match (x == 0.0, &dead_at_zero) {
                        (true, Some(t)) => *t,
                        _ => self.ln_dead_term(x, t_x, order),
                    };
                    let at_t = self.ln_dead_term(x, age, order);
                    let term = combine(&alive, &at_tx, &at_t, order);
                    acc.add_weighted(data.weight[i], &term, order);
                }
                acc
            })
            .reduce(|| Acc::ZERO, Acc::add);
        let total = total.add(per_row);
        Evaluation {
            value: total.value,
            gradient: if order >= 1 {
                total.grad.to_vec()
            } else {
                Vec::new()
            },
            hessian: if order >= 2 {
                total.hess.iter().flatten().copied().collect()
            } else {
                Vec::new()
            },
        }
    }
}

// A batch of the covariate evaluation must hold enough customers without
// repeat purchases for the interpolant (a typical log has a third to a half).
const _: () = assert!(
    <ParetoNBD as crate::models::covariates::CovariateModel>::BATCH >= 8 * ChebyshevLnS::MIN_ROWS
);

impl crate::models::covariates::CovariateModel for ParetoNBD {
    /// α scaled by the purchase covariates and β by the drop-out ones, both
    /// as exp(−γᵀz) (CLVTools' parameterisation): a positive purchase
    /// coefficient raises the purchase rate, a positive drop-out coefficient
    /// the drop-out rate.
    const COVARIATE_NAME: &'static str = "ParetoNBDCovariates";
    const PROCESSES: &'static [crate::models::covariates::Process] = &[
        crate::models::covariates::Process {
            name: "purchase",
            scales: &[(1, -1.0)],
        },
        crate::models::covariates::Process {
            name: "dropout",
            scales: &[(3, -1.0)],
        },
    ];

    fn from_base_unchecked(values: &[f64]) -> Self {
        ParetoNBD {
            r: values[0],
            alpha: values[1],
            s: values[2],
            beta: values[3],
        }
    }

    /// ln C + ln(E₁ + sJ(t_x) − sJ(T)) with C = Γ(r+x) αʳ βˢ / Γ(r), the terms
    /// [`Model::evaluate`] sums, for one customer.
    const HISTORY: usize = 3;

    fn carries_information(history: &[f64]) -> bool {
        history[2] > 0.0
    }

    fn customer_term(&self, history: &[f64], order: u8) -> crate::models::covariates::CustomerTerm {
        self.customer_term_given(history, order, None, None)
    }

    /// Batches as large as the evaluation's chunks: the interpolants of
    /// [`Self::customer_terms`] are built per batch, each from
    /// [`ChebyshevLnS::MIN_ROWS`] customers on, so small batches would
    /// evaluate every customer exactly (about ten times slower at 1M
    /// customers).
    const BATCH: usize = 1024;

    /// Customers with the same x share e and c in the ln S(e, c, z) of
    /// their s J(t_x) and s J(T) (e = r + x, c = r + s + x + 1 when α ≥ β;
    /// e = s + 1 when α < β; covariates leave r and s alone), so ln S
    /// depends on one number, y = (β+u)/(α+u) (or its inverse) at u = t_x
    /// and u = T, which covariates and histories spread over a range: it is
    /// interpolated in ln y (see [`ChebyshevLnS`]) from a few dozen exact
    /// evaluations per x and branch in a batch (the rows are sorted on x, so
    /// a batch holds few values of x), and evaluated exactly where the
    /// interpolation does not reproduce them (checked at points between the
    /// nodes), where y is below 1e-3, or where the customers are too few.
    fn customer_terms(
        customers: &[Self],
        histories: &[f64],
        order: u8,
        out: &mut [crate::models::covariates::CustomerTerm],
    ) {
        let n = customers.len();
        let mut direct = vec![true; n];
        let Some(first) = customers.first() else {
            return;
        };
        let (r, s) = (first.r, first.s);
        // The customers of each (x, α ≥ β) an interpolant may serve.
        let mut groups: Vec<(f64, bool, Vec<usize>)> = Vec::new();
        for i in 0..n {
            let (h, m) = (&histories[3 * i..3 * i + 3], &customers[i]);
            if !(h[2] > 0.0 && m.r == r && m.s == s && m.dead_y(h[1]) >= 1e-3) {
                continue;
            }
            let alpha_branch = m.alpha >= m.beta;
            match groups
                .iter_mut()
                .find(|(x, branch, _)| *x == h[0] && *branch == alpha_branch)
            {
                Some((_, _, rows)) => rows.push(i),
                None => groups.push((h[0], alpha_branch, vec![i])),
            }
        }
        for (x, alpha_branch, rows) in groups {
            if rows.len() < ChebyshevLnS::MIN_ROWS {
                continue;
            }
            let c = r + s + x + 1.0;
            let e = if alpha_branch { r + x } else { s + 1.0 };
            // ln y of s J(t_x), then of s J(T): one interpolant serves both
            // (y of s J(T) lies between y of s J(t_x) and 1).
            let mut ln_y: Vec<f64> = rows
                .iter()
                .map(|&i| customers[i].dead_y(histories[3 * i + 1]).ln())
                .collect();
            ln_y.extend(
                rows.iter()
                    .map(|&i| customers[i].dead_y(histories[3 * i + 2]).ln()),
            );
            let Some(interpolant) = ChebyshevLnS::new(e, c, &ln_y, order) else {
                continue;
            };
            let (at_tx, at_age) = ln_y.split_at(rows.len());
            for ((&i, &t_tx), &t_age) in rows.iter().zip(at_tx).zip(at_age) {
                out[i] = customers[i].customer_term_given(
                    &histories[3 * i..3 * i + 3],
                    order,
                    Some(interpolant.at(t_tx)),
                    Some(interpolant.at(t_age)),
                );
                direct[i] = false;
            }
        }
        for i in (0..n).filter(|&i| direct[i]) {
            out[i] = customers[i].customer_term(&histories[3 * i..3 * i + 3], order);
        }
    }
}

impl ParetoNBD {
    /// y = 1 − z of s J(u): (β+u)/(α+u) when α ≥ β, (α+u)/(β+u) otherwise
    /// (as in [`Self::ln_dead_term_with`]).
    fn dead_y(&self, u: f64) -> f64 {
        if self.alpha >= self.beta {
            (self.beta + u) / (self.alpha + u)
        } else {
            (self.alpha + u) / (self.beta + u)
        }
    }

    /// The covariate models' [`CovariateModel::customer_term`], with ln S of
    /// s J(t_x) and of s J(T) given (interpolated) instead of summed.
    ///
    /// [`CovariateModel::customer_term`]: crate::models::covariates::CovariateModel::customer_term
    fn customer_term_given(
        &self,
        history: &[f64],
        order: u8,
        ln_s_at_tx: Option<crate::special::hyp2f1::LnS>,
        ln_s_at_age: Option<crate::special::hyp2f1::LnS>,
    ) -> crate::models::covariates::CustomerTerm {
        use crate::models::covariates::CustomerTerm;
        let (x, t_x, age) = (history[0], history[1], history[2]);
        if age == 0.0 && x == 0.0 {
            return CustomerTerm::ZERO;
        }
        let ParetoNBD { r, alpha, s, beta } = *self;
        let alive = self.ln_alive_term(x, age, order);
        let at_tx = match ln_s_at_tx {
            Some(given) => self.ln_dead_term_with(x, t_x, order, |_, _, _, _, _| given),
            None => self.ln_dead_term(x, t_x, order),
        };
        let at_t = match ln_s_at_age {
            Some(given) => self.ln_dead_term_with(x, age, order, |_, _, _, _, _| given),
            None => self.ln_dead_term(x, age, order),
        };
        let t = combine(&alive, &at_tx, &at_t, order);
        let shift = crate::models::covariates::ln_gamma_shift(r, x, order);
        // The 4 parameters in the first entries of CustomerTerm's arrays.
        let mut out = CustomerTerm::ZERO;
        out.value = t.value + shift[0] + r * alpha.ln() + s * beta.ln();
        out.grad[..4].copy_from_slice(&t.grad);
        for (row, t_row) in out.hess.iter_mut().zip(&t.hess) {
            row[..4].copy_from_slice(t_row);
        }
        if order >= 1 {
            out.grad[0] += shift[1] + alpha.ln();
            out.grad[1] += r / alpha;
            out.grad[2] += beta.ln();
            out.grad[3] += s / beta;
        }
        if order >= 2 {
            out.hess[0][0] += shift[2];
            out.hess[0][1] += 1.0 / alpha;
            out.hess[1][0] += 1.0 / alpha;
            out.hess[1][1] -= r / (alpha * alpha);
            out.hess[2][3] += 1.0 / beta;
            out.hess[3][2] += 1.0 / beta;
            out.hess[3][3] -= s / (beta * beta);
        }
        out
    }
}

impl TransactionModel for ParetoNBD {
    /// E[X(t)] = rβ/(α(s−1)) [1 − (β/(β+t))^{s−1}], eq. (17); the limit
    /// (rβ/α) ln(1 + t/β) at s = 1.
    fn expected_purchases(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        self.r / self.alpha * self.lifetime_factor(t, 0.0)
    }

    /// P(X(t) = n), Fader, Hardie & Lee (2006) eq. (9): alive at t with n
    /// purchases, or dead at τ < t after n purchases, the death term by
    /// quadrature in ln τ (see [`death_term`] and the module documentation).
    fn probability_of_purchases(&self, t: f64, n: f64) -> f64 {
        let ParetoNBD { r, alpha, s, beta } = *self;
        if t <= 0.0 {
            return if n == 0.0 { 1.0 } else { 0.0 };
        }
        // ln Γ(r+n)/(Γ(r) n!), exact in the shift n even when r is in the millions.
        let ln_nb = -ln_gamma_ratio(r, n) - ln_gamma(n + 1.0);
        let ln_n_part = if n > 0.0 {
            n * (t / (alpha + t)).ln()
        } else {
            0.0
        };
        let alive = (ln_nb - r * (t / alpha).ln_1p() + ln_n_part - s * (t / beta).ln_1p()).exp();
        let dead = death_term(r, alpha, s, beta, t, n, ln_nb);
        (alive + dead).min(1.0)
    }

    /// P(alive | x, t_x, T) = E₁ / (E₁ + sJ(t_x) − sJ(T)), eq. (18).
    ///
    /// ```
    /// use retentionkit::pnbd::ParetoNBD;
    /// use retentionkit::TransactionModel;
    /// let m = ParetoNBD::new(0.553, 10.578, 0.606, 11.669).unwrap();
    /// assert!(m.probability_alive(0.0, 0.0, 38.86) < 1.0);
    /// assert!(m.probability_alive(2.0, 38.86, 38.86) > m.probability_alive(2.0, 5.0, 38.86));
    /// ```
    fn probability_alive(&self, x: f64, t_x: f64, age: f64) -> f64 {
        let (bracket, ln_alive) = self.ln_bracket(x, t_x, age, 0);
        (ln_alive - bracket.value).exp().clamp(0.0, 1.0)
    }

    /// E[Y(t) | x, t_x, T] = (r+x)(β+T)/((α+T)(s−1)) [1 − ((β+T)/(β+T+t))^{s−1}]
    /// × P(alive | x, t_x, T), eq. (24).
    fn conditional_expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        (self.r + x) / (self.alpha + age)
            * self.lifetime_factor(t, age)
            * self.probability_alive(x, t_x, age)
    }

    /// ln L of eq. (22) evaluated with the general [`hyp2f1_ln`] (the fitter's
    /// [`Model::evaluate`] uses the transformed series; the two agree).
    ///
    /// Exactly 0 for x = t_x = T = 0, where L = αʳβˢ α^{−r} β^{−s} = 1
    /// (see [`crate::CompressedData`]) and the general form is 1 only to
    /// rounding.
    fn individual_log_likelihood(&self, x: f64, t_x: f64, age: f64) -> f64 {
        if age == 0.0 && x == 0.0 {
            return 0.0;
        }
        let ParetoNBD { r, alpha, s, beta } = *self;
        let a = r + s + x;
        let (big, b) = if alpha >= beta {
            (alpha, s + 1.0)
        } else {
            (beta, r + x)
        };
        let dead = |u: f64| {
            let z = (alpha - beta).abs() / (big + u);
            let value = s.ln() - a.ln() - a * (big + u).ln() + hyp2f1_ln(a, b, a + 1.0, z).0;
            if value.is_nan() {
                // ₂F₁'s series beyond their bound: the transformed form.
                self.ln_dead_term(x, u, 0).value
            } else {
                value
            }
        };
        let ln_alive = -(r + x) * (alpha + age).ln() - s * (beta + age).ln();
        let (l1, l2, l3) = (ln_alive, dead(t_x), dead(age));
        let m = l1.max(l2);
        let bracket = m + ((l1 - m).exp() + (l2 - m).exp() - (l3 - m).exp()).ln();
        ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln() + bracket
    }

    /// DERT(δ | x, t_x, T), Fader, Hardie & Lee (2005, JMR), eq. (2):
    ///
    /// DERT = α^r β^s δ^{s−1} Γ(r+x+1) Ψ(s, s; δ(β+T)) / (Γ(r) (α+T)^{r+x+1} L),
    ///
    /// with Ψ = U Tricomi's function ([`crate::special::hyperu`]). Dividing by
    /// L = C (E₁ + sJ(t_x) − sJ(T)) (module documentation) turns it into
    ///
    /// DERT = P(alive | x, t_x, T) · (r+x)/(α+T) · (β+T)^s δ^{s−1} U(s, s; δ(β+T)),
    ///
    /// the expected rate of an alive customer times E[1/(μ+δ)] under the
    /// posterior μ ~ Gamma(s, β+T). It is evaluated in logs, with ln P(alive)
    /// from the same log-sum-exp as the likelihood, so it stays finite for
    /// large x, T and small δ (where δ^{s−1} and U are extreme).
    ///
    /// ```
    /// use retentionkit::pnbd::ParetoNBD;
    /// use retentionkit::TransactionModel;
    /// let m = ParetoNBD::new(0.553, 10.578, 0.606, 11.669).unwrap();
    /// let delta = 1.15f64.ln() / 52.0; // 15% a year, weekly data
    /// let dert = m.discounted_expected_residual_transactions(delta, 2.0, 30.43, 38.86);
    /// assert!((dert - 6.501_730_537_564).abs() < 1e-9); // mpmath, eq. (2)
    /// ```
    fn discounted_expected_residual_transactions(
        &self,
        discount_rate: f64,
        x: f64,
        t_x: f64,
        age: f64,
    ) -> f64 {
        let delta = discount_rate;
        if !(delta > 0.0 && delta.is_finite()) {
            return f64::NAN;
        }
        let (bracket, ln_alive) = self.ln_bracket(x, t_x, age, 0);
        let z = delta * (self.beta + age);
        let ln_dert = (ln_alive - bracket.value).min(0.0) + (self.r + x).ln()
            - (self.alpha + age).ln()
            + (self.beta + age).ln()
            + ln_hyperu_aa_scaled(self.s, z);
        ln_dert.exp()
    }

    /// λ ~ Gamma(r, scale 1/α), μ ~ Gamma(s, scale 1/β), lifetime ~ Exp(μ),
    /// Poisson purchases at rate λ while alive. `dropout` holds μ.
    fn simulate_customer<R: Rng + ?Sized>(&self, age: f64, rng: &mut R) -> SimulatedCustomer {
        let rate = Gamma::new(self.r, 1.0 / self.alpha)
            .expect("valid parameters")
            .sample(rng);
        let mu = Gamma::new(self.s, 1.0 / self.beta)
            .expect("valid parameters")
            .sample(rng);
        let u: f64 = rng.random();
        let lifetime = if mu > 0.0 {
            -(1.0 - u).ln() / mu
        } else {
            f64::INFINITY
        };
        let end = lifetime.min(age);
        let (x, t_x) = poisson_purchases(rate, end, rng);
        SimulatedCustomer {
            frequency: x,
            recency: t_x,
            age,
            rate,
            dropout: mu,
            alive: lifetime > age,
        }
    }
}

/// Purchases a simulated customer draws one by one; the rest at once.
pub(crate) const MAX_STEPPED_PURCHASES: f64 = 10_000.0;

/// (x, t_x) of a Poisson process of rate λ = `rate` run from time 0 to
/// `end`: the purchases drawn one by one as exponential gaps, up to
/// [`MAX_STEPPED_PURCHASES`], then the rest at once by
/// [`remaining_purchases`]. (0, 0) when the rate is 0.
pub(crate) fn poisson_purchases<R: Rng + ?Sized>(rate: f64, end: f64, rng: &mut R) -> (f64, f64) {
    let (mut t, mut x, mut t_x) = (0.0, 0.0, 0.0);
    if rate > 0.0 {
        loop {
            if x >= MAX_STEPPED_PURCHASES {
                return remaining_purchases(x, t, end, rate, rng);
            }
            let u: f64 = rng.random();
            t += -(1.0 - u).ln() / rate;
            if t > end {
                break;
            }
            x += 1.0;
            t_x = t;
        }
    }
    (x, t_x)
}

/// (x, t_x) at `end` of a Poisson process of rate λ that has made x purchases
/// by time t, the last at t: by time reversal the gap from `end` back to the
/// last purchase is Exp(λ) (no purchase after t when it exceeds end − t), and
/// the purchases between t and that last one are Poisson(λ · length). Keeps a
/// simulation's cost bounded whatever λ · T (means beyond the Poisson
/// sampler's range, above 1e19, are rounded to the mean).
pub(crate) fn remaining_purchases<R: Rng + ?Sized>(
    x: f64,
    t: f64,
    end: f64,
    rate: f64,
    rng: &mut R,
) -> (f64, f64) {
    let u: f64 = rng.random();
    let gap = -(1.0 - u).ln() / rate;
    if gap >= end - t || gap.is_nan() {
        return (x, t);
    }
    let last = end - gap;
    let mean = rate * (last - t);
    let between = match Poisson::new(mean) {
        Ok(poisson) if mean > 0.0 => poisson.sample(rng),
        _ => mean.round().max(0.0),
    };
    (x + between + 1.0, last)
}

/// The death term of P(X(t) = n) (Fader, Hardie & Lee 2006, eq. (9)): dead at
/// τ ∈ (0, t) after exactly n purchases,
///
/// ```text
/// s βˢ αʳ Γ(r+n)/(Γ(r) n!) ∫₀ᵗ τⁿ (α+τ)^{−(r+n)} (β+τ)^{−(s+1)} dτ = ∫_{−∞}^{ln t} e^{φ(u)} du · e^{c},
/// φ(u) = (n+1)u − (r+n) ln(α+eᵘ) − (s+1) ln(β+eᵘ)   (τ = eᵘ),
/// ```
///
/// φ is concave (φ′ falls from n+1 to −(r+s)), so the integrand has one peak,
/// at the root u* of φ′ (bisection) or at ln t if that comes first. The
/// integral is e^{φ(u_m)} ∫ e^{φ(u)−φ(u_m)} du with φ(u)−φ(u_m) formed from
/// ln1p/expm1 (no cancellation of terms of size r ln α), on the range where it
/// is above −40, by 8-point Gauss–Legendre on panels between the points
/// u_m ± w·2ᵏ (w about half the width of the peak), subdivided so that none is
/// wider than 2.5 in u (the integrand is analytic within π of the real axis)
/// or falls by more than 2 near the peak (more further out, where its share
/// is smaller). e^{φ(u_m)} is combined with the constant c in the same way,
/// so each term of the exponent is of the size of the result's logarithm. No
/// series, so no parameters where it fails to converge: the former series in
/// incomplete beta functions returned values above 1 (clamped to 1.0) or NaN for
/// parameters in the thousands and beyond.
fn death_term(r: f64, alpha: f64, s: f64, beta: f64, t: f64, n: f64, ln_nb: f64) -> f64 {
    let (la, lb) = (alpha.ln(), beta.ln());
    // φ′(u) = (n+1) − (r+n) σ(u − ln α) − (s+1) σ(u − ln β), decreasing.
    let slope = |u: f64| {
        (n + 1.0)
            - (r + n) * crate::special::logistic(u - la)
            - (s + 1.0) * crate::special::logistic(u - lb)
    };
    // −φ″(u) = (r+n) σ′(u − ln α) + (s+1) σ′(u − ln β), σ′ = σ(1 − σ).
    let curvature = |u: f64| {
        let (pa, pb) = (
            crate::special::logistic(u - la),
            crate::special::logistic(u - lb),
        );
        (r + n) * pa * (1.0 - pa) + (s + 1.0) * pb * (1.0 - pb)
    };
    // The root of φ′ by Newton's method inside a shrinking bracket.
    let (mut lo, mut hi) = (la.min(lb) - 80.0, la.max(lb) + 80.0);
    let mut u = 0.5 * (la + lb);
    for _ in 0..200 {
        let g = slope(u);
        if g > 0.0 {
            lo = u;
        } else {
            hi = u;
        }
        let c = curvature(u);
        let newton = u + g / c;
        let next = if c > 0.0 && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if (next - u).abs() <= 1e-13 * (1.0 + u.abs()) || hi - lo <= 1e-13 * (1.0 + u.abs()) {
            u = next;
            break;
        }
        u = next;
    }
    let upper = t.ln();
    let um = u.min(upper);
    let tm = um.exp();
    // φ(u) − φ(u_m), with eᵘ − e^{u_m} = e^{u_m} expm1(u − u_m).
    let drop = |u: f64| {
        let d = tm * (u - um).exp_m1();
        (n + 1.0) * (u - um)
            - (r + n) * (d / (alpha + tm)).ln_1p()
            - (s + 1.0) * (d / (beta + tm)).ln_1p()
    };
    // Breakpoints at u_m ± scale·2ᵏ (scale about half the peak's width) on each
    // side, up to `limit` or to where the integrand has fallen below e^{−40}
    // (that last point by bisection; φ concave: the drop is monotone on each
    // side). Nothing beyond e^{−40} is integrated.
    const FLOOR: f64 = 40.0;
    // At most (FLOOR + 10)/2 panels for the fall and 1e5/2.5 for the width
    // of an interval; this caps either even for a NaN.
    const MAX_PANELS: f64 = 50_000.0;
    let scale = (0.5 / curvature(um).sqrt()).clamp(1e-9, 2.0);
    let side = |dir: f64, limit: Option<f64>, points: &mut Vec<f64>| {
        let mut inner = um;
        let mut step = scale;
        loop {
            let mut outer = um + dir * step;
            let mut last = step > 1e5;
            if let Some(l) = limit {
                if dir * (outer - l) >= 0.0 {
                    outer = l;
                    last = true;
                }
            }
            if drop(outer) < -FLOOR {
                points.push(bisect_level(&drop, inner, outer, FLOOR));
                return;
            }
            points.push(outer);
            if last {
                return;
            }
            inner = outer;
            step *= 2.0;
        }
    };
    let mut points = vec![um];
    side(-1.0, None, &mut points);
    if um < upper {
        side(1.0, Some(upper), &mut points);
    }
    points.sort_by(f64::total_cmp);
    points.dedup();
    // 8-point Gauss–Legendre panels: at most 2.5 wide in u (the integrand is
    // analytic within π of the real axis), and falling by at most 2 near the
    // peak, more where the integrand is already below e^{−6}, e^{−15} (the
    // error of a panel that falls by Δ is about Δ¹⁶/(16! 4⁸) of its share).
    let (nodes, weights) = crate::special::tail_sum::gauss_legendre_8();
    let mut integral = 0.0;
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if b <= a {
            continue;
        }
        // Below e^{−FLOOR} nothing counts, so a panel's fall is measured down
        // to there only: a steep edge (a drop of −1e12 at the bisected end
        // point, with parameters near 1e300) must not ask for 1e11 panels.
        let (da, db) = (drop(a).max(-FLOOR - 10.0), drop(b).max(-FLOOR - 10.0));
        let top = da.max(db);
        let allowed = if top > -3.0 {
            2.0
        } else if top > -10.0 {
            3.0
        } else if top > -20.0 {
            5.0
        } else {
            10.0
        };
        let panels = ((da - db).abs() / allowed)
            .ceil()
            .max(((b - a) / 2.5).ceil())
            .clamp(1.0, MAX_PANELS) as usize;
        let h = (b - a) / panels as f64;
        for k in 0..panels {
            let x0 = a + h * k as f64;
            let mut panel = 0.0;
            for (z, w) in nodes.iter().zip(weights) {
                panel += w * drop(x0 + 0.5 * h * (z + 1.0)).exp();
            }
            integral += 0.5 * h * panel;
        }
    }
    let ln_n_part = if n > 0.0 {
        n * (tm / (alpha + tm)).ln()
    } else {
        0.0
    };
    let ln_peak = s.ln() + ln_nb - r * (tm / alpha).ln_1p() + ln_n_part - s * (tm / beta).ln_1p()
        + (tm / (beta + tm)).ln();
    (ln_peak + integral.ln()).exp()
}

/// A point between `inside` (drop ≥ −level) and `outside` (drop < −level).
/// Only the panels' edges depend on it, so a few steps do.
fn bisect_level(drop: &impl Fn(f64) -> f64, mut inside: f64, mut outside: f64, level: f64) -> f64 {
    for _ in 0..12 {
        let mid = 0.5 * (inside + outside);
        if drop(mid) >= -level {
            inside = mid;
        } else {
            outside = mid;
        }
    }
    0.5 * (inside + outside)
}

/// A Chebyshev interpolant, in t = ln y, of ln S(e, c, z = 1 − eᵗ) and its
/// derivatives in (e, c, z) (see `hyp2f1::ln_s`) for fixed e and c: the
/// s J(t_x) and s J(T) of Pareto/NBD customers with one x, whose y
/// covariates and histories spread over a range (see
/// [`crate::models::covariates::CovariateModel::customer_terms`]).
///
/// ln S is analytic in t in the strip |Im t| < π (the cut z ≥ 1 is at
/// Im t = ±π), so the interpolant on n Chebyshev nodes converges
/// geometrically; it is accepted only when it reproduces ln S and its
/// gradient to 1e-12 (the Hessian to 1e-10), relative to max(1, |value|),
/// at points halfway between nodes, else the caller evaluates each customer
/// exactly.
struct ChebyshevLnS {
    mid: f64,
    half: f64,
    /// Outputs interpolated: 1 (value), 4 (and gradient) or 10 (and the
    /// upper triangle of the Hessian).
    outputs: usize,
    /// Coefficient j of each output.
    coefficients: Vec<[f64; 10]>,
}

impl ChebyshevLnS {
    /// Fewest customers for which the interpolant is built.
    const MIN_ROWS: usize = 96;
    /// Accepted error of the value and gradient at the check points,
    /// relative to max(1, |value|, |output|).
    const TOLERANCE: f64 = 1e-12;
    /// The same for the Hessian, which only steers Newton's steps and the
    /// standard errors.
    const HESSIAN_TOLERANCE: f64 = 1e-10;

    /// The interpolant over the range of `ln_y` (each ≥ ln 1e-3), or None
    /// when that range is a point (then the exact value is as cheap), the
    /// nodes would not be fewer than half the customers, or the check fails.
    fn new(e: f64, c: f64, ln_y: &[f64], order: u8) -> Option<Self> {
        let lo = ln_y.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ln_y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !(hi - lo > 1e-9 && lo.is_finite() && hi.is_finite()) {
            return None;
        }
        let n = (20.0 + 10.0 * (hi - lo)).ceil().min(128.0) as usize;
        if 2 * n > ln_y.len() {
            return None;
        }
        let outputs = match order {
            0 => 1,
            1 => 4,
            _ => 10,
        };
        let (mid, half) = (0.5 * (hi + lo), 0.5 * (hi - lo));
        let exact = |t: f64| -> [f64; 10] {
            let y = t.exp();
            let v = ln_s(e, c, 1.0 - y, y, order);
            [
                v.value,
                v.grad[0],
                v.grad[1],
                v.grad[2],
                v.hess[0][0],
                v.hess[0][1],
                v.hess[0][2],
                v.hess[1][1],
                v.hess[1][2],
                v.hess[2][2],
            ]
        };
        let angle = |k: f64| std::f64::consts::PI * (k + 0.5) / n as f64;
        let values: Vec<[f64; 10]> = (0..n)
            .map(|k| exact(mid + half * angle(k as f64).cos()))
            .collect();
        if values
            .iter()
            .any(|v| v[..outputs].iter().any(|x| !x.is_finite()))
        {
            return None;
        }
        let coefficients: Vec<[f64; 10]> = (0..n)
            .map(|j| {
                let mut cj = [0.0; 10];
                for (k, v) in values.iter().enumerate() {
                    let w = (j as f64 * angle(k as f64)).cos();
                    for q in 0..outputs {
                        cj[q] += w * v[q];
                    }
                }
                cj.map(|x| 2.0 * x / n as f64)
            })
            .collect();
        let interpolant = ChebyshevLnS {
            mid,
            half,
            outputs,
            coefficients,
        };
        // Halfway (in angle) between the nodes at both ends and in the middle.
        for k in [0.5, (n / 2) as f64 + 0.5, n as f64 - 1.5] {
            let t = mid + half * angle(k).cos();
            let (want, got) = (exact(t), interpolant.packed(t));
            let scale = want[0].abs().max(1.0);
            for q in 0..outputs {
                let tolerance = if q < 4 {
                    Self::TOLERANCE
                } else {
                    Self::HESSIAN_TOLERANCE
                };
                let error = (got[q] - want[q]).abs();
                if error.is_nan() || error > tolerance * scale.max(want[q].abs()) {
                    return None;
                }
            }
        }
        Some(interpolant)
    }

    /// The outputs at t by Clenshaw's recurrence.
    fn packed(&self, t: f64) -> [f64; 10] {
        let tau = ((t - self.mid) / self.half).clamp(-1.0, 1.0);
        let (mut b1, mut b2) = ([0.0; 10], [0.0; 10]);
        for cj in self.coefficients[1..].iter().rev() {
            for q in 0..self.outputs {
                let b = 2.0 * tau * b1[q] - b2[q] + cj[q];
                b2[q] = b1[q];
                b1[q] = b;
            }
        }
        let c0 = &self.coefficients[0];
        let mut out = [0.0; 10];
        for q in 0..self.outputs {
            out[q] = 0.5 * c0[q] + tau * b1[q] - b2[q];
        }
        out
    }

    /// ln S and its derivatives at t = ln y.
    fn at(&self, t: f64) -> crate::special::hyp2f1::LnS {
        let v = self.packed(t);
        crate::special::hyp2f1::LnS {
            value: v[0],
            grad: [v[1], v[2], v[3]],
            hess: [[v[4], v[5], v[6]], [v[5], v[7], v[8]], [v[6], v[8], v[9]]],
        }
    }
}
