//! LeadSquared as the sync engine's `DocumentWriter`: "WhatsApp Chats" activities on the lead
//! and its opportunities (see `crm::backup`).
use super::connector::{self as leadsquared, Activity, LeadSquared};
use crate::core::model::{Crm, RecordRef};
use crate::core::outbox::{
    target_class, Batch, DocKey, DocumentWriter, RenderedDoc, Targets, Unit, WriteOp, WriteResult,
};
use crate::core::policy::Failure;
use crate::crm::backup::*;
use crate::crm::http::{HttpRequest, HttpResponse};
use std::cell::RefCell;
use std::collections::BTreeMap;

pub struct LeadSquaredWriter {
    pub lsq: LeadSquared,
    /// The type list was read and has no "WhatsApp Chats": create it next.
    type_missing: bool,
    /// The event code was learned this cycle (the connection keeps it).
    learned_event: Option<u32>,
    /// The list was read this cycle and has no "WhatsApp Chats" (the connection keeps it).
    learned_missing: bool,
    /// A write this cycle said the kept event code does not exist: the connection forgets it.
    event_gone: std::cell::Cell<bool>,
    /// lead id → its opportunities.
    pub(crate) opps: BTreeMap<String, Vec<String>>,
    titles: RefCell<BTreeMap<DocKey, String>>,
    targets: Targets,
}

impl LeadSquaredWriter {
    pub fn new(lsq: LeadSquared) -> Self {
        LeadSquaredWriter {
            lsq,
            type_missing: false,
            learned_event: None,
            learned_missing: false,
            event_gone: std::cell::Cell::new(false),
            opps: BTreeMap::new(),
            titles: RefCell::new(BTreeMap::new()),
            targets: Targets::default(),
        }
    }

    /// The writer for a connection that knows the event code (in `lsq`), or knows the type
    /// list has no "WhatsApp Chats" (`type_missing`: create it first, no list read).
    pub fn knowing(lsq: LeadSquared, type_missing: bool) -> Self {
        LeadSquaredWriter {
            type_missing: type_missing && lsq.activity_event.is_none(),
            ..Self::new(lsq)
        }
    }

    /// A write refused because its event code names no activity type (the type was deleted
    /// since it was looked up): the next cycle looks the type up by name again.
    /// Such a refusal is retried (as transient) once the type is known again.
    fn note_gone(&self, f: Failure) -> Failure {
        if let Failure::Rejected { reason } = &f {
            let r = reason.to_lowercase();
            if r.contains("activity event") && (r.contains("not exist") || r.contains("invalid")) {
                self.event_gone.set(true);
                return Failure::Transient {
                    reason: format!("{reason} (the activity type is looked up again)"),
                };
            }
        }
        f
    }

    /// The tenant's activity types ("Get List of Activity Types",
    /// `ProspectActivity.svc/ActivityTypes.Get`).
    fn list_types(&self) -> HttpRequest {
        HttpRequest::get(format!(
            "https://{}/v2/ProspectActivity.svc/ActivityTypes.Get",
            self.lsq.api_host
        ))
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

    fn budget(&self, resp: &HttpResponse) -> crate::core::ratelimit::Budget {
        crate::crm::budget_of(self.crm(), resp)
    }

    fn rate_limit_window_ms(&self) -> Option<u64> {
        crate::crm::rate_limit_window_ms(self.crm())
    }

    fn set_targets(&mut self, targets: Targets) {
        self.targets = targets;
    }

    fn seed_related(&mut self, record: &RecordRef, ids: Vec<String>) {
        self.opps.insert(record.id.clone(), ids);
    }

    fn prepare(&self, record: &RecordRef) -> Option<HttpRequest> {
        if !self.targets.activities && !self.targets.deals {
            return None;
        }
        if self.lsq.activity_event.is_none() {
            // By name first: a type made earlier (by us or an admin) is used, never made twice.
            return Some(if self.type_missing {
                self.lsq.create_activity_type()
            } else {
                self.list_types()
            });
        }
        (self.targets.deals && !self.opps.contains_key(&record.id))
            .then(|| self.lsq.opportunities_of_lead(&record.id))
    }

    fn absorb_prepare(&mut self, record: &RecordRef, resp: &HttpResponse) -> Result<(), Failure> {
        if self.lsq.activity_event.is_none() {
            let code = if self.type_missing {
                // A failed create is looked up by name again next cycle (it may have landed).
                self.type_missing = false;
                let id = LeadSquared::parse_id(resp)?;
                Some(id.trim().parse::<u32>().map_err(|_| Failure::Rejected {
                    reason: "the activity type's code is not a number".into(),
                })?)
            } else {
                LeadSquared::parse_activity_types(resp)?
            };
            match code {
                Some(c) => {
                    self.lsq.activity_event = Some(c);
                    self.learned_event = Some(c);
                }
                None => {
                    self.type_missing = true;
                    self.learned_missing = true;
                }
            }
            return Ok(());
        }
        // On failure the lead's own activity still goes this cycle; the sync engine keeps
        // its messages pending until the opportunities are known.
        let ids = LeadSquared::parse_opportunities(resp);
        self.opps.insert(record.id.clone(), ids.clone().unwrap_or_default());
        ids.map(|_| ())
    }

    fn learned(&self) -> Option<crate::core::outbox::Learned> {
        use crate::core::outbox::Learned;
        if self.event_gone.get() {
            return Some(Learned::ActivityEventGone);
        }
        match self.learned_event {
            Some(code) => Some(Learned::ActivityEvent(code)),
            // Still missing at the end of the cycle (the create did not happen or failed).
            None if self.learned_missing && self.type_missing => Some(Learned::ActivityTypeMissing),
            None => None,
        }
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

    fn request(
        &self,
        batch: &Batch,
        docs: &BTreeMap<DocKey, RenderedDoc>,
    ) -> Result<HttpRequest, String> {
        let body = |d: &DocKey| {
            docs.get(d)
                .map(|x| x.body.clone())
                .ok_or_else(|| format!("no rendered body for {}", d.id()))
        };
        let w = batch.writes.first().ok_or("empty batch")?;
        match batch.op {
            WriteOp::Create if target_class(&w.doc.target) == "activity" => {
                let acts = batch
                    .writes
                    .iter()
                    .map(|w| Ok(self.activity(&w.doc, body(&w.doc)?)))
                    .collect::<Result<Vec<_>, String>>()?;
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

    fn next_read(&self, req: &HttpRequest, resp: &HttpResponse) -> Option<HttpRequest> {
        LeadSquared::next_activities_page(req, resp)
    }

    fn outcome(&self, batch: &Batch, resp: &HttpResponse) -> Vec<(DocKey, WriteResult)> {
        let Some(w) = batch.writes.first() else { return Vec::new() };
        let single = |r: Result<String, Failure>| match r {
            Ok(id) => WriteResult::Written { id },
            Err(f) => WriteResult::Failed(f),
        };
        let results = match batch.op {
            WriteOp::Create if target_class(&w.doc.target) == "activity" => {
                item_results(batch, LeadSquared::parse_bulk(resp))
            }
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
        };
        results
            .into_iter()
            .map(|(k, r)| match r {
                WriteResult::Failed(f) => (k, WriteResult::Failed(self.note_gone(f))),
                r => (k, r),
            })
            .collect()
    }
}
