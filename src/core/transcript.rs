//! Deterministic transcript of one conversation day: the same messages always render the
//! same body (so a body digest tells whether the CRM copy is stale), in time order, one
//! message per line block, with quoted text, attachment names and links.
use crate::core::model::{Message, MessageKind};

/// Render a day. Messages are ordered by minute, then by key, so capture order never matters.
/// Message and quoted text go through `mask` (what leaves the browser; the stored messages
/// are not changed).
pub fn render_day(
    title: &str,
    day: &str,
    messages: &[Message],
    mask: &crate::core::mask::MaskRules,
) -> String {
    let mut msgs: Vec<&Message> = messages.iter().collect();
    msgs.sort_by(|a, b| (a.time, &a.key).cmp(&(b.time, &b.key)));
    msgs.dedup_by(|a, b| a.key == b.key);
    let mut out = format!("WhatsApp chat with {title} on {day}\n");
    for m in msgs {
        out.push_str(&render_message(m, mask));
    }
    out
}

/// One message: `[HH:MM] Sender: text`, then `  > quoted` and `  Attachment:` lines.
pub fn render_message(m: &Message, mask: &crate::core::mask::MaskRules) -> String {
    let time =
        m.time.map(|t| format!("{:02}:{:02}", t.hour, t.minute)).unwrap_or_else(|| "--:--".into());
    let mut flags = Vec::new();
    if m.forwarded {
        flags.push("forwarded");
    }
    if m.edited {
        flags.push("edited");
    }
    let flags = if flags.is_empty() { String::new() } else { format!(" ({})", flags.join(", ")) };
    let text = match (&m.kind, m.text.trim()) {
        (MessageKind::Deleted, _) => "[message deleted]".to_string(),
        (k, "") => format!("[{}]", kind_label(k)),
        (_, t) => crate::core::mask::mask(&t.replace('\r', ""), mask),
    };
    // A sender the page did not show readably is said to be unknown, never left blank.
    let who = match one_line(&m.sender.name) {
        n if n.trim().is_empty() => "(sender unknown)".to_string(),
        n => n,
    };
    // Continuation lines are indented so a line never looks like a new message.
    let mut out = format!("[{time}] {who}{flags}: {}\n", text.replace('\n', "\n    "));
    if let Some(q) = &m.quoted {
        let who = q.sender.as_deref().map(|s| format!("{}: ", one_line(s))).unwrap_or_default();
        out.push_str(&format!("  > {who}{}\n", crate::core::mask::mask(&one_line(&q.text), mask)));
    }
    for media in &m.media {
        let name = media.file_name.clone().unwrap_or_else(|| media.kind.clone());
        let size = media.size.as_deref().map(|s| format!(", {s}")).unwrap_or_default();
        // blob: URLs die with the page; only durable links are worth writing down.
        let link = media
            .url
            .as_deref()
            .filter(|u| u.starts_with("https://"))
            .map(|u| format!(" {u}"))
            .unwrap_or_default();
        out.push_str(&format!("  Attachment: {name}{size}{link}\n"));
    }
    if !m.reactions.is_empty() {
        out.push_str(&format!("  Reactions: {}\n", m.reactions.join(" ")));
    }
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn kind_label(k: &MessageKind) -> &'static str {
    match k {
        MessageKind::Text => "empty message",
        MessageKind::Image => "image",
        MessageKind::Video => "video",
        MessageKind::Gif => "GIF",
        MessageKind::Voice { .. } => "voice message",
        MessageKind::Document { .. } => "document",
        MessageKind::Sticker => "sticker",
        MessageKind::Location => "location",
        MessageKind::ContactCard { .. } => "contact card",
        MessageKind::Deleted => "message deleted",
        MessageKind::System => "notice",
    }
}

/// Ordered continuation parts under `max_chars`, each labelled `(part i/n)` after the first
/// line when there is more than one, so a reader sees the order in the CRM.
pub fn parts(body: &str, max_chars: usize) -> Vec<String> {
    const LABEL_ROOM: usize = 24;
    let raw = split_parts(body, max_chars.saturating_sub(LABEL_ROOM).max(1));
    let n = raw.len();
    if n == 1 {
        return raw;
    }
    raw.into_iter().enumerate().map(|(i, p)| format!("(part {}/{n})\n{p}", i + 1)).collect()
}

