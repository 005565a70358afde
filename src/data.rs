//! Validated customer summaries and their compressed form.
//!
//! A customer is summarised by `frequency` x (number of repeat purchases),
//! `recency` t_x (age at the last purchase, 0 when x = 0) and `T` (age at the end
//! of observation). [`CustomerData::new`] checks every row once; the hot loops of
//! the models never re-check. [`CompressedData`] collapses identical
//! (x, t_x, T) rows into one weighted row, so the cost of a fit grows with the
//! number of distinct histories, not customers, and groups rows by x so that
//! terms depending only on x are computed once per distinct x.

use rayon::prelude::*;

use crate::error::{Error, Result};

/// Customer summaries that passed validation.
#[derive(Debug, Clone, Copy)]
pub struct CustomerData<'a> {
    frequency: &'a [f64],
    recency: &'a [f64],
    age: &'a [f64],
    weights: Option<&'a [f64]>,
}

/// An error unless an input has the expected length.
pub(crate) fn check_length(name: &'static str, found: usize, expected: usize) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            name,
            found,
            expected,
        })
    }
}

/// The first row (in order) for which `bad` holds, searched in parallel.
fn first_bad_row(n: usize, bad: impl Fn(usize) -> bool + Sync) -> Option<usize> {
    (0..n).into_par_iter().find_first(|&i| bad(i))
}

/// Checks rows 0..n in parallel: `broken(i)` names the first rule row i
/// breaks, if any. The error names the rule, the first offending row and
/// `detail(row)`, its values.
pub(crate) fn check_rows(
    n: usize,
    broken: impl Fn(usize) -> Option<&'static str> + Sync,
    detail: impl Fn(usize) -> String,
) -> Result<()> {
    match first_bad_row(n, |i| broken(i).is_some()) {
        Some(row) => Err(Error::InvalidData {
            rule: broken(row).expect("the row breaks a rule"),
            row,
            detail: detail(row),
        }),
        None => Ok(()),
    }
}

/// Rows per task of the branch-free validity passes.
const CHECK_CHUNK: usize = 16_384;

/// Whether `ok` holds for every element of `values`: a branch-free pass (the
/// compiler vectorises it) over chunks in parallel. Validation runs this first
/// and searches for the first offending row, and the rule it breaks, only when
/// it fails, so valid data (the common case) costs one cheap pass.
pub(crate) fn all_valid(values: &[f64], ok: impl Fn(f64) -> bool + Sync) -> bool {
    values
        .par_chunks(CHECK_CHUNK)
        .all(|chunk| chunk.iter().fold(true, |all, &v| all & ok(v)))
}

/// Whether x is an integer, without a call to `trunc`: below 2⁵², adding and
/// subtracting 2⁵² rounds x to the nearest integer; from 2⁵² on every float is
/// an integer. False for NaN.
fn is_integer(x: f64) -> bool {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    let magnitude = x.abs();
    (magnitude >= TWO_52) | ((magnitude + TWO_52) - TWO_52 == magnitude)
}

/// Whether a summary row (x, t_x, T) obeys every rule of [`validate_summary`],
/// evaluated without branches.
fn summary_row_ok(x: f64, tx: f64, t: f64) -> bool {
    let finite = (x.abs() < f64::INFINITY) & (tx.abs() < f64::INFINITY) & (t.abs() < f64::INFINITY);
    finite
        & (x >= 0.0)
        & is_integer(x)
        & (t > 0.0)
        & (tx >= 0.0)
        & (tx <= t)
        & ((x != 0.0) | (tx == 0.0))
}

/// The first rule of [`validate_summary`] that the row (x, t_x, T) breaks.
fn summary_rule_broken(x: f64, tx: f64, t: f64) -> Option<&'static str> {
    if !(x.is_finite() && tx.is_finite() && t.is_finite()) {
        Some("frequency, recency and T must be finite numbers")
    } else if x < 0.0 || x.fract() != 0.0 {
        Some("frequency must be a non-negative integer")
    } else if t <= 0.0 {
        Some("T must be positive")
    } else if tx < 0.0 {
        Some("recency must be non-negative")
    } else if tx > t {
        Some("recency must not exceed T")
    } else if x == 0.0 && tx != 0.0 {
        Some("recency must be 0 when frequency is 0")
    } else {
        None
    }
}

