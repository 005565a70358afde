//! The Python class of MBG/CNBD-k ([`crate::mbgcnbd`]): a fit for a fixed k
//! or the choice of k, the predictions, and the saved format (the shared one,
//! plus the keys `"k"` and `"k_profile"`, which [`Fitted::from_json`] ignores).

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;

use super::{detach, detach_array, fit_options, optional_slice, vec_to_py, PyErrWrap};
use crate::error::{Error, Result};
use crate::fit::Fitted;
use crate::mbgcnbd::{fit_k, select_k, CnbdData, MbgCnbdK};
use crate::models::Model;
use crate::CustomerData;

/// A fitted (or given) MBG/CNBD-k model: parameters (r, alpha, a, b), k, and
/// the log-likelihood profile over k when k was chosen.
#[pyclass(module = "retentionkit._core", frozen)]
pub struct MBGCNBDkModel {
    inner: Fitted<MbgCnbdK>,
    /// (k, log-likelihood) of each k tried (empty when k was fixed).
    profile: Vec<(u32, f64)>,
}

fn k_of(value: f64) -> Result<u32> {
    if value.fract() == 0.0 && (1.0..=f64::from(crate::mbgcnbd::MAX_K)).contains(&value) {
        Ok(value as u32)
    } else {
        Err(Error::InvalidParameter {
            name: "k".to_string(),
            value,
            rule: "must be a whole number from 1 to 100",
        })
    }
}

/// Checks the histories of predictions.
fn check_histories(x: &[f64], t_x: &[f64], t: &[f64]) -> Result<()> {
    CustomerData::to_evaluate(x, t_x, t, None).map(|_| ())
}

