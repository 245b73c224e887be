//! Snapshot tests of every panel state's view tree (rendered with the English catalogue),
//! and the i18n checks over all of them: every key in every locale, no hard-coded text.
use super::*;
use crate::core::i18n::{Catalog, LOCALES};
use crate::core::ui::Node;
use crate::core::view::Participant;

/// 2026-12-02 10:00 UTC, injected: nothing here reads the clock.
const NOW: i64 = 1_796_205_600_000;
const MIN: i64 = 60_000;

fn cx() -> Ctx {
    Ctx {
        now_ms: NOW,
        utc_offset_min: -180,
        region: "BR".into(),
        chat: Some(("pn:+5511987654321".into(), d("Ana"))),
    }
}

/// Every string that comes from the CRM or the chat is marked, so a test can tell data
/// from text the view made up.
fn d(s: &str) -> String {
    format!("⟦{s}⟧")
}

fn card() -> ContactCard {
    ContactCard {
        crm: Crm::Zoho,
        kind: "contact".into(),
        name: d("Ana Souza"),
        company: Some(d("Souza Ltda")),
        title: Some(d("Buyer")),
        email: Some(d("ana@souza.example")),
        phones: vec!["+55 11 98765-4321".into(), "+1 415 555 0123".into()],
        owner: Some(d("Rep One")),
        status: Some(d("Qualified")),
        url: Some("https://crm.zoho.com/crm/org1/tab/Contacts/1".into()),
    }
}

fn deals() -> Vec<DealRow> {
    let row =
        |name: &str, stage: Option<&str>, amount, currency: Option<&str>, close: &str| DealRow {
            id: None,
            name: d(name),
            stage: stage.map(d),
            amount,
            currency: currency.map(str::to_string),
            close_date: Some(close.into()),
        };
    vec![
        row("Tower crane", Some("Negotiation"), Some(30_000.0), Some("BRL"), "2026-12-08"),
        row("Scaffolding", Some("Proposal"), Some(1234.5), None, "2026-12-02"),
        row("Cement", None, None, Some("usd"), "2026-12-03"),
        row("Rebar", Some("Closed Won"), Some(99.0), Some("BRL"), "2026-11-20"),
        row("Cranes 2027", Some("Qualification"), Some(5.0), Some("EUR"), "2027-03-14"),
    ]
}

fn receipts() -> Vec<view::Receipt> {
    vec![
        view::Receipt {
            crm: Crm::Zoho,
            target: "note".into(),
            title: d("Ana Souza"),
            group: false,
            day: "2026-12-02".into(),
            messages: 12,
            saved_ms: Some(NOW - 20 * MIN),
            url: Some("https://crm.zoho.com/crm/org1/tab/Contacts/1".into()),
        },
        view::Receipt {
            crm: Crm::Salesforce,
            target: "task".into(),
            title: d("Ana Souza"),
            group: false,
            day: "2026-12-02".into(),
            messages: 1,
            saved_ms: None,
            url: Some("https://evil.example/".into()),
        },
    ]
}

fn older() -> crate::core::outbox::OlderMessages {
    crate::core::outbox::OlderMessages {
        count: 14,
        first_day: "2026-11-10".into(),
        last_day: "2026-11-12".into(),
    }
}

fn candidates() -> Vec<Candidate> {
    vec![
        Candidate {
            crm: Crm::Zoho,
            kind: "contact".into(),
            id: "z1".into(),
            name: d("Ana Souza"),
            detail: None,
            matched_on: Some((d("Mobile"), "+55 11 99999-0000".into())),
        },
        Candidate {
            crm: Crm::Salesforce,
            kind: "lead".into(),
            id: "s1".into(),
            name: d("Ana S."),
            detail: Some(d("ana@s.example")),
            matched_on: None,
        },
    ]
}

