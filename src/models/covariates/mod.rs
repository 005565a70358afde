//! Time-invariant covariates: a customer's traits scale the population
//! parameters of a model, and the fitter estimates the coefficients with them.
//!
//! A model with covariates is a base model `M` ([`CovariateModel`]) plus one
//! coefficient per (process, covariate column). Each *process* of `M` scales
//! some of its positive parameters: customer i's value of parameter j is
//!
//! φᵢⱼ = φⱼ · exp(sⱼ γ_gᵀ zᵢ),
//!
//! where g is the process that scales j, γ_g its coefficients, zᵢ the
//! customer's covariates of that process and sⱼ = ±1 the sign convention of the
//! model (Pareto/NBD: α and β with sign −1, so a positive purchase coefficient
//! raises the purchase rate and a positive drop-out coefficient the drop-out
//! rate; BG/NBD: α with −1, a and b with +1 each in its own process). With all
//! coefficients 0 every customer has the base parameters, so the model *is*
//! the base model: the log-likelihood is the same sum of the same terms.
//!
//! A covariate may be declared *shared*: one coefficient, named
//! `shared:<column>`, enters every process (an equality constraint).
//!
//! **Derivatives.** With ℓᵢ(φᵢ) the base model's log-likelihood of customer i
//! and its gradient gᵢ and Hessian Hᵢ in the customer's parameters φᵢ
//! ([`CovariateModel::customer_term`]), the chain rule through
//! φᵢⱼ(φ, γ) gives the gradient Jᵢᵀ gᵢ and the Hessian
//! Jᵢᵀ Hᵢ Jᵢ + Σⱼ gᵢⱼ ∇²φᵢⱼ, where
//! ∂φᵢⱼ/∂φⱼ = e^{η}, ∂φᵢⱼ/∂γₖ = sⱼ φᵢⱼ zᵢₖ, ∂²φᵢⱼ/∂φⱼ∂γₖ = sⱼ e^{η} zᵢₖ,
//! ∂²φᵢⱼ/∂γₖ∂γₗ = φᵢⱼ zᵢₖ zᵢₗ (η = sⱼ γᵀzᵢ). Continuous covariates do not
//! compress, so the sum runs over customers, in parallel chunks.
//!
//! **Regularisation** (CLVTools' `reg.lambdas`): each coefficient k carries a
//! λₖ ([`CovariateDesign::with_penalties`]) and [`Model::penalty_scale`] is
//! √λₖ for coefficients and 0 for the base parameters, so that a fit with
//! `penalizer_coef = 1` minimises −LL/N + Σₖ λₖ γₖ²; λ = 0 is the plain
//! maximum-likelihood fit.

mod compress;
pub mod partitioned;

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;

use compress::{key, Runs};

use crate::data::{CompressedData, CompressedSpend, CustomerData, SpendData, ZeroFrequency};
use crate::error::{Error, Result};
use crate::fit::{fit, FitOptions, Fitted};
use crate::models::params::{check_params, ParamSpec};
use crate::models::{Derivatives, Evaluation, FitData, Model, TransactionModel};
use crate::value::intervals::{draw_parameters, quantile, IntervalOptions, Intervals};

/// Shifts x up to which [`ln_gamma_shift`] sums the terms one by one.
const SHIFT_TERMS: f64 = 64.0;

/// (ln Γ(v+x) − ln Γ(v), ψ(v+x) − ψ(v), ψ′(v+x) − ψ′(v)), the derivatives
/// only up to `order` (0 otherwise), for v > 0 and x ≥ 0. For a whole x up
/// to 64 (and v within 1e-200 and 1e10) by the recurrence Γ(v+1) = v Γ(v): the sums of
/// ln(v+k), 1/(v+k) and −1/(v+k)² over k < x, which the covariate models
/// evaluate per customer (each with its own v) much faster than six special
/// functions, and without their cancellation when v ≫ x; otherwise by the
/// special functions.
pub(crate) fn ln_gamma_shift(v: f64, x: f64, order: u8) -> [f64; 3] {
    use crate::special::{digamma, ln_gamma, trigamma};
    if x == 0.0 {
        return [0.0; 3];
    }
    if !(x.fract() == 0.0 && x <= SHIFT_TERMS && v > 1e-200 && v < 1e10) {
        return [
            ln_gamma(v + x) - ln_gamma(v),
            if order >= 1 {
                digamma(v + x) - digamma(v)
            } else {
                0.0
            },
            if order >= 2 {
                trigamma(v + x) - trigamma(v)
            } else {
                0.0
            },
        ];
    }
    // The product of the v+k, its logarithm taken before it could overflow.
    let (mut product, mut ln_sum, mut inv_sum, mut inv2_sum) = (1.0f64, 0.0, 0.0, 0.0);
    let mut k = 0.0;
    while k < x {
        let term = v + k;
        product *= term;
        if product > 1e280 {
            ln_sum += product.ln();
            product = 1.0;
        }
        if order >= 1 {
            let inv = 1.0 / term;
            inv_sum += inv;
            inv2_sum += inv * inv;
        }
        k += 1.0;
    }
    [ln_sum + product.ln(), inv_sum, -inv2_sum]
}

/// ln B(a, b+x) − ln B(a, b) = [ln Γ(b+x) − ln Γ(b)] − [ln Γ(a+b+x) − ln Γ(a+b)]
/// with the ψ and ψ′ differences of b and of a+b (as [`ln_gamma_shift`]
/// gives them, up to `order`): (value, [ψ(b+x) − ψ(b), ψ(a+b+x) − ψ(a+b)],
/// [ψ′(b+x) − ψ′(b), ψ′(a+b+x) − ψ′(a+b)]). For a whole x up to 64 (b and
/// a+b in [`ln_gamma_shift`]'s range) the value is one logarithm of the
/// product of the ratios (b+k)/(a+b+k), each in (0, 1], instead of one per
/// product; otherwise the difference of two [`ln_gamma_shift`]s.
pub(crate) fn ln_beta_shift(a: f64, b: f64, x: f64, order: u8) -> (f64, [f64; 2], [f64; 2]) {
    if x == 0.0 {
        return (0.0, [0.0; 2], [0.0; 2]);
    }
    let ab = a + b;
    if !(x.fract() == 0.0 && x <= SHIFT_TERMS && b > 1e-200 && ab < 1e10) {
        let (sb, sab) = (ln_gamma_shift(b, x, order), ln_gamma_shift(ab, x, order));
        return (sb[0] - sab[0], [sb[1], sab[1]], [sb[2], sab[2]]);
    }
    // Each ratio is at least b/(a+b) > 1e-210: the product's logarithm is
    // taken before it could underflow.
    let (mut ratio, mut ln_sum) = (1.0f64, 0.0);
    let (mut psi, mut psi1) = ([0.0; 2], [0.0; 2]);
    let mut k = 0.0;
    while k < x {
        let (tb, tab) = (b + k, ab + k);
        if order >= 1 {
            let (ib, iab) = (1.0 / tb, 1.0 / tab);
            ratio *= tb * iab;
            psi[0] += ib;
            psi[1] += iab;
            psi1[0] -= ib * ib;
            psi1[1] -= iab * iab;
        } else {
            ratio *= tb / tab;
        }
        if ratio < 1e-80 {
            ln_sum += ratio.ln();
            ratio = 1.0;
        }
        k += 1.0;
    }
    (ln_sum + ratio.ln(), psi, psi1)
}

/// The most base parameters a [`CovariateModel`] may have (the GGom/NBD's
/// five: r, α, b, s, β).
pub const MAX_BASE_PARAMS: usize = 5;

/// One customer's log-likelihood with its gradient and Hessian in the base
/// model's natural parameters (entries past the model's parameter count are 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CustomerTerm {
    /// ln Lᵢ.
    pub value: f64,
    /// ∂ ln Lᵢ / ∂φ.
    pub grad: [f64; MAX_BASE_PARAMS],
    /// ∂² ln Lᵢ / ∂φ∂φᵀ.
    pub hess: [[f64; MAX_BASE_PARAMS]; MAX_BASE_PARAMS],
}

