//! When to sync, who may sync, and what the first backup covers. Pure; the worker feeds
//! it the clock and stored state.
use crate::core::model::LocalMinute;
use serde::{Deserialize, Serialize};

/// The product's cadence. Tests may shorten it through a stored setting; this stays.
pub const DEFAULT_PERIOD_MS: u64 = 3 * 60_000;
/// The first backup on connection covers this many days back.
pub const FIRST_BACKUP_DAYS: u64 = 3;

/// Is a sync due? True when none ran yet or the last finished a period ago or more, so a
/// worker waking after sleep or a closed browser catches up at once instead of waiting.
pub fn due(last_finished_ms: Option<u64>, now_ms: u64, period_ms: u64) -> bool {
    match last_finished_ms {
        None => true,
        // A clock that went backwards (manual change) also means: sync now.
        Some(t) => now_ms < t || now_ms - t >= period_ms,
    }
}

/// A time-limited claim on "the" sync, stored durably so a restarted worker, or a second
/// worker instance during an update, does not run a second sync beside a live one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub owner: String,
    pub expires_ms: u64,
}

/// Take the lease if it is free or expired. A live lease of any owner, ours included, is
/// a cycle in progress: one at a time.
pub fn acquire(current: Option<&Lease>, owner: &str, now_ms: u64, ttl_ms: u64) -> Option<Lease> {
    match current {
        Some(l) if l.expires_ms > now_ms => None,
        _ => Some(Lease { owner: owner.to_string(), expires_ms: now_ms + ttl_ms }),
    }
}

/// Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Minutes since the epoch of a local wall-clock minute (no zone: compare locals only).
pub fn local_minutes(t: &LocalMinute) -> i64 {
    days_from_civil(i64::from(t.year), i64::from(t.month), i64::from(t.day)) * 1440
        + i64::from(t.hour) * 60
        + i64::from(t.minute)
}

/// Is a message inside the first backup's window: at most `FIRST_BACKUP_DAYS` × 24 h
/// before the (local) moment of connection? Messages after connection always qualify.
pub fn in_first_backup_window(message: &LocalMinute, connected_local: &LocalMinute) -> bool {
    in_window(message, connected_local, FIRST_BACKUP_DAYS as u32)
}

fn in_window(message: &LocalMinute, connected_local: &LocalMinute, days: u32) -> bool {
    local_minutes(message) >= local_minutes(connected_local) - i64::from(days) * 1440
}

/// The longest backup window a rep may set (days before the first connection).
pub const MAX_WINDOW_DAYS: u32 = 365;

/// What the backup covers: everything from `days` × 24 h before the first connection on,
/// plus, for the chats the rep chose (`older_chats`, chat keys), everything captured.
/// Messages outside it are kept (and exported) but never sent and never "waiting".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupWindow {
    /// The local minute of the first connection; `None` before any CRM was connected (then
    /// nothing is known to be outside the window yet).
    pub connected: Option<LocalMinute>,
    pub days: u32,
    pub older_chats: std::collections::BTreeSet<String>,
}

impl BackupWindow {
    /// Is a message of `chat` at `t` part of the backup?
    pub fn admits(&self, chat: &str, t: &LocalMinute) -> bool {
        match &self.connected {
            None => true,
            Some(c) => self.older_chats.contains(chat) || in_window(t, c, self.days),
        }
    }

    /// The first local minute inside the window (messages before it are "older").
    pub fn start(&self) -> Option<LocalMinute> {
        let c = self.connected.as_ref()?;
        Some(minute_from_local_minutes(local_minutes(c) - i64::from(self.days) * 1440))
    }
}

/// Inverse of `local_minutes`.
pub fn minute_from_local_minutes(m: i64) -> LocalMinute {
    let days = m.div_euclid(1440);
    let rem = m.rem_euclid(1440);
    let (y, mo, d) = civil_from_days(days);
    LocalMinute {
        year: y as u16,
        month: mo as u8,
        day: d as u8,
        hour: (rem / 60) as u8,
        minute: (rem % 60) as u8,
    }
}

