//! What the worker keeps, as core sees it: the tables, the key formats, a storage trait with
//! an in-memory implementation (native tests, the command-line harness) and the
//! read-modify-write operations every backend shares (appending captured messages,
//! confirming them, the sync log). The IndexedDB backend (`web::store`) implements only the
//! raw trait; the key formats and the rules live here, once.
//!
//! Tables (values are JSON strings, so an export is a straight dump):
//! - `messages`: message key → [`OutboxMessage`]
//! - `days`: [`day_key`] → JSON list of message keys (a day's transcript without a scan)
//! - `pending`: message key → its [`day_key`] (what the next sync must confirm)
//! - `docs`: [`DocKey::id`] → JSON `(DocKey, RemoteState)` (what the CRM holds)
//! - `chats`: chat key → [`ChatRecord`]
//! - `meta`: a [`meta`] name → JSON (settings, lease, log, retry, parked, …)
//! - `files`: [`file_key`] → [`FileBlob`] (a file copied from the page)
use crate::core::model::Message;
use crate::core::outbox::{
    day_key_of, message_state, BackupWindow, FileBlob, MessageState, OutboxMessage,
};
use crate::core::sync::{push_log, ChatRecord, LogEntry};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// The object stores, in the order the IndexedDB schema creates them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    Messages,
    Days,
    Pending,
    Docs,
    Chats,
    Meta,
    Files,
}

impl Table {
    pub const ALL: [Table; 7] = [
        Table::Messages,
        Table::Days,
        Table::Pending,
        Table::Docs,
        Table::Chats,
        Table::Meta,
        Table::Files,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Table::Messages => "messages",
            Table::Days => "days",
            Table::Pending => "pending",
            Table::Docs => "docs",
            Table::Chats => "chats",
            Table::Meta => "meta",
            Table::Files => "files",
        }
    }
}

/// A name in the `meta` table with the type of the value stored under it, so every reader
/// and writer of a name agrees on its shape (the compiler checks it; a string name could be
/// read as one type and written as another).
pub struct MetaKey<T> {
    name: std::borrow::Cow<'static, str>,
    value: std::marker::PhantomData<fn() -> T>,
}

impl<T> MetaKey<T> {
    pub const fn new(name: &'static str) -> Self {
        MetaKey { name: std::borrow::Cow::Borrowed(name), value: std::marker::PhantomData }
    }

