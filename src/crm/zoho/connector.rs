//! Zoho CRM v8.
//!
//! Idempotency: a chat backup is one Note per (record, conversation day), titled with the
//! unit's deterministic key (`UnitKey::external_key`). After a lost response the writer looks
//! the note up by that title (`GET /{module}/{id}/Notes`, read-before-write) and updates it
//! (`PUT /Notes`) instead of creating a second one; a growing day updates the same note.
use crate::core::model::{Crm, CrmRecord, RecordKind};
use crate::crm::auth::{self, ZohoDc};
use crate::crm::http::{HttpRequest, HttpResponse, Method};
use crate::crm::{
    json, json_request, str_of, transport_failure, Budget, Connector, CreateKind, Created, Failure,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const NOTE_MAX_CHARS: usize = 65_535;
pub const NOTE_TITLE_MAX: usize = 120;
pub const NOTES_PER_CALL: usize = 100;
pub const ATTACHMENT_MAX_BYTES: u64 = 100 * 1024 * 1024;
pub const SEARCH_PER_PAGE: u32 = 200;
/// Related lists (notes, deals, attachments) read at most this many per page.
pub const RELATED_PER_PAGE: u32 = 200;
/// Search cannot reach past this many records.
pub const SEARCH_CAP: u32 = 2000;
const REVOKED: &[&str] = &["invalid_code"];
const PHONE_FIELDS: &[&str] = &["Phone", "Mobile", "Home_Phone", "Other_Phone", "Asst_Phone"];
/// Conditions one `criteria` may carry: "a maximum of 10 criteria (with same or different
/// columns) with equals and starts_with" (v2 search-records page; Kaizen #30 "Parameters in
/// Zoho CRM APIs"). The API's own error text names 15 (`CRITERIA_LIMIT_EXCEEDED`); the lower
/// documented figure is kept.
pub const CRITERIA_MAX: usize = 10;
/// `criteria` is at most 3000 characters (module search reference).
pub const CRITERIA_MAX_CHARS: usize = 3000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zoho {
    pub dc: ZohoDc,
    /// `api_domain` from the token response (overrides the DC's default).
    pub api_domain: String,
    pub access_token: String,
    /// `org[0].domain_name` from `GET /org`, for deep links.
    pub org_domain: Option<String>,
    /// Per module (`Leads`, `Contacts`), the org's own `Lead_Source` picklist value for
    /// WhatsApp, once read from the fields metadata (`None`: the picklist has no such value).
    /// A module missing here has not been looked up yet.
    pub lead_sources: BTreeMap<String, Option<String>>,
}

/// The lead source crmsync names when the org's picklist offers it.
pub const LEAD_SOURCE: &str = "WhatsApp";

/// The module a create of `kind` writes to.
pub fn create_module(kind: CreateKind) -> &'static str {
    match kind {
        CreateKind::Contact => "Contacts",
        CreateKind::Lead => "Leads",
    }
}

fn module(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Contact => "Contacts",
        RecordKind::Lead => "Leads",
        RecordKind::Deal | RecordKind::Opportunity => "Deals",
    }
}

/// Authorization URL (consent) at `dc`'s accounts server. Zoho redirects back with `code`,
/// `location` and `accounts-server`. With `challenge` (a mobile-based client) the request
/// carries PKCE S256 (https://www.zoho.com/accounts/protocol/oauth/mobile-and-desktop-apps/get-authorization-code.html).
pub fn authorize_url(
    dc: ZohoDc,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    scopes: &[&str],
    challenge: Option<&str>,
) -> String {
    let pkce = challenge
        .map(|c| format!("&code_challenge={}&code_challenge_method=S256", crate::crm::enc(c)))
        .unwrap_or_default();
    format!(
        "{}/oauth/v2/auth?scope={}&client_id={}&response_type=code&access_type=offline&prompt=consent&redirect_uri={}&state={}{pkce}",
        dc.accounts(),
        crate::crm::enc(&scopes.join(",")),
        crate::crm::enc(client_id),
        crate::crm::enc(redirect_uri),
        crate::crm::enc(state)
    )
}

/// What crmsync reads and writes: contacts and leads (match, create), deals (read), notes and
/// attachments (the backup), the org (record links), and the module and related-list
/// metadata the setup check reads (which modules this user may read or create, whether the
/// Deals list is visible on contacts), and the fields metadata a create reads (whether the
/// org's `Lead_Source` picklist has a WhatsApp value).
pub const SCOPES: &[&str] = &[
    "ZohoCRM.modules.contacts.ALL",
    "ZohoCRM.modules.leads.ALL",
    "ZohoCRM.modules.deals.READ",
    "ZohoCRM.modules.notes.ALL",
    "ZohoCRM.modules.attachments.ALL",
    "ZohoCRM.org.READ",
    "ZohoCRM.settings.modules.READ",
    "ZohoCRM.settings.related_lists.READ",
    "ZohoCRM.settings.fields.READ",
];

/// Exchange the grant code at the `accounts-server` the redirect named; the secret only when
/// the client has one, the PKCE verifier when the authorization carried a challenge.
pub fn code_exchange(
    dc: ZohoDc,
    client_id: &str,
    secret: Option<&str>,
    redirect_uri: &str,
    code: &str,
    verifier: Option<&str>,
) -> HttpRequest {
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("code", code),
    ];
    if let Some(s) = secret.map(str::trim).filter(|s| !s.is_empty()) {
        pairs.push(("client_secret", s));
    }
    if let Some(v) = verifier {
        pairs.push(("code_verifier", v));
    }
    auth::token_request(format!("{}/oauth/v2/token", dc.accounts()), &pairs)
}

/// Refresh (also the paste-credentials path: a Self Client refresh token + client id/secret).
/// A mobile-based client has no secret: none is sent.
pub fn refresh(dc: ZohoDc, client_id: &str, secret: &str, refresh_token: &str) -> HttpRequest {
    let mut pairs = vec![("refresh_token", refresh_token), ("client_id", client_id)];
    if !secret.trim().is_empty() {
        pairs.push(("client_secret", secret));
    }
    pairs.push(("grant_type", "refresh_token"));
    auth::token_request(format!("{}/oauth/v2/token", dc.accounts()), &pairs)
}

pub fn parse_token(resp: &HttpResponse, now_ms: u64) -> Result<auth::Tokens, Failure> {
    auth::parse_token(resp, now_ms, REVOKED, 3_600_000)
}

/// `X-API-CREDITS-REMAINING` (sent once half the daily credits are used).
pub fn budget(resp: &HttpResponse) -> Budget {
    Budget {
        remaining: resp.header("x-api-credits-remaining").and_then(|v| v.trim().parse().ok()),
        limit: None,
    }
}

