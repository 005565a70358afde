//! The BG-family log-likelihood (FHL 2005, eq. (6); Batislam et al. 2007 for
//! MBG/NBD) summed over compressed data, with its analytic gradient and
//! Hessian in one parallel pass, and the data-driven starting values.

use rayon::prelude::*;

use super::BgFamily;
use crate::data::CompressedData;
use crate::models::{Accumulator, Derivatives, Evaluation};
use crate::special::{digamma, ln_gamma, trigamma};

/// Per-evaluation terms that depend only on x.
struct XTerms {
    r_plus_x: f64,
    ln_b_x_1: f64,
    inv_b_x_1: f64,
}

type Acc = Accumulator<4>;

const CHUNK: usize = 4096;

impl BgFamily {
    pub(crate) fn initial_params(data: &CompressedData) -> Vec<f64> {
        let w = data.total_weight;
        let mean_x = data
            .frequency
            .iter()
            .zip(&data.weight)
            .map(|(x, w)| x * w)
            .sum::<f64>()
            / w;
        let mean_t = data
            .age
            .iter()
            .zip(&data.weight)
            .map(|(t, w)| t * w)
            .sum::<f64>()
            / w;
        // r = 1 and a purchase rate near the observed repeat rate.
        let alpha = (mean_t / mean_x.max(0.1)).clamp(1e-6, 1e12);
        vec![1.0, alpha, 1.0, 2.0]
    }

    pub(crate) fn evaluate(&self, data: &CompressedData, derivatives: Derivatives) -> Evaluation {
        let BgFamily {
            r,
            alpha,
            a,
            b,
            modified,
        } = *self;
        let sh = self.shift();
        let want_grad = derivatives >= Derivatives::Gradient;
        let want_hess = derivatives == Derivatives::Hessian;
        // Terms depending only on x: A₁ + A₂ (except r ln α, added once below),
        // weighted by the total weight of each x group.
        let (ln_g_r, ln_g_b, ln_g_ab) = (ln_gamma(r), ln_gamma(b), ln_gamma(a + b));
        let (dg_r, dg_b, dg_ab) = if want_grad {
            (digamma(r), digamma(b), digamma(a + b))
        } else {
            (0.0, 0.0, 0.0)
        };
        let (tg_r, tg_b, tg_ab) = if want_hess {
            (trigamma(r), trigamma(b), trigamma(a + b))
        } else {
            (0.0, 0.0, 0.0)
        };
        let mut total = Acc::ZERO;
        let mut x_terms = Vec::with_capacity(data.distinct_x().len());
        for (&x, &w) in data.distinct_x().iter().zip(data.weight_by_x()) {
            let value = ln_gamma(r + x) - ln_g_r + ln_g_ab + ln_gamma(b + x + sh)
                - ln_g_b
                - ln_gamma(a + b + x + sh);
            total.value += w * value;
            if want_grad {
                let (d_rx, d_bx, d_abx) =
                    (digamma(r + x), digamma(b + x + sh), digamma(a + b + x + sh));
                total.grad[0] += w * (d_rx - dg_r);
                total.grad[2] += w * (dg_ab - d_abx);
                total.grad[3] += w * (dg_ab + d_bx - dg_b - d_abx);
                if want_hess {
                    let (t_rx, t_bx, t_abx) = (
                        trigamma(r + x),
                        trigamma(b + x + sh),
                        trigamma(a + b + x + sh),
                    );
                    total.hess[0][0] += w * (t_rx - tg_r);
                    let ab = w * (tg_ab - t_abx);
                    total.hess[2][2] += ab;
                    total.hess[2][3] += ab;
                    total.hess[3][2] += ab;
                    total.hess[3][3] += w * (tg_ab + t_bx - tg_b - t_abx);
                }
            }
            x_terms.push(XTerms {
                r_plus_x: r + x,
                ln_b_x_1: if x > 0.0 || modified {
                    (b + x - 1.0 + sh).ln()
                } else {
                    0.0
                },
                inv_b_x_1: if x > 0.0 || modified {
                    1.0 / (b + x - 1.0 + sh)
                } else {
                    0.0
                },
            });
        }
        // r ln α over every customer.
        total.value += data.total_weight * r * alpha.ln();
        if want_grad {
            total.grad[0] += data.total_weight * alpha.ln();
            total.grad[1] += data.total_weight * r / alpha;
            if want_hess {
                total.hess[0][1] += data.total_weight / alpha;
                total.hess[1][0] += data.total_weight / alpha;
                total.hess[1][1] -= data.total_weight * r / (alpha * alpha);
            }
        }
        let ln_a = a.ln();
        let inv_a = 1.0 / a;
        let rows = data.len();
        let per_row = (0..rows.div_ceil(CHUNK))
            .into_par_iter()
            .map(|chunk| {
                let mut acc = Acc::ZERO;
                let end = ((chunk + 1) * CHUNK).min(rows);
                for i in chunk * CHUNK..end {
                    let w = data.weight[i];
                    let xt = &x_terms[data.x_index()[i] as usize];
                    let rx = xt.r_plus_x;
                    let inv_at = 1.0 / (alpha + data.age[i]);
                    let ln_at = (alpha + data.age[i]).ln();
                    let a3 = -rx * ln_at;
                    if !modified && data.frequency[i] == 0.0 {
                        acc.value += w * a3;
                        if want_grad {
                            acc.grad[0] -= w * ln_at;
                            acc.grad[1] -= w * rx * inv_at;
                            if want_hess {
                                acc.hess[0][1] -= w * inv_at;
                                acc.hess[1][1] += w * rx * inv_at * inv_at;
                            }
                        }
                        continue;
                    }
                    let inv_atx = 1.0 / (alpha + data.recency[i]);
                    let ln_atx = (alpha + data.recency[i]).ln();
                    let a4 = ln_a - xt.ln_b_x_1 - rx * ln_atx;
                    // ln(e^{A₃} + e^{A₄}) and the weight e^{A₄}/(e^{A₃} + e^{A₄})
                    // from one exponential.
                    let d = a4 - a3;
                    let e = (-d.abs()).exp();
                    acc.value += w * (a3 + d.max(0.0) + e.ln_1p());
                    if !want_grad {
                        continue;
                    }
                    let w4 = if d >= 0.0 {
                        1.0 / (1.0 + e)
                    } else {
                        e / (1.0 + e)
                    };
                    let w3 = 1.0 - w4;
                    let g3 = [-ln_at, -rx * inv_at, 0.0, 0.0];
                    let g4 = [-ln_atx, -rx * inv_atx, inv_a, -xt.inv_b_x_1];
                    for k in 0..4 {
                        acc.grad[k] += w * (w3 * g3[k] + w4 * g4[k]);
                    }
                    if want_hess {
                        let ww = w * w3 * w4;
                        let diff = [g3[0] - g4[0], g3[1] - g4[1], g3[2] - g4[2], g3[3] - g4[3]];
                        for k in 0..4 {
                            for l in k..4 {
                                acc.hess[k][l] += ww * diff[k] * diff[l];
                            }
                        }
                        acc.hess[0][1] -= w * (w3 * inv_at + w4 * inv_atx);
                        acc.hess[1][1] += w * rx * (w3 * inv_at * inv_at + w4 * inv_atx * inv_atx);
                        acc.hess[2][2] -= w * w4 * inv_a * inv_a;
                        acc.hess[3][3] += w * w4 * xt.inv_b_x_1 * xt.inv_b_x_1;
                    }
                }
                acc
            })
            .reduce(|| Acc::ZERO, Acc::add);
        // The per-row loop fills the upper triangle only (except the symmetric
        // entries set above): mirror it.
        let mut h = per_row.hess;
        for (k, l) in [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)] {
            h[k][l] = h[l][k];
        }
        let total = total.add(Acc {
            value: per_row.value,
            grad: per_row.grad,
            hess: h,
        });
        total.into_evaluation(derivatives)
    }
}

