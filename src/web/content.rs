//! Content script on web.whatsapp.com: runs in the extension's isolated world.
//! It reads WhatsApp's DOM (one `outerHTML` per changed row), hands the HTML to the pure
//! scraper (`crate::capture`), and sends new or changed messages to the worker. It inserts
//! the panel frame; CRM data never enters the page.
use super::{chrome, js_err, tab_request, to_js};
use crate::capture::{self, IdbEntry};
use crate::core::model::{LocalMinute, Message, WaIdentity};
use crate::protocol::Request;
use gloo_timers::callback::Timeout;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{
    Document, Element, HtmlIFrameElement, MutationObserver, MutationObserverInit, MutationRecord,
};

pub(crate) const PANEL_ID: &str = "crmsync-panel";
/// Let a burst of DOM changes (a chat render, a scroll page) settle before scanning.
const DEBOUNCE_MS: u32 = 40;
/// After the worker did not take a batch, scan the chat again this much later.
const RESEND_MS: u32 = 2000;
/// Messages per runtime message to the worker.
const SEND_CHUNK: usize = 200;
/// Bytes of the message list's HTML parsed as a unit of a long scan (whole rows: a part ends
/// at the first row boundary after this many bytes).
const SCAN_PART_BYTES: usize = 128 * 1024;
/// Rows parsed (or messages handed on) as a unit of a long scan, between looks at the clock.
const SCAN_UNIT_ROWS: usize = 100;
/// A long scan yields to the page once its units have run this long since the last yield:
/// WhatsApp's main thread is never held near a long task (50 ms), and a fast machine does not
/// pay a yield (a round through the event loop and the futures glue) for every small unit.
const SCAN_SLICE_MS: f64 = 12.0;
/// Keep at most this many messages of the open chat for diagnostics.
pub(crate) const DIAG_MAX: usize = 5000;

/// Diagnostics live on the isolated world's global, invisible to the page's scripts.
fn set_diag(key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(&diag_object(), &key.into(), value);
}

fn diag_object() -> js_sys::Object {
    let global = js_sys::global();
    match js_sys::Reflect::get(&global, &"__crmsync".into()).map(JsCast::dyn_into) {
        Ok(Ok(d)) => d,
        _ => {
            let d = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&global, &"__crmsync".into(), &d);
            d
        }
    }
}

/// The open chat's messages in diagnostics, read when diagnostics are read: building them
/// at every scan cost a 2,000-row chat tens of milliseconds on WhatsApp's main thread.
fn diag_messages(state: &Shared) {
    let state = state.clone();
    let get = Closure::<dyn Fn() -> JsValue>::new(move || match state.try_borrow() {
        Ok(cap) => to_js(&cap.session.messages_in_order()).unwrap_or(JsValue::NULL),
        Err(_) => JsValue::NULL,
    });
    let desc = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&desc, &"get".into(), get.as_ref());
    let _ = js_sys::Reflect::set(&desc, &"enumerable".into(), &JsValue::TRUE);
    let _ = js_sys::Reflect::set(&desc, &"configurable".into(), &JsValue::TRUE);
    js_sys::Object::define_property(&diag_object(), &"messages".into(), &desc);
    get.forget(); // lives as long as the page
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = TextEncoder)]
    type Utf8Encoder;
    #[wasm_bindgen(constructor, js_class = "TextEncoder")]
    fn new() -> Utf8Encoder;
    #[wasm_bindgen(method, js_name = encodeInto)]
    fn encode_into(this: &Utf8Encoder, s: &js_sys::JsString, dest: &mut [u8]) -> EncodeResult;

    type EncodeResult;
    #[wasm_bindgen(method, getter)]
    fn read(this: &EncodeResult) -> f64;
    #[wasm_bindgen(method, getter)]
    fn written(this: &EncodeResult) -> f64;
}

thread_local! {
    static ENCODER: Utf8Encoder = Utf8Encoder::new();
}

/// Append an element's `outerHTML` to `out` as UTF-8. One native `TextEncoder.encodeInto`
/// call writes straight into wasm memory: a full scan moves about a megabyte, which the
/// generic string glue copies character by character in JS (several times slower).
pub(crate) fn push_outer_html(out: &mut String, el: &Element) {
    // `outerHTML` as the JS string itself, not yet copied into wasm memory.
    let s: js_sys::JsString =
        match js_sys::Reflect::get(el, &"outerHTML".into()).map(JsCast::dyn_into) {
            Ok(Ok(s)) => s,
            _ => return,
        };
    let html = js_to_utf8(&s);
    if out.is_empty() {
        *out = html;
    } else {
        out.push_str(&html);
    }
}