/// Whole-request failure of a Zoho answer, or None when the body holds per-record results.
pub fn classify(resp: &HttpResponse) -> Option<Failure> {
    if let Some(f) = transport_failure(resp) {
        return Some(f);
    }
    if resp.status < 400 {
        return None;
    }
    let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    if v.get("data").is_some() {
        return None; // 400 with data[]: every record failed, each with its reason
    }
    let code = str_of(&v, "code").unwrap_or_default();
    let msg = str_of(&v, "message").unwrap_or_else(|| format!("HTTP {}", resp.status));
    Some(match (resp.status, code.as_str()) {
        (401, "INVALID_TOKEN" | "AUTHENTICATION_FAILURE") => Failure::AuthExpired,
        (401, _) | (403, _) => Failure::PermissionDenied { reason: format!("{code}: {msg}") },
        (_, "TOO_MANY_REQUESTS" | "RATE_LIMIT_EXCEEDED") => {
            Failure::RateLimited { after_ms: crate::crm::retry_after_ms(resp) }
        }
        _ => Failure::Rejected { reason: format!("{code}: {msg}") },
    })
}

/// One item of a `data[]` write answer.
pub fn item_result(item: &Value) -> Result<String, Failure> {
    let code = str_of(item, "code").unwrap_or_default();
    let details = item.get("details").cloned().unwrap_or(Value::Null);
    if code == "SUCCESS" {
        return str_of(&details, "id")
            .ok_or_else(|| Failure::Transient { reason: "SUCCESS without an id".into() });
    }
    let msg = str_of(item, "message").unwrap_or_default();
    let field = str_of(&details, "api_name").map(|f| format!(" ({f})")).unwrap_or_default();
    Err(match code.as_str() {
        "NO_PERMISSION" | "AUTHORIZATION_FAILED" => {
            Failure::PermissionDenied { reason: format!("{code}: {msg}") }
        }
        _ => Failure::Rejected { reason: format!("{code}: {msg}{field}") },
    })
}

/// Per-record results of a bulk write, in input order.
pub fn parse_write_results(resp: &HttpResponse) -> Result<Vec<Result<String, Failure>>, Failure> {
    if let Some(f) = classify(resp) {
        return Err(f);
    }
    let v = json(resp)?;
    let items = v
        .get("data")
        .and_then(|d| d.as_array())
        .ok_or_else(|| Failure::Transient { reason: "write answer without data[]".into() })?;
    Ok(items.iter().map(item_result).collect())
}

impl Zoho {
    fn url(&self, path: &str) -> String {
        format!("{}/crm/v8{path}", self.api_domain.trim_end_matches('/'))
    }

    fn authed(&self, mut r: HttpRequest) -> HttpRequest {
        r.headers.push(("Authorization".into(), format!("Zoho-oauthtoken {}", self.access_token)));
        r
    }

    /// `GET /{module}/search?phone=` searches every phone-type field of the module.
    pub fn search_page(&self, kind: RecordKind, phone: &str, page: u32) -> HttpRequest {
        self.authed(HttpRequest::get(self.url(&format!(
            "/{}/search?phone={}&page={page}&per_page={SEARCH_PER_PAGE}",
            module(kind),
            crate::crm::enc(phone)
        ))))
    }

    /// `GET /{module}/search?criteria=` with one prepared criteria string (see `phone_criteria`).
    pub fn criteria_page(&self, kind: RecordKind, criteria: &str, page: u32) -> HttpRequest {
        self.authed(HttpRequest::get(self.url(&format!(
            "/{}/search?criteria={}&page={page}&per_page={SEARCH_PER_PAGE}",
            module(kind),
            crate::crm::enc(criteria)
        ))))
    }

    /// The next page's request when the answer says `more_records` (and the 2000 cap allows).
    pub fn next_search_page(&self, req: &HttpRequest, resp: &HttpResponse) -> Option<HttpRequest> {
        let v: Value = serde_json::from_slice(&resp.body).ok()?;
        let info = v.get("info")?;
        if info.get("more_records")?.as_bool() != Some(true) {
            return None;
        }
        let page = info.get("page")?.as_u64()? as u32;
        if (page + 1) * SEARCH_PER_PAGE > SEARCH_CAP {
            return None;
        }
        let mut next = req.clone();
        next.url = req.url.replace(&format!("&page={page}&"), &format!("&page={}&", page + 1));
        Some(next)
    }

    /// `GET /org`, for the org's `domain_name` (deep links).
    pub fn org_request(&self) -> HttpRequest {
        self.authed(HttpRequest::get(self.url("/org")))
    }

    pub fn parse_org(resp: &HttpResponse) -> Result<String, Failure> {
        if let Some(f) = classify(resp) {
            return Err(f);
        }
        let v = json(resp)?;
        v.get("org")
            .and_then(|o| o.get(0))
            .and_then(|o| str_of(o, "domain_name"))
            .ok_or_else(|| Failure::Transient { reason: "org answer without domain_name".into() })
    }

    /// The org's home currency (`org[0].iso_code`, e.g. `BRL`): deal amounts are in it
    /// unless the org uses several currencies and the deal names its own (`Currency`).
    pub fn parse_org_currency(resp: &HttpResponse) -> Option<String> {
        if classify(resp).is_some() {
            return None;
        }
        let v = json(resp).ok()?;
        v.get("org").and_then(|o| o.get(0)).and_then(|o| str_of(o, "iso_code"))
    }

    /// `GET /settings/fields?module=…` (crm-oas v8 fields.json, "Get Fields"; v8 "Fields
    /// Metadata" page): the module's fields with each picklist's `pick_list_values`.
    pub fn fields_request(&self, module: &str) -> HttpRequest {
        self.authed(HttpRequest::get(self.url(&format!("/settings/fields?module={module}"))))
    }

    /// The `Lead_Source` picklist value that means WhatsApp (matched on `actual_value` or
    /// `display_value`, case aside), as the org spells its `actual_value`; None when the
    /// picklist has none or the module has no `Lead_Source` field.
    pub fn parse_lead_source(resp: &HttpResponse) -> Result<Option<String>, Failure> {
        if resp.status == 204 {
            return Ok(None);
        }
        if let Some(f) = classify(resp) {
            return Err(f);
        }
        let v = json(resp)?;
        let fields = v.get("fields").and_then(Value::as_array).cloned().unwrap_or_default();
        let Some(field) =
            fields.iter().find(|f| str_of(f, "api_name").as_deref() == Some("Lead_Source"))
        else {
            return Ok(None);
        };
        let values =
            field.get("pick_list_values").and_then(Value::as_array).cloned().unwrap_or_default();
        Ok(values.iter().find_map(|p| {
            let actual = str_of(p, "actual_value");
            let names = [actual.clone(), str_of(p, "display_value")];
            names
                .iter()
                .flatten()
                .any(|n| n.trim().eq_ignore_ascii_case(LEAD_SOURCE))
                .then(|| actual.or_else(|| str_of(p, "display_value")))
                .flatten()
        }))
    }

    /// The contact's deals, to pick the 5 most recently modified. The related-records read
    /// declares only `fields`, `page` and `per_page` (crm-oas v8 related_records,
    /// getRelatedRecords): no sort, so one full page (200) is read and sorted here.
    pub fn recent_deals_request(&self, contact_id: &str) -> HttpRequest {
        self.authed(HttpRequest::get(self.url(&format!(
            "/Contacts/{contact_id}/Deals?fields=Deal_Name,Stage,Amount,Closing_Date,Modified_Time&page=1&per_page={RELATED_PER_PAGE}"
        ))))
    }

