//! Discounted expected residual transactions (DERT) under continuous discounting.
//!
//! Source: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "RFM and CLV:
//! Using Iso-Value Curves for Customer Base Analysis", Journal of Marketing
//! Research 42(4), 415–430, eq. (1)–(2). With purchases discounted
//! continuously at rate δ per time unit from the end of observation T,
//!
//! DERT(δ | x, t_x, T) = ∫_T^∞ E[purchase rate at τ | x, t_x, T] e^{−δ(τ−T)} dτ
//!                     = ∫₀^∞ e^{−δt} dE[Y(t) | x, t_x, T]
//!                     = δ ∫₀^∞ e^{−δt} E[Y(t) | x, t_x, T] dt,
//!
//! the last form by parts (E[Y(0)] = 0 and E[Y(t)] grows at most linearly).
//! Customer lifetime value under continuous discounting is DERT times the
//! expected value of a transaction (see [`crate::value::clv`]).
//!
//! The Pareto/NBD has a closed form (the paper's eq. (2), see
//! [`crate::models::pareto_nbd`]). For BG/NBD and MBG/NBD the expectation over the purchase
//! rate has a closed form in U(m+1, m+1; z) as well, which leaves a
//! one-dimensional integral over the drop-out probability (see
//! `BgFamily::discounted_expected_residual_transactions` in `bgnbd.rs`; about
//! a hundred evaluations of U per customer). Any other model gets
//! [`dert_by_quadrature`], the default of
//! [`TransactionModel::discounted_expected_residual_transactions`], which
//! needs nothing but the model's conditional expectation E[Y(t) | ·]; the tests
//! check the BG-family integral against it.
//!
//! Properties (tested): 0 ≤ DERT; DERT decreases in δ; DERT ≤ E[Y(∞) | ·],
//! the undiscounted expected number of residual transactions, where that is
//! finite (DERT tends to it as δ → 0).
//!
//! ```
//! use retentionkit::dert::discounted_expected_residual_transactions;
//! use retentionkit::{BetaGeo, ParetoNBD};
//!
//! // FHL (2005) discount 15% a year; the models are in weeks.
//! let delta = 1.15f64.ln() / 52.0;
//! let (x, t_x, age) = ([2.0, 0.0], [30.43, 0.0], [38.86, 38.86]);
//! let pnbd = ParetoNBD::new(0.553, 10.578, 0.606, 11.669)?;
//! let closed_form = discounted_expected_residual_transactions(&pnbd, &[delta; 2], &x, &t_x, &age)?;
//! let bgnbd = BetaGeo::new(0.243, 4.414, 0.793, 2.426)?;
//! let numerical = discounted_expected_residual_transactions(&bgnbd, &[delta; 2], &x, &t_x, &age)?;
//! assert!(closed_form[0] > closed_form[1] && numerical[0] > 0.0);
//! # Ok::<(), retentionkit::Error>(())
//! ```

use crate::data::validate_prediction_inputs;
use crate::error::{Error, Result};
use crate::models::TransactionModel;
use crate::predict::par_map;

/// Coarsest step of the trapezoidal rule.
const FIRST_STEP: f64 = 0.5;
/// Step halvings at most (finest step 0.5 / 2⁶).
const MAX_HALVINGS: usize = 6;
/// Successive sums agreeing to this relative difference stop the halving: the
/// error of the trapezoidal rule falls like exp(−c/h), so the finer sum is then
/// accurate to about the square of it.
const AGREEMENT: f64 = 1e-6;
/// Nodes whose term is (or, upwards, is bounded) below this fraction of the sum
/// end the rule on that side.
const NEGLIGIBLE: f64 = 1e-16;

