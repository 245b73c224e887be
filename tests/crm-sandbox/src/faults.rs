//! Faults on demand: `POST /__sandbox/faults` with `{"faults":[...]}`, each
//! `{"crm":"zoho|salesforce|leadsquared|any", "method":"POST", "path_prefix":"/crm/v8/Notes",
//!   "kind": ..., "count": 1}` where kind is one of
//! - `{"type":"status","status":429,"retry_after":2}` or 500/502/503: answered instead of the call
//! - `{"type":"delay","ms":1500}`: the call is answered late
//! - `{"type":"drop_after_commit"}`: the call is performed, then the connection drops
//!   before the answer (the client cannot know the write happened)
//! - `{"type":"expire_tokens"}`: every access token of the CRM expires now, then the call runs
//! - `{"type":"revoke_refresh"}`: refresh tokens (grants) of the CRM are revoked
//! - `{"type":"record_failure","index":1}`: in a batch write, that record fails
//!
//! `count` is how many matching calls it affects (default 1).
use crate::{crm_of, json_resp, Req, Shared};
use axum::body::Body;
use axum::http::HeaderValue;
use axum::response::Response;
use serde_json::{json, Value};

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Status { status: u16, retry_after: Option<u64> },
    Delay { ms: u64 },
    DropAfterCommit,
    ExpireTokens,
    RevokeRefresh,
    RecordFailure { index: usize },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub crm: String,
    pub method: Option<String>,
    pub path_prefix: String,
    pub kind: Kind,
    pub count: u64,
}

fn parse(v: &Value) -> Result<Fault, String> {
    let k = v.get("kind").ok_or("fault needs a kind")?;
    let kind = match k.get("type").and_then(Value::as_str).ok_or("kind needs a type")? {
        "status" => Kind::Status {
            status: k.get("status").and_then(Value::as_u64).ok_or("status fault needs status")?
                as u16,
            retry_after: k.get("retry_after").and_then(Value::as_u64),
        },
        "delay" => Kind::Delay { ms: k.get("ms").and_then(Value::as_u64).ok_or("delay needs ms")? },
        "drop_after_commit" => Kind::DropAfterCommit,
        "expire_tokens" => Kind::ExpireTokens,
        "revoke_refresh" => Kind::RevokeRefresh,
        "record_failure" => Kind::RecordFailure {
            index: k.get("index").and_then(Value::as_u64).unwrap_or(0) as usize,
        },
        other => return Err(format!("unknown fault type {other:?}")),
    };
    Ok(Fault {
        crm: v.get("crm").and_then(Value::as_str).unwrap_or("any").to_string(),
        method: v.get("method").and_then(Value::as_str).map(str::to_ascii_uppercase),
        path_prefix: v.get("path_prefix").and_then(Value::as_str).unwrap_or("/").to_string(),
        kind,
        count: v.get("count").and_then(Value::as_u64).unwrap_or(1),
    })
}

pub fn schedule(state: &Shared, body: &Value) -> Result<usize, String> {
    let list = body.get("faults").and_then(Value::as_array).ok_or("expected {\"faults\":[...]}")?;
    let parsed: Vec<Fault> = list.iter().map(parse).collect::<Result<_, _>>()?;
    let n = parsed.len();
    state.faults.lock().map_err(|_| "fault list unavailable")?.extend(parsed);
    Ok(n)
}

/// The first scheduled fault matching this call, consumed by one.
pub fn take(state: &Shared, r: &Req) -> Option<Fault> {
    let mut faults = state.faults.lock().ok()?;
    let crm = crm_of(&r.host);
    let i = faults.iter().position(|f| {
        (f.crm == "any" || f.crm == crm)
            && f.method.as_deref().is_none_or(|m| m == r.method.as_str())
            && r.path.starts_with(&f.path_prefix)
            && f.count > 0
    })?;
    let f = faults[i].clone();
    faults[i].count -= 1;
    if faults[i].count == 0 {
        faults.remove(i);
    }
    Some(f)
}

/// Faults that act before the call: they may answer instead of it.
pub async fn before(state: &Shared, f: &Fault, r: &Req) -> Option<Response> {
    match &f.kind {
        Kind::Status { status, retry_after } => {
            let crm = crm_of(&r.host);
            let body = match (crm, *status) {
                ("zoho", 429) => {
                    json!({"code": state.config().zoho_429_code, "details": {}, "message": "Too many requests. Please try again later.", "status": "error"})
                }
                ("leadsquared", 429) => {
                    json!({"Status": "Error", "ExceptionType": "MXAPIRateLimitExceededException", "ExceptionMessage": "API calls exceeded the limit of 25 in 5 second(s)"})
                }
                ("salesforce", 429) => {
                    json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
                }
                _ => {
                    json!({"code": "INTERNAL_ERROR", "message": "Internal Server Error", "status": "error", "details": {}})
                }
            };
            let mut resp = json_resp(*status, body);
            if let Some(s) = retry_after {
                if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                    resp.headers_mut().insert("retry-after", v);
                }
            }
            Some(resp)
        }
        Kind::Delay { ms } => {
            tokio::time::sleep(std::time::Duration::from_millis(*ms)).await;
            None
        }
        Kind::ExpireTokens => {
            state.db.expire_tokens(Some(crm_of(&r.host)));
            None
        }
        Kind::RevokeRefresh => {
            state.db.revoke_refresh(Some(crm_of(&r.host)));
            None
        }
        Kind::DropAfterCommit | Kind::RecordFailure { .. } => None,
    }
}

/// Faults that act on the answer after the call ran.
pub fn after(f: Fault, resp: Response) -> Response {
    match f.kind {
        Kind::DropAfterCommit => {
            // Headers go out, then the body errors: the connection is cut mid-answer.
            let stream = futures_util::stream::once(async {
                Err::<axum::body::Bytes, std::io::Error>(std::io::Error::other(
                    "connection dropped by fault",
                ))
            });
            let mut r = Response::new(Body::from_stream(stream));
            *r.status_mut() = resp.status();
            r
        }
        _ => resp,
    }
}

/// The index of a record that must fail in a batch write, if a fault says so.
pub fn record_failure(f: &Option<Fault>) -> Option<usize> {
    match f {
        Some(Fault { kind: Kind::RecordFailure { index }, .. }) => Some(*index),
        _ => None,
    }
}
