//! Creating `WhatsApp_Chat__c` for an admin, from the options page: the object and its fields
//! exactly as the repository's Salesforce DX source (`salesforce/force-app`) defines them, sent
//! through the Metadata API's `createMetadata()` (SOAP, `POST /services/Soap/m/62.0`).
//!
//! Why the Metadata API: the Tooling API's CustomObject supports only Query and GET over REST
//! (Tooling API reference, "CustomObject": "Supported REST HTTP Methods: Query, GET"), so an
//! object cannot be created there. `createMetadata()` takes up to 10 components of one type per
//! call ("All components must be of the same type in the same call", Metadata API Developer
//! Guide, createMetadata()): one call for the object, one for its 5 fields. The caller needs
//! "Modify Metadata Through Metadata API Functions" or "Modify All Data" (same page,
//! Permissions; "Metadata API Edit Access"); without it the call is refused with
//! `INSUFFICIENT_ACCESS`, which is said to the admin in plain words.
use super::Salesforce;
use crate::crm::http::{HttpRequest, HttpResponse, Method};

/// The Metadata API version (the REST calls use the same, `API_VERSION`).
pub const METADATA_VERSION: &str = "62.0";

const OBJECT_XML: &str = include_str!(
    "../../../salesforce/force-app/main/default/objects/WhatsApp_Chat__c/WhatsApp_Chat__c.object-meta.xml"
);
/// The fields, in the order they are created (the DX source's own files).
const FIELD_XML: [&str; 5] = [
    include_str!(
        "../../../salesforce/force-app/main/default/objects/WhatsApp_Chat__c/fields/External_Key__c.field-meta.xml"
    ),
    include_str!(
        "../../../salesforce/force-app/main/default/objects/WhatsApp_Chat__c/fields/Contact__c.field-meta.xml"
    ),
    include_str!(
        "../../../salesforce/force-app/main/default/objects/WhatsApp_Chat__c/fields/Lead__c.field-meta.xml"
    ),
    include_str!(
        "../../../salesforce/force-app/main/default/objects/WhatsApp_Chat__c/fields/Chat_Date__c.field-meta.xml"
    ),
    include_str!(
        "../../../salesforce/force-app/main/default/objects/WhatsApp_Chat__c/fields/Transcript__c.field-meta.xml"
    ),
];
pub const OBJECT: &str = "WhatsApp_Chat__c";

/// What a `createMetadata()` answer means for the admin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every component was created.
    Created,
    /// Every component that failed exists already (a second run after a partial one).
    AlreadyThere,
    /// The user lacks "Modify Metadata Through Metadata API Functions" / "Modify All Data".
    NoPermission,
    /// Anything else, with Salesforce's own words.
    Failed(String),
}

/// The children of the DX file's root element (everything between `<Root …>` and `</Root>`).
fn children<'a>(xml: &'a str, root: &str) -> &'a str {
    let open = format!("<{root}");
    let start = xml.find(&open).and_then(|i| xml[i..].find('>').map(|j| i + j + 1));
    let end = xml.rfind(&format!("</{root}>"));
    match (start, end) {
        (Some(s), Some(e)) if s <= e => xml[s..e].trim(),
        _ => "",
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A `createMetadata()` SOAP request over the session (the OAuth access token is a session id).
fn create_metadata(sf: &Salesforce, metadata: &[String]) -> HttpRequest {
    let body = format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" "#,
            r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://soap.sforce.com/2006/04/metadata">"#,
            "<soapenv:Header><SessionHeader><sessionId>{}</sessionId></SessionHeader></soapenv:Header>",
            "<soapenv:Body><createMetadata>{}</createMetadata></soapenv:Body></soapenv:Envelope>"
        ),
        escape(&sf.access_token),
        metadata.concat()
    );
    HttpRequest {
        method: Method::Post,
        url: format!(
            "{}/services/Soap/m/{METADATA_VERSION}",
            sf.instance_url.trim_end_matches('/')
        ),
        headers: vec![
            ("Content-Type".into(), "text/xml; charset=UTF-8".into()),
            // SOAP 1.1 requires the header; the Metadata API ignores its value.
            ("SOAPAction".into(), "\"\"".into()),
        ],
        body: Some(body.into_bytes()),
    }
}

/// The object: the DX source's `CustomObject` with its full name.
pub fn object_request(sf: &Salesforce) -> HttpRequest {
    create_metadata(
        sf,
        &[format!(
            r#"<metadata xsi:type="CustomObject"><fullName>{OBJECT}</fullName>{}</metadata>"#,
            children(OBJECT_XML, "CustomObject")
        )],
    )
}

/// The 5 fields, each named `WhatsApp_Chat__c.<field>` (in DX source the object is the folder).
pub fn fields_request(sf: &Salesforce) -> HttpRequest {
    let fields: Vec<String> = FIELD_XML
        .iter()
        .map(|x| {
            let inner = children(x, "CustomField");
            let inner = inner.replacen("<fullName>", &format!("<fullName>{OBJECT}."), 1);
            format!(r#"<metadata xsi:type="CustomField">{inner}</metadata>"#)
        })
        .collect();
    create_metadata(sf, &fields)
}

/// The text of each `<tag>…</tag>` in order (the answers are flat enough for this; no
/// attributes on the tags read here).
fn texts<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(&after[..j]);
        rest = &after[j + close.len()..];
    }
    out
}

