//! The guided backfill of the first backup: which chats in WhatsApp's chat list had activity in
//! the 3-day window but were never captured, and whether scrolling a chat back covered the
//! window. Pure: the content script reads the list and scrolls; this decides.
use crate::capture::chatlist::{age_days, days_from_civil};
use crate::core::model::LocalMinute;
use serde::{Deserialize, Serialize};

/// The first backup's window, in days before today.
pub const WINDOW_DAYS: u32 = 3;

/// One chat-list row as shown: its title and last-activity label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRow {
    pub title: String,
    pub label: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Chats to open, in list order (most recent first).
    pub chats: Vec<String>,
    /// Rows whose last-activity label could not be read: not opened, reported.
    pub unreadable: Vec<String>,
}

/// Chats active within the window that the worker has not captured yet.
pub fn plan(rows: &[ListRow], known: &[String], locale: &str, today: (u16, u8, u8)) -> Plan {
    let mut p = Plan::default();
    for r in rows {
        let title = r.title.trim();
        if title.is_empty()
            || known.iter().any(|k| k == title)
            || p.chats.iter().any(|c| c == title)
        {
            continue;
        }
        match age_days(&r.label, locale, today) {
            Some(age) if age <= WINDOW_DAYS => p.chats.push(title.to_string()),
            Some(_) => {}
            None => p.unreadable.push(title.to_string()),
        }
    }
    p
}

/// Does a chat whose oldest loaded message is `oldest` cover the window?
pub fn covers(oldest: Option<&LocalMinute>, today: (u16, u8, u8)) -> bool {
    let Some(o) = oldest else { return false };
    let start =
        days_from_civil(today.0.into(), today.1.into(), today.2.into()) - i64::from(WINDOW_DAYS);
    days_from_civil(o.year.into(), o.month.into(), o.day.into()) <= start
}

// How each chat went and the run's progress are what the panel shows: core's types.
pub use crate::core::model::{BackfillOutcome as Outcome, BackfillProgress as Progress};

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: (u16, u8, u8) = (2026, 11, 21);
    fn row(t: &str, l: &str) -> ListRow {
        ListRow { title: t.into(), label: l.into() }
    }

    #[test]
    fn plans_unopened_chats_inside_the_window() {
        let rows = [
            row("Carlos", "10:15"),
            row("Ana", "Yesterday"),
            row("Julia", "18/11/2026"),
            row("Old", "10/11/2026"),
            row("Odd", "typing…"),
            row("Carlos", "09:00"),
        ];
        let p = plan(&rows, &["Ana".to_string()], "pt-BR", TODAY);
        assert_eq!(p.chats, ["Carlos", "Julia"]);
        assert_eq!(p.unreadable, ["Odd"]);
    }

    #[test]
    fn coverage_needs_a_message_from_the_window_start_or_before() {
        let m = |d: u8| LocalMinute { year: 2026, month: 11, day: d, hour: 9, minute: 0 };
        assert!(covers(Some(&m(18)), TODAY));
        assert!(covers(Some(&m(2)), TODAY));
        assert!(!covers(Some(&m(19)), TODAY));
        assert!(!covers(None, TODAY));
    }
}
