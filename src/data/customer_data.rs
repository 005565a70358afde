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
    /// integer; `T >= 0`; `0 <= recency <= T`; `recency == 0` when
    /// `frequency == 0`; `frequency == 0` when `T == 0`; weights (if given)
    /// finite and non-negative, not all zero; at least one customer with
    /// `T > 0` and positive weight.
    ///
    /// A customer whose first purchase falls at the end of observation has
    /// x = 0, t_x = 0, T = 0: valid, and without information on the
    /// parameters (its likelihood is 1), so a fit leaves it out (see
    /// [`CompressedData`]).
    ///
    /// ```
    /// use retentionkit::CustomerData;
    /// let ok = CustomerData::new(&[0.0, 2.0, 0.0], &[0.0, 5.0, 0.0], &[10.0, 10.0, 0.0], None);
    /// assert_eq!(ok?.compress().new_customers, 1.0);
    /// let bad = CustomerData::new(&[0.0, 2.0], &[0.0, 12.0], &[10.0, 10.0], None);
    /// assert!(bad.unwrap_err().to_string().contains("row: 1"));
    /// # Ok::<(), retentionkit::Error>(())
    /// ```
    pub fn new(
        frequency: &'a [f64],
        recency: &'a [f64],
        age: &'a [f64],
        weights: Option<&'a [f64]>,
    ) -> Result<Self> {
        let data = Self::to_evaluate(frequency, recency, age, weights)?;
        let informative = |i: usize| age[i] > 0.0 && weights.is_none_or(|w| w[i] > 0.0);
        if !(0..frequency.len()).any(informative) {
            return Err(Error::InvalidData {
                rule: "at least one customer must have T > 0: customers first seen at the end of observation (T = 0) carry no information to fit",
                row: 0,
                detail: format!(
                    "none of the {} rows has T > 0 and a positive weight",
                    frequency.len()
                ),
                column: Some("T"),
                cohort: None,
                period: None,
            });
        }
        Ok(data)
    }

    /// As [`CustomerData::new`] without requiring a customer with `T > 0`:
    /// data to evaluate a fitted model's log-likelihood on, where customers
    /// first seen at the end of observation contribute 0, so data holding only
    /// them has log-likelihood 0.
    ///
    /// ```
    /// use retentionkit::CustomerData;
    /// assert!(CustomerData::new(&[0.0], &[0.0], &[0.0], None).is_err());
    /// let new_only = CustomerData::to_evaluate(&[0.0], &[0.0], &[0.0], None)?;
    /// assert_eq!(new_only.compress().new_customers, 1.0);
    /// # Ok::<(), retentionkit::Error>(())
    /// ```
    pub fn to_evaluate(
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

    /// Rows already validated by [`Self::new`] (a subset of them), for
    /// [`CompressedData`].
    pub(super) fn from_validated_parts(
        frequency: &'a [f64],
        recency: &'a [f64],
        age: &'a [f64],
        weights: Option<&'a [f64]>,
    ) -> Self {
        Self {
            frequency,
            recency,
            age,
            weights,
        }
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
