//! Contractual (subscription) retention: the data, the predictions shared by
//! the shifted-beta-geometric ([`crate::models::contractual::sbg`]) and beta-discrete-Weibull
//! ([`crate::models::contractual::bdw`]) models, and simulation.
//!
//! Sources: Fader, P. S. & Hardie, B. G. S. (2007), "How to Project Customer
//! Retention", Journal of Interactive Marketing 21(1), 76–90; Fader, P. S. &
//! Hardie, B. G. S. (2010), "Customer-Base Valuation in a Contractual Setting:
//! The Perils of Ignoring Heterogeneity", Marketing Science 29(1), 85–93.
//!
//! Time is in renewal periods. A customer acquired at the start of period 0
//! renews (or not) at the start of each later period; T ≥ 1 is the period in
//! which the customer churns, i.e. the number of periods paid for, and
//!
//! ```text
//! S(t) = P(T > t)            the customer is still active at the start of period t
//! P(T = t) = S(t−1) − S(t)   the customer leaves after t periods
//! r(t) = S(t) / S(t−1)       the retention rate of period t (t = 1, 2, …)
//! ```
//!
//! The data are either cohorts' survivor counts n₀, n₁, …, n_k (customers
//! still active at the start of periods 0..k, n₀ > 0 acquired) or individual
//! records (duration, churned). A cohort contributes (FH 2007)
//!
//! ```text
//! LL = Σ_{t=1}^{k} (n_{t−1} − n_t) ln P(T = t) + n_k ln S(k);
//! ```
//!
//! a customer who churned after `duration` periods contributes ln P(T =
//! duration), one still active after `duration` periods ln S(duration). Both
//! forms are compressed into weighted (duration, churned) cells, so a fit costs
//! one pass over at most twice as many cells as there are distinct durations.
//!
//! Discounted lifetimes follow FH (2010) section 3, with payments at the start
//! of each period and d the per-period discount rate:
//!
//! ```text
//! DEL(d)     = Σ_{t=0}^{∞} S(t) / (1+d)^t                       (new customer)
//! DERL(d, n) = Σ_{t=n+1}^{∞} S(t)/S(n) / (1+d)^{t−n−1}            (n renewals made)
//! ```
//!
//! DERL values a customer at the end of period n, just before the renewal
//! decision, so the next payment (if she renews) is not discounted; hence
//! DEL(d) = 1 + DERL(d, 0)/(1+d). For the sBG these are the paper's closed
//! forms (eq. (6) for DERL); the default methods of [`RetentionModel`] sum the
//! series.

pub mod bdw;
pub mod sbg;
pub mod subscriber;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution};
use rayon::prelude::*;

use crate::data::check_length;
pub use crate::data::RetentionData;
use crate::error::{Error, Result};
use crate::models::Model;
use crate::predict::par_map;

// ---------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// Shared predictions
// ---------------------------------------------------------------------------

/// Periods a simulated subscriber is drawn through one by one; the rest of a
/// longer horizon in one draw, so simulation costs a bounded time per customer.
const STEPPED_PERIODS: f64 = 10_000.0;

/// A simulated subscriber.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimulatedSubscriber {
    /// Periods paid for (churned) or completed by the end of observation.
    pub duration: f64,
    /// Whether the customer churned within the observation window.
    pub churned: bool,
    /// The customer's churn probability θ.
    pub theta: f64,
}

/// Predictions of a contractual retention model, in renewal periods.
///
/// Arguments are validated by the vectorised wrappers of this module; called
/// directly, `t` and `n` are expected to be non-negative integers (t ≥ 1 where
/// stated) and `d` positive.
pub trait RetentionModel: Model<Data = RetentionData> {
    /// The shapes (α, β) of the beta distribution of θ.
    fn theta_shapes(&self) -> (f64, f64);

    /// ln S(t), t ≥ 0.
    fn ln_survival(&self, t: f64) -> f64;

    /// The churn probability in period t ≥ 1 of a customer with parameter θ
    /// who is active at its start.
    fn period_churn_probability(&self, theta: f64, t: f64) -> f64;

    /// E\[T\] = Σ_{t≥0} S(t), `f64::INFINITY` when the series diverges.
    fn expected_lifetime(&self) -> f64;

    /// S(t) = P(T > t): the share of a cohort still active at the start of
    /// period t.
    fn survival(&self, t: f64) -> f64 {
        self.ln_survival(t).exp()
    }

    /// r(t) = S(t)/S(t−1), t ≥ 1: the share of the customers active in
    /// period t − 1 who renew for period t.
    fn retention_rate(&self, t: f64) -> f64 {
        self.ln_survival_ratio(t, t - 1.0).exp()
    }

