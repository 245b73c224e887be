//! Connect a CRM (paste-credentials path) and turn stored connections into connectors.
//! Connections hold secrets: they live in `web::secrets` (worker-only IndexedDB), never in
//! chrome.storage, which content scripts can read.
use super::{secrets, transport};
use crate::core::i18n::{say, Sentence};
use crate::core::model::Crm;
use crate::core::store::meta;
use crate::crm::auth::AuthStep;
use crate::crm::connect::{Connection, Credentials, OAuthStart};
use crate::crm::Connector;
use serde::Serialize;
use wasm_bindgen::JsValue;

fn key(crm: Crm) -> crate::core::store::MetaKey<Connection> {
    meta::connection(crm)
}

/// What the options page learns: never a token or key.
#[derive(Serialize)]
pub struct Connected {
    pub ok: bool,
    pub crm: Crm,
    pub api_host: String,
    pub error: Option<String>,
}

impl Connected {
    /// A failure, said in the browser's language.
    pub fn failed(crm: Crm, why: &Sentence) -> Connected {
        Connected { ok: false, crm, api_host: String::new(), error: Some(super::chrome::say(why)) }
    }
}

pub async fn connect(credentials: Credentials, now_ms: u64) -> Result<Connected, JsValue> {
    let crm = credentials.crm();
    if let Err(e) = credentials.validate() {
        return Ok(Connected::failed(crm, &e));
    }
    let resp = transport::perform(&credentials.refresh_request()).await;
    match Connection::establish(credentials, &resp, now_ms) {
        Ok(conn) => store_connection(conn, now_ms).await,
        Err(f) => Ok(Connected::failed(crm, &crate::crm::connect::connect_failure(crm, &f))),
    }
}

/// Keep a new connection in the vault (Zoho: with its org's domain for record links).
async fn store_connection(mut conn: Connection, now_ms: u64) -> Result<Connected, JsValue> {
    let crm = conn.credentials.crm();
    // Zoho record links need the org's domain name: one `GET /org` at connect time.
    if crm == Crm::Zoho {
        if let Ok(z) = conn.zoho(now_ms) {
            let org = transport::perform(&z.org_request()).await;
            conn.org_domain = crate::crm::zoho::Zoho::parse_org(&org).ok();
            // Deal amounts without a currency of their own are in the org's home currency.
            if let Some(c) = crate::crm::zoho::Zoho::parse_org_currency(&org) {
                super::store::Store::open()
                    .await?
                    .set_meta(&meta::home_currency(crate::core::model::Crm::Zoho), &c)
                    .await?;
            }
        }
    }
    // Salesforce opportunity amounts carry no currency in an org with one currency: the
    // org's default, read once here (two reads: whether it has several currencies, then
    // Organization). With several currencies no org-wide value is kept: the deals read asks
    // for each opportunity's CurrencyIsoCode (a field only such orgs have).
    if crm == Crm::Salesforce {
        if let Ok(sf) = conn.salesforce(now_ms) {
            use crate::crm::salesforce::Salesforce;
            let multi = transport::perform(&sf.multi_currency_request()).await;
            let multi = Salesforce::parse_object_info(&multi);
            // Several currencies: each opportunity's own is asked for with the deals.
            conn.salesforce_multi_currency = matches!(multi, Ok(true));
            let currency = match multi {
                Ok(false) => Salesforce::parse_org_currency(
                    &transport::perform(&sf.org_currency_request()).await,
                ),
                _ => None,
            };
            let store = super::store::Store::open().await?;
            let key = meta::home_currency(Crm::Salesforce);
            match currency {
                Some(c) => store.set_meta(&key, &c).await?,
                None => store.put_many(&[crate::core::store::Entry::delete_meta(&key)]).await?,
            }
        }
    }
    let api_host = match (&conn.session, &conn.lsq_hosts) {
        (Some(s), _) => match &s.state {
            crate::crm::auth::TokenState::Connected { tokens } => tokens.api_base.clone(),
            _ => String::new(),
        },
        (None, Some((api, _))) => api.clone(),
        _ => String::new(),
    };
    secrets::put(&key(crm), &conn).await?;
    Ok(Connected { ok: true, crm, api_host, error: None })
}