/// One of every panel state, with names for their snapshots.
fn states() -> Vec<(&'static str, PanelState)> {
    vec![
        ("not_connected", PanelState::NotConnected),
        ("connecting", PanelState::Connecting),
        ("no_chat", PanelState::NoChat),
        (
            "linked",
            PanelState::Linked {
                card: card(),
                deals: deals(),
                last_synced_ms: Some(NOW - 2 * MIN - 5_000),
                sync: SyncState::Pending { count: 3 },
                older: None,
                masking: Some(true),
                saved: receipts(),
            },
        ),
        (
            "linked_reconnect_older",
            PanelState::Linked {
                card: ContactCard {
                    crm: Crm::Salesforce,
                    kind: "lead".into(),
                    name: d("Liam Carter"),
                    company: None,
                    title: None,
                    email: None,
                    phones: vec![],
                    owner: None,
                    status: None,
                    url: Some("javascript:alert(1)".into()),
                },
                deals: vec![],
                last_synced_ms: None,
                sync: SyncState::AuthExpired,
                older: Some(older()),
                masking: Some(false),
                saved: vec![],
            },
        ),
        (
            "linked_rate_limited",
            PanelState::Linked {
                card: card(),
                deals: vec![],
                last_synced_ms: Some(NOW - 3 * 60 * MIN),
                sync: SyncState::RateLimited { retry_at_ms: NOW + 4 * MIN + 1 },
                older: None,
                masking: None,
                saved: vec![],
            },
        ),
        (
            "unknown",
            PanelState::Unknown {
                name: d("Bruno Costa"),
                phone: "+5511912340000".into(),
                crms: vec![Crm::Zoho, Crm::Leadsquared],
            },
        ),
        ("ambiguous", PanelState::Ambiguous { name: d("Carla"), candidates: candidates() }),
        (
            "group",
            PanelState::Group {
                name: d("Obra Paulista"),
                participants: vec![
                    Participant {
                        name: d("Ana Souza"),
                        phone: Some("+5511987654321".into()),
                        record: Some(d("Ana Souza (Zoho CRM)")),
                        linked: Some(crate::core::model::RecordRef {
                            crm: Crm::Zoho,
                            kind: crate::core::model::RecordKind::Contact,
                            id: "1".into(),
                        }),
                        url: Some("https://crm.zoho.com/crm/org1/tab/Contacts/1".into()),
                    },
                    Participant {
                        name: d("Devika"),
                        phone: Some("+919876543210".into()),
                        record: None,
                        linked: None,
                        url: None,
                    },
                    Participant {
                        name: d("Someone"),
                        phone: None,
                        record: None,
                        linked: None,
                        url: None,
                    },
                ],
                backup_to: vec![
                    Candidate {
                        crm: Crm::Zoho,
                        kind: "contact".into(),
                        id: "1".into(),
                        name: d("Ana Souza"),
                        detail: None,
                        matched_on: None,
                    },
                    Candidate {
                        crm: Crm::Salesforce,
                        kind: "lead".into(),
                        id: "00Q1".into(),
                        name: d("Ana S."),
                        detail: None,
                        matched_on: None,
                    },
                ],
                older: Some(crate::core::outbox::OlderMessages {
                    count: 2,
                    first_day: "2026-11-10".into(),
                    last_day: "2026-11-10".into(),
                }),
                masking: Some(true),
                saved: vec![],
            },
        ),
        (
            "group_unlinked",
            PanelState::Group {
                name: d("Family"),
                participants: vec![],
                backup_to: vec![],
                older: None,
                masking: None,
                saved: vec![],
            },
        ),
        ("lid_only", PanelState::LidOnly { name: d("Dora"), suggest: None }),
        (
            "lid_suggested",
            PanelState::LidOnly { name: d("Dora"), suggest: Some("dora@example.com".into()) },
        ),
        ("capture_blocked", PanelState::CaptureBlocked { reason: d("CSP") }),
        ("excluded", PanelState::Excluded { name: d("Acme buyers") }),
    ]
}

fn progress() -> Progress {
    Progress {
        total: 4,
        done: 2,
        current: Some(d("Carlos")),
        results: vec![
            (d("Ana"), Outcome::Covered { messages: 12 }),
            (d("Julia"), Outcome::HistoryEnds { messages: 3, oldest: None }),
            (d("Odd"), Outcome::NotOpened { reason: d("not in the chat list") }),
            (d("Bob"), Outcome::Cancelled),
        ],
        unreadable: vec![d("Typing")],
        finished: false,
    }
}

