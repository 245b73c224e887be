//! The sync cycle as the worker runs it: `core::engine` decides every step (what to send,
//! what to store, in an order that survives being killed at any line); this file gives it
//! IndexedDB and fetch. The read-modify-writes of the outbox are `core::store`'s.
use super::store::Store;
use super::transport;
use crate::core::engine::{self, SendKind, Transport};
use crate::core::http::{HttpRequest, HttpResponse};
use crate::core::outbox::{
    older_summary, BackupWindow, DocumentWriter, OlderMessages, OutboxMessage,
};
use crate::core::store;
use crate::core::store::Table;
use crate::core::sync::ChatRecord;
use wasm_bindgen::JsValue;

pub use crate::core::engine::{describe, CycleReport, RetryEntry};

pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

pub async fn log(store: &Store, text: String) -> Result<(), JsValue> {
    Ok(store::log(store, now_ms(), text).await?)
}

/// The backup window from what is stored (see [`store::backup_window`]).
pub async fn backup_window(store: &Store) -> Result<BackupWindow, JsValue> {
    Ok(store::backup_window(store).await?)
}

/// Make `pending` agree with every stored message's state (see [`store::reconcile_pending`]).
pub async fn reconcile_pending(store: &Store) -> Result<usize, JsValue> {
    Ok(store::reconcile_pending(store).await?)
}

/// A chat's messages from before the backup window, if any (none once the rep chose them).
pub async fn older_in_chat(
    store: &Store,
    chat_key: &str,
    window: &BackupWindow,
) -> Result<Option<OlderMessages>, JsValue> {
    let Some(start) = window.start() else { return Ok(None) };
    if window.older_chats.contains(chat_key) {
        return Ok(None);
    }
    // Only days up to the window's first day can hold older messages.
    let last_day = start.day_key();
    let mut msgs = Vec::new();
    for (day_key, list) in store.all::<Vec<String>>(Table::Days).await? {
        let Some((chat, day)) = store::split_day_key(&day_key) else { continue };
        if chat != chat_key {
            continue;
        }
        if day.is_empty() || day > last_day.as_str() {
            continue;
        }
        for k in list {
            if let Some(m) = store.get::<OutboxMessage>(Table::Messages, &k).await? {
                msgs.push(m);
            }
        }
    }
    Ok(older_summary(&msgs, window))
}

/// Store what the content script captured. Excluded chats are dropped here too.
pub async fn on_captured(
    store: &Store,
    identity: crate::core::model::WaIdentity,
    messages: Vec<crate::core::model::Message>,
) -> Result<(usize, usize), JsValue> {
    let chat_key = identity.chat_key();
    let mut chat: ChatRecord = store.get(Table::Chats, &chat_key).await?.unwrap_or_default();
    if chat.excluded {
        return Ok((0, 0));
    }
    if chat.identity != identity {
        chat.identity = identity;
        store.put(Table::Chats, &chat_key, &chat).await?;
    }
    let now = now_ms();
    let batch: Vec<OutboxMessage> = messages
        .into_iter()
        .map(|mut m| {
            m.chat = chat_key.clone();
            OutboxMessage { message: m, captured_at_ms: now, synced: false }
        })
        .collect();
    let window = backup_window(store).await?;
    store
        .append_messages(&batch, |m| {
            m.message.time.is_none_or(|t| window.admits(&m.message.chat, &t))
        })
        .await
}

/// fetch, as the engine's transport.
struct Fetch;

impl Transport for Fetch {
    async fn perform(&mut self, req: &HttpRequest, _kind: SendKind) -> HttpResponse {
        transport::perform(req).await
    }
}

/// One full cycle for the given connectors. Safe to call at any time: it takes the lease,
/// and does nothing when another cycle holds it.
pub async fn run_cycle(
    store: &Store,
    writers: &mut [Box<dyn DocumentWriter>],
    owner: &str,
) -> Result<CycleReport, JsValue> {
    Ok(engine::run_cycle(store, &mut Fetch, writers, owner, &now_ms).await?)
}
