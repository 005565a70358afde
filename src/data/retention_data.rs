//! [`RetentionData`]: cohorts' survivor counts or individual subscribers' (duration, churned),
//! validated and compressed into weighted cells, the data of the contractual models.

use std::collections::BTreeMap;

use super::validation::{check_length, check_weights};
use crate::error::{Error, Result};
use crate::models::FitData;

/// Validated contractual data: weighted (duration, churned) cells, sorted by
/// duration then churned, with no zero-weight cell.
///
/// A churned cell with duration t holds customers who left after t periods
/// (T = t, t ≥ 1); a censored cell holds customers still active after t
/// periods (T > t). A censored cell of duration 0 (a cohort of one count)
/// adds customers but nothing to the likelihood.
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionData {
    /// Duration of each cell, a non-negative integer.
    pub duration: Vec<f64>,
    /// Whether the cell's customers churned (else they are still active).
    pub churned: Vec<bool>,
    /// Number of customers in the cell.
    pub weight: Vec<f64>,
    /// Sum of the weights.
    pub total_weight: f64,
}

/// The largest survivor count accepted: 2^53.
const MAX_COUNT: f64 = 9_007_199_254_740_992.0;

impl RetentionData {
    fn from_cells(cells: BTreeMap<(u64, bool), f64>) -> Result<Self> {
        let mut data = RetentionData {
            duration: Vec::with_capacity(cells.len()),
            churned: Vec::with_capacity(cells.len()),
            weight: Vec::with_capacity(cells.len()),
            total_weight: 0.0,
        };
        for ((t, churned), w) in cells {
            if w > 0.0 {
                data.duration.push(t as f64);
                data.churned.push(churned);
                data.weight.push(w);
                data.total_weight += w;
            }
        }
        if data.total_weight > 0.0 {
            Ok(data)
        } else {
            Err(Error::Empty)
        }
    }

    /// One cohort's survivor counts n₀, …, n_k: customers still active at
    /// the start of periods 0..k.
    ///
    /// ```
    /// use retentionkit::contractual::RetentionData;
    /// // FH (2007), regular customers, years 0..3.
    /// let data = RetentionData::from_survivors(&[1000.0, 631.0, 468.0, 382.0])?;
    /// assert_eq!(data.total_weight, 1000.0);
    /// let err = RetentionData::from_survivors(&[1000.0, 631.0, 650.0]).unwrap_err();
    /// assert!(err.to_string().contains("period 2"));
    /// # Ok::<(), retentionkit::Error>(())
    /// ```
    pub fn from_survivors(survivors: &[f64]) -> Result<Self> {
        Self::from_cohorts(&[survivors])
    }

