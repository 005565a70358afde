//! Vectorised, parallel predictions and simulation for every
//! [`TransactionModel`], with input validation.
//!
//! Predictions check the histories with the prediction rules of
//! `data::validation` (`SummaryRules::Predict`): T ≥ 0 (a customer first
//! seen at the end of observation has T = 0) and 0 ≤ t_x ≤ T, with x = 0 and
//! t_x > 0 accepted as `lifetimes` accepts it (the BG family ignores t_x
//! when x = 0; the Pareto/NBD formula uses it). The likelihood of a history
//! ([`individual_log_likelihood`]) keeps the rules of a fit's data.

use std::collections::HashMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::data::{all_valid, check_length, validate_prediction_inputs, validate_summary};
use crate::error::{Error, Result};
use crate::models::{SimulatedCustomer, TransactionModel};
use crate::ParetoNBD;

const CHUNK: usize = 4096;

/// `values` unchanged when every one is finite; otherwise
/// [`Error::InvalidData`] naming the first row whose `what` could not be
/// evaluated (a special function's series beyond its bound, see
/// [`crate::special::hyp2f1::MAX_TERMS`]), with that row's inputs.
pub(crate) fn finite_or_error(
    what: &str,
    values: Vec<f64>,
    inputs: &[(&str, &[f64])],
) -> Result<Vec<f64>> {
    if crate::interrupt::requested() || all_valid(&values, f64::is_finite) {
        return Ok(values);
    }
    let Some(row) = values.iter().position(|v| !v.is_finite()) else {
        return Ok(values);
    };
    let detail: Vec<String> = inputs
        .iter()
        .map(|(name, column)| format!("{name}={}", column[row]))
        .collect();
    Err(Error::InvalidData {
        rule: "the prediction cannot be evaluated accurately at these values (beyond what double precision and the bounded series of the special functions can handle)",
        row,
        detail: format!("{what} at {}", detail.join(", ")),
        column: None,
        cohort: None,
        period: None,
    })
}

pub(crate) fn check_horizon(name: &'static str, t: &[f64], expected: usize) -> Result<()> {
    if t.len() != expected {
        return Err(Error::LengthMismatch {
            name,
            found: t.len(),
            expected,
        });
    }
    if all_valid(t, |v| (0.0..f64::INFINITY).contains(&v)) {
        return Ok(());
    }
    if let Some(row) = t.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(Error::InvalidData {
            rule: "the time horizon t must be finite and non-negative",
            row,
            detail: format!("{name}={}", t[row]),
            column: Some(name),
            cohort: None,
            period: None,
        });
    }
    Ok(())
}

/// `f(i)` for i in 0..n, computed in parallel over fixed chunks.
pub(crate) fn par_map(n: usize, f: impl Fn(usize) -> f64 + Sync) -> Vec<f64> {
    let mut out = vec![0.0; n];
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| {
            for (k, slot) in chunk.iter_mut().enumerate() {
                if crate::interrupt::requested() {
                    return;
                }
                *slot = f(c * CHUNK + k);
            }
        });
    out
}

/// As [`par_map`], but `f` runs once per distinct `key` within each chunk of
/// rows: for discrete-time histories, which repeat a lot (BG/BB), most rows
/// are then a hash lookup.
pub(crate) fn par_map_by_key(
    n: usize,
    key: impl Fn(usize) -> [u64; 4] + Sync,
    f: impl Fn(usize) -> f64 + Sync,
) -> Vec<f64> {
    let mut out = vec![0.0; n];
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| {
            let mut seen: HashMap<[u64; 4], f64> = HashMap::new();
            for (k, slot) in chunk.iter_mut().enumerate() {
                if crate::interrupt::requested() {
                    return;
                }
                let i = c * CHUNK + k;
                *slot = *seen.entry(key(i)).or_insert_with(|| f(i));
            }
        });
    out
}

/// E[Y(tᵢ) | xᵢ, t_xᵢ, Tᵢ] for every customer (all slices of equal length).
pub fn conditional_expected_purchases<M: TransactionModel>(
    model: &M,
    t: &[f64],
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
) -> Result<Vec<f64>> {
    validate_prediction_inputs(frequency, recency, age)?;
    check_horizon("t", t, frequency.len())?;
    finite_or_error(
        "the conditional expected number of purchases",
        model.conditional_expected_purchases_batch(t, frequency, recency, age),
        &[
            ("t", t),
            ("frequency", frequency),
            ("recency", recency),
            ("T", age),
        ],
    )
}

/// P(alive | xᵢ, t_xᵢ, Tᵢ) for every customer.
pub fn probability_alive<M: TransactionModel>(
    model: &M,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
) -> Result<Vec<f64>> {
    validate_prediction_inputs(frequency, recency, age)?;
    finite_or_error(
        "P(alive)",
        model.probability_alive_batch(frequency, recency, age),
        &[("frequency", frequency), ("recency", recency), ("T", age)],
    )
}

