//! Where each field lives in WhatsApp Web's DOM (2026), as data: ordered fallbacks per
//! field, stable anchors first (ids, role, data-testid, data-icon, data-* attributes),
//! localized aria-labels matched in several languages last. A WhatsApp change is a data
//! fix here. Sources: the whatsapp-web.md reference (§1).
use super::html::{attr_bit, El, CLASS_BIT};

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
    /// The attribute this selector reads (None: the tag alone).
    fn key(&self) -> Option<&'static str> {
        match *self {
            Sel::Attr(k, _) | Sel::Has(k) | Sel::AttrContains(k, _) | Sel::AttrStartsAny(k, _) | Sel::TagAttrPrefix(_, k, _) => Some(k),
            Sel::Class(_) => Some("class"),
            Sel::Tag(_) => None,
        }
    }

    /// Whether an element with this tag, whose `key()` attribute has this value, matches.
    #[inline(always)]
    fn matches_value(&self, tag: &str, value: &str) -> bool {
        match *self {
            Sel::Attr(_, v) => value.len() == v.len() && value == v,
            Sel::Has(_) => true,
            // Needles are lowercase; compare without allocating (ASCII case folding: the
            // labels' first letters are ASCII in every language listed).
            Sel::AttrContains(_, v) => value.as_bytes().windows(v.len()).any(|w| w.eq_ignore_ascii_case(v.as_bytes())),
            Sel::AttrStartsAny(_, vs) => vs.iter().any(|v| value.len() >= v.len() && value.as_bytes()[..v.len()].eq_ignore_ascii_case(v.as_bytes())),
            Sel::Class(c) => value.split_ascii_whitespace().any(|x| x == c),
            Sel::Tag(t) => tag == t,
            Sel::TagAttrPrefix(t, _, v) => tag == t && value.starts_with(v),
        }
    }

    pub fn matches(&self, e: &El) -> bool {
        match self.key() {
            Some(k) => e.attr(k).is_some_and(|v| self.matches_value(e.tag(), v)),
            None => self.matches_value(e.tag(), ""),
        }
    }
}

/// The first element under `root` matched by the earliest selector that matches anything.
pub fn first<'d, 'a>(root: El<'d, 'a>, sels: &[Sel]) -> Option<El<'d, 'a>> {
    sels.iter().find_map(|s| root.find(|e| s.matches(e)))
}

pub fn any(root: El, sels: &[Sel]) -> bool {
    first(root, sels).is_some()
}

/// The selector table turned inside out, once: per attribute, the (field, priority,
/// selector) entries that read it. A row element is then tested only against the
/// selectors of the attributes it has, with the attribute value already in hand.
struct Entry {
    field: usize,
    prio: u8,
    sel: Sel,
}

struct Dispatch {
    /// By the bit position of `attr_bit` (attributes the parser tags).
    by_bit: Vec<Vec<Entry>>,
    /// `Sel::Class`: compared with each class token.
    classes: Vec<(Entry, &'static str)>,
    /// Tag-only selectors and attributes the parser does not tag: tried on every element.
    generic: Vec<Entry>,
}

fn dispatch() -> &'static Dispatch {
    static D: std::sync::OnceLock<Dispatch> = std::sync::OnceLock::new();
    D.get_or_init(|| {
        let mut d = Dispatch { by_bit: (0..32).map(|_| Vec::new()).collect(), classes: Vec::new(), generic: Vec::new() };
        for (field, sels) in FIELDS.iter().enumerate() {
            for (prio, &sel) in sels.iter().enumerate() {
                let e = Entry { field, prio: prio.min(255) as u8, sel };
                match (sel, sel.key().map(attr_bit)) {
                    (Sel::Class(c), _) => d.classes.push((e, c)),
                    (_, Some(bit)) if bit != 0 => d.by_bit[bit.trailing_zeros() as usize].push(e),
                    _ => d.generic.push(e),
                }
            }
        }
        d
    })
}

