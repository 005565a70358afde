//! The series of E[Y(t) | x, t_x, T] (FHL 2005, eq. (10)) and the batch
//! predictions that share its per-x constants.
//!
//! The Gauss hypergeometric function of (10) is evaluated after Euler's
//! transformation, ₂F₁(r+x, b+x; c; z) = (1−z)^{c−r−b−2x}
//! ₂F₁(c−r−x, c−b−x; c; z) with c = a+b+x−1, which turns a series whose terms
//! overflow for large x into one whose upper parameters are a+b−1−r and a−1.
//! The factor 1/(a−1) is then cancelled analytically, so a = 1 is regular.

use rayon::prelude::*;

use super::quadrature::beta_expectation;
use super::BgFamily;
use crate::predict::par_map;
use crate::special::logistic;

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

    /// c/(a−1) · [1 − (1−z)^{a−1} (1 + (a−1) S)], with 1/(a−1) cancelled;
    /// `abs_sum` is Σ|terms| of S. NaN when rounding could make the result
    /// wrong by more than about 1e-11 relative: the two parts of the bracket
    /// cancel (a or b large, where (1−z)^{a−1} underflows while S overflows),
    /// S's terms cancel (r large next to a + b), or S is not finite. The
    /// callers then take [`BgFamily::expected_if_alive_by_quadrature`].
    fn finish(&self, a: f64, sum: f64, abs_sum: f64) -> f64 {
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
        // head = (1 − eᵘ)/(a − 1) ≥ 0; the error of eᵘ is about |u| ulps.
        let head = -self.log_one_minus_z * growth;
        let value = self.c * (head - power * sum);
        let error = (head + power * abs_sum * (2.0 + u.abs())) * self.c.abs();
        if value > 0.0 && value.is_finite() && error <= MAX_CONDITION * value {
            value
        } else {
            f64::NAN
        }
    }
}

/// Largest ratio of the parts of the bracket (with their rounding) to the
/// result that the series is trusted with: about 1e-11 relative error.
const MAX_CONDITION: f64 = 1e5;

/// Terms of the series at most; past them (z near 1, t ≫ α + T) the
/// quadrature over p is cheaper than the series and as accurate.
const MAX_SERIES_TERMS: usize = 2000;

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

impl BgFamily {
    /// The bracket of (10) divided by (a − 1), times c = a+b+x−1 (b shifted by
    /// one for MBG/NBD):
    /// c/(a−1) · [1 − ((α+T)/(α+T+t))^{r+x} ₂F₁(r+x, b+x; c; t/(α+T+t))].
    pub(super) fn expected_if_alive(&self, t: f64, x: f64, age: f64) -> f64 {
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
        let (sum, abs_sum) = self.series_tail(point.z, point.c, ratios, 1, first, first);
        let value = point.finish(self.a, sum, abs_sum);
        if value.is_nan() {
            self.expected_if_alive_by_quadrature(t, x, age)
        } else {
            value
        }
    }

