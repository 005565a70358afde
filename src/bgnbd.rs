//! BG/NBD: the beta-geometric / negative binomial distribution model.
//!
//! Source: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "'Counting Your
//! Customers' the Easy Way: An Alternative to the Pareto/NBD Model", Marketing
//! Science 24(2), 275–284, and the derivation notes that accompany it.
//!
//! While active, a customer buys as a Poisson process with rate λ ~ Gamma(r, α);
//! after each repeat purchase the customer drops out with probability
//! p ~ Beta(a, b). Equation numbers refer to the paper:
//! - (6) the likelihood of (x, t_x, T), written here as
//!   ln L = A₁ + A₂ + ln(e^{A₃} + δ_{x>0} e^{A₄}) with
//!   A₁ = ln Γ(r+x) − ln Γ(r) + r ln α,
//!   A₂ = ln Γ(a+b) + ln Γ(b+x) − ln Γ(b) − ln Γ(a+b+x),
//!   A₃ = −(r+x) ln(α+T),
//!   A₄ = ln a − ln(b+x−1) − (r+x) ln(α+t_x);
//! - (7) E[X(t)], (8) P(X(t) = x), (10) E[Y(t) | x, t_x, T];
//! - P(alive | x, t_x, T) = 1 / (1 + δ_{x>0} a/(b+x−1) ((α+T)/(α+t_x))^{r+x})
//!   (the paper's technical note).
//!
//! The Gauss hypergeometric functions of (7) and (10) are evaluated after
//! Euler's transformation, ₂F₁(r+x, b+x; c; z) = (1−z)^{c−r−b−2x}
//! ₂F₁(c−r−x, c−b−x; c; z) with c = a+b+x−1, which turns a series whose terms
//! overflow for large x into one whose upper parameters are a+b−1−r and a−1.
//! The factor 1/(a−1) is then cancelled analytically, so a = 1 is regular.

use rand::Rng;
use rand_distr::{Beta, Distribution, Gamma};
use rayon::prelude::*;

use crate::data::CompressedData;
use crate::error::{Error, Result};
use crate::hyperu::ZScaledHyperU;
use crate::model::{
    Accumulator, Derivatives, Evaluation, FitData, Model, SimulatedCustomer, TransactionModel,
};
use crate::predict::par_map;
use crate::special::{beta_reg, digamma, ln_gamma, log1p_exp, logistic, trigamma};

/// BG/NBD parameters (r, α, a, b), all positive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetaGeo {
    /// Shape of the gamma distribution of purchase rates.
    pub r: f64,
    /// Scale (in time units) of the gamma distribution of purchase rates.
    pub alpha: f64,
    /// First shape of the beta distribution of drop-out probabilities.
    pub a: f64,
    /// Second shape of the beta distribution of drop-out probabilities.
    pub b: f64,
}

pub(crate) fn check_positive(names: &[&str], values: &[f64]) -> Result<()> {
    if values.len() != names.len() {
        return Err(Error::ParameterCount {
            expected: names.len(),
            found: values.len(),
            names: names.join(", "),
        });
    }
    for (name, &value) in names.iter().zip(values) {
        if !(value > 0.0 && value.is_finite()) {
            return Err(Error::InvalidParameter {
                name: (*name).to_string(),
                value,
                rule: "must be positive and finite",
            });
        }
    }
    Ok(())
}

impl BetaGeo {
    /// Builds the model, checking that every parameter is positive and finite.
    ///
    /// ```
    /// use retentionkit::BetaGeo;
    /// assert!(BetaGeo::new(0.243, 4.414, 0.793, 2.426).is_ok());
    /// assert!(BetaGeo::new(-1.0, 4.414, 0.793, 2.426).is_err());
    /// ```
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<Self> {
        check_positive(Self::PARAM_NAMES, &[r, alpha, a, b])?;
        Ok(Self { r, alpha, a, b })
    }

    pub(crate) fn family(&self) -> BgFamily {
        BgFamily {
            r: self.r,
            alpha: self.alpha,
            a: self.a,
            b: self.b,
            modified: false,
        }
    }
}

