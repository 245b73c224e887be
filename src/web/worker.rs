//! Service-worker entry points. The worker may be killed at any moment: no state is
//! kept in memory between events; JS registers listeners synchronously and forwards here.
use super::store::Store;
use super::{chrome, js_err, sync, to_js, transport};
use crate::core::outbox::{DocKey, DocumentWriter, OutboxMessage, RemoteState};
use crate::core::schedule;
use crate::core::status;
use crate::core::store::{meta, Entry, Table};
use crate::core::sync::{ChatRecord, Export, LogEntry, Parked, SyncState};
use crate::core::view;
use crate::core::view::Settings;
use crate::crm::Connector;
use crate::protocol::ActionReply;
use crate::protocol::{self, Request, Sender};

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
    store.put_many(&[Entry::delete_meta(&meta::LEASE)]).await?;
    let mut state: SyncState = store.meta(&meta::STATE).await?.unwrap_or_default();
    if state.syncing {
        state.syncing = false;
        store.set_meta(&meta::STATE, &state).await?;
    }
    // Records of tabs that closed while no worker listened (the browser quit, the extension
    // was reloaded). Keys are read before the tabs are listed: a tab that registers meanwhile
    // is open by then, and keeps its records.
    let known = tabs_with_records(&store).await?;
    let open = chrome::open_tab_ids().await;
    forget_tabs(&store, &crate::core::store::stale_tabs(&known, open.as_ref())).await?;
    if !chrome::alarm_exists(SYNC_ALARM).await? {
        let minutes: f64 =
            store.meta(&meta::SYNC_PERIOD_MINUTES).await?.unwrap_or(SYNC_PERIOD_MINUTES);
        chrome::alarm_create_periodic(SYNC_ALARM, minutes).await?;
    }
    if schedule::due(state.last_finished_ms, sync::now_ms(), schedule::DEFAULT_PERIOD_MS) {
        run_sync(&store).await?;
    }
    Ok(())
}

/// A tab closed: what the worker kept for it goes (its panel binding, open chat and lookup
/// bucket).
#[wasm_bindgen]
pub async fn worker_on_tab_removed(tab: f64) -> Result<(), JsValue> {
    let store = Store::open().await?;
    forget_tabs(&store, &std::collections::BTreeSet::from([tab as i64])).await
}

/// Every tab the worker keeps records or a lookup bucket for.
async fn tabs_with_records(store: &Store) -> Result<std::collections::BTreeSet<i64>, JsValue> {
    let mut tabs: std::collections::BTreeSet<i64> = store
        .keys(Table::Meta)
        .await?
        .iter()
        .filter_map(|k| crate::core::store::tab_of_record(k))
        .collect();
    load_limiter(store).await?;
    tabs.extend(LIMITER.with(|l| {
        l.borrow().as_ref().map(|l| l.tabs.keys().copied().collect::<Vec<_>>()).unwrap_or_default()
    }));
    Ok(tabs)
}

/// Delete the records and lookup buckets of `tabs`.
async fn forget_tabs(store: &Store, tabs: &std::collections::BTreeSet<i64>) -> Result<(), JsValue> {
    if tabs.is_empty() {
        return Ok(());
    }
    let deletes: Vec<Entry> = tabs
        .iter()
        .flat_map(|&t| crate::core::store::tab_record_keys(t))
        .map(|k| Entry::delete(Table::Meta, k))
        .collect();
    store.put_many(&deletes).await?;
    TAB_CHATS.with(|c| c.borrow_mut().retain(|t, _| !tabs.contains(t)));
    TAB_ORDER.with(|c| c.borrow_mut().retain(|t, _| !tabs.contains(t)));
    load_limiter(store).await?;
    let snapshot = LIMITER.with(|l| {
        let mut l = l.borrow_mut();
        let lim = l.get_or_insert_with(Default::default);
        lim.forget_tabs(tabs);
        lim.clone()
    });
    store.set_meta(&meta::LOOKUP_LIMITER, &snapshot).await
}

/// Load the lookup limiter from the store on first use in this worker instance.
async fn load_limiter(store: &Store) -> Result<(), JsValue> {
    if LIMITER.with(|l| l.borrow().is_none()) {
        let saved: crate::core::ratelimit::Limiter =
            store.meta(&meta::LOOKUP_LIMITER).await?.unwrap_or_default();
        LIMITER.with(|l| {
            l.borrow_mut().get_or_insert(saved);
        });
    }
    Ok(())
}

#[wasm_bindgen]
pub async fn worker_on_alarm(alarm: JsValue) -> Result<(), JsValue> {
    let name = js_sys::Reflect::get(&alarm, &"name".into())?.as_string().unwrap_or_default();
    if name == SYNC_ALARM {
        let store = Store::open().await?;
        run_sync(&store).await?;
        notify_changed();
    }
    Ok(())
}

/// Tell open panels that what they show may have changed (no panel open: nothing to do).
fn notify_changed() {
    wasm_bindgen_futures::spawn_local(async {
        if let Ok(v) = to_js(&serde_json::json!({"kind": "changed"})) {
            let _ = chrome::send_message(&v).await;
        }
    });
}

/// The connected CRMs, as connectors (matching, panel actions) and writers (sync). Built
/// from the stored connections with fresh tokens; empty until a CRM is connected.
pub struct Connectors {
    pub finders: Vec<Box<dyn Connector>>,
    pub writers: Vec<Box<dyn DocumentWriter>>,
    /// The rep's default phone region, for CRM numbers typed without a country code.
    pub region: String,
    pub settings: Settings,
}

/// What the setup check looks at, from the rep's settings.
fn setup_wants(s: &Settings) -> crate::crm::setup::Wants {
    crate::crm::setup::Wants {
        leads: s.search_leads,
        deals: s.backup_deals,
        custom_object: s.backup_custom_object,
    }
}

/// The rep's settings (defaults until the options page saves them).
pub async fn settings(store: &Store) -> Result<Settings, JsValue> {
    Ok(store.meta(&meta::SETTINGS).await?.unwrap_or_default())
}

async fn connectors() -> Result<Connectors, JsValue> {
    let now = sync::now_ms();
    let conns = super::connect::ready_connections(now).await?;
    let finders = conns.iter().filter_map(|c| c.connector(now).ok()).collect();
    let s = settings(&Store::open().await?).await?;
    let writers = conns
        .iter()
        .filter_map(|c| c.writer(now).ok())
        .map(|mut w| {
            w.set_targets(s.targets());
            w
        })
        .collect();
    Ok(Connectors { finders, writers, region: s.default_region.clone(), settings: s })
}

