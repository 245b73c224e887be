//! LeadSquared API v2 (access + secret key of a user; regional hosts).
//!
//! Idempotency: each backup part is a "WhatsApp Chats" activity whose custom field
//! `mx_Custom_1` holds the part's deterministic key (`{UnitKey::external_key}#{part}`).
//! After a lost response the writer reads the lead's activities of that type
//! ("Get Activities of a Lead", `POST ProspectActivity.svc/Retrieve`, custom fields under
//! `Data`: https://apidocs.leadsquared.com/get-activities-of-a-lead/) and looks for the key
//! before posting again (read-before-write); a grown day updates the same activity
//! ("Update an Activity", `POST ProspectActivity.svc/CustomActivity/Update`:
//! https://apidocs.leadsquared.com/update-activity/).
//!
//! The activity type is looked up by name first ("Get List of Activity Types",
//! `GET ProspectActivity.svc/ActivityTypes.Get`), created only when the tenant has none
//! ("Create a Custom Activity Type", https://apidocs.leadsquared.com/create-new-activity-type-api/),
//! and its event code is kept with the connection.
use crate::core::model::{Crm, CrmRecord, RecordKind};
use crate::crm::http::{HttpRequest, HttpResponse, Method};
use crate::crm::{
    json, json_request, str_of, transport_failure, Connector, CreateKind, Created, Failure,
};
use serde_json::{json, Value};

/// Any regional host answers `UserByAccessKey.Get`; other calls must use the user's region.
pub const DISCOVERY_HOST: &str = "api.leadsquared.com";
pub const ACTIVITY_TYPE_NAME: &str = "WhatsApp Chats";
/// The documented field limit is about 2,000 characters; stay under it.
pub const NOTE_MAX_CHARS: usize = 1_800;
pub const BULK_MAX: usize = 25;
/// Plan-dependent; the Enterprise row. Callers may lower it.
pub const DEFAULT_CALLS_PER_5S: u32 = 25;
pub const KEY_FIELD: &str = "mx_Custom_1";
/// Activities read per reconcile ("Get Activities of a Lead" returns 25 unless paged).
pub const ACTIVITIES_PER_READ: usize = 200;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeadSquared {
    pub access_key: String,
    pub secret_key: String,
    /// `LSQCommonServiceURLs.api`, e.g. `api-in21.leadsquared.com`.
    pub api_host: String,
    /// `LSQCommonServiceURLs.app`, e.g. `in21.leadsquared.com`.
    pub app_host: String,
    /// The "WhatsApp Chats" activity event code, once known.
    pub activity_event: Option<u32>,
}

/// Region discovery: the user's hosts from `UserByAccessKey.Get` on any host.
pub fn discovery_request(access_key: &str, secret_key: &str) -> HttpRequest {
    HttpRequest::get(format!("https://{DISCOVERY_HOST}/v2/Authentication.svc/UserByAccessKey.Get"))
        .header("x-LSQ-AccessKey", access_key)
        .header("x-LSQ-SecretKey", secret_key)
}

/// `(api host, app host)`.
pub fn parse_discovery(resp: &HttpResponse) -> Result<(String, String), Failure> {
    if let Some(f) = classify(resp) {
        return Err(f);
    }
    let v = json(resp)?;
    let urls = v.get("LSQCommonServiceURLs").ok_or_else(|| Failure::Rejected {
        reason: "no LSQCommonServiceURLs in the user answer".into(),
    })?;
    // The keys go to the host named here: checked on the parsed URL (a string suffix test
    // would take `x.leadsquared.com.attacker.example/` or `attacker.example/.leadsquared.com`),
    // and the refusal names the host so the rep can report it.
    let host = |k: &str| {
        let named = str_of(urls, k).ok_or_else(|| Failure::Rejected {
            reason: format!("no LSQCommonServiceURLs.{k} in the user answer"),
        })?;
        crate::crm::hosts::leadsquared_host(&named).map_err(|why| Failure::Rejected {
            reason: format!("the user answer names an unexpected region host: {why}"),
        })
    };
    Ok((host("api")?, host("app")?))
}

