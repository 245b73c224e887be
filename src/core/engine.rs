//! The sync cycle as a state machine that performs no I/O: outbox → units → documents →
//! batches → CRM → confirmed messages.
//!
//! Built from a [`Snapshot`] of what is stored, the writers and the time, the [`Engine`]
//! yields one [`Op`] at a time from [`Engine::poll_op`]: `Persist` (write these entries, then
//! acknowledge with [`Engine::handle_persisted`]) or `Send` (perform this request, then hand
//! the answer to [`Engine::handle_response`]). Nothing is released before the op it depends
//! on is acknowledged: a create is persisted as Uncertain *before* its request is released,
//! so a crash or a lost answer from there on leads to a reconcile, never to a second create.
//! [`run_cycle`] is the driver every shell uses (the worker with IndexedDB and fetch, the
//! command-line harness and the native tests with the memory store): it only loops.
use crate::core::http::{HttpRequest, HttpResponse};
use crate::core::model::{Crm, Message, RecordRef, MAX_DEALS};
use crate::core::outbox::{
    batch_writes, build_units, plan_writes, settled_messages, uploaded_files, BackupWindow, Batch,
    ChatLinks, DocKey, DocumentWriter, FileBlob, OutboxMessage, RemoteState, RenderedDoc, Unit,
    WriteOp, WriteResult,
};
use crate::core::policy::{parse_retry_after, related_read_blocks, Decision, Failure, RetryPolicy};
use crate::core::ratelimit::Budget;
use crate::core::schedule::{self, Lease};
use crate::core::store::{self, meta, Entry, Storage, StoreError, Table};
use crate::core::sync::{record_key, ChatRecord, Parked, SyncState};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// How long a cycle's lease holds before another context may take over.
pub const LEASE_TTL_MS: u64 = 120_000;
/// Passes per cycle: reconcile, then the creates it uncovered, then anything re-planned.
pub const MAX_PASSES: usize = 3;
/// Pages a reconcile reads at most (200 notes each on Zoho).
pub const RECONCILE_MAX_PAGES: usize = 50;
/// Reads a connector may need before rendering one record (LeadSquared: its activity type,
/// then opportunities).
pub const MAX_PREPARE_READS: usize = 4;

/// A document's retry bookkeeping (stored under `meta::RETRY`).
pub use crate::core::policy::RetryEntry;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CycleReport {
    pub ran: bool,
    pub calls: usize,
    pub written: usize,
    pub settled: usize,
    pub failed: usize,
    pub skipped_reason: Option<String>,
    /// CRMs that answered 401: the worker refreshes once and runs the cycle again.
    pub auth_expired: Vec<Crm>,
}

/// The rep's masking settings, as the cycle needs them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MaskSettings {
    pub rules: crate::core::mask::MaskRules,
    /// Chats the rep chose to back up without masking.
    pub unmasked_chats: Vec<String>,
}

impl MaskSettings {
    pub fn of(s: &crate::core::view::Settings) -> MaskSettings {
        MaskSettings { rules: s.mask_rules(""), unmasked_chats: s.unmasked_chats.clone() }
    }

    pub fn for_chat(&self, chat: &str) -> crate::core::mask::MaskRules {
        if self.unmasked_chats.iter().any(|c| c == chat) {
            crate::core::mask::MaskRules::NONE
        } else {
            self.rules
        }
    }
}

/// What a cycle starts from, as stored.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub lease: Option<Lease>,
    pub state: SyncState,
    /// Pending messages plus every message of the days they fall on.
    pub outbox: Vec<OutboxMessage>,
    pub chats: Vec<ChatRecord>,
    pub window: BackupWindow,
    /// What each chat's transcript masks before it leaves the browser.
    pub masking: MaskSettings,
    /// Copied attachments by [`store::file_key`].
    pub files: BTreeMap<String, FileBlob>,
    pub remote: BTreeMap<DocKey, RemoteState>,
    pub retry: BTreeMap<String, RetryEntry>,
    pub parked: Vec<Parked>,
}

