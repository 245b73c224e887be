//! The Mini-CRM panel as a view tree ([`crate::core::ui::Node`]), built from a
//! [`PanelState`] and what the frame knows (the time, the rep's region, the open chat).
//! Pure: every panel state has a native snapshot test; the shell only renders the tree and
//! maps its [`Action`]s to handlers.
use crate::core::model::Crm;
use crate::core::model::{BackfillOutcome as Outcome, BackfillProgress as Progress};
use crate::core::outbox::OlderMessages;
use crate::core::ui::{Action, Arg, Attr, Fmt, Node, Tag, Text};
use crate::core::view::{self, Candidate, ContactCard, DealRow, PanelState, SyncState};

/// What the frame knows besides the state: injected, so no test depends on the clock.
#[derive(Clone, Debug, PartialEq)]
pub struct Ctx {
    pub now_ms: i64,
    /// Minutes to add to UTC for the rep's local time (the browser's offset).
    pub utc_offset_min: i32,
    /// The rep's phone region (ISO 3166 alpha-2): numbers of that country are shown in
    /// national format, others in international format.
    pub region: String,
    /// The open chat as the worker knows it: (chat key, name).
    pub chat: Option<(String, String)>,
}

impl Ctx {
    /// The rep's local calendar day today, as days since 1970-01-01.
    fn today(&self) -> i64 {
        (self.now_ms + i64::from(self.utc_offset_min) * 60_000).div_euclid(86_400_000)
    }

    /// The chat as actions name it: the name and the number (or id) the worker knows.
    pub fn chat_label(&self) -> Arg {
        match &self.chat {
            Some((key, name)) => chat_label(key, name),
            None => Arg::Data(String::new()),
        }
    }
}

/// "Ana (+5511987654321)"; just the name when the name is the number.
pub fn chat_label(key: &str, name: &str) -> Arg {
    let id = key.split_once(':').map(|(_, v)| v).unwrap_or(key);
    if id == name {
        view::clean_text(name).into()
    } else {
        Arg::Text(Box::new(Text::msg(
            "chatLabel",
            vec![view::clean_text(name).into(), view::clean_text(id).into()],
        )))
    }
}

/// The frame around every state: header, notices, the confirm box, the state, capture and
/// backfill lines, and the diagnostics (service worker, version) folded away.
pub fn frame() -> Node {
    Node::new(Tag::Div)
        .child(
            Node::new(Tag::Header)
                .child(Node::new(Tag::Span).id("product").key("panelTitle"))
                .child(
                    Node::button("collapse", Text::key("collapseGlyph"), Action::Collapse)
                        .label(Text::key("collapse"))
                        .attr(Attr::AriaExpanded, "true"),
                ),
        )
        .child(Node::status("notice"))
        // Until the setup check passes: what is missing in the CRM, and who fixes it.
        .child(Node::new(Tag::P).id("setup-notice").class("error"))
        .child(Node::new(Tag::Section).id("confirm").attr(Attr::Hidden, ""))
        .child(Node::new(Tag::Section).id("state"))
        .child(Node::new(Tag::P).id("capture"))
        .child(
            Node::new(Tag::Section)
                .id("backfill")
                .attr(Attr::AriaLabelledBy, "backfill-start")
                .children(backfill_idle()),
        )
        .child(diagnostics())
}

/// Developer details, out of the rep's way: whether the worker answers, the version.
fn diagnostics() -> Node {
    Node::new(Tag::Details)
        .id("diagnostics")
        .class("muted")
        .child(Node::new(Tag::Summary).key("diagTitle"))
        .child(Node::new(Tag::P).id("worker"))
        .child(
            Node::new(Tag::P)
                .id("version")
                .text(Text::msg("versionLine", vec![env!("CARGO_PKG_VERSION").into()])),
        )
}

/// The worker line in the diagnostics: running, or its error.
pub fn worker_line(reply: Result<(), String>) -> Text {
    match reply {
        Ok(()) => Text::key("workerRunning"),
        Err(e) => Text::msg("workerDown", vec![e.into()]),
    }
}

/// The capture line: empty unless the page blocked the content script's wasm.
pub fn capture_line(blocked: Option<&str>) -> Option<Text> {
    let reason = blocked?.trim();
    Some(if reason.is_empty() {
        Text::key("captureBlocked")
    } else {
        Text::msg("captureBlockedWhy", vec![reason.into()])
    })
}