impl BgFamily {
    /// ln Lᵢ of one customer with its gradient and Hessian in (r, α, a, b):
    /// the terms [`BgFamily::evaluate`] sums, for the covariate models, where
    /// every customer has parameters of their own. Exactly 0 for
    /// x = t_x = T = 0 (a customer without information).
    pub(crate) fn customer_term(
        &self,
        x: f64,
        t_x: f64,
        age: f64,
        order: u8,
    ) -> crate::models::covariates::CustomerTerm {
        let sr = crate::models::covariates::ln_gamma_shift(self.r, x, order);
        self.customer_term_with(x, t_x, age, order, sr, self.alpha.ln(), self.a.ln())
    }

    /// [`crate::models::covariates::CovariateModel::customer_log_terms`] of
    /// the BG family: each customer's parameters computed only where the
    /// history needs them (a BG/NBD customer without repeat purchases needs
    /// neither a nor b, about half the customers of a typical log), ln α and
    /// ln a taken from the exponents, and ln Γ(r+x) − ln Γ(r) and its
    /// r-derivatives shared by neighbours with one x (covariates leave r
    /// alone, and the rows are sorted on x).
    pub(crate) fn customer_log_terms(
        modified: bool,
        batch: &crate::models::covariates::ScaledBatch<'_>,
        order: u8,
        out: &mut [crate::models::covariates::CustomerTerm],
        valid: &mut [bool],
    ) {
        let mut shared: Option<(f64, f64, [f64; 3])> = None;
        let rows = batch.histories.chunks_exact(3).zip(out).zip(valid);
        for (i, ((h, slot), ok)) in rows.enumerate() {
            let x = h[0];
            let r = batch.value(i, 0);
            let alpha = batch.value(i, 1);
            let ab_needed = modified || x > 0.0;
            let (a, b) = if ab_needed {
                (batch.value(i, 2), batch.value(i, 3))
            } else {
                (batch.base[2], batch.base[3]) // not read
            };
            let in_range = |j: usize, v: f64| {
                if ab_needed || j < 2 {
                    v > 0.0 && v.is_finite()
                } else {
                    batch.in_range(i, j)
                }
            };
            *ok = [r, alpha, a, b]
                .iter()
                .enumerate()
                .all(|(j, &v)| in_range(j, v));
            if !*ok {
                continue;
            }
            let sr = match shared {
                Some((same_r, same_x, sr)) if same_r == r && same_x == x => sr,
                _ => {
                    let sr = crate::models::covariates::ln_gamma_shift(r, x, order);
                    shared = Some((r, x, sr));
                    sr
                }
            };
            let model = BgFamily {
                r,
                alpha,
                a,
                b,
                modified,
            };
            *slot = model.customer_term_with(
                x,
                h[1],
                h[2],
                order,
                sr,
                batch.ln_value(i, 1),
                batch.ln_value(i, 2),
            );
            slot.to_log_coordinates(&[r, alpha, a, b], order);
        }
    }

