//! Typed messages between the content script, extension pages and the service worker,
//! and the rule for who may send what (the worker holds tokens; the page must not reach them).
pub mod limits;

use crate::core::model::{Message, WaIdentity};
use serde::{Deserialize, Serialize};

/// A request to the service worker. Unknown kinds fail to parse and are rejected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Request {
    /// The content script started on a WhatsApp Web page.
    Hello {
        wasm: bool,
    },
    /// The content script could not run a stage (e.g. the page CSP blocked wasm).
    ContentError {
        stage: String,
        error: String,
    },
    /// Overall state for the panel and popup.
    Status,
    /// Messages the content script captured in the open chat (new, re-rendered or edited).
    Captured {
        identity: WaIdentity,
        messages: Vec<Message>,
    },
    /// Run a sync cycle now instead of waiting for the alarm.
    SyncNow,
    /// All captured data and the sync log as JSON (never tokens or keys).
    Export,
    /// Change the sync period (tests and the demo shorten it; the product default is 3).
    SetSyncPeriod {
        minutes: f64,
    },
    /// Strict-CSP fallback: the content script could not run wasm and relays the chat's
    /// HTML; the panel frame of the same tab parses it. The worker only acknowledges it.
    Relay {
        header: String,
        rows: String,
        locale: String,
    },
    /// Connect a CRM with pasted credentials (options page only; the worker keeps them).
    Connect {
        credentials: crate::crm::connect::Credentials,
    },
    /// Connect a CRM by signing in through the browser (OAuth; options page only).
    OauthConnect {
        start: crate::crm::connect::OAuthStart,
    },
    /// The Mini-CRM view for a chat (its `WaIdentity::chat_key`, and the title the page
    /// shows), answered with a `view::PanelState`.
    PanelView {
        chat: Option<String>,
        #[serde(default)]
        name: Option<String>,
    },
    /// Panel actions, answered with `ActionReply`.
    CreateRecord {
        chat: String,
        crm: crate::core::model::Crm,
        record_kind: String,
        fields: crate::core::view::RecordForm,
    },
    LinkRecord {
        chat: String,
        record: crate::core::model::RecordRef,
    },
    Unlink {
        chat: String,
    },
    SearchRecords {
        query: String,
    },
    ChooseCandidate {
        chat: String,
        record: crate::core::model::RecordRef,
    },
    /// Back up this chat's messages from before the backup window too (the rep's choice).
    BackUpOlder {
        chat: String,
    },
    /// Exclude a chat from capture and sync (or include it again).
    ExcludeChat {
        chat: String,
        excluded: bool,
    },
    /// Options page: the rep's settings, and saving them (answered with `ActionReply`).
    GetSettings,
    SaveSettings {
        settings: crate::core::view::Settings,
    },
    /// Options page: forget a CRM's credentials.
    Disconnect {
        crm: crate::core::model::Crm,
    },
    /// Options page: capture counters, last errors, API budget, connections.
    Diagnostics,
    /// The content script's capture counters (rows seen, parsed, skipped and why).
    CaptureStats {
        counters: crate::capture::Counters,
    },
    /// The titles of chats already captured (the guided backfill skips them). Extension
    /// pages only: it names every chat.
    KnownChats,
    /// Of these chat-list titles (the page shows them), the ones not captured yet: what the
    /// content script's guided backfill needs, without learning any other chat's name.
    UnknownChats {
        titles: Vec<String>,
    },
    /// Content script: it inserted its panel frame and will hand it this nonce (worker only).
    PanelRegister {
        nonce: String,
        /// Strict-CSP fallback: why wasm could not run in the content script.
        #[serde(default)]
        blocked: Option<String>,
    },
    /// Content script: the chat now open in its tab (and WhatsApp's theme).
    ChatOpened {
        identity: WaIdentity,
        #[serde(default)]
        theme: Option<String>,
    },
    /// Panel frame: the nonce its content script handed it; binds this frame to its tab.
    PanelClaim {
        nonce: String,
    },
    /// Panel frame: everything it shows, for the chat the worker knows for its tab.
    PanelSync,
    /// Content script: the guided backfill's progress, for its own panel frame.
    BackfillProgress {
        progress: crate::capture::backfill::Progress,
    },
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
    /// A content script of this extension running in a WhatsApp Web tab (`frame` 0 = top).
    WhatsAppTab { tab: i64, frame: i64 },
    /// The panel page (web-accessible, so the page can load it too) inside a tab.
    PanelFrame { tab: i64, frame: i64 },
    /// One of this extension's own pages that no website can load (popup, options).
    ExtensionPage,
    /// Anything else: another extension, or an unexpected page.
    Foreign,
}