/// The `data-view` name of a state (tests and styles select on it).
pub fn view_name(s: &PanelState) -> &'static str {
    match s {
        PanelState::NotConnected => "not_connected",
        PanelState::Connecting => "connecting",
        PanelState::NoChat => "no_chat",
        PanelState::Linked { .. } => "linked",
        PanelState::Unknown { .. } => "unknown",
        PanelState::Ambiguous { .. } => "ambiguous",
        PanelState::Group { .. } => "group",
        PanelState::LidOnly { .. } => "lid_only",
        PanelState::CaptureBlocked { .. } => "capture_blocked",
        PanelState::Excluded { .. } => "excluded",
    }
}

fn message(t: Text) -> Node {
    Node::new(Tag::P).id("message").text(t)
}

/// The content of `#state` for a panel state.
pub fn state(s: &PanelState, cx: &Ctx) -> Vec<Node> {
    match s {
        PanelState::NotConnected => vec![
            message(Text::key("notConnected")),
            Node::button("open-options", Text::key("openOptions"), Action::OpenOptions),
        ],
        PanelState::Connecting => {
            vec![message(Text::key("connecting")).attr(Attr::AriaBusy, "true")]
        }
        PanelState::NoChat => vec![message(Text::key("noChat"))],
        PanelState::Linked { card, deals, last_synced_ms, sync, older, masking, saved } => {
            let mut out = linked(card, deals, *last_synced_ms, sync, cx);
            out.extend(saved_nodes(saved, cx));
            out.extend(older_nodes(older.as_ref()));
            out.extend(masking_nodes(*masking));
            out
        }
        PanelState::Unknown { name, phone, crms } => {
            let mut out = vec![message(Text::msg(
                "unknownNumber",
                vec![phone_display(phone, &cx.region).into()],
            ))];
            out.extend(create_and_link(name, phone, crms));
            out.push(exclude_button(false));
            out
        }
        PanelState::Ambiguous { name, candidates } => vec![
            message(Text::msg("ambiguous", vec![view::clean_text(name).into()])),
            Node::new(Tag::Ul).id("candidates").children(candidate_items(
                "candidates",
                candidates,
                true,
            )),
        ],
        PanelState::Group { name, participants, backup_to, older, masking, saved } => {
            let mut out = vec![
                Node::new(Tag::H2).id("group-name").text(Text::data(name)),
                Node::new(Tag::H3).key("groupParticipants"),
                Node::new(Tag::Ul)
                    .id("participants")
                    .children(participants.iter().enumerate().map(|(i, p)| participant(i, p, cx))),
                Node::new(Tag::Div).id("participant-action"),
                Node::new(Tag::P).id("group-backup").text(if backup_to.is_empty() {
                    Text::key("groupNoBackup")
                } else {
                    Text::msg(
                        "groupBackupTo",
                        vec![Arg::Text(Box::new(list(backup_to.iter().map(record_text))))],
                    )
                }),
            ];
            out.extend(saved_nodes(saved, cx));
            out.extend(older_nodes(older.as_ref()));
            out.extend(masking_nodes(*masking));
            out.push(exclude_button(false));
            out
        }
        PanelState::LidOnly { name, suggest } => {
            let mut out = vec![message(Text::msg("lidOnly", vec![view::clean_text(name).into()]))];
            let mut forms =
                create_and_link(name, "", &[Crm::Zoho, Crm::Salesforce, Crm::Leadsquared]);
            if let Some(q) = suggest {
                // The search, filled in with the suggestion (the shell runs it once); the
                // rep links a result only after confirming it is this person.
                forms.pop();
                let why = if q.contains('@') { "lidSuggestedEmail" } else { "lidSuggestedName" };
                let mut link = link_form(q);
                let at = link.children.len().saturating_sub(1); // before the results
                link.children.insert(at, Node::new(Tag::P).id("suggested").key(why));
                forms.push(link);
            }
            out.extend(forms);
            out
        }
        PanelState::CaptureBlocked { reason } => {
            vec![message(capture_line(Some(reason)).unwrap_or(Text::key("captureBlocked")))]
        }
        PanelState::Excluded { name } => vec![
            message(Text::msg("excluded", vec![view::clean_text(name).into()])),
            exclude_button(true),
        ],
    }
}

