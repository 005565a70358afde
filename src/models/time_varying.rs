//! Pareto/NBD with time-varying covariates.
//!
//! Source: Bachmann, P., Meierer, M. & Näf, J. (2021), "The Role of
//! Time-Varying Contextual Factors in Latent Attrition Models for Customer
//! Base Analysis", Marketing Science 40(4), 783–809. The derivation below is
//! written from the model's definition; `tests/python/time_varying_reference.py`
//! checks it by quadrature, and it reproduces CLVTools' log-likelihood on
//! CDNOW to 1e-11 at CLVTools' estimates.
//!
//! **Model.** Customer i is born at 0 (the first purchase) and observed to T.
//! While alive, i buys as a Poisson process with intensity λ a(t) and dies at
//! rate μ b(t), where a(t) = exp(γ_pᵀ z(t)), b(t) = exp(γ_dᵀ z(t)) and z(t) is
//! piecewise constant: one row of covariates per period, each period one time
//! unit long (the first period may start before birth). λ ~ Gamma(r, α) and
//! μ ~ Gamma(s, β), so that with z constant this is the static-covariate
//! Pareto/NBD with α_i = α e^{−γ_pᵀz}, β_i = β e^{−γ_dᵀz}
//! ([`crate::models::covariates`]). The exposures are
//! A(t) = ∫₀ᵗ a(u) du and B(t) = ∫₀ᵗ b(u) du.
//!
//! **Likelihood.** Given λ and μ, repeat purchases at t₁ < … < t_x ≤ T have
//! the density Πⱼ λ a(tⱼ) · e^{−λA(T)} e^{−μB(T)} when i is alive at T, and
//! Πⱼ λ a(tⱼ) · e^{−λA(τ)} μ b(τ) e^{−μB(τ)} when i died at τ ∈ (t_x, T].
//! The gamma integrals ∫ λˣ e^{−λA} dG(λ) = Γ(r+x)/Γ(r) αʳ (α+A)^{−(r+x)} and
//! ∫ μᵏ e^{−μB} dG(μ) give
//!
//! L = C e^{γ_pᵀ Σⱼ z(tⱼ)} [ (α+A(T))^{−(r+x)} (β+B(T))^{−s}
//!       + s ∫_{t_x}^T b(τ) (α+A(τ))^{−(r+x)} (β+B(τ))^{−(s+1)} dτ ],
//!
//! C = Γ(r+x) αʳ βˢ / Γ(r). On a piece [l, l+d] of constant aₖ, bₖ (a
//! period, cut at t_x), A(l+u) = aₖ(p+u) and B(l+u) = bₖ(q+u) with
//! p = (α+A(l))/aₖ and q = (β+B(l))/bₖ, so the piece contributes
//!
//! aₖ^{−(r+x)} bₖ^{−s} [sJ_{p,q}(0) − sJ_{p,q}(d)],
//! J_{p,q}(u) = ∫_u^∞ (p+τ)^{−(r+x)} (q+τ)^{−(s+1)} dτ,
//!
//! the Pareto/NBD's J with α → p, β → q (`ParetoNBD::ln_dead_term`: a 2F1
//! series with positive terms). Each piece is a difference of two positive
//! terms of the same sign pattern, ln(sJ(0)) + ln(1 − e^{ln sJ(d) − ln sJ(0)}),
//! positive itself; the pieces and the alive term are then summed by
//! log-sum-exp. Consecutive periods with the same covariates are one piece,
//! so a seasonal dummy costs a few pieces per customer, not one per period.
//!
//! **Gradient** (analytic, by the chain rule; the Hessian is the fitter's
//! differences of it): ∂p/∂α = 1/aₖ, ∂p/∂γ = (∂A(l)/∂γ)/aₖ − p ∂ln aₖ/∂γ with
//! ∂A(l)/∂γ_p = Σ a len z over the earlier pieces, and likewise for q.
//!
//! **Predictions.** Given alive at T, λ ~ Gamma(r+x, α+A(T)) and
//! μ ~ Gamma(s, β+B(T)) (the alive term factorises), so
//! P(alive) = alive term / bracket, and with Q(τ) = β+B(τ)
//!
//! E[Y(t)] = P(alive) (r+x)/(α+A(T)) ∫_T^{T+t} a(τ) (Q(T)/Q(τ))ˢ dτ,
//!
//! in closed form per period; DECT adds the factor e^{−δ(τ−T)} inside the
//! integral, integrated by Gauss–Legendre per period (the integrand is smooth
//! there).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use crate::data::{CompressedData, CustomerData};
use crate::error::{Error, Result};
use crate::fit::{fit, FitOptions};
use crate::models::covariates::{CovariateDesign, CovariateModel};
use crate::models::params::{check_params, ParamSpec};
use crate::models::pareto_nbd::{ParetoNBD, Term};
use crate::models::{Derivatives, Evaluation, FitData, Model};
use crate::special::{digamma, expm1_over, ln_gamma, trigamma};

/// Pieces shorter than this (in time units) are rounding noise at a period
/// boundary and are dropped.
const MIN_PIECE: f64 = 1e-9;

/// A piece of constant covariates between birth and T.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Piece {
    len: f64,
    /// Row of the covariate table.
    row: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Customer {
    /// Position in the input.
    id: usize,
    x: f64,
    t_x: f64,
    age: f64,
    weight: f64,
    /// Pieces `[piece_begin, piece_death)` lie before t_x, `[piece_death,
    /// piece_end)` between t_x and T.
    piece_begin: usize,
    piece_death: usize,
    piece_end: usize,
    /// Start of the first period relative to birth, in (−1, 0].
    first_start: f64,
    /// The customer's periods are rows `row_begin..row_end`.
    row_begin: usize,
    row_end: usize,
}

/// Customers' purchase histories with one row of covariates per period: the
/// data of [`TimeVaryingParetoNBD`], validated once, with the parameter-free
/// pieces (constant covariates between birth and T, cut at t_x) precomputed.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeVaryingData {
    customers: Vec<Customer>,
    pieces: Arc<Vec<Piece>>,
    covariates: Arc<Vec<f64>>,
    purchase_sums: Arc<Vec<f64>>,
    n_input: usize,
    design: Arc<CovariateDesign>,
    total_weight: f64,
    plain: CompressedData,
}

fn invalid(rule: &'static str, row: usize, detail: String) -> Error {
    Error::InvalidData {
        rule,
        row,
        detail,
        column: None,
        cohort: None,
        period: None,
    }
}