/// A JS string as UTF-8 in wasm memory (one `encodeInto`, see `push_outer_html`).
fn js_to_utf8(s: &js_sys::JsString) -> String {
    let units = s.length() as usize;
    // Optimistic: one byte per UTF-16 unit (ASCII markup); the rest, if any, at up to 3.
    // A fresh zeroed buffer costs no fill (calloc).
    let mut buf = vec![0u8; units];
    let (read, mut written) = ENCODER.with(|e| {
        let r = e.encode_into(s, &mut buf);
        (r.read() as usize, r.written() as usize)
    });
    if read < units {
        let rest = s.slice(read as u32, units as u32);
        buf.resize(written + (units - read) * 3, 0);
        written += ENCODER.with(|e| e.encode_into(&rest, &mut buf[written..]).written() as usize);
    }
    buf.truncate(written);
    // encodeInto writes well-formed UTF-8 (lone surrogates become U+FFFD).
    String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

pub(crate) fn outer_html(el: &Element) -> String {
    let mut s = String::new();
    push_outer_html(&mut s, el);
    s
}

fn document() -> Result<Document, JsValue> {
    web_sys::window().and_then(|w| w.document()).ok_or_else(|| js_err("no document"))
}

/// The panel's width, docked, and collapsed to a tab.
const PANEL_WIDTH: &str = "320px";
const PANEL_TAB: &str = "44px";
/// WhatsApp's own app shrinks by the panel's width, so the panel never covers its controls.
const DOCK_CSS: &str = "html.crmsync-docked #app{margin-right:var(--crmsync-width,320px)!important;width:auto!important}\
html.crmsync-docked #crmsync-panel{width:var(--crmsync-width,320px)}";

/// Insert the extension-origin panel frame once, docked at the right edge, and make room
/// for it. Collapse/expand messages from the frame resize both.
pub fn insert_panel(doc: &Document) -> Result<HtmlIFrameElement, JsValue> {
    if let Some(existing) = doc.get_element_by_id(PANEL_ID) {
        return existing
            .dyn_into::<HtmlIFrameElement>()
            .map_err(|_| js_err("panel id taken by another element"));
    }
    let frame: HtmlIFrameElement = doc.create_element("iframe")?.dyn_into()?;
    frame.set_id(PANEL_ID);
    // No hash: the frame learns everything from the worker, for the tab it is in.
    frame.set_src(&chrome::runtime_get_url("panel.html"));
    frame.set_attribute("title", "crmsync")?;
    frame.set_attribute(
        "style",
        "position:fixed;top:0;right:0;height:100vh;box-sizing:border-box;border:0;border-left:1px solid #d1d7db;z-index:1000;background:transparent",
    )?;
    let style = doc.create_element("style")?;
    style.set_id("crmsync-dock");
    style.set_text_content(Some(DOCK_CSS));
    doc.head().map(|h| h.append_child(&style)).transpose()?;
    let root = doc.document_element().ok_or_else(|| js_err("no root element"))?;
    root.class_list().add_1("crmsync-docked")?;
    set_width(&root, PANEL_WIDTH);
    doc.body().ok_or_else(|| js_err("no body"))?.append_child(&frame)?;
    Ok(frame)
}

fn set_width(root: &Element, w: &str) {
    if let Some(e) = root.dyn_ref::<web_sys::HtmlElement>() {
        let _ = e.style().set_property("--crmsync-width", w);
    }
}

/// Our panel frame's window: the frame this content script inserted, and no other.
fn own_frame_window(doc: &Document) -> Option<web_sys::Window> {
    doc.get_element_by_id(PANEL_ID)?.dyn_into::<HtmlIFrameElement>().ok()?.content_window()
}

thread_local! {
    /// The nonce registered with the worker for this page's panel frame (None until the
    /// worker has it).
    static NONCE: RefCell<Option<String>> = const { RefCell::new(None) };
    /// The chat (and theme) last reported to the worker.
    static REPORTED: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Bumped when the worker is told the open chat is unknown: a chat report still in flight
    /// then does not count as reported (the worker may have decided it before the unknown).
    static REPORTED_EPOCH: RefCell<u64> = const { RefCell::new(0) };
}

/// Hand the nonce to our own frame only: posted to that window for the extension's origin,
/// so neither the page nor a frame the page made ever receives it.
fn post_nonce(doc: &Document) {
    let (Some(win), Some(nonce)) = (own_frame_window(doc), NONCE.with(|n| n.borrow().clone()))
    else {
        return;
    };
    let msg = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&msg, &"crmsync".into(), &"nonce".into());
    let _ = js_sys::Reflect::set(&msg, &"nonce".into(), &nonce.into());
    let origin = chrome::runtime_get_url("").trim_end_matches('/').to_string();
    let _ = win.post_message(&msg, &origin);
}

/// Register a fresh nonce for this page's panel with the worker, then offer it to the frame.
async fn register_panel() -> Result<(), JsValue> {
    let nonce: String = chrome::random_bytes()?.iter().map(|b| format!("{b:02x}")).collect();
    chrome::send_request(&tab_request(&Request::PanelRegister {
        nonce: nonce.clone(),
        blocked: None,
    })?)
    .await?;
    NONCE.with(|n| *n.borrow_mut() = Some(nonce));
    post_nonce(&document()?);
    Ok(())
}

/// The frame posts `{crmsync: "hello"|"collapse"|"expand"|"backfill-start"|"backfill-cancel"}`;
/// only messages whose source is the frame this content script inserted count (a frame the
/// page made has the extension's origin too).
fn listen_frame(doc: &Document, state: Shared) -> Result<(), JsValue> {
    let origin = chrome::runtime_get_url("").trim_end_matches('/').to_string();
    let root = doc.document_element().ok_or_else(|| js_err("no root element"))?;
    let cb = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
        if ev.origin() != origin {
            return;
        }
        let Ok(doc) = document() else { return };
        let ours = match (ev.source(), own_frame_window(&doc)) {
            (Some(src), Some(win)) => js_sys::Object::is(&src, &win),
            _ => false,
        };
        if !ours {
            return;
        }
        let what =
            js_sys::Reflect::get(&ev.data(), &"crmsync".into()).ok().and_then(|v| v.as_string());
        match what.as_deref() {
            Some("collapse") => set_width(&root, PANEL_TAB),
            Some("expand") => set_width(&root, PANEL_WIDTH),
            // The frame (re)loaded and asks for its nonce.
            Some("hello") => post_nonce(&doc),
            Some("backfill-start") => super::backfill::start(Rc::new(state.clone())),
            Some("backfill-cancel") => super::backfill::cancel(),
            _ => {}
        }
    });
    web_sys::window()
        .ok_or_else(|| js_err("no window"))?
        .add_event_listener_with_callback("message", cb.as_ref().unchecked_ref())?;
    cb.forget();
    Ok(())
}

fn theme(doc: &Document) -> &'static str {
    let dark = doc.body().is_some_and(|b| b.class_list().contains("dark"))
        || doc.document_element().is_some_and(|e| e.class_list().contains("dark"));
    if dark {
        "dark"
    } else {
        "light"
    }
}

/// Tell the worker which chat is open in this tab (it tells the panel). Awaited before the
/// chat's messages are sent: the worker takes messages only for the chat it knows is open.
async fn report_chat(doc: &Document, identity: &WaIdentity, paused: bool) -> Result<(), JsValue> {
    let theme = theme(doc);
    let what = format!("{}|{}|{theme}|{paused}", identity.chat_key(), identity.name);
    if REPORTED.with(|r| r.borrow().as_deref() == Some(what.as_str())) {
        return Ok(());
    }
    let req = Request::ChatOpened { identity: identity.clone(), theme: Some(theme.into()), paused };
    let epoch = REPORTED_EPOCH.with(|e| *e.borrow());
    match chrome::send_request(&tab_request(&req)?).await {
        Ok(_) => {
            if REPORTED_EPOCH.with(|e| *e.borrow()) == epoch {
                REPORTED.with(|r| *r.borrow_mut() = Some(what));
            }
            Ok(())
        }
        Err(e) => {
            REPORTED.with(|r| *r.borrow_mut() = None);
            Err(e)
        }
    }
}

thread_local! {
    /// The pause state last reported (chat key, paused).
    static PAUSE: RefCell<Option<(String, bool)>> = const { RefCell::new(None) };
}

