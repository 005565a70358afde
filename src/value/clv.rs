//! Customer lifetime value: discounted expected future spend, as `lifetimes`
//! computes it.
//!
//! This reproduces `lifetimes.utils._customer_lifetime_value` (lifetimes
//! 0.11.3), which `GammaGammaFitter.customer_lifetime_value` calls with the
//! Gamma-Gamma conditional expected spend as the monetary value. With f the
//! number of data time units per month (the `freq` argument: 30 for days,
//! 4.345 for weeks, 1 for months, 720 for hours), the value of a customer over
//! `time` months is
//!
//! CLV = Σ_{k=1}^{K} m · (E[Y(k f) | x, t_x, T] − E[Y((k−1) f) | x, t_x, T]) / (1 + d)^k,
//!
//! where E[Y(t) | ·] are the transaction model's conditional expected
//! purchases, m the expected spend per transaction and d the monthly discount
//! rate: purchases of month k are discounted by k whole months. Like lifetimes
//! (which steps over `numpy.arange(1, time + 1)`), K = ⌈time⌉, so a fractional
//! last month counts as a whole one.
//!
//! **Continuous discounting** ([`customer_lifetime_value_continuous`]): over
//! the customer's whole remaining lifetime, with each purchase discounted
//! continuously at rate δ per time unit from T, as in Fader, Hardie & Lee
//! (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis",
//! JMR 42(4):
//!
//! CLV = m · DERT(δ | x, t_x, T),
//!
//! with DERT the discounted expected residual transactions ([`crate::value::dert`]).
//! [`ClvOptions::continuous_rate`] gives the δ equivalent to a monthly rate d,
//! δ = ln(1 + d)/f, so that e^{−δt} = (1 + d)^{−t/f}: the two methods then
//! discount a purchase at the same instant alike, and differ in that the
//! discrete one rounds purchase times up to whole months and stops at the
//! horizon.
//!
//! ```
//! use retentionkit::clv::{customer_lifetime_value, ClvOptions, TimeUnit};
//! use retentionkit::BetaGeo;
//!
//! let model = BetaGeo::new(0.243, 4.414, 0.793, 2.426)?; // weeks
//! let options = ClvOptions { time: 12.0, discount_rate: 0.01, unit: TimeUnit::Week };
//! let clv = customer_lifetime_value(
//!     &model, &[2.0, 0.0], &[30.43, 0.0], &[38.86, 38.86], &[24.66, 35.17], &options,
//! )?;
//! assert!(clv[0] > clv[1]);
//! # Ok::<(), retentionkit::Error>(())
//! ```

use rayon::prelude::*;

use crate::data::{all_valid, validate_prediction_inputs};
use crate::error::{Error, Result};
use crate::models::TransactionModel;

/// The time unit of the data a transaction model was fitted on, with the
/// number of units per month `lifetimes` assumes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeUnit {
    /// Hours: 720 per month (`freq="H"`).
    Hour,
    /// Days: 30 per month (`freq="D"`, lifetimes' default).
    Day,
    /// Weeks: 4.345 per month (`freq="W"`).
    Week,
    /// Months (`freq="M"`).
    Month,
    /// Any other unit, given as the number of units per month.
    PerMonth(f64),
}

impl TimeUnit {
    /// Units per month, as in lifetimes' `factor` table.
    pub fn periods_per_month(self) -> f64 {
        match self {
            TimeUnit::Hour => 30.0 * 24.0,
            TimeUnit::Day => 30.0,
            TimeUnit::Week => 4.345,
            TimeUnit::Month => 1.0,
            TimeUnit::PerMonth(f) => f,
        }
    }

    /// The unit of a lifetimes `freq` code: `"H"`, `"D"`, `"W"` or `"M"`.
    ///
    /// ```
    /// use retentionkit::clv::TimeUnit;
    /// assert_eq!(TimeUnit::from_code("W"), Some(TimeUnit::Week));
    /// assert_eq!(TimeUnit::from_code("Y"), None);
    /// ```
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "H" => Some(TimeUnit::Hour),
            "D" => Some(TimeUnit::Day),
            "W" => Some(TimeUnit::Week),
            "M" => Some(TimeUnit::Month),
            _ => None,
        }
    }
}

/// Options of [`customer_lifetime_value`]; the defaults are lifetimes'.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClvOptions {
    /// Horizon in months (lifetimes' `time`, default 12); ⌈time⌉ months are summed.
    pub time: f64,
    /// Monthly discount rate d (default 0.01); must exceed −1.
    pub discount_rate: f64,
    /// Time unit of the model and the histories (default days).
    pub unit: TimeUnit,
}

impl Default for ClvOptions {
    fn default() -> Self {
        Self {
            time: 12.0,
            discount_rate: 0.01,
            unit: TimeUnit::Day,
        }
    }
}

