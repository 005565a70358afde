//! BG/BB: the beta-geometric / beta-Bernoulli model of discrete-time,
//! non-contractual customer bases.
//!
//! Source: Fader, P. S., Hardie, B. G. S. & Shang, J. (2010), "Customer-Base
//! Analysis in a Discrete-Time Noncontractual Setting", Marketing Science
//! 29(6), 1086–1108.
//!
//! A customer has n transaction opportunities 1, …, n after the first
//! transaction (at opportunity 0). The story (section 3 of the paper):
//! - at the *beginning* of each opportunity a customer who is still alive dies
//!   (becomes permanently inactive) with probability θ, so P(alive at t | θ) =
//!   (1 − θ)^t for t = 0, 1, 2, …;
//! - a customer alive at an opportunity transacts at it with probability p;
//! - p ~ Beta(α, β) and θ ~ Beta(γ, δ), independently across customers.
//!
//! A history is summarised by (x, t_x, n): x transactions among opportunities
//! 1..n, the last at opportunity t_x (0 when x = 0), so x ≤ t_x ≤ n.
//!
//! Equations (numbering of the published paper as cited by the `lifetimes`
//! and `BTYD` implementations):
//!
//! ```text
//! (5)  L(α,β,γ,δ | x, t_x, n) = B(α+x, β+n−x)/B(α,β) · B(γ, δ+n)/B(γ,δ)
//!        + Σ_{i=0}^{n−t_x−1} B(α+x, β+t_x−x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ)
//! (7)  P(X(n) = x), a new customer's number of transactions in n opportunities
//! (8)  E[X(n)] = α/(α+β) · δ/(γ−1) · [1 − Γ(γ+δ)Γ(1+δ+n) / (Γ(1+δ)Γ(γ+δ+n))]
//! (11) P(alive at n+1 | x, t_x, n) = B(α+x, β+n−x)/B(α,β) · B(γ, δ+n+1)/B(γ,δ) / L
//! (13) E[X(n, n+n*) | x, t_x, n], expected transactions in the next n* opportunities
//! ```
//!
//! In (5) the first term is "alive at n" and the i-th "died at the beginning
//! of opportunity t_x+i+1". Writing every B as ln Γ's, all terms share
//! ln Γ(α+x) − ln Γ(α) − ln Γ(β) + ln Γ(α+β) − ln Γ(δ) + ln Γ(γ+δ) (computed
//! once per distinct x and once per evaluation) and differ by
//!
//! ```text
//! u₀ = v(n),   u_m = v(m) + ln γ − ln(γ+δ+m)  for m = t_x, …, n−1,
//! v(m) = ln Γ(β+m−x) − ln Γ(α+β+m) + ln Γ(δ+m) − ln Γ(γ+δ+m),
//! ```
//!
//! so ln L is a log-sum-exp of the u's, whose gradient and Hessian follow
//! from digamma and trigamma, tabulated over m once per evaluation.
//!
//! (13) is evaluated as P(alive at n | ·) · (α+x)/(α+β+n) · S(δ+n, γ, n*) with
//!
//! ```text
//! S(a, γ, N) = Σ_{k=1}^{N} E[(1−θ)^k], θ ~ Beta(γ, a)
//!            = a/(γ−1) · [1 − Γ(a+1+N)Γ(a+γ) / (Γ(a+1)Γ(a+γ+N))],
//! ```
//!
//! computed with `expm1` and, near γ = 1 (where the paper's form is 0/0), a
//! series in γ − 1; (8) is (α/(α+β)) S(δ, γ, n).

use rand::Rng;
use rand_distr::{Beta, Distribution};
use rayon::prelude::*;

use crate::data::{
    check_length, check_rows, check_weights, first_non_finite, Broken, CompressedData, CustomerData,
};
use crate::error::{Error, Result};
use crate::models::params::check_positive;
use crate::models::{Accumulator, Derivatives, Evaluation, Model, SimulatedCustomer};
use crate::predict::{par_map, par_map_by_key, simulate_chunked};
use crate::special::{digamma, expm1_over, ln_gamma, trigamma};

