//! Snapshot tests of the options page's and the popup's states (rendered with the English
//! catalogue); the i18n checks over them run with the panel's (`panel_tests`).
use super::*;
use crate::core::i18n::Catalog;

/// 2026-12-02 10:00 UTC, injected: nothing here reads the clock.
const NOW: i64 = 1_796_205_600_000;
const MIN: i64 = 60_000;

/// Data from the worker, the CRM or the rep is marked, so a test can tell it from text the
/// view made up.
fn d(s: &str) -> String {
    format!("⟦{s}⟧")
}

fn cx() -> PageCtx {
    PageCtx {
        lang: "pt-BR".into(),
        zoho_dcs: vec![("Us".into(), d("zoho.com")), ("Eu".into(), d("zoho.eu"))],
        signin_dcs: vec![
            ("Us".into(), d("United States (zoho.com)")),
            ("Eu".into(), d("Europe (zoho.eu)")),
        ],
        dc_guess: "Eu".into(),
        just_finished: false,
        forms: forms(),
    }
}

/// The Advanced forms as the CRM descriptors list them (a fixture: core does not read
/// `crm::registry`; `crm::registry`'s tests check the descriptors' fields fill credentials).
fn forms() -> Vec<CredentialForm> {
    use crate::core::ui::{CredentialField as F, FieldKind as K};
    const fn f(
        name: &'static str,
        control: &'static str,
        label: &'static str,
        kind: K,
        sign_in: bool,
    ) -> F {
        F { name, control, label, kind, sign_in }
    }
    const ZOHO: &[F] = &[
        f("dc", "zoho-dc", "fieldDataCentre", K::DataCentre, false),
        f("client_id", "zoho-client-id", "fieldClientId", K::Text { default: "" }, true),
        f("client_secret", "zoho-client-secret", "fieldClientSecret", K::Secret, true),
        f("refresh_token", "zoho-refresh-token", "fieldRefreshToken", K::Secret, false),
    ];
    const SF: &[F] = &[
        f(
            "login_host",
            "sf-login-host",
            "fieldLoginHost",
            K::Text { default: "login.salesforce.com" },
            true,
        ),
        f("client_id", "sf-client-id", "fieldConsumerKey", K::Text { default: "" }, true),
        f("client_secret", "sf-client-secret", "fieldConsumerSecret", K::OptionalSecret, true),
        f("refresh_token", "sf-refresh-token", "fieldRefreshToken", K::Secret, false),
    ];
    const LSQ: &[F] = &[
        f("access_key", "lsq-access-key", "fieldAccessKey", K::Text { default: "" }, false),
        f("secret_key", "lsq-secret-key", "fieldSecretKey", K::Secret, false),
    ];
    vec![
        CredentialForm { crm: Crm::Zoho, fields: ZOHO, sign_in: true },
        CredentialForm { crm: Crm::Salesforce, fields: SF, sign_in: true },
        CredentialForm { crm: Crm::Leadsquared, fields: LSQ, sign_in: false },
    ]
}

fn diag_empty() -> Diag {
    Diag { skipped: d("{}"), ..Diag::default() }
}

