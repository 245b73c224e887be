//! Which CRM record a WhatsApp chat belongs to.
//!
//! [`match_chat`]`(identity, candidates, links, region) -> MatchOutcome`:
//! 1. A manual link the user made for this chat wins over everything (also for `@lid`-only
//!    chats and groups, which have no number to match).
//! 2. Records the user unlinked from this chat are never matched automatically again.
//! 3. Otherwise every phone-type field of every candidate is parsed ([`phone::parse_crm_phone`]
//!    with the user's default region) and compared with the chat's number: exact E.164 beats a
//!    folded match ([`phone::match_key`]: Brazil 9th digit, Mexico `521`, Argentina `549`).
//!    Among the best, contacts come before leads. Several records left → [`MatchOutcome::Ambiguous`]
//!    with all of them, for the user to choose (and the choice becomes a manual link).
//!
//! [`Links`] is the remembered manual decisions: pure data, serde-serializable, keyed by chat
//! (`pn:<folded E.164>` and `lid:<id>`, so a decision made on either identity is found later).
use super::model::{Crm, CrmRecord, RecordKind, RecordRef, WaIdentity};
use super::phone;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How well a record's phone field matched the chat's number. Ordered: `Exact` is best.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    Exact,
    Folded,
}

/// A record that matched automatically, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub record: CrmRecord,
    pub strength: Strength,
    /// The phone field (API name) that matched, and its E.164 reading.
    pub field: String,
    pub e164: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoMatchReason {
    /// No phone number known for the chat (an `@lid`-only chat, a group) and no manual link.
    NoPhone,
    /// No candidate has a phone field that denotes this number.
    NoPhoneMatch,
    /// Candidates matched, but the user unlinked every one of them from this chat.
    AllUnlinked,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum MatchOutcome {
    /// The user linked this chat to this record by hand. `record` is the candidate's data
    /// when it was among the candidates (else the shell fetches it).
    Linked { link: RecordRef, record: Option<CrmRecord> },
    Matched { candidate: Candidate },
    Ambiguous { candidates: Vec<Candidate> },
    NoMatch { reason: NoMatchReason },
}

/// Manual decisions for one chat.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatLinks {
    /// At most one record per CRM.
    #[serde(default)]
    pub linked: Vec<RecordRef>,
    #[serde(default)]
    pub unlinked: Vec<RecordRef>,
}

/// The manual link/unlink decisions the user made, by chat.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Links {
    #[serde(default)]
    pub chats: BTreeMap<String, ChatLinks>,
}

impl Links {
    /// Every key a chat is remembered under: its folded number and its `@lid`.
    pub fn chat_keys(identity: &WaIdentity) -> Vec<String> {
        let mut keys = Vec::new();
        if let Some(p) = identity.phone.as_deref().filter(|p| !p.trim().is_empty()) {
            keys.push(format!("pn:{}", phone::match_key(p)));
        }
        if let Some(l) = identity.lid.as_deref().filter(|l| !l.trim().is_empty()) {
            keys.push(format!("lid:{l}"));
        }
        if keys.is_empty() {
            // No stable id: fall back to the model's (title-based) key.
            keys.push(identity.chat_key());
        }
        keys
    }

    /// Links the chat to `record` (replacing its link in the same CRM) and forgets an unlink.
    pub fn link(&mut self, identity: &WaIdentity, record: RecordRef) {
        for key in Self::chat_keys(identity) {
            let c = self.chats.entry(key).or_default();
            c.linked.retain(|r| r.crm != record.crm);
            c.unlinked.retain(|r| *r != record);
            c.linked.push(record.clone());
        }
    }

    /// Unlinks `record` from the chat and remembers not to match it again.
    pub fn unlink(&mut self, identity: &WaIdentity, record: RecordRef) {
        for key in Self::chat_keys(identity) {
            let c = self.chats.entry(key).or_default();
            c.linked.retain(|r| *r != record);
            if !c.unlinked.contains(&record) {
                c.unlinked.push(record.clone());
            }
        }
    }

    /// Drops every decision about the chat (back to automatic matching).
    pub fn forget(&mut self, identity: &WaIdentity) {
        for key in Self::chat_keys(identity) {
            self.chats.remove(&key);
        }
    }