/// A phone number as the rep reads it: national format for numbers of the rep's region,
/// international for others; as the CRM wrote it when libphonenumber cannot read it.
pub fn phone_display(raw: &str, region: &str) -> String {
    crate::core::phone::display(raw, region).unwrap_or_else(|| view::clean_text(raw))
}

fn linked(
    card: &ContactCard,
    deals: &[DealRow],
    last: Option<i64>,
    sync: &SyncState,
    cx: &Ctx,
) -> Vec<Node> {
    let phones: Vec<String> = card.phones.iter().map(|p| phone_display(p, &cx.region)).collect();
    let rows: [(&str, &'static str, Option<String>); 6] = [
        ("card-company", "labelCompany", card.company.clone()),
        ("card-title", "labelTitle", card.title.clone()),
        ("card-email", "labelEmail", card.email.clone()),
        ("card-phones", "labelPhones", (!phones.is_empty()).then(|| phones.join(", "))),
        ("card-owner", "labelOwner", card.owner.clone()),
        ("card-status", "labelStatus", card.status.clone()),
    ];
    let mut dl = Node::new(Tag::Dl);
    for (id, key, value) in rows {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            dl = dl
                .child(Node::new(Tag::Dt).key(key))
                .child(Node::new(Tag::Dd).id(id).text(Text::data(v)));
        }
    }
    let mut sec = Node::new(Tag::Section)
        .id("card")
        .attr(Attr::AriaLabelledBy, "card-name")
        .child(Node::new(Tag::Span).id("crm-badge").class("badge").text(crm_name(card.crm)))
        .child(Node::new(Tag::H2).id("card-name").text(Text::data(&card.name)))
        .child(dl);
    if let Some(url) = card.url.as_deref().and_then(|u| view::safe_record_url(card.crm, u)) {
        sec = sec.child(
            Node::new(Tag::A)
                .id("open-record")
                .attr(Attr::Href, url)
                .attr(Attr::Target, "_blank")
                .attr(Attr::Rel, "noopener noreferrer")
                .text(Text::msg("openInCrm", vec![Arg::word(crm_key(card.crm))])),
        );
    }
    let mut out = vec![sec];
    if !deals.is_empty() {
        out.push(Node::new(Tag::H3).id("deals-title").key("dealsTitle"));
        out.push(
            Node::new(Tag::Ul)
                .id("deals")
                .children(deals.iter().take(view::MAX_DEALS).map(|d| deal(d, cx))),
        );
    }
    let mut ls =
        Node::new(Tag::P).id("last-synced").text(view::last_synced(cx.now_ms, last).into());
    if let Some(ms) = last {
        ls = ls.title(Text::Fmt(Fmt::Stamp { ms }));
    }
    out.push(ls);
    out.push(
        Node::status("sync-state")
            .attr(Attr::AriaLive, "polite")
            .text(view::sync_line(cx.now_ms, sync).into()),
    );
    if view::needs_reconnect(sync) {
        out.push(Node::button("reconnect", Text::key("reconnect"), Action::OpenOptions));
    }
    out.push(Node::button("sync-now", Text::key("syncNow"), Action::SyncNow));
    out.push(Node::button("unlink", Text::key("unlink"), Action::Unlink).class("secondary"));
    out
}

/// The message key of a CRM's product name (a brand: the same in every locale, but kept in
/// the catalogue so translators can add a script where needed).
pub fn crm_key(c: Crm) -> &'static str {
    match c {
        Crm::Zoho => "crmZoho",
        Crm::Salesforce => "crmSalesforce",
        Crm::Leadsquared => "crmLeadsquared",
    }
}

pub fn crm_name(c: Crm) -> Text {
    Text::key(crm_key(c))
}

fn kind_key(kind: &str) -> &'static str {
    match kind {
        "lead" => "kindLeadWord",
        "deal" => "kindDealWord",
        "opportunity" => "kindOpportunityWord",
        _ => "kindContactWord",
    }
}

/// A calendar day `YYYY-MM-DD` → days since 1970-01-01.
fn day_number(ymd: &str) -> Option<(i64, (i32, u8, u8))> {
    let d = view::format_date(ymd)?;
    let y: i32 = d[..4].parse().ok()?;
    let m: u8 = d[5..7].parse().ok()?;
    let dd: u8 = d[8..10].parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&dd) {
        return None;
    }
    let mins = crate::core::schedule::local_minutes(&crate::core::model::LocalMinute {
        year: y as u16,
        month: m,
        day: dd,
        hour: 0,
        minute: 0,
    });
    Some((mins.div_euclid(1440), (y, m, dd)))
}

