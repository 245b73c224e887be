//! Sign-in, pure: where a Zoho sign-in starts (the rep's data centre, guessed from the
//! browser's time zone and language), and every refusal turned into one sentence that says
//! what is wrong and who can fix it.
//!
//! Sources for the codes: Zoho's OAuth pages (token errors answer HTTP 200 with
//! `{"error":...}`; `invalid_client` also means "this client is not enabled for that data
//! centre", https://www.zoho.com/accounts/protocol/oauth/multi-dc.html); Salesforce's
//! "OAuth 2.0 Authorization Errors" (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_flow_errors.htm)
//! and "Prepare for Connected App Usage Restrictions Change" (help article 005132365: since
//! September 2025 an org blocks connected apps an admin has not installed; the redirect then
//! carries `error=invalid_client&error_description=app must be installed into org`, the page
//! shows OAUTH_APPROVAL_ERROR_GENERIC).
use super::auth::ZohoDc;
use super::http::HttpResponse;
use crate::core::i18n::{say, word, Part, Sentence};
use crate::core::model::Crm;

/// The data centre a rep is most likely on, from the browser's IANA time zone and language.
/// Only a starting point: the redirect's `accounts-server` decides where the code goes.
pub fn guess_dc(time_zone: &str, language: &str) -> ZohoDc {
    let tz = time_zone.trim();
    let lang = language.trim().replace('_', "-").to_ascii_lowercase();
    let region = lang.split('-').nth(1).unwrap_or("");
    const CHINA: &[&str] =
        &["Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "Asia/Urumqi", "PRC"];
    const CANADA: &[&str] = &[
        "America/Toronto",
        "America/Vancouver",
        "America/Edmonton",
        "America/Winnipeg",
        "America/Halifax",
        "America/St_Johns",
        "America/Regina",
        "America/Montreal",
        "America/Moncton",
        "America/Whitehorse",
        "America/Yellowknife",
        "America/Iqaluit",
    ];
    if CHINA.contains(&tz) || lang == "zh-cn" || lang == "zh-hans-cn" {
        ZohoDc::Cn
    } else if tz == "Asia/Kolkata" || tz == "Asia/Calcutta" || region == "in" {
        ZohoDc::In
    } else if tz.starts_with("Australia/") || region == "au" {
        ZohoDc::Au
    } else if tz == "Asia/Tokyo" || lang.starts_with("ja") {
        ZohoDc::Jp
    } else if CANADA.contains(&tz) || region == "ca" {
        ZohoDc::Ca
    } else if tz == "Asia/Riyadh" || region == "sa" {
        ZohoDc::Sa
    } else if tz == "Europe/London" || region == "gb" {
        ZohoDc::Uk
    } else if tz.starts_with("Europe/") {
        ZohoDc::Eu
    } else {
        ZohoDc::Us
    }
}

/// The data centre's name as a message (a country's name reads in the rep's language).
pub fn dc_word(dc: ZohoDc) -> Part {
    word(dc_key(dc))
}

/// The message key of the data centre's name ("Europe (zoho.eu)").
pub fn dc_key(dc: ZohoDc) -> &'static str {
    match dc {
        ZohoDc::Us => "dcUs",
        ZohoDc::Eu => "dcEu",
        ZohoDc::In => "dcIn",
        ZohoDc::Au => "dcAu",
        ZohoDc::Jp => "dcJp",
        ZohoDc::Ca => "dcCa",
        ZohoDc::Sa => "dcSa",
        ZohoDc::Uk => "dcUk",
        ZohoDc::Cn => "dcCn",
    }
}

/// Who can fix a problem with the app: crmsync's publisher (the product's own app) or the
/// person who created the rep's own client.
pub fn app_owner(product: bool, crm: Crm) -> Part {
    word(if product {
        "signinOwnerPublisher"
    } else {
        match crm {
            Crm::Zoho => "signinOwnerZohoClient",
            _ => "signinOwnerSfApp",
        }
    })
}

/// "(code: description)" as the CRM sent it.
fn code_desc(code: &str, description: Option<&str>) -> Part {
    let d = description.map(|d| format!(": {d}")).unwrap_or_default();
    format!("{code}{d}").into()
}

