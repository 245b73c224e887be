//! Salesforce REST as crmsync uses it (shared/reference/crm-api.md §2): OAuth token and
//! authorize, SOSL phone search, a SOQL subset, sObject create/read/update, sObject
//! Collections create and upsert by external id, Composite with references, ContentNote
//! (base64 HTML, newlines stripped), ContentDocumentLink, `Sforce-Limit-Info`.
use crate::seed::{SF_CLIENT_ID, SF_CLIENT_SECRET, SF_INSTANCE, SF_PRODUCT_CLIENT_ID};
use crate::{digits, empty, json_resp, pages, token, Req, Shared};
use axum::http::{HeaderValue, Method};
use axum::response::Response;
use base64::Engine;
use serde_json::{json, Value};

const PHONE_FIELDS: [&str; 5] =
    ["Phone", "MobilePhone", "HomePhone", "OtherPhone", "AssistantPhone"];
const TYPES: [&str; 9] = [
    "Contact",
    "Lead",
    "WhatsApp_Chat__c",
    "ContentNote",
    "ContentVersion",
    "ContentDocumentLink",
    "Task",
    "Opportunity",
    "OpportunityContactRole",
];
const CHAT_OBJECT: &str = "WhatsApp_Chat__c";

/// A stock org has no `WhatsApp_Chat__c`: a custom object exists only once deployed (the
/// `demo-chat-object` seed, or the Metadata API's `createMetadata()`, see [`metadata`]).
pub fn has_chat_object(state: &Shared) -> bool {
    state.db.kv_get("sf:chat_object").as_deref() == Some("1")
}

/// Whether this org has the object type.
fn type_exists(state: &Shared, t: &str) -> bool {
    TYPES.contains(&t) && (t != CHAT_OBJECT || has_chat_object(state))
}

fn not_found() -> Response {
    errs(404, "NOT_FOUND", "The requested resource does not exist")
}

fn errs(status: u16, code: &str, message: &str) -> Response {
    json_resp(status, json!([{"message": message, "errorCode": code}]))
}

fn prefix(t: &str) -> &'static str {
    match t {
        "Contact" => "003",
        "Lead" => "00Q",
        "WhatsApp_Chat__c" => "a0X",
        "ContentNote" => "069",
        "ContentVersion" => "068",
        "Task" => "00T",
        "Opportunity" => "006",
        "OpportunityContactRole" => "00K",
        _ => "06A",
    }
}

fn new_id(state: &Shared, t: &str) -> String {
    format!("{}RO{:010}AAA", prefix(t), state.db.next("sf-id"))
}