/// Whole-request failure. LeadSquared may answer errors with HTTP 200 and `Status: Error`.
pub fn classify(resp: &HttpResponse) -> Option<Failure> {
    let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    let exception = str_of(&v, "ExceptionType").unwrap_or_default();
    let message = str_of(&v, "ExceptionMessage").unwrap_or_default();
    if exception == "MXAPIRateLimitExceededException" || resp.status == 429 {
        // No Retry-After is documented: the window is 5 seconds.
        return Some(Failure::RateLimited {
            after_ms: crate::crm::retry_after_ms(resp).or(Some(5_000)),
        });
    }
    if let Some(f) = transport_failure(resp) {
        return Some(f);
    }
    if resp.status == 401 || exception == "MXUnAuthorizedAccessException" {
        // Static keys: a 401 means the keys (or the user) are gone, or the wrong region.
        return Some(Failure::ReconnectNeeded);
    }
    let is_error = resp.status >= 400 || str_of(&v, "Status").as_deref() == Some("Error");
    if !is_error {
        return None;
    }
    Some(match exception.as_str() {
        "MXAccessDeniedException" | "MXInsufficientPermissionException" => {
            Failure::PermissionDenied { reason: format!("{exception}: {message}") }
        }
        _ => Failure::Rejected { reason: format!("{exception}: {message}") },
    })
}

fn record_of(v: &Value) -> Option<CrmRecord> {
    let id = str_of(v, "ProspectID").or_else(|| str_of(v, "ProspectId"))?;
    let name = [str_of(v, "FirstName"), str_of(v, "LastName")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Some(CrmRecord {
        crm: Some(Crm::Leadsquared),
        kind: Some(RecordKind::Lead),
        id,
        name,
        phones: ["Phone", "Mobile"]
            .iter()
            .filter_map(|f| str_of(v, f).map(|p| (f.to_string(), p)))
            .collect(),
        email: str_of(v, "EmailAddress"),
        company: str_of(v, "Company"),
        title: str_of(v, "JobTitle"),
        owner: str_of(v, "OwnerIdName"),
        status: str_of(v, "ProspectStage"),
    })
}

/// One activity to post: the lead, optionally an opportunity, the part's key, the note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activity {
    pub lead_id: String,
    pub opportunity_id: Option<String>,
    pub key: String,
    pub note: String,
    /// UTC `YYYY-MM-DD HH:MM:SS`.
    pub when_utc: String,
}

impl LeadSquared {
    fn url(&self, path: &str) -> String {
        format!("https://{}/v2/{path}", self.api_host)
    }

    fn authed(&self, mut r: HttpRequest) -> HttpRequest {
        r.headers.push(("x-LSQ-AccessKey".into(), self.access_key.clone()));
        r.headers.push(("x-LSQ-SecretKey".into(), self.secret_key.clone()));
        r
    }

    /// Digits only: the API matches Phone and Mobile, with or without country code.
    pub fn by_phone(&self, phone: &str) -> Option<HttpRequest> {
        let digits: String = phone.chars().filter(|c| c.is_ascii_digit()).collect();
        (digits.len() >= 3).then(|| {
            self.authed(HttpRequest::get(
                self.url(&format!("LeadManagement.svc/RetrieveLeadByPhoneNumber?phone={digits}")),
            ))
        })
    }

    pub fn quick_search(&self, key: &str) -> HttpRequest {
        self.authed(HttpRequest::get(self.url(&format!(
            "LeadManagement.svc/Leads.GetByQuickSearch?key={}",
            crate::crm::enc(key)
        ))))
    }

    /// Create the "WhatsApp Chats" activity type (first use); the answer's `Message.Id` is its code.
    pub fn create_activity_type(&self) -> HttpRequest {
        self.authed(json_request(
            Method::Post,
            self.url("ProspectActivity.svc/CreateType"),
            &json!({"ActivityEventName": ACTIVITY_TYPE_NAME, "Score": 0, "Description": "WhatsApp chat transcript", "Direction": 0,
                    "AllowAttachments": 1, "ShowInActivityGrid": 1, "CanDeleteActivity": false,
                    "Fields": [{"SchemaName": KEY_FIELD, "DisplayName": "Backup key", "DataType": "String", "IsMandatory": false, "ShowInForm": false, "Sequence": 1, "OptionSet": null}]}),
        ))
    }

    pub fn parse_id(resp: &HttpResponse) -> Result<String, Failure> {
        if let Some(f) = classify(resp) {
            return Err(f);
        }
        let v = json(resp)?;
        v.get("Message")
            .and_then(|m| str_of(m, "Id"))
            .ok_or_else(|| Failure::Transient { reason: "answer without Message.Id".into() })
    }

    fn activity_body(&self, a: &Activity, event: u32) -> Value {
        let mut b = json!({"RelatedProspectId": a.lead_id, "ActivityEvent": event, "ActivityNote": a.note, "ActivityDateTime": a.when_utc,
                           "Fields": [{"SchemaName": KEY_FIELD, "Value": a.key}]});
        if let (Some(o), Some(opp)) = (b.as_object_mut(), &a.opportunity_id) {
            o.insert("RelatedOpportunityId".into(), json!(opp));
        }
        b
    }

