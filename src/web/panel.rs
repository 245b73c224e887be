//! The Mini-CRM panel frame (extension origin). Renders a `view::PanelState` from the worker
//! with DOM APIs only (text nodes, attributes): CRM text can never become markup.
//! Frame URL hash: `chat=<chat key>`, `theme=dark|light`, `blocked=<reason>`.
use super::{chrome, js_err, to_js};
use crate::core::protocol::{ActionReply, Request};
use crate::core::status;
use crate::core::view::{self, Msg, PanelState};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element};

pub(crate) fn document() -> Result<Document, JsValue> {
    web_sys::window().and_then(|w| w.document()).ok_or_else(|| js_err("no document"))
}

fn t(m: &Msg) -> String {
    chrome::i18n(m.key, &m.args)
}

pub(crate) fn tk(key: &'static str) -> String {
    chrome::i18n(key, &[])
}

/// Append an element with text (CRM text is cleaned of bidi overrides, then set as text).
pub(crate) fn el(doc: &Document, parent: &Element, tag: &str, id: Option<&str>, text: Option<&str>) -> Result<Element, JsValue> {
    let e = doc.create_element(tag)?;
    if let Some(id) = id {
        e.set_id(id);
    }
    if let Some(text) = text {
        e.set_text_content(Some(&view::clean_text(text)));
    }
    parent.append_child(&e)?;
    Ok(e)
}

pub(crate) fn button(doc: &Document, parent: &Element, id: &str, label: &str) -> Result<Element, JsValue> {
    let b = el(doc, parent, "button", Some(id), Some(label))?;
    b.set_attribute("type", "button")?;
    Ok(b)
}

pub(crate) fn on_click(e: &Element, f: impl FnMut() + 'static) -> Result<(), JsValue> {
    let cb = Closure::<dyn FnMut()>::new(f);
    e.add_event_listener_with_callback("click", cb.as_ref().unchecked_ref())?;
    cb.forget(); // lives as long as the element (the page)
    Ok(())
}

thread_local! {
    /// The open chat as the content script last told it (overrides the URL's hash).
    static CHAT_HASH: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

fn hash_param(name: &str) -> Option<String> {
    let hash = match CHAT_HASH.with(|h| h.borrow().clone()) {
        Some(h) => h,
        None => web_sys::window()?.location().hash().ok()?,
    };
    let params = web_sys::UrlSearchParams::new_with_str(hash.trim_start_matches('#')).ok()?;
    params.get(name)
}

/// Messages from the content script of the WhatsApp tab this frame is in: the open chat.
fn listen_parent() -> Result<(), JsValue> {
    let cb = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
        if ev.origin() != "https://web.whatsapp.com" {
            return;
        }
        let data = ev.data();
        if js_sys::Reflect::get(&data, &"crmsync".into()).ok().and_then(|v| v.as_string()).as_deref() != Some("chat") {
            return;
        }
        let Some(hash) = js_sys::Reflect::get(&data, &"hash".into()).ok().and_then(|v| v.as_string()) else { return };
        CHAT_HASH.with(|h| *h.borrow_mut() = Some(hash));
        apply_theme();
        wasm_bindgen_futures::spawn_local(refresh(true));
    });
    web_sys::window().ok_or_else(|| js_err("no window"))?.add_event_listener_with_callback("message", cb.as_ref().unchecked_ref())?;
    cb.forget();
    // Loaded (or reloaded): ask which chat is open.
    to_parent("hello");
    Ok(())
}

fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

