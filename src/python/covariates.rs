//! Bindings of the models with time-invariant covariates
//! ([`crate::models::covariates`]): one class per base model (the shared
//! surface from `covariate_class!`, the transaction models' fit and
//! predictions from `transaction_covariate_methods!`, Gamma-Gamma's by hand),
//! fitted from the histories plus a customers × columns covariate matrix and the design (which
//! columns enter which process), predicting per customer from each
//! customer's covariate row.

use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::{detach, detach_array, fit_options, optional_slice, vec_to_py, PyErrWrap};
use crate::data::validate_prediction_inputs;
use crate::fit::{fit, Fitted};
use crate::gamma_gamma::{SpendData, ZeroFrequency};
use std::sync::{Arc, Mutex};

use crate::ggom_nbd::GGomNBD;
use crate::models::covariates::partitioned::{self, PartialSums};
use crate::models::covariates::{CovariateData, CovariateDesign, CovariateModel, WithCovariates};
use crate::models::{Derivatives, Evaluation, Model, TransactionModel};
use crate::value::intervals::{
    customer_lifetime_value_interval_by_customer, Discounting, IntervalOptions, Intervals,
    PerCustomer,
};
use crate::{BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD};

/// (estimate, lower, upper) of an interval method.
pub(super) type Bands<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
);

pub(super) fn bands(py: Python<'_>, v: Intervals) -> Bands<'_> {
    (
        vec_to_py(py, v.estimate),
        vec_to_py(py, v.lower),
        vec_to_py(py, v.upper),
    )
}

/// A C-contiguous 2-d float64 array as a row-major slice, checking that it has
/// `columns` columns (its rows are checked against the customers by the core).
pub(super) fn matrix<'a>(
    array: &'a PyReadonlyArray2<'_, f64>,
    columns: usize,
) -> PyResult<&'a [f64]> {
    let shape = array.shape();
    if shape[1] != columns {
        return Err(PyValueError::new_err(format!(
            "covariates has {} columns; the model takes {columns}",
            shape[1]
        )));
    }
    array
        .as_slice()
        .map_err(|_| PyValueError::new_err("covariates must be a C-contiguous 2-d float64 array"))
}

/// The design of `columns` for the processes of `M` (see
/// [`CovariateDesign::new`]), with per-column `penalties` when given.
pub(super) fn design_of<M: CovariateModel>(
    columns: &[String],
    by_process: &[Vec<usize>],
    shared: &[usize],
    penalties: Option<Vec<f64>>,
) -> crate::error::Result<CovariateDesign> {
    let design = CovariateDesign::new::<M>(columns, by_process, shared)?;
    match penalties {
        Some(p) => design.with_penalties(p),
        None => Ok(design),
    }
}

macro_rules! covariate_class {
    ($class:ident, $base:ty, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(module = "retentionkit._core", frozen)]
        pub struct $class {
            pub(crate) inner: Fitted<WithCovariates<$base>>,
        }

        impl $class {
            /// The model with `params` (base parameters, then coefficients)
            /// and this design.
            fn model_of(
                params: &[f64],
                design: CovariateDesign,
            ) -> crate::error::Result<WithCovariates<$base>> {
                let p = <$base>::PARAM_NAMES.len();
                let k = design.coefficient_names().len();
                if params.len() != p + k {
                    return Err(crate::Error::ParameterCount {
                        expected: p + k,
                        found: params.len(),
                        names: <$base>::PARAM_NAMES.join(", "),
                    });
                }
                let base = <$base>::from_slice(&params[..p])?;
                WithCovariates::new(base, design, params[p..].to_vec())
            }

            fn design_of(
                columns: Vec<String>,
                by_process: Vec<Vec<usize>>,
                shared: Vec<usize>,
                penalties: Option<Vec<f64>>,
            ) -> crate::error::Result<CovariateDesign> {
                $crate::python::covariates::design_of::<$base>(
                    &columns,
                    &by_process,
                    &shared,
                    penalties,
                )
            }
        }

        // The fit information as every model class has it; no `n_unique`, and
        // no `penalizer_coef` on purpose: a covariate fit's penalizer only
        // switches the design's penalties on (1 or 0), it is not lifetimes'
        // penalizer_coef, which the pandas layer reads from a loaded model with
        // `getattr(model, "penalizer_coef", 0.0)`.
        fit_info_accessors!(
            $class,
            WithCovariates<$base>;
            fit_warnings(
                "Warnings about the fitted estimate (empty when none, or not\n\
                 fitted): the base model's limit, where its model says so."
            )
        );
        json_and_repr!($class, WithCovariates<$base>);

        #[pymethods]
        impl $class {
            #[classattr]
            #[allow(non_snake_case)]
            fn PROCESSES() -> Vec<&'static str> {
                <$base as CovariateModel>::PROCESSES
                    .iter()
                    .map(|p| p.name)
                    .collect()
            }

            #[classattr]
            #[allow(non_snake_case)]
            fn BASE_PARAM_NAMES() -> Vec<&'static str> {
                <$base>::PARAM_NAMES.to_vec()
            }

            /// The model with these parameters: the base ones, then one
            /// coefficient per entry of the design, in the design's order
            /// (see `coefficient_names`).
            #[staticmethod]
            #[pyo3(signature = (params, columns, by_process, shared))]
            fn from_params(
                params: Vec<f64>,
                columns: Vec<String>,
                by_process: Vec<Vec<usize>>,
                shared: Vec<usize>,
            ) -> PyResult<Self> {
                let design =
                    Self::design_of(columns, by_process, shared, None).map_err(PyErrWrap)?;
                let model = Self::model_of(&params, design).map_err(PyErrWrap)?;
                Ok(Self {
                    inner: Fitted::from_model(model),
                })
            }

            /// The coefficient names a design gives (`<process>:<column>`,
            /// process by process in the order of the columns' names, then
            /// `shared:<column>`), without fitting.
            #[staticmethod]
            fn coefficient_names_of(
                columns: Vec<String>,
                by_process: Vec<Vec<usize>>,
                shared: Vec<usize>,
            ) -> PyResult<Vec<String>> {
                let design =
                    Self::design_of(columns, by_process, shared, None).map_err(PyErrWrap)?;
                Ok(design.coefficient_names().to_vec())
            }

            #[getter]
            fn param_names(&self) -> Vec<String> {
                self.inner.model.param_names()
            }

            /// The covariate columns, in the order prediction matrices take them.
            #[getter]
            fn columns(&self) -> Vec<String> {
                self.inner.model.design().columns().to_vec()
            }

        }
    };
}