/// BG/BB parameters (α, β, γ, δ), all positive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetaGeoBetaBinom {
    /// First shape of the beta distribution of transaction probabilities p.
    alpha: f64,
    /// Second shape of the beta distribution of transaction probabilities p.
    beta: f64,
    /// First shape of the beta distribution of drop-out probabilities θ.
    gamma: f64,
    /// Second shape of the beta distribution of drop-out probabilities θ.
    delta: f64,
}

// ---------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------

/// Checks the BG/BB rules on (x, t_x, n) histories: equal lengths; finite;
/// integers; n ≥ 0; 0 ≤ x ≤ t_x ≤ n; t_x = 0 when x = 0; weights (if given)
/// finite and non-negative. Reports the first offending row.
///
/// n = 0 is a customer whose first transaction is at the last opportunity of
/// the calibration (so x = t_x = 0): valid, with likelihood exactly 1 (no
/// information on the parameters), so a fit leaves it out (see
/// [`CompressedData`]); its predictions are those of a customer alive at
/// opportunity 0, e.g. P(alive at 1) = δ/(γ+δ).
fn validate_histories(
    frequency: &[f64],
    recency: &[f64],
    n_periods: &[f64],
    weights: Option<&[f64]>,
) -> Result<()> {
    let len = frequency.len();
    check_length("recency", recency.len(), len)?;
    check_length("n_periods", n_periods.len(), len)?;
    if let Some(w) = weights {
        check_length("weights", w.len(), len)?;
    }
    let broken = |i: usize| -> Option<Broken> {
        let (x, tx, n) = (frequency[i], recency[i], n_periods[i]);
        let columns = [("frequency", x), ("recency", tx), ("n_periods", n)];
        if !(x.is_finite() && tx.is_finite() && n.is_finite()) {
            Some((
                "frequency, recency and n_periods must be finite numbers",
                first_non_finite(columns),
            ))
        } else if let Some((column, _)) = columns.iter().find(|(_, v)| v.fract() != 0.0) {
            Some(("frequency, recency and n_periods must be integers", column))
        } else if n < 0.0 {
            Some(("n_periods must be non-negative", "n_periods"))
        } else if x < 0.0 {
            Some(("frequency must be non-negative", "frequency"))
        } else if tx < 0.0 {
            Some(("recency must be non-negative", "recency"))
        } else if tx > n {
            Some(("recency must not exceed n_periods", "recency"))
        } else if x == 0.0 && tx != 0.0 {
            Some(("recency must be 0 when frequency is 0", "recency"))
        } else if x > tx {
            Some((
                "frequency must not exceed recency (at most one transaction per opportunity)",
                "frequency",
            ))
        } else {
            None
        }
    };
    check_rows(len, broken, |row| {
        format!(
            "frequency={}, recency={}, n_periods={}",
            frequency[row], recency[row], n_periods[row]
        )
    })?;
    check_weights(weights)
}

/// Validates BG/BB histories and compresses identical rows into weights.
///
/// `frequency` x is the number of transactions in opportunities 1..n,
/// `recency` t_x the opportunity of the last one (0 if none) and `n_periods`
/// the number of opportunities n. Rules: equal lengths; finite; integers;
/// n ≥ 1; 0 ≤ x ≤ t_x ≤ n; t_x = 0 when x = 0; weights finite and
/// non-negative, not all zero. The result stores n in `CompressedData::age`.
///
/// ```
/// use retentionkit::bgbb::bgbb_data;
/// let data = bgbb_data(&[0.0, 2.0, 2.0], &[0.0, 5.0, 5.0], &[6.0, 6.0, 6.0], None)?;
/// assert_eq!(data.len(), 2);
/// let bad = bgbb_data(&[0.0, 3.0], &[0.0, 2.0], &[6.0, 6.0], None);
/// assert!(bad.unwrap_err().to_string().contains("row: 1"));
/// # Ok::<(), retentionkit::Error>(())
/// ```
pub fn bgbb_data(
    frequency: &[f64],
    recency: &[f64],
    n_periods: &[f64],
    weights: Option<&[f64]>,
) -> Result<CompressedData> {
    validate_histories(frequency, recency, n_periods, weights)?;
    Ok(CustomerData::new(frequency, recency, n_periods, weights)?.compress())
}

// ---------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------