pub(crate) fn field(doc: &Document, form: &Element, name: &str, label_key: &'static str, value: &str) -> Result<(), JsValue> {
    let id = format!("f-{name}");
    let row = el(doc, form, "div", None, None)?;
    row.set_class_name("field");
    let label = el(doc, &row, "label", None, Some(&tk(label_key)))?;
    label.set_attribute("for", &id)?;
    let input = el(doc, &row, "input", Some(&id), None)?;
    input.set_attribute("name", name)?;
    input.set_attribute("aria-describedby", &format!("err-{name}"))?;
    input.unchecked_ref::<web_sys::HtmlInputElement>().set_value(&view::clean_text(value));
    let err = el(doc, &row, "span", Some(&format!("err-{name}")), None)?;
    err.set_class_name("error");
    Ok(())
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

/// The create form: validated in Rust, errors next to their field, then sent to the worker.
fn create_form(doc: &Document, root: &Element, name: &str, phone: &str, crms: &[crate::core::model::Crm]) -> Result<(), JsValue> {
    let form = el(doc, root, "form", Some("create-form"), None)?;
    form.set_attribute("aria-labelledby", "create-title")?;
    form.set_attribute("novalidate", "")?;
    el(doc, &form, "h3", Some("create-title"), Some(&tk("createTitle")))?;
    let pre = view::prefill(name, phone);
    let kind_row = el(doc, &form, "div", None, None)?;
    kind_row.set_class_name("field");
    let kl = el(doc, &kind_row, "label", None, Some(&tk("fieldKind")))?;
    kl.set_attribute("for", "f-kind")?;
    let sel = el(doc, &kind_row, "select", Some("f-kind"), None)?;
    for (v, key) in [("contact", "kindContact"), ("lead", "kindLead")] {
        let o = el(doc, &sel, "option", None, Some(&tk(key)))?;
        o.set_attribute("value", v)?;
    }
    // Which CRM the record goes to, when several are connected.
    let crm_row = el(doc, &form, "div", None, None)?;
    crm_row.set_class_name("field");
    el(doc, &crm_row, "label", None, Some(&tk("fieldCrm")))?.set_attribute("for", "f-crm")?;
    let crm_sel = el(doc, &crm_row, "select", Some("f-crm"), None)?;
    for c in crms {
        let o = el(doc, &crm_sel, "option", None, Some(c.name()))?;
        o.set_attribute("value", &serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default())?;
    }
    field(doc, &form, "first_name", "fieldFirstName", &pre.first_name)?;
    field(doc, &form, "last_name", "fieldLastName", &pre.last_name)?;
    field(doc, &form, "phone", "fieldPhone", &pre.phone)?;
    field(doc, &form, "email", "fieldEmail", "")?;
    field(doc, &form, "company", "fieldCompany", "")?;
    let submit = el(doc, &form, "button", Some("create-submit"), Some(&tk("createSubmit")))?;
    submit.set_attribute("type", "submit")?;
    el(doc, &form, "p", Some("form-status"), None)?.set_attribute("role", "status")?;
    let d = doc.clone();
    let cb = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
        ev.prevent_default();
        let fields = view::RecordForm {
            first_name: input_value(&d, "first_name"),
            last_name: input_value(&d, "last_name"),
            phone: input_value(&d, "phone"),
            email: input_value(&d, "email"),
            company: input_value(&d, "company"),
        };
        let select = |id: &str| d.get_element_by_id(id).and_then(|e| e.dyn_into::<web_sys::HtmlSelectElement>().ok()).map(|s| s.value());
        let kind = select("f-kind").unwrap_or_else(|| "contact".into());
        let crm: crate::core::model::Crm = select("f-crm")
            .and_then(|v| serde_json::from_value(serde_json::Value::String(v)).ok())
            .unwrap_or(crate::core::model::Crm::Zoho);
        for f in ["first_name", "last_name", "phone", "email", "company"] {
            set_text(&d, &format!("err-{f}"), "");
        }
        let errs = view::validate_form(&fields, &kind);
        if !errs.is_empty() {
            for e in &errs {
                set_text(&d, &format!("err-{}", e.field), &chrome::i18n(&e.key, &[]));
            }
            return;
        }
        let d2 = d.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let chat = hash_param("chat").unwrap_or_default();
            let req = Request::CreateRecord { chat, crm, record_kind: kind, fields };
            set_text(&d2, "form-status", &tk("working"));
            let text = match send_action(&req).await {
                Ok(r) if r.ok => {
                    refresh_soon();
                    tk("createDone")
                }
                Ok(r) => {
                    for e in &r.field_errors {
                        set_text(&d2, &format!("err-{}", e.field), &view::clean_text(&e.key));
                    }
                    chrome::i18n(r.error.as_deref().unwrap_or("errUnknown"), &[])
                }
                Err(e) => e.as_string().unwrap_or_default(),
            };
            set_text(&d2, "form-status", &text);
        });
    });
    form.add_event_listener_with_callback("submit", cb.as_ref().unchecked_ref())?;
    cb.forget();

    // Link an existing record: search by name, email or phone.
    let search = el(doc, root, "form", Some("link-form"), None)?;
    search.set_attribute("role", "search")?;
    el(doc, &search, "h3", None, Some(&tk("linkTitle")))?;
    field(doc, &search, "query", "fieldSearch", "")?;
    let sb = el(doc, &search, "button", Some("link-search"), Some(&tk("linkSearch")))?;
    sb.set_attribute("type", "submit")?;
    el(doc, &search, "p", Some("link-status"), None)?.set_attribute("role", "status")?;
    el(doc, &search, "ul", Some("results"), None)?;
    let d = doc.clone();
    let cb = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
        ev.prevent_default();
        let query = input_value(&d, "query");
        let d2 = d.clone();
        wasm_bindgen_futures::spawn_local(async move {
            set_text(&d2, "link-status", &tk("working"));
            let text = match send_action(&Request::SearchRecords { query }).await {
                Ok(r) if r.ok => {
                    let n = r.candidates.len();
                    if let Err(e) = candidate_list(&d2, "results", &r.candidates, false) {
                        web_sys::console::error_1(&e);
                    }
                    chrome::i18n("searchFound", &[n.to_string()])
                }
                Ok(r) => chrome::i18n(r.error.as_deref().unwrap_or("errUnknown"), &[]),
                Err(e) => e.as_string().unwrap_or_default(),
            };
            set_text(&d2, "link-status", &text);
        });
    });
    search.add_event_listener_with_callback("submit", cb.as_ref().unchecked_ref())?;
    cb.forget();
    Ok(())
}

