//! MBG/CNBD-k: the MBG/NBD with Erlang-k inter-purchase times.
//!
//! Source: Platzer, M. & Reutterer, T. (2016), "Ticking Away the Moments:
//! Timing Regularity Helps to Better Predict Customer Activity", Marketing
//! Science 35(5), 779–799. The formulas below are derived here from the
//! model's assumptions, in this crate's parameterisation.
//!
//! # Model
//!
//! - While alive, a customer's purchases are every k-th event of a Poisson
//!   process of rate λ ("ticks"), so inter-purchase times are Erlang-k with
//!   density fₖ(d) = λᵏ d^{k−1} e^{−λd}/(k−1)! and mean k/λ; k = 1 is the
//!   Poisson process of MBG/NBD.
//! - λ ~ Gamma(r, α) (rate α) across customers.
//! - Right at the first purchase (time 0) and after each repeat purchase the
//!   customer drops out with probability p, p ~ Beta(a, b) across customers.
//!
//! With this parameterisation k = 1 is MBG/NBD with the same (r, α, a, b).
//!
//! # Likelihood
//!
//! A customer with x repeat purchases, the last at t_x, observed for T, with
//! inter-purchase times d₁ … dₓ (Σ dⱼ = t_x, litt = Σ ln dⱼ): given λ and p,
//! L = (1−p)ˣ ∏ fₖ(dⱼ) · [p + (1−p) Sₖ(T − t_x)], where
//! Sₖ(u) = Σ_{i<k} e^{−λu}(λu)ⁱ/i! is the Erlang-k survival (fewer than k
//! ticks since the last purchase). ∏ fₖ(dⱼ) = C λ^{kx} e^{−λ t_x} with
//! C = exp((k−1) litt − x ln (k−1)!). Integrating over p and λ:
//!
//! L = C · [ B(a+1, b+x)/B(a, b) · Γ(r+kx) αʳ / (Γ(r) (α+t_x)^{r+kx})
//!         + B(a, b+x+1)/B(a, b) · Σ_{i=0}^{k−1} Γ(r+kx+i) αʳ (T−t_x)ⁱ
//!                                   / (Γ(r) i! (α+T)^{r+kx+i}) ].
//!
//! The first term is "dropped out right after the last purchase", the second
//! "alive with i < k ticks since it". For x = 0 (t_x = 0, litt = 0) the first
//! is a/(a+b) and the second b/(a+b) P(NB(r, α/(α+T)) < k). C depends on the
//! data and k only, not on (r, α, a, b), but it enters the log-likelihood so
//! that fits with different k compare.
//!
//! # Predictions
//!
//! - P(alive | x, t_x, T) = second term / (first + second) (closed form).
//! - Given alive, p | data ~ Beta(a, b+x+1), and the number of ticks i since
//!   the last purchase and λ have the joint posterior weight
//!   wᵢ ∝ Γ(s+i)(T−t_x)ⁱ/(i!(α+T)^{s+i}) with λ | i ~ Gamma(s+i, α+T),
//!   s = r + kx. The m-th future purchase happens by T + t when at least
//!   mk − i ticks fall in (T, T+t], and counts when the customer survived the
//!   m − 1 purchases before it, so
//!   E[Y(t) | x, t_x, T] = P(alive) Σᵢ wᵢ Σ_{m≥1} E[(1−p)^{m−1}]
//!   · P(NB(s+i, (α+T)/(α+T+t)) ≥ mk − i),
//!   summed exactly (the negative-binomial tails by a recursion, or the
//!   regularised incomplete beta function) until the terms are below 1e-15
//!   of the sum. This is not the approximation of the original software.
//! - E[X(t)] for a new customer is the conditional expectation at
//!   x = t_x = T = 0.
//!
//! # Fitting
//!
//! The gradient and Hessian are analytic: ln L = ln(D + Σᵢ Aᵢ) is a
//! log-sum-exp of terms whose logs have closed-form derivatives (digamma and
//! trigamma functions of r + kx and of the beta shapes), computed once per
//! distinct x; see `add_row`.

use rand::Rng;
use rand_distr::{Beta, Distribution, Gamma};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::models::params::{check_positive, lookup_named, ParamSpec};
use crate::models::{
    Accumulator, Derivatives, Evaluation, FitData, Model, SimulatedCustomer, TransactionModel,
};
use crate::special::beta_inc::{beta_inc_reg, ln_beta_ratio};
use crate::special::{digamma, ln_gamma, log1p_exp, trigamma};

/// Largest k accepted (the likelihood sums k terms per customer).
pub const MAX_K: u32 = 100;

/// Customer histories (x, t_x, T, litt) with weights, for a fit with a given
/// k: the k of the Erlang-k inter-purchase times belongs to the data of a fit
/// because the term (k−1) litt − x ln (k−1)! of the log-likelihood does.
///
/// Customers with T = 0 are left out (their likelihood is exactly 1 for
/// every parameter and every k) and counted in `new_customers`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CnbdData {
    /// k of the Erlang-k inter-purchase times.
    pub k: u32,
    /// Repeat purchases x.
    pub frequency: Vec<f64>,
    /// Age at the last repeat purchase t_x.
    pub recency: Vec<f64>,
    /// Age T.
    pub age: Vec<f64>,
    /// Σ ln of the inter-purchase times (0 when x = 0).
    pub litt: Vec<f64>,
    /// Weight of each row.
    pub weight: Vec<f64>,
    /// Sum of the weights kept.
    pub total_weight: f64,
    /// Sum of the weights left out because T = 0.
    pub new_customers: f64,
    /// Largest T.
    pub max_age: f64,
    /// Largest x.
    pub max_frequency: f64,
}

fn invalid(rule: &'static str, row: usize, detail: String, column: &'static str) -> Error {
    Error::InvalidData {
        rule,
        row,
        detail,
        column: Some(column),
        cohort: None,
        period: None,
    }
}

