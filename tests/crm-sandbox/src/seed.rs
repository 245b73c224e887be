//! `--seed demo`: documented credentials and records (listed in tests/crm-sandbox/README.md).
//! Idempotent: seeding an existing DIR again changes nothing.
use crate::db::Db;
use serde_json::json;

pub const ZOHO_CLIENT_ID: &str = "1000.SANDBOXCLIENT";
pub const ZOHO_CLIENT_SECRET: &str = "sandbox-secret";
pub const ZOHO_REFRESH: &str = "1000.sandbox.refresh";
/// The product's own Zoho client (tests/crm-sandbox/distribution.json): mobile-based, PKCE,
/// no secret.
pub const ZOHO_PRODUCT_CLIENT_ID: &str = "1000.SANDBOXMOBILE";
/// The product's external client app: PKCE, no secret required.
pub const SF_PRODUCT_CLIENT_ID: &str = "sandbox-eca-key";
pub const SF_CLIENT_ID: &str = "sandbox-consumer-key";
pub const SF_CLIENT_SECRET: &str = "sandbox-consumer-secret";
pub const SF_REFRESH: &str = "sandbox-sf-refresh";
pub const SF_INSTANCE: &str = "crmsync-dev.my.salesforce.com";
pub const LSQ_ACCESS: &str = "u$sandbox-access";
pub const LSQ_SECRET: &str = "sandbox-secret-key";
pub const LSQ_API_HOST: &str = "api-in21.leadsquared.com";
pub const ZOHO_ORG: &str = "org20079892132";

