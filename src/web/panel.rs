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