/// Tell the worker when the open chat's capture paused or resumed (the panel says so, and
/// diagnostics show the counters).
fn report_pause(doc: &Document, identity: &WaIdentity, paused: bool, counters: &capture::Counters) {
    let now = Some((identity.chat_key(), paused));
    if PAUSE.with(|p| *p.borrow() == now) {
        return;
    }
    PAUSE.with(|p| *p.borrow_mut() = now);
    let (doc, identity, counters) = (doc.clone(), identity.clone(), counters.clone());
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = report_chat(&doc, &identity, paused).await {
            PAUSE.with(|p| *p.borrow_mut() = None);
            set_diag("send_error", &e);
        }
        if let Ok(v) = tab_request(&Request::CaptureStats { counters }) {
            let _ = chrome::send_message(&v).await;
        }
    });
}

/// Tell the worker a chat is open whose header cannot be read: it forgets the tab's open chat
/// and the panel says capture is paused (once per spell; diagnostics get the counters).
fn report_unreadable(state: &Shared, counters: capture::Counters) {
    // Whichever chat reads next is reported again, even the one open before.
    REPORTED.with(|r| *r.borrow_mut() = None);
    REPORTED_EPOCH.with(|e| *e.borrow_mut() += 1);
    let now = Some((String::new(), true));
    if PAUSE.with(|p| *p.borrow() == now) {
        return;
    }
    PAUSE.with(|p| *p.borrow_mut() = now);
    let state = state.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let told = match tab_request(&Request::ChatUnreadable) {
            Ok(v) => chrome::send_request(&v).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = told {
            // The worker is restarting: say it again at the next scan.
            PAUSE.with(|p| *p.borrow_mut() = None);
            set_diag("send_error", &e);
            rescan_soon(&state);
        }
        if let Ok(v) = tab_request(&Request::CaptureStats { counters }) {
            let _ = chrome::send_message(&v).await;
        }
    });
}

pub(crate) struct Capture {
    pub(crate) session: capture::Session,
    /// Rows changed since the last flush (by data-id), and whether the chat itself changed.
    dirty_rows: BTreeSet<String>,
    chat_changed: bool,
    /// Changed rows WhatsApp removed before the flush read them (a chat switch within the
    /// debounce), copied from the removed nodes so they are scanned all the same.
    removed: Vec<Removed>,
    timer: Option<Timeout>,
    idb: Option<Vec<IdbEntry>>,
    /// A scan in steps is under way: the session's context is its own until it ends, so a
    /// flush or another rescan waits (see `schedule`).
    scanning: bool,
    /// Mutation records seen in or of `#main`: a rescan whose count did not move while the
    /// worker was told scans the rows it copied before (the page's list unchanged since),
    /// instead of reading the whole list a second time.
    main_changes: u64,
}

/// Rows read from removed nodes, and whose they are: the chat the session had open when
/// they were removed, or the header that was removed with them (a replaced `#main`).
struct Removed {
    identity: Option<WaIdentity>,
    header: Option<String>,
    rows: String,
}

impl Default for Capture {
    fn default() -> Self {
        Capture {
            session: capture::Session::new(DIAG_MAX),
            dirty_rows: BTreeSet::new(),
            chat_changed: false,
            removed: Vec::new(),
            timer: None,
            idb: None,
            scanning: false,
            main_changes: 0,
        }
    }
}

pub(crate) type Shared = Rc<RefCell<Capture>>;

impl super::backfill::OpenChat for Shared {
    fn title(&self) -> Option<String> {
        self.borrow().session.identity.as_ref().map(|i| i.name.clone())
    }
    fn loaded(&self) -> (usize, Option<crate::core::model::LocalMinute>) {
        let s = self.borrow();
        (s.session.messages.len(), s.session.messages.values().filter_map(|m| m.time).min())
    }
    fn message_list(&self, doc: &Document) -> Option<Element> {
        message_list(doc)
    }
    fn locale(&self) -> String {
        locale()
    }
}

fn locale() -> String {
    document()
        .ok()
        .and_then(|d| d.document_element())
        .and_then(|e| e.get_attribute("lang"))
        .filter(|l| !l.is_empty())
        .or_else(|| web_sys::window().and_then(|w| w.navigator().language()))
        .unwrap_or_else(|| "en".into())
}

/// Tell a capture session what this page knows of the browser as a chat opens: today's date,
/// and how to read the browser's date order should the chat's rows prove none.
pub(crate) fn set_page(session: &mut capture::Session) {
    session.set_page(capture::BrowserOrder::Ask(browser_date_order), Some(today()));
}

/// The browser's own order of day and month (`Intl.DateTimeFormat().formatToParts` on 3 Feb
/// 2001), which the page's date stamps may follow; None when it cannot be read. Read once a
/// page, when a chat first needs it (`capture::BrowserOrder`).
fn browser_date_order() -> Option<crate::core::timestamp::DateOrder> {
    thread_local! {
        static ORDER: std::cell::OnceCell<Option<crate::core::timestamp::DateOrder>> =
            const { std::cell::OnceCell::new() };
    }
    ORDER.with(|o| *o.get_or_init(read_browser_date_order))
}

fn read_browser_date_order() -> Option<crate::core::timestamp::DateOrder> {
    use crate::core::timestamp::DateOrder;
    let intl = js_sys::Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
    let ctor: js_sys::Function =
        js_sys::Reflect::get(&intl, &"DateTimeFormat".into()).ok()?.dyn_into().ok()?;
    let fmt = js_sys::Reflect::construct(&ctor, &js_sys::Array::new()).ok()?;
    let parts_fn: js_sys::Function =
        js_sys::Reflect::get(&fmt, &"formatToParts".into()).ok()?.dyn_into().ok()?;
    let date = js_sys::Date::new_with_year_month_day(2001, 1, 3);
    let parts = js_sys::Array::from(&parts_fn.call1(&fmt, &date).ok()?);
    parts.iter().find_map(|p| {
        match js_sys::Reflect::get(&p, &"type".into()).ok()?.as_string()?.as_str() {
            "day" => Some(DateOrder::DayFirst),
            "month" => Some(DateOrder::MonthFirst),
            _ => None,
        }
    })
}

/// Today's local date.
fn today() -> (u16, u8, u8) {
    let d = js_sys::Date::new_0();
    (d.get_full_year() as u16, (d.get_month() + 1) as u8, d.get_date() as u8)
}