// The subscriber-level contractual models with covariates use it too.
pub(super) use covariate_class;

/// The fit and the predictions of a transaction model with covariates.
macro_rules! transaction_covariate_methods {
    ($class:ident, $base:ty) => {
        #[pymethods]
        impl $class {
            #[staticmethod]
            #[pyo3(signature = (
                frequency, recency, T, covariates, columns, by_process, shared, penalties=None,
                weights=None, penalizer_coef=0.0, initial_params=None, tol=1e-8,
                max_iterations=200, verbose=false
            ))]
            #[allow(non_snake_case, clippy::too_many_arguments)]
            fn fit(
                py: Python<'_>,
                frequency: PyReadonlyArray1<'_, f64>,
                recency: PyReadonlyArray1<'_, f64>,
                T: PyReadonlyArray1<'_, f64>,
                covariates: PyReadonlyArray2<'_, f64>,
                columns: Vec<String>,
                by_process: Vec<Vec<usize>>,
                shared: Vec<usize>,
                penalties: Option<Vec<f64>>,
                weights: Option<PyReadonlyArray1<'_, f64>>,
                penalizer_coef: f64,
                initial_params: Option<Vec<f64>>,
                tol: f64,
                max_iterations: usize,
                verbose: bool,
            ) -> PyResult<Self> {
                let [x, tx, t] = slices!(frequency, recency, T)?;
                let w = optional_slice("weights", &weights)?;
                let z = matrix(&covariates, columns.len())?;
                let options =
                    fit_options(penalizer_coef, initial_params, tol, max_iterations, verbose);
                let inner = detach(py, || {
                    let design = Self::design_of(columns, by_process, shared, penalties)?;
                    let data = CovariateData::new(x, tx, t, w, z, design)?;
                    fit::<WithCovariates<$base>>(&data, &options)
                })?;
                Ok(Self { inner })
            }

            /// P(alive | x, t_x, T) of each customer with their covariate row.
            #[allow(non_snake_case)]
            fn conditional_probability_alive<'py>(
                &self,
                py: Python<'py>,
                frequency: PyReadonlyArray1<'py, f64>,
                recency: PyReadonlyArray1<'py, f64>,
                T: PyReadonlyArray1<'py, f64>,
                covariates: PyReadonlyArray2<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let [x, tx, t] = slices!(frequency, recency, T)?;
                let z = matrix(&covariates, self.inner.model.design().columns().len())?;
                let model = &self.inner.model;
                detach_array(py, || {
                    validate_prediction_inputs(x, tx, t)?;
                    model.per_customer(x.len(), z, |m, i| m.probability_alive(x[i], tx[i], t[i]))
                })
            }

            /// E[Y(t) | x, t_x, T] of each customer with their covariate row.
            #[allow(non_snake_case)]
            fn conditional_expected_number_of_purchases_up_to_time<'py>(
                &self,
                py: Python<'py>,
                t: PyReadonlyArray1<'py, f64>,
                frequency: PyReadonlyArray1<'py, f64>,
                recency: PyReadonlyArray1<'py, f64>,
                T: PyReadonlyArray1<'py, f64>,
                covariates: PyReadonlyArray2<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let [h, x, tx, age] = slices!(t, frequency, recency, T)?;
                let z = matrix(&covariates, self.inner.model.design().columns().len())?;
                let model = &self.inner.model;
                detach_array(py, || {
                    validate_prediction_inputs(x, tx, age)?;
                    crate::predict::check_horizon("t", h, x.len())?;
                    model.conditional_expected_purchases(h, x, tx, age, z)
                })
            }

            /// E[X(t)] of a new customer with each covariate row.
            fn expected_number_of_purchases_up_to_time<'py>(
                &self,
                py: Python<'py>,
                t: PyReadonlyArray1<'py, f64>,
                covariates: PyReadonlyArray2<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let h = super::slice("t", &t)?;
                let z = matrix(&covariates, self.inner.model.design().columns().len())?;
                let model = &self.inner.model;
                detach_array(py, || {
                    crate::predict::check_horizon("t", h, h.len())?;
                    model.per_customer(h.len(), z, |m, i| m.expected_purchases(h[i]))
                })
            }

            /// P(X(t) = n) of a new customer with each covariate row.
            fn probability_of_n_purchases_up_to_time<'py>(
                &self,
                py: Python<'py>,
                t: PyReadonlyArray1<'py, f64>,
                n: PyReadonlyArray1<'py, f64>,
                covariates: PyReadonlyArray2<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let [h, k] = slices!(t, n)?;
                let z = matrix(&covariates, self.inner.model.design().columns().len())?;
                let model = &self.inner.model;
                detach_array(py, || {
                    // The checks of t and n of the model without covariates.
                    crate::predict::probability_of_purchases(model.base(), h, k)?;
                    model.per_customer(k.len(), z, |m, i| m.probability_of_purchases(h[i], k[i]))
                })
            }

            /// Σ wᵢ ln Lᵢ with its gradient (`order` ≥ 1) and Hessian
            /// (`order` 2, row-major) over one partition of the customers, at
            /// `params` (base parameters, then coefficients): what
            /// `fit_partitioned` sums over partitions. Zeros for a partition
            /// without a customer with T > 0.
            #[staticmethod]
            #[pyo3(signature = (
                params, frequency, recency, T, covariates, columns, by_process, shared,
                weights=None, order=2
            ))]
            #[allow(non_snake_case, clippy::too_many_arguments, clippy::type_complexity)]
            fn partial_sums<'py>(
                py: Python<'py>,
                params: Vec<f64>,
                frequency: PyReadonlyArray1<'py, f64>,
                recency: PyReadonlyArray1<'py, f64>,
                T: PyReadonlyArray1<'py, f64>,
                covariates: PyReadonlyArray2<'py, f64>,
                columns: Vec<String>,
                by_process: Vec<Vec<usize>>,
                shared: Vec<usize>,
                weights: Option<PyReadonlyArray1<'py, f64>>,
                order: u8,
            ) -> PyResult<(f64, Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>)> {
                let [x, tx, t] = slices!(frequency, recency, T)?;
                let w = optional_slice("weights", &weights)?;
                let z = matrix(&covariates, columns.len())?;
                let design =
                    Self::design_of(columns, by_process, shared, None).map_err(PyErrWrap)?;
                let model = Self::model_of(&params, design.clone()).map_err(PyErrWrap)?;
                let derivatives = match order {
                    0 => Derivatives::None,
                    1 => Derivatives::Gradient,
                    _ => Derivatives::Hessian,
                };
                let k = params.len();
                let ev = detach(py, || {
                    let informative =
                        (0..t.len()).any(|i| t[i] > 0.0 && w.is_none_or(|w| w[i] > 0.0));
                    if !informative {
                        return Ok(Evaluation {
                            value: 0.0,
                            gradient: vec![0.0; if order >= 1 { k } else { 0 }],
                            hessian: vec![0.0; if order >= 2 { k * k } else { 0 }],
                        });
                    }
                    let data = CovariateData::new(x, tx, t, w, z, design)?;
                    Ok(model.evaluate(&data, derivatives))
                })?;
                Ok((ev.value, vec_to_py(py, ev.gradient), vec_to_py(py, ev.hessian)))
            }

            /// Fits the model to customers held elsewhere (Dask or Spark
            /// partitions): `sums(params, order)` returns `partial_sums`
            /// added over every partition; `start` is the starting point
            /// (e.g. the plain model's estimates and coefficients 0),
            /// `n_customers` the number of customers with T > 0 (summed
            /// weights) and `n_rows` the number of rows. An exception raised
            /// by `sums` stops the fit and is raised again here.
            #[staticmethod]
            #[pyo3(signature = (
                sums, start, columns, by_process, shared, n_customers, n_rows,
                penalties=None, tol=1e-8, max_iterations=200, verbose=false
            ))]
            #[allow(clippy::too_many_arguments)]
            fn fit_partitioned(
                py: Python<'_>,
                sums: Py<PyAny>,
                start: Vec<f64>,
                columns: Vec<String>,
                by_process: Vec<Vec<usize>>,
                shared: Vec<usize>,
                n_customers: f64,
                n_rows: usize,
                penalties: Option<Vec<f64>>,
                tol: f64,
                max_iterations: usize,
                verbose: bool,
            ) -> PyResult<Self> {
                let design = Self::design_of(columns, by_process, shared, penalties)
                    .map_err(PyErrWrap)?;
                let penalised = design.penalties().iter().any(|&l| l > 0.0);
                let model = Self::model_of(&start, design).map_err(PyErrWrap)?;
                let options = fit_options(
                    if penalised { 1.0 } else { 0.0 },
                    None,
                    tol,
                    max_iterations,
                    verbose,
                );
                let raised: Arc<Mutex<Option<PyErr>>> = Arc::new(Mutex::new(None));
                let slot = Arc::clone(&raised);
                let callback: Arc<PartialSums<$base>> = Arc::new(move |m, d| {
                    let order: u8 = match d {
                        Derivatives::None => 0,
                        Derivatives::Gradient => 1,
                        Derivatives::Hessian => 2,
                    };
                    Python::attach(|py| {
                        let out = sums
                            .call1(py, (vec_to_py(py, m.to_vec()), order))
                            .and_then(|o| o.extract::<(f64, Vec<f64>, Vec<f64>)>(py));
                        match out {
                            Ok((value, gradient, hessian)) => Ok(Evaluation {
                                value,
                                gradient,
                                hessian,
                            }),
                            Err(e) => {
                                let message = e.to_string();
                                if let Ok(mut s) = slot.lock() {
                                    *s = Some(e);
                                }
                                Err(crate::Error::InvalidCovariates(format!(
                                    "a partition's sums failed: {message}"
                                )))
                            }
                        }
                    })
                });
                let result = detach(py, || {
                    partitioned::fit_partitioned(model, callback, n_customers, n_rows, &options)
                });
                if let Some(e) = raised.lock().ok().and_then(|mut s| s.take()) {
                    return Err(e);
                }
                Ok(Self { inner: result? })
            }

            /// DERT(δ | x, t_x, T) of each customer with their covariate row
            /// (`discount_rate` δ per time unit, one per customer).
            #[allow(non_snake_case)]
            fn discounted_expected_residual_transactions<'py>(
                &self,
                py: Python<'py>,
                discount_rate: PyReadonlyArray1<'py, f64>,
                frequency: PyReadonlyArray1<'py, f64>,
                recency: PyReadonlyArray1<'py, f64>,
                T: PyReadonlyArray1<'py, f64>,
                covariates: PyReadonlyArray2<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let [d, x, tx, t] = slices!(discount_rate, frequency, recency, T)?;
                let z = matrix(&covariates, self.inner.model.design().columns().len())?;
                let model = &self.inner.model;
                detach_array(py, || {
                    model.discounted_expected_residual_transactions(d, x, tx, t, z)
                })
            }

            /// Discounted expected spend over `time` months (lifetimes'
            /// discrete CLV) of each customer with their covariate row.
            #[pyo3(signature = (
                frequency, recency, T, monetary_value, covariates, time=12.0,
                discount_rate=0.01, freq="D"
            ))]
            #[allow(non_snake_case, clippy::too_many_arguments)]
            fn customer_lifetime_value<'py>(
                &self,
                py: Python<'py>,
                frequency: PyReadonlyArray1<'py, f64>,
                recency: PyReadonlyArray1<'py, f64>,
                T: PyReadonlyArray1<'py, f64>,
                monetary_value: PyReadonlyArray1<'py, f64>,
                covariates: PyReadonlyArray2<'py, f64>,
                time: f64,
                discount_rate: f64,
                freq: &str,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let options = crate::value::clv::ClvOptions {
                    time,
                    discount_rate,
                    unit: super::gamma_gamma::unit_of(freq)?,
                };
                let [x, tx, t, m] = slices!(frequency, recency, T, monetary_value)?;
                let z = matrix(&covariates, self.inner.model.design().columns().len())?;
                let model = &self.inner.model;
                detach_array(py, || model.customer_lifetime_value(x, tx, t, m, z, &options))
            }

            /// Value of the whole remaining lifetime at the continuous rate
            /// `discount_rate` per time unit (monetary_value × DERT).
            #[allow(non_snake_case, clippy::too_many_arguments)]
            fn customer_lifetime_value_continuous<'py>(
                &self,
                py: Python<'py>,
                frequency: PyReadonlyArray1<'py, f64>,
                recency: PyReadonlyArray1<'py, f64>,
                T: PyReadonlyArray1<'py, f64>,
                monetary_value: PyReadonlyArray1<'py, f64>,
                covariates: PyReadonlyArray2<'py, f64>,
                discount_rate: f64,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let [x, tx, t, m] = slices!(frequency, recency, T, monetary_value)?;
                let z = matrix(&covariates, self.inner.model.design().columns().len())?;
                let model = &self.inner.model;
                detach_array(py, || {
                    model.customer_lifetime_value_continuous(x, tx, t, m, z, discount_rate)
                })
            }

            /// Customers of ages `T` simulated with their covariate rows:
            /// (frequency, recency, T, rate, drop-out, alive).
            #[allow(non_snake_case)]
            fn simulate<'py>(
                &self,
                py: Python<'py>,
                T: PyReadonlyArray1<'py, f64>,
                covariates: PyReadonlyArray2<'py, f64>,
                seed: u64,
            ) -> PyResult<super::SimulatedColumns<'py>> {
                let age = super::slice("T", &T)?;
                let z = matrix(&covariates, self.inner.model.design().columns().len())?;
                let model = &self.inner.model;
                let sims = detach(py, || model.simulate(age, z, seed))?;
                Ok(super::simulated_columns(py, &sims))
            }

            /// E[Y(t) | x, t_x, T] of each customer with their covariate row,
            /// with bounds over the uncertainty of every estimate:
            /// (estimate, lower, upper).
            #[pyo3(signature = (
                t, frequency, recency, T, covariates, level=0.95, n_draws=200, seed=0
            ))]
            #[allow(non_snake_case, clippy::too_many_arguments)]
            fn conditional_expected_number_of_purchases_up_to_time_interval<'py>(
                &self,
                py: Python<'py>,
                t: PyReadonlyArray1<'py, f64>,
                frequency: PyReadonlyArray1<'py, f64>,
                recency: PyReadonlyArray1<'py, f64>,
                T: PyReadonlyArray1<'py, f64>,
                covariates: PyReadonlyArray2<'py, f64>,
                level: f64,
                n_draws: usize,
                seed: u64,
            ) -> PyResult<Bands<'py>> {
                let [h, x, tx, age] = slices!(t, frequency, recency, T)?;
                let z = matrix(&covariates, self.inner.model.design().columns().len())?;
                let options = IntervalOptions { level, n_draws, seed };
                let fitted = &self.inner;
                let out = detach(py, || {
                    validate_prediction_inputs(x, tx, age)?;
                    crate::predict::check_horizon("t", h, x.len())?;
                    WithCovariates::interval(fitted, x.len(), z, &options, |m, i| {
                        Ok(m.conditional_expected_purchases(h[i], x[i], tx[i], age[i]))
                    })
                })?;
                Ok(bands(py, out))
            }

            /// P(alive | x, t_x, T) of each customer with their covariate row,
            /// with bounds over the uncertainty of every estimate.
            #[pyo3(signature = (frequency, recency, T, covariates, level=0.95, n_draws=200, seed=0))]
            #[allow(non_snake_case, clippy::too_many_arguments)]
            fn conditional_probability_alive_interval<'py>(
                &self,
                py: Python<'py>,
                frequency: PyReadonlyArray1<'py, f64>,
                recency: PyReadonlyArray1<'py, f64>,
                T: PyReadonlyArray1<'py, f64>,
                covariates: PyReadonlyArray2<'py, f64>,
                level: f64,
                n_draws: usize,
                seed: u64,
            ) -> PyResult<Bands<'py>> {
                let [x, tx, age] = slices!(frequency, recency, T)?;
                let z = matrix(&covariates, self.inner.model.design().columns().len())?;
                let options = IntervalOptions { level, n_draws, seed };
                let fitted = &self.inner;
                let out = detach(py, || {
                    validate_prediction_inputs(x, tx, age)?;
                    WithCovariates::interval(fitted, x.len(), z, &options, |m, i| {
                        Ok(m.probability_alive(x[i], tx[i], age[i]))
                    })
                })?;
                Ok(bands(py, out))
            }

            /// DERT(δ | x, t_x, T) of each customer with their covariate row,
            /// with bounds over the uncertainty of every estimate.
            #[pyo3(signature = (
                discount_rate, frequency, recency, T, covariates, level=0.95, n_draws=200,
                seed=0
            ))]
            #[allow(non_snake_case, clippy::too_many_arguments)]
            fn discounted_expected_residual_transactions_interval<'py>(
                &self,
                py: Python<'py>,
                discount_rate: PyReadonlyArray1<'py, f64>,
                frequency: PyReadonlyArray1<'py, f64>,
                recency: PyReadonlyArray1<'py, f64>,
                T: PyReadonlyArray1<'py, f64>,
                covariates: PyReadonlyArray2<'py, f64>,
                level: f64,
                n_draws: usize,
                seed: u64,
            ) -> PyResult<Bands<'py>> {
                let [d, x, tx, age] = slices!(discount_rate, frequency, recency, T)?;
                let z = matrix(&covariates, self.inner.model.design().columns().len())?;
                let options = IntervalOptions { level, n_draws, seed };
                let fitted = &self.inner;
                let out = detach(py, || {
                    WithCovariates::interval(fitted, x.len(), z, &options, |m, i| {
                        crate::value::dert::discounted_expected_residual_transactions(
                            m,
                            &d[i..=i],
                            &x[i..=i],
                            &tx[i..=i],
                            &age[i..=i],
                        )
                        .map(|v| v[0])
                    })
                })?;
                Ok(bands(py, out))
            }

            /// ln Lᵢ of each customer history with their covariate row.
            #[allow(non_snake_case)]
            fn individual_log_likelihood<'py>(
                &self,
                py: Python<'py>,
                frequency: PyReadonlyArray1<'py, f64>,
                recency: PyReadonlyArray1<'py, f64>,
                T: PyReadonlyArray1<'py, f64>,
                covariates: PyReadonlyArray2<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let [x, tx, t] = slices!(frequency, recency, T)?;
                let z = matrix(&covariates, self.inner.model.design().columns().len())?;
                let model = &self.inner.model;
                detach_array(py, || {
                    crate::data::validate_summary(x, tx, t, None)?;
                    model.per_customer(x.len(), z, |m, i| {
                        m.individual_log_likelihood(x[i], tx[i], t[i])
                    })
                })
            }
        }
    };
}

