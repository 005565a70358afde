//! ₂F₁ against 50-digit mpmath values on the region the Pareto/NBD model
//! reaches (tests/fixtures/hyp2f1_mpmath.csv, made by
//! scripts/make_hyp2f1_fixture.py).

mod common;

use retentionkit::hyp2f1::{hyp2f1, hyp2f1_ln};

/// The fixture's rows: a, b, c, z, ln |F|, sign of F.
fn fixture() -> Vec<Vec<f64>> {
    common::mpmath_fixture("hyp2f1_mpmath.csv", &["a", "b", "c", "z", "ln_abs", "sign"])
}

/// Relative error ≤ 1e-10, measured as |Δ ln |F|| (which is the relative error
/// of F to first order), with the right sign. Where F overflows a double
/// (|ln F| > 709) only ln F is available, and a double holds it to a relative
/// 1e-16: there the bound is 1e-14 |ln F| (three points, ln F ≈ 2–4 × 10⁴).
#[test]
fn matches_mpmath_to_1e_10() {
    let rows = fixture();
    assert!(rows.len() > 300);
    let mut worst = (0.0f64, Vec::new());
    let mut failures = Vec::new();
    for row in &rows {
        let (a, b, c, z, expected, sign) = (row[0], row[1], row[2], row[3], row[4], row[5]);
        let (got, got_sign) = hyp2f1_ln(a, b, c, z);
        let err = (got - expected).abs();
        if err > worst.0 || err.is_nan() {
            worst = (err, row.clone());
        }
        let tol = 1e-10f64.max(1e-14 * expected.abs());
        if err.is_nan() || err > tol || got_sign != sign {
            failures.push(format!(
                "F({a}, {b}; {c}; {z}): ln|F| {got} vs {expected} (err {err:.2e}), sign {got_sign}"
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
    eprintln!("worst relative error {:.2e} at {:?}", worst.0, worst.1);
}

#[test]
fn linear_scale_agrees_where_finite() {
    for row in fixture() {
        let (a, b, c, z, expected) = (row[0], row[1], row[2], row[3], row[4]);
        if expected.abs() < 600.0 {
            let f = hyp2f1(a, b, c, z);
            let exact = row[5] * expected.exp();
            assert!((f - exact).abs() <= 2e-10 * exact.abs(), "{row:?}: {f}");
        }
    }
}

#[test]
fn outside_the_domain_is_nan() {
    assert!(hyp2f1(1.0, 1.0, 2.0, 1.0).is_nan());
    assert!(hyp2f1(1.0, 1.0, 2.0, 1.5).is_nan());
    assert!(hyp2f1(1.0, 1.0, -2.0, 0.5).is_nan());
    assert_eq!(hyp2f1(3.0, 4.0, 5.0, 0.0), 1.0);
    // A terminating series: ₂F₁(−2, b; c; z) = 1 − 2bz/c + b(b+1)z²/(c(c+1)).
    let (b, c, z) = (1.5, 2.5, -3.0);
    let exact = 1.0 - 2.0 * b * z / c + b * (b + 1.0) * z * z / (c * (c + 1.0));
    assert!((hyp2f1(-2.0, b, c, z) - exact).abs() < 1e-13 * exact.abs());
}