impl CustomerTerm {
    /// ln L = 0 with zero derivatives (a customer without information).
    pub const ZERO: CustomerTerm = CustomerTerm {
        value: 0.0,
        grad: [0.0; MAX_BASE_PARAMS],
        hess: [[0.0; MAX_BASE_PARAMS]; MAX_BASE_PARAMS],
    };
}

impl CustomerTerm {
    /// The gradient and Hessian in uⱼ = ln φⱼ from those in the parameters
    /// `values` φⱼ (up to `order`): ∂/∂uⱼ = φⱼ ∂/∂φⱼ and, for j ≤ l,
    /// ∂²/∂uⱼ∂uₗ = φⱼ φₗ ∂²/∂φⱼ∂φₗ + δⱼₗ ∂/∂uⱼ (the entries l < j are left
    /// as they were).
    pub fn to_log_coordinates(&mut self, values: &[f64], order: u8) {
        if order == 0 {
            return;
        }
        for (g, v) in self.grad.iter_mut().zip(values) {
            *g *= v;
        }
        if order < 2 {
            return;
        }
        for (j, &vj) in values.iter().enumerate() {
            for (l, &vl) in values.iter().enumerate().skip(j) {
                let mut h = vj * vl * self.hess[j][l];
                if j == l {
                    h += self.grad[j];
                }
                self.hess[j][l] = h;
            }
        }
    }
}

/// φ·e^η, exactly φ where η = 0 (exp(0) = 1 needs no exponential, and
/// coefficients 0 give the base model to the last bit).
fn scaled(phi: f64, eta: f64) -> f64 {
    if eta == 0.0 {
        phi
    } else {
        phi * eta.exp()
    }
}

/// A batch of customers given by exponents, for
/// [`CovariateModel::customer_log_terms`]: customer i's parameters are
/// φᵢⱼ = φⱼ e^{ηᵢⱼ}.
pub struct ScaledBatch<'a> {
    /// The base parameters φⱼ.
    pub base: &'a [f64],
    /// Their logarithms ln φⱼ.
    pub ln_base: &'a [f64],
    /// Each customer's exponents ηᵢⱼ (0 past the base parameters).
    pub eta: &'a [[f64; MAX_BASE_PARAMS]],
    /// Each customer's history, [`CovariateModel::HISTORY`] numbers each.
    pub histories: &'a [f64],
}

impl ScaledBatch<'_> {
    /// φᵢⱼ ([`scaled`]).
    pub fn value(&self, i: usize, j: usize) -> f64 {
        scaled(self.base[j], self.eta[i][j])
    }

    /// ln φᵢⱼ = ln φⱼ + ηᵢⱼ.
    pub fn ln_value(&self, i: usize, j: usize) -> f64 {
        self.ln_base[j] + self.eta[i][j]
    }

    /// Whether φᵢⱼ lies in (0, ∞), as [`Self::value`] computes it, without
    /// the exponential unless ln φᵢⱼ is near the ends of the floating-point
    /// range.
    pub fn in_range(&self, i: usize, j: usize) -> bool {
        if self.ln_value(i, j).abs() < 700.0 {
            return true;
        }
        let v = self.value(i, j);
        v > 0.0 && v.is_finite()
    }
}

/// Buffers of [`CovariateModel::customer_log_terms`]' default, reused from
/// batch to batch.
pub struct Scratch<M> {
    customers: Vec<M>,
    values: Vec<[f64; MAX_BASE_PARAMS]>,
}

impl<M> Default for Scratch<M> {
    fn default() -> Self {
        Scratch {
            customers: Vec::new(),
            values: Vec::new(),
        }
    }
}

/// A process of a base model: the name its coefficients carry
/// (`<name>:<column>`) and the parameters it scales, each with its sign.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Process {
    /// E.g. `"purchase"`, `"dropout"`, `"dropout_a"`.
    pub name: &'static str,
    /// (index of the base parameter, sign sⱼ of its exponent).
    pub scales: &'static [(usize, f64)],
}

/// A model whose customers' parameters covariates can scale.
///
/// A customer's observed history is [`Self::HISTORY`] numbers: (x, t_x, T)
/// for the transaction models, (x, m_x) for Gamma-Gamma spend.
pub trait CovariateModel: Model {
    /// The name of the model with covariates in saved files, e.g.
    /// `"ParetoNBDCovariates"` (distinct from the plain model's, so that a
    /// file with coefficients never loads as the plain model).
    const COVARIATE_NAME: &'static str;
    /// The processes, in the order their coefficients are listed.
    const PROCESSES: &'static [Process];
    /// How many numbers describe one customer's history.
    const HISTORY: usize;
    /// How many customers' terms the evaluation computes at once
    /// ([`Self::customer_log_terms`]): few, so that the terms stay in the
    /// first-level cache, unless the model shares work across a batch (at
    /// most the evaluation's chunk of 1024).
    const BATCH: usize = 64;
    /// Whether a (validated) history carries information: false for a
    /// transaction model's customer with T = 0, whose likelihood is 1, and
    /// for a spend model's customer without repeat purchases.
    fn carries_information(history: &[f64]) -> bool;
    /// ln Lᵢ of one customer's history with its gradient and Hessian
    /// (`order` 0, 1 or 2) in this model's natural parameters.
    fn customer_term(&self, history: &[f64], order: u8) -> CustomerTerm;
    /// [`Self::customer_term`] of many customers at once: `out[i]` for
    /// `customers[i]` and the i-th history of `histories` ([`Self::HISTORY`]
    /// numbers each). A model may share work between customers here (the
    /// Pareto/NBD interpolates a term that, for customers without repeat
    /// purchases, depends on one number); the default evaluates each alone.
    fn customer_terms(customers: &[Self], histories: &[f64], order: u8, out: &mut [CustomerTerm])
    where
        Self: Sized,
    {
        for ((customer, history), slot) in customers
            .iter()
            .zip(histories.chunks_exact(Self::HISTORY))
            .zip(out)
        {
            *slot = customer.customer_term(history, order);
        }
    }
    /// [`Self::customer_terms`] of a batch of customers given by exponents
    /// ([`ScaledBatch`]), in the logarithms of their parameters: `out[i]`
    /// gets ln Lᵢ with its gradient and Hessian in uᵢⱼ = ln φᵢⱼ, what the
    /// covariate sums need (∂/∂uⱼ = φⱼ ∂/∂φⱼ and ∂²/∂uⱼ∂uₗ = φⱼ φₗ
    /// ∂²/∂φⱼ∂φₗ + δⱼₗ φⱼ ∂/∂φⱼ, [`CustomerTerm::to_log_coordinates`]; only
    /// the Hessian's entries j ≤ l are read). `valid[i]` is false where a
    /// parameter of customer i leaves (0, ∞): the log-likelihood is then −∞
    /// and `out[i]` is not read. The default builds every customer's model
    /// (in `scratch`) for [`Self::customer_terms`]; a model may compute only
    /// the parameters each history needs (the BG/NBD's customers without
    /// repeat purchases need neither a nor b) and take ln φᵢⱼ as
    /// ln φⱼ + ηᵢⱼ instead of a logarithm per customer.
    fn customer_log_terms(
        batch: &ScaledBatch<'_>,
        order: u8,
        scratch: &mut Scratch<Self>,
        out: &mut [CustomerTerm],
        valid: &mut [bool],
    ) where
        Self: Sized,
    {
        let p = batch.base.len();
        scratch.customers.clear();
        scratch.values.clear();
        for (i, ok) in valid.iter_mut().enumerate() {
            let mut values = [0.0; MAX_BASE_PARAMS];
            for (j, v) in values[..p].iter_mut().enumerate() {
                *v = batch.value(i, j);
            }
            *ok = values[..p].iter().all(|v| *v > 0.0 && v.is_finite());
            // A placeholder where a parameter is out of range: not read.
            let at = if *ok { &values[..p] } else { batch.base };
            scratch.customers.push(Self::from_base_unchecked(at));
            scratch.values.push(values);
        }
        Self::customer_terms(&scratch.customers, batch.histories, order, out);
        for (values, term) in scratch.values.iter().zip(out.iter_mut()) {
            term.to_log_coordinates(&values[..p], order);
        }
    }
    /// E[Y(tᵢ) | xᵢ, t_xᵢ, Tᵢ] ([`TransactionModel::conditional_expected_purchases`])
    /// of many customers, each with a model of their own: `out[i]` for
    /// `customers[i]`. A model may share work between customers here (the BG
    /// family sums four customers' series in lockstep); the default evaluates
    /// each alone.
    fn conditional_expected_purchases_each(
        customers: &[Self],
        t: &[f64],
        x: &[f64],
        t_x: &[f64],
        age: &[f64],
        out: &mut [f64],
    ) where
        Self: Sized + TransactionModel,
    {
        for (i, (customer, slot)) in customers.iter().zip(out).enumerate() {
            *slot = customer.conditional_expected_purchases(t[i], x[i], t_x[i], age[i]);
        }
    }
    /// The model with these base parameter values (natural scale, in the
    /// order of [`Model::param_specs`]), which the caller has checked to be
    /// positive and finite: built per customer, so without the allocation of
    /// [`Model::with_params`]'s checks.
    fn from_base_unchecked(values: &[f64]) -> Self;
    /// The warnings of a fit with covariates whose base parameters are
    /// these: non-empty where they lie on a limit of the model at which the
    /// fit with covariates stays usable (so [`crate::fit()`] returns it with
    /// the warnings instead of refusing it as not identified, see
    /// [`Model::fit_warnings`]). None by default: a model opts in.
    fn covariate_fit_warnings(&self) -> Vec<String> {
        Vec::new()
    }
}

