//! The sync engine against the sandbox's CRMs, in process (no TLS, no browser): seeded fault
//! schedules (5xx, 429, answers lost after the CRM committed, one record of a batch refused)
//! and worker deaths (the driver stops after a random number of ops, and a new engine resumes
//! from the store). Every captured message must end up exactly once in each CRM document slot
//! it belongs in (derived from the seeded records, see `expected_slots`) and in no other, and
//! no message may stay unconfirmed. `ENGINE_SEED` reruns one schedule,
//! `ENGINE_SCHEDULES` sets how many run (default 300; the sandbox runs in process over an in-memory
//! database, about 35 ms a schedule); a failure prints its seed.
use crm_sandbox::{faults, ledger, router, seed, Shared};
use crmsync::core::engine::{drive, Engine, SendKind, Snapshot, Transport};
use crmsync::core::http::{HttpRequest, HttpResponse};
use crmsync::core::model::{
    Crm, Direction, LocalMinute, Message, MessageKind, RecordKind, RecordRef, Sender, WaIdentity,
};
use crmsync::core::outbox::{DocumentWriter, OutboxMessage, RemoteState};
use crmsync::core::store::{self, MemoryStore, Storage, Table};
use crmsync::core::sync::ChatRecord;
use crmsync::crm::auth::ZohoDc;
use crmsync::crm::{leadsquared::LeadSquared, salesforce::Salesforce, zoho::Zoho};
use crmsync::crm::{
    leadsquared::LeadSquaredWriter, salesforce::SalesforceWriter, zoho::ZohoWriter,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tower::ServiceExt;

const ZOHO_CONTACT: &str = "5843104000000624001";
const SF_CONTACT: &str = "003RO0000035WQgYAM";
const LSQ_LEAD: &str = "3131ea6a-bb20-4457-b183-ddf6d8716dfe";
const ZOHO_TOKEN: &str = "engine-test-zoho-access";
const SF_TOKEN: &str = "engine-test-sf-access";

/// splitmix64: a schedule is its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The sandbox's router as the engine's transport.
struct InProcess {
    app: axum::Router,
    calls: usize,
    /// `METHOD path` of every call, in order.
    seen: Vec<String>,
}

impl Transport for InProcess {
    async fn perform(&mut self, req: &HttpRequest, _kind: SendKind) -> HttpResponse {
        self.calls += 1;
        let rest = req.url.strip_prefix("https://").unwrap_or(&req.url);
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        self.seen.push(format!("{} {}", req.method.as_str(), path.split('?').next().unwrap_or("")));
        let path = if path.is_empty() { "/" } else { path };
        let mut b = axum::http::Request::builder()
            .method(req.method.as_str())
            .uri(path)
            .header("host", host);
        for (k, v) in &req.headers {
            b = b.header(k, v);
        }
        let body = axum::body::Body::from(req.body.clone().unwrap_or_default());
        let Ok(request) = b.body(body) else {
            return HttpResponse { status: 0, headers: vec![], body: b"bad request".to_vec() };
        };
        let Ok(resp) = self.app.clone().oneshot(request).await;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        match axum::body::to_bytes(resp.into_body(), usize::MAX).await {
            Ok(body) => {
                if std::env::var_os("ENGINE_DEBUG").is_some() && status >= 300 {
                    eprintln!(
                        "{} {} -> {status} {}",
                        req.method.as_str(),
                        req.url,
                        String::from_utf8_lossy(&body)
                    );
                }
                HttpResponse { status, headers, body: body.to_vec() }
            }
            // The connection was cut after the CRM committed: no answer.
            Err(e) => HttpResponse { status: 0, headers: vec![], body: e.to_string().into_bytes() },
        }
    }
}

fn writers() -> Vec<Box<dyn DocumentWriter>> {
    vec![
        Box::new(ZohoWriter::new(Zoho {
            dc: ZohoDc::Us,
            api_domain: "https://www.zohoapis.com".into(),
            access_token: ZOHO_TOKEN.into(),
            org_domain: None,
            lead_sources: Default::default(),
        })),
        Box::new(SalesforceWriter::new(Salesforce {
            instance_url: format!("https://{}", seed::SF_INSTANCE),
            access_token: SF_TOKEN.into(),
            multi_currency: false,
        })),
        Box::new(LeadSquaredWriter::new(LeadSquared {
            access_key: seed::LSQ_ACCESS.into(),
            secret_key: seed::LSQ_SECRET.into(),
            api_host: seed::LSQ_API_HOST.into(),
            app_host: String::new(),
            activity_event: None,
        })),
    ]
}

struct Chat {
    key: String,
    record: RecordRef,
}

fn chats() -> Vec<Chat> {
    let rec = |crm, kind, id: &str| RecordRef { crm, kind, id: id.into() };
    vec![
        Chat {
            key: "pn:+5511987654321".into(),
            record: rec(Crm::Zoho, RecordKind::Contact, ZOHO_CONTACT),
        },
        Chat {
            key: "pn:+14155552671".into(),
            record: rec(Crm::Salesforce, RecordKind::Contact, SF_CONTACT),
        },
        Chat {
            key: "pn:+919876543210".into(),
            record: rec(Crm::Leadsquared, RecordKind::Lead, LSQ_LEAD),
        },
    ]
}

fn message(chat: &str, n: usize, day: u8, token: &str) -> OutboxMessage {
    OutboxMessage {
        message: Message::text(
            format!("{chat}#{n}"),
            chat,
            if n.is_multiple_of(2) { Direction::In } else { Direction::Out },
            Sender {
                name: if n.is_multiple_of(2) { "Client".into() } else { "You".into() },
                phone: None,
            },
            // Fixed calendar days: nothing here is compared with the clock.
            Some(LocalMinute {
                year: 2026,
                month: 3,
                day,
                hour: 9 + (n % 9) as u8,
                minute: (n % 60) as u8,
            }),
            format!("order update {token}"),
        ),
        captured_at_ms: 1,
        synced: false,
    }
}

/// Every (slot, document id) holding `token`, read from the sandbox's ledger: a slot is the
/// place a document belongs (a record, or a deal / opportunity of it).
fn holders(l: &Value, token: &str) -> Vec<(String, String)> {
    let has = |v: &Value, k: &str| v[k].as_str().is_some_and(|s| s.contains(token));
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let mut out = Vec::new();
    for n in list(&l["zoho"]["notes"]).iter().filter(|n| has(n, "content")) {
        out.push((format!("zoho:{}:{}", s(&n["parent_module"]), s(&n["parent_id"])), s(&n["id"])));
    }
    let sf = &l["salesforce"];
    for t in list(&sf["Task"]).iter().filter(|t| has(t, "Description")) {
        out.push((format!("salesforce:task:{}", s(&t["WhoId"])), s(&t["Id"])));
    }
    for c in list(&sf["WhatsApp_Chat__c"]).iter().filter(|c| has(c, "Transcript__c")) {
        out.push((format!("salesforce:chat:{}", s(&c["Contact__c"])), s(&c["Id"])));
    }
    for n in list(&sf["ContentNote"]).iter().filter(|n| has(n, "Content")) {
        let id = s(&n["Id"]);
        let links: Vec<String> = list(&sf["ContentDocumentLink"])
            .iter()
            .filter(|k| s(&k["ContentDocumentId"]) == id)
            .map(|k| s(&k["LinkedEntityId"]))
            .collect();
        if links.is_empty() {
            out.push(("salesforce:note:unlinked".into(), id.clone()));
        }
        for r in links {
            out.push((format!("salesforce:note:{r}"), id.clone()));
        }
    }
    for a in list(&l["leadsquared"]["activities"]).iter().filter(|a| has(a, "ActivityNote")) {
        let slot = format!(
            "leadsquared:{}:{}",
            s(&a["RelatedProspectId"]),
            a["RelatedOpportunityId"].as_str().unwrap_or("lead")
        );
        let id = a["ProspectActivityId"].as_str().or(a["Id"].as_str()).unwrap_or("").to_string();
        out.push((slot, id));
    }
    out
}

/// Every slot a message of the chat linked to `record` belongs in, read from the sandbox's
/// ledger as seeded (never from the product's code), per "Where a backup lands" (README):
/// Zoho, the contact and its 5 most recently modified deals (`Modified_Time`, as seeded);
/// Salesforce, the chat record (a Task on the contact in a stock org, `WhatsApp_Chat__c` where
/// the object exists) and a ContentNote linked to the contact; LeadSquared, the lead and each
/// of its opportunities.
fn expected_slots(seeded: &Value, record: &RecordRef) -> std::collections::BTreeSet<String> {
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let id = record.id.as_str();
    let mut out = std::collections::BTreeSet::new();
    match record.crm {
        Crm::Zoho => {
            let module = match record.kind {
                RecordKind::Lead => "Leads",
                _ => "Contacts",
            };
            out.insert(format!("zoho:{module}:{id}"));
            let mut deals: Vec<(String, String)> = list(&seeded["zoho"]["deals"])
                .iter()
                .filter(|d| d["Contact_Name"]["id"].as_str() == Some(id))
                .map(|d| {
                    let s = |k: &str| d[k].as_str().unwrap_or("").to_string();
                    (s("Modified_Time"), s("id"))
                })
                .collect();
            // ISO 8601 times of one offset sort as text.
            deals.sort_by(|a, b| b.cmp(a));
            out.extend(deals.into_iter().take(5).map(|(_, d)| format!("zoho:Deals:{d}")));
        }
        Crm::Salesforce => {
            let chat = if seeded["salesforce"]["has_chat_object"] == json!(true) {
                "chat"
            } else {
                "task"
            };
            out.insert(format!("salesforce:{chat}:{id}"));
            out.insert(format!("salesforce:note:{id}"));
        }
        Crm::Leadsquared => {
            out.insert(format!("leadsquared:{id}:lead"));
            for o in list(&seeded["leadsquared"]["opportunities"])
                .iter()
                .filter(|o| o["RelatedProspectId"].as_str() == Some(id))
            {
                out.insert(format!(
                    "leadsquared:{id}:{}",
                    o["OpportunityId"].as_str().unwrap_or("")
                ));
            }
        }
    }
    out
}

/// Each message of each chat exactly once in every slot it belongs in and in no other:
/// a message in one slot but missing from another (a note that reached the contact but not
/// its deals) is a failure, as is a duplicate.
fn check_every_target(
    seeded: &Value,
    after: &Value,
    chat: &RecordRef,
    tokens: &[String],
) -> Result<(), String> {
    let want = expected_slots(seeded, chat);
    for t in tokens {
        let mut per_slot: BTreeMap<String, usize> = BTreeMap::new();
        for (slot, _) in holders(after, t) {
            *per_slot.entry(slot).or_default() += 1;
        }
        let missing: Vec<&String> = want.iter().filter(|s| !per_slot.contains_key(*s)).collect();
        if !missing.is_empty() {
            return Err(format!(
                "{t} ({:?} {}) is missing from {missing:?} (found in {per_slot:?})",
                chat.crm, chat.id
            ));
        }
        if let Some(extra) = per_slot.keys().find(|s| !want.contains(*s)) {
            return Err(format!("{t} is in {extra}, which is none of {want:?}"));
        }
        if let Some((slot, k)) = per_slot.iter().find(|(_, &k)| k != 1) {
            return Err(format!("{t} is {k} times in {slot}"));
        }
    }
    Ok(())
}

/// A ContentNote / Task body may carry the text HTML-escaped; tokens are plain ASCII.
fn token(seed: u64, chat: usize, n: usize) -> String {
    format!("t{seed}x{chat}x{n}z")
}

fn fault(rng: &mut Rng) -> Value {
    let crm = ["zoho", "salesforce", "leadsquared"][rng.below(3) as usize];
    let method = ["POST", "PUT", "PATCH", "GET"][rng.below(4) as usize];
    let kind = match rng.below(4) {
        0 => {
            let status = [500, 502, 503][rng.below(3) as usize];
            json!({"type": "status", "status": status})
        }
        1 => json!({"type": "status", "status": 429, "retry_after": 1 + rng.below(30)}),
        2 => json!({"type": "drop_after_commit"}),
        _ => json!({"type": "record_failure", "index": rng.below(3)}),
    };
    // A refused record is refused once: refused every time, the document is parked with the
    // CRM's reason for the rep (and its messages stay queued), which is not this test's case.
    let count = if kind["type"] == "record_failure" { 1 } else { 1 + rng.below(3) };
    json!({"crm": crm, "method": method, "kind": kind, "count": count})
}

async fn one_schedule(seed: u64) -> Result<(usize, usize), String> {
    let mut rng = Rng(seed);
    let state: Shared = crm_sandbox::build_in_memory(Some("demo"))?;
    state.db.issue_token("zoho", "access", ZOHO_TOKEN, None);
    state.db.issue_token("salesforce", "access", SF_TOKEN, None);
    // The records as seeded: where each message belongs.
    let seeded = ledger(&state);
    // The LeadSquared limiter counts real seconds; this run's clock is simulated.
    if let Ok(mut c) = state.config.lock() {
        c.lsq_calls_per_5s = 1_000_000;
    }
    let mut transport = InProcess { app: router(state.clone()), calls: 0, seen: vec![] };
    let store = MemoryStore::default();
    let chats = chats();
    for c in &chats {
        let record = ChatRecord {
            identity: WaIdentity {
                name: "Client".into(),
                phone: c.key.strip_prefix("pn:").map(str::to_string),
                ..Default::default()
            },
            links: vec![c.record.clone()],
            ..Default::default()
        };
        store::put(&store, Table::Chats, &c.key, &record).await.map_err(|e| e.0)?;
    }
    // Two batches of messages over two days; the second arrives mid-schedule, with an edit.
    let per_chat = 3 + rng.below(6) as usize;
    let mut all: Vec<OutboxMessage> = Vec::new();
    for (ci, c) in chats.iter().enumerate() {
        for n in 0..per_chat {
            all.push(message(&c.key, n, 10 + (n % 2) as u8, &token(seed, ci, n)));
        }
    }
    let (first, second) = all.split_at(all.len() / 2);
    store::append_messages(&store, first, |_| true).await.map_err(|e| e.0)?;
    let faults_json: Vec<Value> = (0..rng.below(4)).map(|_| fault(&mut rng)).collect();
    faults::schedule(&state, &json!({ "faults": faults_json }))?;

    let mut now: u64 = 1_800_000_000_000;
    let mut second_sent = false;
    let mut deaths = 0;
    for cycle in 0..40 {
        if cycle == 2 && !second_sent {
            let mut batch = second.to_vec();
            if let Some(m) = first.first() {
                let mut edited = m.clone();
                edited.message.text.push_str(" (edited)");
                edited.message.edited = true;
                batch.push(edited);
            }
            store::append_messages(&store, &batch, |_| true).await.map_err(|e| e.0)?;
            second_sent = true;
        }
        let kill = (rng.below(3) == 0).then(|| 1 + rng.below(25) as usize);
        deaths += usize::from(kill.is_some());
        let mut ws = writers();
        let snapshot = Snapshot::load(&store).await.map_err(|e| e.0)?;
        let mut engine = Engine::new(snapshot, &mut ws, &format!("worker-{cycle}"), now);
        let clock = now;
        drive(&mut engine, &store, &mut transport, &|| clock, kill).await.map_err(|e| e.0)?;
        // Past the lease (a killed worker's) and the longest back-off.
        now += 16 * 60_000;
        if second_sent && store.is_empty(Table::Pending) {
            break;
        }
    }
    let pending = store.len(Table::Pending);
    let l = ledger(&state);
    if pending > 0 {
        let parked: Value = store::get(&store, Table::Meta, "parked")
            .await
            .map_err(|e| e.0)?
            .unwrap_or(Value::Null);
        return Err(format!("{pending} messages still pending after 40 cycles (faults {faults_json:?}; parked {parked})"));
    }
    for (ci, c) in chats.iter().enumerate() {
        let tokens: Vec<String> = (0..per_chat).map(|n| token(seed, ci, n)).collect();
        check_every_target(&seeded, &l, &c.record, &tokens)
            .map_err(|e| format!("{e} (faults {faults_json:?})"))?;
    }
    Ok((transport.calls, deaths))
}

#[tokio::test(flavor = "current_thread")]
async fn every_message_once_under_faults_and_worker_deaths() {
    let schedules: u64 =
        std::env::var("ENGINE_SCHEDULES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let seeds: Vec<u64> = match std::env::var("ENGINE_SEED").ok().and_then(|v| v.parse().ok()) {
        Some(s) => vec![s],
        None => (1..=schedules).collect(),
    };
    let (mut calls, mut deaths) = (0, 0);
    for seed in &seeds {
        match one_schedule(*seed).await {
            Ok((c, d)) => {
                calls += c;
                deaths += d;
            }
            Err(e) => panic!("schedule failed; rerun with ENGINE_SEED={seed}: {e}"),
        }
    }
    println!(
        "{} schedules, {calls} CRM calls, {deaths} worker deaths: every message once",
        seeds.len()
    );
    assert!(deaths > 0 || seeds.len() == 1, "the schedules killed no worker");
}

async fn cycle(store: &MemoryStore, transport: &mut InProcess, now: u64) {
    let mut ws = writers();
    let snapshot = Snapshot::load(store).await.expect("the snapshot");
    let mut engine = Engine::new(snapshot, &mut ws, "worker", now);
    drive(&mut engine, store, transport, &|| now, None).await.expect("the cycle");
}

/// A chat linked to a Zoho contact and a Salesforce contact, one photo: its bytes stay in the
/// store while any record has not confirmed the upload (Salesforce refuses it once), and
/// leave it once both hold it; name and size stay, the next day's note still names the file,
/// and nothing is uploaded twice.
#[tokio::test(flavor = "current_thread")]
async fn a_file_leaves_the_store_once_every_record_confirmed_it() {
    use crmsync::core::model::Media;
    use crmsync::core::outbox::FileBlob;
    let dir = std::env::temp_dir().join(format!("crmsync-engine-file-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let state: Shared = crm_sandbox::build(&dir, None, Some("demo")).unwrap();
    state.db.issue_token("zoho", "access", ZOHO_TOKEN, None);
    state.db.issue_token("salesforce", "access", SF_TOKEN, None);
    let mut transport = InProcess { app: router(state.clone()), calls: 0, seen: vec![] };
    let store = MemoryStore::default();
    let chat = "pn:+5511987654321";
    let record = ChatRecord {
        identity: WaIdentity {
            name: "Client".into(),
            phone: Some("+5511987654321".into()),
            ..Default::default()
        },
        links: vec![
            RecordRef { crm: Crm::Zoho, kind: RecordKind::Contact, id: ZOHO_CONTACT.into() },
            RecordRef { crm: Crm::Salesforce, kind: RecordKind::Contact, id: SF_CONTACT.into() },
        ],
        ..Default::default()
    };
    store::put(&store, Table::Chats, chat, &record).await.unwrap();
    let mut photo = message(chat, 0, 12, "photo of the site");
    photo.message.kind = MessageKind::Image;
    photo.message.media = vec![Media {
        kind: "image".into(),
        file_name: Some("site.png".into()),
        size: None,
        url: None,
    }];
    store::append_messages(&store, std::slice::from_ref(&photo), |_| true).await.unwrap();
    let key = store::file_key(&photo.message.key, 0);
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    let file = FileBlob {
        key: key.clone(),
        name: "site.png".into(),
        mime: "image/png".into(),
        data_b64: png.into(),
        size: 70,
        uploaded: false,
    };
    store::put(&store, Table::Files, &key, &file).await.unwrap();
    faults::schedule(
        &state,
        &json!({"faults": [{"crm": "salesforce", "method": "POST", "kind": {"type": "status", "status": 503},
            "path_prefix": format!("/services/data/{}/sobjects/ContentVersion", crmsync::crm::salesforce::API_VERSION)}]}),
    )
    .unwrap();
    let mut now: u64 = 1_800_000_000_000;
    let stored = |store: &MemoryStore| -> FileBlob {
        store::block_on(store::get(store, Table::Files, &key)).unwrap().expect("the file's record")
    };
    let list = |l: &Value, k: &str| l[k].as_array().cloned().unwrap_or_default();
    let uploads = |l: &Value| {
        let z = list(&l["zoho"], "attachments").len();
        let s = list(&l["salesforce"], "ContentVersion").len();
        (z, s)
    };

    cycle(&store, &mut transport, now).await;
    assert_eq!(uploads(&ledger(&state)), (1, 0), "Zoho holds the photo, Salesforce refused it");
    assert_eq!(stored(&store).data_b64, png, "the bytes stay while a record lacks the file");
    assert_eq!(store.len(Table::Pending), 1);

    for _ in 0..4 {
        now += 16 * 60_000;
        cycle(&store, &mut transport, now).await;
        if store.is_empty(Table::Pending) {
            break;
        }
    }
    assert!(store.is_empty(Table::Pending), "the photo's message settled");
    assert_eq!(uploads(&ledger(&state)), (1, 1));
    let kept = stored(&store);
    assert_eq!(
        (kept.uploaded, kept.data_b64.as_str(), kept.name.as_str(), kept.size),
        (true, "", "site.png", 70),
        "both records hold it: the bytes left the store, name and size stayed"
    );

    // A later message of that day rewrites the day's note: the file is still named, and
    // neither CRM receives it again.
    let later = message(chat, 1, 12, "second message of the day");
    store::append_messages(&store, std::slice::from_ref(&later), |_| true).await.unwrap();
    now += 16 * 60_000;
    cycle(&store, &mut transport, now).await;
    assert!(store.is_empty(Table::Pending));
    let l = ledger(&state);
    assert_eq!(uploads(&l), (1, 1), "no second upload");
    let zoho_name =
        list(&l["zoho"], "attachments")[0]["File_Name"].as_str().unwrap_or("").to_string();
    let note = list(&l["zoho"], "notes")
        .into_iter()
        .find(|n| n["content"].as_str().is_some_and(|c| c.contains("second message of the day")))
        .expect("the day's note, updated");
    assert!(
        note["content"].as_str().unwrap_or("").contains(&format!("Files: {zoho_name}")),
        "{note}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Salesforce ContentNotes only (no chat object, no task): the sandbox, one contact, `n` chats.
async fn notes_only(tag: &str, n: usize) -> (Shared, InProcess, MemoryStore, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("crmsync-engine-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let state: Shared = crm_sandbox::build(&dir, None, Some("demo")).expect("the sandbox");
    state.db.issue_token("salesforce", "access", SF_TOKEN, None);
    let transport = InProcess { app: router(state.clone()), calls: 0, seen: vec![] };
    let store = MemoryStore::default();
    for i in 0..n {
        let chat = format!("pn:+1415555{i:04}");
        let record = ChatRecord {
            identity: WaIdentity {
                name: format!("Client {i}"),
                phone: chat.strip_prefix("pn:").map(str::to_string),
                ..Default::default()
            },
            links: vec![RecordRef {
                crm: Crm::Salesforce,
                kind: RecordKind::Contact,
                id: SF_CONTACT.into(),
            }],
            ..Default::default()
        };
        store::put(&store, Table::Chats, &chat, &record).await.expect("the chat");
        let m = message(&chat, 0, 14, &format!("note{tag}{i}z"));
        store::append_messages(&store, std::slice::from_ref(&m), |_| true)
            .await
            .expect("the message");
    }
    (state, transport, store, dir)
}

async fn notes_cycle(store: &MemoryStore, transport: &mut InProcess, now: u64) {
    let mut sf = SalesforceWriter::with_chat_object(
        Salesforce {
            instance_url: format!("https://{}", seed::SF_INSTANCE),
            access_token: SF_TOKEN.into(),
            multi_currency: false,
        },
        false,
    );
    sf.set_targets(crmsync::core::outbox::Targets { custom_object: false, ..Default::default() });
    let mut ws: Vec<Box<dyn DocumentWriter>> = vec![Box::new(sf)];
    let snapshot = Snapshot::load(store).await.expect("the snapshot");
    let mut engine = Engine::new(snapshot, &mut ws, "worker", now);
    drive(&mut engine, store, transport, &|| now, None).await.expect("the cycle");
}

/// Every chat's token in exactly one ContentNote, linked exactly once, to the contact.
fn each_note_once(state: &Shared, tag: &str, n: usize) {
    let l = ledger(state);
    for i in 0..n {
        let t = format!("note{tag}{i}z");
        let h = holders(&l, &t);
        assert_eq!(h.len(), 1, "{t}: {h:?}");
        assert_eq!(h[0].0, format!("salesforce:note:{SF_CONTACT}"), "{t}: {h:?}");
    }
}

/// Before: one Composite call (ContentNote + ContentDocumentLink) per note. Now the notes go in
/// one sObject Collections create and their links in one more. A note refused inside the batch
/// is retried alone and then linked; a batch of links whose answer was lost is looked up, not
/// made twice.
#[tokio::test(flavor = "current_thread")]
async fn salesforce_notes_then_links_in_two_calls_a_refused_note_and_a_lost_answer_once() {
    let n = 5;
    let (state, mut transport, store, dir) = notes_only("sfbatch", n).await;
    let collections =
        format!("/services/data/{}/composite/sobjects", crmsync::crm::salesforce::API_VERSION);
    faults::schedule(
        &state,
        &json!({"faults": [
            {"crm": "salesforce", "method": "POST", "path_prefix": collections, "kind": {"type": "record_failure", "index": 1}},
            {"crm": "salesforce", "method": "POST", "path_prefix": collections, "kind": {"type": "drop_after_commit"}}]}),
    )
    .unwrap();
    let mut now: u64 = 1_800_000_000_000;
    notes_cycle(&store, &mut transport, now).await;
    let posts = |t: &InProcess| {
        t.seen
            .iter()
            .filter(|c| c.ends_with("/composite/sobjects") && c.starts_with("POST"))
            .count()
    };
    assert_eq!(
        posts(&transport),
        2,
        "one call for the notes, one for their links: {:?}",
        transport.seen
    );
    assert!(
        !transport.seen.iter().any(|c| c.ends_with("/composite")),
        "no per-note Composite call"
    );
    let l = ledger(&state);
    assert_eq!(
        l["salesforce"]["ContentNote"].as_array().map(Vec::len),
        Some(n - 1),
        "one note refused"
    );
    for _ in 0..6 {
        now += 16 * 60_000;
        notes_cycle(&store, &mut transport, now).await;
        if store.is_empty(Table::Pending) {
            break;
        }
    }
    assert!(store.is_empty(Table::Pending), "every message confirmed: {:?}", transport.seen);
    each_note_once(&state, "sfbatch", n);

    // The day grew in every chat: the notes are updated in one collections call, links untouched.
    for i in 0..n {
        let chat = format!("pn:+1415555{i:04}");
        let m = message(&chat, 1, 14, &format!("later{i}z"));
        store::append_messages(&store, std::slice::from_ref(&m), |_| true).await.unwrap();
    }
    transport.seen.clear();
    now += 16 * 60_000;
    notes_cycle(&store, &mut transport, now).await;
    assert!(store.is_empty(Table::Pending));
    assert_eq!(
        transport.seen,
        vec![collections.replace("/services", "PATCH /services")],
        "one update call"
    );
    each_note_once(&state, "sfbatch", n);
    // Each confirmed document keeps when it was confirmed (the receipt's "saved" time): the
    // updated notes this cycle's, the untouched links an earlier one.
    let (docs, _) =
        store::all::<(crmsync::core::outbox::DocKey, RemoteState), _>(&store, Table::Docs)
            .await
            .unwrap();
    let times: Vec<Option<u64>> = docs
        .iter()
        .filter_map(|(_, (_, st))| match st {
            RemoteState::Written { at_ms, .. } => Some(*at_ms),
            RemoteState::Uncertain { .. } => None,
        })
        .collect();
    assert_eq!(times.iter().filter(|t| **t == Some(now)).count(), n, "{times:?}");
    assert!(times.iter().all(|t| t.is_some_and(|t| t < now) || *t == Some(now)), "{times:?}");
    assert!(times.len() > n, "links confirmed earlier: {times:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The notes' answer is lost after Salesforce saved them: each is found by its title, linked
/// once, and no note is made twice.
#[tokio::test(flavor = "current_thread")]
async fn salesforce_notes_whose_answer_was_lost_are_found_and_linked_once() {
    let n = 3;
    let (state, mut transport, store, dir) = notes_only("sflost", n).await;
    let collections =
        format!("/services/data/{}/composite/sobjects", crmsync::crm::salesforce::API_VERSION);
    faults::schedule(
        &state,
        &json!({"faults": [{"crm": "salesforce", "method": "POST", "path_prefix": collections, "kind": {"type": "drop_after_commit"}}]}),
    )
    .unwrap();
    let mut now: u64 = 1_800_000_000_000;
    for _ in 0..4 {
        notes_cycle(&store, &mut transport, now).await;
        if store.is_empty(Table::Pending) {
            break;
        }
        now += 16 * 60_000;
    }
    assert!(store.is_empty(Table::Pending), "{:?}", transport.seen);
    each_note_once(&state, "sflost", n);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A note an earlier version wrote with its link in one Composite call (its state stored,
/// the link's not): when the day grows, the link is looked up and found, not made again.
#[tokio::test(flavor = "current_thread")]
async fn a_note_linked_by_an_earlier_version_is_not_linked_twice() {
    use crmsync::core::outbox::{DocKey, RemoteState};
    let (state, mut transport, store, dir) = notes_only("sflegacy", 1).await;
    let mut now: u64 = 1_800_000_000_000;
    notes_cycle(&store, &mut transport, now).await;
    assert!(store.is_empty(Table::Pending));
    // As the earlier version left it: the link's document state unknown.
    let docs: Vec<(String, (DocKey, RemoteState))> =
        store::all::<(DocKey, RemoteState), _>(&store, Table::Docs).await.unwrap().0;
    let link = docs
        .iter()
        .find(|(_, (k, _))| k.target == "content_note_link")
        .expect("the link's state")
        .0
        .clone();
    store.put_many(&[store::Entry::delete(Table::Docs, link)]).await.unwrap();
    let m = message("pn:+14155550000", 1, 14, "grew");
    store::append_messages(&store, std::slice::from_ref(&m), |_| true).await.unwrap();
    transport.seen.clear();
    now += 16 * 60_000;
    notes_cycle(&store, &mut transport, now).await;
    assert!(store.is_empty(Table::Pending), "{:?}", transport.seen);
    assert!(
        transport.seen.iter().any(|c| c.starts_with("GET") && c.ends_with("/query")),
        "looked up: {:?}",
        transport.seen
    );
    assert_eq!(
        ledger(&state)["salesforce"]["ContentDocumentLink"]
            .as_array()
            .map(|l| l.iter().filter(|k| k["LinkedEntityId"] == SF_CONTACT).count()),
        Some(1)
    );
    each_note_once(&state, "sflegacy", 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The answer to the cycle's first `POST /crm/v8/Notes` is lost after Zoho stored the notes
/// (the contact's and its deals'): the next cycles must find what was written and write what
/// was not, so the contact and each of its 5 most recent deals (as seeded) hold every message
/// exactly once. Before the fix the contact's note was reconciled and the deals never got one.
#[tokio::test(flavor = "current_thread")]
async fn a_lost_first_notes_answer_still_reaches_the_contact_and_its_five_deals() {
    let dir = std::env::temp_dir().join(format!("crmsync-engine-zlost-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let state: Shared = crm_sandbox::build(&dir, None, Some("demo")).expect("the sandbox");
    state.db.issue_token("zoho", "access", ZOHO_TOKEN, None);
    let seeded = ledger(&state);
    let mut transport = InProcess { app: router(state.clone()), calls: 0, seen: vec![] };
    let store = MemoryStore::default();
    let ana = RecordRef { crm: Crm::Zoho, kind: RecordKind::Contact, id: ZOHO_CONTACT.into() };
    let chat = "pn:+5511987654321";
    let record = ChatRecord {
        identity: WaIdentity {
            name: "Client".into(),
            phone: Some("+5511987654321".into()),
            ..Default::default()
        },
        links: vec![ana.clone()],
        ..Default::default()
    };
    store::put(&store, Table::Chats, chat, &record).await.expect("the chat");
    // Three messages before the lost answer; then the day grows and a new day starts, so the
    // notes found after the loss must also be updated where they are (each deal's own note).
    let tokens: Vec<String> = (0..5).map(|n| format!("zlost{n}z")).collect();
    let msgs: Vec<OutboxMessage> =
        tokens.iter().enumerate().map(|(n, t)| message(chat, n, 15 + (n / 4) as u8, t)).collect();
    let (before, later) = msgs.split_at(3);
    store::append_messages(&store, before, |_| true).await.expect("the messages");
    faults::schedule(
        &state,
        &json!({"faults": [{"crm": "zoho", "method": "POST", "path_prefix": "/crm/v8/Notes", "kind": {"type": "drop_after_commit"}}]}),
    )
    .expect("the fault");
    let expected = expected_slots(&seeded, &ana);
    assert_eq!(expected.len(), 6, "the contact and its 5 most recent deals: {expected:?}");
    let mut now: u64 = 1_800_000_000_000;
    for c in 0..8 {
        if c == 1 {
            store::append_messages(&store, later, |_| true).await.expect("the later messages");
        }
        let mut ws: Vec<Box<dyn DocumentWriter>> = vec![writers().remove(0)];
        let snapshot = Snapshot::load(&store).await.expect("the snapshot");
        let mut engine = Engine::new(snapshot, &mut ws, "worker", now);
        drive(&mut engine, &store, &mut transport, &|| now, None).await.expect("the cycle");
        now += 16 * 60_000;
        if c >= 1 && store.is_empty(Table::Pending) {
            break;
        }
    }
    assert!(
        state.faults.lock().map(|f| f.is_empty()).unwrap_or(false),
        "the fault fired: {:?}",
        transport.seen
    );
    assert!(store.is_empty(Table::Pending), "every message confirmed: {:?}", transport.seen);
    let after = ledger(&state);
    if std::env::var_os("ENGINE_DEBUG").is_some() {
        eprintln!("calls: {:#?}", transport.seen);
    }
    if let Err(e) = check_every_target(&seeded, &after, &ana, &tokens) {
        panic!("{e}; calls {:?}", transport.seen);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A contact with 200 attachments already: the photo's upload answer is lost after Zoho
/// stored it, on page 2 of the contact's attachments. The reconcile reads past page 1 and
/// finds it: one upload, not two.
#[tokio::test(flavor = "current_thread")]
async fn a_lost_upload_on_the_second_page_of_attachments_is_found_not_sent_again() {
    use crmsync::core::model::Media;
    use crmsync::core::outbox::FileBlob;
    let dir = std::env::temp_dir().join(format!("crmsync-engine-zpages-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let state: Shared = crm_sandbox::build(&dir, None, Some("demo")).expect("the sandbox");
    state.db.issue_token("zoho", "access", ZOHO_TOKEN, None);
    for i in 0..200 {
        let id = format!("58431040000009{i:05}");
        state.db.put("zoho", "Attachments", &id, &json!({"id": id, "File_Name": format!("earlier-{i}.pdf"), "Size": "10",
            "Parent_Id": {"module": {"api_name": "Contacts"}, "id": ZOHO_CONTACT}, "Created_Time": "2026-01-01T00:00:00+00:00"}));
    }
    let mut transport = InProcess { app: router(state.clone()), calls: 0, seen: vec![] };
    let store = MemoryStore::default();
    let chat = "pn:+5511987654321";
    let record = ChatRecord {
        identity: WaIdentity {
            name: "Client".into(),
            phone: Some("+5511987654321".into()),
            ..Default::default()
        },
        links: vec![RecordRef {
            crm: Crm::Zoho,
            kind: RecordKind::Contact,
            id: ZOHO_CONTACT.into(),
        }],
        ..Default::default()
    };
    store::put(&store, Table::Chats, chat, &record).await.expect("the chat");
    let mut photo = message(chat, 0, 12, "photo of the site");
    photo.message.kind = MessageKind::Image;
    photo.message.media = vec![Media {
        kind: "image".into(),
        file_name: Some("site.png".into()),
        size: None,
        url: None,
    }];
    store::append_messages(&store, std::slice::from_ref(&photo), |_| true)
        .await
        .expect("the photo");
    let key = store::file_key(&photo.message.key, 0);
    let file = FileBlob {
        key: key.clone(),
        name: "site.png".into(),
        mime: "image/png".into(),
        data_b64: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==".into(),
        size: 70,
        uploaded: false,
    };
    store::put(&store, Table::Files, &key, &file).await.expect("the file");
    let uploads_path = format!("/crm/v8/Contacts/{ZOHO_CONTACT}/Attachments");
    faults::schedule(
        &state,
        &json!({"faults": [{"crm": "zoho", "method": "POST", "path_prefix": uploads_path, "kind": {"type": "drop_after_commit"}}]}),
    )
    .expect("the fault");
    let mut now: u64 = 1_800_000_000_000;
    for _ in 0..6 {
        let mut ws: Vec<Box<dyn DocumentWriter>> = vec![writers().remove(0)];
        let snapshot = Snapshot::load(&store).await.expect("the snapshot");
        let mut engine = Engine::new(snapshot, &mut ws, "worker", now);
        drive(&mut engine, &store, &mut transport, &|| now, None).await.expect("the cycle");
        now += 16 * 60_000;
        if store.is_empty(Table::Pending) {
            break;
        }
    }
    assert!(store.is_empty(Table::Pending), "{:?}", transport.seen);
    let posts = transport.seen.iter().filter(|c| **c == format!("POST {uploads_path}")).count();
    let pages = transport.seen.iter().filter(|c| **c == format!("GET {uploads_path}")).count();
    let photos: Vec<Value> = ledger(&state)["zoho"]["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a["File_Name"].as_str().is_some_and(|n| n.contains("site.png")))
        .collect();
    assert_eq!(photos.len(), 1, "one upload, not two: {photos:?} {:?}", transport.seen);
    assert_eq!(posts, 1, "{:?}", transport.seen);
    assert!(pages >= 2, "the list read past its first page: {:?}", transport.seen);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The stored connection the worker keeps for `crm` on the in-process sandbox: each cycle's
/// writers are built from it, and what a cycle learned goes back into it (`remember`).
fn stored_connection(crm: Crm) -> crmsync::crm::connect::Connection {
    use crmsync::crm::auth::{Session, Tokens};
    use crmsync::crm::connect::{Connection, Credentials};
    let session = |token: &str, base: String| {
        Some(Session::new(Tokens {
            access_token: token.into(),
            refresh_token: None,
            expires_at_ms: u64::MAX / 2,
            api_base: base,
        }))
    };
    let (credentials, session, lsq_hosts) = match crm {
        Crm::Salesforce => (
            Credentials::Salesforce {
                login_host: String::new(),
                client_id: "engine-test".into(),
                client_secret: None,
                refresh_token: String::new(),
            },
            session(SF_TOKEN, format!("https://{}", seed::SF_INSTANCE)),
            None,
        ),
        _ => (
            Credentials::Leadsquared {
                access_key: seed::LSQ_ACCESS.into(),
                secret_key: seed::LSQ_SECRET.into(),
            },
            None,
            Some((seed::LSQ_API_HOST.to_string(), String::new())),
        ),
    };
    Connection::new(credentials, session, lsq_hosts)
}

/// One worker cycle with writers from `conn`, keeping what they learned; the calls it made.
async fn remembering_cycle(
    store: &MemoryStore,
    transport: &mut InProcess,
    conn: &mut crmsync::crm::connect::Connection,
    now: u64,
) -> Vec<String> {
    let from = transport.seen.len();
    let mut ws = vec![conn.writer(now).expect("a writer")];
    let snapshot = Snapshot::load(store).await.expect("the snapshot");
    let mut engine = Engine::new(snapshot, &mut ws, "worker", now);
    drive(&mut engine, store, transport, &|| now, None).await.expect("the cycle");
    drop(engine);
    for w in &ws {
        if let Some(l) = w.learned() {
            conn.absorb_learned(&l, now);
        }
    }
    transport.seen[from..].to_vec()
}

/// One chat linked to `record` in a sandbox seeded `seed_name`.
async fn one_chat(seed_name: &str, record: RecordRef) -> (Shared, InProcess, MemoryStore) {
    let state: Shared = crm_sandbox::build_in_memory(Some(seed_name)).expect("the sandbox");
    state.db.issue_token("salesforce", "access", SF_TOKEN, None);
    if let Ok(mut c) = state.config.lock() {
        c.lsq_calls_per_5s = 1_000_000;
    }
    let transport = InProcess { app: router(state.clone()), calls: 0, seen: vec![] };
    let store = MemoryStore::default();
    let chat = "pn:+14155550100";
    let rec = ChatRecord {
        identity: WaIdentity {
            name: "Client".into(),
            phone: Some("+14155550100".into()),
            ..Default::default()
        },
        links: vec![record],
        ..Default::default()
    };
    store::put(&store, Table::Chats, chat, &rec).await.expect("the chat");
    (state, transport, store)
}

async fn arrive(store: &MemoryStore, n: usize, day: u8, token: &str) {
    let m = message("pn:+14155550100", n, day, token);
    store::append_messages(store, std::slice::from_ref(&m), |_| true).await.expect("the message");
}

/// Salesforce: whether the org has `WhatsApp_Chat__c` is read once and kept with the
/// connection; later cycles do not read it again. When a chat write says the object is gone
/// (deleted by an admin), the connection forgets it, the next cycle reads again and the
/// day's backup goes to a Task instead; no message is lost.
#[tokio::test(flavor = "current_thread")]
async fn salesforce_chat_object_is_read_once_and_again_after_it_is_gone() {
    let contact =
        RecordRef { crm: Crm::Salesforce, kind: RecordKind::Contact, id: SF_CONTACT.into() };
    let (state, mut transport, store) = one_chat("demo-chat-object", contact).await;
    let mut conn = stored_connection(Crm::Salesforce);
    let object_read = |seen: &[String]| {
        seen.iter()
            .filter(|s| s.starts_with("GET ") && s.ends_with("/sobjects/WhatsApp_Chat__c"))
            .count()
    };
    let mut now: u64 = 1_800_000_000_000;
    arrive(&store, 0, 14, "objfirst1z").await;
    let seen = remembering_cycle(&store, &mut transport, &mut conn, now).await;
    assert_eq!(object_read(&seen), 1, "{seen:?}");
    assert_eq!(conn.chat_object_known(now), Some(true));

    for (i, day) in [(1, 14u8), (2, 15)] {
        now += 16 * 60_000;
        arrive(&store, i, day, &format!("objknown{i}z")).await;
        let seen = remembering_cycle(&store, &mut transport, &mut conn, now).await;
        assert_eq!(object_read(&seen), 0, "known: no read ({seen:?})");
        assert!(!seen.is_empty(), "the message was written");
    }

    // An admin deletes the object.
    state.db.kv_set("sf:chat_object", "0");
    now += 16 * 60_000;
    arrive(&store, 3, 16, "objgone3z").await;
    let seen = remembering_cycle(&store, &mut transport, &mut conn, now).await;
    assert_eq!(object_read(&seen), 0, "{seen:?}");
    assert_eq!(conn.chat_object, None, "the refused chat write made the connection forget it");
    for _ in 0..3 {
        now += 16 * 60_000;
        let seen = remembering_cycle(&store, &mut transport, &mut conn, now).await;
        if object_read(&seen) == 1 {
            break;
        }
    }
    assert_eq!(conn.chat_object_known(now), Some(false));
    for _ in 0..3 {
        now += 16 * 60_000;
        remembering_cycle(&store, &mut transport, &mut conn, now).await;
    }
    assert!(store.is_empty(Table::Pending), "every message confirmed");
    let l = ledger(&state);
    let h = holders(&l, "objgone3z");
    assert!(h.iter().any(|(slot, _)| slot == &format!("salesforce:task:{SF_CONTACT}")), "{h:?}");
    for t in ["objfirst1z", "objknown1z", "objknown2z"] {
        let h = holders(&l, t);
        assert!(h.iter().any(|(slot, _)| slot.starts_with("salesforce:chat:")), "{t}: {h:?}");
    }
}

/// LeadSquared: the "WhatsApp Chats" type is looked up (and made) once and its code kept; later
/// cycles do not list the types again. When an activity is refused because the code names no
/// type any more (the type was deleted), the code is forgotten, the next cycle looks the type
/// up again (and makes it), and the refused activity is written then.
#[tokio::test(flavor = "current_thread")]
async fn leadsquared_activity_type_is_looked_up_once_and_again_after_it_is_gone() {
    let lead = RecordRef { crm: Crm::Leadsquared, kind: RecordKind::Lead, id: LSQ_LEAD.into() };
    let (state, mut transport, store) = one_chat("demo", lead).await;
    let mut conn = stored_connection(Crm::Leadsquared);
    let type_reads = |seen: &[String]| {
        seen.iter().filter(|s| s.contains("ActivityTypes.Get") || s.contains("CreateType")).count()
    };
    let mut now: u64 = 1_800_000_000_000;
    arrive(&store, 0, 14, "typefirst1z").await;
    let seen = remembering_cycle(&store, &mut transport, &mut conn, now).await;
    assert!(type_reads(&seen) >= 1, "{seen:?}");
    let code = conn.activity_event.expect("the code is kept");

    for (i, day) in [(1, 14u8), (2, 15)] {
        now += 16 * 60_000;
        arrive(&store, i, day, &format!("typeknown{i}z")).await;
        let seen = remembering_cycle(&store, &mut transport, &mut conn, now).await;
        assert_eq!(type_reads(&seen), 0, "known: no lookup ({seen:?})");
        assert!(!seen.is_empty(), "the message was written");
    }

    // An admin deletes the type.
    state.db.delete("leadsquared", "activity_types", &code.to_string());
    now += 16 * 60_000;
    arrive(&store, 3, 16, "typegone3z").await;
    let seen = remembering_cycle(&store, &mut transport, &mut conn, now).await;
    assert_eq!(type_reads(&seen), 0, "{seen:?}");
    assert_eq!(conn.activity_event, None, "the refused activity made the connection forget it");
    let mut looked_up = 0;
    for _ in 0..4 {
        now += 16 * 60_000;
        looked_up += type_reads(&remembering_cycle(&store, &mut transport, &mut conn, now).await);
    }
    assert!(looked_up >= 1, "the type was looked up again");
    assert!(conn.activity_event.is_some_and(|c| c != code), "a new type, a new code");
    assert!(store.is_empty(Table::Pending), "every message confirmed");
    // Once on the lead and once on each of its opportunities.
    let seeded = ledger(&state);
    let h = holders(&seeded, "typegone3z");
    let slots: std::collections::BTreeSet<String> = h.iter().map(|(s, _)| s.clone()).collect();
    assert_eq!(slots.len(), h.len(), "no slot twice: {h:?}");
    assert!(slots.contains(&format!("leadsquared:{LSQ_LEAD}:lead")), "{h:?}");
}
