//! Which CRM record is this chat with? Candidates come from the CRMs' own searches; this
//! decides among them, and remembers what the rep decided by hand.
//!
//! Order of authority: a remembered manual link wins; records the rep unlinked never come
//! back automatically; then automatic matching ranks exact E.164 over a folded (WhatsApp
//! quirk) match, contacts over leads; records tied at the top make an explicit `Ambiguous`
//! outcome for the rep to choose from, never a guess.
use crate::core::model::{CrmRecord, RecordKind, RecordRef, WaIdentity};
use crate::core::phone::{parse_crm_phone, same_line};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// The rep linked it by hand (also the only way for `@lid` chats without a number).
    Manual,
    /// A CRM phone field parses to exactly the WhatsApp number.
    Exact,
    /// Same line once WhatsApp's country quirks are folded (BR 9th digit, MX 521, AR 549/15).
    Folded,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub record: RecordRef,
    pub name: String,
    pub how: How,
    /// The CRM field that matched and its raw value, for "why this record" in the panel.
    pub field: Option<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum MatchOutcome {
    Linked {
        records: Vec<Candidate>,
    },
    Ambiguous {
        candidates: Vec<Candidate>,
    },
    /// No record: offer create / link existing. `reason` says why (e.g. no number).
    NoMatch {
        reason: String,
    },
}

/// Manual decisions, keyed by `WaIdentity::chat_key()`. Serialized as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Links {
    #[serde(default)]
    pub linked: BTreeMap<String, Vec<RecordRef>>,
    #[serde(default)]
    pub unlinked: BTreeMap<String, BTreeSet<RecordRef>>,
}

impl Links {
    pub fn link(&mut self, chat: &str, record: RecordRef) {
        if let Some(u) = self.unlinked.get_mut(chat) {
            u.remove(&record);
        }
        let l = self.linked.entry(chat.to_string()).or_default();
        if !l.contains(&record) {
            l.push(record);
        }
    }

    /// Unlink: remembered, so automatic matching will not bring the record back.
    pub fn unlink(&mut self, chat: &str, record: &RecordRef) {
        if let Some(l) = self.linked.get_mut(chat) {
            l.retain(|r| r != record);
            if l.is_empty() {
                self.linked.remove(chat);
            }
        }
        self.unlinked.entry(chat.to_string()).or_default().insert(record.clone());
    }
}

/// The best way `record` matches `phone`, and through which field. A CRM value typed in
/// national form is read in the rep's default region and in the chat number's own country
/// (a Brazilian contact's "(11) 98765-4321" is Brazilian whatever the rep's region).
fn record_match(phone: &str, record: &CrmRecord, region: &str) -> Option<(How, (String, String))> {
    let mut best: Option<(How, (String, String))> = None;
    let own = crate::core::phone::region_of(phone);
    let regions: Vec<&str> =
        std::iter::once(region).chain(own.as_deref().filter(|r| *r != region)).collect();
    for (field, raw) in &record.phones {
        let mut numbers: Vec<String> = Vec::new();
        for r in &regions {
            for n in parse_crm_phone(raw, r).unwrap_or_default() {
                if !numbers.contains(&n) {
                    numbers.push(n);
                }
            }
        }
        for n in numbers {
            let how = match same_line(phone, &n) {
                Some(true) => How::Exact,
                Some(false) => How::Folded,
                None => continue,
            };
            if best.as_ref().is_none_or(|(h, _)| how < *h) {
                best = Some((how, (field.clone(), raw.clone())));
            }
        }
    }
    best
}

fn record_ref(r: &CrmRecord) -> Option<RecordRef> {
    Some(RecordRef { crm: r.crm?, kind: r.kind?, id: r.id.clone() })
}