    /// A name built at run time (per tab, per CRM), always through a function of [`meta`].
    fn owned(name: String) -> Self {
        MetaKey { name: std::borrow::Cow::Owned(name), value: std::marker::PhantomData }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The names in the `meta` table, each with its value's type. Types that live outside core
/// (the worker's per-tab records, the setup report) are named here as raw JSON-able values
/// of the module that owns them: core owns the key formats, the owner its shape.
pub mod meta {
    use super::MetaKey;
    use crate::core::matching::Links;
    use crate::core::model::LocalMinute;
    use crate::core::ratelimit::{Budget, Limiter};
    use crate::core::schedule::Lease;
    use crate::core::sync::{LogEntry, Parked, SyncState};
    use crate::core::view::Settings;
    use std::collections::BTreeMap;

    pub const SETTINGS: MetaKey<Settings> = MetaKey::new("settings");
    pub const STATE: MetaKey<SyncState> = MetaKey::new("state");
    pub const LEASE: MetaKey<Lease> = MetaKey::new("lease");
    pub const LOG: MetaKey<Vec<LogEntry>> = MetaKey::new("log");
    pub const RETRY: MetaKey<BTreeMap<String, crate::core::policy::RetryEntry>> =
        MetaKey::new("retry");
    pub const PARKED: MetaKey<Vec<Parked>> = MetaKey::new("parked");
    /// Per CRM name: the API allowance it last reported.
    pub const BUDGET: MetaKey<BTreeMap<String, Budget>> = MetaKey::new("budget");
    /// Per CRM record (`sync::record_key`): when its backup was last confirmed.
    pub const RECORD_SYNCED: MetaKey<BTreeMap<String, u64>> = MetaKey::new("record_synced");
    pub const FIRST_CONNECTED_LOCAL: MetaKey<LocalMinute> = MetaKey::new("first_connected_local");
    pub const LOOKUP_LIMITER: MetaKey<Limiter> = MetaKey::new("lookup_limiter");
    /// Manual links, unlinks and choices (chat key → records).
    pub const LINKS: MetaKey<Links> = MetaKey::new("links");
    /// The last "link existing record" search's answers, kept for the rep's pick.
    pub const SEARCH_RESULTS: MetaKey<Vec<crate::core::model::CrmRecord>> =
        MetaKey::new("search_results");
    /// The content script's capture counters, as it last reported them (shown in
    /// diagnostics; their shape is capture's).
    pub const fn capture_counters<T>() -> MetaKey<T> {
        MetaKey::new("capture_counters")
    }
    /// The content script's last error, in words.
    pub const CONTENT_ERROR: MetaKey<String> = MetaKey::new("content_error");
    /// The alarm's period (tests shorten it).
    pub const SYNC_PERIOD_MINUTES: MetaKey<f64> = MetaKey::new("sync_period_minutes");
    /// The rep's own number as WhatsApp Web keeps it (`protocol::Request::OwnNumber`).
    pub const OWN_NUMBER: MetaKey<String> = MetaKey::new("own_number");
    /// Whether the rep finished (or skipped) the first-run guide.
    pub const ONBOARDING_FINISHED: MetaKey<bool> = MetaKey::new("onboarding_finished");

    /// Per-tab records (`<prefix><tab id>`): the panel binding (the content script's nonce,
    /// the frame that claimed it) and the tab's open chat.
    pub const PANEL_PREFIX: &str = "panel:";
    pub const TAB_CHAT_PREFIX: &str = "tabchat:";

    /// The panel binding of `tab` (its shape is the worker's).
    pub fn panel_binding<T>(tab: i64) -> MetaKey<T> {
        MetaKey::owned(format!("{PANEL_PREFIX}{tab}"))
    }

    /// The chat open in `tab` (its shape is the worker's).
    pub fn tab_chat<T>(tab: i64) -> MetaKey<T> {
        MetaKey::owned(format!("{TAB_CHAT_PREFIX}{tab}"))
    }

    /// `zoho`, `salesforce`, `leadsquared`: as the names were first stored.
    fn crm_key(crm: crate::core::model::Crm) -> String {
        format!("{crm:?}").to_lowercase()
    }

    /// The CRM org's home currency (ISO 4217), read at connect.
    pub fn home_currency(crm: crate::core::model::Crm) -> MetaKey<String> {
        MetaKey::owned(format!("currency:{}", crm_key(crm)))
    }

    /// The stored connection of `crm`, in the secrets database (its shape is the connect
    /// module's; only the worker opens that database).
    pub fn connection<T>(crm: crate::core::model::Crm) -> MetaKey<T> {
        MetaKey::owned(format!("connection:{}", crm_key(crm)))
    }

    /// The last setup check of `crm` (its shape is the setup module's).
    pub fn setup_report<T>(crm: crate::core::model::Crm) -> MetaKey<T> {
        MetaKey::owned(format!("setup:{}", crm_key(crm)))
    }
}

pub async fn get_meta<T: DeserializeOwned, S: Storage>(
    s: &S,
    key: &MetaKey<T>,
) -> Result<Option<T>, StoreError> {
    get(s, Table::Meta, key.name()).await
}

pub async fn put_meta<T: Serialize, S: Storage>(
    s: &S,
    key: &MetaKey<T>,
    v: &T,
) -> Result<(), StoreError> {
    put(s, Table::Meta, key.name(), v).await
}

/// Tabs the worker keeps records for at most. Closing a tab deletes its records; this bounds
/// what is left when the worker missed the close (the browser quit, the extension was
/// reloaded), should the browser be unable to list its tabs.
pub const TABS_MAX: usize = 64;

/// The panel binding's and the open chat's keys of `tab`, in `meta`.
pub fn tab_record_keys(tab: i64) -> [String; 2] {
    [meta::panel_binding::<()>(tab).name().into(), meta::tab_chat::<()>(tab).name().into()]
}

/// The tab a `meta` key is a per-tab record of.
pub fn tab_of_record(key: &str) -> Option<i64> {
    key.strip_prefix(meta::PANEL_PREFIX)
        .or_else(|| key.strip_prefix(meta::TAB_CHAT_PREFIX))
        .and_then(|t| t.parse().ok())
}

/// Which of the `known` tabs' records go: those of tabs the browser no longer has open
/// (`open`: every open tab's id; None when the browser could not list them), then, beyond
/// [`TABS_MAX`], the lowest ids (the browser numbers tabs upward within a session, so those
/// are the oldest). After a browser restart tab ids start again: a record left from the
/// previous session would otherwise be taken for a new tab's.
pub fn stale_tabs(known: &BTreeSet<i64>, open: Option<&BTreeSet<i64>>) -> BTreeSet<i64> {
    let mut stale: BTreeSet<i64> =
        known.iter().copied().filter(|t| open.is_some_and(|o| !o.contains(t))).collect();
    let live: Vec<i64> = known.difference(&stale).copied().collect();
    stale.extend(live.iter().take(live.len().saturating_sub(TABS_MAX)));
    stale
}

pub use crate::core::keys::{day_key, file_key, split_day_key};

/// One write of a transaction: a value, or `None` to delete the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub table: Table,
    pub key: String,
    pub value: Option<String>,
}

impl Entry {
    pub fn put<T: Serialize>(
        table: Table,
        key: impl Into<String>,
        v: &T,
    ) -> Result<Entry, StoreError> {
        let value = serde_json::to_string(v).map_err(|e| StoreError(e.to_string()))?;
        Ok(Entry { table, key: key.into(), value: Some(value) })
    }

