//! WhatsApp Web capture: rows of the open conversation → `Message`s, the header → who the
//! chat is with. Pure: input is browser-serialized HTML (`outerHTML` of rows or of the
//! whole message list), so the live content script, the strict-CSP relay in the panel
//! frame, native tests and fuzzing share this one implementation.
pub mod backfill;
pub mod chatlist;
pub use crmsync_html as html;
pub mod selectors;

use crate::core::model::{
    Direction, LocalMinute, Media, Message, MessageKind, Quoted, Sender, WaIdentity,
};
use crate::core::timestamp::{self, DateOrder};
use html::El;
use selectors as s;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Per-stage counters for diagnostics: did the scan run, how many rows, why skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub scans: u64,
    pub rows_seen: u64,
    pub parsed: u64,
    pub skipped: BTreeMap<String, u64>,
}

impl Counters {
    fn skip(&mut self, why: &str) {
        *self.skipped.entry(why.to_string()).or_default() += 1;
    }
}

/// What a scan carries from row to row.
#[derive(Clone, Debug, Default)]
pub struct ScanContext {
    /// `WaIdentity::chat_key()` of the open chat.
    pub chat: String,
    pub is_group: bool,
    /// Decided from the digits of this chat's dates when they can, else from the locale.
    pub order: Option<DateOrder>,
    pub locale: String,
    /// The previous message's date: rows without `data-pre-plain-text` show only hh:mm.
    pub last_time: Option<LocalMinute>,
    /// Consecutive group messages omit the author block: inherit it.
    pub last_author: Option<Sender>,
}

/// The date order a set of `data-pre-plain-text` values proves, if any proves one.
pub fn infer_order<'a>(attrs: impl IntoIterator<Item = &'a str>) -> Option<DateOrder> {
    for a in attrs {
        let Some(inner) = a.split(']').next() else { continue };
        let date = inner.split(',').find(|p| !p.contains(':')).unwrap_or("");
        let f: Vec<u32> =
            date.split(['/', '.', '-']).filter_map(|x| x.trim().parse().ok()).collect();
        if f.len() == 3 && f[0] < 100 {
            if f[0] > 12 && f[1] <= 12 {
                return Some(DateOrder::DayFirst);
            }
            if f[1] > 12 && f[0] <= 12 {
                return Some(DateOrder::MonthFirst);
            }
        }
    }
    None
}

fn clean(t: &str) -> String {
    t.trim_matches(|c: char| c.is_whitespace()).to_string()
}

/// A phone number shown as text ("+91 77378 87058") → E.164, else None.
pub fn phone_in_text(t: &str) -> Option<String> {
    let t = t.trim();
    if !t.starts_with('+') {
        return None;
    }
    let digits = t.chars().filter(char::is_ascii_digit).count();
    let only_phone_chars =
        t.chars().all(|c| c.is_ascii_digit() || " +-().\u{a0}\u{202f}".contains(c));
    if t.starts_with('+') && only_phone_chars && (7..=15).contains(&digits) {
        crate::core::phone::parse_one(t, "ZZ").ok().or_else(|| {
            Some(format!("+{}", t.chars().filter(char::is_ascii_digit).collect::<String>()))
        })
    } else {
        None
    }
}

/// `Ver "file.pdf"` / `Open "file.pdf"` (localized verb) → `file.pdf`.
fn quoted_name(title: &str) -> Option<String> {
    let start = title.find(['"', '“', '«'])?;
    let rest = &title[start + title[start..].chars().next()?.len_utf8()..];
    let end = rest.rfind(['"', '”', '»'])?;
    Some(rest[..end].to_string()).filter(|n| !n.is_empty())
}

fn looks_like_size(t: &str) -> bool {
    let t = t.trim();
    let units = ["kb", "mb", "gb", "bytes", "b", "ko", "mo"];
    let lower = t.to_lowercase();
    t.chars().next().is_some_and(|c| c.is_ascii_digit())
        && units.iter().any(|u| lower.ends_with(u))
        && t.len() < 16
}