    /// [`Self::customer_term`] with `sr` = ln Γ(r+x) − ln Γ(r) and its first
    /// two r-derivatives ([`crate::models::covariates::ln_gamma_shift`]),
    /// and ln α and ln a (a is read only where x > 0 or the model is the
    /// MBG/NBD).
    #[allow(clippy::too_many_arguments)]
    fn customer_term_with(
        &self,
        x: f64,
        t_x: f64,
        age: f64,
        order: u8,
        sr: [f64; 3],
        ln_alpha: f64,
        ln_a: f64,
    ) -> crate::models::covariates::CustomerTerm {
        use crate::models::covariates::CustomerTerm;
        if age == 0.0 && x == 0.0 {
            return CustomerTerm::ZERO;
        }
        let BgFamily {
            r,
            alpha,
            a,
            b,
            modified,
        } = *self;
        let sh = self.shift();
        let mut out = CustomerTerm::ZERO;
        // The terms in x only (as finite sums, see `ln_gamma_shift`), and r ln α.
        // ln B(a, b+x+s) − ln B(a, b) with its ψ (index 0: of b, 1: of a+b).
        let (beta, psi, psi1) = crate::models::covariates::ln_beta_shift(a, b, x + sh, order);
        out.value = sr[0] + beta + r * ln_alpha;
        if order >= 1 {
            out.grad[0] = sr[1] + ln_alpha;
            out.grad[1] = r / alpha;
            out.grad[2] = -psi[1];
            out.grad[3] = psi[0] - psi[1];
            if order >= 2 {
                out.hess[0][0] = sr[2];
                out.hess[0][1] = 1.0 / alpha;
                out.hess[1][0] = 1.0 / alpha;
                out.hess[1][1] = -r / (alpha * alpha);
                out.hess[2][2] = -psi1[1];
                out.hess[2][3] = -psi1[1];
                out.hess[3][2] = -psi1[1];
                out.hess[3][3] = psi1[0] - psi1[1];
            }
        }
        let rx = r + x;
        let inv_at = 1.0 / (alpha + age);
        let ln_at = (alpha + age).ln();
        let a3 = -rx * ln_at;
        let g3 = [-ln_at, -rx * inv_at, 0.0, 0.0];
        if !modified && x == 0.0 {
            out.value += a3;
            if order >= 1 {
                out.grad[0] += g3[0];
                out.grad[1] += g3[1];
            }
            if order >= 2 {
                out.hess[0][1] -= inv_at;
                out.hess[1][0] -= inv_at;
                out.hess[1][1] += rx * inv_at * inv_at;
            }
            return out;
        }
        // ln(e^{A₃} + e^{A₄}), A₄ = ln a − ln(b + x − 1 + shift) − (r+x) ln(α + t_x).
        let inv_b_x_1 = 1.0 / (b + x - 1.0 + sh);
        let inv_atx = 1.0 / (alpha + t_x);
        let ln_atx = (alpha + t_x).ln();
        let a4 = ln_a - (b + x - 1.0 + sh).ln() - rx * ln_atx;
        let d = a4 - a3;
        let e = (-d.abs()).exp();
        out.value += a3 + d.max(0.0) + e.ln_1p();
        if order == 0 {
            return out;
        }
        let w4 = if d >= 0.0 {
            1.0 / (1.0 + e)
        } else {
            e / (1.0 + e)
        };
        let w3 = 1.0 - w4;
        let g4 = [-ln_atx, -rx * inv_atx, 1.0 / a, -inv_b_x_1];
        for k in 0..4 {
            out.grad[k] += w3 * g3[k] + w4 * g4[k];
        }
        if order >= 2 {
            let ww = w3 * w4;
            for k in 0..4 {
                for l in 0..4 {
                    out.hess[k][l] += ww * (g3[k] - g4[k]) * (g3[l] - g4[l]);
                }
            }
            let h01 = -(w3 * inv_at + w4 * inv_atx);
            out.hess[0][1] += h01;
            out.hess[1][0] += h01;
            out.hess[1][1] += rx * (w3 * inv_at * inv_at + w4 * inv_atx * inv_atx);
            out.hess[2][2] -= w4 / (a * a);
            out.hess[3][3] += w4 * inv_b_x_1 * inv_b_x_1;
        }
        out
    }
}