impl CnbdData {
    /// Validates and keeps the histories. x, t_x, T (and weights) are checked
    /// as for every (x, t_x, T) model ([`crate::CustomerData::new`]); litt must
    /// be finite, 0 when x = 0, and at most x ln(t_x / x) when x > 0 (the logs
    /// of x positive gaps that sum to t_x; equality when all gaps are equal).
    ///
    /// ```
    /// use retentionkit::mbgcnbd::CnbdData;
    /// let d = CnbdData::new(2, &[0.0, 2.0], &[0.0, 5.0], &[10.0, 10.0], &[0.0, 1.0], None)?;
    /// assert_eq!(d.total_weight, 2.0);
    /// // Gaps summing to 5 have logs summing to at most 2 ln 2.5 = 1.83.
    /// assert!(CnbdData::new(2, &[2.0], &[5.0], &[10.0], &[2.0], None).is_err());
    /// # Ok::<(), retentionkit::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidData`] naming the column and first offending row,
    /// [`Error::LengthMismatch`], [`Error::InvalidParameter`] for k = 0 or
    /// k > [`MAX_K`].
    pub fn new(
        k: u32,
        frequency: &[f64],
        recency: &[f64],
        age: &[f64],
        litt: &[f64],
        weights: Option<&[f64]>,
    ) -> Result<Self> {
        check_k(k)?;
        crate::CustomerData::new(frequency, recency, age, weights)?;
        if litt.len() != frequency.len() {
            return Err(Error::LengthMismatch {
                name: "litt",
                found: litt.len(),
                expected: frequency.len(),
            });
        }
        for i in 0..frequency.len() {
            let (x, t_x, l) = (frequency[i], recency[i], litt[i]);
            if !l.is_finite() {
                return Err(invalid(
                    "litt (the sum of the logs of the inter-purchase times) must be finite",
                    i,
                    format!("litt = {l}"),
                    "litt",
                ));
            }
            if x == 0.0 && l != 0.0 {
                return Err(invalid(
                    "litt must be 0 for a customer without repeat purchases (there is no inter-purchase time)",
                    i,
                    format!("frequency = 0, litt = {l}"),
                    "litt",
                ));
            }
            if x > 0.0 && t_x == 0.0 {
                return Err(invalid(
                    "recency must be positive for a customer with repeat purchases when litt is used (the inter-purchase times must be positive)",
                    i,
                    format!("frequency = {x}, recency = 0"),
                    "recency",
                ));
            }
            if x > 0.0 {
                let bound = x * (t_x / x).ln();
                let slack = if bound.is_finite() {
                    1e-9 * (1.0 + bound.abs())
                } else {
                    0.0
                };
                if l > bound + slack {
                    return Err(invalid(
                        "litt must be at most frequency * ln(recency / frequency): the logs of frequency positive inter-purchase times that add up to recency",
                        i,
                        format!("frequency = {x}, recency = {t_x}, litt = {l}, at most {bound}"),
                        "litt",
                    ));
                }
            }
        }
        let mut data = CnbdData {
            k,
            ..Default::default()
        };
        for i in 0..frequency.len() {
            let w = weights.map_or(1.0, |w| w[i]);
            if age[i] == 0.0 {
                data.new_customers += w;
                continue;
            }
            if w == 0.0 {
                continue;
            }
            data.frequency.push(frequency[i]);
            data.recency
                .push(if frequency[i] == 0.0 { 0.0 } else { recency[i] });
            data.age.push(age[i]);
            data.litt.push(litt[i]);
            data.weight.push(w);
            data.total_weight += w;
            data.max_age = data.max_age.max(age[i]);
            data.max_frequency = data.max_frequency.max(frequency[i]);
        }
        Ok(data)
    }

    /// The same histories for another k.
    pub fn with_k(&self, k: u32) -> Result<Self> {
        check_k(k)?;
        Ok(Self { k, ..self.clone() })
    }

    /// Σ w ((k−1) litt − x ln (k−1)!): the part of the log-likelihood that
    /// depends on k but not on the parameters.
    pub fn log_constant(&self) -> f64 {
        let k = f64::from(self.k);
        let ln_fact = ln_gamma(k);
        (0..self.weight.len())
            .map(|i| self.weight[i] * ((k - 1.0) * self.litt[i] - self.frequency[i] * ln_fact))
            .sum()
    }
}

/// k given as a number (from Python or a saved file): a whole number from 1
/// to [`MAX_K`].
///
/// # Errors
///
/// [`Error::InvalidParameter`] otherwise.
pub fn k_from_f64(value: f64) -> Result<u32> {
    if value.fract() == 0.0 && (1.0..=f64::from(MAX_K)).contains(&value) {
        Ok(value as u32)
    } else {
        Err(Error::InvalidParameter {
            name: "k".to_string(),
            value,
            rule: "must be a whole number from 1 to 100",
        })
    }
}

fn check_k(k: u32) -> Result<()> {
    if k == 0 || k > MAX_K {
        return Err(Error::InvalidParameter {
            name: "k".to_string(),
            value: f64::from(k),
            rule: "must be a whole number from 1 to 100",
        });
    }
    Ok(())
}

impl FitData for CnbdData {
    fn rows(&self) -> usize {
        self.weight.len()
    }

    fn total_weight(&self) -> f64 {
        self.total_weight
    }

    fn subsample(&self, step: usize) -> Self {
        let step = step.max(1);
        let pick = |v: &Vec<f64>| v.iter().step_by(step).copied().collect::<Vec<f64>>();
        let weight: Vec<f64> = pick(&self.weight).iter().map(|w| w * step as f64).collect();
        CnbdData {
            k: self.k,
            frequency: pick(&self.frequency),
            recency: pick(&self.recency),
            age: pick(&self.age),
            litt: pick(&self.litt),
            total_weight: weight.iter().sum(),
            weight,
            new_customers: self.new_customers,
            max_age: self.max_age,
            max_frequency: self.max_frequency,
        }
    }
}

/// MBG/CNBD-k with parameters (r, α, a, b), all positive, and k ≥ 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MbgCnbdK {
    /// Shape of the gamma distribution of tick rates λ.
    pub r: f64,
    /// Rate of the gamma distribution of tick rates λ.
    pub alpha: f64,
    /// First shape of the beta distribution of drop-out probabilities.
    pub a: f64,
    /// Second shape of the beta distribution of drop-out probabilities.
    pub b: f64,
    /// k of the Erlang-k inter-purchase times.
    pub k: u32,
}

