//! The paste-credentials connect path, pure: what the user pasted, the one call that proves
//! it (a token refresh, or LeadSquared region discovery), and the stored connection.
//! The stored `Connection` holds secrets: only the service worker reads or writes it.
use super::auth::{Session, Tokens, ZohoDc};
pub use super::credentials::{ChatObjectKnown, Connection, Credentials, CHAT_OBJECT_ABSENT_TTL_MS};
use super::http::{HttpRequest, HttpResponse};
use super::{leadsquared, salesforce, zoho, Connector, Failure};
use crate::core::i18n::{say, word, Sentence};
use crate::core::model::Crm;
use serde::{Deserialize, Serialize};

/// Why connecting failed, for the rep: the CRM's own reason stays as it sent it.
pub fn connect_failure(crm: Crm, f: &Failure) -> Sentence {
    let name = crm.name().into();
    match f {
        Failure::RateLimited { .. } => say("connectRateLimited", vec![name]),
        Failure::Transient { reason } => {
            say("connectUnreachable", vec![name, reason.as_str().into()])
        }
        Failure::AuthExpired | Failure::ReconnectNeeded => say("connectRefused", vec![name]),
        Failure::PermissionDenied { reason } | Failure::Rejected { reason } => {
            say("connectRefusedWhy", vec![name, reason.as_str().into()])
        }
    }
}

/// What the rep typed is not a Salesforce login host (the page names the three kinds).
fn not_a_login_host(typed: &str) -> Sentence {
    say("sfLoginHostInvalid", vec![typed.trim().into()])
}

fn sf_host(h: &str) -> salesforce::LoginHost {
    match h.trim().trim_start_matches("https://").trim_end_matches('/') {
        "login.salesforce.com" | "" => salesforce::LoginHost::Production,
        "test.salesforce.com" => salesforce::LoginHost::Sandbox,
        other => salesforce::LoginHost::MyDomain(other.to_string()),
    }
}

impl Credentials {
    /// Refuse obviously wrong pastes before any call.
    pub fn validate(&self) -> Result<(), Sentence> {
        let empty = |s: &str, what: &str| {
            if s.trim().is_empty() {
                Err(say("connectEmpty", vec![word(what)]))
            } else {
                Ok(())
            }
        };
        match self {
            Credentials::Zoho { client_id, client_secret, refresh_token, .. } => {
                empty(client_id, "connectWordClientId")?;
                empty(client_secret, "connectWordClientSecret")?;
                empty(refresh_token, "connectWordRefreshToken")
            }
            Credentials::Salesforce { login_host, client_id, refresh_token, .. } => {
                super::hosts::salesforce_login_host(login_host)
                    .map_err(|_| not_a_login_host(login_host))?;
                empty(client_id, "connectWordConsumerKey")?;
                empty(refresh_token, "connectWordRefreshToken")
            }
            Credentials::Leadsquared { access_key, secret_key } => {
                empty(access_key, "connectWordAccessKey")?;
                empty(secret_key, "connectWordSecretKey")
            }
        }
    }

    /// The refresh (OAuth) or discovery (LeadSquared) call.
    pub fn refresh_request(&self) -> HttpRequest {
        match self {
            Credentials::Zoho { dc, client_id, client_secret, refresh_token } => {
                zoho::refresh(*dc, client_id, client_secret, refresh_token)
            }
            Credentials::Salesforce { login_host, client_id, client_secret, refresh_token } => {
                salesforce::refresh(
                    &sf_host(login_host),
                    client_id,
                    client_secret.as_deref(),
                    refresh_token,
                )
            }
            Credentials::Leadsquared { access_key, secret_key } => {
                leadsquared::discovery_request(access_key, secret_key)
            }
        }
    }
}

