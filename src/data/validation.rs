//! Validation of customer rows, shared by every data type: each row is
//! checked once, in parallel, with a branch-free pass first and the
//! rule-by-rule search for the first offending row only when it fails.

use rayon::prelude::*;

use crate::error::{Error, Result};

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

/// A broken validity rule, in words, and the column it concerns.
pub(crate) type Broken = (&'static str, &'static str);

/// The first of the named values that is not finite: the column to blame for
/// a "must be finite" rule on several columns.
pub(crate) fn first_non_finite<const N: usize>(values: [(&'static str, f64); N]) -> &'static str {
    values
        .iter()
        .find(|(_, v)| !v.is_finite())
        .or(values.first())
        .map_or("", |(name, _)| name)
}

/// Checks rows 0..n in parallel: `broken(i)` names the first rule row i
/// breaks, if any, and its column. The error names the rule, the first
/// offending row, the column and `detail(row)`, its values.
pub(crate) fn check_rows(
    n: usize,
    broken: impl Fn(usize) -> Option<Broken> + Sync,
    detail: impl Fn(usize) -> String,
) -> Result<()> {
    match first_bad_row(n, |i| broken(i).is_some()) {
        Some(row) => {
            let (rule, column) = broken(row).expect("the row breaks a rule");
            Err(Error::InvalidData {
                rule,
                row,
                detail: detail(row),
                column: Some(column),
                cohort: None,
                period: None,
            })
        }
        None => Ok(()),
    }
}

/// Rows per task of the branch-free validity passes.
pub(crate) const CHECK_CHUNK: usize = 16_384;

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

/// Which rules an (x, t_x, T) row must obey. The one place that defines
/// them: [`summary_row_ok`] (the fast pass) and [`summary_rule_broken`] (the
/// rule named in the error) read this, and the two agree row for row (tested).
///
/// - Every row (predictions): finite; x a non-negative integer; T ≥ 0;
///   0 ≤ t_x ≤ T. A customer whose first purchase falls at the end of
///   observation has T = 0. x = 0 with t_x > 0 is accepted, as `lifetimes`
///   does when it fills P(alive) grids: the BG family ignores t_x when x = 0,
///   and the Pareto/NBD formula is defined there and uses it.
/// - Fits add the consistency of a real history: t_x = 0 when x = 0 (no
///   repeat purchase, so no last repeat purchase), and x = 0 when T = 0 (no
///   time to repeat).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SummaryRules {
    /// The data of a fit: real customer histories.
    Fit,
    /// The inputs of a prediction: any history the formulas are defined on.
    Predict,
}

/// Whether a summary row (x, t_x, T) obeys every rule of `rules`, evaluated
/// without branches.
fn summary_row_ok(x: f64, tx: f64, t: f64, rules: SummaryRules) -> bool {
    let finite = (x.abs() < f64::INFINITY) & (tx.abs() < f64::INFINITY) & (t.abs() < f64::INFINITY);
    let common = finite & (x >= 0.0) & is_integer(x) & (t >= 0.0) & (tx >= 0.0) & (tx <= t);
    let consistent = ((x != 0.0) | (tx == 0.0)) & ((t != 0.0) | (x == 0.0));
    common & (consistent | (rules == SummaryRules::Predict))
}

/// The first rule of `rules` that the row (x, t_x, T) breaks, and its column
/// (a rule relating two columns blames the one it constrains).
fn summary_rule_broken(x: f64, tx: f64, t: f64, rules: SummaryRules) -> Option<Broken> {
    let fit = rules == SummaryRules::Fit;
    if !(x.is_finite() && tx.is_finite() && t.is_finite()) {
        Some((
            "frequency, recency and T must be finite numbers",
            first_non_finite([("frequency", x), ("recency", tx), ("T", t)]),
        ))
    } else if x < 0.0 || x.fract() != 0.0 {
        Some(("frequency must be a non-negative integer", "frequency"))
    } else if t < 0.0 {
        Some(("T must be non-negative", "T"))
    } else if tx < 0.0 {
        Some(("recency must be non-negative", "recency"))
    } else if tx > t {
        Some(("recency must not exceed T", "recency"))
    } else if fit && x == 0.0 && tx != 0.0 {
        Some(("recency must be 0 when frequency is 0", "recency"))
    } else if fit && t == 0.0 && x != 0.0 {
        Some((
            "frequency must be 0 when T is 0 (a customer first seen at the end of observation has had no time to buy again)",
            "frequency",
        ))
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
                    .then_some(("weights must be finite and non-negative", "weights"))
            },
            |i| format!("weight={}", w[i]),
        ),
        None => Ok(()),
    }
}

