//! sBG: the shifted-beta-geometric model of contractual retention.
//!
//! Source: Fader, P. S. & Hardie, B. G. S. (2007), "How to Project Customer
//! Retention", Journal of Interactive Marketing 21(1), 76–90; discounted
//! lifetimes from Fader, P. S. & Hardie, B. G. S. (2010), "Customer-Base
//! Valuation in a Contractual Setting: The Perils of Ignoring Heterogeneity",
//! Marketing Science 29(1), 85–93.
//!
//! At the end of each period a customer churns with probability θ, constant
//! over time, so T (the period of churn, T ≥ 1) is shifted-geometric; θ ~
//! Beta(α, β) across customers. Timing and data conventions are those of
//! [`crate::models::contractual`]. FH (2007) give the probabilities as recursions:
//!
//! ```text
//! P(T = 1) = α/(α+β),   P(T = t) = (β+t−2)/(α+β+t−1) · P(T = t−1)
//! S(1) = 1 − P(T = 1),  S(t) = S(t−1) − P(T = t)
//! r(t) = (β+t−1)/(α+β+t−1)                    (the retention rate)
//! ```
//!
//! The recursions multiply out to
//!
//! ```text
//! P(T = t) = B(α+1, β+t−1)/B(α, β) = α Γ(β+t−1) Γ(α+β) / (Γ(β) Γ(α+β+t)),
//! S(t)     = B(α, β+t)/B(α, β)     = Γ(β+t) Γ(α+β) / (Γ(β) Γ(α+β+t)),
//! ```
//!
//! which this module evaluates (exact sums of logarithms for t ≤ 16, beyond
//! as one step of ln Γ(y) − ln Γ(y+α), `special::ln_gamma_ratio_step`), so the log-likelihood of [`crate::models::contractual`], its gradient
//! and Hessian follow from digamma and trigamma. Also
//!
//! ```text
//! E[T]       = (α+β−1)/(α−1) for α > 1 (E[1/θ]; infinite for α ≤ 1),
//! DEL(d)     = ₂F₁(1, β; α+β; 1/(1+d)),                                 FH (2010)
//! DERL(d, n) = (β+n)/(α+β+n) · ₂F₁(1, β+n+1; α+β+n+1; 1/(1+d)),        FH (2010) eq. (6)
//! ```

use crate::data::RetentionData;
use crate::error::Result;
use crate::models::contractual::RetentionModel;
use crate::models::params::check_positive;
use crate::models::{Derivatives, Evaluation, Model};
use crate::special::hyp2f1::{ln_gamma_diff, unit_interval};
use crate::special::{digamma, ln_gamma_ratio_step, trigamma};

/// sBG parameters (α, β), both positive: θ ~ Beta(α, β).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShiftedBetaGeometric {
    /// First shape of the beta distribution of churn probabilities θ.
    alpha: f64,
    /// Second shape of the beta distribution of churn probabilities θ.
    beta: f64,
}

/// ₂F₁(a, b; c; 1/(1+d)) with 1 − z = d/(1+d) passed exactly.
fn hyp2f1_with_y(a: f64, b: f64, c: f64, d: f64) -> f64 {
    let (ln_abs, sign) = unit_interval(a, b, c, 1.0 / (1.0 + d), d / (1.0 + d));
    sign * ln_abs.exp()
}

/// Terms of the DERL series that [`short_derl_series`] sums at most.
const SHORT_SERIES_TERMS: usize = 200;

/// DERL(d, n) = Σ_{j≥1} Π_{i=1}^{j} r(n+i) (1+d)^{−(j−1)}, r(t) = (β+t−1)/(α+β+t−1),
/// summed term by term when that is short: the ratio of consecutive terms,
/// q_j = r(n+j+1)/(1+d), increases towards 1/(1+d), so the remainder after a
/// term is at most term/d, and the sum stops when that is below 1e-17 of the
/// sum. None when it needs more than [`SHORT_SERIES_TERMS`] terms.
///
/// Where it is short (α in the millions next to β + n, or d not small) this is
/// exact to rounding, whereas ₂F₁ near z = 1 goes through transformations
/// whose logarithms, of size α ln(d/(1+d)), keep only 1e-8 of the value there.
fn short_derl_series(a: f64, b: f64, d: f64, n: f64) -> Option<f64> {
    let discount = 1.0 / (1.0 + d);
    let mut term = (b + n) / (a + b + n);
    let mut sum = term;
    let mut t = n + 1.0; // the next ratio is r(t+1)/(1+d)
    for _ in 0..SHORT_SERIES_TERMS {
        if term == 0.0 || term <= 1e-17 * d * sum {
            return Some(sum);
        }
        term *= (b + t) / (a + b + t) * discount;
        sum += term;
        t += 1.0;
    }
    None
}

