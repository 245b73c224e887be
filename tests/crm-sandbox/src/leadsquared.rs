//! LeadSquared v2 as crmsync uses it (shared/reference/crm-api.md §3): keys in the query
//! or headers, the tenant's regional host (other calls on other hosts → 401), lookups by
//! phone, lead create, activity types, single and bulk (≤25) activities, activity
//! retrieval and update, opportunities of a lead, and the per-5-second limiter.
//! Paths marked [U] in the reference are the sandbox's documented choice.
use crate::db::now_ms;
use crate::seed::{LSQ_ACCESS, LSQ_API_HOST, LSQ_SECRET};
use crate::{digits, json_resp, pages, token, Req, Shared};
use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Value};

fn error(status: u16, ty: &str, msg: &str) -> Response {
    json_resp(status, json!({"Status": "Error", "ExceptionType": ty, "ExceptionMessage": msg}))
}

fn guid(state: &Shared) -> String {
    let t = token("", &state.db);
    format!("{}-{}-4{}-a{}-{}", &t[0..8], &t[8..12], &t[13..16], &t[17..20], &t[20..32])
}

pub fn handle(state: &Shared, r: &Req) -> Response {
    if !r.host.starts_with("api") {
        return pages::leadsquared(state, r);
    }
    let access = r.q("accessKey").or_else(|| r.header("x-lsq-accesskey"));
    let secret = r.q("secretKey").or_else(|| r.header("x-lsq-secretkey"));
    if access != Some(LSQ_ACCESS) || secret != Some(LSQ_SECRET) {
        return error(401, "MXUnAuthorizedAccessException", "Invalid access key or secret key");
    }
    let path = r.path.trim_start_matches("/v2/");
    if path == "Authentication.svc/UserByAccessKey.Get" {
        // Works on any regional host: how clients discover theirs.
        let api = state.config().lsq_api_host.unwrap_or_else(|| LSQ_API_HOST.into());
        return json_resp(
            200,
            json!({"Id": "a1b2c3d4-0000-4000-8000-000000000001", "FirstName": "Rita", "LastName": "Rep", "EmailAddress": "rita@crmsync.example",
            "Role": state.config().lsq_role, "OrgId": "54321", "OrgShortCode": "crmsyncdemo", "TimeZone": "Asia/Kolkata", "DefaultCountryCode": "+91",
            "LSQCommonServiceURLs": {"api": api, "app": LSQ_API_HOST.trim_start_matches("api-")}}),
        );
    }
    if r.host != LSQ_API_HOST {
        return error(
            401,
            "MXUnAuthorizedAccessException",
            "The access key does not belong to this region",
        );
    }
    // Per-5-second limiter (plan dependent; configurable).
    {
        let limit = state.config().lsq_calls_per_5s;
        let status = state.config().lsq_rate_limit_status;
        if let Ok(mut calls) = state.lsq_calls.lock() {
            let now = now_ms();
            calls.retain(|t| now - *t < 5_000);
            if calls.len() >= limit {
                return error(
                    status,
                    "MXAPIRateLimitExceededException",
                    &format!("API calls exceeded the limit of {limit} in 5 second(s)"),
                );
            }
            calls.push(now);
        }
    }
    match (&r.method, path) {
        (&Method::GET, "LeadManagement.svc/RetrieveLeadByPhoneNumber") => {
            let phone = r.q("phone").unwrap_or("");
            if phone.is_empty()
                || !phone.trim_start_matches('+').chars().all(|c| c.is_ascii_digit())
            {
                return error(
                    400,
                    "MXInvalidInputException",
                    "Phone number should contain digits only",
                );
            }
            let want = digits(phone);
            // Phone and Mobile only; with or without the country code.
            let hits: Vec<Value> = state
                .db
                .list("leadsquared", "leads")
                .into_iter()
                .filter(|l| {
                    ["Phone", "Mobile"].iter().any(|f| {
                        l[*f].as_str().map(digits).is_some_and(|d| {
                            !d.is_empty() && (d == want || d.ends_with(&want) || want.ends_with(&d))
                        })
                    })
                })
                .collect();
            json_resp(200, json!(hits))
        }
        (&Method::GET, "LeadManagement.svc/Leads.GetByQuickSearch") => {
            let key = r.q("key").unwrap_or("").to_lowercase();
            let hits: Vec<Value> = state
                .db
                .list("leadsquared", "leads")
                .into_iter()
                .filter(|l| !key.is_empty() && l.to_string().to_lowercase().contains(&key))
                .collect();
            json_resp(200, json!(hits))
        }
        (&Method::GET, "LeadManagement.svc/Leads.GetById") => {
            match r.q("id").and_then(|id| state.db.get("leadsquared", "leads", id)) {
                Some(l) => json_resp(200, json!([l])),
                None => json_resp(200, json!([])),
            }
        }
        (&Method::POST, "LeadManagement.svc/Lead.Create") => lead_create(state, r),
        // Activity types are account settings: only an Administrator's keys may add one here
        // (the response-code table's 401 for a caller without the right).
        (&Method::POST, "ProspectActivity.svc/CreateType")
            if state.config().lsq_role != "Administrator" =>
        {
            error(
                401,
                "MXUnAuthorizedAccessException",
                "You do not have permission to perform this action",
            )
        }
        (&Method::POST, "ProspectActivity.svc/CreateType") => create_type(state, r),
        (&Method::GET, "ProspectActivity.svc/ActivityTypes.Get") => {
            json_resp(200, json!(state.db.list("leadsquared", "activity_types")))
        }
        (&Method::POST, "ProspectActivity.svc/Create") => match r.json() {
            Ok(b) => match activity(state, &b, None) {
                Ok(id) => json_resp(200, json!({"Status": "Success", "Message": {"Id": id}})),
                Err((ty, msg)) => error(500, &ty, &msg),
            },
            Err(e) => error(400, "MXInvalidInputException", &e),
        },
        (&Method::POST, "ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId") => {
            let Ok(Value::Array(items)) = r.json() else {
                return error(400, "MXInvalidInputException", "Expected an array of activities");
            };
            if items.is_empty() || items.len() > 25 {
                return error(
                    400,
                    "MXInvalidInputException",
                    "A bulk request takes 1 to 25 activities",
                );
            }
            let out: Vec<Value> = items
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    match activity(state, a, (Some(i) == r.record_failure).then_some(())) {
                        Ok(id) => json!({"ProspectActivityId": id}),
                        Err((ty, msg)) => json!({"ExceptionType": ty, "ExceptionMessage": msg}),
                    }
                })
                .collect();
            json_resp(200, json!({"Response": out}))
        }
        (&Method::POST, "ProspectActivity.svc/Retrieve") => {
            // "Get Activities of a Lead" (https://apidocs.leadsquared.com/get-activities-of-a-lead/):
            // custom fields under `Data` (key-value pairs), 25 per call unless `Paging` asks
            // for more (`Offset` = page from 0, `RowCount` per page); newest first.
            let lead = r.q("leadId").unwrap_or("");
            let body = r.json().unwrap_or(Value::Null);
            let event = body["Parameter"]["ActivityEvent"].as_i64();
            let num = |v: &Value, d: usize| {
                v.as_u64()
                    .map(|n| n as usize)
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    .unwrap_or(d)
            };
            let rows = num(&body["Paging"]["RowCount"], 25).max(1);
            let page = num(&body["Paging"]["Offset"], 0);
            let mut all: Vec<Value> = state
                .db
                .list("leadsquared", "activities")
                .into_iter()
                .filter(|a| {
                    a["RelatedProspectId"] == lead
                        && event.is_none_or(|e| a["ActivityEvent"].as_i64() == Some(e))
                })
                .collect();
            all.sort_by(|a, b| b["CreatedOn"].as_str().cmp(&a["CreatedOn"].as_str()));
            let total = all.len();
            let acts: Vec<Value> = all
                .into_iter()
                .skip(page * rows)
                .take(rows)
                .map(|a| {
                    let data: Vec<Value> = a["Fields"].as_array().into_iter().flatten().map(|f| json!({"Key": f["SchemaName"], "Value": f["Value"]})).collect();
                    json!({"Id": a["Id"], "EventCode": a["ActivityEvent"], "EventName": a["EventName"], "CreatedOn": a["CreatedOn"], "ActivityEvent_Note": a["ActivityNote"], "Data": data})
                })
                .collect();
            json_resp(200, json!({"RecordCount": total, "ProspectActivities": acts}))
        }
        (&Method::POST, "ProspectActivity.svc/CustomActivity/Update") => {
            // "Update an Activity" (https://apidocs.leadsquared.com/update-activity/): the
            // activity id, its event code, the note and the custom fields in the body.
            // `ProspectActivity.svc/Update` is not documented and answers 404 like any other.
            let Ok(b) = r.json() else {
                return error(400, "MXInvalidInputException", "Invalid JSON");
            };
            let Some(id) = b["ProspectActivityId"].as_str().filter(|s| !s.is_empty()) else {
                return error(
                    400,
                    "MXMandatoryAttributeMissingException",
                    "'ProspectActivityId' is mandatory",
                );
            };
            let Some(mut a) = state.db.get("leadsquared", "activities", id) else {
                return error(
                    404,
                    "MXInvalidEntityException",
                    "Activity does not exist in the system",
                );
            };
            if b["ActivityEvent"].as_i64().is_none_or(|e| a["ActivityEvent"].as_i64() != Some(e)) {
                return error(
                    400,
                    "MXInvalidInputException",
                    "'ActivityEvent' does not match the activity",
                );
            }
            if let Some(n) = b.get("ActivityNote").and_then(Value::as_str) {
                if n.chars().count() > 2000 {
                    return error(
                        400,
                        "MXInvalidActivityFieldsException",
                        "ActivityNote exceeds the maximum length of 2000 characters",
                    );
                }
                a["ActivityNote"] = json!(n);
            }
            if let Some(f) = b.get("Fields") {
                a["Fields"] = f.clone();
            }
            a["ModifiedOn"] = json!(lsq_time());
            state.db.put("leadsquared", "activities", id, &a);
            json_resp(200, json!({"Status": "Success", "Message": {"AffectedRows": 1}}))
        }
        (&Method::POST, "OpportunityManagement.svc/GetOpportunitiesOfLead") => {
            let lead = r.q("leadId").unwrap_or("");
            let list: Vec<Value> = state
                .db
                .list("leadsquared", "opportunities")
                .into_iter()
                .filter(|o| o["RelatedProspectId"] == lead)
                .collect();
            json_resp(200, json!({"RecordCount": list.len(), "List": list}))
        }
        // Undocumented paths: "404 Not Found — The API could not be found" (every endpoint page's
        // response-code table, e.g. https://apidocs.leadsquared.com/update-activity/).
        _ => error(404, "MXInvalidEntityException", &format!("No such API: {path}")),
    }
}

