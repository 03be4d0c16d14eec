//! The GeWe call behind each kind of send, one small function each, so that the bot's sends
//! change in one place when the calls do.

use crate::{Device, Id};
use serde::Serialize;
use serde_json::Value;

/// One send the bot makes, with what it needs; the device is added by the caller.
#[derive(Clone, Debug)]
pub(crate) enum Call {
    /// `/message/postText`; `ats` is GeWe's comma-separated wxids.
    Text {
        to: String,
        content: String,
        ats: Option<String>,
    },
    /// `/message/postImage`.
    Image { to: String, url: String },
    /// `/message/postFile`.
    File {
        to: String,
        url: String,
        name: String,
    },
    /// `/message/postAppMsg`: any `<appmsg>`, a quote among them.
    AppMsg { to: String, appmsg: String },
    /// `/message/revokeMsg`.
    Revoke {
        to: String,
        msg_id: Id,
        new_msg_id: Id,
        create_time: i64,
    },
}

impl Call {
    /// The operation's path, for records and errors.
    pub(crate) fn operation(&self) -> &'static str {
        match self {
            Call::Text { .. } => "/message/postText",
            Call::Image { .. } => "/message/postImage",
            Call::File { .. } => "/message/postFile",
            Call::AppMsg { .. } => "/message/postAppMsg",
            Call::Revoke { .. } => "/message/revokeMsg",
        }
    }

    /// The chat it goes to.
    pub(crate) fn to(&self) -> &str {
        match self {
            Call::Text { to, .. }
            | Call::Image { to, .. }
            | Call::File { to, .. }
            | Call::AppMsg { to, .. }
            | Call::Revoke { to, .. } => to,
        }
    }

    /// The text a text send carries, as the chat shows it.
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Call::Text { content, .. } => Some(content),
            _ => None,
        }
    }

    /// Makes the call from `device`, with its generated short call; GeWe's `data` as JSON.
    pub(crate) async fn run(self, device: &Device) -> crate::Result<Value> {
        let message = device.message();
        match self {
            Call::Text { to, content, ats } => {
                let call = message.post_text(to, content);
                data(match ats {
                    Some(ats) => call.ats(ats).await?,
                    None => call.await?,
                })
            }
            Call::Image { to, url } => data(message.post_image(to, url).await?),
            Call::File { to, url, name } => data(message.post_file(to, url, name).await?),
            Call::AppMsg { to, appmsg } => data(message.post_app_msg(to, appmsg).await?),
            Call::Revoke {
                to,
                msg_id,
                new_msg_id,
                create_time,
            } => data(
                message
                    .revoke_msg(
                        to,
                        msg_id.to_string(),
                        new_msg_id.to_string(),
                        create_time.to_string(),
                    )
                    .await?,
            ),
        }
    }
}

/// GeWe's typed `data` as JSON, as the store keeps it.
fn data<T: Serialize>(data: T) -> crate::Result<Value> {
    // Serializing a generated response type cannot fail: its maps have string keys.
    Ok(serde_json::to_value(data).unwrap_or(Value::Null))
}