/// "closes today", "closes tomorrow", "closes in 6 days", "closes 14 Mar", "closed 2 Dec":
/// relative to the rep's local day.
pub fn close_text(raw: &str, cx: &Ctx) -> Option<Text> {
    let (day, (y, m, d)) = day_number(raw)?;
    let today = cx.today();
    let this_year = crate::core::schedule::civil_from_days(today).0 as i32;
    let date = || Arg::Fmt(Fmt::Day { y, m, d, year: y != this_year });
    let diff = day - today;
    Some(match diff {
        0 => Text::key("dealClosesToday"),
        1 => Text::key("dealClosesTomorrow"),
        2..=30 => Text::msg("dealClosesInDays", vec![Arg::Fmt(Fmt::Count { n: diff })]),
        d if d > 30 => Text::msg("dealClosesOn", vec![date()]),
        _ => Text::msg("dealClosedOn", vec![date()]),
    })
}

/// A three-letter currency code, upper case, or nothing (the shell hands it to `Intl`,
/// which throws on anything else).
pub fn currency_code(c: Option<&str>) -> Option<String> {
    let c = c?.trim();
    (c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic())).then(|| c.to_ascii_uppercase())
}

fn deal(d: &DealRow, cx: &Ctx) -> Node {
    let mut meta = Node::new(Tag::Span).class("deal-meta");
    if let Some(s) = d.stage.as_deref().filter(|s| !s.trim().is_empty()) {
        meta = meta.child(Node::new(Tag::Span).class("chip").text(Text::data(s)));
    }
    if let Some(a) = d.amount.filter(|a| a.is_finite()) {
        meta = meta.child(Node::new(Tag::Span).class("deal-amount").text(Text::Fmt(Fmt::Money {
            amount: a,
            currency: currency_code(d.currency.as_deref()),
        })));
    }
    if let Some(t) = d.close_date.as_deref().and_then(|c| close_text(c, cx)) {
        meta = meta.child(Node::new(Tag::Span).class("deal-close").text(t));
    }
    Node::new(Tag::Li)
        .child(Node::new(Tag::Span).class("deal-name").text(Text::data(&d.name)))
        .child(meta)
}

fn older_nodes(older: Option<&OlderMessages>) -> Vec<Node> {
    let Some(o) = older else { return vec![] };
    vec![
        Node::new(Tag::P).id("older").text(view::older_line(o).into()),
        Node::button(
            "back-up-older",
            Text::key("backUpOlder"),
            Action::BackUpOlder { count: o.count },
        )
        .class("secondary"),
    ]
}

fn doc_kind(target: &str) -> &'static str {
    match target {
        "task" => "docTask",
        "chat" => "docChat",
        "activity" => "docActivity",
        _ => "docNote",
    }
}

/// Proof of what was saved: per CRM, the latest day's document ("Zoho CRM note “WhatsApp ·
/// Ana Souza · 1 Dec 2026”: 12 messages, saved 14:02"), with a link that opens it.
pub fn saved_nodes(saved: &[view::Receipt], cx: &Ctx) -> Vec<Node> {
    if saved.is_empty() {
        return vec![];
    }
    let today = crate::core::schedule::civil_from_days(cx.today());
    let today = format!("{:04}-{:02}-{:02}", today.0, today.1, today.2);
    let title = if saved.iter().all(|r| r.day == today) { "savedTitle" } else { "popupSavedTitle" };
    vec![
        Node::new(Tag::H3).id("saved-title").key(title),
        Node::new(Tag::Ul).id("saved").children(saved.iter().map(receipt_item)),
    ]
}