/// Decide which records `identity` is linked to. `region`: the rep's default phone region
/// for reading CRM fields typed without a country code.
pub fn match_chat(
    identity: &WaIdentity,
    candidates: &[CrmRecord],
    links: &Links,
    region: &str,
) -> MatchOutcome {
    // A decision made while the chat was `@lid`-only still holds once its number shows.
    let lid_key = identity.lid.as_ref().map(|l| format!("lid:{l}"));
    let keys: Vec<String> = std::iter::once(identity.chat_key()).chain(lid_key).collect();
    let manual = keys.iter().find_map(|k| links.linked.get(k).filter(|l| !l.is_empty()));
    if let Some(manual) = manual {
        let records = manual
            .iter()
            .map(|r| Candidate {
                record: r.clone(),
                name: candidates
                    .iter()
                    .find(|c| record_ref(c).as_ref() == Some(r))
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                how: How::Manual,
                field: None,
            })
            .collect();
        return MatchOutcome::Linked { records };
    }
    let Some(phone) = identity.phone.as_deref() else {
        let reason = if identity.lid.is_some() {
            "WhatsApp shows no phone number for this chat (a private @lid identity): link a record by hand"
        } else {
            "no phone number is known for this chat"
        };
        return MatchOutcome::NoMatch { reason: reason.into() };
    };
    let unlinked: BTreeSet<RecordRef> =
        keys.iter().filter_map(|k| links.unlinked.get(k)).flatten().cloned().collect();
    let mut found: Vec<(How, RecordKind, Candidate)> = Vec::new();
    for c in candidates {
        let Some(r) = record_ref(c) else { continue };
        if unlinked.contains(&r) || found.iter().any(|(_, _, f)| f.record == r) {
            continue;
        }
        if let Some((how, field)) = record_match(phone, c, region) {
            found.push((
                how,
                r.kind,
                Candidate { record: r, name: c.name.clone(), how, field: Some(field) },
            ));
        }
    }
    if found.is_empty() {
        return MatchOutcome::NoMatch { reason: "no CRM record has this number".into() };
    }
    // Each CRM is ranked on its own (the rep may keep contacts in one CRM and leads in
    // another): its closest way of matching, then contacts before leads, since a lead with
    // the same number in that CRM is usually the pre-conversion copy.
    let mut best: BTreeMap<_, (How, RecordKind)> = BTreeMap::new();
    for (how, kind, c) in &found {
        let b = best.entry(c.record.crm).or_insert((*how, *kind));
        *b = (*b).min((*how, *kind));
    }
    found.retain(|(h, k, c)| best.get(&c.record.crm) == Some(&(*h, *k)));
    // One record per CRM is a link to each CRM (a rep may use several); two records of
    // one CRM tied at the top is a question for the rep.
    let mut per_crm: BTreeMap<_, usize> = BTreeMap::new();
    for (_, _, c) in &found {
        *per_crm.entry(c.record.crm).or_default() += 1;
    }
    let candidates: Vec<Candidate> = found.into_iter().map(|(_, _, c)| c).collect();
    if per_crm.values().any(|n| *n > 1) {
        MatchOutcome::Ambiguous { candidates }
    } else {
        MatchOutcome::Linked { records: candidates }
    }
}

/// Whether a CRM's leads could still change the match of `phone` once its contacts were
/// searched (`found`: what that CRM answered so far). Not when one of its contacts carries
/// exactly this number: `match_chat` ranks each CRM's records by how they match, then
/// contacts before leads, so no lead can outrank or tie with that contact, and its leads'
/// search (a call, a Zoho credit) is skipped. Callers ask only when the chat has no manual
/// link and no unlinked record, and the rep searches contacts (those change the ranking).
pub fn leads_can_change(
    phone: &str,
    crm: crate::core::model::Crm,
    found: &[CrmRecord],
    region: &str,
) -> bool {
    !found.iter().any(|c| {
        c.crm == Some(crm)
            && c.kind == Some(RecordKind::Contact)
            && record_match(phone, c, region).is_some_and(|(how, _)| how == How::Exact)
    })
}

/// What matching needs from a CRM connector, sans-IO: the search calls for one WhatsApp
/// number's query variants, and the records each answer holds (with every phone field).
pub trait RecordFinder {
    fn crm(&self) -> crate::core::model::Crm;
    fn search_requests(&self, variants: &[String]) -> Vec<crate::core::http::HttpRequest>;
    fn parse_search(
        &self,
        resp: &crate::core::http::HttpResponse,
    ) -> Result<Vec<CrmRecord>, crate::core::policy::Failure>;
}

