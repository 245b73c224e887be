//! The imperative shell: DOM, fetch, timers, storage and chrome.* bindings.
//! Everything here is thin; decisions are made in `crate::core` and `crate::crm`.
pub mod backfill;
#[cfg(feature = "bench")]
pub mod bench;
pub mod chrome;
pub mod connect;
pub mod content;
pub mod matching;
pub mod options;
pub mod panel;
#[cfg(feature = "bench")]
pub mod phone;
pub mod secrets;
pub mod store;
pub mod sync;
pub mod transport;
pub mod worker;

use wasm_bindgen::prelude::*;

/// Turn any displayable error into a JS error value.
pub(crate) fn js_err(e: impl core::fmt::Display) -> JsValue {
    js_sys::Error::new(&e.to_string()).into()
}

/// Serialize a Rust value into a plain JS object (maps become objects).
pub(crate) fn to_js<T: serde::Serialize>(v: &T) -> Result<JsValue, JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(js_err)
}