/// Chunk of rows per rayon task.
const CHUNK: usize = 4096;

impl MbgCnbdK {
    /// Parameter names, in order.
    pub const PARAM_NAMES: &'static [&'static str] = &["r", "alpha", "a", "b"];

    /// Builds the model, checking that every parameter is positive and finite
    /// and 1 ≤ k ≤ [`MAX_K`].
    ///
    /// ```
    /// use retentionkit::mbgcnbd::MbgCnbdK;
    /// let m = MbgCnbdK::new(0.243, 4.414, 0.793, 2.426, 2).unwrap();
    /// assert!(m.probability_alive(2.0, 30.0, 38.0) < 1.0);
    /// ```
    pub fn new(r: f64, alpha: f64, a: f64, b: f64, k: u32) -> Result<Self> {
        check_positive(Self::PARAM_NAMES, &[r, alpha, a, b])?;
        check_k(k)?;
        Ok(Self { r, alpha, a, b, k })
    }

    /// From (r, α, a, b) with k = 1 (see [`MbgCnbdK::with_k`]).
    pub fn from_slice(values: &[f64]) -> Result<Self> {
        check_positive(Self::PARAM_NAMES, values)?;
        Ok(Self {
            r: values[0],
            alpha: values[1],
            a: values[2],
            b: values[3],
            k: 1,
        })
    }

    /// The same parameters with another k.
    pub fn with_k(self, k: u32) -> Result<Self> {
        check_k(k)?;
        Ok(Self { k, ..self })
    }

    /// ln of the two terms of the likelihood without C: (ln D, ln A, S-weights
    /// moments) where D is "dropped out after the last purchase" and A "alive".
    /// Returns (ln D, ln A, Σᵢ vᵢ i, Σᵢ vᵢ Hᵢ) with vᵢ the share of term i in A
    /// and Hᵢ = Σ_{j<i} 1/(s+j).
    fn terms(&self, x: f64, t_x: f64, age: f64) -> (f64, f64, f64, f64) {
        let MbgCnbdK { r, alpha, a, b, k } = *self;
        let t_x = if x == 0.0 { 0.0 } else { t_x };
        let kf = f64::from(k);
        let s = r + kf * x;
        let g = ln_gamma(s) - ln_gamma(r) + r * alpha.ln();
        let ln_d = (a / (a + b)).ln() + ln_beta_ratio(a + 1.0, b, x) + g - s * (alpha + t_x).ln();
        let ln_a0 = ln_beta_ratio(a, b, x + 1.0) + g - s * (alpha + age).ln();
        let (sum, mean_i, mean_h) = tick_sums(s, (age - t_x) / (alpha + age), k);
        (ln_d, ln_a0 + sum.ln(), mean_i, mean_h)
    }

    /// ln L of one history (x, t_x, T, litt), including C. 0 for T = 0.
    ///
    /// ```
    /// use retentionkit::mbgcnbd::MbgCnbdK;
    /// use retentionkit::{ModifiedBetaGeo, TransactionModel};
    /// // k = 1 is MBG/NBD.
    /// let m = MbgCnbdK::new(0.5, 3.0, 0.8, 2.5, 1).unwrap();
    /// let mbg = ModifiedBetaGeo::new(0.5, 3.0, 0.8, 2.5).unwrap();
    /// let ll = m.individual_log_likelihood(3.0, 20.0, 30.0, 4.0);
    /// assert!((ll - mbg.individual_log_likelihood(3.0, 20.0, 30.0)).abs() < 1e-12);
    /// ```
    pub fn individual_log_likelihood(&self, x: f64, t_x: f64, age: f64, litt: f64) -> f64 {
        if age == 0.0 && x == 0.0 {
            return 0.0;
        }
        let kf = f64::from(self.k);
        let c = (kf - 1.0) * litt - x * ln_gamma(kf);
        let (ln_d, ln_a, _, _) = self.terms(x, t_x, age);
        c + log_add(ln_d, ln_a)
    }

    /// P(alive at T | x, t_x, T): the "alive" term over the likelihood
    /// (litt cancels).
    pub fn probability_alive(&self, x: f64, t_x: f64, age: f64) -> f64 {
        let (ln_d, ln_a, _, _) = self.terms(x, t_x, age);
        1.0 / (1.0 + (ln_d - ln_a).exp())
    }

    /// E[Y(t) | x, t_x, T]: expected purchases in (T, T + t], by the exact
    /// series of the module documentation.
    pub fn conditional_expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let MbgCnbdK { r, alpha, a, b, k } = *self;
        let t_x = if x == 0.0 { 0.0 } else { t_x };
        let kf = f64::from(k);
        let s = r + kf * x;
        let alive = self.probability_alive(x, t_x, age);
        if alive == 0.0 {
            return 0.0;
        }
        // Posterior weights of i ticks since the last purchase.
        let z = (age - t_x) / (alpha + age);
        let mut weights = Vec::with_capacity(k as usize);
        let mut c = 1.0;
        for i in 0..k {
            if i > 0 {
                c *= (s + f64::from(i) - 1.0) * z / f64::from(i);
            }
            weights.push(c);
        }
        let total: f64 = weights.iter().sum();
        // p | alive ~ Beta(a, b + x + 1): E[(1−p)^n] = Π_{j<n} (b'+j)/(a+b'+j).
        let b1 = b + x + 1.0;
        let scale = alpha + age;
        let (ln_p0, ln_q0) = (-(t / scale).ln_1p(), -(scale / t).ln_1p());
        let (p0, q0) = (ln_p0.exp(), ln_q0.exp());
        let mut expected = 0.0;
        for (i, w) in weights.iter().enumerate() {
            let w = w / total;
            if w < 1e-300 {
                continue;
            }
            let shape = s + i as f64;
            expected += w * purchases_given_ticks(shape, i as u32, k, a, b1, p0, q0, ln_p0, ln_q0);
        }
        alive * expected
    }

    /// P(X(t) = n) for a new customer: alive after n purchases with N(t)
    /// ticks in [nk, (n+1)k), or gone right after the n-th purchase (at
    /// time 0 when n = 0) with N(t) ≥ nk, N(t) negative binomial:
    /// B(a, b+n+1)/B(a, b) Σ_{j=nk}^{(n+1)k−1} NB(j) + B(a+1, b+n)/B(a, b) I_q(nk, r).
    ///
    /// ```
    /// use retentionkit::mbgcnbd::MbgCnbdK;
    /// let m = MbgCnbdK::new(1.0, 2.0, 0.8, 3.0, 3).unwrap();
    /// let total: f64 = (0..400).map(|n| m.probability_of_purchases(10.0, n as f64)).sum();
    /// assert!((total - 1.0).abs() < 1e-10);
    /// ```
    pub fn probability_of_purchases(&self, t: f64, n: f64) -> f64 {
        if t <= 0.0 {
            return if n == 0.0 { 1.0 } else { 0.0 };
        }
        let MbgCnbdK { r, alpha, a, b, k } = *self;
        let kf = f64::from(k);
        let (ln_p0, ln_q0) = (-(t / alpha).ln_1p(), -(alpha / t).ln_1p());
        let ln_stay = ln_beta_ratio(a, b, n + 1.0);
        let base = -ln_gamma(r) + r * ln_p0;
        let mut alive = 0.0;
        for i in 0..k {
            let j = n * kf + f64::from(i);
            let ln_nb = ln_gamma(r + j) - ln_gamma(j + 1.0) + base + j * ln_q0;
            alive += (ln_stay + ln_nb).exp();
        }
        let ln_gone = (a / (a + b)).ln() + ln_beta_ratio(a + 1.0, b, n);
        let tail = if n == 0.0 {
            1.0
        } else {
            beta_inc_reg(n * kf, r, ln_q0.exp(), ln_p0.exp(), ln_q0, ln_p0)
        };
        (alive + ln_gone.exp() * tail).min(1.0)
    }

    /// E[X(t)]: expected repeat purchases of a new customer in (0, t].
    pub fn expected_purchases(&self, t: f64) -> f64 {
        self.conditional_expected_purchases(t, 0.0, 0.0, 0.0)
    }

    /// One simulated customer observed for `age`, and its litt.
    pub fn simulate_customer<R: Rng + ?Sized>(
        &self,
        age: f64,
        rng: &mut R,
    ) -> (SimulatedCustomer, f64) {
        let rate = Gamma::new(self.r, 1.0 / self.alpha)
            .expect("valid parameters")
            .sample(rng);
        let p = Beta::new(self.a, self.b)
            .expect("valid parameters")
            .sample(rng);
        let gap = Gamma::new(f64::from(self.k), 1.0 / rate.max(1e-300)).expect("valid shape");
        let (mut t, mut x, mut t_x, mut litt) = (0.0, 0.0, 0.0, 0.0);
        let mut alive = rng.random::<f64>() >= p;
        if alive && rate > 0.0 {
            loop {
                let d: f64 = gap.sample(rng);
                if t + d > age {
                    break;
                }
                t += d;
                x += 1.0;
                t_x = t;
                litt += d.ln();
                if rng.random::<f64>() < p {
                    alive = false;
                    break;
                }
                if x >= 1e6 {
                    break;
                }
            }
        }
        (
            SimulatedCustomer {
                frequency: x,
                recency: t_x,
                age,
                rate,
                dropout: p,
                alive,
            },
            litt,
        )
    }

    /// Simulated customers, one per age, reproducible from `seed` (each
    /// customer draws from its own stream, so the result does not depend on
    /// the number of threads).
    pub fn simulate(&self, ages: &[f64], seed: u64) -> Vec<(SimulatedCustomer, f64)> {
        use rand::SeedableRng;
        ages.par_iter()
            .enumerate()
            .map(|(i, &age)| {
                let mut rng = rand::rngs::StdRng::seed_from_u64(
                    seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
                self.simulate_customer(age, &mut rng)
            })
            .collect()
    }
}

