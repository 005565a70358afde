//! Bindings of DERT, continuous-discounting CLV and the prediction intervals
//! over parameter uncertainty ([`crate::value::dert`], [`crate::value::intervals`]).

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use super::gamma_gamma::{unit_of, GammaGammaModel};
use super::mbgcnbd::MBGCNBDkModel;
use super::transaction_model::AnyTransactionModel;
use super::{
    detach, detach_array, vec_to_py, BetaGeoModel, GGomNBDModel, ModifiedBetaGeoModel,
    ParetoNBDModel,
};
use crate::fit::Fitted;
use crate::models::gamma_gamma::GammaGamma;
use crate::value::clv::{self, ClvOptions};
use crate::value::dert;
use crate::value::intervals::{self, Discounting, IntervalOptions, Intervals};

/// (estimate, lower, upper).
type Bands<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
);

fn bands(py: Python<'_>, v: Intervals) -> Bands<'_> {
    (
        vec_to_py(py, v.estimate),
        vec_to_py(py, v.lower),
        vec_to_py(py, v.upper),
    )
}

/// Adds DERT and the interval methods to a transaction model's class.
macro_rules! interval_methods {
    ($class:ident) => {
        #[pymethods]
        impl $class {
            /// DERT(delta | x, t_x, T), Fader, Hardie & Lee (2005, JMR).
            #[allow(non_snake_case)]
            fn discounted_expected_residual_transactions<'py>(
                &self,
                py: Python<'py>,
                discount_rate: PyReadonlyArray1<'py, f64>,
                frequency: PyReadonlyArray1<'py, f64>,
                recency: PyReadonlyArray1<'py, f64>,
                T: PyReadonlyArray1<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let [d, x, tx, age] = slices!(discount_rate, frequency, recency, T)?;
                let model = &self.inner.model;
                detach_array(py, || {
                    dert::discounted_expected_residual_transactions(model, d, x, tx, age)
                })
            }

            #[pyo3(signature = (t, frequency, recency, T, level=0.95, n_draws=200, seed=0))]
            #[allow(non_snake_case, clippy::too_many_arguments)]
            fn conditional_expected_number_of_purchases_up_to_time_interval<'py>(
                &self,
                py: Python<'py>,
                t: PyReadonlyArray1<'py, f64>,
                frequency: PyReadonlyArray1<'py, f64>,
                recency: PyReadonlyArray1<'py, f64>,
                T: PyReadonlyArray1<'py, f64>,
                level: f64,
                n_draws: usize,
                seed: u64,
            ) -> PyResult<Bands<'py>> {
                let [h, x, tx, age] = slices!(t, frequency, recency, T)?;
                let options = IntervalOptions {
                    level,
                    n_draws,
                    seed,
                };
                let fitted = &self.inner;
                let out = detach(py, || {
                    intervals::conditional_expected_purchases_interval(
                        fitted, h, x, tx, age, &options,
                    )
                })?;
                Ok(bands(py, out))
            }

            #[pyo3(signature = (frequency, recency, T, level=0.95, n_draws=200, seed=0))]
            #[allow(non_snake_case, clippy::too_many_arguments)]
            fn conditional_probability_alive_interval<'py>(
                &self,
                py: Python<'py>,
                frequency: PyReadonlyArray1<'py, f64>,
                recency: PyReadonlyArray1<'py, f64>,
                T: PyReadonlyArray1<'py, f64>,
                level: f64,
                n_draws: usize,
                seed: u64,
            ) -> PyResult<Bands<'py>> {
                let [x, tx, age] = slices!(frequency, recency, T)?;
                let options = IntervalOptions {
                    level,
                    n_draws,
                    seed,
                };
                let fitted = &self.inner;
                let out = detach(py, || {
                    intervals::probability_alive_interval(fitted, x, tx, age, &options)
                })?;
                Ok(bands(py, out))
            }

            #[pyo3(signature = (
                        discount_rate, frequency, recency, T, level=0.95, n_draws=200, seed=0
                    ))]
            #[allow(non_snake_case, clippy::too_many_arguments)]
            fn discounted_expected_residual_transactions_interval<'py>(
                &self,
                py: Python<'py>,
                discount_rate: PyReadonlyArray1<'py, f64>,
                frequency: PyReadonlyArray1<'py, f64>,
                recency: PyReadonlyArray1<'py, f64>,
                T: PyReadonlyArray1<'py, f64>,
                level: f64,
                n_draws: usize,
                seed: u64,
            ) -> PyResult<Bands<'py>> {
                let [d, x, tx, age] = slices!(discount_rate, frequency, recency, T)?;
                let options = IntervalOptions {
                    level,
                    n_draws,
                    seed,
                };
                let fitted = &self.inner;
                let out = detach(py, || {
                    intervals::dert_interval(fitted, d, x, tx, age, &options)
                })?;
                Ok(bands(py, out))
            }
        }
    };
}

