//! GGom/NBD: Poisson purchases, Gompertz lifetimes, gamma heterogeneity.
//!
//! Source: Bemmaor, A. C. & Glady, N. (2012), "Modeling Purchasing Behavior
//! with Sudden 'Death': A Flexible Customer Lifetime Model", Management
//! Science 58(5), 1012–1021 (the likelihood is their eq. (9); the Gompertz
//! mixture their eq. (3)–(4)).
//!
//! While alive, a customer buys as a Poisson process with rate λ ~ Gamma(r, α).
//! The lifetime τ is Gompertz with hazard bη e^{bτ}, S(τ | η) = exp(−η(e^{bτ}−1)),
//! and η ~ Gamma(s, β) across customers, so that
//!
//! S(τ) = (β / (β + e^{bτ} − 1))ˢ,  f(τ) = b s βˢ e^{bτ} (β + e^{bτ} − 1)^{−(s+1)}.
//!
//! The drop-out hazard rises with age when β > 1 and falls when β < 1 (β = 1 is
//! the Gompertz with gamma frailty's exponential case); as b → 0 with β/b fixed,
//! e^{bτ} − 1 ≈ bτ and the model is the Pareto/NBD with drop-out rate
//! parameters (s, β/b).
//!
//! **Likelihood.** Integrating λ out of the Poisson likelihood λˣ e^{−λ·y} of a
//! customer who is alive until y:
//!
//! L = C [E₁ + b s I(t_x, T)],  C = Γ(r+x) αʳ βˢ / Γ(r),
//! E₁ = (α+T)^{−(r+x)} (β + e^{bT} − 1)^{−s}                     (alive at T),
//! I = ∫_{t_x}^{T} e^{by} (α+y)^{−(r+x)} (β + e^{by} − 1)^{−(s+1)} dy  (died in (t_x, T]).
//!
//! I has no closed form. It is integrated by adaptive Gauss–Kronrod
//! (`special::gauss_kronrod`) of e^{φ(y)},
//! φ(y) = by − (r+x) ln(α+y) − (s+1) ln D(y), D(y) = β + expm1(by), in log
//! space (each panel scaled by its largest value), so nothing under- or
//! overflows for x in the thousands or bT in the hundreds; relative error
//! ≤ 1e-10 (checked against mpmath at 64 points, `tests/fixtures/ggom_mpmath.json`).
//! The variable is v = ln((α+y)/(α+t_x)) ∈ [0, ln(1 + (T−t_x)/(α+t_x))]:
//! y = t_x + (α+t_x)·expm1(v), dy = (α+y) dv, so
//! I = (α+t_x) ∫ e^{φ(y(v)) + v} dv, where the power (α+y)^{−(r+x)} is the
//! exponential e^{−(r+x)v}, smooth on a fixed scale; an integral costs about
//! 1.6 panels of 15 nodes for typical customers (2.5 in y).
//! ln(L/C) is the log-sum-exp of ln E₁ and ln(bs) + ln I: both terms are
//! positive, nothing cancels.
//!
//! **Derivatives.** Differentiating under the integral,
//! ∂ ln I = E_w[∂φ] and ∂² ln I = E_w[∂²φ] + Cov_w(∂φ) with w ∝ e^{φ(y)} on the
//! same quadrature nodes, and ∂φ, ∂²φ in closed form (see
//! [`GGomNBD::dead_term`]): the gradient and the Hessian are analytic, and
//! computed in the same adaptive pass as I (each node's ∂φ and
//! ∂²φ + ∂φ∂φᵀ are summed with its weight; `ln_integral_moments`).
//!
//! **Predictions.** Given alive at T the likelihood λˣe^{−λT}·e^{−η(e^{bT}−1)}
//! factorises, so λ ~ Gamma(r+x, α+T) and η ~ Gamma(s, β + e^{bT} − 1), independent.
//! Hence P(alive | x, t_x, T) = C E₁ / L, and
//!
//! E[Y(t) | x, t_x, T] = P(alive) · (r+x)/(α+T) · G(t; q_T),
//! G(t; q) = ∫₀ᵗ (1 + q·expm1(bu))^{−s} du,  q_T = e^{bT} / (β + e^{bT} − 1),
//!
//! the expected purchase rate times the expected remaining time alive within t;
//! E[X(t)] = (r/α) G(t; 1/β) for a new customer. G is integrated by the same
//! adaptive rule. P(X(t) = n) (alive at t after n purchases, or dead at τ < t
//! after n purchases) is
//!
//! Γ(r+n)/(Γ(r) n!) [ (α/(α+t))ʳ (t/(α+t))ⁿ S(t) + ∫₀ᵗ (α/(α+τ))ʳ (τ/(α+τ))ⁿ f(τ) dτ ],
//!
//! the integral again by adaptive Gauss–Kronrod. DERT is the default
//! [`crate::value::dert::dert_by_quadrature`] of E[Y(t) | ·].

