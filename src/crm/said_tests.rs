//! The rep reads every setup-check line, sign-in refusal and connect failure in their
//! language: each outcome the pure code can produce is rendered in every locale, and every
//! message key those files name is among the outcomes (so none is left out of the catalogues).
use super::auth::{Session, Tokens, ZohoDc};
use super::connect::{connect_failure, Connection, Credentials, OAuthStart};
use super::resp;
use super::setup::{self, Probe, Report, Wants};
use super::signin::{redirect_error, token_error};
use crate::core::i18n::{say, Catalog, Sentence, LOCALES};
use crate::core::model::Crm;
use crate::core::policy::Failure;
use std::collections::BTreeSet;

const CRMS: [Crm; 3] = [Crm::Zoho, Crm::Salesforce, Crm::Leadsquared];
const URI: &str = "https://abc.chromiumapp.org/";

/// Answers of every shape the check reads: passes, missing rights, refusals, outages.
fn answers() -> Vec<super::http::HttpResponse> {
    let mut out = vec![
        resp(0, b""),
        resp(500, b""),
        resp(503, b"<html>"),
        resp(200, b"{}"),
        resp(200, b"[]"),
        resp(200, br#"{"org":[{"company_name":"Zylker"}]}"#),
        resp(200, br#"{"org":[]}"#),
        resp(401, br#"{"code":"INVALID_TOKEN","message":"invalid oauth token"}"#),
        resp(401, br#"{"code":"OAUTH_SCOPE_MISMATCH","message":"scope"}"#),
        resp(403, br#"{"code":"NO_PERMISSION","message":"permission denied"}"#),
        resp(400, br#"{"code":"INVALID_DATA","message":"bad"}"#),
        resp(401, br#"[{"message":"Session expired","errorCode":"INVALID_SESSION_ID"}]"#),
        resp(403, br#"[{"message":"off","errorCode":"API_DISABLED_FOR_ORG"}]"#),
        resp(403, br#"[{"message":"no","errorCode":"INSUFFICIENT_ACCESS"}]"#),
        resp(404, br#"[{"message":"missing","errorCode":"NOT_FOUND"}]"#),
        resp(200, br#"{"related_lists":[{"api_name":"Deals","visible":true}]}"#),
        resp(200, br#"{"related_lists":[{"api_name":"Deals","visible":false}]}"#),
        resp(200, br#"{"FirstName":"Rita","LastName":"Rep","Role":"Sales_User","LSQCommonServiceURLs":{"api":"api-in21.leadsquared.com"}}"#),
        resp(200, br#"{"FirstName":"Rita","LSQCommonServiceURLs":{"api":"api-in21.leadsquared.com"}}"#),
        resp(401, br#"{"Status":"Error","ExceptionType":"MXUnAuthorizedAccessException","ExceptionMessage":"Invalid keys"}"#),
        resp(200, br#"[{"ActivityEvent":207,"ActivityEventName":"WhatsApp Chats"}]"#),
        resp(200, br#"[{"ActivityEvent":12,"ActivityEventName":"Other"}]"#),
    ];
    for (c, q) in [(true, true), (false, false)] {
        let body = format!(
            r#"{{"objectDescribe":{{"name":"X","createable":{c},"queryable":{q}}},"recentItems":[]}}"#
        );
        out.push(resp(200, body.as_bytes()));
    }
    for ok in [true, false] {
        let m = |n: &str| {
            format!(r#"{{"api_name":"{n}","api_supported":true,"viewable":{ok},"creatable":{ok}}}"#)
        };
        let body = format!(
            r#"{{"modules":[{},{},{},{}]}}"#,
            m("Contacts"),
            m("Leads"),
            m("Deals"),
            m("Notes")
        );
        out.push(resp(200, body.as_bytes()));
    }
    out
}

fn probes(crm: Crm) -> Vec<Probe> {
    match crm {
        Crm::Zoho => vec![Probe::ZohoOrg, Probe::ZohoModules, Probe::ZohoDealsList],
        Crm::Salesforce => setup::SF_OBJECTS.iter().map(|o| Probe::SfObject(o)).collect(),
        Crm::Leadsquared => vec![Probe::LsqUser, Probe::LsqLeads, Probe::LsqActivityTypes],
    }
}

fn session() -> Option<Session> {
    Some(Session::new(Tokens {
        access_token: "at".into(),
        refresh_token: Some("rt".into()),
        expires_at_ms: 0,
        api_base: "https://www.zohoapis.eu".into(),
    }))
}

/// Every setup report the check can make from the answers above, and its failures' causes.
fn reports() -> Vec<Report> {
    let mut out = vec![];
    let user = |role: &str| {
        resp(
            200,
            format!(r#"{{"FirstName":"A","Role":"{role}","LSQCommonServiceURLs":{{"api":"x"}}}}"#)
                .as_bytes(),
        )
    };
    let none = resp(200, br#"[{"ActivityEvent":12,"ActivityEventName":"Other"}]"#);
    for role in ["Administrator", "Sales_User"] {
        out.push(setup::report(
            Crm::Leadsquared,
            &[(Probe::LsqUser, user(role)), (Probe::LsqActivityTypes, none.clone())],
            Wants::default(),
            0,
        ));
    }
    for crm in CRMS {
        for probe in probes(crm) {
            for a in answers() {
                for wants in
                    [Wants::default(), Wants { leads: false, deals: false, custom_object: false }]
                {
                    out.push(setup::report(crm, &[(probe.clone(), a.clone())], wants, 0));
                }
            }
        }
    }
    // Connections the check cannot run on.
    let zoho = Credentials::Zoho {
        dc: ZohoDc::Eu,
        client_id: "c".into(),
        client_secret: "s".into(),
        refresh_token: "r".into(),
    };
    let lsq = Credentials::Leadsquared { access_key: "a".into(), secret_key: "b".into() };
    for (credentials, session) in [(zoho, session()), (lsq, None)] {
        let crm = credentials.crm();
        let conn = Connection::new(credentials, session, None);
        let why = setup::steps(&conn, 1_000_000).expect_err("the check cannot start");
        out.push(setup::not_ready(crm, why, 0));
    }
    out.push(setup::not_ready(Crm::Zoho, say("setupWhyNotConnected", vec![]), 0));
    out.push(setup::not_ready(Crm::Leadsquared, say("setupWhyNoLookup", vec![]), 0));
    // A failed line stored without a fix (the notice then has none).
    out.push(Report {
        crm: Crm::Zoho,
        lines: vec![setup::Line {
            id: "api".into(),
            state: setup::State::Fail,
            text: String::new(),
            fix: None,
            msg: Some(say("setupApiWorks", vec![])),
            fix_msg: None,
        }],
        checked_at_ms: 0,
    });
    out
}

/// Every sign-in and connect outcome: refusals in the redirect and the code exchange, forms
/// left empty, the CRM's answers to a connect.
fn sign_in_outcomes() -> Vec<Sentence> {
    let mut out = vec![];
    let errors = [
        "access_denied",
        "OAUTH_APP_BLOCKED",
        "invalid_client_id",
        "redirect_uri_mismatch",
        "inactive_user",
        "inactive_org",
        "invalid_scope",
        "invalid_client",
        "weird",
    ];
    for crm in [Crm::Zoho, Crm::Salesforce] {
        for product in [true, false] {
            for e in errors {
                for d in [None, Some("app must be installed into org")] {
                    out.push(redirect_error(crm, e, d, product, URI));
                }
            }
            let codes = [
                r#"{"error":"invalid_client"}"#,
                r#"{"error":"invalid_client_secret"}"#,
                r#"{"error":"invalid_code"}"#,
                r#"{"error":"invalid_redirect_uri"}"#,
                r#"{"error":"redirect_uri_mismatch"}"#,
                r#"{"error":"Access Denied"}"#,
                r#"{"error":"invalid_client_id"}"#,
                r#"{"error":"invalid_grant","error_description":"ip restricted"}"#,
                r#"{"error":"invalid_grant"}"#,
                r#"{"error":"inactive_user"}"#,
                r#"{"error":"weird","error_description":"x"}"#,
                r#"{}"#,
            ];
            for dc in [None, Some(ZohoDc::In), Some(ZohoDc::Us), Some(ZohoDc::Cn)] {
                for (status, body) in
                    codes.iter().map(|b| (400, *b)).chain([(200, r#"{}"#), (0, ""), (502, "")])
                {
                    out.extend(token_error(crm, &resp(status, body.as_bytes()), dc, product, URI));
                }
            }
        }
    }
    for dc in [ZohoDc::Us, ZohoDc::Eu, ZohoDc::Au, ZohoDc::Jp, ZohoDc::Ca, ZohoDc::Sa, ZohoDc::Uk] {
        out.push(say("signinNoDcSecret", vec![super::signin::dc_word(dc), "x".into()]));
    }
    // Forms left empty, and the redirect checks.
    let empty = [
        Credentials::Zoho {
            dc: ZohoDc::Us,
            client_id: " ".into(),
            client_secret: String::new(),
            refresh_token: String::new(),
        },
        Credentials::Zoho {
            dc: ZohoDc::Us,
            client_id: "c".into(),
            client_secret: " ".into(),
            refresh_token: String::new(),
        },
        Credentials::Zoho {
            dc: ZohoDc::Us,
            client_id: "c".into(),
            client_secret: "s".into(),
            refresh_token: String::new(),
        },
        Credentials::Salesforce {
            login_host: "login.salesforce.com".into(),
            client_id: String::new(),
            client_secret: None,
            refresh_token: String::new(),
        },
        Credentials::Leadsquared { access_key: String::new(), secret_key: "x".into() },
        Credentials::Leadsquared { access_key: "a".into(), secret_key: String::new() },
        // A login host that is no Salesforce one (a phished host must not get the token).
        Credentials::Salesforce {
            login_host: "login.salesforce.com.attacker.example".into(),
            client_id: "c".into(),
            client_secret: None,
            refresh_token: "r".into(),
        },
    ];
    out.extend(empty.iter().filter_map(|c| c.validate().err()));
    // A copy of crmsync running under an id its sign-in apps are not registered for.
    let dist = super::distribution::Distribution {
        extension_ids: vec!["hakbalgbponhdnhgobhoocnjcnlojfie".into()],
        ..Default::default()
    };
    out.extend(dist.check_running_id("aaaabbbbccccddddeeeeffffgggghhhh").err());
    let zoho = |client_id: &str, client_secret: &str, product| OAuthStart::Zoho {
        client_id: client_id.into(),
        client_secret: client_secret.into(),
        dc_secrets: Default::default(),
        dc: None,
        pkce: false,
        product,
    };
    let sf = OAuthStart::Salesforce {
        login_host: "login.salesforce.com".into(),
        client_id: String::new(),
        client_secret: None,
        product: false,
    };
    for s in [zoho("", "", false), zoho("c", "", false), sf] {
        out.extend(s.authorize_url(URI, "st", "ch").err());
    }
    let z = zoho("c", "s", false);
    for redirect in [
        "https://abc.chromiumapp.org/?code=c&state=other",
        "https://abc.chromiumapp.org/?state=st",
        "https://abc.chromiumapp.org/?code=c&accounts-server=https%3A%2F%2Fevil.example&state=st",
    ] {
        out.extend(z.exchange(redirect, "st", URI, "v").err());
    }
    for product in [true, false] {
        out.extend(
            zoho("c", "", product)
                .exchange("https://abc.chromiumapp.org/?code=c&state=st", "st", URI, "v")
                .err(),
        );
    }
    for crm in CRMS {
        for f in [
            Failure::RateLimited { after_ms: None },
            Failure::Transient { reason: "timeout".into() },
            Failure::AuthExpired,
            Failure::ReconnectNeeded,
            Failure::PermissionDenied { reason: "no".into() },
            Failure::Rejected { reason: "bad".into() },
        ] {
            out.push(connect_failure(crm, &f));
        }
    }
    out
}

/// All the sentences a rep can read from the check, its notices and sign-in.
fn everything() -> Vec<Sentence> {
    let reports = reports();
    let mut out: Vec<Sentence> = reports
        .iter()
        .flat_map(|r| &r.lines)
        .flat_map(|l| l.msg.clone().into_iter().chain(l.fix_msg.clone()))
        .collect();
    out.extend(reports.iter().filter_map(|r| setup::notice(std::slice::from_ref(r))));
    out.extend(sign_in_outcomes());
    out
}

#[test]
fn every_setup_line_and_sign_in_outcome_reads_in_every_locale() {
    let cats: Vec<(&str, Catalog)> =
        LOCALES.iter().map(|(n, _)| (*n, Catalog::locale(n))).collect();
    let en = &cats[0].1;
    let all = everything();
    for s in &all {
        for part in s.all() {
            for (loc, c) in &cats {
                let arity =
                    c.arity(&part.key).unwrap_or_else(|| panic!("{} missing in {loc}", part.key));
                assert_eq!(arity, part.args.len(), "{} in {loc} takes {arity} arguments", part.key);
            }
        }
        if s.key == "plainText" {
            continue;
        }
        let english = s.render(&|k, a| en.get(k, a));
        assert_eq!(english, s.english());
        for (loc, c) in &cats[1..] {
            let t = s.render(&|k, a| c.get(k, a));
            assert_ne!(t, english, "{loc}: {} reads in English", s.key);
        }
    }
    // Every key these files name is one the outcomes above produce: none escapes the test.
    let produced: BTreeSet<String> =
        all.iter().flat_map(|s| s.all()).map(|s| s.key.clone()).collect();
    for (file, src) in [
        ("crm/setup.rs", include_str!("setup.rs")),
        ("crm/signin.rs", include_str!("signin.rs")),
        ("crm/connect.rs", include_str!("connect.rs")),
        ("crm/distribution.rs", include_str!("distribution.rs")),
    ] {
        for k in keys_in(src) {
            assert!(produced.contains(&k), "{file}: no test outcome says {k}");
        }
    }
    // The shell's own sentences (browser errors, a build without sign-in apps) exist too.
    for (file, src) in [
        ("web/connect.rs", include_str!("../web/connect.rs")),
        ("web/onboard.rs", include_str!("../web/onboard.rs")),
    ] {
        let keys = keys_in(src);
        assert!(!keys.is_empty(), "{file}");
        for k in keys {
            for (loc, c) in &cats {
                assert!(c.arity(&k).is_some(), "{file}: {k} missing in {loc}");
            }
        }
    }
}

/// Message keys named in a source file: string literals such as `"setupApiWorks"`.
fn keys_in(src: &str) -> BTreeSet<String> {
    let src = src.split("#[cfg(test)]").next().unwrap_or(src);
    src.split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            ["setup", "signin", "connect", "dc", "sf", "dist"].iter().any(|p| {
                s.strip_prefix(p).is_some_and(|rest| {
                    rest.starts_with(|c: char| c.is_ascii_uppercase())
                        && rest.chars().all(|c| c.is_ascii_alphanumeric())
                })
            })
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn a_report_reads_in_the_reps_language_and_keeps_english_for_diagnostics() {
    let denied = resp(403, br#"{"code":"NO_PERMISSION","message":"permission denied"}"#);
    let r = setup::report(Crm::Zoho, &[(Probe::ZohoOrg, denied)], Wants::default(), 0);
    let l = &r.lines[0];
    assert_eq!(l.text, "Zoho CRM refused API access (NO_PERMISSION: permission denied)");
    let hi = Catalog::locale("hi");
    let msg = l.msg.as_ref().map(|m| m.render(&|k, a| hi.get(k, a)));
    assert_eq!(
        msg.as_deref(),
        Some("Zoho CRM ने API एक्सेस अस्वीकार कर दिया (NO_PERMISSION: permission denied)")
    );
    // Stored and read back (IndexedDB, the options page): the messages survive.
    let back: Report = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
    let es = Catalog::locale("es");
    let e = redirect_error(Crm::Zoho, "access_denied", None, true, URI);
    assert_eq!(
        e.render(&|k, a| es.get(k, a)),
        "Elegiste no permitir crmsync en la página de Zoho CRM. Vuelve a hacer clic en Iniciar sesión y elige Aceptar."
    );
}