    pub fn delete(table: Table, key: impl Into<String>) -> Entry {
        Entry { table, key: key.into(), value: None }
    }

    /// A typed `meta` value.
    pub fn meta<T: Serialize>(key: &MetaKey<T>, v: &T) -> Result<Entry, StoreError> {
        Entry::put(Table::Meta, key.name(), v)
    }

    pub fn delete_meta<T>(key: &MetaKey<T>) -> Entry {
        Entry::delete(Table::Meta, key.name())
    }
}

/// A storage failure, in words (IndexedDB's message, or an unreadable value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The raw operations a backend provides. Everything else is built on them here.
// The worker and its stores are single-threaded (wasm32): no `Send` bounds on the futures.
#[allow(async_fn_in_trait)]
pub trait Storage {
    /// Held while an operation reads and rewrites the outbox (see [`append_messages`]).
    type Turn<'a>
    where
        Self: 'a;
    /// Wait for the outbox to be free. Captured batches reach the worker concurrently (a
    /// chat's rows removed by a switch and its rescan are two requests): interleaved, the
    /// later rewrite of a day's key list dropped the other's key, and that message stayed
    /// pending with no unit to send it.
    async fn turn(&self) -> Self::Turn<'_>;
    async fn get_raw(&self, table: Table, key: &str) -> Result<Option<String>, StoreError>;
    /// Every (key, value) of a table.
    async fn all_raw(&self, table: Table) -> Result<Vec<(String, String)>, StoreError>;
    /// Apply every entry in one transaction: all or nothing.
    async fn put_many(&self, entries: &[Entry]) -> Result<(), StoreError>;
}

pub async fn get<T: DeserializeOwned, S: Storage>(
    s: &S,
    table: Table,
    key: &str,
) -> Result<Option<T>, StoreError> {
    match s.get_raw(table, key).await? {
        None => Ok(None),
        Some(v) => serde_json::from_str(&v)
            .map(Some)
            .map_err(|e| StoreError(format!("{}/{key}: {e}", table.name()))),
    }
}

pub async fn put<T: Serialize, S: Storage>(
    s: &S,
    table: Table,
    key: &str,
    v: &T,
) -> Result<(), StoreError> {
    s.put_many(&[Entry::put(table, key, v)?]).await
}

/// Every readable value of a table; an unreadable one is skipped (and named in the second
/// list) so one corrupt entry cannot block the rest.
pub async fn all<T: DeserializeOwned, S: Storage>(
    s: &S,
    table: Table,
) -> Result<(Vec<(String, T)>, Vec<String>), StoreError> {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (k, v) in s.all_raw(table).await? {
        match serde_json::from_str(&v) {
            Ok(t) => out.push((k, t)),
            Err(e) => bad.push(format!("{}/{k}: {e}", table.name())),
        }
    }
    Ok((out, bad))
}

pub async fn chats<S: Storage>(s: &S) -> Result<Vec<ChatRecord>, StoreError> {
    Ok(all::<ChatRecord, S>(s, Table::Chats).await?.0.into_iter().map(|(_, c)| c).collect())
}

pub async fn settings<S: Storage>(s: &S) -> Result<crate::core::view::Settings, StoreError> {
    Ok(get_meta(s, &meta::SETTINGS).await?.unwrap_or_default())
}

/// Append to the bounded sync log.
pub async fn log<S: Storage>(s: &S, at_ms: u64, text: String) -> Result<(), StoreError> {
    let mut entries: Vec<LogEntry> = get_meta(s, &meta::LOG).await?.unwrap_or_default();
    push_log(&mut entries, LogEntry { at_ms, text }, LOG_MAX);
    put_meta(s, &meta::LOG, &entries).await
}

pub const LOG_MAX: usize = 500;

/// The backup window from what is stored: the first connection, the rep's window length,
/// and the chats whose older messages the rep chose to back up.
pub async fn backup_window<S: Storage>(s: &S) -> Result<BackupWindow, StoreError> {
    let connected = get_meta(s, &meta::FIRST_CONNECTED_LOCAL).await?;
    let days = settings(s).await?.backup_window_days;
    Ok(crate::core::sync::backup_window(connected, days, &chats(s).await?))
}

/// Append captured messages: new keys are added and become pending; a known key whose
/// content changed (an edit) is updated and becomes pending again; an unchanged re-capture
/// does nothing. Messages `sendable` refuses (outside the backup window) are stored but never
/// pending. Returns (added, updated).
pub async fn append_messages<S: Storage>(
    s: &S,
    messages: &[OutboxMessage],
    sendable: impl Fn(&OutboxMessage) -> bool,
) -> Result<(usize, usize), StoreError> {
    let _turn = s.turn().await;
    let mut entries = Vec::new();
    let (mut added, mut updated) = (0, 0);
    let mut day_lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in messages {
        let key = &m.message.key;
        let existing: Option<OutboxMessage> = get(s, Table::Messages, key).await?;
        let day = day_key_of(&m.message);
        let mut stored = m.clone();
        stored.synced = false;
        match existing {
            Some(old) if old.message == m.message => continue,
            Some(old) => {
                updated += 1;
                stored.captured_at_ms = old.captured_at_ms;
            }
            None => added += 1,
        }
        entries.push(Entry::put(Table::Messages, key.clone(), &stored)?);
        entries.push(match sendable(m) {
            true => Entry::put(Table::Pending, key.clone(), &day)?,
            false => Entry::delete(Table::Pending, key.clone()),
        });
        if !day_lists.contains_key(&day) {
            let list: Vec<String> = get(s, Table::Days, &day).await?.unwrap_or_default();
            day_lists.insert(day.clone(), list);
        }
        if let Some(list) = day_lists.get_mut(&day) {
            if !list.contains(key) {
                list.push(key.clone());
            }
        }
    }
    for (k, list) in day_lists {
        entries.push(Entry::put(Table::Days, k, &list)?);
    }
    s.put_many(&entries).await?;
    Ok((added, updated))
}

/// Confirm messages the CRM now holds: each is marked synced and leaves `pending`, in one
/// transaction, unless it changed since the cycle read it (an edit captured while the cycle
/// wrote its day): that one stays pending, so its new text is sent next time. Returns how
/// many were confirmed.
pub async fn mark_synced<S: Storage>(s: &S, sent: &[Message]) -> Result<usize, StoreError> {
    let _turn = s.turn().await;
    let mut entries = Vec::new();
    for m in sent {
        let Some(mut stored) = get::<OutboxMessage, S>(s, Table::Messages, &m.key).await? else {
            entries.push(Entry::delete(Table::Pending, m.key.clone()));
            continue;
        };
        if stored.message != *m {
            continue;
        }
        stored.synced = true;
        entries.push(Entry::put(Table::Messages, m.key.clone(), &stored)?);
        entries.push(Entry::delete(Table::Pending, m.key.clone()));
    }
    let confirmed = entries.iter().filter(|e| e.table == Table::Messages).count();
    s.put_many(&entries).await?;
    Ok(confirmed)
}

/// Store a file copied from the page; `day` (the message's day key, when the message is to
/// be sent) queues its message again so the file goes with the day. A file every record
/// already confirmed is not stored again (each load of WhatsApp copies the files it shows
/// once more): returns false, and nothing is written.
pub async fn store_file<S: Storage>(
    s: &S,
    file: &FileBlob,
    message_key: &str,
    day: Option<&str>,
) -> Result<bool, StoreError> {
    if get::<FileBlob, S>(s, Table::Files, &file.key).await?.is_some_and(|f| f.uploaded) {
        return Ok(false);
    }
    let mut entries = vec![Entry::put(Table::Files, file.key.clone(), file)?];
    if let Some(day) = day {
        entries.push(Entry::put(Table::Pending, message_key, &day)?);
    }
    s.put_many(&entries).await?;
    Ok(true)
}

/// Make `pending` agree with every stored message's state (after the window was set or
/// changed, or a chat's older messages were chosen): pending exactly when it will be sent.
/// Returns how many keys changed.
pub async fn reconcile_pending<S: Storage>(s: &S) -> Result<usize, StoreError> {
    let window = backup_window(s).await?;
    let excluded = settings(s).await?.excluded_chats;
    let _turn = s.turn().await;
    let pending: BTreeSet<String> =
        s.all_raw(Table::Pending).await?.into_iter().map(|(k, _)| k).collect();
    let mut entries = Vec::new();
    for (k, m) in all::<OutboxMessage, S>(s, Table::Messages).await?.0 {
        let state = message_state(&m, &window, excluded.contains(&m.message.chat));
        let should = state == MessageState::Pending;
        if should != pending.contains(&k) {
            entries.push(match should {
                true => Entry::put(Table::Pending, k, &day_key_of(&m.message))?,
                false => Entry::delete(Table::Pending, k),
            });
        }
    }
    s.put_many(&entries).await?;
    Ok(entries.len())
}

/// Mark chats excluded (or not) as `excluded` says: excluded chats are skipped by capture and
/// sync, and their queued messages leave the queue (they stay stored).
pub async fn apply_exclusions<S: Storage>(s: &S, excluded: &[String]) -> Result<(), StoreError> {
    let mut entries = Vec::new();
    for (key, mut chat) in all::<ChatRecord, S>(s, Table::Chats).await?.0 {
        let now_excluded = excluded.contains(&key);
        if chat.excluded != now_excluded {
            chat.excluded = now_excluded;
            entries.push(Entry::put(Table::Chats, key, &chat)?);
        }
    }
    let _turn = s.turn().await;
    for (key, day) in all::<String, S>(s, Table::Pending).await?.0 {
        let chat = split_day_key(&day).map(|(c, _)| c);
        if chat.is_some_and(|c| excluded.iter().any(|e| e == c)) {
            entries.push(Entry::delete(Table::Pending, key));
        }
    }
    s.put_many(&entries).await
}

/// Pending messages of linked chats plus every message of the days they fall on (a day's
/// document is rendered from all of its messages).
pub async fn load_outbox<S: Storage>(s: &S) -> Result<Vec<OutboxMessage>, StoreError> {
    let days: BTreeSet<String> =
        all::<String, S>(s, Table::Pending).await?.0.into_iter().map(|(_, d)| d).collect();
    let mut keys = BTreeSet::new();
    for d in &days {
        let list: Vec<String> = get(s, Table::Days, d).await?.unwrap_or_default();
        keys.extend(list);
    }
    let mut out = Vec::new();
    for k in keys {
        if let Some(m) = get::<OutboxMessage, S>(s, Table::Messages, &k).await? {
            out.push(m);
        }
    }
    Ok(out)
}

/// A store in memory: the same semantics as IndexedDB's (one transaction per `put_many`,
/// keys in order), for native tests and the command-line harness.
#[derive(Default)]
pub struct MemoryStore {
    tables: RefCell<BTreeMap<Table, BTreeMap<String, String>>>,
    /// Writes that fail, counted down (a quota error, a closed database).
    fail_next_writes: std::cell::Cell<u32>,
}

impl MemoryStore {
    /// Make the next `n` transactions fail as a full disk would.
    pub fn fail_writes(&self, n: u32) {
        self.fail_next_writes.set(n);
    }

