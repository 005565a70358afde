//! Prediction intervals that carry the uncertainty of the parameter estimates.
//!
//! A prediction at the maximum-likelihood estimate θ̂ ignores that θ̂ is itself
//! uncertain. Here that uncertainty is propagated by simulation from the
//! asymptotic normal distribution of the estimates (a parametric "plug-in"
//! bootstrap, as in Krinsky & Robb 1986, "On approximating the statistical
//! properties of elasticities", REStat 68(4)):
//!
//! 1. The draws are made on the unconstrained scale of each parameter's
//!    [`crate::models::Transform`] (the log scale for the positive parameters
//!    of the models without covariates), where the normal approximation is
//!    better and draws stay in the domain. By the delta method, u(θ̂) is
//!    approximately N(u(θ̂), D⁻¹ Σ D⁻¹) with Σ the covariance of the estimates
//!    ([`crate::fit::FitInfo::covariance`]) and D = diag(dθ/du at θ̂), which
//!    is diag(θ̂) for log-parameters. K parameter vectors (default 200) are
//!    drawn, θ_k = θ(u(θ̂) + L z_k) (= θ̂ exp(L z_k) on the log scale) with
//!    L L' = D⁻¹ Σ D⁻¹ and z_k standard normal, from a
//!    ChaCha8 generator with a given seed: the same seed gives the same
//!    intervals whatever the number of threads.
//! 2. For each customer, the prediction is computed under each of the K
//!    models, and the (1 − level)/2 and (1 + level)/2 quantiles of those K
//!    values (linear interpolation between order statistics, numpy's default)
//!    are the interval. The point estimate is the prediction at θ̂.
//!
//! Memory stays O(K · chunk), never O(K · N): customers are processed in
//! parallel chunks of 1024, each evaluating the K models with the models'
//! batch predictions and reducing to quantiles before the next chunk.
//!
//! Customer lifetime value combines a transaction model and the Gamma-Gamma
//! spend model; their estimates come from different likelihoods and are drawn
//! independently (separate ChaCha8 streams of the same seed).
//!
//! The intervals describe uncertainty about the *expected* value of each
//! customer's prediction given the model: they are not intervals for the
//! customer's actual number of purchases, which varies far more.
//!
//! ```
//! use retentionkit::intervals::{conditional_expected_purchases_interval, IntervalOptions};
//! use retentionkit::{fit, predict, BetaGeo, CustomerData, FitOptions};
//!
//! let truth = BetaGeo::new(0.243, 4.414, 0.793, 2.426)?;
//! let ages = vec![39.0; 3000];
//! let sims = predict::simulate(&truth, &ages, 7)?;
//! let x: Vec<f64> = sims.iter().map(|c| c.frequency).collect();
//! let tx: Vec<f64> = sims.iter().map(|c| c.recency).collect();
//! let fitted = fit::<BetaGeo>(&CustomerData::new(&x, &tx, &ages, None)?.compress(), &FitOptions::default())?;
//!
//! let options = IntervalOptions { seed: 1, ..IntervalOptions::default() };
//! let band = conditional_expected_purchases_interval(&fitted, &[10.0; 2], &[2.0, 0.0], &[30.0, 0.0], &[39.0; 2], &options)?;
//! assert!(band.lower[0] <= band.estimate[0] && band.estimate[0] <= band.upper[0]);
//! # Ok::<(), retentionkit::Error>(())
//! ```

use std::ops::Range;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use crate::data::validate_prediction_inputs;
use crate::error::{Error, Result};
use crate::fit::{covariance_problem, Fitted};
use crate::models::covariates::at_row;
use crate::models::gamma_gamma::{self, GammaGamma};
use crate::models::{Model, TransactionModel};
use crate::predict;
use crate::special::linalg::cholesky;
use crate::value::clv::{self, ClvOptions};

/// Customers per parallel chunk: K × 1024 values are held per chunk.
const CHUNK: usize = 1024;

/// The most parameter draws an interval takes: each parallel chunk holds
/// `n_draws × 1024` values (400 MB at this bound), so a mistyped count
/// (1e10) is refused instead of exhausting memory, which aborts the process.
pub const MAX_DRAWS: usize = 50_000;

/// Options of the interval functions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalOptions {
    /// Coverage of the interval, in (0, 1) (default 0.95: the 2.5% and 97.5%
    /// quantiles).
    pub level: f64,
    /// Number of parameter vectors drawn (default 200), at least 2 and at
    /// most [`MAX_DRAWS`].
    pub n_draws: usize,
    /// Seed of the ChaCha8 generator.
    pub seed: u64,
}

