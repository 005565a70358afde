//! BG/BB, sBG and BdW where their parameters are in the millions (issue 12):
//! values that ln Γ differences of size a ln a used to get wrong by 1e-8 to
//! 4e-3, against 50-digit mpmath (points of tests/fixtures/mpmath_grid_other.json,
//! from scripts/make_mpmath_grid_other.py, and log-likelihoods computed the
//! same way from B(α, β+tᶜ)/B(α, β)).

#![allow(clippy::excessive_precision)] // mpmath's 17 digits, as printed

use retentionkit::bdw::BetaDiscreteWeibull;
use retentionkit::bgbb::BetaGeoBetaBinom;
use retentionkit::contractual::{RetentionData, RetentionModel};
use retentionkit::sbg::ShiftedBetaGeometric;
use retentionkit::{Derivatives, Model};

fn assert_rel(got: f64, expected: f64, rtol: f64, what: &str) {
    assert!(
        (got - expected).abs() <= rtol * expected.abs(),
        "{what}: {got:e} vs {expected:e} (relative error {:.1e})",
        (got / expected - 1.0).abs()
    );
}

#[test]
fn bgbb_expectations_likelihood_and_pmf_at_huge_shapes() {
    // Grid point 23: E[X(n)] was off by 3.8e-3, E[X(n, n+n*)] by 3.1e-3.
    let m = BetaGeoBetaBinom::new(225_862.0, 22_602.5, 1.257_91, 9_143_620.0).unwrap();
    assert_rel(
        m.expected_number_of_transactions(35.0),
        31.816_015_666_044_002,
        1e-9,
        "E[X(35)]",
    );
    assert_rel(
        m.conditional_expected_number_of_transactions(336.0, 33.0, 34.0, 35.0),
        305.428_565_498_182_14,
        1e-9,
        "E[X(35, 371)]",
    );
    assert_rel(
        m.probability_of_transactions(0.0, 35.0),
        1.513_396_350_213_453e-7,
        1e-9,
        "P(X(35)=0)",
    );
    // Point 58: a customer almost surely gone, 2e-4 before.
    let m = BetaGeoBetaBinom::new(567_829.0, 0.002_655_61, 131.079, 5_951_310.0).unwrap();
    assert_rel(
        m.conditional_expected_number_of_transactions(2.0, 2.0, 3.0, 11.0),
        3.411_089_462_124_739_5e-37,
        1e-9,
        "E[X(11, 13)]",
    );
    // γ = 1 exactly, where S(δ, γ, n) is δ (ψ(δ+1+n) − ψ(δ+1)): 2e-9 off from
    // two digamma values of δ in the millions before.
    let m = BetaGeoBetaBinom::new(1.2, 0.7, 1.0, 9e6).unwrap();
    let expected = 1.2 / 1.9 * 9e6 / (9e6 + 1.0);
    assert_rel(
        m.expected_number_of_transactions(1.0),
        expected,
        1e-14,
        "E[X(1)], gamma = 1",
    );
    // ln L of a customer who bought at every opportunity, α in the millions
    // (a point of a grid from the same script with seed 777; 2.4e-8 before).
    let m = BetaGeoBetaBinom::new(4_070_540.0, 73_497.5, 72.9771, 1_817_620.0).unwrap();
    assert_rel(
        m.individual_log_likelihood(7.0, 7.0, 7.0),
        -0.125_545_148_579_192_36,
        1e-12,
        "ln L",
    );
    // Point 33: ln L near 0 for x = 0 (2e-4 before).
    let m = BetaGeoBetaBinom::new(0.021_495_9, 105_530.0, 0.357_888, 8_242.18).unwrap();
    assert_rel(
        m.individual_log_likelihood(0.0, 0.0, 3.0),
        -6.110_251_395_596_32e-7,
        1e-9,
        "ln L",
    );
}