/// Every tree a panel can show: the frame, each state, confirmations, the backfill.
fn all_trees() -> Vec<(String, Node)> {
    let c = cx();
    let mut out = vec![("frame".to_string(), frame())];
    for (name, s) in states() {
        out.push((name.to_string(), Node::new(Tag::Section).id("state").children(state(&s, &c))));
    }
    let actions = [
        Action::Unlink,
        Action::ToggleExclude { excluded: false },
        Action::ToggleExclude { excluded: true },
        Action::BackUpOlder { count: 14 },
        Action::Choose(1),
        Action::LinkResult(0),
        Action::SubmitCreate,
        Action::BackfillStart,
        Action::ToggleMask { masked: false },
        Action::ToggleMask { masked: true },
    ];
    let mut confirms = Node::new(Tag::Section).id("confirm");
    for a in &actions {
        let q = confirm_question(a, &c, &candidates(), Some(Crm::Salesforce));
        confirms = confirms.children(confirm_box(q.unwrap_or_else(|| panic!("{a:?} asks"))));
    }
    out.push(("confirms".into(), confirms));
    out.push((
        "search_results".into(),
        Node::new(Tag::Ul).id("results").children(candidate_items("results", &candidates(), false)),
    ));
    out.push(("backfill".into(), Node::new(Tag::Section).children(backfill(&progress()))));
    let done = Progress { finished: true, current: None, ..progress() };
    out.push(("backfill_done".into(), Node::new(Tag::Section).children(backfill(&done))));
    let mut lines = Node::new(Tag::Div);
    for t in [
        worker_line(Ok(())),
        worker_line(Err(d("no receiver"))),
        capture_line(Some("")).unwrap_or(Text::key("x")),
        capture_line(Some(&d("CSP"))).unwrap_or(Text::key("x")),
        crate::core::status::capture_paused_line(),
    ] {
        lines = lines.child(Node::new(Tag::P).text(t));
    }
    out.push(("lines".into(), lines));
    out.extend(view_trees(&c));
    out
}

/// Trees of states the view makes from the worker's records (not hand-built fixtures), with
/// every name and field from the CRM or the chat marked: text the view adds around them
/// (a kind word, "(group)", "field: value") shows up unmarked.
fn view_trees(c: &Ctx) -> Vec<(String, Node)> {
    use crate::core::matching::{Candidate as MC, How, MatchOutcome};
    use crate::core::model::{RecordKind, RecordRef, WaIdentity};
    use crate::core::outbox::{DocKey, RemoteState, UnitKey};
    let zoho = RecordRef { crm: Crm::Zoho, kind: RecordKind::Contact, id: "z1".into() };
    let lead = RecordRef { crm: Crm::Salesforce, kind: RecordKind::Lead, id: "00Q1".into() };
    let group = crate::core::sync::ChatRecord {
        identity: WaIdentity { phone: None, lid: None, name: d("Obra Paulista"), is_group: true },
        links: vec![zoho.clone(), lead.clone()],
        cards: vec![
            crate::core::model::CrmRecord {
                crm: Some(Crm::Zoho),
                id: "z1".into(),
                name: d("Ana Souza"),
                ..Default::default()
            },
            crate::core::model::CrmRecord {
                crm: Some(Crm::Salesforce),
                id: "00Q1".into(),
                name: d("Ana S."),
                ..Default::default()
            },
        ],
        last_synced_at_ms: Some(NOW as u64),
        ..Default::default()
    };
    let docs = vec![(
        DocKey {
            unit: UnitKey {
                record: zoho.clone(),
                chat: group.identity.chat_key(),
                day: "2026-12-02".into(),
            },
            target: "note".into(),
            part: 0,
        },
        RemoteState::Written { id: "n1".into(), digest: 1, at_ms: Some(NOW as u64) },
    )];
    let saved = view::receipts(&group, &docs, &|_| 4);
    let ambiguous = crate::core::sync::ChatRecord {
        identity: WaIdentity {
            phone: Some("+5511987654321".into()),
            lid: None,
            name: d("Ana"),
            is_group: false,
        },
        matched: Some(MatchOutcome::Ambiguous {
            candidates: vec![
                MC {
                    record: zoho.clone(),
                    name: d("Ana Souza"),
                    how: How::Exact,
                    field: Some((d("Mobile"), "+55 11 98765-4321".into())),
                },
                MC { record: lead, name: d("Ana S."), how: How::Exact, field: None },
            ],
        }),
        ..Default::default()
    };
    let st = crate::core::sync::SyncState::default();
    let both = [Crm::Zoho, Crm::Salesforce];
    let inputs = |chat: &'_ crate::core::sync::ChatRecord, key: &'static str| {
        view::panel_state(&view::PanelInputs {
            connected: &both,
            reconnect: &[],
            chat_key: Some(key),
            chat_name: Some("⟦Chat⟧"),
            chat: Some(chat),
            excluded: false,
            state: &st,
            pending_in_chat: 0,
            parked_in_chat: None,
            older_in_chat: None,
            masking: None,
            currencies: &[],
            saved: &saved,
            incoming_texts: &[],
            now_ms: NOW as u64,
        })
    };
    let mut out = vec![];
    for (name, s) in [
        ("view_group", inputs(&group, "g:1")),
        ("view_ambiguous", inputs(&ambiguous, "pn:+5511987654321")),
    ] {
        out.push((name.to_string(), Node::new(Tag::Section).id("state").children(state(&s, c))));
    }
    out
}