/// The senders of a group chat seen so far: (name, E.164), one per number, first seen first.
pub fn group_senders<'a>(
    messages: impl IntoIterator<Item = &'a crate::core::outbox::OutboxMessage>,
    chat_key: &str,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for m in messages {
        let Some(p) = m.message.sender.phone.as_ref().filter(|_| m.message.chat == chat_key) else {
            continue;
        };
        if !out.iter().any(|(_, q)| q == p) {
            out.push((m.message.sender.name.clone(), p.clone()));
        }
    }
    out
}

/// One group participant with a number, and what the CRMs answered for that number.
pub struct ParticipantLookup {
    pub name: String,
    pub phone: String,
    pub found: Vec<CrmRecord>,
}

/// A group's matching decision: where its backup goes and what the panel lists.
#[derive(Debug, PartialEq)]
pub struct GroupMatch {
    pub outcome: MatchOutcome,
    /// Every record the group's backup goes to: those linked to the group by hand, then each
    /// participant's own links, once each.
    pub links: Vec<RecordRef>,
    pub participants: Vec<crate::core::model::Participant>,
    pub cards: Vec<CrmRecord>,
}

/// Each participant with a number is matched like a 1:1 chat; the group links to every
/// record found (the planner titles the backup with the group's name).
pub fn match_group(
    group_key: &str,
    lookups: Vec<ParticipantLookup>,
    links: &Links,
    region: &str,
) -> GroupMatch {
    let mut records: Vec<RecordRef> = links.linked.get(group_key).cloned().unwrap_or_default();
    let mut participants = Vec::new();
    let mut cards = Vec::new();
    for ParticipantLookup { name, phone, found } in lookups {
        let who = WaIdentity {
            phone: Some(phone.clone()),
            lid: None,
            name: name.clone(),
            is_group: false,
        };
        let mine = linked_records(&match_chat(&who, &found, links, region));
        let label = mine.first().map(|r| {
            let n = found.iter().find(|c| c.id == r.id).map_or(r.id.as_str(), |c| &c.name);
            format!("{n} ({})", r.crm.name())
        });
        participants.push(crate::core::model::Participant {
            name,
            phone: Some(phone),
            record: label,
            linked: mine.first().cloned(),
            url: None,
        });
        for r in mine {
            if !records.contains(&r) {
                records.push(r);
            }
        }
        cards.extend(found);
    }
    let outcome = if records.is_empty() {
        MatchOutcome::NoMatch { reason: "no participant of this group is in the CRM".into() }
    } else {
        MatchOutcome::Linked { records: vec![] }
    };
    GroupMatch { outcome, links: records, participants, cards }
}

/// The records a decision links the chat to (none unless linked).
pub fn linked_records(outcome: &MatchOutcome) -> Vec<RecordRef> {
    match outcome {
        MatchOutcome::Linked { records } => records.iter().map(|c| c.record.clone()).collect(),
        _ => Vec::new(),
    }
}

/// The cards a 1:1 chat shows: the phone search's results, then any earlier card the search
/// did not return (a record linked by hand from a name search keeps its card).
pub fn keep_earlier_cards(found: Vec<CrmRecord>, earlier: Vec<CrmRecord>) -> Vec<CrmRecord> {
    let mut cards = found;
    for old in earlier {
        if !cards.iter().any(|c| c.id == old.id && c.crm == old.crm) {
            cards.push(old);
        }
    }
    cards
}

