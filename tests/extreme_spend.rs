//! Gamma-Gamma at parameters near the largest double (issue 12): p = q = v =
//! 1e300 gave ∞ (pv overflowed before the division by q − 1); the expected
//! spend is finite there and must come out finite, and an expected spend that
//! truly exceeds the largest double is an error, not ∞.

use retentionkit::gamma_gamma::conditional_expected_average_profit;
use retentionkit::GammaGamma;

#[test]
fn huge_parameters_give_finite_expected_spend() {
    let m = GammaGamma::new(1e300, 1e300, 1e300).unwrap();
    // pv/(q−1) = 1e300 (q − 1 rounds to q).
    let population = m.expected_average_profit().unwrap();
    assert!((population - 1e300).abs() <= 1e-15 * 1e300, "{population}");
    // p(v + x m)/(px + q − 1) = (v/x + m)/(1 + (q−1)/(px)).
    let values =
        conditional_expected_average_profit(&m, &[0.0, 1.0, 4.0], &[0.0, 20.0, 35.0]).unwrap();
    let expected = [1e300, (1e300 + 20.0) / 2.0, (1e300 / 4.0 + 35.0) / 1.25];
    for (v, e) in values.iter().zip(expected) {
        assert!((v - e).abs() <= 1e-14 * e, "{v} vs {e}");
    }
    // Ordinary values are unchanged (FH 2013's CDNOW estimates).
    let m = GammaGamma::new(6.25, 3.74, 15.44).unwrap();
    let v = m.conditional_expected_average_profit(2.0, 30.0).unwrap();
    let direct = 6.25 * (15.44 + 2.0 * 30.0) / (6.25 * 2.0 + 3.74 - 1.0);
    assert!((v - direct).abs() <= 1e-13 * direct);
}

#[test]
fn expected_spend_beyond_the_largest_double_is_an_error() {
    let m = GammaGamma::new(1e300, 2.0, 1e300).unwrap();
    let err = m.expected_average_profit().unwrap_err().to_string();
    assert!(err.contains("exceeds the largest double"), "{err}");
    let err = conditional_expected_average_profit(&m, &[0.0], &[0.0])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("exceeds the largest double") && err.contains("row"),
        "{err}"
    );
}