#[test]
fn every_panel_state_snapshot() {
    let en = Catalog::locale("en");
    for (name, tree) in all_trees() {
        let text = crate::core::ui::snapshot(&tree, &|t| en.render(t));
        insta::assert_snapshot!(name, text);
    }
}

/// Every message a view uses exists in every locale with the placeholders its arguments
/// fill, and every other text is data from the CRM or the chat (marked ⟦…⟧ by the fixtures)
/// or a value the shell formats: no view string is hard-coded.
#[test]
fn no_view_string_is_hard_coded_and_every_key_is_in_every_locale() {
    let catalogs: Vec<(&str, Catalog)> = LOCALES
        .iter()
        .map(|(n, j)| (*n, Catalog::parse(j).unwrap_or_else(|e| panic!("{n}: {e}"))))
        .collect();
    let phone_like =
        |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || " +-(),".contains(c));
    // One marked value and nothing around it: "⟦Obra⟧ (group)" is text the view added.
    let marked = |s: &str| s.starts_with('⟦') && s.ends_with('⟧') && s.matches('⟦').count() == 1;
    type Pred<'a> = &'a dyn Fn(&str) -> bool;
    fn check(t: &Text, where_: &str, cats: &[(&str, Catalog)], phone_like: Pred, marked: Pred) {
        match t {
            Text::Data(s) => {
                assert!(marked(s) || phone_like(s), "{where_}: hard-coded text {s:?}")
            }
            Text::Fmt(_) => {}
            Text::Msg { key, args } => {
                for (loc, c) in cats {
                    let arity =
                        c.arity(key).unwrap_or_else(|| panic!("{where_}: {key} missing in {loc}"));
                    assert_eq!(
                        arity,
                        args.len(),
                        "{where_}: {key} in {loc} takes {arity} arguments"
                    );
                }
                for a in args {
                    match a {
                        Arg::Data(s) => assert!(
                            marked(s) || phone_like(s) || s == env!("CARGO_PKG_VERSION"),
                            "{where_}: {key} gets hard-coded {s:?}"
                        ),
                        Arg::Fmt(_) => {}
                        Arg::Text(t) => check(t, where_, cats, phone_like, marked),
                    }
                }
            }
        }
    }
    let mut keys = std::collections::BTreeSet::new();
    let options = crate::core::options_view::tests::all_trees();
    for (name, tree) in all_trees().into_iter().chain(options) {
        for t in tree.texts() {
            check(t, &name, &catalogs, &phone_like, &marked);
            if let Text::Msg { key, .. } = t {
                keys.insert(*key);
            }
        }
    }
    assert!(keys.len() > 60, "the trees use {} keys", keys.len());
}

#[test]
fn every_locale_has_every_key_with_the_same_placeholders() {
    let en = Catalog::locale("en");
    for (loc, json) in LOCALES {
        let c = Catalog::parse(json).unwrap_or_else(|e| panic!("{loc}: {e}"));
        let missing: Vec<_> = en.messages.keys().filter(|k| !c.messages.contains_key(*k)).collect();
        assert!(missing.is_empty(), "{loc} lacks {missing:?}");
        let extra: Vec<_> = c.messages.keys().filter(|k| !en.messages.contains_key(*k)).collect();
        assert!(extra.is_empty(), "{loc} has keys en lacks: {extra:?}");
        for k in en.messages.keys() {
            let (mut a, mut b) = (en.named(k), c.named(k));
            a.sort();
            b.sort();
            assert_eq!(a, b, "{loc}/{k}: placeholders differ");
            assert_eq!(en.arity(k), c.arity(k), "{loc}/{k}: arguments differ");
        }
    }
}

