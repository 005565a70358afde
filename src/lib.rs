//! # retentionkit
//!
//! "Buy 'Til You Die" customer-base models fitted by maximum likelihood, with
//! predictions of purchases, P(alive) and customer value. Rust core; the Python
//! bindings live behind the `python` cargo feature.
//!
//! ```
//! use retentionkit::{fit, predict, BetaGeo, CustomerData, FitOptions};
//!
//! // frequency x, recency t_x and age T of five customers (weeks).
//! let x = [0.0, 1.0, 2.0, 0.0, 5.0];
//! let t_x = [0.0, 10.0, 30.4, 0.0, 35.0];
//! let age = [38.9, 38.9, 38.9, 30.0, 36.0];
//! CustomerData::new(&x, &t_x, &age, None)?; // validates: Err names rule and row
//!
//! // Score with known parameters (FHL 2005, CDNOW) ...
//! let model = BetaGeo::new(0.243, 4.414, 0.793, 2.426)?;
//! let p_alive = predict::probability_alive(&model, &x, &t_x, &age)?;
//! assert!(p_alive.iter().all(|p| (0.0..=1.0).contains(p)));
//!
//! // ... or fit them, here to 5000 customers simulated from the model.
//! let ages = vec![39.0; 5000];
//! let sims = predict::simulate(&model, &ages, 42)?;
//! let sim_x: Vec<f64> = sims.iter().map(|c| c.frequency).collect();
//! let sim_tx: Vec<f64> = sims.iter().map(|c| c.recency).collect();
//! let data = CustomerData::new(&sim_x, &sim_tx, &ages, None)?.compress();
//! let fitted = fit::<BetaGeo>(&data, &FitOptions::default())?;
//! println!("{}\nLL = {:.3}", fitted.summary(), fitted.log_likelihood());
//! # Ok::<(), retentionkit::Error>(())
//! ```

pub mod data;
pub mod error;
pub mod fit;
pub mod interrupt;
pub mod models;
pub mod predict;
pub mod special;
pub mod value;

// The paths of the flat layout this crate had before `models/`, `special/`,
// `data/` and `value/`; kept so that existing code keeps compiling.
pub use data::transaction_summary as summary;
pub use models::contractual::{self, bdw, sbg};
pub use models::ggom_nbd;
pub use models::mbgcnbd;
pub use models::pareto_nbd as pnbd;
pub use models::traits as model;
pub use models::{bgbb, bgnbd, gamma_gamma, mbgnbd};
pub use special::{hyp2f1, hyperu};
pub use value::{clv, dert, intervals};

#[cfg(feature = "python")]
mod python;

pub use bdw::BetaDiscreteWeibull;
pub use bgbb::{bgbb_data, BetaGeoBetaBinom};
pub use bgnbd::BetaGeo;
pub use clv::{customer_lifetime_value, ClvOptions, TimeUnit};
pub use contractual::{RetentionModel, SimulatedSubscriber};
pub use data::{CompressedData, CustomerData, RetentionData};
pub use data::{CompressedSpend, SpendData, ZeroFrequency};
pub use error::{Error, Result};
pub use fit::{
    fit, fit_keeping_data, FitInfo, FitOptions, Fitted, ParamEstimate, ParamSummary, Termination,
};
pub use gamma_gamma::GammaGamma;
pub use mbgnbd::ModifiedBetaGeo;
pub use model::{Derivatives, Evaluation, FitData, Model, SimulatedCustomer, TransactionModel};
pub use models::{ParamSpec, Transform};
pub use pnbd::ParetoNBD;
pub use sbg::ShiftedBetaGeometric;

/// The README's Rust example runs as a doc-test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
