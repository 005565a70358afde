//! How a model describes its parameters at run time, and the checks of
//! parameter values shared by every model.
//!
//! Each model instance lists its parameters as [`ParamSpec`]s: a name and the
//! [`Transform`] that maps the parameter's domain onto the real line. The
//! fitter optimises the unconstrained values θ and maps them back with
//! φ = φ(θ); the derivatives dφ/dθ and d²φ/dθ² carry the model's gradient and
//! Hessian over by the chain rule, and the delta method carries the
//! covariance of the estimates the other way. Because the list belongs to the
//! instance, its length may depend on the data (one coefficient per
//! covariate column, say).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::special::logistic;

/// The map from a parameter's domain to the real line that the optimiser
/// works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Transform {
    /// A positive parameter: θ = ln φ, φ = e^θ.
    Log,
    /// A real-valued parameter (a regression coefficient): θ = φ.
    Identity,
    /// A probability in (0, 1): θ = ln(φ / (1 − φ)), φ = 1 / (1 + e^{−θ}).
    Logit,
}

impl Transform {
    /// θ(φ): the unconstrained value of a natural-scale value.
    ///
    /// ```
    /// use retentionkit::models::params::Transform;
    /// assert_eq!(Transform::Log.to_unconstrained(1.0), 0.0);
    /// assert_eq!(Transform::Logit.to_unconstrained(0.5), 0.0);
    /// assert_eq!(Transform::Identity.to_unconstrained(-2.0), -2.0);
    /// ```
    pub fn to_unconstrained(self, natural: f64) -> f64 {
        match self {
            Transform::Log => natural.ln(),
            Transform::Identity => natural,
            Transform::Logit => (natural / (1.0 - natural)).ln(),
        }
    }

    /// φ(θ): the natural-scale value of an unconstrained value.
    pub fn from_unconstrained(self, theta: f64) -> f64 {
        match self {
            Transform::Log => theta.exp(),
            Transform::Identity => theta,
            Transform::Logit => logistic(theta),
        }
    }

    /// dφ/dθ at θ.
    pub fn derivative(self, theta: f64) -> f64 {
        match self {
            Transform::Log => theta.exp(),
            Transform::Identity => 1.0,
            Transform::Logit => {
                let p = logistic(theta);
                p * (1.0 - p)
            }
        }
    }

    /// d²φ/dθ² at θ.
    pub fn second_derivative(self, theta: f64) -> f64 {
        match self {
            Transform::Log => theta.exp(),
            Transform::Identity => 0.0,
            Transform::Logit => {
                let p = logistic(theta);
                p * (1.0 - p) * (1.0 - 2.0 * p)
            }
        }
    }

    /// dφ/dθ written as a function of φ (φ, 1 or φ(1 − φ)): the factor by
    /// which the delta method divides a natural-scale standard error to get
    /// the unconstrained one.
    pub fn derivative_at_natural(self, natural: f64) -> f64 {
        match self {
            Transform::Log => natural,
            Transform::Identity => 1.0,
            Transform::Logit => natural * (1.0 - natural),
        }
    }

    /// φ(θ(φ) + δ): the natural value moved by δ on the unconstrained scale
    /// (φ e^δ for [`Transform::Log`]).
    pub fn shift(self, natural: f64, delta: f64) -> f64 {
        match self {
            Transform::Log => natural * delta.exp(),
            Transform::Identity => natural + delta,
            Transform::Logit => logistic(self.to_unconstrained(natural) + delta),
        }
    }

    /// φ(θ)², as the L2 penalty needs it (e^{2θ} for [`Transform::Log`]).
    pub fn natural_squared(self, theta: f64) -> f64 {
        match self {
            Transform::Log => (2.0 * theta).exp(),
            _ => {
                let phi = self.from_unconstrained(theta);
                phi * phi
            }
        }
    }

    /// Whether `natural` lies in the domain, and the rule it breaks if not.
    fn check(self, natural: f64) -> std::result::Result<(), &'static str> {
        let ok = match self {
            Transform::Log => natural > 0.0 && natural.is_finite(),
            Transform::Identity => natural.is_finite(),
            Transform::Logit => natural > 0.0 && natural < 1.0,
        };
        if ok {
            Ok(())
        } else {
            Err(match self {
                Transform::Log => "must be positive and finite",
                Transform::Identity => "must be finite",
                Transform::Logit => "must lie strictly between 0 and 1",
            })
        }
    }
}

/// One parameter of a model instance: its name and its domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParamSpec {
    /// The name, e.g. `"alpha"` or `"purchase:age"`.
    pub name: Cow<'static, str>,
    /// The map of its domain onto the real line.
    pub transform: Transform,
}

impl ParamSpec {
    /// A positive parameter.
    pub fn positive(name: impl Into<Cow<'static, str>>) -> Self {
        Self {
            name: name.into(),
            transform: Transform::Log,
        }
    }

    /// A real-valued parameter (a regression coefficient).
    pub fn real(name: impl Into<Cow<'static, str>>) -> Self {
        Self {
            name: name.into(),
            transform: Transform::Identity,
        }
    }

