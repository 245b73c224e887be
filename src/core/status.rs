//! Human-readable status lines shared by the panel, popup and diagnostics.

/// The product name and version, as shown in every surface.
pub fn product_line() -> String {
    format!("crmsync {}", env!("CARGO_PKG_VERSION"))
}

/// What the panel says while capture of the open chat is paused because the page reads wrong.
pub fn capture_paused_line() -> &'static str {
    "WhatsApp changed its page; crmsync paused this chat so nothing wrong is written."
}

/// What the panel says when the content script could not start its wasm.
pub fn capture_blocked_line(reason: &str) -> String {
    let reason = reason.trim();
    if reason.is_empty() {
        "Capture is off: this page blocked the extension's WebAssembly.".to_string()
    } else {
        format!("Capture is off: this page blocked the extension's WebAssembly ({reason}).")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_line_names_version() {
        assert_eq!(product_line(), format!("crmsync {}", env!("CARGO_PKG_VERSION")));
    }
}
