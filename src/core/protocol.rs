//! Typed messages between the content script, extension pages and the service worker,
//! and the rule for who may send what (the worker holds tokens; the page must not reach them).
use crate::core::model::{Message, WaIdentity};
use serde::{Deserialize, Serialize};

/// A request to the service worker. Unknown kinds fail to parse and are rejected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Request {
    /// The content script started on a WhatsApp Web page.
    Hello { wasm: bool },
    /// The content script could not run a stage (e.g. the page CSP blocked wasm).
    ContentError { stage: String, error: String },
    /// Overall state for the panel and popup.
    Status,
    /// Messages the content script captured in the open chat (new, re-rendered or edited).
    Captured { identity: WaIdentity, messages: Vec<Message> },
    /// Run a sync cycle now instead of waiting for the alarm.
    SyncNow,
    /// All captured data and the sync log as JSON (never tokens or keys).
    Export,
    /// Change the sync period (tests and the demo shorten it; the product default is 3).
    SetSyncPeriod { minutes: f64 },
    /// Strict-CSP fallback: the content script could not run wasm and relays the chat's
    /// HTML; the panel frame of the same tab parses it. The worker only acknowledges it.
    Relay { header: String, rows: String, locale: String },
    /// Connect a CRM with pasted credentials (options page only; the worker keeps them).
    Connect { credentials: crate::crm::connect::Credentials },
    /// Connect a CRM by signing in through the browser (OAuth; options page only).
    OauthConnect { start: crate::crm::connect::OAuthStart },
    /// The Mini-CRM view for a chat (its `WaIdentity::chat_key`, and the title the page
    /// shows), answered with a `view::PanelState`.
    PanelView {
        chat: Option<String>,
        #[serde(default)]
        name: Option<String>,
    },
    /// Panel actions, answered with `ActionReply`.
    CreateRecord { chat: String, crm: crate::core::model::Crm, record_kind: String, fields: crate::core::view::RecordForm },
    LinkRecord { chat: String, record: crate::core::model::RecordRef },
    Unlink { chat: String },
    SearchRecords { query: String },
    ChooseCandidate { chat: String, record: crate::core::model::RecordRef },
    /// Back up this chat's messages from before the backup window too (the rep's choice).
    BackUpOlder { chat: String },
    /// Exclude a chat from capture and sync (or include it again).
    ExcludeChat { chat: String, excluded: bool },
    /// Options page: the rep's settings, and saving them (answered with `ActionReply`).
    GetSettings,
    SaveSettings { settings: crate::core::view::Settings },
    /// Options page: forget a CRM's credentials.
    Disconnect { crm: crate::core::model::Crm },
    /// Options page: capture counters, last errors, API budget, connections.
    Diagnostics,
    /// The content script's capture counters (rows seen, parsed, skipped and why).
    CaptureStats { counters: crate::capture::Counters },
    /// The titles of chats already captured (the guided backfill skips them).
    KnownChats,
    /// A file of a captured message, copied from the page (`data_b64`), or why it was not.
    File {
        message_key: String,
        index: u16,
        name: String,
        mime: String,
        size: u64,
        data_b64: Option<String>,
        error: Option<String>,
    },
}

/// The worker's answer to a panel action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionReply {
    pub ok: bool,
    /// i18n key of the error, when not ok.
    pub error: Option<String>,
    /// Per-field errors from the CRM (field, i18n key or CRM message).
    #[serde(default)]
    pub field_errors: Vec<crate::core::view::FieldError>,
    /// Search results (link existing record).
    #[serde(default)]
    pub candidates: Vec<crate::core::view::Candidate>,
}

impl ActionReply {
    pub fn ok() -> Self {
        ActionReply { ok: true, error: None, field_errors: vec![], candidates: vec![] }
    }
    pub fn err(e: impl Into<String>) -> Self {
        ActionReply { ok: false, error: Some(e.into()), field_errors: vec![], candidates: vec![] }
    }
}

/// Where a runtime message came from, as far as the worker can tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sender {
    /// A content script of this extension running in a WhatsApp Web tab.
    WhatsAppTab,
    /// One of this extension's own pages (panel frame, popup, options).
    ExtensionPage,
    /// Anything else: another extension, or an unexpected page.
    Foreign,
}

/// Classify a `chrome.runtime.MessageSender` from its fields.
pub fn classify_sender(own_id: &str, sender_id: Option<&str>, url: Option<&str>, in_tab: bool) -> Sender {
    if sender_id != Some(own_id) {
        return Sender::Foreign;
    }
    let url = url.unwrap_or("");
    if in_tab && url.starts_with("https://web.whatsapp.com/") {
        return Sender::WhatsAppTab;
    }
    let own_origin = format!("chrome-extension://{own_id}/");
    if url.starts_with(&own_origin) {
        return Sender::ExtensionPage;
    }
    Sender::Foreign
}

