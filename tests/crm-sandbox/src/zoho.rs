//! Zoho CRM v8 as crmsync uses it (shapes from the zoho/crm-oas examples, see
//! shared/reference/crm-api.md §1): OAuth on accounts.zoho.*, search by phone, record
//! create, Notes bulk create/update, related Notes and Deals, org, record pages.
use crate::db::now_ms;
use crate::seed::{ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_ORG, ZOHO_PRODUCT_CLIENT_ID};
use crate::{digits, empty, json_resp, pages, token, Req, Shared};
use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Value};

const PHONE_FIELDS: [&str; 5] = ["Phone", "Mobile", "Home_Phone", "Other_Phone", "Asst_Phone"];
const MODULES: [&str; 3] = ["Contacts", "Leads", "Deals"];

fn err(status: u16, code: &str, message: &str, details: Value) -> Response {
    json_resp(
        status,
        json!({"code": code, "details": details, "message": message, "status": "error"}),
    )
}

fn tld(host: &str) -> &str {
    host.split_once("zoho")
        .map(|(_, t)| t.trim_start_matches("apis").trim_start_matches("cloud"))
        .unwrap_or(".com")
}

fn zoho_time() -> String {
    // Zoho reports times with the org's offset; the sandbox's org is UTC.
    let s = now_ms() / 1000;
    let days = s / 86_400;
    let (y, m, d) = civil(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
        (s % 86_400) / 3600,
        (s % 3600) / 60,
        s % 60
    )
}

pub fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

pub fn handle(state: &Shared, r: &Req) -> Response {
    if r.host.starts_with("accounts.") {
        return oauth(state, r);
    }
    if r.host.starts_with("crm.") {
        return pages::zoho(state, r);
    }
    // API: every call needs a live access token.
    let Some(tok) = r.bearer("Zoho-oauthtoken") else {
        return err(401, "INVALID_TOKEN", "invalid oauth token", json!({}));
    };
    if !state.db.token_ok("zoho", "access", tok) {
        return err(401, "INVALID_TOKEN", "invalid oauth token", json!({}));
    }
    // Credits: every API call costs one; an exhausted day answers 429.
    let used = state.db.next("zoho-credits");
    if used > state.config().zoho_daily_credits {
        let code = state.config().zoho_429_code;
        return err(429, &code, "API rate limit exceeded. Please retry after some time", json!({}));
    }
    let mut resp = match state.config().zoho_user.as_str() {
        // A profile without API access: every call is refused (v8 status codes, 403
        // NO_PERMISSION; the details name the missing permission).
        "no_api" => err(
            403,
            "NO_PERMISSION",
            "permission denied",
            json!({"permissions": ["Crm_Implied_Api_Access"]}),
        ),
        // A profile that may read but not create notes.
        "read_only" if r.method == Method::POST && r.path.ends_with("/Notes") => err(
            403,
            "NO_PERMISSION",
            "permission denied",
            json!({"permissions": ["Crm_Implied_Create_Notes"]}),
        ),
        _ => api(state, r),
    };
    // Zoho reports the remaining credits only once half of the day's are spent.
    let daily = state.config().zoho_daily_credits;
    if used.saturating_mul(2) >= daily {
        if let Ok(v) = axum::http::HeaderValue::from_str(&daily.saturating_sub(used).to_string()) {
            resp.headers_mut().insert("x-api-credits-remaining", v);
        }
    }
    resp
}

