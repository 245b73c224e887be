//! The guided backfill, as the content script runs it: read WhatsApp's chat list, open each
//! chat active in the last 3 days that was never captured, scroll it back until the window is
//! covered (or WhatsApp loads nothing older), and report progress to the panel frame. Capture
//! itself is the usual observer; this only drives the page like the rep would. Decisions are in
//! `core::backfill`.
use super::{chrome, js_err};
use crate::capture::backfill::{covers, plan, ListRow, Outcome, Progress};
use crate::capture::selectors::{CHAT_LIST_LABEL, CHAT_LIST_ROWS, CHAT_LIST_TITLE};
use crate::core::model::LocalMinute;
use crate::protocol::Request;
use gloo_timers::future::sleep;
use std::cell::Cell;
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element};

thread_local! {
    static RUNNING: Cell<bool> = const { Cell::new(false) };
    static CANCELLED: Cell<bool> = const { Cell::new(false) };
}

/// Wait this long for a clicked chat's header to show.
const OPEN_TIMEOUT_MS: u64 = 6000;
/// Between scrolls: WhatsApp loads an older page after a moment.
const SCROLL_WAIT_MS: u64 = 400;
/// Scrolls without new messages before concluding the history ends there.
const IDLE_SCROLLS: u32 = 4;
const MAX_SCROLLS: u32 = 80;

pub fn cancel() {
    CANCELLED.with(|c| c.set(true));
}

/// What the backfill reads of the open chat, as the content script's capture sees it. Given
/// by the content script, so this module does not depend on it (it only drives the page).
pub(crate) trait OpenChat {
    /// The open chat's title.
    fn title(&self) -> Option<String>;
    /// How many of its messages are captured, and the oldest one's time.
    fn loaded(&self) -> (usize, Option<LocalMinute>);
    /// The conversation's scroller.
    fn message_list(&self, doc: &Document) -> Option<Element>;
    /// The page's locale (the chat list's labels are in it).
    fn locale(&self) -> String;
}

type Shared = std::rc::Rc<dyn OpenChat>;

pub(crate) fn start(state: Shared) {
    if RUNNING.with(|r| r.replace(true)) {
        return;
    }
    CANCELLED.with(|c| c.set(false));
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = run(state).await {
            web_sys::console::error_1(&e);
        }
        RUNNING.with(|r| r.set(false));
    });
}

fn document() -> Result<Document, JsValue> {
    web_sys::window().and_then(|w| w.document()).ok_or_else(|| js_err("no document"))
}

fn first(el: &Element, sels: &[&str]) -> Option<Element> {
    sels.iter().find_map(|s| el.query_selector(s).ok().flatten())
}

fn list_rows(doc: &Document) -> Vec<(Element, ListRow)> {
    let Some(list) = CHAT_LIST_ROWS
        .iter()
        .map(|s| doc.query_selector_all(s))
        .find_map(|l| l.ok().filter(|l| l.length() > 0))
    else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.get(i)?.dyn_into::<Element>().ok())
        .filter_map(|row| {
            let title = first(&row, CHAT_LIST_TITLE)
                .and_then(|t| t.get_attribute("title").or_else(|| t.text_content()))?;
            let label =
                first(&row, CHAT_LIST_LABEL).and_then(|l| l.text_content()).unwrap_or_default();
            Some((row, ListRow { title, label }))
        })
        .collect()
}

fn today() -> (u16, u8, u8) {
    let d = js_sys::Date::new_0();
    (d.get_full_year() as u16, (d.get_month() + 1) as u8, d.get_date() as u8)
}

/// Progress for this tab's panel frame, over chrome.runtime (the panel checks it came from
/// this tab's content script; the page cannot post it).
fn post(progress: &Progress) {
    let Ok(req) = super::tab_request(&Request::BackfillProgress { progress: progress.clone() })
    else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        let _ = chrome::send_message(&req).await;
    });
}

/// Click a chat-list row the way a pointer does (WhatsApp listens to mouse events).
fn click(row: &Element) {
    for kind in ["mousedown", "mouseup", "click"] {
        let init = web_sys::MouseEventInit::new();
        init.set_bubbles(true);
        init.set_cancelable(true);
        if let Ok(ev) = web_sys::MouseEvent::new_with_mouse_event_init_dict(kind, &init) {
            let _ = row.dispatch_event(&ev);
        }
    }
}

