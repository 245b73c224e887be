//! Where each field lives in WhatsApp Web's DOM (2026), as data: ordered fallbacks per
//! field, stable anchors first (ids, role, data-testid, data-icon, data-* attributes),
//! localized aria-labels matched in several languages last. A WhatsApp change is a data
//! fix here. Sources: the whatsapp-web.md reference (§1).
use super::html::El;

#[derive(Clone, Copy, Debug)]
pub enum Sel {
    /// attribute equals (exact)
    Attr(&'static str, &'static str),
    /// attribute present
    Has(&'static str),
    /// attribute value contains (case-insensitive)
    AttrContains(&'static str, &'static str),
    /// attribute value starts with one of these (case-insensitive): localized labels
    AttrStartsAny(&'static str, &'static [&'static str]),
    Class(&'static str),
    Tag(&'static str),
    /// both (tag + something)
    TagAttrPrefix(&'static str, &'static str, &'static str),
}

impl Sel {
    pub fn matches(&self, e: &El) -> bool {
        match *self {
            Sel::Attr(k, v) => e.attr(k) == Some(v),
            Sel::Has(k) => e.attr(k).is_some(),
            Sel::AttrContains(k, v) => e.attr(k).is_some_and(|a| a.to_lowercase().contains(v)),
            Sel::AttrStartsAny(k, vs) => e.attr(k).is_some_and(|a| {
                let a = a.to_lowercase();
                vs.iter().any(|v| a.starts_with(v))
            }),
            Sel::Class(c) => e.has_class(c),
            Sel::Tag(t) => e.tag == t,
            Sel::TagAttrPrefix(t, k, v) => e.tag == t && e.attr(k).is_some_and(|a| a.starts_with(v)),
        }
    }
}

/// The first element under `root` matched by the earliest selector that matches anything.
pub fn first<'a>(root: &'a El, sels: &[Sel]) -> Option<&'a El> {
    sels.iter().find_map(|s| root.find(&|e| s.matches(e)))
}

/// Same, but never inside a subtree `skip` accepts (e.g. the quoted message).
pub fn first_outside<'a>(root: &'a El, sels: &[Sel], skip: &dyn Fn(&El) -> bool) -> Option<&'a El> {
    sels.iter().find_map(|s| root.find_outside(&|e| s.matches(e), skip))
}

pub fn any(root: &El, sels: &[Sel]) -> bool {
    first(root, sels).is_some()
}

// Rows and direction.
pub const MESSAGE_ID: &str = "data-id";
pub const OUT: &[Sel] = &[Sel::Class("message-out")];
pub const IN: &[Sel] = &[Sel::Class("message-in")];
pub const PRE_PLAIN: &[Sel] = &[Sel::Has("data-pre-plain-text")];

// Body text: WhatsApp's selectable text, then the older class, then a bare span[dir].
pub const BODY: &[Sel] = &[
    Sel::Attr("data-testid", "selectable-text"),
    Sel::Class("selectable-text"),
    Sel::AttrStartsAny("dir", &["ltr", "rtl", "auto"]),
];

pub const QUOTED: &[Sel] = &[
    Sel::Attr("data-testid", "quoted-message"),
    Sel::AttrStartsAny("aria-label", &["quoted message", "mensagem citada", "mensaje citado", "message cité", "zitierte nachricht", "messaggio citato"]),
];
pub const QUOTED_TEXT: &[Sel] = &[Sel::Class("quoted-mention"), Sel::Attr("data-testid", "selectable-text"), Sel::AttrStartsAny("dir", &["ltr", "rtl", "auto"])];

// Group author block: push name + (for unsaved senders) the formatted phone.
pub const AUTHOR: &[Sel] = &[Sel::Attr("data-testid", "author")];
pub const AUTHOR_PHONE: &[Sel] = &[Sel::Attr("data-testid", "author-phone"), Sel::Class("_ahx_")];

// Kinds.
pub const DELETED: &[Sel] = &[
    Sel::Attr("data-testid", "recalled-msg"),
    Sel::Attr("data-icon", "recalled"),
    Sel::Attr("data-icon", "recalled-in"),
    Sel::Attr("data-icon", "recalled-out"),
];
pub const STICKER: &[Sel] = &[Sel::Attr("data-testid", "sticker"), Sel::AttrStartsAny("aria-label", &["sticker", "figurinha", "sticker con"])];
pub const GIF: &[Sel] = &[Sel::Attr("data-icon", "media-gif"), Sel::AttrStartsAny("aria-label", &["play gif", "reproduzir gif", "reproducir gif"])];
pub const VIDEO: &[Sel] = &[Sel::Attr("data-icon", "media-play"), Sel::Attr("data-testid", "video-thumb"), Sel::AttrStartsAny("aria-label", &["play video", "reproduzir vídeo", "reproducir video"])];
pub const IMAGE: &[Sel] = &[
    Sel::Attr("data-testid", "image-thumb"),
    Sel::AttrStartsAny("aria-label", &["open picture", "abrir imagem", "abrir foto", "abrir imagen", "bild öffnen", "ouvrir l'image"]),
    Sel::TagAttrPrefix("img", "src", "blob:"),
];
pub const VOICE: &[Sel] = &[
    Sel::Attr("data-icon", "audio-play"),
    Sel::Attr("data-icon", "ptt-status"),
    Sel::AttrContains("aria-label", "voice message"),
    Sel::AttrContains("aria-label", "mensagem de voz"),
    Sel::AttrContains("aria-label", "mensaje de voz"),
];
pub const VOICE_DURATION: &[Sel] = &[Sel::Attr("data-testid", "audio-duration"), Sel::Attr("role", "slider")];
pub const DOCUMENT: &[Sel] = &[Sel::Attr("data-testid", "document-thumb"), Sel::AttrContains("data-icon", "document"), Sel::Attr("data-icon", "audio-download")];
pub const DOCUMENT_SIZE: &[Sel] = &[Sel::Attr("data-testid", "document-size")];
pub const LOCATION: &[Sel] = &[Sel::Attr("data-testid", "location-thumb"), Sel::Attr("data-icon", "location"), Sel::AttrContains("href", "maps.google.")];
pub const CONTACT_CARD: &[Sel] = &[Sel::Attr("data-testid", "vcard-msg"), Sel::Attr("data-icon", "default-contact-refreshed")];
pub const CONTACT_CARD_NAME: &[Sel] = &[Sel::Attr("data-testid", "vcard-name"), Sel::Has("title")];

// Flags.
pub const FORWARDED: &[Sel] = &[Sel::Attr("data-icon", "forward-refreshed"), Sel::AttrContains("data-icon", "forward"), Sel::Attr("data-testid", "forwarded")];
pub const EDITED: &[Sel] = &[Sel::AttrContains("data-icon", "edited"), Sel::Attr("data-testid", "edited")];
pub const EDITED_WORDS: &[&str] = &["edited", "editada", "editado", "bearbeitet", "modifié", "modificato"];
pub const REACTIONS: &[Sel] = &[Sel::AttrStartsAny("aria-label", &["reactions ", "reaction ", "reações ", "reação ", "reacciones ", "reacción "])];

// System rows (no data-pre-plain-text): group notices, encryption notice.
pub const SYSTEM: &[Sel] = &[Sel::Attr("data-testid", "system-message"), Sel::Class("message-system")];

// Conversation header.
pub const HEADER_TITLE: &[Sel] = &[
    Sel::Attr("data-testid", "conversation-info-header-chat-title"),
    Sel::Tag("header"),
];
pub const GROUP_MARK: &[Sel] = &[Sel::Attr("data-icon", "default-group"), Sel::Attr("data-icon", "group"), Sel::Attr("data-testid", "group-subtitle")];
