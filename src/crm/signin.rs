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

/// The data centre's name for the rep.
pub fn dc_name(dc: ZohoDc) -> &'static str {
    match dc {
        ZohoDc::Us => "United States (zoho.com)",
        ZohoDc::Eu => "Europe (zoho.eu)",
        ZohoDc::In => "India (zoho.in)",
        ZohoDc::Au => "Australia (zoho.com.au)",
        ZohoDc::Jp => "Japan (zoho.jp)",
        ZohoDc::Ca => "Canada (zohocloud.ca)",
        ZohoDc::Sa => "Saudi Arabia (zoho.sa)",
        ZohoDc::Uk => "United Kingdom (zoho.uk)",
        ZohoDc::Cn => "China (zoho.com.cn)",
    }
}

/// Who can fix a problem with the app: crmsync's publisher (the product's own app) or the
/// person who created the rep's own client.
fn app_owner(product: bool, crm: Crm) -> String {
    if product {
        "crmsync's publisher".into()
    } else {
        match crm {
            Crm::Zoho => "whoever created this client in the Zoho API console".into(),
            _ => "your Salesforce admin (who created this app)".into(),
        }
    }
}

/// A refusal in the sign-in redirect (`?error=...&error_description=...`).
pub fn redirect_error(
    crm: Crm,
    error: &str,
    description: Option<&str>,
    product: bool,
    redirect_uri: &str,
) -> String {
    let desc = description.unwrap_or("").to_ascii_lowercase();
    let owner = app_owner(product, crm);
    match (crm, error) {
        // The consent page's own button: Zoho's says Accept, Salesforce's Allow.
        (_, "access_denied" | "access-denied") => format!(
            "You chose not to allow crmsync on the {} page. Click Sign in again and choose {}.",
            crm.name(),
            if crm == Crm::Zoho { "Accept" } else { "Allow" }
        ),
        (Crm::Salesforce, _)
            if desc.contains("must be installed")
                || desc.contains("blocked")
                || error.eq_ignore_ascii_case("OAUTH_APP_BLOCKED")
                || error.eq_ignore_ascii_case("OAUTH_APPROVAL_ERROR_GENERIC") =>
        {
            "Your Salesforce org does not allow crmsync yet: ask your Salesforce admin to install or approve crmsync (Setup → Connected Apps OAuth Usage → crmsync → Install, then allow your profile), or to give you the \"Approve Uninstalled Connected Apps\" permission.".into()
        }
        (Crm::Salesforce, "invalid_client_id") => format!(
            "Salesforce does not know this app's consumer key: {owner} must check it."
        ),
        (_, "redirect_uri_mismatch" | "invalid_redirect_uri") => format!(
            "The app is not registered for this extension's sign-in address {redirect_uri}: {owner} must add it as the app's redirect (callback) URL."
        ),
        (Crm::Salesforce, "inactive_user") => {
            "Your Salesforce user is inactive: ask your Salesforce admin to activate it.".into()
        }
        (Crm::Salesforce, "inactive_org") => {
            "Your Salesforce org is locked or inactive: ask your Salesforce admin.".into()
        }
        (_, "invalid_scope") => format!(
            "{} refused the permissions crmsync asks for: {owner} must allow the scopes (Salesforce: api and refresh_token).",
            crm.name()
        ),
        (Crm::Zoho, "invalid_client") => format!(
            "Zoho does not accept this app for your account's data centre: {owner} must switch that data centre on under Multi-DC in the Zoho API console."
        ),
        _ => {
            let d = description.map(|d| format!(": {d}")).unwrap_or_default();
            format!("{} refused the sign-in ({error}{d}).", crm.name())
        }
    }
}

