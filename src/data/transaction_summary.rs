//! From a transaction log to customer summaries: frequency, recency, T and
//! monetary value per customer, with the semantics of `lifetimes` 0.11.3
//! (`lifetimes.utils.summary_data_from_transaction_data`,
//! `_find_first_transactions` and `calibration_and_holdout_data`).
//!
//! The rules, for one customer and times floored to periods
//! (`floor(time / period)`):
//!
//! * all transactions in one period count as one; their amounts are summed;
//! * frequency x = number of distinct periods − 1 (the first purchase is not a
//!   repeat purchase), or the number of distinct periods with
//!   `include_first_transaction`;
//! * recency t_x = last period − first period; T = end period − first period;
//!   both divided by `freq_multiplier` (so `lifetimes`' `freq="h"`,
//!   `freq_multiplier=24` gives days with hour resolution: the multiplier scales
//!   the result, it does not coarsen the periods);
//! * monetary value = mean of the per-period sums over the repeat periods
//!   (0 without repeat purchases), or over all periods with
//!   `include_first_transaction`.
//!
//! Calendar periods (pandas' weeks ending on Sunday, months) are the caller's
//! job: the Python layer converts datetimes to pandas period ordinals and passes
//! them here with `period = 1`. This module only groups and aggregates, in
//! parallel: a counting sort by the (dense) customer code, skipped when the log
//! already is in (customer, time) order, then one pass per customer over its
//! own rows; nothing is allocated per customer.
//!
//! Where `lifetimes` silently drops transactions after the observation end,
//! this module refuses them ([`Error::InvalidData`] naming the first such row).
//!
//! ```
//! use retentionkit::summary::{summarize, SummaryOptions};
//!
//! // Customer 0 buys on days 0, 0 (same day: one period), 3 and 7; customer 1 on day 5.
//! let customers = [0u32, 0, 0, 1, 0];
//! let days = [0i64, 0, 3, 5, 7];
//! let amounts = [10.0, 5.0, 20.0, 8.0, 40.0];
//! let s = summarize(&customers, &days, Some(&amounts), &SummaryOptions::new(9))?;
//! assert_eq!(s.frequency, [2.0, 0.0]);
//! assert_eq!(s.recency, [7.0, 0.0]);
//! assert_eq!(s.age, [9.0, 4.0]);
//! assert_eq!(s.monetary_value.unwrap(), [30.0, 0.0]); // mean of 20 and 40
//! # Ok::<(), retentionkit::Error>(())
//! ```

use std::borrow::Cow;

use rayon::prelude::*;

use super::validation::Broken;
use crate::error::{Error, Result};

/// An integer customer code: `0..n_customers`, as produced by factorising the
/// customer ids (`pandas.factorize`). Negative codes are invalid.
pub trait CustomerCode: Copy + Send + Sync + std::fmt::Display {
    /// The code as an index, `None` when negative or too large.
    fn to_index(self) -> Option<usize>;
}

macro_rules! customer_code {
    ($($t:ty),*) => {$(
        impl CustomerCode for $t {
            #[inline]
            fn to_index(self) -> Option<usize> {
                usize::try_from(self).ok()
            }
        }
    )*};
}
customer_code!(u32, u64, usize, i32, i64);

/// Options of [`summarize`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SummaryOptions {
    /// End of observation, in the clock of the times (the period containing it
    /// is the last period observed).
    pub observation_end: i64,
    /// Length of one period in the clock of the times (1 when the times
    /// already are period ordinals). Times are floored: `floor(t / period)`.
    pub period: i64,
    /// Recency and T are divided by this (`lifetimes`' `freq_multiplier`).
    pub freq_multiplier: f64,
    /// Count the first purchase in frequency and monetary value.
    pub include_first_transaction: bool,
}

impl SummaryOptions {
    /// Periods of length 1, multiplier 1, first purchase excluded.
    pub fn new(observation_end: i64) -> Self {
        Self {
            observation_end,
            period: 1,
            freq_multiplier: 1.0,
            include_first_transaction: false,
        }
    }
}

