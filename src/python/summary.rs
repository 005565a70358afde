//! Bindings of the transaction-log summaries (`crate::data::transaction_summary`). The pandas
//! layer (`retentionkit.utils`) factorises the ids (integer ids here, with
//! [`factorize_int64`]; others with pandas), converts datetimes to period ordinals and
//! passes the arrays, read here without copying.

use numpy::{Element, IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::{PyNotImplementedError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use super::errors::PyErrWrap;
use super::{detach, optional_slice, vec_to_py};
use crate::data::arrow_c::{ArrowArrayStream, ArrowError, Batches, Stream};
use crate::data::arrow_summary::{
    summarize_batches, ArrowSummaryError, ArrowSummaryOptions, PeriodUnit,
};
use crate::data::factorize_sorted;
use crate::data::transaction_summary::{
    self as summary, HoldoutOptions, SummaryOptions, TransactionSummary,
};

type Array<'py, T> = Bound<'py, PyArray1<T>>;

/// (customer, frequency, recency, T, monetary_value or None).
type SummaryColumns<'py> = (
    Array<'py, usize>,
    Array<'py, f64>,
    Array<'py, f64>,
    Array<'py, f64>,
    Option<Array<'py, f64>>,
);

/// Customer codes: uint32 (from [`factorize_int64`]) or int64 (from `pandas.factorize`).
#[derive(FromPyObject)]
enum Codes<'py> {
    U32(PyReadonlyArray1<'py, u32>),
    I64(PyReadonlyArray1<'py, i64>),
}

/// Runs `$body` with `$c` bound to the codes' slice, whatever their type.
macro_rules! with_codes {
    ($codes:expr, |$c:ident| $body:expr) => {
        match &$codes {
            Codes::U32(array) => {
                let $c = view("customers", array)?;
                $body
            }
            Codes::I64(array) => {
                let $c = view("customers", array)?;
                $body
            }
        }
    };
}

/// Dense uint32 codes of int64 ids in sorted id order, and the distinct ids:
/// `pandas.factorize(ids, sort=True)`, in parallel and without the GIL.
#[pyfunction]
fn factorize_int64<'py>(
    py: Python<'py>,
    ids: PyReadonlyArray1<'py, i64>,
) -> PyResult<(Array<'py, u32>, Array<'py, i64>)> {
    let ids = view("ids", &ids)?;
    let (codes, uniques) = py.detach(|| factorize_sorted(ids));
    Ok((codes.into_pyarray(py), uniques.into_pyarray(py)))
}

/// A contiguous view of a 1-d numpy array, without copying.
fn view<'a, T: Element>(name: &str, array: &'a PyReadonlyArray1<'_, T>) -> PyResult<&'a [T]> {
    array.as_slice().map_err(|_| {
        PyValueError::new_err(format!(
            "{name} must be a contiguous {} array",
            std::any::type_name::<T>()
        ))
    })
}

fn columns(py: Python<'_>, s: TransactionSummary) -> SummaryColumns<'_> {
    (
        s.customer.into_pyarray(py),
        vec_to_py(py, s.frequency),
        vec_to_py(py, s.recency),
        vec_to_py(py, s.age),
        s.monetary_value.map(|m| vec_to_py(py, m)),
    )
}

/// Per-customer frequency, recency, T (and monetary value) of a transaction log.
#[pyfunction]
#[pyo3(signature = (
    customers, times, observation_end, amounts=None, period=1, freq_multiplier=1.0,
    include_first_transaction=false
))]
#[allow(clippy::too_many_arguments)]
fn summarize_transactions<'py>(
    py: Python<'py>,
    customers: Codes<'py>,
    times: PyReadonlyArray1<'py, i64>,
    observation_end: i64,
    amounts: Option<PyReadonlyArray1<'py, f64>>,
    period: i64,
    freq_multiplier: f64,
    include_first_transaction: bool,
) -> PyResult<SummaryColumns<'py>> {
    let t = view("times", &times)?;
    let a = optional_slice("amounts", &amounts)?;
    let options = SummaryOptions {
        observation_end,
        period,
        freq_multiplier,
        include_first_transaction,
    };
    let s = with_codes!(customers, |c| detach(py, || summary::summarize(
        c, t, a, &options
    ))?);
    Ok(columns(py, s))
}

/// [`summarize_transactions`] plus each customer's `litt`, the sum of the logs
/// of its inter-purchase times in the summary's time units (for MBG/CNBD-k):
/// (customer, frequency, recency, T, monetary value or None, litt).
#[pyfunction]
#[pyo3(signature = (
    customers, times, observation_end, amounts=None, period=1, freq_multiplier=1.0,
    include_first_transaction=false
))]
#[allow(clippy::too_many_arguments)]
fn summarize_transactions_litt<'py>(
    py: Python<'py>,
    customers: Codes<'py>,
    times: PyReadonlyArray1<'py, i64>,
    observation_end: i64,
    amounts: Option<PyReadonlyArray1<'py, f64>>,
    period: i64,
    freq_multiplier: f64,
    include_first_transaction: bool,
) -> PyResult<(SummaryColumns<'py>, Array<'py, f64>)> {
    let t = view("times", &times)?;
    let a = optional_slice("amounts", &amounts)?;
    let options = SummaryOptions {
        observation_end,
        period,
        freq_multiplier,
        include_first_transaction,
    };
    let mut s = with_codes!(customers, |c| detach(py, || {
        summary::summarize_with_litt(c, t, a, &options)
    })?);
    let litt = s.litt.take().unwrap_or_default();
    Ok((columns(py, s), vec_to_py(py, litt)))
}

