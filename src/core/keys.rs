//! The storage key formats, in one place (the tables are described in `core::store`).

/// The `days` key of a chat's day: `chat|YYYY-MM-DD` (`chat|` for undated rows).
pub fn day_key(chat: &str, day: &str) -> String {
    format!("{chat}|{day}")
}

/// The chat a [`day_key`] belongs to and its day.
pub fn split_day_key(key: &str) -> Option<(&str, &str)> {
    key.rsplit_once('|')
}

/// The `files` key of a message's `index`-th attachment.
pub fn file_key(message_key: &str, index: usize) -> String {
    format!("{message_key}#{index}")
}
