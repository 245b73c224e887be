//! A local HTTPS emulator of the CRM APIs crmsync uses (Zoho CRM v8, Salesforce REST,
//! LeadSquared v2), routed on the Host header, with state in SQLite, fault injection, a
//! ledger of everything written, record pages at each CRM's deep-link URL, and the fake
//! WhatsApp Web pages (served as web.whatsapp.com with WhatsApp's CSP).
// Handlers return axum's `Response` as their error value, as axum's own extractors do; boxing
// it would only add noise to every early return.
#![allow(clippy::result_large_err)]
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub mod db;
pub mod faults;
pub mod leadsquared;
pub mod pages;
pub mod salesforce;
pub mod seed;
pub mod tls;
pub mod zoho;

pub const USAGE: &str = "usage: crm-sandbox --listen 127.0.0.1:PORT --data DIR [--seed demo|demo-chat-object|demo-read-only|demo-hidden-deals|demo-no-api] [--www DIR]";

/// WhatsApp Web's CSP as copied from the live site (shared/reference whatsapp-web.md §7):
/// no `frame-src` (frames fall back to `default-src`), a fresh script nonce per page (`{nonce}`).
pub const WHATSAPP_CSP: &str = "default-src 'self' blob: 'wasm-unsafe-eval';script-src blob: 'self' 'nonce-{nonce}' https://static.whatsapp.net 'wasm-unsafe-eval';style-src data: blob: 'self' 'unsafe-inline';connect-src 'self' https://*.whatsapp.net blob: data: wss://web.whatsapp.com;img-src 'self' data: blob: https://*.whatsapp.net";
/// The same without 'wasm-unsafe-eval': what the content script must survive.
pub const STRICT_CSP: &str = "default-src 'self' blob:;script-src blob: 'self' 'nonce-{nonce}' https://static.whatsapp.net;style-src data: blob: 'self' 'unsafe-inline';connect-src 'self' https://*.whatsapp.net blob: data: wss://web.whatsapp.com;img-src 'self' data: blob: https://*.whatsapp.net";

#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    pub data: PathBuf,
    pub seed: Option<String>,
    pub www: Option<PathBuf>,
}

impl Options {
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
        let mut listen = None;
        let mut data = None;
        let mut seed = None;
        let mut www = None;
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
            match a.as_str() {
                "--listen" => {
                    let v = value("--listen")?;
                    listen = Some(v.parse().map_err(|e| format!("--listen {v}: {e}"))?);
                }
                "--data" => data = Some(PathBuf::from(value("--data")?)),
                "--seed" => seed = Some(value("--seed")?),
                "--www" => www = Some(PathBuf::from(value("--www")?)),
                other => return Err(format!("unknown argument {other}")),
            }
        }
        Ok(Options {
            listen: listen.ok_or("--listen is required")?,
            data: data.ok_or("--data is required")?,
            seed,
            www,
        })
    }
}

