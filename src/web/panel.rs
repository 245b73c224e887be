//! The Mini-CRM panel frame (extension origin). Renders the view tree core builds from the
//! worker's `view::PanelState` (`core::panel`) through `web::dom`: DOM APIs only (text
//! nodes, attributes from a closed list), so CRM text can never become markup.
//! The frame learns its chat, theme and every line it shows from the worker only (`PanelSync`),
//! for the tab it is in; the worker serves only the frame its tab's content script inserted
//! (which handed it a nonce). Nothing is read from the URL or from `postMessage` payloads.
use super::dom;
use super::{chrome, js_err, to_js};
use crate::core::panel;
use crate::core::ui::Action;
use crate::core::view::{self, PanelState};
use crate::protocol::{ActionReply, Request};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element};

pub(crate) fn document() -> Result<Document, JsValue> {
    web_sys::window().and_then(|w| w.document()).ok_or_else(|| js_err("no document"))
}

pub(crate) fn tk(key: &'static str) -> String {
    chrome::i18n(key, &[])
}

pub(crate) fn input_value(doc: &Document, name: &str) -> String {
    doc.get_element_by_id(&format!("f-{name}"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
        .map(|i| i.value())
        .unwrap_or_default()
}

pub(crate) fn set_text(doc: &Document, id: &str, text: &str) {
    if let Some(e) = doc.get_element_by_id(id) {
        e.set_text_content(Some(text));
    }
}

thread_local! {
    /// The open chat as the worker knows it for this tab: (chat key, name).
    static CHAT: std::cell::RefCell<Option<(String, String)>> = const { std::cell::RefCell::new(None) };
    /// IntersectionObserver v2: is the panel visible, unobscured and without effects right now?
    static VISIBLE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// A nonce claim in flight or done (the first nonce from the parent only).
    static CLAIMED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn chat_key() -> String {
    CHAT.with(|c| c.borrow().as_ref().map(|c| c.0.clone()).unwrap_or_default())
}

fn parent_window() -> Option<web_sys::Window> {
    let w = web_sys::window()?;
    let p = w.parent().ok().flatten()?;
    (!js_sys::Object::is(&p, &w)).then_some(p)
}

/// The content script that inserted this frame hands it a nonce (posted to this frame only;
/// the page never learns it): presented to the worker, it binds this frame to its tab. A
/// frame the page made gets no nonce, so the worker serves it nothing.
fn listen_parent() -> Result<(), JsValue> {
    let cb = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
        let from_parent = match (ev.source(), parent_window()) {
            (Some(src), Some(p)) => js_sys::Object::is(&src, &p),
            _ => false,
        };
        if !from_parent || ev.origin() != "https://web.whatsapp.com" || CLAIMED.with(|c| c.get()) {
            return;
        }
        let data = ev.data();
        if js_sys::Reflect::get(&data, &"crmsync".into())
            .ok()
            .and_then(|v| v.as_string())
            .as_deref()
            != Some("nonce")
        {
            return;
        }
        let Some(nonce) =
            js_sys::Reflect::get(&data, &"nonce".into()).ok().and_then(|v| v.as_string())
        else {
            return;
        };
        CLAIMED.with(|c| c.set(true));
        wasm_bindgen_futures::spawn_local(async move {
            let ok = match to_js(&Request::PanelClaim { nonce }) {
                Ok(req) => chrome::send_request(&req).await.is_ok(),
                Err(_) => false,
            };
            if ok {
                // Bound: the strict-CSP fallback relays the chat again (earlier relays were refused).
                to_parent("bound");
            } else {
                CLAIMED.with(|c| c.set(false)); // a forged nonce does not block the real one
            }
            refresh(true).await;
        });
    });
    web_sys::window()
        .ok_or_else(|| js_err("no window"))?
        .add_event_listener_with_callback("message", cb.as_ref().unchecked_ref())?;
    cb.forget();
    // Loaded (or reloaded): ask the content script for the nonce.
    to_parent("hello");
    Ok(())
}

/// Track whether the panel is really visible (not covered, not transparent, not transformed):
/// IntersectionObserver v2 `trackVisibility`. Clicks on actions count only while it is.
fn track_visibility(target: &Element) -> Result<(), JsValue> {
    let cb = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
        for e in entries.iter() {
            let v = js_sys::Reflect::get(&e, &"isVisible".into())
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            VISIBLE.with(|x| x.set(v));
        }
    });
    let opts = js_sys::Object::new();
    js_sys::Reflect::set(&opts, &"trackVisibility".into(), &JsValue::TRUE)?;
    js_sys::Reflect::set(&opts, &"delay".into(), &JsValue::from(100))?;
    js_sys::Reflect::set(&opts, &"threshold".into(), &JsValue::from(0))?;
    let ctor: js_sys::Function =
        js_sys::Reflect::get(&js_sys::global(), &"IntersectionObserver".into())?.dyn_into()?;
    let args = js_sys::Array::of2(cb.as_ref(), &opts);
    let obs = js_sys::Reflect::construct(&ctor, &args)?;
    let observe: js_sys::Function = js_sys::Reflect::get(&obs, &"observe".into())?.dyn_into()?;
    observe.call1(&obs, target)?;
    cb.forget();
    // Keep the observer alive with the page.
    js_sys::Reflect::set(&js_sys::global(), &"__crmsync_visibility".into(), &obs)?;
    Ok(())
}

