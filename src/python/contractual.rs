//! Bindings of the contractual retention models: sBG (Fader & Hardie 2007)
//! and BdW (Fader, Hardie, Liu, Davin & Steenburgh 2018).

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use super::{detach, detach_array, fit_options, optional_slice, slice, vec_to_py, PyErrWrap};
use crate::data::RetentionData;
use crate::fit::{fit, Fitted};
use crate::models::contractual::bdw::BetaDiscreteWeibull;
use crate::models::contractual::sbg::ShiftedBetaGeometric;
use crate::models::contractual::subscriber;
use crate::models::contractual::{self, RetentionModel};
use crate::models::covariates::{CovariateData, CovariateDesign, CovariateModel, WithCovariates};
use crate::models::Model;
use crate::value::intervals::IntervalOptions;

use super::covariates::{bands, covariate_class, matrix, Bands};
use numpy::PyReadonlyArray2;

/// A contiguous bool array as a slice.
fn bools<'a>(array: &'a PyReadonlyArray1<'_, bool>) -> PyResult<&'a [bool]> {
    array.as_slice().map_err(|_| {
        pyo3::exceptions::PyValueError::new_err("churned must be a contiguous bool array")
    })
}

/// Generates the Python class of one contractual model.
macro_rules! contractual_model_class {
    ($class:ident, $model:ty, $doc:literal) => {
        model_class!($class, $model, $doc);

        #[pymethods]
        impl $class {
            /// Fits to cohorts' survivor counts (one list per cohort).
            #[staticmethod]
            #[pyo3(signature = (
                        cohorts, penalizer_coef=0.0, initial_params=None, tol=1e-8,
                        max_iterations=200, verbose=false
                    ))]
            fn fit_cohorts(
                py: Python<'_>,
                cohorts: Vec<Vec<f64>>,
                penalizer_coef: f64,
                initial_params: Option<Vec<f64>>,
                tol: f64,
                max_iterations: usize,
                verbose: bool,
            ) -> PyResult<Self> {
                let options =
                    fit_options(penalizer_coef, initial_params, tol, max_iterations, verbose);
                let inner = detach(py, || {
                    let data = RetentionData::from_cohorts(&cohorts)?;
                    fit::<$model>(&data, &options)
                })?;
                Ok(Self { inner })
            }

            /// Fits to individual records (duration, churned, weight).
            #[staticmethod]
            #[pyo3(signature = (
                        durations, churned, weights=None, penalizer_coef=0.0, initial_params=None,
                        tol=1e-8, max_iterations=200, verbose=false
                    ))]
            #[allow(clippy::too_many_arguments)]
            fn fit_durations(
                py: Python<'_>,
                durations: PyReadonlyArray1<'_, f64>,
                churned: PyReadonlyArray1<'_, bool>,
                weights: Option<PyReadonlyArray1<'_, f64>>,
                penalizer_coef: f64,
                initial_params: Option<Vec<f64>>,
                tol: f64,
                max_iterations: usize,
                verbose: bool,
            ) -> PyResult<Self> {
                let d = slice("durations", &durations)?;
                let c = churned.as_slice().map_err(|_| {
                    pyo3::exceptions::PyValueError::new_err(
                        "churned must be a contiguous bool array",
                    )
                })?;
                let w = optional_slice("weights", &weights)?;
                let options =
                    fit_options(penalizer_coef, initial_params, tol, max_iterations, verbose);
                let inner = detach(py, || {
                    let data = RetentionData::from_durations(d, c, w)?;
                    fit::<$model>(&data, &options)
                })?;
                Ok(Self { inner })
            }

            /// Fits to individual subscribers (issue 15): `periods` (paid
            /// for by a churned subscriber, renewal opportunities reached by
            /// an active one, who may have 0), `churned`, `weights`.
            #[staticmethod]
            #[pyo3(signature = (
                        periods, churned, weights=None, penalizer_coef=0.0, initial_params=None,
                        tol=1e-8, max_iterations=200, verbose=false
                    ))]
            #[allow(clippy::too_many_arguments)]
            fn fit_subscribers(
                py: Python<'_>,
                periods: PyReadonlyArray1<'_, f64>,
                churned: PyReadonlyArray1<'_, bool>,
                weights: Option<PyReadonlyArray1<'_, f64>>,
                penalizer_coef: f64,
                initial_params: Option<Vec<f64>>,
                tol: f64,
                max_iterations: usize,
                verbose: bool,
            ) -> PyResult<Self> {
                let n = slice("periods", &periods)?;
                let c = bools(&churned)?;
                let w = optional_slice("weights", &weights)?;
                let options =
                    fit_options(penalizer_coef, initial_params, tol, max_iterations, verbose);
                let inner = detach(py, || {
                    let data = RetentionData::from_subscribers(n, c, w)?;
                    fit::<$model>(&data, &options)
                })?;
                Ok(Self { inner })
            }

            /// A per-subscriber prediction (`what`: renewal, survival (extra
            /// = k), residual_lifetime, discounted_residual_lifetime (extra =
            /// discount rate)) of subscribers with `periods` renewals made.
            #[pyo3(signature = (what, periods, extra=None))]
            fn subscriber_prediction<'py>(
                &self,
                py: Python<'py>,
                what: &str,
                periods: PyReadonlyArray1<'py, f64>,
                extra: Option<PyReadonlyArray1<'py, f64>>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let what = subscriber::Prediction::from_name(what).map_err(PyErrWrap)?;
                let n = slice("periods", &periods)?;
                let e = optional_slice("extra", &extra)?.unwrap_or(&[]);
                let model = &self.inner.model;
                detach_array(py, || subscriber::predict_many(model, what, n, e))
            }

            /// `subscriber_prediction` with an interval over the uncertainty
            /// of the estimates: (estimate, lower, upper).
            #[pyo3(signature = (what, periods, extra=None, level=0.95, n_draws=200, seed=0))]
            #[allow(clippy::too_many_arguments)]
            fn subscriber_prediction_interval<'py>(
                &self,
                py: Python<'py>,
                what: &str,
                periods: PyReadonlyArray1<'py, f64>,
                extra: Option<PyReadonlyArray1<'py, f64>>,
                level: f64,
                n_draws: usize,
                seed: u64,
            ) -> PyResult<Bands<'py>> {
                let what = subscriber::Prediction::from_name(what).map_err(PyErrWrap)?;
                let n = slice("periods", &periods)?;
                let e = optional_slice("extra", &extra)?.unwrap_or(&[]);
                let options = IntervalOptions { level, n_draws, seed };
                let fitted = &self.inner;
                let v = detach(py, || {
                    subscriber::predict_interval(fitted, what, n, e, &options)
                })?;
                Ok(bands(py, v))
            }

            /// S(t) = P(T > t) for non-negative integer t.
            fn survival<'py>(
                &self,
                py: Python<'py>,
                t: PyReadonlyArray1<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let t = slice("t", &t)?;
                let model = &self.inner.model;
                detach_array(py, || contractual::survival_many(model, t))
            }

            /// r(t) = S(t)/S(t-1) for integer t >= 1.
            fn retention_rate<'py>(
                &self,
                py: Python<'py>,
                t: PyReadonlyArray1<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let t = slice("t", &t)?;
                let model = &self.inner.model;
                detach_array(py, || contractual::retention_rate_many(model, t))
            }

            /// P(T = t) for integer t >= 1.
            fn probability_of_churn_at<'py>(
                &self,
                py: Python<'py>,
                t: PyReadonlyArray1<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let t = slice("t", &t)?;
                let model = &self.inner.model;
                detach_array(py, || contractual::probability_of_churn_at_many(model, t))
            }

            /// E[T], infinite when the mean does not exist.
            fn expected_lifetime(&self, py: Python<'_>) -> f64 {
                let model = &self.inner.model;
                py.detach(|| model.expected_lifetime())
            }

            /// DEL(d) for each discount rate d > 0.
            fn discounted_expected_lifetime<'py>(
                &self,
                py: Python<'py>,
                discount_rate: PyReadonlyArray1<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let d = slice("discount_rate", &discount_rate)?;
                let model = &self.inner.model;
                detach_array(py, || contractual::discounted_expected_lifetime_many(model, d))
            }

            /// DERL(d, n) for each pair (n renewals made, discount rate d).
            fn discounted_expected_residual_lifetime<'py>(
                &self,
                py: Python<'py>,
                n_renewals: PyReadonlyArray1<'py, f64>,
                discount_rate: PyReadonlyArray1<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let n = slice("n_renewals", &n_renewals)?;
                let d = slice("discount_rate", &discount_rate)?;
                let model = &self.inner.model;
                detach_array(py, || contractual::discounted_expected_residual_lifetime_many(model, n, d))
            }

            /// Returns (duration, churned, theta).
            #[allow(clippy::type_complexity)]
            fn simulate<'py>(
                &self,
                py: Python<'py>,
                n_periods: PyReadonlyArray1<'py, f64>,
                seed: u64,
            ) -> PyResult<(
                Bound<'py, PyArray1<f64>>,
                Bound<'py, PyArray1<bool>>,
                Bound<'py, PyArray1<f64>>,
            )> {
                let horizons = slice("n_periods", &n_periods)?;
                let model = &self.inner.model;
                let sims = detach(py, || contractual::simulate_many(model, horizons, seed))?;
                Ok((
                    vec_to_py(py, sims.iter().map(|s| s.duration).collect()),
                    sims.iter()
                        .map(|s| s.churned)
                        .collect::<Vec<bool>>()
                        .into_pyarray(py),
                    vec_to_py(py, sims.iter().map(|s| s.theta).collect()),
                ))
            }
        }
    };
}

