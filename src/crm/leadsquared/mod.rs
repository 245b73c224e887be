//! LeadSquared v2: the connector (search, records, related lists; sans-IO request builders and
//! parsers) and the backup writer.
mod connector;
pub mod writer;

pub use connector::*;
pub use writer::LeadSquaredWriter;

use crate::core::model::Crm;
use crate::core::ratelimit::Budget;
use crate::crm::descriptor::Descriptor;
use crate::crm::hosts;

pub static DESCRIPTOR: Descriptor = Descriptor {
    crm: Crm::Leadsquared,
    serves: hosts::leadsquared_serves,
    checked_api_base: hosts::any_api_base,
    // LeadSquared reports no allowance on its answers.
    budget: |_| Budget::default(),
    // Calls are counted per 5 seconds (apidocs.leadsquared.com, rate limits).
    rate_limit_window_ms: Some(5_000),
};