impl Default for IntervalOptions {
    fn default() -> Self {
        Self {
            level: 0.95,
            n_draws: 200,
            seed: 0,
        }
    }
}

impl IntervalOptions {
    pub(crate) fn validate(&self) -> Result<()> {
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(Error::InvalidParameter {
                name: "level".into(),
                value: self.level,
                rule: "the coverage of an interval must lie strictly between 0 and 1",
            });
        }
        if self.n_draws < 2 {
            return Err(Error::InvalidParameter {
                name: "n_draws".into(),
                value: self.n_draws as f64,
                rule: "at least two parameter draws are needed for an interval",
            });
        }
        if self.n_draws > MAX_DRAWS {
            return Err(Error::InvalidParameter {
                name: "n_draws".into(),
                value: self.n_draws as f64,
                rule: "at most 50,000 parameter draws are taken (memory grows with them)",
            });
        }
        Ok(())
    }
}

/// Per-customer point estimates with lower and upper interval bounds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Intervals {
    /// The prediction at the maximum-likelihood estimate.
    pub estimate: Vec<f64>,
    /// The (1 − level)/2 quantile over the parameter draws.
    pub lower: Vec<f64>,
    /// The (1 + level)/2 quantile over the parameter draws.
    pub upper: Vec<f64>,
}

/// How customer lifetime value discounts future purchases.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Discounting {
    /// lifetimes' monthly sum over a horizon ([`clv::customer_lifetime_value`]).
    Monthly(ClvOptions),
    /// The whole remaining lifetime at the continuous rate δ per time unit
    /// ([`clv::customer_lifetime_value_continuous`]).
    Continuous(f64),
}

/// Draws `n_draws` parameter vectors from the asymptotic normal distribution of
/// the log-parameters of a fitted model (see the module documentation), from
/// ChaCha8 stream `stream` of `seed`.
///
/// Errors when the model has no covariance (it was not fitted, or the
/// information matrix was singular) or the covariance is not positive
/// definite.
pub fn draw_parameters<M: Model>(
    fitted: &Fitted<M>,
    n_draws: usize,
    seed: u64,
    stream: u64,
) -> Result<Vec<M>> {
    draw_parameters_split(fitted, n_draws, seed, stream, usize::MAX)
}

/// [`draw_parameters`], where only the first `base` parameters (the base
/// model's, for a model with covariates) take their standard normal deviates
/// from stream `stream`; the others (the covariate coefficients) take theirs
/// from stream `stream + 2`. The lower-triangular Cholesky factor makes the
/// first `base` parameters of each draw depend on their own block of the
/// covariance only, so a model with covariates draws exactly the base
/// parameters the model without covariates draws with the same seed whenever
/// that block is the plain model's covariance. `base >= ` the number of
/// parameters is [`draw_parameters`].
pub fn draw_parameters_split<M: Model>(
    fitted: &Fitted<M>,
    n_draws: usize,
    seed: u64,
    stream: u64,
    base: usize,
) -> Result<Vec<M>> {
    let transforms: Vec<_> = fitted
        .model
        .param_specs()
        .iter()
        .map(|s| s.transform)
        .collect();
    let p = transforms.len();
    let covariance = fitted
        .info
        .as_ref()
        .and_then(|i| i.covariance.as_ref())
        .ok_or_else(|| {
            Error::Numerical(format!(
                "intervals need the covariance of the {} estimates, and this model has none: \
                 fit it to data (parameters set by hand or loaded without fit statistics have \
                 none), or the information matrix at the estimate was singular",
                M::NAME
            ))
        })?;
    // A covariance built by hand (or by a file that skipped the checks of
    // Fitted::from_json) is checked here too, rather than indexed out of range.
    if let Some(problem) = covariance_problem(covariance, &fitted.model.param_names()) {
        return Err(Error::Numerical(format!(
            "the covariance of the {} estimates {problem}",
            M::NAME
        )));
    }
    let theta = fitted.params();
    // The delta method: Cov(uᵢ, uⱼ) = Cov(φᵢ, φⱼ) / (φ'ᵢ φ'ⱼ) for the
    // unconstrained uᵢ (for log-parameters φ' = φ).
    let slope: Vec<f64> = (0..p)
        .map(|i| transforms[i].derivative_at_natural(theta[i]))
        .collect();
    let mut log_cov = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..p {
            log_cov[i * p + j] = covariance[i * p + j] / (slope[i] * slope[j]);
        }
    }
    let l = cholesky(&log_cov, p).ok_or_else(|| {
        Error::Numerical(format!(
            "the covariance of the {} estimates is not positive definite",
            M::NAME
        ))
    })?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    let mut extra = ChaCha8Rng::seed_from_u64(seed);
    extra.set_stream(stream + 2);
    let base = base.min(p);
    let mut z = vec![0.0; p];
    (0..n_draws)
        .map(|_| {
            for zi in z[..base].iter_mut() {
                *zi = StandardNormal.sample(&mut rng);
            }
            for zi in z[base..].iter_mut() {
                *zi = StandardNormal.sample(&mut extra);
            }
            let values: Vec<f64> = (0..p)
                .map(|i| {
                    let shift: f64 = (0..=i).map(|j| l[i * p + j] * z[j]).sum();
                    transforms[i].shift(theta[i], shift)
                })
                .collect();
            // Each draw stays in the parameters' domain by construction unless
            // an unconstrained standard deviation is so large (an estimate on a
            // limit of the model, where a parameter is not identified) that
            // the draw overflows or underflows: say so, rather than fail on the
            // model's own check of an infinite or zero parameter.
            fitted.model.with_params(&values).map_err(|problem| {
                let names = fitted.model.param_names();
                let widest = (0..p)
                    .max_by(|&a, &b| log_cov[a * p + a].total_cmp(&log_cov[b * p + b]))
                    .unwrap_or(0);
                Error::Numerical(format!(
                    "the covariance of the {} estimates is too wide to draw parameters from \
                     ({problem}); the widest is {}'s, with a standard deviation of {:.3e} on \
                     the fit's scale: the estimate is probably on a limit of the model where \
                     it is not identified",
                    M::NAME,
                    names[widest],
                    log_cov[widest * p + widest].sqrt(),
                ))
            })
        })
        .collect()
}

