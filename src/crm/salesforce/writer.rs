//! Salesforce as the sync engine's `DocumentWriter`: the chat object or a Task, and a
//! ContentNote (see `crm::backup`).
use super::connector::{self as salesforce, Salesforce};
use crate::core::model::{Crm, RecordRef};
use crate::core::outbox::{
    Batch, DocKey, DocumentWriter, RenderedDoc, Targets, Unit, Write, WriteOp, WriteResult,
};
use crate::core::policy::Failure;
use crate::crm::backup::*;
use crate::crm::http::{HttpRequest, HttpResponse};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// The ContentNote of a day part, and the ContentDocumentLink that shares it with the contact
/// or lead: two documents, each written in sObject Collections of up to 200, the link once its
/// note has an id.
pub const NOTE: &str = "content_note";
pub const LINK: &str = "content_note_link";

pub struct SalesforceWriter {
    pub sf: Salesforce,
    titles: RefCell<BTreeMap<DocKey, String>>,
    targets: Targets,
    /// The day's chat record id (part 0), where that day's files are published.
    chat_ids: RefCell<BTreeMap<crate::core::outbox::UnitKey, String>>,
    /// Whether the org has `WhatsApp_Chat__c` (None = not known yet: asked once, and the
    /// connection keeps the answer, see `Connection::chat_object`).
    chat_object: Option<bool>,
    /// Read this cycle (the connection keeps it).
    chat_object_read: bool,
    /// A chat write this cycle said the object is not there: the connection forgets it.
    chat_object_gone: std::cell::Cell<bool>,
    /// ContentNote ids by note document: stored, created or found this cycle.
    note_ids: RefCell<BTreeMap<DocKey, String>>,
    /// Notes the CRM may have had before this cycle (stored written or uncertain): their link
    /// may exist with no state of its own (an earlier version wrote note and link in one
    /// Composite call), so it is looked up before it is created.
    stored_notes: RefCell<BTreeSet<DocKey>>,
    /// Links a lookup this cycle did not find: created without looking again.
    links_absent: RefCell<BTreeSet<DocKey>>,
}

impl SalesforceWriter {
    pub fn new(sf: Salesforce) -> Self {
        SalesforceWriter {
            sf,
            titles: RefCell::new(BTreeMap::new()),
            targets: Targets::default(),
            chat_ids: RefCell::new(BTreeMap::new()),
            chat_object: None,
            chat_object_read: false,
            chat_object_gone: std::cell::Cell::new(false),
            note_ids: RefCell::new(BTreeMap::new()),
            stored_notes: RefCell::new(BTreeSet::new()),
            links_absent: RefCell::new(BTreeSet::new()),
        }
    }

    /// The note document a link document shares.
    fn note_of(link: &DocKey) -> DocKey {
        DocKey { target: NOTE.into(), ..link.clone() }
    }

    fn note_id(&self, link: &DocKey) -> Option<String> {
        self.note_ids.borrow().get(&Self::note_of(link)).cloned()
    }

    fn note_results(&self, results: &[(DocKey, WriteResult)]) {
        let mut ids = self.note_ids.borrow_mut();
        for (k, r) in results {
            if let WriteResult::Written { id } = r {
                ids.insert(k.clone(), id.clone());
            }
        }
    }

    /// The writer for an org already known to have (or lack) the chat object.
    pub fn with_chat_object(sf: Salesforce, has_object: bool) -> Self {
        Self::knowing(sf, Some(has_object))
    }

    /// The writer for an org whose chat object the connection may know (None: ask first).
    pub fn knowing(sf: Salesforce, chat_object: Option<bool>) -> Self {
        SalesforceWriter { chat_object, ..Self::new(sf) }
    }

    fn note_chat_ids<'a>(&self, written: impl Iterator<Item = (&'a DocKey, &'a str)>) {
        let mut ids = self.chat_ids.borrow_mut();
        for (k, id) in written {
            if k.target == "chat" && k.part == 0 && !id.is_empty() {
                ids.insert(k.unit.clone(), id.to_string());
            }
        }
    }

    fn chat_key(d: &DocKey) -> String {
        format!("{}#{}", d.unit.external_key(), d.part)
    }

    fn authed(&self, mut r: HttpRequest) -> HttpRequest {
        r.headers.push(("Authorization".into(), format!("Bearer {}", self.sf.access_token)));
        r
    }

    fn data_url(&self, path: &str) -> String {
        format!(
            "{}/services/data/{}{path}",
            self.sf.instance_url.trim_end_matches('/'),
            salesforce::API_VERSION
        )
    }
}