use rand::Rng;
use rand_distr::{Distribution, Gamma};
use rayon::prelude::*;

use crate::data::CompressedData;
use crate::error::Result;
use crate::models::params::check_positive;
use crate::models::pareto_nbd::poisson_purchases;
use crate::models::{Derivatives, Evaluation, Model, SimulatedCustomer, TransactionModel};
use crate::special::gauss_kronrod::{ln_integral_graded, ln_integral_moments, Panels};
use crate::special::{ln_gamma, ln_gamma_ratio};

/// Relative accuracy of every integral of the model.
const REL_TOL: f64 = 1e-10;

/// Number of parameters (r, α, b, s, β).
const P: usize = 5;

/// The (i, j) entries on and above the diagonal of a P × P matrix, row by row.
const UPPER: [(usize, usize); P * (P + 1) / 2] = [
    (0, 0),
    (0, 1),
    (0, 2),
    (0, 3),
    (0, 4),
    (1, 1),
    (1, 2),
    (1, 3),
    (1, 4),
    (2, 2),
    (2, 3),
    (2, 4),
    (3, 3),
    (3, 4),
    (4, 4),
];

/// GGom/NBD parameters (r, α, b, s, β), all positive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GGomNBD {
    r: f64,
    alpha: f64,
    b: f64,
    s: f64,
    beta: f64,
}

/// A log-term with its gradient and Hessian in (r, α, b, s, β).
#[derive(Clone, Copy, Debug)]
struct Term {
    value: f64,
    grad: [f64; P],
    hess: [[f64; P]; P],
}

impl Term {
    const ZERO: Term = Term {
        value: 0.0,
        grad: [0.0; P],
        hess: [[0.0; P]; P],
    };

    fn symmetrise(&mut self) {
        for i in 0..P {
            for j in 0..i {
                self.hess[i][j] = self.hess[j][i];
            }
        }
    }
}

/// The Gompertz quantities at age y: ln D(y) with D = β + e^{by} − 1,
/// q = e^{by}/D and 1/D, without overflow for by in the hundreds.
#[derive(Clone, Copy)]
struct Gompertz {
    ln_d: f64,
    q: f64,
    inv_d: f64,
}

/// The death integral's variable v = ln((α+y)/(α+t_x)) ∈ [0, `end`]:
/// y = t_x + (α+t_x)·expm1(v) (see [`GGomNBD::death_variable`]).
struct DeathVariable {
    t_x: f64,
    /// α + t_x and its logarithm.
    a0: f64,
    ln_a0: f64,
    /// V = ln(1 + (T − t_x)/(α + t_x)).
    end: f64,
    /// The width of the integrand's features at v = 0.
    scale: f64,
}

