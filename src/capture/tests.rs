//! Native tests of the scraper on the same fixture markup the fake WhatsApp Web serves.
use super::*;

fn ctx(chat: &str, locale: &str, is_group: bool) -> ScanContext {
    ScanContext { chat: chat.into(), locale: locale.into(), is_group, ..Default::default() }
}

/// The same, on the day `fixture()` pins as today (chips say "Today" and "Yesterday").
fn ctx_today(chat: &str, locale: &str, is_group: bool) -> ScanContext {
    ScanContext { today: Some((2026, 11, 21)), ..ctx(chat, locale, is_group) }
}

/// A fixture of the fake WhatsApp Web with its date tokens (`{{dmy:N}}`, `{{mdy:N}}`, N days
/// from "today", see `www/wa.js`) filled in as if today were 21 Nov 2026: the native tests
/// pin the calendar, the browser tests render relative to the run.
fn fixture(html: &str) -> String {
    fixture_on(html, 2026, 11, 21)
}

/// The same with "today" pinned to another date (the en-US chat needs an ambiguous 12/9).
fn fixture_on(html: &str, year: u16, month: u8, day: u8) -> String {
    let today = crate::core::schedule::local_minutes(&crate::core::model::LocalMinute {
        year,
        month,
        day,
        hour: 12,
        minute: 0,
    });
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 2..];
        let Some(end) = tail.find("}}") else { break };
        let (fmt, n) = tail[..end].split_once(':').unwrap_or(("", ""));
        let d = crate::core::schedule::minute_from_local_minutes(
            today + n.parse::<i64>().unwrap_or(0) * 1440,
        );
        let back = -n.parse::<i64>().unwrap_or(0);
        match fmt {
            "chip" if back == 0 => out.push_str("Today"),
            "chip" if back == 1 => out.push_str("Yesterday"),
            "chip" => out.push_str(&format!("{:02}/{:02}/{}", d.day, d.month, d.year)),
            "dmy" => out.push_str(&format!("{:02}/{:02}/{}", d.day, d.month, d.year)),
            // `date` follows the page's locale; the native tests scan it as en-US.
            "mdy" | "date" => out.push_str(&format!("{}/{}/{}", d.month, d.day, d.year)),
            _ => out.push_str(&rest[i..i + 4 + end]),
        }
        rest = &tail[end + 2..];
    }
    out.push_str(rest);
    out
}

#[test]
fn fixture_dates_render_relative_to_today() {
    assert_eq!(
        fixture("[10:01, {{dmy:-1}}] [x, {{mdy:0}}] {{mdy:-21}} {{other}} {{chip:0}} {{chip:-1}}"),
        "[10:01, 20/11/2026] [x, 11/21/2026] 10/31/2026 {{other}} Today Yesterday"
    );
}

fn by_key<'a>(ms: &'a [Message], key: &str) -> &'a Message {
    ms.iter().find(|m| m.key == key).unwrap_or_else(|| panic!("{key} not captured"))
}

#[test]
fn every_kind_in_the_saved_contact_chat() {
    let mut c = ctx_today("pn:+5511987654321", "pt-BR", false);
    let mut n = Counters::default();
    let ms = scan(&fixture(include_str!("../../www/fixtures/ana.html")), &mut c, &mut n);
    assert_eq!(n.rows_seen, 15);
    assert_eq!(n.parsed, 14);
    assert_eq!(
        n.skipped.get("not a message (no bubble)"),
        Some(&1),
        "the ~Name contact row: {:?}",
        n.skipped
    );
    assert_eq!(n.skipped.len(), 1, "nothing else read wrong: {:?}", n.skipped);

    let first = by_key(&ms, "3EB0A1B2C3D4E5F60718");
    assert_eq!(first.direction, Direction::In);
    assert_eq!(first.sender, Sender { name: "Ana Souza".into(), phone: None });
    assert_eq!(first.time.map(|t| t.iso()).as_deref(), Some("2026-11-20T10:01"));
    assert_eq!(first.text, "Olá! Podemos falar da proposta? 🙂");
    assert_eq!(first.kind, MessageKind::Text);
    assert_eq!(first.chat, "pn:+5511987654321");

    let out = by_key(&ms, "3EB0A1B2C3D4E5F60719");
    assert_eq!((out.direction, out.sender.name.as_str()), (Direction::Out, "Você"));

    let reply = by_key(&ms, "3EB0A1B2C3D4E5F6071A");
    assert_eq!(
        reply.text, "Perfeito <script>alert(1)</script> & obrigada",
        "HTML-looking text kept as text"
    );
    assert_eq!(
        reply.quoted,
        Some(Quoted { sender: Some("Você".into()), text: "Claro, Ana. Envio hoje.".into() })
    );
    assert_eq!(reply.reactions, ["❤"]);

    let img = by_key(&ms, "3EB0A1B2C3D4E5F6071B");
    assert_eq!(img.kind, MessageKind::Image);
    assert_eq!(img.text, "A planta do escritório");
    assert_eq!(
        img.media[0].url.as_deref(),
        Some("blob:https://web.whatsapp.com/1b6c1c3a-4f4e-4b7e-9a64-0e2f5d2b7c11")
    );

    let doc = by_key(&ms, "3EB0A1B2C3D4E5F6071C");
    assert_eq!(
        doc.kind,
        MessageKind::Document {
            file_name: Some("Proposta 2026.pdf".into()),
            size: Some("1.2 MB".into())
        }
    );
    // No pre-plain-text: the date comes from the previous message, the clock from the meta.
    assert_eq!(doc.time.map(|t| t.iso()).as_deref(), Some("2026-11-20T10:09"));

    let fwd = by_key(&ms, "3EB0A1B2C3D4E5F6071D");
    assert!(fwd.forwarded && fwd.edited);
    // Its body has no selectable-text test id (only `span[dir]`): read whole all the same.
    assert_eq!(fwd.text, "Segue o contrato");
    assert_eq!(
        by_key(&ms, "3EB0A1B2C3D4E5F6071E").kind,
        MessageKind::Voice { duration: Some("0:42".into()) }
    );
    assert_eq!(by_key(&ms, "3EB0A1B2C3D4E5F6071F").kind, MessageKind::Sticker);
    let del = by_key(&ms, "3EB0A1B2C3D4E5F60720");
    assert_eq!(del.kind, MessageKind::Deleted);
    assert!(del.text.contains("apagada"));
    let loc = by_key(&ms, "3EB0A1B2C3D4E5F60721");
    assert_eq!(
        (loc.kind.clone(), loc.text.as_str()),
        (MessageKind::Location, "Av. Paulista, 1000")
    );
    assert_eq!(
        by_key(&ms, "3EB0A1B2C3D4E5F60722").kind,
        MessageKind::ContactCard { name: Some("Carlos Lima".into()) }
    );
    assert_eq!(by_key(&ms, "3EB0A1B2C3D4E5F60723").kind, MessageKind::Gif);
    let vid = by_key(&ms, "3EB0A1B2C3D4E5F60724");
    assert_eq!((vid.kind.clone(), vid.text.as_str()), (MessageKind::Video, "vídeo da obra"));
    assert_eq!(
        by_key(&ms, "3EB0A1B2C3D4E5F60725").text,
        "مرحبا\u{200e} zero\u{200b}width \u{202e}evil",
        "RTL and zero-width kept"
    );
    assert!(!ms.iter().any(|m| m.forwarded && m.key != "3EB0A1B2C3D4E5F6071D"));
}

