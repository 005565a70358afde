//! Spend data of the Gamma-Gamma model: repeat customers' (x, m_x), validated
//! ([`SpendData`]) and compressed into weighted distinct rows ([`CompressedSpend`]).

use rayon::prelude::*;

use super::validation::{check_length, check_rows, check_weights, first_non_finite, Broken};
use crate::error::{Error, Result};
use crate::models::FitData;

/// What to do with rows of customers without repeat purchases (x = 0), whose
/// mean repeat-transaction value is undefined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZeroFrequency {
    /// Reject them with [`Error::InvalidData`] naming the first such row (default).
    #[default]
    Reject,
    /// Leave them out of the fit (their monetary value is ignored, but must be
    /// finite). `lifetimes` users select `frequency > 0` by hand instead.
    Exclude,
}

/// Repeat customers' (x, m_x) that passed validation.
#[derive(Debug, Clone, Copy)]
pub struct SpendData<'a> {
    frequency: &'a [f64],
    monetary_value: &'a [f64],
    weights: Option<&'a [f64]>,
}

impl<'a> SpendData<'a> {
    /// Validates the number of repeat transactions x and their mean value m_x.
    ///
    /// Rules: equal lengths; all values finite; x a non-negative integer; m_x > 0
    /// when x > 0; weights (if given) finite and non-negative. Rows with x = 0
    /// are an error under [`ZeroFrequency::Reject`] and left out of the fit under
    /// [`ZeroFrequency::Exclude`]; some customer with x > 0 and positive weight
    /// must remain ([`Error::Empty`] otherwise).
    ///
    /// ```
    /// use retentionkit::gamma_gamma::{SpendData, ZeroFrequency};
    /// let err = SpendData::new(&[1.0, 2.0], &[10.0, -3.0], None, ZeroFrequency::Reject);
    /// assert!(err.unwrap_err().to_string().contains("row: 1"));
    /// ```
    pub fn new(
        frequency: &'a [f64],
        monetary_value: &'a [f64],
        weights: Option<&'a [f64]>,
        zero_frequency: ZeroFrequency,
    ) -> Result<Self> {
        validate_spend(frequency, monetary_value, weights, Some(zero_frequency))?;
        let total: f64 = (0..frequency.len())
            .filter(|&i| frequency[i] > 0.0)
            .map(|i| weights.map_or(1.0, |w| w[i]))
            .sum();
        if total <= 0.0 {
            return Err(Error::Empty);
        }
        Ok(Self {
            frequency,
            monetary_value,
            weights,
        })
    }

    /// The row weights, if any.
    pub fn weights(&self) -> Option<&'a [f64]> {
        self.weights
    }

    /// Collapses identical (x, m_x) rows into weighted rows, leaving out rows
    /// with x = 0 or weight 0.
    pub fn compress(&self) -> CompressedSpend {
        let (x, m) = (self.frequency, self.monetary_value);
        let mut keyed: Vec<(u64, u64, f64)> = (0..x.len())
            .into_par_iter()
            .map(|i| {
                (
                    x[i] as u64,
                    m[i].to_bits(),
                    self.weights.map_or(1.0, |w| w[i]),
                )
            })
            .filter(|&(kx, _, w)| kx > 0 && w > 0.0)
            .collect();
        // Positive floats order like their bit patterns.
        keyed.par_sort_unstable_by_key(|&(kx, km, _)| (kx, km));
        let mut out = CompressedSpend::default();
        for &(kx, km, w) in &keyed {
            let xv = kx as f64;
            let same = out.frequency.last() == Some(&xv)
                && out.monetary_value.last().map(|v| v.to_bits()) == Some(km);
            if same {
                *out.weight.last_mut().expect("non-empty") += w;
                continue;
            }
            if out.distinct_x.last() != Some(&xv) {
                out.distinct_x.push(xv);
                out.weight_by_x.push(0.0);
            }
            out.frequency.push(xv);
            out.monetary_value.push(f64::from_bits(km));
            out.weight.push(w);
            out.x_index.push((out.distinct_x.len() - 1) as u32);
        }
        for (&xi, &w) in out.x_index.iter().zip(&out.weight) {
            out.weight_by_x[xi as usize] += w;
        }
        out.total_weight = out.weight.iter().sum();
        out
    }
}