impl GGomNBD {
    /// The parameter names, in the order of [`Self::from_slice`].
    pub const PARAM_NAMES: &'static [&'static str] = &["r", "alpha", "b", "s", "beta"];

    /// Builds the model, checking that every parameter is positive and finite.
    ///
    /// ```
    /// use retentionkit::ggom_nbd::GGomNBD;
    /// use retentionkit::TransactionModel;
    /// // Bemmaor & Glady (2012), Table 2, CDNOW (weeks).
    /// let m = GGomNBD::new(0.553, 10.578, 0.0002, 0.603, 0.0026)?;
    /// let p = m.probability_alive(2.0, 30.43, 38.86);
    /// assert!(0.0 < p && p < 1.0);
    /// assert!(GGomNBD::new(0.553, 10.578, 0.0, 0.603, 0.0026).is_err());
    /// # Ok::<(), retentionkit::Error>(())
    /// ```
    pub fn new(r: f64, alpha: f64, b: f64, s: f64, beta: f64) -> Result<Self> {
        Self::from_slice(&[r, alpha, b, s, beta])
    }

    /// Builds the model from values in the order of [`Self::PARAM_NAMES`],
    /// checking their domain.
    pub fn from_slice(values: &[f64]) -> Result<Self> {
        check_positive(Self::PARAM_NAMES, values)?;
        Ok(Self {
            r: values[0],
            alpha: values[1],
            b: values[2],
            s: values[3],
            beta: values[4],
        })
    }

    /// Shape of the gamma distribution of purchase rates λ.
    pub fn r(&self) -> f64 {
        self.r
    }
    /// Rate (in 1/time units) of the gamma distribution of purchase rates.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// Scale (in 1/time units) of the Gompertz lifetime: the hazard grows like e^{bτ}.
    pub fn b(&self) -> f64 {
        self.b
    }
    /// Shape of the gamma distribution of the Gompertz frailty η.
    pub fn s(&self) -> f64 {
        self.s
    }
    /// Rate (dimensionless) of the gamma distribution of the Gompertz frailty η.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    #[inline]
    fn gompertz(&self, y: f64) -> Gompertz {
        let by = self.b * y;
        // Directly while e^{by} is far from overflow (a sum of positive
        // terms: no cancellation), the scaled form beyond.
        if by <= 30.0 {
            let em = exp_m1(by);
            let d = self.beta + em;
            let inv_d = 1.0 / d;
            Gompertz {
                ln_d: d.ln(),
                q: (1.0 + em) * inv_d,
                inv_d,
            }
        } else {
            // D = e^{by} (1 + (β−1)e^{−by}), and (β−1)e^{−by} > −1.
            let c = (self.beta - 1.0) * (-by).exp();
            let ln_d = by + c.ln_1p();
            Gompertz {
                ln_d,
                q: 1.0 / (1.0 + c),
                inv_d: (-ln_d).exp(),
            }
        }
    }

    /// ln E₁ = −(r+x) ln(α+T) − s ln D(T) with derivatives.
    fn alive_term(&self, x: f64, age: f64, order: u8) -> Term {
        let GGomNBD {
            r, alpha, s, beta, ..
        } = *self;
        let g = self.gompertz(age);
        let rx = r + x;
        let ia = 1.0 / (alpha + age);
        let la = (alpha + age).ln();
        let mut t = Term::ZERO;
        t.value = -rx * la - s * g.ln_d;
        if order >= 1 {
            t.grad = [-la, -rx * ia, -s * age * g.q, -g.ln_d, -s * g.inv_d];
        }
        if order >= 2 {
            t.hess[0][1] = -ia;
            t.hess[1][1] = rx * ia * ia;
            t.hess[2][2] = -s * age * age * g.q * (beta - 1.0) * g.inv_d;
            t.hess[2][3] = -age * g.q;
            t.hess[2][4] = s * age * g.q * g.inv_d;
            t.hess[3][4] = -g.inv_d;
            t.hess[4][4] = s * g.inv_d * g.inv_d;
            t.symmetrise();
        }
        t
    }

    /// The death integral's variable v = ln((α+y)/(α+t_x)) on [0, V] (module
    /// documentation), and the width of the integrand's features at v = 0:
    /// e^{−(r+x)v} falls by e⁴ over 4/(r+x), and D(y)^{−(s+1)} by e over
    /// D/((s+1)D′) in y (a near-singularity when β/b is small), which is that
    /// over α+t_x in v. The first panels are graded from the smaller.
    fn death_variable(&self, x: f64, t_x: f64, age: f64) -> DeathVariable {
        let a0 = self.alpha + t_x;
        let g = self.gompertz(t_x);
        DeathVariable {
            t_x,
            a0,
            ln_a0: a0.ln(),
            end: ((age - t_x) / a0).ln_1p(),
            scale: (4.0 / (self.r + x)).min(1.0 / (self.b * g.q * (self.s + 1.0) * a0)),
        }
    }

    /// ln of the death integrand in v, φ(y(v)) + v (the Jacobian dy/dv =
    /// α+y), with y, 1/(α+y) and the Gompertz quantities at y.
    #[inline]
    fn death_point(&self, x: f64, dv: &DeathVariable, v: f64) -> (f64, f64, f64, Gompertz) {
        let em = exp_m1(v);
        let y = dv.t_x + dv.a0 * em;
        let g = self.gompertz(y);
        let la = dv.ln_a0 + v;
        let phi = self.b * y - (self.r + x) * la - (self.s + 1.0) * g.ln_d;
        (phi + v, y, 1.0 / (dv.a0 * (1.0 + em)), g)
    }

    /// ln I(t_x, T), the death integral of the likelihood (module
    /// documentation), to a relative error of about 1e-11 in I; −∞ when
    /// t_x = T.
    ///
    /// ```
    /// use retentionkit::ggom_nbd::GGomNBD;
    /// // With b = 1 and β = 1, e^{by}(β + e^{by} − 1)^{−(s+1)} = e^{−s y}:
    /// // I = ∫₀¹ e^{−y} (1 + y)^{0} dy = 1 − e^{−1} for r + x = 0⁺.
    /// let m = GGomNBD::new(1e-300, 1.0, 1.0, 1.0, 1.0)?;
    /// let i = m.ln_death_integral(0.0, 0.0, 1.0).exp();
    /// assert!((i - (1.0 - (-1f64).exp())).abs() < 1e-14);
    /// # Ok::<(), retentionkit::Error>(())
    /// ```
    pub fn ln_death_integral(&self, x: f64, t_x: f64, age: f64) -> f64 {
        self.death_integral(x, t_x, age).0
    }

    /// ln I with its panels (the value alone, as [`Self::dead_term`] of
    /// order 0 computes it).
    fn death_integral(&self, x: f64, t_x: f64, age: f64) -> (f64, Panels) {
        let dv = self.death_variable(x, t_x, age);
        let (ln_i, panels) = ln_integral_graded(
            |v| self.death_point(x, &dv, v).0,
            0.0,
            dv.end,
            dv.scale,
            REL_TOL,
        );
        (dv.ln_a0 + ln_i, panels)
    }

    /// ln(b s I(t_x, T)) with derivatives (see the module documentation):
    /// the gradient and Hessian of ln I are the weighted mean of ∂φ and of
    /// ∂²φ + ∂φ∂φᵀ, minus the outer product of the mean, on the nodes of the
    /// adaptive rule. The derivatives of φ ride along with φ in the one
    /// adaptive pass (`ln_integral_moments`): they share its logarithms, and
    /// the nodes are visited once.
    #[allow(clippy::needless_range_loop)] // (i, j) index the symmetric matrices
    fn dead_term(&self, x: f64, t_x: f64, age: f64, order: u8) -> Term {
        let GGomNBD { r, b, s, beta, .. } = *self;
        let mut t = Term::ZERO;
        if order == 0 {
            t.value = (b * s).ln() + self.death_integral(x, t_x, age).0;
            return t;
        }
        let rx = r + x;
        let s1 = s + 1.0;
        let dv = self.death_variable(x, t_x, age);
        // ln of the integrand in v and ∂φ at one node, with y, 1/(α+y) and
        // the Gompertz quantities for ∂²φ. (∂φ is the derivative of the
        // integrand in y: the integral over y is what is differentiated,
        // whatever variable then evaluates it.)
        let node = |v: f64| {
            let (phi, y, ia, g) = self.death_point(x, &dv, v);
            let la = dv.ln_a0 + v;
            let yq = y * g.q;
            let d = [-la, -rx * ia, y - s1 * yq, -g.ln_d, -s1 * g.inv_d];
            (phi, (d, [ia, y, yq, g.inv_d]))
        };
        let (ln_i, mean, second) = if order == 1 {
            let (ln_i, mean) = ln_integral_moments(
                node,
                |m: &mut [f64; P], w, (d, _)| {
                    for k in 0..P {
                        m[k] += w * d[k];
                    }
                },
                0.0,
                dv.end,
                dv.scale,
                REL_TOL,
            );
            (ln_i, mean, [0.0; UPPER.len()])
        } else {
            let (ln_i, moments) = ln_integral_moments(
                node,
                |m: &mut [f64; P + UPPER.len()], w, (d, [ia, y, yq, inv_d])| {
                    // ∂φ, then ∂²φ + ∂φ∂φᵀ on and above the diagonal (in
                    // the order of UPPER); ∂²φ has seven non-zero entries.
                    let wd = [w * d[0], w * d[1], w * d[2], w * d[3], w * d[4]];
                    for k in 0..P {
                        m[k] += wd[k];
                    }
                    m[5] += wd[0] * d[0];
                    m[6] += wd[0] * d[1] - w * ia;
                    m[7] += wd[0] * d[2];
                    m[8] += wd[0] * d[3];
                    m[9] += wd[0] * d[4];
                    m[10] += wd[1] * d[1] + w * rx * ia * ia;
                    m[11] += wd[1] * d[2];
                    m[12] += wd[1] * d[3];
                    m[13] += wd[1] * d[4];
                    m[14] += wd[2] * d[2] - w * s1 * y * yq * (beta - 1.0) * inv_d;
                    m[15] += wd[2] * d[3] - w * yq;
                    m[16] += wd[2] * d[4] + w * s1 * yq * inv_d;
                    m[17] += wd[3] * d[3];
                    m[18] += wd[3] * d[4] - w * inv_d;
                    m[19] += wd[4] * d[4] + w * s1 * inv_d * inv_d;
                },
                0.0,
                dv.end,
                dv.scale,
                REL_TOL,
            );
            let mut mean = [0.0; P];
            mean.copy_from_slice(&moments[..P]);
            let mut second = [0.0; UPPER.len()];
            second.copy_from_slice(&moments[P..]);
            (ln_i, mean, second)
        };
        let ln_i = dv.ln_a0 + ln_i;
        t.value = (b * s).ln() + ln_i;
        if ln_i == f64::NEG_INFINITY || ln_i.is_nan() {
            return t;
        }
        t.grad = mean;
        t.grad[2] += 1.0 / b;
        t.grad[3] += 1.0 / s;
        if order >= 2 {
            for (k, &(i, j)) in UPPER.iter().enumerate() {
                t.hess[i][j] = second[k] - mean[i] * mean[j];
            }
            t.hess[2][2] -= 1.0 / (b * b);
            t.hess[3][3] -= 1.0 / (s * s);
            t.symmetrise();
        }
        t
    }

    /// ln(L / C) = ln(E₁ + bsI) and ln E₁.
    fn ln_bracket(&self, x: f64, t_x: f64, age: f64, order: u8) -> (Term, f64) {
        let alive = self.alive_term(x, age, order);
        if t_x >= age {
            return (alive, alive.value);
        }
        let dead = self.dead_term(x, t_x, age, order);
        (log_sum(&alive, &dead, order), alive.value)
    }

    /// ln C = ln Γ(r+x) − ln Γ(r) + r ln α + s ln β.
    fn ln_constant(&self, x: f64) -> f64 {
        ln_gamma(self.r + x) - ln_gamma(self.r) + self.r * self.alpha.ln() + self.s * self.beta.ln()
    }

    /// G(t; q) = ∫₀ᵗ (1 + q·expm1(bu))^{−s} du: the expected time alive within
    /// t of a customer alive now whose η is Gamma(s, e^{bT}/q) (see the module
    /// documentation).
    fn time_alive(&self, t: f64, q: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let (b, s) = (self.b, self.s);
        let ln_f = |u: f64| {
            let bu = b * u;
            let ln_1p = if bu <= 30.0 {
                (q * bu.exp_m1()).ln_1p()
            } else {
                // 1 + q(e^{bu} − 1) = q e^{bu} (1 + (1−q) e^{−bu}/q).
                q.ln() + bu + ((1.0 - q) * (-bu).exp() / q).ln_1p()
            };
            -s * ln_1p
        };
        let scale = 1.0 / (b * q * s);
        ln_integral_graded(ln_f, 0.0, t, scale, REL_TOL).0.exp()
    }

    /// Where the fit lands on the Pareto/NBD limit: with β below this, the
    /// Gompertz curvature over a typical lifetime (bτ ≈ β) is below 0.1%.
    const PARETO_LIMIT_BETA: f64 = 1e-3;
}

