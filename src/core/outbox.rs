//! The outbox planner: from captured messages and chat links to the fewest CRM writes.
//!
//! A backup *unit* is one conversation day of one chat for one CRM record. Each unit is
//! kept in the CRM as one or more *documents* (a Zoho note on the contact and on each
//! recent deal, a Salesforce chat record and ContentNote, a LeadSquared activity ...),
//! each possibly split in ordered parts. A document is rewritten whole from every message
//! of its day, so re-rendering is idempotent, and its digest tells whether a write is due.
//!
//! Exactly-once effect: a document with no known remote id is *created*; if a create was
//! sent but its outcome is unknown (timeout, dropped connection), the next cycle first
//! *reconciles* (looks the document up by its deterministic key) before creating again.
//! A message is marked synced only when every document covering it holds its current body.
use crate::core::model::{Crm, Message, RecordRef};
pub use crate::core::schedule::BackupWindow;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// FNV-1a 64: stable across builds and platforms (std's hasher is not), used for digests
/// and deterministic keys. Not a security hash; collisions only cause an extra rewrite.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h = Fnv1a::default();
    std::hash::Hasher::write(&mut h, bytes);
    std::hash::Hasher::finish(&h)
}

/// FNV-1a 64 as a `Hasher`, for digests of in-memory values through their derived `Hash`
/// (no serializer needed). Integers are fed in native byte order and `usize` in native width,
/// so such digests are for one process only, never stored or compared across builds.
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        self.0 =
            bytes.iter().fold(self.0, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3));
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UnitKey {
    pub record: RecordRef,
    /// `WaIdentity::chat_key()` of the chat.
    pub chat: String,
    /// `YYYY-MM-DD`, the conversation day.
    pub day: String,
}

impl UnitKey {
    /// A short deterministic key for the CRM side: Salesforce external id, LeadSquared
    /// custom field, Zoho note title marker. Same unit, same key, on every device.
    pub fn external_key(&self) -> String {
        let raw = format!(
            "{:?}|{:?}|{}|{}|{}",
            self.record.crm, self.record.kind, self.record.id, self.chat, self.day
        );
        format!("wa-{}-{:016x}", self.day.replace('-', ""), fnv1a64(raw.as_bytes()))
    }
}

/// Which kinds of backup documents the rep wants. Each writer maps them onto its CRM:
/// notes (Zoho notes, Salesforce ContentNote), deals (Zoho deal notes, LeadSquared
/// opportunity activities), the Salesforce chat object, LeadSquared lead activities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Targets {
    pub notes: bool,
    pub deals: bool,
    pub custom_object: bool,
    pub activities: bool,
}

impl Default for Targets {
    fn default() -> Self {
        Targets { notes: true, deals: true, custom_object: true, activities: true }
    }
}

/// A chat and the CRM records its backup goes to (for a group: every linked participant).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatLinks {
    pub chat: String,
    /// The chat's title: the contact's name, or the group's name for group chats.
    pub title: String,
    pub is_group: bool,
    pub records: Vec<RecordRef>,
}

/// A message in the outbox. `synced` flips only after the CRM confirmed every document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub message: Message,
    pub captured_at_ms: u64,
    pub synced: bool,
}

/// One conversation day of one chat for one record, with all that day's messages in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub key: UnitKey,
    pub title: String,
    pub is_group: bool,
    pub messages: Vec<Message>,
    /// Files of these messages that were copied from WhatsApp (the shell adds them).
    #[serde(default)]
    pub files: Vec<FileBlob>,
    /// What is masked when the transcript is rendered for the CRM (the engine sets it from
    /// the rep's settings, per chat).
    #[serde(default)]
    pub mask: crate::core::mask::MaskRules,
}

/// The marker of file `file_key` in `unit` (see [`FileBlob::marker`]).
pub fn file_marker(unit: &UnitKey, file_key: &str) -> String {
    let raw = format!("{}|{file_key}", unit.external_key());
    format!("waf-{:016x}", fnv1a64(raw.as_bytes()))
}

/// A file of a message (an image WhatsApp had loaded), copied for upload to the CRM.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileBlob {
    /// `<message key>#<media index>`: the file's identity across cycles.
    pub key: String,
    pub name: String,
    pub mime: String,
    /// The bytes, base64 (standard alphabet); empty once [`FileBlob::uploaded`].
    pub data_b64: String,
    /// The file's size in bytes (kept when the bytes are dropped).
    #[serde(default)]
    pub size: u64,
    /// Every CRM record the file went to confirmed it: the bytes were dropped from the store
    /// (they would otherwise stay for good, and every cycle would load them). Name and size
    /// stay: the day's transcript still lists the file under its CRM name.
    #[serde(default)]
    pub uploaded: bool,
}

