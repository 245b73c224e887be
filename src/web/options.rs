//! The options page and the popup (extension origin), rendered by Rust with DOM APIs only.
//! Both talk to the worker through runtime messages; credentials go in, never come back.
use super::panel::{button, document, el, field, input_value, on_click, set_text, tk};
use super::{chrome, js_err, to_js};
use crate::core::model::Crm;
use crate::core::view::{self, Settings};
use crate::crm::auth::ZohoDc;
use crate::protocol::{ActionReply, Request};
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

fn checkbox(
    doc: &Document,
    parent: &Element,
    name: &str,
    label_key: &'static str,
    checked: bool,
) -> Result<(), JsValue> {
    let row = el(doc, parent, "div", None, None)?;
    row.set_class_name("check");
    let input: web_sys::HtmlInputElement =
        el(doc, &row, "input", Some(&format!("f-{name}")), None)?.dyn_into()?;
    input.set_type("checkbox");
    input.set_checked(checked);
    let l = el(doc, &row, "label", None, Some(&tk(label_key)))?;
    l.set_attribute("for", &format!("f-{name}"))?;
    Ok(())
}

fn checked(doc: &Document, name: &str) -> bool {
    doc.get_element_by_id(&format!("f-{name}"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
        .is_some_and(|i| i.checked())
}

fn select(
    doc: &Document,
    parent: &Element,
    name: &str,
    label_key: &'static str,
    options: &[(String, String)],
) -> Result<(), JsValue> {
    let row = el(doc, parent, "div", None, None)?;
    row.set_class_name("field");
    el(doc, &row, "label", None, Some(&tk(label_key)))?
        .set_attribute("for", &format!("f-{name}"))?;
    let sel = el(doc, &row, "select", Some(&format!("f-{name}")), None)?;
    for (v, text) in options {
        el(doc, &sel, "option", None, Some(text))?.set_attribute("value", v)?;
    }
    Ok(())
}

fn select_value(doc: &Document, name: &str) -> String {
    doc.get_element_by_id(&format!("f-{name}"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlSelectElement>().ok())
        .map(|s| s.value())
        .unwrap_or_default()
}

fn crm_key(c: Crm) -> &'static str {
    match c {
        Crm::Zoho => "zoho",
        Crm::Salesforce => "salesforce",
        Crm::Leadsquared => "leadsquared",
    }
}

/// The worker's diagnostics, as JSON (connections, counters, errors, budget).
async fn diagnostics() -> Result<serde_json::Value, JsValue> {
    serde_wasm_bindgen::from_value(ask(&Request::Diagnostics).await?)
        .map_err(|e| js_err(format!("bad reply: {e}")))
}

fn crms_in(v: &serde_json::Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(|a| a.as_array())
        .map(|a| a.iter().filter_map(|c| c.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Send a connect request (pasted keys or browser sign-in) and say how it went next to the form.
async fn connect_and_report(doc: &Document, crm: Crm, req: Request) -> Result<(), JsValue> {
    let status_id = format!("connect-{}-status", crm_key(crm));
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

/// One CRM's connect form (paste credentials) and its state.
fn connect_section(
    doc: &Document,
    root: &Element,
    crm: Crm,
    diag: &serde_json::Value,
    ob: &serde_json::Value,
) -> Result<(), JsValue> {
    let k = crm_key(crm);
    let sec = el(doc, root, "section", Some(&format!("crm-{k}")), None)?;
    sec.set_class_name("crm");
    el(doc, &sec, "h3", None, Some(crm.name()))?;
    let connected = crms_in(diag, "connected").iter().any(|c| c == k);
    let reconnect = crms_in(diag, "reconnect_needed").iter().any(|c| c == k);
    let state_key = if reconnect {
        "crmReconnect"
    } else if connected {
        "crmConnected"
    } else {
        "crmNotConnected"
    };
    el(doc, &sec, "p", Some(&format!("state-{k}")), Some(&tk(state_key)))?
        .set_attribute("role", "status")?;
    if connected {
        let b = button(doc, &sec, &format!("disconnect-{k}"), &tk("disconnect"))?;
        b.set_class_name("secondary");
        on_click(&b, move || {
            spawn(async move {
                ask_action(&Request::Disconnect { crm }).await?;
                render_options().await
            })
        })?;
    }
    if connected && step_of(ob) == "done" {
        setup_block(doc, &sec, crm, ob)?;
        if crm == Crm::Salesforce {
            chat_object_block(doc, &sec)?;
        }
    }
    // One click with the product's own app; nothing to paste.
    sign_in_block(doc, &sec, crm, ob)?;
    // Bringing one's own app (or pasting keys) stays, for admins.
    let adv = el(doc, &sec, "details", Some(&format!("advanced-{k}")), None)?;
    el(doc, &adv, "summary", None, Some(&tk("advancedOwnApp")))?;
    let form = el(doc, &adv, "form", Some(&format!("connect-{k}")), None)?;
    form.set_attribute("aria-label", &chrome::i18n("connectTo", &[crm.name().to_string()]))?;
    match crm {
        Crm::Zoho => {
            let dcs: Vec<(String, String)> = ZohoDc::ALL
                .iter()
                .map(|d| {
                    (
                        format!("{d:?}"),
                        d.accounts().trim_start_matches("https://accounts.").to_string(),
                    )
                })
                .collect();
            select(doc, &form, "zoho-dc", "fieldDataCentre", &dcs)?;
            field(doc, &form, "zoho-client-id", "fieldClientId", "")?;
            field(doc, &form, "zoho-client-secret", "fieldClientSecret", "")?;
            field(doc, &form, "zoho-refresh-token", "fieldRefreshToken", "")?;
        }
        Crm::Salesforce => {
            field(doc, &form, "sf-login-host", "fieldLoginHost", "login.salesforce.com")?;
            field(doc, &form, "sf-client-id", "fieldConsumerKey", "")?;
            field(doc, &form, "sf-client-secret", "fieldConsumerSecret", "")?;
            field(doc, &form, "sf-refresh-token", "fieldRefreshToken", "")?;
        }
        Crm::Leadsquared => {
            field(doc, &form, "lsq-access-key", "fieldAccessKey", "")?;
            field(doc, &form, "lsq-secret-key", "fieldSecretKey", "")?;
        }
    }
    for secret in [
        "zoho-client-secret",
        "zoho-refresh-token",
        "sf-client-secret",
        "sf-refresh-token",
        "lsq-secret-key",
    ] {
        if let Some(e) = doc.get_element_by_id(&format!("f-{secret}")) {
            e.set_attribute("type", "password")?;
            e.set_attribute("autocomplete", "off")?;
        }
    }
    if crm != Crm::Leadsquared {
        // Browser sign-in: only the app's client id (and Zoho's secret) are needed.
        let b = button(
            doc,
            &form,
            &format!("oauth-{k}"),
            &chrome::i18n("signInWith", &[crm.name().to_string()]),
        )?;
        let d = doc.clone();
        on_click(&b, move || {
            let v = |n: &str| input_value(&d, n).trim().to_string();
            let start = match crm {
                Crm::Zoho => {
                    serde_json::json!({"crm": "zoho", "client_id": v("zoho-client-id"), "client_secret": v("zoho-client-secret")})
                }
                _ => {
                    serde_json::json!({"crm": "salesforce", "login_host": v("sf-login-host"), "client_id": v("sf-client-id"),
                    "client_secret": Some(v("sf-client-secret")).filter(|s| !s.is_empty())})
                }
            };
            let d2 = d.clone();
            spawn(async move {
                let start = serde_json::from_value(start).map_err(js_err)?;
                connect_and_report(&d2, crm, Request::OauthConnect { start }).await
            })
        })?;
    }
    let submit = el(
        doc,
        &form,
        "button",
        Some(&format!("connect-{k}-submit")),
        Some(&tk(if connected { "reconnect" } else { "connect" })),
    )?;
    submit.set_attribute("type", "submit")?;
    el(doc, &form, "p", Some(&format!("connect-{k}-status")), None)?
        .set_attribute("role", "status")?;
    let d = doc.clone();
    let cb = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
        ev.prevent_default();
        let v = |n: &str| input_value(&d, n).trim().to_string();
        let creds = match crm {
            Crm::Zoho => {
                serde_json::json!({"crm": "zoho", "dc": select_value(&d, "zoho-dc"), "client_id": v("zoho-client-id"),
                "client_secret": v("zoho-client-secret"), "refresh_token": v("zoho-refresh-token")})
            }
            Crm::Salesforce => {
                serde_json::json!({"crm": "salesforce", "login_host": v("sf-login-host"), "client_id": v("sf-client-id"),
                "client_secret": Some(v("sf-client-secret")).filter(|s| !s.is_empty()), "refresh_token": v("sf-refresh-token")})
            }
            Crm::Leadsquared => {
                serde_json::json!({"crm": "leadsquared", "access_key": v("lsq-access-key"), "secret_key": v("lsq-secret-key")})
            }
        };
        let d2 = d.clone();
        spawn(async move {
            let credentials = serde_json::from_value(creds).map_err(js_err)?;
            connect_and_report(&d2, crm, Request::Connect { credentials }).await
        });
    });
    form.add_event_listener_with_callback("submit", cb.as_ref().unchecked_ref())?;
    cb.forget();
    Ok(())
}

fn settings_section(doc: &Document, root: &Element, s: &Settings) -> Result<(), JsValue> {
    let form = el(doc, root, "form", Some("settings"), None)?;
    el(doc, &form, "h2", None, Some(&tk("settingsTitle")))?;
    field(doc, &form, "default_region", "fieldRegion", &s.default_region)?;
    el(doc, &form, "h3", None, Some(&tk("searchTitle")))?;
    checkbox(doc, &form, "search_contacts", "searchContacts", s.search_contacts)?;
    checkbox(doc, &form, "search_leads", "searchLeads", s.search_leads)?;
    el(doc, &form, "h3", None, Some(&tk("backupTitle")))?;
    checkbox(doc, &form, "backup_notes", "backupNotes", s.backup_notes)?;
    checkbox(doc, &form, "backup_deals", "backupDeals", s.backup_deals)?;
    checkbox(doc, &form, "backup_custom_object", "backupCustomObject", s.backup_custom_object)?;
    checkbox(doc, &form, "backup_activities", "backupActivities", s.backup_activities)?;
    el(doc, &form, "h3", None, Some(&tk("privacyTitle")))?;
    checkbox(doc, &form, "mask_cards", "maskCards", s.mask_cards)?;
    checkbox(doc, &form, "mask_ids", "maskIds", s.mask_ids)?;
    checkbox(doc, &form, "mask_codes", "maskCodes", s.mask_codes)?;
    el(doc, &form, "h3", None, Some(&tk("syncTitle")))?;
    checkbox(doc, &form, "sync_enabled", "syncEnabled", s.sync_enabled)?;
    field(doc, &form, "backup_window_days", "labelWindowDays", &s.backup_window_days.to_string())?;
    let row = el(doc, &form, "div", None, None)?;
    row.set_class_name("field");
    el(doc, &row, "label", None, Some(&tk("fieldExcluded")))?
        .set_attribute("for", "f-excluded_chats")?;
    let ta: web_sys::HtmlTextAreaElement =
        el(doc, &row, "textarea", Some("f-excluded_chats"), None)?.dyn_into()?;
    ta.set_value(&s.excluded_chats.join("\n"));
    ta.set_attribute("rows", "3")?;
    for f in ["default_region", "search_contacts", "backup_window_days"] {
        if doc.get_element_by_id(&format!("err-{f}")).is_none() {
            el(doc, &form, "span", Some(&format!("err-{f}")), None)?.set_class_name("error");
        }
    }
    let submit = el(doc, &form, "button", Some("settings-save"), Some(&tk("save")))?;
    submit.set_attribute("type", "submit")?;
    el(doc, &form, "p", Some("settings-status"), None)?.set_attribute("role", "status")?;
    let d = doc.clone();
    // Set from the panel, per chat: kept as they are.
    let unmasked = s.unmasked_chats.clone();
    let cb = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
        ev.prevent_default();
        let excluded = d
            .get_element_by_id("f-excluded_chats")
            .and_then(|e| e.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
            .map(|t| t.value())
            .unwrap_or_default();
        let s = Settings {
            default_region: input_value(&d, "default_region").trim().to_uppercase(),
            search_contacts: checked(&d, "search_contacts"),
            search_leads: checked(&d, "search_leads"),
            backup_notes: checked(&d, "backup_notes"),
            backup_deals: checked(&d, "backup_deals"),
            backup_custom_object: checked(&d, "backup_custom_object"),
            backup_activities: checked(&d, "backup_activities"),
            excluded_chats: excluded
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            sync_enabled: checked(&d, "sync_enabled"),
            // Not a number: 0, which validation turns into a plain error next to the field.
            backup_window_days: input_value(&d, "backup_window_days").trim().parse().unwrap_or(0),
            mask_cards: checked(&d, "mask_cards"),
            mask_ids: checked(&d, "mask_ids"),
            mask_codes: checked(&d, "mask_codes"),
            unmasked_chats: unmasked.clone(),
        };
        let d2 = d.clone();
        spawn(async move {
            for f in ["default_region", "search_contacts", "backup_window_days"] {
                set_text(&d2, &format!("err-{f}"), "");
            }
            let r = ask_action(&Request::SaveSettings { settings: s }).await?;
            for e in &r.field_errors {
                set_text(&d2, &format!("err-{}", e.field), &chrome::i18n(&e.key, &[]));
            }
            set_text(&d2, "settings-status", &tk(if r.ok { "saved" } else { "errInvalid" }));
            Ok(())
        });
    });
    form.add_event_listener_with_callback("submit", cb.as_ref().unchecked_ref())?;
    cb.forget();
    Ok(())
}

/// Export: the worker's JSON, downloaded as a file (no tokens or keys in it).
fn export_section(doc: &Document, root: &Element) -> Result<(), JsValue> {
    let sec = el(doc, root, "section", Some("export"), None)?;
    el(doc, &sec, "h2", None, Some(&tk("exportTitle")))?;
    let b = button(doc, &sec, "export-button", &tk("exportButton"))?;
    el(doc, &sec, "p", Some("export-status"), None)?.set_attribute("role", "status")?;
    let d = doc.clone();
    on_click(&b, move || {
        let d = d.clone();
        spawn(async move {
            let v: serde_json::Value =
                serde_wasm_bindgen::from_value(ask(&Request::Export).await?).map_err(js_err)?;
            let text = serde_json::to_string_pretty(&v).map_err(js_err)?;
            let parts = js_sys::Array::of1(&JsValue::from_str(&text));
            let opts = web_sys::BlobPropertyBag::new();
            opts.set_type("application/json");
            let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)?;
            let url = web_sys::Url::create_object_url_with_blob(&blob)?;
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
        })
    })
}

fn diagnostics_section(
    doc: &Document,
    root: &Element,
    diag: &serde_json::Value,
) -> Result<(), JsValue> {
    let sec = el(doc, root, "section", Some("diagnostics"), None)?;
    el(doc, &sec, "h2", None, Some(&tk("diagTitle")))?;
    let dl = el(doc, &sec, "dl", None, None)?;
    let cap = diag.get("capture").cloned().unwrap_or(serde_json::Value::Null);
    let skipped = cap.get("skipped").map(|s| s.to_string()).unwrap_or_else(|| "{}".into());
    let state = diag.get("state").cloned().unwrap_or_default();
    let rows: Vec<(&'static str, &str, String)> = vec![
        (
            "diagCapture",
            "diag-capture",
            format!(
                "{} / {} / {}",
                cap.get("rows_seen").map(|v| v.to_string()).unwrap_or_else(|| "0".into()),
                cap.get("parsed").map(|v| v.to_string()).unwrap_or_else(|| "0".into()),
                skipped
            ),
        ),
        (
            "diagPending",
            "diag-pending",
            diag.get("pending").map(|v| v.to_string()).unwrap_or_default(),
        ),
        (
            "diagLastError",
            "diag-last-error",
            state.get("last_error").and_then(|e| e.as_str()).unwrap_or("—").to_string(),
        ),
        (
            "diagParked",
            "diag-parked",
            diag.get("parked")
                .and_then(|p| p.as_array())
                .map(|p| {
                    p.iter()
                        .filter_map(|x| x.get("reason")?.as_str().map(str::to_string))
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "—".into()),
        ),
        (
            "diagHealth",
            "diag-health",
            cap.get("health")
                .and_then(|h| serde_json::from_value(h.clone()).ok())
                .map(|h| crate::capture::health_lines(&h).join("; "))
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| "—".into()),
        ),
        ("diagBudget", "diag-budget", budget_line(diag.get("budget"))),
        (
            "diagContentError",
            "diag-content-error",
            diag.get("content_error").and_then(|e| e.as_str()).unwrap_or("—").to_string(),
        ),
    ];
    for (label, id, value) in rows {
        el(doc, &dl, "dt", None, Some(&tk(label)))?;
        el(doc, &dl, "dd", Some(id), Some(&value))?;
    }
    let log = el(doc, &sec, "ol", Some("diag-log"), None)?;
    for e in diag.get("log").and_then(|l| l.as_array()).into_iter().flatten() {
        let at =
            e.get("at_ms").and_then(|t| t.as_i64()).map(view::absolute_utc).unwrap_or_default();
        el(
            doc,
            &log,
            "li",
            None,
            Some(&format!("{at} {}", e.get("text").and_then(|t| t.as_str()).unwrap_or(""))),
        )?;
    }
    Ok(())
}

/// "Zoho CRM: 26 left; Salesforce: 14,900 left of 15,000".
fn budget_line(b: Option<&serde_json::Value>) -> String {
    let parts: Vec<String> = b
        .and_then(|b| b.as_object())
        .into_iter()
        .flatten()
        .filter_map(|(crm, v)| {
            let left = v.get("remaining")?.as_u64()?;
            Some(match v.get("limit").and_then(|l| l.as_u64()) {
                Some(max) => {
                    chrome::i18n("budgetLeftOf", &[crm.clone(), left.to_string(), max.to_string()])
                }
                None => chrome::i18n("budgetLeft", &[crm.clone(), left.to_string()]),
            })
        })
        .collect();
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join("; ")
    }
}

async fn render_options() -> Result<(), JsValue> {
    let doc = document()?;
    let root = doc.get_element_by_id("app").ok_or_else(|| js_err("options.html lacks #app"))?;
    let diag = diagnostics().await?;
    let settings: Settings =
        serde_wasm_bindgen::from_value(ask(&Request::GetSettings).await?).map_err(js_err)?;
    let ob: serde_json::Value =
        serde_wasm_bindgen::from_value(ask(&Request::Onboarding).await?).map_err(js_err)?;
    root.set_text_content(None);
    el(&doc, &root, "h1", None, Some(&tk("optionsTitle")))?;
    first_run_section(&doc, &root, &ob, &settings)?;
    let crms = el(&doc, &root, "section", Some("connections"), None)?;
    el(&doc, &crms, "h2", None, Some(&tk("connectionsTitle")))?;
    for crm in [Crm::Zoho, Crm::Salesforce, Crm::Leadsquared] {
        connect_section(&doc, &crms, crm, &diag, &ob)?;
    }
    settings_section(&doc, &root, &settings)?;
    let sync = el(&doc, &root, "section", Some("sync"), None)?;
    sync_now(&doc, &sync)?;
    export_section(&doc, &root)?;
    diagnostics_section(&doc, &root, &diag)?;
    Ok(())
}

fn sync_now(doc: &Document, parent: &Element) -> Result<(), JsValue> {
    let b = button(doc, parent, "sync-now", &tk("syncNow"))?;
    el(doc, parent, "p", Some("sync-status"), None)?.set_attribute("role", "status")?;
    let d = doc.clone();
    on_click(&b, move || {
        let d = d.clone();
        spawn(async move {
            set_text(&d, "sync-status", &tk("syncSyncing"));
            let r: serde_json::Value =
                serde_wasm_bindgen::from_value(ask(&Request::SyncNow).await?).map_err(js_err)?;
            let text = match r.get("skipped_reason").and_then(|s| s.as_str()) {
                Some(why) => chrome::i18n("syncFailed", &[why.to_string()]),
                None => chrome::i18n(
                    "syncDone",
                    &[r.get("settled").map(|v| v.to_string()).unwrap_or_default()],
                ),
            };
            set_text(&d, "sync-status", &text);
            Ok(())
        })
    })
}

#[wasm_bindgen]
pub async fn options_main() -> Result<(), JsValue> {
    render_options().await
}

/// The toolbar popup: connected CRMs, last sync, pending, errors, "Sync now".
#[wasm_bindgen]
pub async fn popup_main() -> Result<(), JsValue> {
    let doc = document()?;
    let root = doc.get_element_by_id("app").ok_or_else(|| js_err("popup.html lacks #app"))?;
    let diag = diagnostics().await?;
    root.set_text_content(None);
    // The product's name as the title; its version is for support, in a muted line at the end.
    el(&doc, &root, "h1", Some("product"), Some(&tk("panelTitle")))?;
    let connected = crms_in(&diag, "connected");
    let reconnect = crms_in(&diag, "reconnect_needed");
    let ul = el(&doc, &root, "ul", Some("popup-crms"), None)?;
    for crm in [Crm::Zoho, Crm::Salesforce, Crm::Leadsquared] {
        let k = crm_key(crm);
        let state = if reconnect.iter().any(|c| c == k) {
            "crmReconnect"
        } else if connected.iter().any(|c| c == k) {
            "crmConnected"
        } else {
            "crmNotConnected"
        };
        el(
            &doc,
            &ul,
            "li",
            Some(&format!("popup-{k}")),
            Some(&format!("{}: {}", crm.name(), tk(state))),
        )?;
    }
    let state = diag.get("state").cloned().unwrap_or_default();
    let last = state.get("last_finished_ms").and_then(|t| t.as_i64());
    let now = js_sys::Date::now() as i64;
    let line = el(
        &doc,
        &root,
        "p",
        Some("popup-last"),
        Some(&chrome::i18n(view::last_synced(now, last).key, &view::last_synced(now, last).args)),
    )?;
    if let Some(t) = last {
        line.set_attribute("title", &view::absolute_utc(t))?;
    }
    let pending = diag.get("pending").and_then(|p| p.as_u64()).unwrap_or(0);
    el(
        &doc,
        &root,
        "p",
        Some("popup-pending"),
        Some(&chrome::i18n("syncPending", &[pending.to_string()])),
    )?;
    let mut errors: Vec<String> = state
        .get("last_error")
        .and_then(|e| e.as_str())
        .map(|e| vec![e.to_string()])
        .unwrap_or_default();
    errors.extend(
        diag.get("parked")
            .and_then(|p| p.as_array())
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("reason")?.as_str().map(str::to_string)),
    );
    let errs = el(&doc, &root, "ul", Some("popup-errors"), None)?;
    for e in errors.iter().take(5) {
        el(&doc, &errs, "li", None, Some(e))?.set_class_name("error");
    }
    // Proof of what was saved: the last few documents, each with a link that opens it.
    let saved: Vec<view::Receipt> =
        diag.get("saved").cloned().and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default();
    if !saved.is_empty() {
        let list = crate::core::ui::Node::new(crate::core::ui::Tag::Div)
            .id("popup-saved")
            .child(crate::core::ui::Node::new(crate::core::ui::Tag::H3).key("popupSavedTitle"))
            .child(
                crate::core::ui::Node::new(crate::core::ui::Tag::Ul)
                    .children(saved.iter().map(crate::core::panel::receipt_item)),
            );
        let none: super::dom::Handler = std::rc::Rc::new(|_, _| {});
        super::dom::render(&doc, &root, &list, &none)?;
    }
    sync_now(&doc, &root)?;
    let o = button(&doc, &root, "open-options", &tk("openOptions"))?;
    o.set_class_name("secondary");
    on_click(&o, chrome::open_options_page)?;
    let version = chrome::i18n("versionLine", &[env!("CARGO_PKG_VERSION").to_string()]);
    el(&doc, &root, "p", Some("popup-version"), Some(&version))?.set_class_name("muted");
    Ok(())
}