/// eᵛ − 1: `expm1` near 0, where it matters, and `exp` (about twice as
/// fast) from 0.5 on, where eᵛ − 1 ≥ 0.65 loses nothing to the subtraction.
#[inline]
fn exp_m1(v: f64) -> f64 {
    if v < 0.5 {
        v.exp_m1()
    } else {
        v.exp() - 1.0
    }
}

/// ln(e^a + e^b) with derivatives.
fn log_sum(a: &Term, b: &Term, order: u8) -> Term {
    let m = a.value.max(b.value);
    let (wa, wb) = ((a.value - m).exp(), (b.value - m).exp());
    let sum = wa + wb;
    let mut out = Term::ZERO;
    out.value = m + sum.ln();
    if order == 0 {
        return out;
    }
    let w = [wa / sum, wb / sum];
    for (wi, t) in w.iter().zip([a, b]) {
        for k in 0..P {
            out.grad[k] += wi * t.grad[k];
        }
    }
    if order >= 2 {
        for (wi, t) in w.iter().zip([a, b]) {
            for k in 0..P {
                for l in 0..P {
                    out.hess[k][l] += wi * (t.hess[k][l] + t.grad[k] * t.grad[l]);
                }
            }
        }
        for k in 0..P {
            for l in 0..P {
                out.hess[k][l] -= out.grad[k] * out.grad[l];
            }
        }
    }
    out
}