/// Sign in through the browser (OAuth): the CRM's consent page in Chrome's auth window,
/// the redirect checked (state, data centre), the code exchanged (PKCE for Salesforce), the
/// connection stored like a pasted one.
pub async fn oauth(start: OAuthStart, now_ms: u64) -> Result<Connected, JsValue> {
    let crm = start.crm();
    let fail = |e: Sentence| Ok(Connected::failed(crm, &e));
    let redirect_uri = super::chrome::identity_redirect_url()?;
    let b64 =
        |b: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, b);
    let state = b64(&super::chrome::random_bytes()?);
    let (verifier, challenge) = crate::crm::auth::pkce(&super::chrome::random_bytes()?);
    let url = match start.authorize_url(&redirect_uri, &state, &challenge) {
        Ok(u) => u,
        Err(e) => return fail(e),
    };
    let redirect = match super::chrome::launch_web_auth_flow(&url).await {
        Ok(r) => r,
        Err(e) => {
            // The browser's own reason ("The user did not approve access.") as it says it.
            let why = e
                .as_string()
                .or_else(|| {
                    js_sys::Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string())
                })
                .unwrap_or_default();
            return fail(say("signinNotFinished", vec![why.into()]));
        }
    };
    let (req, credentials) = match start.exchange(&redirect, &state, &redirect_uri, &verifier) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let resp = transport::perform(&req).await;
    match Connection::from_code_exchange(credentials, &resp, now_ms) {
        Ok(conn) => store_connection(conn, now_ms).await,
        // A refusal in a sentence that says what is wrong and who can fix it.
        Err(f) => fail(
            crate::crm::signin::token_error(
                crm,
                &resp,
                start.redirect_dc(&redirect).ok().flatten(),
                start.is_product(),
                &redirect_uri,
            )
            .unwrap_or_else(|| crate::crm::connect::connect_failure(crm, &f)),
        ),
    }
}

/// The stored connection of a CRM, whatever its token state.
pub async fn stored(crm: Crm) -> Result<Option<Connection>, JsValue> {
    secrets::get::<Connection>(&key(crm)).await
}

/// Every stored connection with a usable token, refreshing tokens that are about to expire
/// (or that a 401 marked). A revoked grant is stored as such and skipped.
pub async fn ready_connections(now_ms: u64) -> Result<Vec<Connection>, JsValue> {
    let mut out = Vec::new();
    for crm in [Crm::Zoho, Crm::Salesforce, Crm::Leadsquared] {
        let Some(mut conn) = secrets::get::<Connection>(&key(crm)).await? else { continue };
        // Each cycle is a new batch: one refresh on a 401 is allowed again.
        if let Some(s) = conn.session.as_mut().filter(|s| s.refreshed_once) {
            s.batch_start();
            secrets::put(&key(crm), &conn).await?;
        }
        match conn.connector(now_ms) {
            Ok(_) => out.push(conn),
            Err(AuthStep::Refresh) => {
                let resp = transport::perform(&conn.credentials.refresh_request()).await;
                let refreshed = conn.absorb_refresh(&resp, now_ms);
                if let Some(s) = conn.session.as_mut() {
                    s.batch_start();
                }
                secrets::put(&key(crm), &conn).await?;
                if refreshed.is_ok() && conn.connector(now_ms).is_ok() {
                    out.push(conn);
                }
            }
            Err(_) => {}
        }
    }
    Ok(out)
}