/// A click that counts only while the panel is visible (a covered or transparent frame is
/// being clickjacked); otherwise the rep is told it was ignored.
fn visible_now() -> bool {
    let v = VISIBLE.with(|x| x.get());
    if !v {
        if let Ok(d) = document() {
            set_text(&d, "notice", &tk("clickRefused"));
        }
    }
    v
}

/// The rep's phone region, as the worker's settings say (numbers are shown for it).
fn region() -> String {
    REGION.with(|r| r.borrow().clone())
}

/// What the view builders need besides the state: the time, the zone, the region, the chat.
fn ctx() -> panel::Ctx {
    panel::Ctx {
        now_ms: now_ms(),
        utc_offset_min: dom::utc_offset_min(),
        region: region(),
        chat: CHAT.with(|c| c.borrow().clone()),
    }
}

fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

thread_local! {
    /// The rep's default phone region (from the worker's settings).
    static REGION: std::cell::RefCell<String> = std::cell::RefCell::new("US".into());
    /// The state on screen (its candidates are what `Choose(i)` refers to).
    static STATE: std::cell::RefCell<Option<PanelState>> = const { std::cell::RefCell::new(None) };
    /// The last search's results (what `LinkResult(i)` refers to).
    static RESULTS: std::cell::RefCell<Vec<view::Candidate>> = const { std::cell::RefCell::new(Vec::new()) };
    /// The action waiting for the rep's confirmation.
    static PENDING: std::cell::RefCell<Option<Action>> = const { std::cell::RefCell::new(None) };
    /// The create form's validated request, waiting for the rep's confirmation.
    static PENDING_CREATE: std::cell::RefCell<Option<Request>> = const { std::cell::RefCell::new(None) };
}

/// The one handler every rendered control calls.
fn handler() -> dom::Handler {
    std::rc::Rc::new(|a: &Action, el: &Element| on_action(a, el))
}

fn on_action(a: &Action, el: &Element) {
    let Ok(doc) = document() else { return };
    match a {
        Action::Collapse => collapse(el),
        Action::OpenOptions => chrome::open_options_page(),
        Action::ConfirmNo => close_confirm(&doc),
        Action::BackfillCancel => to_parent("backfill-cancel"),
        Action::SubmitCreate => submit_create(&doc),
        Action::SubmitSearch => submit_search(&doc),
        Action::CreateFor(i) | Action::SearchFor(i) => participant_form(&doc, a, *i),
        _ if !visible_now() => {}
        Action::ConfirmYes => {
            close_confirm(&doc);
            if let Some(a) = PENDING.with(|p| p.borrow_mut().take()) {
                perform(&a);
            }
        }
        Action::SyncNow => sync_now(&doc),
        other => ask(&doc, other.clone(), None),
    }
}