impl FileBlob {
    /// A short deterministic marker the file is uploaded under (its name in the CRM starts
    /// with it), so a retry after a lost answer finds the earlier upload instead of repeating it.
    pub fn marker(&self, unit: &UnitKey) -> String {
        file_marker(unit, &self.key)
    }

    /// What stays stored once every CRM record it went to holds it: the record without its bytes.
    pub fn without_bytes(&self) -> FileBlob {
        let b64 = self.data_b64.as_bytes();
        let padding = b64.iter().rev().take_while(|&&b| b == b'=').count();
        let decoded = (b64.len() / 4 * 3).saturating_sub(padding) as u64;
        FileBlob {
            key: self.key.clone(),
            name: self.name.clone(),
            mime: self.mime.clone(),
            data_b64: String::new(),
            size: if self.uploaded { self.size } else { self.size.max(decoded) },
            uploaded: true,
        }
    }

    /// The name shown in the CRM: marker, then the file's own name.
    pub fn crm_name(&self, unit: &UnitKey) -> String {
        format!("{}_{}", self.marker(unit), self.name.replace(['/', '\\', '"', '\r', '\n'], "_"))
    }
}

/// What `build_units` found: the units to write, and pending messages that will not be
/// written, by reason, so the caller reports them instead of silently dropping them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Units {
    pub units: Vec<Unit>,
    /// Pending messages without a timestamp: they belong to no conversation day.
    pub undated: Vec<String>,
    /// Pending messages older than the backup window (before connection − its days) of chats
    /// whose older messages the rep did not choose to back up.
    pub before_window: Vec<String>,
}

/// The `chat|day` key a message is listed and queued under (`days` and `pending` stores).
pub fn day_key_of(m: &Message) -> String {
    crate::core::keys::day_key(&m.chat, &m.time.map(|t| t.day_key()).unwrap_or_default())
}

/// Where a stored message stands, as the export and the panel show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    /// The CRM confirmed every document that holds it.
    Synced,
    /// Will be sent: at the next cycle, or once the chat is linked to a record.
    Pending,
    /// Captured before the backup window and not chosen for backup: kept, never sent.
    Older,
    /// No timestamp could be read: it belongs to no conversation day.
    Undated,
    /// The rep excluded the chat.
    Excluded,
}

/// The state of one stored message. Pure: `excluded` is the chat's setting.
pub fn message_state(m: &OutboxMessage, window: &BackupWindow, excluded: bool) -> MessageState {
    if m.synced {
        return MessageState::Synced;
    }
    if excluded {
        return MessageState::Excluded;
    }
    match &m.message.time {
        None => MessageState::Undated,
        Some(t) if !window.admits(&m.message.chat, t) => MessageState::Older,
        Some(_) => MessageState::Pending,
    }
}

/// A chat's messages from before the backup window: how many, and from which days
/// (`YYYY-MM-DD`), for the panel's "back up older messages" offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OlderMessages {
    pub count: u32,
    pub first_day: String,
    pub last_day: String,
}

/// Summarize the messages of one chat that are outside the window (`None`: there are none).
pub fn older_summary<'a>(
    messages: impl IntoIterator<Item = &'a OutboxMessage>,
    window: &BackupWindow,
) -> Option<OlderMessages> {
    let mut count = 0u32;
    let (mut first, mut last): (Option<String>, Option<String>) = (None, None);
    for m in messages {
        if message_state(m, window, false) != MessageState::Older {
            continue;
        }
        count = count.saturating_add(1);
        let day = m.message.time.map(|t| t.day_key()).unwrap_or_default();
        if first.as_ref().is_none_or(|f| &day < f) {
            first = Some(day.clone());
        }
        if last.as_ref().is_none_or(|l| &day > l) {
            last = Some(day);
        }
    }
    Some(OlderMessages { count, first_day: first?, last_day: last? }).filter(|o| o.count > 0)
}