/// The parts of a row's log-likelihood and its derivatives that depend on x
/// only (with the parameters), computed once per distinct x.
#[derive(Debug, Clone, Copy, Default)]
struct XTerms {
    /// ln of the "dropped out" term without −s ln(α+t_x).
    ln_d: f64,
    /// ln of the first "alive" term without −s ln(α+T).
    ln_a: f64,
    /// ψ(r), ψ₁(r) (the same for every x, kept here to be at hand).
    psi_r: f64,
    tri_r: f64,
    /// ψ(s), ψ₁(s), s = r + kx.
    psi_s: f64,
    tri_s: f64,
    /// ∂/∂a, ∂/∂b of the drop-out factor of the "dropped out" term, and of the
    /// "alive" terms.
    d_a: f64,
    d_b: f64,
    a_a: f64,
    a_b: f64,
    /// Their second derivatives (aa, ab, bb).
    d_aa: f64,
    d_ab: f64,
    d_bb: f64,
    a_aa: f64,
    a_ab: f64,
    a_bb: f64,
}

impl MbgCnbdK {
    /// [`XTerms`] for x = 0, 1, …, `max_x` (frequencies are whole numbers).
    fn x_table(&self, max_x: f64, derivatives: Derivatives) -> Vec<XTerms> {
        let MbgCnbdK { r, alpha, a, b, k } = *self;
        let kf = f64::from(k);
        let grad = derivatives >= Derivatives::Gradient;
        let hess = derivatives == Derivatives::Hessian;
        let (psi_ab, psi_b) = (digamma(a + b), digamma(b));
        let (tri_ab, tri_b) = if hess {
            (trigamma(a + b), trigamma(b))
        } else {
            (0.0, 0.0)
        };
        let base = -ln_gamma(r) + r * alpha.ln();
        let psi_r = if grad { digamma(r) } else { 0.0 };
        let tri_r = if hess { trigamma(r) } else { 0.0 };
        let ln_mean = (a / (a + b)).ln();
        (0..=max_x as usize)
            .into_par_iter()
            .map(|xi| {
                let x = xi as f64;
                let s = r + kf * x;
                let lg = ln_gamma(s) + base;
                let mut t = XTerms {
                    ln_d: ln_mean + ln_beta_ratio(a + 1.0, b, x) + lg,
                    ln_a: ln_beta_ratio(a, b, x + 1.0) + lg,
                    psi_r,
                    tri_r,
                    ..XTerms::default()
                };
                if grad {
                    let psi_abx1 = digamma(a + b + x + 1.0);
                    let psi_bx = digamma(b + x);
                    t.psi_s = digamma(s);
                    t.d_a = 1.0 / a + psi_ab - psi_abx1;
                    t.d_b = psi_bx - psi_abx1 - psi_b + psi_ab;
                    t.a_a = psi_ab - psi_abx1;
                    t.a_b = psi_bx + 1.0 / (b + x) - psi_abx1 - psi_b + psi_ab;
                }
                if hess {
                    let tri_abx1 = trigamma(a + b + x + 1.0);
                    let tri_bx = trigamma(b + x);
                    t.tri_s = trigamma(s);
                    t.d_aa = -1.0 / (a * a) - tri_abx1 + tri_ab;
                    t.d_ab = tri_ab - tri_abx1;
                    t.d_bb = tri_bx - tri_abx1 - tri_b + tri_ab;
                    t.a_aa = tri_ab - tri_abx1;
                    t.a_ab = tri_ab - tri_abx1;
                    t.a_bb = tri_bx - 1.0 / ((b + x) * (b + x)) - tri_abx1 - tri_b + tri_ab;
                }
                t
            })
            .collect()
    }

