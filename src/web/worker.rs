//! Service-worker entry points. The worker may be killed at any moment: no state is
//! kept in memory between events; JS registers listeners synchronously and forwards here.
use super::{chrome, js_err, to_js, transport};
use crate::core::protocol::{self, Request, Sender};
use crate::core::status;
use crate::core::view;
use crate::crm::http::{error_code, HttpRequest};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// The durable sync clock. 3 minutes is the product's promise.
pub const SYNC_ALARM: &str = "crmsync-sync";
pub const SYNC_PERIOD_MINUTES: f64 = 3.0;

/// Called on every worker start: make sure the periodic alarm exists.
#[wasm_bindgen]
pub async fn worker_start() -> Result<(), JsValue> {
    if !chrome::alarm_exists(SYNC_ALARM).await? {
        chrome::alarm_create_periodic(SYNC_ALARM, SYNC_PERIOD_MINUTES).await?;
    }
    Ok(())
}

#[wasm_bindgen]
pub async fn worker_on_alarm(_alarm: JsValue) -> Result<(), JsValue> {
    // The sync engine plugs in here.
    Ok(())
}

#[derive(Serialize)]
struct Reachability {
    ok: bool,
    crm: String,
    url: String,
    status: u16,
    code: Option<String>,
}

#[derive(Serialize)]
struct Ack {
    ok: bool,
    product: String,
}

fn sender_of(sender: &JsValue) -> Sender {
    let get = |k: &str| js_sys::Reflect::get(sender, &k.into()).ok().and_then(|v| v.as_string());
    let in_tab = js_sys::Reflect::get(sender, &"tab".into()).map(|t| t.is_object()).unwrap_or(false);
    protocol::classify_sender(&chrome::runtime_id(), get("id").as_deref(), get("url").as_deref(), in_tab)
}

/// One runtime message in, one reply out. Rejected senders get an error, never data.
#[wasm_bindgen]
pub async fn worker_on_message(message: JsValue, sender: JsValue) -> Result<JsValue, JsValue> {
    let request: Request = serde_wasm_bindgen::from_value(message).map_err(|e| js_err(format!("bad request: {e}")))?;
    protocol::authorize(&request, &sender_of(&sender)).map_err(js_err)?;
    match request {
        Request::Hello { .. } | Request::Status => to_js(&Ack { ok: true, product: status::product_line() }),
        Request::ContentError { stage, error } => {
            web_sys::console::warn_1(&format!("content script {stage} failed: {error}").into());
            to_js(&Ack { ok: true, product: status::product_line() })
        }
        Request::PanelView { chat } => {
            // Seam: matching and the sync engine write `panel_cache`; connectors write `connections`.
            let connections = chrome::storage_get_json("connections").await?;
            let cache = chrome::storage_get_json("panel_cache").await?;
            to_js(&view::panel_view(&connections, &cache, chat.as_deref()))
        }
        Request::SyncNow
        | Request::CreateRecord { .. }
        | Request::LinkRecord { .. }
        | Request::Unlink { .. }
        | Request::SearchRecords { .. }
        | Request::ChooseCandidate { .. } => {
            // The connectors and sync engine answer these; until then no CRM can act.
            to_js(&protocol::ActionReply { ok: false, error: Some("errNotConnected".into()), field_errors: vec![] })
        }
        Request::CheckReachability { crm } => {
            let url = protocol::reachability_url(&crm).ok_or_else(|| js_err(format!("unknown CRM {crm}")))?;
            let resp = transport::perform(&HttpRequest::get(url)).await;
            to_js(&Reachability {
                ok: resp.status != 0,
                crm,
                url: url.to_string(),
                status: resp.status,
                code: error_code(&resp.body),
            })
        }
    }
}