fn diag_full() -> Diag {
    Diag {
        connected: vec![Crm::Zoho, Crm::Salesforce],
        reconnect_needed: vec![Crm::Salesforce],
        rows_seen: 40,
        parsed: 38,
        skipped: d(r#"{"no_text":2}"#),
        health: vec![
            d("+5511987654321: 3 / 3 / 0 / 0 / 0 ⏸"),
            d("+14155552671: 5 / 5 / 0 / 0 / 0"),
        ],
        pending: 7,
        last_error: Some(d("Zoho CRM: 401")),
        last_finished_ms: Some(NOW - 5 * MIN),
        parked: vec![d("too large"), d("no record")],
        budget: vec![(d("Zoho CRM"), 26, None), (d("Salesforce"), 14_900, Some(15_000))],
        content_error: Some(d("no chat list")),
        log: vec![(NOW - 2 * MIN, d("sync done"))],
        saved: vec![Receipt {
            crm: Crm::Zoho,
            target: "note".into(),
            title: d("Ana Souza"),
            group: false,
            day: "2026-12-02".into(),
            messages: 12,
            saved_ms: Some(NOW - 20 * MIN),
            url: Some("https://crm.zoho.com/crm/org1/tab/Contacts/1".into()),
        }],
    }
}

fn connected(crms: &[Crm]) -> Diag {
    Diag { connected: crms.to_vec(), ..diag_empty() }
}

fn line(id: &str, state: LineState, fix: Option<&str>) -> SetupLine {
    SetupLine { id: id.into(), state, text: d(&format!("{id} checked")), fix: fix.map(d) }
}

fn passing(crm: Crm) -> SetupReport {
    SetupReport {
        crm,
        lines: vec![
            line("api", LineState::Pass, Some("never shown")),
            line("notes", LineState::Warn, Some("ask the admin")),
        ],
    }
}

fn failing(crm: Crm) -> SetupReport {
    SetupReport {
        crm,
        lines: vec![
            line("api", LineState::Pass, None),
            line("scopes", LineState::Fail, Some("sign in again with the CRM scopes")),
        ],
    }
}

fn onboarding(step: Step, connected: &[Crm], reports: Vec<SetupReport>) -> Onboarding {
    Onboarding {
        step,
        offer_zoho: true,
        offer_salesforce: true,
        problem: None,
        reports,
        connected: connected.to_vec(),
        own_number: None,
    }
}

/// Every state of the options page and the popup, by name.
pub(crate) fn all_trees() -> Vec<(String, Node)> {
    let page = |nodes: Vec<Node>| Node { children: nodes, ..Default::default() };
    let s = Settings::default();
    let mut out = vec![];
    let mut add = |name: &str, n: Node| out.push((name.to_string(), n));
    add("popup_nothing_yet", page(popup(&diag_empty(), NOW)));
    add("popup_with_data", page(popup(&diag_full(), NOW)));
    add(
        "options_not_connected",
        page(options(&diag_empty(), &s, &onboarding(Step::PickCrm, &[], vec![]), &cx())),
    );
    for crm in CRMS {
        let name = format!("options_connected_{}", crm_id(crm));
        let ob = onboarding(Step::Done, &[crm], vec![passing(crm)]);
        add(&name, page(options(&connected(&[crm]), &s, &ob, &cx())));
    }
    let reconnect = Diag { reconnect_needed: vec![Crm::Zoho], ..connected(&[Crm::Zoho]) };
    add(
        "options_reconnect_needed",
        page(options(
            &reconnect,
            &s,
            &onboarding(Step::Done, &[Crm::Zoho], vec![failing(Crm::Zoho)]),
            &cx(),
        )),
    );
    let no_app = Onboarding {
        offer_zoho: false,
        offer_salesforce: false,
        ..onboarding(Step::PickCrm, &[], vec![])
    };
    let problem = Onboarding {
        problem: Some(d("this copy's id is not the published one")),
        ..onboarding(Step::PickCrm, &[], vec![])
    };
    for (name, ob) in [("signin_no_product_app", no_app), ("signin_problem", problem)] {
        add(name, Node::default().children(CRMS.map(|c| sign_in_block(c, &ob, &cx()))));
    }
    let finish = Onboarding {
        own_number: Some("+5511987654321".into()),
        ..onboarding(Step::Finish, &[Crm::Zoho, Crm::Salesforce], vec![failing(Crm::Zoho)])
    };
    let zoho = connected(&[Crm::Zoho, Crm::Salesforce]);
    add("first_run_finish", first_run(&finish, &s, &cx()).unwrap_or_default());
    let done = onboarding(Step::Done, &[Crm::Zoho, Crm::Salesforce], vec![passing(Crm::Zoho)]);
    let just = PageCtx { just_finished: true, ..cx() };
    add("first_run_done", first_run(&done, &s, &just).unwrap_or_default());
    add("setup_passing", setup_block(Crm::Zoho, Some(&passing(Crm::Zoho))));
    add("setup_failing", setup_block(Crm::Salesforce, Some(&failing(Crm::Salesforce))));
    add("setup_not_run", setup_block(Crm::Leadsquared, None));
    add("diagnostics_with_data", diagnostics(&diag_full()));
    add("diagnostics_empty", diagnostics(&zoho));
    let custom = Settings {
        default_region: "BR".into(),
        search_leads: false,
        excluded_chats: vec![d("pn:+14155552671"), d("group:1203630")],
        backup_window_days: 30,
        ..Settings::default()
    };
    add("settings_changed", settings(&custom));
    out
}

#[test]
fn every_options_and_popup_state_snapshot() {
    let en = Catalog::locale("en");
    for (name, tree) in all_trees() {
        let text = crate::core::ui::snapshot(&tree, &|t| en.render(t));
        insta::assert_snapshot!(name, text);
    }
}

fn render(n: &Node) -> String {
    Catalog::locale("en").render(n.text.as_ref().unwrap_or(&Text::data("")))
}

/// The popup and the diagnostics read as the e2e tests expect, word for word.
#[test]
fn popup_and_diagnostics_lines_read_as_before() {
    let d = Diag { budget: vec![("Zoho CRM".into(), 26, None)], ..diag_full() };
    let p = Node::default().children(popup(&d, NOW));
    let line = |id: &str| p.find(id).map(render).unwrap_or_default();
    assert_eq!(line("popup-zoho"), "Zoho CRM: Connected");
    assert_eq!(
        line("popup-salesforce"),
        "Salesforce: Reconnect needed: the CRM no longer accepts the saved access"
    );
    assert_eq!(line("popup-leadsquared"), "LeadSquared: Not connected");
    assert_eq!(line("popup-pending"), "7 messages waiting to sync");
    assert_eq!(line("popup-last"), "Last synced 5 min ago");
    let dg = diagnostics(&d);
    let line = |id: &str| dg.find(id).map(render).unwrap_or_default();
    assert_eq!(
        line("diag-capture"),
        r#"40 / 38 / {"no_text":2}"#.replace("{", "⟦{").replace("}", "}⟧")
    );
    assert_eq!(line("diag-pending"), "7");
    assert_eq!(line("diag-budget"), "Zoho CRM: 26 API calls left today");
    assert_eq!(line("diag-parked"), "⟦too large⟧; ⟦no record⟧");
    let empty = diagnostics(&Diag::default());
    assert_eq!(empty.find("diag-parked").map(render).unwrap_or_default(), "—");
    assert_eq!(empty.find("diag-last-error").map(render).unwrap_or_default(), "—");
}

/// A saved region wins over the guess; without one, the own number's country, then the
/// browser language's.
#[test]
fn the_first_run_region_prefers_the_saved_one_then_the_own_number() {
    let s = Settings::default();
    assert_eq!(first_region(&s, "pt-BR", ""), "BR");
    assert_eq!(first_region(&s, "pt-BR", "+4915123456789"), "DE");
    let saved = Settings { default_region: "IN".into(), ..Settings::default() };
    assert_eq!(first_region(&saved, "pt-BR", "+4915123456789"), "IN");
}

/// The setup block says passed only when no line failed; a passed line shows no fix.
#[test]
fn setup_lines_carry_their_state_and_fix() {
    let ok = setup_block(Crm::Zoho, Some(&passing(Crm::Zoho)));
    assert!(ok.attrs.contains(&(Attr::DataPassed, "true".into())));
    assert!(ok.find("setup-zoho-api").is_some_and(|l| l.children.is_empty()));
    assert_eq!(ok.find("setup-zoho-notes").map(|l| l.children.len()), Some(1));
    let bad = setup_block(Crm::Zoho, Some(&failing(Crm::Zoho)));
    assert!(bad.attrs.contains(&(Attr::DataPassed, "false".into())));
    let none = setup_block(Crm::Zoho, None);
    assert!(!none.attrs.iter().any(|(a, _)| *a == Attr::DataPassed));
}

/// The first run shows only until the rep finished, unless they finished in this page.
#[test]
fn the_first_run_hides_once_done() {
    let done = onboarding(Step::Done, &[Crm::Zoho], vec![]);
    assert!(first_run(&done, &Settings::default(), &cx()).is_none());
    let just = PageCtx { just_finished: true, ..cx() };
    assert!(first_run(&done, &Settings::default(), &just)
        .is_some_and(|n| n.find("first-done").is_some()));
}
