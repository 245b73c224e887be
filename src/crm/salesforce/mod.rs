//! Salesforce REST: the connector (search, records, related lists; sans-IO request builders and
//! parsers) and the backup writer.
pub mod chat_object;
mod connector;
pub mod writer;

pub use connector::*;
pub use writer::SalesforceWriter;

use crate::core::model::Crm;
use crate::crm::descriptor::Descriptor;
use crate::crm::hosts;

pub static DESCRIPTOR: Descriptor = Descriptor {
    crm: Crm::Salesforce,
    serves: hosts::salesforce_serves,
    checked_api_base: hosts::salesforce_instance,
    budget: connector::budget,
    // Salesforce documents no window: the retry policy's default applies.
    rate_limit_window_ms: None,
};