impl Connection {
    /// Build the connection from the answer to `refresh_request`.
    pub fn establish(
        credentials: Credentials,
        resp: &HttpResponse,
        now_ms: u64,
    ) -> Result<Connection, Failure> {
        match &credentials {
            Credentials::Zoho { refresh_token, .. }
            | Credentials::Salesforce { refresh_token, .. } => {
                let mut t: Tokens = super::registry::checked_tokens(
                    credentials.crm(),
                    if credentials.crm() == Crm::Zoho {
                        zoho::parse_token(resp, now_ms)?
                    } else {
                        salesforce::parse_token(resp, now_ms)?
                    },
                )?;
                if t.refresh_token.is_none() {
                    t.refresh_token = Some(refresh_token.clone());
                }
                if t.api_base.is_empty() {
                    return Err(Failure::Rejected {
                        reason: "the token answer named no API host".into(),
                    });
                }
                Ok(Connection::new(credentials, Some(Session::new(t)), None))
            }
            Credentials::Leadsquared { .. } => {
                let (api, app) = leadsquared::parse_discovery(resp)?;
                let checked = |h: &str| {
                    super::hosts::leadsquared_host(h).map_err(|reason| Failure::Rejected { reason })
                };
                let hosts = (checked(&api)?, checked(&app)?);
                Ok(Connection::new(credentials, None, Some(hosts)))
            }
        }
    }

    /// Fold a later refresh answer in (the session's state machine decides).
    pub fn absorb_refresh(&mut self, resp: &HttpResponse, now_ms: u64) -> Result<(), Failure> {
        let parsed = match self.credentials.crm() {
            Crm::Zoho => zoho::parse_token(resp, now_ms),
            Crm::Salesforce => salesforce::parse_token(resp, now_ms),
            Crm::Leadsquared => return Ok(()),
        }
        .and_then(|t| super::registry::checked_tokens(self.credentials.crm(), t));
        match &mut self.session {
            Some(s) => s.absorb_refresh(parsed),
            None => Err(Failure::ReconnectNeeded),
        }
    }

    /// The connection as the sync engine's backup writer (same token rules as `connector`),
    /// built by its CRM's descriptor.
    pub fn writer(
        &self,
        now_ms: u64,
    ) -> Result<Box<dyn crate::core::outbox::DocumentWriter>, super::auth::AuthStep> {
        let access = self.access_now(now_ms)?;
        Ok((super::registry::of(self.credentials.crm()).writer)(self, access))
    }

    /// Whether a sync may take the org's chat object as known (None: ask).
    pub fn chat_object_known(&self, now_ms: u64) -> Option<bool> {
        match self.chat_object {
            Some(ChatObjectKnown { present: true, .. }) => Some(true),
            Some(ChatObjectKnown { present: false, checked_at_ms })
                if now_ms.saturating_sub(checked_at_ms) < CHAT_OBJECT_ABSENT_TTL_MS =>
            {
                Some(false)
            }
            _ => None,
        }
    }

    /// Keep what a sync cycle or the setup check learned; true when the stored connection
    /// must be rewritten.
    pub fn absorb_learned(&mut self, learned: &crate::core::outbox::Learned, now_ms: u64) -> bool {
        use crate::core::outbox::Learned;
        let before = self.clone();
        match (learned, self.credentials.crm()) {
            (Learned::ActivityEvent(code), Crm::Leadsquared) => {
                self.activity_event = Some(*code);
                self.activity_type_missing = false;
            }
            (Learned::ActivityTypeMissing, Crm::Leadsquared) => {
                self.activity_event = None;
                self.activity_type_missing = true;
            }
            (Learned::ActivityEventGone, Crm::Leadsquared) => {
                self.activity_event = None;
                self.activity_type_missing = false;
            }
            // A present object already known is not rewritten (only an absent one's age matters).
            (Learned::ChatObject(present), Crm::Salesforce)
                if self.chat_object.map(|k| k.present) != Some(*present) || !*present =>
            {
                self.chat_object =
                    Some(ChatObjectKnown { present: *present, checked_at_ms: now_ms });
            }
            (Learned::ChatObjectGone, Crm::Salesforce) => self.chat_object = None,
            _ => {}
        }
        *self != before
    }

    /// The Salesforce client (the chat object's setup needs the concrete type).
    pub fn salesforce(&self, now_ms: u64) -> Result<salesforce::Salesforce, super::auth::AuthStep> {
        Ok(salesforce::client(self, self.access_now(now_ms)?))
    }

    /// Zoho: the fields-metadata read a create of `kind` needs first, when this connection
    /// has not read its module's `Lead_Source` picklist yet (None otherwise).
    pub fn lead_source_lookup(
        &self,
        kind: super::CreateKind,
        now_ms: u64,
    ) -> Option<crate::crm::http::HttpRequest> {
        let module = zoho::create_module(kind);
        if self.zoho_lead_sources.contains_key(module) {
            return None;
        }
        self.zoho(now_ms)
            .ok()
            .filter(|_| self.credentials.crm() == Crm::Zoho)
            .map(|z| z.fields_request(module))
    }

