//! The durable outbox and sync state in IndexedDB (extension origin, owned by the worker).
//!
//! Stores (schema version `SCHEMA_VERSION`, migrated in `onupgradeneeded`):
//! - `messages`: message key → JSON `OutboxMessage` (deduplicated by key)
//! - `days`: `chat|day` → JSON list of message keys (a day's transcript without a scan)
//! - `pending`: message key → `chat|day` (what the next sync must confirm)
//! - `docs`: `DocKey::id()` → JSON `(DocKey, RemoteState)` (what the CRM holds)
//! - `chats`: chat key → JSON `ChatRecord` (identity, links, last synced)
//! - `meta`: name → JSON (settings, links, last sync, lease, log, parked errors)
//! - `files` (v2): `<message key>#<media index>` → JSON `FileBlob` (a file copied from the page)
//!
//! Values are JSON strings: the export is a straight dump, and no IDB index is needed.
use super::js_err;
use crate::core::outbox::OutboxMessage;
use crate::core::store::{self, Entry, MetaKey, Storage, StoreError, Table};
use js_sys::{Array, Function, Promise, Reflect};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbFactory, IdbOpenDbRequest, IdbRequest, IdbTransactionMode};

pub const DB_NAME: &str = "crmsync";
pub const SCHEMA_VERSION: u32 = 2;
pub const STORES: [&str; 7] = [
    Table::ALL[0].name(),
    Table::ALL[1].name(),
    Table::ALL[2].name(),
    Table::ALL[3].name(),
    Table::ALL[4].name(),
    Table::ALL[5].name(),
    Table::ALL[6].name(),
];

/// Resolve when an IDB request succeeds, reject with its error otherwise.
pub(crate) fn request_future(req: &IdbRequest) -> JsFuture {
    let req = req.clone();
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        let ok_req = req.clone();
        let on_ok = Closure::once_into_js(move |_e: web_sys::Event| {
            let _ = resolve.call1(&JsValue::NULL, &ok_req.result().unwrap_or(JsValue::UNDEFINED));
        });
        let err_req = req.clone();
        let on_err = Closure::once_into_js(move |_e: web_sys::Event| {
            let msg = err_req
                .error()
                .ok()
                .flatten()
                .map(|e| e.message())
                .unwrap_or_else(|| "IndexedDB request failed".into());
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str(&msg));
        });
        req.set_onsuccess(Some(on_ok.unchecked_ref()));
        req.set_onerror(Some(on_err.unchecked_ref()));
    });
    JsFuture::from(promise)
}

fn factory() -> Result<IdbFactory, JsValue> {
    // `indexedDB` exists on both Window and ServiceWorkerGlobalScope.
    Reflect::get(&js_sys::global(), &"indexedDB".into())?
        .dyn_into::<IdbFactory>()
        .map_err(|_| js_err("IndexedDB is not available here"))
}

pub struct Store {
    db: IdbDatabase,
    turn: std::rc::Rc<futures_util::lock::Mutex<()>>,
}

thread_local! {
    /// One handler for every connection: a newer schema opened elsewhere (an updated extension,
    /// a test) closes this connection instead of waiting on it. (Closing on drop instead lost
    /// writes: transactions still queued on a handle fail once it is closed.)
    static ON_VERSION_CHANGE: Closure<dyn FnMut(web_sys::Event)> = Closure::new(|e: web_sys::Event| {
        if let Some(db) = e.target().and_then(|t| t.dyn_into::<IdbDatabase>().ok()) {
            db.close();
        }
    });
}

thread_local! {
    /// Captured batches reach the worker concurrently (a chat's rows removed by a switch and
    /// its rescan are two requests). Appending rewrites each day's key list read-modify-write
    /// across IndexedDB transactions, so writers take turns: interleaved, the later write
    /// dropped the other's key, and that message stayed pending with no unit to send it.
    static OUTBOX_TURN: std::rc::Rc<futures_util::lock::Mutex<()>> = Default::default();
}

impl Store {
    pub async fn open() -> Result<Store, JsValue> {
        Self::open_named(DB_NAME).await
    }

    pub async fn open_named(name: &str) -> Result<Store, JsValue> {
        let open: IdbOpenDbRequest = factory()?.open_with_u32(name, SCHEMA_VERSION)?;
        let upgrade_req = open.clone();
        let on_upgrade = Closure::<dyn FnMut(web_sys::IdbVersionChangeEvent)>::new(move |_e| {
            // Additive migration: create whatever stores this version has that the old lacks.
            if let Ok(db) = upgrade_req.result().and_then(|r| r.dyn_into::<IdbDatabase>()) {
                let names = db.object_store_names();
                for s in STORES {
                    if !names.contains(s) {
                        let _ = db.create_object_store(s);
                    }
                }
            }
        });
        open.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        let db: IdbDatabase = request_future(&open).await?.dyn_into()?;
        drop(on_upgrade);
        ON_VERSION_CHANGE.with(|f| db.set_onversionchange(Some(f.as_ref().unchecked_ref())));
        Ok(Store { db, turn: OUTBOX_TURN.with(std::rc::Rc::clone) })
    }

