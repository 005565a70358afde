//! Churn per subscriber: the sBG and BdW fitted to individual subscribers,
//! with time-invariant covariates, and their per-subscriber predictions.
//!
//! Sources: Fader, P. S. & Hardie, B. G. S. (2007), "How to Project Customer
//! Retention", JIM 21(1) (the sBG); Fader, Hardie, Liu, Davin & Steenburgh
//! (2018), JIM 43 (the BdW); Fader, P. S. & Hardie, B. G. S. (2010),
//! "Customer-Base Valuation in a Contractual Setting", Marketing Science
//! 29(1), eq. (6) (DERL).
//!
//! **Data.** Subscriber i has `periods` nᵢ and `churned`: a subscriber who
//! churned paid for nᵢ ≥ 1 periods and contributes ln P(T = nᵢ); one still
//! active has reached nᵢ ≥ 0 renewal opportunities, renewed at each, and
//! contributes ln S(nᵢ) ([`RetentionData::from_subscribers`]). Identical
//! subscribers (same periods, churned and covariates) share one weighted row.
//!
//! **Covariates.** Subscriber i's shapes are
//!
//! ```text
//! αᵢ = α · exp(γ_αᵀ zᵢ),   βᵢ = β · exp(γ_βᵀ zᵢ)     (BdW: c common)
//! ```
//!
//! — processes `alpha` and `beta` of [`crate::models::covariates`], so the
//! coefficients are named `alpha:<column>` and `beta:<column>`; with every
//! coefficient 0 each subscriber has (α, β) and the model is the plain one.
//! E[θᵢ] = αᵢ/(αᵢ+βᵢ): a positive `alpha:` coefficient raises the churn
//! probability, a positive `beta:` one lowers it. The gradient and Hessian
//! come from the base model's per-cell derivatives by the chain rule of
//! [`crate::models::covariates`].
//!
//! **Predictions** for a subscriber active with n renewals made (T > n), at
//! the end of period n, before the next renewal decision:
//!
//! ```text
//! P(renew at the next opportunity) = S(n+1)/S(n)      (= (β+n)/(α+β+n), sBG)
//! P(still active k periods ahead)   = S(n+k)/S(n)
//! expected residual lifetime        = Σ_{t>n} S(t)/S(n)
//!                                   = (β+n)/(α−1) for the sBG with α > 1
//! DERL(d, n)                        = Σ_{t>n} S(t)/S(n) (1+d)^{−(t−n−1)}   (FH 2010, eq. (6))
//! ```
//!
//! The expected residual lifetime counts the renewals still to come (the
//! undiscounted DERL); it is infinite when the series diverges (sBG α ≤ 1,
//! BdW cα ≤ 1: S(t) ~ t^{−cα}).

use std::collections::HashMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::bdw::BetaDiscreteWeibull;
use super::sbg::ShiftedBetaGeometric;
use super::{check_discount, check_integers, RetentionModel, SimulatedSubscriber, SIM_CHUNK};
use crate::data::{check_length, RetentionData};
use crate::error::{Error, Result};
use crate::fit::Fitted;
use crate::models::covariates::{
    check_covariates, CovariateData, CovariateDesign, CovariateModel, CustomerTerm, Process,
    WithCovariates,
};
use crate::models::{Derivatives, Model};
use crate::special::tail_sum::power_tail_series;
use crate::value::intervals::{draw_parameters, quantile, IntervalOptions, Intervals};

/// The processes of both models: `alpha` scales α, `beta` scales β, each as
/// exp(γᵀz).
const PROCESSES: &[Process] = &[
    Process {
        name: "alpha",
        scales: &[(0, 1.0)],
    },
    Process {
        name: "beta",
        scales: &[(1, 1.0)],
    },
];

/// A subscriber's history for [`CovariateModel`]: (periods, churned as 0/1).
fn is_churned(history: &[f64]) -> bool {
    history[1] != 0.0
}

impl CovariateModel for ShiftedBetaGeometric {
    const COVARIATE_NAME: &'static str = "ShiftedBetaGeometricCovariates";
    const PROCESSES: &'static [Process] = PROCESSES;
    const HISTORY: usize = 2;

    /// S(0) = 1: an active subscriber younger than one period adds nothing.
    fn carries_information(history: &[f64]) -> bool {
        history[0] > 0.0
    }