/// Options of [`calibration_and_holdout`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HoldoutOptions {
    /// End of calibration (inclusive), in the clock of the times.
    pub calibration_end: i64,
    /// End of observation (inclusive), in the clock of the times.
    pub observation_end: i64,
    /// Length of one period in the clock of the times.
    pub period: i64,
    /// Recency, T and the holdout duration are divided by this.
    pub freq_multiplier: f64,
    /// Count the first purchase in the calibration frequency and monetary value.
    pub include_first_transaction: bool,
}

impl HoldoutOptions {
    /// Periods of length 1, multiplier 1, first purchase excluded.
    pub fn new(calibration_end: i64, observation_end: i64) -> Self {
        Self {
            calibration_end,
            observation_end,
            period: 1,
            freq_multiplier: 1.0,
            include_first_transaction: false,
        }
    }
}

/// One row per customer with at least one (calibration) transaction, in
/// increasing order of customer code.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TransactionSummary {
    /// Customer code of each row.
    pub customer: Vec<usize>,
    /// Repeat purchases x (distinct periods − 1, or distinct periods).
    pub frequency: Vec<f64>,
    /// Recency t_x: last period − first period.
    pub recency: Vec<f64>,
    /// T: end period − first period.
    pub age: Vec<f64>,
    /// Mean per-period amount over the repeat periods (0 without), when amounts
    /// were given.
    pub monetary_value: Option<Vec<f64>>,
    /// `litt`, when asked for ([`summarize_with_litt`]): Σⱼ ln dⱼ over the
    /// customer's gaps dⱼ between consecutive distinct purchase periods, each
    /// in the summary's time units (periods / `freq_multiplier`, the unit of
    /// recency and T); 0 for a customer with one purchase period.
    pub litt: Option<Vec<f64>>,
}

/// A calibration summary and what each of its customers did in the holdout.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CalibrationHoldout {
    /// The summary of the calibration transactions (its customers are those
    /// with a calibration transaction; customers first seen in the holdout are
    /// not included, as in `lifetimes`).
    pub calibration: TransactionSummary,
    /// Distinct holdout periods with a purchase, per calibration customer.
    pub frequency_holdout: Vec<f64>,
    /// Mean amount of the holdout transactions (each transaction on its own,
    /// not summed by period, as in `lifetimes`); 0 without holdout purchases.
    pub monetary_value_holdout: Option<Vec<f64>>,
    /// End period − calibration-end period, divided by `freq_multiplier`.
    pub duration_holdout: f64,
}

/// Summarises a transaction log per customer (see the [module docs](self)).
///
/// `customers[i]`, `times[i]` and `amounts[i]` describe transaction i; the
/// rows may come in any order. Codes must be below the number of
/// transactions (factorise the ids first); a code without transactions simply
/// has no row in the result.
///
/// # Errors
///
/// [`Error::InvalidData`] naming the first offending row for a negative or too
/// large customer code, a transaction in a period after the period of
/// `observation_end`, or an amount that is negative or not finite;
/// [`Error::LengthMismatch`], [`Error::Empty`], and
/// [`Error::InvalidParameter`] for `period <= 0` or a `freq_multiplier` that is
/// not positive.
pub fn summarize<C: CustomerCode>(
    customers: &[C],
    times: &[i64],
    amounts: Option<&[f64]>,
    options: &SummaryOptions,
) -> Result<TransactionSummary> {
    summarize_inner(customers, times, amounts, options, false)
}

/// [`summarize`], plus the sum of the logs of each customer's inter-purchase
/// times, `litt` (Platzer & Reutterer 2016, the statistic of the MBG/CNBD-k
/// likelihood besides x, t_x and T), in [`TransactionSummary::litt`].
///
/// Transactions in one period are merged into one purchase, as for the
/// frequency, so every gap is at least one period and its log is finite:
/// litt = Σⱼ ln((pⱼ₊₁ − pⱼ) / m) over consecutive distinct periods
/// p₁ < p₂ < … of the customer's purchases, m = `freq_multiplier` (the gaps
/// are in the time unit of recency and T). A customer with one purchase
/// period has litt = 0 (no gap).
///
/// ```
/// use retentionkit::data::transaction_summary::{summarize_with_litt, SummaryOptions};
/// // Customer 0 buys in periods 0, 2 (twice) and 5: gaps 2 and 3.
/// let s = summarize_with_litt(&[0u32, 0, 0, 0], &[0, 2, 2, 5], None, &SummaryOptions::new(9))?;
/// let litt = s.litt.unwrap();
/// assert!((litt[0] - (2f64.ln() + 3f64.ln())).abs() < 1e-15);
/// # Ok::<(), retentionkit::Error>(())
/// ```
///
/// # Errors
///
/// As [`summarize`].
pub fn summarize_with_litt<C: CustomerCode>(
    customers: &[C],
    times: &[i64],
    amounts: Option<&[f64]>,
    options: &SummaryOptions,
) -> Result<TransactionSummary> {
    summarize_inner(customers, times, amounts, options, true)
}

