//! Zoho CRM as the sync engine's `DocumentWriter`: notes on the contact or lead and on its
//! recent deals (see `crm::backup` for the documents of every CRM).
use super::connector::{self as zoho, Zoho};
use crate::core::model::{Crm, RecordKind, RecordRef};
use crate::core::outbox::{
    Batch, DocKey, DocumentWriter, RenderedDoc, Targets, Unit, WriteOp, WriteResult,
};
use crate::core::policy::Failure;
use crate::crm::backup::*;
use crate::crm::http::{HttpRequest, HttpResponse};
use std::cell::RefCell;
use std::collections::BTreeMap;

pub struct ZohoWriter {
    pub zoho: Zoho,
    /// contact id → its 5 most recent deals (fetched once per cycle).
    pub(crate) deals: BTreeMap<String, Vec<String>>,
    titles: RefCell<BTreeMap<DocKey, String>>,
    targets: Targets,
}

impl ZohoWriter {
    pub fn new(zoho: Zoho) -> Self {
        ZohoWriter {
            zoho,
            deals: BTreeMap::new(),
            titles: RefCell::new(BTreeMap::new()),
            targets: Targets::default(),
        }
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

    fn budget(&self, resp: &HttpResponse) -> crate::core::ratelimit::Budget {
        crate::crm::budget_of(self.crm(), resp)
    }

    fn rate_limit_window_ms(&self) -> Option<u64> {
        crate::crm::rate_limit_window_ms(self.crm())
    }

    // The card's five most recent deals are all the notes go to.
    fn needs_all_related(&self) -> bool {
        false
    }

    fn set_targets(&mut self, targets: Targets) {
        self.targets = targets;
    }

    fn seed_related(&mut self, record: &RecordRef, ids: Vec<String>) {
        if record.kind == RecordKind::Contact {
            self.deals.insert(record.id.clone(), ids.into_iter().take(5).collect());
        }
    }

    fn prepare(&self, record: &RecordRef) -> Option<HttpRequest> {
        (self.targets.deals
            && record.kind == RecordKind::Contact
            && !self.deals.contains_key(&record.id))
        .then(|| self.zoho.recent_deals_request(&record.id))
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
        let mut docs = render_parts(unit, ZOHO_NOTE_MAX, &targets, &self.titles);
        docs.extend(file_docs(unit, &self.titles));
        docs
    }

    fn batch_limit(&self, class: &str, op: &WriteOp) -> usize {
        match (class, op) {
            ("file", _) | (_, WriteOp::Reconcile) => 1,
            _ => 100,
        }
    }

    fn request(
        &self,
        batch: &Batch,
        docs: &BTreeMap<DocKey, RenderedDoc>,
    ) -> Result<HttpRequest, String> {
        if batch.class == "file" {
            // A file goes to the record's Attachments; its name starts with the marker.
            let w = batch.writes.first().ok_or("empty batch")?;
            let (kind, id) = (w.doc.unit.record.kind, w.doc.unit.record.id.clone());
            return match batch.op {
                WriteOp::Create => {
                    let name = self
                        .titles
                        .borrow()
                        .get(&w.doc)
                        .cloned()
                        .unwrap_or_else(|| file_marker(&w.doc));
                    self.zoho.attachment_request(
                        kind,
                        &id,
                        &name,
                        &file_bytes(&w.doc, docs)?,
                        &format!("crmsync-{}", file_marker(&w.doc)),
                    )
                }
                _ => Ok(self.zoho.list_attachments_request(kind, &id)),
            };
        }
        let titles = self.titles.borrow();
        let body = |d: &DocKey| {
            docs.get(d)
                .map(|x| x.body.clone())
                .ok_or_else(|| format!("no rendered body for {}", d.id()))
        };
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
                let notes = doc_updates(batch, title, body)?;
                self.zoho.update_notes(&notes)
            }
            WriteOp::Reconcile => {
                let w = batch.writes.first().ok_or("empty batch")?;
                let (kind, id) = Self::parent(&w.doc);
                Ok(self.zoho.list_notes_request(kind, &id))
            }
        }
    }

    fn next_read(&self, req: &HttpRequest, resp: &HttpResponse) -> Option<HttpRequest> {
        Zoho::next_related_page(req, resp)
    }

    fn outcome(&self, batch: &Batch, resp: &HttpResponse) -> Vec<(DocKey, WriteResult)> {
        if batch.class == "file" {
            let Some(w) = batch.writes.first() else { return Vec::new() };
            let r = match batch.op {
                WriteOp::Create => {
                    Zoho::parse_attachment(resp).map(|id| WriteResult::Written { id })
                }
                _ => Zoho::find_attachment(resp, &file_marker(&w.doc)).map(|found| match found {
                    Some(id) => WriteResult::Written { id },
                    None => WriteResult::Absent,
                }),
            };
            return vec![(w.doc.clone(), r.unwrap_or_else(WriteResult::Failed))];
        }
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
