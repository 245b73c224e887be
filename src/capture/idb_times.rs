//! Message times from WhatsApp's own IndexedDB (`model-storage`, store `message`), where the
//! page's database is readable: each row's `t` (seconds since the epoch) is the time the
//! message was sent, exact where the bubble's text gives only a minute or an ambiguous date
//! order. Public readers of this database (2026) key its rows by the serialized message id
//! `<fromMe>_<chat jid>_<message id>` (a group's adds `_<participant>`), so a message's row
//! is found by a key range; a database shaped otherwise yields no rows, and the time read
//! from the bubble stays.
use super::IdbEntry;
use crate::core::model::{LocalMinute, Message, WaIdentity};

/// The chat's JIDs as the database writes them: the number's `@c.us`, the `@lid`, or the
/// group's own id (found by the group's title among the database's chat records).
pub fn chat_jids(identity: &WaIdentity, entries: &[IdbEntry]) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = &identity.phone {
        out.push(format!("{}@c.us", p.trim_start_matches('+')));
    }
    if let Some(l) = &identity.lid {
        out.push(l.clone());
    }
    if identity.is_group {
        let mut groups: Vec<&str> = entries
            .iter()
            .filter(|e| e.id.ends_with("@g.us"))
            .filter(|e| e.names.iter().any(|n| n.trim() == identity.name))
            .map(|e| e.id.as_str())
            .collect();
        groups.sort_unstable();
        groups.dedup();
        // Two groups with one title: neither is known to be this one.
        if let [g] = groups.as_slice() {
            out.push((*g).to_string());
        }
    }
    out
}

/// The key range `[lower, upper)` that holds the row of message `id` in chat `jid`, whichever
/// participant a group's row names; ids that merely begin with `id` fall in it too, and
/// `message_id` tells them apart.
pub fn message_range(jid: &str, from_me: bool, id: &str) -> (String, String) {
    let lower = format!("{from_me}_{jid}_{id}");
    // '`' follows '_': every `<lower>_<participant>` sorts below it.
    let upper = format!("{lower}`");
    (lower, upper)
}

/// The message id in a serialized id `<fromMe>_<chat>_<id>[_<participant>]`; a bare id is its
/// own. The same form is the legacy `data-id` of a row.
pub fn message_id(serialized: &str) -> Option<&str> {
    let mut parts = serialized.split('_');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("true" | "false"), Some(chat), Some(id)) if chat.contains('@') && !id.is_empty() => {
            Some(id)
        }
        (Some(bare), None, None) if !bare.is_empty() => Some(bare),
        _ => None,
    }
}

/// Give each message the database's time for its id (`times`: message id and time), where
/// there is one. Returns how many times were taken from the database.
pub fn apply(messages: &mut [Message], times: &[(String, LocalMinute)]) -> usize {
    let mut n = 0;
    for m in messages {
        let Some(id) = message_id(&m.key) else { continue };
        if let Some((_, t)) = times.iter().find(|(k, _)| k == id) {
            m.time = Some(*t);
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Direction, Sender};

    fn minute(day: u8, hour: u8, minute: u8) -> LocalMinute {
        LocalMinute { year: 2026, month: 5, day, hour, minute }
    }

    #[test]
    fn a_serialized_id_names_its_message_and_a_bare_id_is_its_own() {
        assert_eq!(
            message_id("false_5511987654321@c.us_3EB0A1B2C3D4E5F6"),
            Some("3EB0A1B2C3D4E5F6")
        );
        assert_eq!(
            message_id("true_120363041234567890@g.us_ABCD1234_5511987654321@c.us"),
            Some("ABCD1234")
        );
        assert_eq!(message_id("true_98765432101234@lid_XYZ"), Some("XYZ"));
        assert_eq!(message_id("3EB0A1B2C3D4E5F6"), Some("3EB0A1B2C3D4E5F6"));
        for bad in ["", "maybe_5511@c.us_X", "true_nochat_X", "true_5511@c.us_", "a_b"] {
            assert_eq!(message_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_range_holds_the_messages_row_in_either_form() {
        let (lo, hi) = message_range("120363041234567890@g.us", false, "3EB0AB");
        let inside = |k: &str| lo.as_str() <= k && k < hi.as_str();
        assert!(inside("false_120363041234567890@g.us_3EB0AB"));
        assert!(inside("false_120363041234567890@g.us_3EB0AB_5511987654321@c.us"));
        assert!(!inside("true_120363041234567890@g.us_3EB0AB"), "the other direction");
        assert!(!inside("false_1203630412345678901@g.us_3EB0AB"), "another chat");
        // An id extending this one is inside the range; its message id tells it apart.
        assert!(inside("false_120363041234567890@g.us_3EB0ABCD"));
        assert_eq!(message_id("false_120363041234567890@g.us_3EB0ABCD"), Some("3EB0ABCD"));
    }

    #[test]
    fn a_chat_is_found_by_its_number_its_lid_or_its_one_group_of_that_title() {
        let person = WaIdentity {
            phone: Some("+5511987654321".into()),
            lid: None,
            name: "Ana".into(),
            is_group: false,
        };
        assert_eq!(chat_jids(&person, &[]), ["5511987654321@c.us"]);
        let hidden = WaIdentity {
            phone: None,
            lid: Some("98765432101234@lid".into()),
            name: "R".into(),
            is_group: false,
        };
        assert_eq!(chat_jids(&hidden, &[]), ["98765432101234@lid"]);
        let group =
            WaIdentity { phone: None, lid: None, name: "Obra Centro".into(), is_group: true };
        let entry = |id: &str, name: &str| IdbEntry { id: id.into(), names: vec![name.into()] };
        let one = [
            entry("120363041234567890@g.us", "Obra Centro"),
            entry("5511987654321@c.us", "Obra Centro"),
        ];
        assert_eq!(chat_jids(&group, &one), ["120363041234567890@g.us"]);
        let two = [
            entry("120363041234567890@g.us", "Obra Centro"),
            entry("120363049999999999@g.us", "Obra Centro"),
        ];
        assert!(chat_jids(&group, &two).is_empty(), "two groups of one title: neither");
    }

    #[test]
    fn the_databases_time_replaces_the_bubbles_and_dates_an_undated_row() {
        let sender = Sender { name: "Ana".into(), phone: None };
        let mut ms = vec![
            Message::text(
                "3EB0AAAA",
                "pn:+5511987654321",
                Direction::In,
                sender.clone(),
                Some(minute(10, 9, 0)),
                "a",
            ),
            Message::text(
                "true_5511987654321@c.us_3EB0BBBB",
                "pn:+5511987654321",
                Direction::Out,
                sender.clone(),
                None,
                "b",
            ),
            Message::text(
                "3EB0CCCC",
                "pn:+5511987654321",
                Direction::In,
                sender,
                Some(minute(10, 9, 5)),
                "c",
            ),
        ];
        let times =
            [("3EB0AAAA".to_string(), minute(5, 9, 1)), ("3EB0BBBB".to_string(), minute(10, 9, 2))];
        assert_eq!(apply(&mut ms, &times), 2);
        assert_eq!(
            ms[0].time,
            Some(minute(5, 9, 1)),
            "the database's day over the bubble's ambiguous one"
        );
        assert_eq!(
            ms[1].time,
            Some(minute(10, 9, 2)),
            "a legacy data-id is found by its message id"
        );
        assert_eq!(ms[2].time, Some(minute(10, 9, 5)), "no database row: the bubble's time stays");
    }
}