/// A translation is not a copy of the English text: only names (brands, the product) may be
/// the same in every language.
#[test]
fn translations_are_not_english_copies() {
    let en = Catalog::locale("en");
    let same_everywhere = [
        "extName",
        "panelTitle",
        "crmZoho",
        "crmSalesforce",
        "crmLeadsquared",
        "collapseGlyph",
        "noDay",
        "fieldCrm",
        "candidateLine",
        "recordLabel",
        "docTitle",
        // Only a separator: the comma is the list separator in all four languages.
        "listJoin",
        "chatLabel",
        // Separators and marks the options page used verbatim in every language.
        "labelValue",
        "listSemi",
        "setupPass",
        "setupWarn",
        "setupFail",
        "diagCaptureLine",
        "logLine",
        // Only its placeholder: text that comes from elsewhere (a CRM's own message).
        "plainText",
    ];
    // Words these languages borrow as they are ("lead" is the CRM term in Brazil and Latin
    // America; "Status" is Portuguese too).
    let borrowed = [
        ("pt_BR", "kindLead"),
        ("pt_BR", "kindLeadWord"),
        ("pt_BR", "searchLeads"),
        ("pt_BR", "labelStatus"),
        ("es", "kindLead"),
        ("es", "kindLeadWord"),
        ("es", "searchLeads"),
        ("pt_BR", "setupWordLeads"),
        ("es", "setupWordLeads"),
        // Country names spelt as in English.
        ("pt_BR", "dcCn"),
        ("es", "dcCn"),
        ("es", "dcIn"),
        ("es", "dcAu"),
    ];
    for loc in ["pt_BR", "es", "hi"] {
        let c = Catalog::locale(loc);
        let copies: Vec<&String> = en
            .messages
            .iter()
            .filter(|(k, (m, _))| {
                !same_everywhere.contains(&k.as_str())
                    && !borrowed.contains(&(loc, k.as_str()))
                    && c.messages.get(*k).is_some_and(|(t, _)| t == m)
            })
            .map(|(k, _)| k)
            .collect();
        assert!(copies.is_empty(), "{loc}: untranslated {copies:?}");
    }
}

#[test]
fn close_dates_are_relative_to_the_reps_day() {
    let en = Catalog::locale("en");
    let c = cx();
    let say = |raw: &str| close_text(raw, &c).map(|t| en.render(&t));
    // 10:00 UTC at UTC-3 is 07:00 on 2 Dec.
    assert_eq!(say("2026-12-02").as_deref(), Some("closes today"));
    assert_eq!(say("2026-12-03").as_deref(), Some("closes tomorrow"));
    assert_eq!(say("2026-12-08").as_deref(), Some("closes in 6 days"));
    assert_eq!(say("2026-11-20").as_deref(), Some("closed 11-20"));
    assert_eq!(say("2027-03-14").as_deref(), Some("closes 2027-03-14"));
    assert_eq!(say("2026-12-02T00:00:00Z").as_deref(), Some("closes today"));
    assert_eq!(say("soon"), None);
    assert_eq!(say("2026-13-40"), None);
    // Just after midnight UTC it is still the previous day three hours west.
    let late = Ctx { now_ms: NOW + 14 * 60 * MIN + MIN, ..cx() }; // 00:01 UTC on 3 Dec
    assert_eq!(
        close_text("2026-12-02", &late).map(|t| en.render(&t)).as_deref(),
        Some("closes today")
    );
    let utc = Ctx { utc_offset_min: 0, ..late };
    assert_eq!(
        close_text("2026-12-02", &utc).map(|t| en.render(&t)).as_deref(),
        Some("closed 12-02")
    );
}

#[test]
fn currency_codes_are_checked_before_the_shell_formats_them() {
    assert_eq!(currency_code(Some("brl")).as_deref(), Some("BRL"));
    assert_eq!(currency_code(Some(" USD ")).as_deref(), Some("USD"));
    for bad in [None, Some(""), Some("R$"), Some("EURO"), Some("U1D")] {
        assert_eq!(currency_code(bad), None, "{bad:?}");
    }
}

