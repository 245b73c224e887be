//! Resolving the open chat to CRM records, as the worker runs it: the CRMs' own phone
//! searches with every query variant, then `core::matching` decides, then the result is
//! stored on the chat (its links are what the sync writes to).
use super::store::Store;
use super::transport;
use crate::core::matching::{match_chat, merge_candidates, Links, MatchOutcome, RecordFinder};
use crate::core::model::WaIdentity;
use crate::core::phone::search_variants;
use crate::core::sync::ChatRecord;
use wasm_bindgen::JsValue;

pub async fn links(store: &Store) -> Result<Links, JsValue> {
    Ok(store.get("meta", "links").await?.unwrap_or_default())
}

/// Look the chat up in every connected CRM and store the decision. Search failures of one
/// CRM leave the others' results usable; the error is returned for the panel alongside.
pub async fn resolve(
    store: &Store,
    identity: &WaIdentity,
    finders: &[Box<dyn RecordFinder>],
    region: &str,
    now_ms: u64,
) -> Result<(MatchOutcome, Vec<String>), JsValue> {
    let mut errors = Vec::new();
    let mut batches = Vec::new();
    if let Some(phone) = identity.phone.as_deref() {
        let variants = search_variants(phone);
        for f in finders {
            for req in f.search_requests(&variants) {
                let resp = transport::perform(&req).await;
                match f.parse_search(&resp) {
                    Ok(records) => batches.push(records),
                    Err(e) => {
                        errors.push(format!("{}: {}", f.crm().name(), super::sync::describe(&e)));
                        break; // the same failure would repeat for the other variants
                    }
                }
            }
        }
    }
    let candidates = merge_candidates(batches);
    let outcome = match_chat(identity, &candidates, &links(store).await?, region);
    let key = identity.chat_key();
    let mut chat: ChatRecord = store.get("chats", &key).await?.unwrap_or_default();
    chat.identity = identity.clone();
    chat.links = match &outcome {
        MatchOutcome::Linked { records } => records.iter().map(|c| c.record.clone()).collect(),
        _ => Vec::new(),
    };
    chat.matched = Some(outcome.clone());
    chat.matched_at_ms = Some(now_ms);
    chat.cards = candidates;
    store.put("chats", &key, &chat).await?;
    Ok((outcome, errors))
}
