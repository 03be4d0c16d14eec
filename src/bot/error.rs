//! Why the bot could not start, or refused a send: [`BotError`], carried by
//! [`gewe::Error::Bot`](crate::Error::Bot).

use super::health::DeviceState;
use super::store::{SendKey, StoreError};
use crate::login::LoginError;
use crate::webhook::WebhookError;
use std::fmt;

/// What went wrong in the bot runtime. Reaches the caller as
/// [`gewe::Error::Bot`](crate::Error::Bot); [`Error::as_bot`](crate::Error::as_bot) gives it
/// back.
#[non_exhaustive]
#[derive(Debug)]
pub enum BotError {
    /// An environment variable the bot needs is not set.
    MissingVariable {
        /// The variable, e.g. `GEWE_TOKEN`.
        name: &'static str,
        /// What it is for and what to set it to.
        hint: &'static str,
    },
    /// A setting has a value the bot cannot use.
    InvalidSetting {
        /// The variable or setting, e.g. `GEWE_DEVICE_TYPE`.
        name: &'static str,
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `GEWE_APP_ID` names another device than the one in the store: the bot refuses to run
    /// rather than guess which device is meant.
    AppIdConflict {
        /// `GEWE_APP_ID`.
        configured: String,
        /// The `appId` in the store.
        stored: String,
        /// Where the store is.
        store: String,
    },
    /// The store failed.
    Store(StoreError),
    /// Logging in failed.
    Login(LoginError),
    /// The webhook could not start.
    Webhook(WebhookError),
    /// The device is not online, so the send was refused at once; nothing went out, and
    /// nothing will go out later.
    Offline {
        /// The device.
        app_id: String,
        /// Its state when the send was refused.
        state: DeviceState,
    },
    /// The device is not online at start, and recovery could not bring it back.
    DeviceUnavailable {
        /// The device.
        app_id: String,
        /// Its state after recovery.
        state: DeviceState,
    },
    /// The device's send queue is full, so the send was refused at once; nothing went out.
    QueueFull {
        /// The device.
        app_id: String,
        /// The queue's bound ([`Bot::send_queue_capacity`](super::Bot::send_queue_capacity)).
        capacity: usize,
    },
    /// A send the store recorded as begun, with no outcome: the process stopped while it was
    /// under way, so it may or may not have reached the chat. It is never sent again.
    OutcomeUnknown {
        /// The operation, e.g. `/message/postText`.
        operation: String,
        /// The chat.
        to_wxid: String,
        /// Which send.
        key: SendKey,
    },
    /// A send that failed in an earlier run of the same handler; it is not tried again.
    FailedEarlier {
        /// The operation.
        operation: String,
        /// The chat.
        to_wxid: String,
        /// The error, as recorded.
        error: String,
    },
    /// A handler run again after a crash made, at this place among its sends, another send
    /// than its first run recorded there (another operation or another chat): its sends came in
    /// another order. Nothing went out, and the recorded result is not returned, since it
    /// belongs to the other send.
    SendMismatch {
        /// Which send.
        key: SendKey,
        /// The operation recorded at this place, e.g. `/message/postText`.
        recorded_operation: String,
        /// The chat recorded at this place.
        recorded_to_wxid: String,
        /// The operation asked for now.
        operation: String,
        /// The chat asked for now.
        to_wxid: String,
    },
    /// A revoke of a send whose answer from GeWe lacked `msgId`, `newMsgId` or `createTime`.
    NotRevocable {
        /// The chat the send went to.
        to_wxid: String,
    },
    /// A quote of a send the bot cannot quote.
    NotQuotable {
        /// The chat the send went to.
        to_wxid: String,
        /// Why, e.g. that no text was recorded with it.
        why: &'static str,
    },
    /// A reply was asked for where there is no chat to reply to (a state change, a contact
    /// change), or a quote of no message.
    NoChat {
        /// What was asked for, e.g. `reply`.
        action: &'static str,
    },
}

impl BotError {
    /// Whether a send refused with this error may have reached GeWe: only
    /// [`OutcomeUnknown`](Self::OutcomeUnknown) and [`FailedEarlier`](Self::FailedEarlier).
    pub fn may_have_reached_server(&self) -> bool {
        matches!(
            self,
            BotError::OutcomeUnknown { .. } | BotError::FailedEarlier { .. }
        )
    }
}

impl fmt::Display for BotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BotError::MissingVariable { name, hint } => write!(f, "{name} is not set: {hint}"),
            BotError::InvalidSetting {
                name,
                value,
                reason,
            } => write!(f, "{name}={value:?} cannot be used: {reason}"),
            BotError::AppIdConflict {
                configured,
                stored,
                store,
            } => write!(
                f,
                "GEWE_APP_ID is {configured} but the store {store} belongs to device {stored}: \
                 unset GEWE_APP_ID to keep {stored}, or point GEWE_STORE at another file"
            ),
            BotError::Store(e) => e.fmt(f),
            BotError::Login(e) => e.fmt(f),
            BotError::Webhook(e) => e.fmt(f),
            BotError::Offline { app_id, state } => write!(
                f,
                "device {app_id} is {state}: the send was refused and will not go out later"
            ),
            BotError::DeviceUnavailable { app_id, state } => write!(
                f,
                "device {app_id} is {state}: reconnection and re-login did not bring it back"
            ),
            BotError::QueueFull { app_id, capacity } => write!(
                f,
                "the send queue of device {app_id} is full ({capacity} sends waiting): \
                 the send was refused"
            ),
            BotError::OutcomeUnknown {
                operation,
                to_wxid,
                key,
            } => write!(
                f,
                "{operation} to {to_wxid} (delivery {}, send {}) was under way when the bot \
                 stopped: its outcome is unknown, and it is not sent again",
                key.delivery, key.index
            ),
            BotError::FailedEarlier {
                operation,
                to_wxid,
                error,
            } => write!(
                f,
                "{operation} to {to_wxid} failed in an earlier run and is not tried again: {error}"
            ),
            BotError::SendMismatch {
                key,
                recorded_operation,
                recorded_to_wxid,
                operation,
                to_wxid,
            } => write!(
                f,
                "{operation} to {to_wxid} was refused: send {} of delivery {} was \
                 {recorded_operation} to {recorded_to_wxid} when the handler ran before the \
                 restart, so its sends now come in another order; nothing was sent",
                key.index, key.delivery
            ),
            BotError::NotRevocable { to_wxid } => write!(
                f,
                "cannot revoke the message sent to {to_wxid}: GeWe's answer to the send lacked \
                 msgId, newMsgId or createTime"
            ),
            BotError::NotQuotable { to_wxid, why } => {
                write!(f, "cannot quote the message sent to {to_wxid}: {why}")
            }
            BotError::NoChat { action } => {
                write!(f, "cannot {action}: the event has no chat to answer in")
            }
        }
    }
}

impl std::error::Error for BotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            // Their text is the error's own: repeating it through source() would say it twice.
            BotError::Store(e) => e.source(),
            BotError::Login(e) => e.source(),
            BotError::Webhook(e) => e.source(),
            _ => None,
        }
    }
}

impl From<BotError> for crate::Error {
    fn from(e: BotError) -> Self {
        crate::Error::Bot(Box::new(e))
    }
}

impl From<StoreError> for crate::Error {
    fn from(e: StoreError) -> Self {
        BotError::Store(e).into()
    }
}