thread_local! {
    /// The rep clicked Finish in this page: say where the first backup appears.
    static JUST_FINISHED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn step_of(ob: &serde_json::Value) -> &str {
    ob.get("step").and_then(|s| s.as_str()).unwrap_or("done")
}

fn offers(ob: &serde_json::Value, crm: Crm) -> bool {
    ob.pointer(&format!("/offer/{}", crm_key(crm))).and_then(|o| o.as_bool()).unwrap_or(false)
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

/// One-click sign-in with the product's app (Zoho: the data centre, guessed; Salesforce:
/// production, sandbox or My Domain), or LeadSquared's two keys (its docs' only way).
fn sign_in_block(
    doc: &Document,
    sec: &Element,
    crm: Crm,
    ob: &serde_json::Value,
) -> Result<(), JsValue> {
    let k = crm_key(crm);
    let block = el(doc, sec, "div", Some(&format!("signin-block-{k}")), None)?;
    block.set_class_name("signin");
    if crm != Crm::Leadsquared && !offers(ob, crm) {
        el(doc, &block, "p", None, Some(&tk("noProductApp")))?.set_class_name("muted");
        return Ok(());
    }
    if let Some(p) = ob.pointer("/offer/problem").and_then(|p| p.as_str()) {
        el(doc, &block, "p", Some(&format!("signin-problem-{k}")), Some(p))?
            .set_class_name("error");
    }
    match crm {
        Crm::Zoho => {
            let (lang, tz) = browser_locale();
            let guess = crate::crm::signin::guess_dc(&tz, &lang);
            let dcs: Vec<(String, String)> = ZohoDc::ALL
                .iter()
                .map(|d| (format!("{d:?}"), crate::crm::signin::dc_name(*d).to_string()))
                .collect();
            select(doc, &block, "signin-zoho-dc", "fieldZohoRegion", &dcs)?;
            if let Some(s) = doc
                .get_element_by_id("f-signin-zoho-dc")
                .and_then(|e| e.dyn_into::<web_sys::HtmlSelectElement>().ok())
            {
                s.set_value(&format!("{guess:?}"));
            }
        }
        Crm::Salesforce => {
            let kinds = [
                ("production", tk("sfLoginProduction")),
                ("sandbox", tk("sfLoginSandbox")),
                ("mydomain", tk("sfLoginMyDomain")),
            ]
            .map(|(v, t)| (v.to_string(), t));
            select(doc, &block, "signin-sf-login", "fieldSfLogin", &kinds)?;
            field(doc, &block, "signin-sf-domain", "fieldMyDomain", "")?;
        }
        Crm::Leadsquared => {
            el(doc, &block, "p", None, Some(&tk("lsqKeysHelp")))?.set_class_name("muted");
            field(doc, &block, "signin-lsq-access", "fieldAccessKey", "")?;
            field(doc, &block, "signin-lsq-secret", "fieldSecretKey", "")?;
            if let Some(e) = doc.get_element_by_id("f-signin-lsq-secret") {
                e.set_attribute("type", "password")?;
                e.set_attribute("autocomplete", "off")?;
            }
        }
    }
    let label = match crm {
        Crm::Zoho => tk("signInZoho"),
        Crm::Salesforce => tk("signInSalesforce"),
        Crm::Leadsquared => tk("connectLeadsquared"),
    };
    let b = button(doc, &block, &format!("signin-{k}"), &label)?;
    b.set_class_name("primary");
    el(doc, &block, "p", Some(&format!("signin-{k}-status")), None)?
        .set_attribute("role", "status")?;
    let d = doc.clone();
    on_click(&b, move || {
        let d = d.clone();
        let req = match crm {
            Crm::Zoho => {
                let dc =
                    serde_json::from_value(serde_json::json!(select_value(&d, "signin-zoho-dc")))
                        .ok();
                Request::SignIn { crm, zoho_dc: dc, login_host: None }
            }
            Crm::Salesforce => {
                let host = match select_value(&d, "signin-sf-login").as_str() {
                    "sandbox" => "test.salesforce.com".to_string(),
                    "mydomain" => input_value(&d, "signin-sf-domain").trim().to_string(),
                    _ => "login.salesforce.com".to_string(),
                };
                Request::SignIn { crm, zoho_dc: None, login_host: Some(host) }
            }
            Crm::Leadsquared => {
                let credentials = crate::crm::connect::Credentials::Leadsquared {
                    access_key: input_value(&d, "signin-lsq-access").trim().to_string(),
                    secret_key: input_value(&d, "signin-lsq-secret").trim().to_string(),
                };
                Request::Connect { credentials }
            }
        };
        spawn(async move {
            let status_id = format!("signin-{}-status", crm_key(crm));
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
        })
    })?;
    Ok(())
}

/// A CRM's last setup check: each line with its fix, and "Check again".
fn setup_block(
    doc: &Document,
    parent: &Element,
    crm: Crm,
    ob: &serde_json::Value,
) -> Result<(), JsValue> {
    let k = crm_key(crm);
    let box_ = el(doc, parent, "div", Some(&format!("setup-{k}")), None)?;
    box_.set_class_name("setup");
    el(doc, &box_, "h4", None, Some(&format!("{}: {}", tk("setupTitle"), crm.name())))?;
    let report = ob
        .get("reports")
        .and_then(|r| r.as_array())
        .and_then(|rs| rs.iter().find(|r| r.get("crm").and_then(|c| c.as_str()) == Some(k)));
    let summary = el(doc, &box_, "p", Some(&format!("setup-{k}-summary")), None)?;
    summary.set_attribute("role", "status")?;
    match report {
        None => summary.set_text_content(Some(&tk("setupNotRun"))),
        Some(r) => {
            let lines = r.get("lines").and_then(|l| l.as_array()).cloned().unwrap_or_default();
            let failed =
                lines.iter().any(|l| l.get("state").and_then(|s| s.as_str()) == Some("fail"));
            summary.set_text_content(Some(&tk(if failed { "setupFailed" } else { "setupPassed" })));
            box_.set_attribute("data-passed", if failed { "false" } else { "true" })?;
            let ul = el(doc, &box_, "ul", Some(&format!("setup-{k}-lines")), None)?;
            for l in lines {
                let id = l.get("id").and_then(|i| i.as_str()).unwrap_or("line");
                let state = l.get("state").and_then(|s| s.as_str()).unwrap_or("fail");
                let mark = match state {
                    "pass" => "✓",
                    "warn" => "!",
                    _ => "✗",
                };
                // The line's message in the browser's language; a report stored before lines
                // carried messages shows its English text.
                let said = |msg: &str, english: &str| {
                    l.get(msg)
                        .and_then(|m| {
                            serde_json::from_value::<crate::core::i18n::Sentence>(m.clone()).ok()
                        })
                        .map(|m| chrome::say(&m))
                        .or_else(|| l.get(english).and_then(|t| t.as_str()).map(str::to_string))
                };
                let text = said("msg", "text").unwrap_or_default();
                let li = el(
                    doc,
                    &ul,
                    "li",
                    Some(&format!("setup-{k}-{id}")),
                    Some(&format!("{mark} {text}")),
                )?;
                li.set_attribute("data-state", state)?;
                if let Some(fix) = said("fix_msg", "fix").filter(|_| state != "pass") {
                    el(doc, &li, "p", None, Some(&fix))?.set_class_name("fix");
                }
            }
        }
    }
    let again = button(doc, &box_, &format!("check-{k}"), &tk("checkAgain"))?;
    again.set_class_name("secondary");
    on_click(&again, move || {
        spawn(async move {
            ask(&Request::SetupCheck { crm }).await?;
            render_options().await
        })
    })?;
    Ok(())
}

/// For Salesforce admins: create `WhatsApp_Chat__c` and its fields in the org. It changes
/// the org, so the admin confirms first; the worker does the calls, then the setup check
/// runs again and says where backups go.
fn chat_object_block(doc: &Document, parent: &Element) -> Result<(), JsValue> {
    let box_ = el(doc, parent, "div", Some("chat-object"), None)?;
    box_.set_class_name("setup");
    el(doc, &box_, "h4", None, Some(&tk("chatObjectTitle")))?;
    el(doc, &box_, "p", None, Some(&tk("chatObjectIntro")))?;
    let create = button(doc, &box_, "chat-object-create", &tk("chatObjectCreate"))?;
    create.set_class_name("secondary");
    let confirm = el(doc, &box_, "div", Some("chat-object-confirm"), None)?;
    confirm.set_attribute("hidden", "")?;
    el(doc, &confirm, "p", Some("chat-object-confirm-text"), Some(&tk("chatObjectConfirm")))?;
    let yes = button(doc, &confirm, "chat-object-yes", &tk("chatObjectYes"))?;
    let no = button(doc, &confirm, "chat-object-no", &tk("confirmNo"))?;
    no.set_class_name("secondary");
    el(doc, &box_, "p", Some("chat-object-status"), None)?.set_attribute("role", "status")?;
    let shown = confirm.clone();
    on_click(&create, move || {
        let _ = shown.remove_attribute("hidden");
    })?;
    let hidden = confirm.clone();
    on_click(&no, move || {
        let _ = hidden.set_attribute("hidden", "");
    })?;
    on_click(&yes, move || {
        spawn(async move {
            let doc = document()?;
            set_text(&doc, "chat-object-status", &tk("working"));
            let reply = ask_action(&Request::CreateChatObject).await?;
            // The setup check ran again in the worker: show it, then what happened.
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
        })
    })?;
    Ok(())
}

/// The guided first run: pick a CRM and sign in (the CRM sections below), then the setup
/// check and the default phone region here, then where the first backup will appear.
fn first_run_section(
    doc: &Document,
    root: &Element,
    ob: &serde_json::Value,
    settings: &Settings,
) -> Result<(), JsValue> {
    let step = step_of(ob);
    if step == "done" && !JUST_FINISHED.with(|j| j.get()) {
        return Ok(());
    }
    let sec = el(doc, root, "section", Some("first-run"), None)?;
    sec.set_attribute("data-step", step)?;
    el(doc, &sec, "h2", None, Some(&tk("firstRunTitle")))?;
    let connected: Vec<Crm> = ob
        .get("connected")
        .and_then(|c| serde_json::from_value(c.clone()).ok())
        .unwrap_or_default();
    match step {
        "pick_crm" => {
            el(doc, &sec, "p", Some("first-run-intro"), Some(&tk("firstRunIntro")))?;
        }
        "finish" => {
            for crm in &connected {
                setup_block(doc, &sec, *crm, ob)?;
            }
            el(doc, &sec, "h3", None, Some(&tk("firstRegionTitle")))?;
            el(doc, &sec, "p", None, Some(&tk("firstRegionHelp")))?.set_class_name("muted");
            let (lang, _) = browser_locale();
            // The number WhatsApp Web is signed in with, once a WhatsApp tab reported it.
            let own = ob.get("own_number").and_then(|v| v.as_str()).unwrap_or("");
            let guess = crate::core::first_run::guess_region(&lang, Some(own));
            // A region the rep already saved wins over the guess.
            let region = if settings.default_region != Settings::default().default_region {
                settings.default_region.clone()
            } else {
                guess
            };
            field(doc, &sec, "first-region", "fieldRegion", &region)?;
            field(doc, &sec, "first-own-number", "fieldOwnNumber", own)?;
            let d = doc.clone();
            if let Some(own) = doc.get_element_by_id("f-first-own-number") {
                let cb = Closure::<dyn FnMut()>::new(move || {
                    let n = input_value(&d, "first-own-number");
                    let (lang, _) = browser_locale();
                    if let Some(e) = d
                        .get_element_by_id("f-first-region")
                        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
                    {
                        e.set_value(&crate::core::first_run::guess_region(&lang, Some(&n)));
                    }
                });
                own.add_event_listener_with_callback("input", cb.as_ref().unchecked_ref())?;
                cb.forget();
            }
            let b = button(doc, &sec, "first-finish", &tk("firstFinish"))?;
            b.set_class_name("primary");
            el(doc, &sec, "p", Some("first-status"), None)?.set_attribute("role", "status")?;
            let d = doc.clone();
            let base = settings.clone();
            on_click(&b, move || {
                let d = d.clone();
                let s = Settings {
                    default_region: input_value(&d, "first-region").trim().to_uppercase(),
                    ..base.clone()
                };
                spawn(async move {
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
                })
            })?;
        }
        _ => {
            let where_: Vec<String> = connected
                .iter()
                .map(|c| {
                    tk(match c {
                        Crm::Zoho => "whereZoho",
                        Crm::Salesforce => "whereSalesforce",
                        Crm::Leadsquared => "whereLeadsquared",
                    })
                })
                .collect();
            el(
                doc,
                &sec,
                "p",
                Some("first-done"),
                Some(&chrome::i18n(
                    "firstDone",
                    &[settings.backup_window_days.to_string(), where_.join("; ")],
                )),
            )?
            .set_attribute("role", "status")?;
            let b = button(doc, &sec, "open-whatsapp", &tk("openWhatsApp"))?;
            b.set_class_name("primary");
            on_click(&b, || {
                if let Some(w) = web_sys::window() {
                    let _ = w.open_with_url_and_target("https://web.whatsapp.com/", "_blank");
                }
            })?;
        }
    }
    Ok(())
}
