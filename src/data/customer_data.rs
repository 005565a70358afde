//! [`CustomerData`]: validated (x, t_x, T) customer summaries.

use super::validation::validate_summary;
use super::CompressedData;
use crate::error::{Error, Result};

/// Customer summaries that passed validation.
#[derive(Debug, Clone, Copy)]
pub struct CustomerData<'a> {
    frequency: &'a [f64],
    recency: &'a [f64],
    age: &'a [f64],
    weights: Option<&'a [f64]>,
}

impl<'a> CustomerData<'a> {
    /// Validates customer summaries.
    ///
    /// Rules: equal lengths; all values finite; `frequency` a non-negative
    /// integer; `T > 0`; `0 <= recency <= T`; `recency == 0` when
    /// `frequency == 0`; weights (if given) finite and non-negative, not all zero.
    ///
    /// ```
    /// use retentionkit::CustomerData;
    /// let ok = CustomerData::new(&[0.0, 2.0], &[0.0, 5.0], &[10.0, 10.0], None);
    /// assert!(ok.is_ok());
    /// let bad = CustomerData::new(&[0.0, 2.0], &[0.0, 12.0], &[10.0, 10.0], None);
    /// assert!(bad.unwrap_err().to_string().contains("row: 1"));
    /// ```
    pub fn new(
        frequency: &'a [f64],
        recency: &'a [f64],
        age: &'a [f64],
        weights: Option<&'a [f64]>,
    ) -> Result<Self> {
        validate_summary(frequency, recency, age, weights)?;
        let total: f64 = weights.map_or(frequency.len() as f64, |w| w.iter().sum());
        if frequency.is_empty() || total <= 0.0 {
            return Err(Error::Empty);
        }
        Ok(Self {
            frequency,
            recency,
            age,
            weights,
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.frequency.len()
    }

    /// Whether there are no rows (never true for validated data).
    pub fn is_empty(&self) -> bool {
        self.frequency.is_empty()
    }

    /// Repeat-purchase counts x.
    pub fn frequency(&self) -> &'a [f64] {
        self.frequency
    }

    /// Recencies t_x.
    pub fn recency(&self) -> &'a [f64] {
        self.recency
    }

    /// Ages T at the end of observation.
    pub fn age(&self) -> &'a [f64] {
        self.age
    }

    /// Optional row weights.
    pub fn weights(&self) -> Option<&'a [f64]> {
        self.weights
    }

    /// Collapses identical rows into weighted rows (see [`CompressedData`]).
    pub fn compress(&self) -> CompressedData {
        CompressedData::from_validated(self)
    }
}
