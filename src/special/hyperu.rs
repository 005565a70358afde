//! Tricomi's confluent hypergeometric function U(a, b; z) on the diagonal b = a.
//!
//! Fader, Hardie & Lee's Pareto/NBD DERT (JMR 2005, eq. (2)) needs
//! Ψ(s, s; z) = U(s, s; z) for s > 0 and z = δ(β + T) > 0. On the diagonal U is
//! an upper incomplete gamma function (DLMF 8.5.3, 13.6.6):
//!
//! U(a, a; z) = e^z Γ(1 − a, z) = (1/Γ(a)) ∫₀^∞ e^{−zt} t^{a−1} / (1 + t) dt,
//!
//! where 1 − a < 1 may be negative. The code works with
//! W = z^{a−1} U(a, a; z), which is bounded (W ≤ 1/(a−1) for a > 1, and
//! z W → 1 as z → ∞ for every a), and returns ln U = (1 − a) ln z + ln W, so nothing
//! overflows where e^z or z^{1−a} would:
//!
//! - **z > 1.5, or a large**: Legendre's continued fraction for Γ(1 − a, z)
//!   (DLMF 8.9.2), W = 1/(z + a − 1·a/(z + a + 2 − 2(a + 1)/(z + a + 4 − …))),
//!   evaluated by the modified Lentz method. Its partial numerators k(k + a − 1)
//!   are positive, so every convergent is positive and nothing cancels.
//! - **z ≤ 1.5, a < 1.5**: with b = 1 − a ∈ (−0.5, 1), the series of Temme
//!   (1994, "Computational aspects of incomplete gamma functions with large
//!   complex parameters") that stays regular at b = 0,
//!   Γ(b, z) = (Γ(1 + b) − 1)/b − (z^b − 1)/b − z^b Σ_{k≥1} (−z)^k / (k! (b + k)),
//!   with (Γ(1 + b) − 1)/b from [`ln_gamma_1p`] and (z^b − 1)/b from `exp_m1`:
//!   no digits are lost at or near the integer a = 1 (where U(1, 1; z) = e^z E₁(z)).
//! - **z ≤ 1.5, a ≥ 1.5**: the same at a₀ = a − n ∈ [0.5, 1.5), then the
//!   recurrence Γ(c + 1, z) = c Γ(c, z) + z^c e^{−z} (DLMF 8.8.2) upwards in a,
//!   which for W reads W(a) = (1 − z W(a − 1))/(a − 1). For z ≤ 1.5 the
//!   subtraction loses at most a few bits, and errors are damped as a grows.
//!
//! Tested against 50-digit mpmath values (`tests/fixtures/hyperu_mpmath.csv`,
//! made by `scripts/make_hyperu_fixture.py`, which also checks the identity
//! above) for a ∈ [10⁻⁶, 10³] and z ∈ [10⁻¹², 10⁴], to a relative error of 1e-10.

use crate::special::ln_gamma_1p;

/// Below this z (and a small enough for the recurrence) the series is used.
const SERIES_MAX_Z: f64 = 1.5;
/// Above this a the continued fraction converges quickly for any z > 0.
const CF_MIN_A: f64 = 40.0;
const EULER: f64 = 0.577_215_664_901_532_9;

/// U(a, a; z) for a > 0 and z > 0 (NaN otherwise). May overflow to +∞ for
/// large a and small z; [`ln_hyperu_aa`] does not.
///
/// ```
/// use retentionkit::hyperu::hyperu_aa;
/// // U(1, 1; z) = e^z E₁(z); E₁(1) = 0.219383934395520…
/// let expected = 1f64.exp() * 0.219_383_934_395_520_3;
/// assert!((hyperu_aa(1.0, 1.0) / expected - 1.0).abs() < 1e-14);
/// ```
pub fn hyperu_aa(a: f64, z: f64) -> f64 {
    ln_hyperu_aa(a, z).exp()
}

/// ln U(a, a; z) for a > 0 and z > 0 (NaN otherwise); see the module
/// documentation for the method.
///
/// ```
/// use retentionkit::hyperu::ln_hyperu_aa;
/// // For large z, U(a, a; z) ≈ z^{−a}: here e^z alone would overflow.
/// let z = 1e4f64;
/// assert!((ln_hyperu_aa(0.5, z) + 0.5 * z.ln()).abs() < 1e-4);
/// ```
pub fn ln_hyperu_aa(a: f64, z: f64) -> f64 {
    if !(a > 0.0 && z > 0.0 && a.is_finite()) {
        return f64::NAN;
    }
    if z.is_infinite() {
        return f64::NEG_INFINITY;
    }
    (1.0 - a) * z.ln() + ln_scaled(a, z)
}