covariate_class!(
    ParetoNBDCovariatesModel,
    ParetoNBD,
    "Pareto/NBD with time-invariant covariates: alpha_i = alpha exp(-purchase'z_i), beta_i = beta exp(-dropout'z_i)."
);
covariate_class!(
    BetaGeoCovariatesModel,
    BetaGeo,
    "BG/NBD with time-invariant covariates: alpha_i = alpha exp(-purchase'z_i), a_i = a exp(dropout_a'z_i), b_i = b exp(dropout_b'z_i)."
);
covariate_class!(
    ModifiedBetaGeoCovariatesModel,
    ModifiedBetaGeo,
    "MBG/NBD with time-invariant covariates: alpha_i = alpha exp(-purchase'z_i), a_i = a exp(dropout_a'z_i), b_i = b exp(dropout_b'z_i)."
);
covariate_class!(
    GammaGammaCovariatesModel,
    GammaGamma,
    "Gamma-Gamma spend with time-invariant covariates: nu_i = nu exp(-spend'z_i), i.e. v_i = v exp(spend'z_i); a positive coefficient raises expected spend."
);
transaction_covariate_methods!(ParetoNBDCovariatesModel, ParetoNBD);
transaction_covariate_methods!(BetaGeoCovariatesModel, BetaGeo);
transaction_covariate_methods!(ModifiedBetaGeoCovariatesModel, ModifiedBetaGeo);
covariate_class!(
    GGomNBDCovariatesModel,
    GGomNBD,
    "GGom/NBD with time-invariant covariates: alpha_i = alpha exp(-purchase'z_i), beta_i = beta exp(-dropout'z_i)."
);
transaction_covariate_methods!(GGomNBDCovariatesModel, GGomNBD);

