//! Content script on web.whatsapp.com: runs in the extension's isolated world.
//! It reads WhatsApp's DOM (one `outerHTML` per changed row), hands the HTML to the pure
//! scraper (`crate::capture`), and sends new or changed messages to the worker. It inserts
//! the panel frame; CRM data never enters the page.
use super::{chrome, js_err, to_js};
use crate::capture::{self, IdbEntry};
use crate::core::model::{Message, WaIdentity};
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
/// Keep at most this many messages of the open chat for diagnostics.
pub(crate) const DIAG_MAX: usize = 5000;

/// Diagnostics live on the isolated world's global, invisible to the page's scripts.
fn set_diag(key: &str, value: &JsValue) {
    let global = js_sys::global();
    let diag = match js_sys::Reflect::get(&global, &"__crmsync".into()) {
        Ok(d) if d.is_object() => d,
        _ => {
            let d: JsValue = js_sys::Object::new().into();
            let _ = js_sys::Reflect::set(&global, &"__crmsync".into(), &d);
            d
        }
    };
    let _ = js_sys::Reflect::set(&diag, &key.into(), value);
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
    let units = s.length() as usize;
    // Optimistic: one byte per UTF-16 unit (ASCII markup); the rest, if any, at up to 3.
    // A fresh zeroed buffer costs no fill (calloc), and becomes `out` itself when empty.
    let mut buf = vec![0u8; units];
    let (read, mut written) = ENCODER.with(|e| {
        let r = e.encode_into(&s, &mut buf);
        (r.read() as usize, r.written() as usize)
    });
    if read < units {
        let rest = s.slice(read as u32, units as u32);
        buf.resize(written + (units - read) * 3, 0);
        written += ENCODER.with(|e| e.encode_into(&rest, &mut buf[written..]).written() as usize);
    }
    buf.truncate(written);
    // encodeInto writes well-formed UTF-8 (lone surrogates become U+FFFD).
    let html = String::from_utf8(buf)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    if out.is_empty() {
        *out = html;
    } else {
        out.push_str(&html);
    }
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
    chrome::send_request(&to_js(&Request::PanelRegister { nonce: nonce.clone(), blocked: None })?)
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
async fn report_chat(doc: &Document, identity: &WaIdentity) -> Result<(), JsValue> {
    let theme = theme(doc);
    let what = format!("{}|{}|{theme}", identity.chat_key(), identity.name);
    if REPORTED.with(|r| r.borrow().as_deref() == Some(what.as_str())) {
        return Ok(());
    }
    let req = Request::ChatOpened { identity: identity.clone(), theme: Some(theme.into()) };
    match chrome::send_request(&to_js(&req)?).await {
        Ok(_) => {
            REPORTED.with(|r| *r.borrow_mut() = Some(what));
            Ok(())
        }
        Err(e) => {
            REPORTED.with(|r| *r.borrow_mut() = None);
            Err(e)
        }
    }
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
async fn read_model_storage() -> Vec<IdbEntry> {
    async fn inner() -> Result<Vec<IdbEntry>, JsValue> {
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
            return Ok(Vec::new());
        }
        let factory: web_sys::IdbFactory = factory.dyn_into()?;
        let req = factory.open("model-storage")?;
        let db: web_sys::IdbDatabase = super::store::request_future(&req).await?.dyn_into()?;
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
    for chunk in messages.chunks(SEND_CHUNK) {
        let req = Request::Captured { identity: identity.clone(), messages: chunk.to_vec() };
        let keys: Vec<String> = chunk.iter().map(|m| m.key.clone()).collect();
        let state = state.clone();
        let files = chunk.to_vec();
        wasm_bindgen_futures::spawn_local(async move {
            let Ok(v) = to_js(&req) else { return };
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
                let req = match gloo_net::http::Request::get(&url).send().await {
                    Ok(resp) => {
                        let mime = resp
                            .headers()
                            .get("content-type")
                            .unwrap_or_else(|| "application/octet-stream".into());
                        let name = if name.contains('.') {
                            name
                        } else {
                            format!("{name}.{}", extension(&mime))
                        };
                        match resp.binary().await {
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
                                error: Some(e.to_string()),
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
                        error: Some(e.to_string()),
                    },
                };
                let retry_key = format!("{}#{index}", req_key(&req));
                if let Ok(v) = to_js(&req) {
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
    let msgs: Vec<&Message> = s.messages.values().collect();
    if let Ok(v) = to_js(&msgs) {
        set_diag("messages", &v);
    }
}

/// Full rescan of the open chat: identity from the header (+ IndexedDB), then every row.
async fn rescan(state: Shared) -> Result<(), JsValue> {
    let doc = document()?;
    let header_html = doc.query_selector("#main header")?.map(|h| outer_html(&h));
    let Some(header) = header_html.as_deref().and_then(capture::parse_header) else {
        state
            .borrow_mut()
            .session
            .counters
            .skipped
            .entry("no chat open".into())
            .and_modify(|n| *n += 1)
            .or_insert(1);
        return Ok(());
    };
    let need_idb = state.borrow().idb.is_none();
    if need_idb {
        let entries = read_model_storage().await;
        state.borrow_mut().idb = Some(entries);
    }
    let identity = {
        let mut cap = state.borrow_mut();
        let identity = capture::resolve_identity(header, cap.idb.as_deref().unwrap_or(&[]));
        cap.session.open_chat(identity.clone(), &locale());
        identity
    };
    if let Err(e) = report_chat(&doc, &identity).await {
        // The worker is restarting: the messages would be refused; scan again shortly.
        set_diag("send_error", &e);
        rescan_soon(&state);
        return Ok(());
    }
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
        || cap.session.identity.as_ref().map(WaIdentity::chat_key).as_deref() != Some(key.as_str())
    {
        return Ok(());
    }
    let html = message_list(&doc).map(|l| outer_html(&l)).unwrap_or_default();
    let out = cap.session.ingest(&html);
    publish_diag(&cap.session);
    let counters = cap.session.counters.clone();
    drop(cap);
    if out.is_empty() {
        // An opened chat with nothing new still needs its card: tell the worker who it is.
        let req = Request::Captured { identity: identity.clone(), messages: vec![] };
        wasm_bindgen_futures::spawn_local(async move {
            if let Ok(v) = to_js(&req) {
                let _ = chrome::send_message(&v).await;
            }
        });
    }
    send(&state, identity, out);
    // Diagnostics for the options page: how capture went in this chat.
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(v) = to_js(&Request::CaptureStats { counters }) {
            let _ = chrome::send_message(&v).await;
        }
    });
    Ok(())
}

/// Scan only the rows that changed.
fn flush_rows(state: &Shared) -> Result<(), JsValue> {
    let doc = document()?;
    let mut cap = state.borrow_mut();
    let keys = std::mem::take(&mut cap.dirty_rows);
    let Some(identity) = cap.session.identity.clone() else { return Ok(()) };
    let mut html = String::new();
    for k in &keys {
        let sel = format!("[data-id=\"{}\"]", k.replace('\\', "\\\\").replace('"', "\\\""));
        if let Some(row) = doc.query_selector(&sel).ok().flatten() {
            push_outer_html(&mut html, &row);
        }
    }
    let out = cap.session.ingest(&html);
    publish_diag(&cap.session);
    drop(cap);
    send(state, identity, out);
    Ok(())
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
        // #main replaced, or its header re-rendered: another chat is open.
        let added = rec.added_nodes();
        for i in 0..added.length() {
            if let Some(n) = added.get(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                if n.id() == "main" || n.tag_name().eq_ignore_ascii_case("header") && in_main {
                    cap.chat_changed = true;
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

#[wasm_bindgen]
pub fn content_main() -> Result<(), JsValue> {
    set_diag("wasm", &JsValue::TRUE);
    let doc = document()?;
    insert_panel(&doc)?;
    set_diag("panel", &JsValue::TRUE);
    let state: Shared = Rc::new(RefCell::new(Capture::default()));
    observe(state.clone(), &doc)?;
    listen_frame(&doc, state.clone())?;
    wasm_bindgen_futures::spawn_local(async move {
        // No CRM call from a page load: the worker answers from its own state.
        let hello = async {
            register_panel().await?;
            chrome::send_message(&to_js(&Request::Hello { wasm: true })?).await
        };
        match hello.await {
            Ok(reply) => set_diag("hello", &reply),
            Err(e) => set_diag("error", &e),
        }
        if let Err(e) = rescan(state).await {
            set_diag("error", &e);
        }
    });
    Ok(())
}