/// The q-quantile of sorted values, interpolating linearly between order
/// statistics (numpy's default, Hyndman & Fan's type 7).
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let below = h.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    sorted[below] + (h - below as f64) * (sorted[above] - sorted[below])
}

/// Lower and upper quantiles over `draws` of `eval(draw, customers)`, for `n`
/// customers in parallel chunks.
fn quantiles_over_draws<D: Sync>(
    draws: &[D],
    n: usize,
    level: f64,
    eval: impl Fn(&D, Range<usize>) -> Vec<f64> + Sync,
) -> (Vec<f64>, Vec<f64>) {
    let k = draws.len();
    let (q_lo, q_hi) = (0.5 * (1.0 - level), 0.5 * (1.0 + level));
    let mut lower = vec![0.0; n];
    let mut upper = vec![0.0; n];
    lower
        .par_chunks_mut(CHUNK)
        .zip(upper.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(c, (lo, hi))| {
            let start = c * CHUNK;
            let len = lo.len();
            let mut values = vec![0.0; k * len];
            for (d, draw) in draws.iter().enumerate() {
                let out = eval(draw, start..start + len);
                values[d * len..(d + 1) * len].copy_from_slice(&out);
            }
            let mut column = vec![0.0; k];
            for j in 0..len {
                for (d, slot) in column.iter_mut().enumerate() {
                    *slot = values[d * len + j];
                }
                column.sort_unstable_by(f64::total_cmp);
                lo[j] = quantile(&column, q_lo);
                hi[j] = quantile(&column, q_hi);
            }
        });
    (lower, upper)
}

/// E[Y(tᵢ) | xᵢ, t_xᵢ, Tᵢ] with intervals over the parameter uncertainty.
pub fn conditional_expected_purchases_interval<M: TransactionModel>(
    fitted: &Fitted<M>,
    t: &[f64],
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    options: &IntervalOptions,
) -> Result<Intervals> {
    options.validate()?;
    let estimate =
        predict::conditional_expected_purchases(&fitted.model, t, frequency, recency, age)?;
    let draws = draw_parameters(fitted, options.n_draws, options.seed, 0)?;
    let (lower, upper) = quantiles_over_draws(&draws, frequency.len(), options.level, |m, r| {
        m.conditional_expected_purchases_batch(
            &t[r.clone()],
            &frequency[r.clone()],
            &recency[r.clone()],
            &age[r],
        )
    });
    Ok(Intervals {
        estimate,
        lower,
        upper,
    })
}