    /// The related deals of an answer, most recently modified first (204 = none).
    fn recent_deal_values(resp: &HttpResponse) -> Result<Vec<Value>, Failure> {
        if resp.status == 204 {
            return Ok(vec![]);
        }
        if let Some(f) = classify(resp) {
            return Err(f);
        }
        let v = json(resp)?;
        let mut data = v.get("data").and_then(|d| d.as_array()).cloned().unwrap_or_default();
        // Stable: deals without a readable time keep the CRM's order, after the dated ones.
        data.sort_by_key(|d| {
            std::cmp::Reverse(
                d.get("Modified_Time").and_then(Value::as_str).and_then(zoho_time_secs),
            )
        });
        Ok(data)
    }

    /// Deal ids, the 5 most recently modified first; 204 = none.
    pub fn parse_deals(resp: &HttpResponse) -> Result<Vec<String>, Failure> {
        Ok(Self::recent_deal_values(resp)?.iter().filter_map(|d| str_of(d, "id")).take(5).collect())
    }

    /// `POST /Notes` with up to 100 notes; each `(kind, record id, title, content)`.
    pub fn create_notes(
        &self,
        notes: &[(RecordKind, String, String, String)],
    ) -> Result<HttpRequest, String> {
        if notes.len() > NOTES_PER_CALL {
            return Err(format!("{} notes exceed Zoho's {NOTES_PER_CALL} per call", notes.len()));
        }
        let data: Vec<Value> = notes
            .iter()
            .map(|(kind, id, title, content)| {
                json!({
                    "Note_Title": title.chars().take(NOTE_TITLE_MAX).collect::<String>(),
                    "Note_Content": content,
                    "Parent_Id": {"module": {"api_name": module(*kind)}, "id": id},
                })
            })
            .collect();
        Ok(self.authed(json_request(Method::Post, self.url("/Notes"), &json!({"data": data}))))
    }

    /// `PUT /Notes` with up to 100 `(note id, title, content)`: the day grew.
    pub fn update_notes(&self, notes: &[(String, String, String)]) -> Result<HttpRequest, String> {
        if notes.len() > NOTES_PER_CALL {
            return Err(format!("{} notes exceed Zoho's {NOTES_PER_CALL} per call", notes.len()));
        }
        // Note_Title maxLength 120 holds for updates too (crm-oas v8 notes, updateNotesModule).
        let data: Vec<Value> = notes
            .iter()
            .map(|(id, title, content)| json!({"id": id, "Note_Title": title.chars().take(NOTE_TITLE_MAX).collect::<String>(), "Note_Content": content}))
            .collect();
        Ok(self.authed(json_request(Method::Put, self.url("/Notes"), &json!({"data": data}))))
    }

    /// Read-before-write: a page of the record's notes, to find one by its deterministic title.
    pub fn list_notes_request(&self, kind: RecordKind, id: &str) -> HttpRequest {
        self.list_notes_page(kind, id, 1)
    }

    pub fn list_notes_page(&self, kind: RecordKind, id: &str, page: u32) -> HttpRequest {
        self.authed(HttpRequest::get(self.url(&format!("/{}/{id}/Notes?fields=Note_Title,Modified_Time&page={page}&per_page={RELATED_PER_PAGE}", module(kind)))))
    }

    /// The next page of a related-list read when the answer says `info.more_records`
    /// (related lists paginate: crm-oas v8 notes getNotes, `page`/`per_page` ≤ 200).
    pub fn next_related_page(req: &HttpRequest, resp: &HttpResponse) -> Option<HttpRequest> {
        let v: Value = serde_json::from_slice(&resp.body).ok()?;
        let info = v.get("info")?;
        if info.get("more_records")?.as_bool() != Some(true) {
            return None;
        }
        let page = info.get("page").and_then(Value::as_u64).map(|p| p as u32)?;
        let mut next = req.clone();
        let from = format!("page={page}&");
        let at = next
            .url
            .find(&format!("?{from}"))
            .map(|i| i + 1)
            .or_else(|| next.url.find(&format!("&{from}")).map(|i| i + 1))?;
        next.url.replace_range(at..at + from.len(), &format!("page={}&", page + 1));
        Some(next)
    }

    /// The id of the note whose title starts with `title_key`, if any (204 = no notes).
    pub fn find_note(resp: &HttpResponse, title_key: &str) -> Result<Option<String>, Failure> {
        find_by_prefix(resp, "Note_Title", title_key)
    }