/// ln Lᵢ of every customer history. The histories obey the rules of a fit's
/// data (a likelihood is of real histories): 0 for a customer first seen at
/// the end of observation (x = t_x = T = 0).
pub fn individual_log_likelihood<M: TransactionModel>(
    model: &M,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
) -> Result<Vec<f64>> {
    validate_summary(frequency, recency, age, None)?;
    let values = par_map(frequency.len(), |i| {
        model.individual_log_likelihood(frequency[i], recency[i], age[i])
    });
    finite_or_error(
        "the log-likelihood",
        values,
        &[("frequency", frequency), ("recency", recency), ("T", age)],
    )
}

/// E[X(tᵢ)] for a new customer, for every horizon.
pub fn expected_purchases<M: TransactionModel>(model: &M, t: &[f64]) -> Result<Vec<f64>> {
    check_horizon("t", t, t.len())?;
    let values = par_map(t.len(), |i| model.expected_purchases(t[i]));
    finite_or_error("the expected number of purchases", values, &[("t", t)])
}

/// P(X(tᵢ) = nᵢ) for a new customer.
pub fn probability_of_purchases<M: TransactionModel>(
    model: &M,
    t: &[f64],
    n: &[f64],
) -> Result<Vec<f64>> {
    check_horizon("t", t, n.len())?;
    check_counts(n)?;
    let values = par_map(n.len(), |i| model.probability_of_purchases(t[i], n[i]));
    finite_or_error("P(X(t) = n)", values, &[("t", t), ("n", n)])
}

/// Checks that every nᵢ is a non-negative integer.
pub(crate) fn check_counts(n: &[f64]) -> Result<()> {
    if let Some(row) = n
        .iter()
        .position(|v| !(v.is_finite() && *v >= 0.0 && v.fract() == 0.0))
    {
        return Err(Error::InvalidData {
            rule: "n must be a non-negative integer",
            row,
            detail: format!("n={}", n[row]),
            column: Some("n"),
            cohort: None,
            period: None,
        });
    }
    Ok(())
}

/// P(Y(tᵢ) = nᵢ | xᵢ, t_xᵢ, Tᵢ) of the Pareto/NBD for every customer: the
/// probability of nᵢ purchases in (Tᵢ, Tᵢ + tᵢ]
/// ([`ParetoNBD::conditional_probability_of_purchases`]).
pub fn pareto_nbd_conditional_probability_of_purchases(
    model: &ParetoNBD,
    n: &[f64],
    t: &[f64],
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
) -> Result<Vec<f64>> {
    validate_prediction_inputs(frequency, recency, age)?;
    check_horizon("t", t, frequency.len())?;
    check_length("n", n.len(), frequency.len())?;
    check_counts(n)?;
    let values = par_map(n.len(), |i| {
        model.conditional_probability_of_purchases(n[i], t[i], frequency[i], recency[i], age[i])
    });
    finite_or_error(
        "P(Y(t) = n | history)",
        values,
        &[
            ("n", n),
            ("t", t),
            ("frequency", frequency),
            ("recency", recency),
            ("T", age),
        ],
    )
}

/// Simulates one customer per entry of `age` (their T ≥ 0; a customer
/// simulated at T = 0 has just made the first purchase). Reproducible for a
/// given seed whatever the number of threads: customers are drawn in fixed
/// chunks, each from its own ChaCha8 stream.
pub fn simulate<M: TransactionModel>(
    model: &M,
    age: &[f64],
    seed: u64,
) -> Result<Vec<SimulatedCustomer>> {
    check_simulation_ages(age)?;
    Ok(simulate_chunked(age.len(), seed, |i, rng| {
        model.simulate_customer(age[i], rng)
    }))
}

/// The ages (T) customers are simulated to must be finite and non-negative.
pub(crate) fn check_simulation_ages(age: &[f64]) -> Result<()> {
    if let Some(row) = age.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(Error::InvalidData {
            rule: "T must be finite and non-negative",
            row,
            detail: format!("T={}", age[row]),
            column: Some("T"),
            cohort: None,
            period: None,
        });
    }
    Ok(())
}

/// `draw(i, rng)` for i in 0..n, in parallel, reproducible for a given seed
/// whatever the number of threads: fixed chunks each use their own ChaCha8
/// stream.
pub(crate) fn simulate_chunked(
    n: usize,
    seed: u64,
    draw: impl Fn(usize, &mut ChaCha8Rng) -> SimulatedCustomer + Sync,
) -> Vec<SimulatedCustomer> {
    let empty = SimulatedCustomer {
        frequency: 0.0,
        recency: 0.0,
        age: 0.0,
        rate: 0.0,
        dropout: 0.0,
        alive: true,
    };
    let mut out = vec![empty; n];
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| {
            if crate::interrupt::requested() {
                return;
            }
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(c as u64);
            for (k, slot) in chunk.iter_mut().enumerate() {
                *slot = draw(c * CHUNK + k, &mut rng);
            }
        });
    out
}
