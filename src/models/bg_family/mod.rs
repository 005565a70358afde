//! The engine BG/NBD and MBG/NBD share: one struct, [`BgFamily`], whose
//! formulas cover both models (MBG/NBD is BG/NBD with b + x − 1 replaced by
//! b + x, plus drop-out at time 0), and the macro that implements the model
//! traits for each of them by delegation.
//!
//! - this file: the per-customer formulas (P(alive), E[Y(t)], P(X(t) = n),
//!   ln L of one history, simulation);
//! - `series`: the Gauss hypergeometric series of E[Y(t) | x, t_x, T] and the
//!   batch predictions that share per-x tables;
//! - `likelihood`: the weighted log-likelihood with its analytic gradient and
//!   Hessian over compressed data, and the starting values;
//! - `dert`: discounted expected residual transactions.

mod dert;
mod likelihood;
mod quadrature;
mod series;

use rand::Rng;
use rand_distr::{Beta, Distribution, Gamma};

use crate::models::SimulatedCustomer;
use crate::special::beta_inc::{beta_inc_reg, ln_beta_ratio};
use crate::special::{ln_gamma, log1p_exp, logistic};

/// a + b beyond which a fit's beta distribution of drop-out probabilities
/// counts as collapsed (see [`BgFamily::fit_warnings`]).
const MIN_COLLAPSED_SHAPES: f64 = 1e4;
/// Largest spread (standard deviation over mean) of that beta distribution
/// that counts as collapsed.
const MAX_DROPOUT_SPREAD: f64 = 0.05;

/// `v` to four significant digits, as a person writes it (Python's `.4g`):
/// 0.09091, 3.456e+06.
pub(crate) fn significant(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let exponent = v.abs().log10().floor() as i32;
    if (-4..4).contains(&exponent) {
        let text = format!("{:.*}", (3 - exponent).max(0) as usize, v);
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        }
    } else {
        let mantissa = v / 10f64.powi(exponent);
        let text = format!("{mantissa:.3}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        format!(
            "{text}e{}{:02}",
            if exponent < 0 { '-' } else { '+' },
            exponent.abs()
        )
    }
}

/// The shared machinery of BG/NBD and MBG/NBD. MBG/NBD (Batislam, Denizel &
/// Filiztekin 2007) lets a customer also drop out right after the first
/// purchase; algebraically its formulas are BG/NBD's with b + x − 1 replaced by
/// b + x in every beta function, and with the drop-out term present for x = 0.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BgFamily {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    /// MBG/NBD rather than BG/NBD.
    pub modified: bool,
}

impl BgFamily {
    /// 0 for BG/NBD, 1 for MBG/NBD.
    pub(super) fn shift(&self) -> f64 {
        if self.modified {
            1.0
        } else {
            0.0
        }
    }

    /// ln of a/(b+x−1+s) ((α+T)/(α+t_x))^{r+x}, the odds of having dropped out
    /// (the power as ln1p((T − t_x)/(α + t_x)), which keeps its digits when
    /// r + x is large and T − t_x small next to α).
    /// With x = 0 the last purchase is the first, at time 0, whatever t_x says
    /// (predictions accept x = 0 with t_x > 0, as `lifetimes` does).
    fn log_odds_dead(&self, x: f64, t_x: f64, age: f64) -> f64 {
        let t_x = if x == 0.0 { 0.0 } else { t_x };
        self.a.ln() - (self.b + x - 1.0 + self.shift()).ln()
            + (self.r + x) * self.ln_age_ratio(x, t_x, age)
    }

    /// E[X(t)], eq. (7): the conditional expectation of a customer with no
    /// history (for MBG/NBD this includes drop-out right after the first purchase).
    pub(crate) fn expected_purchases(&self, t: f64) -> f64 {
        self.conditional_expected_purchases(t, 0.0, 0.0, 0.0)
    }

    /// ln((α+T)/(α+t_x)); as ln1p((T − t_x)/(α + t_x)) when r + x is large,
    /// where the rounding of ln of the ratio would be multiplied by r + x
    /// (one logarithm of a ratio otherwise, cheaper on the hot path).
    pub(super) fn ln_age_ratio(&self, x: f64, t_x: f64, age: f64) -> f64 {
        if self.r + x > 1e3 {
            ((age - t_x) / (self.alpha + t_x)).ln_1p()
        } else {
            ((self.alpha + age) / (self.alpha + t_x)).ln()
        }
    }