    /// Multipart upload to the record's Attachments; over 100 MB is a per-file error.
    pub fn attachment_request(
        &self,
        kind: RecordKind,
        id: &str,
        file_name: &str,
        bytes: &[u8],
        boundary: &str,
    ) -> Result<HttpRequest, String> {
        if bytes.len() as u64 > ATTACHMENT_MAX_BYTES {
            return Err(format!(
                "{file_name}: {} bytes exceeds Zoho's 100 MB attachment limit",
                bytes.len()
            ));
        }
        let safe_name = file_name.replace(['"', '\r', '\n'], "_");
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{safe_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        Ok(self.authed(HttpRequest {
            method: Method::Post,
            url: self.url(&format!("/{}/{id}/Attachments", module(kind))),
            headers: vec![(
                "Content-Type".into(),
                format!("multipart/form-data; boundary={boundary}"),
            )],
            body: Some(body),
        }))
    }

    /// The record's attachments, first page (to find an upload by its name marker). The list
    /// pages like the other related lists (crm-oas v8 attachments getAttachments: `page`,
    /// `per_page` ≤ 200): a reconcile follows `next_related_page`, so a record with more
    /// than 200 files does not get a second upload after a lost answer.
    pub fn list_attachments_request(&self, kind: RecordKind, id: &str) -> HttpRequest {
        self.authed(HttpRequest::get(self.url(&format!(
            "/{}/{id}/Attachments?fields=id,File_Name&page=1&per_page={RELATED_PER_PAGE}",
            module(kind)
        ))))
    }

    /// The id of the attachment whose name starts with `marker`; 204 = none.
    pub fn find_attachment(resp: &HttpResponse, marker: &str) -> Result<Option<String>, Failure> {
        find_by_prefix(resp, "File_Name", marker)
    }

    pub fn parse_attachment(resp: &HttpResponse) -> Result<String, Failure> {
        if resp.status == 413 {
            return Err(Failure::Rejected {
                reason: "file larger than Zoho allows (FILE_SIZE_MORE_THAN_ALLOWED_SIZE)".into(),
            });
        }
        parse_write_results(resp)?
            .into_iter()
            .next()
            .unwrap_or(Err(Failure::Transient { reason: "empty upload answer".into() }))
    }
}

fn record_of(v: &Value, kind: RecordKind) -> Option<CrmRecord> {
    let id = str_of(v, "id")?;
    let name = str_of(v, "Full_Name").unwrap_or_else(|| {
        [str_of(v, "First_Name"), str_of(v, "Last_Name")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    });
    Some(CrmRecord {
        crm: Some(Crm::Zoho),
        kind: Some(kind),
        id,
        name,
        phones: PHONE_FIELDS
            .iter()
            .filter_map(|f| str_of(v, f).map(|p| (f.to_string(), p)))
            .collect(),
        email: str_of(v, "Email"),
        company: str_of(v, "Company")
            .or_else(|| v.get("Account_Name").and_then(|a| str_of(a, "name"))),
        title: str_of(v, "Title"),
        owner: v.get("Owner").and_then(|o| str_of(o, "name")),
        status: str_of(v, "Lead_Status"),
    })
}

impl Connector for Zoho {
    fn crm(&self) -> Crm {
        Crm::Zoho
    }

    /// One `criteria` search per module OR-ing every phone field with every number that
    /// matters (`phone_criteria`); split only when the conditions exceed the documented 10.
    fn search_requests(&self, variants: &[String]) -> Vec<HttpRequest> {
        let criteria = phone_criteria(variants);
        [RecordKind::Contact, RecordKind::Lead]
            .into_iter()
            .flat_map(|k| criteria.iter().map(move |c| self.criteria_page(k, c, 1)))
            .collect()
    }

    fn parse_search(&self, resp: &HttpResponse) -> Result<Vec<CrmRecord>, Failure> {
        if resp.status == 204 {
            return Ok(vec![]);
        }
        if let Some(f) = classify(resp) {
            return Err(f);
        }
        let v = json(resp)?;
        // The module is not in the body; Leads carry Lead_Status/Company, Contacts do not.
        let data = v.get("data").and_then(|d| d.as_array()).cloned().unwrap_or_default();
        Ok(data
            .iter()
            .filter_map(|r| {
                let kind = if r.get("Lead_Status").is_some() || r.get("Company").is_some() {
                    RecordKind::Lead
                } else {
                    RecordKind::Contact
                };
                record_of(r, kind)
            })
            .collect())
    }

    fn searches_leads_only(&self, req: &HttpRequest) -> bool {
        req.url.contains("/crm/v8/Leads/")
    }

    /// The answer does not name its module; the request's path does.
    fn parse_search_of(
        &self,
        req: &HttpRequest,
        resp: &HttpResponse,
    ) -> Result<Vec<CrmRecord>, Failure> {
        let leads = req.url.contains("/crm/v8/Leads/");
        let contacts = req.url.contains("/crm/v8/Contacts/");
        let mut recs = self.parse_search(resp)?;
        for r in &mut recs {
            if leads {
                r.kind = Some(RecordKind::Lead);
            } else if contacts {
                r.kind = Some(RecordKind::Contact);
            }
        }
        Ok(recs)
    }

    /// What the rep typed: name, mobile, e-mail, and for leads the company (a contact's
    /// company is an Account lookup, not a text field). `Lead_Source` only when the org's
    /// picklist has a WhatsApp value (`lead_sources`, read from the fields metadata): its
    /// values are the org's own, and a stock org has none for WhatsApp.
    fn create_request(&self, kind: CreateKind, new: &crate::crm::NewRecord) -> HttpRequest {
        let (first, last) = split_name(&new.name);
        let m = create_module(kind);
        let mut rec = serde_json::Map::new();
        if let Some(f) = first {
            rec.insert("First_Name".into(), json!(f));
        }
        rec.insert("Last_Name".into(), json!(last));
        rec.insert("Mobile".into(), json!(new.phone));
        if let Some(e) = new.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            rec.insert("Email".into(), json!(e));
        }
        if let (CreateKind::Lead, Some(c)) =
            (kind, new.company.as_deref().map(str::trim).filter(|c| !c.is_empty()))
        {
            rec.insert("Company".into(), json!(c));
        }
        if let Some(Some(source)) = self.lead_sources.get(m) {
            rec.insert("Lead_Source".into(), json!(source));
        }
        self.authed(json_request(
            Method::Post,
            self.url(&format!("/{m}")),
            &json!({"data": [Value::Object(rec)]}),
        ))
    }

    fn parse_create(&self, resp: &HttpResponse) -> Result<Created, Failure> {
        if let Some(f) = classify(resp) {
            return Err(f);
        }
        let v = json(resp)?;
        let item = v
            .get("data")
            .and_then(|d| d.get(0))
            .ok_or_else(|| Failure::Transient { reason: "create answer without data[]".into() })?;
        if str_of(item, "code").as_deref() == Some("DUPLICATE_DATA") {
            let d = item.get("details").cloned().unwrap_or(Value::Null);
            let id = d
                .get("duplicate_record")
                .and_then(|r| str_of(r, "id"))
                .or_else(|| str_of(&d, "id"));
            return id
                .map(|id| Created::Duplicate { id })
                .ok_or_else(|| Failure::Rejected { reason: "duplicate without its id".into() });
        }
        item_result(item).map(|id| Created::New { id })
    }

    fn deep_link(&self, kind: RecordKind, id: &str) -> Option<String> {
        let tab = match kind {
            RecordKind::Contact => "Contacts",
            RecordKind::Lead => "Leads",
            RecordKind::Deal | RecordKind::Opportunity => "Potentials",
        };
        let org = self.org_domain.as_deref()?;
        Some(format!("{}/crm/{org}/tab/{tab}/{id}", self.dc.web()))
    }

    fn text_search_requests(&self, query: &str) -> Vec<HttpRequest> {
        let q = match crate::crm::Query::parse(query) {
            Some(crate::crm::Query::Email(e)) => format!("email={}", crate::crm::enc(&e)),
            Some(crate::crm::Query::Phone(p)) => format!("phone={}", crate::crm::enc(&p)),
            // Zoho's word search needs at least 2 characters; it looks through text fields.
            Some(crate::crm::Query::Words(w)) => format!("word={}", crate::crm::enc(&w)),
            None => return vec![],
        };
        [RecordKind::Contact, RecordKind::Lead]
            .into_iter()
            .map(|k| {
                self.authed(HttpRequest::get(
                    self.url(&format!("/{}/search?{q}&page=1&per_page=20", module(k))),
                ))
            })
            .collect()
    }

    fn deals_request(&self, record: &crate::core::model::RecordRef) -> Option<HttpRequest> {
        (record.kind == RecordKind::Contact).then(|| self.recent_deals_request(&record.id))
    }

    fn parse_deal_rows(
        &self,
        resp: &HttpResponse,
    ) -> Result<Vec<crate::core::model::DealRow>, Failure> {
        let data = Self::recent_deal_values(resp)?;
        Ok(data
            .iter()
            .map(|d| crate::core::model::DealRow {
                id: str_of(d, "id"),
                name: str_of(d, "Deal_Name").unwrap_or_default(),
                stage: str_of(d, "Stage"),
                amount: crate::crm::num_of(d, "Amount"),
                currency: str_of(d, "Currency"),
                close_date: str_of(d, "Closing_Date"),
            })
            .take(crate::core::model::MAX_DEALS)
            .collect())
    }
}

/// The `criteria` strings that look one number up in every phone field:
/// `((Phone:equals:…)or(Mobile:equals:…)or…)`. With more than one condition `equals` matches
/// values that contain the term ("ABC" finds "ABC Inc", v2 search-records page), so a variant
/// whose digits contain another variant's digits adds nothing: only the shortest forms of
/// each line are searched (for most numbers one, the national number; two for the Brazilian,
/// Mexican and Argentinian old/new forms). Values are digits only, so nothing needs escaping;
/// the spec's phone rule (at least 3 digits) still applies. Conditions are grouped
/// `CRITERIA_MAX` to a string, a variant's fields never split across two.
pub fn phone_criteria(variants: &[String]) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for v in variants {
        let d: String = v.chars().filter(char::is_ascii_digit).collect();
        if d.len() >= 3 && d.len() <= 50 && !terms.contains(&d) {
            terms.push(d);
        }
    }
    terms.sort_by_key(String::len);
    let mut minimal: Vec<String> = Vec::new();
    for t in terms {
        if !minimal.iter().any(|m| t.contains(m.as_str())) {
            minimal.push(t);
        }
    }
    let per_call = (CRITERIA_MAX / PHONE_FIELDS.len()).max(1);
    minimal
        .chunks(per_call)
        .map(|chunk| {
            let conds: Vec<String> = chunk
                .iter()
                .flat_map(|t| PHONE_FIELDS.iter().map(move |f| format!("({f}:equals:{t})")))
                .collect();
            format!("({})", conds.join("or"))
        })
        .filter(|c| c.len() <= CRITERIA_MAX_CHARS)
        .collect()
}