    /// Adds w · (ln L, ∇, ∇²) of one row (without C) to `acc`. ln L =
    /// ln(D + Σᵢ Aᵢ) over the terms ℓⱼ = ln D, ln Aᵢ, so ∇ ln L = Σ πⱼ ∇ℓⱼ and
    /// ∇² ln L = Σ πⱼ (∇²ℓⱼ + ∇ℓⱼ∇ℓⱼᵀ) − ∇ ln L ∇ ln Lᵀ, πⱼ the terms' shares.
    #[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
    fn add_row(
        &self,
        t: &XTerms,
        x: f64,
        t_x: f64,
        age: f64,
        w: f64,
        derivatives: Derivatives,
        acc: &mut Accumulator<4>,
    ) {
        let MbgCnbdK { r, alpha, k, .. } = *self;
        let s = r + f64::from(k) * x;
        let t_x = if x == 0.0 { 0.0 } else { t_x };
        let (at_x, at_age) = (alpha + t_x, alpha + age);
        let ln_d = t.ln_d - s * at_x.ln();
        let ln_a0 = t.ln_a - s * at_age.ln();
        let z = (age - t_x) / at_age;
        if derivatives == Derivatives::None {
            let (sum, _, _) = tick_sums(s, z, k);
            acc.value += w * log_add(ln_d, ln_a0 + sum.ln());
            return;
        }
        let hess = derivatives == Derivatives::Hessian;
        let (psi_r, tri_r, ln_alpha) = (t.psi_r, t.tri_r, alpha.ln());
        // The "alive" terms i = 0..k−1: cᵢ = Aᵢ/A₀, gradients gᵢ, and the
        // moments Σ cᵢ gᵢ, Σ cᵢ (∇²ℓᵢ + gᵢgᵢᵀ).
        let (mut c, mut h1, mut h2) = (1.0, 0.0, 0.0);
        let mut sum = 0.0;
        let mut g_sum = [0.0; 4];
        let mut m_sum = [[0.0; 4]; 4];
        for i in 0..k {
            let fi = f64::from(i);
            if i > 0 {
                let prev = s + fi - 1.0;
                c *= prev * z / fi;
                h1 += 1.0 / prev;
                h2 += 1.0 / (prev * prev);
            }
            let g = [
                t.psi_s + h1 - psi_r + ln_alpha - at_age.ln(),
                r / alpha - (s + fi) / at_age,
                t.a_a,
                t.a_b,
            ];
            sum += c;
            for p in 0..4 {
                g_sum[p] += c * g[p];
            }
            if hess {
                let h = [
                    [t.tri_s - h2 - tri_r, 1.0 / alpha - 1.0 / at_age, 0.0, 0.0],
                    [
                        1.0 / alpha - 1.0 / at_age,
                        -r / (alpha * alpha) + (s + fi) / (at_age * at_age),
                        0.0,
                        0.0,
                    ],
                    [0.0, 0.0, t.a_aa, t.a_ab],
                    [0.0, 0.0, t.a_ab, t.a_bb],
                ];
                for p in 0..4 {
                    for q in 0..4 {
                        m_sum[p][q] += c * (h[p][q] + g[p] * g[q]);
                    }
                }
            }
        }
        let ln_a = ln_a0 + sum.ln();
        let value = log_add(ln_d, ln_a);
        let (pi_d, pi_a) = ((ln_d - value).exp(), (ln_a - value).exp());
        let g_d = [
            t.psi_s - psi_r + ln_alpha - at_x.ln(),
            r / alpha - s / at_x,
            t.d_a,
            t.d_b,
        ];
        let mut g = [0.0; 4];
        for p in 0..4 {
            g[p] = pi_d * g_d[p] + pi_a * g_sum[p] / sum;
        }
        acc.value += w * value;
        for p in 0..4 {
            acc.grad[p] += w * g[p];
        }
        if hess {
            let h_d = [
                [t.tri_s - tri_r, 1.0 / alpha - 1.0 / at_x, 0.0, 0.0],
                [
                    1.0 / alpha - 1.0 / at_x,
                    -r / (alpha * alpha) + s / (at_x * at_x),
                    0.0,
                    0.0,
                ],
                [0.0, 0.0, t.d_aa, t.d_ab],
                [0.0, 0.0, t.d_ab, t.d_bb],
            ];
            for p in 0..4 {
                for q in 0..4 {
                    let m = pi_d * (h_d[p][q] + g_d[p] * g_d[q]) + pi_a * m_sum[p][q] / sum;
                    acc.hess[p][q] += w * (m - g[p] * g[q]);
                }
            }
        }
    }
}

