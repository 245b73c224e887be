//! The setup check after connecting, sans-IO: per CRM the read-only calls that show whether
//! crmsync can work (API access, the modules it reads, permission to write its backups, the
//! object or activity type the backup needs), and the report they add up to. Every failed
//! line says the fix and who can apply it. Nothing here writes to the CRM.
//!
//! - Zoho CRM v8: `GET /org` (API access), `GET /settings/modules` (per module, for this
//!   user: `api_supported`, `viewable`, `creatable`; crm-oas v8 modules.json),
//!   `GET /settings/related_lists?module=Contacts` (is the Deals list there and visible;
//!   https://www.zoho.com/crm/developer/docs/api/v8/related-list-meta.html). A profile without
//!   API access answers 403 `NO_PERMISSION` (https://www.zoho.com/crm/developer/docs/api/v8/status-codes.html).
//! - Salesforce: sObject Basic Information `GET /sobjects/{T}` for Contact, Lead, Task,
//!   ContentNote and `WhatsApp_Chat__c` (`objectDescribe.queryable` / `createable` for this
//!   user; 404 when the org lacks the object); an org or user without API access answers 403
//!   `API_DISABLED_FOR_ORG` (REST API Developer Guide, status codes and error responses).
//! - LeadSquared: `UserByAccessKey.Get` (the keys' user and role: every call acts as that
//!   user, https://apidocs.leadsquared.com/authentication/), `RetrieveLeadByPhoneNumber`
//!   (read leads), `ActivityTypes.Get` ("WhatsApp Chats" present).
use super::connect::{Connection, Credentials};
use super::http::{HttpRequest, HttpResponse};
use super::{leadsquared, salesforce};
use crate::core::i18n::{say, word, Part, Sentence};
use crate::core::model::Crm;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One read-only call of the check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    ZohoOrg,
    ZohoModules,
    ZohoDealsList,
    /// Salesforce sObject Basic Information for this object.
    SfObject(&'static str),
    LsqUser,
    LsqLeads,
    LsqActivityTypes,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub probe: Probe,
    pub request: HttpRequest,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Pass,
    /// Works, with less than everything (the fix is optional).
    Warn,
    /// crmsync cannot do this part of its job until the fix is applied.
    Fail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// Stable id (tests, the page's element ids).
    pub id: String,
    pub state: State,
    /// What was checked and what was found, in English (diagnostics, the stored report).
    pub text: String,
    /// What to do about it, and who can, in English.
    pub fix: Option<String>,
    /// `text` as a message the page shows in the rep's language (absent in reports stored
    /// before the check spoke the rep's language: `text` stands in).
    #[serde(default)]
    pub msg: Option<Sentence>,
    /// `fix` as a message.
    #[serde(default)]
    pub fix_msg: Option<Sentence>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub crm: Crm,
    pub lines: Vec<Line>,
    pub checked_at_ms: u64,
}

impl Report {
    /// No line failed (warnings do not hold the rep back).
    pub fn passed(&self) -> bool {
        self.lines.iter().all(|l| l.state != State::Fail)
    }
}

/// What the rep's settings ask of the CRM (lines for unused parts are not failures).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wants {
    pub leads: bool,
    pub deals: bool,
    pub custom_object: bool,
}

impl Default for Wants {
    fn default() -> Self {
        Wants { leads: true, deals: true, custom_object: true }
    }
}

/// The Salesforce objects the check reads.
pub const SF_OBJECTS: [&str; 5] =
    ["Contact", "Lead", "Task", "ContentNote", salesforce::CHAT_OBJECT];

fn get(url: String, headers: Vec<(String, String)>) -> HttpRequest {
    let mut r = HttpRequest::get(url);
    r.headers = headers;
    r
}

