//! Caps on what one runtime message may carry, and the checks on a copied file: the worker
//! applies them to every request before acting, whoever sent it.
use crate::core::model::{Message, WaIdentity};
use crate::protocol::Request;

/// Messages per `Captured` (the content script sends chunks of 200).
pub const MAX_MESSAGES: usize = 200;
/// One message's text (and quoted text), in bytes.
pub const MAX_TEXT: usize = 64 * 1024;
/// Names, titles, keys and other short strings.
pub const MAX_NAME: usize = 256;
pub const MAX_KEY: usize = 128;
pub const MAX_MEDIA: usize = 16;
/// A copied file's bytes (the content script copies up to this).
pub const MAX_FILE: usize = 15 * 1024 * 1024;
/// Relayed chat HTML in the strict-CSP fallback.
pub const MAX_RELAY: usize = 8 * 1024 * 1024;
pub const MAX_TITLES: usize = 2000;

fn short(what: &str, s: &str, max: usize) -> Result<(), String> {
    if s.len() > max {
        return Err(format!("{what} is longer than {max} bytes"));
    }
    Ok(())
}

fn identity(i: &WaIdentity) -> Result<(), String> {
    short("chat name", &i.name, MAX_NAME)?;
    short("phone", i.phone.as_deref().unwrap_or(""), 32)?;
    short("lid", i.lid.as_deref().unwrap_or(""), 64)
}

fn message(m: &Message) -> Result<(), String> {
    short("message key", &m.key, MAX_KEY)?;
    short("chat key", &m.chat, MAX_NAME + 16)?;
    short("message text", &m.text, MAX_TEXT)?;
    if let Some(q) = &m.quoted {
        short("quoted text", &q.text, MAX_TEXT)?;
    }
    if m.media.len() > MAX_MEDIA || m.reactions.len() > 64 {
        return Err("too many attachments or reactions in one message".into());
    }
    for media in &m.media {
        short("file name", media.file_name.as_deref().unwrap_or(""), MAX_NAME)?;
        short("file URL", media.url.as_deref().unwrap_or(""), 512)?;
    }
    Ok(())
}