/// A refused code exchange: the sentence for the rep, or None when the answer is no refusal.
pub fn token_error(
    crm: Crm,
    resp: &HttpResponse,
    dc: Option<ZohoDc>,
    product: bool,
    redirect_uri: &str,
) -> Option<String> {
    if resp.status == 0 || resp.status >= 500 {
        return Some(format!(
            "{} could not be reached to finish the sign-in (check the connection) — nothing was changed; sign in again.",
            crm.name()
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&resp.body).ok()?;
    if v.get("access_token").is_some() {
        return None;
    }
    let code = v.get("error").and_then(|e| e.as_str()).unwrap_or("").to_string();
    let desc = v.get("error_description").and_then(|e| e.as_str()).map(str::to_string);
    let owner = app_owner(product, crm);
    let dc_text = dc.map(dc_name).unwrap_or("your");
    Some(match (crm, code.as_str()) {
        (Crm::Zoho, "invalid_client") => format!(
            "Zoho refused crmsync's app in the {dc_text} data centre: {owner} must enable that data centre under Multi-DC in the Zoho API console (or check the client id). Until then a Zoho admin can connect under Advanced with a client of their own."
        ),
        (Crm::Zoho, "invalid_client_secret") => format!(
            "The client secret for the {dc_text} data centre is wrong: {owner} must copy that data centre's secret from the Zoho API console (each data centre has its own unless \"same credentials for all data centres\" is on)."
        ),
        (Crm::Zoho, "invalid_code") => "The sign-in code expired or was already used (Zoho's codes last 2 minutes). Click Sign in again.".into(),
        (Crm::Zoho, "invalid_redirect_uri") | (Crm::Salesforce, "redirect_uri_mismatch") => format!(
            "The app is not registered for this extension's sign-in address {redirect_uri}: {owner} must add it."
        ),
        (Crm::Zoho, "Access Denied") => "Zoho refused: too many sign-in attempts in a few minutes. Wait 10 minutes, then sign in again.".into(),
        (Crm::Salesforce, "invalid_client") => format!(
            "Salesforce wants this app's consumer secret to finish the sign-in: {owner} must add it (or turn off \"Require Secret for Web Server Flow\" for the app)."
        ),
        (Crm::Salesforce, "invalid_client_id") => format!(
            "Salesforce does not know this app's consumer key: {owner} must check it."
        ),
        (Crm::Salesforce, "invalid_grant")
            if desc.as_deref().is_some_and(|d| d.to_ascii_lowercase().contains("ip restricted")) =>
        {
            "Your Salesforce org allows sign-in only from certain networks (login IP ranges): connect from an allowed network, or ask your Salesforce admin.".into()
        }
        (Crm::Salesforce, "invalid_grant") => "The sign-in code expired or was already used. Click Sign in again.".into(),
        (Crm::Salesforce, "inactive_user" | "inactive_org") => {
            "Your Salesforce user or org is inactive: ask your Salesforce admin.".into()
        }
        _ => {
            let d = desc.map(|d| format!(": {d}")).unwrap_or_default();
            if code.is_empty() {
                format!("{} answered the sign-in without a token (HTTP {}).", crm.name(), resp.status)
            } else {
                format!("{} refused the sign-in ({code}{d}).", crm.name())
            }
        }
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
        );
        assert!(
            blocked.contains("ask your Salesforce admin to install or approve crmsync"),
            "{blocked}"
        );
        assert!(redirect_error(Crm::Salesforce, "OAUTH_APP_BLOCKED", None, true, uri)
            .contains("install or approve"));
        // Before: "choose Allow" for Zoho too, whose consent page says Accept.
        assert!(
            redirect_error(Crm::Zoho, "access_denied", None, true, uri).contains("choose Accept")
        );
        assert!(redirect_error(Crm::Salesforce, "access_denied", None, true, uri)
            .contains("choose Allow"));
        let mismatch = redirect_error(Crm::Salesforce, "redirect_uri_mismatch", None, true, uri);
        assert!(mismatch.contains(uri) && mismatch.contains("crmsync's publisher"), "{mismatch}");
        let own = redirect_error(Crm::Zoho, "invalid_client", None, false, uri);
        assert!(own.contains("Zoho API console") && own.contains("Multi-DC"), "{own}");
        assert!(redirect_error(Crm::Zoho, "weird", Some("x"), true, uri).contains("(weird: x)"));
    }

    #[test]
    fn token_refusals_say_what_and_who() {
        let uri = "https://abc.chromiumapp.org/";
        let z = |body: &str| {
            token_error(Crm::Zoho, &resp(200, body.as_bytes()), Some(ZohoDc::Eu), true, uri)
                .unwrap()
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
            token_error(Crm::Salesforce, &resp(status, body.as_bytes()), None, false, uri).unwrap()
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