/// Zoho creates send a `Lead_Source` only when the org's picklist has a WhatsApp value: the
/// module's fields metadata is read once per connection and kept with it. The Zoho connector
/// to create with (None when Zoho is not connected).
pub async fn with_lead_source(
    kind: crate::crm::CreateKind,
    now_ms: u64,
) -> Result<Option<Box<dyn Connector>>, JsValue> {
    let Some(mut conn) = secrets::get::<Connection>(&key(Crm::Zoho)).await? else {
        return Ok(None);
    };
    if let Some(req) = conn.lead_source_lookup(kind, now_ms) {
        let resp = transport::perform(&req).await;
        if conn.absorb_lead_source(kind, &resp) {
            secrets::put(&key(Crm::Zoho), &conn).await?;
        }
    }
    Ok(conn.connector(now_ms).ok())
}

/// Connected CRMs whose grant is gone for good: the rep must reconnect them.
pub async fn reconnect_needed() -> Result<Vec<Crm>, JsValue> {
    let mut out = Vec::new();
    for crm in [Crm::Zoho, Crm::Salesforce, Crm::Leadsquared] {
        if let Some(conn) = secrets::get::<Connection>(&key(crm)).await? {
            if matches!(
                conn.connector(0),
                Err(AuthStep::Fail(crate::crm::Failure::ReconnectNeeded))
            ) {
                out.push(crm);
            }
        }
    }
    Ok(out)
}

/// Keep what the sync writers learned about their CRMs (LeadSquared's activity event code,
/// whether a Salesforce org has the chat object), so the next cycle need not ask again.
pub async fn remember(
    writers: &[Box<dyn crate::core::outbox::DocumentWriter>],
    now_ms: u64,
) -> Result<(), JsValue> {
    for w in writers {
        let Some(learned) = w.learned() else { continue };
        keep(w.crm(), &[learned], now_ms).await?;
    }
    Ok(())
}

/// Fold facts about a CRM into its stored connection (rewritten only when they change).
pub async fn keep(
    crm: Crm,
    learned: &[crate::core::outbox::Learned],
    now_ms: u64,
) -> Result<(), JsValue> {
    let Some(mut conn) = secrets::get::<Connection>(&key(crm)).await? else { return Ok(()) };
    let mut changed = false;
    for l in learned {
        changed |= conn.absorb_learned(l, now_ms);
    }
    if changed {
        secrets::put(&key(crm), &conn).await?;
    }
    Ok(())
}

/// Forget a CRM: its tokens or keys leave the vault.
pub async fn disconnect(crm: Crm) -> Result<(), JsValue> {
    secrets::delete(&key(crm)).await
}

/// Which CRMs have a stored connection (whatever its token state).
pub async fn connected_crms() -> Result<Vec<Crm>, JsValue> {
    let mut out = Vec::new();
    for crm in [Crm::Zoho, Crm::Salesforce, Crm::Leadsquared] {
        if secrets::get::<Connection>(&key(crm)).await?.is_some() {
            out.push(crm);
        }
    }
    Ok(out)
}

/// Every connected CRM as a ready connector (matching).
pub async fn connectors(now_ms: u64) -> Result<Vec<Box<dyn Connector>>, JsValue> {
    Ok(ready_connections(now_ms).await?.iter().filter_map(|c| c.connector(now_ms).ok()).collect())
}

/// A 401 during a call: the session decides whether one refresh is due (never twice in a
/// batch); if so it happens now, so the retry uses a fresh token.
pub async fn unauthorized(crm: Crm, now_ms: u64) -> Result<(), JsValue> {
    let Some(mut conn) = secrets::get::<Connection>(&key(crm)).await? else { return Ok(()) };
    let step = conn.session.as_mut().map(|s| s.on_unauthorized());
    if step == Some(AuthStep::Refresh) {
        let resp = transport::perform(&conn.credentials.refresh_request()).await;
        // A failed refresh is stored in the session (e.g. "reconnect needed").
        let _ = conn.absorb_refresh(&resp, now_ms);
    }
    secrets::put(&key(crm), &conn).await
}