    /// P(X(t) = n), eq. (8); the finite sum of negative-binomial terms is the
    /// upper tail P(N(t) ≥ n) = I_{t/(α+t)}(n, r) of a regularised incomplete
    /// beta function. Everything is formed in logs, with the beta-function
    /// ratios by [`ln_beta_ratio`] and α/(α+t), t/(α+t) from ln1p, so huge t
    /// (1e300: the limit B(a+1, b+n−1)/B(a, b)), huge n and a, b up to 1e7
    /// keep their digits. NaN only if the incomplete beta's fraction does not
    /// converge (reported by the callers as an error naming the row).
    pub(crate) fn probability_of_purchases(&self, t: f64, n: f64) -> f64 {
        let BgFamily { r, alpha, a, b, .. } = *self;
        let sh = self.shift();
        if t <= 0.0 {
            return if n == 0.0 { 1.0 } else { 0.0 };
        }
        // p₀ = α/(α+t), q₀ = t/(α+t).
        let (ln_p0, ln_q0) = (-(t / alpha).ln_1p(), -(alpha / t).ln_1p());
        // ln[Γ(r+n)/(Γ(r) n!)] = ln r − ln(r+n) − ln B(r, n+1)/B(r, 1).
        let ln_nb_coefficient = if n == 0.0 {
            0.0
        } else {
            r.ln() - (r + n).ln() - ln_beta_ratio(r, 1.0, n)
        };
        let ln_first = ln_beta_ratio(a, b, n + sh) + ln_nb_coefficient + r * ln_p0 + n * ln_q0;
        let first = if ln_first < -800.0 {
            0.0
        } else {
            ln_first.exp()
        };
        if n == 0.0 && !self.modified {
            return first;
        }
        // B(a+1, b+n−1+s)/B(a, b) = a/(a+b) · B(a+1, b+n−1+s)/B(a+1, b).
        let ln_weight = (a / (a + b)).ln() + ln_beta_ratio(a + 1.0, b, n - 1.0 + sh);
        let tail = if n == 0.0 {
            1.0
        } else {
            beta_inc_reg(n, r, ln_q0.exp(), ln_p0.exp(), ln_q0, ln_p0)
        };
        // At most 1 up to rounding.
        (first + ln_weight.exp() * tail).min(1.0)
    }

    /// P(alive | x, t_x, T).
    ///
    /// ```
    /// use retentionkit::{BetaGeo, TransactionModel};
    /// let m = BetaGeo::new(0.243, 4.414, 0.793, 2.426).unwrap();
    /// assert_eq!(m.probability_alive(0.0, 0.0, 38.86), 1.0);
    /// assert!(m.probability_alive(2.0, 30.43, 38.86) < 1.0);
    /// ```
    pub(crate) fn probability_alive(&self, x: f64, t_x: f64, age: f64) -> f64 {
        if x == 0.0 && !self.modified {
            return 1.0;
        }
        logistic(-self.log_odds_dead(x, t_x, age))
    }

    /// E[Y(t) | x, t_x, T], eq. (10).
    pub(crate) fn conditional_expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> f64 {
        self.probability_alive(x, t_x, age) * self.expected_if_alive(t, x, age)
    }

    /// ln L of one history, FHL (2005) eq. (6) (Batislam et al. 2007 for
    /// MBG/NBD). Exactly 0 for x = t_x = T = 0: no repeat purchase in an
    /// interval of length 0 has probability 1 (for MBG/NBD,
    /// b/(a+b) + a/(a+b); see [`crate::CompressedData`]), which the general
    /// formula only reproduces to rounding.
    pub(crate) fn individual_log_likelihood(&self, x: f64, t_x: f64, age: f64) -> f64 {
        if age == 0.0 && x == 0.0 {
            return 0.0;
        }
        let BgFamily { r, alpha, a, b, .. } = *self;
        if x == 0.0 {
            // No repeat purchase: L = (α/(α+T))^r for BG/NBD, and
            // a/(a+b) + b/(a+b)·(α/(α+T))^r for MBG/NBD (drop-out at time 0),
            // formed without the general form's cancellation of r ln α
            // against r ln(α+T) (and of ln(b/(a+b)) against the rest), which
            // lost the relative accuracy of values near 0 (the mpmath grid).
            let ln_none = -r * (age / alpha).ln_1p();
            if !self.modified {
                return ln_none;
            }
            let stay = b / (a + b);
            let q = stay * -ln_none.exp_m1(); // 1 − L
            return if q < 0.5 {
                (-q).ln_1p()
            } else {
                let (ln_gone, ln_stay) = ((a / (a + b)).ln(), stay.ln() + ln_none);
                let top = ln_gone.max(ln_stay);
                top + ((ln_gone - top).exp() + (ln_stay - top).exp()).ln()
            };
        }
        let sh = self.shift();
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let a2 = ln_gamma(a + b) + ln_gamma(b + x + sh) - ln_gamma(b) - ln_gamma(a + b + x + sh);
        let a3 = -(r + x) * (alpha + age).ln();
        let a4 = a.ln() - (b + x - 1.0 + sh).ln() - (r + x) * (alpha + t_x).ln();
        a1 + a2 + a3 + log1p_exp(a4 - a3)
    }