/// P(alive | xᵢ, t_xᵢ, Tᵢ) with intervals over the parameter uncertainty.
pub fn probability_alive_interval<M: TransactionModel>(
    fitted: &Fitted<M>,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    options: &IntervalOptions,
) -> Result<Intervals> {
    options.validate()?;
    let estimate = predict::probability_alive(&fitted.model, frequency, recency, age)?;
    let draws = draw_parameters(fitted, options.n_draws, options.seed, 0)?;
    let (lower, upper) = quantiles_over_draws(&draws, frequency.len(), options.level, |m, r| {
        m.probability_alive_batch(&frequency[r.clone()], &recency[r.clone()], &age[r])
    });
    Ok(Intervals {
        estimate,
        lower,
        upper,
    })
}

/// DERT(δᵢ | xᵢ, t_xᵢ, Tᵢ) ([`crate::value::dert`]) with intervals over the parameter
/// uncertainty. Each draw costs one DERT per customer: cheap for the
/// Pareto/NBD's closed form, about a hundred conditional expectations for
/// models integrated numerically.
pub fn dert_interval<M: TransactionModel>(
    fitted: &Fitted<M>,
    discount_rate: &[f64],
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    options: &IntervalOptions,
) -> Result<Intervals> {
    options.validate()?;
    let estimate = crate::value::dert::discounted_expected_residual_transactions(
        &fitted.model,
        discount_rate,
        frequency,
        recency,
        age,
    )?;
    let draws = draw_parameters(fitted, options.n_draws, options.seed, 0)?;
    let (lower, upper) = quantiles_over_draws(&draws, frequency.len(), options.level, |m, r| {
        r.map(|i| {
            m.discounted_expected_residual_transactions(
                discount_rate[i],
                frequency[i],
                recency[i],
                age[i],
            )
        })
        .collect()
    });
    Ok(Intervals {
        estimate,
        lower,
        upper,
    })
}

/// Customer lifetime value with intervals over the uncertainty of both the
/// transaction model and the Gamma-Gamma spend model, drawn independently.
///
/// The value is the discounted expected number of purchases
/// ([`Discounting`]) times the Gamma-Gamma conditional expected average
/// profit E[M | xᵢ, m_xᵢ], as in [`clv`]. A spend draw with q ≤ 1 has an
/// infinite expected spend and contributes +∞ (which can only move an upper
/// bound when it is more frequent than (1 − level)/2). Errors when the spend
/// model's own estimate has q ≤ 1.
#[allow(clippy::too_many_arguments)]
pub fn customer_lifetime_value_interval<M: TransactionModel>(
    transactions: &Fitted<M>,
    spend: &Fitted<GammaGamma>,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    monetary_value: &[f64],
    discounting: &Discounting,
    options: &IntervalOptions,
) -> Result<Intervals> {
    options.validate()?;
    validate_prediction_inputs(frequency, recency, age)?;
    let n = frequency.len();
    let profit =
        gamma_gamma::conditional_expected_average_profit(&spend.model, frequency, monetary_value)?;
    // Discounted expected purchases of each customer: CLV with unit spend.
    let discounted = |m: &M, r: Range<usize>| -> Result<Vec<f64>> {
        let ones = vec![1.0; r.len()];
        let (x, tx, t) = (&frequency[r.clone()], &recency[r.clone()], &age[r.clone()]);
        match discounting {
            Discounting::Monthly(o) => clv::customer_lifetime_value(m, x, tx, t, &ones, o),
            Discounting::Continuous(d) => {
                clv::customer_lifetime_value_continuous(m, x, tx, t, &ones, *d)
            }
        }
    };
    let estimate: Vec<f64> = discounted(&transactions.model, 0..n)?
        .iter()
        .zip(&profit)
        .map(|(d, m)| d * m)
        .collect();
    let models = draw_parameters(transactions, options.n_draws, options.seed, 0)?;
    let spends = draw_parameters(spend, options.n_draws, options.seed, 1)?;
    let pairs: Vec<(M, GammaGamma)> = models.into_iter().zip(spends).collect();
    let (lower, upper) = quantiles_over_draws(&pairs, n, options.level, |(m, g), r| {
        let value = discounted(m, r.clone()).expect("inputs validated above");
        value
            .iter()
            .zip(r)
            .map(|(d, i)| {
                match g.conditional_expected_average_profit(frequency[i], monetary_value[i]) {
                    Ok(profit) => d * profit,
                    Err(_) => f64::INFINITY,
                }
            })
            .collect()
    });
    Ok(Intervals {
        estimate,
        lower,
        upper,
    })
}