/// Strip a namespace prefix (`sf:INSUFFICIENT_ACCESS` → `INSUFFICIENT_ACCESS`).
fn local(s: &str) -> &str {
    s.rsplit(':').next().unwrap_or(s).trim()
}

/// Read a `createMetadata()` answer: a SOAP fault (the whole call refused) or one `result` per
/// component with `success` and, when false, `errors` with `statusCode` and `message`.
pub fn parse(resp: &HttpResponse) -> Outcome {
    let xml = resp.body_text();
    if let Some(code) = texts(&xml, "faultcode").first() {
        let message = texts(&xml, "faultstring").first().copied().unwrap_or("").to_string();
        return match local(code) {
            "INSUFFICIENT_ACCESS" => Outcome::NoPermission,
            other => Outcome::Failed(format!("{other}: {message}")),
        };
    }
    if resp.status == 401 || resp.status == 0 || texts(&xml, "result").is_empty() {
        return Outcome::Failed(format!("HTTP {} without a createMetadata result", resp.status));
    }
    let mut duplicate = false;
    for result in texts(&xml, "result") {
        if texts(result, "success").first().map(|s| s.trim()) == Some("true") {
            continue;
        }
        let codes = texts(result, "statusCode");
        if codes.iter().any(|c| local(c) == "INSUFFICIENT_ACCESS") {
            return Outcome::NoPermission;
        }
        if !codes.is_empty() && codes.iter().all(|c| local(c) == "DUPLICATE_DEVELOPER_NAME") {
            duplicate = true;
            continue;
        }
        let name = texts(result, "fullName").first().copied().unwrap_or("").to_string();
        let message = texts(result, "message").join("; ");
        return Outcome::Failed(format!("{name}: {} {message}", codes.join(",")));
    }
    if duplicate {
        Outcome::AlreadyThere
    } else {
        Outcome::Created
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::{golden, resp};

    fn sf() -> Salesforce {
        Salesforce {
            instance_url: "https://crmsync-dev.my.salesforce.com".into(),
            access_token: "00DRO0000000001!AQ.token".into(),
            multi_currency: false,
        }
    }

    fn body(r: &HttpRequest) -> String {
        String::from_utf8(r.body.clone().unwrap()).unwrap()
    }

    #[test]
    fn the_requests_carry_the_dx_source_object_and_fields() {
        // Before: nothing in the product could create the object (only the DX source existed).
        let o = object_request(&sf());
        assert_eq!(o.method, Method::Post);
        assert_eq!(o.url, "https://crmsync-dev.my.salesforce.com/services/Soap/m/62.0");
        assert!(o.headers.iter().any(|(k, v)| k == "SOAPAction" && v == "\"\""));
        assert_eq!(
            body(&o).trim(),
            String::from_utf8(golden("salesforce/create-metadata-object.xml")).unwrap().trim()
        );
        let f = fields_request(&sf());
        assert_eq!(
            body(&f).trim(),
            String::from_utf8(golden("salesforce/create-metadata-fields.xml")).unwrap().trim()
        );
        // Every DX field file is sent, named under the object, with its own properties.
        let fb = body(&f);
        for name in ["External_Key__c", "Contact__c", "Lead__c", "Chat_Date__c", "Transcript__c"] {
            assert!(
                fb.contains(&format!("<fullName>WhatsApp_Chat__c.{name}</fullName>")),
                "{name}"
            );
        }
        assert_eq!(fb.matches(r#"xsi:type="CustomField""#).count(), 5);
        assert!(
            fb.contains("<externalId>true</externalId>") && fb.contains("<length>131072</length>")
        );
        // The session id is escaped into the envelope.
        let odd = Salesforce { access_token: "a&b<c".into(), ..sf() };
        assert!(body(&object_request(&odd)).contains("<sessionId>a&amp;b&lt;c</sessionId>"));
    }

    #[test]
    fn answers_are_read_as_created_already_there_no_permission_or_failed() {
        let ok = resp(200, &golden("salesforce/create-metadata-200.xml"));
        assert_eq!(parse(&ok), Outcome::Created);
        let dup = resp(200, &golden("salesforce/create-metadata-200-duplicate.xml"));
        assert_eq!(parse(&dup), Outcome::AlreadyThere);
        let denied = resp(500, &golden("salesforce/create-metadata-500-insufficient-access.xml"));
        assert_eq!(parse(&denied), Outcome::NoPermission);
        assert!(matches!(parse(&resp(0, b"")), Outcome::Failed(_)));
        let other = br#"<soapenv:Envelope><soapenv:Body><createMetadataResponse><result><errors><message>Invalid type</message><statusCode>FIELD_INTEGRITY_EXCEPTION</statusCode></errors><fullName>WhatsApp_Chat__c.Lead__c</fullName><success>false</success></result></createMetadataResponse></soapenv:Body></soapenv:Envelope>"#;
        assert_eq!(
            parse(&resp(200, other)),
            Outcome::Failed(
                "WhatsApp_Chat__c.Lead__c: FIELD_INTEGRITY_EXCEPTION Invalid type".into()
            )
        );
    }
}