/// Units that need (re)writing: every (record, chat, day) with at least one pending message.
/// Messages the `window` does not admit are outside the backup and never sent.
pub fn build_units<'a>(
    outbox: impl IntoIterator<Item = &'a OutboxMessage>,
    chats: &[ChatLinks],
    window: &BackupWindow,
) -> Units {
    let links: BTreeMap<&str, &ChatLinks> = chats.iter().map(|c| (c.chat.as_str(), c)).collect();
    // (chat, day) -> messages of that day, in capture order; and which (chat, day) are dirty.
    let mut days: BTreeMap<(String, String), Vec<&Message>> = BTreeMap::new();
    let mut dirty: BTreeSet<(String, String)> = BTreeSet::new();
    let mut undated = Vec::new();
    let mut before_window = Vec::new();
    for m in outbox {
        if !links.contains_key(m.message.chat.as_str()) {
            continue; // not linked yet: stays pending until the chat is matched
        }
        let Some(t) = m.message.time else {
            if !m.synced {
                undated.push(m.message.key.clone());
            }
            continue;
        };
        if !window.admits(&m.message.chat, &t) {
            if !m.synced {
                before_window.push(m.message.key.clone());
            }
            continue;
        }
        let k = (m.message.chat.clone(), t.day_key());
        if !m.synced {
            dirty.insert(k.clone());
        }
        days.entry(k).or_default().push(&m.message);
    }
    let mut units = Vec::new();
    for (chat, day) in dirty {
        let Some(link) = links.get(chat.as_str()) else { continue };
        let mut msgs: Vec<Message> = days
            .get(&(chat.clone(), day.clone()))
            .map(|v| v.iter().map(|m| (*m).clone()).collect())
            .unwrap_or_default();
        // Stable sort by minute keeps capture order within a minute.
        msgs.sort_by_key(|m| m.time);
        msgs.dedup_by(|a, b| a.key == b.key);
        for record in &link.records {
            units.push(Unit {
                files: Vec::new(),
                mask: crate::core::mask::MaskRules::default(),
                key: UnitKey { record: record.clone(), chat: chat.clone(), day: day.clone() },
                title: link.title.clone(),
                is_group: link.is_group,
                messages: msgs.clone(),
            });
        }
    }
    Units { units, undated, before_window }
}

/// One remote document of a unit: `target` names what it is for the connector
/// (e.g. "note", "deal:<id>", "chat_record", "content_note", "activity", "opportunity:<id>").
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DocKey {
    pub unit: UnitKey,
    pub target: String,
    pub part: u16,
}