async fn send_action(req: &Request) -> Result<ActionReply, JsValue> {
    let reply = chrome::send_message(&to_js(req)?).await?;
    serde_wasm_bindgen::from_value(reply).map_err(|e| js_err(format!("bad reply: {e}")))
}

fn render_linked(
    doc: &Document,
    root: &Element,
    card: &view::ContactCard,
    deals: &[view::DealRow],
    last: Option<i64>,
    sync: &view::SyncState,
) -> Result<(), JsValue> {
    let sec = el(doc, root, "section", Some("card"), None)?;
    sec.set_attribute("aria-labelledby", "card-name")?;
    let badge = el(doc, &sec, "span", Some("crm-badge"), Some(card.crm.name()))?;
    badge.set_class_name("badge");
    el(doc, &sec, "h2", Some("card-name"), Some(&card.name))?;
    let dl = el(doc, &sec, "dl", None, None)?;
    let rows: [(&str, &'static str, Option<String>); 6] = [
        ("card-company", "labelCompany", card.company.clone()),
        ("card-title", "labelTitle", card.title.clone()),
        ("card-email", "labelEmail", card.email.clone()),
        ("card-phones", "labelPhones", (!card.phones.is_empty()).then(|| card.phones.join(", "))),
        ("card-owner", "labelOwner", card.owner.clone()),
        ("card-status", "labelStatus", card.status.clone()),
    ];
    for (id, key, value) in rows {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            el(doc, &dl, "dt", None, Some(&tk(key)))?;
            el(doc, &dl, "dd", Some(id), Some(&v))?;
        }
    }
    if let Some(url) = card.url.as_deref().and_then(|u| view::safe_record_url(card.crm, u)) {
        let a = el(doc, &sec, "a", Some("open-record"), Some(&chrome::i18n("openInCrm", &[card.crm.name().to_string()])))?;
        a.set_attribute("href", &url)?;
        a.set_attribute("target", "_blank")?;
        a.set_attribute("rel", "noopener noreferrer")?;
    }
    if !deals.is_empty() {
        el(doc, root, "h3", Some("deals-title"), Some(&tk("dealsTitle")))?;
        let ul = el(doc, root, "ul", Some("deals"), None)?;
        for d in deals.iter().take(view::MAX_DEALS) {
            let li = el(doc, &ul, "li", None, None)?;
            el(doc, &li, "span", None, Some(&d.name))?.set_class_name("deal-name");
            let mut bits = vec![];
            if let Some(s) = &d.stage {
                bits.push(s.clone());
            }
            if let Some(a) = d.amount {
                bits.push(view::format_amount(a, d.currency.as_deref()));
            }
            if let Some(c) = d.close_date.as_deref().and_then(view::format_date) {
                bits.push(chrome::i18n("dealCloses", &[c]));
            }
            el(doc, &li, "span", None, Some(&bits.join(" · ")))?.set_class_name("deal-meta");
        }
    }
    let now = now_ms();
    let ls = el(doc, root, "p", Some("last-synced"), Some(&t(&view::last_synced(now, last))))?;
    if let Some(ms) = last {
        ls.set_attribute("title", &view::absolute_utc(ms))?;
    }
    let line = el(doc, root, "p", Some("sync-state"), Some(&t(&view::sync_line(now, sync))))?;
    line.set_attribute("aria-live", "polite")?;
    line.set_attribute("role", "status")?;
    if view::needs_reconnect(sync) {
        let b = button(doc, root, "reconnect", &tk("reconnect"))?;
        on_click(&b, open_options)?;
    }
    let b = button(doc, root, "sync-now", &tk("syncNow"))?;
    let d = doc.clone();
    on_click(&b, move || {
        let d = d.clone();
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
    })?;
    let u = button(doc, root, "unlink", &tk("unlink"))?;
    u.set_class_name("secondary");
    on_click(&u, || act(Request::Unlink { chat: hash_param("chat").unwrap_or_default() }))?;
    Ok(())
}