/// PKCE S256 (RFC 7636 §4.2): base64url(sha256(verifier)), no padding.
pub fn pkce_s256(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// Settings tests may change at run time (`POST /__sandbox/config`).
#[derive(Clone, Debug)]
pub struct Config {
    pub zoho_token_ttl_ms: u64,
    pub salesforce_token_ttl_ms: u64,
    /// LeadSquared calls allowed per 5-second window (plan dependent).
    pub lsq_calls_per_5s: usize,
    /// Zoho's 429 body code (docs disagree: TOO_MANY_REQUESTS vs RATE_LIMIT_EXCEEDED).
    pub zoho_429_code: String,
    /// LeadSquared's rate-limit HTTP status (reported as 429 or 200 in the wild).
    pub lsq_rate_limit_status: u16,
    /// Salesforce daily API allocation.
    pub salesforce_daily_limit: u64,
    /// Zoho API credits per day (one per call here).
    pub zoho_daily_credits: u64,
    /// SOQL records per batch before `nextRecordsUrl` (Salesforce default 2000).
    pub salesforce_query_batch: usize,
    /// Zoho calls in flight at once per org and app (edition dependent: 5–25).
    pub zoho_concurrency: usize,
    /// Zoho `GET /Contacts/{id}/Deals`: "hidden" answers 400 INVALID_DATA (the related list
    /// is hidden in the layout), "no_permission" answers 403 NO_PERMISSION (the profile may
    /// not read Deals); crm-oas v8 related_records, getRelatedRecords error responses.
    pub zoho_deals_list: String,
    /// Salesforce connected app: "Require Secret for Web Server Flow" (on by default).
    pub salesforce_require_secret: bool,
    /// The product's Zoho client is enabled in these data centres only (Multi-DC in the API
    /// console, https://www.zoho.com/accounts/protocol/oauth/multi-dc.html); elsewhere its
    /// token requests answer `invalid_client`.
    pub zoho_multi_dc: Vec<String>,
    /// Multi-DC's "same client secret for all data centres" option
    /// (https://www.zoho.com/accounts/protocol/oauth/multi-dc.html). Off, as the console
    /// offers per-DC secrets: the server-based client's token requests outside the US need
    /// that data centre's secret (`zoho::zoho_client_secret`), else `invalid_client_secret`.
    pub zoho_same_secret_all_dcs: bool,
    /// The data centre the rep's Zoho account lives in: sign-in started at any accounts server
    /// redirects with this `accounts-server` (None: where it started).
    pub zoho_user_dc: Option<String>,
    /// The Zoho user's profile: "full", "read_only" (may not create notes), "no_api" (no API
    /// access: every API call answers 403 NO_PERMISSION, v8 status codes).
    pub zoho_user: String,
    /// The org installed the product's external client app (help article 005132365: since
    /// September 2025 uninstalled apps are blocked for users without "Approve Uninstalled
    /// Connected Apps").
    pub salesforce_app_installed: bool,
    /// The Salesforce user: "full", "read_only" (no Create on Task, ContentNote), "no_api"
    /// (403 API_DISABLED_FOR_ORG on every REST call), "no_customize" (a standard user: data
    /// access, but neither "Modify All Data" nor "Modify Metadata Through Metadata API
    /// Functions", so `createMetadata()` is refused with INSUFFICIENT_ACCESS).
    pub salesforce_user: String,
    /// The role of the LeadSquared keys' user (Administrator, Sales_Manager, Sales_User,
    /// Marketing_User: the roles of create-a-user on apidocs.leadsquared.com).
    pub lsq_role: String,
    /// The org's `Lead_Source` picklist (the values a stock org ships with have no WhatsApp;
    /// `"zoho_lead_sources": [...]` replaces them, e.g. with one an admin added).
    pub zoho_lead_sources: Vec<String>,
    /// The hosts the sign-in answers name, which the client then calls. None (the default):
    /// the real ones. Tests set foreign ones to check the client refuses them: Zoho's token
    /// answer carries `api_domain` ("use it for all API calls",
    /// https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token-expiry.html),
    /// Salesforce's `instance_url` (https://developer.salesforce.com/docs/atlas.en-us.222.0.api_rest.meta/api/intro_understanding_refresh_token_oauth.htm),
    /// LeadSquared's `UserByAccessKey.Get` the region's `LSQCommonServiceURLs.api`
    /// (https://apidocs.leadsquared.com/user-authentication/).
    pub zoho_api_domain: Option<String>,
    pub salesforce_instance_url: Option<String>,
    pub lsq_api_host: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            zoho_token_ttl_ms: 3_600_000,
            salesforce_token_ttl_ms: 7_200_000,
            lsq_calls_per_5s: 25,
            zoho_429_code: "TOO_MANY_REQUESTS".into(),
            lsq_rate_limit_status: 429,
            salesforce_daily_limit: 15_000,
            zoho_daily_credits: 100_000,
            salesforce_query_batch: 2000,
            zoho_concurrency: 10,
            zoho_deals_list: "visible".into(),
            salesforce_require_secret: true,
            zoho_multi_dc: ["us", "eu", "in", "au", "jp", "ca", "sa", "uk", "cn"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            zoho_same_secret_all_dcs: false,
            zoho_user_dc: None,
            zoho_user: "full".into(),
            salesforce_app_installed: true,
            salesforce_user: "full".into(),
            lsq_role: "Administrator".into(),
            zoho_lead_sources: [
                "-None-",
                "Advertisement",
                "Cold Call",
                "Employee Referral",
                "Online Store",
                "Partner",
                "Trade Show",
                "Web Download",
                "Chat",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            zoho_api_domain: None,
            salesforce_instance_url: None,
            lsq_api_host: None,
        }
    }
}

pub struct Sandbox {
    pub db: db::Db,
    pub www: Option<PathBuf>,
    pub faults: Mutex<Vec<faults::Fault>>,
    pub config: Mutex<Config>,
    /// Call times per LeadSquared tenant for the per-5-second limiter.
    pub lsq_calls: Mutex<Vec<u64>>,
    /// Zoho API calls in flight (the concurrency limit).
    pub zoho_in_flight: std::sync::atomic::AtomicUsize,
}

pub type Shared = Arc<Sandbox>;

impl Sandbox {
    pub fn config(&self) -> Config {
        self.config.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// One request as the CRM modules see it.
pub struct Req {
    pub method: Method,
    pub host: String,
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// A scheduled `record_failure` fault: this record of a batch write fails.
    pub record_failure: Option<usize>,
}

impl Req {
    pub fn q(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }

    pub fn header(&self, k: &str) -> Option<&str> {
        self.headers.get(k).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| format!("body is not valid JSON: {e}"))
    }

    /// Form fields (application/x-www-form-urlencoded) merged over the query string.
    pub fn form(&self) -> HashMap<String, String> {
        let mut out = self.query.clone();
        out.extend(parse_query(&String::from_utf8_lossy(&self.body)));
        out
    }

    pub fn bearer(&self, scheme: &str) -> Option<&str> {
        let h = self.header("authorization")?;
        let (s, t) = h.split_once(' ')?;
        s.eq_ignore_ascii_case(scheme).then_some(t.trim())
    }
}

pub fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (pct_decode(k), pct_decode(v))
        })
        .collect()
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |c: Option<&u8>| c.and_then(|c| (*c as char).to_digit(16));
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => match (hex(b.get(i + 1)), hex(b.get(i + 2))) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn json_resp(status: u16, v: Value) -> Response {
    let mut r = Response::new(Body::from(v.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json;charset=UTF-8"));
    r
}

pub fn empty(status: u16) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT);
    r
}

