//! WhatsApp Web capture: rows of the open conversation → `Message`s, the header → who the
//! chat is with. Pure: input is browser-serialized HTML (`outerHTML` of rows or of the
//! whole message list), so the live content script, the strict-CSP relay in the panel
//! frame, native tests and fuzzing share this one implementation.
pub mod backfill;
pub mod chatlist;
pub mod idb_times;
pub mod own_wid;
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
    /// Page health per chat key (see `Health`).
    #[serde(default)]
    pub health: BTreeMap<String, Health>,
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
    /// The date order this chat's own evidence proves (digits above 12, day-separator chips,
    /// dates that would lie in the future): once proven it holds for the chat.
    pub order: Option<DateOrder>,
    /// The page's language (`<html lang>`).
    pub locale: String,
    /// The browser's own date order (`Intl.DateTimeFormat`), from the shell, read only if
    /// the chat's own rows prove no order.
    pub browser_order: BrowserOrder,
    /// Today's local date (year, month, day), from the shell: chips say "Today" and
    /// "Yesterday", and no message is dated after tomorrow.
    pub today: Option<(u16, u8, u8)>,
    /// The previous message's date: rows without `data-pre-plain-text` show only hh:mm.
    pub last_time: Option<LocalMinute>,
    /// The day the next row belongs to when it shows only a clock: the previous row's, or
    /// the day-separator chip's since (None after a chip that could not be read).
    pub day: Option<(u16, u8, u8)>,
    /// Consecutive group messages omit the author block: inherit it, within an uninterrupted
    /// run of incoming rows only.
    pub last_author: Option<Sender>,
    /// Messages read with an uncertain date order (left undated) since the order was proven.
    pub uncertain: u64,
    /// Each row's problems (`ROW_*` bits) by row key, as this scan read them: page health.
    pub verdicts: Vec<(String, u8)>,
    /// The row being read: its key and problems so far.
    pub row: (String, u8),
    /// The last date read from a row's timestamp (rows share a handful of dates).
    pub dates: timestamp::DateMemo,
}

/// Row problems, for page health: a row that has a `data-id` but is read as nothing known,
/// one with a timestamp but no text, one whose author block cannot be read, one whose date
/// order is uncertain.
pub const ROW_UNCLASSIFIED: u8 = 1;
pub const ROW_NO_TEXT: u8 = 2;
pub const ROW_UNKNOWN_AUTHOR: u8 = 4;
pub const ROW_UNCERTAIN_DATE: u8 = 8;

/// A date's three numeric fields as written (`a/b/yyyy`).
type DateFields = (u32, u32, u32);

/// The `a/b/yyyy` fields of a `data-pre-plain-text` date (None for year-first dates).
fn date_fields(pre: &str) -> Option<DateFields> {
    date_text(pre).and_then(date_fields_of)
}

/// The date of a `data-pre-plain-text` value as written (the field without a `:`).
fn date_text(pre: &str) -> Option<&str> {
    let inner = pre.split(']').next()?;
    inner.split(',').find(|p| !p.contains(':'))
}

fn date_fields_of(date: &str) -> Option<(u32, u32, u32)> {
    // Exactly three numeric fields (read in place: this runs for the rows of every first scan).
    let mut f = [0u32; 3];
    let mut n = 0;
    for x in date.split(['/', '.', '-']) {
        if let Ok(v) = x.trim().parse() {
            *f.get_mut(n)? = v;
            n += 1;
        }
    }
    (n == 3 && f[0] < 100 && f[1] < 100).then_some((f[0], f[1], f[2]))
}

/// The date order a set of `data-pre-plain-text` values proves, if any proves one.
pub fn infer_order<'a>(attrs: impl IntoIterator<Item = &'a str>) -> Option<DateOrder> {
    attrs.into_iter().filter_map(date_fields).find_map(|(a, b, _)| digits_order(a, b))
}

fn digits_order(a: u32, b: u32) -> Option<DateOrder> {
    if a > 12 && b <= 12 {
        Some(DateOrder::DayFirst)
    } else if b > 12 && a <= 12 {
        Some(DateOrder::MonthFirst)
    } else {
        None
    }
}

/// Days since 1970-01-01 of a date.
fn days_of(d: (u16, u8, u8)) -> i64 {
    chatlist::days_from_civil(d.0.into(), d.1.into(), d.2.into())
}

/// (year, month, day) of `a/b/y` read in `order`, if it is a real date.
fn as_date((a, b, y): (u32, u32, u32), order: DateOrder) -> Option<(u16, u8, u8)> {
    let (d, m) = if order == DateOrder::DayFirst { (a, b) } else { (b, a) };
    let y = if y < 100 { y + 2000 } else { y };
    let date = (u16::try_from(y).ok()?, u8::try_from(m).ok()?, u8::try_from(d).ok()?);
    // Round-trips through the calendar: 31/02 is not a date.
    let back = crate::core::schedule::minute_from_local_minutes(days_of(date) * 1440);
    ((1..=12).contains(&m) && (back.year, back.month, back.day) == date).then_some(date)
}

/// The browser's own date order, as the shell gives it: known, or a way to read it when it is
/// first needed. Reading it costs the page's main thread a locale data load (about 11 ms in a
/// fresh renderer), and a chat's own rows prove their order (digits above 12, the day chips)
/// in all but a few chats, so a first scan asks only when they do not.
#[derive(Clone, Copy, Debug)]
pub enum BrowserOrder {
    Known(Option<DateOrder>),
    Ask(fn() -> Option<DateOrder>),
}

/// Before the shell says anything: no order known.
impl Default for BrowserOrder {
    fn default() -> Self {
        BrowserOrder::Known(None)
    }
}

impl BrowserOrder {
    /// The order, read now if it was not yet (and then kept).
    pub fn get(&mut self) -> Option<DateOrder> {
        match *self {
            BrowserOrder::Known(o) => o,
            BrowserOrder::Ask(read) => {
                let o = read();
                *self = BrowserOrder::Known(o);
                o
            }
        }
    }
}

