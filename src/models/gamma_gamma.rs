//! The Gamma-Gamma model of the monetary value of repeat transactions.
//!
//! Sources: Fader, P. S. & Hardie, B. G. S. (2013), "The Gamma-Gamma Model of
//! Monetary Value" (brucehardie.com, note 025), after Colombo, R. & Jiang, W.
//! (1999), "A stochastic RFM model", Journal of Interactive Marketing 13(3), 2–12.
//!
//! The value zᵢ of each of a customer's x repeat transactions is Gamma(p, ν)
//! (shape p, rate ν), independent of the number of transactions; across customers
//! ν ~ Gamma(q, γ). The note's γ is called `v` here, as in `lifetimes`. Only the
//! mean m_x = Σ zᵢ / x is observed, which given ν is Gamma(px, νx). Equation
//! numbers refer to the note:
//! - (1a) the likelihood of m_x given x,
//!   f(m_x | p, q, γ; x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q m_x^{px−1} x^{px} / (γ + m_x x)^{px+q},
//!   written here as
//!   ln f = ln Γ(px+q) − ln Γ(px) − ln Γ(q) − px ln(1 + γ/(m_x x)) − q ln(1 + m_x x/γ) − ln m_x;
//! - (4) E\[M\] = pγ/(q−1), the expected average transaction value of a new customer;
//! - (5) E[M | p, q, γ; m_x, x] = (q−1)/(px+q−1) · pγ/(q−1) + px/(px+q−1) · m_x,
//!   a weighted average of the population mean and the customer's own mean.
//!
//! Both expectations are finite only for q > 1; for q ≤ 1 they are errors.
//! The model assumes that spend is independent of the number of transactions;
//! [`spend_frequency_correlation`] gives the statistic to check it with.
//!
//! ```
//! use retentionkit::gamma_gamma::{GammaGamma, SpendData, ZeroFrequency};
//! use retentionkit::{fit, FitOptions, Model};
//!
//! let x = [2.0, 1.0, 0.0, 4.0, 1.0, 3.0];
//! let m = [22.35, 11.77, 0.0, 16.26, 26.22, 19.5];
//! // Customers without repeat purchases have no spend to model: they must be
//! // excluded explicitly (the default rejects them).
//! assert!(SpendData::new(&x, &m, None, ZeroFrequency::Reject).is_err());
//! let data = SpendData::new(&x, &m, None, ZeroFrequency::Exclude)?.compress();
//! assert_eq!(data.total_weight, 5.0);
//!
//! // Conditional expected average spend with the note's CDNOW estimates.
//! let model = GammaGamma::new(6.25, 3.74, 15.44)?;
//! let e = model.conditional_expected_average_profit(2.0, 22.35)?;
//! assert!((e - 24.66).abs() < 0.01);
//!
//! // Fit (p, q, v) by maximum likelihood; real data have hundreds of customers.
//! let fitted = fit::<GammaGamma>(&data, &FitOptions { require_convergence: false, ..FitOptions::default() })?;
//! assert_eq!(fitted.params().len(), GammaGamma::PARAM_NAMES.len());
//! # Ok::<(), retentionkit::Error>(())
//! ```

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};
use rayon::prelude::*;

use crate::data::check_rows;
use crate::data::spend_data::validate_spend;
pub use crate::data::{CompressedSpend, SpendData, ZeroFrequency};
use crate::error::{Error, Result};
use crate::models::params::check_positive;
use crate::models::{Accumulator, Derivatives, Evaluation, Model};
use crate::predict::par_map;
use crate::special::{digamma, ln_gamma, trigamma};

/// Gamma-Gamma parameters (p, q, v), all positive; v is the note's γ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGamma {
    /// Shape of the gamma distribution of transaction values.
    p: f64,
    /// Shape of the gamma distribution of the customers' rate parameters ν.
    q: f64,
    /// Rate (the note's γ) of the gamma distribution of ν.
    v: f64,
}

