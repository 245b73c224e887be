//! Chat backups per CRM: each connector as the sync engine's `DocumentWriter`.
//!
//! A unit (record × chat × day) becomes these documents, each rewritten whole from the
//! day's transcript and split into ordered parts under the CRM's field limit:
//! - Zoho: a Note on the contact/lead (`note`) and the same note on each of the contact's
//!   5 most recent deals (`deal:<id>`). Bulk create/update ≤100 per call. Idempotency by
//!   read-before-write: titles start with the unit's deterministic key.
//! - Salesforce: where the org has the custom object, a `WhatsApp_Chat__c` record per part
//!   (`chat`), upserted on the external id (≤200 per call; an upsert is its own reconcile);
//!   in a stock org (no such object) a completed Task on the contact or lead (`task`,
//!   `WhoId`, the transcript in `Description` split under 32,000 characters, found by subject
//!   on reconcile). Plus a ContentNote (`content_note`, found by title on reconcile, updated
//!   in place) and its ContentDocumentLink to the contact or lead (`content_note_link`, made
//!   once the note has an id, found by note and record on reconcile); both ≤200 per call.
//! - LeadSquared: a "WhatsApp Chats" activity per part on the lead (`activity`, bulk ≤25)
//!   and on each of its opportunities (`opportunity:<id>`); the key lives in a custom field
//!   and reconcile reads the lead's activities to find it.
//!
//! This module holds what the writers share (titles, parts, files, per-record results); each
//! writer lives in its CRM's folder (`crm::zoho::writer`, …).
use super::http::HttpResponse;
use super::salesforce;
use crate::core::outbox::{Batch, DocKey, RenderedDoc, Unit, WriteResult};
use crate::core::policy::Failure;
use crate::core::transcript;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Room left in each part for the continuation label.
pub(crate) const ZOHO_NOTE_MAX: usize = 65_535;
/// A Task description part, under Task.Description's 32,000 characters.
pub(crate) const TASK_PART_MAX: usize = salesforce::TASK_DESCRIPTION_MAX - 200;

/// The deterministic title a document is found by: key first (CRMs truncate titles).
pub(crate) fn doc_title(d: &DocKey, chat_title: &str, parts: usize) -> String {
    let part = if parts > 1 { format!(" ({}/{parts})", d.part + 1) } else { String::new() };
    format!(
        "[{}#{}] WhatsApp · {} · {}{part}",
        d.unit.external_key(),
        d.part,
        chat_title,
        d.unit.day
    )
}

/// A batch's updates as (the CRM's id of the document, title, body), as Zoho's notes and
/// Salesforce's notes and tasks take them.
pub(crate) fn doc_updates(
    batch: &Batch,
    title: impl Fn(&DocKey) -> String,
    body: impl Fn(&DocKey) -> Result<String, String>,
) -> Result<Vec<(String, String, String)>, String> {
    batch
        .writes
        .iter()
        .map(|w| {
            Ok((
                w.remote_id.clone().ok_or("update without its CRM id")?,
                title(&w.doc),
                body(&w.doc)?,
            ))
        })
        .collect()
}

pub(crate) fn title_key(d: &DocKey) -> String {
    format!("[{}#{}]", d.unit.external_key(), d.part)
}

/// Render a unit's transcript into parts and the documents for each target.
pub(crate) fn render_parts(
    unit: &Unit,
    max_chars: usize,
    targets: &[String],
    titles: &RefCell<BTreeMap<DocKey, String>>,
) -> Vec<RenderedDoc> {
    let title = if unit.is_group { format!("{} (group)", unit.title) } else { unit.title.clone() };
    let mut body = transcript::render_day(&title, &unit.key.day, &unit.messages, &unit.mask);
    // The files uploaded with this day, by the names they have in the CRM.
    if !unit.files.is_empty() {
        let names: Vec<String> = unit.files.iter().map(|f| f.crm_name(&unit.key)).collect();
        body.push_str(&format!("Files: {}\n", names.join(", ")));
    }
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

/// One document per copied file (on the record itself, never on deals): the body is the
/// file (base64), so the digest never changes and a file is written once.
pub(crate) fn file_docs(
    unit: &Unit,
    titles: &RefCell<BTreeMap<DocKey, String>>,
) -> Vec<RenderedDoc> {
    // A file whose every record confirmed it has no bytes left: it is not written again.
    unit.files
        .iter()
        .filter(|f| !f.uploaded)
        .map(|f| {
            let key = DocKey { unit: unit.key.clone(), target: format!("file:{}", f.key), part: 0 };
            titles.borrow_mut().insert(key.clone(), f.crm_name(&unit.key));
            RenderedDoc { key, body: f.data_b64.clone() }
        })
        .collect()
}

/// The marker at the start of a file document's name in the CRM.
pub(crate) fn file_marker(d: &DocKey) -> String {
    crate::core::outbox::file_marker(&d.unit, d.target.trim_start_matches("file:"))
}

pub(crate) fn file_bytes(
    d: &DocKey,
    docs: &BTreeMap<DocKey, RenderedDoc>,
) -> Result<Vec<u8>, String> {
    let b64 =
        docs.get(d).map(|x| x.body.as_str()).ok_or_else(|| format!("no file for {}", d.id()))?;
    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64)
        .map_err(|e| format!("{}: {e}", d.id()))
}

