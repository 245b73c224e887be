//! Bindings to the few chrome.* APIs we use (MV3: promise-returning forms).
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = getURL)]
    pub fn runtime_get_url(path: &str) -> String;

    #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = sendMessage, catch)]
    fn runtime_send_message_raw(message: &JsValue) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(thread_local_v2, js_namespace = ["chrome", "runtime"], js_name = id)]
    pub static RUNTIME_ID: String;

    #[wasm_bindgen(js_namespace = ["chrome", "alarms"], js_name = create, catch)]
    fn alarms_create_raw(name: &str, info: &JsValue) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "alarms"], js_name = get, catch)]
    fn alarms_get_raw(name: &str) -> Result<js_sys::Promise, JsValue>;
}

#[wasm_bindgen]
extern "C" {
    // Listing tabs needs no permission: only their url, title and icon would ("tabs").
    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = query, catch)]
    fn tabs_query_raw(info: &JsValue) -> Result<js_sys::Promise, JsValue>;
}

/// The ids of every open tab, or None when the browser could not list them.
pub async fn open_tab_ids() -> Option<std::collections::BTreeSet<i64>> {
    let p = tabs_query_raw(&js_sys::Object::new()).ok()?;
    let tabs: js_sys::Array =
        wasm_bindgen_futures::JsFuture::from(p).await.ok()?.dyn_into().ok()?;
    Some(
        tabs.iter()
            .filter_map(|t| js_sys::Reflect::get(&t, &"id".into()).ok()?.as_f64())
            .map(|id| id as i64)
            .collect(),
    )
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = openOptionsPage, catch)]
    fn open_options_page_raw() -> Result<js_sys::Promise, JsValue>;
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["chrome", "identity"], js_name = getRedirectURL, catch)]
    fn identity_redirect_url_raw() -> Result<String, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "identity"], js_name = launchWebAuthFlow, catch)]
    fn launch_web_auth_flow_raw(details: &JsValue) -> Result<js_sys::Promise, JsValue>;
}

/// `https://<extension id>.chromiumapp.org/`: where the CRM sends the browser back.
pub fn identity_redirect_url() -> Result<String, JsValue> {
    identity_redirect_url_raw()
}

/// Open the CRM's sign-in page; resolves with the URL the CRM redirected to.
pub async fn launch_web_auth_flow(url: &str) -> Result<String, JsValue> {
    let details = js_sys::Object::new();
    js_sys::Reflect::set(&details, &"url".into(), &url.into())?;
    js_sys::Reflect::set(&details, &"interactive".into(), &JsValue::TRUE)?;
    let v = wasm_bindgen_futures::JsFuture::from(launch_web_auth_flow_raw(&details)?).await?;
    v.as_string().ok_or_else(|| super::js_err("the sign-in window closed without an answer"))
}

/// Cryptographically random bytes (Web Crypto), for OAuth `state` and PKCE.
pub fn random_bytes() -> Result<[u8; 32], JsValue> {
    let crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())?;
    let f: js_sys::Function =
        js_sys::Reflect::get(&crypto, &"getRandomValues".into())?.dyn_into()?;
    let arr = js_sys::Uint8Array::new_with_length(32);
    f.call1(&crypto, &arr)?;
    let mut out = [0u8; 32];
    arr.copy_to(&mut out);
    Ok(out)
}

/// Open the options page (extension pages only; no eval: the extension CSP forbids it).
pub fn open_options_page() {
    if let Ok(p) = open_options_page_raw() {
        wasm_bindgen_futures::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(p).await;
        });
    }
}

pub fn runtime_id() -> String {
    RUNTIME_ID.with(|s| s.clone())
}

/// Send a message to the service worker and await its reply.
pub async fn send_message(message: &JsValue) -> Result<JsValue, JsValue> {
    let p = runtime_send_message_raw(message)?;
    wasm_bindgen_futures::JsFuture::from(p).await
}

/// Send a request the worker may refuse: its `{ok: false, error}` answer (a refused sender,
/// a cap, a failed handler) is an error here, so the caller keeps what was not taken.
pub async fn send_request(message: &JsValue) -> Result<JsValue, JsValue> {
    let v = send_message(message).await?;
    if js_sys::Reflect::get(&v, &"ok".into()).ok().and_then(|o| o.as_bool()) == Some(false) {
        return Err(js_sys::Reflect::get(&v, &"error".into()).unwrap_or(JsValue::NULL));
    }
    Ok(v)
}

/// The existing alarm with this name, if any.
pub async fn alarm_exists(name: &str) -> Result<bool, JsValue> {
    let v = wasm_bindgen_futures::JsFuture::from(alarms_get_raw(name)?).await?;
    Ok(!v.is_undefined() && !v.is_null())
}

/// Create (or replace) a repeating alarm.
pub async fn alarm_create_periodic(name: &str, period_minutes: f64) -> Result<(), JsValue> {
    let info = js_sys::Object::new();
    js_sys::Reflect::set(&info, &"periodInMinutes".into(), &period_minutes.into())?;
    js_sys::Reflect::set(&info, &"delayInMinutes".into(), &period_minutes.into())?;
    wasm_bindgen_futures::JsFuture::from(alarms_create_raw(name, &info)?).await?;
    Ok(())
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["chrome", "i18n"], js_name = getMessage)]
    fn i18n_get_message_raw(key: &str, substitutions: &js_sys::Array) -> String;
    /// The browser's UI language (`pt-BR`): the locale messages and formats follow.
    #[wasm_bindgen(js_namespace = ["chrome", "i18n"], js_name = getUILanguage)]
    pub fn ui_language() -> String;
}

thread_local! {
    /// The compiled-in catalogue for the UI language, parsed on first need.
    static BUILT_IN: std::cell::OnceCell<crate::core::i18n::Catalog> = const { std::cell::OnceCell::new() };
}

/// A localized string from `_locales`; the key itself when the message is missing, so a gap shows.
///
/// Chromium keeps one message map per extension process, fetched on the first `getMessage`;
/// when an extension page closes while that fetch is in flight (a rep closing the options page
/// as it opens) the map stays empty for every page and the worker until the process ends. An
/// empty answer is therefore read from the same catalogues compiled in, as Chrome would fill it.
pub fn i18n(key: &str, args: &[String]) -> String {
    let subs = js_sys::Array::new();
    for a in args {
        subs.push(&JsValue::from_str(a));
    }
    let s = i18n_get_message_raw(key, &subs);
    if !s.is_empty() {
        return s;
    }
    BUILT_IN.with(|c| {
        c.get_or_init(|| crate::core::i18n::Catalog::for_ui_language(&ui_language())).get(key, args)
    })
}

/// A sentence in the browser's language (the worker renders sign-in and connect failures for
/// the page that asked, which shows them as they come).
pub fn say(s: &crate::core::i18n::Sentence) -> String {
    s.render(&|k, a| i18n(k, a))
}