/// ln B(a, b).
fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// S(a, γ, N) = Σ_{k=1}^{N} E[(1−θ)^k] for θ ~ Beta(γ, a)
/// = a/(γ−1) · [1 − Γ(a+1+N)Γ(a+γ) / (Γ(a+1)Γ(a+γ+N))].
fn expected_survivals(a: f64, gamma: f64, big_n: f64) -> f64 {
    if big_n <= 0.0 {
        return 0.0;
    }
    let g1 = gamma - 1.0;
    // d = ln[Γ(a+1+N)Γ(a+γ) / (Γ(a+1)Γ(a+γ+N))] and q = −d/(γ−1) > 0.
    let (d, q) = if g1.abs() < 1e-4 {
        // d = −g1 F'(1) − g1²/2 F''(1) + O(g1³), F(s) = ln Γ(a+s+N) − ln Γ(a+s).
        let f1 = digamma(a + 1.0 + big_n) - digamma(a + 1.0);
        let f2 = trigamma(a + 1.0 + big_n) - trigamma(a + 1.0);
        let q = f1 + 0.5 * g1 * f2;
        (-g1 * q, q)
    } else {
        let d = ln_gamma(a + 1.0 + big_n) - ln_gamma(a + 1.0) - ln_gamma(a + gamma + big_n)
            + ln_gamma(a + gamma);
        (d, -d / g1)
    };
    // −expm1(d)/(γ−1) = q · expm1(d)/d.
    (a * q * expm1_over(d)).max(0.0)
}

impl BetaGeoBetaBinom {
    /// Builds the model, checking that every parameter is positive and finite.
    ///
    /// FHS (2010), table 2, donations data: α = 1.204, β = 0.750, γ = 0.657,
    /// δ = 2.783.
    ///
    /// ```
    /// use retentionkit::bgbb::BetaGeoBetaBinom;
    /// let m = BetaGeoBetaBinom::new(1.204, 0.750, 0.657, 2.783)?;
    /// // A donor who gave in all 6 years is very likely alive in year 7.
    /// assert!(m.probability_alive(6.0, 6.0, 6.0) > 0.9);
    /// assert!(BetaGeoBetaBinom::new(1.204, 0.0, 0.657, 2.783).is_err());
    /// # Ok::<(), retentionkit::Error>(())
    /// ```
    pub fn new(alpha: f64, beta: f64, gamma: f64, delta: f64) -> Result<Self> {
        check_positive(Self::PARAM_NAMES, &[alpha, beta, gamma, delta])?;
        Ok(Self {
            alpha,
            beta,
            gamma,
            delta,
        })
    }

    /// ln Γ(α+x) − ln Γ(α) − ln Γ(β) + ln Γ(α+β) − ln Γ(δ) + ln Γ(γ+δ): the
    /// part of every term of (5) that does not depend on t_x or n.
    fn ln_common(&self, x: f64) -> f64 {
        let Self {
            alpha,
            beta,
            gamma,
            delta,
        } = *self;
        ln_gamma(alpha + x) - ln_gamma(alpha) - ln_gamma(beta) + ln_gamma(alpha + beta)
            - ln_gamma(delta)
            + ln_gamma(gamma + delta)
    }

    /// v(m) of the module docs.
    fn v(&self, x: f64, m: f64) -> f64 {
        ln_gamma(self.beta + m - x) - ln_gamma(self.alpha + self.beta + m)
            + ln_gamma(self.delta + m)
            - ln_gamma(self.gamma + self.delta + m)
    }

    /// (u₀, ln Σ e^{u}) of one history: ln P(alive at n, history) and
    /// ln L, both without the common part.
    fn alive_and_total(&self, x: f64, t_x: f64, n: f64) -> (f64, f64) {
        let u0 = self.v(x, n);
        let ln_g = self.gamma.ln();
        let mut max = u0;
        let mut m = t_x;
        while m < n {
            let u = self.v(x, m) + ln_g - (self.gamma + self.delta + m).ln();
            max = max.max(u);
            m += 1.0;
        }
        let mut sum = (u0 - max).exp();
        let mut m = t_x;
        while m < n {
            let u = self.v(x, m) + ln_g - (self.gamma + self.delta + m).ln();
            sum += (u - max).exp();
            m += 1.0;
        }
        (u0, max + sum.ln())
    }

