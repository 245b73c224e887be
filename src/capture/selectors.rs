//! Where each field lives in WhatsApp Web's DOM (2026), as data: ordered fallbacks per
//! field, stable anchors first (ids, role, data-testid, data-icon, data-* attributes),
//! localized aria-labels matched in several languages last. A WhatsApp change is a data
//! fix here. Sources: the whatsapp-web.md reference (§1).
pub use super::html::select::{any, first, Sel};
use super::html::select::{Dispatch, RowIndex};
use super::html::El;

/// Every field the row parser reads, indexed by the `F_*` constants below.
pub const FIELDS: [&[Sel]; 30] = [
    OUT,
    IN,
    PRE_PLAIN,
    BODY,
    QUOTED,
    QUOTED_TEXT,
    AUTHOR,
    AUTHOR_PHONE,
    DELETED,
    STICKER,
    GIF,
    VIDEO,
    IMAGE,
    VOICE,
    VOICE_DURATION,
    DOCUMENT,
    DOCUMENT_SIZE,
    LOCATION,
    CONTACT_CARD,
    CONTACT_CARD_NAME,
    FORWARDED,
    EDITED,
    SYSTEM,
    MSG_META,
    DOCUMENT_THUMB,
    DOCUMENT_NAME,
    ROW_ID,
    REACTIONS,
    AUTHOR_BLOCK,
    BODY_DIR,
];
pub const F_OUT: usize = 0;
pub const F_IN: usize = 1;
pub const F_PRE_PLAIN: usize = 2;
pub const F_BODY: usize = 3;
pub const F_QUOTED: usize = 4;
pub const F_QUOTED_TEXT: usize = 5;
pub const F_AUTHOR: usize = 6;
pub const F_AUTHOR_PHONE: usize = 7;
pub const F_DELETED: usize = 8;
pub const F_STICKER: usize = 9;
pub const F_GIF: usize = 10;
pub const F_VIDEO: usize = 11;
pub const F_IMAGE: usize = 12;
pub const F_VOICE: usize = 13;
pub const F_VOICE_DURATION: usize = 14;
pub const F_DOCUMENT: usize = 15;
pub const F_DOCUMENT_SIZE: usize = 16;
pub const F_LOCATION: usize = 17;
pub const F_CONTACT_CARD: usize = 18;
pub const F_CONTACT_CARD_NAME: usize = 19;
pub const F_FORWARDED: usize = 20;
pub const F_EDITED: usize = 21;
pub const F_SYSTEM: usize = 22;
pub const F_MSG_META: usize = 23;
pub const F_DOCUMENT_THUMB: usize = 24;
pub const F_DOCUMENT_NAME: usize = 25;
pub const F_ROW_ID: usize = 26;
pub const F_REACTIONS: usize = 27;
pub const F_AUTHOR_BLOCK: usize = 28;
pub const F_BODY_DIR: usize = 29;

/// One pass over a row: for every field, the first element (document order) matched by
/// its highest-priority selector, both anywhere and outside the quoted message.
pub type Index<'d, 'a> = RowIndex<'d, 'a, { FIELDS.len() }>;
pub fn index<'d, 'a>(row: El<'d, 'a>) -> Index<'d, 'a> {
    static D: std::sync::OnceLock<Dispatch<{ FIELDS.len() }>> = std::sync::OnceLock::new();
    RowIndex::build(D.get_or_init(|| Dispatch::new(&FIELDS, F_QUOTED)), row)
}

// Rows and direction.
pub const MESSAGE_ID: &str = "data-id";
pub const OUT: &[Sel] = &[Sel::Class("message-out")];
pub const IN: &[Sel] = &[Sel::Class("message-in")];
pub const PRE_PLAIN: &[Sel] = &[Sel::Has("data-pre-plain-text")];