#[test]
fn group_senders_saved_unsaved_and_inherited() {
    let mut c = ctx_today("group:Obra Paulista", "en-IN", true);
    let mut n = Counters::default();
    let ms = scan(&fixture(include_str!("../../www/fixtures/group.html")), &mut c, &mut n);
    let keys: Vec<&str> = ms.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys.len(), 12, "{keys:?} {:?}", n.skipped);
    assert_eq!(n.skipped.get("not a message (no bubble)"), Some(&1), "the ~Rafa contact row");
    let rafa = Sender { name: "Rafa".into(), phone: Some("+919000012345".into()) };
    // The push name as shown, not the aria-label's "Maybe Rafa".
    assert_eq!(by_key(&ms, "3EB0B00000000000G001").sender, rafa);
    // No author block: the same sender (same number), under the same name.
    assert_eq!(by_key(&ms, "3EB0B00000000000G002").sender, rafa);
    let ana = by_key(&ms, "3EB0B00000000000G003");
    assert_eq!(ana.sender, Sender { name: "Ana Souza".into(), phone: None });
    // A body without the selectable-text test id: the text, not the author's name.
    assert_eq!(ana.text, "Oi pessoal");
    let out = by_key(&ms, "3EB0B00000000000G004");
    assert_eq!((out.direction, out.sender.name.as_str()), (Direction::Out, "You"));
    let sys = by_key(&ms, "3EB0B00000000000G005");
    assert_eq!(
        (sys.kind.clone(), sys.text.as_str()),
        (MessageKind::System, "Ana Souza added Liam Carter")
    );
    let lucia = Sender { name: "Lucía".into(), phone: Some("+34612345678".into()) };
    // Captionless media: no text (never the author's name), the author from a block without
    // a test id, the time from the corner clock.
    for (k, kind) in [
        ("3EB0B00000000000G006", MessageKind::Image),
        ("3EB0B00000000000G007", MessageKind::Voice { duration: Some("0:37".into()) }),
        ("3EB0B00000000000G008", MessageKind::Gif),
        ("3EB0B00000000000G009", MessageKind::Video),
        ("3EB0B00000000000G00A", MessageKind::Sticker),
    ] {
        let m = by_key(&ms, k);
        assert_eq!((m.kind.clone(), m.text.as_str()), (kind, ""), "{k}");
    }
    assert_eq!(by_key(&ms, "3EB0B00000000000G006").sender, lucia);
    assert_eq!(by_key(&ms, "3EB0B00000000000G007").sender, lucia);
    let gif = by_key(&ms, "3EB0B00000000000G008");
    assert_eq!(gif.sender, Sender { name: "Liam Carter".into(), phone: None });
    assert_eq!(gif.time.map(|t| t.iso()).as_deref(), Some("2026-11-20T12:33"));
    // The video has no author block after Liam's GIF: still Liam.
    assert_eq!(by_key(&ms, "3EB0B00000000000G009").sender.name, "Liam Carter");
    assert_eq!(by_key(&ms, "3EB0B00000000000G00A").sender, lucia);
    let doc = by_key(&ms, "3EB0B00000000000G00B");
    assert_eq!(
        doc.kind,
        MessageKind::Document {
            file_name: Some("Site plan.pdf".into()),
            size: Some("860 kB".into())
        }
    );
    assert_eq!(doc.time.map(|t| t.iso()).as_deref(), Some("2026-11-20T12:36"));
    // Right after Lucía's document, an author block holding only an icon: unknown, not Lucía.
    let icon_only = by_key(&ms, "3EB0B00000000000G00C");
    assert_eq!(icon_only.kind, MessageKind::Image);
    assert_eq!(icon_only.sender, Sender { name: String::new(), phone: None });
    assert_eq!(n.skipped.get("unknown author"), Some(&1));
    assert_eq!(ms[0].time.map(|t| t.iso()).as_deref(), Some("2026-11-20T12:19"));
}

#[test]
fn month_first_chat_and_legacy_ids() {
    // The locale says day-first, but 12/9 with a 12/10 next day in 12-hour en-US... the
    // digits alone cannot tell here, so the page locale decides.
    let mut c = ctx("pn:+14155552671", "en-US", false);
    let mut n = Counters::default();
    let ms =
        scan(&fixture_on(include_str!("../../www/fixtures/us.html"), 2026, 12, 10), &mut c, &mut n);
    assert_eq!(ms.len(), 3);
    assert_eq!(ms[0].key, "false_14155552671@c.us_3EB0C0FFEE000001");
    assert_eq!(ms[0].direction, Direction::In);
    assert_eq!(ms[0].sender.phone.as_deref(), Some("+14155552671"));
    assert_eq!(ms[0].time.map(|t| t.iso()).as_deref(), Some("2026-12-09T22:54"));
    assert_eq!(ms[1].direction, Direction::Out);
    assert_eq!(
        ms[1].time.map(|t| t.iso()).as_deref(),
        Some("2026-12-09T22:56"),
        "narrow no-break space"
    );
    assert_eq!(ms[2].time.map(|t| t.iso()).as_deref(), Some("2026-12-10T09:03"));
}

#[test]
fn digits_override_the_locale_for_the_whole_chat() {
    let rows = r#"<div data-id="A1" class="message-in"><div data-pre-plain-text="[09:00, 3/4/2026] A: "><span data-testid="selectable-text">x</span></div></div>
<div data-id="A2" class="message-in"><div data-pre-plain-text="[09:00, 25/4/2026] A: "><span data-testid="selectable-text">y</span></div></div>"#;
    let mut c = ctx("c", "en-US", false);
    let ms = scan(rows, &mut c, &mut Counters::default());
    assert_eq!(
        ms[0].time.map(|t| t.iso()).as_deref(),
        Some("2026-04-03T09:00"),
        "25/4 proves day-first"
    );
}

