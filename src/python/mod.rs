//! Python bindings (`retentionkit._core`), built by maturin with the `python`
//! feature. Deliberately thin: validate nothing here that the core validates,
//! read numpy arrays without copying, release the GIL for the work, and map
//! [`Error`] to Python exceptions. The pandas layer lives in
//! `python/retentionkit/`.

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::fit::{fit, Fitted};
use crate::models::bgbb::{self, BetaGeoBetaBinom};
use crate::models::Model;
use crate::{predict, BetaGeo, CustomerData, ModifiedBetaGeo, ParetoNBD};

#[macro_use]
mod convert;
mod errors;

pub(crate) use convert::{fit_options, optional_slice, slice, vec_to_py};
pub(crate) use errors::{detach, detach_array, PyErrWrap};

/// The columns of simulated customers: (frequency, recency, T, rate, drop-out, alive).
pub(crate) type SimulatedColumns<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
);

/// The [`SimulatedColumns`] of simulated customers.
pub(crate) fn simulated_columns<'py>(
    py: Python<'py>,
    sims: &[crate::SimulatedCustomer],
) -> SimulatedColumns<'py> {
    let column =
        |f: &dyn Fn(&crate::SimulatedCustomer) -> f64| vec_to_py(py, sims.iter().map(f).collect());
    (
        column(&|c| c.frequency),
        column(&|c| c.recency),
        column(&|c| c.age),
        column(&|c| c.rate),
        column(&|c| c.dropout),
        column(&|c| if c.alive { 1.0 } else { 0.0 }),
    )
}

/// Generates a Python class for a fitted model, with what every model has:
/// parameters, fit statistics, JSON.
macro_rules! model_class {
    ($class:ident, $model:ty, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(module = "retentionkit._core", frozen)]
        pub struct $class {
            /// Visible to the other binding files, which read each other's
            /// models (the class is frozen: no lock is needed).
            pub(crate) inner: Fitted<$model>,
        }

        model_accessors!($class, $model);
        json_and_repr!($class, $model);

        #[pymethods]
        impl $class {
            #[staticmethod]
            fn from_params(params: Vec<f64>) -> PyResult<Self> {
                let model = <$model>::from_slice(&params).map_err(PyErrWrap)?;
                Ok(Self {
                    inner: Fitted::from_model(model),
                })
            }
        }
    };
}

/// `from_json`, `to_json` and `__repr__` (`Class(name=value, ...)`, the
/// parameters' run-time names) of a class whose struct is just
/// `inner: Fitted<$model>`: [`model_class!`], `covariate_class!`, the
/// time-varying Pareto/NBD. (MBG/CNBD-k keeps its k profile beside the fit and
/// writes its own.)
macro_rules! json_and_repr {
    ($class:ident, $model:ty) => {
        #[pymethods]
        impl $class {
            #[staticmethod]
            fn from_json(text: &str) -> pyo3::PyResult<Self> {
                let inner = $crate::fit::Fitted::<$model>::from_json(text)
                    .map_err($crate::python::PyErrWrap)?;
                Ok(Self { inner })
            }

            fn to_json(&self) -> String {
                self.inner.to_json()
            }

            fn __repr__(&self) -> String {
                let params: Vec<String> = $crate::models::Model::param_names(&self.inner.model)
                    .into_iter()
                    .zip(self.inner.params())
                    .map(|(n, v)| format!("{n}={v:.6}"))
                    .collect();
                format!("{}({})", stringify!($class), params.join(", "))
            }
        }
    };
}