impl TimeVaryingData {
    /// The panel of `n` customers: histories (x, t_x, T) validated as
    /// [`CustomerData::new`] does, `purchase_sums` (n × columns, row-major)
    /// the sum of the covariate rows of the periods holding each customer's
    /// repeat purchases, `first_period_start` the start of each customer's
    /// first period relative to the first purchase (in (−1, 0]),
    /// `period_counts` the number of periods of each customer, whose rows
    /// follow one another in `covariates` (row-major, one column per column
    /// of `design`), customer after customer. A customer's periods must
    /// reach T (predictions check their own horizon).
    ///
    /// Errors: [`Error::InvalidData`] naming the first offending customer;
    /// [`Error::LengthMismatch`].
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        frequency: &[f64],
        recency: &[f64],
        age: &[f64],
        purchase_sums: &[f64],
        first_period_start: &[f64],
        period_counts: &[usize],
        covariates: &[f64],
        design: CovariateDesign,
    ) -> Result<Self> {
        Self::from_owned(
            frequency,
            recency,
            age,
            purchase_sums,
            first_period_start,
            period_counts,
            covariates.to_vec(),
            design,
        )
    }

    /// As [`TimeVaryingData::new`], taking the covariate rows by value: the
    /// panel keeps them without a copy (the table is the largest input).
    #[allow(clippy::too_many_arguments)]
    pub fn from_owned(
        frequency: &[f64],
        recency: &[f64],
        age: &[f64],
        purchase_sums: &[f64],
        first_period_start: &[f64],
        period_counts: &[usize],
        covariates: Vec<f64>,
        design: CovariateDesign,
    ) -> Result<Self> {
        let plain = CustomerData::new(frequency, recency, age, None)?.compress();
        let n = frequency.len();
        let k = design.columns().len();
        let check_len = |name: &'static str, found: usize, expected: usize| {
            if found != expected {
                Err(Error::LengthMismatch {
                    expected,
                    found,
                    name,
                })
            } else {
                Ok(())
            }
        };
        check_len(
            "purchase_sums (customers × columns)",
            purchase_sums.len(),
            n * k,
        )?;
        check_len("first_period_start", first_period_start.len(), n)?;
        check_len("period_counts", period_counts.len(), n)?;
        let rows: usize = period_counts.iter().sum();
        check_len("covariates (periods × columns)", covariates.len(), rows * k)?;
        if let Some(pos) = purchase_sums.iter().position(|v| !v.is_finite()) {
            return Err(invalid(
                "covariates must be finite numbers",
                pos / k.max(1),
                format!("{} summed over the purchases", design.columns()[pos % k]),
            ));
        }
        let mut customers = Vec::with_capacity(n);
        let mut pieces = Vec::new();
        let mut row_begin = 0;
        for i in 0..n {
            let (start, count) = (first_period_start[i], period_counts[i]);
            let row_end = row_begin + count;
            if !(start > -1.0 && start <= 0.0) {
                return Err(invalid(
                    "the first covariate period must hold the first purchase",
                    i,
                    format!("first period starts {start} time units after the first purchase"),
                ));
            }
            if let Some(pos) = covariates[row_begin * k..row_end * k]
                .iter()
                .position(|v| !v.is_finite())
            {
                return Err(invalid(
                    "covariates must be finite numbers",
                    i,
                    format!(
                        "{}={} in period {}",
                        design.columns()[pos % k],
                        covariates[row_begin * k + pos],
                        pos / k + 1
                    ),
                ));
            }
            if start + (count as f64) < age[i] - MIN_PIECE {
                return Err(invalid(
                    "the covariate periods must reach the end of the calibration period",
                    i,
                    format!(
                        "{count} periods from {start} cover up to {}, T={}",
                        start + count as f64,
                        age[i]
                    ),
                ));
            }
            let (x, t_x, t) = (frequency[i], recency[i], age[i]);
            let piece_begin = pieces.len();
            let mut piece_death = None;
            let same = |a: usize, b: usize| {
                covariates[a * k..(a + 1) * k]
                    .iter()
                    .zip(&covariates[b * k..(b + 1) * k])
                    .all(|(u, v)| u.to_bits() == v.to_bits())
            };
            let mut push = |lo: f64, hi: f64, row: usize, pieces: &mut Vec<Piece>| {
                if hi - lo <= MIN_PIECE {
                    return;
                }
                let after = lo >= t_x;
                if after && piece_death.is_none() {
                    piece_death = Some(pieces.len());
                }
                let merge_ok = pieces.len() > piece_begin
                    && piece_death.is_none_or(|d| pieces.len() > d)
                    && same(pieces[pieces.len() - 1].row, row);
                if merge_ok {
                    pieces.last_mut().expect("a piece").len += hi - lo;
                } else {
                    pieces.push(Piece { len: hi - lo, row });
                }
            };
            for j in 0..count {
                let lo = (start + j as f64).max(0.0);
                if lo >= t {
                    break;
                }
                let hi = (start + j as f64 + 1.0).min(t);
                let row = row_begin + j;
                if lo < t_x && t_x < hi {
                    push(lo, t_x, row, &mut pieces);
                    push(t_x, hi, row, &mut pieces);
                } else {
                    push(lo, hi, row, &mut pieces);
                }
            }
            let piece_end = pieces.len();
            customers.push(Customer {
                id: i,
                x,
                t_x,
                age: t,
                weight: 1.0,
                piece_begin,
                piece_death: piece_death.unwrap_or(piece_end),
                piece_end,
                first_start: start,
                row_begin,
                row_end,
            });
            row_begin = row_end;
        }
        let total_weight = customers.iter().filter(|c| c.age > 0.0).count() as f64;
        Ok(Self {
            customers,
            pieces: Arc::new(pieces),
            covariates: Arc::new(covariates),
            purchase_sums: Arc::new(purchase_sums.to_vec()),
            n_input: n,
            design: Arc::new(design),
            total_weight,
            plain,
        })
    }

    /// Number of customers.
    pub fn len(&self) -> usize {
        self.customers.len()
    }

    /// Whether there are no customers.
    pub fn is_empty(&self) -> bool {
        self.customers.is_empty()
    }

    /// The design the covariates follow.
    pub fn design(&self) -> &CovariateDesign {
        &self.design
    }

    /// The same customers' (x, t_x, T) without covariates, compressed.
    pub fn without_covariates(&self) -> &CompressedData {
        &self.plain
    }

    /// The covariate rows (row-major, one column per column of the design),
    /// customer after customer, as the panel was built.
    pub fn covariate_rows(&self) -> &[f64] {
        &self.covariates
    }

    fn row(&self, row: usize) -> &[f64] {
        let k = self.design.columns().len();
        &self.covariates[row * k..(row + 1) * k]
    }
}

impl FitData for TimeVaryingData {
    fn rows(&self) -> usize {
        self.customers.len()
    }
    fn total_weight(&self) -> f64 {
        self.total_weight
    }
    fn subsample(&self, step: usize) -> Self {
        let step = step.max(1);
        let customers: Vec<Customer> = self
            .customers
            .iter()
            .step_by(step)
            .map(|c| Customer {
                weight: c.weight * step as f64,
                ..*c
            })
            .collect();
        Self {
            total_weight: customers
                .iter()
                .filter(|c| c.age > 0.0)
                .map(|c| c.weight)
                .sum(),
            customers,
            pieces: Arc::clone(&self.pieces),
            covariates: Arc::clone(&self.covariates),
            purchase_sums: Arc::clone(&self.purchase_sums),
            n_input: self.n_input,
            design: Arc::clone(&self.design),
            plain: self.plain.subsample(step),
        }
    }
}