pub async fn run(opts: Options) -> Result<(), String> {
    std::fs::create_dir_all(&opts.data).map_err(|e| format!("{}: {e}", opts.data.display()))?;
    let tls = tls::load_or_create(&opts.data).await?;
    let state = build(&opts.data, opts.www.clone(), opts.seed.as_deref())?;
    let app = router(state);
    let listener = std::net::TcpListener::bind(opts.listen)
        .map_err(|e| format!("bind {}: {e}", opts.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Tests and build.sh read this line to learn the port (0 = pick a free one).
    println!("crm-sandbox listening on https://{addr}");
    axum_server::from_tcp_rustls(listener, tls)
        .serve(app.into_make_service())
        .await
        .map_err(|e| e.to_string())
}

/// Every emulated host behind one router (routed on the Host header); the server serves it
/// over TLS, native tests call it in process.
pub fn router(state: Shared) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(state)
}

/// The shared state over DIR, seeded when asked (seeding is idempotent).
pub fn build(dir: &Path, www: Option<PathBuf>, seed: Option<&str>) -> Result<Shared, String> {
    build_on(db::Db::open(dir)?, www, seed)
}

/// The sandbox over a database in memory (in-process tests; nothing survives the value).
pub fn build_in_memory(seed: Option<&str>) -> Result<Shared, String> {
    build_on(db::Db::in_memory()?, None, seed)
}

fn build_on(db: db::Db, www: Option<PathBuf>, seed: Option<&str>) -> Result<Shared, String> {
    let mut config = Config::default();
    match seed {
        // A stock org: no WhatsApp_Chat__c (custom objects exist only once deployed).
        Some("demo") => seed::demo(&db),
        // The same org after an admin deployed the chat object (salesforce/force-app).
        Some("demo-chat-object") => {
            seed::demo(&db);
            db.kv_set("sf:chat_object", "1");
        }
        // The same records seen by users without write permission: a Zoho profile that may
        // not create notes, a Salesforce user without Create on Task and ContentNote, a
        // LeadSquared Sales_User in a tenant without the activity type (the missing object).
        Some("demo-read-only") => {
            seed::demo(&db);
            config.zoho_user = "read_only".into();
            config.salesforce_user = "read_only".into();
            config.lsq_role = "Sales_User".into();
        }
        // The Deals related list hidden in the Contacts layout.
        Some("demo-hidden-deals") => {
            seed::demo(&db);
            config.zoho_deals_list = "hidden".into();
        }
        // Users without API access (Zoho profile without it, Salesforce without API Enabled).
        Some("demo-no-api") => {
            seed::demo(&db);
            config.zoho_user = "no_api".into();
            config.salesforce_user = "no_api".into();
        }
        Some(other) => {
            return Err(format!(
                "unknown seed {other:?} (`demo`, `demo-chat-object`, `demo-read-only`, `demo-hidden-deals` or `demo-no-api`)"
            ))
        }
        None => {}
    }
    Ok(Arc::new(Sandbox {
        db,
        www,
        faults: Mutex::new(Vec::new()),
        config: Mutex::new(config),
        lsq_calls: Mutex::new(Vec::new()),
        zoho_in_flight: Default::default(),
    }))
}

fn host_of(req: &Request) -> String {
    let raw = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().host().map(str::to_string))
        .unwrap_or_default();
    raw.split(':').next().unwrap_or("").to_ascii_lowercase()
}

