//! What a running receiver counts: [`WebhookStats`].

use std::sync::atomic::{AtomicU64, Ordering};

/// Counts of what a [`RunningWebhook`](super::RunningWebhook) saw, from [`RunningWebhook::stats`](super::RunningWebhook::stats).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WebhookStats {
    /// Requests to the callback path.
    pub requests: u64,
    /// Events queued for the handler.
    pub queued: u64,
    /// Deliveries dropped as duplicates (answered 200).
    pub duplicates: u64,
    /// GeWe's test deliveries (answered 200).
    pub test_messages: u64,
    /// Deliveries refused with a 4xx (bad body, too large, not allowed).
    pub rejected: u64,
    /// Deliveries refused with 503 because the queue was full or closing.
    pub queue_full: u64,
    /// Events the handler finished with `Ok`.
    pub handled: u64,
    /// Events the handler returned `Err` for.
    pub handler_errors: u64,
    /// Events the handler panicked on.
    pub handler_panics: u64,
}

#[derive(Default)]
pub(super) struct Counters {
    pub(super) requests: AtomicU64,
    pub(super) queued: AtomicU64,
    pub(super) duplicates: AtomicU64,
    pub(super) test_messages: AtomicU64,
    pub(super) rejected: AtomicU64,
    pub(super) queue_full: AtomicU64,
    pub(super) handled: AtomicU64,
    pub(super) handler_errors: AtomicU64,
    pub(super) handler_panics: AtomicU64,
}

impl Counters {
    pub(super) fn snapshot(&self) -> WebhookStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        WebhookStats {
            requests: get(&self.requests),
            queued: get(&self.queued),
            duplicates: get(&self.duplicates),
            test_messages: get(&self.test_messages),
            rejected: get(&self.rejected),
            queue_full: get(&self.queue_full),
            handled: get(&self.handled),
            handler_errors: get(&self.handler_errors),
            handler_panics: get(&self.handler_panics),
        }
    }
}

pub(super) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}
