//! The Gauss hypergeometric function ₂F₁(a, b; c; z) for real arguments and z < 1.
//!
//! Source: Abramowitz, M. & Stegun, I. A. (1964), *Handbook of Mathematical
//! Functions*, chapter 15. The defining series (15.1.1) is summed only where its
//! terms do not cancel and converge quickly; elsewhere a linear transformation
//! moves the argument first:
//! - z < 0: Pfaff's transformation (15.3.4/15.3.5) to w = z/(z−1) ∈ (0, 1),
//!   choosing the form whose series has positive terms;
//! - 0 < z < 1 with c − a − b < 0: Euler's transformation (15.3.3),
//!   ₂F₁(a, b; c; z) = (1−z)^{c−a−b} ₂F₁(c−a, c−b; c; z), when c − a and c − b
//!   are positive (the series then has small positive terms);
//! - z close to 1: the 1 − z transformation (15.3.6) and, when c − a − b is an
//!   integer, its degenerate forms (15.3.10, 15.3.11) with digamma terms.
//!
//! Large parameters (thousands and beyond) make ₂F₁ overflow: [`hyp2f1_ln`]
//! returns ln |F| and the sign, and every series is summed with a running scale
//! factor. Series of positive terms are summed with Kahan compensation.
//!
//! Tested against 50-digit mpmath values (`tests/fixtures/hyp2f1_mpmath.csv`,
//! made by `scripts/make_hyp2f1_fixture.py`) on a, b, c ∈ (0, 10⁴] and
//! z ∈ [−10⁶, 1 − 10⁻⁶], the region the Pareto/NBD model reaches, to a
//! relative error of 1e-10. Near z = 1 with c − a − b within about 1e-6 of a
//! non-zero integer (not equal to it), 15.3.6 loses digits (as in cephes); the
//! function then sums the defining series directly while that takes fewer than
//! 10⁷ terms.
//!
//! Every loop is bounded: a series that has not converged after [`MAX_TERMS`]
//! terms (parameters in the billions with z within about 1e-6 of 1, say)
//! makes the result NaN, which the prediction wrappers report as an error
//! naming the row, so no call hangs.

use crate::special::{digamma, ln_gamma};

const LN_SCALE: f64 = 575.646_273_248_511_4; // ln(1e250)
const SCALE: f64 = 1e250;

/// ₂F₁(a, b; c; z) for real a, b, c and z < 1 (c not a non-positive integer).
///
/// Returns ±∞ when the value overflows an `f64`; use [`hyp2f1_ln`] then.
///
/// ```
/// use retentionkit::hyp2f1::hyp2f1;
/// // ₂F₁(1, 1; 2; z) = −ln(1 − z)/z.
/// let z = 0.75f64;
/// assert!((hyp2f1(1.0, 1.0, 2.0, z) + (1.0 - z).ln() / z).abs() < 1e-15);
/// ```
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let (ln_abs, sign) = hyp2f1_ln(a, b, c, z);
    sign * ln_abs.exp()
}

/// (ln |₂F₁(a, b; c; z)|, sign) for real a, b, c and z < 1.
///
/// NaN for z ≥ 1 or c a non-positive integer. The sign is 0 (and ln |F| = −∞)
/// when the function vanishes.
pub fn hyp2f1_ln(a: f64, b: f64, c: f64, z: f64) -> (f64, f64) {
    if z.is_nan()
        || z >= 1.0
        || !a.is_finite()
        || !b.is_finite()
        || !c.is_finite()
        || non_positive_int(c)
    {
        return (f64::NAN, f64::NAN);
    }
    if z == 0.0 || a == 0.0 || b == 0.0 {
        return (0.0, 1.0);
    }
    if z < 0.0 {
        // Pfaff: F(a,b;c;z) = (1−z)^{−a} F(a, c−b; c; w) = (1−z)^{−b} F(c−a, b; c; w).
        let w = z / (z - 1.0);
        let ln_1mz = (-z).ln_1p();
        let first_positive = a > 0.0 && c - b >= 0.0;
        let second_positive = b > 0.0 && c - a >= 0.0;
        let use_first = first_positive || !second_positive && a.abs() <= b.abs();
        // 1 − w = 1/(1 − z) exactly, not 1 − w rounded: near w = 1 it matters.
        let y = 1.0 / (1.0 - z);
        let (l, s) = if use_first {
            unit_interval(a, c - b, c, w, y)
        } else {
            unit_interval(c - a, b, c, w, y)
        };
        let power = if use_first { a } else { b };
        return (l - power * ln_1mz, s);
    }
    unit_interval(a, b, c, z, 1.0 - z)
}

