//! Zoho CRM v8: the connector (search, records, related lists; sans-IO request builders and
//! parsers) and the backup writer.
mod connector;
pub mod writer;

pub use connector::*;
pub use writer::ZohoWriter;

use crate::core::model::Crm;
use crate::crm::descriptor::Descriptor;
use crate::crm::hosts;

pub static DESCRIPTOR: Descriptor = Descriptor {
    crm: Crm::Zoho,
    serves: hosts::zoho_serves,
    checked_api_base: hosts::zoho_api_domain,
    budget: connector::budget,
    // Zoho documents no window: the retry policy's default applies.
    rate_limit_window_ms: None,
};
