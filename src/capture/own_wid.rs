//! The signed-in rep's own number, from what WhatsApp Web keeps in its localStorage (the
//! content script shares the page's storage). WhatsApp's own code reads the key
//! `last-wid-md` — a JSON string `"<number>:<device>@c.us"` — and drops the `:<device>` to
//! get the account's id (WhatsApp Web's `WAWebCallLinkLandingPage` module, 2026), as public
//! WhatsApp Web tools of 2025-2026 do to name the logged-in number; `last-wid` is the older
//! key, `"<number>@c.us"`. Anything else (a `@lid`, no digits) yields nothing: the number is
//! only a hint for the default phone region, never needed.

/// The localStorage keys, newest first.
pub const KEYS: [&str; 2] = ["last-wid-md", "last-wid"];

/// `+digits` from a stored wid, or None when it is not a phone number's wid.
pub fn own_number(raw: &str) -> Option<String> {
    let raw = raw.trim();
    // Stored JSON-encoded; some writers stored it bare.
    let wid = serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_string());
    let (user, server) = wid.trim().split_once('@')?;
    if server != "c.us" && server != "s.whatsapp.net" {
        return None;
    }
    let number = user.split(':').next().unwrap_or("");
    // E.164: up to 15 digits; shorter than 7 is no full international number.
    if !(7..=15).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("+{number}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_number_of_a_stored_wid() {
        assert_eq!(own_number(r#""5215512345678:12@c.us""#).as_deref(), Some("+5215512345678"));
        assert_eq!(own_number(r#""919876543210@c.us""#).as_deref(), Some("+919876543210"));
        assert_eq!(own_number("447700900123:3@c.us").as_deref(), Some("+447700900123"));
        assert_eq!(
            own_number(r#""447700900123@s.whatsapp.net""#).as_deref(),
            Some("+447700900123")
        );
        for no in [
            "",
            "null",
            r#""123456789012345@lid""#,
            r#""12ab5678@c.us""#,
            r#""123@c.us""#,
            r#""1234567890123456@c.us""#,
            r#""120363000000000000@g.us""#,
            "{}",
        ] {
            assert_eq!(own_number(no), None, "{no}");
        }
    }

    #[test]
    fn the_signed_in_number_outweighs_the_browser_language_in_the_region_guess() {
        // What the fake WhatsApp Web stores (www/wa.js): a German mobile, an en-US browser.
        let own = own_number(r#""4915123456789:4@c.us""#);
        assert_eq!(own.as_deref(), Some("+4915123456789"));
        assert_eq!(crate::core::first_run::guess_region("en-US", own.as_deref()), "DE");
        assert_eq!(crate::core::first_run::guess_region("en-US", None), "US");
    }
}
