//! What the product needs to know of one CRM (each CRM's folder defines its own; the list is
//! `crm::registry`).
use crate::core::http::HttpResponse;
use crate::core::model::Crm;
use crate::core::outbox::DocumentWriter;
use crate::core::ratelimit::Budget;
pub use crate::core::ui::{CredentialField, FieldKind};
use crate::crm::credentials::Connection;
use crate::crm::Connector;

/// What a call needs now: the access token (None for key-based CRMs), the API base URL, and
/// the time (what a connection learned may be believed only for a while).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Access {
    pub token: Option<String>,
    pub base: String,
    pub now_ms: u64,
}

pub struct Descriptor {
    pub crm: Crm,
    /// Whether a request may go to `host` (API, sign-in and discovery hosts).
    pub serves: fn(&str) -> bool,
    /// A token answer's API base, checked (Zoho `api_domain`, Salesforce `instance_url`).
    pub checked_api_base: fn(&str) -> Result<String, String>,
    /// The API allowance the CRM reported on an answer.
    pub budget: fn(&HttpResponse) -> Budget,
    /// How long the CRM's rate-limit window lasts when a 429 names no `Retry-After`.
    pub rate_limit_window_ms: Option<u64>,
    /// The Advanced form's fields (an admin's own app, or pasted credentials), in order.
    pub credential_fields: &'static [CredentialField],
    /// Whether an admin's own app can sign in through the browser (OAuth CRMs).
    pub own_app_sign_in: bool,
    /// The CRM's connector (search, records, related lists) for a stored connection.
    pub connector: fn(&Connection, Access) -> Box<dyn Connector>,
    /// The CRM as the sync engine's backup writer.
    pub writer: fn(&Connection, Access) -> Box<dyn DocumentWriter>,
}