/// One of the two models of [`customer_lifetime_value_interval_by_customer`]:
/// the fitted model, how many of its parameters are the base model's (all of
/// them for a model without covariates; see [`draw_parameters_split`]), and
/// `customer(model, i)`, customer i's own model (a base model) under a
/// parameter vector of that model.
pub struct PerCustomer<'a, A: Model, F> {
    /// The fitted model (with its covariance).
    pub fitted: &'a Fitted<A>,
    /// The number of leading parameters that are the base model's.
    pub base_params: usize,
    /// Customer i's model under a parameter vector of `fitted`'s model.
    pub customer: F,
}

/// [`customer_lifetime_value_interval`] where each customer may have their own
/// transaction and spend models: those of a model with covariates at the
/// customer's covariate row (either model, both or neither). Each customer's
/// value under a pair of draws is the plain formula at the customer's own
/// models under those draws; the base parameters are drawn from the same
/// random numbers as the plain models' ([`draw_parameters_split`]), so that
/// models with covariates whose coefficients are 0, without uncertainty,
/// give the plain models' interval for the same seed.
///
/// Errors as [`customer_lifetime_value_interval`], with the row of the
/// customer whose model or value cannot be computed at the estimates.
#[allow(clippy::too_many_arguments)]
pub fn customer_lifetime_value_interval_by_customer<A, B, M, F, G>(
    transactions: PerCustomer<'_, A, F>,
    spend: PerCustomer<'_, B, G>,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    monetary_value: &[f64],
    discounting: &Discounting,
    options: &IntervalOptions,
) -> Result<Intervals>
where
    A: Model + Sync,
    B: Model + Sync,
    M: TransactionModel,
    F: Fn(&A, usize) -> Result<M> + Sync,
    G: Fn(&B, usize) -> Result<GammaGamma> + Sync,
{
    options.validate()?;
    validate_prediction_inputs(frequency, recency, age)?;
    crate::data::spend_data::validate_spend(frequency, monetary_value, None, None)?;
    let n = frequency.len();
    // Discounted expected purchases of customer i: CLV with unit spend.
    let discounted = |m: &M, i: usize| -> Result<f64> {
        let (x, tx, t) = (&frequency[i..=i], &recency[i..=i], &age[i..=i]);
        let value = match discounting {
            Discounting::Monthly(o) => clv::customer_lifetime_value(m, x, tx, t, &[1.0], o),
            Discounting::Continuous(d) => {
                clv::customer_lifetime_value_continuous(m, x, tx, t, &[1.0], *d)
            }
        }?;
        Ok(value[0])
    };
    let profit = |g: Result<GammaGamma>, i: usize| {
        g.and_then(|g| g.conditional_expected_average_profit(frequency[i], monetary_value[i]))
    };
    let (transaction_of, spend_of) = (&transactions.customer, &spend.customer);
    let (transaction_model, spend_model) = (&transactions.fitted.model, &spend.fitted.model);
    let estimate = (0..n)
        .into_par_iter()
        .map(|i| {
            crate::interrupt::check()?;
            let value = || -> Result<f64> {
                let m = transaction_of(transaction_model, i)?;
                let g = spend_of(spend_model, i);
                Ok(discounted(&m, i)? * profit(g, i)?)
            };
            value().map_err(|e| at_row(e, i))
        })
        .collect::<Result<Vec<f64>>>()?;
    let (seed, k) = (options.seed, options.n_draws);
    let models = draw_parameters_split(transactions.fitted, k, seed, 0, transactions.base_params)?;
    let spends = draw_parameters_split(spend.fitted, k, seed, 1, spend.base_params)?;
    let (q_lo, q_hi) = (0.5 * (1.0 - options.level), 0.5 * (1.0 + options.level));
    let bounds = (0..n)
        .into_par_iter()
        .map(|i| {
            crate::interrupt::check()?;
            let mut values = models
                .iter()
                .zip(&spends)
                .map(|(a, b)| {
                    let d = discounted(&transaction_of(a, i)?, i)?;
                    // A spend draw with q <= 1 (or an overflowing customer
                    // parameter) has an infinite expected spend.
                    Ok(profit(spend_of(b, i), i).map_or(f64::INFINITY, |p| d * p))
                })
                .collect::<Result<Vec<f64>>>()
                .map_err(|e| at_row(e, i))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 5.0);
        assert_eq!(quantile(&v, 0.5), 3.0);
        // numpy.quantile([1, 2, 3, 4, 5], 0.025) = 1.1
        assert!((quantile(&v, 0.025) - 1.1).abs() < 1e-15);
    }
}
