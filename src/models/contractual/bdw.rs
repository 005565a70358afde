//! BdW: the beta-discrete-Weibull model of contractual retention, the sBG
//! with duration dependence.
//!
//! Source: Fader, P. S., Hardie, B. G. S., Liu, Y., Davin, J. & Steenburgh,
//! T. (2018), "'How to Project Customer Retention' Revisited: The Role of
//! Duration Dependence", Journal of Interactive Marketing 43, 1–16.
//!
//! An individual's survival is discrete Weibull, P(T > t | θ) = (1−θ)^{t^c},
//! so her churn probability in period t is 1 − (1−θ)^{t^c − (t−1)^c}:
//! falling over time when c < 1, rising when c > 1, constant (the sBG) when
//! c = 1. With θ ~ Beta(α, β),
//!
//! ```text
//! S(t)     = B(α, β + t^c) / B(α, β)
//! P(T = t) = S(t−1) − S(t)
//! r(t)     = S(t)/S(t−1)
//! ```
//!
//! ln S(t) = ln Γ(β+t^c) − ln Γ(α+β+t^c) − ln Γ(β) + ln Γ(α+β), so the
//! log-likelihood's derivatives follow from digamma and trigamma, with the
//! chain rule through x = t^c: ∂x/∂c = x ln t, ∂²x/∂c² = x (ln t)². A churn
//! term ln P(T = t) = ln S(t−1) + ln(1 − S(t)/S(t−1)) is differentiated as the
//! log of a difference of exponentials. Timing and data conventions are those
//! of [`crate::models::contractual`].
//!
//! E\[T\] is finite only for cα > 1 (S(t) ~ t^{−cα}); it is summed numerically.
//! DEL and DERL have no closed form here and are summed (module
//! [`crate::models::contractual`]).

use crate::data::RetentionData;
use crate::error::Result;
use crate::fit::{fit, FitOptions};
use crate::models::contractual::sbg::ShiftedBetaGeometric;
use crate::models::contractual::RetentionModel;
use crate::models::params::check_positive;
use crate::models::{Derivatives, Evaluation, Model};
use crate::special::tail_sum::power_tail_series;
use crate::special::{digamma, ln_gamma_ratio, ln_gamma_ratio_step, trigamma};

/// BdW parameters (α, β, c), all positive: θ ~ Beta(α, β), Weibull shape c.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetaDiscreteWeibull {
    /// First shape of the beta distribution of θ.
    alpha: f64,
    /// Second shape of the beta distribution of θ.
    beta: f64,
    /// Duration dependence: c < 1 falling, c > 1 rising individual churn.
    c: f64,
}

type Grad = [f64; 3];
type Hess = [[f64; 3]; 3];

/// The parts of ln S(t) and its derivatives that do not depend on t.
struct Constants {
    value: f64,
    psi_ab: f64,
    psi_b: f64,
    tri_ab: f64,
    tri_b: f64,
}

impl BetaDiscreteWeibull {
    /// Builds the model, checking that every parameter is positive and finite.
    ///
    /// ```
    /// use retentionkit::bdw::BetaDiscreteWeibull;
    /// use retentionkit::contractual::RetentionModel;
    /// use retentionkit::sbg::ShiftedBetaGeometric;
    /// let bdw = BetaDiscreteWeibull::new(0.704, 1.182, 1.0)?;
    /// let sbg = ShiftedBetaGeometric::new(0.704, 1.182)?;
    /// assert!((bdw.survival(5.0) - sbg.survival(5.0)).abs() < 1e-12); // c = 1 is the sBG
    /// assert!(BetaDiscreteWeibull::new(1.0, 1.0, -0.5).is_err());
    /// # Ok::<(), retentionkit::Error>(())
    /// ```
    pub fn new(alpha: f64, beta: f64, c: f64) -> Result<Self> {
        check_positive(Self::PARAM_NAMES, &[alpha, beta, c])?;
        Ok(Self { alpha, beta, c })
    }

    fn constants(&self, derivatives: Derivatives) -> Constants {
        let (a, b) = (self.alpha, self.beta);
        let want_grad = derivatives >= Derivatives::Gradient;
        let want_hess = derivatives == Derivatives::Hessian;
        Constants {
            value: -ln_gamma_ratio(b, a),
            psi_ab: if want_grad { digamma(a + b) } else { 0.0 },
            psi_b: if want_grad { digamma(b) } else { 0.0 },
            tri_ab: if want_hess { trigamma(a + b) } else { 0.0 },
            tri_b: if want_hess { trigamma(b) } else { 0.0 },
        }
    }

