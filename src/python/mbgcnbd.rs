//! The Python class of MBG/CNBD-k ([`crate::mbgcnbd`]): what the other
//! transaction models' classes have (the accessors of `model_accessors!`, the
//! (x, t_x, T) predictions of `transaction_predictions!`, DERT and the
//! intervals of `interval_methods!`), and what k and litt need: a fit for a
//! fixed k or the choice of k, the likelihood and simulation with litt, and
//! the saved format with the k profile ([`crate::mbgcnbd::json_with_profile`];
//! the core's [`Fitted::from_json`] restores k).

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use super::{
    detach, detach_array, fit_options, optional_slice, simulated_columns, slice, vec_to_py,
    PyErrWrap, SimulatedColumns,
};
use crate::error::Error;
use crate::fit::Fitted;
use crate::mbgcnbd::{
    fit_k, json_with_profile, k_from_f64, select_k, CnbdData, KSelection, MbgCnbdK,
};
use crate::predict;

/// A fitted (or given) MBG/CNBD-k model: parameters (r, alpha, a, b), k, and
/// the log-likelihood profile over k when k was chosen.
#[pyclass(module = "retentionkit._core", frozen)]
pub struct MBGCNBDkModel {
    /// Visible to the other binding files (CLV, intervals), as for the
    /// classes of `model_class!`.
    pub(crate) inner: Fitted<MbgCnbdK>,
    /// (k, log-likelihood) of each k tried (empty when k was fixed).
    profile: Vec<(u32, f64)>,
}

model_accessors!(MBGCNBDkModel, MbgCnbdK);
transaction_predictions!(MBGCNBDkModel);

#[pymethods]
impl MBGCNBDkModel {
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
                Some(k) => Ok((fit_k(&data, k_from_f64(k)?, &options)?, Vec::new())),
                None => {
                    let selection = select_k(&data, k_from_f64(max_k)?, &options)?;
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
            .and_then(|m| m.with_k(k_from_f64(k)?))
            .map_err(PyErrWrap)?;
        Ok(Self {
            inner: Fitted::from_model(model),
            profile: Vec::new(),
        })
    }

    /// The same parameters and fit statistics with another k (the profile is dropped).
    fn with_k(&self, k: f64) -> PyResult<Self> {
        let mut inner = self.inner.clone();
        inner.model = k_from_f64(k)
            .and_then(|k| inner.model.with_k(k))
            .map_err(PyErrWrap)?;
        Ok(Self {
            inner,
            profile: Vec::new(),
        })
    }

    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        let KSelection { best, profile } = KSelection::from_json(text).map_err(PyErrWrap)?;
        Ok(Self {
            inner: best,
            profile,
        })
    }

    fn to_json(&self) -> String {
        json_with_profile(&self.inner, &self.profile)
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
            Ok(predict::par_map(x.len(), |i| {
                model.individual_log_likelihood(x[i], tx[i], t[i], l[i])
            }))
        })
    }

    /// Simulated customers: ((frequency, recency, T, rate, drop-out, alive), litt).
    fn simulate<'py>(
        &self,
        py: Python<'py>,
        ages: PyReadonlyArray1<'py, f64>,
        seed: u64,
    ) -> PyResult<(SimulatedColumns<'py>, Bound<'py, PyArray1<f64>>)> {
        let [a] = slices!(ages)?;
        let model = self.inner.model;
        let (sims, litt): (Vec<_>, Vec<_>) = detach(py, || {
            predict::check_simulation_ages(a)?;
            Ok::<_, Error>(model.simulate(a, seed).into_iter().unzip())
        })?;
        Ok((simulated_columns(py, &sims), vec_to_py(py, litt)))
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