/// Whether ₂F₁(1, e; e+α; 1/(1+d)), the DEL and DERL of the sBG, loses more
/// than about 1e-12 of its value to the transformations it takes near z = 1:
/// they carry a factor (1−z)^{α−1} in logarithms of size α |ln(d/(1+d))|
/// (α = 7.5e5 at d = 1e-12: 2e7, which left 2e-8 of a DEL of 13.7). The
/// Euler–Maclaurin sum of the default method, from exact survival ratios,
/// serves there instead.
fn transformed_2f1_loses_digits(a: f64, d: f64) -> bool {
    a * (d / (1.0 + d)).ln().abs() > 1e4
}

/// Below this many steps, Γ ratios are products (the paper's recursions).
const EXACT_STEPS: f64 = 16.0;

/// G(x, m) = ln Γ(x+m) − ln Γ(x) with its first two derivatives in x, for an
/// integer m ≥ 0.
fn ln_rising(x: f64, m: f64) -> (f64, f64, f64) {
    if m <= EXACT_STEPS {
        let (mut g, mut g1, mut g2) = (0.0, 0.0, 0.0);
        let mut i = 0.0;
        while i < m {
            let inv = 1.0 / (x + i);
            g += (x + i).ln();
            g1 += inv;
            g2 -= inv * inv;
            i += 1.0;
        }
        (g, g1, g2)
    } else {
        (
            ln_gamma_diff(x + m, x),
            digamma(x + m) - digamma(x),
            trigamma(x + m) - trigamma(x),
        )
    }
}

impl ShiftedBetaGeometric {
    /// Builds the model, checking that both parameters are positive and finite.
    ///
    /// FH (2007), "regular" customers, years 0..7: α = 0.704, β = 1.182.
    ///
    /// ```
    /// use retentionkit::contractual::RetentionModel;
    /// use retentionkit::sbg::ShiftedBetaGeometric;
    /// let m = ShiftedBetaGeometric::new(0.704, 1.182)?;
    /// // r(1) = β/(α+β).
    /// assert!((m.retention_rate(1.0) - 1.182 / 1.886).abs() < 1e-12);
    /// assert!(m.expected_lifetime().is_infinite()); // α ≤ 1
    /// assert!(ShiftedBetaGeometric::new(0.0, 1.0).is_err());
    /// # Ok::<(), retentionkit::Error>(())
    /// ```
    pub fn new(alpha: f64, beta: f64) -> Result<Self> {
        check_positive(Self::PARAM_NAMES, &[alpha, beta])?;
        Ok(Self { alpha, beta })
    }

    /// ln of one cell's likelihood with its gradient and Hessian [αα, αβ, ββ]:
    /// ln P(T = t) when `churned`, else ln S(t).
    fn cell(&self, t: f64, churned: bool) -> (f64, [f64; 2], [f64; 3]) {
        let (a, b) = (self.alpha, self.beta);
        // ln P(T=t) = ln α + G(β, t−1) − G(α+β, t);  ln S(t) = G(β, t) − G(α+β, t).
        let (gb, gb1, gb2) = ln_rising(b, if churned { t - 1.0 } else { t });
        let (gab, gab1, gab2) = ln_rising(a + b, t);
        let (la, la1, la2) = if churned {
            (a.ln(), 1.0 / a, -1.0 / (a * a))
        } else {
            (0.0, 0.0, 0.0)
        };
        // Beyond the exact products, ln S(t) = G(β+t) − G(β) with G(y) =
        // ln Γ(y) − ln Γ(y+α), taken as one step with t exact (accurate for
        // durations so long that β + t rounds, and without the cancellation
        // of two G values of size α ln α when α is in the millions), and
        // P(T = t) = S(t−1) α/(α+β+t−1).
        let value = if t <= EXACT_STEPS {
            la + gb - gab
        } else if churned {
            la + ln_gamma_ratio_step(b, t - 1.0, a) - (a + b + t - 1.0).ln()
        } else {
            ln_gamma_ratio_step(b, t, a)
        };
        (
            value,
            [la1 - gab1, gb1 - gab1],
            [la2 - gab2, -gab2, gb2 - gab2],
        )
    }
}

impl ShiftedBetaGeometric {
    /// The parameter names, in the order of [`Self::from_slice`].
    pub const PARAM_NAMES: &'static [&'static str] = &["alpha", "beta"];

    /// Builds the model from values in the order of [`Self::PARAM_NAMES`],
    /// checking their domain.
    pub fn from_slice(values: &[f64]) -> Result<Self> {
        check_positive(Self::PARAM_NAMES, values)?;
        Ok(Self {
            alpha: values[0],
            beta: values[1],
        })
    }

    /// First shape of the beta distribution of churn probabilities θ.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Second shape of the beta distribution of churn probabilities θ.
    pub fn beta(&self) -> f64 {
        self.beta
    }
}

impl Model for ShiftedBetaGeometric {
    type Data = RetentionData;
    const NAME: &'static str = "ShiftedBetaGeometric";

    crate::models::params::fixed_positive_params!();

    fn to_vec(&self) -> Vec<f64> {
        vec![self.alpha, self.beta]
    }

