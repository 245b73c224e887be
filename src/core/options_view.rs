//! The options page and the toolbar popup as view trees ([`crate::core::ui::Node`]), built
//! from typed inputs: the worker's diagnostics, the settings, the first-run state with the
//! setup reports, and what the browser knows (language, the guessed Zoho data centre).
//! Pure, like [`crate::core::panel`]: every page state has a native snapshot test; the shell
//! (`web::options`) fetches the inputs, renders the tree and maps its [`Action`]s to the
//! worker's requests. Core depends on no CRM module, so the shell turns the CRM-side types
//! (setup reports, the sign-in offer, the data-centre list) into the plain ones here.
use crate::core::first_run::{self, Step};
use crate::core::model::Crm;
use crate::core::panel::{crm_key, crm_name, receipt_item};
use crate::core::ui::{self, Action, Arg, Attr, Fmt, Node, Tag, Text};
use crate::core::view::{self, Receipt, Settings};

/// What the worker's diagnostics say, as the pages show it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diag {
    pub connected: Vec<Crm>,
    pub reconnect_needed: Vec<Crm>,
    /// Rows seen and parsed by capture, and the skips by reason (as the worker's JSON).
    pub rows_seen: u64,
    pub parsed: u64,
    pub skipped: String,
    /// Per chat: how its page reads (capture health), most worrying first.
    pub health: Vec<String>,
    pub pending: u64,
    pub last_error: Option<String>,
    pub last_finished_ms: Option<i64>,
    /// Why documents are parked (held back until someone acts).
    pub parked: Vec<String>,
    /// Per CRM (as the worker names it): calls left and the daily limit when known.
    pub budget: Vec<(String, u64, Option<u64>)>,
    pub content_error: Option<String>,
    /// The worker's log: (when, what).
    pub log: Vec<(i64, String)>,
    /// The last documents saved.
    pub saved: Vec<Receipt>,
}

/// One line of a setup check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineState {
    Pass,
    Warn,
    Fail,
}

impl LineState {
    fn attr(self) -> &'static str {
        match self {
            LineState::Pass => "pass",
            LineState::Warn => "warn",
            LineState::Fail => "fail",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SetupLine {
    /// Stable id: the element is `#setup-<crm>-<id>`.
    pub id: String,
    pub state: LineState,
    pub text: String,
    pub fix: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SetupReport {
    pub crm: Crm,
    pub lines: Vec<SetupLine>,
}

/// The first run and sign-in: where the rep stands and what this copy offers.
#[derive(Clone, Debug, PartialEq)]
pub struct Onboarding {
    pub step: Step,
    /// One-click sign-in with the product's own app exists for Zoho / Salesforce.
    pub offer_zoho: bool,
    pub offer_salesforce: bool,
    /// Why one-click sign-in cannot work in this copy, if it cannot.
    pub problem: Option<String>,
    pub reports: Vec<SetupReport>,
    pub connected: Vec<Crm>,
    pub own_number: Option<String>,
}

impl Default for Onboarding {
    fn default() -> Self {
        Onboarding {
            step: Step::Done,
            offer_zoho: false,
            offer_salesforce: false,
            problem: None,
            reports: vec![],
            connected: vec![],
            own_number: None,
        }
    }
}

/// What the browser and the CRM modules contribute to the page.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PageCtx {
    /// The browser's language (`navigator.language`): the first run's region guess.
    pub lang: String,
    /// Zoho data centres: (value, accounts domain) for the own-app form.
    pub zoho_dcs: Vec<(String, String)>,
    /// Zoho data centres: (value, name) for one-click sign-in, and the guessed one.
    pub signin_dcs: Vec<(String, String)>,
    pub dc_guess: String,
    /// The rep clicked Finish in this page: say where the first backup appears.
    pub just_finished: bool,
    /// Each CRM's Advanced form, as its descriptor lists it (`crm::registry`).
    pub forms: Vec<CredentialForm>,
}

/// A CRM's Advanced form: its fields and whether an own app can sign in through the browser.
#[derive(Clone, Debug, PartialEq)]
pub struct CredentialForm {
    pub crm: Crm,
    pub fields: &'static [ui::CredentialField],
    pub sign_in: bool,
}

/// The CRMs in the order the pages list them.
pub const CRMS: [Crm; 3] = [Crm::Zoho, Crm::Salesforce, Crm::Leadsquared];

/// The machine name of a CRM in element ids (`#state-zoho`).
pub fn crm_id(c: Crm) -> &'static str {
    match c {
        Crm::Zoho => "zoho",
        Crm::Salesforce => "salesforce",
        Crm::Leadsquared => "leadsquared",
    }
}

fn state_key(d: &Diag, crm: Crm) -> &'static str {
    if d.reconnect_needed.contains(&crm) {
        "crmReconnect"
    } else if d.connected.contains(&crm) {
        "crmConnected"
    } else {
        "crmNotConnected"
    }
}