interval_methods!(BetaGeoModel);
interval_methods!(ModifiedBetaGeoModel);
interval_methods!(ParetoNBDModel);
interval_methods!(GGomNBDModel);
interval_methods!(MBGCNBDkModel);

/// The fitted Gamma-Gamma model passed as `spend_model`, borrowed.
fn borrow_spend_model<'a>(model: &'a Bound<'_, PyAny>) -> PyResult<&'a Fitted<GammaGamma>> {
    match model.cast::<GammaGammaModel>() {
        Ok(m) => Ok(&m.get().inner),
        Err(_) => Err(PyTypeError::new_err(format!(
            "the spend model must be a GammaGammaModel, got {}",
            model.get_type().name()?
        ))),
    }
}

/// Value over the whole remaining lifetime at the continuous rate
/// `discount_rate` per time unit: monetary_value x DERT.
#[pyfunction]
#[allow(non_snake_case)]
fn customer_lifetime_value_continuous<'py>(
    py: Python<'py>,
    transaction_model: AnyTransactionModel<'py>,
    frequency: PyReadonlyArray1<'py, f64>,
    recency: PyReadonlyArray1<'py, f64>,
    T: PyReadonlyArray1<'py, f64>,
    monetary_value: PyReadonlyArray1<'py, f64>,
    discount_rate: f64,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let [x, tx, age, m] = slices!(frequency, recency, T, monetary_value)?;
    with_fitted!(transaction_model, fitted => detach_array(py, || {
        clv::customer_lifetime_value_continuous(&fitted.model, x, tx, age, m, discount_rate)
    }))
}

/// CLV with intervals over the uncertainty of both models (independent draws).
/// `discounting` is "discrete" (lifetimes' monthly sum over `time` months) or
/// "continuous" (the whole remaining lifetime; `time` must be None), with the
/// monthly rate `discount_rate` either way.
#[pyfunction]
#[pyo3(signature = (
    transaction_model, spend_model, frequency, recency, T, monetary_value, time=Some(12.0),
    discount_rate=0.01, freq="D", discounting="discrete", level=0.95, n_draws=200, seed=0
), text_signature = "(transaction_model, spend_model, frequency, recency, T, monetary_value, \
    time=12.0, discount_rate=0.01, freq='D', discounting='discrete', level=0.95, n_draws=200, \
    seed=0)")]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn customer_lifetime_value_interval<'py>(
    py: Python<'py>,
    transaction_model: AnyTransactionModel<'py>,
    spend_model: &Bound<'py, PyAny>,
    frequency: PyReadonlyArray1<'py, f64>,
    recency: PyReadonlyArray1<'py, f64>,
    T: PyReadonlyArray1<'py, f64>,
    monetary_value: PyReadonlyArray1<'py, f64>,
    time: Option<f64>,
    discount_rate: f64,
    freq: &str,
    discounting: &str,
    level: f64,
    n_draws: usize,
    seed: u64,
) -> PyResult<Bands<'py>> {
    let spend = borrow_spend_model(spend_model)?;
    let discounting = discounting_of(discounting, time, discount_rate, freq)?;
    let [x, tx, age, m] = slices!(frequency, recency, T, monetary_value)?;
    let options = IntervalOptions {
        level,
        n_draws,
        seed,
    };
    let out = with_fitted!(transaction_model, fitted => detach(py, || {
        intervals::customer_lifetime_value_interval(
            fitted, spend, x, tx, age, m, &discounting, &options,
        )
    }))?;
    Ok(bands(py, out))
}

/// The discounting of a CLV interval: "discrete" (lifetimes' monthly sum over
/// `time` months) or "continuous" (the whole remaining lifetime; `time` must be
/// None), with the monthly rate `discount_rate` either way.
pub(super) fn discounting_of(
    discounting: &str,
    time: Option<f64>,
    discount_rate: f64,
    freq: &str,
) -> PyResult<Discounting> {
    let unit = unit_of(freq)?;
    let monthly = |time: f64| ClvOptions {
        time,
        discount_rate,
        unit,
    };
    let discounting = match (discounting, time) {
        ("discrete", Some(time)) => Discounting::Monthly(monthly(time)),
        ("continuous", None) => Discounting::Continuous(monthly(0.0).continuous_rate()),
        ("discrete", None) => {
            return Err(PyValueError::new_err(
                "discounting='discrete' sums over a horizon: give time in months",
            ))
        }
        ("continuous", Some(_)) => {
            return Err(PyValueError::new_err(
                "discounting='continuous' values the whole remaining lifetime: pass time=None",
            ))
        }
        (other, _) => {
            return Err(PyValueError::new_err(format!(
                "discounting must be 'discrete' or 'continuous', got {other:?}"
            )))
        }
    };
    Ok(discounting)
}

/// Adds the CLV functions of this file to `_core`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(customer_lifetime_value_continuous, m)?)?;
    m.add_function(wrap_pyfunction!(customer_lifetime_value_interval, m)?)?;
    Ok(())
}
