//! A self-signed certificate covering every host the sandbox answers for, kept in DIR.
use axum_server::tls_rustls::RustlsConfig;
use std::path::Path;

/// Every host name the sandbox serves. Wildcards cover data centres and instances.
pub const HOSTS: &[&str] = &[
    "web.whatsapp.com",
    "accounts.zoho.com",
    "accounts.zoho.eu",
    "accounts.zoho.in",
    "accounts.zoho.com.au",
    "accounts.zoho.jp",
    "accounts.zohocloud.ca",
    "accounts.zoho.sa",
    "accounts.zoho.uk",
    "accounts.zoho.com.cn",
    "www.zohoapis.com",
    "www.zohoapis.eu",
    "www.zohoapis.in",
    "www.zohoapis.com.au",
    "www.zohoapis.jp",
    "www.zohoapis.ca",
    "www.zohoapis.sa",
    "www.zohoapis.uk",
    "www.zohoapis.com.cn",
    "crm.zoho.com",
    "crm.zoho.eu",
    "crm.zoho.in",
    "crm.zoho.com.au",
    "crm.zoho.jp",
    "crm.zohocloud.ca",
    "crm.zoho.sa",
    "crm.zoho.uk",
    "crm.zoho.com.cn",
    "login.salesforce.com",
    "test.salesforce.com",
    "*.my.salesforce.com",
    "*.lightning.force.com",
    "*.sandbox.my.salesforce.com",
    "api.leadsquared.com",
    "*.leadsquared.com",
    "localhost",
];

pub async fn load_or_create(dir: &Path) -> Result<RustlsConfig, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cert_path = dir.join("sandbox-cert.pem");
    let key_path = dir.join("sandbox-key.pem");
    if !cert_path.exists() || !key_path.exists() {
        let names: Vec<String> = HOSTS.iter().map(|s| s.to_string()).collect();
        let ck =
            rcgen::generate_simple_self_signed(names).map_err(|e| format!("certificate: {e}"))?;
        std::fs::write(&cert_path, ck.cert.pem())
            .map_err(|e| format!("{}: {e}", cert_path.display()))?;
        std::fs::write(&key_path, ck.key_pair.serialize_pem())
            .map_err(|e| format!("{}: {e}", key_path.display()))?;
    }
    RustlsConfig::from_pem_file(&cert_path, &key_path)
        .await
        .map_err(|e| format!("loading certificate: {e}"))
}
