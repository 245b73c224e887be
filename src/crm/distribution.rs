//! The distribution config: the product's own registered OAuth clients, set once at build time
//! (`build.sh` copies it into the extension as `distribution.json`), so a rep signs in with one
//! click and pastes nothing. Pure: the shell reads the file; this parses, validates and turns
//! it into the sign-in the rep asked for.
//!
//! Zoho: a **mobile-based** client (authorization code with PKCE, `access_type=offline`), the
//! type that gives a public client without a server a refresh token; the secret is sent only
//! when the config holds one (a server-based client needs one per data centre unless "same
//! credentials for all data centres" is on). Salesforce: an external client app's consumer key
//! with PKCE; its secret only when configured. Anything in this file ships inside the
//! extension, so nothing in it is secret from the people who install it.
use super::auth::ZohoDc;
use super::connect::OAuthStart;
use crate::core::model::Crm;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which kind of Zoho API console client the product registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ZohoClientType {
    /// Mobile-based: PKCE, no secret needed (the product's choice).
    #[default]
    Mobile,
    /// Server-based: the code exchange and every refresh need the client secret.
    Server,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZohoClient {
    pub client_id: String,
    #[serde(default)]
    pub client_type: ZohoClientType,
    /// One secret for every data centre ("use the same credentials for all DCs").
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Or a secret per data centre, by Zoho's location code (`us`, `eu`, `in`, `au`, `jp`,
    /// `ca`, `sa`, `uk`, `cn`).
    #[serde(default)]
    pub dc_secrets: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesforceClient {
    pub consumer_key: String,
    /// Only when the app requires it ("Require Secret for Web Server Flow").
    #[serde(default)]
    pub consumer_secret: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Distribution {
    /// What this build is ("store", "sandbox"); shown in the diagnostics.
    #[serde(default)]
    pub name: String,
    /// The extension ids the clients' redirects (`https://<id>.chromiumapp.org/`) are
    /// registered for: the id the Chrome Web Store assigned, and a development key's id.
    #[serde(default)]
    pub extension_ids: Vec<String>,
    #[serde(default)]
    pub zoho: Option<ZohoClient>,
    #[serde(default)]
    pub salesforce: Option<SalesforceClient>,
}

/// What the options page may know: which one-click sign-ins exist (never a secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Offer {
    pub name: String,
    pub zoho: bool,
    pub salesforce: bool,
    /// Why one-click sign-in cannot work in this copy (wrong extension id), if it cannot,
    /// as a message the page shows in the rep's language.
    pub problem: Option<crate::core::i18n::Sentence>,
}

/// Zoho's location code of a data centre, as the redirect's `location` spells it.
pub fn dc_code(dc: ZohoDc) -> String {
    dc.code()
}

fn extension_id_ok(id: &str) -> bool {
    // Chrome extension ids: 32 letters a–p (the hex digits of a key hash, shifted).
    id.len() == 32 && id.bytes().all(|b| (b'a'..=b'p').contains(&b))
}

/// The redirect Chrome gives `launchWebAuthFlow` for an extension id: what to register as
/// Zoho's "Authorized Redirect URI" and Salesforce's "Callback URL".
pub fn redirect_uri(extension_id: &str) -> String {
    format!("https://{extension_id}.chromiumapp.org/")
}

impl Distribution {
    /// Parse and check `distribution.json`. A config with no clients is valid (then only the
    /// Advanced paths exist).
    pub fn parse(text: &str) -> Result<Distribution, String> {
        let d: Distribution =
            serde_json::from_str(text).map_err(|e| format!("distribution config: {e}"))?;
        for id in &d.extension_ids {
            if !extension_id_ok(id) {
                return Err(format!(
                    "distribution config: {id:?} is not an extension id (32 letters a-p)"
                ));
            }
        }
        if let Some(z) = &d.zoho {
            if z.client_id.trim().is_empty() {
                return Err("distribution config: zoho.client_id is empty".into());
            }
            for k in z.dc_secrets.keys() {
                if !ZohoDc::ALL.iter().any(|dc| dc_code(*dc) == *k) {
                    return Err(format!("distribution config: {k:?} is not a Zoho data centre"));
                }
            }
            let has_secret = z.client_secret.as_deref().is_some_and(|s| !s.trim().is_empty())
                || !z.dc_secrets.is_empty();
            if z.client_type == ZohoClientType::Server && !has_secret {
                return Err("distribution config: a server-based Zoho client needs client_secret or dc_secrets".into());
            }
        }
        if let Some(s) = &d.salesforce {
            if s.consumer_key.trim().is_empty() {
                return Err("distribution config: salesforce.consumer_key is empty".into());
            }
        }
        Ok(d)
    }

    /// One-click sign-in works only where Chrome's redirect is the registered one: a copy
    /// running under another id would be refused by the CRM with a redirect mismatch.
    pub fn check_running_id(&self, running_id: &str) -> Result<(), crate::core::i18n::Sentence> {
        if self.extension_ids.is_empty() || self.extension_ids.iter().any(|i| i == running_id) {
            return Ok(());
        }
        let registered =
            self.extension_ids.iter().map(|i| redirect_uri(i)).collect::<Vec<_>>().join(", ");
        Err(crate::core::i18n::say(
            "distWrongExtension",
            vec![running_id.into(), registered.as_str().into()],
        ))
    }

    pub fn offer(&self, running_id: &str) -> Offer {
        Offer {
            name: self.name.clone(),
            zoho: self.zoho.is_some(),
            salesforce: self.salesforce.is_some(),
            problem: self.check_running_id(running_id).err(),
        }
    }

    /// The product's Zoho sign-in, starting at `dc`'s accounts server.
    pub fn zoho_start(&self, dc: ZohoDc) -> Option<OAuthStart> {
        let z = self.zoho.as_ref()?;
        Some(OAuthStart::Zoho {
            client_id: z.client_id.trim().to_string(),
            client_secret: z.client_secret.clone().unwrap_or_default(),
            dc_secrets: z.dc_secrets.clone(),
            dc: Some(dc),
            pkce: z.client_type == ZohoClientType::Mobile,
            product: true,
        })
    }

    /// The product's Salesforce sign-in at a login host (production, sandbox or My Domain).
    pub fn salesforce_start(&self, login_host: &str) -> Option<OAuthStart> {
        let s = self.salesforce.as_ref()?;
        Some(OAuthStart::Salesforce {
            login_host: login_host.trim().to_string(),
            client_id: s.consumer_key.trim().to_string(),
            client_secret: s.consumer_secret.clone().filter(|c| !c.trim().is_empty()),
            product: true,
        })
    }

    pub fn has(&self, crm: Crm) -> bool {
        match crm {
            Crm::Zoho => self.zoho.is_some(),
            Crm::Salesforce => self.salesforce.is_some(),
            Crm::Leadsquared => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SANDBOX: &str = include_str!("../../tests/crm-sandbox/distribution.json");

    #[test]
    fn the_sandbox_config_parses_and_builds_product_sign_ins() {
        let d = Distribution::parse(SANDBOX).unwrap();
        assert_eq!(d.name, "sandbox");
        let Some(OAuthStart::Zoho { pkce, product, dc, client_secret, .. }) =
            d.zoho_start(ZohoDc::Eu)
        else {
            panic!("no zoho client")
        };
        assert!(pkce && product && client_secret.is_empty());
        assert_eq!(dc, Some(ZohoDc::Eu));
        let Some(OAuthStart::Salesforce { client_secret, product, .. }) =
            d.salesforce_start("test.salesforce.com")
        else {
            panic!("no salesforce client")
        };
        assert!(product && client_secret.is_none());
        assert!(!d.has(Crm::Leadsquared));
    }

    /// The code exchange's form body for a redirect back from sign-in.
    fn exchange_body(start: &OAuthStart, redirect: &str) -> (String, String) {
        let uri = "https://hakbalgbponhdnhgobhoocnjcnlojfie.chromiumapp.org/";
        let (req, _) = start.exchange(redirect, "st", uri, "VER").unwrap();
        (req.url, String::from_utf8(req.body.unwrap()).unwrap())
    }

    #[test]
    fn a_server_based_zoho_client_sends_the_secret_of_the_data_centre_the_redirect_names() {
        // Multi-DC without "same credentials for all DCs": Europe and China have their own
        // secrets, the other data centres share client_secret.
        let d = Distribution::parse(
            r#"{"name":"store","zoho":{"client_id":"1000.SERVER","client_type":"server",
                "client_secret":"shared-secret","dc_secrets":{"eu":"eu-secret","cn":"cn-secret"}}}"#,
        )
        .unwrap();
        let back = |server: &str| {
            format!("https://x.chromiumapp.org/?code=1000.c&accounts-server={server}&state=st")
        };
        for (start_dc, server, token_url, secret) in [
            (
                ZohoDc::Eu,
                "https%3A%2F%2Faccounts.zoho.eu",
                "https://accounts.zoho.eu/oauth/v2/token",
                "eu-secret",
            ),
            (
                ZohoDc::Cn,
                "https%3A%2F%2Faccounts.zoho.com.cn",
                "https://accounts.zoho.com.cn/oauth/v2/token",
                "cn-secret",
            ),
            // Started in Europe, the account lives in India: India's (the shared) secret.
            (
                ZohoDc::Eu,
                "https%3A%2F%2Faccounts.zoho.in",
                "https://accounts.zoho.in/oauth/v2/token",
                "shared-secret",
            ),
            (
                ZohoDc::Us,
                "https%3A%2F%2Faccounts.zoho.com",
                "https://accounts.zoho.com/oauth/v2/token",
                "shared-secret",
            ),
        ] {
            let start = d.zoho_start(start_dc).unwrap();
            let OAuthStart::Zoho { pkce, product, .. } = &start else { panic!("not zoho") };
            assert!(!pkce && *product, "a server-based client signs in without PKCE");
            let (url, body) = exchange_body(&start, &back(server));
            assert_eq!(url, token_url);
            let sent: Vec<_> =
                body.split('&').filter(|p| p.starts_with("client_secret=")).collect();
            assert_eq!(sent, [format!("client_secret={secret}")], "{server}: {body}");
            assert!(body.contains("client_id=1000.SERVER") && !body.contains("code_verifier"));
        }
        // Only per-DC secrets: a data centre without one is refused before any call, naming
        // who must add it.
        let only_eu = Distribution::parse(
            r#"{"zoho":{"client_id":"1000.SERVER","client_type":"server","dc_secrets":{"eu":"eu-secret"}}}"#,
        )
        .unwrap();
        let start = only_eu.zoho_start(ZohoDc::Eu).unwrap();
        assert!(exchange_body(&start, &back("https%3A%2F%2Faccounts.zoho.eu"))
            .1
            .contains("client_secret=eu-secret"));
        let uri = "https://x.chromiumapp.org/";
        let e = start
            .exchange(&back("https%3A%2F%2Faccounts.zoho.com.cn"), "st", uri, "V")
            .unwrap_err()
            .english();
        assert!(e.contains("China") && e.contains("crmsync's publisher"), "{e}");
    }

    #[test]
    fn the_salesforce_consumer_secret_is_sent_in_the_code_exchange_only_when_configured() {
        let back = "https://x.chromiumapp.org/?code=aPrx1&state=st";
        for (config, secret) in [
            (
                r#"{"salesforce":{"consumer_key":"store-key","consumer_secret":"store-secret"}}"#,
                Some("store-secret"),
            ),
            (r#"{"salesforce":{"consumer_key":"store-key"}}"#, None),
            // An empty secret in the file is no secret.
            (r#"{"salesforce":{"consumer_key":"store-key","consumer_secret":" "}}"#, None),
        ] {
            let d = Distribution::parse(config).unwrap();
            let start = d.salesforce_start("login.salesforce.com").unwrap();
            let (url, body) = exchange_body(&start, back);
            assert_eq!(url, "https://login.salesforce.com/services/oauth2/token");
            // PKCE always, the secret besides it when the app requires one.
            assert!(body.contains("code_verifier=VER") && body.contains("client_id=store-key"));
            match secret {
                Some(s) => assert!(body.contains(&format!("client_secret={s}")), "{body}"),
                None => assert!(!body.contains("client_secret"), "{config}: {body}"),
            }
        }
    }

    #[test]
    fn bad_configs_are_refused_with_the_reason() {
        for (text, why) in [
            (r#"{"extension_ids":["short"]}"#, "not an extension id"),
            (r#"{"zoho":{"client_id":" "}}"#, "client_id is empty"),
            (r#"{"zoho":{"client_id":"1000.X","client_type":"server"}}"#, "needs client_secret"),
            (
                r#"{"zoho":{"client_id":"1000.X","dc_secrets":{"mars":"s"}}}"#,
                "not a Zoho data centre",
            ),
            (r#"{"salesforce":{"consumer_key":""}}"#, "consumer_key is empty"),
            ("{", "distribution config"),
        ] {
            let e = Distribution::parse(text).unwrap_err();
            assert!(e.contains(why), "{text}: {e}");
        }
        assert!(Distribution::parse("{}").unwrap().zoho_start(ZohoDc::Us).is_none());
    }

    #[test]
    fn a_copy_under_another_id_is_told_why_one_click_sign_in_fails() {
        let d = Distribution {
            extension_ids: vec!["hakbalgbponhdnhgobhoocnjcnlojfie".into()],
            ..Distribution::default()
        };
        assert!(d.check_running_id("hakbalgbponhdnhgobhoocnjcnlojfie").is_ok());
        let e = d.check_running_id("aaaabbbbccccddddeeeeffffgggghhhh").unwrap_err().english();
        assert!(e.contains("https://hakbalgbponhdnhgobhoocnjcnlojfie.chromiumapp.org/"), "{e}");
        assert!(e.starts_with("This copy of crmsync runs as extension aaaabbbb"), "{e}");
        assert!(d.offer("aaaabbbbccccddddeeeeffffgggghhhh").problem.is_some());
        assert_eq!(redirect_uri("x"), "https://x.chromiumapp.org/");
    }
}