/// ln(z^{a−1} U(a, a; z)) for a > 0 and z > 0 (NaN otherwise), without the two
/// terms ±(a−1) ln z that [`ln_hyperu_aa`] plus (a−1) ln z would add and cancel:
/// for a in the millions they cost 1e-8 relative. The Pareto/NBD's DERT uses it.
pub(crate) fn ln_hyperu_aa_scaled(a: f64, z: f64) -> f64 {
    if !(a > 0.0 && z > 0.0 && a.is_finite()) {
        return f64::NAN;
    }
    if z.is_infinite() {
        return f64::NEG_INFINITY;
    }
    ln_scaled(a, z)
}

/// z W(a, z) = z^a U(a, a; z) for one a > 0 and many z > 0, with what depends
/// only on a computed once. The value lies in (0, 1] for a ≥ 1 and tends to 1
/// as z → ∞ (the value at z = ∞ is 1). The BG/NBD family's DERT uses it: for
/// s ~ Gamma(m, rate z), E[s/(1 + s)] = m z^m U(m + 1, m + 1; z) =
/// (m/z) · z W(m + 1, z).
pub(crate) struct ZScaledHyperU {
    a: f64,
    /// The series is evaluated at a₀ = a − steps ∈ (0, 1.5), then recurred up.
    a0: f64,
    steps: usize,
    /// (Γ(1 + b₀) − 1)/b₀ with b₀ = 1 − a₀.
    g1: f64,
}

impl ZScaledHyperU {
    pub(crate) fn new(a: f64) -> Self {
        let steps = if a < 1.5 { 0.0 } else { (a - 0.5).floor() };
        let a0 = a - steps;
        Self {
            a,
            a0,
            steps: steps as usize,
            g1: series_constant(1.0 - a0),
        }
    }

    /// z W(a, z).
    pub(crate) fn eval(&self, z: f64) -> f64 {
        if z.is_infinite() {
            return 1.0;
        }
        if z > SERIES_MAX_Z || self.a > CF_MIN_A {
            return z / continued_fraction(self.a, z);
        }
        z * recur(scaled_series(self.a0, self.g1, z), self.a0, self.steps, z)
    }
}

/// ln W with W = z^{a−1} U(a, a; z).
fn ln_scaled(a: f64, z: f64) -> f64 {
    if z > SERIES_MAX_Z || a > CF_MIN_A {
        return -continued_fraction(a, z).ln();
    }
    if a < 1.5 {
        return scaled_series(a, series_constant(1.0 - a), z).ln();
    }
    let steps = (a - 0.5).floor();
    let a0 = a - steps;
    let w = scaled_series(a0, series_constant(1.0 - a0), z);
    recur(w, a0, steps as usize, z).ln()
}

/// W(a₀ + steps) from W(a₀) by W(a) = (1 − z W(a − 1))/(a − 1).
fn recur(w0: f64, a0: f64, steps: usize, z: f64) -> f64 {
    let mut w = w0;
    let mut c = a0;
    for _ in 0..steps {
        w = (1.0 - z * w) / c;
        c += 1.0;
    }
    w
}

/// The denominator of W = 1/(d₀ − n₁/(d₁ − n₂/(d₂ − …))), d_k = z + a + 2k,
/// n_k = k(k + a − 1), by the modified Lentz method.
fn continued_fraction(a: f64, z: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut f = z + a;
    let mut c = f;
    let mut d = 0.0;
    for k in 1..100_000 {
        let kf = k as f64;
        let n = -kf * (kf + a - 1.0);
        let dk = z + a + 2.0 * kf;
        d = dk + n * d;
        if d.abs() < TINY {
            d = TINY;
        }
        d = 1.0 / d;
        c = dk + n / c;
        if c.abs() < TINY {
            c = TINY;
        }
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() <= f64::EPSILON {
            break;
        }
    }
    f
}

/// (Γ(1 + b) − 1)/b, −γ at b = 0: the constant of Temme's series.
fn series_constant(b: f64) -> f64 {
    if b == 0.0 {
        -EULER
    } else {
        ln_gamma_1p(b).exp_m1() / b
    }
}