/// Which exponents a coefficient enters: (purchase, dropout, column).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Role {
    purchase: bool,
    dropout: bool,
    column: usize,
}

fn roles(design: &CovariateDesign) -> Vec<Role> {
    design
        .coefficient_names()
        .iter()
        .map(|name| {
            let (process, column) = name.split_once(':').expect("design names have a ':'");
            Role {
                purchase: process != "dropout",
                dropout: process != "purchase",
                column: design
                    .columns()
                    .iter()
                    .position(|c| c == column)
                    .expect("a design's column"),
            }
        })
        .collect()
}

/// A running log-sum-exp of terms with gradients (and Hessians): `sum`,
/// `grad` and `hess` hold Σ wₖ, Σ wₖ gₖ and Σ wₖ (Hₖ + gₖgₖᵀ) with
/// wₖ = e^{vₖ − max}.
struct LogSum {
    max: f64,
    sum: f64,
    grad: Vec<f64>,
    hess: Vec<f64>,
}

impl LogSum {
    fn new(p: usize) -> Self {
        Self {
            max: f64::NEG_INFINITY,
            sum: 0.0,
            grad: vec![0.0; p],
            hess: vec![0.0; p * p],
        }
    }
    fn reset(&mut self) {
        self.max = f64::NEG_INFINITY;
        self.sum = 0.0;
        self.grad.iter_mut().for_each(|g| *g = 0.0);
        self.hess.iter_mut().for_each(|g| *g = 0.0);
    }
    fn add(&mut self, value: f64, grad: &[f64], hess: Option<&[f64]>) {
        if value == f64::NEG_INFINITY {
            return;
        }
        if value > self.max {
            let scale = (self.max - value).exp();
            self.sum *= scale;
            self.grad.iter_mut().for_each(|g| *g *= scale);
            if hess.is_some() {
                self.hess.iter_mut().for_each(|g| *g *= scale);
            }
            self.max = value;
        }
        let w = (value - self.max).exp();
        self.sum += w;
        for (g, t) in self.grad.iter_mut().zip(grad) {
            *g += w * t;
        }
        if let Some(h) = hess {
            let p = grad.len();
            for i in 0..p {
                for j in 0..p {
                    self.hess[i * p + j] += w * (h[i * p + j] + grad[i] * grad[j]);
                }
            }
        }
    }
    fn value(&self) -> f64 {
        self.max + self.sum.ln()
    }
}

/// Pareto/NBD whose purchase and drop-out rates follow covariates that
/// change from period to period (see the module documentation). Parameters:
/// r, α, s, β, then one coefficient per entry of the design
/// (`purchase:<column>`, `dropout:<column>`, `shared:<column>`), named and
/// ordered as in [`crate::models::covariates`].
#[derive(Debug, Clone, PartialEq)]
pub struct TimeVaryingParetoNBD {
    base: ParetoNBD,
    coefficients: Vec<f64>,
    design: Arc<CovariateDesign>,
    roles: Vec<Role>,
}

/// Per-customer buffers, one set per parallel chunk.
struct Scratch {
    sum: LogSum,
    term: Vec<f64>,
    term_hess: Vec<f64>,
    /// ∂A/∂γ, ∂B/∂γ and their second derivatives (m × m).
    d_a: Vec<f64>,
    d_b: Vec<f64>,
    d2_a: Vec<f64>,
    d2_b: Vec<f64>,
    /// ∂(γ_pᵀz)/∂γ and ∂(γ_dᵀz)/∂γ of the current piece.
    dep: Vec<f64>,
    ded: Vec<f64>,
    /// ∂(r, p, s, q)/∂θ, 4 × P.
    jac: Vec<f64>,
    /// The customer's Hessian, P × P.
    hess: Vec<f64>,
}

/// One customer's exposures at T and the pieces of their likelihood.
struct CustomerEval {
    /// ln L.
    value: f64,
    /// ln of the alive term minus ln of the bracket: ln P(alive at T).
    ln_alive: f64,
    /// A(T), B(T).
    exposure: (f64, f64),
}

const CHUNK: usize = 256;

impl TimeVaryingParetoNBD {
    /// The model with base parameters `base`, this design and these
    /// coefficients (in the design's order).
    pub fn new(base: ParetoNBD, design: CovariateDesign, coefficients: Vec<f64>) -> Result<Self> {
        let roles = roles(&design);
        let model = Self {
            base,
            coefficients: vec![0.0; design.coefficient_names().len()],
            design: Arc::new(design),
            roles,
        };
        model.with_params(&[model.base.to_vec(), coefficients].concat())
    }

    /// The population (base) parameters.
    pub fn base(&self) -> &ParetoNBD {
        &self.base
    }

    /// The coefficients, in the order of the design's names.
    pub fn coefficients(&self) -> &[f64] {
        &self.coefficients
    }

    /// The design.
    pub fn design(&self) -> &CovariateDesign {
        &self.design
    }