fn non_positive_int(x: f64) -> bool {
    x <= 0.0 && x == x.round()
}

/// ₂F₁ for 0 < z < 1 (log scale, sign); y = 1 − z computed accurately by the
/// caller.
pub(crate) fn unit_interval(a: f64, b: f64, c: f64, z: f64, y: f64) -> (f64, f64) {
    if a == 0.0 || b == 0.0 {
        return (0.0, 1.0);
    }
    // A terminating series (a or b a non-positive integer) is a polynomial.
    if non_positive_int(a) || non_positive_int(b) {
        return series(a, b, c, z, usize::MAX);
    }
    let m = c - a - b;
    // Euler's transformation keeps positive terms and makes them smaller.
    if m < 0.0 && c - a > 0.0 && c - b > 0.0 {
        let (l, s) = direct_or_transform(c - a, c - b, c, z, y);
        return (l + m * y.ln(), s);
    }
    direct_or_transform(a, b, c, z, y)
}

fn direct_or_transform(a: f64, b: f64, c: f64, z: f64, y: f64) -> (f64, f64) {
    let big = a.abs().max(b.abs()).max(c.abs());
    // ₂F₁(1, e; c; z) with the direct series millions of terms long: the
    // integral of `ln_s_by_quadrature` instead, when it converges.
    if y < 1e-5 && big * y > 2.0 && (a == 1.0 || b == 1.0) {
        let e = if a == 1.0 { b } else { a };
        let value = ln_s_by_quadrature(e, c, y);
        if value.is_finite() {
            return (value, 1.0);
        }
    }
    // The transformed series cancel when a parameter times (1 − z) is large;
    // the direct series then needs at most a few hundred terms per unit of that
    // product.
    if y > 0.05 || big * y > 2.0 {
        return series(a, b, c, z, usize::MAX);
    }
    let m = c - a - b;
    let eps = m - m.round();
    // c − a − b within rounding of an integer: the degenerate formulas. The
    // tolerance follows the rounding of c − a − b but stays far below ½, so
    // for parameters beyond 1e5 a merely nearby integer takes the expansion
    // below instead of being treated as exact.
    if eps.abs() <= (1e-14 * big.max(1.0)).min(1e-9) {
        return one_minus_z_integer(a, b, c - eps, y);
    }
    // Close to an integer, 15.3.6 is a difference of two huge terms. Expand in
    // ε = c − c₀ instead, c₀ the nearby degenerate point: ln F(c₀) exactly,
    // and the first two c-derivatives by differences of 15.3.6 at c₀ ± h,
    // where it is well-conditioned. The neglected ε³ term is below 1e-12.
    if eps.abs() < 1e-5 {
        let c0 = c - eps;
        let h = 1e-3;
        let (l0, s0) = one_minus_z_integer(a, b, c0, y);
        let (lp, _) = one_minus_z(a, b, c0 + h, y);
        let (lm, _) = one_minus_z(a, b, c0 - h, y);
        let d1 = (lp - lm) / (2.0 * h);
        let d2 = (lp - 2.0 * l0 + lm) / (h * h);
        return (l0 + eps * d1 + 0.5 * eps * eps * d2, s0);
    }
    one_minus_z(a, b, c, y)
}

/// Most terms any series of this module sums (a few tenths of a second at most).
/// A series that would need more returns NaN: callers report that the value
/// is beyond what this implementation evaluates, instead of hanging.
pub(crate) const MAX_TERMS: usize = 10_000_000;

