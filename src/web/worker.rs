//! Service-worker entry points. The worker may be killed at any moment: no state is
//! kept in memory between events; JS registers listeners synchronously and forwards here.
use super::store::Store;
use super::{chrome, js_err, sync, to_js, transport};
use crate::core::matching::RecordFinder;
use crate::core::outbox::{DocKey, DocumentWriter, OutboxMessage, RemoteState};
use crate::core::protocol::{self, Request, Sender};
use crate::core::schedule;
use crate::core::status;
use crate::core::sync::{ChatRecord, Export, LogEntry, Parked, SyncState};
use crate::core::view;
use crate::crm::http::{error_code, HttpRequest};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// The durable sync clock. 3 minutes is the product's promise.
pub const SYNC_ALARM: &str = "crmsync-sync";
pub const SYNC_PERIOD_MINUTES: f64 = 3.0;

/// Called on every worker start: make sure the periodic alarm exists, and catch up at
/// once when the last sync is older than a period (after sleep or a closed browser).
#[wasm_bindgen]
pub async fn worker_start() -> Result<(), JsValue> {
    let store = Store::open().await?;
    // MV3 runs one worker instance at a time: a lease or "syncing" flag found at start was
    // left by an instance that was stopped mid-cycle. Its uncertain writes reconcile.
    store.put_many(&[("meta", "lease".to_string(), None)]).await?;
    let mut state: SyncState = store.get("meta", "state").await?.unwrap_or_default();
    if state.syncing {
        state.syncing = false;
        store.put("meta", "state", &state).await?;
    }
    if !chrome::alarm_exists(SYNC_ALARM).await? {
        let minutes: f64 = store.get("meta", "sync_period_minutes").await?.unwrap_or(SYNC_PERIOD_MINUTES);
        chrome::alarm_create_periodic(SYNC_ALARM, minutes).await?;
    }
    if schedule::due(state.last_finished_ms, sync::now_ms(), schedule::DEFAULT_PERIOD_MS) {
        run_sync(&store).await?;
    }
    Ok(())
}

#[wasm_bindgen]
pub async fn worker_on_alarm(alarm: JsValue) -> Result<(), JsValue> {
    let name = js_sys::Reflect::get(&alarm, &"name".into())?.as_string().unwrap_or_default();
    if name == SYNC_ALARM {
        let store = Store::open().await?;
        run_sync(&store).await?;
    }
    Ok(())
}

/// The connected CRMs, as finders (matching) and writers (sync). Built from the stored
/// connections with fresh tokens; empty until a CRM is connected.
pub struct Connectors {
    pub finders: Vec<Box<dyn RecordFinder>>,
    pub writers: Vec<Box<dyn DocumentWriter>>,
    /// The rep's default phone region, for CRM numbers typed without a country code.
    pub region: String,
}

async fn connectors() -> Result<Connectors, JsValue> {
    let now = sync::now_ms();
    let conns = super::connect::ready_connections(now).await?;
    let finders = conns.iter().filter_map(|c| c.connector(now).ok()).map(|c| Box::new(c) as Box<dyn RecordFinder>).collect();
    let writers = conns.iter().filter_map(|c| c.writer(now).ok()).collect();
    let region: Option<String> = Store::open().await?.get("meta", "default_region").await?;
    Ok(Connectors { finders, writers, region: region.unwrap_or_else(|| "US".into()) })
}

/// Match chats that have no fresh decision yet (captured before a CRM was connected, or
/// stale), so the cycle knows where their backups go.
async fn match_pending_chats(store: &Store, c: &Connectors) -> Result<(), JsValue> {
    if c.finders.is_empty() {
        return Ok(());
    }
    let now = sync::now_ms();
    for (_, chat) in store.all::<ChatRecord>("chats").await? {
        if !chat.excluded && !chat.match_is_fresh(now) {
            super::matching::resolve(store, &chat.identity, &c.finders, &c.region, now).await?;
        }
    }
    Ok(())
}

thread_local! {
    /// This worker instance's lease owner id: concurrent cycles in one instance (an alarm
    /// and "Sync now") exclude each other.
    static INSTANCE: String = format!("worker-{}", js_sys::Math::random());
}

async fn run_sync(store: &Store) -> Result<sync::CycleReport, JsValue> {
    let owner = INSTANCE.with(String::clone);
    let c = connectors().await?;
    match_pending_chats(store, &c).await?;
    let mut ws = c.writers;
    let report = sync::run_cycle(store, &mut ws, &owner).await?;
    if report.auth_expired.is_empty() {
        return Ok(report);
    }
    // A 401 mid-batch: one refresh, one retry; a second 401 backs off (policy).
    for crm in &report.auth_expired {
        super::connect::unauthorized(*crm, sync::now_ms()).await?;
    }
    let mut ws = connectors().await?.writers;
    sync::run_cycle(store, &mut ws, &owner).await
}

