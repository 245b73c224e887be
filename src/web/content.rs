//! Content script on web.whatsapp.com: runs in the extension's isolated world.
//! It reads WhatsApp's DOM and inserts the panel frame; CRM data never enters the page.
use super::{chrome, js_err, to_js};
use crate::core::protocol::Request;
use wasm_bindgen::prelude::*;
use web_sys::{Document, HtmlIFrameElement};

const PANEL_ID: &str = "crmsync-panel";

/// Diagnostics live on the isolated world's global, invisible to the page's scripts.
fn set_diag(key: &str, value: &JsValue) {
    let global = js_sys::global();
    let diag = match js_sys::Reflect::get(&global, &"__crmsync".into()) {
        Ok(d) if d.is_object() => d,
        _ => {
            let d: JsValue = js_sys::Object::new().into();
            let _ = js_sys::Reflect::set(&global, &"__crmsync".into(), &d);
            d
        }
    };
    let _ = js_sys::Reflect::set(&diag, &key.into(), value);
}

fn document() -> Result<Document, JsValue> {
    web_sys::window().and_then(|w| w.document()).ok_or_else(|| js_err("no document"))
}

/// Insert the extension-origin panel frame once, docked at the right edge.
pub fn insert_panel(doc: &Document) -> Result<HtmlIFrameElement, JsValue> {
    if let Some(existing) = doc.get_element_by_id(PANEL_ID) {
        return existing.dyn_into::<HtmlIFrameElement>().map_err(|_| js_err("panel id taken by another element"));
    }
    let frame: HtmlIFrameElement = doc.create_element("iframe")?.dyn_into()?;
    frame.set_id(PANEL_ID);
    frame.set_src(&chrome::runtime_get_url("panel.html"));
    frame.set_attribute("title", "crmsync")?;
    frame.set_attribute(
        "style",
        "position:fixed;top:0;right:0;width:320px;height:100vh;border:0;border-left:1px solid #d1d7db;z-index:1000;background:transparent",
    )?;
    doc.body().ok_or_else(|| js_err("no body"))?.append_child(&frame)?;
    Ok(frame)
}

#[wasm_bindgen]
pub fn content_main() -> Result<(), JsValue> {
    set_diag("wasm", &JsValue::TRUE);
    let doc = document()?;
    insert_panel(&doc)?;
    set_diag("panel", &JsValue::TRUE);
    wasm_bindgen_futures::spawn_local(async {
        let hello = async {
            chrome::send_message(&to_js(&Request::Hello { wasm: true })?).await?;
            chrome::send_message(&to_js(&Request::CheckReachability { crm: "zoho".into() })?).await
        };
        match hello.await {
            Ok(reply) => set_diag("reachability", &reply),
            Err(e) => set_diag("error", &e),
        }
    });
    Ok(())
}
