//! [`AnyTransactionModel`]: a Python argument that may be any fitted
//! transaction model class (tokenizers' `ModelWrapper` pattern), for the
//! functions that work with each of them (customer lifetime value).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use super::mbgcnbd::MBGCNBDkModel;
use super::{BetaGeoModel, GGomNBDModel, ModifiedBetaGeoModel, ParetoNBDModel};

/// A BetaGeoModel, ModifiedBetaGeoModel or ParetoNBDModel passed from Python,
/// borrowed (the classes are frozen: their fitted state is read without a
/// copy, and without the GIL, through [`with_fitted!`]).
pub(crate) enum AnyTransactionModel<'py> {
    BetaGeo(Bound<'py, BetaGeoModel>),
    ModifiedBetaGeo(Bound<'py, ModifiedBetaGeoModel>),
    ParetoNBD(Bound<'py, ParetoNBDModel>),
    GGomNBD(Bound<'py, GGomNBDModel>),
    MBGCNBDk(Bound<'py, MBGCNBDkModel>),
}

impl<'py> FromPyObject<'_, 'py> for AnyTransactionModel<'py> {
    type Error = PyErr;

    fn extract(model: Borrowed<'_, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(m) = model.cast::<BetaGeoModel>() {
            Ok(Self::BetaGeo(m.to_owned()))
        } else if let Ok(m) = model.cast::<ModifiedBetaGeoModel>() {
            Ok(Self::ModifiedBetaGeo(m.to_owned()))
        } else if let Ok(m) = model.cast::<ParetoNBDModel>() {
            Ok(Self::ParetoNBD(m.to_owned()))
        } else if let Ok(m) = model.cast::<GGomNBDModel>() {
            Ok(Self::GGomNBD(m.to_owned()))
        } else if let Ok(m) = model.cast::<MBGCNBDkModel>() {
            Ok(Self::MBGCNBDk(m.to_owned()))
        } else {
            Err(PyTypeError::new_err(format!(
                "customer lifetime value needs a BetaGeoModel, ModifiedBetaGeoModel, \
                 ParetoNBDModel, GGomNBDModel or MBGCNBDkModel, got {}",
                model.get_type().name()?
            )))
        }
    }
}

/// `with_fitted!(model, fitted => expression)` evaluates the expression with
/// `fitted: &Fitted<M>`, the fitted state of whichever model class `model`
/// (an [`AnyTransactionModel`]) holds: one generic expression for the three
/// model types.
macro_rules! with_fitted {
    ($model:expr, $fitted:ident => $body:expr) => {
        match &$model {
            $crate::python::transaction_model::AnyTransactionModel::BetaGeo(m) => {
                let $fitted = &m.get().inner;
                $body
            }
            $crate::python::transaction_model::AnyTransactionModel::ModifiedBetaGeo(m) => {
                let $fitted = &m.get().inner;
                $body
            }
            $crate::python::transaction_model::AnyTransactionModel::ParetoNBD(m) => {
                let $fitted = &m.get().inner;
                $body
            }
            $crate::python::transaction_model::AnyTransactionModel::GGomNBD(m) => {
                let $fitted = &m.get().inner;
                $body
            }
            $crate::python::transaction_model::AnyTransactionModel::MBGCNBDk(m) => {
                let $fitted = &m.get().inner;
                $body
            }
        }
    };
}