fn lsq_time() -> String {
    let s = now_ms() / 1000;
    let (y, m, d) = crate::zoho::civil((s / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", (s % 86_400) / 3600, (s % 3600) / 60, s % 60)
}

fn lead_create(state: &Shared, r: &Req) -> Response {
    let Ok(Value::Array(attrs)) = r.json() else {
        return error(400, "MXInvalidInputException", "Expected an array of Attribute/Value pairs");
    };
    let mut lead = json!({});
    for a in &attrs {
        if let (Some(k), Some(v)) = (a["Attribute"].as_str(), a.get("Value")) {
            lead[k] = v.clone();
        }
    }
    if ["FirstName", "LastName", "EmailAddress", "Phone", "Mobile"]
        .iter()
        .all(|f| lead[*f].as_str().is_none_or(str::is_empty))
    {
        return error(
            400,
            "MXMandatoryAttributeMissingException",
            "At least one of FirstName, LastName, EmailAddress or Phone is required",
        );
    }
    for unique in ["EmailAddress", "Phone"] {
        if let Some(v) = lead[unique].as_str().filter(|v| !v.is_empty()) {
            let clash = state.db.list("leadsquared", "leads").into_iter().any(|l| {
                l[unique].as_str().is_some_and(|x| {
                    if unique == "Phone" {
                        digits(x) == digits(v)
                    } else {
                        x.eq_ignore_ascii_case(v)
                    }
                })
            });
            if clash {
                return error(
                    500,
                    "MXDuplicateEntryException",
                    &format!("Duplicate entry '{v}' for key 'UQ_Prospect_Base_{unique}'"),
                );
            }
        }
    }
    let id = guid(state);
    lead["ProspectID"] = json!(id);
    lead["LeadLastModifiedOn"] = json!(lsq_time());
    state.db.put("leadsquared", "leads", &id, &lead);
    json_resp(200, json!({"Status": "Success", "Message": {"Id": id}}))
}

fn create_type(state: &Shared, r: &Req) -> Response {
    let Ok(b) = r.json() else { return error(400, "MXInvalidInputException", "Invalid JSON") };
    let Some(name) = b["ActivityEventName"].as_str().filter(|n| !n.is_empty()) else {
        return error(
            400,
            "MXMandatoryAttributeMissingException",
            "'ActivityEventName' is mandatory",
        );
    };
    if state.db.list("leadsquared", "activity_types").iter().any(|t| t["ActivityEventName"] == name)
    {
        return error(
            500,
            "MXDuplicateEntryException",
            &format!("Activity type '{name}' already exists"),
        );
    }
    let code = 200 + state.db.next("lsq-event");
    state.db.put(
        "leadsquared",
        "activity_types",
        &code.to_string(),
        &json!({"ActivityEvent": code, "ActivityEventName": name, "Fields": b["Fields"]}),
    );
    json_resp(200, json!({"Status": "Success", "Message": {"Id": code.to_string()}}))
}

/// Validate and store one activity; `fail` forces a per-record failure.
fn activity(state: &Shared, a: &Value, fail: Option<()>) -> Result<String, (String, String)> {
    if fail.is_some() {
        return Err(("MXInvalidActivityFieldsException".into(), "Activity rejected".into()));
    }
    let lead = a["RelatedProspectId"].as_str().unwrap_or("");
    if state.db.get("leadsquared", "leads", lead).is_none() {
        return Err((
            "MXInvalidEntityException".into(),
            "Lead does not exist in the system".into(),
        ));
    }
    let Some(event) = a["ActivityEvent"].as_i64() else {
        return Err((
            "MXMandatoryAttributeMissingException".into(),
            "'ActivityEvent' is mandatory".into(),
        ));
    };
    if event >= 200 && state.db.get("leadsquared", "activity_types", &event.to_string()).is_none() {
        return Err((
            "MXInvalidActivityFieldsException".into(),
            format!("Activity event {event} does not exist"),
        ));
    }
    if a["ActivityNote"].as_str().is_some_and(|n| n.chars().count() > 2000) {
        return Err((
            "MXInvalidActivityFieldsException".into(),
            "ActivityNote exceeds the maximum length of 2000 characters".into(),
        ));
    }
    if let Some(opp) = a["RelatedOpportunityId"].as_str() {
        if state.db.get("leadsquared", "opportunities", opp).is_none() {
            return Err((
                "MXInvalidEntityException".into(),
                "Opportunity does not exist in the system".into(),
            ));
        }
    }
    let id = guid(state);
    let mut stored = a.clone();
    stored["Id"] = json!(id);
    stored["CreatedOn"] = json!(lsq_time());
    state.db.put("leadsquared", "activities", &id, &stored);
    Ok(id)
}