const CHUNK: usize = 512;

impl Model for GGomNBD {
    type Data = CompressedData;
    const NAME: &'static str = "GGomNBD";

    crate::models::params::fixed_positive_params!();

    fn to_vec(&self) -> Vec<f64> {
        vec![self.r, self.alpha, self.b, self.s, self.beta]
    }

    /// r = s = 1, α = mean T / mean x (as the Pareto/NBD's start), and
    /// β = 1, b = 1 / mean T: an exponential lifetime of rate sb (S(τ) =
    /// e^{−sbτ} when β = 1), the middle of the family from which the hazard
    /// may bend either way. (Not a Pareto/NBD fit: on data with a steeply
    /// rising hazard that fit runs to extreme parameters where it is slow.)
    fn initial_params(&self, data: &CompressedData) -> Vec<f64> {
        let start = crate::ParetoNBD::template(data).initial_params(data);
        let w = data.total_weight;
        let mean_t = data
            .age
            .iter()
            .zip(&data.weight)
            .map(|(a, b)| a * b)
            .sum::<f64>()
            / w;
        vec![start[0], start[1], 1.0 / mean_t.clamp(1e-6, 1e12), 1.0, 1.0]
    }

    fn penalty_scale(&self, data: &CompressedData) -> Vec<f64> {
        // α and 1/b are times; β is dimensionless.
        vec![1.0, 10.0 / data.max_age, data.max_age / 10.0, 1.0, 1.0]
    }

