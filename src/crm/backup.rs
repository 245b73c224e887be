//! Chat backups per CRM: each connector as the sync engine's `DocumentWriter`.
//!
//! A unit (record × chat × day) becomes these documents, each rewritten whole from the
//! day's transcript and split into ordered parts under the CRM's field limit:
//! - Zoho: a Note on the contact/lead (`note`) and the same note on each of the contact's
//!   5 most recent deals (`deal:<id>`). Bulk create/update ≤100 per call. Idempotency by
//!   read-before-write: titles start with the unit's deterministic key.
//! - Salesforce: a `WhatsApp_Chat__c` record per part (`chat`), upserted on the external
//!   id (≤200 per call; an upsert is its own reconcile), plus a ContentNote linked to
//!   contacts (`content_note`, found by title on reconcile, updated in place).
//! - LeadSquared: a "WhatsApp Chats" activity per part on the lead (`activity`, bulk ≤25)
//!   and on each of its opportunities (`opportunity:<id>`); the key lives in a custom field
//!   and reconcile reads the lead's activities to find it.
use super::http::{HttpRequest, HttpResponse, Method};
use super::leadsquared::{self, Activity, LeadSquared};
use super::salesforce::{self, Salesforce};
use super::zoho::{self, Zoho};
use crate::core::model::{Crm, RecordKind, RecordRef};
use crate::core::outbox::{target_class, Batch, DocKey, DocumentWriter, RenderedDoc, Targets, Unit, WriteOp, WriteResult};
use crate::core::policy::Failure;
use crate::core::transcript;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Room left in each part for the continuation label.
const ZOHO_NOTE_MAX: usize = 65_535;

/// The deterministic title a document is found by: key first (CRMs truncate titles).
fn doc_title(d: &DocKey, chat_title: &str, parts: usize) -> String {
    let part = if parts > 1 { format!(" ({}/{parts})", d.part + 1) } else { String::new() };
    format!("[{}#{}] WhatsApp · {} · {}{part}", d.unit.external_key(), d.part, chat_title, d.unit.day)
}

fn title_key(d: &DocKey) -> String {
    format!("[{}#{}]", d.unit.external_key(), d.part)
}

/// Render a unit's transcript into parts and the documents for each target.
fn render_parts(unit: &Unit, max_chars: usize, targets: &[String], titles: &RefCell<BTreeMap<DocKey, String>>) -> Vec<RenderedDoc> {
    let title = if unit.is_group { format!("{} (group)", unit.title) } else { unit.title.clone() };
    let body = transcript::render_day(&title, &unit.key.day, &unit.messages);
    let parts = transcript::parts(&body, max_chars);
    let mut out = Vec::new();
    for t in targets {
        for (i, p) in parts.iter().enumerate() {
            let key = DocKey { unit: unit.key.clone(), target: t.clone(), part: i as u16 };
            titles.borrow_mut().insert(key.clone(), doc_title(&key, &title, parts.len()));
            out.push(RenderedDoc { key, body: p.clone() });
        }
    }
    out
}

fn item_results(batch: &Batch, results: Result<Vec<Result<String, Failure>>, Failure>) -> Vec<(DocKey, WriteResult)> {
    match results {
        Err(f) => batch.writes.iter().map(|w| (w.doc.clone(), WriteResult::Failed(f.clone()))).collect(),
        Ok(items) => batch
            .writes
            .iter()
            .zip(items)
            .map(|(w, r)| {
                (
                    w.doc.clone(),
                    match r {
                        Ok(id) => WriteResult::Written { id },
                        Err(f) => WriteResult::Failed(f),
                    },
                )
            })
            .collect(),
    }
}

// ---------------------------------------------------------------- Zoho

pub struct ZohoWriter {
    pub zoho: Zoho,
    /// contact id → its 5 most recent deals (fetched once per cycle).
    deals: BTreeMap<String, Vec<String>>,
    titles: RefCell<BTreeMap<DocKey, String>>,
    targets: Targets,
}

impl ZohoWriter {
    pub fn new(zoho: Zoho) -> Self {
        ZohoWriter { zoho, deals: BTreeMap::new(), titles: RefCell::new(BTreeMap::new()), targets: Targets::default() }
    }

    /// The record a document lives on: the unit's record, or one of its deals.
    fn parent(d: &DocKey) -> (RecordKind, String) {
        match d.target.strip_prefix("deal:") {
            Some(id) => (RecordKind::Deal, id.to_string()),
            None => (d.unit.record.kind, d.unit.record.id.clone()),
        }
    }
}

