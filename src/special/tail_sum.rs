//! Sums of series with a power-law tail, for the expected lifetimes of the
//! contractual models.

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

fn gauss_legendre_8() -> ([f64; 8], [f64; 8]) {
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