    fn fit_warnings(&self) -> Vec<String> {
        if self.beta < Self::PARETO_LIMIT_BETA {
            vec![format!(
                "beta = {:.3e} is below {:.0e}: the fit is on the Pareto/NBD limit of the \
                 GGom/NBD (b -> 0 with beta/b = {:.6} fixed, the Pareto/NBD's beta), where b \
                 and beta are not separately identified; predictions are those of that \
                 Pareto/NBD",
                self.beta,
                Self::PARETO_LIMIT_BETA,
                self.beta / self.b
            )]
        } else {
            Vec::new()
        }
    }

    /// Σ wᵢ ln Lᵢ with its analytic gradient and Hessian (module documentation).
    fn evaluate(&self, data: &CompressedData, derivatives: Derivatives) -> Evaluation {
        let GGomNBD {
            r, alpha, s, beta, ..
        } = *self;
        let order: u8 = match derivatives {
            Derivatives::None => 0,
            Derivatives::Gradient => 1,
            Derivatives::Hessian => 2,
        };
        let mut total = crate::models::Accumulator::<P>::ZERO;
        let [rise, d_rise, d2_rise] = data.ln_gamma_rise_sum(r, order);
        total.value += rise;
        total.grad[0] += d_rise;
        total.hess[0][0] += d2_rise;
        let n = data.total_weight;
        total.value += n * (r * alpha.ln() + s * beta.ln());
        if order >= 1 {
            total.grad[0] += n * alpha.ln();
            total.grad[1] += n * r / alpha;
            total.grad[3] += n * beta.ln();
            total.grad[4] += n * s / beta;
        }
        if order >= 2 {
            total.hess[0][1] += n / alpha;
            total.hess[1][0] += n / alpha;
            total.hess[1][1] -= n * r / (alpha * alpha);
            total.hess[3][4] += n / beta;
            total.hess[4][3] += n / beta;
            total.hess[4][4] -= n * s / (beta * beta);
        }
        let rows = data.len();
        let per_row = (0..rows.div_ceil(CHUNK))
            .into_par_iter()
            .map(|chunk| {
                let mut acc = crate::models::Accumulator::<P>::ZERO;
                let end = ((chunk + 1) * CHUNK).min(rows);
                for i in chunk * CHUNK..end {
                    if crate::interrupt::requested() {
                        break; // the fit returns Error::Interrupted
                    }
                    let (x, t_x, age) = (data.frequency[i], data.recency[i], data.age[i]);
                    let (term, _) = self.ln_bracket(x, t_x, age, order);
                    let w = data.weight[i];
                    acc.value += w * term.value;
                    if order >= 1 {
                        for k in 0..P {
                            acc.grad[k] += w * term.grad[k];
                        }
                    }
                    if order >= 2 {
                        for k in 0..P {
                            for l in 0..P {
                                acc.hess[k][l] += w * term.hess[k][l];
                            }
                        }
                    }
                }
                acc
            })
            .reduce(
                || crate::models::Accumulator::<P>::ZERO,
                crate::models::Accumulator::add,
            );
        total.add(per_row).into_evaluation(derivatives)
    }
}

