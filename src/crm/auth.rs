//! Connection credentials and the token state machine, sans-IO.
//!
//! Rules: refresh proactively when the access token has less than `REFRESH_MARGIN_MS` left;
//! on a 401 refresh once and retry; a second 401 right after a refresh is not refreshed again
//! (no loops); a refresh answered with a revoked grant (`invalid_code` for Zoho,
//! `invalid_grant` for Salesforce) moves the connection to `ReconnectNeeded`.
use super::http::{HttpRequest, HttpResponse, Method};
use super::{form, json, str_of, Failure};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::Digest;

/// Refresh this long before expiry, so a batch does not start with a dying token.
pub const REFRESH_MARGIN_MS: u64 = 5 * 60_000;
/// Salesforce sends no expiry; its default session timeout is 2 h. Assume less.
pub const SALESFORCE_ASSUMED_TTL_MS: u64 = 60 * 60_000;

/// Zoho data centres: accounts server, API domain, and web UI host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ZohoDc {
    Us,
    Eu,
    In,
    Au,
    Jp,
    Ca,
    Sa,
    Uk,
    Cn,
}

impl ZohoDc {
    /// The data centre's name in the distribution config (`us`, `eu`, `cn`, …).
    pub fn code(self) -> String {
        format!("{self:?}").to_ascii_lowercase()
    }

    pub const ALL: [ZohoDc; 9] = [
        ZohoDc::Us,
        ZohoDc::Eu,
        ZohoDc::In,
        ZohoDc::Au,
        ZohoDc::Jp,
        ZohoDc::Ca,
        ZohoDc::Sa,
        ZohoDc::Uk,
        ZohoDc::Cn,
    ];

    pub fn accounts(self) -> &'static str {
        match self {
            ZohoDc::Us => "https://accounts.zoho.com",
            ZohoDc::Eu => "https://accounts.zoho.eu",
            ZohoDc::In => "https://accounts.zoho.in",
            ZohoDc::Au => "https://accounts.zoho.com.au",
            ZohoDc::Jp => "https://accounts.zoho.jp",
            ZohoDc::Ca => "https://accounts.zohocloud.ca",
            ZohoDc::Sa => "https://accounts.zoho.sa",
            ZohoDc::Uk => "https://accounts.zoho.uk",
            ZohoDc::Cn => "https://accounts.zoho.com.cn",
        }
    }

    pub fn api_domain(self) -> &'static str {
        match self {
            ZohoDc::Us => "https://www.zohoapis.com",
            ZohoDc::Eu => "https://www.zohoapis.eu",
            ZohoDc::In => "https://www.zohoapis.in",
            ZohoDc::Au => "https://www.zohoapis.com.au",
            ZohoDc::Jp => "https://www.zohoapis.jp",
            ZohoDc::Ca => "https://www.zohoapis.ca",
            ZohoDc::Sa => "https://www.zohoapis.sa",
            ZohoDc::Uk => "https://www.zohoapis.uk",
            ZohoDc::Cn => "https://www.zohoapis.com.cn",
        }
    }

    /// The CRM web UI host: the accounts host with `accounts.` → `crm.` (Canada: zohocloud.ca).
    pub fn web(self) -> String {
        self.accounts().replacen("https://accounts.", "https://crm.", 1)
    }

    /// The DC of an `accounts-server` value from the OAuth redirect; unknown hosts are refused
    /// so a tampered redirect cannot send the client secret elsewhere.
    pub fn from_accounts_server(url: &str) -> Option<ZohoDc> {
        let u = url.trim().trim_end_matches('/').to_ascii_lowercase();
        ZohoDc::ALL.into_iter().find(|dc| dc.accounts() == u)
    }

    /// The DC whose API domain this is (from a token response's `api_domain`).
    pub fn from_api_domain(url: &str) -> Option<ZohoDc> {
        let u = url.trim().trim_end_matches('/').to_ascii_lowercase();
        ZohoDc::ALL.into_iter().find(|dc| dc.api_domain() == u)
    }
}