/// A SOQL lookup's answer: the first record found, or none.
pub(crate) fn first_record(resp: &HttpResponse) -> WriteResult {
    let v: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
    match v["records"].as_array().and_then(|a| a.first()).and_then(|r| r["Id"].as_str()) {
        Some(id) => WriteResult::Written { id: id.to_string() },
        None => WriteResult::Absent,
    }
}

pub(crate) fn item_results(
    batch: &Batch,
    results: Result<Vec<Result<String, Failure>>, Failure>,
) -> Vec<(DocKey, WriteResult)> {
    match results {
        Err(f) => {
            batch.writes.iter().map(|w| (w.doc.clone(), WriteResult::Failed(f.clone()))).collect()
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Crm, RecordKind, RecordRef};
    use crate::core::outbox::{Batch, DocumentWriter, Targets, WriteOp};
    use crate::core::outbox::{RemoteState, UnitKey};
    use crate::core::policy::Failure;
    use crate::crm::http::Method;
    use crate::crm::leadsquared::LeadSquared;
    use crate::crm::leadsquared::LeadSquaredWriter;
    use crate::crm::salesforce::Salesforce;
    use crate::crm::salesforce::SalesforceWriter;
    use crate::crm::zoho::Zoho;
    use crate::crm::zoho::ZohoWriter;

    fn unit(crm: Crm, kind: RecordKind) -> Unit {
        Unit {
            files: vec![],
            mask: Default::default(),
            key: UnitKey {
                record: RecordRef { crm, kind, id: "r1".into() },
                chat: "pn:+1".into(),
                day: "2026-11-21".into(),
            },
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
    fn files_upload_once_under_a_marker_name_and_are_found_again() {
        use crate::core::outbox::{plan_writes, FileBlob, Write};
        let mut u = unit(Crm::Zoho, RecordKind::Contact);
        u.files.push(FileBlob {
            key: "3EB0X#0".into(),
            name: "photo.png".into(),
            mime: "image/png".into(),
            data_b64: "iVBORw0K".into(),
            ..Default::default()
        });
        let z = ZohoWriter::new(Zoho {
            dc: crate::crm::auth::ZohoDc::Us,
            api_domain: "https://www.zohoapis.com".into(),
            access_token: "t".into(),
            org_domain: None,
            lead_sources: Default::default(),
        });
        let docs = z.render(&u);
        let file = docs.iter().find(|d| d.key.target == "file:3EB0X#0").expect("a file document");
        let marker = u.files[0].marker(&u.key);
        // The day's note names the file as it is in the CRM.
        let note = docs.iter().find(|d| d.key.target == "note").unwrap();
        assert!(note.body.ends_with(&format!("Files: {marker}_photo.png\n")), "{}", note.body);
        let by_key: BTreeMap<DocKey, RenderedDoc> =
            docs.iter().map(|d| (d.key.clone(), d.clone())).collect();
        let batch = |op: WriteOp| Batch {
            crm: Crm::Zoho,
            class: "file".into(),
            op: op.clone(),
            writes: vec![Write { doc: file.key.clone(), op, remote_id: None }],
        };
        let req = z.request(&batch(WriteOp::Create), &by_key).unwrap();
        assert_eq!(req.url, "https://www.zohoapis.com/crm/v8/Contacts/r1/Attachments");
        let body = String::from_utf8_lossy(req.body.as_deref().unwrap()).to_string();
        assert!(body.contains(&format!("filename=\"{marker}_photo.png\"")), "{body}");
        assert!(
            req.body.as_deref().unwrap().windows(4).any(|w| w == [0x89, b'P', b'N', b'G']),
            "the bytes, decoded"
        );
        assert_eq!(z.batch_limit("file", &WriteOp::Create), 1);
        // After a lost answer: the record's attachments are listed and the marker finds it.
        let list = z.request(&batch(WriteOp::Reconcile), &by_key).unwrap();
        assert!(list.url.contains("/Contacts/r1/Attachments?"));
        let found = format!(
            r#"{{"data":[{{"id":"a1","File_Name":"other.png"}},{{"id":"a2","File_Name":"{marker}_photo.png"}}]}}"#
        );
        let r = z.outcome(&batch(WriteOp::Reconcile), &crate::crm::resp(200, found.as_bytes()));
        assert_eq!(r[0].1, WriteResult::Written { id: "a2".into() });
        assert_eq!(
            z.outcome(&batch(WriteOp::Reconcile), &crate::crm::resp(204, b""))[0].1,
            WriteResult::Absent
        );
        // Written once, the same file never plans another write.
        let mut remote = BTreeMap::new();
        remote.insert(
            file.key.clone(),
            RemoteState::Written { id: "a2".into(), digest: file.digest(), at_ms: None },
        );
        assert!(plan_writes(std::slice::from_ref(file), &remote).is_empty());
        // Once every record confirmed it, the bytes are gone: the note still names the file
        // (same body, so no update), and no file document is rendered again.
        let mut reduced = u.clone();
        reduced.files = vec![u.files[0].without_bytes()];
        assert_eq!((reduced.files[0].size, reduced.files[0].data_b64.as_str()), (6, ""));
        let again = z.render(&reduced);
        assert!(again.iter().all(|d| !d.key.target.starts_with("file:")));
        assert_eq!(
            again.iter().find(|d| d.key.target == "note").map(|d| &d.body),
            Some(&note.body)
        );
        let too_big = z.outcome(&batch(WriteOp::Create), &crate::crm::resp(413, b"{}"));
        assert!(matches!(&too_big[0].1, WriteResult::Failed(Failure::Rejected { .. })));

        let s = SalesforceWriter::with_chat_object(
            Salesforce {
                instance_url: "https://x.my.salesforce.com".into(),
                access_token: "t".into(),
                multi_currency: false,
            },
            true,
        );
        let mut su = unit(Crm::Salesforce, RecordKind::Lead);
        su.files = u.files.clone();
        let sdocs = s.render(&su);
        let sfile = sdocs.iter().find(|d| d.key.target.starts_with("file:")).unwrap();
        let sby: BTreeMap<DocKey, RenderedDoc> =
            sdocs.iter().map(|d| (d.key.clone(), d.clone())).collect();
        let sb = |op: WriteOp| Batch {
            crm: Crm::Salesforce,
            class: "file".into(),
            op: op.clone(),
            writes: vec![Write { doc: sfile.key.clone(), op, remote_id: None }],
        };
        let req = s.request(&sb(WriteOp::Create), &sby).unwrap();
        assert!(req.url.ends_with("/sobjects/ContentVersion"));
        let v: serde_json::Value = serde_json::from_slice(req.body.as_deref().unwrap()).unwrap();
        assert_eq!(v["FirstPublishLocationId"], "r1");
        assert!(v["Title"].as_str().unwrap().starts_with(&su.files[0].marker(&su.key)));
        let q = s.request(&sb(WriteOp::Reconcile), &sby).unwrap();
        assert!(q.url.contains("FROM%20ContentVersion%20WHERE%20Title"));
        let none = s.outcome(
            &sb(WriteOp::Reconcile),
            &crate::crm::resp(200, br#"{"totalSize":0,"done":true,"records":[]}"#),
        );
        assert_eq!(none[0].1, WriteResult::Absent);
        // Once the day's chat record exists, the file is published to it.
        let mut s = s;
        let chat_doc = sdocs.iter().find(|d| d.key.target == "chat").unwrap();
        let mut remote = BTreeMap::new();
        remote.insert(
            chat_doc.key.clone(),
            RemoteState::Written { id: "a0Xchat".into(), digest: 1, at_ms: None },
        );
        s.absorb_remote(&remote);
        let req = s.request(&sb(WriteOp::Create), &sby).unwrap();
        let v: serde_json::Value = serde_json::from_slice(req.body.as_deref().unwrap()).unwrap();
        assert_eq!(v["FirstPublishLocationId"], "a0Xchat");
    }

    #[test]
    fn backup_targets_follow_the_settings() {
        let mut z = ZohoWriter::new(Zoho {
            dc: crate::crm::auth::ZohoDc::Us,
            api_domain: "https://www.zohoapis.com".into(),
            access_token: "t".into(),
            org_domain: None,
            lead_sources: Default::default(),
        });
        let contact = unit(Crm::Zoho, RecordKind::Contact);
        z.deals.insert("r1".into(), vec!["d1".into()]);
        assert_eq!(targets_of(&z, &contact), ["note", "deal:d1"]);
        z.set_targets(Targets { notes: false, ..Targets::default() });
        assert_eq!(targets_of(&z, &contact), ["deal:d1"]);
        z.set_targets(Targets { deals: false, ..Targets::default() });
        assert_eq!(targets_of(&z, &contact), ["note"]);
        assert!(z.prepare(&contact.key.record).is_none(), "no deal lookup when deals are off");
        // Deals matching already read: no lookup, and they are the targets.
        let mut z2 = ZohoWriter::new(Zoho {
            dc: crate::crm::auth::ZohoDc::Us,
            api_domain: "https://www.zohoapis.com".into(),
            access_token: "t".into(),
            org_domain: None,
            lead_sources: Default::default(),
        });
        let other = RecordRef { crm: Crm::Zoho, kind: RecordKind::Contact, id: "r2".into() };
        assert!(z2.prepare(&other).is_some());
        z2.seed_related(&other, vec!["d9".into()]);
        assert!(z2.prepare(&other).is_none());

        let mut s = SalesforceWriter::with_chat_object(
            Salesforce {
                instance_url: "https://x.my.salesforce.com".into(),
                access_token: "t".into(),
                multi_currency: false,
            },
            true,
        );
        let sfc = unit(Crm::Salesforce, RecordKind::Contact);
        assert_eq!(targets_of(&s, &sfc), ["chat", "content_note", "content_note_link"]);
        s.set_targets(Targets { custom_object: false, ..Targets::default() });
        assert_eq!(targets_of(&s, &sfc), ["content_note", "content_note_link"]);

        let mut l = LeadSquaredWriter::new(LeadSquared {
            access_key: "a".into(),
            secret_key: "s".into(),
            api_host: "h".into(),
            app_host: "a".into(),
            activity_event: Some(1),
        });
        let lead = unit(Crm::Leadsquared, RecordKind::Lead);
        l.opps.insert("r1".into(), vec!["o1".into()]);
        assert_eq!(targets_of(&l, &lead), ["activity", "opportunity:o1"]);
        l.set_targets(Targets { activities: false, deals: false, ..Targets::default() });
        assert!(targets_of(&l, &lead).is_empty());
        assert!(l.prepare(&lead.key.record).is_none());
    }

    #[test]
    fn leadsquared_activity_type_is_looked_up_by_name_created_once_and_kept() {
        // Before: CreateType on every cycle (the code was never kept) and "already exists"
        // read from an undocumented error text.
        use crate::crm::resp;
        let lsq = |event| LeadSquared {
            access_key: "a".into(),
            secret_key: "s".into(),
            api_host: "api-in21.leadsquared.com".into(),
            app_host: "in21.leadsquared.com".into(),
            activity_event: event,
        };
        let lead = RecordRef { crm: Crm::Leadsquared, kind: RecordKind::Lead, id: "L1".into() };
        // A type an admin (or an earlier install) made is found by name: no create.
        let mut w = LeadSquaredWriter::new(lsq(None));
        let first = w.prepare(&lead).unwrap();
        assert_eq!(
            (first.method, first.url.as_str()),
            (
                Method::Get,
                "https://api-in21.leadsquared.com/v2/ProspectActivity.svc/ActivityTypes.Get"
            )
        );
        w.absorb_prepare(&lead, &resp(200, br#"[{"ActivityEvent":12,"ActivityEventName":"Other"},{"ActivityEvent":207,"ActivityEventName":"WhatsApp Chats"}]"#)).unwrap();
        assert_eq!(w.lsq.activity_event, Some(207));
        assert_eq!(w.learned(), Some(crate::core::outbox::Learned::ActivityEvent(207)));
        assert!(
            w.prepare(&lead).unwrap().url.contains("GetOpportunitiesOfLead"),
            "then the opportunities"
        );
        // None yet: created once, its code (Message.Id) learned.
        let mut w = LeadSquaredWriter::new(lsq(None));
        w.absorb_prepare(
            &lead,
            &resp(200, br#"[{"ActivityEvent":12,"ActivityEventName":"Other"}]"#),
        )
        .unwrap();
        assert!(w.prepare(&lead).unwrap().url.ends_with("/v2/ProspectActivity.svc/CreateType"));
        w.absorb_prepare(&lead, &resp(200, br#"{"Status":"Success","Message":{"Id":"208"}}"#))
            .unwrap();
        assert_eq!(w.learned(), Some(crate::core::outbox::Learned::ActivityEvent(208)));
        // A failed create is an error, and the next attempt looks the name up again.
        let mut w = LeadSquaredWriter::new(lsq(None));
        w.absorb_prepare(&lead, &resp(200, b"[]")).unwrap();
        assert!(w.absorb_prepare(&lead, &resp(500, br#"{"Status":"Error","ExceptionType":"MXDuplicateEntryException","ExceptionMessage":"x"}"#)).is_err());
        assert!(w.prepare(&lead).unwrap().url.ends_with("ActivityTypes.Get"));
        assert_eq!(w.learned(), None);
        // The code the connection kept: no type call at all.
        let w = LeadSquaredWriter::new(lsq(Some(207)));
        assert!(w.prepare(&lead).unwrap().url.contains("GetOpportunitiesOfLead"));
        assert_eq!(w.learned(), None);
        // And the connection keeps it (LeadSquared only).
        let mut conn = crate::crm::connect::Connection::establish(
            crate::crm::connect::Credentials::Leadsquared {
                access_key: "a".into(),
                secret_key: "s".into(),
            },
            &resp(200, &crate::crm::golden("leadsquared/user-by-access-key.json")),
            0,
        )
        .unwrap();
        assert!(conn.absorb_learned(&crate::core::outbox::Learned::ActivityEvent(207), 0));
        assert!(
            !conn.absorb_learned(&crate::core::outbox::Learned::ActivityEvent(207), 0),
            "unchanged: no rewrite"
        );
        let restored: crate::crm::connect::Connection =
            serde_json::from_str(&serde_json::to_string(&conn).unwrap()).unwrap();
        assert_eq!(restored.activity_event, Some(207));
        assert!(restored
            .writer(0)
            .map_err(|_| ())
            .unwrap()
            .prepare(&lead)
            .unwrap()
            .url
            .contains("GetOpportunitiesOfLead"));
    }

    #[test]
    fn salesforce_backs_up_to_a_task_in_a_stock_org_and_to_the_chat_object_where_it_exists() {
        // Before: every backup went to WhatsApp_Chat__c, which no stock org has, and leads
        // got no ContentNote: in a stock org nothing landed at all.
        use crate::core::model::{Direction, LocalMinute, Message, Sender};
        use crate::core::outbox::Write;
        use crate::crm::resp;
        let sf = || Salesforce {
            instance_url: "https://x.my.salesforce.com".into(),
            access_token: "t".into(),
            multi_currency: false,
        };
        let mut w = SalesforceWriter::new(sf());
        let lead = unit(Crm::Salesforce, RecordKind::Lead);
        let ask = w.prepare(&lead.key.record).expect("asks whether the org has the object");
        assert_eq!(
            ask.url,
            "https://x.my.salesforce.com/services/data/v62.0/sobjects/WhatsApp_Chat__c"
        );
        w.absorb_prepare(
            &lead.key.record,
            &resp(
                404,
                br#"[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]"#,
            ),
        )
        .unwrap();
        assert!(w.prepare(&lead.key.record).is_none(), "asked once");
        assert_eq!(targets_of(&w, &lead), ["content_note", "content_note_link", "task"]);
        assert_eq!(
            targets_of(&w, &unit(Crm::Salesforce, RecordKind::Contact)),
            ["content_note", "content_note_link", "task"]
        );
        // A long day: every Task part under Description's 32,000 characters.
        let mut long = unit(Crm::Salesforce, RecordKind::Lead);
        long.messages = (0..400)
            .map(|i| {
                Message::text(
                    format!("m{i}"),
                    "pn:+1",
                    Direction::In,
                    Sender { name: "Noah".into(), phone: None },
                    Some(LocalMinute {
                        year: 2026,
                        month: 11,
                        day: 21,
                        hour: 8 + (i / 60) as u8,
                        minute: (i % 60) as u8,
                    }),
                    "x".repeat(200),
                )
            })
            .collect();
        let docs = w.render(&long);
        let tasks: Vec<&RenderedDoc> = docs.iter().filter(|d| d.key.target == "task").collect();
        assert!(tasks.len() >= 3, "{} parts", tasks.len());
        assert!(tasks.iter().all(|d| d.body.chars().count() <= salesforce::TASK_DESCRIPTION_MAX));
        let by_key: BTreeMap<DocKey, RenderedDoc> =
            docs.iter().map(|d| (d.key.clone(), d.clone())).collect();
        let batch = |op: WriteOp, remote_id: Option<&str>| Batch {
            crm: Crm::Salesforce,
            class: "task".into(),
            op: op.clone(),
            writes: vec![Write {
                doc: tasks[0].key.clone(),
                op,
                remote_id: remote_id.map(str::to_string),
            }],
        };
        let create = w.request(&batch(WriteOp::Create, None), &by_key).unwrap();
        assert_eq!(
            create.url,
            "https://x.my.salesforce.com/services/data/v62.0/composite/sobjects"
        );
        assert_eq!(w.batch_limit("task", &WriteOp::Create), 200, "tasks go 200 to a call");
        let all: serde_json::Value =
            serde_json::from_slice(create.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            (all["allOrNone"].as_bool(), all["records"][0]["attributes"]["type"].as_str()),
            (Some(false), Some("Task"))
        );
        let v = all["records"][0].clone();
        assert_eq!(
            (v["WhoId"].as_str(), v["Status"].as_str(), v["ActivityDate"].as_str()),
            (Some("r1"), Some("Completed"), Some("2026-11-21"))
        );
        let subject = v["Subject"].as_str().unwrap();
        assert!(
            subject.starts_with('[')
                && subject.contains("WhatsApp · Ana · 2026-11-21")
                && subject.chars().count() <= 255,
            "{subject}"
        );
        assert_eq!(v["Description"].as_str(), Some(tasks[0].body.as_str()));
        assert_eq!(
            w.outcome(
                &batch(WriteOp::Create, None),
                &resp(200, br#"[{"id":"00TX","success":true,"errors":[]}]"#)
            )[0]
            .1,
            WriteResult::Written { id: "00TX".into() }
        );
        let upd = w.request(&batch(WriteOp::Update, Some("00TX")), &by_key).unwrap();
        assert_eq!(
            (upd.method, upd.url.as_str()),
            (Method::Patch, "https://x.my.salesforce.com/services/data/v62.0/composite/sobjects")
        );
        let u: serde_json::Value = serde_json::from_slice(upd.body.as_deref().unwrap()).unwrap();
        assert_eq!(u["records"][0]["id"], "00TX");
        assert_eq!(
            w.outcome(
                &batch(WriteOp::Update, Some("00TX")),
                &resp(200, br#"[{"id":"00TX","success":true,"errors":[]}]"#)
            )[0]
            .1,
            WriteResult::Written { id: "00TX".into() }
        );
        let too_long = br#"[{"success":false,"errors":[{"statusCode":"STRING_TOO_LONG","message":"data value too large","fields":["Description"]}]}]"#;
        assert!(matches!(
            &w.outcome(&batch(WriteOp::Update, Some("00TX")), &resp(200, too_long))[0].1,
            WriteResult::Failed(Failure::Rejected { .. })
        ));
        let find = w.request(&batch(WriteOp::Reconcile, None), &by_key).unwrap();
        assert!(
            find.url.contains("FROM%20Task%20WHERE%20WhoId%20%3D%20%27r1%27%20AND%20Subject"),
            "{}",
            find.url
        );
        assert_eq!(
            w.outcome(
                &batch(WriteOp::Reconcile, None),
                &resp(200, br#"{"totalSize":0,"done":true,"records":[]}"#)
            )[0]
            .1,
            WriteResult::Absent
        );
        // The ContentNote goes to leads too, linked to the lead.
        let note = docs.iter().find(|d| d.key.target == "content_note").unwrap();
        let nb = Batch {
            crm: Crm::Salesforce,
            class: "content_note".into(),
            op: WriteOp::Create,
            writes: vec![Write { doc: note.key.clone(), op: WriteOp::Create, remote_id: None }],
        };
        let v: serde_json::Value =
            serde_json::from_slice(w.request(&nb, &by_key).unwrap().body.as_deref().unwrap())
                .unwrap();
        assert_eq!(v["records"][0]["attributes"]["type"], "ContentNote");
        w.outcome(&nb, &resp(200, br#"[{"id":"069N","success":true,"errors":[]}]"#));
        let link = Write {
            doc: DocKey { target: "content_note_link".into(), ..note.key.clone() },
            op: WriteOp::Create,
            remote_id: None,
        };
        assert!(!w.waits(&link), "the note has its id");
        let lb = Batch {
            crm: Crm::Salesforce,
            class: "content_note_link".into(),
            op: WriteOp::Create,
            writes: vec![link],
        };
        let v: serde_json::Value =
            serde_json::from_slice(w.request(&lb, &by_key).unwrap().body.as_deref().unwrap())
                .unwrap();
        assert_eq!(
            (
                v["records"][0]["ContentDocumentId"].as_str(),
                v["records"][0]["LinkedEntityId"].as_str()
            ),
            (Some("069N"), Some("r1"))
        );
        // An org with the object: the chat record, as before, and no task.
        let mut with = SalesforceWriter::new(sf());
        with.absorb_prepare(
            &lead.key.record,
            &resp(200, br#"{"objectDescribe":{"name":"WhatsApp_Chat__c"}}"#),
        )
        .unwrap();
        assert_eq!(targets_of(&with, &lead), ["chat", "content_note", "content_note_link"]);
        // An object the user may not see is written as a Task.
        let mut hidden = SalesforceWriter::new(sf());
        hidden
            .absorb_prepare(
                &lead.key.record,
                &resp(403, br#"[{"errorCode":"INSUFFICIENT_ACCESS","message":"no access"}]"#),
            )
            .unwrap();
        assert_eq!(targets_of(&hidden, &lead), ["content_note", "content_note_link", "task"]);
        // Not knowing is not "absent": a failed ask is an error (the cycle retries).
        let mut unsure = SalesforceWriter::new(sf());
        assert!(unsure.absorb_prepare(&lead.key.record, &resp(503, b"")).is_err());
        assert_eq!(targets_of(&unsure, &lead), ["content_note", "content_note_link"]);
    }

    #[test]
    fn salesforce_notes_go_200_to_a_call_then_their_links_and_a_link_is_looked_up_when_unsure() {
        // Before: one Composite call (note + link) per note, `batch_limit` 1.
        use crate::core::outbox::Write;
        use crate::crm::resp;
        let mut w = SalesforceWriter::with_chat_object(
            Salesforce {
                instance_url: "https://x.my.salesforce.com".into(),
                access_token: "t".into(),
                multi_currency: false,
            },
            false,
        );
        w.set_targets(Targets { custom_object: false, ..Targets::default() });
        for op in [WriteOp::Create, WriteOp::Update] {
            assert_eq!(w.batch_limit("content_note", &op), 200);
            assert_eq!(w.batch_limit("content_note_link", &op), 200);
        }
        assert!("content_note" < "content_note_link", "a pass sends links after their notes");
        let units: Vec<Unit> = ["r1", "r2"]
            .iter()
            .map(|id| {
                let mut u = unit(Crm::Salesforce, RecordKind::Contact);
                u.key.record.id = id.to_string();
                u
            })
            .collect();
        let docs: Vec<RenderedDoc> = units.iter().flat_map(|u| w.render(u)).collect();
        let by_key: BTreeMap<DocKey, RenderedDoc> =
            docs.iter().map(|d| (d.key.clone(), d.clone())).collect();
        let of = |t: &str| -> Vec<Write> {
            docs.iter()
                .filter(|d| d.key.target == t)
                .map(|d| Write { doc: d.key.clone(), op: WriteOp::Create, remote_id: None })
                .collect()
        };
        let (notes, links) = (of("content_note"), of("content_note_link"));
        assert_eq!((notes.len(), links.len()), (2, 2));
        let batch = |class: &str, op: WriteOp, writes: Vec<Write>| Batch {
            crm: Crm::Salesforce,
            class: class.into(),
            op,
            writes,
        };
        // New notes: no link can exist yet, so none is looked up; each waits for its note.
        assert!(links.iter().all(|l| !w.look_up_first(&l.doc) && w.waits(l)));
        let nb = batch("content_note", WriteOp::Create, notes.clone());
        let req = w.request(&nb, &by_key).unwrap();
        let v: serde_json::Value = serde_json::from_slice(req.body.as_deref().unwrap()).unwrap();
        assert_eq!(v["records"].as_array().map(Vec::len), Some(2), "both notes in one call");
        // The second note is refused: its link keeps waiting, the first one's goes.
        let r = w.outcome(
            &nb,
            &resp(200, &crate::crm::golden("salesforce/collections-200-notes-one-refused.json")),
        );
        assert_eq!(r[0].1, WriteResult::Written { id: "069RM0000009xVCYAY".into() });
        assert!(matches!(&r[1].1, WriteResult::Failed(Failure::Rejected { .. })));
        assert!(!w.waits(&links[0]) && w.waits(&links[1]));
        let lb = batch("content_note_link", WriteOp::Create, vec![links[0].clone()]);
        let v: serde_json::Value =
            serde_json::from_slice(w.request(&lb, &by_key).unwrap().body.as_deref().unwrap())
                .unwrap();
        assert_eq!(
            v["records"][0],
            serde_json::json!({"attributes": {"type": "ContentDocumentLink"}, "ContentDocumentId": "069RM0000009xVCYAY",
                "LinkedEntityId": "r1", "ShareType": "V", "Visibility": "AllUsers"})
        );
        // Next cycle: the first note is stored, its link's create was lost (uncertain); the
        // second note was never created. A note stored from before (an earlier version wrote
        // note and link in one call) gets its link looked up before any create.
        let mut remote = BTreeMap::new();
        remote.insert(
            notes[0].doc.clone(),
            RemoteState::Written { id: "069RM0000009xVCYAY".into(), digest: 1, at_ms: None },
        );
        w.absorb_remote(&remote);
        assert!(w.look_up_first(&links[0].doc) && !w.look_up_first(&links[1].doc));
        assert!(w.waits(&links[1]), "no id for the refused note");
        let find = w
            .request(
                &batch("content_note_link", WriteOp::Reconcile, vec![links[0].clone()]),
                &by_key,
            )
            .unwrap();
        assert!(
            find.url.contains("ContentDocumentId%20%3D%20%27069RM0000009xVCYAY%27%20AND%20LinkedEntityId%20%3D%20%27r1%27"),
            "{}",
            find.url
        );
        let none = resp(200, br#"{"totalSize":0,"done":true,"records":[]}"#);
        let rb = batch("content_note_link", WriteOp::Reconcile, vec![links[0].clone()]);
        assert_eq!(w.outcome(&rb, &none)[0].1, WriteResult::Absent);
        assert!(!w.look_up_first(&links[0].doc), "not found: created, without asking again");
        // A note whose create was lost: found by its title, and its link looked up.
        let mut remote = BTreeMap::new();
        remote.insert(notes[1].doc.clone(), RemoteState::Uncertain { since_ms: 1 });
        w.absorb_remote(&remote);
        assert!(w.look_up_first(&links[1].doc) && w.waits(&links[1]));
        let nr = batch("content_note", WriteOp::Reconcile, vec![notes[1].clone()]);
        let q = w.request(&nr, &by_key).unwrap();
        assert!(q.url.contains("FROM%20ContentNote%20WHERE%20Title"), "{}", q.url);
        let found =
            resp(200, br#"{"totalSize":1,"done":true,"records":[{"Id":"069B","Title":"t"}]}"#);
        assert_eq!(w.outcome(&nr, &found)[0].1, WriteResult::Written { id: "069B".into() });
        assert!(!w.waits(&links[1]));
        // Not found: the note is created again, and its link directly after it.
        w.absorb_remote(&remote);
        assert_eq!(w.outcome(&nr, &none)[0].1, WriteResult::Absent);
        assert!(!w.look_up_first(&links[1].doc));
        // The day grew: notes updated 200 to a call.
        let upd = w
            .request(
                &batch(
                    "content_note",
                    WriteOp::Update,
                    notes
                        .iter()
                        .map(|n| Write {
                            op: WriteOp::Update,
                            remote_id: Some("069X".into()),
                            ..n.clone()
                        })
                        .collect(),
                ),
                &by_key,
            )
            .unwrap();
        assert_eq!(upd.method, Method::Patch);
        let v: serde_json::Value = serde_json::from_slice(upd.body.as_deref().unwrap()).unwrap();
        assert_eq!(v["records"].as_array().map(Vec::len), Some(2));
    }
}