/// Texts joined with "; " (the dash when there are none).
fn semi(items: Vec<Text>) -> Text {
    let mut it = items.into_iter().rev();
    let Some(last) = it.next() else { return Text::key("noDay") };
    it.fold(last, |acc, t| {
        Text::msg("listSemi", vec![Arg::Text(Box::new(t)), Arg::Text(Box::new(acc))])
    })
}

fn or_dash(s: &Option<String>) -> Text {
    match s {
        Some(s) => Text::data(s.clone()),
        None => Text::key("noDay"),
    }
}

fn n(v: u64) -> Arg {
    Arg::Data(v.to_string())
}

/// A field whose input holds a secret: not shown, not remembered by the browser.
fn secret(mut f: Node) -> Node {
    for c in &mut f.children {
        if c.tag == Some(Tag::Input) {
            c.attrs.push((Attr::Type, "password".into()));
            c.attrs.push((Attr::Autocomplete, "off".into()));
        }
    }
    f
}

fn status(id: impl Into<String>) -> Node {
    Node::status(id)
}

// ----------------------------------------------------------------------------------------
// The popup

/// The toolbar popup: connected CRMs, last sync, pending, errors, proof of what was saved,
/// "Sync now", the options, the version.
pub fn popup(d: &Diag, now_ms: i64) -> Vec<Node> {
    let mut out = vec![Node::new(Tag::H1).id("product").key("panelTitle")];
    out.push(Node::new(Tag::Ul).id("popup-crms").children(CRMS.map(|crm| {
        Node::new(Tag::Li).id(format!("popup-{}", crm_id(crm))).text(Text::msg(
            "labelValue",
            vec![Arg::word(crm_key(crm)), Arg::word(state_key(d, crm))],
        ))
    })));
    let mut last = Node::new(Tag::P)
        .id("popup-last")
        .text(view::last_synced(now_ms, d.last_finished_ms).into());
    if let Some(t) = d.last_finished_ms {
        last = last.title(Text::Fmt(Fmt::Utc { ms: t }));
    }
    out.push(last);
    out.push(
        Node::new(Tag::P).id("popup-pending").text(Text::msg("syncPending", vec![n(d.pending)])),
    );
    let errors = d.last_error.iter().chain(d.parked.iter()).take(5);
    out.push(
        Node::new(Tag::Ul).id("popup-errors").children(
            errors.map(|e| Node::new(Tag::Li).class("error").text(Text::data(e.clone()))),
        ),
    );
    if !d.saved.is_empty() {
        out.push(
            Node::new(Tag::Div)
                .id("popup-saved")
                .child(Node::new(Tag::H3).key("popupSavedTitle"))
                .child(Node::new(Tag::Ul).children(d.saved.iter().map(receipt_item))),
        );
    }
    out.extend(sync_now());
    out.push(
        Node::button("open-options", Text::key("openOptions"), Action::OpenOptions)
            .class("secondary"),
    );
    out.push(
        Node::new(Tag::P)
            .id("popup-version")
            .class("muted")
            .text(Text::msg("versionLine", vec![Arg::Data(env!("CARGO_PKG_VERSION").into())])),
    );
    out
}

fn sync_now() -> [Node; 2] {
    [Node::button("sync-now", Text::key("syncNow"), Action::SyncNow), status("sync-status")]
}

// ----------------------------------------------------------------------------------------
// The options page

/// The whole options page.
pub fn options(d: &Diag, s: &Settings, ob: &Onboarding, cx: &PageCtx) -> Vec<Node> {
    let mut out = vec![Node::new(Tag::H1).key("optionsTitle")];
    out.extend(first_run(ob, s, cx));
    out.push(
        Node::new(Tag::Section)
            .id("connections")
            .child(Node::new(Tag::H2).key("connectionsTitle"))
            .children(CRMS.map(|crm| crm_section(crm, d, ob, cx))),
    );
    out.push(settings(s));
    out.push(Node::new(Tag::Section).id("sync").children(sync_now()));
    out.push(export());
    out.push(diagnostics(d));
    out
}