/// Ratio of successive terms k+1 and k of the series S in
/// [`BgFamily::expected_if_alive`], without the factor z.
fn series_ratio(upper: f64, a: f64, c: f64, k: f64) -> f64 {
    (upper + k) * (a + k - 1.0) / ((c + k) * (k + 1.0))
}

/// Where the series of [`BgFamily::expected_if_alive`] is evaluated.
#[derive(Clone, Copy)]
struct SeriesPoint {
    z: f64,
    c: f64,
    log_one_minus_z: f64,
}

impl SeriesPoint {
    /// t = 0: z = 0 (a placeholder for arrays).
    const ORIGIN: SeriesPoint = SeriesPoint {
        z: 0.0,
        c: 1.0,
        log_one_minus_z: 0.0,
    };

    /// c/(a−1) · [1 − (1−z)^{a−1} (1 + (a−1) S)], with 1/(a−1) cancelled.
    fn finish(&self, a: f64, sum: f64) -> f64 {
        let u = (a - 1.0) * self.log_one_minus_z;
        // One exponential: eᵘ = 1 + (eᵘ − 1) is accurate to rounding while
        // eᵘ ≥ 1/e; below that, eᵘ − 1 = eᵘ − 1 loses nothing.
        let (power, growth) = if u.abs() < 1e-8 {
            (1.0 + u, 1.0 + 0.5 * u)
        } else if u >= -1.0 {
            let m = u.exp_m1();
            (1.0 + m, m / u)
        } else {
            let e = u.exp();
            (e, (e - 1.0) / u)
        };
        let bracket = -self.log_one_minus_z * growth - power * sum;
        (self.c * bracket).max(0.0)
    }
}

/// How many series ratios are tabulated per distinct x.
const SERIES_TABLE: usize = 48;

/// Prediction constants that depend only on x.
struct XSeries {
    ln_odds: f64,
    ratios: [f64; SERIES_TABLE],
}

/// [`XSeries`] for every distinct x of a batch, looked up by x.
struct XTable {
    position: Vec<u32>,
    rows: Vec<XSeries>,
}

impl XTable {
    /// `None` when x is too large for a dense lookup (the scalar path is used).
    fn new(model: &BgFamily, x: &[f64]) -> Option<Self> {
        let max_x = x.par_iter().copied().reduce(|| 0.0, f64::max);
        if max_x >= (1 << 20) as f64 {
            return None;
        }
        let max_x = max_x as usize;
        if max_x < 64 || (max_x < 4096 && max_x <= x.len() / 8) {
            // Few possible values: tabulate every x up to the largest, which
            // costs less than finding the ones present (at most 4096 rows of
            // about 400 bytes).
            return Some(Self {
                position: (0..=max_x as u32).collect(),
                rows: (0..=max_x)
                    .into_par_iter()
                    .map(|v| model.x_series(v as f64))
                    .collect(),
            });
        }
        let mut position = vec![u32::MAX; max_x + 1];
        let mut rows = Vec::new();
        for &v in x {
            let slot = &mut position[v as usize];
            if *slot == u32::MAX {
                *slot = rows.len() as u32;
                rows.push(model.x_series(v));
            }
        }
        Some(Self { position, rows })
    }

    fn row(&self, x: f64) -> &XSeries {
        &self.rows[self.position[x as usize] as usize]
    }
}

/// Per-evaluation terms that depend only on x.
struct XTerms {
    r_plus_x: f64,
    ln_b_x_1: f64,
    inv_b_x_1: f64,
}

type Acc = Accumulator<4>;

const CHUNK: usize = 4096;

impl FitData for CompressedData {
    fn rows(&self) -> usize {
        self.len()
    }
    fn total_weight(&self) -> f64 {
        self.total_weight
    }
    fn subsample(&self, step: usize) -> Self {
        self.every_nth(step)
    }
}