/// A whole chat upsert refused because the object is not in the org: the URL names an
/// unknown sObject type, which the REST API answers 404 `NOT_FOUND` ("The requested resource
/// does not exist") or 400 `INVALID_TYPE` ("sObject type '…' is not supported"), see
/// https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm.
fn chat_object_gone(resp: &HttpResponse) -> bool {
    let body = String::from_utf8_lossy(&resp.body);
    (resp.status == 404 && body.contains("NOT_FOUND"))
        || (resp.status == 400 && body.contains("INVALID_TYPE"))
}

impl DocumentWriter for SalesforceWriter {
    fn crm(&self) -> Crm {
        Crm::Salesforce
    }

    fn budget(&self, resp: &HttpResponse) -> crate::core::ratelimit::Budget {
        crate::crm::budget_of(self.crm(), resp)
    }

    fn rate_limit_window_ms(&self) -> Option<u64> {
        crate::crm::rate_limit_window_ms(self.crm())
    }

    fn absorb_remote(&mut self, remote: &BTreeMap<DocKey, crate::core::outbox::RemoteState>) {
        use crate::core::outbox::RemoteState;
        self.note_chat_ids(remote.iter().filter_map(|(k, s)| match s {
            RemoteState::Written { id, .. } => Some((k, id.as_str())),
            _ => None,
        }));
        let notes = remote.iter().filter(|(k, _)| k.target == NOTE);
        *self.stored_notes.borrow_mut() = notes.clone().map(|(k, _)| k.clone()).collect();
        self.links_absent.borrow_mut().clear();
        *self.note_ids.borrow_mut() = notes
            .filter_map(|(k, s)| match s {
                RemoteState::Written { id, .. } if !id.is_empty() => Some((k.clone(), id.clone())),
                _ => None,
            })
            .collect();
    }

    fn look_up_first(&self, doc: &DocKey) -> bool {
        doc.target == LINK
            && self.stored_notes.borrow().contains(&Self::note_of(doc))
            && !self.links_absent.borrow().contains(doc)
    }

    fn waits(&self, w: &Write) -> bool {
        // A link is made (or looked up) with its note's id; an update names the link itself.
        w.doc.target == LINK && w.op != WriteOp::Update && self.note_id(&w.doc).is_none()
    }

    fn set_targets(&mut self, targets: Targets) {
        self.targets = targets;
    }

    fn prepare(&self, _record: &RecordRef) -> Option<HttpRequest> {
        (self.targets.custom_object && self.chat_object.is_none())
            .then(|| self.sf.object_info_request(salesforce::CHAT_OBJECT))
    }

    fn absorb_prepare(&mut self, _record: &RecordRef, resp: &HttpResponse) -> Result<(), Failure> {
        self.chat_object = Some(match Salesforce::parse_object_info(resp) {
            Ok(has) => has,
            // A user who may not see the object can't write it either: the Task goes instead.
            Err(Failure::PermissionDenied { .. }) => false,
            Err(f) => return Err(f),
        });
        self.chat_object_read = true;
        Ok(())
    }

    fn learned(&self) -> Option<crate::core::outbox::Learned> {
        use crate::core::outbox::Learned;
        if self.chat_object_gone.get() {
            Some(Learned::ChatObjectGone)
        } else if self.chat_object_read {
            self.chat_object.map(Learned::ChatObject)
        } else {
            None
        }
    }

