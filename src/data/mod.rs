//! Validated customer summaries and their compressed form.
//!
//! A customer is summarised by `frequency` x (number of repeat purchases),
//! `recency` t_x (age at the last purchase, 0 when x = 0) and `T` (age at the end
//! of observation). [`CustomerData::new`] checks every row once; the hot loops of
//! the models never re-check. [`CompressedData`] collapses identical
//! (x, t_x, T) rows into one weighted row, so the cost of a fit grows with the
//! number of distinct histories, not customers, and groups rows by x so that
//! terms depending only on x are computed once per distinct x.

#[cfg(feature = "arrow")]
pub mod arrow_c;
#[cfg(feature = "arrow")]
pub mod arrow_summary;
mod compressed_data;
mod customer_data;
mod factorize;
mod retention_data;
pub(crate) mod spend_data;
pub mod transaction_summary;
pub(crate) mod validation;

pub use compressed_data::CompressedData;
pub use customer_data::CustomerData;
pub use factorize::factorize_sorted;
pub use retention_data::RetentionData;
pub use spend_data::{CompressedSpend, SpendData, ZeroFrequency};
pub(crate) use validation::{
    all_valid, check_length, check_rows, check_weights, first_non_finite,
    validate_prediction_inputs, validate_summary, Broken,
};