impl GammaGamma {
    /// Builds the model, checking that every parameter is positive and finite.
    ///
    /// ```
    /// use retentionkit::GammaGamma;
    /// assert!(GammaGamma::new(6.25, 3.74, 15.44).is_ok());
    /// assert!(GammaGamma::new(6.25, 0.0, 15.44).is_err());
    /// ```
    pub fn new(p: f64, q: f64, v: f64) -> Result<Self> {
        check_positive(Self::PARAM_NAMES, &[p, q, v])?;
        Ok(Self { p, q, v })
    }

    fn check_finite_mean(&self) -> Result<()> {
        if self.q > 1.0 {
            Ok(())
        } else {
            Err(Error::InvalidParameter {
                name: "q".into(),
                value: self.q,
                rule: "the expected spend is infinite unless q > 1",
            })
        }
    }

    /// E\[M\] = pv/(q−1), eq. (4): the expected average transaction value of a
    /// customer about whom nothing is known. An error when q ≤ 1.
    ///
    /// ```
    /// use retentionkit::GammaGamma;
    /// let m = GammaGamma::new(6.25, 3.74, 15.44).unwrap();
    /// assert!((m.expected_average_profit().unwrap() - 35.22).abs() < 0.01);
    /// assert!(GammaGamma::new(6.25, 0.9, 15.44).unwrap().expected_average_profit().is_err());
    /// ```
    pub fn expected_average_profit(&self) -> Result<f64> {
        self.check_finite_mean()?;
        let value = self.population_mean();
        if value.is_finite() {
            Ok(value)
        } else {
            Err(self.mean_overflow())
        }
    }

    /// pv/(q−1), as p · (v/(q−1)) so that p, q, v near the largest double
    /// (1e300 each) give their finite ratio rather than ∞/∞.
    fn population_mean(&self) -> f64 {
        self.p * (self.v / (self.q - 1.0))
    }

    fn mean_overflow(&self) -> Error {
        Error::InvalidParameter {
            name: "p, q, v".into(),
            value: self.population_mean(),
            rule: "the expected spend p*v/(q-1) exceeds the largest double",
        }
    }

    /// E[M | x, m_x], eq. (5): the customer's own mean m_x shrunk towards the
    /// population mean, with weight px/(px+q−1) on m_x. For x = 0 this is the
    /// population mean (m_x is then ignored). An error when q ≤ 1. Arguments are
    /// not validated (see [`conditional_expected_average_profit`]).
    pub fn conditional_expected_average_profit(&self, x: f64, m: f64) -> Result<f64> {
        self.check_finite_mean()?;
        let value = self.expected_profit_unchecked(x, m);
        if value.is_finite() {
            Ok(value)
        } else {
            Err(self.mean_overflow())
        }
    }

    /// Eq. (5) for q > 1, written so that x = 0 ignores m exactly, and
    /// without intermediate overflow: for x > 0,
    /// p(v + x m)/(px + q − 1) = (v/x + m)/(1 + ρ) with ρ = ((q−1)/p)/x, so
    /// p = q = v = 1e300 give 1e300-sized answers, not ∞ or NaN. Not finite only
    /// when the answer itself exceeds the largest double.
    fn expected_profit_unchecked(&self, x: f64, m: f64) -> f64 {
        if x == 0.0 {
            return self.population_mean();
        }
        let rho = (self.q - 1.0) / self.p / x;
        (self.v / x + m) / (1.0 + rho)
    }

    /// ln f(m_x | x), eq. (1a), for x > 0 and m_x > 0.
    pub fn individual_log_likelihood(&self, x: f64, m: f64) -> f64 {
        let GammaGamma { p, q, v } = *self;
        let px = p * x;
        ln_gamma(px + q)
            - ln_gamma(px)
            - ln_gamma(q)
            - px * (v / (m * x)).ln_1p()
            - q * (m * x / v).ln_1p()
            - m.ln()
    }

    /// Draws one customer's mean spend over `x` transactions: ν ~ Gamma(q, rate v),
    /// then each value ~ Gamma(p, rate ν). Returns 0 when x = 0.
    fn simulate_mean<R: rand::Rng + ?Sized>(&self, x: usize, rng: &mut R) -> f64 {
        if x == 0 {
            return 0.0;
        }
        let nu = Gamma::new(self.q, 1.0 / self.v)
            .expect("valid parameters")
            .sample(rng);
        let value = Gamma::new(self.p, 1.0 / nu).expect("positive rate");
        (0..x).map(|_| value.sample(rng)).sum::<f64>() / x as f64
    }
}

