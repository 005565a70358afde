//! Conversions between what Python passes and what the core takes: numpy
//! arrays read as slices without copying, results returned as numpy arrays,
//! and the keyword arguments every `fit` takes gathered into [`FitOptions`].

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::fit::FitOptions;

/// A contiguous view of a 1-d float64 array, without copying.
pub(crate) fn slice<'a>(name: &str, array: &'a PyReadonlyArray1<'_, f64>) -> PyResult<&'a [f64]> {
    array
        .as_slice()
        .map_err(|_| PyValueError::new_err(format!("{name} must be a contiguous float64 array")))
}

/// [`slice`] of each named array, in order.
pub(crate) fn slices<'a, const N: usize>(
    arrays: [(&str, &'a PyReadonlyArray1<'_, f64>); N],
) -> PyResult<[&'a [f64]; N]> {
    let mut out: [&[f64]; N] = [&[]; N];
    for (slot, (name, array)) in out.iter_mut().zip(arrays) {
        *slot = slice(name, array)?;
    }
    Ok(out)
}

/// Contiguous views of the given `PyReadonlyArray1<f64>` arguments, named in
/// errors after the variables (which are the Python argument names):
/// `let [x, tx, t] = slices!(frequency, recency, T)?;`.
macro_rules! slices {
    ($($array:ident),+ $(,)?) => {
        $crate::python::convert::slices([$((stringify!($array), &$array)),+])
    };
}

/// [`slice`] of an optional array.
pub(crate) fn optional_slice<'a>(
    name: &str,
    array: &'a Option<PyReadonlyArray1<'_, f64>>,
) -> PyResult<Option<&'a [f64]>> {
    array.as_ref().map(|a| slice(name, a)).transpose()
}

pub(crate) fn vec_to_py<'py>(py: Python<'py>, v: Vec<f64>) -> Bound<'py, PyArray1<f64>> {
    v.into_pyarray(py)
}

/// The [`FitOptions`] of the keyword arguments that every model's `fit`
/// takes (`penalizer_coef, initial_params, tol, max_iterations, verbose`).
pub(crate) fn fit_options(
    penalizer_coef: f64,
    initial_params: Option<Vec<f64>>,
    tol: f64,
    max_iterations: usize,
    verbose: bool,
) -> FitOptions {
    FitOptions {
        penalizer_coef,
        initial_params,
        tol,
        max_iterations,
        verbose,
        ..FitOptions::default()
    }
}