    fn render(&self, unit: &Unit) -> Vec<RenderedDoc> {
        let mut targets = Vec::new();
        // The chat object where the org has it; in any other org a completed Task.
        let task = self.targets.custom_object && self.chat_object == Some(false);
        if self.targets.custom_object && self.chat_object == Some(true) {
            targets.push("chat".to_string());
        }
        if self.targets.notes {
            targets.push(NOTE.to_string());
        }
        let mut docs = render_parts(unit, salesforce::LONG_TEXT_MAX / 2, &targets, &self.titles);
        // Each note part's link to the contact or lead: its body never changes.
        let links: Vec<RenderedDoc> = docs
            .iter()
            .filter(|d| d.key.target == NOTE)
            .map(|d| RenderedDoc {
                key: DocKey { target: LINK.into(), ..d.key.clone() },
                body: format!("{}:V", unit.key.record.id),
            })
            .collect();
        docs.extend(links);
        if task {
            docs.extend(render_parts(unit, TASK_PART_MAX, &["task".to_string()], &self.titles));
        }
        docs.extend(file_docs(unit, &self.titles));
        docs
    }

    fn batch_limit(&self, class: &str, op: &WriteOp) -> usize {
        match (class, op) {
            ("chat", _) | ("task" | NOTE | LINK, WriteOp::Create | WriteOp::Update) => {
                salesforce::COLLECTION_MAX
            }
            _ => 1,
        }
    }

    fn request(
        &self,
        batch: &Batch,
        docs: &BTreeMap<DocKey, RenderedDoc>,
    ) -> Result<HttpRequest, String> {
        let titles = self.titles.borrow();
        let body = |d: &DocKey| {
            docs.get(d)
                .map(|x| x.body.clone())
                .ok_or_else(|| format!("no rendered body for {}", d.id()))
        };
        let title = |d: &DocKey| titles.get(d).cloned().unwrap_or_else(|| title_key(d));
        if batch.class == "chat" {
            // Create, update and reconcile are all the same upsert on the external id.
            let chats = batch
                .writes
                .iter()
                .map(|w| {
                    let d = &w.doc;
                    Ok((
                        Self::chat_key(d),
                        d.unit.record.kind,
                        d.unit.record.id.clone(),
                        title(d),
                        d.unit.day.clone(),
                        body(d)?,
                    ))
                })
                .collect::<Result<Vec<_>, String>>()?;
            return self.sf.upsert_chats(&chats);
        }
        let w = batch.writes.first().ok_or("empty batch")?;
        if batch.class == "task" {
            return match batch.op {
                WriteOp::Create => self.sf.create_tasks(
                    &batch
                        .writes
                        .iter()
                        .map(|w| {
                            Ok((
                                w.doc.unit.record.id.clone(),
                                title(&w.doc),
                                w.doc.unit.day.clone(),
                                body(&w.doc)?,
                            ))
                        })
                        .collect::<Result<Vec<_>, String>>()?,
                ),
                WriteOp::Update => self.sf.update_tasks(&doc_updates(batch, title, body)?),
                WriteOp::Reconcile => {
                    Ok(self.sf.find_task_request(&w.doc.unit.record.id, &title(&w.doc)))
                }
            };
        }
        if batch.class == "file" {
            // A ContentVersion published to the contact or lead; found again by its title.
            let name = title(&w.doc);
            return match batch.op {
                // Published to the day's chat record when it exists (it links the contact or
                // lead), else to the contact or lead itself.
                WriteOp::Create => {
                    let chat = self.chat_ids.borrow().get(&w.doc.unit).cloned();
                    self.sf.content_version(
                        &name,
                        &file_bytes(&w.doc, docs)?,
                        chat.as_deref().unwrap_or(&w.doc.unit.record.id),
                    )
                }
                _ => {
                    let q = format!(
                        "SELECT Id, Title FROM ContentVersion WHERE Title = '{}'",
                        name.replace('\\', "\\\\").replace('\'', "\\'")
                    );
                    Ok(self.authed(HttpRequest::get(
                        self.data_url(&format!("/query?q={}", crate::crm::enc(&q))),
                    )))
                }
            };
        }
        if batch.class == LINK {
            let note = |w: &Write| {
                self.note_id(&w.doc).ok_or_else(|| format!("no note id for {}", w.doc.id()))
            };
            return match batch.op {
                WriteOp::Create => self.sf.link_documents(
                    &batch
                        .writes
                        .iter()
                        .map(|w| Ok((note(w)?, w.doc.unit.record.id.clone())))
                        .collect::<Result<Vec<_>, String>>()?,
                ),
                WriteOp::Update => self.sf.update_links(
                    &batch
                        .writes
                        .iter()
                        .map(|w| w.remote_id.clone().ok_or("update without a link id"))
                        .collect::<Result<Vec<_>, &str>>()?,
                ),
                WriteOp::Reconcile => {
                    Ok(self.sf.find_link_request(&note(w)?, &w.doc.unit.record.id))
                }
            };
        }
        match batch.op {
            WriteOp::Create => self.sf.create_content_notes(
                &batch.writes.iter().map(|w| Ok((title(&w.doc), body(&w.doc)?))).collect::<Result<
                    Vec<_>,
                    String,
                >>(
                )?,
            ),
            WriteOp::Update => self.sf.update_content_notes(&doc_updates(batch, title, body)?),
            WriteOp::Reconcile => {
                let q = format!(
                    "SELECT Id, Title FROM ContentNote WHERE Title = '{}'",
                    salesforce::soql_quote(&title(&w.doc))
                );
                Ok(self.authed(HttpRequest::get(
                    self.data_url(&format!("/query?q={}", crate::crm::enc(&q))),
                )))
            }
        }
    }