/// Show the confirmation for `a` (naming the chat as the worker knows it), or run it.
fn ask(doc: &Document, a: Action, create_crm: Option<crate::core::model::Crm>) {
    let records = match &a {
        Action::Choose(_) => match STATE.with(|s| s.borrow().clone()) {
            Some(PanelState::Ambiguous { candidates, .. }) => candidates,
            _ => vec![],
        },
        Action::LinkResult(_) => RESULTS.with(|r| r.borrow().clone()),
        _ => vec![],
    };
    let Some(question) = panel::confirm_question(&a, &ctx(), &records, create_crm) else {
        return;
    };
    PENDING.with(|p| *p.borrow_mut() = Some(a));
    if let Some(sec) = doc.get_element_by_id("confirm") {
        let _ = sec.remove_attribute("hidden");
    }
    if let Err(e) = dom::replace(doc, "confirm", panel::confirm_box(question), &handler()) {
        web_sys::console::error_1(&e);
    }
}

fn close_confirm(doc: &Document) {
    if let Some(sec) = doc.get_element_by_id("confirm") {
        sec.set_text_content(None);
        let _ = sec.set_attribute("hidden", "");
    }
}

/// Run a confirmed action.
fn perform(a: &Action) {
    let chat = chat_key();
    let record = |c: &view::Candidate| crate::core::model::RecordRef {
        crm: c.crm,
        kind: match c.kind.as_str() {
            "lead" => crate::core::model::RecordKind::Lead,
            _ => crate::core::model::RecordKind::Contact,
        },
        id: c.id.clone(),
    };
    let req = match a {
        Action::Unlink => Request::Unlink { chat },
        Action::ToggleExclude { excluded } => Request::ExcludeChat { chat, excluded: !excluded },
        Action::BackUpOlder { .. } => Request::BackUpOlder { chat },
        Action::Choose(i) => {
            let Some(PanelState::Ambiguous { candidates, .. }) = STATE.with(|s| s.borrow().clone())
            else {
                return;
            };
            let Some(c) = candidates.get(*i) else { return };
            Request::ChooseCandidate { chat, record: record(c) }
        }
        Action::LinkResult(i) => {
            let Some(c) = RESULTS.with(|r| r.borrow().get(*i).cloned()) else { return };
            Request::LinkRecord { chat, record: record(&c) }
        }
        Action::SubmitCreate => {
            let Some(req) = PENDING_CREATE.with(|p| p.borrow_mut().take()) else { return };
            return create(req);
        }
        Action::BackfillStart => return to_parent("backfill-start"),
        Action::ToggleMask { masked } => Request::MaskChat { chat, masked: *masked },
        _ => return,
    };
    act(req);
}

fn collapse(button: &Element) {
    let Some(body) = document().ok().and_then(|d| d.body()) else { return };
    let collapsed = body.class_list().toggle("collapsed").unwrap_or(false);
    let _ = button.set_attribute("aria-expanded", if collapsed { "false" } else { "true" });
    let _ = button.set_attribute("aria-label", &tk(if collapsed { "expand" } else { "collapse" }));
    // The content script listens for this and shrinks the frame to a tab.
    to_parent(if collapsed { "collapse" } else { "expand" });
}

fn sync_now(doc: &Document) {
    let d = doc.clone();
    set_text(&d, "sync-state", &tk("syncSyncing"));
    wasm_bindgen_futures::spawn_local(async move {
        // The worker replies after the cycle ran (its report is for diagnostics).
        let text = match to_js(&Request::SyncNow) {
            Ok(req) => match chrome::send_message(&req).await {
                Ok(_) => tk("syncIdle"),
                Err(e) => chrome::i18n("syncFailed", &[e.as_string().unwrap_or_default()]),
            },
            Err(e) => chrome::i18n("syncFailed", &[e.as_string().unwrap_or_default()]),
        };
        set_text(&d, "sync-state", &text);
        refresh_soon();
    });
}

