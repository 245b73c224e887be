//! The shared vocabulary: what a captured message is, who a chat is with, and which CRM
//! record it belongs to. Every other module speaks these types.
use serde::{Deserialize, Serialize};

/// Which way a message went, from the rep's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    In,
    Out,
}

/// A local wall-clock minute as WhatsApp shows it (`data-pre-plain-text` has no seconds or
/// zone). Ordered, so transcripts sort by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LocalMinute {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
}

impl LocalMinute {
    /// `YYYY-MM-DDTHH:MM`
    pub fn iso(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute
        )
    }

    /// `YYYY-MM-DD`: the conversation day a backup groups by.
    pub fn day_key(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sender {
    /// Display name as WhatsApp shows it ("You" for outgoing).
    pub name: String,
    /// E.164 when the DOM shows a number for this sender.
    pub phone: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageKind {
    Text,
    Image,
    Video,
    Gif,
    Voice {
        duration: Option<String>,
    },
    Document {
        file_name: Option<String>,
        size: Option<String>,
    },
    Sticker,
    Location,
    ContactCard {
        name: Option<String>,
    },
    Deleted,
    /// Group notices, security notices, date chips that made it into the row stream.
    System,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Media {
    pub kind: String,
    pub file_name: Option<String>,
    /// Human-readable size as shown ("2 MB"), when shown.
    pub size: Option<String>,
    /// A `blob:` URL valid only inside the page; attachments upload needs the bytes.
    pub url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Quoted {
    pub sender: Option<String>,
    pub text: String,
}

/// One WhatsApp message as captured from the DOM.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    /// The row's `data-id` (bare id, or the legacy `true_<jid>_<id>` form). Stable across re-renders.
    pub key: String,
    /// Stable key of the chat this message is in (see `ChatKey`).
    pub chat: String,
    pub direction: Direction,
    pub sender: Sender,
    /// None when the row carries no timestamp (some system rows).
    pub time: Option<LocalMinute>,
    pub text: String,
    pub quoted: Option<Quoted>,
    pub media: Vec<Media>,
    pub kind: MessageKind,
    #[serde(default)]
    pub forwarded: bool,
    #[serde(default)]
    pub edited: bool,
    /// Reaction emoji shown under the bubble.
    #[serde(default)]
    pub reactions: Vec<String>,
}

impl Message {
    /// A plain text message: no quote, media, reactions, forward or edit marks.
    pub fn text(
        key: impl Into<String>,
        chat: impl Into<String>,
        direction: Direction,
        sender: Sender,
        time: Option<LocalMinute>,
        text: impl Into<String>,
    ) -> Message {
        Message {
            key: key.into(),
            chat: chat.into(),
            direction,
            sender,
            time,
            text: text.into(),
            quoted: None,
            media: vec![],
            kind: MessageKind::Text,
            forwarded: false,
            edited: false,
            reactions: vec![],
        }
    }
}

/// Who a chat is with, as far as WhatsApp Web reveals it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaIdentity {
    /// E.164 (`+5511987654321`) when known.
    pub phone: Option<String>,
    /// Opaque `…@lid` identity when known; never a phone number.
    pub lid: Option<String>,
    /// Header title (saved name, or the formatted number for unsaved contacts, or group subject).
    pub name: String,
    pub is_group: bool,
}

impl WaIdentity {
    /// The key a chat is remembered by: phone, else LID, else the (non-unique) title.
    pub fn chat_key(&self) -> String {
        if let Some(p) = &self.phone {
            format!("pn:{p}")
        } else if let Some(l) = &self.lid {
            format!("lid:{l}")
        } else if self.is_group {
            format!("group:{}", self.name)
        } else {
            format!("name:{}", self.name)
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Crm {
    Zoho,
    Salesforce,
    Leadsquared,
}

impl Crm {
    pub fn name(self) -> &'static str {
        match self {
            Crm::Zoho => "Zoho CRM",
            Crm::Salesforce => "Salesforce",
            Crm::Leadsquared => "LeadSquared",
        }
    }
}

/// What kind of CRM record a chat links to. Contacts rank before leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Contact,
    Lead,
    Deal,
    Opportunity,
}

/// A CRM record: the unit a backup is written to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordRef {
    pub crm: Crm,
    pub kind: RecordKind,
    pub id: String,
}

/// A CRM record as a matching candidate or card: every phone-type field it has.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrmRecord {
    pub crm: Option<Crm>,
    pub kind: Option<RecordKind>,
    pub id: String,
    pub name: String,
    /// (field API name, raw value as the rep typed it)
    pub phones: Vec<(String, String)>,
    pub email: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub owner: Option<String>,
    /// Lead status or contact stage.
    pub status: Option<String>,
}

/// One deal / opportunity row on the card (at most [`MAX_DEALS`] are shown).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DealRow {
    /// The CRM's id of the deal / opportunity (the sync reuses it: no second lookup).
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    pub stage: Option<String>,
    /// Amount in the deal's currency units.
    pub amount: Option<f64>,
    pub currency: Option<String>,
    /// `YYYY-MM-DD`.
    pub close_date: Option<String>,
}

pub const MAX_DEALS: usize = 5;

/// How one chat of the guided backfill (`capture::backfill`) went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum BackfillOutcome {
    /// Messages back to the start of the window were captured.
    Covered {
        messages: usize,
    },
    /// WhatsApp loaded nothing older than `oldest` (`YYYY-MM-DD`): everything it had was captured,
    /// but it did not reach the window's start (a chat that began inside the window looks the same).
    HistoryEnds {
        messages: usize,
        oldest: Option<String>,
    },
    /// The chat did not open (not found in the list, or its header never showed).
    NotOpened {
        reason: String,
    },
    Cancelled,
}

/// The guided backfill's progress and results, as the panel shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillProgress {
    pub total: usize,
    pub done: usize,
    pub current: Option<String>,
    pub results: Vec<(String, BackfillOutcome)>,
    pub unreadable: Vec<String>,
    pub finished: bool,
}

/// A group participant linked to a CRM record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    pub name: String,
    pub phone: Option<String>,
    /// The linked record as the panel names it ("Liam Carter (Salesforce)").
    pub record: Option<String>,
    /// The linked record, and its page in the CRM (filled in for the panel from the chat's
    /// record links).
    #[serde(default)]
    pub linked: Option<RecordRef>,
    #[serde(default)]
    pub url: Option<String>,
}

/// The record kind as the panel and the transcripts name it.
pub fn kind_name(k: RecordKind) -> &'static str {
    match k {
        RecordKind::Contact => "contact",
        RecordKind::Lead => "lead",
        RecordKind::Deal => "deal",
        RecordKind::Opportunity => "opportunity",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_key_prefers_phone_then_lid() {
        let mut id = WaIdentity { name: "Ana".into(), ..Default::default() };
        assert_eq!(id.chat_key(), "name:Ana");
        id.lid = Some("123@lid".into());
        assert_eq!(id.chat_key(), "lid:123@lid");
        id.phone = Some("+5511987654321".into());
        assert_eq!(id.chat_key(), "pn:+5511987654321");
    }

    #[test]
    fn minute_formats_and_orders() {
        let a = LocalMinute { year: 2026, month: 3, day: 9, hour: 7, minute: 5 };
        let b = LocalMinute { year: 2026, month: 3, day: 10, hour: 0, minute: 0 };
        assert_eq!(a.iso(), "2026-03-09T07:05");
        assert_eq!(a.day_key(), "2026-03-09");
        assert!(a < b);
    }
}
