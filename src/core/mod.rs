//! The functional core: pure domain logic, compiled and tested natively.
pub mod engine;
pub mod http;
pub mod keys;
pub mod matching;
pub mod model;
pub mod outbox;
pub mod phone;
pub mod policy;
pub mod ratelimit;
pub mod schedule;
pub mod status;
pub mod store;
pub mod sync;
pub mod timestamp;
pub mod transcript;
pub mod view;