/// One CRM: its state, disconnect, the setup check, one-click sign-in and, under Advanced,
/// the own-app form (paste keys or browser sign-in with one's own client).
pub fn crm_section(crm: Crm, d: &Diag, ob: &Onboarding, cx: &PageCtx) -> Node {
    let k = crm_id(crm);
    let connected = d.connected.contains(&crm);
    let mut sec = Node::new(Tag::Section)
        .id(format!("crm-{k}"))
        .class("crm")
        .child(Node::new(Tag::H3).text(crm_name(crm)))
        .child(status(format!("state-{k}")).key(state_key(d, crm)));
    if connected {
        sec = sec.child(
            Node::button(
                format!("disconnect-{k}"),
                Text::key("disconnect"),
                Action::Disconnect(crm),
            )
            .class("secondary"),
        );
    }
    if connected && ob.step == Step::Done {
        sec = sec.child(setup_block(crm, ob.reports.iter().find(|r| r.crm == crm)));
        if crm == Crm::Salesforce {
            sec = sec.child(chat_object_block());
        }
    }
    sec.child(sign_in_block(crm, ob, cx)).child(
        Node::new(Tag::Details)
            .id(format!("advanced-{k}"))
            .child(Node::new(Tag::Summary).key("advancedOwnApp"))
            .child(own_app_form(crm, connected, cx)),
    )
}

fn own_app_form(crm: Crm, connected: bool, cx: &PageCtx) -> Node {
    let k = crm_id(crm);
    let mut form = Node::new(Tag::Form)
        .id(format!("connect-{k}"))
        .label(Text::msg("connectTo", vec![Arg::word(crm_key(crm))]))
        .on(Action::Connect(crm));
    let spec = cx.forms.iter().find(|f| f.crm == crm);
    for f in spec.map(|s| s.fields).unwrap_or_default() {
        form = form.child(match f.kind {
            ui::FieldKind::DataCentre => ui::select(
                f.control,
                f.label,
                cx.zoho_dcs.iter().map(|(v, t)| (v.clone(), Text::data(t.clone()))).collect(),
            ),
            ui::FieldKind::Text { default } => ui::field(f.control, f.label, default),
            ui::FieldKind::Secret | ui::FieldKind::OptionalSecret => {
                secret(ui::field(f.control, f.label, ""))
            }
        });
    }
    if spec.is_some_and(|s| s.sign_in) {
        // Browser sign-in: only the app's fields marked for it are needed.
        form = form.child(Node::button(
            format!("oauth-{k}"),
            Text::msg("signInWith", vec![Arg::word(crm_key(crm))]),
            Action::OauthConnect(crm),
        ));
    }
    form.child(
        Node::new(Tag::Button)
            .id(format!("connect-{k}-submit"))
            .key(if connected { "reconnect" } else { "connect" })
            .attr(Attr::Type, "submit"),
    )
    .child(status(format!("connect-{k}-status")))
}