    /// This model with its coefficients read from the columns of `data`'s
    /// design (by name): a model loaded from a file lists its columns in
    /// another order than the data it predicts for. Coefficient names (and
    /// so the parameter order) do not depend on the columns' order.
    ///
    /// Errors: [`Error::InvalidCovariates`] when the data's coefficients are
    /// not the model's.
    fn on(&self, data: &TimeVaryingData) -> Result<std::borrow::Cow<'_, Self>> {
        if self.design.coefficient_names() != data.design.coefficient_names() {
            return Err(Error::InvalidCovariates(format!(
                "the data's coefficients ({}) are not the model's ({})",
                data.design.coefficient_names().join(", "),
                self.design.coefficient_names().join(", ")
            )));
        }
        if self.design.columns() == data.design.columns() {
            return Ok(std::borrow::Cow::Borrowed(self));
        }
        let mut model = self.clone();
        model.roles = roles(&data.design);
        Ok(std::borrow::Cow::Owned(model))
    }

    /// (γ_pᵀz, γ_dᵀz) of a covariate row.
    fn exponents(&self, z: &[f64]) -> (f64, f64) {
        let (mut ep, mut ed) = (0.0, 0.0);
        for (role, g) in self.roles.iter().zip(&self.coefficients) {
            let v = g * z[role.column];
            if role.purchase {
                ep += v;
            }
            if role.dropout {
                ed += v;
            }
        }
        (ep, ed)
    }

    fn scratch(&self) -> Scratch {
        let p = 4 + self.coefficients.len();
        let m = self.coefficients.len();
        Scratch {
            sum: LogSum::new(p),
            term: vec![0.0; p],
            term_hess: vec![0.0; p * p],
            d_a: vec![0.0; m],
            d_b: vec![0.0; m],
            d2_a: vec![0.0; m * m],
            d2_b: vec![0.0; m * m],
            dep: vec![0.0; m],
            ded: vec![0.0; m],
            jac: vec![0.0; 4 * p],
            hess: vec![0.0; p * p],
        }
    }

    /// ln L of customer `c` (and its gradient in `scratch.sum.grad`, plus the
    /// constant part, when `order` ≥ 1, written to `grad`).
    fn customer(
        &self,
        data: &TimeVaryingData,
        c: &Customer,
        order: u8,
        scratch: &mut Scratch,
        grad: &mut [f64],
    ) -> CustomerEval {
        let (r, alpha, s, beta) = (
            self.base.r(),
            self.base.alpha(),
            self.base.s(),
            self.base.beta(),
        );
        let m = self.coefficients.len();
        let np = 4 + m;
        let x = c.x;
        let rx = r + x;
        let Scratch {
            sum,
            term,
            term_hess,
            d_a,
            d_b,
            d2_a,
            d2_b,
            dep,
            ded,
            jac,
            hess,
        } = scratch;
        sum.reset();
        for v in d_a.iter_mut().chain(d_b.iter_mut()) {
            *v = 0.0;
        }
        if order >= 2 {
            for v in d2_a.iter_mut().chain(d2_b.iter_mut()) {
                *v = 0.0;
            }
        }
        let (mut big_a, mut big_b) = (0.0, 0.0);
        for (index, piece) in data.pieces[c.piece_begin..c.piece_end].iter().enumerate() {
            let z = data.row(piece.row);
            let (ep, ed) = self.exponents(z);
            let (a, b) = (ep.exp(), ed.exp());
            if order >= 1 {
                for (j, role) in self.roles.iter().enumerate() {
                    let zc = z[role.column];
                    dep[j] = if role.purchase { zc } else { 0.0 };
                    ded[j] = if role.dropout { zc } else { 0.0 };
                }
            }
            if c.piece_begin + index >= c.piece_death {
                let p = (alpha + big_a) / a;
                let q = (beta + big_b) / b;
                let piece_term = ln_piece(r, x, p, s, q, piece.len, order);
                if piece_term.value.is_finite() {
                    let value = piece_term.value - rx * ep - s * ed;
                    if order >= 1 {
                        // ln D in (r, p, s, q).
                        let g = piece_term.grad;
                        // Jacobian of (r, p, s, q) in θ.
                        jac.iter_mut().for_each(|v| *v = 0.0);
                        jac[0] = 1.0;
                        jac[np + 1] = 1.0 / a;
                        jac[2 * np + 2] = 1.0;
                        jac[3 * np + 3] = 1.0 / b;
                        for j in 0..m {
                            jac[np + 4 + j] = d_a[j] / a - p * dep[j];
                            jac[3 * np + 4 + j] = d_b[j] / b - q * ded[j];
                        }
                        for t in term.iter_mut() {
                            *t = 0.0;
                        }
                        for (u, gu) in g.iter().enumerate() {
                            for (t, jv) in term.iter_mut().zip(&jac[u * np..(u + 1) * np]) {
                                *t += gu * jv;
                            }
                        }
                        term[0] -= ep;
                        term[2] -= ed;
                        for j in 0..m {
                            term[4 + j] -= rx * dep[j] + s * ded[j];
                        }
                        if order >= 2 {
                            let h = piece_term.hess;
                            term_hess.iter_mut().for_each(|v| *v = 0.0);
                            // Jᵀ H J.
                            for u in 0..4 {
                                for v in 0..4 {
                                    let huv = h[u][v];
                                    if huv == 0.0 {
                                        continue;
                                    }
                                    for (i, &ji) in jac[u * np..(u + 1) * np].iter().enumerate() {
                                        if ji == 0.0 {
                                            continue;
                                        }
                                        let row = &mut term_hess[i * np..(i + 1) * np];
                                        for (hv, &jl) in
                                            row.iter_mut().zip(&jac[v * np..(v + 1) * np])
                                        {
                                            *hv += ji * huv * jl;
                                        }
                                    }
                                }
                            }
                            // G_p ∇²p + G_q ∇²q + ∇²(−(r+x) e_p − s e_d).
                            for j in 0..m {
                                let gj = 4 + j;
                                let cross_p = -g[1] * dep[j] / a;
                                let cross_q = -g[3] * ded[j] / b;
                                term_hess[np + gj] += cross_p;
                                term_hess[gj * np + 1] += cross_p;
                                term_hess[3 * np + gj] += cross_q;
                                term_hess[gj * np + 3] += cross_q;
                                term_hess[gj] -= dep[j];
                                term_hess[gj * np] -= dep[j];
                                term_hess[2 * np + gj] -= ded[j];
                                term_hess[gj * np + 2] -= ded[j];
                                for l in 0..m {
                                    let d2p = d2_a[j * m + l] / a
                                        - (d_a[j] * dep[l] + d_a[l] * dep[j]) / a
                                        + p * dep[j] * dep[l];
                                    let d2q = d2_b[j * m + l] / b
                                        - (d_b[j] * ded[l] + d_b[l] * ded[j]) / b
                                        + q * ded[j] * ded[l];
                                    term_hess[gj * np + 4 + l] += g[1] * d2p + g[3] * d2q;
                                }
                            }
                        }
                    }
                    sum.add(value, term, (order >= 2).then_some(&term_hess[..]));
                }
            }
            big_a += a * piece.len;
            big_b += b * piece.len;
            if order >= 1 {
                for j in 0..m {
                    d_a[j] += a * piece.len * dep[j];
                    d_b[j] += b * piece.len * ded[j];
                }
            }
            if order >= 2 {
                for j in 0..m {
                    for l in 0..m {
                        d2_a[j * m + l] += a * piece.len * dep[j] * dep[l];
                        d2_b[j * m + l] += b * piece.len * ded[j] * ded[l];
                    }
                }
            }
        }
        let (qa, qb) = (alpha + big_a, beta + big_b);
        let (la, lb) = (qa.ln(), qb.ln());
        let alive = -rx * la - s * lb;
        if order >= 1 {
            term[0] = -la;
            term[1] = -rx / qa;
            term[2] = -lb;
            term[3] = -s / qb;
            for j in 0..m {
                term[4 + j] = -rx * d_a[j] / qa - s * d_b[j] / qb;
            }
        }
        if order >= 2 {
            term_hess.iter_mut().for_each(|v| *v = 0.0);
            let mut set = |i: usize, j: usize, v: f64| {
                term_hess[i * np + j] += v;
                if i != j {
                    term_hess[j * np + i] += v;
                }
            };
            set(0, 1, -1.0 / qa);
            set(1, 1, rx / (qa * qa));
            set(2, 3, -1.0 / qb);
            set(3, 3, s / (qb * qb));
            for j in 0..m {
                set(0, 4 + j, -d_a[j] / qa);
                set(1, 4 + j, rx * d_a[j] / (qa * qa));
                set(2, 4 + j, -d_b[j] / qb);
                set(3, 4 + j, s * d_b[j] / (qb * qb));
                for l in 0..=j {
                    let v = -rx * (d2_a[j * m + l] / qa - d_a[j] * d_a[l] / (qa * qa))
                        - s * (d2_b[j * m + l] / qb - d_b[j] * d_b[l] / (qb * qb));
                    set(4 + j, 4 + l, v);
                }
            }
        }
        sum.add(alive, term, (order >= 2).then_some(&term_hess[..]));
        let bracket = sum.value();
        let k = data.design.columns().len();
        let sums = &data.purchase_sums[c.id * k..(c.id + 1) * k];
        let mut purchase_term = 0.0;
        for (role, g) in self.roles.iter().zip(&self.coefficients) {
            if role.purchase {
                purchase_term += g * sums[role.column];
            }
        }
        let value =
            ln_gamma(rx) - ln_gamma(r) + r * alpha.ln() + s * beta.ln() + purchase_term + bracket;
        if order >= 1 {
            let total = sum.sum;
            grad[0] = digamma(rx) - digamma(r) + alpha.ln();
            grad[1] = r / alpha;
            grad[2] = beta.ln();
            grad[3] = s / beta;
            for (j, role) in self.roles.iter().enumerate() {
                grad[4 + j] = if role.purchase {
                    sums[role.column]
                } else {
                    0.0
                };
            }
            // The bracket's gradient ḡ = Σ wₖ gₖ / Σ wₖ.
            for (g, t) in grad.iter_mut().zip(&sum.grad) {
                *g += t / total;
            }
            if order >= 2 {
                // Σ wₖ (Hₖ + gₖgₖᵀ) / Σ wₖ − ḡḡᵀ, plus the constant part.
                for i in 0..np {
                    let gi = sum.grad[i] / total;
                    for j in 0..np {
                        hess[i * np + j] = sum.hess[i * np + j] / total - gi * sum.grad[j] / total;
                    }
                }
                hess[0] += trigamma(rx) - trigamma(r);
                hess[1] += 1.0 / alpha;
                hess[np] += 1.0 / alpha;
                hess[np + 1] -= r / (alpha * alpha);
                hess[2 * np + 3] += 1.0 / beta;
                hess[3 * np + 2] += 1.0 / beta;
                hess[3 * np + 3] -= s / (beta * beta);
            }
        }
        CustomerEval {
            value,
            ln_alive: alive - bracket,
            exposure: (big_a, big_b),
        }
    }

    /// ln L of each customer (in input order; 0 for T = 0).
    ///
    /// Errors: [`Error::InvalidCovariates`] when the data's coefficients are
    /// not the model's.
    pub fn individual_log_likelihood(&self, data: &TimeVaryingData) -> Result<Vec<f64>> {
        self.per_customer(data, |c, e, _| if c.age > 0.0 { e.value } else { 0.0 })
    }

    /// `f(customer, its evaluation, its index)` for every customer of `data`
    /// in input order, in parallel.
    fn per_customer<T: Send>(
        &self,
        data: &TimeVaryingData,
        f: impl Fn(&Customer, &CustomerEval, usize) -> T + Sync + Send,
    ) -> Result<Vec<T>> {
        let model = self.on(data)?;
        let this = model.as_ref();
        Ok(data
            .customers
            .par_iter()
            .enumerate()
            .map_init(
                || (this.scratch(), vec![0.0; 4 + this.coefficients.len()]),
                |(scratch, grad), (i, c)| {
                    let e = this.customer(data, c, 0, scratch, grad);
                    f(c, &e, i)
                },
            )
            .collect())
    }

    /// P(alive at T | history) of each customer.
    ///
    /// Errors as [`Self::individual_log_likelihood`].
    pub fn conditional_probability_alive(&self, data: &TimeVaryingData) -> Result<Vec<f64>> {
        self.per_customer(data, |_, e, _| e.ln_alive.exp().clamp(0.0, 1.0))
    }

    /// E[Y(t) | history]: expected purchases in (T, T + t] of each customer,
    /// with the covariates of the periods after T.
    ///
    /// Errors: [`Error::InvalidData`] naming the first customer whose
    /// periods end before T + t.
    pub fn conditional_expected_purchases(
        &self,
        data: &TimeVaryingData,
        t: f64,
    ) -> Result<Vec<f64>> {
        self.future(data, t, 0.0)
    }

    /// DECT: the expected purchases in (T, T + t], each discounted
    /// continuously at rate δ per time unit from T.
    ///
    /// Errors as [`Self::conditional_expected_purchases`], and δ negative or
    /// not finite.
    pub fn discounted_expected_conditional_transactions(
        &self,
        data: &TimeVaryingData,
        t: f64,
        discount_rate: f64,
    ) -> Result<Vec<f64>> {
        if !(discount_rate >= 0.0 && discount_rate.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "discount_rate".into(),
                value: discount_rate,
                rule: "must be finite and non-negative",
            });
        }
        self.future(data, t, discount_rate)
    }

    fn future(&self, data: &TimeVaryingData, t: f64, delta: f64) -> Result<Vec<f64>> {
        if !(t >= 0.0 && t.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "t".into(),
                value: t,
                rule: "must be finite and non-negative",
            });
        }
        let (r, s) = (self.base.r(), self.base.s());
        let (alpha, beta) = (self.base.alpha(), self.base.beta());
        let model = self.on(data)?;
        let this = model.as_ref();
        self.per_customer(data, |c, e, i| {
            let end = c.age + t;
            let count = (c.row_end - c.row_begin) as f64;
            if c.first_start + count < end - MIN_PIECE {
                return Err(invalid(
                    "the covariate periods must reach the end of the prediction horizon",
                    i,
                    format!(
                        "period {} (starting {} time units after the first purchase) is missing",
                        c.row_end - c.row_begin + 1,
                        c.first_start + count
                    ),
                ));
            }
            let (big_a, big_b) = e.exposure;
            let q_t = beta + big_b;
            let mut integral = 0.0;
            let mut q0 = q_t;
            let first = ((c.age - c.first_start).floor().max(0.0)) as usize;
            for j in first..(c.row_end - c.row_begin) {
                let lo = (c.first_start + j as f64).max(c.age);
                let hi = (c.first_start + j as f64 + 1.0).min(end);
                if lo >= end {
                    break;
                }
                if hi - lo <= 0.0 {
                    continue;
                }
                let (ep, ed) = this.exponents(data.row(c.row_begin + j));
                let (a, b) = (ep.exp(), ed.exp());
                let len = hi - lo;
                integral += if delta == 0.0 {
                    // ∫₀ᵈ a (Q_T/(q0 + b u))ˢ du in closed form.
                    let l = (b * len / q0).ln_1p();
                    a / b * q0 * (q_t / q0).powf(s) * l * expm1_over(-(s - 1.0) * l)
                } else {
                    (-delta * (lo - c.age)).exp() * discounted_piece(a, b, q0, q_t, s, delta, len)
                };
                q0 += b * len;
            }
            Ok(e.ln_alive.exp().clamp(0.0, 1.0) * (r + c.x) / (alpha + big_a) * integral)
        })?
        .into_iter()
        .collect()
    }
}

