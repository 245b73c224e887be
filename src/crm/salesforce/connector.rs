//! Salesforce REST.
//!
//! Idempotency: a chat backup is a `WhatsApp_Chat__c` record upserted on the external-id
//! field `External_Key__c` = `UnitKey::external_key` (sObject Collections upsert, ≤200), so a
//! retry after a lost response updates the same record. The ContentNote has no external id:
//! the writer keeps its id and reconciles by `SELECT Id FROM ContentNote WHERE Title = '<key> …'`
//! before creating again (read-before-write). Notes go 200 to an sObject Collections create,
//! then their ContentDocumentLinks 200 to another (a link names its note's id); a link whose
//! create is unsure is looked up by document and record before it is made again.
use crate::core::model::{Crm, CrmRecord, RecordKind};
use crate::crm::auth;
use crate::crm::http::{HttpRequest, HttpResponse, Method};
use crate::crm::{
    json, json_request, str_of, transport_failure, Budget, Connector, CreateKind, Created, Failure,
};
use base64::Engine;
use serde_json::{json, Value};

pub const API_VERSION: &str = "v62.0";
pub const COLLECTION_MAX: usize = 200;
pub const CHAT_OBJECT: &str = "WhatsApp_Chat__c";
pub const CHAT_KEY_FIELD: &str = "External_Key__c";
/// Task.Description is a 32,000-character long text area; Task.Subject 255 (object reference: Task).
pub const TASK_DESCRIPTION_MAX: usize = 32_000;
pub const TASK_SUBJECT_MAX: usize = 255;
/// Long Text Area maximum; the API counts bytes, so the writer splits on this many bytes.
pub const LONG_TEXT_MAX: usize = 131_072;
/// JSON (base64) ContentVersion inserts are limited to 37.5 MB of base64 text.
pub const CONTENT_VERSION_JSON_MAX_BYTES: u64 = 37_500_000 / 4 * 3;
const REVOKED: &[&str] = &["invalid_grant"];

/// Where the user logs in: production, sandbox, or the org's My Domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginHost {
    Production,
    Sandbox,
    MyDomain(String),
}

impl LoginHost {
    pub fn base(&self) -> String {
        match self {
            LoginHost::Production => "https://login.salesforce.com".into(),
            LoginHost::Sandbox => "https://test.salesforce.com".into(),
            LoginHost::MyDomain(d) => {
                let d = d.trim().trim_start_matches("https://").trim_end_matches('/');
                if d.contains('.') {
                    format!("https://{d}")
                } else {
                    format!("https://{d}.my.salesforce.com")
                }
            }
        }
    }
}

/// Authorization URL with PKCE S256 (`refresh_token` scope, or no refresh token is issued).
pub fn authorize_url(
    host: &LoginHost,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
) -> String {
    format!(
        "{}/services/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&scope={}&state={}&code_challenge={}&code_challenge_method=S256",
        host.base(),
        crate::crm::enc(client_id),
        crate::crm::enc(redirect_uri),
        crate::crm::enc("api refresh_token"),
        crate::crm::enc(state),
        crate::crm::enc(challenge)
    )
}

/// The authorization-code exchange (PKCE), with the consumer secret when one is configured:
/// connected apps require it unless "Require Secret for Web Server Flow" is switched off.
pub fn code_exchange(
    host: &LoginHost,
    client_id: &str,
    client_secret: Option<&str>,
    redirect_uri: &str,
    code: &str,
    verifier: &str,
) -> HttpRequest {
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("code", code),
        ("code_verifier", verifier),
    ];
    if let Some(s) = client_secret.map(str::trim).filter(|s| !s.is_empty()) {
        pairs.push(("client_secret", s));
    }
    auth::token_request(format!("{}/services/oauth2/token", host.base()), &pairs)
}

/// Refresh; also the paste-credentials path (consumer key/secret + refresh token).
pub fn refresh(
    host: &LoginHost,
    client_id: &str,
    client_secret: Option<&str>,
    refresh_token: &str,
) -> HttpRequest {
    let mut pairs = vec![
        ("grant_type", "refresh_token"),
        ("client_id", client_id),
        ("refresh_token", refresh_token),
    ];
    if let Some(s) = client_secret {
        pairs.push(("client_secret", s));
    }
    auth::token_request(format!("{}/services/oauth2/token", host.base()), &pairs)
}

pub fn parse_token(resp: &HttpResponse, now_ms: u64) -> Result<auth::Tokens, Failure> {
    auth::parse_token(resp, now_ms, REVOKED, auth::SALESFORCE_ASSUMED_TTL_MS)
}

/// `Sforce-Limit-Info: api-usage=18/5000`.
pub fn budget(resp: &HttpResponse) -> Budget {
    let Some(h) = resp.header("sforce-limit-info") else { return Budget::default() };
    let usage = h.split(';').find_map(|p| p.trim().strip_prefix("api-usage="));
    let Some((used, max)) = usage.and_then(|u| u.split_once('/')) else { return Budget::default() };
    let (Ok(used), Ok(max)) = (used.trim().parse::<u64>(), max.trim().parse::<u64>()) else {
        return Budget::default();
    };
    Budget { remaining: Some(max.saturating_sub(used)), limit: Some(max) }
}

fn first_error(v: &Value) -> (String, String) {
    let e = v.get(0).unwrap_or(v);
    (
        str_of(e, "errorCode").or_else(|| str_of(e, "statusCode")).unwrap_or_default(),
        str_of(e, "message").unwrap_or_default(),
    )
}