#[test]
fn header_identity() {
    let saved = r#"<header data-testid="conversation-header"><div data-testid="conversation-info-header-chat-title"><span data-icon="wds-ic-verified" title="wds-ic-verified"></span><span dir="auto" title="Ana Souza">Ana Souza</span></div></header>"#;
    assert_eq!(
        parse_header(saved),
        Some(WaIdentity { phone: None, lid: None, name: "Ana Souza".into(), is_group: false })
    );
    let unsaved = r#"<header><div data-testid="conversation-info-header-chat-title"><span title="+55 44 9881-2871">+55 44 9881-2871</span></div></header>"#;
    // The shown digits; the worker normalises the old BR mobile form on arrival
    // (`Request::canonicalize_phones`, tested in `protocol`).
    let reported = parse_header(unsaved).and_then(|i| i.phone);
    assert_eq!(reported.as_deref(), Some("+554498812871"));
    assert_eq!(
        crate::core::phone::canonical_reported(&reported.unwrap_or_default()),
        "+5544998812871",
        "old BR mobile form normalised"
    );
    let group = r#"<header><span data-icon="default-group"></span><div data-testid="conversation-info-header-chat-title"><span title="Obra Paulista">Obra Paulista</span></div></header>"#;
    let g = parse_header(group).unwrap();
    assert!(g.is_group && g.phone.is_none());
    assert_eq!(parse_header("<div>nothing</div>"), None);
}

#[test]
fn hostile_and_broken_rows_are_counted_never_panic() {
    let big = "x".repeat(64 * 1024);
    let rows = format!(
        r#"<div data-id="BIG" class="message-in"><div data-pre-plain-text="[10:00, 1/1/2026] A: "><span data-testid="selectable-text">{big}</span></div></div>
<div data-id="NOPRE" class="message-in"><span data-testid="selectable-text">no timestamp</span></div>
<div data-id="BADPRE" class="message-in"><div data-pre-plain-text="[99:99, 45/45/2026] A: ">x</div></div>
<div data-id="" class="message-in">empty id</div>
<div class="message-in"><div data-pre-plain-text="[10:00, 1/1/2026] A: ">no id</div></div>
<div data-id="SCRIPT" class="message-in"><div data-pre-plain-text="[10:00, 1/1/2026] &lt;img src=x onerror=alert(1)&gt;: "><span data-testid="selectable-text">&lt;/span&gt;&lt;script&gt;</span></div></div>"#
    );
    let mut c = ctx("c", "en-GB", false);
    let mut n = Counters::default();
    let ms = scan(&rows, &mut c, &mut n);
    assert_eq!(by_key(&ms, "BIG").text.len(), 64 * 1024);
    assert!(by_key(&ms, "NOPRE").time.is_none(), "no date known yet: undated, not guessed");
    let s = by_key(&ms, "SCRIPT");
    assert_eq!(s.sender.name, "<img src=x onerror=alert(1)>");
    assert_eq!(s.text, "</span><script>");
    assert_eq!(n.skipped.get("unreadable data-pre-plain-text"), Some(&1));
    assert_eq!(n.skipped.get("bad data-id"), Some(&1));
    for junk in [
        "",
        "<<<>>>",
        "<div data-id",
        "<div data-id=\"x\" class=\"message-in\"><div data-pre-plain-text=\"[",
        "\u{0}\u{feff}",
    ] {
        let _ = scan(junk, &mut ctx("c", "en", false), &mut Counters::default());
    }
}

#[test]
fn indexeddb_completes_the_header_identity() {
    let e = |id: &str, n: &str| IdbEntry { id: id.into(), names: vec![n.into()] };
    let header = WaIdentity { phone: None, lid: None, name: "Ana Souza".into(), is_group: false };
    let entries = [
        e("5511987654321@c.us", "Ana Souza"),
        e("196271432331425@lid", "Marina"),
        e("120363025246125486@g.us", "Obra"),
    ];
    assert_eq!(resolve_identity(header.clone(), &entries).phone.as_deref(), Some("+5511987654321"));
    let lid = resolve_identity(WaIdentity { name: "Marina".into(), ..header.clone() }, &entries);
    assert_eq!((lid.phone, lid.lid.as_deref()), (None, Some("196271432331425@lid")));
    assert!(
        resolve_identity(WaIdentity { name: "Obra".into(), ..header.clone() }, &entries).is_group
    );
    // Same title, two different people: no guess.
    let twins = [e("5511987654321@c.us", "Ana Souza"), e("5521987654321@c.us", "Ana Souza")];
    assert_eq!(resolve_identity(header.clone(), &twins).phone, None);
    // Absent or foreign schema: the header stands.
    assert_eq!(resolve_identity(header.clone(), &[]), header);
}

#[test]
fn session_hands_on_each_message_once_and_edits_again() {
    let mut s = Session::new(10);
    s.open_chat(
        WaIdentity { phone: Some("+1".into()), lid: None, name: "A".into(), is_group: false },
        "en-GB",
    );
    let row = |text: &str| {
        format!(
            r#"<div data-id="K1" class="message-in"><div data-pre-plain-text="[10:00, 1/1/2026] A: "><span data-testid="selectable-text">{text}</span></div></div>"#
        )
    };
    assert_eq!(s.ingest(&row("hi")).len(), 1);
    assert_eq!(s.ingest(&row("hi")).len(), 0, "re-rendered row");
    assert_eq!(s.ingest(&row("hi, edited")).len(), 1, "edited row");
    assert_eq!(s.messages["K1"].chat, "pn:+1");
    s.open_chat(
        WaIdentity { phone: Some("+2".into()), lid: None, name: "B".into(), is_group: false },
        "en-GB",
    );
    assert!(s.messages.is_empty(), "another chat");
}

