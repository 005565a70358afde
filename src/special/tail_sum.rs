//! Sums of series with a power-law tail, for the expected lifetimes of the
//! contractual models.

use crate::error::Result;

/// Σ_{t≥0} f(t) for a positive, eventually decreasing f with a power-law tail
/// f(t) ~ K t^{−p}, p > 1: the first `N` terms directly, the rest by the
/// Euler–Maclaurin formula, whose integral is computed by Gauss–Legendre
/// quadrature in ln t and, beyond t = N e^{40}, from the power law.
pub(crate) fn power_tail_series(f: impl Fn(f64) -> f64, p: f64) -> f64 {
    const N: f64 = 2000.0;
    let head: f64 = (0..N as usize).map(|t| f(t as f64)).sum();
    // Σ_{t≥N} f(t) = ∫_N^∞ f + f(N)/2 − f′(N)/12 + O(f‴).
    let derivative = (f(N + 1.0) - f(N - 1.0)) / 2.0;
    let corrections = f(N) / 2.0 - derivative / 12.0;
    // ∫_N^∞ f(t) dt = ∫_0^∞ f(N eˣ) N eˣ dx, panels of width 1/4 in x.
    let (nodes, weights) = gauss_legendre_8();
    let (width, x_max) = (0.25, 40.0);
    let mut integral = 0.0;
    let mut x0 = 0.0;
    while x0 < x_max {
        let mut panel = 0.0;
        for (u, w) in nodes.iter().zip(weights) {
            let x = x0 + width * 0.5 * (u + 1.0);
            let t = N * x.exp();
            panel += w * f(t) * t;
        }
        integral += panel * width * 0.5;
        x0 += width;
    }
    // Beyond T = N e^{x_max}: ∫_T^∞ K t^{−p} dt = f(T) T / (p − 1).
    let big_t = N * x_max.exp();
    integral += f(big_t) * big_t / (p - 1.0);
    head + corrections + integral
}

pub(crate) fn gauss_legendre_8() -> ([f64; 8], [f64; 8]) {
    let nodes = [
        -0.960_289_856_497_536_3,
        -0.796_666_477_413_626_7,
        -0.525_532_409_916_329,
        -0.183_434_642_495_649_8,
        0.183_434_642_495_649_8,
        0.525_532_409_916_329,
        0.796_666_477_413_626_7,
        0.960_289_856_497_536_3,
    ];
    let weights = [
        0.101_228_536_290_376_26,
        0.222_381_034_453_374_47,
        0.313_706_645_877_887_3,
        0.362_683_783_378_362,
        0.362_683_783_378_362,
        0.313_706_645_877_887_3,
        0.222_381_034_453_374_47,
        0.101_228_536_290_376_26,
    ];
    (nodes, weights)
}

/// Σ_{j≥1} e^{g(j)} for a smooth, non-increasing g with g(j) + λj
/// non-increasing too (a log-survival ratio minus a discount of rate λ > 0 per
/// step), to a relative accuracy of about 1e-12, in time that does not grow
/// as λ → 0.
///
/// The first [`HEAD`] terms are summed directly, stopping as soon as the
/// remainder, at most term · e^{−λ}/(1 − e^{−λ}) because e^{g(j)+λj} does not
/// increase, is below 1e-17 of the sum. The rest, Σ_{j≥a} f(j) with
/// a = HEAD + 1, comes from the Euler–Maclaurin formula
///
/// ```text
/// Σ_{j≥a} f(j) = ∫_a^∞ f(t) dt + f(a)/2 − f′(a)/12 + f‴(a)/720 − …,
/// ```
///
/// with f′ and f‴ by central differences of step 1: the tail is only reached
/// when f varies slowly (on a scale of hundreds of steps or more; a faster
/// decay makes the head converge first), so the neglected f⁽⁵⁾/30240 term and
/// the differences' errors are far below 1e-12 relative. The integral is taken
/// by 8-point Gauss–Legendre on panels of width 1/16 in x = ln(t/a), whose
/// integrand f(a eˣ) a eˣ falls at a rate s(x) = −d/dx ln(f(t) t) that never
/// decreases (for the models here: the local power of the survival's decay
/// plus λt, less one); the panels stop when the integrand over s is below
/// 1e-17 of the integral. A NaN g is read as −∞ (a term that
/// underflows). Errors when t would overflow first (λ below about 1e-300).
pub(crate) fn discounted_smooth_series(g: impl Fn(f64) -> f64, lambda: f64) -> Result<f64> {
    let g = |t: f64| {
        let v = g(t);
        if v.is_nan() {
            f64::NEG_INFINITY
        } else {
            v
        }
    };
    let z = (-lambda).exp();
    let one_minus_z = -(-lambda).exp_m1();
    let mut sum = 0.0;
    for j in 1..=HEAD {
        let term = g(j as f64).exp();
        sum += term;
        if term == 0.0 || term * z <= 1e-17 * sum * one_minus_z {
            return Ok(sum);
        }
    }
    let a = (HEAD + 1) as f64;
    let ga = g(a);
    if ga == f64::NEG_INFINITY {
        return Ok(sum);
    }
    // f relative to f(a).
    let f = |t: f64| (g(t) - ga).exp();
    let (fm2, fm1, fp1, fp2) = (f(a - 2.0), f(a - 1.0), f(a + 1.0), f(a + 2.0));
    let d1 = (fm2 - 8.0 * fm1 + 8.0 * fp1 - fp2) / 12.0;
    let d3 = (fp2 - 2.0 * fp1 + 2.0 * fm1 - fm2) / 2.0;
    let corrections = 0.5 - d1 / 12.0 + d3 / 720.0;
    let (nodes, weights) = gauss_legendre_8();
    const WIDTH: f64 = 1.0 / 16.0;
    // Beyond this x, a eˣ overflows.
    let x_max = (f64::MAX / a).ln() - 1.0;
    let ln_h = |x: f64| {
        let t = a * x.exp();
        g(t) - ga + t.ln()
    };
    let mut integral = 0.0;
    let mut x0 = 0.0;
    let mut previous_end = ln_h(0.0);
    loop {
        if crate::interrupt::requested() {
            return Err(crate::error::Error::Interrupted);
        }
        let mut panel = 0.0;
        for (u, w) in nodes.iter().zip(weights) {
            let x = x0 + WIDTH * 0.5 * (u + 1.0);
            panel += w * ln_h(x).exp();
        }
        integral += panel * WIDTH * 0.5;
        x0 += WIDTH;
        let end = ln_h(x0);
        let slope = (previous_end - end) / WIDTH;
        previous_end = end;
        if end == f64::NEG_INFINITY || (slope > 0.0 && end.exp() / slope <= 1e-17 * integral) {
            break;
        }
        if x0 > x_max {
            return Err(crate::error::Error::Numerical(format!(
                "the discounted sum does not converge before the time index overflows \
                 (discount rate {lambda:e} per period is too small)"
            )));
        }
    }
    Ok(sum + ga.exp() * (integral + corrections))
}

/// Terms summed directly by [`discounted_smooth_series`] before its
/// Euler–Maclaurin tail.
const HEAD: usize = 2000;