/// Match chats that have no fresh decision yet (captured before a CRM was connected, or
/// stale), so the cycle knows where their backups go.
async fn match_pending_chats(store: &Store, c: Connectors) -> Result<Connectors, JsValue> {
    if c.finders.is_empty() {
        return Ok(c);
    }
    let now = sync::now_ms();
    let mut c = c;
    for (_, chat) in store.all::<ChatRecord>(Table::Chats).await? {
        if !chat.excluded && !chat.match_is_fresh(now) {
            c = limited_resolve(store, &chat.identity, c, None).await?;
        }
    }
    Ok(c)
}

thread_local! {
    /// The lookup limiter of this worker instance (persisted after each decision, so a
    /// restarted worker continues from it). Decided synchronously: concurrent captures
    /// cannot both spend the same token.
    static LIMITER: std::cell::RefCell<Option<crate::core::ratelimit::Limiter>> = const { std::cell::RefCell::new(None) };
    /// Chats being looked up right now: a second capture of the same chat waits for the first.
    static IN_FLIGHT: std::cell::RefCell<std::collections::BTreeMap<String, bool>> = const { std::cell::RefCell::new(std::collections::BTreeMap::new()) };
    /// Each tab's open chat as this worker instance last decided it (written through to
    /// `tabchat:<tab>`). Decided synchronously: two chat switches answered at once (a busy
    /// worker catching up) each build on the other, where two reads of the stored record
    /// would both see the chat before them and the later write would drop the chat just left.
    static TAB_CHATS: std::cell::RefCell<std::collections::BTreeMap<i64, TabChat>> = const { std::cell::RefCell::new(std::collections::BTreeMap::new()) };
    /// Each tab's requests in arrival order (core::latest): a chat report that finishes its
    /// reads after a later one was decided does not undo it.
    static TAB_ORDER: std::cell::RefCell<std::collections::BTreeMap<i64, crate::core::latest::Latest>> = const { std::cell::RefCell::new(std::collections::BTreeMap::new()) };
}

/// Look a chat up in the CRMs the limiter admits now (core::ratelimit); the others wait for
/// the next capture or cycle. `tab`: the capture's tab (None: the sync cycle).
async fn limited_resolve(
    store: &Store,
    identity: &crate::core::model::WaIdentity,
    c: Connectors,
    tab: Option<i64>,
) -> Result<Connectors, JsValue> {
    limited_resolve_again(store, identity, c, tab, false).await
}

/// `again_if_busy`: a lookup of this chat already running runs once more when it ends (a
/// group showed a new participant); otherwise a busy chat is left to the running lookup.
async fn limited_resolve_again(
    store: &Store,
    identity: &crate::core::model::WaIdentity,
    c: Connectors,
    tab: Option<i64>,
    again_if_busy: bool,
) -> Result<Connectors, JsValue> {
    let key = identity.chat_key();
    // Nothing to look up by number (an @lid or name-only chat): no CRM search, no token.
    if identity.phone.is_none() && !identity.is_group {
        super::matching::resolve(store, identity, &c.finders, &c.region, sync::now_ms()).await?;
        return Ok(c);
    }
    // Already being looked up: that lookup runs once more when it ends (a group may have
    // shown a new participant meanwhile).
    let busy = IN_FLIGHT.with(|f| match f.borrow_mut().entry(key.clone()) {
        std::collections::btree_map::Entry::Occupied(mut e) => {
            if again_if_busy {
                e.insert(true);
            }
            true
        }
        std::collections::btree_map::Entry::Vacant(e) => {
            e.insert(false);
            false
        }
    });
    if busy {
        return Ok(c);
    }
    let mut c = c;
    loop {
        let out = limited_resolve_inner(store, identity, c, tab).await;
        let again = IN_FLIGHT.with(|f| {
            let mut f = f.borrow_mut();
            match f.get(&key).copied() {
                Some(true) if out.is_ok() => {
                    f.insert(key.clone(), false);
                    true
                }
                _ => {
                    f.remove(&key);
                    false
                }
            }
        });
        match out {
            Ok(next) if again => c = next,
            other => return other,
        }
    }
}

/// A lookup the limiter held for a tab runs again once a token is back, so the card of a
/// chat opened in a quick run of chats does not wait for the next capture or sync cycle. Only
/// while the chat is still the tab's open one: a page rewriting its header gets no more
/// lookups than the limit allows, and at most one retry waits per open chat.
fn retry_held_lookup(identity: crate::core::model::WaIdentity, tab: i64, after_ms: u64) {
    wasm_bindgen_futures::spawn_local(async move {
        gloo_timers::future::TimeoutFuture::new(u32::try_from(after_ms).unwrap_or(u32::MAX)).await;
        let Ok(store) = Store::open().await else { return };
        let open: Option<TabChat> = store.meta(&meta::tab_chat(tab)).await.ok().flatten();
        let still_open =
            open.and_then(|c| c.chat).is_some_and(|c| c.chat_key() == identity.chat_key());
        let fresh = store
            .get::<ChatRecord>(Table::Chats, &identity.chat_key())
            .await
            .ok()
            .flatten()
            .is_some_and(|c| c.match_is_fresh(sync::now_ms()));
        if !still_open || fresh {
            return;
        }
        let Ok(c) = connectors().await else { return };
        if limited_resolve(&store, &identity, c, Some(tab)).await.is_ok() {
            notify_changed();
        }
    });
}

/// The chat's stored match is not a decision: looked up again at the next chance.
async fn mark_undecided(
    store: &Store,
    identity: &crate::core::model::WaIdentity,
) -> Result<(), JsValue> {
    let key = identity.chat_key();
    if let Some(mut chat) = store.get::<ChatRecord>(Table::Chats, &key).await? {
        if chat.matched_at_ms.is_some() {
            chat.matched_at_ms = None;
            store.put(Table::Chats, &key, &chat).await?;
        }
    }
    Ok(())
}