impl DocumentWriter for ZohoWriter {
    fn crm(&self) -> Crm {
        Crm::Zoho
    }

    fn set_targets(&mut self, targets: Targets) {
        self.targets = targets;
    }

    fn prepare(&self, record: &RecordRef) -> Option<HttpRequest> {
        (self.targets.deals && record.kind == RecordKind::Contact && !self.deals.contains_key(&record.id)).then(|| self.zoho.recent_deals_request(&record.id))
    }

    fn absorb_prepare(&mut self, record: &RecordRef, resp: &HttpResponse) -> Result<(), Failure> {
        let deals = zoho::Zoho::parse_deals(resp);
        // Without the deals the contact's own note still goes; remember the attempt. The
        // sync engine keeps the messages pending until the deals are known (an Err here).
        self.deals.insert(record.id.clone(), deals.clone().unwrap_or_default());
        deals.map(|_| ())
    }

    fn render(&self, unit: &Unit) -> Vec<RenderedDoc> {
        let mut targets = Vec::new();
        if self.targets.notes {
            targets.push("note".to_string());
        }
        if let Some(deals) = self.deals.get(&unit.key.record.id).filter(|_| self.targets.deals) {
            targets.extend(deals.iter().map(|d| format!("deal:{d}")));
        }
        render_parts(unit, ZOHO_NOTE_MAX, &targets, &self.titles)
    }

    fn batch_limit(&self, _class: &str, op: &WriteOp) -> usize {
        match op {
            WriteOp::Reconcile => 1,
            _ => 100,
        }
    }