/// One receipt line, with its link when the CRM's URL is safe to open.
pub fn receipt_item(r: &view::Receipt) -> Node {
    let (_, (y, m, d)) = day_number(&r.day).unwrap_or((0, (0, 0, 0)));
    let day =
        if y == 0 { Arg::Data(r.day.clone()) } else { Arg::Fmt(Fmt::Day { y, m, d, year: true }) };
    let name = view::clean_text(&r.title);
    let name = if r.group {
        Arg::Text(Box::new(Text::msg("groupTitle", vec![name.into()])))
    } else {
        name.into()
    };
    let title = Text::msg("docTitle", vec![name, day]);
    let saved = match r.saved_ms {
        Some(ms) => Arg::Fmt(Fmt::Time { ms }),
        None => Arg::word("noDay"),
    };
    let mut li = Node::new(Tag::Li).attr(Attr::DataView, r.target.clone()).child(
        Node::new(Tag::Span).class("receipt").text({
            let (crm, kind, title) = (
                Arg::word(crm_key(r.crm)),
                Arg::word(doc_kind(&r.target)),
                Arg::Text(Box::new(title)),
            );
            if r.messages == 1 {
                Text::msg("savedDocOne", vec![crm, kind, title, saved])
            } else {
                let n = Arg::Fmt(Fmt::Count { n: i64::from(r.messages) });
                Text::msg("savedDoc", vec![crm, kind, title, n, saved])
            }
        }),
    );
    if let Some(url) = r.url.as_deref().and_then(|u| view::safe_record_url(r.crm, u)) {
        li = li.child(
            Node::new(Tag::A)
                .class("open-doc")
                .attr(Attr::Href, url)
                .attr(Attr::Target, "_blank")
                .attr(Attr::Rel, "noopener noreferrer")
                .key("openDoc"),
        );
    }
    li
}

/// Whether this chat's backups are masked, and the rep's per-chat switch (confirmed).
fn masking_nodes(masking: Option<bool>) -> Vec<Node> {
    let Some(masked) = masking else { return vec![] };
    let (line, button) =
        if masked { ("maskOn", "maskOffButton") } else { ("maskOff", "maskOnButton") };
    vec![
        Node::new(Tag::P).id("mask-state").class("muted").key(line),
        Node::button("mask-toggle", Text::key(button), Action::ToggleMask { masked: !masked })
            .class("secondary"),
    ]
}

fn exclude_button(excluded: bool) -> Node {
    Node::button(
        "exclude",
        Text::key(if excluded { "includeChat" } else { "excludeChat" }),
        Action::ToggleExclude { excluded },
    )
    .class("secondary")
}

/// A group participant: the record it is linked to, or (with a number) create / find.
fn participant(i: usize, p: &view::Participant, cx: &Ctx) -> Node {
    let mut li =
        Node::new(Tag::Li).child(Node::new(Tag::Span).class("deal-name").text(Text::data(&p.name)));
    match (&p.record, &p.phone) {
        (Some(r), _) => {
            // A matched participant opens its record, as the card does.
            let url = p.linked.as_ref().zip(p.url.as_deref());
            match url.and_then(|(rec, u)| view::safe_record_url(rec.crm, u)) {
                Some(url) => {
                    li = li.child(
                        Node::new(Tag::A)
                            .class("deal-meta")
                            .attr(Attr::Href, url)
                            .attr(Attr::Target, "_blank")
                            .attr(Attr::Rel, "noopener noreferrer")
                            .text(Text::data(r)),
                    );
                }
                None => li = li.child(Node::new(Tag::Span).class("deal-meta").text(Text::data(r))),
            }
        }
        (None, Some(phone)) => {
            li = li
                .child(
                    Node::new(Tag::Span)
                        .class("deal-meta")
                        .text(Text::data(phone_display(phone, &cx.region))),
                )
                .child(
                    Node::button(
                        format!("participant-create-{i}"),
                        Text::key("create"),
                        Action::CreateFor(i),
                    )
                    .class("secondary")
                    .label(Text::msg("createFor", vec![view::clean_text(&p.name).into()])),
                )
                .child(
                    Node::button(
                        format!("participant-link-{i}"),
                        Text::key("link"),
                        Action::SearchFor(i),
                    )
                    .class("secondary")
                    .label(Text::msg("linkFor", vec![view::clean_text(&p.name).into()])),
                );
        }
        (None, None) => {}
    }
    li
}