/// Messages from before the backup window: how many and from which days, and the rep's
/// choice to back them up (they are never counted as waiting).
fn render_older(doc: &Document, root: &Element, older: Option<&crate::core::outbox::OlderMessages>) -> Result<(), JsValue> {
    let Some(o) = older else { return Ok(()) };
    el(doc, root, "p", Some("older"), Some(&t(&view::older_line(o))))?;
    let b = button(doc, root, "back-up-older", &tk("backUpOlder"))?;
    b.set_class_name("secondary");
    on_click(&b, || act(Request::BackUpOlder { chat: hash_param("chat").unwrap_or_default() }))?;
    Ok(())
}

/// Send an action and show the panel again once the worker has acted.
fn act(req: Request) {
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(r) = send_action(&req).await {
            if !r.ok {
                if let Some(d) = document().ok() {
                    set_text(&d, "message", &chrome::i18n(r.error.as_deref().unwrap_or("errUnknown"), &[]));
                }
            }
        }
        refresh_soon();
    });
}

/// A list of records with a button each: choose (chooser) or link (search results).
fn candidate_list(doc: &Document, id: &str, candidates: &[view::Candidate], choose: bool) -> Result<(), JsValue> {
    let ul = doc.get_element_by_id(id).ok_or_else(|| js_err("no list"))?;
    ul.set_text_content(None);
    for (i, c) in candidates.iter().enumerate() {
        let li = el(doc, &ul, "li", None, None)?;
        el(doc, &li, "span", None, Some(&format!("{} · {} · {}", c.name, c.crm.name(), c.kind)))?.set_class_name("deal-name");
        if let Some(d) = &c.detail {
            el(doc, &li, "span", None, Some(d))?.set_class_name("deal-meta");
        }
        let label = tk(if choose { "choose" } else { "link" });
        let b = button(doc, &li, &format!("{id}-{i}"), &label)?;
        b.set_attribute("aria-label", &format!("{label}: {}", view::clean_text(&c.name)))?;
        let kind = match c.kind.as_str() {
            "lead" => crate::core::model::RecordKind::Lead,
            _ => crate::core::model::RecordKind::Contact,
        };
        let record = crate::core::model::RecordRef { crm: c.crm, kind, id: c.id.clone() };
        on_click(&b, move || {
            let chat = hash_param("chat").unwrap_or_default();
            let record = record.clone();
            act(if choose { Request::ChooseCandidate { chat, record } } else { Request::LinkRecord { chat, record } });
        })?;
    }
    Ok(())
}