type Acc = Accumulator<3>;

const CHUNK: usize = 4096;

impl GammaGamma {
    /// The parameter names, in the order of [`Self::from_slice`].
    pub const PARAM_NAMES: &'static [&'static str] = &["p", "q", "v"];

    /// Builds the model from values in the order of [`Self::PARAM_NAMES`],
    /// checking their domain.
    pub fn from_slice(values: &[f64]) -> Result<Self> {
        check_positive(Self::PARAM_NAMES, values)?;
        Ok(Self {
            p: values[0],
            q: values[1],
            v: values[2],
        })
    }

    /// Shape of the gamma distribution of transaction values.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// Shape of the gamma distribution of the customers' rate parameters ν.
    pub fn q(&self) -> f64 {
        self.q
    }

    /// Rate (the note's γ) of the gamma distribution of ν.
    pub fn v(&self) -> f64 {
        self.v
    }
}

impl Model for GammaGamma {
    type Data = CompressedSpend;
    const NAME: &'static str = "GammaGamma";

    crate::models::params::fixed_positive_params!();

    fn to_vec(&self) -> Vec<f64> {
        vec![self.p, self.q, self.v]
    }

    /// Σ w ln f(m_x | x), eq. (1a), with analytic derivatives:
    /// ∂/∂p = x[ψ(px+q) − ψ(px) − ln(1 + v/(m x))],
    /// ∂/∂q = ψ(px+q) − ψ(q) − ln(1 + m x/v),
    /// ∂/∂v = q/v − (px+q)/(v + m x),
    /// and the Hessian from ψ′ and the rational terms.
    fn evaluate(&self, data: &CompressedSpend, derivatives: Derivatives) -> Evaluation {
        let GammaGamma { p, q, v } = *self;
        let want_grad = derivatives >= Derivatives::Gradient;
        let want_hess = derivatives == Derivatives::Hessian;
        let n = data.total_weight;
        // Terms shared by every customer.
        let mut total = Acc::ZERO;
        total.value = -n * ln_gamma(q);
        if want_grad {
            total.grad[1] = -n * digamma(q);
            if want_hess {
                total.hess[1][1] = -n * trigamma(q);
            }
        }
        // Terms depending only on x, once per distinct x.
        for (&x, &w) in data.distinct_x().iter().zip(data.weight_by_x()) {
            let px = p * x;
            total.value += w * (ln_gamma(px + q) - ln_gamma(px));
            if want_grad {
                let d_pxq = digamma(px + q);
                total.grad[0] += w * x * (d_pxq - digamma(px));
                total.grad[1] += w * d_pxq;
                if want_hess {
                    let t_pxq = trigamma(px + q);
                    total.hess[0][0] += w * x * x * (t_pxq - trigamma(px));
                    total.hess[0][1] += w * x * t_pxq;
                    total.hess[1][1] += w * t_pxq;
                }
            }
        }
        // Terms of each (x, m) row, in parallel chunks.
        let rows = data.len();
        let per_row = (0..rows.div_ceil(CHUNK))
            .into_par_iter()
            .map(|chunk| {
                let mut acc = Acc::ZERO;
                for i in chunk * CHUNK..((chunk + 1) * CHUNK).min(rows) {
                    let (w, x, m) = (data.weight[i], data.frequency[i], data.monetary_value[i]);
                    let (px, mx) = (p * x, m * x);
                    let ln_over_mx = (v / mx).ln_1p(); // ln((v + mx)/mx)
                    let ln_over_v = (mx / v).ln_1p(); // ln((v + mx)/v)
                    acc.value += w * (-px * ln_over_mx - q * ln_over_v - m.ln());
                    if want_grad {
                        let inv = 1.0 / (v + mx);
                        acc.grad[0] -= w * x * ln_over_mx;
                        acc.grad[1] -= w * ln_over_v;
                        acc.grad[2] += w * (q / v - (px + q) * inv);
                        if want_hess {
                            acc.hess[0][2] -= w * x * inv;
                            acc.hess[1][2] += w * (1.0 / v - inv);
                            acc.hess[2][2] += w * ((px + q) * inv * inv - q / (v * v));
                        }
                    }
                }
                acc
            })
            .reduce(|| Acc::ZERO, Acc::add);
        let mut total = total.add(per_row);
        if want_hess {
            for i in 0..3 {
                for j in 0..i {
                    total.hess[i][j] = total.hess[j][i];
                }
            }
        }
        total.into_evaluation(derivatives)
    }