    fn customer_term(&self, history: &[f64], order: u8) -> CustomerTerm {
        let mut term = CustomerTerm::ZERO;
        if history[0] == 0.0 {
            return term;
        }
        let (value, g, h) = self.subscriber_cell(history[0], is_churned(history));
        term.value = value;
        if order >= 1 {
            term.grad[..2].copy_from_slice(&g);
        }
        if order >= 2 {
            term.hess[0][0] = h[0];
            term.hess[0][1] = h[1];
            term.hess[1][0] = h[1];
            term.hess[1][1] = h[2];
        }
        term
    }

    fn from_base_unchecked(values: &[f64]) -> Self {
        Self::from_slice(values).expect("the caller checked that the parameters are positive")
    }
}

impl CovariateModel for BetaDiscreteWeibull {
    const COVARIATE_NAME: &'static str = "BetaDiscreteWeibullCovariates";
    const PROCESSES: &'static [Process] = PROCESSES;
    const HISTORY: usize = 2;

    fn carries_information(history: &[f64]) -> bool {
        history[0] > 0.0
    }

    fn customer_term(&self, history: &[f64], order: u8) -> CustomerTerm {
        let mut term = CustomerTerm::ZERO;
        if history[0] == 0.0 {
            return term;
        }
        let derivatives = match order {
            0 => Derivatives::None,
            1 => Derivatives::Gradient,
            _ => Derivatives::Hessian,
        };
        let (value, g, h) = self.subscriber_cell(history[0], is_churned(history), derivatives);
        term.value = value;
        if order >= 1 {
            term.grad[..3].copy_from_slice(&g);
        }
        if order >= 2 {
            for (row, source) in term.hess.iter_mut().zip(&h) {
                row[..3].copy_from_slice(source);
            }
        }
        term
    }

    fn from_base_unchecked(values: &[f64]) -> Self {
        Self::from_slice(values).expect("the caller checked that the parameters are positive")
    }
}

impl CovariateData<RetentionData> {
    /// Subscribers (`periods`, `churned`, optional `weights`, validated as
    /// [`RetentionData::from_subscribers`]) with their covariates
    /// (`covariates` row-major, one row per subscriber, one column per
    /// column of `design`; finite), compressed: subscribers with the same
    /// periods, churned flag and covariates share one weighted row; active
    /// subscribers with periods = 0 add nothing to the likelihood but count
    /// as customers, as without covariates.
    ///
    /// Errors: [`Error::InvalidData`] naming the first offending row (and the
    /// covariate column); [`Error::LengthMismatch`].
    ///
    /// ```
    /// use retentionkit::models::covariates::{CovariateData, CovariateDesign};
    /// use retentionkit::sbg::ShiftedBetaGeometric;
    /// let design =
    ///     CovariateDesign::new::<ShiftedBetaGeometric>(&["pro".into()], &[vec![0], vec![0]], &[])?;
    /// assert_eq!(design.coefficient_names(), ["alpha:pro", "beta:pro"]);
    /// // Two identical subscribers share one row.
    /// let data = CovariateData::for_subscribers(
    ///     &[3.0, 3.0, 1.0, 0.0],
    ///     &[false, false, true, false],
    ///     None,
    ///     &[1.0, 1.0, 0.0, 1.0],
    ///     design,
    /// )?;
    /// assert_eq!(data.len(), 3);
    /// # Ok::<(), retentionkit::Error>(())
    /// ```
    pub fn for_subscribers(
        periods: &[f64],
        churned: &[bool],
        weights: Option<&[f64]>,
        covariates: &[f64],
        design: CovariateDesign,
    ) -> Result<Self> {
        let plain = RetentionData::from_subscribers(periods, churned, weights)?;
        check_covariates(periods.len(), covariates, &design)?;
        // Group identical subscribers first, in one hashed pass (categorical
        // covariates leave a few thousand distinct rows out of millions), so
        // that the sort of the shared compression runs over distinct rows.
        let k = design.columns().len();
        let n = periods.len();
        let flat = flat_keys(n, 2 + k, |i, key| {
            key[0] = bits(periods[i]);
            key[1] = u64::from(churned[i]);
            for (slot, &v) in key[2..].iter_mut().zip(&covariates[i * k..(i + 1) * k]) {
                *slot = bits(v);
            }
        });
        let (first, slot) = distinct_rows(&flat, 2 + k);
        let mut weight = vec![0.0; first.len()];
        for (i, &s) in slot.iter().enumerate() {
            weight[s] += weights.map_or(1.0, |w| w[i]);
        }
        let periods: Vec<f64> = first.iter().map(|&i| periods[i]).collect();
        let churned: Vec<f64> = first
            .iter()
            .map(|&i| if churned[i] { 1.0 } else { 0.0 })
            .collect();
        let rows: Vec<f64> = first
            .iter()
            .flat_map(|&i| covariates[i * k..(i + 1) * k].iter().copied())
            .collect();
        Ok(CovariateData::compress(
            &[&periods, &churned],
            Some(&weight),
            &rows,
            design,
            plain,
            // Active subscribers of 0 periods stay (their term is 0): counted as
            // customers, as in the model without covariates (and its BIC).
            |_| true,
        ))
    }
}