/// The fit information of a class whose struct holds the fitted model as
/// `inner: Fitted<$model>`, read from [`Fitted`]: `MODEL_NAME`, `params`,
/// `is_fitted`, `log_likelihood`, `covariance`, `iterations`, `converged`,
/// `n_customers` (`None`, or `False`, for a model given its parameters).
/// Every native model class has them, whatever its parameter names (static,
/// [`model_accessors!`], or from the fitted design: the classes with
/// covariates). The statistics not every class has are named after the `;`:
/// `n_unique`, `penalizer_coef`, `fit_warnings` (`fit_warnings("doc")` with
/// another docstring); a class leaves one out where its Python surface has
/// never had it (see the comment at each call).
macro_rules! fit_info_accessors {
    ($class:ident, $model:ty; $($extra:ident $(($doc:literal))?),* $(,)?) => {
        #[pymethods]
        impl $class {
            #[classattr]
            #[allow(non_snake_case)]
            fn MODEL_NAME() -> &'static str {
                <$model as $crate::models::Model>::NAME
            }

            #[getter]
            fn params<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::Bound<'py, numpy::PyArray1<f64>> {
                $crate::python::vec_to_py(py, self.inner.params())
            }

            #[getter]
            fn is_fitted(&self) -> bool {
                self.inner.info.is_some()
            }

            #[getter]
            fn log_likelihood(&self) -> Option<f64> {
                self.inner.info.as_ref().map(|i| i.log_likelihood)
            }

            #[getter]
            fn covariance<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::PyResult<Option<pyo3::Bound<'py, numpy::PyArray2<f64>>>> {
                let p = $crate::models::Model::param_specs(&self.inner.model).len();
                match self.inner.info.as_ref().and_then(|i| i.covariance.clone()) {
                    Some(cov) => Ok(Some(numpy::PyArrayMethods::reshape(
                        &$crate::python::vec_to_py(py, cov),
                        [p, p],
                    )?)),
                    None => Ok(None),
                }
            }

            #[getter]
            fn iterations(&self) -> Option<usize> {
                self.inner.info.as_ref().map(|i| i.iterations)
            }

            #[getter]
            fn converged(&self) -> Option<bool> {
                self.inner.info.as_ref().map(|i| i.converged)
            }

            #[getter]
            fn n_customers(&self) -> Option<f64> {
                self.inner.info.as_ref().map(|i| i.n_customers)
            }
        }

        $(fit_info_accessors!(@$extra $class $(, $doc)?);)*
    };
    (@n_unique $class:ident) => {
        #[pymethods]
        impl $class {
            #[getter]
            fn n_unique(&self) -> Option<usize> {
                self.inner.info.as_ref().map(|i| i.n_unique)
            }
        }
    };
    (@penalizer_coef $class:ident) => {
        #[pymethods]
        impl $class {
            #[getter]
            fn penalizer_coef(&self) -> f64 {
                self.inner.info.as_ref().map_or(0.0, |i| i.penalizer_coef)
            }
        }
    };
    (@fit_warnings $class:ident) => {
        fit_info_accessors!(
            @fit_warnings $class,
            "Warnings about the fitted estimate (empty when none, or not fitted)."
        );
    };
    (@fit_warnings $class:ident, $doc:literal) => {
        #[pymethods]
        impl $class {
            #[doc = $doc]
            #[getter]
            fn fit_warnings(&self) -> Vec<String> {
                self.inner
                    .info
                    .as_ref()
                    .map_or_else(Vec::new, |i| i.warnings.clone())
            }
        }
    };
}

/// The read-only accessors of a model class with static parameter names whose
/// struct holds the fitted model as `inner: Fitted<$model>`: `PARAM_NAMES` and
/// every statistic of [`fit_info_accessors!`]. [`model_class!`] adds them to
/// every class it generates; a class with more state (MBG/CNBD-k's k profile)
/// declares its own struct and adds them with this macro.
macro_rules! model_accessors {
    ($class:ident, $model:ty) => {
        #[pymethods]
        impl $class {
            #[classattr]
            #[allow(non_snake_case)]
            fn PARAM_NAMES() -> Vec<&'static str> {
                <$model>::PARAM_NAMES.to_vec()
            }
        }

        fit_info_accessors!($class, $model; n_unique, penalizer_coef, fit_warnings);
    };
}

