//! The Mini-CRM panel's pure view model: what the panel shows for a chat, plus the
//! formatting (relative time, amounts, dates), link safety and form validation it needs.
//!
//! The service worker computes a [`PanelState`] from its records ([`panel_state`]); the panel
//! frame only renders it. Every user-visible string
//! is an i18n message key (`extension/_locales/en/messages.json`) with substitutions, so the
//! shell translates through `chrome.i18n` and this module stays testable natively.
use crate::core::model::Crm;
use serde::{Deserialize, Serialize};

pub use crate::core::model::{kind_name, DealRow, Participant, MAX_DEALS};

/// The contact card of a linked chat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContactCard {
    pub crm: Crm,
    /// "contact" / "lead".
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// The record in the CRM's web UI; shown only when [`safe_record_url`] accepts it.
    #[serde(default)]
    pub url: Option<String>,
}

/// Where the sync of a linked chat stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SyncState {
    Idle,
    Syncing,
    Pending {
        count: u32,
    },
    /// The CRM token is no longer valid: reconnect in the options page.
    AuthExpired,
    /// The CRM user lacks a permission (named as the CRM names it).
    MissingPermission {
        permission: String,
    },
    /// The CRM's API limit was hit; retrying at `retry_at_ms` (epoch ms).
    RateLimited {
        retry_at_ms: i64,
    },
    Offline,
    /// Anything else, in plain words from the connector.
    Failed {
        reason: String,
    },
}

/// A CRM record offered in a chooser or search result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub crm: Crm,
    pub kind: String,
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub detail: Option<String>,
    /// The CRM field and value the chat's number matched (`("Mobile", "+55…")`), shown
    /// through a message so its wording is the rep's language.
    #[serde(default)]
    pub matched_on: Option<(String, String)>,
}

/// Everything the panel can show for the open chat.
// One value per render, sent once through postMessage: boxing the linked card would only add
// indirection to a message that is built, serialized and dropped.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "view", rename_all = "snake_case")]
pub enum PanelState {
    /// No CRM connected: offer the options page.
    NotConnected,
    /// A connection / first lookup is under way.
    Connecting,
    /// No chat is open (or the content script has not told us which).
    NoChat,
    Linked {
        card: ContactCard,
        #[serde(default)]
        deals: Vec<DealRow>,
        last_synced_ms: Option<i64>,
        sync: SyncState,
        /// Messages from before the backup window, offered for backup.
        #[serde(default)]
        older: Option<crate::core::outbox::OlderMessages>,
        /// Masking of this chat's backups: `None` when the rep masks nothing at all.
        #[serde(default)]
        masking: Option<bool>,
        /// The documents of the latest backed-up day, per CRM.
        #[serde(default)]
        saved: Vec<Receipt>,
    },
    /// A number with no CRM match: create forms prefilled, and link-existing search.
    Unknown {
        name: String,
        phone: String,
        crms: Vec<Crm>,
    },
    Ambiguous {
        name: String,
        candidates: Vec<Candidate>,
    },
    Group {
        name: String,
        participants: Vec<Participant>,
        /// The records the group is backed up to (name, CRM, kind; no id needed to show).
        backup_to: Vec<Candidate>,
        #[serde(default)]
        older: Option<crate::core::outbox::OlderMessages>,
        #[serde(default)]
        masking: Option<bool>,
        #[serde(default)]
        saved: Vec<Receipt>,
    },
    /// A chat without a number (`@lid`, a username): WhatsApp hides the number, so only a
    /// manual link works. `suggest`: what to search the CRM for (an e-mail the contact wrote,
    /// else the chat's name), shown for the rep to confirm; never linked on its own.
    LidOnly {
        name: String,
        #[serde(default)]
        suggest: Option<String>,
    },
    CaptureBlocked {
        reason: String,
    },
    /// The rep excluded this chat from sync in the options.
    Excluded {
        name: String,
    },
}

/// Proof of a confirmed write: a chat's backup document for one day in one CRM, as the
/// worker's records say (the document's state, the day's synced messages, the chat's last sync).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub crm: Crm,
    /// What the document is: `note`, `task`, `chat`, `content_note`, `activity`.
    pub target: String,
    /// The chat's name in the document title ("WhatsApp · <title> · <day>").
    pub title: String,
    /// A group's document: its title says so ("<name> (group)", in the rep's language).
    #[serde(default)]
    pub group: bool,
    /// `YYYY-MM-DD`.
    pub day: String,
    pub messages: u32,
    pub saved_ms: Option<i64>,
    /// Where the rep can open it (checked by [`safe_record_url`] before it is shown).
    pub url: Option<String>,
}