/// The defining series Σ (a)_k (b)_k / ((c)_k k!) zᵏ, in log scale with sign;
/// (NaN, NaN) when it has not converged within `max_terms` (at most
/// [`MAX_TERMS`]) terms.
fn series(a: f64, b: f64, c: f64, z: f64, max_terms: usize) -> (f64, f64) {
    let max_terms = max_terms.min(MAX_TERMS);
    let mut term = 1.0f64;
    let mut sum = 1.0f64;
    let mut comp = 0.0f64;
    let mut ln_scale = 0.0f64;
    let mut k = 0usize;
    loop {
        let kf = k as f64;
        let ratio = (a + kf) * (b + kf) / ((c + kf) * (kf + 1.0)) * z;
        term *= ratio;
        // Kahan summation.
        let t = term - comp;
        let next = sum + t;
        comp = (next - sum) - t;
        sum = next;
        k += 1;
        if term == 0.0 {
            break;
        }
        if k >= max_terms {
            return (f64::NAN, f64::NAN);
        }
        if sum.abs() > SCALE {
            sum /= SCALE;
            term /= SCALE;
            comp /= SCALE;
            ln_scale += LN_SCALE;
        }
        let kf = k as f64;
        // Tail bound: once the ratios are below 1 they are eventually below
        // q = max(ratio now, z) when moving towards their limit z.
        let next_ratio = ((a + kf) * (b + kf) / ((c + kf) * (kf + 1.0)) * z).abs();
        let q = next_ratio.max(z.abs());
        if q < 1.0 && next_ratio < 1.0 {
            let tail = term.abs() * q / (1.0 - q);
            if tail <= 1e-17 * sum.abs() {
                break;
            }
        }
    }
    let sign = if sum > 0.0 {
        1.0
    } else if sum < 0.0 {
        -1.0
    } else {
        0.0
    };
    (sum.abs().ln() + ln_scale, sign)
}

/// ln |Γ(x)| and the sign of Γ(x), for any real x that is not a pole.
pub(crate) fn ln_gamma_sign(x: f64) -> (f64, f64) {
    if x > 0.0 {
        return (ln_gamma(x), 1.0);
    }
    // Reflection: Γ(x) Γ(1−x) = π / sin(πx).
    let s = sin_pi(x);
    (
        std::f64::consts::PI.ln() - s.abs().ln() - ln_gamma(1.0 - x),
        s.signum(),
    )
}

/// ln Γ(x) − ln Γ(y) for positive x, y, without the cancellation of two large
/// ln Γ values: Stirling's series for both when they are at least 10, written
/// with ln1p of the relative difference.
pub(crate) fn ln_gamma_diff(x: f64, y: f64) -> f64 {
    if x < 10.0 || y < 10.0 {
        return ln_gamma(x) - ln_gamma(y);
    }
    // Remainder of Stirling's series, ln Γ(x) − [(x−½)ln x − x + ½ ln 2π].
    fn rem(x: f64) -> f64 {
        let inv = 1.0 / x;
        let i2 = inv * inv;
        inv * (1.0 / 12.0
            - i2 * (1.0 / 360.0
                - i2 * (1.0 / 1260.0
                    - i2 * (1.0 / 1680.0
                        - i2 * (1.0 / 1188.0
                            - i2 * (691.0 / 360_360.0
                                - i2 * (1.0 / 156.0 - i2 * 3617.0 / 122_400.0)))))))
    }
    let d = x - y;
    (y - 0.5) * (d / y).ln_1p() + d * x.ln() - d + rem(x) - rem(y)
}

/// sin(πx) with the argument reduced exactly first.
fn sin_pi(x: f64) -> f64 {
    let r = x - 2.0 * (x / 2.0).floor(); // in [0, 2)
    if r == 0.0 || r == 1.0 {
        return 0.0;
    }
    (std::f64::consts::PI * r).sin()
}

/// ln|p| + ln|q| with signs, summed: returns (ln|Σ|, sign) of s₁e^{l₁} + s₂e^{l₂}.
fn add_signed(l1: f64, s1: f64, l2: f64, s2: f64) -> (f64, f64) {
    if s1 == 0.0 || l1 == f64::NEG_INFINITY {
        return (l2, s2);
    }
    if s2 == 0.0 || l2 == f64::NEG_INFINITY {
        return (l1, s1);
    }
    let m = l1.max(l2);
    let v = s1 * (l1 - m).exp() + s2 * (l2 - m).exp();
    if v == 0.0 {
        return (f64::NEG_INFINITY, 0.0);
    }
    (m + v.abs().ln(), v.signum())
}

