//! The functional core: pure domain logic, compiled and tested natively.
pub mod matching;
pub mod model;
pub mod phone;
pub mod protocol;
pub mod status;