/// Howard Hinnant's civil_from_days (inverse of `days_from_civil`): exact for the proleptic
/// Gregorian calendar.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lm(day: u8, hour: u8, minute: u8) -> LocalMinute {
        LocalMinute { year: 2026, month: 11, day, hour, minute }
    }

    #[test]
    fn due_catches_up_after_sleep() {
        assert!(due(None, 0, DEFAULT_PERIOD_MS));
        assert!(!due(Some(1_000), 1_000 + DEFAULT_PERIOD_MS - 1, DEFAULT_PERIOD_MS));
        assert!(due(Some(1_000), 1_000 + DEFAULT_PERIOD_MS, DEFAULT_PERIOD_MS));
        assert!(due(Some(1_000), 1_000 + 8 * 3_600_000, DEFAULT_PERIOD_MS), "woke from sleep");
        assert!(due(Some(5_000), 1_000, DEFAULT_PERIOD_MS), "clock went back");
    }

    #[test]
    fn lease_excludes_a_second_cycle_until_expiry() {
        let a = acquire(None, "a", 0, 100).unwrap();
        assert_eq!(acquire(Some(&a), "b", 50, 100), None);
        assert_eq!(
            acquire(Some(&a), "a", 50, 100),
            None,
            "a second cycle of the same worker waits too"
        );
        assert_eq!(acquire(Some(&a), "b", 100, 100).unwrap().owner, "b", "expired lease is free");
    }

    #[test]
    fn window_is_exactly_three_days() {
        let connected = lm(21, 12, 0);
        assert!(in_first_backup_window(&lm(18, 12, 0), &connected));
        assert!(!in_first_backup_window(&lm(18, 11, 59), &connected));
        assert!(in_first_backup_window(&lm(21, 12, 30), &connected));
        // Across a month boundary.
        let c = LocalMinute { year: 2026, month: 3, day: 2, hour: 0, minute: 0 };
        let feb27 = LocalMinute { year: 2026, month: 2, day: 27, hour: 0, minute: 0 };
        let feb26 = LocalMinute { year: 2026, month: 2, day: 26, hour: 23, minute: 59 };
        assert!(in_first_backup_window(&feb27, &c));
        assert!(!in_first_backup_window(&feb26, &c));
    }

    #[test]
    fn a_window_admits_its_days_and_the_chats_the_rep_chose() {
        let mut w = BackupWindow {
            connected: Some(lm(21, 12, 0)),
            days: 3,
            older_chats: Default::default(),
        };
        assert!(w.admits("c", &lm(18, 12, 0)));
        assert!(!w.admits("c", &lm(18, 11, 59)));
        assert_eq!(w.start(), Some(lm(18, 12, 0)));
        w.days = 7;
        assert!(w.admits("c", &lm(14, 12, 0)), "a longer window reaches further back");
        assert!(!w.admits("c", &lm(14, 11, 59)));
        w.older_chats.insert("c".into());
        assert!(
            w.admits("c", &LocalMinute { year: 2020, month: 1, day: 1, hour: 0, minute: 0 }),
            "the rep chose this chat's older messages"
        );
        assert!(!w.admits("d", &lm(1, 0, 0)), "only that chat");
        let unconnected =
            BackupWindow { connected: None, days: 3, older_chats: Default::default() };
        assert!(
            unconnected.admits("c", &lm(1, 0, 0)),
            "before any connection nothing is outside yet"
        );
        assert_eq!(unconnected.start(), None);
    }

    #[test]
    fn window_start_crosses_month_and_year_boundaries() {
        let w = BackupWindow {
            connected: Some(LocalMinute { year: 2027, month: 1, day: 2, hour: 0, minute: 5 }),
            days: 3,
            older_chats: Default::default(),
        };
        assert_eq!(
            w.start(),
            Some(LocalMinute { year: 2026, month: 12, day: 30, hour: 0, minute: 5 })
        );
        let leap = BackupWindow {
            connected: Some(LocalMinute { year: 2028, month: 3, day: 1, hour: 10, minute: 0 }),
            days: 1,
            older_chats: Default::default(),
        };
        assert_eq!(
            leap.start(),
            Some(LocalMinute { year: 2028, month: 2, day: 29, hour: 10, minute: 0 })
        );
        for m in [0i64, 1439, 1440, 29_000_000, 30_000_000] {
            assert_eq!(local_minutes(&minute_from_local_minutes(m)), m);
        }
    }

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2026, 11, 21), 20_778);
    }
}