/// The message list of the open chat: the conversation scroller, else #main.
fn message_list(doc: &Document) -> Option<Element> {
    [
        "[data-scrolltracepolicy=\"wa.web.conversation.messages\"]",
        "#main [role=\"application\"]",
        "#main",
    ]
    .iter()
    .find_map(|s| doc.query_selector(s).ok().flatten())
}

/// Read WhatsApp's `model-storage` IndexedDB (same origin as this content script), read-only.
/// Absent, locked or reshaped: an empty list, never an error, and never a new database.
/// WhatsApp's own database, if the page has one.
async fn open_model_storage() -> Result<Option<web_sys::IdbDatabase>, JsValue> {
    let factory = js_sys::Reflect::get(&js_sys::global(), &"indexedDB".into())?;
    // indexedDB.databases() first: opening a missing database would create it.
    let dbs_fn: js_sys::Function =
        js_sys::Reflect::get(&factory, &"databases".into())?.dyn_into()?;
    let list = wasm_bindgen_futures::JsFuture::from(
        dbs_fn.call0(&factory)?.dyn_into::<js_sys::Promise>()?,
    )
    .await?;
    let exists = js_sys::Array::from(&list).iter().any(|d| {
        js_sys::Reflect::get(&d, &"name".into()).ok().and_then(|n| n.as_string()).as_deref()
            == Some("model-storage")
    });
    if !exists {
        return Ok(None);
    }
    let factory: web_sys::IdbFactory = factory.dyn_into()?;
    let req = factory.open("model-storage")?;
    Ok(Some(super::store::request_future(&req).await?.dyn_into()?))
}

/// Each message's time as WhatsApp's database keeps it (see `capture::idb_times`), by message
/// id; messages it has no row for are left out.
async fn model_storage_times(
    jids: &[String],
    messages: &[Message],
) -> Result<Vec<(String, LocalMinute)>, JsValue> {
    use capture::idb_times::{message_id, message_range};
    let mut out = Vec::new();
    let Some(db) = open_model_storage().await? else { return Ok(out) };
    if db.object_store_names().contains("message") {
        let store = db.transaction_with_str("message")?.object_store("message")?;
        // Every request first, each with its handlers (the transaction ends once none is left).
        let mut pending = Vec::new();
        for m in messages {
            let Some(id) = message_id(&m.key) else { continue };
            for jid in jids {
                let out_going = m.direction == crate::core::model::Direction::Out;
                let (lo, hi) = message_range(jid, out_going, id);
                let range = web_sys::IdbKeyRange::bound_with_lower_open_and_upper_open(
                    &lo.into(),
                    &hi.into(),
                    false,
                    true,
                )?;
                let req = store.get_all_with_key_and_limit(&range, 4)?;
                pending.push((id, super::store::request_future(&req)));
            }
        }
        for (id, rows) in pending {
            for r in js_sys::Array::from(&rows.await?).iter() {
                let key = js_sys::Reflect::get(&r, &"id".into())?.as_string();
                let t = js_sys::Reflect::get(&r, &"t".into())?.as_f64();
                if let (Some(key), Some(t)) = (key, t) {
                    if let Some(minute) = local_minute(t).filter(|_| message_id(&key) == Some(id)) {
                        out.push((id.to_string(), minute));
                    }
                }
            }
        }
    }
    db.close();
    Ok(out)
}

/// Seconds since the epoch as the page's local minute; None when not a plausible time (a
/// value in milliseconds lands tens of thousands of years ahead).
fn local_minute(seconds: f64) -> Option<LocalMinute> {
    if !seconds.is_finite() || seconds <= 0.0 {
        return None;
    }
    let d = js_sys::Date::new(&JsValue::from_f64(seconds * 1000.0));
    let year = u16::try_from(d.get_full_year()).ok().filter(|y| (2009..=9999).contains(y))?;
    Some(LocalMinute {
        year,
        month: u8::try_from(d.get_month() + 1).ok()?,
        day: u8::try_from(d.get_date()).ok()?,
        hour: u8::try_from(d.get_hours()).ok()?,
        minute: u8::try_from(d.get_minutes()).ok()?,
    })
}

async fn read_model_storage() -> Vec<IdbEntry> {
    async fn inner() -> Result<Vec<IdbEntry>, JsValue> {
        let Some(db) = open_model_storage().await? else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for store in ["contact", "chat"] {
            if !db.object_store_names().contains(store) {
                continue;
            }
            let tx = db.transaction_with_str(store)?;
            let all =
                tx.object_store(store)?.get_all_with_key_and_limit(&JsValue::UNDEFINED, 20_000)?;
            let rows = js_sys::Array::from(&super::store::request_future(&all).await?);
            for r in rows.iter() {
                let get =
                    |k: &str| js_sys::Reflect::get(&r, &k.into()).ok().and_then(|v| v.as_string());
                let id = get("id").or_else(|| {
                    // Some builds store the id as an object with `_serialized`.
                    js_sys::Reflect::get(&r, &"id".into())
                        .ok()
                        .and_then(|o| js_sys::Reflect::get(&o, &"_serialized".into()).ok())
                        .and_then(|v| v.as_string())
                });
                let Some(id) = id else { continue };
                let names: Vec<String> = [
                    "name",
                    "formattedTitle",
                    "pushname",
                    "shortName",
                    "verifiedName",
                    "notify",
                    "subject",
                ]
                .iter()
                .filter_map(|k| get(k))
                .filter(|n| !n.is_empty())
                .collect();
                out.push(IdbEntry { id, names });
            }
        }
        db.close();
        Ok(out)
    }
    inner().await.unwrap_or_default()
}

/// Scan the open chat again after `RESEND_MS` (the worker did not take what was sent).
fn rescan_soon(state: &Shared) {
    let s2 = state.clone();
    Timeout::new(RESEND_MS, move || {
        s2.borrow_mut().chat_changed = true;
        if s2.borrow().timer.is_none() {
            schedule(&s2);
        }
    })
    .forget();
}

