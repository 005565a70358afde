//! Transaction log → customer summaries, checked on hand-made logs whose answers
//! follow from the `lifetimes` 0.11.3 rules (see `src/summary.rs`). The exact
//! agreement with `lifetimes` on the CDNOW log is tested in
//! `tests/python/test_summary.py`.

use retentionkit::summary::{
    calibration_and_holdout, summarize, CalibrationHoldout, HoldoutOptions, SummaryOptions,
    TransactionSummary,
};
use retentionkit::Error;

fn run(
    customers: &[u32],
    times: &[i64],
    amounts: Option<&[f64]>,
    options: &SummaryOptions,
) -> TransactionSummary {
    summarize(customers, times, amounts, options).expect("valid log")
}

fn invalid_row(err: Error) -> (&'static str, usize) {
    match err {
        Error::InvalidData { rule, row, .. } => (rule, row),
        other => panic!("expected InvalidData, got {other:?}"),
    }
}

#[test]
fn same_period_purchases_collapse_and_their_amounts_add_up() {
    // Customer 0: day 0 (twice), day 2 (three times), day 5. Customer 1: day 1 only.
    let customers = [0u32, 0, 1, 0, 0, 0, 0];
    let days = [0i64, 0, 1, 2, 2, 2, 5];
    let amounts = [1.0, 2.0, 7.0, 10.0, 20.0, 30.0, 4.0];
    let s = run(&customers, &days, Some(&amounts), &SummaryOptions::new(6));
    assert_eq!(s.customer, [0, 1]);
    assert_eq!(s.frequency, [2.0, 0.0]);
    assert_eq!(s.recency, [5.0, 0.0]);
    assert_eq!(s.age, [6.0, 5.0]);
    // Repeat periods: day 2 (60) and day 5 (4); the first (3) is left out.
    assert_eq!(s.monetary_value.unwrap(), [32.0, 0.0]);
}

#[test]
fn customers_without_repeat_purchases_have_zeros() {
    let customers = [2u32, 0, 1, 1];
    let days = [4i64, 3, 9, 9];
    let amounts = [5.0, 6.0, 1.5, 2.5];
    let s = run(&customers, &days, Some(&amounts), &SummaryOptions::new(10));
    assert_eq!(s.customer, [0, 1, 2]);
    assert_eq!(s.frequency, [0.0; 3]);
    assert_eq!(s.recency, [0.0; 3]);
    assert_eq!(s.age, [7.0, 1.0, 6.0]);
    assert_eq!(s.monetary_value.unwrap(), [0.0; 3]);
}

#[test]
fn include_first_transaction_counts_and_averages_every_period() {
    let customers = [0u32, 0, 0, 1];
    let days = [0i64, 0, 4, 2];
    let amounts = [1.0, 2.0, 9.0, 5.0];
    let options = SummaryOptions {
        include_first_transaction: true,
        ..SummaryOptions::new(4)
    };
    let s = run(&customers, &days, Some(&amounts), &options);
    assert_eq!(s.frequency, [2.0, 1.0]);
    assert_eq!(s.monetary_value.unwrap(), [6.0, 5.0]); // (3 + 9) / 2 and 5 / 1
}

#[test]
fn monetary_value_is_absent_without_amounts() {
    let s = run(&[0, 0], &[0, 1], None, &SummaryOptions::new(1));
    assert_eq!(s.monetary_value, None);
    assert_eq!(s.frequency, [1.0]);
}

