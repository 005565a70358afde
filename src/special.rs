//! Special functions: thin wrappers over `statrs` plus the few it lacks.

pub use statrs::function::beta::beta_reg;
pub use statrs::function::gamma::{digamma, ln_gamma};

/// Trigamma ψ₁(x) = d²/dx² ln Γ(x) for x > 0.
///
/// Recurrence ψ₁(x) = ψ₁(x + 1) + 1/x² up to x ≥ 10, then the asymptotic
/// series (Abramowitz & Stegun 6.4.12); absolute error below 1e-12.
pub fn trigamma(x: f64) -> f64 {
    let mut x = x;
    let mut acc = 0.0;
    while x < 10.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    let series = inv
        * (1.0
            + inv * 0.5
            + inv2 * (1.0 / 6.0 - inv2 * (1.0 / 30.0 - inv2 * (1.0 / 42.0 - inv2 / 30.0))));
    acc + series
}

/// ln(1 + eˣ) without overflow.
pub fn log1p_exp(x: f64) -> f64 {
    if x > 35.0 {
        x
    } else if x < -35.0 {
        x.exp()
    } else {
        x.exp().ln_1p()
    }
}

/// The logistic function 1 / (1 + e⁻ˣ), stable for any x.
pub fn logistic(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// (eᵘ − 1)/u, equal to 1 at u = 0, accurate for small |u|.
pub fn expm1_over(u: f64) -> f64 {
    if u.abs() < 1e-8 {
        1.0 + 0.5 * u
    } else {
        u.exp_m1() / u
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigamma_reference_values() {
        // ψ₁(1) = π²/6, ψ₁(1/2) = π²/2, ψ₁(25) from the series.
        let pi2 = std::f64::consts::PI.powi(2);
        assert!((trigamma(1.0) - pi2 / 6.0).abs() < 1e-12);
        assert!((trigamma(0.5) - pi2 / 2.0).abs() < 1e-12);
        // Against a central difference of digamma.
        for &x in &[0.05f64, 0.3, 2.7, 11.0, 1500.0] {
            let h = 1e-5 * x.max(1.0);
            let fd = (digamma(x + h) - digamma(x - h)) / (2.0 * h);
            assert!((trigamma(x) - fd).abs() < 1e-6 * trigamma(x), "x = {x}");
        }
    }

    #[test]
    fn log1p_exp_is_finite_and_accurate() {
        assert_eq!(log1p_exp(1000.0), 1000.0);
        assert!((log1p_exp(0.0) - 2f64.ln()).abs() < 1e-15);
        assert!(log1p_exp(-1000.0) >= 0.0);
        assert!((logistic(0.0) - 0.5).abs() < 1e-15);
        assert!(logistic(-800.0) >= 0.0 && logistic(800.0) <= 1.0);
    }
}
