//! Adaptive Gauss–Kronrod (7–15) quadrature of positive integrands given by
//! their logarithm, for integrals whose size is far outside the range of
//! `f64` (the GGom/NBD likelihood's ∫ (α+y)^{−(r+x)} … dy with x in the
//! thousands).
//!
//! Each panel [a, b] is integrated by the 15-point Kronrod rule and the
//! 7-point Gauss rule on the same nodes (Kronrod 1965; the node and weight
//! tables are the classical ones, to 30 digits). The integrand is scaled by
//! e^{−m} with m the largest ln f at the panel's nodes, so each panel's sum is
//! of order one; panels are combined by log-sum-exp. The error of a panel is
//! estimated as in QUADPACK's `qk15` (Piessens et al. 1983, §2.2.3):
//! ρ·min(1, (200|K − G|/ρ)^{3/2}) with ρ = ∫|f − mean f|, which reflects
//! that the Kronrod result is far more accurate than the Gauss one it is
//! compared with. The panel with the largest error is halved until the total
//! estimated error is below `rel_tol` times the integral, or [`MAX_PANELS`]
//! panels are in use (then the result is returned as it stands: by then the
//! estimate is pessimistic by orders of magnitude for an analytic integrand).
//!
//! No allocation: the panels live in a fixed array on the stack.

// The node and weight tables keep their published 30 digits.
#![allow(clippy::excessive_precision)]

/// Kronrod nodes on [−1, 1] (non-negative half, descending; the last is 0).
pub(crate) const XGK: [f64; 8] = [
    0.991_455_371_120_812_639_206_854_697_526_329,
    0.949_107_912_342_758_524_526_189_684_047_851,
    0.864_864_423_359_769_072_789_712_788_640_926,
    0.741_531_185_599_394_439_863_864_773_280_788,
    0.586_087_235_467_691_130_294_144_845_693_013,
    0.405_845_151_377_397_166_906_606_412_076_961,
    0.207_784_955_007_898_467_600_689_403_773_245,
    0.0,
];
/// Kronrod weights for [`XGK`].
pub(crate) const WGK: [f64; 8] = [
    0.022_935_322_010_529_224_963_732_008_058_970,
    0.063_092_092_629_978_553_290_700_663_189_204,
    0.104_790_010_322_250_183_839_876_322_541_518,
    0.140_653_259_715_525_918_745_189_590_510_238,
    0.169_004_726_639_267_902_826_583_426_598_550,
    0.190_350_578_064_785_409_913_256_402_421_014,
    0.204_432_940_075_298_892_414_161_999_234_649,
    0.209_482_141_084_727_828_012_999_174_891_714,
];
/// Gauss weights for the nodes XGK[1], XGK[3], XGK[5], XGK[7].
const WG: [f64; 4] = [
    0.129_484_966_168_869_693_270_611_432_679_082,
    0.279_705_391_489_276_667_901_467_771_423_780,
    0.381_830_050_505_118_944_950_369_775_488_975,
    0.417_959_183_673_469_387_755_102_040_816_327,
];

/// Panels at most (the bound on the work of one integral).
pub(crate) const MAX_PANELS: usize = 128;

/// One panel: its ends, the Kronrod result as e^{scale}·value, the error
/// estimate on the same scale, and the Kronrod sums of the integrand times
/// each component of a payload (see [`ln_integral_moments`]), on the same
/// scale.
#[derive(Clone, Copy, Debug)]
struct Panel<const K: usize> {
    a: f64,
    b: f64,
    scale: f64,
    value: f64,
    error: f64,
    moments: [f64; K],
}

impl<const K: usize> Default for Panel<K> {
    fn default() -> Self {
        Self {
            a: 0.0,
            b: 0.0,
            scale: 0.0,
            value: 0.0,
            error: 0.0,
            moments: [0.0; K],
        }
    }
}

