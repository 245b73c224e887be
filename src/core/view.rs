//! The Mini-CRM panel's pure view model: what the panel shows for a chat, plus the
//! formatting (relative time, amounts, dates), link safety and form validation it needs.
//!
//! The service worker fills a [`PanelState`] (today from `chrome.storage.local`, later from
//! matching and the sync engine); the panel frame only renders it. Every user-visible string
//! is an i18n message key (`extension/_locales/en/messages.json`) with substitutions, so the
//! shell translates through `chrome.i18n` and this module stays testable natively.
use crate::core::model::Crm;
use serde::{Deserialize, Serialize};

/// One deal / opportunity row on the card (at most [`MAX_DEALS`] are shown).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DealRow {
    pub name: String,
    pub stage: Option<String>,
    /// Amount in the deal's currency units.
    pub amount: Option<f64>,
    pub currency: Option<String>,
    /// `YYYY-MM-DD`.
    pub close_date: Option<String>,
}

pub const MAX_DEALS: usize = 5;

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
    Pending { count: u32 },
    /// The CRM token is no longer valid: reconnect in the options page.
    AuthExpired,
    /// The CRM user lacks a permission (named as the CRM names it).
    MissingPermission { permission: String },
    /// The CRM's API limit was hit; retrying at `retry_at_ms` (epoch ms).
    RateLimited { retry_at_ms: i64 },
    Offline,
    /// Anything else, in plain words from the connector.
    Failed { reason: String },
}

/// A CRM record offered in a chooser or search result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub crm: Crm,
    pub kind: String,
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub detail: Option<String>,
}

/// A group participant linked to a CRM record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    pub name: String,
    pub phone: Option<String>,
    pub record: Option<String>,
}

/// Everything the panel can show for the open chat.
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
    },
    /// A number with no CRM match: create forms prefilled, and link-existing search.
    Unknown { name: String, phone: String, crms: Vec<Crm> },
    Ambiguous { name: String, candidates: Vec<Candidate> },
    Group { name: String, participants: Vec<Participant>, backup_to: Vec<String> },
    /// A `@lid` chat: WhatsApp hides the number, so only a manual link works.
    LidOnly { name: String },
    CaptureBlocked { reason: String },
    /// The rep excluded this chat from sync in the options.
    Excluded { name: String },
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
        SyncState::MissingPermission { permission } => Msg::with("syncMissingPermission", vec![permission.clone()]),
        SyncState::RateLimited { retry_at_ms } => {
            let mins = ((retry_at_ms - now_ms).max(0) + 59_999) / 60_000;
            Msg::with("syncRateLimited", vec![mins.max(1).to_string()])
        }
        SyncState::Offline => Msg::new("syncOffline"),
        SyncState::Failed { reason } => Msg::with("syncFailed", vec![reason.clone()]),
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

// Howard Hinnant's days-from-civil inverse: exact for the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A close date as the CRM gave it, kept only when it is a plain `YYYY-MM-DD` date.
pub fn format_date(raw: &str) -> Option<String> {
    let b = raw.as_bytes();
    let ok = b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    ok.then(|| raw[..10].to_string())
}

/// The hosts a CRM's record pages live on.
fn crm_host_ok(crm: Crm, host: &str) -> bool {
    let under = |suffix: &str| host == suffix || host.ends_with(&format!(".{suffix}"));
    match crm {
        Crm::Zoho => ["zoho.com", "zoho.eu", "zoho.in", "zoho.com.au", "zoho.jp", "zohocloud.ca", "zoho.sa", "zoho.uk", "zoho.com.cn"]
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
    let is_number = !name.is_empty() && name.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
    let (first, last) = if is_number || name.is_empty() {
        (String::new(), String::new())
    } else {
        match name.rsplit_once(' ') {
            Some((f, l)) => (f.trim().to_string(), l.trim().to_string()),
            None => (String::new(), name.to_string()),
        }
    };
    RecordForm { first_name: first, last_name: last, phone: phone.to_string(), ..Default::default() }
}

/// Validate a create form. Last name and phone are required by all three CRMs (LeadSquared
/// accepts a lead without one, but the chat needs the number to link back).
pub fn validate_form(f: &RecordForm, kind: &str) -> Vec<FieldError> {
    let mut errs = vec![];
    let mut err = |field: &str, key: &str| errs.push(FieldError { field: field.into(), key: key.into() });
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
    } else if !p.starts_with('+') || digits < 8 || digits > 15 || p.chars().any(|c| !(c.is_ascii_digit() || " +-()".contains(c))) {
        err("phone", "errPhone");
    }
    let e = f.email.trim();
    if !e.is_empty() {
        let ok = e.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
            && !e.chars().any(char::is_whitespace);
        if !ok {
            err("email", "errEmail");
        }
    }
    if kind == "lead" && f.company.chars().count() > 200 {
        err("company", "errTooLong");
    }
    errs
}