/// Checks the data of a fit of an (x, t_x, T) model ([`SummaryRules::Fit`]).
/// `T` is called `age` in code (the customer's age at the end of observation).
pub(crate) fn validate_summary(
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    weights: Option<&[f64]>,
) -> Result<()> {
    validate_with(SummaryRules::Fit, frequency, recency, age, weights)
}

/// Checks the customer histories a prediction is asked for
/// ([`SummaryRules::Predict`]).
pub(crate) fn validate_prediction_inputs(
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
) -> Result<()> {
    validate_with(SummaryRules::Predict, frequency, recency, age, None)
}

fn validate_with(
    rules: SummaryRules,
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
            x.iter().zip(tx).zip(t).fold(true, |all, ((&x, &tx), &t)| {
                all & summary_row_ok(x, tx, t, rules)
            })
        });
    if all_ok {
        return check_weights(weights);
    }
    // The rules, in the order they are reported; `broken` names the first one
    // a row breaks. One parallel pass finds the first row breaking any rule.
    let broken = |i: usize| summary_rule_broken(frequency[i], recency[i], age[i], rules);
    check_rows(n, broken, |row| {
        format!(
            "frequency={}, recency={}, T={}",
            frequency[row], recency[row], age[row]
        )
    })?;
    check_weights(weights)
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
                    for rules in [SummaryRules::Fit, SummaryRules::Predict] {
                        assert_eq!(
                            summary_row_ok(x, tx, t, rules),
                            summary_rule_broken(x, tx, t, rules).is_none(),
                            "x={x}, t_x={tx}, T={t}, {rules:?}"
                        );
                    }
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

    /// Fits and predictions both accept customers first seen at the end of
    /// observation (T = 0); predictions also accept x = 0 with t_x > 0 and
    /// x > 0 at T = 0, which fits refuse as inconsistent histories.
    #[test]
    fn fit_and_prediction_rules() {
        let rule = |x: f64, tx: f64, t: f64, rules| summary_rule_broken(x, tx, t, rules);
        for rules in [SummaryRules::Fit, SummaryRules::Predict] {
            assert_eq!(rule(0.0, 0.0, 0.0, rules), None);
            assert_eq!(rule(2.0, 1.0, 3.0, rules), None);
            assert_eq!(rule(0.0, 0.0, -1.0, rules).map(|b| b.1), Some("T"));
            assert_eq!(rule(1.0, 2.0, 1.0, rules).map(|b| b.1), Some("recency"));
        }
        assert_eq!(rule(0.0, 2.0, 5.0, SummaryRules::Predict), None);
        assert_eq!(rule(3.0, 0.0, 0.0, SummaryRules::Predict), None);
        assert_eq!(
            rule(0.0, 2.0, 5.0, SummaryRules::Fit),
            Some(("recency must be 0 when frequency is 0", "recency"))
        );
        assert_eq!(
            rule(3.0, 0.0, 0.0, SummaryRules::Fit).map(|b| b.1),
            Some("frequency")
        );
        assert!(validate_summary(&[0.0, 1.0], &[0.0, 1.0], &[0.0, 2.0], None).is_ok());
        assert!(validate_prediction_inputs(&[0.0], &[1.0], &[2.0]).is_ok());
        assert!(validate_summary(&[0.0], &[1.0], &[2.0], None).is_err());
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
                Err(Error::InvalidData {
                    rule, row, column, ..
                }) => {
                    assert_eq!(row, bad);
                    assert_eq!(rule, "recency must not exceed T");
                    assert_eq!(column, Some("recency"));
                }
                other => panic!("expected an error, got {other:?}"),
            }
            let mut w = vec![1.0; n];
            w[bad] = f64::NAN;
            let tx = vec![2.0; n];
            match validate_summary(&x, &tx, &t, Some(&w)) {
                Err(Error::InvalidData { row, column, .. }) => {
                    assert_eq!((row, column), (bad, Some("weights")));
                }
                other => panic!("expected an error, got {other:?}"),
            }
        }
    }
}