/// One-click sign-in with the product's app (Zoho: the data centre, guessed; Salesforce:
/// production, sandbox or My Domain), or LeadSquared's two keys (its docs' only way).
pub fn sign_in_block(crm: Crm, ob: &Onboarding, cx: &PageCtx) -> Node {
    let k = crm_id(crm);
    let block = Node::new(Tag::Div).id(format!("signin-block-{k}")).class("signin");
    let offered = match crm {
        Crm::Zoho => ob.offer_zoho,
        Crm::Salesforce => ob.offer_salesforce,
        Crm::Leadsquared => true,
    };
    if !offered {
        return block.child(Node::new(Tag::P).class("muted").key("noProductApp"));
    }
    let mut block = block;
    if let Some(p) = &ob.problem {
        block = block.child(
            Node::new(Tag::P)
                .id(format!("signin-problem-{k}"))
                .class("error")
                .text(Text::data(p.clone())),
        );
    }
    block = match crm {
        Crm::Zoho => {
            let mut sel = ui::select(
                "signin-zoho-dc",
                "fieldZohoRegion",
                cx.signin_dcs.iter().map(|(v, t)| (v.clone(), Text::data(t.clone()))).collect(),
            );
            for c in &mut sel.children {
                if c.tag == Some(Tag::Select) {
                    c.attrs.push((Attr::Value, cx.dc_guess.clone()));
                }
            }
            block.child(sel)
        }
        Crm::Salesforce => block
            .child(ui::select(
                "signin-sf-login",
                "fieldSfLogin",
                [
                    ("production", "sfLoginProduction"),
                    ("sandbox", "sfLoginSandbox"),
                    ("mydomain", "sfLoginMyDomain"),
                ]
                .map(|(v, t)| (v.to_string(), Text::key(t)))
                .to_vec(),
            ))
            .child(ui::field("signin-sf-domain", "fieldMyDomain", "")),
        Crm::Leadsquared => block
            .child(Node::new(Tag::P).class("muted").key("lsqKeysHelp"))
            .child(ui::field("signin-lsq-access", "fieldAccessKey", ""))
            .child(secret(ui::field("signin-lsq-secret", "fieldSecretKey", ""))),
    };
    let label = match crm {
        Crm::Zoho => "signInZoho",
        Crm::Salesforce => "signInSalesforce",
        Crm::Leadsquared => "connectLeadsquared",
    };
    block
        .child(
            Node::button(format!("signin-{k}"), Text::key(label), Action::SignIn(crm))
                .class("primary"),
        )
        .child(status(format!("signin-{k}-status")))
}

/// A CRM's last setup check: each line with its fix, and "Check again".
pub fn setup_block(crm: Crm, report: Option<&SetupReport>) -> Node {
    let k = crm_id(crm);
    let mut b = Node::new(Tag::Div).id(format!("setup-{k}")).class("setup").child(
        Node::new(Tag::H4)
            .text(Text::msg("labelValue", vec![Arg::word("setupTitle"), Arg::word(crm_key(crm))])),
    );
    let summary = status(format!("setup-{k}-summary"));
    match report {
        None => b = b.child(summary.key("setupNotRun")),
        Some(r) => {
            let failed = r.lines.iter().any(|l| l.state == LineState::Fail);
            b = b
                .attr(Attr::DataPassed, if failed { "false" } else { "true" })
                .child(summary.key(if failed { "setupFailed" } else { "setupPassed" }))
                .child(
                    Node::new(Tag::Ul)
                        .id(format!("setup-{k}-lines"))
                        .children(r.lines.iter().map(|l| setup_line(k, l))),
                );
        }
    }
    b.child(
        Node::button(format!("check-{k}"), Text::key("checkAgain"), Action::CheckAgain(crm))
            .class("secondary"),
    )
}

/// One line of a setup check, its mark and, unless it passed, what to do about it.
pub fn setup_line(k: &str, l: &SetupLine) -> Node {
    let mark = match l.state {
        LineState::Pass => "setupPass",
        LineState::Warn => "setupWarn",
        LineState::Fail => "setupFail",
    };
    let mut li = Node::new(Tag::Li)
        .id(format!("setup-{k}-{}", l.id))
        .attr(Attr::DataState, l.state.attr())
        .text(Text::msg(mark, vec![Arg::Data(l.text.clone())]));
    if let Some(fix) = l.fix.as_ref().filter(|_| l.state != LineState::Pass) {
        li = li.child(Node::new(Tag::P).class("fix").text(Text::data(fix.clone())));
    }
    li
}

/// For Salesforce admins: create `WhatsApp_Chat__c` and its fields in the org. It changes
/// the org, so the admin confirms first (the confirmation starts hidden).
pub fn chat_object_block() -> Node {
    Node::new(Tag::Div)
        .id("chat-object")
        .class("setup")
        .child(Node::new(Tag::H4).key("chatObjectTitle"))
        .child(Node::new(Tag::P).key("chatObjectIntro"))
        .child(
            Node::button(
                "chat-object-create",
                Text::key("chatObjectCreate"),
                Action::ChatObjectAsk,
            )
            .class("secondary"),
        )
        .child(
            Node::new(Tag::Div)
                .id("chat-object-confirm")
                .attr(Attr::Hidden, "")
                .child(Node::new(Tag::P).id("chat-object-confirm-text").key("chatObjectConfirm"))
                .child(Node::button(
                    "chat-object-yes",
                    Text::key("chatObjectYes"),
                    Action::ChatObjectYes,
                ))
                .child(
                    Node::button("chat-object-no", Text::key("confirmNo"), Action::ChatObjectNo)
                        .class("secondary"),
                ),
        )
        .child(status("chat-object-status"))
}