/// Base64 length of `n` bytes.
pub const fn b64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Refuse a request that carries more than any honest sender sends.
pub fn check(request: &Request) -> Result<(), String> {
    match request {
        Request::Captured { identity: id, messages } => {
            identity(id)?;
            if messages.len() > MAX_MESSAGES {
                return Err(format!("more than {MAX_MESSAGES} messages in one request"));
            }
            messages.iter().try_for_each(message)
        }
        Request::ChatOpened { identity: id, theme, .. } => {
            identity(id)?;
            short("theme", theme.as_deref().unwrap_or(""), 16)
        }
        Request::File { message_key, name, mime, data_b64, error, .. } => {
            short("message key", message_key, MAX_KEY)?;
            short("file name", name, MAX_NAME)?;
            short("MIME type", mime, 100)?;
            short("error", error.as_deref().unwrap_or(""), 1000)?;
            if data_b64.as_ref().is_some_and(|d| d.len() > b64_len(MAX_FILE)) {
                return Err(format!("a file larger than {} MB", MAX_FILE >> 20));
            }
            Ok(())
        }
        Request::Relay { header, rows, locale } => {
            short("relayed header", header, 64 * 1024)?;
            short("relayed rows", rows, MAX_RELAY)?;
            short("locale", locale, 35)
        }
        Request::ContentError { stage, error } => {
            short("stage", stage, 64)?;
            short("error", error, 2000)
        }
        Request::CaptureStats { counters } => {
            if counters.skipped.len() > 64 || counters.skipped.keys().any(|k| k.len() > MAX_NAME) {
                return Err("too many capture counters".into());
            }
            Ok(())
        }
        Request::UnknownChats { titles } => {
            if titles.len() > MAX_TITLES {
                return Err(format!("more than {MAX_TITLES} titles"));
            }
            titles.iter().try_for_each(|t| short("title", t, MAX_NAME))
        }
        Request::BackfillProgress { progress } => {
            if progress.results.len() > MAX_TITLES || progress.unreadable.len() > MAX_TITLES {
                return Err("backfill progress too long".into());
            }
            Ok(())
        }
        Request::PanelRegister { nonce, blocked } => {
            short("reason", blocked.as_deref().unwrap_or(""), 2000)?;
            if !(16..=128).contains(&nonce.len()) {
                return Err("a panel nonce of unexpected length".into());
            }
            Ok(())
        }
        Request::PanelClaim { nonce } => {
            if !(16..=128).contains(&nonce.len()) {
                return Err("a panel nonce of unexpected length".into());
            }
            Ok(())
        }
        Request::SearchRecords { query } => short("search", query, MAX_NAME),
        // `+` and an E.164 number's digits, as `capture::own_wid` sends it.
        Request::OwnNumber { phone } => {
            let digits = phone.strip_prefix('+').unwrap_or("");
            if !(7..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err("an own number that is not +digits".into());
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// What a file's bytes are, from their first bytes (the types WhatsApp shows as photos).
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The file types crmsync copies, by the message's media kind.
fn allowed(kind: &str, mime: &str) -> bool {
    matches!(kind, "image" | "sticker" | "gif")
        && matches!(mime, "image/png" | "image/jpeg" | "image/gif" | "image/webp")
}

pub fn extension(mime: &str) -> &'static str {
    match mime {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => "bin",
    }
}

/// A copied file the worker may keep: `media_kind` is the stored message's media at the
/// file's index (None: no such message or index). The bytes must be of an allowed type for
/// that media, agree with the declared MIME type, and fit the cap. Returns the MIME type and
/// a file name whose extension is the sniffed type's.
pub fn check_file(
    media_kind: Option<&str>,
    declared_mime: &str,
    name: &str,
    bytes: &[u8],
) -> Result<(String, String), String> {
    let kind = media_kind.ok_or("no stored message has an attachment at that place")?;
    if bytes.len() > MAX_FILE {
        return Err(format!("larger than {} MB", MAX_FILE >> 20));
    }
    let sniffed = sniff(bytes).ok_or("its bytes are not an image type crmsync copies")?;
    let declared = declared_mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if declared != sniffed {
        return Err(format!("declared {declared} but its bytes are {sniffed}"));
    }
    if !allowed(kind, sniffed) {
        return Err(format!("a {sniffed} file on a {kind} message"));
    }
    let stem: String = name
        .rsplit_once('.')
        .map(|(s, _)| s)
        .unwrap_or(name)
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .take(80)
        .collect();
    let stem = if stem.trim().is_empty() { "image".to_string() } else { stem };
    Ok((sniffed.to_string(), format!("{stem}.{}", extension(sniffed))))
}

/// Stored files (`<message key>#<index>`) with no stored message, or no attachment at that
/// index: `media` is each stored message's attachment count (absent: no such message).
pub fn orphan_files(
    file_keys: &[String],
    media: &std::collections::BTreeMap<String, usize>,
) -> Vec<String> {
    file_keys
        .iter()
        .filter(|k| {
            let Some((msg, idx)) = k.rsplit_once('#') else { return true };
            match (media.get(msg), idx.parse::<usize>()) {
                (Some(n), Ok(i)) => i >= *n,
                _ => true,
            }
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Direction, Media, MessageKind, Sender as MsgSender};

    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];

    fn msg(text: &str) -> Message {
        Message {
            key: "3EB0A".into(),
            chat: "pn:+1".into(),
            direction: Direction::In,
            sender: MsgSender { name: "Ana".into(), phone: None },
            time: None,
            text: text.into(),
            quoted: None,
            media: vec![Media { kind: "image".into(), file_name: None, size: None, url: None }],
            kind: MessageKind::Text,
            forwarded: false,
            edited: false,
            reactions: vec![],
        }
    }

    #[test]
    fn an_own_number_is_a_phone_number_only() {
        let own = |p: &str| check(&Request::OwnNumber { phone: p.into() });
        assert!(own("+5215512345678").is_ok());
        let long = format!("+{}", "9".repeat(5000));
        for bad in ["5215512345678", "+12", "+1234567890123456", "+52 155", "+52<b>1234", &long] {
            assert!(own(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn requests_over_the_caps_are_refused() {
        let id =
            WaIdentity { phone: Some("+1".into()), lid: None, name: "Ana".into(), is_group: false };
        let ok =
            Request::Captured { identity: id.clone(), messages: vec![msg("hi"); MAX_MESSAGES] };
        assert!(check(&ok).is_ok());
        let many =
            Request::Captured { identity: id.clone(), messages: vec![msg("hi"); MAX_MESSAGES + 1] };
        assert!(check(&many).is_err());
        let long = Request::Captured {
            identity: id.clone(),
            messages: vec![msg(&"x".repeat(MAX_TEXT + 1))],
        };
        assert!(check(&long).is_err());
        let name = Request::ChatOpened {
            identity: WaIdentity { name: "n".repeat(MAX_NAME + 1), ..id },
            theme: None,
            paused: false,
        };
        assert!(check(&name).is_err());
        let big = Request::File {
            message_key: "k".into(),
            index: 0,
            name: "a.png".into(),
            mime: "image/png".into(),
            size: 0,
            data_b64: Some("A".repeat(b64_len(MAX_FILE) + 4)),
            error: None,
        };
        assert!(check(&big).is_err());
        assert!(check(&Request::PanelClaim { nonce: "short".into() }).is_err());
        assert!(check(&Request::UnknownChats { titles: vec!["t".into(); MAX_TITLES + 1] }).is_err());
    }

    #[test]
    fn orphan_files_are_found() {
        let media = std::collections::BTreeMap::from([
            ("3EB0A".to_string(), 1usize),
            ("3EB0B".to_string(), 0),
        ]);
        let keys: Vec<String> = ["3EB0A#0", "3EB0A#1", "3EB0B#0", "3EB0GONE#0", "nonsense"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            orphan_files(&keys, &media),
            vec!["3EB0A#1", "3EB0B#0", "3EB0GONE#0", "nonsense"]
        );
    }

    #[test]
    fn files_are_sniffed_and_must_belong_to_a_stored_attachment() {
        assert_eq!(
            check_file(Some("image"), "image/png", "photo-3EB0", PNG),
            Ok(("image/png".into(), "photo-3EB0.png".into()))
        );
        // The forged file: PDF bytes (or any bytes) announced as something else.
        let pdf = b"%PDF-1.7\n1 0 obj";
        assert!(check_file(Some("image"), "application/pdf", "image.pdf", pdf).is_err());
        assert!(check_file(Some("image"), "image/png", "image.pdf", pdf).is_err());
        // PNG bytes announced as JPEG disagree.
        assert!(check_file(Some("image"), "image/jpeg", "x.jpg", PNG).is_err());
        // Named .pdf, the name follows the bytes.
        assert_eq!(
            check_file(Some("image"), "image/png", "invoice.pdf", PNG).map(|r| r.1),
            Ok("invoice.png".into())
        );
        // No stored message with media at that index; media of another kind.
        assert!(check_file(None, "image/png", "x.png", PNG).is_err());
        assert!(check_file(Some("document"), "image/png", "x.png", PNG).is_err());
        // Over the cap.
        let mut huge = PNG.to_vec();
        huge.resize(MAX_FILE + 1, 0);
        assert!(check_file(Some("image"), "image/png", "x.png", &huge).is_err());
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"GIF89a"), Some("image/gif"));
        assert_eq!(sniff(b"<html>"), None);
    }
}
