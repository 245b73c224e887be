//! The CRMs crmsync connects to, in one place: what the rest of the product asks of a CRM by
//! its [`Crm`] value. A new CRM adds its folder (connector, writer, descriptor), a `Crm`
//! variant and its arm in [`of`] (the compiler finds every other `match` that needs one).
use crate::core::model::Crm;

pub use super::descriptor::Descriptor;

pub fn of(crm: Crm) -> &'static Descriptor {
    match crm {
        Crm::Zoho => &super::zoho::DESCRIPTOR,
        Crm::Salesforce => &super::salesforce::DESCRIPTOR,
        Crm::Leadsquared => &super::leadsquared::DESCRIPTOR,
    }
}

pub static ALL: [&Descriptor; 3] =
    [&super::zoho::DESCRIPTOR, &super::salesforce::DESCRIPTOR, &super::leadsquared::DESCRIPTOR];

/// A token answer's API host, checked for its CRM (an empty one stays empty: the caller
/// refuses it). Zoho `api_domain` and Salesforce `instance_url` come back normalised.
pub fn checked_tokens(
    crm: crate::core::model::Crm,
    mut t: super::auth::Tokens,
) -> Result<super::auth::Tokens, super::Failure> {
    if t.api_base.is_empty() {
        return Ok(t);
    }
    let checked = (of(crm).checked_api_base)(&t.api_base);
    t.api_base = checked.map_err(|reason| super::Failure::Rejected {
        reason: format!("the token answer names an unexpected API host: {reason}"),
    })?;
    Ok(t)
}

/// Every request the worker sends goes to a CRM host (defence in depth under the checks above).
pub fn request_allowed(url: &str) -> bool {
    let Ok(host) = super::hosts::https_host(url) else { return false };
    ALL.iter().any(|d| (d.serves)(&host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_crm_is_listed_once_under_its_own_value() {
        for crm in [Crm::Zoho, Crm::Salesforce, Crm::Leadsquared] {
            assert_eq!(of(crm).crm, crm);
            assert_eq!(ALL.iter().filter(|d| d.crm == crm).count(), 1);
        }
    }

    #[test]
    fn each_advanced_form_fills_its_crms_credentials_and_own_app_sign_in() {
        use crate::core::ui::FieldKind;
        for d in ALL {
            let filled = |sign_in_only: bool, optional_empty: bool| {
                let mut o = serde_json::Map::new();
                o.insert("crm".into(), serde_json::to_value(d.crm).unwrap());
                for f in d.credential_fields.iter().filter(|f| !sign_in_only || f.sign_in) {
                    let v = match f.kind {
                        FieldKind::DataCentre => serde_json::json!("Eu"),
                        FieldKind::OptionalSecret if optional_empty => serde_json::Value::Null,
                        _ => serde_json::json!(format!("typed {}", f.name)),
                    };
                    o.insert(f.name.into(), v);
                }
                serde_json::Value::Object(o)
            };
            for optional_empty in [false, true] {
                let c: crate::crm::credentials::Credentials =
                    serde_json::from_value(filled(false, optional_empty))
                        .unwrap_or_else(|e| panic!("{:?}: {e}", d.crm));
                assert_eq!(c.crm(), d.crm);
            }
            let controls: Vec<&str> = d.credential_fields.iter().map(|f| f.control).collect();
            let mut unique = controls.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), controls.len(), "{:?}: a control id twice", d.crm);
            if d.own_app_sign_in {
                let start: crate::crm::connect::OAuthStart =
                    serde_json::from_value(filled(true, false))
                        .unwrap_or_else(|e| panic!("{:?}: {e}", d.crm));
                assert!(format!("{start:?}").contains("typed client_id"), "{start:?}");
            }
        }
    }

    #[test]
    fn hosts_belong_to_their_crm_only() {
        let cases = [
            ("www.zohoapis.eu", Crm::Zoho),
            ("accounts.zoho.com", Crm::Zoho),
            ("acme.my.salesforce.com", Crm::Salesforce),
            ("login.salesforce.com", Crm::Salesforce),
            ("api-in21.leadsquared.com", Crm::Leadsquared),
        ];
        for (host, crm) in cases {
            let serving: Vec<Crm> =
                ALL.iter().filter(|d| (d.serves)(host)).map(|d| d.crm).collect();
            assert_eq!(serving, [crm], "{host}");
        }
        assert!(!ALL.iter().any(|d| (d.serves)("zohoapis.com.evil.example")));
    }

    #[test]
    fn token_answers_with_foreign_hosts_are_refused() {
        let t = |base: &str| crate::crm::auth::Tokens {
            access_token: "a".into(),
            refresh_token: None,
            expires_at_ms: 0,
            api_base: base.into(),
        };
        assert!(checked_tokens(Crm::Zoho, t("https://www.zohoapis.eu")).is_ok());
        assert!(checked_tokens(Crm::Zoho, t("https://attacker.example")).is_err());
        assert!(checked_tokens(Crm::Salesforce, t("https://acme.my.salesforce.com")).is_ok());
        assert!(checked_tokens(Crm::Salesforce, t("https://attacker.example/.force.com")).is_err());
    }

    #[test]
    fn worker_requests_go_to_crm_hosts_only() {
        for ok in [
            "https://www.zohoapis.com/crm/v8/org",
            "https://accounts.zoho.eu/oauth/v2/token",
            "https://login.salesforce.com/services/oauth2/token",
            "https://crmsync-dev.my.salesforce.com/services/data",
            "https://api-in21.leadsquared.com/v2/x",
        ] {
            assert!(request_allowed(ok), "{ok}");
        }
        for bad in [
            "https://attacker.example/.leadsquared.com/v2",
            "http://www.zohoapis.com/crm",
            "https://accounts.zoho.com.attacker.example/",
            "https://evil.example/x?https://www.zohoapis.com",
        ] {
            assert!(!request_allowed(bad), "{bad}");
        }
    }
}