#[test]
fn phones_on_the_card_follow_the_reps_region() {
    let en = Catalog::locale("en");
    let tree = Node::new(Tag::Div).children(state(
        &PanelState::Linked {
            card: card(),
            deals: vec![],
            last_synced_ms: None,
            sync: SyncState::Idle,
            older: None,
            masking: None,
            saved: vec![],
        },
        &cx(),
    ));
    let phones = tree.find("card-phones").and_then(|n| n.text.as_ref()).map(|t| en.render(t));
    assert_eq!(phones.as_deref(), Some("(11) 98765-4321, +1 415-555-0123"));
    let us = Ctx { region: "US".into(), ..cx() };
    let tree = Node::new(Tag::Div).children(state(
        &PanelState::Unknown { name: "x".into(), phone: "+14155550123".into(), crms: vec![] },
        &us,
    ));
    let msg = tree.find("message").and_then(|n| n.text.as_ref()).map(|t| en.render(t));
    assert_eq!(msg.as_deref(), Some("(415) 555-0123 is not in your CRM yet."));
}

#[test]
fn unsafe_record_links_are_not_in_the_tree() {
    let (_, linked) = states().into_iter().find(|(n, _)| *n == "linked_reconnect_older").unwrap();
    let tree = Node::new(Tag::Div).children(state(&linked, &cx()));
    assert!(tree.find("open-record").is_none());
    assert!(tree.find("reconnect").is_some());
}

#[test]
fn receipts_come_from_the_confirmed_documents_of_the_latest_day() {
    use crate::core::model::{RecordKind, RecordRef, WaIdentity};
    use crate::core::outbox::{DocKey, RemoteState, UnitKey};
    let chat = crate::core::sync::ChatRecord {
        identity: WaIdentity {
            phone: Some("+5511987654321".into()),
            lid: None,
            name: "Ana Souza".into(),
            is_group: false,
        },
        last_synced_at_ms: Some(NOW as u64),
        urls: [
            ("z1".to_string(), "https://crm.zoho.com/crm/org1/tab/Contacts/z1".to_string()),
            (
                "003a".to_string(),
                "https://acme.lightning.force.com/lightning/r/Contact/003a/view".to_string(),
            ),
        ]
        .into(),
        ..Default::default()
    };
    let doc = |crm, id: &str, day: &str, target: &str, part| DocKey {
        unit: UnitKey {
            record: RecordRef { crm, kind: RecordKind::Contact, id: id.into() },
            chat: "pn:+5511987654321".into(),
            day: day.into(),
        },
        target: target.into(),
        part,
    };
    let written = |id: &str| RemoteState::Written { id: id.into(), digest: 1, at_ms: None };
    let docs = vec![
        (doc(Crm::Zoho, "z1", "2026-12-01", "note", 0), written("n0")),
        (doc(Crm::Zoho, "z1", "2026-12-02", "note", 0), written("n1")),
        (doc(Crm::Zoho, "z1", "2026-12-02", "note", 1), written("n2")),
        (doc(Crm::Zoho, "z1", "2026-12-02", "deal:d1", 0), written("n3")),
        (doc(Crm::Salesforce, "003a", "2026-12-02", "task", 0), written("00T1")),
        (
            doc(Crm::Salesforce, "003a", "2026-12-02", "content_note", 0),
            RemoteState::Uncertain { since_ms: 1 },
        ),
    ];
    let got = view::receipts(&chat, &docs, &|day| if day == "2026-12-02" { 12 } else { 0 });
    let short: Vec<_> = got
        .iter()
        .map(|r| (r.crm, r.target.as_str(), r.day.as_str(), r.messages, r.url.as_deref()))
        .collect();
    assert_eq!(
        short,
        vec![
            (
                Crm::Zoho,
                "note",
                "2026-12-02",
                12,
                Some("https://crm.zoho.com/crm/org1/tab/Contacts/z1")
            ),
            (
                Crm::Salesforce,
                "task",
                "2026-12-02",
                12,
                Some("https://acme.lightning.force.com/lightning/r/Task/00T1/view")
            ),
        ],
        "parts and deal copies are one receipt; an uncertain create is no proof"
    );
    assert_eq!(got[0].saved_ms, Some(NOW));
    let en = Catalog::locale("en");
    let line = en.render(receipt_item(&got[0]).children[0].text.as_ref().unwrap());
    assert_eq!(
        line,
        "Zoho CRM note “WhatsApp · Ana Souza · 2026-12-02”: 12 messages, saved 10:00Z"
    );
    let other = crate::core::sync::ChatRecord {
        identity: WaIdentity { phone: Some("+1".into()), ..chat.identity.clone() },
        ..chat.clone()
    };
    assert!(
        view::receipts(&other, &docs, &|_| 1).is_empty(),
        "another chat's documents are not its proof"
    );
}