/// ln(eᵘ + eᵛ).
fn log_add(u: f64, v: f64) -> f64 {
    if u == f64::NEG_INFINITY {
        return v;
    }
    if v == f64::NEG_INFINITY {
        return u;
    }
    let top = u.max(v);
    top + log1p_exp(u.min(v) - top)
}

/// With cᵢ = Γ(s+i)/(Γ(s) i!) zⁱ (c₀ = 1), i < k: (Σ cᵢ, Σ vᵢ i, Σ vᵢ Hᵢ)
/// where vᵢ = cᵢ/Σc and Hᵢ = Σ_{j<i} 1/(s+j).
fn tick_sums(s: f64, z: f64, k: u32) -> (f64, f64, f64) {
    let (mut c, mut h) = (1.0, 0.0);
    let (mut sum, mut sum_i, mut sum_h) = (1.0, 0.0, 0.0);
    for i in 1..k {
        let fi = f64::from(i);
        c *= (s + fi - 1.0) * z / fi;
        h += 1.0 / (s + fi - 1.0);
        sum += c;
        sum_i += c * fi;
        sum_h += c * h;
    }
    (sum, sum_i / sum, sum_h / sum)
}

/// Σ_{m≥1} E[(1−p)^{m−1}] P(N ≥ mk − i), p ~ Beta(a, b1), N negative
/// binomial with P(N = n) = Γ(shape+n)/(Γ(shape) n!) p0^shape q0ⁿ: the
/// expected purchases of a customer alive with i ticks since the last
/// purchase.
///
/// Summed by n instead of m, Σ_n P(N = n) C(⌊(n + i)/k⌋) with
/// C(M) = Σ_{m=1}^{M} E[(1−p)^{m−1}] (the purchases that n ticks complete),
/// every term is positive: no tail probability, so no cancellation. The
/// probabilities come by recursion from n = 0, or, when P(N = 0) underflows,
/// from the mode (in logs) in both directions. The sum stops where a bound on
/// the rest (the ratio of successive probabilities falls past the mode, and C
/// grows by at most 1 every k ticks) is below 1e-16 of it.
#[allow(clippy::too_many_arguments)]
fn purchases_given_ticks(
    shape: f64,
    i: u32,
    k: u32,
    a: f64,
    b1: f64,
    p0: f64,
    q0: f64,
    ln_p0: f64,
    ln_q0: f64,
) -> f64 {
    const TINY: f64 = 1e-16;
    let (kf, fi) = (f64::from(k), f64::from(i));
    if q0 == 0.0 {
        return 0.0;
    }
    // Purchases completed by n ticks, and E[(1−p)^{m−1}] of the m-th.
    let completed = |n: f64| ((n + fi) / kf).floor();
    let next_c = |c: f64, m: f64| c * (b1 + m - 1.0) / (a + b1 + m - 1.0);
    let mode = if shape > 1.0 {
        ((shape - 1.0) * q0 / p0).floor()
    } else {
        0.0
    };
    let ln_pmf0 = shape * ln_p0;
    let from_zero = ln_pmf0 > -700.0;
    let start = if from_zero { 0.0 } else { mode };
    // C(M) and c_M = E[(1−p)^{M−1}] at the start (M = 0: C = 0, c₀ unused).
    let m_start = completed(start);
    let (mut big_c, mut c_m) = (0.0, 1.0);
    let mut m = 0.0;
    while m < m_start {
        m += 1.0;
        if m > 1.0 {
            c_m = next_c(c_m, m - 1.0);
        }
        big_c += c_m;
    }
    let pmf_start = if from_zero {
        ln_pmf0.exp()
    } else {
        (ln_gamma(shape + start) - ln_gamma(shape) - ln_gamma(start + 1.0)
            + ln_pmf0
            + start * ln_q0)
            .exp()
    };
    let mut total = pmf_start * big_c;
    // Upwards from the start.
    let (mut n, mut pmf, mut up_c, mut up_cm, mut up_m) = (start, pmf_start, big_c, c_m, m_start);
    loop {
        let ratio = (shape + n) * q0 / (n + 1.0);
        pmf *= ratio;
        n += 1.0;
        let now = completed(n);
        if now > up_m {
            up_m = now;
            if up_m > 1.0 {
                up_cm = next_c(up_cm, up_m - 1.0);
            }
            up_c += up_cm;
        }
        total += pmf * up_c;
        // Past the mode the ratios tend to q0 (from above for shape > 1, from
        // below otherwise): the larger of the two bounds every later one.
        let rho = ratio.max(q0);
        if n > mode && rho < 1.0 {
            let rest = pmf * (rho / (1.0 - rho) * (up_c + 1.0) + rho / ((1.0 - rho).powi(2) * kf));
            if rest.is_nan() || rest <= TINY * total {
                break;
            }
        }
        if n > 1e9 {
            break;
        }
    }
    // Downwards from the start (only when it is the mode).
    let (mut n, mut pmf, mut down_c, mut down_cm, mut down_m) =
        (start, pmf_start, big_c, c_m, m_start);
    while n > 0.0 {
        let ratio = n / ((shape + n - 1.0) * q0);
        pmf *= ratio;
        n -= 1.0;
        let now = completed(n);
        if now < down_m {
            down_c -= down_cm;
            if down_m > 1.0 {
                down_cm *= (a + b1 + down_m - 2.0) / (b1 + down_m - 2.0);
            }
            down_m = now;
        }
        let term = pmf * down_c.max(0.0);
        total += term;
        let rest = pmf * down_c / (1.0 - ratio);
        if ratio < 1.0 && (rest.is_nan() || rest <= TINY * total) {
            break;
        }
    }
    total
}

impl Model for MbgCnbdK {
    type Data = CnbdData;
    const NAME: &'static str = "MBGCNBDk";

    fn param_specs(&self) -> Vec<ParamSpec> {
        ParamSpec::all_positive(Self::PARAM_NAMES)
    }