/// W for a < 1.5 and z ≤ 1.5 from Temme's form of Γ(b, z), b = 1 − a, given
/// `g1` = [`series_constant`]`(b)`.
fn scaled_series(a: f64, g1: f64, z: f64) -> f64 {
    let b = 1.0 - a;
    let ln_z = z.ln();
    // z^b − 1 and (z^b − 1)/b (ln z at b = 0).
    let bl = b * ln_z;
    let zb_minus_1 = bl.exp_m1();
    let g2 = if bl.abs() < 1e-8 {
        ln_z * (1.0 + 0.5 * bl)
    } else {
        zb_minus_1 / b
    };
    // Σ_{k≥1} (−z)^k / (k! (b + k)).
    let mut term = 1.0; // (−z)^k / k!
    let mut sum = 0.0;
    for k in 1..200 {
        let kf = k as f64;
        term *= -z / kf;
        let add = term / (b + kf);
        sum += add;
        if add.abs() <= 1e-17 * sum.abs() {
            break;
        }
    }
    // z^b = 1 + (z^b − 1) only while that does not cancel.
    let zb = if bl > -0.5 {
        1.0 + zb_minus_1
    } else {
        bl.exp()
    };
    let gamma_upper = g1 - g2 - zb * sum;
    // W = z^{−b} e^z Γ(b, z).
    z.exp() * gamma_upper / zb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_forms() {
        // U(0, b; z) = 1, so U(a, a; z) → 1 as a → 0.
        assert!((hyperu_aa(1e-12, 0.7) - 1.0).abs() < 1e-11);
        // U(2, 2; z) = 1/z − e^z E₁(z).
        let z = 0.3f64;
        let e1 = 0.905_676_651_675_846_7; // E₁(0.3)
        let expected = 1.0 / z - z.exp() * e1;
        assert!((hyperu_aa(2.0, z) / expected - 1.0).abs() < 1e-13);
        // U(1/2, 1/2; z) = e^z Γ(1/2, z) = √π e^z erfc(√z).
        let z = 2.0f64;
        let erfc_sqrt2 = 0.045_500_263_896_358_42;
        let expected = std::f64::consts::PI.sqrt() * z.exp() * erfc_sqrt2;
        assert!((hyperu_aa(0.5, z) / expected - 1.0).abs() < 1e-13);
    }

    #[test]
    fn both_methods_agree_at_the_switch() {
        for &a in &[0.01, 0.4, 0.999, 1.0, 1.3, 2.0, 3.7, 12.0, 39.0] {
            let cf = -continued_fraction(a, SERIES_MAX_Z).ln();
            let series = if a < 1.5 {
                scaled_series(a, series_constant(1.0 - a), SERIES_MAX_Z).ln()
            } else {
                ln_scaled(a, SERIES_MAX_Z * (1.0 - 1e-15))
            };
            assert!((cf - series).abs() < 1e-13, "a = {a}: {cf} vs {series}");
        }
    }

    /// The cached evaluator for one a agrees with the general function.
    #[test]
    fn z_scaled_evaluator_matches_the_general_function() {
        for &a in &[1.0 + 1e-9, 1.243, 1.5, 2.9, 13.2, 41.0, 600.0] {
            let cached = ZScaledHyperU::new(a);
            for &z in &[1e-10, 1e-3, 0.3, 1.49, 1.5, 1.51, 7.0, 1e3, 1e9] {
                let expected = (a * f64::ln(z) + ln_hyperu_aa(a, z)).exp();
                let got = cached.eval(z);
                // The reference goes through ln U, so it is only good to
                // rounding of the logarithms it adds.
                let tolerance = 1e-14 * (1.0 + (a * z.ln()).abs());
                assert!(
                    (got / expected - 1.0).abs() < tolerance,
                    "a={a}, z={z}: {got} vs {expected}"
                );
            }
            assert_eq!(cached.eval(f64::INFINITY), 1.0);
        }
    }

    #[test]
    fn outside_the_domain_is_nan() {
        assert!(ln_hyperu_aa(0.0, 1.0).is_nan());
        assert!(ln_hyperu_aa(1.0, 0.0).is_nan());
        assert!(ln_hyperu_aa(1.0, f64::NAN).is_nan());
    }
}