#[test]
fn periods_floor_the_clock_and_the_multiplier_scales_the_result() {
    // An hour clock with daily periods: hours 1 and 23 fall on day 0, hour 50 on day 2.
    let customers = [0u32, 0, 0];
    let hours = [1i64, 23, 50];
    let daily = SummaryOptions {
        period: 24,
        ..SummaryOptions::new(24 * 7 + 5)
    };
    let s = run(&customers, &hours, None, &daily);
    assert_eq!((s.frequency[0], s.recency[0], s.age[0]), (1.0, 2.0, 7.0));
    // Hourly periods reported in days (lifetimes' freq="h", freq_multiplier=24).
    let hourly_in_days = SummaryOptions {
        freq_multiplier: 24.0,
        ..SummaryOptions::new(24 * 7 + 5)
    };
    let s = run(&customers, &hours, None, &hourly_in_days);
    assert_eq!(s.frequency[0], 2.0);
    assert_eq!(s.recency[0], 49.0 / 24.0);
    assert_eq!(s.age[0], 172.0 / 24.0);
}

#[test]
fn negative_times_floor_towards_minus_infinity() {
    let s = run(
        &[0u32, 0],
        &[-1, 0],
        None,
        &SummaryOptions {
            period: 10,
            ..SummaryOptions::new(9)
        },
    );
    // -1 is in period -1, 0 in period 0: two periods.
    assert_eq!((s.frequency[0], s.recency[0], s.age[0]), (1.0, 1.0, 1.0));
}

#[test]
fn row_order_does_not_matter() {
    let customers = [3u32, 1, 0, 3, 1, 2, 0, 3, 3];
    let days = [9i64, 2, 5, 1, 2, 7, 0, 9, 4];
    let amounts = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
    let options = SummaryOptions::new(12);
    let shuffled = run(&customers, &days, Some(&amounts), &options);
    let mut rows: Vec<usize> = (0..customers.len()).collect();
    rows.sort_by_key(|&i| (customers[i], days[i], i));
    let pick = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<_>>();
    let c: Vec<u32> = rows.iter().map(|&i| customers[i]).collect();
    let d: Vec<i64> = rows.iter().map(|&i| days[i]).collect();
    let a = pick(&amounts);
    let sorted = run(&c, &d, Some(&a), &options);
    assert_eq!(shuffled, sorted);
    assert_eq!(sorted.frequency, [1.0, 0.0, 0.0, 2.0]);
    assert_eq!(sorted.monetary_value.unwrap(), [3.0, 0.0, 0.0, 9.0]);
}

#[test]
fn codes_of_every_integer_type_agree() {
    let days = [0i64, 3, 3, 8];
    let expected = run(&[1, 0, 1, 1], &days, None, &SummaryOptions::new(8));
    let options = SummaryOptions::new(8);
    let as_u64 = summarize(&[1u64, 0, 1, 1], &days, None, &options).unwrap();
    let as_i64 = summarize(&[1i64, 0, 1, 1], &days, None, &options).unwrap();
    let as_usize = summarize(&[1usize, 0, 1, 1], &days, None, &options).unwrap();
    assert_eq!(as_u64, expected);
    assert_eq!(as_i64, expected);
    assert_eq!(as_usize, expected);
    // Customer 0 buys once at 3; customer 1 at 0, 3 and 8.
    assert_eq!(expected.frequency, [0.0, 2.0]);
    assert_eq!(expected.age, [5.0, 8.0]);
}

#[test]
fn bad_rows_are_named() {
    let options = SummaryOptions::new(10);
    let err = summarize(&[0i64, -1, 0], &[1, 2, 3], None, &options).unwrap_err();
    assert_eq!(
        invalid_row(err),
        ("customer codes must be non-negative integers", 1)
    );
    let err = summarize(&[0u32, 7, 0], &[1, 2, 3], None, &options).unwrap_err();
    assert_eq!(invalid_row(err).1, 1);
    let err = summarize(&[0u32, 0, 1], &[1, 11, 12], None, &options).unwrap_err();
    assert_eq!(
        invalid_row(err),
        ("transactions must not be after the observation end", 1)
    );
    let amounts = [1.0, 2.0, -0.5, 3.0];
    let err = summarize(&[0u32, 0, 1, 1], &[1, 2, 3, 4], Some(&amounts), &options).unwrap_err();
    assert_eq!(invalid_row(err), ("amounts must be non-negative", 2));
    let amounts = [1.0, f64::NAN];
    let err = summarize(&[0u32, 0], &[1, 2], Some(&amounts), &options).unwrap_err();
    assert_eq!(invalid_row(err), ("amounts must be finite numbers", 1));
    // The message names the row and the values.
    let text = summarize(&[0u32, 0], &[1, 20], None, &options)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("row: 1") && text.contains("time=20"),
        "{text}"
    );
}