/// Checks optional row weights: finite and non-negative.
pub(crate) fn check_weights(weights: Option<&[f64]>) -> Result<()> {
    if weights.is_none_or(|w| all_valid(w, |v| (0.0..f64::INFINITY).contains(&v))) {
        return Ok(());
    }
    match weights {
        Some(w) => check_rows(
            w.len(),
            |i| {
                (!(w[i].is_finite() && w[i] >= 0.0))
                    .then_some("weights must be finite and non-negative")
            },
            |i| format!("weight={}", w[i]),
        ),
        None => Ok(()),
    }
}

/// Checks the rules shared by every (x, t_x, T) model. `T` is called `age` in
/// code (the customer's age at the end of observation).
pub(crate) fn validate_summary(
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    weights: Option<&[f64]>,
) -> Result<()> {
    let n = frequency.len();
    check_length("recency", recency.len(), n)?;
    check_length("T", age.len(), n)?;
    if let Some(w) = weights {
        check_length("weights", w.len(), n)?;
    }
    let all_ok = frequency
        .par_chunks(CHECK_CHUNK)
        .zip(recency.par_chunks(CHECK_CHUNK))
        .zip(age.par_chunks(CHECK_CHUNK))
        .all(|((x, tx), t)| {
            x.iter()
                .zip(tx)
                .zip(t)
                .fold(true, |all, ((&x, &tx), &t)| all & summary_row_ok(x, tx, t))
        });
    if all_ok {
        return check_weights(weights);
    }
    // The rules, in the order they are reported; `broken` names the first one
    // a row breaks. One parallel pass finds the first row breaking any rule.
    let broken = |i: usize| summary_rule_broken(frequency[i], recency[i], age[i]);
    check_rows(n, broken, |row| {
        format!(
            "frequency={}, recency={}, T={}",
            frequency[row], recency[row], age[row]
        )
    })?;
    check_weights(weights)
}

impl<'a> CustomerData<'a> {
    /// Validates customer summaries.
    ///
    /// Rules: equal lengths; all values finite; `frequency` a non-negative
    /// integer; `T > 0`; `0 <= recency <= T`; `recency == 0` when
    /// `frequency == 0`; weights (if given) finite and non-negative, not all zero.
    ///
    /// ```
    /// use retentionkit::CustomerData;
    /// let ok = CustomerData::new(&[0.0, 2.0], &[0.0, 5.0], &[10.0, 10.0], None);
    /// assert!(ok.is_ok());
    /// let bad = CustomerData::new(&[0.0, 2.0], &[0.0, 12.0], &[10.0, 10.0], None);
    /// assert!(bad.unwrap_err().to_string().contains("row: 1"));
    /// ```
    pub fn new(
        frequency: &'a [f64],
        recency: &'a [f64],
        age: &'a [f64],
        weights: Option<&'a [f64]>,
    ) -> Result<Self> {
        validate_summary(frequency, recency, age, weights)?;
        let total: f64 = weights.map_or(frequency.len() as f64, |w| w.iter().sum());
        if frequency.is_empty() || total <= 0.0 {
            return Err(Error::Empty);
        }
        Ok(Self {
            frequency,
            recency,
            age,
            weights,
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.frequency.len()
    }

    /// Whether there are no rows (never true for validated data).
    pub fn is_empty(&self) -> bool {
        self.frequency.is_empty()
    }

    /// Repeat-purchase counts x.
    pub fn frequency(&self) -> &'a [f64] {
        self.frequency
    }

    /// Recencies t_x.
    pub fn recency(&self) -> &'a [f64] {
        self.recency
    }

    /// Ages T at the end of observation.
    pub fn age(&self) -> &'a [f64] {
        self.age
    }

    /// Optional row weights.
    pub fn weights(&self) -> Option<&'a [f64]> {
        self.weights
    }

    /// Collapses identical rows into weighted rows (see [`CompressedData`]).
    pub fn compress(&self) -> CompressedData {
        CompressedData::from_validated(self)
    }
}

/// Distinct (x, t_x, T) rows with weights.
///
/// `x_index[i]` points into `distinct_x`, and `weight_by_x` holds the total
/// weight of each x, so a model can compute every term that depends only on x
/// once per distinct x. Identical rows are merged (and rows then sorted by x)
/// unless a sample shows that almost every row is distinct, as with
/// continuous-time data: then the rows are kept as they are, which saves the
/// sort and gives the same likelihood.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompressedData {
    /// Repeat purchases of each distinct row.
    pub frequency: Vec<f64>,
    /// Recency of each distinct row.
    pub recency: Vec<f64>,
    /// Age T of each distinct row.
    pub age: Vec<f64>,
    /// Number of customers (or summed weights) with this history.
    pub weight: Vec<f64>,
    /// Index of the row's x in `distinct_x`.
    pub x_index: Vec<u32>,
    /// Distinct values of x, increasing.
    pub distinct_x: Vec<f64>,
    /// Total weight of the rows with each distinct x.
    pub weight_by_x: Vec<f64>,
    /// Sum of all weights: the number of customers.
    pub total_weight: f64,
    /// Largest T in the data (used by the `lifetimes`-compatible penalty scaling).
    pub max_age: f64,
}