fn summarize_inner<C: CustomerCode>(
    customers: &[C],
    times: &[i64],
    amounts: Option<&[f64]>,
    options: &SummaryOptions,
    litt: bool,
) -> Result<TransactionSummary> {
    check_options(options.period, options.freq_multiplier)?;
    let n = check_lengths(customers, times, amounts, None)?;
    let end = floor_div(options.observation_end, options.period);
    let periods = floor_times(times, options.period);
    let periods: &[i64] = &periods;
    let rule = |i: usize| -> Option<Broken> {
        code_rule(customers[i], n)
            .or_else(|| {
                (periods[i] > end)
                    .then(|| time_rule("transactions must not be after the observation end"))
            })
            .or_else(|| amounts.and_then(|a| amount_rule(a[i])))
    };
    // `rule(i).is_some()`, in a form cheap enough to run on every row.
    let bad = |i: usize| {
        customers[i].to_index().is_none_or(|c| c >= n)
            || periods[i] > end
            || amounts.is_some_and(|a| !(a[i] >= 0.0 && a[i] < f64::INFINITY))
    };
    report_first(n, bad, rule, customers, times, amounts)?;
    crate::interrupt::check()?;
    let log = Log::group(customers, periods, amounts, None, n);
    crate::interrupt::check()?;
    let aggs = log.aggregate(litt);
    crate::interrupt::check()?;
    Ok(log.summary(
        &aggs,
        end,
        options.freq_multiplier,
        options.include_first_transaction,
        litt,
    ))
}

/// Splits a transaction log into calibration and holdout, summarises the
/// calibration part per customer and counts each customer's holdout purchases,
/// as `lifetimes.utils.calibration_and_holdout_data` does.
///
/// Transaction i is in the holdout when `holdout[i]` is true; without a mask,
/// when `times[i] > calibration_end` (compared before flooring to periods:
/// `lifetimes` compares timestamps, so a purchase later on the calibration end's
/// own day is in the holdout even with daily periods). The Python layer passes
/// period ordinals together with the mask it computed from the timestamps.
///
/// # Errors
///
/// As [`summarize`], and [`Error::InvalidData`] for a calibration transaction
/// in a period after the calibration end's, a holdout transaction after
/// `observation_end` (compared before flooring, as `lifetimes` does) or in a
/// period before the calibration end's; [`Error::InvalidParameter`] when
/// `calibration_end > observation_end`.
pub fn calibration_and_holdout<C: CustomerCode>(
    customers: &[C],
    times: &[i64],
    amounts: Option<&[f64]>,
    holdout: Option<&[bool]>,
    options: &HoldoutOptions,
) -> Result<CalibrationHoldout> {
    check_options(options.period, options.freq_multiplier)?;
    if options.calibration_end > options.observation_end {
        return Err(Error::InvalidParameter {
            name: "calibration_end".into(),
            value: options.calibration_end as f64,
            rule: "must not be after observation_end",
        });
    }
    let n = check_lengths(customers, times, amounts, holdout)?;
    let cal_end = floor_div(options.calibration_end, options.period);
    let obs_end = floor_div(options.observation_end, options.period);
    let periods = floor_times(times, options.period);
    let periods: &[i64] = &periods;
    let mask: Cow<'_, [bool]> = match holdout {
        Some(h) => Cow::Borrowed(h),
        None => Cow::Owned(
            times
                .par_iter()
                .map(|&t| t > options.calibration_end)
                .collect(),
        ),
    };
    let mask: &[bool] = &mask;
    let rule = |i: usize| -> Option<Broken> {
        code_rule(customers[i], n)
            .or_else(|| {
                if !mask[i] {
                    (periods[i] > cal_end).then(|| {
                        time_rule("calibration transactions must not be after the calibration end")
                    })
                } else if times[i] > options.observation_end {
                    Some(time_rule(
                        "transactions must not be after the observation end",
                    ))
                } else {
                    (periods[i] < cal_end).then(|| {
                        time_rule("holdout transactions must not be before the calibration end")
                    })
                }
            })
            .or_else(|| amounts.and_then(|a| amount_rule(a[i])))
    };
    let bad = |i: usize| {
        customers[i].to_index().is_none_or(|c| c >= n)
            || if mask[i] {
                times[i] > options.observation_end || periods[i] < cal_end
            } else {
                periods[i] > cal_end
            }
            || amounts.is_some_and(|a| !(a[i] >= 0.0 && a[i] < f64::INFINITY))
    };
    report_first(n, bad, rule, customers, times, amounts)?;
    crate::interrupt::check()?;
    let log = Log::group(customers, periods, amounts, Some(mask), n);
    crate::interrupt::check()?;
    let aggs = log.aggregate(false);
    crate::interrupt::check()?;
    let calibration = log.summary(
        &aggs,
        cal_end,
        options.freq_multiplier,
        options.include_first_transaction,
        false,
    );
    let kept = || aggs.iter().filter(|a| a.periods > 0);
    let frequency_holdout = kept().map(|a| a.holdout_periods as f64).collect();
    let monetary_value_holdout = amounts.map(|_| {
        kept()
            .map(|a| {
                if a.holdout_count == 0 {
                    0.0
                } else {
                    a.holdout_sum.value() / a.holdout_count as f64
                }
            })
            .collect()
    });
    Ok(CalibrationHoldout {
        calibration,
        frequency_holdout,
        monetary_value_holdout,
        duration_holdout: span(cal_end, obs_end) / options.freq_multiplier,
    })
}

