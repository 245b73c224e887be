//! The functional core: pure domain logic, compiled and tested natively.
pub mod model;
pub mod protocol;
pub mod status;
pub mod view;
