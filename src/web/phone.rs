//! Phone parsing exposed to the benchmark, which compares it with google-libphonenumber in
//! the same browser (`--features bench` only).
use crate::core::phone;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Parse many `raw<TAB>region` lines at once (one call across the JS boundary); returns
/// one line per input: the E.164 number or `invalid`.
#[wasm_bindgen]
pub fn phone_e164_batch(lines: &str) -> String {
    let mut out = String::with_capacity(lines.len());
    for line in lines.lines() {
        let (raw, region) = line.split_once('\t').unwrap_or((line, "ZZ"));
        match phone::parse_one(raw, region) {
            Ok(e) => out.push_str(&e),
            Err(_) => out.push_str("invalid"),
        }
        out.push('\n');
    }
    out
}

/// The wasm linear memory size, for diagnostics and the memory benchmark.
#[wasm_bindgen]
pub fn wasm_memory_bytes() -> f64 {
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .ok()
        .and_then(|m| m.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
        .map(|b| b.byte_length() as f64)
        .unwrap_or(0.0)
}