    /// A probability in (0, 1).
    pub fn probability(name: impl Into<Cow<'static, str>>) -> Self {
        Self {
            name: name.into(),
            transform: Transform::Logit,
        }
    }

    /// Specs of positive parameters with these fixed names, the parameter
    /// list of every model without covariates.
    pub fn all_positive(names: &'static [&'static str]) -> Vec<Self> {
        names.iter().map(|&n| Self::positive(n)).collect()
    }
}

/// Checks that `values` has one entry per spec and that each lies in its
/// spec's domain.
pub fn check_params(specs: &[ParamSpec], values: &[f64]) -> Result<()> {
    if values.len() != specs.len() {
        return Err(Error::ParameterCount {
            expected: specs.len(),
            found: values.len(),
            names: specs
                .iter()
                .map(|s| s.name.as_ref())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    for (spec, &value) in specs.iter().zip(values) {
        if let Err(rule) = spec.transform.check(value) {
            return Err(Error::InvalidParameter {
                name: spec.name.to_string(),
                value,
                rule,
            });
        }
    }
    Ok(())
}

/// Checks that `values` has one entry per name and that each is positive and
/// finite.
pub(crate) fn check_positive(names: &'static [&'static str], values: &[f64]) -> Result<()> {
    check_params(&ParamSpec::all_positive(names), values)
}

/// The values of the named parameters, in the order of `names`, from a map of
/// saved (name, value) pairs such as a JSON file's `params`.
pub fn lookup_named<'a>(
    names: impl IntoIterator<Item = &'a str>,
    params: &BTreeMap<String, f64>,
) -> Result<Vec<f64>> {
    names
        .into_iter()
        .map(|n| {
            params.get(n).copied().ok_or_else(|| {
                Error::Serialization(format!("parameter {n} is missing or not a number"))
            })
        })
        .collect()
}

/// The parameter-list items of [`crate::models::Model`] for a model without
/// covariates, whose parameters are the positive ones named by its inherent
/// `PARAM_NAMES` and which its inherent `from_slice` builds.
macro_rules! fixed_positive_params {
    () => {
        fn param_specs(&self) -> Vec<$crate::models::params::ParamSpec> {
            $crate::models::params::ParamSpec::all_positive(Self::PARAM_NAMES)
        }

        fn with_params(&self, values: &[f64]) -> $crate::error::Result<Self> {
            Self::from_slice(values)
        }

        fn template(_data: &Self::Data) -> Self {
            Self::from_slice(&vec![1.0; Self::PARAM_NAMES.len()]).expect("ones are valid")
        }

        fn from_named_params(
            params: &std::collections::BTreeMap<String, f64>,
        ) -> $crate::error::Result<Self> {
            Self::from_slice(&$crate::models::params::lookup_named(
                Self::PARAM_NAMES.iter().copied(),
                params,
            )?)
        }
    };
}
pub(crate) use fixed_positive_params;

#[cfg(test)]
mod tests {
    use super::*;

    /// The derivatives agree with central differences of φ(θ), and the
    /// transforms invert each other.
    #[test]
    fn transforms_are_consistent() {
        for t in [Transform::Log, Transform::Identity, Transform::Logit] {
            for theta in [-2.0, -0.3, 0.0, 0.7, 1.9] {
                let h = 1e-5;
                let fd1 =
                    (t.from_unconstrained(theta + h) - t.from_unconstrained(theta - h)) / (2.0 * h);
                let fd2 = (t.derivative(theta + h) - t.derivative(theta - h)) / (2.0 * h);
                assert!(
                    (fd1 - t.derivative(theta)).abs() < 1e-8,
                    "{t:?} first at {theta}"
                );
                assert!(
                    (fd2 - t.second_derivative(theta)).abs() < 1e-8,
                    "{t:?} second at {theta}"
                );
                let phi = t.from_unconstrained(theta);
                assert!((t.to_unconstrained(phi) - theta).abs() < 1e-12);
                assert!((t.derivative_at_natural(phi) - t.derivative(theta)).abs() < 1e-12);
                assert!((t.shift(phi, 0.25) - t.from_unconstrained(theta + 0.25)).abs() < 1e-12);
                assert!((t.natural_squared(theta) - phi * phi).abs() < 1e-12 * phi * phi + 1e-300);
            }
        }
    }

    #[test]
    fn domains_are_checked() {
        let specs = vec![
            ParamSpec::positive("r"),
            ParamSpec::real("purchase:age"),
            ParamSpec::probability("p"),
        ];
        assert!(check_params(&specs, &[1.0, -3.0, 0.5]).is_ok());
        assert!(check_params(&specs, &[0.0, -3.0, 0.5]).is_err());
        assert!(check_params(&specs, &[1.0, f64::NAN, 0.5]).is_err());
        assert!(check_params(&specs, &[1.0, 0.0, 1.0]).is_err());
        assert!(matches!(
            check_params(&specs, &[1.0]),
            Err(Error::ParameterCount { expected: 3, .. })
        ));
    }
}