fn api(state: &Shared, r: &Req) -> Response {
    let parts: Vec<&str> = r.path.trim_matches('/').split('/').collect();
    match (&r.method, parts.as_slice()) {
        (&Method::POST, ["crm", _v, m, id, "Attachments"]) if MODULES.contains(m) => {
            attachment_upload(state, r, m, id)
        }
        // A related list: pages of `per_page` ≤ 200 with `info.more_records` (crm-oas v8
        // attachments getAttachments declares `page` and `per_page`).
        (&Method::GET, ["crm", _v, m, id, "Attachments"]) if MODULES.contains(m) => {
            let (page, per_page) = match related_page(r) {
                Ok(p) => p,
                Err(resp) => return resp,
            };
            let list: Vec<Value> = state
                .db
                .list("zoho", "Attachments")
                .into_iter()
                .filter(|a| a["Parent_Id"]["id"] == *id)
                .collect();
            paged(list, page, per_page)
        }
        // The org's home currency: `currency`, `currency_symbol`, `currency_locale` and
        // `iso_code` (crm-oas v8 org.json, GET /crm/v8/org, required properties of `org[]`).
        (&Method::GET, ["crm", _v, "org"]) => json_resp(
            200,
            json!({"org": [{"id": "20079892132", "domain_name": ZOHO_ORG, "company_name": "crmsync Demo Org", "time_zone": "UTC",
                "currency": "Brazilian Real", "currency_symbol": "R$", "currency_locale": "pt_BR", "iso_code": "BRL"}]}),
        ),
        (&Method::GET, ["crm", _v, m, "search"]) if MODULES.contains(m) => search(state, r, m),
        (&Method::GET, ["crm", _v, "settings", "modules"]) => settings_modules(state),
        (&Method::GET, ["crm", _v, "settings", "related_lists"]) => related_lists(state, r),
        (&Method::GET, ["crm", _v, "settings", "fields"]) => fields_meta(state, r),
        (&Method::POST, ["crm", _v, "Notes"]) => notes_create(state, r),
        (&Method::PUT, ["crm", _v, "Notes"]) => notes_update(state, r),
        (&Method::POST, ["crm", _v, m]) if *m == "Contacts" || *m == "Leads" => {
            records_create(state, r, m)
        }
        (&Method::PUT, ["crm", _v, m]) if *m == "Contacts" || *m == "Leads" => {
            records_update(state, r, m)
        }
        (&Method::GET, ["crm", _v, m, id, "Notes"]) if MODULES.contains(m) => {
            related_notes(state, r, m, id)
        }
        (&Method::GET, ["crm", _v, "Contacts", id, "Deals"]) => related_deals(state, r, id),
        (&Method::GET, ["crm", _v, m, id]) if MODULES.contains(m) => {
            match state.db.get("zoho", m, id) {
                Some(rec) => json_resp(200, json!({"data": [rec]})),
                None => err(
                    404,
                    "INVALID_DATA",
                    "the related id given seems to be invalid",
                    json!({"id": id}),
                ),
            }
        }
        (_, ["crm", _v, m, ..]) if !MODULES.contains(m) && *m != "Notes" && *m != "org" => err(
            400,
            "INVALID_MODULE",
            "the module name given seems to be invalid",
            json!({"resource_path_index": 0}),
        ),
        _ => err(
            404,
            "INVALID_URL_PATTERN",
            "Please check if the URL trying to access is a correct one",
            json!({}),
        ),
    }
}

/// The server-based client's secret at data centre `dc`. Multi-DC ("Multi DC support",
/// https://www.zoho.com/accounts/protocol/oauth/multi-dc.html): the client id is common to
/// every data centre, the client secret is either unique per data centre or, when the
/// console's option is chosen, the same for all. The sandbox's per-DC secret outside the US is
/// `<secret>-<dc>` (README, "Demo credentials"); `zoho_same_secret_all_dcs` turns the option on.
pub fn zoho_client_secret(dc: &str, same_for_all: bool) -> String {
    if same_for_all || dc == "us" {
        ZOHO_CLIENT_SECRET.to_string()
    } else {
        format!("{ZOHO_CLIENT_SECRET}-{dc}")
    }
}