/// Whole-request failure, or None for 2xx.
pub fn classify(resp: &HttpResponse) -> Option<Failure> {
    if let Some(f) = transport_failure(resp) {
        return Some(f);
    }
    if resp.status < 400 {
        return None;
    }
    let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    let (code, msg) = first_error(&v);
    Some(match (resp.status, code.as_str()) {
        // jsforce's rule: these 401s are not expiry, and refreshing would loop.
        (401, _) if msg.contains("not valid for use with the REST API") => {
            Failure::PermissionDenied { reason: msg }
        }
        (401, _) => Failure::AuthExpired,
        (403, "REQUEST_LIMIT_EXCEEDED") => {
            Failure::RateLimited { after_ms: crate::crm::retry_after_ms(resp) }
        }
        (403, _) => Failure::PermissionDenied { reason: format!("{code}: {msg}") },
        _ => Failure::Rejected { reason: format!("{code}: {msg}") },
    })
}

/// A ContentNote's `Content`: base64 of HTML, one `<p>` per line (Salesforce strips
/// newlines; special characters HTML-escaped).
fn note_content(text: &str) -> String {
    let html: String =
        text.lines().map(|l| format!("<p>{}</p>", html_escape::encode_text(l))).collect();
    base64::engine::general_purpose::STANDARD.encode(html.as_bytes())
}

fn task_description_ok(d: &str) -> Result<(), String> {
    let n = d.chars().count();
    if n > TASK_DESCRIPTION_MAX {
        return Err(format!("a task description of {n} characters exceeds {TASK_DESCRIPTION_MAX}"));
    }
    Ok(())
}

/// A SOQL string literal's content (backslash and quote escaped).
pub fn soql_quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}

