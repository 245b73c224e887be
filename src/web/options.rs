//! The options page and the popup (extension origin). Core builds both as view trees
//! (`core::options_view`); this shell fetches what they show from the worker, renders the
//! trees with `web::dom`, reads the forms and maps each action to the worker's request.
//! Credentials go in, never come back.
use super::dom;
use super::panel::{document, input_value, set_text, tk};
use super::{chrome, js_err, to_js};
use crate::core::first_run::Step;
use crate::core::model::Crm;
use crate::core::options_view::{self as ov, crm_id, Diag, PageCtx};
use crate::core::sync::{LogEntry, Parked, SyncState};
use crate::core::ui::Action;
use crate::core::ui::FieldKind;
use crate::core::view::{self, Receipt, Settings};
use crate::crm::auth::ZohoDc;
use crate::crm::{distribution::Offer, setup};
use crate::protocol::{ActionReply, Request};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element};

async fn ask(req: &Request) -> Result<JsValue, JsValue> {
    chrome::send_message(&to_js(req)?).await
}

async fn ask_action(req: &Request) -> Result<ActionReply, JsValue> {
    serde_wasm_bindgen::from_value(ask(req).await?).map_err(|e| js_err(format!("bad reply: {e}")))
}

fn spawn(f: impl std::future::Future<Output = Result<(), JsValue>> + 'static) {
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = f.await {
            web_sys::console::error_1(&e);
        }
    });
}

/// The worker's diagnostics reply (`Request::Diagnostics`), as it serializes it.
#[derive(Deserialize, Default)]
#[serde(default)]
struct DiagReply {
    connected: Vec<Crm>,
    reconnect_needed: Vec<Crm>,
    capture: Option<crate::capture::Counters>,
    content_error: Option<String>,
    state: SyncState,
    pending: u64,
    parked: Vec<Parked>,
    log: Vec<LogEntry>,
    budget: Option<BTreeMap<String, crate::core::ratelimit::Budget>>,
    saved: Vec<Receipt>,
}

/// The worker's diagnostics, as the pages show them.
async fn diagnostics() -> Result<Diag, JsValue> {
    let r: DiagReply = serde_wasm_bindgen::from_value(ask(&Request::Diagnostics).await?)
        .map_err(|e| js_err(format!("bad reply: {e}")))?;
    let cap = r.capture.unwrap_or_default();
    Ok(Diag {
        connected: r.connected,
        reconnect_needed: r.reconnect_needed,
        rows_seen: cap.rows_seen,
        parsed: cap.parsed,
        skipped: serde_json::to_string(&cap.skipped).unwrap_or_default(),
        health: crate::capture::health_lines(&cap.health),
        pending: r.pending,
        last_error: r.state.last_error,
        last_finished_ms: r.state.last_finished_ms.and_then(|t| i64::try_from(t).ok()),
        parked: r.parked.into_iter().map(|p| p.reason).collect(),
        budget: r
            .budget
            .into_iter()
            .flatten()
            .filter_map(|(crm, b)| Some((crm, b.remaining?, b.limit)))
            .collect(),
        content_error: r.content_error,
        log: r.log.into_iter().map(|e| (i64::try_from(e.at_ms).unwrap_or(0), e.text)).collect(),
        saved: r.saved,
    })
}

/// The worker's first-run reply (`Request::Onboarding`).
#[derive(Deserialize, Default)]
#[serde(default)]
struct OnboardingReply {
    offer: Offer,
    connected: Vec<Crm>,
    reports: Vec<setup::Report>,
    step: Option<Step>,
    own_number: Option<String>,
}

/// One setup-check line as the page shows it (kept in one place: the line's wording is the
/// CRM module's).
fn setup_line(l: &setup::Line) -> ov::SetupLine {
    ov::SetupLine {
        id: l.id.clone(),
        state: match l.state {
            setup::State::Pass => ov::LineState::Pass,
            setup::State::Warn => ov::LineState::Warn,
            setup::State::Fail => ov::LineState::Fail,
        },
        // The line's message in the browser's language; a report stored before lines
        // carried messages shows its English text.
        text: l.msg.as_ref().map(chrome::say).unwrap_or_else(|| l.text.clone()),
        fix: l.fix_msg.as_ref().map(chrome::say).or_else(|| l.fix.clone()),
    }
}

