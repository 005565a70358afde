//! Customer lifetime value against lifetimes 0.11.3's
//! `GammaGammaFitter.customer_lifetime_value` on CDNOW, for every transaction model.

mod common;

use common::cdnow_summary_with_spend as cdnow;
use common::reference::{clv_cdnow_lifetimes, reference};
use retentionkit::gamma_gamma::conditional_expected_average_profit;
use retentionkit::{
    customer_lifetime_value, BetaGeo, ClvOptions, Error, GammaGamma, ModifiedBetaGeo, ParetoNBD,
    TimeUnit, TransactionModel,
};

/// Checks `model`'s CLV against every case of lifetimes' table
/// (tests/fixtures/reference_values.json) whose transaction model is
/// `entry` (`n_cases` of them); lifetimes' `GammaGammaFitter` gives the spend.
fn check<M: TransactionModel>(entry: &str, n_cases: usize) {
    let table = clv_cdnow_lifetimes();
    let model = reference(entry).model::<M>();
    let spend = reference(&table.spend_model).model::<GammaGamma>();
    let [x, tx, t, m] = cdnow();
    let profit = conditional_expected_average_profit(&spend, &x, &m).unwrap();
    let cases: Vec<_> = table
        .cases
        .iter()
        .filter(|case| case.transaction_model == entry)
        .collect();
    assert_eq!(cases.len(), n_cases, "{entry}: cases");
    for case in cases {
        let unit = match case.freq.as_str() {
            "W" => TimeUnit::Week,
            "D" => TimeUnit::Day,
            "M" => TimeUnit::Month,
            other => panic!("unknown freq {other}"),
        };
        let options = ClvOptions {
            time: case.time,
            discount_rate: case.discount_rate,
            unit,
        };
        let clv = customer_lifetime_value(&model, &x, &tx, &t, &profit, &options).unwrap();
        assert_eq!(table.customer_ids.len(), case.values.len());
        for (id, &want) in table.customer_ids.iter().zip(&case.values) {
            let got = clv[id - 1];
            assert!(
                (got - want).abs() <= 1e-8 * want.abs(),
                "{} {options:?} customer {id}: {got} vs lifetimes {want}",
                M::NAME
            );
        }
        let sum: f64 = clv.iter().sum();
        assert!(
            (sum - case.sum).abs() <= 1e-8 * case.sum,
            "{} {options:?} sum: {sum} vs {}",
            M::NAME,
            case.sum
        );
    }
}

#[test]
fn bgnbd_matches_lifetimes() {
    check::<BetaGeo>("bgnbd_cdnow_lifetimes", 3);
}

#[test]
fn mbgnbd_matches_lifetimes() {
    check::<ModifiedBetaGeo>("mbgnbd_cdnow_lifetimes", 2);
}

#[test]
fn pareto_nbd_matches_lifetimes() {
    check::<ParetoNBD>("pnbd_cdnow_lifetimes", 2);
}

#[test]
fn clv_is_linear_in_spend() {
    let [x, tx, t, m] = cdnow();
    let model = reference("bgnbd_cdnow_fhl2005").model::<BetaGeo>();
    let options = ClvOptions {
        unit: TimeUnit::Week,
        ..ClvOptions::default()
    };
    let other: Vec<f64> = (0..x.len()).map(|i| 1.0 + (i % 11) as f64).collect();
    let combined: Vec<f64> = m
        .iter()
        .zip(&other)
        .map(|(a, b)| 3.0 * a - 2.0 * b)
        .collect();
    let clv =
        |spend: &[f64]| customer_lifetime_value(&model, &x, &tx, &t, spend, &options).unwrap();
    let (a, b, c) = (clv(&m), clv(&other), clv(&combined));
    for i in 0..x.len() {
        let want = 3.0 * a[i] - 2.0 * b[i];
        let scale = 3.0 * a[i].abs() + 2.0 * b[i].abs();
        assert!(
            (c[i] - want).abs() <= 1e-12 * scale,
            "{i}: {} vs {want}",
            c[i]
        );
    }
    // Zero spend, zero months or zero purchases: zero value.
    assert!(clv(&vec![0.0; x.len()]).iter().all(|v| *v == 0.0));
    let none = ClvOptions {
        time: 0.0,
        ..options
    };
    let zero = customer_lifetime_value(&model, &x, &tx, &t, &m, &none).unwrap();
    assert!(zero.iter().all(|v| *v == 0.0));
}

#[test]
fn horizon_and_discounting_follow_lifetimes() {
    let model = reference("bgnbd_cdnow_fhl2005").model::<BetaGeo>();
    let (x, tx, t, m) = ([2.0], [30.43], [38.86], [10.0]);
    let value = |time: f64, discount_rate: f64| {
        let options = ClvOptions {
            time,
            discount_rate,
            unit: TimeUnit::Week,
        };
        customer_lifetime_value(&model, &x, &tx, &t, &m, &options).unwrap()[0]
    };
    // Without discounting, the value is m · E[Y(K f)].
    let e = model.conditional_expected_purchases(12.0 * 4.345, 2.0, 30.43, 38.86);
    assert!((value(12.0, 0.0) - 10.0 * e).abs() < 1e-12);
    // A fractional horizon counts its last month in full, as numpy.arange(1, time + 1).
    assert_eq!(value(11.2, 0.05), value(12.0, 0.05));
    // Discounting lowers the value; a custom unit equals the named one.
    assert!(value(12.0, 0.05) < value(12.0, 0.0));
    let custom = ClvOptions {
        time: 12.0,
        discount_rate: 0.05,
        unit: TimeUnit::PerMonth(4.345),
    };
    assert_eq!(
        customer_lifetime_value(&model, &x, &tx, &t, &m, &custom).unwrap()[0],
        value(12.0, 0.05)
    );
}

#[test]
fn bad_input_is_reported() {
    let model = reference("bgnbd_cdnow_fhl2005").model::<BetaGeo>();
    let options = ClvOptions::default();
    let err = customer_lifetime_value(
        &model,
        &[1.0, 2.0],
        &[1.0, 2.0],
        &[3.0, 4.0],
        &[5.0, f64::INFINITY],
        &options,
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidData { row: 1, .. }), "{err}");
    let err =
        customer_lifetime_value(&model, &[1.0], &[5.0], &[3.0], &[5.0], &options).unwrap_err();
    assert!(
        err.to_string().contains("recency must not exceed T"),
        "{err}"
    );
    assert!(matches!(
        customer_lifetime_value(&model, &[1.0], &[1.0], &[3.0], &[5.0, 6.0], &options),
        Err(Error::LengthMismatch { .. })
    ));
    for bad in [
        ClvOptions {
            time: -1.0,
            ..options
        },
        ClvOptions {
            discount_rate: -1.0,
            ..options
        },
        ClvOptions {
            unit: TimeUnit::PerMonth(0.0),
            ..options
        },
    ] {
        let err = customer_lifetime_value(&model, &[1.0], &[1.0], &[3.0], &[5.0], &bad);
        assert!(
            matches!(err, Err(Error::InvalidParameter { .. })),
            "{bad:?}"
        );
    }
}