/// Merge search results from several calls: one entry per record, first seen wins.
pub fn merge_candidates(batches: impl IntoIterator<Item = Vec<CrmRecord>>) -> Vec<CrmRecord> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for batch in batches {
        for r in batch {
            if seen.insert((r.crm, r.kind, r.id.clone())) {
                out.push(r);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::Crm;

    fn rec(crm: Crm, kind: RecordKind, id: &str, phones: &[(&str, &str)]) -> CrmRecord {
        CrmRecord {
            crm: Some(crm),
            kind: Some(kind),
            id: id.into(),
            name: format!("name {id}"),
            phones: phones.iter().map(|(f, v)| (f.to_string(), v.to_string())).collect(),
            ..Default::default()
        }
    }

    fn chat(phone: &str) -> WaIdentity {
        WaIdentity { phone: Some(phone.into()), lid: None, name: "x".into(), is_group: false }
    }

    fn linked_ids(o: &MatchOutcome) -> Vec<(String, How)> {
        match o {
            MatchOutcome::Linked { records } => {
                records.iter().map(|c| (c.record.id.clone(), c.how)).collect()
            }
            other => panic!("expected a link, got {other:?}"),
        }
    }

    #[test]
    fn exact_beats_folded_and_any_phone_field_counts() {
        let cands = [
            rec(Crm::Zoho, RecordKind::Contact, "folded", &[("Phone", "+54 11 2345-6789")]),
            rec(
                Crm::Zoho,
                RecordKind::Contact,
                "exact",
                &[("Phone", "n/a"), ("Asst_Phone", "+54 9 11 2345-6789")],
            ),
        ];
        assert_eq!(
            linked_ids(&match_chat(&chat("+5491123456789"), &cands, &Links::default(), "AR")),
            [("exact".into(), How::Exact)]
        );
        // An old 8-digit Brazilian mobile in the CRM is the same line as the modern number.
        let br = [rec(Crm::Zoho, RecordKind::Contact, "old", &[("Phone", "+55 11 8765-4321")])];
        assert_eq!(
            linked_ids(&match_chat(&chat("+5511987654321"), &br, &Links::default(), "US")),
            [("old".into(), How::Exact)]
        );
    }

    #[test]
    fn old_whatsapp_forms_match_through_folding() {
        // WhatsApp account registered before the 9th digit; the CRM has the modern number.
        let cands = [rec(Crm::Zoho, RecordKind::Contact, "ana", &[("Mobile", "(11) 98765-4321")])];
        assert_eq!(
            linked_ids(&match_chat(&chat("+551187654321"), &cands, &Links::default(), "BR")),
            [("ana".into(), How::Folded)]
        );
        let mx = [rec(Crm::Salesforce, RecordKind::Lead, "mx", &[("MobilePhone", "55 1234 5678")])];
        assert_eq!(
            linked_ids(&match_chat(&chat("+5215512345678"), &mx, &Links::default(), "MX")),
            [("mx".into(), How::Folded)]
        );
        let ar = [rec(Crm::Leadsquared, RecordKind::Lead, "ar", &[("Phone", "+54 11 2345-6789")])];
        assert_eq!(
            linked_ids(&match_chat(&chat("+5491123456789"), &ar, &Links::default(), "AR")),
            [("ar".into(), How::Folded)]
        );
    }

    #[test]
    fn contacts_before_leads_and_ties_are_ambiguous() {
        let cands = [
            rec(Crm::Zoho, RecordKind::Lead, "lead", &[("Mobile", "+1 415 555 2671")]),
            rec(Crm::Zoho, RecordKind::Contact, "contact", &[("Phone", "(415) 555-2671")]),
        ];
        assert_eq!(
            linked_ids(&match_chat(&chat("+14155552671"), &cands, &Links::default(), "US")),
            [("contact".into(), How::Exact)]
        );
        let tie = [
            rec(Crm::Zoho, RecordKind::Contact, "a", &[("Phone", "+14155552671")]),
            rec(Crm::Zoho, RecordKind::Contact, "b", &[("Mobile", "415-555-2671")]),
        ];
        match match_chat(&chat("+14155552671"), &tie, &Links::default(), "US") {
            MatchOutcome::Ambiguous { candidates } => assert_eq!(candidates.len(), 2),
            other => panic!("{other:?}"),
        }
        // One record in each of two CRMs: linked to both.
        let two = [
            rec(Crm::Zoho, RecordKind::Contact, "z", &[("Phone", "+14155552671")]),
            rec(Crm::Salesforce, RecordKind::Contact, "s", &[("Phone", "+14155552671")]),
        ];
        assert_eq!(
            linked_ids(&match_chat(&chat("+14155552671"), &two, &Links::default(), "US")).len(),
            2
        );
    }

    #[test]
    fn each_crm_is_ranked_on_its_own() {
        // A contact in Zoho does not hide the lead LeadSquared holds for the same number.
        let cands = [
            rec(Crm::Zoho, RecordKind::Contact, "zc", &[("Phone", "+14155552671")]),
            rec(Crm::Zoho, RecordKind::Lead, "zl", &[("Phone", "+14155552671")]),
            rec(Crm::Leadsquared, RecordKind::Lead, "ll", &[("Phone", "+14155552671")]),
            rec(Crm::Salesforce, RecordKind::Contact, "sf", &[("Phone", "415-555-2671")]),
        ];
        let mut got =
            linked_ids(&match_chat(&chat("+14155552671"), &cands, &Links::default(), "US"));
        got.sort();
        assert_eq!(
            got,
            [("ll".into(), How::Exact), ("sf".into(), How::Exact), ("zc".into(), How::Exact)]
        );
    }

    fn said(chat: &str, name: &str, phone: Option<&str>) -> crate::core::outbox::OutboxMessage {
        use crate::core::model::{Direction, Message, Sender};
        crate::core::outbox::OutboxMessage {
            message: Message::text(
                format!("{chat}-{name}"),
                chat,
                Direction::In,
                Sender { name: name.into(), phone: phone.map(Into::into) },
                None,
                String::new(),
            ),
            captured_at_ms: 1,
            synced: false,
        }
    }

    #[test]
    fn a_groups_senders_are_its_numbers_once_each_in_the_order_seen() {
        let msgs = [
            said("g:1", "Liam", Some("+14155552671")),
            said("g:2", "Other group", Some("+5511987654321")),
            said("g:1", "You", None),
            said("g:1", "Ana", Some("+5511987654321")),
            said("g:1", "Liam again", Some("+14155552671")),
        ];
        assert_eq!(
            group_senders(&msgs, "g:1"),
            [
                ("Liam".to_string(), "+14155552671".to_string()),
                ("Ana".into(), "+5511987654321".into())
            ]
        );
    }

    #[test]
    fn a_group_links_to_each_participants_records_and_to_its_own_links() {
        let by_hand = RecordRef { crm: Crm::Zoho, kind: RecordKind::Contact, id: "boss".into() };
        let mut links = Links::default();
        links.linked.insert("g:1".into(), vec![by_hand.clone()]);
        let liam = rec(Crm::Salesforce, RecordKind::Contact, "liam", &[("Phone", "+14155552671")]);
        let lookups = vec![
            ParticipantLookup {
                name: "Liam".into(),
                phone: "+14155552671".into(),
                found: vec![liam.clone()],
            },
            ParticipantLookup {
                name: "Nobody".into(),
                phone: "+14155550000".into(),
                found: vec![],
            },
        ];
        let g = match_group("g:1", lookups, &links, "US");
        assert_eq!(g.outcome, MatchOutcome::Linked { records: vec![] });
        assert_eq!(g.links, [by_hand, record_ref(&liam).unwrap()]);
        assert_eq!(g.participants[0].record.as_deref(), Some("name liam (Salesforce)"));
        assert_eq!(g.participants[0].linked, record_ref(&liam));
        assert_eq!(g.participants[1].record, None);
        assert_eq!(g.cards, [liam]);
        let none = match_group(
            "g:2",
            vec![ParticipantLookup {
                name: "Nobody".into(),
                phone: "+14155550000".into(),
                found: vec![],
            }],
            &Links::default(),
            "US",
        );
        assert!(matches!(none.outcome, MatchOutcome::NoMatch { .. }) && none.links.is_empty());
    }

    #[test]
    fn a_card_linked_by_hand_stays_when_the_phone_search_misses_it() {
        let found = vec![rec(Crm::Zoho, RecordKind::Contact, "a", &[])];
        let earlier = vec![
            rec(Crm::Zoho, RecordKind::Contact, "a", &[("Phone", "old copy")]),
            rec(Crm::Salesforce, RecordKind::Contact, "a", &[]),
            rec(Crm::Zoho, RecordKind::Lead, "hand", &[]),
        ];
        let cards = keep_earlier_cards(found, earlier);
        let ids: Vec<_> = cards.iter().map(|c| (c.crm, c.id.as_str(), c.phones.len())).collect();
        assert_eq!(
            ids,
            [
                (Some(Crm::Zoho), "a", 0),
                (Some(Crm::Salesforce), "a", 0),
                (Some(Crm::Zoho), "hand", 0)
            ]
        );
    }

    #[test]
    fn national_crm_numbers_are_read_in_the_chat_numbers_country_too() {
        // A rep in the US saves a Brazilian contact the Brazilian way.
        let cands = [rec(Crm::Zoho, RecordKind::Contact, "ana", &[("Mobile", "(11) 98765-4321")])];
        assert_eq!(
            linked_ids(&match_chat(&chat("+5511987654321"), &cands, &Links::default(), "US")),
            [("ana".into(), How::Exact)]
        );
        // …but a US-looking national number never becomes Brazilian for a US chat.
        let us = [rec(Crm::Zoho, RecordKind::Contact, "x", &[("Phone", "(11) 98765-4321")])];
        assert!(matches!(
            match_chat(&chat("+14155552671"), &us, &Links::default(), "US"),
            MatchOutcome::NoMatch { .. }
        ));
    }

    #[test]
    fn near_misses_never_match() {
        let cands = [
            rec(Crm::Zoho, RecordKind::Contact, "other", &[("Phone", "(11) 98765-4322")]),
            rec(Crm::Zoho, RecordKind::Contact, "uk", &[("Phone", "020 7946 0958")]),
        ];
        assert!(matches!(
            match_chat(&chat("+5511987654321"), &cands, &Links::default(), "US"),
            MatchOutcome::NoMatch { .. }
        ));
    }

    #[test]
    fn manual_links_and_unlinks_win_and_are_remembered() {
        let ana = rec(Crm::Zoho, RecordKind::Contact, "ana", &[("Mobile", "(11) 98765-4321")]);
        let other = rec(Crm::Zoho, RecordKind::Contact, "other", &[]);
        let id = chat("+5511987654321");
        let mut links = Links::default();
        links.unlink(
            &id.chat_key(),
            &RecordRef { crm: Crm::Zoho, kind: RecordKind::Contact, id: "ana".into() },
        );
        assert!(matches!(
            match_chat(&id, std::slice::from_ref(&ana), &links, "BR"),
            MatchOutcome::NoMatch { .. }
        ));
        links.link(
            &id.chat_key(),
            RecordRef { crm: Crm::Zoho, kind: RecordKind::Contact, id: "other".into() },
        );
        assert_eq!(
            linked_ids(&match_chat(&id, &[ana, other], &links, "BR")),
            [("other".into(), How::Manual)]
        );
        // Stored and read back.
        let back: Links = serde_json::from_str(&serde_json::to_string(&links).unwrap()).unwrap();
        assert_eq!(back, links);
    }

    #[test]
    fn lid_only_chats_ask_for_a_manual_link() {
        let id = WaIdentity {
            phone: None,
            lid: Some("196271432331425@lid".into()),
            name: "Ana".into(),
            is_group: false,
        };
        match match_chat(&id, &[], &Links::default(), "BR") {
            MatchOutcome::NoMatch { reason } => assert!(reason.contains("@lid")),
            other => panic!("{other:?}"),
        }
        let mut links = Links::default();
        links.link(
            &id.chat_key(),
            RecordRef { crm: Crm::Salesforce, kind: RecordKind::Lead, id: "00Q1".into() },
        );
        assert_eq!(linked_ids(&match_chat(&id, &[], &links, "BR")), [("00Q1".into(), How::Manual)]);
        // Later WhatsApp reveals the number: the link made on the @lid still wins, and an
        // unlink made on the @lid still keeps the record away.
        let known = WaIdentity { phone: Some("+5511987654321".into()), ..id.clone() };
        let ana = rec(Crm::Zoho, RecordKind::Contact, "ana", &[("Mobile", "(11) 98765-4321")]);
        assert_eq!(
            linked_ids(&match_chat(&known, std::slice::from_ref(&ana), &links, "BR")),
            [("00Q1".into(), How::Manual)]
        );
        let mut unlinks = Links::default();
        unlinks.unlink(
            &id.chat_key(),
            &RecordRef { crm: Crm::Zoho, kind: RecordKind::Contact, id: "ana".into() },
        );
        assert!(matches!(match_chat(&known, &[ana], &unlinks, "BR"), MatchOutcome::NoMatch { .. }));
    }
    /// A contact with exactly the number settles its CRM's match: whatever its leads hold,
    /// the outcome is the same, so their search is skipped. A contact matched only once
    /// folded (Brazil's 9th digit), or another CRM's contact, does not settle it.
    #[test]
    fn an_exact_contact_makes_the_leads_search_unneeded() {
        let wa = "+5491123456789";
        let exact = rec(Crm::Zoho, RecordKind::Contact, "c", &[("Mobile", "+54 9 11 2345-6789")]);
        let folded = rec(Crm::Zoho, RecordKind::Contact, "f", &[("Mobile", "+54 11 2345-6789")]);
        let sf = rec(Crm::Salesforce, RecordKind::Contact, "s", &[("Phone", "+54 9 11 2345-6789")]);
        let leads = [
            rec(Crm::Zoho, RecordKind::Lead, "l1", &[("Phone", "+54 9 11 2345-6789")]),
            rec(Crm::Zoho, RecordKind::Lead, "l2", &[("Phone", "+54 9 11 2345-6789")]),
        ];
        assert!(!leads_can_change(wa, Crm::Zoho, std::slice::from_ref(&exact), "AR"));
        assert!(leads_can_change(wa, Crm::Zoho, std::slice::from_ref(&folded), "AR"));
        assert!(leads_can_change(wa, Crm::Zoho, std::slice::from_ref(&sf), "AR"));
        assert!(leads_can_change(wa, Crm::Zoho, &[], "AR"));
        // Settled: the same decision with or without any of the leads.
        let decide = |found: Vec<CrmRecord>| match_chat(&chat(wa), &found, &Links::default(), "AR");
        let alone = decide(vec![exact.clone()]);
        assert_eq!(linked_ids(&alone), vec![("c".to_string(), How::Exact)]);
        for n in 0..=leads.len() {
            let mut with = vec![exact.clone()];
            with.extend(leads[..n].iter().cloned());
            assert_eq!(decide(with), alone, "{n} leads");
        }
        // Not settled: an exact lead outranks a folded contact.
        let with = vec![folded.clone(), leads[0].clone()];
        assert_eq!(linked_ids(&decide(with)), vec![("l1".to_string(), How::Exact)]);
    }
}

/// What to search the CRM for when a chat shows no number (`@lid`, usernames): an e-mail
/// address seen in the chat, else the chat's name. Only a suggestion: the rep confirms a
/// record before anything is linked (a name alone never links).
pub fn suggestion_query<'a>(
    chat_name: &str,
    texts: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let email = texts.into_iter().flat_map(str::split_whitespace).find_map(|w| {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric());
        let (user, host) = w.split_once('@')?;
        let ok = !user.is_empty()
            && host.contains('.')
            && !host.starts_with('.')
            && !host.ends_with('.')
            && w.chars().all(|c| c.is_alphanumeric() || "@.-_+".contains(c));
        ok.then(|| w.to_lowercase())
    });
    email.or_else(|| {
        // The title without WhatsApp's marks; a number shown as a title is no name.
        let name = chat_name.trim().trim_start_matches('~').trim();
        (name.chars().any(char::is_alphabetic) && name.chars().count() <= 100)
            .then(|| name.to_string())
    })
}

#[cfg(test)]
mod suggestion_tests {
    use super::suggestion_query;

    #[test]
    fn an_email_in_the_chat_comes_first_then_the_name_never_a_number() {
        assert_eq!(
            suggestion_query("Marina", ["my mail is Marina.Lopes@example.com, thanks"]).as_deref(),
            Some("marina.lopes@example.com")
        );
        assert_eq!(
            suggestion_query(" ~Marina ", ["no address here", "a@b"]).as_deref(),
            Some("Marina")
        );
        assert_eq!(suggestion_query("+55 11 98765-4321", []), None);
        assert_eq!(suggestion_query("", []), None);
    }
}
