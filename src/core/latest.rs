//! Newest-wins ordering for answers that can overtake each other.
//!
//! Two requests sent in order can finish out of order: the worker reads IndexedDB before it
//! decides, and read transactions complete in any order; the panel's refreshes wait on the
//! worker, whose answers take as long as their lookups. Whatever finishes last must not undo
//! what was asked last. Each request takes a ticket when it starts (synchronously, so tickets
//! follow arrival order) and may act only if no later ticket has acted already.

/// Tickets handed out in arrival order, and the latest that acted.
#[derive(Debug, Default, Clone)]
pub struct Latest {
    issued: u64,
    acted: u64,
}

impl Latest {
    pub const fn new() -> Self {
        Self { issued: 0, acted: 0 }
    }

    /// A ticket for a request that starts now.
    pub fn ticket(&mut self) -> u64 {
        self.issued += 1;
        self.issued
    }

    /// May the request holding `ticket` act? Yes unless a later one already did; if yes, it
    /// is the latest to have acted.
    pub fn act(&mut self, ticket: u64) -> bool {
        if ticket < self.acted {
            return false;
        }
        self.acted = ticket;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_overtaken_by_a_later_one_does_not_act() {
        let mut l = Latest::default();
        let (first, second) = (l.ticket(), l.ticket());
        assert!(l.act(second));
        assert!(!l.act(first), "the earlier request finished last: it must not undo the later one");
    }

    #[test]
    fn answers_in_order_all_act_and_a_stream_of_requests_never_starves_one() {
        let mut l = Latest::default();
        let a = l.ticket();
        let b = l.ticket();
        let c = l.ticket();
        // a finishes while b and c are still in flight: it acts (nothing later has).
        assert!(l.act(a));
        assert!(l.act(b));
        assert!(l.act(c));
        // The same ticket acting twice (a retry) is allowed.
        assert!(l.act(c));
    }
}
