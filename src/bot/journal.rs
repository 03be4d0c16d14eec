//! The bot's intake: each delivery is journaled and deduplicated in the store before GeWe gets
//! its 200, then handed to the dispatcher.

use super::dispatch::{conversation, Item};
use super::shared::Shared;
use super::stats::bump;
use super::store::{Delivery, Journaled};
use crate::webhook::{Incoming, Intake, Verdict};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::mpsc;

/// The durable intake of a bot's webhook.
pub(crate) struct Journal {
    pub(crate) shared: Arc<Shared>,
    pub(crate) dispatcher: mpsc::UnboundedSender<Item>,
    /// How many journaled deliveries may wait for their handlers before new ones are refused.
    pub(crate) max_waiting: u64,
}

impl Intake for Journal {
    fn take(&self, incoming: Incoming) -> Pin<Box<dyn Future<Output = Verdict> + Send + '_>> {
        Box::pin(async move {
            let stats = &self.shared.stats;
            let waiting = stats.waiting.load(Ordering::Relaxed);
            // With workers, what waits is in Redis, not in this process.
            if !self.shared.has_workers() && waiting >= self.max_waiting {
                bump(&stats.refused);
                return Verdict::Refused(format!(
                    "{waiting} deliveries are waiting for their handlers"
                ));
            }
            let shared = Arc::clone(&self.shared);
            let dispatcher = self.dispatcher.clone();
            // Its own task: once journaled, the delivery reaches the dispatcher even when GeWe
            // hangs up before the answer.
            let journaled = tokio::spawn(async move {
                let Incoming {
                    app_id,
                    new_msg_id,
                    body,
                    value,
                } = incoming;
                let stats = &shared.stats;
                let mut delivery = Delivery::new(app_id, new_msg_id, body);
                let value = if shared.has_workers() {
                    // The workers read it from Redis; its conversation picks its partition.
                    let event = crate::events::Event::from_value(value);
                    delivery = delivery.in_conversation(conversation(&event));
                    None
                } else {
                    Some(value)
                };
                match shared.store.journal(delivery).await {
                    Ok(Journaled::New(seq)) => {
                        bump(&stats.accepted);
                        let Some(value) = value else {
                            return Verdict::Accepted;
                        };
                        stats.waiting.fetch_add(1, Ordering::Relaxed);
                        // A closed dispatcher is shutting down: the delivery stays journaled and
                        // is handled on the next start.
                        let _ = dispatcher.send(Item::Delivery(Some(seq), value));
                        Verdict::Accepted
                    }
                    Ok(Journaled::Duplicate) => {
                        bump(&stats.duplicates);
                        Verdict::Duplicate
                    }
                    Err(error) => {
                        bump(&stats.refused);
                        tracing::error!(%error, "gewe bot: cannot journal a delivery");
                        Verdict::Refused("the store failed".into())
                    }
                }
            });
            journaled
                .await
                .unwrap_or_else(|_| Verdict::Refused("journaling was cut off".into()))
        })
    }
}