// Body text: WhatsApp's selectable text, then the older class. A bare `span[dir]` is the
// last resort (`BODY_DIR`), taken only inside the copyable text and outside the author
// block: author names and clocks are `span[dir=auto]` too.
pub const BODY: &[Sel] =
    &[Sel::Attr("data-testid", "selectable-text"), Sel::Class("selectable-text")];
pub const BODY_DIR: &[Sel] = &[Sel::AttrStartsAny("dir", &["ltr", "rtl", "auto"])];

pub const QUOTED: &[Sel] = &[Sel::AttrStartsAny(
    "aria-label",
    &[
        "quoted message",
        "mensagem citada",
        "mensaje citado",
        "message cité",
        "zitierte nachricht",
        "messaggio citato",
    ],
)];
pub const QUOTED_TEXT: &[Sel] = &[
    Sel::Class("quoted-mention"),
    Sel::Attr("data-testid", "selectable-text"),
    Sel::AttrStartsAny("dir", &["ltr", "rtl", "auto"]),
];

// Group author block: a `[role=""]` element (the real page's only empty role) holding the
// name (`span[dir=auto]`, sometimes with `data-testid="author"` and an aria-label such as
// "Maybe Devika" for an unsaved sender's push name) and, for unsaved senders, the formatted
// phone in a sibling span. The hashed class `_ahx_` is a hint, phone-like text the rule.
pub const AUTHOR_BLOCK: &[Sel] = &[Sel::Attr("role", "")];
pub const AUTHOR: &[Sel] = &[Sel::Attr("data-testid", "author")];
pub const AUTHOR_PHONE: &[Sel] = &[Sel::Class("_ahx_")];
/// Screen-reader wording WhatsApp puts before a push name in the author's aria-label (the
/// visible text is the name alone): stripped when only the aria-label can be read.
pub const AUTHOR_LABEL_PREFIXES: &[&str] = &[
    "maybe ",
    "talvez ",
    "quizás ",
    "quizas ",
    "peut-être ",
    "vielleicht ",
    "forse ",
    "mungkin ",
    "misschien ",
];

// Kinds.
pub const DELETED: &[Sel] = &[
    Sel::Attr("data-testid", "recalled-msg"),
    Sel::Attr("data-icon", "recalled"),
    Sel::Attr("data-icon", "recalled-in"),
    Sel::Attr("data-icon", "recalled-out"),
];
pub const STICKER: &[Sel] = &[
    Sel::Attr("data-testid", "sticker"),
    Sel::AttrStartsAny("aria-label", &["sticker", "figurinha", "pegatina"]),
];
pub const GIF: &[Sel] = &[
    Sel::Attr("data-icon", "media-gif"),
    Sel::AttrStartsAny("aria-label", &["play gif", "reproduzir gif", "reproducir gif"]),
];
pub const VIDEO: &[Sel] = &[
    Sel::Attr("data-icon", "media-play"),
    Sel::Attr("data-testid", "video-thumb"),
    Sel::AttrStartsAny("aria-label", &["play video", "reproduzir vídeo", "reproducir video"]),
];
pub const IMAGE: &[Sel] = &[
    Sel::Attr("data-testid", "image-thumb"),
    Sel::AttrStartsAny(
        "aria-label",
        &[
            "open picture",
            "abrir imagem",
            "abrir foto",
            "abrir imagen",
            "bild öffnen",
            "ouvrir l'image",
        ],
    ),
    Sel::TagAttrPrefix("img", "src", "blob:"),
];
pub const VOICE: &[Sel] = &[
    Sel::Attr("data-icon", "audio-play"),
    Sel::Attr("data-icon", "ptt-status"),
    Sel::AttrContains("aria-label", "voice message"),
    Sel::AttrContains("aria-label", "mensagem de voz"),
    Sel::AttrContains("aria-label", "mensaje de voz"),
];
pub const VOICE_DURATION: &[Sel] =
    &[Sel::Attr("data-testid", "audio-duration"), Sel::Attr("role", "slider")];