    /// Moment-style start: p = 1, q = 2 and v the weighted mean spend, so that
    /// the implied population mean pv/(q−1) equals the observed one.
    fn initial_params(&self, data: &CompressedSpend) -> Vec<f64> {
        let mean = data
            .monetary_value
            .iter()
            .zip(&data.weight)
            .map(|(m, w)| m * w)
            .sum::<f64>()
            / data.total_weight;
        vec![1.0, 2.0, mean.clamp(1e-12, 1e12)]
    }
}

impl crate::models::covariates::CovariateModel for GammaGamma {
    /// The spend process scales each customer's rate ν of transaction values
    /// as νᵢ = ν·exp(−γ_spendᵀzᵢ); since ν ~ Gamma(q, v), that is the note's
    /// γ (here v) scaled as vᵢ = v·exp(γ_spendᵀzᵢ), and a positive
    /// coefficient raises the expected spend p·vᵢ/(q−1).
    const COVARIATE_NAME: &'static str = "GammaGammaCovariates";
    const PROCESSES: &'static [crate::models::covariates::Process] =
        &[crate::models::covariates::Process {
            name: "spend",
            scales: &[(2, 1.0)],
        }];
    const HISTORY: usize = 2;

    fn carries_information(history: &[f64]) -> bool {
        history[0] > 0.0
    }

    fn from_base_unchecked(values: &[f64]) -> Self {
        GammaGamma {
            p: values[0],
            q: values[1],
            v: values[2],
        }
    }

    /// ln f(m_x | x), eq. (1a), of one repeat customer (x, m_x) with the
    /// derivatives [`Model::evaluate`] sums.
    fn customer_term(&self, history: &[f64], order: u8) -> crate::models::covariates::CustomerTerm {
        let mut out = crate::models::covariates::CustomerTerm::ZERO;
        let (x, m) = (history[0], history[1]);
        if x == 0.0 {
            return out;
        }
        let GammaGamma { p, q, v } = *self;
        let (px, mx) = (p * x, m * x);
        out.value = self.individual_log_likelihood(x, m);
        if order == 0 {
            return out;
        }
        let inv = 1.0 / (v + mx);
        let d_pxq = digamma(px + q);
        out.grad[0] = x * (d_pxq - digamma(px) - (v / mx).ln_1p());
        out.grad[1] = d_pxq - digamma(q) - (mx / v).ln_1p();
        out.grad[2] = q / v - (px + q) * inv;
        if order < 2 {
            return out;
        }
        let t_pxq = trigamma(px + q);
        let h = &mut out.hess;
        h[0][0] = x * x * (t_pxq - trigamma(px));
        h[0][1] = x * t_pxq;
        h[0][2] = -x * inv;
        h[1][1] = t_pxq - trigamma(q);
        h[1][2] = 1.0 / v - inv;
        h[2][2] = (px + q) * inv * inv - q / (v * v);
        (h[1][0], h[2][0], h[2][1]) = (h[0][1], h[0][2], h[1][2]);
        out
    }
}

