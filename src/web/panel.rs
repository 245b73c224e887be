//! The Mini-CRM panel frame (extension origin). Renders with text nodes only.
use super::{chrome, js_err, to_js};
use crate::core::protocol::Request;
use crate::core::status;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

fn document() -> Result<Document, JsValue> {
    web_sys::window().and_then(|w| w.document()).ok_or_else(|| js_err("no document"))
}

fn line(doc: &Document, parent: &Element, id: &str, text: &str) -> Result<(), JsValue> {
    let p = doc.create_element("p")?;
    p.set_id(id);
    p.set_text_content(Some(text));
    parent.append_child(&p)?;
    Ok(())
}

/// `blocked`: the reason the content script could not run wasm, when it could not.
#[wasm_bindgen]
pub async fn panel_main(blocked: Option<String>) -> Result<(), JsValue> {
    let doc = document()?;
    let root = doc.get_element_by_id("app").ok_or_else(|| js_err("panel.html lacks #app"))?;
    root.set_text_content(None);
    line(&doc, &root, "product", &status::product_line())?;
    if let Some(reason) = blocked {
        line(&doc, &root, "capture", &status::capture_blocked_line(&reason))?;
    }
    let worker = match chrome::send_message(&to_js(&Request::Status)?).await {
        Ok(_) => "Service worker: running".to_string(),
        Err(e) => format!("Service worker: not answering ({})", e.as_string().unwrap_or_default()),
    };
    line(&doc, &root, "worker", &worker)?;
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
