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

/// What the rep answered on a CRM's consent page.
pub enum Consent {
    /// No answer yet: this response is the consent page.
    Page(Response),
    Accepted,
    Denied,
}

/// The consent page each CRM's authorize endpoint shows before it sends the grant code back:
/// the app's name and the access it asks for, and two buttons. Zoho: "In the resultant page,
/// click Accept. The browser redirects you to the redirect_uri ... When you click Reject ..."
/// (https://www.zoho.com/fsm/developer/help/api/auth-request.html, the same Accounts server
/// as https://www.zoho.com/accounts/protocol/oauth/web-apps/authorization.html: "We will
/// display the required permissions to the user. If the user grants permission, an
/// authorization code will be sent"). Salesforce: the user logs in and "grants authorization
/// to the client application" on an "Allow Access?" page with Allow and Deny
/// (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm;
/// `immediate=true` skips "the approval step" only for an app approved before, which a first
/// sign-in never is). The buttons submit the request again with a single-use `consent` token
/// (as the real pages carry their own form token), so only a click on the page answers it.
pub fn consent(
    state: &Shared,
    r: &Req,
    crm: &str,
    (title, accept, deny): (&str, &str, &str),
) -> Result<Consent, Response> {
    if let Some(tok) = r.q("consent") {
        if !state.db.token_ok(crm, "consent", tok) {
            return Err(json_resp(
                400,
                json!({"error": "invalid_request", "error_description": "consent form expired or used"}),
            ));
        }
        state.db.revoke_refresh_one(tok);
        return Ok(match r.q("decision") {
            Some("accept") => Consent::Accepted,
            _ => Consent::Denied,
        });
    }
    let tok = crate::token("consent.", &state.db);
    state.db.issue_token(crm, "consent", &tok, Some(600_000));
    let mut hidden: Vec<(&String, &String)> =
        r.query.iter().filter(|(k, _)| *k != "decision").collect();
    hidden.sort();
    let inputs: String = hidden
        .into_iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                html_escape::encode_double_quoted_attribute(k),
                html_escape::encode_double_quoted_attribute(v)
            )
        })
        .collect();
    let scope = r.q("scope").unwrap_or("");
    let body = format!(
        "<form id=\"crm-consent\" method=\"get\" action=\"{action}\">\
         <p>{client} would like to access your account.</p><p id=\"consent-scope\">{scope}</p>\
         {inputs}<input type=\"hidden\" name=\"consent\" value=\"{tok}\">\
         <button type=\"submit\" id=\"consent-accept\" name=\"decision\" value=\"accept\" data-decision=\"accept\">{accept}</button> \
         <button type=\"submit\" id=\"consent-deny\" name=\"decision\" value=\"deny\" data-decision=\"deny\">{deny}</button></form>",
        action = html_escape::encode_double_quoted_attribute(&r.path),
        client = esc(r.q("client_id").unwrap_or("")),
        scope = esc(scope),
    );
    Ok(Consent::Page(page(title, body)))
}
