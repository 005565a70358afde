//! Bindings of the Pareto/NBD with time-varying covariates
//! ([`crate::models::time_varying`]): the panel (histories, per-period
//! covariates, the design), built once, and the model fitted on it and
//! predicting for its customers.

use std::collections::BTreeMap;

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::covariates::design_of;
use super::{detach, detach_array, fit_options, vec_to_py, PyErrWrap};
use crate::fit::{fit, Fitted};
use crate::models::time_varying::{TimeVaryingData, TimeVaryingParetoNBD};
use crate::models::Model;
use crate::ParetoNBD;

fn contiguous<'a>(array: &'a PyReadonlyArray2<'_, f64>, name: &str) -> PyResult<&'a [f64]> {
    array
        .as_slice()
        .map_err(|_| PyValueError::new_err(format!("{name} must be a C-contiguous float64 array")))
}

fn contiguous1<'a, T: numpy::Element>(
    array: &'a PyReadonlyArray1<'_, T>,
    name: &str,
) -> PyResult<&'a [T]> {
    array
        .as_slice()
        .map_err(|_| PyValueError::new_err(format!("{name} must be a C-contiguous array")))
}

/// The periods of each customer as counts (a negative count as 0, as the
/// panel has always read it).
fn period_counts_of(counts: &[i64]) -> Vec<usize> {
    counts
        .iter()
        .map(|&c| usize::try_from(c).unwrap_or(0))
        .collect()
}

/// Customers' histories with one row of covariates per period (see
/// `TimeVaryingData::new`), validated once.
#[pyclass(module = "retentionkit._core", frozen)]
pub struct TimeVaryingPanel {
    inner: TimeVaryingData,
}

#[pymethods]
impl TimeVaryingPanel {
    #[new]
    #[pyo3(signature = (
        frequency, recency, T, purchase_sums, first_period_start, period_counts, covariates,
        columns, by_process, shared, penalties=None
    ))]
    #[allow(non_snake_case, clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        frequency: PyReadonlyArray1<'_, f64>,
        recency: PyReadonlyArray1<'_, f64>,
        T: PyReadonlyArray1<'_, f64>,
        purchase_sums: PyReadonlyArray2<'_, f64>,
        first_period_start: PyReadonlyArray1<'_, f64>,
        period_counts: PyReadonlyArray1<'_, i64>,
        covariates: PyReadonlyArray2<'_, f64>,
        columns: Vec<String>,
        by_process: Vec<Vec<usize>>,
        shared: Vec<usize>,
        penalties: Option<Vec<f64>>,
    ) -> PyResult<Self> {
        let x = contiguous1(&frequency, "frequency")?;
        let tx = contiguous1(&recency, "recency")?;
        let t = contiguous1(&T, "T")?;
        let sums = contiguous(&purchase_sums, "purchase_sums")?;
        let starts = contiguous1(&first_period_start, "first_period_start")?;
        let counts = contiguous1(&period_counts, "period_counts")?;
        let z = contiguous(&covariates, "covariates")?;
        let inner = detach(py, || {
            let counts = period_counts_of(counts);
            let design = design_of::<ParetoNBD>(&columns, &by_process, &shared, penalties)?;
            TimeVaryingData::new(x, tx, t, sums, starts, &counts, z, design)
        })?;
        Ok(Self { inner })
    }

    /// The panel gathered from the covariate table's own columns: row `j` of
    /// the panel is row `rows[j]` of every array of `column_values` (all rows
    /// in order when `rows` is None). The rows are copied once, into the
    /// panel, without an intermediate matrix.
    #[staticmethod]
    #[pyo3(signature = (
        frequency, recency, T, purchase_sums, first_period_start, period_counts,
        column_values, rows, columns, by_process, shared, penalties=None
    ))]
    #[allow(non_snake_case, clippy::too_many_arguments)]
    fn from_columns(
        py: Python<'_>,
        frequency: PyReadonlyArray1<'_, f64>,
        recency: PyReadonlyArray1<'_, f64>,
        T: PyReadonlyArray1<'_, f64>,
        purchase_sums: PyReadonlyArray2<'_, f64>,
        first_period_start: PyReadonlyArray1<'_, f64>,
        period_counts: PyReadonlyArray1<'_, i64>,
        column_values: Vec<PyReadonlyArray1<'_, f64>>,
        rows: Option<PyReadonlyArray1<'_, i64>>,
        columns: Vec<String>,
        by_process: Vec<Vec<usize>>,
        shared: Vec<usize>,
        penalties: Option<Vec<f64>>,
    ) -> PyResult<Self> {
        let x = contiguous1(&frequency, "frequency")?;
        let tx = contiguous1(&recency, "recency")?;
        let t = contiguous1(&T, "T")?;
        let sums = contiguous(&purchase_sums, "purchase_sums")?;
        let starts = contiguous1(&first_period_start, "first_period_start")?;
        let counts = contiguous1(&period_counts, "period_counts")?;
        let values = column_values
            .iter()
            .map(|c| contiguous1(c, "column_values"))
            .collect::<PyResult<Vec<&[f64]>>>()?;
        let rows = rows.as_ref().map(|r| contiguous1(r, "rows")).transpose()?;
        if values.len() != columns.len() {
            return Err(PyValueError::new_err(format!(
                "{} arrays of column values for {} columns",
                values.len(),
                columns.len()
            )));
        }
        let height = values.first().map_or(0, |v| v.len());
        if values.iter().any(|v| v.len() != height) {
            return Err(PyValueError::new_err(
                "the arrays of column values differ in length",
            ));
        }
        if let Some(bad) = rows.and_then(|r| r.iter().find(|&&i| i < 0 || i as usize >= height)) {
            return Err(PyValueError::new_err(format!(
                "row {bad} is outside the covariate table of {height} rows"
            )));
        }
        let inner = detach(py, || {
            let k = values.len();
            let mut z = Vec::with_capacity(rows.map_or(height, <[i64]>::len) * k);
            match rows {
                Some(rows) => {
                    for &i in rows {
                        z.extend(values.iter().map(|v| v[i as usize]));
                    }
                }
                None => {
                    for i in 0..height {
                        z.extend(values.iter().map(|v| v[i]));
                    }
                }
            }
            let counts = period_counts_of(counts);
            let design = design_of::<ParetoNBD>(&columns, &by_process, &shared, penalties)?;
            TimeVaryingData::from_owned(x, tx, t, sums, starts, &counts, z, design)
        })?;
        Ok(Self { inner })
    }

    /// The covariate rows of the panel (periods × columns), a copy.
    #[getter]
    fn covariates<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let k = self.inner.design().columns().len();
        let z = self.inner.covariate_rows();
        let n = z.len().checked_div(k).unwrap_or(0);
        vec_to_py(py, z.to_vec()).reshape([n, k])
    }

    /// The coefficient names of the panel's design.
    #[getter]
    fn coefficient_names(&self) -> Vec<String> {
        self.inner.design().coefficient_names().to_vec()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }
}

