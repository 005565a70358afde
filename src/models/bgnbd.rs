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

use crate::models::bg_family::bg_family_model;

bg_family_model! {
    /// BG/NBD parameters (r, α, a, b), all positive.
    pub struct BetaGeo { name: "BetaGeo", modified: false }
    /// Builds the model, checking that every parameter is positive and finite.
    ///
    /// ```
    /// use retentionkit::BetaGeo;
    /// assert!(BetaGeo::new(0.243, 4.414, 0.793, 2.426).is_ok());
    /// assert!(BetaGeo::new(-1.0, 4.414, 0.793, 2.426).is_err());
    /// ```
    pub fn new;
}