impl Snapshot {
    /// Read everything a cycle needs.
    pub async fn load<S: Storage>(s: &S) -> Result<Snapshot, StoreError> {
        let outbox = store::load_outbox(s).await?;
        let mut files = BTreeMap::new();
        for m in &outbox {
            for i in 0..m.message.media.len() {
                let k = store::file_key(&m.message.key, i);
                if let Some(f) = store::get::<FileBlob, S>(s, Table::Files, &k).await? {
                    files.insert(k, f);
                }
            }
        }
        let remote = store::all::<(DocKey, RemoteState), S>(s, Table::Docs)
            .await?
            .0
            .into_iter()
            .map(|(_, kv)| kv)
            .collect();
        Ok(Snapshot {
            lease: store::get_meta(s, &meta::LEASE).await?,
            state: store::get_meta(s, &meta::STATE).await?.unwrap_or_default(),
            outbox,
            chats: store::chats(s).await?,
            window: store::backup_window(s).await?,
            masking: MaskSettings::of(&store::settings(s).await?),
            files,
            remote,
            retry: store::get_meta(s, &meta::RETRY).await?.unwrap_or_default(),
            parked: store::get_meta(s, &meta::PARKED).await?.unwrap_or_default(),
        })
    }
}

/// Identifies an op until it is acknowledged.
pub type OpId = u64;

/// A write the shell performs for the engine.
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    /// These entries, in one transaction.
    Entries(Vec<Entry>),
    /// Confirm these messages (see [`store::mark_synced`]: an edited one stays pending), and
    /// stamp their chats and linked records as backed up at `at_ms`.
    Settle { messages: Vec<Message>, chats: Vec<String>, at_ms: u64 },
    /// A line of the sync log.
    Log { at_ms: u64, text: String },
    /// The API allowance a CRM reported (diagnostics).
    Budget { crm: Crm, budget: Budget },
}

/// What a request is for (the harness counts them apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendKind {
    /// A read the writer needs before rendering (a record's deals, an activity type).
    Prepare,
    /// A batch of creates, updates or a reconcile read.
    Write,
    /// A further page of a reconcile read.
    Page,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Persist { id: OpId, write: Write },
    Send { id: OpId, crm: Crm, kind: SendKind, request: HttpRequest },
}

/// What an acknowledged op leads to.
enum Cont {
    Resume,
    /// The Uncertain states are stored: the create may go.
    SendCreate {
        batch: Batch,
        request: HttpRequest,
    },
    /// The answer to a prepare read of this record.
    Prepared {
        record: RecordRef,
    },
    /// The answer (or a page of it) to a batch.
    Answered {
        batch: Batch,
        request: HttpRequest,
        pages: usize,
    },
}

/// One writer's progress through the cycle.
struct Run {
    w: usize,
    records: Vec<RecordRef>,
    next_record: usize,
    reads: usize,
    units: Vec<usize>,
    docs: Vec<RenderedDoc>,
    by_key: BTreeMap<DocKey, RenderedDoc>,
    pass: usize,
    batches: VecDeque<Batch>,
    stop: bool,
}

enum Stage {
    Start,
    Writer(usize),
    Prepare(Run),
    Pass(Run),
    Batches(Run),
    /// Waiting for an op of this run.
    Waiting(Run),
    Finish,
    Done,
}

pub struct Engine<'w> {
    writers: &'w mut [Box<dyn DocumentWriter>],
    owner: String,
    now: u64,
    lease: Option<Lease>,
    state: SyncState,
    outbox: Vec<OutboxMessage>,
    chats: Vec<ChatRecord>,
    window: BackupWindow,
    masking: MaskSettings,
    files: BTreeMap<String, FileBlob>,
    units: Vec<Unit>,
    remote: BTreeMap<DocKey, RemoteState>,
    retry: BTreeMap<String, RetryEntry>,
    parked: Vec<Parked>,
    parked_ids: BTreeSet<String>,
    incomplete: BTreeSet<RecordRef>,
    all_docs: Vec<RenderedDoc>,
    policy: RetryPolicy,
    report: CycleReport,
    stage: Stage,
    queue: VecDeque<(Op, Cont)>,
    waiting: Option<(OpId, Cont)>,
    next_id: OpId,
    error: Option<String>,
}