/// Zoho Accounts. Two clients: the demo's Self Client (server-style: secret required) and the
/// product's mobile-based client (PKCE required, no secret; "Mobile-based Applications",
/// https://www.zoho.com/accounts/protocol/oauth/mobile-applications.html), which works only in
/// the data centres where Multi-DC enabled it (`zoho_multi_dc`).
fn oauth(state: &Shared, r: &Req) -> Response {
    let dc = |host: &str| match tld(host) {
        ".com" => "us".to_string(),
        ".com.au" => "au".to_string(),
        ".com.cn" => "cn".to_string(),
        t => t.trim_start_matches('.').to_string(),
    };
    match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/oauth/v2/auth") => {
            // After the rep accepts on the consent page: back with a single-use grant code.
            let Some(redirect) = r.q("redirect_uri") else {
                return json_resp(200, json!({"error": "invalid_redirect_uri"}));
            };
            let product = r.q("client_id") == Some(ZOHO_PRODUCT_CLIENT_ID);
            if r.q("client_id") != Some(ZOHO_CLIENT_ID) && !product {
                return json_resp(200, json!({"error": "invalid_client"}));
            }
            // Mobile-based clients must send PKCE (S256 or plain).
            let challenge = r.q("code_challenge");
            if product && (challenge.is_none() || r.q("code_challenge_method") != Some("S256")) {
                return json_resp(200, json!({"error": "invalid_request"}));
            }
            let sep = if redirect.contains('?') { '&' } else { '?' };
            match pages::consent(state, r, "zoho", ("Zoho Accounts", "Accept", "Reject")) {
                Err(resp) | Ok(pages::Consent::Page(resp)) => return resp,
                Ok(pages::Consent::Denied) => {
                    return redirect_to(&format!(
                        "{redirect}{sep}error=access_denied&state={}",
                        urlenc(r.q("state").unwrap_or(""))
                    ))
                }
                Ok(pages::Consent::Accepted) => {}
            }
            let code = token("1000.code.", &state.db);
            state.db.issue_token("zoho", "code", &code, Some(120_000));
            if let Some(ch) = challenge {
                state.db.kv_set(&format!("zoho-pkce:{code}"), ch);
            }
            // The rep's account lives in one data centre; Zoho sends the sign-in back naming it.
            let user_dc = state.config().zoho_user_dc.unwrap_or_else(|| dc(&r.host));
            let accounts = if user_dc == "us" {
                "https://accounts.zoho.com".to_string()
            } else if user_dc == "ca" {
                "https://accounts.zohocloud.ca".to_string()
            } else if user_dc == "au" {
                "https://accounts.zoho.com.au".to_string()
            } else if user_dc == "cn" {
                "https://accounts.zoho.com.cn".to_string()
            } else {
                format!("https://accounts.zoho.{user_dc}")
            };
            redirect_to(&format!(
                "{redirect}{sep}code={code}&location={user_dc}&accounts-server={}&state={}",
                urlenc(&accounts),
                urlenc(r.q("state").unwrap_or(""))
            ))
        }
        ("POST", "/oauth/v2/token") => {
            let f = r.form();
            let product = f.get("client_id").map(String::as_str) == Some(ZOHO_PRODUCT_CLIENT_ID);
            let server_client = f.get("client_id").map(String::as_str) == Some(ZOHO_CLIENT_ID);
            if !(product || server_client) {
                return json_resp(200, json!({"error": "invalid_client"}));
            }
            if server_client
                && f.get("client_secret").map(String::as_str)
                    != Some(
                        zoho_client_secret(&dc(&r.host), state.config().zoho_same_secret_all_dcs)
                            .as_str(),
                    )
            {
                // The client is known here but this is not its secret for this data centre
                // (e.g. the US secret sent to accounts.zoho.eu).
                return json_resp(200, json!({"error": "invalid_client_secret"}));
            }
            if product && !state.config().zoho_multi_dc.contains(&dc(&r.host)) {
                // Multi-DC is off for this data centre: the client is unknown here.
                return json_resp(200, json!({"error": "invalid_client"}));
            }
            let ok = match f.get("grant_type").map(String::as_str) {
                Some("refresh_token") => {
                    f.get("refresh_token").is_some_and(|t| state.db.token_ok("zoho", "refresh", t))
                }
                Some("authorization_code") => f.get("code").is_some_and(|c| {
                    let pkce = match state.db.kv_get(&format!("zoho-pkce:{c}")) {
                        Some(ch) => {
                            f.get("code_verifier").is_some_and(|v| crate::pkce_s256(v) == ch)
                        }
                        None => !product,
                    };
                    let ok = state.db.token_ok("zoho", "code", c) && pkce;
                    state.db.revoke_refresh_one(c);
                    ok
                }),
                _ => return json_resp(200, json!({"error": "unsupported_grant_type"})),
            };
            if !ok {
                // Zoho answers token errors with HTTP 200.
                return json_resp(200, json!({"error": "invalid_code"}));
            }
            let at = token("1000.", &state.db);
            let ttl = state.config().zoho_token_ttl_ms;
            state.db.issue_token("zoho", "access", &at, Some(ttl));
            let api_domain = state
                .config()
                .zoho_api_domain
                .unwrap_or_else(|| format!("https://www.zohoapis{}", tld(&r.host)));
            let mut body = json!({"access_token": at, "api_domain": api_domain, "token_type": "Bearer", "expires_in": ttl / 1000});
            if f.get("grant_type").map(String::as_str) == Some("authorization_code") {
                let rt = token("1000.refresh.", &state.db);
                state.db.issue_token("zoho", "refresh", &rt, None);
                body["refresh_token"] = json!(rt);
            }
            json_resp(200, body)
        }
        ("POST", "/oauth/v2/token/revoke") => {
            if let Some(t) = r.q("token") {
                state.db.revoke_refresh_one(t);
            }
            json_resp(200, json!({"status": "success"}))
        }
        _ => json_resp(404, json!({"error": "invalid_request"})),
    }
}

/// `GET /settings/modules`: each module with this user's rights (crm-oas v8 modules.json,
/// `modules` schema: `api_name`, `api_supported`, `viewable`, `creatable`, `editable`, ...).
fn settings_modules(state: &Shared) -> Response {
    let read_only = state.config().zoho_user == "read_only";
    let module = |api: &str, plural: &str, creatable: bool| {
        json!({"api_name": api, "module_name": api, "plural_label": plural, "singular_label": plural.trim_end_matches('s'),
               "api_supported": true, "viewable": true, "creatable": creatable, "editable": creatable, "deletable": creatable,
               "generated_type": "default", "visible": true, "status": "visible"})
    };
    json_resp(
        200,
        json!({"modules": [
            module("Leads", "Leads", true),
            module("Contacts", "Contacts", true),
            module("Deals", "Deals", true),
            module("Notes", "Notes", !read_only),
            module("Attachments", "Attachments", !read_only),
        ]}),
    )
}

/// `GET /settings/related_lists?module=Contacts` (Related Lists Metadata,
/// https://www.zoho.com/crm/developer/docs/api/v8/related-list-meta.html): the lists of the
/// standard layout; a list hidden from the layout is not among them.
fn related_lists(state: &Shared, r: &Req) -> Response {
    if r.q("module").is_none() {
        return err(
            400,
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            json!({"param": "module"}),
        );
    }
    let list = |seq: &str, api: &str, module: Option<&str>| {
        json!({"sequence_number": seq, "display_label": api, "api_name": api, "name": api, "id": format!("2000000{seq}"),
               "href": format!("{}/{{ENTITYID}}/{api}", r.q("module").unwrap_or("")), "type": "default",
               "module": module.map(|m| json!({"api_name": m, "id": format!("3000000{seq}")})), "action": null, "visible": true})
    };
    let mut lists =
        vec![list("1", "Notes", Some("Notes")), list("2", "Attachments", Some("Attachments"))];
    if r.q("module") == Some("Contacts") && state.config().zoho_deals_list != "hidden" {
        lists.push(list("3", "Deals", Some("Deals")));
    }
    json_resp(200, json!({"related_lists": lists}))
}