/// Pareto/NBD with time-varying covariates, fitted or with given parameters.
#[pyclass(module = "retentionkit._core", frozen)]
pub struct TimeVaryingParetoNBDModel {
    inner: Fitted<TimeVaryingParetoNBD>,
}

// The fit information as every model class has it; as ever, no `n_unique` and
// no `fit_warnings` (the time-varying model has never had them: its stub and
// the pandas layer's `getattr(model, "fit_warnings", ())` go without).
fit_info_accessors!(TimeVaryingParetoNBDModel, TimeVaryingParetoNBD; penalizer_coef);
json_and_repr!(TimeVaryingParetoNBDModel, TimeVaryingParetoNBD);

#[pymethods]
impl TimeVaryingParetoNBDModel {
    #[classattr]
    #[allow(non_snake_case)]
    fn BASE_PARAM_NAMES() -> Vec<&'static str> {
        ParetoNBD::PARAM_NAMES.to_vec()
    }

    /// The base parameters (the coefficients depend on the design: see
    /// `param_names`).
    #[classattr]
    #[allow(non_snake_case)]
    fn PARAM_NAMES() -> Vec<&'static str> {
        ParetoNBD::PARAM_NAMES.to_vec()
    }

    #[staticmethod]
    #[pyo3(signature = (
        panel, penalizer_coef=0.0, initial_params=None, tol=1e-8, max_iterations=200,
        verbose=false
    ))]
    fn fit(
        py: Python<'_>,
        panel: &TimeVaryingPanel,
        penalizer_coef: f64,
        initial_params: Option<Vec<f64>>,
        tol: f64,
        max_iterations: usize,
        verbose: bool,
    ) -> PyResult<Self> {
        let options = fit_options(penalizer_coef, initial_params, tol, max_iterations, verbose);
        let data = &panel.inner;
        let inner = detach(py, || fit::<TimeVaryingParetoNBD>(data, &options))?;
        Ok(Self { inner })
    }

    /// The model with these named parameters (r, alpha, s, beta and the
    /// coefficients `purchase:<column>`, `dropout:<column>`).
    #[staticmethod]
    fn from_params(params: BTreeMap<String, f64>) -> PyResult<Self> {
        let model = TimeVaryingParetoNBD::from_named_params(&params).map_err(PyErrWrap)?;
        let names = model.param_names();
        if let Some(unknown) = params.keys().find(|k| !names.contains(k)) {
            return Err(PyValueError::new_err(format!(
                "{unknown} is not a parameter of this model (its parameters: {})",
                names.join(", ")
            )));
        }
        Ok(Self {
            inner: Fitted::from_model(model),
        })
    }

    #[getter]
    fn param_names(&self) -> Vec<String> {
        self.inner.model.param_names()
    }

    /// The covariate columns.
    #[getter]
    fn columns(&self) -> Vec<String> {
        self.inner.model.design().columns().to_vec()
    }

    /// ln L of each customer of the panel (0 for T = 0).
    fn individual_log_likelihood<'py>(
        &self,
        py: Python<'py>,
        panel: &TimeVaryingPanel,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let (model, data) = (&self.inner.model, &panel.inner);
        detach_array(py, || model.individual_log_likelihood(data))
    }

    /// The total log-likelihood of the panel at these parameters.
    fn log_likelihood_of(&self, py: Python<'_>, panel: &TimeVaryingPanel) -> PyResult<f64> {
        let (model, data) = (&self.inner.model, &panel.inner);
        detach(py, || {
            Ok(model.evaluate(data, crate::models::Derivatives::None).value)
        })
    }

    /// P(alive at T | history) of each customer of the panel.
    fn conditional_probability_alive<'py>(
        &self,
        py: Python<'py>,
        panel: &TimeVaryingPanel,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let (model, data) = (&self.inner.model, &panel.inner);
        detach_array(py, || model.conditional_probability_alive(data))
    }

    /// E[Y(t) | history] of each customer of the panel.
    fn conditional_expected_number_of_purchases_up_to_time<'py>(
        &self,
        py: Python<'py>,
        panel: &TimeVaryingPanel,
        t: f64,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let (model, data) = (&self.inner.model, &panel.inner);
        detach_array(py, || model.conditional_expected_purchases(data, t))
    }

    /// DECT: expected purchases in (T, T + t] discounted continuously at
    /// `discount_rate` per time unit.
    fn discounted_expected_conditional_transactions<'py>(
        &self,
        py: Python<'py>,
        panel: &TimeVaryingPanel,
        t: f64,
        discount_rate: f64,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let (model, data) = (&self.inner.model, &panel.inner);
        detach_array(py, || {
            model.discounted_expected_conditional_transactions(data, t, discount_rate)
        })
    }

    /// Simulated customers (see `TimeVaryingParetoNBD::simulate`): the
    /// customer (position) and time of each repeat purchase, then each
    /// customer's λ, μ and time of death (inf when alive at the end).
    #[allow(non_snake_case, clippy::type_complexity)]
    fn simulate<'py>(
        &self,
        py: Python<'py>,
        first_period_start: PyReadonlyArray1<'py, f64>,
        period_counts: PyReadonlyArray1<'py, i64>,
        covariates: PyReadonlyArray2<'py, f64>,
        T: PyReadonlyArray1<'py, f64>,
        seed: u64,
    ) -> PyResult<(
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
    )> {
        let starts = contiguous1(&first_period_start, "first_period_start")?;
        let counts = contiguous1(&period_counts, "period_counts")?;
        let z = contiguous(&covariates, "covariates")?;
        let age = contiguous1(&T, "T")?;
        let model = &self.inner.model;
        let paths = detach(py, || {
            let counts = period_counts_of(counts);
            model.simulate(starts, &counts, z, age, seed)
        })?;
        let (mut who, mut when) = (Vec::new(), Vec::new());
        for (i, p) in paths.iter().enumerate() {
            who.extend(std::iter::repeat_n(i as f64, p.purchases.len()));
            when.extend_from_slice(&p.purchases);
        }
        Ok((
            vec_to_py(py, who),
            vec_to_py(py, when),
            vec_to_py(py, paths.iter().map(|p| p.rate).collect()),
            vec_to_py(py, paths.iter().map(|p| p.dropout).collect()),
            vec_to_py(py, paths.iter().map(|p| p.death).collect()),
        ))
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<TimeVaryingPanel>()?;
    m.add_class::<TimeVaryingParetoNBDModel>()?;
    Ok(())
}
