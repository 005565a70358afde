//! DERT for the BG family: a closed form over the purchase rate and
//! quadrature over the drop-out probability.

use super::quadrature::beta_expectation;
use super::BgFamily;
use crate::special::hyperu::ZScaledHyperU;

impl BgFamily {
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
    /// over the beta distribution of p, computed by the positive-term
    /// quadrature of [`super::quadrature`] (centred on the density's mode at
    /// its own width, so a, b up to 1e7 and beyond are as accurate as
    /// ordinary values). Every term is positive, so nothing cancels.
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
        let z_scaled_hyperu = ZScaledHyperU::new(m + 1.0);
        // E_p[g(p)] with g(p) = z^{m+1} U(m+1, m+1; z); the factor m/scale
        // is applied at the end. z = scale/p overflows to ∞ (g = 1) for p
        // tiny.
        let expectation = beta_expectation(self.a, self.b + x + self.shift(), |node| {
            z_scaled_hyperu.eval(scale * (-node.ln_p).exp())
        });
        self.probability_alive(x, t_x, age) * (m / scale) * expectation
    }
}