/// A&S 15.3.6 for 0 < z < 1, c − a − b not an integer; y = 1 − z.
fn one_minus_z(a: f64, b: f64, c: f64, y: f64) -> (f64, f64) {
    let m = c - a - b;
    // Pairs of Γ ratios, each accurate even for arguments in the thousands.
    let ratio = |p: f64, q: f64| -> (f64, f64) {
        if p > 0.0 && q > 0.0 {
            (ln_gamma_diff(p, q), 1.0)
        } else {
            let (lp, sp) = ln_gamma_sign(p);
            let (lq, sq) = ln_gamma_sign(q);
            (lp - lq, sp * sq)
        }
    };
    // Γ(c) goes with the nearer of the two denominators.
    let (p, q) = if a.abs() <= b.abs() {
        (c - a, c - b)
    } else {
        (c - b, c - a)
    };
    let (g1, sg1) = ratio(c, p);
    let (g2, sg2) = ratio(m, q);
    let (p, q) = if (c - a).abs() <= (c - b).abs() {
        (a, b)
    } else {
        (b, a)
    };
    let (g3, sg3) = ratio(c, p);
    let (g4, sg4) = ratio(-m, q);
    let (f1, s1) = series(a, b, 1.0 - m, y, usize::MAX);
    let (f2, s2) = series(c - a, c - b, 1.0 + m, y, usize::MAX);
    let l1 = g1 + g2 + f1;
    let l2 = g3 + g4 + m * y.ln() + f2;
    // 1/Γ at a pole is zero: that term vanishes.
    let s1 = if non_positive_int(c - a) || non_positive_int(c - b) {
        0.0
    } else {
        sg1 * sg2 * s1
    };
    let s2 = sg3 * sg4 * s2;
    add_signed(l1, s1, l2, s2)
}

/// A&S 15.3.10 and 15.3.11: 0 < z < 1 and m = c − a − b a non-negative
/// integer (negative integers are reduced to these by Euler's transformation).
fn one_minus_z_integer(a: f64, b: f64, c: f64, y: f64) -> (f64, f64) {
    let m = (c - a - b).round();
    if m < 0.0 {
        // F(a,b;c;z) = (1−z)^m F(c−a, c−b; c; z), and (c−a)+(c−b) = c − m.
        let (l, s) = one_minus_z_integer(c - a, c - b, c, y);
        return (l + m * y.ln(), s);
    }
    let mi = m as usize;
    let ln_y = y.ln();
    // Finite part: Γ(m)Γ(c)/(Γ(a+m)Γ(b+m)) Σ_{n<m} (a)_n (b)_n / (n! (1−m)_n) yⁿ.
    let (mut lf, mut sf) = (f64::NEG_INFINITY, 0.0);
    if mi > 0 {
        let mut term = 1.0f64;
        let mut sum = 1.0f64;
        // m − 1 terms, fewer when they become negligible: this branch has
        // y ≤ 0.05 and |a|, |b| at most about 2/y, so once the ratios are
        // below ½ the rest of the terms only shrink, by about y per term, until
        // the last few, which the factor y^n has made negligible.
        let last = mi - 1;
        let mut n = 0usize;
        while n < last {
            let nf = n as f64;
            let ratio = (a + nf) * (b + nf) / ((nf + 1.0) * (1.0 - m + nf)) * y;
            term *= ratio;
            sum += term;
            n += 1;
            if term.abs() <= 1e-17 * sum.abs() && ratio.abs() < 0.5 {
                break;
            }
            if n >= MAX_TERMS {
                return (f64::NAN, f64::NAN);
            }
        }
        let (gm, _) = ln_gamma_sign(m);
        let (gc, sc) = ln_gamma_sign(c);
        let (gam, sam) = ln_gamma_sign(a + m);
        let (gbm, sbm) = ln_gamma_sign(b + m);
        if !(non_positive_int(a + m) || non_positive_int(b + m)) && sum != 0.0 {
            lf = gm + gc - gam - gbm + sum.abs().ln();
            sf = sc * sam * sbm * sum.signum();
        }
    }
    // Logarithmic part:
    // −(z−1)^m Γ(c)/(Γ(a)Γ(b)) Σ_n (a+m)_n (b+m)_n / (n! (n+m)!) yⁿ
    //   × [ln y − ψ(n+1) − ψ(n+m+1) + ψ(a+n+m) + ψ(b+n+m)].
    let mut psi_1 = digamma(1.0);
    let mut psi_m1 = digamma(m + 1.0);
    let mut psi_a = digamma(a + m);
    let mut psi_b = digamma(b + m);
    let mut coef = 1.0f64; // (a+m)_n (b+m)_n / (n! (n+m)!) · m! · yⁿ, scaled
    let mut sum = 0.0f64;
    let mut ln_scale = 0.0f64;
    let mut n = 0usize;
    loop {
        let nf = n as f64;
        let bracket = ln_y - psi_1 - psi_m1 + psi_a + psi_b;
        let term = coef * bracket;
        sum += term;
        // Advance to n + 1.
        let ratio = (a + m + nf) * (b + m + nf) / ((nf + 1.0) * (nf + m + 1.0)) * y;
        coef *= ratio;
        psi_1 += 1.0 / (nf + 1.0);
        psi_m1 += 1.0 / (nf + m + 1.0);
        psi_a += 1.0 / (a + m + nf);
        psi_b += 1.0 / (b + m + nf);
        n += 1;
        if sum.abs() > SCALE {
            sum /= SCALE;
            coef /= SCALE;
            ln_scale += LN_SCALE;
        }
        let next =
            (coef * (ln_y.abs() + psi_1.abs() + psi_m1.abs() + psi_a.abs() + psi_b.abs())).abs();
        if coef == 0.0 || (ratio.abs() < 0.5 && next <= 1e-17 * sum.abs()) {
            break;
        }
        if n > MAX_TERMS {
            return (f64::NAN, f64::NAN);
        }
    }
    let (gc, sc) = ln_gamma_sign(c);
    let (ga, sa) = ln_gamma_sign(a);
    let (gb, sb) = ln_gamma_sign(b);
    let ln_fact_m = ln_gamma(m + 1.0);
    let sign_zm1 = if mi % 2 == 0 { 1.0 } else { -1.0 };
    let ll = m * ln_y + gc - ga - gb - ln_fact_m + ln_scale + sum.abs().ln();
    let sl = -sign_zm1 * sc * sa * sb * sum.signum();
    add_signed(lf, sf, ll, sl)
}

