//! Where an accepted delivery goes when the receiver does not queue it itself: an [`Intake`]
//! that keeps it (the bot's durable journal) and answers for it.

use crate::Id;
use bytes::Bytes;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

/// A delivery that passed the receiver's checks (path, body, test delivery, allowlist).
pub(crate) struct Incoming {
    pub(crate) app_id: Option<String>,
    pub(crate) new_msg_id: Option<Id>,
    /// The body as received, to keep.
    pub(crate) body: Bytes,
    /// The body parsed, to hand on.
    pub(crate) value: Value,
}

/// What the intake did with a delivery; the receiver answers GeWe from it.
pub(crate) enum Verdict {
    /// Kept: answered 200.
    Accepted,
    /// Kept before: answered 200, not handed on.
    Duplicate,
    /// Not kept, for the reason given: answered 503, so that GeWe delivers it again.
    Refused(String),
}

/// Takes deliveries in place of the receiver's queue and dedup window. The answer to GeWe
/// waits for [`take`](Intake::take), so a durable intake acknowledges only what it kept.
pub(crate) trait Intake: Send + Sync + 'static {
    fn take(&self, incoming: Incoming) -> Pin<Box<dyn Future<Output = Verdict> + Send + '_>>;
}