/// The create form (prefilled from the WhatsApp name and number) and the link search.
pub fn create_and_link(name: &str, phone: &str, crms: &[Crm]) -> Vec<Node> {
    let pre = view::prefill(name, phone);
    let kinds = vec![
        ("contact".to_string(), Text::key("kindContact")),
        ("lead".to_string(), Text::key("kindLead")),
    ];
    let crm_opts = crms
        .iter()
        .map(|c| {
            let v = serde_json::to_value(c)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            (v, crm_name(*c))
        })
        .collect();
    let create = Node::new(Tag::Form)
        .id("create-form")
        .attr(Attr::AriaLabelledBy, "create-title")
        .attr(Attr::NoValidate, "")
        .on(Action::SubmitCreate)
        .child(Node::new(Tag::H3).id("create-title").key("createTitle"))
        .child(crate::core::ui::select("kind", "fieldKind", kinds))
        .child(crate::core::ui::select("crm", "fieldCrm", crm_opts))
        .child(crate::core::ui::field("first_name", "fieldFirstName", &pre.first_name))
        .child(crate::core::ui::field("last_name", "fieldLastName", &pre.last_name))
        .child(crate::core::ui::field("phone", "fieldPhone", &pre.phone))
        .child(crate::core::ui::field("email", "fieldEmail", ""))
        .child(crate::core::ui::field("company", "fieldCompany", ""))
        .child(
            Node::new(Tag::Button)
                .id("create-submit")
                .attr(Attr::Type, "submit")
                .key("createSubmit"),
        )
        .child(Node::status("form-status"));
    vec![create, link_form("")]
}

/// Link an existing record: search by name, email or phone.
fn link_form(query: &str) -> Node {
    Node::new(Tag::Form)
        .id("link-form")
        .attr(Attr::Role, "search")
        .on(Action::SubmitSearch)
        .child(Node::new(Tag::H3).key("linkTitle"))
        .child(crate::core::ui::field("query", "fieldSearch", query))
        .child(
            Node::new(Tag::Button).id("link-search").attr(Attr::Type, "submit").key("linkSearch"),
        )
        .child(Node::status("link-status"))
        .child(Node::new(Tag::Ul).id("results"))
}

/// Under a group's participants: the create form for participant `name` (prefilled), or the
/// search with their number. What the rep creates or links backs the group up to it.
pub fn participant_forms(a: &Action, name: &str, phone: &str) -> Vec<Node> {
    match a {
        Action::CreateFor(_) => {
            create_and_link(name, phone, &[Crm::Zoho, Crm::Salesforce, Crm::Leadsquared])
                .into_iter()
                .take(1)
                .collect()
        }
        _ => vec![link_form(phone)],
    }
}

/// Several texts as one list ("a, b, c"), through `listJoin` so the separator is the
/// language's.
fn list(items: impl Iterator<Item = Text>) -> Text {
    items
        .reduce(|a, b| Text::msg("listJoin", vec![Arg::Text(Box::new(a)), Arg::Text(Box::new(b))]))
        .unwrap_or(Text::Data(String::new()))
}

/// "Ana Souza (Zoho CRM contact)": a record as confirmations name it.
fn record_text(c: &Candidate) -> Text {
    Text::msg(
        "recordLabel",
        vec![
            view::clean_text(&c.name).into(),
            Arg::word(crm_key(c.crm)),
            Arg::word(kind_key(&c.kind)),
        ],
    )
}

/// Records with a button each: choose (chooser, `#candidates-i`) or link (search results,
/// `#results-i`).
pub fn candidate_items(list_id: &str, candidates: &[Candidate], choose: bool) -> Vec<Node> {
    candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (key, action) = if choose {
                ("choose", Action::Choose(i))
            } else {
                ("link", Action::LinkResult(i))
            };
            let mut li =
                Node::new(Tag::Li).child(Node::new(Tag::Span).class("deal-name").text(Text::msg(
                    "candidateLine",
                    vec![
                        view::clean_text(&c.name).into(),
                        Arg::word(crm_key(c.crm)),
                        Arg::word(kind_key(&c.kind)),
                    ],
                )));
            if let Some(d) = &c.detail {
                li = li.child(Node::new(Tag::Span).class("deal-meta").text(Text::data(d)));
            }
            if let Some((field, value)) = &c.matched_on {
                li = li.child(Node::new(Tag::Span).class("deal-meta").text(Text::msg(
                    "matchedOn",
                    vec![view::clean_text(field).into(), view::clean_text(value).into()],
                )));
            }
            li.child(Node::button(format!("{list_id}-{i}"), Text::key(key), action).label(
                Text::msg(
                    if choose { "chooseRecord" } else { "linkRecord" },
                    vec![view::clean_text(&c.name).into()],
                ),
            ))
        })
        .collect()
}

/// The confirm box's content for a question.
pub fn confirm_box(question: Text) -> Vec<Node> {
    vec![
        Node::new(Tag::P).id("confirm-text").attr(Attr::Role, "alert").text(question),
        Node::button("confirm-yes", Text::key("confirmYes"), Action::ConfirmYes),
        Node::button("confirm-no", Text::key("confirmNo"), Action::ConfirmNo).class("secondary"),
    ]
}