fn check_options(period: i64, freq_multiplier: f64) -> Result<()> {
    if period <= 0 {
        return Err(Error::InvalidParameter {
            name: "period".into(),
            value: period as f64,
            rule: "must be a positive length of time",
        });
    }
    if !(freq_multiplier.is_finite() && freq_multiplier > 0.0) {
        return Err(Error::InvalidParameter {
            name: "freq_multiplier".into(),
            value: freq_multiplier,
            rule: "must be finite and positive",
        });
    }
    Ok(())
}

fn check_lengths<C>(
    customers: &[C],
    times: &[i64],
    amounts: Option<&[f64]>,
    holdout: Option<&[bool]>,
) -> Result<usize> {
    let n = customers.len();
    let check = |name: &'static str, found: usize| {
        if found == n {
            Ok(())
        } else {
            Err(Error::LengthMismatch {
                name,
                found,
                expected: n,
            })
        }
    };
    check("times", times.len())?;
    if let Some(a) = amounts {
        check("amounts", a.len())?;
    }
    if let Some(h) = holdout {
        check("holdout", h.len())?;
    }
    if n == 0 {
        return Err(Error::Empty);
    }
    if n >= u32::MAX as usize {
        return Err(Error::InvalidParameter {
            name: "number of transactions".into(),
            value: n as f64,
            rule: "must be below 2^32 - 1",
        });
    }
    Ok(n)
}

fn code_rule<C: CustomerCode>(code: C, n: usize) -> Option<Broken> {
    match code.to_index() {
        None => Some(("customer codes must be non-negative integers", "customers")),
        Some(c) if c >= n => Some((
            "customer codes must be below the number of transactions (factorise the ids first)",
            "customers",
        )),
        Some(_) => None,
    }
}

/// A rule on the times, with its column.
fn time_rule(rule: &'static str) -> Broken {
    (rule, "times")
}

fn amount_rule(a: f64) -> Option<Broken> {
    if !a.is_finite() {
        Some(("amounts must be finite numbers", "amounts"))
    } else if a < 0.0 {
        Some(("amounts must be non-negative", "amounts"))
    } else {
        None
    }
}