async fn onboarding() -> Result<ov::Onboarding, JsValue> {
    let r: OnboardingReply = serde_wasm_bindgen::from_value(ask(&Request::Onboarding).await?)
        .map_err(|e| js_err(format!("bad reply: {e}")))?;
    Ok(ov::Onboarding {
        step: r.step.unwrap_or(Step::Done),
        offer_zoho: r.offer.zoho,
        offer_salesforce: r.offer.salesforce,
        problem: r.offer.problem.as_ref().map(chrome::say),
        reports: r
            .reports
            .iter()
            .map(|rep| ov::SetupReport {
                crm: rep.crm,
                lines: rep.lines.iter().map(setup_line).collect(),
            })
            .collect(),
        connected: r.connected,
        own_number: r.own_number,
    })
}

/// What the browser and the CRM modules add: the language, the data centres, the guess.
fn page_ctx() -> PageCtx {
    let (lang, tz) = browser_locale();
    PageCtx {
        zoho_dcs: ZohoDc::ALL
            .iter()
            .map(|d| {
                (format!("{d:?}"), d.accounts().trim_start_matches("https://accounts.").to_string())
            })
            .collect(),
        signin_dcs: ZohoDc::ALL
            .iter()
            .map(|d| (format!("{d:?}"), chrome::i18n(crate::crm::signin::dc_key(*d), &[])))
            .collect(),
        dc_guess: format!("{:?}", crate::crm::signin::guess_dc(&tz, &lang)),
        lang,
        just_finished: JUST_FINISHED.with(|j| j.get()),
        forms: crate::crm::registry::ALL
            .iter()
            .map(|d| ov::CredentialForm {
                crm: d.crm,
                fields: d.credential_fields,
                sign_in: d.own_app_sign_in,
            })
            .collect(),
    }
}

thread_local! {
    /// The rep clicked Finish in this page: say where the first backup appears.
    static JUST_FINISHED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The settings the page shows (what the forms do not edit is kept as it is).
    static SETTINGS: std::cell::RefCell<Settings> = std::cell::RefCell::new(Settings::default());
}

fn handler() -> dom::Handler {
    Rc::new(|a: &Action, el: &Element| {
        if let Ok(doc) = document() {
            on_action(&doc, a, el)
        }
    })
}

async fn render_options() -> Result<(), JsValue> {
    let doc = document()?;
    let diag = diagnostics().await?;
    let settings: Settings =
        serde_wasm_bindgen::from_value(ask(&Request::GetSettings).await?).map_err(js_err)?;
    let ob = onboarding().await?;
    if doc.get_element_by_id("app").is_none() {
        return Err(js_err("options.html lacks #app"));
    }
    let page = ov::options(&diag, &settings, &ob, &page_ctx());
    SETTINGS.with(|s| *s.borrow_mut() = settings);
    dom::replace(&doc, "app", page, &handler())
}

#[wasm_bindgen]
pub async fn options_main() -> Result<(), JsValue> {
    render_options().await
}

/// The toolbar popup: connected CRMs, last sync, pending, errors, "Sync now".
#[wasm_bindgen]
pub async fn popup_main() -> Result<(), JsValue> {
    let doc = document()?;
    if doc.get_element_by_id("app").is_none() {
        return Err(js_err("popup.html lacks #app"));
    }
    let diag = diagnostics().await?;
    dom::replace(&doc, "app", ov::popup(&diag, js_sys::Date::now() as i64), &handler())
}