contractual_model_class!(
    ShiftedBetaGeometricModel,
    ShiftedBetaGeometric,
    "sBG (Fader & Hardie 2007) with parameters (alpha, beta)."
);

contractual_model_class!(
    BetaDiscreteWeibullModel,
    BetaDiscreteWeibull,
    "BdW (Fader, Hardie, Liu, Davin & Steenburgh 2018) with parameters (alpha, beta, c)."
);

/// The fit and the per-subscriber predictions of a contractual model with
/// covariates (issue 15): alpha_i = alpha exp(alpha'z_i), beta_i = beta
/// exp(beta'z_i).
macro_rules! subscriber_covariate_methods {
    ($class:ident, $base:ty) => {
        #[pymethods]
        impl $class {
            #[staticmethod]
            #[pyo3(signature = (
                        periods, churned, covariates, columns, by_process, shared, penalties=None,
                        weights=None, penalizer_coef=0.0, initial_params=None, tol=1e-8,
                        max_iterations=200, verbose=false
                    ))]
            #[allow(clippy::too_many_arguments)]
            fn fit(
                py: Python<'_>,
                periods: PyReadonlyArray1<'_, f64>,
                churned: PyReadonlyArray1<'_, bool>,
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
                let n = slice("periods", &periods)?;
                let c = bools(&churned)?;
                let w = optional_slice("weights", &weights)?;
                let z = matrix(&covariates, columns.len())?;
                let options =
                    fit_options(penalizer_coef, initial_params, tol, max_iterations, verbose);
                let inner = detach(py, || {
                    let design = Self::design_of(columns, by_process, shared, penalties)?;
                    let data = CovariateData::for_subscribers(n, c, w, z, design)?;
                    fit::<WithCovariates<$base>>(&data, &options)
                })?;
                Ok(Self { inner })
            }

            /// The per-subscriber prediction `what` (see the plain model's
            /// `subscriber_prediction`) at each subscriber's parameters.
            fn subscriber_prediction<'py>(
                &self,
                py: Python<'py>,
                what: &str,
                periods: PyReadonlyArray1<'py, f64>,
                extra: Option<PyReadonlyArray1<'py, f64>>,
                covariates: PyReadonlyArray2<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let what = subscriber::Prediction::from_name(what).map_err(PyErrWrap)?;
                let n = slice("periods", &periods)?;
                let e = optional_slice("extra", &extra)?.unwrap_or(&[]);
                let z = matrix(&covariates, self.inner.model.design().columns().len())?;
                let model = &self.inner.model;
                detach_array(py, || {
                    subscriber::predict_many_with_covariates(model, what, n, e, z)
                })
            }

            /// `subscriber_prediction` with an interval over the uncertainty
            /// of the estimates (coefficients included).
            #[pyo3(signature = (what, periods, extra, covariates, level=0.95, n_draws=200, seed=0))]
            #[allow(clippy::too_many_arguments)]
            fn subscriber_prediction_interval<'py>(
                &self,
                py: Python<'py>,
                what: &str,
                periods: PyReadonlyArray1<'py, f64>,
                extra: Option<PyReadonlyArray1<'py, f64>>,
                covariates: PyReadonlyArray2<'py, f64>,
                level: f64,
                n_draws: usize,
                seed: u64,
            ) -> PyResult<Bands<'py>> {
                let what = subscriber::Prediction::from_name(what).map_err(PyErrWrap)?;
                let n = slice("periods", &periods)?;
                let e = optional_slice("extra", &extra)?.unwrap_or(&[]);
                let z = matrix(&covariates, self.inner.model.design().columns().len())?;
                let options = IntervalOptions {
                    level,
                    n_draws,
                    seed,
                };
                let fitted = &self.inner;
                let v = detach(py, || {
                    subscriber::predict_interval_with_covariates(fitted, what, n, e, z, &options)
                })?;
                Ok(bands(py, v))
            }

            /// S(t) of a new subscriber with each covariate row.
            fn survival<'py>(
                &self,
                py: Python<'py>,
                t: PyReadonlyArray1<'py, f64>,
                covariates: PyReadonlyArray2<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let t = slice("t", &t)?;
                let z = matrix(&covariates, self.inner.model.design().columns().len())?;
                let model = &self.inner.model;
                detach_array(py, || subscriber::curve_with_covariates(model, t, z, false))
            }

            /// r(t) of a new subscriber with each covariate row (a segment's
            /// retention-rate curve).
            fn retention_rate<'py>(
                &self,
                py: Python<'py>,
                t: PyReadonlyArray1<'py, f64>,
                covariates: PyReadonlyArray2<'py, f64>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let t = slice("t", &t)?;
                let z = matrix(&covariates, self.inner.model.design().columns().len())?;
                let model = &self.inner.model;
                detach_array(py, || subscriber::curve_with_covariates(model, t, z, true))
            }

            /// Simulated subscribers, each at their covariate row's
            /// parameters: (duration, churned, theta).
            #[allow(clippy::type_complexity)]
            fn simulate<'py>(
                &self,
                py: Python<'py>,
                n_periods: PyReadonlyArray1<'py, f64>,
                covariates: PyReadonlyArray2<'py, f64>,
                seed: u64,
            ) -> PyResult<(
                Bound<'py, PyArray1<f64>>,
                Bound<'py, PyArray1<bool>>,
                Bound<'py, PyArray1<f64>>,
            )> {
                let horizons = slice("n_periods", &n_periods)?;
                let z = matrix(&covariates, self.inner.model.design().columns().len())?;
                let model = &self.inner.model;
                let sims = detach(py, || {
                    subscriber::simulate_with_covariates(model, horizons, z, seed)
                })?;
                Ok((
                    vec_to_py(py, sims.iter().map(|s| s.duration).collect()),
                    sims.iter()
                        .map(|s| s.churned)
                        .collect::<Vec<bool>>()
                        .into_pyarray(py),
                    vec_to_py(py, sims.iter().map(|s| s.theta).collect()),
                ))
            }
        }
    };
}

covariate_class!(
    ShiftedBetaGeometricCovariatesModel,
    ShiftedBetaGeometric,
    "sBG per subscriber with time-invariant covariates: alpha_i = alpha exp(alpha'z_i), beta_i = beta exp(beta'z_i)."
);
subscriber_covariate_methods!(ShiftedBetaGeometricCovariatesModel, ShiftedBetaGeometric);

covariate_class!(
    BetaDiscreteWeibullCovariatesModel,
    BetaDiscreteWeibull,
    "BdW per subscriber with time-invariant covariates: alpha_i = alpha exp(alpha'z_i), beta_i = beta exp(beta'z_i), c common."
);
subscriber_covariate_methods!(BetaDiscreteWeibullCovariatesModel, BetaDiscreteWeibull);

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ShiftedBetaGeometricModel>()?;
    m.add_class::<BetaDiscreteWeibullModel>()?;
    m.add_class::<ShiftedBetaGeometricCovariatesModel>()?;
    m.add_class::<BetaDiscreteWeibullCovariatesModel>()?;
    Ok(())
}