/// The documents of a chat's latest backed-up day, one per CRM record and kind (parts and
/// deal copies are the same transcript). `docs` are the worker's document states;
/// `synced_on` counts the chat's confirmed messages of a day.
pub fn receipts(
    chat: &crate::core::sync::ChatRecord,
    docs: &[(crate::core::outbox::DocKey, crate::core::outbox::RemoteState)],
    synced_on: &dyn Fn(&str) -> u32,
) -> Vec<Receipt> {
    use crate::core::outbox::RemoteState;
    let key = chat.identity.chat_key();
    let written: Vec<(&crate::core::outbox::DocKey, &str, Option<u64>)> = docs
        .iter()
        .filter_map(|(k, st)| match st {
            RemoteState::Written { id, at_ms, .. } => Some((k, id.as_str(), *at_ms)),
            RemoteState::Uncertain { .. } => None,
        })
        .filter(|(k, _, _)| k.unit.chat == key && k.part == 0 && !k.target.contains(':'))
        .filter(|(k, _, _)| !k.target.ends_with(crate::core::outbox::LINK_SUFFIX))
        .collect();
    let Some(day) = written.iter().map(|(k, _, _)| k.unit.day.clone()).max() else {
        return vec![];
    };
    let mut out: Vec<Receipt> = vec![];
    for (k, id, at_ms) in written.into_iter().filter(|(k, _, _)| k.unit.day == day) {
        let crm = k.unit.record.crm;
        let record_url = chat.urls.get(&k.unit.record.id).cloned();
        // Salesforce opens a record by id under the org's Lightning host.
        let url = match (crm, k.target.as_str()) {
            (Crm::Salesforce, "task" | "chat") if !id.is_empty() => {
                record_url.as_deref().and_then(|u| {
                    let host_end = u.strip_prefix("https://")?.find('/')? + "https://".len();
                    let object = if k.target == "task" { "Task" } else { "WhatsApp_Chat__c" };
                    Some(format!("{}/lightning/r/{object}/{id}/view", &u[..host_end]))
                })
            }
            _ => record_url,
        };
        let r = Receipt {
            crm,
            target: k.target.clone(),
            title: chat.identity.name.clone(),
            group: chat.identity.is_group,
            day: day.clone(),
            messages: synced_on(&day),
            // This document's own confirmation; documents stored before that was kept
            // fall back to the chat's last sync.
            saved_ms: at_ms.or(chat.last_synced_at_ms).map(|t| t as i64),
            url: url.and_then(|u| safe_record_url(crm, &u)),
        };
        if !out.iter().any(|o| o.crm == r.crm && o.target == r.target) {
            out.push(r);
        }
    }
    out
}

/// A message key with its substitutions, translated by the shell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg {
    pub key: &'static str,
    pub args: Vec<String>,
}

impl Msg {
    pub fn new(key: &'static str) -> Self {
        Msg { key, args: vec![] }
    }
    pub fn with(key: &'static str, args: Vec<String>) -> Self {
        Msg { key, args }
    }
}

/// "Last synced …" relative to `now_ms`; `None` → never synced.
pub fn last_synced(now_ms: i64, then_ms: Option<i64>) -> Msg {
    let Some(then) = then_ms else { return Msg::new("syncedNever") };
    let secs = (now_ms - then).max(0) / 1000;
    match secs {
        0..=59 => Msg::new("syncedJustNow"),
        60..=3599 => Msg::with("syncedMinutesAgo", vec![(secs / 60).to_string()]),
        3600..=86_399 => Msg::with("syncedHoursAgo", vec![(secs / 3600).to_string()]),
        _ => Msg::with("syncedDaysAgo", vec![(secs / 86_400).to_string()]),
    }
}

/// The one-line sync state with its fix, for the aria-live region.
pub fn sync_line(now_ms: i64, sync: &SyncState) -> Msg {
    match sync {
        SyncState::Idle => Msg::new("syncIdle"),
        SyncState::Syncing => Msg::new("syncSyncing"),
        SyncState::Pending { count } => Msg::with("syncPending", vec![count.to_string()]),
        SyncState::AuthExpired => Msg::new("syncAuthExpired"),
        SyncState::MissingPermission { permission } => {
            Msg::with("syncMissingPermission", vec![permission.clone()])
        }
        SyncState::RateLimited { retry_at_ms } => {
            let mins = ((retry_at_ms - now_ms).max(0) + 59_999) / 60_000;
            Msg::with("syncRateLimited", vec![mins.max(1).to_string()])
        }
        SyncState::Offline => Msg::new("syncOffline"),
        SyncState::Failed { reason } => Msg::with("syncFailed", vec![reason.clone()]),
    }
}

/// "N older messages (from … to …) are from before the backup window and are not sent."
pub fn older_line(o: &crate::core::outbox::OlderMessages) -> Msg {
    if o.first_day == o.last_day {
        Msg::with("olderMessagesOneDay", vec![o.count.to_string(), o.first_day.clone()])
    } else {
        Msg::with(
            "olderMessages",
            vec![o.count.to_string(), o.first_day.clone(), o.last_day.clone()],
        )
    }
}

/// Does this sync state need the rep to reconnect the CRM?
pub fn needs_reconnect(sync: &SyncState) -> bool {
    matches!(sync, SyncState::AuthExpired)
}

/// Format an amount with thousands separators and 2 decimals, currency code first.
pub fn format_amount(amount: f64, currency: Option<&str>) -> String {
    if !amount.is_finite() {
        return String::new();
    }
    let cents = (amount.abs() * 100.0).round() as u128;
    let (int, frac) = (cents / 100, cents % 100);
    let digits = int.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if amount < 0.0 && cents > 0 { "-" } else { "" };
    match currency.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => format!("{c} {sign}{grouped}.{frac:02}"),
        None => format!("{sign}{grouped}.{frac:02}"),
    }
}