impl<'w> Engine<'w> {
    pub fn new(
        snapshot: Snapshot,
        writers: &'w mut [Box<dyn DocumentWriter>],
        owner: &str,
        now: u64,
    ) -> Engine<'w> {
        let parked_ids = snapshot.parked.iter().map(|p| p.doc.clone()).collect();
        Engine {
            writers,
            owner: owner.to_string(),
            now,
            lease: snapshot.lease,
            state: snapshot.state,
            outbox: snapshot.outbox,
            chats: snapshot.chats,
            window: snapshot.window,
            masking: snapshot.masking,
            files: snapshot.files,
            units: Vec::new(),
            remote: snapshot.remote,
            retry: snapshot.retry,
            parked: snapshot.parked,
            parked_ids,
            incomplete: BTreeSet::new(),
            all_docs: Vec::new(),
            policy: RetryPolicy::default(),
            report: CycleReport::default(),
            stage: Stage::Start,
            queue: VecDeque::new(),
            waiting: None,
            next_id: 0,
            error: None,
        }
    }

    /// Every document rendered this cycle.
    pub fn documents(&self) -> &[RenderedDoc] {
        &self.all_docs
    }

    /// The cycle's outcome so far (complete once `poll_op` returns None).
    pub fn report(&self) -> &CycleReport {
        &self.report
    }

    /// The next op to perform, or None when the cycle is over (or an op is outstanding).
    pub fn poll_op(&mut self) -> Option<Op> {
        if self.waiting.is_some() {
            return None;
        }
        if self.queue.is_empty() {
            self.advance();
        }
        let (op, cont) = self.queue.pop_front()?;
        let id = match &op {
            Op::Persist { id, .. } | Op::Send { id, .. } => *id,
        };
        self.waiting = Some((id, cont));
        Some(op)
    }

    /// A `Persist` op was written.
    pub fn handle_persisted(&mut self, id: OpId, now: u64) {
        self.now = now.max(self.now);
        let Some(cont) = self.take_waiting(id) else { return };
        match cont {
            Cont::SendCreate { batch, request } => {
                let crm = self.writers[self.run_writer()].crm();
                self.send(crm, request.clone(), Cont::Answered { batch, request, pages: 0 });
            }
            Cont::Resume | Cont::Prepared { .. } | Cont::Answered { .. } => {}
        }
    }

    /// A `Send` op's answer (status 0 when nothing came back).
    pub fn handle_response(&mut self, id: OpId, resp: HttpResponse, now: u64) {
        self.now = now.max(self.now);
        let Some(cont) = self.take_waiting(id) else { return };
        self.report.calls += 1;
        match cont {
            Cont::Prepared { record } => self.prepared(&record, &resp),
            Cont::Answered { batch, request, pages } => self.answered(batch, request, pages, resp),
            Cont::Resume | Cont::SendCreate { .. } => {}
        }
    }

    /// The shell could not perform an op (storage failed): end the cycle, saying why. What
    /// was not stored is recomputed next cycle from what is.
    pub fn abort(&mut self, reason: &str) {
        self.waiting = None;
        self.queue.clear();
        self.error = Some(reason.to_string());
        self.stage = Stage::Done;
    }

    /// The state to store when the cycle ends, and the lease released (after `abort` too).
    pub fn closing(&self) -> Vec<Entry> {
        let mut state = self.state.clone();
        state.syncing = false;
        state.last_finished_ms = Some(self.now);
        match &self.error {
            None if self.report.failed == 0 => state.last_error = None,
            None => {}
            Some(e) => state.last_error = Some(e.clone()),
        }
        // A plain struct of numbers and strings: encoding it cannot fail.
        let mut out: Vec<Entry> = Entry::meta(&meta::STATE, &state).into_iter().collect();
        out.push(Entry::delete_meta(&meta::LEASE));
        out
    }

    fn take_waiting(&mut self, id: OpId) -> Option<Cont> {
        match self.waiting.take() {
            Some((w, cont)) if w == id => Some(cont),
            other => {
                self.waiting = other;
                None
            }
        }
    }

    fn id(&mut self) -> OpId {
        self.next_id += 1;
        self.next_id
    }

    fn persist(&mut self, write: Write, cont: Cont) {
        let id = self.id();
        self.queue.push_back((Op::Persist { id, write }, cont));
    }

    fn entries(&mut self, entries: Vec<Entry>) {
        if !entries.is_empty() {
            self.persist(Write::Entries(entries), Cont::Resume);
        }
    }

    fn log(&mut self, text: String) {
        self.persist(Write::Log { at_ms: self.now, text }, Cont::Resume);
    }

    fn send(&mut self, crm: Crm, request: HttpRequest, cont: Cont) {
        let id = self.id();
        let kind = match &cont {
            Cont::Prepared { .. } => SendKind::Prepare,
            Cont::Answered { pages: 0, .. } => SendKind::Write,
            _ => SendKind::Page,
        };
        self.queue.push_back((Op::Send { id, crm, kind, request }, cont));
    }

    fn run_writer(&self) -> usize {
        match &self.stage {
            Stage::Prepare(r) | Stage::Pass(r) | Stage::Batches(r) | Stage::Waiting(r) => r.w,
            _ => 0,
        }
    }

    /// Compute until an op is queued or the cycle is done.
    fn advance(&mut self) {
        while self.queue.is_empty() {
            let mut stage = std::mem::replace(&mut self.stage, Stage::Done);
            if self.error.is_some() && !matches!(stage, Stage::Finish | Stage::Done) {
                stage = Stage::Finish; // say why, release the lease
            }
            self.stage = match stage {
                Stage::Start => self.start(),
                Stage::Writer(w) => self.writer(w),
                Stage::Prepare(run) => self.prepare(run),
                Stage::Pass(run) => self.pass(run),
                Stage::Batches(run) => self.batch(run),
                // An answer arrived: go on with the batches of this run.
                Stage::Waiting(run) => Stage::Batches(run),
                Stage::Finish => self.finish(),
                Stage::Done => return,
            };
        }
    }

    fn start(&mut self) -> Stage {
        let Some(mine) =
            schedule::acquire(self.lease.as_ref(), &self.owner, self.now, LEASE_TTL_MS)
        else {
            self.report.skipped_reason = Some("another sync is running".into());
            return Stage::Done;
        };
        self.report.ran = true;
        self.state.syncing = true;
        self.state.last_started_ms = Some(self.now);
        let state = self.state.clone();
        let mut entries: Vec<Entry> = self
            .enc(Table::Meta, meta::LEASE.name(), &mine)
            .into_iter()
            .chain(self.enc(Table::Meta, meta::STATE.name(), &state))
            .collect();
        let links: Vec<ChatLinks> = self
            .chats
            .iter()
            .filter(|c| !c.excluded && !c.links.is_empty())
            .map(|c| ChatLinks {
                chat: c.identity.chat_key(),
                title: c.identity.name.clone(),
                is_group: c.identity.is_group,
                records: c.links.clone(),
            })
            .collect();
        // The first backup covers the window (3 days by default) before the first connection;
        // older messages leave the queue (they stay in the export, and the panel offers them
        // per chat) unless the rep chose to back up that chat's older messages.
        let mut planned = build_units(&self.outbox, &links, &self.window);
        // Privacy before upload: masked when rendered; the stored messages stay intact.
        for u in &mut planned.units {
            u.mask = self.masking.for_chat(&u.key.chat);
        }
        let dropped: Vec<Entry> = planned
            .before_window
            .iter()
            .chain(&planned.undated)
            .map(|k| Entry::delete(Table::Pending, k.clone()))
            .collect();
        entries.extend(dropped);
        self.entries(entries);
        if !planned.before_window.is_empty() {
            self.log(format!(
                "{} messages are older than the first backup's {}-day window and were not sent",
                planned.before_window.len(),
                self.window.days
            ));
        }
        if !planned.undated.is_empty() {
            self.log(format!(
                "{} captured rows have no timestamp and belong to no conversation day",
                planned.undated.len()
            ));
        }
        self.units = planned.units;
        // Files copied from the page travel with their message's unit.
        for u in &mut self.units {
            for m in &u.messages {
                for i in 0..m.media.len() {
                    if let Some(f) = self.files.get(&store::file_key(&m.key, i)) {
                        u.files.push(f.clone());
                    }
                }
            }
        }
        Stage::Writer(0)
    }

    fn writer(&mut self, w: usize) -> Stage {
        if w >= self.writers.len() {
            return Stage::Finish;
        }
        self.writers[w].absorb_remote(&self.remote);
        let crm = self.writers[w].crm();
        let units: Vec<usize> =
            (0..self.units.len()).filter(|&i| self.units[i].key.record.crm == crm).collect();
        if units.is_empty() || self.state.retry_not_before_ms.is_some_and(|t| t > self.now) {
            return Stage::Writer(w + 1); // nothing to send, or the CRM asked us to wait
        }
        let records: Vec<RecordRef> = units
            .iter()
            .map(|&i| self.units[i].key.record.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // Per-record reads (e.g. recent deals) once per cycle, unless matching already read
        // them for the card (fresh match, every deal with its id). The card keeps
        // `MAX_DEALS`: a list that long is complete only for a writer that wants no more.
        let wants_all = self.writers[w].needs_all_related();
        for r in &records {
            let known = self.chats.iter().find(|c| {
                c.links.first() == Some(r)
                    && c.match_is_fresh(self.now)
                    && (c.deals.len() < MAX_DEALS || !wants_all)
                    && c.deals.iter().all(|d| d.id.is_some())
            });
            if let Some(c) = known {
                let ids = c.deals.iter().filter_map(|d| d.id.clone()).collect();
                self.writers[w].seed_related(r, ids);
            }
        }
        Stage::Prepare(Run {
            w,
            records,
            next_record: 0,
            reads: 0,
            units,
            docs: Vec::new(),
            by_key: BTreeMap::new(),
            pass: 0,
            batches: VecDeque::new(),
            stop: false,
        })
    }

    fn prepare(&mut self, mut run: Run) -> Stage {
        while run.next_record < run.records.len() {
            let record = run.records[run.next_record].clone();
            if run.reads < MAX_PREPARE_READS {
                if let Some(req) = self.writers[run.w].prepare(&record) {
                    run.reads += 1;
                    let crm = self.writers[run.w].crm();
                    self.send(crm, req, Cont::Prepared { record });
                    return Stage::Waiting(run);
                }
            }
            run.next_record += 1;
            run.reads = 0;
        }
        let docs: Vec<RenderedDoc> =
            run.units.iter().flat_map(|&i| self.writers[run.w].render(&self.units[i])).collect();
        run.by_key = docs.iter().map(|d| (d.key.clone(), d.clone())).collect();
        self.all_docs.extend(docs.iter().cloned());
        run.docs = docs;
        Stage::Pass(run)
    }

    fn prepared(&mut self, record: &RecordRef, resp: &HttpResponse) {
        let Stage::Waiting(mut run) = std::mem::replace(&mut self.stage, Stage::Done) else {
            return;
        };
        let crm = self.writers[run.w].crm();
        let result = self.writers[run.w].absorb_prepare(record, resp);
        if result.is_err() {
            // This record's reads end here.
            run.next_record += 1;
            run.reads = 0;
        }
        // Back to `prepare`: it asks the writer for its next read.
        self.stage = Stage::Prepare(run);
        let Err(f) = result else { return };
        if !related_read_blocks(&f) {
            // Lasting (hidden related list, no permission): the record's own backup goes
            // and is confirmed; the missing copies are reported.
            self.state.last_error = Some(format!(
                "{}: {} not backed up to its deals: {}",
                crm.name(),
                record.id,
                describe(&f)
            ));
            self.log(format!(
                "{}: reading the deals of {} failed, backing up to the record only: {}",
                crm.name(),
                record.id,
                describe(&f)
            ));
            return;
        }
        // Its documents are not all known: write what is, confirm nothing.
        self.incomplete.insert(record.clone());
        if f == Failure::AuthExpired && !self.report.auth_expired.contains(&crm) {
            self.report.auth_expired.push(crm);
        }
        self.report.failed += 1;
        self.log(format!("{}: preparing {} failed: {}", crm.name(), record.id, describe(&f)));
    }

    fn pass(&mut self, mut run: Run) -> Stage {
        if run.pass >= MAX_PASSES || run.stop {
            return Stage::Writer(run.w + 1);
        }
        let now = self.now;
        let writer = &self.writers[run.w];
        let writes: Vec<_> = plan_writes(&run.docs, &self.remote)
            .into_iter()
            .filter(|w| !self.parked_ids.contains(&w.doc.id()))
            .filter(|w| self.retry.get(&w.doc.id()).is_none_or(|r| r.at_ms <= now))
            .map(|mut w| {
                // The CRM may hold it though no create of it was recorded: look first.
                if w.op == WriteOp::Create && writer.look_up_first(&w.doc) {
                    w.op = WriteOp::Reconcile;
                }
                w
            })
            .collect();
        if writes.is_empty() {
            return Stage::Writer(run.w + 1);
        }
        let (solo, grouped): (Vec<_>, Vec<_>) =
            writes.into_iter().partition(|w| self.retry.get(&w.doc.id()).is_some_and(|r| r.alone));
        let mut batches = batch_writes(grouped, |_, class, op| writer.batch_limit(class, op));
        batches.extend(batch_writes(solo, |_, _, _| 1));
        // Reconcile first: it decides whether the creates of this pass are needed. A
        // reconcile that finds nothing clears the state; the next pass plans the create.
        batches.sort_by_key(|b| if b.op == WriteOp::Reconcile { 0 } else { 1 });
        run.batches = batches.into();
        run.pass += 1;
        Stage::Batches(run)
    }

    fn batch(&mut self, mut run: Run) -> Stage {
        if run.stop {
            return Stage::Writer(run.w + 1);
        }
        let Some(mut batch) = run.batches.pop_front() else { return Stage::Pass(run) };
        // Writes that need another document first (planned in the same pass, or failed) wait
        // for a later pass or cycle: not sent, not failed.
        let writer = &self.writers[run.w];
        batch.writes.retain(|w| !writer.waits(w));
        if batch.writes.is_empty() {
            return Stage::Batches(run);
        }
        let crm = self.writers[run.w].crm();
        let request = match self.writers[run.w].request(&batch, &run.by_key) {
            Ok(r) => r,
            Err(e) => {
                self.report.failed += batch.writes.len();
                self.log(format!("{}: could not build a request: {e}", crm.name()));
                return Stage::Batches(run);
            }
        };
        if batch.op == WriteOp::Create {
            // Persist "maybe created" before sending: a crash or lost answer from here on
            // leads to a reconcile, not a duplicate.
            let st = RemoteState::Uncertain { since_ms: self.now };
            let mut entries = Vec::new();
            for w in &batch.writes {
                self.remote.insert(w.doc.clone(), st.clone());
                entries.extend(self.enc(Table::Docs, &w.doc.id(), &(w.doc.clone(), st.clone())));
            }
            self.persist(Write::Entries(entries), Cont::SendCreate { batch, request });
        } else {
            self.send(crm, request.clone(), Cont::Answered { batch, request, pages: 0 });
        }
        Stage::Waiting(run)
    }

    fn answered(&mut self, batch: Batch, request: HttpRequest, pages: usize, resp: HttpResponse) {
        let Stage::Waiting(mut run) = std::mem::replace(&mut self.stage, Stage::Done) else {
            return;
        };
        let w = run.w;
        let crm = self.writers[w].crm();
        let budget = self.writers[w].budget(&resp);
        if budget.remaining.is_some() {
            self.persist(Write::Budget { crm, budget }, Cont::Resume);
        }
        // A reconcile reads a paginated list: not on this page is not yet "absent". So does
        // an update that is only a lookup (a GET: a file already uploaded is confirmed by
        // listing the record's files); missed past the first page, the file went up again.
        let read =
            batch.op == WriteOp::Reconcile || request.method == crate::core::http::Method::Get;
        if read && pages < RECONCILE_MAX_PAGES && ok_answer(&resp) {
            let found_all = self.writers[w]
                .outcome(&batch, &resp)
                .iter()
                .all(|(_, r)| !matches!(r, WriteResult::Absent));
            if !found_all {
                if let Some(next) = self.writers[w].next_read(&request, &resp) {
                    self.send(
                        crm,
                        next.clone(),
                        Cont::Answered { batch, request: next, pages: pages + 1 },
                    );
                    self.stage = Stage::Waiting(run);
                    return;
                }
            }
        }
        let results: Vec<(DocKey, WriteResult)> = if !ok_answer(&resp) {
            let f = classify_transport(
                self.writers[w].rate_limit_window_ms(),
                &batch.op,
                resp.status,
                &resp.body,
                resp.header("retry-after"),
            );
            batch.writes.iter().map(|wr| (wr.doc.clone(), WriteResult::Failed(f.clone()))).collect()
        } else {
            let mut rs = self.writers[w].outcome(&batch, &resp);
            let answered: BTreeSet<DocKey> = rs.iter().map(|(k, _)| k.clone()).collect();
            for wr in &batch.writes {
                if !answered.contains(&wr.doc) {
                    rs.push((
                        wr.doc.clone(),
                        WriteResult::Failed(Failure::Transient {
                            reason: format!("HTTP {}: no result for this record", resp.status),
                        }),
                    ));
                }
            }
            rs
        };
        let mut entries = Vec::new();
        let mut stop = false;
        for (key, result) in results {
            let id = key.id();
            match result {
                WriteResult::Written { id: remote_id } => {
                    // A reconcile found the document but not necessarily its latest body:
                    // record it stale so the next pass updates it.
                    let digest = match batch.op {
                        WriteOp::Reconcile => 0,
                        _ => run.by_key.get(&key).map(RenderedDoc::digest).unwrap_or(0),
                    };
                    let st = RemoteState::Written { id: remote_id, digest, at_ms: Some(self.now) };
                    entries.extend(self.enc(Table::Docs, &id, &(key.clone(), st.clone())));
                    self.remote.insert(key, st);
                    self.retry.remove(&id);
                    self.report.written += 1;
                }
                WriteResult::Absent => {
                    entries.push(Entry::delete(Table::Docs, id));
                    self.remote.remove(&key);
                }
                WriteResult::Failed(f) => {
                    stop |= self.failed(crm, id, &f);
                }
            }
        }
        run.stop |= stop;
        self.stage = Stage::Batches(run);
        self.entries(entries);
    }

    /// An entry for the store; a value that cannot be encoded ends the cycle with the reason
    /// (it is recomputed from what is stored next time).
    fn enc<T: Serialize>(&mut self, table: Table, key: &str, v: &T) -> Option<Entry> {
        match Entry::put(table, key, v) {
            Ok(e) => Some(e),
            Err(e) => {
                self.error = Some(format!("{}/{key} could not be stored: {e}", table.name()));
                None
            }
        }
    }

    /// Book a failed write; true when the CRM's other writes must wait for the next cycle.
    fn failed(&mut self, crm: Crm, id: String, f: &Failure) -> bool {
        self.report.failed += 1;
        let now = self.now;
        let entry = self.retry.entry(id.clone()).or_default();
        let limited = matches!(f, Failure::RateLimited { .. });
        let count = if limited {
            entry.limited += 1;
            entry.limited
        } else {
            entry.attempts += 1;
            entry.attempts
        };
        let said = format!("{}: {}", crm.name(), describe(f));
        match self.policy.decide_write(f, count, entry.alone, now, &id) {
            Decision::RetryAt { at_ms } => {
                entry.at_ms = at_ms;
                self.state.last_error = Some(said);
                if limited {
                    self.state.retry_not_before_ms = Some(at_ms);
                    return true;
                }
                false
            }
            Decision::RetryAlone { at_ms } => {
                entry.at_ms = at_ms;
                entry.alone = true;
                self.state.last_error = Some(said);
                false
            }
            Decision::RefreshThenRetry => {
                // The worker refreshes the token and runs again at once.
                entry.at_ms = 0;
                if !self.report.auth_expired.contains(&crm) {
                    self.report.auth_expired.push(crm);
                }
                self.state.last_error = Some(format!("{}: access token expired", crm.name()));
                true
            }
            Decision::Park { reason } => {
                // Parked once: the cycle's later passes leave it alone.
                self.parked_ids.insert(id.clone());
                self.parked.push(Parked { doc: id, reason: reason.clone(), at_ms: now });
                self.state.last_error = Some(format!("{}: {reason}", crm.name()));
                false
            }
        }
    }

    fn finish(&mut self) -> Stage {
        let (retry, parked) = (self.retry.clone(), self.parked.clone());
        let entries: Vec<Entry> = self
            .enc(Table::Meta, meta::RETRY.name(), &retry)
            .into_iter()
            .chain(self.enc(Table::Meta, meta::PARKED.name(), &parked))
            .collect();
        self.entries(entries);
        // Messages whose every document is current are confirmed.
        let settled = settled_messages(&self.units, &self.all_docs, &self.remote, &self.incomplete);
        // Their files' bytes leave the store first: killed between the two writes, the
        // messages stay pending and settle next cycle without the bytes (the file documents
        // are stored as written); the other order would keep the bytes for good.
        let reduced: Vec<Entry> = uploaded_files(&self.units, &settled)
            .iter()
            .filter_map(|f| self.enc(Table::Files, &f.key, f))
            .collect();
        self.entries(reduced);
        if !settled.is_empty() {
            let messages: Vec<Message> = self
                .outbox
                .iter()
                .filter(|m| settled.contains(&m.message.key))
                .map(|m| m.message.clone())
                .collect();
            let chats: BTreeSet<String> = messages.iter().map(|m| m.chat.clone()).collect();
            self.report.settled = settled.len();
            self.persist(
                Write::Settle { messages, chats: chats.into_iter().collect(), at_ms: self.now },
                Cont::Resume,
            );
        }
        let closing = self.closing();
        self.entries(closing);
        let r = &self.report;
        let summary = format!(
            "sync: {} calls, {} written, {} messages confirmed, {} failed",
            r.calls, r.written, r.settled, r.failed
        );
        self.log(summary);
        Stage::Done
    }
}

