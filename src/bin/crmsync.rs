//! Native command-line harness over the pure core. Never links web-only code.
//! Every subcommand reads stdin line by line and answers one line per input line; a bad
//! line gets an error answer, never a crash, so tools can stream through it.
use crmsync::core::phone::{self, WaId};
use std::io::{self, BufRead, Write};
use std::process::ExitCode;

const USAGE: &str = "usage: crmsync <command>

commands:
  version                      print the version
  phone e164                   stdin: raw<TAB>region (ZZ = none); stdout: E.164 or `invalid<TAB>reason`
  phone match                  stdin: crm_value<TAB>default_region<TAB>whatsapp_id; stdout: yes|no<TAB>why
  timestamp --locale xx-YY     stdin: data-pre-plain-text values; stdout: {\"time\",\"sender\"} or {\"error\"} JSON
  sync-calls                   one first-sync cycle of the real planner and CRM writers, with the caller
                               as transport: stdin line 1 is the job JSON, then one HttpResponse JSON per
                               {\"request\":…} line on stdout; ends with a {\"done\":…} line (./build.sh bench)
";

/// Apply `f` to every stdin line, writing its answer line to stdout.
fn each_line(mut f: impl FnMut(&str) -> String) -> ExitCode {
    let stdin = io::stdin();
    let mut out = io::BufWriter::new(io::stdout().lock());
    for line in stdin.lock().lines() {
        let Ok(line) = line else {
            eprintln!("crmsync: stdin is not UTF-8 text");
            return ExitCode::FAILURE;
        };
        if writeln!(out, "{}", f(line.trim_end_matches('\r'))).is_err() {
            return ExitCode::FAILURE;
        }
    }
    if out.flush().is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn phone_e164(line: &str) -> String {
    let (raw, region) = line.split_once('\t').unwrap_or((line, "ZZ"));
    match phone::parse_one(raw, region) {
        Ok(e) => e,
        Err(e) => format!("invalid\t{e}"),
    }
}

fn phone_match(line: &str) -> String {
    let mut cols = line.split('\t');
    let (Some(crm), Some(region), Some(wa)) = (cols.next(), cols.next(), cols.next()) else {
        return "no\texpected crm_value<TAB>default_region<TAB>whatsapp_id".into();
    };
    let wa_phone = match phone::parse_wa_id(wa) {
        WaId::Phone(p) => p,
        WaId::Lid(_) => return "no\t@lid ids are not phone numbers".into(),
        WaId::Group(_) => return "no\t@g.us ids are groups".into(),
        WaId::Invalid(why) => return format!("no\tWhatsApp id: {why}"),
    };
    let numbers = match phone::parse_crm_phone(crm, region) {
        Ok(n) => n,
        Err(e) => return format!("no\tCRM value: {e}"),
    };
    for n in &numbers {
        match phone::same_line(&wa_phone, n) {
            Some(true) => return format!("yes\texact {n}"),
            Some(false) => return format!("yes\tfolded {n} ~ {wa_phone} ({})", phone::fold(n)),
            None => {}
        }
    }
    format!("no\t{} vs {wa_phone}", numbers.join(","))
}

fn timestamp(line: &str, locale: &str) -> String {
    let v = match crmsync::core::timestamp::parse_pre_plain(line, locale) {
        Ok(p) => serde_json::json!({"time": p.time.iso(), "sender": p.sender}),
        Err(e) => serde_json::json!({"error": e}),
    };
    v.to_string()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["version"] => {
            println!("{}", crmsync::core::status::product_line());
            ExitCode::SUCCESS
        }
        ["phone", "e164"] => each_line(phone_e164),
        ["phone", "match"] => each_line(phone_match),
        ["timestamp", "--locale", locale] => {
            let locale = locale.to_string();
            each_line(|l| timestamp(l, &locale))
        }
        ["sync-calls"] => sync_calls::main(),
        _ => {
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The API calls of one first sync, measured by performing them: the real connectors'
/// preparatory reads, `plan_writes` + `batch_writes` with the writers' batch limits, and
/// each writer's request/outcome, in the worker cycle's order (reads per record, then up
/// to 3 passes: reconcile first, then creates/updates). The caller performs each request
/// (the bench sends them to the sandbox CRMs) and answers with the response.
mod sync_calls {
    use crmsync::core::engine::{drive, Engine, SendKind, Snapshot, Transport};
    use crmsync::core::matching::MatchOutcome;
    use crmsync::core::model::WaIdentity;
    use crmsync::core::model::{
        Crm, Direction, LocalMinute, Message, MessageKind, RecordKind, RecordRef, Sender,
    };
    use crmsync::core::outbox::{
        minimum_calls, plan_writes, ChatLinks, DocKey, DocumentWriter, OutboxMessage, RemoteState,
        WriteOp,
    };
    use crmsync::core::store::{self, block_on, meta, MemoryStore, Table};
    use crmsync::core::sync::{ChatRecord, Parked};
    use crmsync::crm::auth::ZohoDc;
    use crmsync::crm::http::{HttpRequest, HttpResponse};
    use crmsync::crm::{leadsquared::LeadSquared, salesforce::Salesforce, zoho::Zoho};
    use crmsync::crm::{
        leadsquared::LeadSquaredWriter, salesforce::SalesforceWriter, zoho::ZohoWriter,
    };
    use serde::Deserialize;
    use std::collections::BTreeMap;
    use std::io::{self, BufRead, Write};
    use std::process::ExitCode;

    /// The harness's clock: one fixed instant (no retry is due within a run).
    const NOW_MS: u64 = 1_800_000_000_000;

    #[derive(Deserialize)]
    struct Job {
        crm: Crm,
        /// Zoho api_domain / Salesforce instance_url / LeadSquared api host.
        base: String,
        /// Access token (Zoho, Salesforce) or "accessKey secretKey" (LeadSquared).
        token: String,
        records: Vec<String>,
        messages_per_record: usize,
        day: LocalMinute,
        /// The worker's path: matching already read each record's deals/opportunities for the
        /// card (the bench records have none), so the writers reuse them instead of reading again.
        #[serde(default)]
        related_known: bool,
    }

    struct Io {
        lines: io::Lines<io::StdinLock<'static>>,
        calls: usize,
    }

    impl Io {
        fn perform(&mut self, req: &HttpRequest) -> Result<HttpResponse, String> {
            self.calls += 1;
            let line = serde_json::json!({ "request": req }).to_string();
            let mut out = io::stdout().lock();
            writeln!(out, "{line}").and_then(|()| out.flush()).map_err(|e| e.to_string())?;
            let answer = self.lines.next().ok_or("stdin closed")?.map_err(|e| e.to_string())?;
            serde_json::from_str(&answer).map_err(|e| format!("bad HttpResponse line: {e}"))
        }
    }

    fn writer(job: &Job) -> Box<dyn DocumentWriter> {
        match job.crm {
            Crm::Zoho => Box::new(ZohoWriter::new(Zoho {
                dc: ZohoDc::Us,
                api_domain: job.base.clone(),
                access_token: job.token.clone(),
                org_domain: None,
            })),
            Crm::Salesforce => Box::new(SalesforceWriter::new(Salesforce {
                instance_url: job.base.clone(),
                access_token: job.token.clone(),
            })),
            Crm::Leadsquared => {
                let (ak, sk) = job.token.split_once(' ').unwrap_or((job.token.as_str(), ""));
                Box::new(LeadSquaredWriter::new(LeadSquared {
                    access_key: ak.into(),
                    secret_key: sk.into(),
                    api_host: job.base.clone(),
                    app_host: String::new(),
                    activity_event: None,
                }))
            }
        }
    }

    /// The CRMs' documented per-call maxima for each document class (shared/reference/crm-api.md),
    /// independent of how our writers batch: Zoho Notes create/update 100; Salesforce sObject
    /// Collections 200 (chat upserts, ContentNote create and update); LeadSquared bulk
    /// activities 25. Reconcile reads are not writes (none in a clean first sync).
    fn documented_limit(crm: Crm, class: &str, _op: &WriteOp) -> usize {
        match (crm, class) {
            (Crm::Zoho, _) => 100,
            (Crm::Salesforce, _) => 200,
            (Crm::Leadsquared, _) => 25,
        }
    }

    /// The fewest calls the documented limits allow for these writes. A new ContentNote
    /// also needs its ContentDocumentLink, itself a collection insert of up to 200.
    fn documented_minimum(writes: &[crmsync::core::outbox::Write]) -> usize {
        let links = writes
            .iter()
            .filter(|w| w.doc.target == "content_note" && w.op == WriteOp::Create)
            .count();
        minimum_calls(writes, documented_limit) + links.div_ceil(200)
    }

    fn run(job: Job, io: &mut Io) -> Result<serde_json::Value, String> {
        let kind = if job.crm == Crm::Leadsquared { RecordKind::Lead } else { RecordKind::Contact };
        let mut chats = Vec::new();
        let mut outbox = Vec::new();
        for (i, id) in job.records.iter().enumerate() {
            let chat = format!("pn:+1555{i:07}");
            chats.push(ChatLinks {
                chat: chat.clone(),
                title: format!("Contact {i}"),
                is_group: false,
                records: vec![RecordRef { crm: job.crm, kind, id: id.clone() }],
            });
            for m in 0..job.messages_per_record {
                let mut t = job.day;
                t.hour = 8 + (m / 60) as u8 % 12;
                t.minute = (m % 60) as u8;
                outbox.push(OutboxMessage {
                    message: Message {
                        key: format!("{chat}#{m}"),
                        chat: chat.clone(),
                        direction: if m % 2 == 0 { Direction::In } else { Direction::Out },
                        sender: Sender {
                            name: if m % 2 == 0 { format!("Contact {i}") } else { "You".into() },
                            phone: None,
                        },
                        time: Some(t),
                        text: format!("Message {m} about order #{}", 1000 + i),
                        quoted: None,
                        media: vec![],
                        kind: MessageKind::Text,
                        forwarded: false,
                        edited: false,
                        reactions: vec![],
                    },
                    captured_at_ms: 0,
                    synced: false,
                });
            }
        }
        // The worker's own engine over the memory store: the same order of calls, the same
        // decisions; only the transport is this process's stdin/stdout.
        let store = MemoryStore::default();
        block_on(store::append_messages(&store, &outbox, |_| true)).map_err(|e| e.0)?;
        for c in &chats {
            let record = ChatRecord {
                identity: WaIdentity {
                    name: c.title.clone(),
                    phone: c.chat.strip_prefix("pn:").map(str::to_string),
                    ..Default::default()
                },
                links: c.records.clone(),
                // The worker's path: matching read the record's deals for the card just now.
                matched: job.related_known.then(|| MatchOutcome::Linked { records: vec![] }),
                matched_at_ms: job.related_known.then_some(NOW_MS),
                ..Default::default()
            };
            block_on(store::put(&store, Table::Chats, &c.chat, &record)).map_err(|e| e.0)?;
        }
        let mut writers = vec![writer(&job)];
        let snapshot = block_on(Snapshot::load(&store)).map_err(|e| e.0)?;
        let mut engine = Engine::new(snapshot, &mut writers, "sync-calls", NOW_MS);
        let mut t = Counting { io, prepare: 0, write: 0, failed: None };
        block_on(drive(&mut engine, &store, &mut t, &|| NOW_MS, None)).map_err(|e| e.0)?;
        if let Some(e) = t.failed {
            return Err(e);
        }
        let docs = engine.documents().to_vec();
        let first_writes = plan_writes(&docs, &BTreeMap::new());
        let w = writer(&job);
        let minimum = minimum_calls(&first_writes, |_, class, op| w.batch_limit(class, op));
        let documented = documented_minimum(&first_writes);
        let remote: BTreeMap<DocKey, RemoteState> =
            block_on(store::all::<(DocKey, RemoteState), _>(&store, Table::Docs))
                .map_err(|e| e.0)?
                .0
                .into_iter()
                .map(|(_, kv)| kv)
                .collect();
        let written = docs
            .iter()
            .filter(|d| matches!(remote.get(&d.key), Some(RemoteState::Written { .. })))
            .count();
        let parked: Vec<Parked> = block_on(store::get(&store, Table::Meta, meta::PARKED))
            .map_err(|e| e.0)?
            .unwrap_or_default();
        let report = engine.report();
        let failures: Vec<String> =
            parked.iter().map(|p| format!("{}: {}", p.doc, p.reason)).collect();
        Ok(serde_json::json!({
            "crm": job.crm, "records": job.records.len(), "messages": outbox.len(), "documents": docs.len(),
            "written": written, "prepare_calls": t.prepare, "write_calls": t.write, "calls": t.io.calls,
            "minimum_write_calls": minimum, "documented_minimum_calls": documented,
            "failures": failures.iter().take(5).collect::<Vec<_>>(), "failed": report.failed,
            "settled": report.settled,
        }))
    }

    /// The engine's transport: each request goes out on stdout, its answer comes on stdin.
    struct Counting<'a> {
        io: &'a mut Io,
        prepare: usize,
        write: usize,
        failed: Option<String>,
    }

    impl Transport for Counting<'_> {
        async fn perform(&mut self, req: &HttpRequest, kind: SendKind) -> HttpResponse {
            match kind {
                SendKind::Prepare => self.prepare += 1,
                SendKind::Write | SendKind::Page => self.write += 1,
            }
            match self.io.perform(req) {
                Ok(r) => r,
                Err(e) => {
                    // The driver gave up: answer "no response" and stop the run with the reason.
                    self.failed.get_or_insert(e.clone());
                    HttpResponse { status: 0, headers: vec![], body: e.into_bytes() }
                }
            }
        }
    }

    pub fn main() -> ExitCode {
        let mut lines = io::stdin().lock().lines();
        let job: Job = match lines.next().map(|l| {
            l.map_err(|e| e.to_string())
                .and_then(|l| serde_json::from_str(&l).map_err(|e| e.to_string()))
        }) {
            Some(Ok(j)) => j,
            Some(Err(e)) => {
                eprintln!("crmsync sync-calls: bad job line: {e}");
                return ExitCode::FAILURE;
            }
            None => {
                eprintln!("crmsync sync-calls: no job line");
                return ExitCode::FAILURE;
            }
        };
        let mut io = Io { lines, calls: 0 };
        match run(job, &mut io) {
            Ok(done) => {
                println!("{}", serde_json::json!({ "done": done }));
                ExitCode::SUCCESS
            }
            Err(e) => {
                println!("{}", serde_json::json!({ "error": e }));
                ExitCode::FAILURE
            }
        }
    }
}