impl From<Option<DateOrder>> for BrowserOrder {
    fn from(o: Option<DateOrder>) -> Self {
        BrowserOrder::Known(o)
    }
}

/// The order the page's signals agree on, when the chat's own evidence proves none: the
/// page's language when it names a region (a bare "en" says nothing: en-US is month-first,
/// en-GB and en-IN day-first), and the browser's own date format. When they disagree it is
/// not guessed.
pub fn fallback_order(locale: &str, browser: Option<DateOrder>) -> Option<DateOrder> {
    let l = locale.trim();
    let lang = (!l.is_empty() && !l.eq_ignore_ascii_case("en")).then(|| timestamp::date_order(l));
    match (lang, browser) {
        (Some(a), Some(b)) => (a == b).then_some(a),
        (a, b) => a.or(b),
    }
}

/// A day-separator chip's label as a date, when it names one unambiguously.
fn chip_day(label: &str, ctx: &ScanContext) -> Option<(u16, u8, u8)> {
    let t = label.trim().to_lowercase();
    if let Some(today) = ctx.today {
        let back = if s::TODAY_WORDS.contains(&t.as_str()) {
            Some(0)
        } else if t.contains(['/', '.', '-']) {
            None
        } else {
            chatlist::age_days(&t, &ctx.locale, today)
        };
        if let Some(back) = back {
            let d = crate::core::schedule::minute_from_local_minutes(
                (days_of(today) - i64::from(back)) * 1440,
            );
            return Some((d.year, d.month, d.day));
        }
    }
    let f = date_fields_of(&t)?;
    let order = ctx.order.or_else(|| digits_order(f.0, f.1));
    match order {
        Some(o) => as_date(f, o),
        // 5/5/2026 reads the same either way.
        None if f.0 == f.1 => as_date(f, DateOrder::DayFirst),
        None => None,
    }
}

/// What a chip proves about the order of a row's date under it.
fn chip_proves(chip: (u16, u8, u8), f: (u32, u32, u32)) -> Option<DateOrder> {
    let day = as_date(f, DateOrder::DayFirst);
    let month = as_date(f, DateOrder::MonthFirst);
    match (day == Some(chip), month == Some(chip)) {
        (true, false) => Some(DateOrder::DayFirst),
        (false, true) => Some(DateOrder::MonthFirst),
        _ => None,
    }
}

/// What "no message is from after tomorrow" proves about a date's order.
fn future_proves(today: (u16, u8, u8), f: (u32, u32, u32)) -> Option<DateOrder> {
    let limit = days_of(today) + 1;
    let ok = |o| as_date(f, o).is_some_and(|d| days_of(d) <= limit);
    match (ok(DateOrder::DayFirst), ok(DateOrder::MonthFirst)) {
        (true, false) => Some(DateOrder::DayFirst),
        (false, true) => Some(DateOrder::MonthFirst),
        _ => None,
    }
}

fn clean(t: &str) -> String {
    t.trim_matches(|c: char| c.is_whitespace()).to_string()
}

/// A phone number shown as text ("+91 90000 12345") → `+digits`, else None.
///
/// Only the digits: the worker puts every number a WhatsApp tab reports in E.164
/// (`Request::canonicalize_phones`), so the content script's module carries no phone metadata
/// (libphonenumber's is most of a megabyte of wasm). libphonenumber reads a `+` number by its
/// digits alone, so the two steps give what parsing the shown text would.
pub fn phone_in_text(t: &str) -> Option<String> {
    // Asked of every sender name: most start with a letter, seen without a Unicode trim.
    match t.trim_ascii_start().bytes().next() {
        Some(b'+') => {}
        Some(b) if b.is_ascii() => return None,
        Some(_) => {}
        None => return None,
    }
    let t = t.trim();
    if !t.starts_with('+') {
        return None;
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    let only_phone_chars =
        t.chars().all(|c| c.is_ascii_digit() || " +-().\u{a0}\u{202f}".contains(c));
    (only_phone_chars && (7..=15).contains(&digits.len())).then(|| format!("+{digits}"))
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

/// A text that is only a time of day ("9:34 pm", "13:52", "8:05 p. m."), as (hour, minute).
fn clock_of(t: &str) -> Option<(u8, u8)> {
    // Runs on leaves of every row: no colon, no clock, before any other work.
    if !t.contains(':') {
        return None;
    }
    let t = t.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '\u{202f}' | '\u{a0}' | '\u{200e}')
    });
    if t.is_empty() || t.len() > 16 {
        return None;
    }
    let (h, rest) = t.split_once(':')?;
    let m = rest.get(..2)?;
    // The letters after the minutes, lowercased, read in place: only none, "am" or "pm" is a
    // clock, so a third letter ends it.
    let mut suffix = ['\0'; 2];
    let mut n = 0;
    for c in rest[2..].chars().flat_map(char::to_lowercase).filter(|c| c.is_alphabetic()) {
        *suffix.get_mut(n)? = c;
        n += 1;
    }
    let (mut h, m): (u8, u8) = (h.trim().parse().ok()?, m.parse().ok()?);
    match &suffix[..n] {
        [] => {}
        ['p', 'm'] if h < 12 => h += 12,
        ['a', 'm'] if h == 12 => h = 0,
        ['a', 'm'] | ['p', 'm'] => {}
        _ => return None,
    }
    (h < 24 && m < 60).then_some((h, m))
}

/// The bubble's clock: the older builds' meta block, else the row's last leaf element outside
/// the quote whose whole text is a time of day (a voice note's duration comes before it).
fn row_clock(row: El, ix: &s::Index) -> Option<(u8, u8)> {
    if let Some(meta) = ix.get(s::F_MSG_META) {
        let t = meta.text();
        if let Some(c) = t.split_whitespace().find_map(|w| {
            clock_of(w).or_else(|| {
                // "10:54 PM" split in two words.
                let i = t.find(w)?;
                clock_of(t[i..].split_whitespace().take(2).collect::<Vec<_>>().join(" ").as_str())
            })
        }) {
            return Some(c);
        }
    }
    // The last one wins: searched from the end, so a row reads only the leaves after its
    // clock (the clock sits at the bubble's end) instead of every leaf's text.
    let quote = ix.get(s::F_QUOTED).map(|q| (q.index(), q.end()));
    row.descendants()
        .rev()
        .filter(|e| quote.is_none_or(|(a, b)| e.index() < a || e.index() >= b))
        .filter(|e| e.elements().next().is_none())
        .find_map(|e| clock_of(&e.text_cow()))
}

