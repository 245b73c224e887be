//! Entry points for the benchmark and the wasm tests only (`--features bench`, never in the
//! shipped module): the capture scan as the content script runs it, driven from a page.
use super::content::{outer_html, push_outer_html, DIAG_MAX};
use crate::capture::{self, Counters, ScanContext};
use crate::core::model::WaIdentity;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Element;

/// The capture path as the content script runs it, for the benchmark: serialize the rows,
/// parse them in Rust, return how many messages came out.
#[wasm_bindgen]
pub fn capture_scan_elements(rows: js_sys::Array, chat: &str, locale: &str) -> usize {
    let mut html = String::new();
    for r in rows.iter() {
        if let Ok(e) = r.dyn_into::<Element>() {
            push_outer_html(&mut html, &e);
        }
    }
    let mut ctx = ScanContext { chat: chat.into(), locale: locale.into(), ..Default::default() };
    capture::scan(&html, &mut ctx, &mut Counters::default()).len()
}

/// The content script's first scan of a chat, as it runs it: the list serialized in one task
/// (in parts), then parsed and handed on in steps with a yield to the page between them
/// (`content::ingest_in_steps`). Resolves to how many messages a fresh session hands on.
#[wasm_bindgen]
pub async fn capture_first_scan(container: Element, chat: String, locale: String) -> usize {
    let mut s = capture::Session::new(DIAG_MAX);
    // As the content script opens a chat: today's date (day-separator chips such as
    // "Yesterday" prove the chat's date order only with it), and the browser's date order to
    // be read if the rows prove none.
    super::content::set_page(&mut s);
    s.open_chat(WaIdentity { phone: None, lid: None, name: chat, is_group: false }, &locale);
    let cell = std::cell::RefCell::new(s);
    let slice = super::content::Slice::start();
    let html = super::content::serialize_list(&container);
    let n = super::content::ingest_in_steps(slice, &html, &cell, |s| s).await.len();
    keep(cell.into_inner());
    n
}

thread_local! {
    static KEPT: std::cell::RefCell<Option<capture::Session>> = const { std::cell::RefCell::new(None) };
}

/// The content script keeps its session for the page's life: so does the benchmark, whose
/// measure would otherwise include freeing it (a cost the content script never pays).
fn keep(s: capture::Session) {
    KEPT.with(|k| *k.borrow_mut() = Some(s));
}

/// Same, from one container element (a full rescan reads the list once).
#[wasm_bindgen]
pub fn capture_scan_container(container: &Element, chat: &str, locale: &str) -> usize {
    let mut ctx = ScanContext { chat: chat.into(), locale: locale.into(), ..Default::default() };
    capture::scan(&outer_html(container), &mut ctx, &mut Counters::default()).len()
}

/// A capture session the benchmark drives like the content script does: rows in as
/// elements (read with outerHTML), fresh messages counted, state kept between calls.
#[wasm_bindgen]
pub struct CaptureSession(capture::Session);

#[wasm_bindgen]
impl CaptureSession {
    #[wasm_bindgen(constructor)]
    pub fn new(chat_name: &str, locale: &str) -> CaptureSession {
        let mut s = capture::Session::new(DIAG_MAX);
        s.open_chat(
            WaIdentity { phone: None, lid: None, name: chat_name.into(), is_group: false },
            locale,
        );
        CaptureSession(s)
    }

    pub fn ingest(&mut self, rows: js_sys::Array) -> usize {
        let mut html = String::new();
        for r in rows.iter() {
            if let Ok(e) = r.dyn_into::<Element>() {
                push_outer_html(&mut html, &e);
            }
        }
        self.0.ingest(&html).len()
    }
}
