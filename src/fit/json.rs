//! The saved format shared by the Rust crate and the Python package:
//! `{"format": "retentionkit-model", "version": 1, "model": <Model::NAME>,
//! "params": {<name>: <value>, ...}, "fit": <FitInfo or null>}`, parameters
//! keyed by their run-time names ([`Model::param_specs`]).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fit::{FitInfo, Fitted};
use crate::models::Model;

const FORMAT: &str = "retentionkit-model";
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct SavedModel {
    format: String,
    version: u32,
    model: String,
    params: serde_json::Map<String, serde_json::Value>,
    fit: Option<FitInfo>,
    /// The other top-level keys: the model's structure
    /// ([`Model::saved_structure`], e.g. MBG/CNBD-k's `"k"`) and keys other
    /// layers add (the Python package's covariate encoding).
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

impl<M: Model> Fitted<M> {
    /// The JSON format shared by the Rust crate and the Python package.
    pub fn to_json(&self) -> String {
        let params = self
            .model
            .param_names()
            .into_iter()
            .zip(self.params())
            .map(|(n, v)| (n, serde_json::Value::from(v)))
            .collect();
        let saved = SavedModel {
            format: FORMAT.to_string(),
            version: FORMAT_VERSION,
            model: M::NAME.to_string(),
            params,
            fit: self.info.clone(),
            rest: self
                .model
                .saved_structure()
                .into_iter()
                .map(|(key, value)| (key.to_string(), value))
                .collect(),
        };
        serde_json::to_string_pretty(&saved).expect("a model always serialises")
    }

    /// Reads what [`Fitted::to_json`] wrote (a leading UTF-8 byte order mark
    /// is skipped).
    ///
    /// Every field is checked, so that a damaged or hand-edited file is
    /// refused here, naming the field, rather than failing later: the format
    /// and version, the model name, one finite value in the model's domain
    /// for each of its parameters and no other, and in the fit statistics a
    /// finite log-likelihood, `n_customers` positive and finite, a finite
    /// non-negative `penalizer_coef`, and a covariance of k × k finite
    /// entries (k parameters) that is symmetric and positive definite.
    pub fn from_json(text: &str) -> Result<Self> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let saved: SavedModel =
            serde_json::from_str(text).map_err(|e| Error::Serialization(e.to_string()))?;
        if saved.format != FORMAT {
            return Err(Error::Serialization(format!(
                "not a {FORMAT} file (its \"format\" field is {:?})",
                saved.format
            )));
        }
        if saved.version == 0 || saved.version > FORMAT_VERSION {
            return Err(Error::Serialization(format!(
                "\"version\" is {}, and this version of retentionkit reads version {FORMAT_VERSION}",
                saved.version
            )));
        }
        if saved.model != M::NAME {
            return Err(Error::Serialization(format!(
                "the file holds a {} model, not {}",
                saved.model,
                M::NAME
            )));
        }
        let mut params = std::collections::BTreeMap::new();
        for (name, value) in &saved.params {
            let number = value.as_f64().ok_or_else(|| {
                Error::Serialization(format!("\"params\": {name} is {value}, not a number"))
            })?;
            params.insert(name.clone(), number);
        }
        let model = M::from_named_params(&params).map_err(|e| match e {
            Error::InvalidParameter { name, value, rule } => {
                Error::Serialization(format!("\"params\": {name} = {value} {rule}"))
            }
            Error::Serialization(message) => Error::Serialization(format!("\"params\": {message}")),
            other => other,
        })?;
        let model = model.with_saved_structure(&saved.rest)?;
        let names = model.param_names();
        if let Some(unknown) = params.keys().find(|n| !names.contains(n)) {
            return Err(Error::Serialization(format!(
                "\"params\": {unknown} is not a parameter of {} (its parameters are {})",
                M::NAME,
                names.join(", ")
            )));
        }
        if let Some(info) = &saved.fit {
            check_fit_info(info, &names)?;
        }
        Ok(Self {
            model,
            info: saved.fit,
            data: None,
        })
    }
}

/// The checks of [`Fitted::from_json`] on the fit statistics of a model with
/// parameters `names`.
fn check_fit_info(info: &FitInfo, names: &[String]) -> Result<()> {
    let refuse = |message: String| Err(Error::Serialization(message));
    if !info.log_likelihood.is_finite() {
        return refuse(format!(
            "\"fit.log_likelihood\" is {}, not a finite number",
            info.log_likelihood
        ));
    }
    if !(info.n_customers > 0.0 && info.n_customers.is_finite()) {
        return refuse(format!(
            "\"fit.n_customers\" is {}; a fitted model has a positive, finite number of customers",
            info.n_customers
        ));
    }
    if !(info.penalizer_coef >= 0.0 && info.penalizer_coef.is_finite()) {
        return refuse(format!(
            "\"fit.penalizer_coef\" is {}; it must be zero or positive, and finite",
            info.penalizer_coef
        ));
    }
    if let Some(problem) = info
        .covariance
        .as_deref()
        .and_then(|cov| covariance_problem(cov, names))
    {
        return refuse(format!("\"fit.covariance\" {problem}"));
    }
    Ok(())
}

/// What is wrong with `cov` as the covariance of the estimates of the
/// parameters `names`, if anything: it must have k × k finite entries, be
/// symmetric (to a relative 1e-8 of the standard errors) and positive
/// definite. The message follows the covariance's name.
pub(crate) fn covariance_problem(cov: &[f64], names: &[String]) -> Option<String> {
    let k = names.len();
    if cov.len() != k * k {
        return Some(format!(
            "has {} entries; it must have {} ({k} × {k}, one row and column per parameter: {})",
            cov.len(),
            k * k,
            names.join(", ")
        ));
    }
    if let Some(i) = cov.iter().position(|v| !v.is_finite()) {
        return Some(format!(
            "has {} at row {}, column {}; every entry must be a finite number",
            cov[i],
            names[i / k],
            names[i % k]
        ));
    }
    for i in 0..k {
        for j in 0..i {
            let (a, b) = (cov[i * k + j], cov[j * k + i]);
            let scale = (cov[i * k + i].abs() * cov[j * k + j].abs()).sqrt();
            if (a - b).abs() > 1e-8 * scale {
                return Some(format!(
                    "is not symmetric: its ({0}, {1}) entry is {a} but its ({1}, {0}) entry is {b}",
                    names[i], names[j]
                ));
            }
        }
    }
    if crate::special::linalg::cholesky(cov, k).is_none() {
        return Some("is not positive definite".to_string());
    }
    None
}