    /// One activity (on a lead, or on an opportunity with `RelatedOpportunityId`).
    pub fn post_activity(&self, a: &Activity) -> Result<HttpRequest, String> {
        let event =
            self.activity_event.ok_or("the WhatsApp Chats activity type is not created yet")?;
        Ok(self.authed(json_request(
            Method::Post,
            self.url("ProspectActivity.svc/Create"),
            &self.activity_body(a, event),
        )))
    }

    /// Up to 25 activities on leads in one call.
    pub fn post_bulk(&self, acts: &[Activity]) -> Result<HttpRequest, String> {
        let event =
            self.activity_event.ok_or("the WhatsApp Chats activity type is not created yet")?;
        if acts.len() > BULK_MAX {
            return Err(format!(
                "{} activities exceed LeadSquared's {BULK_MAX} per call",
                acts.len()
            ));
        }
        let body: Vec<Value> = acts.iter().map(|a| self.activity_body(a, event)).collect();
        Ok(self.authed(json_request(
            Method::Post,
            self.url("ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId"),
            &Value::Array(body),
        )))
    }

    /// Per-activity ids of a bulk answer, in input order.
    pub fn parse_bulk(resp: &HttpResponse) -> Result<Vec<Result<String, Failure>>, Failure> {
        if let Some(f) = classify(resp) {
            return Err(f);
        }
        let v = json(resp)?;
        let items = v.get("Response").and_then(|r| r.as_array()).ok_or_else(|| {
            Failure::Transient { reason: "bulk answer without Response[]".into() }
        })?;
        Ok(items
            .iter()
            .map(|it| match str_of(it, "ProspectActivityId") {
                Some(id) => Ok(id),
                None => Err(Failure::Rejected {
                    reason: str_of(it, "ExceptionMessage")
                        .unwrap_or_else(|| "activity not created".into()),
                }),
            })
            .collect())
    }

    pub fn update_activity(&self, activity_id: &str, a: &Activity) -> Result<HttpRequest, String> {
        let event =
            self.activity_event.ok_or("the WhatsApp Chats activity type is not created yet")?;
        Ok(self.authed(json_request(
            Method::Post,
            self.url("ProspectActivity.svc/CustomActivity/Update"),
            &json!({"ProspectActivityId": activity_id, "ActivityEvent": event, "ActivityNote": a.note, "Fields": [{"SchemaName": KEY_FIELD, "Value": a.key}]}),
        )))
    }

    /// Read-before-write: the lead's WhatsApp Chats activities.
    pub fn lead_activities(&self, lead_id: &str) -> Result<HttpRequest, String> {
        let event =
            self.activity_event.ok_or("the WhatsApp Chats activity type is not created yet")?;
        Ok(self.authed(json_request(
            Method::Post,
            self.url(&format!("ProspectActivity.svc/Retrieve?leadId={}", crate::crm::enc(lead_id))),
            &json!({"Parameter": {"ActivityEvent": event}, "Paging": {"Offset": "0", "RowCount": ACTIVITIES_PER_READ.to_string()}}),
        )))
    }