/// An answer the writer can read (not a transport failure, 429 or 5xx).
fn ok_answer(resp: &HttpResponse) -> bool {
    !(resp.status == 0 || resp.status == 429 || resp.status >= 500)
}

fn classify_transport(
    window_ms: Option<u64>,
    op: &WriteOp,
    status: u16,
    body: &[u8],
    retry_after: Option<&str>,
) -> Failure {
    match status {
        0 => Failure::Transient {
            reason: format!("no response ({})", String::from_utf8_lossy(body)),
        },
        429 => Failure::RateLimited { after_ms: parse_retry_after(retry_after).or(window_ms) },
        s if s >= 500 => Failure::Transient { reason: format!("HTTP {s}") },
        s => Failure::Transient { reason: format!("HTTP {s} for {op:?}") },
    }
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

/// Performs the engine's requests.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// The answer, or status 0 with the reason in the body when none came.
    async fn perform(&mut self, req: &HttpRequest, kind: SendKind) -> HttpResponse;
}

/// Perform one engine write on a store.
pub async fn apply<S: Storage>(s: &S, write: Write) -> Result<(), StoreError> {
    match write {
        Write::Entries(entries) => s.put_many(&entries).await,
        Write::Log { at_ms, text } => store::log(s, at_ms, text).await,
        Write::Budget { crm, budget } => {
            let mut all: BTreeMap<String, Budget> =
                store::get_meta(s, &meta::BUDGET).await?.unwrap_or_default();
            all.insert(crm.name().to_string(), budget);
            store::put_meta(s, &meta::BUDGET, &all).await
        }
        Write::Settle { messages, chats, at_ms } => {
            store::mark_synced(s, &messages).await?;
            // Per chat and per CRM record (contact, lead): when its backup was last confirmed.
            let mut per_record: BTreeMap<String, u64> =
                store::get_meta(s, &meta::RECORD_SYNCED).await?.unwrap_or_default();
            let mut entries = Vec::new();
            for key in chats {
                if let Some(mut c) = store::get::<ChatRecord, S>(s, Table::Chats, &key).await? {
                    c.last_synced_at_ms = Some(at_ms);
                    for r in &c.links {
                        per_record.insert(record_key(r), at_ms);
                    }
                    entries.push(Entry::put(Table::Chats, key, &c)?);
                }
            }
            entries.push(Entry::meta(&meta::RECORD_SYNCED, &per_record)?);
            s.put_many(&entries).await
        }
    }
}

