#![no_main]
// Any token or discovery answer while connecting or refreshing: a connection, a refreshed
// session or a Failure; never a panic, and an expiry that never wraps to the past.
use crmsync::crm::auth::{self, ZohoDc};
use crmsync::crm::connect::{Connection, Credentials};
use libfuzzer_sys::fuzz_target;

mod resp;

const NOW: u64 = 1_795_000_000_000;

fuzz_target!(|data: &[u8]| {
    let r = resp::response(data);
    if let Ok(t) = auth::parse_token(&r, NOW, &["invalid_code", "invalid_grant"], 3_600_000) {
        assert!(t.expires_at_ms >= NOW, "token expiry before now: {}", t.expires_at_ms);
    }
    let creds = [
        Credentials::Zoho {
            dc: ZohoDc::Eu,
            client_id: "1000.X".into(),
            client_secret: "s".into(),
            refresh_token: "1000.r".into(),
        },
        Credentials::Salesforce {
            login_host: "login.salesforce.com".into(),
            client_id: "k".into(),
            client_secret: None,
            refresh_token: "r".into(),
        },
        Credentials::Leadsquared { access_key: "u$k".into(), secret_key: "s".into() },
    ];
    for c in creds {
        let ok = resp::response(b"\x00\x01{\"access_token\":\"a\",\"api_domain\":\"https://www.zohoapis.eu\",\"instance_url\":\"https://x.my.salesforce.com\",\"LSQCommonServiceURLs\":{\"api\":\"api-in21.leadsquared.com\",\"app\":\"in21.leadsquared.com\"}}");
        let _ = Connection::establish(c.clone(), &r, NOW);
        if let Ok(mut conn) = Connection::establish(c, &ok, NOW) {
            let _ = conn.absorb_refresh(&r, NOW + 1);
            let _ = conn.writer(NOW + 2);
            let _ = conn.connector(NOW + 2);
        }
    }
});