#[pymethods]
impl GammaGammaCovariatesModel {
    /// Fits (p, q, v) and the spend coefficients to repeat customers'
    /// (x, m_x) with their covariate rows; customers without repeat
    /// purchases are left out when `exclude_zero` (else an error).
    #[staticmethod]
    #[pyo3(signature = (
        frequency, monetary_value, covariates, columns, by_process, shared, penalties=None,
        weights=None, exclude_zero=false, penalizer_coef=0.0, initial_params=None, tol=1e-8,
        max_iterations=200, verbose=false
    ))]
    #[allow(clippy::too_many_arguments)]
    fn fit(
        py: Python<'_>,
        frequency: PyReadonlyArray1<'_, f64>,
        monetary_value: PyReadonlyArray1<'_, f64>,
        covariates: PyReadonlyArray2<'_, f64>,
        columns: Vec<String>,
        by_process: Vec<Vec<usize>>,
        shared: Vec<usize>,
        penalties: Option<Vec<f64>>,
        weights: Option<PyReadonlyArray1<'_, f64>>,
        exclude_zero: bool,
        penalizer_coef: f64,
        initial_params: Option<Vec<f64>>,
        tol: f64,
        max_iterations: usize,
        verbose: bool,
    ) -> PyResult<Self> {
        let [x, m] = slices!(frequency, monetary_value)?;
        let w = optional_slice("weights", &weights)?;
        let z = matrix(&covariates, columns.len())?;
        let options = fit_options(penalizer_coef, initial_params, tol, max_iterations, verbose);
        let zero = if exclude_zero {
            ZeroFrequency::Exclude
        } else {
            ZeroFrequency::Reject
        };
        let inner = detach(py, || {
            let design = Self::design_of(columns, by_process, shared, penalties)?;
            let data = CovariateData::for_spend(x, m, w, zero, z, design)?;
            fit::<WithCovariates<GammaGamma>>(&data, &options)
        })?;
        Ok(Self { inner })
    }

    /// E[M | x, m_x] (eq. 5 of the note) of each customer with their
    /// covariate row; the population mean p v_i/(q−1) where x = 0.
    fn conditional_expected_average_profit<'py>(
        &self,
        py: Python<'py>,
        frequency: PyReadonlyArray1<'py, f64>,
        monetary_value: PyReadonlyArray1<'py, f64>,
        covariates: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let [x, m] = slices!(frequency, monetary_value)?;
        let z = matrix(&covariates, self.inner.model.design().columns().len())?;
        let model = &self.inner.model;
        detach_array(py, || {
            crate::data::spend_data::validate_spend(x, m, None, None)?;
            model
                .per_customer(x.len(), z, |g, i| {
                    g.conditional_expected_average_profit(x[i], m[i])
                })?
                .into_iter()
                .collect()
        })
    }

    /// E[M] = p v_i/(q−1) of a new customer with each covariate row.
    fn expected_average_profit<'py>(
        &self,
        py: Python<'py>,
        covariates: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let k = self.inner.model.design().columns().len();
        let z = matrix(&covariates, k)?;
        let model = &self.inner.model;
        detach_array(py, || {
            model
                .per_customer(z.len() / k.max(1), z, |g, _| g.expected_average_profit())?
                .into_iter()
                .collect()
        })
    }

    /// ln f(m_x | x) of each repeat customer with their covariate row.
    fn individual_log_likelihood<'py>(
        &self,
        py: Python<'py>,
        frequency: PyReadonlyArray1<'py, f64>,
        monetary_value: PyReadonlyArray1<'py, f64>,
        covariates: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let [x, m] = slices!(frequency, monetary_value)?;
        let z = matrix(&covariates, self.inner.model.design().columns().len())?;
        let model = &self.inner.model;
        detach_array(py, || {
            SpendData::new(x, m, None, ZeroFrequency::Reject)?;
            model.per_customer(x.len(), z, |g, i| g.individual_log_likelihood(x[i], m[i]))
        })
    }
}