pub const DOCUMENT: &[Sel] = &[
    Sel::Attr("data-testid", "document-thumb"),
    Sel::AttrContains("data-icon", "document"),
    Sel::Attr("data-icon", "audio-download"),
];
pub const DOCUMENT_SIZE: &[Sel] = &[Sel::Attr("data-testid", "document-size")];
pub const LOCATION: &[Sel] = &[
    Sel::Attr("data-testid", "location-thumb"),
    Sel::Attr("data-icon", "location"),
    Sel::AttrContains("href", "maps.google."),
];
pub const CONTACT_CARD: &[Sel] =
    &[Sel::Attr("data-testid", "vcard-msg"), Sel::Attr("data-icon", "default-contact-refreshed")];
pub const CONTACT_CARD_NAME: &[Sel] = &[Sel::Attr("data-testid", "vcard-name"), Sel::Has("title")];

// Flags.
pub const FORWARDED: &[Sel] = &[
    Sel::Attr("data-icon", "forward-refreshed"),
    Sel::AttrContains("data-icon", "forward"),
    Sel::Attr("data-testid", "forwarded"),
];
pub const EDITED: &[Sel] =
    &[Sel::AttrContains("data-icon", "edited"), Sel::Attr("data-testid", "edited")];
pub const EDITED_WORDS: &[&str] =
    &["edited", "editada", "editado", "bearbeitet", "modifié", "modificato"];
pub const REACTIONS: &[Sel] = &[Sel::AttrStartsAny(
    "aria-label",
    &["reactions ", "reaction ", "reações ", "reação ", "reacciones ", "reacción "],
)];

// System rows (no data-pre-plain-text): group notices, encryption notice. Older builds
// marked them; current ones are rows with neither `message-in` nor `message-out`.
pub const SYSTEM: &[Sel] =
    &[Sel::Attr("data-testid", "system-message"), Sel::Class("message-system")];
/// Older builds' meta block; current ones have no test id: the clock is then the row's last
/// element (outside the quote) whose whole text is a time of day.
pub const MSG_META: &[Sel] = &[Sel::Attr("data-testid", "msg-meta")];
pub const DOCUMENT_THUMB: &[Sel] = &[Sel::Attr("data-testid", "document-thumb")];
pub const DOCUMENT_NAME: &[Sel] = &[Sel::Attr("data-testid", "document-name")];
pub const ROW_ID: &[Sel] = &[Sel::Has("data-id")];

/// Day-separator chips ("Today", "Yesterday", a weekday, a date): rows without `data-id`.
pub const TODAY_WORDS: &[&str] = &[
    "today",
    "hoje",
    "hoy",
    "heute",
    "aujourd'hui",
    "oggi",
    "hari ini",
    "vandaag",
    "сегодня",
    "bugün",
    "आज",
];

// Conversation header.
pub const HEADER_TITLE: &[Sel] =
    &[Sel::Attr("data-testid", "conversation-info-header-chat-title"), Sel::Tag("header")];
pub const GROUP_MARK: &[Sel] = &[
    Sel::Attr("data-icon", "default-group"),
    Sel::Attr("data-icon", "group"),
    Sel::Attr("data-testid", "group-subtitle"),
];

/// The chat list (for the guided backfill): ordered fallbacks, stable anchors first. The
/// last-activity label's test id is an assumption [U]; the row's own text is the fallback.
pub const CHAT_LIST_ROWS: &[&str] = &[
    "#pane-side [role=\"row\"]",
    "#pane-side [role=\"listitem\"]",
    "#pane-side [data-testid=\"cell-frame-container\"]",
];
pub const CHAT_LIST_TITLE: &[&str] =
    &["[data-testid=\"cell-frame-title\"] span[title]", "span[dir=\"auto\"][title]", "span[title]"];
pub const CHAT_LIST_LABEL: &[&str] = &[
    "[data-testid=\"cell-frame-primary-detail\"]",
    "[data-testid=\"cell-frame-container\"] > div > div:nth-child(2)",
];