pub fn handle(state: &Shared, r: &Req) -> Response {
    if r.host.ends_with("lightning.force.com") {
        return pages::salesforce(state, r);
    }
    if r.path.starts_with("/services/oauth2/") {
        return oauth(state, r);
    }
    if r.host != SF_INSTANCE {
        return errs(404, "NOT_FOUND", "The requested resource does not exist");
    }
    if r.path.starts_with("/services/Soap/m/") {
        return metadata(state, r);
    }
    let Some(tok) = r.bearer("Bearer") else {
        return errs(401, "INVALID_SESSION_ID", "Session expired or invalid");
    };
    if !state.db.token_ok("salesforce", "access", tok) {
        return errs(401, "INVALID_SESSION_ID", "Session expired or invalid");
    }
    let used = state.db.next("sf-api-usage");
    let limit = state.config().salesforce_daily_limit;
    let mut resp = if used > limit {
        errs(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    } else {
        data_api(state, r)
    };
    if let Ok(v) = HeaderValue::from_str(&format!("api-usage={used}/{limit}")) {
        resp.headers_mut().insert("sforce-limit-info", v);
    }
    resp
}

fn oauth(state: &Shared, r: &Req) -> Response {
    match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/services/oauth2/authorize") => {
            let Some(redirect) = r.q("redirect_uri") else {
                return json_resp(
                    400,
                    json!({"error": "invalid_request", "error_description": "missing redirect_uri"}),
                );
            };
            let product = r.q("client_id") == Some(SF_PRODUCT_CLIENT_ID);
            if r.q("client_id") != Some(SF_CLIENT_ID) && !product {
                return json_resp(
                    400,
                    json!({"error": "invalid_client_id", "error_description": "client identifier invalid"}),
                );
            }
            let sep = if redirect.contains('?') { '&' } else { '?' };
            // An org that has not installed the product's app blocks it (help article
            // 005132365); the redirect carries this error (the page shows
            // OAUTH_APPROVAL_ERROR_GENERIC).
            if product && !state.config().salesforce_app_installed {
                let mut resp = empty(302);
                if let Ok(v) = HeaderValue::from_str(&format!(
                    "{redirect}{sep}error=invalid_client&error_description=app+must+be+installed+into+org&state={}",
                    r.q("state").unwrap_or("")
                )) {
                    resp.headers_mut().insert("location", v);
                }
                return resp;
            }
            // The external client app requires PKCE.
            if product && r.q("code_challenge").is_none() {
                return json_resp(
                    400,
                    json!({"error": "invalid_request", "error_description": "missing required code challenge"}),
                );
            }
            match pages::consent(state, r, "salesforce", ("Allow Access?", "Allow", "Deny")) {
                Err(resp) | Ok(pages::Consent::Page(resp)) => return resp,
                Ok(pages::Consent::Denied) => {
                    let mut resp = empty(302);
                    if let Ok(v) = HeaderValue::from_str(&format!(
                        "{redirect}{sep}error=access_denied&error_description=end-user+denied+authorization&state={}",
                        r.q("state").unwrap_or("")
                    )) {
                        resp.headers_mut().insert("location", v);
                    }
                    return resp;
                }
                Ok(pages::Consent::Accepted) => {}
            }
            let code = token("aPrx", &state.db);
            state.db.issue_token("salesforce", "code", &code, Some(600_000));
            if let Some(ch) = r.q("code_challenge") {
                state.db.kv_set(&format!("pkce:{code}"), ch);
            }
            let mut resp = empty(302);
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{redirect}{sep}code={code}&state={}",
                r.q("state").unwrap_or("")
            )) {
                resp.headers_mut().insert("location", v);
            }
            resp
        }
        ("POST", "/services/oauth2/token") => {
            let f = r.form();
            let product = f.get("client_id").map(String::as_str) == Some(SF_PRODUCT_CLIENT_ID);
            if f.get("client_id").map(String::as_str) != Some(SF_CLIENT_ID) && !product {
                return json_resp(
                    400,
                    json!({"error": "invalid_client_id", "error_description": "client identifier invalid"}),
                );
            }
            // Connected apps require the secret in the web-server flow unless "Require Secret
            // for Web Server Flow" is switched off (Salesforce Help, connected app OAuth
            // policies; https://help.salesforce.com/s/articleView?id=sf.connected_app_create_api_integration.htm).
            let secret_ok = f.get("client_secret").map(String::as_str) == Some(SF_CLIENT_SECRET);
            if f.get("grant_type").map(String::as_str) == Some("authorization_code")
                && state.config().salesforce_require_secret
                && !secret_ok
                && !product
            {
                return json_resp(
                    400,
                    json!({"error": "invalid_client", "error_description": "invalid client credentials"}),
                );
            }
            let pkce_ok = |code: &str| match state.db.kv_get(&format!("pkce:{code}")) {
                // S256: base64url(sha256(verifier)) must equal the challenge (RFC 7636).
                Some(ch) => f.get("code_verifier").is_some_and(|v| crate::pkce_s256(v) == ch),
                None => secret_ok,
            };
            let ok = match f.get("grant_type").map(String::as_str) {
                // The product's app does not require its secret for refreshes either.
                Some("refresh_token") => {
                    (product
                        || f.get("client_secret").map(String::as_str) == Some(SF_CLIENT_SECRET))
                        && f.get("refresh_token")
                            .is_some_and(|t| state.db.token_ok("salesforce", "refresh", t))
                }
                Some("authorization_code") => f.get("code").is_some_and(|c| {
                    let ok = state.db.token_ok("salesforce", "code", c) && pkce_ok(c);
                    state.db.revoke_refresh_one(c);
                    ok
                }),
                _ => {
                    return json_resp(
                        400,
                        json!({"error": "unsupported_grant_type", "error_description": "grant type not supported"}),
                    )
                }
            };
            if !ok {
                return json_resp(
                    400,
                    json!({"error": "invalid_grant", "error_description": "expired access/refresh token"}),
                );
            }
            let at = format!("00DRO0000000001!{}", token("AR", &state.db));
            state.db.issue_token(
                "salesforce",
                "access",
                &at,
                Some(state.config().salesforce_token_ttl_ms),
            );
            let instance_url = state
                .config()
                .salesforce_instance_url
                .unwrap_or_else(|| format!("https://{SF_INSTANCE}"));
            let mut body = json!({"access_token": at, "instance_url": instance_url, "id": "https://login.salesforce.com/id/00DRO0000000001/005RO000000abcd",
                "token_type": "Bearer", "issued_at": crate::db::now_ms().to_string(), "signature": "c2FuZGJveA=="});
            if f.get("grant_type").map(String::as_str) == Some("authorization_code") {
                let rt = token("5Aep", &state.db);
                state.db.issue_token("salesforce", "refresh", &rt, None);
                body["refresh_token"] = json!(rt);
            }
            json_resp(200, body)
        }
        ("GET", "/services/oauth2/userinfo") => {
            match r.bearer("Bearer").filter(|t| state.db.token_ok("salesforce", "access", t)) {
                Some(_) => json_resp(
                    200,
                    json!({"user_id": "005RO000000abcd", "organization_id": "00DRO0000000001", "name": "Rita Rep"}),
                ),
                None => errs(401, "INVALID_SESSION_ID", "Session expired or invalid"),
            }
        }
        _ => json_resp(404, json!({"error": "not_found"})),
    }
}

fn soap(status: u16, body: String) -> Response {
    let mut resp = Response::new(axum::body::Body::from(format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata" xmlns:sf="http://soap.sforce.com/2006/04/metadata"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"#
    )));
    *resp.status_mut() = axum::http::StatusCode::from_u16(status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert("content-type", HeaderValue::from_static("text/xml;charset=UTF-8"));
    resp
}

fn fault(code: &str, message: &str) -> Response {
    soap(
        500,
        format!("<soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {message}</faultstring></soapenv:Fault>"),
    )
}

/// The inner text of each `<tag>…</tag>`.
fn xml_texts<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(&after[..j]);
        rest = &after[j + close.len()..];
    }
    out
}