/// S(e, c, z) = ₂F₁(1, e; c; z) = Σ_k (e)_k/(c)_k zᵏ for e, c > 0 and 0 ≤ z < 1,
/// with the first and second derivatives of ln S with respect to (e, c, z).
///
/// The terms are positive and their ratios (e+k)/(c+k)·z stay below 1 when
/// e ≤ c, so the series converges at least geometrically with ratio z. The
/// derivatives are series of the same terms weighted by harmonic-type sums:
/// ∂/∂e (e)_k = (e)_k Σ_{j<k} 1/(e+j), and likewise for (c)_k.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LnS {
    /// ln S.
    pub value: f64,
    /// ∂ ln S / ∂(e, c, z).
    pub grad: [f64; 3],
    /// ∂² ln S / ∂(e, c, z)², symmetric.
    pub hess: [[f64; 3]; 3],
}

/// Terms beyond which [`ln_s`] gives up on the series and uses [`hyp2f1_ln`]
/// for the value with difference quotients for the derivatives.
const MAX_S_TERMS: usize = 200_000;

/// See [`LnS`]. `order`: 0 value only, 1 with gradient, 2 with Hessian.
pub(crate) fn ln_s(e: f64, c: f64, z: f64, y: f64, order: u8) -> LnS {
    let mut out = LnS {
        value: 0.0,
        grad: [0.0; 3],
        hess: [[0.0; 3]; 3],
    };
    if z == 0.0 {
        // S = 1 + (e/c) z + e(e+1)/(c(c+1)) z² + ...
        out.grad[2] = e / c;
        let s_zz = 2.0 * e * (e + 1.0) / (c * (c + 1.0));
        out.hess[2][2] = s_zz - (e / c) * (e / c);
        out.hess[0][2] = 1.0 / c;
        out.hess[2][0] = 1.0 / c;
        out.hess[1][2] = -e / (c * c);
        out.hess[2][1] = -e / (c * c);
        return out;
    }
    if y * (MAX_S_TERMS as f64) < 40.0 {
        return ln_s_via_hyp2f1(e, c, z, y, order);
    }
    // t_k = (e)_k/(c)_k zᵏ; A_k = Σ_{j<k} 1/(e+j), B_k = Σ 1/(c+j), and squares.
    let (mut t, mut big_a, mut big_b, mut a2, mut b2) = (1.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let mut s = 1.0;
    let (mut s_e, mut s_c, mut s_z) = (0.0, 0.0, 0.0);
    let (mut s_ee, mut s_cc, mut s_ec, mut s_ez, mut s_cz, mut s_zz) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let inv_z = 1.0 / z;
    let mut k = 0usize;
    loop {
        let kf = k as f64;
        let ratio = (e + kf) / (c + kf) * z;
        let ie = 1.0 / (e + kf);
        let ic = 1.0 / (c + kf);
        t *= ratio;
        big_a += ie;
        big_b += ic;
        k += 1;
        let kf = k as f64;
        s += t;
        if order >= 1 {
            s_e += t * big_a;
            s_c -= t * big_b;
            s_z += t * kf * inv_z;
            if order >= 2 {
                a2 += ie * ie;
                b2 += ic * ic;
                s_ee += t * (big_a * big_a - a2);
                s_cc += t * (big_b * big_b + b2);
                s_ec -= t * big_a * big_b;
                s_ez += t * big_a * kf * inv_z;
                s_cz -= t * big_b * kf * inv_z;
                s_zz += t * kf * (kf - 1.0) * inv_z * inv_z;
            }
        }
        let next = (e + kf) / (c + kf) * z;
        // With ratios below q < 1 the tail of Σ kᵖ t_k is below t·kᵖ q/(1−q)²·(small).
        let q = next.max(z);
        let weight = if order >= 2 {
            (kf + 1.0) * (kf + 1.0) * (1.0 + big_a + big_b).powi(2)
        } else if order == 1 {
            (kf + 1.0) * (1.0 + big_a + big_b)
        } else {
            1.0
        };
        if t * weight * q / ((1.0 - q) * (1.0 - q)) <= 1e-17 * s || k > MAX_S_TERMS {
            break;
        }
    }
    out.value = s.ln();
    if order >= 1 {
        let g = [s_e / s, s_c / s, s_z / s];
        out.grad = g;
        if order >= 2 {
            let h = [
                [s_ee / s, s_ec / s, s_ez / s],
                [s_ec / s, s_cc / s, s_cz / s],
                [s_ez / s, s_cz / s, s_zz / s],
            ];
            for i in 0..3 {
                for j in 0..3 {
                    out.hess[i][j] = h[i][j] - g[i] * g[j];
                }
            }
        }
    }
    out
}

/// ln S(e, c, z) for c > 1 from the integral
///
/// ```text
/// S = (c−1)/y ∫_0^∞ exp(−(e−1)v − (c−e) ln(1 + (eᵛ−1)/y)) dv,   y = 1 − z,
/// ```
///
/// the Pareto/NBD's s J(u) = s/(c−1) (α+u)^{−e} (β+u)^{1+e−c} S(e, c, z) (module
/// docs of `pareto_nbd`, α ≥ β branch: e = r+x, c = r+s+x+1, z = (α−β)/(α+u))
/// with J(u) = ∫_u^∞ (α+τ)^{−e} (β+τ)^{e−c} dτ written in α+τ = (α+u)eᵛ, where
/// β+τ = (α+u)(y + eᵛ − 1); it holds for any e > 0 and c > 1. It serves
/// where the series are too long: e and c in the hundreds of thousands or more
/// with z within 2e-5 of 1. The integrand is positive and falls like
/// e^{−(c−1)v}, so with w = (c−1)v the exp-sinh rule (w = exp(π/2 sinh t),
/// trapezoids in t) converges double-exponentially; the result is accepted
/// when steps 1/16 and 1/32 agree to 1e-12, else NaN.
pub(crate) fn ln_s_by_quadrature(e: f64, c: f64, y: f64) -> f64 {
    if !(c > 1.0 && e > 0.0 && y > 0.0 && y <= 1.0) {
        return f64::NAN;
    }
    let kappa = c - 1.0;
    let ln_k = |w: f64| {
        let v = w / kappa;
        -(e - 1.0) * v - (c - e) * (v.exp_m1() / y).ln_1p()
    };
    let half_pi = std::f64::consts::FRAC_PI_2;
    let rule = |h: f64| {
        let mut total = 0.0;
        let steps = (4.5 / h) as i64;
        for k in -steps..=steps {
            let t = k as f64 * h;
            let w = (half_pi * t.sinh()).exp();
            let weight = w * half_pi * t.cosh();
            let value = (ln_k(w)).exp() * weight;
            if value.is_finite() {
                total += value;
            }
        }
        total * h
    };
    let coarse = rule(1.0 / 16.0);
    let fine = rule(1.0 / 32.0);
    if !(fine > 0.0 && (fine - coarse).abs() <= 1e-12 * fine) {
        return f64::NAN;
    }
    // ∫ dv = ∫ dw / κ, and the prefactor (c−1)/y = κ/y.
    fine.ln() - y.ln()
}

/// Fallback of [`ln_s`] for z within 2e-4 of 1: the value from [`hyp2f1_ln`]
/// (or, where its series would be too long, [`ln_s_by_quadrature`]),
/// derivatives by central differences.
fn ln_s_via_hyp2f1(e: f64, c: f64, z: f64, y: f64, order: u8) -> LnS {
    // z moves by dz and y by −dz.
    let f = |e: f64, c: f64, dz: f64| {
        let v = unit_interval(1.0, e, c, z + dz, y - dz).0;
        if v.is_nan() {
            ln_s_by_quadrature(e, c, y - dz)
        } else {
            v
        }
    };
    let mut out = LnS {
        value: f(e, c, 0.0),
        grad: [0.0; 3],
        hess: [[0.0; 3]; 3],
    };
    if order == 0 {
        return out;
    }
    let x = [e, c, z];
    let h = [1e-5 * e.max(1e-3), 1e-5 * c.max(1e-3), 1e-3 * y];
    let at = |d: [f64; 3]| f(x[0] + d[0], x[1] + d[1], d[2]);
    for i in 0..3 {
        let mut d = [0.0; 3];
        d[i] = h[i];
        let up = at(d);
        d[i] = -h[i];
        let down = at(d);
        out.grad[i] = (up - down) / (2.0 * h[i]);
        if order >= 2 {
            out.hess[i][i] = (up - 2.0 * out.value + down) / (h[i] * h[i]);
            for j in 0..i {
                let mut d = [0.0; 3];
                d[i] = h[i];
                d[j] = h[j];
                let pp = at(d);
                d[j] = -h[j];
                let pm = at(d);
                d[i] = -h[i];
                let mm = at(d);
                d[j] = h[j];
                let mp = at(d);
                let v = (pp - pm - mp + mm) / (4.0 * h[i] * h[j]);
                out.hess[i][j] = v;
                out.hess[j][i] = v;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elementary_closed_forms() {
        for &z in &[-1e6f64, -30.0, -0.7, 0.0, 0.3, 0.9, 0.999, 0.999999] {
            // ₂F₁(1, 1; 2; z) = −ln(1−z)/z.
            let exact = if z == 0.0 { 1.0 } else { -(-z).ln_1p() / z };
            let got = hyp2f1(1.0, 1.0, 2.0, z);
            assert!(
                (got - exact).abs() <= 1e-13 * exact.abs(),
                "z={z}: {got} vs {exact}"
            );
            // ₂F₁(a, b; b; z) = (1−z)^{−a}.
            let exact = (1.0 - z).powf(-2.5);
            let got = hyp2f1(2.5, 3.7, 3.7, z);
            assert!(
                (got - exact).abs() <= 1e-12 * exact.abs(),
                "z={z}: {got} vs {exact}"
            );
        }
    }

    #[test]
    fn ln_s_by_quadrature_matches_the_series() {
        for &(e, c, y) in &[
            (2.5, 4.0, 0.3),
            (3000.0, 3001.7, 1e-3),
            (1e5, 1e5 + 0.4, 2e-4),
        ] {
            let quad = ln_s_by_quadrature(e, c, y);
            let series = unit_interval(1.0, e, c, 1.0 - y, y).0;
            assert!(
                (quad - series).abs() < 1e-11 * series.abs().max(1.0),
                "{e} {c} {y}: {quad} vs {series}"
            );
        }
    }

    #[test]
    fn ln_s_matches_hyp2f1_and_its_differences() {
        for &(e, c, z) in &[(0.8, 2.3, 0.4), (3000.0, 3000.6, 0.97), (1.6, 7.0, 0.0)] {
            let s = ln_s(e, c, z, 1.0 - z, 2);
            let direct = hyp2f1_ln(1.0, e, c, z).0;
            assert!((s.value - direct).abs() < 1e-12, "{e} {c} {z}");
            let h = 1e-6;
            let (zp, zm) = (z + h, (z - h).max(0.0));
            let fd =
                (ln_s(e, c, zp, 1.0 - zp, 0).value - ln_s(e, c, zm, 1.0 - zm, 0).value) / (zp - zm);
            assert!((fd - s.grad[2]).abs() < 1e-6 * s.grad[2].abs().max(1.0));
        }
    }
}
