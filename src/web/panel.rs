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

fn document() -> Result<Document, JsValue> {
    web_sys::window().and_then(|w| w.document()).ok_or_else(|| js_err("no document"))
}

fn t(m: &Msg) -> String {
    chrome::i18n(m.key, &m.args)
}

fn tk(key: &'static str) -> String {
    chrome::i18n(key, &[])
}

/// Append an element with text (CRM text is cleaned of bidi overrides, then set as text).
fn el(doc: &Document, parent: &Element, tag: &str, id: Option<&str>, text: Option<&str>) -> Result<Element, JsValue> {
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

fn button(doc: &Document, parent: &Element, id: &str, label: &str) -> Result<Element, JsValue> {
    let b = el(doc, parent, "button", Some(id), Some(label))?;
    b.set_attribute("type", "button")?;
    Ok(b)
}

fn on_click(e: &Element, f: impl FnMut() + 'static) -> Result<(), JsValue> {
    let cb = Closure::<dyn FnMut()>::new(f);
    e.add_event_listener_with_callback("click", cb.as_ref().unchecked_ref())?;
    cb.forget(); // lives as long as the element (the page)
    Ok(())
}

fn hash_param(name: &str) -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(hash.trim_start_matches('#')).ok()?;
    params.get(name)
}

fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

fn field(doc: &Document, form: &Element, name: &str, label_key: &'static str, value: &str) -> Result<(), JsValue> {
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

fn input_value(doc: &Document, name: &str) -> String {
    doc.get_element_by_id(&format!("f-{name}"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
        .map(|i| i.value())
        .unwrap_or_default()
}

fn set_text(doc: &Document, id: &str, text: &str) {
    if let Some(e) = doc.get_element_by_id(id) {
        e.set_text_content(Some(text));
    }
}

/// The create form: validated in Rust, errors next to their field, then sent to the worker.
fn create_form(doc: &Document, root: &Element, name: &str, phone: &str, crm: crate::core::model::Crm) -> Result<(), JsValue> {
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
        let kind = d
            .get_element_by_id("f-kind")
            .and_then(|e| e.dyn_into::<web_sys::HtmlSelectElement>().ok())
            .map(|s| s.value())
            .unwrap_or_else(|| "contact".into());
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
            let req = Request::CreateRecord { crm, record_kind: kind, fields };
            let text = match send_action(&req).await {
                Ok(r) if r.ok => tk("createDone"),
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
    let d = doc.clone();
    let cb = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
        ev.prevent_default();
        let query = input_value(&d, "query");
        let d2 = d.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let text = match send_action(&Request::SearchRecords { query }).await {
                Ok(r) if r.ok => String::new(),
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
        });
    })?;
    Ok(())
}

fn open_options() {
    // An extension page may open the options page itself.
    let _ = js_sys::eval("chrome.runtime.openOptionsPage()");
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
        PanelState::Linked { card, deals, last_synced_ms, sync } => render_linked(doc, root, card, deals, *last_synced_ms, sync)?,
        PanelState::Unknown { name, phone, crms } => {
            el(doc, root, "p", Some("message"), Some(&chrome::i18n("unknownNumber", &[view::clean_text(phone)])))?;
            let crm = crms.first().copied().unwrap_or(crate::core::model::Crm::Zoho);
            create_form(doc, root, name, phone, crm)?;
        }
        PanelState::Ambiguous { name, candidates } => {
            el(doc, root, "p", Some("message"), Some(&chrome::i18n("ambiguous", &[view::clean_text(name)])))?;
            let ul = el(doc, root, "ul", Some("candidates"), None)?;
            for c in candidates {
                let li = el(doc, &ul, "li", None, None)?;
                let label = format!("{} · {} · {}", c.name, c.crm.name(), c.kind);
                let b = button(doc, &li, &format!("choose-{}", c.id), &label)?;
                if let Some(d) = &c.detail {
                    el(doc, &li, "span", None, Some(d))?.set_class_name("deal-meta");
                }
                let _ = b;
            }
        }
        PanelState::Group { name, participants, backup_to } => {
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
        }
        PanelState::LidOnly { name } => {
            el(doc, root, "p", Some("message"), Some(&chrome::i18n("lidOnly", &[view::clean_text(name)])))?;
            create_form(doc, root, name, "", crate::core::model::Crm::Zoho)?;
        }
        PanelState::CaptureBlocked { reason } => {
            el(doc, root, "p", Some("message"), Some(&status::capture_blocked_line(reason)))?;
        }
        PanelState::Excluded { name } => {
            el(doc, root, "p", Some("message"), Some(&chrome::i18n("excluded", &[view::clean_text(name)])))?;
        }
    }
    Ok(())
}

/// `blocked`: the reason the content script could not run wasm, when it could not.
#[wasm_bindgen]
pub async fn panel_main(blocked: Option<String>) -> Result<(), JsValue> {
    let doc = document()?;
    let body = doc.body().ok_or_else(|| js_err("no body"))?;
    let dark = match hash_param("theme").as_deref() {
        Some("dark") => true,
        Some("light") => false,
        _ => web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
            .is_some_and(|m| m.matches()),
    };
    body.class_list().toggle_with_force("dark", dark)?;
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
    let body_sec = el(&doc, &root, "section", Some("state"), None)?;
    if let Some(reason) = &blocked {
        el(&doc, &root, "p", Some("capture"), Some(&status::capture_blocked_line(reason)))?;
    }
    let chat = hash_param("chat");
    let worker = match chrome::send_message(&to_js(&Request::PanelView { chat })?).await {
        Ok(v) => {
            match serde_wasm_bindgen::from_value::<PanelState>(v) {
                Ok(state) => render(&doc, &body_sec, &state)?,
                Err(e) => {
                    el(&doc, &body_sec, "p", Some("message"), Some(&format!("{e}")))?;
                }
            }
            tk("workerRunning")
        }
        Err(e) => chrome::i18n("workerDown", &[e.as_string().unwrap_or_default()]),
    };
    el(&doc, &root, "p", Some("worker"), Some(&worker))?.set_class_name("muted");
    Ok(())
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