fn exclude_button(doc: &Document, root: &Element, excluded: bool) -> Result<(), JsValue> {
    let b = button(doc, root, "exclude", &tk(if excluded { "includeChat" } else { "excludeChat" }))?;
    b.set_class_name("secondary");
    on_click(&b, move || act(Request::ExcludeChat { chat: hash_param("chat").unwrap_or_default(), excluded: !excluded }))
}

fn open_options() {
    chrome::open_options_page();
}

fn render(doc: &Document, root: &Element, state: &PanelState) -> Result<(), JsValue> {
    match state {
        PanelState::NotConnected => {
            el(doc, root, "p", Some("message"), Some(&tk("notConnected")))?;
            let b = button(doc, root, "open-options", &tk("openOptions"))?;
            on_click(&b, open_options)?;
        }
        PanelState::Connecting => {
            el(doc, root, "p", Some("message"), Some(&tk("connecting")))?.set_attribute("aria-busy", "true")?;
        }
        PanelState::NoChat => {
            el(doc, root, "p", Some("message"), Some(&tk("noChat")))?;
        }
        PanelState::Linked { card, deals, last_synced_ms, sync, older } => {
            render_linked(doc, root, card, deals, *last_synced_ms, sync)?;
            render_older(doc, root, older.as_ref())?;
        }
        PanelState::Unknown { name, phone, crms } => {
            el(doc, root, "p", Some("message"), Some(&chrome::i18n("unknownNumber", &[view::clean_text(phone)])))?;
            create_form(doc, root, name, phone, crms)?;
            exclude_button(doc, root, false)?;
        }
        PanelState::Ambiguous { name, candidates } => {
            el(doc, root, "p", Some("message"), Some(&chrome::i18n("ambiguous", &[view::clean_text(name)])))?;
            el(doc, root, "ul", Some("candidates"), None)?;
            candidate_list(doc, "candidates", candidates, true)?;
        }
        PanelState::Group { name, participants, backup_to, older } => {
            el(doc, root, "h2", Some("group-name"), Some(name))?;
            el(doc, root, "h3", None, Some(&tk("groupLinked")))?;
            let ul = el(doc, root, "ul", Some("participants"), None)?;
            for p in participants {
                let mut s = p.name.clone();
                if let Some(r) = &p.record {
                    s = format!("{s} → {r}");
                }
                el(doc, &ul, "li", None, Some(&s))?;
            }
            let to = if backup_to.is_empty() { tk("groupNoBackup") } else { chrome::i18n("groupBackupTo", &[backup_to.join(", ")]) };
            el(doc, root, "p", Some("group-backup"), Some(&to))?;
            render_older(doc, root, older.as_ref())?;
            exclude_button(doc, root, false)?;
        }
        PanelState::LidOnly { name } => {
            el(doc, root, "p", Some("message"), Some(&chrome::i18n("lidOnly", &[view::clean_text(name)])))?;
            create_form(doc, root, name, "", &[crate::core::model::Crm::Zoho, crate::core::model::Crm::Salesforce, crate::core::model::Crm::Leadsquared])?;
        }
        PanelState::CaptureBlocked { reason } => {
            el(doc, root, "p", Some("message"), Some(&status::capture_blocked_line(reason)))?;
        }
        PanelState::Excluded { name } => {
            el(doc, root, "p", Some("message"), Some(&chrome::i18n("excluded", &[view::clean_text(name)])))?;
            exclude_button(doc, root, true)?;
        }
    }
    Ok(())
}