/// The shared machinery of BG/NBD and MBG/NBD. MBG/NBD (Batislam, Denizel &
/// Filiztekin 2007) lets a customer also drop out right after the first
/// purchase; algebraically its formulas are BG/NBD's with b + x − 1 replaced by
/// b + x in every beta function, and with the drop-out term present for x = 0.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BgFamily {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    /// MBG/NBD rather than BG/NBD.
    pub modified: bool,
}

impl BgFamily {
    /// 0 for BG/NBD, 1 for MBG/NBD.
    fn shift(&self) -> f64 {
        if self.modified {
            1.0
        } else {
            0.0
        }
    }

    /// ln of a/(b+x−1+s) ((α+T)/(α+t_x))^{r+x}, the odds of having dropped out.
    fn log_odds_dead(&self, x: f64, t_x: f64, age: f64) -> f64 {
        self.a.ln() - (self.b + x - 1.0 + self.shift()).ln()
            + (self.r + x) * ((self.alpha + age).ln() - (self.alpha + t_x).ln())
    }

    /// The bracket of (10) divided by (a − 1), times c = a+b+x−1 (b shifted by
    /// one for MBG/NBD):
    /// c/(a−1) · [1 − ((α+T)/(α+T+t))^{r+x} ₂F₁(r+x, b+x; c; t/(α+T+t))].
    fn expected_if_alive(&self, t: f64, x: f64, age: f64) -> f64 {
        self.expected_if_alive_with(t, x, age, &[])
    }