/// Calibration summary plus holdout purchases: returns (customer, frequency_cal,
/// recency_cal, T_cal, monetary_value_cal or None, frequency_holdout,
/// monetary_value_holdout or None, duration_holdout).
#[pyfunction]
#[pyo3(signature = (
    customers, times, calibration_end, observation_end, holdout=None, amounts=None, period=1,
    freq_multiplier=1.0, include_first_transaction=false
))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn calibration_and_holdout<'py>(
    py: Python<'py>,
    customers: Codes<'py>,
    times: PyReadonlyArray1<'py, i64>,
    calibration_end: i64,
    observation_end: i64,
    holdout: Option<PyReadonlyArray1<'py, bool>>,
    amounts: Option<PyReadonlyArray1<'py, f64>>,
    period: i64,
    freq_multiplier: f64,
    include_first_transaction: bool,
) -> PyResult<(
    SummaryColumns<'py>,
    Array<'py, f64>,
    Option<Array<'py, f64>>,
    f64,
)> {
    let t = view("times", &times)?;
    let a = optional_slice("amounts", &amounts)?;
    let h = match &holdout {
        Some(h) => Some(view("holdout", h)?),
        None => None,
    };
    let options = HoldoutOptions {
        calibration_end,
        observation_end,
        period,
        freq_multiplier,
        include_first_transaction,
    };
    let out = with_codes!(customers, |c| detach(py, || {
        summary::calibration_and_holdout(c, t, a, h, &options)
    })?);
    Ok((
        columns(py, out.calibration),
        vec_to_py(py, out.frequency_holdout),
        out.monetary_value_holdout.map(|m| vec_to_py(py, m)),
        out.duration_holdout,
    ))
}

/// (first row of each customer, frequency, recency, T, monetary value or None, litt or None).
type ArrowSummaryColumns<'py> = (
    Array<'py, u64>,
    Array<'py, f64>,
    Array<'py, f64>,
    Array<'py, f64>,
    Option<Array<'py, f64>>,
    Option<Array<'py, f64>>,
);

fn arrow_error(error: ArrowError) -> PyErr {
    match error {
        ArrowError::Unsupported(_) => PyNotImplementedError::new_err(error.to_string()),
        ArrowError::Invalid(_) => PyValueError::new_err(error.to_string()),
    }
}

/// The summary of an Arrow record-batch stream (`__arrow_c_stream__()` of a polars
/// DataFrame or pyarrow Table whose columns are the ids, the datetimes and, with
/// `has_amounts`, the values), read from the Arrow buffers: see
/// `crate::data::arrow_summary`. `freq` is a pandas period dtype name
/// (`"period[W-SUN]"`). Raises `NotImplementedError` for a column type or period the
/// Rust route does not read (the caller then takes the pandas route), and
/// `InvalidDataError` naming the first null or invalid row (counted over the stream).
#[pyfunction]
#[pyo3(signature = (
    stream, freq, observation_end=None, has_amounts=false, freq_multiplier=1.0,
    include_first_transaction=false, include_litt=false
))]
#[allow(clippy::too_many_arguments)]
fn summarize_arrow_stream<'py>(
    py: Python<'py>,
    stream: &Bound<'py, PyCapsule>,
    freq: &str,
    observation_end: Option<i64>,
    has_amounts: bool,
    freq_multiplier: f64,
    include_first_transaction: bool,
    include_litt: bool,
) -> PyResult<ArrowSummaryColumns<'py>> {
    let Some(period) = PeriodUnit::parse(freq) else {
        return Err(PyNotImplementedError::new_err(format!(
            "the period {freq} is not computed from Arrow data"
        )));
    };
    let pointer = stream.pointer_checked(Some(c"arrow_array_stream"))?;
    // SAFETY: a capsule named "arrow_array_stream" holds an ArrowArrayStream (the
    // Arrow PyCapsule interface); `from_raw` moves it out and marks it released.
    let stream = unsafe { Stream::from_raw(pointer.cast::<ArrowArrayStream>().as_ptr()) }
        .map_err(arrow_error)?;
    // The producer's callbacks run with the GIL held (a Python-backed reader may need
    // it); reading the buffers does not.
    let batches = Batches::read(stream).map_err(arrow_error)?;
    let options = ArrowSummaryOptions {
        period,
        observation_end,
        freq_multiplier,
        include_first_transaction,
        litt: include_litt,
    };
    let result = detach(py, || {
        Ok(batches
            .structs()
            .map_err(ArrowSummaryError::Arrow)
            .and_then(|structs| {
                summarize_batches(&structs, 0, 1, has_amounts.then_some(2), &options)
            }))
    })?;
    drop(batches);
    let mut out = match result {
        Ok(out) => out,
        Err(ArrowSummaryError::Arrow(e)) => return Err(arrow_error(e)),
        Err(ArrowSummaryError::Data(e)) => return Err(PyErrWrap(e).into()),
    };
    let litt = out.summary.litt.take();
    let (_, x, t_x, age, monetary) = columns(py, out.summary);
    Ok((
        out.first_row.into_pyarray(py),
        x,
        t_x,
        age,
        monetary,
        litt.map(|l| vec_to_py(py, l)),
    ))
}

/// Adds the transaction-summary functions to `_core`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(factorize_int64, m)?)?;
    m.add_function(wrap_pyfunction!(summarize_transactions, m)?)?;
    m.add_function(wrap_pyfunction!(summarize_transactions_litt, m)?)?;
    m.add_function(wrap_pyfunction!(calibration_and_holdout, m)?)?;
    m.add_function(wrap_pyfunction!(summarize_arrow_stream, m)?)?;
    Ok(())
}