/// One coefficient's effect: coefficient `coefficient` times covariate column
/// `column` enters the exponent of base parameter `param` with sign `sign`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Link {
    param: usize,
    coefficient: usize,
    column: usize,
    sign: f64,
}

/// Which covariate columns enter which process: the coefficients of a
/// covariate model, their names, their penalties.
#[derive(Debug, Clone, PartialEq)]
pub struct CovariateDesign {
    columns: Vec<String>,
    coefficient_names: Vec<String>,
    penalties: Vec<f64>,
    links: Vec<Link>,
}

impl CovariateDesign {
    /// The design of base model `M` with covariate `columns` (their names),
    /// `by_process[g]` the columns (indices into `columns`) of process g of
    /// [`CovariateModel::PROCESSES`] and `shared` the columns with one
    /// coefficient for every process. Coefficients are listed process by
    /// process, then the shared ones; no penalties.
    ///
    /// Errors: a wrong number of processes, an unknown column index, a column
    /// listed twice in one process, or a shared column also listed in a
    /// process.
    pub fn new<M: CovariateModel>(
        columns: &[String],
        by_process: &[Vec<usize>],
        shared: &[usize],
    ) -> Result<Self> {
        let processes = M::PROCESSES;
        if by_process.len() != processes.len() {
            return Err(Error::InvalidCovariates(format!(
                "{} takes covariates for {} processes ({}), got {} lists",
                M::NAME,
                processes.len(),
                processes
                    .iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
                    .join(", "),
                by_process.len()
            )));
        }
        let check = |c: usize| -> Result<()> {
            if c >= columns.len() {
                return Err(Error::InvalidCovariates(format!(
                    "covariate column {c} does not exist ({} columns)",
                    columns.len()
                )));
            }
            Ok(())
        };
        let mut design = CovariateDesign {
            columns: columns.to_vec(),
            coefficient_names: Vec::new(),
            penalties: Vec::new(),
            links: Vec::new(),
        };
        // Within a process, coefficients follow the columns' names, so that
        // the names alone (a saved model's map) give back the same order.
        let by_name = |cols: &[usize]| -> Result<Vec<usize>> {
            let mut sorted = cols.to_vec();
            for &c in cols {
                check(c)?;
            }
            sorted.sort_by(|&x, &y| columns[x].cmp(&columns[y]));
            Ok(sorted)
        };
        let shared = by_name(shared)?;
        for (process, cols) in processes.iter().zip(by_process) {
            let cols = by_name(cols)?;
            for (k, &c) in cols.iter().enumerate() {
                if cols[..k].contains(&c) || shared.contains(&c) {
                    return Err(Error::InvalidCovariates(format!(
                        "covariate {} is listed twice for the {} process (or is also shared)",
                        columns[c], process.name
                    )));
                }
                let coefficient = design.coefficient_names.len();
                design
                    .coefficient_names
                    .push(format!("{}:{}", process.name, columns[c]));
                for &(param, sign) in process.scales {
                    design.links.push(Link {
                        param,
                        coefficient,
                        column: c,
                        sign,
                    });
                }
            }
        }
        for (k, &c) in shared.iter().enumerate() {
            if shared[..k].contains(&c) {
                return Err(Error::InvalidCovariates(format!(
                    "covariate {} is listed twice as shared",
                    columns[c]
                )));
            }
            let coefficient = design.coefficient_names.len();
            design
                .coefficient_names
                .push(format!("shared:{}", columns[c]));
            for process in processes {
                for &(param, sign) in process.scales {
                    design.links.push(Link {
                        param,
                        coefficient,
                        column: c,
                        sign,
                    });
                }
            }
        }
        design.penalties = vec![0.0; design.coefficient_names.len()];
        Ok(design)
    }