// ---------------------------------------------------------------------------
// Per-subscriber predictions
// ---------------------------------------------------------------------------

/// The predictions of a subscriber-level model that need more than the
/// shared [`RetentionModel`] methods.
pub trait SubscriberModel: RetentionModel + Clone + Send + Sync {
    /// Σ_{t>n} S(t)/S(n): the expected number of renewals still to come of a
    /// subscriber active with n renewals made; `f64::INFINITY` when the
    /// series diverges.
    fn expected_residual_lifetime(&self, n: f64) -> f64;
}

impl SubscriberModel for ShiftedBetaGeometric {
    /// (β+n)/(α−1) for α > 1: given T > n, θ ~ Beta(α, β+n) and the renewals
    /// to come are geometric with mean (1−θ)/θ, whose expectation this is.
    fn expected_residual_lifetime(&self, n: f64) -> f64 {
        let (a, b) = self.theta_shapes();
        if a <= 1.0 {
            f64::INFINITY
        } else {
            (b + n) / (a - 1.0)
        }
    }
}

impl SubscriberModel for BetaDiscreteWeibull {
    /// Summed (Euler–Maclaurin tail of the power law S(t) ~ t^{−cα}) for
    /// cα > 1, infinite otherwise.
    fn expected_residual_lifetime(&self, n: f64) -> f64 {
        let (a, _) = self.theta_shapes();
        let p = self.c() * a;
        if p <= 1.0 {
            return f64::INFINITY;
        }
        power_tail_series(|j| self.ln_survival_ratio(n + 1.0 + j, n).exp(), p)
    }
}

/// A per-subscriber prediction, evaluated by [`predict`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prediction {
    /// S(n+1)/S(n).
    Renewal,
    /// S(n+k)/S(n), `extra` = k.
    Survival,
    /// Σ_{t>n} S(t)/S(n).
    ResidualLifetime,
    /// DERL(d, n), `extra` = d.
    DiscountedResidualLifetime,
}

impl Prediction {
    /// From the names the bindings use.
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "renewal" => Self::Renewal,
            "survival" => Self::Survival,
            "residual_lifetime" => Self::ResidualLifetime,
            "discounted_residual_lifetime" => Self::DiscountedResidualLifetime,
            other => {
                return Err(Error::InvalidCovariates(format!(
                    "unknown subscriber prediction {other:?}"
                )))
            }
        })
    }
}

/// One subscriber's prediction `what` with `n` renewals made (`extra`: k or d).
///
/// ```
/// use retentionkit::contractual::subscriber::{predict, Prediction};
/// use retentionkit::sbg::ShiftedBetaGeometric;
/// let m = ShiftedBetaGeometric::new(2.0, 3.0)?;
/// // After n = 4 renewals: renews with (β+n)/(α+β+n), and (β+n)/(α−1) renewals to come.
/// assert!((predict(&m, Prediction::Renewal, 4.0, 0.0)? - 7.0 / 9.0).abs() < 1e-15);
/// assert!((predict(&m, Prediction::ResidualLifetime, 4.0, 0.0)? - 7.0).abs() < 1e-12);
/// # Ok::<(), retentionkit::Error>(())
/// ```
pub fn predict<M: SubscriberModel>(model: &M, what: Prediction, n: f64, extra: f64) -> Result<f64> {
    Ok(match what {
        Prediction::Renewal => model.retention_rate(n + 1.0),
        Prediction::Survival => model.ln_survival_ratio(n + extra, n).exp(),
        Prediction::ResidualLifetime => model.expected_residual_lifetime(n),
        Prediction::DiscountedResidualLifetime => {
            model.discounted_expected_residual_lifetime(extra, n)?
        }
    })
}

/// Checks the inputs of `what`: `periods` non-negative integers, `extra` (k:
/// non-negative integers; d: positive) with one value per subscriber.
pub fn check_inputs(what: Prediction, periods: &[f64], extra: &[f64]) -> Result<()> {
    check_integers("periods", periods, 0.0)?;
    match what {
        Prediction::Survival => {
            check_length("k", extra.len(), periods.len())?;
            check_integers("k", extra, 0.0)
        }
        Prediction::DiscountedResidualLifetime => {
            check_length("discount_rate", extra.len(), periods.len())?;
            check_discount(extra)
        }
        _ => Ok(()),
    }
}