/// `GET /settings/fields?module=…` (Fields Metadata,
/// https://www.zoho.com/crm/developer/docs/api/v8/field-meta.html; crm-oas v8 fields.json,
/// "Get Fields": `module` required, `fields[]` with `api_name`, `data_type` and each
/// picklist's `pick_list_values` of `display_value`, `actual_value`, `id`, `sequence_number`,
/// `type`, `colour_code`). Leads and Contacts carry the org's `Lead_Source` picklist.
fn fields_meta(state: &Shared, r: &Req) -> Response {
    let Some(module) = r.q("module") else {
        return err(
            400,
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            json!({"param": "module"}),
        );
    };
    if !MODULES.contains(&module) {
        return err(
            400,
            "INVALID_MODULE",
            "the module name given seems to be invalid",
            json!({"param": "module", "param_value": module}),
        );
    }
    let field = |id: u32, api: &str, data_type: &str, picklist: Vec<Value>| {
        json!({"api_name": api, "field_label": api.replace('_', " "), "display_label": api.replace('_', " "),
               "id": format!("58431040000000{id}"), "data_type": data_type, "json_type": "string",
               "custom_field": false, "visible": true, "read_only": false, "pick_list_values": picklist})
    };
    let mut fields = vec![field(561, "Last_Name", "text", vec![])];
    if module == "Leads" || module == "Contacts" {
        let values = state
            .config()
            .zoho_lead_sources
            .iter()
            .enumerate()
            .map(|(i, v)| {
                json!({"display_value": v, "actual_value": v, "reference_value": v, "id": format!("584310400000033{i:02}"),
                       "sequence_number": i + 1, "type": "used", "colour_code": null})
            })
            .collect();
        fields.push(field(579, "Lead_Source", "picklist", values));
    }
    json_resp(200, json!({"fields": fields}))
}

fn redirect_to(location: &str) -> Response {
    let mut resp = empty(302);
    if let Ok(v) = axum::http::HeaderValue::from_str(location) {
        resp.headers_mut().insert("location", v);
    }
    resp
}

fn urlenc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One `(Field:op:value)` condition and the connector before it (`and`/`or`).
struct Cond {
    or: bool,
    field: String,
    op: String,
    value: String,
}

/// `((F:op:v)or(F:op:v)and…)`: conditions joined left to right; `\(`, `\)`, `\,` escape a
/// value's parentheses and commas (v2 search-records page, "criteria"; Kaizen #82 Encoding).
fn parse_criteria(c: &str) -> Option<Vec<Cond>> {
    // `(F:op:v)` alone, or the conditions wrapped once more: `((F:op:v)or(…))`.
    let c = c.trim();
    let inner = c.strip_prefix('(')?.strip_suffix(')')?;
    let mut rest = if inner.starts_with('(') { inner } else { c };
    let mut conds = Vec::new();
    let mut or = true;
    loop {
        let body = rest.strip_prefix('(')?;
        let mut end = None;
        let mut esc = false;
        for (i, ch) in body.char_indices() {
            match ch {
                '\\' if !esc => esc = true,
                ')' if !esc => {
                    end = Some(i);
                    break;
                }
                _ => esc = false,
            }
        }
        let end = end?;
        let mut parts = body[..end].splitn(3, ':');
        let (field, op, value) = (parts.next()?, parts.next()?, parts.next()?);
        let value = value.replace("\\(", "(").replace("\\)", ")").replace("\\,", ",");
        conds.push(Cond { or, field: field.into(), op: op.to_ascii_lowercase(), value });
        rest = &body[end + 1..];
        if rest.is_empty() {
            return Some(conds);
        }
        let lower = rest.to_ascii_lowercase();
        if lower.starts_with("or(") {
            or = true;
            rest = &rest[2..];
        } else if lower.starts_with("and(") {
            or = false;
            rest = &rest[3..];
        } else {
            return None;
        }
    }
}