    /// Keep what the fields metadata says; true when the stored connection must be rewritten.
    /// A failed read is not kept: the create goes on without a source, and the next create
    /// asks again.
    pub fn absorb_lead_source(
        &mut self,
        kind: super::CreateKind,
        resp: &crate::crm::http::HttpResponse,
    ) -> bool {
        match zoho::Zoho::parse_lead_source(resp) {
            Ok(v) => {
                self.zoho_lead_sources.insert(zoho::create_module(kind).to_string(), v);
                true
            }
            Err(_) => false,
        }
    }

    /// The Zoho client (org lookups and record links need the concrete type).
    pub fn zoho(&self, now_ms: u64) -> Result<zoho::Zoho, super::auth::AuthStep> {
        Ok(zoho::client(self, self.access_now(now_ms)?))
    }

    /// The access token to use now (None for key-based CRMs) and the API base URL, or the
    /// auth step that must come first.
    pub fn access(&self, now_ms: u64) -> Result<(Option<String>, String), super::auth::AuthStep> {
        self.token_and_base(now_ms)
    }

    fn token_and_base(
        &self,
        now_ms: u64,
    ) -> Result<(Option<String>, String), super::auth::AuthStep> {
        let token = match &self.session {
            Some(s) => match s.before_call(now_ms) {
                super::auth::AuthStep::Use(t) => Some(t),
                other => return Err(other),
            },
            None => None,
        };
        let base = match &self.session {
            Some(Session { state: super::auth::TokenState::Connected { tokens }, .. }) => {
                tokens.api_base.clone()
            }
            _ => String::new(),
        };
        Ok((token, base))
    }

    /// A ready connector with the current access token, or the reason there is none, built
    /// by its CRM's descriptor.
    pub fn connector(&self, now_ms: u64) -> Result<Box<dyn Connector>, super::auth::AuthStep> {
        let access = self.access_now(now_ms)?;
        Ok((super::registry::of(self.credentials.crm()).connector)(self, access))
    }

    fn access_now(&self, now_ms: u64) -> Result<super::descriptor::Access, super::auth::AuthStep> {
        let (token, base) = self.token_and_base(now_ms)?;
        Ok(super::descriptor::Access { token, base, now_ms })
    }
}

/// A browser sign-in (OAuth): the product's own app (built from the distribution config, see
/// `crm::distribution`) or, under Advanced, an app the rep's admin registered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "crm", rename_all = "snake_case")]
pub enum OAuthStart {
    /// A Zoho client: server-based (the secret is needed) or mobile-based (`pkce`; a secret
    /// only when it has one).
    Zoho {
        client_id: String,
        #[serde(default)]
        client_secret: String,
        /// Secrets per data centre, by location code (Multi-DC without shared credentials).
        #[serde(default)]
        dc_secrets: std::collections::BTreeMap<String, String>,
        /// Where sign-in starts: the rep's data centre (China only works from its own).
        #[serde(default)]
        dc: Option<ZohoDc>,
        #[serde(default)]
        pkce: bool,
        /// The product's own app (only the worker sets it; it decides who a refusal names).
        #[serde(default, skip_deserializing)]
        product: bool,
    },
    /// Salesforce connected app or external client app with PKCE; the secret is optional.
    Salesforce {
        login_host: String,
        client_id: String,
        client_secret: Option<String>,
        #[serde(default, skip_deserializing)]
        product: bool,
    },
}

impl OAuthStart {
    pub fn crm(&self) -> Crm {
        match self {
            OAuthStart::Zoho { .. } => Crm::Zoho,
            OAuthStart::Salesforce { .. } => Crm::Salesforce,
        }
    }

    pub fn is_product(&self) -> bool {
        match self {
            OAuthStart::Zoho { product, .. } | OAuthStart::Salesforce { product, .. } => *product,
        }
    }