    /// ln L(α, β, γ, δ | x, t_x, n) of one history, eq. (5). Exactly 0 for
    /// n = 0 (no opportunity yet: L = B(α,β)/B(α,β) · B(γ,δ)/B(γ,δ) = 1,
    /// which the ln Γ terms give only to rounding).
    pub fn individual_log_likelihood(&self, x: f64, t_x: f64, n: f64) -> f64 {
        if n == 0.0 {
            return 0.0;
        }
        self.ln_common(x) + self.alive_and_total(x, t_x, n).1
    }

    /// P(alive at opportunity n + m | x, t_x, n) for m ≥ 0: the survival
    /// generalisation of eq. (11) (m = 0 is "alive at n", i.e. alive during
    /// the last observed opportunity).
    pub fn probability_alive_at(&self, m: f64, x: f64, t_x: f64, n: f64) -> f64 {
        let (u0, total) = self.alive_and_total(x, t_x, n);
        let (g, d) = (self.gamma, self.delta);
        let ln_survive = if m > 0.0 {
            ln_gamma(d + n + m) - ln_gamma(d + n) - ln_gamma(g + d + n + m) + ln_gamma(g + d + n)
        } else {
            0.0
        };
        (u0 - total + ln_survive).exp().clamp(0.0, 1.0)
    }

    /// P(alive at n+1 | x, t_x, n), eq. (11): the probability that the
    /// customer is alive at the next transaction opportunity (after surviving
    /// the drop-out draw at its beginning).
    pub fn probability_alive(&self, x: f64, t_x: f64, n: f64) -> f64 {
        self.probability_alive_at(1.0, x, t_x, n)
    }

    /// E[X(n, n+n*) | x, t_x, n], eq. (13): expected transactions in the next
    /// `n_star` opportunities n+1, …, n+n*.
    pub fn conditional_expected_number_of_transactions(
        &self,
        n_star: f64,
        x: f64,
        t_x: f64,
        n: f64,
    ) -> f64 {
        if n_star <= 0.0 {
            return 0.0;
        }
        let alive_at_n = self.probability_alive_at(0.0, x, t_x, n);
        let p_mean = (self.alpha + x) / (self.alpha + self.beta + n);
        alive_at_n * p_mean * expected_survivals(self.delta + n, self.gamma, n_star)
    }

    /// E[X(n)], eq. (8): expected transactions of a new customer in the first
    /// n opportunities.
    pub fn expected_number_of_transactions(&self, n: f64) -> f64 {
        self.alpha / (self.alpha + self.beta) * expected_survivals(self.delta, self.gamma, n)
    }

    /// P(X(n) = x), eq. (7): the probability that a new customer makes x
    /// transactions in the first n opportunities (0 unless x is an integer in
    /// 0..=n).
    pub fn probability_of_transactions(&self, x: f64, n: f64) -> f64 {
        if x < 0.0 || x > n || x.fract() != 0.0 {
            return 0.0;
        }
        let Self {
            alpha,
            beta,
            gamma,
            delta,
        } = *self;
        let ln_choose =
            |a: f64, b: f64| ln_gamma(a + 1.0) - ln_gamma(b + 1.0) - ln_gamma(a - b + 1.0);
        let (ln_ab, ln_gd) = (ln_beta(alpha, beta), ln_beta(gamma, delta));
        let mut p = (ln_choose(n, x) + ln_beta(alpha + x, beta + n - x) - ln_ab
            + ln_beta(gamma, delta + n)
            - ln_gd)
            .exp();
        let mut i = x;
        while i < n {
            p += (ln_choose(i, x) + ln_beta(alpha + x, beta + i - x) - ln_ab
                + ln_beta(gamma + 1.0, delta + i)
                - ln_gd)
                .exp();
            i += 1.0;
        }
        p.clamp(0.0, 1.0)
    }

