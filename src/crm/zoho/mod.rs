//! Zoho CRM v8: the connector (search, records, related lists; sans-IO request builders and
//! parsers) and the backup writer.
mod connector;
pub mod writer;

pub use connector::*;
pub use writer::ZohoWriter;

use crate::core::model::Crm;
use crate::crm::auth::ZohoDc;
use crate::crm::credentials::{Connection, Credentials};
use crate::crm::descriptor::{Access, Descriptor};
use crate::crm::descriptor::{CredentialField, FieldKind};
use crate::crm::hosts;

pub static DESCRIPTOR: Descriptor = Descriptor {
    crm: Crm::Zoho,
    serves: hosts::zoho_serves,
    checked_api_base: hosts::zoho_api_domain,
    budget: connector::budget,
    // Zoho documents no window: the retry policy's default applies.
    rate_limit_window_ms: None,
    credential_fields: &[
        CredentialField {
            name: "dc",
            control: "zoho-dc",
            label: "fieldDataCentre",
            kind: FieldKind::DataCentre,
            sign_in: false,
        },
        CredentialField {
            name: "client_id",
            control: "zoho-client-id",
            label: "fieldClientId",
            kind: FieldKind::Text { default: "" },
            sign_in: true,
        },
        CredentialField {
            name: "client_secret",
            control: "zoho-client-secret",
            label: "fieldClientSecret",
            kind: FieldKind::Secret,
            sign_in: true,
        },
        CredentialField {
            name: "refresh_token",
            control: "zoho-refresh-token",
            label: "fieldRefreshToken",
            kind: FieldKind::Secret,
            sign_in: false,
        },
    ],
    own_app_sign_in: true,
    connector: |c, a| Box::new(client(c, a)),
    writer: |c, a| Box::new(ZohoWriter::new(client(c, a))),
};

/// The API client of a connection: the data centre the token answer's API host names (the
/// one the rep picked when the host is not a known one), and what connecting learned.
pub fn client(c: &Connection, a: Access) -> Zoho {
    let dc = match &c.credentials {
        Credentials::Zoho { dc, .. } => *dc,
        _ => ZohoDc::Us,
    };
    Zoho {
        dc: ZohoDc::from_api_domain(&a.base).unwrap_or(dc),
        api_domain: a.base,
        access_token: a.token.unwrap_or_default(),
        org_domain: c.org_domain.clone(),
        lead_sources: c.zoho_lead_sources.clone(),
    }
}