/// Epoch milliseconds → `YYYY-MM-DD HH:MM UTC`, for the hover title of the relative time.
pub fn absolute_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3600, (rem % 3600) / 60)
}

/// Days since 1970-01-01 → (year, month, day): the one calendar conversion in core.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let (y, m, d) = crate::core::schedule::civil_from_days(z);
    (y, m as u32, d as u32)
}

/// A close date as the CRM gave it, kept only when it is a plain `YYYY-MM-DD` date.
pub fn format_date(raw: &str) -> Option<String> {
    let b = raw.as_bytes();
    let ok = b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    ok.then(|| raw[..10].to_string())
}

/// The hosts a CRM's record pages live on.
fn crm_host_ok(crm: Crm, host: &str) -> bool {
    let under = |suffix: &str| host == suffix || host.ends_with(&format!(".{suffix}"));
    match crm {
        Crm::Zoho => [
            "zoho.com",
            "zoho.eu",
            "zoho.in",
            "zoho.com.au",
            "zoho.jp",
            "zohocloud.ca",
            "zoho.sa",
            "zoho.uk",
            "zoho.com.cn",
        ]
        .iter()
        .any(|s| under(s)),
        Crm::Salesforce => under("force.com") || under("salesforce.com"),
        Crm::Leadsquared => under("leadsquared.com"),
    }
}

/// The record URL if it may be opened: https, no credentials or odd characters, on the CRM's
/// own hosts. Anything else (`javascript:`, `http:`, other hosts) is dropped.
pub fn safe_record_url(crm: Crm, url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    if clean_text(url) != url || url.chars().any(|c| c.is_whitespace() || c == '\\') {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.contains('@') {
        return None;
    }
    let host = authority.split(':').next()?.to_ascii_lowercase();
    crm_host_ok(crm, &host).then(|| url.to_string())
}

/// Characters that reorder or hide text (bidi overrides/isolates, zero-width): stripped from
/// CRM text so a crafted name cannot disguise what it shows next to it.
pub fn clean_text(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(*c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200F}' | '\u{FEFF}'))
        .filter(|c| !c.is_control())
        .collect()
}

/// The create-record form, as the rep filled it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordForm {
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub email: String,
    pub company: String,
}

/// A validation error attached to one field (shown next to it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    /// i18n key.
    pub key: String,
}

/// Prefill a form from the WhatsApp name and number: last word → last name.
pub fn prefill(wa_name: &str, phone: &str) -> RecordForm {
    let name = clean_text(wa_name);
    let name = name.trim();
    // An unsaved contact's title is the number itself: not a name.
    let is_number =
        !name.is_empty() && name.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
    let (first, last) = if is_number || name.is_empty() {
        (String::new(), String::new())
    } else {
        match name.rsplit_once(' ') {
            Some((f, l)) => (f.trim().to_string(), l.trim().to_string()),
            None => (String::new(), name.to_string()),
        }
    };
    RecordForm {
        first_name: first,
        last_name: last,
        phone: phone.to_string(),
        ..Default::default()
    }
}

/// Validate a create form. Last name and phone are required by all three CRMs (LeadSquared
/// accepts a lead without one, but the chat needs the number to link back).
pub fn validate_form(f: &RecordForm, kind: &str) -> Vec<FieldError> {
    let mut errs = vec![];
    let mut err =
        |field: &str, key: &str| errs.push(FieldError { field: field.into(), key: key.into() });
    if f.last_name.trim().is_empty() {
        err("last_name", "errRequired");
    } else if f.last_name.chars().count() > 80 {
        err("last_name", "errTooLong");
    }
    if f.first_name.chars().count() > 40 {
        err("first_name", "errTooLong");
    }
    let p = f.phone.trim();
    let digits = p.chars().filter(char::is_ascii_digit).count();
    if p.is_empty() {
        err("phone", "errRequired");
    } else if !p.starts_with('+')
        || !(8..=15).contains(&digits)
        || p.chars().any(|c| !(c.is_ascii_digit() || " +-()".contains(c)))
    {
        err("phone", "errPhone");
    }
    let e = f.email.trim();
    if !e.is_empty() {
        let ok = e.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
        }) && !e.chars().any(char::is_whitespace);
        if !ok {
            err("email", "errEmail");
        }
    }
    if kind == "lead" && f.company.chars().count() > 200 {
        err("company", "errTooLong");
    }
    errs
}