/// One full cycle: load, drive the engine, store what it decides. Safe to call at any
/// time: it takes the lease, and does nothing when another cycle holds it.
pub async fn run_cycle<S: Storage, T: Transport>(
    s: &S,
    transport: &mut T,
    writers: &mut [Box<dyn DocumentWriter>],
    owner: &str,
    now: &dyn Fn() -> u64,
) -> Result<CycleReport, StoreError> {
    let snapshot = Snapshot::load(s).await?;
    let mut engine = Engine::new(snapshot, writers, owner, now());
    drive(&mut engine, s, transport, now, None).await?;
    Ok(engine.report().clone())
}

/// Perform the engine's ops until it has none. `max_ops` stops after that many, as a killed
/// worker would (tests); `None` runs to the end. A storage failure ends the cycle with the
/// reason stored (best effort) and returned.
pub async fn drive<S: Storage, T: Transport>(
    engine: &mut Engine<'_>,
    s: &S,
    transport: &mut T,
    now: &dyn Fn() -> u64,
    max_ops: Option<usize>,
) -> Result<(), StoreError> {
    let mut ops = 0;
    while let Some(op) = engine.poll_op() {
        if max_ops.is_some_and(|m| ops >= m) {
            return Ok(()); // killed: nothing more happens
        }
        ops += 1;
        match op {
            Op::Persist { id, write } => {
                if let Err(e) = apply(s, write).await {
                    engine.abort(&format!("storage: {e}"));
                    // The store may refuse again; the lease then expires on its own.
                    let _ = s.put_many(&engine.closing()).await;
                    return Err(e);
                }
                engine.handle_persisted(id, now());
            }
            Op::Send { id, request, kind, .. } => {
                let resp = transport.perform(&request, kind).await;
                engine.handle_response(id, resp, now());
            }
        }
    }
    Ok(())
}
