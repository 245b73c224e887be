//! The Mini-CRM panel frame (extension origin). Renders a `view::PanelState` from the worker
//! with DOM APIs only (text nodes, attributes): CRM text can never become markup.
//! The frame learns its chat, theme and every line it shows from the worker only (`PanelSync`),
//! for the tab it is in; the worker serves only the frame its tab's content script inserted
//! (which handed it a nonce). Nothing is read from the URL or from `postMessage` payloads.
use super::{chrome, js_err, to_js};
use crate::core::status;
use crate::core::view::{self, Msg, PanelState};
use crate::protocol::{ActionReply, Request};
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
pub(crate) fn el(
    doc: &Document,
    parent: &Element,
    tag: &str,
    id: Option<&str>,
    text: Option<&str>,
) -> Result<Element, JsValue> {
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

pub(crate) fn button(
    doc: &Document,
    parent: &Element,
    id: &str,
    label: &str,
) -> Result<Element, JsValue> {
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

/// The chat as actions name it to the rep: the name and the number (or id) the worker knows.
fn chat_label() -> String {
    CHAT.with(|c| match c.borrow().as_ref() {
        Some((key, name)) => {
            let id = key.split_once(':').map(|(_, v)| v).unwrap_or(key);
            if id == name {
                view::clean_text(name)
            } else {
                format!("{} ({})", view::clean_text(name), view::clean_text(id))
            }
        }
        None => String::new(),
    })
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

pub(crate) fn on_action(e: &Element, mut f: impl FnMut() + 'static) -> Result<(), JsValue> {
    on_click(e, move || {
        if visible_now() {
            f();
        }
    })
}

/// Ask the rep to confirm a state-changing action, naming the chat as the worker knows it.
fn confirm(question: String, action: impl FnOnce() + 'static) {
    let Ok(doc) = document() else { return };
    let Some(sec) = doc.get_element_by_id("confirm") else { return };
    sec.set_text_content(None);
    let _ = sec.remove_attribute("hidden");
    let build = || -> Result<(), JsValue> {
        el(&doc, &sec, "p", Some("confirm-text"), Some(&question))?
            .set_attribute("role", "alert")?;
        let yes = button(&doc, &sec, "confirm-yes", &tk("confirmYes"))?;
        let no = button(&doc, &sec, "confirm-no", &tk("confirmNo"))?;
        no.set_class_name("secondary");
        let action = std::rc::Rc::new(std::cell::RefCell::new(Some(action)));
        let s2 = sec.clone();
        on_action(&yes, move || {
            s2.set_text_content(None);
            let _ = s2.set_attribute("hidden", "");
            if let Some(a) = action.borrow_mut().take() {
                a();
            }
        })?;
        let s3 = sec.clone();
        on_click(&no, move || {
            s3.set_text_content(None);
            let _ = s3.set_attribute("hidden", "");
        })?;
        Ok(())
    };
    if let Err(e) = build() {
        web_sys::console::error_1(&e);
    }
}

fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

pub(crate) fn field(
    doc: &Document,
    form: &Element,
    name: &str,
    label_key: &'static str,
    value: &str,
) -> Result<(), JsValue> {
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
fn create_form(
    doc: &Document,
    root: &Element,
    name: &str,
    phone: &str,
    crms: &[crate::core::model::Crm],
) -> Result<(), JsValue> {
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
        o.set_attribute(
            "value",
            &serde_json::to_value(c)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        )?;
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
        let select = |id: &str| {
            d.get_element_by_id(id)
                .and_then(|e| e.dyn_into::<web_sys::HtmlSelectElement>().ok())
                .map(|s| s.value())
        };
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
        if !visible_now() {
            return;
        }
        let d2 = d.clone();
        let question = chrome::i18n("confirmCreate", &[chat_label(), crm.name().to_string()]);
        confirm(question, move || {
            wasm_bindgen_futures::spawn_local(async move {
                let chat = chat_key();
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
            })
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
        let a = el(
            doc,
            &sec,
            "a",
            Some("open-record"),
            Some(&chrome::i18n("openInCrm", &[card.crm.name().to_string()])),
        )?;
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
    on_action(&b, move || {
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
    on_action(&u, || {
        confirm(chrome::i18n("confirmUnlink", &[chat_label()]), || {
            act(Request::Unlink { chat: chat_key() })
        })
    })?;
    Ok(())
}

/// Messages from before the backup window: how many and from which days, and the rep's
/// choice to back them up (they are never counted as waiting).
fn render_older(
    doc: &Document,
    root: &Element,
    older: Option<&crate::core::outbox::OlderMessages>,
) -> Result<(), JsValue> {
    let Some(o) = older else { return Ok(()) };
    el(doc, root, "p", Some("older"), Some(&t(&view::older_line(o))))?;
    let b = button(doc, root, "back-up-older", &tk("backUpOlder"))?;
    b.set_class_name("secondary");
    let n = o.count.to_string();
    on_action(&b, move || {
        confirm(chrome::i18n("confirmBackUpOlder", &[n.clone(), chat_label()]), || {
            act(Request::BackUpOlder { chat: chat_key() })
        })
    })?;
    Ok(())
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

/// A list of records with a button each: choose (chooser) or link (search results).
fn candidate_list(
    doc: &Document,
    id: &str,
    candidates: &[view::Candidate],
    choose: bool,
) -> Result<(), JsValue> {
    let ul = doc.get_element_by_id(id).ok_or_else(|| js_err("no list"))?;
    ul.set_text_content(None);
    for (i, c) in candidates.iter().enumerate() {
        let li = el(doc, &ul, "li", None, None)?;
        el(doc, &li, "span", None, Some(&format!("{} · {} · {}", c.name, c.crm.name(), c.kind)))?
            .set_class_name("deal-name");
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
        let record_name = format!("{} ({} {})", view::clean_text(&c.name), c.crm.name(), c.kind);
        on_action(&b, move || {
            let record = record.clone();
            confirm(chrome::i18n("confirmLink", &[chat_label(), record_name.clone()]), move || {
                let chat = chat_key();
                act(if choose {
                    Request::ChooseCandidate { chat, record }
                } else {
                    Request::LinkRecord { chat, record }
                });
            });
        })?;
    }
    Ok(())
}

fn exclude_button(doc: &Document, root: &Element, excluded: bool) -> Result<(), JsValue> {
    let b =
        button(doc, root, "exclude", &tk(if excluded { "includeChat" } else { "excludeChat" }))?;
    b.set_class_name("secondary");
    on_action(&b, move || {
        let key = if excluded { "confirmInclude" } else { "confirmExclude" };
        confirm(chrome::i18n(key, &[chat_label()]), move || {
            act(Request::ExcludeChat { chat: chat_key(), excluded: !excluded })
        });
    })
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
            el(doc, root, "p", Some("message"), Some(&tk("connecting")))?
                .set_attribute("aria-busy", "true")?;
        }
        PanelState::NoChat => {
            el(doc, root, "p", Some("message"), Some(&tk("noChat")))?;
        }
        PanelState::Linked { card, deals, last_synced_ms, sync, older } => {
            render_linked(doc, root, card, deals, *last_synced_ms, sync)?;
            render_older(doc, root, older.as_ref())?;
        }
        PanelState::Unknown { name, phone, crms } => {
            el(
                doc,
                root,
                "p",
                Some("message"),
                Some(&chrome::i18n("unknownNumber", &[view::clean_text(phone)])),
            )?;
            create_form(doc, root, name, phone, crms)?;
            exclude_button(doc, root, false)?;
        }
        PanelState::Ambiguous { name, candidates } => {
            el(
                doc,
                root,
                "p",
                Some("message"),
                Some(&chrome::i18n("ambiguous", &[view::clean_text(name)])),
            )?;
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
            let to = if backup_to.is_empty() {
                tk("groupNoBackup")
            } else {
                chrome::i18n("groupBackupTo", &[backup_to.join(", ")])
            };
            el(doc, root, "p", Some("group-backup"), Some(&to))?;
            render_older(doc, root, older.as_ref())?;
            exclude_button(doc, root, false)?;
        }
        PanelState::LidOnly { name } => {
            el(
                doc,
                root,
                "p",
                Some("message"),
                Some(&chrome::i18n("lidOnly", &[view::clean_text(name)])),
            )?;
            create_form(
                doc,
                root,
                name,
                "",
                &[
                    crate::core::model::Crm::Zoho,
                    crate::core::model::Crm::Salesforce,
                    crate::core::model::Crm::Leadsquared,
                ],
            )?;
        }
        PanelState::CaptureBlocked { reason } => {
            el(doc, root, "p", Some("message"), Some(&status::capture_blocked_line(reason)))?;
        }
        PanelState::Excluded { name } => {
            el(
                doc,
                root,
                "p",
                Some("message"),
                Some(&chrome::i18n("excluded", &[view::clean_text(name)])),
            )?;
            exclude_button(doc, root, true)?;
        }
    }
    Ok(())
}

/// `blocked`: the reason the content script could not run wasm, when it could not.
#[wasm_bindgen]
pub async fn panel_main() -> Result<(), JsValue> {
    let doc = document()?;
    let body = doc.body().ok_or_else(|| js_err("no body"))?;
    apply_theme(None);
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
            let _ = js_sys::Reflect::set(
                &msg,
                &"crmsync".into(),
                &(if collapsed { "collapse" } else { "expand" }).into(),
            );
            let _ = parent.post_message(&msg, "https://web.whatsapp.com");
        }
    })?;
    el(&doc, &root, "p", Some("notice"), None)?.set_attribute("role", "status")?;
    el(&doc, &root, "section", Some("confirm"), None)?.set_attribute("hidden", "")?;
    el(&doc, &root, "section", Some("state"), None)?;
    el(&doc, &root, "p", Some("capture"), None)?;
    backfill_section(&doc, &root)?;
    el(&doc, &root, "p", Some("worker"), None)?.set_class_name("muted");
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

/// The guided backfill: a start button, then progress with cancel, then what was covered.
fn backfill_section(doc: &Document, root: &Element) -> Result<(), JsValue> {
    let sec = el(doc, root, "section", Some("backfill"), None)?;
    sec.set_attribute("aria-labelledby", "backfill-start")?;
    let b = button(doc, &sec, "backfill-start", &tk("backfillStart"))?;
    b.set_class_name("secondary");
    on_action(&b, start_backfill)?;
    Ok(())
}

fn start_backfill() {
    confirm(tk("confirmBackfill"), || to_parent("backfill-start"));
}

fn render_backfill(doc: &Document, p: &crate::capture::backfill::Progress) -> Result<(), JsValue> {
    use crate::capture::backfill::Outcome;
    let sec = doc.get_element_by_id("backfill").ok_or_else(|| js_err("no backfill section"))?;
    sec.set_text_content(None);
    el(doc, &sec, "h3", None, Some(&tk("backfillTitle")))?;
    let bar = el(doc, &sec, "progress", Some("backfill-progress"), None)?;
    bar.set_attribute("max", &p.total.max(1).to_string())?;
    bar.set_attribute("value", &p.done.to_string())?;
    bar.set_attribute("aria-label", &tk("backfillTitle"))?;
    let line = match (&p.current, p.finished) {
        (_, true) => chrome::i18n("backfillDone", &[p.done.to_string(), p.total.to_string()]),
        (Some(c), false) => chrome::i18n(
            "backfillCurrent",
            &[view::clean_text(c), (p.done + 1).to_string(), p.total.to_string()],
        ),
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
            Outcome::Covered { messages } => {
                chrome::i18n("backfillCovered", &[t, messages.to_string()])
            }
            Outcome::HistoryEnds { messages, oldest } => chrome::i18n(
                "backfillHistoryEnds",
                &[t, oldest.clone().unwrap_or_else(|| "—".into()), messages.to_string()],
            ),
            Outcome::NotOpened { reason } => {
                chrome::i18n("backfillNotOpened", &[t, reason.clone()])
            }
            Outcome::Cancelled => chrome::i18n("backfillCancelled", &[t]),
        };
        el(doc, &ul, "li", None, Some(&text))?;
    }
    if !p.unreadable.is_empty() {
        let names: Vec<String> = p.unreadable.iter().map(|n| view::clean_text(n)).collect();
        el(
            doc,
            &sec,
            "p",
            Some("backfill-unreadable"),
            Some(&chrome::i18n("backfillUnreadable", &[names.join(", ")])),
        )?
        .set_class_name("muted");
    }
    if p.finished {
        let b = button(doc, &sec, "backfill-start", &tk("backfillStart"))?;
        b.set_class_name("secondary");
        on_action(&b, start_backfill)?;
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
    state: PanelState,
}

/// Ask the worker for the open chat's state and render it when it changed (or `force`).
async fn refresh(force: bool) {
    let Ok(doc) = document() else { return };
    let Some(state_el) = doc.get_element_by_id("state") else { return };
    let Ok(req) = to_js(&Request::PanelSync) else { return };
    let online = web_sys::window().map(|w| w.navigator().on_line()).unwrap_or(true);
    let reply = chrome::send_message(&req).await;
    let refused = matches!(&reply, Ok(v) if js_sys::Reflect::get(v, &"ok".into()).ok().and_then(|o| o.as_bool()) == Some(false));
    let worker_line = match &reply {
        Ok(_) => tk("workerRunning"),
        Err(e) => chrome::i18n("workerDown", &[e.as_string().unwrap_or_default()]),
    };
    set_text(&doc, "worker", &worker_line);
    let v = match reply {
        Ok(v) if !refused => v,
        _ => {
            // Not the frame this tab's content script inserted (or not yet bound): nothing.
            CHAT.with(|c| *c.borrow_mut() = None);
            if state_el.get_attribute("data-view").as_deref() != Some("unbound") {
                state_el.set_text_content(None);
                el(&doc, &state_el, "p", Some("message"), Some(&tk("panelUnbound"))).ok();
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
    set_text(
        &doc,
        "capture",
        &reply.blocked.as_deref().map(status::capture_blocked_line).unwrap_or_default(),
    );
    let state = reply.state;
    // Offline is the browser's to say: the line under the card reflects it at once.
    let state = match state {
        PanelState::Linked { card, deals, last_synced_ms, older, .. } if !online => {
            PanelState::Linked {
                card,
                deals,
                last_synced_ms,
                sync: view::SyncState::Offline,
                older,
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
                render_backfill(&document()?, &progress)?;
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
    // Not taken (this frame not bound yet, or the worker restarting): the next relay sends them again.
    let forget = |ms: &[crate::core::model::Message]| {
        let keys: Vec<String> = ms.iter().map(|m| m.key.clone()).collect();
        RELAY.with(|r| r.borrow_mut().forget(&keys));
    };
    let key = identity.chat_key();
    if RELAY_REPORTED.with(|r| r.borrow().as_deref() != Some(key.as_str())) {
        if let Err(e) = chrome::send_request(&to_js(&Request::ChatOpened {
            identity: identity.clone(),
            theme: None,
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