/// The predictions from (x, t_x, T) of a class whose struct holds a fitted
/// [`crate::TransactionModel`] as `inner`: P(alive), the conditional and
/// unconditional expected purchases and P(X(t) = n), validated and in
/// parallel ([`predict`]).
macro_rules! transaction_predictions {
    ($class:ident) => {
        #[pymethods]
        impl $class {
            #[allow(non_snake_case)]
            fn conditional_expected_number_of_purchases_up_to_time<'py>(
                &self,
                py: Python<'py>,
                t: PyReadonlyArray1<'py, f64>,
                frequency: PyReadonlyArray1<'py, f64>,
                recency: PyReadonlyArray1<'py, f64>,
                T: PyReadonlyArray1<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let [h, x, tx, age] = slices!(t, frequency, recency, T)?;
                let model = &self.inner.model;
                detach_array(py, || {
                    predict::conditional_expected_purchases(model, h, x, tx, age)
                })
            }

            #[allow(non_snake_case)]
            fn conditional_probability_alive<'py>(
                &self,
                py: Python<'py>,
                frequency: PyReadonlyArray1<'py, f64>,
                recency: PyReadonlyArray1<'py, f64>,
                T: PyReadonlyArray1<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let [x, tx, age] = slices!(frequency, recency, T)?;
                let model = &self.inner.model;
                detach_array(py, || predict::probability_alive(model, x, tx, age))
            }

            fn expected_number_of_purchases_up_to_time<'py>(
                &self,
                py: Python<'py>,
                t: PyReadonlyArray1<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let h = slice("t", &t)?;
                let model = &self.inner.model;
                detach_array(py, || predict::expected_purchases(model, h))
            }

            fn probability_of_n_purchases_up_to_time<'py>(
                &self,
                py: Python<'py>,
                t: PyReadonlyArray1<'py, f64>,
                n: PyReadonlyArray1<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let [h, k] = slices!(t, n)?;
                let model = &self.inner.model;
                detach_array(py, || predict::probability_of_purchases(model, h, k))
            }
        }
    };
}

/// Generates the Python class of one (x, t_x, T) transaction model.
macro_rules! transaction_model_class {
    ($class:ident, $model:ty, $doc:literal) => {
        model_class!($class, $model, $doc);
        transaction_predictions!($class);

        #[pymethods]
        impl $class {
            #[staticmethod]
            #[pyo3(signature = (
                frequency, recency, T, weights=None, penalizer_coef=0.0, initial_params=None,
                tol=1e-8, max_iterations=200, verbose=false
            ))]
            #[allow(non_snake_case, clippy::too_many_arguments)]
            fn fit(
                py: Python<'_>,
                frequency: PyReadonlyArray1<'_, f64>,
                recency: PyReadonlyArray1<'_, f64>,
                T: PyReadonlyArray1<'_, f64>,
                weights: Option<PyReadonlyArray1<'_, f64>>,
                penalizer_coef: f64,
                initial_params: Option<Vec<f64>>,
                tol: f64,
                max_iterations: usize,
                verbose: bool,
            ) -> PyResult<Self> {
                let [x, tx, t] = slices!(frequency, recency, T)?;
                let w = optional_slice("weights", &weights)?;
                let options =
                    fit_options(penalizer_coef, initial_params, tol, max_iterations, verbose);
                let inner = detach(py, || {
                    let data = CustomerData::new(x, tx, t, w)?.compress();
                    fit::<$model>(&data, &options)
                })?;
                Ok(Self { inner })
            }

            #[pyo3(signature = (frequency, recency, T, weights=None))]
            #[allow(non_snake_case)]
            fn log_likelihood_of(
                &self,
                py: Python<'_>,
                frequency: PyReadonlyArray1<'_, f64>,
                recency: PyReadonlyArray1<'_, f64>,
                T: PyReadonlyArray1<'_, f64>,
                weights: Option<PyReadonlyArray1<'_, f64>>,
            ) -> PyResult<f64> {
                let [x, tx, t] = slices!(frequency, recency, T)?;
                let w = optional_slice("weights", &weights)?;
                let model = &self.inner.model;
                detach(py, || {
                    let data = CustomerData::to_evaluate(x, tx, t, w)?.compress();
                    Ok(model.evaluate(&data, crate::models::Derivatives::None).value)
                })
            }

            #[allow(non_snake_case)]
            fn individual_log_likelihood<'py>(
                &self,
                py: Python<'py>,
                frequency: PyReadonlyArray1<'py, f64>,
                recency: PyReadonlyArray1<'py, f64>,
                T: PyReadonlyArray1<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let [x, tx, t] = slices!(frequency, recency, T)?;
                let model = &self.inner.model;
                detach_array(py, || predict::individual_log_likelihood(model, x, tx, t))
            }

            /// Returns (frequency, recency, T, lambda, p, alive).
            #[allow(non_snake_case)]
            fn simulate<'py>(
                &self,
                py: Python<'py>,
                T: PyReadonlyArray1<'py, f64>,
                seed: u64,
            ) -> PyResult<SimulatedColumns<'py>> {
                let age = slice("T", &T)?;
                let model = &self.inner.model;
                let sims = detach(py, || predict::simulate(model, age, seed))?;
                Ok(simulated_columns(py, &sims))
            }
        }
    };
}