/// Zoho's ISO 8601 times (`2026-11-20T14:45:00+05:30`) as seconds since 1970 UTC.
pub fn zoho_time_secs(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| t.get(r).and_then(|x| x.parse::<i64>().ok());
    let (y, mo, d, h, mi, s) = (n(0..4)?, n(5..7)?, n(8..10)?, n(11..13)?, n(14..16)?, n(17..19)?);
    let rest = t.get(19..)?;
    let offset = match rest.as_bytes().first() {
        None | Some(b'Z') => 0,
        Some(sign @ (b'+' | b'-')) if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let v = rest.get(1..3)?.parse::<i64>().ok()? * 3600
                + rest.get(4..6)?.parse::<i64>().ok()? * 60;
            if *sign == b'+' {
                v
            } else {
                -v
            }
        }
        _ => return None,
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let (y2, m2) = if mo <= 2 { (y - 1, mo + 9) } else { (y, mo - 3) };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + s - offset)
}

/// "Ana Maria Souza" → (Some("Ana Maria"), "Souza"); a single word is the last name (mandatory).
pub fn split_name(name: &str) -> (Option<String>, String) {
    let name = name.trim();
    match name.rsplit_once(' ') {
        Some((f, l)) if !f.trim().is_empty() => (Some(f.trim().to_string()), l.to_string()),
        _ if name.is_empty() => (None, "WhatsApp contact".into()),
        _ => (None, name.to_string()),
    }
}

