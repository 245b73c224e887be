//! Sans-IO CRM connectors: they build `HttpRequest`s and parse `HttpResponse`s into typed
//! outcomes; the service worker's transport performs them.
//!
//! - `auth`: OAuth/keys, token state machine (proactive refresh, one refresh per 401, a
//!   revoked grant becomes "reconnect needed"), PKCE, Zoho data centres.
//! - `zoho`, `salesforce`, `leadsquared`: each CRM as its API really is.
//! - Shared here: the `Connector` trait, failure classification, budget parsing, body splitting.
//!
//! Idempotency (a backup written twice must not appear twice) is per CRM; each module's
//! docs say how: Zoho read-before-write on a deterministic note title marker, Salesforce
//! upsert on an external-id field, LeadSquared read-before-write on a custom field holding the key.
pub mod auth;
pub mod backup;
pub mod connect;
pub mod create;
pub mod credentials;
pub mod descriptor;
pub mod distribution;
pub mod hosts;
/// Requests and answers are core types: the engine drives connectors without knowing them.
pub use crate::core::http;
pub mod leadsquared;
pub mod registry;
pub mod salesforce;
pub mod setup;
pub mod signin;
pub mod zoho;

#[cfg(test)]
mod said_tests;

use crate::core::model::{Crm, CrmRecord};
pub use crate::core::policy::Failure;
use http::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

/// What one CRM connector offers the product. Every method is pure.
pub trait Connector {
    fn crm(&self) -> Crm;
    /// The calls that look up these phone query variants (contacts before leads).
    fn search_requests(&self, variants: &[String]) -> Vec<HttpRequest>;
    /// The records one search answer holds; `Ok(vec![])` when none matched.
    fn parse_search(&self, resp: &HttpResponse) -> Result<Vec<CrmRecord>, Failure>;
    /// Same, knowing the request (a CRM whose answer does not name the module it searched).
    fn parse_search_of(
        &self,
        _req: &HttpRequest,
        resp: &HttpResponse,
    ) -> Result<Vec<CrmRecord>, Failure> {
        self.parse_search(resp)
    }
    /// Whether this search call looks up leads only (a CRM that searches its modules in
    /// separate calls): it is skipped when the contacts already settled the match
    /// (`core::matching::leads_can_change`).
    fn searches_leads_only(&self, _req: &HttpRequest) -> bool {
        false
    }
    /// Create a contact (or lead) from WhatsApp with what the rep typed in the form.
    fn create_request(&self, kind: CreateKind, new: &NewRecord) -> HttpRequest;
    /// The id of the new record, or of the record the CRM reports as its duplicate.
    fn parse_create(&self, resp: &HttpResponse) -> Result<Created, Failure>;
    /// Opens the record in the CRM's web UI.
    fn deep_link(&self, kind: crate::core::model::RecordKind, id: &str) -> Option<String>;
    /// The calls behind "Link existing record": a name, e-mail or phone typed by the rep.
    /// Answers parse with `parse_search`.
    fn text_search_requests(&self, query: &str) -> Vec<HttpRequest>;
    /// The record's most recent deals / opportunities for the card (None: the CRM keeps none
    /// for this kind of record).
    fn deals_request(&self, record: &crate::core::model::RecordRef) -> Option<HttpRequest>;
    fn parse_deal_rows(
        &self,
        resp: &HttpResponse,
    ) -> Result<Vec<crate::core::model::DealRow>, Failure>;
}

/// What a text search means: an e-mail, a phone number, or words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    Email(String),
    Phone(String),
    Words(String),
}

impl Query {
    /// `None` when there is nothing to search for (fewer than 2 characters).
    pub fn parse(q: &str) -> Option<Query> {
        let q = q.trim();
        if q.chars().count() < 2 {
            return None;
        }
        if q.contains('@') {
            return Some(Query::Email(q.to_string()));
        }
        let digits = q.chars().filter(char::is_ascii_digit).count();
        if digits >= 3 && q.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
            return Some(Query::Phone(q.to_string()));
        }
        Some(Query::Words(q.to_string()))
    }
}