/// The rep's settings, stored by the worker in its IndexedDB (`meta/settings`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// ISO 3166 alpha-2 region for numbers typed without a country code.
    pub default_region: String,
    pub search_contacts: bool,
    pub search_leads: bool,
    pub backup_notes: bool,
    pub backup_deals: bool,
    pub backup_custom_object: bool,
    pub backup_activities: bool,
    /// Chat keys (`pn:+55…`, `lid:…`, `group:…`) never synced.
    pub excluded_chats: Vec<String>,
    pub sync_enabled: bool,
    /// The first backup covers this many days before the first connection (product
    /// default 3); older messages are kept but sent only for chats the rep chooses.
    pub backup_window_days: u32,
    /// Mask payment card numbers in what is sent (on by default).
    pub mask_cards: bool,
    /// Mask CPF, CNPJ, Aadhaar and PAN numbers.
    pub mask_ids: bool,
    /// Mask one-time codes.
    pub mask_codes: bool,
    /// Chats the rep chose to back up without masking (chat keys).
    pub unmasked_chats: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_region: "US".into(),
            search_contacts: true,
            search_leads: true,
            backup_notes: true,
            backup_deals: true,
            backup_custom_object: true,
            backup_activities: true,
            excluded_chats: vec![],
            sync_enabled: true,
            backup_window_days: crate::core::schedule::FIRST_BACKUP_DAYS as u32,
            mask_cards: true,
            mask_ids: false,
            mask_codes: false,
            unmasked_chats: vec![],
        }
    }
}

impl Settings {
    /// Where backups go, as the writers read it.
    pub fn targets(&self) -> crate::core::outbox::Targets {
        crate::core::outbox::Targets {
            notes: self.backup_notes,
            deals: self.backup_deals,
            custom_object: self.backup_custom_object,
            activities: self.backup_activities,
        }
    }

    /// What is masked in this chat's backups.
    pub fn mask_rules(&self, chat: &str) -> crate::core::mask::MaskRules {
        if self.unmasked_chats.iter().any(|c| c == chat) {
            return crate::core::mask::MaskRules::NONE;
        }
        crate::core::mask::MaskRules {
            cards: self.mask_cards,
            ids: self.mask_ids,
            codes: self.mask_codes,
        }
    }

    /// May matching use a record of this kind?
    pub fn searches(&self, kind: Option<crate::core::model::RecordKind>) -> bool {
        use crate::core::model::RecordKind;
        match kind {
            Some(RecordKind::Lead) => self.search_leads,
            Some(RecordKind::Contact) => self.search_contacts,
            _ => true,
        }
    }

    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = vec![];
        let r = &self.default_region;
        if r.len() != 2 || !r.bytes().all(|b| b.is_ascii_uppercase()) {
            errs.push(FieldError { field: "default_region".into(), key: "errRegion".into() });
        }
        if !(1..=crate::core::schedule::MAX_WINDOW_DAYS).contains(&self.backup_window_days) {
            errs.push(FieldError {
                field: "backup_window_days".into(),
                key: "errWindowDays".into(),
            });
        }
        if !self.search_contacts && !self.search_leads {
            errs.push(FieldError { field: "search_contacts".into(), key: "errNoModule".into() });
        }
        errs
    }
}

/// What the worker knows when the panel asks about a chat.
pub struct PanelInputs<'a> {
    /// CRMs with a stored connection.
    pub connected: &'a [Crm],
    /// Connected CRMs whose grant was revoked or expired for good.
    pub reconnect: &'a [Crm],
    /// The open chat's key (`WaIdentity::chat_key`), from the frame URL.
    pub chat_key: Option<&'a str>,
    /// The chat's title as the page showed it (used before the worker has a record).
    pub chat_name: Option<&'a str>,
    pub chat: Option<&'a crate::core::sync::ChatRecord>,
    pub excluded: bool,
    pub state: &'a crate::core::sync::SyncState,
    /// Messages of this chat still waiting for the CRM.
    pub pending_in_chat: u32,
    /// Why this chat's backup stopped retrying, if it did.
    pub parked_in_chat: Option<&'a str>,
    /// This chat's messages from before the backup window (not counted as pending).
    pub older_in_chat: Option<&'a crate::core::outbox::OlderMessages>,
    /// Are this chat's backups masked (`None`: the rep masks nothing)?
    pub masking: Option<bool>,
    /// Each CRM's home currency where it is known (ISO 4217): deals without one are in it.
    pub currencies: &'a [(Crm, String)],
    /// What was saved of this chat ([`receipts`]).
    pub saved: &'a [Receipt],
    /// Texts the contact wrote in this chat, newest first (a chat without a number is
    /// suggested records by an e-mail seen in them).
    pub incoming_texts: &'a [String],
    pub now_ms: u64,
}