/// Criteria search. "A maximum of 10 criteria … with equals and starts_with" (v2 search-records
/// page; Kaizen #30); beyond, `CRITERIA_LIMIT_EXCEEDED` (module_search error examples). With
/// several conditions `equals` matches values containing the term ("ABC" finds "ABC Inc", same
/// page), with one it is exact. Phone-type fields compare their digits, as the `phone`
/// parameter does here.
fn criteria_search(state: &Shared, r: &Req, module: &str, criteria: &str) -> Response {
    let Some(conds) = parse_criteria(criteria) else {
        return err(
            400,
            "INVALID_QUERY",
            "Invalid query formed",
            json!({"param_name": "criteria"}),
        );
    };
    if conds.len() > 10 {
        return err(
            400,
            "CRITERIA_LIMIT_EXCEEDED",
            "no of criterium that can be given exceed the limit 10",
            json!({}),
        );
    }
    if let Some(c) = conds.iter().find(|c| c.op != "equals" && c.op != "starts_with") {
        return err(400, "INVALID_QUERY", "Invalid query formed", json!({"api_name": c.field}));
    }
    let contains = conds.len() > 1;
    let hit = |rec: &Value, c: &Cond| {
        let Some(v) = rec[c.field.as_str()].as_str() else { return false };
        let (have, want) = if PHONE_FIELDS.contains(&c.field.as_str()) {
            (digits(v), digits(&c.value))
        } else {
            (v.to_lowercase(), c.value.to_lowercase())
        };
        !want.is_empty()
            && match c.op.as_str() {
                "starts_with" => have.starts_with(&want),
                _ if contains => have.contains(&want),
                _ => have == want,
            }
    };
    let hits: Vec<Value> = state
        .db
        .list("zoho", module)
        .into_iter()
        .filter(|rec| {
            conds
                .iter()
                .fold(false, |acc, c| if c.or { acc || hit(rec, c) } else { acc && hit(rec, c) })
        })
        .collect();
    page_of(hits, r)
}

fn search(state: &Shared, r: &Req, module: &str) -> Response {
    // Precedence criteria > email > phone > word (module_search parameter notes).
    if let Some(c) = r.q("criteria") {
        return criteria_search(state, r, module, c);
    }
    if let Some(email) = r.q("email") {
        let hits: Vec<Value> = state
            .db
            .list("zoho", module)
            .into_iter()
            .filter(|rec| rec["Email"].as_str().is_some_and(|e| e.eq_ignore_ascii_case(email)))
            .collect();
        return page_of(hits, r);
    }
    if let (None, Some(word)) = (r.q("phone"), r.q("word")) {
        if word.chars().count() < 2 {
            return err(400, "INVALID_QUERY", "Invalid query formed", json!({"api_name": "word"}));
        }
        // Word search: every word appears in one of the record's text fields.
        let words: Vec<String> = word.split_whitespace().map(str::to_lowercase).collect();
        let hits: Vec<Value> = state
            .db
            .list("zoho", module)
            .into_iter()
            .filter(|rec| {
                let text: String = rec
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(_, v)| v.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_lowercase();
                words.iter().all(|w| text.contains(w.as_str()))
            })
            .collect();
        return page_of(hits, r);
    }
    let Some(phone) = r.q("phone") else {
        return err(
            400,
            "EXPECTED_PARAM_MISSING",
            "one of the expected parameter is missing",
            json!({"param_names": ["criteria", "email", "phone", "word"]}),
        );
    };
    let valid = (3..=50).contains(&phone.len())
        && phone.trim_start_matches('+').chars().all(|c| c.is_ascii_digit() || " -().".contains(c));
    if !valid {
        return err(400, "INVALID_QUERY", "Invalid query formed", json!({"api_name": "phone"}));
    }
    // Partial numbers match: the digits typed appear in the digits of a phone field.
    let want = digits(phone);
    let hits: Vec<Value> = state
        .db
        .list("zoho", module)
        .into_iter()
        .filter(|rec| {
            PHONE_FIELDS.iter().any(|f| {
                rec[f].as_str().is_some_and(|v| !want.is_empty() && digits(v).contains(&want))
            })
        })
        .collect();
    page_of(hits, r)
}