/// `blocked`: the reason the content script could not run wasm, when it could not.
#[wasm_bindgen]
pub async fn panel_main(blocked: Option<String>) -> Result<(), JsValue> {
    let doc = document()?;
    let body = doc.body().ok_or_else(|| js_err("no body"))?;
    apply_theme();
    let root = doc.get_element_by_id("app").ok_or_else(|| js_err("panel.html lacks #app"))?;
    root.set_text_content(None);
    let header = el(&doc, &root, "header", None, None)?;
    el(&doc, &header, "span", Some("product"), Some(&status::product_line()))?;
    let collapse = button(&doc, &header, "collapse", "−")?;
    collapse.set_attribute("aria-label", &tk("collapse"))?;
    collapse.set_attribute("aria-expanded", "true")?;
    let (b2, c2) = (body.clone(), collapse.clone());
    on_click(&collapse, move || {
        let collapsed = b2.class_list().toggle("collapsed").unwrap_or(false);
        let _ = c2.set_attribute("aria-expanded", if collapsed { "false" } else { "true" });
        let _ = c2.set_attribute("aria-label", &tk(if collapsed { "expand" } else { "collapse" }));
        // The content script listens for this and shrinks the frame to a tab.
        if let Some(parent) = web_sys::window().and_then(|w| w.parent().ok().flatten()) {
            let msg = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&msg, &"crmsync".into(), &(if collapsed { "collapse" } else { "expand" }).into());
            let _ = parent.post_message(&msg, "https://web.whatsapp.com");
        }
    })?;
    el(&doc, &root, "section", Some("state"), None)?;
    if let Some(reason) = &blocked {
        el(&doc, &root, "p", Some("capture"), Some(&status::capture_blocked_line(reason)))?;
    }
    backfill_section(&doc, &root)?;
    el(&doc, &root, "p", Some("worker"), None)?.set_class_name("muted");
    listen_parent()?;
    refresh(true).await;
    // The open chat changes with the frame's hash; the worker's records change with
    // matching and sync: show both as they happen (re-rendered only when they differ).
    let on_hash = Closure::<dyn FnMut()>::new(|| {
        apply_theme();
        wasm_bindgen_futures::spawn_local(refresh(true));
    });
    web_sys::window().ok_or_else(|| js_err("no window"))?.add_event_listener_with_callback("hashchange", on_hash.as_ref().unchecked_ref())?;
    on_hash.forget();
    gloo_timers::callback::Interval::new(POLL_MS, || wasm_bindgen_futures::spawn_local(refresh(false))).forget();
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

/// The guided backfill: a start button, then progress with cancel, then what was covered.
fn backfill_section(doc: &Document, root: &Element) -> Result<(), JsValue> {
    let sec = el(doc, root, "section", Some("backfill"), None)?;
    sec.set_attribute("aria-labelledby", "backfill-start")?;
    let b = button(doc, &sec, "backfill-start", &tk("backfillStart"))?;
    b.set_class_name("secondary");
    on_click(&b, || to_parent("backfill-start"))?;
    let d = doc.clone();
    let cb = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
        if ev.origin() != "https://web.whatsapp.com" {
            return;
        }
        let data = ev.data();
        if js_sys::Reflect::get(&data, &"crmsync".into()).ok().and_then(|v| v.as_string()).as_deref() != Some("backfill") {
            return;
        }
        let Some(p) = js_sys::Reflect::get(&data, &"progress".into()).ok().and_then(|p| serde_wasm_bindgen::from_value::<crate::core::backfill::Progress>(p).ok()) else {
            return;
        };
        if let Err(e) = render_backfill(&d, &p) {
            web_sys::console::error_1(&e);
        }
    });
    web_sys::window().ok_or_else(|| js_err("no window"))?.add_event_listener_with_callback("message", cb.as_ref().unchecked_ref())?;
    cb.forget();
    Ok(())
}