    /// The consent page to open. `state` and `challenge` come from the shell's randomness.
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        state: &str,
        challenge: &str,
    ) -> Result<String, Sentence> {
        match self {
            OAuthStart::Zoho { client_id, client_secret, dc_secrets, dc, pkce, .. } => {
                if client_id.trim().is_empty() {
                    return Err(say("connectNeeded", vec![word("connectWordClientId")]));
                }
                if !pkce && client_secret.trim().is_empty() && dc_secrets.is_empty() {
                    return Err(say("connectNeededIdSecret", vec![]));
                }
                Ok(zoho::authorize_url(
                    dc.unwrap_or(ZohoDc::Us),
                    client_id.trim(),
                    redirect_uri,
                    state,
                    zoho::SCOPES,
                    pkce.then_some(challenge),
                ))
            }
            OAuthStart::Salesforce { login_host, client_id, .. } => {
                if client_id.trim().is_empty() {
                    return Err(say("connectNeeded", vec![word("connectWordConsumerKey")]));
                }
                super::hosts::salesforce_login_host(login_host)
                    .map_err(|_| not_a_login_host(login_host))?;
                Ok(salesforce::authorize_url(
                    &sf_host(login_host),
                    client_id.trim(),
                    redirect_uri,
                    state,
                    challenge,
                ))
            }
        }
    }

    /// The data centre a Zoho redirect names (`accounts-server`, checked on the parsed URL
    /// against the accounts servers); without one, where the sign-in started.
    pub fn redirect_dc(&self, redirect_url: &str) -> Result<Option<ZohoDc>, Sentence> {
        use super::auth::redirect_param;
        match self {
            OAuthStart::Zoho { dc, .. } => match redirect_param(redirect_url, "accounts-server") {
                Some(server) => super::hosts::zoho_accounts_server(&server)
                    .map(Some)
                    .map_err(|_| say("signinUnknownServer", vec![server.into()])),
                None => Ok(Some(dc.unwrap_or(ZohoDc::Us))),
            },
            OAuthStart::Salesforce { .. } => Ok(None),
        }
    }

    /// Read the redirect: refuse a wrong `state` or an error (explained in a sentence), then
    /// the code exchange (at the Zoho data centre the redirect names, only a known one).
    pub fn exchange(
        &self,
        redirect_url: &str,
        state: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<(HttpRequest, Credentials), Sentence> {
        use super::auth::redirect_param;
        if let Some(e) = redirect_param(redirect_url, "error") {
            let desc = redirect_param(redirect_url, "error_description");
            return Err(super::signin::redirect_error(
                self.crm(),
                &e,
                desc.as_deref(),
                self.is_product(),
                redirect_uri,
            ));
        }
        if redirect_param(redirect_url, "state").as_deref() != Some(state) {
            return Err(say("signinStateMismatch", vec![]));
        }
        let code =
            redirect_param(redirect_url, "code").ok_or_else(|| say("signinNoCode", vec![]))?;
        match self {
            OAuthStart::Zoho { client_id, client_secret, dc_secrets, pkce, .. } => {
                let dc = self.redirect_dc(redirect_url)?.unwrap_or(ZohoDc::Us);
                let secret = dc_secrets
                    .get(&dc.code())
                    .cloned()
                    .unwrap_or_else(|| client_secret.trim().to_string());
                if !pkce && secret.is_empty() {
                    return Err(say(
                        "signinNoDcSecret",
                        vec![
                            super::signin::dc_word(dc),
                            word(if self.is_product() {
                                "signinOwnerPublisher"
                            } else {
                                "signinOwnerIts"
                            }),
                        ],
                    ));
                }
                let req = zoho::code_exchange(
                    dc,
                    client_id.trim(),
                    Some(&secret),
                    redirect_uri,
                    &code,
                    pkce.then_some(verifier),
                );
                Ok((
                    req,
                    Credentials::Zoho {
                        dc,
                        client_id: client_id.trim().into(),
                        client_secret: secret,
                        refresh_token: String::new(),
                    },
                ))
            }
            OAuthStart::Salesforce { login_host, client_id, client_secret, .. } => {
                super::hosts::salesforce_login_host(login_host)
                    .map_err(|_| not_a_login_host(login_host))?;
                let req = salesforce::code_exchange(
                    &sf_host(login_host),
                    client_id.trim(),
                    client_secret.as_deref(),
                    redirect_uri,
                    &code,
                    verifier,
                );
                let creds = Credentials::Salesforce {
                    login_host: login_host.clone(),
                    client_id: client_id.trim().into(),
                    client_secret: client_secret.clone().filter(|s| !s.trim().is_empty()),
                    refresh_token: String::new(),
                };
                Ok((req, creds))
            }
        }
    }
}