async fn limited_resolve_inner(
    store: &Store,
    identity: &crate::core::model::WaIdentity,
    mut c: Connectors,
    tab: Option<i64>,
) -> Result<Connectors, JsValue> {
    use crate::core::model::Crm;
    load_limiter(store).await?;
    let by_name: std::collections::BTreeMap<String, crate::crm::Budget> =
        store.meta(&meta::BUDGET).await?.unwrap_or_default();
    let budgets: std::collections::BTreeMap<Crm, crate::crm::Budget> = c
        .finders
        .iter()
        .filter_map(|f| by_name.get(f.crm().name()).map(|b| (f.crm(), b.clone())))
        .collect();
    let crms: Vec<Crm> = c.finders.iter().map(|f| f.crm()).collect();
    let phone = identity.phone.clone().filter(|_| !identity.is_group);
    let now = sync::now_ms();
    let (go, held, snapshot) = LIMITER.with(|l| {
        let mut l = l.borrow_mut();
        let lim = l.get_or_insert_with(Default::default);
        let (go, held) = lim.admit(tab, phone.as_deref(), &crms, &budgets, now);
        (go, held, lim.clone())
    });
    store.set_meta(&meta::LOOKUP_LIMITER, &snapshot).await?;
    if let (Some(ms), Some(t)) = (crate::core::ratelimit::retry_after_ms(&held), tab) {
        retry_held_lookup(identity.clone(), t, ms);
    }
    if go.is_empty() {
        // Wanted and held: what is stored is not the decision this chat needs (a group may
        // show a new participant), so the retry, the next capture or the cycle redoes it.
        mark_undecided(store, identity).await?;
        return Ok(c);
    }
    type Finders = Vec<Box<dyn Connector>>;
    let (finders, rest): (Finders, Finders) =
        std::mem::take(&mut c.finders).into_iter().partition(|f| go.contains(&f.crm()));
    let resolved = super::matching::resolve(store, identity, &finders, &c.region, now).await;
    c.finders = finders.into_iter().chain(rest).collect();
    let (outcome, errors) = resolved?;
    if !held.is_empty() {
        // Not every CRM was asked: not a decision yet.
        mark_undecided(store, identity).await?;
    } else if let (Some(p), crate::core::matching::MatchOutcome::NoMatch { .. }, true) =
        (phone, &outcome, errors.is_empty())
    {
        let snapshot = LIMITER.with(|l| {
            let mut l = l.borrow_mut();
            let lim = l.get_or_insert_with(Default::default);
            lim.no_match(&p, now);
            lim.clone()
        });
        store.set_meta(&meta::LOOKUP_LIMITER, &snapshot).await?;
    }
    Ok(c)
}

thread_local! {
    /// This worker instance's lease owner id: concurrent cycles in one instance (an alarm
    /// and "Sync now") exclude each other.
    static INSTANCE: String = format!("worker-{}", js_sys::Math::random());
}

async fn run_sync(store: &Store) -> Result<sync::CycleReport, JsValue> {
    if !settings(store).await?.sync_enabled {
        return Ok(sync::CycleReport {
            skipped_reason: Some("sync is off in the options".into()),
            ..Default::default()
        });
    }
    let owner = INSTANCE.with(String::clone);
    clean_orphan_files(store).await?;
    let c = connectors().await?;
    let c = match_pending_chats(store, c).await?;
    let mut ws = c.writers;
    let report = sync::run_cycle(store, &mut ws, &owner).await?;
    super::connect::remember(&ws, sync::now_ms()).await?;
    if report.auth_expired.is_empty() {
        return Ok(report);
    }
    // A 401 mid-batch: one refresh, one retry; a second 401 backs off (policy).
    for crm in &report.auth_expired {
        super::connect::unauthorized(*crm, sync::now_ms()).await?;
    }
    let mut ws = connectors().await?.writers;
    let report = sync::run_cycle(store, &mut ws, &owner).await?;
    super::connect::remember(&ws, sync::now_ms()).await?;
    Ok(report)
}

