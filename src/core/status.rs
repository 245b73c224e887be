//! Human-readable status lines shared by the panel, popup and diagnostics.

/// The product name and version, as shown in every surface.
pub fn product_line() -> String {
    format!("crmsync {}", env!("CARGO_PKG_VERSION"))
}

/// What the panel says while capture of the open chat is paused because the page reads wrong.
pub fn capture_paused_line() -> crate::core::ui::Text {
    crate::core::ui::Text::key("capturePaused")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_line_names_version() {
        assert_eq!(product_line(), format!("crmsync {}", env!("CARGO_PKG_VERSION")));
    }
}
