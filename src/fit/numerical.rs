//! Derivatives by five-point central differences: the Hessian of a model that
//! supplies only its value and gradient, and the checks of analytic
//! derivatives in the tests.
//!
//! The stencil is the standard one (Abramowitz & Stegun, *Handbook of
//! Mathematical Functions*, §25.3): f'(x) ≈ (8 (f(x+h) − f(x−h)) −
//! (f(x+2h) − f(x−2h))) / (12h), with error O(h⁴). Steps are relative to the
//! parameter, h = 10⁻⁵ |φ| (10⁻⁵ at 0), on the natural scale.

use crate::models::{Derivatives, Evaluation, Model};

/// The difference step for a parameter of value `value`: 10⁻⁵ |value|, or
/// 10⁻⁵ when the value is 0.
pub fn step(value: f64) -> f64 {
    if value == 0.0 {
        1e-5
    } else {
        1e-5 * value.abs()
    }
}

/// The five-point central difference from f(x+h), f(x−h), f(x+2h), f(x−2h).
///
/// ```
/// use retentionkit::fit::numerical::five_point;
/// let (x, h) = (0.3f64, 1e-3);
/// let d = five_point((x + h).sin(), (x - h).sin(), (x + 2.0 * h).sin(), (x - 2.0 * h).sin(), h);
/// assert!((d - x.cos()).abs() < 1e-12);
/// ```
pub fn five_point(up: f64, down: f64, up2: f64, down2: f64, h: f64) -> f64 {
    (8.0 * (up - down) - (up2 - down2)) / (12.0 * h)
}

/// The evaluations of `model` with parameter `k` moved by +h, −h, +2h and −2h
/// (in that order), h = [`step`] of its value; `None` when a moved point is
/// outside the parameter domain.
pub fn shifted_evaluations<M: Model>(
    model: &M,
    data: &M::Data,
    k: usize,
    derivatives: Derivatives,
) -> Option<([Evaluation; 4], f64)> {
    let params = model.to_vec();
    let h = step(params[k]);
    let at = |steps: f64| {
        let mut q = params.clone();
        q[k] += steps * h;
        model
            .with_params(&q)
            .ok()
            .map(|m| m.evaluate(data, derivatives))
    };
    Some(([at(1.0)?, at(-1.0)?, at(2.0)?, at(-2.0)?], h))
}

/// ∂/∂φₖ of the log-likelihood and of its analytic gradient, by five-point
/// differences of the gradient evaluations; `None` when a moved point is
/// outside the parameter domain.
pub fn partial_derivatives<M: Model>(
    model: &M,
    data: &M::Data,
    k: usize,
) -> Option<(f64, Vec<f64>)> {
    let ([up, down, up2, down2], h) = shifted_evaluations(model, data, k, Derivatives::Gradient)?;
    let value = five_point(up.value, down.value, up2.value, down2.value, h);
    let gradient = (0..up.gradient.len())
        .map(|l| {
            five_point(
                up.gradient[l],
                down.gradient[l],
                up2.gradient[l],
                down2.gradient[l],
                h,
            )
        })
        .collect();
    Some((value, gradient))
}

/// The Hessian of the log-likelihood (row-major p × p, natural scale) from
/// five-point differences of the model's analytic gradient, symmetrised;
/// `None` when a moved point is outside the parameter domain or the result is
/// not finite. It costs 4p gradient evaluations.
pub fn hessian_from_gradient<M: Model>(model: &M, data: &M::Data) -> Option<Vec<f64>> {
    let p = model.param_specs().len();
    let mut hessian = vec![0.0; p * p];
    for k in 0..p {
        let (_, column) = partial_derivatives(model, data, k)?;
        if column.len() != p {
            return None;
        }
        for (l, value) in column.into_iter().enumerate() {
            hessian[l * p + k] = value;
        }
    }
    for i in 0..p {
        for j in 0..i {
            let mean = 0.5 * (hessian[i * p + j] + hessian[j * p + i]);
            hessian[i * p + j] = mean;
            hessian[j * p + i] = mean;
        }
    }
    hessian.iter().all(|h| h.is_finite()).then_some(hessian)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::error::Result;
    use crate::fit::tests::simulated;
    use crate::fit::{fit, FitOptions};
    use crate::models::ParamSpec;
    use crate::{BetaGeo, CompressedData};

    /// BG/NBD that withholds its Hessian, so that the fitter must build one.
    #[derive(Debug, Clone, PartialEq)]
    struct NoHessian(BetaGeo);

    impl Model for NoHessian {
        type Data = CompressedData;
        const NAME: &'static str = "NoHessian";

        fn param_specs(&self) -> Vec<ParamSpec> {
            self.0.param_specs()
        }
        fn to_vec(&self) -> Vec<f64> {
            self.0.to_vec()
        }
        fn with_params(&self, values: &[f64]) -> Result<Self> {
            self.0.with_params(values).map(NoHessian)
        }
        fn template(data: &CompressedData) -> Self {
            NoHessian(BetaGeo::template(data))
        }
        fn from_named_params(params: &BTreeMap<String, f64>) -> Result<Self> {
            BetaGeo::from_named_params(params).map(NoHessian)
        }
        fn evaluate(&self, data: &CompressedData, derivatives: Derivatives) -> Evaluation {
            let asked = derivatives.min(Derivatives::Gradient);
            self.0.evaluate(data, asked)
        }
        fn initial_params(&self, data: &CompressedData) -> Vec<f64> {
            self.0.initial_params(data)
        }
        fn penalty_scale(&self, data: &CompressedData) -> Vec<f64> {
            self.0.penalty_scale(data)
        }
    }

    /// The numerical Hessian agrees with the analytic one.
    #[test]
    fn hessian_matches_the_analytic_one() {
        let data = simulated(5_000);
        let model = BetaGeo::new(0.25, 4.5, 0.8, 2.4).unwrap();
        let analytic = model.evaluate(&data, Derivatives::Hessian).hessian;
        let numerical = hessian_from_gradient(&model, &data).unwrap();
        for (a, n) in analytic.iter().zip(&numerical) {
            assert!((a - n).abs() < 1e-6 * a.abs().max(1.0), "{a} vs {n}");
        }
    }

    /// A model without a Hessian fits CDNOW-like data to the estimates and
    /// standard errors of the analytic one.
    #[test]
    fn fit_without_hessian_matches_analytic_fit() {
        let data = simulated(20_000);
        let options = FitOptions::default();
        let analytic = fit::<BetaGeo>(&data, &options).unwrap();
        let numerical = fit::<NoHessian>(&data, &options).unwrap();
        for (a, n) in analytic.params().iter().zip(numerical.params()) {
            assert!((a - n).abs() < 1e-6 * a.abs(), "estimate {a} vs {n}");
        }
        let se = analytic.standard_errors();
        for (a, n) in se.iter().zip(numerical.standard_errors()) {
            assert!((a - n).abs() < 1e-4 * a.abs(), "standard error {a} vs {n}");
        }
        let (la, ln) = (analytic.log_likelihood(), numerical.log_likelihood());
        assert!((la - ln).abs() < 1e-9 * la.abs());
    }
}