pub fn demo(db: &Db) {
    if db.kv_get("seeded").is_some() {
        return;
    }
    db.issue_token("zoho", "refresh", ZOHO_REFRESH, None);
    db.issue_token("salesforce", "refresh", SF_REFRESH, None);
    let owner =
        json!({"name": "Rita Rep", "id": "5843104000000411001", "email": "rita@crmsync.example"});
    let zc = |id: &str,
              first: &str,
              last: &str,
              phones: serde_json::Value,
              extra: serde_json::Value| {
        let mut r = json!({"id": id, "First_Name": first, "Last_Name": last, "Full_Name": format!("{first} {last}"), "Owner": owner,
            "Created_Time": "2026-01-10T10:00:00+00:00", "Modified_Time": "2026-11-01T10:00:00+00:00"});
        for (k, v) in
            phones.as_object().into_iter().flatten().chain(extra.as_object().into_iter().flatten())
        {
            r[k] = v.clone();
        }
        r
    };
    db.put("zoho", "Contacts", "5843104000000624001", &zc("5843104000000624001", "Ana", "Souza",
        json!({"Mobile": "(11) 98765-4321", "Phone": "(11) 3456-7890"}),
        json!({"Email": "ana.souza@example.com.br", "Title": "Gerente de Compras", "Account_Name": {"name": "Construtora Paulista", "id": "5843104000000500001"}})));
    // Quirk records: a Mexican contact stored without the mobile 1, an Argentine one without the 9.
    db.put("zoho", "Contacts", "5843104000000624002", &zc("5843104000000624002", "Diego", "Hernández",
        json!({"Mobile": "+52 55 1234 5678"}), json!({"Email": "diego@example.mx", "Account_Name": {"name": "Logística MX", "id": "5843104000000500002"}})));
    db.put(
        "zoho",
        "Contacts",
        "5843104000000624003",
        &zc(
            "5843104000000624003",
            "Sofía",
            "Gómez",
            json!({"Phone": "+54 11 2345-6789"}),
            json!({"Email": "sofia@example.com.ar"}),
        ),
    );
    db.put("zoho", "Leads", "5843104000000700001", &zc("5843104000000700001", "Bruno", "Lima",
        json!({"Mobile": "+55 21 8765-4321"}), json!({"Company": "Lima Reformas", "Lead_Status": "Contacted", "Email": "bruno@example.com.br"})));
    const STAGES: [&str; 7] = [
        "Qualification",
        "Needs Analysis",
        "Proposal/Price Quote",
        "Negotiation/Review",
        "Closed Won",
        "Closed Lost",
        "Qualification",
    ];
    for i in 0..7u32 {
        let id = format!("584310400000080000{i}");
        let stage = STAGES[i as usize];
        db.put("zoho", "Deals", &id, &json!({"id": id, "Deal_Name": format!("Reforma escritório fase {}", i + 1), "Stage": stage,
            "Amount": 15000 + 2500 * i, "Closing_Date": format!("2026-12-{:02}", 1 + i), "Contact_Name": {"name": "Ana Souza", "id": "5843104000000624001"},
            "Modified_Time": format!("2026-11-{:02}T09:00:00+00:00", 10 + i), "Created_Time": "2026-06-01T09:00:00+00:00"}));
    }
    let sf = |id: &str, kind: &str, v: serde_json::Value| {
        let mut r = v;
        r["Id"] = json!(id);
        r["attributes"] =
            json!({"type": kind, "url": format!("/services/data/v60.0/sobjects/{kind}/{id}")});
        db.put("salesforce", kind, id, &r);
    };
    sf(
        "003RO0000035WQgYAM",
        "Contact",
        json!({"FirstName": "Liam", "LastName": "Carter", "Name": "Liam Carter", "Phone": "+1 (415) 555-2671", "Email": "liam.carter@example.com", "Title": "VP Operations", "Account": {"Name": "Carter Logistics"}, "Owner": {"Name": "Rita Rep"}}),
    );
    sf(
        "00QRO000001aBcDEF0",
        "Lead",
        json!({"FirstName": "Noah", "LastName": "Miller", "Name": "Noah Miller", "MobilePhone": "(212) 555-0147", "Company": "Miller & Sons", "Status": "Open - Not Contacted", "Email": "noah@example.com"}),
    );
    sf(
        "003RO0000035WQhYAM",
        "Contact",
        json!({"FirstName": "Lucía", "LastName": "Ramos", "Name": "Lucía Ramos", "MobilePhone": "+52 1 55 8765 4321", "Email": "lucia@example.mx"}),
    );
    for (i, (name, stage, amount)) in [
        ("Fleet tracking rollout", "Proposal/Price Quote", 84000.0),
        ("Warehouse sensors", "Prospecting", 12500.0),
    ]
    .iter()
    .enumerate()
    {
        let id = format!("006RO00000{i}AbCdEF");
        // Opportunity.ContactId is only the primary contact given at creation (left empty
        // here, as for opportunities made from an account); the contact roles tie them.
        sf(
            &id,
            "Opportunity",
            json!({"Name": name, "StageName": stage, "Amount": amount, "CloseDate": format!("2027-0{}-15", i + 2),
            "LastModifiedDate": format!("2026-11-{:02}T09:00:00.000+0000", 10 + i)}),
        );
        sf(
            &format!("00KRO00000{i}AbCdEF"),
            "OpportunityContactRole",
            json!({"ContactId": "003RO0000035WQgYAM", "OpportunityId": id, "IsPrimary": i == 0, "Role": "Decision Maker"}),
        );
    }
    let lsq_lead = json!({"ProspectID": "3131ea6a-bb20-4457-b183-ddf6d8716dfe", "FirstName": "Priya", "LastName": "Sharma", "EmailAddress": "priya.sharma@example.in",
        "Phone": "+91-9876543210", "Mobile": "", "Company": "Sharma Textiles", "ProspectStage": "Prospect", "OwnerIdName": "Rita Rep", "Source": "Website", "LeadLastModifiedOn": "2026-11-01 10:00:00"});
    db.put("leadsquared", "leads", "3131ea6a-bb20-4457-b183-ddf6d8716dfe", &lsq_lead);
    db.put("leadsquared", "opportunities", "7f1b8a3e-5c2d-4e6f-9a0b-1c2d3e4f5a6b", &json!({"OpportunityId": "7f1b8a3e-5c2d-4e6f-9a0b-1c2d3e4f5a6b",
        "RelatedProspectId": "3131ea6a-bb20-4457-b183-ddf6d8716dfe", "OpportunityName": "Bulk cotton order Q1", "Stage": "Negotiation", "Amount": 480000, "ExpectedClosureDate": "2027-01-15", "OpportunityEvent": "12000"}));
    db.kv_set("seeded", "demo");
}