#[test]
fn sbg_survival_and_discounted_lifetimes_at_huge_alpha() {
    // Grid point 56: S(17) and DEL lost 2e-8 and 3e-8.
    let m = ShiftedBetaGeometric::new(9_688_280.0, 0.005_973_34).unwrap();
    assert_rel(
        m.survival(17.0),
        2.184_716_794_396_210_4e-108,
        1e-9,
        "S(17)",
    );
    assert_rel(
        m.discounted_expected_lifetime(3.496_28e-8).unwrap(),
        1.000_000_000_616_553_3,
        1e-12,
        "DEL",
    );
    // Point 31: DEL = 1 + 7.5e-8 came out as 1 + 2^-24 through 2F1.
    let m = ShiftedBetaGeometric::new(8_227_360.0, 0.617_39).unwrap();
    assert_rel(
        m.discounted_expected_lifetime(1e-12).unwrap(),
        1.000_000_075_041_091_6,
        1e-12,
        "DEL",
    );
}

#[test]
fn bdw_churn_and_discounted_lifetime_at_extreme_shapes() {
    // Grid point 26: P(T = 1623) with c = 0.0027 lost 2.4e-6.
    let m = BetaDiscreteWeibull::new(31_204.9, 0.002_214_61, 0.002_689_63).unwrap();
    assert_rel(
        m.probability_of_churn_at(1623.0),
        1.049_831_942_566_691_6e-12,
        1e-9,
        "P(T=1623)",
    );
    // Point 29: α in the millions, churn 1.5e-8 off.
    let m = BetaDiscreteWeibull::new(6_570_110.0, 1.208_28, 0.422_82).unwrap();
    assert_rel(
        m.probability_of_churn_at(487.0),
        5.799_330_085_965_211e-84,
        1e-9,
        "P(T=487)",
    );
    // Point 52 (its old reference, 1.5e10, was the generator's).
    let m = BetaDiscreteWeibull::new(0.235_654, 48_014.6, 7.508_73).unwrap();
    assert_rel(
        m.discounted_expected_lifetime(2.201_19e-10).unwrap(),
        9.979_348_112_749_735,
        1e-9,
        "DEL",
    );
}

#[test]
fn bdw_log_likelihood_near_zero_keeps_its_digits() {
    // Everyone survives (β in the millions): ln L = n ln S(3) ≈ −1.7e-3, from
    // two ln Γ ratios of size α ln β before.
    let data = RetentionData::from_survivors(&[10_000.0; 4]).unwrap();
    let m = BetaDiscreteWeibull::new(1.0, 1e7, 0.5).unwrap();
    let value = m.evaluate(&data, Derivatives::None).value;
    assert_rel(value, -1.732_050_657_568_894_6e-3, 1e-12, "ln L");
    // A churn in period 3 with c = 0.02: S(2) − S(3) of two values within 1e-9.
    let data = RetentionData::from_survivors(&[10_000.0, 10_000.0, 10_000.0, 9_999.0]).unwrap();
    let m = BetaDiscreteWeibull::new(0.5, 2e6, 0.02).unwrap();
    let value = m.evaluate(&data, Derivatives::None).value;
    assert_rel(value, -20.001_183_966_718_081_566, 1e-12, "ln L");
    // A churn in period 1000 with c = 0.001: ln S(1000) − ln S(999) is about
    // −5e-7, from two values of size 0.7 before.
    let mut counts = vec![10.0; 1000];
    counts.push(9.0);
    let data = RetentionData::from_survivors(&counts).unwrap();
    let m = BetaDiscreteWeibull::new(1.0, 1.0, 0.001).unwrap();
    let value = m.evaluate(&data, Derivatives::None).value;
    assert_rel(value, -21.470_779_843_551_628, 1e-13, "ln L");
}

#[test]
fn sbg_discounted_lifetime_at_large_alpha_and_beta_with_a_tiny_rate() {
    // A point of a grid from scripts/make_mpmath_grid_other.py with seed 778:
    // ₂F₁ near z = 1 left 2.3e-8 (logarithms of size α |ln d| = 2e7).
    let m = ShiftedBetaGeometric::new(753_856.0, 9_591_220.0).unwrap();
    let value = m.discounted_expected_lifetime(1e-12).unwrap();
    assert_rel(value, 13.722_897_639_291_88, 1e-10, "DEL");
}