    /// The design that coefficient names such as `purchase:age` and
    /// `shared:channel` describe (as a saved model lists them), with the
    /// columns in order of first appearance.
    pub fn from_names<M: CovariateModel>(names: &[&str]) -> Result<Self> {
        let mut columns: Vec<String> = Vec::new();
        let mut by_process = vec![Vec::new(); M::PROCESSES.len()];
        let mut shared = Vec::new();
        for name in names {
            let Some((prefix, column)) = name.split_once(':') else {
                return Err(Error::InvalidCovariates(format!(
                    "{name} is not a coefficient name (<process>:<column>)"
                )));
            };
            let c = match columns.iter().position(|x| x == column) {
                Some(c) => c,
                None => {
                    columns.push(column.to_string());
                    columns.len() - 1
                }
            };
            if prefix == "shared" {
                shared.push(c);
            } else if let Some(g) = M::PROCESSES.iter().position(|p| p.name == prefix) {
                by_process[g].push(c);
            } else {
                return Err(Error::InvalidCovariates(format!(
                    "{name}: {} has no process {prefix} (its processes: {}, or shared)",
                    M::NAME,
                    M::PROCESSES
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let design = Self::new::<M>(&columns, &by_process, &shared)?;
        if design
            .coefficient_names
            .iter()
            .map(String::as_str)
            .ne(names.iter().copied())
        {
            return Err(Error::InvalidCovariates(
                "coefficients must be listed process by process, then the shared ones".into(),
            ));
        }
        Ok(design)
    }

    /// The same design with penalty λₖ on each coefficient (see the module
    /// documentation), e.g. λ_purchase for every purchase coefficient.
    pub fn with_penalties(mut self, penalties: Vec<f64>) -> Result<Self> {
        if penalties.len() != self.coefficient_names.len() {
            return Err(Error::InvalidCovariates(format!(
                "{} penalties for {} coefficients",
                penalties.len(),
                self.coefficient_names.len()
            )));
        }
        if let Some(&bad) = penalties.iter().find(|&&l| !(l >= 0.0 && l.is_finite())) {
            return Err(Error::InvalidParameter {
                name: "covariate penalty".into(),
                value: bad,
                rule: "must be finite and non-negative",
            });
        }
        self.penalties = penalties;
        Ok(self)
    }

    /// The covariate columns' names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The coefficients' names (`<process>:<column>`), in parameter order.
    pub fn coefficient_names(&self) -> &[String] {
        &self.coefficient_names
    }

    /// The penalty λₖ of each coefficient.
    pub fn penalties(&self) -> &[f64] {
        &self.penalties
    }

    /// The process (or `"shared"`) of each coefficient.
    pub fn coefficient_processes(&self) -> Vec<&str> {
        self.coefficient_names
            .iter()
            .map(|n| n.split_once(':').map_or("", |(p, _)| p))
            .collect()
    }
}

/// Customers' histories with their covariates and weights, to fit a
/// [`WithCovariates`] model on; `D` is the base model's data (the same
/// customers without covariates: [`CompressedData`] for the transaction
/// models, [`CompressedSpend`] for Gamma-Gamma).
///
/// Customers with the same history and the same covariates share one
/// weighted row, so categorical covariates keep fits at the cost of distinct
/// rows; customers whose history carries no information are left out.
#[derive(Debug, Clone, PartialEq)]
pub struct CovariateData<D = CompressedData> {
    /// Row-major rows × `width` (x, t_x, T or x, m_x).
    history: Vec<f64>,
    width: usize,
    weight: Vec<f64>,
    /// Row-major rows × (number of columns).
    covariates: Vec<f64>,
    design: Arc<CovariateDesign>,
    total_weight: f64,
    plain: D,
}

impl CovariateData<CompressedData> {
    /// Validates the histories as [`CustomerData::new`] does and the
    /// covariates (`covariates` row-major, one row per customer, one column
    /// per column of `design`; finite), and compresses: customers with the
    /// same history and covariates share one weighted row.
    ///
    /// Errors: [`Error::InvalidData`] naming the first offending row (and the
    /// covariate column); [`Error::LengthMismatch`].
    pub fn new(
        frequency: &[f64],
        recency: &[f64],
        age: &[f64],
        weights: Option<&[f64]>,
        covariates: &[f64],
        design: CovariateDesign,
    ) -> Result<Self> {
        // Validation only: the plain data are built from the sorted rows below.
        CustomerData::new(frequency, recency, age, weights)?;
        check_covariates(frequency.len(), covariates, &design)?;
        let mut data = CovariateData::compress(
            &[frequency, recency, age],
            weights,
            covariates,
            design,
            CompressedData::default(),
            |h| h[2] > 0.0,
        );
        data.plain = data.plain_histories(frequency, recency, age, weights);
        Ok(data)
    }

    /// The same customers without covariates ([`CustomerData::compress`] of
    /// the validated columns), from the compressed rows: they are sorted on
    /// their history, so customers with one history are neighbours, and the
    /// distinct histories with their summed weights need no second sort of
    /// all customers. Customers with T = 0, left out of the rows, are counted
    /// in `new_customers` from the columns.
    fn plain_histories(
        &self,
        frequency: &[f64],
        recency: &[f64],
        age: &[f64],
        weights: Option<&[f64]>,
    ) -> CompressedData {
        let same = |i: usize, j: usize| {
            let (a, b) = (self.history(i), self.history(j));
            a.iter().zip(b).all(|(u, v)| key(*u) == key(*v))
        };
        let runs = Runs::new(self.len(), |r| r == 0 || !same(r - 1, r));
        let distinct = runs.count();
        let (mut x, mut t_x, mut t, mut w) = (
            vec![0.0; distinct],
            vec![0.0; distinct],
            vec![0.0; distinct],
            vec![0.0; distinct],
        );
        for (column, out) in [&mut x, &mut t_x, &mut t].into_iter().enumerate() {
            runs.fill(out, 1, |v, group| v[0] = self.history(group.start)[column]);
        }
        // Summed in row order, as one pass would.
        runs.fill(&mut w, 1, |v, group| {
            v[0] = self.weight[group].iter().sum();
        });
        let plain = CustomerData::new(&x, &t_x, &t, Some(&w)).map(|d| d.compress());
        let mut plain = match plain {
            Ok(plain) => plain,
            // No rows, or summed weights that overflow: as the plain model
            // compresses the columns.
            Err(_) => {
                return CustomerData::new(frequency, recency, age, weights)
                    .expect("validated")
                    .compress()
            }
        };
        plain.new_customers = match weights {
            Some(w) => (0..age.len())
                .filter(|&i| age[i] == 0.0)
                .map(|i| w[i])
                .sum(),
            None => age.iter().filter(|&&v| v == 0.0).count() as f64,
        };
        plain
    }
}

impl CovariateData<CompressedSpend> {
    /// Repeat customers' spend (x, m_x) with their covariates, validated as
    /// [`SpendData::new`] does (`zero` says what to do with customers without
    /// repeat purchases), for Gamma-Gamma with covariates.
    ///
    /// Errors: [`Error::InvalidData`] naming the first offending row (and the
    /// covariate column); [`Error::LengthMismatch`].
    pub fn for_spend(
        frequency: &[f64],
        monetary_value: &[f64],
        weights: Option<&[f64]>,
        zero: ZeroFrequency,
        covariates: &[f64],
        design: CovariateDesign,
    ) -> Result<Self> {
        let plain = SpendData::new(frequency, monetary_value, weights, zero)?.compress();
        check_covariates(frequency.len(), covariates, &design)?;
        Ok(CovariateData::compress(
            &[frequency, monetary_value],
            weights,
            covariates,
            design,
            plain,
            |h| h[0] > 0.0,
        ))
    }
}

/// [`Error::LengthMismatch`] unless `covariates` has `n` rows of the design's
/// columns; [`Error::InvalidData`] at the first value that is not finite.
pub(crate) fn check_covariates(
    n: usize,
    covariates: &[f64],
    design: &CovariateDesign,
) -> Result<()> {
    let k = design.columns.len();
    if covariates.len() != n * k {
        return Err(Error::LengthMismatch {
            expected: n * k,
            found: covariates.len(),
            name: "covariates (customers × columns)",
        });
    }
    if let Some(pos) = covariates.iter().position(|v| !v.is_finite()) {
        let (row, column) = (pos / k, pos % k);
        return Err(Error::InvalidData {
            rule: "covariates must be finite numbers",
            row,
            detail: format!("{}={}", design.columns[column], covariates[pos]),
            column: None,
            cohort: None,
            period: None,
        });
    }
    Ok(())
}

impl<D> CovariateData<D> {
    /// Number of distinct rows: customers with the same history and the
    /// same covariates share one weighted row; customers without information
    /// (T = 0, or no repeat purchase for spend) are left out.
    pub fn len(&self) -> usize {
        self.weight.len()
    }

    /// Whether no row carries information.
    pub fn is_empty(&self) -> bool {
        self.weight.is_empty()
    }

    /// The design the covariates follow.
    pub fn design(&self) -> &CovariateDesign {
        &self.design
    }

    /// The same customers without covariates, compressed.
    pub fn without_covariates(&self) -> &D {
        &self.plain
    }

    fn row(&self, i: usize) -> &[f64] {
        let k = self.design.columns.len();
        &self.covariates[i * k..(i + 1) * k]
    }

    fn history(&self, i: usize) -> &[f64] {
        &self.history[i * self.width..(i + 1) * self.width]
    }
}

impl<D: FitData> FitData for CovariateData<D> {
    fn rows(&self) -> usize {
        self.len()
    }
    fn total_weight(&self) -> f64 {
        self.total_weight
    }
    fn subsample(&self, step: usize) -> Self {
        let step = step.max(1);
        let rows: Vec<usize> = (0..self.len()).step_by(step).collect();
        let weight: Vec<f64> = rows.iter().map(|&i| self.weight[i] * step as f64).collect();
        Self {
            history: rows
                .iter()
                .flat_map(|&i| self.history(i).iter().copied())
                .collect(),
            width: self.width,
            total_weight: weight.iter().sum(),
            weight,
            covariates: rows
                .iter()
                .flat_map(|&i| self.row(i).iter().copied())
                .collect(),
            design: Arc::clone(&self.design),
            plain: self.plain.subsample(step),
        }
    }
}

/// Base model `M` with time-invariant covariates: the base parameters, then
/// one coefficient per entry of the design (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct WithCovariates<M: CovariateModel> {
    base: M,
    /// `base.to_vec()`, kept for the per-customer loop.
    base_values: Vec<f64>,
    coefficients: Vec<f64>,
    design: Arc<CovariateDesign>,
}

const CHUNK: usize = 1024;

/// The entries of a block of sums that a row adds to (see
/// [`WithCovariates::evaluate`]).
enum Entries {
    /// The first `len`.
    Prefix(usize),
    /// These, in increasing order.
    List(Vec<usize>),
}

impl Entries {
    fn of(sorted: &[usize]) -> Self {
        if sorted.iter().enumerate().all(|(i, &e)| i == e) {
            Entries::Prefix(sorted.len())
        } else {
            Entries::List(sorted.to_vec())
        }
    }

    /// `block[e] += scale · values[e]` for each entry e.
    #[inline]
    fn add(&self, block: &mut [f64], scale: f64, values: &[f64]) {
        match self {
            Entries::Prefix(len) => {
                for (acc, &v) in block[..*len].iter_mut().zip(&values[..*len]) {
                    *acc += scale * v;
                }
            }
            Entries::List(list) => {
                for &e in list {
                    block[e] += scale * values[e];
                }
            }
        }
    }
}

/// Distinct histories above which [`WithCovariates::initial_params`] fits the
/// plain model to a subsample of about this many: a start for the warm
/// start, whose first stage fits a few thousand rows with covariates.
const INITIAL_FIT_ROWS: usize = 10_000;

impl<M: CovariateModel> WithCovariates<M> {
    /// The model with base parameters `base`, this design and these
    /// coefficients (in the design's order).
    pub fn new(base: M, design: CovariateDesign, coefficients: Vec<f64>) -> Result<Self> {
        let design = Arc::new(design);
        let model = Self {
            base_values: base.to_vec(),
            base,
            coefficients: vec![0.0; design.coefficient_names.len()],
            design,
        };
        model.with_params(&[model.base.to_vec(), coefficients].concat())
    }

    /// The population (base) parameters.
    pub fn base(&self) -> &M {
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

    /// The base model with customer-specific parameters for covariates `z`
    /// (one value per column of the design): every prediction of a customer
    /// with these traits is this model's prediction.
    pub fn for_customer(&self, z: &[f64]) -> Result<M> {
        let values = self.customer_params(z);
        let p = self.p_base();
        if let Some(&bad) = values[..p].iter().find(|v| !(**v > 0.0 && v.is_finite())) {
            return Err(Error::InvalidParameter {
                name: "a customer's parameter (base parameter times exp(coefficients' z))".into(),
                value: bad,
                rule: "must be positive and finite",
            });
        }
        Ok(M::from_base_unchecked(&values[..p]))
    }

    /// `f(model of customer i, i)` for every customer, in parallel, where
    /// `covariates` holds one row per customer (row-major, one value per
    /// column of the design): the predictions of customers with covariates.
    ///
    /// Errors: [`Error::LengthMismatch`] when `covariates` does not have
    /// `n` rows; [`Error::InvalidData`] for a covariate that is not finite or
    /// that takes a customer's parameter out of its domain (overflow).
    pub fn per_customer<T: Send>(
        &self,
        n: usize,
        covariates: &[f64],
        f: impl Fn(&M, usize) -> T + Sync + Send,
    ) -> Result<Vec<T>> {
        let k = self.columns_for(n, covariates)?;
        // An indexed collect writes the values in place (a collect into
        // Result gathers lists of pieces); a customer whose covariates
        // overflow a parameter, or any after a stop request, gets None.
        let values: Vec<Option<T>> = (0..n)
            .into_par_iter()
            .map(|i| {
                if crate::interrupt::requested() {
                    return None;
                }
                let z = &covariates[i * k..(i + 1) * k];
                self.for_customer(z).ok().map(|model| f(&model, i))
            })
            .collect();
        crate::interrupt::check()?;
        let first_bad = values.iter().position(Option::is_none);
        if let Some(row) = first_bad {
            return Err(self.bad_covariates(covariates, row));
        }
        Ok(values.into_iter().map(|v| v.expect("checked")).collect())
    }

    /// The error of customer `row`, whose covariates take a parameter out of
    /// its domain.
    fn bad_covariates(&self, covariates: &[f64], row: usize) -> Error {
        let k = self.design.columns.len();
        let z = &covariates[row * k..(row + 1) * k];
        Error::InvalidData {
            rule: "covariates must be finite and give finite, positive customer parameters",
            row,
            detail: self
                .design
                .columns
                .iter()
                .zip(z)
                .map(|(c, v)| format!("{c}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
            column: None,
            cohort: None,
            period: None,
        }
    }

    /// One number per customer from `f(models, rows, out)` called on chunks
    /// of customers (`models[j]` the model of customer `rows.start + j`, whose
    /// value goes to `out[j]`), in parallel, written in place: for the
    /// predictions that a model computes several customers at a time. Errors
    /// as [`Self::per_customer`].
    pub(crate) fn per_customer_chunks(
        &self,
        n: usize,
        covariates: &[f64],
        f: impl Fn(&[M], std::ops::Range<usize>, &mut [f64]) + Sync + Send,
    ) -> Result<Vec<f64>> {
        let k = self.columns_for(n, covariates)?;
        let mut out = vec![0.0; n];
        let first_bad = out
            .par_chunks_mut(CHUNK)
            .enumerate()
            .filter_map(|(c, slots)| {
                if crate::interrupt::requested() {
                    return None; // the caller reports the stop
                }
                let rows = c * CHUNK..c * CHUNK + slots.len();
                let mut models = Vec::with_capacity(slots.len());
                for i in rows.clone() {
                    match self.for_customer(&covariates[i * k..(i + 1) * k]) {
                        Ok(model) => models.push(model),
                        Err(_) => return Some(i),
                    }
                }
                f(&models, rows, slots);
                None
            })
            .min();
        crate::interrupt::check()?;
        match first_bad {
            Some(row) => Err(self.bad_covariates(covariates, row)),
            None => Ok(out),
        }
    }

    /// The number of covariate columns, after checking that `covariates`
    /// holds `n` rows of them ([`Error::LengthMismatch`] otherwise).
    fn columns_for(&self, n: usize, covariates: &[f64]) -> Result<usize> {
        let k = self.design.columns.len();
        if covariates.len() != n * k {
            return Err(Error::LengthMismatch {
                expected: n * k,
                found: covariates.len(),
                name: "covariates (customers × columns)",
            });
        }
        Ok(k)
    }

    /// Customer parameters φᵢⱼ = φⱼ exp(ηᵢⱼ) (entries past the base
    /// parameters are 0).
    fn customer_params(&self, z: &[f64]) -> [f64; MAX_BASE_PARAMS] {
        let eta = self.exponents(z);
        let mut values = [0.0; MAX_BASE_PARAMS];
        for (j, &v) in self.base_values.iter().enumerate() {
            values[j] = scaled(v, eta[j]);
        }
        values
    }

    /// The exponents ηᵢⱼ = sⱼ γᵀzᵢ of a customer's parameters (0 past the
    /// base parameters).
    fn exponents(&self, z: &[f64]) -> [f64; MAX_BASE_PARAMS] {
        let mut eta = [0.0; MAX_BASE_PARAMS];
        for link in &self.design.links {
            eta[link.param] += link.sign * self.coefficients[link.coefficient] * z[link.column];
        }
        eta
    }

    fn p_base(&self) -> usize {
        self.base_values.len()
    }

    /// The penalty scale of each parameter: 0 for the base parameters, √λₖ
    /// for coefficient k (see the module documentation).
    pub(crate) fn penalty_scales(&self) -> Vec<f64> {
        let mut scale = vec![0.0; self.p_base()];
        scale.extend(self.design.penalties.iter().map(|l| l.sqrt()));
        scale
    }
}

/// An error about one customer's data, moved to that customer's row `row`.
pub(crate) fn at_row(error: Error, row: usize) -> Error {
    match error {
        Error::InvalidData {
            rule,
            detail,
            column,
            cohort,
            period,
            ..
        } => Error::InvalidData {
            rule,
            row,
            detail,
            column,
            cohort,
            period,
        },
        other => other,
    }
}

/// Intervals over the uncertainty of the estimates of a model with covariates
/// (see [`crate::value::intervals`]): parameter vectors, coefficients
/// included, are drawn from the asymptotic normal distribution of the fitted
/// model's estimates ([`draw_parameters`]; the coefficients on their own,
/// unbounded scale); each customer's prediction under each draw is the base
/// model's at the customer's parameters under that draw, and the
/// (1 ∓ level)/2 quantiles of those values are the bounds.
impl<M: CovariateModel + TransactionModel> WithCovariates<M> {
    /// `predict(model of customer i, i)` for the `n` customers whose covariate
    /// rows are `covariates`, at the estimate and over the draws.
    ///
    /// Errors as [`Self::per_customer`] and [`draw_parameters`] (no
    /// covariance), and when a draw takes a customer's parameter out of its
    /// domain.
    pub fn interval(
        fitted: &Fitted<Self>,
        n: usize,
        covariates: &[f64],
        options: &IntervalOptions,
        predict: impl Fn(&M, usize) -> Result<f64> + Sync + Send,
    ) -> Result<Intervals> {
        options.validate()?;
        let model = &fitted.model;
        let predict = |m: &M, i: usize| predict(m, i).map_err(|e| at_row(e, i));
        let estimate = model
            .per_customer(n, covariates, predict)?
            .into_iter()
            .collect::<Result<Vec<f64>>>()?;
        let draws = draw_parameters(fitted, options.n_draws, options.seed, 0)?;
        let k = model.design.columns.len();
        let (q_lo, q_hi) = (0.5 * (1.0 - options.level), 0.5 * (1.0 + options.level));
        let bounds = (0..n)
            .into_par_iter()
            .map(|i| {
                crate::interrupt::check()?;
                let z = &covariates[i * k..(i + 1) * k];
                let mut values = draws
                    .iter()
                    .map(|draw| predict(&draw.for_customer(z)?, i))
                    .collect::<Result<Vec<f64>>>()?;
                values.sort_unstable_by(f64::total_cmp);
                Ok((quantile(&values, q_lo), quantile(&values, q_hi)))
            })
            .collect::<Result<Vec<(f64, f64)>>>()?;
        let (lower, upper) = bounds.into_iter().unzip();
        Ok(Intervals {
            estimate,
            lower,
            upper,
        })
    }
}

/// The predictions of the transaction models that take more than one
/// customer's history at a time (DERT, CLV, simulation), per customer with
/// their covariate row. Each runs the plain model's function on one customer
/// with that customer's parameters, so inputs are checked by the same rules;
/// an error names the row as the caller counts it.
impl<M: CovariateModel + TransactionModel> WithCovariates<M> {
    /// DERT(δᵢ | xᵢ, t_xᵢ, Tᵢ) of each customer, see
    /// [`crate::value::dert::discounted_expected_residual_transactions`].
    pub fn discounted_expected_residual_transactions(
        &self,
        discount_rate: &[f64],
        frequency: &[f64],
        recency: &[f64],
        age: &[f64],
        covariates: &[f64],
    ) -> Result<Vec<f64>> {
        let n = frequency.len();
        same_length(
            n,
            &[
                ("discount_rate", discount_rate),
                ("recency", recency),
                ("T", age),
            ],
        )?;
        self.one_by_one(n, covariates, |m, i| {
            crate::value::dert::discounted_expected_residual_transactions(
                m,
                &discount_rate[i..=i],
                &frequency[i..=i],
                &recency[i..=i],
                &age[i..=i],
            )
        })
    }

    /// Discounted expected spend over the next `options.time` months, see
    /// [`crate::value::clv::customer_lifetime_value`].
    pub fn customer_lifetime_value(
        &self,
        frequency: &[f64],
        recency: &[f64],
        age: &[f64],
        monetary_value: &[f64],
        covariates: &[f64],
        options: &crate::value::clv::ClvOptions,
    ) -> Result<Vec<f64>> {
        options.validate()?;
        self.value_one_by_one(
            [frequency, recency, age, monetary_value],
            covariates,
            |m, [x, tx, t, v]| crate::value::clv::customer_lifetime_value(m, x, tx, t, v, options),
        )
    }

    /// Value of the whole remaining lifetime at the continuous rate δ, see
    /// [`crate::value::clv::customer_lifetime_value_continuous`].
    pub fn customer_lifetime_value_continuous(
        &self,
        frequency: &[f64],
        recency: &[f64],
        age: &[f64],
        monetary_value: &[f64],
        covariates: &[f64],
        discount_rate: f64,
    ) -> Result<Vec<f64>> {
        self.value_one_by_one(
            [frequency, recency, age, monetary_value],
            covariates,
            |m, [x, tx, t, v]| {
                crate::value::clv::customer_lifetime_value_continuous(m, x, tx, t, v, discount_rate)
            },
        )
    }

    /// A CLV function of (x, t_x, T, monetary value) run customer by customer
    /// ([`Self::one_by_one`]) after checking that the columns have one value
    /// per customer.
    fn value_one_by_one(
        &self,
        columns: [&[f64]; 4],
        covariates: &[f64],
        f: impl Fn(&M, [&[f64]; 4]) -> Result<Vec<f64>> + Sync + Send,
    ) -> Result<Vec<f64>> {
        let [frequency, recency, age, monetary_value] = columns;
        let n = frequency.len();
        same_length(
            n,
            &[
                ("recency", recency),
                ("T", age),
                ("monetary_value", monetary_value),
            ],
        )?;
        self.one_by_one(n, covariates, |m, i| f(m, columns.map(|c| &c[i..=i])))
    }

    /// E[Y(tᵢ) | xᵢ, t_xᵢ, Tᵢ] of each customer with their covariate row (as
    /// [`Self::per_customer`] with [`TransactionModel::conditional_expected_purchases`],
    /// through [`CovariateModel::conditional_expected_purchases_each`]). The
    /// inputs are the caller's to validate (the prediction rules).
    pub fn conditional_expected_purchases(
        &self,
        t: &[f64],
        frequency: &[f64],
        recency: &[f64],
        age: &[f64],
        covariates: &[f64],
    ) -> Result<Vec<f64>> {
        let n = frequency.len();
        same_length(n, &[("t", t), ("recency", recency), ("T", age)])?;
        self.per_customer_chunks(n, covariates, |models, rows, out| {
            M::conditional_expected_purchases_each(
                models,
                &t[rows.clone()],
                &frequency[rows.clone()],
                &recency[rows.clone()],
                &age[rows],
                out,
            )
        })
    }

    /// Customers of ages `age` simulated each with their covariate row's
    /// parameters; reproducible for a given seed whatever the number of
    /// threads (as [`crate::predict::simulate`]).
    pub fn simulate(
        &self,
        age: &[f64],
        covariates: &[f64],
        seed: u64,
    ) -> Result<Vec<crate::models::SimulatedCustomer>> {
        crate::predict::check_simulation_ages(age)?;
        let customers = self.per_customer(age.len(), covariates, |m, _| m.clone())?;
        Ok(crate::predict::simulate_chunked(
            age.len(),
            seed,
            |i, rng| customers[i].simulate_customer(age[i], rng),
        ))
    }

    /// `f(model of customer i, i)` giving one value per customer, with an
    /// error's row set to i.
    fn one_by_one(
        &self,
        n: usize,
        covariates: &[f64],
        f: impl Fn(&M, usize) -> Result<Vec<f64>> + Sync + Send,
    ) -> Result<Vec<f64>> {
        self.per_customer(n, covariates, |m, i| {
            f(m, i).map(|v| v[0]).map_err(|e| at_row(e, i))
        })?
        .into_iter()
        .collect()
    }
}

/// Every column must have one value per customer.
fn same_length(n: usize, columns: &[(&'static str, &[f64])]) -> Result<()> {
    for &(name, column) in columns {
        crate::data::validation::check_length(name, column.len(), n)?;
    }
    Ok(())
}

impl<M: CovariateModel> Model for WithCovariates<M> {
    type Data = CovariateData<M::Data>;
    const NAME: &'static str = M::COVARIATE_NAME;

    fn param_specs(&self) -> Vec<ParamSpec> {
        let mut specs = self.base.param_specs();
        specs.extend(
            self.design
                .coefficient_names
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
        let p = self.p_base();
        Ok(Self {
            base: self.base.with_params(&values[..p])?,
            base_values: values[..p].to_vec(),
            coefficients: values[p..].to_vec(),
            design: Arc::clone(&self.design),
        })
    }

    fn template(data: &Self::Data) -> Self {
        let base = M::template(&data.plain);
        Self {
            base_values: base.to_vec(),
            base,
            coefficients: vec![0.0; data.design.coefficient_names.len()],
            design: Arc::clone(&data.design),
        }
    }

    fn from_named_params(params: &BTreeMap<String, f64>) -> Result<Self> {
        let base = M::from_named_params(params)?;
        let base_names = base.param_names();
        // A map keeps no order: list the coefficients process by process (in
        // M::PROCESSES order), then the shared ones, by column name within
        // each, which is the order CovariateDesign::new gives them.
        let mut names: Vec<&str> = Vec::new();
        for prefix in M::PROCESSES.iter().map(|p| p.name).chain(["shared"]) {
            names.extend(
                params
                    .keys()
                    .filter(|k| !base_names.contains(k))
                    .filter(|k| k.split_once(':').is_some_and(|(p, _)| p == prefix))
                    .map(String::as_str),
            );
        }
        let design = CovariateDesign::from_names::<M>(&names)?;
        let coefficients = lookup_coefficients(&design, params)?;
        Self::new(base, design, coefficients)
    }

    /// Σ wᵢ ln Lᵢ over the rows with its gradient and Hessian. Each row's
    /// derivatives are taken in the customer's log-parameters uᵢⱼ = ln φᵢⱼ
    /// = ln φⱼ + sⱼ γᵀzᵢ, which are linear in (ln φ, γ): the row adds
    /// Jᵀ g^u and Jᵀ H^u J with g^uⱼ = φᵢⱼ gᵢⱼ, H^uⱼₗ = φᵢⱼ φᵢₗ Hᵢⱼₗ + δⱼₗ g^uⱼ
    /// and J the constant-pattern Jacobian ∂u/∂(ln φ, γ) (1 and sⱼ zᵢₖ); the
    /// sums are carried over to the natural scale of φ once, at the end.
    fn evaluate(&self, data: &Self::Data, derivatives: Derivatives) -> Evaluation {
        let order: u8 = match derivatives {
            Derivatives::None => 0,
            Derivatives::Gradient => 1,
            Derivatives::Hessian => 2,
        };
        let p_base = self.p_base();
        let p = p_base + self.coefficients.len();
        let n = data.len();
        // With vᵢ = (1, zᵢ), uᵢⱼ = ln φⱼ + sⱼ γᵀzᵢ gives ∂uᵢⱼ/∂θ = Aⱼ vᵢ for a
        // constant Aⱼ (entry 1 for ln φⱼ, sⱼ for each coefficient of j on
        // its column). So the rows only sum Gⱼ = Σ w g^uⱼ v and, for j ≤ l,
        // Mⱼₗ = Σ w H^uⱼₗ v vᵀ (its upper triangle): dense, fixed-pattern
        // sums; the gradient Σⱼ Aⱼ Gⱼ and the Hessian Σⱼₗ Aⱼ Mⱼₗ Aₗᵀ follow
        // once per evaluation.
        let k = self.design.columns.len();
        let m = k + 1;
        let tri = m * (m + 1) / 2;
        let pairs: Vec<(usize, usize)> = (0..p_base)
            .flat_map(|j| (j..p_base).map(move |l| (j, l)))
            .collect();
        let (g_len, h_len) = (
            if order >= 1 { p_base * m } else { 0 },
            if order >= 2 { pairs.len() * tri } else { 0 },
        );
        // Only the entries the assembly below reads are summed: for Gⱼ the
        // entries of v that Aⱼ touches (1 and the columns of j's
        // coefficients; a parameter without covariates needs the first
        // only), for Mⱼₗ their products. Each is `Prefix(len)` when they are
        // the first `len` entries (contiguous sums), else a list.
        let slots: Vec<Vec<usize>> = (0..p_base)
            .map(|j| {
                let mut s: Vec<usize> = std::iter::once(0)
                    .chain(
                        self.design
                            .links
                            .iter()
                            .filter(|link| link.param == j)
                            .map(|link| link.column + 1),
                    )
                    .collect();
                s.sort_unstable();
                s.dedup();
                s
            })
            .collect();
        let tri_at = |a: usize, b: usize| {
            let (a, b) = (a.min(b), a.max(b));
            a * m - a * (a + 1) / 2 + b
        };
        let pair_entries: Vec<Vec<usize>> = pairs
            .iter()
            .map(|&(j, l)| {
                let mut e: Vec<usize> = slots[j]
                    .iter()
                    .flat_map(|&a| slots[l].iter().map(move |&b| tri_at(a, b)))
                    .collect();
                e.sort_unstable();
                e.dedup();
                e
            })
            .collect();
        let g_entries: Vec<Entries> = slots.iter().map(|s| Entries::of(s)).collect();
        let h_entries: Vec<Entries> = pair_entries.iter().map(|e| Entries::of(e)).collect();
        let zero = || (0.0, vec![0.0; g_len], vec![0.0; h_len]);
        // Buffers of a batch of customers, reused from batch to batch.
        type Buffers<M> = (
            Vec<[f64; MAX_BASE_PARAMS]>,
            Vec<bool>,
            Vec<CustomerTerm>,
            Scratch<M>,
        );
        let buffers = || -> Buffers<M> {
            (
                Vec::with_capacity(M::BATCH),
                Vec::with_capacity(M::BATCH),
                Vec::with_capacity(M::BATCH),
                Scratch::default(),
            )
        };
        let ln_base: Vec<f64> = self.base_values.iter().map(|v| v.ln()).collect();
        let (value, g_sums, m_sums) = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map_init(buffers, |(eta, valid, terms, scratch), chunk| {
                let (mut value, mut g_acc, mut h_acc) = zero();
                if crate::interrupt::requested() {
                    return (value, g_acc, h_acc); // the caller discards the result
                }
                let mut v = vec![1.0; m];
                let mut vv = vec![0.0; tri];
                let chunk_rows = chunk * CHUNK..((chunk + 1) * CHUNK).min(n);
                // A batch of customers' exponents, then their terms all at
                // once (few enough that the terms stay in the first-level
                // cache), then their sums.
                for batch in chunk_rows.step_by(M::BATCH) {
                    let rows = batch..(batch + M::BATCH).min(n);
                    eta.clear();
                    eta.extend(rows.clone().map(|i| self.exponents(data.row(i))));
                    // Every slot is written: the initial values only make
                    // the slots.
                    terms.resize(rows.len(), CustomerTerm::ZERO);
                    valid.resize(rows.len(), false);
                    let width = data.width;
                    let scaled = ScaledBatch {
                        base: &self.base_values,
                        ln_base: &ln_base,
                        eta,
                        histories: &data.history[rows.start * width..rows.end * width],
                    };
                    M::customer_log_terms(&scaled, order, scratch, terms, valid);
                    for ((i, &ok), term) in rows.zip(valid.iter()).zip(terms.iter()) {
                        let w = data.weight[i];
                        let z = data.row(i);
                        if !ok {
                            // The coefficients overflow a customer's parameter.
                            value = f64::NEG_INFINITY;
                            continue;
                        }
                        value += w * term.value;
                        if order == 0 {
                            continue;
                        }
                        v[1..].copy_from_slice(z);
                        for (j, block) in g_acc.chunks_exact_mut(m).enumerate() {
                            g_entries[j].add(block, w * term.grad[j], &v);
                        }
                        if order < 2 {
                            continue;
                        }
                        let mut q = 0;
                        for a in 0..m {
                            for &vb in &v[a..] {
                                vv[q] = v[a] * vb;
                                q += 1;
                            }
                        }
                        for ((&(j, l), block), entries) in pairs
                            .iter()
                            .zip(h_acc.chunks_exact_mut(tri))
                            .zip(&h_entries)
                        {
                            let h = w * term.hess[j][l];
                            if h == 0.0 {
                                continue;
                            }
                            entries.add(block, h, &vv);
                        }
                    }
                }
                (value, g_acc, h_acc)
            })
            .reduce(zero, |mut a, b| {
                a.0 += b.0;
                a.1.iter_mut().zip(b.1).for_each(|(x, y)| *x += y);
                a.2.iter_mut().zip(b.2).for_each(|(x, y)| *x += y);
                a
            });
        // The entries of each Aⱼ: (parameter index, index into v, value).
        let entries: Vec<Vec<(usize, usize, f64)>> = (0..p_base)
            .map(|j| {
                std::iter::once((j, 0, 1.0))
                    .chain(
                        self.design
                            .links
                            .iter()
                            .filter(|link| link.param == j)
                            .map(|link| (p_base + link.coefficient, link.column + 1, link.sign)),
                    )
                    .collect()
            })
            .collect();
        // Gradient and Hessian in (ln φ, γ).
        let mut grad_u = vec![0.0; if order >= 1 { p } else { 0 }];
        let mut hess_u = vec![0.0; if order >= 2 { p * p } else { 0 }];
        if order >= 1 {
            for (j, list) in entries.iter().enumerate() {
                for &(t, a, c) in list {
                    grad_u[t] += c * g_sums[j * m + a];
                }
            }
        }
        if order >= 2 {
            let tri_index = |a: usize, b: usize| {
                let (a, b) = (a.min(b), a.max(b));
                a * m - a * (a + 1) / 2 + b
            };
            for (q, &(j, l)) in pairs.iter().enumerate() {
                let block = &m_sums[q * tri..(q + 1) * tri];
                // Mⱼₗ = Mₗⱼ: the (j, l) and, for j < l, the (l, j) term.
                let mut add = |x: &[(usize, usize, f64)], y: &[(usize, usize, f64)]| {
                    for &(t, a, c) in x {
                        for &(u, b, d) in y {
                            hess_u[t * p + u] += c * d * block[tri_index(a, b)];
                        }
                    }
                };
                add(&entries[j], &entries[l]);
                if j != l {
                    add(&entries[l], &entries[j]);
                }
            }
        }
        // From (ln φ, γ) to (φ, γ): ∂/∂φⱼ = (1/φⱼ) ∂/∂ln φⱼ and
        // ∂²/∂φⱼ∂φₗ = (∂²/∂ln φⱼ∂ln φₗ − δⱼₗ ∂/∂ln φⱼ)/(φⱼ φₗ).
        let scale = |a: usize| {
            if a < p_base {
                1.0 / self.base_values[a]
            } else {
                1.0
            }
        };
        let gradient: Vec<f64> = grad_u
            .iter()
            .enumerate()
            .map(|(a, g)| g * scale(a))
            .collect();
        let mut hessian = Vec::new();
        if order >= 2 {
            hessian = vec![0.0; p * p];
            for a in 0..p {
                for b in 0..p {
                    let mut h = hess_u[a * p + b];
                    if a == b && a < p_base {
                        h -= grad_u[a];
                    }
                    hessian[a * p + b] = h * scale(a) * scale(b);
                }
            }
        }
        Evaluation {
            value,
            gradient,
            hessian,
        }
    }

    /// The base model's maximum-likelihood estimates without covariates (its
    /// own starting values if that fit fails; on more than twice
    /// `INITIAL_FIT_ROWS` distinct histories, estimates on a subsample of
    /// them) and coefficients 0.
    fn initial_params(&self, data: &Self::Data) -> Vec<f64> {
        // A start only (the warm start and the fit on all rows follow): on
        // large data the plain model is fitted to a subsample of its rows.
        let step = data.plain.rows() / INITIAL_FIT_ROWS;
        let sample;
        let plain = if step > 1 {
            sample = data.plain.subsample(step);
            &sample
        } else {
            &data.plain
        };
        let base = fit::<M>(plain, &FitOptions::default())
            .map(|f| f.model.to_vec())
            .unwrap_or_else(|_| M::template(&data.plain).initial_params(&data.plain));
        [base, vec![0.0; self.coefficients.len()]].concat()
    }

    /// 0 for the base parameters, √λₖ for coefficient k.
    fn penalty_scale(&self, _data: &Self::Data) -> Vec<f64> {
        self.penalty_scales()
    }

    /// [`CovariateModel::covariate_fit_warnings`] of the base parameters.
    fn fit_warnings(&self) -> Vec<String> {
        self.base.covariate_fit_warnings()
    }
}

fn lookup_coefficients(
    design: &CovariateDesign,
    params: &BTreeMap<String, f64>,
) -> Result<Vec<f64>> {
    crate::models::params::lookup_named(design.coefficient_names.iter().map(String::as_str), params)
}

#[cfg(test)]
mod tests {
    use super::{ln_beta_shift, ln_gamma_shift};
    use crate::special::{digamma, ln_gamma, trigamma};

    /// The finite sums agree with the special functions' differences (to
    /// the latter's cancellation error), and the fallbacks are those
    /// differences exactly.
    #[test]
    fn ln_gamma_shift_is_the_difference_of_the_special_functions() {
        for v in [1e-8, 0.03, 0.7, 1.0, 2.5, 40.0, 3e4, 1e9] {
            for x in [0.0, 1.0, 2.0, 7.0, 30.0, 64.0, 65.0, 500.0, 2.5] {
                let [l, d, t] = ln_gamma_shift(v, x, 2);
                let expected = [
                    ln_gamma(v + x) - ln_gamma(v),
                    digamma(v + x) - digamma(v),
                    trigamma(v + x) - trigamma(v),
                ];
                let scale = [
                    ln_gamma(v + x).abs() + ln_gamma(v).abs() + 1.0,
                    digamma(v + x).abs() + digamma(v).abs() + 1.0,
                    trigamma(v).abs() + 1.0,
                ];
                // The special functions' own error: trigamma's is near 1e-12.
                let tolerance = [1e-13, 1e-13, 2e-12];
                for (what, (((a, b), s), tol)) in ["ln Γ", "ψ", "ψ′"]
                    .iter()
                    .zip([l, d, t].iter().zip(&expected).zip(&scale).zip(tolerance))
                {
                    assert!(
                        (a - b).abs() <= tol * s,
                        "{what} shift at v={v}, x={x}: {a} vs {b}"
                    );
                }
                let value_only = ln_gamma_shift(v, x, 0);
                assert_eq!(value_only[0], l);
            }
        }
        // Exact sums: ψ′(31) − ψ′(1) = −Σ_{k≤30} 1/k², ln(Γ(6)/Γ(1)) = ln 120.
        let sum: f64 = (1..=30).map(|k| 1.0 / (k * k) as f64).sum();
        assert!((ln_gamma_shift(1.0, 30.0, 2)[2] + sum).abs() <= 4e-16 * sum);
        assert!((ln_gamma_shift(1.0, 5.0, 0)[0] - 120f64.ln()).abs() <= 1e-15 * 120f64.ln());
    }

    /// The Beta shift is the difference of the two Gamma shifts, including
    /// products of ratios that would underflow without the intermediate
    /// logarithms (b/(a+b) near 1e-210, sixty-four of them).
    #[test]
    fn ln_beta_shift_is_the_difference_of_two_gamma_shifts() {
        for (a, b) in [
            (0.8, 2.4),
            (1e-6, 3.0),
            (5e3, 0.02),
            (1e9, 1e-3),
            (9e9, 1e-199),
            (0.5, 1e-300),
        ] {
            for x in [0.0, 1.0, 2.0, 9.0, 64.0, 65.0, 2.5] {
                for order in [0, 1, 2] {
                    let (value, psi, psi1) = ln_beta_shift(a, b, x, order);
                    let (sb, sab) = (ln_gamma_shift(b, x, order), ln_gamma_shift(a + b, x, order));
                    let expected = sb[0] - sab[0];
                    let scale = sb[0].abs() + sab[0].abs() + 1.0;
                    assert!(
                        value.is_finite() && (value - expected).abs() <= 1e-14 * scale,
                        "a={a}, b={b}, x={x}: {value} vs {expected}"
                    );
                    let close =
                        |u: f64, v: f64| u == v || (u - v).abs() <= 1e-14 * (u.abs() + v.abs());
                    assert!(
                        close(psi[0], sb[1]) && close(psi[1], sab[1]),
                        "ψ at {a}, {b}, {x}"
                    );
                    assert!(
                        close(psi1[0], sb[2]) && close(psi1[1], sab[2]),
                        "ψ′ at {a}, {b}, {x}"
                    );
                }
            }
        }
    }
}