    fn request(&self, batch: &Batch, docs: &BTreeMap<DocKey, RenderedDoc>) -> Result<HttpRequest, String> {
        let titles = self.titles.borrow();
        let body = |d: &DocKey| docs.get(d).map(|x| x.body.clone()).ok_or_else(|| format!("no rendered body for {}", d.id()));
        let title = |d: &DocKey| titles.get(d).cloned().unwrap_or_else(|| title_key(d));
        match batch.op {
            WriteOp::Create => {
                let notes = batch
                    .writes
                    .iter()
                    .map(|w| {
                        let (kind, id) = Self::parent(&w.doc);
                        Ok((kind, id, title(&w.doc), body(&w.doc)?))
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                self.zoho.create_notes(&notes)
            }
            WriteOp::Update => {
                let notes = batch
                    .writes
                    .iter()
                    .map(|w| Ok((w.remote_id.clone().ok_or("update without a note id")?, title(&w.doc), body(&w.doc)?)))
                    .collect::<Result<Vec<_>, String>>()?;
                self.zoho.update_notes(&notes)
            }
            WriteOp::Reconcile => {
                let w = batch.writes.first().ok_or("empty batch")?;
                let (kind, id) = Self::parent(&w.doc);
                Ok(self.zoho.list_notes_request(kind, &id))
            }
        }
    }

    fn outcome(&self, batch: &Batch, resp: &HttpResponse) -> Vec<(DocKey, WriteResult)> {
        match batch.op {
            WriteOp::Reconcile => batch
                .writes
                .iter()
                .map(|w| {
                    let r = match Zoho::find_note(resp, &title_key(&w.doc)) {
                        Ok(Some(id)) => WriteResult::Written { id },
                        Ok(None) => WriteResult::Absent,
                        Err(f) => WriteResult::Failed(f),
                    };
                    (w.doc.clone(), r)
                })
                .collect(),
            _ => item_results(batch, zoho::parse_write_results(resp)),
        }
    }
}

// ---------------------------------------------------------------- Salesforce

pub struct SalesforceWriter {
    pub sf: Salesforce,
    titles: RefCell<BTreeMap<DocKey, String>>,
    targets: Targets,
}

impl SalesforceWriter {
    pub fn new(sf: Salesforce) -> Self {
        SalesforceWriter { sf, titles: RefCell::new(BTreeMap::new()), targets: Targets::default() }
    }

    fn chat_key(d: &DocKey) -> String {
        format!("{}#{}", d.unit.external_key(), d.part)
    }

    fn authed(&self, mut r: HttpRequest) -> HttpRequest {
        r.headers.push(("Authorization".into(), format!("Bearer {}", self.sf.access_token)));
        r
    }

    fn data_url(&self, path: &str) -> String {
        format!("{}/services/data/{}{path}", self.sf.instance_url.trim_end_matches('/'), salesforce::API_VERSION)
    }
}

impl DocumentWriter for SalesforceWriter {
    fn crm(&self) -> Crm {
        Crm::Salesforce
    }

    fn set_targets(&mut self, targets: Targets) {
        self.targets = targets;
    }

    fn render(&self, unit: &Unit) -> Vec<RenderedDoc> {
        let mut targets = Vec::new();
        if self.targets.custom_object {
            targets.push("chat".to_string());
        }
        if self.targets.notes && unit.key.record.kind == RecordKind::Contact {
            targets.push("content_note".to_string());
        }
        render_parts(unit, salesforce::LONG_TEXT_MAX / 2, &targets, &self.titles)
    }

    fn batch_limit(&self, class: &str, op: &WriteOp) -> usize {
        match (class, op) {
            ("chat", _) => salesforce::COLLECTION_MAX,
            _ => 1,
        }
    }

    fn request(&self, batch: &Batch, docs: &BTreeMap<DocKey, RenderedDoc>) -> Result<HttpRequest, String> {
        let titles = self.titles.borrow();
        let body = |d: &DocKey| docs.get(d).map(|x| x.body.clone()).ok_or_else(|| format!("no rendered body for {}", d.id()));
        let title = |d: &DocKey| titles.get(d).cloned().unwrap_or_else(|| title_key(d));
        if batch.class == "chat" {
            // Create, update and reconcile are all the same upsert on the external id.
            let chats = batch
                .writes
                .iter()
                .map(|w| {
                    let d = &w.doc;
                    Ok((Self::chat_key(d), d.unit.record.kind, d.unit.record.id.clone(), title(d), d.unit.day.clone(), body(d)?))
                })
                .collect::<Result<Vec<_>, String>>()?;
            return self.sf.upsert_chats(&chats);
        }
        let w = batch.writes.first().ok_or("empty batch")?;
        match batch.op {
            WriteOp::Create => Ok(self.sf.content_note(&title(&w.doc), &body(&w.doc)?, &w.doc.unit.record.id)),
            WriteOp::Update => {
                let id = w.remote_id.clone().ok_or("update without a note id")?;
                let html: String = body(&w.doc)?.lines().map(|l| format!("<p>{}</p>", html_escape::encode_text(l))).collect();
                let content = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, html.as_bytes());
                let json = serde_json::json!({"Title": title(&w.doc), "Content": content});
                Ok(self.authed(HttpRequest {
                    method: Method::Patch,
                    url: self.data_url(&format!("/sobjects/ContentNote/{id}")),
                    headers: vec![("Content-Type".into(), "application/json".into())],
                    body: Some(json.to_string().into_bytes()),
                }))
            }
            WriteOp::Reconcile => {
                let q = format!("SELECT Id, Title FROM ContentNote WHERE Title = '{}'", title(&w.doc).replace('\\', "\\\\").replace('\'', "\\'"));
                Ok(self.authed(HttpRequest::get(self.data_url(&format!("/query?q={}", super::enc(&q))))))
            }
        }
    }

    fn outcome(&self, batch: &Batch, resp: &HttpResponse) -> Vec<(DocKey, WriteResult)> {
        if batch.class == "chat" {
            return item_results(batch, Salesforce::parse_collection(resp));
        }
        let Some(w) = batch.writes.first() else { return Vec::new() };
        let r = match batch.op {
            WriteOp::Create => match Salesforce::parse_content_note(resp) {
                Ok(id) => WriteResult::Written { id },
                Err(f) => WriteResult::Failed(f),
            },
            WriteOp::Update => match salesforce::classify(resp) {
                Some(f) => WriteResult::Failed(f),
                None if resp.status == 204 || resp.status == 200 => WriteResult::Written { id: w.remote_id.clone().unwrap_or_default() },
                None => WriteResult::Failed(Failure::Transient { reason: format!("HTTP {} updating the note", resp.status) }),
            },
            WriteOp::Reconcile => match salesforce::classify(resp) {
                Some(f) => WriteResult::Failed(f),
                None => {
                    let v: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
                    match v["records"].as_array().and_then(|a| a.first()).and_then(|r| r["Id"].as_str()) {
                        Some(id) => WriteResult::Written { id: id.to_string() },
                        None => WriteResult::Absent,
                    }
                }
            },
        };
        vec![(w.doc.clone(), r)]
    }
}

// ---------------------------------------------------------------- LeadSquared

pub struct LeadSquaredWriter {
    pub lsq: LeadSquared,
    /// The activity type needs a lookup after "already exists".
    need_type_list: bool,
    /// lead id → its opportunities.
    opps: BTreeMap<String, Vec<String>>,
    titles: RefCell<BTreeMap<DocKey, String>>,
    targets: Targets,
}

impl LeadSquaredWriter {
    pub fn new(lsq: LeadSquared) -> Self {
        LeadSquaredWriter { lsq, need_type_list: false, opps: BTreeMap::new(), titles: RefCell::new(BTreeMap::new()), targets: Targets::default() }
    }