/// Every field the row parser reads, indexed by the `F_*` constants below.
pub const FIELDS: &[&[Sel]] = &[
    OUT, IN, PRE_PLAIN, BODY, QUOTED, QUOTED_TEXT, AUTHOR, AUTHOR_PHONE, DELETED, STICKER, GIF, VIDEO, IMAGE, VOICE,
    VOICE_DURATION, DOCUMENT, DOCUMENT_SIZE, LOCATION, CONTACT_CARD, CONTACT_CARD_NAME, FORWARDED, EDITED, SYSTEM,
    MSG_META, DOCUMENT_THUMB, DOCUMENT_NAME, ROW_ID, REACTIONS,
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

/// One pass over a row: for every field, the first element (document order) matched by
/// its highest-priority selector, both anywhere and outside the quoted message.
pub struct RowIndex<'d, 'a> {
    any: [Option<(u8, El<'d, 'a>)>; FIELDS.len()],
    outside: [Option<(u8, El<'d, 'a>)>; FIELDS.len()],
}

impl<'d, 'a> RowIndex<'d, 'a> {
    pub fn build(row: El<'d, 'a>) -> Self {
        let mut ix = RowIndex { any: [None; FIELDS.len()], outside: [None; FIELDS.len()] };
        let d = dispatch();
        // Elements before this index are inside a quoted message.
        let mut quote_end = 0;
        for el in row.descendants() {
            let in_quote = el.index() < quote_end;
            let tag = el.tag();
            let mut is_quote = false;
            let mut seen = 0;
            for (bit, _, value) in el.attrs() {
                // Unknown names have no entries; a repeated attribute counts once (the first).
                if bit == 0 || seen & bit != 0 {
                    continue;
                }
                seen |= bit;
                if bit == CLASS_BIT {
                    // Tokens by hand: this runs for nearly every element of every row.
                    let v = value.as_bytes();
                    let mut i = 0;
                    while i < v.len() {
                        if v[i].is_ascii_whitespace() {
                            i += 1;
                            continue;
                        }
                        let start = i;
                        while i < v.len() && !v[i].is_ascii_whitespace() {
                            i += 1;
                        }
                        let token = &v[start..i];
                        for (e, c) in &d.classes {
                            if token.len() == c.len() {
                                is_quote |= ix.offer(e, el, in_quote, || token == c.as_bytes());
                            }
                        }
                    }
                }
                for e in &d.by_bit[bit.trailing_zeros() as usize] {
                    is_quote |= ix.offer(e, el, in_quote, || e.sel.matches_value(tag, value));
                }
            }
            for e in &d.generic {
                is_quote |= ix.offer(e, el, in_quote, || e.sel.matches(&el));
            }
            // Every quote's subtree is excluded, not only the first one's.
            if is_quote {
                quote_end = quote_end.max(el.end());
            }
        }
        ix
    }

    /// Record `el` for the entry's field if it is better than what was found so far and
    /// `matches`; says whether it is a quoted message.
    #[inline(always)]
    fn offer(&mut self, e: &Entry, el: El<'d, 'a>, in_quote: bool, matches: impl FnOnce() -> bool) -> bool {
        let better_any = self.any[e.field].is_none_or(|(p, _)| e.prio < p);
        let better_out = !in_quote && self.outside[e.field].is_none_or(|(p, _)| e.prio < p);
        if !(better_any || better_out || e.field == F_QUOTED) || !matches() {
            return false;
        }
        if better_any {
            self.any[e.field] = Some((e.prio, el));
        }
        if better_out {
            self.outside[e.field] = Some((e.prio, el));
        }
        e.field == F_QUOTED
    }

    pub fn get(&self, field: usize) -> Option<El<'d, 'a>> {
        self.any.get(field).copied().flatten().map(|(_, e)| e)
    }

    pub fn has(&self, field: usize) -> bool {
        self.get(field).is_some()
    }

    /// Not inside the quoted message (a reply's quote has its own body, author, image).
    pub fn outside_quote(&self, field: usize) -> Option<El<'d, 'a>> {
        self.outside.get(field).copied().flatten().map(|(_, e)| e)
    }
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
pub const MSG_META: &[Sel] = &[Sel::Attr("data-testid", "msg-meta")];
pub const DOCUMENT_THUMB: &[Sel] = &[Sel::Attr("data-testid", "document-thumb")];
pub const DOCUMENT_NAME: &[Sel] = &[Sel::Attr("data-testid", "document-name")];
pub const ROW_ID: &[Sel] = &[Sel::Has("data-id")];

// Conversation header.
pub const HEADER_TITLE: &[Sel] = &[
    Sel::Attr("data-testid", "conversation-info-header-chat-title"),
    Sel::Tag("header"),
];
pub const GROUP_MARK: &[Sel] = &[Sel::Attr("data-icon", "default-group"), Sel::Attr("data-icon", "group"), Sel::Attr("data-testid", "group-subtitle")];
