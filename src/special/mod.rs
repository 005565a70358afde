//! Special functions: thin wrappers over `statrs` plus the few it lacks.

pub(crate) mod beta_inc;
pub(crate) mod gauss_kronrod;
pub mod hyp2f1;
pub mod hyperu;
pub(crate) mod linalg;
pub(crate) mod tail_sum;

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

/// ln Γ(1 + a), accurate relative to its value near a = 0, where it vanishes
/// (ln Γ(1 + a) ≈ −γa). For −1 < a ≤ 1.5 the error is below 1e-15 |a| (so also
/// small near a = 1, the other zero); elsewhere this is [`ln_gamma`].
///
/// Γ(1 + a) = Γ(N + 1 + a) / Π_{j=1}^{N} (j + a) with N = 10, and
/// ln Γ(N + 1 + a) − ln Γ(N + 1) from the difference of Stirling's series
/// (Abramowitz & Stegun 6.1.40) at w = 11 and w + a, written with `ln_1p` and
/// `exp_m1` so that every term is a small multiple of a.
///
/// ```
/// use retentionkit::special::ln_gamma_1p;
/// let euler = 0.577_215_664_901_532_9;
/// assert!((ln_gamma_1p(1e-12) / 1e-12 + euler).abs() < 1e-10);
/// assert!(ln_gamma_1p(1.0).abs() < 1e-15);
/// ```
pub fn ln_gamma_1p(a: f64) -> f64 {
    if !(a > -1.0 && a <= 1.5) {
        return ln_gamma(1.0 + a);
    }
    if a == 0.0 {
        return 0.0;
    }
    // B_{2k} / (2k (2k − 1)) for k = 1..8.
    const STIRLING: [f64; 8] = [
        1.0 / 12.0,
        -1.0 / 360.0,
        1.0 / 1260.0,
        -1.0 / 1680.0,
        1.0 / 1188.0,
        -691.0 / 360_360.0,
        1.0 / 156.0,
        -3617.0 / 122_400.0,
    ];
    let w = 11.0f64;
    let l = (a / w).ln_1p(); // ln((w + a)/w)
    let mut value = (w - 0.5) * l + a * (w + a).ln() - a;
    let mut power = 1.0 / w; // w^{1−2k}
    for (k, c) in STIRLING.iter().enumerate() {
        let exponent = -(2.0 * k as f64 + 1.0); // 1 − 2k for k = 1, 2, …
        value += c * power * (exponent * l).exp_m1();
        power /= w * w;
    }
    for j in 1..=10 {
        value -= (a / j as f64).ln_1p();
    }
    value
}

/// ln Γ(x) − ln Γ(x + a) for x, a > 0, accurate even when x is so large
/// that x + a rounds to x (Stirling's series for x ≥ 10, with the shift a
/// kept exact).
pub(crate) fn ln_gamma_ratio(x: f64, a: f64) -> f64 {
    if x < 10.0 {
        return ln_gamma(x) - ln_gamma(x + a);
    }
    let y = x + a;
    -(x - 0.5) * (a / x).ln_1p() - a * y.ln() + a + stirling_rem(x) - stirling_rem(y)
}

/// Remainder of Stirling's series, ln Γ(y) − [(y−½)ln y − y + ½ ln 2π], y ≥ 10.
fn stirling_rem(y: f64) -> f64 {
    let inv = 1.0 / y;
    let i2 = inv * inv;
    inv * (1.0 / 12.0
        - i2 * (1.0 / 360.0
            - i2 * (1.0 / 1260.0
                - i2 * (1.0 / 1680.0
                    - i2 * (1.0 / 1188.0
                        - i2 * (691.0 / 360_360.0
                            - i2 * (1.0 / 156.0 - i2 * 3617.0 / 122_400.0)))))))
}

/// G(y₁) − G(y₀) with G(y) = ln Γ(y) − ln Γ(y + a) ([`ln_gamma_ratio`]), for
/// y₁ ≥ y₀ > 0 and a > 0: [`ln_gamma_ratio_step`] with the step y₁ − y₀.
pub(crate) fn ln_gamma_ratio_diff(y0: f64, y1: f64, a: f64) -> f64 {
    ln_gamma_ratio_step(y0, y1 - y0, a)
}

