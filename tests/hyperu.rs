//! U(a, a; z) against 50-digit mpmath values (tests/fixtures/hyperu_mpmath.csv,
//! made by scripts/make_hyperu_fixture.py, which also checks the identity
//! U(a, a; z) = e^z Γ(1 − a, z) the implementation relies on).

mod common;

use retentionkit::hyperu::{hyperu_aa, ln_hyperu_aa};

/// The fixture's rows: a, z, ln U(a, a; z).
fn fixture() -> Vec<Vec<f64>> {
    common::mpmath_fixture("hyperu_mpmath.csv", &["a", "z", "ln_u"])
}

/// Relative error ≤ 1e-10, measured as |Δ ln U| (the relative error of U to
/// first order). Where U overflows a double only ln U is available, held by a
/// double to a relative 1e-16, so there the bound is 1e-14 |ln U|.
#[test]
fn matches_mpmath_to_1e_10() {
    let rows = fixture();
    assert!(rows.len() > 700);
    let mut worst = (0.0f64, 0.0, 0.0);
    let mut failures = Vec::new();
    for row in &rows {
        let (a, z, expected) = (row[0], row[1], row[2]);
        let got = ln_hyperu_aa(a, z);
        let err = (got - expected).abs();
        if err > worst.0 || err.is_nan() {
            worst = (err, a, z);
        }
        if err.is_nan() || err > 1e-10f64.max(1e-14 * expected.abs()) {
            failures.push(format!(
                "U({a}, {a}; {z}): ln U {got} vs {expected} (err {err:.2e})"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    eprintln!(
        "worst |Δ ln U| {:.2e} at a = {}, z = {}",
        worst.0, worst.1, worst.2
    );
}

#[test]
fn linear_scale_agrees_where_finite() {
    for row in fixture() {
        let (a, z, expected) = (row[0], row[1], row[2]);
        if expected.abs() < 600.0 {
            let exact = expected.exp();
            let got = hyperu_aa(a, z);
            assert!(
                (got / exact - 1.0).abs() < 1e-10 * expected.abs().max(1.0),
                "U({a}, {a}; {z}) = {got}, expected {exact}"
            );
        }
    }
}

/// U(a, a; z) = (1/Γ(a)) ∫ e^{−zt} t^{a−1}/(1 + t) dt decreases in z: checked
/// on a grid that crosses the switches between methods.
#[test]
fn decreasing_in_z() {
    for &a in &[0.05, 0.6, 1.0, 1.49, 1.51, 2.0, 7.3, 39.9, 40.1] {
        let mut previous = f64::INFINITY;
        let mut z = 1e-6;
        while z < 1e3 {
            let value = ln_hyperu_aa(a, z);
            assert!(value < previous, "a = {a}, z = {z}");
            previous = value;
            z *= 1.07;
        }
    }
}