/// The calls of the check for a stored connection (`Err`: no usable token, sign in again).
pub fn steps(conn: &Connection, now_ms: u64) -> Result<Vec<Step>, Sentence> {
    let need_sign_in = |_| say("setupWhySignIn", vec![]);
    match &conn.credentials {
        Credentials::Zoho { .. } => {
            let z = conn.zoho(now_ms).map_err(need_sign_in)?;
            let auth =
                vec![("Authorization".into(), format!("Zoho-oauthtoken {}", z.access_token))];
            let base = format!("{}/crm/v8", z.api_domain);
            Ok(vec![
                Step { probe: Probe::ZohoOrg, request: get(format!("{base}/org"), auth.clone()) },
                Step {
                    probe: Probe::ZohoModules,
                    request: get(format!("{base}/settings/modules"), auth.clone()),
                },
                Step {
                    probe: Probe::ZohoDealsList,
                    request: get(format!("{base}/settings/related_lists?module=Contacts"), auth),
                },
            ])
        }
        Credentials::Salesforce { .. } => {
            let (token, base) = conn.access(now_ms).map_err(need_sign_in)?;
            let auth =
                vec![("Authorization".into(), format!("Bearer {}", token.unwrap_or_default()))];
            Ok(SF_OBJECTS
                .iter()
                .map(|o| Step {
                    probe: Probe::SfObject(o),
                    request: get(
                        format!("{base}/services/data/{}/sobjects/{o}", salesforce::API_VERSION),
                        auth.clone(),
                    ),
                })
                .collect())
        }
        Credentials::Leadsquared { access_key, secret_key } => {
            let (api, app) = conn.lsq_hosts.clone().ok_or_else(|| say("setupWhyRegion", vec![]))?;
            let lsq = leadsquared::LeadSquared {
                access_key: access_key.clone(),
                secret_key: secret_key.clone(),
                api_host: api.clone(),
                app_host: app,
                activity_event: None,
            };
            let keys = vec![
                ("x-LSQ-AccessKey".to_string(), access_key.clone()),
                ("x-LSQ-SecretKey".to_string(), secret_key.clone()),
            ];
            Ok(vec![
                Step {
                    probe: Probe::LsqUser,
                    request: leadsquared::discovery_request(access_key, secret_key),
                },
                Step {
                    probe: Probe::LsqLeads,
                    // A number no lead has: the answer is an empty list when reading works.
                    request: lsq
                        .by_phone("0000000000")
                        .ok_or_else(|| say("setupWhyNoLookup", vec![]))?,
                },
                Step {
                    probe: Probe::LsqActivityTypes,
                    request: get(
                        format!("https://{api}/v2/ProspectActivity.svc/ActivityTypes.Get"),
                        keys,
                    ),
                },
            ])
        }
    }
}

fn body(resp: &HttpResponse) -> Value {
    serde_json::from_slice(&resp.body).unwrap_or(Value::Null)
}

/// A line from its messages; the English texts come from the default locale.
fn line(id: &str, state: State, msg: Sentence, fix: Option<Sentence>) -> Line {
    Line {
        id: id.into(),
        state,
        text: msg.english(),
        fix: fix.as_ref().map(Sentence::english),
        msg: Some(msg),
        fix_msg: fix,
    }
}

/// A message without arguments.
fn key(k: &str) -> Sentence {
    say(k, vec![])
}

/// `(code: message)` from a CRM's error answer, as data.
fn code_msg(code: &str, msg: &str) -> Part {
    format!("{code}: {msg}").into()
}