/// Hand messages to the worker. If the worker does not take them (restarting, or an error),
/// they are forgotten as sent and the chat is scanned again shortly: nothing stays behind.
fn send(state: &Shared, identity: WaIdentity, messages: Vec<Message>) {
    if messages.is_empty() {
        return;
    }
    // Where the page's database is readable, its times over the bubbles' (only when it was
    // found at the chat's scan: a page without one never gets one from here).
    let jids = {
        let cap = state.borrow();
        let entries = cap.idb.as_deref().unwrap_or(&[]);
        if entries.is_empty() {
            Vec::new()
        } else {
            capture::idb_times::chat_jids(&identity, entries)
        }
    };
    // One chunk a task: turning 2,000 messages into runtime messages at once is a long task on
    // WhatsApp's main thread. Each chunk is sent without waiting for the one before.
    let state = state.clone();
    wasm_bindgen_futures::spawn_local(async move {
        for (i, chunk) in messages.chunks(SEND_CHUNK).enumerate() {
            if i > 0 {
                yield_to_page().await;
            }
            let mut chunk = chunk.to_vec();
            if !jids.is_empty() {
                match model_storage_times(&jids, &chunk).await {
                    Ok(times) => {
                        capture::idb_times::apply(&mut chunk, &times);
                    }
                    Err(e) => set_diag("idb_error", &e),
                }
            }
            let keys: Vec<String> = chunk.iter().map(|m| m.key.clone()).collect();
            let files = chunk.clone();
            let req = Request::Captured { identity: identity.clone(), messages: chunk };
            let Ok(v) = tab_request(&req) else { continue };
            let state = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match chrome::send_request(&v).await {
                    // Stored: now its files (the worker takes a file only for a stored message).
                    Ok(_) => copy_files(&files),
                    Err(e) => {
                        set_diag("send_error", &e);
                        state.borrow_mut().session.forget(&keys);
                        rescan_soon(&state);
                    }
                }
            });
        }
    });
}

/// Files larger than this stay in WhatsApp (runtime messages carry them as base64).
const FILE_COPY_MAX: usize = 15 * 1024 * 1024;

thread_local! {
    /// Files already handed to the worker in this page (by `<message key>#<index>`).
    static COPIED: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
}

/// Copy the files WhatsApp has loaded into the page (images as `blob:` URLs) for upload to
/// the CRM. Only `blob:` URLs of this page are read; anything else stays a name in the transcript.
fn copy_files(messages: &[Message]) {
    for m in messages {
        for (i, media) in m.media.iter().enumerate() {
            let Some(url) =
                media.url.clone().filter(|u| u.starts_with("blob:https://web.whatsapp.com/"))
            else {
                continue;
            };
            let key = format!("{}#{i}", m.key);
            if !COPIED.with(|c| c.borrow_mut().insert(key)) {
                continue;
            }
            let (message_key, index) = (m.key.clone(), i as u16);
            let fallback = format!(
                "{}-{}",
                media.kind,
                m.key.chars().filter(char::is_ascii_alphanumeric).take(12).collect::<String>()
            );
            let name = media.file_name.clone().unwrap_or(fallback);
            let kind = media.kind.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let req = match fetch(&url).await {
                    Ok(resp) => {
                        let mime = resp
                            .headers()
                            .get("content-type")
                            .ok()
                            .flatten()
                            .unwrap_or_else(|| "application/octet-stream".into());
                        let name = if name.contains('.') {
                            name
                        } else {
                            format!("{name}.{}", extension(&mime))
                        };
                        match body(&resp).await {
                            // The page chose these bytes and this type: they must be an image of
                            // an allowed type, as declared (the worker checks again).
                            Ok(bytes) if bytes.len() <= FILE_COPY_MAX => {
                                match crate::protocol::limits::check_file(
                                    Some(&kind),
                                    &mime,
                                    &name,
                                    &bytes,
                                ) {
                                    Ok((mime, name)) => {
                                        let data = base64::Engine::encode(
                                            &base64::engine::general_purpose::STANDARD,
                                            &bytes,
                                        );
                                        Request::File {
                                            message_key,
                                            index,
                                            name,
                                            mime,
                                            size: bytes.len() as u64,
                                            data_b64: Some(data),
                                            error: None,
                                        }
                                    }
                                    Err(why) => Request::File {
                                        message_key,
                                        index,
                                        name,
                                        mime,
                                        size: bytes.len() as u64,
                                        data_b64: None,
                                        error: Some(why),
                                    },
                                }
                            }
                            Ok(bytes) => Request::File {
                                message_key,
                                index,
                                name,
                                mime,
                                size: bytes.len() as u64,
                                data_b64: None,
                                error: Some(format!(
                                    "larger than the {} MB copy limit",
                                    FILE_COPY_MAX >> 20
                                )),
                            },
                            Err(e) => Request::File {
                                message_key,
                                index,
                                name,
                                mime,
                                size: 0,
                                data_b64: None,
                                error: Some(e),
                            },
                        }
                    }
                    Err(e) => Request::File {
                        message_key,
                        index,
                        name,
                        mime: String::new(),
                        size: 0,
                        data_b64: None,
                        error: Some(e),
                    },
                };
                let retry_key = format!("{}#{index}", req_key(&req));
                if let Ok(v) = tab_request(&req) {
                    if let Err(e) = chrome::send_request(&v).await {
                        // The worker may be restarting, or the message not stored yet: the next
                        // scan of this row tries again.
                        COPIED.with(|c| c.borrow_mut().remove(&retry_key));
                        set_diag("send_error", &e);
                    }
                }
            });
        }
    }
}

/// `fetch(url)` straight through web-sys: the content script reads only its page's `blob:`
/// URLs, so an HTTP client crate (and the JSON and error machinery it brings) stays out of
/// its module. A rejection reads as the error's `toString()` ("TypeError: Failed to fetch").
async fn fetch(url: &str) -> Result<web_sys::Response, String> {
    let window = web_sys::window().ok_or("no window")?;
    let resp = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(js_error_text)?;
    resp.dyn_into().map_err(|_| "fetch gave no Response".to_string())
}

/// A response's body as bytes (`Response.arrayBuffer()`).
async fn body(resp: &web_sys::Response) -> Result<Vec<u8>, String> {
    let buf = resp.array_buffer().map_err(js_error_text)?;
    let buf = wasm_bindgen_futures::JsFuture::from(buf).await.map_err(js_error_text)?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

/// What a rejected promise says: an `Error`'s `toString()` ("TypeError: …"), else its text.
fn js_error_text(e: JsValue) -> String {
    match e.dyn_into::<js_sys::Error>() {
        Ok(err) => err.to_string().into(),
        Err(v) => v.as_string().unwrap_or_else(|| "request failed".into()),
    }
}

fn req_key(r: &Request) -> String {
    match r {
        Request::File { message_key, .. } => message_key.clone(),
        _ => String::new(),
    }
}

fn extension(mime: &str) -> &'static str {
    match mime.split(';').next().unwrap_or("").trim() {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "video/mp4" => "mp4",
        "audio/ogg" => "ogg",
        "application/pdf" => "pdf",
        _ => "bin",
    }
}