impl TransactionModel for GGomNBD {
    /// E[X(t)] = (r/α) ∫₀ᵗ (β/(β + e^{bu} − 1))ˢ du.
    fn expected_purchases(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        self.r / self.alpha * self.time_alive(t, 1.0 / self.beta)
    }

    /// P(X(t) = n): alive at t after n purchases, or dead at τ < t after n
    /// purchases (module documentation), the second by adaptive quadrature.
    fn probability_of_purchases(&self, t: f64, n: f64) -> f64 {
        let GGomNBD {
            r,
            alpha,
            b,
            s,
            beta,
        } = *self;
        if t <= 0.0 {
            return if n == 0.0 { 1.0 } else { 0.0 };
        }
        let ln_nb = -ln_gamma_ratio(r, n) - ln_gamma(n + 1.0);
        let ln_poisson = |tau: f64| {
            let n_part = if n > 0.0 {
                n * (tau / (alpha + tau)).ln()
            } else {
                0.0
            };
            -r * (tau / alpha).ln_1p() + n_part
        };
        let alive = ln_nb + ln_poisson(t) - s * (self.gompertz(t).ln_d - beta.ln());
        // ln f(τ) = ln(bs) + bτ + s ln β − (s+1) ln D(τ).
        let ln_dead_density = |tau: f64| {
            let g = self.gompertz(tau);
            (b * s).ln() + b * tau - s * (g.ln_d - beta.ln()) - g.ln_d
        };
        let scale = (alpha / (r + n + 1.0)).min(beta / (b * (s + 1.0)));
        let (ln_dead, _) = ln_integral_graded(
            |tau| ln_poisson(tau) + ln_dead_density(tau),
            0.0,
            t,
            scale,
            REL_TOL,
        );
        (alive.exp() + (ln_nb + ln_dead).exp()).min(1.0)
    }

    /// P(alive | x, t_x, T) = C E₁ / L.
    ///
    /// ```
    /// use retentionkit::ggom_nbd::GGomNBD;
    /// use retentionkit::TransactionModel;
    /// let m = GGomNBD::new(0.553, 10.578, 0.05, 0.603, 0.5).unwrap();
    /// assert!(m.probability_alive(2.0, 38.86, 38.86) > m.probability_alive(2.0, 5.0, 38.86));
    /// ```
    fn probability_alive(&self, x: f64, t_x: f64, age: f64) -> f64 {
        let alive = self.alive_term(x, age, 0).value;
        if t_x >= age {
            return 1.0;
        }
        let dead = (self.b * self.s).ln() + self.ln_death_integral(x, t_x, age);
        // 1 / (1 + e^{dead − alive}).
        crate::special::logistic(alive - dead).clamp(0.0, 1.0)
    }