/// Classify a `chrome.runtime.MessageSender` from its fields.
pub fn classify_sender(
    own_id: &str,
    sender_id: Option<&str>,
    url: Option<&str>,
    tab: Option<i64>,
    frame: Option<i64>,
) -> Sender {
    if sender_id != Some(own_id) {
        return Sender::Foreign;
    }
    let url = url.unwrap_or("");
    if let Some(tab) = tab {
        if url.starts_with("https://web.whatsapp.com/") {
            return Sender::WhatsAppTab { tab, frame: frame.unwrap_or(-1) };
        }
    }
    let own_origin = format!("chrome-extension://{own_id}/");
    let Some(path) = url.strip_prefix(&own_origin) else { return Sender::Foreign };
    let page = path.split(['#', '?']).next().unwrap_or("");
    if page == "panel.html" {
        // A panel not inside a tab cannot exist; one in a tab may have been made by the page.
        return match tab {
            Some(tab) => Sender::PanelFrame { tab, frame: frame.unwrap_or(-1) },
            None => Sender::Foreign,
        };
    }
    Sender::ExtensionPage
}

/// What the worker keeps per WhatsApp tab: the content script's panel nonce, the panel frame
/// that presented it, and the chat the content script says is open.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TabRecord {
    pub nonce: String,
    /// The frame that claimed the nonce (one claim per nonce).
    pub frame: Option<i64>,
    pub chat: Option<WaIdentity>,
    /// The chat open before (its last messages may still be on their way).
    #[serde(default)]
    pub previous_chat: Option<String>,
    #[serde(default)]
    pub theme: Option<String>,
    /// Why the content script could not run wasm, when it could not.
    #[serde(default)]
    pub blocked: Option<String>,
}

impl TabRecord {
    /// A new panel nonce from the content script: a fresh record (a reloaded page's panel is new).
    pub fn register(nonce: &str) -> TabRecord {
        TabRecord { nonce: nonce.to_string(), ..Default::default() }
    }

    /// A panel frame presents a nonce: the first frame with the right one is bound.
    pub fn claim(&mut self, frame: i64, nonce: &str) -> Result<(), String> {
        if self.nonce.is_empty() || !constant_time_eq(self.nonce.as_bytes(), nonce.as_bytes()) {
            return Err("this panel frame was not inserted by crmsync".into());
        }
        match self.frame {
            Some(f) if f != frame => {
                Err("this tab's panel is already bound to another frame".into())
            }
            _ => {
                self.frame = Some(frame);
                Ok(())
            }
        }
    }

    pub fn bound_to(&self, frame: i64) -> bool {
        self.frame == Some(frame)
    }

    pub fn chat_key(&self) -> Option<String> {
        self.chat.as_ref().map(|c| c.chat_key())
    }

    /// Another chat opened in the tab.
    pub fn open(&mut self, identity: WaIdentity) {
        let prev = self.chat_key();
        if prev.as_deref() != Some(identity.chat_key().as_str()) {
            self.previous_chat = prev;
        }
        self.chat = Some(identity);
    }

