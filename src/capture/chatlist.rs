//! The chat list's "last activity" label (`10:15`, `Yesterday`, `Friday`, `18/11/2026`) read as
//! a number of days ago: which chats had activity inside the first backup's 3-day window.
//! Words are matched in the languages listed; anything else is `None` (reported, not guessed).
use crate::core::timestamp::{date_order, parse_date, parse_time};

/// "Yesterday" as WhatsApp writes it.
const YESTERDAY: &[&str] = &[
    "yesterday",
    "ontem",
    "ayer",
    "gestern",
    "hier",
    "ieri",
    "kemarin",
    "gisteren",
    "вчера",
    "dün",
    "कल",
];

/// Weekday names (Monday first), lowercase, per language.
const WEEKDAYS: &[[&str; 7]] = &[
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    [
        "segunda-feira",
        "terça-feira",
        "quarta-feira",
        "quinta-feira",
        "sexta-feira",
        "sábado",
        "domingo",
    ],
    ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
    ["montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag"],
    ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"],
    ["senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu"],
];

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Monday = 0 … Sunday = 6.
fn weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

/// How many days ago the label says the chat was last active, given today's local date.
pub fn age_days(label: &str, locale: &str, today: (u16, u8, u8)) -> Option<u32> {
    let t = label.trim().to_lowercase();
    if t.is_empty() {
        return None;
    }
    let today_days = days_from_civil(today.0.into(), today.1.into(), today.2.into());
    if t.contains(':') && parse_time(&t).is_ok() {
        return Some(0);
    }
    if YESTERDAY.contains(&t.as_str()) {
        return Some(1);
    }
    for names in WEEKDAYS {
        if let Some(i) =
            names.iter().position(|n| *n == t || n.split('-').next() == Some(t.as_str()))
        {
            // A weekday label means within the last week, never today or yesterday.
            let back = (weekday(today_days) - i as i64).rem_euclid(7);
            return Some(if back < 2 { back as u32 + 7 } else { back as u32 });
        }
    }
    let (y, m, d) = parse_date(&t, date_order(locale)).ok()?;
    let then = days_from_civil(y.into(), m.into(), d.into());
    u32::try_from(today_days - then).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: (u16, u8, u8) = (2026, 11, 21); // a Saturday

    #[test]
    fn labels_become_days_ago() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(weekday(days_from_civil(2026, 11, 21)), 5);
        assert_eq!(age_days("10:15", "pt-BR", TODAY), Some(0));
        assert_eq!(age_days("9:07 PM", "en-US", TODAY), Some(0));
        assert_eq!(age_days("Yesterday", "en-US", TODAY), Some(1));
        assert_eq!(age_days("Ontem", "pt-BR", TODAY), Some(1));
        assert_eq!(age_days("Thursday", "en-GB", TODAY), Some(2));
        assert_eq!(age_days("quarta-feira", "pt-BR", TODAY), Some(3));
        assert_eq!(age_days("Sunday", "en-GB", TODAY), Some(6));
        assert_eq!(age_days("18/11/2026", "pt-BR", TODAY), Some(3));
        assert_eq!(age_days("11/18/2026", "en-US", TODAY), Some(3));
        assert_eq!(age_days("01/11/2026", "pt-BR", TODAY), Some(20));
        assert_eq!(age_days("2026-11-20", "ja-JP", TODAY), Some(1));
    }

    #[test]
    fn unreadable_or_future_labels_are_none() {
        assert_eq!(age_days("", "en", TODAY), None);
        assert_eq!(age_days("typing…", "en", TODAY), None);
        assert_eq!(age_days("31/02/2026", "pt-BR", TODAY), None);
        assert_eq!(age_days("22/11/2026", "pt-BR", TODAY), None);
    }
}