/// The local wall-clock minute now (the first backup's window is in local time, like
/// the times WhatsApp shows).
fn local_now() -> crate::core::model::LocalMinute {
    let d = js_sys::Date::new_0();
    crate::core::model::LocalMinute {
        year: d.get_full_year() as u16,
        month: (d.get_month() + 1) as u8,
        day: d.get_date() as u8,
        hour: d.get_hours() as u8,
        minute: d.get_minutes() as u8,
    }
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

#[derive(Serialize)]
struct CapturedAck {
    ok: bool,
    added: usize,
    updated: usize,
}

#[derive(Serialize)]
struct StatusReply {
    ok: bool,
    product: String,
    pending: usize,
    state: SyncState,
    parked: Vec<Parked>,
}

fn sender_of(sender: &JsValue) -> Sender {
    let get = |k: &str| js_sys::Reflect::get(sender, &k.into()).ok().and_then(|v| v.as_string());
    let in_tab = js_sys::Reflect::get(sender, &"tab".into()).map(|t| t.is_object()).unwrap_or(false);
    protocol::classify_sender(&chrome::runtime_id(), get("id").as_deref(), get("url").as_deref(), in_tab)
}

async fn export(store: &Store) -> Result<Export, JsValue> {
    Ok(Export {
        product: status::product_line(),
        exported_at_ms: sync::now_ms(),
        schema_version: super::store::SCHEMA_VERSION,
        chats: store.all::<ChatRecord>("chats").await?.into_iter().map(|(_, c)| c).collect(),
        messages: store.all::<OutboxMessage>("messages").await?.into_iter().map(|(_, m)| m).collect(),
        documents: store.all::<(DocKey, RemoteState)>("docs").await?.into_iter().map(|(_, d)| d).collect(),
        parked: store.get("meta", "parked").await?.unwrap_or_default(),
        state: store.get("meta", "state").await?.unwrap_or_default(),
        log: store.get::<Vec<LogEntry>>("meta", "log").await?.unwrap_or_default(),
    })
}

/// One runtime message in, one reply out. Rejected senders get an error, never data.
#[wasm_bindgen]
pub async fn worker_on_message(message: JsValue, sender: JsValue) -> Result<JsValue, JsValue> {
    let request: Request = serde_wasm_bindgen::from_value(message).map_err(|e| js_err(format!("bad request: {e}")))?;
    protocol::authorize(&request, &sender_of(&sender)).map_err(js_err)?;
    match request {
        Request::Hello { .. } | Request::Relay { .. } => to_js(&Ack { ok: true, product: status::product_line() }),
        Request::ContentError { stage, error } => {
            let store = Store::open().await?;
            store.put("meta", "content_error", &format!("{stage}: {error}")).await?;
            to_js(&Ack { ok: true, product: status::product_line() })
        }
        Request::PanelView { chat } => {
            // Seam: matching and the sync engine write `panel_cache`; connectors write `connections`.
            let mut connections = chrome::storage_get_json("connections").await?;
            // The CRMs really connected (their credentials are in the worker's vault).
            if !connections.is_object() {
                connections = serde_json::json!({});
            }
            for crm in super::connect::connected_crms().await? {
                let name = serde_json::to_value(crm).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
                connections[name] = serde_json::json!({"connected": true});
            }
            let cache = chrome::storage_get_json("panel_cache").await?;
            to_js(&view::panel_view(&connections, &cache, chat.as_deref()))
        }
        Request::CreateRecord { .. }
        | Request::LinkRecord { .. }
        | Request::Unlink { .. }
        | Request::SearchRecords { .. }
        | Request::ChooseCandidate { .. } => {
            // The connectors and sync engine answer these; until then no CRM can act.
            to_js(&protocol::ActionReply { ok: false, error: Some("errNotConnected".into()), field_errors: vec![] })
        }
        Request::Status => {
            let store = Store::open().await?;
            to_js(&StatusReply {
                ok: true,
                product: status::product_line(),
                pending: store.all_raw("pending").await?.len(),
                state: store.get("meta", "state").await?.unwrap_or_default(),
                parked: store.get("meta", "parked").await?.unwrap_or_default(),
            })
        }
        Request::Captured { identity, messages } => {
            let store = Store::open().await?;
            let (added, updated) = sync::on_captured(&store, identity.clone(), messages).await?;
            // Match the chat when first seen, and again once the stored match is stale.
            let chat: ChatRecord = store.get("chats", &identity.chat_key()).await?.unwrap_or_default();
            if !chat.excluded && !chat.match_is_fresh(sync::now_ms()) {
                let c = connectors().await?;
                if !c.finders.is_empty() {
                    super::matching::resolve(&store, &identity, &c.finders, &c.region, sync::now_ms()).await?;
                }
            }
            to_js(&CapturedAck { ok: true, added, updated })
        }
        Request::SyncNow => {
            let store = Store::open().await?;
            to_js(&run_sync(&store).await?)
        }
        Request::SetSyncPeriod { minutes } => {
            // Chrome's floor for alarms is 30 s; the product default is 3 minutes.
            if !(0.5..=60.0).contains(&minutes) {
                return Err(js_err("sync period must be between 0.5 and 60 minutes"));
            }
            let store = Store::open().await?;
            store.put("meta", "sync_period_minutes", &minutes).await?;
            chrome::alarm_create_periodic(SYNC_ALARM, minutes).await?;
            to_js(&Ack { ok: true, product: status::product_line() })
        }
        Request::Export => {
            let store = Store::open().await?;
            to_js(&export(&store).await?)
        }
        Request::Connect { credentials } => {
            let connected = super::connect::connect(credentials, sync::now_ms()).await?;
            if connected.ok {
                // The first connection anchors the 3-day first backup.
                let store = Store::open().await?;
                if store.get::<crate::core::model::LocalMinute>("meta", "first_connected_local").await?.is_none() {
                    store.put("meta", "first_connected_local", &local_now()).await?;
                }
            }
            to_js(&connected)
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