    /// Messages of this chat may come from the tab: the open one, or the one just left.
    pub fn accepts_messages_of(&self, chat_key: &str) -> bool {
        self.chat_key().as_deref() == Some(chat_key)
            || self.previous_chat.as_deref() == Some(chat_key)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The chat a panel action names.
fn action_chat(request: &Request) -> Option<&str> {
    match request {
        Request::CreateRecord { chat, .. }
        | Request::LinkRecord { chat, .. }
        | Request::Unlink { chat }
        | Request::ChooseCandidate { chat, .. }
        | Request::ExcludeChat { chat, .. }
        | Request::BackUpOlder { chat } => Some(chat),
        _ => None,
    }
}

/// May `sender` make `request`? `tab` is what the worker keeps for the sender's tab.
/// Content scripts live beside a page we do not control, so they get only what capture
/// needs; a panel frame gets its own tab's chat and actions on that chat, and only when it
/// is the frame the content script inserted; the extension's other pages get the rest.
pub fn authorize(
    request: &Request,
    sender: &Sender,
    tab: Option<&TabRecord>,
) -> Result<(), String> {
    use Request as R;
    match sender {
        Sender::Foreign => Err("message from an unexpected sender rejected".into()),
        Sender::ExtensionPage => match request {
            R::PanelRegister { .. }
            | R::ChatOpened { .. }
            | R::BackfillProgress { .. }
            | R::UnknownChats { .. } => Err("for the content script only".into()),
            R::PanelClaim { .. } | R::PanelSync => Err("for the panel frame only".into()),
            _ => Ok(()),
        },
        Sender::WhatsAppTab { frame, .. } => {
            if *frame != 0 {
                return Err("content script requests come from the top frame only".into());
            }
            match request {
                R::Hello { .. }
                | R::ContentError { .. }
                | R::PanelRegister { .. }
                | R::ChatOpened { .. } => Ok(()),
                R::CaptureStats { .. }
                | R::File { .. }
                | R::Relay { .. }
                | R::BackfillProgress { .. }
                | R::UnknownChats { .. } => Ok(()),
                R::Captured { identity, .. } => match tab {
                    Some(t) if t.accepts_messages_of(&identity.chat_key()) => Ok(()),
                    _ => {
                        Err("captured messages are taken for the chat open in the tab only".into())
                    }
                },
                // The export holds every captured message: only the extension's own pages get it.
                R::Export => Err("export is only available to the extension's pages".into()),
                // Credentials never pass through a page we do not control.
                R::Connect { .. } | R::OauthConnect { .. } => {
                    Err("connecting a CRM is only available to the extension's pages".into())
                }
                R::SetSyncPeriod { .. } => {
                    Err("settings are only available to the extension's pages".into())
                }
                // Status, SyncNow, KnownChats, CRM data and actions: not for a content script.
                _ => Err("not available to the content script".into()),
            }
        }
        Sender::PanelFrame { frame, .. } => {
            if let R::PanelClaim { .. } = request {
                return Ok(()); // the handler checks the nonce
            }
            let Some(t) = tab.filter(|t| t.bound_to(*frame)) else {
                return Err("this panel frame was not inserted by crmsync".into());
            };
            match request {
                R::PanelSync | R::SyncNow | R::SearchRecords { .. } | R::ChatOpened { .. } => {
                    Ok(())
                }
                R::Captured { identity, .. } if t.accepts_messages_of(&identity.chat_key()) => {
                    Ok(())
                }
                _ => match action_chat(request) {
                    Some(chat) if t.chat_key().as_deref() == Some(chat) => Ok(()),
                    Some(_) => {
                        Err("the action names another chat than the one open in this tab".into())
                    }
                    None => Err("not available to the panel".into()),
                },
            }
        }
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
        assert!(serde_json::from_str::<Request>(r#"{"kind":"check_reachability","crm":"zoho"}"#)
            .is_err());
    }

    fn wa() -> Sender {
        Sender::WhatsAppTab { tab: 7, frame: 0 }
    }
    fn ident(phone: &str) -> WaIdentity {
        WaIdentity { phone: Some(phone.into()), lid: None, name: "Ana".into(), is_group: false }
    }
    fn captured(phone: &str) -> Request {
        Request::Captured { identity: ident(phone), messages: vec![] }
    }

    #[test]
    fn senders_are_classified() {
        let id = "abc";
        assert_eq!(
            classify_sender(id, Some("zzz"), Some("https://web.whatsapp.com/"), Some(1), Some(0)),
            Sender::Foreign
        );
        assert_eq!(
            classify_sender(id, Some(id), Some("https://web.whatsapp.com/"), Some(1), Some(0)),
            Sender::WhatsAppTab { tab: 1, frame: 0 }
        );
        assert_eq!(
            classify_sender(id, Some(id), Some("https://evil.example/"), Some(1), Some(0)),
            Sender::Foreign
        );
        assert_eq!(
            classify_sender(
                id,
                Some(id),
                Some("chrome-extension://abc/panel.html#chat=x"),
                Some(3),
                Some(9)
            ),
            Sender::PanelFrame { tab: 3, frame: 9 }
        );
        assert_eq!(
            classify_sender(id, Some(id), Some("chrome-extension://abc/panel.html"), None, None),
            Sender::Foreign
        );
        assert_eq!(
            classify_sender(
                id,
                Some(id),
                Some("chrome-extension://abc/popup.html"),
                Some(3),
                Some(0)
            ),
            Sender::ExtensionPage
        );
        assert_eq!(
            classify_sender(id, Some(id), Some("chrome-extension://abc/options.html"), None, None),
            Sender::ExtensionPage
        );
        assert_eq!(
            classify_sender(id, Some(id), Some("chrome-extension://other/panel.html"), None, None),
            Sender::Foreign
        );
        assert_eq!(
            classify_sender(id, Some(id), Some("chrome-extension://abcd/popup.html"), None, None),
            Sender::Foreign
        );
    }

    #[test]
    fn the_content_script_gets_only_what_capture_needs() {
        let mut tab = TabRecord::register("n0nce-0123456789abcdef");
        tab.open(ident("+5511987654321"));
        for denied in [
            Request::SyncNow,
            Request::Status,
            Request::KnownChats,
            Request::Export,
            Request::GetSettings,
            Request::Diagnostics,
            Request::PanelSync,
            Request::PanelView { chat: None, name: None },
            Request::Unlink { chat: "pn:+5511987654321".into() },
            Request::SearchRecords { query: "ana".into() },
        ] {
            assert!(authorize(&denied, &wa(), Some(&tab)).is_err(), "{denied:?}");
        }
        for allowed in [
            Request::Hello { wasm: true },
            Request::ChatOpened { identity: ident("+1"), theme: None },
            Request::UnknownChats { titles: vec![] },
            Request::PanelRegister { nonce: "x".into(), blocked: None },
        ] {
            assert!(authorize(&allowed, &wa(), Some(&tab)).is_ok(), "{allowed:?}");
        }
        // Captured: the open chat only (and the one just left), never any identity.
        assert!(authorize(&captured("+5511987654321"), &wa(), Some(&tab)).is_ok());
        assert!(authorize(&captured("+14155552671"), &wa(), Some(&tab)).is_err());
        assert!(authorize(&captured("+5511987654321"), &wa(), None).is_err());
        tab.open(ident("+14155552671"));
        assert!(authorize(&captured("+5511987654321"), &wa(), Some(&tab)).is_ok());
        tab.open(ident("+447700900123"));
        assert!(authorize(&captured("+5511987654321"), &wa(), Some(&tab)).is_err());
        // A content script in a sub-frame is not the one that inserted the panel.
        assert!(authorize(
            &Request::Hello { wasm: true },
            &Sender::WhatsAppTab { tab: 7, frame: 3 },
            Some(&tab)
        )
        .is_err());
    }

    #[test]
    fn panel_frames_the_content_script_did_not_insert_get_nothing() {
        let mut tab = TabRecord::register("secret-nonce-abcdefghijkl");
        tab.open(ident("+5511987654321"));
        let ours = Sender::PanelFrame { tab: 7, frame: 4 };
        let theirs = Sender::PanelFrame { tab: 7, frame: 5 };
        // Before any claim, nobody is served.
        assert!(authorize(&Request::PanelSync, &ours, Some(&tab)).is_err());
        assert!(tab.claim(5, "guess").is_err());
        assert!(tab.claim(4, "secret-nonce-abcdefghijkl").is_ok());
        // A second frame with the nonce (copied or raced) is refused once bound.
        assert!(tab.claim(5, "secret-nonce-abcdefghijkl").is_err());
        assert!(authorize(&Request::PanelSync, &ours, Some(&tab)).is_ok());
        assert!(authorize(&Request::PanelSync, &theirs, Some(&tab)).is_err());
        assert!(authorize(
            &Request::Unlink { chat: "pn:+5511987654321".into() },
            &theirs,
            Some(&tab)
        )
        .is_err());
        // Actions name the tab's chat: another record's chat is refused.
        assert!(authorize(
            &Request::Unlink { chat: "pn:+5511987654321".into() },
            &ours,
            Some(&tab)
        )
        .is_ok());
        assert!(authorize(&Request::Unlink { chat: "pn:+14155552671".into() }, &ours, Some(&tab))
            .is_err());
        assert!(authorize(
            &Request::ExcludeChat { chat: "pn:+14155552671".into(), excluded: true },
            &ours,
            Some(&tab)
        )
        .is_err());
        for denied in [
            Request::Export,
            Request::GetSettings,
            Request::KnownChats,
            Request::PanelView { chat: Some("pn:+1".into()), name: None },
            Request::Status,
        ] {
            assert!(authorize(&denied, &ours, Some(&tab)).is_err(), "{denied:?}");
        }
        // A new page load registers a new nonce: the old frame binding is gone.
        let tab = TabRecord::register("another-nonce-0123456789");
        assert!(authorize(&Request::PanelSync, &ours, Some(&tab)).is_err());
    }

    #[test]
    fn foreign_senders_are_rejected() {
        assert!(authorize(&Request::Status, &Sender::Foreign, None).is_err());
        assert!(authorize(&Request::Status, &Sender::ExtensionPage, None).is_ok());
        let view = Request::PanelView { chat: Some("pn:+5511987654321".into()), name: None };
        assert!(authorize(&view, &wa(), None).is_err());
        assert!(authorize(&view, &Sender::ExtensionPage, None).is_ok());
        let r: Request = serde_json::from_str(r#"{"kind":"panel_view","chat":"pn:+1"}"#).unwrap();
        assert_eq!(r, Request::PanelView { chat: Some("pn:+1".into()), name: None });
        for settings_or_data in [
            Request::BackUpOlder { chat: "pn:+1".into() },
            Request::GetSettings,
            Request::Diagnostics,
            Request::Disconnect { crm: crate::core::model::Crm::Zoho },
            Request::ExcludeChat { chat: "pn:+1".into(), excluded: true },
        ] {
            assert!(authorize(&settings_or_data, &wa(), None).is_err(), "{settings_or_data:?}");
            assert!(authorize(&settings_or_data, &Sender::ExtensionPage, None).is_ok());
        }
        assert!(authorize(&Request::Export, &wa(), None).is_err());
        assert!(authorize(&Request::Export, &Sender::ExtensionPage, None).is_ok());
        let connect: Request = serde_json::from_str(
            r#"{"kind":"connect","credentials":{"crm":"leadsquared","access_key":"a","secret_key":"b"}}"#,
        )
        .unwrap();
        assert!(authorize(&connect, &wa(), None).is_err());
        assert!(authorize(&connect, &Sender::ExtensionPage, None).is_ok());
    }
}