    /// As [`BgFamily::expected_if_alive`], with the first ratios of successive
    /// series terms for this x precomputed in `ratios` (see [`XSeries`]).
    fn expected_if_alive_with(&self, t: f64, x: f64, age: f64, ratios: &[f64]) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let point = self.series_point(t, x, age);
        let first = point.z * self.series_upper() / point.c;
        let sum = self.series_tail(point.z, point.c, ratios, 1, first, first);
        point.finish(self.a, sum)
    }

    /// a + b − 1 − r, the first upper parameter of the transformed series.
    fn series_upper(&self) -> f64 {
        self.a + self.b + self.shift() - 1.0 - self.r
    }

    fn series_point(&self, t: f64, x: f64, age: f64) -> SeriesPoint {
        let s = t / (self.alpha + age);
        SeriesPoint {
            z: s / (1.0 + s),
            c: self.a + self.b + self.shift() + x - 1.0,
            log_one_minus_z: -s.ln_1p(),
        }
    }

    /// S = Σ_{k≥1} (upper)_k (a)_{k−1} / ((c)_k k!) z^k continued from term k
    /// (value `term`, partial sum `sum`); successive terms differ by the factor
    /// z · ratio(k), taken from `ratios` while it lasts.
    fn series_tail(&self, z: f64, c: f64, ratios: &[f64], k: usize, term: f64, sum: f64) -> f64 {
        let (mut term, mut sum, mut k) = (term, sum, k);
        let upper = self.series_upper();
        while k < 5_000_000 {
            if term.abs() <= 1e-17 * sum.abs() || term == 0.0 {
                break;
            }
            let ratio = match ratios.get(k - 1) {
                Some(&q) => q,
                None => series_ratio(upper, self.a, c, k as f64),
            };
            term *= z * ratio;
            sum += term;
            k += 1;
        }
        sum
    }

    /// [`BgFamily::expected_if_alive_with`] for four customers in lockstep:
    /// four independent chains of multiplications keep the CPU busy where one
    /// would wait on each product.
    fn expected_if_alive_x4(
        &self,
        t: [f64; 4],
        x: [f64; 4],
        age: [f64; 4],
        rows: [&XSeries; 4],
    ) -> [f64; 4] {
        let points = [0, 1, 2, 3].map(|j| self.series_point(t[j].max(0.0), x[j], age[j]));
        let upper = self.series_upper();
        let mut term = [0, 1, 2, 3].map(|j| points[j].z * upper / points[j].c);
        let mut sum = term;
        let mut k = 1;
        while k <= SERIES_TABLE {
            for j in 0..4 {
                term[j] *= points[j].z * rows[j].ratios[k - 1];
                sum[j] += term[j];
            }
            k += 1;
            if (0..4).all(|j| term[j].abs() <= 1e-17 * sum[j].abs()) {
                break;
            }
        }
        [0, 1, 2, 3].map(|j| {
            let sum = if k > SERIES_TABLE {
                self.series_tail(
                    points[j].z,
                    points[j].c,
                    &rows[j].ratios,
                    k,
                    term[j],
                    sum[j],
                )
            } else {
                sum[j]
            };
            points[j].finish(self.a, sum)
        })
    }

    /// Per-x constants for predicting many customers at once.
    fn x_series(&self, x: f64) -> XSeries {
        let (a, b) = (self.a, self.b + self.shift());
        let c = a + b + x - 1.0;
        let upper = a + b - 1.0 - self.r;
        let mut ratios = [0.0; SERIES_TABLE];
        for (k, q) in ratios.iter_mut().enumerate() {
            *q = series_ratio(upper, a, c, (k + 1) as f64);
        }
        XSeries {
            ln_odds: a.ln() - (b + x - 1.0).ln(),
            ratios,
        }
    }

    /// P(alive) with ln(a/(b+x−1)) taken from the per-x constants.
    fn probability_alive_with(&self, x: f64, t_x: f64, age: f64, row: &XSeries) -> f64 {
        if x == 0.0 && !self.modified {
            return 1.0;
        }
        let ratio = (self.alpha + age) / (self.alpha + t_x);
        logistic(-(row.ln_odds + (self.r + x) * ratio.ln()))
    }

    /// E[Y(tᵢ) | xᵢ, t_xᵢ, Tᵢ] for many customers, with per-x constants shared.
    pub(crate) fn conditional_expected_purchases_batch(
        &self,
        t: &[f64],
        x: &[f64],
        t_x: &[f64],
        age: &[f64],
    ) -> Vec<f64> {
        let Some(table) = XTable::new(self, x) else {
            return par_map(x.len(), |i| {
                self.conditional_expected_purchases(t[i], x[i], t_x[i], age[i])
            });
        };
        let mut out = vec![0.0; x.len()];
        out.par_chunks_mut(4096).enumerate().for_each(|(c, chunk)| {
            let base = c * 4096;
            let done = chunk.len() / 4 * 4;
            let mut groups = chunk.chunks_exact_mut(4);
            for (g, slots) in (&mut groups).enumerate() {
                let i = base + 4 * g;
                let idx = [i, i + 1, i + 2, i + 3];
                let rows = idx.map(|i| table.row(x[i]));
                let expected = self.expected_if_alive_x4(
                    idx.map(|i| t[i]),
                    idx.map(|i| x[i]),
                    idx.map(|i| age[i]),
                    rows,
                );
                for j in 0..4 {
                    let i = idx[j];
                    slots[j] =
                        self.probability_alive_with(x[i], t_x[i], age[i], rows[j]) * expected[j];
                }
            }
            for (k, slot) in groups.into_remainder().iter_mut().enumerate() {
                let i = base + done + k;
                let row = table.row(x[i]);
                *slot = self.probability_alive_with(x[i], t_x[i], age[i], row)
                    * self.expected_if_alive_with(t[i], x[i], age[i], &row.ratios);
            }
        });
        out
    }

    /// [`TransactionModel::discounted_purchases_batch`]: per customer, P(alive)
    /// once and one pass over the series for every horizon, since the series'
    /// coefficients do not depend on the horizon (only zᵏ does).
    pub(crate) fn discounted_purchases_batch(
        &self,
        horizons: &[f64],
        weights: &[f64],
        x: &[f64],
        t_x: &[f64],
        age: &[f64],
    ) -> Vec<f64> {
        const MAX_HORIZONS: usize = 64;
        let table = match XTable::new(self, x) {
            Some(table) if horizons.len() <= MAX_HORIZONS => table,
            _ => {
                return par_map(x.len(), |i| {
                    let mut previous = 0.0;
                    let mut total = 0.0;
                    for (&t, &w) in horizons.iter().zip(weights) {
                        let now = self.conditional_expected_purchases(t, x[i], t_x[i], age[i]);
                        total += w * (now - previous);
                        previous = now;
                    }
                    total
                })
            }
        };
        let h = horizons.len();
        let upper = self.series_upper();
        // Horizons by increasing z (that is, increasing t): the series of a
        // smaller z converges in fewer terms, so the horizons drop out of the
        // loop in this order.
        let mut order: Vec<usize> = (0..h).collect();
        order.sort_by(|&i, &j| horizons[i].total_cmp(&horizons[j]));
        let sorted: Vec<f64> = order.iter().map(|&j| horizons[j].max(0.0)).collect();
        par_map(x.len(), |i| {
            let row = table.row(x[i]);
            let p_alive = self.probability_alive_with(x[i], t_x[i], age[i], row);
            let mut points = [SeriesPoint::ORIGIN; MAX_HORIZONS];
            let mut z = [0.0; MAX_HORIZONS];
            let mut power = [0.0; MAX_HORIZONS];
            let mut sum = [0.0; MAX_HORIZONS];
            for j in 0..h {
                points[j] = self.series_point(sorted[j], x[i], age[i]);
                z[j] = points[j].z;
            }
            let c = points[0].c;
            let mut coefficient = upper / c;
            for j in 0..h {
                power[j] = z[j];
                sum[j] = coefficient * z[j];
            }
            // Horizons first..h are still summing; term k of horizon j is
            // coefficient · power[j] (power[j] = z_j^k).
            let mut first = 0;
            let mut k = 1usize;
            while first < h && k < 5_000_000 {
                if coefficient == 0.0 {
                    break; // a terminating series
                }
                while first < h {
                    let term = coefficient * power[first];
                    if term.abs() <= 1e-17 * sum[first].abs() {
                        first += 1;
                    } else {
                        break;
                    }
                }
                coefficient *= match row.ratios.get(k - 1) {
                    Some(&q) => q,
                    None => series_ratio(upper, self.a, c, k as f64),
                };
                for ((p, s), z) in power[first..h]
                    .iter_mut()
                    .zip(&mut sum[first..h])
                    .zip(&z[first..h])
                {
                    *p *= z;
                    *s += coefficient * *p;
                }
                k += 1;
            }
            let mut value = [0.0; MAX_HORIZONS];
            for j in 0..h {
                value[order[j]] = p_alive * points[j].finish(self.a, sum[j]);
            }
            let mut previous = 0.0;
            let mut total = 0.0;
            for j in 0..h {
                total += weights[j] * (value[j] - previous);
                previous = value[j];
            }
            total
        })
    }

    /// P(alive | xᵢ, t_xᵢ, Tᵢ) for many customers.
    pub(crate) fn probability_alive_batch(&self, x: &[f64], t_x: &[f64], age: &[f64]) -> Vec<f64> {
        match XTable::new(self, x) {
            Some(table) => par_map(x.len(), |i| {
                self.probability_alive_with(x[i], t_x[i], age[i], table.row(x[i]))
            }),
            None => par_map(x.len(), |i| self.probability_alive(x[i], t_x[i], age[i])),
        }
    }

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
        let mut x_terms = Vec::with_capacity(data.distinct_x.len());
        for (&x, &w) in data.distinct_x.iter().zip(&data.weight_by_x) {
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
                    let xt = &x_terms[data.x_index[i] as usize];
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

    /// E[X(t)], eq. (7): the conditional expectation of a customer with no
    /// history (for MBG/NBD this includes drop-out right after the first purchase).
    pub(crate) fn expected_purchases(&self, t: f64) -> f64 {
        self.conditional_expected_purchases(t, 0.0, 0.0, 0.0)
    }

    /// P(X(t) = n), eq. (8); the finite sum of negative-binomial terms is the
    /// upper tail I_{t/(α+t)}(n, r) of a regularised incomplete beta function.
    pub(crate) fn probability_of_purchases(&self, t: f64, n: f64) -> f64 {
        let BgFamily { r, alpha, a, b, .. } = *self;
        let sh = self.shift();
        if t <= 0.0 {
            return if n == 0.0 { 1.0 } else { 0.0 };
        }
        let ln_beta = |p: f64, q: f64| ln_gamma(p) + ln_gamma(q) - ln_gamma(p + q);
        let ln_ab = ln_beta(a, b);
        let ln_p = (alpha / (alpha + t)).ln();
        let ln_q = (t / (alpha + t)).ln();
        let first =
            (ln_beta(a, b + n + sh) - ln_ab + ln_gamma(r + n) - ln_gamma(r) - ln_gamma(n + 1.0)
                + r * ln_p
                + n * ln_q)
                .exp();
        let second = if n > 0.0 {
            (ln_beta(a + 1.0, b + n - 1.0 + sh) - ln_ab).exp() * beta_reg(n, r, t / (alpha + t))
        } else if self.modified {
            (ln_beta(a + 1.0, b) - ln_ab).exp()
        } else {
            0.0
        };
        (first + second).clamp(0.0, 1.0)
    }

    /// P(alive | x, t_x, T).
    ///
    /// ```
    /// use retentionkit::{BetaGeo, TransactionModel};
    /// let m = BetaGeo::new(0.243, 4.414, 0.793, 2.426).unwrap();
    /// assert_eq!(m.probability_alive(0.0, 0.0, 38.86), 1.0);
    /// assert!(m.probability_alive(2.0, 30.43, 38.86) < 1.0);
    /// ```
    pub(crate) fn probability_alive(&self, x: f64, t_x: f64, age: f64) -> f64 {
        if x == 0.0 && !self.modified {
            return 1.0;
        }
        logistic(-self.log_odds_dead(x, t_x, age))
    }

    /// E[Y(t) | x, t_x, T], eq. (10).
    pub(crate) fn conditional_expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> f64 {
        self.probability_alive(x, t_x, age) * self.expected_if_alive(t, x, age)
    }

    /// DERT(δ | x, t_x, T), discounted expected residual transactions.
    ///
    /// Derivation (from the model's assumptions, as FHL 2005 "RFM and CLV" do
    /// for the Pareto/NBD): a customer who is alive at T with rate λ and
    /// drop-out probability p makes the k-th further purchase at a
    /// Gamma(k, λ) time after T if the k − 1 purchases before it did not end
    /// the relationship, so
    /// Σ_k (1−p)^{k−1} E[e^{−δ τ_k}] = Σ_k (1−p)^{k−1} (λ/(λ+δ))^k = λ/(δ + pλ).
    /// Given the history and being alive, λ ~ Gamma(r + x, α + T) and
    /// p ~ Beta(a, b + x) (b + x + 1 for MBG/NBD, which also survived the
    /// drop-out at time 0), independently. With m = r + x and s = pλ/δ ~
    /// Gamma(m, rate z), z = (α + T) δ / p,
    /// E_λ[λ/(δ + pλ)] = E[s/(1+s)]/p = (m/p) z^m U(m+1, m+1; z)
    ///                = (m/((α+T)δ)) · z^{m+1} U(m+1, m+1; z),
    /// and DERT = P(alive | x, t_x, T) · E_p[that], a one-dimensional integral
    /// over the beta distribution of p. It is computed by tanh-sinh
    /// quadrature on (0, 1) (nodes p = 1/(1 + e^{−π sinh u}), which handles
    /// the beta density's endpoint singularities), the step halved from 1/2
    /// until two successive sums agree to 1e-9 (the finer is then accurate to
    /// about the square). Every term is positive, so nothing cancels.
    ///
    /// NaN unless δ > 0 and finite.
    pub(crate) fn discounted_expected_residual_transactions(
        &self,
        delta: f64,
        x: f64,
        t_x: f64,
        age: f64,
    ) -> f64 {
        if !(delta > 0.0 && delta.is_finite()) {
            return f64::NAN;
        }
        let m = self.r + x;
        let scale = (self.alpha + age) * delta; // z = scale / p
        let (a, b) = (self.a, self.b + x + self.shift());
        let ln_beta = ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
        let z_scaled_hyperu = ZScaledHyperU::new(m + 1.0);
        // E_p[g(p)] with g(p) = z^{m+1} U(m+1, m+1; z); the factor m/scale
        // is applied at the end.
        let term = |u: f64| -> f64 {
            let sinh = u.sinh();
            let v = std::f64::consts::PI * sinh;
            // p = 1/(1 + e^{−v}), 1 − p = 1/(1 + e^{v}), from one exponential
            // e = e^{−|v|} and one logarithm: ln(1 + e^{±v}) = max(±v, 0) + ln(1 + e).
            let e = (-v.abs()).exp();
            let log_1pe = e.ln_1p();
            let (ln_p, ln_q) = (-(-v).max(0.0) - log_1pe, -v.max(0.0) - log_1pe);
            let density = (a * ln_p + b * ln_q - ln_beta).exp();
            if density == 0.0 {
                return 0.0;
            }
            // z = scale/p with 1/p = 1 + e^{−v}.
            let z = if v >= 0.0 {
                scale * (1.0 + e)
            } else {
                scale * (1.0 + e) / e
            };
            let cosh = (1.0 + sinh * sinh).sqrt();
            std::f64::consts::PI * cosh * density * z_scaled_hyperu.eval(z)
        };
        // Trapezoidal sum over u = (offset + k·stride)·h, k = 0, ±1, …, each
        // side ending where the terms have become negligible (they then fall
        // double-exponentially) or at |u| = 8, where every term underflows.
        let side_sums = |h: f64, offset: f64, stride: f64, reference: f64| -> f64 {
            let mut total = 0.0;
            for direction in [1.0, -1.0] {
                let mut k = if direction > 0.0 { 0.0 } else { -1.0 };
                loop {
                    let u = (offset + k * stride) * h;
                    if u.abs() > 8.0 {
                        break;
                    }
                    let g = term(u);
                    if g.is_nan() {
                        return f64::NAN;
                    }
                    total += g;
                    if u.abs() > 1.0 && g <= 1e-18 * (reference + total) {
                        break;
                    }
                    k += direction;
                }
            }
            total
        };
        let mut h = 0.5;
        let mut sum = h * side_sums(h, 0.0, 1.0, 0.0);
        for _ in 0..10 {
            if sum.is_nan() {
                return f64::NAN;
            }
            h *= 0.5;
            let finer = 0.5 * sum + h * side_sums(h, 1.0, 2.0, sum / h);
            let converged = (finer - sum).abs() <= 1e-9 * finer;
            sum = finer;
            if converged {
                break;
            }
        }
        self.probability_alive(x, t_x, age) * (m / scale) * sum
    }

    pub(crate) fn individual_log_likelihood(&self, x: f64, t_x: f64, age: f64) -> f64 {
        let BgFamily { r, alpha, a, b, .. } = *self;
        let sh = self.shift();
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let a2 = ln_gamma(a + b) + ln_gamma(b + x + sh) - ln_gamma(b) - ln_gamma(a + b + x + sh);
        let a3 = -(r + x) * (alpha + age).ln();
        if x == 0.0 && !self.modified {
            return a1 + a2 + a3;
        }
        let a4 = a.ln() - (b + x - 1.0 + sh).ln() - (r + x) * (alpha + t_x).ln();
        a1 + a2 + a3 + log1p_exp(a4 - a3)
    }

    pub(crate) fn simulate_customer<R: Rng + ?Sized>(
        &self,
        age: f64,
        rng: &mut R,
    ) -> SimulatedCustomer {
        let rate = Gamma::new(self.r, 1.0 / self.alpha)
            .expect("valid parameters")
            .sample(rng);
        let p = Beta::new(self.a, self.b)
            .expect("valid parameters")
            .sample(rng);
        let (mut t, mut x, mut t_x) = (0.0, 0.0, 0.0);
        // MBG/NBD: the customer may drop out right after the first purchase.
        let mut alive = !(self.modified && rng.random::<f64>() < p);
        if rate > 0.0 && alive {
            loop {
                let u: f64 = rng.random();
                t += -(1.0 - u).ln() / rate;
                if t > age {
                    break;
                }
                x += 1.0;
                t_x = t;
                if rng.random::<f64>() < p {
                    alive = false;
                    break;
                }
            }
        }
        SimulatedCustomer {
            frequency: x,
            recency: t_x,
            age,
            rate,
            dropout: p,
            alive,
        }
    }
}