fn select_value(doc: &Document, id: &str) -> Option<String> {
    doc.get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlSelectElement>().ok())
        .map(|s| s.value())
}

/// The create form: validated in core, errors next to their field, confirmed, then sent.
fn submit_create(doc: &Document) {
    let fields = view::RecordForm {
        first_name: input_value(doc, "first_name"),
        last_name: input_value(doc, "last_name"),
        phone: input_value(doc, "phone"),
        email: input_value(doc, "email"),
        company: input_value(doc, "company"),
    };
    let kind = select_value(doc, "f-kind").unwrap_or_else(|| "contact".into());
    let crm: crate::core::model::Crm = select_value(doc, "f-crm")
        .and_then(|v| serde_json::from_value(serde_json::Value::String(v)).ok())
        .unwrap_or(crate::core::model::Crm::Zoho);
    for f in ["first_name", "last_name", "phone", "email", "company"] {
        set_text(doc, &format!("err-{f}"), "");
    }
    let errs = view::validate_form(&fields, &kind);
    if !errs.is_empty() {
        for e in &errs {
            set_text(doc, &format!("err-{}", e.field), &chrome::i18n(&e.key, &[]));
        }
        return;
    }
    if !visible_now() {
        return;
    }
    let req = Request::CreateRecord { chat: chat_key(), crm, record_kind: kind, fields };
    PENDING_CREATE.with(|p| *p.borrow_mut() = Some(req));
    ask(doc, Action::SubmitCreate, Some(crm));
}

fn create(req: Request) {
    wasm_bindgen_futures::spawn_local(async move {
        let Ok(d) = document() else { return };
        set_text(&d, "form-status", &tk("working"));
        let text = match send_action(&req).await {
            Ok(r) if r.ok => {
                refresh_soon();
                tk("createDone")
            }
            Ok(r) => {
                for e in &r.field_errors {
                    set_text(&d, &format!("err-{}", e.field), &view::clean_text(&e.key));
                }
                chrome::i18n(r.error.as_deref().unwrap_or("errUnknown"), &[])
            }
            Err(e) => e.as_string().unwrap_or_default(),
        };
        set_text(&d, "form-status", &text);
    })
}

/// Search by name, email or phone; the results get a Link button each.
fn submit_search(doc: &Document) {
    let query = input_value(doc, "query");
    let d = doc.clone();
    wasm_bindgen_futures::spawn_local(async move {
        set_text(&d, "link-status", &tk("working"));
        let text = match send_action(&Request::SearchRecords { query }).await {
            Ok(r) if r.ok => {
                let n = r.candidates.len();
                let items = panel::candidate_items("results", &r.candidates, false);
                RESULTS.with(|x| *x.borrow_mut() = r.candidates);
                if let Err(e) = dom::replace(&d, "results", items, &handler()) {
                    web_sys::console::error_1(&e);
                }
                chrome::i18n("searchFound", &[n.to_string()])
            }
            Ok(r) => chrome::i18n(r.error.as_deref().unwrap_or("errUnknown"), &[]),
            Err(e) => e.as_string().unwrap_or_default(),
        };
        set_text(&d, "link-status", &text);
    });
}

/// A group participant without a record: the create form prefilled with their name and
/// number, or the search with their number, under the participant list.
fn participant_form(doc: &Document, a: &Action, i: usize) {
    let Some(PanelState::Group { participants, .. }) = STATE.with(|s| s.borrow().clone()) else {
        return;
    };
    let Some(p) = participants.get(i) else { return };
    let phone = p.phone.clone().unwrap_or_default();
    let nodes = panel::participant_forms(a, &p.name, &phone);
    if let Err(e) = dom::replace(doc, "participant-action", nodes, &handler()) {
        web_sys::console::error_1(&e);
    }
}

