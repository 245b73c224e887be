//! The sandbox's state in SQLite under DIR: records of every CRM as JSON, tokens, the
//! request log and counters. Survives restarts.
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;
use std::path::Path;
use std::sync::Mutex;

pub struct Db(Mutex<Connection>);

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Db {
    pub fn open(dir: &Path) -> Result<Db, String> {
        let c =
            Connection::open(dir.join("sandbox.sqlite3")).map_err(|e| format!("sqlite: {e}"))?;
        c.execute_batch("PRAGMA journal_mode=WAL;").map_err(|e| format!("sqlite: {e}"))?;
        Db::with_schema(c)
    }

    /// The same database in memory: for tests that run the sandbox in process, hundreds of
    /// times, and need no restart (on disk, each run's file writes and syncs dominated).
    pub fn in_memory() -> Result<Db, String> {
        Db::with_schema(Connection::open_in_memory().map_err(|e| format!("sqlite: {e}"))?)
    }

    fn with_schema(c: Connection) -> Result<Db, String> {
        c.execute_batch(
            "CREATE TABLE IF NOT EXISTS records (crm TEXT, kind TEXT, id TEXT, seq INTEGER, json TEXT, PRIMARY KEY (crm, kind, id));
             CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, crm TEXT, kind TEXT, expires_ms INTEGER, revoked INTEGER DEFAULT 0);
             CREATE TABLE IF NOT EXISTS requests (seq INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER, method TEXT, host TEXT, path TEXT, status INTEGER);
             CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT);",
        )
        .map_err(|e| format!("sqlite schema: {e}"))?;
        Ok(Db(Mutex::new(c)))
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock poisons it; the data is still consistent (each
        // statement is atomic), so keep serving.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh sequence number (ids, ordering).
    pub fn next(&self, name: &str) -> u64 {
        let c = self.conn();
        let cur: u64 = c
            .query_row("SELECT v FROM kv WHERE k = ?1", [name], |r| r.get::<_, String>(0))
            .optional()
            .ok()
            .flatten()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let _ = c.execute(
            "INSERT OR REPLACE INTO kv (k, v) VALUES (?1, ?2)",
            params![name, (cur + 1).to_string()],
        );
        cur + 1
    }

    pub fn kv_get(&self, k: &str) -> Option<String> {
        self.conn()
            .query_row("SELECT v FROM kv WHERE k = ?1", [k], |r| r.get(0))
            .optional()
            .ok()
            .flatten()
    }

    pub fn kv_set(&self, k: &str, v: &str) {
        let _ =
            self.conn().execute("INSERT OR REPLACE INTO kv (k, v) VALUES (?1, ?2)", params![k, v]);
    }

    pub fn put(&self, crm: &str, kind: &str, id: &str, v: &Value) {
        let seq = self.next("record-seq");
        let c = self.conn();
        let existing: Option<i64> = c
            .query_row(
                "SELECT seq FROM records WHERE crm=?1 AND kind=?2 AND id=?3",
                params![crm, kind, id],
                |r| r.get(0),
            )
            .optional()
            .ok()
            .flatten();
        let seq = existing.map(|s| s as u64).unwrap_or(seq);
        let _ = c.execute(
            "INSERT OR REPLACE INTO records (crm, kind, id, seq, json) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![crm, kind, id, seq as i64, v.to_string()],
        );
    }

    pub fn delete(&self, crm: &str, kind: &str, id: &str) {
        let _ = self.conn().execute(
            "DELETE FROM records WHERE crm=?1 AND kind=?2 AND id=?3",
            params![crm, kind, id],
        );
    }

    pub fn get(&self, crm: &str, kind: &str, id: &str) -> Option<Value> {
        let s: Option<String> = self
            .conn()
            .query_row(
                "SELECT json FROM records WHERE crm=?1 AND kind=?2 AND id=?3",
                params![crm, kind, id],
                |r| r.get(0),
            )
            .optional()
            .ok()
            .flatten();
        s.and_then(|s| serde_json::from_str(&s).ok())
    }

    pub fn list(&self, crm: &str, kind: &str) -> Vec<Value> {
        let c = self.conn();
        let Ok(mut st) =
            c.prepare("SELECT json FROM records WHERE crm=?1 AND kind=?2 ORDER BY seq")
        else {
            return Vec::new();
        };
        st.query_map(params![crm, kind], |r| r.get::<_, String>(0))
            .map(|rows| {
                rows.filter_map(|r| r.ok()).filter_map(|s| serde_json::from_str(&s).ok()).collect()
            })
            .unwrap_or_default()
    }

    pub fn issue_token(&self, crm: &str, kind: &str, token: &str, ttl_ms: Option<u64>) {
        let exp = ttl_ms.map(|t| (now_ms() + t) as i64).unwrap_or(i64::MAX);
        let _ = self.conn().execute("INSERT OR REPLACE INTO tokens (token, crm, kind, expires_ms, revoked) VALUES (?1, ?2, ?3, ?4, 0)", params![token, crm, kind, exp]);
    }

    /// Is this token live for this CRM? (exists, not expired, not revoked)
    pub fn token_ok(&self, crm: &str, kind: &str, token: &str) -> bool {
        let row: Option<(i64, i64)> = self
            .conn()
            .query_row(
                "SELECT expires_ms, revoked FROM tokens WHERE token=?1 AND crm=?2 AND kind=?3",
                params![token, crm, kind],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .ok()
            .flatten();
        matches!(row, Some((exp, 0)) if exp > now_ms() as i64)
    }

    pub fn expire_tokens(&self, crm: Option<&str>) {
        let c = self.conn();
        let _ = match crm {
            Some(crm) => {
                c.execute("UPDATE tokens SET expires_ms = 0 WHERE kind='access' AND crm=?1", [crm])
            }
            None => c.execute("UPDATE tokens SET expires_ms = 0 WHERE kind='access'", []),
        };
    }

    pub fn revoke_refresh(&self, crm: Option<&str>) {
        let c = self.conn();
        let _ = match crm {
            Some(crm) => c.execute("UPDATE tokens SET revoked = 1 WHERE crm=?1", [crm]),
            None => c.execute("UPDATE tokens SET revoked = 1", []),
        };
    }

    /// Revoke one token (a used grant code, or a refresh token the user revoked).
    pub fn revoke_refresh_one(&self, token: &str) {
        let _ = self.conn().execute("UPDATE tokens SET revoked = 1 WHERE token = ?1", [token]);
    }

    pub fn log_request(&self, method: &str, host: &str, path: &str, status: u16) {
        let _ = self.conn().execute(
            "INSERT INTO requests (at_ms, method, host, path, status) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![now_ms() as i64, method, host, path, status],
        );
    }

    pub fn requests(&self) -> Vec<Value> {
        let c = self.conn();
        let Ok(mut st) =
            c.prepare("SELECT seq, at_ms, method, host, path, status FROM requests ORDER BY seq")
        else {
            return Vec::new();
        };
        st.query_map([], |r| {
            Ok(serde_json::json!({"seq": r.get::<_, i64>(0)?, "at_ms": r.get::<_, i64>(1)?, "method": r.get::<_, String>(2)?, "host": r.get::<_, String>(3)?, "path": r.get::<_, String>(4)?, "status": r.get::<_, i64>(5)?}))
        })
        .map(|rows| rows.filter_map(|r| r.ok()).collect())
        .unwrap_or_default()
    }
}
