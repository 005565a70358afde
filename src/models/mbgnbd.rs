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

use crate::error::Result;
use crate::models::bg_family::{bg_family_model, BgFamily};
use crate::models::params::check_positive;

/// MBG/NBD parameters (r, α, a, b), all positive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModifiedBetaGeo {
    /// Shape of the gamma distribution of purchase rates.
    r: f64,
    /// Scale (in time units) of the gamma distribution of purchase rates.
    alpha: f64,
    /// First shape of the beta distribution of drop-out probabilities.
    a: f64,
    /// Second shape of the beta distribution of drop-out probabilities.
    b: f64,
}

impl ModifiedBetaGeo {
    /// Builds the model, checking that every parameter is positive and finite.
    ///
    /// ```
    /// use retentionkit::{ModifiedBetaGeo, TransactionModel};
    /// let m = ModifiedBetaGeo::new(0.243, 4.414, 0.793, 2.426).unwrap();
    /// // Unlike BG/NBD, a customer without repeat purchases may be gone.
    /// assert!(m.probability_alive(0.0, 0.0, 38.86) < 1.0);
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
            modified: true,
        }
    }
}

bg_family_model!(ModifiedBetaGeo, "ModifiedBetaGeo");
