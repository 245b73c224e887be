//! Which hosts may receive credentials, tokens and CRM data. Every check runs on a parsed URL
//! (the `url` crate, WHATWG parsing as browsers do), never on the raw string: a string test
//! such as `ends_with(".leadsquared.com")` accepts `https://attacker.example/.leadsquared.com`.
//!
//! - Salesforce login: `login.salesforce.com`, `test.salesforce.com`, or `<org>.my.salesforce.com`.
//! - Salesforce `instance_url` (from token answers): https on `*.salesforce.com` or `*.force.com`.
//! - Zoho `api_domain` (from token answers): one of the data centres' API hosts.
//! - LeadSquared region hosts (from discovery): `^[a-z0-9-]+\.leadsquared\.com$`.
use super::auth::ZohoDc;
use url::{Host, Url};

/// An https URL with a domain host, no credentials and the default port; its host, lower-cased.
pub(crate) fn https_host(input: &str) -> Result<String, String> {
    let u = Url::parse(input.trim()).map_err(|e| format!("not a URL ({e})"))?;
    if u.scheme() != "https" {
        return Err(format!("{} is not https", u.scheme()));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("a URL with a user name or password".into());
    }
    if u.port().is_some() {
        return Err("a URL with a port".into());
    }
    match u.host() {
        Some(Host::Domain(d)) => Ok(d.trim_end_matches('.').to_ascii_lowercase()),
        Some(_) => Err("an IP address instead of a host name".into()),
        None => Err("no host".into()),
    }
}

/// The host as typed (`acme.my.salesforce.com`, `https://acme.my.salesforce.com/`), parsed as
/// the origin of an https URL. Paths, queries and fragments are refused: a login host is a host.
fn typed_host(input: &str) -> Result<String, String> {
    let t = input.trim();
    let with_scheme = if t.contains("://") { t.to_string() } else { format!("https://{t}") };
    let u = Url::parse(&with_scheme).map_err(|e| format!("not a host name ({e})"))?;
    if u.path() != "/" || u.query().is_some() || u.fragment().is_some() {
        return Err("a host name only, without a path".into());
    }
    https_host(&with_scheme)
}

/// One DNS label of letters, digits and hyphens (no dots, not empty).
fn label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// `host` is `<labels>.<suffix>` with at least one label before the suffix.
fn under(host: &str, suffix: &str) -> bool {
    host.strip_suffix(suffix)
        .and_then(|p| p.strip_suffix('.'))
        .is_some_and(|p| p.split('.').all(label))
}

/// A Salesforce login host the rep may connect through: the normalised host name.
pub fn salesforce_login_host(input: &str) -> Result<String, String> {
    let t = input.trim();
    if t.is_empty() {
        return Ok("login.salesforce.com".into());
    }
    // A My Domain name alone ("acme") means acme.my.salesforce.com.
    let typed = if label(t) { format!("{t}.my.salesforce.com") } else { t.to_string() };
    let host = typed_host(&typed)?;
    let ok = host == "login.salesforce.com"
        || host == "test.salesforce.com"
        || host.strip_suffix(".my.salesforce.com").is_some_and(|p| p.split('.').all(label));
    if ok {
        Ok(host)
    } else {
        Err(format!("{host} is not a Salesforce login host (login.salesforce.com, test.salesforce.com or <org>.my.salesforce.com)"))
    }
}

/// A Salesforce `instance_url` from a token answer: https on `*.salesforce.com` or `*.force.com`.
pub fn salesforce_instance(input: &str) -> Result<String, String> {
    let host = https_host(input)?;
    if under(&host, "salesforce.com") || under(&host, "force.com") {
        Ok(format!("https://{host}"))
    } else {
        Err(format!("{host} is not a Salesforce instance host"))
    }
}

/// A Zoho `api_domain` from a token answer: one of the data centres' API hosts.
pub fn zoho_api_domain(input: &str) -> Result<String, String> {
    let host = https_host(input)?;
    let base = format!("https://{host}");
    if ZohoDc::ALL.iter().any(|dc| dc.api_domain() == base) {
        Ok(base)
    } else {
        Err(format!("{host} is not a Zoho CRM API host"))
    }
}

/// A Zoho `accounts-server` from the sign-in redirect: an https origin (no path, port or
/// credentials) that is one of the data centres' accounts servers. The code, and with a
/// server-based client the secret, go there: a tampered redirect must not pick the host.
pub fn zoho_accounts_server(input: &str) -> Result<ZohoDc, String> {
    let u = Url::parse(input.trim()).map_err(|e| format!("not a URL ({e})"))?;
    if u.path() != "/" || u.query().is_some() || u.fragment().is_some() {
        return Err("an accounts server is an origin, without a path".into());
    }
    let host = https_host(input)?;
    let base = format!("https://{host}");
    ZohoDc::ALL
        .into_iter()
        .find(|dc| dc.accounts() == base)
        .ok_or_else(|| format!("{host} is not a Zoho accounts server"))
}

/// A LeadSquared region host (`api-in21.leadsquared.com`) as discovery names it (bare or with
/// https://): `^[a-z0-9-]+\.leadsquared\.com$`.
pub fn leadsquared_host(input: &str) -> Result<String, String> {
    let host = typed_host(input)?;
    match host.strip_suffix(".leadsquared.com") {
        Some(p)
            if !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
        {
            Ok(host)
        }
        _ => Err(format!("{host} is not a LeadSquared host")),
    }
}