    /// The decisions for a chat, merged over its keys (number first, then `@lid`).
    pub fn decisions(&self, identity: &WaIdentity) -> ChatLinks {
        let mut out = ChatLinks::default();
        for key in Self::chat_keys(identity) {
            if let Some(c) = self.chats.get(&key) {
                for r in &c.linked {
                    if !out.linked.iter().any(|x| x.crm == r.crm) {
                        out.linked.push(r.clone());
                    }
                }
                for r in &c.unlinked {
                    if !out.unlinked.contains(r) {
                        out.unlinked.push(r.clone());
                    }
                }
            }
        }
        out.linked.retain(|r| !out.unlinked.contains(r));
        out
    }
}

fn is_record(r: &RecordRef, c: &CrmRecord) -> bool {
    r.id == c.id && c.crm.is_none_or(|crm| crm == r.crm) && c.kind.is_none_or(|k| k == r.kind)
}

fn kind_rank(kind: Option<RecordKind>) -> u8 {
    match kind {
        Some(RecordKind::Contact) => 0,
        Some(RecordKind::Lead) => 1,
        Some(_) => 2,
        None => 3,
    }
}

/// How a CRM phone value relates to a WhatsApp number, if at all.
pub fn compare(crm_value: &str, region: &str, wa_e164: &str) -> Result<Option<(Strength, String)>, phone::PhoneError> {
    let wa_digits = format!("+{}", wa_e164.chars().filter(char::is_ascii_digit).collect::<String>());
    let wa_key = phone::match_key(&wa_digits);
    let mut best: Option<(Strength, String)> = None;
    for phone::Parsed { e164: e, repaired } in phone::parse_crm_field(crm_value, region)? {
        let s = if e == wa_digits && !repaired {
            Strength::Exact
        } else if phone::match_key(&e) == wa_key {
            Strength::Folded
        } else {
            continue;
        };
        if best.as_ref().is_none_or(|(b, _)| s < *b) {
            best = Some((s, e));
        }
    }
    Ok(best)
}

/// Which record the chat belongs to (see the module docs for the rules).
pub fn match_chat(identity: &WaIdentity, candidates: &[CrmRecord], links: &Links, region: &str) -> MatchOutcome {
    let decisions = links.decisions(identity);
    let in_play: Option<Crm> = candidates.iter().find_map(|c| c.crm);
    let link = decisions
        .linked
        .iter()
        .find(|l| Some(l.crm) == in_play)
        .or_else(|| decisions.linked.first());
    if let Some(link) = link {
        let record = candidates.iter().find(|c| is_record(link, c)).cloned();
        return MatchOutcome::Linked { link: link.clone(), record };
    }
    let Some(wa) = identity.phone.as_deref().filter(|p| !p.trim().is_empty()) else {
        return MatchOutcome::NoMatch { reason: NoMatchReason::NoPhone };
    };
    let mut found: Vec<Candidate> = Vec::new();
    let mut unlinked_hit = false;
    for rec in candidates {
        if found.iter().any(|f| f.record.id == rec.id && f.record.crm == rec.crm) {
            continue; // the same record returned by two searches
        }
        let mut best: Option<(Strength, String, String)> = None;
        for (field, value) in &rec.phones {
            if let Ok(Some((s, e))) = compare(value, region, wa) {
                if best.as_ref().is_none_or(|(b, _, _)| s < *b) {
                    best = Some((s, field.clone(), e));
                }
            }
        }
        let Some((strength, field, e164)) = best else { continue };
        if decisions.unlinked.iter().any(|u| is_record(u, rec)) {
            unlinked_hit = true;
            continue;
        }
        found.push(Candidate { record: rec.clone(), strength, field, e164 });
    }
    let Some(top) = found.iter().map(|c| (c.strength, kind_rank(c.record.kind))).min() else {
        let reason = if unlinked_hit { NoMatchReason::AllUnlinked } else { NoMatchReason::NoPhoneMatch };
        return MatchOutcome::NoMatch { reason };
    };
    found.retain(|c| (c.strength, kind_rank(c.record.kind)) == top);
    if found.len() == 1 {
        let candidate = found.remove(0);
        MatchOutcome::Matched { candidate }
    } else {
        MatchOutcome::Ambiguous { candidates: found }
    }
}