    /// The activity types of the tenant ([U] path, see the sandbox README).
    fn list_types(&self) -> HttpRequest {
        HttpRequest::get(format!("https://{}/v2/ProspectActivity.svc/ActivityTypes.Get", self.lsq.api_host))
            .header("x-LSQ-AccessKey", self.lsq.access_key.clone())
            .header("x-LSQ-SecretKey", self.lsq.secret_key.clone())
    }

    fn activity(&self, d: &DocKey, note: String) -> Activity {
        Activity {
            lead_id: d.unit.record.id.clone(),
            opportunity_id: d.target.strip_prefix("opportunity:").map(str::to_string),
            key: format!("{}#{}|{}", d.unit.external_key(), d.part, d.target),
            note,
            when_utc: format!("{} 00:00:00", d.unit.day),
        }
    }
}

impl DocumentWriter for LeadSquaredWriter {
    fn crm(&self) -> Crm {
        Crm::Leadsquared
    }

    fn set_targets(&mut self, targets: Targets) {
        self.targets = targets;
    }

    fn prepare(&self, record: &RecordRef) -> Option<HttpRequest> {
        if !self.targets.activities && !self.targets.deals {
            return None;
        }
        if self.lsq.activity_event.is_none() {
            return Some(if self.need_type_list { self.list_types() } else { self.lsq.create_activity_type() });
        }
        (self.targets.deals && !self.opps.contains_key(&record.id)).then(|| self.lsq.opportunities_of_lead(&record.id))
    }

    fn absorb_prepare(&mut self, record: &RecordRef, resp: &HttpResponse) -> Result<(), Failure> {
        if self.lsq.activity_event.is_none() {
            if self.need_type_list {
                let code = LeadSquared::parse_activity_types(resp)?;
                self.lsq.activity_event = code;
                return code.map(|_| ()).ok_or(Failure::Rejected { reason: "the WhatsApp Chats activity type could not be found".into() });
            }
            return match LeadSquared::parse_id(resp).map(|id| id.parse::<u32>()) {
                Ok(Ok(code)) => {
                    self.lsq.activity_event = Some(code);
                    Ok(())
                }
                // Created before (by us or an admin): look its code up next.
                _ if String::from_utf8_lossy(&resp.body).contains("MXDuplicateEntryException") => {
                    self.need_type_list = true;
                    Ok(())
                }
                Ok(Err(_)) => Err(Failure::Rejected { reason: "activity type id is not a number".into() }),
                Err(f) => Err(f),
            };
        }
        // On failure the lead's own activity still goes this cycle; the sync engine keeps
        // its messages pending until the opportunities are known.
        let ids = LeadSquared::parse_opportunities(resp);
        self.opps.insert(record.id.clone(), ids.clone().unwrap_or_default());
        ids.map(|_| ())
    }

    fn render(&self, unit: &Unit) -> Vec<RenderedDoc> {
        let mut targets = Vec::new();
        if self.targets.activities {
            targets.push("activity".to_string());
        }
        if let Some(opps) = self.opps.get(&unit.key.record.id).filter(|_| self.targets.deals) {
            targets.extend(opps.iter().map(|o| format!("opportunity:{o}")));
        }
        render_parts(unit, leadsquared::NOTE_MAX_CHARS, &targets, &self.titles)
    }

    fn batch_limit(&self, class: &str, op: &WriteOp) -> usize {
        match (class, op) {
            ("activity", WriteOp::Create) => leadsquared::BULK_MAX,
            _ => 1,
        }
    }

