#![no_main]
// Any answer to a backup write, read-back or preparatory read, for each CRM's writer:
// one result per write of the batch (or none, which the engine treats as a failure),
// never a panic.
use crmsync::core::model::{Crm, RecordKind, RecordRef};
use crmsync::core::outbox::{Batch, DocKey, DocumentWriter, UnitKey, Write, WriteOp};
use crmsync::crm::auth::ZohoDc;
use crmsync::crm::leadsquared::{LeadSquared, LeadSquaredWriter};
use crmsync::crm::salesforce::{Salesforce, SalesforceWriter};
use crmsync::crm::zoho::{Zoho, ZohoWriter};
use libfuzzer_sys::fuzz_target;

mod resp;

fn batch(crm: Crm, target: &str, op: WriteOp, n: usize) -> Batch {
    let record = RecordRef { crm, kind: RecordKind::Contact, id: "r1".into() };
    let writes = (0..n)
        .map(|i| Write {
            doc: DocKey {
                unit: UnitKey {
                    record: record.clone(),
                    chat: "pn:+1".into(),
                    day: "2026-11-21".into(),
                },
                target: target.into(),
                part: i as u16,
            },
            op: op.clone(),
            remote_id: (op == WriteOp::Update).then(|| format!("id{i}")),
        })
        .collect();
    Batch { crm, class: target.split(':').next().unwrap_or(target).into(), op, writes }
}

fuzz_target!(|data: &[u8]| {
    let r = resp::response(data);
    let n = data.first().map_or(1, |b| 1 + (*b as usize % 4));
    let mut writers: Vec<(Box<dyn DocumentWriter>, Vec<&str>)> = vec![
        (
            Box::new(ZohoWriter::new(Zoho {
                dc: ZohoDc::Us,
                api_domain: "https://www.zohoapis.com".into(),
                access_token: "t".into(),
                org_domain: None,
                lead_sources: Default::default(),
            })),
            vec!["note", "deal:1"],
        ),
        (
            Box::new(SalesforceWriter::new(Salesforce {
                instance_url: "https://x.my.salesforce.com".into(),
                access_token: "t".into(),
                multi_currency: false,
            })),
            vec!["chat", "content_note"],
        ),
        (
            Box::new(LeadSquaredWriter::new(LeadSquared {
                access_key: "k".into(),
                secret_key: "s".into(),
                api_host: "api-in21.leadsquared.com".into(),
                app_host: "in21.leadsquared.com".into(),
                activity_event: None,
            })),
            vec!["activity", "opportunity:o1"],
        ),
    ];
    for (w, targets) in writers.iter_mut() {
        let rec = RecordRef { crm: w.crm(), kind: RecordKind::Contact, id: "r1".into() };
        // Preparatory reads (deals, activity type, opportunities) in every order they occur.
        for _ in 0..3 {
            if w.prepare(&rec).is_some() {
                let _ = w.absorb_prepare(&rec, &r);
            }
        }
        for t in targets.iter() {
            for op in [WriteOp::Create, WriteOp::Update, WriteOp::Reconcile] {
                let b = batch(w.crm(), t, op, n);
                let out = w.outcome(&b, &r);
                assert!(out.len() <= b.writes.len(), "more results than writes");
                assert!(
                    out.iter().all(|(k, _)| b.writes.iter().any(|x| &x.doc == k)),
                    "a result for a write not in the batch"
                );
            }
        }
    }
});