/// One line of the `crmsync phone match` harness: `crm_value<TAB>default_region<TAB>whatsapp_id`
/// → `yes<TAB>why` or `no<TAB>why`.
pub fn match_line(line: &str) -> String {
    let mut cols = line.split('\t');
    let (Some(value), Some(region), Some(wa), None) = (cols.next(), cols.next(), cols.next(), cols.next()) else {
        return "no\tbad input: expected crm_value<TAB>region<TAB>whatsapp_id".to_string();
    };
    let wa_id = phone::parse_wa_id(wa);
    let Some(wa_e164) = wa_id.phone() else {
        return format!("no\twhatsapp id {wa:?} is not a phone number");
    };
    match compare(value, region, wa_e164) {
        Ok(Some((Strength::Exact, e))) => format!("yes\texact {e}"),
        Ok(Some((Strength::Folded, e))) => format!("yes\tfolded {e} ~ {wa_e164} (key {})", phone::match_key(wa_e164)),
        Ok(None) => match phone::parse_crm_phone(value, region) {
            Ok(all) => format!("no\tcrm {} vs whatsapp {wa_e164}", all.join(",")),
            Err(e) => format!("no\tcrm value: {e}"),
        },
        Err(e) => format!("no\tcrm value: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, kind: RecordKind, phones: &[(&str, &str)]) -> CrmRecord {
        CrmRecord {
            crm: Some(Crm::Zoho),
            kind: Some(kind),
            id: id.into(),
            name: id.into(),
            phones: phones.iter().map(|(f, v)| (f.to_string(), v.to_string())).collect(),
            ..Default::default()
        }
    }

    fn chat(phone: Option<&str>, lid: Option<&str>) -> WaIdentity {
        WaIdentity { phone: phone.map(Into::into), lid: lid.map(Into::into), name: "Ana".into(), is_group: false }
    }

    fn rref(id: &str, kind: RecordKind) -> RecordRef {
        RecordRef { crm: Crm::Zoho, kind, id: id.into() }
    }

    fn matched_id(o: &MatchOutcome) -> Option<&str> {
        match o {
            MatchOutcome::Matched { candidate } => Some(candidate.record.id.as_str()),
            _ => None,
        }
    }

    #[test]
    fn any_phone_field_matches_and_exact_beats_folded() {
        let old = rec("old", RecordKind::Contact, &[("Phone", "3456-7890"), ("Mobile", "(11) 8765-4321")]);
        let new = rec("new", RecordKind::Contact, &[("Home_Phone", "+55 11 98765-4321")]);
        let ana = chat(Some("+5511987654321"), None);
        let o = match_chat(&ana, &[old.clone(), new.clone()], &Links::default(), "BR");
        assert_eq!(matched_id(&o), Some("new"));
        let MatchOutcome::Matched { candidate } = o else { unreachable!() };
        assert_eq!((candidate.strength, candidate.field.as_str()), (Strength::Exact, "Home_Phone"));
        let o = match_chat(&ana, &[old], &Links::default(), "BR");
        let MatchOutcome::Matched { candidate } = o else { panic!("{o:?}") };
        assert_eq!((candidate.strength, candidate.field.as_str()), (Strength::Folded, "Mobile"));
    }

    #[test]
    fn contacts_before_leads_and_ties_are_ambiguous() {
        let lead = rec("lead", RecordKind::Lead, &[("Mobile", "+1 202 555 0173")]);
        let c1 = rec("c1", RecordKind::Contact, &[("Phone", "(202) 555-0173")]);
        let c2 = rec("c2", RecordKind::Contact, &[("Other_Phone", "202.555.0173 x4")]);
        let bob = chat(Some("+12025550173"), None);
        let none = Links::default();
        assert_eq!(matched_id(&match_chat(&bob, &[lead.clone(), c1.clone()], &none, "US")), Some("c1"));
        assert_eq!(matched_id(&match_chat(&bob, std::slice::from_ref(&lead), &none, "US")), Some("lead"));
        match match_chat(&bob, &[lead, c1.clone(), c2, c1], &none, "US") {
            MatchOutcome::Ambiguous { candidates } => {
                let ids: Vec<&str> = candidates.iter().map(|c| c.record.id.as_str()).collect();
                assert_eq!(ids, ["c1", "c2"]);
            }
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn no_match_reasons() {
        let c = rec("c", RecordKind::Contact, &[("Phone", "020 7946 0958")]);
        let none = Links::default();
        let uk = chat(Some("+442079460958"), None);
        // A UK national number read with a US default is not this chat.
        assert_eq!(match_chat(&uk, std::slice::from_ref(&c), &none, "US"), MatchOutcome::NoMatch { reason: NoMatchReason::NoPhoneMatch });
        assert_eq!(matched_id(&match_chat(&uk, std::slice::from_ref(&c), &none, "GB")), Some("c"));
        let lid_only = chat(None, Some("123456789@lid"));
        assert_eq!(match_chat(&lid_only, &[c], &none, "GB"), MatchOutcome::NoMatch { reason: NoMatchReason::NoPhone });
    }

    #[test]
    fn manual_link_wins_and_unlink_is_remembered() {
        let a = rec("a", RecordKind::Contact, &[("Phone", "+1 202 555 0173")]);
        let b = rec("b", RecordKind::Lead, &[("Phone", "+1 312 555 0100")]);
        let bob = chat(Some("+12025550173"), None);
        let mut links = Links::default();
        links.link(&bob, rref("b", RecordKind::Lead));
        match match_chat(&bob, &[a.clone(), b.clone()], &links, "US") {
            MatchOutcome::Linked { link, record } => {
                assert_eq!(link.id, "b");
                assert_eq!(record.map(|r| r.id), Some("b".to_string()));
            }
            o => panic!("{o:?}"),
        }
        // Unlinking the automatic match keeps it from coming back.
        links.unlink(&bob, rref("b", RecordKind::Lead));
        links.unlink(&bob, rref("a", RecordKind::Contact));
        assert_eq!(match_chat(&bob, &[a.clone(), b], &links, "US"), MatchOutcome::NoMatch { reason: NoMatchReason::AllUnlinked });
        // Linking again overrides the unlink.
        links.link(&bob, rref("a", RecordKind::Contact));
        assert!(matches!(match_chat(&bob, std::slice::from_ref(&a), &links, "US"), MatchOutcome::Linked { .. }));
        links.forget(&bob);
        assert_eq!(matched_id(&match_chat(&bob, &[a], &links, "US")), Some("a"));
    }

    #[test]
    fn lid_only_chats_link_manually_and_survive_serialization() {
        let lid_only = chat(None, Some("987654321@lid"));
        let mut links = Links::default();
        links.link(&lid_only, rref("c9", RecordKind::Contact));
        let json = serde_json::to_string(&links).expect("serialize links");
        let back: Links = serde_json::from_str(&json).expect("deserialize links");
        assert_eq!(back, links);
        // Later the same chat shows its number too: the LID link is still found.
        let both = chat(Some("+5511987654321"), Some("987654321@lid"));
        match match_chat(&both, &[], &back, "BR") {
            MatchOutcome::Linked { link, record: None } => assert_eq!(link.id, "c9"),
            o => panic!("{o:?}"),
        }
        // A link made under the old Brazilian number is found under the new one.
        let mut links = Links::default();
        links.link(&chat(Some("+551187654321"), None), rref("c1", RecordKind::Contact));
        assert!(matches!(match_chat(&chat(Some("+5511987654321"), None), &[], &links, "BR"), MatchOutcome::Linked { .. }));
    }

    #[test]
    fn match_line_explains() {
        assert!(match_line("(11) 8765-4321\tBR\t5511987654321@c.us").starts_with("yes\tfolded"));
        assert!(match_line("+55 11 98765-4321\tZZ\t5511987654321@c.us").starts_with("yes\texact"));
        assert!(match_line("x\tUS\t1@lid").starts_with("no\t"));
    }
}