/// Files whose message (or its attachment) is not stored are dropped before a cycle loads files.
async fn clean_orphan_files(store: &Store) -> Result<(), JsValue> {
    let keys = store.keys(Table::Files).await?;
    if keys.is_empty() {
        return Ok(());
    }
    let mut media = std::collections::BTreeMap::new();
    for k in &keys {
        let Some((msg, _)) = k.rsplit_once('#') else { continue };
        if !media.contains_key(msg) {
            if let Some(m) = store.get::<OutboxMessage>(Table::Messages, msg).await? {
                media.insert(msg.to_string(), m.message.media.len());
            }
        }
    }
    let orphans = crate::protocol::limits::orphan_files(&keys, &media);
    if !orphans.is_empty() {
        let drop: Vec<Entry> =
            orphans.iter().map(|k| Entry::delete(Table::Files, k.clone())).collect();
        store.put_many(&drop).await?;
        sync::log(
            store,
            format!("{} copied files without a stored message were removed", orphans.len()),
        )
        .await?;
    }
    Ok(())
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

pub(crate) fn sender_of(sender: &JsValue) -> Sender {
    let get = |k: &str| js_sys::Reflect::get(sender, &k.into()).ok().and_then(|v| v.as_string());
    let tab = js_sys::Reflect::get(sender, &"tab".into())
        .ok()
        .filter(|t| t.is_object())
        .and_then(|t| js_sys::Reflect::get(&t, &"id".into()).ok())
        .and_then(|v| v.as_f64())
        .map(|v| v as i64);
    let frame = js_sys::Reflect::get(sender, &"frameId".into())
        .ok()
        .and_then(|v| v.as_f64())
        .map(|v| v as i64);
    protocol::classify_sender(
        &chrome::runtime_id(),
        get("id").as_deref(),
        get("url").as_deref(),
        tab,
        frame,
    )
}

/// What the worker keeps per tab: the panel binding (`panel:<tab>`, written by the content
/// script's register and the frame's claim) and the open chat (`tabchat:<tab>`, written by the
/// content script), in two records so neither write loses the other.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
struct PanelBinding {
    nonce: String,
    frame: Option<i64>,
    #[serde(default)]
    blocked: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
struct TabChat {
    chat: Option<crate::core::model::WaIdentity>,
    #[serde(default)]
    left_chats: Vec<String>,
    theme: Option<String>,
    #[serde(default)]
    paused: bool,
}

/// Decide tab `t`'s open chat with `change` (which gives the theme it reported, if any, and
/// whether capture is paused), then store the decision. The decision is made before any
/// await (see `TAB_CHATS`): on the chat this instance last decided, else on the record read
/// for this request; the latest decision is what is written, whichever write lands last.
async fn decide_tab_chat(
    t: i64,
    ticket: u64,
    tab: Option<protocol::TabRecord>,
    change: impl FnOnce(&mut protocol::TabRecord) -> (Option<String>, bool),
) -> Result<JsValue, JsValue> {
    if !TAB_ORDER.with(|o| o.borrow_mut().entry(t).or_default().act(ticket)) {
        return to_js(&ActionReply::ok()); // a report that arrived later was decided already
    }
    TAB_CHATS.with(|cache| {
        let mut cache = cache.borrow_mut();
        let mut rec = tab.unwrap_or_default();
        if let Some(c) = cache.get(&t) {
            rec.chat = c.chat.clone();
            rec.left_chats = c.left_chats.clone();
            rec.theme = c.theme.clone();
        }
        let (theme, paused) = change(&mut rec);
        let c = TabChat {
            chat: rec.chat,
            left_chats: rec.left_chats,
            theme: theme.or(rec.theme),
            paused,
        };
        cache.insert(t, c);
    });
    let store = Store::open().await?;
    let Some(c) = TAB_CHATS.with(|c| c.borrow().get(&t).cloned()) else {
        return to_js(&ActionReply::ok()); // the tab closed meanwhile
    };
    store.set_meta(&meta::tab_chat(t), &c).await?;
    to_js(&ActionReply::ok())
}

async fn tab_record(store: &Store, tab: i64) -> Result<Option<protocol::TabRecord>, JsValue> {
    let Some(b) = store.meta::<PanelBinding>(&meta::panel_binding(tab)).await? else {
        return Ok(None);
    };
    let stored: Option<TabChat> = store.meta(&meta::tab_chat(tab)).await?;
    let c = TAB_CHATS.with(|c| c.borrow().get(&tab).cloned()).or(stored).unwrap_or_default();
    Ok(Some(protocol::TabRecord {
        nonce: b.nonce,
        frame: b.frame,
        chat: c.chat,
        left_chats: c.left_chats,
        theme: c.theme,
        blocked: b.blocked,
        paused: c.paused,
    }))
}

/// The tab a sender speaks for, if it is a content script or a panel frame.
fn tab_of(sender: &Sender) -> Option<i64> {
    match sender {
        Sender::WhatsAppTab { tab, .. } | Sender::PanelFrame { tab, .. } => Some(*tab),
        _ => None,
    }
}

/// The panel frame's whole view: its tab's chat as the content script reported it.
#[derive(Serialize)]
struct PanelSyncReply {
    chat_key: Option<String>,
    chat_name: Option<String>,
    theme: Option<String>,
    blocked: Option<String>,
    /// The content script paused capture of this chat (the page reads wrong).
    paused: bool,
    /// The rep's default phone region: the panel shows numbers for it.
    region: String,
    state: view::PanelState,
    /// A connected CRM's setup check has a failed line (until it passes).
    setup: Option<String>,
}

async fn export(store: &Store) -> Result<Export, JsValue> {
    Ok(Export {
        product: status::product_line(),
        exported_at_ms: sync::now_ms(),
        schema_version: super::store::SCHEMA_VERSION,
        chats: store.all::<ChatRecord>(Table::Chats).await?.into_iter().map(|(_, c)| c).collect(),
        messages: {
            let window = sync::backup_window(store).await?;
            let excluded = settings(store).await?.excluded_chats;
            store
                .all::<OutboxMessage>(Table::Messages)
                .await?
                .into_iter()
                .map(|(_, m)| {
                    let state = crate::core::outbox::message_state(
                        &m,
                        &window,
                        excluded.contains(&m.message.chat),
                    );
                    crate::core::sync::ExportedMessage { stored: m, state }
                })
                .collect()
        },
        documents: store
            .all::<(DocKey, RemoteState)>(Table::Docs)
            .await?
            .into_iter()
            .map(|(_, d)| d)
            .collect(),
        parked: store.meta(&meta::PARKED).await?.unwrap_or_default(),
        state: store.meta(&meta::STATE).await?.unwrap_or_default(),
        log: store.meta(&meta::LOG).await?.unwrap_or_default(),
        record_synced: store.meta(&meta::RECORD_SYNCED).await?.unwrap_or_default(),
    })
}

/// The panel's view of a chat, from what the worker has stored.
async fn panel_view(
    store: &Store,
    chat_key: Option<&str>,
    name: Option<&str>,
) -> Result<view::PanelState, JsValue> {
    let connected = super::connect::connected_crms().await?;
    let reconnect = super::connect::reconnect_needed().await?;
    let s = settings(store).await?;
    let chat: Option<ChatRecord> = match chat_key {
        Some(k) => store.get(Table::Chats, k).await?,
        None => None,
    };
    let state: SyncState = store.meta(&meta::STATE).await?.unwrap_or_default();
    let pending_in_chat = match chat_key {
        Some(k) => store
            .all_raw(Table::Pending)
            .await?
            .iter()
            .filter(|(_, v)| {
                serde_json::from_str::<String>(v).is_ok_and(|d| {
                    crate::core::store::split_day_key(&d).is_some_and(|(chat, _)| chat == k)
                })
            })
            .count() as u32,
        None => 0,
    };
    let parked: Vec<Parked> = store.meta(&meta::PARKED).await?.unwrap_or_default();
    let parked_reason = parked.first().filter(|_| pending_in_chat > 0).map(|p| p.reason.clone());
    let older = match chat_key {
        Some(k) => sync::older_in_chat(store, k, &sync::backup_window(store).await?).await?,
        None => None,
    };
    // Proof of what was saved: the chat's latest backed-up day, per CRM document.
    let saved = match &chat {
        Some(c) => saved_of(store, c, &all_docs(store).await?).await?,
        None => vec![],
    };
    let mut currencies = Vec::new();
    for crm in [crate::core::model::Crm::Zoho, crate::core::model::Crm::Salesforce] {
        if let Some(c) = store.meta(&meta::home_currency(crm)).await? {
            currencies.push((crm, c));
        }
    }
    // A chat without a number gets records suggested by what its contact wrote.
    let incoming_texts = match (chat_key, chat.as_ref().and_then(|c| c.identity.phone.as_ref())) {
        (Some(k), None) if !k.starts_with("group:") => incoming_texts(store, k).await?,
        _ => vec![],
    };
    Ok(view::panel_state(&view::PanelInputs {
        connected: &connected,
        reconnect: &reconnect,
        chat_key,
        chat_name: name,
        chat: chat.as_ref(),
        excluded: chat_key.is_some_and(|k| s.excluded_chats.iter().any(|e| e == k)),
        state: &state,
        pending_in_chat,
        parked_in_chat: parked_reason.as_deref(),
        older_in_chat: older.as_ref(),
        masking: chat_key.and_then(|k| {
            let any = s.mask_cards || s.mask_ids || s.mask_codes;
            any.then(|| !s.unmasked_chats.iter().any(|c| c == k))
        }),
        currencies: &currencies,
        saved: &saved,
        incoming_texts: &incoming_texts,
        now_ms: sync::now_ms(),
    }))
}

/// What the contact wrote in a chat, newest first (at most the chat's last 200 messages).
async fn incoming_texts(store: &Store, chat_key: &str) -> Result<Vec<String>, JsValue> {
    let mut days: Vec<(String, Vec<String>)> = store
        .all::<Vec<String>>(Table::Days)
        .await?
        .into_iter()
        .filter(|(d, _)| crate::core::store::split_day_key(d).is_some_and(|(c, _)| c == chat_key))
        .collect();
    days.sort_by(|a, b| b.0.cmp(&a.0));
    let mut out = Vec::new();
    for key in days.into_iter().flat_map(|(_, keys)| keys.into_iter().rev()).take(200) {
        if let Some(m) = store.get::<OutboxMessage>(Table::Messages, &key).await? {
            if m.message.direction == crate::core::model::Direction::In {
                out.push(m.message.text);
            }
        }
    }
    Ok(out)
}

/// Match a chat again now (after a link, unlink or create), from the CRMs.
async fn rematch(store: &Store, chat_key: &str) -> Result<(), JsValue> {
    let Some(chat) = store.get::<ChatRecord>(Table::Chats, chat_key).await? else { return Ok(()) };
    let c = connectors().await?;
    super::matching::resolve(store, &chat.identity, &c.finders, &c.region, sync::now_ms()).await?;
    Ok(())
}

/// Mark chats excluded (or not) as the settings say (see [`store::apply_exclusions`]).
async fn apply_exclusions(store: &Store, s: &Settings) -> Result<(), JsValue> {
    Ok(crate::core::store::apply_exclusions(store, &s.excluded_chats).await?)
}

/// Create a contact or lead in one CRM, then link the chat to it (or to the record the
/// CRM names as the duplicate).
async fn create_record(
    chat: String,
    crm: crate::core::model::Crm,
    kind: &str,
    fields: view::RecordForm,
) -> Result<ActionReply, JsValue> {
    let errs = view::validate_form(&fields, kind);
    if !errs.is_empty() {
        return Ok(ActionReply { field_errors: errs, ..ActionReply::err("errInvalid") });
    }
    let c = connectors().await?;
    let Some(conn) = c.finders.iter().find(|f| f.crm() == crm) else {
        return Ok(ActionReply::err("errNotConnected"));
    };
    use crate::crm::create::{self, Next};
    let (create_kind, record_kind) = create::kinds(kind);
    let new = create::new_record(
        &fields.first_name,
        &fields.last_name,
        &fields.phone,
        &fields.email,
        &fields.company,
    );
    let with_source = match crm {
        crate::core::model::Crm::Zoho => {
            super::connect::with_lead_source(create_kind, sync::now_ms()).await?
        }
        _ => None,
    };
    let conn: &dyn Connector = with_source.as_deref().unwrap_or(conn.as_ref());
    let resp = transport::perform(&conn.create_request(create_kind, &new)).await;
    let id = match create::after_create(conn, &resp, &new) {
        Next::Link(id) => id,
        Next::Search(requests) => {
            let mut found = None;
            for req in requests {
                if let Ok(recs) = conn.parse_search_of(&req, &transport::perform(&req).await) {
                    found = recs.into_iter().next().map(|r| r.id);
                }
                if found.is_some() {
                    break;
                }
            }
            match found {
                Some(id) => id,
                None => return Ok(ActionReply::err("errDuplicate")),
            }
        }
        Next::Failed(e) => {
            // In the rep's language; the CRM's own reason stays as the CRM wrote it.
            let mut reply =
                ActionReply::err(chrome::say(&crate::crm::connect::connect_failure(crm, &e)));
            if let (Some(f), crate::crm::Failure::Rejected { reason }) =
                (create::rejected_field(&e), &e)
            {
                reply.field_errors.push(view::FieldError { field: f.into(), key: reason.clone() });
            }
            return Ok(reply);
        }
    };
    let record = crate::core::model::RecordRef { crm, kind: record_kind, id: id.clone() };
    let store = Store::open().await?;
    let mut chat_rec: ChatRecord = store.get(Table::Chats, &chat).await?.unwrap_or_default();
    chat_rec.cards.push(create::card(crm, record_kind, id, &new));
    store.put(Table::Chats, &chat, &chat_rec).await?;
    let mut links = super::matching::links(&store).await?;
    links.link(&chat, record);
    store.set_meta(&meta::LINKS, &links).await?;
    rematch(&store, &chat).await?;
    Ok(ActionReply::ok())
}

/// "Link existing record": search every connected CRM by name, e-mail or phone.
async fn search_records(query: &str) -> Result<ActionReply, JsValue> {
    if crate::crm::Query::parse(query).is_none() {
        return Ok(ActionReply::err("errQueryShort"));
    }
    let c = connectors().await?;
    if c.finders.is_empty() {
        return Ok(ActionReply::err("errNotConnected"));
    }
    let mut batches = Vec::new();
    let mut errors = Vec::new();
    for f in &c.finders {
        for req in f.text_search_requests(query) {
            match f.parse_search_of(&req, &transport::perform(&req).await) {
                Ok(r) => batches.push(r),
                Err(e) => {
                    errors.push(chrome::say(&crate::crm::connect::connect_failure(f.crm(), &e)));
                    break;
                }
            }
        }
    }
    let found = crate::core::matching::merge_candidates(batches);
    // Keep the records so a link made from these results has its card.
    let store = Store::open().await?;
    store.set_meta(&meta::SEARCH_RESULTS, &found).await?;
    let candidates: Vec<view::Candidate> = found
        .iter()
        .filter_map(|r| {
            Some(view::Candidate {
                crm: r.crm?,
                kind: view::kind_name(r.kind?).into(),
                id: r.id.clone(),
                name: r.name.clone(),
                detail: r
                    .email
                    .clone()
                    .or_else(|| r.phones.first().map(|(_, v)| v.clone()))
                    .or_else(|| r.company.clone()),
                matched_on: None,
            })
        })
        .collect();
    if candidates.is_empty() && !errors.is_empty() {
        return Ok(ActionReply::err(errors.join("; ")));
    }
    Ok(ActionReply { candidates, ..ActionReply::ok() })
}

#[derive(Serialize)]
struct Diagnostics {
    product: String,
    connected: Vec<crate::core::model::Crm>,
    reconnect_needed: Vec<crate::core::model::Crm>,
    capture: Option<crate::capture::Counters>,
    content_error: Option<String>,
    state: SyncState,
    pending: usize,
    parked: Vec<Parked>,
    log: Vec<LogEntry>,
    /// Per CRM: the API allowance it last reported (null before any call).
    budget: Option<std::collections::BTreeMap<String, crate::core::ratelimit::Budget>>,
    /// The last documents saved (the popup's proof of what was saved).
    saved: Vec<view::Receipt>,
}

async fn all_docs(store: &Store) -> Result<Vec<(DocKey, RemoteState)>, JsValue> {
    Ok(store.all::<(DocKey, RemoteState)>(Table::Docs).await?.into_iter().map(|(_, d)| d).collect())
}

/// A chat's receipts, with the confirmed messages of the day they cover.
async fn saved_of(
    store: &Store,
    chat: &ChatRecord,
    docs: &[(DocKey, RemoteState)],
) -> Result<Vec<view::Receipt>, JsValue> {
    let Some(day) = view::receipts(chat, docs, &|_| 0).first().map(|r| r.day.clone()) else {
        return Ok(vec![]);
    };
    let mut synced = 0;
    let key = crate::core::keys::day_key(&chat.identity.chat_key(), &day);
    for k in store.get::<Vec<String>>(Table::Days, &key).await?.unwrap_or_default() {
        if store.get::<OutboxMessage>(Table::Messages, &k).await?.is_some_and(|m| m.synced) {
            synced += 1;
        }
    }
    Ok(view::receipts(chat, docs, &|_| synced))
}

/// The popup's "last saved": the most recently saved chats' receipts.
async fn recent_saves(store: &Store) -> Result<Vec<view::Receipt>, JsValue> {
    const CHATS: usize = 3;
    let docs = all_docs(store).await?;
    let mut chats: Vec<ChatRecord> =
        store.all::<ChatRecord>(Table::Chats).await?.into_iter().map(|(_, c)| c).collect();
    chats.retain(|c| c.last_synced_at_ms.is_some());
    chats.sort_by_key(|c| std::cmp::Reverse(c.last_synced_at_ms));
    let mut out = vec![];
    for c in chats.iter().take(CHATS) {
        out.extend(saved_of(store, c, &docs).await?);
    }
    Ok(out)
}

async fn diagnostics(store: &Store) -> Result<Diagnostics, JsValue> {
    let mut log: Vec<LogEntry> = store.meta(&meta::LOG).await?.unwrap_or_default();
    let keep = log.len().saturating_sub(20);
    log.drain(..keep);
    Ok(Diagnostics {
        product: status::product_line(),
        connected: super::connect::connected_crms().await?,
        reconnect_needed: super::connect::reconnect_needed().await?,
        capture: store.meta(&meta::capture_counters()).await?,
        content_error: store.meta(&meta::CONTENT_ERROR).await?,
        state: store.meta(&meta::STATE).await?.unwrap_or_default(),
        pending: store.all_raw(Table::Pending).await?.len(),
        parked: store.meta(&meta::PARKED).await?.unwrap_or_default(),
        log,
        budget: store.meta(&meta::BUDGET).await?,
        saved: recent_saves(store).await?,
    })
}

/// One runtime message in, one reply out. Rejected senders get an error, never data.
#[wasm_bindgen]
pub async fn worker_on_message(message: JsValue, sender: JsValue) -> Result<JsValue, JsValue> {
    let mut request: Request =
        serde_wasm_bindgen::from_value(message).map_err(|e| js_err(format!("bad request: {e}")))?;
    request.canonicalize_phones();
    let from = sender_of(&sender);
    // Before any await, so tickets follow the order messages arrived in.
    let ticket = tab_of(&from)
        .map_or(0, |t| TAB_ORDER.with(|o| o.borrow_mut().entry(t).or_default().ticket()));
    crate::protocol::limits::check(&request).map_err(js_err)?;
    let tab = match tab_of(&from) {
        Some(t) => tab_record(&Store::open().await?, t).await?,
        None => None,
    };
    protocol::authorize(&request, &from, tab.as_ref()).map_err(js_err)?;
    let changes = !matches!(
        request,
        Request::PanelSync
            | Request::PanelClaim { .. }
            | Request::PanelRegister { .. }
            | Request::BackfillProgress { .. }
            | Request::UnknownChats { .. }
            | Request::Export
            | Request::Diagnostics
            | Request::GetSettings
            | Request::Hello { .. }
            | Request::CaptureStats { .. }
            | Request::SearchRecords { .. }
            | Request::Onboarding
    );
    let reply = handle(request, &from, tab, ticket).await;
    if changes && reply.is_ok() {
        notify_changed();
    }
    reply
}

async fn handle(
    request: Request,
    from: &Sender,
    tab: Option<protocol::TabRecord>,
    ticket: u64,
) -> Result<JsValue, JsValue> {
    let tab_id = tab_of(from);
    match request {
        Request::PanelRegister { nonce, blocked } => {
            let store = Store::open().await?;
            let t = tab_id.ok_or_else(|| js_err("no tab"))?;
            let binding = PanelBinding { nonce, frame: None, blocked };
            store.set_meta(&meta::panel_binding(t), &binding).await?;
            to_js(&ActionReply::ok())
        }
        Request::PanelClaim { nonce } => {
            let (Sender::PanelFrame { tab: t, frame }, Some(mut rec)) = (from, tab) else {
                return Err(js_err("this panel frame was not inserted by crmsync"));
            };
            rec.claim(*frame, &nonce).map_err(js_err)?;
            let store = Store::open().await?;
            let binding = PanelBinding { nonce: rec.nonce, frame: rec.frame, blocked: rec.blocked };
            store.set_meta(&meta::panel_binding(*t), &binding).await?;
            to_js(&ActionReply::ok())
        }
        Request::ChatOpened { identity, theme, paused } => {
            let t = tab_id.ok_or_else(|| js_err("no tab"))?;
            decide_tab_chat(t, ticket, tab, |rec| {
                rec.open(identity);
                (theme, paused)
            })
            .await
        }
        Request::ChatUnreadable => {
            let t = tab_id.ok_or_else(|| js_err("no tab"))?;
            // The tab's open chat is no longer known, so the panel shows no chat's card (its
            // actions would name the chat open before) and says capture is paused.
            decide_tab_chat(t, ticket, tab, |rec| {
                rec.close();
                (None, true)
            })
            .await
        }
        Request::PanelSync => {
            let store = Store::open().await?;
            let rec = tab.unwrap_or_default();
            // The open chat not looked up yet (the limiter held it back): try again now.
            if let Some(identity) = &rec.chat {
                let chat: Option<ChatRecord> =
                    store.get(Table::Chats, &identity.chat_key()).await?;
                if chat.is_some_and(|c| !c.excluded && !c.match_is_fresh(sync::now_ms())) {
                    let c = connectors().await?;
                    if !c.finders.is_empty() {
                        limited_resolve(&store, identity, c, tab_id).await?;
                        // The panel shows the newest of its refreshes (core::latest): one asked
                        // while this lookup ran was answered without its match, and this answer
                        // may come after it. A match found here makes the panel ask again.
                        let now: Option<ChatRecord> =
                            store.get(Table::Chats, &identity.chat_key()).await?;
                        if now.is_some_and(|c| c.match_is_fresh(sync::now_ms())) {
                            notify_changed();
                        }
                    }
                }
            }
            let key = rec.chat_key();
            let name = rec.chat.as_ref().map(|c| c.name.clone());
            let state = panel_view(&store, key.as_deref(), name.as_deref()).await?;
            to_js(&PanelSyncReply {
                chat_key: key,
                chat_name: name,
                theme: rec.theme,
                blocked: rec.blocked,
                paused: rec.paused,
                region: settings(&store).await?.default_region,
                state,
                // In the browser's language, as the panel shows it.
                setup: crate::crm::setup::notice(&super::onboard::reports(&store).await?)
                    .map(|n| super::chrome::say(&n)),
            })
        }
        // For the panel frame of the content script's tab; the worker only acknowledges it.
        Request::BackfillProgress { .. } => to_js(&ActionReply::ok()),
        Request::UnknownChats { titles } => {
            let store = Store::open().await?;
            let known: std::collections::BTreeSet<String> = store
                .all::<ChatRecord>(Table::Chats)
                .await?
                .into_iter()
                .map(|(_, c)| c.identity.name)
                .collect();
            let unknown: Vec<String> =
                titles.into_iter().filter(|t| !known.contains(t.trim())).collect();
            to_js(&unknown)
        }
        Request::Hello { .. } | Request::Relay { .. } => {
            to_js(&Ack { ok: true, product: status::product_line() })
        }
        Request::OwnNumber { phone } => {
            // The first run's region guess reads it (`onboard::onboarding`).
            let store = Store::open().await?;
            if store.meta(&meta::OWN_NUMBER).await?.as_deref() != Some(&phone) {
                store.set_meta(&meta::OWN_NUMBER, &phone).await?;
            }
            to_js(&Ack { ok: true, product: status::product_line() })
        }
        Request::ContentError { stage, error } => {
            let store = Store::open().await?;
            store.set_meta(&meta::CONTENT_ERROR, &format!("{stage}: {error}")).await?;

            to_js(&Ack { ok: true, product: status::product_line() })
        }
        Request::CreateRecord { chat, crm, record_kind, fields } => {
            to_js(&create_record(chat, crm, &record_kind, fields).await?)
        }
        Request::SearchRecords { query } => to_js(&search_records(&query).await?),
        Request::LinkRecord { chat, record } | Request::ChooseCandidate { chat, record } => {
            let store = Store::open().await?;
            // A record found by "link existing" search: keep its card with the chat.
            let found: Vec<crate::core::model::CrmRecord> =
                store.meta(&meta::SEARCH_RESULTS).await?.unwrap_or_default();
            if let Some(card) =
                found.into_iter().find(|c| c.id == record.id && c.crm == Some(record.crm))
            {
                let mut rec: ChatRecord = store.get(Table::Chats, &chat).await?.unwrap_or_default();
                rec.cards.retain(|c| !(c.id == card.id && c.crm == card.crm));
                rec.cards.push(card);
                store.put(Table::Chats, &chat, &rec).await?;
            }
            let mut links = super::matching::links(&store).await?;
            links.link(&chat, record);
            store.set_meta(&meta::LINKS, &links).await?;
            rematch(&store, &chat).await?;
            to_js(&ActionReply::ok())
        }
        Request::Unlink { chat } => {
            let store = Store::open().await?;
            let mut links = super::matching::links(&store).await?;
            let current: ChatRecord = store.get(Table::Chats, &chat).await?.unwrap_or_default();
            for r in &current.links {
                links.unlink(&chat, r);
            }
            store.set_meta(&meta::LINKS, &links).await?;
            rematch(&store, &chat).await?;
            to_js(&ActionReply::ok())
        }
        Request::ExcludeChat { chat, excluded } => {
            let store = Store::open().await?;
            let mut s = settings(&store).await?;
            s.excluded_chats.retain(|c| *c != chat);
            if excluded {
                s.excluded_chats.push(chat.clone());
            }
            store.set_meta(&meta::SETTINGS, &s).await?;
            apply_exclusions(&store, &s).await?;
            to_js(&ActionReply::ok())
        }
        Request::MaskChat { chat, masked } => {
            let store = Store::open().await?;
            let mut s = settings(&store).await?;
            s.unmasked_chats.retain(|c| *c != chat);
            if !masked {
                s.unmasked_chats.push(chat);
            }
            store.set_meta(&meta::SETTINGS, &s).await?;
            to_js(&ActionReply::ok())
        }
        Request::GetSettings => to_js(&settings(&Store::open().await?).await?),
        Request::SaveSettings { settings: s } => {
            let errs = s.validate();
            if !errs.is_empty() {
                return to_js(&ActionReply {
                    field_errors: errs,
                    ..ActionReply::err("errInvalid")
                });
            }
            let store = Store::open().await?;
            let window_changed = settings(&store).await?.backup_window_days != s.backup_window_days;
            store.set_meta(&meta::SETTINGS, &s).await?;
            apply_exclusions(&store, &s).await?;
            if window_changed {
                sync::reconcile_pending(&store).await?;
            }
            to_js(&ActionReply::ok())
        }
        Request::BackUpOlder { chat } => {
            // The rep chose to back up this chat's messages from before the window.
            let store = Store::open().await?;
            let Some(mut rec) = store.get::<ChatRecord>(Table::Chats, &chat).await? else {
                return to_js(&ActionReply::err("errUnknown"));
            };
            rec.back_up_older = true;
            store.put(Table::Chats, &chat, &rec).await?;
            let n = sync::reconcile_pending(&store).await?;
            sync::log(
                &store,
                format!(
                    "{}: {n} older messages queued for backup at the rep's request",
                    rec.identity.name
                ),
            )
            .await?;
            to_js(&ActionReply::ok())
        }
        Request::Disconnect { crm } => {
            super::connect::disconnect(crm).await?;
            to_js(&ActionReply::ok())
        }
        Request::Diagnostics => {
            let store = Store::open().await?;
            to_js(&diagnostics(&store).await?)
        }
        Request::File { message_key, index, name, mime, size, data_b64, error } => {
            let store = Store::open().await?;
            // Only a file of a stored message with an attachment at that index, from the tab
            // whose chat it is; its bytes are sniffed (core::limits::check_file).
            let message = store.get::<OutboxMessage>(Table::Messages, &message_key).await?;
            let kind = message
                .as_ref()
                .filter(|m| tab.as_ref().is_none_or(|t| t.accepts_messages_of(&m.message.chat)))
                .and_then(|m| m.message.media.get(index as usize))
                .map(|media| media.kind.clone());
            match data_b64 {
                Some(data) => {
                    let bytes = base64::Engine::decode(
                        &base64::engine::general_purpose::STANDARD,
                        data.as_bytes(),
                    )
                    .map_err(|e| js_err(format!("file is not base64: {e}")))?;
                    let (mime, name) = match crate::protocol::limits::check_file(
                        kind.as_deref(),
                        &mime,
                        &name,
                        &bytes,
                    ) {
                        Ok(ok) => ok,
                        Err(why) => {
                            sync::log(
                                &store,
                                format!("a file for message {message_key} was refused: {why}"),
                            )
                            .await?;
                            return Err(js_err(format!("file refused: {why}")));
                        }
                    };
                    let file = crate::core::outbox::FileBlob {
                        key: format!("{message_key}#{index}"),
                        name,
                        mime,
                        data_b64: data,
                        size: bytes.len() as u64,
                        uploaded: false,
                    };
                    let window = sync::backup_window(&store).await?;
                    // The message's day is written again, now with the file.
                    let day = message
                        .filter(|m| {
                            crate::core::outbox::message_state(m, &window, false)
                                != crate::core::outbox::MessageState::Older
                        })
                        .map(|m| crate::core::outbox::day_key_of(&m.message));
                    crate::core::store::store_file(&store, &file, &message_key, day.as_deref())
                        .await?;
                }
                None => {
                    if kind.is_none() {
                        return Err(js_err("no stored message has an attachment at that place"));
                    }
                    let why = error.unwrap_or_else(|| "not copied".into());
                    let name: String = name.chars().take(80).collect();
                    sync::log(&store, format!("{name} ({size} bytes) stays in WhatsApp: {why}"))
                        .await?;
                }
            }
            to_js(&ActionReply::ok())
        }
        Request::CaptureStats { counters } => {
            let store = Store::open().await?;
            store.set_meta(&meta::capture_counters(), &counters).await?;
            to_js(&ActionReply::ok())
        }
        Request::Captured { identity, messages } => {
            let store = Store::open().await?;
            // An excluded chat is never stored or sent.
            if settings(&store).await?.excluded_chats.contains(&identity.chat_key()) {
                return to_js(&CapturedAck { ok: true, added: 0, updated: 0 });
            }
            let new_sender: Vec<String> =
                messages.iter().filter_map(|m| m.sender.phone.clone()).collect();
            let (added, updated) = sync::on_captured(&store, identity.clone(), messages).await?;
            // Match the chat when first seen, and again once the stored match is stale (or a
            // group shows a participant not matched yet).
            let chat: ChatRecord =
                store.get(Table::Chats, &identity.chat_key()).await?.unwrap_or_default();
            let unseen = identity.is_group
                && new_sender
                    .iter()
                    .any(|p| !chat.participants.iter().any(|q| q.phone.as_ref() == Some(p)));
            if !chat.excluded && (!chat.match_is_fresh(sync::now_ms()) || unseen) {
                let c = connectors().await?;
                if !c.finders.is_empty() {
                    limited_resolve_again(&store, &identity, c, tab_id, unseen).await?;
                }
            }
            to_js(&CapturedAck { ok: true, added, updated })
        }
        Request::SyncNow => {
            let store = Store::open().await?;
            // The rep asked: documents waiting out their backoff go now (attempts still count
            // toward parking; a CRM's own Retry-After pause is still honoured).
            let mut retry: std::collections::BTreeMap<String, sync::RetryEntry> =
                store.meta(&meta::RETRY).await?.unwrap_or_default();
            if retry.values().any(|r| r.at_ms > 0) {
                for r in retry.values_mut() {
                    r.at_ms = 0;
                }
                store.set_meta(&meta::RETRY, &retry).await?;
            }
            to_js(&run_sync(&store).await?)
        }
        Request::SetSyncPeriod { minutes } => {
            // Chrome's floor for alarms is 30 s; the product default is 3 minutes.
            if !(0.5..=60.0).contains(&minutes) {
                return Err(js_err("sync period must be between 0.5 and 60 minutes"));
            }
            let store = Store::open().await?;
            store.set_meta(&meta::SYNC_PERIOD_MINUTES, &minutes).await?;
            chrome::alarm_create_periodic(SYNC_ALARM, minutes).await?;
            to_js(&Ack { ok: true, product: status::product_line() })
        }
        Request::Export => {
            let store = Store::open().await?;
            to_js(&export(&store).await?)
        }
        Request::SetupCheck { crm } => {
            let store = Store::open().await?;
            let wants = setup_wants(&settings(&store).await?);
            to_js(&super::onboard::setup_check(&store, crm, wants, sync::now_ms()).await?)
        }
        Request::CreateChatObject => {
            let store = Store::open().await?;
            let wants = setup_wants(&settings(&store).await?);
            to_js(&super::onboard::create_chat_object(&store, wants, sync::now_ms()).await?)
        }
        Request::Onboarding => {
            let store = Store::open().await?;
            to_js(&super::onboard::onboarding(&store).await?)
        }
        Request::FinishOnboarding => {
            let store = Store::open().await?;
            super::onboard::finish(&store).await?;
            to_js(&ActionReply::ok())
        }
        Request::Connect { .. } | Request::OauthConnect { .. } | Request::SignIn { .. } => {
            let connected = match request {
                Request::Connect { credentials } => {
                    super::connect::connect(credentials, sync::now_ms()).await?
                }
                Request::OauthConnect { start } => {
                    super::connect::oauth(start, sync::now_ms()).await?
                }
                Request::SignIn { crm, zoho_dc, login_host } => {
                    super::onboard::sign_in(crm, zoho_dc, login_host, sync::now_ms()).await?
                }
                _ => return Err(js_err("unreachable")),
            };
            if connected.ok {
                // The first connection anchors the 3-day first backup.
                let store = Store::open().await?;
                if store.meta(&meta::FIRST_CONNECTED_LOCAL).await?.is_none() {
                    store.set_meta(&meta::FIRST_CONNECTED_LOCAL, &local_now()).await?;
                    // Messages captured before connecting that are older than the window
                    // are no longer waiting.
                    sync::reconcile_pending(&store).await?;
                }
            }
            to_js(&connected)
        }
    }
}