    /// The log-likelihood summed over the cells, with analytic derivatives.
    fn evaluate(&self, data: &RetentionData, derivatives: Derivatives) -> Evaluation {
        let (mut value, mut g, mut h) = (0.0, [0.0; 2], [0.0; 3]);
        for i in 0..data.len() {
            if data.duration[i] == 0.0 {
                continue; // ln S(0) = 0
            }
            let w = data.weight[i];
            let (v, cg, ch) = self.cell(data.duration[i], data.churned[i]);
            value += w * v;
            for k in 0..2 {
                g[k] += w * cg[k];
            }
            for k in 0..3 {
                h[k] += w * ch[k];
            }
        }
        Evaluation {
            value,
            gradient: if derivatives >= Derivatives::Gradient {
                g.to_vec()
            } else {
                Vec::new()
            },
            hessian: if derivatives == Derivatives::Hessian {
                vec![h[0], h[1], h[1], h[2]]
            } else {
                Vec::new()
            },
        }
    }

    /// E\[θ\] = α/(α+β) from the first-period churn rate, with α + β = 2.
    fn initial_params(&self, data: &RetentionData) -> Vec<f64> {
        let p = data.first_period_churn().clamp(0.02, 0.98);
        vec![2.0 * p, 2.0 * (1.0 - p)]
    }
}

impl RetentionModel for ShiftedBetaGeometric {
    fn theta_shapes(&self) -> (f64, f64) {
        (self.alpha, self.beta)
    }

    fn ln_survival(&self, t: f64) -> f64 {
        self.cell(t, false).0
    }

    /// P(T = t) = B(α+1, β+t−1)/B(α, β), the recursion multiplied out.
    fn probability_of_churn_at(&self, t: f64) -> f64 {
        self.cell(t, true).0.exp()
    }

    /// r(t) = (β+t−1)/(α+β+t−1).
    fn retention_rate(&self, t: f64) -> f64 {
        (self.beta + t - 1.0) / (self.alpha + self.beta + t - 1.0)
    }

    fn period_churn_probability(&self, theta: f64, _t: f64) -> f64 {
        theta
    }

    /// E\[T\] = E[1/θ] = (α+β−1)/(α−1), infinite for α ≤ 1.
    fn expected_lifetime(&self) -> f64 {
        if self.alpha <= 1.0 {
            f64::INFINITY
        } else {
            (self.alpha + self.beta - 1.0) / (self.alpha - 1.0)
        }
    }

    /// FH (2010) eq. (6): (β+n)/(α+β+n) ₂F₁(1, β+n+1; α+β+n+1; 1/(1+d)).
    ///
    /// ₂F₁ takes 1 − z = d/(1+d) exactly (not 1 − z rounded, which for tiny d
    /// keeps few digits); where its bounded series cannot evaluate it (huge
    /// α, β with d tiny), the series of the default method is summed instead.
    fn discounted_expected_residual_lifetime(&self, d: f64, n: f64) -> Result<f64> {
        let (a, b) = (self.alpha, self.beta);
        if let Some(value) = short_derl_series(a, b, d, n) {
            return Ok(value);
        }
        if !transformed_2f1_loses_digits(a, d) {
            let f = hyp2f1_with_y(1.0, b + n + 1.0, a + b + n + 1.0, d);
            let value = (b + n) / (a + b + n) * f;
            if value.is_finite() {
                return Ok(value);
            }
        }
        let lambda = d.ln_1p();
        crate::special::tail_sum::discounted_smooth_series(
            |j| self.ln_survival_ratio(n + j, n) - lambda * (j - 1.0),
            lambda,
        )
    }

    /// ln S(t) − ln S(n) = ln[Γ(β+t)/Γ(β+n)] − ln[Γ(α+β+t)/Γ(α+β+n)] for
    /// real t ≥ n, without cancelling.
    fn ln_survival_ratio(&self, t: f64, n: f64) -> f64 {
        ln_gamma_ratio_step(self.beta + n, t - n, self.alpha)
    }

    /// DEL(d) = ₂F₁(1, β; α+β; 1/(1+d)) (FH 2010), or 1 + DERL(d, 0)/(1+d)
    /// where the series of DERL is short (α large next to β, or d not small)
    /// or that ₂F₁ cannot be evaluated.
    fn discounted_expected_lifetime(&self, d: f64) -> Result<f64> {
        let (a, b) = (self.alpha, self.beta);
        if let Some(derl) = short_derl_series(a, b, d, 0.0) {
            return Ok(1.0 + derl / (1.0 + d));
        }
        if !transformed_2f1_loses_digits(a, d) {
            let value = hyp2f1_with_y(1.0, b, a + b, d);
            if value.is_finite() {
                return Ok(value);
            }
        }
        Ok(1.0 + self.discounted_expected_residual_lifetime(d, 0.0)? / (1.0 + d))
    }
}

impl ShiftedBetaGeometric {
    /// One subscriber's ln P(T = t) (`churned`) or ln S(t) with its gradient
    /// and Hessian [αα, αβ, ββ] in (α, β), for the subscriber-level models
    /// with covariates ([`crate::models::contractual::subscriber`]).
    pub(crate) fn subscriber_cell(&self, t: f64, churned: bool) -> (f64, [f64; 2], [f64; 3]) {
        self.cell(t, churned)
    }
}