/// A Zoho API or accounts host, in any data centre.
pub fn zoho_serves(host: &str) -> bool {
    let api = [
        "zohoapis.com",
        "zohoapis.eu",
        "zohoapis.in",
        "zohoapis.com.au",
        "zohoapis.jp",
        "zohoapis.ca",
        "zohoapis.sa",
        "zohoapis.uk",
        "zohoapis.com.cn",
    ]
    .iter()
    .any(|s| under(host, s));
    api || ZohoDc::ALL.iter().any(|dc| dc.accounts() == format!("https://{host}"))
}

/// A Salesforce login, My Domain or instance host.
pub fn salesforce_serves(host: &str) -> bool {
    under(host, "salesforce.com") || under(host, "force.com")
}

/// A LeadSquared region host.
pub fn leadsquared_serves(host: &str) -> bool {
    leadsquared_host(host).is_ok()
}

/// A LeadSquared API host comes from its own discovery call, not a token answer.
pub fn any_api_base(input: &str) -> Result<String, String> {
    Ok(input.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoho_accounts_servers_on_parsed_urls() {
        assert_eq!(zoho_accounts_server("https://accounts.zoho.eu"), Ok(ZohoDc::Eu));
        assert_eq!(zoho_accounts_server("https://ACCOUNTS.zoho.com.cn/"), Ok(ZohoDc::Cn));
        assert_eq!(zoho_accounts_server("https://accounts.zohocloud.ca"), Ok(ZohoDc::Ca));
        for bad in [
            "https://accounts.zoho.eu.attacker.example",
            "https://accounts.zoho.eu@attacker.example",
            "https://attacker.example/https://accounts.zoho.eu",
            "http://accounts.zoho.eu",
            "https://accounts.zoho.eu:444",
            "https://accounts.zoho.eu/oauth/v2/token",
            "https://accounts.zoho.ae",
            "accounts.zoho.eu",
        ] {
            assert!(zoho_accounts_server(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn salesforce_login_hosts() {
        for ok in [
            "login.salesforce.com",
            "test.salesforce.com",
            "https://login.salesforce.com/",
            "acme.my.salesforce.com",
            "https://acme--dev.sandbox.my.salesforce.com",
            "acme",
            "",
            "LOGIN.Salesforce.com",
        ] {
            assert!(salesforce_login_host(ok).is_ok(), "{ok}");
        }
        assert_eq!(salesforce_login_host("acme").as_deref(), Ok("acme.my.salesforce.com"));
        assert_eq!(
            salesforce_login_host("https://LOGIN.salesforce.com").as_deref(),
            Ok("login.salesforce.com")
        );
        // The phishing shapes: any dotted host, look-alikes, paths and credentials.
        for bad in [
            "login.salesforce.com.attacker.example",
            "attacker.example",
            "attacker.example/.my.salesforce.com",
            "https://attacker.example/login.salesforce.com",
            "login.salesforce.com@attacker.example",
            "https://user:pw@login.salesforce.com",
            "http://login.salesforce.com",
            "login.salesforce.com:8443",
            "my.salesforce.com",
            "acme.salesforce.com",
            "evil.force.com",
            "login-salesforce.com",
            "127.0.0.1",
            "acme.my.salesforce.com/services/oauth2/token?x=1",
        ] {
            assert!(salesforce_login_host(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn salesforce_instance_urls() {
        for ok in [
            "https://acme.my.salesforce.com",
            "https://na123.salesforce.com/",
            "https://crmsync-dev.lightning.force.com",
        ] {
            assert!(salesforce_instance(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            salesforce_instance("https://ACME.my.salesforce.com/").as_deref(),
            Ok("https://acme.my.salesforce.com")
        );
        for bad in [
            "http://acme.my.salesforce.com",
            "https://attacker.example",
            "https://salesforce.com.attacker.example",
            "https://attacker.example/.salesforce.com",
            "https://acme.salesforce.com@attacker.example",
            "https://acme.salesforce.com:444",
            "https://1.2.3.4",
            "acme.my.salesforce.com",
            "https://notforce.com",
        ] {
            assert!(salesforce_instance(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn zoho_api_domains() {
        assert_eq!(
            zoho_api_domain("https://www.zohoapis.eu").as_deref(),
            Ok("https://www.zohoapis.eu")
        );
        assert_eq!(
            zoho_api_domain("https://www.zohoapis.com.cn/").as_deref(),
            Ok("https://www.zohoapis.com.cn")
        );
        for bad in [
            "https://www.zohoapis.com.attacker.example",
            "https://attacker.example",
            "http://www.zohoapis.com",
            "https://www.zohoapis.com@attacker.example",
            "https://evil.zohoapis.com",
            "https://www.zohoapis.com:8443",
            "www.zohoapis.com",
        ] {
            assert!(zoho_api_domain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn leadsquared_hosts() {
        for ok in [
            "api-in21.leadsquared.com",
            "in21.leadsquared.com",
            "https://api.leadsquared.com/",
            "API-US11.leadsquared.com",
        ] {
            assert!(leadsquared_host(ok).is_ok(), "{ok}");
        }
        for bad in [
            "attacker.example/.leadsquared.com",
            "https://attacker.example/.leadsquared.com",
            "leadsquared.com",
            "a.b.leadsquared.com",
            "x.leadsquared.com.attacker.example",
            "x.leadsquared.com@attacker.example",
            "x.leadsquared.com:444",
            "x_y.leadsquared.com",
            "http://api.leadsquared.com",
            "x.leadsquared.com?.leadsquared.com",
        ] {
            assert!(leadsquared_host(bad).is_err(), "{bad}");
        }
    }
}
