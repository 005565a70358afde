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
        };
        serde_json::to_string_pretty(&saved).expect("a model always serialises")
    }

    /// Reads what [`Fitted::to_json`] wrote.
    pub fn from_json(text: &str) -> Result<Self> {
        let saved: SavedModel =
            serde_json::from_str(text).map_err(|e| Error::Serialization(e.to_string()))?;
        if saved.format != FORMAT || saved.version > FORMAT_VERSION {
            return Err(Error::Serialization(format!(
                "not a {FORMAT} file of version <= {FORMAT_VERSION}"
            )));
        }
        if saved.model != M::NAME {
            return Err(Error::Serialization(format!(
                "the file holds a {} model, not {}",
                saved.model,
                M::NAME
            )));
        }
        // Values that are not numbers are left out, so that the model reports
        // them as missing if it needs them.
        let params = saved
            .params
            .iter()
            .filter_map(|(n, v)| Some((n.clone(), v.as_f64()?)))
            .collect();
        Ok(Self {
            model: M::from_named_params(&params)?,
            info: saved.fit,
            data: None,
        })
    }
}
