//! Bindings of the Gamma-Gamma spend model and of customer lifetime value.

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::transaction_model::AnyTransactionModel;
use super::{detach, detach_array, fit_options, optional_slice, slice, PyErrWrap};
use crate::data::{SpendData, ZeroFrequency};
use crate::fit::{fit, Fitted};
use crate::models::gamma_gamma::{self, GammaGamma};
use crate::value::clv::{self, ClvOptions, TimeUnit};

model_class!(
    GammaGammaModel,
    GammaGamma,
    "Gamma-Gamma spend model (Fader & Hardie 2013; Colombo & Jiang 1999) with parameters (p, q, v)."
);

#[pymethods]
impl GammaGammaModel {
    #[staticmethod]
    #[pyo3(signature = (
        frequency, monetary_value, weights=None, penalizer_coef=0.0, initial_params=None,
        tol=1e-8, max_iterations=200, verbose=false, exclude_zero_frequency=false
    ))]
    #[allow(clippy::too_many_arguments)]
    fn fit(
        py: Python<'_>,
        frequency: PyReadonlyArray1<'_, f64>,
        monetary_value: PyReadonlyArray1<'_, f64>,
        weights: Option<PyReadonlyArray1<'_, f64>>,
        penalizer_coef: f64,
        initial_params: Option<Vec<f64>>,
        tol: f64,
        max_iterations: usize,
        verbose: bool,
        exclude_zero_frequency: bool,
    ) -> PyResult<Self> {
        let [x, m] = slices!(frequency, monetary_value)?;
        let w = optional_slice("weights", &weights)?;
        let zero = if exclude_zero_frequency {
            ZeroFrequency::Exclude
        } else {
            ZeroFrequency::Reject
        };
        let options = fit_options(penalizer_coef, initial_params, tol, max_iterations, verbose);
        let inner = detach(py, || {
            let data = SpendData::new(x, m, w, zero)?.compress();
            fit::<GammaGamma>(&data, &options)
        })?;
        Ok(Self { inner })
    }

    /// ln f(m_x | x) of each customer, Fader & Hardie (2013) eq. (1a).
    fn individual_log_likelihood<'py>(
        &self,
        py: Python<'py>,
        frequency: PyReadonlyArray1<'py, f64>,
        monetary_value: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let [x, m] = slices!(frequency, monetary_value)?;
        let model = &self.inner.model;
        detach_array(py, || gamma_gamma::individual_log_likelihood(model, x, m))
    }

    /// E[M | x, m_x], Fader & Hardie (2013) eq. (5).
    fn conditional_expected_average_profit<'py>(
        &self,
        py: Python<'py>,
        frequency: PyReadonlyArray1<'py, f64>,
        monetary_value: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let [x, m] = slices!(frequency, monetary_value)?;
        let model = &self.inner.model;
        detach_array(py, || {
            gamma_gamma::conditional_expected_average_profit(model, x, m)
        })
    }

    /// E[M] = p v / (q - 1), Fader & Hardie (2013) eq. (4).
    fn expected_average_profit(&self) -> PyResult<f64> {
        Ok(self
            .inner
            .model
            .expected_average_profit()
            .map_err(PyErrWrap)?)
    }

    /// Mean spend of customers with the given numbers of repeat transactions.
    fn simulate_spend<'py>(
        &self,
        py: Python<'py>,
        frequency: PyReadonlyArray1<'py, f64>,
        seed: u64,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let x = slice("frequency", &frequency)?;
        let model = &self.inner.model;
        detach_array(py, || gamma_gamma::simulate_spend(model, x, seed))
    }
}

/// Discounted expected spend over `time` months, as lifetimes'
/// `_customer_lifetime_value`, for a BG/NBD, MBG/NBD or Pareto/NBD model.
#[pyfunction]
#[pyo3(signature = (
    transaction_model, frequency, recency, T, monetary_value, time=12.0, discount_rate=0.01,
    freq="D"
))]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn customer_lifetime_value<'py>(
    py: Python<'py>,
    transaction_model: AnyTransactionModel<'py>,
    frequency: PyReadonlyArray1<'py, f64>,
    recency: PyReadonlyArray1<'py, f64>,
    T: PyReadonlyArray1<'py, f64>,
    monetary_value: PyReadonlyArray1<'py, f64>,
    time: f64,
    discount_rate: f64,
    freq: &str,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let options = ClvOptions {
        time,
        discount_rate,
        unit: unit_of(freq)?,
    };
    let [x, tx, t, m] = slices!(frequency, recency, T, monetary_value)?;
    with_fitted!(transaction_model, fitted => detach_array(py, || {
        clv::customer_lifetime_value(&fitted.model, x, tx, t, m, &options)
    }))
}

/// The time unit of a pandas-style frequency code.
pub(crate) fn unit_of(freq: &str) -> PyResult<TimeUnit> {
    TimeUnit::from_code(freq).ok_or_else(|| {
        PyValueError::new_err(format!(
            "freq must be one of 'H', 'D', 'W', 'M' (the time unit of the data), got '{freq}'"
        ))
    })
}

/// Time units per month of the `freq` code (`lifetimes`' factor table), the
/// one the CLV uses.
#[pyfunction]
fn periods_per_month(freq: &str) -> PyResult<f64> {
    Ok(unit_of(freq)?.periods_per_month())
}

/// Weighted Pearson correlation of frequency and spend over the repeat customers.
#[pyfunction]
#[pyo3(signature = (frequency, monetary_value, weights=None))]
fn spend_frequency_correlation(
    py: Python<'_>,
    frequency: PyReadonlyArray1<'_, f64>,
    monetary_value: PyReadonlyArray1<'_, f64>,
    weights: Option<PyReadonlyArray1<'_, f64>>,
) -> PyResult<f64> {
    let [x, m] = slices!(frequency, monetary_value)?;
    let w = optional_slice("weights", &weights)?;
    detach(py, || gamma_gamma::spend_frequency_correlation(x, m, w))
}

/// Adds the Gamma-Gamma class and the CLV functions to `_core`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<GammaGammaModel>()?;
    m.add_function(wrap_pyfunction!(customer_lifetime_value, m)?)?;
    m.add_function(wrap_pyfunction!(spend_frequency_correlation, m)?)?;
    m.add_function(wrap_pyfunction!(periods_per_month, m)?)?;
    Ok(())
}