/// The 15 nodes of a panel and their weights (the Kronrod weights times the
/// half-width).
#[cfg(test)]
pub(crate) fn panel_nodes(a: f64, b: f64) -> impl Iterator<Item = (f64, f64)> {
    let (c, h) = (0.5 * (a + b), 0.5 * (b - a));
    (0..15).map(move |k| {
        if k < 8 {
            (c - h * XGK[k], h * WGK[k])
        } else {
            (c + h * XGK[14 - k], h * WGK[14 - k])
        }
    })
}

#[inline]
fn panel<S, const K: usize>(
    node: &impl Fn(f64) -> (f64, S),
    add: &impl Fn(&mut [f64; K], f64, &S),
    a: f64,
    b: f64,
) -> Panel<K> {
    let (c, h) = (0.5 * (a + b), 0.5 * (b - a));
    // Values at −x_k (k < 7), at the centre, and at +x_k (k < 7): node k is
    // c − h·XGK[k] for k ≤ 7 and c + h·XGK[14 − k] beyond.
    let values: [(f64, S); 15] = std::array::from_fn(|k| {
        node(if k < 8 {
            c - h * XGK[k]
        } else {
            c + h * XGK[14 - k]
        })
    });
    let lv: [f64; 15] = std::array::from_fn(|k| values[k].0);
    let m = lv
        .iter()
        .copied()
        .filter(|v| !v.is_nan())
        .fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY || lv.iter().any(|v| v.is_nan()) || m == f64::INFINITY {
        let bad = lv.iter().any(|v| v.is_nan()) || m == f64::INFINITY;
        return Panel {
            a,
            b,
            scale: if bad { f64::NAN } else { f64::NEG_INFINITY },
            value: if bad { f64::NAN } else { 0.0 },
            error: 0.0,
            moments: [0.0; K],
        };
    }
    let f: [f64; 15] = std::array::from_fn(|k| (lv[k] - m).exp());
    let mut kron = WGK[7] * f[7];
    let mut gauss = WG[3] * f[7];
    for k in 0..7 {
        kron += WGK[k] * (f[k] + f[14 - k]);
        if k % 2 == 1 {
            gauss += WG[k / 2] * (f[k] + f[14 - k]);
        }
    }
    let mean = 0.5 * kron;
    let mut asc = WGK[7] * (f[7] - mean).abs();
    for k in 0..7 {
        asc += WGK[k] * ((f[k] - mean).abs() + (f[14 - k] - mean).abs());
    }
    let mut moments = [0.0; K];
    if K > 0 {
        for (k, (_, state)) in values.iter().enumerate() {
            add(
                &mut moments,
                WGK[if k < 8 { k } else { 14 - k }] * f[k] * h,
                state,
            );
        }
    }
    let (kron, asc) = (kron * h, asc * h);
    let diff = (kron - gauss * h).abs();
    let error = if asc > 0.0 && diff > 0.0 {
        // asc·min(1, t^{3/2}), t = 200|K − G|/asc.
        let t = (200.0 * diff / asc).min(1.0);
        asc * t * t.sqrt()
    } else {
        diff
    };
    Panel {
        a,
        b,
        scale: m,
        value: kron,
        error,
        moments,
    }
}

/// The final panels of an adaptive integration, for a second pass over the
/// same nodes ([`Panels::nodes`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Panels {
    ends: [(f64, f64); MAX_PANELS],
    len: usize,
}

impl Panels {
    /// Every node of every panel with its weight.
    #[cfg(test)]
    pub(crate) fn nodes(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.ends[..self.len]
            .iter()
            .flat_map(|&(a, b)| panel_nodes(a, b))
    }