/// G(y₀ + d) − G(y₀) with G(y) = ln Γ(y) − ln Γ(y + a), for y₀ > 0 and
/// d, a ≥ 0, with the step d given exactly (not as a difference that has
/// already lost digits): the logarithm of a ratio of beta functions,
/// ln[B(a, y₀+d)/B(a, y₀)], e.g. a survival B(α, β+t)/B(α, β) with α or β in
/// the millions. It is symmetric in d and a, and never positive.
///
/// For y₀ ≥ 10, Stirling's form of G with the differences taken analytically:
///
/// ```text
/// G(y₁) − G(y₀) = −(y₀−½) ln(1 − a d/(y₁(y₀+a))) − d ln(1 + a/y₁) − a ln(1 + d/(y₀+a))
///                 + [R(y₁) − R(y₀)] − [R(y₁+a) − R(y₀+a)],     y₁ = y₀ + d,
/// ```
///
/// R the remainder of Stirling's series, its second difference summed term by
/// term with `exp_m1` (a difference of R values would keep only 1e-17/y₀ of
/// absolute accuracy, too little when a d is small). Below 10, the recurrence
/// Γ(y+1) = yΓ(y) raises y₀ first:
///
/// ```text
/// H(y) = H(y + 1) + ln(1 − a d/((y+d)(y+a))),
/// ```
///
/// whose terms are all negative like H itself, so nothing cancels (the
/// previous form, G(y₀+d) − G(y₀) from two ln Γ differences of size a ln a,
/// lost 1e-8 relative and more for a in the millions).
pub(crate) fn ln_gamma_ratio_step(y0: f64, d: f64, a: f64) -> f64 {
    if d == 0.0 || a == 0.0 {
        return 0.0;
    }
    // ln(1 − x) with x = a d/((u+d)(u+a)), from 1 − x = u(u+a+d)/((u+d)(u+a))
    // itself when x is near 1.
    let ln_one_minus = |u: f64| -> f64 {
        let x = (a / (u + a)) * (d / (u + d));
        if x < 0.5 {
            (-x).ln_1p()
        } else {
            (u / (u + d) * ((u + a + d) / (u + a))).ln()
        }
    };
    let mut y0 = y0;
    let mut acc = 0.0;
    while y0 < 10.0 {
        acc += ln_one_minus(y0);
        y0 += 1.0;
    }
    let y1 = y0 + d;
    // −(y₀−½) ln(1 − a d/(y₁(y₀+a))): the same ln(1 − x) with u = y₀.
    acc - (y0 - 0.5) * ln_one_minus(y0) - d * (a / y1).ln_1p() - a * (d / (y0 + a)).ln_1p()
        + stirling_rem_second_diff(y0, d, a)
}

/// ψ(y + a) − ψ(y) for y > 0, a ≥ 0, accurate relative to its value (about
/// a/y) even when y is in the millions, where the two digamma values agree
/// to many digits: below 10 the recurrence ψ(y+1) = ψ(y) + 1/y adds
/// a/(y(y+a)) > 0 per step, then the asymptotic series differenced term by
/// term,
///
/// ```text
/// ψ(y+a) − ψ(y) = ln(1 + a/y) + a/(2y(y+a)) + Σ_k B_{2k}/(2k) [y^{−2k} − (y+a)^{−2k}],
/// ```
///
/// each bracket as −y^{−2k} expm1(−2k ln(1 + a/y)).
pub(crate) fn digamma_diff(y: f64, a: f64) -> f64 {
    if a == 0.0 {
        return 0.0;
    }
    let mut y = y;
    let mut acc = 0.0;
    while y < 10.0 {
        acc += a / (y * (y + a));
        y += 1.0;
    }
    // B_{2k}/(2k) for k = 1..7.
    const C: [f64; 7] = [
        1.0 / 12.0,
        -1.0 / 120.0,
        1.0 / 252.0,
        -1.0 / 240.0,
        1.0 / 132.0,
        -691.0 / 32_760.0,
        1.0 / 12.0,
    ];
    let l = (a / y).ln_1p();
    let inv2 = 1.0 / (y * y);
    let mut power = inv2; // y^{−2k}
    let mut series = 0.0;
    for (k, c) in C.iter().enumerate() {
        let e = -2.0 * (k as f64 + 1.0);
        series -= c * power * (e * l).exp_m1();
        power *= inv2;
    }
    acc + l + a / (2.0 * y * (y + a)) + series
}

