//! Tokens and keys, in their own extension-origin IndexedDB database.
//!
//! Why not chrome.storage.local: content scripts can read it by default, and a content
//! script runs beside a page we do not control. Extension-origin IndexedDB is reachable
//! only from the extension's own pages and worker; only the worker opens this database,
//! and the export reads the outbox database, never this one.
use super::store::Store;
use crate::core::store::{Entry, MetaKey};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

pub const SECRETS_DB: &str = "crmsync-secrets";

async fn open() -> Result<Store, JsValue> {
    Store::open_named(SECRETS_DB).await
}

pub async fn get<T: DeserializeOwned>(key: &MetaKey<T>) -> Result<Option<T>, JsValue> {
    open().await?.meta(key).await
}

pub async fn put<T: Serialize>(key: &MetaKey<T>, value: &T) -> Result<(), JsValue> {
    open().await?.set_meta(key, value).await
}

pub async fn delete<T>(key: &MetaKey<T>) -> Result<(), JsValue> {
    open().await?.put_many(&[Entry::delete_meta(key)]).await
}