/// E[M | xᵢ, m_xᵢ], eq. (5), for every customer, in parallel.
///
/// Rows with x = 0 get the population mean pv/(q−1) whatever their m_x (which
/// must still be finite); rows with x > 0 need m_x > 0. An error when q ≤ 1.
pub fn conditional_expected_average_profit(
    model: &GammaGamma,
    frequency: &[f64],
    monetary_value: &[f64],
) -> Result<Vec<f64>> {
    validate_spend(frequency, monetary_value, None, None)?;
    model.check_finite_mean()?;
    let values = par_map(frequency.len(), |i| {
        model.expected_profit_unchecked(frequency[i], monetary_value[i])
    });
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(values),
        Some(row) => Err(Error::InvalidData {
            rule:
                "the expected spend at these parameters exceeds the largest double (about 1.8e308)",
            row,
            detail: format!(
                "frequency={}, monetary_value={}, p={:e}, q={:e}, v={:e}",
                frequency[row], monetary_value[row], model.p, model.q, model.v
            ),
            column: None,
            cohort: None,
            period: None,
        }),
    }
}

/// ln f(m_xᵢ | xᵢ), eq. (1a), of every customer; all must have x > 0.
pub fn individual_log_likelihood(
    model: &GammaGamma,
    frequency: &[f64],
    monetary_value: &[f64],
) -> Result<Vec<f64>> {
    validate_spend(frequency, monetary_value, None, Some(ZeroFrequency::Reject))?;
    Ok(par_map(frequency.len(), |i| {
        model.individual_log_likelihood(frequency[i], monetary_value[i])
    }))
}

/// Weighted Pearson correlation between the number of repeat transactions x
/// and their mean value m_x over the repeat customers (x > 0; rows with x = 0
/// are left out). The Gamma-Gamma model assumes the two are independent; a
/// correlation far from 0 argues against it.
///
/// NaN when fewer than two distinct values of x or of m_x remain (the
/// correlation is undefined).
///
/// ```
/// use retentionkit::gamma_gamma::spend_frequency_correlation;
/// let c = spend_frequency_correlation(&[1.0, 2.0, 3.0, 0.0], &[5.0, 7.0, 9.0, 0.0], None)?;
/// assert!((c - 1.0).abs() < 1e-12);
/// # Ok::<(), retentionkit::Error>(())
/// ```
pub fn spend_frequency_correlation(
    frequency: &[f64],
    monetary_value: &[f64],
    weights: Option<&[f64]>,
) -> Result<f64> {
    let data = SpendData::new(frequency, monetary_value, weights, ZeroFrequency::Exclude)?;
    let rows: Vec<usize> = (0..frequency.len())
        .filter(|&i| frequency[i] > 0.0)
        .collect();
    let w = |i: usize| data.weights().map_or(1.0, |w| w[i]);
    let total: f64 = rows.iter().map(|&i| w(i)).sum();
    let mean = |values: &[f64]| rows.iter().map(|&i| w(i) * values[i]).sum::<f64>() / total;
    let (mean_x, mean_m) = (mean(frequency), mean(monetary_value));
    let (mut sxx, mut smm, mut sxm) = (0.0, 0.0, 0.0);
    for &i in &rows {
        let (dx, dm) = (frequency[i] - mean_x, monetary_value[i] - mean_m);
        sxx += w(i) * dx * dx;
        smm += w(i) * dm * dm;
        sxm += w(i) * dx * dm;
    }
    if sxx <= 0.0 || smm <= 0.0 {
        return Ok(f64::NAN);
    }
    Ok((sxm / (sxx.sqrt() * smm.sqrt())).clamp(-1.0, 1.0))
}

/// Simulates the mean spend m_x of customers with the given numbers of repeat
/// transactions x (0 for x = 0): ν ~ Gamma(q, rate v) per customer, each
/// transaction's value ~ Gamma(p, rate ν). Reproducible for a given seed
/// whatever the number of threads.
pub fn simulate_spend(model: &GammaGamma, frequency: &[f64], seed: u64) -> Result<Vec<f64>> {
    check_rows(
        frequency.len(),
        |i| {
            let x = frequency[i];
            (!(x.is_finite() && x >= 0.0 && x.fract() == 0.0))
                .then_some(("frequency must be a non-negative integer", "frequency"))
        },
        |row| format!("frequency={}", frequency[row]),
    )?;
    let mut out = vec![0.0; frequency.len()];
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(c as u64);
            for (k, slot) in chunk.iter_mut().enumerate() {
                *slot = model.simulate_mean(frequency[c * CHUNK + k] as usize, &mut rng);
            }
        });
    Ok(out)
}