/// What the connection remembers. Lives only in the service worker's storage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Epoch ms after which the access token is dead.
    pub expires_at_ms: u64,
    /// Zoho `api_domain` or Salesforce `instance_url`.
    pub api_base: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TokenState {
    Connected { tokens: Tokens },
    ReconnectNeeded { reason: String },
}

/// What to do before a call, or after a 401.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthStep {
    /// Call with this access token.
    Use(String),
    /// Refresh first (perform this request, then `absorb_refresh`).
    Refresh,
    /// Stop: the user must reconnect, or the 401 survived a fresh token.
    Fail(Failure),
}

/// The per-connection state machine. `refreshed_once` guards against 401 → refresh loops
/// within one batch; the caller resets it with `batch_start`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub state: TokenState,
    #[serde(default)]
    pub refreshed_once: bool,
}

impl Session {
    pub fn new(tokens: Tokens) -> Self {
        Session { state: TokenState::Connected { tokens }, refreshed_once: false }
    }

    pub fn batch_start(&mut self) {
        self.refreshed_once = false;
    }

    pub fn before_call(&self, now_ms: u64) -> AuthStep {
        match &self.state {
            TokenState::ReconnectNeeded { .. } => AuthStep::Fail(Failure::ReconnectNeeded),
            TokenState::Connected { tokens } => {
                if tokens.expires_at_ms <= now_ms + REFRESH_MARGIN_MS
                    && tokens.refresh_token.is_some()
                {
                    AuthStep::Refresh
                } else {
                    AuthStep::Use(tokens.access_token.clone())
                }
            }
        }
    }

    /// A call came back 401: refresh once; never twice in a batch.
    pub fn on_unauthorized(&mut self) -> AuthStep {
        match &self.state {
            TokenState::ReconnectNeeded { .. } => AuthStep::Fail(Failure::ReconnectNeeded),
            TokenState::Connected { tokens } if tokens.refresh_token.is_none() => {
                self.state = TokenState::ReconnectNeeded {
                    reason: "the access token expired and there is no refresh token".into(),
                };
                AuthStep::Fail(Failure::ReconnectNeeded)
            }
            TokenState::Connected { .. } if self.refreshed_once => {
                AuthStep::Fail(Failure::AuthExpired)
            }
            TokenState::Connected { .. } => AuthStep::Refresh,
        }
    }

    pub fn refresh_token(&self) -> Option<&str> {
        match &self.state {
            TokenState::Connected { tokens } => tokens.refresh_token.as_deref(),
            TokenState::ReconnectNeeded { .. } => None,
        }
    }

    /// Fold a refresh answer in. A revoked grant ends the connection; other failures are returned.
    pub fn absorb_refresh(&mut self, result: Result<Tokens, Failure>) -> Result<(), Failure> {
        self.refreshed_once = true;
        match result {
            Ok(mut fresh) => {
                if let TokenState::Connected { tokens } = &self.state {
                    // Neither CRM normally returns a new refresh token: keep the original.
                    if fresh.refresh_token.is_none() {
                        fresh.refresh_token = tokens.refresh_token.clone();
                    }
                }
                self.state = TokenState::Connected { tokens: fresh };
                Ok(())
            }
            Err(Failure::ReconnectNeeded) => {
                self.state = TokenState::ReconnectNeeded {
                    reason: "the CRM revoked this connection's grant".into(),
                };
                Err(Failure::ReconnectNeeded)
            }
            Err(other) => Err(other),
        }
    }
}