fn render_backfill(doc: &Document, p: &crate::core::backfill::Progress) -> Result<(), JsValue> {
    use crate::core::backfill::Outcome;
    let sec = doc.get_element_by_id("backfill").ok_or_else(|| js_err("no backfill section"))?;
    sec.set_text_content(None);
    el(doc, &sec, "h3", None, Some(&tk("backfillTitle")))?;
    let bar = el(doc, &sec, "progress", Some("backfill-progress"), None)?;
    bar.set_attribute("max", &p.total.max(1).to_string())?;
    bar.set_attribute("value", &p.done.to_string())?;
    bar.set_attribute("aria-label", &tk("backfillTitle"))?;
    let line = match (&p.current, p.finished) {
        (_, true) => chrome::i18n("backfillDone", &[p.done.to_string(), p.total.to_string()]),
        (Some(c), false) => chrome::i18n("backfillCurrent", &[view::clean_text(c), (p.done + 1).to_string(), p.total.to_string()]),
        (None, false) => tk("working"),
    };
    el(doc, &sec, "p", Some("backfill-status"), Some(&line))?.set_attribute("role", "status")?;
    if !p.finished {
        let c = button(doc, &sec, "backfill-cancel", &tk("backfillCancel"))?;
        c.set_class_name("secondary");
        on_click(&c, || to_parent("backfill-cancel"))?;
    }
    let ul = el(doc, &sec, "ul", Some("backfill-results"), None)?;
    for (title, outcome) in &p.results {
        let t = view::clean_text(title);
        let text = match outcome {
            Outcome::Covered { messages } => chrome::i18n("backfillCovered", &[t, messages.to_string()]),
            Outcome::HistoryEnds { messages, oldest } => chrome::i18n("backfillHistoryEnds", &[t, oldest.clone().unwrap_or_else(|| "—".into()), messages.to_string()]),
            Outcome::NotOpened { reason } => chrome::i18n("backfillNotOpened", &[t, reason.clone()]),
            Outcome::Cancelled => chrome::i18n("backfillCancelled", &[t]),
        };
        el(doc, &ul, "li", None, Some(&text))?;
    }
    if !p.unreadable.is_empty() {
        let names: Vec<String> = p.unreadable.iter().map(|n| view::clean_text(n)).collect();
        el(doc, &sec, "p", Some("backfill-unreadable"), Some(&chrome::i18n("backfillUnreadable", &[names.join(", ")])))?.set_class_name("muted");
    }
    if p.finished {
        let b = button(doc, &sec, "backfill-start", &tk("backfillStart"))?;
        b.set_class_name("secondary");
        on_click(&b, || to_parent("backfill-start"))?;
    }
    Ok(())
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
}

fn refresh_soon() {
    wasm_bindgen_futures::spawn_local(refresh(true));
}

fn apply_theme() {
    let Some(body) = document().ok().and_then(|d| d.body()) else { return };
    let dark = match hash_param("theme").as_deref() {
        Some("dark") => true,
        Some("light") => false,
        _ => web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
            .is_some_and(|m| m.matches()),
    };
    let _ = body.class_list().toggle_with_force("dark", dark);
}

