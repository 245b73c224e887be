//! "Create a contact or lead" from the panel, as decisions with no I/O: the record to send,
//! what the CRM's answer means (made, a duplicate it named, a duplicate it did not name and
//! must be found by the number, refused), and the card the chat shows afterwards. The worker
//! performs the calls.
use super::{Connector, CreateKind, Created, Failure, NewRecord};
use crate::core::http::{HttpRequest, HttpResponse};
use crate::core::model::{Crm, CrmRecord, RecordKind};

/// The form's fields as the CRM gets them: trimmed, empty optional fields left out.
pub fn new_record(first: &str, last: &str, phone: &str, email: &str, company: &str) -> NewRecord {
    let typed = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    NewRecord {
        name: format!("{} {}", first.trim(), last.trim()).trim().to_string(),
        phone: phone.trim().to_string(),
        email: typed(email),
        company: typed(company),
    }
}

/// The panel's kind name as the CRM call and the link name it.
pub fn kinds(kind: &str) -> (CreateKind, RecordKind) {
    match kind {
        "lead" => (CreateKind::Lead, RecordKind::Lead),
        _ => (CreateKind::Contact, RecordKind::Contact),
    }
}

/// What a create's answer leads to.
#[derive(Debug, PartialEq)]
pub enum Next {
    /// Link the chat to this record (new, or the duplicate the CRM named).
    Link(String),
    /// The CRM refused a duplicate without naming it: find it by the number with these
    /// searches, in order (the first record found is the one).
    Search(Vec<HttpRequest>),
    Failed(Failure),
}

pub fn after_create(conn: &dyn Connector, resp: &HttpResponse, new: &NewRecord) -> Next {
    match conn.parse_create(resp) {
        Ok(Created::New { id }) => Next::Link(id),
        Ok(Created::Duplicate { id }) if !id.is_empty() => Next::Link(id),
        Ok(Created::Duplicate { .. }) => {
            let variants = crate::core::phone::search_variants(&new.phone);
            Next::Search(conn.search_requests(&variants))
        }
        Err(f) => Next::Failed(f),
    }
}

/// The form field a refusal names, when it names one (e-mail duplicates, mandatory fields).
pub fn rejected_field(f: &Failure) -> Option<&'static str> {
    let Failure::Rejected { reason } = f else { return None };
    // CRMs name fields `Last_Name`, `LastName` or `last name`: compare without separators.
    let reason: String = reason.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect();
    ["phone", "email", "last_name", "company"]
        .into_iter()
        .find(|field| reason.contains(&field.replace('_', "")))
}

/// The card the chat shows for the record just made (until the next lookup reads it back).
pub fn card(crm: Crm, kind: RecordKind, id: String, new: &NewRecord) -> CrmRecord {
    CrmRecord {
        crm: Some(crm),
        kind: Some(kind),
        id,
        name: new.name.clone(),
        phones: vec![("Mobile".into(), new.phone.clone())],
        email: new.email.clone(),
        company: new.company.clone(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::auth::ZohoDc;
    use crate::crm::zoho::Zoho;

    fn zoho() -> Zoho {
        Zoho {
            dc: ZohoDc::Us,
            api_domain: "https://www.zohoapis.com".into(),
            access_token: "t".into(),
            org_domain: None,
            lead_sources: Default::default(),
        }
    }

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse { status, headers: vec![], body: body.as_bytes().to_vec() }
    }

    #[test]
    fn the_form_is_trimmed_and_empty_fields_left_out() {
        let n = new_record(" Ana ", "Souza ", " +5511987654321", "  ", "Construtora");
        assert_eq!(n.name, "Ana Souza");
        assert_eq!(n.phone, "+5511987654321");
        assert_eq!(n.email, None);
        assert_eq!(n.company.as_deref(), Some("Construtora"));
        assert_eq!(new_record("", "Souza", "", "", "").name, "Souza");
        assert_eq!(kinds("lead"), (CreateKind::Lead, RecordKind::Lead));
        assert_eq!(kinds("contact"), (CreateKind::Contact, RecordKind::Contact));
    }

    #[test]
    fn a_new_record_or_a_named_duplicate_is_linked() {
        let z = zoho();
        let n = new_record("Ana", "Souza", "+5511987654321", "", "");
        let made = r#"{"data":[{"code":"SUCCESS","details":{"id":"5843104000000999001"},"message":"record added","status":"success"}]}"#;
        assert_eq!(
            after_create(&z, &resp(201, made), &n),
            Next::Link("5843104000000999001".into())
        );
        let dup = r#"{"data":[{"code":"DUPLICATE_DATA","details":{"api_name":"Mobile","id":"5843104000000624001"},"message":"duplicate data","status":"error"}]}"#;
        assert_eq!(after_create(&z, &resp(202, dup), &n), Next::Link("5843104000000624001".into()));
    }

    #[test]
    fn an_unnamed_duplicate_is_searched_by_the_number_and_refusals_name_their_field() {
        // LeadSquared's duplicate answer names no record.
        let lsq = crate::crm::leadsquared::LeadSquared {
            access_key: "a".into(),
            secret_key: "s".into(),
            api_host: "api-in21.leadsquared.com".into(),
            app_host: "in21.leadsquared.com".into(),
            activity_event: None,
        };
        let n = new_record("Priya", "Sharma", "+919876543210", "", "");
        let dup = crate::crm::golden("leadsquared/duplicate-error.json");
        let dup = HttpResponse { status: 500, headers: vec![], body: dup };
        match after_create(&lsq, &dup, &n) {
            Next::Search(reqs) => {
                assert!(!reqs.is_empty());
                assert!(reqs.iter().all(|r| r.url.contains("9876543210")), "{reqs:?}");
            }
            other => panic!("expected a search, got {other:?}"),
        }
        let f = Failure::Rejected { reason: "INVALID_DATA: invalid data (Email)".into() };
        assert_eq!(rejected_field(&f), Some("email"));
        let f = Failure::Rejected { reason: "MANDATORY_NOT_FOUND: Last_Name".into() };
        assert_eq!(rejected_field(&f), Some("last_name"));
        assert_eq!(rejected_field(&Failure::AuthExpired), None);
    }
}