    /// Several cohorts' survivor counts (of any lengths: younger cohorts are
    /// observed for fewer periods).
    ///
    /// Rules, checked in order for each cohort: at least one count; every
    /// count a finite non-negative integer; at most 2^53 (beyond it a double
    /// no longer distinguishes n from n + 1, so the churn counts n_{t−1} − n_t
    /// are rounding noise, and the likelihood's weights swamp its curvature); the first count (the cohort's size)
    /// positive; counts non-increasing. Errors name the rule, the cohort
    /// (zero-based, [`Error::InvalidData`]'s `cohort`) and the period
    /// (reported as the row).
    pub fn from_cohorts<C: AsRef<[f64]>>(cohorts: &[C]) -> Result<Self> {
        if cohorts.is_empty() {
            return Err(Error::Empty);
        }
        let mut cells = BTreeMap::new();
        for (c, cohort) in cohorts.iter().enumerate() {
            let n = cohort.as_ref();
            if n.is_empty() {
                return Err(Error::InvalidData {
                    rule: "each cohort needs at least one survivor count",
                    row: 0,
                    detail: format!("cohort {c} is empty"),
                    column: None,
                    cohort: Some(c),
                    period: None,
                });
            }
            if let Some(t) = n
                .iter()
                .position(|v| !(v.is_finite() && *v >= 0.0 && v.fract() == 0.0))
            {
                return Err(Error::InvalidData {
                    rule: "survivor counts must be non-negative integers",
                    row: t,
                    detail: format!("cohort {c}, period {t}: count {}", n[t]),
                    column: None,
                    cohort: Some(c),
                    period: Some(t),
                });
            }
            if let Some(t) = n.iter().position(|&v| v > MAX_COUNT) {
                return Err(Error::InvalidData {
                    rule: "survivor counts must be at most 2^53 = 9007199254740992, the largest at which double precision still counts single customers",
                    row: t,
                    detail: format!("cohort {c}, period {t}: count {}", n[t]),
                    column: None,
                    cohort: Some(c),
                    period: Some(t),
                });
            }
            if n[0] <= 0.0 {
                return Err(Error::InvalidData {
                    rule: "a cohort must start with a positive number of customers",
                    row: 0,
                    detail: format!("cohort {c}, period 0: count {} (an empty cohort)", n[0]),
                    column: None,
                    cohort: Some(c),
                    period: Some(0),
                });
            }
            if let Some(t) = (1..n.len()).find(|&t| n[t] > n[t - 1]) {
                return Err(Error::InvalidData {
                    rule: "survivor counts must not increase from one period to the next",
                    row: t,
                    detail: format!(
                        "cohort {c}, period {t}: {} customers, more than the {} of period {}",
                        n[t],
                        n[t - 1],
                        t - 1
                    ),
                    column: None,
                    cohort: Some(c),
                    period: Some(t),
                });
            }
            for t in 1..n.len() {
                *cells.entry((t as u64, true)).or_insert(0.0) += n[t - 1] - n[t];
            }
            let k = n.len() - 1;
            *cells.entry((k as u64, false)).or_insert(0.0) += n[k];
        }
        Self::from_cells(cells)
    }

    /// Individual records: `durations` (positive integers: periods paid for
    /// by a churned customer, periods completed by an active one), `churned`
    /// flags and optional `weights` (finite, non-negative, at most 2^53;
    /// customers per record). Errors name the rule and the first offending row.
    ///
    /// ```
    /// use retentionkit::contractual::RetentionData;
    /// let data = RetentionData::from_durations(&[1.0, 3.0, 3.0], &[true, false, false], None)?;
    /// assert_eq!(data.weight, vec![1.0, 2.0]);
    /// assert!(RetentionData::from_durations(&[0.0], &[true], None).is_err());
    /// # Ok::<(), retentionkit::Error>(())
    /// ```
    pub fn from_durations(
        durations: &[f64],
        churned: &[bool],
        weights: Option<&[f64]>,
    ) -> Result<Self> {
        let len = durations.len();
        check_length("churned", churned.len(), len)?;
        if let Some(w) = weights {
            check_length("weights", w.len(), len)?;
        }
        if let Some(row) = durations
            .iter()
            .position(|v| !(v.is_finite() && *v >= 1.0 && v.fract() == 0.0))
        {
            return Err(Error::InvalidData {
                rule: "durations must be positive integers",
                row,
                detail: format!("duration={}", durations[row]),
                column: Some("durations"),
                cohort: None,
                period: None,
            });
        }
        check_weights(weights)?;
        if let Some(row) = weights.and_then(|w| w.iter().position(|&v| v > MAX_COUNT)) {
            return Err(Error::InvalidData {
                rule: "weights must be at most 2^53 = 9007199254740992 customers per record, the largest count double precision still resolves",
                row,
                detail: format!("weight={}", weights.map_or(0.0, |w| w[row])),
                column: Some("weights"),
                cohort: None,
                period: None,
            });
        }
        let mut cells = BTreeMap::new();
        for i in 0..len {
            let w = weights.map_or(1.0, |w| w[i]);
            *cells
                .entry((durations[i] as u64, churned[i]))
                .or_insert(0.0) += w;
        }
        Self::from_cells(cells)
    }

