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
  lookup-calls                 chat opens matched as the worker matches them (the connectors' searches,
                               core matching, the day-long match cache), same protocol as sync-calls
  day-calls                    a rep's working day of backups: messages arriving over the hours, one
                               engine cycle per alarm, same protocol as sync-calls
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
        ["lookup-calls"] => lookup_calls::main(),
        ["day-calls"] => day_calls::main(),
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
        Crm, Direction, LocalMinute, Message, RecordKind, RecordRef, Sender,
    };
    use crmsync::core::outbox::{
        minimum_calls, plan_writes, ChatLinks, DocKey, DocumentWriter, OutboxMessage, RemoteState,
        WriteOp,
    };
    use crmsync::core::store::{self, block_on, meta, MemoryStore, Table};
    use crmsync::core::sync::{ChatRecord, Parked};
    use crmsync::crm::auth::{Session, Tokens, ZohoDc};
    use crmsync::crm::connect::{Connection, Credentials};
    use crmsync::crm::http::{HttpRequest, HttpResponse};
    use crmsync::crm::setup;
    use crmsync::crm::{leadsquared::LeadSquared, salesforce::Salesforce, zoho::Zoho};
    use crmsync::crm::{
        leadsquared::LeadSquaredWriter, salesforce::SalesforceWriter, zoho::ZohoWriter,
    };
    use serde::Deserialize;
    use std::collections::BTreeMap;
    use std::io::{self, BufRead, Write};
    use std::process::ExitCode;

    /// The harness's clock: one fixed instant (no retry is due within a run).
    pub const NOW_MS: u64 = 1_800_000_000_000;

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
        /// Run the setup check first, as the options page does right after connecting: what
        /// it reads (the chat object, the activity type) is kept with the connection, and the
        /// sync does not read it again. Its calls are reported apart (`setup_calls`).
        #[serde(default)]
        setup_check: bool,
    }

    pub struct Io {
        pub lines: io::Lines<io::StdinLock<'static>>,
        pub calls: usize,
        /// Zoho's credits for the calls made (see `day_calls::zoho_credits`).
        pub credits: usize,
        pub credit: fn(&HttpRequest) -> usize,
    }

    impl Io {
        pub fn perform(&mut self, req: &HttpRequest) -> Result<HttpResponse, String> {
            self.calls += 1;
            self.credits += (self.credit)(req);
            let line = serde_json::json!({ "request": req }).to_string();
            let mut out = io::stdout().lock();
            writeln!(out, "{line}").and_then(|()| out.flush()).map_err(|e| e.to_string())?;
            let answer = self.lines.next().ok_or("stdin closed")?.map_err(|e| e.to_string())?;
            serde_json::from_str(&answer).map_err(|e| format!("bad HttpResponse line: {e}"))
        }
    }

    fn writer(job: &Job) -> Box<dyn DocumentWriter> {
        writer_for(job.crm, &job.base, &job.token)
    }

    /// The stored connection for the sandbox org at `base` with `token`, as the worker keeps
    /// it: each cycle's writers are built from it (`Connection::writer`), and what a cycle
    /// learned is folded back in (`Connection::absorb_learned`), as `web::connect::remember`.
    pub fn connection_for(crm: Crm, base: &str, token: &str) -> Connection {
        let session = (crm != Crm::Leadsquared).then(|| {
            Session::new(Tokens {
                access_token: token.into(),
                refresh_token: None,
                expires_at_ms: u64::MAX / 2,
                api_base: base.into(),
            })
        });
        let credentials = match crm {
            Crm::Zoho => Credentials::Zoho {
                dc: ZohoDc::Us,
                client_id: String::new(),
                client_secret: String::new(),
                refresh_token: String::new(),
            },
            Crm::Salesforce => Credentials::Salesforce {
                login_host: String::new(),
                client_id: String::new(),
                client_secret: None,
                refresh_token: String::new(),
            },
            Crm::Leadsquared => {
                let (ak, sk) = token.split_once(' ').unwrap_or((token, ""));
                Credentials::Leadsquared { access_key: ak.into(), secret_key: sk.into() }
            }
        };
        Connection::new(
            credentials,
            session,
            (crm == Crm::Leadsquared).then(|| (base.to_string(), String::new())),
        )
    }

    /// This cycle's writers from the connection.
    pub fn writers_of(
        conn: &Connection,
        now_ms: u64,
    ) -> Result<Vec<Box<dyn DocumentWriter>>, String> {
        conn.writer(now_ms).map(|w| vec![w]).map_err(|e| format!("no writer: {e:?}"))
    }

    /// Keep what the cycle's writers learned (the worker's `remember`).
    pub fn remember(conn: &mut Connection, writers: &[Box<dyn DocumentWriter>], now_ms: u64) {
        for w in writers {
            if let Some(l) = w.learned() {
                conn.absorb_learned(&l, now_ms);
            }
        }
    }

    /// The setup check's calls, performed; what they read is kept with the connection.
    fn setup_check(conn: &mut Connection, io: &mut Io) -> Result<usize, String> {
        let steps = setup::steps(conn, NOW_MS).map_err(|s| s.english())?;
        let mut answers = Vec::new();
        for s in steps {
            answers.push((s.probe, io.perform(&s.request)?));
        }
        for l in setup::learned(&answers) {
            conn.absorb_learned(&l, NOW_MS);
        }
        Ok(answers.len())
    }

    /// The CRM's writer for the sandbox org at `base` with `token`, knowing nothing yet.
    pub fn writer_for(crm: Crm, base: &str, token: &str) -> Box<dyn DocumentWriter> {
        match crm {
            Crm::Zoho => Box::new(ZohoWriter::new(Zoho {
                dc: ZohoDc::Us,
                api_domain: base.into(),
                access_token: token.into(),
                org_domain: None,
                lead_sources: Default::default(),
            })),
            Crm::Salesforce => Box::new(SalesforceWriter::new(Salesforce {
                instance_url: base.into(),
                access_token: token.into(),
                multi_currency: false,
            })),
            Crm::Leadsquared => {
                let (ak, sk) = token.split_once(' ').unwrap_or((token, ""));
                Box::new(LeadSquaredWriter::new(LeadSquared {
                    access_key: ak.into(),
                    secret_key: sk.into(),
                    api_host: base.into(),
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

    /// The fewest calls the documented limits allow for these writes. A new ContentNote's
    /// ContentDocumentLink is a document of its own (`content_note_link`), itself a
    /// collection insert of up to 200.
    fn documented_minimum(writes: &[crmsync::core::outbox::Write]) -> usize {
        minimum_calls(writes, documented_limit)
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
                outbox.push(message(&chat, i, m, t));
            }
        }
        // The worker's own engine over the memory store: the same order of calls, the same
        // decisions; only the transport is this process's stdin/stdout.
        let store = MemoryStore::default();
        block_on(store::append_messages(&store, &outbox, |_| true)).map_err(|e| e.0)?;
        for c in &chats {
            put_chat(&store, c, job.related_known)?;
        }
        let mut conn = connection_for(job.crm, &job.base, &job.token);
        let setup_calls = if job.setup_check { setup_check(&mut conn, io)? } else { 0 };
        let before = io.calls;
        let mut writers = writers_of(&conn, NOW_MS)?;
        let snapshot = block_on(Snapshot::load(&store)).map_err(|e| e.0)?;
        let mut engine = Engine::new(snapshot, &mut writers, "sync-calls", NOW_MS);
        let mut t = Counting { io, prepare: 0, write: 0, failed: None };
        block_on(drive(&mut engine, &store, &mut t, &|| NOW_MS, None)).map_err(|e| e.0)?;
        if let Some(e) = t.failed {
            return Err(e);
        }
        let sync_calls = t.io.calls - before;
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
        let parked: Vec<Parked> =
            block_on(store::get_meta(&store, &meta::PARKED)).map_err(|e| e.0)?.unwrap_or_default();
        let report = engine.report();
        let failures: Vec<String> =
            parked.iter().map(|p| format!("{}: {}", p.doc, p.reason)).collect();
        Ok(serde_json::json!({
            "crm": job.crm, "records": job.records.len(), "messages": outbox.len(), "documents": docs.len(),
            "written": written, "prepare_calls": t.prepare, "write_calls": t.write, "calls": sync_calls,
            "setup_calls": setup_calls,
            "minimum_write_calls": minimum, "documented_minimum_calls": documented,
            "failures": failures.iter().take(5).collect::<Vec<_>>(), "failed": report.failed,
            "settled": report.settled,
        }))
    }

    /// Message `m` of the bench's chat `i`, at `t` (in and out in turn, plain text).
    pub fn message(chat: &str, i: usize, m: usize, t: LocalMinute) -> OutboxMessage {
        OutboxMessage {
            message: Message::text(
                format!("{chat}#{m}"),
                chat.to_string(),
                if m.is_multiple_of(2) { Direction::In } else { Direction::Out },
                Sender {
                    name: if m.is_multiple_of(2) { format!("Contact {i}") } else { "You".into() },
                    phone: None,
                },
                Some(t),
                format!("Message {m} about order #{}", 1000 + i),
            ),
            captured_at_ms: 0,
            synced: false,
        }
    }

    /// The chat's record as matching leaves it. `related_known`: matching read the record's
    /// deals for the card just now (the worker's path), so the writers reuse them.
    pub fn put_chat(store: &MemoryStore, c: &ChatLinks, related_known: bool) -> Result<(), String> {
        let record = ChatRecord {
            identity: WaIdentity {
                name: c.title.clone(),
                phone: c.chat.strip_prefix("pn:").map(str::to_string),
                ..Default::default()
            },
            links: c.records.clone(),
            matched: related_known.then(|| MatchOutcome::Linked { records: vec![] }),
            matched_at_ms: related_known.then_some(NOW_MS),
            ..Default::default()
        };
        block_on(store::put(store, Table::Chats, &c.chat, &record)).map_err(|e| e.0)
    }

    /// The engine's transport: each request goes out on stdout, its answer comes on stdin.
    pub struct Counting<'a> {
        pub io: &'a mut Io,
        pub prepare: usize,
        pub write: usize,
        pub failed: Option<String>,
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
        serve("sync-calls", run)
    }

    /// A harness subcommand's protocol: a JSON job on the first stdin line, then one request
    /// out per line and its answer in; the result (`done` or `error`) on the last line.
    pub fn serve<J: serde::de::DeserializeOwned>(
        name: &str,
        run: fn(J, &mut Io) -> Result<serde_json::Value, String>,
    ) -> ExitCode {
        let mut lines = io::stdin().lock().lines();
        let job: J = match lines.next().map(|l| {
            l.map_err(|e| e.to_string())
                .and_then(|l| serde_json::from_str(&l).map_err(|e| e.to_string()))
        }) {
            Some(Ok(j)) => j,
            Some(Err(e)) => {
                eprintln!("crmsync {name}: bad job line: {e}");
                return ExitCode::FAILURE;
            }
            None => {
                eprintln!("crmsync {name}: no job line");
                return ExitCode::FAILURE;
            }
        };
        let mut io = Io { lines, calls: 0, credits: 0, credit: super::day_calls::credits };
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

/// The lookup calls of a sequence of chat opens, measured by performing them: for each open
/// the worker's decision (a match younger than `MATCH_TTL_MS` is reused, `match_is_fresh`),
/// else every connected CRM's `search_requests` for the number's `search_variants`, each
/// answer parsed by the connector and decided by `core::matching::match_chat`.
mod lookup_calls {
    use super::sync_calls::Io;
    use crmsync::core::matching::{
        leads_can_change, match_chat, merge_candidates, Links, MatchOutcome,
    };
    use crmsync::core::model::{Crm, WaIdentity};
    use crmsync::core::phone::search_variants;
    use crmsync::core::sync::ChatRecord;
    use crmsync::crm::auth::ZohoDc;
    use crmsync::crm::{leadsquared::LeadSquared, salesforce::Salesforce, zoho::Zoho, Connector};
    use serde::Deserialize;
    use std::collections::BTreeMap;
    use std::process::ExitCode;

    #[derive(Deserialize)]
    struct Crmjob {
        crm: Crm,
        base: String,
        token: String,
    }

    #[derive(Deserialize)]
    struct Job {
        crms: Vec<Crmjob>,
        /// E.164 numbers in the order the rep opens the chats (repeats are re-opens).
        opens: Vec<String>,
        /// Minutes between consecutive opens (the harness clock).
        minutes_between: u64,
        region: String,
        /// Also read the first linked record's deals for the card, as the worker does after a
        /// lookup (`web::matching`); off for `lookup_calls_per_chat`, which counts searches.
        #[serde(default)]
        card_reads: bool,
    }

    fn connector(j: &Crmjob) -> Box<dyn Connector> {
        match j.crm {
            Crm::Zoho => Box::new(Zoho {
                dc: ZohoDc::Us,
                api_domain: j.base.clone(),
                access_token: j.token.clone(),
                org_domain: None,
                lead_sources: Default::default(),
            }),
            Crm::Salesforce => Box::new(Salesforce {
                instance_url: j.base.clone(),
                access_token: j.token.clone(),
                multi_currency: false,
            }),
            Crm::Leadsquared => {
                let (ak, sk) = j.token.split_once(' ').unwrap_or((j.token.as_str(), ""));
                Box::new(LeadSquared {
                    access_key: ak.into(),
                    secret_key: sk.into(),
                    api_host: j.base.clone(),
                    app_host: String::new(),
                    activity_event: None,
                })
            }
        }
    }

    fn run(job: Job, io: &mut Io) -> Result<serde_json::Value, String> {
        let conns: Vec<Box<dyn Connector>> = job.crms.iter().map(connector).collect();
        let mut chats: BTreeMap<String, ChatRecord> = BTreeMap::new();
        let mut per_crm: BTreeMap<String, usize> = BTreeMap::new();
        let mut max_miss: BTreeMap<String, usize> = BTreeMap::new();
        let (mut misses, mut cached, mut linked) = (0usize, 0usize, BTreeMap::new());
        let mut found: BTreeMap<String, usize> = BTreeMap::new();
        let mut card_reads: BTreeMap<String, usize> = BTreeMap::new();
        let t0: u64 = 1_800_000_000_000;
        for (i, phone) in job.opens.iter().enumerate() {
            let now = t0 + i as u64 * job.minutes_between * 60_000;
            let chat = chats.entry(phone.clone()).or_default();
            if chat.match_is_fresh(now) {
                cached += 1; // the worker shows the stored match: no call
                continue;
            }
            misses += 1;
            let identity = WaIdentity {
                phone: Some(phone.clone()),
                name: phone.clone(),
                ..Default::default()
            };
            let variants = search_variants(phone);
            let mut batches = Vec::new();
            let mut failed = false;
            for c in &conns {
                let before = io.calls;
                let mut mine = Vec::new();
                for req in c.search_requests(&variants) {
                    // As the worker (no manual links here): a contact with exactly this number
                    // settles the match, the leads' search would change nothing.
                    if c.searches_leads_only(&req)
                        && !leads_can_change(phone, c.crm(), &mine, &job.region)
                    {
                        continue;
                    }
                    let resp = io.perform(&req)?;
                    match c.parse_search_of(&req, &resp) {
                        Ok(r) => {
                            mine.extend(r.iter().cloned());
                            batches.push(r)
                        }
                        Err(e) => {
                            failed = true;
                            eprintln!("lookup-calls: {}: {e:?}", c.crm().name());
                            break;
                        }
                    }
                }
                if batches.iter().flatten().any(|r| r.crm == Some(c.crm())) {
                    *found.entry(c.crm().name().to_string()).or_insert(0usize) += 1;
                }
                let n = io.calls - before;
                *per_crm.entry(c.crm().name().to_string()).or_default() += n;
                let m = max_miss.entry(c.crm().name().to_string()).or_default();
                *m = (*m).max(n);
            }
            let outcome =
                match_chat(&identity, &merge_candidates(batches), &Links::default(), &job.region);
            if let MatchOutcome::Linked { records } = &outcome {
                for r in records {
                    *linked.entry(r.record.crm.name().to_string()).or_insert(0usize) += 1;
                }
                let first = records.first().map(|c| &c.record);
                let conn = first.and_then(|r| conns.iter().find(|c| c.crm() == r.crm));
                if let (true, Some(r), Some(c)) = (job.card_reads, first, conn) {
                    if let Some(req) = c.deals_request(r) {
                        let resp = io.perform(&req)?;
                        *card_reads.entry(c.crm().name().to_string()).or_insert(0usize) += 1;
                        if let Err(e) = c.parse_deal_rows(&resp) {
                            eprintln!("lookup-calls: {} deals: {e:?}", c.crm().name());
                        }
                    }
                }
            }
            chat.identity = identity;
            chat.matched = Some(outcome);
            chat.matched_at_ms = (!failed).then_some(now);
        }
        Ok(serde_json::json!({
            "opens": job.opens.len(), "distinct": chats.len(), "misses": misses,
            "calls": io.calls, "calls_by_crm": per_crm, "max_calls_per_miss_by_crm": max_miss,
            "linked_misses_by_crm": linked, "found_misses_by_crm": found, "cached_opens": cached,
            "card_reads_by_crm": card_reads,
            "calls_on_cached_opens": io.calls - per_crm.values().sum::<usize>() - card_reads.values().sum::<usize>(),
        }))
    }

    pub fn main() -> ExitCode {
        super::sync_calls::serve("lookup-calls", run)
    }
}

/// The backup calls of a rep's working day, measured by performing them: messages arrive in
/// the rep's chats over the day (a fixed, seeded spread), and every alarm runs the worker's
/// engine cycle (`core::engine::run_cycle`) over what is pending, with the real writers. The
/// matching reads (searches, the card's deals) are counted by `lookup-calls`.
mod day_calls {
    use super::sync_calls::{
        connection_for, message, put_chat, remember, writers_of, Counting, Io, NOW_MS,
    };
    use crmsync::core::engine::run_cycle;
    use crmsync::core::model::{Crm, LocalMinute, RecordKind, RecordRef};
    use crmsync::core::outbox::{ChatLinks, OutboxMessage};
    use crmsync::core::store::{self, block_on, MemoryStore, Table};
    use serde::Deserialize;
    use std::process::ExitCode;

    #[derive(Deserialize)]
    struct Job {
        crm: Crm,
        base: String,
        token: String,
        /// One record per chat, linked.
        records: Vec<String>,
        messages: usize,
        hours: u64,
        cycle_minutes: u64,
        /// The day's first minute (the day's messages are dated from it).
        start: LocalMinute,
    }

    /// splitmix64 step: the day's spread of messages over chats and minutes is fixed.
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Zoho's credits for one call: inserts and updates cost one credit per 10 records, every
    /// other call one (Zoho's API limits page).
    pub fn credits(req: &crmsync::core::http::HttpRequest) -> usize {
        if req.url.contains("zohoapis.") {
            zoho_credits(req)
        } else {
            1
        }
    }

    fn zoho_credits(req: &crmsync::core::http::HttpRequest) -> usize {
        let method = req.method.as_str();
        if method != "POST" && method != "PUT" {
            return 1;
        }
        let records = req
            .body
            .as_deref()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
            .and_then(|v| v.get("data").and_then(|d| d.as_array()).map(Vec::len))
            .unwrap_or(1);
        records.div_ceil(10).max(1)
    }

    fn run(job: Job, io: &mut Io) -> Result<serde_json::Value, String> {
        let kind = if job.crm == Crm::Leadsquared { RecordKind::Lead } else { RecordKind::Contact };
        let store = MemoryStore::default();
        let chats: Vec<ChatLinks> = job
            .records
            .iter()
            .enumerate()
            .map(|(i, id)| ChatLinks {
                chat: format!("pn:+1555{i:07}"),
                title: format!("Contact {i}"),
                is_group: false,
                records: vec![RecordRef { crm: job.crm, kind, id: id.clone() }],
            })
            .collect();
        for c in &chats {
            put_chat(&store, c, true)?;
        }
        let minutes = job.hours * 60;
        // (minute of the day, chat): a busy chat gets many, some get one.
        let mut arrivals: Vec<(u64, usize)> = (0..job.messages as u64)
            .map(|j| {
                let r = mix(j);
                let skew = (r >> 32) % 1000;
                let chat = ((skew * skew) / 1000 * chats.len() as u64 / 1000) as usize;
                (r % minutes, chat.min(chats.len().saturating_sub(1)))
            })
            .collect();
        arrivals.sort_unstable();
        // As the worker: each alarm builds its writers from the stored connection, which
        // keeps what earlier cycles learned.
        let mut conn = connection_for(job.crm, &job.base, &job.token);
        let (mut cycles, mut busy, mut peak, mut credits) = (0usize, 0usize, 0usize, 0usize);
        let mut settled = 0usize;
        let mut next = 0usize;
        let mut per_chat = vec![0usize; chats.len()];
        let mut t = Counting { io, prepare: 0, write: 0, failed: None };
        let mut minute = job.cycle_minutes;
        // Alarms every cycle_minutes, and one more after the last message.
        while minute <= minutes + job.cycle_minutes {
            let mut batch: Vec<OutboxMessage> = Vec::new();
            while next < arrivals.len() && arrivals[next].0 < minute {
                let (at, c) = arrivals[next];
                let mut when = job.start;
                let total = u64::from(when.hour) * 60 + u64::from(when.minute) + at;
                when.hour = (total / 60) as u8;
                when.minute = (total % 60) as u8;
                batch.push(message(&chats[c].chat, c, per_chat[c], when));
                per_chat[c] += 1;
                next += 1;
            }
            block_on(store::append_messages(&store, &batch, |_| true)).map_err(|e| e.0)?;
            let now = NOW_MS + minute * 60_000;
            let before = t.io.calls;
            let credits_before = t.io.credits;
            let mut writers = writers_of(&conn, now)?;
            let report = block_on(run_cycle(&store, &mut t, &mut writers, "day-calls", &|| now))
                .map_err(|e| e.0)?;
            remember(&mut conn, &writers, now);
            if let Some(e) = t.failed.take() {
                return Err(e);
            }
            let n = t.io.calls - before;
            cycles += 1;
            busy += usize::from(n > 0);
            peak = peak.max(n);
            settled += report.settled;
            credits += t.io.credits - credits_before;
            minute += job.cycle_minutes;
        }
        let stored: Vec<OutboxMessage> =
            block_on(store::all::<OutboxMessage, _>(&store, Table::Messages))
                .map_err(|e| e.0)?
                .0
                .into_iter()
                .map(|(_, m)| m)
                .collect();
        let confirmed = stored.iter().filter(|m| m.synced).count();
        let pending = stored.len() - confirmed;
        let calls = t.io.calls;
        Ok(serde_json::json!({
            "crm": job.crm, "chats": chats.len(), "messages": job.messages,
            "chats_with_messages": per_chat.iter().filter(|n| **n > 0).count(),
            "cycles": cycles, "cycles_with_calls": busy, "peak_calls_in_a_cycle": peak,
            "calls": calls, "prepare_calls": t.prepare, "write_calls": t.write,
            "zoho_credits": (job.crm == Crm::Zoho).then_some(credits),
            "stored": stored.len(), "confirmed": confirmed, "pending_at_end": pending,
            "settled_per_cycle_total": settled,
        }))
    }

    pub fn main() -> ExitCode {
        super::sync_calls::serve("day-calls", run)
    }

    #[cfg(test)]
    mod tests {
        use super::zoho_credits;
        use crmsync::core::http::{HttpRequest, Method};

        #[test]
        fn zoho_writes_cost_a_credit_per_ten_records_reads_one() {
            let req = |method, body: Option<&str>| HttpRequest {
                method,
                url: "https://www.zohoapis.com/crm/v8/Notes".into(),
                headers: vec![],
                body: body.map(|b| b.as_bytes().to_vec()),
            };
            let data = |n: usize| format!("{{\"data\":[{}]}}", vec!["{}"; n].join(","));
            assert_eq!(zoho_credits(&req(Method::Get, None)), 1);
            assert_eq!(zoho_credits(&req(Method::Post, Some(&data(1)))), 1);
            assert_eq!(zoho_credits(&req(Method::Post, Some(&data(10)))), 1);
            assert_eq!(zoho_credits(&req(Method::Put, Some(&data(11)))), 2);
            assert_eq!(zoho_credits(&req(Method::Post, Some(&data(100)))), 10);
        }
    }
}
