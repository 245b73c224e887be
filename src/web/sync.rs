//! The sync cycle, as the worker runs it: outbox → units → documents → batches → CRM →
//! confirmed messages. Decisions come from `core::outbox` / `core::policy`; this file only
//! loads, persists and performs, in an order that survives being killed at any line:
//! a create is recorded as Uncertain *before* it is sent, so a lost answer leads to a
//! reconcile, never to a second create.
use super::store::Store;
use super::transport;
use crate::core::outbox::{
    batch_writes, build_units, message_state, older_summary, plan_writes, settled_messages,
    BackupWindow, DocKey, DocumentWriter, MessageState, OlderMessages, OutboxMessage, RemoteState,
    RenderedDoc, Unit, WriteOp, WriteResult,
};
use crate::core::policy::{parse_retry_after, Decision, Failure, RetryPolicy};
use crate::core::schedule::{self, Lease};
use crate::core::sync::{push_log, ChatRecord, LogEntry, Parked, SyncState};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use wasm_bindgen::JsValue;

const LEASE_TTL_MS: u64 = 120_000;
const LOG_MAX: usize = 500;
/// Passes per cycle: reconcile, then the creates it uncovered, then anything re-planned.
const MAX_PASSES: usize = 3;
/// Pages a reconcile reads at most (200 notes each on Zoho).
const RECONCILE_MAX_PAGES: usize = 50;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RetryEntry {
    pub attempts: u32,
    pub at_ms: u64,
    /// Send this document in a call of its own (it was rejected inside a batch).
    #[serde(default)]
    pub alone: bool,
    /// Rate-limit answers (429) so far: they make the wait grow but are not the document's
    /// fault, so they never count toward parking (`attempts` counts the other failures).
    #[serde(default)]
    pub limited: u32,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CycleReport {
    pub ran: bool,
    pub calls: usize,
    pub written: usize,
    pub settled: usize,
    pub failed: usize,
    pub skipped_reason: Option<String>,
    /// CRMs that answered 401: the worker refreshes once and runs the cycle again.
    pub auth_expired: Vec<crate::core::model::Crm>,
}

pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

pub async fn log(store: &Store, text: String) -> Result<(), JsValue> {
    let mut entries: Vec<LogEntry> = store.get("meta", "log").await?.unwrap_or_default();
    push_log(&mut entries, LogEntry { at_ms: now_ms(), text }, LOG_MAX);
    store.put("meta", "log", &entries).await
}

/// The backup window from what is stored: the first connection, the rep's window length,
/// and the chats whose older messages the rep chose to back up.
pub async fn backup_window(store: &Store) -> Result<BackupWindow, JsValue> {
    let connected: Option<crate::core::model::LocalMinute> =
        store.get("meta", "first_connected_local").await?;
    let days = super::worker::settings(store).await?.backup_window_days;
    let chats: Vec<ChatRecord> =
        store.all::<ChatRecord>("chats").await?.into_iter().map(|(_, c)| c).collect();
    Ok(crate::core::sync::backup_window(connected, days, &chats))
}

/// Make `pending` agree with every stored message's state (after the window was set or
/// changed, or a chat's older messages were chosen): pending exactly when it will be sent.
pub async fn reconcile_pending(store: &Store) -> Result<usize, JsValue> {
    let window = backup_window(store).await?;
    let excluded = super::worker::settings(store).await?.excluded_chats;
    let pending: BTreeSet<String> =
        store.all_raw("pending").await?.into_iter().map(|(k, _)| k).collect();
    let mut entries: Vec<(&str, String, Option<String>)> = Vec::new();
    for (k, m) in store.all::<OutboxMessage>("messages").await? {
        let state = message_state(&m, &window, excluded.contains(&m.message.chat));
        let should = state == MessageState::Pending;
        if should != pending.contains(&k) {
            let day = crate::core::outbox::day_key_of(&m.message);
            entries.push((
                "pending",
                k,
                should.then(|| serde_json::to_string(&day)).transpose().map_err(super::js_err)?,
            ));
        }
    }
    let changed = entries.len();
    store.put_many(&entries).await?;
    Ok(changed)
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
    let prefix = format!("{chat_key}|");
    let last_day = start.day_key();
    let mut msgs = Vec::new();
    for (day_key, list) in store.all::<Vec<String>>("days").await? {
        let Some(day) = day_key.strip_prefix(&prefix) else { continue };
        if day.is_empty() || day > last_day.as_str() {
            continue;
        }
        for k in list {
            if let Some(m) = store.get::<OutboxMessage>("messages", &k).await? {
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
    let mut chat: ChatRecord = store.get("chats", &chat_key).await?.unwrap_or_default();
    if chat.excluded {
        return Ok((0, 0));
    }
    if chat.identity != identity {
        chat.identity = identity;
        store.put("chats", &chat_key, &chat).await?;
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

/// Pending messages of linked chats plus every message of the days they fall on.
async fn load_outbox(store: &Store) -> Result<(Vec<OutboxMessage>, Vec<ChatRecord>), JsValue> {
    let pending: Vec<(String, String)> = store.all("pending").await?;
    let chats: Vec<ChatRecord> =
        store.all::<ChatRecord>("chats").await?.into_iter().map(|(_, c)| c).collect();
    let day_keys: BTreeSet<String> = pending.into_iter().map(|(_, d)| d).collect();
    let mut keys = BTreeSet::new();
    for d in &day_keys {
        let list: Vec<String> = store.get("days", d).await?.unwrap_or_default();
        keys.extend(list);
    }
    let mut out = Vec::new();
    for k in keys {
        if let Some(m) = store.get::<OutboxMessage>("messages", &k).await? {
            out.push(m);
        }
    }
    Ok((out, chats))
}

fn classify_transport(
    crm: crate::core::model::Crm,
    op: &WriteOp,
    status: u16,
    body: &[u8],
    retry_after: Option<&str>,
) -> Failure {
    match status {
        0 => Failure::Transient {
            reason: format!("no response ({})", String::from_utf8_lossy(body)),
        },
        429 => Failure::RateLimited {
            after_ms: parse_retry_after(retry_after).or(crate::crm::rate_limit_window_ms(crm)),
        },
        s if s >= 500 => Failure::Transient { reason: format!("HTTP {s}") },
        s => Failure::Transient { reason: format!("HTTP {s} for {op:?}") },
    }
}

/// One full cycle for the given connectors. Safe to call at any time: it takes the lease,
/// and does nothing when another cycle holds it.
pub async fn run_cycle(
    store: &Store,
    writers: &mut [Box<dyn DocumentWriter>],
    owner: &str,
) -> Result<CycleReport, JsValue> {
    let mut report = CycleReport::default();
    let now = now_ms();
    let lease: Option<Lease> = store.get("meta", "lease").await?;
    let Some(mine) = schedule::acquire(lease.as_ref(), owner, now, LEASE_TTL_MS) else {
        report.skipped_reason = Some("another sync is running".into());
        return Ok(report);
    };
    store.put("meta", "lease", &mine).await?;
    let mut state: SyncState = store.get("meta", "state").await?.unwrap_or_default();
    state.syncing = true;
    state.last_started_ms = Some(now);
    store.put("meta", "state", &state).await?;

    let result = cycle_body(store, writers, &mut report, &mut state).await;

    state.syncing = false;
    state.last_finished_ms = Some(now_ms());
    match &result {
        Ok(()) if report.failed == 0 => state.last_error = None,
        Ok(()) => {}
        Err(e) => state.last_error = Some(e.as_string().unwrap_or_else(|| format!("{e:?}"))),
    }
    store.put("meta", "state", &state).await?;
    store.put_many(&[("meta", "lease".into(), None)]).await?;
    report.ran = true;
    log(
        store,
        format!(
            "sync: {} calls, {} written, {} messages confirmed, {} failed",
            report.calls, report.written, report.settled, report.failed
        ),
    )
    .await?;
    result.map(|()| report)
}

async fn cycle_body(
    store: &Store,
    writers: &mut [Box<dyn DocumentWriter>],
    report: &mut CycleReport,
    state: &mut SyncState,
) -> Result<(), JsValue> {
    let (outbox, chats) = load_outbox(store).await?;
    let links: Vec<crate::core::outbox::ChatLinks> = chats
        .iter()
        .filter(|c| !c.excluded && !c.links.is_empty())
        .map(|c| crate::core::outbox::ChatLinks {
            chat: c.identity.chat_key(),
            title: c.identity.name.clone(),
            is_group: c.identity.is_group,
            records: c.links.clone(),
        })
        .collect();
    // The first backup covers the window (3 days by default) before the first connection;
    // older messages leave the queue (they stay in the export, and the panel offers them
    // per chat) unless the rep chose to back up that chat's older messages.
    let window = backup_window(store).await?;
    let planned = build_units(&outbox, &links, &window);
    if !planned.before_window.is_empty() {
        let entries: Vec<(&str, String, Option<String>)> =
            planned.before_window.iter().map(|k| ("pending", k.clone(), None)).collect();
        store.put_many(&entries).await?;
        log(
            store,
            format!(
                "{} messages are older than the first backup's {}-day window and were not sent",
                planned.before_window.len(),
                window.days
            ),
        )
        .await?;
    }
    if !planned.undated.is_empty() {
        let entries: Vec<(&str, String, Option<String>)> =
            planned.undated.iter().map(|k| ("pending", k.clone(), None)).collect();
        store.put_many(&entries).await?;
        log(
            store,
            format!(
                "{} captured rows have no timestamp and belong to no conversation day",
                planned.undated.len()
            ),
        )
        .await?;
    }
    let mut units = planned.units;
    // Files copied from the page travel with their message's unit.
    for u in &mut units {
        for m in &u.messages {
            for i in 0..m.media.len() {
                if let Some(f) = store
                    .get::<crate::core::outbox::FileBlob>("files", &format!("{}#{i}", m.key))
                    .await?
                {
                    u.files.push(f);
                }
            }
        }
    }
    let policy = RetryPolicy::default();
    let mut retry: BTreeMap<String, RetryEntry> =
        store.get("meta", "retry").await?.unwrap_or_default();
    let mut parked: Vec<Parked> = store.get("meta", "parked").await?.unwrap_or_default();
    let mut parked_ids: BTreeSet<String> = parked.iter().map(|p| p.doc.clone()).collect();
    let mut all_docs: Vec<RenderedDoc> = Vec::new();
    let mut remote: BTreeMap<DocKey, RemoteState> = BTreeMap::new();
    let mut incomplete: BTreeSet<crate::core::model::RecordRef> = BTreeSet::new();
    for (_, (k, s)) in store.all::<(DocKey, RemoteState)>("docs").await? {
        remote.insert(k, s);
    }

    for writer in writers.iter_mut() {
        writer.absorb_remote(&remote);
        let crm = writer.crm();
        let my_units: Vec<&Unit> = units.iter().filter(|u| u.key.record.crm == crm).collect();
        if my_units.is_empty() {
            continue;
        }
        if state.retry_not_before_ms.is_some_and(|t| t > now_ms()) {
            continue; // the CRM asked us to wait
        }
        // Per-record reads (e.g. recent deals) once per cycle, unless matching already read
        // them for the card (fresh match, every deal with its id).
        let records: BTreeSet<_> = my_units.iter().map(|u| u.key.record.clone()).collect();
        for r in &records {
            // The card keeps 5: a longer list is only complete where the writer wants 5 too (Zoho).
            let complete = |c: &ChatRecord| {
                c.deals.len() < crate::core::view::MAX_DEALS || crm == crate::core::model::Crm::Zoho
            };
            let known = chats.iter().find(|c| {
                c.links.first() == Some(r)
                    && c.match_is_fresh(now_ms())
                    && complete(c)
                    && c.deals.iter().all(|d| d.id.is_some())
            });
            if let Some(c) = known {
                writer.seed_related(r, c.deals.iter().filter_map(|d| d.id.clone()).collect());
            }
        }
        for r in &records {
            // Some CRMs need a few reads (LeadSquared: its activity type, then opportunities).
            for _ in 0..4 {
                let Some(req) = writer.prepare(r) else { break };
                let resp = transport::perform(&req).await;
                report.calls += 1;
                if let Err(f) = writer.absorb_prepare(r, &resp) {
                    if !crate::core::policy::related_read_blocks(&f) {
                        // Lasting (hidden related list, no permission): the record's own
                        // backup goes and is confirmed; the missing copies are reported.
                        state.last_error = Some(format!(
                            "{}: {} not backed up to its deals: {}",
                            crm.name(),
                            r.id,
                            describe(&f)
                        ));
                        log(store, format!("{}: reading the deals of {} failed, backing up to the record only: {}", crm.name(), r.id, describe(&f))).await?;
                        break;
                    }
                    // Its documents are not all known: write what is, confirm nothing.
                    incomplete.insert(r.clone());
                    if f == Failure::AuthExpired && !report.auth_expired.contains(&crm) {
                        report.auth_expired.push(crm);
                    }
                    report.failed += 1;
                    log(
                        store,
                        format!("{}: preparing {} failed: {}", crm.name(), r.id, describe(&f)),
                    )
                    .await?;
                    break;
                }
            }
        }
        let docs: Vec<RenderedDoc> = my_units.iter().flat_map(|u| writer.render(u)).collect();
        let by_key: BTreeMap<DocKey, RenderedDoc> =
            docs.iter().map(|d| (d.key.clone(), d.clone())).collect();
        all_docs.extend(docs.iter().cloned());

        let mut stop_crm = false;
        for _pass in 0..MAX_PASSES {
            let now = now_ms();
            let writes: Vec<_> = plan_writes(&docs, &remote)
                .into_iter()
                .filter(|w| !parked_ids.contains(&w.doc.id()))
                .filter(|w| retry.get(&w.doc.id()).is_none_or(|r| r.at_ms <= now))
                .collect();
            if writes.is_empty() || stop_crm {
                break;
            }
            let (solo, grouped): (Vec<_>, Vec<_>) =
                writes.into_iter().partition(|w| retry.get(&w.doc.id()).is_some_and(|r| r.alone));
            let mut batches = batch_writes(grouped, |_, class, op| writer.batch_limit(class, op));
            batches.extend(batch_writes(solo, |_, _, _| 1));
            // Reconcile first: it decides whether the creates of this pass are needed.
            batches.sort_by_key(|b| if b.op == WriteOp::Reconcile { 0 } else { 1 });
            // A reconcile that finds nothing clears the state; the next pass plans the create.
            for batch in batches {
                let req = match writer.request(&batch, &by_key) {
                    Ok(r) => r,
                    Err(e) => {
                        report.failed += batch.writes.len();
                        log(store, format!("{}: could not build a request: {e}", crm.name()))
                            .await?;
                        continue;
                    }
                };
                if batch.op == WriteOp::Create {
                    // Persist "maybe created" before sending: a crash or lost answer from here on
                    // leads to a reconcile, not a duplicate.
                    let since = now_ms();
                    let mut entries = Vec::new();
                    for w in &batch.writes {
                        let st = RemoteState::Uncertain { since_ms: since };
                        remote.insert(w.doc.clone(), st.clone());
                        entries.push((
                            "docs",
                            w.doc.id(),
                            Some(
                                serde_json::to_string(&(w.doc.clone(), st))
                                    .map_err(super::js_err)?,
                            ),
                        ));
                    }
                    store.put_many(&entries).await?;
                }
                let mut resp = transport::perform(&req).await;
                report.calls += 1;
                note_budget(store, crm, &resp).await?;
                // A reconcile reads a paginated list: not on this page is not yet "absent".
                if batch.op == WriteOp::Reconcile {
                    let mut page_req = req.clone();
                    for _ in 0..RECONCILE_MAX_PAGES {
                        let found_all = writer
                            .outcome(&batch, &resp)
                            .iter()
                            .all(|(_, r)| !matches!(r, WriteResult::Absent));
                        let Some(next) =
                            (!found_all).then(|| writer.next_read(&page_req, &resp)).flatten()
                        else {
                            break;
                        };
                        resp = transport::perform(&next).await;
                        report.calls += 1;
                        page_req = next;
                    }
                }
                let results: Vec<(DocKey, WriteResult)> =
                    if resp.status == 0 || resp.status == 429 || resp.status >= 500 {
                        let f = classify_transport(
                            crm,
                            &batch.op,
                            resp.status,
                            &resp.body,
                            resp.header("retry-after"),
                        );
                        batch
                            .writes
                            .iter()
                            .map(|w| (w.doc.clone(), WriteResult::Failed(f.clone())))
                            .collect()
                    } else {
                        let mut rs = writer.outcome(&batch, &resp);
                        let answered: BTreeSet<DocKey> =
                            rs.iter().map(|(k, _)| k.clone()).collect();
                        for w in &batch.writes {
                            if !answered.contains(&w.doc) {
                                rs.push((
                                    w.doc.clone(),
                                    WriteResult::Failed(Failure::Transient {
                                        reason: format!(
                                            "HTTP {}: no result for this record",
                                            resp.status
                                        ),
                                    }),
                                ));
                            }
                        }
                        rs
                    };
                let mut entries = Vec::new();
                for (key, result) in results {
                    let id = key.id();
                    match result {
                        WriteResult::Written { id: remote_id } => {
                            // A reconcile found the document but not necessarily its latest
                            // body: record it stale so the next pass updates it.
                            let digest = if batch.op == WriteOp::Reconcile {
                                0
                            } else {
                                by_key.get(&key).map(|d| d.digest()).unwrap_or(0)
                            };
                            let st = RemoteState::Written { id: remote_id, digest };
                            entries.push((
                                "docs",
                                id.clone(),
                                Some(
                                    serde_json::to_string(&(key.clone(), st.clone()))
                                        .map_err(super::js_err)?,
                                ),
                            ));
                            remote.insert(key, st);
                            retry.remove(&id);
                            report.written += 1;
                        }
                        WriteResult::Absent => {
                            entries.push(("docs", id.clone(), None));
                            remote.remove(&key);
                        }
                        WriteResult::Failed(f) => {
                            report.failed += 1;
                            let entry = retry.entry(id.clone()).or_default();
                            let count = if matches!(f, Failure::RateLimited { .. }) {
                                entry.limited += 1;
                                entry.limited
                            } else {
                                entry.attempts += 1;
                                entry.attempts
                            };
                            let seed = id.clone();
                            match policy.decide_write(&f, count, entry.alone, now_ms(), &seed) {
                                Decision::RetryAt { at_ms } => {
                                    entry.at_ms = at_ms;
                                    if matches!(f, Failure::RateLimited { .. }) {
                                        state.retry_not_before_ms = Some(at_ms);
                                        stop_crm = true;
                                    }
                                    state.last_error =
                                        Some(format!("{}: {}", crm.name(), describe(&f)));
                                }
                                Decision::RetryAlone { at_ms } => {
                                    entry.at_ms = at_ms;
                                    entry.alone = true;
                                    state.last_error =
                                        Some(format!("{}: {}", crm.name(), describe(&f)));
                                }
                                Decision::RefreshThenRetry => {
                                    // The worker refreshes the token and runs again at once.
                                    entry.at_ms = 0;
                                    if !report.auth_expired.contains(&crm) {
                                        report.auth_expired.push(crm);
                                    }
                                    state.last_error =
                                        Some(format!("{}: access token expired", crm.name()));
                                    stop_crm = true;
                                }
                                Decision::Park { reason } => {
                                    // Parked once: the cycle's later passes leave it alone.
                                    parked_ids.insert(id.clone());
                                    parked.push(Parked {
                                        doc: id.clone(),
                                        reason: reason.clone(),
                                        at_ms: now_ms(),
                                    });
                                    state.last_error = Some(format!("{}: {reason}", crm.name()));
                                }
                            }
                        }
                    }
                }
                store.put_many(&entries).await?;
                if stop_crm {
                    break;
                }
            }
        }
    }
    store.put("meta", "retry", &retry).await?;
    store.put("meta", "parked", &parked).await?;

    // Messages whose every document is current are confirmed.
    let settled = settled_messages(&units, &all_docs, &remote, &incomplete);
    if !settled.is_empty() {
        let keys: Vec<String> = settled.iter().cloned().collect();
        store.mark_synced(&keys).await?;
        report.settled = keys.len();
        let now = now_ms();
        let touched: BTreeSet<String> = outbox
            .iter()
            .filter(|m| settled.contains(&m.message.key))
            .map(|m| m.message.chat.clone())
            .collect();
        // Per chat and per CRM record (contact, lead): when its backup was last confirmed.
        let mut per_record: BTreeMap<String, u64> =
            store.get("meta", "record_synced").await?.unwrap_or_default();
        for chat_key in touched {
            if let Some(mut c) = store.get::<ChatRecord>("chats", &chat_key).await? {
                c.last_synced_at_ms = Some(now);
                for r in &c.links {
                    per_record.insert(crate::core::sync::record_key(r), now);
                }
                store.put("chats", &chat_key, &c).await?;
            }
        }
        store.put("meta", "record_synced", &per_record).await?;
    }
    Ok(())
}

/// Remember the API allowance a CRM reported, for the diagnostics.
async fn note_budget(
    store: &Store,
    crm: crate::core::model::Crm,
    resp: &crate::crm::http::HttpResponse,
) -> Result<(), JsValue> {
    let b = crate::crm::budget_of(crm, resp);
    if b.remaining.is_none() {
        return Ok(());
    }
    let mut all: BTreeMap<String, crate::crm::Budget> =
        store.get("meta", "budget").await?.unwrap_or_default();
    all.insert(crm.name().to_string(), b);
    store.put("meta", "budget", &all).await
}

/// A failure in the words the panel shows.
pub fn describe(f: &Failure) -> String {
    match f {
        Failure::RateLimited { after_ms: Some(ms) } => {
            format!("rate limited by the CRM; retrying in {} s", ms / 1000)
        }
        Failure::RateLimited { after_ms: None } => {
            "rate limited by the CRM; retrying shortly".into()
        }
        Failure::Transient { reason } => format!("temporary CRM error ({reason}); will retry"),
        Failure::AuthExpired => "access token expired; refreshing".into(),
        Failure::ReconnectNeeded => "reconnect needed".into(),
        Failure::PermissionDenied { reason } => format!("missing permission in the CRM: {reason}"),
        Failure::Rejected { reason } => format!("the CRM rejected a record: {reason}"),
    }
}