/// A chat without a number: search the CRM by its name at once and list what matches, for
/// the rep to confirm one (linking asks first; nothing is linked by name alone).
fn suggest_records(doc: &Document) -> Result<(), JsValue> {
    // The view filled the search in with the suggestion (`PanelState::LidOnly::suggest`).
    if doc.get_element_by_id("suggested").is_some() {
        if let Some(form) = doc.get_element_by_id("link-form") {
            form.dispatch_event(&web_sys::Event::new("submit")?)?;
        }
    }
    Ok(())
}

async fn send_action(req: &Request) -> Result<ActionReply, JsValue> {
    let reply = chrome::send_message(&to_js(req)?).await?;
    serde_wasm_bindgen::from_value(reply).map_err(|e| js_err(format!("bad reply: {e}")))
}

/// Send an action and show the panel again once the worker has acted.
fn act(req: Request) {
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(r) = send_action(&req).await {
            if !r.ok {
                if let Ok(d) = document() {
                    set_text(
                        &d,
                        "message",
                        &chrome::i18n(r.error.as_deref().unwrap_or("errUnknown"), &[]),
                    );
                }
            }
        }
        refresh_soon();
    });
}

/// `blocked`: the reason the content script could not run wasm, when it could not.
#[wasm_bindgen]
pub async fn panel_main() -> Result<(), JsValue> {
    let doc = document()?;
    apply_theme(None);
    let root = doc.get_element_by_id("app").ok_or_else(|| js_err("panel.html lacks #app"))?;
    root.set_text_content(None);
    dom::render(&doc, &root, &panel::frame(), &handler())?;
    track_visibility(&root)?;
    listen_parent()?;
    refresh(true).await;
    // The open chat and the worker's records change with capture, matching and sync: the
    // worker says so (`panel_changed`), and the slow poll keeps the times current.
    gloo_timers::callback::Interval::new(POLL_MS, || {
        wasm_bindgen_futures::spawn_local(refresh(false))
    })
    .forget();
    Ok(())
}

/// Post a request to the content script in the WhatsApp tab (it checks our origin).
fn to_parent(what: &str) {
    if let Some(parent) = web_sys::window().and_then(|w| w.parent().ok().flatten()) {
        let msg = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&msg, &"crmsync".into(), &what.into());
        let _ = parent.post_message(&msg, "https://web.whatsapp.com");
    }
}

/// The worker says when something changed (`panel_changed`); this slow poll only keeps
/// "Last synced N min ago" current. A fast poll would keep the worker from ever sleeping.
const POLL_MS: u32 = 30_000;

/// The worker changed what the panel may show (a match, a sync, an action): ask again.
#[wasm_bindgen]
pub fn panel_changed() {
    wasm_bindgen_futures::spawn_local(refresh(false));
}

thread_local! {
    /// The last state rendered, so a poll that brings nothing new leaves forms alone.
    static SHOWN: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    /// Refreshes in the order they were asked (core::latest): an answer that took longer (a
    /// lookup for the chat open before) never replaces a later one already shown.
    static ORDER: std::cell::RefCell<crate::core::latest::Latest> = const { std::cell::RefCell::new(crate::core::latest::Latest::new()) };
}

fn refresh_soon() {
    wasm_bindgen_futures::spawn_local(refresh(true));
}

fn apply_theme(theme: Option<&str>) {
    let Some(body) = document().ok().and_then(|d| d.body()) else { return };
    let dark = match theme {
        Some("dark") => true,
        Some("light") => false,
        _ => web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
            .is_some_and(|m| m.matches()),
    };
    let _ = body.class_list().toggle_with_force("dark", dark);
}

#[derive(serde::Deserialize)]
struct PanelSyncReply {
    chat_key: Option<String>,
    chat_name: Option<String>,
    theme: Option<String>,
    blocked: Option<String>,
    #[serde(default)]
    paused: bool,
    /// The rep's default phone region.
    #[serde(default)]
    region: Option<String>,
    state: PanelState,
    #[serde(default)]
    setup: Option<String>,
}

