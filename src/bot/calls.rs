//! The GeWe call behind each kind of send, one small function each, so that the bot's sends
//! change in one place when the calls do.

use crate::types::{
    MessagePostAppMsgRequest, MessagePostFileRequest, MessagePostImageRequest,
    MessagePostTextRequest, MessageRevokeMsgRequest,
};
use crate::{Client, Id};
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

    /// Makes the call for device `app_id`; GeWe's `data` as JSON.
    pub(crate) async fn run(self, client: &Client, app_id: &str) -> crate::Result<Value> {
        let app_id = app_id.to_owned();
        match self {
            Call::Text { to, content, ats } => data(
                client
                    .message_post_text(&MessagePostTextRequest {
                        app_id,
                        to_wxid: to,
                        content,
                        ats,
                    })
                    .await?,
            ),
            Call::Image { to, url } => data(
                client
                    .message_post_image(&MessagePostImageRequest {
                        app_id,
                        to_wxid: to,
                        img_url: url,
                    })
                    .await?,
            ),
            Call::File { to, url, name } => data(
                client
                    .message_post_file(&MessagePostFileRequest {
                        app_id,
                        to_wxid: to,
                        file_url: url,
                        file_name: name,
                    })
                    .await?,
            ),
            Call::AppMsg { to, appmsg } => data(
                client
                    .message_post_app_msg(&MessagePostAppMsgRequest {
                        app_id,
                        to_wxid: to,
                        appmsg,
                    })
                    .await?,
            ),
            Call::Revoke {
                to,
                msg_id,
                new_msg_id,
                create_time,
            } => data(
                client
                    .message_revoke_msg(&MessageRevokeMsgRequest {
                        app_id,
                        to_wxid: to,
                        msg_id: msg_id.to_string(),
                        new_msg_id: new_msg_id.to_string(),
                        create_time: create_time.to_string(),
                    })
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