/// The panel state for a chat, from the worker's records. Pure: the worker gathers the
/// inputs, the panel renders the result.
pub fn panel_state(i: &PanelInputs) -> PanelState {
    use crate::core::matching::MatchOutcome;
    if i.connected.is_empty() {
        return PanelState::NotConnected;
    }
    let Some(key) = i.chat_key.filter(|k| !k.is_empty()) else { return PanelState::NoChat };
    let name = i
        .chat
        .map(|c| c.identity.name.clone())
        .filter(|n| !n.is_empty())
        .or_else(|| i.chat_name.map(str::to_string))
        .unwrap_or_default();
    if i.excluded || i.chat.is_some_and(|c| c.excluded) {
        return PanelState::Excluded { name };
    }
    let suggest = |name: &str| {
        crate::core::matching::suggestion_query(name, i.incoming_texts.iter().map(String::as_str))
    };
    let Some(chat) = i.chat else {
        // Not captured yet: chats without a number (`@lid`, usernames) are known from the
        // key alone.
        return if key.starts_with("lid:") || key.starts_with("name:") {
            PanelState::LidOnly { suggest: suggest(&name), name }
        } else {
            PanelState::Connecting
        };
    };
    if chat.identity.is_group {
        let backup_to = chat.links.iter().map(|r| record_label(chat, r)).collect();
        return PanelState::Group {
            name,
            participants: chat
                .participants
                .iter()
                .map(|p| Participant {
                    url: p.linked.as_ref().and_then(|r| chat.urls.get(&r.id).cloned()),
                    ..p.clone()
                })
                .collect(),
            backup_to,
            older: i.older_in_chat.cloned(),
            masking: i.masking,
            saved: i.saved.to_vec(),
        };
    }
    match &chat.matched {
        None => PanelState::Connecting,
        Some(MatchOutcome::Linked { records }) => {
            let Some(first) = records.first() else { return PanelState::Connecting };
            let rec = chat
                .cards
                .iter()
                .find(|c| c.id == first.record.id && c.crm == Some(first.record.crm));
            let kind = match first.record.kind {
                crate::core::model::RecordKind::Lead => "lead",
                _ => "contact",
            };
            let card = ContactCard {
                crm: first.record.crm,
                kind: kind.into(),
                name: rec
                    .map(|r| r.name.clone())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| first.name.clone()),
                company: rec.and_then(|r| r.company.clone()),
                title: rec.and_then(|r| r.title.clone()),
                email: rec.and_then(|r| r.email.clone()),
                phones: rec
                    .map(|r| r.phones.iter().map(|(_, v)| v.clone()).collect())
                    .unwrap_or_default(),
                owner: rec.and_then(|r| r.owner.clone()),
                status: rec.and_then(|r| r.status.clone()),
                url: chat.urls.get(&first.record.id).cloned(),
            };
            let mut deals = chat.deals.clone();
            deals.truncate(MAX_DEALS);
            let home = i.currencies.iter().find(|(c, _)| *c == first.record.crm).map(|(_, v)| v);
            for d in deals.iter_mut().filter(|d| d.currency.is_none()) {
                d.currency = home.cloned();
            }
            let sync = sync_state_of(i, first.record.crm);
            PanelState::Linked {
                card,
                deals,
                last_synced_ms: chat.last_synced_at_ms.map(|t| t as i64),
                sync,
                older: i.older_in_chat.cloned(),
                masking: i.masking,
                saved: i.saved.to_vec(),
            }
        }
        Some(MatchOutcome::Ambiguous { candidates }) => PanelState::Ambiguous {
            name,
            candidates: candidates
                .iter()
                .map(|c| Candidate {
                    crm: c.record.crm,
                    kind: kind_name(c.record.kind).into(),
                    id: c.record.id.clone(),
                    name: c.name.clone(),
                    detail: None,
                    matched_on: c.field.clone(),
                })
                .collect(),
        },
        Some(MatchOutcome::NoMatch { .. }) => match &chat.identity.phone {
            Some(phone) => {
                PanelState::Unknown { name, phone: phone.clone(), crms: i.connected.to_vec() }
            }
            None => PanelState::LidOnly { suggest: suggest(&name), name },
        },
    }
}

/// A linked record as the panel names it ("Ana Souza (Zoho CRM contact)", worded by the
/// panel in the rep's language).
fn record_label(
    chat: &crate::core::sync::ChatRecord,
    r: &crate::core::model::RecordRef,
) -> Candidate {
    let name = chat
        .cards
        .iter()
        .find(|c| c.id == r.id && c.crm == Some(r.crm))
        .map(|c| c.name.clone())
        .unwrap_or_else(|| r.id.clone());
    Candidate {
        crm: r.crm,
        kind: kind_name(r.kind).into(),
        id: r.id.clone(),
        name,
        detail: None,
        matched_on: None,
    }
}