/// DERT(δ | x, t_x, T) = δ ∫₀^∞ e^{−δt} E[Y(t) | x, t_x, T] dt by quadrature,
/// for any transaction model.
///
/// The substitution t = c exp(u − e^{−u}), c = min(T, 1/δ), maps (0, ∞) to the
/// real line; the integrand then decays double-exponentially at both ends
/// (like t² as t → 0 and like e^{−δt} as t → ∞), so the trapezoidal rule in u
/// converges exponentially in the number of nodes (Ooura & Mori's
/// double-exponential rule for exponentially decaying integrands). The scale c
/// keeps the singularities of E[Y(t)] (at t = −(α + T) and the like) and the
/// growth of e^{−δt} off the real axis at a fixed distance from the nodes. The
/// step is halved from 0.5 until two successive sums agree to 1e-6 (the finer
/// one is then accurate to about 1e-12; at most six halvings). Typically
/// about 40 evaluations of E[Y(t) | ·].
///
/// The cost of each evaluation is the model's: for the BG/NBD family the
/// series of E[Y(t) | ·] needs about 40 (α + T + t)/(α + T) terms, so the
/// nodes at t ≈ 40/δ dominate and the time grows like 1/(δ (α + T)).
///
/// Returns NaN when δ is not positive and finite or E[Y(t) | ·] is NaN.
pub fn dert_by_quadrature<M: TransactionModel>(
    model: &M,
    discount_rate: f64,
    frequency: f64,
    recency: f64,
    age: f64,
) -> f64 {
    let delta = discount_rate;
    if !(delta > 0.0 && delta.is_finite()) {
        return f64::NAN;
    }
    // The time scale of the substitution t = scale·exp(u − e^{−u}): T, or 1/δ
    // if shorter; 1/δ for a customer first seen at the end of observation (T =
    // 0), for whom T would put every node at t = 0.
    let scale = if age > 0.0 {
        age.min(1.0 / delta)
    } else {
        1.0 / delta
    };
    let node = |u: f64| scale * (u - (-u).exp()).exp();
    // The integrand in u, without the step.
    let integrand = |u: f64| -> f64 {
        let e = (-u).exp();
        let t = node(u);
        if t == 0.0 || !t.is_finite() {
            return 0.0;
        }
        let decay = (-delta * t).exp();
        if decay == 0.0 {
            return 0.0;
        }
        let expected = model.conditional_expected_purchases(t, frequency, recency, age);
        delta * t * (1.0 + e) * decay * expected
    };
    // Σ over nodes u = (offset + k·stride)·h for k = 0, 1, … upwards and
    // k = −1, −2, … downwards, each side stopping at negligible terms.
    let side_sums = |h: f64, offset: f64, stride: f64, reference: f64| -> f64 {
        let mut total = 0.0;
        let mut k = 0.0;
        loop {
            let u = (offset + k * stride) * h;
            let g = integrand(u);
            total += g;
            if g.is_nan() {
                return f64::NAN;
            }
            // Past the maximum of e^{−δt} t (δt > 1) the terms only fall. The
            // next node is the costliest so far (large t), so it is skipped
            // when a bound on its term is negligible: E[Y(t)] is concave with
            // E[Y(0)] = 0 (the purchase rate of a customer only falls as the
            // chance of having dropped out grows), so E[Y(t')] ≤ E[Y(t)] t'/t.
            let t = node(u);
            let next = u + stride * h;
            let t_next = node(next);
            let bound =
                g * (t_next / t).powi(2) * (-delta * (t_next - t)).exp() * (1.0 + (-next).exp())
                    / (1.0 + (-u).exp());
            if (delta * t > 1.0
                && bound.abs().min(g.abs()) <= NEGLIGIBLE * (reference + total).abs())
                || u > 800.0
            {
                break;
            }
            k += 1.0;
        }
        let mut k = -1.0;
        loop {
            let u = (offset + k * stride) * h;
            let g = integrand(u);
            total += g;
            if g.is_nan() {
                return f64::NAN;
            }
            if (u < 0.0 && g.abs() <= NEGLIGIBLE * (reference + total).abs()) || u < -10.0 {
                break;
            }
            k -= 1.0;
        }
        total
    };
    let mut h = FIRST_STEP;
    let mut sum = h * side_sums(h, 0.0, 1.0, 0.0);
    for _ in 0..MAX_HALVINGS {
        if sum.is_nan() {
            return f64::NAN;
        }
        h *= 0.5;
        // The new nodes are the odd multiples of the halved step.
        let odd = side_sums(h, 1.0, 2.0, sum / h);
        let finer = 0.5 * sum + h * odd;
        let converged = (finer - sum).abs() <= AGREEMENT * finer.abs();
        sum = finer;
        if converged {
            break;
        }
    }
    sum.max(0.0)
}

fn check_rates(discount_rate: &[f64], expected: usize) -> Result<()> {
    if discount_rate.len() != expected {
        return Err(Error::LengthMismatch {
            name: "discount_rate",
            found: discount_rate.len(),
            expected,
        });
    }
    if let Some(row) = discount_rate
        .iter()
        .position(|d| !(d.is_finite() && *d > 0.0))
    {
        return Err(Error::InvalidData {
            rule: "the continuous discount rate must be positive and finite",
            row,
            detail: format!("discount_rate={}", discount_rate[row]),
            column: Some("discount_rate"),
            cohort: None,
            period: None,
        });
    }
    Ok(())
}

/// DERT(δᵢ | xᵢ, t_xᵢ, Tᵢ) for every customer, in parallel, with the model's
/// [`TransactionModel::discounted_expected_residual_transactions`].
///
/// `discount_rate` is the continuous rate δ per time unit of the data (for an
/// annual rate d and weekly data, δ = ln(1 + d)/52); it must be positive.
pub fn discounted_expected_residual_transactions<M: TransactionModel>(
    model: &M,
    discount_rate: &[f64],
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
) -> Result<Vec<f64>> {
    validate_prediction_inputs(frequency, recency, age)?;
    check_rates(discount_rate, frequency.len())?;
    let values = par_map(frequency.len(), |i| {
        model.discounted_expected_residual_transactions(
            discount_rate[i],
            frequency[i],
            recency[i],
            age[i],
        )
    });
    crate::predict::finite_or_error(
        "DERT",
        values,
        &[
            ("discount_rate", discount_rate),
            ("frequency", frequency),
            ("recency", recency),
            ("T", age),
        ],
    )
}
