//! A local HTTPS emulator of the CRM APIs crmsync uses, routed on the Host header,
//! plus the fake WhatsApp Web pages (served as web.whatsapp.com with WhatsApp's CSP).
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub mod tls;

pub const USAGE: &str = "usage: crm-sandbox --listen 127.0.0.1:PORT --data DIR [--seed demo] [--www DIR]";

/// WhatsApp Web's CSP as copied from the live site (script-src allows wasm).
pub const WHATSAPP_CSP: &str = "default-src 'self' blob: 'wasm-unsafe-eval'; script-src blob: 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' blob: data:; frame-src 'self' chrome-extension:";
/// The same without 'wasm-unsafe-eval': what the content script must survive.
pub const STRICT_CSP: &str = "default-src 'self' blob:; script-src blob: 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' blob: data:; frame-src 'self' chrome-extension:";

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

#[derive(Default)]
pub struct Sandbox {
    requests: Mutex<Vec<serde_json::Value>>,
    www: Option<PathBuf>,
}

pub type Shared = Arc<Sandbox>;

pub async fn run(opts: Options) -> Result<(), String> {
    std::fs::create_dir_all(&opts.data).map_err(|e| format!("{}: {e}", opts.data.display()))?;
    let tls = tls::load_or_create(&opts.data).await?;
    let state: Shared = Arc::new(Sandbox { requests: Mutex::new(Vec::new()), www: opts.www.clone() });
    let app = axum::Router::new().fallback(handle).with_state(state);
    let listener = std::net::TcpListener::bind(opts.listen).map_err(|e| format!("bind {}: {e}", opts.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Tests and build.sh read this line to learn the port (0 = pick a free one).
    println!("crm-sandbox listening on https://{addr}");
    axum_server::from_tcp_rustls(listener, tls)
        .serve(app.into_make_service())
        .await
        .map_err(|e| e.to_string())
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

async fn handle(State(state): State<Shared>, req: Request) -> Response {
    let host = host_of(&req);
    let path = req.uri().path().to_string();
    if let Ok(mut log) = state.requests.lock() {
        log.push(json!({"method": req.method().as_str(), "host": host, "path": path}));
    }
    if path == "/__sandbox/ledger" {
        let requests = state.requests.lock().map(|l| l.clone()).unwrap_or_default();
        return Json(json!({
            "zoho": {"contacts": [], "leads": [], "deals": [], "notes": [], "attachments": []},
            "salesforce": {"Contact": [], "Lead": [], "WhatsApp_Chat__c": [], "ContentNote": [], "ContentVersion": [], "ContentDocumentLink": []},
            "leadsquared": {"leads": [], "opportunities": [], "activities": []},
            "requests": requests,
        }))
        .into_response();
    }
    if host == "web.whatsapp.com" {
        return serve_www(&state, req).await;
    }
    if host.starts_with("www.zohoapis.") && path.starts_with("/crm/") {
        // No auth is implemented yet: every API call is an invalid token, in Zoho's shape.
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"})),
        )
            .into_response();
    }
    (StatusCode::NOT_FOUND, format!("crm-sandbox: no route for {host}{path}")).into_response()
}

async fn serve_www(state: &Sandbox, req: Request) -> Response {
    let Some(root) = &state.www else {
        return (StatusCode::NOT_FOUND, "crm-sandbox: started without --www").into_response();
    };
    let strict = req.uri().query().unwrap_or("").split('&').any(|kv| kv == "csp=strict");
    let rel = req.uri().path().trim_start_matches('/');
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
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(if strict { STRICT_CSP } else { WHATSAPP_CSP }),
            );
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
        let o = Options::from_args(["--listen", "127.0.0.1:0", "--data", "/tmp/x"].map(String::from)).unwrap();
        assert_eq!(o.listen.port(), 0);
        assert!(Options::from_args(["--data".to_string()]).is_err());
    }
}
