//! Bindings of the Gamma-Gamma spend model and of customer lifetime value.

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use super::{
    slice, vec_to_py, BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel, PyErrWrap, PyResultWrap,
};
use crate::data::{SpendData, ZeroFrequency};
use crate::fit::{fit, FitOptions, Fitted};
use crate::models::gamma_gamma::{self, GammaGamma};
use crate::models::{Model, TransactionModel};
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
        let (x, m) = (
            slice("frequency", &frequency)?,
            slice("monetary_value", &monetary_value)?,
        );
        let w = match &weights {
            Some(w) => Some(slice("weights", w)?),
            None => None,
        };
        let zero = if exclude_zero_frequency {
            ZeroFrequency::Exclude
        } else {
            ZeroFrequency::Reject
        };
        let options = FitOptions {
            penalizer_coef,
            initial_params,
            tol,
            max_iterations,
            verbose,
            ..FitOptions::default()
        };
        let inner = py.detach(|| -> PyResultWrap<Fitted<GammaGamma>> {
            let data = SpendData::new(x, m, w, zero)?.compress();
            Ok(fit::<GammaGamma>(&data, &options)?)
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
        let (x, m) = (
            slice("frequency", &frequency)?,
            slice("monetary_value", &monetary_value)?,
        );
        let model = &self.inner.model;
        let out = py
            .detach(|| gamma_gamma::individual_log_likelihood(model, x, m))
            .map_err(PyErrWrap)?;
        Ok(vec_to_py(py, out))
    }

    /// E[M | x, m_x], Fader & Hardie (2013) eq. (5).
    fn conditional_expected_average_profit<'py>(
        &self,
        py: Python<'py>,
        frequency: PyReadonlyArray1<'py, f64>,
        monetary_value: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let (x, m) = (
            slice("frequency", &frequency)?,
            slice("monetary_value", &monetary_value)?,
        );
        let model = &self.inner.model;
        let out = py
            .detach(|| gamma_gamma::conditional_expected_average_profit(model, x, m))
            .map_err(PyErrWrap)?;
        Ok(vec_to_py(py, out))
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
        let out = py
            .detach(|| gamma_gamma::simulate_spend(model, x, seed))
            .map_err(PyErrWrap)?;
        Ok(vec_to_py(py, out))
    }
}

fn clv_with<M: TransactionModel>(
    py: Python<'_>,
    model: &M,
    columns: [&[f64]; 4],
    options: &ClvOptions,
) -> PyResult<Vec<f64>> {
    let [x, tx, t, m] = columns;
    Ok(py
        .detach(|| clv::customer_lifetime_value(model, x, tx, t, m, options))
        .map_err(PyErrWrap)?)
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
    transaction_model: &Bound<'py, PyAny>,
    frequency: PyReadonlyArray1<'py, f64>,
    recency: PyReadonlyArray1<'py, f64>,
    T: PyReadonlyArray1<'py, f64>,
    monetary_value: PyReadonlyArray1<'py, f64>,
    time: f64,
    discount_rate: f64,
    freq: &str,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let unit = TimeUnit::from_code(freq).ok_or_else(|| {
        PyValueError::new_err(format!(
            "freq must be one of 'H', 'D', 'W', 'M' (the time unit of the data), got {freq:?}"
        ))
    })?;
    let options = ClvOptions {
        time,
        discount_rate,
        unit,
    };
    let columns = [
        slice("frequency", &frequency)?,
        slice("recency", &recency)?,
        slice("T", &T)?,
        slice("monetary_value", &monetary_value)?,
    ];
    let out = if let Ok(m) = transaction_model.cast::<BetaGeoModel>() {
        clv_with(py, &m.get().inner.model, columns, &options)?
    } else if let Ok(m) = transaction_model.cast::<ModifiedBetaGeoModel>() {
        clv_with(py, &m.get().inner.model, columns, &options)?
    } else if let Ok(m) = transaction_model.cast::<ParetoNBDModel>() {
        clv_with(py, &m.get().inner.model, columns, &options)?
    } else {
        return Err(PyTypeError::new_err(format!(
            "customer lifetime value needs a BetaGeoModel, ModifiedBetaGeoModel or \
             ParetoNBDModel, got {}",
            transaction_model.get_type().name()?
        )));
    };
    Ok(vec_to_py(py, out))
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
    let (x, m) = (
        slice("frequency", &frequency)?,
        slice("monetary_value", &monetary_value)?,
    );
    let w = match &weights {
        Some(w) => Some(slice("weights", w)?),
        None => None,
    };
    Ok(py
        .detach(|| gamma_gamma::spend_frequency_correlation(x, m, w))
        .map_err(PyErrWrap)?)
}

/// Adds the Gamma-Gamma class and the CLV functions to `_core`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<GammaGammaModel>()?;
    m.add_function(wrap_pyfunction!(customer_lifetime_value, m)?)?;
    m.add_function(wrap_pyfunction!(spend_frequency_correlation, m)?)?;
    Ok(())
}