    pub fn len(&self, table: Table) -> usize {
        self.tables.borrow().get(&table).map_or(0, BTreeMap::len)
    }

    pub fn is_empty(&self, table: Table) -> bool {
        self.len(table) == 0
    }
}

impl Storage for MemoryStore {
    type Turn<'a> = ();

    async fn turn(&self) {}

    async fn get_raw(&self, table: Table, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.tables.borrow().get(&table).and_then(|t| t.get(key).cloned()))
    }

    async fn all_raw(&self, table: Table) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self
            .tables
            .borrow()
            .get(&table)
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }

    async fn put_many(&self, entries: &[Entry]) -> Result<(), StoreError> {
        let left = self.fail_next_writes.get();
        if left > 0 {
            self.fail_next_writes.set(left - 1);
            return Err(StoreError("QuotaExceededError: the disk is full".into()));
        }
        let mut tables = self.tables.borrow_mut();
        for e in entries {
            let t = tables.entry(e.table).or_default();
            match &e.value {
                Some(v) => t.insert(e.key.clone(), v.clone()),
                None => t.remove(&e.key),
            };
        }
        Ok(())
    }
}

/// Run a future that never waits on anything outside itself (the memory store, an
/// in-process transport) to completion on this thread.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Direction, LocalMinute, Sender};

    fn msg(key: &str, text: &str) -> OutboxMessage {
        OutboxMessage {
            message: Message::text(
                key,
                "pn:+5511",
                Direction::In,
                Sender { name: "Ana".into(), phone: None },
                Some(LocalMinute { year: 2026, month: 11, day: 30, hour: 9, minute: 5 }),
                text,
            ),
            captured_at_ms: 1,
            synced: false,
        }
    }

    #[test]
    fn keys_have_one_format() {
        assert_eq!(day_key("pn:+5511", "2026-11-30"), "pn:+5511|2026-11-30");
        assert_eq!(day_key_of(&msg("a", "x").message), day_key("pn:+5511", "2026-11-30"));
        assert_eq!(split_day_key("g:12|3@g.us|2026-11-30"), Some(("g:12|3@g.us", "2026-11-30")));
        assert_eq!(file_key("m1", 2), "m1#2");
    }

    #[test]
    fn append_then_confirm_then_edit() {
        let s = MemoryStore::default();
        let a = msg("a", "hello");
        assert_eq!(block_on(append_messages(&s, std::slice::from_ref(&a), |_| true)), Ok((1, 0)));
        assert_eq!(block_on(append_messages(&s, std::slice::from_ref(&a), |_| true)), Ok((0, 0)));
        assert_eq!(s.len(Table::Pending), 1);
        assert_eq!(block_on(load_outbox(&s)).map(|o| o.len()), Ok(1));
        assert_eq!(block_on(mark_synced(&s, std::slice::from_ref(&a.message))), Ok(1));
        assert!(s.is_empty(Table::Pending));
        let mut edited = a.clone();
        edited.message.text = "hello (edited)".into();
        assert_eq!(block_on(append_messages(&s, &[edited], |_| true)), Ok((0, 1)));
        assert_eq!(s.len(Table::Pending), 1);
    }

    #[test]
    fn an_edit_during_the_cycle_is_not_confirmed_with_the_old_text() {
        let s = MemoryStore::default();
        let a = msg("a", "the price is 10");
        block_on(append_messages(&s, std::slice::from_ref(&a), |_| true)).unwrap();
        // The cycle read `a` and wrote its day; meanwhile the rep edited it.
        let mut edited = a.clone();
        edited.message.text = "the price is 12".into();
        block_on(append_messages(&s, &[edited], |_| true)).unwrap();
        assert_eq!(block_on(mark_synced(&s, std::slice::from_ref(&a.message))), Ok(0));
        assert_eq!(s.len(Table::Pending), 1, "the edit is still to be sent");
    }

    #[test]
    fn a_failed_transaction_writes_nothing() {
        let s = MemoryStore::default();
        s.fail_writes(1);
        assert!(block_on(append_messages(&s, &[msg("a", "x")], |_| true)).is_err());
        assert!(s.is_empty(Table::Messages) && s.is_empty(Table::Pending));
        assert_eq!(block_on(append_messages(&s, &[msg("a", "x")], |_| true)), Ok((1, 0)));
    }

    #[test]
    fn excluding_a_chat_empties_its_queue_and_no_other() {
        let s = MemoryStore::default();
        let mut other = msg("b", "y");
        other.message.chat = "pn:+5511".into();
        let mut excluded = msg("a", "x");
        // A chat key that is a prefix of the other's: the day key is split, not prefix-matched.
        excluded.message.chat = "pn:+551".into();
        block_on(append_messages(&s, &[excluded, other], |_| true)).unwrap();
        for chat in ["pn:+551", "pn:+5511"] {
            block_on(put(&s, Table::Chats, chat, &ChatRecord::default())).unwrap();
        }
        block_on(apply_exclusions(&s, &["pn:+551".to_string()])).unwrap();
        let pending = block_on(s.all_raw(Table::Pending)).unwrap();
        assert_eq!(pending.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["b"]);
        let c: ChatRecord = block_on(get(&s, Table::Chats, "pn:+551")).unwrap().unwrap();
        assert!(c.excluded);
        assert_eq!(s.len(Table::Messages), 2, "excluded messages stay stored");
    }

    #[test]
    fn meta_names_stay_those_already_stored_and_values_keep_their_type() {
        use crate::core::model::Crm;
        // Stored data outlives a version: these names are what installed workers wrote.
        let names = [
            meta::SETTINGS.name().to_string(),
            meta::LINKS.name().into(),
            meta::RECORD_SYNCED.name().into(),
            meta::capture_counters::<()>().name().into(),
            meta::home_currency(Crm::Zoho).name().into(),
            meta::setup_report::<()>(Crm::Leadsquared).name().into(),
            meta::connection::<()>(Crm::Salesforce).name().into(),
            meta::tab_chat::<()>(7).name().into(),
            meta::panel_binding::<()>(7).name().into(),
        ];
        assert_eq!(
            names,
            [
                "settings",
                "links",
                "record_synced",
                "capture_counters",
                "currency:zoho",
                "setup:leadsquared",
                "connection:salesforce",
                "tabchat:7",
                "panel:7"
            ]
        );
        let s = MemoryStore::default();
        let mut synced = BTreeMap::new();
        synced.insert("zoho:contact:1".to_string(), 5_u64);
        block_on(put_meta(&s, &meta::RECORD_SYNCED, &synced)).unwrap();
        assert_eq!(block_on(get_meta(&s, &meta::RECORD_SYNCED)).unwrap(), Some(synced));
        // A value of another shape under a typed name is an error, not a silent default.
        block_on(put(&s, Table::Meta, meta::SETTINGS.name(), &"not settings")).unwrap();
        assert!(block_on(get_meta(&s, &meta::SETTINGS)).is_err());
    }

    #[test]
    fn records_of_closed_tabs_go_and_at_most_tabs_max_stay() {
        assert_eq!(tab_record_keys(7), ["panel:7", "tabchat:7"]);
        assert_eq!(tab_of_record("tabchat:7"), Some(7));
        assert_eq!(tab_of_record("panel:x"), None);
        assert_eq!(tab_of_record("lease"), None);
        let known: BTreeSet<i64> = [3, 7, 9].into();
        let open: BTreeSet<i64> = [7, 12].into();
        assert_eq!(stale_tabs(&known, Some(&open)), [3, 9].into());
        assert!(stale_tabs(&known, None).is_empty(), "the browser could not say: nothing goes");
        // More tabs than the cap (the browser could not list its tabs): the oldest go.
        let many: BTreeSet<i64> = (1..=TABS_MAX as i64 + 10).collect();
        let stale = stale_tabs(&many, None);
        assert_eq!(stale, (1..=10).collect());
        // Open or not, never more than the cap.
        assert_eq!(stale_tabs(&many, Some(&many)).len(), 10);
    }

    #[test]
    fn a_confirmed_file_copied_again_is_not_stored_again() {
        let s = MemoryStore::default();
        let f = FileBlob {
            key: "a#0".into(),
            name: "photo.png".into(),
            mime: "image/png".into(),
            data_b64: "iVBORw0KGgo=".into(),
            size: 8,
            uploaded: false,
        };
        assert_eq!(block_on(store_file(&s, &f, "a", Some("pn:+5511|2026-11-30"))), Ok(true));
        assert_eq!(s.len(Table::Pending), 1);
        block_on(s.put_many(&[Entry::delete(Table::Pending, "a")])).unwrap();
        block_on(put(&s, Table::Files, "a#0", &f.without_bytes())).unwrap();
        // The page is loaded again and copies the photo once more.
        assert_eq!(block_on(store_file(&s, &f, "a", Some("pn:+5511|2026-11-30"))), Ok(false));
        let kept: FileBlob = block_on(get(&s, Table::Files, "a#0")).unwrap().unwrap();
        assert_eq!((kept.uploaded, kept.data_b64.as_str(), kept.size), (true, "", 8));
        assert!(s.is_empty(Table::Pending), "its day is not queued again");
    }

    #[test]
    fn messages_outside_the_window_are_kept_but_not_pending() {
        let s = MemoryStore::default();
        assert_eq!(block_on(append_messages(&s, &[msg("a", "x")], |_| false)), Ok((1, 0)));
        assert_eq!(s.len(Table::Messages), 1);
        assert!(s.is_empty(Table::Pending));
    }
}