/// Every action of the two pages, as the worker request it stands for.
fn on_action(doc: &Document, a: &Action, _el: &Element) {
    let d = doc.clone();
    match a.clone() {
        Action::Connect(crm) => connect_own_keys(doc, crm),
        Action::OauthConnect(crm) => connect_own_app(doc, crm),
        Action::SignIn(crm) => sign_in(doc, crm),
        Action::Disconnect(crm) => spawn(async move {
            ask_action(&Request::Disconnect { crm }).await?;
            render_options().await
        }),
        Action::CheckAgain(crm) => spawn(async move {
            ask(&Request::SetupCheck { crm }).await?;
            render_options().await
        }),
        Action::ChatObjectAsk => {
            if let Some(c) = doc.get_element_by_id("chat-object-confirm") {
                let _ = c.remove_attribute("hidden");
            }
        }
        Action::ChatObjectNo => {
            if let Some(c) = doc.get_element_by_id("chat-object-confirm") {
                let _ = c.set_attribute("hidden", "");
            }
        }
        Action::ChatObjectYes => spawn(create_chat_object(d)),
        Action::SaveSettings => save_settings(doc),
        Action::Export => spawn(export(d)),
        Action::SyncNow => spawn(sync_now(d)),
        Action::OpenOptions => chrome::open_options_page(),
        Action::OwnNumberTyped => {
            let n = input_value(doc, "first-own-number");
            let (lang, _) = browser_locale();
            if let Some(e) = doc
                .get_element_by_id("f-first-region")
                .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                e.set_value(&crate::core::first_run::guess_region(&lang, Some(&n)));
            }
        }
        Action::FirstRunFinish => spawn(finish_first_run(d)),
        Action::OpenWhatsApp => {
            if let Some(w) = web_sys::window() {
                let _ = w.open_with_url_and_target("https://web.whatsapp.com/", "_blank");
            }
        }
        _ => {}
    }
}

