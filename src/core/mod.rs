//! The functional core: pure domain logic, compiled and tested natively.
pub mod protocol;
pub mod status;
