//! [`CompressedData`]: distinct (x, t_x, T) rows with weights, the data every
//! (x, t_x, T) model is fitted on.

use rayon::prelude::*;

use super::validation::CHECK_CHUNK;
use super::CustomerData;
use crate::models::FitData;

/// Distinct (x, t_x, T) rows with weights.
///
/// `x_index[i]` points into `distinct_x`, and `weight_by_x` holds the total
/// weight of each x, so a model can compute every term that depends only on x
/// once per distinct x. Identical rows are merged (and rows then sorted by x)
/// unless a sample shows that almost every row is distinct, as with
/// continuous-time data: then the rows are kept as they are, which saves the
/// sort and gives the same likelihood.
///
/// Customers first seen at the end of observation (T = 0, hence x = 0 and
/// t_x = 0 in fit data) are left out and only counted in
/// [`Self::new_customers`]: their likelihood is exactly 1 under every model,
/// since the probability of "no repeat purchase in an interval of length 0"
/// is 1 whatever the parameters:
/// - BG/NBD: L = B(a, b)/B(a, b) · Γ(r)αʳ/(Γ(r)(α+0)ʳ) = 1 (FHL 2005, eq. (6), x = 0);
/// - MBG/NBD: L = [B(a, b+1) + B(a+1, b)]/B(a, b) · αʳ/αʳ = b/(a+b) + a/(a+b) = 1
///   (dropping out right after the first purchase and staying alive both
///   produce no repeat purchase);
/// - Pareto/NBD: L = αʳβˢ [(α+0)^{−r}(β+0)^{−s} + sJ(0) − sJ(0)] = 1 (eq. (19));
/// - BG/BB with n = 0 opportunities: L = B(α, β)/B(α, β) · B(γ, δ)/B(γ, δ) = 1
///   (eq. (5), with no "died" term).
///
/// Leaving them out rather than adding their (rounded) zeros makes the
/// objective of a fit, hence its estimates and log-likelihood, identical with
/// and without them, including the per-customer normalisation of the
/// `lifetimes` penalty: `total_weight`, the N of −LL/N + penalty and of BIC,
/// counts the customers whose history enters the likelihood.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompressedData {
    /// Repeat purchases of each distinct row.
    pub frequency: Vec<f64>,
    /// Recency of each distinct row.
    pub recency: Vec<f64>,
    /// Age T of each distinct row.
    pub age: Vec<f64>,
    /// Number of customers (or summed weights) with this history.
    pub weight: Vec<f64>,
    /// Index of the row's x in `distinct_x`.
    x_index: Vec<u32>,
    /// Distinct values of x, increasing.
    distinct_x: Vec<f64>,
    /// Total weight of the rows with each distinct x.
    weight_by_x: Vec<f64>,
    /// Sum of the weights of the rows kept: the number of customers whose
    /// history enters the likelihood (T > 0).
    pub total_weight: f64,
    /// Sum of the weights of the customers left out because T = 0 (first seen
    /// at the end of observation; see the type's documentation).
    pub new_customers: f64,
    /// Largest T in the data (used by the `lifetimes`-compatible penalty scaling).
    pub max_age: f64,
}

impl CompressedData {
    /// For each row, the index of its x in [`Self::distinct_x`].
    pub fn x_index(&self) -> &[u32] {
        &self.x_index
    }

    /// The distinct values of x, increasing.
    pub fn distinct_x(&self) -> &[f64] {
        &self.distinct_x
    }

    /// The total weight of the rows with each distinct x.
    pub fn weight_by_x(&self) -> &[f64] {
        &self.weight_by_x
    }

    /// Σ_x w_x (ln Γ(r+x) − ln Γ(r)) over the distinct x, with its first and
    /// second derivatives in r (0 beyond `order`): the ln C term in r that the
    /// Gamma-mixed Poisson purchase process (Pareto/NBD, GGom/NBD) shares.
    pub(crate) fn ln_gamma_rise_sum(&self, r: f64, order: u8) -> [f64; 3] {
        use crate::special::{digamma, ln_gamma, trigamma};
        let (ln_g_r, dg_r, tg_r) = (
            ln_gamma(r),
            if order >= 1 { digamma(r) } else { 0.0 },
            if order >= 2 { trigamma(r) } else { 0.0 },
        );
        let mut out = [0.0; 3];
        for (&x, &w) in self.distinct_x.iter().zip(&self.weight_by_x) {
            out[0] += w * (ln_gamma(r + x) - ln_g_r);
            if order >= 1 {
                out[1] += w * (digamma(r + x) - dg_r);
            }
            if order >= 2 {
                out[2] += w * (trigamma(r + x) - tg_r);
            }
        }
        out
    }