fn reaction_emoji(label: &str) -> Vec<String> {
    label
        .split_whitespace()
        .skip(1)
        .map(|w| w.trim_end_matches(['.', ',']))
        .take_while(|w| !w.chars().any(|c| c.is_ascii_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// hh:mm shown in a bubble's meta when the row has no `data-pre-plain-text`.
fn meta_clock(meta: Option<El>) -> Option<(u8, u8)> {
    let meta = meta?;
    let t = meta.text();
    let hm = t.split_whitespace().find(|w| w.contains(':'))?;
    let (h, m) = hm.split_once(':')?;
    let (mut h, m): (u8, u8) = (h.parse().ok()?, m.get(..2)?.parse().ok()?);
    let lower = t.to_lowercase();
    if lower.contains("pm") && h < 12 {
        h += 12;
    } else if lower.contains("am") && h == 12 {
        h = 0;
    }
    (h < 24 && m < 60).then_some((h, m))
}

/// Parse one row (the element carrying `data-id`, or an ancestor of it).
pub fn parse_row(row: El, ctx: &mut ScanContext, counters: &mut Counters) -> Option<Message> {
    counters.rows_seen += 1;
    let ix = s::index(row);
    let Some(idel) = ix.get(s::F_ROW_ID) else {
        counters.skip("no data-id");
        return None;
    };
    let key = idel.attr(s::MESSAGE_ID).unwrap_or("").trim().to_string();
    if key.is_empty() || key.len() > 512 {
        counters.skip("bad data-id");
        return None;
    }
    let is_out = ix.has(s::F_OUT) || key.starts_with("true_");
    let is_in = ix.has(s::F_IN) || key.starts_with("false_");
    let pre = ix.get(s::F_PRE_PLAIN).and_then(|e| e.attr("data-pre-plain-text"));
    let deleted = ix.has(s::F_DELETED);
    let system = ix.has(s::F_SYSTEM);
    if !is_out && !is_in && !system {
        counters.skip("not a message (no direction)");
        return None;
    }

    // When and who.
    let (time, mut sender) = match pre {
        // The chat's digits decide the order when they can, else the locale.
        Some(p) => match timestamp::parse_pre_plain_in(
            p,
            ctx.order.unwrap_or_else(|| timestamp::date_order(&ctx.locale)),
        ) {
            Ok(pp) => (Some(pp.time), Sender { phone: phone_in_text(&pp.sender), name: pp.sender }),
            Err(_) => {
                counters.skip("unreadable data-pre-plain-text");
                return None;
            }
        },
        None => {
            // Media without caption and deleted rows show only hh:mm: take the date of
            // the previous message in the list (rows come in order).
            let time = match (meta_clock(ix.get(s::F_MSG_META)), ctx.last_time) {
                (Some((h, m)), Some(last)) => Some(LocalMinute { hour: h, minute: m, ..last }),
                _ => None,
            };
            (time, Sender { name: String::new(), phone: None })
        }
    };
    if let Some(author) = ix.outside_quote(s::F_AUTHOR) {
        let name = author
            .attr("aria-label")
            .map(|a| a.trim_end_matches(':').to_string())
            .unwrap_or_else(|| clean(&author.text()));
        if !name.is_empty() {
            sender.name = name;
        }
        if let Some(p) = ix.outside_quote(s::F_AUTHOR_PHONE).and_then(|e| phone_in_text(&e.text()))
        {
            sender.phone = Some(p);
        }
    }
    if is_out && sender.name.is_empty() {
        sender.name = "You".into();
    }
    if ctx.is_group && is_in {
        match &ctx.last_author {
            Some(prev)
                if sender.name.is_empty()
                    || (sender.phone.is_none() && prev.name == sender.name) =>
            {
                if sender.name.is_empty() {
                    sender.name = prev.name.clone();
                }
                sender.phone = sender.phone.or_else(|| prev.phone.clone());
            }
            _ => {}
        }
        ctx.last_author = Some(sender.clone());
    }
    if time.is_some() {
        ctx.last_time = time;
    }

    // What.
    let body = ix.outside_quote(s::F_BODY).map(|e| e.text()).unwrap_or_default();
    let mut media = Vec::new();
    let kind = if deleted {
        MessageKind::Deleted
    } else if system && pre.is_none() {
        MessageKind::System
    } else if ix.has(s::F_STICKER) {
        media.push(Media { kind: "sticker".into(), file_name: None, size: None, url: None });
        MessageKind::Sticker
    } else if ix.has(s::F_GIF) {
        media.push(Media { kind: "gif".into(), file_name: None, size: None, url: None });
        MessageKind::Gif
    } else if ix.has(s::F_VOICE) {
        let duration = ix.get(s::F_VOICE_DURATION).and_then(|e| {
            e.attr("aria-valuetext")
                .and_then(|v| v.split('/').nth(1))
                .map(str::to_string)
                .or_else(|| Some(clean(&e.text())).filter(|t| !t.is_empty()))
        });
        media.push(Media { kind: "voice".into(), file_name: None, size: None, url: None });
        MessageKind::Voice { duration }
    } else if ix.has(s::F_DOCUMENT) {
        let thumb = ix.get(s::F_DOCUMENT);
        let file_name = ix
            .get(s::F_DOCUMENT_THUMB)
            .and_then(|e| e.attr("title"))
            .and_then(quoted_name)
            .or_else(|| ix.get(s::F_DOCUMENT_NAME).map(|e| clean(&e.text())))
            .or_else(|| thumb.and_then(|e| e.attr("title")).map(str::to_string));
        let size = ix.get(s::F_DOCUMENT_SIZE).map(|e| clean(&e.text())).or_else(|| {
            let mut spans = Vec::new();
            row.find_all(|e| e.tag() == "span" && e.elements().next().is_none(), &mut spans);
            spans.into_iter().map(|e| clean(&e.text())).find(|t| looks_like_size(t))
        });
        media.push(Media {
            kind: "document".into(),
            file_name: file_name.clone(),
            size: size.clone(),
            url: None,
        });
        MessageKind::Document { file_name, size }
    } else if ix.has(s::F_LOCATION) {
        MessageKind::Location
    } else if ix.has(s::F_CONTACT_CARD) {
        let name = ix
            .get(s::F_CONTACT_CARD_NAME)
            .map(|e| e.attr("title").map(str::to_string).unwrap_or_else(|| clean(&e.text())));
        MessageKind::ContactCard { name }
    } else if ix.has(s::F_VIDEO) {
        media.push(Media { kind: "video".into(), file_name: None, size: None, url: None });
        MessageKind::Video
    } else if let Some(img) = ix.outside_quote(s::F_IMAGE) {
        let url = img
            .find(|e| e.tag() == "img" && e.attr("src").is_some_and(|u| u.starts_with("blob:")))
            .and_then(|e| e.attr("src"))
            .map(str::to_string);
        media.push(Media { kind: "image".into(), file_name: None, size: None, url });
        MessageKind::Image
    } else {
        MessageKind::Text
    };
    let text = if kind == MessageKind::Deleted || kind == MessageKind::System {
        clean(&row.text()).chars().take(2000).collect()
    } else {
        body
    };
    let quoted = ix.get(s::F_QUOTED).map(|q| Quoted {
        sender: s::first(q, s::AUTHOR)
            .map(|a| a.attr("aria-label").map(str::to_string).unwrap_or_else(|| clean(&a.text())))
            .filter(|n| !n.is_empty()),
        text: s::first(q, s::QUOTED_TEXT).map(|e| e.text()).unwrap_or_default(),
    });
    let mut reactions = Vec::new();
    let mut reaction_els = Vec::new();
    if ix.has(s::F_REACTIONS) {
        row.find_all(|e| s::REACTIONS.iter().any(|r| r.matches(e)), &mut reaction_els);
    }
    for r in reaction_els {
        for e in reaction_emoji(r.attr("aria-label").unwrap_or("")) {
            if !reactions.contains(&e) {
                reactions.push(e);
            }
        }
    }
    let edited = ix.has(s::F_EDITED)
        || ix.get(s::F_MSG_META).is_some_and(|m| {
            let t = m.text();
            // Most metas are a bare clock: no letters, no word to look for.
            t.bytes().any(|b| b.is_ascii_alphabetic()) && {
                let t = t.to_lowercase();
                s::EDITED_WORDS.iter().any(|w| t.contains(w))
            }
        });
    counters.parsed += 1;
    Some(Message {
        key,
        chat: ctx.chat.clone(),
        direction: if is_out { Direction::Out } else { Direction::In },
        sender,
        time,
        text,
        quoted,
        media,
        kind,
        forwarded: ix.has(s::F_FORWARDED),
        edited,
        reactions,
    })
}

/// Scan serialized HTML (a row, several rows, or the whole message list) in order.
pub fn scan(html: &str, ctx: &mut ScanContext, counters: &mut Counters) -> Vec<Message> {
    counters.scans += 1;
    let doc = html::parse(html);
    // Rows are the outermost elements carrying `data-id` (it does not nest).
    let mut rows: Vec<El> = Vec::new();
    let mut next = 0;
    for e in doc.elements() {
        if e.index() >= next && e.attr_by_bit(html::DATA_ID_BIT).is_some() {
            rows.push(e);
            next = e.end();
        }
    }
    if ctx.order.is_none() {
        // The first row whose digits prove the order decides; the rest are not read.
        ctx.order = infer_order(rows.iter().filter_map(|r| {
            s::first(*r, s::PRE_PLAIN).and_then(|e| e.attr("data-pre-plain-text"))
        }));
    }
    let mut out = Vec::with_capacity(rows.len());
    out.extend(rows.into_iter().filter_map(|r| parse_row(r, ctx, counters)));
    out
}

/// Icon-font ligatures that can precede the title text in the header.
fn is_icon_name(t: &str) -> bool {
    t.starts_with("wds-ic-")
        || t.starts_with("ic-")
        || (!t.is_empty()
            && t.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c == '_')
            && t.contains('-'))
}

/// The open chat's identity from the conversation header's HTML.
pub fn parse_header(html: &str) -> Option<WaIdentity> {
    let doc = html::parse(html);
    let root = doc.root()?;
    let title_el = s::first(root, s::HEADER_TITLE)?;
    let mut titled = Vec::new();
    title_el.find_all(|e| e.attr("title").is_some(), &mut titled);
    let name = titled
        .into_iter()
        .filter_map(|e| e.attr("title"))
        .map(clean)
        .find(|t| !t.is_empty() && !is_icon_name(t))
        .or_else(|| Some(clean(&title_el.text())).filter(|t| !t.is_empty() && !is_icon_name(t)))?;
    let is_group = s::any(root, s::GROUP_MARK);
    let phone = if is_group { None } else { phone_in_text(&name) };
    Some(WaIdentity { phone, lid: None, name, is_group })
}

/// A capture session for one tab: the open chat's scan context, counters, and what was
/// already handed on, so re-rendered rows are not sent twice and edited rows are. The
/// content script and the strict-CSP relay both run their HTML through one of these.
#[derive(Clone, Debug, Default)]
pub struct Session {
    pub ctx: ScanContext,
    pub counters: Counters,
    pub identity: Option<WaIdentity>,
    /// key → digest of the message as last handed on.
    sent: BTreeMap<String, u64>,
    /// The open chat's messages (at most `keep`), for diagnostics and tests.
    pub messages: BTreeMap<String, Message>,
    pub keep: usize,
}

impl Session {
    pub fn new(keep: usize) -> Self {
        Session { keep, ..Default::default() }
    }

    /// A chat was opened (or the header changed): reset the per-chat context.
    pub fn open_chat(&mut self, identity: WaIdentity, locale: &str) {
        if self.identity.as_ref().map(WaIdentity::chat_key) != Some(identity.chat_key()) {
            self.messages.clear();
        }
        self.ctx = ScanContext {
            chat: identity.chat_key(),
            is_group: identity.is_group,
            locale: locale.into(),
            ..Default::default()
        };
        self.identity = Some(identity);
    }

    /// Scan `html` and return the messages that are new or changed since last returned.
    pub fn ingest(&mut self, html: &str) -> Vec<Message> {
        let found = scan(html, &mut self.ctx, &mut self.counters);
        self.hand_on(found, true)
    }

    /// Rows WhatsApp removed before they were scanned (the rep sent a message and switched
    /// chats within moments), read from the removed nodes: scanned in the context of the
    /// chat they belong to, handed on once like any other, and the open chat is untouched.
    pub fn ingest_removed(
        &mut self,
        identity: &WaIdentity,
        locale: &str,
        html: &str,
    ) -> Vec<Message> {
        let same = self.identity.as_ref().map(WaIdentity::chat_key) == Some(identity.chat_key());
        if same {
            let found = scan(html, &mut self.ctx, &mut self.counters);
            return self.hand_on(found, true);
        }
        let mut ctx = ScanContext {
            chat: identity.chat_key(),
            is_group: identity.is_group,
            locale: locale.into(),
            ..Default::default()
        };
        let found = scan(html, &mut ctx, &mut self.counters);
        self.hand_on(found, false)
    }

    fn hand_on(&mut self, found: Vec<Message>, open_chat: bool) -> Vec<Message> {
        let mut out = Vec::new();
        for m in found {
            let digest =
                serde_json::to_vec(&m).map(|b| crate::core::outbox::fnv1a64(&b)).unwrap_or(0);
            if self.sent.insert(m.key.clone(), digest) != Some(digest) {
                out.push(m.clone());
            }
            if open_chat && (self.messages.len() < self.keep || self.messages.contains_key(&m.key))
            {
                self.messages.insert(m.key.clone(), m);
            }
        }
        out
    }

    /// The worker did not take these messages: hand them on again at the next scan.
    pub fn forget(&mut self, keys: &[String]) {
        for k in keys {
            self.sent.remove(k);
        }
    }
}

/// A contact or chat record from WhatsApp's own IndexedDB (`model-storage`): its id (a JID)
/// and every name it is shown under. The schema is not ours: read defensively.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdbEntry {
    pub id: String,
    pub names: Vec<String>,
}

/// Complete the header's identity with what WhatsApp's IndexedDB knows for that title:
/// the phone number of a saved contact, the `@lid` of a private identity, group-ness.
/// Titles are not unique: two entries with the same title and different ids tell nothing.
pub fn resolve_identity(mut header: WaIdentity, entries: &[IdbEntry]) -> WaIdentity {
    let mut ids: Vec<&str> = entries
        .iter()
        .filter(|e| e.names.iter().any(|n| n.trim() == header.name))
        .map(|e| e.id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let [id] = ids.as_slice() else { return header };
    match crate::core::phone::parse_wa_id(id) {
        crate::core::phone::WaId::Phone(p) if header.phone.is_none() && !header.is_group => {
            header.phone = Some(p)
        }
        crate::core::phone::WaId::Lid(l) if !header.is_group => header.lid = Some(l),
        crate::core::phone::WaId::Group(_) => {
            header.is_group = true;
            header.phone = None;
        }
        _ => {}
    }
    header
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod session_tests {
    use super::*;

    #[test]
    fn forgotten_messages_are_handed_on_again() {
        let row = r#"<div role="row"><div data-id="K1"><div class="message-in"><div class="copyable-text" data-pre-plain-text="[10:01, 20/11/2026] Ana: "><span class="selectable-text"><span>Oi</span></span></div></div></div></div>"#;
        let mut s = Session::new(10);
        s.open_chat(
            WaIdentity {
                phone: Some("+5511987654321".into()),
                lid: None,
                name: "Ana".into(),
                is_group: false,
            },
            "pt-BR",
        );
        assert_eq!(s.ingest(row).len(), 1);
        assert_eq!(s.ingest(row).len(), 0, "a re-render is not handed on twice");
        s.forget(&["K1".to_string()]);
        assert_eq!(s.ingest(row).len(), 1, "after the worker refused it, it goes again");
    }
}
