//! What a send answers, and revoking the message it sent.
//!
//! GeWe sends no callback for a message sent through the API: the send's answer is the only
//! place its ids appear. Every send's `data` that carries them (`postText`, `postImage`,
//! `forwardFile`, …; `build.rs` finds them by their fields) implements [`Sent`].

use crate::calls::Call;
use crate::types::MessageRevokeMsgRequest;
use crate::{Device, Id};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The ids of a message the bot sent: what revoking or quoting it takes. Small enough to store
/// until the message is revoked.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentMessage {
    /// The chat it went to (`toWxid`).
    pub to_wxid: String,
    /// `msgId`.
    pub msg_id: Id,
    /// `newMsgId`.
    pub new_msg_id: Id,
    /// `createTime`, seconds since the Unix epoch.
    pub create_time: i64,
}

/// The answer to a send.
///
/// ```no_run
/// use gewe::prelude::*;
///
/// # async fn run(device: Device) -> gewe::Result<()> {
/// let sent = device.message().post_text("wxid_friend", "oops").await?;
/// sent.revoke(&device).await?;
/// # Ok(()) }
/// ```
pub trait Sent: sealed::Sealed {
    /// The fields as the answer has them.
    #[doc(hidden)]
    fn parts(&self) -> Parts<'_>;

    /// The sent message's ids; `None` when GeWe's answer left one out.
    fn sent_message(&self) -> Option<SentMessage> {
        self.parts().message().ok()
    }

    /// Revokes the message (`/message/revokeMsg`) from `device`, which must be the device that
    /// sent it. When GeWe's answer left out one of the ids, `.await` refuses with
    /// [`Error::InvalidRequest`](crate::Error::InvalidRequest) naming it, and sends nothing.
    fn revoke(&self, device: &Device) -> Call<MessageRevokeMsgRequest> {
        let (message, missing) = match self.parts().message() {
            Ok(m) => (m, None),
            Err(field) => (
                SentMessage {
                    to_wxid: String::new(),
                    msg_id: Id::from(0u64),
                    new_msg_id: Id::from(0u64),
                    create_time: 0,
                },
                Some(field),
            ),
        };
        let call = device.message().revoke_msg(
            message.to_wxid,
            message.msg_id.to_string(),
            message.new_msg_id.to_string(),
            message.create_time.to_string(),
        );
        match missing {
            None => call,
            Some(field) => Call::refused(
                device.client().clone(),
                call.request,
                format!("the send's answer has no `{field}`, which revoking the message takes"),
            ),
        }
    }
}

impl Sent for SentMessage {
    fn parts(&self) -> Parts<'_> {
        Parts {
            to_wxid: Some(&self.to_wxid),
            msg_id: Some(self.msg_id),
            new_msg_id: Some(self.new_msg_id),
            create_time: Some(self.create_time),
        }
    }
}

impl sealed::Sealed for SentMessage {}

/// A send's answer, as [`Sent`] reads it.
#[doc(hidden)]
#[derive(Debug)]
pub struct Parts<'a> {
    to_wxid: Option<&'a str>,
    msg_id: Option<Id>,
    new_msg_id: Option<Id>,
    create_time: Option<i64>,
}

impl<'a> Parts<'a> {
    pub(crate) fn new(
        to_wxid: &'a Option<String>,
        msg_id: &Option<Id>,
        new_msg_id: &Option<Id>,
        create_time: &impl Seconds,
    ) -> Self {
        Parts {
            to_wxid: to_wxid.as_deref().filter(|t| !t.is_empty()),
            msg_id: *msg_id,
            new_msg_id: *new_msg_id,
            create_time: create_time.seconds(),
        }
    }

    /// The message, or the wire name of the first field missing.
    fn message(&self) -> Result<SentMessage, &'static str> {
        Ok(SentMessage {
            to_wxid: self.to_wxid.ok_or("toWxid")?.to_owned(),
            msg_id: self.msg_id.ok_or("msgId")?,
            new_msg_id: self.new_msg_id.ok_or("newMsgId")?,
            create_time: self.create_time.ok_or("createTime")?,
        })
    }
}

/// A `createTime` as a send's answer types it: an integer, or any JSON where GeWe's page gives
/// no type (a number or a digit string).
pub(crate) trait Seconds {
    fn seconds(&self) -> Option<i64>;
}

impl Seconds for Option<i64> {
    fn seconds(&self) -> Option<i64> {
        *self
    }
}

impl Seconds for Option<Value> {
    fn seconds(&self) -> Option<i64> {
        match self.as_ref()? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

pub(crate) mod sealed {
    /// Keeps [`Sent`](super::Sent) implemented only by the answers `build.rs` finds.
    pub trait Sealed {}
}
