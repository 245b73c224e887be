//! The imperative shell: DOM, fetch, timers, storage and chrome.* bindings.
//! Everything here is thin; decisions are made in `crate::core` and `crate::crm`.
pub mod backfill;
#[cfg(feature = "bench")]
pub mod bench;
pub mod chrome;
#[cfg(not(feature = "content-module"))]
pub mod connect;
pub mod content;
pub mod dom;
#[cfg(not(feature = "content-module"))]
pub mod matching;
#[cfg(not(feature = "content-module"))]
pub mod onboard;
#[cfg(not(feature = "content-module"))]
pub mod options;
#[cfg(not(feature = "content-module"))]
pub mod panel;
#[cfg(all(feature = "bench", not(feature = "content-module")))]
pub mod phone;
#[cfg(not(feature = "content-module"))]
pub mod secrets;
pub mod store;
#[cfg(not(feature = "content-module"))]
pub mod sync;
#[cfg(not(feature = "content-module"))]
pub mod transport;
#[cfg(not(feature = "content-module"))]
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

/// A WhatsApp tab's request as a JS value, serialized through `protocol::TabRequest`: the
/// content script's module then carries only the serializers of what a tab sends.
/// (Measured 2026-12-06 in `tests/bench/switch.mjs`: JSON text through JSON.parse instead
/// was no faster per 200-message chunk and cost the content module 3.5 KB gzip.)
pub(crate) fn tab_request(req: &crate::protocol::Request) -> Result<JsValue, JsValue> {
    let tab = req.for_tab().ok_or_else(|| js_err("not a request a WhatsApp tab makes"))?;
    to_js(&tab)
}