/// Returns the first row (in input order) for which `bad` holds as an error,
/// naming the rule it breaks and its column (`rule`, which must agree with `bad`).
fn report_first<C: CustomerCode>(
    n: usize,
    bad: impl Fn(usize) -> bool + Sync,
    rule: impl Fn(usize) -> Option<Broken>,
    customers: &[C],
    times: &[i64],
    amounts: Option<&[f64]>,
) -> Result<()> {
    const BLOCK: usize = 4096;
    let first_bad = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .find_map_first(|k| (k * BLOCK..n.min((k + 1) * BLOCK)).find(|&i| bad(i)));
    let Some(row) = first_bad else {
        return Ok(());
    };
    let mut detail = format!("customer={}, time={}", customers[row], times[row]);
    if let Some(a) = amounts {
        detail.push_str(&format!(", amount={}", a[row]));
    }
    let (rule, column) = rule(row).expect("the row breaks a rule");
    Err(Error::InvalidData {
        rule,
        row,
        detail,
        column: Some(column),
        cohort: None,
        period: None,
    })
}

#[inline]
fn floor_div(t: i64, period: i64) -> i64 {
    t.div_euclid(period)
}

fn floor_times(times: &[i64], period: i64) -> Cow<'_, [i64]> {
    if period == 1 {
        Cow::Borrowed(times)
    } else {
        Cow::Owned(times.par_iter().map(|&t| floor_div(t, period)).collect())
    }
}

/// `to − from` as a float, without overflow.
#[inline]
fn span(from: i64, to: i64) -> f64 {
    (i128::from(to) - i128::from(from)) as f64
}

/// Kahan-compensated sum, the summation pandas uses for group sums and means.
#[derive(Debug, Clone, Copy, Default)]
struct Kahan {
    sum: f64,
    compensation: f64,
}

impl Kahan {
    #[inline]
    fn add(&mut self, v: f64) {
        let y = v - self.compensation;
        let t = self.sum + y;
        self.compensation = (t - self.sum) - y;
        self.sum = t;
    }

    #[inline]
    fn value(&self) -> f64 {
        self.sum
    }
}

/// What one customer did.
#[derive(Debug, Clone, Copy, Default)]
struct CustomerAgg {
    /// Distinct calibration periods.
    periods: u32,
    first: i64,
    last: i64,
    /// Sum of the per-period amounts of the repeat periods.
    repeat_sum: Kahan,
    /// Sum of the per-period amounts of all periods, in period order.
    all_sum: Kahan,
    holdout_periods: u32,
    holdout_count: u32,
    holdout_sum: Kahan,
    /// Σ ln(gap) over the gaps between consecutive distinct calibration
    /// periods, in periods (only when `litt` was asked for).
    log_gaps: Kahan,
}

/// One transaction as the aggregation sees it: its period, and its amount with
/// the holdout flag in the sign bit (amounts are validated non-negative, so the
/// bit is free; `-0.0` is a holdout transaction of amount 0). 16 bytes.
#[derive(Debug, Clone, Copy)]
struct Record {
    period: i64,
    signed_amount: f64,
}

impl Record {
    #[inline]
    fn new(period: i64, amount: f64, holdout: bool) -> Self {
        let signed_amount = if holdout { -amount.abs() } else { amount.abs() };
        Record {
            period,
            signed_amount,
        }
    }

    #[inline]
    fn parts(self) -> (i64, f64, bool) {
        (
            self.period,
            self.signed_amount.abs(),
            self.signed_amount.is_sign_negative(),
        )
    }
}

/// Splits customers `0..offsets.len() - 1` into about `parts` consecutive
/// ranges holding about equal numbers of rows (`offsets` as in [`Log`]).
fn customer_ranges(offsets: &[usize], parts: usize) -> Vec<std::ops::Range<usize>> {
    let n_customers = offsets.len() - 1;
    let n = offsets[n_customers];
    let parts = parts.clamp(1, n_customers.max(1));
    let mut ranges = Vec::with_capacity(parts);
    let mut start = 0;
    for k in 1..=parts {
        let end = if k == parts {
            n_customers
        } else {
            // The first customer whose rows start at or after k/parts of the log.
            offsets
                .partition_point(|&o| o < n * k / parts)
                .min(n_customers)
                .max(start)
        };
        ranges.push(start..end);
        start = end;
    }
    ranges
}