// -- the Pareto/NBD's conditional P(Y(t) = n | history) with covariates -------

#[pymethods]
impl ParetoNBDCovariatesModel {
    /// P(n purchases in (T, T+t] | frequency, recency, T) of each customer with
    /// their covariate row: the plain model's at the customer's own alpha_i and
    /// beta_i (lifetimes' argument order, then the covariates).
    #[allow(non_snake_case, clippy::too_many_arguments)]
    fn conditional_probability_of_n_purchases_up_to_time<'py>(
        &self,
        py: Python<'py>,
        n: PyReadonlyArray1<'py, f64>,
        t: PyReadonlyArray1<'py, f64>,
        frequency: PyReadonlyArray1<'py, f64>,
        recency: PyReadonlyArray1<'py, f64>,
        T: PyReadonlyArray1<'py, f64>,
        covariates: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let [k, h, x, tx, age] = slices!(n, t, frequency, recency, T)?;
        let z = matrix(&covariates, self.inner.model.design().columns().len())?;
        let model = &self.inner.model;
        detach_array(py, || {
            // The checks of the inputs of the model without covariates.
            crate::predict::pareto_nbd_conditional_probability_of_purchases(
                model.base(),
                k,
                h,
                x,
                tx,
                age,
            )?;
            model.per_customer(x.len(), z, |m, i| {
                m.conditional_probability_of_purchases(k[i], h[i], x[i], tx[i], age[i])
            })
        })
    }
}