    fn request(&self, batch: &Batch, docs: &BTreeMap<DocKey, RenderedDoc>) -> Result<HttpRequest, String> {
        let body = |d: &DocKey| docs.get(d).map(|x| x.body.clone()).ok_or_else(|| format!("no rendered body for {}", d.id()));
        let w = batch.writes.first().ok_or("empty batch")?;
        match batch.op {
            WriteOp::Create if target_class(&w.doc.target) == "activity" => {
                let acts = batch.writes.iter().map(|w| Ok(self.activity(&w.doc, body(&w.doc)?))).collect::<Result<Vec<_>, String>>()?;
                self.lsq.post_bulk(&acts)
            }
            WriteOp::Create => self.lsq.post_activity(&self.activity(&w.doc, body(&w.doc)?)),
            WriteOp::Update => {
                let id = w.remote_id.clone().ok_or("update without an activity id")?;
                self.lsq.update_activity(&id, &self.activity(&w.doc, body(&w.doc)?))
            }
            WriteOp::Reconcile => self.lsq.lead_activities(&w.doc.unit.record.id),
        }
    }

    fn outcome(&self, batch: &Batch, resp: &HttpResponse) -> Vec<(DocKey, WriteResult)> {
        let Some(w) = batch.writes.first() else { return Vec::new() };
        let single = |r: Result<String, Failure>| match r {
            Ok(id) => WriteResult::Written { id },
            Err(f) => WriteResult::Failed(f),
        };
        match batch.op {
            WriteOp::Create if target_class(&w.doc.target) == "activity" => item_results(batch, LeadSquared::parse_bulk(resp)),
            WriteOp::Create => vec![(w.doc.clone(), single(LeadSquared::parse_id(resp)))],
            WriteOp::Update => {
                let r = match leadsquared::classify(resp) {
                    Some(f) => WriteResult::Failed(f),
                    None => WriteResult::Written { id: w.remote_id.clone().unwrap_or_default() },
                };
                vec![(w.doc.clone(), r)]
            }
            WriteOp::Reconcile => {
                let key = self.activity(&w.doc, String::new()).key;
                let r = match LeadSquared::find_activity(resp, &key) {
                    Ok(Some(id)) => WriteResult::Written { id },
                    Ok(None) => WriteResult::Absent,
                    Err(f) => WriteResult::Failed(f),
                };
                vec![(w.doc.clone(), r)]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::outbox::UnitKey;

    fn unit(crm: Crm, kind: RecordKind) -> Unit {
        Unit {
            key: UnitKey { record: RecordRef { crm, kind, id: "r1".into() }, chat: "pn:+1".into(), day: "2026-11-21".into() },
            title: "Ana".into(),
            is_group: false,
            messages: vec![],
        }
    }

    fn targets_of(w: &dyn DocumentWriter, u: &Unit) -> Vec<String> {
        let mut t: Vec<String> = w.render(u).into_iter().map(|d| d.key.target).collect();
        t.dedup();
        t
    }

    #[test]
    fn backup_targets_follow_the_settings() {
        let mut z = ZohoWriter::new(Zoho { dc: crate::crm::auth::ZohoDc::Us, api_domain: "https://www.zohoapis.com".into(), access_token: "t".into(), org_domain: None });
        let contact = unit(Crm::Zoho, RecordKind::Contact);
        z.deals.insert("r1".into(), vec!["d1".into()]);
        assert_eq!(targets_of(&z, &contact), ["note", "deal:d1"]);
        z.set_targets(Targets { notes: false, ..Targets::default() });
        assert_eq!(targets_of(&z, &contact), ["deal:d1"]);
        z.set_targets(Targets { deals: false, ..Targets::default() });
        assert_eq!(targets_of(&z, &contact), ["note"]);
        assert!(z.prepare(&contact.key.record).is_none(), "no deal lookup when deals are off");

        let mut s = SalesforceWriter::new(Salesforce { instance_url: "https://x.my.salesforce.com".into(), access_token: "t".into() });
        let sfc = unit(Crm::Salesforce, RecordKind::Contact);
        assert_eq!(targets_of(&s, &sfc), ["chat", "content_note"]);
        s.set_targets(Targets { custom_object: false, ..Targets::default() });
        assert_eq!(targets_of(&s, &sfc), ["content_note"]);

        let mut l = LeadSquaredWriter::new(LeadSquared { access_key: "a".into(), secret_key: "s".into(), api_host: "h".into(), app_host: "a".into(), activity_event: Some(1) });
        let lead = unit(Crm::Leadsquared, RecordKind::Lead);
        l.opps.insert("r1".into(), vec!["o1".into()]);
        assert_eq!(targets_of(&l, &lead), ["activity", "opportunity:o1"]);
        l.set_targets(Targets { activities: false, deals: false, ..Targets::default() });
        assert!(targets_of(&l, &lead).is_empty());
        assert!(l.prepare(&lead.key.record).is_none());
    }
}