    pub(super) fn from_validated(data: &CustomerData<'_>) -> Self {
        if data.age().par_iter().any(|&t| t == 0.0) {
            return Self::without_new_customers(data);
        }
        let n = data.len();
        let positive_weights = data.weights().is_none_or(|w| w.iter().all(|&v| v > 0.0));
        if n >= 50_000 && positive_weights && Self::mostly_distinct(data) {
            return Self::keep_rows(data);
        }
        let (x, tx, age) = (data.frequency(), data.recency(), data.age());
        let mut keyed: Vec<(u64, u64, u64, f64)> = (0..n)
            .into_par_iter()
            .map(|i| {
                let w = data.weights().map_or(1.0, |w| w[i]);
                // x is a non-negative integer; +0.0 normalises a possible -0.0.
                (
                    x[i] as u64,
                    (tx[i] + 0.0).to_bits(),
                    (age[i] + 0.0).to_bits(),
                    w,
                )
            })
            .filter(|row| row.3 > 0.0)
            .collect();
        // Non-negative floats order like their bit patterns.
        keyed.par_sort_unstable_by_key(|&(a, b, c, _)| (a, b, c));
        let mut out = CompressedData::default();
        for &(kx, ktx, kt, w) in &keyed {
            let same = out.frequency.last().is_some_and(|&last_x| {
                last_x as u64 == kx
                    && out.recency.last().map(|v| v.to_bits()) == Some(ktx)
                    && out.age.last().map(|v| v.to_bits()) == Some(kt)
            });
            if same {
                *out.weight.last_mut().expect("non-empty") += w;
                continue;
            }
            let xv = kx as f64;
            if out.distinct_x.last() != Some(&xv) {
                out.distinct_x.push(xv);
                out.weight_by_x.push(0.0);
            }
            out.frequency.push(xv);
            out.recency.push(f64::from_bits(ktx));
            out.age.push(f64::from_bits(kt));
            out.weight.push(w);
            out.x_index.push((out.distinct_x.len() - 1) as u32);
        }
        for (&xi, &w) in out.x_index.iter().zip(&out.weight) {
            out.weight_by_x[xi as usize] += w;
        }
        out.total_weight = out.weight.iter().sum();
        out.max_age = out.age.iter().copied().fold(0.0, f64::max);
        out
    }

    /// [`Self::from_validated`] on the rows with T > 0, counting the others
    /// in `new_customers`.
    fn without_new_customers(data: &CustomerData<'_>) -> Self {
        let age = data.age();
        let keep: Vec<usize> = (0..data.len()).filter(|&i| age[i] != 0.0).collect();
        let pick = |v: &[f64]| keep.iter().map(|&i| v[i]).collect::<Vec<f64>>();
        let (x, tx, t) = (pick(data.frequency()), pick(data.recency()), pick(age));
        let w = data.weights().map(pick);
        let new_customers = match data.weights() {
            Some(w) => (0..data.len())
                .filter(|&i| age[i] == 0.0)
                .map(|i| w[i])
                .sum(),
            None => (data.len() - keep.len()) as f64,
        };
        let kept = CustomerData::from_validated_parts(&x, &tx, &t, w.as_deref());
        let mut out = Self::from_validated(&kept);
        out.new_customers = new_customers;
        out
    }

    /// Whether a sample of about 8192 rows has fewer than 1% repeated histories.
    fn mostly_distinct(data: &CustomerData<'_>) -> bool {
        let n = data.len();
        let step = (n / 8192).max(1);
        let mut keys: Vec<(u64, u64, u64)> = (0..n)
            .step_by(step)
            .map(|i| {
                (
                    data.frequency()[i] as u64,
                    (data.recency()[i] + 0.0).to_bits(),
                    (data.age()[i] + 0.0).to_bits(),
                )
            })
            .collect();
        let sampled = keys.len();
        keys.sort_unstable();
        keys.dedup();
        (sampled - keys.len()) * 100 < sampled
    }