#[test]
fn each_receipt_shows_when_its_own_document_was_written() {
    use crate::core::model::{RecordKind, RecordRef, WaIdentity};
    use crate::core::outbox::{DocKey, RemoteState, UnitKey};
    let chat = crate::core::sync::ChatRecord {
        identity: WaIdentity {
            phone: Some("+5511987654321".into()),
            lid: None,
            name: "Ana Souza".into(),
            is_group: false,
        },
        // The chat's last sync came after both writes (a later cycle wrote nothing new).
        last_synced_at_ms: Some(NOW as u64 + 3 * 3_600_000),
        ..Default::default()
    };
    let doc = |crm, id: &str, target: &str| DocKey {
        unit: UnitKey {
            record: RecordRef { crm, kind: RecordKind::Contact, id: id.into() },
            chat: "pn:+5511987654321".into(),
            day: "2026-12-02".into(),
        },
        target: target.into(),
        part: 0,
    };
    let at = |id: &str, at_ms| RemoteState::Written { id: id.into(), digest: 1, at_ms };
    let docs = vec![
        (doc(Crm::Zoho, "z1", "note"), at("n1", Some(NOW as u64))),
        (doc(Crm::Salesforce, "003a", "task"), at("00T1", Some(NOW as u64 + 1_800_000))),
        // Stored before documents kept their time: the chat's last sync stands in.
        (doc(Crm::Leadsquared, "l1", "activity"), at("a1", None)),
    ];
    let got = view::receipts(&chat, &docs, &|_| 3);
    let saved: Vec<_> = got.iter().map(|r| (r.crm, r.saved_ms)).collect();
    assert_eq!(
        saved,
        vec![
            (Crm::Zoho, Some(NOW)),
            (Crm::Salesforce, Some(NOW + 1_800_000)),
            (Crm::Leadsquared, Some(NOW + 3 * 3_600_000)),
        ]
    );
    let en = Catalog::locale("en");
    let line = |r: &view::Receipt| en.render(receipt_item(r).children[0].text.as_ref().unwrap());
    assert!(line(&got[0]).ends_with("saved 10:00Z"), "{}", line(&got[0]));
    assert!(line(&got[1]).ends_with("saved 10:30Z"), "{}", line(&got[1]));
}

#[test]
fn the_catalogue_fills_placeholders_as_chrome_does() {
    let c = Catalog::parse(
        r#"{"a":{"message":"Hi $WHO$, $$5 for $2 ($x$)","placeholders":{"who":{"content":"$1"}}}}"#,
    )
    .unwrap();
    assert_eq!(c.get("a", &["Ana".into(), "you".into()]), "Hi Ana, $5 for you ($x$)");
    assert_eq!(c.get("missing", &[]), "missing");
    assert_eq!(c.arity("a"), Some(2));
}

/// The pages' loaders say "Loading…" and a start failure before Rust renders anything: the
/// keys they ask `chrome.i18n` for exist, and the pages hold no text of their own.
#[test]
fn page_loaders_use_message_keys_and_pages_hold_no_text() {
    let en = Catalog::locale("en");
    for (name, js) in [
        ("panel.js", include_str!("../../extension/panel.js")),
        ("popup.js", include_str!("../../extension/popup.js")),
        ("options.js", include_str!("../../extension/options.js")),
    ] {
        let keys: Vec<&str> =
            js.split("getMessage('").skip(1).filter_map(|rest| rest.split('\'').next()).collect();
        assert!(keys.contains(&"loading") && keys.contains(&"startFailed"), "{name}: {keys:?}");
        for k in keys {
            assert!(en.arity(k).is_some(), "{name}: {k} is not in the catalogue");
        }
    }
    for (name, html) in [
        ("panel.html", include_str!("../../extension/panel.html")),
        ("popup.html", include_str!("../../extension/popup.html")),
        ("options.html", include_str!("../../extension/options.html")),
    ] {
        let body = html.split("<body").nth(1).unwrap_or_default();
        let text: String = body
            .split('<')
            .filter_map(|t| t.split_once('>').map(|(_, after)| after.trim()))
            .collect();
        assert_eq!(text, "", "{name} shows text before its loader runs");
    }
}