/// Sorts one customer's records by period, stably (insertion sort for the
/// short runs most customers have; nothing to do when already in order, as in
/// a log kept in time order).
fn sort_by_period(segment: &mut [Record]) {
    if segment.is_sorted_by_key(|r| r.period) {
        return;
    }
    if segment.len() > 32 {
        segment.sort_by_key(|r| r.period);
        return;
    }
    for i in 1..segment.len() {
        let mut j = i;
        while j > 0 && segment[j - 1].period > segment[j].period {
            segment.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Splits rows `0..n` into consecutive chunks to count customers' rows in
/// parallel: about two per thread, none smaller than 64k rows, and few enough
/// that the per-chunk counts (one `usize` per customer and chunk) stay within
/// about two words per row.
fn row_chunks(n: usize, n_customers: usize) -> Vec<std::ops::Range<usize>> {
    const MIN_ROWS: usize = 1 << 16;
    let by_threads = 2 * rayon::current_num_threads();
    let by_size = n / MIN_ROWS;
    let by_memory = 2 * n / n_customers.max(1);
    let k = by_threads.min(by_size).min(by_memory).max(1);
    let size = n.div_ceil(k).max(1);
    (0..n)
        .step_by(size)
        .map(|start| start..(start + size).min(n))
        .collect()
}

/// The transaction log grouped by customer, each customer's transactions in
/// period order (ties in input order).
struct Log<'a> {
    periods: &'a [i64],
    amounts: Option<&'a [f64]>,
    holdout: Option<&'a [bool]>,
    /// Customer c's transactions are `records[offsets[c]..offsets[c + 1]]`, or
    /// the rows in that range of the input when `records` is `None` (the log
    /// was already in (customer, period) order).
    offsets: Vec<usize>,
    records: Option<Vec<Record>>,
}

impl<'a> Log<'a> {
    fn group<C: CustomerCode>(
        customers: &[C],
        periods: &'a [i64],
        amounts: Option<&'a [f64]>,
        holdout: Option<&'a [bool]>,
        n: usize,
    ) -> Self {
        // Codes were validated: every one is an index below n.
        let code = |i: usize| customers[i].to_index().expect("validated code");
        let n_customers = (0..n).into_par_iter().map(code).max().unwrap_or(0) + 1;
        // How many rows each customer has: counted per chunk of rows, then added.
        let counts = row_chunks(n, n_customers)
            .into_par_iter()
            .map(|rows| {
                let mut counts = vec![0usize; n_customers];
                for i in rows {
                    counts[code(i)] += 1;
                }
                counts
            })
            .reduce_with(|mut a, b| {
                a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                a
            })
            .unwrap_or_else(|| vec![0; n_customers]);
        let mut offsets = Vec::with_capacity(n_customers + 1);
        let mut total = 0usize;
        offsets.push(0);
        for count in counts {
            total += count;
            offsets.push(total);
        }
        let sorted = (1..n).into_par_iter().all(|i| {
            let (a, b) = (code(i - 1), code(i));
            a < b || (a == b && periods[i - 1] <= periods[i])
        });
        let records = (!sorted).then(|| {
            // Stable counting sort by customer (moving the records themselves, so
            // what follows reads memory in order), then each customer's by
            // period. Each task owns the records of a range of customers (a
            // disjoint slice of the output) and scans the rows in input order
            // for its customers' ones.
            let mut records = vec![Record::new(0, 0.0, false); n];
            let ranges = customer_ranges(&offsets, rayon::current_num_threads());
            let mut rest: &mut [Record] = &mut records;
            let mut parts = Vec::with_capacity(ranges.len());
            for range in &ranges {
                let (head, tail) = rest.split_at_mut(offsets[range.end] - offsets[range.start]);
                parts.push((range.clone(), head));
                rest = tail;
            }
            parts.into_par_iter().for_each(|(customers, out)| {
                let base = offsets[customers.start];
                let mut cursor: Vec<usize> = offsets[customers.clone()]
                    .iter()
                    .map(|&o| o - base)
                    .collect();
                for i in 0..n {
                    let c = code(i);
                    if customers.contains(&c) {
                        let slot = &mut cursor[c - customers.start];
                        out[*slot] = Record::new(
                            periods[i],
                            amounts.map_or(0.0, |a| a[i]),
                            holdout.is_some_and(|h| h[i]),
                        );
                        *slot += 1;
                    }
                }
                let mut rest: &mut [Record] = out;
                for c in customers {
                    let (segment, tail) = rest.split_at_mut(offsets[c + 1] - offsets[c]);
                    sort_by_period(segment);
                    rest = tail;
                }
            });
            records
        });
        Log {
            periods,
            amounts,
            holdout,
            offsets,
            records,
        }
    }

    fn aggregate(&self, litt: bool) -> Vec<CustomerAgg> {
        (0..self.offsets.len() - 1)
            .into_par_iter()
            .map(|c| {
                let range = self.offsets[c]..self.offsets[c + 1];
                match &self.records {
                    Some(records) => walk(records[range].iter().map(|r| r.parts()), litt),
                    None => walk(
                        range.map(|r| {
                            (
                                self.periods[r],
                                self.amounts.map_or(0.0, |a| a[r]),
                                self.holdout.is_some_and(|h| h[r]),
                            )
                        }),
                        litt,
                    ),
                }
            })
            .collect()
    }

    fn summary(
        &self,
        aggs: &[CustomerAgg],
        end: i64,
        freq_multiplier: f64,
        include_first: bool,
        litt: bool,
    ) -> TransactionSummary {
        let kept: Vec<(usize, &CustomerAgg)> = aggs
            .iter()
            .enumerate()
            .filter(|(_, a)| a.periods > 0)
            .collect();
        let column = |f: &(dyn Fn(&CustomerAgg) -> f64 + Sync)| -> Vec<f64> {
            kept.par_iter().map(|(_, a)| f(a)).collect()
        };
        let extra = if include_first { 0.0 } else { 1.0 };
        let monetary_value = self.amounts.map(|_| {
            column(&|a: &CustomerAgg| {
                if include_first {
                    a.all_sum.value() / f64::from(a.periods)
                } else if a.periods > 1 {
                    a.repeat_sum.value() / f64::from(a.periods - 1)
                } else {
                    0.0
                }
            })
        });
        // Σ ln(gap / m) = Σ ln(gap) − (periods − 1) ln m.
        let ln_multiplier = freq_multiplier.ln();
        let litt = litt.then(|| {
            column(&|a: &CustomerAgg| a.log_gaps.value() - f64::from(a.periods - 1) * ln_multiplier)
        });
        TransactionSummary {
            customer: kept.iter().map(|&(c, _)| c).collect(),
            frequency: column(&|a: &CustomerAgg| f64::from(a.periods) - extra),
            recency: column(&|a: &CustomerAgg| span(a.first, a.last) / freq_multiplier),
            age: column(&|a: &CustomerAgg| span(a.first, end) / freq_multiplier),
            monetary_value,
            litt,
        }
    }
}

/// Aggregates one customer's (period, amount, holdout) transactions, given in
/// period order; with `litt`, also the sum of the logs of the gaps between
/// consecutive distinct calibration periods.
fn walk(transactions: impl Iterator<Item = (i64, f64, bool)>, litt: bool) -> CustomerAgg {
    let mut agg = CustomerAgg::default();
    let mut current = Kahan::default(); // amount of the current calibration period
    let mut last_holdout: Option<i64> = None;
    for (p, amount, holdout) in transactions {
        if holdout {
            if last_holdout != Some(p) {
                agg.holdout_periods += 1;
                last_holdout = Some(p);
            }
            agg.holdout_count += 1;
            agg.holdout_sum.add(amount);
            continue;
        }
        if agg.periods == 0 || agg.last != p {
            close_period(&mut agg, current);
            if litt && agg.periods > 0 {
                agg.log_gaps.add(span(agg.last, p).ln());
            }
            agg.periods += 1;
            if agg.periods == 1 {
                agg.first = p;
            }
            agg.last = p;
            current = Kahan::default();
        }
        current.add(amount);
    }
    close_period(&mut agg, current);
    agg
}

/// Books the amount of the period just finished.
#[inline]
fn close_period(agg: &mut CustomerAgg, amount: Kahan) {
    let amount = amount.value();
    match agg.periods {
        0 => return,
        1 => {}
        _ => agg.repeat_sum.add(amount),
    }
    agg.all_sum.add(amount);
}