    /// ln S(s) with gradient and Hessian in (α, β, c).
    fn ln_s(&self, s: f64, k: &Constants, derivatives: Derivatives) -> (f64, Grad, Hess) {
        let (mut g, mut h) = ([0.0; 3], [[0.0; 3]; 3]);
        if s == 0.0 {
            return (0.0, g, h);
        }
        let (a, b) = (self.alpha, self.beta);
        let ln_s = s.ln();
        let x = (self.c * ln_s).exp();
        // G(β+x) − G(β), G(y) = ln Γ(y) − ln Γ(y+α), as one step: two G values
        // of size α ln β cancel to 1e-8 relative where S(s) is near 1 (β in
        // the millions) or α is in the millions.
        let value = if x.is_finite() {
            ln_gamma_ratio_step(b, x, a)
        } else {
            ln_gamma_ratio(b + x, a) + k.value
        };
        if derivatives >= Derivatives::Gradient {
            let psi_a = digamma(a + b + x);
            let d1 = digamma(b + x) - psi_a;
            let (xc, xcc) = (x * ln_s, x * ln_s * ln_s);
            g = [k.psi_ab - psi_a, d1 + k.psi_ab - k.psi_b, d1 * xc];
            if derivatives == Derivatives::Hessian {
                let tri_a = trigamma(a + b + x);
                let d2 = trigamma(b + x) - tri_a;
                let aa = k.tri_ab - tri_a;
                h = [
                    [aa, aa, -tri_a * xc],
                    [aa, d2 + k.tri_ab - k.tri_b, d2 * xc],
                    [-tri_a * xc, d2 * xc, d2 * xc * xc + d1 * xcc],
                ];
            }
        }
        (value, g, h)
    }

    /// ln of one cell's likelihood with derivatives: ln P(T = t) when
    /// `churned`, else ln S(t).
    fn cell(
        &self,
        t: f64,
        churned: bool,
        k: &Constants,
        derivatives: Derivatives,
    ) -> (f64, Grad, Hess) {
        let (l2, g2, h2) = self.ln_s(t, k, derivatives);
        if !churned {
            return (l2, g2, h2);
        }
        let (l1, g1, h1) = self.ln_s(t - 1.0, k, derivatives);
        // ln(e^{l1} − e^{l2}) = l1 + ln(1 − r), r = e^{l2 − l1}, with l2 − l1
        // taken without cancelling (it is tiny when c is small or β huge).
        let diff = self.ln_survival_ratio(t, t - 1.0);
        let value = l1 + (-diff.exp_m1()).ln();
        let (mut g, mut h) = ([0.0; 3], [[0.0; 3]; 3]);
        if derivatives >= Derivatives::Gradient {
            // With F = e^{l1} − e^{l2}: ∇F/F = w1 g1 − w2 g2 and
            // ∇²F/F = w1 (H1 + g1 g1ᵀ) − w2 (H2 + g2 g2ᵀ).
            let one_minus_r = -diff.exp_m1();
            let w1 = 1.0 / one_minus_r;
            let w2 = diff.exp() / one_minus_r;
            for i in 0..3 {
                g[i] = w1 * g1[i] - w2 * g2[i];
            }
            if derivatives == Derivatives::Hessian {
                for i in 0..3 {
                    for j in 0..3 {
                        h[i][j] = w1 * (h1[i][j] + g1[i] * g1[j])
                            - w2 * (h2[i][j] + g2[i] * g2[j])
                            - g[i] * g[j];
                    }
                }
            }
        }
        (value, g, h)
    }
}

impl BetaDiscreteWeibull {
    /// The parameter names, in the order of [`Self::from_slice`].
    pub const PARAM_NAMES: &'static [&'static str] = &["alpha", "beta", "c"];

    /// Builds the model from values in the order of [`Self::PARAM_NAMES`],
    /// checking their domain.
    pub fn from_slice(values: &[f64]) -> Result<Self> {
        check_positive(Self::PARAM_NAMES, values)?;
        Ok(Self {
            alpha: values[0],
            beta: values[1],
            c: values[2],
        })
    }

    /// First shape of the beta distribution of θ.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Second shape of the beta distribution of θ.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// Duration dependence: c < 1 falling, c > 1 rising individual churn.
    pub fn c(&self) -> f64 {
        self.c
    }
}

impl Model for BetaDiscreteWeibull {
    type Data = RetentionData;
    const NAME: &'static str = "BetaDiscreteWeibull";

    crate::models::params::fixed_positive_params!();

    fn to_vec(&self) -> Vec<f64> {
        vec![self.alpha, self.beta, self.c]
    }