/// ln D with its gradient and Hessian in (r, p, s, q), where
/// D = s ∫₀ᵈ (p+u)^{−(r+x)} (q+u)^{−(s+1)} du = sJ(0) − sJ(d) is one piece's
/// contribution (see the module documentation; the factor aₖ^{−(r+x)} bₖ^{−s}
/// is the caller's). A piece short against p and q is integrated by
/// 16-point Gauss–Legendre on parts over which the integrand varies by at
/// most a factor e⁸ (with
/// ℓ(u) = ln of the integrand, ∇ln D = E[∇ℓ] and ∇²ln D = E[∇²ℓ + ∇ℓ∇ℓᵀ] −
/// E[∇ℓ]E[∇ℓ]ᵀ under the weights of the nodes): accurate to rounding there,
/// and much cheaper than the 2F1 series, which needs thousands of terms when
/// p and q differ by orders of magnitude. Otherwise D is the difference of
/// the two closed-form terms, where it does not cancel.
pub(crate) fn ln_piece(r: f64, x: f64, p: f64, s: f64, q: f64, d: f64, order: u8) -> Term {
    let rx = r + x;
    let near = p.min(q);
    if d <= 0.5 * near && (rx + s + 1.0) * d <= 2048.0 * near {
        ln_piece_by_quadrature(rx, p, s, q, d, order)
    } else {
        ln_piece_closed(r, x, p, s, q, d, order)
    }
}