    /// P(T = t) = S(t−1) − S(t), t ≥ 1: the probability that a new customer
    /// churns after exactly t periods.
    fn probability_of_churn_at(&self, t: f64) -> f64 {
        let previous = self.ln_survival(t - 1.0);
        (previous.exp() * -self.ln_survival_ratio(t, t - 1.0).exp_m1()).max(0.0)
    }

    /// DERL(d, n) = Σ_{t=n+1}^{∞} S(t)/S(n) (1+d)^{−(t−n−1)}: the discounted
    /// expected number of future payments of a customer who has made n
    /// renewals, just before her next renewal decision (FH 2010, section 3).
    ///
    /// The default sums the series with
    /// [`crate::special::tail_sum::discounted_smooth_series`]: up to 2000
    /// terms directly, then an Euler–Maclaurin tail whose integral covers any
    /// horizon in a few thousand evaluations of ln S, so the time does not grow
    /// as d → 0 (it needs ln S at non-integer t, which both models' formulas
    /// give).
    fn discounted_expected_residual_lifetime(&self, d: f64, n: f64) -> Result<f64> {
        let lambda = d.ln_1p();
        let value = crate::special::tail_sum::discounted_smooth_series(
            |j| self.ln_survival_ratio(n + j, n) - lambda * (j - 1.0),
            lambda,
        )?;
        if !value.is_finite() {
            return Err(Error::Numerical(format!(
                "the discounted residual lifetime at d = {d}, n = {n} cannot be evaluated"
            )));
        }
        Ok(value)
    }

    /// ln S(t) − ln S(n) for t ≥ n (the default subtracts the two; models
    /// override it where that cancels).
    fn ln_survival_ratio(&self, t: f64, n: f64) -> f64 {
        self.ln_survival(t) - self.ln_survival(n)
    }

    /// DEL(d) = Σ_{t≥0} S(t)/(1+d)^t = 1 + DERL(d, 0)/(1+d): the discounted
    /// expected lifetime of a new customer, counted in payments (FH 2010).
    fn discounted_expected_lifetime(&self, d: f64) -> Result<f64> {
        Ok(1.0 + self.discounted_expected_residual_lifetime(d, 0.0)? / (1.0 + d))
    }

    /// Draws one customer observed for `horizon` periods: θ ~ Beta(α, β),
    /// then in each period t = 1, …, horizon a churn with
    /// [`RetentionModel::period_churn_probability`].
    fn simulate_customer<R: Rng + ?Sized>(&self, horizon: f64, rng: &mut R) -> SimulatedSubscriber {
        let (alpha, beta) = self.theta_shapes();
        let theta: f64 = Beta::new(alpha, beta)
            .expect("valid parameters")
            .sample(rng);
        let mut t = 1.0;
        while t <= horizon {
            if t > STEPPED_PERIODS {
                return self.simulate_beyond(theta, t - 1.0, horizon, rng);
            }
            if rng.random::<f64>() < self.period_churn_probability(theta, t) {
                return SimulatedSubscriber {
                    duration: t,
                    churned: true,
                    theta,
                };
            }
            t += 1.0;
        }
        SimulatedSubscriber {
            duration: horizon,
            churned: false,
            theta,
        }
    }

    /// The rest of [`RetentionModel::simulate_customer`] for a customer with
    /// churn parameter θ still active after `survived` periods, in one draw:
    /// by inversion of the individual survival P(T > t | θ, T > survived) =
    /// (1−θ)^{w(t) − w(survived)}, with w(t) = t for the sBG and tᶜ for the BdW
    /// ([`RetentionModel::individual_survival_exponent`]).
    fn simulate_beyond<R: Rng + ?Sized>(
        &self,
        theta: f64,
        survived: f64,
        horizon: f64,
        rng: &mut R,
    ) -> SimulatedSubscriber {
        let u: f64 = rng.random();
        // T > t  ⇔  (w(t) − w(survived)) · ln(1−θ) > ln(1−u).
        let ln_keep = (-theta).ln_1p();
        let needed = (1.0 - u).ln() / ln_keep; // ≥ 0, ∞ when θ = 0
        let target = self.individual_survival_exponent(survived) + needed;
        let duration = self
            .inverse_survival_exponent(target)
            .ceil()
            .max(survived + 1.0);
        if duration <= horizon {
            SimulatedSubscriber {
                duration,
                churned: true,
                theta,
            }
        } else {
            SimulatedSubscriber {
                duration: horizon,
                churned: false,
                theta,
            }
        }
    }

    /// w(t) with P(T > t | θ) = (1−θ)^{w(t)}: t for the sBG.
    fn individual_survival_exponent(&self, t: f64) -> f64 {
        t
    }