#[test]
fn rows_removed_by_a_chat_switch_are_handed_on_for_their_own_chat() {
    let ana = WaIdentity {
        phone: Some("+5511987654321".into()),
        lid: None,
        name: "Ana".into(),
        is_group: false,
    };
    let liam = WaIdentity {
        phone: Some("+14155552671".into()),
        lid: None,
        name: "Liam".into(),
        is_group: false,
    };
    let row = |id: &str, text: &str| {
        format!(
            r#"<div data-id="{id}" class="message-out"><div data-pre-plain-text="[10:00, 1/1/2026] You: "><span data-testid="selectable-text">{text}</span></div></div>"#
        )
    };
    let mut s = Session::new(10);
    s.open_chat(liam.clone(), "en-GB");
    s.ingest(&row("L1", "for Liam"));
    // Ana's row was removed with her chat before it was scanned: it is Ana's, not Liam's.
    let out = s.ingest_removed(&ana, "en-GB", &row("A1", "typed for Ana"));
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].chat.as_str(), out[0].text.as_str()),
        ("pn:+5511987654321", "typed for Ana")
    );
    assert_eq!(
        s.identity.as_ref().map(|i| i.name.as_str()),
        Some("Liam"),
        "the open chat is untouched"
    );
    assert!(!s.messages.contains_key("A1"), "diagnostics show the open chat only");
    // Handed on once: reopening Ana's chat later does not send it again, an edit would.
    s.open_chat(ana.clone(), "en-GB");
    assert!(s.ingest(&row("A1", "typed for Ana")).is_empty());
    assert_eq!(s.ingest(&row("A1", "typed for Ana, edited")).len(), 1);
    // Removed rows of the open chat go through its own context.
    assert_eq!(s.ingest_removed(&ana, "en-GB", &row("A2", "second")).len(), 1);
    assert!(s.messages.contains_key("A2"));
}

#[test]
fn an_unreadable_header_forgets_the_open_chat_and_pauses_until_a_header_reads_again() {
    let ana = WaIdentity {
        phone: Some("+5511987654321".into()),
        lid: None,
        name: "Ana".into(),
        is_group: false,
    };
    let liam = WaIdentity {
        phone: Some("+14155552671".into()),
        lid: None,
        name: "Liam".into(),
        is_group: false,
    };
    let row = |id: &str, text: &str| {
        format!(
            r#"<div data-id="{id}" class="message-in"><div data-pre-plain-text="[10:00, 1/1/2026] X: "><span data-testid="selectable-text">{text}</span></div></div>"#
        )
    };
    let mut s = Session::new(10);
    s.open_chat(ana.clone(), "en-GB");
    assert_eq!(s.ingest(&row("A1", "for Ana")).len(), 1);
    assert!(!s.health().paused);
    // Another chat opens, but its header cannot be read: the session no longer knows a chat,
    // and that chat's rows (read as a whole or as changed rows) are filed under no chat.
    let h = s.header_unreadable();
    assert_eq!(s.identity, None);
    assert!(s.messages.is_empty(), "diagnostics no longer show Ana's messages");
    assert_eq!((h.unreadable_headers, h.paused), (1, true), "{h:?}");
    assert_eq!(s.health(), h);
    assert_eq!(s.counters.skipped.get("unreadable chat header"), Some(&1));
    assert!(s.ingest(&row("L1", "for Liam")).is_empty());
    assert!(s.ingest_after(&row("A1", "for Ana"), &row("L2", "also Liam")).is_empty());
    assert_eq!(s.header_unreadable().unreadable_headers, 2);
    // Rows of the chat open before, removed with it before they were read, are still its own.
    let late = s.ingest_removed(&ana, "en-GB", &row("A2", "late for Ana"));
    assert_eq!(late.iter().map(|m| m.chat.as_str()).collect::<Vec<_>>(), ["pn:+5511987654321"]);
    assert!(!s.health_of("pn:+5511987654321").paused);
    // The header reads again: capture resumes, under the chat it names.
    s.open_chat(liam, "en-GB");
    let h = s.health();
    assert_eq!((h.unreadable_headers, h.paused), (0, false), "{h:?}");
    let out = s.ingest(&format!("{}{}", row("L1", "for Liam"), row("L2", "also Liam")));
    assert_eq!(out.iter().map(|m| m.chat.as_str()).collect::<Vec<_>>(), ["pn:+14155552671"; 2]);
}

#[test]
fn unreadable_headers_count_toward_the_pause_rule() {
    let mut s = Session::new(0);
    let idle = s.health();
    assert_eq!((idle.unreadable_headers, idle.paused), (0, false));
    // One is enough: while the header cannot be read no row can be filed under a chat.
    let h = s.header_unreadable();
    assert!(h.paused, "{h:?}");
    assert_eq!(s.health_of(""), h);
}

// Rows shaped like the real page's (2026 nesting and attributes, invented people and text):
// one test per error class seen on real markup.

/// A group row in the real nesting: `bubble` classes, an optional author block, content.
fn real_row(id: &str, bubble: &str, author: &str, content: &str) -> String {
    format!(
        r#"<div role="row"><div tabindex="-1" class="_amjv xscbp6u" data-id="{id}"><div class="x78zum5 xdt5ytf" data-virtualized="false"><div><div class="{bubble} focusable-list-item _amjy _amjw"><span></span><div class="_amk4 _amkd"><div class="_amk6 _amlo"><div><div class="x9f619 x1hx0egp">{author}{content}</div></div></div></div></div></div></div></div></div>"#
    )
}

fn pre_text(stamp: &str, who: &str, text: &str, clock: &str) -> String {
    format!(
        r#"<div class="_ahy1 copyable-text" data-pre-plain-text="[{stamp}] {who}: "><div class="_ahy5"><div class="_ahwq x6s0dn4"><span data-testid="selectable-text" dir="ltr" class="_ao3e _aupe copyable-text"><span>{text}</span></span><span class="x1rg5ohu x16dsc37">{clock}</span></div></div></div>"#
    )
}

/// Ana's "hi" at 08:05 on 20 Nov 2026: a dated row for the rows after it.
fn ana_at_0805(id: &str) -> String {
    real_row(id, "message-in", "", &pre_text("08:05, 20/11/2026", "Ana", "hi", "08:05"))
}

const GIF: &str = r#"<div role="button" tabindex="0" aria-label="Play GIF" class="_ahn4"><div class="_ahmy"><span aria-hidden="true" data-icon="tenor">tenor</span></div></div><span dir="auto" class="x1rg5ohu">9:34 pm</span>"#;

fn group_scan(rows: &str) -> (Vec<Message>, Counters) {
    let mut c = ctx_today("group:Site crew", "en-GB", true);
    let mut n = Counters::default();
    (scan(rows, &mut c, &mut n), n)
}