/// [`ln_piece`] as sJ(0) − sJ(d) with the Pareto/NBD's closed form.
pub(crate) fn ln_piece_closed(r: f64, x: f64, p: f64, s: f64, q: f64, d: f64, order: u8) -> Term {
    let local = ParetoNBD::from_base_unchecked(&[r, p, s, q]);
    let t0 = local.ln_dead_term(x, 0.0, order);
    let t1 = local.ln_dead_term(x, d, order);
    let delta = t1.value - t0.value;
    let denominator = -delta.exp_m1();
    let mut out = Term {
        value: t0.value + denominator.ln(),
        grad: [0.0; 4],
        hess: [[0.0; 4]; 4],
    };
    if order == 0 || denominator.is_nan() || denominator <= 0.0 {
        return out;
    }
    let (w0, w1) = (1.0 / denominator, delta.exp() / denominator);
    for u in 0..4 {
        out.grad[u] = w0 * t0.grad[u] - w1 * t1.grad[u];
    }
    if order >= 2 {
        for u in 0..4 {
            for v in 0..4 {
                out.hess[u][v] = w0 * (t0.hess[u][v] + t0.grad[u] * t0.grad[v])
                    - w1 * (t1.hess[u][v] + t1.grad[u] * t1.grad[v])
                    - out.grad[u] * out.grad[v];
            }
        }
    }
    out
}

/// [`ln_piece`] by Gauss–Legendre (rx = r + x), on as many equal parts of
/// the piece as keep (r+x+s+1)·(part)/min(p, q) below 8.
pub(crate) fn ln_piece_by_quadrature(rx: f64, p: f64, s: f64, q: f64, d: f64, order: u8) -> Term {
    let (nodes, weights) = gauss_legendre_16();
    let parts = ((rx + s + 1.0) * d / (8.0 * p.min(q)))
        .ceil()
        .clamp(1.0, 256.0) as usize;
    let h = d / parts as f64;
    // ℓ decreases in u: its value at 0 bounds every node's.
    let max = -rx * p.ln() - (s + 1.0) * q.ln();
    let mut total = 0.0;
    let mut mean = [0.0; 4];
    let mut second = [[0.0; 4]; 4];
    for part in 0..parts {
        let start = part as f64 * h;
        for (x, w) in nodes.iter().zip(weights) {
            let u = start + 0.5 * h * (x + 1.0);
            let (lp, lq) = ((p + u).ln(), (q + u).ln());
            let weight = w * (-rx * lp - (s + 1.0) * lq - max).exp();
            total += weight;
            if order == 0 {
                continue;
            }
            let (ip, iq) = (1.0 / (p + u), 1.0 / (q + u));
            let g = [-lp, -rx * ip, -lq, -(s + 1.0) * iq];
            for (m, ga) in mean.iter_mut().zip(&g) {
                *m += weight * ga;
            }
            if order >= 2 {
                for a in 0..4 {
                    for b in 0..4 {
                        second[a][b] += weight * g[a] * g[b];
                    }
                }
                second[0][1] -= weight * ip;
                second[1][0] -= weight * ip;
                second[1][1] += weight * rx * ip * ip;
                second[2][3] -= weight * iq;
                second[3][2] -= weight * iq;
                second[3][3] += weight * (s + 1.0) * iq * iq;
            }
        }
    }
    let mut out = Term {
        value: s.ln() + (0.5 * h).ln() + max + total.ln(),
        grad: [0.0; 4],
        hess: [[0.0; 4]; 4],
    };
    if order >= 1 {
        for (g, m) in out.grad.iter_mut().zip(&mean) {
            *g = m / total;
        }
        out.grad[2] += 1.0 / s;
    }
    if order >= 2 {
        for a in 0..4 {
            for b in 0..4 {
                out.hess[a][b] = second[a][b] / total - (mean[a] / total) * (mean[b] / total);
            }
        }
        out.hess[2][2] -= 1.0 / (s * s);
    }
    out
}

/// One simulated customer of [`TimeVaryingParetoNBD::simulate`].
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedPath {
    /// Repeat purchase times in (0, T], increasing.
    pub purchases: Vec<f64>,
    /// The customer's λ and μ.
    pub rate: f64,
    /// The customer's drop-out rate μ.
    pub dropout: f64,
    /// Time of death; infinite when alive at the end of the periods.
    pub death: f64,
}