/// Which emulated system a host belongs to.
pub fn crm_of(host: &str) -> &'static str {
    if host.starts_with("accounts.zoho")
        || host.contains("zohoapis.")
        || host.starts_with("crm.zoho")
    {
        "zoho"
    } else if host.ends_with("salesforce.com") || host.ends_with("force.com") {
        "salesforce"
    } else if host.ends_with("leadsquared.com") {
        "leadsquared"
    } else {
        "other"
    }
}

async fn handle(State(state): State<Shared>, req: Request) -> Response {
    let host = host_of(&req);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = parse_query(req.uri().query().unwrap_or(""));
    if host == "web.whatsapp.com" {
        return serve_www(&state, &path, &query).await;
    }
    let headers = req.headers().clone();
    let body = match axum::body::to_bytes(req.into_body(), 150 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return json_resp(
                413,
                json!({"code": "BODY_SIZE_REACHED", "message": "request body too large", "status": "error", "details": {}}),
            )
        }
    };
    let mut r = Req {
        method,
        host: host.clone(),
        path: path.clone(),
        query,
        headers,
        body,
        record_failure: None,
    };
    if let Some(resp) = sandbox_api(&state, &r) {
        return resp;
    }
    // Zoho's concurrency limit: calls in flight (including slow ones) beyond the edition's
    // allowance answer 429. The guard counts this call until its answer is built.
    let _in_flight = host.contains("zohoapis.").then(|| InFlight::enter(&state));
    let zoho_over_limit =
        _in_flight.as_ref().is_some_and(|g| g.0 > state.config().zoho_concurrency);
    // Faults come first: they model the network and the CRM's limits.
    let fault = faults::take(&state, &r);
    r.record_failure = faults::record_failure(&fault);
    if let Some(f) = &fault {
        if let Some(resp) = faults::before(&state, f, &r).await {
            state.db.log_request(r.method.as_str(), &host, &path, resp.status().as_u16());
            return resp;
        }
    }
    let resp = match crm_of(&host) {
        "zoho" if zoho_over_limit => {
            let code = state.config().zoho_429_code;
            json_resp(
                429,
                json!({"code": code, "details": {}, "message": "Too many concurrent requests", "status": "error"}),
            )
        }
        "zoho" => zoho::handle(&state, &r),
        "salesforce" => salesforce::handle(&state, &r),
        "leadsquared" => leadsquared::handle(&state, &r),
        _ => json_resp(404, json!({"error": format!("crm-sandbox: no route for {host}{path}")})),
    };
    state.db.log_request(r.method.as_str(), &host, &path, resp.status().as_u16());
    match fault {
        Some(f) => faults::after(f, resp),
        None => resp,
    }
}

struct InFlight(usize, Shared);