// -- the GGom/NBD's conditional P(Y(t) = n | history) with covariates ---------

#[pymethods]
impl GGomNBDCovariatesModel {
    /// P(n purchases in (T, T+t] | frequency, recency, T) of each customer with
    /// their covariate row: the plain model's at the customer's own alpha_i and
    /// beta_i (lifetimes' argument order, then the covariates).
    #[allow(non_snake_case, clippy::too_many_arguments)]
    fn conditional_probability_of_n_purchases_up_to_time<'py>(
        &self,
        py: Python<'py>,
        n: PyReadonlyArray1<'py, f64>,
        t: PyReadonlyArray1<'py, f64>,
        frequency: PyReadonlyArray1<'py, f64>,
        recency: PyReadonlyArray1<'py, f64>,
        T: PyReadonlyArray1<'py, f64>,
        covariates: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let [k, h, x, tx, age] = slices!(n, t, frequency, recency, T)?;
        let z = matrix(&covariates, self.inner.model.design().columns().len())?;
        let model = &self.inner.model;
        detach_array(py, || {
            crate::ggom_nbd::check_conditional_probability_inputs(k, h, x, tx, age)?;
            let values = model.per_customer(x.len(), z, |m, i| {
                m.conditional_probability_of_purchases(k[i], h[i], x[i], tx[i], age[i])
            })?;
            crate::predict::finite_or_error(
                "P(Y(t) = n | history)",
                values,
                &[
                    ("n", k),
                    ("t", h),
                    ("frequency", x),
                    ("recency", tx),
                    ("T", age),
                ],
            )
        })
    }
}