/// PKCE (RFC 7636) S256 pair from caller-supplied random bytes (the shell owns randomness).
pub fn pkce(random: &[u8; 32]) -> (String, String) {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let verifier = b64.encode(random);
    let challenge = b64.encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Read `name` from a redirect URL's query string (e.g. `code`, `accounts-server`, `state`).
pub fn redirect_param(redirect_url: &str, name: &str) -> Option<String> {
    let query = redirect_url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

pub(crate) fn token_request(url: String, pairs: &[(&str, &str)]) -> HttpRequest {
    HttpRequest {
        method: Method::Post,
        url,
        headers: vec![("Content-Type".into(), "application/x-www-form-urlencoded".into())],
        body: Some(form(pairs)),
    }
}

/// Parse an OAuth token answer (both CRMs). `revoked` lists the error codes that mean the
/// grant is gone. Zoho answers errors with HTTP 200, so the body decides, not the status.
pub fn parse_token(
    resp: &HttpResponse,
    now_ms: u64,
    revoked: &[&str],
    default_ttl_ms: u64,
) -> Result<Tokens, Failure> {
    if let Some(f) = super::transport_failure(resp) {
        return Err(f);
    }
    let v = json(resp)?;
    if let Some(access) = str_of(&v, "access_token") {
        let ttl_ms = match (
            v.get("expires_in_sec").and_then(|x| x.as_u64()),
            v.get("expires_in").and_then(|x| x.as_u64()),
        ) {
            // Legacy Zoho shape: with `expires_in_sec` present, `expires_in` is milliseconds.
            (Some(sec), _) => sec.saturating_mul(1000),
            (None, Some(sec)) => sec.saturating_mul(1000),
            (None, None) => default_ttl_ms,
        };
        let base =
            str_of(&v, "api_domain").or_else(|| str_of(&v, "instance_url")).unwrap_or_default();
        return Ok(Tokens {
            access_token: access,
            refresh_token: str_of(&v, "refresh_token"),
            expires_at_ms: now_ms.saturating_add(ttl_ms),
            api_base: base.trim_end_matches('/').to_string(),
        });
    }
    let code = str_of(&v, "error").unwrap_or_else(|| "no access_token in the answer".into());
    if revoked.contains(&code.as_str()) {
        return Err(Failure::ReconnectNeeded);
    }
    let detail = str_of(&v, "error_description").map(|d| format!(": {d}")).unwrap_or_default();
    if code == "Access Denied" {
        // Zoho's token-endpoint throttle (10 requests / 10 min).
        return Err(Failure::RateLimited { after_ms: Some(60_000) });
    }
    Err(Failure::PermissionDenied { reason: format!("token request refused ({code}{detail})") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_expiry_values_saturate_instead_of_overflowing() {
        // A token answer with an absurd expires_in overflowed `sec * 1000` (a panic with
        // overflow checks, a wrapped expiry in the past without).
        let r = crate::crm::resp(200, br#"{"access_token":"a","expires_in":18446744073709551615}"#);
        let t = parse_token(&r, 1_000, &[], 3_600_000).unwrap();
        assert_eq!(t.expires_at_ms, u64::MAX);
        let r =
            crate::crm::resp(200, br#"{"access_token":"a","expires_in_sec":18446744073709551}"#);
        assert!(parse_token(&r, 1_000, &[], 3_600_000).unwrap().expires_at_ms >= 1_000);
    }
    use crate::crm::{golden, resp};

    fn toks(exp: u64, refresh: bool) -> Tokens {
        Tokens {
            access_token: "at".into(),
            refresh_token: refresh.then(|| "rt".into()),
            expires_at_ms: exp,
            api_base: "b".into(),
        }
    }

    #[test]
    fn pkce_matches_rfc7636_appendix_b() {
        let random: [u8; 32] = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let (v, c) = pkce(&random);
        assert_eq!(v, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn zoho_dcs_from_redirect_and_api_domain() {
        let url = "https://ext.chromiumapp.org/?code=1000.abc&location=eu&accounts-server=https%3A%2F%2Faccounts.zoho.eu";
        assert_eq!(redirect_param(url, "code").as_deref(), Some("1000.abc"));
        let server = redirect_param(url, "accounts-server").unwrap();
        assert_eq!(ZohoDc::from_accounts_server(&server), Some(ZohoDc::Eu));
        assert_eq!(ZohoDc::from_accounts_server("https://accounts.evil.example"), None);
        assert_eq!(ZohoDc::Ca.accounts(), "https://accounts.zohocloud.ca");
        assert_eq!(ZohoDc::Ca.web(), "https://crm.zohocloud.ca");
        assert_eq!(ZohoDc::Au.web(), "https://crm.zoho.com.au");
        assert_eq!(ZohoDc::from_api_domain("https://www.zohoapis.com.cn"), Some(ZohoDc::Cn));
    }

    #[test]
    fn token_shapes_seconds_and_legacy_milliseconds() {
        let t =
            parse_token(&resp(200, &golden("zoho/token-200.json")), 1_000, &["invalid_code"], 0)
                .unwrap();
        assert_eq!((t.access_token.as_str(), t.expires_at_ms), ("1000.xxx", 1_000 + 3_600_000));
        assert_eq!(t.api_base, "https://www.zohoapis.com");
        assert_eq!(t.refresh_token.as_deref(), Some("1000.yyy"));
        let l = parse_token(
            &resp(200, &golden("zoho/token-200-legacy-ms.json")),
            0,
            &["invalid_code"],
            0,
        )
        .unwrap();
        assert_eq!(l.expires_at_ms, 3_600_000, "expires_in is ms when expires_in_sec is present");
        assert_eq!(l.api_base, "https://www.zohoapis.eu");
        let sf = parse_token(
            &resp(200, &golden("salesforce/token-200.json")),
            5,
            &["invalid_grant"],
            SALESFORCE_ASSUMED_TTL_MS,
        )
        .unwrap();
        assert_eq!(sf.api_base, "https://yourorg.my.salesforce.com");
        assert_eq!(sf.expires_at_ms, 5 + SALESFORCE_ASSUMED_TTL_MS);
    }

    #[test]
    fn revoked_grants_mean_reconnect() {
        // Zoho sends the error with HTTP 200.
        let z = parse_token(
            &resp(200, &golden("zoho/token-error-invalid-code.json")),
            0,
            &["invalid_code"],
            0,
        );
        assert_eq!(z, Err(Failure::ReconnectNeeded));
        let s = parse_token(
            &resp(400, &golden("salesforce/token-400-invalid-grant.json")),
            0,
            &["invalid_grant"],
            0,
        );
        assert_eq!(s, Err(Failure::ReconnectNeeded));
        let c = parse_token(&resp(200, br#"{"error":"invalid_client"}"#), 0, &["invalid_code"], 0);
        assert!(matches!(c, Err(Failure::PermissionDenied { .. })));
        let throttle = br#"{"error_description":"You have made too many requests continuously. Please try again after some time.","error":"Access Denied"}"#;
        assert!(matches!(
            parse_token(&resp(200, throttle), 0, &[], 0),
            Err(Failure::RateLimited { .. })
        ));
    }

    #[test]
    fn refreshes_proactively_once_per_401_and_never_loops() {
        let mut s = Session::new(toks(10 * 60_000, true));
        assert_eq!(s.before_call(0), AuthStep::Use("at".into()));
        assert_eq!(s.before_call(6 * 60_000), AuthStep::Refresh, "inside the margin");
        s.batch_start();
        assert_eq!(s.on_unauthorized(), AuthStep::Refresh);
        s.absorb_refresh(Ok(Tokens {
            access_token: "at2".into(),
            refresh_token: None,
            expires_at_ms: 99 * 60_000,
            api_base: "b".into(),
        }))
        .unwrap();
        assert_eq!(s.refresh_token(), Some("rt"), "the original refresh token is kept");
        assert_eq!(s.before_call(0), AuthStep::Use("at2".into()));
        assert_eq!(
            s.on_unauthorized(),
            AuthStep::Fail(Failure::AuthExpired),
            "second 401 in a batch: no loop"
        );
        s.batch_start();
        assert_eq!(s.on_unauthorized(), AuthStep::Refresh);
        assert_eq!(s.absorb_refresh(Err(Failure::ReconnectNeeded)), Err(Failure::ReconnectNeeded));
        assert_eq!(s.before_call(0), AuthStep::Fail(Failure::ReconnectNeeded));
        let mut no_rt = Session::new(toks(0, false));
        assert_eq!(no_rt.on_unauthorized(), AuthStep::Fail(Failure::ReconnectNeeded));
    }
}