/// [R(y+d) − R(y)] − [R(y+a+d) − R(y+a)] for y ≥ 10, R the remainder of
/// Stirling's series (`stirling_rem`). The plain differences of R values keep
/// about 1e-17/y of absolute accuracy, against a whole step (of which this is
/// a part) of about a d/y: enough for a d ≥ 1e-3 (1e-14 relative at worst).
/// Below, each power y^{1−2k} is differenced as y^{1−2k} expm1((1−2k) ln(1 +
/// d/y)), so that small steps keep their digits.
fn stirling_rem_second_diff(y: f64, d: f64, a: f64) -> f64 {
    if a * d >= 1e-3 {
        return (stirling_rem(y + d) - stirling_rem(y))
            - (stirling_rem(y + a + d) - stirling_rem(y + a));
    }
    // The smaller of the two steps is differenced first (the form is symmetric).
    let (step, shift) = if d <= a { (d, a) } else { (a, d) };
    const C: [f64; 8] = [
        1.0 / 12.0,
        -1.0 / 360.0,
        1.0 / 1260.0,
        -1.0 / 1680.0,
        1.0 / 1188.0,
        -691.0 / 360_360.0,
        1.0 / 156.0,
        -3617.0 / 122_400.0,
    ];
    let (l0, l1) = ((step / y).ln_1p(), (step / (y + shift)).ln_1p());
    let (inv0, inv1) = (1.0 / y, 1.0 / (y + shift));
    let (mut p0, mut p1) = (inv0, inv1); // y^{1−2k}
    let mut sum = 0.0;
    for (k, c) in C.iter().enumerate() {
        let e = -(2.0 * k as f64 + 1.0);
        sum += c * (p0 * (e * l0).exp_m1() - p1 * (e * l1).exp_m1());
        p0 *= inv0 * inv0;
        p1 *= inv1 * inv1;
    }
    sum
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
    fn ln_gamma_1p_reference_values() {
        // mpmath.loggamma(1 + a), rounded to a double.
        let table = [
            (-0.9, 2.252_712_651_734_206),
            (-0.5, 0.572_364_942_924_700_1),
            (-0.1, 0.066_376_239_734_742_98),
            (0.3, -0.108_174_809_507_860_47),
            (0.5, -0.120_782_237_635_245_22),
            (0.99, -0.004_195_529_088_791_668),
            (1.0, 0.0),
            (1.2, 0.096_947_466_790_638_76),
            (1.5, 0.284_682_870_472_919_2),
        ];
        for (a, expected) in table {
            assert!(
                (ln_gamma_1p(a) - expected).abs() <= 2e-15 * expected.abs().max(0.5 * a.abs()),
                "a = {a}: {} vs {expected}",
                ln_gamma_1p(a)
            );
        }
        // ln Γ(1 + a) = −γa + ζ(2)a²/2 − ζ(3)a³/3 + … near 0.
        let euler = 0.577_215_664_901_532_9;
        let zeta2 = std::f64::consts::PI.powi(2) / 6.0;
        let zeta3 = 1.202_056_903_159_594_2;
        for &a in &[1e-300, -1e-9, 1e-6, -3e-6] {
            let series = -euler * a + zeta2 * a * a / 2.0 - zeta3 * a * a * a / 3.0;
            assert!(
                (ln_gamma_1p(a) - series).abs() <= 1e-14 * series.abs(),
                "a = {a}"
            );
        }
    }

    #[test]
    fn ln_gamma_ratio_step_matches_mpmath() {
        // ln Γ(y₀+d) − ln Γ(y₀+d+a) − ln Γ(y₀) + ln Γ(y₀+a), mpmath at 60 digits:
        // α in the millions with β small (sBG, BdW survival; two ln Γ
        // differences of size α ln α lost 1e-8), tiny steps (BdW with small c;
        // the remainder's second difference by expm1), large arguments.
        let table = [
            ((0.005_973_3, 17.0, 9_688_280.0), -247.897_710_668_054_35),
            ((1.208_28, 13.7, 6_570_110.0), -190.029_234_555_759_77),
            ((5.1, 1.6e-4, 0.008_291_75), -2.870_294_088_853_885e-7),
            ((25.0, 3e-7, 0.002), -2.448_539_869_123_191_3e-11),
            ((1e-3, 1e-3, 1e-3), -0.287_683_712_591_112),
            ((12.5, 1e6, 3e6), -2_249_196.059_864_431_4),
            ((2.5e6, 1.0, 0.25), -9.999_999_500_000_033e-8),
            ((9.9, 2e-9, 1e4), -1.394_019_922_831_234e-8),
        ];
        for ((y0, d, a), expected) in table {
            for got in [ln_gamma_ratio_step(y0, d, a), ln_gamma_ratio_step(y0, a, d)] {
                assert!(
                    (got - expected).abs() <= 1e-13 * expected.abs(),
                    "({y0}, {d}, {a}): {got} vs {expected}"
                );
            }
        }
        // A shift beyond any ln Γ: finite, about −d ln(1 + a/y₀) summed.
        let huge = ln_gamma_ratio_step(0.3, 5.0, 1e300);
        assert!(huge.is_finite() && huge < -3000.0, "{huge}");
        assert_eq!(ln_gamma_ratio_step(3.0, 0.0, 5.0), 0.0);
    }

    #[test]
    fn digamma_diff_matches_mpmath() {
        // mpmath.digamma(y + a) − mpmath.digamma(y) at 50 digits.
        let table = [
            ((3.783, 1.0), 0.264_340_470_526_037_54),
            ((1e6 + 1.0, 1.0), 9.999_990_000_01e-7),
            ((9e6 + 1.0, 7.0), 7.777_774_320_989_575e-7),
            ((0.01, 5.0), 102.069_213_919_936_69),
            ((25.0, 1e5), 8.314_427_922_114_82),
        ];
        for ((y, a), expected) in table {
            let got = digamma_diff(y, a);
            assert!(
                (got - expected).abs() <= 1e-14 * expected,
                "({y}, {a}): {got} vs {expected}"
            );
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