// -- customer lifetime value with intervals, either model with covariates -----

/// A fitted model of a CLV interval, borrowed from its Python object: with
/// covariates (and the customers' covariate rows) or without.
enum Side<'a, M: CovariateModel> {
    Plain(&'a Fitted<M>),
    Covariates(&'a Fitted<WithCovariates<M>>, &'a [f64]),
}

/// The interval of one transaction model (`fitted` and how to get customer
/// i's model) with whichever spend model `spend` holds.
#[allow(clippy::too_many_arguments)]
fn clv_interval_with_spend<A, M, F>(
    transactions: PerCustomer<'_, A, F>,
    spend: &Side<'_, GammaGamma>,
    columns: [&[f64]; 4],
    discounting: &Discounting,
    options: &IntervalOptions,
) -> crate::error::Result<Intervals>
where
    A: Model + Sync,
    M: TransactionModel,
    F: Fn(&A, usize) -> crate::error::Result<M> + Sync,
{
    let [x, tx, age, m] = columns;
    match spend {
        Side::Plain(fitted) => {
            let spend = PerCustomer {
                fitted: *fitted,
                base_params: usize::MAX,
                customer: |g: &GammaGamma, _| Ok(*g),
            };
            customer_lifetime_value_interval_by_customer(
                transactions,
                spend,
                x,
                tx,
                age,
                m,
                discounting,
                options,
            )
        }
        Side::Covariates(fitted, z) => {
            let k = fitted.model.design().columns().len();
            fitted.model.per_customer(x.len(), z, |_, _| ())?;
            let spend = PerCustomer {
                fitted: *fitted,
                base_params: GammaGamma::PARAM_NAMES.len(),
                customer: |g: &WithCovariates<GammaGamma>, i: usize| {
                    g.for_customer(&z[i * k..(i + 1) * k])
                },
            };
            customer_lifetime_value_interval_by_customer(
                transactions,
                spend,
                x,
                tx,
                age,
                m,
                discounting,
                options,
            )
        }
    }
}

/// [`clv_interval_with_spend`] for a transaction model of base `M`, with or
/// without covariates.
fn clv_interval_sides<M>(
    transactions: &Side<'_, M>,
    spend: &Side<'_, GammaGamma>,
    columns: [&[f64]; 4],
    discounting: &Discounting,
    options: &IntervalOptions,
) -> crate::error::Result<Intervals>
where
    M: CovariateModel + TransactionModel + Clone + Sync,
{
    match transactions {
        Side::Plain(fitted) => {
            clv_interval_with_spend(plain_side(*fitted), spend, columns, discounting, options)
        }
        Side::Covariates(fitted, z) => {
            let k = fitted.model.design().columns().len();
            fitted.model.per_customer(columns[0].len(), z, |_, _| ())?;
            let side = PerCustomer {
                fitted: *fitted,
                base_params: fitted.model.base().param_specs().len(),
                customer: |m: &WithCovariates<M>, i: usize| m.for_customer(&z[i * k..(i + 1) * k]),
            };
            clv_interval_with_spend(side, spend, columns, discounting, options)
        }
    }
}

/// The covariate rows given for a model with covariates (refused for one
/// without, required for one with).
fn covariate_rows<'a>(
    which: &str,
    columns: Option<usize>,
    given: Option<&'a PyReadonlyArray2<'_, f64>>,
) -> PyResult<Option<&'a [f64]>> {
    match (columns, given) {
        (None, None) => Ok(None),
        (Some(k), Some(z)) => matrix(z, k).map(Some),
        (Some(_), None) => Err(PyValueError::new_err(format!(
            "the {which} model has covariates: pass {which}_covariates"
        ))),
        (None, Some(_)) => Err(PyValueError::new_err(format!(
            "the {which} model has no covariates: do not pass {which}_covariates"
        ))),
    }
}