transaction_model_class!(
    BetaGeoModel,
    BetaGeo,
    "BG/NBD (Fader, Hardie & Lee 2005) with parameters (r, alpha, a, b)."
);

transaction_model_class!(
    ModifiedBetaGeoModel,
    ModifiedBetaGeo,
    "MBG/NBD (Batislam, Denizel & Filiztekin 2007) with parameters (r, alpha, a, b)."
);

transaction_model_class!(
    ParetoNBDModel,
    ParetoNBD,
    "Pareto/NBD (Schmittlein, Morrison & Colombo 1987) with parameters (r, alpha, s, beta)."
);

transaction_model_class!(
    GGomNBDModel,
    crate::ggom_nbd::GGomNBD,
    "GGom/NBD (Bemmaor & Glady 2012) with parameters (r, alpha, b, s, beta)."
);

#[pymethods]
impl ParetoNBDModel {
    /// P(n purchases in (T, T+t] | frequency, recency, T), lifetimes' argument order.
    #[allow(non_snake_case)]
    fn conditional_probability_of_n_purchases_up_to_time<'py>(
        &self,
        py: Python<'py>,
        n: PyReadonlyArray1<'py, f64>,
        t: PyReadonlyArray1<'py, f64>,
        frequency: PyReadonlyArray1<'py, f64>,
        recency: PyReadonlyArray1<'py, f64>,
        T: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let [k, h, x, tx, age] = slices!(n, t, frequency, recency, T)?;
        let model = &self.inner.model;
        detach_array(py, || {
            predict::pareto_nbd_conditional_probability_of_purchases(model, k, h, x, tx, age)
        })
    }
}

#[pymethods]
impl GGomNBDModel {
    /// P(n purchases in (T, T+t] | frequency, recency, T), lifetimes' argument order.
    #[allow(non_snake_case)]
    fn conditional_probability_of_n_purchases_up_to_time<'py>(
        &self,
        py: Python<'py>,
        n: PyReadonlyArray1<'py, f64>,
        t: PyReadonlyArray1<'py, f64>,
        frequency: PyReadonlyArray1<'py, f64>,
        recency: PyReadonlyArray1<'py, f64>,
        T: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let [k, h, x, tx, age] = slices!(n, t, frequency, recency, T)?;
        let model = &self.inner.model;
        detach_array(py, || {
            crate::ggom_nbd::conditional_probability_of_purchases(model, k, h, x, tx, age)
        })
    }
}

model_class!(
    BetaGeoBetaBinomModel,
    BetaGeoBetaBinom,
    "BG/BB (Fader, Hardie & Shang 2010) with parameters (alpha, beta, gamma, delta)."
);