/// A failure answer's `(code, message)` for either Zoho's object or Salesforce's array shape.
fn error_of(resp: &HttpResponse) -> (String, String) {
    let v = body(resp);
    let e = v.get(0).cloned().unwrap_or(v);
    let code = e
        .get("code")
        .or_else(|| e.get("errorCode"))
        .or_else(|| e.get("ExceptionType"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let msg = e
        .get("message")
        .or_else(|| e.get("ExceptionMessage"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    (code, msg)
}

fn unreachable_line(id: &str, crm: Crm, resp: &HttpResponse) -> Option<Line> {
    (resp.status == 0 || resp.status >= 500).then(|| {
        line(
            id,
            State::Fail,
            say("setupNoAnswer", vec![crm.name().into(), resp.status.to_string().into()]),
            Some(key("setupFixRetry")),
        )
    })
}

fn expired_line(id: &str, crm: Crm) -> Line {
    line(
        id,
        State::Fail,
        say("setupTokenRefused", vec![crm.name().into()]),
        Some(say("setupFixSignIn", vec![crm.name().into()])),
    )
}

/// Fold the answers (in `steps` order) into the report.
/// What the check's answers tell a sync that it would otherwise read first: whether the
/// Salesforce org has the chat object, the LeadSquared activity type's code (or that the type
/// is missing). Kept with the connection (`Connection::absorb_learned`); an answer that failed
/// teaches nothing, so the sync asks itself.
pub fn learned(answers: &[(Probe, HttpResponse)]) -> Vec<crate::core::outbox::Learned> {
    use crate::core::outbox::Learned;
    answers
        .iter()
        .filter_map(|(probe, resp)| match probe {
            Probe::SfObject(o) if *o == salesforce::CHAT_OBJECT => {
                match salesforce::Salesforce::parse_object_info(resp) {
                    Ok(has) => Some(Learned::ChatObject(has)),
                    // As the sync decides: a user who may not see it writes a Task instead.
                    Err(super::Failure::PermissionDenied { .. }) => {
                        Some(Learned::ChatObject(false))
                    }
                    Err(_) => None,
                }
            }
            Probe::LsqActivityTypes => match leadsquared::LeadSquared::parse_activity_types(resp) {
                Ok(Some(code)) => Some(Learned::ActivityEvent(code)),
                Ok(None) => Some(Learned::ActivityTypeMissing),
                Err(_) => None,
            },
            _ => None,
        })
        .collect()
}

pub fn report(crm: Crm, answers: &[(Probe, HttpResponse)], wants: Wants, now_ms: u64) -> Report {
    let mut lines = Vec::new();
    for (probe, resp) in answers {
        match probe {
            Probe::ZohoOrg => lines.push(zoho_api(resp)),
            Probe::ZohoModules => lines.extend(zoho_modules(resp, wants)),
            Probe::ZohoDealsList if wants.deals => lines.push(zoho_deals_list(resp)),
            Probe::ZohoDealsList => {}
            Probe::SfObject(o) => {
                if let Some(l) = sf_object(o, resp, wants) {
                    lines.push(l)
                }
            }
            Probe::LsqUser => lines.extend(lsq_user(resp)),
            Probe::LsqLeads => lines.push(lsq_leads(resp)),
            Probe::LsqActivityTypes => lines.push(lsq_activity_type(resp, lsq_role(answers))),
        }
    }
    // Salesforce: one API line from whatever the first answer said.
    if crm == Crm::Salesforce {
        let api_refused = lines.iter().any(|l| l.id == "api");
        if !api_refused {
            lines.insert(0, line("api", State::Pass, key("setupApiWorks"), None));
        }
    }
    // One refusal of the whole API says it all: drop the lines it made meaningless.
    if let Some(first) = lines.iter().find(|l| l.id == "api" && l.state == State::Fail).cloned() {
        lines = vec![first];
    }
    Report { crm, lines, checked_at_ms: now_ms }
}

/// A report for a CRM the check could not run on (no usable connection).
pub fn not_ready(crm: Crm, why: Sentence, now_ms: u64) -> Report {
    Report {
        crm,
        lines: vec![line(
            "api",
            State::Fail,
            say("setupNotReady", vec![crm.name().into(), why.into()]),
            Some(say("setupFixSignIn", vec![crm.name().into()])),
        )],
        checked_at_ms: now_ms,
    }
}

/// The panel's notice while a connected CRM's last check has a failed line: the first one,
/// with its fix, and where to check again.
pub fn notice(reports: &[Report]) -> Option<Sentence> {
    let r = reports.iter().find(|r| !r.passed())?;
    let l = r.lines.iter().find(|l| l.state == State::Fail)?;
    // A report stored before lines carried messages: its English text as it is.
    let msg = l.msg.clone().unwrap_or_else(|| Sentence::plain(l.text.clone()));
    let fix = l.fix_msg.clone().or_else(|| l.fix.clone().map(Sentence::plain));
    Some(match fix {
        Some(f) => say("setupNoticeFix", vec![r.crm.name().into(), msg.into(), f.into()]),
        None => say("setupNotice", vec![r.crm.name().into(), msg.into()]),
    })
}

fn zoho_api(resp: &HttpResponse) -> Line {
    if let Some(l) = unreachable_line("api", Crm::Zoho, resp) {
        return l;
    }
    if resp.status == 200 {
        let org = body(resp)
            .get("org")
            .and_then(|o| o.get(0))
            .and_then(|o| o.get("company_name"))
            .and_then(Value::as_str)
            .map(|n| say("setupApiWorksOrg", vec![n.into()]))
            .unwrap_or_else(|| key("setupApiWorks"));
        return line("api", State::Pass, org, None);
    }
    let (code, msg) = error_of(resp);
    match (resp.status, code.as_str()) {
        (401, "INVALID_TOKEN" | "AUTHENTICATION_FAILURE") => expired_line("api", Crm::Zoho),
        (403, _) | (401, _) => line(
            "api",
            State::Fail,
            say("setupZohoApiRefused", vec![code_msg(&code, &msg)]),
            Some(key("setupFixZohoApi")),
        ),
        _ => line(
            "api",
            State::Fail,
            say(
                "setupHttp",
                vec![
                    Crm::Zoho.name().into(),
                    resp.status.to_string().into(),
                    code_msg(&code, &msg),
                ],
            ),
            Some(key("setupFixRetryZoho")),
        ),
    }
}

fn zoho_modules(resp: &HttpResponse, wants: Wants) -> Vec<Line> {
    if let Some(l) = unreachable_line("modules", Crm::Zoho, resp) {
        return vec![l];
    }
    if resp.status != 200 {
        let (code, msg) = error_of(resp);
        // A token from an older connection may lack the metadata scope: say so, fail nothing.
        return vec![line(
            "modules",
            State::Warn,
            say("setupModulesUnread", vec![code_msg(&code, &msg)]),
            Some(key("setupFixSignInModules")),
        )];
    }
    let v = body(resp);
    let modules = v.get("modules").and_then(Value::as_array).cloned().unwrap_or_default();
    let find = |name: &str| {
        modules.iter().find(|m| m.get("api_name").and_then(Value::as_str) == Some(name)).cloned()
    };
    let flag = |m: &Value, k: &str| m.get(k).and_then(Value::as_bool).unwrap_or(false);
    let mut out = Vec::new();
    let mut read = |id: &str, module: &str, wanted: bool, what: &str| {
        if !wanted {
            return;
        }
        match find(module) {
            Some(m) if flag(&m, "api_supported") && flag(&m, "viewable") => {
                out.push(line(id, State::Pass, say("setupCanRead", vec![word(what)]), None))
            }
            _ => out.push(line(
                id,
                State::Fail,
                say("setupCannotReadApi", vec![word(what)]),
                Some(say("setupFixZohoView", vec![module.into()])),
            )),
        }
    };
    read("read-contacts", "Contacts", true, "setupWordContacts");
    read("read-leads", "Leads", wants.leads, "setupWordLeads");
    read("read-deals", "Deals", wants.deals, "setupWordDeals");
    match find("Notes") {
        Some(m) if flag(&m, "creatable") => {
            out.push(line("write-notes", State::Pass, key("setupCanWriteNotes"), None))
        }
        _ => out.push(line(
            "write-notes",
            State::Fail,
            key("setupCannotWriteNotes"),
            Some(key("setupFixZohoNotes")),
        )),
    }
    out
}

fn zoho_deals_list(resp: &HttpResponse) -> Line {
    if let Some(l) = unreachable_line("deals-list", Crm::Zoho, resp) {
        return l;
    }
    if resp.status != 200 {
        let (code, msg) = error_of(resp);
        return line(
            "deals-list",
            State::Warn,
            say("setupRelatedUnread", vec![code_msg(&code, &msg)]),
            Some(key("setupFixSignInRelated")),
        );
    }
    let v = body(resp);
    let deals = v.get("related_lists").and_then(Value::as_array).and_then(|ls| {
        ls.iter()
            .find(|l| {
                l.get("api_name").and_then(Value::as_str) == Some("Deals")
                    || l.get("module").and_then(|m| m.get("api_name")).and_then(Value::as_str)
                        == Some("Deals")
            })
            .cloned()
    });
    match deals {
        Some(d) if d.get("visible").and_then(Value::as_bool) != Some(false) => {
            line("deals-list", State::Pass, key("setupDealsVisible"), None)
        }
        _ => {
            line("deals-list", State::Warn, key("setupDealsHidden"), Some(key("setupFixDealsList")))
        }
    }
}

fn sf_object(object: &str, resp: &HttpResponse, wants: Wants) -> Option<Line> {
    if let Some(l) = unreachable_line("api", Crm::Salesforce, resp) {
        return Some(l);
    }
    let describe = body(resp).get("objectDescribe").cloned().unwrap_or(Value::Null);
    let flag = |k: &str| describe.get(k).and_then(Value::as_bool).unwrap_or(false);
    let (code, msg) = error_of(resp);
    if resp.status == 401 {
        return Some(expired_line("api", Crm::Salesforce));
    }
    if resp.status == 403
        && matches!(code.as_str(), "API_DISABLED_FOR_ORG" | "API_CURRENTLY_DISABLED")
    {
        return Some(line(
            "api",
            State::Fail,
            say("setupSfApiRefused", vec![code_msg(&code, &msg)]),
            Some(key("setupFixSfApi")),
        ));
    }
    let missing = resp.status == 404;
    Some(match object {
        "Contact" | "Lead" => {
            let (id, what) = if object == "Contact" {
                ("read-contacts", "setupWordContacts")
            } else {
                ("read-leads", "setupWordLeads")
            };
            if object == "Lead" && !wants.leads {
                return None;
            }
            if !missing && resp.status == 200 && flag("queryable") {
                line(id, State::Pass, say("setupCanRead", vec![word(what)]), None)
            } else {
                line(
                    id,
                    State::Fail,
                    say("setupCannotRead", vec![word(what)]),
                    Some(say("setupFixSfRead", vec![object.into()])),
                )
            }
        }
        "Task" | "ContentNote" => {
            let (id, what) = if object == "Task" {
                ("write-tasks", "setupWordTasks")
            } else {
                ("write-notes", "setupWordNotes")
            };
            if resp.status == 200 && flag("createable") {
                line(id, State::Pass, say("setupCanCreate", vec![word(what)]), None)
            } else {
                line(
                    id,
                    State::Fail,
                    say("setupCannotCreate", vec![word(what)]),
                    Some(say("setupFixSfCreate", vec![object.into()])),
                )
            }
        }
        _ if !wants.custom_object => return None,
        _ if missing => line("chat-object", State::Pass, key("setupChatObjectMissing"), None),
        _ if resp.status == 200 && flag("createable") => {
            line("chat-object", State::Pass, key("setupChatObjectDeployed"), None)
        }
        _ => line(
            "chat-object",
            State::Warn,
            key("setupChatObjectNoCreate"),
            Some(say("setupFixSfCreate", vec!["WhatsApp Chat (WhatsApp_Chat__c)".into()])),
        ),
    })
}

fn lsq_role(answers: &[(Probe, HttpResponse)]) -> Option<String> {
    answers
        .iter()
        .find(|(p, r)| *p == Probe::LsqUser && r.status == 200)
        .and_then(|(_, r)| body(r).get("Role").and_then(Value::as_str).map(str::to_string))
}

fn lsq_user(resp: &HttpResponse) -> Vec<Line> {
    if let Some(l) = unreachable_line("api", Crm::Leadsquared, resp) {
        return vec![l];
    }
    let v = body(resp);
    if resp.status != 200 || v.get("LSQCommonServiceURLs").is_none() {
        let (code, msg) = error_of(resp);
        return vec![line(
            "api",
            State::Fail,
            say("setupLsqKeysRefused", vec![code_msg(&code, &msg)]),
            Some(key("setupFixLsqKeys")),
        )];
    }
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let who = format!("{} {}", s("FirstName"), s("LastName")).trim().to_string();
    let role = s("Role");
    vec![
        line(
            "api",
            State::Pass,
            say(
                "setupApiWorksRegion",
                vec![v
                    .pointer("/LSQCommonServiceURLs/api")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .into()],
            ),
            None,
        ),
        line(
            "write-activities",
            State::Pass,
            say(
                "setupLsqPostedAs",
                vec![
                    who.into(),
                    if role.is_empty() { word("setupRoleUnknown") } else { role.into() },
                ],
            ),
            Some(key("setupFixLsqRoles")),
        ),
    ]
}

fn lsq_leads(resp: &HttpResponse) -> Line {
    if let Some(l) = unreachable_line("read-leads", Crm::Leadsquared, resp) {
        return l;
    }
    if resp.status == 200 && body(resp).is_array() {
        line("read-leads", State::Pass, key("setupLsqCanLookUp"), None)
    } else {
        let (code, msg) = error_of(resp);
        line(
            "read-leads",
            State::Fail,
            say("setupLsqCannotLookUp", vec![code_msg(&code, &msg)]),
            Some(key("setupFixLsqView")),
        )
    }
}

fn lsq_activity_type(resp: &HttpResponse, role: Option<String>) -> Line {
    if let Some(l) = unreachable_line("activity-type", Crm::Leadsquared, resp) {
        return l;
    }
    let name = || Part::from(leadsquared::ACTIVITY_TYPE_NAME);
    match leadsquared::LeadSquared::parse_activity_types(resp) {
        Ok(Some(code)) => line(
            "activity-type",
            State::Pass,
            say("setupActivityTypeThere", vec![name(), code.to_string().into()]),
            None,
        ),
        Ok(None) if role.as_deref() == Some("Administrator") => line(
            "activity-type",
            State::Pass,
            say("setupActivityTypeWillCreate", vec![name()]),
            None,
        ),
        Ok(None) => line(
            "activity-type",
            State::Fail,
            say("setupActivityTypeMissing", vec![name()]),
            Some(say("setupFixActivityType", vec![name()])),
        ),
        Err(f) => line(
            "activity-type",
            State::Fail,
            say("setupActivityTypesUnread", vec![format!("{f:?}").into()]),
            Some(key("setupFixRetryLsq")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::auth::{Session, Tokens, ZohoDc};
    use crate::crm::resp;

    fn conn(credentials: Credentials, base: &str) -> Connection {
        Connection::new(
            credentials,
            Some(Session::new(Tokens {
                access_token: "at".into(),
                refresh_token: Some("rt".into()),
                expires_at_ms: u64::MAX,
                api_base: base.into(),
            })),
            None,
        )
    }

    fn zoho() -> Connection {
        conn(
            Credentials::Zoho {
                dc: ZohoDc::Eu,
                client_id: "c".into(),
                client_secret: String::new(),
                refresh_token: "r".into(),
            },
            "https://www.zohoapis.eu",
        )
    }

    const MODULES_OK: &[u8] = br#"{"modules":[{"api_name":"Contacts","api_supported":true,"viewable":true,"creatable":true},{"api_name":"Leads","api_supported":true,"viewable":true,"creatable":true},{"api_name":"Deals","api_supported":true,"viewable":true,"creatable":false},{"api_name":"Notes","api_supported":true,"viewable":true,"creatable":true}]}"#;

    #[test]
    fn zoho_steps_are_read_only_calls_on_the_api_domain() {
        let s = steps(&zoho(), 0).unwrap();
        let urls: Vec<_> = s.iter().map(|s| (s.request.method, s.request.url.as_str())).collect();
        use crate::crm::http::Method::Get;
        assert_eq!(
            urls,
            vec![
                (Get, "https://www.zohoapis.eu/crm/v8/org"),
                (Get, "https://www.zohoapis.eu/crm/v8/settings/modules"),
                (Get, "https://www.zohoapis.eu/crm/v8/settings/related_lists?module=Contacts"),
            ]
        );
        assert!(s[0]
            .request
            .headers
            .contains(&("Authorization".into(), "Zoho-oauthtoken at".into())));
    }

    #[test]
    fn zoho_report_passes_fails_with_fixes_and_warns_on_a_hidden_deals_list() {
        let org = resp(200, br#"{"org":[{"company_name":"Zylker","domain_name":"org1"}]}"#);
        let visible = resp(200, br#"{"related_lists":[{"api_name":"Deals","module":{"api_name":"Deals"},"visible":true}]}"#);
        let ok = report(
            Crm::Zoho,
            &[
                (Probe::ZohoOrg, org.clone()),
                (Probe::ZohoModules, resp(200, MODULES_OK)),
                (Probe::ZohoDealsList, visible),
            ],
            Wants::default(),
            7,
        );
        assert!(ok.passed(), "{ok:?}");
        assert_eq!(
            ok.lines.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(),
            ["api", "read-contacts", "read-leads", "read-deals", "write-notes", "deals-list"]
        );
        assert_eq!(ok.lines[0].text, "API access works (org Zylker)");
        // A user who may not create notes; the Deals list hidden in the layout.
        let read_only = String::from_utf8(MODULES_OK.to_vec()).unwrap().replace(
            r#""api_name":"Notes","api_supported":true,"viewable":true,"creatable":true"#,
            r#""api_name":"Notes","api_supported":true,"viewable":true,"creatable":false"#,
        );
        let hidden = resp(200, br#"{"related_lists":[{"api_name":"Notes","visible":true}]}"#);
        let r = report(
            Crm::Zoho,
            &[
                (Probe::ZohoOrg, org),
                (Probe::ZohoModules, resp(200, read_only.as_bytes())),
                (Probe::ZohoDealsList, hidden),
            ],
            Wants::default(),
            7,
        );
        assert!(!r.passed());
        let notes = r.lines.iter().find(|l| l.id == "write-notes").unwrap();
        assert_eq!(notes.state, State::Fail);
        assert!(notes.fix.as_deref().unwrap().contains("permission to create Notes"));
        let deals = r.lines.iter().find(|l| l.id == "deals-list").unwrap();
        assert_eq!(deals.state, State::Warn);
        assert!(deals.fix.as_deref().unwrap().contains("Deals related list"));
        // No API access: one line, with the fix.
        let denied = resp(403, br#"{"code":"NO_PERMISSION","details":{"permissions":["Crm_Implied_Api_Access"]},"message":"permission denied","status":"error"}"#);
        let r = report(
            Crm::Zoho,
            &[
                (Probe::ZohoOrg, denied.clone()),
                (Probe::ZohoModules, denied.clone()),
                (Probe::ZohoDealsList, denied),
            ],
            Wants::default(),
            0,
        );
        assert_eq!(r.lines.len(), 1);
        assert!(
            r.lines[0].text.contains("NO_PERMISSION")
                && r.lines[0].fix.as_deref().unwrap().contains("API access")
        );
        // Not wanted: deals lines are not checked.
        let r = report(
            Crm::Zoho,
            &[(Probe::ZohoModules, resp(200, MODULES_OK)), (Probe::ZohoDealsList, resp(500, b""))],
            Wants { deals: false, ..Wants::default() },
            0,
        );
        assert!(r.lines.iter().all(|l| !l.id.contains("deals")), "{r:?}");
    }

    #[test]
    fn salesforce_report_names_the_fallback_and_the_missing_permission() {
        let c = conn(
            Credentials::Salesforce {
                login_host: "login.salesforce.com".into(),
                client_id: "k".into(),
                client_secret: None,
                refresh_token: "r".into(),
            },
            "https://acme.my.salesforce.com",
        );
        let s = steps(&c, 0).unwrap();
        assert_eq!(s.len(), 5);
        assert_eq!(
            s[4].request.url,
            format!(
                "https://acme.my.salesforce.com/services/data/{}/sobjects/WhatsApp_Chat__c",
                salesforce::API_VERSION
            )
        );
        let info = |c: bool, q: bool| {
            resp(200, format!(r#"{{"objectDescribe":{{"name":"X","createable":{c},"queryable":{q}}},"recentItems":[]}}"#).as_bytes())
        };
        let missing = resp(
            404,
            br#"[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]"#,
        );
        let answers = |task: HttpResponse| {
            vec![
                (Probe::SfObject("Contact"), info(true, true)),
                (Probe::SfObject("Lead"), info(true, true)),
                (Probe::SfObject("Task"), task),
                (Probe::SfObject("ContentNote"), info(true, true)),
                (Probe::SfObject("WhatsApp_Chat__c"), missing.clone()),
            ]
        };
        let r = report(Crm::Salesforce, &answers(info(true, true)), Wants::default(), 0);
        assert!(r.passed(), "{r:?}");
        assert!(r
            .lines
            .iter()
            .any(|l| l.id == "chat-object" && l.text.contains("Tasks and notes")));
        let r = report(Crm::Salesforce, &answers(info(false, true)), Wants::default(), 0);
        let t = r.lines.iter().find(|l| l.id == "write-tasks").unwrap();
        assert_eq!(t.state, State::Fail);
        assert!(t.fix.as_deref().unwrap().contains("Create access to Task"));
        let off = resp(403, br#"[{"message":"The REST API is not enabled for this Organization.","errorCode":"API_DISABLED_FOR_ORG"}]"#);
        let r = report(
            Crm::Salesforce,
            &answers(off.clone()).into_iter().map(|(p, _)| (p, off.clone())).collect::<Vec<_>>(),
            Wants::default(),
            0,
        );
        assert_eq!(r.lines.len(), 1);
        assert!(r.lines[0].fix.as_deref().unwrap().contains("API Enabled"));
    }

    #[test]
    fn the_panel_notice_names_the_first_failed_line_until_the_check_passes() {
        let ok = Report {
            crm: Crm::Zoho,
            lines: vec![
                line("api", State::Pass, key("setupApiWorks"), None),
                line(
                    "deals-list",
                    State::Warn,
                    key("setupDealsHidden"),
                    Some(key("setupFixDealsList")),
                ),
            ],
            checked_at_ms: 0,
        };
        assert_eq!(notice(std::slice::from_ref(&ok)), None, "warnings do not nag");
        let bad = Report {
            crm: Crm::Salesforce,
            lines: vec![line(
                "write-tasks",
                State::Fail,
                say("setupCannotCreate", vec![word("setupWordTasks")]),
                Some(say("setupFixSfCreate", vec!["Task".into()])),
            )],
            checked_at_ms: 0,
        };
        let n = notice(&[ok, bad.clone()]).unwrap();
        assert_eq!(
            n.english(),
            "Salesforce setup is not complete: Cannot create tasks, so chats cannot be backed up there. Ask your Salesforce admin to give you Create access to Task. Then click Check again in crmsync's options."
        );
        // The panel shows it in the rep's language: every part translated, the data kept.
        let pt = crate::core::i18n::Catalog::locale("pt_BR");
        assert_eq!(
            n.render(&|k, a| pt.get(k, a)),
            "A configuração do Salesforce não está completa: Não pode criar tarefas, então não é possível fazer backup das conversas ali. Peça ao administrador do Salesforce para lhe dar acesso de criação (Create) a Task. Depois clique em Verificar de novo nas opções do crmsync."
        );
        // A report stored before lines carried messages still makes its (English) notice.
        let old = Report {
            lines: vec![Line { msg: None, fix_msg: None, ..bad.lines[0].clone() }],
            ..bad
        };
        let old: Report = serde_json::from_value({
            let mut v = serde_json::to_value(&old).unwrap();
            v["lines"][0].as_object_mut().unwrap().retain(|k, _| k != "msg" && k != "fix_msg");
            v
        })
        .unwrap();
        assert_eq!(
            notice(&[old]).unwrap().render(&|k, a| pt.get(k, a)),
            n.english()
                .replace(
                    "Salesforce setup is not complete",
                    "A configuração do Salesforce não está completa"
                )
                .replace(
                    " Then click Check again in crmsync's options.",
                    " Depois clique em Verificar de novo nas opções do crmsync."
                )
        );
        let not = not_ready(Crm::Zoho, say("setupWhyNotConnected", vec![]), 0);
        assert!(!not.passed());
        assert_eq!(not.lines[0].text, "Zoho CRM is not ready: not connected");
    }

    #[test]
    fn leadsquared_report_checks_the_activity_type_by_role() {
        let user = |role: &str| {
            resp(200, format!(r#"{{"FirstName":"Rita","LastName":"Rep","Role":"{role}","LSQCommonServiceURLs":{{"api":"api-in21.leadsquared.com","app":"in21.leadsquared.com"}}}}"#).as_bytes())
        };
        let none = resp(200, br#"[{"ActivityEvent":12,"ActivityEventName":"Other"}]"#);
        let r = report(
            Crm::Leadsquared,
            &[
                (Probe::LsqUser, user("Sales_User")),
                (Probe::LsqLeads, resp(200, b"[]")),
                (Probe::LsqActivityTypes, none.clone()),
            ],
            Wants::default(),
            0,
        );
        let t = r.lines.iter().find(|l| l.id == "activity-type").unwrap();
        assert_eq!(t.state, State::Fail);
        assert!(t.fix.as_deref().unwrap().contains("administrator"));
        assert!(r
            .lines
            .iter()
            .any(|l| l.id == "write-activities" && l.text.contains("Rita Rep (role Sales_User)")));
        let r = report(
            Crm::Leadsquared,
            &[
                (Probe::LsqUser, user("Administrator")),
                (Probe::LsqLeads, resp(200, b"[]")),
                (Probe::LsqActivityTypes, none),
            ],
            Wants::default(),
            0,
        );
        assert!(r.passed(), "{r:?}");
        let there = resp(200, br#"[{"ActivityEvent":207,"ActivityEventName":"WhatsApp Chats"}]"#);
        let r = report(
            Crm::Leadsquared,
            &[
                (Probe::LsqUser, user("Sales_User")),
                (Probe::LsqLeads, resp(200, b"[]")),
                (Probe::LsqActivityTypes, there),
            ],
            Wants::default(),
            0,
        );
        assert!(r.passed() && r.lines.iter().any(|l| l.text.contains("code 207")));
        let bad = resp(401, br#"{"Status":"Error","ExceptionType":"MXUnAuthorizedAccessException","ExceptionMessage":"Invalid access key or secret key"}"#);
        let r = report(
            Crm::Leadsquared,
            &[
                (Probe::LsqUser, bad.clone()),
                (Probe::LsqLeads, bad.clone()),
                (Probe::LsqActivityTypes, bad),
            ],
            Wants::default(),
            0,
        );
        assert_eq!(r.lines.len(), 1);
        assert!(r.lines[0].fix.as_deref().unwrap().contains("API and Webhooks"));
    }

    /// What the check read is what the first sync would read first: kept, it is not read
    /// again; a failed read teaches nothing. An org without the object is asked again after
    /// a day (an admin may deploy it in Setup).
    #[test]
    fn the_check_teaches_the_connection_what_the_sync_would_read() {
        use crate::core::outbox::Learned;
        let info = resp(
            200,
            br#"{"objectDescribe":{"name":"WhatsApp_Chat__c","createable":true,"queryable":true}}"#,
        );
        let missing = resp(
            404,
            br#"[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]"#,
        );
        let down = resp(503, b"busy");
        let chat = Probe::SfObject(salesforce::CHAT_OBJECT);
        assert_eq!(learned(&[(chat.clone(), info)]), vec![Learned::ChatObject(true)]);
        assert_eq!(learned(&[(chat.clone(), missing)]), vec![Learned::ChatObject(false)]);
        assert_eq!(
            learned(&[(chat, down.clone()), (Probe::SfObject("Task"), down.clone())]),
            vec![]
        );
        let types = |b: &[u8]| (Probe::LsqActivityTypes, resp(200, b));
        assert_eq!(
            learned(&[types(br#"[{"ActivityEvent":207,"ActivityEventName":"WhatsApp Chats"}]"#)]),
            vec![Learned::ActivityEvent(207)]
        );
        assert_eq!(
            learned(&[types(br#"[{"ActivityEvent":12,"ActivityEventName":"Other"}]"#)]),
            vec![Learned::ActivityTypeMissing]
        );
        assert_eq!(learned(&[(Probe::LsqActivityTypes, down)]), vec![]);

        let mut sf = Connection::new(
            Credentials::Salesforce {
                login_host: String::new(),
                client_id: "k".into(),
                client_secret: None,
                refresh_token: "r".into(),
            },
            None,
            None,
        );
        let day = crate::crm::connect::CHAT_OBJECT_ABSENT_TTL_MS;
        assert_eq!(sf.chat_object_known(0), None);
        assert!(sf.absorb_learned(&Learned::ChatObject(false), 1_000));
        assert_eq!(sf.chat_object_known(1_000 + day - 1), Some(false));
        assert_eq!(sf.chat_object_known(1_000 + day), None, "a day later: ask again");
        assert!(sf.absorb_learned(&Learned::ChatObject(true), 2_000));
        assert!(!sf.absorb_learned(&Learned::ChatObject(true), 3_000), "unchanged: no rewrite");
        assert_eq!(sf.chat_object_known(u64::MAX / 2), Some(true));
        assert!(!sf.absorb_learned(&Learned::ActivityEvent(207), 0), "not a LeadSquared fact");
        assert!(sf.absorb_learned(&Learned::ChatObjectGone, 4_000));
        assert_eq!(sf.chat_object_known(4_000), None);

        let mut lsq = Connection {
            credentials: Credentials::Leadsquared {
                access_key: "a".into(),
                secret_key: "s".into(),
            },
            lsq_hosts: Some(("api-in21.leadsquared.com".into(), "in21.leadsquared.com".into())),
            ..sf
        };
        let lead = crate::core::model::RecordRef {
            crm: Crm::Leadsquared,
            kind: crate::core::model::RecordKind::Lead,
            id: "L1".into(),
        };
        let first =
            |c: &Connection| c.writer(0).map_err(|_| ()).unwrap().prepare(&lead).unwrap().url;
        assert!(first(&lsq).ends_with("ActivityTypes.Get"));
        assert!(lsq.absorb_learned(&Learned::ActivityTypeMissing, 0));
        assert!(first(&lsq).contains("CreateType"), "known missing: created without a list read");
        assert!(lsq.absorb_learned(&Learned::ActivityEvent(207), 0));
        assert!(!first(&lsq).contains("ActivityType"));
        assert!(lsq.absorb_learned(&Learned::ActivityEventGone, 0));
        assert!(first(&lsq).ends_with("ActivityTypes.Get"), "gone: looked up by name again");
    }
}