    /// Individual subscribers (issue 15): `periods` (non-negative integers:
    /// periods paid for by a subscriber who churned, renewal opportunities
    /// reached and taken by one still active), `churned` flags and optional
    /// `weights`. As [`Self::from_durations`], except that an active
    /// subscriber may have `periods = 0` (younger than one period: in the
    /// customer count, nothing in the likelihood, since S(0) = 1); a churned
    /// one needs at least one period.
    ///
    /// ```
    /// use retentionkit::contractual::RetentionData;
    /// let data = RetentionData::from_subscribers(&[0.0, 1.0, 3.0], &[false, true, false], None)?;
    /// assert_eq!(data.total_weight, 3.0);
    /// assert!(RetentionData::from_subscribers(&[0.0], &[true], None).is_err());
    /// # Ok::<(), retentionkit::Error>(())
    /// ```
    pub fn from_subscribers(
        periods: &[f64],
        churned: &[bool],
        weights: Option<&[f64]>,
    ) -> Result<Self> {
        check_subscribers(periods, churned)?;
        // Durations of at least 1 for the shared checks; the zeros are put back below.
        let durations: Vec<f64> = periods.iter().map(|&p| p.max(1.0)).collect();
        let data = Self::from_durations(&durations, churned, weights)?;
        if !periods.iter().zip(churned).any(|(&p, &c)| p == 0.0 && !c) {
            return Ok(data);
        }
        let mut cells = BTreeMap::new();
        for i in 0..periods.len() {
            let w = weights.map_or(1.0, |w| w[i]);
            *cells.entry((periods[i] as u64, churned[i])).or_insert(0.0) += w;
        }
        Self::from_cells(cells)
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.weight.len()
    }

    /// Whether there are no cells (never true for validated data).
    pub fn is_empty(&self) -> bool {
        self.weight.is_empty()
    }

    /// Longest duration in the data.
    pub fn max_duration(&self) -> f64 {
        self.duration.iter().copied().fold(0.0, f64::max)
    }

    /// Customers at risk of churning in period 1 and those who did: the
    /// first-period churn rate, a moment estimate of E[θ] = α/(α+β).
    pub(crate) fn first_period_churn(&self) -> f64 {
        let (mut at_risk, mut churned) = (0.0, 0.0);
        for i in 0..self.len() {
            if self.duration[i] >= 1.0 {
                at_risk += self.weight[i];
                if self.churned[i] && self.duration[i] == 1.0 {
                    churned += self.weight[i];
                }
            }
        }
        if at_risk > 0.0 {
            churned / at_risk
        } else {
            0.5
        }
    }
}

/// The rules of [`RetentionData::from_subscribers`] that differ from
/// [`RetentionData::from_durations`]': periods are non-negative integers, and at
/// least 1 for a subscriber who churned.
fn check_subscribers(periods: &[f64], churned: &[bool]) -> Result<()> {
    check_length("churned", churned.len(), periods.len())?;
    if let Some(row) = periods
        .iter()
        .position(|v| !(v.is_finite() && *v >= 0.0 && v.fract() == 0.0))
    {
        return Err(Error::InvalidData {
            rule: "periods must be non-negative integers",
            row,
            detail: format!("periods={}", periods[row]),
            column: Some("periods"),
            cohort: None,
            period: None,
        });
    }
    if let Some(row) = (0..periods.len()).find(|&i| churned[i] && periods[i] == 0.0) {
        return Err(Error::InvalidData {
            rule: "a subscriber who churned has paid for at least one period (periods >= 1)",
            row,
            detail: "periods=0, churned=true".into(),
            column: Some("periods"),
            cohort: None,
            period: None,
        });
    }
    Ok(())
}

impl FitData for RetentionData {
    fn rows(&self) -> usize {
        self.len()
    }

    fn total_weight(&self) -> f64 {
        self.total_weight
    }

    fn subsample(&self, step: usize) -> Self {
        let step = step.max(1);
        let keep: Vec<usize> = (0..self.len()).step_by(step).collect();
        let weight: Vec<f64> = keep.iter().map(|&i| self.weight[i] * step as f64).collect();
        RetentionData {
            duration: keep.iter().map(|&i| self.duration[i]).collect(),
            churned: keep.iter().map(|&i| self.churned[i]).collect(),
            total_weight: weight.iter().sum(),
            weight,
        }
    }
}