fn page_of(hits: Vec<Value>, r: &Req) -> Response {
    if hits.is_empty() {
        return empty(204);
    }
    let per_page =
        r.q("per_page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(200).clamp(1, 200);
    let page = r.q("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).max(1);
    let start = (page - 1) * per_page;
    if start >= 2000 {
        return err(
            400,
            "LIMIT_REACHED",
            "maximum response iteration limit reached",
            json!({"limit": "2000"}),
        );
    }
    let slice: Vec<Value> = hits.iter().skip(start).take(per_page).cloned().collect();
    if slice.is_empty() {
        return empty(204);
    }
    json_resp(
        200,
        json!({"data": slice, "info": {"per_page": per_page, "count": slice.len(), "page": page, "more_records": start + per_page < hits.len()}}),
    )
}

fn data_array(r: &Req) -> Result<Vec<Value>, Response> {
    let body = r
        .json()
        .map_err(|e| err(400, "INVALID_DATA", "body is not valid JSON", json!({"reason": e})))?;
    let data = body.get("data").and_then(Value::as_array).cloned().ok_or_else(|| {
        err(400, "REQUIRED_PARAM_MISSING", "required param missing", json!({"param_name": "data"}))
    })?;
    if data.is_empty() || data.len() > 100 {
        return Err(err(
            400,
            "INVALID_DATA",
            "the array length should be between 1 and 100",
            json!({"maximum_length": 100, "api_name": "data"}),
        ));
    }
    Ok(data)
}

/// 201 when all succeed, 207 when some fail, 400 when all fail (Zoho's rule).
fn batch_status(items: &[Value]) -> u16 {
    let ok = items.iter().filter(|i| i["status"] == "success").count();
    if ok == items.len() {
        201
    } else if ok == 0 {
        400
    } else {
        207
    }
}

/// Updates answer 200 (not 201) when every record succeeded.
fn update_status(items: &[Value]) -> u16 {
    match batch_status(items) {
        201 => 200,
        s => s,
    }
}

fn success(id: &str, message: &str) -> Value {
    let t = zoho_time();
    let by = json!({"name": "Rita Rep", "id": "5843104000000411001"});
    json!({"code": "SUCCESS", "details": {"Modified_Time": t, "Modified_By": by, "Created_Time": t, "id": id, "Created_By": by}, "message": message, "status": "success"})
}

fn new_id(state: &Shared) -> String {
    format!("58431040000{:08}", 10_000_000 + state.db.next("zoho-id"))
}

fn records_create(state: &Shared, r: &Req, module: &str) -> Response {
    let data = match data_array(r) {
        Ok(d) => d,
        Err(e) => return e,
    };
    let fail_at = r.record_failure;
    let mut out = Vec::new();
    for (i, rec) in data.iter().enumerate() {
        if Some(i) == fail_at {
            out.push(json!({"code": "INVALID_DATA", "details": {"api_name": "Last_Name", "json_path": format!("$.data[{i}].Last_Name")}, "message": "invalid data", "status": "error"}));
            continue;
        }
        if rec.get("Last_Name").and_then(Value::as_str).is_none_or(|s| s.trim().is_empty()) {
            out.push(json!({"code": "MANDATORY_NOT_FOUND", "details": {"api_name": "Last_Name", "json_path": format!("$.data[{i}].Last_Name")}, "message": "required field not found", "status": "error"}));
            continue;
        }
        let dup = rec.get("Email").and_then(Value::as_str).and_then(|email| {
            state
                .db
                .list("zoho", module)
                .into_iter()
                .find(|x| x["Email"].as_str().is_some_and(|e| e.eq_ignore_ascii_case(email)))
        });
        if let Some(d) = dup {
            out.push(json!({"code": "DUPLICATE_DATA", "details": {"api_name": "Email", "duplicate_record": {"Owner": d["Owner"], "id": d["id"]}, "json_path": format!("$.data[{i}].Email"), "id": d["id"], "more_records": false}, "message": "duplicate data", "status": "error"}));
            continue;
        }
        let id = new_id(state);
        let mut stored = rec.clone();
        stored["id"] = json!(id);
        let first = stored["First_Name"].as_str().unwrap_or("").to_string();
        let last = stored["Last_Name"].as_str().unwrap_or("").to_string();
        stored["Full_Name"] = json!(format!("{first} {last}").trim().to_string());
        stored["Owner"] = json!({"name": "Rita Rep", "id": "5843104000000411001"});
        stored["Created_Time"] = json!(zoho_time());
        stored["Modified_Time"] = json!(zoho_time());
        state.db.put("zoho", module, &id, &stored);
        let mut ok = success(&id, "record added");
        ok["details"]["$approval_state"] = json!("approved");
        out.push(ok);
    }
    let status = batch_status(&out);
    json_resp(status, json!({"data": out}))
}

fn notes_create(state: &Shared, r: &Req) -> Response {
    let data = match data_array(r) {
        Ok(d) => d,
        Err(e) => return e,
    };
    let fail_at = r.record_failure;
    let mut out = Vec::new();
    for (i, n) in data.iter().enumerate() {
        let title = n.get("Note_Title").and_then(Value::as_str).unwrap_or("");
        let content = n.get("Note_Content").and_then(Value::as_str).unwrap_or("");
        let module = n["Parent_Id"]["module"]["api_name"].as_str().unwrap_or("");
        let parent = n["Parent_Id"]["id"].as_str().unwrap_or("");
        if Some(i) == fail_at {
            out.push(json!({"code": "INVALID_DATA", "details": {"api_name": "Note_Content", "json_path": format!("$.data[{i}].Note_Content")}, "message": "invalid data", "status": "error"}));
        } else if title.is_empty() && content.is_empty() {
            out.push(json!({"code": "EXPECTED_FIELD_MISSING", "details": {"expected_fields": [{"api_name": "Note_Content", "json_path": format!("$.data[{i}].Note_Content")}, {"api_name": "Note_Title", "json_path": format!("$.data[{i}].Note_Title")}]}, "message": "should contain either content or title", "status": "error"}));
        } else if content.chars().count() > 65_535 || title.chars().count() > 120 {
            let field = if title.chars().count() > 120 { "Note_Title" } else { "Note_Content" };
            out.push(json!({"code": "INVALID_DATA", "details": {"maximum_length": if field == "Note_Title" { 120 } else { 65_535 }, "api_name": field, "json_path": format!("$.data[{i}].{field}")}, "message": "invalid data", "status": "error"}));
        } else if !MODULES.contains(&module) || state.db.get("zoho", module, parent).is_none() {
            out.push(json!({"code": "INVALID_DATA", "details": {"api_name": "Parent_Id", "json_path": format!("$.data[{i}].Parent_Id")}, "message": "the related id given seems to be invalid", "status": "error"}));
        } else {
            let id = new_id(state);
            let t = zoho_time();
            state.db.put("zoho", "Notes", &id, &json!({"id": id, "Note_Title": title, "Note_Content": content, "Parent_Id": {"module": {"api_name": module}, "id": parent}, "Created_Time": t, "Modified_Time": t}));
            out.push(success(&id, "record added"));
        }
    }
    let status = batch_status(&out);
    json_resp(status, json!({"data": out}))
}

fn notes_update(state: &Shared, r: &Req) -> Response {
    let data = match data_array(r) {
        Ok(d) => d,
        Err(e) => return e,
    };
    let fail_at = r.record_failure;
    let mut out = Vec::new();
    for (i, n) in data.iter().enumerate() {
        let id = n.get("id").and_then(Value::as_str).unwrap_or("");
        match state.db.get("zoho", "Notes", id) {
            Some(mut note) if Some(i) != fail_at => {
                if let Some(t) = n.get("Note_Title").and_then(Value::as_str) {
                    // maxLength 120 on update as on create (crm-oas v8 notes, updateNotesModule).
                    if t.chars().count() > 120 {
                        out.push(json!({"code": "INVALID_DATA", "details": {"maximum_length": 120, "api_name": "Note_Title", "json_path": format!("$.data[{i}].Note_Title")}, "message": "invalid data", "status": "error"}));
                        continue;
                    }
                    note["Note_Title"] = json!(t);
                }
                if let Some(c) = n.get("Note_Content").and_then(Value::as_str) {
                    if c.chars().count() > 65_535 {
                        out.push(json!({"code": "INVALID_DATA", "details": {"maximum_length": 65_535, "api_name": "Note_Content", "json_path": format!("$.data[{i}].Note_Content")}, "message": "invalid data", "status": "error"}));
                        continue;
                    }
                    note["Note_Content"] = json!(c);
                }
                note["Modified_Time"] = json!(zoho_time());
                state.db.put("zoho", "Notes", id, &note);
                out.push(success(id, "record updated"));
            }
            _ => out.push(json!({"code": "INVALID_DATA", "details": {"api_name": "id", "json_path": format!("$.data[{i}].id")}, "message": "the id given seems to be invalid", "status": "error"})),
        }
    }
    json_resp(update_status(&out), json!({"data": out}))
}

/// `page` (from 1) and `per_page` (1–200, default 200) of a related list
/// (crm-oas v8 notes getNotes, related_records getRelatedRecords).
fn related_page(r: &Req) -> Result<(usize, usize), Response> {
    let num = |k: &str, d: usize| match r.q(k) {
        None => Ok(d),
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| err(400, "INVALID_DATA", "invalid data", json!({"param_name": k}))),
    };
    let (page, per_page) = (num("page", 1)?, num("per_page", 200)?);
    if page < 1 || !(1..=200).contains(&per_page) {
        return Err(err(
            400,
            "INVALID_DATA",
            "invalid data",
            json!({"param_name": if page < 1 { "page" } else { "per_page" }}),
        ));
    }
    Ok((page, per_page))
}

fn paged(all: Vec<Value>, page: usize, per_page: usize) -> Response {
    let more = all.len() > page * per_page;
    let items: Vec<Value> = all.into_iter().skip((page - 1) * per_page).take(per_page).collect();
    if items.is_empty() {
        return empty(204);
    }
    json_resp(
        200,
        json!({"data": items, "info": {"per_page": per_page, "count": items.len(), "page": page, "more_records": more, "next_page_token": null, "page_token_expiry": null, "previous_page_token": null}}),
    )
}

fn related_notes(state: &Shared, r: &Req, module: &str, id: &str) -> Response {
    if state.db.get("zoho", module, id).is_none() {
        return err(
            404,
            "INVALID_DATA",
            "the related id given seems to be invalid",
            json!({"id": id}),
        );
    }
    let (page, per_page) = match related_page(r) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let mut notes: Vec<Value> = state
        .db
        .list("zoho", "Notes")
        .into_iter()
        .filter(|n| n["Parent_Id"]["id"] == id && n["Parent_Id"]["module"]["api_name"] == module)
        .collect();
    notes.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    paged(notes, page, per_page)
}

fn related_deals(state: &Shared, r: &Req, id: &str) -> Response {
    let Some(fields) = r.q("fields").filter(|f| !f.is_empty()) else {
        return err(
            400,
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            json!({"param_name": "fields"}),
        );
    };
    if state.db.get("zoho", "Contacts", id).is_none() {
        return err(
            404,
            "INVALID_DATA",
            "the related id given seems to be invalid",
            json!({"id": id}),
        );
    }
    match state.config().zoho_deals_list.as_str() {
        "hidden" => {
            return err(
                400,
                "INVALID_DATA",
                "the related list is not available",
                json!({"api_name": "Deals"}),
            )
        }
        "no_permission" => {
            return err(
                403,
                "NO_PERMISSION",
                "permission denied",
                json!({"permissions": ["Crm_Implied_View_Potentials"]}),
            )
        }
        _ => {}
    }
    let (page, per_page) = match related_page(r) {
        Ok(p) => p,
        Err(e) => return e,
    };
    // related_records.json declares `fields`, `page` and `per_page` only: no sort. The list
    // comes in record-id order, and a client wanting the newest sorts it itself.
    let mut deals: Vec<Value> = state
        .db
        .list("zoho", "Deals")
        .into_iter()
        .filter(|d| d["Contact_Name"]["id"] == id)
        .collect();
    deals.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    let wanted: Vec<&str> = fields.split(',').map(str::trim).collect();
    let projected: Vec<Value> = deals
        .iter()
        .map(|d| {
            let mut o = json!({"id": d["id"]});
            for f in &wanted {
                o[*f] = d[*f].clone();
            }
            o
        })
        .collect();
    paged(projected, page, per_page)
}

/// `POST /{module}/{id}/Attachments`: multipart with `file` (or `attachmentUrl`), one file per
/// call, 100 MB; answers 200 (not 201) like the spec.
fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split_bytes<'a>(mut hay: &'a [u8], delim: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    while let Some(i) = find_bytes(hay, delim) {
        out.push(&hay[..i]);
        hay = &hay[i + delim.len()..];
    }
    out.push(hay);
    out
}