/// Split `body` into ordered parts of at most `max_chars` characters, preferring to cut at a
/// line break so a message is not split unless it alone exceeds the limit.
pub fn split_parts(body: &str, max_chars: usize) -> Vec<String> {
    let max = max_chars.max(1);
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut cur_len = 0usize;
    for line in body.split_inclusive('\n') {
        let n = line.chars().count();
        if cur_len + n <= max {
            cur.push_str(line);
            cur_len += n;
            continue;
        }
        if !cur.is_empty() {
            parts.push(std::mem::take(&mut cur));
            cur_len = 0;
        }
        if n <= max {
            cur.push_str(line);
            cur_len = n;
        } else {
            let chars: Vec<char> = line.chars().collect();
            for chunk in chars.chunks(max) {
                let s: String = chunk.iter().collect();
                if chunk.len() == max {
                    parts.push(s);
                } else {
                    cur_len = chunk.len();
                    cur = s;
                }
            }
        }
    }
    if !cur.is_empty() || parts.is_empty() {
        parts.push(cur);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::mask::MaskRules;
    use crate::core::model::{Direction, LocalMinute, Media, Quoted, Sender};

    fn msg(key: &str, h: u8, m: u8, who: &str, text: &str) -> Message {
        Message::text(
            key,
            "pn:+5511987654321",
            Direction::In,
            Sender { name: who.into(), phone: None },
            Some(LocalMinute { year: 2026, month: 3, day: 9, hour: h, minute: m }),
            text,
        )
    }

    #[test]
    fn renders_time_sender_quote_and_attachments_deterministically() {
        let mut a = msg("k1", 9, 5, "Ana", "Oi\nsegunda linha");
        a.quoted = Some(Quoted { sender: Some("You".into()), text: "Proposta  enviada".into() });
        let mut b = msg("k2", 9, 7, "You", "");
        b.kind = MessageKind::Document {
            file_name: Some("proposta.pdf".into()),
            size: Some("2 MB".into()),
        };
        b.media = vec![Media {
            kind: "document".into(),
            file_name: Some("proposta.pdf".into()),
            size: Some("2 MB".into()),
            url: Some("blob:https://web.whatsapp.com/x".into()),
        }];
        b.edited = true;
        let body =
            render_day("Ana Souza", "2026-03-09", &[b.clone(), a.clone()], &MaskRules::default());
        assert_eq!(
            body,
            "WhatsApp chat with Ana Souza on 2026-03-09\n\
             [09:05] Ana: Oi\n    segunda linha\n  > You: Proposta enviada\n\
             [09:07] You (edited): [document]\n  Attachment: proposta.pdf, 2 MB\n"
        );
        assert_eq!(
            body,
            render_day("Ana Souza", "2026-03-09", &[a, b.clone(), b], &MaskRules::default()),
            "order and duplicates do not change the body"
        );
    }

    #[test]
    fn a_sender_the_page_did_not_show_is_written_as_unknown() {
        let body = render_day(
            "Site crew",
            "2026-03-09",
            &[msg("k1", 9, 5, "", "ok")],
            &MaskRules::default(),
        );
        assert!(body.contains("[09:05] (sender unknown): ok"), "{body}");
    }

    #[test]
    fn parts_are_ordered_labelled_and_under_the_limit() {
        let msgs: Vec<Message> = (0..200)
            .map(|i| msg(&format!("k{i:03}"), 10, (i % 60) as u8, "Ana", &"x".repeat(40)))
            .collect();
        let body = render_day("Ana", "2026-03-09", &msgs, &MaskRules::default());
        let ps = parts(&body, 2_000);
        assert!(ps.len() > 1);
        assert!(ps.iter().all(|p| p.chars().count() <= 2_000));
        assert!(ps[0].starts_with(&format!("(part 1/{})\n", ps.len())));
        let joined: String = ps.iter().map(|p| p.split_once('\n').unwrap().1).collect();
        assert_eq!(joined, body);
        assert_eq!(parts("short", 2_000), vec!["short".to_string()]);
    }

    #[test]
    fn masking_applies_to_what_is_rendered_not_to_the_message() {
        let mut a = msg("k1", 9, 5, "Ana", "Cartão 4111 1111 1111 1111, CPF 529.982.247-25");
        a.quoted = Some(Quoted { sender: None, text: "o 5555 5555 5555 4444?".into() });
        let body = render_day("Ana", "2026-03-09", std::slice::from_ref(&a), &MaskRules::default());
        assert_eq!(
            body,
            "WhatsApp chat with Ana on 2026-03-09\n\
             [09:05] Ana: Cartão [card number removed], CPF 529.982.247-25\n  > o [card number removed]?\n"
        );
        assert!(a.text.contains("4111 1111 1111 1111"), "the stored message is untouched");
        let all = MaskRules { cards: true, ids: true, codes: true };
        assert!(render_day("Ana", "2026-03-09", &[a.clone()], &all).contains("CPF [CPF removed]"));
        assert!(
            render_day("Ana", "2026-03-09", &[a], &MaskRules::NONE).contains("4111 1111 1111 1111")
        );
    }
}
