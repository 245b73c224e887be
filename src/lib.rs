//! crmsync: WhatsApp Web → CRM sync.
//!
//! `core` and `crm` are pure (no I/O, no web-sys) and are tested natively.
//! `web` is the thin shell that exists only in the wasm build.
pub mod capture;
pub mod core;
pub mod crm;
pub mod protocol;

#[cfg(target_arch = "wasm32")]
pub mod web;