fn checkbox(name: &str, label_key: &'static str, checked: bool) -> Node {
    let id = format!("f-{name}");
    Node::new(Tag::Div)
        .class("check")
        .child(
            Node::new(Tag::Input)
                .id(&id)
                .attr(Attr::Type, "checkbox")
                .attr(Attr::Checked, if checked { "true" } else { "false" }),
        )
        .child(Node::new(Tag::Label).attr(Attr::For, id).key(label_key))
}

/// The settings form; the fields' errors show next to them (`#err-<field>`).
pub fn settings(s: &Settings) -> Node {
    let mut form = Node::new(Tag::Form)
        .id("settings")
        .on(Action::SaveSettings)
        .child(Node::new(Tag::H2).key("settingsTitle"))
        .child(ui::field("default_region", "fieldRegion", &s.default_region))
        .child(Node::new(Tag::H3).key("searchTitle"))
        .child(checkbox("search_contacts", "searchContacts", s.search_contacts))
        .child(checkbox("search_leads", "searchLeads", s.search_leads))
        .child(Node::new(Tag::H3).key("backupTitle"))
        .child(checkbox("backup_notes", "backupNotes", s.backup_notes))
        .child(checkbox("backup_deals", "backupDeals", s.backup_deals))
        .child(checkbox("backup_custom_object", "backupCustomObject", s.backup_custom_object))
        .child(checkbox("backup_activities", "backupActivities", s.backup_activities))
        .child(Node::new(Tag::H3).key("privacyTitle"))
        .child(checkbox("mask_cards", "maskCards", s.mask_cards))
        .child(checkbox("mask_ids", "maskIds", s.mask_ids))
        .child(checkbox("mask_codes", "maskCodes", s.mask_codes))
        .child(Node::new(Tag::H3).key("syncTitle"))
        .child(checkbox("sync_enabled", "syncEnabled", s.sync_enabled))
        .child(ui::field(
            "backup_window_days",
            "labelWindowDays",
            &s.backup_window_days.to_string(),
        ))
        .child(
            Node::new(Tag::Div)
                .class("field")
                .child(
                    Node::new(Tag::Label).attr(Attr::For, "f-excluded_chats").key("fieldExcluded"),
                )
                .child(
                    Node::new(Tag::Textarea)
                        .id("f-excluded_chats")
                        .attr(Attr::Value, s.excluded_chats.join("\n"))
                        .attr(Attr::Rows, "3"),
                ),
        );
    // Every field the worker can report on has its error line (the checkboxes have none).
    for f in SETTINGS_ERRORS {
        let id = format!("err-{f}");
        if form.find(&id).is_none() {
            form = form.child(Node::new(Tag::Span).id(id).class("error"));
        }
    }
    form.child(Node::new(Tag::Button).id("settings-save").key("save").attr(Attr::Type, "submit"))
        .child(status("settings-status"))
}

/// The settings fields the worker's validation may name.
pub const SETTINGS_ERRORS: [&str; 3] = ["default_region", "search_contacts", "backup_window_days"];

/// Export: the worker's JSON, downloaded as a file (the shell adds the link).
pub fn export() -> Node {
    Node::new(Tag::Section)
        .id("export")
        .child(Node::new(Tag::H2).key("exportTitle"))
        .child(Node::button("export-button", Text::key("exportButton"), Action::Export))
        .child(status("export-status"))
}