    fn outcome(&self, batch: &Batch, resp: &HttpResponse) -> Vec<(DocKey, WriteResult)> {
        if batch.class == "chat" {
            if chat_object_gone(resp) {
                // Deleted (or hidden from this user) since it was looked up: the next cycle
                // asks again, and writes a Task if it is gone for good (these chat documents
                // are then no longer rendered); never parked as refused meanwhile.
                self.chat_object_gone.set(true);
                let f = Failure::Transient {
                    reason: "the chat object is not in the org (it is looked up again)".into(),
                };
                return batch
                    .writes
                    .iter()
                    .map(|w| (w.doc.clone(), WriteResult::Failed(f.clone())))
                    .collect();
            }
            let results = item_results(batch, Salesforce::parse_collection(resp));
            self.note_chat_ids(results.iter().filter_map(|(k, r)| match r {
                WriteResult::Written { id } => Some((k, id.as_str())),
                _ => None,
            }));
            return results;
        }
        let Some(w) = batch.writes.first() else { return Vec::new() };
        let file = batch.class == "file";
        if batch.class == "task" {
            if batch.op != WriteOp::Reconcile {
                return item_results(batch, Salesforce::parse_collection(resp));
            }
            let r = match salesforce::classify(resp) {
                Some(f) => WriteResult::Failed(f),
                None => first_record(resp),
            };
            return vec![(w.doc.clone(), r)];
        }
        if batch.class == LINK {
            if batch.op != WriteOp::Reconcile {
                return item_results(batch, Salesforce::parse_collection(resp));
            }
            let r = match salesforce::classify(resp) {
                Some(f) => WriteResult::Failed(f),
                None => first_record(resp),
            };
            if r == WriteResult::Absent {
                self.links_absent.borrow_mut().insert(w.doc.clone());
            }
            return vec![(w.doc.clone(), r)];
        }
        if !file {
            // The ContentNote.
            if batch.op != WriteOp::Reconcile {
                let results = item_results(batch, Salesforce::parse_collection(resp));
                self.note_results(&results);
                return results;
            }
            let r = match salesforce::classify(resp) {
                Some(f) => WriteResult::Failed(f),
                None => first_record(resp),
            };
            if r == WriteResult::Absent {
                // No note, so no link either: the note is created again, then its link.
                self.stored_notes.borrow_mut().remove(&w.doc);
                self.note_ids.borrow_mut().remove(&w.doc);
            }
            let results = vec![(w.doc.clone(), r)];
            self.note_results(&results);
            return results;
        }
        let r = match batch.op {
            WriteOp::Create => match Salesforce::parse_single(resp) {
                Ok(id) => WriteResult::Written { id },
                Err(f) => WriteResult::Failed(f),
            },
            WriteOp::Update | WriteOp::Reconcile => match salesforce::classify(resp) {
                Some(f) => WriteResult::Failed(f),
                None => first_record(resp),
            },
        };
        vec![(w.doc.clone(), r)]
    }
}

// ---------------------------------------------------------------- LeadSquared