impl CompressedData {
    fn from_validated(data: &CustomerData<'_>) -> Self {
        let n = data.len();
        let positive_weights = data.weights.is_none_or(|w| w.iter().all(|&v| v > 0.0));
        if n >= 50_000 && positive_weights && Self::mostly_distinct(data) {
            return Self::keep_rows(data);
        }
        let (x, tx, age) = (data.frequency, data.recency, data.age);
        let mut keyed: Vec<(u64, u64, u64, f64)> = (0..n)
            .into_par_iter()
            .map(|i| {
                let w = data.weights.map_or(1.0, |w| w[i]);
                // x is a non-negative integer; +0.0 normalises a possible -0.0.
                (
                    x[i] as u64,
                    (tx[i] + 0.0).to_bits(),
                    (age[i] + 0.0).to_bits(),
                    w,
                )
            })
            .filter(|row| row.3 > 0.0)
            .collect();
        // Non-negative floats order like their bit patterns.
        keyed.par_sort_unstable_by_key(|&(a, b, c, _)| (a, b, c));
        let mut out = CompressedData::default();
        for &(kx, ktx, kt, w) in &keyed {
            let same = out.frequency.last().is_some_and(|&last_x| {
                last_x as u64 == kx
                    && out.recency.last().map(|v| v.to_bits()) == Some(ktx)
                    && out.age.last().map(|v| v.to_bits()) == Some(kt)
            });
            if same {
                *out.weight.last_mut().expect("non-empty") += w;
                continue;
            }
            let xv = kx as f64;
            if out.distinct_x.last() != Some(&xv) {
                out.distinct_x.push(xv);
                out.weight_by_x.push(0.0);
            }
            out.frequency.push(xv);
            out.recency.push(f64::from_bits(ktx));
            out.age.push(f64::from_bits(kt));
            out.weight.push(w);
            out.x_index.push((out.distinct_x.len() - 1) as u32);
        }
        for (&xi, &w) in out.x_index.iter().zip(&out.weight) {
            out.weight_by_x[xi as usize] += w;
        }
        out.total_weight = out.weight.iter().sum();
        out.max_age = out.age.iter().copied().fold(0.0, f64::max);
        out
    }

    /// Whether a sample of about 8192 rows has fewer than 1% repeated histories.
    fn mostly_distinct(data: &CustomerData<'_>) -> bool {
        let n = data.len();
        let step = (n / 8192).max(1);
        let mut keys: Vec<(u64, u64, u64)> = (0..n)
            .step_by(step)
            .map(|i| {
                (
                    data.frequency[i] as u64,
                    (data.recency[i] + 0.0).to_bits(),
                    (data.age[i] + 0.0).to_bits(),
                )
            })
            .collect();
        let sampled = keys.len();
        keys.sort_unstable();
        keys.dedup();
        (sampled - keys.len()) * 100 < sampled
    }

