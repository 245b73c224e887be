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