/// The sync line for a linked chat: the most pressing of reconnect, parked, rate limit,
/// running, last error, pending, idle.
fn sync_state_of(i: &PanelInputs, crm: Crm) -> SyncState {
    if i.reconnect.contains(&crm) {
        return SyncState::AuthExpired;
    }
    if let Some(reason) = i.parked_in_chat {
        if reason.contains("permission")
            || reason.contains("INSUFFICIENT_ACCESS")
            || reason.contains("NO_PERMISSION")
        {
            return SyncState::MissingPermission { permission: reason.to_string() };
        }
        return SyncState::Failed { reason: reason.to_string() };
    }
    if let Some(t) = i.state.retry_not_before_ms.filter(|t| *t > i.now_ms) {
        return SyncState::RateLimited { retry_at_ms: t as i64 };
    }
    if i.state.syncing {
        return SyncState::Syncing;
    }
    if i.pending_in_chat > 0 {
        if let Some(e) = &i.state.last_error {
            if e.contains("no response") {
                return SyncState::Offline;
            }
            return SyncState::Failed { reason: e.clone() };
        }
        return SyncState::Pending { count: i.pending_in_chat };
    }
    SyncState::Idle
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn relative_times() {
        let now = 1_800_000_000_000;
        assert_eq!(last_synced(now, None).key, "syncedNever");
        assert_eq!(last_synced(now, Some(now - 5_000)).key, "syncedJustNow");
        assert_eq!(
            last_synced(now, Some(now - 2 * MIN - 10)),
            Msg::with("syncedMinutesAgo", vec!["2".into()])
        );
        assert_eq!(
            last_synced(now, Some(now - 3 * 60 * MIN)),
            Msg::with("syncedHoursAgo", vec!["3".into()])
        );
        assert_eq!(
            last_synced(now, Some(now - 49 * 60 * MIN)),
            Msg::with("syncedDaysAgo", vec!["2".into()])
        );
        // A clock a little behind the worker's is "just now", not negative.
        assert_eq!(last_synced(now, Some(now + 30_000)).key, "syncedJustNow");
    }

    #[test]
    fn absolute_time_is_exact() {
        assert_eq!(absolute_utc(0), "1970-01-01 00:00 UTC");
        // 2026-03-09T07:05:00Z
        assert_eq!(absolute_utc(1_773_039_900_000), "2026-03-09 07:05 UTC");
        assert_eq!(absolute_utc(951_782_400_000), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn rate_limit_says_when() {
        let now = 1_000_000;
        let m = sync_line(now, &SyncState::RateLimited { retry_at_ms: now + 4 * MIN + 1 });
        assert_eq!(m, Msg::with("syncRateLimited", vec!["5".into()]));
        assert_eq!(
            sync_line(now, &SyncState::RateLimited { retry_at_ms: now - 1 }).args,
            vec!["1"]
        );
        assert!(needs_reconnect(&SyncState::AuthExpired));
        assert!(!needs_reconnect(&SyncState::Offline));
    }

    #[test]
    fn amounts_and_dates() {
        assert_eq!(format_amount(1234567.5, Some("BRL")), "BRL 1,234,567.50");
        assert_eq!(format_amount(999.999, None), "1,000.00");
        assert_eq!(format_amount(-12.0, Some("USD")), "USD -12.00");
        assert_eq!(format_amount(f64::NAN, None), "");
        assert_eq!(format_date("2026-04-30"), Some("2026-04-30".into()));
        assert_eq!(format_date("2026-04-30T00:00:00Z"), Some("2026-04-30".into()));
        assert_eq!(format_date("soon"), None);
    }

    #[test]
    fn record_urls_must_be_https_on_the_crm_host() {
        let z = "https://crm.zoho.com/crm/org1/tab/Contacts/123";
        assert_eq!(safe_record_url(Crm::Zoho, z).as_deref(), Some(z));
        assert!(safe_record_url(Crm::Zoho, "https://crm.zoho.eu/crm/tab/Leads/1").is_some());
        assert!(safe_record_url(Crm::Salesforce, "https://acme.my.salesforce.com/003xx").is_some());
        assert!(safe_record_url(
            Crm::Salesforce,
            "https://acme.lightning.force.com/lightning/r/Contact/003/view"
        )
        .is_some());
        assert!(safe_record_url(
            Crm::Leadsquared,
            "https://run.leadsquared.com/LeadManagement/LeadDetails?LeadID=1"
        )
        .is_some());
        for bad in [
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "http://crm.zoho.com/x",
            "https://evil.example/crm.zoho.com",
            "https://crm.zoho.com.evil.example/",
            "https://notzoho.com/",
            "https://crm.zoho.com@evil.example/",
            "https://crm.zoho.com/\u{202E}x",
            "data:text/html,hi",
        ] {
            assert_eq!(safe_record_url(Crm::Zoho, bad), None, "{bad}");
        }
        assert_eq!(safe_record_url(Crm::Leadsquared, "https://crm.zoho.com/x"), None);
    }

    #[test]
    fn bidi_and_zero_width_are_stripped() {
        assert_eq!(clean_text("Ana\u{202E}gnp.exe"), "Anagnp.exe");
        assert_eq!(clean_text("a\u{200B}b\u{2066}c\n"), "abc");
    }

    #[test]
    fn prefill_splits_names_and_ignores_numbers_as_names() {
        let f = prefill("Ana Maria Souza", "+5511987654321");
        assert_eq!(
            (f.first_name.as_str(), f.last_name.as_str(), f.phone.as_str()),
            ("Ana Maria", "Souza", "+5511987654321")
        );
        let f = prefill("+55 11 98765-4321", "+5511987654321");
        assert_eq!((f.first_name.as_str(), f.last_name.as_str()), ("", ""));
        assert_eq!(prefill("Cher", "+1").last_name, "Cher");
    }

    #[test]
    fn form_validation_names_the_field() {
        let ok = prefill("Ana Souza", "+5511987654321");
        assert!(validate_form(&ok, "contact").is_empty());
        let mut f = ok.clone();
        f.last_name = " ".into();
        f.phone = "11 98765".into();
        f.email = "ana@".into();
        let errs = validate_form(&f, "lead");
        let got: Vec<_> = errs.iter().map(|e| (e.field.as_str(), e.key.as_str())).collect();
        assert_eq!(
            got,
            vec![("last_name", "errRequired"), ("phone", "errPhone"), ("email", "errEmail")]
        );
        f = ok;
        f.phone = String::new();
        assert_eq!(validate_form(&f, "contact")[0].key, "errRequired");
    }

    #[test]
    fn settings_defaults_and_validation() {
        let s = Settings::default();
        assert!(s.validate().is_empty());
        let parsed: Settings = serde_json::from_str(r#"{"default_region":"BR"}"#).unwrap();
        assert_eq!(parsed.default_region, "BR");
        assert!(parsed.sync_enabled);
        for bad in ["br", "BRA", "", "B1"] {
            let s = Settings { default_region: bad.into(), ..Settings::default() };
            assert_eq!(s.validate()[0].field, "default_region", "{bad}");
        }
        let s = Settings { search_contacts: false, search_leads: false, ..Settings::default() };
        assert_eq!(s.validate()[0].key, "errNoModule");
    }

    fn chat_with(
        outcome: Option<crate::core::matching::MatchOutcome>,
    ) -> crate::core::sync::ChatRecord {
        use crate::core::model::{CrmRecord, RecordKind, WaIdentity};
        crate::core::sync::ChatRecord {
            identity: WaIdentity {
                phone: Some("+5511987654321".into()),
                lid: None,
                name: "Ana".into(),
                is_group: false,
            },
            matched: outcome,
            cards: vec![CrmRecord {
                crm: Some(Crm::Zoho),
                kind: Some(RecordKind::Contact),
                id: "z1".into(),
                name: "Ana Souza".into(),
                phones: vec![("Mobile".into(), "(11) 98765-4321".into())],
                company: Some("Construtora".into()),
                ..Default::default()
            }],
            deals: (0..7)
                .map(|i| DealRow { name: format!("D{i}"), ..Default::default() })
                .collect(),
            urls: [("z1".to_string(), "https://crm.zoho.com/crm/org/tab/Contacts/z1".to_string())]
                .into(),
            last_synced_at_ms: Some(5),
            ..Default::default()
        }
    }

    #[test]
    fn panel_state_from_the_workers_records() {
        use crate::core::matching::{Candidate as MC, How, MatchOutcome};
        use crate::core::model::{RecordKind, RecordRef};
        let st = crate::core::sync::SyncState::default();
        let zoho = [Crm::Zoho];
        let base = PanelInputs {
            connected: &zoho,
            reconnect: &[],
            chat_key: Some("pn:+5511987654321"),
            chat_name: Some("Ana"),
            chat: None,
            excluded: false,
            state: &st,
            pending_in_chat: 0,
            parked_in_chat: None,
            older_in_chat: None,
            masking: Some(true),
            currencies: &[(Crm::Zoho, "BRL".to_string())],
            saved: &[],
            incoming_texts: &[],
            now_ms: 1000,
        };
        assert_eq!(panel_state(&PanelInputs { connected: &[], ..base }), PanelState::NotConnected);
        assert_eq!(panel_state(&PanelInputs { chat_key: None, ..base }), PanelState::NoChat);
        assert_eq!(panel_state(&base), PanelState::Connecting);
        assert_eq!(
            panel_state(&PanelInputs { excluded: true, ..base }),
            PanelState::Excluded { name: "Ana".into() }
        );
        assert_eq!(
            panel_state(&PanelInputs { chat_key: Some("lid:1@lid"), ..base }),
            PanelState::LidOnly { name: "Ana".into(), suggest: Some("Ana".into()) }
        );
        // A chat without a number is suggested records by an e-mail its contact wrote,
        // else by its name; a username chat (`name:`) is one too.
        let texts = ["thanks!".to_string(), "write to Ana.S@Example.com please".to_string()];
        assert_eq!(
            panel_state(&PanelInputs {
                chat_key: Some("name:ana.s"),
                incoming_texts: &texts,
                ..base
            }),
            PanelState::LidOnly { name: "Ana".into(), suggest: Some("ana.s@example.com".into()) }
        );
        assert_eq!(
            panel_state(&PanelInputs {
                chat_key: Some("lid:1@lid"),
                chat_name: Some("+55 11 98765-4321"),
                ..base
            }),
            PanelState::LidOnly { name: "+55 11 98765-4321".into(), suggest: None },
            "a number shown as a title is no name to search for"
        );
        let r = RecordRef { crm: Crm::Zoho, kind: RecordKind::Contact, id: "z1".into() };
        let linked = chat_with(Some(MatchOutcome::Linked {
            records: vec![MC {
                record: r.clone(),
                name: "Ana Souza".into(),
                how: How::Exact,
                field: None,
            }],
        }));
        // A group: a matched participant carries its record's page from the chat's links.
        let mut group = chat_with(None);
        group.identity.is_group = true;
        group.participants = vec![
            Participant {
                name: "Ana".into(),
                phone: Some("+5511987654321".into()),
                record: Some("Ana Souza (Zoho CRM)".into()),
                linked: Some(r.clone()),
                url: None,
            },
            Participant {
                name: "Devika".into(),
                phone: Some("+919876543210".into()),
                record: None,
                linked: None,
                url: None,
            },
        ];
        match panel_state(&PanelInputs { chat: Some(&group), chat_key: Some("g:1"), ..base }) {
            PanelState::Group { participants, .. } => assert_eq!(
                participants.iter().map(|p| p.url.as_deref()).collect::<Vec<_>>(),
                [Some("https://crm.zoho.com/crm/org/tab/Contacts/z1"), None]
            ),
            other => panic!("{other:?}"),
        }
        match panel_state(&PanelInputs { chat: Some(&linked), pending_in_chat: 2, ..base }) {
            PanelState::Linked { card, deals, last_synced_ms, sync, .. } => {
                assert_eq!(
                    (card.name.as_str(), card.company.as_deref(), card.phones.len()),
                    ("Ana Souza", Some("Construtora"), 1)
                );
                assert_eq!(
                    card.url.as_deref(),
                    Some("https://crm.zoho.com/crm/org/tab/Contacts/z1")
                );
                assert_eq!(deals.len(), MAX_DEALS);
                assert_eq!(deals[0].currency.as_deref(), Some("BRL"), "the org's home currency");
                assert_eq!(last_synced_ms, Some(5));
                assert_eq!(sync, SyncState::Pending { count: 2 });
            }
            other => panic!("{other:?}"),
        }
        let linked_state = |i: &PanelInputs| match panel_state(i) {
            PanelState::Linked { sync, .. } => sync,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            linked_state(&PanelInputs { chat: Some(&linked), reconnect: &zoho, ..base }),
            SyncState::AuthExpired
        );
        let limited =
            crate::core::sync::SyncState { retry_not_before_ms: Some(9000), ..Default::default() };
        assert_eq!(
            linked_state(&PanelInputs { chat: Some(&linked), state: &limited, ..base }),
            SyncState::RateLimited { retry_at_ms: 9000 }
        );
        assert_eq!(
            linked_state(&PanelInputs {
                chat: Some(&linked),
                parked_in_chat: Some("NO_PERMISSION: Notes"),
                ..base
            }),
            SyncState::MissingPermission { permission: "NO_PERMISSION: Notes".into() }
        );
        let offline = crate::core::sync::SyncState {
            last_error: Some("Zoho CRM: no response from the CRM".into()),
            ..Default::default()
        };
        assert_eq!(
            linked_state(&PanelInputs {
                chat: Some(&linked),
                state: &offline,
                pending_in_chat: 1,
                ..base
            }),
            SyncState::Offline
        );
        assert_eq!(linked_state(&PanelInputs { chat: Some(&linked), ..base }), SyncState::Idle);
        assert_eq!(
            older_line(&crate::core::outbox::OlderMessages {
                count: 3,
                first_day: "2026-11-10".into(),
                last_day: "2026-11-10".into()
            }),
            Msg::with("olderMessagesOneDay", vec!["3".into(), "2026-11-10".into()])
        );
        // Older messages are offered, and never counted as pending.
        let older = crate::core::outbox::OlderMessages {
            count: 14,
            first_day: "2026-11-10".into(),
            last_day: "2026-11-12".into(),
        };
        match panel_state(&PanelInputs { chat: Some(&linked), older_in_chat: Some(&older), ..base })
        {
            PanelState::Linked { sync, older: Some(o), .. } => {
                assert_eq!((sync, o.count), (SyncState::Idle, 14))
            }
            other => panic!("{other:?}"),
        }
        let nomatch = chat_with(Some(MatchOutcome::NoMatch { reason: "none".into() }));
        assert_eq!(
            panel_state(&PanelInputs { chat: Some(&nomatch), ..base }),
            PanelState::Unknown {
                name: "Ana".into(),
                phone: "+5511987654321".into(),
                crms: vec![Crm::Zoho]
            }
        );
        let two = vec![
            MC {
                record: r.clone(),
                name: "A".into(),
                how: How::Exact,
                field: Some(("Mobile".into(), "1".into())),
            },
            MC {
                record: RecordRef { id: "z2".into(), ..r.clone() },
                name: "B".into(),
                how: How::Exact,
                field: None,
            },
        ];
        let amb = chat_with(Some(MatchOutcome::Ambiguous { candidates: two }));
        match panel_state(&PanelInputs { chat: Some(&amb), ..base }) {
            PanelState::Ambiguous { candidates, .. } => assert_eq!(
                (candidates.len(), candidates[0].matched_on.clone()),
                (2, Some(("Mobile".to_string(), "1".to_string())))
            ),
            other => panic!("{other:?}"),
        }
        let mut group = chat_with(None);
        group.identity.is_group = true;
        group.identity.name = "Obra Paulista".into();
        group.links = vec![r];
        match panel_state(&PanelInputs { chat: Some(&group), ..base }) {
            PanelState::Group { name, backup_to, .. } => assert_eq!(
                (name.as_str(), backup_to[0].name.as_str(), backup_to[0].kind.as_str()),
                ("Obra Paulista", "Ana Souza", "contact")
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn panel_state_json_round_trips() {
        let j = r#"{"view":"linked","card":{"crm":"zoho","kind":"contact","name":"Ana"},"last_synced_ms":null,"sync":{"state":"pending","count":3}}"#;
        let s: PanelState = serde_json::from_str(j).unwrap();
        match &s {
            PanelState::Linked { card, deals, sync, .. } => {
                assert_eq!(card.name, "Ana");
                assert!(deals.is_empty());
                assert_eq!(*sync, SyncState::Pending { count: 3 });
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            serde_json::from_str::<PanelState>(r#"{"view":"not_connected"}"#).unwrap(),
            PanelState::NotConnected
        );
    }
}