fn extra_of(extra: &[f64], i: usize) -> f64 {
    extra.get(i).copied().unwrap_or(0.0)
}

/// The keys of `n` rows, `width` numbers each, filled by `fill(i, key)`,
/// in one flat buffer.
fn flat_keys(n: usize, width: usize, fill: impl Fn(usize, &mut [u64]) + Sync) -> Vec<u64> {
    let mut flat = vec![0u64; n * width];
    flat.par_chunks_mut(width.max(1))
        .enumerate()
        .for_each(|(i, key)| fill(i, key));
    flat
}

/// Positions of the distinct rows of `flat` (rows of `width` keys) and, for
/// each row, the index of its distinct row: predictions of identical
/// subscribers (same periods, extra and covariates, as categorical
/// covariates give) are computed once.
fn distinct_rows(flat: &[u64], width: usize) -> (Vec<usize>, Vec<usize>) {
    let n = flat.len() / width.max(1);
    let mut seen: HashMap<&[u64], usize> = HashMap::new();
    let mut first = Vec::new();
    let slot = (0..n)
        .map(|i| {
            let key = &flat[i * width..(i + 1) * width];
            *seen.entry(key).or_insert_with(|| {
                first.push(i);
                first.len() - 1
            })
        })
        .collect();
    (first, slot)
}

fn bits(v: f64) -> u64 {
    (v + 0.0).to_bits()
}

/// `what` for every subscriber of the plain model (inputs checked).
pub fn predict_many<M: SubscriberModel>(
    model: &M,
    what: Prediction,
    periods: &[f64],
    extra: &[f64],
) -> Result<Vec<f64>> {
    check_inputs(what, periods, extra)?;
    let flat = flat_keys(periods.len(), 2, |i, key| {
        key[0] = bits(periods[i]);
        key[1] = bits(extra_of(extra, i));
    });
    let (first, slot) = distinct_rows(&flat, 2);
    let values = first
        .par_iter()
        .map(|&i| predict(model, what, periods[i], extra_of(extra, i)).map_err(|e| at_row(e, i)))
        .collect::<Result<Vec<f64>>>()?;
    Ok(slot.into_iter().map(|s| values[s]).collect())
}

/// `what` for every subscriber of a model with covariates, each at their
/// own parameters (`covariates` one row per subscriber).
pub fn predict_many_with_covariates<M: SubscriberModel + CovariateModel>(
    model: &WithCovariates<M>,
    what: Prediction,
    periods: &[f64],
    extra: &[f64],
    covariates: &[f64],
) -> Result<Vec<f64>> {
    check_inputs(what, periods, extra)?;
    let n = periods.len();
    let k = model.design().columns().len();
    check_rows(n, k, covariates)?;
    let flat = flat_keys(n, 2 + k, |i, key| {
        key[0] = bits(periods[i]);
        key[1] = bits(extra_of(extra, i));
        for (slot, &v) in key[2..].iter_mut().zip(&covariates[i * k..(i + 1) * k]) {
            *slot = bits(v);
        }
    });
    let (first, slot) = distinct_rows(&flat, 2 + k);
    let rows: Vec<f64> = first
        .iter()
        .flat_map(|&i| covariates[i * k..(i + 1) * k].iter().copied())
        .collect();
    let values = model
        .per_customer(first.len(), &rows, |m, j| {
            let i = first[j];
            predict(m, what, periods[i], extra_of(extra, i)).map_err(|e| at_row(e, i))
        })
        .map_err(|e| at_row_of(e, &first))?
        .into_iter()
        .collect::<Result<Vec<f64>>>()?;
    Ok(slot.into_iter().map(|s| values[s]).collect())
}

fn check_rows(n: usize, k: usize, covariates: &[f64]) -> Result<()> {
    if covariates.len() != n * k {
        return Err(Error::LengthMismatch {
            expected: n * k,
            found: covariates.len(),
            name: "covariates (subscribers × columns)",
        });
    }
    Ok(())
}

/// An error about one subscriber's data, moved to that subscriber's row.
fn at_row(error: Error, row: usize) -> Error {
    match error {
        Error::InvalidData {
            rule,
            detail,
            column,
            cohort,
            period,
            ..
        } => Error::InvalidData {
            rule,
            row,
            detail,
            column,
            cohort,
            period,
        },
        other => other,
    }
}

/// An error naming a distinct row, moved to the first subscriber of that row.
fn at_row_of(error: Error, first: &[usize]) -> Error {
    match &error {
        Error::InvalidData { row, .. } if *row < first.len() => {
            let r = first[*row];
            at_row(error, r)
        }
        _ => error,
    }
}

