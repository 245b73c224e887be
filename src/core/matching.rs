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
    let Some(best_how) = found.iter().map(|(h, _, _)| *h).min() else {
        return MatchOutcome::NoMatch { reason: "no CRM record has this number".into() };
    };
    found.retain(|(h, _, _)| *h == best_how);
    // Contacts before leads: a lead with the same number is usually the pre-conversion copy.
    if let Some(best_kind) = found.iter().map(|(_, k, _)| *k).min() {
        found.retain(|(_, k, _)| *k == best_kind);
    }
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
}