    /// The rows as they are, each its own group, indexed by distinct x. Every
    /// step runs in parallel: on continuous-time data this is the whole cost
    /// of preparing the data.
    fn keep_rows(data: &CustomerData<'_>) -> Self {
        let x = data.frequency();
        let max_x = x.par_iter().copied().reduce(|| 0.0, f64::max) as usize;
        let (distinct_x, x_index): (Vec<f64>, Vec<u32>) = if max_x < (1 << 22) {
            // Dense lookup table from x to its index.
            let present = x
                .par_chunks(CHECK_CHUNK)
                .fold(
                    || vec![false; max_x + 1],
                    |mut seen, chunk| {
                        for &v in chunk {
                            seen[v as usize] = true;
                        }
                        seen
                    },
                )
                .reduce(
                    || vec![false; max_x + 1],
                    |mut a, b| {
                        a.iter_mut().zip(b).for_each(|(a, b)| *a |= b);
                        a
                    },
                );
            let mut position = vec![u32::MAX; max_x + 1];
            let mut distinct = Vec::new();
            for (v, _) in present.iter().enumerate().filter(|(_, &p)| p) {
                position[v] = distinct.len() as u32;
                distinct.push(v as f64);
            }
            let index = x.par_iter().map(|&v| position[v as usize]).collect();
            (distinct, index)
        } else {
            let mut distinct = x.to_vec();
            distinct.par_sort_unstable_by(f64::total_cmp);
            distinct.dedup();
            let index = x
                .par_iter()
                .map(|v| distinct.partition_point(|d| d < v) as u32)
                .collect();
            (distinct, index)
        };
        let weight: Vec<f64> = match data.weights() {
            Some(w) => w.par_iter().copied().collect(),
            None => (0..x.len()).into_par_iter().map(|_| 1.0).collect(),
        };
        let groups = distinct_x.len();
        let weight_by_x = x_index
            .par_chunks(CHECK_CHUNK)
            .zip(weight.par_chunks(CHECK_CHUNK))
            .fold(
                || vec![0.0; groups],
                |mut sums, (index, w)| {
                    for (&xi, &w) in index.iter().zip(w) {
                        sums[xi as usize] += w;
                    }
                    sums
                },
            )
            .reduce(
                || vec![0.0; groups],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                    a
                },
            );
        CompressedData {
            frequency: x.par_iter().copied().collect(),
            recency: data.recency().par_iter().copied().collect(),
            age: data.age().par_iter().copied().collect(),
            total_weight: weight_by_x.iter().sum(),
            max_age: data.age().par_iter().copied().reduce(|| 0.0, f64::max),
            new_customers: 0.0,
            weight,
            x_index,
            distinct_x,
            weight_by_x,
        }
    }

    /// Number of distinct rows.
    pub fn len(&self) -> usize {
        self.frequency.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.frequency.is_empty()
    }

    /// A systematic subsample: every `step`-th row, with
    /// weights multiplied by `step` so totals stay comparable. Used to find a
    /// warm start cheaply before fitting the full data.
    pub fn every_nth(&self, step: usize) -> Self {
        let step = step.max(1);
        let mut out = CompressedData {
            distinct_x: self.distinct_x.clone(),
            weight_by_x: vec![0.0; self.distinct_x.len()],
            max_age: self.max_age,
            new_customers: self.new_customers,
            ..Default::default()
        };
        for i in (0..self.len()).step_by(step) {
            out.frequency.push(self.frequency[i]);
            out.recency.push(self.recency[i]);
            out.age.push(self.age[i]);
            out.weight.push(self.weight[i] * step as f64);
            out.x_index.push(self.x_index[i]);
            out.weight_by_x[self.x_index[i] as usize] += self.weight[i] * step as f64;
        }
        out.total_weight = out.weight.iter().sum();
        out
    }
}

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