#[test]
fn class1_an_author_block_without_test_id_is_read_and_an_unreadable_one_is_unknown() {
    let first = real_row(
        "3EB0AA01",
        "message-in _amkz",
        r#"<div class="_ahxj _ahxz" role=""><span dir="auto" aria-label="Maybe Rafa" class="_ahxy">Rafa</span><span class="_ahx_" role="button">+91 90000 12345</span></div>"#,
        &pre_text("21:30, 20/11/2026", "+91 90000 12345", "first", "21:30"),
    );
    // April 2026: the block has no data-testid; a different sender than the row before.
    let other = real_row(
        "3EB0AA02",
        "message-in _amkz",
        r#"<div class="_ahxj _ahxz" role=""><span dir="auto" aria-label="Maybe Zoe" class="_ahxy">Zoe</span><span class="_ahx_" role="button">+44 7700 900123</span></div>"#,
        GIF,
    );
    // A block is there but holds nothing readable (an icon only): unknown, not Zoe.
    let unreadable = real_row(
        "3EB0AA03",
        "message-in _amkz",
        r#"<div class="_ahxj _ahxz" role=""><span class="x1"><svg viewBox="0 0 8 8"></svg></span></div>"#,
        GIF,
    );
    let (ms, n) = group_scan(&format!("{first}{other}{unreadable}"));
    assert_eq!(
        by_key(&ms, "3EB0AA02").sender,
        Sender { name: "Zoe".into(), phone: Some("+447700900123".into()) }
    );
    assert_eq!(by_key(&ms, "3EB0AA03").sender, Sender { name: String::new(), phone: None });
    assert_eq!(n.skipped.get("unknown author"), Some(&1));
}

#[test]
fn the_author_is_never_carried_across_an_outgoing_row_a_system_row_or_a_day_chip() {
    let rafa = real_row(
        "3EB0AF01",
        "message-in _amkz",
        r#"<div class="_ahxj _ahxz" role=""><span dir="auto" aria-label="Maybe Rafa" class="_ahxy">Rafa</span><span class="_ahx_" role="button">+91 90000 12345</span></div>"#,
        &pre_text("21:30, 20/11/2026", "+91 90000 12345", "first", "21:30"),
    );
    // A captionless GIF with no author block and no pre-plain-text.
    let gif = real_row("3EB0AF02", "message-in", "", GIF);
    // Right after Rafa's row: the same run, Rafa's.
    let (ms, _) = group_scan(&format!("{rafa}{gif}"));
    assert_eq!(by_key(&ms, "3EB0AF02").sender.name, "Rafa");
    let out = real_row(
        "3EB0AF03",
        "message-out",
        "",
        &pre_text("21:31, 20/11/2026", "You", "ok", "21:31"),
    );
    let system = r#"<div role="row"><div tabindex="-1" class="_amjv xscbp6u" data-id="3EB0AF04"><div class="focusable-list-item _amjy"><div class="_amk4"><span dir="auto" class="_ao3e">Ana added Zoe</span></div></div></div></div>"#;
    let chip = r#"<div role="row"><div tabindex="-1" class="_amjv"><div class="_amk4"><span dir="auto">Today</span></div></div></div>"#;
    for between in [out.as_str(), system, chip] {
        let (ms, n) = group_scan(&format!("{rafa}{between}{gif}"));
        assert_eq!(
            by_key(&ms, "3EB0AF02").sender,
            Sender { name: String::new(), phone: None },
            "not Rafa after {between}"
        );
        assert_eq!(n.skipped.get("unknown author"), Some(&1));
    }
}

#[test]
fn class2_names_from_aria_labels_lose_the_screen_reader_wording() {
    // Only the aria-label carries the name (the span's text is empty), in a quote too.
    let row = real_row(
        "3EB0AB01",
        "message-in _amkz",
        r#"<div class="_ahxj" role=""><span data-testid="author" dir="auto" aria-label="Maybe Nirav" class="_ahxy"></span><span class="_ahx_">+91 98450 12345</span></div>"#,
        r#"<div class="_ahy1 copyable-text" data-pre-plain-text="[13:57, 20/11/2026] +91 98450 12345: "><div role="button" aria-label="Quoted message" tabindex="0"><div class="_ahxj" role=""><span data-testid="author" dir="auto" aria-label="Maybe Rafa" class="_ahxy">Rafa</span><span class="_ahx_">+91 90000 12345</span></div><span class="quoted-mention _ao3e" dir="ltr">see the plan</span></div><div class="_ahy5"><span data-testid="selectable-text" dir="ltr" class="copyable-text"><span>thanks</span></span><span class="x16dsc37">13:57</span></div></div>"#,
    );
    let (ms, _) = group_scan(&row);
    assert_eq!(ms[0].sender, Sender { name: "Nirav".into(), phone: Some("+919845012345".into()) });
    assert_eq!(
        ms[0].quoted,
        Some(Quoted { sender: Some("Rafa".into()), text: "see the plan".into() })
    );
    assert_eq!(ms[0].text, "thanks");
}

#[test]
fn class3_captionless_media_never_takes_the_author_name_as_text() {
    let image = real_row(
        "3EB0AC01",
        "message-in _amkz",
        r#"<div class="_ahxj" role=""><span dir="auto" aria-label="Maybe Rafa" class="_ahxy _ao3e">Rafa</span><span class="_ahx_" role="button">+91 90000 12345</span></div>"#,
        r#"<div class="_ahy1 copyable-text" data-pre-plain-text="[14:20, 20/11/2026] +91 90000 12345: "><div role="button" aria-label="Open picture"><img alt="" src="blob:https://web.whatsapp.com/x1"></div><div class="_ahy5"><span aria-hidden="true"><span dir="auto">14:20</span></span></div></div>"#,
    );
    let voice = real_row(
        "3EB0AC02",
        "message-in",
        "",
        r#"<div class="_ahy1 copyable-text" data-pre-plain-text="[14:21, 20/11/2026] +91 90000 12345: "><button aria-label="Play voice message"></button><div role="slider" aria-valuetext="0:00/0:09"></div><div aria-hidden="true">0:09</div><span dir="auto">14:21</span></div>"#,
    );
    let (ms, n) = group_scan(&format!("{image}{voice}"));
    assert_eq!((ms[0].kind.clone(), ms[0].text.as_str()), (MessageKind::Image, ""));
    assert_eq!(ms[0].sender.name, "Rafa");
    assert_eq!(
        (ms[1].kind.clone(), ms[1].text.as_str()),
        (MessageKind::Voice { duration: Some("0:09".into()) }, "")
    );
    assert_eq!(n.skipped.get("timestamp but no text"), None, "media is not a missing text");
}

#[test]
fn class4_time_from_the_corner_clock_without_a_test_id() {
    let first = ana_at_0805("3EB0AD01");
    let gif = real_row("3EB0AD02", "message-in", "", GIF);
    let (ms, _) = group_scan(&format!("{first}{gif}"));
    assert_eq!(by_key(&ms, "3EB0AD02").time.map(|t| t.iso()).as_deref(), Some("2026-11-20T21:34"));
    // A chip between them moves the day: "Today" is 21 Nov.
    let chip = r#"<div role="row"><div tabindex="-1" class="_amjv"><div class="_amk4"><span dir="auto">Today</span></div></div></div>"#;
    let (ms, _) = group_scan(&format!("{first}{chip}{gif}"));
    assert_eq!(by_key(&ms, "3EB0AD02").time.map(|t| t.iso()).as_deref(), Some("2026-11-21T21:34"));
}

