//! Bindings to the few chrome.* APIs we use (MV3: promise-returning forms).
use wasm_bindgen::prelude::*;

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
    #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = openOptionsPage, catch)]
    fn open_options_page_raw() -> Result<js_sys::Promise, JsValue>;
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
    #[wasm_bindgen(js_namespace = ["chrome", "storage", "local"], js_name = get, catch)]
    fn storage_local_get_raw(key: &str) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "i18n"], js_name = getMessage)]
    fn i18n_get_message_raw(key: &str, substitutions: &js_sys::Array) -> String;
}

/// One `chrome.storage.local` value as JSON (`Null` when absent).
pub async fn storage_get_json(key: &str) -> Result<serde_json::Value, JsValue> {
    let all = wasm_bindgen_futures::JsFuture::from(storage_local_get_raw(key)?).await?;
    let v = js_sys::Reflect::get(&all, &key.into())?;
    if v.is_undefined() || v.is_null() {
        return Ok(serde_json::Value::Null);
    }
    serde_wasm_bindgen::from_value(v).map_err(|e| super::js_err(format!("storage {key}: {e}")))
}

/// A localized string from `_locales`; the key itself when the message is missing, so a gap shows.
pub fn i18n(key: &str, args: &[String]) -> String {
    let subs = js_sys::Array::new();
    for a in args {
        subs.push(&JsValue::from_str(a));
    }
    let s = i18n_get_message_raw(key, &subs);
    if s.is_empty() { key.to_string() } else { s }
}