    /// E[Y(t) | alive at T, x] = E_p[(1 − (1 + p t/(α+T))^{−(r+x)})/p] with
    /// p ~ Beta(a, b + x) (b + x + 1 for MBG/NBD): the expected number of
    /// purchases (1 − e^{−λpt})/p of a customer with rate λ and drop-out
    /// probability p, averaged over the posterior λ ~ Gamma(r + x, α + T)
    /// and then over p, by positive-term quadrature (see [`super::quadrature`]).
    /// Used where the series is unreliable or long; accurate for every (a, b).
    pub(super) fn expected_if_alive_by_quadrature(&self, t: f64, x: f64, age: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let m = self.r + x;
        let ln_kappa = t.ln() - (self.alpha + age).ln();
        let kappa = ln_kappa.exp();
        beta_expectation(self.a, self.b + x + self.shift(), |node| {
            // p κ, formed in logs since p may underflow.
            let pk = (node.ln_p + ln_kappa).exp();
            if pk < 1e-290 {
                return m * kappa; // the limit p → 0
            }
            -(-m * pk.ln_1p()).exp_m1() / pk * kappa
        })
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
    /// z · ratio(k), taken from `ratios` while it lasts. Returns S and Σ|terms|
    /// (the latter counted from `sum` on, which the callers pass as the sum of
    /// terms of one sign); NaN if the series needs more than
    /// [`MAX_SERIES_TERMS`] terms.
    fn series_tail(
        &self,
        z: f64,
        c: f64,
        ratios: &[f64],
        k: usize,
        term: f64,
        sum: f64,
    ) -> (f64, f64) {
        let (mut term, mut sum, mut k) = (term, sum, k);
        let mut abs_sum = sum.abs();
        let upper = self.series_upper();
        loop {
            if term.abs() <= 1e-17 * sum.abs() || term == 0.0 {
                return (sum, abs_sum);
            }
            if k >= MAX_SERIES_TERMS {
                return (f64::NAN, f64::NAN);
            }
            let ratio = match ratios.get(k - 1) {
                Some(&q) => q,
                None => series_ratio(upper, self.a, c, k as f64),
            };
            term *= z * ratio;
            sum += term;
            abs_sum += term.abs();
            k += 1;
        }
    }

    /// Whether every term of the series has one sign (upper parameter ≥ 0
    /// and c > 0 for every x), so that Σ|terms| = S.
    fn series_is_positive(&self) -> bool {
        self.series_upper() >= 0.0 && self.a + self.b + self.shift() - 1.0 > 0.0
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
        if !self.series_is_positive() {
            return [0, 1, 2, 3]
                .map(|j| self.expected_if_alive_with(t[j], x[j], age[j], &rows[j].ratios));
        }
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
        // t ≤ 0 gives a bracket of 0, which `finish` reports as NaN and the
        // quadrature answers with 0.
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
                .0
            } else {
                sum[j]
            };
            let value = points[j].finish(self.a, sum, sum);
            if value.is_nan() {
                self.expected_if_alive_by_quadrature(t[j], x[j], age[j])
            } else {
                value
            }
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
        let t_x = if x == 0.0 { 0.0 } else { t_x }; // as in `log_odds_dead`
        logistic(-(row.ln_odds + (self.r + x) * self.ln_age_ratio(x, t_x, age)))
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
            Some(table) if horizons.len() <= MAX_HORIZONS && self.series_is_positive() => table,
            _ => {
                return par_map(x.len(), |i| {
                    // The series' length grows like 40 (α+T+t)/(α+T) (capped
                    // at MAX_SERIES_TERMS, then a quadrature of about as
                    // many operations); one quadrature of the discounted sum
                    // costs about 1500 such operations per horizon. Take the
                    // cheaper: many long horizons (10,000 months) then cost
                    // linearly in their number, not quadratically.
                    let s = self.alpha + age[i];
                    let series: f64 = horizons
                        .iter()
                        .map(|&t| (40.0 * (1.0 + t.max(0.0) / s)).min(MAX_SERIES_TERMS as f64))
                        .sum();
                    if series > 1500.0 * horizons.len() as f64 {
                        return self.discounted_purchases_by_quadrature(
                            horizons, weights, x[i], t_x[i], age[i],
                        );
                    }
                    let mut previous = 0.0;
                    let mut total = 0.0;
                    for (&t, &w) in horizons.iter().zip(weights) {
                        let now = self.conditional_expected_purchases(t, x[i], t_x[i], age[i]);
                        total += w * (now - previous);
                        previous = now;
                    }
                    total
                });
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
            while first < h && k < MAX_SERIES_TERMS {
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
                // Horizons first..h did not converge within the bound; t = 0
                // adds nothing.
                let finished = if sorted[j] <= 0.0 {
                    0.0
                } else if j < first || coefficient == 0.0 {
                    points[j].finish(self.a, sum[j], sum[j])
                } else {
                    f64::NAN
                };
                let expected = if finished.is_nan() {
                    self.expected_if_alive_by_quadrature(sorted[j], x[i], age[i])
                } else {
                    finished
                };
                value[order[j]] = p_alive * expected;
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

    /// Σ_k w_k (E[Y(t_k) | ·] − E[Y(t_{k−1}) | ·]) (t₀ = 0) as one
    /// expectation over p of the same sum of the per-p expectations
    /// (1 − (1 + p t/(α+T))^{−(r+x)})/p (see
    /// [`BgFamily::expected_if_alive_by_quadrature`]): every horizon shares
    /// the nodes, so the cost is linear in the number of horizons whatever
    /// their length. Increasing horizons and positive weights make every
    /// term positive.
    fn discounted_purchases_by_quadrature(
        &self,
        horizons: &[f64],
        weights: &[f64],
        x: f64,
        t_x: f64,
        age: f64,
    ) -> f64 {
        let m = self.r + x;
        let kappas: Vec<f64> = horizons
            .iter()
            .map(|&t| t.max(0.0) / (self.alpha + age))
            .collect();
        let expectation = beta_expectation(self.a, self.b + x + self.shift(), |node| {
            let p = node.ln_p.exp();
            let mut previous = 0.0;
            let mut total = 0.0;
            for (&kappa, &w) in kappas.iter().zip(weights) {
                let pk = p * kappa;
                let now = if pk < 1e-290 {
                    m * kappa // the limit p → 0 (and 0 at t = 0)
                } else {
                    -(-m * pk.ln_1p()).exp_m1() / pk * kappa
                };
                total += w * (now - previous);
                previous = now;
            }
            total
        });
        self.probability_alive(x, t_x, age) * expectation
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
}

/// Terms of the series summed for four customers in lockstep by
/// [`BgFamily::conditional_expected_purchases_x4`] before each goes on alone.
const LOCKSTEP_TERMS: usize = 64;

impl BgFamily {
    /// E[Y(tᵢ) | xᵢ, t_xᵢ, Tᵢ] of customers each with parameters of their own
    /// (`out[i]` for `models[i]`), four at a time
    /// ([`Self::conditional_expected_purchases_x4`]).
    pub(crate) fn conditional_expected_purchases_each(
        models: &[BgFamily],
        t: &[f64],
        x: &[f64],
        t_x: &[f64],
        age: &[f64],
        out: &mut [f64],
    ) {
        let quads = models.len() / 4 * 4;
        for i in (0..quads).step_by(4) {
            let idx = [i, i + 1, i + 2, i + 3];
            let values = Self::conditional_expected_purchases_x4(
                idx.map(|i| &models[i]),
                idx.map(|i| t[i]),
                idx.map(|i| x[i]),
                idx.map(|i| t_x[i]),
                idx.map(|i| age[i]),
            );
            out[i..i + 4].copy_from_slice(&values);
        }
        for i in quads..models.len() {
            out[i] = models[i].conditional_expected_purchases(t[i], x[i], t_x[i], age[i]);
        }
    }

    /// E[Y(tⱼ) | xⱼ, t_xⱼ, Tⱼ] of four customers, each with parameters of
    /// their own (customers with covariates): the series of
    /// [`BgFamily::expected_if_alive`] is summed for the four in lockstep, so
    /// that the division of each term's ratio (the customers share no per-x
    /// table) overlaps with the other three's. The same operations in the same
    /// order as each customer's [`BgFamily::conditional_expected_purchases`]
    /// (a finished customer's term is set to 0, which leaves the sum as it
    /// is), hence the same values.
    pub(crate) fn conditional_expected_purchases_x4(
        models: [&BgFamily; 4],
        t: [f64; 4],
        x: [f64; 4],
        t_x: [f64; 4],
        age: [f64; 4],
    ) -> [f64; 4] {
        let scalar =
            |j: usize| models[j].conditional_expected_purchases(t[j], x[j], t_x[j], age[j]);
        // Lanes whose series has terms of one sign and t > 0 (else each alone).
        let lockstep = [0, 1, 2, 3].map(|j| t[j] > 0.0 && models[j].series_is_positive());
        if !lockstep.iter().any(|&l| l) {
            return [0, 1, 2, 3].map(scalar);
        }
        let points = [0, 1, 2, 3].map(|j| {
            if lockstep[j] {
                models[j].series_point(t[j], x[j], age[j])
            } else {
                SeriesPoint::ORIGIN
            }
        });
        let upper = models.map(BgFamily::series_upper);
        let mut term = [0, 1, 2, 3].map(|j| {
            if lockstep[j] {
                points[j].z * upper[j] / points[j].c
            } else {
                0.0
            }
        });
        let mut sum = term;
        let (a, c, z) = (
            models.map(|m| m.a),
            points.map(|p| p.c),
            points.map(|p| p.z),
        );
        let mut k = 1usize;
        while k < LOCKSTEP_TERMS {
            // Without branches per lane (the four divisions then run as one
            // vector operation): a finished lane's term becomes 0.
            let kf = k as f64;
            // As `series_tail`: stop before a term below 1e-17 of the sum
            // (`|`, not `||`: no branch, so the lanes can share vector
            // instructions).
            let done =
                [0, 1, 2, 3].map(|j| (term[j].abs() <= 1e-17 * sum[j].abs()) | (term[j] == 0.0));
            let ratio = [0, 1, 2, 3].map(|j| z[j] * series_ratio(upper[j], a[j], c[j], kf));
            for j in 0..4 {
                term[j] = if done[j] { 0.0 } else { term[j] * ratio[j] };
                sum[j] += term[j];
            }
            if done[0] & done[1] & done[2] & done[3] {
                break;
            }
            k += 1;
        }
        [0, 1, 2, 3].map(|j| {
            if !lockstep[j] {
                return scalar(j);
            }
            let m = models[j];
            let sum = if term[j] != 0.0 {
                m.series_tail(points[j].z, points[j].c, &[], k, term[j], sum[j])
                    .0
            } else {
                sum[j]
            };
            let value = points[j].finish(m.a, sum, sum);
            let expected = if value.is_nan() {
                m.expected_if_alive_by_quadrature(t[j], x[j], age[j])
            } else {
                value
            };
            m.probability_alive(x[j], t_x[j], age[j]) * expected
        })
    }
}