#[pymethods]
impl BetaGeoBetaBinomModel {
    #[staticmethod]
    #[pyo3(signature = (
        frequency, recency, n_periods, weights=None, penalizer_coef=0.0, initial_params=None,
        tol=1e-8, max_iterations=200, verbose=false
    ))]
    #[allow(clippy::too_many_arguments)]
    fn fit(
        py: Python<'_>,
        frequency: PyReadonlyArray1<'_, f64>,
        recency: PyReadonlyArray1<'_, f64>,
        n_periods: PyReadonlyArray1<'_, f64>,
        weights: Option<PyReadonlyArray1<'_, f64>>,
        penalizer_coef: f64,
        initial_params: Option<Vec<f64>>,
        tol: f64,
        max_iterations: usize,
        verbose: bool,
    ) -> PyResult<Self> {
        let [x, tx, n] = slices!(frequency, recency, n_periods)?;
        let w = optional_slice("weights", &weights)?;
        let options = fit_options(penalizer_coef, initial_params, tol, max_iterations, verbose);
        let inner = detach(py, || {
            let data = bgbb::bgbb_data(x, tx, n, w)?;
            fit::<BetaGeoBetaBinom>(&data, &options)
        })?;
        Ok(Self { inner })
    }

    fn individual_log_likelihood<'py>(
        &self,
        py: Python<'py>,
        frequency: PyReadonlyArray1<'py, f64>,
        recency: PyReadonlyArray1<'py, f64>,
        n_periods: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let [x, tx, n] = slices!(frequency, recency, n_periods)?;
        let model = &self.inner.model;
        detach_array(py, || bgbb::individual_log_likelihood_many(model, x, tx, n))
    }

    /// P(alive at opportunity n + m | x, t_x, n), FHS (2010) eq. (11) for m = 1.
    fn conditional_probability_alive<'py>(
        &self,
        py: Python<'py>,
        m_periods_in_future: PyReadonlyArray1<'py, f64>,
        frequency: PyReadonlyArray1<'py, f64>,
        recency: PyReadonlyArray1<'py, f64>,
        n_periods: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let [m, x, tx, n] = slices!(m_periods_in_future, frequency, recency, n_periods)?;
        let model = &self.inner.model;
        detach_array(py, || bgbb::probability_alive_at_many(model, m, x, tx, n))
    }

    /// E[transactions in opportunities n+1..n+n* | x, t_x, n], FHS (2010) eq. (13).
    fn conditional_expected_number_of_purchases_up_to_time<'py>(
        &self,
        py: Python<'py>,
        m_periods_in_future: PyReadonlyArray1<'py, f64>,
        frequency: PyReadonlyArray1<'py, f64>,
        recency: PyReadonlyArray1<'py, f64>,
        n_periods: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let [m, x, tx, n] = slices!(m_periods_in_future, frequency, recency, n_periods)?;
        let model = &self.inner.model;
        detach_array(py, || {
            bgbb::conditional_expected_transactions_many(model, m, x, tx, n)
        })
    }

    /// E[X(n)] for a new customer.
    fn expected_number_of_transactions<'py>(
        &self,
        py: Python<'py>,
        n_periods: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let n = slice("n_periods", &n_periods)?;
        let model = &self.inner.model;
        detach_array(py, || bgbb::expected_transactions_many(model, n))
    }

    /// P(X(n) = x) for a new customer.
    fn probability_of_n_transactions<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
        n_periods: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let [k, n] = slices!(x, n_periods)?;
        let model = &self.inner.model;
        detach_array(py, || bgbb::probability_of_transactions_many(model, k, n))
    }

    /// Returns (frequency, recency, n_periods, p, theta, alive).
    fn simulate<'py>(
        &self,
        py: Python<'py>,
        n_periods: PyReadonlyArray1<'py, f64>,
        seed: u64,
    ) -> PyResult<SimulatedColumns<'py>> {
        let n = slice("n_periods", &n_periods)?;
        let model = &self.inner.model;
        let sims = detach(py, || bgbb::simulate_many(model, n, seed))?;
        Ok(simulated_columns(py, &sims))
    }
}

// Binding files of further models: declared after the macros above so they can
// use them; each has `pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()>`.
#[macro_use]
mod transaction_model;
mod contractual;
mod covariates;
mod gamma_gamma;
mod intervals;
mod summary;
// MBG/CNBD-k.
mod mbgcnbd;
// Pareto/NBD with time-varying covariates (issue 14).
mod time_varying;

/// The native module. Each model's binding file adds its classes here.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_class::<BetaGeoModel>()?;
    m.add_class::<ModifiedBetaGeoModel>()?;
    m.add_class::<ParetoNBDModel>()?;
    m.add_class::<GGomNBDModel>()?;
    m.add_class::<BetaGeoBetaBinomModel>()?;
    gamma_gamma::register(m)?;
    intervals::register(m)?;
    contractual::register(m)?;
    covariates::register(m)?;
    summary::register(m)?;
    mbgcnbd::register(m)?;
    time_varying::register(m)?;
    Ok(())
}