/// The id of the first record of a related list whose `field` starts with `prefix`
/// (204 = an empty list).
fn find_by_prefix(
    resp: &HttpResponse,
    field: &str,
    prefix: &str,
) -> Result<Option<String>, Failure> {
    if resp.status == 204 {
        return Ok(None);
    }
    if let Some(f) = classify(resp) {
        return Err(f);
    }
    let v = json(resp)?;
    Ok(v.get("data")
        .and_then(|d| d.as_array())
        .and_then(|a| a.iter().find(|x| str_of(x, field).is_some_and(|t| t.starts_with(prefix))))
        .and_then(|x| str_of(x, "id")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::{golden, resp};

    fn z() -> Zoho {
        Zoho {
            dc: ZohoDc::Eu,
            api_domain: "https://www.zohoapis.eu".into(),
            access_token: "1000.at".into(),
            org_domain: Some("org20079892132".into()),
            lead_sources: BTreeMap::new(),
        }
    }

    fn body(r: &HttpRequest) -> Value {
        serde_json::from_slice(r.body.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn token_requests_go_to_the_dc_accounts_server() {
        let r = refresh(ZohoDc::Ca, "1000.SANDBOXCLIENT", "sandbox-secret", "1000.sandbox.refresh");
        assert_eq!(r.url, "https://accounts.zohocloud.ca/oauth/v2/token");
        assert_eq!(
            String::from_utf8(r.body.unwrap()).unwrap(),
            "refresh_token=1000.sandbox.refresh&client_id=1000.SANDBOXCLIENT&client_secret=sandbox-secret&grant_type=refresh_token"
        );
        let c = code_exchange(
            ZohoDc::Eu,
            "id",
            Some("s"),
            "https://x.chromiumapp.org/",
            "1000.code",
            None,
        );
        assert!(String::from_utf8(c.body.unwrap())
            .unwrap()
            .contains("grant_type=authorization_code"));
        // A mobile-based client: PKCE verifier, no secret, and none on refresh either.
        let m = code_exchange(ZohoDc::In, "id", None, "https://x/", "1000.code", Some("VER"));
        let body = String::from_utf8(m.body.unwrap()).unwrap();
        assert!(body.contains("code_verifier=VER") && !body.contains("client_secret"), "{body}");
        let r = refresh(ZohoDc::In, "id", "", "1000.r");
        assert!(!String::from_utf8(r.body.unwrap()).unwrap().contains("client_secret"));
        let p = authorize_url(ZohoDc::Cn, "1000.ID", "https://x/", "st", SCOPES, Some("CH"));
        assert!(p.starts_with("https://accounts.zoho.com.cn/oauth/v2/auth?"));
        assert!(p.ends_with("&code_challenge=CH&code_challenge_method=S256"), "{p}");
        let a =
            authorize_url(ZohoDc::Us, "1000.ID", "https://x.chromiumapp.org/", "st", SCOPES, None);
        assert!(a.starts_with(
            "https://accounts.zoho.com/oauth/v2/auth?scope=ZohoCRM.modules.contacts.ALL%2C"
        ));
        assert!(a.contains("access_type=offline") && a.contains("prompt=consent"));
    }

    #[test]
    fn search_encodes_plus_and_parses_records() {
        let reqs = z().search_requests(&["+919876543210".into(), "12".into()]);
        assert_eq!(reqs.len(), 2, "too-short variant skipped, contacts then leads");
        assert_eq!(reqs[0].url, "https://www.zohoapis.eu/crm/v8/Contacts/search?criteria=%28%28Phone%3Aequals%3A919876543210%29or%28Mobile%3Aequals%3A919876543210%29or%28Home_Phone%3Aequals%3A919876543210%29or%28Other_Phone%3Aequals%3A919876543210%29or%28Asst_Phone%3Aequals%3A919876543210%29%29&page=1&per_page=200");
        assert!(reqs[1].url.contains("/Leads/search"));
        assert!(reqs[0]
            .headers
            .contains(&("Authorization".into(), "Zoho-oauthtoken 1000.at".into())));
        let recs = z().parse_search(&resp(200, &golden("zoho/search-200.json"))).unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].id, "5843104000000624035");
        assert_eq!(recs[0].kind, Some(RecordKind::Lead));
        assert_eq!(recs[0].owner.as_deref(), Some("John Smith"));
        let with_phones = br#"{"data":[{"id":"1","Full_Name":"Ana Souza","Phone":"+55 11 98765-4321","Mobile":"011987654321"}],"info":{"more_records":false,"page":1}}"#;
        let r = z().parse_search(&resp(200, with_phones)).unwrap();
        assert_eq!(
            r[0].phones,
            vec![
                ("Phone".into(), "+55 11 98765-4321".into()),
                ("Mobile".into(), "011987654321".into())
            ]
        );
        assert_eq!(z().parse_search(&resp(204, b"")).unwrap(), vec![]);
    }

    #[test]
    fn one_criteria_search_per_module_covers_every_variant_within_the_limit() {
        // Before: one `phone=` search per variant and module (12 calls for a Brazilian number).
        let br = crate::core::phone::search_variants("+5511987654321");
        assert!(br.len() >= 6);
        let reqs = z().search_requests(&br);
        assert_eq!(reqs.len(), 2, "one call per module");
        let c = phone_criteria(&br);
        assert_eq!(c.len(), 1);
        // The national forms of the 9th-digit and the old line; the longer forms contain them.
        assert!(
            c[0].contains("(Phone:equals:11987654321)")
                && c[0].contains("(Asst_Phone:equals:1187654321)")
        );
        assert_eq!(c[0].matches(":equals:").count(), CRITERIA_MAX);
        assert!(!c[0].contains("5511987654321"));
        // Over the limit (three unrelated lines): split, no call over 10 conditions.
        let three: Vec<String> =
            ["+14155552671", "+442079460958", "+919876543210"].map(String::from).to_vec();
        let split = phone_criteria(&three);
        assert_eq!(split.len(), 2);
        assert!(split.iter().all(|c| c.matches(":equals:").count() <= CRITERIA_MAX));
        assert_eq!(phone_criteria(&["12".into()]), Vec::<String>::new());
        // Pages and the module of the answer still follow the request.
        let first = z().criteria_page(RecordKind::Lead, &c[0], 1);
        let more = resp(200, br#"{"data":[],"info":{"page":1,"more_records":true}}"#);
        assert!(z().next_search_page(&first, &more).unwrap().url.contains("&page=2&"));
    }

    #[test]
    fn search_pages_until_more_records_is_false_within_the_cap() {
        let z = z();
        let first = z.search_page(RecordKind::Contact, "+1", 1);
        let more = resp(
            200,
            br#"{"data":[],"info":{"per_page":200,"count":200,"page":1,"more_records":true}}"#,
        );
        let next = z.next_search_page(&first, &more).unwrap();
        assert!(next.url.contains("&page=2&"));
        assert_eq!(z.next_search_page(&first, &resp(200, &golden("zoho/search-200.json"))), None);
        let at_cap = resp(200, br#"{"data":[],"info":{"page":10,"more_records":true}}"#);
        assert_eq!(
            z.next_search_page(&z.search_page(RecordKind::Contact, "+1", 10), &at_cap),
            None
        );
    }

    #[test]
    fn error_shapes_are_classified() {
        assert_eq!(
            classify(&resp(401, &golden("zoho/invalid-token-401.json"))),
            Some(Failure::AuthExpired)
        );
        assert!(matches!(
            classify(&resp(403, &golden("zoho/no-permission-403.json"))),
            Some(Failure::PermissionDenied { .. })
        ));
        let mut rl = resp(429, &golden("zoho/rate-limit-429.json"));
        assert_eq!(classify(&rl), Some(Failure::RateLimited { after_ms: None }));
        rl.headers.push(("Retry-After".into(), "30".into()));
        assert_eq!(classify(&rl), Some(Failure::RateLimited { after_ms: Some(30_000) }));
        let scope = br#"{"code":"OAUTH_SCOPE_MISMATCH","details":{},"message":"Unauthorized","status":"error"}"#;
        assert!(matches!(classify(&resp(401, scope)), Some(Failure::PermissionDenied { .. })));
        let limit = br#"{"status":"error","code":"LIMIT_REACHED","message":"maximum response iteration limit reached","details":{"limit":"2000"}}"#;
        assert!(matches!(z().parse_search(&resp(400, limit)), Err(Failure::Rejected { .. })));
        let b = HttpResponse {
            status: 200,
            headers: vec![("X-API-CREDITS-REMAINING".into(), "4200".into())],
            body: vec![],
        };
        assert_eq!(budget(&b).remaining, Some(4200));
    }

    #[test]
    fn lead_source_is_sent_only_when_the_org_picklist_has_whatsapp() {
        // Before: no fields-metadata read, and never a `Lead_Source`, even in an org whose
        // picklist has a WhatsApp value.
        let typed = crate::crm::NewRecord::new("Priya Sharma", "+919876543210");
        let f = z().fields_request("Leads");
        assert_eq!(f.url, "https://www.zohoapis.eu/crm/v8/settings/fields?module=Leads");
        assert_eq!(f.method, Method::Get);
        let with =
            Zoho::parse_lead_source(&resp(200, &golden("zoho/fields-leads-200-whatsapp.json")));
        assert_eq!(with, Ok(Some("WhatsApp".into())));
        let stock = Zoho::parse_lead_source(&resp(200, &golden("zoho/fields-leads-200.json")));
        assert_eq!(stock, Ok(None));
        assert!(
            Zoho::parse_lead_source(&resp(401, &golden("zoho/invalid-token-401.json"))).is_err()
        );
        let mut known = z();
        known.lead_sources.insert("Leads".into(), with.unwrap());
        assert_eq!(
            body(&known.create_request(CreateKind::Lead, &typed))["data"][0]["Lead_Source"],
            json!("WhatsApp")
        );
        // The Contacts picklist is its own: not read yet, nothing sent there.
        assert!(body(&known.create_request(CreateKind::Contact, &typed))["data"][0]
            .get("Lead_Source")
            .is_none());
        known.lead_sources.insert("Leads".into(), None);
        assert!(body(&known.create_request(CreateKind::Lead, &typed))["data"][0]
            .get("Lead_Source")
            .is_none());
    }

    #[test]
    fn create_handles_success_duplicate_and_mixed() {
        // Before: e-mail and company dropped, and `Lead_Source: "WhatsApp"`, a picklist value
        // most orgs lack (INVALID_DATA on create).
        let typed = crate::crm::NewRecord {
            name: "Priya Sharma".into(),
            phone: "+919876543210".into(),
            email: Some("priya@zylker.com".into()),
            company: Some("Zylker".into()),
        };
        let r = z().create_request(CreateKind::Lead, &typed);
        assert_eq!(r.url, "https://www.zohoapis.eu/crm/v8/Leads");
        assert_eq!(
            body(&r),
            json!({"data":[{"First_Name":"Priya","Last_Name":"Sharma","Mobile":"+919876543210","Email":"priya@zylker.com","Company":"Zylker"}]})
        );
        let c = z().create_request(CreateKind::Contact, &typed);
        assert_eq!(
            body(&c),
            json!({"data":[{"First_Name":"Priya","Last_Name":"Sharma","Mobile":"+919876543210","Email":"priya@zylker.com"}]})
        );
        let bare = z().create_request(
            CreateKind::Lead,
            &crate::crm::NewRecord::new("Priya Sharma", "+919876543210"),
        );
        assert_eq!(
            body(&bare),
            json!({"data":[{"First_Name":"Priya","Last_Name":"Sharma","Mobile":"+919876543210"}]})
        );
        let dup = z().parse_create(&resp(400, &golden("zoho/create-400-duplicate.json"))).unwrap();
        assert_eq!(dup, Created::Duplicate { id: "2008662000006256222".into() });
        let mixed = parse_write_results(&resp(207, &golden("zoho/create-207-mixed.json"))).unwrap();
        assert_eq!(mixed[0], Ok("5725767000000524157".into()));
        assert!(
            matches!(&mixed[1], Err(Failure::Rejected { reason }) if reason.contains("INVALID_DATA") && reason.contains("Last_Name"))
        );
    }

    #[test]
    fn notes_use_v8_parent_shape_and_report_per_record() {
        let notes = vec![(
            RecordKind::Contact,
            "4876876000005996165".to_string(),
            "wa-20251120-x WhatsApp chat".to_string(),
            "[10:01] Priya: Hi".to_string(),
        )];
        let r = z().create_notes(&notes).unwrap();
        assert_eq!(r.url, "https://www.zohoapis.eu/crm/v8/Notes");
        assert_eq!(
            body(&r)["data"][0]["Parent_Id"],
            json!({"module":{"api_name":"Contacts"},"id":"4876876000005996165"})
        );
        assert!(z().create_notes(&vec![notes[0].clone(); 101]).is_err());
        let ok = parse_write_results(&resp(201, &golden("zoho/notes-201.json"))).unwrap();
        assert_eq!(ok, vec![Ok("4876876000006021002".into())]);
        let mixed =
            parse_write_results(&resp(207, &golden("zoho/notes-207-error-item.json"))).unwrap();
        assert!(
            matches!(&mixed[1], Err(Failure::Rejected { reason }) if reason.starts_with("EXPECTED_FIELD_MISSING"))
        );
        let u = z().update_notes(&[("n1".into(), "t".into(), "c".into())]).unwrap();
        assert_eq!(u.method, Method::Put);
        let listed = resp(200, br#"{"data":[{"id":"n9","Note_Title":"other"},{"id":"n1","Note_Title":"wa-20251120-x WhatsApp chat"}]}"#);
        assert_eq!(Zoho::find_note(&listed, "wa-20251120-x").unwrap(), Some("n1".into()));
        assert_eq!(Zoho::find_note(&resp(204, b""), "wa").unwrap(), None);
    }

    #[test]
    fn note_titles_are_cut_to_120_on_update_too() {
        // Before: `PUT /Notes` sent the title whole (196 characters for a long chat name);
        // Note_Title maxLength 120 (crm-oas v8 notes, updateNotesModule).
        let long =
            format!("[wa-k#0] WhatsApp · {} · 2026-11-21", "Família Souza e amigos — ".repeat(8));
        assert!(long.chars().count() > 120);
        let u = z().update_notes(&[("n1".into(), long.clone(), "c".into())]).unwrap();
        let t = body(&u)["data"][0]["Note_Title"].as_str().unwrap().to_string();
        assert_eq!(t.chars().count(), NOTE_TITLE_MAX);
        assert!(long.starts_with(&t));
        let c = z().create_notes(&[(RecordKind::Contact, "1".into(), long, "c".into())]).unwrap();
        assert_eq!(body(&c)["data"][0]["Note_Title"].as_str().unwrap(), t);
    }

    #[test]
    fn the_notes_read_goes_past_the_first_200() {
        // Before: one page of 200; a record with more notes got a second note after a lost answer.
        let first = z().list_notes_request(RecordKind::Contact, "111");
        assert_eq!(first.url, "https://www.zohoapis.eu/crm/v8/Contacts/111/Notes?fields=Note_Title,Modified_Time&page=1&per_page=200");
        let more = resp(200, br#"{"data":[{"id":"n1","Note_Title":"x"}],"info":{"per_page":200,"count":200,"page":1,"more_records":true}}"#);
        let second = Zoho::next_related_page(&first, &more).unwrap();
        assert_eq!(second.url, "https://www.zohoapis.eu/crm/v8/Contacts/111/Notes?fields=Note_Title,Modified_Time&page=2&per_page=200");
        assert_eq!(second.headers, first.headers);
        let last = resp(200, br#"{"data":[{"id":"n201","Note_Title":"[k#0] x"}],"info":{"per_page":200,"count":1,"page":2,"more_records":false}}"#);
        assert_eq!(Zoho::next_related_page(&second, &last), None);
        assert_eq!(Zoho::find_note(&last, "[k#0]").unwrap(), Some("n201".into()));
        assert_eq!(Zoho::next_related_page(&second, &resp(204, b"")), None);
    }

    #[test]
    fn the_attachments_read_goes_past_the_first_200() {
        // Before: one page of 200 (`per_page=200`, no `page`): an upload on page 2 was
        // "absent" after a lost answer, and the file went up a second time.
        let first = z().list_attachments_request(RecordKind::Contact, "111");
        assert_eq!(
            first.url,
            "https://www.zohoapis.eu/crm/v8/Contacts/111/Attachments?fields=id,File_Name&page=1&per_page=200"
        );
        let more = resp(200, br#"{"data":[{"id":"a1","File_Name":"x.png"}],"info":{"per_page":200,"count":200,"page":1,"more_records":true}}"#);
        let second = Zoho::next_related_page(&first, &more).expect("a second page");
        assert_eq!(
            second.url,
            "https://www.zohoapis.eu/crm/v8/Contacts/111/Attachments?fields=id,File_Name&page=2&per_page=200"
        );
        let last = resp(200, br#"{"data":[{"id":"a201","File_Name":"[k#0] site.png"}],"info":{"per_page":200,"count":1,"page":2,"more_records":false}}"#);
        assert_eq!(Zoho::next_related_page(&second, &last), None);
        assert_eq!(Zoho::find_attachment(&last, "[k#0]").unwrap(), Some("a201".into()));
    }

    #[test]
    fn the_five_most_recent_deals_are_picked_here_not_by_an_undeclared_sort() {
        // Before: `sort_by`/`sort_order`, which related_records.json does not declare.
        let r = z().recent_deals_request("111");
        assert!(!r.url.contains("sort_"));
        let body = br#"{"data":[
            {"id":"d1","Deal_Name":"a","Modified_Time":"2026-11-01T10:00:00+00:00"},
            {"id":"d2","Deal_Name":"b","Modified_Time":"2026-11-20T10:00:00+05:30"},
            {"id":"d3","Deal_Name":"c","Modified_Time":"2026-11-20T06:00:00+00:00"},
            {"id":"d4","Deal_Name":"d"},
            {"id":"d5","Deal_Name":"e","Modified_Time":"2026-10-01T00:00:00Z"},
            {"id":"d6","Deal_Name":"f","Modified_Time":"2026-11-05T00:00:00-03:00"},
            {"id":"d7","Deal_Name":"g","Modified_Time":"2025-01-01T00:00:00+00:00"}],
            "info":{"page":1,"per_page":200,"count":7,"more_records":false}}"#;
        // d3 (06:00 UTC) is newer than d2 (04:30 UTC).
        assert_eq!(Zoho::parse_deals(&resp(200, body)).unwrap(), ["d3", "d2", "d6", "d1", "d5"]);
        let rows = z().parse_deal_rows(&resp(200, body)).unwrap();
        assert_eq!(
            rows.iter().map(|r| r.id.clone().unwrap()).collect::<Vec<_>>(),
            ["d3", "d2", "d6", "d1", "d5"]
        );
        assert_eq!(zoho_time_secs("1970-01-01T00:00:00+00:00"), Some(0));
        assert_eq!(zoho_time_secs("1970-01-01T05:30:00+05:30"), Some(0));
        assert_eq!(zoho_time_secs("2026-13-01T00:00:00Z"), None);
        assert_eq!(zoho_time_secs("garbage"), None);
    }

    #[test]
    fn deals_org_attachments_and_links() {
        let r = z().recent_deals_request("111");
        assert_eq!(r.url, "https://www.zohoapis.eu/crm/v8/Contacts/111/Deals?fields=Deal_Name,Stage,Amount,Closing_Date,Modified_Time&page=1&per_page=200");
        assert_eq!(
            Zoho::parse_deals(&resp(200, &golden("zoho/deals-200.json"))).unwrap(),
            vec!["2876819000002738801".to_string()]
        );
        assert_eq!(Zoho::parse_deals(&resp(204, b"")).unwrap(), Vec::<String>::new());
        assert_eq!(
            Zoho::parse_org(&resp(200, br#"{"org":[{"id":"1","domain_name":"acmeinc"}]}"#))
                .unwrap(),
            "acmeinc"
        );
        let org = br#"{"org":[{"id":"1","domain_name":"acmeinc","currency":"Indian Rupee","iso_code":"INR"}]}"#;
        assert_eq!(Zoho::parse_org_currency(&resp(200, org)).as_deref(), Some("INR"));
        assert_eq!(Zoho::parse_org_currency(&resp(200, br#"{"org":[{"id":"1"}]}"#)), None);
        assert_eq!(Zoho::parse_org_currency(&resp(401, br#"{"code":"INVALID_TOKEN"}"#)), None);
        let a =
            z().attachment_request(RecordKind::Lead, "9", "chat \"x\".pdf", b"PDF", "b0").unwrap();
        assert_eq!(a.url, "https://www.zohoapis.eu/crm/v8/Leads/9/Attachments");
        let text = String::from_utf8(a.body.unwrap()).unwrap();
        assert!(
            text.contains("name=\"file\"; filename=\"chat _x_.pdf\"")
                && text.ends_with("--b0--\r\n")
        );
        assert!(z()
            .attachment_request(
                RecordKind::Lead,
                "9",
                "big.mp4",
                &vec![0; (ATTACHMENT_MAX_BYTES + 1) as usize],
                "b"
            )
            .is_err());
        assert_eq!(
            Zoho::parse_attachment(&resp(200, &golden("zoho/attachment-200.json"))).unwrap(),
            "2876819000002738705"
        );
        assert!(matches!(
            Zoho::parse_attachment(&resp(413, &golden("zoho/attachment-413.json"))),
            Err(Failure::Rejected { .. })
        ));
        assert_eq!(
            z().deep_link(RecordKind::Deal, "5").as_deref(),
            Some("https://crm.zoho.eu/crm/org20079892132/tab/Potentials/5")
        );
        assert_eq!(split_name("Cher"), (None, "Cher".into()));
    }

    #[test]
    fn card_deals_and_text_search() {
        use crate::core::model::RecordRef;
        let z = z();
        let contact = RecordRef { crm: Crm::Zoho, kind: RecordKind::Contact, id: "111".into() };
        assert!(z.deals_request(&contact).is_some_and(|r| r
            .url
            .contains("/Contacts/111/Deals?fields=Deal_Name,Stage,Amount,Closing_Date")));
        assert!(z.deals_request(&RecordRef { kind: RecordKind::Lead, ..contact }).is_none());
        let rows = z.parse_deal_rows(&resp(200, &golden("zoho/deals-200.json"))).unwrap();
        assert_eq!(
            (rows.len(), rows[0].name.as_str(), rows[0].amount),
            (1, "Zylker renewal", None)
        );
        let body = br#"{"data":[{"id":"1","Deal_Name":"Big","Stage":"Closed Won","Amount":"1500.5","Closing_Date":"2026-12-01"}]}"#;
        let rows = z.parse_deal_rows(&resp(200, body)).unwrap();
        assert_eq!(
            (rows[0].stage.as_deref(), rows[0].amount, rows[0].close_date.as_deref()),
            (Some("Closed Won"), Some(1500.5), Some("2026-12-01"))
        );
        assert_eq!(z.parse_deal_rows(&resp(204, b"")).unwrap(), vec![]);
        assert!(z.parse_deal_rows(&resp(401, &golden("zoho/invalid-token-401.json"))).is_err());
        let urls: Vec<String> =
            z.text_search_requests("ana@x.com").into_iter().map(|r| r.url).collect();
        assert_eq!(urls.len(), 2);
        assert!(
            urls[0].contains("/Contacts/search?email=ana%40x.com")
                && urls[1].contains("/Leads/search?email=")
        );
        assert!(z.text_search_requests("Ana Souza")[0].url.contains("search?word=Ana%20Souza"));
        assert!(z
            .text_search_requests("+55 11 98765")
            .iter()
            .all(|r| r.url.contains("phone=%2B55")));
        assert!(z.text_search_requests(" ").is_empty());
        // A lead without Lead_Status or Company is still a lead when the Leads search found it.
        let lead = br#"{"data":[{"id":"9","Last_Name":"Costa","Mobile":"+5511912340000"}]}"#;
        let req = z.search_page(RecordKind::Lead, "+5511912340000", 1);
        assert_eq!(
            z.parse_search_of(&req, &resp(200, lead)).unwrap()[0].kind,
            Some(RecordKind::Lead)
        );
        assert_eq!(z.parse_search(&resp(200, lead)).unwrap()[0].kind, Some(RecordKind::Contact));
    }
}