fn publish_diag(s: &capture::Session) {
    if let Ok(v) = to_js(&s.counters) {
        set_diag("capture", &v);
    }
    if let Ok(v) = to_js(&s.identity) {
        set_diag("identity", &v);
    }
}

/// Full rescan of the open chat: identity from the header (+ IndexedDB), then every row.
async fn rescan(state: Shared) -> Result<(), JsValue> {
    let doc = document()?;
    let header_html = doc.query_selector("#main header")?.map(|h| outer_html(&h));
    // The rows as they are with this header, read in the same task: while the worker is told
    // (below), the rep may open another chat and WhatsApp drop these rows from the page.
    let snapshot = message_list(&doc).map(|l| serialize_list(&l)).unwrap_or_default();
    let changes = state.borrow().main_changes;
    let Some(header) = header_html.as_deref().and_then(capture::parse_header) else {
        // No chat can be told: the session forgets the one open before, or the changed rows
        // of whatever chat this is would be read (`flush_rows`) and sent under its name.
        let mut cap = state.borrow_mut();
        let unreadable = header_html.is_some();
        if unreadable {
            // A header is there but reads as no chat: WhatsApp changed it. Capture pauses.
            cap.session.header_unreadable();
        } else {
            cap.session.close_chat();
            cap.session
                .counters
                .skipped
                .entry("no chat open".into())
                .and_modify(|n| *n += 1)
                .or_insert(1);
        }
        publish_diag(&cap.session);
        let counters = cap.session.counters.clone();
        drop(cap);
        if unreadable {
            report_unreadable(&state, counters);
        }
        return Ok(());
    };
    let need_idb = state.borrow().idb.is_none();
    if need_idb {
        let entries = read_model_storage().await;
        state.borrow_mut().idb = Some(entries);
    }
    let (identity, paused) = {
        let mut cap = state.borrow_mut();
        let identity = capture::resolve_identity(header, cap.idb.as_deref().unwrap_or(&[]));
        set_page(&mut cap.session);
        cap.session.open_chat(identity.clone(), &locale());
        (identity, cap.session.health().paused)
    };
    if let Err(e) = report_chat(&doc, &identity, paused).await {
        // The worker is restarting: the messages would be refused; scan again shortly.
        set_diag("send_error", &e);
        rescan_soon(&state);
        return Ok(());
    }
    // The scan's first slice starts here, in the task that resumed after the worker was told.
    let slice = Slice::start();
    let html = {
        let mut cap = state.borrow_mut();
        // While the worker was told, WhatsApp may have opened another chat (and its rescan may
        // have started): this scan must not read that chat's rows under this chat's name.
        let now_open = doc
            .query_selector("#main header")?
            .map(|h| outer_html(&h))
            .as_deref()
            .and_then(capture::parse_header)
            .map(|h| capture::resolve_identity(h, cap.idb.as_deref().unwrap_or(&[])).chat_key());
        let key = identity.chat_key();
        if now_open.as_deref() != Some(key.as_str())
            || cap.session.identity.as_ref().map(WaIdentity::chat_key).as_deref()
                != Some(key.as_str())
        {
            // Another chat is open now: this one's rows are read from the snapshot, in their own
            // chat's context (rows added since are in the removed `#main`, see `on_mutations`).
            let out = cap.session.ingest_removed(&identity, &locale(), &snapshot);
            drop(cap);
            send(&state, identity, out);
            return Ok(());
        }
        // The scan in steps owns the session's context until it ends (see `schedule`).
        cap.scanning = true;
        if cap.main_changes == changes {
            // Nothing in `#main` changed while the worker was told: the rows copied before
            // are the page's rows (reading a 2,000-row list again costs about 10 ms).
            snapshot
        } else {
            message_list(&doc).map(|l| serialize_list(&l)).unwrap_or_default()
        }
    };
    let out = ingest_in_steps(slice, &html, &state, |c| &mut c.session).await;
    let mut cap = state.borrow_mut();
    cap.scanning = false;
    publish_diag(&cap.session);
    let counters = cap.session.counters.clone();
    let paused = cap.session.health().paused;
    drop(cap);
    report_pause(&doc, &identity, paused, &counters);
    if out.is_empty() {
        // An opened chat with nothing new still needs its card: tell the worker who it is.
        let req = Request::Captured { identity: identity.clone(), messages: vec![] };
        wasm_bindgen_futures::spawn_local(async move {
            if let Ok(v) = tab_request(&req) {
                let _ = chrome::send_message(&v).await;
            }
        });
    }
    send(&state, identity, out);
    // Diagnostics for the options page: how capture went in this chat.
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(v) = tab_request(&Request::CaptureStats { counters }) {
            let _ = chrome::send_message(&v).await;
        }
    });
    Ok(())
}

