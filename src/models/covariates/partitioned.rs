//! Fitting a model with covariates to customers that are not in this process:
//! partitions of a Dask or Spark table, say. Continuous covariates do not
//! compress, so the rows are not collected; instead each Newton step asks the
//! caller for the sums, over every partition, of the log-likelihood and its
//! derivatives at the step's parameters ([`PartialSums`]), which a partition
//! computes with [`WithCovariates::evaluate`] on its own rows. The fit is
//! therefore the same as [`crate::fit`] on all rows together, up to the order
//! of the sums.
//!
//! ```
//! use std::sync::Arc;
//! use retentionkit::models::covariates::partitioned::{fit_partitioned, PartialSums};
//! use retentionkit::models::covariates::{CovariateData, CovariateDesign, WithCovariates};
//! use retentionkit::{FitOptions, Model, ParetoNBD};
//!
//! let (x, tx, t) = ([0.0, 2.0, 5.0, 1.0, 0.0, 3.0], [0.0, 10.0, 30.0, 4.0, 0.0, 20.0], [40.0; 6]);
//! let z = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0];
//! let design = || {
//!     CovariateDesign::new::<ParetoNBD>(&["vip".to_string()], &[vec![0], vec![]], &[]).unwrap()
//! };
//! // Two "partitions" of three customers each.
//! let parts: Vec<CovariateData> = (0..2)
//!     .map(|k| {
//!         let r = 3 * k..3 * k + 3;
//!         CovariateData::new(&x[r.clone()], &tx[r.clone()], &t[r.clone()], None, &z[r], design())
//!     })
//!     .collect::<Result<_, _>>()?;
//! let sums: Arc<PartialSums<ParetoNBD>> = Arc::new(move |model: &WithCovariates<ParetoNBD>, d| {
//!     Ok(parts.iter().map(|p| model.evaluate(p, d)).reduce(|a, b| a.plus(&b)).unwrap())
//! });
//! // Start where a fit on all rows starts (the plain model's estimates).
//! let whole = CovariateData::new(&x, &tx, &t, None, &z, design())?;
//! let template = WithCovariates::<ParetoNBD>::template(&whole);
//! let start = template.with_params(&template.initial_params(&whole))?;
//! let options = FitOptions { require_convergence: false, ..FitOptions::default() };
//! let fitted = fit_partitioned(start, sums, 6.0, 6, &options)?;
//! assert_eq!(fitted.params().len(), 5); // r, α, s, β, purchase:vip
//! // The partitions' sums are the sums over all rows.
//! let at = &fitted.model;
//! let direct = at.evaluate(&whole, retentionkit::Derivatives::None).value;
//! assert!((fitted.log_likelihood() - direct).abs() < 1e-9 * direct.abs());
//! # Ok::<(), retentionkit::Error>(())
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::{CovariateModel, WithCovariates};
use crate::error::{Error, Result};
use crate::fit::{fit, FitOptions, Fitted};
use crate::models::params::ParamSpec;
use crate::models::{Derivatives, Evaluation, FitData, Model};

/// The caller's sums over every partition of Σ wᵢ ln Lᵢ and its derivatives
/// (as [`Model::evaluate`] returns them) for a model with given parameters.
pub type PartialSums<M> =
    dyn Fn(&WithCovariates<M>, Derivatives) -> Result<Evaluation> + Send + Sync;

/// The customers as the fit sees them: a way to get the sums, the number of
/// customers and of rows, and the starting model.
#[derive(Clone)]
pub struct PartitionedData<M: CovariateModel> {
    sums: Arc<PartialSums<M>>,
    start: WithCovariates<M>,
    total_weight: f64,
    rows: usize,
    /// The first error the caller's sums returned: the fit stops asking.
    error: Arc<Mutex<Option<Error>>>,
}

impl<M: CovariateModel> std::fmt::Debug for PartitionedData<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartitionedData")
            .field("start", &self.start)
            .field("total_weight", &self.total_weight)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl<M: CovariateModel> PartialEq for PartitionedData<M> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.sums, &other.sums) && self.start.to_vec() == other.start.to_vec()
    }
}

impl<M: CovariateModel> FitData for PartitionedData<M> {
    fn rows(&self) -> usize {
        self.rows
    }
    fn total_weight(&self) -> f64 {
        self.total_weight
    }
    /// The partitions cannot be subsampled here: the data themselves (the
    /// fit runs without a warm start).
    fn subsample(&self, _step: usize) -> Self {
        self.clone()
    }
}

/// [`WithCovariates`] fitted through [`PartialSums`]; only [`fit_partitioned`]
/// builds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Partitioned<M: CovariateModel>(WithCovariates<M>);

impl<M: CovariateModel> Model for Partitioned<M> {
    type Data = PartitionedData<M>;
    const NAME: &'static str = M::COVARIATE_NAME;

    fn param_specs(&self) -> Vec<ParamSpec> {
        self.0.param_specs()
    }
    fn to_vec(&self) -> Vec<f64> {
        self.0.to_vec()
    }
    fn with_params(&self, values: &[f64]) -> Result<Self> {
        self.0.with_params(values).map(Self)
    }
    fn template(data: &Self::Data) -> Self {
        Self(data.start.clone())
    }
    fn from_named_params(params: &BTreeMap<String, f64>) -> Result<Self> {
        WithCovariates::from_named_params(params).map(Self)
    }
    fn evaluate(&self, data: &Self::Data, derivatives: Derivatives) -> Evaluation {
        let failed = Evaluation {
            value: f64::NAN,
            gradient: Vec::new(),
            hessian: Vec::new(),
        };
        let Ok(mut slot) = data.error.lock() else {
            return failed;
        };
        if slot.is_some() {
            return failed;
        }
        match (data.sums)(&self.0, derivatives) {
            Ok(evaluation) => evaluation,
            Err(e) => {
                *slot = Some(e);
                failed
            }
        }
    }
    fn initial_params(&self, data: &Self::Data) -> Vec<f64> {
        data.start.to_vec()
    }
    fn penalty_scale(&self, _data: &Self::Data) -> Vec<f64> {
        self.0.penalty_scales()
    }
    fn fit_warnings(&self) -> Vec<String> {
        self.0.fit_warnings()
    }
}

/// Fits `start`'s model (its design, penalties and starting values) to
/// `total_weight` customers in `rows` rows whose sums `sums` computes.
///
/// Errors: the first error of `sums` (the fit stops at it), otherwise those
/// of [`crate::fit`].
pub fn fit_partitioned<M: CovariateModel>(
    start: WithCovariates<M>,
    sums: Arc<PartialSums<M>>,
    total_weight: f64,
    rows: usize,
    options: &FitOptions,
) -> Result<Fitted<WithCovariates<M>>> {
    if !(total_weight > 0.0 && total_weight.is_finite()) {
        return Err(Error::InvalidCovariates(format!(
            "the partitions hold {total_weight} customers with T > 0: there is nothing to fit"
        )));
    }
    let data = PartitionedData {
        sums,
        start,
        total_weight,
        rows,
        error: Arc::new(Mutex::new(None)),
    };
    let options = FitOptions {
        warm_start_rows: 0,
        ..options.clone()
    };
    let result = fit::<Partitioned<M>>(&data, &options);
    if let Some(e) = data.error.lock().ok().and_then(|mut slot| slot.take()) {
        return Err(e);
    }
    let fitted = result?;
    Ok(Fitted {
        model: fitted.model.0,
        info: fitted.info,
        data: None,
    })
}
