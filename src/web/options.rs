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
    let form = el(doc, &sec, "form", Some(&format!("connect-{k}")), None)?;
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
            &sec,
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
    root.set_text_content(None);
    el(&doc, &root, "h1", None, Some(&tk("optionsTitle")))?;
    let crms = el(&doc, &root, "section", Some("connections"), None)?;
    el(&doc, &crms, "h2", None, Some(&tk("connectionsTitle")))?;
    for crm in [Crm::Zoho, Crm::Salesforce, Crm::Leadsquared] {
        connect_section(&doc, &crms, crm, &diag)?;
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
    el(&doc, &root, "h1", Some("product"), Some(&crate::core::status::product_line()))?;
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
    sync_now(&doc, &root)?;
    let o = button(&doc, &root, "open-options", &tk("openOptions"))?;
    o.set_class_name("secondary");
    on_click(&o, chrome::open_options_page)?;
    Ok(())
}