impl Connection {
    /// The connection from a code-exchange answer: it must carry a refresh token (offline
    /// access), which later refreshes use.
    pub fn from_code_exchange(
        mut credentials: Credentials,
        resp: &HttpResponse,
        now_ms: u64,
    ) -> Result<Connection, Failure> {
        let t = match credentials.crm() {
            Crm::Zoho => zoho::parse_token(resp, now_ms)?,
            _ => salesforce::parse_token(resp, now_ms)?,
        };
        let t = super::registry::checked_tokens(credentials.crm(), t)?;
        let rt = t.refresh_token.clone().ok_or(Failure::Rejected {
            reason: "the CRM granted no refresh token (offline access)".into(),
        })?;
        match &mut credentials {
            Credentials::Zoho { refresh_token, .. }
            | Credentials::Salesforce { refresh_token, .. } => *refresh_token = rt,
            Credentials::Leadsquared { .. } => {
                return Err(Failure::Rejected { reason: "LeadSquared has no OAuth sign-in".into() })
            }
        }
        if t.api_base.is_empty() {
            return Err(Failure::Rejected { reason: "the token answer named no API host".into() });
        }
        Ok(Connection::new(credentials, Some(Session::new(t)), None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::auth::AuthStep;
    use crate::crm::{golden, resp};

    #[test]
    fn the_lead_source_picklist_is_read_once_per_connection_and_module() {
        // Before: a Connection kept no lead source and asked for none.
        let creds = Credentials::Zoho {
            dc: ZohoDc::Us,
            client_id: "1000.SANDBOXCLIENT".into(),
            client_secret: "sandbox-secret".into(),
            refresh_token: "1000.sandbox.refresh".into(),
        };
        let token = br#"{"access_token":"1000.a","api_domain":"https://www.zohoapis.eu","token_type":"Bearer","expires_in":3600}"#;
        let mut c = Connection::establish(creds, &resp(200, token), 0).unwrap();
        let req = c
            .lead_source_lookup(super::super::CreateKind::Lead, 0)
            .expect("first create reads the fields");
        assert!(req.url.ends_with("/crm/v8/settings/fields?module=Leads"), "{}", req.url);
        let lost = HttpResponse { status: 500, headers: vec![], body: b"{}".to_vec() };
        assert!(
            !c.absorb_lead_source(super::super::CreateKind::Lead, &lost),
            "a failed read is not kept"
        );
        assert!(c.lead_source_lookup(super::super::CreateKind::Lead, 0).is_some());
        let ok = HttpResponse {
            status: 200,
            headers: vec![],
            body: crate::crm::golden("zoho/fields-leads-200-whatsapp.json"),
        };
        assert!(c.absorb_lead_source(super::super::CreateKind::Lead, &ok));
        assert!(c.lead_source_lookup(super::super::CreateKind::Lead, 0).is_none());
        assert!(c.lead_source_lookup(super::super::CreateKind::Contact, 0).is_some());
        let restored: Connection =
            serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(
            restored.zoho(0).unwrap().lead_sources.get("Leads"),
            Some(&Some("WhatsApp".into()))
        );
    }

    #[test]
    fn zoho_paste_path_connects_and_refreshes_once_near_expiry() {
        let c = Credentials::Zoho {
            dc: ZohoDc::Us,
            client_id: "1000.SANDBOXCLIENT".into(),
            client_secret: "sandbox-secret".into(),
            refresh_token: "1000.sandbox.refresh".into(),
        };
        c.validate().unwrap();
        assert_eq!(c.refresh_request().url, "https://accounts.zoho.com/oauth/v2/token");
        let no_rt = br#"{"access_token":"1000.a","api_domain":"https://www.zohoapis.eu","token_type":"Bearer","expires_in":3600}"#;
        let conn = Connection::establish(c, &resp(200, no_rt), 0).unwrap();
        assert_eq!(conn.session.as_ref().unwrap().refresh_token(), Some("1000.sandbox.refresh"));
        let z = conn.connector(0).map_err(|_| ()).unwrap();
        assert!(z.search_requests(&["+14155551212".into()])[0]
            .url
            .starts_with("https://www.zohoapis.eu/crm/v8/Contacts/search"));
        assert!(matches!(conn.connector(3_600_000 - 1), Err(AuthStep::Refresh)));
        let mut revoked = conn.clone();
        assert_eq!(
            revoked.absorb_refresh(&resp(200, &golden("zoho/token-error-invalid-code.json")), 0),
            Err(Failure::ReconnectNeeded)
        );
        assert!(matches!(revoked.connector(0), Err(AuthStep::Fail(Failure::ReconnectNeeded))));
    }

    #[test]
    fn oauth_sign_in_checks_state_and_data_centre_then_keeps_the_refresh_token() {
        let z = OAuthStart::Zoho {
            client_id: "1000.C".into(),
            client_secret: "s".into(),
            dc_secrets: Default::default(),
            dc: None,
            pkce: false,
            product: false,
        };
        let uri = "https://abc.chromiumapp.org/";
        let url = z.authorize_url(uri, "st8", "").unwrap();
        assert!(
            url.starts_with("https://accounts.zoho.com/oauth/v2/auth?")
                && url.contains("access_type=offline")
                && url.contains("state=st8")
        );
        let ok = "https://abc.chromiumapp.org/?code=1000.code.x&location=eu&accounts-server=https%3A%2F%2Faccounts.zoho.eu&state=st8";
        let (req, creds) = z.exchange(ok, "st8", uri, "").unwrap();
        assert_eq!(req.url, "https://accounts.zoho.eu/oauth/v2/token");
        assert!(matches!(creds, Credentials::Zoho { dc: ZohoDc::Eu, .. }));
        assert!(z.exchange(ok, "other", uri, "").unwrap_err().english().contains("state mismatch"));
        assert!(z
            .exchange("https://abc.chromiumapp.org/?error=access_denied&state=st8", "st8", uri, "")
            .unwrap_err()
            .english()
            .contains("You chose not to allow crmsync"));
        let evil = "https://abc.chromiumapp.org/?code=c&accounts-server=https%3A%2F%2Fevil.example&state=st8";
        assert!(z
            .exchange(evil, "st8", uri, "")
            .unwrap_err()
            .english()
            .contains("unknown Zoho accounts server"));
        let lookalike = "https://abc.chromiumapp.org/?code=c&accounts-server=https%3A%2F%2Faccounts.zoho.eu%40evil.example&state=st8";
        assert!(z.exchange(lookalike, "st8", uri, "").is_err());
        let no_secret = OAuthStart::Zoho {
            client_id: "x".into(),
            client_secret: " ".into(),
            dc_secrets: Default::default(),
            dc: None,
            pkce: false,
            product: false,
        };
        assert!(no_secret.authorize_url(uri, "s", "").is_err());
        let with_rt = br#"{"access_token":"1000.a","refresh_token":"1000.r","api_domain":"https://www.zohoapis.eu","token_type":"Bearer","expires_in":3600}"#;
        let conn = Connection::from_code_exchange(creds.clone(), &resp(200, with_rt), 0).unwrap();
        assert!(
            matches!(&conn.credentials, Credentials::Zoho { refresh_token, .. } if refresh_token == "1000.r")
        );
        assert_eq!(
            conn.credentials.refresh_request().url,
            "https://accounts.zoho.eu/oauth/v2/token"
        );
        let no_rt = br#"{"access_token":"1000.a","api_domain":"https://www.zohoapis.eu","expires_in":3600}"#;
        assert!(Connection::from_code_exchange(creds, &resp(200, no_rt), 0).is_err());
        let sf = OAuthStart::Salesforce {
            login_host: "test.salesforce.com".into(),
            client_id: "ck".into(),
            client_secret: None,
            product: false,
        };
        let url = sf.authorize_url(uri, "s1", "CHAL").unwrap();
        assert!(
            url.starts_with("https://test.salesforce.com/services/oauth2/authorize?")
                && url.contains("code_challenge=CHAL")
        );
        let (req, _) = sf
            .exchange("https://abc.chromiumapp.org/?code=aPrx1&state=s1", "s1", uri, "VER")
            .unwrap();
        let body = String::from_utf8(req.body.unwrap()).unwrap();
        assert!(body.contains("code_verifier=VER"));
        assert!(!body.contains("client_secret"), "no secret configured, none sent");
        // Before: the secret was never sent, though connected apps require it by default
        // ("Require Secret for Web Server Flow").
        let with_secret = OAuthStart::Salesforce {
            login_host: "test.salesforce.com".into(),
            client_id: "ck".into(),
            client_secret: Some("cs".into()),
            product: false,
        };
        let (req, creds) = with_secret
            .exchange("https://abc.chromiumapp.org/?code=aPrx1&state=s1", "s1", uri, "VER")
            .unwrap();
        let body = String::from_utf8(req.body.unwrap()).unwrap();
        assert!(
            body.contains("client_secret=cs")
                && body.contains("code_verifier=VER")
                && body.contains("grant_type=authorization_code"),
            "{body}"
        );
        assert!(
            matches!(creds, Credentials::Salesforce { client_secret: Some(ref s), .. } if s == "cs")
        );
    }

    #[test]
    fn product_zoho_sign_in_starts_in_the_reps_data_centre_with_pkce_and_no_secret() {
        let d = crate::crm::distribution::Distribution::parse(include_str!(
            "../../tests/crm-sandbox/distribution.json"
        ))
        .unwrap();
        let start = d.zoho_start(ZohoDc::Cn).unwrap();
        let uri = "https://abc.chromiumapp.org/";
        let url = start.authorize_url(uri, "st", "CHAL").unwrap();
        assert!(url.starts_with("https://accounts.zoho.com.cn/oauth/v2/auth?"), "{url}");
        assert!(url.contains("code_challenge=CHAL&code_challenge_method=S256"));
        // The redirect names the data centre the account lives in: the code goes there.
        let back = "https://abc.chromiumapp.org/?code=1000.c&location=in&accounts-server=https%3A%2F%2Faccounts.zoho.in&state=st";
        let (req, creds) = start.exchange(back, "st", uri, "VER").unwrap();
        assert_eq!(req.url, "https://accounts.zoho.in/oauth/v2/token");
        let body = String::from_utf8(req.body.unwrap()).unwrap();
        assert!(body.contains("code_verifier=VER") && !body.contains("client_secret"), "{body}");
        assert!(
            matches!(creds, Credentials::Zoho { dc: ZohoDc::In, ref client_secret, .. } if client_secret.is_empty())
        );
        // A refusal in the redirect becomes a sentence naming who can fix it.
        let e = start
            .exchange("https://abc.chromiumapp.org/?error=invalid_client&state=st", "st", uri, "V")
            .unwrap_err()
            .english();
        assert!(e.contains("crmsync's publisher") && e.contains("Multi-DC"), "{e}");
        // A server-based client with per-DC secrets sends the secret of the redirect's DC.
        let server = OAuthStart::Zoho {
            client_id: "1000.S".into(),
            client_secret: String::new(),
            dc_secrets: [("in".to_string(), "in-secret".to_string())].into_iter().collect(),
            dc: Some(ZohoDc::Us),
            pkce: false,
            product: true,
        };
        let (req, _) = server.exchange(back, "st", uri, "").unwrap();
        assert!(String::from_utf8(req.body.unwrap()).unwrap().contains("client_secret=in-secret"));
        let eu = "https://abc.chromiumapp.org/?code=1000.c&accounts-server=https%3A%2F%2Faccounts.zoho.eu&state=st";
        assert!(server
            .exchange(eu, "st", uri, "")
            .unwrap_err()
            .english()
            .contains("Europe (zoho.eu)"));
    }

    #[test]
    fn salesforce_and_leadsquared_paste_paths() {
        let s = Credentials::Salesforce {
            login_host: "crmsync-dev.my.salesforce.com".into(),
            client_id: "sandbox-consumer-key".into(),
            client_secret: Some("sandbox-consumer-secret".into()),
            refresh_token: "sandbox-sf-refresh".into(),
        };
        assert_eq!(
            s.refresh_request().url,
            "https://crmsync-dev.my.salesforce.com/services/oauth2/token"
        );
        let conn =
            Connection::establish(s, &resp(200, &golden("salesforce/token-200.json")), 0).unwrap();
        assert!(conn.connector(0).map_err(|_| ()).unwrap().search_requests(&["+1415".into()])[0]
            .url
            .starts_with("https://yourorg.my.salesforce.com/services/data/"));
        let l = Credentials::Leadsquared {
            access_key: "u$sandbox-access".into(),
            secret_key: "sandbox-secret-key".into(),
        };
        let conn =
            Connection::establish(l, &resp(200, &golden("leadsquared/user-by-access-key.json")), 0)
                .unwrap();
        assert_eq!(
            conn.lsq_hosts,
            Some(("api-in21.leadsquared.com".into(), "in21.leadsquared.com".into()))
        );
        assert!(Credentials::Leadsquared { access_key: " ".into(), secret_key: "x".into() }
            .validate()
            .is_err());
        assert!(Connection::establish(
            Credentials::Leadsquared { access_key: "a".into(), secret_key: "b".into() },
            &resp(401, b""),
            0
        )
        .is_err());
    }
}
