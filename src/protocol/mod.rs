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
    /// Content script: the rep's own number, as the WhatsApp Web page it runs in keeps it
    /// (`capture::own_wid`), a hint for the first run's default phone region.
    OwnNumber {
        phone: String,
    },
    /// The content script could not run a stage (e.g. the page CSP blocked wasm).
    ContentError {
        stage: String,
        error: String,
    },
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
    /// One-click sign-in with the product's own app (distribution config; options page only).
    /// Zoho starts at `zoho_dc`; Salesforce at `login_host` (production, sandbox or My Domain).
    SignIn {
        crm: crate::core::model::Crm,
        #[serde(default)]
        zoho_dc: Option<crate::crm::auth::ZohoDc>,
        #[serde(default)]
        login_host: Option<String>,
    },
    /// Run the setup check of a connected CRM now (options page only).
    SetupCheck {
        crm: crate::core::model::Crm,
    },
    /// Create the Salesforce chat object (`WhatsApp_Chat__c`) and its fields in the connected
    /// org, after the admin confirmed it in the options page (extension pages only), then
    /// run the Salesforce setup check again.
    CreateChatObject,
    /// What the options page's first run needs: the one-click sign-ins this build offers,
    /// connected CRMs, their last setup check, whether the rep finished the first run.
    Onboarding,
    /// The rep finished the first run (options page only).
    FinishOnboarding,
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
    /// Mask sensitive data in this chat's backups (`true`, the default) or not.
    MaskChat {
        chat: String,
        masked: bool,
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
        /// Capture of this chat is paused: the page reads wrong (see `capture::Health`).
        #[serde(default)]
        paused: bool,
    },
    /// Content script: a chat is open whose header cannot be read (WhatsApp changed it). No
    /// chat is known in the tab until a header reads again: capture is paused, and the panel
    /// says so instead of showing the chat open before.
    ChatUnreadable,
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

/// The requests a WhatsApp tab's content script makes, borrowed from `Request` and
/// serialized exactly as `Request` serializes them (the tests compare every variant): the
/// capture-only module then does not carry the serializers of the requests only the
/// extension's pages make (credentials, settings, record forms).
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TabRequest<'a> {
    Hello {
        wasm: bool,
    },
    OwnNumber {
        phone: &'a str,
    },
    ContentError {
        stage: &'a str,
        error: &'a str,
    },
    Captured {
        identity: &'a WaIdentity,
        messages: &'a [Message],
    },
    CaptureStats {
        counters: &'a crate::capture::Counters,
    },
    UnknownChats {
        titles: &'a [String],
    },
    PanelRegister {
        nonce: &'a str,
        blocked: &'a Option<String>,
    },
    ChatOpened {
        identity: &'a WaIdentity,
        theme: &'a Option<String>,
        paused: bool,
    },
    ChatUnreadable,
    BackfillProgress {
        progress: &'a crate::capture::backfill::Progress,
    },
    File {
        message_key: &'a str,
        index: u16,
        name: &'a str,
        mime: &'a str,
        size: u64,
        data_b64: &'a Option<String>,
        error: &'a Option<String>,
    },
}

