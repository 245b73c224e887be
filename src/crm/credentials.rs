//! What a connection to a CRM is made of: the credentials the rep gave and what connecting
//! learned. Data only, so each CRM's folder can build its connector from it (its
//! descriptor) while `connect`, which drives connecting, depends on those folders.
//! The stored `Connection` holds secrets: only the service worker reads or writes it.
use super::auth::{Session, ZohoDc};
use crate::core::model::Crm;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "crm", rename_all = "snake_case")]
pub enum Credentials {
    /// Zoho Self Client: refresh token + client id/secret of the user's data centre.
    Zoho {
        dc: ZohoDc,
        client_id: String,
        client_secret: String,
        refresh_token: String,
    },
    /// Salesforce connected app: consumer key/secret + a refresh token; `login_host` is
    /// `login.salesforce.com`, `test.salesforce.com` or the org's My Domain host.
    Salesforce {
        login_host: String,
        client_id: String,
        client_secret: Option<String>,
        refresh_token: String,
    },
    Leadsquared {
        access_key: String,
        secret_key: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub credentials: Credentials,
    /// OAuth CRMs; None for LeadSquared (static keys).
    pub session: Option<Session>,
    /// LeadSquared `(api host, app host)`.
    pub lsq_hosts: Option<(String, String)>,
    /// Zoho's org `domain_name` (from `GET /org`), for record links.
    #[serde(default)]
    pub org_domain: Option<String>,
    /// LeadSquared: the "WhatsApp Chats" activity type's event code, once looked up or created.
    #[serde(default)]
    pub activity_event: Option<u32>,
    /// Zoho: per module, the org's `Lead_Source` value for WhatsApp (None: the picklist has
    /// none), read once from the fields metadata; a module not here is not looked up yet.
    #[serde(default)]
    pub zoho_lead_sources: std::collections::BTreeMap<String, Option<String>>,
    /// LeadSquared: the type list was read and has no "WhatsApp Chats" (the next backup
    /// creates it, without reading the list again).
    #[serde(default)]
    pub activity_type_missing: bool,
    /// Salesforce: whether the org has the chat object, and when that was read. A sync
    /// cycle asks only when this is unknown, when a chat write said the object is gone,
    /// or, for an org without it, once a day (an admin may deploy it in Setup).
    #[serde(default)]
    pub chat_object: Option<ChatObjectKnown>,
    /// Salesforce: the org has multiple currencies on (read at connect), so each
    /// opportunity's own currency is asked for.
    #[serde(default)]
    pub salesforce_multi_currency: bool,
}

/// What the connection knows about the Salesforce org's chat object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatObjectKnown {
    pub present: bool,
    pub checked_at_ms: u64,
}

/// How long "the org has no chat object" is believed before a sync asks again.
pub const CHAT_OBJECT_ABSENT_TTL_MS: u64 = 24 * 60 * 60 * 1000;

impl Connection {
    /// A connection just made: what later calls learn about the org is not known yet.
    pub fn new(
        credentials: Credentials,
        session: Option<Session>,
        lsq_hosts: Option<(String, String)>,
    ) -> Connection {
        Connection {
            credentials,
            session,
            lsq_hosts,
            org_domain: None,
            activity_event: None,
            zoho_lead_sources: Default::default(),
            activity_type_missing: false,
            chat_object: None,
            salesforce_multi_currency: false,
        }
    }
}

impl Credentials {
    pub fn crm(&self) -> Crm {
        match self {
            Credentials::Zoho { .. } => Crm::Zoho,
            Credentials::Salesforce { .. } => Crm::Salesforce,
            Credentials::Leadsquared { .. } => Crm::Leadsquared,
        }
    }
}
