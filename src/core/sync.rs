//! Sync bookkeeping the worker persists and the panel/popup show: per-chat records,
//! sync state, the sync log, parked failures, and the export document.
use crate::core::matching::MatchOutcome;
use crate::core::model::{CrmRecord, RecordRef, WaIdentity};
use crate::core::outbox::{DocKey, OutboxMessage, RemoteState};
use serde::{Deserialize, Serialize};

/// What the worker remembers about one chat.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRecord {
    pub identity: WaIdentity,
    /// CRM records this chat's backup goes to (resolved by matching or a manual link).
    #[serde(default)]
    pub links: Vec<RecordRef>,
    /// When every captured message of this chat was last confirmed by the CRM.
    #[serde(default)]
    pub last_synced_at_ms: Option<u64>,
    /// The user excluded this chat: it is never captured or sent.
    #[serde(default)]
    pub excluded: bool,
    /// The last matching decision and when it was made (re-checked after `MATCH_TTL_MS`).
    #[serde(default)]
    pub matched: Option<MatchOutcome>,
    #[serde(default)]
    pub matched_at_ms: Option<u64>,
    /// The records the CRMs returned for this chat, for the panel's card and chooser.
    #[serde(default)]
    pub cards: Vec<CrmRecord>,
    /// The linked record's most recent deals / opportunities, newest first.
    #[serde(default)]
    pub deals: Vec<crate::core::model::DealRow>,
    /// Record id → the page that opens it in the CRM's web UI.
    #[serde(default)]
    pub urls: std::collections::BTreeMap<String, String>,
    /// Groups: the senders seen in the chat and the record each is linked to.
    #[serde(default)]
    pub participants: Vec<crate::core::model::Participant>,
    /// The rep chose to back up this chat's messages from before the backup window too.
    #[serde(default)]
    pub back_up_older: bool,
}

/// How a record is named in `Export::record_synced`: `zoho:contact:5843…`.
pub fn record_key(r: &RecordRef) -> String {
    format!(
        "{}:{}:{}",
        serde_json::to_value(r.crm)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        crate::core::model::kind_name(r.kind),
        r.id
    )
}

/// A match is looked up again after a day, or at once when the rep asks.
pub const MATCH_TTL_MS: u64 = 24 * 3_600_000;

impl ChatRecord {
    pub fn match_is_fresh(&self, now_ms: u64) -> bool {
        self.matched.is_some()
            && self.matched_at_ms.is_some_and(|t| now_ms >= t && now_ms - t < MATCH_TTL_MS)
    }
}

/// A unit that stopped retrying: kept, with the reason shown to the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parked {
    pub doc: String,
    pub reason: String,
    pub at_ms: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    pub syncing: bool,
    pub last_started_ms: Option<u64>,
    pub last_finished_ms: Option<u64>,
    /// The last cycle's error in plain language, cleared by a clean cycle.
    pub last_error: Option<String>,
    /// No CRM call before this time (a CRM asked us to slow down).
    pub retry_not_before_ms: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub at_ms: u64,
    pub text: String,
}

/// Keep the log bounded: the newest `max` entries.
pub fn push_log(log: &mut Vec<LogEntry>, entry: LogEntry, max: usize) {
    log.push(entry);
    if log.len() > max {
        let drop = log.len() - max;
        log.drain(..drop);
    }
}

/// A stored message with its state (synced, pending, older than the window, …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedMessage {
    #[serde(flatten)]
    pub stored: OutboxMessage,
    pub state: crate::core::outbox::MessageState,
}

/// The backup window as the stored settings and chat records define it.
pub fn backup_window(
    connected: Option<crate::core::model::LocalMinute>,
    days: u32,
    chats: &[ChatRecord],
) -> crate::core::schedule::BackupWindow {
    crate::core::schedule::BackupWindow {
        connected,
        days,
        older_chats: chats
            .iter()
            .filter(|c| c.back_up_older)
            .map(|c| c.identity.chat_key())
            .collect(),
    }
}

/// The JSON the options page downloads and the worker returns for `{"kind":"export"}`.
/// It holds captured data and sync history only: tokens and keys live elsewhere and are
/// never part of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Export {
    pub product: String,
    pub exported_at_ms: u64,
    pub schema_version: u32,
    pub chats: Vec<ChatRecord>,
    pub messages: Vec<ExportedMessage>,
    pub documents: Vec<(DocKey, RemoteState)>,
    pub parked: Vec<Parked>,
    pub state: SyncState,
    pub log: Vec<LogEntry>,
    /// When each CRM record's backup was last confirmed (`record_key` → epoch ms).
    #[serde(default)]
    pub record_synced: std::collections::BTreeMap<String, u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_keeps_the_newest_entries() {
        let mut log = Vec::new();
        for i in 0..10 {
            push_log(&mut log, LogEntry { at_ms: i, text: format!("{i}") }, 3);
        }
        let at: Vec<u64> = log.iter().map(|e| e.at_ms).collect();
        assert_eq!(at, [7, 8, 9]);
    }

    #[test]
    fn record_keys_name_crm_kind_and_id() {
        let r = RecordRef {
            crm: crate::core::model::Crm::Leadsquared,
            kind: crate::core::model::RecordKind::Lead,
            id: "p1".into(),
        };
        assert_eq!(record_key(&r), "leadsquared:lead:p1");
    }

    #[test]
    fn chat_record_reads_old_json_without_new_fields() {
        // Stored records from an earlier version lack fields added later: defaults apply.
        let r: ChatRecord = serde_json::from_str(
            r#"{"identity":{"phone":null,"lid":null,"name":"Ana","is_group":false}}"#,
        )
        .unwrap();
        assert!(r.links.is_empty());
        assert!(!r.excluded);
    }
}