/// Let the page run (input, rendering, WhatsApp's own tasks) before the next step:
/// `scheduler.yield()` where the browser has it (the continuation keeps its priority), else a
/// zero timeout.
async fn yield_to_page() {
    let global = js_sys::global();
    let scheduler = js_sys::Reflect::get(&global, &"scheduler".into()).ok();
    let yield_fn = scheduler
        .as_ref()
        .filter(|s| s.is_object())
        .and_then(|s| js_sys::Reflect::get(s, &"yield".into()).ok())
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let promise = match (yield_fn, scheduler) {
        (Some(f), Some(s)) => f.call0(&s).ok().and_then(|p| p.dyn_into::<js_sys::Promise>().ok()),
        _ => None,
    };
    let promise = promise.unwrap_or_else(|| {
        js_sys::Promise::new(&mut |resolve, _| {
            let _ = Timeout::new(0, move || {
                let _ = resolve.call0(&JsValue::NULL);
            })
            .forget();
        })
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// The time a long scan's current slice started (see `SCAN_SLICE_MS`).
pub(crate) struct Slice(f64);

impl Slice {
    pub(crate) fn start() -> Slice {
        Slice(js_sys::Date::now())
    }

    /// Yield to the page if the slice has run its time (or the clock was set back: a slice
    /// never runs on without end).
    async fn yield_if_due(&mut self) {
        let now = js_sys::Date::now();
        if now - self.0 >= SCAN_SLICE_MS || now < self.0 {
            yield_to_page().await;
            self.0 = js_sys::Date::now();
        }
    }
}

/// The list's rows serialized in one read (`innerHTML`: one crossing and one copy into wasm
/// memory, where reading each row's `outerHTML` took four crossings a row), parsed in parts
/// by `ingest_in_steps`.
pub(crate) fn serialize_list(list: &Element) -> String {
    // `innerHTML` as the JS string itself, not yet copied into wasm memory.
    match js_sys::Reflect::get(list, &"innerHTML".into()).map(JsCast::dyn_into::<js_sys::JsString>)
    {
        Ok(Ok(s)) => js_to_utf8(&s),
        _ => String::new(),
    }
}

/// `Session::ingest` of the list's rows (`serialize_list`) in units, yielding to the page
/// between them whenever the slice has run its time: `SCAN_PART_BYTES` of whole rows parsed a unit, then the rows found and the chat's
/// date order proved from all of them, then `SCAN_UNIT_ROWS` rows read a unit, then judged
/// and handed on `SCAN_UNIT_ROWS` messages a unit. Hands on exactly what one `ingest` of the
/// whole list would; the session is borrowed only within a unit.
pub(crate) async fn ingest_in_steps<T>(
    mut slice: Slice,
    html: &str,
    cell: &RefCell<T>,
    session: fn(&mut T) -> &mut capture::Session,
) -> Vec<Message> {
    let mut docs = Vec::with_capacity(html.len() / SCAN_PART_BYTES + 1);
    let mut from = 0;
    while from < html.len() {
        slice.yield_if_due().await;
        let (doc, next) = capture::html::parse_part(html, from, SCAN_PART_BYTES);
        docs.push(doc);
        from = next;
    }
    slice.yield_if_due().await;
    let mut steps = session(&mut cell.borrow_mut()).ingest_start(&docs);
    slice.yield_if_due().await;
    while !session(&mut cell.borrow_mut()).ingest_step(&mut steps, SCAN_UNIT_ROWS) {
        slice.yield_if_due().await;
    }
    slice.yield_if_due().await;
    let mut handing = session(&mut cell.borrow_mut()).ingest_judge(steps);
    slice.yield_if_due().await;
    while !session(&mut cell.borrow_mut()).hand_step(&mut handing, SCAN_UNIT_ROWS) {
        slice.yield_if_due().await;
    }
    handing.into_messages()
}

/// Scan only the rows that changed.
fn flush_rows(state: &Shared) -> Result<(), JsValue> {
    let doc = document()?;
    let mut cap = state.borrow_mut();
    let keys = std::mem::take(&mut cap.dirty_rows);
    let Some(identity) = cap.session.identity.clone() else { return Ok(()) };
    let mut out = Vec::new();
    for (context, rows) in rows_in_order(&doc, &keys) {
        out.extend(cap.session.ingest_after(&context, &rows));
    }
    publish_diag(&cap.session);
    let paused = cap.session.health().paused;
    let counters = cap.session.counters.clone();
    drop(cap);
    report_pause(&doc, &identity, paused, &counters);
    send(state, identity, out);
    Ok(())
}

/// The changed rows in the page's order, in runs of adjacent rows, each run with the row
/// above it: a message without its own date or author block is read against the row above
/// (that row is read again for context only, never handed on from here). Day chips before
/// a changed row go with it.
fn rows_in_order(doc: &Document, keys: &BTreeSet<String>) -> Vec<(String, String)> {
    let mut runs: Vec<(String, String)> = Vec::new();
    let Some(list) = message_list(doc) else { return runs };
    let Ok(all) = list.query_selector_all("[data-id]") else { return runs };
    let top = |j: u32| {
        let r = all.get(j).and_then(|n| n.dyn_into::<Element>().ok())?;
        Some(r.closest("[role=\"row\"]").ok().flatten().unwrap_or(r))
    };
    let mut last: Option<u32> = None;
    for i in 0..all.length() {
        let Some(row) = all.get(i).and_then(|n| n.dyn_into::<Element>().ok()) else { continue };
        if !row.get_attribute("data-id").is_some_and(|k| keys.contains(&k)) {
            continue;
        }
        let Some(t) = top(i) else { continue };
        if i == 0 || last != Some(i - 1) {
            let mut context = String::new();
            if let Some(above) = i.checked_sub(1).and_then(top) {
                push_outer_html(&mut context, &above);
            }
            runs.push((context, String::new()));
        }
        let Some((_, html)) = runs.last_mut() else { continue };
        let mut chips = Vec::new();
        let mut prev = t.previous_element_sibling();
        while let Some(p) = prev {
            if p.has_attribute("data-id") || p.query_selector("[data-id]").ok().flatten().is_some()
            {
                break;
            }
            prev = p.previous_element_sibling();
            chips.push(p);
        }
        for c in chips.iter().rev() {
            push_outer_html(html, c);
        }
        push_outer_html(html, &t);
        last = Some(i);
    }
    runs
}

/// Scan the rows copied from removed nodes, each for the chat it belongs to.
fn flush_removed(state: &Shared) {
    let snaps = std::mem::take(&mut state.borrow_mut().removed);
    let locale = locale();
    for snap in snaps {
        let mut cap = state.borrow_mut();
        let identity = match (snap.identity, snap.header.as_deref().and_then(capture::parse_header))
        {
            (Some(i), _) => i,
            (None, Some(h)) => capture::resolve_identity(h, cap.idb.as_deref().unwrap_or(&[])),
            (None, None) => continue,
        };
        let out = cap.session.ingest_removed(&identity, &locale, &snap.rows);
        drop(cap);
        let files = out.clone();
        send(state, identity, out);
        copy_files(&files);
    }
}

/// Copy the changed rows (`dirty`) found in a removed node.
fn removed_rows(node: &Element, dirty: &BTreeSet<String>) -> String {
    let mut html = String::new();
    if node.get_attribute("data-id").is_some_and(|k| dirty.contains(&k)) {
        push_outer_html(&mut html, node);
        return html;
    }
    if let Ok(list) = node.query_selector_all("[data-id]") {
        for j in 0..list.length() {
            if let Some(row) = list.get(j).and_then(|x| x.dyn_into::<Element>().ok()) {
                if row.get_attribute("data-id").is_some_and(|k| dirty.contains(&k)) {
                    push_outer_html(&mut html, &row);
                }
            }
        }
    }
    html
}

fn schedule(state: &Shared) {
    let s = state.clone();
    let t = Timeout::new(DEBOUNCE_MS, move || {
        if s.borrow().scanning {
            // The scan in steps owns the session's context: come back after it.
            s.borrow_mut().timer = None;
            schedule(&s);
            return;
        }
        let chat_changed = std::mem::take(&mut s.borrow_mut().chat_changed);
        s.borrow_mut().timer = None;
        // First what left the page, for the chat it left with; then the open chat.
        flush_removed(&s);
        if chat_changed {
            s.borrow_mut().dirty_rows.clear();
            let s2 = s.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = rescan(s2).await {
                    set_diag("error", &e);
                }
            });
        } else if let Err(e) = flush_rows(&s) {
            set_diag("error", &e);
        }
    });
    state.borrow_mut().timer = Some(t);
}

/// Sort each mutation into "the chat changed" or "these rows changed".
fn on_mutations(state: &Shared, records: js_sys::Array) {
    let mut cap = state.borrow_mut();
    // A switch not yet scanned: the session's chat may no longer be the one on screen.
    let switch_pending = cap.chat_changed;
    for r in records.iter() {
        let Ok(rec) = r.dyn_into::<MutationRecord>() else { continue };
        let Some(target) = rec.target() else { continue };
        let el: Option<Element> =
            target.dyn_ref::<Element>().cloned().or_else(|| target.parent_element());
        let Some(el) = el else { continue };
        let in_main = el.closest("#main").ok().flatten().is_some();
        if in_main {
            cap.main_changes += 1;
        }
        // #main replaced, or its header re-rendered: another chat is open.
        let added = rec.added_nodes();
        for i in 0..added.length() {
            if let Some(n) = added.get(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                if n.id() == "main" || n.tag_name().eq_ignore_ascii_case("header") && in_main {
                    cap.chat_changed = true;
                    cap.main_changes += 1;
                } else if in_main {
                    if let Some(k) = n.get_attribute("data-id") {
                        cap.dirty_rows.insert(k);
                    } else if let Ok(list) = n.query_selector_all("[data-id]") {
                        for j in 0..list.length() {
                            if let Some(k) = list
                                .get(j)
                                .and_then(|x| x.dyn_into::<Element>().ok())
                                .and_then(|x| x.get_attribute("data-id"))
                            {
                                cap.dirty_rows.insert(k);
                            }
                        }
                    }
                }
            }
        }
        // Text edited inside an existing row.
        if in_main {
            if let Some(row) = el.closest("[data-id]").ok().flatten() {
                if let Some(k) = row.get_attribute("data-id") {
                    cap.dirty_rows.insert(k);
                }
            }
            if el.closest("#main header").ok().flatten().is_some() {
                cap.chat_changed = true;
            }
        }
    }
    // Changed rows removed before the debounced flush could read them: copy them now.
    if !cap.dirty_rows.is_empty() {
        for r in records.iter() {
            let Ok(rec) = r.dyn_into::<MutationRecord>() else { continue };
            let target_in_main = rec
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .is_some_and(|t| t.closest("#main").ok().flatten().is_some());
            let removed = rec.removed_nodes();
            for i in 0..removed.length() {
                let Some(n) = removed.get(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
                    continue;
                };
                let is_main = n.id() == "main";
                if !is_main && !target_in_main {
                    continue;
                }
                let rows = removed_rows(&n, &cap.dirty_rows);
                if rows.is_empty() {
                    continue;
                }
                let snap = if is_main {
                    // The whole list goes, not only the changed rows: a chat not scanned yet
                    // needs its other rows to tell its date order (rows already handed on
                    // are not sent again).
                    let list = [
                        "[data-scrolltracepolicy=\"wa.web.conversation.messages\"]",
                        "[role=\"application\"]",
                    ]
                    .iter()
                    .find_map(|sel| n.query_selector(sel).ok().flatten())
                    .map(|l| outer_html(&l))
                    .unwrap_or(rows);
                    Removed {
                        identity: None,
                        header: n.query_selector("header").ok().flatten().map(|h| outer_html(&h)),
                        rows: list,
                    }
                } else if !switch_pending {
                    Removed { identity: cap.session.identity.clone(), header: None, rows }
                } else {
                    continue; // whose they are is unknown: the chat is rescanned when reopened
                };
                cap.removed.push(snap);
            }
        }
    }
    let idle = cap.timer.is_none()
        && (cap.chat_changed || !cap.dirty_rows.is_empty() || !cap.removed.is_empty());
    drop(cap);
    if idle {
        schedule(state);
    }
}

fn observe(state: Shared, doc: &Document) -> Result<(), JsValue> {
    let root = doc
        .get_element_by_id("app")
        .or_else(|| doc.body().map(Into::into))
        .ok_or_else(|| js_err("no #app or body"))?;
    let s = state.clone();
    let cb = Closure::<dyn FnMut(js_sys::Array, MutationObserver)>::new(move |records, _obs| {
        on_mutations(&s, records)
    });
    let obs = MutationObserver::new(cb.as_ref().unchecked_ref())?;
    let init = MutationObserverInit::new();
    init.set_child_list(true);
    init.set_subtree(true);
    init.set_character_data(true);
    obs.observe_with_options(&root, &init)?;
    // Lives as long as the page.
    cb.forget();
    Ok(())
}

/// The signed-in number from the page's localStorage (shared with this content script), as
/// `capture::own_wid` reads WhatsApp's keys; None when the page keeps none.
fn own_number() -> Option<String> {
    let storage = web_sys::window()?.local_storage().ok()??;
    crate::capture::own_wid::KEYS
        .iter()
        .filter_map(|k| storage.get_item(k).ok().flatten())
        .find_map(|raw| crate::capture::own_wid::own_number(&raw))
}

#[wasm_bindgen]
pub fn content_main() -> Result<(), JsValue> {
    set_diag("wasm", &JsValue::TRUE);
    let doc = document()?;
    insert_panel(&doc)?;
    set_diag("panel", &JsValue::TRUE);
    let state: Shared = Rc::new(RefCell::new(Capture::default()));
    diag_messages(&state);
    observe(state.clone(), &doc)?;
    listen_frame(&doc, state.clone())?;
    wasm_bindgen_futures::spawn_local(async move {
        // No CRM call from a page load: the worker answers from its own state.
        let hello = async {
            register_panel().await?;
            chrome::send_message(&tab_request(&Request::Hello { wasm: true })?).await
        };
        match hello.await {
            Ok(reply) => set_diag("hello", &reply),
            Err(e) => set_diag("error", &e),
        }
        // The rep's own number, when the page keeps it: the first run's region hint.
        if let Some(phone) = own_number() {
            let sent =
                async { chrome::send_message(&tab_request(&Request::OwnNumber { phone })?).await };
            if let Err(e) = sent.await {
                set_diag("error", &e);
            }
        }
        if let Err(e) = rescan(state).await {
            set_diag("error", &e);
        }
    });
    Ok(())
}