    /// The rows as they are, each its own group, indexed by distinct x. Every
    /// step runs in parallel: on continuous-time data this is the whole cost
    /// of preparing the data.
    fn keep_rows(data: &CustomerData<'_>) -> Self {
        let x = data.frequency;
        let max_x = x.par_iter().copied().reduce(|| 0.0, f64::max) as usize;
        let (distinct_x, x_index): (Vec<f64>, Vec<u32>) = if max_x < (1 << 22) {
            // Dense lookup table from x to its index.
            let present = x
                .par_chunks(CHECK_CHUNK)
                .fold(
                    || vec![false; max_x + 1],
                    |mut seen, chunk| {
                        for &v in chunk {
                            seen[v as usize] = true;
                        }
                        seen
                    },
                )
                .reduce(
                    || vec![false; max_x + 1],
                    |mut a, b| {
                        a.iter_mut().zip(b).for_each(|(a, b)| *a |= b);
                        a
                    },
                );
            let mut position = vec![u32::MAX; max_x + 1];
            let mut distinct = Vec::new();
            for (v, _) in present.iter().enumerate().filter(|(_, &p)| p) {
                position[v] = distinct.len() as u32;
                distinct.push(v as f64);
            }
            let index = x.par_iter().map(|&v| position[v as usize]).collect();
            (distinct, index)
        } else {
            let mut distinct = x.to_vec();
            distinct.par_sort_unstable_by(f64::total_cmp);
            distinct.dedup();
            let index = x
                .par_iter()
                .map(|v| distinct.partition_point(|d| d < v) as u32)
                .collect();
            (distinct, index)
        };
        let weight: Vec<f64> = match data.weights {
            Some(w) => w.par_iter().copied().collect(),
            None => (0..x.len()).into_par_iter().map(|_| 1.0).collect(),
        };
        let groups = distinct_x.len();
        let weight_by_x = x_index
            .par_chunks(CHECK_CHUNK)
            .zip(weight.par_chunks(CHECK_CHUNK))
            .fold(
                || vec![0.0; groups],
                |mut sums, (index, w)| {
                    for (&xi, &w) in index.iter().zip(w) {
                        sums[xi as usize] += w;
                    }
                    sums
                },
            )
            .reduce(
                || vec![0.0; groups],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                    a
                },
            );
        CompressedData {
            frequency: x.par_iter().copied().collect(),
            recency: data.recency.par_iter().copied().collect(),
            age: data.age.par_iter().copied().collect(),
            total_weight: weight_by_x.iter().sum(),
            max_age: data.age.par_iter().copied().reduce(|| 0.0, f64::max),
            weight,
            x_index,
            distinct_x,
            weight_by_x,
        }
    }

    /// Number of distinct rows.
    pub fn len(&self) -> usize {
        self.frequency.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.frequency.is_empty()
    }

    /// A systematic subsample: every `step`-th row, with
    /// weights multiplied by `step` so totals stay comparable. Used to find a
    /// warm start cheaply before fitting the full data.
    pub fn every_nth(&self, step: usize) -> Self {
        let step = step.max(1);
        let mut out = CompressedData {
            distinct_x: self.distinct_x.clone(),
            weight_by_x: vec![0.0; self.distinct_x.len()],
            max_age: self.max_age,
            ..Default::default()
        };
        for i in (0..self.len()).step_by(step) {
            out.frequency.push(self.frequency[i]);
            out.recency.push(self.recency[i]);
            out.age.push(self.age[i]);
            out.weight.push(self.weight[i] * step as f64);
            out.x_index.push(self.x_index[i]);
            out.weight_by_x[self.x_index[i] as usize] += self.weight[i] * step as f64;
        }
        out.total_weight = out.weight.iter().sum();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWKWARD: [f64; 18] = [
        0.0,
        -0.0,
        0.5,
        1.0,
        2.0,
        -1.0,
        1e-300,
        3.25,
        4_503_599_627_370_495.5,
        4_503_599_627_370_496.0,
        9_007_199_254_740_993.0,
        1e300,
        f64::MAX,
        f64::MIN_POSITIVE,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -2.5,
    ];

    /// The branch-free check that runs first accepts exactly the rows the
    /// rule-by-rule check accepts.
    #[test]
    fn fast_check_agrees_with_the_rules() {
        for &x in &AWKWARD {
            for &tx in &AWKWARD {
                for &t in &AWKWARD {
                    assert_eq!(
                        summary_row_ok(x, tx, t),
                        summary_rule_broken(x, tx, t).is_none(),
                        "x={x}, t_x={tx}, T={t}"
                    );
                }
            }
        }
        for &x in &AWKWARD {
            assert_eq!(
                is_integer(x),
                x.is_finite() && x.fract() == 0.0 || x.is_infinite(),
                "{x}"
            );
        }
    }

    /// A bad row anywhere, including the last row of a long input, is found
    /// and named.
    #[test]
    fn first_bad_row_is_named_in_long_inputs() {
        let n = 3 * CHECK_CHUNK + 17;
        for bad in [0, CHECK_CHUNK - 1, CHECK_CHUNK, n - 1] {
            let x = vec![1.0; n];
            let mut tx = vec![2.0; n];
            let t = vec![5.0; n];
            tx[bad] = 6.0;
            match validate_summary(&x, &tx, &t, None) {
                Err(Error::InvalidData { rule, row, .. }) => {
                    assert_eq!(row, bad);
                    assert_eq!(rule, "recency must not exceed T");
                }
                other => panic!("expected an error, got {other:?}"),
            }
            let mut w = vec![1.0; n];
            w[bad] = f64::NAN;
            let tx = vec![2.0; n];
            match validate_summary(&x, &tx, &t, Some(&w)) {
                Err(Error::InvalidData { row, .. }) => assert_eq!(row, bad),
                other => panic!("expected an error, got {other:?}"),
            }
        }
    }
}