/// A name as the rep sees it: the visible text without WhatsApp's "~" mark of a push name,
/// or, when only the aria-label holds it, that label without its screen-reader wording.
fn visible_name(el: El) -> Option<String> {
    let text = clean(&el.text());
    let text = text.trim_start_matches(['~', '\u{223c}']).trim().to_string();
    if !text.is_empty() {
        return Some(text);
    }
    let label = clean(el.attr("aria-label")?);
    let label = label.trim_end_matches(':').trim();
    let lower = label.to_lowercase();
    let name = s::AUTHOR_LABEL_PREFIXES
        .iter()
        .find(|p| lower.starts_with(*p))
        .map_or(label, |p| label.get(p.len()..).unwrap_or(label));
    Some(name.trim().to_string()).filter(|n| !n.is_empty())
}

/// An author block read: the name shown and the phone beside it (either may be missing).
#[derive(Default)]
struct Author {
    name: Option<String>,
    phone: Option<String>,
}

/// Read an author block (`[role=""]`, or a `data-testid="author"` span).
fn read_author(block: El) -> Author {
    let mut a = Author::default();
    let mut spans = Vec::new();
    block.find_all(|e| e.tag() == "span" || e.attr("data-testid") == Some("author"), &mut spans);
    for e in spans {
        let text = clean(&e.text());
        if let Some(p) = phone_in_text(&text) {
            a.phone = a.phone.or(Some(p));
            continue;
        }
        if e.has_class("_ahx_") {
            continue;
        }
        let named = e.attr("data-testid") == Some("author")
            || e.attr("dir").is_some()
            || e.attr("aria-label").is_some();
        if a.name.is_none() && named {
            a.name = visible_name(e);
        }
    }
    a
}

/// A leaf's text is WhatsApp's "Edited" mark (any case, in a known language). Compared in
/// place: every short leaf of every row is asked, most fail at their first letter.
fn is_edited_word(t: &str) -> bool {
    let t = t.trim_matches(char::is_whitespace);
    // Lowercased a character at a time: the words hold no sigma, the one letter whose
    // lowercase depends on its place in a word.
    s::EDITED_WORDS.iter().any(|w| t.chars().flat_map(char::to_lowercase).eq(w.chars()))
}

/// Count a row that was read with a problem (for page health and diagnostics).
fn problem(ctx: &mut ScanContext, counters: &mut Counters, bit: u8, why: &str) {
    ctx.row.1 |= bit;
    counters.skip(why);
}

/// Parse one row (the element carrying `data-id`, or an ancestor of it).
pub fn parse_row(row: El, ctx: &mut ScanContext, counters: &mut Counters) -> Option<Message> {
    ctx.row = (String::new(), 0);
    let m = read_row(row, ctx, counters);
    if !ctx.row.0.is_empty() {
        let v = std::mem::take(&mut ctx.row);
        ctx.verdicts.push(v);
    }
    m
}