    /// The next page of a lead's activities when the answer's `RecordCount` says more
    /// remain ("Get Activities of a Lead": `Paging.Offset` is the page, from 0, of
    /// `Paging.RowCount` rows). None for any other request, or past the last page.
    pub fn next_activities_page(req: &HttpRequest, resp: &HttpResponse) -> Option<HttpRequest> {
        if !req.url.contains("/ProspectActivity.svc/Retrieve?") || classify(resp).is_some() {
            return None;
        }
        let num = |v: &Value| {
            v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse::<u64>().ok()))
        };
        let mut body: Value = serde_json::from_slice(req.body.as_deref()?).ok()?;
        let rows = num(&body["Paging"]["RowCount"])?.max(1);
        let page = num(&body["Paging"]["Offset"]).unwrap_or(0);
        let total = num(json(resp).ok()?.get("RecordCount")?)?;
        if (page + 1) * rows >= total {
            return None;
        }
        body["Paging"]["Offset"] = Value::String((page + 1).to_string());
        let mut next = req.clone();
        next.body = Some(body.to_string().into_bytes());
        Some(next)
    }

    /// The id of the activity whose key field equals `key`. "Get Activities of a Lead" puts
    /// the custom fields of each activity under `Data`, a key-value list; its inner shape is
    /// read as `[{"Key","Value"}]` or as an object of `name: value` (the page's example does
    /// not show it whole).
    pub fn find_activity(resp: &HttpResponse, key: &str) -> Result<Option<String>, Failure> {
        if let Some(f) = classify(resp) {
            return Err(f);
        }
        let v = json(resp)?;
        let list = v.get("ProspectActivities").and_then(|l| l.as_array()).ok_or_else(|| {
            Failure::Transient { reason: "activities answer without ProspectActivities[]".into() }
        })?;
        let holds_key = |a: &Value| match a.get("Data") {
            Some(Value::Array(d)) => d.iter().any(|kv| {
                str_of(kv, "Key").as_deref() == Some(KEY_FIELD)
                    && str_of(kv, "Value").as_deref() == Some(key)
            }),
            Some(Value::Object(m)) => m.get(KEY_FIELD).and_then(Value::as_str) == Some(key),
            _ => false,
        };
        Ok(list.iter().find(|a| holds_key(a)).and_then(|a| str_of(a, "Id")))
    }

    pub fn opportunities_of_lead(&self, lead_id: &str) -> HttpRequest {
        self.authed(json_request(
            Method::Post,
            self.url(&format!(
                "OpportunityManagement.svc/GetOpportunitiesOfLead?leadId={}",
                crate::crm::enc(lead_id)
            )),
            &json!({"Paging": {"PageIndex": 1, "PageSize": 100}}),
        ))
    }

    /// The opportunity ids of a lead. A failed read is an error, never "no opportunities":
    /// the backup would otherwise skip them and still count the messages as delivered.
    pub fn parse_opportunities(resp: &HttpResponse) -> Result<Vec<String>, Failure> {
        if let Some(f) = classify(resp) {
            return Err(f);
        }
        let v = json(resp)?;
        let list = v.get("List").and_then(Value::as_array).ok_or_else(|| Failure::Transient {
            reason: "opportunity answer without List[]".into(),
        })?;
        Ok(list.iter().filter_map(|o| str_of(o, "OpportunityId")).collect())
    }

    /// The code of the "WhatsApp Chats" activity type in an `ActivityTypes.Get` answer.
    pub fn parse_activity_types(resp: &HttpResponse) -> Result<Option<u32>, Failure> {
        if let Some(f) = classify(resp) {
            return Err(f);
        }
        let v = json(resp)?;
        let types = v.as_array().ok_or_else(|| Failure::Transient {
            reason: "activity types answer is not a list".into(),
        })?;
        Ok(types
            .iter()
            .find(|t| {
                t.get("ActivityEventName").and_then(Value::as_str) == Some(ACTIVITY_TYPE_NAME)
            })
            .and_then(|t| t.get("ActivityEvent").and_then(Value::as_u64))
            .and_then(|c| u32::try_from(c).ok()))
    }

    /// A file cannot be posted through these APIs: the activity carries a link line instead.
    pub fn attachment_line(file_name: &str, url: Option<&str>) -> String {
        match url {
            Some(u) if u.starts_with("https://") => format!("Attachment: {file_name} ({u})"),
            _ => format!("Attachment: {file_name} (kept in WhatsApp)"),
        }
    }
}

impl Connector for LeadSquared {
    fn crm(&self) -> Crm {
        Crm::Leadsquared
    }

    fn text_search_requests(&self, query: &str) -> Vec<HttpRequest> {
        // Quick search covers name, e-mail, phone and company in one call.
        match crate::crm::Query::parse(query) {
            Some(crate::crm::Query::Phone(p)) => {
                self.by_phone(&p).into_iter().chain([self.quick_search(&p)]).collect()
            }
            Some(crate::crm::Query::Email(q) | crate::crm::Query::Words(q)) => {
                vec![self.quick_search(&q)]
            }
            None => vec![],
        }
    }

    fn deals_request(&self, record: &crate::core::model::RecordRef) -> Option<HttpRequest> {
        matches!(record.kind, RecordKind::Lead | RecordKind::Contact)
            .then(|| self.opportunities_of_lead(&record.id))
    }

    fn parse_deal_rows(
        &self,
        resp: &HttpResponse,
    ) -> Result<Vec<crate::core::model::DealRow>, Failure> {
        if let Some(f) = classify(resp) {
            return Err(f);
        }
        let v = json(resp)?;
        let list = v.get("List").and_then(|l| l.as_array()).cloned().unwrap_or_default();
        Ok(list
            .iter()
            .map(|o| crate::core::model::DealRow {
                id: str_of(o, "OpportunityId"),
                name: str_of(o, "OpportunityName")
                    .or_else(|| str_of(o, "mx_Custom_1"))
                    .unwrap_or_default(),
                stage: str_of(o, "Stage").or_else(|| str_of(o, "Status")),
                amount: crate::crm::num_of(o, "Amount"),
                currency: None,
                close_date: str_of(o, "ExpectedClosureDate"),
            })
            .take(crate::core::model::MAX_DEALS)
            .collect())
    }