/// A refusal in the sign-in redirect (`?error=...&error_description=...`).
pub fn redirect_error(
    crm: Crm,
    error: &str,
    description: Option<&str>,
    product: bool,
    redirect_uri: &str,
) -> Sentence {
    let desc = description.unwrap_or("").to_ascii_lowercase();
    let owner = app_owner(product, crm);
    let name = || Part::from(crm.name());
    match (crm, error) {
        // The consent page's own button: Zoho's says Accept, Salesforce's Allow.
        (_, "access_denied" | "access-denied") => say(
            "signinDenied",
            vec![
                name(),
                word(if crm == Crm::Zoho { "signinButtonAccept" } else { "signinButtonAllow" }),
            ],
        ),
        (Crm::Salesforce, _)
            if desc.contains("must be installed")
                || desc.contains("blocked")
                || error.eq_ignore_ascii_case("OAUTH_APP_BLOCKED")
                || error.eq_ignore_ascii_case("OAUTH_APPROVAL_ERROR_GENERIC") =>
        {
            say("signinSfNotInstalled", vec![])
        }
        (Crm::Salesforce, "invalid_client_id") => say("signinUnknownKey", vec![owner]),
        (_, "redirect_uri_mismatch" | "invalid_redirect_uri") => {
            say("signinRedirectMismatch", vec![redirect_uri.into(), owner])
        }
        (Crm::Salesforce, "inactive_user") => say("signinSfInactiveUser", vec![]),
        (Crm::Salesforce, "inactive_org") => say("signinSfInactiveOrg", vec![]),
        (_, "invalid_scope") => say("signinScope", vec![name(), owner]),
        (Crm::Zoho, "invalid_client") => say("signinZohoDcRedirect", vec![owner]),
        _ => say("signinRefused", vec![name(), code_desc(error, description)]),
    }
}