/// A model function of one subscriber over the uncertainty of the estimates
/// (see [`crate::value::intervals`]): `predict(model, i)` at the estimate
/// and under each of `options.n_draws` parameter vectors drawn from the
/// asymptotic normal distribution of the estimates; the (1 ∓ level)/2
/// quantiles are the bounds. `M` is the plain model or the model with
/// covariates (whose closure takes subscriber i's parameters).
pub fn interval<M: Model + Sync>(
    fitted: &Fitted<M>,
    n: usize,
    options: &IntervalOptions,
    predict: impl Fn(&M, usize) -> Result<f64> + Sync,
) -> Result<Intervals> {
    options.validate()?;
    let model = &fitted.model;
    let estimate = (0..n)
        .into_par_iter()
        .map(|i| predict(model, i))
        .collect::<Result<Vec<f64>>>()?;
    let draws = draw_parameters(fitted, options.n_draws, options.seed, 0)?;
    let (q_lo, q_hi) = (0.5 * (1.0 - options.level), 0.5 * (1.0 + options.level));
    let bounds = (0..n)
        .into_par_iter()
        .map(|i| {
            crate::interrupt::check()?;
            let mut values = draws
                .iter()
                .map(|m| predict(m, i))
                .collect::<Result<Vec<f64>>>()?;
            values.sort_unstable_by(f64::total_cmp);
            Ok((quantile(&values, q_lo), quantile(&values, q_hi)))
        })
        .collect::<Result<Vec<(f64, f64)>>>()?;
    let (lower, upper) = bounds.into_iter().unzip();
    Ok(Intervals {
        estimate,
        lower,
        upper,
    })
}

/// [`interval`] of `what` for the subscribers of a plain model.
pub fn predict_interval<M: SubscriberModel>(
    fitted: &Fitted<M>,
    what: Prediction,
    periods: &[f64],
    extra: &[f64],
    options: &IntervalOptions,
) -> Result<Intervals> {
    check_inputs(what, periods, extra)?;
    interval(fitted, periods.len(), options, |m, i| {
        predict(m, what, periods[i], extra_of(extra, i)).map_err(|e| at_row(e, i))
    })
}

/// [`interval`] of `what` for subscribers with covariates: under each draw,
/// subscriber i's prediction at their parameters under that draw.
pub fn predict_interval_with_covariates<M: SubscriberModel + CovariateModel>(
    fitted: &Fitted<WithCovariates<M>>,
    what: Prediction,
    periods: &[f64],
    extra: &[f64],
    covariates: &[f64],
    options: &IntervalOptions,
) -> Result<Intervals> {
    check_inputs(what, periods, extra)?;
    let k = fitted.model.design().columns().len();
    check_rows(periods.len(), k, covariates)?;
    interval(fitted, periods.len(), options, |m, i| {
        let z = &covariates[i * k..(i + 1) * k];
        let customer = m.for_customer(z).map_err(|e| at_row(e, i))?;
        predict(&customer, what, periods[i], extra_of(extra, i)).map_err(|e| at_row(e, i))
    })
}

/// S(tᵢ) (`retention` false) or r(tᵢ) = S(tᵢ)/S(tᵢ−1) (`retention` true) of
/// a new subscriber with covariate row i: a segment's survival and
/// retention-rate curves.
pub fn curve_with_covariates<M: SubscriberModel + CovariateModel>(
    model: &WithCovariates<M>,
    t: &[f64],
    covariates: &[f64],
    retention: bool,
) -> Result<Vec<f64>> {
    check_integers("t", t, if retention { 1.0 } else { 0.0 })?;
    model.per_customer(t.len(), covariates, |m, i| {
        if retention {
            m.retention_rate(t[i])
        } else {
            m.survival(t[i])
        }
    })
}

/// Simulates one subscriber per entry of `horizons` (periods observed,
/// positive integers) at the parameters of their covariate row; reproducible
/// for a given seed whatever the number of threads (as
/// [`super::simulate_many`]).
pub fn simulate_with_covariates<M: SubscriberModel + CovariateModel>(
    model: &WithCovariates<M>,
    horizons: &[f64],
    covariates: &[f64],
    seed: u64,
) -> Result<Vec<SimulatedSubscriber>> {
    check_integers("n_periods", horizons, 1.0)?;
    let customers = model.per_customer(horizons.len(), covariates, |m, _| m.clone())?;
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
                let i = c * SIM_CHUNK + k;
                *slot = customers[i].simulate_customer(horizons[i], &mut rng);
            }
        });
    Ok(out)
}