    /// The number of panels.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// ln ∫_a^b e^{ln_f(y)} dy for a ≤ b, to a relative error of about
/// `rel_tol` (see the module documentation), with the panels it used.
/// −∞ for an empty interval or an integrand that is 0 at every node; NaN if
/// ln_f is NaN or +∞ at a node.
#[cfg(test)]
pub(crate) fn ln_integral(
    ln_f: impl Fn(f64) -> f64,
    a: f64,
    b: f64,
    rel_tol: f64,
) -> (f64, Panels) {
    ln_integral_graded(ln_f, a, b, f64::INFINITY, rel_tol)
}

/// [`ln_integral`] for an integrand whose features near `a` are `scale`
/// wide (an e-fold of a factor such as (α+y)^{−(r+x)} or a near-singularity
/// (β + by)^{−(s+1)} just left of a): the first panels are graded
/// geometrically from a, a + scale, a + 2·scale, a + 4·scale, …, so that
/// bisection need not find a feature that is orders of magnitude narrower
/// than the interval.
pub(crate) fn ln_integral_graded(
    ln_f: impl Fn(f64) -> f64,
    a: f64,
    b: f64,
    scale: f64,
    rel_tol: f64,
) -> (f64, Panels) {
    let mut out = Panels {
        ends: [(0.0, 0.0); MAX_PANELS],
        len: 0,
    };
    let f = |y| (ln_f(y), ());
    let add = |_: &mut [f64; 0], _: f64, _: &()| {};
    let keep = |total: f64, panels: &[Panel<0>], out: &mut Panels| {
        for (slot, p) in out.ends.iter_mut().zip(panels) {
            *slot = (p.a, p.b);
        }
        out.len = panels.len();
        total
    };
    let mut few = [Panel::<0>::default(); FEW_PANELS];
    let total = match adapt(&f, &add, a, b, scale, rel_tol, &mut few) {
        Some((total, len)) => keep(total, &few[..len], &mut out),
        None => {
            let mut many = [Panel::<0>::default(); MAX_PANELS];
            let (total, len) = adapt(&f, &add, a, b, scale, rel_tol, &mut many)
                .expect("MAX_PANELS panels always suffice");
            keep(total, &many[..len], &mut out)
        }
    };
    (total, out)
}

/// Panels of the first attempt of an integration: enough for almost every
/// integrand of the GGom/NBD; one that needs more is done again with
/// [`MAX_PANELS`], to the same result. (Zeroing space for 128 panels with
/// their payloads would cost more than many integrals.)
const FEW_PANELS: usize = 16;

/// [`ln_integral_graded`] of e^{ln f} with a payload g(y) ∈ ℝᴷ: `node(y)`
/// returns ln f(y) and a state of the node (what g needs, such as
/// logarithms shared with ln f), and `add(sums, w, state)` adds w·g(y) to
/// the sums; returns ln ∫ f and the weighted means ∫ f g / ∫ f on the same
/// nodes (the final panels' Kronrod rule). The payload rides along
/// in the one adaptive pass (each panel keeps its sums; a panel that is
/// halved is replaced by its halves), so derivatives of ln ∫ f taken under
/// the integral need no second pass over the nodes. The panels, and so the
/// integral, are those of [`ln_integral_graded`]. The means are 0 when the
/// integral is 0 or not finite.
pub(crate) fn ln_integral_moments<S, const K: usize>(
    node: impl Fn(f64) -> (f64, S),
    add: impl Fn(&mut [f64; K], f64, &S),
    a: f64,
    b: f64,
    scale: f64,
    rel_tol: f64,
) -> (f64, [f64; K]) {
    let mut few = [Panel::<K>::default(); FEW_PANELS];
    match adapt(&node, &add, a, b, scale, rel_tol, &mut few) {
        Some((total, len)) => (total, means(total, &few[..len])),
        None => {
            let mut many = [Panel::<K>::default(); MAX_PANELS];
            let (total, len) = adapt(&node, &add, a, b, scale, rel_tol, &mut many)
                .expect("MAX_PANELS panels always suffice");
            (total, means(total, &many[..len]))
        }
    }
}

/// The weighted means of the payload over the final panels (0 unless the
/// integral is positive and finite).
fn means<const K: usize>(total: f64, panels: &[Panel<K>]) -> [f64; K] {
    let mut means = [0.0; K];
    if K == 0 || !total.is_finite() {
        return means;
    }
    // The same log-sum-exp as the total's, so that the means divide like by
    // like.
    let m = panels
        .iter()
        .map(|p| p.scale)
        .fold(f64::NEG_INFINITY, f64::max);
    let value: f64 = panels.iter().map(|p| (p.scale - m).exp() * p.value).sum();
    for p in panels {
        let w = (p.scale - m).exp() / value;
        for (mean, moment) in means.iter_mut().zip(&p.moments) {
            *mean += w * moment;
        }
    }
    means
}

/// The adaptive integration in `panels` (their number is the capacity):
/// ln ∫ and the number of final panels, or `None` when the capacity is below
/// [`MAX_PANELS`] and the integral would need more panels than that.
fn adapt<S, const K: usize>(
    f: &impl Fn(f64) -> (f64, S),
    add: &impl Fn(&mut [f64; K], f64, &S),
    a: f64,
    b: f64,
    scale: f64,
    rel_tol: f64,
    panels: &mut [Panel<K>],
) -> Option<(f64, usize)> {
    if a.is_nan() || b.is_nan() || b <= a {
        return Some((f64::NEG_INFINITY, 0));
    }
    let capacity = panels.len();
    let mut len = 0;
    let mut left = a;
    let mut width = scale;
    // At most MAX_PANELS / 2 graded panels; the last reaches b.
    while width < 0.5 * (b - left) && len < MAX_PANELS / 2 - 1 && width > 0.0 {
        if len + 1 >= capacity {
            return None;
        }
        panels[len] = panel(f, add, left, left + width);
        len += 1;
        left += width;
        width *= 2.0;
    }
    panels[len] = panel(f, add, left, b);
    len += 1;
    let total = loop {
        // Log-sum-exp of the panels and their errors on a common scale.
        let m = panels[..len]
            .iter()
            .map(|p| p.scale)
            .fold(f64::NEG_INFINITY, f64::max);
        if m.is_nan() || panels[..len].iter().any(|p| p.scale.is_nan()) {
            break f64::NAN;
        }
        if m == f64::NEG_INFINITY {
            break f64::NEG_INFINITY;
        }
        let (mut value, mut error, mut worst, mut worst_error) = (0.0, 0.0, 0, -1.0);
        for (i, p) in panels[..len].iter().enumerate() {
            let w = (p.scale - m).exp();
            value += w * p.value;
            let e = w * p.error;
            error += e;
            if e > worst_error {
                (worst, worst_error) = (i, e);
            }
        }
        let total = m + value.ln();
        if error <= rel_tol * value || len == MAX_PANELS {
            break total;
        }
        let Panel { a, b, .. } = panels[worst];
        let mid = 0.5 * (a + b);
        if !(mid > a && mid < b) {
            break total;
        }
        if len == capacity {
            return None;
        }
        panels[worst] = panel(f, add, a, mid);
        panels[len] = panel(f, add, mid, b);
        len += 1;
    };
    Some((total, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Closed forms: ∫₀¹ eʸ, ∫ of a sharp exponential, ∫ of a huge power.
    #[test]
    fn closed_forms() {
        let (v, _) = ln_integral(|y| y, 0.0, 1.0, 1e-12);
        assert!((v.exp() - (1f64.exp() - 1.0)).abs() < 1e-14);
        // ∫₀¹⁰ e^{−500 y} dy = (1 − e^{−5000})/500.
        let (v, p) = ln_integral(|y| -500.0 * y, 0.0, 10.0, 1e-12);
        assert!(
            (v - (1.0 / 500f64).ln()).abs() < 1e-12,
            "{v} with {} panels",
            p.len()
        );
        // ∫₁² y^{−3000} dy = (1 − 2^{−2999})/2999, and ∫ scaled by e^{2000}.
        let (v, _) = ln_integral(|y| 2000.0 - 3000.0 * y.ln(), 1.0, 2.0, 1e-12);
        assert!((v - (2000.0 - 2999f64.ln())).abs() < 1e-11, "{v}");
        // The second pass over the panels reproduces the value.
        // A near-singularity 1e-6 left of the interval: ∫₀¹ (1e-6 + y)^{−2} dy.
        let exact = (1e6f64 - 1.0 / (1.0 + 1e-6)).ln();
        let (v, _) = ln_integral_graded(|y| -2.0 * (1e-6 + y).ln(), 0.0, 1.0, 1e-6, 1e-12);
        assert!((v - exact).abs() < 1e-12, "{v} vs {exact}");
        let (v, p) = ln_integral(|y| -30.0 * y, 0.0, 3.0, 1e-12);
        let again: f64 = p.nodes().map(|(y, w)| w * (-30.0 * y - v).exp()).sum();
        assert!((again - 1.0).abs() < 1e-13, "{again}");
    }

    /// The moments ride along in the one adaptive pass: the integral is that
    /// of `ln_integral_graded`, the means are those of a second pass over the
    /// final panels' nodes, and the integrand is evaluated 15 times per panel
    /// evaluated, once per node (a one-panel integral: 15 calls).
    #[test]
    fn moments_in_one_pass() {
        let calls = std::cell::Cell::new(0);
        let ln_f = |y: f64| -30.0 * y + 2.0 * (1.0 + y).ln();
        let (v, means) = ln_integral_moments(
            |y| {
                calls.set(calls.get() + 1);
                (ln_f(y), y)
            },
            |m: &mut [f64; 2], w, &y| {
                m[0] += w * y;
                m[1] += w * y * y;
            },
            0.0,
            3.0,
            0.05,
            1e-12,
        );
        let (w, panels) = ln_integral_graded(ln_f, 0.0, 3.0, 0.05, 1e-12);
        assert_eq!(v, w);
        let mut second = [0.0; 2];
        for (y, wt) in panels.nodes() {
            let f = wt * (ln_f(y) - w).exp();
            second[0] += f * y;
            second[1] += f * y * y;
        }
        for (m, s) in means.iter().zip(&second) {
            assert!((m - s).abs() < 1e-14 * s, "{m} vs {s}");
        }
        // Nothing was evaluated twice: at most the nodes of the final panels
        // and of the panels they replaced.
        assert!(
            calls.get() <= 15 * (2 * panels.len() - 1),
            "{}",
            calls.get()
        );
        // The mean of y under e^{−30y} on [0, 1], in closed form.
        calls.set(0);
        let (_, [mean]) = ln_integral_moments(
            |y| {
                calls.set(calls.get() + 1);
                (-2.0 * y, y)
            },
            |m, w, &y| m[0] += w * y,
            0.0,
            1.0,
            f64::INFINITY,
            1e-12,
        );
        let exact = 0.5 - (-2f64).exp() / (1.0 - (-2f64).exp());
        assert!((mean - exact).abs() < 1e-15, "{mean} vs {exact}");
        assert_eq!(calls.get(), 15);
    }

    /// An integral that needs more panels than the first attempt holds
    /// (`FEW_PANELS`) is done again with room for `MAX_PANELS`, to the same
    /// accuracy: ∫₀¹ (1e-6 + y)^{−2} dy found by bisection alone.
    #[test]
    fn many_panels() {
        let exact = (1e6f64 - 1.0 / (1.0 + 1e-6)).ln();
        let ln_f = |y: f64| -2.0 * (1e-6 + y).ln();
        let (v, panels) = ln_integral(ln_f, 0.0, 1.0, 1e-12);
        assert!(panels.len() > FEW_PANELS, "{} panels", panels.len());
        assert!((v - exact).abs() < 1e-12, "{v} vs {exact}");
        // E[1 + y] under the same density: 1 + ∫ y/(ε+y)² / ∫ 1/(ε+y)².
        let (w, [mean]) = ln_integral_moments(
            |y| (ln_f(y), y),
            |m, w, &y| m[0] += w * (1.0 + y),
            0.0,
            1.0,
            f64::INFINITY,
            1e-12,
        );
        assert_eq!(v, w);
        let eps = 1e-6f64;
        let first = ((1.0 + eps) / eps).ln() + eps / (1.0 + eps) - 1.0;
        let exact_mean = 1.0 + first / exact.exp();
        assert!((mean - exact_mean).abs() < 1e-10, "{mean} vs {exact_mean}");
    }
}