    /// Draws one customer with `n` transaction opportunities, following the
    /// story of FHS (2010): p ~ Beta(α, β), θ ~ Beta(γ, δ); at the beginning
    /// of each opportunity t = 1, …, n a living customer dies with probability
    /// θ, and a customer still alive then transacts with probability p.
    ///
    /// In the result, `age` is n, `rate` is p, `dropout` is θ and `alive`
    /// says whether the customer is alive at opportunity n (the quantity of
    /// [`BetaGeoBetaBinom::probability_alive_at`] with m = 0).
    pub fn simulate_customer<R: Rng + ?Sized>(&self, n: f64, rng: &mut R) -> SimulatedCustomer {
        let p = Beta::new(self.alpha, self.beta)
            .expect("valid parameters")
            .sample(rng);
        let theta = Beta::new(self.gamma, self.delta)
            .expect("valid parameters")
            .sample(rng);
        let (mut x, mut t_x, mut alive) = (0.0, 0.0, true);
        let mut t = 1.0;
        while t <= n {
            if rng.random::<f64>() < theta {
                alive = false;
                break;
            }
            if rng.random::<f64>() < p {
                x += 1.0;
                t_x = t;
            }
            t += 1.0;
        }
        SimulatedCustomer {
            frequency: x,
            recency: t_x,
            age: n,
            rate: p,
            dropout: theta,
            alive,
        }
    }
}

/// Per-evaluation tables over k = 0..=max n of the ln Γ, ψ and ψ₁ values the
/// likelihood needs, for the arguments β+k, α+β+k, δ+k, γ+δ+k.
struct Tables {
    ln_g: Vec<[f64; 4]>,
    psi: Vec<[f64; 4]>,
    psi1: Vec<[f64; 4]>,
    /// ln(γ+δ+k) and 1/(γ+δ+k).
    ln_gdk: Vec<f64>,
    inv_gdk: Vec<f64>,
    /// ln γ and 1/γ.
    ln_gamma_param: f64,
    inv_gamma: f64,
}

impl Tables {
    fn new(m: &BetaGeoBetaBinom, max_n: usize, derivatives: Derivatives) -> Self {
        let args = |k: usize| {
            let k = k as f64;
            [
                m.beta + k,
                m.alpha + m.beta + k,
                m.delta + k,
                m.gamma + m.delta + k,
            ]
        };
        let table = |f: fn(f64) -> f64| -> Vec<[f64; 4]> {
            (0..max_n + 1)
                .into_par_iter()
                .with_min_len(256)
                .map(|k| args(k).map(f))
                .collect()
        };
        let want_grad = derivatives >= Derivatives::Gradient;
        let want_hess = derivatives == Derivatives::Hessian;
        Tables {
            ln_g: table(ln_gamma),
            psi: if want_grad {
                table(digamma)
            } else {
                Vec::new()
            },
            psi1: if want_hess {
                table(trigamma)
            } else {
                Vec::new()
            },
            ln_gdk: (0..=max_n).map(|k| args(k)[3].ln()).collect(),
            inv_gdk: (0..=max_n).map(|k| 1.0 / args(k)[3]).collect(),
            ln_gamma_param: m.gamma.ln(),
            inv_gamma: 1.0 / m.gamma,
        }
    }

    /// u, its gradient and (upper-triangle) Hessian for one term of (5):
    /// m = n with `died == false` (alive at n), else died at the beginning of
    /// opportunity m + 1.
    #[inline]
    fn term(
        &self,
        x: usize,
        m: usize,
        died: bool,
        derivatives: Derivatives,
        g: &mut [f64; 4],
        h: &mut [[f64; 4]; 4],
    ) -> f64 {
        let lb = self.ln_g[m - x][0];
        let [_, lab, ld, lgd] = self.ln_g[m];
        let mut u = lb - lab + ld - lgd;
        if died {
            u += self.ln_gamma_param - self.ln_gdk[m];
        }
        if derivatives >= Derivatives::Gradient {
            let pb = self.psi[m - x][0];
            let [_, pab, pd, pgd] = self.psi[m];
            *g = [-pab, pb - pab, -pgd, pd - pgd];
            let r = if died { self.inv_gdk[m] } else { 0.0 };
            if died {
                g[2] += self.inv_gamma - r;
                g[3] -= r;
            }
            if derivatives == Derivatives::Hessian {
                let tb = self.psi1[m - x][0];
                let [_, tab, td, tgd] = self.psi1[m];
                let r2 = r * r;
                let ig2 = if died {
                    self.inv_gamma * self.inv_gamma
                } else {
                    0.0
                };
                h[0][0] = -tab;
                h[0][1] = -tab;
                h[1][1] = tb - tab;
                h[2][2] = -tgd + r2 - ig2;
                h[2][3] = -tgd + r2;
                h[3][3] = td - tgd + r2;
            }
        }
        u
    }
}