    async fn get_raw(&self, table: Table, key: &str) -> Result<Option<String>, JsValue> {
        let store = table.name();
        let tx = self.db.transaction_with_str(store)?;
        let v = request_future(&tx.object_store(store)?.get(&key.into())?).await?;
        Ok(v.as_string())
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        table: Table,
        key: &str,
    ) -> Result<Option<T>, JsValue> {
        let store = table.name();
        match self.get_raw(table, key).await? {
            None => Ok(None),
            Some(s) => serde_json::from_str(&s)
                .map(Some)
                .map_err(|e| js_err(format!("{store}/{key}: {e}"))),
        }
    }

    /// A typed `meta` value.
    pub async fn meta<T: DeserializeOwned>(&self, key: &MetaKey<T>) -> Result<Option<T>, JsValue> {
        self.get(Table::Meta, key.name()).await
    }

    pub async fn set_meta<T: Serialize>(&self, key: &MetaKey<T>, value: &T) -> Result<(), JsValue> {
        self.put(Table::Meta, key.name(), value).await
    }

    /// Write several (table, key, value) entries in one transaction: all or nothing.
    async fn put_many_raw(
        &self,
        entries: &[(&str, String, Option<String>)],
    ) -> Result<(), JsValue> {
        if entries.is_empty() {
            return Ok(());
        }
        let names = Array::new();
        for s in STORES {
            if entries.iter().any(|(n, _, _)| *n == s) {
                names.push(&s.into());
            }
        }
        let tx = self
            .db
            .transaction_with_str_sequence_and_mode(&names, IdbTransactionMode::Readwrite)?;
        let mut last = None;
        for (store, key, value) in entries {
            let os = tx.object_store(store)?;
            last = Some(match value {
                Some(v) => os.put_with_key(&JsValue::from_str(v), &JsValue::from_str(key))?,
                None => os.delete(&JsValue::from_str(key))?,
            });
        }
        // Requests in one transaction complete in order: the last one done means all done.
        if let Some(req) = last {
            request_future(&req).await?;
        }
        Ok(())
    }

    /// Write several entries (values or deletions) in one transaction: all or nothing.
    pub async fn put_many(&self, entries: &[Entry]) -> Result<(), JsValue> {
        let raw: Vec<(&str, String, Option<String>)> =
            entries.iter().map(|e| (e.table.name(), e.key.clone(), e.value.clone())).collect();
        self.put_many_raw(&raw).await
    }

    pub async fn put<T: Serialize>(
        &self,
        table: Table,
        key: &str,
        value: &T,
    ) -> Result<(), JsValue> {
        self.put_many(&[Entry::put(table, key, value)?]).await
    }

    /// Every key of a table (values stay on disk).
    pub async fn keys(&self, table: Table) -> Result<Vec<String>, JsValue> {
        let store = table.name();
        let tx = self.db.transaction_with_str(store)?;
        let keys: Array =
            request_future(&tx.object_store(store)?.get_all_keys()?).await?.dyn_into()?;
        Ok(keys.iter().filter_map(|k| k.as_string()).collect())
    }

    /// Every (key, value) of a table.
    pub async fn all_raw(&self, table: Table) -> Result<Vec<(String, String)>, JsValue> {
        let store = table.name();
        let tx = self.db.transaction_with_str(store)?;
        let os = tx.object_store(store)?;
        let keys_req = os.get_all_keys()?;
        let vals_req = os.get_all()?;
        let keys: Array = request_future(&keys_req).await?.dyn_into()?;
        let vals: Array = request_future(&vals_req).await?.dyn_into()?;
        Ok(keys
            .iter()
            .zip(vals.iter())
            .filter_map(|(k, v)| Some((k.as_string()?, v.as_string()?)))
            .collect())
    }

    pub async fn all<T: DeserializeOwned>(
        &self,
        table: Table,
    ) -> Result<Vec<(String, T)>, JsValue> {
        let store = table.name();
        let mut out = Vec::new();
        for (k, v) in self.all_raw(table).await? {
            // One corrupt entry must not block the rest; it is skipped and reported.
            match serde_json::from_str(&v) {
                Ok(t) => out.push((k, t)),
                Err(e) => web_sys::console::warn_1(
                    &format!("crmsync: skipping unreadable {store}/{k}: {e}").into(),
                ),
            }
        }
        Ok(out)
    }

    /// See [`store::append_messages`].
    pub async fn append_messages(
        &self,
        messages: &[OutboxMessage],
        sendable: impl Fn(&OutboxMessage) -> bool,
    ) -> Result<(usize, usize), JsValue> {
        Ok(store::append_messages(self, messages, sendable).await?)
    }
}

impl From<StoreError> for JsValue {
    fn from(e: StoreError) -> JsValue {
        js_err(e.0)
    }
}

fn store_err(e: JsValue) -> StoreError {
    StoreError(e.as_string().unwrap_or_else(|| format!("{e:?}")))
}

/// IndexedDB as core's storage: the key formats and the read-modify-writes are core's.
impl Storage for Store {
    type Turn<'a> = futures_util::lock::MutexGuard<'a, ()>;

    async fn turn(&self) -> Self::Turn<'_> {
        self.turn.lock().await
    }

    async fn get_raw(&self, table: Table, key: &str) -> Result<Option<String>, StoreError> {
        Store::get_raw(self, table, key).await.map_err(store_err)
    }

    async fn all_raw(&self, table: Table) -> Result<Vec<(String, String)>, StoreError> {
        Store::all_raw(self, table).await.map_err(store_err)
    }

    async fn put_many(&self, entries: &[Entry]) -> Result<(), StoreError> {
        Store::put_many(self, entries).await.map_err(store_err)
    }
}