/// Ask the worker for the open chat's state and render it when it changed (or `force`).
async fn refresh(force: bool) {
    let Ok(doc) = document() else { return };
    let Some(state_el) = doc.get_element_by_id("state") else { return };
    let Ok(req) = to_js(&Request::PanelSync) else { return };
    let online = web_sys::window().map(|w| w.navigator().on_line()).unwrap_or(true);
    let ticket = ORDER.with(|o| o.borrow_mut().ticket());
    let reply = chrome::send_message(&req).await;
    if !ORDER.with(|o| o.borrow_mut().act(ticket)) {
        return; // a refresh asked later has been shown already
    }
    let refused = matches!(&reply, Ok(v) if js_sys::Reflect::get(v, &"ok".into()).ok().and_then(|o| o.as_bool()) == Some(false));
    let worker = panel::worker_line(match &reply {
        Ok(_) => Ok(()),
        Err(e) => Err(e.as_string().unwrap_or_default()),
    });
    set_text(&doc, "worker", &dom::text(&worker));
    let v = match reply {
        Ok(v) if !refused => v,
        _ => {
            // Not the frame this tab's content script inserted (or not yet bound): nothing.
            CHAT.with(|c| *c.borrow_mut() = None);
            if state_el.get_attribute("data-view").as_deref() != Some("unbound") {
                let unbound = crate::core::ui::Node::new(crate::core::ui::Tag::P)
                    .id("message")
                    .key("panelUnbound");
                dom::replace(&doc, "state", vec![unbound], &handler()).ok();
                state_el.set_attribute("data-view", "unbound").ok();
                SHOWN.with(|s| s.borrow_mut().clear());
            }
            if let Some(b) = doc.get_element_by_id("backfill") {
                b.set_attribute("hidden", "").ok();
            }
            return;
        }
    };
    let reply = match serde_wasm_bindgen::from_value::<PanelSyncReply>(v) {
        Ok(s) => s,
        Err(e) => {
            state_el.set_text_content(Some(&format!("{e}")));
            return;
        }
    };
    if let Some(b) = doc.get_element_by_id("backfill") {
        b.remove_attribute("hidden").ok();
    }
    CHAT.with(|c| {
        *c.borrow_mut() =
            reply.chat_key.clone().map(|k| (k, reply.chat_name.clone().unwrap_or_default()))
    });
    apply_theme(reply.theme.as_deref());
    if let Some(r) = reply.region.filter(|r| !r.is_empty()) {
        REGION.with(|x| *x.borrow_mut() = r);
    }
    let capture = match (panel::capture_line(reply.blocked.as_deref()), reply.paused) {
        (Some(line), _) => dom::text(&line),
        (None, true) => dom::text(&crate::core::status::capture_paused_line()),
        (None, false) => String::new(),
    };
    set_text(&doc, "capture", &capture);
    set_text(&doc, "setup-notice", reply.setup.as_deref().unwrap_or_default());
    let state = reply.state;
    // Offline is the browser's to say: the line under the card reflects it at once.
    let state = match state {
        PanelState::Linked { card, deals, last_synced_ms, older, masking, saved, .. }
            if !online =>
        {
            PanelState::Linked {
                card,
                deals,
                last_synced_ms,
                sync: view::SyncState::Offline,
                older,
                masking,
                saved,
            }
        }
        s => s,
    };
    let key = format!("{}|{}", chat_key(), serde_json::to_string(&state).unwrap_or_default());
    let same = SHOWN.with(|s| *s.borrow() == key);
    // A poll never wipes a form being filled in; an explicit refresh (action, chat switch) does.
    if same && !force {
        return;
    }
    if !force
        && doc.active_element().is_some_and(|a| matches!(a.tag_name().as_str(), "INPUT" | "SELECT"))
    {
        return;
    }
    SHOWN.with(|s| *s.borrow_mut() = key);
    state_el.set_attribute("data-view", panel::view_name(&state)).ok();
    let nodes = panel::state(&state, &ctx());
    let suggested = matches!(&state, PanelState::LidOnly { suggest: Some(_), .. });
    STATE.with(|s| *s.borrow_mut() = Some(state));
    if let Err(e) = dom::replace(&doc, "state", nodes, &handler()) {
        web_sys::console::error_1(&e);
    }
    if suggested {
        if let Err(e) = suggest_records(&doc) {
            web_sys::console::error_1(&e);
        }
    }
}