impl TimeVaryingParetoNBD {
    /// Simulates customers born at 0 and observed to `age[i]`: λ ~ Gamma(r, α),
    /// μ ~ Gamma(s, β), death when μ B(τ) reaches a unit exponential, purchases
    /// by inverting the purchase exposure λ A(t) at the arrival times of a unit
    /// Poisson process (exact for piecewise-constant rates). Customer i's
    /// periods are `period_counts[i]` rows of `covariates` (row-major, the
    /// design's columns, customer after customer), the first starting at
    /// `first_period_start[i]` ∈ (−1, 0]. Reproducible for a given seed
    /// whatever the number of threads (one random stream per customer).
    ///
    /// Errors: [`Error::LengthMismatch`]; [`Error::InvalidData`] when a
    /// customer's periods do not reach its age or a value is not finite.
    pub fn simulate(
        &self,
        first_period_start: &[f64],
        period_counts: &[usize],
        covariates: &[f64],
        age: &[f64],
        seed: u64,
    ) -> Result<Vec<SimulatedPath>> {
        use rand::SeedableRng;
        use rand_distr::{Distribution, Exp1, Gamma};
        let n = age.len();
        let k = self.design.columns().len();
        for (name, len) in [
            ("first_period_start", first_period_start.len()),
            ("period_counts", period_counts.len()),
        ] {
            if len != n {
                return Err(Error::LengthMismatch {
                    expected: n,
                    found: len,
                    name,
                });
            }
        }
        let rows: usize = period_counts.iter().sum();
        if covariates.len() != rows * k {
            return Err(Error::LengthMismatch {
                expected: rows * k,
                found: covariates.len(),
                name: "covariates (periods × columns)",
            });
        }
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        for i in 0..n {
            let (start, t) = (first_period_start[i], age[i]);
            if !(start > -1.0 && start <= 0.0 && t >= 0.0 && t.is_finite()) {
                return Err(invalid(
                    "simulation needs T ≥ 0 and a first period holding the first purchase",
                    i,
                    format!("first period start {start}, T={t}"),
                ));
            }
            if start + (period_counts[i] as f64) < t - MIN_PIECE {
                return Err(invalid(
                    "the covariate periods must reach T",
                    i,
                    format!("{} periods from {start}, T={t}", period_counts[i]),
                ));
            }
            offsets.push(offsets[i] + period_counts[i]);
        }
        if let Some(pos) = covariates.iter().position(|v| !v.is_finite()) {
            let row = pos / k.max(1);
            let customer = offsets.partition_point(|&o| o <= row) - 1;
            return Err(invalid(
                "covariates must be finite numbers",
                customer,
                format!("{}={}", self.design.columns()[pos % k], covariates[pos]),
            ));
        }
        let purchase_rate = Gamma::new(self.base.r(), 1.0 / self.base.alpha())
            .map_err(|e| Error::Numerical(e.to_string()))?;
        let dropout_rate = Gamma::new(self.base.s(), 1.0 / self.base.beta())
            .map_err(|e| Error::Numerical(e.to_string()))?;
        Ok((0..n)
            .into_par_iter()
            .map(|i| {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(i as u64);
                let lambda: f64 = purchase_rate.sample(&mut rng);
                let mu: f64 = dropout_rate.sample(&mut rng);
                let mut death_at: f64 = Exp1.sample(&mut rng);
                let mut next: f64 = Exp1.sample(&mut rng);
                let mut purchases = Vec::new();
                let mut death = f64::INFINITY;
                for j in 0..period_counts[i] {
                    let lo = (first_period_start[i] + j as f64).max(0.0);
                    let hi = (first_period_start[i] + j as f64 + 1.0).min(age[i]);
                    if lo >= age[i] {
                        break;
                    }
                    if hi <= lo {
                        continue;
                    }
                    let row = offsets[i] + j;
                    let (ep, ed) = self.exponents(&covariates[row * k..(row + 1) * k]);
                    let (rate, hazard) = (lambda * ep.exp(), mu * ed.exp());
                    // Death within this period?
                    let mut end = hi;
                    if hazard * (hi - lo) >= death_at {
                        end = lo + death_at / hazard;
                        death = end;
                    } else {
                        death_at -= hazard * (hi - lo);
                    }
                    // Purchases in (lo, end].
                    let mut budget = rate * (end - lo);
                    let mut at = lo;
                    while next <= budget {
                        at += next / rate;
                        purchases.push(at.min(end));
                        budget -= next;
                        next = Exp1.sample(&mut rng);
                    }
                    next -= budget;
                    if death.is_finite() {
                        break;
                    }
                }
                SimulatedPath {
                    purchases,
                    rate: lambda,
                    dropout: mu,
                    death,
                }
            })
            .collect())
    }
}

/// ∫₀ᵈ a e^{−δu} (Q_T/(q0 + b u))ˢ du by Gauss–Legendre on sub-intervals
/// short enough that the integrand is a smooth, slowly varying function.
fn discounted_piece(a: f64, b: f64, q0: f64, q_t: f64, s: f64, delta: f64, len: f64) -> f64 {
    let (nodes, weights) = gauss_legendre();
    let parts = ((4.0 * b * len / q0).max(delta * len).ceil() as usize).clamp(1, 10_000);
    let h = len / parts as f64;
    let mut total = 0.0;
    for part in 0..parts {
        let lo = part as f64 * h;
        for (x, w) in nodes.iter().zip(weights) {
            let u = lo + 0.5 * h * (x + 1.0);
            total += w * (-delta * u - s * ((q0 + b * u) / q_t).ln()).exp();
        }
    }
    a * 0.5 * h * total
}

/// The 20-point Gauss–Legendre nodes and weights on [−1, 1].
fn gauss_legendre() -> &'static (Vec<f64>, Vec<f64>) {
    static RULE: OnceLock<(Vec<f64>, Vec<f64>)> = OnceLock::new();
    RULE.get_or_init(|| legendre_rule(20))
}

/// The 16-point Gauss–Legendre nodes and weights on [−1, 1].
fn gauss_legendre_16() -> (&'static [f64], &'static [f64]) {
    static RULE: OnceLock<(Vec<f64>, Vec<f64>)> = OnceLock::new();
    let (x, w) = RULE.get_or_init(|| legendre_rule(16));
    (x, w)
}

/// The n-point Gauss–Legendre rule, by Newton's method on Pₙ.
fn legendre_rule(n: usize) -> (Vec<f64>, Vec<f64>) {
    {
        let mut nodes = Vec::with_capacity(n);
        let mut weights = Vec::with_capacity(n);
        for i in 0..n {
            let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
            let mut derivative = 0.0;
            for _ in 0..100 {
                let (mut p0, mut p1) = (1.0, x);
                for k in 2..=n {
                    let p2 = ((2 * k - 1) as f64 * x * p1 - (k - 1) as f64 * p0) / k as f64;
                    p0 = p1;
                    p1 = p2;
                }
                derivative = n as f64 * (x * p1 - p0) / (x * x - 1.0);
                let dx = p1 / derivative;
                x -= dx;
                if dx.abs() < 1e-16 {
                    break;
                }
            }
            nodes.push(x);
            weights.push(2.0 / ((1.0 - x * x) * derivative * derivative));
        }
        (nodes, weights)
    }
}

impl Model for TimeVaryingParetoNBD {
    type Data = TimeVaryingData;
    const NAME: &'static str = "ParetoNBDTimeVarying";

    fn param_specs(&self) -> Vec<ParamSpec> {
        let mut specs = self.base.param_specs();
        specs.extend(
            self.design
                .coefficient_names()
                .iter()
                .map(|n| ParamSpec::real(n.clone())),
        );
        specs
    }

