//! Onboarding in the worker: the distribution config packaged with the extension
//! (`distribution.json`, written by build.sh), one-click sign-in with the product's own apps,
//! and the setup check driven over the pure `crm::setup` steps. Thin: decisions live in
//! `crm::distribution`, `crm::setup` and `core::first_run`.
use super::connect::{self, Connected};
use super::store::Store;
use super::{chrome, transport};
use crate::core::i18n::{say, Sentence};
use crate::core::model::Crm;
use crate::core::store::meta;
use crate::crm::auth::ZohoDc;
use crate::crm::distribution::{Distribution, Offer};
use crate::crm::setup::{self, Report, Wants};
use serde::Serialize;
use wasm_bindgen::JsValue;

/// The packaged distribution config; a build without one offers only the Advanced paths.
pub async fn distribution() -> Result<Distribution, String> {
    let url = chrome::runtime_get_url("distribution.json");
    let Ok(resp) = gloo_net::http::Request::get(&url).send().await else {
        return Ok(Distribution::default());
    };
    if !resp.ok() {
        return Ok(Distribution::default());
    }
    let text = resp.text().await.map_err(|e| e.to_string())?;
    Distribution::parse(&text)
}

/// The packaged sign-in config could not be read (`why` is the parser's, in English).
fn unreadable(why: &str) -> Sentence {
    crate::core::i18n::say("distUnreadable", vec![why.into()])
}

/// Sign in with the product's own app: nothing to paste.
pub async fn sign_in(
    crm: Crm,
    zoho_dc: Option<ZohoDc>,
    login_host: Option<String>,
    now_ms: u64,
) -> Result<Connected, JsValue> {
    let fail = |e: Sentence| Ok(Connected::failed(crm, &e));
    let d = match distribution().await {
        Ok(d) => d,
        Err(e) => return fail(unreadable(&e)),
    };
    if let Err(e) = d.check_running_id(&chrome::runtime_id()) {
        return fail(e);
    }
    let start = match crm {
        Crm::Zoho => d.zoho_start(zoho_dc.unwrap_or(ZohoDc::Us)),
        Crm::Salesforce => {
            d.salesforce_start(login_host.as_deref().unwrap_or("login.salesforce.com"))
        }
        Crm::Leadsquared => None,
    };
    match start {
        Some(s) => connect::oauth(s, now_ms).await,
        None => fail(say("signinNoApp", vec![crm.name().into()])),
    }
}

/// Run the setup check of a connected CRM and keep its report (the panel shows a notice
/// until it passes).
/// Create `WhatsApp_Chat__c` and its fields in the connected Salesforce org (the admin
/// confirmed it in the options page), then run the setup check again so it says where
/// backups go now. The backup's own per-sync check (`GET sobjects/WhatsApp_Chat__c`) then
/// finds the object and writes chat records instead of Tasks and notes.
pub async fn create_chat_object(
    store: &Store,
    wants: Wants,
    now_ms: u64,
) -> Result<crate::protocol::ActionReply, JsValue> {
    use crate::crm::salesforce::chat_object::{self, Outcome};
    use crate::protocol::ActionReply;
    let ready = connect::ready_connections(now_ms).await?;
    let Some(sf) = ready
        .iter()
        .find(|c| c.credentials.crm() == Crm::Salesforce)
        .and_then(|c| c.salesforce(now_ms).ok())
    else {
        return Ok(ActionReply::err("errNotConnected"));
    };
    let object = chat_object::parse(&transport::perform(&chat_object::object_request(&sf)).await);
    let outcome = match object {
        Outcome::Created | Outcome::AlreadyThere => {
            chat_object::parse(&transport::perform(&chat_object::fields_request(&sf)).await)
        }
        other => other,
    };
    let reply = match outcome {
        Outcome::Created | Outcome::AlreadyThere => ActionReply::ok(),
        Outcome::NoPermission => ActionReply::err("chatObjectNoPermission"),
        Outcome::Failed(why) => ActionReply {
            field_errors: vec![crate::core::view::FieldError {
                field: "salesforce".into(),
                key: why,
            }],
            ..ActionReply::err("chatObjectFailed")
        },
    };
    setup_check(store, Crm::Salesforce, wants, now_ms).await?;
    Ok(reply)
}

pub async fn setup_check(
    store: &Store,
    crm: Crm,
    wants: Wants,
    now_ms: u64,
) -> Result<Report, JsValue> {
    // A token about to expire is refreshed first, as before any sync.
    let ready = connect::ready_connections(now_ms).await?;
    let conn = match ready.into_iter().find(|c| c.credentials.crm() == crm) {
        Some(c) => Some(c),
        None => connect::stored(crm).await?,
    };
    let report = match conn.map(|c| setup::steps(&c, now_ms)) {
        Some(Ok(steps)) => {
            let mut answers = Vec::with_capacity(steps.len());
            for s in steps {
                let resp = transport::perform(&s.request).await;
                answers.push((s.probe, resp));
            }
            // What the check read (the chat object, the activity type), the first sync
            // need not read again.
            connect::keep(crm, &setup::learned(&answers), now_ms).await?;
            setup::report(crm, &answers, wants, now_ms)
        }
        Some(Err(why)) => setup::not_ready(crm, why, now_ms),
        None => setup::not_ready(crm, say("setupWhyNotConnected", vec![]), now_ms),
    };
    store.set_meta(&meta::setup_report(crm), &report).await?;
    Ok(report)
}

/// The last setup reports of the connected CRMs.
pub async fn reports(store: &Store) -> Result<Vec<Report>, JsValue> {
    let mut out = Vec::new();
    for crm in connect::connected_crms().await? {
        if let Some(r) = store.meta::<Report>(&meta::setup_report(crm)).await? {
            out.push(r);
        }
    }
    Ok(out)
}

#[derive(Serialize)]
pub struct Onboarding {
    pub offer: Offer,
    pub connected: Vec<Crm>,
    pub reports: Vec<Report>,
    pub step: crate::core::first_run::Step,
    /// The rep's own number as WhatsApp Web keeps it (`Request::OwnNumber`), once a WhatsApp
    /// tab reported it: the first run prefills it and guesses the region from it.
    pub own_number: Option<String>,
}

pub async fn onboarding(store: &Store) -> Result<Onboarding, JsValue> {
    let offer = match distribution().await {
        Ok(d) => d.offer(&chrome::runtime_id()),
        Err(e) => Offer { problem: Some(unreadable(&e)), ..Offer::default() },
    };
    let connected = connect::connected_crms().await?;
    let finished = store.meta(&meta::ONBOARDING_FINISHED).await?.unwrap_or(false);
    Ok(Onboarding {
        step: crate::core::first_run::step(connected.len(), finished),
        offer,
        reports: reports(store).await?,
        connected,
        own_number: store.meta(&meta::OWN_NUMBER).await?,
    })
}

pub async fn finish(store: &Store) -> Result<(), JsValue> {
    store.set_meta(&meta::ONBOARDING_FINISHED, &true).await
}

/// `chrome.runtime.onInstalled`: a fresh install opens the options page, where the first run
/// leads the rep through connecting.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn worker_on_installed(details: JsValue) {
    let reason = js_sys::Reflect::get(&details, &"reason".into()).ok().and_then(|r| r.as_string());
    if reason.as_deref() == Some("install") {
        chrome::open_options_page();
    }
}