impl DocKey {
    /// Stored under this string in IndexedDB.
    pub fn id(&self) -> String {
        format!("{}|{}|{}", self.unit.external_key(), self.target, self.part)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RemoteState {
    /// A create was sent and no answer came back: it may exist remotely.
    Uncertain { since_ms: u64 },
    /// The CRM confirmed this document with this body digest.
    Written {
        id: String,
        #[serde(with = "digest_text")]
        digest: u64,
        /// When the CRM confirmed it (the receipt's "saved HH:MM"); None in documents stored
        /// before this was kept.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_ms: Option<u64>,
    },
}

/// Digests travel as strings: JavaScript numbers cannot hold every u64, and the export and
/// runtime messages are JSON. Numbers written by earlier versions are still read.
mod digest_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Text(String),
            Number(u64),
        }
        match Either::deserialize(d)? {
            Either::Number(n) => Ok(n),
            Either::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteOp {
    Create,
    Update,
    /// Look the document up by its deterministic key before writing again.
    Reconcile,
}

/// A document as the connector rendered it for the current messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedDoc {
    pub key: DocKey,
    pub body: String,
}

impl RenderedDoc {
    pub fn digest(&self) -> u64 {
        fnv1a64(self.body.as_bytes())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Write {
    pub doc: DocKey,
    pub op: WriteOp,
    /// The remote id for updates.
    pub remote_id: Option<String>,
}

/// Which writes are due: documents whose remote copy is missing, uncertain or stale.
pub fn plan_writes(docs: &[RenderedDoc], remote: &BTreeMap<DocKey, RemoteState>) -> Vec<Write> {
    docs.iter()
        .filter_map(|d| match remote.get(&d.key) {
            None => Some(Write { doc: d.key.clone(), op: WriteOp::Create, remote_id: None }),
            Some(RemoteState::Uncertain { .. }) => {
                Some(Write { doc: d.key.clone(), op: WriteOp::Reconcile, remote_id: None })
            }
            Some(RemoteState::Written { id, digest, .. }) if *digest != d.digest() => {
                Some(Write { doc: d.key.clone(), op: WriteOp::Update, remote_id: Some(id.clone()) })
            }
            Some(RemoteState::Written { .. }) => None,
        })
        .collect()
}

/// A group of writes one API call performs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub crm: Crm,
    /// The document class (the target up to ':'), e.g. "note", "deal", "chat_record".
    pub class: String,
    pub op: WriteOp,
    pub writes: Vec<Write>,
}

/// Targets ending so share another document with the record (a Salesforce
/// ContentDocumentLink) rather than hold a transcript: written and confirmed like any
/// document, never shown to the rep as a receipt.
pub const LINK_SUFFIX: &str = "_link";

/// The document class a target belongs to: "deal:123" → "deal".
pub fn target_class(target: &str) -> &str {
    target.split(':').next().unwrap_or(target)
}

/// Group writes into the fewest calls the CRM's batch limits allow. `limit(crm, class, op)`
/// is the connector's per-call maximum (Zoho notes 100, Salesforce collections 200,
/// LeadSquared bulk activities 25; 1 for calls that take a single record).
/// Continuation parts of one document stay in order within and across batches.
pub fn batch_writes(
    writes: Vec<Write>,
    limit: impl Fn(Crm, &str, &WriteOp) -> usize,
) -> Vec<Batch> {
    let mut groups: BTreeMap<(Crm, String, WriteOp), Vec<Write>> = BTreeMap::new();
    for w in writes {
        let key = (w.doc.unit.record.crm, target_class(&w.doc.target).to_string(), w.op.clone());
        groups.entry(key).or_default().push(w);
    }
    let mut out = Vec::new();
    for ((crm, class, op), mut ws) in groups {
        ws.sort_by(|a, b| a.doc.cmp(&b.doc));
        let n = limit(crm, &class, &op).max(1);
        for chunk in ws.chunks(n) {
            out.push(Batch { crm, class: class.clone(), op: op.clone(), writes: chunk.to_vec() });
        }
    }
    out
}

/// The least number of calls any planner could make for these writes under the same
/// limits: per (CRM, class, op), ceil(writes / limit). The benchmark reports ours over it.
pub fn minimum_calls(writes: &[Write], limit: impl Fn(Crm, &str, &WriteOp) -> usize) -> usize {
    let mut counts: BTreeMap<(Crm, String, WriteOp), usize> = BTreeMap::new();
    for w in writes {
        *counts
            .entry((w.doc.unit.record.crm, target_class(&w.doc.target).to_string(), w.op.clone()))
            .or_default() += 1;
    }
    counts.into_iter().map(|((c, cl, op), n)| n.div_ceil(limit(c, &cl, &op).max(1))).sum()
}

/// Which pending messages are now fully confirmed: every document of every unit that
/// contains the message is `Written` with the digest of its current rendering.
/// `incomplete`: records whose document list is not known this cycle (the connector could
/// not read a record's deals or opportunities): their units rendered only some documents,
/// so they confirm nothing.
pub fn settled_messages(
    units: &[Unit],
    docs: &[RenderedDoc],
    remote: &BTreeMap<DocKey, RemoteState>,
    incomplete: &BTreeSet<RecordRef>,
) -> BTreeSet<String> {
    let mut unit_ok: BTreeMap<&UnitKey, bool> = BTreeMap::new();
    for d in docs {
        let ok = matches!(remote.get(&d.key), Some(RemoteState::Written { digest, .. }) if *digest == d.digest());
        let e = unit_ok.entry(&d.key.unit).or_insert(true);
        *e = *e && ok;
    }
    let mut ok_keys = BTreeSet::new();
    let mut bad_keys = BTreeSet::new();
    for u in units {
        // A unit with no documents (the connector had nothing to write) is not a confirmation.
        let ok =
            unit_ok.get(&u.key).copied().unwrap_or(false) && !incomplete.contains(&u.key.record);
        for m in &u.messages {
            if ok {
                ok_keys.insert(m.key.clone());
            } else {
                bad_keys.insert(m.key.clone());
            }
        }
    }
    ok_keys.difference(&bad_keys).cloned().collect()
}

/// The files whose bytes may leave the store after a cycle: those of messages every unit
/// confirmed (`settled`: each record the message goes to holds every document of its day,
/// the file's upload included), not reduced already. A file of a message still pending, or
/// whose upload failed or is uncertain, is not among them.
pub fn uploaded_files(units: &[Unit], settled: &BTreeSet<String>) -> Vec<FileBlob> {
    let mut out: BTreeMap<&str, FileBlob> = BTreeMap::new();
    for u in units {
        for f in u.files.iter().filter(|f| !f.uploaded) {
            let message = f.key.rsplit_once('#').map_or(f.key.as_str(), |(m, _)| m);
            if settled.contains(message) {
                out.entry(&f.key).or_insert_with(|| f.without_bytes());
            }
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys and digests built from it are stored: it stays the published FNV-1a 64.
    #[test]
    fn fnv1a64_is_the_published_function() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }
    use crate::core::model::{Direction, LocalMinute, RecordKind, Sender};

    fn msg(key: &str, chat: &str, day: u8, hour: u8) -> Message {
        Message::text(
            key,
            chat,
            Direction::In,
            Sender { name: "Ana".into(), phone: None },
            Some(LocalMinute { year: 2026, month: 11, day, hour, minute: 0 }),
            format!("text {key}"),
        )
    }

    fn rec(crm: Crm, id: &str) -> RecordRef {
        RecordRef { crm, kind: RecordKind::Contact, id: id.into() }
    }

    fn ob(m: Message, synced: bool) -> OutboxMessage {
        OutboxMessage { message: m, captured_at_ms: 0, synced }
    }

    fn render(units: &[Unit]) -> Vec<RenderedDoc> {
        units
            .iter()
            .map(|u| RenderedDoc {
                key: DocKey { unit: u.key.clone(), target: "note".into(), part: 0 },
                body: u.messages.iter().map(|m| m.text.as_str()).collect::<Vec<_>>().join("\n"),
            })
            .collect()
    }

    #[test]
    fn units_cover_dirty_days_with_all_their_messages() {
        let chats = vec![ChatLinks {
            chat: "pn:+1".into(),
            title: "Ana".into(),
            is_group: false,
            records: vec![rec(Crm::Zoho, "z1"), rec(Crm::Salesforce, "s1")],
        }];
        let outbox = vec![
            ob(msg("a", "pn:+1", 20, 9), true),
            ob(msg("b", "pn:+1", 20, 10), false),
            ob(msg("c", "pn:+1", 19, 10), true), // clean day: not rewritten
            ob(msg("d", "pn:+2", 20, 10), false), // unlinked chat: waits
        ];
        let Units { units, undated, .. } = build_units(&outbox, &chats, &BackupWindow::default());
        assert!(undated.is_empty());
        assert_eq!(units.len(), 2, "one unit per linked record");
        for u in &units {
            assert_eq!(u.key.day, "2026-11-20");
            let keys: Vec<&str> = u.messages.iter().map(|m| m.key.as_str()).collect();
            assert_eq!(keys, ["a", "b"]);
        }
    }

    #[test]
    fn undated_pending_messages_are_reported_not_dropped() {
        let chats = vec![ChatLinks {
            chat: "c".into(),
            title: "t".into(),
            is_group: false,
            records: vec![rec(Crm::Zoho, "1")],
        }];
        let mut m = msg("x", "c", 1, 1);
        m.time = None;
        let Units { units, undated, .. } =
            build_units(&[ob(m, false)], &chats, &BackupWindow::default());
        assert!(units.is_empty());
        assert_eq!(undated, ["x"]);
    }

    #[test]
    fn first_backup_sends_exactly_the_window() {
        let chats = vec![ChatLinks {
            chat: "c".into(),
            title: "t".into(),
            is_group: false,
            records: vec![rec(Crm::Zoho, "1")],
        }];
        // Connected on the 21st at 12:00: the window starts on the 18th at 12:00.
        let connected =
            crate::core::model::LocalMinute { year: 2026, month: 11, day: 21, hour: 12, minute: 0 };
        let outbox = vec![
            ob(msg("old", "c", 18, 11), false),
            ob(msg("edge", "c", 18, 12), false),
            ob(msg("new", "c", 21, 13), false),
        ];
        let mut window =
            BackupWindow { connected: Some(connected), days: 3, older_chats: Default::default() };
        let got = build_units(&outbox, &chats, &window);
        assert_eq!(got.before_window, ["old"]);
        let sent: Vec<&str> =
            got.units.iter().flat_map(|u| u.messages.iter().map(|m| m.key.as_str())).collect();
        assert_eq!(sent, ["edge", "new"]);
        // The rep chose to back up this chat's older messages: they go like any other.
        window.older_chats.insert("c".into());
        let got = build_units(&outbox, &chats, &window);
        assert!(got.before_window.is_empty());
        let sent: Vec<&str> =
            got.units.iter().flat_map(|u| u.messages.iter().map(|m| m.key.as_str())).collect();
        assert_eq!(sent, ["old", "edge", "new"]);
    }

    #[test]
    fn message_states_and_the_older_summary() {
        let connected =
            crate::core::model::LocalMinute { year: 2026, month: 11, day: 21, hour: 12, minute: 0 };
        let mut window =
            BackupWindow { connected: Some(connected), days: 3, older_chats: Default::default() };
        let mut undated = msg("u", "c", 20, 9);
        undated.time = None;
        let outbox = vec![
            ob(msg("o1", "c", 10, 9), false),
            ob(msg("o2", "c", 18, 11), false),
            ob(msg("o3", "c", 12, 9), true),
            ob(msg("new", "c", 21, 13), false),
            ob(undated, false),
        ];
        let states: Vec<MessageState> =
            outbox.iter().map(|m| message_state(m, &window, false)).collect();
        assert_eq!(
            states,
            [
                MessageState::Older,
                MessageState::Older,
                MessageState::Synced,
                MessageState::Pending,
                MessageState::Undated
            ]
        );
        assert_eq!(message_state(&outbox[0], &window, true), MessageState::Excluded);
        assert_eq!(
            older_summary(&outbox, &window),
            Some(OlderMessages {
                count: 2,
                first_day: "2026-11-10".into(),
                last_day: "2026-11-18".into()
            }),
            "synced ones are not counted; days span the older messages"
        );
        window.older_chats.insert("c".into());
        assert_eq!(older_summary(&outbox, &window), None, "chosen for backup: nothing older left");
        assert_eq!(message_state(&outbox[0], &window, false), MessageState::Pending);
        assert_eq!(
            older_summary(&outbox, &BackupWindow::default()),
            None,
            "not connected: no window yet"
        );
    }

    #[test]
    fn writes_follow_remote_state() {
        let chats = vec![ChatLinks {
            chat: "c".into(),
            title: "t".into(),
            is_group: false,
            records: vec![
                rec(Crm::Zoho, "1"),
                rec(Crm::Zoho, "2"),
                rec(Crm::Zoho, "3"),
                rec(Crm::Zoho, "4"),
            ],
        }];
        let units =
            build_units(&[ob(msg("a", "c", 20, 9), false)], &chats, &BackupWindow::default()).units;
        let docs = render(&units);
        let mut remote = BTreeMap::new();
        remote.insert(docs[1].key.clone(), RemoteState::Uncertain { since_ms: 5 });
        remote.insert(
            docs[2].key.clone(),
            RemoteState::Written { id: "n3".into(), digest: 0, at_ms: None },
        );
        remote.insert(
            docs[3].key.clone(),
            RemoteState::Written { id: "n4".into(), digest: docs[3].digest(), at_ms: None },
        );
        let ops: Vec<(WriteOp, Option<String>)> =
            plan_writes(&docs, &remote).into_iter().map(|w| (w.op, w.remote_id)).collect();
        assert_eq!(
            ops,
            [
                (WriteOp::Create, None),
                (WriteOp::Reconcile, None),
                (WriteOp::Update, Some("n3".into()))
            ]
        );
    }

    #[test]
    fn batching_meets_the_minimum_under_limits() {
        let records: Vec<RecordRef> = (0..250)
            .map(|i| rec(if i % 2 == 0 { Crm::Zoho } else { Crm::Leadsquared }, &i.to_string()))
            .collect();
        let chats: Vec<ChatLinks> = records
            .iter()
            .map(|r| ChatLinks {
                chat: format!("c{}", r.id),
                title: "t".into(),
                is_group: false,
                records: vec![r.clone()],
            })
            .collect();
        let outbox: Vec<OutboxMessage> =
            chats.iter().map(|c| ob(msg(&format!("m{}", c.chat), &c.chat, 20, 9), false)).collect();
        let units = build_units(&outbox, &chats, &BackupWindow::default()).units;
        let writes = plan_writes(&render(&units), &BTreeMap::new());
        let limit = |crm: Crm, _: &str, _: &WriteOp| if crm == Crm::Zoho { 100 } else { 25 };
        let batches = batch_writes(writes.clone(), limit);
        assert_eq!(batches.len(), minimum_calls(&writes, limit));
        assert_eq!(batches.iter().filter(|b| b.crm == Crm::Zoho).count(), 2); // 125 notes / 100
        assert_eq!(batches.iter().filter(|b| b.crm == Crm::Leadsquared).count(), 5); // 125 / 25
        assert!(batches.iter().all(|b| b.writes.len() <= limit(b.crm, &b.class, &b.op)));
        let total: usize = batches.iter().map(|b| b.writes.len()).sum();
        assert_eq!(total, 250);
    }

    #[test]
    fn messages_settle_only_when_every_document_is_current() {
        let chats = vec![ChatLinks {
            chat: "c".into(),
            title: "t".into(),
            is_group: false,
            records: vec![rec(Crm::Zoho, "1"), rec(Crm::Salesforce, "2")],
        }];
        let units =
            build_units(&[ob(msg("a", "c", 20, 9), false)], &chats, &BackupWindow::default()).units;
        let docs = render(&units);
        let mut remote = BTreeMap::new();
        remote.insert(
            docs[0].key.clone(),
            RemoteState::Written { id: "z".into(), digest: docs[0].digest(), at_ms: None },
        );
        assert!(
            settled_messages(&units, &docs, &remote, &BTreeSet::new()).is_empty(),
            "Salesforce copy not confirmed yet"
        );
        remote.insert(docs[1].key.clone(), RemoteState::Uncertain { since_ms: 1 });
        assert!(
            settled_messages(&units, &docs, &remote, &BTreeSet::new()).is_empty(),
            "uncertain is not confirmed"
        );
        remote.insert(
            docs[1].key.clone(),
            RemoteState::Written { id: "s".into(), digest: docs[1].digest(), at_ms: None },
        );
        assert_eq!(
            settled_messages(&units, &docs, &remote, &BTreeSet::new())
                .into_iter()
                .collect::<Vec<_>>(),
            ["a"]
        );
    }

    #[test]
    fn a_record_with_unknown_documents_confirms_nothing() {
        // Found by the soak: the deals read failed, only the contact's note was rendered and
        // written, and the message was marked synced without ever reaching the deals.
        let chats = vec![ChatLinks {
            chat: "c".into(),
            title: "t".into(),
            is_group: false,
            records: vec![rec(Crm::Zoho, "1"), rec(Crm::Salesforce, "2")],
        }];
        let units =
            build_units(&[ob(msg("a", "c", 20, 9), false)], &chats, &BackupWindow::default()).units;
        let docs = render(&units);
        let remote: BTreeMap<DocKey, RemoteState> = docs
            .iter()
            .map(|d| {
                (
                    d.key.clone(),
                    RemoteState::Written { id: "x".into(), digest: d.digest(), at_ms: None },
                )
            })
            .collect();
        let incomplete: BTreeSet<RecordRef> = [rec(Crm::Zoho, "1")].into();
        assert!(settled_messages(&units, &docs, &remote, &incomplete).is_empty());
        assert_eq!(settled_messages(&units, &docs, &remote, &BTreeSet::new()).len(), 1);
    }

    #[test]
    fn digests_serialize_as_text_and_read_old_numbers() {
        let w = RemoteState::Written { id: "n1".into(), digest: u64::MAX, at_ms: None };
        let json = serde_json::to_string(&w).unwrap();
        assert!(json.contains("\"18446744073709551615\""), "{json}");
        assert_eq!(serde_json::from_str::<RemoteState>(&json).unwrap(), w);
        let old = r#"{"state":"written","id":"n1","digest":42}"#;
        assert_eq!(
            serde_json::from_str::<RemoteState>(old).unwrap(),
            RemoteState::Written { id: "n1".into(), digest: 42, at_ms: None }
        );
    }

    #[test]
    fn external_keys_are_deterministic_and_distinct() {
        let k = |id: &str, day: &str| {
            UnitKey { record: rec(Crm::Salesforce, id), chat: "pn:+1".into(), day: day.into() }
                .external_key()
        };
        assert_eq!(k("1", "2026-11-20"), k("1", "2026-11-20"));
        assert_ne!(k("1", "2026-11-20"), k("2", "2026-11-20"));
        assert_ne!(k("1", "2026-11-20"), k("1", "2026-11-21"));
        assert!(k("1", "2026-11-20").starts_with("wa-20261120-"));
    }
}

/// How one write of a batch ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum WriteResult {
    /// The CRM holds the document under this id (create, update, or reconcile found it).
    Written {
        id: String,
    },
    /// Reconcile looked and the document is not there: create it.
    Absent,
    Failed(crate::core::policy::Failure),
}

/// What the sync engine needs from a CRM connector, sans-IO: it renders documents, says
/// how many fit in one call, builds the call, and reads each write's result back.
/// Implemented per CRM in `crate::crm`; the worker performs the requests.
pub trait DocumentWriter {
    fn crm(&self) -> Crm;
    /// A read the connector needs before rendering a record's documents (Zoho: the
    /// contact's recent deals). Called per record per cycle until it returns None (each
    /// answer goes to `absorb_prepare` first), at most a few times.
    fn prepare(&self, _record: &RecordRef) -> Option<crate::core::http::HttpRequest> {
        None
    }
    fn absorb_prepare(
        &mut self,
        _record: &RecordRef,
        _resp: &crate::core::http::HttpResponse,
    ) -> Result<(), crate::core::policy::Failure> {
        Ok(())
    }
    /// Every document of the unit, rendered from all of the day's messages.
    /// Where the rep wants backups to go (options page); all on by default.
    fn set_targets(&mut self, _targets: Targets) {}
    /// What the CRM already holds (stored remote states), before this cycle's writes: some
    /// documents point at others (a Salesforce file is published to the day's chat record).
    fn absorb_remote(&mut self, _remote: &BTreeMap<DocKey, RemoteState>) {}
    /// The record's related deals / opportunities, already read by matching for the card:
    /// `prepare` then needs no call for it.
    fn seed_related(&mut self, _record: &RecordRef, _ids: Vec<String>) {}
    fn render(&self, unit: &Unit) -> Vec<RenderedDoc>;
    /// The most writes of this class and op one call may carry.
    fn batch_limit(&self, class: &str, op: &WriteOp) -> usize;
    /// Whether a document with no recorded remote state must be looked up before it is
    /// created (planned as a reconcile): the CRM may hold it without a create of it on record
    /// (a Salesforce ContentDocumentLink made with its note by an earlier version).
    fn look_up_first(&self, _doc: &DocKey) -> bool {
        false
    }
    /// Whether a planned write needs another document written first (a Salesforce
    /// ContentDocumentLink needs its ContentNote's id): the engine does not send it now; a
    /// later pass or cycle plans it again.
    fn waits(&self, _write: &Write) -> bool {
        false
    }
    /// The call that performs `batch`. `docs` holds the rendered bodies by key.
    fn request(
        &self,
        batch: &Batch,
        docs: &BTreeMap<DocKey, RenderedDoc>,
    ) -> Result<crate::core::http::HttpRequest, String>;
    /// Per-write results of the response, one per write of the batch. A write missing
    /// from the answer is treated as a transient failure by the caller.
    fn outcome(
        &self,
        batch: &Batch,
        resp: &crate::core::http::HttpResponse,
    ) -> Vec<(DocKey, WriteResult)>;
    /// A reconcile's next page: the document was not on this one and the list goes on.
    fn next_read(
        &self,
        _req: &crate::core::http::HttpRequest,
        _resp: &crate::core::http::HttpResponse,
    ) -> Option<crate::core::http::HttpRequest> {
        None
    }
    /// The API allowance the CRM reported on this answer, when it reports one.
    fn budget(&self, _resp: &crate::core::http::HttpResponse) -> crate::core::ratelimit::Budget {
        Default::default()
    }
    /// How long the CRM's rate-limit window lasts when a 429 names no `Retry-After`.
    fn rate_limit_window_ms(&self) -> Option<u64> {
        None
    }
    /// Whether `prepare` needs every related deal of a record (true) or at most the card's
    /// `MAX_DEALS`, so that a card's list of that length is complete for it.
    fn needs_all_related(&self) -> bool {
        true
    }
    /// What this cycle learned about the CRM that the connection should keep (so the next
    /// cycle need not ask again).
    fn learned(&self) -> Option<Learned> {
        None
    }
}

/// A fact about a connected CRM, learned while syncing, kept with the connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Learned {
    /// LeadSquared: the event code of the "WhatsApp Chats" activity type.
    ActivityEvent(u32),
    /// LeadSquared: the type list has no "WhatsApp Chats": the next backup creates it
    /// without reading the list again.
    ActivityTypeMissing,
    /// LeadSquared: a write said the kept event code no longer exists (the type was
    /// deleted): look the type up again.
    ActivityEventGone,
    /// Salesforce: whether the org has the chat object (for this user).
    ChatObject(bool),
    /// Salesforce: a chat write said the object is not there (any more): ask again.
    ChatObjectGone,
}