    fn to_vec(&self) -> Vec<f64> {
        [self.base.to_vec(), self.coefficients.clone()].concat()
    }

    fn with_params(&self, values: &[f64]) -> Result<Self> {
        check_params(&self.param_specs(), values)?;
        Ok(Self {
            base: self.base.with_params(&values[..4])?,
            coefficients: values[4..].to_vec(),
            design: Arc::clone(&self.design),
            roles: self.roles.clone(),
        })
    }

    fn template(data: &Self::Data) -> Self {
        let base = ParetoNBD::template(&data.plain);
        Self {
            base,
            coefficients: vec![0.0; data.design.coefficient_names().len()],
            design: Arc::clone(&data.design),
            roles: roles(&data.design),
        }
    }

    fn from_named_params(params: &BTreeMap<String, f64>) -> Result<Self> {
        let base = ParetoNBD::from_named_params(params)?;
        let base_names = base.param_names();
        let mut names: Vec<&str> = Vec::new();
        for prefix in ParetoNBD::PROCESSES
            .iter()
            .map(|p| p.name)
            .chain(["shared"])
        {
            names.extend(
                params
                    .keys()
                    .filter(|k| !base_names.contains(k))
                    .filter(|k| k.split_once(':').is_some_and(|(p, _)| p == prefix))
                    .map(String::as_str),
            );
        }
        let design = CovariateDesign::from_names::<ParetoNBD>(&names)?;
        let coefficients = crate::models::params::lookup_named(
            design.coefficient_names().iter().map(String::as_str),
            params,
        )?;
        Self::new(base, design, coefficients)
    }

    fn evaluate(&self, data: &Self::Data, derivatives: Derivatives) -> Evaluation {
        let Ok(model) = self.on(data) else {
            // Not the data of this model (a fit never gets here).
            return Evaluation {
                value: f64::NAN,
                ..Evaluation::default()
            };
        };
        let this = model.as_ref();
        let order: u8 = match derivatives {
            Derivatives::None => 0,
            Derivatives::Gradient => 1,
            Derivatives::Hessian => 2,
        };
        let p = 4 + self.coefficients.len();
        let n = data.customers.len();
        let zero = || {
            (
                0.0,
                vec![0.0; if order >= 1 { p } else { 0 }],
                vec![0.0; if order >= 2 { p * p } else { 0 }],
            )
        };
        let (value, gradient, hessian) = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|chunk| {
                let (mut value, mut gradient, mut hessian) = zero();
                if crate::interrupt::requested() {
                    return (value, gradient, hessian);
                }
                let mut scratch = this.scratch();
                let mut grad = vec![0.0; p];
                for c in &data.customers[chunk * CHUNK..((chunk + 1) * CHUNK).min(n)] {
                    if c.age <= 0.0 || c.weight <= 0.0 {
                        continue;
                    }
                    let e = this.customer(data, c, order, &mut scratch, &mut grad);
                    value += c.weight * e.value;
                    if order >= 1 {
                        for (a, g) in gradient.iter_mut().zip(&grad) {
                            *a += c.weight * g;
                        }
                    }
                    if order >= 2 {
                        for (a, h) in hessian.iter_mut().zip(&scratch.hess) {
                            *a += c.weight * h;
                        }
                    }
                }
                (value, gradient, hessian)
            })
            .reduce(zero, |mut a, b| {
                a.0 += b.0;
                a.1.iter_mut().zip(b.1).for_each(|(x, y)| *x += y);
                a.2.iter_mut().zip(b.2).for_each(|(x, y)| *x += y);
                a
            });
        let value = if value.is_nan() {
            f64::NEG_INFINITY
        } else {
            value
        };
        Evaluation {
            value,
            gradient,
            hessian,
        }
    }

    /// The plain Pareto/NBD's estimates after at most 10 Newton steps (its
    /// own starting values if that fails), with s and r at most 10 (keeping
    /// the means s/β and r/α), and coefficients 0. The plain model of data
    /// whose drop-out follows covariates may drift to s, β → ∞, where each of
    /// its steps is slow; the fit with covariates is fast from anywhere.
    fn initial_params(&self, data: &Self::Data) -> Vec<f64> {
        let options = FitOptions {
            max_iterations: 10,
            require_convergence: false,
            ..FitOptions::default()
        };
        let mut base = fit::<ParetoNBD>(&data.plain, &options)
            .ok()
            .map(|f| f.model.to_vec())
            .filter(|v| v.iter().all(|x| x.is_finite() && *x > 0.0))
            .unwrap_or_else(|| ParetoNBD::template(&data.plain).initial_params(&data.plain));
        for (shape, rate) in [(0, 1), (2, 3)] {
            if base[shape] > 10.0 {
                base[rate] *= 10.0 / base[shape];
                base[shape] = 10.0;
            }
        }
        [base, vec![0.0; self.coefficients.len()]].concat()
    }

    /// 0 for the base parameters, √λₖ for coefficient k.
    fn penalty_scale(&self, _data: &Self::Data) -> Vec<f64> {
        let mut scale = vec![0.0; 4];
        scale.extend(self.design.penalties().iter().map(|l| l.sqrt()));
        scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quadrature of a short piece against the closed form, value and
    /// derivatives, over parameters where both apply.
    #[test]
    fn quadrature_piece_matches_the_closed_form() {
        for &(r, x, p, s, q, d) in &[
            (0.5, 0.0, 10.0, 0.6, 12.0, 1.0),
            (0.5, 3.0, 40.0, 0.6, 11.0, 1.0),
            (2.0, 10.0, 30.0, 1.5, 300.0, 0.7),
            (0.3, 1.0, 5.0, 0.2, 50.0, 1.0),
            (0.9, 0.0, 3.0, 4.0, 2.5, 0.25),
            (1.0, 0.0, 6.0, 57.0, 300.0, 1.0),
            (0.5, 40.0, 2.0, 0.6, 30.0, 1.0),
        ] {
            let a = ln_piece_by_quadrature(r + x, p, s, q, d, 2);
            let b = ln_piece_closed(r, x, p, s, q, d, 2);
            assert!(
                (a.value - b.value).abs() < 1e-10,
                "{a:?} {b:?}",
                a = a.value,
                b = b.value
            );
            for u in 0..4 {
                let tol = 1e-7 * b.grad[u].abs().max(1.0);
                assert!(
                    (a.grad[u] - b.grad[u]).abs() < tol,
                    "grad {u}: {} vs {}",
                    a.grad[u],
                    b.grad[u]
                );
                for v in 0..4 {
                    let tol = 1e-6 * b.hess[u][v].abs().max(1.0);
                    assert!(
                        (a.hess[u][v] - b.hess[u][v]).abs() < tol,
                        "hess {u}{v}: {} vs {}",
                        a.hess[u][v],
                        b.hess[u][v]
                    );
                }
            }
        }
    }
}