/// Metadata API `createMetadata()` over SOAP (`POST /services/Soap/m/NN.N`; Metadata API
/// Developer Guide, createMetadata(): components of one type per call, up to 10, one
/// `SaveResult` each with `fullName`, `success` and `errors` of `statusCode`/`message`). The
/// session id is the OAuth access token (SessionHeader). Only `WhatsApp_Chat__c` and its
/// fields are deployable here. The caller needs "Modify Metadata Through Metadata API
/// Functions" or "Modify All Data" (same page, Permissions): the `no_customize` user (config
/// `salesforce_user`) has neither and gets the SOAP fault `INSUFFICIENT_ACCESS` (the
/// permission is documented there; the fault's code and text are as reported in public,
/// e.g. certinia/apex-mdapi issue 44, not on an official page: unverified).
fn metadata(state: &Shared, r: &Req) -> Response {
    let xml = String::from_utf8_lossy(&r.body).into_owned();
    let session = xml_texts(&xml, "sessionId").first().map(|s| s.replace("&amp;", "&"));
    if !session.is_some_and(|s| state.db.token_ok("salesforce", "access", &s)) {
        return fault(
            "INVALID_SESSION_ID",
            "Invalid Session ID found in SessionHeader: Illegal Session",
        );
    }
    let Some(call) = xml_texts(&xml, "createMetadata").first().copied() else {
        return fault("INVALID_OPERATION", "the sandbox implements createMetadata only");
    };
    if state.config().salesforce_user != "full" {
        return fault(
            "INSUFFICIENT_ACCESS",
            "use of the Metadata API requires a user with the ModifyAllData or ModifyMetadata permissions",
        );
    }
    let kinds: Vec<&str> = ["CustomObject", "CustomField"]
        .into_iter()
        .filter(|k| call.contains(&format!(r#"xsi:type="{k}""#)))
        .collect();
    let items = xml_texts(call, "metadata").len().max(call.matches("<metadata ").count());
    if kinds.len() != 1 {
        return fault("INVALID_TYPE", "All components must be of the same type in the same call");
    }
    if items > 10 {
        return fault("LIMIT_EXCEEDED", "Too many components: at most 10 per call");
    }
    let mut results = String::new();
    for part in call.split("<metadata ").skip(1) {
        let name = xml_texts(part, "fullName").first().copied().unwrap_or("");
        let ok_result = |name: &str| {
            format!("<result><fullName>{name}</fullName><success>true</success></result>")
        };
        let err_result = |name: &str, code: &str, msg: &str| {
            format!("<result><errors><message>{msg}</message><statusCode>{code}</statusCode></errors><fullName>{name}</fullName><success>false</success></result>")
        };
        let r = match kinds[0] {
            "CustomObject" if name == CHAT_OBJECT => {
                if has_chat_object(state) {
                    err_result(
                        name,
                        "DUPLICATE_DEVELOPER_NAME",
                        "There is already a Custom Object named WhatsApp_Chat__c.",
                    )
                } else if [
                    "<label>",
                    "<pluralLabel>",
                    "<nameField>",
                    "<deploymentStatus>",
                    "<sharingModel>",
                ]
                .iter()
                .any(|t| !part.contains(t))
                {
                    err_result(name, "FIELD_INTEGRITY_EXCEPTION", "label, pluralLabel, nameField, deploymentStatus and sharingModel are required")
                } else {
                    state.db.kv_set("sf:chat_object", "1");
                    ok_result(name)
                }
            }
            "CustomField" if name.starts_with("WhatsApp_Chat__c.") => {
                let key = format!("sf:chat_field:{name}");
                if !has_chat_object(state) {
                    err_result(
                        name,
                        "INVALID_CROSS_REFERENCE_KEY",
                        "no such object: WhatsApp_Chat__c",
                    )
                } else if state.db.kv_get(&key).is_some() {
                    err_result(
                        name,
                        "DUPLICATE_DEVELOPER_NAME",
                        "There is already a field with that name.",
                    )
                } else if !part.contains("<label>") || !part.contains("<type>") {
                    err_result(name, "FIELD_INTEGRITY_EXCEPTION", "label and type are required")
                } else {
                    state.db.kv_set(&key, "1");
                    ok_result(name)
                }
            }
            _ => err_result(
                name,
                "INVALID_CROSS_REFERENCE_KEY",
                "the sandbox deploys only WhatsApp_Chat__c and its fields",
            ),
        };
        results.push_str(&r);
    }
    soap(200, format!("<createMetadataResponse>{results}</createMetadataResponse>"))
}

fn data_api(state: &Shared, r: &Req) -> Response {
    match state.config().salesforce_user.as_str() {
        // A user (or org) without API access (REST API Developer Guide, status codes: 403
        // API_DISABLED_FOR_ORG).
        "no_api" => {
            return errs(
                403,
                "API_DISABLED_FOR_ORG",
                "The REST API is not enabled for this Organization.",
            )
        }
        // No Create on Task and ContentNote (Salesforce answers 403 for an object the
        // profile may not create: INSUFFICIENT_ACCESS_OR_READONLY).
        "read_only"
            if r.method != Method::GET
                && (r.path.contains("/sobjects/Task")
                    || r.path.contains("/sobjects/ContentNote")
                    || r.path.contains("/composite")) =>
        {
            return errs(
                403,
                "INSUFFICIENT_ACCESS_OR_READONLY",
                "insufficient access rights on object id",
            )
        }
        _ => {}
    }
    let rest = match r.path.strip_prefix("/services/data/").and_then(|p| p.split_once('/')) {
        Some((v, rest)) if v.starts_with('v') => rest.to_string(),
        _ => return errs(404, "NOT_FOUND", "The requested resource does not exist"),
    };
    let body = || r.json();
    dispatch(state, &r.method, &rest, &body, r.record_failure, &r.query)
}

/// One REST call on the data API (also used for Composite subrequests).
fn dispatch(
    state: &Shared,
    method: &Method,
    rest: &str,
    body: &dyn Fn() -> Result<Value, String>,
    fail_at: Option<usize>,
    query: &std::collections::HashMap<String, String>,
) -> Response {
    let parts: Vec<&str> = rest.trim_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        (&Method::GET, ["search"]) => sosl(state, query.get("q").map(String::as_str).unwrap_or("")),
        (&Method::GET, ["query"]) => soql(state, query.get("q").map(String::as_str).unwrap_or("")),
        (&Method::GET, ["query", locator]) => query_more(state, locator),
        // sObject Basic Information: 200 for an object the org has, 404 otherwise.
        // `createable` is this user's right (a read-only user may not create Task or ContentNote).
        (&Method::GET, ["sobjects", t]) if type_exists(state, t) => {
            let createable = state.config().salesforce_user != "read_only"
                || !matches!(*t, "Task" | "ContentNote");
            json_resp(
                200,
                json!({"objectDescribe": {"name": t, "custom": t.ends_with("__c"), "createable": createable, "queryable": true, "updateable": createable}, "recentItems": []}),
            )
        }
        (&Method::GET, ["sobjects", _]) => not_found(),
        (_, ["sobjects", t, ..]) if !type_exists(state, t) => not_found(),
        (_, ["composite", "sobjects", t, ..]) if !type_exists(state, t) => not_found(),
        (&Method::POST, ["sobjects", t]) => match body() {
            Ok(b) => {
                let (status, v) = create(state, t, &b);
                json_resp(status, v)
            }
            Err(e) => errs(400, "JSON_PARSER_ERROR", &e),
        },
        (&Method::GET, ["sobjects", t, id]) => match state.db.get("salesforce", t, id) {
            Some(v) => json_resp(200, v),
            None => errs(404, "NOT_FOUND", "The requested resource does not exist"),
        },
        (&Method::PATCH, ["sobjects", t, id]) => {
            match (body(), state.db.get("salesforce", t, id)) {
                (Ok(b), Some(mut rec)) => {
                    if let Some(e) = apply(t, &mut rec, &b) {
                        return json_resp(400, json!([e]));
                    }
                    state.db.put("salesforce", t, id, &rec);
                    empty(204)
                }
                (Err(e), _) => errs(400, "JSON_PARSER_ERROR", &e),
                (_, None) => errs(404, "NOT_FOUND", "The requested resource does not exist"),
            }
        }
        (&Method::POST, ["composite", "sobjects"]) => collections(state, body, fail_at, None),
        (&Method::PATCH, ["composite", "sobjects"]) => collections_update(state, body, fail_at),
        (&Method::PATCH, ["composite", "sobjects", t, ext]) => {
            collections(state, body, fail_at, Some((t.to_string(), ext.to_string())))
        }
        (&Method::POST, ["composite"]) => composite(state, body),
        _ => errs(404, "NOT_FOUND", "The requested resource does not exist"),
    }
}

/// Field rules on write. Returns an error object when the record is refused.
fn apply(t: &str, rec: &mut Value, fields: &Value) -> Option<Value> {
    let Some(obj) = fields.as_object() else {
        return Some(json!({"message": "expected an object", "errorCode": "JSON_PARSER_ERROR"}));
    };
    for (k, v) in obj {
        if k == "attributes" || k == "Id" {
            continue;
        }
        if t == "ContentNote" && k == "Content" {
            // Content is base64 of HTML or text; Salesforce strips newlines.
            let Some(b64) = v.as_str() else {
                return Some(
                    json!({"message": "Content must be base64", "errorCode": "INVALID_FIELD"}),
                );
            };
            let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64) else {
                return Some(
                    json!({"message": "Content: invalid base64", "errorCode": "INVALID_FIELD"}),
                );
            };
            let html = String::from_utf8_lossy(&bytes).replace(['\n', '\r'], "");
            rec["Content"] = json!(html);
            rec["TextPreview"] = json!(html.chars().take(255).collect::<String>());
            continue;
        }
        // Task.Description: long text area of 32,000 characters; Subject: 255 (object reference: Task).
        if t == "Task"
            && ((k == "Description" && v.as_str().is_some_and(|s| s.chars().count() > 32_000))
                || (k == "Subject" && v.as_str().is_some_and(|s| s.chars().count() > 255)))
        {
            return Some(
                json!({"message": "data value too large", "errorCode": "STRING_TOO_LONG", "fields": [k]}),
            );
        }
        if t == "WhatsApp_Chat__c"
            && k == "Transcript__c"
            && v.as_str().is_some_and(|s| s.len() > 131_072)
        {
            return Some(
                json!({"message": "data value too large", "errorCode": "STRING_TOO_LONG", "fields": ["Transcript__c"]}),
            );
        }
        rec[k] = v.clone();
    }
    None
}

fn create(state: &Shared, t: &str, b: &Value) -> (u16, Value) {
    if !type_exists(state, t) {
        return (
            404,
            json!([{"message": format!("The requested resource does not exist: {t}"), "errorCode": "NOT_FOUND"}]),
        );
    }
    if t == "Task" {
        if let Some(who) = b.get("WhoId").and_then(Value::as_str) {
            if state.db.get("salesforce", "Contact", who).is_none()
                && state.db.get("salesforce", "Lead", who).is_none()
            {
                return (
                    400,
                    json!([{"message": "Name ID: id value of incorrect type", "errorCode": "FIELD_INTEGRITY_EXCEPTION", "fields": ["WhoId"]}]),
                );
            }
        }
    }
    if b.get("Id").is_some() {
        return (
            400,
            json!([{"message": "The Id field should not be specified in the sobject data.", "errorCode": "INVALID_FIELD"}]),
        );
    }
    let missing: Vec<&str> = match t {
        "Contact" => vec!["LastName"],
        "Lead" => vec!["LastName", "Company"],
        "ContentNote" => vec!["Title"],
        "ContentDocumentLink" => vec!["ContentDocumentId", "LinkedEntityId"],
        _ => vec![],
    }
    .into_iter()
    .filter(|f| b.get(*f).and_then(Value::as_str).is_none_or(|s| s.is_empty()))
    .collect();
    if !missing.is_empty() {
        return (
            400,
            json!([{"message": format!("Required fields are missing: [{}]", missing.join(", ")), "errorCode": "REQUIRED_FIELD_MISSING", "fields": missing}]),
        );
    }
    if t == "ContentDocumentLink" {
        let doc = b["ContentDocumentId"].as_str().unwrap_or("");
        if state.db.get("salesforce", "ContentNote", doc).is_none()
            && state.db.get("salesforce", "ContentVersion", doc).is_none()
        {
            return (
                400,
                json!([{"message": "invalid cross reference id", "errorCode": "INVALID_CROSS_REFERENCE_KEY", "fields": ["ContentDocumentId"]}]),
            );
        }
    }
    if t == "Contact" || t == "Lead" {
        // The standard duplicate rule: same email on the same object.
        if let Some(email) = b.get("Email").and_then(Value::as_str) {
            if let Some(d) = state
                .db
                .list("salesforce", t)
                .into_iter()
                .find(|x| x["Email"].as_str().is_some_and(|e| e.eq_ignore_ascii_case(email)))
            {
                return (
                    400,
                    json!([{"message": "Use one of these records?", "errorCode": "DUPLICATES_DETECTED", "fields": [],
                    "duplicateResult": {"allowSave": false, "duplicateRule": format!("Standard_{t}_Duplicate_Rule"), "duplicateRuleEntityType": t, "errorMessage": "You're creating a duplicate record.",
                        "matchResults": [{"entityType": t, "matchRecords": [{"record": {"Id": d["Id"]}}], "size": 1, "success": true}]}}]),
                );
            }
        }
    }
    let id = new_id(state, t);
    let mut rec = json!({"Id": id, "attributes": {"type": t, "url": format!("/services/data/v60.0/sobjects/{t}/{id}")}});
    if let Some(e) = apply(t, &mut rec, b) {
        return (400, json!([e]));
    }
    if t == "Contact" || t == "Lead" {
        let name = format!(
            "{} {}",
            rec["FirstName"].as_str().unwrap_or(""),
            rec["LastName"].as_str().unwrap_or("")
        );
        rec["Name"] = json!(name.trim());
    }
    state.db.put("salesforce", t, &id, &rec);
    (201, json!({"id": id, "success": true, "errors": []}))
}

/// sObject Collections update (`PATCH /composite/sobjects`, ≤200 records each with its `id`;
/// REST resources_composite_sobjects_collections_update). `allOrNone` false: per-record results.
fn collections_update(
    state: &Shared,
    body: &dyn Fn() -> Result<Value, String>,
    fail_at: Option<usize>,
) -> Response {
    let b = match body() {
        Ok(b) => b,
        Err(e) => return errs(400, "JSON_PARSER_ERROR", &e),
    };
    let Some(records) = b.get("records").and_then(Value::as_array) else {
        return errs(400, "INVALID_FIELD", "records is required");
    };
    if records.is_empty() || records.len() > 200 {
        return errs(
            400,
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        );
    }
    let mut results = Vec::new();
    for (i, rec) in records.iter().enumerate() {
        let t = rec["attributes"]["type"].as_str().unwrap_or("");
        let id = rec["id"].as_str().or_else(|| rec["Id"].as_str()).unwrap_or("");
        let found = type_exists(state, t).then(|| state.db.get("salesforce", t, id)).flatten();
        match found {
            _ if Some(i) == fail_at => results.push(json!({"success": false, "errors": [{"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "Rejected by a validation rule", "fields": []}]})),
            None => results.push(json!({"success": false, "errors": [{"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []}]})),
            Some(mut cur) => {
                let mut fields = rec.clone();
                if let Some(o) = fields.as_object_mut() {
                    o.remove("id");
                }
                match apply(t, &mut cur, &fields) {
                    Some(e) => results.push(json!({"success": false, "errors": [{"statusCode": e["errorCode"], "message": e["message"], "fields": e["fields"]}]})),
                    None => {
                        state.db.put("salesforce", t, id, &cur);
                        results.push(json!({"id": id, "success": true, "errors": []}));
                    }
                }
            }
        }
    }
    json_resp(200, json!(results))
}

/// sObject Collections create (`POST /composite/sobjects`) and upsert (`PATCH
/// /composite/sobjects/{type}/{field}`): ≤200 records, each with `attributes.type`, created in
/// order and answered in order; `allOrNone` false: each record stands alone, true: one failure
/// rolls back the rest (REST resources_composite_sobjects_collections_create,
/// https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-collections-create.html).
/// The backup writes its ContentNotes this way, then their ContentDocumentLinks in a second
/// collection (a link names its note's ContentDocumentId, which only the first answer gives).
fn collections(
    state: &Shared,
    body: &dyn Fn() -> Result<Value, String>,
    fail_at: Option<usize>,
    upsert: Option<(String, String)>,
) -> Response {
    // An upsert URL naming an sObject the org does not have (a custom object deleted, or never
    // deployed): 404, "The requested resource couldn't be found. Check the URI for errors"
    // (REST API Developer Guide, Status Codes and Error Responses,
    // https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm).
    if let Some((t, _)) = &upsert {
        if !type_exists(state, t) {
            return not_found();
        }
    }
    let b = match body() {
        Ok(b) => b,
        Err(e) => return errs(400, "JSON_PARSER_ERROR", &e),
    };
    let Some(records) = b.get("records").and_then(Value::as_array) else {
        return errs(400, "INVALID_FIELD", "records is required");
    };
    if records.is_empty() || records.len() > 200 {
        return errs(
            400,
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        );
    }
    let all_or_none = b.get("allOrNone").and_then(Value::as_bool).unwrap_or(false);
    let mut results = Vec::new();
    let mut writes: Vec<(String, String, Value)> = Vec::new();
    let mut created: Vec<(String, String)> = Vec::new();
    for (i, rec) in records.iter().enumerate() {
        let t = rec["attributes"]["type"].as_str().unwrap_or("").to_string();
        if Some(i) == fail_at {
            results.push(json!({"success": false, "errors": [{"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "Rejected by a validation rule", "fields": []}]}));
            continue;
        }
        match &upsert {
            Some((ut, ext)) => {
                if t != *ut {
                    results.push(json!({"success": false, "errors": [{"statusCode": "INVALID_TYPE", "message": "records must all be of the URL's type", "fields": []}]}));
                    continue;
                }
                let Some(key) = rec.get(ext).and_then(Value::as_str).filter(|k| !k.is_empty())
                else {
                    results.push(json!({"success": false, "errors": [{"statusCode": "MISSING_ARGUMENT", "message": format!("{ext} not specified"), "fields": [ext]}]}));
                    continue;
                };
                let existing =
                    state.db.list("salesforce", &t).into_iter().find(|x| x[ext.as_str()] == key);
                match existing {
                    Some(mut cur) => {
                        let id = cur["Id"].as_str().unwrap_or("").to_string();
                        if let Some(e) = apply(&t, &mut cur, rec) {
                            results.push(json!({"success": false, "errors": [e]}));
                            continue;
                        }
                        writes.push((t.clone(), id.clone(), cur));
                        results.push(
                            json!({"id": id, "success": true, "errors": [], "created": false}),
                        );
                    }
                    None => {
                        let id = new_id(state, &t);
                        let mut cur = json!({"Id": id, "attributes": {"type": t, "url": format!("/services/data/v60.0/sobjects/{t}/{id}")}});
                        if let Some(e) = apply(&t, &mut cur, rec) {
                            results.push(json!({"success": false, "errors": [e]}));
                            continue;
                        }
                        writes.push((t.clone(), id.clone(), cur));
                        results.push(
                            json!({"id": id, "success": true, "errors": [], "created": true}),
                        );
                    }
                }
            }
            None => {
                let (status, v) = create(state, &t, rec);
                if status == 201 {
                    created.push((t.clone(), v["id"].as_str().unwrap_or("").to_string()));
                    results.push(v);
                } else {
                    let e = v.get(0).cloned().unwrap_or(json!({}));
                    results.push(json!({"success": false, "errors": [{"statusCode": e["errorCode"], "message": e["message"], "fields": e.get("fields").cloned().unwrap_or(json!([]))}]}));
                }
            }
        }
    }
    let failed = results.iter().any(|r| r["success"] == false);
    if all_or_none && failed {
        // Roll back what this call wrote: creates already stored are removed.
        for (t, id) in &created {
            state.db.delete("salesforce", t, id);
        }
        for r in results.iter_mut().filter(|r| r["success"] == true) {
            *r = json!({"success": false, "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back because not all records were valid and the request was using AllOrNone header", "fields": []}]});
        }
        return json_resp(200, json!(results));
    }
    for (t, id, rec) in writes {
        state.db.put("salesforce", &t, &id, &rec);
    }
    json_resp(200, json!(results))
}

fn composite(state: &Shared, body: &dyn Fn() -> Result<Value, String>) -> Response {
    let b = match body() {
        Ok(b) => b,
        Err(e) => return errs(400, "JSON_PARSER_ERROR", &e),
    };
    let Some(reqs) = b.get("compositeRequest").and_then(Value::as_array) else {
        return errs(400, "INVALID_FIELD", "compositeRequest is required");
    };
    if reqs.len() > 25 {
        return errs(400, "LIMIT_EXCEEDED", "Composite request limit of 25 subrequests exceeded");
    }
    let mut refs: std::collections::HashMap<String, Value> = Default::default();
    let mut out = Vec::new();
    for sub in reqs {
        let reference = sub["referenceId"].as_str().unwrap_or("").to_string();
        // Resolve @{ref.field} in the URL and the body.
        let resolve = |s: &str| -> String {
            let mut s = s.to_string();
            for (k, v) in &refs {
                for field in ["id", "Id"] {
                    if let Some(val) = v.get(field).and_then(Value::as_str) {
                        s = s.replace(&format!("@{{{k}.{field}}}"), val);
                    }
                }
            }
            s
        };
        let url = resolve(sub["url"].as_str().unwrap_or(""));
        let body_s = resolve(&sub.get("body").map(Value::to_string).unwrap_or_default());
        let method = Method::from_bytes(sub["method"].as_str().unwrap_or("GET").as_bytes())
            .unwrap_or(Method::GET);
        let (path, q) = url.split_once('?').unwrap_or((&url, ""));
        let rest = path
            .strip_prefix("/services/data/")
            .and_then(|p| p.split_once('/'))
            .map(|(_, r)| r.to_string())
            .unwrap_or_default();
        let query = crate::parse_query(q);
        let resp = dispatch(
            state,
            &method,
            &rest,
            &|| serde_json::from_str(&body_s).map_err(|e| e.to_string()),
            None,
            &query,
        );
        let status = resp.status().as_u16();
        let v = response_json(resp);
        if status < 300 {
            refs.insert(reference.clone(), v.clone());
        }
        out.push(json!({"body": v, "httpHeaders": {}, "httpStatusCode": status, "referenceId": reference}));
    }
    json_resp(200, json!({"compositeResponse": out}))
}

fn response_json(resp: Response) -> Value {
    // Bodies built by this module are always in-memory JSON; read them back synchronously.
    let body = resp.into_body();
    let bytes = futures_util::FutureExt::now_or_never(axum::body::to_bytes(body, usize::MAX))
        .and_then(Result::ok)
        .unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

/// The selected fields; a relationship field (`Opportunity.Name`) comes back nested under
/// its parent, as the REST API returns it.
fn project(rec: &Value, fields: &[String]) -> Value {
    let mut o = json!({"attributes": rec["attributes"]});
    for f in fields {
        let v =
            f.split('.').try_fold(rec, |acc, part| acc.get(part)).cloned().unwrap_or(Value::Null);
        match f.split_once('.') {
            Some((parent, child)) if !child.contains('.') => {
                if !o[parent].is_object() {
                    o[parent] = json!({"attributes": rec[parent]["attributes"]});
                }
                o[parent][child] = v;
            }
            _ => o[f.as_str()] = v,
        }
    }
    o
}

/// `FIND {term} IN PHONE FIELDS RETURNING Contact(Id, Name, ...), Lead(...)`
fn sosl(state: &Shared, q: &str) -> Response {
    let (Some(a), Some(b)) = (q.find('{'), q.find('}')) else {
        return errs(
            400,
            "MALFORMED_SEARCH",
            "No search term found. The search term must be enclosed in braces.",
        );
    };
    if b < a {
        return errs(
            400,
            "MALFORMED_SEARCH",
            "No search term found. The search term must be enclosed in braces.",
        );
    }
    let term = q[a + 1..b].replace('\\', "");
    let rest = &q[b + 1..];
    let group = rest.to_ascii_uppercase();
    let phone_only = group.contains("IN PHONE FIELDS");
    let name_only = group.contains("IN NAME FIELDS");
    let email_only = group.contains("IN EMAIL FIELDS");
    let Some(ret) = rest.to_ascii_uppercase().find("RETURNING").map(|i| &rest[i + 9..]) else {
        return errs(400, "MALFORMED_SEARCH", "RETURNING clause is required by the sandbox");
    };
    // `"a" OR "b"`: phrases joined by OR (SOSL reference, FIND {SearchQuery}); a phone
    // search hits when any phrase's digits are in a phone field.
    let phrases: Vec<String> = if term.contains('"') {
        term.split(" OR ")
            .map(|p| p.trim().trim_matches('"').to_string())
            .filter(|p| !p.is_empty())
            .collect()
    } else {
        vec![term.clone()]
    };
    let wants: Vec<String> = phrases.iter().map(|p| digits(p)).collect();
    let want = wants.iter().max_by_key(|w| w.len()).cloned().unwrap_or_default();
    let term = phrases.first().cloned().unwrap_or_default();
    if (phone_only && want.len() < 2) || term.trim().chars().count() < 2 {
        return errs(400, "MALFORMED_SEARCH", "search term must be longer than one character");
    }
    let lower = term.to_lowercase();
    let in_fields = |rec: &Value, fields: &[&str]| {
        fields.iter().any(|f| rec[*f].as_str().is_some_and(|v| v.to_lowercase().contains(&lower)))
    };
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    let mut specs = Vec::new();
    for (i, c) in ret.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                specs.push(&ret[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    specs.push(&ret[start..]);
    for spec in specs {
        let spec = spec.trim();
        let (obj, fields) = match spec.split_once('(') {
            Some((o, f)) => {
                // `Obj(f1, f2 WHERE …)`: the sandbox returns the fields and ignores the filter.
                let f = f.trim_end_matches(')');
                let f = f.find(" WHERE ").map(|i| &f[..i]).unwrap_or(f);
                (
                    o.trim(),
                    f.split(',')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect::<Vec<_>>(),
                )
            }
            None => (spec, vec!["Id".to_string()]),
        };
        if obj.is_empty() {
            continue;
        }
        for rec in state.db.list("salesforce", obj) {
            let phone_hit = wants.iter().any(|want| {
                want.len() >= 2
                    && PHONE_FIELDS
                        .iter()
                        .any(|f| rec[f].as_str().is_some_and(|v| digits(v).contains(want)))
            });
            let hit = if phone_only {
                phone_hit
            } else if name_only {
                in_fields(&rec, &["Name", "FirstName", "LastName", "Company"])
            } else if email_only {
                in_fields(&rec, &["Email"])
            } else {
                phone_hit || rec.to_string().to_lowercase().contains(&lower)
            };
            if hit {
                out.push(project(&rec, &fields));
            }
        }
    }
    json_resp(200, json!({"searchRecords": out}))
}

/// `SELECT f1, f2 FROM Obj [WHERE F = 'v' [AND|OR G = 'w' ...]] [ORDER BY F [ASC|DESC]] [LIMIT n]`
fn soql(state: &Shared, q: &str) -> Response {
    let up = q.to_ascii_uppercase();
    let (Some(sel), Some(from)) = (up.find("SELECT "), up.find(" FROM ")) else {
        return errs(400, "MALFORMED_QUERY", "unexpected token: query must be SELECT ... FROM ...");
    };
    let fields: Vec<String> = q[sel + 7..from].split(',').map(|f| f.trim().to_string()).collect();
    let after = &q[from + 6..];
    let obj_end = after.find(' ').unwrap_or(after.len());
    let obj = after[..obj_end].trim();
    let tail = &after[obj_end..];
    let tail_up = tail.to_ascii_uppercase();
    let limit = tail_up
        .find("LIMIT ")
        .and_then(|i| tail[i + 6..].trim().parse::<usize>().ok())
        .unwrap_or(2000);
    let order_at = tail_up.find(" ORDER BY ");
    let where_part = tail_up.find("WHERE ").map(|i| {
        let end = order_at.or_else(|| tail_up.find(" LIMIT ")).unwrap_or(tail.len());
        &tail[i + 6..end]
    });
    let order: Option<(String, bool)> = order_at.map(|i| {
        let end = tail_up.find(" LIMIT ").unwrap_or(tail.len());
        let spec: Vec<&str> = tail[i + 10..end].split_whitespace().collect();
        (
            spec.first().unwrap_or(&"Id").to_string(),
            spec.get(1).is_some_and(|d| d.eq_ignore_ascii_case("DESC")),
        )
    });
    let mut conds: Vec<(String, String)> = Vec::new();
    let mut any_of = false;
    if let Some(w) = where_part {
        any_of = w.to_ascii_uppercase().contains(" OR ");
        for c in w
            .split(" OR ")
            .flat_map(|x| x.split(" or "))
            .flat_map(|x| x.split(" AND "))
            .flat_map(|x| x.split(" and "))
        {
            let Some((f, v)) = c.split_once('=') else {
                return errs(
                    400,
                    "MALFORMED_QUERY",
                    "only field = 'value' conditions are supported",
                );
            };
            conds.push((f.trim().to_string(), v.trim().trim_matches('\'').replace("\\'", "'")));
        }
    }
    // Organization: one row, this org (object reference: Organization,
    // https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_organization.htm).
    // A single-currency org, so `DefaultCurrencyIsoCode` is its currency and `CurrencyType`
    // is absent (object reference: CurrencyType, "not available in single-currency
    // organizations"); USD, as a new Developer Edition org is set up in the US.
    if obj.eq_ignore_ascii_case("Organization") {
        let org = json!({"attributes": {"type": "Organization", "url": "/services/data/v62.0/sobjects/Organization/00DRO0000000001AAA"},
            "Id": "00DRO0000000001AAA", "Name": "crmsync dev", "DefaultCurrencyIsoCode": "USD"});
        return page_records(state, vec![project(&org, &fields)], 0);
    }
    if !type_exists(state, obj) {
        return errs(400, "INVALID_TYPE", &format!("sObject type '{obj}' is not supported."));
    }
    // ContentDocumentLink is queried by its Id, ContentDocumentId or LinkedEntityId unless the
    // user has Query All Files (object reference: ContentDocumentLink, special access rules).
    // The error's wording is as integrators report it, not from the page.
    if obj.eq_ignore_ascii_case("ContentDocumentLink")
        && !conds.iter().any(|(f, _)| {
            ["Id", "ContentDocumentId", "LinkedEntityId"].iter().any(|k| f.eq_ignore_ascii_case(k))
        })
    {
        return errs(
            400,
            "MALFORMED_QUERY",
            "Implementation restriction: ContentDocumentLink requires a filter by a single Id on ContentDocumentId or LinkedEntityId using the equals operator or multiple Id's using the IN operator.",
        );
    }
    let mut rows = state.db.list("salesforce", obj);
    if obj == "OpportunityContactRole" {
        // Parent relationship fields (`Opportunity.Name`) read through the role's OpportunityId.
        for r in &mut rows {
            if let Some(o) = r["OpportunityId"]
                .as_str()
                .and_then(|id| state.db.get("salesforce", "Opportunity", id))
            {
                r["Opportunity"] = o;
            }
        }
    }
    let mut matching: Vec<Value> = rows
        .into_iter()
        .filter(|r| {
            let test = |(f, v): &(String, String)| r[f.as_str()].as_str() == Some(v.as_str());
            conds.is_empty() || if any_of { conds.iter().any(test) } else { conds.iter().all(test) }
        })
        .collect();
    if let Some((field, desc)) = &order {
        let at = |r: &Value| {
            field
                .split('.')
                .try_fold(r, |acc, part| acc.get(part))
                .cloned()
                .unwrap_or(Value::Null)
                .to_string()
        };
        matching.sort_by_key(at);
        if *desc {
            matching.reverse();
        }
    }
    let recs: Vec<Value> = matching.into_iter().take(limit).map(|r| project(&r, &fields)).collect();
    page_records(state, recs, 0)
}

/// Batches of `query_batch_size` (Salesforce's default 2000; configurable so tests see
/// `nextRecordsUrl`), the rest kept behind a locator.
fn page_records(state: &Shared, recs: Vec<Value>, offset: usize) -> Response {
    let batch = state.config().salesforce_query_batch.max(1);
    let total = recs.len();
    let page: Vec<Value> = recs.iter().skip(offset).take(batch).cloned().collect();
    let mut body = json!({"totalSize": total, "done": offset + batch >= total, "records": page});
    if offset + batch < total {
        let loc = format!("01gRO{:010}", state.db.next("sf-locator"));
        state.db.kv_set(
            &format!("locator:{loc}"),
            &json!({"records": recs, "offset": offset + batch}).to_string(),
        );
        body["nextRecordsUrl"] =
            json!(format!("/services/data/v62.0/query/{loc}-{}", offset + batch));
    }
    json_resp(200, body)
}

fn query_more(state: &Shared, locator: &str) -> Response {
    let loc = locator.split('-').next().unwrap_or("");
    let Some(saved) = state
        .db
        .kv_get(&format!("locator:{loc}"))
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
    else {
        return errs(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
    };
    let recs = saved["records"].as_array().cloned().unwrap_or_default();
    let offset = saved["offset"].as_u64().unwrap_or(0) as usize;
    page_records(state, recs, offset)
}
