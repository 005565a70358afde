//! What a customer is worth: customer lifetime value ([`clv`]), discounted
//! expected residual transactions ([`dert`]), and intervals for any
//! prediction from the uncertainty of the estimates ([`intervals`]).

pub mod clv;
pub mod dert;
pub mod intervals;
