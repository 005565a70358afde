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
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    // Panics are reported through Python (see `detach`): remember where
    // they happened instead of printing to stderr.
    std::panic::set_hook(Box::new(|info| {
        if let Some(location) = info.location() {
            let text = format!(
                "{}:{}:{}",
                location.file(),
                location.line(),
                location.column()
            );
            if let Ok(mut last) = LAST_PANIC_LOCATION.lock() {
                *last = Some(text);
            }
        }
    }));
    Ok(())
}

/// Where the last panic happened (file:line:column), set by the panic hook
/// and read by [`detach`] for its message.
static LAST_PANIC_LOCATION: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Panics inside [`detach`] (in a rayon job with `in_parallel`), so that the
/// tests can check that a panic reaches Python as a `RuntimeError`. Not part
/// of the API.
#[pyfunction]
#[pyo3(signature = (in_parallel=false))]
fn _panic_for_tests(py: Python<'_>, in_parallel: bool) -> PyResult<()> {
    detach(py, || -> Result<()> {
        if in_parallel {
            use rayon::prelude::*;
            (0..1000usize).into_par_iter().for_each(|i| {
                if i == 700 {
                    panic!("planted panic at row {i}");
                }
            });
        }
        panic!("planted panic for tests");
    })
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
///
/// A panic in `work` (a bug: the core reports bad input as an [`Error`]) is
/// caught here and raised as a `RuntimeError` with the panic's message, not
/// as pyo3's `PanicException`, which derives from `BaseException` and so
/// escapes `except Exception`.
pub(crate) fn detach<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> Result<T> + Send,
) -> PyResult<T> {
    let guarded = move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(|payload| {
            let location = LAST_PANIC_LOCATION.lock().ok().and_then(|mut l| l.take());
            match location {
                Some(at) => format!("{} (at {at})", panic_message(payload.as_ref())),
                None => panic_message(payload.as_ref()),
            }
        })
    };
    match interruptible(py, guarded)? {
        Ok(result) => result.map_err(|e| PyErrWrap(e).into()),
        Err(message) => Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
            "internal error in retentionkit: {message}; please report it, with the call \
             that caused it"
        ))),
    }
}

/// The text a panic was raised with (`panic!`'s message), or a placeholder.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// Runs `work` without the GIL so that Ctrl-C still works: on the main
/// thread (the only one Python delivers signals to) the work runs as a rayon
/// job while this thread checks Python's signals every 20 ms; when a signal
/// handler raises (Ctrl-C's `KeyboardInterrupt`), it asks the core to stop
/// ([`crate::interrupt`]), waits for the work to return, and returns the
/// handler's exception instead of the result. Elsewhere the work runs here.
fn interruptible<R: Send>(py: Python<'_>, work: impl FnOnce() -> R + Send) -> PyResult<R> {
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
    // No result means the work panicked, which `detach` catches inside the
    // work: never reached; keep a message just in case.
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
