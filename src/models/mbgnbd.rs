//! MBG/NBD: the modified beta-geometric / negative binomial distribution model.
//!
//! Source: Batislam, E. P., Denizel, M. & Filiztekin, A. (2007), "Empirical
//! validation and comparison of models for customer base analysis",
//! International Journal of Research in Marketing 24(3), 201–209.
//!
//! As BG/NBD (see [`crate::models::bgnbd`]), except that a customer may also drop out
//! right after the first purchase, with the same probability p ~ Beta(a, b) as
//! after every repeat purchase. This removes BG/NBD's assumption that every
//! customer without a repeat purchase is alive. The likelihood is
//! L = B(a, b+x+1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^{r+x})
//! \+ B(a+1, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^{r+x}),
//! and P(alive | x, t_x, T) = 1 / (1 + a/(b+x) ((α+T)/(α+t_x))^{r+x}) for every x.
//! Predictions follow from BG/NBD's with b + x − 1 replaced by b + x.

use crate::models::bg_family::bg_family_model;

bg_family_model! {
    /// MBG/NBD parameters (r, α, a, b), all positive.
    pub struct ModifiedBetaGeo { name: "ModifiedBetaGeo", modified: true }
    /// Builds the model, checking that every parameter is positive and finite.
    ///
    /// ```
    /// use retentionkit::{ModifiedBetaGeo, TransactionModel};
    /// let m = ModifiedBetaGeo::new(0.243, 4.414, 0.793, 2.426).unwrap();
    /// // Unlike BG/NBD, a customer without repeat purchases may be gone.
    /// assert!(m.probability_alive(0.0, 0.0, 38.86) < 1.0);
    /// ```
    pub fn new;
}