    /// E[Y(t) | x, t_x, T] = P(alive) (r+x)/(α+T) G(t; q_T) (module documentation).
    fn conditional_expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let q = self.gompertz(age).q;
        (self.r + x) / (self.alpha + age)
            * self.time_alive(t, q)
            * self.probability_alive(x, t_x, age)
    }

    /// ln L = ln C + ln(E₁ + bsI); exactly 0 for x = T = 0.
    fn individual_log_likelihood(&self, x: f64, t_x: f64, age: f64) -> f64 {
        if age == 0.0 && x == 0.0 {
            return 0.0;
        }
        self.ln_constant(x) + self.ln_bracket(x, t_x, age, 0).0.value
    }

    /// λ ~ Gamma(r, scale 1/α), η ~ Gamma(s, scale 1/β), lifetime
    /// ln(1 + E/η)/b with E ~ Exp(1) (the inverse of S(τ | η)), Poisson
    /// purchases at rate λ while alive. `dropout` holds η.
    fn simulate_customer<R: Rng + ?Sized>(&self, age: f64, rng: &mut R) -> SimulatedCustomer {
        let rate = Gamma::new(self.r, 1.0 / self.alpha)
            .expect("valid parameters")
            .sample(rng);
        let eta = Gamma::new(self.s, 1.0 / self.beta)
            .expect("valid parameters")
            .sample(rng);
        let u: f64 = rng.random();
        let e = -(1.0 - u).ln();
        let lifetime = if eta > 0.0 {
            (e / eta).ln_1p() / self.b
        } else {
            f64::INFINITY
        };
        let end = lifetime.min(age);
        let (x, t_x) = poisson_purchases(rate, end, rng);
        SimulatedCustomer {
            frequency: x,
            recency: t_x,
            age,
            rate,
            dropout: eta,
            alive: lifetime > age,
        }
    }
}

// Static covariates and the conditional P(n), in their own file.
#[path = "ggom_nbd_covariates.rs"]
mod covariates;
pub use covariates::{check_conditional_probability_inputs, conditional_probability_of_purchases};

#[cfg(test)]
mod tests {
    use super::*;

    /// The analytic gradient and Hessian of one customer's ln(L/C) agree with
    /// central differences, across regimes (b small and large, β < 1 and > 1,
    /// large x).
    #[test]
    fn derivatives_match_differences() {
        let cases = [
            ([0.55, 10.6, 0.05, 0.6, 0.5], (2.0, 30.43, 38.86)),
            ([0.55, 10.6, 0.5, 0.6, 3.0], (0.0, 0.0, 38.86)),
            ([1.3, 4.0, 0.002, 1.7, 0.02], (7.0, 20.0, 52.0)),
            ([0.8, 2.0, 0.2, 0.9, 40.0], (300.0, 10.0, 60.0)),
        ];
        for (params, (x, t_x, age)) in cases {
            let m = GGomNBD::from_slice(&params).unwrap();
            let t = m.ln_bracket(x, t_x, age, 2).0;
            for i in 0..P {
                let h = 1e-5 * params[i];
                let at = |d: f64| {
                    let mut p = params;
                    p[i] += d;
                    GGomNBD::from_slice(&p)
                        .unwrap()
                        .ln_bracket(x, t_x, age, 1)
                        .0
                };
                let (up, down) = (at(h), at(-h));
                let fd = (up.value - down.value) / (2.0 * h);
                assert!(
                    (fd - t.grad[i]).abs() <= 1e-6 * (1.0 + fd.abs()),
                    "{params:?} {x} grad {i}: {} vs {fd}",
                    t.grad[i]
                );
                for j in 0..P {
                    let fd = (up.grad[j] - down.grad[j]) / (2.0 * h);
                    assert!(
                        (fd - t.hess[i][j]).abs() <= 1e-5 * (1.0 + fd.abs()),
                        "{params:?} {x} hess {i}{j}: {} vs {fd}",
                        t.hess[i][j]
                    );
                }
            }
        }
    }

    /// The cost of the likelihood: the death integral of the benchmark's
    /// customers (bench/bench_ggom.py's simulation, 4,000 of them) ends on
    /// 1.56 15-point panels on average in v = ln((α+y)/(α+t_x)); in y, graded
    /// from t_x at (α+t_x)/(r+x), it ended on 2.54.
    #[test]
    fn death_integral_panels() {
        let truth = GGomNBD::new(0.8, 6.0, 0.04, 1.2, 4.0).unwrap();
        let ages: Vec<f64> = (0..4000)
            .map(|i| 30.0 + 50.0 * (i as f64 / 4000.0))
            .collect();
        let sim = crate::predict::simulate(&truth, &ages, 16).unwrap();
        let (mut panels, mut rows) = (0, 0);
        for c in sim.iter().filter(|c| c.recency < c.age) {
            panels += truth.death_integral(c.frequency, c.recency, c.age).1.len();
            rows += 1;
        }
        let mean = panels as f64 / rows as f64;
        assert!(mean < 1.8, "{mean} panels per customer");
    }
}