fn checked(doc: &Document, name: &str) -> bool {
    doc.get_element_by_id(&format!("f-{name}"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
        .is_some_and(|i| i.checked())
}

fn select_value(doc: &Document, name: &str) -> String {
    doc.get_element_by_id(&format!("f-{name}"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlSelectElement>().ok())
        .map(|s| s.value())
        .unwrap_or_default()
}

/// Send a connect request (pasted keys or browser sign-in) and say how it went next to the form.
async fn connect_and_report(doc: &Document, crm: Crm, req: Request) -> Result<(), JsValue> {
    let status_id = format!("connect-{}-status", crm_id(crm));
    set_text(doc, &status_id, &tk("working"));
    let reply: serde_json::Value =
        serde_wasm_bindgen::from_value(ask(&req).await?).map_err(js_err)?;
    if reply.get("ok").and_then(|o| o.as_bool()) == Some(true) {
        // The setup check right after connecting: its report shows where the form was.
        ask(&Request::SetupCheck { crm }).await?;
        render_options().await?;
        set_text(doc, &status_id, &tk("connectDone"));
    } else {
        let e = reply.get("error").and_then(|e| e.as_str()).unwrap_or("").to_string();
        set_text(doc, &status_id, &chrome::i18n("connectFailed", &[view::clean_text(&e)]));
    }
    Ok(())
}

/// What the rep typed into `crm`'s Advanced form, as the JSON of its credentials (`for_sign_in`:
/// only the fields an own app's browser sign-in takes). The descriptor lists the fields.
fn typed_credentials(d: &Document, crm: Crm, for_sign_in: bool) -> serde_json::Value {
    let mut o = serde_json::Map::new();
    o.insert("crm".into(), serde_json::to_value(crm).unwrap_or_default());
    for f in crate::crm::registry::of(crm).credential_fields {
        if for_sign_in && !f.sign_in {
            continue;
        }
        let v = match f.kind {
            FieldKind::DataCentre => select_value(d, f.control),
            _ => input_value(d, f.control).trim().to_string(),
        };
        let v = match f.kind {
            FieldKind::OptionalSecret if v.is_empty() => serde_json::Value::Null,
            _ => serde_json::Value::String(v),
        };
        o.insert(f.name.into(), v);
    }
    serde_json::Value::Object(o)
}

/// The own-app form, submitted: connect with the pasted keys.
fn connect_own_keys(d: &Document, crm: Crm) {
    let creds = typed_credentials(d, crm, false);
    let d2 = d.clone();
    spawn(async move {
        let credentials = serde_json::from_value(creds).map_err(js_err)?;
        connect_and_report(&d2, crm, Request::Connect { credentials }).await
    });
}

/// Browser sign-in with one's own app: only its client id (and Zoho's secret) are needed.
fn connect_own_app(d: &Document, crm: Crm) {
    let start = typed_credentials(d, crm, true);
    let d2 = d.clone();
    spawn(async move {
        let start = serde_json::from_value(start).map_err(js_err)?;
        connect_and_report(&d2, crm, Request::OauthConnect { start }).await
    });
}

/// One-click sign-in with the product's app, or LeadSquared's two keys.
fn sign_in(d: &Document, crm: Crm) {
    let req = match crm {
        Crm::Zoho => {
            let dc =
                serde_json::from_value(serde_json::json!(select_value(d, "signin-zoho-dc"))).ok();
            Request::SignIn { crm, zoho_dc: dc, login_host: None }
        }
        Crm::Salesforce => {
            let host = match select_value(d, "signin-sf-login").as_str() {
                "sandbox" => "test.salesforce.com".to_string(),
                "mydomain" => input_value(d, "signin-sf-domain").trim().to_string(),
                _ => "login.salesforce.com".to_string(),
            };
            Request::SignIn { crm, zoho_dc: None, login_host: Some(host) }
        }
        Crm::Leadsquared => {
            let credentials = crate::crm::connect::Credentials::Leadsquared {
                access_key: input_value(d, "signin-lsq-access").trim().to_string(),
                secret_key: input_value(d, "signin-lsq-secret").trim().to_string(),
            };
            Request::Connect { credentials }
        }
    };
    let d = d.clone();
    spawn(async move {
        let status_id = format!("signin-{}-status", crm_id(crm));
        set_text(&d, &status_id, &tk("working"));
        let reply: serde_json::Value =
            serde_wasm_bindgen::from_value(ask(&req).await?).map_err(js_err)?;
        if reply.get("ok").and_then(|o| o.as_bool()) == Some(true) {
            ask(&Request::SetupCheck { crm }).await?;
            render_options().await
        } else {
            let e = reply.get("error").and_then(|e| e.as_str()).unwrap_or("").to_string();
            set_text(&d, &status_id, &chrome::i18n("connectFailed", &[view::clean_text(&e)]));
            Ok(())
        }
    });
}

/// The worker creates Salesforce's chat object, then runs the setup check again: show it,
/// then what happened.
async fn create_chat_object(doc: Document) -> Result<(), JsValue> {
    set_text(&doc, "chat-object-status", &tk("working"));
    let reply = ask_action(&Request::CreateChatObject).await?;
    render_options().await?;
    let text = match (reply.ok, reply.error.as_deref()) {
        (true, _) => tk("chatObjectDone"),
        (false, Some("chatObjectFailed")) => {
            let why = reply.field_errors.first().map(|f| f.key.clone()).unwrap_or_default();
            chrome::i18n("chatObjectFailed", &[view::clean_text(&why)])
        }
        (false, Some(key)) => chrome::i18n(key, &[]),
        (false, None) => tk("chatObjectFailed"),
    };
    set_text(&doc, "chat-object-status", &text);
    Ok(())
}

fn save_settings(d: &Document) {
    let excluded = d
        .get_element_by_id("f-excluded_chats")
        .and_then(|e| e.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
        .map(|t| t.value())
        .unwrap_or_default();
    // Set from the panel, per chat: kept as they are.
    let unmasked = SETTINGS.with(|s| s.borrow().unmasked_chats.clone());
    let s = Settings {
        default_region: input_value(d, "default_region").trim().to_uppercase(),
        search_contacts: checked(d, "search_contacts"),
        search_leads: checked(d, "search_leads"),
        backup_notes: checked(d, "backup_notes"),
        backup_deals: checked(d, "backup_deals"),
        backup_custom_object: checked(d, "backup_custom_object"),
        backup_activities: checked(d, "backup_activities"),
        excluded_chats: excluded
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        sync_enabled: checked(d, "sync_enabled"),
        // Not a number: 0, which validation turns into a plain error next to the field.
        backup_window_days: input_value(d, "backup_window_days").trim().parse().unwrap_or(0),
        mask_cards: checked(d, "mask_cards"),
        mask_ids: checked(d, "mask_ids"),
        mask_codes: checked(d, "mask_codes"),
        unmasked_chats: unmasked,
    };
    let d2 = d.clone();
    spawn(async move {
        for f in ov::SETTINGS_ERRORS {
            set_text(&d2, &format!("err-{f}"), "");
        }
        let r = ask_action(&Request::SaveSettings { settings: s }).await?;
        for e in &r.field_errors {
            set_text(&d2, &format!("err-{}", e.field), &chrome::i18n(&e.key, &[]));
        }
        set_text(&d2, "settings-status", &tk(if r.ok { "saved" } else { "errInvalid" }));
        Ok(())
    });
}

/// Export: the worker's JSON, downloaded as a file (no tokens or keys in it).
async fn export(d: Document) -> Result<(), JsValue> {
    let v: serde_json::Value =
        serde_wasm_bindgen::from_value(ask(&Request::Export).await?).map_err(js_err)?;
    let text = serde_json::to_string_pretty(&v).map_err(js_err)?;
    let parts = js_sys::Array::of1(&JsValue::from_str(&text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("application/json");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    // A download link (a blob URL and a file name): not part of the view tree, which
    // carries no downloads.
    let a: web_sys::HtmlAnchorElement = d.create_element("a")?.dyn_into()?;
    a.set_href(&url);
    a.set_download("crmsync-export.json");
    a.set_id("export-link");
    a.set_text_content(Some("crmsync-export.json"));
    if let Some(sec) = d.get_element_by_id("export") {
        if let Some(old) = d.get_element_by_id("export-link") {
            old.remove();
        }
        sec.append_child(&a)?;
    }
    a.click();
    let n = v.get("messages").and_then(|m| m.as_array()).map_or(0, Vec::len);
    set_text(&d, "export-status", &chrome::i18n("exportDone", &[n.to_string()]));
    Ok(())
}

async fn sync_now(d: Document) -> Result<(), JsValue> {
    set_text(&d, "sync-status", &tk("syncSyncing"));
    let r: serde_json::Value =
        serde_wasm_bindgen::from_value(ask(&Request::SyncNow).await?).map_err(js_err)?;
    let text = match r.get("skipped_reason").and_then(|s| s.as_str()) {
        Some(why) => chrome::i18n("syncFailed", &[why.to_string()]),
        None => {
            chrome::i18n("syncDone", &[r.get("settled").map(|v| v.to_string()).unwrap_or_default()])
        }
    };
    set_text(&d, "sync-status", &text);
    Ok(())
}

/// Save the first run's region (everything else as it is), then finish the first run.
async fn finish_first_run(d: Document) -> Result<(), JsValue> {
    let s = Settings {
        default_region: input_value(&d, "first-region").trim().to_uppercase(),
        ..SETTINGS.with(|s| s.borrow().clone())
    };
    set_text(&d, "err-first-region", "");
    let r = ask_action(&Request::SaveSettings { settings: s }).await?;
    if !r.ok {
        for e in &r.field_errors {
            if e.field == "default_region" {
                set_text(&d, "err-first-region", &chrome::i18n(&e.key, &[]));
            }
        }
        return Ok(());
    }
    ask(&Request::FinishOnboarding).await?;
    JUST_FINISHED.with(|j| j.set(true));
    render_options().await
}

/// The browser's language and IANA time zone (where sign-in starts, the phone region).
fn browser_locale() -> (String, String) {
    let lang = web_sys::window().and_then(|w| w.navigator().language()).unwrap_or_default();
    let opts = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
        .resolved_options();
    let tz = js_sys::Reflect::get(&opts, &"timeZone".into())
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default();
    (lang, tz)
}
