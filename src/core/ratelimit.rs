//! How many CRM lookups a chat switch may cause. The page decides what the chat header says,
//! so every rewritten header is a "new chat": lookups are rate-limited per tab and per CRM
//! (token buckets), a number that matched nothing is not looked up again for a while, and a
//! CRM whose reported API allowance runs low gets no lookups until it recovers.
use crate::core::model::Crm;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Lookups one tab may start at once, then one per `TAB_REFILL_MS`.
pub const TAB_BURST: u32 = 5;
pub const TAB_REFILL_MS: u64 = 12_000;
/// Lookups one CRM gets from all tabs and the cycle together.
pub const CRM_BURST: u32 = 12;
pub const CRM_REFILL_MS: u64 = 5_000;
/// A number no CRM knew is not looked up again for this long (a rep's explicit action still is).
pub const NEGATIVE_TTL_MS: u64 = 30 * 60_000;
/// Below this share of its allowance (or this many calls), a CRM gets no lookups.
pub const LOW_BUDGET_PERMILLE: u64 = 50;
pub const LOW_BUDGET_MIN: u64 = 25;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// Tokens left at `at_ms`.
    pub tokens: u32,
    pub at_ms: u64,
}

impl Bucket {
    fn refill(&mut self, burst: u32, every_ms: u64, now_ms: u64) {
        if self.at_ms == 0 || now_ms < self.at_ms {
            *self = Bucket { tokens: burst, at_ms: now_ms };
            return;
        }
        let earned = (now_ms - self.at_ms) / every_ms;
        if earned > 0 {
            self.tokens = (self.tokens as u64 + earned).min(burst as u64) as u32;
            self.at_ms += earned * every_ms;
        }
        if self.tokens == burst {
            self.at_ms = now_ms;
        }
    }

    fn available(&mut self, burst: u32, every_ms: u64, now_ms: u64) -> bool {
        self.refill(burst, every_ms, now_ms);
        self.tokens > 0
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limiter {
    pub tabs: BTreeMap<i64, Bucket>,
    pub crms: BTreeMap<Crm, Bucket>,
    /// E.164 → epoch ms until which "no match" stands.
    pub negative: BTreeMap<String, u64>,
}

/// Why a CRM was left out of a lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Held {
    TabLimit,
    CrmLimit(Crm),
    LowBudget(Crm),
    KnownNoMatch,
}

fn low(b: &Budget) -> bool {
    match (b.remaining, b.limit) {
        (Some(r), Some(l)) if l > 0 => {
            r < LOW_BUDGET_MIN || r.saturating_mul(1000) < l.saturating_mul(LOW_BUDGET_PERMILLE)
        }
        (Some(r), _) => r < LOW_BUDGET_MIN,
        _ => false,
    }
}

/// When a held lookup may be admitted again: a token is back in the tab's or the CRM's bucket
/// after its refill time. A low budget or a known "no match" is not retried soon.
pub fn retry_after_ms(held: &[Held]) -> Option<u64> {
    held.iter()
        .filter_map(|h| match h {
            Held::TabLimit => Some(TAB_REFILL_MS),
            Held::CrmLimit(_) => Some(CRM_REFILL_MS),
            Held::LowBudget(_) | Held::KnownNoMatch => None,
        })
        .max()
}

impl Limiter {
    /// Which of `crms` may look `phone` up now, for a capture in `tab` (None: the sync cycle).
    /// Admitted CRMs spend a token; the rest are listed with the reason.
    pub fn admit(
        &mut self,
        tab: Option<i64>,
        phone: Option<&str>,
        crms: &[Crm],
        budgets: &BTreeMap<Crm, Budget>,
        now_ms: u64,
    ) -> (Vec<Crm>, Vec<Held>) {
        self.negative.retain(|_, until| *until > now_ms);
        if let Some(p) = phone {
            if self.negative.contains_key(p) {
                return (vec![], vec![Held::KnownNoMatch]);
            }
        }
        if let Some(t) = tab {
            if !self.tabs.entry(t).or_default().available(TAB_BURST, TAB_REFILL_MS, now_ms) {
                return (vec![], vec![Held::TabLimit]);
            }
        }
        let mut go = Vec::new();
        let mut held = Vec::new();
        for &crm in crms {
            if budgets.get(&crm).is_some_and(low) {
                held.push(Held::LowBudget(crm));
            } else if !self.crms.entry(crm).or_default().available(CRM_BURST, CRM_REFILL_MS, now_ms)
            {
                held.push(Held::CrmLimit(crm));
            } else {
                go.push(crm);
            }
        }
        if !go.is_empty() {
            for crm in &go {
                if let Some(b) = self.crms.get_mut(crm) {
                    b.tokens -= 1;
                }
            }
            if let Some(b) = tab.and_then(|t| self.tabs.get_mut(&t)) {
                b.tokens -= 1;
            }
        }
        (go, held)
    }

    /// A lookup of `phone` found nothing anywhere (and nothing failed): remember it.
    pub fn no_match(&mut self, phone: &str, now_ms: u64) {
        self.negative.insert(phone.to_string(), now_ms + NEGATIVE_TTL_MS);
        // Bounded: the oldest entries go first.
        while self.negative.len() > 5000 {
            let Some(k) = self.negative.iter().min_by_key(|(_, v)| **v).map(|(k, _)| k.clone())
            else {
                break;
            };
            self.negative.remove(&k);
        }
    }