/// Implements [`Model`] and [`TransactionModel`] for a member of the BG/NBD
/// family by delegating to [`BgFamily`].
macro_rules! bg_family_model {
    ($model:ty, $name:literal) => {
        impl Model for $model {
            type Data = CompressedData;
            const NAME: &'static str = $name;
            const PARAM_NAMES: &'static [&'static str] = &["r", "alpha", "a", "b"];

            fn from_slice(values: &[f64]) -> Result<Self> {
                check_positive(Self::PARAM_NAMES, values)?;
                Ok(Self {
                    r: values[0],
                    alpha: values[1],
                    a: values[2],
                    b: values[3],
                })
            }

            fn to_vec(&self) -> Vec<f64> {
                vec![self.r, self.alpha, self.a, self.b]
            }

            fn initial_params(data: &CompressedData) -> Vec<f64> {
                BgFamily::initial_params(data)
            }

            fn penalty_scale(data: &CompressedData) -> Vec<f64> {
                vec![1.0, 10.0 / data.max_age, 1.0, 1.0]
            }

            fn evaluate(&self, data: &CompressedData, derivatives: Derivatives) -> Evaluation {
                self.family().evaluate(data, derivatives)
            }
        }

        impl TransactionModel for $model {
            fn expected_purchases(&self, t: f64) -> f64 {
                self.family().expected_purchases(t)
            }

            fn probability_of_purchases(&self, t: f64, n: f64) -> f64 {
                self.family().probability_of_purchases(t, n)
            }

            fn probability_alive(&self, x: f64, t_x: f64, age: f64) -> f64 {
                self.family().probability_alive(x, t_x, age)
            }

            fn conditional_expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> f64 {
                self.family().conditional_expected_purchases(t, x, t_x, age)
            }

            fn individual_log_likelihood(&self, x: f64, t_x: f64, age: f64) -> f64 {
                self.family().individual_log_likelihood(x, t_x, age)
            }

            fn discounted_expected_residual_transactions(
                &self,
                discount_rate: f64,
                x: f64,
                t_x: f64,
                age: f64,
            ) -> f64 {
                self.family()
                    .discounted_expected_residual_transactions(discount_rate, x, t_x, age)
            }

            fn conditional_expected_purchases_batch(
                &self,
                t: &[f64],
                x: &[f64],
                t_x: &[f64],
                age: &[f64],
            ) -> Vec<f64> {
                self.family()
                    .conditional_expected_purchases_batch(t, x, t_x, age)
            }

            fn probability_alive_batch(&self, x: &[f64], t_x: &[f64], age: &[f64]) -> Vec<f64> {
                self.family().probability_alive_batch(x, t_x, age)
            }

            fn discounted_purchases_batch(
                &self,
                horizons: &[f64],
                weights: &[f64],
                x: &[f64],
                t_x: &[f64],
                age: &[f64],
            ) -> Vec<f64> {
                self.family()
                    .discounted_purchases_batch(horizons, weights, x, t_x, age)
            }

            fn simulate_customer<R: Rng + ?Sized>(
                &self,
                age: f64,
                rng: &mut R,
            ) -> SimulatedCustomer {
                self.family().simulate_customer(age, rng)
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use bg_family_model;

bg_family_model!(BetaGeo, "BetaGeo");
