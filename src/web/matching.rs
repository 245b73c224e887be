//! Resolving the open chat to CRM records, as the worker runs it: the CRMs' own phone
//! searches with every query variant, then `core::matching` decides, then the result is
//! stored on the chat (its links are what the sync writes to), with what the panel's card
//! needs (record links, recent deals). A group links to every participant's record.
use super::store::Store;
use super::transport;
use crate::core::matching::{match_chat, merge_candidates, Links, MatchOutcome};
use crate::core::model::{CrmRecord, RecordRef, WaIdentity};
use crate::core::outbox::OutboxMessage;
use crate::core::phone::search_variants;
use crate::core::sync::ChatRecord;
use crate::core::view::Participant;
use crate::crm::Connector;
use wasm_bindgen::JsValue;

pub async fn links(store: &Store) -> Result<Links, JsValue> {
    Ok(store.get("meta", "links").await?.unwrap_or_default())
}

/// Every connected CRM's records for one number. A CRM that fails leaves the others'
/// results usable; its error is returned alongside.
async fn lookup(
    phone: &str,
    connectors: &[Box<dyn Connector>],
    errors: &mut Vec<String>,
) -> Vec<CrmRecord> {
    let variants = search_variants(phone);
    let mut batches = Vec::new();
    for c in connectors {
        for req in c.search_requests(&variants) {
            let resp = transport::perform(&req).await;
            match c.parse_search_of(&req, &resp) {
                Ok(records) => batches.push(records),
                Err(e) => {
                    errors.push(format!("{}: {}", c.crm().name(), super::sync::describe(&e)));
                    break; // the same failure would repeat for the other variants
                }
            }
        }
    }
    // Only the modules the rep chose to match against.
    let settings: crate::core::view::Settings = match Store::open().await {
        Ok(s) => s.get("meta", "settings").await.ok().flatten().unwrap_or_default(),
        Err(_) => Default::default(),
    };
    let mut found = merge_candidates(batches);
    found.retain(|c| settings.searches(c.kind));
    found
}

fn linked(outcome: &MatchOutcome) -> Vec<RecordRef> {
    match outcome {
        MatchOutcome::Linked { records } => records.iter().map(|c| c.record.clone()).collect(),
        _ => Vec::new(),
    }
}

/// The senders of a group chat seen so far: (name, E.164), one per number.
async fn group_senders(store: &Store, chat_key: &str) -> Result<Vec<(String, String)>, JsValue> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (_, m) in store.all::<OutboxMessage>("messages").await? {
        if m.message.chat != chat_key {
            continue;
        }
        if let Some(p) = m.message.sender.phone.clone() {
            if !out.iter().any(|(_, q)| *q == p) {
                out.push((m.message.sender.name.clone(), p));
            }
        }
    }
    Ok(out)
}

/// Look the chat up in every connected CRM and store the decision with the card's extras.
pub async fn resolve(
    store: &Store,
    identity: &WaIdentity,
    connectors: &[Box<dyn Connector>],
    region: &str,
    now_ms: u64,
) -> Result<(MatchOutcome, Vec<String>), JsValue> {
    let mut errors = Vec::new();
    let key = identity.chat_key();
    let links = links(store).await?;
    let mut chat: ChatRecord = store.get("chats", &key).await?.unwrap_or_default();
    chat.identity = identity.clone();
    let outcome;
    if identity.is_group {
        // Each participant with a number is matched like a 1:1 chat; the group's backup
        // goes to every record found (titled with the group's name by the planner).
        let mut records: Vec<RecordRef> = links.linked.get(&key).cloned().unwrap_or_default();
        let mut participants = Vec::new();
        let mut cards = Vec::new();
        for (name, phone) in group_senders(store, &key).await? {
            let who = WaIdentity {
                phone: Some(phone.clone()),
                lid: None,
                name: name.clone(),
                is_group: false,
            };
            let found = lookup(&phone, connectors, &mut errors).await;
            let o = match_chat(&who, &found, &links, region);
            let mine = linked(&o);
            let label = mine.first().map(|r| {
                let n = found
                    .iter()
                    .find(|c| c.id == r.id)
                    .map(|c| c.name.clone())
                    .unwrap_or_else(|| r.id.clone());
                format!("{n} ({})", r.crm.name())
            });
            participants.push(Participant { name, phone: Some(phone), record: label });
            for r in mine {
                if !records.contains(&r) {
                    records.push(r);
                }
            }
            cards.extend(found);
        }
        outcome = if records.is_empty() {
            MatchOutcome::NoMatch { reason: "no participant of this group is in the CRM".into() }
        } else {
            MatchOutcome::Linked { records: vec![] }
        };
        chat.links = records;
        chat.participants = participants;
        chat.cards = cards;
    } else {
        let candidates = match identity.phone.as_deref() {
            Some(phone) => lookup(phone, connectors, &mut errors).await,
            None => Vec::new(),
        };
        // A record linked by hand from a search is not among the phone results: keep its card.
        let mut cards = candidates;
        for old in std::mem::take(&mut chat.cards) {
            if !cards.iter().any(|c| c.id == old.id && c.crm == old.crm) {
                cards.push(old);
            }
        }
        outcome = match_chat(identity, &cards, &links, region);
        chat.links = linked(&outcome);
        chat.cards = cards;
        chat.deals = card_deals(&chat.links, connectors, &mut errors).await;
    }
    // Record pages for every record shown (cards and chooser entries); a linked record's
    // kind is the one it was linked as.
    chat.urls.clear();
    let refs = chat
        .cards
        .iter()
        .filter_map(|c| Some((c.crm?, c.kind?, c.id.clone())))
        .chain(chat.links.iter().map(|r| (r.crm, r.kind, r.id.clone())));
    for (crm, kind, id) in refs.collect::<Vec<_>>() {
        if let Some(url) =
            connectors.iter().find(|c| c.crm() == crm).and_then(|c| c.deep_link(kind, &id))
        {
            chat.urls.insert(id, url);
        }
    }
    chat.matched = Some(outcome.clone());
    // A lookup a CRM failed (rate limit, outage) is not a decision: try again at the next
    // capture or cycle instead of trusting "no match" for a day.
    chat.matched_at_ms = errors.is_empty().then_some(now_ms);
    store.put("chats", &key, &chat).await?;
    Ok((outcome, errors))
}

/// The first linked record's recent deals / opportunities.
async fn card_deals(
    links: &[RecordRef],
    connectors: &[Box<dyn Connector>],
    errors: &mut Vec<String>,
) -> Vec<crate::core::view::DealRow> {
    let Some(first) = links.first() else { return Vec::new() };
    let Some(c) = connectors.iter().find(|c| c.crm() == first.crm) else { return Vec::new() };
    let Some(req) = c.deals_request(first) else { return Vec::new() };
    match c.parse_deal_rows(&transport::perform(&req).await) {
        Ok(rows) => rows,
        Err(e) => {
            errors.push(format!("{}: {}", c.crm().name(), super::sync::describe(&e)));
            Vec::new()
        }
    }
}