pub(crate) fn num_of(v: &serde_json::Value, k: &str) -> Option<f64> {
    match v.get(k)? {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The create form as the rep filled it: name, E.164 number, optional e-mail and company.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewRecord {
    pub name: String,
    pub phone: String,
    pub email: Option<String>,
    pub company: Option<String>,
}

impl NewRecord {
    pub fn new(name: &str, phone: &str) -> Self {
        NewRecord { name: name.to_string(), phone: phone.to_string(), email: None, company: None }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreateKind {
    Contact,
    Lead,
}

/// A create's outcome: the CRM made a record, or told us one already exists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Created {
    New { id: String },
    Duplicate { id: String },
}

pub use crate::core::ratelimit::Budget;

/// The allowance a CRM reported on an answer (Zoho credits header, Salesforce
/// `Sforce-Limit-Info`; LeadSquared reports none).
pub fn budget_of(crm: Crm, resp: &HttpResponse) -> Budget {
    (registry::of(crm).budget)(resp)
}

/// How long a CRM's rate-limit window lasts when its 429 names no `Retry-After`.
pub fn rate_limit_window_ms(crm: Crm) -> Option<u64> {
    registry::of(crm).rate_limit_window_ms
}

/// `Retry-After` in milliseconds (delta-seconds form; CRMs do not send HTTP dates here).
pub fn retry_after_ms(resp: &HttpResponse) -> Option<u64> {
    resp.header("retry-after")?.trim().parse::<u64>().ok().map(|s| s.saturating_mul(1000))
}

/// Failures every CRM shares: no response, 5xx, 429.
pub fn transport_failure(resp: &HttpResponse) -> Option<Failure> {
    match resp.status {
        0 => Some(Failure::Transient { reason: "no response from the CRM".into() }),
        429 => Some(Failure::RateLimited { after_ms: retry_after_ms(resp) }),
        s if s >= 500 => Some(Failure::Transient { reason: format!("CRM answered HTTP {s}") }),
        _ => None,
    }
}

pub(crate) fn json(resp: &HttpResponse) -> Result<serde_json::Value, Failure> {
    serde_json::from_slice(&resp.body).map_err(|e| Failure::Transient {
        reason: format!("unreadable CRM answer (HTTP {}): {e}", resp.status),
    })
}

pub(crate) fn str_of(v: &serde_json::Value, k: &str) -> Option<String> {
    match v.get(k)? {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Percent-encode a query-string value (`+` must become `%2B`, or the CRM reads a space).
pub fn enc(s: &str) -> String {
    // RFC 3986 unreserved characters stay as they are.
    const QUERY: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(s, QUERY).to_string()
}

/// An `application/x-www-form-urlencoded` body.
pub fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut f = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        f.append_pair(k, v);
    }
    f.finish().into_bytes()
}

pub(crate) fn json_request(
    method: http::Method,
    url: String,
    body: &serde_json::Value,
) -> HttpRequest {
    HttpRequest {
        method,
        url,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: Some(body.to_string().into_bytes()),
    }
}

pub use crate::core::transcript::split_parts;

#[cfg(test)]
pub(crate) fn golden(path: &str) -> Vec<u8> {
    let p = format!("{}/tests/data/crm/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

#[cfg(test)]
pub(crate) fn resp(status: u16, body: &[u8]) -> HttpResponse {
    HttpResponse { status, headers: vec![], body: body.to_vec() }
}

/// Every connector is a matching `RecordFinder`.
impl<T: Connector> crate::core::matching::RecordFinder for T {
    fn crm(&self) -> Crm {
        Connector::crm(self)
    }
    fn search_requests(&self, variants: &[String]) -> Vec<HttpRequest> {
        Connector::search_requests(self, variants)
    }
    fn parse_search(&self, resp: &HttpResponse) -> Result<Vec<CrmRecord>, Failure> {
        Connector::parse_search(self, resp)
    }
}

impl Connector for Box<dyn Connector> {
    fn crm(&self) -> Crm {
        (**self).crm()
    }
    fn search_requests(&self, variants: &[String]) -> Vec<HttpRequest> {
        (**self).search_requests(variants)
    }
    fn parse_search(&self, resp: &HttpResponse) -> Result<Vec<CrmRecord>, Failure> {
        (**self).parse_search(resp)
    }
    fn parse_search_of(
        &self,
        req: &HttpRequest,
        resp: &HttpResponse,
    ) -> Result<Vec<CrmRecord>, Failure> {
        (**self).parse_search_of(req, resp)
    }
    fn searches_leads_only(&self, req: &HttpRequest) -> bool {
        (**self).searches_leads_only(req)
    }
    fn create_request(&self, kind: CreateKind, new: &NewRecord) -> HttpRequest {
        (**self).create_request(kind, new)
    }
    fn parse_create(&self, resp: &HttpResponse) -> Result<Created, Failure> {
        (**self).parse_create(resp)
    }
    fn deep_link(&self, kind: crate::core::model::RecordKind, id: &str) -> Option<String> {
        (**self).deep_link(kind, id)
    }
    fn text_search_requests(&self, query: &str) -> Vec<HttpRequest> {
        (**self).text_search_requests(query)
    }
    fn deals_request(&self, record: &crate::core::model::RecordRef) -> Option<HttpRequest> {
        (**self).deals_request(record)
    }
    fn parse_deal_rows(
        &self,
        resp: &HttpResponse,
    ) -> Result<Vec<crate::core::model::DealRow>, Failure> {
        (**self).parse_deal_rows(resp)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_leadsquared_429_waits_its_5_second_window() {
        // Before: the sync engine read a bare 429 as "no Retry-After" for every CRM and paused
        // LeadSquared writes for the policy's default (tens of seconds) instead of its window.
        assert_eq!(rate_limit_window_ms(Crm::Leadsquared), Some(5_000));
        assert_eq!(rate_limit_window_ms(Crm::Zoho), None);
        assert_eq!(rate_limit_window_ms(Crm::Salesforce), None);
    }

    use super::*;

    #[test]
    fn split_keeps_order_and_limit_and_prefers_line_breaks() {
        let body = "aaaa\nbbbb\ncccccccccccc\nd\n";
        let parts = split_parts(body, 10);
        assert!(parts.iter().all(|p| p.chars().count() <= 10), "{parts:?}");
        assert_eq!(parts.concat(), body);
        assert_eq!(parts[0], "aaaa\nbbbb\n");
        assert_eq!(split_parts("short", 65_535), vec!["short".to_string()]);
        assert_eq!(split_parts("", 10), vec![String::new()]);
        // multi-byte characters count as one
        let emoji = "😀".repeat(25);
        let p = split_parts(&emoji, 10);
        assert_eq!(p.len(), 3);
        assert_eq!(p.concat(), emoji);
    }

    #[test]
    fn queries_are_read_as_email_phone_or_words() {
        assert_eq!(Query::parse(" ana@x.com "), Some(Query::Email("ana@x.com".into())));
        assert_eq!(
            Query::parse("+55 (11) 98765-4321"),
            Some(Query::Phone("+55 (11) 98765-4321".into()))
        );
        assert_eq!(Query::parse("Ana Souza"), Some(Query::Words("Ana Souza".into())));
        assert_eq!(Query::parse("R2D2"), Some(Query::Words("R2D2".into())));
        assert_eq!(Query::parse("a"), None);
    }

    #[test]
    fn encodes_plus_and_reads_retry_after() {
        assert_eq!(enc("+91 98"), "%2B91%2098");
        assert_eq!(String::from_utf8(form(&[("a", "x y"), ("b", "+")])).unwrap(), "a=x+y&b=%2B");
        let r = HttpResponse {
            status: 429,
            headers: vec![("Retry-After".into(), "7".into())],
            body: vec![],
        };
        assert_eq!(transport_failure(&r), Some(Failure::RateLimited { after_ms: Some(7000) }));
        assert!(matches!(transport_failure(&resp(503, b"")), Some(Failure::Transient { .. })));
        assert_eq!(transport_failure(&resp(200, b"")), None);
    }
}
