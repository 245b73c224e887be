//! Record pages at each CRM's deep-link URL, so a click-through from the panel opens
//! something real: the record, its notes/activities. Everything is HTML-escaped.
use crate::{json_resp, Req, Shared};
use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use html_escape::encode_text as esc;
use serde_json::{json, Value};

fn page(title: &str, body: String) -> Response {
    let html = format!("<!doctype html><meta charset=\"utf-8\"><title>{}</title><h1 id=\"record-title\">{}</h1>{body}", esc(title), esc(title));
    let mut r = Response::new(Body::from(html));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    r
}

fn fields(rec: &Value) -> String {
    let mut s = String::from("<dl id=\"fields\">");
    for (k, v) in rec.as_object().into_iter().flatten() {
        let v = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
        s.push_str(&format!("<dt>{}</dt><dd>{}</dd>", esc(k), esc(&v)));
    }
    s + "</dl>"
}

fn not_found() -> Response {
    json_resp(404, json!({"error": "no such record"}))
}

/// `https://crm.zoho.{tld}/crm/{org}/tab/{Contacts|Leads|Potentials}/{id}`
pub fn zoho(state: &Shared, r: &Req) -> Response {
    let parts: Vec<&str> = r.path.trim_matches('/').split('/').collect();
    let (tab, id) = match parts.as_slice() {
        ["crm", _, "tab", tab, id] | ["crm", "tab", tab, id] => (*tab, *id),
        _ => return not_found(),
    };
    let module = if tab == "Potentials" { "Deals" } else { tab };
    let Some(rec) = state.db.get("zoho", module, id) else { return not_found() };
    let notes: String = state
        .db
        .list("zoho", "Notes")
        .into_iter()
        .filter(|n| n["Parent_Id"]["id"] == id)
        .map(|n| {
            format!(
                "<article class=\"note\"><h3>{}</h3><pre>{}</pre></article>",
                esc(n["Note_Title"].as_str().unwrap_or("")),
                esc(n["Note_Content"].as_str().unwrap_or(""))
            )
        })
        .collect();
    let name = rec["Full_Name"].as_str().or(rec["Deal_Name"].as_str()).unwrap_or(id).to_string();
    page(&name, format!("{}<h2>Notes</h2>{notes}", fields(&rec)))
}

/// `https://{domain}.lightning.force.com/lightning/r/{Object}/{id}/view`
pub fn salesforce(state: &Shared, r: &Req) -> Response {
    let parts: Vec<&str> = r.path.trim_matches('/').split('/').collect();
    let ["lightning", "r", obj, id, "view"] = parts.as_slice() else { return not_found() };
    let Some(rec) = state.db.get("salesforce", obj, id) else { return not_found() };
    let chats: String = state
        .db
        .list("salesforce", "WhatsApp_Chat__c")
        .into_iter()
        .filter(|c| c["Contact__c"] == *id || c["Lead__c"] == *id)
        .map(|c| {
            format!(
                "<article class=\"chat\"><h3>{}</h3><pre>{}</pre></article>",
                esc(c["Name"].as_str().unwrap_or("")),
                esc(c["Transcript__c"].as_str().unwrap_or(""))
            )
        })
        .collect();
    page(
        rec["Name"].as_str().unwrap_or(id),
        format!("{}<h2>WhatsApp chats</h2>{chats}", fields(&rec)),
    )
}

/// `https://{app-host}/LeadManagement/LeadDetails?LeadID={id}`
pub fn leadsquared(state: &Shared, r: &Req) -> Response {
    if r.path != "/LeadManagement/LeadDetails" {
        return not_found();
    }
    let Some(id) = r.q("LeadID") else { return not_found() };
    let Some(lead) = state.db.get("leadsquared", "leads", id) else { return not_found() };
    let acts: String = state
        .db
        .list("leadsquared", "activities")
        .into_iter()
        .filter(|a| a["RelatedProspectId"] == id)
        .map(|a| {
            format!(
                "<article class=\"activity\"><pre>{}</pre></article>",
                esc(a["ActivityNote"].as_str().unwrap_or(""))
            )
        })
        .collect();
    let name = format!(
        "{} {}",
        lead["FirstName"].as_str().unwrap_or(""),
        lead["LastName"].as_str().unwrap_or("")
    );
    page(name.trim(), format!("{}<h2>Activity history</h2>{acts}", fields(&lead)))
}