impl ClvOptions {
    /// The continuous discount rate per time unit equivalent to the monthly
    /// rate: δ = ln(1 + d)/f with f the time units per month.
    ///
    /// ```
    /// use retentionkit::clv::{ClvOptions, TimeUnit};
    /// let options = ClvOptions { discount_rate: 0.01, unit: TimeUnit::Month, ..ClvOptions::default() };
    /// assert!((options.continuous_rate() - 1.01f64.ln()).abs() < 1e-15);
    /// ```
    pub fn continuous_rate(&self) -> f64 {
        self.discount_rate.ln_1p() / self.unit.periods_per_month()
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if !(self.time.is_finite() && self.time >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "time".into(),
                value: self.time,
                rule: "the horizon in months must be finite and non-negative",
            });
        }
        if !(self.discount_rate.is_finite() && self.discount_rate > -1.0) {
            return Err(Error::InvalidParameter {
                name: "discount_rate".into(),
                value: self.discount_rate,
                rule: "must be finite and greater than -1",
            });
        }
        let f = self.unit.periods_per_month();
        if !(f.is_finite() && f > 0.0) {
            return Err(Error::InvalidParameter {
                name: "periods_per_month".into(),
                value: f,
                rule: "must be positive and finite",
            });
        }
        Ok(())
    }

    /// Number of monthly steps: the length of `numpy.arange(1, time + 1)`.
    fn steps(&self) -> usize {
        ((self.time + 1.0) - 1.0).ceil() as usize
    }
}

/// Discounted expected spend of each customer over the next `options.time`
/// months (see the module documentation for the formula), for any
/// [`TransactionModel`].
///
/// `monetary_value` is the expected value of each future transaction, usually
/// [`crate::models::gamma_gamma::conditional_expected_average_profit`]; the result is
/// linear in it. The histories are validated like every prediction's; the
/// monetary values must be finite. The discounted monthly increments of
/// expected purchases come from the model's
/// [`TransactionModel::discounted_purchases_batch`], in parallel.
pub fn customer_lifetime_value<M: TransactionModel>(
    model: &M,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    monetary_value: &[f64],
    options: &ClvOptions,
) -> Result<Vec<f64>> {
    validate_prediction_inputs(frequency, recency, age)?;
    let n = frequency.len();
    check_monetary(monetary_value, n)?;
    options.validate()?;
    let factor = options.unit.periods_per_month();
    // As lifetimes: month k ends at i = k f time units and is discounted by
    // (1 + d)^(i / f). lifetimes evaluates E[Y] afresh at k f − f for the start
    // of each month; using the value at (k − 1) f differs by at most an ulp in
    // the horizon.
    let horizons: Vec<f64> = (1..=options.steps()).map(|k| k as f64 * factor).collect();
    let discounts: Vec<f64> = horizons
        .iter()
        .map(|i| 1.0 / (1.0 + options.discount_rate).powf(i / factor))
        .collect();
    let mut clv = model.discounted_purchases_batch(&horizons, &discounts, frequency, recency, age);
    clv.par_iter_mut()
        .zip(monetary_value.par_iter())
        .for_each(|(value, m)| *value *= m);
    Ok(clv)
}

fn check_monetary(monetary_value: &[f64], n: usize) -> Result<()> {
    if monetary_value.len() != n {
        return Err(Error::LengthMismatch {
            name: "monetary_value",
            found: monetary_value.len(),
            expected: n,
        });
    }
    if all_valid(monetary_value, f64::is_finite) {
        return Ok(());
    }
    if let Some(row) = (0..n)
        .into_par_iter()
        .find_first(|&i| !monetary_value[i].is_finite())
    {
        return Err(Error::InvalidData {
            rule: "monetary_value must be a finite number",
            row,
            detail: format!("monetary_value={}", monetary_value[row]),
            column: Some("monetary_value"),
            cohort: None,
            period: None,
        });
    }
    Ok(())
}

/// Value of each customer's whole remaining lifetime under continuous
/// discounting: mᵢ · DERT(δ | xᵢ, t_xᵢ, Tᵢ) (see the module documentation).
///
/// `discount_rate` is δ per time unit of the data and must be positive
/// ([`ClvOptions::continuous_rate`] converts a monthly rate); `monetary_value`
/// is the expected value of each future transaction, as for
/// [`customer_lifetime_value`]. DERT is the model's
/// [`TransactionModel::discounted_expected_residual_transactions`]: closed form
/// for the Pareto/NBD, a one-dimensional integral for the BG/NBD family.
///
/// ```
/// use retentionkit::clv::customer_lifetime_value_continuous;
/// use retentionkit::ParetoNBD;
///
/// let model = ParetoNBD::new(0.553, 10.578, 0.606, 11.669)?; // weeks
/// let delta = 1.15f64.ln() / 52.0; // 15% a year
/// let clv = customer_lifetime_value_continuous(
///     &model, &[2.0, 0.0], &[30.43, 0.0], &[38.86, 38.86], &[24.66, 35.17], delta,
/// )?;
/// assert!((clv[0] - 24.66 * 6.501_730_537_564).abs() < 1e-6);
/// # Ok::<(), retentionkit::Error>(())
/// ```
pub fn customer_lifetime_value_continuous<M: TransactionModel>(
    model: &M,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    monetary_value: &[f64],
    discount_rate: f64,
) -> Result<Vec<f64>> {
    if !(discount_rate.is_finite() && discount_rate > 0.0) {
        return Err(Error::InvalidParameter {
            name: "discount_rate".into(),
            value: discount_rate,
            rule: "the continuous discount rate must be positive and finite",
        });
    }
    let n = frequency.len();
    check_monetary(monetary_value, n)?;
    let mut value = crate::value::dert::discounted_expected_residual_transactions(
        model,
        &vec![discount_rate; n],
        frequency,
        recency,
        age,
    )?;
    value
        .par_iter_mut()
        .zip(monetary_value.par_iter())
        .for_each(|(v, m)| *v *= m);
    Ok(value)
}