type Acc = Accumulator<4>;

const CHUNK: usize = 1024;

impl BetaGeoBetaBinom {
    /// The parameter names, in the order of [`Self::from_slice`].
    pub const PARAM_NAMES: &'static [&'static str] = &["alpha", "beta", "gamma", "delta"];

    /// Builds the model from values in the order of [`Self::PARAM_NAMES`],
    /// checking their domain.
    pub fn from_slice(values: &[f64]) -> Result<Self> {
        check_positive(Self::PARAM_NAMES, values)?;
        Ok(Self {
            alpha: values[0],
            beta: values[1],
            gamma: values[2],
            delta: values[3],
        })
    }

    /// First shape of the beta distribution of transaction probabilities p.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Second shape of the beta distribution of transaction probabilities p.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// First shape of the beta distribution of drop-out probabilities θ.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// Second shape of the beta distribution of drop-out probabilities θ.
    pub fn delta(&self) -> f64 {
        self.delta
    }
}

impl Model for BetaGeoBetaBinom {
    type Data = CompressedData;
    const NAME: &'static str = "BetaGeoBetaBinom";

    crate::models::params::fixed_positive_params!();

    fn to_vec(&self) -> Vec<f64> {
        vec![self.alpha, self.beta, self.gamma, self.delta]
    }

    /// Starts from Beta(2p̄, 2(1−p̄)) for p, with p̄ the share of opportunities
    /// with a transaction, and θ ~ Beta(1, 3).
    fn initial_params(&self, data: &CompressedData) -> Vec<f64> {
        let (mut xs, mut ns) = (0.0, 0.0);
        for i in 0..data.len() {
            xs += data.weight[i] * data.frequency[i];
            ns += data.weight[i] * data.age[i];
        }
        let p = (xs / ns).clamp(0.05, 0.95);
        vec![2.0 * p, 2.0 * (1.0 - p), 1.0, 3.0]
    }