    /// Other (r, α, a, b) with the same k: the parameter draws of the
    /// intervals keep the fitted model's k.
    fn with_params(&self, values: &[f64]) -> Result<Self> {
        Ok(Self {
            k: self.k,
            ..Self::from_slice(values)?
        })
    }

    fn template(data: &CnbdData) -> Self {
        Self {
            k: data.k.clamp(1, MAX_K),
            ..Self::from_slice(&[1.0; 4]).expect("ones are valid")
        }
    }

    /// (r, α, a, b) with k = 1; [`Model::with_saved_structure`] restores the
    /// saved k.
    fn from_named_params(params: &std::collections::BTreeMap<String, f64>) -> Result<Self> {
        Self::from_slice(&lookup_named(Self::PARAM_NAMES.iter().copied(), params)?)
    }

    /// k, beside the parameters.
    fn saved_structure(&self) -> Vec<(&'static str, serde_json::Value)> {
        vec![("k", serde_json::Value::from(self.k))]
    }

    /// The saved `"k"`: required (a file without it does not say which
    /// MBG/CNBD-k it holds), a whole number from 1 to [`MAX_K`].
    fn with_saved_structure(
        self,
        saved: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self> {
        let value = saved.get("k").ok_or_else(|| {
            Error::Serialization(
                "\"k\" is missing: an MBG/CNBD-k file records the k of its Erlang-k \
                 inter-purchase times"
                    .to_string(),
            )
        })?;
        let k = value
            .as_f64()
            .and_then(|k| k_from_f64(k).ok())
            .ok_or_else(|| {
                Error::Serialization(format!(
                    "\"k\" is {value}, not a whole number from 1 to {MAX_K}"
                ))
            })?;
        Ok(Self { k, ..self })
    }

    fn to_vec(&self) -> Vec<f64> {
        vec![self.r, self.alpha, self.a, self.b]
    }

    fn evaluate(&self, data: &CnbdData, derivatives: Derivatives) -> Evaluation {
        // The fitter builds models with from_slice (k = 1): the data carry k.
        let model = Self { k: data.k, ..*self };
        let table = model.x_table(data.max_frequency, derivatives);
        let n = data.weight.len();
        let acc = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let mut acc = Accumulator::<4>::ZERO;
                for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                    let x = data.frequency[i];
                    model.add_row(
                        &table[x as usize],
                        x,
                        data.recency[i],
                        data.age[i],
                        data.weight[i],
                        derivatives,
                        &mut acc,
                    );
                }
                acc
            })
            .reduce(|| Accumulator::ZERO, Accumulator::add);
        let mut evaluation = acc.into_evaluation(derivatives);
        evaluation.value += data.log_constant();
        if evaluation.value.is_nan() {
            evaluation.value = f64::NEG_INFINITY;
        }
        evaluation
    }

    fn initial_params(&self, data: &CnbdData) -> Vec<f64> {
        let w = data.total_weight.max(1e-300);
        let mean = |v: &[f64]| v.iter().zip(&data.weight).map(|(x, w)| x * w).sum::<f64>() / w;
        let (mean_x, mean_t) = (mean(&data.frequency), mean(&data.age));
        // r = 1 and a tick rate near k times the observed repeat rate.
        let alpha = (mean_t / mean_x.max(0.1) / f64::from(data.k.max(1))).clamp(1e-6, 1e12);
        vec![1.0, alpha, 1.0, 2.0]
    }

    fn penalty_scale(&self, data: &CnbdData) -> Vec<f64> {
        // lifetimes rescales time so that max T = 10: α is a time scale.
        let scale = if data.max_age > 0.0 {
            10.0 / data.max_age
        } else {
            1.0
        };
        vec![1.0, scale, 1.0, 1.0]
    }
}

/// The predictions of MBG/CNBD-k need only (x, t_x, T): litt enters the
/// likelihood through the factor C alone, which cancels from every posterior
/// (module documentation). So the model is a [`TransactionModel`], and
/// everything written for those (the vectorised predictions of
/// [`crate::predict`], DERT, customer lifetime value, the intervals over the
/// parameter uncertainty) takes it as it is. DERT is the default
/// [`crate::value::dert::dert_by_quadrature`] of the exact series of
/// E[Y(t) | x, t_x, T].
impl TransactionModel for MbgCnbdK {
    fn expected_purchases(&self, t: f64) -> f64 {
        MbgCnbdK::expected_purchases(self, t)
    }

    fn probability_of_purchases(&self, t: f64, n: f64) -> f64 {
        MbgCnbdK::probability_of_purchases(self, t, n)
    }

    fn probability_alive(&self, frequency: f64, recency: f64, age: f64) -> f64 {
        MbgCnbdK::probability_alive(self, frequency, recency, age)
    }

    fn conditional_expected_purchases(
        &self,
        t: f64,
        frequency: f64,
        recency: f64,
        age: f64,
    ) -> f64 {
        MbgCnbdK::conditional_expected_purchases(self, t, frequency, recency, age)
    }

    /// ln L of (x, t_x, T) *without* the timing factor
    /// C = exp((k−1) litt − x ln (k−1)!), which needs litt (the inherent
    /// [`MbgCnbdK::individual_log_likelihood`] takes it and includes C). C does
    /// not depend on (r, α, a, b), so for a fixed k this is the
    /// log-likelihood up to a constant; at k = 1 (C = 1) it is the MBG/NBD's
    /// exactly. Do not compare it across k or with other models.
    fn individual_log_likelihood(&self, frequency: f64, recency: f64, age: f64) -> f64 {
        if age == 0.0 && frequency == 0.0 {
            return 0.0;
        }
        let (ln_d, ln_a, _, _) = self.terms(frequency, recency, age);
        log_add(ln_d, ln_a)
    }

    /// One simulated customer (the litt of its purchases is dropped; the
    /// inherent [`MbgCnbdK::simulate_customer`] returns it).
    fn simulate_customer<R: Rng + ?Sized>(&self, age: f64, rng: &mut R) -> SimulatedCustomer {
        MbgCnbdK::simulate_customer(self, age, rng).0
    }
}