impl Request {
    /// This request as a tab sends it; None for the requests a tab never makes.
    pub fn for_tab(&self) -> Option<TabRequest<'_>> {
        use Request as R;
        use TabRequest as T;
        Some(match self {
            R::Hello { wasm } => T::Hello { wasm: *wasm },
            R::OwnNumber { phone } => T::OwnNumber { phone },
            R::ContentError { stage, error } => T::ContentError { stage, error },
            R::Captured { identity, messages } => T::Captured { identity, messages },
            R::CaptureStats { counters } => T::CaptureStats { counters },
            R::UnknownChats { titles } => T::UnknownChats { titles },
            R::PanelRegister { nonce, blocked } => T::PanelRegister { nonce, blocked },
            R::ChatOpened { identity, theme, paused } => {
                T::ChatOpened { identity, theme, paused: *paused }
            }
            R::ChatUnreadable => T::ChatUnreadable,
            R::BackfillProgress { progress } => T::BackfillProgress { progress },
            R::File { message_key, index, name, mime, size, data_b64, error } => {
                T::File { message_key, index: *index, name, mime, size: *size, data_b64, error }
            }
            _ => return None,
        })
    }
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
    /// The chats the tab left, newest first (at most `LEFT_CHATS`, never the open one): their
    /// last messages may still be on their way. A long chat's first scan hands its messages
    /// on in chunks, one a task, so its last chunks can arrive after quick switches.
    #[serde(default)]
    pub left_chats: Vec<String>,
    #[serde(default)]
    pub theme: Option<String>,
    /// Why the content script could not run wasm, when it could not.
    #[serde(default)]
    pub blocked: Option<String>,
    /// The content script paused capture of the open chat (its page reads wrong).
    #[serde(default)]
    pub paused: bool,
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

    /// A chat whose header cannot be read is open: no chat is known. The one open before
    /// stays the previous chat (its last messages may still be on their way); nothing is
    /// taken under any other chat, and no panel action names a chat.
    pub fn close(&mut self) {
        let left = self.chat_key();
        self.remember_left(left, None);
        self.chat = None;
    }

    /// Another chat opened in the tab.
    pub fn open(&mut self, identity: WaIdentity) {
        let key = identity.chat_key();
        // From no chat (an unreadable header) no chat is left.
        let left = self.chat_key().filter(|prev| *prev != key);
        self.remember_left(left, Some(&key));
        self.chat = Some(identity);
    }

    /// `left` joins the front of the chats left; the one now `open` is not among them.
    fn remember_left(&mut self, left: Option<String>, open: Option<&str>) {
        if let Some(l) = left {
            self.left_chats.retain(|c| *c != l);
            self.left_chats.insert(0, l);
        }
        if let Some(o) = open {
            self.left_chats.retain(|c| c != o);
        }
        self.left_chats.truncate(LEFT_CHATS);
    }

    /// Messages of this chat may come from the tab: the open one, or one of the `LEFT_CHATS`
    /// it left last.
    pub fn accepts_messages_of(&self, chat_key: &str) -> bool {
        self.chat_key().as_deref() == Some(chat_key)
            || self.left_chats.iter().any(|c| c == chat_key)
    }
}

/// Chats a tab left whose messages it may still hand on.
pub const LEFT_CHATS: usize = 4;

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
        | Request::MaskChat { chat, .. }
        | Request::BackUpOlder { chat } => Some(chat),
        _ => None,
    }
}

impl Request {
    /// Numbers a WhatsApp tab reports come as `+digits` (the content script's module has no
    /// phone metadata, see `capture::phone_in_text`): the worker puts them in E.164 before
    /// anything else reads them, so chats are keyed and matched as before.
    pub fn canonicalize_phones(&mut self) {
        use crate::core::phone::canonical_reported;
        let fix = |p: &mut Option<String>| {
            if let Some(v) = p.as_mut() {
                *v = canonical_reported(v);
            }
        };
        match self {
            Request::Captured { identity, messages } => {
                fix(&mut identity.phone);
                for m in messages {
                    fix(&mut m.sender.phone);
                }
            }
            Request::ChatOpened { identity, .. } => fix(&mut identity.phone),
            Request::OwnNumber { phone } => *phone = canonical_reported(phone),
            _ => {}
        }
    }
}