    /// The log-likelihood of the cells with analytic derivatives.
    fn evaluate(&self, data: &RetentionData, derivatives: Derivatives) -> Evaluation {
        let k = self.constants(derivatives);
        let (mut value, mut g, mut h) = (0.0, [0.0; 3], [[0.0; 3]; 3]);
        for i in 0..data.len() {
            if data.duration[i] == 0.0 {
                continue; // ln S(0) = 0
            }
            let w = data.weight[i];
            let (v, cg, ch) = self.cell(data.duration[i], data.churned[i], &k, derivatives);
            value += w * v;
            for a in 0..3 {
                g[a] += w * cg[a];
                for b in 0..3 {
                    h[a][b] += w * ch[a][b];
                }
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
                h.iter().flatten().copied().collect()
            } else {
                Vec::new()
            },
        }
    }

    /// The sBG fit (c = 1) when it succeeds, else the sBG's starting values.
    fn initial_params(&self, data: &RetentionData) -> Vec<f64> {
        let options = FitOptions {
            require_convergence: false,
            ..FitOptions::default()
        };
        let start = fit::<ShiftedBetaGeometric>(data, &options)
            .map(|f| f.params())
            .ok()
            .filter(|p| p.iter().all(|v| v.is_finite() && (1e-4..1e4).contains(v)))
            .unwrap_or_else(|| ShiftedBetaGeometric::template(data).initial_params(data));
        vec![start[0], start[1], 1.0]
    }
}

impl RetentionModel for BetaDiscreteWeibull {
    fn theta_shapes(&self) -> (f64, f64) {
        (self.alpha, self.beta)
    }

    fn ln_survival(&self, t: f64) -> f64 {
        if t == 0.0 {
            return 0.0;
        }
        let x = t.powf(self.c);
        let (a, b) = (self.alpha, self.beta);
        if x.is_infinite() {
            // ln Γ(β+x) − ln Γ(α+β+x) = −α ln x + O(1/x), ln x = c ln t.
            return -a * self.c * t.ln() - ln_gamma_ratio(b, a);
        }
        // G(β+x) − G(β), G(y) = ln Γ(y) − ln Γ(y+α), as one step: two G values
        // of size α ln α would cancel to 1e-8 relative for α in the millions.
        ln_gamma_ratio_step(b, x, a)
    }

    /// ln S(t) − ln S(n) = ln[Γ(β+x₁)/Γ(β+x₀)] − ln[Γ(α+β+x₁)/Γ(α+β+x₀)]
    /// with xᵢ = tᶜ, nᶜ, taken without cancelling
    /// ([`crate::special::ln_gamma_ratio_step`], with the step tᶜ − nᶜ exact); when tᶜ
    /// overflows, the leading term −α c ln(t/n) of the asymptotic expansion
    /// (exact to O(αβ/x₀), nothing next to that magnitude).
    fn ln_survival_ratio(&self, t: f64, n: f64) -> f64 {
        let (a, b, c) = (self.alpha, self.beta, self.c);
        let (x1, x0) = (t.powf(c), n.powf(c));
        if x1.is_finite() {
            // The step tᶜ − nᶜ = nᶜ expm1(c ln(t/n)), exact even when c is small
            // and the two powers agree to many digits.
            let step = if n > 0.0 {
                x0 * (c * ((t - n) / n).ln_1p()).exp_m1()
            } else {
                x1
            };
            return ln_gamma_ratio_step(b + x0, step, a);
        }
        if n > 0.0 {
            -a * c * ((t - n) / n).ln_1p()
        } else {
            self.ln_survival(t)
        }
    }

    /// 1 − (1−θ)^{t^c − (t−1)^c}.
    fn period_churn_probability(&self, theta: f64, t: f64) -> f64 {
        let exponent = t.powf(self.c) - (t - 1.0).powf(self.c);
        -(exponent * (-theta).ln_1p()).exp_m1()
    }

    /// tᶜ: P(T > t | θ) = (1−θ)^{tᶜ}.
    fn individual_survival_exponent(&self, t: f64) -> f64 {
        t.powf(self.c)
    }

    fn inverse_survival_exponent(&self, value: f64) -> f64 {
        value.powf(1.0 / self.c)
    }

    /// Σ_{t≥0} S(t) for cα > 1 (Euler–Maclaurin tail, relative accuracy about
    /// 1e-9), infinite otherwise.
    fn expected_lifetime(&self) -> f64 {
        let p = self.c * self.alpha;
        if p <= 1.0 {
            return f64::INFINITY;
        }
        power_tail_series(|t| self.survival(t), p)
    }
}

impl BetaDiscreteWeibull {
    /// One subscriber's ln P(T = t) (`churned`) or ln S(t) with its gradient
    /// and Hessian in (α, β, c), for the subscriber-level models with
    /// covariates ([`crate::models::contractual::subscriber`]).
    pub(crate) fn subscriber_cell(
        &self,
        t: f64,
        churned: bool,
        derivatives: Derivatives,
    ) -> (f64, Grad, Hess) {
        let k = self.constants(derivatives);
        self.cell(t, churned, &k, derivatives)
    }
}