/// A refused code exchange: the sentence for the rep, or None when the answer is no refusal.
pub fn token_error(
    crm: Crm,
    resp: &HttpResponse,
    dc: Option<ZohoDc>,
    product: bool,
    redirect_uri: &str,
) -> Option<Sentence> {
    let name = || Part::from(crm.name());
    if resp.status == 0 || resp.status >= 500 {
        return Some(say("signinUnreachable", vec![name()]));
    }
    let v: serde_json::Value = serde_json::from_slice(&resp.body).ok()?;
    if v.get("access_token").is_some() {
        return None;
    }
    let code = v.get("error").and_then(|e| e.as_str()).unwrap_or("").to_string();
    let desc = v.get("error_description").and_then(|e| e.as_str()).map(str::to_string);
    let owner = app_owner(product, crm);
    Some(match (crm, code.as_str()) {
        (Crm::Zoho, "invalid_client") => match dc {
            Some(dc) => say("signinZohoDc", vec![dc_word(dc), owner]),
            None => say("signinZohoDcUnknown", vec![owner]),
        },
        (Crm::Zoho, "invalid_client_secret") => match dc {
            Some(dc) => say("signinZohoSecret", vec![dc_word(dc), owner]),
            None => say("signinZohoSecretUnknown", vec![owner]),
        },
        (Crm::Zoho, "invalid_code") => say("signinCodeExpiredZoho", vec![]),
        (Crm::Zoho, "invalid_redirect_uri") | (Crm::Salesforce, "redirect_uri_mismatch") => {
            say("signinRedirectMismatchShort", vec![redirect_uri.into(), owner])
        }
        (Crm::Zoho, "Access Denied") => say("signinZohoTooMany", vec![]),
        (Crm::Salesforce, "invalid_client") => say("signinSfSecret", vec![owner]),
        (Crm::Salesforce, "invalid_client_id") => say("signinUnknownKey", vec![owner]),
        (Crm::Salesforce, "invalid_grant")
            if desc
                .as_deref()
                .is_some_and(|d| d.to_ascii_lowercase().contains("ip restricted")) =>
        {
            say("signinSfIpRestricted", vec![])
        }
        (Crm::Salesforce, "invalid_grant") => say("signinCodeExpired", vec![]),
        (Crm::Salesforce, "inactive_user" | "inactive_org") => say("signinSfInactive", vec![]),
        _ if code.is_empty() => say("signinNoToken", vec![name(), resp.status.to_string().into()]),
        _ => say("signinRefused", vec![name(), code_desc(&code, desc.as_deref())]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::resp;

    #[test]
    fn data_centre_guesses_from_time_zone_and_language() {
        assert_eq!(guess_dc("Asia/Shanghai", "en-US"), ZohoDc::Cn);
        assert_eq!(guess_dc("UTC", "zh-CN"), ZohoDc::Cn);
        assert_eq!(guess_dc("Asia/Kolkata", "en-US"), ZohoDc::In);
        assert_eq!(guess_dc("UTC", "hi-IN"), ZohoDc::In);
        assert_eq!(guess_dc("Australia/Sydney", "en-AU"), ZohoDc::Au);
        assert_eq!(guess_dc("Asia/Tokyo", "ja"), ZohoDc::Jp);
        assert_eq!(guess_dc("America/Toronto", "en-CA"), ZohoDc::Ca);
        assert_eq!(guess_dc("Asia/Riyadh", "ar-SA"), ZohoDc::Sa);
        assert_eq!(guess_dc("Europe/London", "en-GB"), ZohoDc::Uk);
        assert_eq!(guess_dc("Europe/Berlin", "de-DE"), ZohoDc::Eu);
        assert_eq!(guess_dc("America/Sao_Paulo", "pt-BR"), ZohoDc::Us);
        assert_eq!(guess_dc("", ""), ZohoDc::Us);
    }

    #[test]
    fn redirect_refusals_say_what_and_who() {
        let uri = "https://abc.chromiumapp.org/";
        // The redirect Salesforce sends when the org has not installed the app (help 005132365).
        let blocked = redirect_error(
            Crm::Salesforce,
            "invalid_client",
            Some("app must be installed into org"),
            true,
            uri,
        )
        .english();
        assert!(
            blocked.contains("ask your Salesforce admin to install or approve crmsync"),
            "{blocked}"
        );
        assert!(redirect_error(Crm::Salesforce, "OAUTH_APP_BLOCKED", None, true, uri)
            .english()
            .contains("install or approve"));
        // Before: "choose Allow" for Zoho too, whose consent page says Accept.
        assert!(redirect_error(Crm::Zoho, "access_denied", None, true, uri)
            .english()
            .contains("choose Accept"));
        assert!(redirect_error(Crm::Salesforce, "access_denied", None, true, uri)
            .english()
            .contains("choose Allow"));
        let mismatch =
            redirect_error(Crm::Salesforce, "redirect_uri_mismatch", None, true, uri).english();
        assert!(mismatch.contains(uri) && mismatch.contains("crmsync's publisher"), "{mismatch}");
        let own = redirect_error(Crm::Zoho, "invalid_client", None, false, uri).english();
        assert!(own.contains("Zoho API console") && own.contains("Multi-DC"), "{own}");
        assert!(redirect_error(Crm::Zoho, "weird", Some("x"), true, uri)
            .english()
            .contains("(weird: x)"));
    }

    #[test]
    fn token_refusals_say_what_and_who() {
        let uri = "https://abc.chromiumapp.org/";
        let z = |body: &str| {
            token_error(Crm::Zoho, &resp(200, body.as_bytes()), Some(ZohoDc::Eu), true, uri)
                .unwrap()
                .english()
        };
        let c = z(r#"{"error":"invalid_client"}"#);
        assert!(
            c.contains("Europe (zoho.eu)") && c.contains("Multi-DC") && c.contains("publisher"),
            "{c}"
        );
        assert!(z(r#"{"error":"invalid_code"}"#).contains("2 minutes"));
        assert!(z(r#"{"error":"invalid_client_secret"}"#).contains("secret"));
        assert!(z(r#"{"error_description":"You have made too many requests continuously. Please try again after some time.","error":"Access Denied"}"#).contains("Wait"));
        assert!(token_error(
            Crm::Zoho,
            &resp(200, br#"{"access_token":"a","api_domain":"https://www.zohoapis.eu"}"#),
            None,
            true,
            uri
        )
        .is_none());
        let sf = |status: u16, body: &str| {
            token_error(Crm::Salesforce, &resp(status, body.as_bytes()), None, false, uri)
                .unwrap()
                .english()
        };
        assert!(sf(
            400,
            r#"{"error":"invalid_client","error_description":"invalid client credentials"}"#
        )
        .contains("consumer secret"));
        assert!(sf(400, r#"{"error":"invalid_grant","error_description":"ip restricted"}"#)
            .contains("IP ranges"));
        assert!(sf(
            400,
            r#"{"error":"invalid_grant","error_description":"expired authorization code"}"#
        )
        .contains("expired"));
        assert!(sf(503, "").contains("could not be reached"));
    }
}
