//! Salesforce REST: the connector (search, records, related lists; sans-IO request builders and
//! parsers) and the backup writer.
pub mod chat_object;
mod connector;
pub mod writer;

pub use connector::*;
pub use writer::SalesforceWriter;

use crate::core::model::Crm;
use crate::crm::credentials::Connection;
use crate::crm::descriptor::{Access, Descriptor};
use crate::crm::descriptor::{CredentialField, FieldKind};
use crate::crm::hosts;

pub static DESCRIPTOR: Descriptor = Descriptor {
    crm: Crm::Salesforce,
    serves: hosts::salesforce_serves,
    checked_api_base: hosts::salesforce_instance,
    budget: connector::budget,
    // Salesforce documents no window: the retry policy's default applies.
    rate_limit_window_ms: None,
    credential_fields: &[
        CredentialField {
            name: "login_host",
            control: "sf-login-host",
            label: "fieldLoginHost",
            kind: FieldKind::Text { default: "login.salesforce.com" },
            sign_in: true,
        },
        CredentialField {
            name: "client_id",
            control: "sf-client-id",
            label: "fieldConsumerKey",
            kind: FieldKind::Text { default: "" },
            sign_in: true,
        },
        CredentialField {
            name: "client_secret",
            control: "sf-client-secret",
            label: "fieldConsumerSecret",
            kind: FieldKind::OptionalSecret,
            sign_in: true,
        },
        CredentialField {
            name: "refresh_token",
            control: "sf-refresh-token",
            label: "fieldRefreshToken",
            kind: FieldKind::Secret,
            sign_in: false,
        },
    ],
    own_app_sign_in: true,
    connector: |c, a| Box::new(client(c, a)),
    // What the connection knows of the org's chat object spares the cycle its read.
    writer: |c, a| {
        let known = c.chat_object_known(a.now_ms);
        Box::new(SalesforceWriter::knowing(client(c, a), known))
    },
};

/// The API client: the token answer's instance URL, the access token, and whether the org
/// has multiple currencies.
pub fn client(c: &Connection, a: Access) -> Salesforce {
    Salesforce {
        instance_url: a.base,
        access_token: a.token.unwrap_or_default(),
        multi_currency: c.salesforce_multi_currency,
    }
}