impl InFlight {
    fn enter(state: &Shared) -> InFlight {
        let n = state.zoho_in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        InFlight(n, state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.1.zoho_in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// `/__sandbox/*` on any host: the ledger, faults and config.
fn sandbox_api(state: &Shared, r: &Req) -> Option<Response> {
    match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/__sandbox/ledger") => Some(json_resp(200, ledger(state))),
        ("POST", "/__sandbox/faults") => {
            Some(match r.json().and_then(|v| faults::schedule(state, &v)) {
                Ok(n) => json_resp(200, json!({"scheduled": n})),
                Err(e) => json_resp(400, json!({"error": e})),
            })
        }
        ("DELETE", "/__sandbox/faults") => {
            if let Ok(mut f) = state.faults.lock() {
                f.clear();
            }
            Some(json_resp(200, json!({"cleared": true})))
        }
        ("POST", "/__sandbox/config") => Some(match r.json() {
            Ok(v) => {
                if let Ok(mut c) = state.config.lock() {
                    if let Some(x) = v.get("zoho_token_ttl_ms").and_then(Value::as_u64) {
                        c.zoho_token_ttl_ms = x;
                    }
                    if let Some(x) = v.get("salesforce_token_ttl_ms").and_then(Value::as_u64) {
                        c.salesforce_token_ttl_ms = x;
                    }
                    if let Some(x) = v.get("lsq_calls_per_5s").and_then(Value::as_u64) {
                        c.lsq_calls_per_5s = x as usize;
                    }
                    if let Some(x) = v.get("zoho_429_code").and_then(Value::as_str) {
                        c.zoho_429_code = x.into();
                    }
                    if let Some(x) = v.get("lsq_rate_limit_status").and_then(Value::as_u64) {
                        c.lsq_rate_limit_status = x as u16;
                    }
                    if let Some(x) = v.get("zoho_concurrency").and_then(Value::as_u64) {
                        c.zoho_concurrency = x as usize;
                    }
                    if let Some(x) = v.get("salesforce_query_batch").and_then(Value::as_u64) {
                        c.salesforce_query_batch = x as usize;
                    }
                    if let Some(x) = v.get("zoho_daily_credits").and_then(Value::as_u64) {
                        c.zoho_daily_credits = x;
                    }
                    if let Some(x) = v.get("salesforce_daily_limit").and_then(Value::as_u64) {
                        c.salesforce_daily_limit = x;
                    }
                    if let Some(x) = v.get("salesforce_require_secret").and_then(Value::as_bool) {
                        c.salesforce_require_secret = x;
                    }
                    if let Some(x) = v.get("zoho_deals_list").and_then(Value::as_str) {
                        c.zoho_deals_list = x.into();
                    }
                    if let Some(x) = v.get("zoho_multi_dc").and_then(Value::as_array) {
                        c.zoho_multi_dc =
                            x.iter().filter_map(|d| d.as_str().map(str::to_string)).collect();
                    }
                    if let Some(x) = v.get("zoho_same_secret_all_dcs").and_then(Value::as_bool) {
                        c.zoho_same_secret_all_dcs = x;
                    }
                    if let Some(x) = v.get("zoho_lead_sources").and_then(Value::as_array) {
                        c.zoho_lead_sources =
                            x.iter().filter_map(|d| d.as_str().map(str::to_string)).collect();
                    }
                    if let Some(x) = v.get("zoho_user_dc") {
                        c.zoho_user_dc = x.as_str().map(str::to_string);
                    }
                    let c = &mut *c;
                    // A string names the host; null gives the real one back.
                    for (key, field) in [
                        ("zoho_api_domain", &mut c.zoho_api_domain),
                        ("salesforce_instance_url", &mut c.salesforce_instance_url),
                        ("lsq_api_host", &mut c.lsq_api_host),
                    ] {
                        if let Some(x) = v.get(key) {
                            *field = x.as_str().map(str::to_string);
                        }
                    }
                    for (key, field) in [
                        ("zoho_user", &mut c.zoho_user),
                        ("salesforce_user", &mut c.salesforce_user),
                        ("lsq_role", &mut c.lsq_role),
                    ] {
                        if let Some(x) = v.get(key).and_then(Value::as_str) {
                            *field = x.into();
                        }
                    }
                    if let Some(x) = v.get("salesforce_app_installed").and_then(Value::as_bool) {
                        c.salesforce_app_installed = x;
                    }
                }
                json_resp(200, json!({"ok": true}))
            }
            Err(e) => json_resp(400, json!({"error": e})),
        }),
        _ => None,
    }
}

/// Everything written, in one JSON document (the shape tests and the demo rely on).
pub fn ledger(state: &Shared) -> Value {
    let db = &state.db;
    json!({
        "zoho": {
            "contacts": db.list("zoho", "Contacts"),
            "leads": db.list("zoho", "Leads"),
            "deals": db.list("zoho", "Deals"),
            "notes": db.list("zoho", "Notes").into_iter().map(|n| json!({
                "id": n["id"], "parent_module": n["Parent_Id"]["module"]["api_name"], "parent_id": n["Parent_Id"]["id"],
                "title": n["Note_Title"], "content": n["Note_Content"], "created_time": n["Created_Time"], "modified_time": n["Modified_Time"],
            })).collect::<Vec<_>>(),
            "attachments": db.list("zoho", "Attachments"),
        },
        "salesforce": {
            "Contact": db.list("salesforce", "Contact"),
            "Lead": db.list("salesforce", "Lead"),
            "WhatsApp_Chat__c": db.list("salesforce", "WhatsApp_Chat__c"),
            "ContentNote": db.list("salesforce", "ContentNote"),
            "ContentVersion": db.list("salesforce", "ContentVersion"),
            "ContentDocumentLink": db.list("salesforce", "ContentDocumentLink"),
            "Task": db.list("salesforce", "Task"),
            "has_chat_object": salesforce::has_chat_object(state),
        },
        "leadsquared": {
            "leads": db.list("leadsquared", "leads"),
            "opportunities": db.list("leadsquared", "opportunities"),
            "activities": db.list("leadsquared", "activities"),
            "activity_types": db.list("leadsquared", "activity_types"),
        },
        "requests": db.requests(),
    })
}

async fn serve_www(state: &Sandbox, path: &str, query: &HashMap<String, String>) -> Response {
    let Some(root) = &state.www else {
        return (StatusCode::NOT_FOUND, "crm-sandbox: started without --www").into_response();
    };
    let strict = query.get("csp").map(String::as_str) == Some("strict");
    let rel = path.trim_start_matches('/');
    let rel = if rel.is_empty() { "index.html" } else { rel };
    let Some(file) = safe_join(root, rel) else {
        return (StatusCode::BAD_REQUEST, "bad path").into_response();
    };
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            let mime = match file.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("js") | Some("mjs") => "text/javascript",
                Some("css") => "text/css",
                Some("json") => "application/json",
                Some("png") => "image/png",
                Some("svg") => "image/svg+xml",
                _ => "application/octet-stream",
            };
            let mut resp = Response::new(Body::from(bytes));
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
            // A nonce per response, as the live site sends (the fake's scripts are 'self').
            let nonce = format!(
                "{:016x}",
                (std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0) as u64)
                    .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            );
            let csp = if strict { STRICT_CSP } else { WHATSAPP_CSP }.replace("{nonce}", &nonce);
            if let Ok(v) = HeaderValue::from_str(&csp) {
                h.insert(header::CONTENT_SECURITY_POLICY, v);
            }
            // The live site isolates itself: COOP same-origin, COEP require-corp.
            h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
            h.insert("cross-origin-embedder-policy", HeaderValue::from_static("require-corp"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(_) => (StatusCode::NOT_FOUND, format!("no such page {rel}")).into_response(),
    }
}

/// Join a request path under `root`, refusing anything that climbs out of it.
fn safe_join(root: &Path, rel: &str) -> Option<PathBuf> {
    let mut out = root.to_path_buf();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p if p.contains('\\') => return None,
            p => out.push(p),
        }
    }
    Some(out)
}