#[pymethods]
impl MBGCNBDkModel {
    #[classattr]
    #[allow(non_snake_case)]
    fn PARAM_NAMES() -> Vec<&'static str> {
        MbgCnbdK::PARAM_NAMES.to_vec()
    }

    #[classattr]
    #[allow(non_snake_case)]
    fn MODEL_NAME() -> &'static str {
        <MbgCnbdK as Model>::NAME
    }

    /// Fits k (an integer) or, with k None, each k from 1 to max_k, keeping the best.
    #[staticmethod]
    #[pyo3(signature = (
        frequency, recency, T, litt, weights=None, k=None, max_k=12.0, penalizer_coef=0.0,
        initial_params=None, tol=1e-8, max_iterations=200, verbose=false
    ))]
    #[allow(non_snake_case, clippy::too_many_arguments)]
    fn fit(
        py: Python<'_>,
        frequency: PyReadonlyArray1<'_, f64>,
        recency: PyReadonlyArray1<'_, f64>,
        T: PyReadonlyArray1<'_, f64>,
        litt: PyReadonlyArray1<'_, f64>,
        weights: Option<PyReadonlyArray1<'_, f64>>,
        k: Option<f64>,
        max_k: f64,
        penalizer_coef: f64,
        initial_params: Option<Vec<f64>>,
        tol: f64,
        max_iterations: usize,
        verbose: bool,
    ) -> PyResult<Self> {
        let [x, tx, t, l] = slices!(frequency, recency, T, litt)?;
        let w = optional_slice("weights", &weights)?;
        let options = fit_options(penalizer_coef, initial_params, tol, max_iterations, verbose);
        let (inner, profile) = detach(py, || {
            let data = CnbdData::new(1, x, tx, t, l, w)?;
            match k {
                Some(k) => Ok((fit_k(&data, k_of(k)?, &options)?, Vec::new())),
                None => {
                    let selection = select_k(&data, k_of(max_k)?, &options)?;
                    Ok((selection.best, selection.profile))
                }
            }
        })?;
        Ok(Self { inner, profile })
    }

    #[staticmethod]
    #[pyo3(signature = (params, k=1.0))]
    fn from_params(params: Vec<f64>, k: f64) -> PyResult<Self> {
        let model = MbgCnbdK::from_slice(&params)
            .and_then(|m| m.with_k(k_of(k)?))
            .map_err(PyErrWrap)?;
        Ok(Self {
            inner: Fitted::from_model(model),
            profile: Vec::new(),
        })
    }

    /// The same parameters and fit statistics with another k (the profile is dropped).
    fn with_k(&self, k: f64) -> PyResult<Self> {
        let mut inner = self.inner.clone();
        inner.model = inner
            .model
            .with_k(k_of(k).map_err(PyErrWrap)?)
            .map_err(PyErrWrap)?;
        Ok(Self {
            inner,
            profile: Vec::new(),
        })
    }

    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        let parse = || -> Result<Self> {
            let body = text.strip_prefix('\u{feff}').unwrap_or(text);
            let value: serde_json::Value =
                serde_json::from_str(body).map_err(|e| Error::Serialization(e.to_string()))?;
            let k = match value.get("k") {
                None => 1.0,
                Some(v) => v.as_f64().ok_or_else(|| {
                    Error::Serialization(format!("\"k\" is {v}, not a whole number"))
                })?,
            };
            let k = k_of(k).map_err(|_| {
                Error::Serialization(format!("\"k\" is {k}, not a whole number from 1 to 100"))
            })?;
            let mut profile = Vec::new();
            if let Some(rows) = value.get("k_profile").and_then(|v| v.as_array()) {
                for row in rows {
                    let pair = row.as_array().filter(|p| p.len() == 2);
                    let (kk, ll) = match pair {
                        Some(p) => (p[0].as_f64(), p[1].as_f64()),
                        None => (None, None),
                    };
                    match (kk, ll) {
                        (Some(kk), ll) => profile.push((k_of(kk)?, ll.unwrap_or(f64::NAN))),
                        _ => {
                            return Err(Error::Serialization(format!(
                                "\"k_profile\": {row} is not a pair (k, log-likelihood)"
                            )))
                        }
                    }
                }
            }
            let mut inner = Fitted::<MbgCnbdK>::from_json(body)?;
            inner.model.k = k;
            Ok(Self { inner, profile })
        };
        parse().map_err(|e| PyErrWrap(e).into())
    }

    fn to_json(&self) -> String {
        let text = self.inner.to_json();
        let mut value: serde_json::Value =
            serde_json::from_str(&text).expect("the shared format is JSON");
        if let Some(map) = value.as_object_mut() {
            map.insert("k".to_string(), serde_json::Value::from(self.inner.model.k));
            if !self.profile.is_empty() {
                let rows: Vec<serde_json::Value> = self
                    .profile
                    .iter()
                    .map(|&(k, ll)| {
                        let ll = if ll.is_finite() {
                            serde_json::Value::from(ll)
                        } else {
                            serde_json::Value::Null
                        };
                        serde_json::Value::Array(vec![serde_json::Value::from(k), ll])
                    })
                    .collect();
                map.insert("k_profile".to_string(), serde_json::Value::Array(rows));
            }
        }
        serde_json::to_string_pretty(&value).expect("a model always serialises")
    }

    #[getter]
    fn k(&self) -> u32 {
        self.inner.model.k
    }

    /// (k, log-likelihood) of each k tried when k was chosen; empty otherwise.
    #[getter]
    fn k_profile(&self) -> Vec<(u32, f64)> {
        self.profile.clone()
    }

    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        vec_to_py(py, self.inner.params())
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
    fn covariance<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyArray2<f64>>>> {
        match self.inner.info.as_ref().and_then(|i| i.covariance.clone()) {
            Some(cov) => Ok(Some(vec_to_py(py, cov).reshape([4, 4])?)),
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

    #[getter]
    fn penalizer_coef(&self) -> f64 {
        self.inner.info.as_ref().map_or(0.0, |i| i.penalizer_coef)
    }

    #[getter]
    fn fit_warnings(&self) -> Vec<String> {
        self.inner
            .info
            .as_ref()
            .map_or_else(Vec::new, |i| i.warnings.clone())
    }

    /// ln L of each history (x, t_x, T, litt).
    #[allow(non_snake_case)]
    fn individual_log_likelihood<'py>(
        &self,
        py: Python<'py>,
        frequency: PyReadonlyArray1<'py, f64>,
        recency: PyReadonlyArray1<'py, f64>,
        T: PyReadonlyArray1<'py, f64>,
        litt: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let [x, tx, t, l] = slices!(frequency, recency, T, litt)?;
        let model = self.inner.model;
        detach_array(py, || {
            CnbdData::new(model.k, x, tx, t, l, None)?;
            Ok(crate::predict::par_map(x.len(), |i| {
                model.individual_log_likelihood(x[i], tx[i], t[i], l[i])
            }))
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
        let [x, tx, t] = slices!(frequency, recency, T)?;
        let model = self.inner.model;
        detach_array(py, || {
            check_histories(x, tx, t)?;
            Ok(crate::predict::par_map(x.len(), |i| {
                model.probability_alive(x[i], tx[i], t[i])
            }))
        })
    }

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
        let model = self.inner.model;
        detach_array(py, || {
            check_histories(x, tx, age)?;
            crate::predict::check_horizon("t", h, x.len())?;
            Ok(crate::predict::par_map(x.len(), |i| {
                model.conditional_expected_purchases(h[i], x[i], tx[i], age[i])
            }))
        })
    }

    fn expected_number_of_purchases_up_to_time<'py>(
        &self,
        py: Python<'py>,
        t: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let [h] = slices!(t)?;
        let model = self.inner.model;
        detach_array(py, || {
            crate::predict::check_horizon("t", h, h.len())?;
            Ok(crate::predict::par_map(h.len(), |i| {
                model.expected_purchases(h[i])
            }))
        })
    }

    fn probability_of_n_purchases_up_to_time<'py>(
        &self,
        py: Python<'py>,
        t: PyReadonlyArray1<'py, f64>,
        n: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let [h, counts] = slices!(t, n)?;
        let model = self.inner.model;
        detach_array(py, || {
            crate::predict::check_horizon("t", h, counts.len())?;
            if let Some(row) = counts
                .iter()
                .position(|&v| !(v >= 0.0 && v.fract() == 0.0 && v.is_finite()))
            {
                return Err(Error::InvalidData {
                    rule: "n must be a non-negative whole number",
                    row,
                    detail: format!("n = {}", counts[row]),
                    column: Some("n"),
                    cohort: None,
                    period: None,
                });
            }
            Ok(crate::predict::par_map(h.len(), |i| {
                model.probability_of_purchases(h[i], counts[i])
            }))
        })
    }

    /// Simulated customers: (frequency, recency, T, litt, rate, drop-out, alive).
    #[allow(clippy::type_complexity)]
    fn simulate<'py>(
        &self,
        py: Python<'py>,
        ages: PyReadonlyArray1<'py, f64>,
        seed: u64,
    ) -> PyResult<(
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
    )> {
        let [a] = slices!(ages)?;
        let model = self.inner.model;
        let sims = detach(py, || {
            if let Some(row) = a.iter().position(|&t| !(t >= 0.0 && t.is_finite())) {
                return Err(Error::InvalidData {
                    rule: "T must be non-negative and finite",
                    row,
                    detail: format!("T = {}", a[row]),
                    column: Some("T"),
                    cohort: None,
                    period: None,
                });
            }
            Ok(model.simulate(a, seed))
        })?;
        let column = |f: &dyn Fn(&(crate::SimulatedCustomer, f64)) -> f64| {
            vec_to_py(py, sims.iter().map(f).collect())
        };
        Ok((
            column(&|c| c.0.frequency),
            column(&|c| c.0.recency),
            column(&|c| c.0.age),
            column(&|c| c.1),
            column(&|c| c.0.rate),
            column(&|c| c.0.dropout),
            column(&|c| if c.0.alive { 1.0 } else { 0.0 }),
        ))
    }

    fn __repr__(&self) -> String {
        let p = self.inner.params();
        format!(
            "MBGCNBDkModel(k={}, r={:.6}, alpha={:.6}, a={:.6}, b={:.6})",
            self.inner.model.k, p[0], p[1], p[2], p[3]
        )
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<MBGCNBDkModel>()
}