#[test]
fn the_clock_is_the_last_time_shaped_leaf_outside_the_quote() {
    // A voice note's duration before the clock, a clock split in two text nodes, an icon
    // after it, and a quote with a time of its own at the end: the clock is 9:34 pm.
    let first = ana_at_0805("3EB0AD11");
    let voice = real_row(
        "3EB0AD12",
        "message-in",
        "",
        r#"<button aria-label="Play voice message"></button><div aria-hidden="true">0:42</div><span dir="auto">9:<!-- -->34 pm</span><span data-icon="msg-dblcheck"></span><div aria-label="Quoted message"><span dir="auto">10:11</span></div>"#,
    );
    let (ms, _) = group_scan(&format!("{first}{voice}"));
    assert_eq!(by_key(&ms, "3EB0AD12").time.map(|t| t.iso()).as_deref(), Some("2026-11-20T21:34"));
}

#[test]
fn class5_bare_id_rows_without_a_bubble_are_not_messages() {
    let contact = r#"<div role="row"><div tabindex="-1" class="_amjv xa0aww2" data-id="48217063915520748361"><div class="message-in focusable-list-item _amjy _amjw"><span dir="auto" class="x1rg5ohu _ao3e">~Priya</span><span dir="auto" class="x1rg5ohu _ao3e">+91 82960 11111</span></div></div></div>"#;
    let (ms, n) = group_scan(contact);
    assert!(ms.is_empty(), "{ms:?}");
    assert_eq!(n.skipped.get("not a message (no bubble)"), Some(&1));
}

fn one(stamp: &str, c: &mut ScanContext) -> Option<String> {
    let row = real_row("3EB0AE01", "message-in", "", &pre_text(stamp, "Ana", "x", "12:19"));
    let mut n = Counters::default();
    scan(&row, c, &mut n).first().and_then(|m| m.time).map(|t| t.iso())
}

#[test]
fn class6_date_order_from_the_browser_chips_and_evidence_and_never_guessed() {
    let base = |locale: &str, browser: Option<DateOrder>| ScanContext {
        locale: locale.into(),
        browser_order: browser.into(),
        ..ctx("c", locale, false)
    };
    // A bare "en" page in a day-first browser: 10/05 is 10 May.
    let mut c = base("en", Some(DateOrder::DayFirst));
    assert_eq!(one("12:19, 10/05/2026", &mut c).as_deref(), Some("2026-05-10T12:19"));
    let mut c = base("en", Some(DateOrder::MonthFirst));
    assert_eq!(one("12:19, 10/05/2026", &mut c).as_deref(), Some("2026-10-05T12:19"));
    // Nothing says which: undated, counted, never guessed.
    let mut c = base("en", None);
    let row =
        real_row("3EB0AE02", "message-in", "", &pre_text("12:19, 10/05/2026", "Ana", "x", "12:19"));
    let after = real_row("3EB0AE03", "message-in", "", GIF);
    let mut n = Counters::default();
    let ms = scan(&format!("{row}{after}"), &mut c, &mut n);
    assert_eq!((ms[0].time, ms[1].time), (None, None), "and the clock-only row after it");
    assert_eq!(n.skipped.get("uncertain date order"), Some(&1));
    // The page's region and the browser disagree: not guessed either.
    let mut c = base("en-US", Some(DateOrder::DayFirst));
    assert_eq!(one("12:19, 10/05/2026", &mut c), None);
    // They agree: read.
    let mut c = base("pt-BR", Some(DateOrder::DayFirst));
    assert_eq!(one("12:19, 10/05/2026", &mut c).as_deref(), Some("2026-05-10T12:19"));
    // A "Yesterday" chip over the row proves the order, whatever the signals say.
    let chip = r#"<div role="row"><div class="_amjv"><div class="_amk4"><span dir="auto">Yesterday</span></div></div></div>"#;
    let mut c =
        ScanContext { today: Some((2026, 5, 11)), ..base("en-US", Some(DateOrder::DayFirst)) };
    let ms = scan(&format!("{chip}{row}"), &mut c, &mut Counters::default());
    assert_eq!(ms[0].time.map(|t| t.iso()).as_deref(), Some("2026-05-10T12:19"));
    assert_eq!(c.order, Some(DateOrder::DayFirst));
    // No message is from after tomorrow: on 2 Dec, 11/12 is 12 Nov, not 11 Dec.
    let mut c = ScanContext { today: Some((2026, 12, 2)), ..base("en", None) };
    assert_eq!(one("09:00, 11/12/2026", &mut c).as_deref(), Some("2026-11-12T09:00"));
}

#[test]
fn the_browser_order_is_read_only_for_a_chat_whose_rows_prove_none() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static ASKED: AtomicUsize = AtomicUsize::new(0);
    fn ask() -> Option<DateOrder> {
        ASKED.fetch_add(1, Ordering::SeqCst);
        Some(DateOrder::MonthFirst)
    }
    let chat =
        |name: &str| WaIdentity { phone: None, lid: None, name: name.into(), is_group: false };
    // The times a chat's two rows are read at.
    let times = |s: &mut Session, name: &str, rows: [(&str, &str); 2]| -> Vec<String> {
        s.open_chat(chat(name), "en");
        let html: String = rows
            .iter()
            .map(|(id, stamp)| {
                real_row(id, "message-in", "", &pre_text(stamp, "Ana", "x", "12:19"))
            })
            .collect();
        s.ingest(&html).iter().filter_map(|m| m.time.map(|t| t.iso())).collect()
    };
    let mut s = Session::new(100);
    s.set_page(BrowserOrder::Ask(ask), Some((2026, 11, 21)));
    // 20/11 can only be day-first: the browser is not asked.
    let iso = times(
        &mut s,
        "Ana",
        [("3EB0B001", "12:19, 20/11/2026"), ("3EB0B002", "12:19, 10/11/2026")],
    );
    assert_eq!(iso, ["2026-11-20T12:19", "2026-11-10T12:19"]);
    assert_eq!(ASKED.load(Ordering::SeqCst), 0);
    // Nothing in this chat proves an order: asked, once for the chat, and its answer dates
    // every row (a bare "en" page says nothing itself).
    let iso = times(
        &mut s,
        "Bia",
        [("3EB0B003", "12:19, 10/05/2026"), ("3EB0B004", "12:19, 11/05/2026")],
    );
    assert_eq!(iso, ["2026-10-05T12:19", "2026-11-05T12:19"]);
    assert_eq!(ASKED.load(Ordering::SeqCst), 1);
}