fn open_title(state: &Shared) -> Option<String> {
    state.title()
}

async fn open(state: &Shared, doc: &Document, title: &str) -> Result<(), String> {
    let row = list_rows(doc)
        .into_iter()
        .find(|(_, r)| r.title.trim() == title)
        .map(|(e, _)| e)
        .ok_or("no longer in the chat list")?;
    click(&row);
    let mut waited = 0;
    while open_title(state).as_deref() != Some(title) {
        if waited >= OPEN_TIMEOUT_MS {
            return Err("the chat did not open".into());
        }
        sleep(Duration::from_millis(100)).await;
        waited += 100;
    }
    Ok(())
}

fn loaded(state: &Shared) -> (usize, Option<LocalMinute>) {
    state.loaded()
}

/// Scroll the open chat back until the window is covered or nothing older loads.
async fn scroll_back(state: &Shared, doc: &Document) -> Outcome {
    let mut idle = 0;
    let (mut count, _) = loaded(state);
    for _ in 0..MAX_SCROLLS {
        if CANCELLED.with(Cell::get) {
            return Outcome::Cancelled;
        }
        let (n, oldest) = loaded(state);
        if covers(oldest.as_ref(), today()) {
            return Outcome::Covered { messages: n };
        }
        if let Some(list) = state.message_list(doc) {
            list.set_scroll_top(0);
            if let Ok(ev) = web_sys::Event::new("scroll") {
                let _ = list.dispatch_event(&ev);
            }
        }
        sleep(Duration::from_millis(SCROLL_WAIT_MS)).await;
        let (n, _) = loaded(state);
        if n > count {
            count = n;
            idle = 0;
        } else {
            idle += 1;
            if idle >= IDLE_SCROLLS {
                break;
            }
        }
    }
    let (n, oldest) = loaded(state);
    if covers(oldest.as_ref(), today()) {
        Outcome::Covered { messages: n }
    } else {
        Outcome::HistoryEnds { messages: n, oldest: oldest.map(|o| o.day_key()) }
    }
}

async fn run(state: Shared) -> Result<(), JsValue> {
    let doc = document()?;
    let rows: Vec<ListRow> = list_rows(&doc).into_iter().map(|(_, r)| r).collect();
    // The worker says which of these titles it has not captured yet (it never lists its chats).
    let titles: Vec<String> = rows
        .iter()
        .map(|r| r.title.trim().to_string())
        .take(crate::protocol::limits::MAX_TITLES)
        .collect();
    let answer = chrome::send_message(&super::tab_request(&Request::UnknownChats {
        titles: titles.clone(),
    })?)
    .await?;
    // An array of strings, read by hand: the content script's module then needs no
    // deserializer (and none of serde's error texts). Anything else counts as none.
    let unknown: Vec<String> = if js_sys::Array::is_array(&answer) {
        js_sys::Array::from(&answer).iter().map(|t| t.as_string()).collect::<Option<_>>()
    } else {
        None
    }
    .unwrap_or_default();
    let known: Vec<String> = titles.into_iter().filter(|t| !unknown.contains(t)).collect();
    let p = plan(&rows, &known, &state.locale(), today());
    let back_to = open_title(&state);
    let mut progress =
        Progress { total: p.chats.len(), unreadable: p.unreadable.clone(), ..Default::default() };
    post(&progress);
    for title in &p.chats {
        if CANCELLED.with(Cell::get) {
            progress.results.push((title.clone(), Outcome::Cancelled));
            continue;
        }
        progress.current = Some(title.clone());
        post(&progress);
        let outcome = match open(&state, &doc, title).await {
            Ok(()) => scroll_back(&state, &doc).await,
            Err(reason) => Outcome::NotOpened { reason },
        };
        // Let the last scroll's rows reach the worker before moving on.
        sleep(Duration::from_millis(200)).await;
        progress.results.push((title.clone(), outcome));
        progress.done += 1;
        post(&progress);
    }
    progress.current = None;
    progress.finished = true;
    post(&progress);
    if let Some(t) = back_to {
        let _ = open(&state, &doc, &t).await;
    }
    Ok(())
}