    /// One `RetrieveLeadByPhoneNumber` per line: it takes one number, matches Phone and Mobile
    /// with or without the country code (Retrieve Lead by Phone Number page), so a variant
    /// that is the tail of a longer one (the national form of the international) is the same
    /// call. A number has one line, a Brazilian/Mexican/Argentinian one its old and new form.
    fn search_requests(&self, variants: &[String]) -> Vec<HttpRequest> {
        let mut lines: Vec<String> = Vec::new();
        for v in variants {
            let d: String = v.chars().filter(char::is_ascii_digit).collect();
            if d.len() >= 3 && !lines.contains(&d) {
                lines.push(d);
            }
        }
        lines.sort_by_key(|d| std::cmp::Reverse(d.len()));
        let mut kept: Vec<String> = Vec::new();
        for d in lines {
            if !kept.iter().any(|k| k.ends_with(d.as_str())) {
                kept.push(d);
            }
        }
        kept.iter().filter_map(|d| self.by_phone(d)).collect()
    }

    fn parse_search(&self, resp: &HttpResponse) -> Result<Vec<CrmRecord>, Failure> {
        if let Some(f) = classify(resp) {
            return Err(f);
        }
        let v = json(resp)?;
        Ok(v.as_array().map(|a| a.iter().filter_map(record_of).collect()).unwrap_or_default())
    }

    fn create_request(&self, _kind: CreateKind, new: &crate::crm::NewRecord) -> HttpRequest {
        let (first, last) = crate::crm::zoho::split_name(&new.name);
        let mut attrs = vec![
            json!({"Attribute": "LastName", "Value": last}),
            json!({"Attribute": "Mobile", "Value": new.phone}),
            json!({"Attribute": "Source", "Value": "WhatsApp"}),
        ];
        if let Some(f) = first {
            attrs.insert(0, json!({"Attribute": "FirstName", "Value": f}));
        }
        let typed = |v: &Option<String>| {
            v.as_deref().map(str::trim).filter(|x| !x.is_empty()).map(str::to_string)
        };
        if let Some(e) = typed(&new.email) {
            attrs.push(json!({"Attribute": "EmailAddress", "Value": e}));
        }
        if let Some(c) = typed(&new.company) {
            attrs.push(json!({"Attribute": "Company", "Value": c}));
        }
        self.authed(json_request(
            Method::Post,
            self.url("LeadManagement.svc/Lead.Create"),
            &Value::Array(attrs),
        ))
    }

    /// A duplicate names no id: the caller looks the number up again (`by_phone`) to link it.
    fn parse_create(&self, resp: &HttpResponse) -> Result<Created, Failure> {
        let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        if str_of(&v, "ExceptionType").as_deref() == Some("MXDuplicateEntryException") {
            return Ok(Created::Duplicate { id: String::new() });
        }
        Self::parse_id(resp).map(|id| Created::New { id })
    }