#[test]
fn a_transaction_later_in_the_last_period_is_not_after_the_end() {
    // lifetimes floors the observation end to its period: hour 30 is on day 1.
    let options = SummaryOptions {
        period: 24,
        ..SummaryOptions::new(25)
    };
    let s = summarize(&[0u32, 0], &[2, 30], None, &options).unwrap();
    assert_eq!((s.frequency[0], s.age[0]), (1.0, 1.0));
}

#[test]
fn bad_arguments_are_refused() {
    let err = summarize(&[0u32], &[0, 1], None, &SummaryOptions::new(1)).unwrap_err();
    assert!(matches!(err, Error::LengthMismatch { name: "times", .. }));
    let err = summarize::<u32>(&[], &[], None, &SummaryOptions::new(1)).unwrap_err();
    assert_eq!(err, Error::Empty);
    let zero_period = SummaryOptions {
        period: 0,
        ..SummaryOptions::new(1)
    };
    assert!(matches!(
        summarize(&[0u32], &[0], None, &zero_period),
        Err(Error::InvalidParameter { .. })
    ));
    let bad_multiplier = SummaryOptions {
        freq_multiplier: f64::NAN,
        ..SummaryOptions::new(1)
    };
    assert!(matches!(
        summarize(&[0u32], &[0], None, &bad_multiplier),
        Err(Error::InvalidParameter { .. })
    ));
}

fn holdout(
    customers: &[u32],
    times: &[i64],
    amounts: Option<&[f64]>,
    mask: Option<&[bool]>,
    options: &HoldoutOptions,
) -> CalibrationHoldout {
    calibration_and_holdout(customers, times, amounts, mask, options).expect("valid log")
}

#[test]
fn calibration_and_holdout_split_the_log() {
    // Calibration ends at 10, observation at 20.
    // Customer 0: 1, 4, 4 | 12, 12, 15. Customer 1: 3 | none. Customer 2: none | 11.
    let customers = [0u32, 0, 0, 1, 0, 0, 0, 2];
    let times = [1i64, 4, 4, 3, 12, 12, 15, 11];
    let amounts = [2.0, 3.0, 5.0, 4.0, 1.0, 2.0, 6.0, 9.0];
    let out = holdout(
        &customers,
        &times,
        Some(&amounts),
        None,
        &HoldoutOptions::new(10, 20),
    );
    let cal = &out.calibration;
    assert_eq!(cal.customer, [0, 1]); // customer 2 is first seen in the holdout
    assert_eq!(cal.frequency, [1.0, 0.0]);
    assert_eq!(cal.recency, [3.0, 0.0]);
    assert_eq!(cal.age, [9.0, 7.0]);
    assert_eq!(cal.monetary_value.as_deref(), Some(&[8.0, 0.0][..]));
    assert_eq!(out.frequency_holdout, [2.0, 0.0]);
    // The holdout mean is over transactions, not periods: (1 + 2 + 6) / 3.
    assert_eq!(out.monetary_value_holdout.as_deref(), Some(&[3.0, 0.0][..]));
    assert_eq!(out.duration_holdout, 10.0);
}

