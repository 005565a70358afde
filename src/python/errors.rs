//! The crate's [`Error`] as Python exceptions, and [`detach`], the one way a
//! binding runs core work: without the GIL, with the error mapped (polars'
//! `enter_polars`).
//!
//! Invalid data raises `retentionkit.InvalidDataError` and a fit that does
//! not converge `retentionkit.ConvergenceError`, both subclasses of
//! `ValueError` (as in lifetimes) carrying the error's fields as attributes,
//! so the pandas layer never reads them back out of the message.

use numpy::PyArray1;
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::IntoPyObjectExt;

use super::vec_to_py;
use crate::error::{Error, Result};

create_exception!(
    retentionkit,
    ConvergenceError,
    PyValueError,
    "The optimiser did not converge (a ValueError, as in lifetimes).\n\n\
     ``reason`` is \"not converged\" (the iteration limit was reached before the \
     tolerance) or \"not identified\" (the optimum lies on the boundary of the \
     parameter space)."
);

create_exception!(
    retentionkit,
    InvalidDataError,
    PyValueError,
    "Input data break a validity rule (a ValueError).\n\n\
     ``rule`` is the rule in words; ``row`` the zero-based position of the first \
     offending row in the input; ``label`` that row's index label (None for a \
     default RangeIndex or a non-pandas input); ``column`` the input column the \
     rule concerns; for survivor counts by cohort, ``cohort`` (zero-based) and \
     ``period``. Each is None when it does not apply."
);

/// The attributes of `InvalidDataError`, None on the class.
const INVALID_DATA_ATTRIBUTES: [&str; 6] = ["rule", "row", "label", "column", "cohort", "period"];

/// Adds the exception classes to `_core`, with their attributes' defaults on
/// the class (None), so an instance raised from Python has them too.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let convergence = py.get_type::<ConvergenceError>();
    convergence.setattr("reason", py.None())?;
    let invalid = py.get_type::<InvalidDataError>();
    for name in INVALID_DATA_ATTRIBUTES {
        invalid.setattr(name, py.None())?;
    }
    m.add("ConvergenceError", convergence)?;
    m.add("InvalidDataError", invalid)?;
    Ok(())
}

/// Carries a crate error across the binding boundary.
pub(crate) struct PyErrWrap(pub(crate) Error);

impl From<Error> for PyErrWrap {
    fn from(e: Error) -> Self {
        PyErrWrap(e)
    }
}

impl From<PyErrWrap> for PyErr {
    fn from(e: PyErrWrap) -> PyErr {
        Python::attach(|py| to_py_err(py, e.0).unwrap_or_else(|err| err))
    }
}

/// The Python exception of `error`, its fields set as attributes (an error
/// while setting them is returned instead).
fn to_py_err(py: Python<'_>, error: Error) -> PyResult<PyErr> {
    let message = error.to_string();
    let (err, attributes) = match error {
        Error::NotConverged { .. } => (
            ConvergenceError::new_err(message),
            vec![("reason", "not converged".into_py_any(py)?)],
        ),
        Error::Unidentified { .. } => (
            ConvergenceError::new_err(message),
            vec![("reason", "not identified".into_py_any(py)?)],
        ),
        Error::InvalidData {
            rule,
            row,
            column,
            cohort,
            period,
            ..
        } => (
            InvalidDataError::new_err(message),
            vec![
                ("rule", rule.into_py_any(py)?),
                ("row", row.into_py_any(py)?),
                ("column", column.into_py_any(py)?),
                ("cohort", cohort.into_py_any(py)?),
                ("period", period.into_py_any(py)?),
            ],
        ),
        Error::LengthMismatch { name, .. } => (
            InvalidDataError::new_err(message),
            vec![
                (
                    "rule",
                    "all inputs must have the same length".into_py_any(py)?,
                ),
                ("column", name.into_py_any(py)?),
            ],
        ),
        Error::Empty => (
            InvalidDataError::new_err(message),
            vec![(
                "rule",
                "no customers (the input is empty or all weights are zero)".into_py_any(py)?,
            )],
        ),
        Error::Interrupted => (
            pyo3::exceptions::PyKeyboardInterrupt::new_err(message),
            vec![],
        ),
        _ => (PyValueError::new_err(message), vec![]),
    };
    let value = err.value(py);
    for (name, attribute) in attributes {
        value.setattr(name, attribute)?;
    }
    Ok(err)
}

/// Runs `work` without the GIL and maps its error: every call into the core
/// that may take time goes through here.
pub(crate) fn detach<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> Result<T> + Send,
) -> PyResult<T> {
    interruptible(py, work)?.map_err(|e| PyErrWrap(e).into())
}

/// Runs `work` without the GIL so that Ctrl-C still works: on the main
/// thread (the only one Python delivers signals to) the work runs as a rayon
/// job while this thread checks Python's signals every 20 ms; when a signal
/// handler raises (Ctrl-C's `KeyboardInterrupt`), it asks the core to stop
/// ([`crate::interrupt`]), waits for the work to return, and returns the
/// handler's exception instead of the result. Elsewhere the work runs here.
fn interruptible<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> Result<T> + Send,
) -> PyResult<Result<T>> {
    use std::sync::mpsc::{channel, RecvTimeoutError};
    use std::time::Duration;

    if !is_main_thread(py) {
        return Ok(py.detach(work));
    }
    let (result, signal) = py.detach(|| {
        rayon::in_place_scope(|scope| {
            let (sender, receiver) = channel();
            scope.spawn(move |_| {
                let _ = sender.send(work());
            });
            let mut signal: Option<PyErr> = None;
            loop {
                match receiver.recv_timeout(Duration::from_millis(20)) {
                    Ok(result) => return (Some(result), signal),
                    Err(RecvTimeoutError::Disconnected) => return (None, signal),
                    Err(RecvTimeoutError::Timeout) if signal.is_none() => {
                        if let Err(e) = Python::attach(|py| py.check_signals()) {
                            crate::interrupt::request();
                            signal = Some(e);
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                }
            }
        })
    });
    if let Some(e) = signal {
        crate::interrupt::clear();
        return Err(e);
    }
    // The work panicked: rayon's scope re-raised the panic above, so a
    // missing result is never reached; keep a message just in case.
    result.ok_or_else(|| {
        pyo3::exceptions::PyRuntimeError::new_err("the computation stopped without a result")
    })
}

/// Whether this is Python's main thread (where signal handlers run).
fn is_main_thread(py: Python<'_>) -> bool {
    let check = || -> PyResult<bool> {
        let threading = py.import("threading")?;
        let current = threading.call_method0("current_thread")?;
        let main = threading.call_method0("main_thread")?;
        Ok(current.is(&main))
    };
    check().unwrap_or(false)
}

/// [`detach`] for core work that returns one value per row, as a numpy array.
pub(crate) fn detach_array<'py>(
    py: Python<'py>,
    work: impl FnOnce() -> Result<Vec<f64>> + Send,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    Ok(vec_to_py(py, detach(py, work)?))
}