fn attachment_upload(state: &Shared, r: &Req, module: &str, id: &str) -> Response {
    if state.db.get("zoho", module, id).is_none() {
        return err(
            404,
            "INVALID_DATA",
            "the related id given seems to be invalid",
            json!({"id": id}),
        );
    }
    if r.body.len() > 100 * 1024 * 1024 {
        return err(
            413,
            "FILE_SIZE_MORE_THAN_ALLOWED_SIZE",
            "Please check if the size of the file is in the correct range",
            json!({}),
        );
    }
    let ctype = r.header("content-type").unwrap_or("");
    let Some(boundary) = ctype.split("boundary=").nth(1).map(|b| b.trim_matches('"').to_string())
    else {
        return err(
            400,
            "INVALID_DATA",
            "multipart/form-data with a boundary is expected",
            json!({}),
        );
    };
    // Parts are split on the byte level: file contents are binary, not text.
    let body = &r.body[..];
    let delim = format!("--{boundary}");
    let mut file: Option<(String, usize)> = None;
    let mut url: Option<String> = None;
    for part in split_bytes(body, delim.as_bytes()).into_iter().skip(1) {
        let Some(at) = find_bytes(part, b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&part[..at]);
        let content = &part[at + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        if head.contains("name=\"file\"") {
            let name = head
                .split("filename=\"")
                .nth(1)
                .and_then(|x| x.split('"').next())
                .unwrap_or("file")
                .to_string();
            file = Some((name, content.len()));
        } else if head.contains("name=\"attachmentUrl\"") {
            url = Some(String::from_utf8_lossy(content).trim().to_string());
        }
    }
    let (name, size) = match (file, url) {
        (Some(f), None) => f,
        (None, Some(u)) if u.len() <= 3000 => (u, 0),
        (Some(_), Some(_)) => {
            return err(400, "INVALID_DATA", "either file or attachmentUrl, not both", json!({}))
        }
        _ => {
            return err(
                400,
                "REQUIRED_PARAM_MISSING",
                "One of the expected parameter is missing",
                json!({"param_name": "file"}),
            )
        }
    };
    let aid = new_id(state);
    let t = zoho_time();
    state.db.put("zoho", "Attachments", &aid, &json!({"id": aid, "File_Name": name, "Size": size.to_string(), "Parent_Id": {"module": {"api_name": module}, "id": id}, "Created_Time": t}));
    let mut ok = success(&aid, "attachment uploaded successfully");
    ok["details"]["Created_Time"] = json!(t);
    json_resp(200, json!({"data": [ok]}))
}

/// `PUT /{module}` with up to 100 `{id, ...fields}`: 200 when all succeed, 207 mixed, 400 none.
fn records_update(state: &Shared, r: &Req, module: &str) -> Response {
    let data = match data_array(r) {
        Ok(d) => d,
        Err(e) => return e,
    };
    let mut out = Vec::new();
    for (i, rec) in data.iter().enumerate() {
        let id = rec.get("id").and_then(Value::as_str).unwrap_or("");
        match state.db.get("zoho", module, id) {
            Some(mut cur) if Some(i) != r.record_failure => {
                for (k, v) in rec.as_object().into_iter().flatten() {
                    if k != "id" {
                        cur[k] = v.clone();
                    }
                }
                cur["Modified_Time"] = json!(zoho_time());
                state.db.put("zoho", module, id, &cur);
                out.push(success(id, "record updated"));
            }
            _ => out.push(json!({"code": "INVALID_DATA", "details": {"api_name": "id", "json_path": format!("$.data[{i}].id")}, "message": "the id given seems to be invalid", "status": "error"})),
        }
    }
    json_resp(update_status(&out), json!({"data": out}))
}