    /// The warning of a fit that ran off towards a, b → ∞ with a/(a+b)
    /// fixed: the beta distribution of drop-out probabilities has collapsed
    /// onto its mean (standard deviation below [`MAX_DROPOUT_SPREAD`] of it),
    /// so the data are described by the model with one common p and its
    /// spread is not identified. Predictions there are right (they approach
    /// the limit model's), but a and b themselves mean nothing.
    pub(crate) fn fit_warnings(&self) -> Vec<String> {
        let (a, b) = (self.a, self.b);
        let mean = a / (a + b);
        // sd/mean of Beta(a, b) = √(b / (a (a + b + 1))).
        let spread = (b / (a * (a + b + 1.0))).sqrt();
        if a + b > MIN_COLLAPSED_SHAPES && spread < MAX_DROPOUT_SPREAD {
            vec![format!(
                "drop-out heterogeneity not identified: the fit ran off to a = {}, \
                 b = {} (a + b > {MIN_COLLAPSED_SHAPES:.0}), where the drop-out \
                 probability is the same for every customer to {:.2}%; the fit approaches \
                 the model with a common p = a/(a+b) = {}. Predictions are those \
                 of that model; a and b separately are not meaningful.",
                significant(a),
                significant(b),
                100.0 * spread,
                significant(mean),
            )]
        } else {
            Vec::new()
        }
    }

    pub(crate) fn simulate_customer<R: Rng + ?Sized>(
        &self,
        age: f64,
        rng: &mut R,
    ) -> SimulatedCustomer {
        let rate = Gamma::new(self.r, 1.0 / self.alpha)
            .expect("valid parameters")
            .sample(rng);
        let p = Beta::new(self.a, self.b)
            .expect("valid parameters")
            .sample(rng);
        let (mut t, mut x, mut t_x) = (0.0, 0.0, 0.0);
        // MBG/NBD: the customer may drop out right after the first purchase.
        let mut alive = !(self.modified && rng.random::<f64>() < p);
        if rate > 0.0 && alive {
            loop {
                let u: f64 = rng.random();
                t += -(1.0 - u).ln() / rate;
                if t > age {
                    break;
                }
                x += 1.0;
                t_x = t;
                if rng.random::<f64>() < p {
                    alive = false;
                    break;
                }
                if x >= SIMULATED_ONE_BY_ONE {
                    (x, t_x, alive) = rest_at_once(x, t, age - t, rate, p, rng);
                    break;
                }
            }
        }
        SimulatedCustomer {
            frequency: x,
            recency: t_x,
            age,
            rate,
            dropout: p,
            alive,
        }
    }
}

/// Purchases simulated one at a time before [`rest_at_once`] draws the rest
/// (a customer with a huge rate and a tiny drop-out probability would
/// otherwise take billions of steps).
const SIMULATED_ONE_BY_ONE: f64 = 10_000.0;

