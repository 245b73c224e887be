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
    let wid = json_string(raw).unwrap_or_else(|| raw.to_string());
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

/// A JSON string literal's value (RFC 8259 §7), None when `s` is not exactly one. Hand-written
/// so the content script's module carries no JSON parser for this one value.
fn json_string(s: &str) -> Option<String> {
    let mut chars = s.strip_prefix('"')?.strip_suffix('"')?.chars();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\u{0}'..='\u{1f}' => return None,
            '\\' => {
                let e = match chars.next()? {
                    c @ ('"' | '\\' | '/') => c,
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'u' => {
                        let hi = hex4(&mut chars)?;
                        if (0xD800..0xDC00).contains(&hi) {
                            // A surrogate pair: the low half must follow as its own escape.
                            if (chars.next()?, chars.next()?) != ('\\', 'u') {
                                return None;
                            }
                            let lo = hex4(&mut chars)?;
                            if !(0xDC00..0xE000).contains(&lo) {
                                return None;
                            }
                            char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?
                        } else {
                            char::from_u32(hi)?
                        }
                    }
                    _ => return None,
                };
                out.push(e);
            }
            c => out.push(c),
        }
    }
    Some(out)
}

fn hex4(chars: &mut std::str::Chars) -> Option<u32> {
    (0..4).try_fold(0, |n, _| Some(n * 16 + chars.next()?.to_digit(16)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_json_string_decodes_as_json_does() {
        for s in [
            r#""5215512345678:12@c.us""#,
            r#""""#,
            r#""a\"b\\c\/d\b\f\n\r\t""#,
            r#""\u0035\u00e9\u20AC""#,
            r#""\ud83d\ude00 x""#,
            "\"caf\u{e9} \u{1f600}\"",
        ] {
            let want = serde_json::from_str::<String>(s).ok();
            assert!(want.is_some(), "{s}");
            assert_eq!(json_string(s), want, "{s}");
        }
        // Not one JSON string: JSON refuses each, and so does the hand decode.
        for s in [
            "5215512345678@c.us",
            r#""unterminated"#,
            r#""a"b""#,
            r#""bad \x escape""#,
            r#""\u12""#,
            r#""\u12g4""#,
            r#""\ud83d alone""#,
            r#""\ud83d\u0041""#,
            r#""\ude00""#,
            "\"tab\tinside\"",
            "\"",
            "null",
        ] {
            assert!(serde_json::from_str::<String>(s).is_err(), "{s}");
            assert_eq!(json_string(s), None, "{s}");
        }
    }

    #[test]
    fn an_escaped_wid_reads_like_a_plain_one() {
        assert_eq!(
            own_number(r#""447700900123\u003a3\u0040c.us""#).as_deref(),
            Some("+447700900123")
        );
    }

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
