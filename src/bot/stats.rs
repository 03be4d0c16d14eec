//! What a running bot counts: [`BotStats`].

use std::sync::atomic::{AtomicU64, Ordering};

/// Counts of what a running bot did, from [`RunningBot::stats`](super::RunningBot::stats).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BotStats {
    /// Deliveries journaled and handed to the dispatcher (replayed ones included).
    pub accepted: u64,
    /// Deliveries dropped as duplicates of journaled ones.
    pub duplicates: u64,
    /// Deliveries refused with 503: too many waiting, or the store failed.
    pub refused: u64,
    /// Events a handler finished with `Ok`.
    pub handled: u64,
    /// Events no handler took (the bot's own messages among them, unless asked for).
    pub unrouted: u64,
    /// Events a handler returned `Err` for.
    pub handler_errors: u64,
    /// Events a handler panicked on.
    pub handler_panics: u64,
    /// Journaled deliveries whose handler has not finished yet.
    pub waiting: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) accepted: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) handled: AtomicU64,
    pub(crate) unrouted: AtomicU64,
    pub(crate) handler_errors: AtomicU64,
    pub(crate) handler_panics: AtomicU64,
    pub(crate) waiting: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> BotStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        BotStats {
            accepted: get(&self.accepted),
            duplicates: get(&self.duplicates),
            refused: get(&self.refused),
            handled: get(&self.handled),
            unrouted: get(&self.unrouted),
            handler_errors: get(&self.handler_errors),
            handler_panics: get(&self.handler_panics),
            waiting: get(&self.waiting),
        }
    }
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}