/// The rest of a living customer's history, drawn at once, after `x`
/// purchases, the last at `t`, with `remaining` time to the end of
/// observation: without drop-out there would be N ~ Poisson(rate·remaining)
/// more purchases, uniformly placed; the drop-out comes after the K-th,
/// K ~ 1 + Geometric(p) (failures before the first success). If N < K the customer is alive with x + N purchases,
/// the last at the largest of N uniform times; otherwise dead after x + K,
/// the last at the K-th of N uniform times (a Beta(K, N − K + 1) fraction).
/// Returns (frequency, recency, alive).
fn rest_at_once<R: Rng + ?Sized>(
    x: f64,
    t: f64,
    remaining: f64,
    rate: f64,
    p: f64,
    rng: &mut R,
) -> (f64, f64, bool) {
    let mean = rate * remaining;
    let n = match rand_distr::Poisson::new(mean) {
        Ok(poisson) => poisson.sample(rng),
        // Past rand_distr's range the normal approximation is exact to
        // double precision's resolution of the count.
        Err(_) => {
            let z: f64 = rand_distr::StandardNormal.sample(rng);
            (mean + mean.sqrt() * z).round().max(0.0)
        }
    };
    // By inversion (rand_distr's Geometric loops for a very long time when
    // p is below about 1e-16, where 1 − p rounds to 1).
    let u = 1.0 - rng.random::<f64>(); // in (0, 1]
    let k = if p <= 0.0 {
        f64::INFINITY
    } else if p >= 1.0 {
        1.0
    } else {
        1.0 + (u.ln() / (-p).ln_1p()).floor()
    };
    if n < k {
        let last = if n > 0.0 {
            t + remaining * rng.random::<f64>().powf(1.0 / n)
        } else {
            t
        };
        (x + n, last, true)
    } else {
        let fraction = Beta::new(k, n - k + 1.0).map_or(1.0, |beta| beta.sample(rng));
        (x + k, t + remaining * fraction, false)
    }
}

