//! Every send of the bot: refused at once while offline or when the queue is full, recorded
//! before it goes out and after, and paced per device, as teloxide's `Throttle` paces its bot.

use super::calls::Call;
use super::error::BotError;
use super::health::{is_offline_error, DeviceState};
use super::shared::Shared;
use super::store::{SendKey, SendOutcome, SendRecord, SendSlot};
use crate::Id;
use serde_json::Value;
use std::sync::atomic::Ordering;

/// What GeWe answered to a send of the bot: the message's ids, which revoking or quoting it
/// needs, and the answer's `data`. Named apart from [`gewe::Sent`](crate::Sent), the trait of
/// the generated answers; [`sent_message`](Self::sent_message) turns one into the other's ids.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Receipt {
    /// The chat it went to.
    pub to_wxid: String,
    /// GeWe's `msgId`.
    pub msg_id: Option<Id>,
    /// GeWe's `newMsgId`.
    pub new_msg_id: Option<Id>,
    /// GeWe's `createTime`, seconds since the Unix epoch.
    pub create_time: Option<i64>,
    /// The text of a text send, as the chat shows it (`@nickname` included); `None` for other
    /// sends, and for text sends recorded before texts were kept.
    /// [`Context::quote_sent`](super::Context::quote_sent) quotes it.
    pub text: Option<String>,
    /// GeWe's `data`, whole.
    pub data: Value,
}

impl Receipt {
    /// The ids as [`SentMessage`](crate::SentMessage), for `revokeMsg` outside the bot; `None`
    /// when GeWe's answer left one out.
    pub fn sent_message(&self) -> Option<crate::SentMessage> {
        Some(crate::SentMessage {
            to_wxid: self.to_wxid.clone(),
            msg_id: self.msg_id?,
            new_msg_id: self.new_msg_id?,
            create_time: self.create_time?,
        })
    }

    /// What GeWe's `data` for a send of `text` (a text send's) to `to_wxid` says.
    pub(crate) fn from_data(to_wxid: &str, text: Option<String>, data: Value) -> Receipt {
        let id = |k: &str| {
            data.get(k)
                .and_then(|v| serde::Deserialize::deserialize(v).ok())
        };
        Receipt {
            // The chat the request named: GeWe's `toWxid` echoes it, and a stand-in server
            // may answer with another.
            to_wxid: to_wxid.to_owned(),
            msg_id: id("msgId"),
            new_msg_id: id("newMsgId"),
            create_time: data.get("createTime").and_then(Value::as_i64),
            text,
            data,
        }
    }
}

/// A place in the device's send queue, given back when dropped.
struct QueueSlot<'a>(&'a Shared);

impl Drop for QueueSlot<'_> {
    fn drop(&mut self) {
        self.0.queued.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Shared {
    pub(super) fn refuse_unless_online(&self) -> Result<(), BotError> {
        match self.health.state() {
            DeviceState::Online => Ok(()),
            state => Err(BotError::Offline {
                app_id: self.app_id.clone(),
                state,
            }),
        }
    }

    fn take_queue_slot(&self) -> Result<QueueSlot<'_>, BotError> {
        let before = self.queued.fetch_add(1, Ordering::AcqRel);
        let slot = QueueSlot(self);
        if before >= self.send_queue_capacity {
            return Err(BotError::QueueFull {
                app_id: self.app_id.clone(),
                capacity: self.send_queue_capacity,
            });
        }
        Ok(slot)
    }

    /// Sends `call` through the device's queue. With a `key` (a send of a journaled delivery's
    /// handler) it goes out at most once: a send recorded before returns what was recorded.
    pub(crate) async fn send(&self, key: Option<SendKey>, call: Call) -> crate::Result<Receipt> {
        let (operation, to) = (call.operation(), call.to().to_owned());
        let text = call.text().map(str::to_owned);
        // The record comes first: a handler run again after a crash gets the outcome its send
        // had, not an `Offline` or `QueueFull` of now, which would tell it that nothing went
        // out. Only a send with no record is checked against the device and the queue.
        if let Some(key) = key {
            if let Some(earlier) = self.store.sent(key).await? {
                return recorded(key, earlier, operation, &to);
            }
        }
        self.refuse_unless_online()?;
        let slot = self.take_queue_slot()?;
        if let Some(key) = key {
            // The lookup above is a read; recording the send checks again in one atomic step,
            // so a send is never begun twice under one key.
            let record = SendRecord::begin(operation, to.clone()).with_text(text.clone());
            if let SendSlot::Recorded(earlier) = self.store.begin_send(key, record).await? {
                return recorded(key, earlier, operation, &to);
            }
        }
        let result = self
            .pacer
            .send(&self.app_id, &to, async {
                #[cfg(feature = "redis")]
                if let Some(redis) = &self.redis {
                    return self.send_in_turn(redis, &to, call).await;
                }
                // The device may have gone offline while this send waited its turn: it must not
                // go out late.
                self.refuse_unless_online()?;
                call.run(&self.device).await
            })
            .await;
        drop(slot);
        if let Err(error) = &result {
            if is_offline_error(error) {
                self.went_offline("a send answered 微信已离线");
            }
        }
        if let Some(key) = key {
            let outcome = match &result {
                Ok(data) => SendOutcome::Sent(data.clone()),
                Err(error) => SendOutcome::Failed(error.to_string()),
            };
            if let Err(error) = self.store.finish_send(key, outcome).await {
                // The send's outcome is known now; only a crash before the next write would
                // make a rerun see it as unknown, which never sends it twice.
                tracing::error!(%error, "gewe bot: cannot record a send's outcome");
            }
        }
        result.map(|data| Receipt::from_data(&to, text, data))
    }
}

/// What a handler run again gets for the send `key` that an earlier run recorded as `earlier`:
/// its result, when the send asked for now is the one recorded; otherwise
/// [`BotError::SendMismatch`], since the record is another send's.
fn recorded(
    key: SendKey,
    earlier: SendRecord,
    operation: &str,
    to: &str,
) -> crate::Result<Receipt> {
    if earlier.operation != operation || earlier.to_wxid != to {
        return Err(BotError::SendMismatch {
            key,
            recorded_operation: earlier.operation,
            recorded_to_wxid: earlier.to_wxid,
            operation: operation.to_owned(),
            to_wxid: to.to_owned(),
        }
        .into());
    }
    let (operation, to_wxid) = (operation.to_owned(), to.to_owned());
    match earlier.outcome {
        Some(SendOutcome::Sent(data)) => Ok(Receipt::from_data(to, earlier.text, data)),
        Some(SendOutcome::Failed(error)) => Err(BotError::FailedEarlier {
            operation,
            to_wxid,
            error,
        }
        .into()),
        None => Err(BotError::OutcomeUnknown {
            operation,
            to_wxid,
            key,
        }
        .into()),
    }
}
