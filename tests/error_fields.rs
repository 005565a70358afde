//! `Error::InvalidData` says where: the row, the column the rule concerns and,
//! for survivor counts by cohort, the cohort and period. The Python layer sets
//! `InvalidDataError`'s attributes from these fields, so they are checked here
//! rule by rule.

use retentionkit::summary::{summarize, SummaryOptions};
use retentionkit::{bgbb_data, CustomerData, Error, RetentionData, SpendData, ZeroFrequency};

/// (rule, row, column, cohort, period) of an InvalidData error.
type Location = (
    &'static str,
    usize,
    Option<&'static str>,
    Option<usize>,
    Option<usize>,
);

fn location<T: std::fmt::Debug>(result: Result<T, Error>) -> Location {
    match result {
        Err(Error::InvalidData {
            rule,
            row,
            column,
            cohort,
            period,
            ..
        }) => (rule, row, column, cohort, period),
        other => panic!("expected InvalidData, got {other:?}"),
    }
}

/// (row, column) of an InvalidData error outside cohort data.
fn row_and_column<T: std::fmt::Debug>(result: Result<T, Error>) -> (usize, &'static str) {
    let (_, row, column, cohort, period) = location(result);
    assert_eq!((cohort, period), (None, None));
    (row, column.expect("the rule concerns one column"))
}

#[test]
fn summary_rules_name_their_column() {
    // (frequency, recency, T) with row 1 broken, and the column to blame.
    let cases: [([f64; 3], &str); 9] = [
        ([f64::NAN, 0.0, 5.0], "frequency"),
        ([1.0, f64::INFINITY, 5.0], "recency"),
        ([1.0, 1.0, f64::NAN], "T"),
        ([1.5, 1.0, 5.0], "frequency"),
        ([1.0, 1.0, -1.0], "T"),
        ([1.0, 0.0, 0.0], "frequency"), // no repeat purchase possible at T = 0
        ([1.0, -1.0, 5.0], "recency"),
        ([1.0, 6.0, 5.0], "recency"),
        ([0.0, 1.0, 5.0], "recency"),
    ];
    for ([x, tx, t], column) in cases {
        let got = row_and_column(CustomerData::new(&[1.0, x], &[1.0, tx], &[2.0, t], None));
        assert_eq!(got, (1, column), "x={x}, t_x={tx}, T={t}");
    }
    let weights = CustomerData::new(&[1.0, 1.0], &[1.0, 1.0], &[2.0, 2.0], Some(&[1.0, -1.0]));
    assert_eq!(row_and_column(weights), (1, "weights"));
}

#[test]
fn spend_and_bgbb_rules_name_their_column() {
    let spend = |x: f64, m: f64| {
        row_and_column(SpendData::new(
            &[1.0, x],
            &[1.0, m],
            None,
            ZeroFrequency::Reject,
        ))
    };
    assert_eq!(spend(1.0, f64::NAN), (1, "monetary_value"));
    assert_eq!(spend(0.0, 1.0), (1, "frequency"));
    assert_eq!(spend(2.0, -1.0), (1, "monetary_value"));
    let bgbb = |x: f64, tx: f64, n: f64| bgbb_data(&[1.0, x], &[1.0, tx], &[2.0, n], None);
    assert_eq!(row_and_column(bgbb(1.0, 1.5, 2.0)), (1, "recency"));
    assert_eq!(row_and_column(bgbb(0.0, 0.0, -1.0)), (1, "n_periods"));
    assert_eq!(row_and_column(bgbb(2.0, 1.0, 3.0)), (1, "frequency"));
}

#[test]
fn transaction_log_rules_name_their_column() {
    let options = SummaryOptions::new(10);
    let late = summarize(&[0u32, 0], &[1, 11], None, &options);
    assert_eq!(row_and_column(late), (1, "times"));
    let code = summarize(&[0u32, 5], &[1, 2], None, &options);
    assert_eq!(row_and_column(code), (1, "customers"));
    let amount = summarize(&[0u32, 0], &[1, 2], Some(&[1.0, -1.0]), &options);
    assert_eq!(row_and_column(amount), (1, "amounts"));
}

#[test]
fn cohort_errors_name_cohort_and_period() {
    let regular = [100.0, 80.0, 60.0];
    let increase = location(RetentionData::from_cohorts(&[
        &regular[..],
        &[50.0, 40.0, 45.0][..],
    ]));
    let rule = "survivor counts must not increase from one period to the next";
    assert_eq!(increase, (rule, 2, None, Some(1), Some(2)));
    let negative = location(RetentionData::from_cohorts(&[&[10.0, -1.0][..]]));
    assert_eq!((negative.1, negative.3, negative.4), (1, Some(0), Some(1)));
    let empty_start = location(RetentionData::from_cohorts(&[
        &regular[..],
        &[0.0, 0.0][..],
    ]));
    assert_eq!((empty_start.3, empty_start.4), (Some(1), Some(0)));
    // An empty cohort has no period at all.
    let empty: [&[f64]; 2] = [&regular, &[]];
    let none = location(RetentionData::from_cohorts(&empty));
    assert_eq!((none.3, none.4), (Some(1), None));
    // Individual records are rows of a column, not cohorts.
    let durations = RetentionData::from_durations(&[1.0, 0.0], &[true, false], None);
    assert_eq!(row_and_column(durations), (1, "durations"));
}

#[test]
fn the_message_is_unchanged_by_the_new_fields() {
    let err = CustomerData::new(&[1.0, 2.0], &[1.0, 6.0], &[5.0, 5.0], None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid data: recency must not exceed T (first offending row: 1; frequency=2, \
         recency=6, T=5)"
    );
}