    /// The t with w(t) = `value` ([`Self::individual_survival_exponent`]).
    fn inverse_survival_exponent(&self, value: f64) -> f64 {
        value
    }
}

// ---------------------------------------------------------------------------
// Vectorised, validating wrappers
// ---------------------------------------------------------------------------

fn check_integers(name: &'static str, values: &[f64], min: f64) -> Result<()> {
    if let Some(row) = values
        .iter()
        .position(|v| !(v.is_finite() && *v >= min && v.fract() == 0.0))
    {
        let rule = if min >= 1.0 {
            "must be an integer of at least 1"
        } else {
            "must be a non-negative integer"
        };
        return Err(Error::InvalidData {
            rule,
            row,
            detail: format!("{name}={}", values[row]),
            column: Some(name),
            cohort: None,
            period: None,
        });
    }
    Ok(())
}

fn check_discount(values: &[f64]) -> Result<()> {
    if let Some(row) = values.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
        return Err(Error::InvalidData {
            rule: "the discount rate must be positive and finite",
            row,
            detail: format!("discount_rate={}", values[row]),
            column: Some("discount_rate"),
            cohort: None,
            period: None,
        });
    }
    Ok(())
}

/// S(tᵢ) for every tᵢ (non-negative integers).
pub fn survival_many<M: RetentionModel>(model: &M, t: &[f64]) -> Result<Vec<f64>> {
    check_integers("t", t, 0.0)?;
    Ok(par_map(t.len(), |i| model.survival(t[i])))
}

/// r(tᵢ) = S(tᵢ)/S(tᵢ−1) for every tᵢ (integers ≥ 1).
pub fn retention_rate_many<M: RetentionModel>(model: &M, t: &[f64]) -> Result<Vec<f64>> {
    check_integers("t", t, 1.0)?;
    Ok(par_map(t.len(), |i| model.retention_rate(t[i])))
}

/// P(T = tᵢ) for every tᵢ (integers ≥ 1).
pub fn probability_of_churn_at_many<M: RetentionModel>(model: &M, t: &[f64]) -> Result<Vec<f64>> {
    check_integers("t", t, 1.0)?;
    Ok(par_map(t.len(), |i| model.probability_of_churn_at(t[i])))
}

/// DEL(dᵢ) for every discount rate dᵢ > 0.
pub fn discounted_expected_lifetime_many<M: RetentionModel>(
    model: &M,
    discount_rate: &[f64],
) -> Result<Vec<f64>> {
    check_discount(discount_rate)?;
    discount_rate
        .par_iter()
        .map(|&d| model.discounted_expected_lifetime(d))
        .collect()
}

/// DERL(dᵢ, nᵢ) for every pair (nᵢ non-negative integers, dᵢ > 0).
pub fn discounted_expected_residual_lifetime_many<M: RetentionModel>(
    model: &M,
    n_renewals: &[f64],
    discount_rate: &[f64],
) -> Result<Vec<f64>> {
    check_length("discount_rate", discount_rate.len(), n_renewals.len())?;
    check_integers("n_renewals", n_renewals, 0.0)?;
    check_discount(discount_rate)?;
    n_renewals
        .par_iter()
        .zip(discount_rate)
        .map(|(&n, &d)| model.discounted_expected_residual_lifetime(d, n))
        .collect()
}

const SIM_CHUNK: usize = 4096;

/// Simulates one customer per entry of `horizons` (periods observed, positive
/// integers). Reproducible for a given seed whatever the number of threads:
/// customers are drawn in fixed chunks, each from its own ChaCha8 stream.
///
/// ```
/// use retentionkit::contractual::simulate_many;
/// use retentionkit::sbg::ShiftedBetaGeometric;
/// let model = ShiftedBetaGeometric::new(0.704, 1.182)?;
/// let sims = simulate_many(&model, &[7.0; 1000], 42)?;
/// assert_eq!(sims, simulate_many(&model, &[7.0; 1000], 42)?);
/// assert!(sims.iter().all(|s| s.duration >= 1.0 && s.duration <= 7.0));
/// # Ok::<(), retentionkit::Error>(())
/// ```
pub fn simulate_many<M: RetentionModel>(
    model: &M,
    horizons: &[f64],
    seed: u64,
) -> Result<Vec<SimulatedSubscriber>> {
    check_integers("n_periods", horizons, 1.0)?;
    let empty = SimulatedSubscriber {
        duration: 0.0,
        churned: false,
        theta: 0.0,
    };
    let mut out = vec![empty; horizons.len()];
    out.par_chunks_mut(SIM_CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(c as u64);
            for (k, slot) in chunk.iter_mut().enumerate() {
                *slot = model.simulate_customer(horizons[c * SIM_CHUNK + k], &mut rng);
            }
        });
    Ok(out)
}
