//! Expectations over the drop-out probability p ~ Beta(a, b) by quadrature,
//! for every (a, b) a fit can return.
//!
//! Every BG-family expectation is E_p[f(p)] with f positive, bounded and smooth
//! in the log-odds y = ln(p/(1−p)): E[Y(t) | alive] with
//! f(p) = (1 − (1 + p t/(α+T))^{−(r+x)})/p, DERT with the closed form over the
//! purchase rate. In y the beta density is p^a (1−p)^b / B(a, b) (dp = p(1−p) dy),
//! log-concave with its mode at y₀ = ln(a/b) and curvature ab/(a+b) there, so
//! its width is σ = (1/a + 1/b)^{1/2}: about 4e-4 for a = b = 1e7, and large
//! (the density decays only like e^{a y} as y → −∞) for a small.
//!
//! The substitution y = y₀ + w sinh u with w = min(σ, π) centres the nodes on
//! the mode at the density's own scale (w = π, the classic tanh-sinh choice,
//! when the density is wide), and makes both tails decay double-exponentially
//! in u; the trapezoidal rule in u then converges exponentially (Takahasi &
//! Mori 1974). The step is halved from 1/2 until two successive results agree
//! to [`AGREEMENT`].
//!
//! The density is taken relative to its value at the mode and the result is
//! the ratio Σ d f / Σ d of two sums over the same nodes, so ln B(a, b) (whose
//! evaluation loses about 8 digits when a and b are near 1e7) is never needed;
//! the log-density relative to the mode, −a ln(p₀ₑ) − b ln(…), is formed from
//! ln1p and expm1 of the distance to the mode, so it keeps full relative
//! accuracy however large a and b are. Every term is positive: nothing cancels.

/// Successive results agreeing to this relative difference stop the halving
/// (the trapezoidal error falls like exp(−c/h), so the finer one is then
/// accurate to about its square).
const AGREEMENT: f64 = 1e-9;
/// Step halvings at most (finest step 2⁻¹³).
const MAX_HALVINGS: usize = 12;
/// Terms below this fraction of the running sum end a side (at |u| > 1).
const NEGLIGIBLE: f64 = 1e-18;

/// A quadrature node: the drop-out probability p, as ln p (p itself may
/// underflow).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    pub ln_p: f64,
}

/// softplus(v) = ln(1 + eᵛ).
fn softplus(v: f64) -> f64 {
    v.max(0.0) + (-v.abs()).exp().ln_1p()
}

/// The substitution y = y₀ + w sinh u for Beta(a, b).
struct Grid {
    a: f64,
    b: f64,
    y0: f64,
    p0: f64,
    q0: f64,
    w: f64,
    /// Beyond it, w sinh u makes even the slower tail e^{−min(a,b)|y|}
    /// smaller than e^{−800}.
    u_max: f64,
}

impl Grid {
    fn new(a: f64, b: f64) -> Self {
        let w = (1.0 / a + 1.0 / b).sqrt().min(std::f64::consts::PI);
        Self {
            a,
            b,
            y0: a.ln() - b.ln(),
            p0: a / (a + b),
            q0: b / (a + b),
            w,
            u_max: (800.0 / (a.min(b) * w)).asinh().clamp(4.0, 40.0) + 0.5,
        }
    }

    /// The node at u and its weight: the density relative to the mode times
    /// the Jacobian cosh u.
    fn node(&self, u: f64) -> (Node, f64) {
        let Grid {
            a,
            b,
            y0,
            p0,
            q0,
            w,
            ..
        } = *self;
        let d = w * u.sinh();
        let y = y0 + d;
        let ln_p = -softplus(-y);
        let ln_q = -softplus(y);
        let relative = if d.abs() <= 1.0 {
            // ln p − ln p₀ = −ln(1 + q₀ (e^{−d} − 1)), ln q − ln q₀ likewise.
            -a * (q0 * (-d).exp_m1()).ln_1p() - b * (p0 * d.exp_m1()).ln_1p()
        } else {
            a * (ln_p + softplus(-y0)) + b * (ln_q + softplus(y0))
        };
        (Node { ln_p }, relative.exp() * u.cosh())
    }
}

/// E[f(p)] for p ~ Beta(a, b), a, b > 0, with f positive and bounded (see the
/// module documentation). NaN if f returns NaN anywhere it is needed, or if
/// the halvings run out before two results agree.
pub(crate) fn beta_expectation(a: f64, b: f64, f: impl Fn(Node) -> f64) -> f64 {
    let grid = Grid::new(a, b);
    let u_max = grid.u_max;
    let node = |u: f64| grid.node(u);
    // Σ over u = (offset + k·stride)·h, k = 0, ±1, …: (Σ d f, Σ d).
    // Both sums must be complete: a side ends where the terms of both are
    // negligible.
    let sums = |h: f64, offset: f64, stride: f64, reference: (f64, f64)| -> (f64, f64) {
        let (mut total_f, mut total_d) = (0.0, 0.0);
        for direction in [1.0, -1.0] {
            let mut k = if direction > 0.0 { 0.0 } else { -1.0 };
            loop {
                let u = (offset + k * stride) * h;
                if u.abs() > u_max {
                    break;
                }
                let (node, density) = node(u);
                if density > 0.0 {
                    let value = f(node);
                    if value.is_nan() {
                        return (f64::NAN, f64::NAN);
                    }
                    total_f += density * value;
                    total_d += density;
                    if u.abs() > 1.0
                        && density * value <= NEGLIGIBLE * (reference.0 + total_f)
                        && density <= NEGLIGIBLE * (reference.1 + total_d)
                    {
                        break;
                    }
                } else if u.abs() > 1.0 {
                    break;
                }
                k += direction;
            }
        }
        (total_f, total_d)
    };
    let mut h = 0.5;
    let (mut sum_f, mut sum_d) = sums(h, 0.0, 1.0, (0.0, 0.0));
    let mut value = sum_f / sum_d;
    for _ in 0..MAX_HALVINGS {
        if value.is_nan() {
            return f64::NAN;
        }
        h *= 0.5;
        let (more_f, more_d) = sums(h, 1.0, 2.0, (sum_f, sum_d));
        sum_f += more_f;
        sum_d += more_d;
        let finer = sum_f / sum_d;
        if (finer - value).abs() <= AGREEMENT * finer.abs() {
            return finer;
        }
        value = finer;
    }
    f64::NAN
}

#[cfg(test)]
mod tests {
    use super::*;

    /// E[p] = a/(a+b) and E[1 − p] = b/(a+b), across the whole box.
    #[test]
    fn beta_means() {
        let shapes = [1e-3, 0.1, 0.9, 1.0, 7.5, 1e3, 1e5, 1e7];
        for &a in &shapes {
            for &b in &shapes {
                let mean_q = beta_expectation(a, b, |n| -n.ln_p.exp_m1());
                let want = b / (a + b);
                assert!(
                    (mean_q - want).abs() <= 1e-9 * want,
                    "a={a} b={b}: {mean_q} vs {want}"
                );
                let mean_p = beta_expectation(a, b, |n| n.ln_p.exp());
                let want = a / (a + b);
                assert!(
                    (mean_p - want).abs() <= 1e-9 * want,
                    "a={a} b={b}: {mean_p} vs {want}"
                );
            }
        }
    }
}
