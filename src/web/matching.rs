//! Resolving the open chat to CRM records, as the worker runs it: the CRMs' own phone
//! searches with every query variant, then `core::matching` decides, then the result is
//! stored on the chat (its links are what the sync writes to), with what the panel's card
//! needs (record links, recent deals). A group links to every participant's record.
use super::store::Store;
use super::transport;
use crate::core::matching::{
    group_senders, keep_earlier_cards, leads_can_change, linked_records, match_chat, match_group,
    merge_candidates, Links, MatchOutcome, ParticipantLookup,
};
use crate::core::model::{CrmRecord, RecordRef, WaIdentity};
use crate::core::outbox::OutboxMessage;
use crate::core::phone::search_variants;
use crate::core::store::{meta, Table};
use crate::core::sync::ChatRecord;
use crate::crm::Connector;
use wasm_bindgen::JsValue;

pub async fn links(store: &Store) -> Result<Links, JsValue> {
    Ok(store.meta(&meta::LINKS).await?.unwrap_or_default())
}

/// Every connected CRM's records for one number. A CRM that fails leaves the others'
/// results usable; its error is returned alongside. `settle_in`: the rep's region when a
/// CRM's contacts may settle the match alone (a 1:1 chat with no manual link or unlinked
/// record): its leads' search is then skipped where it would change nothing
/// (`leads_can_change`).
async fn lookup(
    phone: &str,
    connectors: &[Box<dyn Connector>],
    errors: &mut Vec<String>,
    settle_in: Option<&str>,
) -> Vec<CrmRecord> {
    // Only the modules the rep chose to match against.
    let settings: crate::core::view::Settings = match Store::open().await {
        Ok(s) => s.meta(&meta::SETTINGS).await.ok().flatten().unwrap_or_default(),
        Err(_) => Default::default(),
    };
    let settle_in =
        settle_in.filter(|_| settings.searches(Some(crate::core::model::RecordKind::Contact)));
    let variants = search_variants(phone);
    let mut batches = Vec::new();
    for c in connectors {
        let mut mine: Vec<CrmRecord> = Vec::new();
        for req in c.search_requests(&variants) {
            if let Some(region) = settle_in {
                if c.searches_leads_only(&req) && !leads_can_change(phone, c.crm(), &mine, region) {
                    continue;
                }
            }
            let resp = transport::perform(&req).await;
            match c.parse_search_of(&req, &resp) {
                Ok(records) => {
                    mine.extend(records.iter().cloned());
                    batches.push(records);
                }
                Err(e) => {
                    errors.push(format!("{}: {}", c.crm().name(), super::sync::describe(&e)));
                    break; // the same failure would repeat for the other variants
                }
            }
        }
    }
    let mut found = merge_candidates(batches);
    found.retain(|c| settings.searches(c.kind));
    found
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
    let mut chat: ChatRecord = store.get(Table::Chats, &key).await?.unwrap_or_default();
    chat.identity = identity.clone();
    let outcome;
    if identity.is_group {
        let messages: Vec<OutboxMessage> = store
            .all::<OutboxMessage>(Table::Messages)
            .await?
            .into_iter()
            .map(|(_, m)| m)
            .collect();
        let mut lookups = Vec::new();
        for (name, phone) in group_senders(&messages, &key) {
            let found = lookup(&phone, connectors, &mut errors, None).await;
            lookups.push(ParticipantLookup { name, phone, found });
        }
        let g = match_group(&key, lookups, &links, region);
        outcome = g.outcome;
        chat.links = g.links;
        chat.participants = g.participants;
        chat.cards = g.cards;
    } else {
        let by_hand = std::iter::once(key.clone())
            .chain(identity.lid.as_ref().map(|l| format!("lid:{l}")))
            .any(|k| links.linked.contains_key(&k) || links.unlinked.contains_key(&k));
        let candidates = match identity.phone.as_deref() {
            Some(phone) => {
                lookup(phone, connectors, &mut errors, (!by_hand).then_some(region)).await
            }
            None => Vec::new(),
        };
        chat.cards = keep_earlier_cards(candidates, std::mem::take(&mut chat.cards));
        outcome = match_chat(identity, &chat.cards, &links, region);
        chat.links = linked_records(&outcome);
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
    store.put(Table::Chats, &key, &chat).await?;
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
