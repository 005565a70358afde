//! Customer lifetime value against lifetimes 0.11.3's
//! `GammaGammaFitter.customer_lifetime_value` on CDNOW, for every transaction model.

use std::path::PathBuf;

use retentionkit::gamma_gamma::conditional_expected_average_profit;
use retentionkit::{
    customer_lifetime_value, BetaGeo, ClvOptions, Error, GammaGamma, ModifiedBetaGeo, ParetoNBD,
    TimeUnit, TransactionModel,
};

/// (x, t_x, T, m_x) of the 2357 customers of the CDNOW 1/10th sample (weeks).
fn cdnow() -> [Vec<f64>; 4] {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("python/retentionkit/datasets/data/cdnow_customers_summary_with_transactions.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut out: [Vec<f64>; 4] = Default::default();
    for line in text.lines().skip(1) {
        let cols: Vec<f64> = line.split(',').map(|c| c.trim().parse().unwrap()).collect();
        for (column, value) in out.iter_mut().zip(&cols[1..]) {
            column.push(*value);
        }
    }
    out
}

/// lifetimes' fits on the same data (`GammaGammaFitter` on the 946 repeat
/// customers, the transaction models on all 2357), pinned.
fn lifetimes_gamma_gamma() -> GammaGamma {
    GammaGamma::new(6.248802496075072, 3.744588460923138, 15.44774806492988).unwrap()
}

/// Customer IDs (1-based) whose values are pinned.
const IDS: [usize; 7] = [1, 2, 3, 18, 100, 1000, 2357];

/// ((time, discount_rate, freq), CLV of `IDS`, sum over all customers).
type Case = ((f64, f64, TimeUnit), [f64; 7], f64);

fn check<M: TransactionModel>(model: &M, cases: &[Case]) {
    let [x, tx, t, m] = cdnow();
    let profit = conditional_expected_average_profit(&lifetimes_gamma_gamma(), &x, &m).unwrap();
    for &((time, discount_rate, unit), expected, expected_sum) in cases {
        let options = ClvOptions {
            time,
            discount_rate,
            unit,
        };
        let clv = customer_lifetime_value(model, &x, &tx, &t, &profit, &options).unwrap();
        for (id, want) in IDS.iter().zip(expected) {
            let got = clv[id - 1];
            assert!(
                (got - want).abs() <= 1e-8 * want.abs(),
                "{} {options:?} customer {id}: {got} vs lifetimes {want}",
                M::NAME
            );
        }
        let sum: f64 = clv.iter().sum();
        assert!(
            (sum - expected_sum).abs() <= 1e-8 * expected_sum,
            "{} {options:?} sum: {sum} vs {expected_sum}",
            M::NAME
        );
    }
}

#[test]
fn bgnbd_matches_lifetimes() {
    let model = BetaGeo::new(
        0.242592928279822,
        4.413532265271825,
        0.7928859664406758,
        2.4257523826258134,
    )
    .unwrap();
    check(
        &model,
        &[
            (
                (12.0, 0.01, TimeUnit::Week),
                [
                    36.27849576362572,
                    4.637466328569656,
                    8.344093121809827,
                    6.349622110038317,
                    21.88629940821051,
                    50.70227018097807,
                    11.017135935941923,
                ],
                71509.8993193653,
            ),
            (
                (6.0, 0.1, TimeUnit::Day),
                [
                    73.01551989441704,
                    9.615782781407358,
                    18.32502414607879,
                    13.165936446374529,
                    45.30202934956431,
                    97.20508280191902,
                    23.344063255073447,
                ],
                140590.9658791432,
            ),
            (
                (3.0, 0.0, TimeUnit::Month),
                [
                    2.739330107153386,
                    0.3408185561918989,
                    0.5853675849355598,
                    0.46664900326616204,
                    1.6115471432791995,
                    4.042694857534042,
                    0.8032678036611032,
                ],
                5601.372462424166,
            ),
        ],
    );
}

#[test]
fn mbgnbd_matches_lifetimes() {
    let model = ModifiedBetaGeo::new(
        0.5248377255676637,
        6.1829884791339715,
        0.8913562809311422,
        1.6140000256721438,
    )
    .unwrap();
    check(
        &model,
        &[
            (
                (12.0, 0.01, TimeUnit::Week),
                [
                    37.185153892698786,
                    4.285471930736732,
                    6.555870383509234,
                    5.9984432204602385,
                    23.954697884832292,
                    48.74724900620104,
                    9.321125391644488,
                ],
                67775.63915707167,
            ),
            (
                (3.0, 0.0, TimeUnit::Month),
                [
                    2.8739728017029855,
                    0.3227653258911969,
                    0.47308367426988424,
                    0.45177976012524,
                    1.8079212273928988,
                    3.981559091560625,
                    0.7028893338724733,
                ],
                5458.018628415804,
            ),
        ],
    );
}

#[test]
fn pareto_nbd_matches_lifetimes() {
    let model = ParetoNBD::new(
        0.5532602511580041,
        10.57745440770725,
        0.6062545207084257,
        11.66939305920274,
    )
    .unwrap();
    check(
        &model,
        &[
            (
                (12.0, 0.01, TimeUnit::Week),
                [
                    43.07931883357972,
                    3.8822135383412535,
                    4.520770023379557,
                    5.43040674438689,
                    27.334580522151995,
                    56.46476569080472,
                    7.350232625467447,
                ],
                72316.79091943361,
            ),
            (
                (6.0, 0.1, TimeUnit::Day),
                [
                    87.79608786182813,
                    7.911990489619932,
                    9.213375070043313,
                    11.067223915435301,
                    55.63128713449816,
                    113.53742908044441,
                    14.501051438662897,
                ],
                145024.99460649808,
            ),
        ],
    );
}

#[test]
fn clv_is_linear_in_spend() {
    let [x, tx, t, m] = cdnow();
    let model = BetaGeo::new(0.243, 4.414, 0.793, 2.426).unwrap();
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
    let model = BetaGeo::new(0.243, 4.414, 0.793, 2.426).unwrap();
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
    let model = BetaGeo::new(0.243, 4.414, 0.793, 2.426).unwrap();
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