#[test]
fn a_chat_whose_rows_read_wrong_pauses_and_resumes_when_the_page_reads_right() {
    let identity = WaIdentity { phone: None, lid: None, name: "Site crew".into(), is_group: true };
    let good = |i: usize| {
        real_row(
            &format!("3EB0AF{i:02}"),
            "message-in",
            r#"<div class="_ahxj" role=""><span dir="auto">Ana</span></div>"#,
            &pre_text("10:00, 20/11/2026", "Ana", &format!("m{i}"), "10:00"),
        )
    };
    // WhatsApp renamed its bubble classes: rows with a timestamp but no direction.
    let drifted = |i: usize| good(i).replace("message-in", "msg-incoming");
    let mut s = Session::new(100);
    s.set_page(Some(DateOrder::DayFirst), Some((2026, 11, 21)));
    s.open_chat(identity, "en-GB");
    let page: String = (0..5).map(|i| if i < 3 { drifted(i) } else { good(i) }).collect();
    assert!(s.ingest(&page).is_empty(), "paused: nothing handed on, not even the good rows");
    let h = s.health();
    assert_eq!((h.rows, h.unclassified, h.paused), (5, 3, true), "{h:?}");
    assert_eq!(s.counters.health.get("group:Site crew"), Some(&h), "in diagnostics");
    // The page reads right again (the same rows re-rendered): resumed, everything goes once.
    let page: String = (0..5).map(good).collect();
    assert_eq!(s.ingest(&page).len(), 5);
    assert!(!s.health().paused);
    assert!(s.ingest(&page).is_empty());
}

#[test]
fn a_row_without_direction_that_shows_a_clock_or_media_is_unclassified_not_a_notice() {
    // Captionless media and a deleted message whose bubble class a release renamed: no
    // pre-plain-text, no direction, but a clock or media shows they are messages.
    let media = real_row("3EB0AF10", "msg-incoming", "", GIF);
    let deleted = real_row(
        "3EB0AF11",
        "msg-incoming",
        "",
        r#"<span aria-hidden="true" data-icon="recalled"></span><span dir="auto">This message was deleted</span><span dir="auto" class="x1rg5ohu x16dsc37">9:35 pm</span>"#,
    );
    let clock_only = real_row(
        "3EB0AF12",
        "msg-incoming",
        "",
        r#"<span dir="auto" class="x1rg5ohu x16dsc37">9:36 pm</span>"#,
    );
    // A real notice (no clock, no media) stays a system row.
    let notice = r#"<div role="row"><div tabindex="-1" class="_amjv xscbp6u" data-id="3EB0AF13"><div class="focusable-list-item _amjy"><div class="_amk4"><span dir="auto" class="_ao3e">Ana added Zoe</span></div></div></div></div>"#;
    let rows = format!("{media}{deleted}{clock_only}{notice}");
    let (ms, n) = group_scan(&rows);
    assert_eq!(ms.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(), ["3EB0AF13"], "{ms:?}");
    assert_eq!(ms[0].kind, MessageKind::System);
    assert_eq!(n.skipped.get("not a message (no direction)"), Some(&3), "{:?}", n.skipped);
    // Page health counts them, so drift pauses the chat instead of writing notices.
    let mut s = Session::new(0);
    s.set_page(Some(DateOrder::DayFirst), Some((2026, 11, 21)));
    s.open_chat(
        WaIdentity { phone: None, lid: None, name: "Site crew".into(), is_group: true },
        "en-GB",
    );
    let _ = s.ingest(&rows);
    let h = s.health();
    assert_eq!((h.rows, h.unclassified), (4, 3), "{h:?}");
}

#[test]
fn a_few_odd_rows_do_not_pause_a_long_chat() {
    let mut s = Session::new(0);
    s.open_chat(
        WaIdentity { phone: Some("+1".into()), lid: None, name: "A".into(), is_group: false },
        "en-GB",
    );
    let mut page: String = (0..40)
        .map(|i| {
            real_row(
                &format!("K{i:02}"),
                "message-in",
                "",
                &pre_text("10:00, 20/11/2026", "A", "x", "10:00"),
            )
        })
        .collect();
    page.push_str(&real_row(
        "ODD1",
        "msg-incoming",
        "",
        &pre_text("10:00, 20/11/2026", "A", "x", "10:00"),
    ));
    page.push_str(&real_row(
        "ODD2",
        "message-in",
        "",
        &pre_text("10:00, 20/11/2026", "A", "", "10:00"),
    ));
    assert_eq!(s.ingest(&page).len(), 40, "the row without text is withheld, the rest go");
    let h = s.health();
    assert_eq!((h.unclassified, h.no_text, h.paused), (1, 1, false));
}

#[test]
fn a_row_read_again_without_what_dated_it_keeps_its_date() {
    let first = ana_at_0805("3EB0B101");
    let gif = real_row("3EB0B102", "message-in", "", GIF);
    let mut s = Session::new(10);
    s.open_chat(
        WaIdentity { phone: Some("+1".into()), lid: None, name: "Ana".into(), is_group: false },
        "en-GB",
    );
    let out = s.ingest(&format!("{first}{gif}"));
    assert_eq!(out[1].time.map(|t| t.iso()).as_deref(), Some("2026-11-20T21:34"));
    // Re-rendered alone at the top of the list: no date to read it against.
    s.ctx.day = None;
    assert!(s.ingest(&gif).is_empty(), "not handed on undated over its date");
    // The worker did not take it: handed on again, but still never undated.
    s.forget(&["3EB0B102".to_string()]);
    assert!(s.ingest(&gif).is_empty(), "forgotten, still not handed on undated");
    let again = s.ingest(&format!("{first}{gif}"));
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0].time.map(|t| t.iso()).as_deref(), Some("2026-11-20T21:34"));
}

#[test]
fn page_health_for_diagnostics_lists_paused_chats_first_with_their_counters() {
    let mut health = BTreeMap::new();
    health.insert(
        "pn:+5511900000001".to_string(),
        Health { rows: 12, unclassified: 0, no_text: 1, ..Default::default() },
    );
    health.insert(
        "pn:+5511900000002".to_string(),
        Health {
            rows: 10,
            unclassified: 4,
            unknown_authors: 1,
            paused: true,
            ..Default::default()
        },
    );
    assert_eq!(
        health_lines(&health),
        ["pn:+5511900000002: 10 / 4 / 0 / 1 / 0 ⏸", "pn:+5511900000001: 12 / 0 / 1 / 0 / 0"]
    );
    assert!(health_lines(&BTreeMap::new()).is_empty());
}