/// The worker's diagnostics: capture, pending, errors, page health, API budget, the log.
pub fn diagnostics(d: &Diag) -> Node {
    let capture = Text::msg(
        "diagCaptureLine",
        vec![n(d.rows_seen), n(d.parsed), Arg::Data(d.skipped.clone())],
    );
    let budget = semi(
        d.budget
            .iter()
            .map(|(crm, left, max)| match max {
                Some(max) => {
                    Text::msg("budgetLeftOf", vec![Arg::Data(crm.clone()), n(*left), n(*max)])
                }
                None => Text::msg("budgetLeft", vec![Arg::Data(crm.clone()), n(*left)]),
            })
            .collect(),
    );
    let rows: [(&'static str, &str, Text); 7] = [
        ("diagCapture", "diag-capture", capture),
        ("diagPending", "diag-pending", Text::data(d.pending.to_string())),
        ("diagLastError", "diag-last-error", or_dash(&d.last_error)),
        ("diagParked", "diag-parked", semi(d.parked.iter().cloned().map(Text::Data).collect())),
        ("diagHealth", "diag-health", semi(d.health.iter().cloned().map(Text::Data).collect())),
        ("diagBudget", "diag-budget", budget),
        ("diagContentError", "diag-content-error", or_dash(&d.content_error)),
    ];
    let mut dl = Node::new(Tag::Dl);
    for (label, id, value) in rows {
        dl = dl.child(Node::new(Tag::Dt).key(label)).child(Node::new(Tag::Dd).id(id).text(value));
    }
    Node::new(Tag::Section)
        .id("diagnostics")
        .child(Node::new(Tag::H2).key("diagTitle"))
        .child(dl)
        .child(Node::new(Tag::Ol).id("diag-log").children(d.log.iter().map(|(at, text)| {
            Node::new(Tag::Li).text(Text::msg(
                "logLine",
                vec![Arg::Fmt(Fmt::Utc { ms: *at }), Arg::Data(text.clone())],
            ))
        })))
}

/// The region the first run proposes: one the rep saved wins over the guess from the own
/// number (or the browser's language).
pub fn first_region(s: &Settings, lang: &str, own: &str) -> String {
    if s.default_region != Settings::default().default_region {
        s.default_region.clone()
    } else {
        first_run::guess_region(lang, Some(own))
    }
}

/// The guided first run: pick a CRM and sign in (the CRM sections below), then the setup
/// check and the default phone region here, then where the first backup will appear.
/// Nothing once the rep finished (unless they just did, in this page).
pub fn first_run(ob: &Onboarding, s: &Settings, cx: &PageCtx) -> Option<Node> {
    if ob.step == Step::Done && !cx.just_finished {
        return None;
    }
    let step = match ob.step {
        Step::PickCrm => "pick_crm",
        Step::Finish => "finish",
        Step::Done => "done",
    };
    let sec = Node::new(Tag::Section)
        .id("first-run")
        .attr(Attr::DataStep, step)
        .child(Node::new(Tag::H2).key("firstRunTitle"));
    Some(match ob.step {
        Step::PickCrm => sec.child(Node::new(Tag::P).id("first-run-intro").key("firstRunIntro")),
        Step::Finish => {
            let own = ob.own_number.as_deref().unwrap_or("");
            let mut own_field = ui::field("first-own-number", "fieldOwnNumber", own);
            for c in &mut own_field.children {
                if c.tag == Some(Tag::Input) {
                    // Typing the own number guesses the region again.
                    c.on = Some(Action::OwnNumberTyped);
                }
            }
            sec.children(
                ob.connected
                    .iter()
                    .map(|crm| setup_block(*crm, ob.reports.iter().find(|r| r.crm == *crm))),
            )
            .child(Node::new(Tag::H3).key("firstRegionTitle"))
            .child(Node::new(Tag::P).class("muted").key("firstRegionHelp"))
            .child(ui::field("first-region", "fieldRegion", &first_region(s, &cx.lang, own)))
            .child(own_field)
            .child(
                Node::button("first-finish", Text::key("firstFinish"), Action::FirstRunFinish)
                    .class("primary"),
            )
            .child(status("first-status"))
        }
        Step::Done => {
            let where_ = ob
                .connected
                .iter()
                .map(|c| {
                    Text::key(match c {
                        Crm::Zoho => "whereZoho",
                        Crm::Salesforce => "whereSalesforce",
                        Crm::Leadsquared => "whereLeadsquared",
                    })
                })
                .collect::<Vec<_>>();
            let where_ = if where_.is_empty() {
                Arg::Data(String::new())
            } else {
                Arg::Text(Box::new(semi(where_)))
            };
            sec.child(
                status("first-done")
                    .text(Text::msg("firstDone", vec![n(u64::from(s.backup_window_days)), where_])),
            )
            .child(
                Node::button("open-whatsapp", Text::key("openWhatsApp"), Action::OpenWhatsApp)
                    .class("primary"),
            )
        }
    })
}

#[cfg(test)]
#[path = "options_view_tests.rs"]
pub(crate) mod tests;