/// SOSL reserved characters inside `FIND {...}`.
pub fn escape_sosl(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "?&|!{}[]()^~*:\\\"'+-".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Salesforce {
    /// `instance_url` from the token response.
    pub instance_url: String,
    pub access_token: String,
    /// The org has multiple currencies on (its `CurrencyType` object exists, read at
    /// connect): each opportunity's `CurrencyIsoCode` is asked for, since the org has no
    /// single currency its amounts are in. Elsewhere the field does not exist.
    pub multi_currency: bool,
}

impl Salesforce {
    fn url(&self, path: &str) -> String {
        format!("{}/services/data/{API_VERSION}{path}", self.instance_url.trim_end_matches('/'))
    }

    fn authed(&self, mut r: HttpRequest) -> HttpRequest {
        r.headers.push(("Authorization".into(), format!("Bearer {}", self.access_token)));
        r
    }

    pub fn sosl(phone: &str) -> String {
        Self::sosl_in(phone, "PHONE")
    }

    /// `FIND {"t1" OR "t2" …} IN PHONE FIELDS RETURNING` the card's fields. SOSL drops logical
    /// operators past 4,000 characters of search query (SOSL syntax), far above a number's
    /// few variants.
    pub fn sosl_any(terms: &[&str]) -> String {
        let q: Vec<String> = terms.iter().map(|t| format!("\"{}\"", escape_sosl(t))).collect();
        Self::sosl_returning(&q.join(" OR "), "PHONE")
    }

    /// `FIND {term} IN <group> FIELDS RETURNING` the card's fields of contacts and open leads.
    fn sosl_in(term: &str, group: &str) -> String {
        Self::sosl_returning(&escape_sosl(term), group)
    }

    fn sosl_returning(query: &str, group: &str) -> String {
        format!(
            "FIND {{{query}}} IN {group} FIELDS RETURNING Contact(Id, Name, Phone, MobilePhone, HomePhone, OtherPhone, AssistantPhone, Email, Title, Account.Name, Owner.Name), Lead(Id, Name, Phone, MobilePhone, Email, Title, Company, Status, Owner.Name WHERE IsConverted = false)"
        )
    }

    /// The contact's 5 most recently changed opportunities. Contacts are tied to
    /// opportunities through `OpportunityContactRole` (object reference: OpportunityContactRole);
    /// `Opportunity.ContactId` holds only a primary contact set at creation.
    pub fn opportunities_query(contact_id: &str, multi_currency: bool) -> String {
        format!(
            "SELECT OpportunityId, Opportunity.Name, Opportunity.StageName, Opportunity.Amount, {}Opportunity.CloseDate FROM OpportunityContactRole WHERE ContactId = '{}' ORDER BY Opportunity.LastModifiedDate DESC LIMIT 5",
            if multi_currency { "Opportunity.CurrencyIsoCode, " } else { "" },
            soql_quote(contact_id)
        )
    }

    /// The org's currency, read once at connect: `SELECT DefaultCurrencyIsoCode FROM
    /// Organization` (object reference: Organization, `DefaultCurrencyIsoCode`, the currency of
    /// an org without multiple currencies). Opportunity amounts carry no currency of their own
    /// there: `CurrencyIsoCode` exists only where multiple currencies are on (object reference:
    /// Opportunity; CurrencyType, "not available in single-currency organizations").
    pub fn org_currency_request(&self) -> HttpRequest {
        self.authed(HttpRequest::get(self.url(&format!(
            "/query/?q={}",
            crate::crm::enc("SELECT DefaultCurrencyIsoCode FROM Organization")
        ))))
    }

    /// `records[0].DefaultCurrencyIsoCode` (e.g. `BRL`), or None when the answer has none.
    pub fn parse_org_currency(resp: &HttpResponse) -> Option<String> {
        if classify(resp).is_some() {
            return None;
        }
        let v = json(resp).ok()?;
        let org = v.get("records").and_then(|r| r.get(0))?;
        str_of(org, "DefaultCurrencyIsoCode").filter(|c| c.len() == 3)
    }

    /// Whether the org has multiple currencies on: its `CurrencyType` object exists only then
    /// (object reference: CurrencyType, special access rules). There, each opportunity has its
    /// own currency and the org's default says nothing about an amount.
    pub fn multi_currency_request(&self) -> HttpRequest {
        self.object_info_request("CurrencyType")
    }

    /// sObject Basic Information (`GET /sobjects/{object}`): 200 when the org has the
    /// object, 404 NOT_FOUND when it does not (a custom object exists only once deployed).
    pub fn object_info_request(&self, object: &str) -> HttpRequest {
        self.authed(HttpRequest::get(self.url(&format!("/sobjects/{object}"))))
    }

    /// Whether the object exists, from `object_info_request`'s answer.
    pub fn parse_object_info(resp: &HttpResponse) -> Result<bool, Failure> {
        if resp.status == 404 {
            return Ok(false);
        }
        match classify(resp) {
            Some(f) => Err(f),
            None => Ok(true),
        }
    }

    /// Completed Tasks on contacts or leads (`WhoId`), the backup every org can take, in one
    /// sObject Collections create (≤200): `(who id, subject, day, description)`.
    /// `Subject` ≤ 255, `Description` ≤ 32,000 characters (object reference: Task).
    pub fn create_tasks(
        &self,
        tasks: &[(String, String, String, String)],
    ) -> Result<HttpRequest, String> {
        let records = tasks
            .iter()
            .map(|(who, subject, day, description)| {
                task_description_ok(description)?;
                Ok(json!({"attributes": {"type": "Task"}, "WhoId": who, "Subject": subject.chars().take(TASK_SUBJECT_MAX).collect::<String>(), "Description": description,
                          "Status": "Completed", "ActivityDate": day, "Priority": "Normal"}))
            })
            .collect::<Result<Vec<Value>, String>>()?;
        self.collection(Method::Post, records)
    }

    /// The day grew: `(task id, subject, description)` in one sObject Collections update.
    pub fn update_tasks(&self, tasks: &[(String, String, String)]) -> Result<HttpRequest, String> {
        let records = tasks
            .iter()
            .map(|(id, subject, description)| {
                task_description_ok(description)?;
                Ok(json!({"attributes": {"type": "Task"}, "id": id, "Subject": subject.chars().take(TASK_SUBJECT_MAX).collect::<String>(), "Description": description}))
            })
            .collect::<Result<Vec<Value>, String>>()?;
        self.collection(Method::Patch, records)
    }

    /// Read-before-write for a task: by its record and its (deterministic) subject.
    pub fn find_task_request(&self, who_id: &str, subject: &str) -> HttpRequest {
        let subject: String = subject.chars().take(TASK_SUBJECT_MAX).collect();
        let q = format!(
            "SELECT Id FROM Task WHERE WhoId = '{}' AND Subject = '{}'",
            soql_quote(who_id),
            soql_quote(&subject)
        );
        self.authed(HttpRequest::get(self.url(&format!("/query?q={}", crate::crm::enc(&q)))))
    }

    /// Upsert chat records on the external id: `(key, record kind, record id, title, day, transcript)`.
    pub fn upsert_chats(
        &self,
        chats: &[(String, RecordKind, String, String, String, String)],
    ) -> Result<HttpRequest, String> {
        if chats.len() > COLLECTION_MAX {
            return Err(format!(
                "{} records exceed sObject Collections' {COLLECTION_MAX}",
                chats.len()
            ));
        }
        let records: Vec<Value> = chats
            .iter()
            .map(|(key, kind, id, title, day, text)| {
                let lookup = if *kind == RecordKind::Lead { "Lead__c" } else { "Contact__c" };
                json!({"attributes": {"type": CHAT_OBJECT}, CHAT_KEY_FIELD: key, lookup: id, "Name": title.chars().take(80).collect::<String>(), "Chat_Date__c": day, "Transcript__c": text})
            })
            .collect();
        Ok(self.authed(json_request(
            Method::Patch,
            self.url(&format!("/composite/sobjects/{CHAT_OBJECT}/{CHAT_KEY_FIELD}")),
            &json!({"allOrNone": false, "records": records}),
        )))
    }

    /// Per-record results of a collections call, in input order.
    pub fn parse_collection(resp: &HttpResponse) -> Result<Vec<Result<String, Failure>>, Failure> {
        if let Some(f) = classify(resp) {
            return Err(f);
        }
        let v = json(resp)?;
        let items = v.as_array().ok_or_else(|| Failure::Transient {
            reason: "collections answer is not an array".into(),
        })?;
        Ok(items
            .iter()
            .map(|it| {
                if it.get("success").and_then(|s| s.as_bool()) == Some(true) {
                    str_of(it, "id")
                        .ok_or_else(|| Failure::Transient { reason: "success without id".into() })
                } else {
                    let (code, msg) = first_error(it.get("errors").unwrap_or(&Value::Null));
                    Err(Failure::Rejected { reason: format!("{code}: {msg}") })
                }
            })
            .collect())
    }

    /// One sObject Collections call (`POST` create, `PATCH` update) of at most 200 records,
    /// each standing alone (`allOrNone` false: one refused record does not roll back the others;
    /// REST `resources_composite_sobjects_collections_create` / `_update`).
    fn collection(&self, method: Method, records: Vec<Value>) -> Result<HttpRequest, String> {
        if records.len() > COLLECTION_MAX {
            return Err(format!(
                "{} records exceed sObject Collections' {COLLECTION_MAX}",
                records.len()
            ));
        }
        Ok(self.authed(json_request(
            method,
            self.url("/composite/sobjects"),
            &json!({"allOrNone": false, "records": records}),
        )))
    }

    /// New ContentNotes `(title, transcript)` in one sObject Collections create (≤200). Each
    /// is then shared with its contact or lead by a ContentDocumentLink (`link_documents`):
    /// the note's id is its ContentDocument's id (object reference: ContentNote).
    pub fn create_content_notes(&self, notes: &[(String, String)]) -> Result<HttpRequest, String> {
        let records = notes
            .iter()
            .map(|(title, text)| {
                json!({"attributes": {"type": "ContentNote"}, "Title": title, "Content": note_content(text)})
            })
            .collect();
        self.collection(Method::Post, records)
    }

    /// The day grew: `(note id, title, transcript)` in one sObject Collections update (only
    /// `Title` and `Content` of a ContentNote are updatable).
    pub fn update_content_notes(
        &self,
        notes: &[(String, String, String)],
    ) -> Result<HttpRequest, String> {
        let records = notes
            .iter()
            .map(|(id, title, text)| {
                json!({"attributes": {"type": "ContentNote"}, "id": id, "Title": title, "Content": note_content(text)})
            })
            .collect();
        self.collection(Method::Patch, records)
    }

    /// ContentDocumentLinks `(document id, contact or lead id)` in one sObject Collections
    /// create (≤200): viewer rights, visible to all users (object reference:
    /// ContentDocumentLink; `LinkedEntityId` may be any feed-trackable record since v33).
    pub fn link_documents(&self, links: &[(String, String)]) -> Result<HttpRequest, String> {
        let records = links
            .iter()
            .map(|(doc, linked)| {
                json!({"attributes": {"type": "ContentDocumentLink"}, "ContentDocumentId": doc, "LinkedEntityId": linked, "ShareType": "V", "Visibility": "AllUsers"})
            })
            .collect();
        self.collection(Method::Post, records)
    }

    /// Links a reconcile found, brought to the rendering's sharing: `ShareType` is the one
    /// updatable field of a ContentDocumentLink that we set (object reference: ShareType
    /// Create, Update).
    pub fn update_links(&self, ids: &[String]) -> Result<HttpRequest, String> {
        let records = ids
            .iter()
            .map(|id| json!({"attributes": {"type": "ContentDocumentLink"}, "id": id, "ShareType": "V"}))
            .collect();
        self.collection(Method::Patch, records)
    }

    /// Read-before-write for a link: by its document and its record (a ContentDocumentLink
    /// query must filter on one of them).
    pub fn find_link_request(&self, document_id: &str, linked_id: &str) -> HttpRequest {
        let q = format!(
            "SELECT Id FROM ContentDocumentLink WHERE ContentDocumentId = '{}' AND LinkedEntityId = '{}'",
            soql_quote(document_id),
            soql_quote(linked_id)
        );
        self.authed(HttpRequest::get(self.url(&format!("/query?q={}", crate::crm::enc(&q)))))
    }

    /// A file as ContentVersion published to (linked with) the chat record.
    pub fn content_version(
        &self,
        file_name: &str,
        bytes: &[u8],
        linked_id: &str,
    ) -> Result<HttpRequest, String> {
        if bytes.len() as u64 > CONTENT_VERSION_JSON_MAX_BYTES {
            return Err(format!(
                "{file_name}: {} bytes exceeds the 37.5 MB base64 upload limit",
                bytes.len()
            ));
        }
        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
        Ok(self.authed(json_request(
            Method::Post,
            self.url("/sobjects/ContentVersion"),
            &json!({"Title": file_name, "PathOnClient": file_name, "VersionData": data, "FirstPublishLocationId": linked_id}),
        )))
    }

    pub fn parse_single(resp: &HttpResponse) -> Result<String, Failure> {
        if let Some(f) = classify(resp) {
            return Err(f);
        }
        let v = json(resp)?;
        str_of(&v, "id")
            .ok_or_else(|| Failure::Transient { reason: "create answer without id".into() })
    }
}

fn record_of(v: &Value) -> Option<CrmRecord> {
    let kind = match v.get("attributes").and_then(|a| str_of(a, "type")).as_deref() {
        Some("Contact") => RecordKind::Contact,
        Some("Lead") => RecordKind::Lead,
        _ => return None,
    };
    let phones = ["Phone", "MobilePhone", "HomePhone", "OtherPhone", "AssistantPhone"]
        .iter()
        .filter_map(|f| str_of(v, f).map(|p| (f.to_string(), p)))
        .collect();
    Some(CrmRecord {
        crm: Some(Crm::Salesforce),
        kind: Some(kind),
        id: str_of(v, "Id")?,
        name: str_of(v, "Name").unwrap_or_default(),
        phones,
        email: str_of(v, "Email"),
        company: str_of(v, "Company").or_else(|| v.get("Account").and_then(|a| str_of(a, "Name"))),
        title: str_of(v, "Title"),
        owner: v.get("Owner").and_then(|o| str_of(o, "Name")),
        status: str_of(v, "Status"),
    })
}

impl Connector for Salesforce {
    fn crm(&self) -> Crm {
        Crm::Salesforce
    }

    fn text_search_requests(&self, query: &str) -> Vec<HttpRequest> {
        let sosl = match crate::crm::Query::parse(query) {
            Some(crate::crm::Query::Email(e)) => Self::sosl_in(&e, "EMAIL"),
            Some(crate::crm::Query::Phone(p)) => Self::sosl_in(&p, "PHONE"),
            Some(crate::crm::Query::Words(w)) => Self::sosl_in(&w, "NAME"),
            None => return vec![],
        };
        vec![self
            .authed(HttpRequest::get(self.url(&format!("/search/?q={}", crate::crm::enc(&sosl)))))]
    }

    fn deals_request(&self, record: &crate::core::model::RecordRef) -> Option<HttpRequest> {
        (record.kind == RecordKind::Contact).then(|| {
            self.authed(HttpRequest::get(self.url(&format!(
                "/query/?q={}",
                crate::crm::enc(&Self::opportunities_query(&record.id, self.multi_currency))
            ))))
        })
    }

    /// `OpportunityContactRole` rows, each with its `Opportunity`.
    fn parse_deal_rows(
        &self,
        resp: &HttpResponse,
    ) -> Result<Vec<crate::core::model::DealRow>, Failure> {
        if let Some(f) = classify(resp) {
            return Err(f);
        }
        let v = json(resp)?;
        let recs = v.get("records").and_then(|r| r.as_array()).ok_or_else(|| {
            Failure::Transient { reason: "query answer without records[]".into() }
        })?;
        let mut seen = std::collections::BTreeSet::new();
        Ok(recs
            .iter()
            .filter_map(|role| {
                let o = role.get("Opportunity").filter(|o| o.is_object())?;
                let id = str_of(role, "OpportunityId").or_else(|| str_of(o, "Id"))?;
                seen.insert(id.clone()).then(|| crate::core::model::DealRow {
                    id: Some(id),
                    name: str_of(o, "Name").unwrap_or_default(),
                    stage: str_of(o, "StageName"),
                    amount: crate::crm::num_of(o, "Amount"),
                    currency: str_of(o, "CurrencyIsoCode"),
                    close_date: str_of(o, "CloseDate"),
                })
            })
            .take(crate::core::model::MAX_DEALS)
            .collect())
    }

    /// One SOSL for every variant: `FIND {"a" OR "b" …} IN PHONE FIELDS RETURNING Contact(…),
    /// Lead(…)` (SOSL reference, FIND {SearchQuery}: phrases in double quotes joined by
    /// logical operators; Example Text Searches: `FIND {"Joe Smith" OR "Joe Smythe"}`).
    fn search_requests(&self, variants: &[String]) -> Vec<HttpRequest> {
        let mut terms: Vec<&str> = Vec::new();
        for v in variants {
            if v.chars().filter(|c| c.is_ascii_digit()).count() >= 3 && !terms.contains(&v.as_str())
            {
                terms.push(v);
            }
        }
        if terms.is_empty() {
            return vec![];
        }
        vec![self.authed(HttpRequest::get(
            self.url(&format!("/search/?q={}", crate::crm::enc(&Self::sosl_any(&terms)))),
        ))]
    }

    fn parse_search(&self, resp: &HttpResponse) -> Result<Vec<CrmRecord>, Failure> {
        if let Some(f) = classify(resp) {
            return Err(f);
        }
        let v = json(resp)?;
        // v37+: {"searchRecords":[..]}; earlier versions: a bare array.
        let items = v
            .get("searchRecords")
            .and_then(|s| s.as_array())
            .or_else(|| v.as_array())
            .cloned()
            .unwrap_or_default();
        Ok(items.iter().filter_map(record_of).collect())
    }

    fn create_request(&self, kind: CreateKind, new: &crate::crm::NewRecord) -> HttpRequest {
        let (first, last) = crate::crm::zoho::split_name(&new.name);
        let mut body = json!({"LastName": last, "MobilePhone": new.phone});
        let typed = |v: &Option<String>| {
            v.as_deref().map(str::trim).filter(|x| !x.is_empty()).map(str::to_string)
        };
        if let Some(o) = body.as_object_mut() {
            if let Some(f) = first {
                o.insert("FirstName".into(), json!(f));
            }
            if let Some(e) = typed(&new.email) {
                o.insert("Email".into(), json!(e));
            }
        }
        let obj = match kind {
            CreateKind::Contact => "Contact",
            CreateKind::Lead => {
                if let Some(o) = body.as_object_mut() {
                    // Company is required on a Lead: what the rep typed, else the channel.
                    o.insert(
                        "Company".into(),
                        json!(typed(&new.company).unwrap_or_else(|| "WhatsApp".into())),
                    );
                    o.insert("LeadSource".into(), json!("WhatsApp"));
                }
                "Lead"
            }
        };
        self.authed(json_request(Method::Post, self.url(&format!("/sobjects/{obj}/")), &body))
    }

    fn parse_create(&self, resp: &HttpResponse) -> Result<Created, Failure> {
        if resp.status == 400 {
            let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
            let dup = v.as_array().and_then(|a| {
                a.iter().find(|e| str_of(e, "errorCode").as_deref() == Some("DUPLICATES_DETECTED"))
            });
            if let Some(e) = dup {
                let id = e
                    .pointer("/duplicateResult/matchResults")
                    .and_then(|m| m.as_array())
                    .and_then(|m| {
                        m.iter().find_map(|r| {
                            r.pointer("/matchRecords/0/record/Id").and_then(|i| i.as_str())
                        })
                    });
                return id.map(|id| Created::Duplicate { id: id.to_string() }).ok_or_else(|| {
                    Failure::Rejected {
                        reason: "DUPLICATES_DETECTED without a matched record".into(),
                    }
                });
            }
        }
        Self::parse_single(resp).map(|id| Created::New { id })
    }

    /// `https://acme.my.salesforce.com` → `https://acme.lightning.force.com/lightning/r/Contact/{id}/view`;
    /// other instance hosts keep their host (Salesforce redirects `/lightning/r/...`).
    fn deep_link(&self, kind: RecordKind, id: &str) -> Option<String> {
        let obj = match kind {
            RecordKind::Contact => "Contact",
            RecordKind::Lead => "Lead",
            RecordKind::Deal | RecordKind::Opportunity => "Opportunity",
        };
        let host = self.instance_url.trim_end_matches('/').trim_start_matches("https://");
        let host = match host.strip_suffix(".my.salesforce.com") {
            Some(d) => format!("{d}.lightning.force.com"),
            None => host.to_string(),
        };
        Some(format!("https://{host}/lightning/r/{obj}/{id}/view"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::{golden, resp};

    fn sf() -> Salesforce {
        Salesforce {
            instance_url: "https://crmsync-dev.my.salesforce.com".into(),
            access_token: "00D!tok".into(),
            multi_currency: false,
        }
    }

    fn body(r: &HttpRequest) -> Value {
        serde_json::from_slice(r.body.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn oauth_hosts_pkce_and_refresh() {
        assert_eq!(LoginHost::MyDomain("acme".into()).base(), "https://acme.my.salesforce.com");
        assert_eq!(LoginHost::Sandbox.base(), "https://test.salesforce.com");
        let a =
            authorize_url(&LoginHost::Production, "key", "https://x.chromiumapp.org/", "s", "E9M");
        assert!(a.starts_with(
            "https://login.salesforce.com/services/oauth2/authorize?response_type=code"
        ));
        assert!(
            a.contains("code_challenge=E9M&code_challenge_method=S256")
                && a.contains("scope=api%20refresh_token")
        );
        let c = code_exchange(&LoginHost::Production, "key", None, "r", "c", "ver");
        assert!(String::from_utf8(c.body.unwrap()).unwrap().ends_with("code_verifier=ver"));
        let r = refresh(
            &LoginHost::MyDomain("crmsync-dev.my.salesforce.com".into()),
            "sandbox-consumer-key",
            Some("sandbox-consumer-secret"),
            "sandbox-sf-refresh",
        );
        assert_eq!(r.url, "https://crmsync-dev.my.salesforce.com/services/oauth2/token");
        assert_eq!(
            parse_token(&resp(400, &golden("salesforce/token-400-invalid-grant.json")), 0),
            Err(Failure::ReconnectNeeded)
        );
    }

    #[test]
    fn sosl_is_escaped_and_results_keep_every_phone_field() {
        assert_eq!(escape_sosl("+1 (415) 555-1212"), "\\+1 \\(415\\) 555\\-1212");
        let reqs = sf().search_requests(&["+14155551212".into()]);
        assert!(reqs[0].url.starts_with("https://crmsync-dev.my.salesforce.com/services/data/v62.0/search/?q=FIND%20%7B%22%5C%2B14155551212%22%7D%20IN%20PHONE%20FIELDS"));
        // Before: one SOSL per variant. Now every variant in one FIND, OR-ed.
        let all = sf().search_requests(&crate::core::phone::search_variants("+5511987654321"));
        assert_eq!(all.len(), 1);
        assert!(Salesforce::sosl_any(&["+5511987654321", "1187654321"]).starts_with(
            "FIND {\"\\+5511987654321\" OR \"1187654321\"} IN PHONE FIELDS RETURNING Contact("
        ));
        assert!(sf().search_requests(&["12".into()]).is_empty());
        assert!(reqs[0].headers.contains(&("Authorization".into(), "Bearer 00D!tok".into())));
        let recs = sf().parse_search(&resp(200, &golden("salesforce/search-200.json"))).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].kind, Some(RecordKind::Contact));
        assert_eq!(
            recs[0].phones,
            vec![
                ("Phone".into(), "(415) 555-1212".into()),
                ("MobilePhone".into(), "+1 415 555 1213".into())
            ]
        );
        assert_eq!(recs[1].kind, Some(RecordKind::Lead));
        assert_eq!(recs[1].company.as_deref(), Some("Acme"));
        assert_eq!(sf().parse_search(&resp(200, br#"{"searchRecords":[]}"#)).unwrap(), vec![]);
    }

    #[test]
    fn errors_budget_and_limits() {
        assert_eq!(
            classify(&resp(401, &golden("salesforce/session-401.json"))),
            Some(Failure::AuthExpired)
        );
        assert_eq!(
            classify(&resp(403, &golden("salesforce/limit-403.json"))),
            Some(Failure::RateLimited { after_ms: None })
        );
        let perm = br#"[{"message":"insufficient access rights on object id","errorCode":"INSUFFICIENT_ACCESS_OR_READONLY"}]"#;
        assert!(matches!(classify(&resp(403, perm)), Some(Failure::PermissionDenied { .. })));
        let not_rest = br#"[{"message":"This session is not valid for use with the REST API","errorCode":"INVALID_SESSION_ID"}]"#;
        assert!(matches!(classify(&resp(401, not_rest)), Some(Failure::PermissionDenied { .. })));
        let h = HttpResponse {
            status: 200,
            headers: vec![("Sforce-Limit-Info".into(), "api-usage=18/5000".into())],
            body: vec![],
        };
        assert_eq!(budget(&h), Budget { remaining: Some(4982), limit: Some(5000) });
    }

    #[test]
    fn create_new_and_duplicate() {
        let r = sf().create_request(
            CreateKind::Lead,
            &crate::crm::NewRecord::new("Priya Sharma", "+919876543210"),
        );
        assert_eq!(
            r.url,
            "https://crmsync-dev.my.salesforce.com/services/data/v62.0/sobjects/Lead/"
        );
        assert_eq!(body(&r)["Company"], "WhatsApp");
        assert_eq!(
            sf().parse_create(&resp(201, &golden("salesforce/create-201.json"))).unwrap(),
            Created::New { id: "001D000000IqhSLIAZ".into() }
        );
        assert_eq!(
            sf().parse_create(&resp(400, &golden("salesforce/create-400-duplicates.json")))
                .unwrap(),
            Created::Duplicate { id: "003RO0000035WQgYAM".into() }
        );
    }

    #[test]
    fn chat_upsert_note_and_files() {
        let chats = vec![(
            "wa-20251120-abc".to_string(),
            RecordKind::Lead,
            "00Q1".to_string(),
            "WhatsApp chat".to_string(),
            "2025-11-20".to_string(),
            "t".to_string(),
        )];
        let r = sf().upsert_chats(&chats).unwrap();
        assert_eq!(r.method, Method::Patch);
        assert!(r.url.ends_with("/composite/sobjects/WhatsApp_Chat__c/External_Key__c"));
        assert_eq!(body(&r)["records"][0]["Lead__c"], "00Q1");
        assert!(sf().upsert_chats(&vec![chats[0].clone(); 201]).is_err());
        let res = Salesforce::parse_collection(&resp(
            200,
            &golden("salesforce/collections-200-mixed.json"),
        ))
        .unwrap();
        assert_eq!(res[0], Ok("003RM0000068xVCYAY".into()));
        assert!(
            matches!(&res[1], Err(Failure::Rejected { reason }) if reason.starts_with("REQUIRED_FIELD_MISSING"))
        );
        // ContentNotes: one collections create of up to 200, then one of their links.
        let text = |t: &str| t.to_string();
        let notes = sf()
            .create_content_notes(&[
                (
                    text("[wa-20251120-0000000000000001#0] WhatsApp · Ana · 2025-11-20"),
                    text("[10:01] Ana: <b>hi</b> & bye\n[10:02] You: ok"),
                ),
                (
                    text("[wa-20251120-0000000000000002#0] WhatsApp · Noah · 2025-11-20"),
                    text("[11:00] Noah: see you"),
                ),
            ])
            .unwrap();
        assert_eq!(
            (notes.method, notes.url.as_str()),
            (
                Method::Post,
                "https://crmsync-dev.my.salesforce.com/services/data/v62.0/composite/sobjects"
            )
        );
        let golden_json = |p: &str| -> Value { serde_json::from_slice(&golden(p)).unwrap() };
        assert_eq!(body(&notes), golden_json("salesforce/content-notes-create-request.json"));
        let html = base64::engine::general_purpose::STANDARD
            .decode(body(&notes)["records"][0]["Content"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            String::from_utf8(html).unwrap(),
            "<p>[10:01] Ana: &lt;b&gt;hi&lt;/b&gt; &amp; bye</p><p>[10:02] You: ok</p>"
        );
        let links = sf()
            .link_documents(&[
                (text("069RM0000009xVCYAY"), text("003RM0000068xVCYAY")),
                (text("069RM0000009xVDYAY"), text("00QRM0000011aBcYAY")),
            ])
            .unwrap();
        assert_eq!(
            body(&links),
            golden_json("salesforce/content-document-links-create-request.json")
        );
        assert!(links.url.ends_with("/v62.0/composite/sobjects"));
        // One note refused: the other stands (allOrNone false), each result in input order.
        let res = Salesforce::parse_collection(&resp(
            200,
            &golden("salesforce/collections-200-notes-one-refused.json"),
        ))
        .unwrap();
        assert_eq!(res[0], Ok("069RM0000009xVCYAY".into()));
        assert!(
            matches!(&res[1], Err(Failure::Rejected { reason }) if reason.starts_with("FIELD_INTEGRITY_EXCEPTION"))
        );
        let upd = sf().update_content_notes(&[(text("069X"), text("t"), text("a\nb"))]).unwrap();
        assert_eq!(upd.method, Method::Patch);
        assert_eq!(
            body(&upd)["records"][0],
            json!({"attributes": {"type": "ContentNote"}, "id": "069X", "Title": "t", "Content": "PHA+YTwvcD48cD5iPC9wPg=="})
        );
        assert!(sf().create_content_notes(&vec![(text("t"), text("x")); 201]).is_err());
        assert!(sf().link_documents(&vec![(text("069X"), text("003X")); 201]).is_err());
        let relink = sf().update_links(&[text("06AX")]).unwrap();
        assert_eq!(
            (relink.method, body(&relink)["records"][0].clone()),
            (
                Method::Patch,
                json!({"attributes": {"type": "ContentDocumentLink"}, "id": "06AX", "ShareType": "V"})
            )
        );
        let find = sf().find_link_request("069X", "003'X");
        assert!(find.url.ends_with(&format!(
            "/query?q={}",
            crate::crm::enc("SELECT Id FROM ContentDocumentLink WHERE ContentDocumentId = '069X' AND LinkedEntityId = '003\\'X'")
        )));
        assert!(sf()
            .content_version(
                "big.mp4",
                &vec![0; (CONTENT_VERSION_JSON_MAX_BYTES + 1) as usize],
                "a0X"
            )
            .is_err());
        let cv = sf().content_version("a.txt", b"hi", "a0X").unwrap();
        assert_eq!(body(&cv)["VersionData"], "aGk=");
        assert_eq!(
            sf().deep_link(RecordKind::Contact, "003X").as_deref(),
            Some("https://crmsync-dev.lightning.force.com/lightning/r/Contact/003X/view")
        );
    }

    #[test]
    fn org_currency_read_at_connect() {
        let q = sf().org_currency_request().url;
        assert!(
            q.ends_with("/query/?q=SELECT%20DefaultCurrencyIsoCode%20FROM%20Organization"),
            "{q}"
        );
        assert!(sf().multi_currency_request().url.ends_with("/sobjects/CurrencyType"));
        let one = br#"{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Organization"},"DefaultCurrencyIsoCode":"BRL"}]}"#;
        assert_eq!(Salesforce::parse_org_currency(&resp(200, one)).as_deref(), Some("BRL"));
        // No row, a null field, an error: no currency rather than a guessed one.
        let none = br#"{"totalSize":0,"done":true,"records":[]}"#;
        assert_eq!(Salesforce::parse_org_currency(&resp(200, none)), None);
        let null = br#"{"records":[{"DefaultCurrencyIsoCode":null}]}"#;
        assert_eq!(Salesforce::parse_org_currency(&resp(200, null)), None);
        let invalid = br#"[{"message":"No such column 'DefaultCurrencyIsoCode' on entity 'Organization'.","errorCode":"INVALID_FIELD"}]"#;
        assert_eq!(Salesforce::parse_org_currency(&resp(400, invalid)), None);
        assert_eq!(
            Salesforce::parse_org_currency(&resp(401, &golden("salesforce/session-401.json"))),
            None
        );
        // A single-currency org has no CurrencyType: 404 says "one currency".
        let not_found =
            br#"[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]"#;
        assert_eq!(Salesforce::parse_object_info(&resp(404, not_found)), Ok(false));
    }

    #[test]
    fn card_opportunities_and_text_search() {
        use crate::core::model::RecordRef;
        let s = Salesforce {
            instance_url: "https://acme.my.salesforce.com".into(),
            access_token: "t".into(),
            multi_currency: false,
        };
        let c = RecordRef { crm: Crm::Salesforce, kind: RecordKind::Contact, id: "003x'1".into() };
        let q = s.deals_request(&c).unwrap().url;
        // Before: `FROM Opportunity WHERE ContactId = ...`, the primary contact set at creation
        // only; contacts are tied to opportunities through OpportunityContactRole.
        assert!(q.contains("/query/?q=SELECT%20OpportunityId%2C%20Opportunity.Name"), "{q}");
        let soql = Salesforce::opportunities_query("003x'1", false);
        assert!(
            soql.contains("FROM OpportunityContactRole WHERE ContactId = '003x\\'1'")
                && soql.contains("ORDER BY Opportunity.LastModifiedDate DESC LIMIT 5"),
            "{soql}"
        );
        // CurrencyIsoCode exists only where multiple currencies are on: asked for only there.
        assert!(!soql.contains("CurrencyIsoCode"), "{soql}");
        let multi = Salesforce::opportunities_query("003x'1", true);
        assert!(multi.contains("Opportunity.CurrencyIsoCode, Opportunity.CloseDate"), "{multi}");
        assert!(s.deals_request(&RecordRef { kind: RecordKind::Lead, ..c.clone() }).is_none());
        let body = br#"{"totalSize":2,"done":true,"records":[
            {"attributes":{"type":"OpportunityContactRole"},"OpportunityId":"006A","Opportunity":{"attributes":{"type":"Opportunity"},"Name":"Fleet","StageName":"Prospecting","Amount":12000.0,"CloseDate":"2027-01-31"}},
            {"attributes":{"type":"OpportunityContactRole"},"OpportunityId":"006A","Opportunity":{"Name":"Fleet"}},
            {"attributes":{"type":"OpportunityContactRole"},"OpportunityId":"006B","Opportunity":null}]}"#;
        let rows = s.parse_deal_rows(&resp(200, body)).unwrap();
        assert_eq!(rows.len(), 1, "one row per opportunity; roles without one are skipped");
        assert_eq!(
            (
                rows[0].id.as_deref(),
                rows[0].name.as_str(),
                rows[0].amount,
                rows[0].close_date.as_deref()
            ),
            (Some("006A"), "Fleet", Some(12000.0), Some("2027-01-31"))
        );
        assert!(s.parse_deal_rows(&resp(401, &golden("salesforce/session-401.json"))).is_err());
        // A multi-currency org's answer names each opportunity's currency.
        let multi_body = br#"{"totalSize":1,"done":true,"records":[{"attributes":{"type":"OpportunityContactRole"},"OpportunityId":"006C","Opportunity":{"Name":"Depot","StageName":"Qualification","Amount":5000.0,"CurrencyIsoCode":"MXN","CloseDate":"2027-02-28"}}]}"#;
        let rows = s.parse_deal_rows(&resp(200, multi_body)).unwrap();
        assert_eq!(rows[0].currency.as_deref(), Some("MXN"));
        let m = Salesforce { multi_currency: true, ..s.clone() };
        assert!(m.deals_request(&c).unwrap().url.contains("Opportunity.CurrencyIsoCode"));
        let by_name = s.text_search_requests("Liam Carter")[0].url.clone();
        assert!(by_name.contains("IN%20NAME%20FIELDS"), "{by_name}");
        assert!(s.text_search_requests("liam@x.com")[0].url.contains("IN%20EMAIL%20FIELDS"));
        assert!(s.text_search_requests("x").is_empty());
    }
}