/// Distinct (x, m_x) rows of repeat customers with weights, grouped by x so that
/// terms depending only on x are computed once per distinct x.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompressedSpend {
    /// Number of repeat transactions x (positive) of each distinct row.
    pub frequency: Vec<f64>,
    /// Mean repeat-transaction value m_x (positive) of each distinct row.
    pub monetary_value: Vec<f64>,
    /// Number of customers (or summed weights) with this (x, m_x).
    pub weight: Vec<f64>,
    /// Index of the row's x in `distinct_x`.
    x_index: Vec<u32>,
    /// Distinct values of x, increasing.
    distinct_x: Vec<f64>,
    /// Total weight of the rows with each distinct x.
    weight_by_x: Vec<f64>,
    /// Sum of all weights: the number of repeat customers fitted on.
    pub total_weight: f64,
}

impl CompressedSpend {
    /// For each row, the index of its x in [`Self::distinct_x`].
    pub fn x_index(&self) -> &[u32] {
        &self.x_index
    }

    /// The distinct values of x, increasing.
    pub fn distinct_x(&self) -> &[f64] {
        &self.distinct_x
    }

    /// The total weight of the rows with each distinct x.
    pub fn weight_by_x(&self) -> &[f64] {
        &self.weight_by_x
    }

    /// Number of distinct rows.
    pub fn len(&self) -> usize {
        self.frequency.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.frequency.is_empty()
    }
}

impl FitData for CompressedSpend {
    fn rows(&self) -> usize {
        self.len()
    }

    fn total_weight(&self) -> f64 {
        self.total_weight
    }

    fn subsample(&self, step: usize) -> Self {
        let step = step.max(1);
        let mut out = CompressedSpend {
            distinct_x: self.distinct_x.clone(),
            weight_by_x: vec![0.0; self.distinct_x.len()],
            ..Default::default()
        };
        for i in (0..self.len()).step_by(step) {
            let w = self.weight[i] * step as f64;
            out.frequency.push(self.frequency[i]);
            out.monetary_value.push(self.monetary_value[i]);
            out.weight.push(w);
            out.x_index.push(self.x_index[i]);
            out.weight_by_x[self.x_index[i] as usize] += w;
        }
        out.total_weight = out.weight.iter().sum();
        out
    }
}

/// Checks frequency and monetary value. With `zero = None`, x = 0 is allowed
/// with any finite m (prediction); otherwise as [`SpendData::new`] documents.
pub(crate) fn validate_spend(
    frequency: &[f64],
    monetary_value: &[f64],
    weights: Option<&[f64]>,
    zero: Option<ZeroFrequency>,
) -> Result<()> {
    let n = frequency.len();
    check_length("monetary_value", monetary_value.len(), n)?;
    if let Some(w) = weights {
        check_length("weights", w.len(), n)?;
    }
    let broken = |i: usize| -> Option<Broken> {
        let (x, m) = (frequency[i], monetary_value[i]);
        if !(x.is_finite() && m.is_finite()) {
            Some((
                "frequency and monetary_value must be finite numbers",
                first_non_finite([("frequency", x), ("monetary_value", m)]),
            ))
        } else if x < 0.0 || x.fract() != 0.0 {
            Some(("frequency must be a non-negative integer", "frequency"))
        } else if x == 0.0 && zero == Some(ZeroFrequency::Reject) {
            Some((
                "the Gamma-Gamma model is fitted on repeat customers only: frequency must be \
                 positive (select frequency > 0, or exclude such rows explicitly)",
                "frequency",
            ))
        } else if x > 0.0 && m <= 0.0 {
            Some((
                "monetary_value must be positive for customers with repeat purchases",
                "monetary_value",
            ))
        } else {
            None
        }
    };
    check_rows(n, broken, |row| {
        format!(
            "frequency={}, monetary_value={}",
            frequency[row], monetary_value[row]
        )
    })?;
    check_weights(weights)
}