/// May `sender` make `request`? Content scripts live beside a page we do not control,
/// so they get only what capture needs; extension pages get the rest.
pub fn authorize(request: &Request, sender: &Sender) -> Result<(), String> {
    match (sender, request) {
        (Sender::Foreign, _) => Err("message from an unexpected sender rejected".into()),
        (Sender::ExtensionPage, _) => Ok(()),
        (Sender::WhatsAppTab, Request::Hello { .. } | Request::ContentError { .. }) => Ok(()),
        (Sender::WhatsAppTab, Request::Status | Request::Captured { .. } | Request::SyncNow | Request::Relay { .. } | Request::CaptureStats { .. } | Request::KnownChats | Request::File { .. }) => Ok(()),
        // The export holds every captured message: only the extension's own pages get it.
        (Sender::WhatsAppTab, Request::Export) => Err("export is only available to the extension's pages".into()),
        // Credentials never pass through a page we do not control.
        (Sender::WhatsAppTab, Request::Connect { .. } | Request::OauthConnect { .. }) => Err("connecting a CRM is only available to the extension's pages".into()),
        (Sender::WhatsAppTab, Request::SetSyncPeriod { .. }) => Err("settings are only available to the extension's pages".into()),
        // CRM data and actions are for the extension's own pages only.
        (Sender::WhatsAppTab, _) => Err("panel requests are for extension pages only".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tagged_requests() {
        let r: Request = serde_json::from_str(r#"{"kind":"hello","wasm":true}"#).unwrap();
        assert_eq!(r, Request::Hello { wasm: true });
        assert!(serde_json::from_str::<Request>(r#"{"kind":"steal_tokens"}"#).is_err());
        // Before: every WhatsApp page load asked the worker for an unauthenticated
        // `GET /crm/v8/org` "reachability" probe. There is no such request any more.
        assert!(serde_json::from_str::<Request>(r#"{"kind":"check_reachability","crm":"zoho"}"#).is_err());
    }

    #[test]
    fn senders_are_classified() {
        let id = "abc";
        assert_eq!(classify_sender(id, Some("zzz"), Some("https://web.whatsapp.com/"), true), Sender::Foreign);
        assert_eq!(classify_sender(id, Some(id), Some("https://web.whatsapp.com/"), true), Sender::WhatsAppTab);
        assert_eq!(classify_sender(id, Some(id), Some("https://evil.example/"), true), Sender::Foreign);
        assert_eq!(
            classify_sender(id, Some(id), Some("chrome-extension://abc/panel.html"), true),
            Sender::ExtensionPage
        );
        assert_eq!(
            classify_sender(id, Some(id), Some("chrome-extension://other/panel.html"), false),
            Sender::Foreign
        );
    }

    #[test]
    fn foreign_senders_are_rejected() {
        assert!(authorize(&Request::Status, &Sender::Foreign).is_err());
        assert!(authorize(&Request::Status, &Sender::ExtensionPage).is_ok());
        let view = Request::PanelView { chat: Some("pn:+5511987654321".into()), name: None };
        assert!(authorize(&view, &Sender::WhatsAppTab).is_err());
        assert!(authorize(&view, &Sender::ExtensionPage).is_ok());
        let r: Request = serde_json::from_str(r#"{"kind":"panel_view","chat":"pn:+1"}"#).unwrap();
        assert_eq!(r, Request::PanelView { chat: Some("pn:+1".into()), name: None });
        for settings_or_data in [Request::BackUpOlder { chat: "pn:+1".into() }, Request::GetSettings, Request::Diagnostics, Request::Disconnect { crm: crate::core::model::Crm::Zoho }, Request::ExcludeChat { chat: "pn:+1".into(), excluded: true }] {
            assert!(authorize(&settings_or_data, &Sender::WhatsAppTab).is_err(), "{settings_or_data:?}");
            assert!(authorize(&settings_or_data, &Sender::ExtensionPage).is_ok());
        }
        assert!(authorize(&Request::Export, &Sender::WhatsAppTab).is_err());
        assert!(authorize(&Request::Export, &Sender::ExtensionPage).is_ok());
        let connect: Request = serde_json::from_str(
            r#"{"kind":"connect","credentials":{"crm":"leadsquared","access_key":"a","secret_key":"b"}}"#,
        )
        .unwrap();
        assert!(authorize(&connect, &Sender::WhatsAppTab).is_err());
        assert!(authorize(&connect, &Sender::ExtensionPage).is_ok());
    }
}