    /// The weighted log-likelihood of eq. (5) with analytic derivatives.
    fn evaluate(&self, data: &CompressedData, derivatives: Derivatives) -> Evaluation {
        let alpha = self.alpha;
        let want_grad = derivatives >= Derivatives::Gradient;
        let want_hess = derivatives == Derivatives::Hessian;
        let max_n = data.age.iter().copied().fold(0.0, f64::max) as usize;
        let tables = Tables::new(self, max_n, derivatives);

        // Common part: −ln Γ(α) − ln Γ(β) + ln Γ(α+β) − ln Γ(δ) + ln Γ(γ+δ)
        // for every customer, and ln Γ(α+x) per distinct x.
        let w_total = data.total_weight;
        let mut total = Acc::ZERO;
        total.value = w_total
            * (-ln_gamma(alpha) - tables.ln_g[0][0] + tables.ln_g[0][1] - tables.ln_g[0][2]
                + tables.ln_g[0][3]);
        if want_grad {
            let [pb, pab, pd, pgd] = tables.psi[0];
            total.grad = [
                w_total * (pab - digamma(alpha)),
                w_total * (pab - pb),
                w_total * pgd,
                w_total * (pgd - pd),
            ];
            if want_hess {
                let [tb, tab, td, tgd] = tables.psi1[0];
                total.hess[0][0] = w_total * (tab - trigamma(alpha));
                total.hess[0][1] = w_total * tab;
                total.hess[1][0] = w_total * tab;
                total.hess[1][1] = w_total * (tab - tb);
                total.hess[2][2] = w_total * tgd;
                total.hess[2][3] = w_total * tgd;
                total.hess[3][2] = w_total * tgd;
                total.hess[3][3] = w_total * (tgd - td);
            }
        }
        for (&x, &w) in data.distinct_x().iter().zip(data.weight_by_x()) {
            total.value += w * ln_gamma(alpha + x);
            if want_grad {
                total.grad[0] += w * digamma(alpha + x);
                if want_hess {
                    total.hess[0][0] += w * trigamma(alpha + x);
                }
            }
        }

        let rows = data.len();
        let per_row = (0..rows.div_ceil(CHUNK))
            .into_par_iter()
            .map(|chunk| {
                let mut acc = Acc::ZERO;
                let mut g = [0.0; 4];
                let mut h = [[0.0; 4]; 4];
                let end = ((chunk + 1) * CHUNK).min(rows);
                for i in chunk * CHUNK..end {
                    let w = data.weight[i];
                    let x = data.frequency[i] as usize;
                    let t_x = data.recency[i] as usize;
                    let n = data.age[i] as usize;
                    // Pass 1: the largest term, for the log-sum-exp.
                    let none = Derivatives::None;
                    let mut max = tables.term(x, n, false, none, &mut g, &mut h);
                    for m in t_x..n {
                        let u = tables.term(x, m, true, none, &mut g, &mut h);
                        max = max.max(u);
                    }
                    // Pass 2: Σ e^{u−max}, Σ e ∇u, Σ e (∇²u + ∇u ∇uᵀ).
                    let mut s0 = 0.0;
                    let mut s1 = [0.0; 4];
                    let mut s2 = [[0.0; 4]; 4];
                    for m in (t_x..n).chain(std::iter::once(n)) {
                        let died = m < n;
                        let u = tables.term(x, m, died, derivatives, &mut g, &mut h);
                        let e = (u - max).exp();
                        s0 += e;
                        if want_grad {
                            for k in 0..4 {
                                s1[k] += e * g[k];
                            }
                            if want_hess {
                                for k in 0..4 {
                                    for l in k..4 {
                                        s2[k][l] += e * (h[k][l] + g[k] * g[l]);
                                    }
                                }
                            }
                        }
                    }
                    acc.value += w * (max + s0.ln());
                    if want_grad {
                        let inv = 1.0 / s0;
                        let mean = s1.map(|v| v * inv);
                        for (acc_k, mean_k) in acc.grad.iter_mut().zip(mean) {
                            *acc_k += w * mean_k;
                        }
                        if want_hess {
                            for k in 0..4 {
                                for l in k..4 {
                                    acc.hess[k][l] += w * (s2[k][l] * inv - mean[k] * mean[l]);
                                }
                            }
                        }
                    }
                }
                acc
            })
            .reduce(|| Acc::ZERO, Acc::add);
        // The per-row loop fills the upper triangle only: mirror it.
        let mut hess = per_row.hess;
        for (k, l) in [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)] {
            hess[k][l] = hess[l][k];
        }
        let total = total.add(Acc {
            value: per_row.value,
            grad: per_row.grad,
            hess,
        });
        total.into_evaluation(derivatives)
    }
}

// ---------------------------------------------------------------------------
// Vectorised, validating, parallel wrappers
// ---------------------------------------------------------------------------

/// P(alive at nᵢ+1 | xᵢ, t_xᵢ, nᵢ), eq. (11), for every customer.
pub fn probability_alive_many(
    model: &BetaGeoBetaBinom,
    frequency: &[f64],
    recency: &[f64],
    n_periods: &[f64],
) -> Result<Vec<f64>> {
    validate_histories(frequency, recency, n_periods, None)?;
    Ok(par_map_by_key(
        frequency.len(),
        |i| history_key(0.0, frequency[i], recency[i], n_periods[i]),
        |i| model.probability_alive(frequency[i], recency[i], n_periods[i]),
    ))
}

/// E[X(nᵢ, nᵢ+n*ᵢ) | xᵢ, t_xᵢ, nᵢ], eq. (13), for every customer; `n_star`
/// holds non-negative integers.
pub fn conditional_expected_transactions_many(
    model: &BetaGeoBetaBinom,
    n_star: &[f64],
    frequency: &[f64],
    recency: &[f64],
    n_periods: &[f64],
) -> Result<Vec<f64>> {
    validate_histories(frequency, recency, n_periods, None)?;
    check_length("n_star", n_star.len(), frequency.len())?;
    if let Some(row) = n_star
        .iter()
        .position(|v| !(v.is_finite() && *v >= 0.0 && v.fract() == 0.0))
    {
        return Err(Error::InvalidData {
            rule: "n_star must be a non-negative integer",
            row,
            detail: format!("n_star={}", n_star[row]),
            column: Some("n_star"),
            cohort: None,
            period: None,
        });
    }
    Ok(par_map_by_key(
        frequency.len(),
        |i| history_key(n_star[i], frequency[i], recency[i], n_periods[i]),
        |i| {
            model.conditional_expected_number_of_transactions(
                n_star[i],
                frequency[i],
                recency[i],
                n_periods[i],
            )
        },
    ))
}