/// Digits of a phone string (how the emulated searches compare numbers).
pub fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// A 32-hex-digit random-looking id from the sequence (stable within a run).
pub fn token(prefix: &str, db: &db::Db) -> String {
    let n = db.next("token-seq");
    let t = db::now_ms();
    format!(
        "{prefix}{:016x}{:016x}",
        t.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        n.wrapping_mul(0xD6E8_FEB8_6659_FD93)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_join_refuses_traversal() {
        let root = Path::new("/srv/www");
        assert_eq!(safe_join(root, "a/b.html"), Some(PathBuf::from("/srv/www/a/b.html")));
        assert_eq!(safe_join(root, "../etc/passwd"), None);
    }

    #[test]
    fn options_parse() {
        let o =
            Options::from_args(["--listen", "127.0.0.1:0", "--data", "/tmp/x"].map(String::from))
                .unwrap();
        assert_eq!(o.listen.port(), 0);
        assert!(Options::from_args(["--data".to_string()]).is_err());
    }

    #[test]
    fn query_decoding() {
        let q = parse_query("phone=%2B5511987654321&a=b+c&bad=%zz&x");
        assert_eq!(q["phone"], "+5511987654321");
        assert_eq!(q["a"], "b c");
        assert_eq!(q["bad"], "%zz");
        assert_eq!(q["x"], "");
    }
}
