//! The models, one file each, and the traits they implement.
//!
//! - [`traits`]: [`Model`] (what the fitter needs) and [`TransactionModel`]
//!   (the predictions of the non-contractual (x, t_x, T) models);
//! - non-contractual: [`bgnbd`], [`mbgnbd`] (both on the shared engine in
//!   `bg_family`), [`pareto_nbd`], [`bgbb`] (discrete time);
//! - spend: [`gamma_gamma`];
//! - time-invariant covariates for any of them: [`covariates`];
//! - contractual (subscriptions): [`contractual`] with [`contractual::sbg`] and
//!   [`contractual::bdw`].

pub(crate) mod bg_family;
pub mod bgbb;
pub mod bgnbd;
pub mod contractual;
pub mod covariates;
pub mod gamma_gamma;
pub mod ggom_nbd;
pub mod mbgcnbd;
pub mod mbgnbd;
pub mod params;
pub mod pareto_nbd;
pub mod traits;
// Pareto/NBD with time-varying covariates (issue 14).
pub mod time_varying;

pub use params::{ParamSpec, Transform};
pub(crate) use traits::Accumulator;
pub use traits::{Derivatives, Evaluation, FitData, Model, SimulatedCustomer, TransactionModel};