thread_local! {
    /// The relay's capture session for this panel's tab.
    static RELAY: std::cell::RefCell<crate::capture::Session> = std::cell::RefCell::new(crate::capture::Session::new(0));
}

/// Runtime messages from this tab's content script (checked: this extension, a WhatsApp tab,
/// the tab this frame is in, its top frame): the guided backfill's progress, and in the
/// strict-CSP fallback the chat's HTML, parsed here with the same Rust scraper and handed to
/// the worker. Other senders are ignored.
#[wasm_bindgen]
pub async fn panel_runtime(
    message: JsValue,
    sender: JsValue,
    own_tab: Option<u32>,
) -> Result<(), JsValue> {
    use crate::protocol::Sender;
    let from = super::worker::sender_of(&sender);
    let ours = matches!(from, Sender::WhatsAppTab { tab, frame: 0 } if own_tab.is_some_and(|o| o as i64 == tab));
    if !ours {
        return Ok(());
    }
    match serde_wasm_bindgen::from_value::<Request>(message) {
        Ok(Request::BackfillProgress { progress }) => {
            if CHAT.with(|c| c.borrow().is_some()) {
                dom::replace(&document()?, "backfill", panel::backfill(&progress), &handler())?;
            }
            Ok(())
        }
        Ok(Request::Relay { header, rows, locale }) => relay(header, rows, locale).await,
        _ => Ok(()),
    }
}

thread_local! {
    /// The chat the relay last reported to the worker.
    static RELAY_REPORTED: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

async fn relay(header: String, rows: String, locale: String) -> Result<(), JsValue> {
    let Some(identity) = crate::capture::parse_header(&header) else { return Ok(()) };
    let (fresh, paused) = RELAY.with(|r| {
        let mut s = r.borrow_mut();
        if s.identity.as_ref().map(|i| i.chat_key()) != Some(identity.chat_key()) {
            super::content::set_page(&mut s);
            s.open_chat(identity.clone(), &locale);
        }
        let fresh = s.ingest(&rows);
        if let Ok(v) = to_js(&s.counters) {
            let _ = js_sys::Reflect::set(&js_sys::global(), &"__crmsync_relay".into(), &v);
        }
        (fresh, s.health().paused)
    });
    // Not taken (this frame not bound yet, or the worker restarting): the next relay sends them again.
    let forget = |ms: &[crate::core::model::Message]| {
        let keys: Vec<String> = ms.iter().map(|m| m.key.clone()).collect();
        RELAY.with(|r| r.borrow_mut().forget(&keys));
    };
    let key = format!("{}|{paused}", identity.chat_key());
    if RELAY_REPORTED.with(|r| r.borrow().as_deref() != Some(key.as_str())) {
        if let Err(e) = chrome::send_request(&to_js(&Request::ChatOpened {
            identity: identity.clone(),
            theme: None,
            paused,
        })?)
        .await
        {
            forget(&fresh);
            return Err(e);
        }
        RELAY_REPORTED.with(|r| *r.borrow_mut() = Some(key));
    }
    for chunk in fresh.chunks(crate::protocol::limits::MAX_MESSAGES) {
        if let Err(e) = chrome::send_request(&to_js(&Request::Captured {
            identity: identity.clone(),
            messages: chunk.to_vec(),
        })?)
        .await
        {
            RELAY_REPORTED.with(|r| *r.borrow_mut() = None);
            forget(chunk);
            return Err(e);
        }
    }
    Ok(())
}