#[test]
fn the_split_compares_times_before_flooring() {
    // Hour clock, daily periods: calibration ends at hour 24 (start of day 1).
    // Customer 0 buys at hours 0 and 30: hour 30 is on day 1, the calibration
    // end's day, but after its time, so it is a holdout purchase.
    let options = HoldoutOptions {
        period: 24,
        ..HoldoutOptions::new(24, 24 * 4)
    };
    let out = holdout(&[0u32, 0], &[0, 30], None, None, &options);
    assert_eq!(out.calibration.frequency, [0.0]);
    assert_eq!(out.calibration.age, [1.0]);
    assert_eq!(out.frequency_holdout, [1.0]);
    assert_eq!(out.duration_holdout, 3.0);
    // The same split given as a mask over period ordinals.
    let masked = holdout(
        &[0u32, 0],
        &[0, 1],
        None,
        Some(&[false, true]),
        &HoldoutOptions::new(1, 4),
    );
    assert_eq!(masked, out);
}

#[test]
fn holdout_bad_rows_are_named() {
    let options = HoldoutOptions::new(10, 20);
    let err =
        calibration_and_holdout(&[0u32, 0, 1], &[1, 21, 5], None, None, &options).unwrap_err();
    assert_eq!(
        invalid_row(err),
        ("transactions must not be after the observation end", 1)
    );
    let mask = [false, false, true];
    let err = calibration_and_holdout(&[0u32, 0, 1], &[1, 12, 5], None, Some(&mask), &options)
        .unwrap_err();
    assert_eq!(invalid_row(err).1, 1);
    let err = calibration_and_holdout(&[0u32, 0, 1], &[1, 2, 5], None, Some(&mask), &options)
        .unwrap_err();
    assert_eq!(
        invalid_row(err),
        (
            "holdout transactions must not be before the calibration end",
            2
        )
    );
    let backwards = HoldoutOptions::new(20, 10);
    assert!(matches!(
        calibration_and_holdout(&[0u32], &[1], None, None, &backwards),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn a_large_shuffled_log_matches_a_direct_computation() {
    // Transactions in a scrambled order, checked against a plain per-customer
    // computation: a small log, and logs large enough to be counted and
    // scattered by several chunks of rows in parallel (with many customers, and
    // with so few that the per-chunk counts are cheap).
    for (n, n_customers) in [(20_000usize, 3_000u64), (400_000, 50_000), (300_000, 7)] {
        check_shuffled_log(n, n_customers);
    }
}

fn check_shuffled_log(n: usize, n_customers: u64) {
    let mut state = 12345u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state >> 33
    };
    let customers: Vec<u64> = (0..n).map(|_| next() % n_customers).collect();
    let days: Vec<i64> = (0..n).map(|_| (next() % 400) as i64 - 50).collect();
    let amounts: Vec<f64> = (0..n).map(|_| (next() % 10_000) as f64 / 100.0).collect();
    let options = SummaryOptions::new(400);
    let s = summarize(&customers, &days, Some(&amounts), &options).unwrap();
    let m = s.monetary_value.as_ref().unwrap();
    let mut by_customer =
        std::collections::HashMap::<usize, std::collections::BTreeMap<i64, f64>>::new();
    for i in 0..n {
        *by_customer
            .entry(customers[i] as usize)
            .or_default()
            .entry(days[i])
            .or_default() += amounts[i];
    }
    assert_eq!(s.customer.len(), by_customer.len());
    for (k, &c) in s.customer.iter().enumerate() {
        let by_day = &by_customer[&c];
        let first = *by_day.keys().next().unwrap();
        let last = *by_day.keys().last().unwrap();
        let repeats: Vec<f64> = by_day.values().skip(1).copied().collect();
        assert_eq!(s.frequency[k], repeats.len() as f64);
        assert_eq!(s.recency[k], (last - first) as f64);
        assert_eq!(s.age[k], (400 - first) as f64);
        let mean = if repeats.is_empty() {
            0.0
        } else {
            repeats.iter().sum::<f64>() / repeats.len() as f64
        };
        assert!((m[k] - mean).abs() <= 1e-12 * mean.max(1.0), "{c}");
    }
}