/// Implements [`Model`] and [`TransactionModel`] for a member of the BG/NBD
/// family by delegating to [`BgFamily`].
macro_rules! bg_family_model {
    (
        $(#[$struct_doc:meta])*
        pub struct $model:ident { name: $name:literal, modified: $modified:literal }
        $(#[$new_doc:meta])*
        pub fn new;
    ) => {
        $(#[$struct_doc])*
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $model {
            /// Shape of the gamma distribution of purchase rates.
            r: f64,
            /// Scale (in time units) of the gamma distribution of purchase rates.
            alpha: f64,
            /// First shape of the beta distribution of drop-out probabilities.
            a: f64,
            /// Second shape of the beta distribution of drop-out probabilities.
            b: f64,
        }

        impl $model {
            $(#[$new_doc])*
            pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> $crate::error::Result<Self> {
                Self::from_slice(&[r, alpha, a, b])
            }

            pub(crate) fn family(&self) -> $crate::models::bg_family::BgFamily {
                $crate::models::bg_family::BgFamily {
                    r: self.r,
                    alpha: self.alpha,
                    a: self.a,
                    b: self.b,
                    modified: $modified,
                }
            }

            /// The parameter names, in the order of [`Self::from_slice`].
            pub const PARAM_NAMES: &'static [&'static str] = &["r", "alpha", "a", "b"];

            /// Builds the model from (r, α, a, b), checking their domain.
            pub fn from_slice(values: &[f64]) -> $crate::error::Result<Self> {
                $crate::models::params::check_positive(Self::PARAM_NAMES, values)?;
                Ok(Self {
                    r: values[0],
                    alpha: values[1],
                    a: values[2],
                    b: values[3],
                })
            }

            /// Shape r of the gamma distribution of purchase rates.
            pub fn r(&self) -> f64 {
                self.r
            }

            /// Scale α (in time units) of the gamma distribution of purchase
            /// rates.
            pub fn alpha(&self) -> f64 {
                self.alpha
            }

            /// First shape a of the beta distribution of drop-out probabilities.
            pub fn a(&self) -> f64 {
                self.a
            }

            /// Second shape b of the beta distribution of drop-out
            /// probabilities.
            pub fn b(&self) -> f64 {
                self.b
            }
        }

        impl $crate::models::Model for $model {
            type Data = $crate::data::CompressedData;
            const NAME: &'static str = $name;

            $crate::models::params::fixed_positive_params!();

            fn to_vec(&self) -> Vec<f64> {
                vec![self.r, self.alpha, self.a, self.b]
            }

            fn initial_params(&self, data: &$crate::data::CompressedData) -> Vec<f64> {
                $crate::models::bg_family::BgFamily::initial_params(data)
            }

            fn penalty_scale(&self, data: &$crate::data::CompressedData) -> Vec<f64> {
                vec![1.0, 10.0 / data.max_age, 1.0, 1.0]
            }

            fn fit_warnings(&self) -> Vec<String> {
                self.family().fit_warnings()
            }

            fn evaluate(
                &self,
                data: &$crate::data::CompressedData,
                derivatives: $crate::models::Derivatives,
            ) -> $crate::models::Evaluation {
                self.family().evaluate(data, derivatives)
            }
        }

        impl $crate::models::covariates::CovariateModel for $model {
            /// α scaled by the purchase covariates as exp(−γᵀz) (a positive
            /// coefficient raises the purchase rate), a and b each by its own
            /// drop-out coefficients as exp(γᵀz) (Fader & Hardie's note on
            /// time-invariant covariates), so covariates can move the mean
            /// drop-out probability a/(a+b) and not only its spread.
            const COVARIATE_NAME: &'static str = concat!($name, "Covariates");
            const PROCESSES: &'static [$crate::models::covariates::Process] = &[
                $crate::models::covariates::Process {
                    name: "purchase",
                    scales: &[(1, -1.0)],
                },
                $crate::models::covariates::Process {
                    name: "dropout_a",
                    scales: &[(2, 1.0)],
                },
                $crate::models::covariates::Process {
                    name: "dropout_b",
                    scales: &[(3, 1.0)],
                },
            ];

            fn from_base_unchecked(values: &[f64]) -> Self {
                Self {
                    r: values[0],
                    alpha: values[1],
                    a: values[2],
                    b: values[3],
                }
            }

            const HISTORY: usize = 3;

            fn carries_information(history: &[f64]) -> bool {
                history[2] > 0.0
            }

            fn customer_term(
                &self,
                history: &[f64],
                order: u8,
            ) -> $crate::models::covariates::CustomerTerm {
                self.family()
                    .customer_term(history[0], history[1], history[2], order)
            }

            fn customer_log_terms(
                batch: &$crate::models::covariates::ScaledBatch<'_>,
                order: u8,
                _scratch: &mut $crate::models::covariates::Scratch<Self>,
                out: &mut [$crate::models::covariates::CustomerTerm],
                valid: &mut [bool],
            ) {
                $crate::models::bg_family::BgFamily::customer_log_terms(
                    $modified,
                    batch,
                    order,
                    out,
                    valid,
                );
            }

            fn conditional_expected_purchases_each(
                customers: &[Self],
                t: &[f64],
                x: &[f64],
                t_x: &[f64],
                age: &[f64],
                out: &mut [f64],
            ) {
                let families: Vec<$crate::models::bg_family::BgFamily> =
                    customers.iter().map(|c| c.family()).collect();
                $crate::models::bg_family::BgFamily::conditional_expected_purchases_each(
                    &families, t, x, t_x, age, out,
                );
            }
        }

        impl $crate::models::TransactionModel for $model {
            fn expected_purchases(&self, t: f64) -> f64 {
                self.family().expected_purchases(t)
            }

            fn probability_of_purchases(&self, t: f64, n: f64) -> f64 {
                self.family().probability_of_purchases(t, n)
            }

            fn probability_alive(&self, x: f64, t_x: f64, age: f64) -> f64 {
                self.family().probability_alive(x, t_x, age)
            }

            fn conditional_expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> f64 {
                self.family().conditional_expected_purchases(t, x, t_x, age)
            }

            fn individual_log_likelihood(&self, x: f64, t_x: f64, age: f64) -> f64 {
                self.family().individual_log_likelihood(x, t_x, age)
            }

            fn discounted_expected_residual_transactions(
                &self,
                discount_rate: f64,
                x: f64,
                t_x: f64,
                age: f64,
            ) -> f64 {
                self.family()
                    .discounted_expected_residual_transactions(discount_rate, x, t_x, age)
            }

            fn conditional_expected_purchases_batch(
                &self,
                t: &[f64],
                x: &[f64],
                t_x: &[f64],
                age: &[f64],
            ) -> Vec<f64> {
                self.family()
                    .conditional_expected_purchases_batch(t, x, t_x, age)
            }

            fn probability_alive_batch(&self, x: &[f64], t_x: &[f64], age: &[f64]) -> Vec<f64> {
                self.family().probability_alive_batch(x, t_x, age)
            }

            fn discounted_purchases_batch(
                &self,
                horizons: &[f64],
                weights: &[f64],
                x: &[f64],
                t_x: &[f64],
                age: &[f64],
            ) -> Vec<f64> {
                self.family()
                    .discounted_purchases_batch(horizons, weights, x, t_x, age)
            }

            fn simulate_customer<R: rand::Rng + ?Sized>(
                &self,
                age: f64,
                rng: &mut R,
            ) -> $crate::models::SimulatedCustomer {
                self.family().simulate_customer(age, rng)
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use bg_family_model;