/// ln Lᵢ, eq. (5), of every history.
pub fn individual_log_likelihood_many(
    model: &BetaGeoBetaBinom,
    frequency: &[f64],
    recency: &[f64],
    n_periods: &[f64],
) -> Result<Vec<f64>> {
    validate_histories(frequency, recency, n_periods, None)?;
    Ok(par_map_by_key(
        frequency.len(),
        |i| history_key(0.0, frequency[i], recency[i], n_periods[i]),
        |i| model.individual_log_likelihood(frequency[i], recency[i], n_periods[i]),
    ))
}

/// Simulates one customer per entry of `n_periods` (their number of
/// transaction opportunities, non-negative integers). Reproducible for a given
/// seed whatever the number of threads: customers are drawn in fixed chunks,
/// each from its own ChaCha8 stream.
pub fn simulate_many(
    model: &BetaGeoBetaBinom,
    n_periods: &[f64],
    seed: u64,
) -> Result<Vec<SimulatedCustomer>> {
    if let Some(row) = n_periods
        .iter()
        .position(|v| !(v.is_finite() && *v >= 0.0 && v.fract() == 0.0))
    {
        return Err(Error::InvalidData {
            rule: "n_periods must be a non-negative integer",
            row,
            detail: format!("n_periods={}", n_periods[row]),
            column: Some("n_periods"),
            cohort: None,
            period: None,
        });
    }
    Ok(simulate_chunked(n_periods.len(), seed, |i, rng| {
        model.simulate_customer(n_periods[i], rng)
    }))
}

/// A row's (horizon, x, t_x, n) as a hash key (validated finite integers).
fn history_key(horizon: f64, x: f64, t_x: f64, n: f64) -> [u64; 4] {
    [horizon, x, t_x, n].map(|v| (v + 0.0).to_bits())
}

fn check_non_negative_integers(name: &'static str, values: &[f64], len: usize) -> Result<()> {
    check_length(name, values.len(), len)?;
    if let Some(row) = values
        .iter()
        .position(|v| !(v.is_finite() && *v >= 0.0 && v.fract() == 0.0))
    {
        return Err(Error::InvalidData {
            rule: "must be a non-negative integer",
            row,
            detail: format!("{name}={}", values[row]),
            column: Some(name),
            cohort: None,
            period: None,
        });
    }
    Ok(())
}

/// P(alive at opportunity nᵢ + mᵢ | xᵢ, t_xᵢ, nᵢ) for every customer
/// (mᵢ = 1 is eq. (11)).
pub fn probability_alive_at_many(
    model: &BetaGeoBetaBinom,
    m: &[f64],
    frequency: &[f64],
    recency: &[f64],
    n_periods: &[f64],
) -> Result<Vec<f64>> {
    validate_histories(frequency, recency, n_periods, None)?;
    check_non_negative_integers("m_periods_in_future", m, frequency.len())?;
    Ok(par_map_by_key(
        frequency.len(),
        |i| history_key(m[i], frequency[i], recency[i], n_periods[i]),
        |i| model.probability_alive_at(m[i], frequency[i], recency[i], n_periods[i]),
    ))
}

/// E[X(nᵢ)] for a new customer, for every nᵢ (non-negative integers).
pub fn expected_transactions_many(model: &BetaGeoBetaBinom, n_periods: &[f64]) -> Result<Vec<f64>> {
    check_non_negative_integers("n_periods", n_periods, n_periods.len())?;
    Ok(par_map(n_periods.len(), |i| {
        model.expected_number_of_transactions(n_periods[i])
    }))
}

/// P(X(nᵢ) = xᵢ) for a new customer.
pub fn probability_of_transactions_many(
    model: &BetaGeoBetaBinom,
    x: &[f64],
    n_periods: &[f64],
) -> Result<Vec<f64>> {
    check_non_negative_integers("x", x, x.len())?;
    check_non_negative_integers("n_periods", n_periods, x.len())?;
    Ok(par_map(x.len(), |i| {
        model.probability_of_transactions(x[i], n_periods[i])
    }))
}