/// The question a state-changing action asks before it runs (`None`: it needs no
/// confirmation). `records` are the candidates or search results the action's index is in.
pub fn confirm_question(
    action: &Action,
    cx: &Ctx,
    records: &[Candidate],
    create_crm: Option<Crm>,
) -> Option<Text> {
    let chat: Arg = cx.chat_label();
    Some(match action {
        Action::Unlink => Text::msg("confirmUnlink", vec![chat]),
        Action::ToggleExclude { excluded: false } => Text::msg("confirmExclude", vec![chat]),
        Action::ToggleExclude { excluded: true } => Text::msg("confirmInclude", vec![chat]),
        Action::BackUpOlder { count } => Text::msg(
            "confirmBackUpOlder",
            vec![Arg::Fmt(Fmt::Count { n: i64::from(*count) }), chat],
        ),
        Action::Choose(i) | Action::LinkResult(i) => {
            let c = records.get(*i)?;
            Text::msg("confirmLink", vec![chat, Arg::Text(Box::new(record_text(c)))])
        }
        Action::SubmitCreate => {
            Text::msg("confirmCreate", vec![chat, Arg::word(crm_key(create_crm?))])
        }
        Action::BackfillStart => Text::key("confirmBackfill"),
        Action::ToggleMask { masked: false } => Text::msg("confirmUnmask", vec![chat]),
        Action::ToggleMask { masked: true } => Text::msg("confirmMask", vec![chat]),
        _ => return None,
    })
}

/// The guided backfill before it runs: one button.
pub fn backfill_idle() -> Vec<Node> {
    vec![Node::button("backfill-start", Text::key("backfillStart"), Action::BackfillStart)
        .class("secondary")]
}

/// The guided backfill under way or done.
pub fn backfill(p: &Progress) -> Vec<Node> {
    let count = |n: usize| Arg::Fmt(Fmt::Count { n: n as i64 });
    let line = match (&p.current, p.finished) {
        (_, true) => Text::msg("backfillDone", vec![count(p.done), count(p.total)]),
        (Some(c), false) => Text::msg(
            "backfillCurrent",
            vec![view::clean_text(c).into(), count(p.done + 1), count(p.total)],
        ),
        (None, false) => Text::key("working"),
    };
    let mut out = vec![
        Node::new(Tag::H3).key("backfillTitle"),
        Node::new(Tag::Progress)
            .id("backfill-progress")
            .attr(Attr::Max, p.total.max(1).to_string())
            .attr(Attr::Value, p.done.to_string())
            .label(Text::key("backfillTitle")),
        Node::status("backfill-status").text(line),
    ];
    if !p.finished {
        out.push(
            Node::button("backfill-cancel", Text::key("backfillCancel"), Action::BackfillCancel)
                .class("secondary"),
        );
    }
    out.push(Node::new(Tag::Ul).id("backfill-results").children(p.results.iter().map(
        |(title, outcome)| {
            let t: Arg = view::clean_text(title).into();
            let text = match outcome {
                Outcome::Covered { messages } => {
                    Text::msg("backfillCovered", vec![t, count(*messages)])
                }
                Outcome::HistoryEnds { messages, oldest } => Text::msg(
                    "backfillHistoryEnds",
                    vec![
                        t,
                        oldest.clone().map(Arg::Data).unwrap_or(Arg::word("noDay")),
                        count(*messages),
                    ],
                ),
                Outcome::NotOpened { reason } => {
                    Text::msg("backfillNotOpened", vec![t, reason.clone().into()])
                }
                Outcome::Cancelled => Text::msg("backfillCancelled", vec![t]),
            };
            Node::new(Tag::Li).text(text)
        },
    )));
    if !p.unreadable.is_empty() {
        let names: Vec<String> = p.unreadable.iter().map(|n| view::clean_text(n)).collect();
        out.push(
            Node::new(Tag::P)
                .id("backfill-unreadable")
                .class("muted")
                .text(Text::msg("backfillUnreadable", vec![names.join(", ").into()])),
        );
    }
    if p.finished {
        out.extend(backfill_idle());
    }
    out
}

#[cfg(test)]
#[path = "panel_tests.rs"]
mod tests;
