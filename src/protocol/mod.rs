//! The Alipay+ / Antom wire model, pure: the `result` envelope, amounts, date-times and the
//! field rules every request body is checked against. Nothing here does IO.

pub mod amount;
pub mod codes;
pub mod datetime;
pub mod endpoint;
pub mod result;
pub mod schema;

pub use amount::{Amount, AmountError};
pub use endpoint::{Direction, Endpoint, Spec, Writes};
pub use result::{ResultCode, ResultStatus, WireResult};
pub use schema::{Field, Kind, Presence, validate};