/// May `sender` make `request`? `tab` is what the worker keeps for the sender's tab.
/// Every sender kind has an allow-list; a request not on it is refused, so a new request
/// reaches nobody until it is put on the list of the one sender that needs it. Content
/// scripts live beside a page we do not control, so they get only what capture needs; a
/// panel frame gets its own tab's chat and actions on that chat, and only when it is the
/// frame the content script inserted; the extension's other pages (options, popup) get what
/// they send.
pub fn authorize(
    request: &Request,
    sender: &Sender,
    tab: Option<&TabRecord>,
) -> Result<(), String> {
    use Request as R;
    match sender {
        Sender::Foreign => Err("message from an unexpected sender rejected".into()),
        Sender::ExtensionPage => match request {
            // What the options page (`web::options`, first run in `web::onboard`) and the
            // popup (`popup_main`: diagnostics and sync now) send.
            R::Diagnostics
            | R::SyncNow
            | R::Export
            | R::GetSettings
            | R::SaveSettings { .. }
            | R::Onboarding
            | R::FinishOnboarding
            | R::Connect { .. }
            | R::OauthConnect { .. }
            | R::SignIn { .. }
            | R::SetupCheck { .. }
            | R::CreateChatObject
            | R::Disconnect { .. } => Ok(()),
            // No shipped page sends these two: the end-to-end tests and the demo drive the
            // worker through them from an extension page (a shorter sync period; messages
            // of a chat without a WhatsApp tab). Nothing a website or the page can reach.
            R::SetSyncPeriod { .. } | R::Captured { .. } => Ok(()),
            R::Hello { .. }
            | R::ContentError { .. }
            | R::Relay { .. }
            | R::CaptureStats { .. }
            | R::File { .. }
            | R::PanelRegister { .. }
            | R::ChatOpened { .. }
            | R::OwnNumber { .. }
            | R::ChatUnreadable
            | R::BackfillProgress { .. }
            | R::UnknownChats { .. } => Err("for the content script only".into()),
            R::PanelClaim { .. }
            | R::PanelSync
            | R::CreateRecord { .. }
            | R::LinkRecord { .. }
            | R::Unlink { .. }
            | R::SearchRecords { .. }
            | R::ChooseCandidate { .. }
            | R::BackUpOlder { .. }
            | R::ExcludeChat { .. }
            | R::MaskChat { .. } => Err("for the panel frame only".into()),
        },
        Sender::WhatsAppTab { frame, .. } => {
            if *frame != 0 {
                return Err("content script requests come from the top frame only".into());
            }
            match request {
                R::Hello { .. }
                | R::ContentError { .. }
                | R::OwnNumber { .. }
                | R::PanelRegister { .. }
                | R::ChatOpened { .. }
                | R::ChatUnreadable => Ok(()),
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
                R::Connect { .. } | R::OauthConnect { .. } | R::SignIn { .. } => {
                    Err("connecting a CRM is only available to the extension's pages".into())
                }
                R::SetSyncPeriod { .. } => {
                    Err("settings are only available to the extension's pages".into())
                }
                // SyncNow, diagnostics, CRM data and actions: not for a content script.
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
    fn a_tab_request_is_sent_exactly_as_the_request_it_borrows_from() {
        let identity = WaIdentity {
            phone: Some("+5511987654321".into()),
            name: "Ana".into(),
            ..Default::default()
        };
        let message = Message::text(
            "3EB0AA",
            identity.chat_key(),
            crate::core::model::Direction::Out,
            crate::core::model::Sender { name: "You".into(), phone: None },
            None,
            "olá <b>",
        );
        let mut counters = crate::capture::Counters::default();
        counters.skipped.insert("no bubble".into(), 2);
        let progress = crate::core::model::BackfillProgress {
            total: 3,
            done: 1,
            current: Some("Ana".into()),
            ..Default::default()
        };
        let every = [
            Request::Hello { wasm: true },
            Request::OwnNumber { phone: "+5215512345678".into() },
            Request::ContentError { stage: "wasm".into(), error: "CSP".into() },
            Request::Captured { identity: identity.clone(), messages: vec![message] },
            Request::CaptureStats { counters },
            Request::UnknownChats { titles: vec!["Ana".into(), "Obra".into()] },
            Request::PanelRegister { nonce: "n0nce".into(), blocked: None },
            Request::PanelRegister { nonce: "n0nce".into(), blocked: Some("wasm blocked".into()) },
            Request::ChatOpened {
                identity: identity.clone(),
                theme: Some("dark".into()),
                paused: true,
            },
            Request::ChatOpened { identity, theme: None, paused: false },
            Request::ChatUnreadable,
            Request::BackfillProgress { progress },
            Request::File {
                message_key: "3EB0AA".into(),
                index: 1,
                name: "a.pdf".into(),
                mime: "application/pdf".into(),
                size: 9,
                data_b64: Some("AAAA".into()),
                error: None,
            },
            Request::File {
                message_key: "3EB0AA".into(),
                index: 0,
                name: "b".into(),
                mime: "".into(),
                size: 0,
                data_b64: None,
                error: Some("too big".into()),
            },
        ];
        for r in &every {
            let tab = r.for_tab().unwrap_or_else(|| panic!("{r:?} is a tab's request"));
            let want = serde_json::to_value(r).expect("serializes");
            assert_eq!(serde_json::to_value(&tab).expect("serializes"), want);
            // And the worker reads it back as the same request.
            let back: Request = serde_json::from_value(want).expect("parses");
            assert_eq!(&back, r);
        }
        for r in [Request::Diagnostics, Request::Export, Request::SyncNow, Request::PanelSync] {
            assert!(r.for_tab().is_none(), "{r:?} is not a tab's request");
        }
    }

    #[test]
    fn numbers_a_tab_reports_are_put_in_e164_as_parsing_the_shown_text_would() {
        use crate::core::phone::parse_one;
        // As WhatsApp shows numbers (spaces, NBSP, narrow NBSP, dashes, brackets), a national
        // prefix after the country code, and numbers libphonenumber does not accept.
        let shown = [
            "+91 90000 12345",
            "+55 11 98765-4321",
            "+55 44 9881-2871",
            "+1 (415) 555-2671",
            "+44 (0)20 7946 0958",
            "+44 020 7946 0958",
            "+39 06 6982 1234",
            "+49\u{a0}30\u{a0}901820",
            "+33\u{202f}1 42 68 53 00",
            "+52 1 55 1234 5678",
            "+999 1234 5678",
            "+0 1234 5678",
        ];
        for t in shown {
            let reported = crate::capture::phone_in_text(t).expect(t);
            let mut r = Request::Captured {
                identity: WaIdentity { phone: Some(reported.clone()), ..Default::default() },
                messages: vec![Message::text(
                    "k",
                    "",
                    crate::core::model::Direction::In,
                    crate::core::model::Sender { name: "x".into(), phone: Some(reported.clone()) },
                    None,
                    "hi",
                )],
            };
            r.canonicalize_phones();
            let want = parse_one(t, "ZZ").unwrap_or_else(|_| reported.clone());
            let Request::Captured { identity, messages } = &r else { unreachable!() };
            assert_eq!(identity.phone.as_deref(), Some(want.as_str()), "{t}");
            assert_eq!(messages[0].sender.phone.as_deref(), Some(want.as_str()), "{t}");
            // Idempotent: a second pass (a relayed request) changes nothing.
            let again = r.clone();
            r.canonicalize_phones();
            assert_eq!(r, again, "{t}");
        }
    }

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
            Request::Export,
            Request::GetSettings,
            Request::Diagnostics,
            Request::PanelSync,
            Request::Unlink { chat: "pn:+5511987654321".into() },
            Request::SearchRecords { query: "ana".into() },
        ] {
            assert!(authorize(&denied, &wa(), Some(&tab)).is_err(), "{denied:?}");
        }
        for allowed in [
            Request::Hello { wasm: true },
            Request::ChatOpened { identity: ident("+1"), theme: None, paused: false },
            Request::UnknownChats { titles: vec![] },
            Request::PanelRegister { nonce: "x".into(), blocked: None },
            Request::OwnNumber { phone: "+5215512345678".into() },
        ] {
            assert!(authorize(&allowed, &wa(), Some(&tab)).is_ok(), "{allowed:?}");
        }
        // The own number comes from the WhatsApp page only: not from a panel frame or a page.
        let own = Request::OwnNumber { phone: "+5215512345678".into() };
        assert!(authorize(&own, &Sender::ExtensionPage, None).is_err());
        let mut bound = TabRecord::register("n0nce-0123456789abcdef");
        bound.frame = Some(5);
        assert!(authorize(&own, &Sender::PanelFrame { tab: 7, frame: 5 }, Some(&bound)).is_err());
        // Captured: the open chat only (and the one just left), never any identity.
        assert!(authorize(&captured("+5511987654321"), &wa(), Some(&tab)).is_ok());
        assert!(authorize(&captured("+14155552671"), &wa(), Some(&tab)).is_err());
        assert!(authorize(&captured("+5511987654321"), &wa(), None).is_err());
        tab.open(ident("+14155552671"));
        assert!(authorize(&captured("+5511987654321"), &wa(), Some(&tab)).is_ok());
        // Left four chats ago, it is not (see `LEFT_CHATS`).
        for p in ["+447700900123", "+447700900124", "+447700900125", "+447700900126"] {
            tab.open(ident(p));
        }
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
    fn a_chat_with_an_unreadable_header_closes_the_open_chat_in_the_tab() {
        let mut tab = TabRecord::register("n0nce-0123456789abcdef");
        tab.open(ident("+5511987654321"));
        assert!(authorize(&Request::ChatUnreadable, &wa(), Some(&tab)).is_ok());
        assert!(authorize(&Request::ChatUnreadable, &Sender::ExtensionPage, Some(&tab)).is_err());
        tab.close();
        assert_eq!(tab.chat_key(), None);
        // The chat open before may still finish sending its own messages…
        assert!(authorize(&captured("+5511987654321"), &wa(), Some(&tab)).is_ok());
        // …but no panel action names it any more: the rep is looking at another chat.
        tab.claim(4, "n0nce-0123456789abcdef").expect("claims");
        let panel = Sender::PanelFrame { tab: 7, frame: 4 };
        let unlink = Request::Unlink { chat: "pn:+5511987654321".into() };
        assert!(authorize(&unlink, &panel, Some(&tab)).is_err());
        // A second unreadable header keeps the chat open before as the previous one.
        tab.close();
        assert_eq!(tab.left_chats.first().map(String::as_str), Some("pn:+5511987654321"));
    }

    /// A long chat's first scan hands its messages on in chunks, one a task: after quick
    /// switches its last chunks still come from the tab, and are taken. Only chats the tab
    /// left just before are: the one left four switches ago is not.
    #[test]
    fn messages_of_chats_left_in_quick_switches_are_still_taken() {
        let mut tab = TabRecord::register("n0nce-0123456789abcdef");
        let phones = ["+5511900000001", "+5511900000002", "+5511900000003", "+5511900000004"];
        for p in phones {
            tab.open(ident(p));
        }
        for p in phones {
            assert!(authorize(&captured(p), &wa(), Some(&tab)).is_ok(), "{p}");
        }
        // An unreadable header leaves a chat too; opening one from no chat leaves none.
        tab.close();
        tab.open(ident("+5511900000005"));
        for p in phones {
            assert!(authorize(&captured(p), &wa(), Some(&tab)).is_ok(), "{p}");
        }
        // A sixth chat: the first was left too long ago.
        tab.open(ident("+5511900000006"));
        assert!(authorize(&captured("+5511900000001"), &wa(), Some(&tab)).is_err());
        for p in ["+5511900000002", "+5511900000003", "+5511900000004", "+5511900000005"] {
            assert!(authorize(&captured(p), &wa(), Some(&tab)).is_ok(), "{p}");
        }
        // Going back and forth between two chats does not push the others out.
        tab.open(ident("+5511900000004"));
        tab.open(ident("+5511900000005"));
        tab.open(ident("+5511900000004"));
        assert!(authorize(&captured("+5511900000002"), &wa(), Some(&tab)).is_ok());
        assert_eq!(tab.left_chats.len(), LEFT_CHATS);
        let mut distinct = tab.left_chats.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), tab.left_chats.len(), "each chat left once");
        assert!(!tab.left_chats.iter().any(|c| Some(c) == tab.chat_key().as_ref()));
        // A chat never open in the tab is not taken.
        assert!(authorize(&captured("+5511900000009"), &wa(), Some(&tab)).is_err());
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
        for denied in [Request::Export, Request::GetSettings, Request::Diagnostics] {
            assert!(authorize(&denied, &ours, Some(&tab)).is_err(), "{denied:?}");
        }
        // A new page load registers a new nonce: the old frame binding is gone.
        let tab = TabRecord::register("another-nonce-0123456789");
        assert!(authorize(&Request::PanelSync, &ours, Some(&tab)).is_err());
    }

    #[test]
    fn foreign_senders_are_rejected() {
        assert!(authorize(&Request::Diagnostics, &Sender::Foreign, None).is_err());
        assert!(authorize(&Request::Diagnostics, &Sender::ExtensionPage, None).is_ok());
        // Requests no page sends any more do not parse: they reach nobody.
        for gone in [
            r#"{"kind":"panel_view","chat":"pn:+1"}"#,
            r#"{"kind":"status"}"#,
            r#"{"kind":"known_chats"}"#,
        ] {
            assert!(serde_json::from_str::<Request>(gone).is_err(), "{gone}");
        }
        for settings_or_data in [
            Request::GetSettings,
            Request::Diagnostics,
            Request::Disconnect { crm: crate::core::model::Crm::Zoho },
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

    /// Every request's name, by an exhaustive match: a new request does not compile until it
    /// has a name here, and then the allow-list test below fails until it has a row.
    fn kind_of(r: &Request) -> &'static str {
        use Request as R;
        match r {
            R::Hello { .. } => "hello",
            R::ContentError { .. } => "content_error",
            R::Captured { .. } => "captured",
            R::SyncNow => "sync_now",
            R::Export => "export",
            R::SetSyncPeriod { .. } => "set_sync_period",
            R::Relay { .. } => "relay",
            R::Connect { .. } => "connect",
            R::OauthConnect { .. } => "oauth_connect",
            R::SignIn { .. } => "sign_in",
            R::SetupCheck { .. } => "setup_check",
            R::CreateChatObject => "create_chat_object",
            R::Onboarding => "onboarding",
            R::FinishOnboarding => "finish_onboarding",
            R::CreateRecord { .. } => "create_record",
            R::LinkRecord { .. } => "link_record",
            R::Unlink { .. } => "unlink",
            R::SearchRecords { .. } => "search_records",
            R::ChooseCandidate { .. } => "choose_candidate",
            R::BackUpOlder { .. } => "back_up_older",
            R::ExcludeChat { .. } => "exclude_chat",
            R::MaskChat { .. } => "mask_chat",
            R::GetSettings => "get_settings",
            R::SaveSettings { .. } => "save_settings",
            R::Disconnect { .. } => "disconnect",
            R::Diagnostics => "diagnostics",
            R::CaptureStats { .. } => "capture_stats",
            R::UnknownChats { .. } => "unknown_chats",
            R::PanelRegister { .. } => "panel_register",
            R::ChatOpened { .. } => "chat_opened",
            R::PanelClaim { .. } => "panel_claim",
            R::PanelSync => "panel_sync",
            R::BackfillProgress { .. } => "backfill_progress",
            R::File { .. } => "file",
            R::OwnNumber { .. } => "own_number",
            R::ChatUnreadable => "chat_unreadable",
        }
    }

    /// One request of every kind, as its sender would send it (the chat it names is the one
    /// open in the tab, so only the sender kind decides).
    fn one_of_each(chat: &str, identity: &WaIdentity) -> Vec<Request> {
        use crate::core::model::{Crm, RecordKind, RecordRef};
        use serde_json::json;
        let record = serde_json::to_value(RecordRef {
            crm: Crm::Zoho,
            kind: RecordKind::Contact,
            id: "1".into(),
        })
        .expect("serializes");
        let v = |x: serde_json::Value| serde_json::from_value::<Request>(x).expect("parses");
        fn to(x: impl Serialize) -> serde_json::Value {
            serde_json::to_value(x).expect("serializes")
        }
        vec![
            v(json!({"kind": "hello", "wasm": true})),
            v(json!({"kind": "content_error", "stage": "wasm", "error": "csp"})),
            v(json!({"kind": "captured", "identity": identity, "messages": []})),
            v(json!({"kind": "sync_now"})),
            v(json!({"kind": "export"})),
            v(json!({"kind": "set_sync_period", "minutes": 1.0})),
            v(json!({"kind": "relay", "header": "", "rows": "", "locale": "en"})),
            v(json!({"kind": "connect", "credentials":
                {"crm": "leadsquared", "access_key": "a", "secret_key": "b"}})),
            v(json!({"kind": "oauth_connect", "start": {"crm": "zoho", "client_id": "c"}})),
            v(json!({"kind": "sign_in", "crm": "zoho"})),
            v(json!({"kind": "setup_check", "crm": "zoho"})),
            v(json!({"kind": "create_chat_object"})),
            v(json!({"kind": "onboarding"})),
            v(json!({"kind": "finish_onboarding"})),
            v(
                json!({"kind": "create_record", "chat": chat, "crm": "zoho", "record_kind": "Contacts",
                "fields": to(crate::core::view::RecordForm::default())}),
            ),
            v(json!({"kind": "link_record", "chat": chat, "record": record})),
            v(json!({"kind": "unlink", "chat": chat})),
            v(json!({"kind": "search_records", "query": "ana"})),
            v(json!({"kind": "choose_candidate", "chat": chat, "record": record})),
            v(json!({"kind": "back_up_older", "chat": chat})),
            v(json!({"kind": "exclude_chat", "chat": chat, "excluded": true})),
            v(json!({"kind": "mask_chat", "chat": chat, "masked": false})),
            v(json!({"kind": "get_settings"})),
            v(json!({"kind": "save_settings",
                "settings": to(crate::core::view::Settings::default())})),
            v(json!({"kind": "disconnect", "crm": "salesforce"})),
            v(json!({"kind": "diagnostics"})),
            v(json!({"kind": "capture_stats",
                "counters": to(crate::capture::Counters::default())})),
            v(json!({"kind": "unknown_chats", "titles": ["Ana"]})),
            v(json!({"kind": "panel_register", "nonce": "n0nce-0123456789abcdef"})),
            v(json!({"kind": "chat_opened", "identity": identity})),
            v(json!({"kind": "panel_claim", "nonce": "n0nce-0123456789abcdef"})),
            v(json!({"kind": "panel_sync"})),
            v(json!({"kind": "backfill_progress",
                "progress": to(crate::core::model::BackfillProgress::default())})),
            v(json!({"kind": "own_number", "phone": "+4915123456789"})),
            v(json!({"kind": "chat_unreadable"})),
            v(json!({"kind": "file", "message_key": "3EB0AA", "index": 0, "name": "a.png",
                "mime": "image/png", "size": 3, "data_b64": "AAAA", "error": null})),
        ]
    }

    #[test]
    fn each_sender_kind_may_send_exactly_its_allow_list() {
        // (request, content script, its bound panel frame, options page or popup)
        const ALLOWED: &[(&str, bool, bool, bool)] = &[
            ("hello", true, false, false),
            ("content_error", true, false, false),
            ("relay", true, false, false),
            ("capture_stats", true, false, false),
            ("own_number", true, false, false),
            ("chat_unreadable", true, false, false),
            ("unknown_chats", true, false, false),
            ("panel_register", true, false, false),
            ("backfill_progress", true, false, false),
            ("file", true, false, false),
            // The content script reports its tab's chat; the panel relays it when wasm
            // cannot run in the page (strict CSP); extension pages: see `authorize`.
            ("chat_opened", true, true, false),
            ("captured", true, true, true),
            ("panel_claim", false, true, false),
            ("panel_sync", false, true, false),
            ("search_records", false, true, false),
            ("create_record", false, true, false),
            ("link_record", false, true, false),
            ("unlink", false, true, false),
            ("choose_candidate", false, true, false),
            ("back_up_older", false, true, false),
            ("exclude_chat", false, true, false),
            ("mask_chat", false, true, false),
            ("sync_now", false, true, true),
            ("export", false, false, true),
            ("set_sync_period", false, false, true),
            ("connect", false, false, true),
            ("oauth_connect", false, false, true),
            ("sign_in", false, false, true),
            ("setup_check", false, false, true),
            ("create_chat_object", false, false, true),
            ("onboarding", false, false, true),
            ("finish_onboarding", false, false, true),
            ("get_settings", false, false, true),
            ("save_settings", false, false, true),
            ("disconnect", false, false, true),
            ("diagnostics", false, false, true),
        ];
        let identity = ident("+5511987654321");
        let chat = identity.chat_key();
        let mut tab = TabRecord::register("n0nce-0123456789abcdef");
        tab.open(identity.clone());
        tab.claim(4, "n0nce-0123456789abcdef").expect("claims");
        let panel = Sender::PanelFrame { tab: 7, frame: 4 };
        let every = one_of_each(&chat, &identity);
        let mut names: Vec<&str> = every.iter().map(kind_of).collect();
        let mut rows: Vec<&str> = ALLOWED.iter().map(|r| r.0).collect();
        names.sort_unstable();
        rows.sort_unstable();
        assert_eq!(names, rows, "one request of every kind, one row for each");
        for r in &every {
            let name = kind_of(r);
            let &(_, content, panel_frame, page) =
                ALLOWED.iter().find(|row| row.0 == name).expect("a row");
            let ok = |s: &Sender| authorize(r, s, Some(&tab)).is_ok();
            assert_eq!(ok(&wa()), content, "{name} from the content script");
            assert_eq!(ok(&panel), panel_frame, "{name} from the panel frame");
            assert_eq!(ok(&Sender::ExtensionPage), page, "{name} from an extension page");
            assert!(!ok(&Sender::Foreign), "{name} from a foreign sender");
            // The serialized name is the one the match gives (the table speaks the wire's).
            let wire = serde_json::to_value(r).expect("serializes");
            assert_eq!(wire["kind"], name);
        }
    }
}