/// The content script's first scan runs in steps (yielding to the page between them); for
/// every step size the session hands on exactly what one `ingest` of the same HTML does, with
/// the same health and counters, in all three fixture chats (chips, groups, month-first).
#[test]
fn a_scan_in_steps_hands_on_exactly_what_one_scan_does() {
    let chats = [
        (fixture(include_str!("../../www/fixtures/ana.html")), "en-GB", false),
        (fixture(include_str!("../../www/fixtures/group.html")), "en-GB", true),
        (fixture_on(include_str!("../../www/fixtures/us.html"), 2026, 12, 10), "en-US", false),
    ];
    let session = |is_group: bool, locale: &str| {
        let mut s = Session::new(10);
        s.set_page(None, Some((2026, 11, 21)));
        s.open_chat(WaIdentity { phone: None, lid: None, name: "Chat".into(), is_group }, locale);
        s
    };
    for (html, locale, is_group) in &chats {
        let mut whole = session(*is_group, locale);
        let expected = whole.ingest(html);
        assert!(expected.len() >= 3, "{locale} {is_group}: {}", expected.len());
        for rows in [1, 2, 7, 500] {
            let mut s = session(*is_group, locale);
            let doc = [html::parse(html)];
            let mut steps = s.ingest_start(&doc);
            let mut n = 1;
            while !s.ingest_step(&mut steps, rows) {
                n += 1;
            }
            let mut h = s.ingest_judge(steps);
            while !s.hand_step(&mut h, rows) {
                n += 1;
            }
            let got = h.into_messages();
            assert_eq!(got, expected, "{rows} rows a step");
            assert_eq!(s.counters, whole.counters, "{rows} rows a step");
            assert_eq!(s.messages, whole.messages, "{rows} rows a step");
            if rows == 1 {
                assert!(n >= expected.len(), "one row a step: {n} steps");
            }
        }
    }
}

/// The rows parsed in parts (runs of the list's top-level children, as the content script
/// serializes them) give what the whole list's HTML gives.
#[test]
fn a_scan_over_parts_of_the_list_hands_on_what_the_whole_list_does() {
    let html = fixture(include_str!("../../www/fixtures/ana.html"));
    let whole = {
        let mut s = Session::new(10);
        s.set_page(None, Some((2026, 11, 21)));
        s.open_chat(
            WaIdentity { phone: None, lid: None, name: "Chat".into(), is_group: false },
            "en-GB",
        );
        let out = s.ingest(&html);
        (out, s.counters)
    };
    // The fixture holds one top-level element (a row or a chip) per line, as the list's children.
    let tops: Vec<String> = html.lines().map(|l| format!("{l}\n")).collect();
    assert!(tops.len() > 5, "{}", tops.len());
    for per in [1, 3, 4] {
        let parts: Vec<String> = tops.chunks(per).map(|c| c.concat()).collect();
        let docs: Vec<html::Doc> = parts.iter().map(|p| html::parse(p)).collect();
        let mut s = Session::new(10);
        s.set_page(None, Some((2026, 11, 21)));
        s.open_chat(
            WaIdentity { phone: None, lid: None, name: "Chat".into(), is_group: false },
            "en-GB",
        );
        let mut steps = s.ingest_start(&docs);
        while !s.ingest_step(&mut steps, 2) {}
        let mut h = s.ingest_judge(steps);
        while !s.hand_step(&mut h, 3) {}
        assert_eq!(h.into_messages(), whole.0, "{per} children a part");
        assert_eq!(s.counters, whole.1, "{per} children a part");
    }
}

#[test]
fn date_fields_are_exactly_three_numbers_the_first_two_under_100() {
    assert_eq!(date_fields_of("20/11/2026"), Some((20, 11, 2026)));
    assert_eq!(date_fields_of(" 5.3.26 "), Some((5, 3, 26)));
    assert_eq!(date_fields_of("x/20/11/2026"), Some((20, 11, 2026)), "a field that is no number");
    assert_eq!(date_fields_of("2026-11-20"), None, "year first");
    assert_eq!(date_fields_of("1/2/3/4"), None, "four numbers");
    assert_eq!(date_fields_of("20/11"), None);
    assert_eq!(date_fields("[10:54 PM, 11/20/2026] Ana: "), Some((11, 20, 2026)));
}

#[test]
fn a_clock_is_a_time_of_day_alone() {
    for (t, want) in [
        ("9:34 pm", Some((21, 34))),
        ("13:52", Some((13, 52))),
        ("8:05 p. m.", Some((20, 5))),
        ("10:54 PM", Some((22, 54))),
        ("12:00 am", Some((0, 0))),
        ("12:30 pm", Some((12, 30))),
        ("\u{202f}9:34\u{a0}pm\u{200e} ", Some((21, 34))),
        ("0:42", Some((0, 42))),
        ("9:34 pmx", None),
        ("9:34 午後", None),
        ("9:3", None),
        ("25:00", None),
        ("ab:cd", None),
        ("", None),
        ("see you at 9:34 pm today", None),
    ] {
        assert_eq!(clock_of(t), want, "{t:?}");
    }
}

/// "Edited" is WhatsApp's mark beside the clock, after the text: a message whose text is the
/// word itself is not an edited message, and the mark after the text still is one.
#[test]
fn a_message_that_says_edited_is_not_marked_edited() {
    let says = real_row(
        "3EB0ED01",
        "message-in",
        "",
        &pre_text("10:01, 20/11/2026", "Ana", "Edited", "10:01"),
    );
    let mark = pre_text("10:02, 20/11/2026", "Ana", "Oi", "10:02").replace(
        r#"<span class="x1rg5ohu x16dsc37">"#,
        r#"<span class="x1rg5ohu">Editada</span><span class="x1rg5ohu x16dsc37">"#,
    );
    let marked = real_row("3EB0ED02", "message-in", "", &mark);
    let mut c = ctx_today("pn:+5511987654321", "pt-BR", false);
    let ms = scan(&(says + &marked), &mut c, &mut Counters::default());
    let says = by_key(&ms, "3EB0ED01");
    assert_eq!((says.text.as_str(), says.edited), ("Edited", false));
    let marked = by_key(&ms, "3EB0ED02");
    assert_eq!((marked.text.as_str(), marked.edited), ("Oi", true));
}