/// Ask the worker for the open chat's state and render it when it changed (or `force`).
async fn refresh(force: bool) {
    let Ok(doc) = document() else { return };
    let Some(state_el) = doc.get_element_by_id("state") else { return };
    let req = Request::PanelView { chat: hash_param("chat"), name: hash_param("name") };
    let Ok(req) = to_js(&req) else { return };
    let online = web_sys::window().map(|w| w.navigator().on_line()).unwrap_or(true);
    let reply = chrome::send_message(&req).await;
    let worker_line = match &reply {
        Ok(_) => tk("workerRunning"),
        Err(e) => chrome::i18n("workerDown", &[e.as_string().unwrap_or_default()]),
    };
    set_text(&doc, "worker", &worker_line);
    let Ok(v) = reply else { return };
    let state = match serde_wasm_bindgen::from_value::<PanelState>(v) {
        Ok(s) => s,
        Err(e) => {
            state_el.set_text_content(Some(&format!("{e}")));
            return;
        }
    };
    // Offline is the browser's to say: the line under the card reflects it at once.
    let state = match state {
        PanelState::Linked { card, deals, last_synced_ms, older, .. } if !online => PanelState::Linked { card, deals, last_synced_ms, sync: view::SyncState::Offline, older },
        s => s,
    };
    let key = format!("{}|{}", hash_param("chat").unwrap_or_default(), serde_json::to_string(&state).unwrap_or_default());
    let same = SHOWN.with(|s| *s.borrow() == key);
    // A poll never wipes a form being filled in; an explicit refresh (action, chat switch) does.
    if same && !force {
        return;
    }
    if !force && doc.active_element().is_some_and(|a| matches!(a.tag_name().as_str(), "INPUT" | "SELECT")) {
        return;
    }
    SHOWN.with(|s| *s.borrow_mut() = key);
    state_el.set_text_content(None);
    state_el.set_attribute("data-view", view_name(&state)).ok();
    if let Err(e) = render(&doc, &state_el, &state) {
        web_sys::console::error_1(&e);
    }
}

fn view_name(s: &PanelState) -> &'static str {
    match s {
        PanelState::NotConnected => "not_connected",
        PanelState::Connecting => "connecting",
        PanelState::NoChat => "no_chat",
        PanelState::Linked { .. } => "linked",
        PanelState::Unknown { .. } => "unknown",
        PanelState::Ambiguous { .. } => "ambiguous",
        PanelState::Group { .. } => "group",
        PanelState::LidOnly { .. } => "lid_only",
        PanelState::CaptureBlocked { .. } => "capture_blocked",
        PanelState::Excluded { .. } => "excluded",
    }
}

thread_local! {
    /// The relay's capture session for this panel's tab.
    static RELAY: std::cell::RefCell<crate::capture::Session> = std::cell::RefCell::new(crate::capture::Session::new(0));
}

/// Strict-CSP fallback: parse the chat HTML the content script relayed, with the same Rust
/// scraper, and hand the messages to the worker. Accepts only this extension's content
/// script in the tab this frame lives in.
#[wasm_bindgen]
pub async fn panel_relay(message: JsValue, sender: JsValue, own_tab: Option<u32>) -> Result<(), JsValue> {
    let Ok(Request::Relay { header, rows, locale }) = serde_wasm_bindgen::from_value::<Request>(message) else {
        return Ok(()); // not for the panel
    };
    let get = |k: &str| js_sys::Reflect::get(&sender, &k.into()).ok();
    let id = get("id").and_then(|v| v.as_string());
    let url = get("url").and_then(|v| v.as_string());
    let tab = get("tab").filter(|t| t.is_object());
    let tab_id = tab.as_ref().and_then(|t| js_sys::Reflect::get(t, &"id".into()).ok()).and_then(|v| v.as_f64()).map(|v| v as u32);
    let from = crate::core::protocol::classify_sender(&chrome::runtime_id(), id.as_deref(), url.as_deref(), tab.is_some());
    if from != crate::core::protocol::Sender::WhatsAppTab || own_tab.is_none() || tab_id != own_tab {
        return Ok(());
    }
    let Some(identity) = crate::capture::parse_header(&header) else { return Ok(()) };
    let fresh = RELAY.with(|r| {
        let mut s = r.borrow_mut();
        if s.identity.as_ref().map(|i| i.chat_key()) != Some(identity.chat_key()) {
            s.open_chat(identity.clone(), &locale);
        }
        let fresh = s.ingest(&rows);
        if let Ok(v) = to_js(&s.counters) {
            let _ = js_sys::Reflect::set(&js_sys::global(), &"__crmsync_relay".into(), &v);
        }
        fresh
    });
    if !fresh.is_empty() {
        chrome::send_message(&to_js(&Request::Captured { identity, messages: fresh })?).await?;
    }
    Ok(())
}
