//! Checks of parameter values shared by every model.

use crate::error::{Error, Result};

/// Checks that `values` has one entry per name and that each is positive and
/// finite.
pub(crate) fn check_positive(names: &[&str], values: &[f64]) -> Result<()> {
    if values.len() != names.len() {
        return Err(Error::ParameterCount {
            expected: names.len(),
            found: values.len(),
            names: names.join(", "),
        });
    }
    for (name, &value) in names.iter().zip(values) {
        if !(value > 0.0 && value.is_finite()) {
            return Err(Error::InvalidParameter {
                name: (*name).to_string(),
                value,
                rule: "must be positive and finite",
            });
        }
    }
    Ok(())
}
