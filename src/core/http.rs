//! The I/O boundary between pure connectors and the service worker's transport.
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// A request a connector wants performed. Bodies are bytes so multipart uploads fit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    pub fn get(url: impl Into<String>) -> Self {
        HttpRequest { method: Method::Get, url: url.into(), headers: Vec::new(), body: None }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// What the transport got back. `status` 0 means no response (network error, timeout).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// Case-insensitive header lookup (HTTP header names are case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lookup_ignores_case() {
        let r = HttpResponse {
            status: 200,
            headers: vec![("Retry-After".into(), "7".into())],
            body: vec![],
        };
        assert_eq!(r.header("retry-after"), Some("7"));
        assert_eq!(r.header("x-missing"), None);
    }
}

/// The machine-readable error code in a CRM error body, whichever CRM sent it:
/// Zoho `{"code":..}`, Salesforce `[{"errorCode":..}]` or `{"error":..}`,
/// LeadSquared `{"Status":"Error","ExceptionType":..}`.
pub fn error_code(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let obj = match &v {
        serde_json::Value::Array(items) => items.first()?,
        other => other,
    };
    ["code", "errorCode", "ExceptionType", "error"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(|c| c.as_str()).map(str::to_string))
}

#[cfg(test)]
mod error_code_tests {
    use super::error_code;

    #[test]
    fn reads_each_crm_shape() {
        let zoho = br#"{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}"#;
        assert_eq!(error_code(zoho).as_deref(), Some("INVALID_TOKEN"));
        let sf = br#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
        assert_eq!(error_code(sf).as_deref(), Some("INVALID_SESSION_ID"));
        let lsq = br#"{"Status":"Error","ExceptionType":"MXUnAuthorizedAccessException","ExceptionMessage":"x"}"#;
        assert_eq!(error_code(lsq).as_deref(), Some("MXUnAuthorizedAccessException"));
        assert_eq!(error_code(b"<html>"), None);
        assert_eq!(error_code(b"[]"), None);
    }
}