fn read_row(row: El, ctx: &mut ScanContext, counters: &mut Counters) -> Option<Message> {
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
    ctx.row.0.clone_from(&key);
    let legacy = key.starts_with("true_") || key.starts_with("false_");
    let is_out = ix.has(s::F_OUT) || key.starts_with("true_");
    let is_in = ix.has(s::F_IN) || key.starts_with("false_");
    let pre = ix.get(s::F_PRE_PLAIN).and_then(|e| e.attr("data-pre-plain-text"));
    let deleted = ix.has(s::F_DELETED);
    // The clock dates a row only when it has no `data-pre-plain-text` (which holds the time),
    // and tells a bubble from a notice only then: not searched for otherwise.
    let clock = if pre.is_none() { row_clock(row, &ix) } else { None };
    let media_kind = [
        s::F_STICKER,
        s::F_GIF,
        s::F_VOICE,
        s::F_DOCUMENT,
        s::F_LOCATION,
        s::F_CONTACT_CARD,
        s::F_VIDEO,
    ]
    .iter()
    .any(|f| ix.has(*f))
        || ix.outside_quote(s::F_IMAGE).is_some();
    // A row with an id, text and no direction is a notice ("Ana added Zoe"), unless it shows
    // what only a message shows (a clock, media, the deleted mark): then it is a bubble whose
    // direction class a release renamed, and page health must count it, not file it as a
    // notice with no sender.
    let system = ix.has(s::F_SYSTEM)
        || (!is_out
            && !is_in
            && pre.is_none()
            && clock.is_none()
            && !media_kind
            && !deleted
            && !clean(&row.text()).is_empty());
    // One author block stands for an uninterrupted run of incoming rows only: WhatsApp shows
    // it again after an outgoing or system row (and after a day chip, see `scan`), so whatever
    // else comes between ends the run and the sender is never carried across it.
    if system || is_out || !is_in {
        ctx.last_author = None;
    }
    if !is_out && !is_in && !system {
        problem(ctx, counters, ROW_UNCLASSIFIED, "not a message (no direction)");
        return None;
    }
    // A bare id with no bubble: no timestamp, no clock, nothing a message shows (a contact
    // row "~Name" with its number, for example).
    if !legacy
        && !system
        && pre.is_none()
        && clock.is_none()
        && !deleted
        && !media_kind
        && ix.outside_quote(s::F_BODY).is_none()
    {
        ctx.last_author = None;
        counters.skip("not a message (no bubble)");
        return None;
    }

    // When and who.
    let (time, mut sender) = match pre {
        Some(p) => match read_pre(p, ctx) {
            Ok((time, name)) => {
                if time.is_none() {
                    problem(ctx, counters, ROW_UNCERTAIN_DATE, "uncertain date order");
                }
                (time, Sender { phone: phone_in_text(&name), name })
            }
            Err(_) => {
                problem(ctx, counters, ROW_UNCLASSIFIED, "unreadable data-pre-plain-text");
                return None;
            }
        },
        None => {
            // Media without caption and deleted rows show only hh:mm: the date is the day
            // of the previous message in the list, or of the chip above this row.
            let time = match (clock, ctx.day) {
                (Some((hour, minute)), Some((year, month, day))) => {
                    Some(LocalMinute { year, month, day, hour, minute })
                }
                _ => None,
            };
            (time, Sender { name: String::new(), phone: None })
        }
    };
    if is_in && !is_out {
        let block = ix.outside_quote(s::F_AUTHOR_BLOCK).or_else(|| ix.outside_quote(s::F_AUTHOR));
        match block.map(read_author) {
            Some(a) if a.name.is_some() || a.phone.is_some() => {
                if let Some(n) = a.name.or_else(|| a.phone.clone()) {
                    sender.name = n;
                }
                sender.phone = a.phone.or(sender.phone);
            }
            // An author block that cannot be read: the sender is not known. Never the
            // previous row's: that would file this message under someone else.
            Some(_) if pre.is_none() => {
                sender = Sender { name: String::new(), phone: None };
                problem(ctx, counters, ROW_UNKNOWN_AUTHOR, "unknown author");
                ctx.last_author = None;
            }
            Some(_) => {}
            None if ctx.is_group => match &ctx.last_author {
                // Consecutive messages from one sender omit the block: the same person,
                // shown under the same name.
                Some(prev)
                    if sender.name.is_empty()
                        || (sender.phone.is_some() && sender.phone == prev.phone)
                        || (sender.phone.is_none() && prev.name == sender.name) =>
                {
                    if sender.name.is_empty() || sender.phone.is_some() {
                        sender.name = prev.name.clone();
                    }
                    sender.phone = sender.phone.or_else(|| prev.phone.clone());
                }
                None if sender.name.is_empty() => {
                    problem(ctx, counters, ROW_UNKNOWN_AUTHOR, "unknown author")
                }
                _ => {}
            },
            None => {}
        }
        if ctx.is_group && !sender.name.is_empty() {
            ctx.last_author = Some(sender.clone());
        }
    }
    if is_out && sender.name.is_empty() {
        sender.name = "You".into();
    }
    if let Some(t) = time {
        ctx.last_time = Some(t);
        ctx.day = Some((t.year, t.month, t.day));
    } else if pre.is_some() {
        // Undated for want of a certain order: the rows after it share its day, unknown.
        ctx.day = None;
    }

    // What.
    let author_range = ix
        .outside_quote(s::F_AUTHOR_BLOCK)
        .or_else(|| ix.outside_quote(s::F_AUTHOR))
        .map(|b| (b.index(), b.end()));
    let body = ix.outside_quote(s::F_BODY).map(|e| e.text()).or_else(|| {
        // The last resort, `span[dir]`: only inside the copyable text, never the author's
        // name or a clock.
        let pre_el = ix.get(s::F_PRE_PLAIN)?;
        let quote = ix.get(s::F_QUOTED).map(|q| (q.index(), q.end()));
        pre_el
            .descendants()
            .filter(|e| s::BODY_DIR.iter().any(|sel| sel.matches(e)))
            .filter(|e| quote.is_none_or(|(a, b)| e.index() < a || e.index() >= b))
            .filter(|e| author_range.is_none_or(|(a, b)| e.index() < a || e.index() >= b))
            .map(|e| e.text())
            .find(|t| !clean(t).is_empty() && clock_of(t).is_none())
    });
    let body = body.unwrap_or_default();
    if pre.is_some() && clean(&body).is_empty() && !media_kind && !deleted {
        problem(ctx, counters, ROW_NO_TEXT, "timestamp but no text");
    }
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
            .map(|e| e.attr("title").map(str::to_string).unwrap_or_else(|| clean(&e.text())))
            .or_else(|| {
                // No test id or title on the card (none is shown on the real page): the name
                // is the first text after the card's icon that is not the clock.
                let icon = ix.get(s::F_CONTACT_CARD)?.index();
                row.descendants()
                    .filter(|e| e.index() > icon && e.attr("dir").is_some())
                    .map(|e| clean(&e.text()))
                    .find(|t| !t.is_empty() && clock_of(t).is_none())
            });
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
        // The notice without the clock.
        let mut t = String::new();
        for e in row.descendants().filter(|e| e.elements().next().is_none()) {
            let piece = clean(&e.text_cow());
            if !piece.is_empty() && clock_of(&piece).is_none() {
                if !t.is_empty() {
                    t.push(' ');
                }
                t.push_str(&piece);
            }
        }
        let t = if t.is_empty() { clean(&row.text()) } else { t };
        t.chars().take(2000).collect()
    } else {
        body
    };
    let quoted = ix.get(s::F_QUOTED).map(|q| Quoted {
        sender: s::first(q, s::AUTHOR_BLOCK)
            .or_else(|| s::first(q, s::AUTHOR))
            .map(read_author)
            .and_then(|a| a.name.or(a.phone)),
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
    // "Edited" is a word of its own beside the clock, after the text (no test id on current
    // builds): only leaves after the body are asked, so the words of a long text are not,
    // and a message that says "edited" is not marked edited.
    let after_body = ix.outside_quote(s::F_BODY).map_or(0, |b| b.end());
    let edited = ix.has(s::F_EDITED)
        || row
            .descendants()
            .filter(|e| e.index() >= after_body && e.elements().next().is_none())
            .any(|e| {
                let t = e.text_cow();
                t.len() < 24 && t.bytes().any(|b| b.is_ascii_alphabetic()) && is_edited_word(&t)
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

/// Time and sender of a `data-pre-plain-text`. An ambiguous date (both fields ≤ 12) is read
/// in the order the chat proved, else in the order the page's signals agree on; when
/// neither decides, the time is None (undated: kept, never written with a guessed date).
fn read_pre(p: &str, ctx: &mut ScanContext) -> Result<(Option<LocalMinute>, String), String> {
    if let Some(o) = ctx.order.or_else(|| fallback_order(&ctx.locale, ctx.browser_order.get())) {
        let pp = timestamp::parse_pre_plain_memo(p, o, &mut ctx.dates)?;
        return Ok((Some(pp.time), pp.sender));
    }
    let day = timestamp::parse_pre_plain_memo(p, DateOrder::DayFirst, &mut ctx.dates);
    let month = timestamp::parse_pre_plain_memo(p, DateOrder::MonthFirst, &mut ctx.dates);
    match (day, month) {
        (Ok(a), Ok(b)) if a.time == b.time => Ok((Some(a.time), a.sender)),
        (Ok(a), Ok(_)) => {
            ctx.uncertain += 1;
            Ok((None, a.sender))
        }
        (Ok(a), Err(_)) | (Err(_), Ok(a)) => Ok((Some(a.time), a.sender)),
        (Err(e), Err(_)) => Err(e),
    }
}

/// One item of the message list in order: a message row, or a day-separator chip.
enum Item<'d, 'a> {
    Row(El<'d, 'a>),
    Chip(String),
}

/// Scan serialized HTML (a row, several rows, or the whole message list) in order.
pub fn scan(html: &str, ctx: &mut ScanContext, counters: &mut Counters) -> Vec<Message> {
    let doc = html::parse(html);
    let mut steps = scan_start(&doc, ctx, counters);
    steps.step(usize::MAX, ctx, counters);
    steps.out
}

/// `scan` in steps, so a long first scan need not hold the page's main thread in one task:
/// `scan_start` finds the rows and chips and proves the chat's date order from all of them
/// (as `scan` does), then each `step` parses the next rows. Run to the end with the same
/// context, the steps give exactly what `scan` gives (`scan` is one step over everything).
pub struct ScanSteps<'d, 'a> {
    items: std::iter::Peekable<std::vec::IntoIter<Item<'d, 'a>>>,
    out: Vec<Message>,
}

pub fn scan_start<'d, 'a>(
    doc: &'d html::Doc<'a>,
    ctx: &mut ScanContext,
    counters: &mut Counters,
) -> ScanSteps<'d, 'a> {
    scan_start_parts(std::slice::from_ref(doc), ctx, counters)
}

/// `scan_start` over the list's rows parsed in parts (consecutive runs of the list's
/// children, each parsed on its own): the rows and chips of every part, in order, and the
/// date order proved from all of them, as for the whole list's HTML.
pub fn scan_start_parts<'d, 'a>(
    docs: &'d [html::Doc<'a>],
    ctx: &mut ScanContext,
    counters: &mut Counters,
) -> ScanSteps<'d, 'a> {
    counters.scans += 1;
    // Rows are the outermost elements carrying `data-id` (it does not nest); chips are
    // `role="row"` elements with no `data-id` inside and a short label.
    let mut items: Vec<Item> = Vec::new();
    for doc in docs {
        // A row's or chip's subtree is stepped over, not walked: most of a list's elements
        // are inside rows.
        let mut i = 0;
        while let Some(e) = doc.node_at(i) {
            let Some(e) = e else {
                i += 1;
                continue;
            };
            if e.attr_by_bit(html::DATA_ID_BIT).is_some() {
                items.push(Item::Row(e));
                i = e.end().max(i + 1);
            } else if e.attr("role") == Some("row")
                && !e.descendants().any(|d| d.attr_by_bit(html::DATA_ID_BIT).is_some())
            {
                let label = clean(&e.text());
                if !label.is_empty() && label.chars().count() <= 40 {
                    items.push(Item::Chip(label));
                }
                i = e.end().max(i + 1);
            } else {
                i += 1;
            }
        }
    }
    if ctx.order.is_none() {
        ctx.order = prove_order(&items, ctx);
    }
    let out = Vec::with_capacity(items.len());
    ScanSteps { items: items.into_iter().peekable(), out }
}

impl ScanSteps<'_, '_> {
    /// Parse up to `rows` more rows (chips between them set the day); true when none is left.
    pub fn step(&mut self, rows: usize, ctx: &mut ScanContext, counters: &mut Counters) -> bool {
        let mut n = 0;
        while n < rows {
            match self.items.next() {
                Some(Item::Row(r)) => {
                    self.out.extend(parse_row(r, ctx, counters));
                    n += 1;
                }
                Some(Item::Chip(label)) => {
                    ctx.day = chip_day(&label, ctx);
                    ctx.last_author = None;
                }
                None => break,
            }
        }
        self.items.peek().is_none()
    }

    /// The messages found, once every step ran.
    pub fn into_messages(self) -> Vec<Message> {
        self.out
    }

    fn done(out: Vec<Message>) -> Self {
        ScanSteps { items: Vec::new().into_iter().peekable(), out }
    }
}

/// A scan's messages being handed on in steps (`Session::hand_step`), after judging.
pub struct Handing {
    found: std::vec::IntoIter<Message>,
    out: Vec<Message>,
}

impl Handing {
    /// What was handed on (new or changed since last handed on), once every step ran.
    pub fn into_messages(self) -> Vec<Message> {
        self.out
    }
}

/// What the chat's own evidence proves about its date order: the digits (a field above 12
/// is the day), a chip naming the day of the dates under it, a reading that would date a
/// message after tomorrow.
fn prove_order(items: &[Item], ctx: &ScanContext) -> Option<DateOrder> {
    // The digits first, row by row: the first row that proves an order ends it (usually near
    // the top), so a long chat's rows are not all read here; the other proofs need them all.
    let mut fields: Vec<Option<(u32, u32, u32)>> = Vec::with_capacity(items.len());
    // Rows share a handful of dates: each run of one date is read once.
    let mut last: Option<(&str, Option<DateFields>)> = None;
    for i in items {
        let f = match i {
            Item::Row(r) => match s::first(*r, s::PRE_PLAIN)
                .and_then(|e| e.attr("data-pre-plain-text"))
                .and_then(date_text)
            {
                Some(d) => match last {
                    Some((text, f)) if text == d => f,
                    _ => {
                        let f = date_fields_of(d);
                        last = Some((d, f));
                        f
                    }
                },
                None => None,
            },
            Item::Chip(_) => None,
        };
        if let Some(o) = f.and_then(|(a, b, _)| digits_order(a, b)) {
            return Some(o);
        }
        fields.push(f);
    }
    let mut chip = None;
    for (item, f) in items.iter().zip(&fields) {
        match (item, f) {
            (Item::Chip(label), _) => chip = chip_day(label, ctx),
            (Item::Row(_), Some(f)) => {
                if let Some(o) = chip.and_then(|c| chip_proves(c, *f)) {
                    return Some(o);
                }
            }
            _ => {}
        }
    }
    let today = ctx.today?;
    fields.iter().flatten().find_map(|&f| future_proves(today, f))
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

/// How well the page reads in one chat: what its rows' last reading found. Above a threshold
/// capture of the chat pauses, so a WhatsApp change never becomes wrong data in a CRM.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub rows: u64,
    /// Rows with a `data-id` read as nothing known (no direction, unreadable timestamp).
    pub unclassified: u64,
    /// Rows with a `data-pre-plain-text` but no text and no media.
    pub no_text: u64,
    pub unknown_authors: u64,
    /// Rows left undated because their date order is not certain (not a reason to pause).
    pub uncertain_dates: u64,
    /// Scans since a chat header last read right that found one there but unreadable (this
    /// tab): while the header cannot be read no chat is known, so nothing can be captured.
    pub unreadable_headers: u64,
    pub paused: bool,
}

/// Page health for the diagnostics page, one chat a line: `chat: rows / unclassified /
/// without text / unknown authors / unreadable headers`, and `⏸` when capture of it is
/// paused; paused chats first. Numbers and chat keys only: the label says what they are.
pub fn health_lines(health: &BTreeMap<String, Health>) -> Vec<String> {
    let mut chats: Vec<(&String, &Health)> = health.iter().collect();
    chats.sort_by_key(|(k, h)| (!h.paused, (*k).clone()));
    chats
        .into_iter()
        .map(|(chat, h)| {
            format!(
                "{chat}: {} / {} / {} / {} / {}{}",
                h.rows,
                h.unclassified,
                h.no_text,
                h.unknown_authors,
                h.unreadable_headers,
                if h.paused { " ⏸" } else { "" }
            )
        })
        .collect()
}

/// Pause a chat when at least this many of its rows read wrong…
pub const PAUSE_MIN_ROWS: u64 = 3;
/// …and they are at least this share of its rows (percent).
pub const PAUSE_SHARE_PERCENT: u64 = 20;
/// Rows remembered per chat for its health.
const HEALTH_ROWS_MAX: usize = 20_000;

/// What `Session` remembers of a message handed on: a 64-bit hash of every field (derived
/// `Hash`), so any change (an edit, a reaction, a loaded file) hands it on again. In memory
/// only, so a fast hash with a fixed seed (foldhash reads 16 bytes a step; FNV-1a's byte
/// loop was a tenth of a 2,000-row first scan's handing on).
fn digest(m: &Message) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(DIGEST_SEED).hash_one(m)
}

const DIGEST_SEED: u64 = 0x6372_6d73_796e_6321;

/// A capture session for one tab: the open chat's scan context, counters, and what was
/// already handed on, so re-rendered rows are not sent twice and edited rows are. The
/// content script and the strict-CSP relay both run their HTML through one of these.
#[derive(Clone, Debug, Default)]
pub struct Session {
    pub ctx: ScanContext,
    pub counters: Counters,
    pub identity: Option<WaIdentity>,
    /// key → what was handed on under it (looked up once per row of every scan, never in
    /// order: hashed, not sorted by keys that share a long chat prefix).
    sent: KeyMap<Sent>,
    /// The open chat's messages (at most `keep`), for diagnostics and tests. Hashed: a first
    /// scan inserts thousands of keys that share a long chat prefix, which a sorted map
    /// compares byte by byte (readers sort, see `messages_in_order`).
    pub messages: KeyMap<Message>,
    pub keep: usize,
    /// The browser's date order and today's date, from the shell (see `ScanContext`).
    pub browser_order: BrowserOrder,
    pub today: Option<(u16, u8, u8)>,
    /// chat → row key → the row's problems as last read.
    rows: BTreeMap<String, KeyMap<u8>>,
    unreadable_headers: u64,
}

/// Remember a row's verdict (up to `HEALTH_ROWS_MAX` rows a chat).
///
/// Kept out of the judging loop, on purpose: V8 counts code run against a per-function
/// tier-up budget, and with a hash insert inlined the judging loop used it up and set off an
/// optimizing compile of the whole function during the first scan; on a two-core machine that
/// compile takes the core the page's main thread runs on (BENCHMARKS.md, content-script cold
/// start). In the content module wasm-opt may inline this small function back, but not the
/// large insert it calls (`CONTENT_OPT` in build.sh).
#[inline(never)]
fn record_verdict(rows: &mut KeyMap<u8>, k: String, f: u8) {
    if rows.len() < HEALTH_ROWS_MAX || rows.contains_key(&k) {
        rows.insert(k, f);
    }
}

/// Row keys → a value (the keys are WhatsApp's message ids), hashed with foldhash's fixed
/// state: 16 bytes a step where FNV-1a takes one, and keys only live in memory.
pub type KeyMap<V> = std::collections::HashMap<String, V, foldhash::fast::FixedState>;

/// What `Session` remembers of a key handed on.
#[derive(Clone, Copy, Debug)]
struct Sent {
    /// Digest of the message as last handed on; None once the worker did not take it
    /// (`forget`): the next scan hands it on again.
    digest: Option<u64>,
    /// It was handed on with a date.
    dated: bool,
}

impl Session {
    pub fn new(keep: usize) -> Self {
        Session { keep, ..Default::default() }
    }

    /// What the shell knows of the browser: its date order (`Intl`, or how to read it when a
    /// chat needs it, see `BrowserOrder`) and today's date.
    pub fn set_page(
        &mut self,
        browser_order: impl Into<BrowserOrder>,
        today: Option<(u16, u8, u8)>,
    ) {
        let browser_order = browser_order.into();
        self.browser_order = browser_order;
        self.today = today;
        self.ctx.browser_order = browser_order;
        self.ctx.today = today;
    }

    fn context(&self, identity: &WaIdentity, locale: &str) -> ScanContext {
        ScanContext {
            chat: identity.chat_key(),
            is_group: identity.is_group,
            locale: locale.into(),
            browser_order: self.browser_order,
            today: self.today,
            ..Default::default()
        }
    }

    /// A chat was opened (or the header changed): reset the per-chat context.
    pub fn open_chat(&mut self, identity: WaIdentity, locale: &str) {
        if self.identity.as_ref().map(WaIdentity::chat_key) != Some(identity.chat_key()) {
            self.messages.clear();
        }
        self.ctx = self.context(&identity, locale);
        self.identity = Some(identity);
        // A header read right again: the page reads as a chat, capture may resume.
        self.unreadable_headers = 0;
    }

    /// The open chat is no longer known (no header, or one that cannot be read): forget it,
    /// so rows read from now on are never filed under the chat that was open before. Nothing
    /// is handed on until a chat is opened again.
    pub fn close_chat(&mut self) {
        self.identity = None;
        self.messages.clear();
        let locale = std::mem::take(&mut self.ctx.locale);
        self.ctx = ScanContext {
            locale,
            browser_order: self.browser_order,
            today: self.today,
            ..Default::default()
        };
    }

    /// `#main` shows a header that could not be read as a chat: whichever chat it is, it is
    /// not the one open before. Counted for page health (it pauses capture, see `health_of`).
    pub fn header_unreadable(&mut self) -> Health {
        self.close_chat();
        self.unreadable_headers += 1;
        self.counters.skip("unreadable chat header");
        self.health()
    }

    /// The open chat's health (all zero before a chat is open).
    pub fn health(&self) -> Health {
        self.health_of(&self.ctx.chat)
    }

    pub fn health_of(&self, chat: &str) -> Health {
        // Unreadable headers are the health of no chat (`chat` empty: none is known): a chat
        // that reads right is not paused by another's header.
        let unreadable_headers = if chat.is_empty() { self.unreadable_headers } else { 0 };
        let mut h = Health { unreadable_headers, ..Default::default() };
        for &f in self.rows.get(chat).map(|r| r.values()).into_iter().flatten() {
            h.rows += 1;
            h.unclassified += u64::from(f & ROW_UNCLASSIFIED != 0);
            h.no_text += u64::from(f & ROW_NO_TEXT != 0);
            h.unknown_authors += u64::from(f & ROW_UNKNOWN_AUTHOR != 0);
            h.uncertain_dates += u64::from(f & ROW_UNCERTAIN_DATE != 0);
        }
        let bad = h.unclassified + h.no_text + h.unknown_authors + h.unreadable_headers;
        // An unreadable header pauses on its own: no row can be filed under any chat then.
        h.paused = h.unreadable_headers > 0
            || (bad >= PAUSE_MIN_ROWS && bad * 100 >= h.rows * PAUSE_SHARE_PERCENT);
        h
    }

    /// Record a scan's row verdicts for `chat`; the rows that must not be handed on (their
    /// reading is known wrong), and whether the chat is paused.
    fn judge(&mut self, chat: &str, verdicts: Vec<(String, u8)>) -> (Vec<String>, bool) {
        let rows = self.rows.entry(chat.to_string()).or_default();
        rows.reserve(verdicts.len().min(HEALTH_ROWS_MAX.saturating_sub(rows.len())));
        let mut withheld = Vec::new();
        for (k, f) in verdicts {
            if f & ROW_NO_TEXT != 0 {
                withheld.push(k.clone());
            }
            record_verdict(rows, k, f);
        }
        let h = self.health_of(chat);
        self.counters.health.insert(chat.to_string(), h.clone());
        (withheld, h.paused)
    }

    /// Scan `html` and return the messages that are new or changed since last returned.
    /// Nothing while the chat is paused: its messages go once the page reads right again.
    pub fn ingest(&mut self, html: &str) -> Vec<Message> {
        // No chat known (see `close_chat`): these rows are nobody's yet.
        if self.identity.is_none() {
            return Vec::new();
        }
        let found = scan(html, &mut self.ctx, &mut self.counters);
        self.ingest_found(found)
    }

    /// `ingest` in steps (the content script's first scan of a long chat yields to the page
    /// between them): `ingest_start` over the rows' HTML parsed in parts (runs of the list's
    /// children), `ingest_step` until it says done, `ingest_judge`, then `hand_step`s hand on exactly what
    /// `ingest` of the same HTML would. Nothing else may use the session's context meanwhile.
    pub fn ingest_start<'d, 'a>(&mut self, docs: &'d [html::Doc<'a>]) -> ScanSteps<'d, 'a> {
        scan_start_parts(docs, &mut self.ctx, &mut self.counters)
    }

    pub fn ingest_step(&mut self, steps: &mut ScanSteps, rows: usize) -> bool {
        steps.step(rows, &mut self.ctx, &mut self.counters)
    }

    /// Once every row is parsed: the rows' verdicts judged (the chat may pause), then the
    /// messages are handed on in `hand_step`s.
    pub fn ingest_judge(&mut self, steps: ScanSteps) -> Handing {
        let found = steps.into_messages();
        let verdicts = std::mem::take(&mut self.ctx.verdicts);
        let chat = self.ctx.chat.clone();
        let (withheld, paused) = self.judge(&chat, verdicts);
        let found: Vec<Message> = if paused {
            Vec::new()
        } else {
            let withheld: std::collections::BTreeSet<String> = withheld.into_iter().collect();
            found.into_iter().filter(|m| !withheld.contains(&m.key)).collect()
        };
        // Room for them all at once, not grown (and rehashed) step by step.
        self.sent.reserve(found.len());
        self.messages.reserve(found.len().min(self.keep.saturating_sub(self.messages.len())));
        let out = Vec::with_capacity(found.len());
        Handing { found: found.into_iter(), out }
    }

    /// Hand on up to `n` more messages; true when none is left.
    pub fn hand_step(&mut self, h: &mut Handing, n: usize) -> bool {
        let part: Vec<Message> = h.found.by_ref().take(n).collect();
        h.out.extend(self.hand_on(part, true));
        h.found.len() == 0
    }

    fn ingest_found(&mut self, found: Vec<Message>) -> Vec<Message> {
        let mut h = self.ingest_judge(ScanSteps::done(found));
        self.hand_step(&mut h, usize::MAX);
        h.out
    }

    /// `ingest`, with `context` (the row above) read first for its date and author only: its
    /// own message is neither handed on nor judged from here.
    pub fn ingest_after(&mut self, context: &str, html: &str) -> Vec<Message> {
        if !context.is_empty() {
            let _ = scan(context, &mut self.ctx, &mut Counters::default());
            self.ctx.verdicts.clear();
        }
        self.ingest(html)
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
            return self.ingest(html);
        }
        let mut ctx = self.context(identity, locale);
        let found = scan(html, &mut ctx, &mut self.counters);
        let (withheld, paused) = self.judge(&identity.chat_key(), ctx.verdicts);
        if paused {
            return Vec::new();
        }
        let found = found.into_iter().filter(|m| !withheld.contains(&m.key)).collect();
        self.hand_on(found, false)
    }

    fn hand_on(&mut self, found: Vec<Message>, open_chat: bool) -> Vec<Message> {
        let mut out = Vec::new();
        self.sent.reserve(found.len());
        for m in found {
            let digest = digest(&m);
            let dated = m.time.is_some();
            let changed = match self.sent.get_mut(&m.key) {
                // A row read once with its date, read again without the rows that dated it
                // (the top of a re-rendered list): the earlier reading stands.
                Some(s) if s.dated && !dated => continue,
                Some(s) => {
                    s.dated = dated;
                    s.digest.replace(digest) != Some(digest)
                }
                None => {
                    self.sent.insert(m.key.clone(), Sent { digest: Some(digest), dated });
                    true
                }
            };
            if changed {
                out.push(m.clone());
            }
            if open_chat && (self.messages.len() < self.keep || self.messages.contains_key(&m.key))
            {
                self.messages.insert(m.key.clone(), m);
            }
        }
        out
    }

    /// The open chat's messages kept for diagnostics, in key order.
    pub fn messages_in_order(&self) -> Vec<&Message> {
        let mut m: Vec<&Message> = self.messages.values().collect();
        m.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        m
    }

    /// The worker did not take these messages: hand them on again at the next scan.
    pub fn forget(&mut self, keys: &[String]) {
        for k in keys {
            if let Some(s) = self.sent.get_mut(k) {
                s.digest = None;
            }
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

    /// The digest `hand_on` compares tells any change of any field, as the serialized
    /// message's did: an edit, a reaction, a file loaded, a mark, a date read later.
    #[test]
    fn the_digest_changes_with_every_field() {
        use crate::core::model::{Direction, LocalMinute, Media, MessageKind, Quoted, Sender};
        let base = Message::text(
            "K1",
            "pn:+1",
            Direction::In,
            Sender { name: "Ana".into(), phone: None },
            None,
            "hi",
        );
        let minute = LocalMinute { year: 2026, month: 1, day: 2, hour: 3, minute: 4 };
        let media = Media { kind: "image".into(), file_name: None, size: None, url: None };
        type Change = (&'static str, fn(&mut Message));
        let changes: Vec<Change> = vec![
            ("key", |m| m.key = "K2".into()),
            ("chat", |m| m.chat = "pn:+2".into()),
            ("direction", |m| m.direction = Direction::Out),
            ("sender name", |m| m.sender.name = "Bia".into()),
            ("sender phone", |m| m.sender.phone = Some("+3".into())),
            ("time", |m| {
                m.time = Some(LocalMinute { year: 2026, month: 1, day: 2, hour: 3, minute: 4 })
            }),
            ("text", |m| m.text = "hi!".into()),
            ("quoted", |m| m.quoted = Some(Quoted { sender: None, text: String::new() })),
            ("media", |m| {
                m.media =
                    vec![Media { kind: "image".into(), file_name: None, size: None, url: None }]
            }),
            ("kind", |m| m.kind = MessageKind::Image),
            ("kind field", |m| m.kind = MessageKind::Voice { duration: Some("0:03".into()) }),
            ("forwarded", |m| m.forwarded = true),
            ("edited", |m| m.edited = true),
            ("reactions", |m| m.reactions = vec!["👍".into()]),
            // Text moved between adjacent fields is a change too.
            ("text to sender", |m| {
                m.sender.name = "Anahi".into();
                m.text = String::new();
            }),
        ];
        let d = digest(&base);
        assert_eq!(digest(&base.clone()), d, "the same message, the same digest");
        for (what, change) in changes {
            let mut m = base.clone();
            change(&mut m);
            assert_ne!(digest(&m), d, "{what}");
        }
        // Nested fields, on a message that already has them.
        let full = Message { time: Some(minute), media: vec![media.clone()], ..base.clone() };
        let mut later = full.clone();
        later.media[0].url = Some("blob:x".into());
        assert_ne!(digest(&later), digest(&full), "media url");
        let mut later = full.clone();
        if let Some(t) = later.time.as_mut() {
            t.minute = 5;
        }
        assert_ne!(digest(&later), digest(&full), "minute");
    }
}
