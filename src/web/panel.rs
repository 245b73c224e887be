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
    /// The relay's scan state for this panel's tab: context, counters, and what was sent.
    static RELAY: std::cell::RefCell<(crate::capture::ScanContext, crate::capture::Counters, std::collections::BTreeMap<String, u64>, Option<u32>)> = Default::default();
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
    let found = RELAY.with(|r| {
        let mut r = r.borrow_mut();
        let (ctx, counters, _, _) = &mut *r;
        if ctx.chat != identity.chat_key() {
            *ctx = crate::capture::ScanContext { chat: identity.chat_key(), is_group: identity.is_group, locale, ..Default::default() };
        }
        let found = crate::capture::scan(&rows, ctx, counters);
        let (_, counters, sent, _) = &mut *r;
        let fresh: Vec<_> = found
            .into_iter()
            .filter(|m| {
                let d = serde_json::to_vec(m).map(|b| crate::core::outbox::fnv1a64(&b)).unwrap_or(0);
                sent.insert(m.key.clone(), d) != Some(d)
            })
            .collect();
        if let Ok(v) = to_js(&*counters) {
            let _ = js_sys::Reflect::set(&js_sys::global(), &"__crmsync_relay".into(), &v);
        }
        fresh
    });
    if !found.is_empty() {
        chrome::send_message(&to_js(&Request::Captured { identity, messages: found })?).await?;
    }
    Ok(())
}