/// Customer lifetime value with intervals over the uncertainty of both
/// models, either, both or neither with covariates (`transaction_covariates`
/// and `spend_covariates`: one row per customer, the model's columns). With
/// neither, the interval of `customer_lifetime_value_interval`.
#[pyfunction]
#[pyo3(signature = (
    transaction_model, spend_model, frequency, recency, T, monetary_value,
    transaction_covariates=None, spend_covariates=None, time=Some(12.0), discount_rate=0.01,
    freq="D", discounting="discrete", level=0.95, n_draws=200, seed=0
), text_signature = "(transaction_model, spend_model, frequency, recency, T, \
    monetary_value, transaction_covariates=None, spend_covariates=None, time=12.0, \
    discount_rate=0.01, freq='D', discounting='discrete', level=0.95, n_draws=200, seed=0)")]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn customer_lifetime_value_interval_covariates<'py>(
    py: Python<'py>,
    transaction_model: &Bound<'py, PyAny>,
    spend_model: &Bound<'py, PyAny>,
    frequency: PyReadonlyArray1<'py, f64>,
    recency: PyReadonlyArray1<'py, f64>,
    T: PyReadonlyArray1<'py, f64>,
    monetary_value: PyReadonlyArray1<'py, f64>,
    transaction_covariates: Option<PyReadonlyArray2<'py, f64>>,
    spend_covariates: Option<PyReadonlyArray2<'py, f64>>,
    time: Option<f64>,
    discount_rate: f64,
    freq: &str,
    discounting: &str,
    level: f64,
    n_draws: usize,
    seed: u64,
) -> PyResult<Bands<'py>> {
    use super::gamma_gamma::GammaGammaModel;
    use super::transaction_model::AnyTransactionModel;
    let discounting = super::intervals::discounting_of(discounting, time, discount_rate, freq)?;
    let options = IntervalOptions {
        level,
        n_draws,
        seed,
    };
    let columns = slices!(frequency, recency, T, monetary_value)?;
    let spend_z = spend_covariates.as_ref();
    let spend = if let Ok(g) = spend_model.cast::<GammaGammaCovariatesModel>() {
        let k = g.get().inner.model.design().columns().len();
        let z = covariate_rows("spend", Some(k), spend_z)?.unwrap_or_default();
        Side::Covariates(&g.get().inner, z)
    } else if let Ok(g) = spend_model.cast::<GammaGammaModel>() {
        covariate_rows("spend", None, spend_z)?;
        Side::Plain(&g.get().inner)
    } else {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "the spend model must be a GammaGammaModel or GammaGammaCovariatesModel, got {}",
            spend_model.get_type().name()?
        )));
    };
    let z = transaction_covariates.as_ref();
    macro_rules! run {
        ($side:expr) => {{
            let side = $side;
            let out = detach(py, || {
                clv_interval_sides(&side, &spend, columns, &discounting, &options)
            })?;
            return Ok(bands(py, out));
        }};
    }
    macro_rules! covariates {
        ($class:ty) => {
            if let Ok(t) = transaction_model.cast::<$class>() {
                let k = t.get().inner.model.design().columns().len();
                let rows = covariate_rows("transaction", Some(k), z)?.unwrap_or_default();
                run!(Side::Covariates(&t.get().inner, rows));
            }
        };
    }
    covariates!(ParetoNBDCovariatesModel);
    covariates!(BetaGeoCovariatesModel);
    covariates!(ModifiedBetaGeoCovariatesModel);
    covariates!(GGomNBDCovariatesModel);
    // A model without covariates: every class the plain CLV takes (the one
    // list, AnyTransactionModel, so a new transaction model cannot be missed
    // here while the point CLV accepts it).
    if let Ok(t) = transaction_model.extract::<AnyTransactionModel>() {
        covariate_rows("transaction", None, z)?;
        let out = with_fitted!(t, fitted => detach(py, || {
            clv_interval_with_spend(plain_side(fitted), &spend, columns, &discounting, &options)
        }))?;
        return Ok(bands(py, out));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "customer lifetime value needs a BetaGeo, ModifiedBetaGeo, ParetoNBD or GGomNBD model \
         (with or without covariates) or an MBGCNBDk model, got {}",
        transaction_model.get_type().name()?
    )))
}

/// A transaction model without covariates as a side of a CLV interval: every
/// customer has the drawn model itself.
fn plain_side<M>(
    fitted: &Fitted<M>,
) -> PerCustomer<'_, M, impl Fn(&M, usize) -> crate::error::Result<M> + Sync>
where
    M: TransactionModel + Clone + Sync,
{
    PerCustomer {
        fitted,
        base_params: usize::MAX,
        customer: |m: &M, _| Ok(m.clone()),
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ParetoNBDCovariatesModel>()?;
    m.add_class::<BetaGeoCovariatesModel>()?;
    m.add_class::<ModifiedBetaGeoCovariatesModel>()?;
    m.add_class::<GammaGammaCovariatesModel>()?;
    m.add_class::<GGomNBDCovariatesModel>()?;
    m.add_function(wrap_pyfunction!(
        customer_lifetime_value_interval_covariates,
        m
    )?)?;
    Ok(())
}