/// The fit of MBG/CNBD-k for each k tried, and the best.
#[derive(Debug, Clone)]
pub struct KSelection {
    /// The fit with the highest log-likelihood.
    pub best: crate::Fitted<MbgCnbdK>,
    /// (k, log-likelihood) of every k tried, in order (NaN where the fit
    /// failed).
    pub profile: Vec<(u32, f64)>,
}

impl KSelection {
    /// The saved format of the best fit ([`crate::Fitted::to_json`], which
    /// records its `"k"`) with the profile as `"k_profile"`:
    /// `[[k, log-likelihood or null], ...]`.
    pub fn to_json(&self) -> String {
        json_with_profile(&self.best, &self.profile)
    }

    /// Reads [`KSelection::to_json`] (or a plain saved MBG/CNBD-k, whose
    /// profile is then empty).
    ///
    /// # Errors
    ///
    /// As [`crate::Fitted::from_json`], and [`Error::Serialization`] for a
    /// `"k_profile"` that is not a list of (k, log-likelihood) pairs.
    pub fn from_json(text: &str) -> Result<Self> {
        let best = crate::Fitted::<MbgCnbdK>::from_json(text)?;
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        let value: serde_json::Value =
            serde_json::from_str(body).map_err(|e| Error::Serialization(e.to_string()))?;
        let mut profile = Vec::new();
        if let Some(rows) = value.get("k_profile") {
            let bad = |row: &serde_json::Value| {
                Error::Serialization(format!(
                    "\"k_profile\": {row} is not a pair (k, log-likelihood)"
                ))
            };
            for row in rows.as_array().ok_or_else(|| bad(rows))? {
                let pair = row
                    .as_array()
                    .filter(|p| p.len() == 2)
                    .ok_or_else(|| bad(row))?;
                let k = pair[0]
                    .as_f64()
                    .and_then(|k| k_from_f64(k).ok())
                    .ok_or_else(|| bad(row))?;
                let ll = match &pair[1] {
                    serde_json::Value::Null => f64::NAN,
                    v => v.as_f64().ok_or_else(|| bad(row))?,
                };
                profile.push((k, ll));
            }
        }
        Ok(Self { best, profile })
    }
}

/// [`crate::Fitted::to_json`] of `fitted` with `profile` as `"k_profile"`
/// (left out when empty; a log-likelihood that is not finite is `null`).
pub fn json_with_profile(fitted: &crate::Fitted<MbgCnbdK>, profile: &[(u32, f64)]) -> String {
    let text = fitted.to_json();
    if profile.is_empty() {
        return text;
    }
    let mut value: serde_json::Value =
        serde_json::from_str(&text).expect("the shared format is JSON");
    let rows = profile
        .iter()
        .map(|&(k, ll)| {
            let ll = if ll.is_finite() {
                serde_json::Value::from(ll)
            } else {
                serde_json::Value::Null
            };
            serde_json::Value::Array(vec![serde_json::Value::from(k), ll])
        })
        .collect();
    if let Some(map) = value.as_object_mut() {
        map.insert("k_profile".to_string(), serde_json::Value::Array(rows));
    }
    serde_json::to_string_pretty(&value).expect("a model always serialises")
}

/// Fits MBG/CNBD-k for the given k (the data's k is replaced), returning the
/// fitted model with that k.
pub fn fit_k(
    data: &CnbdData,
    k: u32,
    options: &crate::FitOptions,
) -> Result<crate::Fitted<MbgCnbdK>> {
    let data = data.with_k(k)?;
    let mut fitted = crate::fit::<MbgCnbdK>(&data, options)?;
    fitted.model.k = k;
    Ok(fitted)
}

/// Fits k = 1, 2, … up to `max_k` and keeps the best log-likelihood,
/// stopping once the log-likelihood has fallen twice in a row.
///
/// A k whose fit ends on the boundary of the parameter space (a misspecified
/// k often does: the drop-out shapes run off to 0) is still a point of the
/// profile: its log-likelihood is the supremum found with
/// `require_convergence = false`, and it is chosen only if it is the best.
///
/// # Errors
///
/// The error of the k = 1 fit when no k could be fitted.
pub fn select_k(data: &CnbdData, max_k: u32, options: &crate::FitOptions) -> Result<KSelection> {
    check_k(max_k)?;
    let relaxed = crate::FitOptions {
        require_convergence: false,
        ..options.clone()
    };
    let mut best: Option<crate::Fitted<MbgCnbdK>> = None;
    let mut first_error = None;
    let mut profile = Vec::new();
    let (mut previous, mut falls) = (f64::NEG_INFINITY, 0);
    let mut start: Option<Vec<f64>> = None;
    for k in 1..=max_k {
        // Each k starts from the previous k's estimate with the same mean
        // inter-purchase time (α ∝ 1/k), unless the caller gave a start.
        let from_previous = |o: &crate::FitOptions| crate::FitOptions {
            initial_params: o.initial_params.clone().or_else(|| start.clone()),
            ..o.clone()
        };
        let attempt = match fit_k(data, k, &from_previous(options)) {
            Err(Error::Unidentified { .. } | Error::NotConverged { .. }) => {
                fit_k(data, k, &from_previous(&relaxed))
            }
            other => other,
        };
        start = match &attempt {
            Ok(fitted) if fitted.info.as_ref().is_some_and(|i| i.converged) => {
                let p = fitted.params();
                let kf = f64::from(k);
                Some(vec![p[0], p[1] * kf / (kf + 1.0), p[2], p[3]])
            }
            _ => None,
        };
        match attempt {
            Ok(fitted) => {
                let ll = fitted.log_likelihood();
                profile.push((k, ll));
                if ll < previous {
                    falls += 1;
                } else {
                    falls = 0;
                }
                previous = ll;
                if best.as_ref().is_none_or(|b| ll > b.log_likelihood()) {
                    best = Some(fitted);
                }
            }
            Err(e) => {
                profile.push((k, f64::NAN));
                falls += 1;
                if first_error.is_none() {
                    first_error = Some(e);
                }
            }
        }
        if falls >= 2 {
            break;
        }
    }
    match best {
        Some(best) => Ok(KSelection { best, profile }),
        None => Err(first_error.expect("k = 1 was tried")),
    }
}