    fn deep_link(&self, kind: RecordKind, id: &str) -> Option<String> {
        match kind {
            RecordKind::Lead | RecordKind::Contact => Some(format!(
                "https://{}/LeadManagement/LeadDetails?LeadID={}",
                self.app_host,
                crate::crm::enc(id)
            )),
            RecordKind::Opportunity | RecordKind::Deal => Some(format!(
                "https://{}/OpportunityManagement/OpportunityDetails?opportunityId={}",
                self.app_host,
                crate::crm::enc(id)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::{golden, resp};

    #[test]
    fn a_failed_opportunity_read_is_an_error_not_an_empty_list() {
        // Before: the backup read `List` from any answer and took a 503 for "no opportunities",
        // so the opportunity's copy was skipped and the messages still counted as delivered.
        assert!(matches!(
            LeadSquared::parse_opportunities(&resp(503, b"")),
            Err(Failure::Transient { .. })
        ));
        assert!(matches!(
            LeadSquared::parse_opportunities(&resp(200, b"")),
            Err(Failure::Transient { .. })
        ));
        let limited = br#"{"Status":"Error","ExceptionType":"MXAPIRateLimitExceededException","ExceptionMessage":"limit"}"#;
        assert!(matches!(
            LeadSquared::parse_opportunities(&resp(200, limited)),
            Err(Failure::RateLimited { .. })
        ));
        let ok = br#"{"RecordCount":2,"List":[{"OpportunityId":"o1"},{"OpportunityId":"o2"},{"Name":"no id"}]}"#;
        assert_eq!(LeadSquared::parse_opportunities(&resp(200, ok)).unwrap(), ["o1", "o2"]);
        assert_eq!(
            LeadSquared::parse_opportunities(&resp(200, br#"{"RecordCount":0,"List":[]}"#))
                .unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn activity_types_find_ours_or_fail_clearly() {
        let body = br#"[{"ActivityEvent":12,"ActivityEventName":"Other"},{"ActivityEvent":205,"ActivityEventName":"WhatsApp Chats"}]"#;
        assert_eq!(LeadSquared::parse_activity_types(&resp(200, body)).unwrap(), Some(205));
        assert_eq!(LeadSquared::parse_activity_types(&resp(200, b"[]")).unwrap(), None);
        assert!(LeadSquared::parse_activity_types(&resp(502, b"")).is_err());
        assert!(LeadSquared::parse_activity_types(&resp(200, br#"{"ActivityEvent":1}"#)).is_err());
        let huge = br#"[{"ActivityEvent":99999999999,"ActivityEventName":"WhatsApp Chats"}]"#;
        assert_eq!(LeadSquared::parse_activity_types(&resp(200, huge)).unwrap(), None);
    }

    fn lsq() -> LeadSquared {
        LeadSquared {
            access_key: "u$sandbox-access".into(),
            secret_key: "sandbox-secret-key".into(),
            api_host: "api-in21.leadsquared.com".into(),
            app_host: "in21.leadsquared.com".into(),
            activity_event: Some(201),
        }
    }

    fn act(n: usize) -> Activity {
        Activity {
            lead_id: "L1".into(),
            opportunity_id: None,
            key: format!("wa-k#{n}"),
            note: "[10:01] Priya: Hi".into(),
            when_utc: "2025-11-20 04:31:00".into(),
        }
    }

    #[test]
    fn discovers_region_with_header_keys() {
        let r = discovery_request("u$sandbox-access", "sandbox-secret-key");
        assert_eq!(r.url, "https://api.leadsquared.com/v2/Authentication.svc/UserByAccessKey.Get");
        assert!(r.headers.contains(&("x-LSQ-AccessKey".into(), "u$sandbox-access".into())));
        assert_eq!(
            parse_discovery(&resp(200, &golden("leadsquared/user-by-access-key.json"))).unwrap(),
            ("api-in21.leadsquared.com".into(), "in21.leadsquared.com".into())
        );
        assert_eq!(parse_discovery(&resp(401, b"")), Err(Failure::ReconnectNeeded));
        for (api, why) in [
            ("evil.example", "evil.example is not a LeadSquared host"),
            (
                "x.leadsquared.com.attacker.example",
                "x.leadsquared.com.attacker.example is not a LeadSquared host",
            ),
            ("attacker.example/.leadsquared.com", "a host name only, without a path"),
        ] {
            let answer = serde_json::json!({"LSQCommonServiceURLs": {"api": api, "app": "in21.leadsquared.com"}});
            assert_eq!(
                parse_discovery(&resp(200, answer.to_string().as_bytes())),
                Err(Failure::Rejected {
                    reason: format!("the user answer names an unexpected region host: {why}")
                }),
                "{api}"
            );
        }
        assert_eq!(
            parse_discovery(&resp(
                200,
                br#"{"LSQCommonServiceURLs":{"api":"https://api-us11.leadsquared.com/","app":"us11.leadsquared.com"}}"#
            )),
            Ok(("api-us11.leadsquared.com".into(), "us11.leadsquared.com".into()))
        );
    }

    #[test]
    fn phone_lookup_digits_only_and_records() {
        let reqs = lsq().search_requests(&[
            "+919876543210".into(),
            "919876543210".into(),
            "9876543210".into(),
        ]);
        // Before: one lookup per digit string plus a quick search (3 calls); the national form
        // is the international one without its country code: the same lookup.
        assert_eq!(reqs.len(), 1, "one lookup for one line");
        assert_eq!(reqs[0].url, "https://api-in21.leadsquared.com/v2/LeadManagement.svc/RetrieveLeadByPhoneNumber?phone=919876543210");
        let br = lsq().search_requests(&crate::core::phone::search_variants("+5511987654321"));
        assert_eq!(
            br.iter().map(|r| r.url.rsplit('=').next().unwrap_or("")).collect::<Vec<_>>(),
            ["5511987654321", "551187654321"],
            "the 9th-digit line and its old form"
        );
        let recs =
            lsq().parse_search(&resp(200, &golden("leadsquared/lead-by-phone.json"))).unwrap();
        assert_eq!(recs[0].id, "00727844-51aa-11e2-9e64-12314004ac6b");
        assert_eq!(recs[0].phones, vec![("Mobile".into(), "+91-9876543210".into())]);
        assert_eq!(recs[0].name, "Priya Sharma");
        assert_eq!(lsq().parse_search(&resp(200, b"[]")).unwrap(), vec![]);
    }

    #[test]
    fn errors_including_200_with_status_error() {
        assert_eq!(
            classify(&resp(429, &golden("leadsquared/rate-limit.json"))),
            Some(Failure::RateLimited { after_ms: Some(5_000) })
        );
        assert_eq!(
            classify(&resp(200, &golden("leadsquared/rate-limit.json"))),
            Some(Failure::RateLimited { after_ms: Some(5_000) })
        );
        assert!(
            matches!(classify(&resp(200, &golden("leadsquared/mandatory-missing.json"))), Some(Failure::Rejected { reason }) if reason.starts_with("MXMandatoryAttributeMissingException"))
        );
        assert_eq!(classify(&resp(200, &golden("leadsquared/create-success.json"))), None);
    }

    #[test]
    fn create_and_duplicate() {
        let r = lsq().create_request(
            CreateKind::Lead,
            &crate::crm::NewRecord::new("Priya Sharma", "+91-9876543210"),
        );
        assert_eq!(r.url, "https://api-in21.leadsquared.com/v2/LeadManagement.svc/Lead.Create");
        let b: Value = serde_json::from_slice(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(b[0], json!({"Attribute":"FirstName","Value":"Priya"}));
        assert_eq!(
            lsq().parse_create(&resp(200, &golden("leadsquared/create-success.json"))).unwrap(),
            Created::New { id: "3131ea6a-bb20-4457-b183-ddf6d8716dfe".into() }
        );
        assert_eq!(
            lsq().parse_create(&resp(500, &golden("leadsquared/duplicate-error.json"))).unwrap(),
            Created::Duplicate { id: String::new() }
        );
    }

    #[test]
    fn activities_bulk_single_update_and_lookup() {
        assert!(LeadSquared { activity_event: None, ..lsq() }.post_activity(&act(0)).is_err());
        let t = lsq().create_activity_type();
        assert!(t.url.ends_with("/v2/ProspectActivity.svc/CreateType"));
        let b = lsq().post_bulk(&(0..25).map(act).collect::<Vec<_>>()).unwrap();
        let v: Value = serde_json::from_slice(b.body.as_deref().unwrap()).unwrap();
        assert_eq!(v[0]["ActivityEvent"], 201);
        assert_eq!(v[0]["Fields"][0], json!({"SchemaName":"mx_Custom_1","Value":"wa-k#0"}));
        assert!(lsq().post_bulk(&(0..26).map(act).collect::<Vec<_>>()).is_err());
        assert_eq!(
            LeadSquared::parse_bulk(&resp(200, &golden("leadsquared/bulk-activity.json"))).unwrap(),
            vec![Ok("6e2a3c76-1b2c-4d5e-8f90-123456789abc".into())]
        );
        let mut o = act(1);
        o.opportunity_id = Some("OPP1".into());
        let s: Value =
            serde_json::from_slice(lsq().post_activity(&o).unwrap().body.as_deref().unwrap())
                .unwrap();
        assert_eq!(s["RelatedOpportunityId"], "OPP1");
        assert_eq!(
            lsq().deep_link(RecordKind::Lead, "L1").as_deref(),
            Some("https://in21.leadsquared.com/LeadManagement/LeadDetails?LeadID=L1")
        );
        assert!(
            LeadSquared::attachment_line("a.pdf", Some("blob:x")).ends_with("(kept in WhatsApp)")
        );
    }

    #[test]
    fn a_grown_day_is_updated_through_the_documented_endpoint() {
        // Before: `POST ProspectActivity.svc/Update`, a path LeadSquared does not document.
        // https://apidocs.leadsquared.com/update-activity/
        let r = lsq().update_activity("A2", &act(1)).unwrap();
        assert_eq!(
            r.url,
            "https://api-in21.leadsquared.com/v2/ProspectActivity.svc/CustomActivity/Update"
        );
        let b: Value = serde_json::from_slice(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            b,
            json!({"ProspectActivityId": "A2", "ActivityEvent": 201, "ActivityNote": "[10:01] Priya: Hi", "Fields": [{"SchemaName": "mx_Custom_1", "Value": "wa-k#1"}]})
        );
    }

    #[test]
    fn reconcile_reads_custom_fields_under_data() {
        // Before: the key was looked for under `ActivityData`, which "Get Activities of a
        // Lead" does not return: a lost answer led to a second activity.
        let list = br#"{"RecordCount":2,"ProspectActivities":[{"Id":"A1","EventCode":201,"Data":[{"Key":"mx_Custom_1","Value":"wa-k#0"}]},{"Id":"A2","EventCode":201,"Data":[{"Key":"mx_Custom_1","Value":"wa-k#1"}]}]}"#;
        assert_eq!(
            LeadSquared::find_activity(&resp(200, list), "wa-k#1").unwrap(),
            Some("A2".into())
        );
        assert_eq!(LeadSquared::find_activity(&resp(200, list), "wa-k#9").unwrap(), None);
        let as_object = br#"{"RecordCount":1,"ProspectActivities":[{"Id":"A3","Data":{"mx_Custom_1":"wa-k#3","Status":"Active"}}]}"#;
        assert_eq!(
            LeadSquared::find_activity(&resp(200, as_object), "wa-k#3").unwrap(),
            Some("A3".into())
        );
        let old_shape = br#"{"RecordCount":1,"ProspectActivities":[{"Id":"A1","ActivityData":[{"Key":"mx_Custom_1","Value":"wa-k#0"}]}]}"#;
        assert_eq!(LeadSquared::find_activity(&resp(200, old_shape), "wa-k#0").unwrap(), None);
        // An answer that is not a list of activities is not "absent" (that would post again).
        assert!(LeadSquared::find_activity(&resp(200, b"{}"), "wa-k#0").is_err());
        let read = lsq().lead_activities("L1").unwrap();
        assert!(read.url.ends_with("/v2/ProspectActivity.svc/Retrieve?leadId=L1"));
        let b: Value = serde_json::from_slice(read.body.as_deref().unwrap()).unwrap();
        assert_eq!(b["Parameter"]["ActivityEvent"], 201);
        assert_eq!(b["Paging"]["RowCount"], ACTIVITIES_PER_READ.to_string());
    }

    #[test]
    fn the_activities_read_goes_past_the_first_page() {
        // Before: one page of ACTIVITIES_PER_READ: an activity beyond it was "absent" after a
        // lost answer, and the day was posted a second time.
        let first = lsq().lead_activities("L1").unwrap();
        let page = |r: &HttpRequest| {
            serde_json::from_slice::<Value>(r.body.as_deref().unwrap()).unwrap()["Paging"]["Offset"]
                .clone()
        };
        let total = ACTIVITIES_PER_READ + 1;
        let more = format!(r#"{{"RecordCount":{total},"ProspectActivities":[]}}"#);
        let second = LeadSquared::next_activities_page(&first, &resp(200, more.as_bytes()))
            .expect("a second page");
        assert_eq!((second.url.as_str(), page(&second)), (first.url.as_str(), json!("1")));
        assert_eq!(second.headers, first.headers);
        assert_eq!(LeadSquared::next_activities_page(&second, &resp(200, more.as_bytes())), None);
        let one_page =
            format!(r#"{{"RecordCount":{ACTIVITIES_PER_READ},"ProspectActivities":[]}}"#);
        assert_eq!(
            LeadSquared::next_activities_page(&first, &resp(200, one_page.as_bytes())),
            None
        );
        // Not a list read, or a failed one: no next page.
        let post = lsq().opportunities_of_lead("L1");
        assert_eq!(LeadSquared::next_activities_page(&post, &resp(200, more.as_bytes())), None);
        assert_eq!(LeadSquared::next_activities_page(&first, &resp(500, b"{}")), None);
    }

    #[test]
    fn card_opportunities_and_text_search() {
        use crate::core::model::RecordRef;
        let l = LeadSquared {
            access_key: "a".into(),
            secret_key: "s".into(),
            api_host: "api-in21.leadsquared.com".into(),
            app_host: "in21.leadsquared.com".into(),
            activity_event: None,
        };
        let lead = RecordRef { crm: Crm::Leadsquared, kind: RecordKind::Lead, id: "p1".into() };
        assert!(l.deals_request(&lead).unwrap().url.contains("GetOpportunitiesOfLead?leadId=p1"));
        let body = br#"{"RecordCount":1,"List":[{"OpportunityId":"o1","OpportunityName":"Bulk cotton order Q1","Stage":"Negotiation","Amount":480000,"ExpectedClosureDate":"2027-01-15"}]}"#;
        let rows = l.parse_deal_rows(&resp(200, body)).unwrap();
        assert_eq!(
            (rows[0].name.as_str(), rows[0].stage.as_deref(), rows[0].amount),
            ("Bulk cotton order Q1", Some("Negotiation"), Some(480000.0))
        );
        assert!(l.parse_deal_rows(&resp(200, &golden("leadsquared/rate-limit.json"))).is_err());
        assert!(l.text_search_requests("Priya")[0]
            .url
            .contains("Leads.GetByQuickSearch?key=Priya"));
        assert_eq!(l.text_search_requests("+91 98765 43210").len(), 2);
    }
}
