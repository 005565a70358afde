//! Bindings of the contractual retention models: sBG (Fader & Hardie 2007)
//! and BdW (Fader, Hardie, Liu, Davin & Steenburgh 2018).

use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;

use super::{detach, detach_array, fit_options, optional_slice, slice, vec_to_py, PyErrWrap};
use crate::data::RetentionData;
use crate::fit::{fit, Fitted};
use crate::models::contractual::bdw::BetaDiscreteWeibull;
use crate::models::contractual::sbg::ShiftedBetaGeometric;
use crate::models::contractual::{self, RetentionModel};
use crate::models::Model;

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

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ShiftedBetaGeometricModel>()?;
    m.add_class::<BetaDiscreteWeibullModel>()?;
    Ok(())
}
