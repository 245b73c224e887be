//! LeadSquared v2: the connector (search, records, related lists; sans-IO request builders and
//! parsers) and the backup writer.
mod connector;
pub mod writer;

pub use connector::*;
pub use writer::LeadSquaredWriter;

use crate::core::model::Crm;
use crate::core::ratelimit::Budget;
use crate::crm::credentials::{Connection, Credentials};
use crate::crm::descriptor::Descriptor;
use crate::crm::descriptor::{CredentialField, FieldKind};
use crate::crm::hosts;

pub static DESCRIPTOR: Descriptor = Descriptor {
    crm: Crm::Leadsquared,
    serves: hosts::leadsquared_serves,
    checked_api_base: hosts::any_api_base,
    // LeadSquared reports no allowance on its answers.
    budget: |_| Budget::default(),
    // Calls are counted per 5 seconds (apidocs.leadsquared.com, rate limits).
    rate_limit_window_ms: Some(5_000),
    credential_fields: &[
        CredentialField {
            name: "access_key",
            control: "lsq-access-key",
            label: "fieldAccessKey",
            kind: FieldKind::Text { default: "" },
            sign_in: false,
        },
        CredentialField {
            name: "secret_key",
            control: "lsq-secret-key",
            label: "fieldSecretKey",
            kind: FieldKind::Secret,
            sign_in: false,
        },
    ],
    own_app_sign_in: false,
    connector: |c, _| Box::new(client(c)),
    // A type the connection knows is missing is created without reading the list again.
    writer: |c, _| Box::new(LeadSquaredWriter::knowing(client(c), c.activity_type_missing)),
};

/// The API client of a connection: the keys (sent with every call, no token) and the
/// regional hosts discovery found, and the activity type's event code once known.
pub fn client(c: &Connection) -> LeadSquared {
    let (access_key, secret_key) = match &c.credentials {
        Credentials::Leadsquared { access_key, secret_key } => {
            (access_key.clone(), secret_key.clone())
        }
        _ => Default::default(),
    };
    let (api_host, app_host) = c.lsq_hosts.clone().unwrap_or_default();
    LeadSquared { access_key, secret_key, api_host, app_host, activity_event: c.activity_event }
}
