//! Native tests of the scraper on the same fixture markup the fake WhatsApp Web serves.
use super::*;

fn ctx(chat: &str, locale: &str, is_group: bool) -> ScanContext {
    ScanContext { chat: chat.into(), locale: locale.into(), is_group, ..Default::default() }
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
        match fmt {
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
        fixture("[10:01, {{dmy:-1}}] [x, {{mdy:0}}] {{mdy:-21}} {{other}}"),
        "[10:01, 20/11/2026] [x, 11/21/2026] 10/31/2026 {{other}}"
    );
}

fn by_key<'a>(ms: &'a [Message], key: &str) -> &'a Message {
    ms.iter().find(|m| m.key == key).unwrap_or_else(|| panic!("{key} not captured"))
}

#[test]
fn every_kind_in_the_saved_contact_chat() {
    let mut c = ctx("pn:+5511987654321", "pt-BR", false);
    let mut n = Counters::default();
    let ms = scan(&fixture(include_str!("../../www/fixtures/ana.html")), &mut c, &mut n);
    assert_eq!(n.rows_seen, 15);
    assert_eq!(n.parsed, 14);
    assert_eq!(
        n.skipped.get("not a message (no direction)"),
        Some(&1),
        "the ~Name row: {:?}",
        n.skipped
    );

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
    let mut c = ctx("group:Obra Paulista", "en-IN", true);
    let mut n = Counters::default();
    let ms = scan(&fixture(include_str!("../../www/fixtures/group.html")), &mut c, &mut n);
    assert_eq!(ms.len(), 5);
    assert_eq!(
        ms[0].sender,
        Sender { name: "Maybe Nirant".into(), phone: Some("+917737887058".into()) }
    );
    // The second message has no author block: same sender, phone inherited.
    assert_eq!(ms[1].sender.phone.as_deref(), Some("+917737887058"));
    assert_eq!(ms[2].sender, Sender { name: "Ana Souza".into(), phone: None });
    assert_eq!((ms[3].direction, ms[3].sender.name.as_str()), (Direction::Out, "You"));
    assert_eq!(ms[4].kind, MessageKind::System);
    assert_eq!(ms[4].text, "Ana Souza added Liam Carter");
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
    assert_eq!(
        parse_header(unsaved).and_then(|i| i.phone).as_deref(),
        Some("+5544998812871"),
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