    /// Tabs that closed: their buckets go (a reloaded tab keeps its id, so a reload never
    /// refills a bucket; a new tab gets its own bucket anyway).
    pub fn forget_tabs(&mut self, closed: &std::collections::BTreeSet<i64>) {
        self.tabs.retain(|t, _| !closed.contains(t));
    }
}

/// What the CRM said about the caller's remaining allowance, when it said anything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    pub remaining: Option<u64>,
    pub limit: Option<u64>,
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_held_lookup_is_retried_once_a_token_is_back_unless_nothing_will_change() {
        assert_eq!(retry_after_ms(&[Held::TabLimit]), Some(TAB_REFILL_MS));
        assert_eq!(retry_after_ms(&[Held::CrmLimit(Crm::Zoho)]), Some(CRM_REFILL_MS));
        assert_eq!(
            retry_after_ms(&[Held::CrmLimit(Crm::Zoho), Held::LowBudget(Crm::Salesforce)]),
            Some(CRM_REFILL_MS)
        );
        assert_eq!(retry_after_ms(&[Held::LowBudget(Crm::Zoho)]), None);
        assert_eq!(retry_after_ms(&[Held::KnownNoMatch]), None);
        assert_eq!(retry_after_ms(&[]), None);
    }

    use super::*;
    const ALL: [Crm; 3] = [Crm::Zoho, Crm::Salesforce, Crm::Leadsquared];

    #[test]
    fn rewritten_headers_get_a_bounded_number_of_lookups() {
        let mut l = Limiter::default();
        let none = BTreeMap::new();
        let t0 = 1_000_000;
        // 20 headers in two seconds: only the burst is looked up.
        let looked: usize = (0..20)
            .filter(|i| {
                !l.admit(Some(1), Some(&format!("+1555000{i:04}")), &ALL, &none, t0 + i * 100)
                    .0
                    .is_empty()
            })
            .count();
        assert_eq!(looked, TAB_BURST as usize);
        assert_eq!(
            l.admit(Some(1), Some("+15559999999"), &ALL, &none, t0 + 2_000).1,
            vec![Held::TabLimit]
        );
        // The tab earns one lookup per refill period.
        assert_eq!(
            l.admit(Some(1), Some("+15559999999"), &ALL, &none, t0 + TAB_REFILL_MS + 10).0,
            ALL.to_vec()
        );
        // Another tab has its own bucket, but the CRMs' buckets are shared.
        let mut n = 0;
        for t in 2..10 {
            for i in 0..TAB_BURST {
                if !l
                    .admit(
                        Some(t),
                        Some(&format!("+1666{t}{i:04}")),
                        &[Crm::Zoho],
                        &none,
                        t0 + TAB_REFILL_MS + 20,
                    )
                    .0
                    .is_empty()
                {
                    n += 1;
                }
            }
        }
        assert!(n >= (CRM_BURST - TAB_BURST - 1) as usize && n <= CRM_BURST as usize, "{n}");
    }

    #[test]
    fn no_match_is_remembered_and_low_budgets_pause_lookups() {
        let mut l = Limiter::default();
        let mut budgets = BTreeMap::new();
        l.no_match("+15550001111", 0);
        assert_eq!(
            l.admit(Some(1), Some("+15550001111"), &ALL, &budgets, 1_000).1,
            vec![Held::KnownNoMatch]
        );
        assert!(!l
            .admit(Some(1), Some("+15550001111"), &ALL, &budgets, NEGATIVE_TTL_MS + 1)
            .0
            .is_empty());
        budgets.insert(Crm::Zoho, Budget { remaining: Some(100), limit: Some(5000) });
        budgets.insert(Crm::Salesforce, Budget { remaining: Some(4000), limit: Some(5000) });
        let (go, held) = l.admit(Some(2), Some("+15550002222"), &ALL, &budgets, 2_000);
        assert_eq!(go, vec![Crm::Salesforce, Crm::Leadsquared]);
        assert_eq!(held, vec![Held::LowBudget(Crm::Zoho)]);
        budgets.insert(Crm::Leadsquared, Budget { remaining: Some(3), limit: None });
        assert_eq!(
            l.admit(Some(3), Some("+15550003333"), &ALL, &budgets, 3_000).0,
            vec![Crm::Salesforce]
        );
    }

    #[test]
    fn a_closed_tab_loses_its_bucket_and_no_other() {
        let mut l = Limiter::default();
        let none = BTreeMap::new();
        for t in [1, 2] {
            l.admit(Some(t), Some("+15550001111"), &ALL, &none, 1_000);
        }
        l.forget_tabs(&[1].into());
        assert_eq!(l.tabs.keys().copied().collect::<Vec<_>>(), [2]);
        assert_eq!(l.crms.len(), ALL.len(), "the CRMs' buckets are shared and stay");
    }

    #[test]
    fn a_clock_going_back_does_not_mint_tokens_forever() {
        let mut b = Bucket::default();
        assert!(b.available(2, 1000, 10_000));
        b.tokens = 0;
        assert!(!b.available(2, 1000, 10_500));
        assert!(b.available(2, 1000, 11_000));
        assert!(b.available(2, 1000, 5_000)); // reset to a full bucket, never more than the burst
        assert_eq!(b.tokens, 2);
    }
}