/// The rep's settings, stored by the worker under `chrome.storage.local["settings"]`.
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
        }
    }
}

impl Settings {
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = vec![];
        let r = &self.default_region;
        if r.len() != 2 || !r.bytes().all(|b| b.is_ascii_uppercase()) {
            errs.push(FieldError { field: "default_region".into(), key: "errRegion".into() });
        }
        if !self.search_contacts && !self.search_leads {
            errs.push(FieldError { field: "search_contacts".into(), key: "errNoModule".into() });
        }
        errs
    }
}

/// The panel state from what the worker has stored. The seam where matching and sync plug in:
/// today it reads `chrome.storage.local["connections"]` (`{ "zoho": {"connected": true}, ... }`)
/// and `chrome.storage.local["panel_cache"]` (`{ chat_key: PanelState }`, written by matching/sync).
pub fn panel_view(connections: &serde_json::Value, cache: &serde_json::Value, chat: Option<&str>) -> PanelState {
    let any_connected = connections
        .as_object()
        .is_some_and(|m| m.values().any(|c| c.get("connected").and_then(|v| v.as_bool()) == Some(true)));
    if !any_connected {
        return PanelState::NotConnected;
    }
    let Some(chat) = chat else { return PanelState::NoChat };
    match cache.get(chat).map(|v| serde_json::from_value::<PanelState>(v.clone())) {
        Some(Ok(mut state)) => {
            if let PanelState::Linked { deals, .. } = &mut state {
                deals.truncate(MAX_DEALS);
            }
            state
        }
        // Not looked up yet (or an unreadable entry): the lookup is under way.
        _ => PanelState::Connecting,
    }
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
        assert_eq!(last_synced(now, Some(now - 2 * MIN - 10)), Msg::with("syncedMinutesAgo", vec!["2".into()]));
        assert_eq!(last_synced(now, Some(now - 3 * 60 * MIN)), Msg::with("syncedHoursAgo", vec!["3".into()]));
        assert_eq!(last_synced(now, Some(now - 49 * 60 * MIN)), Msg::with("syncedDaysAgo", vec!["2".into()]));
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
        assert_eq!(sync_line(now, &SyncState::RateLimited { retry_at_ms: now - 1 }).args, vec!["1"]);
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
        assert!(safe_record_url(Crm::Salesforce, "https://acme.lightning.force.com/lightning/r/Contact/003/view").is_some());
        assert!(safe_record_url(Crm::Leadsquared, "https://run.leadsquared.com/LeadManagement/LeadDetails?LeadID=1").is_some());
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
        assert_eq!((f.first_name.as_str(), f.last_name.as_str(), f.phone.as_str()), ("Ana Maria", "Souza", "+5511987654321"));
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
        assert_eq!(got, vec![("last_name", "errRequired"), ("phone", "errPhone"), ("email", "errEmail")]);
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

    #[test]
    fn panel_view_from_storage() {
        use serde_json::json;
        let none = json!({});
        assert_eq!(panel_view(&none, &none, Some("pn:+1")), PanelState::NotConnected);
        let off = json!({"zoho": {"connected": false}});
        assert_eq!(panel_view(&off, &none, Some("pn:+1")), PanelState::NotConnected);
        let on = json!({"zoho": {"connected": true}});
        assert_eq!(panel_view(&on, &none, None), PanelState::NoChat);
        assert_eq!(panel_view(&on, &none, Some("pn:+1")), PanelState::Connecting);
        let deals: Vec<_> = (0..7).map(|i| json!({"name": format!("D{i}")})).collect();
        let cache = json!({"pn:+1": {"view":"linked","card":{"crm":"zoho","kind":"contact","name":"Ana"},
            "deals": deals, "last_synced_ms": 1, "sync": {"state":"idle"}}});
        match panel_view(&on, &cache, Some("pn:+1")) {
            PanelState::Linked { deals, .. } => assert_eq!(deals.len(), MAX_DEALS),
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
        assert_eq!(serde_json::from_str::<PanelState>(r#"{"view":"not_connected"}"#).unwrap(), PanelState::NotConnected);
    }
}
