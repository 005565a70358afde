//! The published and pinned reference values of
//! `tests/fixtures/reference_values.json`, shared with the Python tests
//! (`tests/python/reference_values.py`).

use std::collections::BTreeMap;

use retentionkit::Model;
use serde::Deserialize;

const TEXT: &str = include_str!("../fixtures/reference_values.json");

#[derive(Debug, Deserialize)]
struct File {
    entries: BTreeMap<String, Reference>,
    clv_cdnow_lifetimes: ClvTable,
}

fn file() -> File {
    serde_json::from_str(TEXT).expect("tests/fixtures/reference_values.json")
}

/// One model's reference values from one source.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// `Model::NAME` of the model the values belong to.
    pub model: String,
    /// The paper (with section) or program the values come from.
    pub source: String,
    /// The data set they were computed on.
    pub data: String,
    params: BTreeMap<String, f64>,
    log_likelihood: Option<f64>,
    log_likelihood_per_customer: Option<f64>,
    n_customers: Option<f64>,
    spend_frequency_correlation: Option<f64>,
    survivors: Option<Vec<f64>>,
    #[serde(default)]
    predictions: BTreeMap<String, Prediction>,
    pub notes: Option<String>,
}

/// A prediction: `quantity` at `args` equals `value`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prediction {
    pub quantity: String,
    args: BTreeMap<String, f64>,
    pub value: f64,
    #[serde(default)]
    pub customer_ids: Vec<usize>,
}

impl Prediction {
    /// The argument `name`; panics if the entry lacks it.
    pub fn arg(&self, name: &str) -> f64 {
        *self
            .args
            .get(name)
            .unwrap_or_else(|| panic!("{}: no argument {name}", self.quantity))
    }
}

/// The entry `name` of reference_values.json; panics if there is none.
pub fn reference(name: &str) -> Reference {
    file()
        .entries
        .remove(name)
        .unwrap_or_else(|| panic!("reference_values.json has no entry {name}"))
}

fn required<T: Copy>(value: Option<T>, entry: &Reference, what: &str) -> T {
    value.unwrap_or_else(|| panic!("{} ({}): no {what}", entry.model, entry.source))
}

impl Reference {
    /// The parameters in the order of the model's `param_names`; panics if
    /// the entry is for another model, lacks a parameter or has one too many.
    pub fn params<M: Model>(&self) -> Vec<f64> {
        let model = self.model::<M>();
        assert_eq!(
            self.params.len(),
            model.param_names().len(),
            "{:?}",
            self.params
        );
        model.to_vec()
    }

    /// The model at the reference parameters.
    pub fn model<M: Model>(&self) -> M {
        assert_eq!(self.model, M::NAME, "reference values of another model");
        M::from_named_params(&self.params).unwrap()
    }

    /// The parameter `name`.
    pub fn param(&self, name: &str) -> f64 {
        *self
            .params
            .get(name)
            .unwrap_or_else(|| panic!("{}: no parameter {name}", self.model))
    }

    /// Total log-likelihood at the reference parameters.
    pub fn log_likelihood(&self) -> f64 {
        required(self.log_likelihood, self, "log_likelihood")
    }

    /// Log-likelihood per customer.
    pub fn log_likelihood_per_customer(&self) -> f64 {
        required(
            self.log_likelihood_per_customer,
            self,
            "log_likelihood_per_customer",
        )
    }

    /// Number of customers the model was fitted on.
    pub fn n_customers(&self) -> f64 {
        required(self.n_customers, self, "n_customers")
    }

    /// Pearson correlation of frequency and spend.
    pub fn spend_frequency_correlation(&self) -> f64 {
        required(
            self.spend_frequency_correlation,
            self,
            "spend_frequency_correlation",
        )
    }

    /// Survivor counts of a cohort, period 0 first.
    pub fn survivors(&self) -> Vec<f64> {
        self.survivors
            .clone()
            .unwrap_or_else(|| panic!("{}: no survivors", self.source))
    }

    /// The prediction labelled `label`.
    pub fn prediction(&self, label: &str) -> &Prediction {
        self.predictions
            .get(label)
            .unwrap_or_else(|| panic!("{}: no prediction {label:?}", self.model))
    }

    /// Every prediction, by label.
    pub fn predictions(&self) -> impl Iterator<Item = (&str, &Prediction)> {
        assert!(
            !self.predictions.is_empty(),
            "{}: no predictions",
            self.model
        );
        self.predictions.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// lifetimes' customer lifetime values on CDNOW.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClvTable {
    pub source: String,
    /// Entry name of the spend model.
    pub spend_model: String,
    /// Customer IDs (1-based) whose values are pinned.
    pub customer_ids: Vec<usize>,
    pub cases: Vec<ClvCase>,
}

/// One call of lifetimes' `customer_lifetime_value`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClvCase {
    /// Entry name of the transaction model.
    pub transaction_model: String,
    pub time: f64,
    pub discount_rate: f64,
    /// lifetimes' `freq`: "W", "D" or "M".
    pub freq: String,
    /// Values of `customer_ids`.
    pub values: Vec<f64>,
    /// Sum over all customers.
    pub sum: f64,
}

/// The table of lifetimes' customer lifetime values on CDNOW.
pub fn clv_cdnow_lifetimes() -> ClvTable {
    file().clv_cdnow_lifetimes
}
